//! Content-addressed result files: one per experiment of a run, and one per
//! (experiment, seed) for experiments that split their work by seed
//! (`Context::per_seed`).
//!
//! Each finished experiment is written, atomically, to
//! `<results dir>/<suite>__<experiment>-<hash>.json`, where the hash covers
//! everything its numbers depend on: the experiment, the master seed, quick
//! mode, the seed count, the resolved parameters and the code version (git
//! commit, plus a digest of the uncommitted diff when the tree is dirty). A
//! re-run that finds the file skips the experiment, so a pre-empted array
//! task resumes instead of starting over, and `bench merge` can combine any
//! set of these files, whichever shard or retry wrote them.

use std::collections::BTreeSet;
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
        key_digest(self)
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

/// 16 hex digits of FNV-1a over a key's JSON: the hash in both kinds of
/// cell file name.
fn key_digest<T: Serialize>(key: &T) -> String {
    let text = serde_json::to_string(key).unwrap_or_default();
    format!("{:016x}", fnv1a(text.as_bytes()))
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

/// What one seed's value depends on. Unlike [`CellKey`] it leaves out the
/// seed count: a seed's value does not depend on how many others run, so
/// `--adaptive` stages and runs with more seeds reuse it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedCellKey {
    /// Suite name.
    pub suite: String,
    /// Experiment name.
    pub experiment: String,
    /// Master seed of the run.
    pub seed: u64,
    /// Quick mode.
    pub quick: bool,
    /// The experiment seed this cell holds.
    pub index: u64,
    /// Resolved parameters.
    pub params: serde_json::Value,
    /// Code version.
    pub version: String,
}

impl SeedCellKey {
    /// `suite__experiment-s<index>-<hash>.cbor` (not `.json`, so that
    /// [`list`] of experiment cells never picks it up).
    pub fn file_name(&self) -> String {
        format!(
            "{}__{}-s{}-{}.cbor",
            self.suite,
            self.experiment,
            self.index,
            key_digest(self)
        )
    }
}

/// One stored seed value with what the merge needs to finish its experiment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedCell {
    /// The key, as JSON text (checked against the file name's promise).
    pub key: String,
    /// Seeds the run that wrote it was asked for (merge finishes the
    /// experiment over `0..seeds`).
    pub seeds: usize,
    /// Every experiment of that run's grid.
    pub grid: Vec<String>,
    /// Seconds the seed took.
    pub seconds: f64,
    /// The value, encoded by `duality_bench::encode_seed`.
    pub payload: ciborium::Value,
}

impl SeedCell {
    /// The key this cell was written under.
    pub fn key(&self) -> anyhow::Result<SeedCellKey> {
        serde_json::from_str(&self.key).context("a seed cell's key is malformed")
    }
}

/// Reads one seed cell file.
pub fn read_seed(path: &Path) -> anyhow::Result<SeedCell> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    ciborium::from_reader(bytes.as_slice())
        .map_err(|e| anyhow::anyhow!("{} is not a seed cell: {e}", path.display()))
}

/// Every seed cell file directly inside `dir`.
pub fn list_seeds(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.contains("__") && name.ends_with(".cbor") {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// The runner's [`duality_bench::SeedStore`]: seed cells as files in one or
/// more folders (the first is where new cells go), owning a set of seeds
/// (`None`: all of them).
pub struct FileSeedStore {
    dirs: Vec<PathBuf>,
    template: SeedCellKey,
    owned: Option<BTreeSet<u64>>,
    seeds: usize,
    grid: Vec<String>,
}

impl FileSeedStore {
    /// A store writing into `dirs[0]` and reading from all of `dirs`, for the
    /// experiment `template` describes (its `index` is replaced per seed).
    pub fn new(
        dirs: Vec<PathBuf>,
        template: SeedCellKey,
        owned: Option<BTreeSet<u64>>,
        seeds: usize,
        grid: Vec<String>,
    ) -> Self {
        Self {
            dirs,
            template,
            owned,
            seeds,
            grid,
        }
    }

    fn key(&self, seed: u64) -> SeedCellKey {
        SeedCellKey {
            index: seed,
            ..self.template.clone()
        }
    }
}

impl duality_bench::SeedStore for FileSeedStore {
    fn load(&self, seed: u64) -> anyhow::Result<Option<Vec<u8>>> {
        let key = self.key(seed);
        let name = key.file_name();
        for dir in &self.dirs {
            let path = dir.join(&name);
            if !path.exists() {
                continue;
            }
            let cell = read_seed(&path)?;
            anyhow::ensure!(
                cell.key()? == key,
                "{} does not hold the seed its name promises (edited by hand?): remove it",
                path.display()
            );
            let mut bytes = Vec::new();
            ciborium::into_writer(&cell.payload, &mut bytes)
                .map_err(|e| anyhow::anyhow!("cannot re-encode {}: {e}", path.display()))?;
            return Ok(Some(bytes));
        }
        Ok(None)
    }

    fn owns(&self, seed: u64) -> bool {
        self.owned.as_ref().is_none_or(|o| o.contains(&seed))
    }

    fn save(&self, seed: u64, bytes: &[u8], seconds: f64) -> anyhow::Result<()> {
        let dir = &self.dirs[0];
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let key = self.key(seed);
        let payload: ciborium::Value = ciborium::from_reader(bytes)
            .map_err(|e| anyhow::anyhow!("a seed's value is not CBOR: {e}"))?;
        let cell = SeedCell {
            key: serde_json::to_string(&key)?,
            seeds: self.seeds,
            grid: self.grid.clone(),
            seconds,
            payload,
        };
        let mut out = Vec::new();
        ciborium::into_writer(&cell, &mut out)
            .map_err(|e| anyhow::anyhow!("cannot encode a seed cell: {e}"))?;
        duality_core::files::write_atomic(dir.join(key.file_name()), out)?;
        Ok(())
    }
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
    fn seed_cells_are_files_that_a_second_store_reads_back() {
        use duality_bench::{Context, Suite};
        let dir = tempfile::tempdir().unwrap();
        let suite = Suite {
            name: "demo",
            about: "",
            defaults: "[e]\nn = 1\n",
            experiments: vec![],
        };
        let template = SeedCellKey {
            suite: "demo".into(),
            experiment: "e".into(),
            seed: 1,
            quick: true,
            index: 0,
            params: serde_json::json!({"n": 1}),
            version: "v".into(),
        };
        let store = |owned: Option<BTreeSet<u64>>| {
            std::sync::Arc::new(FileSeedStore::new(
                vec![dir.path().to_path_buf()],
                template.clone(),
                owned,
                3,
                vec!["demo/e".into()],
            ))
        };
        let first = Context::for_test(&suite, "e", true)
            .unwrap()
            .with_seed_store(store(None));
        let values = first
            .per_seed(|s| Ok(vec![s as f64 / 3.0, f64::NAN]))
            .unwrap();
        assert_eq!(list_seeds(dir.path()).unwrap().len(), 3);
        let second = Context::for_test(&suite, "e", true)
            .unwrap()
            .with_seed_store(store(Some(BTreeSet::new())));
        let again: Vec<Vec<f64>> = second.per_seed(|_| anyhow::bail!("recomputed")).unwrap();
        assert_eq!(format!("{values:?}"), format!("{again:?}"));
        assert_eq!(second.seed_log().loaded, vec![0, 1, 2]);
        let cell = read_seed(&list_seeds(dir.path()).unwrap()[0]).unwrap();
        assert_eq!(cell.key().unwrap().index, 0);
        assert_eq!(cell.grid, vec!["demo/e".to_string()]);
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
