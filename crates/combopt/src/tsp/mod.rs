//! The travelling salesman problem: instances, TSPLIB I/O, construction
//! heuristics, 2-opt / Or-opt / 2h-opt local search, iterated local search,
//! exact DP and divide-conquer-reunion for large instances.
//!
//! A *method* is a named [`Pipeline`]: one [`TourBuilder`] then a chain of
//! [`TourImprover`]s. [`methods`] is the process's table: the built-in
//! methods plus those added by [`register_method`] (the neural `udc` by
//! [`register_torch_methods`], feature `torch`); [`solve`] looks
//! [`SolveParams::method`] up in it (an unknown name is an error listing the
//! registered ones). [`Registry`] is a local copy that takes more pipelines.
//!
//! ```
//! use duality_combopt::tsp::{methods, solve, Instance, SolveParams};
//! use duality_core::seed::Seeder;
//!
//! let inst = Instance::random_uniform(200, &mut Seeder::new(1).rng(0))?;
//! let greedy = solve(&inst, &SolveParams::new("greedy"))?;
//! let ils = solve(&inst, &SolveParams::new("or2opt-ils").with_seed(7))?;
//! assert!(ils.length < greedy.length);
//! assert!(methods().iter().any(|m| m.name() == "dcr" && m.is_seeded()));
//! let err = solve(&inst, &SolveParams::new("bogus")).unwrap_err().to_string();
//! assert!(err.contains("bogus") && err.contains("or2opt"));
//! # Ok::<(), duality_combopt::Error>(())
//! ```

mod bound;
mod builtin;
mod construct;
mod dcr;
mod exact;
mod instance;
mod knn;
mod local_search;
mod pipeline;
mod tour;
mod tsplib;
mod two_h_opt;
#[cfg(feature = "torch")]
mod udc;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError, RwLock};

use duality_core::config::Validate;
use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

pub use bound::{certified_gap, held_karp_bound, BoundParams, LowerBound};
pub use builtin::{
    default_ils_params, default_kicks, ils_on_instance, DcrImprover, GreedyBuilder, IlsImprover,
    InsertionBuilder, LocalSearchImprover, NearestNeighbourBuilder, SpaceFillingCurveBuilder,
    ILS_MAX_KICK_SEGMENT, KICKS_PER_CITY, MIN_KICKS,
};
pub use construct::{
    greedy_edge, insertion, nearest_neighbour, space_filling_curve, InsertionRule,
};
pub use dcr::{
    divide_conquer_reunion, path_length, DcrParams, DcrRound, DcrRun, ExactSubpath,
    LocalSearchSubpath, SubpathSolver,
};
pub use exact::{held_karp_path, held_karp_tour, ExactTour, MAX_EXACT};
pub use instance::{Instance, Metric};
pub use knn::Neighbours;
pub use local_search::{
    improve, improve_from, iterated_local_search, IlsParams, IlsRun, IlsStats, Kick, LocalOptimum,
    LocalSearchParams, Neighbourhood,
};
pub use pipeline::{Pipeline, Registry, SolveContext, TourBuilder, TourImprover};
pub use tour::Tour;
pub use tsplib::{
    parse_tsp, read_optima, read_tsp, to_tsplib, tour_to_tsplib, write_tsp, KnownOptimum,
};
pub use two_h_opt::TwoHOptImprover;
#[cfg(feature = "torch")]
pub use udc::{
    train_udc, Reward, UdcBuilder, UdcConfig, UdcPolicy, UdcTrainParams, UdcTrainRun, UdcTrainStep,
    MAX_CITIES as UDC_MAX_CITIES, SHIPPED_CHECKPOINT, SHIPPED_DIVIDE_ONLY,
};

use local_search::Neighbourhood::{Or2Opt, OrOpt, TwoOpt};

/// The built-in methods, in report order. Names are stable: the CLI's
/// `--method`, the bench records and headline names use them.
static METHODS: &[Pipeline] = &[
    Pipeline::new(
        "nn",
        "nearest neighbour from city 0",
        &NearestNeighbourBuilder,
        &[],
    ),
    Pipeline::new(
        "greedy",
        "greedy edge matching on the k-NN graph",
        &GreedyBuilder,
        &[],
    ),
    Pipeline::new(
        "cheapest-insertion",
        "cheapest insertion",
        &InsertionBuilder(InsertionRule::Cheapest),
        &[],
    ),
    Pipeline::new(
        "insertion",
        "farthest insertion",
        &InsertionBuilder(InsertionRule::Farthest),
        &[],
    )
    .with_aliases(&["farthest-insertion"]),
    Pipeline::new(
        "sfc",
        "Hilbert space-filling-curve order",
        &SpaceFillingCurveBuilder,
        &[],
    ),
    Pipeline::new(
        "2opt",
        "greedy, then 2-opt",
        &GreedyBuilder,
        &[&LocalSearchImprover(TwoOpt)],
    ),
    Pipeline::new(
        "oropt",
        "greedy, then Or-opt",
        &GreedyBuilder,
        &[&LocalSearchImprover(OrOpt)],
    ),
    Pipeline::new(
        "or2opt",
        "greedy, then 2-opt + Or-opt to a local optimum",
        &GreedyBuilder,
        &[&LocalSearchImprover(Or2Opt)],
    ),
    Pipeline::new(
        "or2opt-ils",
        "greedy, then iterated local search over Or-3opt (segment-local double-bridge kicks)",
        &GreedyBuilder,
        &[&IlsImprover],
    )
    .seeded(),
    Pipeline::new(
        "dcr",
        "greedy + Or-2opt, then divide-conquer-reunion rounds of sub-path ILS",
        &GreedyBuilder,
        &[&DcrImprover],
    )
    .seeded(),
    Pipeline::new(
        "2hopt",
        "greedy, then 2h-opt (2-opt + node insertion, Bentley 1992)",
        &GreedyBuilder,
        &[&TwoHOptImprover],
    ),
];

/// The methods of this process: [`METHODS`] plus those added by
/// [`register_method`], in report order. Each registration stores a new
/// leaked slice (a handful per process), so [`methods`] hands out
/// `&'static` slices without holding the lock.
static REGISTERED: RwLock<&'static [Pipeline]> = RwLock::new(METHODS);

/// Every method of this process, in report order (what `duality tsp
/// methods` lists): the built-in, torch-free table, then those added by
/// [`register_method`] (e.g. `udc` by [`register_torch_methods`]).
///
/// The neural methods are registered at run time rather than listed in the
/// static table so that a binary which never calls
/// [`register_torch_methods`] never reaches libtorch, even when this crate
/// is compiled with its `torch` feature (a workspace build with unified
/// features): the linker then drops `libtorch_cpu.so` from its `DT_NEEDED`
/// and start-up does not load it (issue #26, `crates/cli/README.md`).
pub fn methods() -> &'static [Pipeline] {
    *REGISTERED.read().unwrap_or_else(PoisonError::into_inner)
}

/// Adds `pipeline` to this process's methods ([`methods`], [`solve`],
/// [`Registry::builtin`]). Fails, changing nothing, when its name or an
/// alias is already taken.
pub fn register_method(pipeline: Pipeline) -> Result<()> {
    // One writer at a time: the copy below is read, extended and stored
    // without another registration in between.
    static WRITER: Mutex<()> = Mutex::new(());
    let _writer = WRITER.lock().unwrap_or_else(PoisonError::into_inner);
    let mut registry = Registry::builtin();
    registry.register(pipeline)?;
    let all: &'static [Pipeline] = Box::leak(registry.pipelines().to_vec().into_boxed_slice());
    *REGISTERED.write().unwrap_or_else(PoisonError::into_inner) = all;
    Ok(())
}

/// The neural method `udc` (UDC, Zheng et al. 2024: the AGNN divide policy,
/// then the dcr improver).
#[cfg(feature = "torch")]
const UDC: Pipeline = Pipeline::new(
    "udc",
    "UDC: neural divide (AGNN policy on the k-NN graph, shipped or --udc-model checkpoint), then the dcr improver",
    &UdcBuilder,
    &[&DcrImprover],
)
.seeded();

/// Registers the methods that need libtorch (`udc`) with this process's
/// [`methods`]; calling it again changes nothing. Call it where they are
/// wanted (the `duality-torch` binary, bench experiments, tests); a binary
/// that never calls it does not link libtorch through this module.
#[cfg(feature = "torch")]
pub fn register_torch_methods() {
    // Only the name check can fail, and only on a second call.
    if !methods().iter().any(|m| m.answers_to(UDC.name())) {
        let _ = register_method(UDC);
    }
}

/// Options of [`solve`]: the method's name plus the settings its stages
/// read. Built with [`SolveParams::new`] and the `with_*` setters; checked
/// once per solve by [`Validate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SolveParams {
    method: String,
    k: usize,
    time_limit: Option<f64>,
    seed: u64,
    kicks: Option<usize>,
    dcr: DcrParams,
    udc_model: Option<PathBuf>,
}

impl Default for SolveParams {
    fn default() -> Self {
        SolveParams {
            method: "or2opt".into(),
            k: 10,
            time_limit: None,
            seed: 0,
            kicks: None,
            dcr: DcrParams::default(),
            udc_model: None,
        }
    }
}

impl SolveParams {
    /// Parameters for the method called `method` (a [`methods`] name),
    /// defaults otherwise.
    pub fn new(method: impl Into<String>) -> Self {
        SolveParams {
            method: method.into(),
            ..Default::default()
        }
    }
    /// Sets the method name.
    pub fn with_method(mut self, method: impl Into<String>) -> Self {
        self.method = method.into();
        self
    }
    /// Sets the candidate neighbours per city (at least 1).
    pub fn with_k(mut self, k: usize) -> Self {
        self.k = k;
        self
    }
    /// Sets the wall-clock limit in seconds of the improvement phase.
    pub fn with_time_limit(mut self, seconds: Option<f64>) -> Self {
        self.time_limit = seconds;
        self
    }
    /// Sets the seed (read by seeded stages: `or2opt-ils` kicks, DCR).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Sets the kick budget of `or2opt-ils` (`None`: [`default_kicks`]).
    pub fn with_kicks(mut self, kicks: Option<usize>) -> Self {
        self.kicks = kicks;
        self
    }
    /// Sets the DCR options (its `k`, seed and time limit are taken from here).
    pub fn with_dcr(mut self, dcr: DcrParams) -> Self {
        self.dcr = dcr;
        self
    }
    /// Sets the checkpoint of the `udc` method's divide policy (`None`: the
    /// shipped one).
    pub fn with_udc_model(mut self, path: Option<PathBuf>) -> Self {
        self.udc_model = path;
        self
    }
    /// The checkpoint of the `udc` method (`None`: the shipped one).
    pub fn udc_model(&self) -> Option<&Path> {
        self.udc_model.as_deref()
    }
    /// The method name.
    pub fn method(&self) -> &str {
        &self.method
    }
    /// Candidate neighbours per city.
    pub fn k(&self) -> usize {
        self.k
    }
    /// Wall-clock limit of the improvement phase.
    pub fn time_limit(&self) -> Option<f64> {
        self.time_limit
    }
    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Kick budget of `or2opt-ils`.
    pub fn kicks(&self) -> Option<usize> {
        self.kicks
    }
    /// DCR options.
    pub fn dcr(&self) -> &DcrParams {
        &self.dcr
    }
}

impl Validate for SolveParams {
    fn validate(&self) -> Result<()> {
        if self.k == 0 {
            return Err(Error::config("k", "must be >= 1, got 0"));
        }
        if let Some(t) = self.time_limit {
            if !(t.is_finite() && t > 0.0) {
                return Err(Error::config(
                    "time_limit",
                    format!("must be a finite number of seconds > 0, got {t}"),
                ));
            }
        }
        self.dcr.validate().map_err(|e| e.in_field("dcr"))
    }
}

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

/// Solves `instance` with the method (built-in or registered, [`methods`])
/// named by [`SolveParams::method`]. Fails on an unknown name (listing the
/// registered ones) or invalid parameters (naming the field).
pub fn solve(instance: &Instance, params: &SolveParams) -> Result<Solution> {
    pipeline::find(methods(), params.method())?.run(instance, params)
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
            let opt = held_karp_tour(11, |a, b| inst.dist(a, b)).unwrap().length;
            let sol = solve(&inst, &SolveParams::new("or2opt")).unwrap();
            assert!(sol.length >= opt - 1e-9);
            if sol.length <= opt + 1e-9 {
                hits += 1;
            }
        }
        assert!(hits * 2 > trials, "or2opt optimal on {hits}/{trials}");
    }

    #[test]
    fn or2opt_ils_with_zero_kicks_is_the_or3opt_local_optimum_and_kicks_help() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let inst = Instance::random_uniform(300, &mut rng).unwrap();
        let plain = solve(&inst, &SolveParams::new("or2opt")).unwrap();
        let zero = solve(&inst, &SolveParams::new("or2opt-ils").with_kicks(Some(0))).unwrap();
        // Zero kicks: the Or-3opt local optimum from the same greedy tour.
        let nb = Neighbours::new(&inst, SolveParams::default().k());
        let or3 = improve(
            greedy_edge(&inst, &nb).into_vec(),
            &|a, b| inst.dist(a, b),
            &nb,
            None,
            &LocalSearchParams::new(Neighbourhood::Or3Opt),
        )
        .unwrap();
        assert_eq!(zero.tour.cities(), &or3.order[..]);
        let p = SolveParams::new("or2opt-ils")
            .with_seed(3)
            .with_kicks(Some(2_000));
        let ils = solve(&inst, &p).unwrap();
        assert_eq!(solve(&inst, &p).unwrap().tour, ils.tour);
        assert!(Tour::new(ils.tour.cities().to_vec(), 300).is_ok());
        assert!(ils.length < plain.length);
        assert!(default_kicks(10) == MIN_KICKS && default_kicks(1_000) == 13_000);
    }

    #[test]
    fn or2opt_ils_matches_exact_dp_almost_always() {
        let mut hits = 0;
        for seed in 0..20 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(300 + seed);
            let inst = Instance::random_uniform(12, &mut rng).unwrap();
            let opt = held_karp_tour(12, |a, b| inst.dist(a, b)).unwrap().length;
            let sol = solve(&inst, &SolveParams::new("or2opt-ils").with_seed(seed)).unwrap();
            assert!(sol.length >= opt - 1e-9);
            if sol.length <= opt + 1e-9 {
                hits += 1;
            }
        }
        assert!(hits >= 18, "or2opt-ils optimal on {hits}/20");
    }

    #[test]
    fn every_method_runs_and_never_lengthens_its_builder_tour() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let inst = Instance::random_uniform(120, &mut rng).unwrap();
        let dcr = DcrParams::default().with_subpath_len(30).with_rounds(2);
        for m in methods() {
            let p = SolveParams::new(m.name()).with_dcr(dcr.clone());
            let sol = solve(&inst, &p).unwrap();
            assert_eq!(sol.tour.len(), 120);
            assert!((sol.length - sol.tour.length(&inst)).abs() < 1e-9);
            let built = Pipeline::new("b", "builder only", m.builder(), &[])
                .run(&inst, &p)
                .unwrap();
            assert!(sol.length <= built.length + 1e-9, "{}", m.name());
            if !m.is_seeded() {
                assert_eq!(
                    solve(&inst, &p.clone().with_seed(5)).unwrap().tour,
                    sol.tour
                );
            }
        }
        let alias = solve(&inst, &SolveParams::new("farthest-insertion")).unwrap();
        assert_eq!(
            alias.tour,
            solve(&inst, &SolveParams::new("insertion")).unwrap().tour
        );
        let e = solve(&inst, &SolveParams::new("bogus"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("bogus") && e.contains("2hopt") && e.contains("dcr"),
            "{e}"
        );
    }

    #[test]
    fn params_are_validated_naming_the_field() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
        let inst = Instance::random_uniform(20, &mut rng).unwrap();
        for (p, field) in [
            (SolveParams::new("greedy").with_k(0), "k"),
            (
                SolveParams::new("2opt").with_time_limit(Some(0.0)),
                "time_limit",
            ),
            (
                SolveParams::new("dcr").with_dcr(DcrParams::default().with_subpath_len(2)),
                "dcr.subpath_len",
            ),
        ] {
            let e = solve(&inst, &p).unwrap_err().to_string();
            assert!(e.contains(field), "{e}");
        }
        let p: SolveParams = toml_like("or2opt-ils");
        assert_eq!(p.method(), "or2opt-ils");
        assert_eq!(p.k(), 10);
    }

    fn toml_like(method: &str) -> SolveParams {
        serde_json::from_value(serde_json::json!({ "method": method, "seed": 3 })).unwrap()
    }

    #[test]
    fn registered_methods_are_listed_and_solved_and_names_stay_unique() {
        const SFC: Pipeline = Pipeline::new(
            "test-sfc-2opt",
            "space-filling curve, then 2-opt (registered by a test)",
            &SpaceFillingCurveBuilder,
            &[&LocalSearchImprover(TwoOpt)],
        );
        let before = methods().len();
        register_method(SFC).unwrap();
        assert_eq!(methods().len(), before + 1);
        assert!(Registry::builtin().get("test-sfc-2opt").is_ok());
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let inst = Instance::random_uniform(50, &mut rng).unwrap();
        assert_eq!(
            solve(&inst, &SolveParams::new("test-sfc-2opt"))
                .unwrap()
                .tour
                .len(),
            50
        );
        let e = register_method(SFC).unwrap_err().to_string();
        assert!(e.contains("test-sfc-2opt"), "{e}");
        let e = register_method(Pipeline::new("or2opt", "dup", &GreedyBuilder, &[])).unwrap_err();
        assert!(e.to_string().contains("or2opt"), "{e}");
        assert_eq!(methods().len(), before + 1);
        assert!(METHODS.iter().all(|m| m.name() != "udc"));
    }

    #[test]
    fn a_registry_takes_new_pipelines_but_not_duplicate_names() {
        let mut r = Registry::builtin();
        assert_eq!(r.pipelines().len(), methods().len());
        let e = r
            .register(Pipeline::new("or2opt", "dup", &GreedyBuilder, &[]))
            .unwrap_err();
        assert!(e.to_string().contains("or2opt"), "{e}");
        r.register(Pipeline::new(
            "sfc-2opt",
            "space-filling curve, then 2-opt",
            &SpaceFillingCurveBuilder,
            &[&LocalSearchImprover(TwoOpt)],
        ))
        .unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let inst = Instance::random_uniform(150, &mut rng).unwrap();
        let sfc = solve(&inst, &SolveParams::new("sfc")).unwrap();
        let both = r.solve(&inst, &SolveParams::new("sfc-2opt")).unwrap();
        assert!(both.length < sfc.length);
        assert_eq!(r.get("sfc-2opt").unwrap().stages(), vec!["sfc", "2opt"]);
        assert!(solve(&inst, &SolveParams::new("sfc-2opt")).is_err());
    }
}
