//! Running cargo and other tools with a visible command line.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context};

/// The workspace root (the parent of `xtask/`).
///
/// `cargo run` sets `CARGO_MANIFEST_DIR` at run time too; that value wins
/// over the compile-time one, because a shared `CARGO_TARGET_DIR` can hand a
/// checkout an `xtask` binary built from another checkout's path.
pub fn workspace_root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|p| p.join("Cargo.toml").is_file())
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// The cargo target directory (honours `CARGO_TARGET_DIR`).
#[cfg_attr(not(feature = "suites"), allow(dead_code))]
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The `cargo` that invoked us (falls back to `cargo` on PATH).
pub fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut c = Command::new(cargo);
    c.current_dir(workspace_root());
    c
}

/// Runs `command` with `env` added, echoing it first; fails on non-zero exit.
pub fn run_with_env(mut command: Command, env: &[(String, String)]) -> anyhow::Result<()> {
    for (k, v) in env {
        command.env(k, v);
    }
    eprintln!("$ {}", render(&command));
    let status = command
        .status()
        .with_context(|| format!("cannot start {}", render(&command)))?;
    if !status.success() {
        bail!("`{}` failed ({status})", render(&command));
    }
    Ok(())
}

/// Runs `program args` and returns trimmed stdout, or None if it fails.
pub fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn render(command: &Command) -> String {
    let mut s = command.get_program().to_string_lossy().into_owned();
    for a in command.get_args() {
        s.push(' ');
        s.push_str(&shell_quote(&a.to_string_lossy()));
    }
    s
}

/// Quotes `s` for a POSIX shell when needed.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
