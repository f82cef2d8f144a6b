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
    /// Largest memory a request may ask for before it is refused, e.g. `16G`
    /// (default: 3/4 of the memory available at start; also
    /// `DUALITY_MAX_MEMORY`). Sizes are checked before allocating, so a typo
    /// such as `--reps 1e12` is an error instead of an out-of-memory abort.
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_memory)]
    max_memory: Option<u64>,
    #[command(subcommand)]
    command: Command,
}

fn parse_memory(text: &str) -> Result<u64, String> {
    duality_core::limits::parse_bytes(text).map_err(|e| e.to_string())
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
    /// Capacitated vehicle routing: solve CVRPLIB instances.
    #[command(subcommand)]
    Vrp(combopt::VrpCommand),
    /// Distributional dynamic programming and optimal stopping.
    #[command(subcommand)]
    Ddp(distdp::DdpCommand),
    /// Preference alignment (needs the `torch` feature).
    #[cfg(feature = "torch")]
    #[command(subcommand)]
    Align(align::AlignCommand),
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(bytes) = cli.max_memory {
        duality_core::limits::set_memory_budget(bytes);
    }
    match cli.command {
        Command::Eval(cmd) => eval::run(cmd),
        Command::Bandit(cmd) => bandit::run(cmd),
        Command::Tsp(cmd) => combopt::run_tsp(cmd),
        Command::Assign(args) => combopt::run_assign(args),
        Command::Dag(cmd) => combopt::run_dag(cmd),
        Command::Vrp(cmd) => combopt::run_vrp(cmd),
        Command::Ddp(cmd) => distdp::run(cmd),
        #[cfg(feature = "torch")]
        Command::Align(cmd) => align::run(cmd),
    }
}

fn main() -> ExitCode {
    // Every command prints with `println!`, which panics when stdout fails:
    // a closed pipe (`duality ... | head -1`) or a full disk (`> /dev/full`).
    // Threading a writer through every command would touch each area module;
    // instead the panic is caught here, once. A closed pipe means the reader
    // has all it wants, so it ends quietly with success (as `cat` does); any
    // other stdout failure is an ordinary error message. Other panics are bugs
    // and keep Rust's default report and exit code 101.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if stdout_failure(info.payload()).is_none() {
            default_hook(info);
        }
    }));
    let outcome = std::panic::catch_unwind(|| {
        let result = run(Cli::parse());
        // Flush what is still buffered so a late write error is seen here.
        result.and_then(|()| std::io::Write::flush(&mut std::io::stdout()).map_err(Into::into))
    });
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(err)) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Ok(Err(err)) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
        Err(payload) => match stdout_failure(payload.as_ref()) {
            Some(message) if message.contains("Broken pipe") => ExitCode::SUCCESS,
            Some(message) => {
                eprintln!("error: cannot write the output: {message}");
                ExitCode::FAILURE
            }
            None => std::panic::resume_unwind(payload),
        },
    }
}

/// The message of a panic raised by `print!`/`println!` when stdout fails,
/// or `None` for any other panic.
fn stdout_failure(payload: &(dyn std::any::Any + Send)) -> Option<String> {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())?;
    message
        .strip_prefix("failed printing to stdout: ")
        .map(str::to_string)
}

/// Whether an error chain ends in a closed pipe (the reader went away).
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
