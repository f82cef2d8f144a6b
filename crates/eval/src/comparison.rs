//! Statistics for comparing two models that users keep asking for:
//! the Nadeau-Bengio corrected resampled t-test, paired-difference
//! confidence intervals (analytic and bootstrap), cluster-robust standard
//! errors of an accuracy, and a seed-budget planner for the CI width or the
//! power of the IQM and of the probability of improvement `P(X > Y)`. (Mid-p McNemar is [`crate::classical::McNemar::p_mid`]; the DeLong
//! interval of an AUROC difference is [`crate::ranking::DeLong::difference_ci`].)
//! Cross-checked against SciPy 1.17.1 and statsmodels 0.15.0
//! (`fixtures/eval/generate_comparison.py`).

use std::collections::BTreeMap;

use duality_core::seed::Seeder;
use duality_core::{Error, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use crate::aggregate::Metric;
use crate::bootstrap::{Interval, StratifiedBootstrap};
use crate::classical::TestResult;
use crate::scores::ScoreMatrix;

fn t_dist(df: f64) -> Result<StudentsT> {
    StudentsT::new(0.0, 1.0, df).map_err(|e| Error::wrap(format!("Student-t with df = {df}"), e))
}

fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

/// Nadeau & Bengio's (2003, eq. (7) / "corrected resampled t") test over `J`
/// random train/test splits with score differences `d_j`:
/// `t = mean(d) / sqrt((1/J + n_test/n_train) s^2)`, `J - 1` d.f., two-sided.
/// The `n_test / n_train` term corrects the variance for the overlap of the
/// training sets, which makes the plain resampled t-test anti-conservative.
pub fn corrected_resampled_t(
    differences: &[f64],
    n_train: usize,
    n_test: usize,
) -> Result<TestResult> {
    duality_core::check::finite("differences", differences)?;
    duality_core::check::at_least("number of splits", differences.len(), 2)?;
    duality_core::check::at_least("n_train", n_train, 1)?;
    duality_core::check::at_least("n_test", n_test, 1)?;
    let j = differences.len() as f64;
    let (mean, var) = mean_var(differences);
    let denom = ((1.0 / j + n_test as f64 / n_train as f64) * var).sqrt();
    let t = if denom > 0.0 {
        mean / denom
    } else if mean == 0.0 {
        0.0
    } else {
        mean.signum() * f64::INFINITY
    };
    let p_value = 2.0 * t_dist(j - 1.0)?.sf(t.abs());
    Ok(TestResult {
        statistic: t,
        p_value: p_value.min(1.0),
    })
}

/// Scores of two models on the same items, paired by item id.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedScores {
    a: Vec<f64>,
    b: Vec<f64>,
    /// Item ids in the order of `a` and `b` (empty when built by
    /// [`PairedScores::new`]); errors name them.
    items: Vec<String>,
}

/// Scores below this magnitude are paired as they are; larger ones are
/// scaled by a power of two first (exact), so differences, sums and
/// squares stay finite: `2^400` leaves room for `n` squares of `2^401`.
const UNSCALED_LIMIT: f64 = 2.582_249_878_086_908_6e120; // 2^400

/// The per-item differences `a - b` on a scale where they, their sums
/// and their squares are finite, and the power of two that undoes it
/// (1 for scores below [`UNSCALED_LIMIT`], so ordinary data give exactly
/// the unscaled results).
fn scaled_differences(a: &[f64], b: &[f64]) -> (Vec<f64>, f64) {
    let largest = a.iter().chain(b).fold(0.0f64, |m, x| m.max(x.abs()));
    if largest < UNSCALED_LIMIT {
        return (a.iter().zip(b).map(|(x, y)| x - y).collect(), 1.0);
    }
    // 2^k with largest / 2^k <= 2^400; both powers are exact in f64.
    let k = largest.log2().ceil() as i32 - 400;
    let (down, up) = (2f64.powi(-k), 2f64.powi(k));
    (
        a.iter().zip(b).map(|(x, y)| x * down - y * down).collect(),
        up,
    )
}

impl PairedScores {
    /// `value` (computed on the scale of [`scaled_differences`]) back on
    /// the scores' scale, or an error naming the item with the largest
    /// difference when the answer is beyond f64 (issue #25: scores near
    /// 1e308 printed inf/NaN intervals).
    fn unscale(&self, what: &str, value: f64, up: f64, d: &[f64]) -> Result<f64> {
        let out = value * up;
        if out.is_finite() {
            return Ok(out);
        }
        let i = (0..d.len())
            .max_by(|&i, &j| d[i].abs().total_cmp(&d[j].abs()))
            .unwrap_or(0);
        let item = self
            .items
            .get(i)
            .map_or_else(|| format!("{}", i + 1), |s| format!("{s:?}"));
        Err(Error::invalid(
            format!("{what} of the paired differences"),
            out,
            format!(
                "a finite number: item {item} (A = {}, B = {}) makes the differences exceed \
                 the f64 range; rescale the scores",
                duality_core::error::short_number(self.a[i]),
                duality_core::error::short_number(self.b[i])
            ),
        ))
    }
}

impl PairedScores {
    /// Pairs `(item, score)` lists of model A and model B. Errors name the
    /// first item present in one list only, a duplicated item, or a
    /// non-finite score; at least 2 items.
    pub fn by_item(a: &[(String, f64)], b: &[(String, f64)]) -> Result<Self> {
        let index = |v: &[(String, f64)], name: &str| -> Result<BTreeMap<String, f64>> {
            let mut m = BTreeMap::new();
            for (item, s) in v {
                duality_core::check::finite_scalar(&format!("{name} score of item {item:?}"), *s)?;
                if m.insert(item.clone(), *s).is_some() {
                    return Err(Error::invalid(
                        format!("{name} item"),
                        item,
                        "each item once",
                    ));
                }
            }
            Ok(m)
        };
        let (ma, mb) = (index(a, "model A")?, index(b, "model B")?);
        if let Some(k) = ma.keys().find(|k| !mb.contains_key(*k)) {
            return Err(Error::invalid(
                "item id",
                k,
                "present for model B too (mismatched item ids)",
            ));
        }
        if let Some(k) = mb.keys().find(|k| !ma.contains_key(*k)) {
            return Err(Error::invalid(
                "item id",
                k,
                "present for model A too (mismatched item ids)",
            ));
        }
        let mut paired = Self::new(
            ma.values().copied().collect(),
            mb.values().copied().collect(),
        )?;
        paired.items = ma.into_keys().collect();
        Ok(paired)
    }

    /// Pairs scores given in the same item order (at least 2, finite).
    pub fn new(a: Vec<f64>, b: Vec<f64>) -> Result<Self> {
        duality_core::check::same_len("scores of model A", a.len(), "scores of model B", b.len())?;
        duality_core::check::at_least("paired items", a.len(), 2)?;
        duality_core::check::finite("scores of model A", &a)?;
        duality_core::check::finite("scores of model B", &b)?;
        Ok(Self {
            a,
            b,
            items: Vec::new(),
        })
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.a.len()
    }

    /// Always false (at least 2 items).
    pub fn is_empty(&self) -> bool {
        self.a.is_empty()
    }

    /// Per-item differences `a - b` (infinite where two scores near the f64
    /// limit have opposite signs; the intervals below scale first).
    pub fn differences(&self) -> Vec<f64> {
        self.a.iter().zip(&self.b).map(|(x, y)| x - y).collect()
    }

    /// Analytic CI of the mean difference: `mean(d) ± t_{n-1} s / sqrt(n)`
    /// (the paired t interval, `scipy.stats.ttest_rel(a, b).confidence_interval`).
    /// Scores beyond 2^400 in magnitude are scaled by a power of two first,
    /// so the interval is finite whenever its ends are representable; an
    /// end beyond f64 is an error naming the item.
    pub fn analytic_ci(&self, confidence: f64) -> Result<Interval> {
        duality_core::check::open_unit("confidence", confidence)?;
        let (d, up) = scaled_differences(&self.a, &self.b);
        let n = d.len() as f64;
        let (mean, var) = mean_var(&d);
        let half = t_dist(n - 1.0)?.inverse_cdf(0.5 + confidence / 2.0) * (var / n).sqrt();
        Ok(Interval {
            estimate: self.unscale("mean", mean, up, &d)?,
            lo: self.unscale("lower CI end", mean - half, up, &d)?,
            hi: self.unscale("upper CI end", mean + half, up, &d)?,
        })
    }

    /// Percentile bootstrap CI of the mean difference, resampling items
    /// (pairs stay together); replicates in blocks of 256 on their own
    /// streams, so the interval does not depend on the thread count.
    pub fn bootstrap_ci(&self, reps: usize, confidence: f64, seed: u64) -> Result<Interval> {
        duality_core::check::open_unit("confidence", confidence)?;
        duality_core::check::at_least("reps", reps, 2)?;
        let (d, up) = scaled_differences(&self.a, &self.b);
        let n = d.len();
        let mut means = Seeder::new(seed).par_blocks(reps, 256, |_, len, rng| {
            (0..len)
                .map(|_| (0..n).map(|_| d[rng.random_range(0..n)]).sum::<f64>() / n as f64)
                .collect()
        });
        means.sort_unstable_by(f64::total_cmp);
        let estimate = d.iter().sum::<f64>() / n as f64;
        let alpha = 1.0 - confidence;
        Ok(Interval {
            estimate: self.unscale("mean", estimate, up, &d)?,
            lo: self.unscale("lower CI end", percentile(&means, alpha / 2.0), up, &d)?,
            hi: self.unscale(
                "upper CI end",
                percentile(&means, 1.0 - alpha / 2.0),
                up,
                &d,
            )?,
        })
    }
}

/// A ratio of paired positive costs (nodes, evaluations, seconds) of
/// method A over method B: the geometric mean of the per-pair ratios with
/// the paired t interval of the mean log ratio, mapped back by `exp` (the
/// usual way to compare search costs that span orders of magnitude; a CI
/// entirely below 1 means A needs less).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairedRatio {
    /// `exp(mean ln(a_i / b_i))`.
    pub ratio: f64,
    /// Lower end of the interval on the ratio scale.
    pub lo: f64,
    /// Upper end of the interval on the ratio scale.
    pub hi: f64,
    /// Pairs where A cost less (`ln` ratio < 0).
    pub fewer: usize,
    /// Pairs where A cost more.
    pub more: usize,
    /// Number of pairs.
    pub pairs: usize,
}

impl PairedRatio {
    /// From per-pair log ratios `ln(a_i / b_i)` (at least 2, finite) at
    /// the given confidence level.
    pub fn from_log_ratios(log_ratios: &[f64], confidence: f64) -> Result<Self> {
        let zeros = vec![0.0; log_ratios.len()];
        let iv = PairedScores::new(log_ratios.to_vec(), zeros)?.analytic_ci(confidence)?;
        Ok(PairedRatio {
            ratio: iv.estimate.exp(),
            lo: iv.lo.exp(),
            hi: iv.hi.exp(),
            fewer: log_ratios.iter().filter(|v| **v < 0.0).count(),
            more: log_ratios.iter().filter(|v| **v > 0.0).count(),
            pairs: log_ratios.len(),
        })
    }

    /// From paired positive costs `a` and `b` (same length, each > 0).
    pub fn from_costs(a: &[f64], b: &[f64], confidence: f64) -> Result<Self> {
        duality_core::check::same_len("costs of A", a.len(), "costs of B", b.len())?;
        for (name, v) in [("costs of A", a), ("costs of B", b)] {
            if let Some(i) = v.iter().position(|x| !(x.is_finite() && *x > 0.0)) {
                return Err(Error::invalid(
                    format!("{name} [{i}]"),
                    v[i],
                    "a finite cost > 0",
                ));
            }
        }
        let ln: Vec<f64> = a.iter().zip(b).map(|(x, y)| (x / y).ln()).collect();
        Self::from_log_ratios(&ln, confidence)
    }

    /// The claim "A costs less than B" on this interval: held when it lies
    /// below 1, not held when above 1, not shown when it covers 1.
    /// `costlier` names what A needs more of (`"more nodes"`).
    pub fn verdict(&self, costlier: &str) -> String {
        if self.hi < 1.0 {
            "HELD (CI below 1)".into()
        } else if self.lo > 1.0 {
            format!("NOT held (CI above 1: {costlier})")
        } else {
            "NOT shown (CI covers 1)".into()
        }
    }
}

/// `numpy.percentile` with linear interpolation on sorted data.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let h = p * (sorted.len() - 1) as f64;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Accuracy with a naive and a cluster-robust standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClusteredAccuracy {
    /// Fraction correct.
    pub accuracy: f64,
    /// Items.
    pub n: usize,
    /// Clusters.
    pub clusters: usize,
    /// `sqrt(p (1 - p) / (n - 1))`, the i.i.d. standard error (OLS on a
    /// constant, as statsmodels' non-robust `bse`).
    pub se_iid: f64,
    /// Cluster-robust (CR1) standard error:
    /// `sqrt(G/(G-1) (n-1)/(n-1) sum_g (sum_{i in g} (y_i - p))^2) / n`
    /// (Liang & Zeger 1986; statsmodels `cov_type="cluster"` with its
    /// default small-sample correction, one regressor).
    pub se_cluster: f64,
    /// `(se_cluster / se_iid)^2`, the design effect.
    pub design_effect: f64,
}

/// Accuracy of `correct` (one flag per item) with cluster-robust standard
/// error over `clusters` (a label per item, e.g. the passage a question came
/// from; Miller 2024, "Adding Error Bars to Evals"). At least 2 clusters.
pub fn clustered_accuracy<S: AsRef<str>>(
    correct: &[bool],
    clusters: &[S],
) -> Result<ClusteredAccuracy> {
    duality_core::check::same_len("correct", correct.len(), "clusters", clusters.len())?;
    duality_core::check::at_least("items", correct.len(), 2)?;
    let n = correct.len() as f64;
    let p = correct.iter().filter(|&&c| c).count() as f64 / n;
    let mut sums: BTreeMap<&str, f64> = BTreeMap::new();
    for (&c, g) in correct.iter().zip(clusters) {
        *sums.entry(g.as_ref()).or_default() += f64::from(u8::from(c)) - p;
    }
    let g = sums.len();
    if g < 2 {
        return Err(Error::invalid("number of clusters", g, ">= 2"));
    }
    let gf = g as f64;
    let meat: f64 = sums.values().map(|s| s * s).sum();
    let se_cluster = (gf / (gf - 1.0) * meat).sqrt() / n;
    let se_iid = (p * (1.0 - p) * n / (n - 1.0)).sqrt() / n.sqrt();
    let design_effect = if se_iid > 0.0 {
        (se_cluster / se_iid).powi(2)
    } else {
        f64::NAN
    };
    Ok(ClusteredAccuracy {
        accuracy: p,
        n: correct.len(),
        clusters: g,
        se_iid,
        se_cluster,
        design_effect,
    })
}

/// A planned number of runs per task, from a pilot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RunPlan {
    /// Runs per task in the pilot.
    pub pilot_runs: usize,
    /// Bootstrap CI width of the pilot's IQM.
    pub pilot_width: f64,
    /// Standard error implied by that width (`width / (2 z)`).
    pub pilot_se: f64,
    /// Planned runs per task (at least 2).
    pub runs: usize,
    /// What the plan predicts at `runs`: the CI width (width target) or the
    /// power (power target).
    pub predicted: f64,
}

fn pilot_iqm(pilot: &ScoreMatrix, bootstrap: &StratifiedBootstrap) -> Result<(usize, f64, f64)> {
    let r = pilot.runs();
    if r < 2 {
        return Err(Error::invalid(
            format!("pilot runs of {}", pilot.algorithm()),
            r,
            ">= 2 runs per task (one run gives no spread to extrapolate)",
        ));
    }
    let ci = bootstrap.interval(pilot, Metric::Iqm)?;
    let z = Normal::standard().inverse_cdf(0.5 + bootstrap.params().confidence / 2.0);
    Ok((r, ci.width(), ci.width() / (2.0 * z)))
}

/// Runs per task for a target width of the IQM's stratified-bootstrap CI:
/// the width of a mean-like statistic shrinks as `1 / sqrt(N)`, so
/// `N = ceil(r (w_r / W)^2)` from the pilot's width `w_r` at `r` runs.
pub fn plan_for_width(
    pilot: &ScoreMatrix,
    target_width: f64,
    bootstrap: &StratifiedBootstrap,
) -> Result<RunPlan> {
    duality_core::check::positive("target width", target_width)?;
    let (r, w, se) = pilot_iqm(pilot, bootstrap)?;
    let runs = ((r as f64 * (w / target_width).powi(2)).ceil() as usize).max(2);
    Ok(RunPlan {
        pilot_runs: r,
        pilot_width: w,
        pilot_se: se,
        runs,
        predicted: w * (r as f64 / runs as f64).sqrt(),
    })
}

/// Runs per task so that a two-sided level-`alpha` z-test of the IQM
/// difference between two algorithms (each with the pilot's spread) detects
/// an effect `effect` with probability `power`:
/// `N = ceil(2 r se_r^2 (z_{1-alpha/2} + z_power)^2 / effect^2)`.
pub fn plan_for_power(
    pilot: &ScoreMatrix,
    effect: f64,
    power: f64,
    alpha: f64,
    bootstrap: &StratifiedBootstrap,
) -> Result<RunPlan> {
    duality_core::check::positive("effect", effect.abs())?;
    duality_core::check::open_unit("power", power)?;
    duality_core::check::open_unit("alpha", alpha)?;
    let (r, w, se) = pilot_iqm(pilot, bootstrap)?;
    let std = Normal::standard();
    let za = std.inverse_cdf(1.0 - alpha / 2.0);
    let zb = std.inverse_cdf(power);
    let runs =
        ((2.0 * r as f64 * se * se * (za + zb).powi(2) / (effect * effect)).ceil() as usize).max(2);
    let se_diff = (2.0 * se * se * r as f64 / runs as f64).sqrt();
    let predicted = std.cdf(effect.abs() / se_diff - za) + std.cdf(-effect.abs() / se_diff - za);
    Ok(RunPlan {
        pilot_runs: r,
        pilot_width: w,
        pilot_se: se,
        runs,
        predicted,
    })
}

fn pilot_improvement(
    x: &ScoreMatrix,
    y: &ScoreMatrix,
    bootstrap: &StratifiedBootstrap,
) -> Result<(usize, f64, f64)> {
    for m in [x, y] {
        if m.runs() < 2 {
            return Err(Error::invalid(
                format!("pilot runs of {}", m.algorithm()),
                m.runs(),
                ">= 2 runs per task (one run gives no spread to extrapolate)",
            ));
        }
    }
    let r = x.runs().min(y.runs());
    let ci = bootstrap.improvement(x, y)?;
    let z = Normal::standard().inverse_cdf(0.5 + bootstrap.params().confidence / 2.0);
    Ok((r, ci.width(), ci.width() / (2.0 * z)))
}

/// Runs per task (for each of the two algorithms) for a target width of the
/// stratified-bootstrap CI of the probability of improvement `P(X > Y)`:
/// the width shrinks as `1 / sqrt(N)` when both algorithms get `N` runs, so
/// `N = ceil(r (w_r / W)^2)` with `r` the smaller pilot run count.
pub fn plan_improvement_width(
    x: &ScoreMatrix,
    y: &ScoreMatrix,
    target_width: f64,
    bootstrap: &StratifiedBootstrap,
) -> Result<RunPlan> {
    duality_core::check::positive("target width", target_width)?;
    let (r, w, se) = pilot_improvement(x, y, bootstrap)?;
    let runs = ((r as f64 * (w / target_width).powi(2)).ceil() as usize).max(2);
    Ok(RunPlan {
        pilot_runs: r,
        pilot_width: w,
        pilot_se: se,
        runs,
        predicted: w * (r as f64 / runs as f64).sqrt(),
    })
}

/// Runs per task (for each algorithm) so that the two-sided level-`alpha`
/// z-test of `P(X > Y) = 1/2` (standard error from the bootstrap CI)
/// detects `P(X > Y) = 1/2 + effect` with probability `power`:
/// `N = ceil(r se_r^2 (z_{1-alpha/2} + z_power)^2 / effect^2)`, `0 < |effect| < 1/2`.
pub fn plan_improvement_power(
    x: &ScoreMatrix,
    y: &ScoreMatrix,
    effect: f64,
    power: f64,
    alpha: f64,
    bootstrap: &StratifiedBootstrap,
) -> Result<RunPlan> {
    if !(effect.abs() > 0.0 && effect.abs() < 0.5) {
        return Err(Error::invalid(
            "effect (P(X > Y) - 1/2)",
            effect,
            "0 < |effect| < 0.5",
        ));
    }
    duality_core::check::open_unit("power", power)?;
    duality_core::check::open_unit("alpha", alpha)?;
    let (r, w, se) = pilot_improvement(x, y, bootstrap)?;
    let std = Normal::standard();
    let za = std.inverse_cdf(1.0 - alpha / 2.0);
    let zb = std.inverse_cdf(power);
    let runs =
        ((r as f64 * se * se * (za + zb).powi(2) / (effect * effect)).ceil() as usize).max(2);
    let se_n = se * (r as f64 / runs as f64).sqrt();
    let predicted = std.cdf(effect.abs() / se_n - za) + std.cdf(-effect.abs() / se_n - za);
    Ok(RunPlan {
        pilot_runs: r,
        pilot_width: w,
        pilot_se: se,
        runs,
        predicted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_ratio_is_a_geometric_mean_with_a_t_interval() {
        // Ratios 1/2, 1/2, 1/8: geometric mean 2^(-5/3).
        let r = PairedRatio::from_costs(&[1.0, 2.0, 1.0], &[2.0, 4.0, 8.0], 0.95).unwrap();
        assert!((r.ratio - 2f64.powf(-5.0 / 3.0)).abs() < 1e-12, "{r:?}");
        assert!(r.lo < r.ratio && r.ratio < r.hi);
        assert_eq!((r.fewer, r.more, r.pairs), (3, 0, 3));
        // ln ratios: -ln2, -ln2, -3 ln2; mean -5/3 ln2, sd 2/sqrt(3) ln2.
        let sd = 2.0 / 3f64.sqrt() * std::f64::consts::LN_2;
        let half = 4.302_652_729_749_464 * sd / 3f64.sqrt(); // t_{0.975, 2}
        let mean = -5.0 / 3.0 * std::f64::consts::LN_2;
        assert!((r.hi.ln() - (mean + half)).abs() < 1e-9, "{r:?}");
        assert_eq!(r.verdict("more nodes"), "NOT shown (CI covers 1)");
        let sure = PairedRatio::from_log_ratios(&[-1.0, -1.1, -0.9, -1.0], 0.95).unwrap();
        assert_eq!(sure.verdict("more"), "HELD (CI below 1)");
        let worse = PairedRatio::from_log_ratios(&[1.0, 1.1, 0.9, 1.0], 0.95).unwrap();
        assert_eq!(
            worse.verdict("more nodes"),
            "NOT held (CI above 1: more nodes)"
        );
        let err = PairedRatio::from_costs(&[1.0, 0.0], &[1.0, 1.0], 0.95).unwrap_err();
        assert!(err.to_string().contains("costs of A [1]"), "{err}");
        assert!(PairedRatio::from_log_ratios(&[0.5], 0.95).is_err());
    }
    use rand_distr::{Distribution, Normal as RNormal};

    #[test]
    fn corrected_t_by_hand() {
        // d = (1, 2, 3): mean 2, s^2 = 1; J = 3, n_test/n_train = 1/2.
        let r = corrected_resampled_t(&[1.0, 2.0, 3.0], 100, 50).unwrap();
        let t = 2.0 / (1.0f64 / 3.0 + 0.5).sqrt();
        assert!((r.statistic - t).abs() < 1e-12);
        assert!(corrected_resampled_t(&[1.0], 10, 5).is_err());
        assert!(corrected_resampled_t(&[1.0, 2.0], 0, 5).is_err());
    }

    #[test]
    fn paired_intervals_near_the_f64_limit_are_finite_or_refused() {
        // Issue #25: scores of 1e308 printed [NaN, inf] intervals. The same
        // data scaled down by 2^900 give the same interval scaled down.
        let a = vec![1e308, 1e308, 1e308, 1.0];
        let b = vec![0.0; 4];
        let p = PairedScores::new(a.clone(), b.clone()).unwrap();
        let big_an = p.analytic_ci(0.95).unwrap();
        let big_bs = p.bootstrap_ci(200, 0.95, 3).unwrap();
        let s = 2f64.powi(-900);
        let small = PairedScores::new(a.iter().map(|x| x * s).collect(), b.clone()).unwrap();
        let small_an = small.analytic_ci(0.95).unwrap();
        let small_bs = small.bootstrap_ci(200, 0.95, 3).unwrap();
        for (big, small) in [(big_an, small_an), (big_bs, small_bs)] {
            for (x, y) in [
                (big.estimate, small.estimate),
                (big.lo, small.lo),
                (big.hi, small.hi),
            ] {
                assert!(x.is_finite(), "{big:?}");
                assert!((x * s - y).abs() <= 1e-12 * y.abs().max(1e-300), "{x} {y}");
            }
        }
        // Negative scores: the mirror image.
        let neg = PairedScores::new(b.clone(), a.clone()).unwrap();
        let n = neg.analytic_ci(0.95).unwrap();
        assert_eq!(n.estimate, -big_an.estimate);
        // Differences beyond f64 (1e308 - -1e308) are refused by item.
        let p = PairedScores::by_item(
            &[
                ("q1".into(), 1.7e308),
                ("q2".into(), 1.7e308),
                ("q3".into(), 0.0),
            ],
            &[
                ("q1".into(), -1.7e308),
                ("q2".into(), -1.7e308),
                ("q3".into(), 0.0),
            ],
        )
        .unwrap();
        let e = p.analytic_ci(0.95).unwrap_err().to_string();
        assert!(e.contains("item \"q") && e.contains("A = 1.7e308"), "{e}");
        assert!(p.bootstrap_ci(100, 0.95, 1).is_err());
        // Ordinary scores take the unscaled path: bit-identical results.
        let p = PairedScores::new(vec![1.0, 0.0, 1.0, 1.0], vec![0.0, 0.0, 1.0, 0.0]).unwrap();
        let d = p.differences();
        let (mean, _) = mean_var(&d);
        assert_eq!(
            p.analytic_ci(0.95).unwrap().estimate.to_bits(),
            mean.to_bits()
        );
    }

    #[test]
    fn pairing_errors_name_the_item() {
        let a = vec![("x".to_string(), 1.0), ("y".to_string(), 0.0)];
        let b = vec![("x".to_string(), 1.0), ("z".to_string(), 0.0)];
        let e = PairedScores::by_item(&a, &b).unwrap_err().to_string();
        assert!(e.contains("\"y\"") || e.contains("y"), "{e}");
        let ok = PairedScores::by_item(&a, &[("y".into(), 1.0), ("x".into(), 0.5)]).unwrap();
        // Sorted by item: x (1 - 0.5), y (0 - 1).
        assert_eq!(ok.differences(), vec![0.5, -1.0]);
    }

    #[test]
    fn cluster_se_by_hand() {
        // Two clusters of two: (1, 1) and (0, 0): p = 1/2, sums +1, -1.
        let c = clustered_accuracy(&[true, true, false, false], &["a", "a", "b", "b"]).unwrap();
        assert!((c.se_cluster - (2.0f64 * 2.0).sqrt() / 4.0).abs() < 1e-12);
        assert!(clustered_accuracy(&[true, false], &["a", "a"]).is_err());
    }

    #[test]
    fn bootstrap_ci_is_reproducible_and_near_analytic() {
        let a: Vec<f64> = (0..200).map(|i| ((i * 37) % 11) as f64 / 10.0).collect();
        let b: Vec<f64> = (0..200).map(|i| ((i * 17) % 13) as f64 / 12.0).collect();
        let p = PairedScores::new(a, b).unwrap();
        let bs = p.bootstrap_ci(4000, 0.95, 3).unwrap();
        assert_eq!(bs, p.bootstrap_ci(4000, 0.95, 3).unwrap());
        let an = p.analytic_ci(0.95).unwrap();
        assert!(
            (bs.width() - an.width()).abs() < 0.1 * an.width(),
            "{bs:?} vs {an:?}"
        );
    }

    fn simulate(rng: &mut duality_core::seed::DualityRng, runs: usize, shift: f64) -> ScoreMatrix {
        let noise = RNormal::new(0.0, 1.0).unwrap();
        let tasks = 8;
        let data = (0..runs * tasks)
            .map(|i| (i % tasks) as f64 * 0.3 + shift + noise.sample(rng))
            .collect();
        let names = (0..tasks).map(|t| format!("t{t}")).collect();
        ScoreMatrix::from_flat("a", names, runs, data).unwrap()
    }

    /// The planned budget achieves the target width, and the planned power,
    /// within Monte Carlo error on fresh simulated data.
    #[test]
    fn planner_is_checked_by_simulation() {
        let bs = StratifiedBootstrap::new(400, 0.95, 1).unwrap();
        let pilot = simulate(&mut Seeder::new(9).rng(0), 5, 0.0);
        assert!(plan_for_width(&simulate(&mut Seeder::new(9).rng(1), 1, 0.0), 0.1, &bs).is_err());
        let plan = plan_for_width(&pilot, 0.25, &bs).unwrap();
        assert!(plan.runs > pilot.runs(), "{plan:?}");
        let sims = 40;
        let widths = Seeder::new(11).par_map(sims, |i, rng| {
            let m = simulate(rng, plan.runs, 0.0);
            StratifiedBootstrap::new(400, 0.95, i as u64)
                .unwrap()
                .interval(&m, Metric::Iqm)
                .unwrap()
                .width()
        });
        let mean_w = widths.iter().sum::<f64>() / sims as f64;
        // The pilot's own width has MC error (5 runs); allow 25%.
        assert!(
            (mean_w - 0.25).abs() < 0.25 * 0.25,
            "planned {plan:?}, achieved width {mean_w}"
        );

        let effect = 0.3;
        let plan = plan_for_power(&pilot, effect, 0.8, 0.05, &bs).unwrap();
        let sims = 120;
        let hits = Seeder::new(12).par_map(sims, |i, rng| {
            let x = simulate(rng, plan.runs, effect);
            let y = simulate(rng, plan.runs, 0.0);
            let b = StratifiedBootstrap::new(300, 0.95, i as u64).unwrap();
            let (cx, cy) = (
                b.interval(&x, Metric::Iqm).unwrap(),
                b.interval(&y, Metric::Iqm).unwrap(),
            );
            let se = ((cx.width() / 3.92).powi(2) + (cy.width() / 3.92).powi(2)).sqrt();
            (cx.estimate - cy.estimate).abs() / se > 1.96
        });
        let power = hits.iter().filter(|&&h| h).count() as f64 / sims as f64;
        let mc = 3.0 * (0.8f64 * 0.2 / sims as f64).sqrt();
        assert!(
            (power - plan.predicted).abs() < mc + 0.1,
            "planned {plan:?}, achieved power {power}"
        );
    }

    /// The P(X > Y) plans: the planned budget achieves the target width and
    /// the planned power within Monte Carlo error on fresh data.
    #[test]
    fn improvement_planner_is_checked_by_simulation() {
        let shift = 0.3;
        // Within a task, P(X > Y) = Phi(shift / sqrt 2).
        let effect = Normal::standard().cdf(shift / 2f64.sqrt()) - 0.5;
        let bs = StratifiedBootstrap::new(400, 0.95, 1).unwrap();
        let px = simulate(&mut Seeder::new(21).rng(0), 10, shift);
        let py = simulate(&mut Seeder::new(21).rng(1), 10, 0.0);
        let one = simulate(&mut Seeder::new(21).rng(2), 1, 0.0);
        let e = plan_improvement_width(&px, &one, 0.1, &bs)
            .unwrap_err()
            .to_string();
        assert!(e.contains("pilot runs"), "{e}");
        assert!(plan_improvement_power(&px, &py, 0.6, 0.8, 0.05, &bs).is_err());

        let plan = plan_improvement_width(&px, &py, 0.15, &bs).unwrap();
        assert!(plan.runs > 10, "{plan:?}");
        let sims = 30;
        let widths = Seeder::new(22).par_map(sims, |i, rng| {
            let x = simulate(rng, plan.runs, shift);
            let y = simulate(rng, plan.runs, 0.0);
            StratifiedBootstrap::new(300, 0.95, i as u64)
                .unwrap()
                .improvement(&x, &y)
                .unwrap()
                .width()
        });
        let mean_w = widths.iter().sum::<f64>() / sims as f64;
        assert!(
            (mean_w - 0.15).abs() < 0.25 * 0.15,
            "planned {plan:?}, achieved width {mean_w}"
        );

        let plan = plan_improvement_power(&px, &py, effect, 0.8, 0.05, &bs).unwrap();
        let sims = 100;
        let hits = Seeder::new(23).par_map(sims, |i, rng| {
            let x = simulate(rng, plan.runs, shift);
            let y = simulate(rng, plan.runs, 0.0);
            let ci = StratifiedBootstrap::new(300, 0.95, i as u64)
                .unwrap()
                .improvement(&x, &y)
                .unwrap();
            (ci.estimate - 0.5).abs() / (ci.width() / 3.92) > 1.96
        });
        let power = hits.iter().filter(|&&h| h).count() as f64 / sims as f64;
        let mc = 3.0 * (0.8f64 * 0.2 / sims as f64).sqrt();
        assert!(
            (power - plan.predicted).abs() < mc + 0.1,
            "planned {plan:?}, achieved power {power}"
        );
    }
}
