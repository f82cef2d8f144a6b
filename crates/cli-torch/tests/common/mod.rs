//! Helpers of the end-to-end tests of the `duality-torch` binary (the same
//! as `crates/cli/tests/common`, run against `duality-torch`; each test uses
//! a subset, hence `dead_code` is allowed).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The `duality-torch` binary built for these tests (every command in
/// process, libtorch included), with progress bars off.
pub fn duality() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_duality-torch"));
    cmd.env("DUALITY_NO_PROGRESS", "1");
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
