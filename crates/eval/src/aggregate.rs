//! Aggregate metrics over a (runs x tasks) score matrix, with rliable's exact
//! definitions (Agarwal et al. 2021, "Deep RL at the Edge of the Statistical
//! Precipice", Sec. 4.3 and `rliable/metrics.py`):
//!
//! - mean: mean over tasks of the per-task run means;
//! - median: median over tasks of the per-task run means;
//! - IQM: `scipy.stats.trim_mean(scores, 0.25, axis=None)`, i.e. the mean of
//!   the flattened scores after cutting `floor(0.25 N)` from each end;
//! - optimality gap: `gamma - mean(min(score, gamma))` over all scores;
//! - probability of improvement `P(X > Y)`: the mean over tasks of the
//!   Mann-Whitney `U / (n_x n_y)` (ties count 1/2).

use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::scores::{MatrixRef, ScoreMatrix};

/// An aggregate metric of a score matrix.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// Mean over tasks of per-task run means.
    Mean,
    /// Median over tasks of per-task run means.
    Median,
    /// Interquartile mean of all runs x tasks scores (25% trimmed mean).
    Iqm,
    /// `gamma - mean(min(score, gamma))`: how far scores fall short of `gamma`.
    OptimalityGap {
        /// The target score (rliable's default is 1).
        gamma: f64,
    },
}

impl Metric {
    /// The optimality gap with rliable's default `gamma = 1`.
    pub const OPTIMALITY_GAP: Metric = Metric::OptimalityGap { gamma: 1.0 };

    /// Short name used in tables, JSON keys and the CLI
    /// (`mean`, `median`, `iqm`, `optimality-gap`).
    pub fn name(&self) -> &'static str {
        match self {
            Metric::Mean => "mean",
            Metric::Median => "median",
            Metric::Iqm => "iqm",
            Metric::OptimalityGap { .. } => "optimality-gap",
        }
    }

    /// Parses a name as printed by [`Metric::name`] (also `og`, `optimality_gap`);
    /// the optimality gap gets `gamma = 1`.
    pub fn parse(name: &str) -> Result<Metric> {
        match name.trim().to_ascii_lowercase().as_str() {
            "mean" => Ok(Metric::Mean),
            "median" => Ok(Metric::Median),
            "iqm" => Ok(Metric::Iqm),
            "optimality-gap" | "optimality_gap" | "og" => Ok(Metric::OPTIMALITY_GAP),
            _ => Err(Error::invalid(
                "metric",
                name,
                "one of mean, median, iqm, optimality-gap",
            )),
        }
    }

    /// Evaluates the metric on a matrix.
    pub fn compute(&self, scores: &ScoreMatrix) -> f64 {
        let mut scratch = Vec::new();
        self.eval(scores.view(), &mut scratch)
    }

    /// Evaluates the metric on a view, using `scratch` as working memory (it is
    /// resized as needed and can be reused across calls without allocating).
    pub fn eval(&self, m: MatrixRef<'_>, scratch: &mut Vec<f64>) -> f64 {
        match *self {
            Metric::Mean => {
                task_means(m, scratch);
                scratch.iter().sum::<f64>() / m.tasks as f64
            }
            Metric::Median => {
                task_means(m, scratch);
                median_in_place(scratch)
            }
            Metric::Iqm => {
                scratch.clear();
                scratch.extend_from_slice(m.data);
                trimmed_mean_in_place(scratch, 0.25)
            }
            Metric::OptimalityGap { gamma } => {
                let s: f64 = m.data.iter().map(|&x| x.min(gamma)).sum();
                gamma - s / m.data.len() as f64
            }
        }
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Per-task means over runs, written into `out`.
pub fn task_means(m: MatrixRef<'_>, out: &mut Vec<f64>) {
    out.clear();
    out.resize(m.tasks, 0.0);
    for row in m.data.chunks_exact(m.tasks) {
        for (o, &x) in out.iter_mut().zip(row) {
            *o += x;
        }
    }
    let inv = 1.0 / m.runs as f64;
    for o in out.iter_mut() {
        *o *= inv;
    }
}

/// Median (NumPy convention: average of the two middle values for even
/// length); reorders `xs`. Returns NaN for an empty slice.
pub fn median_in_place(xs: &mut [f64]) -> f64 {
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    let mid = n / 2;
    let (left, m, _) = xs.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *m;
    if n % 2 == 1 {
        upper
    } else {
        let lower = left.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        0.5 * (lower + upper)
    }
}

/// `scipy.stats.trim_mean(xs, proportion)`: cuts `floor(proportion * n)`
/// values from each end and averages the rest. Uses two partial selections
/// (O(n)) rather than a sort; reorders `xs`. Returns NaN for an empty slice.
pub fn trimmed_mean_in_place(xs: &mut [f64], proportion: f64) -> f64 {
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    let cut = (proportion * n as f64).floor() as usize;
    let keep = n.saturating_sub(2 * cut);
    if keep == 0 {
        return f64::NAN;
    }
    if cut > 0 {
        // After this, xs[..cut] are the `cut` smallest values.
        xs.select_nth_unstable_by(cut, f64::total_cmp);
        // Within the rest, put the `keep` smallest first: those are the middle.
        let rest = &mut xs[cut..];
        if keep < rest.len() {
            rest.select_nth_unstable_by(keep - 1, f64::total_cmp);
        }
    }
    xs[cut..cut + keep].iter().sum::<f64>() / keep as f64
}

/// Mean over tasks of per-task run means.
pub fn mean(scores: &ScoreMatrix) -> f64 {
    Metric::Mean.compute(scores)
}

/// Median over tasks of per-task run means.
pub fn median(scores: &ScoreMatrix) -> f64 {
    Metric::Median.compute(scores)
}

/// Interquartile mean of all scores (`scipy.stats.trim_mean(x, 0.25)`).
pub fn iqm(scores: &ScoreMatrix) -> f64 {
    Metric::Iqm.compute(scores)
}

/// Optimality gap `gamma - mean(min(score, gamma))`; `gamma` must be finite.
pub fn optimality_gap(scores: &ScoreMatrix, gamma: f64) -> Result<f64> {
    duality_core::check::finite_scalar("gamma", gamma)?;
    Ok(Metric::OptimalityGap { gamma }.compute(scores))
}

/// Mann-Whitney `U` of `x` against `y`: the number of pairs with `x > y`
/// plus half the ties. Exact (a half-integer) for any input.
///
/// Small samples count pairs directly; larger ones use one sort and midranks
/// (`U = R_x - n_x (n_x + 1) / 2`), as `scipy.stats.mannwhitneyu`.
pub fn mann_whitney_u(x: &[f64], y: &[f64], scratch: &mut Vec<(f64, bool)>) -> f64 {
    if x.len() * y.len() <= 1024 {
        let mut twice = 0u64;
        for &a in x {
            for &b in y {
                twice += if a > b {
                    2
                } else if a == b {
                    1
                } else {
                    0
                };
            }
        }
        return twice as f64 * 0.5;
    }
    scratch.clear();
    scratch.extend(x.iter().map(|&v| (v, true)));
    scratch.extend(y.iter().map(|&v| (v, false)));
    scratch.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    // Sum of midranks of x (1-based), accumulated as twice the rank to stay exact.
    let mut twice_rank_sum = 0u64;
    let mut i = 0;
    while i < scratch.len() {
        let mut j = i + 1;
        while j < scratch.len() && scratch[j].0 == scratch[i].0 {
            j += 1;
        }
        // Ranks i+1..=j share the midrank (i + 1 + j) / 2.
        let in_x = scratch[i..j].iter().filter(|p| p.1).count() as u64;
        twice_rank_sum += in_x * (i + 1 + j) as u64;
        i = j;
    }
    let nx = x.len() as u64;
    (twice_rank_sum as f64 - (nx * (nx + 1)) as f64) * 0.5
}

/// Probability of improvement `P(X > Y)` (rliable's
/// `probability_of_improvement`): the mean over tasks of `U / (n_x n_y)`.
/// `x` and `y` must have the same tasks but may have different run counts.
pub fn probability_of_improvement(x: &ScoreMatrix, y: &ScoreMatrix) -> Result<f64> {
    check_same_tasks(x, y)?;
    let mut scratch = PoiScratch::default();
    Ok(poi_views(x.view(), y.view(), &mut scratch))
}

pub(crate) fn check_same_tasks(x: &ScoreMatrix, y: &ScoreMatrix) -> Result<()> {
    if x.tasks() != y.tasks() {
        return Err(Error::LengthMismatch {
            left_name: format!("tasks of {}", x.algorithm()),
            left: x.tasks(),
            right_name: format!("tasks of {}", y.algorithm()),
            right: y.tasks(),
        });
    }
    Ok(())
}

/// Reusable buffers for [`poi_views`].
#[derive(Debug, Default, Clone)]
pub struct PoiScratch {
    col_x: Vec<f64>,
    col_y: Vec<f64>,
    pairs: Vec<(f64, bool)>,
}

/// Probability of improvement on views (tasks must agree; not checked).
pub fn poi_views(x: MatrixRef<'_>, y: MatrixRef<'_>, s: &mut PoiScratch) -> f64 {
    let mut total = 0.0;
    for t in 0..x.tasks {
        s.col_x.clear();
        s.col_x.extend((0..x.runs).map(|r| x.data[r * x.tasks + t]));
        s.col_y.clear();
        s.col_y.extend((0..y.runs).map(|r| y.data[r * y.tasks + t]));
        let u = mann_whitney_u(&s.col_x, &s.col_y, &mut s.pairs);
        total += u / (x.runs * y.runs) as f64;
    }
    total / x.tasks as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(rows: &[Vec<f64>]) -> ScoreMatrix {
        ScoreMatrix::from_rows("a", rows).unwrap()
    }

    #[test]
    fn small_hand_examples() {
        let s = m(&[vec![1.0, 2.0, 10.0], vec![3.0, 4.0, 0.0]]);
        assert_eq!(mean(&s), (2.0 + 3.0 + 5.0) / 3.0);
        assert_eq!(median(&s), 3.0);
        // 6 values, cut floor(1.5) = 1 each end: mean of 1,2,3,4.
        assert_eq!(iqm(&s), 2.5);
        assert_eq!(optimality_gap(&s, 1.0).unwrap(), 1.0 - 5.0 / 6.0);
        let even = m(&[vec![1.0, 2.0, 3.0, 10.0]]);
        assert_eq!(median(&even), 2.5);
    }

    #[test]
    fn poi_ties_and_unequal_runs() {
        let x = m(&[vec![1.0], vec![2.0], vec![3.0]]);
        let y = ScoreMatrix::from_rows("b", &[vec![2.0], vec![0.0]]).unwrap();
        // pairs: (1,2)0 (1,0)1 (2,2).5 (2,0)1 (3,2)1 (3,0)1 = 4.5 / 6
        assert_eq!(probability_of_improvement(&x, &y).unwrap(), 0.75);
        assert_eq!(probability_of_improvement(&x, &x).unwrap(), 0.5);
    }

    proptest! {
        #[test]
        fn u_by_ranks_equals_pair_count(
            x in prop::collection::vec(0i32..20, 1..60),
            y in prop::collection::vec(0i32..20, 20..80),
        ) {
            let x: Vec<f64> = x.into_iter().map(f64::from).collect();
            let y: Vec<f64> = y.into_iter().map(f64::from).collect();
            let mut pairs = 0.0;
            for &a in &x { for &b in &y {
                pairs += if a > b { 1.0 } else if a == b { 0.5 } else { 0.0 };
            }}
            let mut s = Vec::new();
            // Force the rank path by padding both sides to exceed the cutoff.
            let xr: Vec<f64> = x.iter().cycle().take(x.len() * 40).copied().collect();
            let yr: Vec<f64> = y.iter().cycle().take(y.len() * 40).copied().collect();
            prop_assert_eq!(mann_whitney_u(&xr, &yr, &mut s), pairs * 1600.0);
            prop_assert_eq!(mann_whitney_u(&x, &y, &mut s), pairs);
        }

        #[test]
        fn trimmed_mean_matches_sort(xs in prop::collection::vec(-1e3f64..1e3, 1..200)) {
            let mut sorted = xs.clone();
            sorted.sort_by(f64::total_cmp);
            let cut = xs.len() / 4;
            let mid = &sorted[cut..xs.len() - cut];
            let expect = mid.iter().sum::<f64>() / mid.len() as f64;
            let mut work = xs.clone();
            let got = trimmed_mean_in_place(&mut work, 0.25);
            prop_assert!((got - expect).abs() <= 1e-9 * (1.0 + expect.abs()));
        }
    }
}
