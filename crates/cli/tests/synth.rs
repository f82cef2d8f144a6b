//! End-to-end tests of `duality synth gsd|budget` (Private-GSD).

mod common;

use common::{json, run, write};

#[test]
fn gsd_prints_budget_and_errors_and_writes_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("syn.csv");
    let v = json(&[
        "synth",
        "gsd",
        "--epsilon",
        "2",
        "--delta",
        "1e-5",
        "--rows",
        "100",
        "--generations",
        "300",
        "--seed",
        "3",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(v["rows"], 569);
    assert_eq!(v["attributes"], 11);
    assert_eq!(v["synthetic_rows"], 100);
    assert!(v["rho"].as_f64().unwrap() > 0.0);
    for key in ["gsd_mean_error", "gsd_max_error", "independent_mean_error"] {
        let e = v[key].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&e), "{key} = {e}");
    }
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 101);
    assert!(text.starts_with("mean_radius:4,"));
    // Same seed, same result.
    let again = json(&[
        "synth",
        "gsd",
        "--epsilon",
        "2",
        "--delta",
        "1e-5",
        "--rows",
        "100",
        "--generations",
        "300",
        "--seed",
        "3",
        "--format",
        "json",
    ]);
    assert_eq!(v["gsd_mean_error"], again["gsd_mean_error"]);
}

#[test]
fn gsd_reads_a_csv_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "d.csv", "a:2,b:3\n0,1\n1,2\n0,0\n1,1\n");
    let v = json(&[
        "synth",
        "gsd",
        "--data",
        &data,
        "--rho",
        "1",
        "--generations",
        "50",
        "--format",
        "json",
    ]);
    assert_eq!(v["rows"], 4);
    let bad = write(dir.path(), "bad.csv", "a:2,b:3\n0,1\n1,3\n");
    let (ok, _, err) = run(&["synth", "gsd", "--data", &bad, "--rho", "1"]);
    assert!(!ok && err.contains("line 3"), "{err}");
    let (ok, _, err) = run(&["synth", "gsd", "--epsilon", "1", "--k", "12"]);
    assert!(!ok && err.contains("k = 12"), "{err}");
    let (ok, _, err) = run(&["synth", "gsd"]);
    assert!(!ok && err.contains("--epsilon"), "{err}");
    let (ok, _, err) = run(&["synth", "gsd", "--epsilon", "1", "--delta", "2"]);
    assert!(!ok && err.contains("delta"), "{err}");
    let (ok, _, err) = run(&[
        "synth",
        "gsd",
        "--epsilon",
        "1",
        "--rows",
        "100000000000000",
    ]);
    assert!(!ok && err.contains("memory"), "{err}");
}

#[test]
fn budget_converts_both_ways() {
    let v = json(&[
        "synth",
        "budget",
        "--epsilon",
        "1",
        "--delta",
        "1e-5",
        "--format",
        "json",
    ]);
    assert!((v["rho"].as_f64().unwrap() - 0.030_556_595_197_639_56).abs() < 1e-12);
    let v = json(&[
        "synth", "budget", "--rho", "0.5", "--delta", "1e-5", "--format", "json",
    ]);
    assert!((v["epsilon"].as_f64().unwrap() - 4.728_386_984_943_314).abs() < 1e-9);
    assert!(v["epsilon_simple_bound"].as_f64().unwrap() > 4.7284);
}
