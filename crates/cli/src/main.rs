//! `duality`: the command-line front of the duality crates.
//!
//! Every command reads CSV/TOML, prints a human table by default or JSON with
//! `--format json`, and can write SVG plots where a picture reads better.
//! The commands are thin: parsing and printing live here, the work in the
//! area crates. One module per area mirrors the crates.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod output;

#[cfg(feature = "torch")]
mod align;
mod bandit;
mod combopt;
mod distdp;
mod eval;

/// duality: research algorithms from recent papers, from the command line.
#[derive(Debug, Parser)]
#[command(name = "duality", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluation statistics: aggregates with bootstrap CIs, profiles, AdaStop, AUROC, McNemar.
    #[command(subcommand)]
    Eval(eval::EvalCommand),
    /// Bandits: simulate policies, evaluate logged feedback off-policy.
    #[command(subcommand)]
    Bandit(bandit::BanditCommand),
    /// Travelling salesman: solve TSPLIB instances.
    #[command(subcommand)]
    Tsp(combopt::TspCommand),
    /// Linear assignment from a cost matrix.
    Assign(combopt::AssignArgs),
    /// DAG structure learning (NOTEARS, topological swaps).
    #[command(subcommand)]
    Dag(combopt::DagCommand),
    /// Distributional dynamic programming and optimal stopping.
    #[command(subcommand)]
    Ddp(distdp::DdpCommand),
    /// Preference alignment (needs the `torch` feature).
    #[cfg(feature = "torch")]
    #[command(subcommand)]
    Align(align::AlignCommand),
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Eval(cmd) => eval::run(cmd),
        Command::Bandit(cmd) => bandit::run(cmd),
        Command::Tsp(cmd) => combopt::run_tsp(cmd),
        Command::Assign(args) => combopt::run_assign(args),
        Command::Dag(cmd) => combopt::run_dag(cmd),
        Command::Ddp(cmd) => distdp::run(cmd),
        #[cfg(feature = "torch")]
        Command::Align(cmd) => align::run(cmd),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
