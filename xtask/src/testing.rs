//! `cargo xtask test`: the one command CI runs.

use std::time::Instant;

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

/// Prints each phase as it starts and ends, with its elapsed time, and a
/// table of all phases at the end, so that a first (cold) run says where
/// its time goes.
struct Phases {
    start: Instant,
    done: Vec<(&'static str, f64)>,
}

impl Phases {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            done: Vec::new(),
        }
    }

    /// Runs one phase, timing it; an error ends the run after printing the
    /// phases finished so far.
    fn run(
        &mut self,
        name: &'static str,
        f: impl FnOnce() -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        eprintln!("xtask: == {name} ==");
        let t = Instant::now();
        let result = f();
        let secs = t.elapsed().as_secs_f64();
        self.done.push((name, secs));
        match &result {
            Ok(()) => eprintln!("xtask: {name}: done in {}", human(secs)),
            Err(_) => {
                eprintln!("xtask: {name}: FAILED after {}", human(secs));
                self.print_table();
            }
        }
        result
    }

    fn print_table(&self) {
        eprintln!("xtask: phase times");
        for (name, secs) in &self.done {
            eprintln!("  {name:<26} {:>9}", human(*secs));
        }
        eprintln!(
            "  {:<26} {:>9}",
            "total",
            human(self.start.elapsed().as_secs_f64())
        );
    }
}

/// `12.3 s` or `4 min 05 s`.
fn human(secs: f64) -> String {
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else {
        let s = secs.round() as u64;
        format!("{} min {:02} s", s / 60, s % 60)
    }
}

/// The quick bench regression check. `cargo test --workspace --all-features`
/// has just built the xtask binary with its `suites` feature (xtask has
/// integration tests, so cargo builds its binary for them), with the
/// feature set of the test build. `cargo run -p xtask --features suites`
/// would resolve features without the dev-dependencies and rebuild much of
/// the dependency graph a second time, so run that binary directly.
fn bench_check(env: &[(String, String)]) -> anyhow::Result<()> {
    let built = cmd::target_dir()
        .join("debug")
        .join(format!("xtask{}", std::env::consts::EXE_SUFFIX));
    let args = ["bench", "--quick", "--check"];
    if built.is_file() {
        let mut c = std::process::Command::new(&built);
        c.current_dir(cmd::workspace_root()).args(args);
        return cmd::run_with_env(c, env);
    }
    let mut c = cmd::cargo();
    c.args([
        "run",
        "--quiet",
        "--package",
        "xtask",
        "--features",
        "suites",
        "--",
    ])
    .args(args);
    cmd::run_with_env(c, env)
}

/// Provision libtorch, then fmt, clippy, tests and the bench check, in that
/// order (cheapest failure first).
pub fn run(args: &TestArgs) -> anyhow::Result<()> {
    let mut phases = Phases::new();
    let mut env = Vec::new();
    phases.run("provision libtorch", || {
        let lt = libtorch::provision()?;
        eprintln!("xtask: using {}", lt.describe());
        env = lt.cargo_env();
        Ok(())
    })?;

    if !args.no_fmt {
        phases.run("fmt --check", || {
            let mut c = cmd::cargo();
            c.args(["fmt", "--all", "--", "--check"]);
            cmd::run_with_env(c, &[])
        })?;
    }
    if !args.no_clippy {
        phases.run("clippy -D warnings", || {
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
            cmd::run_with_env(c, &env)
        })?;
    }
    // Built, then run, as two phases, so the table shows compile time and
    // test time apart; the second command finds everything fresh.
    phases.run("build tests", || {
        let mut c = cmd::cargo();
        c.args(["test", "--workspace", "--all-features", "--no-run"]);
        cmd::run_with_env(c, &env)
    })?;
    phases.run("run tests", || {
        let mut c = cmd::cargo();
        c.args(["test", "--workspace", "--all-features"]);
        cmd::run_with_env(c, &env)
    })?;

    if !args.no_bench_check {
        phases.run("bench --quick --check", || bench_check(&env))?;
    }
    phases.print_table();
    eprintln!("xtask: all checks passed");
    Ok(())
}
