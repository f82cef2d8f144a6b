//! Seed-level cells: the unit of work below an experiment.
//!
//! Most experiments repeat one independent computation per seed and then
//! summarise over seeds. [`Context::per_seed`](crate::Context::per_seed)
//! makes that split visible to the runner: each seed's result is one *cell*
//! that a [`SeedStore`] can keep, so that
//!
//! - a job array can spread one experiment's seeds over several tasks
//!   (`--shard`), each computing only the seeds it owns;
//! - a killed run resumes without recomputing finished seeds;
//! - `--adaptive` can add seeds in stages and reuse the earlier ones.
//!
//! Every seed's value goes through the same binary round trip (CBOR, exact
//! for every `f64` including NaN), whether it was computed now, loaded from
//! a store, or no store is attached. The code after `per_seed` therefore
//! sees bit-identical inputs whatever the split, and its headlines cannot
//! depend on the shard count.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Where seed cells are kept, and which seeds this process computes.
///
/// The runner (`cargo xtask bench`) implements it over content-addressed
/// files; without a store every seed is computed in-process.
pub trait SeedStore: Send + Sync {
    /// The stored bytes of `seed`'s result, if an earlier run (or another
    /// shard) wrote them.
    fn load(&self, seed: u64) -> anyhow::Result<Option<Vec<u8>>>;
    /// Whether this process computes `seed` when it is not stored. Seeds it
    /// does not own and cannot load are left to other shards.
    fn owns(&self, seed: u64) -> bool;
    /// Keeps `seed`'s result (computed in `seconds`).
    fn save(&self, seed: u64, bytes: &[u8], seconds: f64) -> anyhow::Result<()>;
}

/// The error [`Context::per_seed`](crate::Context::per_seed) returns when
/// some seeds belong to other shards and are not stored yet: this process
/// did its share, and `bench merge` (or the last shard) finishes the
/// experiment. The runner recognises it with `downcast_ref`; it is not a
/// failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedsPending {
    /// `suite/experiment`.
    pub experiment: String,
    /// Seeds computed by this process.
    pub computed: Vec<u64>,
    /// Seeds neither stored nor owned here.
    pub pending: Vec<u64>,
}

impl std::fmt::Display for SeedsPending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: computed seed(s) {:?}; seed(s) {:?} belong to other shards",
            self.experiment, self.computed, self.pending
        )
    }
}

impl std::error::Error for SeedsPending {}

/// What [`Context::per_seed`](crate::Context::per_seed) did, for the
/// runner's cost table and report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeedLog {
    /// Whether the experiment split its work by seed at all.
    pub used: bool,
    /// Seeds computed here, with their seconds.
    pub computed: Vec<(u64, f64)>,
    /// Seeds loaded from the store.
    pub loaded: Vec<u64>,
}

/// Encodes one seed's value (CBOR: compact, exact for every float).
pub fn encode<T: Serialize>(value: &T) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    ciborium::into_writer(value, &mut bytes)
        .map_err(|e| anyhow::anyhow!("cannot encode a seed's result: {e}"))?;
    Ok(bytes)
}

/// Decodes one seed's value written by [`encode`].
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> anyhow::Result<T> {
    ciborium::from_reader(bytes).map_err(|e| anyhow::anyhow!("cannot decode a seed's result: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_round_trip_exactly_including_nan_and_infinities() {
        let xs = vec![0.1, -0.0, f64::NAN, f64::INFINITY, 1e-310, 1.0 / 3.0];
        let back: Vec<f64> = decode(&encode(&xs).unwrap()).unwrap();
        for (a, b) in xs.iter().zip(&back) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
    }

    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use crate::{Context, Suite};

    /// A store over a shared map, owning the seeds in `mine`.
    struct MapStore {
        cells: Arc<Mutex<BTreeMap<u64, Vec<u8>>>>,
        mine: Vec<u64>,
    }

    impl SeedStore for MapStore {
        fn load(&self, seed: u64) -> anyhow::Result<Option<Vec<u8>>> {
            Ok(self.cells.lock().unwrap().get(&seed).cloned())
        }
        fn owns(&self, seed: u64) -> bool {
            self.mine.contains(&seed)
        }
        fn save(&self, seed: u64, bytes: &[u8], _seconds: f64) -> anyhow::Result<()> {
            self.cells.lock().unwrap().insert(seed, bytes.to_vec());
            Ok(())
        }
    }

    fn suite() -> Suite {
        Suite {
            name: "demo",
            about: "",
            defaults: "[e]\nn = 1\n",
            experiments: vec![],
        }
    }

    fn context(store: Option<MapStore>) -> Context {
        let ctx = Context::for_test(&suite(), "e", false).unwrap();
        match store {
            Some(s) => ctx.with_seed_store(Arc::new(s)),
            None => ctx,
        }
    }

    fn work(seed: u64) -> anyhow::Result<(u64, f64)> {
        Ok((seed, (seed as f64 + 0.1).sqrt()))
    }

    #[test]
    fn shards_compute_their_own_seeds_and_the_last_one_finishes() {
        let cells = Arc::new(Mutex::new(BTreeMap::new()));
        let whole = context(None).per_seed(work).unwrap();
        assert_eq!(whole.len(), 3);

        // Shard 1 owns seed 1: computes it, reports 0 and 2 pending.
        let one = context(Some(MapStore {
            cells: cells.clone(),
            mine: vec![1],
        }));
        let err = one.per_seed(work).unwrap_err();
        let pending = err.downcast_ref::<SeedsPending>().unwrap();
        assert_eq!(pending.computed, vec![1]);
        assert_eq!(pending.pending, vec![0, 2]);

        // Shard 2 owns 0 and 2: with seed 1 stored it finishes the experiment.
        let two = context(Some(MapStore {
            cells: cells.clone(),
            mine: vec![0, 2],
        }));
        assert_eq!(two.per_seed(work).unwrap(), whole);
        let log = two.seed_log();
        assert!(log.used);
        assert_eq!(log.loaded, vec![1]);
        assert_eq!(
            log.computed.iter().map(|c| c.0).collect::<Vec<_>>(),
            vec![0, 2]
        );

        // A re-run (a resumed task) computes nothing.
        let again = context(Some(MapStore {
            cells,
            mine: vec![],
        }));
        assert_eq!(again.per_seed(work).unwrap(), whole);
        assert!(again.seed_log().computed.is_empty());
    }

    #[test]
    fn a_second_split_in_one_experiment_is_refused() {
        let ctx = context(None);
        ctx.per_seed(work).unwrap();
        let err = ctx.per_seed(work).unwrap_err().to_string();
        assert!(err.contains("once per experiment"), "{err}");
    }

    #[test]
    fn a_failing_seed_names_it() {
        let err = context(None)
            .per_seed(|s| if s == 2 { anyhow::bail!("boom") } else { Ok(s) })
            .unwrap_err();
        assert!(format!("{err:#}").contains("seed 2"), "{err:#}");
    }

    #[test]
    fn a_mismatched_type_is_an_error_not_a_panic() {
        let bytes = encode(&"text").unwrap();
        assert!(decode::<Vec<f64>>(&bytes).is_err());
        assert!(decode::<u64>(&[0xff, 0x00]).is_err());
    }
}
