//! `cargo xtask test`: the one command CI runs.

use std::time::Instant;

use clap::Args;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use crate::{cluster, cmd, libtorch, peers};

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
    /// Skip the sharding checks (3 and 7 shards, and a Slurm job array).
    #[arg(long)]
    pub no_shards: bool,
    /// Skip the Python bindings (wheel build + pytest).
    #[arg(long)]
    pub no_python: bool,
    /// Only the Python bindings phase (no libtorch, fmt, clippy, Rust tests
    /// or bench check).
    #[arg(long, conflicts_with = "no_python")]
    pub python_only: bool,
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
    let built = built_xtask();
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

/// The xtask binary of the test build (with the `suites` feature).
fn built_xtask() -> PathBuf {
    cmd::target_dir()
        .join("debug")
        .join(format!("xtask{}", std::env::consts::EXE_SUFFIX))
}

/// What the Python test venv holds, pinned so the cached venv is reused
/// until this list changes (it is written to a marker file in the venv).
const PYTHON_TEST_DEPS: &[&str] = &["maturin==1.16.0", "numpy==2.4.6", "pytest==9.2.0"];

/// The cached venv of the Python tests, beside the libtorch venv.
fn python_venv() -> PathBuf {
    libtorch::cache_dir().join("python-test-venv")
}

/// `<venv>/bin/<tool>`.
fn venv_bin(venv: &Path, tool: &str) -> PathBuf {
    venv.join("bin")
        .join(format!("{tool}{}", std::env::consts::EXE_SUFFIX))
}

/// Creates the venv of the Python tests (or completes it) with
/// [`PYTHON_TEST_DEPS`] from PyPI; a no-op when its marker matches.
fn provision_python_venv() -> anyhow::Result<PathBuf> {
    let venv = python_venv();
    let python = venv_bin(&venv, "python");
    let marker = venv.join("duality-deps.txt");
    let wanted = PYTHON_TEST_DEPS.join("\n");
    if python.exists() && std::fs::read_to_string(&marker).ok().as_deref() == Some(&wanted) {
        return Ok(venv);
    }
    std::fs::create_dir_all(libtorch::cache_dir()).with_context(|| {
        format!(
            "cannot create cache dir {}",
            libtorch::cache_dir().display()
        )
    })?;
    if !python.exists() {
        let mut c = Command::new("python3");
        c.args(["-m", "venv"]).arg(&venv);
        cmd::run_with_env(c, &[])
            .context("cannot create the Python test venv: install Python 3.9+ with venv support")?;
    }
    let mut c = Command::new(&python);
    c.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--quiet",
    ])
    .args(PYTHON_TEST_DEPS);
    cmd::run_with_env(c, &[]).context("cannot install maturin, numpy and pytest from PyPI")?;
    std::fs::write(&marker, wanted)
        .with_context(|| format!("cannot write {}", marker.display()))?;
    Ok(venv)
}

/// The Python bindings (crates/python): build the abi3 wheel with maturin
/// (dev profile, into the shared cargo target dir, so the workspace crates
/// are compiled once per feature set), install it into the cached test
/// venv, and run pytest on crates/python/tests. When `cargo xtask peers`
/// has made the peers venv, its python is handed to the optional peer
/// tests (`DUALITY_PEERS_PYTHON`); without it they report themselves
/// skipped.
fn python_tests() -> anyhow::Result<()> {
    let venv = provision_python_venv()?;
    let python = venv_bin(&venv, "python");
    let root = cmd::workspace_root();
    let wheels = cmd::target_dir().join("python-wheels");
    if wheels.is_dir() {
        std::fs::remove_dir_all(&wheels)
            .with_context(|| format!("cannot clear {}", wheels.display()))?;
    }
    let mut c = Command::new(venv_bin(&venv, "maturin"));
    c.current_dir(&root)
        .args([
            "build",
            "--quiet",
            "-m",
            "crates/python/Cargo.toml",
            "--interpreter",
        ])
        .arg(&python)
        .arg("--out")
        .arg(&wheels)
        .env("CARGO_TARGET_DIR", cmd::target_dir());
    cmd::run_with_env(c, &[])?;
    let wheel = std::fs::read_dir(&wheels)
        .with_context(|| format!("maturin wrote no {}", wheels.display()))?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .with_context(|| format!("no wheel in {}", wheels.display()))?;
    let mut c = Command::new(&python);
    c.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--quiet",
        "--no-deps",
        "--force-reinstall",
    ])
    .arg(&wheel);
    cmd::run_with_env(c, &[])?;
    let mut c = Command::new(&python);
    c.current_dir(&root).args([
        "-m",
        "pytest",
        "-q",
        "-rs",
        "-p",
        "no:cacheprovider",
        "crates/python/tests",
    ]);
    // No __pycache__ folders in the source tree.
    let mut env = vec![("PYTHONDONTWRITEBYTECODE".to_string(), "1".to_string())];
    if let Some(peers) = peers::python() {
        env.push((
            "DUALITY_PEERS_PYTHON".to_string(),
            peers.display().to_string(),
        ));
    }
    cmd::run_with_env(c, &env)
}

/// Provision libtorch, then fmt, clippy, tests and the bench check, in that
/// order (cheapest failure first).
pub fn run(args: &TestArgs) -> anyhow::Result<()> {
    let mut phases = Phases::new();
    if args.python_only {
        phases.run("python wheel + pytest", python_tests)?;
        phases.print_table();
        return Ok(());
    }
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

    phases.run("fuzz: corpus + fixed mutations per target", || {
        crate::fuzz::fixed_run(&env)
    })?;
    if !args.no_python {
        phases.run("python wheel + pytest", python_tests)?;
    }
    if !args.no_bench_check {
        phases.run("bench --quick --check", || bench_check(&env))?;
        if !args.no_shards {
            // Against the run the bench check just made (its results.json
            // is `latest/` until the shards publish theirs).
            phases.run("shard check: 3, 7 shards, Slurm array of 4", || {
                let single = cmd::target_dir().join("duality-bench/latest/results.json");
                cluster::shard_checks(&built_xtask(), &env, &single)
            })?;
        }
    }
    phases.print_table();
    eprintln!("xtask: all checks passed");
    Ok(())
}
