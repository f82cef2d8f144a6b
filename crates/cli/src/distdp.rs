//! `duality distdp ...`: commands over `duality_distdp`.

use clap::Subcommand;

/// Commands of the `distdp` area.
#[derive(Debug, Subcommand)]
pub enum DdpCommand {
    /// Describe what this area implements (the commands arrive with the crate's API).
    About,
}

/// Runs one `distdp` command.
pub fn run(cmd: DdpCommand) -> anyhow::Result<()> {
    match cmd {
        DdpCommand::About => {
            println!("{}", env!("CARGO_PKG_DESCRIPTION"));
            println!("area crate: duality_distdp (commands arrive with its API)");
            Ok(())
        }
    }
}
