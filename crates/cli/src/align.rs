//! `duality align ...`: commands over `duality_align`.

use clap::Subcommand;

/// Commands of the `align` area.
#[derive(Debug, Subcommand)]
pub enum AlignCommand {
    /// Describe what this area implements (the commands arrive with the crate's API).
    About,
}

/// Runs one `align` command.
pub fn run(cmd: AlignCommand) -> anyhow::Result<()> {
    match cmd {
        AlignCommand::About => {
            println!("{}", env!("CARGO_PKG_DESCRIPTION"));
            println!("area crate: duality_align (commands arrive with its API)");
            Ok(())
        }
    }
}
