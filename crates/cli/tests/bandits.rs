//! End-to-end tests of `duality bandit ...`.

mod common;

use common::duality;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/bandits/");

#[test]
fn ope_matches_obp_fixture() {
    let text = std::fs::read_to_string(format!("{FIXTURES}obp_estimates.json")).unwrap();
    let fixture: serde_json::Value = serde_json::from_str(&text).unwrap();
    let case = &fixture["cases"][0];
    let out = duality()
        .args(["bandit", "ope", "--logged"])
        .arg(format!("{FIXTURES}{}", case["file"].as_str().unwrap()))
        .args(["--estimators", "ipw,snipw,dm,dr,switch-dr", "--switch-tau"])
        .arg(case["switch_tau"].to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for (name, want) in case["estimates"].as_object().unwrap() {
        let g = got[name].as_f64().unwrap();
        assert!(
            (g - want.as_f64().unwrap()).abs() < 1e-12,
            "{name}: {g} vs {want}"
        );
    }
}

#[test]
fn ope_rejects_bad_csv_with_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(
        &path,
        "action,reward,pscore,pi_0,pi_1\n0,1,0.5,1,0\n1,0,0,0.5,0.5\n",
    )
    .unwrap();
    let out = duality()
        .args(["bandit", "ope", "--logged"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3") && err.contains("pscore"), "{err}");
    // switch-dr without a threshold takes obp 0.4.1's tau = 1 (here every
    // weight is 1, so it equals DR); a DM row whose evaluation
    // probabilities sum to 0 is an error naming the row.
    std::fs::write(&path, "action,reward,pscore,pi_0,qhat_0\n0,1,1,1,0.5\n").unwrap();
    let out = duality()
        .args(["bandit", "ope", "--estimators", "switch-dr,dr", "--logged"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["switch-dr"], got["dr"]);
    std::fs::write(&path, "action,reward,pscore,pi_0,qhat_0\n0,1,1,0,0.5\n").unwrap();
    let out = duality()
        .args(["bandit", "ope", "--estimators", "dm", "--logged"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("row 0"));
}

#[test]
fn simulate_writes_json_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("sim.toml");
    std::fs::write(
        &cfg,
        "horizon = 500\nrepetitions = 4\nseed = 1\n[environment]\nkind = \"bernoulli\"\nmeans = [0.2, 0.5, 0.8]\n\
         [[policies]]\nkind = \"ucb1\"\n[[policies]]\nkind = \"thompson_beta\"\n[ci]\nreps = 200\n",
    )
    .unwrap();
    let svg = dir.path().join("regret.svg");
    let out = duality()
        .args(["bandit", "simulate", "--format", "json", "--config"])
        .arg(&cfg)
        .arg("--svg")
        .arg(&svg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let policies = report["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 2);
    assert!(
        policies[0]["pseudo_regret"]["mean"]["estimate"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert!(policies[1]["pseudo_regret"]["iqm"]["hi"].as_f64().is_some());
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    // A bad config names the file and the field.
    std::fs::write(&cfg, "horizon = 0\nrepetitions = 4\n[environment]\nkind = \"bernoulli\"\nmeans = [0.5]\n[[policies]]\nkind = \"ucb1\"\n").unwrap();
    let out = duality()
        .args(["bandit", "simulate", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("horizon"));
}

#[test]
fn policies_are_listed_from_the_registry() {
    let out = duality()
        .args(["bandit", "policies", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for want in ["ucb1", "thompson_beta", "exp3", "exp3_p", "tsallis_inf"] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let exp3p = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "exp3_p")
        .unwrap();
    assert!(exp3p["source"].as_str().unwrap().contains("Bubeck"));
    let table = duality().args(["bandit", "policies"]).output().unwrap();
    assert!(table.status.success());
    assert!(String::from_utf8_lossy(&table.stdout).contains("exp3_p"));
}

#[test]
fn simulate_runs_a_registered_policy_and_rejects_unknown_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("sim.toml");
    std::fs::write(
        &cfg,
        "horizon = 300\nrepetitions = 2\n[environment]\nkind = \"adversarial_switch\"\nk = 3\n\
         [[policies]]\nkind = \"exp3_p\"\ndelta = 0.1\n[ci]\nreps = 100\n",
    )
    .unwrap();
    let out = duality()
        .args(["bandit", "simulate", "--format", "json", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["policies"][0]["policy"], "exp3-p");
    std::fs::write(
        &cfg,
        "horizon = 300\nrepetitions = 2\n[environment]\nkind = \"bernoulli\"\nmeans = [0.5]\n[[policies]]\nkind = \"exp3_q\"\n",
    )
    .unwrap();
    let out = duality()
        .args(["bandit", "simulate", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("exp3_q") && err.contains("exp3_p"), "{err}");
}

#[test]
fn relax_reports_learner_and_baselines_and_rejects_bad_input() {
    let out = duality()
        .args([
            "bandit",
            "relax",
            "--shift",
            "low",
            "--systems",
            "30",
            "--learner",
            "chebcb",
            "--seed",
            "3",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["learner"], "chebcb");
    let best = got["best_fixed_iterations"].as_u64().unwrap();
    assert!(best <= got["gauss_seidel_iterations"].as_u64().unwrap());
    assert!(
        got["learner_iterations"].as_u64().unwrap()
            >= got["instance_optimal_iterations"].as_u64().unwrap() / 2
    );
    for (bad, named) in [
        (["--shift", "medium"], "medium"),
        (["--learner", "fixed:1.33"], "1.33"),
        (["--systems", "0"], "number of systems"),
        (["--solver", "gmres"], "gmres"),
    ] {
        let out = duality()
            .args(["bandit", "relax"])
            .args(bad)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(named), "{bad:?}: {err}");
    }
}
