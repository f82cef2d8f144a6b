//! `cargo xtask fuzz`: runs the fuzz targets of `crates/fuzz` (issue #25).
//!
//! - stable (default): the `duality-fuzz` harness replays the committed
//!   corpus `fixtures/fuzz/<target>/` and mutates it for `--seconds` per
//!   target with a fresh seed (or `--seed`); findings are saved into the
//!   corpus as `crash-<hash>` files, which then stay as regression inputs
//!   (commit them with the fix). A run that dies (an allocation abort, a
//!   stack overflow) leaves its last input in
//!   `target/duality-fuzz/<target>.current`, which is copied into the
//!   corpus the same way;
//! - `--libfuzzer`: `cargo +nightly fuzz run` over the cargo-fuzz project
//!   in `crates/fuzz/libfuzzer` with the same corpus folders (needs a
//!   nightly toolchain and `cargo install cargo-fuzz`);
//! - [`fixed_run`] is the phase of `cargo xtask test`: every corpus input
//!   and a fixed number of seeded mutations per target, deterministic.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;

use crate::cmd;

/// Inputs per target in `cargo xtask test` (plus the corpus).
pub const TEST_INPUTS: usize = 1_000;

/// Arguments of `cargo xtask fuzz`.
#[derive(Debug, Args)]
pub struct FuzzArgs {
    /// Seconds per target.
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// Only this target (repeatable); `--list` names them.
    #[arg(long)]
    pub target: Vec<String>,
    /// Seed of the mutations (default: from the clock).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run under libFuzzer (`cargo +nightly fuzz`) instead of the stable harness.
    #[arg(long)]
    pub libfuzzer: bool,
    /// List the targets and exit.
    #[arg(long)]
    pub list: bool,
}

fn corpus_dir() -> PathBuf {
    cmd::workspace_root().join("fixtures/fuzz")
}

fn trace_dir() -> PathBuf {
    cmd::target_dir().join("duality-fuzz")
}

/// The harness binary, built with the workspace's features (as `cargo test
/// --workspace --all-features` builds it, so nothing is compiled twice).
fn harness_binary(env: &[(String, String)]) -> anyhow::Result<PathBuf> {
    let mut c = cmd::cargo();
    c.args([
        "build",
        "--workspace",
        "--all-features",
        "--bin",
        "duality-fuzz",
    ]);
    cmd::run_with_env(c, env)?;
    Ok(cmd::target_dir().join("debug/duality-fuzz"))
}

/// Runs the harness with `args`; fails on a finding.
fn harness(bin: &PathBuf, args: &[String]) -> anyhow::Result<()> {
    let mut c = std::process::Command::new(bin);
    c.current_dir(cmd::workspace_root());
    c.args(args);
    cmd::run_with_env(c, &[])
}

/// The target names, from the harness.
fn target_names(bin: &PathBuf) -> anyhow::Result<Vec<String>> {
    let out = std::process::Command::new(bin)
        .arg("--list")
        .output()
        .context("cannot run the duality-fuzz harness")?;
    if !out.status.success() {
        bail!(
            "duality-fuzz --list failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect())
}

/// Copies inputs left in the trace folder by a harness that died into the
/// corpus as `crash-<name>-<bytes>`; returns how many.
fn rescue_traces(names: &[String]) -> usize {
    let mut saved = 0;
    for name in names {
        let trace = trace_dir().join(format!("{name}.current"));
        let Ok(bytes) = std::fs::read(&trace) else {
            continue;
        };
        let dest = corpus_dir()
            .join(name)
            .join(format!("crash-died-{}-bytes", bytes.len()));
        if std::fs::write(&dest, &bytes).is_ok() {
            eprintln!(
                "xtask: the harness died on {name}; its last input is saved as {}",
                dest.display()
            );
            saved += 1;
        }
    }
    saved
}

/// Runs `cargo xtask fuzz`.
pub fn run(args: &FuzzArgs, env: &[(String, String)]) -> anyhow::Result<()> {
    let bin = harness_binary(env)?;
    if args.list {
        return harness(&bin, &["--list".to_string()]);
    }
    let names = if args.target.is_empty() {
        target_names(&bin)?
    } else {
        args.target.clone()
    };
    if args.libfuzzer {
        return libfuzzer(args, &names);
    }
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    });
    eprintln!(
        "xtask: fuzzing {} target(s), {} s each, seed {seed}",
        names.len(),
        args.seconds
    );
    std::fs::create_dir_all(trace_dir())?;
    let mut failed = Vec::new();
    for name in &names {
        let _ = std::fs::remove_file(trace_dir().join(format!("{name}.current")));
        let a: Vec<String> = [
            "--target",
            name,
            "--seconds",
            &args.seconds.to_string(),
            "--seed",
            &seed.to_string(),
            "--save",
            "--trace-dir",
            &trace_dir().display().to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        match harness(&bin, &a) {
            Ok(()) => {
                let _ = std::fs::remove_file(trace_dir().join(format!("{name}.current")));
            }
            Err(e) => {
                eprintln!("xtask: {name}: {e:#}");
                // Findings are saved by the harness itself; a harness that
                // died leaves its last input in the trace file.
                rescue_traces(std::slice::from_ref(name));
                failed.push(name.clone());
            }
        }
    }
    if !failed.is_empty() {
        bail!(
            "findings in {} (saved under {}; fix, then commit them as regression inputs)",
            failed.join(", "),
            corpus_dir().display()
        );
    }
    Ok(())
}

/// `cargo +nightly fuzz run <target> <corpus> -- -max_total_time=N` for
/// each target.
fn libfuzzer(args: &FuzzArgs, names: &[String]) -> anyhow::Result<()> {
    let fuzz_dir = cmd::workspace_root().join("crates/fuzz/libfuzzer");
    for name in names {
        let mut c = std::process::Command::new("cargo");
        c.current_dir(cmd::workspace_root());
        c.args(["+nightly", "fuzz", "run", "--fuzz-dir"]);
        c.arg(&fuzz_dir);
        c.arg(name);
        c.arg(corpus_dir().join(name));
        c.arg("--");
        c.arg(format!("-max_total_time={}", args.seconds));
        c.arg(format!(
            "-artifact_prefix={}/",
            corpus_dir().join(name).display()
        ));
        cmd::run_with_env(c, &[]).with_context(|| {
            format!("libFuzzer on {name} (needs `rustup toolchain install nightly` and `cargo install cargo-fuzz`)")
        })?;
    }
    Ok(())
}

/// The `cargo xtask test` phase: the corpus and [`TEST_INPUTS`] seeded
/// mutations per target, seed 0 (the same inputs on every run).
pub fn fixed_run(env: &[(String, String)]) -> anyhow::Result<()> {
    harness(
        &harness_binary(env)?,
        &[
            "--inputs".to_string(),
            TEST_INPUTS.to_string(),
            "--seed".to_string(),
            "0".to_string(),
        ],
    )
}
