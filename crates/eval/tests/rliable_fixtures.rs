//! Cross-checks against rliable 1.2.0 (`fixtures/eval/generate_rliable.py`).
//!
//! Point estimates: 1e-9 relative. Bootstrap intervals (Monte Carlo on both
//! sides): each endpoint within 4% of the reference interval's width at
//! 50,000 replicates (the Monte Carlo s.d. of a 2.5% quantile is about 0.3%
//! of a 95% interval's width, so this is > 5 s.d. of the difference);
//! profiles (2,000 replicates, a discrete statistic) within one step of the
//! statistic's grid (1/tasks for average-score profiles, 0.05 for run-score
//! profiles whose grid is 1/(runs x tasks)).

use duality_eval::bootstrap::{BootstrapParams, IntervalMethod, StratifiedBootstrap};
use duality_eval::prelude::*;
use duality_eval::profile::{performance_profile, ProfileKind};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/eval/rliable.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn matrix(v: &Value, name: &str) -> ScoreMatrix {
    let rows: Vec<Vec<f64>> = serde_json::from_value(v.clone()).unwrap();
    ScoreMatrix::from_rows(name, &rows).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn close(got: f64, want: f64, what: &str) {
    let tol = 1e-9 * want.abs().max(1e-12);
    assert!((got - want).abs() <= tol, "{what}: got {got}, want {want}");
}

#[test]
fn point_estimates_match_exactly() {
    let fx = fixture();
    for (i, case) in fx["point"].as_array().unwrap().iter().enumerate() {
        let m = matrix(&case["scores"], "a");
        close(mean(&m), f(&case["mean"]), &format!("mean {i}"));
        close(median(&m), f(&case["median"]), &format!("median {i}"));
        close(iqm(&m), f(&case["iqm"]), &format!("iqm {i}"));
        close(
            optimality_gap(&m, 1.0).unwrap(),
            f(&case["optimality_gap"]),
            &format!("og {i}"),
        );
        close(
            optimality_gap(&m, 2.0).unwrap(),
            f(&case["optimality_gap_gamma_2"]),
            &format!("og2 {i}"),
        );
    }
    for (i, case) in fx["poi"].as_array().unwrap().iter().enumerate() {
        let x = matrix(&case["x"], "x");
        let y = matrix(&case["y"], "y");
        close(
            probability_of_improvement(&x, &y).unwrap(),
            f(&case["poi"]),
            &format!("poi {i}"),
        );
    }
}

#[test]
fn bootstrap_intervals_match_within_monte_carlo_error() {
    let fx = fixture();
    for (i, case) in fx["ci"].as_array().unwrap().iter().enumerate() {
        let m = matrix(&case["scores"], "a");
        let method = IntervalMethod::parse(case["method"].as_str().unwrap()).unwrap();
        let metrics: Vec<Metric> = case["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| Metric::parse(n.as_str().unwrap()).unwrap())
            .collect();
        let bs = StratifiedBootstrap::from_params(BootstrapParams {
            reps: case["reps"].as_u64().unwrap() as usize,
            confidence: f(&case["confidence"]),
            seed: 17,
            method,
            task_bootstrap: false,
        })
        .unwrap();
        let got = bs.intervals(&m, &metrics).unwrap();
        for (j, ci) in got.iter().enumerate() {
            let (lo, hi) = (f(&case["lo"][j]), f(&case["hi"][j]));
            close(ci.estimate, f(&case["estimate"][j]), "estimate");
            let tol = 0.04 * (hi - lo);
            assert!(
                (ci.lo - lo).abs() <= tol && (ci.hi - hi).abs() <= tol,
                "case {i} ({method:?}) metric {}: got [{}, {}], rliable [{lo}, {hi}]",
                metrics[j],
                ci.lo,
                ci.hi
            );
        }
    }
    let case = &fx["poi_ci"];
    let x = matrix(&case["x"], "x");
    let y = matrix(&case["y"], "y");
    let ci = StratifiedBootstrap::new(case["reps"].as_u64().unwrap() as usize, 0.95, 5)
        .unwrap()
        .improvement(&x, &y)
        .unwrap();
    close(ci.estimate, f(&case["estimate"]), "poi estimate");
    let (lo, hi) = (f(&case["lo"]), f(&case["hi"]));
    let tol = 0.04 * (hi - lo);
    assert!(
        (ci.lo - lo).abs() <= tol && (ci.hi - hi).abs() <= tol,
        "poi ci: got {ci:?}, rliable [{lo}, {hi}]"
    );
}

#[test]
fn performance_profiles_match() {
    let fx = fixture();
    let case = &fx["profile"];
    let m = matrix(&case["scores"], "a");
    let taus: Vec<f64> = serde_json::from_value(case["taus"].clone()).unwrap();
    let bs = StratifiedBootstrap::new(case["reps"].as_u64().unwrap() as usize, 0.95, 3).unwrap();
    let step = 1.0 / m.tasks() as f64 + 1e-12;
    for (kind, key, tol) in [
        (ProfileKind::RunScore, "run_score", 0.05),
        (ProfileKind::AverageScore, "average_score", step),
    ] {
        let p = performance_profile(&m, &taus, kind, &bs).unwrap();
        for (j, pt) in p.points.iter().enumerate() {
            assert_eq!(pt.estimate, f(&case[key][j]), "{key} at tau {}", taus[j]);
            let lo = f(&case[format!("{key}_lo")][j]);
            let hi = f(&case[format!("{key}_hi")][j]);
            assert!(
                (pt.lo - lo).abs() <= tol && (pt.hi - hi).abs() <= tol,
                "{key} at tau {}: got {pt:?}, rliable [{lo}, {hi}]",
                taus[j]
            );
        }
    }
}
