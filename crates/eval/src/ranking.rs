//! Ranking metrics for binary classifiers: AUROC, average precision (AUPRC),
//! ROC and precision-recall curves, DeLong's test, per-subgroup metrics and
//! bootstrap CIs (McDermott et al. 2024, "A Closer Look at AUROC and AUPRC
//! under Class Imbalance"; DeLong, DeLong & Clarke-Pearson 1988).
//!
//! Definitions match scikit-learn:
//! - `roc_auc_score`: the trapezoidal area under the ROC curve with one point
//!   per distinct score, which equals `U / (P N)` with ties counting 1/2;
//! - `average_precision_score`: `sum_k (R_k - R_{k-1}) P_k` over distinct
//!   score thresholds in decreasing order (a step integral, no interpolation).
//!
//! Speed: scores are split by class, each class is sorted once (an LSD radix
//! sort on order-preserving integer keys), and a single merge from the top
//! threshold down yields AUROC, AP and the curves. Extra memory is about
//! twice the size of the score array (keys plus radix buffer).

use duality_core::seed::Seeder;
use duality_core::{Error, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::bootstrap::{interval_from_replicates, BootstrapParams, Interval};

/// Order-preserving map from a finite f64 to u64 (`-0.0` and `0.0` map to the
/// same key, as they compare equal).
#[inline]
fn key(x: f64) -> u64 {
    let x = if x == 0.0 { 0.0 } else { x };
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

#[inline]
fn unkey(k: u64) -> f64 {
    let b = if k >> 63 == 1 { k & !(1 << 63) } else { !k };
    f64::from_bits(b)
}

/// Sorts u64 keys ascending with an LSD radix sort (11-bit digits), skipping
/// digits on which all keys agree.
fn radix_sort(keys: &mut Vec<u64>) {
    const BITS: u32 = 11;
    const BUCKETS: usize = 1 << BITS;
    let n = keys.len();
    if n < 4096 {
        keys.sort_unstable();
        return;
    }
    let mut tmp = vec![0u64; n];
    let mut shift = 0;
    while shift < 64 {
        let mut counts = vec![0usize; BUCKETS];
        for &k in keys.iter() {
            counts[((k >> shift) as usize) & (BUCKETS - 1)] += 1;
        }
        if counts.contains(&n) {
            shift += BITS;
            continue;
        }
        let mut sum = 0;
        for c in counts.iter_mut() {
            let v = *c;
            *c = sum;
            sum += v;
        }
        for &k in keys.iter() {
            let d = ((k >> shift) as usize) & (BUCKETS - 1);
            tmp[counts[d]] = k;
            counts[d] += 1;
        }
        std::mem::swap(keys, &mut tmp);
        shift += BITS;
    }
}

/// Distinct scores up to which [`SortedClasses::new`] groups ties with a
/// hash table instead of sorting (the table, 24 bytes a slot at load <= 1/2,
/// then stays within the L2 cache).
const MAX_GROUPS: usize = 1 << 15;

/// Scores at which the grouping pass is split over rayon tasks.
const GROUP_CHUNK: usize = 1 << 20;

/// One slot of the tie-grouping hash table (`key == 0`: empty; no finite
/// score maps to key 0).
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    key: u64,
    pos: u64,
    neg: u64,
}

/// Open-addressing table from score key to class counts.
struct GroupTable {
    slots: Vec<Slot>,
    shift: u32,
    len: usize,
}

impl GroupTable {
    fn with_bits(bits: u32) -> Self {
        GroupTable {
            slots: vec![Slot::default(); 1 << bits],
            shift: 64 - bits,
            len: 0,
        }
    }

    /// Adds `pos` positives and `neg` negatives at `key`; false once the
    /// table would hold more than [`MAX_GROUPS`] distinct keys.
    #[inline(always)]
    fn add(&mut self, key: u64, pos: u64, neg: u64) -> bool {
        let mask = self.slots.len() - 1;
        let mut h = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize;
        loop {
            let slot = &mut self.slots[h];
            if slot.key == key {
                slot.pos += pos;
                slot.neg += neg;
                return true;
            }
            if slot.key == 0 {
                *slot = Slot { key, pos, neg };
                self.len += 1;
                if 2 * self.len > self.slots.len() {
                    return self.grow();
                }
                return true;
            }
            h = (h + 1) & mask;
        }
    }

    #[cold]
    fn grow(&mut self) -> bool {
        if self.len > MAX_GROUPS {
            return false;
        }
        let bits = 65 - self.shift;
        let old = std::mem::replace(self, GroupTable::with_bits(bits));
        for s in old.slots.into_iter().filter(|s| s.key != 0) {
            self.add(s.key, s.pos, s.neg);
        }
        true
    }

    /// Counts one chunk of scores; `None` when it has too many distinct
    /// scores or a non-finite one.
    fn of_chunk(labels: &[bool], scores: &[f64]) -> Option<GroupTable> {
        let mut t = GroupTable::with_bits(10);
        for (&l, &x) in labels.iter().zip(scores) {
            if !x.is_finite() || !t.add(key(x), u64::from(l), u64::from(!l)) {
                return None;
            }
        }
        Some(t)
    }

    fn merge(mut self, other: GroupTable) -> Option<GroupTable> {
        for s in other.slots.into_iter().filter(|s| s.key != 0) {
            if !self.add(s.key, s.pos, s.neg) {
                return None;
            }
        }
        Some(self)
    }
}

/// Tie groups of few distinct scores: one hash pass over the input (in
/// parallel chunks, merged; the counts are integers, so the result does not
/// depend on the split), then a sort of the distinct keys. `None` when the
/// scores have more than [`MAX_GROUPS`] distinct values (or a non-finite
/// one, left to the caller's check).
fn group_ties(labels: &[bool], scores: &[f64]) -> Option<Grouped> {
    use rayon::prelude::*;
    let table = labels
        .par_chunks(GROUP_CHUNK)
        .zip(scores.par_chunks(GROUP_CHUNK))
        .map(|(l, x)| GroupTable::of_chunk(l, x))
        .try_reduce_with(|a, b| a.merge(b))??;
    let mut groups: Vec<Slot> = table.slots.into_iter().filter(|s| s.key != 0).collect();
    groups.sort_unstable_by_key(|s| s.key);
    Some(Grouped {
        keys: groups.iter().map(|s| s.key).collect(),
        pos: groups.iter().map(|s| s.pos).collect(),
        neg: groups.iter().map(|s| s.neg).collect(),
        n_pos: groups.iter().map(|s| s.pos).sum::<u64>() as usize,
        n_neg: groups.iter().map(|s| s.neg).sum::<u64>() as usize,
    })
}

/// Distinct scores (ascending keys) with the count of each class.
#[derive(Debug, Clone)]
struct Grouped {
    keys: Vec<u64>,
    pos: Vec<u64>,
    neg: Vec<u64>,
    n_pos: usize,
    n_neg: usize,
}

/// Scores sorted ascending (as order-preserving keys) by class: either
/// each class's keys sorted, or, when there are few distinct scores, the
/// distinct keys with the count of each class (the same thresholds and
/// counts; positives and negatives keep their sorted order inside a group,
/// so bootstrap weights address the same elements).
#[derive(Debug, Clone)]
enum Repr {
    Split { pos: Vec<u64>, neg: Vec<u64> },
    Grouped(Grouped),
}

/// Each class's keys, radix-sorted.
fn split_sorted(labels: &[bool], scores: &[f64]) -> Repr {
    let n_pos = labels.iter().filter(|&&l| l).count();
    let mut pos = Vec::with_capacity(n_pos);
    let mut neg = Vec::with_capacity(labels.len() - n_pos);
    for (&l, &s) in labels.iter().zip(scores) {
        if l {
            pos.push(key(s));
        } else {
            neg.push(key(s));
        }
    }
    radix_sort(&mut pos);
    radix_sort(&mut neg);
    Repr::Split { pos, neg }
}

/// Scores split by class and sorted ascending (as order-preserving keys).
///
/// Speed (issue #26): scores with at most 32,768 distinct values (rounded
/// classifier outputs, the tied case) are grouped by one hash pass over the
/// input, in parallel chunks, and only the distinct values are sorted:
/// AUROC and AP then sweep the groups. More distinct values fall back to
/// splitting by class and an LSD radix sort of each class. Extra memory:
/// O(distinct values) when grouped, about the score array's size otherwise.
#[derive(Debug, Clone)]
pub struct SortedClasses {
    repr: Repr,
}

impl SortedClasses {
    /// Validates and sorts. Errors on mismatched lengths, non-finite scores
    /// or a single class.
    pub fn new(labels: &[bool], scores: &[f64]) -> Result<Self> {
        duality_core::check::same_len("labels", labels.len(), "scores", scores.len())?;
        if scores.is_empty() {
            duality_core::check::finite_non_empty("scores", scores)?;
        }
        let repr = match group_ties(labels, scores) {
            Some(g) => Repr::Grouped(g),
            None => {
                duality_core::check::finite_non_empty("scores", scores)?;
                split_sorted(labels, scores)
            }
        };
        let sc = SortedClasses { repr };
        let n_pos = sc.positives();
        if n_pos == 0 || n_pos == labels.len() {
            return Err(Error::invalid(
                "labels",
                format!("{n_pos} positive(s) out of {}", labels.len()),
                "both classes present (AUROC and AP are undefined with one class)",
            ));
        }
        Ok(sc)
    }

    /// Number of positives.
    pub fn positives(&self) -> usize {
        match &self.repr {
            Repr::Split { pos, .. } => pos.len(),
            Repr::Grouped(g) => g.n_pos,
        }
    }

    /// Number of negatives.
    pub fn negatives(&self) -> usize {
        match &self.repr {
            Repr::Split { neg, .. } => neg.len(),
            Repr::Grouped(g) => g.n_neg,
        }
    }

    /// Each class's keys, sorted ascending (expanded from the groups).
    fn split_keys(&self) -> (std::borrow::Cow<'_, [u64]>, std::borrow::Cow<'_, [u64]>) {
        use std::borrow::Cow;
        match &self.repr {
            Repr::Split { pos, neg } => (Cow::Borrowed(pos), Cow::Borrowed(neg)),
            Repr::Grouped(g) => {
                let expand = |counts: &[u64]| -> Vec<u64> {
                    g.keys
                        .iter()
                        .zip(counts)
                        .flat_map(|(&k, &c)| std::iter::repeat_n(k, c as usize))
                        .collect()
                };
                (Cow::Owned(expand(&g.pos)), Cow::Owned(expand(&g.neg)))
            }
        }
    }

    /// Walks distinct thresholds from the highest down, calling
    /// `f(threshold_key, new_pos, new_neg)` with the counts at each threshold.
    /// Optional weights (bootstrap multiplicities, indexed by each class's
    /// sorted order) multiply the counts.
    fn walk(&self, wp: Option<&[u32]>, wn: Option<&[u32]>, mut f: impl FnMut(u64, u64, u64)) {
        match &self.repr {
            Repr::Split { pos, neg } => {
                let (mut i, mut j) = (pos.len(), neg.len());
                while i > 0 || j > 0 {
                    let t = match (i > 0, j > 0) {
                        (true, true) => pos[i - 1].max(neg[j - 1]),
                        (true, false) => pos[i - 1],
                        _ => neg[j - 1],
                    };
                    let (mut c, mut d) = (0u64, 0u64);
                    while i > 0 && pos[i - 1] == t {
                        i -= 1;
                        c += wp.map_or(1, |w| u64::from(w[i]));
                    }
                    while j > 0 && neg[j - 1] == t {
                        j -= 1;
                        d += wn.map_or(1, |w| u64::from(w[j]));
                    }
                    f(t, c, d);
                }
            }
            Repr::Grouped(g) => {
                let weighted = |w: Option<&[u32]>, end: usize, count: u64| -> u64 {
                    w.map_or(count, |w| {
                        w[end - count as usize..end]
                            .iter()
                            .map(|&x| u64::from(x))
                            .sum()
                    })
                };
                let (mut i, mut j) = (g.n_pos, g.n_neg);
                for ((&t, &cp), &cn) in g.keys.iter().zip(&g.pos).zip(&g.neg).rev() {
                    let c = weighted(wp, i, cp);
                    let d = weighted(wn, j, cn);
                    i -= cp as usize;
                    j -= cn as usize;
                    f(t, c, d);
                }
            }
        }
    }

    fn auroc_ap(&self, wp: Option<&[u32]>, wn: Option<&[u32]>) -> (f64, f64) {
        let total_pos: u64 = wp.map_or(self.positives() as u64, |w| {
            w.iter().map(|&x| u64::from(x)).sum()
        });
        let total_neg: u64 = wn.map_or(self.negatives() as u64, |w| {
            w.iter().map(|&x| u64::from(x)).sum()
        });
        let (mut tp, mut fp) = (0u64, 0u64);
        let mut twice_area: u128 = 0;
        let mut ap = 0.0;
        self.walk(wp, wn, |_, c, d| {
            // Trapezoid between (fp, tp) and (fp + d, tp + c), times 2.
            twice_area += u128::from(d) * u128::from(2 * tp + c);
            tp += c;
            fp += d;
            if c > 0 {
                ap += (c as f64 / total_pos as f64) * (tp as f64 / (tp + fp) as f64);
            }
        });
        let auroc = twice_area as f64 / (2.0 * total_pos as f64 * total_neg as f64);
        (auroc, ap)
    }

    /// AUROC and average precision from one sweep.
    pub fn auroc_and_average_precision(&self) -> (f64, f64) {
        self.auroc_ap(None, None)
    }

    /// AUROC (`sklearn.metrics.roc_auc_score`).
    pub fn auroc(&self) -> f64 {
        self.auroc_ap(None, None).0
    }

    /// Average precision (`sklearn.metrics.average_precision_score`).
    pub fn average_precision(&self) -> f64 {
        self.auroc_ap(None, None).1
    }
}

/// Converts 0/1 labels given as numbers, naming the first bad one.
pub fn labels_from_f64(labels: &[f64]) -> Result<Vec<bool>> {
    labels
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            if l == 1.0 {
                Ok(true)
            } else if l == 0.0 {
                Ok(false)
            } else {
                Err(Error::invalid(format!("labels[{i}]"), l, "0 or 1"))
            }
        })
        .collect()
}

/// AUROC of `scores` for binary `labels` (true = positive), ties counting 1/2.
pub fn auroc(labels: &[bool], scores: &[f64]) -> Result<f64> {
    Ok(SortedClasses::new(labels, scores)?.auroc())
}

/// Average precision (AUPRC without interpolation), as scikit-learn.
pub fn average_precision(labels: &[bool], scores: &[f64]) -> Result<f64> {
    Ok(SortedClasses::new(labels, scores)?.average_precision())
}

/// One point of a ROC curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RocPoint {
    /// Scores `>= threshold` are called positive (`+inf` for the first point).
    pub threshold: f64,
    /// False-positive rate.
    pub fpr: f64,
    /// True-positive rate.
    pub tpr: f64,
}

/// The ROC curve as `sklearn.metrics.roc_curve`: a first point `(0, 0)` at
/// threshold `+inf`, then one point per distinct score in decreasing order;
/// with `drop_intermediate`, points on straight segments are dropped (the
/// same rule as scikit-learn: a zero second difference in both counts).
pub fn roc_curve(
    labels: &[bool],
    scores: &[f64],
    drop_intermediate: bool,
) -> Result<Vec<RocPoint>> {
    let sc = SortedClasses::new(labels, scores)?;
    let (p, n) = (sc.positives() as f64, sc.negatives() as f64);
    let mut counts: Vec<(f64, u64, u64)> = vec![(f64::INFINITY, 0, 0)];
    let (mut tp, mut fp) = (0u64, 0u64);
    sc.walk(None, None, |t, c, d| {
        tp += c;
        fp += d;
        counts.push((unkey(t), tp, fp));
    });
    if drop_intermediate && counts.len() > 2 {
        let mut keep = Vec::with_capacity(counts.len());
        keep.push(counts[0]);
        for k in 1..counts.len() - 1 {
            let (a, b, c) = (counts[k - 1], counts[k], counts[k + 1]);
            let second = |x: u64, y: u64, z: u64| (z as i128 - y as i128) - (y as i128 - x as i128);
            if second(a.1, b.1, c.1) != 0 || second(a.2, b.2, c.2) != 0 {
                keep.push(b);
            }
        }
        if let Some(&last) = counts.last() {
            keep.push(last);
        }
        counts = keep;
    }
    Ok(counts
        .into_iter()
        .map(|(threshold, tp, fp)| RocPoint {
            threshold,
            fpr: fp as f64 / n,
            tpr: tp as f64 / p,
        })
        .collect())
}

/// One point of a precision-recall curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PrPoint {
    /// Scores `>= threshold` are called positive.
    pub threshold: f64,
    /// Precision `tp / (tp + fp)`.
    pub precision: f64,
    /// Recall `tp / P`.
    pub recall: f64,
}

/// The precision-recall curve, one point per distinct score in decreasing
/// threshold order (scikit-learn returns the same points in increasing order
/// and appends `(recall 0, precision 1)`).
pub fn pr_curve(labels: &[bool], scores: &[f64]) -> Result<Vec<PrPoint>> {
    let sc = SortedClasses::new(labels, scores)?;
    let p = sc.positives() as f64;
    let mut out = Vec::new();
    let (mut tp, mut fp) = (0u64, 0u64);
    sc.walk(None, None, |t, c, d| {
        tp += c;
        fp += d;
        out.push(PrPoint {
            threshold: unkey(t),
            precision: tp as f64 / (tp + fp) as f64,
            recall: tp as f64 / p,
        });
    });
    Ok(out)
}

/// Result of DeLong's test for two correlated AUROCs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DeLong {
    /// AUROC of the first score.
    pub auroc_a: f64,
    /// AUROC of the second score.
    pub auroc_b: f64,
    /// Estimated variance of `auroc_a - auroc_b`.
    pub variance: f64,
    /// `z = (auroc_a - auroc_b) / sqrt(variance)`.
    pub z: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

impl DeLong {
    /// Wald interval of `auroc_a - auroc_b` at level `confidence`:
    /// `diff ± z_{(1+confidence)/2} sqrt(variance)` (DeLong et al. 1988; as
    /// pROC's `ci` of a paired `roc.test`).
    pub fn difference_ci(&self, confidence: f64) -> Result<Interval> {
        duality_core::check::open_unit("confidence", confidence)?;
        let z = Normal::standard().inverse_cdf(0.5 + confidence / 2.0);
        let diff = self.auroc_a - self.auroc_b;
        let half = z * self.variance.max(0.0).sqrt();
        Ok(Interval {
            estimate: diff,
            lo: diff - half,
            hi: diff + half,
        })
    }
}

/// Placement values (DeLong's structural components): for each positive the
/// fraction of negatives it outranks (ties 1/2), and for each negative the
/// fraction of positives it is outranked by.
fn placements(labels: &[bool], scores: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
    let sc = SortedClasses::new(labels, scores)?;
    let (np, nn) = (sc.positives() as f64, sc.negatives() as f64);
    let mut v10 = Vec::with_capacity(sc.positives());
    let mut v01 = Vec::with_capacity(sc.negatives());
    let (pos, neg) = sc.split_keys();
    for (&l, &s) in labels.iter().zip(scores) {
        let k = key(s);
        if l {
            let below = neg.partition_point(|&x| x < k);
            let at_most = neg.partition_point(|&x| x <= k);
            v10.push((below as f64 + 0.5 * (at_most - below) as f64) / nn);
        } else {
            let above = pos.len() - pos.partition_point(|&x| x <= k);
            let at_least = pos.len() - pos.partition_point(|&x| x < k);
            v01.push((above as f64 + 0.5 * (at_least - above) as f64) / np);
        }
    }
    Ok((v10, v01))
}

fn covariance(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - ma) * (y - mb))
        .sum::<f64>()
        / (n - 1.0)
}

/// DeLong's test (DeLong et al. 1988) that two scores of the same samples have
/// equal AUROC: `var = (S10_aa + S10_bb - 2 S10_ab) / P + (S01_aa + S01_bb - 2 S01_ab) / N`
/// from the covariance of the placement values.
pub fn delong_test(labels: &[bool], scores_a: &[f64], scores_b: &[f64]) -> Result<DeLong> {
    duality_core::check::same_len("scores_a", scores_a.len(), "scores_b", scores_b.len())?;
    let (a10, a01) = placements(labels, scores_a)?;
    let (b10, b01) = placements(labels, scores_b)?;
    if a10.len() < 2 || a01.len() < 2 {
        return Err(Error::invalid(
            "class counts",
            format!("{} positive(s), {} negative(s)", a10.len(), a01.len()),
            "at least 2 of each class for DeLong's variance",
        ));
    }
    let auroc_a = a10.iter().sum::<f64>() / a10.len() as f64;
    let auroc_b = b10.iter().sum::<f64>() / b10.len() as f64;
    let s10 = covariance(&a10, &a10) + covariance(&b10, &b10) - 2.0 * covariance(&a10, &b10);
    let s01 = covariance(&a01, &a01) + covariance(&b01, &b01) - 2.0 * covariance(&a01, &b01);
    let variance = s10 / a10.len() as f64 + s01 / a01.len() as f64;
    let diff = auroc_a - auroc_b;
    let (z, p_value) = if variance > 0.0 {
        let z = diff / variance.sqrt();
        (z, 2.0 * Normal::standard().sf(z.abs()))
    } else if diff == 0.0 {
        (0.0, 1.0)
    } else {
        (diff.signum() * f64::INFINITY, 0.0)
    };
    Ok(DeLong {
        auroc_a,
        auroc_b,
        variance,
        z,
        p_value,
    })
}

/// AUROC and AP of one subgroup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupMetrics {
    /// Group label.
    pub group: String,
    /// Samples in the group.
    pub n: usize,
    /// Positives in the group.
    pub positives: usize,
    /// Fraction of positives (prevalence).
    pub prevalence: f64,
    /// AUROC, `None` when the group has a single class.
    pub auroc: Option<f64>,
    /// Average precision, `None` when the group has a single class.
    pub average_precision: Option<f64>,
}

/// Per-subgroup AUROC and AP, groups in order of first appearance.
pub fn by_group(labels: &[bool], scores: &[f64], groups: &[String]) -> Result<Vec<GroupMetrics>> {
    duality_core::check::same_len("labels", labels.len(), "groups", groups.len())?;
    duality_core::check::same_len("labels", labels.len(), "scores", scores.len())?;
    duality_core::check::finite("scores", scores)?;
    let mut names: Vec<&String> = Vec::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        match names.iter().position(|n| *n == g) {
            Some(k) => members[k].push(i),
            None => {
                names.push(g);
                members.push(vec![i]);
            }
        }
    }
    Ok(names
        .into_iter()
        .zip(members)
        .map(|(name, idx)| {
            let l: Vec<bool> = idx.iter().map(|&i| labels[i]).collect();
            let s: Vec<f64> = idx.iter().map(|&i| scores[i]).collect();
            let positives = l.iter().filter(|&&x| x).count();
            let (auroc, average_precision) = match SortedClasses::new(&l, &s) {
                Ok(sc) => {
                    let (a, p) = sc.auroc_ap(None, None);
                    (Some(a), Some(p))
                }
                Err(_) => (None, None),
            };
            GroupMetrics {
                group: name.clone(),
                n: l.len(),
                positives,
                prevalence: positives as f64 / l.len() as f64,
                auroc,
                average_precision,
            }
        })
        .collect())
}

/// Bootstrap CIs for AUROC and AP, resampling positives and negatives
/// separately (class-stratified, so every replicate has both classes).
/// Each replicate reweights the sorted classes by multiplicities, so no
/// replicate sorts. Returns `(auroc, average_precision)`; replicate block `b`
/// uses stream `Seeder::new(seed).rng(b)`.
pub fn bootstrap_ci(
    labels: &[bool],
    scores: &[f64],
    params: &BootstrapParams,
) -> Result<(Interval, Interval)> {
    duality_core::check::at_least("reps", params.reps, 1)?;
    duality_core::check::open_unit("confidence", params.confidence)?;
    let sc = SortedClasses::new(labels, scores)?;
    let (auc0, ap0) = sc.auroc_ap(None, None);
    let seeder = Seeder::new(params.seed);
    // 64 replicates per stream (fixed: it defines which draws each replicate sees).
    const BLOCK: usize = 64;
    let all: Vec<(f64, f64)> = seeder.par_blocks(params.reps, BLOCK, |_, n, rng| {
        let mut wp = vec![0u32; sc.positives()];
        let mut wn = vec![0u32; sc.negatives()];
        (0..n)
            .map(|_| {
                wp.iter_mut().for_each(|w| *w = 0);
                wn.iter_mut().for_each(|w| *w = 0);
                let (np, nn) = (wp.len(), wn.len());
                for _ in 0..np {
                    wp[rng.random_range(0..np)] += 1;
                }
                for _ in 0..nn {
                    wn[rng.random_range(0..nn)] += 1;
                }
                sc.auroc_ap(Some(&wp), Some(&wn))
            })
            .collect()
    });
    let mut a: Vec<f64> = all.iter().map(|x| x.0).collect();
    let mut p: Vec<f64> = all.iter().map(|x| x.1).collect();
    if matches!(params.method, crate::bootstrap::IntervalMethod::Bca) {
        return Err(Error::invalid(
            "interval method",
            "bca",
            "percentile, basic or bc for AUROC/AP bootstrap (no jackknife here)",
        ));
    }
    Ok((
        interval_from_replicates(&mut a, auc0, 0.0, params)?,
        interval_from_replicates(&mut p, ap0, 0.0, params)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn brute_auc(labels: &[bool], scores: &[f64]) -> f64 {
        let mut s = 0.0;
        let (mut p, mut n) = (0.0, 0.0);
        for (i, &li) in labels.iter().enumerate() {
            if !li {
                continue;
            }
            p += 1.0;
            for (j, &lj) in labels.iter().enumerate() {
                if lj {
                    continue;
                }
                s += if scores[i] > scores[j] {
                    1.0
                } else if scores[i] == scores[j] {
                    0.5
                } else {
                    0.0
                };
            }
        }
        for &l in labels {
            if !l {
                n += 1.0;
            }
        }
        s / (p * n)
    }

    #[test]
    fn hand_example_with_ties() {
        let labels = [true, false, true, false, true];
        let scores = [0.9, 0.9, 0.5, 0.1, 0.3];
        // Pairs: (0.9 vs 0.9) 0.5, (0.9 vs 0.1) 1, (0.5 vs .9) 0, (0.5 vs .1) 1, (.3 vs .9) 0, (.3 vs .1) 1.
        assert!((auroc(&labels, &scores).unwrap() - 3.5 / 6.0).abs() < 1e-15);
        // Thresholds 0.9: tp1 fp1 P=.5 dR=1/3; 0.5: tp2 fp1 P=2/3; 0.3: tp3 fp1 P=3/4.
        let ap = (1.0 / 3.0) * 0.5 + (1.0 / 3.0) * (2.0 / 3.0) + (1.0 / 3.0) * 0.75;
        assert!((average_precision(&labels, &scores).unwrap() - ap).abs() < 1e-15);
        let roc = roc_curve(&labels, &scores, false).unwrap();
        assert_eq!(roc.len(), 5);
        assert_eq!(roc[0].threshold, f64::INFINITY);
        assert_eq!((roc[4].fpr, roc[4].tpr), (1.0, 1.0));
    }

    #[test]
    fn bad_input_is_named() {
        assert!(auroc(&[true, true], &[0.1, 0.2])
            .unwrap_err()
            .to_string()
            .contains("both classes"));
        assert!(auroc(&[true, false], &[0.1, f64::NAN])
            .unwrap_err()
            .to_string()
            .contains("scores[1]"));
        assert!(labels_from_f64(&[0.0, 2.0])
            .unwrap_err()
            .to_string()
            .contains("labels[1]"));
        assert!(auroc(&[true], &[0.1, 0.2]).is_err());
    }

    #[test]
    fn radix_sort_sorts() {
        let mut keys: Vec<u64> = (0..10_000u64)
            .map(|i| key(((i * 7919) % 10_007) as f64 - 5000.5))
            .collect();
        let mut expect = keys.clone();
        expect.sort_unstable();
        radix_sort(&mut keys);
        assert_eq!(keys, expect);
        assert_eq!(unkey(key(-2.5)), -2.5);
        assert!(key(-1.0) < key(-0.5) && key(-0.0) == key(0.0) && key(0.0) < key(1e-300));
    }

    #[test]
    fn grouped_ties_equal_the_sorted_classes() {
        use rand::{Rng as _, SeedableRng};
        let mut rng = duality_core::seed::DualityRng::seed_from_u64(2);
        // 3 million scores in 3 x 2^20-score chunks (merged tables), ties.
        let n = 3 << 20;
        let labels: Vec<bool> = (0..n).map(|_| rng.random::<f64>() < 0.2).collect();
        let scores: Vec<f64> = labels
            .iter()
            .map(|&y| ((rng.random::<f64>() + if y { 0.3 } else { 0.0 }) * 500.0).round() - 20.0)
            .collect();
        let grouped = SortedClasses::new(&labels, &scores).unwrap();
        assert!(matches!(grouped.repr, Repr::Grouped(_)));
        let split = SortedClasses {
            repr: split_sorted(&labels, &scores),
        };
        assert_eq!(grouped.positives(), split.positives());
        assert_eq!(grouped.negatives(), split.negatives());
        assert_eq!(grouped.auroc_ap(None, None), split.auroc_ap(None, None));
        let wp: Vec<u32> = (0..grouped.positives()).map(|i| (i % 3) as u32).collect();
        let wn: Vec<u32> = (0..grouped.negatives()).map(|i| (i % 5) as u32).collect();
        assert_eq!(
            grouped.auroc_ap(Some(&wp), Some(&wn)),
            split.auroc_ap(Some(&wp), Some(&wn))
        );
        let (gp, gn) = grouped.split_keys();
        let (sp, sn) = split.split_keys();
        assert_eq!((gp, gn), (sp, sn));
        // Many distinct scores: the radix path.
        let smooth: Vec<f64> = (0..100_000).map(|_| rng.random::<f64>()).collect();
        let sc = SortedClasses::new(&labels[..100_000], &smooth).unwrap();
        assert!(matches!(sc.repr, Repr::Split { .. }));
    }

    #[test]
    fn delong_identical_scores_and_bootstrap() {
        let labels: Vec<bool> = (0..200).map(|i| i % 3 == 0).collect();
        let s: Vec<f64> = (0..200)
            .map(|i| ((i * 37) % 101) as f64 + if i % 3 == 0 { 30.0 } else { 0.0 })
            .collect();
        let d = delong_test(&labels, &s, &s).unwrap();
        assert_eq!(d.p_value, 1.0);
        let params = BootstrapParams {
            reps: 300,
            ..BootstrapParams::default()
        };
        let (a, p) = bootstrap_ci(&labels, &s, &params).unwrap();
        assert!(a.lo < a.estimate && a.estimate < a.hi);
        assert!(p.lo < p.estimate && p.estimate < p.hi);
    }

    proptest! {
        #[test]
        fn auroc_is_mann_whitney(
            data in prop::collection::vec((any::<bool>(), 0i32..8), 2..80)
        ) {
            let labels: Vec<bool> = data.iter().map(|d| d.0).collect();
            let scores: Vec<f64> = data.iter().map(|d| f64::from(d.1)).collect();
            let np = labels.iter().filter(|&&l| l).count();
            prop_assume!(np > 0 && np < labels.len());
            let got = auroc(&labels, &scores).unwrap();
            prop_assert!((got - brute_auc(&labels, &scores)).abs() < 1e-12);
            // Flipping every score mirrors the AUROC.
            let neg: Vec<f64> = scores.iter().map(|s| -s).collect();
            prop_assert!((auroc(&labels, &neg).unwrap() - (1.0 - got)).abs() < 1e-12);
        }
    }
}
