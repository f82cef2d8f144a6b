//! Divide-conquer-reunion for large TSP instances, after UDC (Zheng et al.
//! 2024, "UDC: A Unified Neural Divide-and-Conquer Framework for Large-Scale
//! Combinatorial Optimization Problems", section 4).
//!
//! - **Divide**: an initial tour from the sparse k-NN graph (greedy edge
//!   matching on candidate edges, then 2-opt + Or-opt with neighbour lists).
//!   UDC draws it from a GNN heat-map on the same sparse graph; that learned
//!   step is a later, `torch`-feature addition.
//! - **Conquer**: the tour is cut into consecutive open sub-paths of fixed
//!   length; each is re-optimised with both end points fixed, independently
//!   and in parallel (rayon), by a [`SubpathSolver`]. A sub-path is replaced
//!   only when the solver found a shorter one, so the tour never gets worse.
//! - **Reunion**: the cut points are shifted by half a sub-path and the tour
//!   is decomposed again, so the previous boundaries now sit inside sub-paths;
//!   repeated for a number of rounds or until the time limit.
//!
//! Determinism: sub-path `i` of round `r` draws from `Seeder::child(r).rng(i)`,
//! so results do not depend on the rayon thread count (unless a time limit
//! stops a run early).

use std::time::Instant;

use duality_core::config::Validate;
use duality_core::seed::{DualityRng, Seeder};
use duality_core::{Error, Result};
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::construct::greedy_edge;
use super::exact::{held_karp_path, MAX_EXACT};
use super::instance::Instance;
use super::knn::Neighbours;
use super::local_search::{check_time_limit, improve_unchecked, LocalSearchParams, Neighbourhood};
use super::tour::Tour;

/// Re-optimises an open path whose first and last cities stay fixed.
///
/// This is the seam for UDC's learned conquering policy: a neural solver
/// (behind the `torch` feature) implements the same trait.
pub trait SubpathSolver: Sync {
    /// A short name for reports.
    fn name(&self) -> &str;

    /// Returns a permutation of `path` starting with `path[0]` and ending with
    /// `path[path.len() - 1]`, hopefully shorter under `instance`.
    fn solve(&self, instance: &Instance, path: &[usize], rng: &mut DualityRng) -> Vec<usize>;
}

/// Length of an open path.
pub fn path_length(instance: &Instance, path: &[usize]) -> f64 {
    path.windows(2).map(|w| instance.dist(w[0], w[1])).sum()
}

/// Exact conquering by Held-Karp for paths of at most [`MAX_EXACT`] cities;
/// longer paths are returned unchanged.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExactSubpath;

impl SubpathSolver for ExactSubpath {
    fn name(&self) -> &str {
        "held-karp"
    }

    fn solve(&self, instance: &Instance, path: &[usize], _rng: &mut DualityRng) -> Vec<usize> {
        match held_karp_path(path.len(), |a, b| instance.dist(path[a], path[b])) {
            Ok(exact) => exact.order.into_iter().map(|i| path[i]).collect(),
            Err(_) => path.to_vec(),
        }
    }
}

/// Conquering by iterated local search: Or-2opt with the end points' edge
/// fixed, then `kicks` double-bridge perturbations of the path interior,
/// each followed by local search from the perturbed cities and kept when
/// shorter (Martin, Otto & Felten 1991; Johnson & McGeoch 1997).
/// Paths of at most `exact_below` cities are solved exactly instead.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalSearchSubpath {
    kicks: usize,
    k: usize,
    exact_below: usize,
}

impl Default for LocalSearchSubpath {
    fn default() -> Self {
        LocalSearchSubpath {
            kicks: 50,
            k: 8,
            exact_below: 12,
        }
    }
}

impl LocalSearchSubpath {
    /// Sets the perturbation rounds per sub-path.
    pub fn with_kicks(mut self, kicks: usize) -> Self {
        self.kicks = kicks;
        self
    }
    /// Sets the candidate neighbours per city inside a sub-path (0 leaves
    /// sub-paths to the exact solver and the kicks alone).
    pub fn with_k(mut self, k: usize) -> Self {
        self.k = k;
        self
    }
    /// Paths of up to this many cities go to Held-Karp (capped at [`MAX_EXACT`]).
    pub fn with_exact_below(mut self, cities: usize) -> Self {
        self.exact_below = cities;
        self
    }
    /// Perturbation rounds per sub-path.
    pub fn kicks(&self) -> usize {
        self.kicks
    }
    /// Candidate neighbours per city.
    pub fn k(&self) -> usize {
        self.k
    }
    /// Size up to which sub-paths are solved exactly.
    pub fn exact_below(&self) -> usize {
        self.exact_below
    }
}

impl SubpathSolver for LocalSearchSubpath {
    fn name(&self) -> &str {
        "ils-or2opt"
    }

    fn solve(&self, instance: &Instance, path: &[usize], rng: &mut DualityRng) -> Vec<usize> {
        let m = path.len();
        if m <= self.exact_below.min(MAX_EXACT) {
            return ExactSubpath.solve(instance, path, rng);
        }
        let dist = |a: usize, b: usize| instance.dist(path[a], path[b]);
        let nb = Neighbours::from_fn(m, self.k, dist);
        let fixed = Some((0, m - 1));
        let params = LocalSearchParams::default();
        let closed = improve_unchecked((0..m).collect(), &dist, &nb, fixed, &params, None).order;
        let mut best = open_path(&closed, m);
        let mut best_len = local_len(&best, &dist);
        if m >= 8 {
            for _ in 0..self.kicks {
                // Double bridge on the interior: P A B C -> P B A C.
                let mut cuts = [
                    rng.random_range(1..m - 1),
                    rng.random_range(1..m - 1),
                    rng.random_range(1..m - 1),
                ];
                cuts.sort_unstable();
                let [i, j, k] = cuts;
                if i == j || j == k {
                    continue;
                }
                let mut cand = Vec::with_capacity(m);
                cand.extend_from_slice(&best[..i]);
                cand.extend_from_slice(&best[j..k]);
                cand.extend_from_slice(&best[i..j]);
                cand.extend_from_slice(&best[k..]);
                let touched = [
                    cand[i - 1],
                    cand[i],
                    best[i],
                    best[j - 1],
                    best[j],
                    best[k - 1],
                    best[k],
                ];
                let closed =
                    improve_unchecked(cand, &dist, &nb, fixed, &params, Some(&touched)).order;
                let cand = open_path(&closed, m);
                let len = local_len(&cand, &dist);
                if len < best_len - 1e-9 {
                    best = cand;
                    best_len = len;
                }
            }
        }
        best.into_iter().map(|i| path[i]).collect()
    }
}

fn local_len(order: &[usize], dist: &impl Fn(usize, usize) -> f64) -> f64 {
    order.windows(2).map(|w| dist(w[0], w[1])).sum()
}

/// Turns a closed tour over `0..m` that contains edge (0, m-1) into the open
/// path 0 -> ... -> m-1.
fn open_path(closed: &[usize], m: usize) -> Vec<usize> {
    let start = closed.iter().position(|&c| c == 0).unwrap_or(0);
    let mut out: Vec<usize> = closed[start..]
        .iter()
        .chain(&closed[..start])
        .copied()
        .collect();
    if out.get(1) == Some(&(m - 1)) {
        out[1..].reverse();
    }
    out
}

/// Parameters of divide-conquer-reunion: [`DcrParams::default`] plus the
/// `with_*` setters, checked once by [`Validate`] when a run starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DcrParams {
    subpath_len: usize,
    rounds: usize,
    k: usize,
    initial_local_search: bool,
    time_limit: Option<f64>,
    seed: u64,
}

impl Default for DcrParams {
    fn default() -> Self {
        DcrParams {
            subpath_len: 100,
            rounds: 12,
            k: 10,
            initial_local_search: true,
            time_limit: None,
            seed: 0,
        }
    }
}

impl DcrParams {
    /// Sets the cities per sub-path (at least 4).
    pub fn with_subpath_len(mut self, len: usize) -> Self {
        self.subpath_len = len;
        self
    }
    /// Sets the decompose-conquer rounds (each shifts the cut points by half
    /// a sub-path).
    pub fn with_rounds(mut self, rounds: usize) -> Self {
        self.rounds = rounds;
        self
    }
    /// Sets the candidate neighbours per city for the initial tour (at least 1).
    pub fn with_k(mut self, k: usize) -> Self {
        self.k = k;
        self
    }
    /// Whether the initial tour is first improved by global 2-opt + Or-opt.
    pub fn with_initial_local_search(mut self, on: bool) -> Self {
        self.initial_local_search = on;
        self
    }
    /// Sets the wall-clock limit in seconds (stops between rounds; `None`: no limit).
    pub fn with_time_limit(mut self, seconds: Option<f64>) -> Self {
        self.time_limit = seconds;
        self
    }
    /// Sets the master seed of the sub-path solvers.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Cities per sub-path.
    pub fn subpath_len(&self) -> usize {
        self.subpath_len
    }
    /// Decompose-conquer rounds.
    pub fn rounds(&self) -> usize {
        self.rounds
    }
    /// Candidate neighbours per city.
    pub fn k(&self) -> usize {
        self.k
    }
    /// Whether the initial tour gets a global Or-2opt descent.
    pub fn initial_local_search(&self) -> bool {
        self.initial_local_search
    }
    /// Wall-clock limit in seconds.
    pub fn time_limit(&self) -> Option<f64> {
        self.time_limit
    }
    /// Master seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

impl Validate for DcrParams {
    fn validate(&self) -> Result<()> {
        if self.subpath_len < 4 {
            return Err(Error::config(
                "subpath_len",
                format!("must be >= 4, got {}", self.subpath_len),
            ));
        }
        if self.k == 0 {
            return Err(Error::config("k", "must be >= 1, got 0"));
        }
        check_time_limit("time_limit", self.time_limit)
    }
}

/// Per-round progress of a DCR run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DcrRound {
    /// Round index (0 is the initial tour).
    pub round: usize,
    /// Tour length after the round.
    pub length: f64,
    /// Seconds since the start.
    pub seconds: f64,
}

/// The tour of a DCR run and its per-round trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DcrRun {
    /// The final tour.
    pub tour: Tour,
    /// Length and time after the initial tour (round 0) and every round.
    pub trace: Vec<DcrRound>,
}

/// Runs divide-conquer-reunion with `solver` conquering the sub-paths:
/// greedy edge on the k-NN graph, then [`reunion`]. Fails naming the
/// field when `params` are invalid.
pub fn divide_conquer_reunion(
    instance: &Instance,
    params: &DcrParams,
    solver: &dyn SubpathSolver,
) -> Result<DcrRun> {
    params.validate()?;
    let start = Instant::now();
    let nb = Neighbours::new(instance, params.k);
    let order = greedy_edge(instance, &nb).into_vec();
    reunion(instance, order, &nb, params, solver, start)
}

/// DCR from a given initial `order` (validated `params`, `neighbours` of
/// `instance`): the optional global Or-2opt descent, then
/// `params.rounds()` decompose-conquer rounds. `start` is when the run's
/// clock started (the time limit and the trace count from it).
pub(crate) fn reunion(
    instance: &Instance,
    mut order: Vec<usize>,
    nb: &Neighbours,
    params: &DcrParams,
    solver: &dyn SubpathSolver,
    start: Instant,
) -> Result<DcrRun> {
    let n = instance.len();
    if params.initial_local_search {
        let ls = LocalSearchParams::new(Neighbourhood::Or2Opt).with_time_limit(params.time_limit);
        order = improve_unchecked(order, &|a, b| instance.dist(a, b), nb, None, &ls, None).order;
    }
    let mut trace = vec![DcrRound {
        round: 0,
        length: super::tour::tour_length(&order, |a, b| instance.dist(a, b)),
        seconds: start.elapsed().as_secs_f64(),
    }];
    let seeder = Seeder::new(params.seed);
    let len = params.subpath_len.min(n);
    for round in 0..params.rounds {
        if params
            .time_limit
            .is_some_and(|t| start.elapsed().as_secs_f64() > t)
        {
            break;
        }
        // Reunion: shift the cut points by half a sub-path from the previous
        // round's. The rotation is cumulative (the order keeps the previous
        // rounds' rotations), so each round rotates by the same half step.
        order.rotate_left(round_shift(round, len, n));
        let bounds = cut_points(n, len);
        conquer(
            instance,
            &mut order,
            &bounds,
            solver,
            &seeder.child(round as u64),
        );
        trace.push(DcrRound {
            round: round + 1,
            length: super::tour::tour_length(&order, |a, b| instance.dist(a, b)),
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    Ok(DcrRun {
        tour: Tour::new(order, n)?,
        trace,
    })
}

/// How far round `round` rotates the (already rotated) order: nothing in
/// round 0, then half a sub-path, so that every round's cut points sit half
/// a sub-path from the previous round's. (Before issue 21 this was
/// `round * len / 2` on top of the cumulative rotation, so the cut points of
/// every even round repeated the previous round's.)
fn round_shift(round: usize, len: usize, n: usize) -> usize {
    if round == 0 || n == 0 {
        0
    } else {
        (len / 2) % n
    }
}

/// Consecutive sub-paths `[s, e)` of `len` cities covering `0..n`; a last
/// piece under 4 cities is merged into the one before it.
fn cut_points(n: usize, len: usize) -> Vec<(usize, usize)> {
    let mut bounds: Vec<(usize, usize)> =
        (0..n).step_by(len).map(|s| (s, (s + len).min(n))).collect();
    if bounds.len() > 1 {
        if let Some(&(s, e)) = bounds.last() {
            if e - s < 4 {
                bounds.pop();
                if let Some(last) = bounds.last_mut() {
                    last.1 = n;
                }
            }
        }
    }
    bounds
}

/// Conquers every sub-path of `order` in parallel (sub-path `i` draws from
/// `round_seeder.rng(i)`) and keeps a solver's answer only when it is a
/// valid, strictly shorter path with the same end points.
fn conquer(
    instance: &Instance,
    order: &mut [usize],
    bounds: &[(usize, usize)],
    solver: &dyn SubpathSolver,
    round_seeder: &Seeder,
) {
    let current = &*order;
    let solved: Vec<Option<Vec<usize>>> = bounds
        .par_iter()
        .enumerate()
        .map(|(i, &(s, e))| {
            let path = &current[s..e];
            if path.len() < 4 {
                return None;
            }
            let mut rng = round_seeder.rng(i as u64);
            let new = solver.solve(instance, path, &mut rng);
            let valid = new.len() == path.len()
                && new.first() == path.first()
                && new.last() == path.last()
                && is_permutation_of(&new, path);
            (valid && path_length(instance, &new) < path_length(instance, path) - 1e-9)
                .then_some(new)
        })
        .collect();
    for ((s, e), new) in bounds.iter().zip(solved) {
        if let Some(new) = new {
            order[*s..*e].copy_from_slice(&new);
        }
    }
}

fn is_permutation_of(a: &[usize], b: &[usize]) -> bool {
    let mut x = a.to_vec();
    let mut y = b.to_vec();
    x.sort_unstable();
    y.sort_unstable();
    x == y
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn subpath_solvers_keep_end_points_and_improve() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let inst = Instance::random_uniform(60, &mut rng).unwrap();
        let path: Vec<usize> = (0..60).collect();
        let mut r = Seeder::new(0).rng(0);
        let out = LocalSearchSubpath::default().solve(&inst, &path, &mut r);
        assert_eq!(out[0], 0);
        assert_eq!(out[59], 59);
        assert!(is_permutation_of(&out, &path));
        assert!(path_length(&inst, &out) < path_length(&inst, &path));
        let short: Vec<usize> = (0..9).collect();
        let exact = ExactSubpath.solve(&inst, &short, &mut r);
        let ils = LocalSearchSubpath::default()
            .with_exact_below(0)
            .solve(&inst, &short, &mut r);
        assert!(path_length(&inst, &exact) <= path_length(&inst, &ils) + 1e-9);
    }

    #[test]
    fn dcr_improves_and_is_thread_count_independent() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let inst = Instance::random_uniform(600, &mut rng).unwrap();
        let params = DcrParams::default()
            .with_subpath_len(50)
            .with_rounds(3)
            .with_seed(9);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    divide_conquer_reunion(&inst, &params, &LocalSearchSubpath::default()).unwrap()
                })
        };
        let DcrRun { tour: t1, trace } = run(1);
        let t2 = run(2).tour;
        assert_eq!(t1, t2);
        assert!(trace.last().unwrap().length <= trace[0].length);
        assert!((t1.length(&inst) - trace.last().unwrap().length).abs() < 1e-6);
    }

    /// Leaves every sub-path unchanged and records its first city, so a
    /// test can see where each round cut the (unchanged) tour.
    struct RecordCuts(std::sync::Mutex<Vec<usize>>);

    impl SubpathSolver for RecordCuts {
        fn name(&self) -> &str {
            "record-cuts"
        }
        fn solve(&self, _: &Instance, path: &[usize], _: &mut DualityRng) -> Vec<usize> {
            self.0.lock().unwrap().push(path[0]);
            path.to_vec()
        }
    }

    #[test]
    fn every_round_moves_the_cut_points_by_half_a_subpath() {
        // Regression (issue 21): the old cumulative `round * len / 2` shift
        // repeated the cut points of rounds 1 and 2, 3 and 4, ...
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let inst = Instance::random_uniform(600, &mut rng).unwrap();
        let (len, rounds) = (50, 6);
        let params = DcrParams::default()
            .with_subpath_len(len)
            .with_rounds(rounds)
            .with_initial_local_search(false);
        let solver = RecordCuts(std::sync::Mutex::new(Vec::new()));
        let run = divide_conquer_reunion(&inst, &params, &solver).unwrap();
        let starts = solver.0.into_inner().unwrap();
        let per_round = 600 / len;
        assert_eq!(starts.len(), rounds * per_round);
        // The tour never changed, so a city's position identifies a cut.
        let pos: Vec<usize> = {
            let mut p = vec![0; 600];
            for (i, &c) in run.tour.cities().iter().enumerate() {
                p[c] = i;
            }
            p
        };
        let residues: Vec<usize> = starts
            .chunks(per_round)
            .enumerate()
            .map(|(r, chunk)| {
                let set: std::collections::BTreeSet<usize> =
                    chunk.iter().map(|&c| pos[c] % len).collect();
                assert_eq!(set.len(), 1, "round {r} cut at residues {set:?}");
                set.into_iter().next().unwrap()
            })
            .collect();
        for r in 1..rounds {
            let (a, b) = (residues[r - 1], residues[r]);
            assert_eq!((a + len - b) % len, len / 2, "rounds {} and {r}", r - 1);
        }
    }

    #[test]
    fn invalid_params_name_the_field() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let inst = Instance::random_uniform(30, &mut rng).unwrap();
        let solver = LocalSearchSubpath::default();
        for (p, field) in [
            (DcrParams::default().with_subpath_len(3), "subpath_len"),
            (DcrParams::default().with_k(0), "k"),
            (
                DcrParams::default().with_time_limit(Some(-1.0)),
                "time_limit",
            ),
        ] {
            let e = divide_conquer_reunion(&inst, &p, &solver).unwrap_err();
            assert!(e.to_string().contains(field), "{e}");
        }
        assert_eq!(cut_points(10, 4), vec![(0, 4), (4, 10)]);
        assert_eq!(cut_points(12, 4), vec![(0, 4), (4, 8), (8, 12)]);
    }
}
