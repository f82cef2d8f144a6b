//! `duality tsp|assign|dag ...`: commands over `duality_combopt`.

use clap::{Args, Subcommand};

/// `duality tsp ...`.
#[derive(Debug, Subcommand)]
pub enum TspCommand {
    /// Describe what this area implements (the commands arrive with the crate's API).
    About,
}

/// `duality assign ...`.
#[derive(Debug, Args)]
pub struct AssignArgs {
    /// Cost matrix as CSV (one row per line, no header).
    #[arg(long)]
    pub costs: Option<std::path::PathBuf>,
}

/// `duality dag ...`.
#[derive(Debug, Subcommand)]
pub enum DagCommand {
    /// Describe what this area implements (the commands arrive with the crate's API).
    About,
}

fn about() -> anyhow::Result<()> {
    println!("area crate: duality_combopt (commands arrive with its API)");
    Ok(())
}

/// Runs one `tsp` command.
pub fn run_tsp(cmd: TspCommand) -> anyhow::Result<()> {
    match cmd {
        TspCommand::About => about(),
    }
}

/// Runs `assign`.
pub fn run_assign(_args: AssignArgs) -> anyhow::Result<()> {
    anyhow::bail!("`duality assign` is not implemented yet (issue: duality-combopt)")
}

/// Runs one `dag` command.
pub fn run_dag(cmd: DagCommand) -> anyhow::Result<()> {
    match cmd {
        DagCommand::About => about(),
    }
}
