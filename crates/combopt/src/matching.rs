//! Online bipartite matching with stochastic rewards (Mehta & Panigrahi
//! 2012, "Online matching with stochastic rewards"; Goyal & Udwani 2020,
//! "Online matching with stochastic rewards: optimal competitive ratio via
//! path-based formulation"; Huang & Zhang 2020, STOC).
//!
//! Offline vertices `u` are known; online vertices `v` arrive one at a time
//! and must be irrevocably assigned to an available neighbour (or dropped).
//! Assigning `v` to `u` succeeds with probability `p_uv`; on success `u` is
//! consumed, on failure `u` stays available (and `v` is gone).
//!
//! Algorithms: Greedy (largest `p_uv`), Ranking (`p_uv (1 - e^{y_u - 1})`
//! with `y_u ~ U[0,1]` drawn once, the generalisation of Karp-Vazirani-
//! Vazirani Ranking studied by Goyal & Udwani), Balance (fewest failed
//! attempts), Stochastic Balance (`p_uv (1 - e^{b_u - 1})` where `b_u` is the
//! total probability already spent on `u`, Mehta & Panigrahi). The offline
//! benchmark is the budget LP `max sum p_uv x_uv` with `sum_u x_uv <= 1` per
//! online vertex and `sum_v p_uv x_uv <= 1` per offline vertex, an upper
//! bound on any offline algorithm's expected reward.
//!
//! Proven guarantees, each against its own benchmark (the empirical ratios
//! here all divide by the budget LP, the largest of them, so they are lower
//! bounds on the ratio against any of the others):
//! - Greedy: 1/2 against the budget LP.
//! - Balance / Stochastic Balance: about 0.567 for equal vanishing
//!   probabilities against the budget LP (Mehta & Panigrahi 2012, who also
//!   show that no online algorithm exceeds 0.621 < 1 - 1/e against it).
//! - Stochastic Balance: 0.576 for equal and 0.572 for unequal vanishing
//!   probabilities against the *configuration LP* (Huang & Zhang 2020,
//!   "Online primal dual meets online matching with stochastic rewards:
//!   configuration LP to the rescue", STOC 2020), whose optimum is at most
//!   the budget LP's.
//! - Ranking-type (perturbed greedy): 1 - 1/e when `p_uv = p_u p_v`
//!   factorises, and a deterministic 0.596 for heterogeneous vanishing
//!   probabilities, both against Goyal & Udwani's path-based LP (the
//!   clairvoyant offline benchmark).
//!
//! [`lp_upper_bound`] computes the budget LP and [`configuration_lp_bound`]
//! Huang & Zhang's configuration LP (by column generation with exact
//! pricing, certified by a feasible dual solution);
//! [`OnlineAlgorithm::benchmark`] names the one each guarantee refers to.
//! Goyal & Udwani's path-based LP is not computed: Ranking is compared with
//! the configuration LP, which the 2023 follow-up (Huang, Jiang, Shu, Zhang,
//! "Online matching with stochastic rewards: advanced analyses using
//! configuration linear programs") uses for both Ranking and Stochastic
//! Balance.

use duality_core::seed::Seeder;
use duality_core::{Error, Result};
use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::assignment::{linear_sum_assignment, CostMatrix};
use crate::simplex::maximize_packing;

/// A bipartite instance with success probabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchingInstance {
    /// Number of offline vertices.
    pub offline: usize,
    /// Edges of each online vertex: `(offline vertex, probability)`.
    pub online: Vec<Vec<(usize, f64)>>,
}

impl MatchingInstance {
    /// Validates vertex ids and probabilities (naming the bad edge).
    pub fn new(offline: usize, online: Vec<Vec<(usize, f64)>>) -> Result<Self> {
        duality_core::check::at_least("offline vertices", offline, 1)?;
        duality_core::check::non_empty("online vertices", &online)?;
        for (v, edges) in online.iter().enumerate() {
            for &(u, p) in edges {
                if u >= offline {
                    return Err(Error::invalid(
                        format!("online[{v}] neighbour"),
                        u,
                        format!("an offline id in 0..{offline}"),
                    ));
                }
                duality_core::check::probability(&format!("p[{u}][{v}]"), p)?;
            }
        }
        Ok(MatchingInstance { offline, online })
    }

    /// Random bipartite graph: each edge present with probability `density`
    /// and success probability `p`.
    pub fn random<R: Rng + ?Sized>(
        offline: usize,
        online: usize,
        density: f64,
        p: f64,
        rng: &mut R,
    ) -> Result<Self> {
        duality_core::check::probability("density", density)?;
        duality_core::check::probability("p", p)?;
        let edges = (0..online)
            .map(|_| {
                (0..offline)
                    .filter(|_| rng.random_bool(density))
                    .map(|u| (u, p))
                    .collect()
            })
            .collect();
        Self::new(offline, edges)
    }

    /// The upper-triangular hard instance (Karp, Vazirani & Vazirani 1990)
    /// with `k = round(1/p)` online copies per level: online vertices of
    /// level `l` are adjacent to offline vertices `0 ..= n - 1 - l`. Arrivals
    /// in the given order make the algorithms' lowest-id tie-breaking
    /// adversarial (vertex 0 is needed by every later level).
    pub fn upper_triangular(n: usize, p: f64) -> Result<Self> {
        duality_core::check::open_unit("p", p)?;
        duality_core::check::at_least("n", n, 1)?;
        let k = (1.0 / p).round().max(1.0) as usize;
        let edges = (0..n * k)
            .map(|v| (0..n - v / k).map(|u| (u, p)).collect())
            .collect();
        Self::new(n, edges)
    }
}

/// An online algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum OnlineAlgorithm {
    /// Largest success probability.
    Greedy,
    /// Perturbed greedy with one random rank per offline vertex.
    Ranking,
    /// Fewest attempts so far (ties: larger probability).
    Balance,
    /// Stochastic Balance: largest `p (1 - e^{b - 1})`, `b` = spent budget.
    StochasticBalance,
}

/// Every algorithm in its canonical order (the experiments derive each
/// algorithm's random stream from its position here, so the order is fixed).
const ALGORITHMS: [OnlineAlgorithm; 4] = [
    OnlineAlgorithm::Greedy,
    OnlineAlgorithm::Ranking,
    OnlineAlgorithm::Balance,
    OnlineAlgorithm::StochasticBalance,
];

impl OnlineAlgorithm {
    /// Position in the canonical order `greedy, ranking, balance,
    /// stochastic-balance` (a stable per-algorithm stream index).
    pub fn index(self) -> usize {
        ALGORITHMS.iter().position(|a| *a == self).unwrap_or(0)
    }

    /// The offline benchmark the algorithm's proven guarantee refers to
    /// (module docs): the budget LP for Greedy (1/2) and Balance (0.567,
    /// Mehta & Panigrahi 2012); the configuration LP for Stochastic Balance
    /// (0.576 equal / 0.572 unequal vanishing probabilities, Huang & Zhang
    /// 2020) and for Ranking (its own benchmark, Goyal & Udwani's path-based
    /// LP, is not computed; the configuration LP is the one the 2023
    /// configuration-LP analyses use).
    pub fn benchmark(self) -> Benchmark {
        match self {
            OnlineAlgorithm::Greedy | OnlineAlgorithm::Balance => Benchmark::BudgetLp,
            OnlineAlgorithm::Ranking | OnlineAlgorithm::StochasticBalance => {
                Benchmark::ConfigurationLp
            }
        }
    }

    /// The proven worst-case competitive ratio for equal vanishing success
    /// probabilities against [`OnlineAlgorithm::benchmark`] (Greedy 1/2,
    /// Balance 0.567, Stochastic Balance 0.576; Ranking: `1 - 1/e` is
    /// Goyal & Udwani's ratio for factorised probabilities against the
    /// path-based LP, reported for orientation only).
    pub fn proven_ratio(self) -> f64 {
        match self {
            OnlineAlgorithm::Greedy => 0.5,
            OnlineAlgorithm::Balance => 0.567,
            OnlineAlgorithm::StochasticBalance => 0.576,
            OnlineAlgorithm::Ranking => 1.0 - (-1.0f64).exp(),
        }
    }
}

/// An offline benchmark (an LP upper bound on the expected reward of any
/// offline algorithm that must commit to its assignment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Benchmark {
    /// `max sum p_uv x_uv`, `sum_u x_uv <= 1`, `sum_v p_uv x_uv <= 1`
    /// ([`lp_upper_bound`]).
    BudgetLp,
    /// Huang & Zhang's configuration LP ([`configuration_lp_bound`]); never
    /// above the budget LP.
    ConfigurationLp,
}

impl std::fmt::Display for Benchmark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Benchmark::BudgetLp => "budget-lp",
            Benchmark::ConfigurationLp => "configuration-lp",
        })
    }
}

impl std::fmt::Display for OnlineAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OnlineAlgorithm::Greedy => "greedy",
            OnlineAlgorithm::Ranking => "ranking",
            OnlineAlgorithm::Balance => "balance",
            OnlineAlgorithm::StochasticBalance => "stochastic-balance",
        })
    }
}

impl std::str::FromStr for OnlineAlgorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        ALGORITHMS
            .into_iter()
            .find(|a| a.to_string() == s)
            .ok_or_else(|| {
                let names: Vec<String> = ALGORITHMS.iter().map(|a| a.to_string()).collect();
                Error::invalid(
                    "online algorithm",
                    s,
                    format!("one of {}", names.join(", ")),
                )
            })
    }
}

/// Arrival order of the online vertices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Arrival {
    /// The instance's order (adversarial for the hard instances).
    Given,
    /// A uniformly random order.
    RandomOrder,
}

/// Runs one algorithm once; returns the number of successful matches.
pub fn run_online<R: Rng + ?Sized>(
    instance: &MatchingInstance,
    algorithm: OnlineAlgorithm,
    arrival: Arrival,
    rng: &mut R,
) -> usize {
    let n = instance.offline;
    let mut order: Vec<usize> = (0..instance.online.len()).collect();
    if arrival == Arrival::RandomOrder {
        order.shuffle(rng);
    }
    let ranks: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
    let mut available = vec![true; n];
    let mut attempts = vec![0usize; n];
    let mut budget = vec![0.0f64; n];
    let mut matched = 0;
    for v in order {
        let score = |u: usize, p: f64| -> f64 {
            match algorithm {
                OnlineAlgorithm::Greedy => p,
                OnlineAlgorithm::Ranking => p * (1.0 - (ranks[u] - 1.0).exp()),
                OnlineAlgorithm::Balance => -(attempts[u] as f64) + 1e-9 * p,
                OnlineAlgorithm::StochasticBalance => p * (1.0 - (budget[u].min(1.0) - 1.0).exp()),
            }
        };
        let choice = instance.online[v]
            .iter()
            .filter(|&&(u, p)| available[u] && p > 0.0)
            .max_by(|a, b| {
                score(a.0, a.1)
                    .total_cmp(&score(b.0, b.1))
                    .then(b.0.cmp(&a.0))
            });
        if let Some(&(u, p)) = choice {
            attempts[u] += 1;
            budget[u] += p;
            if rng.random_bool(p) {
                available[u] = false;
                matched += 1;
            }
        }
    }
    matched
}

/// The budget LP upper bound on the expected number of successes.
pub fn lp_upper_bound(instance: &MatchingInstance) -> Result<f64> {
    let edges: Vec<(usize, usize, f64)> = instance
        .online
        .iter()
        .enumerate()
        .flat_map(|(v, es)| es.iter().map(move |&(u, p)| (u, v, p)))
        .collect();
    let c: Vec<f64> = edges.iter().map(|e| e.2).collect();
    let mut a = Vec::new();
    let mut b = Vec::new();
    for v in 0..instance.online.len() {
        a.push(
            edges
                .iter()
                .map(|e| if e.1 == v { 1.0 } else { 0.0 })
                .collect(),
        );
        b.push(1.0);
    }
    for u in 0..instance.offline {
        a.push(
            edges
                .iter()
                .map(|e| if e.0 == u { e.2 } else { 0.0 })
                .collect(),
        );
        b.push(1.0);
    }
    Ok(maximize_packing(&c, &a, &b)?.objective)
}

/// The configuration LP bound of an instance, with how it was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigurationBound {
    /// The certified upper bound: the objective of a feasible solution of
    /// the configuration LP's dual (so valid whatever the LP tolerances).
    pub value: f64,
    /// The restricted master LP's optimum (a lower bound on the LP's
    /// optimum; equals `value` up to tolerance when column generation
    /// converged).
    pub primal: f64,
    /// Columns (offline vertex, set of online vertices) generated.
    pub columns: usize,
    /// Column-generation rounds.
    pub rounds: usize,
}

/// Largest degree of an offline vertex with unequal probabilities that the
/// exact pricing enumerates (`2^16` subsets).
const MAX_ENUMERATED_DEGREE: usize = 16;

/// Most column-generation rounds.
const MAX_ROUNDS: usize = 500;

/// Reward of offline vertex `u` when the online vertices of `set` (with
/// their success probabilities) are all assigned to it: `1 - prod (1 - p)`.
fn set_reward(ps: impl Iterator<Item = f64>) -> f64 {
    1.0 - ps.map(|p| 1.0 - p).product::<f64>()
}

/// Exact pricing for one offline vertex: `max_S 1 - prod_{v in S}(1 - p_v)
/// - sum_{v in S} beta_v` over subsets of its neighbours `(v, p_v)`.
/// Neighbours with `p_v <= beta_v` never help (a neighbour's marginal
/// reward is at most `p_v`) and are dropped; with equal probabilities the
/// value depends on `|S|` only, so the cheapest `k` for the best `k` is
/// optimal; otherwise the remaining neighbours are enumerated (at most
/// [`MAX_ENUMERATED_DEGREE`]).
fn price(neighbours: &[(usize, f64)], beta: &[f64]) -> Result<(f64, Vec<usize>)> {
    let mut useful: Vec<(usize, f64, f64)> = neighbours
        .iter()
        .filter(|&&(v, p)| p > beta[v])
        .map(|&(v, p)| (v, p, beta[v]))
        .collect();
    if useful.is_empty() {
        return Ok((0.0, Vec::new()));
    }
    let equal = useful.iter().all(|e| e.1 == useful[0].1);
    if equal {
        let p = useful[0].1;
        useful.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0)));
        let (mut best, mut best_k, mut cost) = (0.0, 0, 0.0);
        for (k, e) in useful.iter().enumerate() {
            cost += e.2;
            let f = 1.0 - (1.0 - p).powi(k as i32 + 1) - cost;
            if f > best {
                best = f;
                best_k = k + 1;
            }
        }
        return Ok((best, useful[..best_k].iter().map(|e| e.0).collect()));
    }
    if useful.len() > MAX_ENUMERATED_DEGREE {
        return Err(Error::invalid(
            "offline vertex degree (unequal probabilities)",
            useful.len(),
            format!(
                "at most {MAX_ENUMERATED_DEGREE} useful neighbours: the exact configuration-LP pricing enumerates subsets unless all probabilities are equal"
            ),
        ));
    }
    let (mut best, mut best_mask) = (0.0, 0usize);
    for mask in 1usize..(1 << useful.len()) {
        let (mut keep, mut cost) = (1.0, 0.0);
        for (i, e) in useful.iter().enumerate() {
            if mask >> i & 1 == 1 {
                keep *= 1.0 - e.1;
                cost += e.2;
            }
        }
        let f = 1.0 - keep - cost;
        if f > best {
            best = f;
            best_mask = mask;
        }
    }
    Ok((
        best,
        (0..useful.len())
            .filter(|i| best_mask >> i & 1 == 1)
            .map(|i| useful[i].0)
            .collect(),
    ))
}

/// The configuration LP of Huang & Zhang (2020, section 2): a variable
/// `x_{u,S}` for every offline vertex `u` and set `S` of its online
/// neighbours, `max sum x_{u,S} (1 - prod_{v in S} (1 - p_uv))` subject to
/// `sum_S x_{u,S} <= 1` per offline and `sum_{u, S contains v} x_{u,S} <= 1`
/// per online vertex. It is never above the budget LP ([`lp_upper_bound`]).
///
/// With equal probabilities on all edges (the bench's instances) the LP
/// has an integral optimum and is solved as one assignment problem (see
/// `configuration_lp_equal`). Otherwise it is solved by column generation
/// (meant for small instances): the restricted master LP (the crate's
/// bounded dual simplex, [`crate::milp::DualSimplex`]) starts from each
/// offline vertex's full neighbourhood; its online-row duals `beta` price
/// new columns exactly (`max_S p_u(S) - beta(S)`, see `price`) until none
/// has positive reduced cost. The returned `value` is the objective of the
/// dual solution `(alpha, beta)` with `alpha_u = max(0, max_S p_u(S) -
/// beta(S))` — feasible for the full dual, hence a valid upper bound by
/// weak duality even if the master LP is solved inexactly.
///
/// # Errors
/// An offline vertex with more than 16 useful neighbours of unequal
/// probabilities (the pricing would enumerate too many subsets), or an LP
/// failure.
pub fn configuration_lp_bound(instance: &MatchingInstance) -> Result<ConfigurationBound> {
    let (n_off, n_on) = (instance.offline, instance.online.len());
    let mut nbrs: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n_off];
    for (v, edges) in instance.online.iter().enumerate() {
        for &(u, p) in edges {
            if p > 0.0 {
                nbrs[u].push((v, p));
            }
        }
    }
    let first = nbrs.iter().flatten().map(|e| e.1).next();
    match first {
        None => Ok(ConfigurationBound {
            value: 0.0,
            primal: 0.0,
            columns: 0,
            rounds: 0,
        }),
        Some(p) if nbrs.iter().flatten().all(|e| e.1 == p) => {
            configuration_lp_equal(n_on, &nbrs, p)
        }
        Some(_) => configuration_lp_column_generation(n_on, &nbrs),
    }
}

/// The configuration LP when every edge has the same probability `p`: then
/// `p_u(S) = f(|S|)` with `f(k) = 1 - (1 - p)^k` concave, and the LP equals
/// the best *integral* assignment of online vertices to offline ones,
/// `max sum_u f(|S_u|)`. (Any configuration solution is bounded by the
/// concave program `max sum_u fhat(t_u)`, `t_u = sum_v x_uv`, with `fhat`
/// the piecewise-linear interpolation of `f` (Jensen, `fhat(0) = 0`,
/// `sum_S x_{u,S} <= 1`); that program is a maximum-gain flow with unit
/// arcs of decreasing gains `p (1 - p)^{k-1}` into each offline vertex, so
/// it has an integral optimum, which is itself a configuration solution.)
/// Solved exactly as one rectangular assignment: online vertices against
/// the slots `(u, k)`, `k = 1..deg(u)`, weight `p (1 - p)^{k-1}` if `v` is
/// a neighbour of `u` (0 otherwise: a slot taken by a non-neighbour only
/// lowers the computed value, so the maximum is unchanged).
fn configuration_lp_equal(
    n_on: usize,
    nbrs: &[Vec<(usize, f64)>],
    p: f64,
) -> Result<ConfigurationBound> {
    let slots: Vec<(usize, usize)> = nbrs
        .iter()
        .enumerate()
        .flat_map(|(u, nb)| (0..nb.len().min(n_on)).map(move |k| (u, k)))
        .collect();
    let cells =
        duality_core::limits::product(&[("online vertices", n_on), ("slots", slots.len())])?;
    duality_core::limits::check_memory(
        &format!(
            "the configuration-LP assignment of {n_on} online vertices x {} slots",
            slots.len()
        ),
        (cells as u128) * 8 * 2,
    )?;
    let mut adjacent = vec![false; nbrs.len() * n_on];
    for (u, nb) in nbrs.iter().enumerate() {
        for &(v, _) in nb {
            adjacent[u * n_on + v] = true;
        }
    }
    let gain: Vec<f64> = slots
        .iter()
        .map(|&(_, k)| p * (1.0 - p).powi(k as i32))
        .collect();
    let mut data = Vec::with_capacity(cells);
    for v in 0..n_on {
        for (s, &(u, _)) in slots.iter().enumerate() {
            data.push(if adjacent[u * n_on + v] { gain[s] } else { 0.0 });
        }
    }
    let a = linear_sum_assignment(&CostMatrix::new(n_on, slots.len(), data)?, true)?;
    Ok(ConfigurationBound {
        value: a.cost,
        primal: a.cost,
        columns: slots.len(),
        rounds: 0,
    })
}

/// Column generation for unequal probabilities (see
/// [`configuration_lp_bound`]).
fn configuration_lp_column_generation(
    n_on: usize,
    nbrs: &[Vec<(usize, f64)>],
) -> Result<ConfigurationBound> {
    use crate::milp::{DualSimplex, LpStatus, Milp};
    let n_off = nbrs.len();
    let prob = |u: usize, v: usize| -> f64 {
        nbrs[u]
            .iter()
            .find(|e| e.0 == v)
            .map(|e| e.1)
            .unwrap_or(0.0)
    };
    let mut columns: Vec<(usize, Vec<usize>)> = (0..n_off)
        .filter(|&u| !nbrs[u].is_empty())
        .map(|u| (u, nbrs[u].iter().map(|e| e.0).collect()))
        .collect();
    let mut seen: std::collections::HashSet<(usize, Vec<usize>)> =
        columns.iter().cloned().collect();
    let mut beta = vec![0.0; n_on];
    let mut primal = 0.0;
    let mut rounds = 0;
    while rounds < MAX_ROUNDS {
        rounds += 1;
        let mut lp = Milp::new("configuration-lp", true);
        let mut off_rows: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n_off];
        let mut on_rows: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n_on];
        for (j, (u, set)) in columns.iter().enumerate() {
            let reward = set_reward(set.iter().map(|&v| prob(*u, v)));
            lp.add_var(format!("x{j}"), reward, 0.0, 1.0, false)?;
            off_rows[*u].push((j, 1.0));
            for &v in set {
                on_rows[v].push((j, 1.0));
            }
        }
        for (u, coefs) in off_rows.into_iter().enumerate() {
            lp.add_row(format!("u{u}"), coefs, f64::NEG_INFINITY, 1.0)?;
        }
        for (v, coefs) in on_rows.into_iter().enumerate() {
            lp.add_row(format!("v{v}"), coefs, f64::NEG_INFINITY, 1.0)?;
        }
        let mut simplex = DualSimplex::new(&lp)?;
        let status = simplex.solve(u64::MAX, f64::INFINITY, None);
        if status != LpStatus::Optimal {
            return Err(Error::invalid(
                "configuration LP master",
                format!("{status:?}"),
                "an optimal LP solve",
            ));
        }
        primal = lp.objective(simplex.x());
        let duals = simplex.row_reduced_costs();
        for (v, b) in beta.iter_mut().enumerate() {
            *b = duals[n_off + v].max(0.0);
        }
        let alpha: Vec<f64> = (0..n_off).map(|u| duals[u].max(0.0)).collect();
        let mut added = false;
        for u in 0..n_off {
            let (value, mut set) = price(&nbrs[u], &beta)?;
            if value - alpha[u] > 1e-9 {
                set.sort_unstable();
                if seen.insert((u, set.clone())) {
                    columns.push((u, set));
                    added = true;
                }
            }
        }
        if !added {
            break;
        }
    }
    let mut value: f64 = beta.iter().sum();
    for nb in nbrs {
        value += price(nb, &beta)?.0.max(0.0);
    }
    Ok(ConfigurationBound {
        value,
        primal,
        columns: columns.len(),
        rounds,
    })
}

/// Mean number of successful matches over `runs` seeded runs (run `i` uses
/// `seeder.rng(i)`, in parallel; thread-count independent).
pub fn mean_matches(
    instance: &MatchingInstance,
    algorithm: OnlineAlgorithm,
    arrival: Arrival,
    runs: usize,
    seeder: &Seeder,
) -> Result<f64> {
    duality_core::check::at_least("runs", runs, 1)?;
    let results = seeder.par_map(runs, |_, rng| run_online(instance, algorithm, arrival, rng));
    Ok(results.iter().sum::<usize>() as f64 / runs as f64)
}

/// Empirical competitive ratio: mean matches over `runs` seeded runs
/// (run `i` uses `seeder.rng(i)`, in parallel) divided by the LP bound.
pub fn competitive_ratio(
    instance: &MatchingInstance,
    algorithm: OnlineAlgorithm,
    arrival: Arrival,
    runs: usize,
    seeder: &Seeder,
) -> Result<f64> {
    duality_core::check::at_least("runs", runs, 1)?;
    let lp = lp_upper_bound(instance)?;
    if lp <= 0.0 {
        return Err(Error::invalid(
            "LP bound",
            lp,
            "a positive value (the graph has no usable edges)",
        ));
    }
    let results = seeder.par_map(runs, |_, rng| run_online(instance, algorithm, arrival, rng));
    let mean = results.iter().sum::<usize>() as f64 / runs as f64;
    Ok(mean / lp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lp_bound_and_ratios_are_sane() {
        let inst = MatchingInstance::upper_triangular(10, 0.1).unwrap();
        let lp = lp_upper_bound(&inst).unwrap();
        assert!((lp - 10.0).abs() < 1e-6, "lp {lp}");
        let seeder = Seeder::new(1);
        for (i, alg) in ALGORITHMS.into_iter().enumerate() {
            assert_eq!(alg.to_string().parse::<OnlineAlgorithm>().unwrap(), alg);
            assert_eq!(alg.index(), i);
            let r = competitive_ratio(&inst, alg, Arrival::Given, 200, &seeder).unwrap();
            assert!(r > 0.3 && r <= 1.0, "{alg:?} {r}");
        }
        let e = "bogus".parse::<OnlineAlgorithm>().unwrap_err().to_string();
        assert!(
            e.contains("bogus") && e.contains("stochastic-balance"),
            "{e}"
        );
        // Same seed, same answer whatever the thread count.
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let a = one.install(|| {
            competitive_ratio(
                &inst,
                OnlineAlgorithm::Ranking,
                Arrival::RandomOrder,
                64,
                &seeder,
            )
            .unwrap()
        });
        let b = competitive_ratio(
            &inst,
            OnlineAlgorithm::Ranking,
            Arrival::RandomOrder,
            64,
            &seeder,
        )
        .unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn deterministic_rewards_greedy_is_at_least_half() {
        // p = 1: classic online bipartite matching; greedy is maximal, so >= 1/2.
        let mut rng = Seeder::new(3).rng(0);
        for _ in 0..10 {
            let inst = MatchingInstance::random(8, 8, 0.3, 1.0, &mut rng).unwrap();
            let lp = lp_upper_bound(&inst).unwrap();
            let m = run_online(&inst, OnlineAlgorithm::Greedy, Arrival::Given, &mut rng) as f64;
            assert!(m >= 0.5 * lp - 1e-9, "{m} vs {lp}");
        }
    }

    /// Brute force of the configuration LP on a tiny instance: every
    /// (offline vertex, subset) column, solved by the dense simplex.
    fn brute_configuration_lp(inst: &MatchingInstance) -> f64 {
        let mut cols: Vec<(usize, Vec<usize>, f64)> = Vec::new();
        for u in 0..inst.offline {
            let nb: Vec<(usize, f64)> = inst
                .online
                .iter()
                .enumerate()
                .filter_map(|(v, es)| es.iter().find(|e| e.0 == u).map(|e| (v, e.1)))
                .collect();
            for mask in 1usize..(1 << nb.len()) {
                let set: Vec<usize> = (0..nb.len()).filter(|i| mask >> i & 1 == 1).collect();
                let r = set_reward(set.iter().map(|&i| nb[i].1));
                cols.push((u, set.iter().map(|&i| nb[i].0).collect(), r));
            }
        }
        let c: Vec<f64> = cols.iter().map(|c| c.2).collect();
        let mut a = Vec::new();
        for u in 0..inst.offline {
            a.push(cols.iter().map(|c| f64::from(c.0 == u)).collect());
        }
        for v in 0..inst.online.len() {
            a.push(cols.iter().map(|c| f64::from(c.1.contains(&v))).collect());
        }
        let b = vec![1.0; a.len()];
        maximize_packing(&c, &a, &b).unwrap().objective
    }

    #[test]
    fn configuration_lp_matches_brute_force_and_is_below_the_budget_lp() {
        let mut rng = Seeder::new(11).rng(0);
        for trial in 0..12 {
            // Equal probabilities (sorted pricing) and unequal (enumeration).
            let inst = if trial % 2 == 0 {
                MatchingInstance::random(3, 5, 0.6, 0.3 + 0.05 * trial as f64, &mut rng).unwrap()
            } else {
                let edges = (0..5)
                    .map(|_| {
                        let mut es = Vec::new();
                        for u in 0..3 {
                            if rng.random_bool(0.6) {
                                es.push((u, rng.random_range(0.05..1.0)));
                            }
                        }
                        es
                    })
                    .collect();
                MatchingInstance::new(3, edges).unwrap()
            };
            if inst.online.iter().all(|e| e.is_empty()) {
                continue;
            }
            let cg = configuration_lp_bound(&inst).unwrap();
            let brute = brute_configuration_lp(&inst);
            assert!(
                (cg.value - brute).abs() < 1e-7,
                "{trial}: {cg:?} vs {brute}"
            );
            assert!(cg.primal <= cg.value + 1e-9);
            if trial % 2 == 0 {
                // The equal-probability assignment path agrees with column
                // generation.
                let mut nbrs = vec![Vec::new(); inst.offline];
                for (v, es) in inst.online.iter().enumerate() {
                    for &(u, p) in es {
                        nbrs[u].push((v, p));
                    }
                }
                let col = configuration_lp_column_generation(inst.online.len(), &nbrs).unwrap();
                assert!(
                    (col.value - brute).abs() < 1e-7,
                    "{trial}: {col:?} vs {brute}"
                );
            }
            assert!(cg.value <= lp_upper_bound(&inst).unwrap() + 1e-7);
        }
        // The hard instance: the budget LP is n, the configuration LP less
        // (an offline vertex tried by its k = 1/p neighbours succeeds with
        // probability 1 - (1 - p)^k only).
        let tri = MatchingInstance::upper_triangular(6, 0.25).unwrap();
        let cfg = configuration_lp_bound(&tri).unwrap();
        assert!(cfg.value < 6.0 - 0.5 && cfg.value > 6.0 * (1.0 - 0.75f64.powi(4)) - 1e-9);
        // Benchmarks as documented.
        assert_eq!(OnlineAlgorithm::Greedy.benchmark(), Benchmark::BudgetLp);
        assert_eq!(
            OnlineAlgorithm::StochasticBalance.benchmark(),
            Benchmark::ConfigurationLp
        );
    }

    #[test]
    fn bad_probability_is_named() {
        let e = MatchingInstance::new(2, vec![vec![(0, 1.5)]])
            .unwrap_err()
            .to_string();
        assert!(e.contains("p[0][0]") && e.contains("1.5"), "{e}");
        assert!(MatchingInstance::new(2, vec![vec![(5, 0.5)]]).is_err());
    }
}
