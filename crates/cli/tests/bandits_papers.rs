//! End-to-end tests of issue #17's bandit commands: `bandit portfolio`.

mod common;

use common::duality;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/bandits/");

fn run(args: &[&str]) -> (bool, String, String) {
    let out = duality().args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn portfolio_on_the_price_fixture_and_a_synthetic_market() {
    let prices = format!("{FIXTURES}prices_sample.csv");
    let (ok, out, err) = run(&[
        "bandit",
        "portfolio",
        "--prices",
        &prices,
        "--cost",
        "0.001",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["assets"].as_array().unwrap().len(), 3);
    assert_eq!(v["periods"], 59);
    let names: Vec<&str> = v["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["strategy"].as_str().unwrap())
        .collect();
    for want in ["ucrp", "universal", "ons", "ensemble", "ensemble-leader"] {
        assert!(names.contains(&want), "{names:?}");
    }
    for s in v["strategies"].as_array().unwrap() {
        assert!(s["final_wealth"].as_f64().unwrap() > 0.0);
    }
    let (ok, out, err) = run(&[
        "bandit",
        "portfolio",
        "--market",
        "regime-switching",
        "--periods",
        "300",
    ]);
    assert!(
        ok && out.contains("ensemble") && out.contains("max drawdn"),
        "{err}"
    );
}

#[test]
fn portfolio_bad_input_names_the_value() {
    let (ok, _, err) = run(&["bandit", "portfolio", "--cost", "1"]);
    assert!(!ok && err.contains("--cost"), "{err}");
    let (ok, _, err) = run(&["bandit", "portfolio", "--market", "random-walk"]);
    assert!(!ok && err.contains("random-walk"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.csv");
    std::fs::write(&path, "date,asset,price\nd1,A,1\nd2,A,-2\n").unwrap();
    let (ok, _, err) = run(&["bandit", "portfolio", "--prices", path.to_str().unwrap()]);
    assert!(!ok && err.contains("-2") && err.contains("p.csv"), "{err}");
    let (ok, _, err) = run(&["bandit", "portfolio", "--periods", "100000000000000"]);
    assert!(!ok && err.contains("periods"), "{err}");
}

#[test]
fn private_count_prints_private_running_counts() {
    let stream = format!("{FIXTURES}stream_sample.csv");
    for mech in ["tree", "tree-gaussian", "factorization"] {
        let (ok, out, err) = run(&[
            "bandit",
            "private-count",
            "--stream",
            &stream,
            "--epsilon",
            "1",
            "--mechanism",
            mech,
            "--seed",
            "3",
            "--format",
            "json",
        ]);
        assert!(ok, "{mech}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["counts"].as_array().unwrap().len(), 100);
        // Same seed, same output.
        let (_, again, _) = run(&[
            "bandit",
            "private-count",
            "--stream",
            &stream,
            "--epsilon",
            "1",
            "--mechanism",
            mech,
            "--seed",
            "3",
            "--format",
            "json",
        ]);
        assert_eq!(out, again);
    }
    let (ok, out, _) = run(&[
        "bandit",
        "private-count",
        "--stream",
        &stream,
        "--epsilon",
        "2",
    ]);
    assert!(ok && out.contains("private count"));
}

#[test]
fn private_count_bad_input_names_the_value() {
    let stream = format!("{FIXTURES}stream_sample.csv");
    for eps in ["0", "-1", "nan", "inf"] {
        let (ok, _, err) = run(&[
            "bandit",
            "private-count",
            "--stream",
            &stream,
            &format!("--epsilon={eps}"),
        ]);
        assert!(!ok && err.contains("--epsilon"), "{eps}: {err}");
    }
    let (ok, _, err) = run(&[
        "bandit",
        "private-count",
        "--stream",
        &stream,
        "--epsilon",
        "1",
        "--mechanism",
        "oak",
    ]);
    assert!(!ok && err.contains("oak"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.csv");
    std::fs::write(&path, "x\n0\n1.5\n").unwrap();
    let (ok, _, err) = run(&[
        "bandit",
        "private-count",
        "--stream",
        path.to_str().unwrap(),
        "--epsilon",
        "1",
    ]);
    assert!(
        !ok && err.contains("1.5") && err.contains("line 3"),
        "{err}"
    );
    std::fs::write(&path, "x\n").unwrap();
    let (ok, _, err) = run(&[
        "bandit",
        "private-count",
        "--stream",
        path.to_str().unwrap(),
        "--epsilon",
        "1",
    ]);
    assert!(!ok && err.contains("empty"), "{err}");
}

#[test]
fn fair_reports_regret_and_violations() {
    let (ok, out, err) = run(&[
        "bandit",
        "fair",
        "--rounds",
        "300",
        "--learner",
        "ftpl",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["learner"], "context-semi-bandit-ftpl");
    assert_eq!(v["checkpoints"].as_array().unwrap().last().unwrap(), 300);
    let (ok, out, err) = run(&["bandit", "fair", "--rounds", "200"]);
    assert!(ok && out.contains("violations"), "{err}");
    let (ok, _, err) = run(&["bandit", "fair", "--k", "1"]);
    assert!(!ok && err.contains("batch size k"), "{err}");
    let (ok, _, err) = run(&["bandit", "fair", "--learner", "ucb"]);
    assert!(!ok && err.contains("ucb"), "{err}");
    let (ok, _, err) = run(&["bandit", "fair", "--c", "nan"]);
    assert!(!ok && err.contains("--c"), "{err}");
}
