#![cfg(feature = "torch")]
//! End-to-end tests of `duality align ...`.

mod common;

use common::duality;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/align");

#[test]
fn loss_prints_one_value_per_row_and_the_mean() {
    let out = duality()
        .args(["align", "loss", "--input"])
        .arg(format!("{FIXTURES}/pairs.csv"))
        .args(["--loss", "dpo", "--beta", "0.7"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let losses = v["losses"].as_array().unwrap();
    assert_eq!(losses.len(), 3);
    // Row 1: h = (-3 + 3.5) - (-4 + 3) = 1.5; -log sigmoid(1.05).
    let want = (1.0 + (-1.05f64).exp()).ln();
    assert!((losses[0].as_f64().unwrap() - want).abs() < 1e-9);
    let mean: f64 = losses.iter().map(|x| x.as_f64().unwrap()).sum::<f64>() / 3.0;
    assert!((v["mean"].as_f64().unwrap() - mean).abs() < 1e-12);
}

#[test]
fn loss_rejects_bad_parameters_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "policy_chosen,policy_rejected,ref_chosen,ref_rejected\n-1,-2,-1,x\n",
    )
    .unwrap();
    let out = duality()
        .args(["align", "loss", "--input"])
        .arg(&bad)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("line 2") && err.contains("ref_rejected"),
        "{err}"
    );
    let out = duality()
        .args(["align", "loss", "--input"])
        .arg(format!("{FIXTURES}/pairs.csv"))
        .args([
            "--loss",
            "robust",
            "--beta",
            "1",
            "--label-smoothing",
            "0.5",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("label_smoothing = 0.5"),
        "{err}"
    );
    let out = duality()
        .args(["align", "loss", "--input"])
        .arg(format!("{FIXTURES}/pairs.csv"))
        .args(["--beta", "0"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("beta = 0"));
}

#[test]
fn train_runs_a_config_and_prints_json() {
    let out = duality()
        .args(["align", "train", "--config"])
        .arg(format!("{FIXTURES}/train_offline.toml"))
        .args(["--format", "json"])
        .env("DUALITY_NO_PROGRESS", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["win_rate"]["mean"].as_f64().unwrap() > 0.5);
    assert_eq!(v["log"]["entries"].as_array().unwrap().len(), 8);
}
