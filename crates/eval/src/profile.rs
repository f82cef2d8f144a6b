//! Performance profiles and sample-efficiency curves (Agarwal et al. 2021,
//! Sec. 4.2; `rliable.library.create_performance_profile`).
//!
//! - run-score distribution: `F(tau)` = fraction of all runs x tasks scores
//!   strictly above `tau`;
//! - average-score distribution: fraction of per-task mean scores strictly
//!   above `tau`.
//!
//! Both come with pointwise stratified-bootstrap CIs (rliable default: 2,000
//! replicates).

use duality_core::seed::Seeder;
use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::aggregate::{task_means, Metric};
use crate::bootstrap::{Interval, Statistic, StratifiedBootstrap};
use crate::scores::{MatrixRef, ScoreMatrix};

/// Which distribution a profile shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileKind {
    /// Fraction of runs (all runs x tasks) with score > tau (rliable's default).
    #[default]
    RunScore,
    /// Fraction of tasks whose mean score over runs is > tau.
    AverageScore,
}

/// `count` evenly spaced thresholds from `start` to `stop` inclusive
/// (`numpy.linspace`).
pub fn tau_grid(start: f64, stop: f64, count: usize) -> Result<Vec<f64>> {
    duality_core::check::finite_scalar("tau start", start)?;
    duality_core::check::finite_scalar("tau stop", stop)?;
    duality_core::check::at_least("tau count", count, 1)?;
    duality_core::limits::elements::<f64>("tau count", count)?;
    if count == 1 {
        return Ok(vec![start]);
    }
    let step = (stop - start) / (count - 1) as f64;
    let last = (count - 1) as f64;
    Ok((0..count)
        .map(|i| {
            if i == count - 1 {
                stop
            } else if step.is_finite() {
                start + i as f64 * step
            } else {
                // stop - start overflows (e.g. -1e308..1e308): interpolate
                // with weights, which stays within [start, stop].
                let t = i as f64 / last;
                start * (1.0 - t) + stop * t
            }
        })
        .collect())
}

/// The profile as a bootstrap [`Statistic`]: one output per threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileStatistic {
    /// Thresholds.
    pub taus: Vec<f64>,
    /// Which distribution.
    pub kind: ProfileKind,
}

impl Statistic for ProfileStatistic {
    fn outputs(&self) -> usize {
        self.taus.len()
    }

    fn evaluate(&self, m: MatrixRef<'_>, scratch: &mut Vec<f64>, out: &mut [f64]) {
        match self.kind {
            ProfileKind::RunScore => {
                scratch.clear();
                scratch.extend_from_slice(m.data);
            }
            ProfileKind::AverageScore => task_means(m, scratch),
        }
        // One sort, then a binary search per threshold.
        scratch.sort_unstable_by(f64::total_cmp);
        let n = scratch.len() as f64;
        for (o, &tau) in out.iter_mut().zip(&self.taus) {
            let at_most = scratch.partition_point(|&v| v <= tau);
            *o = (scratch.len() - at_most) as f64 / n;
        }
    }
}

/// A performance profile with pointwise CIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Algorithm name.
    pub algorithm: String,
    /// Which distribution.
    pub kind: ProfileKind,
    /// Thresholds.
    pub taus: Vec<f64>,
    /// Profile value and CI at each threshold.
    pub points: Vec<Interval>,
}

/// The profile of `scores` at `taus` (no CI).
pub fn profile_values(scores: &ScoreMatrix, taus: &[f64], kind: ProfileKind) -> Result<Vec<f64>> {
    duality_core::check::finite_non_empty("taus", taus)?;
    let stat = ProfileStatistic {
        taus: taus.to_vec(),
        kind,
    };
    let mut out = vec![0.0; taus.len()];
    stat.evaluate(scores.view(), &mut Vec::new(), &mut out);
    Ok(out)
}

/// The profile of `scores` at `taus` with bootstrap CIs.
pub fn performance_profile(
    scores: &ScoreMatrix,
    taus: &[f64],
    kind: ProfileKind,
    bootstrap: &StratifiedBootstrap,
) -> Result<Profile> {
    duality_core::check::finite_non_empty("taus", taus)?;
    let stat = ProfileStatistic {
        taus: taus.to_vec(),
        kind,
    };
    let seeder = Seeder::new(bootstrap.params().seed).named(scores.algorithm());
    let points = bootstrap.intervals_of(scores, &stat, seeder)?;
    Ok(Profile {
        algorithm: scores.algorithm().to_string(),
        kind,
        taus: taus.to_vec(),
        points,
    })
}

/// A sample-efficiency curve: an aggregate with CI at each checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EfficiencyCurve {
    /// Algorithm name.
    pub algorithm: String,
    /// Metric aggregated.
    pub metric: Metric,
    /// Checkpoints (e.g. environment steps).
    pub checkpoints: Vec<f64>,
    /// Aggregate and CI at each checkpoint.
    pub points: Vec<Interval>,
}

/// Aggregates `metric` at each checkpoint (`scores[i]` are the runs x tasks
/// scores at `checkpoints[i]`), each with its own stream `child(i)`.
pub fn sample_efficiency(
    scores: &[ScoreMatrix],
    checkpoints: &[f64],
    metric: Metric,
    bootstrap: &StratifiedBootstrap,
) -> Result<EfficiencyCurve> {
    duality_core::check::non_empty("checkpoint scores", scores)?;
    duality_core::check::same_len(
        "checkpoint scores",
        scores.len(),
        "checkpoints",
        checkpoints.len(),
    )?;
    duality_core::check::finite("checkpoints", checkpoints)?;
    let algorithm = scores[0].algorithm().to_string();
    let root = Seeder::new(bootstrap.params().seed).named(&algorithm);
    let points = scores
        .iter()
        .enumerate()
        .map(|(i, m)| {
            if m.tasks() != scores[0].tasks() {
                return Err(Error::LengthMismatch {
                    left_name: "tasks at checkpoint 0".into(),
                    left: scores[0].tasks(),
                    right_name: format!("tasks at checkpoint {i}"),
                    right: m.tasks(),
                });
            }
            let v = bootstrap.intervals_of(m, &metric, root.child(i as u64))?;
            Ok(v[0])
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(EfficiencyCurve {
        algorithm,
        metric,
        checkpoints: checkpoints.to_vec(),
        points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_threshold_and_grid() {
        let m = ScoreMatrix::from_rows("a", &[vec![0.0, 1.0], vec![1.0, 2.0]]).unwrap();
        let run = profile_values(&m, &[0.0, 1.0, 2.0], ProfileKind::RunScore).unwrap();
        assert_eq!(run, vec![0.75, 0.25, 0.0]);
        let avg = profile_values(&m, &[0.4, 0.5, 1.0], ProfileKind::AverageScore).unwrap();
        assert_eq!(avg, vec![1.0, 0.5, 0.5]);
        assert_eq!(
            tau_grid(0.0, 1.0, 5).unwrap(),
            vec![0.0, 0.25, 0.5, 0.75, 1.0]
        );
        assert!(tau_grid(0.0, 1.0, 0).is_err());
    }

    #[test]
    fn profile_ci_brackets_value() {
        let rows: Vec<Vec<f64>> = (0..6)
            .map(|r| (0..5).map(|t| (r * 7 + t * 3) as f64 / 40.0).collect())
            .collect();
        let m = ScoreMatrix::from_rows("a", &rows).unwrap();
        let taus = tau_grid(0.0, 1.0, 6).unwrap();
        let bs = StratifiedBootstrap::new(500, 0.95, 3).unwrap();
        let p = performance_profile(&m, &taus, ProfileKind::RunScore, &bs).unwrap();
        for pt in &p.points {
            assert!(pt.lo <= pt.estimate && pt.estimate <= pt.hi, "{pt:?}");
        }
        let curve = sample_efficiency(&[m.clone(), m], &[1.0, 2.0], Metric::Iqm, &bs).unwrap();
        assert_eq!(curve.points.len(), 2);
    }
}

/// Regression tests of issue #25.
#[cfg(test)]
mod reliability_tests {
    use super::*;

    #[test]
    fn grids_across_the_whole_range_stay_finite_and_huge_counts_are_refused() {
        let g = tau_grid(-1e308, 1e308, 3).unwrap();
        assert_eq!(g, vec![-1e308, 0.0, 1e308]);
        assert!(tau_grid(-f64::MAX, f64::MAX, 1000)
            .unwrap()
            .iter()
            .all(|v| v.is_finite()));
        let e = tau_grid(0.0, 1.0, usize::MAX / 2).unwrap_err().to_string();
        assert!(e.contains("tau count"), "{e}");
    }
}
