//! # duality-eval — evaluation statistics
//!
//! The leaf crate every duality area reports through (see `docs/eval.md`):
//!
//! - [`scores`]: score matrices (runs x tasks per algorithm) from tidy CSV or
//!   JSON, normalisation;
//! - [`aggregate`]: rliable's mean / median / interquartile mean / optimality
//!   gap and probability of improvement (Agarwal et al. 2021);
//! - [`bootstrap`]: stratified bootstrap confidence intervals (percentile,
//!   basic, bias-corrected, BCa), parallel and bit-reproducible;
//! - [`profile`]: performance profiles and sample-efficiency curves;
//! - [`adastop`]: AdaStop group-sequential permutation tests (Mathieu et al. 2023);
//! - [`classical`] and [`resampling`]: McNemar, Cochran's Q, paired t-tests,
//!   5x2cv tests, multiple-comparison corrections, CV splitters, bootstrap
//!   .632 / .632+ error (Raschka 2018);
//! - [`comparison`]: Nadeau-Bengio corrected resampled t-test, paired
//!   difference CIs, cluster-robust accuracy SEs, a seed-budget planner;
//! - [`ranking`]: AUROC, average precision, curves, DeLong's test and CI,
//!   subgroups;
//! - [`conformal`]: conformal p-values, BH conformal selection, OptCS and
//!   OptCS-Full with e-values and eBH (Bai & Jin 2024);
//! - [`poisoning`]: certified defences against data poisoning — DPA, Finite
//!   Aggregation and their Run-Off Election variants with certified radii
//!   (Levine & Feizi 2021; Wang et al. 2022; Rezaei et al. 2023);
//! - [`sequence`]: tests for binary decision sequences (exact binomial with
//!   Clopper-Pearson CI, Wald-Wolfowitz runs, first-order Markov chi-square);
//! - [`tracked`]: tracked-run histories (Open RL Benchmark exports) into
//!   final-score matrices and per-checkpoint matrices;
//! - [`plot`]: SVG figures.
//!
//! It builds and tests without libtorch.
//!
//! ```
//! use duality_eval::prelude::*;
//! let csv = "algorithm,task,run,score\na,pong,0,0.5\na,pong,1,0.7\na,breakout,0,0.2\na,breakout,1,0.4\n";
//! let set = ScoreSet::read_csv(csv.as_bytes(), "inline")?;
//! let ci = StratifiedBootstrap::new(1_000, 0.95, 0)?.interval(set.get("a")?, Metric::Iqm)?;
//! assert!(ci.lo <= ci.estimate && ci.estimate <= ci.hi);
//! # Ok::<(), duality_core::Error>(())
//! ```

pub mod adastop;
pub mod aggregate;
pub mod bootstrap;
pub mod classical;
pub mod comparison;
pub mod conformal;
#[cfg(feature = "experiments")]
pub mod experiments;
pub mod plot;
pub mod poisoning;
pub mod profile;
pub mod ranking;
pub mod resampling;
pub mod scores;
pub mod sequence;
pub mod tracked;

pub use duality_core::{Error, Result};

/// The most used items: `use duality_eval::prelude::*`.
pub mod prelude {
    pub use crate::aggregate::{
        iqm, mean, median, optimality_gap, probability_of_improvement, Metric,
    };
    pub use crate::bootstrap::{
        BootstrapParams, Interval, IntervalMethod, Statistic, StratifiedBootstrap,
    };
    pub use crate::scores::{MatrixRef, ScoreMatrix, ScoreSet};
    pub use crate::tracked::{FinalScore, TrackedColumns, TrackedRuns};
}
