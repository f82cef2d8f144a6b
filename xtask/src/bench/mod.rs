//! `cargo xtask bench`: the experiment suites and their report.
//!
//! The light `xtask` binary (no features) only provisions libtorch and
//! re-invokes itself with the `suites` feature, which links every area crate
//! (including the torch ones). The harness itself lives in [`harness`] and
//! the per-area experiments in [`suites`], one module per area.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[cfg(feature = "suites")]
mod adaptive;
#[cfg(feature = "suites")]
mod cells;
#[cfg(feature = "suites")]
mod harness;
#[cfg(feature = "suites")]
mod machine;
#[cfg(feature = "suites")]
mod micro;
#[cfg(feature = "suites")]
mod registry;
#[cfg(feature = "suites")]
mod report;
#[cfg(feature = "suites")]
mod shard;
#[cfg(feature = "suites")]
mod snapshot;
#[cfg(not(feature = "suites"))]
mod startup;

/// Options of `cargo xtask bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// `merge DIR...`: combine shard reports into one.
    #[command(subcommand)]
    pub action: Option<BenchAction>,
    /// Run only these suites (repeatable; default: all).
    #[arg(long = "suite", value_name = "NAME")]
    pub suites: Vec<String>,
    /// Run only experiments with this name (repeatable).
    #[arg(long = "experiment", value_name = "NAME")]
    pub experiments: Vec<String>,
    /// Smaller sizes and fewer seeds (CI-sized).
    #[arg(long)]
    pub quick: bool,
    /// Number of seeds per experiment (default: the experiment's `seeds`
    /// parameter, else 10, or 3 with --quick).
    #[arg(long)]
    pub seeds: Option<usize>,
    /// Parameter overrides: a TOML file laid out like
    /// `fixtures/bench/<suite>.toml`, one level down under the suite's name.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override one parameter: `suite.experiment.key=VALUE` (TOML value;
    /// repeatable; applied last).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Master seed of the whole run.
    #[arg(long, default_value_t = 20_261_128)]
    pub seed: u64,
    /// Compare headline numbers with the committed snapshots; fail if they moved.
    #[arg(long)]
    pub check: bool,
    /// Write the snapshots from this run instead of checking them.
    #[arg(long, conflicts_with = "check")]
    pub bless: bool,
    /// List the registered suites and experiments, then exit.
    #[arg(long)]
    pub list: bool,
    /// Also time the Python reference libraries on the same inputs
    /// (needs `cargo xtask peers` once).
    #[arg(long)]
    pub compare: bool,
    /// Run only shard I of N of the experiment grid (e.g. `--shard 3/8`), or
    /// `auto`: the index of a Slurm job array (`SLURM_ARRAY_TASK_ID`) or a
    /// Kubernetes Indexed Job (`JOB_COMPLETION_INDEX` with `--shards N`).
    /// Shards are balanced by `fixtures/bench/costs.toml`; combine them with
    /// `cargo xtask bench merge`.
    #[arg(long, value_name = "I/N|auto")]
    pub shard: Option<String>,
    /// Number of shards for `--shard auto` under a Kubernetes Indexed Job.
    #[arg(long, value_name = "N")]
    pub shards: Option<usize>,
    /// Folder for the per-experiment result files (default: `cells/` in the
    /// report folder). Shared by every task of a job array: an experiment
    /// whose file is already there (same parameters, seeds and code) is
    /// skipped, so a re-run resumes.
    #[arg(long, value_name = "DIR")]
    pub results_dir: Option<PathBuf>,
    /// Write this run's experiment times into `fixtures/bench/costs.toml`
    /// (used to balance shards and by `--list`).
    #[arg(long)]
    pub update_costs: bool,
    /// Seeds in AdaStop stages: an experiment that names comparison pairs
    /// stops adding seeds once AdaStop has decided them all (or at the cap
    /// of `--adaptive-n` x `--adaptive-stages`); the report says how many
    /// seeds each used and why. Not with `--shard`.
    #[arg(long, conflicts_with_all = ["shard", "seeds"])]
    pub adaptive: bool,
    /// Seeds per AdaStop stage (default 5; 2 with --quick; at most 32).
    #[arg(long, value_name = "N", requires = "adaptive")]
    pub adaptive_n: Option<usize>,
    /// Most AdaStop stages (default 4; 3 with --quick).
    #[arg(long, value_name = "K", requires = "adaptive")]
    pub adaptive_stages: Option<usize>,
    /// Run every crate's criterion benches first and list them in the report.
    #[arg(long)]
    pub micro: bool,
}

/// Sub-actions of `cargo xtask bench`.
#[derive(Debug, Clone, Subcommand)]
pub enum BenchAction {
    /// Merge shard results into one report: result folders (`--results-dir`
    /// or a report's `cells/`), single cell files, or report folders.
    Merge {
        /// Cell files, folders of cell files, or report folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Publish even if some experiments of the grid are missing.
        #[arg(long)]
        partial: bool,
        /// Then compare the merged headlines with the committed snapshots.
        #[arg(long)]
        check: bool,
    },
}

/// Entry point: run the harness, or provision libtorch and re-invoke with it.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    #[cfg(feature = "suites")]
    {
        match &args.action {
            Some(BenchAction::Merge {
                paths,
                partial,
                check,
            }) => {
                let merged = report::merge(
                    paths,
                    *partial,
                    &crate::cmd::target_dir().join("duality-bench"),
                )?;
                if *check {
                    snapshot::check(&merged, *partial)?;
                }
                Ok(())
            }
            None => harness::run(&args),
        }
    }
    #[cfg(not(feature = "suites"))]
    {
        reinvoke(&args)
    }
}

#[cfg(not(feature = "suites"))]
fn reinvoke(args: &BenchArgs) -> anyhow::Result<()> {
    use crate::{cmd, libtorch};
    let lt = libtorch::provision()?;
    let mut env = lt.cargo_env();
    if startup::only(args) {
        return startup::run(args, &env);
    }
    if args.micro {
        let mut c = cmd::cargo();
        c.args(["bench", "--workspace", "--all-features"]);
        cmd::run_with_env(c, &env)?;
    }
    let mut c = cmd::cargo();
    c.args(["run", "--quiet"]);
    // Full runs are timed, so optimise; --quick reuses the test build.
    if !args.quick {
        c.arg("--release");
    }
    c.args(["--package", "xtask", "--features", "suites", "--"]);
    c.args(std::env::args_os().skip(1));
    env.push(("DUALITY_LIBTORCH_VERSION".into(), lt.version.clone()));
    cmd::run_with_env(c, &env)?;
    if startup::after_suites(args) {
        startup::run(args, &env)?;
    }
    Ok(())
}
