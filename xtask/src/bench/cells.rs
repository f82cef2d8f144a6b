//! Content-addressed result files: one per experiment of a run.
//!
//! Each finished experiment is written, atomically, to
//! `<results dir>/<suite>__<experiment>-<hash>.json`, where the hash covers
//! everything its numbers depend on: the experiment, the master seed, quick
//! mode, the seed count, the resolved parameters and the code version (git
//! commit, plus a digest of the uncommitted diff when the tree is dirty). A
//! re-run that finds the file skips the experiment, so a pre-empted array
//! task resumes instead of starting over, and `bench merge` can combine any
//! set of these files, whichever shard or retry wrote them.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use super::harness::ExperimentResult;
use super::machine::Machine;

/// What an experiment's numbers depend on; its hash names the cell file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellKey {
    /// Suite name.
    pub suite: String,
    /// Experiment name.
    pub experiment: String,
    /// Master seed of the run.
    pub seed: u64,
    /// Quick mode.
    pub quick: bool,
    /// Seeds the experiment ran.
    pub seeds: usize,
    /// Resolved parameters.
    pub params: serde_json::Value,
    /// Code version: commit, and a digest of the diff if the tree was dirty.
    pub version: String,
}

impl CellKey {
    /// 16 hex digits of FNV-1a (64 bit) over the key's JSON (object keys are
    /// sorted, so the text is canonical). Stable across Rust versions, unlike
    /// `std`'s hasher.
    pub fn hash(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        format!("{:016x}", fnv1a(text.as_bytes()))
    }

    /// `suite__experiment-hash.json`.
    pub fn file_name(&self) -> String {
        format!("{}__{}-{}.json", self.suite, self.experiment, self.hash())
    }
}

/// One stored experiment result with the key it was computed under.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cell {
    /// What the result depends on.
    pub key: CellKey,
    /// Every experiment (`suite/experiment`) of the run's grid before
    /// sharding, so that a merge can say which cells are missing.
    pub grid: Vec<String>,
    /// The machine that computed it.
    pub machine: Machine,
    /// The result.
    pub result: ExperimentResult,
}

/// FNV-1a, 64 bit.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Environment variable that names the code version explicitly (a tree
/// without git, or a build whose binary is fixed while the tree moves).
pub const CODE_VERSION_ENV: &str = "DUALITY_CODE_VERSION";

/// The code version for cell keys: `$DUALITY_CODE_VERSION` if set, else
/// `commit` or `commit+dirty-<digest of the diff>`.
pub fn code_version(machine: &Machine) -> String {
    if let Some(v) = std::env::var(CODE_VERSION_ENV)
        .ok()
        .filter(|v| !v.is_empty())
    {
        return v;
    }
    if !machine.dirty {
        return machine.commit.clone();
    }
    let root = crate::cmd::workspace_root();
    let root = root.to_string_lossy();
    let diff = crate::cmd::output_of("git", &["-C", &root, "diff", "HEAD"]).unwrap_or_default();
    format!("{}+dirty-{:016x}", machine.commit, fnv1a(diff.as_bytes()))
}

/// Loads the cell for `key` from `dir`, if a run already wrote it.
pub fn load(dir: &Path, key: &CellKey) -> anyhow::Result<Option<Cell>> {
    let path = dir.join(key.file_name());
    if !path.exists() {
        return Ok(None);
    }
    let cell = read(&path)?;
    // The name is a hash: a different key under it means a hand-edited file.
    anyhow::ensure!(
        &cell.key == key,
        "{} does not hold the result its name promises (edited by hand?): remove it",
        path.display()
    );
    Ok(Some(cell))
}

/// Reads one cell file.
pub fn read(path: &Path) -> anyhow::Result<Cell> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a bench cell", path.display()))
}

/// Writes `cell` into `dir` atomically, with copies of its figures taken from
/// `figures_from`, and returns the file's path.
pub fn write(dir: &Path, cell: &Cell, figures_from: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if figures_from != dir {
        for f in &cell.result.outcome.figures {
            let from = figures_from.join(&f.file);
            if from.exists() {
                let bytes = std::fs::read(&from)?;
                duality_core::files::write_atomic(dir.join(&f.file), bytes)?;
            }
        }
    }
    let path = dir.join(cell.key.file_name());
    duality_core::files::write_atomic(&path, serde_json::to_string_pretty(cell)? + "\n")?;
    Ok(path)
}

/// Every cell file directly inside `dir` (files named `*__*-<16 hex>.json`).
pub fn list(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let is_cell = name
            .strip_suffix(".json")
            .and_then(|stem| stem.rsplit_once('-'))
            .is_some_and(|(id, hash)| {
                id.contains("__") && hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())
            });
        if is_cell {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CellKey {
        CellKey {
            suite: "eval".into(),
            experiment: "auroc".into(),
            seed: 1,
            quick: true,
            seeds: 3,
            params: serde_json::json!({"n": 10, "b": [1, 2]}),
            version: "abc".into(),
        }
    }

    #[test]
    fn the_hash_covers_every_field_and_is_stable() {
        let k = key();
        // Pinned: the file names of stored cells must not change between builds.
        assert_eq!(fnv1a(b"duality"), 0x344c_8d01_2874_d781);
        assert_eq!(k.hash(), key().hash());
        let mut other = key();
        other.params = serde_json::json!({"n": 11, "b": [1, 2]});
        assert_ne!(other.hash(), k.hash());
        let mut other = key();
        other.version = "abd".into();
        assert_ne!(other.hash(), k.hash());
        assert!(k.file_name().starts_with("eval__auroc-"));
    }
}
