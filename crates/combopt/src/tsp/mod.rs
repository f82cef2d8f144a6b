//! The travelling salesman problem: instances, TSPLIB I/O, construction
//! heuristics, 2-opt / Or-opt local search, exact DP and
//! divide-conquer-reunion for large instances.

pub mod construct;
pub mod dcr;
pub mod exact;
pub mod instance;
pub mod knn;
pub mod local_search;
pub mod tour;
pub mod tsplib;

use std::time::Instant;

use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

pub use construct::{
    greedy_edge, insertion, nearest_neighbour, space_filling_curve, InsertionRule,
};
pub use dcr::{divide_conquer_reunion, DcrParams, ExactSubpath, LocalSearchSubpath, SubpathSolver};
pub use instance::{Instance, Metric};
pub use knn::Neighbours;
pub use local_search::{
    improve, iterated_local_search, IlsParams, IlsStats, LocalSearchParams, Neighbourhood,
};
pub use tour::Tour;
pub use tsplib::{parse_tsp, read_optima, read_tsp, write_tsp, KnownOptimum};

/// A TSP solution method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Method {
    /// Nearest neighbour from city 0.
    NearestNeighbour,
    /// Greedy edge matching on the k-NN graph.
    Greedy,
    /// Cheapest insertion.
    CheapestInsertion,
    /// Farthest insertion.
    FarthestInsertion,
    /// Hilbert space-filling-curve order.
    SpaceFillingCurve,
    /// Greedy, then 2-opt.
    TwoOpt,
    /// Greedy, then Or-opt.
    OrOpt,
    /// Greedy, then 2-opt and Or-opt combined: the plain local optimum.
    Or2Opt,
    /// Iterated local search over Or-2opt: greedy, Or-2opt, then
    /// segment-local double-bridge kicks each repaired by Or-2opt and kept
    /// when shorter ([`iterated_local_search`]; budget [`SolveParams::kicks`]).
    Or2OptIls,
    /// Divide-conquer-reunion (greedy + Or-2opt, then sub-path ILS rounds).
    Dcr,
}

impl Method {
    /// Every method, in report order.
    pub const ALL: [Method; 10] = [
        Method::NearestNeighbour,
        Method::Greedy,
        Method::CheapestInsertion,
        Method::FarthestInsertion,
        Method::SpaceFillingCurve,
        Method::TwoOpt,
        Method::OrOpt,
        Method::Or2Opt,
        Method::Or2OptIls,
        Method::Dcr,
    ];

    /// Short name used by the CLI and reports.
    pub fn name(self) -> &'static str {
        match self {
            Method::NearestNeighbour => "nn",
            Method::Greedy => "greedy",
            Method::CheapestInsertion => "cheapest-insertion",
            Method::FarthestInsertion => "insertion",
            Method::SpaceFillingCurve => "sfc",
            Method::TwoOpt => "2opt",
            Method::OrOpt => "oropt",
            Method::Or2Opt => "or2opt",
            Method::Or2OptIls => "or2opt-ils",
            Method::Dcr => "dcr",
        }
    }
}

impl std::str::FromStr for Method {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .or(match s {
                "farthest-insertion" => Some(Method::FarthestInsertion),
                _ => None,
            })
            .ok_or_else(|| {
                let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
                Error::invalid("method", s, format!("one of {}", names.join(", ")))
            })
    }
}

/// Options of [`solve`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolveParams {
    /// The method.
    pub method: Method,
    /// Candidate neighbours per city.
    pub k: usize,
    /// Wall-clock limit in seconds for the improvement phase.
    pub time_limit: Option<f64>,
    /// Seed (used by the kicks of `or2opt-ils` and DCR's perturbations).
    pub seed: u64,
    /// Kicks of `or2opt-ils` (`None`: [`default_kicks`] of the instance size).
    #[serde(default)]
    pub kicks: Option<usize>,
    /// DCR options (its `time_limit` and `seed` are taken from here).
    pub dcr: DcrParams,
}

impl Default for SolveParams {
    fn default() -> Self {
        SolveParams {
            method: Method::Or2Opt,
            k: 10,
            time_limit: None,
            seed: 0,
            kicks: None,
            dcr: DcrParams::default(),
        }
    }
}

impl SolveParams {
    /// Parameters for `method` with defaults otherwise.
    pub fn new(method: Method) -> Self {
        SolveParams {
            method,
            ..Default::default()
        }
    }
    /// Sets the time limit.
    pub fn time_limit(mut self, seconds: Option<f64>) -> Self {
        self.time_limit = seconds;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Sets the kick budget of `or2opt-ils`.
    pub fn kicks(mut self, kicks: Option<usize>) -> Self {
        self.kicks = kicks;
        self
    }
}

/// Default kick budget of [`Method::Or2OptIls`] for `n` cities: `KICKS_PER_CITY * n`,
/// at least `MIN_KICKS`.
pub fn default_kicks(n: usize) -> usize {
    (KICKS_PER_CITY * n).max(MIN_KICKS)
}

/// Kicks per city of the default `or2opt-ils` budget.
pub const KICKS_PER_CITY: usize = 10;
/// Smallest default `or2opt-ils` budget.
pub const MIN_KICKS: usize = 1_000;

/// A solved tour with its length and wall-clock time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Solution {
    /// The tour (0-based, file order ids).
    pub tour: Tour,
    /// Its length.
    pub length: f64,
    /// Seconds spent.
    pub seconds: f64,
}

/// Solves `instance` with the chosen method.
pub fn solve(instance: &Instance, params: &SolveParams) -> Result<Solution> {
    duality_core::check::at_least("k", params.k, 1)?;
    if let Some(t) = params.time_limit {
        duality_core::check::positive("time_limit", t)?;
    }
    let start = Instant::now();
    let local = |nh: Neighbourhood| -> Tour {
        let nb = Neighbours::new(instance, params.k);
        let init = greedy_edge(instance, &nb).into_vec();
        let ls = LocalSearchParams {
            neighbourhood: nh,
            time_limit: params.time_limit,
            ..Default::default()
        };
        let (order, _) = improve(init, &|a, b| instance.dist(a, b), &nb, None, &ls);
        Tour::from_permutation(order)
    };
    let tour = match params.method {
        Method::NearestNeighbour => nearest_neighbour(instance, 0),
        Method::Greedy => greedy_edge(instance, &Neighbours::new(instance, params.k)),
        Method::CheapestInsertion => insertion(instance, InsertionRule::Cheapest),
        Method::FarthestInsertion => insertion(instance, InsertionRule::Farthest),
        Method::SpaceFillingCurve => space_filling_curve(instance),
        Method::TwoOpt => local(Neighbourhood::TwoOpt),
        Method::OrOpt => local(Neighbourhood::OrOpt),
        Method::Or2Opt => local(Neighbourhood::Or2Opt),
        Method::Or2OptIls => {
            let nb = Neighbours::new(instance, params.k);
            let init = greedy_edge(instance, &nb).into_vec();
            let ils = IlsParams {
                kicks: params
                    .kicks
                    .unwrap_or_else(|| default_kicks(instance.len())),
                time_limit: params.time_limit,
                ..Default::default()
            };
            let mut rng = duality_core::seed::Seeder::new(params.seed).rng(0);
            let (order, _) = iterated_local_search(
                init,
                &|a, b| instance.dist(a, b),
                &nb,
                None,
                &ils,
                &mut rng,
            )?;
            Tour::from_permutation(order)
        }
        Method::Dcr => {
            let mut p = params.dcr.clone();
            p.k = params.k;
            p.seed = params.seed;
            p.time_limit = params.time_limit.or(p.time_limit);
            divide_conquer_reunion(instance, &p, &LocalSearchSubpath::default())?.0
        }
    };
    let length = tour.length(instance);
    Ok(Solution {
        tour,
        length,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Relative gap `(length - optimum) / optimum` in percent.
pub fn gap_percent(length: f64, optimum: f64) -> f64 {
    100.0 * (length - optimum) / optimum
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn or2opt_matches_exact_dp_most_of_the_time() {
        let mut hits = 0;
        let trials = 20;
        for seed in 0..trials {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(100 + seed);
            let inst = Instance::random_uniform(11, &mut rng).unwrap();
            let (opt, _) = exact::held_karp_tour(11, |a, b| inst.dist(a, b)).unwrap();
            let sol = solve(&inst, &SolveParams::new(Method::Or2Opt)).unwrap();
            assert!(sol.length >= opt - 1e-9);
            if sol.length <= opt + 1e-9 {
                hits += 1;
            }
        }
        assert!(hits * 2 > trials, "or2opt optimal on {hits}/{trials}");
    }

    #[test]
    fn or2opt_ils_with_zero_kicks_is_plain_or2opt_and_kicks_help() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let inst = Instance::random_uniform(300, &mut rng).unwrap();
        let plain = solve(&inst, &SolveParams::new(Method::Or2Opt)).unwrap();
        let zero = solve(&inst, &SolveParams::new(Method::Or2OptIls).kicks(Some(0))).unwrap();
        assert_eq!(plain.tour, zero.tour);
        let p = SolveParams::new(Method::Or2OptIls)
            .seed(3)
            .kicks(Some(2_000));
        let ils = solve(&inst, &p).unwrap();
        assert_eq!(solve(&inst, &p).unwrap().tour, ils.tour);
        assert!(Tour::new(ils.tour.cities().to_vec(), 300).is_ok());
        assert!(ils.length < plain.length);
        assert!(default_kicks(10) == MIN_KICKS && default_kicks(1_000) == 10_000);
    }

    #[test]
    fn or2opt_ils_matches_exact_dp_almost_always() {
        let mut hits = 0;
        for seed in 0..20 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(300 + seed);
            let inst = Instance::random_uniform(12, &mut rng).unwrap();
            let (opt, _) = exact::held_karp_tour(12, |a, b| inst.dist(a, b)).unwrap();
            let sol = solve(&inst, &SolveParams::new(Method::Or2OptIls).seed(seed)).unwrap();
            assert!(sol.length >= opt - 1e-9);
            if sol.length <= opt + 1e-9 {
                hits += 1;
            }
        }
        assert!(hits >= 18, "or2opt-ils optimal on {hits}/20");
    }

    #[test]
    fn every_method_runs_and_method_names_parse() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let inst = Instance::random_uniform(120, &mut rng).unwrap();
        for m in Method::ALL {
            let mut p = SolveParams::new(m);
            p.dcr = p.dcr.subpath_len(30).rounds(2);
            let sol = solve(&inst, &p).unwrap();
            assert_eq!(sol.tour.len(), 120);
            assert!((sol.length - sol.tour.length(&inst)).abs() < 1e-9);
            assert_eq!(m.name().parse::<Method>().unwrap(), m);
        }
        assert!("bogus"
            .parse::<Method>()
            .unwrap_err()
            .to_string()
            .contains("bogus"));
    }
}
