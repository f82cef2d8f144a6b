//! Suites, experiments and the context an experiment runs in.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use duality_core::progress::Progress;
use duality_core::record::RunRecord;
use duality_core::seed::Seeder;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::compare::{self, PeerComparison, PeerSpec};
use crate::params::{Overrides, Params};
use crate::seeds::{self, SeedLog, SeedStore, SeedsPending};

/// A named group of experiments, one per area.
pub struct Suite {
    /// Suite name (`--suite NAME`).
    pub name: &'static str,
    /// One line on what it shows.
    pub about: &'static str,
    /// The default parameters: the text of `fixtures/bench/<name>.toml`,
    /// embedded by the area crate (`include_str!`) so the bare command works
    /// from any directory.
    pub defaults: &'static str,
    /// Its experiments, in report order.
    pub experiments: Vec<Experiment>,
}

/// One experiment: a function from a seeded context to its outcome.
pub struct Experiment {
    /// Experiment name (`--experiment NAME`), unique within its suite.
    pub name: &'static str,
    /// One line on what it measures and the claim it checks.
    pub about: &'static str,
    /// Runs the experiment.
    pub run: fn(&Context) -> anyhow::Result<Outcome>,
}

/// What an experiment gets: its parameters (already resolved for `--quick`
/// and the overrides), seeds, and where to put figures.
pub struct Context {
    /// Seeds to run (one record set per seed).
    pub seeds: Vec<u64>,
    /// Seeder for this experiment (derived from the master seed and the
    /// experiment's name, so adding experiments does not move others).
    pub seeder: Seeder,
    /// Directory for this run's SVG figures.
    pub figure_dir: PathBuf,
    /// Progress bar of the suite (advance with `set_message` as you like).
    pub progress: Progress,
    /// Whether peer comparisons were asked for (`--compare`).
    pub compare: bool,
    /// `suite/experiment`, for labelling comparisons.
    pub id: String,
    params: Params,
    peer_python: Option<PathBuf>,
    comparisons: Mutex<Vec<PeerComparison>>,
    pairs: Mutex<Vec<(String, String)>>,
    seed_store: Option<Arc<dyn SeedStore>>,
    seed_log: Mutex<SeedLog>,
}

/// Parameter keys the runner reads itself; [`Context::params`] leaves them
/// out so that experiment structs need not declare them.
const RUNNER_KEYS: [&str; 1] = ["seeds"];

impl Context {
    /// A context for experiment `id` (`suite/experiment`) with resolved
    /// `params`, the given seeds and figure directory. Peer comparisons are
    /// off until [`Context::with_peers`].
    pub fn new(
        id: impl Into<String>,
        params: Params,
        seeds: Vec<u64>,
        seeder: Seeder,
        figure_dir: PathBuf,
        progress: Progress,
    ) -> Self {
        Self {
            seeds,
            seeder,
            figure_dir,
            progress,
            compare: false,
            id: id.into(),
            params,
            peer_python: None,
            comparisons: Mutex::default(),
            pairs: Mutex::default(),
            seed_store: None,
            seed_log: Mutex::default(),
        }
    }

    /// Attaches a store for seed cells (see [`Context::per_seed`]): stored
    /// seeds are loaded instead of computed, and only the seeds the store
    /// owns are computed here.
    pub fn with_seed_store(mut self, store: Arc<dyn SeedStore>) -> Self {
        self.seed_store = Some(store);
        self
    }

    /// Runs `f` once per seed of [`Context::seeds`] and returns the values in
    /// seed order: the per-seed half of an experiment, whose cells the runner
    /// can spread over shards, keep across a killed run, and extend with
    /// `--adaptive`. `f` must depend on nothing but its seed and the
    /// parameters (derive randomness from [`Context::seeder`] and the seed,
    /// never from the seed's position), so that one seed's value is the same
    /// whatever else runs. Call it at most once per experiment (cells are
    /// keyed by experiment and seed); a second call is an error.
    ///
    /// Seeds not yet stored run in parallel (rayon). Each value makes one
    /// exact binary round trip (CBOR) before it is returned, stored or not,
    /// so the summary that follows sees identical numbers however the seeds
    /// were split. When some seeds belong to other shards this returns
    /// [`SeedsPending`] (after computing this shard's share); the runner
    /// treats that as "finish later", not as a failure.
    pub fn per_seed<T, F>(&self, f: F) -> anyhow::Result<Vec<T>>
    where
        T: Serialize + DeserializeOwned + Send,
        F: Fn(u64) -> anyhow::Result<T> + Sync + Send,
    {
        use rayon::prelude::*;
        // Cells are keyed by (experiment, seed): a second split in the same
        // experiment would read the first one's cells.
        if self.seed_log.lock().map(|l| l.used).unwrap_or(false) {
            anyhow::bail!(
                "{}: per_seed may run once per experiment (its cells are keyed by experiment \
                 and seed); compute everything a seed needs in one closure",
                self.id
            );
        }
        let mut slots: Vec<Option<T>> = (0..self.seeds.len()).map(|_| None).collect();
        let mut todo = Vec::new();
        let mut pending = Vec::new();
        let mut loaded = Vec::new();
        for (i, &seed) in self.seeds.iter().enumerate() {
            let stored = match &self.seed_store {
                Some(store) => store.load(seed)?,
                None => None,
            };
            // A cell that no longer decodes (the value's type changed without
            // the code version moving) is recomputed, never trusted.
            match stored.map(|bytes| seeds::decode::<T>(&bytes)) {
                Some(Ok(value)) => {
                    slots[i] = Some(value);
                    loaded.push(seed);
                }
                _ if self.seed_store.as_ref().is_none_or(|s| s.owns(seed)) => todo.push(i),
                _ => pending.push(seed),
            }
        }
        let computed: Vec<(usize, T, f64)> = todo
            .par_iter()
            .map(|&i| {
                let seed = self.seeds[i];
                let start = Instant::now();
                let value = f(seed).map_err(|e| e.context(format!("seed {seed}")))?;
                let bytes = seeds::encode(&value)?;
                let seconds = start.elapsed().as_secs_f64();
                if let Some(store) = &self.seed_store {
                    store.save(seed, &bytes, seconds)?;
                }
                Ok((i, seeds::decode::<T>(&bytes)?, seconds))
            })
            .collect::<anyhow::Result<_>>()?;
        let mut log = SeedLog {
            used: true,
            computed: Vec::new(),
            loaded,
        };
        for (i, value, seconds) in computed {
            log.computed.push((self.seeds[i], seconds));
            slots[i] = Some(value);
        }
        if let Ok(mut l) = self.seed_log.lock() {
            *l = log.clone();
        }
        if !pending.is_empty() {
            return Err(SeedsPending {
                experiment: self.id.clone(),
                computed: log.computed.iter().map(|&(s, _)| s).collect(),
                pending,
            }
            .into());
        }
        Ok(slots.into_iter().flatten().collect())
    }

    /// What [`Context::per_seed`] did in this context (nothing, if the
    /// experiment does not split by seed).
    pub fn seed_log(&self) -> SeedLog {
        self.seed_log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Turns on peer comparisons (`--compare`); `python` is the peers venv's
    /// interpreter, `None` when it is not installed (every comparison is
    /// then reported as skipped, never silently dropped).
    pub fn with_peers(mut self, python: Option<PathBuf>) -> Self {
        self.compare = true;
        self.peer_python = python;
        self
    }

    /// A context over the embedded defaults of `suite` for one experiment,
    /// three seeds, a hidden progress bar and figures in a per-process folder of
    /// the temp dir: for
    /// unit tests and doctests of experiments.
    pub fn for_test(suite: &Suite, experiment: &str, quick: bool) -> anyhow::Result<Self> {
        let params = Overrides::default().resolve(suite.name, suite.defaults, experiment, quick)?;
        let figure_dir =
            std::env::temp_dir().join(format!("duality-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&figure_dir)?;
        Ok(Self::new(
            format!("{}/{experiment}", suite.name),
            params,
            vec![0, 1, 2],
            Seeder::new(0).named(suite.name).named(experiment),
            figure_dir,
            Progress::hidden(),
        ))
    }

    /// The experiment's parameters as its own typed struct, deserialised
    /// from its resolved TOML table (the `quick` table under `--quick`,
    /// after `--config` / `--set`). A missing field or a wrong type is an
    /// error naming the experiment and the field; keys the runner reads
    /// itself (`seeds`) are left out.
    pub fn params<T: DeserializeOwned>(&self) -> anyhow::Result<T> {
        self.params.deserialize(&RUNNER_KEYS)
    }

    /// One parameter `key` of the experiment's TOML (see [`Context::params`]
    /// for the typed whole). A missing key or a wrong type is an error naming
    /// both.
    pub fn param<T: DeserializeOwned>(&self, key: &str) -> anyhow::Result<T> {
        self.params.get(key)
    }

    /// The resolved parameter table (recorded in the report).
    pub fn params_table(&self) -> &toml::Table {
        self.params.table()
    }

    /// Asks the report for the probability of improvement `P(X > Y)` over
    /// seeds (with a bootstrap CI) for every task and metric that both
    /// algorithms recorded. "Improvement" means a higher metric value.
    pub fn report_improvement(&self, x: &str, y: &str) {
        if let Ok(mut pairs) = self.pairs.lock() {
            pairs.push((x.to_string(), y.to_string()));
        }
    }

    /// With `--compare`: runs `duality` and the Python peer described by
    /// `spec` alternately `spec.reps` times on the same input and records
    /// the time ratio and the agreement of the results (`duality` returns
    /// the numbers to compare with the peer's `result`). Returns the
    /// comparison (both results included, e.g. to state a gap in a note).
    /// Without `--compare` it does nothing and returns `None`. A missing
    /// peer is recorded as skipped.
    pub fn compare_with_peer(
        &self,
        spec: &PeerSpec,
        mut duality: impl FnMut() -> anyhow::Result<Vec<f64>>,
    ) -> Option<PeerComparison> {
        if !self.compare {
            return None;
        }
        self.progress
            .set_message(format!("{} vs {}", spec.name, spec.peer));
        let result = compare::compare(&self.id, spec, self.peer_python.as_deref(), &mut duality);
        if let Ok(mut list) = self.comparisons.lock() {
            list.push(result.clone());
        }
        Some(result)
    }

    /// The peer comparisons run and the improvement pairs asked for, for
    /// the runner once the experiment has returned.
    pub fn into_requests(self) -> (Vec<PeerComparison>, Vec<(String, String)>) {
        (
            self.comparisons.into_inner().unwrap_or_default(),
            self.pairs.into_inner().unwrap_or_default(),
        )
    }
}

/// A figure written by an experiment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Figure {
    /// Caption.
    pub title: String,
    /// File name inside the report folder.
    pub file: String,
}

/// A headline number: checked against the snapshot with `--check`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Headline {
    /// Name, unique within the experiment.
    pub name: String,
    /// Value (`null` in a result file reads back as NaN).
    #[serde(deserialize_with = "duality_core::record::nan_as_null::f64")]
    pub value: f64,
    /// Decimal digits at which the value is stable for a fixed seed.
    pub digits: u32,
}

/// What an experiment returns.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Outcome {
    /// One record per (algorithm, task, seed).
    pub records: Vec<RunRecord>,
    /// Numbers that must not move between commits (rounded).
    pub headlines: Vec<Headline>,
    /// Figures written into the figure directory.
    pub figures: Vec<Figure>,
    /// Free-text findings of this run (the claim and whether it held).
    pub notes: Vec<String>,
}
