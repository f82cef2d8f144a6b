//! Stratified bootstrap confidence intervals (Agarwal et al. 2021, Sec. 4.1
//! and `rliable.library.StratifiedBootstrap`; Efron & Tibshirani 1993,
//! ch. 13-14 for the interval methods).
//!
//! Each replicate resamples the runs *within each task* independently: cell
//! `(i, j)` of a replicate is `scores[r_ij][t_j]` with `r_ij` uniform over the
//! runs (an independent run index per cell, as rliable), and `t_j = j`, or a
//! task drawn with replacement when task bootstrapping is on. Two-sample
//! statistics (probability of improvement) resample each sample independently
//! (rliable's `StratifiedIndependentBootstrap`).
//!
//! Intervals: percentile, basic (`2 theta - q`), bias-corrected (BC) and
//! bias-corrected and accelerated (BCa, Efron 1987 eq. 2.3-2.4), with the
//! acceleration `a = sum(u^3) / (6 (sum u^2)^{3/2})`, `u = mean(jk) - jk`
//! from the leave-one-run-out jackknife (as `arch`, which rliable uses).
//! Percentiles interpolate linearly between order statistics as
//! `numpy.percentile` does.
//!
//! Determinism: replicates are generated in fixed blocks of
//! [`BLOCK`] replicates; block `b` draws from its own stream
//! `Seeder::new(seed).rng(b)`, so the result is bit-identical whatever the
//! rayon thread count. Memory is `reps x outputs` numbers plus one resampling
//! buffer per block: resampled matrices are never stored.

use duality_core::progress::Progress;
use duality_core::seed::{DualityRng, Seeder};
use duality_core::{Error, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::aggregate::{check_same_tasks, poi_views, Metric, PoiScratch};
use crate::scores::{MatrixRef, ScoreMatrix, ScoreSet};

/// Replicates per independently seeded block (fixed, so that results do not
/// depend on how rayon schedules blocks).
pub const BLOCK: usize = 256;

/// How a confidence interval is formed from bootstrap replicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IntervalMethod {
    /// Percentiles of the replicates (rliable's default).
    #[default]
    Percentile,
    /// Basic (reverse percentile): `[2 theta - q_hi, 2 theta - q_lo]`.
    Basic,
    /// Bias-corrected percentile (BCa with zero acceleration).
    BiasCorrected,
    /// Bias-corrected and accelerated (jackknife acceleration).
    Bca,
}

impl IntervalMethod {
    /// Parses `percentile`, `basic`, `bc` / `bias-corrected`, `bca`.
    pub fn parse(name: &str) -> Result<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "percentile" => Ok(Self::Percentile),
            "basic" => Ok(Self::Basic),
            "bc" | "bias-corrected" => Ok(Self::BiasCorrected),
            "bca" => Ok(Self::Bca),
            _ => Err(Error::invalid(
                "interval method",
                name,
                "one of percentile, basic, bc, bca",
            )),
        }
    }
}

/// A point estimate with a confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// The statistic on the original data.
    pub estimate: f64,
    /// Lower end of the interval.
    pub lo: f64,
    /// Upper end of the interval.
    pub hi: f64,
}

impl Interval {
    /// `hi - lo`.
    pub fn width(&self) -> f64 {
        self.hi - self.lo
    }
}

/// A statistic of one score matrix with one or more outputs, evaluated on
/// every bootstrap replicate.
pub trait Statistic: Sync {
    /// Number of outputs.
    fn outputs(&self) -> usize;
    /// Writes the outputs for matrix `m` into `out` (length [`outputs`](Self::outputs)),
    /// using `scratch` as reusable working memory.
    fn evaluate(&self, m: MatrixRef<'_>, scratch: &mut Vec<f64>, out: &mut [f64]);
    /// The statistic as aggregate metrics, when it is one: the bootstrap
    /// then evaluates replicates from resample counts (see
    /// [`StratifiedBootstrap::replicates`]) instead of resampled copies.
    fn as_metrics(&self) -> Option<&[Metric]> {
        None
    }
}

impl Statistic for Metric {
    fn outputs(&self) -> usize {
        1
    }
    fn evaluate(&self, m: MatrixRef<'_>, scratch: &mut Vec<f64>, out: &mut [f64]) {
        out[0] = self.eval(m, scratch);
    }
    fn as_metrics(&self) -> Option<&[Metric]> {
        Some(std::slice::from_ref(self))
    }
}

impl Statistic for [Metric] {
    fn outputs(&self) -> usize {
        self.len()
    }
    fn evaluate(&self, m: MatrixRef<'_>, scratch: &mut Vec<f64>, out: &mut [f64]) {
        for (o, metric) in out.iter_mut().zip(self) {
            *o = metric.eval(m, scratch);
        }
    }
    fn as_metrics(&self) -> Option<&[Metric]> {
        Some(self)
    }
}

/// Parameters of the stratified bootstrap (serde-friendly; validated by
/// [`StratifiedBootstrap::from_params`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BootstrapParams {
    /// Number of bootstrap replicates (rliable: 50,000 for interval
    /// estimates, 2,000 for profiles).
    pub reps: usize,
    /// Confidence level in (0, 1), e.g. 0.95.
    pub confidence: f64,
    /// Master seed.
    pub seed: u64,
    /// Interval method.
    pub method: IntervalMethod,
    /// Also resample tasks with replacement (rliable's `task_bootstrap`).
    pub task_bootstrap: bool,
}

impl Default for BootstrapParams {
    fn default() -> Self {
        BootstrapParams {
            reps: 50_000,
            confidence: 0.95,
            seed: 0,
            method: IntervalMethod::Percentile,
            task_bootstrap: false,
        }
    }
}

/// The stratified bootstrap, validated and ready to run.
///
/// ```
/// use duality_eval::prelude::*;
/// let scores = ScoreMatrix::from_rows("dqn", &[vec![0.1, 0.9], vec![0.4, 1.2], vec![0.3, 0.8]])?;
/// let ci = StratifiedBootstrap::new(2_000, 0.95, 7)?.interval(&scores, Metric::Iqm)?;
/// assert!(ci.lo <= ci.estimate && ci.estimate <= ci.hi);
/// # Ok::<(), duality_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct StratifiedBootstrap {
    params: BootstrapParams,
    progress: Option<Progress>,
}

impl StratifiedBootstrap {
    /// A percentile bootstrap with `reps` replicates at level `confidence`.
    pub fn new(reps: usize, confidence: f64, seed: u64) -> Result<Self> {
        Self::from_params(BootstrapParams {
            reps,
            confidence,
            seed,
            ..BootstrapParams::default()
        })
    }

    /// Validates parameters (reps >= 1, confidence in (0, 1)).
    pub fn from_params(params: BootstrapParams) -> Result<Self> {
        duality_core::check::at_least("reps", params.reps, 1)?;
        duality_core::check::open_unit("confidence", params.confidence)?;
        Ok(StratifiedBootstrap {
            params,
            progress: None,
        })
    }

    /// Sets the interval method.
    pub fn with_method(mut self, method: IntervalMethod) -> Self {
        self.params.method = method;
        self
    }

    /// Turns task bootstrapping on or off.
    pub fn with_task_bootstrap(mut self, on: bool) -> Self {
        self.params.task_bootstrap = on;
        self
    }

    /// Reports progress (one step per block of [`BLOCK`] replicates).
    pub fn with_progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// The parameters.
    pub fn params(&self) -> &BootstrapParams {
        &self.params
    }

    fn seeder(&self) -> Seeder {
        Seeder::new(self.params.seed)
    }

    /// Interval for one metric.
    pub fn interval(&self, scores: &ScoreMatrix, metric: Metric) -> Result<Interval> {
        let v = self.intervals(scores, &[metric])?;
        Ok(v[0])
    }

    /// Intervals for several metrics from the same replicates (as rliable's
    /// `get_interval_estimates` with a vector-valued aggregate).
    pub fn intervals(&self, scores: &ScoreMatrix, metrics: &[Metric]) -> Result<Vec<Interval>> {
        duality_core::check::non_empty("metrics", metrics)?;
        for m in metrics {
            if let Metric::OptimalityGap { gamma } = m {
                duality_core::check::finite_scalar("gamma", *gamma)?;
            }
        }
        self.intervals_of(scores, metrics, self.seeder())
    }

    /// Intervals for every algorithm of a set; algorithm `a` uses the stream
    /// `Seeder::new(seed).named(a)`, so adding an algorithm leaves the others'
    /// intervals unchanged.
    pub fn intervals_for_set(
        &self,
        set: &ScoreSet,
        metrics: &[Metric],
    ) -> Result<Vec<(String, Vec<Interval>)>> {
        set.matrices()
            .iter()
            .map(|m| {
                let seeder = self.seeder().named(m.algorithm());
                // Scores beyond 2^500 in magnitude are scaled by a power of
                // two (exact: the same resamples give the same intervals,
                // scaled), so sums of finite scores near 1e308 do not
                // overflow; every metric here is positively homogeneous
                // (with gamma scaled alike).
                let max = m.data().iter().fold(0.0f64, |a, v| a.max(v.abs()));
                let intervals = if max > 2f64.powi(500) {
                    let e = max.log2().ceil() as i32;
                    let scaled = ScoreMatrix::from_flat(
                        m.algorithm(),
                        m.task_names().to_vec(),
                        m.runs(),
                        m.data().iter().map(|&v| ldexp(v, -e)).collect(),
                    )?;
                    let scaled_metrics: Vec<Metric> = metrics
                        .iter()
                        .map(|x| match *x {
                            Metric::OptimalityGap { gamma } => Metric::OptimalityGap {
                                gamma: ldexp(gamma, -e),
                            },
                            other => other,
                        })
                        .collect();
                    self.intervals_of(&scaled, &scaled_metrics[..], seeder)?
                        .into_iter()
                        .map(|i| Interval {
                            estimate: ldexp(i.estimate, e),
                            lo: ldexp(i.lo, e),
                            hi: ldexp(i.hi, e),
                        })
                        .collect()
                } else {
                    self.intervals_of(m, metrics, seeder)?
                };
                for (metric, i) in metrics.iter().zip(&intervals) {
                    if !(i.estimate.is_finite() && i.lo.is_finite() && i.hi.is_finite()) {
                        return Err(Error::invalid(
                            format!(
                                "{} of algorithm {:?}",
                                metric.name(),
                                duality_core::error::shorten(m.algorithm(), 80)
                            ),
                            format!("{} [{}, {}]", i.estimate, i.lo, i.hi),
                            "a finite result (it overflows f64: rescale the scores)",
                        ));
                    }
                }
                Ok((m.algorithm().to_string(), intervals))
            })
            .collect()
    }

    /// Intervals for any [`Statistic`] (one interval per output), with an
    /// explicit seeder.
    pub fn intervals_of<S: Statistic + ?Sized>(
        &self,
        scores: &ScoreMatrix,
        stat: &S,
        seeder: Seeder,
    ) -> Result<Vec<Interval>> {
        let k = stat.outputs();
        let view = scores.view();
        let mut scratch = Vec::new();
        let mut estimate = vec![0.0; k];
        stat.evaluate(view, &mut scratch, &mut estimate);
        let reps = self.one_sample_replicates(view, stat, seeder);
        let accel = if self.params.method == IntervalMethod::Bca {
            jackknife_one_sample(view, stat)?
        } else {
            vec![0.0; k]
        };
        (0..k)
            .map(|j| {
                let mut col: Vec<f64> = reps.iter().skip(j).step_by(k).copied().collect();
                interval_from_replicates(&mut col, estimate[j], accel[j], &self.params)
            })
            .collect()
    }

    /// The raw replicates of a statistic, row-major `reps x outputs`.
    pub fn replicates<S: Statistic + ?Sized>(&self, scores: &ScoreMatrix, stat: &S) -> Vec<f64> {
        self.one_sample_replicates(scores.view(), stat, self.seeder())
    }

    fn one_sample_replicates<S: Statistic + ?Sized>(
        &self,
        m: MatrixRef<'_>,
        stat: &S,
        seeder: Seeder,
    ) -> Vec<f64> {
        let k = stat.outputs();
        let reps = self.params.reps;
        let task_boot = self.params.task_bootstrap;
        let progress = self.progress.clone();
        if let Some(metrics) = stat.as_metrics() {
            let plan = CountPlan::new(m, metrics);
            return seeder.par_blocks(reps, BLOCK, |_, n, rng| {
                let mut out = vec![0.0; n * k];
                let mut work = plan.workspace();
                for chunk in out.chunks_exact_mut(k) {
                    plan.replicate(task_boot, rng, &mut work, chunk);
                }
                if let Some(p) = &progress {
                    p.inc(1);
                }
                out
            });
        }
        seeder.par_blocks(reps, BLOCK, |_, n, rng| {
            let mut out = vec![0.0; n * k];
            let mut buf = vec![0.0; m.data.len()];
            let mut scratch = Vec::with_capacity(m.data.len());
            for chunk in out.chunks_exact_mut(k) {
                resample_into(m, task_boot, rng, &mut buf);
                let view = MatrixRef {
                    data: &buf,
                    runs: m.runs,
                    tasks: m.tasks,
                };
                stat.evaluate(view, &mut scratch, chunk);
            }
            if let Some(p) = &progress {
                p.inc(1);
            }
            out
        })
    }

    /// Probability of improvement `P(X > Y)` with a CI from the stratified
    /// independent bootstrap (each matrix resampled within tasks on its own).
    pub fn improvement(&self, x: &ScoreMatrix, y: &ScoreMatrix) -> Result<Interval> {
        check_same_tasks(x, y)?;
        let (xv, yv) = (x.view(), y.view());
        let mut scratch = PoiScratch::default();
        let estimate = poi_views(xv, yv, &mut scratch);
        let seeder = self.seeder();
        let reps = self.params.reps;
        let task_boot = self.params.task_bootstrap;
        let progress = self.progress.clone();
        let mut reps_v = seeder.par_blocks(reps, BLOCK, |_, n, rng| {
            let mut bx = vec![0.0; xv.data.len()];
            let mut by = vec![0.0; yv.data.len()];
            let mut s = PoiScratch::default();
            let mut task_idx = vec![0usize; xv.tasks];
            let out = (0..n)
                .map(|_| {
                    if task_boot {
                        // The same task draw for both samples keeps them paired by task.
                        for t in task_idx.iter_mut() {
                            *t = rng.random_range(0..xv.tasks as u32) as usize;
                        }
                        resample_tasks_given(xv, &task_idx, rng, &mut bx);
                        resample_tasks_given(yv, &task_idx, rng, &mut by);
                    } else {
                        resample_into(xv, false, rng, &mut bx);
                        resample_into(yv, false, rng, &mut by);
                    }
                    poi_views(
                        MatrixRef { data: &bx, ..xv },
                        MatrixRef { data: &by, ..yv },
                        &mut s,
                    )
                })
                .collect::<Vec<f64>>();
            if let Some(p) = &progress {
                p.inc(1);
            }
            out
        });
        let accel = if self.params.method == IntervalMethod::Bca {
            jackknife_two_sample(xv, yv)?
        } else {
            0.0
        };
        interval_from_replicates(&mut reps_v, estimate, accel, &self.params)
    }
}

/// Replicates of aggregate metrics from resample *counts* (issue #26).
///
/// A replicate of the stratified bootstrap is a multiset of the original
/// cells, so every metric here is a function of how often each cell was
/// drawn. The cells are sorted once; a replicate then draws its
/// `runs x tasks` run indices (the same draws, in the same order, as
/// [`resample_into`]), adds one to the count of each drawn cell's sorted
/// position, and
///
/// - the IQM (`scipy.stats.trim_mean(x, 0.25)`) is one sweep over the sorted
///   positions that sums `value x overlap` of each position's count range
///   with the kept window `[cut, n - cut)` and stops at its end: no copy of
///   the resample and no selection;
/// - the optimality gap is the count-weighted sum of `min(value, gamma)`;
/// - the mean and the median of per-task means accumulate each task's drawn
///   scores in run order, exactly as [`crate::aggregate::task_means`] does on
///   a resampled copy (same numbers bit for bit).
///
/// The IQM and the optimality gap sum the same values in another order than
/// a resampled copy would (sorted, multiplied by their counts), so they may
/// differ from it in the last bits. Working memory per block: one count per
/// cell and one sum per task, reused by every replicate.
struct CountPlan<'a> {
    m: MatrixRef<'a>,
    metrics: &'a [Metric],
    /// `order[p]`: the cell at sorted position `p`.
    order: Vec<u32>,
    /// `nibble[p]`: task and bit offset (`4 x run`) of the cell at sorted
    /// position `p`, for the packed counts.
    nibble: Vec<(u32, u32)>,
    /// The cells' scores in ascending order (`sorted[p] = data[order[p]]`).
    sorted: Vec<f64>,
    /// Whether a metric needs per-task means (mean, median).
    task_means: bool,
}

/// Reusable per-block buffers of [`CountPlan::replicate`].
struct CountWork {
    /// Draws of each cell (indexed like the matrix), when not packed.
    counts: Vec<u32>,
    /// Packed draws: 4 bits per run in one word per task (up to 15 runs,
    /// no task bootstrap), so that counting is a register add rather than
    /// a read-modify-write of memory that the next draw often hits again.
    packed: Vec<u64>,
    task_sums: Vec<f64>,
    scratch: Vec<f64>,
    words: Words,
}

/// Runs up to which a task's counts pack into one `u64` (4 bits per run,
/// counts at most `runs <= 15`).
const PACKED_RUNS: usize = 15;

impl<'a> CountPlan<'a> {
    fn new(m: MatrixRef<'a>, metrics: &'a [Metric]) -> Self {
        let mut order: Vec<u32> = (0..m.data.len() as u32).collect();
        order.sort_by(|&a, &b| m.data[a as usize].total_cmp(&m.data[b as usize]));
        let tasks = m.tasks as u32;
        CountPlan {
            m,
            metrics,
            sorted: order.iter().map(|&c| m.data[c as usize]).collect(),
            nibble: order
                .iter()
                .map(|&c| (c % tasks, 4 * (c / tasks)))
                .collect(),
            order,
            task_means: metrics
                .iter()
                .any(|x| matches!(x, Metric::Mean | Metric::Median)),
        }
    }

    fn workspace(&self) -> CountWork {
        CountWork {
            counts: vec![0; self.sorted.len()],
            packed: vec![0; self.m.tasks],
            task_sums: Vec::with_capacity(self.m.tasks),
            scratch: Vec::with_capacity(self.m.tasks),
            words: Words::new(),
        }
    }

    /// One replicate: draws as [`resample_into`], then every metric into `out`.
    #[inline]
    fn replicate(&self, task_boot: bool, rng: &mut DualityRng, w: &mut CountWork, out: &mut [f64]) {
        let (runs, tasks) = (self.m.runs as u32, self.m.tasks);
        let packed = !task_boot && self.m.runs <= PACKED_RUNS;
        w.task_sums.clear();
        w.task_sums.resize(tasks, 0.0);
        if packed {
            for j in 0..tasks {
                let mut bits = 0u64;
                if self.task_means {
                    let mut s = 0.0;
                    for _ in 0..runs {
                        let r = w.words.below(rng, runs);
                        bits += 1 << (4 * r);
                        s += self.m.data[r as usize * tasks + j];
                    }
                    w.task_sums[j] = s;
                } else {
                    for _ in 0..runs {
                        bits += 1 << (4 * w.words.below(rng, runs));
                    }
                }
                w.packed[j] = bits;
            }
        } else {
            w.counts.fill(0);
            for j in 0..tasks {
                let src = if task_boot {
                    w.words.below(rng, tasks as u32) as usize
                } else {
                    j
                };
                let mut s = 0.0;
                for _ in 0..runs {
                    let cell = w.words.below(rng, runs) as usize * tasks + src;
                    w.counts[cell] += 1;
                    if self.task_means {
                        s += self.m.data[cell];
                    }
                }
                w.task_sums[j] = s;
            }
        }
        if self.task_means {
            let inv = 1.0 / self.m.runs as f64;
            for s in w.task_sums.iter_mut() {
                *s *= inv;
            }
        }
        for (o, metric) in out.iter_mut().zip(self.metrics) {
            *o = match *metric {
                Metric::Iqm if packed => self.trimmed_mean(0.25, |p| {
                    let (t, shift) = self.nibble[p];
                    ((w.packed[t as usize] >> shift) & 15) as u32
                }),
                Metric::Iqm => self.trimmed_mean(0.25, |p| w.counts[self.order[p] as usize]),
                Metric::OptimalityGap { gamma } => {
                    let mut s = 0.0;
                    for (p, &v) in self.sorted.iter().enumerate() {
                        let c = if packed {
                            let (t, shift) = self.nibble[p];
                            ((w.packed[t as usize] >> shift) & 15) as u32
                        } else {
                            w.counts[self.order[p] as usize]
                        };
                        s += c as f64 * v.min(gamma);
                    }
                    gamma - s / self.sorted.len() as f64
                }
                Metric::Mean => w.task_sums.iter().sum::<f64>() / tasks as f64,
                Metric::Median => {
                    w.scratch.clear();
                    w.scratch.extend_from_slice(&w.task_sums);
                    crate::aggregate::median_in_place(&mut w.scratch)
                }
            };
        }
    }

    /// `trim_mean` of the counted multiset (`count(p)`: draws of the cell at
    /// sorted position `p`): the sum over sorted positions of
    /// `value x |[below, below + count) ∩ [cut, cut + keep)|`, divided by
    /// `keep`, in four interleaved partial sums (no serial chain of float
    /// additions), skipping the positions below the window with integer
    /// adds alone and stopping once the window is passed.
    #[inline]
    fn trimmed_mean(&self, proportion: f64, count: impl Fn(usize) -> u32) -> f64 {
        let n = self.sorted.len();
        let cut = (proportion * n as f64).floor() as usize;
        let keep = n.saturating_sub(2 * cut);
        if keep == 0 {
            return f64::NAN;
        }
        let (lo, hi) = (cut as u32, (cut + keep) as u32);
        // Below the window only counts matter: integer adds alone.
        let (mut below, mut p) = (0u32, 0usize);
        while p < n {
            let next = below + count(p);
            if next > lo {
                break;
            }
            below = next;
            p += 1;
        }
        let mut acc = [0.0f64; 4];
        while p < n && below < hi {
            let end = (p + 4).min(n);
            for (lane, q) in (p..end).enumerate() {
                let next = below + count(q);
                let take = next.min(hi).saturating_sub(below.max(lo));
                acc[lane] += self.sorted[q] * take as f64;
                below = next;
            }
            p = end;
        }
        ((acc[0] + acc[1]) + (acc[2] + acc[3])) / keep as f64
    }
}

/// Bounded random integers exactly as `rng.random_range(0..range)` draws
/// them for `u32` in `rand` 0.9 (Canon's widening multiply, one word and a
/// second one in the rare biased case), from 32-bit words pulled from the
/// generator in bulk (`Rng::fill`, the same word sequence as repeated
/// `next_u32`). Every draw of a block goes through one `Words`, so the
/// stream is consumed in the same order as draw-by-draw code; words left
/// at the end of a block are never used.
pub(crate) struct Words {
    buf: Vec<u32>,
    pos: usize,
}

impl Words {
    const LEN: usize = 512;

    pub(crate) fn new() -> Self {
        Words {
            buf: vec![0; Self::LEN],
            pos: Self::LEN,
        }
    }

    #[inline(always)]
    fn next(&mut self, rng: &mut DualityRng) -> u32 {
        if self.pos == self.buf.len() {
            self.refill(rng);
        }
        let w = self.buf[self.pos];
        self.pos += 1;
        w
    }

    #[inline(never)]
    fn refill(&mut self, rng: &mut DualityRng) {
        rng.fill(&mut self.buf[..]);
        self.pos = 0;
    }

    /// A draw in `0..range` (`range >= 1`), equal to `random_range(0..range)`.
    #[inline(always)]
    pub(crate) fn below(&mut self, rng: &mut DualityRng, range: u32) -> u32 {
        let m = u64::from(self.next(rng)) * u64::from(range);
        let (mut result, lo) = ((m >> 32) as u32, m as u32);
        if lo > range.wrapping_neg() {
            let hi2 = ((u64::from(self.next(rng)) * u64::from(range)) >> 32) as u32;
            result += u32::from(lo.checked_add(hi2).is_none());
        }
        result
    }
}

/// Writes one stratified resample of `m` into `buf` (same shape).
#[inline]
fn resample_into(m: MatrixRef<'_>, task_boot: bool, rng: &mut DualityRng, buf: &mut [f64]) {
    let (runs, tasks) = (m.runs as u32, m.tasks);
    for j in 0..tasks {
        let src_task = if task_boot {
            rng.random_range(0..tasks as u32) as usize
        } else {
            j
        };
        for i in 0..m.runs {
            let r = rng.random_range(0..runs) as usize;
            buf[i * tasks + j] = m.data[r * tasks + src_task];
        }
    }
}

fn resample_tasks_given(
    m: MatrixRef<'_>,
    task_idx: &[usize],
    rng: &mut DualityRng,
    buf: &mut [f64],
) {
    let tasks = m.tasks;
    for (j, &src_task) in task_idx.iter().enumerate() {
        for i in 0..m.runs {
            let r = rng.random_range(0..m.runs as u32) as usize;
            buf[i * tasks + j] = m.data[r * tasks + src_task];
        }
    }
}

/// BCa acceleration from jackknife values: `sum(u^3) / (6 (sum u^2)^{3/2})`
/// with `u = mean - jk`. Zero when the jackknife values are all equal (no
/// skewness information; `arch` raises an error there instead).
pub fn acceleration(jk: &[f64]) -> f64 {
    let n = jk.len() as f64;
    let mean = jk.iter().sum::<f64>() / n;
    let (mut s2, mut s3) = (0.0, 0.0);
    for &v in jk {
        let u = mean - v;
        s2 += u * u;
        s3 += u * u * u;
    }
    if s2 == 0.0 {
        0.0
    } else {
        s3 / (6.0 * s2.powf(1.5))
    }
}

fn jackknife_one_sample<S: Statistic + ?Sized>(m: MatrixRef<'_>, stat: &S) -> Result<Vec<f64>> {
    if m.runs < 2 {
        return Err(Error::invalid(
            "runs",
            m.runs,
            "at least 2 runs for the leave-one-run-out jackknife of BCa",
        ));
    }
    let k = stat.outputs();
    let mut jk = vec![0.0; m.runs * k];
    let mut buf = Vec::with_capacity(m.data.len());
    let mut scratch = Vec::new();
    for i in 0..m.runs {
        buf.clear();
        for (r, row) in m.data.chunks_exact(m.tasks).enumerate() {
            if r != i {
                buf.extend_from_slice(row);
            }
        }
        let view = MatrixRef {
            data: &buf,
            runs: m.runs - 1,
            tasks: m.tasks,
        };
        stat.evaluate(view, &mut scratch, &mut jk[i * k..(i + 1) * k]);
    }
    Ok((0..k)
        .map(|j| {
            let col: Vec<f64> = jk.iter().skip(j).step_by(k).copied().collect();
            acceleration(&col)
        })
        .collect())
}

/// Leave-one-run-out jackknife over both samples (each run of `x`, then each
/// run of `y`, left out in turn), pooled as one jackknife sample.
fn jackknife_two_sample(x: MatrixRef<'_>, y: MatrixRef<'_>) -> Result<f64> {
    if x.runs < 2 || y.runs < 2 {
        return Err(Error::invalid(
            "runs",
            x.runs.min(y.runs),
            "at least 2 runs in each sample for the jackknife of BCa",
        ));
    }
    let drop_row = |m: MatrixRef<'_>, i: usize, buf: &mut Vec<f64>| {
        buf.clear();
        for (r, row) in m.data.chunks_exact(m.tasks).enumerate() {
            if r != i {
                buf.extend_from_slice(row);
            }
        }
    };
    let mut s = PoiScratch::default();
    let mut buf = Vec::new();
    let mut jk = Vec::with_capacity(x.runs + y.runs);
    for i in 0..x.runs {
        drop_row(x, i, &mut buf);
        let xv = MatrixRef {
            data: &buf,
            runs: x.runs - 1,
            tasks: x.tasks,
        };
        jk.push(poi_views(xv, y, &mut s));
    }
    for i in 0..y.runs {
        drop_row(y, i, &mut buf);
        let yv = MatrixRef {
            data: &buf,
            runs: y.runs - 1,
            tasks: y.tasks,
        };
        jk.push(poi_views(x, yv, &mut s));
    }
    Ok(acceleration(&jk))
}

/// `numpy.percentile(sorted, 100 q)` with linear interpolation, on sorted data.
pub fn percentile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    lerp(sorted[lo], sorted[hi], h - lo as f64)
}

fn std_normal() -> Normal {
    // Parameters are constants, so construction cannot fail.
    Normal::standard()
}

/// Forms the interval of one statistic from its replicates (reordered in
/// place). Only the order statistics the interval needs are selected
/// (`select_nth_unstable`, O(reps) each) instead of sorting all replicates;
/// they are the same numbers a sort would give.
pub fn interval_from_replicates(
    reps: &mut [f64],
    estimate: f64,
    acceleration: f64,
    params: &BootstrapParams,
) -> Result<Interval> {
    let tail = (1.0 - params.confidence) / 2.0;
    let (q_lo, q_hi) = match params.method {
        IntervalMethod::Percentile | IntervalMethod::Basic => (tail, 1.0 - tail),
        IntervalMethod::BiasCorrected | IntervalMethod::Bca => {
            let below = reps.iter().filter(|&&v| v < estimate).count();
            let p0 = below as f64 / reps.len() as f64;
            if p0 <= 0.0 || p0 >= 1.0 {
                return Err(Error::invalid(
                    "fraction of bootstrap replicates below the estimate",
                    p0,
                    "a value strictly between 0 and 1 for the bias correction \
                     (use the percentile method for this statistic)",
                ));
            }
            let normal = std_normal();
            let z0 = normal.inverse_cdf(p0);
            let a = if params.method == IntervalMethod::Bca {
                acceleration
            } else {
                0.0
            };
            let adjust = |z: f64| {
                let s = z0 + z;
                normal.cdf(z0 + s / (1.0 - a * s))
            };
            (
                adjust(normal.inverse_cdf(tail)),
                adjust(normal.inverse_cdf(1.0 - tail)),
            )
        }
    };
    let (lo, hi) = (percentile_select(reps, q_lo), percentile_select(reps, q_hi));
    Ok(match params.method {
        IntervalMethod::Basic => Interval {
            estimate,
            lo: 2.0 * estimate - hi,
            hi: 2.0 * estimate - lo,
        },
        _ => Interval { estimate, lo, hi },
    })
}

/// [`percentile_sorted`] of `xs` as if sorted (by `f64::total_cmp`), by
/// selection; reorders `xs`.
pub fn percentile_select(xs: &mut [f64], q: f64) -> f64 {
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let (_, a, right) = xs.select_nth_unstable_by(lo, f64::total_cmp);
    let a = *a;
    // The next order statistic is the least element right of `lo`.
    let b = right.iter().copied().min_by(f64::total_cmp).unwrap_or(a);
    lerp(a, b, h - lo as f64)
}

/// NumPy's lerp: exact at both ends.
#[inline]
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    if t >= 0.5 {
        b - (b - a) * (1.0 - t)
    } else {
        a + (b - a) * t
    }
}

/// `x 2^e`, in two steps so neither power of two leaves the f64 range.
fn ldexp(x: f64, e: i32) -> f64 {
    let half = e / 2;
    x * 2f64.powi(half) * 2f64.powi(e - half)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal as RNormal};

    fn random_matrix(runs: usize, tasks: usize, seed: u64) -> ScoreMatrix {
        let mut rng = DualityRng::seed_from_u64(seed);
        let d = RNormal::new(1.0, 0.5).unwrap();
        let data = (0..runs * tasks).map(|_| d.sample(&mut rng)).collect();
        let names = (0..tasks).map(|t| format!("t{t}")).collect();
        ScoreMatrix::from_flat("a", names, runs, data).unwrap()
    }

    #[test]
    fn bit_identical_for_any_thread_count() {
        let m = random_matrix(5, 7, 1);
        let bs = StratifiedBootstrap::new(3_000, 0.95, 11)
            .unwrap()
            .with_method(IntervalMethod::Bca);
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    (
                        bs.intervals(&m, &[Metric::Iqm, Metric::Median]).unwrap(),
                        bs.improvement(&m, &random_matrix(3, 7, 2)).unwrap(),
                    )
                })
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(4));
    }

    #[test]
    fn interval_methods_bracket_and_differ_sensibly() {
        let m = random_matrix(10, 5, 3);
        for method in [
            IntervalMethod::Percentile,
            IntervalMethod::Basic,
            IntervalMethod::BiasCorrected,
            IntervalMethod::Bca,
        ] {
            let ci = StratifiedBootstrap::new(2_000, 0.9, 5)
                .unwrap()
                .with_method(method)
                .interval(&m, Metric::Mean)
                .unwrap();
            assert!(
                ci.lo < ci.estimate && ci.estimate < ci.hi,
                "{method:?} {ci:?}"
            );
            // Standard error of the mean of 50 N(1, 0.5) cells is ~0.07.
            assert!(ci.width() > 0.1 && ci.width() < 0.4, "{method:?} {ci:?}");
        }
    }

    #[test]
    fn percentile_matches_numpy_linear() {
        let xs = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(percentile_sorted(&xs, 0.0), 1.0);
        assert_eq!(percentile_sorted(&xs, 1.0), 8.0);
        assert_eq!(percentile_sorted(&xs, 0.5), 3.0);
        assert_eq!(percentile_sorted(&xs, 0.025), 1.075);
    }

    #[test]
    fn bad_parameters_are_named() {
        assert!(StratifiedBootstrap::new(0, 0.95, 0)
            .unwrap_err()
            .to_string()
            .contains("reps"));
        assert!(StratifiedBootstrap::new(10, 1.0, 0)
            .unwrap_err()
            .to_string()
            .contains("confidence"));
        let one_run = random_matrix(1, 3, 0);
        let err = StratifiedBootstrap::new(10, 0.9, 0)
            .unwrap()
            .with_method(IntervalMethod::Bca)
            .interval(&one_run, Metric::Mean)
            .unwrap_err()
            .to_string();
        assert!(err.contains("runs"), "{err}");
    }

    /// The metrics behind a statistic that hides them, so that the bootstrap
    /// takes the resampled-copy path.
    struct Opaque<'a>(&'a [Metric]);

    impl Statistic for Opaque<'_> {
        fn outputs(&self) -> usize {
            self.0.len()
        }
        fn evaluate(&self, m: MatrixRef<'_>, scratch: &mut Vec<f64>, out: &mut [f64]) {
            self.0.evaluate(m, scratch, out)
        }
    }

    #[test]
    fn count_replicates_equal_resampled_copies() {
        let metrics = [
            Metric::Iqm,
            Metric::Mean,
            Metric::Median,
            Metric::OptimalityGap { gamma: 1.1 },
        ];
        let smooth = random_matrix(7, 9, 4);
        // Ties: scores on a grid of 0.25.
        let tied = ScoreMatrix::from_flat(
            "t",
            (0..9).map(|t| format!("t{t}")).collect(),
            7,
            smooth
                .data()
                .iter()
                .map(|v| (v * 4.0).round() / 4.0)
                .collect(),
        )
        .unwrap();
        for m in [&smooth, &tied] {
            for task_boot in [false, true] {
                let bs = StratifiedBootstrap::new(700, 0.95, 3)
                    .unwrap()
                    .with_task_bootstrap(task_boot);
                let fast = bs.replicates(m, &metrics[..]);
                let slow = bs.replicates(m, &Opaque(&metrics));
                assert_eq!(fast.len(), slow.len());
                for (i, (x, y)) in fast.iter().zip(&slow).enumerate() {
                    match metrics[i % metrics.len()] {
                        // Per-task means: the same sums in the same order.
                        Metric::Mean | Metric::Median => assert_eq!(x, y, "replicate {i}"),
                        // Sorted sums: equal up to rounding.
                        _ => assert!((x - y).abs() <= 1e-12 * y.abs().max(1.0), "{i}: {x} vs {y}"),
                    }
                }
            }
        }
    }

    #[test]
    fn bulk_words_draw_as_random_range() {
        for range in [1u32, 2, 3, 10, 26, 1000, 3_000_000_000, u32::MAX] {
            let mut a = DualityRng::seed_from_u64(u64::from(range));
            let mut b = a.clone();
            let mut words = Words::new();
            for i in 0..5_000 {
                assert_eq!(
                    words.below(&mut b, range),
                    a.random_range(0..range),
                    "{range} {i}"
                );
            }
        }
    }

    #[test]
    fn percentile_by_selection_equals_percentile_of_sorted() {
        let mut rng = DualityRng::seed_from_u64(8);
        for n in [1usize, 2, 3, 10, 101, 1000] {
            let xs: Vec<f64> = (0..n)
                .map(|_| (rng.random::<f64>() * 20.0).round())
                .collect();
            let mut sorted = xs.clone();
            sorted.sort_by(f64::total_cmp);
            for q in [0.0, 0.025, 0.1, 0.5, 0.77, 0.975, 1.0] {
                let mut work = xs.clone();
                assert_eq!(
                    percentile_select(&mut work, q),
                    percentile_sorted(&sorted, q)
                );
            }
        }
    }

    #[test]
    fn task_bootstrap_widens_the_interval() {
        let m = random_matrix(5, 20, 9);
        let bs = StratifiedBootstrap::new(2_000, 0.95, 1).unwrap();
        let plain = bs.interval(&m, Metric::Mean).unwrap();
        let tasks = bs
            .clone()
            .with_task_bootstrap(true)
            .interval(&m, Metric::Mean)
            .unwrap();
        assert!(tasks.width() > plain.width());
    }
}

/// Regression tests of issue #25.
#[cfg(test)]
mod reliability_tests {
    use super::*;

    #[test]
    fn scores_near_the_largest_f64_give_finite_scaled_intervals() {
        let rows = |s: f64| -> Vec<Vec<f64>> {
            (0..6)
                .map(|r| {
                    (0..3)
                        .map(|t| s * (0.5 + ((r * 3 + t) % 5) as f64 / 10.0))
                        .collect()
                })
                .collect()
        };
        let metrics = [
            Metric::Mean,
            Metric::Iqm,
            Metric::Median,
            Metric::OptimalityGap { gamma: 1.0 },
        ];
        let bs = StratifiedBootstrap::new(200, 0.95, 3).unwrap();
        let small = ScoreSet::new(vec![ScoreMatrix::from_rows("a", &rows(1.0)).unwrap()]).unwrap();
        let k = 2f64.powi(1023);
        let big = ScoreSet::new(vec![ScoreMatrix::from_rows("a", &rows(k)).unwrap()]).unwrap();
        let big_metrics = [
            Metric::Mean,
            Metric::Iqm,
            Metric::Median,
            Metric::OptimalityGap { gamma: k },
        ];
        let s = bs.intervals_for_set(&small, &metrics).unwrap();
        let b = bs.intervals_for_set(&big, &big_metrics).unwrap();
        for (x, y) in s[0].1.iter().zip(&b[0].1) {
            assert!(
                y.estimate.is_finite() && y.lo.is_finite() && y.hi.is_finite(),
                "{y:?}"
            );
            assert_eq!(x.estimate * k, y.estimate);
            assert_eq!(x.lo * k, y.lo);
            assert_eq!(x.hi * k, y.hi);
        }
    }
}
