//! A replica of the decisions of the Python package `adastop` 0.1.3
//! (`MultipleAgentsComparator.partial_compare`, two-sided, `beta = 0`), used
//! by [`Variant::Adastop013`](super::Variant::Adastop013).
//!
//! It reproduces what the package does, including what duality does not do
//! by default (see the module docs of [`super`]):
//!
//! - statistic: `(k+1) |mean(Z_i[..(k+1) n_i]) - mean(Z_j[..(k+1) n_j])|`,
//!   permuted statistics as the sum over stages of the per-stage mean
//!   differences;
//! - permutations **per comparison**: at stage 1 every comparison enumerates
//!   `itertools.combinations(range(n_i + n_j), n_i)` when `B > C(n_i + n_j, n_i)`,
//!   otherwise the identity plus `B - 1` draws of
//!   `RandomState(seed).permutation(n_i + n_j)[:n_i]`; at later stages every
//!   kept permutation path is extended by all combinations (when
//!   `B > C^(k+1)`) or by one draw (the first path by the identity), the draws
//!   made comparison after comparison from the one numpy stream;
//! - the boundary is the quantile of the maximum of the **signed** permuted
//!   statistics over the open comparisons, with `P(T > t)` taken as
//!   `(#values after t in sorted order) / normalisation` and admissible when
//!   `spent + P <= alpha (k+1) / K`; the normalisation is `C^(k+1)` when
//!   enumerated, `B` at stage 1 when drawn, and `C^floor(ln B / ln C)` at
//!   later drawn stages (the package's formula, even though about as many
//!   paths as were kept are used);
//! - step-down rejects one comparison at a time (the largest `T`), with
//!   strict `T > b`, recomputing the boundary over the rest; the boundary
//!   and level carried to the next stage are the ones of the **last**
//!   step-down round;
//! - at the next stage, paths whose maximum `|statistic|` over the
//!   still-open comparisons exceeds the carried boundary are dropped.
//!
//! The random draws come from a Mersenne Twister seeded as numpy's legacy
//! `RandomState(seed)` and shuffled as its `permutation` (Fisher-Yates from
//! the top with `random_interval`'s masked rejection), so a seeded run gives
//! the package's boundaries to rounding. Means are summed as numpy's pairwise
//! sum.

use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Mersenne Twister MT19937 with numpy's legacy integer seeding
/// (`RandomState(seed)`, `init_genrand`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mt19937 {
    key: Vec<u32>,
    pos: usize,
}

const MT_N: usize = 624;
const MT_M: usize = 397;

impl Mt19937 {
    /// Seeded as `numpy.random.RandomState(seed)` for an integer seed.
    pub fn new(seed: u32) -> Self {
        let mut key = vec![0u32; MT_N];
        let mut s = seed;
        for (pos, k) in key.iter_mut().enumerate() {
            *k = s;
            s = 1_812_433_253u32
                .wrapping_mul(s ^ (s >> 30))
                .wrapping_add(pos as u32 + 1);
        }
        Mt19937 { key, pos: MT_N }
    }

    fn generate(&mut self) {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        const MATRIX_A: u32 = 0x9908_b0df;
        for i in 0..MT_N {
            let y = (self.key[i] & UPPER) | (self.key[(i + 1) % MT_N] & LOWER);
            let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
            self.key[i] = self.key[(i + MT_M) % MT_N] ^ (y >> 1) ^ mag;
        }
        self.pos = 0;
    }

    /// The next 32-bit output (`genrand_int32`).
    pub fn next_u32(&mut self) -> u32 {
        if self.pos >= MT_N {
            self.generate();
        }
        let mut y = self.key[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// numpy's `random_interval(max)`: uniform on `0..=max` by masked
    /// rejection (`max` below 2^32 here).
    fn interval(&mut self, max: u32) -> u32 {
        if max == 0 {
            return 0;
        }
        let mut mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        loop {
            let v = self.next_u32() & mask;
            if v <= max {
                return v;
            }
        }
    }

    /// `RandomState.permutation(n)`.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut x: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.interval(i as u32) as usize;
            x.swap(i, j);
        }
        x
    }
}

/// numpy's pairwise summation of a float64 array (`pairwise_sum`, block 128).
pub(crate) fn np_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut s = 0.0;
        for &v in a {
            s += v;
        }
        s
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for (k, rk) in r.iter_mut().enumerate() {
                *rk += a[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += a[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        np_sum(&a[..n2]) + np_sum(&a[n2..])
    }
}

fn np_mean(a: &[f64]) -> f64 {
    np_sum(a) / a.len() as f64
}

/// `math.comb(n, k)` as f64 (exact below 2^53).
fn comb(n: usize, k: usize) -> f64 {
    let mut r = 1.0f64;
    for i in 0..k {
        r = r * (n - i) as f64 / (i + 1) as f64;
    }
    r.round()
}

/// `itertools.combinations(range(n), k)` in order.
fn combinations(n: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut idx: Vec<usize> = (0..k).collect();
    loop {
        out.push(idx.clone());
        let mut i = k;
        while i > 0 && idx[i - 1] == n - k + i - 1 {
            i -= 1;
        }
        if i == 0 {
            return out;
        }
        idx[i - 1] += 1;
        for j in i..k {
            idx[j] = idx[j - 1] + 1;
        }
    }
}

/// Per-stage means `(mean(Zk[mask]), mean(Zk[~mask]))` for the first-agent
/// positions `perm` (numpy's boolean-mask order).
fn masked_means(pooled: &[f64], perm: &[usize]) -> (f64, f64) {
    let mut mask = vec![false; pooled.len()];
    for &p in perm {
        mask[p] = true;
    }
    let inside: Vec<f64> = pooled
        .iter()
        .zip(&mask)
        .filter(|(_, &m)| m)
        .map(|(&v, _)| v)
        .collect();
    let outside: Vec<f64> = pooled
        .iter()
        .zip(&mask)
        .filter(|(_, &m)| !m)
        .map(|(&v, _)| v)
        .collect();
    (np_mean(&inside), np_mean(&outside))
}

/// `mean(Zk[mask]) - mean(Zk[~mask])`.
fn masked_diff(pooled: &[f64], perm: &[usize]) -> f64 {
    let (a, b) = masked_means(pooled, perm);
    a - b
}

/// The package's path update `previous + mean(Zk[mask]) - mean(Zk[~mask])`,
/// evaluated left to right as Python does (the rounding decides ties with
/// the observed statistic).
fn extend_path(previous: f64, pooled: &[f64], perm: &[usize]) -> f64 {
    let (a, b) = masked_means(pooled, perm);
    previous + a - b
}

/// State of the package replica between stages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompatState {
    rng: Mt19937,
    /// Permuted statistics (one per kept path) of each comparison, indexed
    /// like the comparison list; empty for decided comparisons.
    mean_diffs: Vec<Vec<f64>>,
    normalization: f64,
    level_spent: f64,
    /// The boundary carried from the previous stage (last step-down round).
    last_boundary: f64,
}

/// What one stage of the replica decided.
pub(crate) struct CompatStage {
    /// Per open comparison (index into the comparison list): `Some(true)`
    /// larger, `Some(false)` smaller, `None` still open.
    pub rejected: Vec<(usize, bool)>,
    /// The boundary after step-down.
    pub boundary: f64,
    /// Level spent so far.
    pub level_spent: f64,
    /// Observed statistic `(k+1) (mean_i - mean_j)` per open comparison.
    pub statistics: Vec<(usize, f64)>,
}

impl CompatState {
    /// Checks a state read from a file against the study's comparison
    /// count and the open comparisons, so a hand-edited file cannot index
    /// out of bounds.
    pub(crate) fn validate(&self, comparisons: usize, open: &[usize]) -> Result<()> {
        let bad = |what: &str, value: String, expected: String| {
            Err(Error::invalid(
                format!("AdaStop state: {what}"),
                value,
                expected,
            ))
        };
        if self.rng.key.len() != MT_N || self.rng.pos > MT_N {
            return bad(
                "compat rng",
                format!("{} words at position {}", self.rng.key.len(), self.rng.pos),
                format!("{MT_N} words at a position <= {MT_N}"),
            );
        }
        if self.mean_diffs.len() != comparisons {
            return bad(
                "compat mean_diffs",
                format!("{} lists", self.mean_diffs.len()),
                format!("one per comparison ({comparisons})"),
            );
        }
        let lens: Vec<usize> = open.iter().map(|&c| self.mean_diffs[c].len()).collect();
        if lens.windows(2).any(|w| w[0] != w[1]) {
            return bad(
                "compat mean_diffs",
                format!("lengths {lens:?}"),
                "the same number of paths for every open comparison".into(),
            );
        }
        for v in self
            .mean_diffs
            .iter()
            .flatten()
            .chain([&self.normalization, &self.level_spent])
        {
            if v.is_nan() {
                return bad("compat numbers", "NaN".into(), "numbers".into());
            }
        }
        if self.normalization.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
            || !(0.0..=1.0).contains(&self.level_spent)
        {
            return bad(
                "compat normalization / level_spent",
                format!("{} / {}", self.normalization, self.level_spent),
                "a positive normalization and a level in [0, 1]".into(),
            );
        }
        Ok(())
    }

    /// A fresh state; the package's seed is a 32-bit integer.
    pub fn new(seed: u64, n_comparisons: usize) -> Result<Self> {
        let seed = u32::try_from(seed).map_err(|_| {
            Error::invalid(
                "seed",
                seed,
                "below 2^32 for the adastop-0.1.3 variant (numpy RandomState seed)",
            )
        })?;
        Ok(CompatState {
            rng: Mt19937::new(seed),
            mean_diffs: vec![Vec::new(); n_comparisons],
            normalization: 1.0,
            level_spent: 0.0,
            last_boundary: f64::INFINITY,
        })
    }

    /// One `partial_compare` call at stage `k` (0-based). `open` lists the
    /// open comparisons in order, `pairs` all comparisons, `sizes` the runs
    /// per agent per stage, `data[agent]` every run so far (in order).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn stage(
        &mut self,
        k: usize,
        open: &[usize],
        pairs: &[(usize, usize)],
        sizes: &[usize],
        data: &[Vec<f64>],
        b: usize,
        alpha: f64,
        stages: usize,
    ) -> Result<CompatStage> {
        self.compute_mean_diffs(k, open, pairs, sizes, data, b)?;
        let clevel = alpha * (k + 1) as f64 / stages as f64;
        let observed: Vec<f64> = open
            .iter()
            .map(|&c| {
                let (i, j) = pairs[c];
                (k + 1) as f64
                    * (np_mean(&data[i][..(k + 1) * sizes[i]])
                        - np_mean(&data[j][..(k + 1) * sizes[j]]))
            })
            .collect();
        let mut still: Vec<bool> = vec![true; open.len()];
        let mut rejected = Vec::new();
        let mut bk_sup = f64::INFINITY;
        let mut level_to_add = 0.0;
        for _ in 0..open.len() {
            let now: Vec<usize> = (0..open.len()).filter(|&p| still[p]).collect();
            let len = self.mean_diffs[open[now[0]]].len();
            let mut values: Vec<f64> = (0..len)
                .map(|i| {
                    now.iter()
                        .map(|&p| self.mean_diffs[open[p]][i])
                        .fold(f64::NEG_INFINITY, f64::max)
                })
                .collect();
            values.sort_unstable_by(f64::total_cmp);
            let l = values.len();
            bk_sup = f64::INFINITY;
            level_to_add = 0.0;
            for (i, &v) in values.iter().enumerate() {
                let p = (l - 1 - i) as f64 / self.normalization;
                if self.level_spent + p <= clevel {
                    bk_sup = v;
                    level_to_add = p;
                    break;
                }
            }
            // The largest |T| among the open comparisons (first on ties).
            let mut tmax = 0.0;
            let mut imax = None;
            for &p in &now {
                if observed[p].abs() > tmax {
                    tmax = observed[p].abs();
                    imax = Some(p);
                }
            }
            match imax {
                Some(p) if tmax > bk_sup => {
                    still[p] = false;
                    rejected.push((open[p], observed[p] > 0.0));
                }
                _ => break,
            }
        }
        self.level_spent += level_to_add;
        self.last_boundary = bk_sup;
        for (p, &c) in open.iter().enumerate() {
            if !still[p] {
                self.mean_diffs[c].clear();
            }
        }
        Ok(CompatStage {
            rejected,
            boundary: bk_sup,
            level_spent: self.level_spent,
            statistics: open.iter().copied().zip(observed).collect(),
        })
    }

    fn compute_mean_diffs(
        &mut self,
        k: usize,
        open: &[usize],
        pairs: &[(usize, usize)],
        sizes: &[usize],
        data: &[Vec<f64>],
        b: usize,
    ) -> Result<()> {
        let block = |a: usize| &data[a][k * sizes[a]..(k + 1) * sizes[a]];
        if k == 0 {
            for &c in open {
                let (i, j) = pairs[c];
                let (n1, n2) = (sizes[i], sizes[j]);
                let total = comb(n1 + n2, n1);
                let perms: Vec<Vec<usize>> = if (b as f64) > total {
                    self.normalization = total;
                    combinations(n1 + n2, n1)
                } else {
                    self.normalization = b as f64;
                    let mut v = vec![(0..n1).collect::<Vec<_>>()];
                    for _ in 1..b {
                        v.push(self.rng.permutation(n1 + n2)[..n1].to_vec());
                    }
                    v
                };
                let pooled: Vec<f64> = block(i).iter().chain(block(j)).copied().collect();
                self.mean_diffs[c] = perms.iter().map(|p| masked_diff(&pooled, p)).collect();
            }
            return Ok(());
        }
        // Drop the paths that crossed the carried boundary.
        let len = self.mean_diffs[open[0]].len();
        let keep: Vec<usize> = (0..len)
            .filter(|&p| {
                open.iter()
                    .map(|&c| self.mean_diffs[c][p].abs())
                    .fold(f64::NEG_INFINITY, f64::max)
                    <= self.last_boundary
            })
            .collect();
        let kept: Vec<Vec<f64>> = open
            .iter()
            .map(|&c| keep.iter().map(|&p| self.mean_diffs[c][p]).collect())
            .collect();
        if keep.is_empty() {
            return Err(Error::invalid(
                "stage",
                k + 1,
                "a stage where some permutation path survived (adastop 0.1.3 fails here too)",
            ));
        }
        for (pos, &c) in open.iter().enumerate() {
            let (i, j) = pairs[c];
            let (n1, n2) = (sizes[i], sizes[j]);
            let per = comb(n1 + n2, n1);
            let pooled: Vec<f64> = block(i).iter().chain(block(j)).copied().collect();
            let before = &kept[pos];
            let mut new = Vec::new();
            if (b as f64) > per.powi(k as i32 + 1) {
                self.normalization = per.powi(k as i32 + 1);
                for p in combinations(n1 + n2, n1) {
                    let (a, m) = masked_means(&pooled, &p);
                    new.extend(before.iter().map(|&x| x + a - m));
                }
            } else {
                let began = ((b as f64).ln() / per.ln()).floor();
                self.normalization = per.powf(began);
                let mut perms = vec![(0..n1).collect::<Vec<_>>()];
                for _ in 1..kept[0].len() {
                    perms.push(self.rng.permutation(n1 + n2)[..n1].to_vec());
                }
                for (id, p) in perms.iter().enumerate() {
                    new.push(extend_path(before[id], &pooled, p));
                }
            }
            self.mean_diffs[c] = new;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `numpy.random.RandomState(5489).randint` is not used; the raw outputs
    /// of MT19937 seeded with 5489 are the reference's (first output
    /// 3499211612, the classic `init_genrand(5489)` value).
    #[test]
    fn mersenne_twister_reference_output() {
        let mut mt = Mt19937::new(5489);
        assert_eq!(mt.next_u32(), 3_499_211_612);
        assert_eq!(mt.next_u32(), 581_869_302);
    }

    #[test]
    fn numpy_sum_matches_sequential_for_short_arrays() {
        let a = [0.1, 0.2, 0.3];
        assert_eq!(np_sum(&a), 0.1 + 0.2 + 0.3);
        assert_eq!(combinations(4, 2).len(), 6);
        assert_eq!(combinations(4, 2)[1], vec![0, 2]);
    }
}
