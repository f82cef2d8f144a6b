//! `cargo xtask test`: the one command CI runs.

use clap::Args;

use crate::{cmd, libtorch};

/// Options of `cargo xtask test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Skip `cargo fmt --check`.
    #[arg(long)]
    pub no_fmt: bool,
    /// Skip clippy.
    #[arg(long)]
    pub no_clippy: bool,
    /// Skip the quick bench regression check.
    #[arg(long)]
    pub no_bench_check: bool,
}

/// Provision libtorch, then fmt, clippy, tests and the bench check, in that
/// order (cheapest failure first).
pub fn run(args: &TestArgs) -> anyhow::Result<()> {
    let lt = libtorch::provision()?;
    eprintln!("xtask: using {}", lt.describe());
    let env = lt.cargo_env();

    if !args.no_fmt {
        let mut c = cmd::cargo();
        c.args(["fmt", "--all", "--", "--check"]);
        cmd::run_with_env(c, &[])?;
    }
    if !args.no_clippy {
        let mut c = cmd::cargo();
        c.args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]);
        cmd::run_with_env(c, &env)?;
    }
    let mut c = cmd::cargo();
    c.args(["test", "--workspace", "--all-features"]);
    cmd::run_with_env(c, &env)?;

    if !args.no_bench_check {
        // Same (dev) profile and features as the tests above: no rebuild.
        let mut c = cmd::cargo();
        c.args([
            "run",
            "--quiet",
            "--package",
            "xtask",
            "--features",
            "suites",
            "--",
            "bench",
            "--quick",
            "--check",
        ]);
        cmd::run_with_env(c, &env)?;
    }
    eprintln!("xtask: all checks passed");
    Ok(())
}
