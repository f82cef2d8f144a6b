//! `duality eval ...`: commands over `duality_eval`.

use clap::Subcommand;

/// Commands of the `eval` area.
#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Describe what this area implements (the commands arrive with the crate's API).
    About,
}

/// Runs one `eval` command.
pub fn run(cmd: EvalCommand) -> anyhow::Result<()> {
    match cmd {
        EvalCommand::About => {
            println!("{}", env!("CARGO_PKG_DESCRIPTION"));
            println!("area crate: duality_eval (commands arrive with its API)");
            Ok(())
        }
    }
}
