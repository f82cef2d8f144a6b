//! End-to-end reliability tests of the `duality` binary that belong to no
//! single area: what happens when stdout goes away or fills up (issue #25).

mod common;

use std::process::Stdio;

use common::{duality, fixture};

/// A command whose output is longer than a pipe's first read.
fn long_output_args() -> Vec<String> {
    vec![
        "eval".into(),
        "aggregate".into(),
        "--scores".into(),
        fixture("eval", "scores_example.csv").display().to_string(),
        "--reps".into(),
        "200".into(),
        "--format".into(),
        "json".into(),
    ]
}

#[test]
fn a_closed_pipe_ends_quietly_with_success() {
    // The reader hangs up before the command prints anything, as `| true`
    // does, so the first write meets a closed pipe.
    let mut child = duality()
        .args(long_output_args())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start duality");
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "status {:?}, stderr: {stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_an_error_message_not_a_panic() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full");
    let out = duality()
        .args(long_output_args())
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains("error: cannot write the output"),
        "stderr: {stderr}"
    );
    assert!(stderr.contains("No space left"), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}

/// `align loss` (torch build): a directory as input is an error naming it;
/// log-probs near f64::MAX give finite losses and a finite mean (never
/// `null`); a huge non-number is quoted by its start and length only; the
/// table format prints every pair and the mean.
#[cfg(feature = "torch")]
#[test]
fn align_loss_names_the_file_keeps_results_finite_and_cuts_long_values() {
    let dir = tempfile::tempdir().unwrap();
    let as_str = |p: &std::path::Path| p.display().to_string();
    let header = "policy_chosen,policy_rejected,ref_chosen,ref_rejected\n";

    let out = duality()
        .args(["align", "loss", "--input", &as_str(dir.path())])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&as_str(dir.path())), "{err}");

    let huge = dir.path().join("huge.csv");
    std::fs::write(
        &huge,
        format!("{header}-1,-2,-1,-2\n-1,-2,-1,-1e308\n-1,-2,1e308,-2\n"),
    )
    .unwrap();
    let out = duality()
        .args(["align", "loss", "--beta", "1", "--input", &as_str(&huge)])
        .output()
        .unwrap();
    let v = common::json_of(&out);
    let mean = v["mean"].as_f64().expect("a finite mean, not null");
    assert!(mean.is_finite() && mean > 1e307, "{v}");
    assert!(v["losses"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l.as_f64().is_some_and(f64::is_finite)));

    let long = dir.path().join("long.csv");
    std::fs::write(&long, format!("{header}-1,-2,-1,{}\n", "7x".repeat(50_000))).unwrap();
    let out = duality()
        .args(["align", "loss", "--input", &as_str(&long)])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("ref_rejected") && err.contains("line 2") && err.len() < 1_000,
        "{} bytes: {}",
        err.len(),
        &err[..err.len().min(400)]
    );

    let out = duality()
        .args([
            "align",
            "loss",
            "--format",
            "table",
            "--input",
            &as_str(&huge),
        ])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        table.contains("mean") && table.lines().count() == 6,
        "{table}"
    );
}

/// `align loss` names its flags and quotes 1e308 short; `align train`
/// names the config file and, for a size over the memory limit, the
/// too-large field first in a short message (issue #25).
#[cfg(feature = "torch")]
#[test]
fn align_messages_name_the_flag_or_file_and_stay_short() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = common::fixture("align", "pairs.csv").display().to_string();
    let out = duality()
        .args([
            "align",
            "loss",
            "--input",
            &pairs,
            "--label-smoothing",
            "1e308",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("--label-smoothing 1e308"), "{err}");
    assert!(!err.contains("0000000000"), "{err}");

    let base = std::fs::read_to_string(common::fixture("align", "train_offline.toml")).unwrap();
    let config = dir.path().join("huge-len.toml");
    let text = if base.contains("[task]\n") {
        base.replacen("[task]\n", "[task]\ncompletion_len = 1000000000000\n", 1)
    } else {
        format!("{base}\n[task]\ncompletion_len = 1000000000000\n")
    };
    std::fs::write(&config, text).unwrap();
    let out = duality()
        .args(["align", "train", "--config", &config.display().to_string()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("huge-len.toml"), "{err}");
    assert!(
        err.contains("invalid task.completion_len = 1000000000000: expected a size within"),
        "{err}"
    );
    assert!(err.len() < 400, "{} bytes: {err}", err.len());
}
