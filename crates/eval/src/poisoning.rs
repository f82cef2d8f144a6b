//! Certified defences against data poisoning by partition ensembles:
//! Deep Partition Aggregation (DPA; Levine & Feizi, ICLR 2021), Finite
//! Aggregation (FA; Wang, Levine & Feizi, ICML 2022) and the Run-Off
//! Election on top of either (ROE; Rezaei, Banihashem, Chegini & Feizi,
//! ICML 2023).
//!
//! The training set is split by a **content hash** (a sample's bucket
//! depends on the sample only, so inserting or removing one training sample
//! touches one bucket). DPA trains one base classifier per bucket (`k`
//! buckets); FA uses `k d` buckets and `k d` classifiers, classifier `j`
//! trained on the buckets `h` with `(h + s) mod kd = j` for one of `d`
//! shifts `s` ([`Layout`]), so a bucket reaches `d` classifiers.
//!
//! **Aggregation.** Round 1 (plain DPA / FA): each model votes for its
//! arg-max logit; the class with most votes wins. ROE adds round 2: the two
//! classes with most first-round votes meet in a run-off where each model
//! votes for the one of the two with the larger logit.
//!
//! **Ties** are broken by class index everywhere, as in the authors' code:
//! a model's arg-max is the lowest index among equal logits; classes with
//! equal vote counts are ordered lowest index first (numpy's stable
//! `argsort(-votes)`); a run-off tie goes to the lower index. In the
//! run-off a model with equal logits for the two classes votes for the
//! lower index. (The reference compares logits with a strict `>` and counts
//! an exact tie for the second class; with continuous logits this never
//! happens, and where it does the reference can fail its own assertion.)
//!
//! **Certificates.** The certified radius `r` of a prediction is the number
//! of poisoned training samples (insertions or removals) it provably
//! survives; a prediction with radius 0 is changed by no single sample. The
//! formulas follow the authors' certification scripts (`dpa_roe_certify.py`,
//! `fa_roe_certify.py`, `fa_certify.py` in github.com/k1rezaei/DPA-election,
//! whose FA part is Wang et al.'s code), since only the paper's abstract was
//! available here. Writing `n_c` for first-round votes and
//! `gap(a, c) = n_a - n_c + 1{c > a}` (positive exactly when `a` beats `c`):
//!
//! - **DPA**: `r = min_c ceil(gap(y, c) / 2) - 1` (a poisoned sample flips one
//!   vote, moving a gap by at most 2), i.e. Levine & Feizi's
//!   `floor((n_y - n_c - 1{c < y}) / 2)`.
//! - **FA** (Wang et al., Theorem 2): for each `c`, bucket `h` can lower
//!   `gap(y, c)` by `pw_h = sum_{j in models(h)} (1 + 1{v_j = y} - 1{v_j = c})`;
//!   `Certv1` = the fewest buckets whose largest `pw` sum reaches the gap
//!   (greedy), `r = min_c Certv1 - 1`. With `d = 1` this equals DPA.
//! - **DPA+ROE / FA+ROE** (ROE, Section 3): the prediction `y` (run-off
//!   winner) with opponent `s` changes only if (R1) two other classes
//!   `c1, c2` both overtake `y` in round 1, or (R2) some `c` overtakes `s`
//!   in round 1 *and* beats `y` in the run-off. `r = min(CertR1, CertR2) - 1`
//!   with `CertR2 = min_c max(Certv1(gap(s, c)), Certv1(run-off gap))`, the
//!   run-off gap being `#{y beats c} - #{c beats y} + 1{c > y}` and each
//!   model flip moving it by 2. For `CertR1` DPA+ROE uses the exact count
//!   of the reference's dynamic programme over (gap1, gap2) (one flip moves
//!   them by (2, 1) or (1, 2); closed form
//!   `max(ceil(g1/2), ceil(g2/2), ceil((g1+g2)/3))`, checked against the
//!   recurrence in the tests), minimised over pairs; FA+ROE uses the
//!   reference's bound `max(Certv1(c1), Certv1(c2), Certv1 of the summed gap)`
//!   with `pw_h = sum_j (1 + 2 1{v_j = y} - 1{v_j = c1} - 1{v_j = c2})`.
//!
//! The base classifiers of the bench are multinomial logistic regressions
//! ([`LogisticRegression`]), trained by L-BFGS on a strictly convex
//! objective from zero (a deterministic function of the bucket's samples,
//! which are sorted by content first, as the reference sorts each
//! partition).

use std::collections::HashMap;
use std::io::Read;

use duality_core::numerics::{minimize_bounded, LbfgsOptions};
use duality_core::seed::{splitmix64, Seeder};
use duality_core::{Error, Result};
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The largest logit table (samples x models x classes) accepted.
pub const MAX_TABLE_ENTRIES: usize = 1 << 28;

/// The four aggregation rules with a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Deep Partition Aggregation: plurality vote, one model per bucket.
    Dpa,
    /// DPA with the run-off election.
    DpaRoe,
    /// Finite Aggregation: plurality vote over `k d` models, each bucket
    /// reaching `d` of them.
    Fa,
    /// FA with the run-off election.
    FaRoe,
}

impl Method {
    /// All four, plain rules first.
    pub const ALL: [Method; 4] = [Method::Dpa, Method::DpaRoe, Method::Fa, Method::FaRoe];

    /// The display name (`DPA`, `DPA+ROE`, `FA`, `FA+ROE`).
    pub fn name(self) -> &'static str {
        match self {
            Method::Dpa => "DPA",
            Method::DpaRoe => "DPA+ROE",
            Method::Fa => "FA",
            Method::FaRoe => "FA+ROE",
        }
    }

    /// Whether the rule uses the run-off election.
    pub fn is_roe(self) -> bool {
        matches!(self, Method::DpaRoe | Method::FaRoe)
    }

    /// Whether the certificate needs one model per bucket (`d = 1`).
    pub fn needs_dpa_layout(self) -> bool {
        matches!(self, Method::Dpa | Method::DpaRoe)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How a training sample is mapped to a bucket. Both depend on the sample's
/// content only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionHash {
    /// The reference's hash: the sum of the integer pixel values, modulo the
    /// number of buckets (DPA and FA code).
    PixelSum,
    /// A keyed hash of the pixel values (SplitMix64 chain from the key): a
    /// different partition per key, used to vary the partition over seeds.
    Keyed(u64),
}

impl PartitionHash {
    /// The bucket of a sample among `buckets` (`buckets >= 1`).
    pub fn bucket(self, pixels: &[u32], buckets: usize) -> usize {
        let b = buckets.max(1) as u64;
        match self {
            PartitionHash::PixelSum => {
                (pixels
                    .iter()
                    .map(|&p| p as u64)
                    .fold(0u64, u64::wrapping_add)
                    % b) as usize
            }
            PartitionHash::Keyed(key) => {
                let h = pixels
                    .iter()
                    .fold(splitmix64(key), |h, &p| splitmix64(h ^ p as u64));
                (h % b) as usize
            }
        }
    }
}

/// Which models a bucket reaches: `k d` buckets and `k d` models, bucket `h`
/// reaching the models `(h + s) mod kd` for the `d` shifts `s` (Wang et al.'s
/// construction; `d = 1` with shift 0 is DPA's one model per bucket).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    k: usize,
    shifts: Vec<usize>,
}

impl Layout {
    /// DPA: `k >= 2` buckets, one model each.
    pub fn dpa(k: usize) -> Result<Self> {
        Self::with_shifts(k, vec![0])
    }

    /// FA with `k >= 2` and `d >= 1`: `d` distinct shifts drawn from
    /// `0..kd` by `seed` (the reference draws them with Python's
    /// `random.sample` under a fixed seed; the values differ, the
    /// construction is the same).
    pub fn finite_aggregation(k: usize, d: usize, seed: u64) -> Result<Self> {
        check_k(k)?;
        if d == 0 {
            return Err(Error::invalid("d (FA spread)", d, ">= 1"));
        }
        let n = k
            .checked_mul(d)
            .filter(|&n| n <= MAX_TABLE_ENTRIES)
            .ok_or_else(|| Error::invalid("k d", format!("{k} x {d}"), "at most 2^28 models"))?;
        // Partial Fisher-Yates over 0..n: d distinct values.
        let mut rng = Seeder::new(seed).rng(0);
        let mut pool: HashMap<usize, usize> = HashMap::new();
        let mut shifts = Vec::with_capacity(d);
        for i in 0..d {
            let j = rng.random_range(i..n);
            let vj = *pool.get(&j).unwrap_or(&j);
            let vi = *pool.get(&i).unwrap_or(&i);
            pool.insert(j, vi);
            shifts.push(vj);
        }
        Self::with_shifts(k, shifts)
    }

    /// A layout with explicit shifts (`d` = their number, distinct, each
    /// below `k d`).
    pub fn with_shifts(k: usize, shifts: Vec<usize>) -> Result<Self> {
        check_k(k)?;
        let d = shifts.len();
        if d == 0 {
            return Err(Error::invalid(
                "shifts",
                "[]",
                "at least one shift (d >= 1)",
            ));
        }
        let n = k
            .checked_mul(d)
            .filter(|&n| n <= MAX_TABLE_ENTRIES)
            .ok_or_else(|| Error::invalid("k d", format!("{k} x {d}"), "at most 2^28 models"))?;
        let mut seen = std::collections::HashSet::new();
        for &s in &shifts {
            if s >= n {
                return Err(Error::invalid("shift", s, format!("below k d = {n}")));
            }
            if !seen.insert(s) {
                return Err(Error::invalid("shift", s, "distinct shifts"));
            }
        }
        Ok(Layout { k, shifts })
    }

    /// Number of partitions `k`.
    pub fn k(&self) -> usize {
        self.k
    }

    /// FA's spread `d` (1 for DPA).
    pub fn d(&self) -> usize {
        self.shifts.len()
    }

    /// The shifts.
    pub fn shifts(&self) -> &[usize] {
        &self.shifts
    }

    /// Buckets = models = `k d`.
    pub fn buckets(&self) -> usize {
        self.k * self.d()
    }

    /// The models that bucket `h` reaches.
    pub fn models_of_bucket(&self, h: usize) -> impl Iterator<Item = usize> + '_ {
        let n = self.buckets();
        self.shifts.iter().map(move |&s| (h + s) % n)
    }
}

fn check_k(k: usize) -> Result<()> {
    if k < 2 {
        return Err(Error::invalid(
            "k (partitions)",
            k,
            ">= 2 partitions (one partition certifies nothing)",
        ));
    }
    Ok(())
}

/// Logits of every model on every sample: `samples x models x classes`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogitTable {
    samples: usize,
    models: usize,
    classes: usize,
    logits: Vec<f64>,
}

impl LogitTable {
    /// A table from sample-major logits (`[sample][model][class]`); at least
    /// one sample, 2 models and 2 classes, finite values.
    pub fn new(samples: usize, models: usize, classes: usize, logits: Vec<f64>) -> Result<Self> {
        if samples == 0 {
            return Err(Error::Empty {
                what: "logit table (samples)".into(),
                min: 1,
            });
        }
        if models < 2 {
            return Err(Error::invalid(
                "models (k)",
                models,
                ">= 2 models (k >= 2 partitions)",
            ));
        }
        if classes < 2 {
            return Err(Error::invalid("classes", classes, ">= 2 classes"));
        }
        let n = samples
            .checked_mul(models)
            .and_then(|n| n.checked_mul(classes))
            .filter(|&n| n <= MAX_TABLE_ENTRIES)
            .ok_or_else(|| {
                Error::invalid(
                    "logit table size",
                    format!("{samples} x {models} x {classes}"),
                    "at most 2^28 entries",
                )
            })?;
        if logits.len() != n {
            return Err(Error::LengthMismatch {
                left_name: "logits".into(),
                left: logits.len(),
                right_name: "samples x models x classes".into(),
                right: n,
            });
        }
        if let Some(i) = logits.iter().position(|v| !v.is_finite()) {
            let (s, m, c) = (i / (models * classes), (i / classes) % models, i % classes);
            return Err(Error::invalid(
                format!("logit[sample {s}][model {m}][class {c}]"),
                logits[i],
                "a finite number",
            ));
        }
        Ok(LogitTable {
            samples,
            models,
            classes,
            logits,
        })
    }

    /// Reads long CSV `sample,model,class,logit` (any row order): `sample`
    /// is any label (kept in first-seen order), `model` and `class` are
    /// 0-based integers, every (sample, model, class) exactly once. Returns
    /// the sample labels and the table.
    pub fn read_csv<R: Read>(reader: R, source: &str) -> Result<(Vec<String>, LogitTable)> {
        let (mut rdr, headers) = duality_core::record::csv_with_header(reader, source)?;
        let expected = "sample,model,class,logit";
        let col =
            |name: &str| duality_core::record::header_column(&headers, name, source, expected);
        let (cs, cm, cc, cl) = (col("sample")?, col("model")?, col("class")?, col("logit")?);
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut names: Vec<String> = Vec::new();
        let mut rows: Vec<(usize, usize, usize, f64, usize)> = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let line = i + 2;
            let rec = rec.map_err(|e| Error::parse(source, Some(line), e.to_string()))?;
            let cell = |c: usize, name: &str| -> Result<&str> {
                rec.get(c).map(str::trim).ok_or_else(|| {
                    Error::parse(source, Some(line), format!("missing `{name}` value"))
                })
            };
            let index = |c: usize, name: &str| -> Result<usize> {
                let v = cell(c, name)?;
                v.parse::<usize>().map_err(|_| {
                    Error::parse(
                        source,
                        Some(line),
                        format!("{name} = {v:?}: expected a 0-based integer index"),
                    )
                })
            };
            let sample = cell(cs, "sample")?;
            if sample.is_empty() {
                return Err(Error::parse(source, Some(line), "empty `sample` value"));
            }
            let model = index(cm, "model")?;
            let class = index(cc, "class")?;
            let lv = cell(cl, "logit")?;
            let logit = lv
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    Error::parse(
                        source,
                        Some(line),
                        format!("logit = {lv:?}: expected a finite number"),
                    )
                })?;
            let next = ids.len();
            let s = *ids.entry(sample.to_string()).or_insert_with(|| {
                names.push(sample.to_string());
                next
            });
            rows.push((s, model, class, logit, line));
        }
        if rows.is_empty() {
            return Err(Error::Empty {
                what: format!("{source} (logit rows)"),
                min: 1,
            });
        }
        // Indices are counted from 0; the largest one sets the count, so a
        // huge index must be refused here rather than overflow `+ 1` (the
        // table-size check below then bounds the rest).
        let count = |what: &str, largest: usize| {
            largest.checked_add(1).ok_or_else(|| {
                Error::invalid(
                    format!("{what} index in {source}"),
                    largest,
                    "an index below 2^64 - 1",
                )
            })
        };
        let models = count("model", rows.iter().map(|r| r.1).max().unwrap_or(0))?;
        let classes = count("class", rows.iter().map(|r| r.2).max().unwrap_or(0))?;
        let samples = names.len();
        if models < 2 {
            return Err(Error::invalid(
                format!("models in {source}"),
                models,
                ">= 2 models (k >= 2 partitions)",
            ));
        }
        if classes < 2 {
            return Err(Error::invalid(
                format!("classes in {source}"),
                classes,
                ">= 2 classes",
            ));
        }
        let n = samples
            .checked_mul(models)
            .and_then(|n| n.checked_mul(classes))
            .filter(|&n| n <= MAX_TABLE_ENTRIES)
            .ok_or_else(|| {
                Error::invalid(
                    format!("table size of {source}"),
                    format!("{samples} samples x {models} models x {classes} classes"),
                    "at most 2^28 entries",
                )
            })?;
        let mut logits = vec![f64::NAN; n];
        for &(s, m, c, v, line) in &rows {
            let slot = &mut logits[(s * models + m) * classes + c];
            if !slot.is_nan() {
                return Err(Error::parse(
                    source,
                    Some(line),
                    format!(
                        "duplicate row for sample {:?}, model {m}, class {c}",
                        names[s]
                    ),
                ));
            }
            *slot = v;
        }
        if let Some(i) = logits.iter().position(|v| v.is_nan()) {
            let (s, m, c) = (i / (models * classes), (i / classes) % models, i % classes);
            return Err(Error::parse(
                source,
                None,
                format!(
                    "missing row for sample {:?}, model {m}, class {c} (every sample needs a logit for each of {models} models x {classes} classes)",
                    names[s]
                ),
            ));
        }
        Ok((names, LogitTable::new(samples, models, classes, logits)?))
    }

    /// Number of samples.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// Number of models.
    pub fn models(&self) -> usize {
        self.models
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The logits of `model` on `sample`.
    pub fn logits(&self, sample: usize, model: usize) -> &[f64] {
        let o = (sample * self.models + model) * self.classes;
        &self.logits[o..o + self.classes]
    }

    /// First-round votes of one sample: each model's arg-max (lowest index
    /// among equal logits), and the vote count per class.
    pub fn votes(&self, sample: usize) -> (Vec<usize>, Vec<usize>) {
        let votes: Vec<usize> = (0..self.models)
            .map(|m| argmax(self.logits(sample, m)))
            .collect();
        let mut counts = vec![0; self.classes];
        for &v in &votes {
            counts[v] += 1;
        }
        (votes, counts)
    }
}

/// Index of the largest value, the lowest index among ties.
fn argmax(l: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in l.iter().enumerate().skip(1) {
        if v > l[best] {
            best = i;
        }
    }
    best
}

/// Whether a model with logits `l` prefers `a` to `b` in a run-off (larger
/// logit; equal logits go to the lower index).
fn prefers(l: &[f64], a: usize, b: usize) -> bool {
    l[a] > l[b] || (l[a] == l[b] && a < b)
}

/// The two classes with most votes, ties by lower index (stable
/// `argsort(-counts)`).
fn top_two(counts: &[usize]) -> (usize, usize) {
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then(a.cmp(&b)));
    (order[0], order[1])
}

/// `gap(a, c) = n_a - n_c + 1{c > a}`: positive exactly when `a` beats `c`.
fn gap(counts: &[usize], a: usize, c: usize) -> i64 {
    counts[a] as i64 - counts[c] as i64 + i64::from(c > a)
}

fn ceil_half(g: i64) -> usize {
    (g.max(0) as usize).div_ceil(2)
}

/// The fewest poisoned samples that move both round-1 gaps `(g1, g2)` to
/// `<= 0` when each moves one DPA model, i.e. the reference's dynamic
/// programme `dp(g1, g2)` (`dp_calc.py`) in closed form.
pub fn two_gap_flips(g1: i64, g2: i64) -> usize {
    let (a, b) = (g1.max(0) as usize, g2.max(0) as usize);
    a.div_ceil(2).max(b.div_ceil(2)).max((a + b).div_ceil(3))
}

/// `Certv1`: the fewest buckets whose reductions `pw` (largest first) sum to
/// at least `gap`; 0 when `gap <= 0`. Sorts `pw` in place.
fn certv1(gap: i64, pw: &mut [i64]) -> usize {
    if gap <= 0 {
        return 0;
    }
    pw.sort_unstable_by(|a, b| b.cmp(a));
    let mut left = gap;
    for (i, &w) in pw.iter().enumerate() {
        if w <= 0 {
            break;
        }
        left -= w;
        if left <= 0 {
            return i + 1;
        }
    }
    // Unreachable for k >= 2 (all buckets together always close the gap);
    // report "every bucket plus one".
    pw.len() + 1
}

/// A prediction and its certified radius.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// The predicted class.
    pub prediction: usize,
    /// Poisoned training samples (insertions or removals) the prediction
    /// provably survives.
    pub radius: usize,
}

/// Certifies the predictions of an ensemble given its logits and how its
/// models map to buckets.
#[derive(Debug, Clone)]
pub struct Certifier<'a> {
    table: &'a LogitTable,
    layout: &'a Layout,
}

impl<'a> Certifier<'a> {
    /// Checks that the table has one model per bucket of `layout`.
    pub fn new(table: &'a LogitTable, layout: &'a Layout) -> Result<Self> {
        if table.models() != layout.buckets() {
            return Err(Error::invalid(
                "models in the logit table",
                table.models(),
                format!(
                    "k d = {} x {} = {} models for this layout",
                    layout.k(),
                    layout.d(),
                    layout.buckets()
                ),
            ));
        }
        Ok(Certifier { table, layout })
    }

    /// The certificate of one sample under `method`. DPA and DPA+ROE need
    /// `d = 1`.
    pub fn certify(&self, sample: usize, method: Method) -> Result<Certificate> {
        if sample >= self.table.samples() {
            return Err(Error::invalid(
                "sample",
                sample,
                format!("below {}", self.table.samples()),
            ));
        }
        if method.needs_dpa_layout() && self.layout.d() != 1 {
            return Err(Error::invalid(
                format!("d for {method}"),
                self.layout.d(),
                "d = 1 (one model per partition); use FA / FA+ROE for d > 1",
            ));
        }
        let (votes, counts) = self.table.votes(sample);
        Ok(match method {
            Method::Dpa => dpa(&counts),
            Method::DpaRoe => self.dpa_roe(sample, &counts),
            Method::Fa => self.fa(&votes, &counts),
            Method::FaRoe => self.fa_roe(sample, &votes, &counts),
        })
    }

    /// Certificates of every sample, in parallel (deterministic).
    pub fn certify_all(&self, method: Method) -> Result<Vec<Certificate>> {
        (0..self.table.samples())
            .into_par_iter()
            .map(|s| self.certify(s, method))
            .collect()
    }

    /// The run-off between the first-round top two: (winner, loser).
    fn runoff(&self, sample: usize, counts: &[usize]) -> (usize, usize) {
        let (m1, m2) = top_two(counts);
        let d = self.runoff_margin(sample, m1, m2);
        let winner = if d > 0 || (d == 0 && m1 < m2) { m1 } else { m2 };
        (winner, m1 + m2 - winner)
    }

    /// `#{models preferring a to b} - #{models preferring b to a}`.
    fn runoff_margin(&self, sample: usize, a: usize, b: usize) -> i64 {
        let wins = (0..self.table.models())
            .filter(|&m| prefers(self.table.logits(sample, m), a, b))
            .count() as i64;
        2 * wins - self.table.models() as i64
    }

    fn dpa_roe(&self, sample: usize, counts: &[usize]) -> Certificate {
        let (y, s) = self.runoff(sample, counts);
        let classes = counts.len();
        // R1: two classes overtake y. dp is non-decreasing in both gaps, so
        // the two smallest gaps give the minimum over pairs.
        let mut gaps: Vec<i64> = (0..classes)
            .filter(|&c| c != y)
            .map(|c| gap(counts, y, c))
            .collect();
        gaps.sort_unstable();
        let cert_r1 = if gaps.len() >= 2 {
            two_gap_flips(gaps[0], gaps[1])
        } else {
            usize::MAX
        };
        // R2: c overtakes s in round 1 and beats y in the run-off.
        let cert_r2 = (0..classes)
            .filter(|&c| c != y)
            .map(|c| {
                let first = ceil_half(gap(counts, s, c));
                let second = ceil_half(self.runoff_margin(sample, y, c) + i64::from(c > y));
                first.max(second)
            })
            .min()
            .unwrap_or(usize::MAX);
        Certificate {
            prediction: y,
            radius: cert_r1.min(cert_r2).saturating_sub(1),
        }
    }

    /// Per-bucket reductions `sum_{j in models(h)} w(j)`.
    fn bucket_sums(&self, w: impl Fn(usize) -> i64) -> Vec<i64> {
        (0..self.layout.buckets())
            .map(|h| self.layout.models_of_bucket(h).map(&w).sum())
            .collect()
    }

    /// `Certv1` for `a` against `c` in round 1 (FA).
    fn fa_pair(&self, votes: &[usize], counts: &[usize], a: usize, c: usize) -> usize {
        let g = gap(counts, a, c);
        if g <= 0 {
            return 0;
        }
        let mut pw = self.bucket_sums(|j| 1 + i64::from(votes[j] == a) - i64::from(votes[j] == c));
        certv1(g, &mut pw)
    }

    fn fa(&self, votes: &[usize], counts: &[usize]) -> Certificate {
        let (y, _) = top_two(counts);
        let needed = (0..counts.len())
            .filter(|&c| c != y)
            .map(|c| self.fa_pair(votes, counts, y, c))
            .min()
            .unwrap_or(usize::MAX);
        Certificate {
            prediction: y,
            radius: needed.saturating_sub(1),
        }
    }

    fn fa_roe(&self, sample: usize, votes: &[usize], counts: &[usize]) -> Certificate {
        let (y, s) = self.runoff(sample, counts);
        let classes = counts.len();
        let r1: Vec<usize> = (0..classes)
            .map(|c| {
                if c == y {
                    0
                } else {
                    self.fa_pair(votes, counts, y, c)
                }
            })
            .collect();
        let mut cert_r1 = usize::MAX;
        for c1 in 0..classes {
            if c1 == y {
                continue;
            }
            for c2 in 0..c1 {
                if c2 == y {
                    continue;
                }
                let g = gap(counts, y, c1) + gap(counts, y, c2);
                let mut pw = self.bucket_sums(|j| {
                    1 + 2 * i64::from(votes[j] == y)
                        - i64::from(votes[j] == c1)
                        - i64::from(votes[j] == c2)
                });
                let nsum = certv1(g, &mut pw);
                cert_r1 = cert_r1.min(r1[c1].max(r1[c2]).max(nsum));
            }
        }
        let mut cert_r2 = usize::MAX;
        for c in 0..classes {
            if c == y {
                continue;
            }
            let first = if c == s {
                0
            } else {
                self.fa_pair(votes, counts, s, c)
            };
            let g = self.runoff_margin(sample, y, c) + i64::from(c > y);
            let mut pw =
                self.bucket_sums(|j| 2 * i64::from(prefers(self.table.logits(sample, j), y, c)));
            let second = certv1(g, &mut pw);
            cert_r2 = cert_r2.min(first.max(second));
        }
        Certificate {
            prediction: y,
            radius: cert_r1.min(cert_r2).saturating_sub(1),
        }
    }
}

/// DPA: plurality winner `y` (ties to the lower index) and
/// `min_c ceil(gap(y, c) / 2) - 1`.
fn dpa(counts: &[usize]) -> Certificate {
    let (y, _) = top_two(counts);
    let needed = (0..counts.len())
        .filter(|&c| c != y)
        .map(|c| ceil_half(gap(counts, y, c)))
        .min()
        .unwrap_or(usize::MAX);
    Certificate {
        prediction: y,
        radius: needed.saturating_sub(1),
    }
}

/// Certified accuracy at radii `0..=max_radius`: the fraction of samples
/// predicted correctly with a radius of at least `r`.
pub fn certified_accuracy(
    certs: &[Certificate],
    labels: &[usize],
    max_radius: usize,
) -> Result<Vec<f64>> {
    duality_core::check::same_len("certificates", certs.len(), "labels", labels.len())?;
    duality_core::check::non_empty("certificates", certs)?;
    let n = certs.len() as f64;
    Ok((0..=max_radius)
        .map(|r| {
            certs
                .iter()
                .zip(labels)
                .filter(|(c, &l)| c.prediction == l && c.radius >= r)
                .count() as f64
                / n
        })
        .collect())
}

/// Labelled images with non-negative integer pixels (e.g. scikit-learn's
/// `digits`, 8x8 with values 0..16).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageDataset {
    pixels: Vec<u32>,
    features: usize,
    labels: Vec<usize>,
    classes: usize,
    max_value: u32,
}

impl ImageDataset {
    /// A dataset from row-major pixels (`labels.len() x features`).
    pub fn new(pixels: Vec<u32>, features: usize, labels: Vec<usize>) -> Result<Self> {
        duality_core::check::non_empty("labels", &labels)?;
        if features == 0 {
            return Err(Error::invalid("features", 0, ">= 1 pixel per image"));
        }
        duality_core::check::same_len(
            "pixels",
            pixels.len(),
            "labels x features",
            labels.len().saturating_mul(features),
        )?;
        let classes = labels.iter().max().map_or(0, |m| m + 1);
        if classes < 2 {
            return Err(Error::invalid("classes", classes, ">= 2 classes"));
        }
        let max_value = pixels.iter().copied().max().unwrap_or(0).max(1);
        Ok(ImageDataset {
            pixels,
            features,
            labels,
            classes,
            max_value,
        })
    }

    /// Reads CSV `label,p0,p1,...` (the `label` column and every other column
    /// as a pixel, non-negative integers), as `fixtures/eval/digits.csv`.
    pub fn read_csv<R: Read>(reader: R, source: &str) -> Result<Self> {
        let (mut rdr, headers) = duality_core::record::csv_with_header(reader, source)?;
        let cl = duality_core::record::header_column(&headers, "label", source, "label,p0,p1,...")?;
        let features = headers.len() - 1;
        let mut pixels = Vec::new();
        let mut labels = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let line = i + 2;
            let rec = rec.map_err(|e| Error::parse(source, Some(line), e.to_string()))?;
            if rec.len() != headers.len() {
                return Err(Error::parse(
                    source,
                    Some(line),
                    format!("{} cells, expected {}", rec.len(), headers.len()),
                ));
            }
            for (c, v) in rec.iter().enumerate() {
                let v = v.trim();
                let x: u32 = v.parse().map_err(|_| {
                    Error::parse(
                        source,
                        Some(line),
                        format!(
                            "{} = {v:?}: expected a non-negative integer",
                            &headers[c].trim()
                        ),
                    )
                })?;
                if c == cl {
                    labels.push(x as usize);
                } else {
                    pixels.push(x);
                }
            }
        }
        if labels.is_empty() {
            return Err(Error::Empty {
                what: format!("{source} (images)"),
                min: 1,
            });
        }
        Self::new(pixels, features, labels)
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images (never, once constructed).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels per image.
    pub fn features(&self) -> usize {
        self.features
    }

    /// Number of classes (largest label + 1).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The labels.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// The pixels of image `i`.
    pub fn pixels(&self, i: usize) -> &[u32] {
        &self.pixels[i * self.features..(i + 1) * self.features]
    }

    /// The first `n` images and the rest (keeps the class count and pixel
    /// scale of the whole set); `0 < n < len`.
    pub fn split(&self, n: usize) -> Result<(ImageDataset, ImageDataset)> {
        if n == 0 || n >= self.len() {
            return Err(Error::invalid(
                "training images",
                n,
                format!("between 1 and {} (images - 1)", self.len() - 1),
            ));
        }
        let part = |lo: usize, hi: usize| ImageDataset {
            pixels: self.pixels[lo * self.features..hi * self.features].to_vec(),
            features: self.features,
            labels: self.labels[lo..hi].to_vec(),
            classes: self.classes,
            max_value: self.max_value,
        };
        Ok((part(0, n), part(n, self.len())))
    }

    /// Features of image `i` scaled to `[0, 1]`, with a trailing 1 (bias).
    fn scaled(&self, i: usize) -> impl Iterator<Item = f64> + '_ {
        let s = 1.0 / self.max_value as f64;
        self.pixels(i)
            .iter()
            .map(move |&p| p as f64 * s)
            .chain(std::iter::once(1.0))
    }
}

/// Settings of [`LogisticRegression::fit`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogisticParams {
    /// L2 penalty `lambda / 2 ||W||^2` on all weights, bias included
    /// (`lambda = 1/C`; scikit-learn's default `C = 1` is `lambda = 1`).
    pub l2: f64,
    /// L-BFGS iteration cap.
    pub max_iter: usize,
    /// Gradient max-norm tolerance.
    pub tol: f64,
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams {
            l2: 1.0,
            max_iter: 500,
            tol: 1e-6,
        }
    }
}

/// Multinomial logistic regression on all classes (absent classes get
/// pushed down by the loss and held finite by the penalty).
///
/// Objective: `sum_i [logsumexp(W x_i) - (W x_i)_{y_i}] + lambda/2 ||W||^2`
/// with `x_i` the pixels scaled to `[0, 1]` plus a constant 1; strictly
/// convex, minimised by L-BFGS from `W = 0`, so the model is a
/// deterministic function of its (ordered) training samples.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticRegression {
    classes: usize,
    width: usize,
    weights: Vec<f64>,
}

impl LogisticRegression {
    /// Fits on the images `rows` of `data` (may be empty: then `W = 0`).
    pub fn fit(data: &ImageDataset, rows: &[usize], params: &LogisticParams) -> Result<Self> {
        duality_core::check::positive("l2", params.l2)?;
        duality_core::check::positive("tol", params.tol)?;
        if let Some(&r) = rows.iter().find(|&&r| r >= data.len()) {
            return Err(Error::invalid("row", r, format!("below {}", data.len())));
        }
        let classes = data.classes();
        let width = data.features() + 1;
        let x: Vec<f64> = rows.iter().flat_map(|&r| data.scaled(r)).collect();
        let y: Vec<usize> = rows.iter().map(|&r| data.labels()[r]).collect();
        let n = rows.len();
        let dim = classes * width;
        let objective = |w: &[f64]| -> (f64, Vec<f64>) {
            let mut g: Vec<f64> = w.iter().map(|v| params.l2 * v).collect();
            let mut f = 0.5 * params.l2 * w.iter().map(|v| v * v).sum::<f64>();
            let mut z = vec![0.0; classes];
            for i in 0..n {
                let xi = &x[i * width..(i + 1) * width];
                for (c, zc) in z.iter_mut().enumerate() {
                    *zc = dot(&w[c * width..(c + 1) * width], xi);
                }
                let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let se: f64 = z.iter().map(|v| (v - m).exp()).sum();
                f += m + se.ln() - z[y[i]];
                for c in 0..classes {
                    let p = (z[c] - m).exp() / se - f64::from(u8::from(c == y[i]));
                    for (gj, xj) in g[c * width..(c + 1) * width].iter_mut().zip(xi) {
                        *gj += p * xj;
                    }
                }
            }
            (f, g)
        };
        let weights = if n == 0 {
            vec![0.0; dim]
        } else {
            let opts = LbfgsOptions {
                memory: 10,
                max_iter: params.max_iter,
                pgtol: params.tol,
                ftol: 1e-12,
            };
            let lo = vec![f64::NEG_INFINITY; dim];
            let hi = vec![f64::INFINITY; dim];
            minimize_bounded(objective, &vec![0.0; dim], &lo, &hi, &opts).x
        };
        Ok(LogisticRegression {
            classes,
            width,
            weights,
        })
    }

    /// The logits of image `i` of `data` (same pixel scale as training).
    pub fn logits(&self, data: &ImageDataset, i: usize) -> Vec<f64> {
        let x: Vec<f64> = data.scaled(i).collect();
        (0..self.classes)
            .map(|c| dot(&self.weights[c * self.width..(c + 1) * self.width], &x))
            .collect()
    }

    /// The weights, `classes x (features + 1)` (bias last).
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The training rows of each model of `layout`: image `i` goes to bucket
/// `hash(i) mod kd` and from there to the models of that bucket; each
/// model's rows are sorted by (label, pixels), so training does not depend
/// on the order of the training file (as the reference sorts partitions).
pub fn partition(train: &ImageDataset, layout: &Layout, hash: PartitionHash) -> Vec<Vec<usize>> {
    let mut parts = vec![Vec::new(); layout.buckets()];
    for i in 0..train.len() {
        let h = hash.bucket(train.pixels(i), layout.buckets());
        for m in layout.models_of_bucket(h) {
            parts[m].push(i);
        }
    }
    for p in &mut parts {
        p.sort_by(|&a, &b| {
            train.labels()[a]
                .cmp(&train.labels()[b])
                .then_with(|| train.pixels(a).cmp(train.pixels(b)))
        });
    }
    parts
}

/// Trains one logistic regression per model of `layout` (in parallel,
/// deterministic) and returns their logits on `test`.
pub fn train_and_score(
    train: &ImageDataset,
    test: &ImageDataset,
    layout: &Layout,
    hash: PartitionHash,
    params: &LogisticParams,
) -> Result<LogitTable> {
    if train.features() != test.features() || train.classes() != test.classes() {
        return Err(Error::invalid(
            "test set shape",
            format!("{} pixels, {} classes", test.features(), test.classes()),
            format!(
                "the training set's {} pixels, {} classes",
                train.features(),
                train.classes()
            ),
        ));
    }
    let parts = partition(train, layout, hash);
    let models: Vec<LogisticRegression> = parts
        .par_iter()
        .map(|rows| LogisticRegression::fit(train, rows, params))
        .collect::<Result<_>>()?;
    let (s, m, c) = (test.len(), models.len(), train.classes());
    let per_sample: Vec<Vec<f64>> = (0..s)
        .into_par_iter()
        .map(|i| models.iter().flat_map(|mdl| mdl.logits(test, i)).collect())
        .collect();
    LogitTable::new(s, m, c, per_sample.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table whose model `m` has logits `rows[m]` on one sample.
    fn one_sample(rows: &[&[f64]]) -> LogitTable {
        let c = rows[0].len();
        LogitTable::new(1, rows.len(), c, rows.concat()).unwrap()
    }

    /// The reference's recurrence (`dp_calc.py`).
    fn dp_reference(k: usize) -> Vec<Vec<usize>> {
        let mut a = vec![vec![0usize; k]; k];
        for i in 0..k {
            for j in 0..k {
                a[i][j] = if i == 0 && j == 0 {
                    0
                } else if (i <= 1 && j <= 2) || (i <= 2 && j <= 1) {
                    1
                } else if j <= 1 {
                    i.div_ceil(2)
                } else if i <= 1 {
                    j.div_ceil(2)
                } else {
                    1 + a[i - 2][j - 1].min(a[i - 1][j - 2])
                };
            }
        }
        a
    }

    #[test]
    fn closed_form_matches_the_reference_dp() {
        let a = dp_reference(80);
        for i in 0..80 {
            for j in 0..80 {
                assert_eq!(two_gap_flips(i as i64, j as i64), a[i][j], "({i}, {j})");
            }
        }
        assert_eq!(two_gap_flips(-3, 4), 2);
    }

    #[test]
    fn dpa_by_hand_with_ties() {
        // Votes 5, 3, 0: gap(0, 1) = 5 - 3 + 1{1 > 0} = 3 -> ceil(3/2) = 2
        // flips needed -> radius 1 (one flip makes 4-4, still won by 0).
        assert_eq!(
            dpa(&[5, 3, 0]),
            Certificate {
                prediction: 0,
                radius: 1
            }
        );
        // Tie 4-4: the lower index wins; gap(0, 1) = 1 -> radius 0.
        assert_eq!(
            dpa(&[4, 4, 0]),
            Certificate {
                prediction: 0,
                radius: 0
            }
        );
        // Tie 0-4-4: class 1 wins; gap(1, 2) = 1, radius 0.
        assert_eq!(
            dpa(&[0, 4, 4]),
            Certificate {
                prediction: 1,
                radius: 0
            }
        );
        // Class 2 leads 5 to 3 over class 0 (lower index): gap = 2 -> radius 0
        // (one flip 2 -> 0 makes 4-4, and 0 wins the tie).
        assert_eq!(
            dpa(&[3, 0, 5]),
            Certificate {
                prediction: 2,
                radius: 0
            }
        );
        // Levine & Feizi: floor((n_y - n_c - 1{c < y}) / 2).
        for counts in [[7usize, 2, 1], [1, 6, 3], [2, 2, 6], [0, 5, 5], [9, 0, 0]] {
            let c = dpa(&counts);
            let y = c.prediction;
            let lf = (0..3)
                .filter(|&c| c != y)
                .map(|c| (counts[y] as i64 - counts[c] as i64 - i64::from(c < y)) / 2)
                .min()
                .unwrap();
            assert_eq!(c.radius as i64, lf, "{counts:?}");
        }
    }

    #[test]
    fn roe_prediction_uses_the_runoff_with_index_ties() {
        // 3 classes, 5 models: votes 0,0,1,1,2 -> top two 0 and 1 (tie, 0 first).
        // Run-off: models 0, 1 prefer 0; models 2, 3, 4 prefer 1.
        let t = one_sample(&[
            &[3.0, 2.0, 0.0],
            &[3.0, 2.0, 0.0],
            &[0.0, 3.0, 2.0],
            &[0.0, 3.0, 2.0],
            &[0.0, 1.0, 3.0],
        ]);
        let l = Layout::dpa(5).unwrap();
        let c = Certifier::new(&t, &l).unwrap();
        assert_eq!(c.certify(0, Method::Dpa).unwrap().prediction, 0);
        assert_eq!(c.certify(0, Method::DpaRoe).unwrap().prediction, 1);
        // A run-off tie (equal logits everywhere) goes to the lower index.
        let t = one_sample(&[&[1.0, 1.0], &[1.0, 1.0]]);
        let l = Layout::dpa(2).unwrap();
        let c = Certifier::new(&t, &l).unwrap();
        assert_eq!(c.certify(0, Method::DpaRoe).unwrap().prediction, 0);
    }

    #[test]
    fn dpa_roe_certificate_by_hand() {
        // 4 classes, 8 models. Votes: class 0 x4, class 1 x3, class 2 x1.
        // All 8 models rank 0 above 1 above 2 above 3, except the class-1 and
        // class-2 voters who put their class first.
        let mut rows: Vec<Vec<f64>> = Vec::new();
        for _ in 0..4 {
            rows.push(vec![4.0, 3.0, 2.0, 1.0]);
        }
        for _ in 0..3 {
            rows.push(vec![3.0, 4.0, 2.0, 1.0]);
        }
        rows.push(vec![3.0, 2.0, 4.0, 1.0]);
        let refs: Vec<&[f64]> = rows.iter().map(|r| r.as_slice()).collect();
        let t = one_sample(&refs);
        let l = Layout::dpa(8).unwrap();
        let c = Certifier::new(&t, &l).unwrap();
        // y = 0, s = 1. Round-1 gaps from 0: c1 gap 4-3+1 = 2, c2 4-1+1 = 4,
        // c3 4-0+1 = 5. CertR1 = dp(2, 4) = max(1, 2, 2) = 2.
        // R2: c = 1: max(0, ceil((5 - 3 + 1)/2) = 2) = 2;
        //     c = 2: max(ceil((3-1+1)/2) = 2, ceil((7-1+1)/2) = 4) = 4;
        //     c = 3: max(ceil((3-0+1)/2) = 2, ceil((8-0+1)/2) = 5) = 5.
        // min(2, 2) - 1 = 1. (DPA: ceil(2/2) - 1 = 0.)
        assert_eq!(
            c.certify(0, Method::DpaRoe).unwrap(),
            Certificate {
                prediction: 0,
                radius: 1
            }
        );
        assert_eq!(c.certify(0, Method::Dpa).unwrap().radius, 0);
        // Same as FA with d = 1, except FA+ROE's round-1 bound is weaker or equal.
        assert_eq!(c.certify(0, Method::Fa).unwrap().radius, 0);
        assert!(c.certify(0, Method::FaRoe).unwrap().radius <= 1);
    }

    #[test]
    fn three_way_vote_tie_by_hand() {
        // 6 models, 3 classes, votes 0, 0, 1, 1, 2, 2: a three-way tie, so
        // round 1 orders 0, 1, 2 by index; DPA predicts 0 (gap(0, 1) = 1,
        // radius 0). Run-off 0 vs 1: the class-2 voters prefer 1 -> 2 vs 4,
        // ROE predicts 1 with s = 0. CertR1: gaps from 1 are 0 (class 0) and
        // 1 (class 2): dp(0, 1) = 1. CertR2: c = 0: max(0, ceil(2/2)) = 1;
        // c = 2: max(ceil(1/2), ceil((2 + 1)/2)) = 2. Radius min(1, 1) - 1 = 0.
        let t = one_sample(&[
            &[3.0, 2.0, 1.0],
            &[3.0, 2.0, 1.0],
            &[2.0, 3.0, 1.0],
            &[2.0, 3.0, 1.0],
            &[1.0, 2.0, 3.0],
            &[1.0, 2.0, 3.0],
        ]);
        let l = Layout::dpa(6).unwrap();
        let c = Certifier::new(&t, &l).unwrap();
        let cert = |m| c.certify(0, m).unwrap();
        assert_eq!(
            cert(Method::Dpa),
            Certificate {
                prediction: 0,
                radius: 0
            }
        );
        assert_eq!(
            cert(Method::Fa),
            Certificate {
                prediction: 0,
                radius: 0
            }
        );
        assert_eq!(
            cert(Method::DpaRoe),
            Certificate {
                prediction: 1,
                radius: 0
            }
        );
        assert_eq!(
            cert(Method::FaRoe),
            Certificate {
                prediction: 1,
                radius: 0
            }
        );
    }

    #[test]
    fn certv1_greedy() {
        assert_eq!(certv1(0, &mut [3, 1]), 0);
        assert_eq!(certv1(-2, &mut [3, 1]), 0);
        assert_eq!(certv1(4, &mut [1, 3, 1]), 2);
        assert_eq!(certv1(5, &mut [1, 3, 1]), 3);
        assert_eq!(certv1(6, &mut [1, 3, 1]), 4);
    }

    #[test]
    fn fa_certificate_by_hand() {
        // k = 2, d = 2, shifts {0, 1}: 4 buckets, bucket h reaches models h, h+1.
        // 2 classes, model votes: 0, 0, 0, 1 (n0 = 3, n1 = 1), gap(0, 1) = 3.
        // pw_h = sum over models of 1 + 1{v = 0} - 1{v = 1}:
        // per model 2, 2, 2, 0 -> buckets (0,1) 4, (1,2) 4, (2,3) 2, (3,0) 2.
        // One bucket (4) closes the gap of 3 -> needed 1, radius 0.
        let t = one_sample(&[&[1.0, 0.0], &[1.0, 0.0], &[1.0, 0.0], &[0.0, 1.0]]);
        let l = Layout::with_shifts(2, vec![0, 1]).unwrap();
        let c = Certifier::new(&t, &l).unwrap();
        assert_eq!(
            c.certify(0, Method::Fa).unwrap(),
            Certificate {
                prediction: 0,
                radius: 0
            }
        );
        // DPA rules refuse d > 1.
        let e = c.certify(0, Method::Dpa).unwrap_err().to_string();
        assert!(e.contains("d = 1"), "{e}");
        // FA+ROE with 2 classes: no pairs (R1 = inf); R2 for c = 1: s = 1,
        // first = 0, run-off gap 3 - 1 + 1 = 3, pw per bucket 2 x #models
        // preferring 0: (0,1) 4, (1,2) 4, (2,3) 2, (3,0) 2 -> needed 1.
        assert_eq!(c.certify(0, Method::FaRoe).unwrap().radius, 0);
        // With d = 1 the same votes give the DPA radius.
        let l1 = Layout::with_shifts(4, vec![0]).unwrap();
        let c1 = Certifier::new(&t, &l1).unwrap();
        assert_eq!(
            c1.certify(0, Method::Fa).unwrap(),
            c1.certify(0, Method::Dpa).unwrap()
        );
    }

    /// Random tables: FA (d = 1) equals DPA; FA+ROE (d = 1) <= DPA+ROE; the
    /// min over pairs of the DP equals the two-smallest-gap shortcut; and a
    /// certificate is sound: every single-model change within the radius
    /// (brute force, radius 0 and 1) leaves the prediction.
    #[test]
    fn invariants_on_random_tables() {
        let mut rng = Seeder::new(5).rng(0);
        for trial in 0..300 {
            let classes = 2 + trial % 4;
            let models = 3 + trial % 9;
            let logits: Vec<f64> = (0..models * classes)
                .map(|_| (rng.random_range(0..5)) as f64)
                .collect();
            let t = LogitTable::new(1, models, classes, logits.clone()).unwrap();
            let l = Layout::dpa(models).unwrap();
            let c = Certifier::new(&t, &l).unwrap();
            let dpa_c = c.certify(0, Method::Dpa).unwrap();
            assert_eq!(c.certify(0, Method::Fa).unwrap(), dpa_c, "trial {trial}");
            let roe = c.certify(0, Method::DpaRoe).unwrap();
            let fa_roe = c.certify(0, Method::FaRoe).unwrap();
            assert_eq!(roe.prediction, fa_roe.prediction);
            assert!(fa_roe.radius <= roe.radius, "trial {trial}");
            // Soundness within radius 1 by brute force: replace any one
            // model's logits by any of a few adversarial rows.
            for (method, cert) in [(Method::Dpa, dpa_c), (Method::DpaRoe, roe)] {
                if cert.radius == 0 {
                    continue;
                }
                for m in 0..models {
                    for target in 0..classes {
                        for second in 0..classes {
                            let mut row = vec![0.0; classes];
                            row[target] = 10.0;
                            if second != target {
                                row[second] = 5.0;
                            }
                            let mut lg = logits.clone();
                            lg[m * classes..(m + 1) * classes].copy_from_slice(&row);
                            let t2 = LogitTable::new(1, models, classes, lg).unwrap();
                            let c2 = Certifier::new(&t2, &l).unwrap();
                            assert_eq!(
                                c2.certify(0, method).unwrap().prediction,
                                cert.prediction,
                                "{method} trial {trial}: one flip changed a radius-{} prediction",
                                cert.radius
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn certified_accuracy_is_monotone_and_counts_only_correct() {
        let certs = [
            Certificate {
                prediction: 0,
                radius: 2,
            },
            Certificate {
                prediction: 1,
                radius: 5,
            },
            Certificate {
                prediction: 2,
                radius: 0,
            },
        ];
        // The second is misclassified: it never counts, whatever its radius.
        let acc = certified_accuracy(&certs, &[0, 0, 2], 4).unwrap();
        assert_eq!(acc, vec![2.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0, 0.0, 0.0]);
        assert!(acc.windows(2).all(|w| w[0] >= w[1]));
        assert!(certified_accuracy(&certs, &[0], 1).is_err());
    }

    #[test]
    fn bad_inputs_are_named() {
        assert!(Layout::dpa(1)
            .unwrap_err()
            .to_string()
            .contains("k (partitions)"));
        assert!(Layout::finite_aggregation(5, 0, 1)
            .unwrap_err()
            .to_string()
            .contains("d"));
        assert!(Layout::with_shifts(3, vec![1, 1])
            .unwrap_err()
            .to_string()
            .contains("distinct"));
        assert!(Layout::with_shifts(3, vec![0, 6])
            .unwrap_err()
            .to_string()
            .contains("shift"));
        let e = LogitTable::new(1, 2, 1, vec![0.0, 0.0])
            .unwrap_err()
            .to_string();
        assert!(e.contains("classes"), "{e}");
        let e = LogitTable::new(1, 1, 2, vec![0.0, 0.0])
            .unwrap_err()
            .to_string();
        assert!(e.contains("k >= 2"), "{e}");
        let e = LogitTable::new(1, 2, 2, vec![0.0, f64::NAN, 0.0, 0.0])
            .unwrap_err()
            .to_string();
        assert!(e.contains("model 0][class 1]"), "{e}");
        let csv = "sample,model,class,logit\na,0,0,1\na,0,1,x\n";
        let e = LogitTable::read_csv(csv.as_bytes(), "v.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("logit"), "{e}");
        let csv = "sample,model,class,logit\na,0,0,1\na,0,1,2\na,1,0,1\n";
        let e = LogitTable::read_csv(csv.as_bytes(), "v.csv")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("missing row") && e.contains("model 1, class 1"),
            "{e}"
        );
        let csv = "sample,model,class,logit\na,0,0,1\na,0,-1,2\n";
        let e = LogitTable::read_csv(csv.as_bytes(), "v.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("class = \"-1\""), "{e}");
        let t = LogitTable::new(1, 4, 2, vec![0.0; 8]).unwrap();
        let l = Layout::dpa(3).unwrap();
        assert!(Certifier::new(&t, &l).is_err());
    }

    #[test]
    fn image_csv_errors_are_named() {
        let e = ImageDataset::read_csv("label,p0\n1,3\n0,x\n".as_bytes(), "img.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("p0"), "{e}");
        let e = ImageDataset::read_csv("label,p0\n0,3\n0,4\n".as_bytes(), "img.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("classes"), "{e}");
        let e = ImageDataset::read_csv("p0,p1\n0,3\n".as_bytes(), "img.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("label"), "{e}");
        let d = ImageDataset::read_csv("label,p0\n1,3\n0,4\n".as_bytes(), "img.csv").unwrap();
        assert!(d.split(0).is_err() && d.split(2).is_err() && d.split(1).is_ok());
    }

    #[test]
    fn csv_round_trip() {
        let csv = "sample,model,class,logit\nb,1,1,0.5\nb,0,0,2\nb,0,1,1\nb,1,0,0.25\nz,0,0,0\nz,0,1,0\nz,1,0,0\nz,1,1,3\n";
        let (names, t) = LogitTable::read_csv(csv.as_bytes(), "v.csv").unwrap();
        assert_eq!(names, vec!["b", "z"]);
        assert_eq!(t.logits(0, 1), &[0.25, 0.5]);
        assert_eq!(t.votes(1).1, vec![1, 1]);
    }

    #[test]
    fn shifts_are_distinct_and_seeded() {
        let l = Layout::finite_aggregation(10, 8, 3).unwrap();
        assert_eq!(l, Layout::finite_aggregation(10, 8, 3).unwrap());
        let mut s = l.shifts().to_vec();
        s.sort_unstable();
        s.dedup();
        assert_eq!(s.len(), 8);
        assert!(s.iter().all(|&v| v < 80));
        // Each model is reached by exactly d buckets.
        let mut hits = vec![0; 80];
        for h in 0..80 {
            for m in l.models_of_bucket(h) {
                hits[m] += 1;
            }
        }
        assert!(hits.iter().all(|&h| h == 8));
    }

    #[test]
    fn partitions_depend_on_content_only() {
        let pixels: Vec<u32> = (0..40u32).map(|i| (i * 7) % 17).collect();
        let labels: Vec<usize> = (0..10).map(|i| i % 2).collect();
        let d = ImageDataset::new(pixels.clone(), 4, labels.clone()).unwrap();
        // Reverse the image order: every model gets the same images.
        let rev_px: Vec<u32> = (0..10)
            .rev()
            .flat_map(|i| pixels[i * 4..i * 4 + 4].to_vec())
            .collect();
        let rev_lb: Vec<usize> = labels.iter().rev().copied().collect();
        let r = ImageDataset::new(rev_px, 4, rev_lb).unwrap();
        let l = Layout::finite_aggregation(3, 2, 0).unwrap();
        for hash in [PartitionHash::PixelSum, PartitionHash::Keyed(9)] {
            let a = partition(&d, &l, hash);
            let b = partition(&r, &l, hash);
            for (pa, pb) in a.iter().zip(&b) {
                let ia: Vec<&[u32]> = pa.iter().map(|&i| d.pixels(i)).collect();
                let ib: Vec<&[u32]> = pb.iter().map(|&i| r.pixels(i)).collect();
                assert_eq!(ia, ib);
            }
        }
        // The reference's hash: pixel sum mod buckets.
        assert_eq!(PartitionHash::PixelSum.bucket(&[3, 4, 5], 5), 2);
    }

    #[test]
    fn logistic_regression_fits_separable_data_and_is_deterministic() {
        // Two classes split by the first pixel.
        let pixels = vec![0, 1, 1, 0, 0, 2, 16, 1, 15, 0, 14, 2];
        let labels = vec![0, 0, 0, 1, 1, 1];
        let d = ImageDataset::new(pixels, 2, labels).unwrap();
        let rows: Vec<usize> = (0..6).collect();
        let m = LogisticRegression::fit(&d, &rows, &LogisticParams::default()).unwrap();
        for i in 0..6 {
            let z = m.logits(&d, i);
            assert_eq!(argmax(&z), d.labels()[i]);
        }
        assert_eq!(
            m,
            LogisticRegression::fit(&d, &rows, &LogisticParams::default()).unwrap()
        );
        // Gradient at the optimum vanishes: compare with a perturbed objective.
        let empty = LogisticRegression::fit(&d, &[], &LogisticParams::default()).unwrap();
        assert!(empty.weights().iter().all(|&w| w == 0.0));
    }
}
