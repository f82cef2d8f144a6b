//! Helpers shared by the end-to-end tests of the `duality` binary (each test
//! file uses a subset, hence `dead_code` is allowed).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The `duality` binary built for these tests, with progress bars off.
pub fn duality() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_duality"));
    cmd.env("DUALITY_NO_PROGRESS", "1");
    // `duality` hands the libtorch commands to a `duality-torch` found next
    // to it; a stale one from another build in the shared target dir must
    // not answer the tests that expect "no torch". Their end-to-end tests
    // run against `duality-torch` itself (crates/cli-torch/tests).
    cmd.env("DUALITY_TORCH", "/nonexistent/duality-torch");
    cmd
}

/// Runs `duality ARGS` and returns its output.
pub fn output(args: &[&str]) -> Output {
    duality().args(args).output().expect("run duality")
}

/// Runs `duality ARGS`: (success, stdout, stderr).
pub fn run(args: &[&str]) -> (bool, String, String) {
    let out = output(args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts that `out` succeeded and parses its stdout as JSON.
pub fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "duality failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// Runs `duality ARGS`, asserts success and parses stdout as JSON.
pub fn json(args: &[&str]) -> Value {
    json_of(&output(args))
}

/// Writes `text` to `dir/name` and returns the path as a string argument.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write test input");
    p.display().to_string()
}

/// `fixtures/<area>/<name>` of the workspace.
pub fn fixture(area: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(area)
        .join(name)
}
