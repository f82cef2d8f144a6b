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
//! [`path_lp_bound`] computes Goyal & Udwani's path-based LP for one
//! arrival order (column generation with exact dynamic-programming pricing,
//! certified by a feasible dual solution), Ranking's benchmark. Only the
//! paper's abstracts were reachable (arXiv 1905.12778, Operations Research
//! 71(2), 2023): the LP written in [`path_lp_bound`] is the path-based
//! program as the abstract describes it (a relaxation of adaptive offline
//! algorithms that know the arrival sequence and the probabilities but not
//! the outcomes), reconstructed here and checked by the tests against the
//! clairvoyant adaptive optimum, the configuration and the budget LP.

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
    /// 2020); Goyal & Udwani's path-based LP for Ranking (`1 - 1/e` for
    /// factorised probabilities).
    pub fn benchmark(self) -> Benchmark {
        match self {
            OnlineAlgorithm::Greedy | OnlineAlgorithm::Balance => Benchmark::BudgetLp,
            OnlineAlgorithm::StochasticBalance => Benchmark::ConfigurationLp,
            OnlineAlgorithm::Ranking => Benchmark::PathLp,
        }
    }

    /// The proven worst-case competitive ratio for equal vanishing success
    /// probabilities against [`OnlineAlgorithm::benchmark`] (Greedy 1/2,
    /// Balance 0.567, Stochastic Balance 0.576; Ranking: `1 - 1/e` is
    /// Goyal & Udwani's ratio for factorised probabilities, equal ones
    /// included, against the path-based LP).
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
    /// Goyal & Udwani's path-based LP for the arrival order
    /// ([`path_lp_bound`]); between the configuration and the budget LP.
    PathLp,
}

impl std::fmt::Display for Benchmark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Benchmark::BudgetLp => "budget-lp",
            Benchmark::ConfigurationLp => "configuration-lp",
            Benchmark::PathLp => "path-lp",
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

/// Goyal & Udwani's path-based LP bound of an instance for one arrival
/// order, with how it was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathLpBound {
    /// The certified upper bound: the objective of a feasible solution of
    /// the path-based LP's dual (valid whatever the LP tolerances).
    pub value: f64,
    /// The objective of the primal solution found (the restricted master
    /// LP's optimum, or the compact LP's): a lower bound on the LP's
    /// optimum up to the simplex tolerances; it meets `value` when the
    /// solve converged.
    pub primal: f64,
    /// Columns: (offline vertex, path of online vertices) generated, or
    /// the edge variables when the compact formulation was solved.
    pub columns: usize,
    /// Column-generation rounds (0: the compact formulation, one solve).
    pub rounds: usize,
}

/// Exact pricing of the path-based LP for one offline vertex `u`: its
/// neighbours `(v, p_uv)` in arrival order and the online rows' duals
/// `alpha`. A path `gamma` (neighbours in arrival order) earns
/// `sum_k s_k p_k` (`s_k = prod_{l<k} (1 - p_l)`, the chance that `u` is
/// still unmatched when the `k`-th is tried: the sum is
/// `1 - prod (1 - p)`) and costs `sum_k s_k alpha_k` in the online rows, so
/// its reduced profit `sum_k s_k (p_k - alpha_k)` is linear in the
/// survival: from position `k` with survival `s`, the best rest is
/// `s V_k`, `V_k = max(V_{k+1}, (p_k - alpha_k) + (1 - p_k) V_{k+1})`,
/// `V_m = 0`. Because the rest scales with `s > 0`, whether to take the
/// `k`-th neighbour does not depend on the earlier choices, so one forward
/// pass rebuilds an optimal path. Returns `V_0` (at least 0: the empty
/// path) and a path attaining it as positions in `neighbours` (ties: skip;
/// the path stops after a sure success, `p = 1`, since nothing after it can
/// be tried).
fn price_path(neighbours: &[(usize, f64)], alpha: &[f64]) -> (f64, Vec<usize>) {
    let m = neighbours.len();
    let mut best = vec![0.0; m + 1];
    for k in (0..m).rev() {
        let (v, p) = neighbours[k];
        let take = (p - alpha[v]) + (1.0 - p) * best[k + 1];
        best[k] = take.max(best[k + 1]);
    }
    let mut path = Vec::new();
    for (k, &(v, p)) in neighbours.iter().enumerate() {
        let take = (p - alpha[v]) + (1.0 - p) * best[k + 1];
        if take > best[k + 1] {
            path.push(k);
            if p >= 1.0 {
                break;
            }
        }
    }
    (best[0], path)
}

/// Checks that `order` is a permutation of `0..n_on`, naming the first bad
/// entry.
fn check_order(order: &[usize], n_on: usize) -> Result<()> {
    if order.len() != n_on {
        return Err(Error::invalid(
            "arrival order length",
            order.len(),
            format!("{n_on} (a permutation of the online vertices)"),
        ));
    }
    let mut seen = vec![false; n_on];
    for (i, &v) in order.iter().enumerate() {
        if v >= n_on || std::mem::replace(&mut seen[v], true) {
            return Err(Error::invalid(
                format!("arrival order[{i}]"),
                v,
                format!("an online vertex in 0..{n_on} not already in the order (a permutation)"),
            ));
        }
    }
    Ok(())
}

/// Goyal & Udwani's path-based LP ("Online matching with stochastic
/// rewards: optimal competitive ratio via path based formulation", EC 2020 /
/// Operations Research 71(2), 2023; only the abstracts were reachable, so
/// the program below is reconstructed from them, not copied from the
/// paper's text): for a fixed arrival order, a
/// variable `x_u(gamma)` for every offline vertex `u` and path `gamma` (an
/// arrival-ordered sequence of its neighbours: the arrivals a clairvoyant
/// adaptive offline algorithm would try on `u` if every try on `u` failed),
///
/// `max sum_{u, gamma} x_u(gamma) (1 - prod_{v in gamma} (1 - p_uv))`
/// subject to `sum_gamma x_u(gamma) <= 1` per offline vertex and
/// `sum_{u, gamma contains v} x_u(gamma) prod_{v' before v in gamma}
/// (1 - p_uv') <= 1` per online vertex `v` (the chance that `v` is tried on
/// `u` at all: `u` failed every earlier try of its path).
///
/// It bounds the expected reward of every offline algorithm that knows the
/// graph, the probabilities and the arrival order but learns an outcome only
/// when it tries an edge: let `x_u(gamma)` be the chance that `gamma` is
/// the sequence the algorithm would try on `u` were `u`'s own tries all to
/// fail (it depends on every other coin, not on `u`'s), then `u` is tried on
/// the prefix of `gamma` up to its first success, which gives the objective
/// and the online rows (each arrival is tried at most once). Goyal &
/// Udwani prove Ranking (perturbed greedy, `p_uv (1 - e^{y_u - 1})`)
/// `1 - 1/e` competitive against such adaptive offline algorithms when
/// `p_uv = p_u p_v` factorises (equal probabilities included), by a
/// primal-dual argument on their path-based program. It lies between the
/// configuration LP ([`configuration_lp_bound`]: any configuration is a
/// path with the products dropped from the online rows, which only makes
/// them tighter) and the budget LP ([`lp_upper_bound`]: the chances
/// `y_uv` that `v` is tried on `u` satisfy its rows).
///
/// Equivalently (derived here, checked against the enumeration of all
/// paths in the tests): with `z_uv` the chance that `v` is tried on `u`,
/// `max sum p_uv z_uv` subject to `sum_u z_uv <= 1` per online vertex and
/// `z_uv + sum_{v' before v} p_uv' z_uv' <= 1` per edge (`v` is tried on
/// `u` only if `u` is still unmatched); trying each `v` with probability
/// `z_uv / (1 - sum_{v' before v} p_uv' z_uv')` while `u` is unmatched
/// realises any such `z` by a distribution over paths, so the per-vertex
/// polytopes of the second rows have the paths as vertices.
///
/// Two solvers: the compact LP in one solve of the crate's bounded dual
/// simplex ([`crate::milp::DualSimplex`], a dense tableau) while its
/// tableau is small (at most 2^20 entries: the bench's random and quick
/// instances), else column generation over paths (one row per offline and
/// online vertex, whatever the degrees): the master, a revised primal
/// simplex that keeps its basis as columns are added, starts from each
/// offline vertex's full neighbourhood; the online rows'
/// duals `alpha` price paths exactly by a dynamic program over the
/// arrivals (`price_path`, linear in the degree, any probabilities) until
/// no path has positive reduced profit. Either way the returned `value` is
/// the dual objective `sum_v alpha_v + sum_u max(0, max_gamma reduced
/// profit)` of the online duals found, feasible for the full dual, so a
/// valid upper bound by weak duality even if the LP is solved inexactly.
///
/// `order` lists the online vertices in arrival order (a permutation of
/// `0..online`). Two edges between the same pair count as one with the
/// larger probability (one try per arrival).
///
/// # Errors
/// `order` not a permutation of the online vertices (the error names the
/// first bad entry, or the length), or an LP failure.
pub fn path_lp_bound(instance: &MatchingInstance, order: &[usize]) -> Result<PathLpBound> {
    let n_on = instance.online.len();
    check_order(order, n_on)?;
    let nbrs = arrival_neighbours(instance, order);
    let edges: usize = nbrs.iter().map(Vec::len).sum();
    if edges == 0 {
        return Ok(PathLpBound {
            value: 0.0,
            primal: 0.0,
            columns: 0,
            rounds: 0,
        });
    }
    // The compact LP's dense tableau has `(edges + online) x (2 edges +
    // online)` entries; below the threshold one solve of it is cheaper than
    // the rounds of column generation.
    let tableau = (edges + n_on) as u128 * (2 * edges + n_on) as u128;
    if tableau <= COMPACT_PATH_LP_MAX_TABLEAU {
        path_lp_compact(&nbrs, n_on)
    } else {
        path_lp_column_generation(&nbrs, n_on)
    }
}

/// Each offline vertex's neighbours `(v, p_uv)` with `p_uv > 0`, in the
/// arrival order `order` (a checked permutation); a repeated pair keeps
/// its larger probability.
fn arrival_neighbours(instance: &MatchingInstance, order: &[usize]) -> Vec<Vec<(usize, f64)>> {
    let mut nbrs: Vec<Vec<(usize, f64)>> = vec![Vec::new(); instance.offline];
    for &v in order {
        for &(u, p) in &instance.online[v] {
            if p <= 0.0 {
                continue;
            }
            match nbrs[u].last_mut() {
                Some(last) if last.0 == v => last.1 = last.1.max(p),
                _ => nbrs[u].push((v, p)),
            }
        }
    }
    nbrs
}

/// Largest dense tableau (entries) for which [`path_lp_bound`] solves the
/// compact edge formulation instead of generating paths.
const COMPACT_PATH_LP_MAX_TABLEAU: u128 = 1 << 20;

/// The certified value of the path-based LP's dual for online duals
/// `alpha >= 0`: `sum_v alpha_v + sum_u max(0, max_gamma reduced profit)`
/// (an upper bound on the LP for *any* `alpha >= 0`, by weak duality).
fn path_lp_dual_value(nbrs: &[Vec<(usize, f64)>], alpha: &[f64]) -> f64 {
    let mut value: f64 = alpha.iter().sum();
    for nb in nbrs {
        value += price_path(nb, alpha).0.max(0.0);
    }
    value
}

/// Solves a (maximising, `<=`-row) LP of the path-based family; returns its
/// primal objective and every row's dual, clamped at 0 (the duals of `<=`
/// rows of a maximisation are non-negative; clamping only removes solver
/// noise, and the certificate stays valid for any non-negative duals).
fn solve_path_master(lp: &crate::milp::Milp, what: &str) -> Result<(f64, Vec<f64>)> {
    use crate::milp::{DualSimplex, LpStatus};
    let mut simplex = DualSimplex::new(lp)?;
    let status = simplex.solve(u64::MAX, f64::INFINITY, None);
    if status != LpStatus::Optimal {
        return Err(Error::invalid(
            what,
            format!("{status:?}"),
            "an optimal LP solve",
        ));
    }
    // `row_reduced_costs` are minus the row duals of the minimisation
    // form, i.e. the duals of the maximisation.
    let duals = simplex
        .row_reduced_costs()
        .iter()
        .map(|d| d.max(0.0))
        .collect();
    Ok((lp.objective(simplex.x()), duals))
}

/// The compact edge formulation of the path-based LP (see
/// [`path_lp_bound`]): `z_uv` per edge, online rows first, then one row per
/// edge `z_uv + sum_{v' before v} p_uv' z_uv' <= 1`. Its online duals
/// certify the value through [`path_lp_dual_value`] (tight at the optimum:
/// dualising the online rows leaves, per offline vertex, the polytope of
/// the second rows, whose vertices are the paths). `columns` counts the
/// edge variables; `rounds` is 0.
fn path_lp_compact(nbrs: &[Vec<(usize, f64)>], n_on: usize) -> Result<PathLpBound> {
    use crate::milp::Milp;
    let mut lp = Milp::new("path-lp-compact", true);
    let mut on_rows: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n_on];
    let mut edge_rows: Vec<Vec<(usize, f64)>> = Vec::new();
    for (u, nb) in nbrs.iter().enumerate() {
        let first = lp.num_vars();
        for (k, &(v, p)) in nb.iter().enumerate() {
            let j = lp.add_var(format!("z{u}_{v}"), p, 0.0, 1.0, false)?;
            on_rows[v].push((j, 1.0));
            let mut row: Vec<(usize, f64)> = nb[..k]
                .iter()
                .enumerate()
                .map(|(i, e)| (first + i, e.1))
                .collect();
            row.push((j, 1.0));
            edge_rows.push(row);
        }
    }
    let columns = lp.num_vars();
    for (v, coefs) in on_rows.into_iter().enumerate() {
        lp.add_row(format!("v{v}"), coefs, f64::NEG_INFINITY, 1.0)?;
    }
    for (e, coefs) in edge_rows.into_iter().enumerate() {
        lp.add_row(format!("e{e}"), coefs, f64::NEG_INFINITY, 1.0)?;
    }
    let (primal, mut duals) = solve_path_master(&lp, "compact path LP")?;
    duals.truncate(n_on);
    let alpha = duals;
    Ok(PathLpBound {
        value: path_lp_dual_value(nbrs, &alpha),
        primal,
        columns,
        rounds: 0,
    })
}

/// The restricted master of the path-based LP's column generation: `max
/// c x` subject to `A x <= 1`, `x >= 0` (a packing LP, so the slack basis
/// is feasible), solved by a revised *primal* simplex with an explicit
/// basis inverse. Columns are appended between solves and enter at 0, so
/// the previous optimal basis stays feasible and each round re-optimises
/// in a few pivots; the crate's dual simplex ([`crate::milp::DualSimplex`])
/// cannot take new columns, and rebuilding it every round was measured at
/// 6.5 s for the quick triangular instance (80 rounds) and minutes for the
/// full one. Dantzig's rule, Bland's after a run of degenerate pivots (no
/// cycling), refactorisation by Gauss-Jordan every [`REFACTOR_PIVOTS`].
struct PackingMaster {
    m: usize,
    /// Sparse columns `(row, coefficient)` and their objective.
    cols: Vec<Vec<(usize, f64)>>,
    cost: Vec<f64>,
    /// Basic variable of each row: `j < cols.len()` a column, else the
    /// slack of row `j - SLACK`.
    head: Vec<usize>,
    basic: Vec<bool>,
    /// `B^{-1}`, row-major `m x m`.
    binv: Vec<f64>,
    /// Basic values.
    xb: Vec<f64>,
    since_refactor: usize,
    pivots: u64,
}

/// Offset of slack ids in [`PackingMaster::head`].
const SLACK: usize = usize::MAX / 2;
/// Pivots between two refactorisations of the master's basis inverse.
const REFACTOR_PIVOTS: usize = 64;
/// Most pivots of the master over a whole column generation.
const MAX_MASTER_PIVOTS: u64 = 2_000_000;

impl PackingMaster {
    fn new(m: usize) -> Result<Self> {
        duality_core::limits::check_memory(
            &format!("the path-LP master's basis inverse ({m} x {m})"),
            (m as u128) * (m as u128) * 8,
        )?;
        let mut binv = vec![0.0; m * m];
        for i in 0..m {
            binv[i * m + i] = 1.0;
        }
        Ok(PackingMaster {
            m,
            cols: Vec::new(),
            cost: Vec::new(),
            head: (0..m).map(|i| SLACK + i).collect(),
            basic: Vec::new(),
            binv,
            xb: vec![1.0; m],
            since_refactor: 0,
            pivots: 0,
        })
    }

    fn add_column(&mut self, col: Vec<(usize, f64)>, cost: f64) {
        self.cols.push(col);
        self.cost.push(cost);
        self.basic.push(false);
    }

    fn basic_cost(&self, i: usize) -> f64 {
        let j = self.head[i];
        if j >= SLACK {
            0.0
        } else {
            self.cost[j]
        }
    }

    /// Row duals `y = c_B B^{-1}`.
    fn duals(&self) -> Vec<f64> {
        let m = self.m;
        let mut y = vec![0.0; m];
        for i in 0..m {
            let c = self.basic_cost(i);
            if c != 0.0 {
                for (yr, b) in y.iter_mut().zip(&self.binv[i * m..(i + 1) * m]) {
                    *yr += c * b;
                }
            }
        }
        y
    }

    fn objective(&self) -> f64 {
        (0..self.m).map(|i| self.basic_cost(i) * self.xb[i]).sum()
    }

    /// `B^{-1}` and `x_B = B^{-1} 1` recomputed from the basic columns
    /// (Gauss-Jordan with partial pivoting).
    fn refactor(&mut self) -> Result<()> {
        let m = self.m;
        let mut a = vec![0.0; m * m];
        for (i, &j) in self.head.iter().enumerate() {
            if j >= SLACK {
                a[(j - SLACK) * m + i] = 1.0;
            } else {
                for &(r, v) in &self.cols[j] {
                    a[r * m + i] = v;
                }
            }
        }
        let mut inv = vec![0.0; m * m];
        for i in 0..m {
            inv[i * m + i] = 1.0;
        }
        for c in 0..m {
            let piv = (c..m)
                .max_by(|&x, &y| a[x * m + c].abs().total_cmp(&a[y * m + c].abs()))
                .unwrap_or(c);
            if a[piv * m + c].abs() < 1e-12 {
                return Err(Error::invalid(
                    "path LP master basis",
                    format!("singular at column {c}"),
                    "a nonsingular basis",
                ));
            }
            if piv != c {
                for k in 0..m {
                    a.swap(piv * m + k, c * m + k);
                    inv.swap(piv * m + k, c * m + k);
                }
            }
            let d = a[c * m + c];
            for k in 0..m {
                a[c * m + k] /= d;
                inv[c * m + k] /= d;
            }
            for r in 0..m {
                let f = a[r * m + c];
                if r != c && f != 0.0 {
                    for k in 0..m {
                        a[r * m + k] -= f * a[c * m + k];
                        inv[r * m + k] -= f * inv[c * m + k];
                    }
                }
            }
        }
        // `a` was B with rows = constraint rows, columns = basis positions,
        // so `inv` = B^{-1} maps constraint rows to basis positions.
        self.binv = inv;
        for (x, row) in self.xb.iter_mut().zip(self.binv.chunks(m)) {
            *x = row.iter().sum::<f64>().max(0.0);
        }
        self.since_refactor = 0;
        Ok(())
    }

    /// Re-optimises from the current basis; returns the row duals.
    fn solve(&mut self) -> Result<Vec<f64>> {
        let m = self.m;
        let mut degenerate_run = 0usize;
        loop {
            let y = self.duals();
            let bland = degenerate_run > 50;
            // Entering variable: a column or a slack with positive reduced
            // cost.
            let mut enter: Option<(usize, f64)> = None;
            let mut consider = |id: usize, d: f64| {
                if d <= 1e-9 {
                    return;
                }
                let take = if bland {
                    enter.is_none()
                } else {
                    enter.is_none_or(|(_, best)| d > best)
                };
                if take {
                    enter = Some((id, d));
                }
            };
            for (j, col) in self.cols.iter().enumerate() {
                if !self.basic[j] {
                    let d = self.cost[j] - col.iter().map(|&(r, v)| y[r] * v).sum::<f64>();
                    consider(j, d);
                }
            }
            for (i, &yi) in y.iter().enumerate() {
                // A nonbasic slack (cost 0, column e_i) prices at -y_i.
                if !self.head.contains(&(SLACK + i)) {
                    consider(SLACK + i, -yi);
                }
            }
            let Some((q, _)) = enter else {
                return Ok(y);
            };
            if self.pivots >= MAX_MASTER_PIVOTS {
                return Err(Error::invalid(
                    "path LP master pivots",
                    self.pivots,
                    format!("at most {MAX_MASTER_PIVOTS}"),
                ));
            }
            // w = B^{-1} a_q.
            let mut w = vec![0.0; m];
            if q >= SLACK {
                let r = q - SLACK;
                for (i, wi) in w.iter_mut().enumerate() {
                    *wi = self.binv[i * m + r];
                }
            } else {
                for &(r, v) in &self.cols[q] {
                    for (i, wi) in w.iter_mut().enumerate() {
                        *wi += self.binv[i * m + r] * v;
                    }
                }
            }
            // Ratio test (ties: the smallest basic id under Bland's rule,
            // else the largest pivot).
            let mut leave: Option<(usize, f64)> = None;
            for (i, &wi) in w.iter().enumerate() {
                if wi > 1e-9 {
                    let t = self.xb[i].max(0.0) / wi;
                    let better = match leave {
                        None => true,
                        Some((l, tl)) => {
                            t < tl - 1e-12
                                || (t <= tl + 1e-12
                                    && if bland {
                                        self.head[i] < self.head[l]
                                    } else {
                                        wi > w[l]
                                    })
                        }
                    };
                    if better {
                        leave = Some((i, t));
                    }
                }
            }
            let Some((r, theta)) = leave else {
                return Err(Error::invalid(
                    "path LP master",
                    "unbounded",
                    "a bounded packing LP",
                ));
            };
            degenerate_run = if theta <= 1e-12 {
                degenerate_run + 1
            } else {
                0
            };
            for (x, wi) in self.xb.iter_mut().zip(&w) {
                *x -= theta * wi;
            }
            self.xb[r] = theta;
            let pr = w[r];
            let (before, rest) = self.binv.split_at_mut(r * m);
            let (row_r, after) = rest.split_at_mut(m);
            for v in row_r.iter_mut() {
                *v /= pr;
            }
            for (i, chunk) in before.chunks_mut(m).enumerate() {
                let f = w[i];
                if f != 0.0 {
                    for (a, b) in chunk.iter_mut().zip(row_r.iter()) {
                        *a -= f * b;
                    }
                }
            }
            for (k, chunk) in after.chunks_mut(m).enumerate() {
                let f = w[r + 1 + k];
                if f != 0.0 {
                    for (a, b) in chunk.iter_mut().zip(row_r.iter()) {
                        *a -= f * b;
                    }
                }
            }
            let out = self.head[r];
            if out < SLACK {
                self.basic[out] = false;
            }
            if q < SLACK {
                self.basic[q] = true;
            }
            self.head[r] = q;
            self.pivots += 1;
            self.since_refactor += 1;
            if self.since_refactor >= REFACTOR_PIVOTS {
                self.refactor()?;
            }
        }
    }
}

/// Column generation over paths (see [`path_lp_bound`]): rows are the
/// online vertices `0..n_on`, then the offline vertices.
fn path_lp_column_generation(nbrs: &[Vec<(usize, f64)>], n_on: usize) -> Result<PathLpBound> {
    let n_off = nbrs.len();
    let mut master = PackingMaster::new(n_on + n_off)?;
    let mut seen: std::collections::HashSet<(usize, Vec<usize>)> = std::collections::HashSet::new();
    let mut add = |master: &mut PackingMaster, u: usize, path: Vec<usize>| -> bool {
        if !seen.insert((u, path.clone())) {
            return false;
        }
        let mut survive = 1.0;
        let mut col = Vec::with_capacity(path.len() + 1);
        for &k in &path {
            let (v, p) = nbrs[u][k];
            col.push((v, survive));
            survive *= 1.0 - p;
        }
        col.push((n_on + u, 1.0));
        master.add_column(col, 1.0 - survive);
        true
    };
    // Start from each full neighbourhood (cut after a sure success).
    for (u, nb) in nbrs.iter().enumerate() {
        if !nb.is_empty() {
            let sure = nb.iter().position(|e| e.1 >= 1.0);
            let end = sure.map_or(nb.len(), |k| k + 1);
            add(&mut master, u, (0..end).collect());
        }
    }
    let mut alpha = vec![0.0; n_on];
    let mut rounds = 0;
    while rounds < MAX_ROUNDS {
        rounds += 1;
        let y = master.solve()?;
        // Duals of `<=` rows of a maximisation are >= 0; clamping only
        // removes round-off, and the certificate holds for any alpha >= 0.
        for (a, &yv) in alpha.iter_mut().zip(&y[..n_on]) {
            *a = yv.max(0.0);
        }
        let mut added = false;
        for (u, nb) in nbrs.iter().enumerate() {
            if nb.is_empty() {
                continue;
            }
            // A path enters when its reduced profit beats the offline
            // row's dual.
            let (value, path) = price_path(nb, &alpha);
            if value - y[n_on + u].max(0.0) > 1e-9 {
                added |= add(&mut master, u, path);
            }
        }
        if !added {
            break;
        }
    }
    Ok(PathLpBound {
        value: path_lp_dual_value(nbrs, &alpha),
        primal: master.objective(),
        columns: master.cols.len(),
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

    /// The online neighbours `(v, p_uv)` of offline vertex `u`, in index
    /// order (the brute forces' columns range over their subsets).
    fn offline_neighbours(inst: &MatchingInstance, u: usize) -> Vec<(usize, f64)> {
        inst.online
            .iter()
            .enumerate()
            .filter_map(|(v, es)| es.iter().find(|e| e.0 == u).map(|e| (v, e.1)))
            .collect()
    }

    /// Brute force of the configuration LP on a tiny instance: every
    /// (offline vertex, subset) column, solved by the dense simplex.
    fn brute_configuration_lp(inst: &MatchingInstance) -> f64 {
        let mut cols: Vec<(usize, Vec<usize>, f64)> = Vec::new();
        for u in 0..inst.offline {
            let nb = offline_neighbours(inst, u);
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

    /// Brute force of the path-based LP on a tiny instance (arrivals in
    /// index order): every (offline vertex, path) column, by the dense
    /// simplex.
    fn brute_path_lp(inst: &MatchingInstance) -> f64 {
        let mut cols: Vec<(usize, Vec<(usize, f64)>)> = Vec::new();
        for u in 0..inst.offline {
            let nb = offline_neighbours(inst, u);
            for mask in 1usize..(1 << nb.len()) {
                cols.push((
                    u,
                    (0..nb.len())
                        .filter(|i| mask >> i & 1 == 1)
                        .map(|i| nb[i])
                        .collect(),
                ));
            }
        }
        let survive_before = |path: &[(usize, f64)], v: usize| -> f64 {
            let mut s = 1.0;
            for &(w, p) in path {
                if w == v {
                    return s;
                }
                s *= 1.0 - p;
            }
            0.0
        };
        let c: Vec<f64> = cols
            .iter()
            .map(|c| set_reward(c.1.iter().map(|e| e.1)))
            .collect();
        let mut a = Vec::new();
        for u in 0..inst.offline {
            a.push(cols.iter().map(|c| f64::from(c.0 == u)).collect());
        }
        for v in 0..inst.online.len() {
            a.push(cols.iter().map(|c| survive_before(&c.1, v)).collect());
        }
        let b = vec![1.0; a.len()];
        maximize_packing(&c, &a, &b).unwrap().objective
    }

    /// The clairvoyant adaptive offline optimum (knows the graph, the
    /// probabilities and the arrival order, sees each outcome after trying
    /// an edge) by dynamic programming over (next arrival, unmatched
    /// offline vertices).
    fn adaptive_optimum(inst: &MatchingInstance) -> f64 {
        fn go(
            inst: &MatchingInstance,
            t: usize,
            free: usize,
            memo: &mut std::collections::HashMap<(usize, usize), f64>,
        ) -> f64 {
            if t == inst.online.len() {
                return 0.0;
            }
            if let Some(&x) = memo.get(&(t, free)) {
                return x;
            }
            let skip = go(inst, t + 1, free, memo);
            let mut best = skip;
            for &(u, p) in &inst.online[t] {
                if free >> u & 1 == 1 {
                    let x = p * (1.0 + go(inst, t + 1, free & !(1 << u), memo)) + (1.0 - p) * skip;
                    best = best.max(x);
                }
            }
            memo.insert((t, free), best);
            best
        }
        go(
            inst,
            0,
            (1 << inst.offline) - 1,
            &mut std::collections::HashMap::new(),
        )
    }

    #[test]
    fn path_lp_matches_brute_force_and_sits_between_the_benchmarks() {
        let mut rng = Seeder::new(21).rng(0);
        for trial in 0..16 {
            let (n_off, n_on) = (2 + trial % 3, 3 + trial % 4);
            let edges = (0..n_on)
                .map(|_| {
                    let mut es = Vec::new();
                    for u in 0..n_off {
                        if rng.random_bool(0.7) {
                            let p = if trial % 2 == 0 {
                                0.4
                            } else {
                                rng.random_range(0.05..1.0)
                            };
                            es.push((u, p));
                        }
                    }
                    es
                })
                .collect();
            let inst = MatchingInstance::new(n_off, edges).unwrap();
            let order: Vec<usize> = (0..n_on).collect();
            let path = path_lp_bound(&inst, &order).unwrap();
            let brute = brute_path_lp(&inst);
            assert!(
                (path.value - brute).abs() < 1e-7,
                "{trial}: {path:?} vs {brute}"
            );
            // Both solvers behind `path_lp_bound` (the compact LP for small
            // instances, column generation for large ones) agree with it.
            let nbrs = arrival_neighbours(&inst, &order);
            for b in [
                path_lp_compact(&nbrs, n_on).unwrap(),
                path_lp_column_generation(&nbrs, n_on).unwrap(),
            ] {
                assert!((b.value - brute).abs() < 1e-7, "{trial}: {b:?} vs {brute}");
                assert!(b.primal <= b.value + 1e-9, "{trial}: {b:?}");
                assert!(b.value - b.primal < 1e-6, "{trial}: {b:?}");
            }
            // The compact edge formulation (documented on
            // `path_lp_bound`) has the same optimum.
            let compact = compact_path_lp(&inst);
            assert!(
                (compact - brute).abs() < 1e-7,
                "{trial}: compact {compact} vs {brute}"
            );
            // Certified dual value >= master primal, and column generation
            // converged (they meet).
            assert!(path.primal <= path.value + 1e-9, "{trial}: {path:?}");
            assert!(path.value - path.primal < 1e-6, "{trial}: {path:?}");
            // Adaptive offline optimum <= path LP; configuration LP <= path
            // LP <= budget LP.
            let opt = adaptive_optimum(&inst);
            assert!(
                opt <= path.value + 1e-9,
                "{trial}: adaptive {opt} > path {}",
                path.value
            );
            // Any arrival order: relabelling the online vertices so that
            // they arrive in index order gives the same LP.
            let mut shuffled: Vec<usize> = (0..n_on).collect();
            shuffled.shuffle(&mut rng);
            let relabelled = MatchingInstance::new(
                n_off,
                shuffled.iter().map(|&v| inst.online[v].clone()).collect(),
            )
            .unwrap();
            let a = path_lp_bound(&inst, &shuffled).unwrap().value;
            let b = brute_path_lp(&relabelled);
            assert!(
                (a - b).abs() < 1e-7,
                "{trial}: order {shuffled:?}: {a} vs {b}"
            );
            let cfg = configuration_lp_bound(&inst).unwrap().value;
            assert!(
                cfg <= path.value + 1e-7,
                "{trial}: configuration {cfg} > path {}",
                path.value
            );
            assert!(path.value <= lp_upper_bound(&inst).unwrap() + 1e-7);
        }
        // Deterministic edges: every LP is the maximum matching (here 2).
        let inst = MatchingInstance::new(
            2,
            vec![vec![(0, 1.0)], vec![(0, 1.0), (1, 1.0)], vec![(0, 1.0)]],
        )
        .unwrap();
        let path = path_lp_bound(&inst, &[0, 1, 2]).unwrap();
        assert!((path.value - 2.0).abs() < 1e-9, "{path:?}");
        // The order matters for stochastic edges: `a` (p = 1/2 on u0) then
        // `b` (sure on u0, 1/2 on u1) lets a clairvoyant algorithm send `b`
        // wherever `a` left room (1/2 (1 + 1/2) + 1/2 = 5/4); `b` first
        // cannot do better than 1.
        let inst =
            MatchingInstance::new(2, vec![vec![(0, 0.5)], vec![(0, 1.0), (1, 0.5)]]).unwrap();
        let ab = path_lp_bound(&inst, &[0, 1]).unwrap().value;
        let ba = path_lp_bound(&inst, &[1, 0]).unwrap().value;
        assert!((ab - 1.25).abs() < 1e-9, "{ab}");
        assert!((ba - 1.0).abs() < 1e-9, "{ba}");
        assert!((adaptive_optimum(&inst) - 1.25).abs() < 1e-12);
        assert_eq!(OnlineAlgorithm::Ranking.benchmark(), Benchmark::PathLp);
    }

    /// The compact form of the path-based LP: `z_uv` (chance that `v` is
    /// tried on `u`), online rows `sum_u z_uv <= 1`, and per edge
    /// `z_uv + sum_{v' before v} p_uv' z_uv' <= 1` (arrivals in index
    /// order), by the dense simplex.
    fn compact_path_lp(inst: &MatchingInstance) -> f64 {
        let edges: Vec<(usize, usize, f64)> = inst
            .online
            .iter()
            .enumerate()
            .flat_map(|(v, es)| es.iter().map(move |&(u, p)| (u, v, p)))
            .filter(|e| e.2 > 0.0)
            .collect();
        let c: Vec<f64> = edges.iter().map(|e| e.2).collect();
        let mut a = Vec::new();
        for v in 0..inst.online.len() {
            a.push(edges.iter().map(|e| f64::from(e.1 == v)).collect());
        }
        for &(u, v, _) in &edges {
            a.push(
                edges
                    .iter()
                    .map(|&(u2, v2, p2)| {
                        if u2 != u {
                            0.0
                        } else if v2 == v {
                            1.0
                        } else if v2 < v {
                            p2
                        } else {
                            0.0
                        }
                    })
                    .collect(),
            );
        }
        let b = vec![1.0; a.len()];
        maximize_packing(&c, &a, &b).unwrap().objective
    }

    #[test]
    fn path_pricing_matches_brute_force_over_all_paths() {
        let mut rng = Seeder::new(5).rng(0);
        for trial in 0..200 {
            let m = 1 + trial % 8;
            let n_on = 10;
            let neighbours: Vec<(usize, f64)> = (0..m)
                .map(|k| {
                    // Some sure edges (p = 1) and some free rows.
                    let p = if rng.random_bool(0.1) {
                        1.0
                    } else {
                        rng.random_range(0.01..1.0)
                    };
                    (k, p)
                })
                .collect();
            let alpha: Vec<f64> = (0..n_on)
                .map(|_| {
                    if rng.random_bool(0.2) {
                        0.0
                    } else {
                        rng.random_range(0.0..1.2)
                    }
                })
                .collect();
            // Reduced profit of a path given as positions.
            let profit = |path: &[usize]| -> f64 {
                let (mut s, mut f) = (1.0, 0.0);
                for &k in path {
                    let (v, p) = neighbours[k];
                    f += s * (p - alpha[v]);
                    s *= 1.0 - p;
                }
                f
            };
            let mut brute = 0.0f64;
            for mask in 1usize..(1 << m) {
                let path: Vec<usize> = (0..m).filter(|k| mask >> k & 1 == 1).collect();
                brute = brute.max(profit(&path));
            }
            let (value, path) = price_path(&neighbours, &alpha);
            assert!(
                (value - brute).abs() < 1e-12,
                "{trial}: dp {value} vs brute {brute}"
            );
            assert!(
                (profit(&path) - value).abs() < 1e-12,
                "{trial}: path {path:?} earns {} not {value}",
                profit(&path)
            );
            assert!(path.windows(2).all(|w| w[0] < w[1]), "{path:?}");
        }
    }

    #[test]
    fn path_lp_equals_the_adaptive_optimum_where_the_lp_is_exact() {
        let mut rng = Seeder::new(8).rng(0);
        for trial in 0..12 {
            // One offline vertex: trying every arrival is optimal and is
            // the full path, `1 - prod (1 - p)`.
            let n_on = 1 + trial % 5;
            let ps: Vec<f64> = (0..n_on).map(|_| rng.random_range(0.05..1.0)).collect();
            let inst =
                MatchingInstance::new(1, ps.iter().map(|&p| vec![(0, p)]).collect()).unwrap();
            let order: Vec<usize> = (0..n_on).collect();
            let lp = path_lp_bound(&inst, &order).unwrap().value;
            let opt = adaptive_optimum(&inst);
            assert!(
                (lp - opt).abs() < 1e-7,
                "{trial}: one offline {lp} vs {opt}"
            );
            assert!((opt - set_reward(ps.iter().copied())).abs() < 1e-12);
            // One online vertex: the best single edge.
            let n_off = 1 + trial % 4;
            let edges: Vec<(usize, f64)> = (0..n_off)
                .map(|u| (u, rng.random_range(0.05..1.0)))
                .collect();
            let best = edges.iter().map(|e| e.1).fold(0.0, f64::max);
            let inst = MatchingInstance::new(n_off, vec![edges]).unwrap();
            let lp = path_lp_bound(&inst, &[0]).unwrap().value;
            assert!(
                (lp - best).abs() < 1e-7,
                "{trial}: one online {lp} vs {best}"
            );
            assert!((adaptive_optimum(&inst) - best).abs() < 1e-12);
            // Sure edges: every benchmark is the maximum matching, which
            // the clairvoyant algorithm attains.
            let inst = MatchingInstance::random(4, 5, 0.5, 1.0, &mut rng).unwrap();
            let lp = path_lp_bound(&inst, &(0..5).collect::<Vec<_>>())
                .unwrap()
                .value;
            let opt = adaptive_optimum(&inst);
            assert!((lp - opt).abs() < 1e-7, "{trial}: sure edges {lp} vs {opt}");
        }
    }

    #[test]
    fn path_lp_solvers_agree_on_the_triangular_instance() {
        // Both solvers on a bench-like instance (equal p = 0.1, given
        // order), between the configuration and the budget LP.
        let inst = MatchingInstance::upper_triangular(8, 0.1).unwrap();
        let n_on = inst.online.len();
        let order: Vec<usize> = (0..n_on).collect();
        let nbrs = arrival_neighbours(&inst, &order);
        let compact = path_lp_compact(&nbrs, n_on).unwrap();
        let columns = path_lp_column_generation(&nbrs, n_on).unwrap();
        assert!(
            (compact.value - columns.value).abs() < 1e-6,
            "{compact:?} vs {columns:?}"
        );
        let cfg = configuration_lp_bound(&inst).unwrap().value;
        let budget = lp_upper_bound(&inst).unwrap();
        assert!(cfg <= compact.value + 1e-7 && compact.value <= budget + 1e-7);
    }

    /// Times both path-LP solvers on the bench's instances:
    /// `cargo test -p duality-combopt --lib matching::tests::time_path_lp -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn time_path_lp() {
        let mut rng = Seeder::new(0).rng(0);
        let cases = [
            (
                "tri10",
                MatchingInstance::upper_triangular(10, 0.1).unwrap(),
            ),
            (
                "random",
                MatchingInstance::random(30, 90, 0.1, 0.2, &mut rng).unwrap(),
            ),
            (
                "tri30",
                MatchingInstance::upper_triangular(30, 0.1).unwrap(),
            ),
        ];
        for (name, inst) in &cases {
            let n_on = inst.online.len();
            let order: Vec<usize> = (0..n_on).collect();
            let nbrs = arrival_neighbours(inst, &order);
            let edges: usize = nbrs.iter().map(Vec::len).sum();
            let budget = lp_upper_bound(inst).unwrap();
            let cfg = configuration_lp_bound(inst).unwrap().value;
            if edges < 1500 {
                let t = std::time::Instant::now();
                let b = path_lp_compact(&nbrs, n_on).unwrap();
                println!("{name}: compact {b:?} in {:.3}s", t.elapsed().as_secs_f64());
            }
            let t = std::time::Instant::now();
            let b = path_lp_column_generation(&nbrs, n_on).unwrap();
            println!(
                "{name}: columns {b:?} in {:.3}s; budget {budget}, configuration {cfg}",
                t.elapsed().as_secs_f64()
            );
        }
    }

    #[test]
    fn bad_arrival_order_is_named() {
        let inst = MatchingInstance::new(1, vec![vec![(0, 1.0)], vec![(0, 0.5)]]).unwrap();
        let e = path_lp_bound(&inst, &[0, 0]).unwrap_err().to_string();
        assert!(
            e.contains("arrival order[1]") && e.contains("permutation"),
            "{e}"
        );
        let e = path_lp_bound(&inst, &[0, 7]).unwrap_err().to_string();
        assert!(e.contains("arrival order[1]") && e.contains('7'), "{e}");
        let e = path_lp_bound(&inst, &[1]).unwrap_err().to_string();
        assert!(e.contains("arrival order length") && e.contains('2'), "{e}");
        // Duplicate edges count once, with the larger probability.
        let dup = MatchingInstance::new(1, vec![vec![(0, 0.3), (0, 0.6)]]).unwrap();
        let lp = path_lp_bound(&dup, &[0]).unwrap().value;
        assert!((lp - 0.6).abs() < 1e-9, "{lp}");
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
