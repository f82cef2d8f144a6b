//! Issue 25 regression tests: one per class of bad input the hostile-user
//! sweep found in distdp. Huge sizes are refused before allocating, with an
//! error naming the field; non-finite inputs and overflowing results are
//! errors; unknown MDP keys are errors with a suggestion.

use duality_distdp::classic::IterParams;
use duality_distdp::mdp::{FiniteMdp, Outcome};
use duality_distdp::prelude::*;
use duality_distdp::stopping::{binomial_price, Basis, DualParams, Exercise, LsmcParams};

fn err<T: std::fmt::Debug>(r: duality_core::Result<T>) -> String {
    r.expect_err("expected an error").to_string()
}

/// A one-state MDP with two actions paying `r0` and `r1`.
fn two_armed(
    r0: f64,
    r1: f64,
    gamma: f64,
    horizon: Option<usize>,
) -> duality_core::Result<FiniteMdp> {
    let o = |r| {
        vec![Outcome {
            next: 0,
            reward: r,
            prob: 1.0,
        }]
    };
    FiniteMdp::builder(vec![vec![o(r0), o(r1)]], gamma)
        .horizon(horizon)
        .build()
}

#[test]
fn huge_mdp_sizes_are_refused_before_allocating() {
    // 10^5 x 10^5 grew to 11.7 GB before aborting; now a memory-budget error.
    let toml = "states = 100000\nactions = 100000\ngamma = 0.9\n";
    let e = err(FiniteMdp::from_toml_str(toml, "big.toml"));
    assert!(e.contains("states x actions"), "{e}");
    let json = r#"{"states": 1000000000000, "actions": 1000000000000, "gamma": 0.9}"#;
    let e = err(FiniteMdp::from_json_str(json, "big.json"));
    assert!(e.contains("states x actions"), "{e}");
    let toml = "states = 1\nactions = 1\ngamma = 1.0\nhorizon = 1000000000000\nterminal = [0]\n";
    let e = err(FiniteMdp::from_toml_str(toml, "long.toml"));
    assert!(e.contains("horizon") && e.contains("1000000"), "{e}");
}

#[test]
fn default_exact_representation_is_capped() {
    // gamma 0.5 over 28 steps: every return is distinct (2^28 atoms).
    let mdp = two_armed(0.0, 1.0, 0.5, Some(28)).unwrap();
    let spec = SolveSpec::new(
        "expectation".parse().unwrap(),
        StockModel::Buckets(101),
        RepresentationSpec::Exact.resolve(&mdp).unwrap(),
    )
    .unwrap();
    let e = err(solve(&mdp, &spec));
    assert!(
        e.contains("representation exact") && e.contains("categorical"),
        "{e}"
    );
    // The exact stock model is capped the same way.
    let spec = SolveSpec::new(
        "threshold:1".parse().unwrap(),
        StockModel::Exact,
        Representation::Exact { budget: None },
    )
    .unwrap();
    let e = err(solve(&mdp, &spec));
    assert!(e.contains("stock exact"), "{e}");
    // A budget solves it.
    let spec = SolveSpec::new(
        "expectation".parse().unwrap(),
        StockModel::Buckets(1),
        "exact:64"
            .parse::<RepresentationSpec>()
            .unwrap()
            .resolve(&mdp)
            .unwrap(),
    )
    .unwrap();
    assert!(solve(&mdp, &spec).is_ok());
}

#[test]
fn huge_buckets_and_atoms_are_refused() {
    let mdp = two_armed(0.0, 1.0, 0.9, Some(5)).unwrap();
    let spec = SolveSpec::new(
        "cvar:0.1".parse().unwrap(),
        "grid:1000000000000".parse().unwrap(),
        Representation::Quantile { n: 11 },
    )
    .unwrap();
    let e = err(solve(&mdp, &spec));
    assert!(e.contains("buckets"), "{e}");
    let e = err("categorical:1000000000000".parse::<RepresentationSpec>());
    assert!(
        e.contains("representation size") && e.contains("1000000"),
        "{e}"
    );
}

#[test]
fn price_sizes_are_checked() {
    let e = err(LsmcParams::default().paths(1_000_000_000_000).validate_ok());
    assert!(e.contains("paths"), "{e}");
    let e = err(LsmcParams::default()
        .exercise_dates(1_000_000_000_000)
        .validate_ok());
    assert!(e.contains("exercise_dates"), "{e}");
    let e = err("laguerre:1000000000000".parse::<Basis>());
    assert!(e.contains("basis degree"), "{e}");
    let put = PutOption::default();
    let e = err(binomial_price(&put, Exercise::American, 1_000_000_000_000));
    assert!(e.contains("lattice steps"), "{e}");
    let lsmc = LsmcParams::default().exercise_dates(10).paths(100);
    let dual = DualParams::new(100, 1_000_000_000, 1_000_000_000, 1).unwrap();
    let e = err(price_interval(&put, &PriceProcess::Gbm, &lsmc, &dual));
    assert!(e.contains("outer paths x inner paths"), "{e}");
    let dual = DualParams::new(1_000_000_000_000, 10, 10, 1).unwrap();
    let e = err(price_interval(&put, &PriceProcess::Gbm, &lsmc, &dual));
    assert!(e.contains("lower paths"), "{e}");
}

/// `validate` as a `Result<()>` for the builder-style params.
trait ValidateOk {
    fn validate_ok(&self) -> duality_core::Result<()>;
}
impl ValidateOk for LsmcParams {
    fn validate_ok(&self) -> duality_core::Result<()> {
        use duality_core::config::Validate;
        self.validate()
    }
}

#[test]
fn non_finite_parameters_are_rejected() {
    for g in [f64::NAN, f64::INFINITY, -1.0] {
        let e = err(two_armed(0.0, 1.0, g, None));
        assert!(e.contains("gamma"), "{e}");
    }
    assert!(err(IterParams::new(f64::NAN, 10)).contains("tol"));
    let e = err(two_armed(f64::NAN, 1.0, 0.9, None));
    assert!(e.contains("reward"), "{e}");
    let put = PutOption {
        s0: f64::INFINITY,
        ..PutOption::default()
    };
    let e = err(binomial_price(&put, Exercise::European, 100));
    assert!(e.contains("s0"), "{e}");
    assert!("cvar:nan".parse::<Objective>().is_err());
    // A rate that breaks the lattice names the flags typed, not "steps".
    let put = PutOption {
        rate: 1000.0,
        ..PutOption::default()
    };
    let e = err(binomial_price(&put, Exercise::American, 2000));
    assert!(
        e.contains("rate") && e.contains("1000") && !e.contains("steps ="),
        "{e}"
    );
}

#[test]
fn overflowing_returns_and_objectives_are_errors() {
    // Finite rewards whose discounted sum overflows.
    let e = err(two_armed(1e308, 1e308, 1.0, Some(3)));
    assert!(e.contains("return bounds"), "{e}");
    // An exponential utility that overflows on these rewards.
    let mdp = two_armed(-10.0, -20.0, 1.0, Some(4)).unwrap();
    let spec = SolveSpec::new(
        "utility:exp:100".parse().unwrap(),
        StockModel::Exact,
        Representation::Exact { budget: None },
    )
    .unwrap();
    let e = err(solve(&mdp, &spec));
    assert!(
        e.contains("objective value") && e.contains("overflow"),
        "{e}"
    );
}

#[test]
fn unknown_mdp_keys_are_errors_with_a_suggestion() {
    let toml = "states = 1\nactions = 1\ngama = 0.9\nterminal = [0]\n";
    let e = err(FiniteMdp::from_toml_str(toml, "typo.toml"));
    assert!(e.contains("gama") && e.contains("gamma"), "{e}");
    let json = r#"{"states": 1, "actions": 1, "gamma": 0.9, "horizn": 3, "terminal": [0]}"#;
    let e = err(FiniteMdp::from_json_str(json, "typo.json"));
    assert!(
        e.contains("horizn") && e.contains("did you mean `horizon`"),
        "{e}"
    );
    // A byte-order mark is not an error.
    let json = "\u{feff}{\"states\": 1, \"actions\": 1, \"gamma\": 0.9, \"terminal\": [0]}";
    assert!(FiniteMdp::from_json_str(json, "bom.json").is_ok());
}
