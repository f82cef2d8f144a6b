//! `duality bandit ...`: commands over `duality_bandits`.

use clap::Subcommand;

/// Commands of the `bandit` area.
#[derive(Debug, Subcommand)]
pub enum BanditCommand {
    /// Describe what this area implements (the commands arrive with the crate's API).
    About,
}

/// Runs one `bandit` command.
pub fn run(cmd: BanditCommand) -> anyhow::Result<()> {
    match cmd {
        BanditCommand::About => {
            println!("{}", env!("CARGO_PKG_DESCRIPTION"));
            println!("area crate: duality_bandits (commands arrive with its API)");
            Ok(())
        }
    }
}
