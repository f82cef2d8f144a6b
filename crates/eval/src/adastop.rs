//! AdaStop: group-sequential permutation tests with step-down multiple
//! comparisons (Mathieu et al. 2023, "AdaStop: adaptive statistical testing
//! for sound comparisons of Deep RL agents", Algorithm 1; reference code: the
//! `adastop` Python package, 0.1.3 on PyPI).
//!
//! Agent `a` is run in batches of `n_a` runs per stage (the same `n` for all
//! by default; [`AdaStopParams::group_sizes`] lets them differ, as the
//! package does), for at most `K` stages. After each stage, for every
//! undecided comparison `c = (i, j)` the statistic is the package's
//! `T_c = sum over stages s of (mean of i's runs in s - mean of j's runs in s)`
//! (for equal group sizes, `(sum(i) - sum(j)) / n`). Its null distribution
//! comes from permutations that, independently in every stage, reassign the
//! `n_i + n_j` pooled runs of `i` and `j` (one reassignment shared by every
//! comparison of the same shape `(n_i, n_j)`, so the joint law across
//! comparisons is kept). The level is spent linearly, `alpha_k = alpha k / K`,
//! and the boundary of stage `k` is the smallest `b` with
//! `spent + #{sigma not stopped earlier : max_c |T_c(sigma)| > b} / B <= alpha_k`,
//! where `spent` is the fraction of permutations that crossed an earlier
//! boundary. Comparisons with `|T_c| > b` are rejected ("larger" or
//! "smaller" by the sign of `T_c`), removed, and the boundary is recomputed
//! over the rest (step-down) until nothing more is rejected. At the last stage
//! the remaining comparisons are declared "equal".
//!
//! **Where duality differs from `adastop` 0.1.3** ([`Variant::Duality`], the
//! default). [`Variant::Adastop013`] reproduces the package instead (module
//! [`compat`]; checked against the package's decisions and boundaries on its
//! example CSVs, `fixtures/eval/adastop/`).
//!
//! 1. *Two-sided boundary.* The test is two-sided, so the boundary is a
//!    quantile of `max_c |T_c|`. The package takes the quantile of the
//!    maximum of the *signed* permuted statistics and compares `|T_c|` with
//!    it, which leaves one tail out and about doubles the type-I error.
//! 2. *Boundary carried to later stages.* Permutations that crossed stage
//!    `k`'s boundary are removed from later stages and their mass counts as
//!    spent. duality carries the **first** boundary of the stage, computed
//!    over every comparison open at the start of the stage, and counts as
//!    spent exactly the permutations that crossed it (a consistent test of
//!    the intersection hypothesis of that set). The package carries the
//!    boundary of its **last step-down round** (over the comparisons still
//!    open), and adds that round's tail mass to the level spent.
//! 3. *`<=` against `<`.* Both use `spent + P(T > b) <= alpha_k` for the
//!    boundary and strict `|T| > b` for a rejection. The package computes
//!    `P(T > t)` by position in the sorted permuted values (ties counted as
//!    above), duality by value (`#{T > b}`, ties not counted), and the
//!    package's early-accept side (`beta`, not implemented here) uses strict
//!    `<` for admissibility where its own level bookkeeping uses `<=`.
//! 4. *Joint against per-comparison permutations.* duality draws one
//!    reassignment per stage and shape and applies it to every comparison,
//!    so `max_c` is over a real joint permutation distribution. The package
//!    draws (when it does not enumerate) separate random permutations for
//!    each comparison and takes the maximum across them position by
//!    position, which treats the comparisons as independent; after stage 1
//!    it extends each kept permutation path by a single new draw and
//!    normalises by `C^floor(ln B / ln C)` rather than by the number of
//!    paths.
//!
//! Permutations: when every comparison has the same shape and
//! `C(n_i + n_j, n_i)^(stages so far)` is at most `B`, all of them are
//! enumerated; otherwise `B` random ones are drawn, the splits of stage `s` in
//! permutation `b` coming from stream `Seeder::new(seed).child(s).rng(b)`
//! (one split per shape, shapes in sorted order), so results are
//! reproducible and independent of the thread count. The state (data seen,
//! boundaries, decisions) serialises to JSON so a study can be resumed
//! between stages. The family-wise error is checked by simulation in the
//! tests, and the runs saved against a fixed-size design by the bench
//! experiment `adastop-budget`.

pub mod compat;

use duality_core::seed::Seeder;
use duality_core::{Error, Result};
use rand::seq::index::sample;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Parameters of AdaStop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdaStopParams {
    /// Runs per agent per stage (`n`, at most 32).
    pub n: usize,
    /// Maximum number of stages (`K`).
    pub stages: usize,
    /// Family-wise error level.
    pub alpha: f64,
    /// Number of permutations `B`.
    pub permutations: usize,
    /// Seed of the random permutations.
    pub seed: u64,
    /// Comparisons as agent index pairs; `None` means all pairs.
    pub comparisons: Option<Vec<(usize, usize)>>,
    /// Runs per stage of each agent, when they differ (the package's array
    /// `n`); `None` means `n` for every agent. Each at most 32.
    pub group_sizes: Option<Vec<usize>>,
    /// Which procedure decides (see the module docs).
    pub variant: Variant,
}

/// The procedure behind the decisions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// duality's test: two-sided boundary on `max_c |T_c|`, one permutation
    /// shared by all comparisons, the first boundary of each stage carried.
    #[default]
    Duality,
    /// A replica of the Python package `adastop` 0.1.3 (`beta = 0`), for
    /// reproducing its decisions; see [`compat`].
    #[serde(rename = "adastop-0.1.3")]
    Adastop013,
}

impl Default for AdaStopParams {
    fn default() -> Self {
        AdaStopParams {
            n: 5,
            stages: 5,
            alpha: 0.05,
            permutations: 10_000,
            seed: 0,
            comparisons: None,
            group_sizes: None,
            variant: Variant::Duality,
        }
    }
}

/// The decision on one comparison `(i, j)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// Not decided yet: run another stage.
    Continue,
    /// Agent `i` is better than agent `j`.
    Larger,
    /// Agent `i` is worse than agent `j`.
    Smaller,
    /// No difference detected after the last stage.
    Equal,
}

/// What was decided at one stage (kept in the state for later stages).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    /// Comparisons (indices into the comparison list) undecided at the start
    /// of the stage.
    pub active: Vec<usize>,
    /// The first (largest-set) boundary of the stage.
    pub boundary: f64,
    /// Level spent up to and including this stage.
    pub level_spent: f64,
}

/// An AdaStop study: resumable state plus decisions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdaStop {
    params: AdaStopParams,
    agents: Vec<String>,
    comparisons: Vec<(usize, usize)>,
    /// `data[agent][stage]` holds the `n` runs of that stage (empty once the
    /// agent is no longer needed).
    data: Vec<Vec<Vec<f64>>>,
    records: Vec<StageRecord>,
    decisions: Vec<Decision>,
    statistics: Vec<f64>,
    /// Runs per stage of each agent.
    sizes: Vec<usize>,
    /// The package replica's state ([`Variant::Adastop013`] only).
    compat: Option<compat::CompatState>,
}

/// A comparison's outcome, for reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonOutcome {
    /// First agent.
    pub agent: String,
    /// Second agent.
    pub other: String,
    /// Decision.
    pub decision: Decision,
    /// Latest observed statistic `T_c` (sum over stages of the mean
    /// differences; the package's `(k+1)(mean_i - mean_j)` in the
    /// `adastop-0.1.3` variant).
    pub statistic: f64,
}

fn binomial(n: u64, k: u64) -> f64 {
    let mut r = 1.0;
    for i in 0..k {
        r = r * (n - i) as f64 / (i + 1) as f64;
    }
    r.round()
}

/// All `k`-subsets of `0..total` as bitmasks, in lexicographic order.
fn all_splits(k: usize, total: usize) -> Vec<u64> {
    let mut out = Vec::new();
    let mut idx: Vec<usize> = (0..k).collect();
    loop {
        out.push(idx.iter().fold(0u64, |m, &i| m | (1 << i)));
        // Next combination.
        let mut i = k;
        while i > 0 && idx[i - 1] == total - k + i - 1 {
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

/// `mean(pooled[mask]) - mean(pooled[!mask])` where the mask selects `n1`
/// of the pooled runs (the first agent's share under the permutation).
fn block_statistic(pooled: &[f64], mask: u64, n1: usize) -> f64 {
    let n2 = pooled.len() - n1;
    let (mut a, mut b) = (0.0, 0.0);
    for (pos, &v) in pooled.iter().enumerate() {
        if mask >> pos & 1 == 1 {
            a += v;
        } else {
            b += v;
        }
    }
    a / n1 as f64 - b / n2 as f64
}

impl AdaStop {
    /// A new study over the named agents; validates parameters.
    pub fn new(agents: Vec<String>, params: AdaStopParams) -> Result<Self> {
        duality_core::check::at_least("number of agents", agents.len(), 2)?;
        duality_core::check::at_least("stages", params.stages, 1)?;
        duality_core::check::open_unit("alpha", params.alpha)?;
        duality_core::check::at_least("permutations", params.permutations, 1)?;
        if params.permutations > 10_000_000 {
            return Err(Error::invalid(
                "permutations",
                params.permutations,
                "at most 10,000,000",
            ));
        }
        let l = agents.len();
        let sizes = match &params.group_sizes {
            Some(g) => {
                duality_core::check::same_len("group_sizes", g.len(), "agents", l)?;
                g.clone()
            }
            None => vec![params.n; l],
        };
        for (a, &s) in sizes.iter().enumerate() {
            let what = format!("runs per stage of agent {:?}", agents[a]);
            duality_core::check::at_least(&what, s, 1)?;
            if s > 32 {
                return Err(Error::invalid(what, s, "at most 32 runs per stage"));
            }
        }
        let comparisons = match &params.comparisons {
            Some(c) => {
                duality_core::check::non_empty("comparisons", c)?;
                for &(i, j) in c {
                    if i >= l || j >= l || i == j {
                        return Err(Error::invalid(
                            "comparison",
                            format!("({i}, {j})"),
                            format!("two different agent indices below {l}"),
                        ));
                    }
                }
                c.clone()
            }
            None => (0..l)
                .flat_map(|i| (i + 1..l).map(move |j| (i, j)))
                .collect(),
        };
        let m = comparisons.len();
        let compat = match params.variant {
            Variant::Duality => None,
            Variant::Adastop013 => Some(compat::CompatState::new(params.seed, m)?),
        };
        Ok(AdaStop {
            params,
            sizes,
            data: vec![Vec::new(); l],
            agents,
            comparisons,
            records: Vec::new(),
            decisions: vec![Decision::Continue; m],
            statistics: vec![0.0; m],
            compat,
        })
    }

    /// Parameters.
    pub fn params(&self) -> &AdaStopParams {
        &self.params
    }

    /// Runs per stage of each agent.
    pub fn group_sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Agent names.
    pub fn agents(&self) -> &[String] {
        &self.agents
    }

    /// Comparisons as agent index pairs.
    pub fn comparisons(&self) -> &[(usize, usize)] {
        &self.comparisons
    }

    /// Stages processed so far.
    pub fn stage(&self) -> usize {
        self.records.len()
    }

    /// The runs agent `agent` contributed to stage `stage` (empty if it was
    /// not needed then), or `None` for a stage not processed yet.
    pub fn stage_runs(&self, agent: usize, stage: usize) -> Option<&[f64]> {
        self.data.get(agent)?.get(stage).map(|v| v.as_slice())
    }

    /// Per-stage records.
    pub fn records(&self) -> &[StageRecord] {
        &self.records
    }

    /// Current decision per comparison.
    pub fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// Whether every comparison is decided.
    pub fn is_finished(&self) -> bool {
        self.decisions.iter().all(|d| *d != Decision::Continue)
    }

    /// Agents still involved in an undecided comparison (they need another
    /// batch of runs).
    pub fn agents_to_run(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .comparisons
            .iter()
            .zip(&self.decisions)
            .filter(|(_, d)| **d == Decision::Continue)
            .flat_map(|(&(i, j), _)| [i, j])
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Total runs used so far over all agents.
    pub fn runs_used(&self) -> usize {
        self.data.iter().flatten().map(Vec::len).sum()
    }

    /// Outcomes with agent names.
    pub fn outcomes(&self) -> Vec<ComparisonOutcome> {
        self.comparisons
            .iter()
            .zip(&self.decisions)
            .zip(&self.statistics)
            .map(|((&(i, j), &decision), &statistic)| ComparisonOutcome {
                agent: self.agents[i].clone(),
                other: self.agents[j].clone(),
                decision,
                statistic,
            })
            .collect()
    }

    /// Processes one stage: `batch[a]` holds the new runs of agent `a`
    /// (its group size of them; agents not in
    /// [`agents_to_run`](Self::agents_to_run) may pass an empty vector).
    /// Returns the decisions after this stage.
    pub fn update(&mut self, batch: &[Vec<f64>]) -> Result<&[Decision]> {
        let k = self.records.len();
        if k >= self.params.stages || self.is_finished() {
            return Err(Error::invalid(
                "stage",
                k + 1,
                format!(
                    "at most {} stages, and an unfinished study",
                    self.params.stages
                ),
            ));
        }
        duality_core::check::same_len("batch", batch.len(), "agents", self.agents.len())?;
        let needed = self.agents_to_run();
        for (a, runs) in batch.iter().enumerate() {
            if needed.contains(&a) {
                duality_core::check::same_len(
                    &format!("runs of agent {:?} in stage {}", self.agents[a], k + 1),
                    runs.len(),
                    "its group size",
                    self.sizes[a],
                )?;
            }
            duality_core::check::finite(&format!("runs of agent {:?}", self.agents[a]), runs)?;
        }
        let active: Vec<usize> = (0..self.comparisons.len())
            .filter(|&c| self.decisions[c] == Decision::Continue)
            .collect();
        if self.compat.is_some() {
            // Validate before touching the state, so an error leaves it as it was.
            let mut data: Vec<Vec<f64>> = self
                .data
                .iter()
                .map(|blocks| blocks.iter().flatten().copied().collect())
                .collect();
            for &a in &needed {
                data[a].extend(&batch[a]);
            }
            let mut state = self.compat.clone().unwrap_or_else(|| unreachable!());
            let out = state.stage(
                k,
                &active,
                &self.comparisons,
                &self.sizes,
                &data,
                self.params.permutations,
                self.params.alpha,
                self.params.stages,
            )?;
            self.compat = Some(state);
            self.push_batch(batch, &needed);
            for (c, t) in out.statistics {
                self.statistics[c] = t;
            }
            for (c, larger) in out.rejected {
                self.decisions[c] = if larger {
                    Decision::Larger
                } else {
                    Decision::Smaller
                };
            }
            self.finish_stage(k, active, out.boundary, out.level_spent);
            return Ok(&self.decisions);
        }
        self.push_batch(batch, &needed);
        let observed: Vec<f64> = (0..self.comparisons.len())
            .map(|c| {
                let (i, j) = self.comparisons[c];
                let n1 = self.sizes[i];
                (0..self.data[i].len())
                    .filter(|&s| !self.data[i][s].is_empty() && !self.data[j][s].is_empty())
                    .map(|s| {
                        let pooled: Vec<f64> = self.data[i][s]
                            .iter()
                            .chain(&self.data[j][s])
                            .copied()
                            .collect();
                        block_statistic(&pooled, (1u64 << n1) - 1, n1)
                    })
                    .sum()
            })
            .collect();
        for &c in &active {
            self.statistics[c] = observed[c];
        }

        // Permuted statistics: for each permutation, |T_c| of every active
        // comparison at this stage, and whether it crossed an earlier boundary.
        let (perm_stats, n_perm, crossed_before) = self.permutation_statistics(&active);
        let spent_before = crossed_before.iter().filter(|&&x| x).count() as f64 / n_perm as f64;
        let level = self.params.alpha * (k + 1) as f64 / self.params.stages as f64;

        let boundary_for = |set: &[usize]| -> f64 {
            // max_c |T_c(sigma)| over the current set, for permutations not stopped earlier.
            let mut maxima: Vec<f64> = (0..n_perm)
                .filter(|&b| !crossed_before[b])
                .map(|b| {
                    set.iter()
                        .map(|&c| perm_stats[b * active.len() + active_pos(&active, c)])
                        .fold(0.0, f64::max)
                })
                .collect();
            maxima.sort_unstable_by(f64::total_cmp);
            let m = maxima.len();
            // Smallest v (from the largest down) with spent + #{> v}/B <= level.
            let mut boundary = f64::INFINITY;
            let mut idx = m;
            while idx > 0 {
                let v = maxima[idx - 1];
                let first = maxima.partition_point(|&x| x < v);
                let above = m - maxima.partition_point(|&x| x <= v);
                if spent_before + above as f64 / n_perm as f64 <= level {
                    boundary = v;
                    idx = first;
                } else {
                    break;
                }
            }
            boundary
        };

        let mut remaining = active.clone();
        let first_boundary = boundary_for(&remaining);
        let mut boundary = first_boundary;
        loop {
            let rejected: Vec<usize> = remaining
                .iter()
                .copied()
                .filter(|&c| observed[c].abs() > boundary)
                .collect();
            if rejected.is_empty() {
                break;
            }
            for &c in &rejected {
                self.decisions[c] = if observed[c] > 0.0 {
                    Decision::Larger
                } else {
                    Decision::Smaller
                };
            }
            remaining.retain(|c| !rejected.contains(c));
            if remaining.is_empty() {
                break;
            }
            boundary = boundary_for(&remaining);
        }
        let crossed_now = (0..n_perm)
            .filter(|&b| {
                !crossed_before[b]
                    && (0..active.len())
                        .map(|p| perm_stats[b * active.len() + p])
                        .fold(0.0, f64::max)
                        > first_boundary
            })
            .count() as f64;
        self.finish_stage(
            k,
            active,
            first_boundary,
            spent_before + crossed_now / n_perm as f64,
        );
        Ok(&self.decisions)
    }

    fn push_batch(&mut self, batch: &[Vec<f64>], needed: &[usize]) {
        for (a, runs) in batch.iter().enumerate() {
            self.data[a].push(if needed.contains(&a) {
                runs.clone()
            } else {
                Vec::new()
            });
        }
    }

    fn finish_stage(&mut self, k: usize, active: Vec<usize>, boundary: f64, level_spent: f64) {
        if k + 1 == self.params.stages {
            for d in &mut self.decisions {
                if *d == Decision::Continue {
                    *d = Decision::Equal;
                }
            }
        }
        self.records.push(StageRecord {
            active,
            boundary,
            level_spent,
        });
    }

    /// The distinct `(n_i, n_j)` shapes of the comparisons, sorted: one
    /// random split per shape and stage is shared by the comparisons of
    /// that shape.
    fn shapes(&self) -> Vec<(usize, usize)> {
        let mut v: Vec<(usize, usize)> = self
            .comparisons
            .iter()
            .map(|&(i, j)| (self.sizes[i], self.sizes[j]))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Returns `(|T_c(sigma_b)| for b, active c (row-major), number of
    /// permutations, crossed-an-earlier-boundary flags)`.
    fn permutation_statistics(&self, active: &[usize]) -> (Vec<f64>, usize, Vec<bool>) {
        let shapes = self.shapes();
        let stages = self.records.len() + 1;
        // Exact enumeration only when one split serves every comparison.
        let (n1, n2) = shapes[0];
        let per_stage = binomial((n1 + n2) as u64, n1 as u64);
        let exact_count = per_stage.powi(stages as i32);
        let exact = shapes.len() == 1 && exact_count <= self.params.permutations as f64;
        let n_perm = if exact {
            exact_count as usize
        } else {
            self.params.permutations
        };
        let splits = if exact {
            all_splits(n1, n1 + n2)
        } else {
            Vec::new()
        };
        let shape_of: Vec<usize> = self
            .comparisons
            .iter()
            .map(|&(i, j)| {
                shapes
                    .iter()
                    .position(|&s| s == (self.sizes[i], self.sizes[j]))
                    .unwrap_or(0)
            })
            .collect();
        let root = Seeder::new(self.params.seed);
        let n_comp = self.comparisons.len();
        let results: Vec<(Vec<f64>, bool)> = (0..n_perm)
            .into_par_iter()
            .map(|b| {
                let mut cum = vec![0.0; n_comp];
                let mut crossed = false;
                let mut rest = b;
                let mut masks = vec![0u64; shapes.len()];
                for s in 0..stages {
                    if exact {
                        let d = rest % splits.len();
                        rest /= splits.len();
                        masks[0] = splits[d];
                    } else {
                        let mut rng = root.child(s as u64).rng(b as u64);
                        for (m, &(a, b2)) in masks.iter_mut().zip(&shapes) {
                            *m = sample(&mut rng, a + b2, a)
                                .into_iter()
                                .fold(0u64, |m, i| m | (1 << i));
                        }
                    }
                    // Comparisons active at stage s have data for it.
                    let relevant: &[usize] = if s < self.records.len() {
                        &self.records[s].active
                    } else {
                        active
                    };
                    let mut pooled = Vec::with_capacity(64);
                    for &c in relevant {
                        let (i, j) = self.comparisons[c];
                        pooled.clear();
                        pooled.extend(self.data[i][s].iter().chain(&self.data[j][s]));
                        cum[c] += block_statistic(&pooled, masks[shape_of[c]], self.sizes[i]);
                    }
                    if s < self.records.len() && !crossed {
                        let rec = &self.records[s];
                        let m = rec.active.iter().map(|&c| cum[c].abs()).fold(0.0, f64::max);
                        crossed = m > rec.boundary;
                    }
                }
                (active.iter().map(|&c| cum[c].abs()).collect(), crossed)
            })
            .collect();
        let mut stats = Vec::with_capacity(n_perm * active.len());
        let mut flags = Vec::with_capacity(n_perm);
        for (v, f) in results {
            stats.extend(v);
            flags.push(f);
        }
        (stats, n_perm, flags)
    }
}

fn active_pos(active: &[usize], c: usize) -> usize {
    active.iter().position(|&a| a == c).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use duality_core::seed::DualityRng;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};

    fn run_study(means: &[f64], params: &AdaStopParams, rng: &mut DualityRng) -> AdaStop {
        let names = (0..means.len()).map(|i| format!("a{i}")).collect();
        let mut study = AdaStop::new(names, params.clone()).unwrap();
        while !study.is_finished() {
            let batch: Vec<Vec<f64>> = means
                .iter()
                .map(|&m| {
                    let d = Normal::new(m, 1.0).unwrap();
                    (0..params.n).map(|_| d.sample(rng)).collect()
                })
                .collect();
            study.update(&batch).unwrap();
        }
        study
    }

    #[test]
    fn splits_are_enumerated() {
        assert_eq!(all_splits(2, 4).len(), 6);
        assert_eq!(all_splits(5, 10).len(), 252);
        assert_eq!(all_splits(2, 5).len(), 10);
        assert!(all_splits(3, 6).iter().all(|m| m.count_ones() == 3));
    }

    #[test]
    fn detects_a_large_difference_and_saves_state() {
        let params = AdaStopParams {
            n: 5,
            stages: 4,
            permutations: 2_000,
            ..AdaStopParams::default()
        };
        let mut rng = DualityRng::seed_from_u64(1);
        let study = run_study(&[0.0, 3.0, 0.0], &params, &mut rng);
        let d = study.decisions();
        // Comparisons: (0,1), (0,2), (1,2).
        assert_eq!(d[0], Decision::Smaller);
        assert_eq!(d[2], Decision::Larger);
        let json = serde_json::to_string(&study).unwrap();
        let back: AdaStop = serde_json::from_str(&json).unwrap();
        assert_eq!(back, study);
    }

    #[test]
    fn resuming_equals_running_through_and_is_thread_independent() {
        let params = AdaStopParams {
            n: 6,
            stages: 3,
            permutations: 500,
            seed: 3,
            ..AdaStopParams::default()
        };
        let batches: Vec<Vec<Vec<f64>>> = (0..3)
            .map(|s| {
                (0..3)
                    .map(|a| {
                        (0..6)
                            .map(|r| ((s * 17 + a * 5 + r * 3) % 11) as f64 / 5.0)
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let names: Vec<String> = vec!["x".into(), "y".into(), "z".into()];
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    let mut s = AdaStop::new(names.clone(), params.clone()).unwrap();
                    for b in &batches {
                        if s.is_finished() {
                            break;
                        }
                        let json = serde_json::to_string(&s).unwrap();
                        s = serde_json::from_str(&json).unwrap();
                        s.update(b).unwrap();
                    }
                    s
                })
        };
        assert_eq!(run(1), run(3));
    }

    #[test]
    fn bad_parameters() {
        let names = vec!["a".to_string(), "b".to_string()];
        let p = |f: fn(&mut AdaStopParams)| {
            let mut x = AdaStopParams::default();
            f(&mut x);
            AdaStop::new(names.clone(), x)
        };
        assert!(p(|x| x.alpha = 1.0)
            .unwrap_err()
            .to_string()
            .contains("alpha"));
        assert!(p(|x| x.n = 0).is_err());
        assert!(p(|x| x.comparisons = Some(vec![(0, 0)])).is_err());
        let mut s = AdaStop::new(names.clone(), AdaStopParams::default()).unwrap();
        assert!(s.update(&[vec![1.0; 5], vec![1.0; 4]]).is_err());
    }

    /// Unequal group sizes: the statistic is a mean difference (centred
    /// under H0 whatever the sizes), a large gap is found, sizes are checked,
    /// and under H0 the family-wise error stays below alpha (300 studies).
    #[test]
    fn unequal_group_sizes() {
        let params = AdaStopParams {
            stages: 3,
            permutations: 300,
            group_sizes: Some(vec![3, 6, 4]),
            ..AdaStopParams::default()
        };
        let names: Vec<String> = vec!["a".into(), "b".into(), "c".into()];
        let mut s = AdaStop::new(names.clone(), params.clone()).unwrap();
        let err = s
            .update(&[vec![0.0; 3], vec![0.0; 5], vec![0.0; 4]])
            .unwrap_err();
        assert!(err.to_string().contains("\"b\""), "{err}");
        let bad = AdaStopParams {
            group_sizes: Some(vec![3, 40, 4]),
            ..params.clone()
        };
        assert!(AdaStop::new(names.clone(), bad)
            .unwrap_err()
            .to_string()
            .contains("40"));
        let run = |means: [f64; 3], seed: u64, rng: &mut DualityRng| {
            let p = AdaStopParams {
                seed,
                ..params.clone()
            };
            let mut st = AdaStop::new(names.clone(), p).unwrap();
            while !st.is_finished() {
                let need = st.agents_to_run();
                let batch: Vec<Vec<f64>> = (0..3)
                    .map(|a| {
                        let d = Normal::new(means[a], 1.0).unwrap();
                        if need.contains(&a) {
                            (0..st.group_sizes()[a]).map(|_| d.sample(rng)).collect()
                        } else {
                            Vec::new()
                        }
                    })
                    .collect();
                st.update(&batch).unwrap();
            }
            st
        };
        let mut rng = DualityRng::seed_from_u64(5);
        let st = run([0.0, 4.0, 0.0], 1, &mut rng);
        assert_eq!(st.decisions()[0], Decision::Smaller);
        assert_eq!(st.decisions()[2], Decision::Larger);
        let reps = 300;
        let errors: usize = Seeder::new(11)
            .par_map(reps, |i, rng| {
                let st = run([5.0, 5.0, 5.0], i as u64, rng);
                usize::from(
                    st.decisions()
                        .iter()
                        .any(|d| matches!(d, Decision::Larger | Decision::Smaller)),
                )
            })
            .into_iter()
            .sum();
        let rate = errors as f64 / reps as f64;
        let margin = 3.0 * (0.05f64 * 0.95 / reps as f64).sqrt();
        assert!(rate <= 0.05 + margin, "FWE {rate} > alpha + {margin}");
    }

    /// Under H0 (all agents equal), the family-wise error must stay below
    /// alpha: 400 studies, 3 agents, 3 stages; margin 3 binomial s.d.
    #[test]
    fn family_wise_error_under_null() {
        let params = AdaStopParams {
            n: 5,
            stages: 3,
            alpha: 0.05,
            permutations: 400,
            ..AdaStopParams::default()
        };
        let reps = 400;
        let errors: usize = Seeder::new(99)
            .par_map(reps, |i, rng| {
                let p = AdaStopParams {
                    seed: i as u64,
                    ..params.clone()
                };
                let s = run_study(&[0.0, 0.0, 0.0], &p, rng);
                usize::from(
                    s.decisions()
                        .iter()
                        .any(|d| matches!(d, Decision::Larger | Decision::Smaller)),
                )
            })
            .into_iter()
            .sum();
        let rate = errors as f64 / reps as f64;
        let margin = 3.0 * (0.05f64 * 0.95 / reps as f64).sqrt();
        assert!(rate <= 0.05 + margin, "FWE {rate} > alpha + {margin}");
    }
}
