//! End-to-end tests of `duality align ...` (with the `torch` feature; an
//! empty test crate without it).
#![cfg(feature = "torch")]

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

#[test]
fn trainers_lists_the_registry() {
    let out = duality()
        .args(["align", "trainers", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for name in ["offline", "curry", "online", "dno", "hypo", "group", "kto"] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    let kto = v
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "kto")
        .unwrap();
    assert_eq!(kto["defaults"]["desirable_weight"].as_f64(), Some(1.0));
    let out = duality().args(["align", "trainers"]).output().unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && table.contains("kto") && table.contains("Ethayarajh"));
}

#[test]
fn train_accepts_any_registered_trainer_and_lists_them_on_a_typo() {
    let out = duality()
        .args(["align", "train", "--config"])
        .arg(format!("{FIXTURES}/train_kto.toml"))
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
    assert_eq!(v["trainer"], "kto");
    assert_eq!(v["log"]["entries"].as_array().unwrap().len(), 6);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "trainer = \"ktoo\"\n").unwrap();
    let out = duality()
        .args(["align", "train", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("\"ktoo\"") && err.contains("kto"),
        "{err}"
    );
    std::fs::write(&bad, "trainer = \"kto\"\n[kto]\nbeta = \"high\"\n").unwrap();
    let out = duality()
        .args(["align", "train", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("line 3"), "{err}");
}

#[test]
fn train_writes_and_reuses_a_reference_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("ref.json");
    let train = |with_cache: bool| {
        let mut cmd = duality();
        cmd.args(["align", "train", "--format", "json", "--config"])
            .arg(format!("{FIXTURES}/train_offline.toml"));
        if with_cache {
            cmd.arg("--reference-cache").arg(&cache);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["log"].clone()
    };
    let plain = train(false);
    let written = train(true);
    let text = std::fs::read_to_string(&cache).unwrap();
    assert!(text.contains("duality-align-reference-logprobs"), "{text}");
    let read = train(true);
    assert_eq!(plain, written);
    assert_eq!(plain, read);
    let out = duality()
        .args(["align", "train", "--config"])
        .arg(format!("{FIXTURES}/train_kto.toml"))
        .arg("--reference-cache")
        .arg(&cache)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("offline"), "{err}");
}

#[test]
fn loss_accepts_slic_hf_without_token_counts() {
    let out = duality()
        .args(["align", "loss", "--input"])
        .arg(format!("{FIXTURES}/pairs.csv"))
        .args(["--loss", "slic-hf"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["losses"].as_array().unwrap().len(), 3);
}
