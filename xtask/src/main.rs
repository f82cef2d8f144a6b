//! `cargo xtask`: the project's automation, in Rust (rust-analyzer style).
//!
//! - `cargo xtask test`   provision libtorch, then fmt check, clippy
//!   (-D warnings), the whole test suite, and the quick bench regression check;
//! - `cargo xtask bench`  run the experiment suites and write the report under
//!   `target/duality-bench/`;
//! - `cargo xtask shard-check` the quick suite sharded 3 and 7 ways and as a
//!   4-task Slurm job array, against the last single-process quick run (part
//!   of `test`);
//! - `cargo xtask fuzz`   run the fuzz targets of `crates/fuzz` over the
//!   corpus in `fixtures/fuzz/` (stable harness, or `--libfuzzer`);
//! - `cargo xtask doctor` show which libtorch is used and why;
//! - `cargo xtask env`    print the `export` lines that let plain `cargo`
//!   commands build the torch crates.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod cluster;
mod cmd;
mod fuzz;
mod libtorch;
mod peers;
mod testing;

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "duality project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Provision libtorch, then fmt check, clippy -D warnings, tests, bench check.
    Test(testing::TestArgs),
    /// Run the experiment suites and write the report (target/duality-bench/).
    Bench(Box<bench::BenchArgs>),
    /// Check that sharded runs (3 and 7 shards, and a 4-task Slurm job array
    /// on a single-node cluster started for the purpose) reproduce the last
    /// single-process `bench --quick` run; `test` runs it after the bench check.
    ShardCheck,
    /// Fuzz every parser for --seconds per target (crates/fuzz, corpus in fixtures/fuzz).
    Fuzz(fuzz::FuzzArgs),
    /// Print the libtorch in use, where it came from, and the toolchain.
    Doctor,
    /// Print `export` lines so that plain `cargo build/test` find libtorch.
    Env,
    /// Provision libtorch only (create the cache venv if needed).
    Libtorch,
    /// Create the venv of pinned Python peers used by `bench --compare`.
    Peers {
        /// Only report which peers import; install nothing.
        #[arg(long)]
        check: bool,
    },
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Test(args) => testing::run(&args),
        Command::Bench(args) => bench::run(*args),
        Command::ShardCheck => {
            let lt = libtorch::provision()?;
            let single = cmd::target_dir().join("duality-bench/latest/results.json");
            cluster::shard_checks(&std::env::current_exe()?, &lt.cargo_env(), &single)
        }
        Command::Fuzz(args) => {
            let lt = libtorch::provision()?;
            fuzz::run(&args, &lt.cargo_env())
        }
        Command::Doctor => libtorch::doctor(),
        Command::Env => {
            let lt = libtorch::provision()?;
            for (k, v) in lt.cargo_env() {
                println!("export {k}={}", cmd::shell_quote(&v));
            }
            Ok(())
        }
        Command::Peers { check } => {
            if check {
                peers::report()
            } else {
                peers::provision()
            }
        }
        Command::Libtorch => {
            let lt = libtorch::provision()?;
            eprintln!("{}", lt.describe());
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
