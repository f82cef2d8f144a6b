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
