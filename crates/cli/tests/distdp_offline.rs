//! End-to-end tests of `duality ddp offline` (Dual RL, issue 19).

mod common;

use common::run;

const MDP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/distdp/offline_random8.toml"
);

fn json(args: &[&str]) -> serde_json::Value {
    let (ok, out, err) = run(args);
    assert!(ok, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn offline_algorithms_report_normalised_returns() {
    for algo in ["fdvl", "xql", "recoil"] {
        let v = json(&[
            "ddp",
            "offline",
            "--mdp",
            MDP,
            "--algo",
            algo,
            "--behaviour",
            "suboptimal",
            "--format",
            "json",
        ]);
        let norm = v["normalised_return"].as_f64().unwrap();
        assert!(norm > 0.9, "{algo}: {v}");
        assert!(v["bc_normalised_return"].as_f64().unwrap() < 0.5, "{v}");
        assert_eq!(v["policy"].as_array().unwrap().len(), 8);
    }
    // Same seed, same report.
    let a = json(&[
        "ddp", "offline", "--mdp", MDP, "--algo", "recoil", "--format", "json",
    ]);
    let b = json(&[
        "ddp", "offline", "--mdp", MDP, "--algo", "recoil", "--format", "json",
    ]);
    assert_eq!(a, b);
}

#[test]
fn gumbel_divergence_is_reported_not_printed_as_nan() {
    let v = json(&[
        "ddp", "offline", "--mdp", MDP, "--algo", "xql", "--lambda", "0.05", "--format", "json",
    ]);
    assert_eq!(v["stable"], serde_json::Value::Bool(false), "{v}");
    assert!(v["losses"].as_array().unwrap().iter().all(|l| l.is_f64()));
}

#[test]
fn offline_bad_settings_are_named() {
    for (args, want) in [
        (vec!["--algo", "cql"], "--algo"),
        (vec!["--divergence", "kl"], "divergence"),
        (vec!["--lambda", "1.5"], "lambda"),
        (vec!["--lr", "nan"], "lr"),
        (vec!["--algo", "recoil", "--beta", "0"], "beta"),
        (vec!["--behaviour", "great"], "behaviour"),
        (
            vec!["--episodes", "1000000000000", "--length", "1000000000"],
            "episodes",
        ),
        (
            vec!["--algo", "recoil", "--expert-episodes", "0"],
            "expert-episodes",
        ),
    ] {
        let mut all = vec!["ddp", "offline", "--mdp", MDP];
        all.extend(args.iter());
        let (ok, _, err) = run(&all);
        assert!(
            !ok && err.contains(want) && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn explore_reports_every_bonus_and_names_bad_settings() {
    let v = json(&[
        "ddp",
        "explore",
        "--shared",
        "1",
        "--episodes",
        "200",
        "--format",
        "json",
    ]);
    let rows = v["results"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "{v}");
    for row in rows {
        let m = row["mean_return"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&m), "{row}");
    }
    for (args, want) in [
        (vec!["--shared", "nan"], "shared"),
        (vec!["--bonus", "curiosity"], "bonus"),
        (vec!["--size", "1000000"], "size"),
        (
            vec!["--episodes", "10000000", "--horizon", "10000"],
            "episodes x horizon",
        ),
    ] {
        let mut all = vec!["ddp", "explore"];
        all.extend(args.iter());
        let (ok, _, err) = run(&all);
        assert!(
            !ok && err.contains(want) && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
}
