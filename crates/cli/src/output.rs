//! Shared output handling: `--format table|json`.

use clap::ValueEnum;
use serde::Serialize;

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// A human-readable table or summary.
    #[default]
    Table,
    /// Pretty JSON on stdout (stable keys, for scripts).
    Json,
}

/// Prints `value` as pretty JSON, or calls `table` to print it for humans.
pub fn emit<T: Serialize>(format: Format, value: &T, table: impl FnOnce(&T)) -> anyhow::Result<()> {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(value)?),
        Format::Table => table(value),
    }
    Ok(())
}
