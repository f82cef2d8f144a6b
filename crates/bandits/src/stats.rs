//! Confidence intervals through `duality-eval` (rliable-style stratified
//! bootstrap). Every CI in this crate goes through [`bootstrap_ci`], so the
//! statistics live in one place.

use duality_core::Result;
use duality_eval::prelude::{Interval, Metric, ScoreMatrix, StratifiedBootstrap};
use serde::{Deserialize, Serialize};

/// Bootstrap settings for the CIs reported by this crate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CiParams {
    /// Bootstrap replicates.
    pub reps: usize,
    /// Confidence level in (0, 1).
    pub confidence: f64,
    /// Seed of the bootstrap streams.
    pub seed: u64,
}

impl Default for CiParams {
    fn default() -> Self {
        CiParams {
            reps: 2000,
            confidence: 0.95,
            seed: 0,
        }
    }
}

/// Point estimate and percentile-bootstrap CI of `metric` over the samples
/// `values` (one "task", `values.len()` runs).
pub fn bootstrap_ci(values: &[f64], metric: Metric, params: &CiParams) -> Result<Interval> {
    let scores = ScoreMatrix::from_rows(
        "values",
        &values.iter().map(|&v| vec![v]).collect::<Vec<_>>(),
    )?;
    StratifiedBootstrap::new(params.reps, params.confidence, params.seed)?.interval(&scores, metric)
}

/// Mean and interquartile mean of `values`, each with its bootstrap CI.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanIqm {
    /// Mean with CI.
    pub mean: Interval,
    /// Interquartile mean (25% trimmed) with CI.
    pub iqm: Interval,
}

/// [`MeanIqm`] of `values`.
pub fn mean_iqm(values: &[f64], params: &CiParams) -> Result<MeanIqm> {
    Ok(MeanIqm {
        mean: bootstrap_ci(values, Metric::Mean, params)?,
        iqm: bootstrap_ci(values, Metric::Iqm, params)?,
    })
}
