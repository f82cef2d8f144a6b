//! # duality-bench
//!
//! The experiment API shared by every area of duality, free of libtorch:
//!
//! - a [`Suite`] is one area's list of [`Experiment`]s plus its embedded
//!   default parameters (`fixtures/bench/<area>.toml`);
//! - an experiment is a function from a seeded [`Context`] to an
//!   [`Outcome`]: run records, [`Headline`] numbers under regression check,
//!   [`Figure`]s and notes;
//! - parameters are typed: [`Context::params`] deserialises the resolved
//!   TOML table (full or `quick` profile, after `--config` / `--set`) into
//!   the experiment's own `#[derive(Deserialize)]` struct;
//! - [`Context::compare_with_peer`] times a Python reference library on the
//!   same input ([`PeerSpec`] -> [`PeerComparison`]);
//! - [`Context::per_seed`] marks an experiment's per-seed work, whose
//!   results become (experiment, seed) cells that the runner can spread over
//!   shards, keep across a killed run and extend adaptively ([`SeedStore`],
//!   [`SeedsPending`]).
//!
//! Each area crate exposes `experiments::suite()` behind its `experiments`
//! feature; `xtask` holds only the registry (one line per area), the runner,
//! the report and the snapshots.
//!
//! ```
//! use duality_bench::{Context, Experiment, Headline, Outcome, Suite};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Sizes {
//!     n: usize,
//! }
//!
//! fn sum_of_squares(ctx: &Context) -> anyhow::Result<Outcome> {
//!     let p: Sizes = ctx.params()?;
//!     let mut out = Outcome::default();
//!     let value = (1..=p.n).map(|i| (i * i) as f64).sum();
//!     out.headlines.push(Headline { name: "sum".into(), value, digits: 0 });
//!     Ok(out)
//! }
//!
//! let suite = Suite {
//!     name: "demo",
//!     about: "a one-experiment suite",
//!     defaults: "[squares]\nn = 10\n[squares.quick]\nn = 3\n",
//!     experiments: vec![Experiment { name: "squares", about: "1 + 4 + 9", run: sum_of_squares }],
//! };
//! let ctx = Context::for_test(&suite, "squares", true).unwrap();
//! let out = (suite.experiments[0].run)(&ctx).unwrap();
//! assert_eq!(out.headlines[0].value, 14.0);
//! ```

mod compare;
mod context;
mod params;
mod seeds;

pub use compare::{PeerComparison, PeerSpec};
pub use context::{Context, Experiment, Figure, Headline, Outcome, Suite};
pub use params::{check_defaults, Overrides, Params};
pub use seeds::{decode as decode_seed, encode as encode_seed, SeedLog, SeedStore, SeedsPending};

/// The repository's `fixtures/` folder, where experiments read their input
/// data (TSPLIB instances, cross-check vectors) and peer scripts live.
/// Everything a suite reads is committed there, so a fresh clone runs it.
pub fn fixtures_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// The repository root (peer scripts are named relative to it).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
