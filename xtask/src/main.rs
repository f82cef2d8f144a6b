//! `cargo xtask`: the project's automation, in Rust (rust-analyzer style).
//!
//! - `cargo xtask test`   provision libtorch, then fmt check, clippy
//!   (-D warnings), the whole test suite, and the quick bench regression check;
//! - `cargo xtask bench`  run the experiment suites and write the report under
//!   `target/duality-bench/`;
//! - `cargo xtask doctor` show which libtorch is used and why;
//! - `cargo xtask env`    print the `export` lines that let plain `cargo`
//!   commands build the torch crates.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod cmd;
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
    Bench(bench::BenchArgs),
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
        Command::Bench(args) => bench::run(args),
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
