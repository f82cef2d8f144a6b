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
    /// Format version of the saved state ([`STATE_VERSION`]; files written
    /// before the field existed read as version 1).
    #[serde(default = "state_version")]
    version: u32,
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
    /// Statistics are computed on the runs times `2^scale_exp` (0 unless
    /// the first stage's runs exceed `2^500` in magnitude), so finite runs
    /// near `1e308` do not overflow the sums. Scaling by a power of two is
    /// exact, so the decisions are those of the unscaled data; the stored
    /// statistics and boundaries are in scaled units.
    #[serde(default)]
    scale_exp: i32,
}

/// Version of the saved-state format this build reads and writes.
pub const STATE_VERSION: u32 = 1;

fn state_version() -> u32 {
    STATE_VERSION
}

/// Most agents a study accepts: `L` agents make `L (L - 1) / 2` comparisons,
/// and each stage stores and scans `permutations x comparisons` statistics.
/// 1,000 agents (499,500 comparisons) is far beyond any practical study;
/// the memory of a request is also checked against the memory budget
/// (`duality_core::limits`).
pub const MAX_AGENTS: usize = 1_000;

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
        if agents.len() > MAX_AGENTS {
            return Err(Error::invalid(
                "number of agents",
                agents.len(),
                format!("at most {MAX_AGENTS} (MAX_AGENTS)"),
            ));
        }
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
        // Each stage holds `permutations x comparisons` statistics (plus a
        // per-permutation copy while they are collected).
        duality_core::limits::check_memory(
            &format!(
                "AdaStop permutations x comparisons ({} x {m})",
                params.permutations
            ),
            (params.permutations as u128) * (m as u128) * 16,
        )?;
        let compat = match params.variant {
            Variant::Duality => None,
            Variant::Adastop013 => Some(compat::CompatState::new(params.seed, m)?),
        };
        Ok(AdaStop {
            version: STATE_VERSION,
            scale_exp: 0,
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

    /// Whether every comparison is decided (a study without comparisons,
    /// which only a damaged state file can describe, is not).
    pub fn is_finished(&self) -> bool {
        !self.decisions.is_empty() && self.decisions.iter().all(|d| *d != Decision::Continue)
    }

    /// Reads a saved state (JSON from `serde_json::to_string(&study)`) and
    /// [validates](Self::validate) it; `source` names the file in errors.
    pub fn from_json_str(text: &str, source: &str) -> Result<Self> {
        let study: AdaStop = serde_json::from_str(text).map_err(|e| {
            Error::parse(
                source,
                Some(e.line()),
                format!("malformed AdaStop state: {e}"),
            )
        })?;
        study
            .validate()
            .map_err(|e| Error::parse(source, None, e.to_string()))?;
        Ok(study)
    }

    /// Checks that a state read from a file is consistent: the version, the
    /// parameters (as [`new`](Self::new) checks them), the agents, the
    /// comparisons (those `new` derives from the parameters), the stage
    /// (at most the maximum number of stages), one decision and statistic per
    /// comparison, one block of runs per agent and stage with its group size
    /// of finite runs (or none, when the agent was not needed) and runs for
    /// both agents of every comparison open at that stage, and the decisions
    /// against the stages run. A hand-edited state that passes cannot make
    /// [`update`](Self::update) index out of bounds.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str, value: String, expected: String| {
            Err(Error::invalid(
                format!("AdaStop state: {what}"),
                value,
                expected,
            ))
        };
        if self.version != STATE_VERSION {
            return bad(
                "version",
                self.version.to_string(),
                format!("{STATE_VERSION} (the format this build reads)"),
            );
        }
        let fresh = AdaStop::new(self.agents.clone(), self.params.clone())?;
        if self.comparisons != fresh.comparisons {
            return bad(
                "comparisons",
                format!("{} pairs", self.comparisons.len()),
                format!(
                    "the {} pairs the parameters give ({:?}...)",
                    fresh.comparisons.len(),
                    &fresh.comparisons[..fresh.comparisons.len().min(3)]
                ),
            );
        }
        if self.sizes != fresh.sizes {
            return bad(
                "sizes",
                format!("{:?}", self.sizes),
                format!("{:?} (from n and group_sizes)", fresh.sizes),
            );
        }
        let m = self.comparisons.len();
        let k = self.records.len();
        if k > self.params.stages {
            return bad(
                "stage",
                format!("{k} of {}", self.params.stages),
                format!("at most {} stages", self.params.stages),
            );
        }
        if self.decisions.len() != m || self.statistics.len() != m {
            return bad(
                "decisions / statistics",
                format!("{} / {}", self.decisions.len(), self.statistics.len()),
                format!("one per comparison ({m})"),
            );
        }
        if self.statistics.iter().any(|x| !x.is_finite()) {
            return bad(
                "statistics",
                "a non-finite value".into(),
                "finite numbers".into(),
            );
        }
        if !(-1100..=1100).contains(&self.scale_exp) {
            return bad(
                "scale_exp",
                self.scale_exp.to_string(),
                "an exponent in [-1100, 1100]".into(),
            );
        }
        if self.data.len() != self.agents.len() {
            return bad(
                "data",
                format!("{} agents", self.data.len()),
                format!("one list per agent ({})", self.agents.len()),
            );
        }
        for (a, blocks) in self.data.iter().enumerate() {
            let name = &self.agents[a];
            if blocks.len() != k {
                return bad(
                    &format!("data of agent {name:?}"),
                    format!("{} stages", blocks.len()),
                    format!("one block per stage run ({k})"),
                );
            }
            for (st, b) in blocks.iter().enumerate() {
                if !b.is_empty() && b.len() != self.sizes[a] {
                    return bad(
                        &format!("runs of agent {name:?} in stage {}", st + 1),
                        format!("{} runs", b.len()),
                        format!("{} runs (its group size) or none", self.sizes[a]),
                    );
                }
                if b.iter().any(|x| !x.is_finite()) {
                    return bad(
                        &format!("runs of agent {name:?} in stage {}", st + 1),
                        "a non-finite value".into(),
                        "finite numbers".into(),
                    );
                }
            }
        }
        let mut open_now: Vec<usize> = (0..m).collect();
        for (st, rec) in self.records.iter().enumerate() {
            let sorted = rec.active.windows(2).all(|w| w[0] < w[1]);
            if !sorted || rec.active.iter().any(|&c| !open_now.contains(&c)) {
                return bad(
                    &format!("active comparisons of stage {}", st + 1),
                    format!("{:?}", rec.active),
                    "increasing indices of comparisons still open at that stage".into(),
                );
            }
            for &c in &rec.active {
                let (i, j) = self.comparisons[c];
                if self.data[i][st].is_empty() || self.data[j][st].is_empty() {
                    return bad(
                        &format!("data of stage {}", st + 1),
                        format!("no runs of {:?} or {:?}", self.agents[i], self.agents[j]),
                        "runs for both agents of every comparison open at that stage".into(),
                    );
                }
            }
            if rec.boundary.is_nan() || !(0.0..=1.0).contains(&rec.level_spent) {
                return bad(
                    &format!("record of stage {}", st + 1),
                    format!("boundary {} level_spent {}", rec.boundary, rec.level_spent),
                    "a boundary and a level in [0, 1]".into(),
                );
            }
            open_now = rec.active.clone();
        }
        // Decisions: open ones were open at the last stage; all are made
        // after the last stage; none before stage 1.
        for (c, d) in self.decisions.iter().enumerate() {
            let ok = match d {
                Decision::Continue => k < self.params.stages && (k == 0 || open_now.contains(&c)),
                _ => k > 0,
            };
            if !ok {
                return bad(
                    &format!("decision of comparison {c}"),
                    format!("{d:?} after {k} of {} stages", self.params.stages),
                    "continue while stages remain, a decision once made".into(),
                );
            }
        }
        match (&self.compat, self.params.variant) {
            (None, Variant::Duality) => Ok(()),
            (Some(state), Variant::Adastop013) => {
                let open: Vec<usize> = (0..m)
                    .filter(|&c| self.decisions[c] == Decision::Continue)
                    .collect();
                state.validate(m, &open)
            }
            _ => bad(
                "compat",
                "a replica state that does not match the variant".into(),
                "replica state exactly for variant adastop-0.1.3".into(),
            ),
        }
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
                statistic: ldexp(statistic, -self.scale_exp.clamp(-1100, 1100)),
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
            if let Some((c, _)) = out.statistics.iter().find(|(_, t)| !t.is_finite()) {
                let (i, j) = self.comparisons[*c];
                return Err(Error::invalid(
                    format!(
                        "AdaStop statistic of {:?} vs {:?} at stage {}",
                        self.agents[i],
                        self.agents[j],
                        k + 1
                    ),
                    "an overflow to a non-finite value",
                    "runs on a scale whose sums stay finite (rescale the scores)",
                ));
            }
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
        // Rescale by a power of two (exact) so sums of runs near 1e308 stay
        // finite; refuse a batch that would still overflow, before touching
        // the state.
        let batch_max = needed
            .iter()
            .flat_map(|&a| &batch[a])
            .fold(0.0f64, |m, v| m.max(v.abs()));
        let scale_exp = if k == 0 && batch_max > pow2(500) {
            -(batch_max.log2().ceil() as i32)
        } else {
            self.scale_exp
        };
        let scaled_max = batch_max * pow2(scale_exp);
        if !(scaled_max * 4.0 * self.params.stages as f64).is_finite() {
            return Err(Error::invalid(
                format!("runs of stage {} (AdaStop statistic)", k + 1),
                format!("a run of magnitude {batch_max:e}"),
                "runs on a scale whose stage sums stay finite (rescale the scores)",
            ));
        }
        self.scale_exp = scale_exp;
        let scale = pow2(scale_exp);
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
                            .map(|v| v * scale)
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

        // Position of each comparison in `active` (a lookup table, so the
        // step-down rounds stay linear in the number of comparisons).
        let mut pos_of = vec![0usize; self.comparisons.len()];
        for (p, &c) in active.iter().enumerate() {
            pos_of[c] = p;
        }
        let boundary_for = |set: &[usize]| -> f64 {
            // max_c |T_c(sigma)| over the current set, for permutations not stopped earlier.
            let mut maxima: Vec<f64> = (0..n_perm)
                .filter(|&b| !crossed_before[b])
                .map(|b| {
                    set.iter()
                        .map(|&c| perm_stats[b * active.len() + pos_of[c]])
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
        let scale = pow2(self.scale_exp);
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
                        pooled.extend(
                            self.data[i][s]
                                .iter()
                                .chain(&self.data[j][s])
                                .map(|v| v * scale),
                        );
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

/// `x 2^e`, in two steps so neither factor overflows on its own.
fn ldexp(x: f64, e: i32) -> f64 {
    let half = e / 2;
    x * 2f64.powi(half) * 2f64.powi(e - half)
}

/// `2^e`, exact also where `2^e` alone would overflow or underflow the
/// exponent range of one `powi`.
fn pow2(e: i32) -> f64 {
    let half = e / 2;
    2f64.powi(half) * 2f64.powi(e - half)
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

/// Regression tests of issue #25: damaged state files, huge studies and
/// runs near the largest f64.
#[cfg(test)]
mod reliability_tests {
    use super::*;

    fn params() -> AdaStopParams {
        AdaStopParams {
            n: 4,
            stages: 3,
            permutations: 500,
            ..AdaStopParams::default()
        }
    }

    fn batch(scale: f64, stage: usize) -> Vec<Vec<f64>> {
        (0..3)
            .map(|a| {
                (0..4)
                    .map(|r| {
                        scale
                            * (((a * 7 + r * 3 + stage * 5) % 11) as f64 / 16.0 + a as f64 * 0.375)
                    })
                    .collect()
            })
            .collect()
    }

    fn one_stage() -> AdaStop {
        let mut s = AdaStop::new(vec!["a".into(), "b".into(), "c".into()], params()).unwrap();
        s.update(&batch(1.0, 0)).unwrap();
        s
    }

    fn edited(study: &AdaStop, edit: impl FnOnce(&mut serde_json::Value)) -> Result<AdaStop> {
        let mut v = serde_json::to_value(study).unwrap();
        edit(&mut v);
        AdaStop::from_json_str(&v.to_string(), "state.json")
    }

    #[test]
    fn edited_states_are_refused_before_use() {
        let s = one_stage();
        assert_eq!(
            AdaStop::from_json_str(&serde_json::to_string(&s).unwrap(), "x").unwrap(),
            s
        );
        type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;
        let cases: Vec<(&str, Edit)> = vec![
            ("version", Box::new(|v| v["version"] = 7.into())),
            (
                "comparisons",
                Box::new(|v| v["comparisons"] = serde_json::json!([])),
            ),
            (
                "comparisons",
                Box::new(|v| v["comparisons"] = serde_json::json!([[0, 9], [0, 2], [1, 2]])),
            ),
            (
                "decisions",
                Box::new(|v| v["decisions"] = serde_json::json!(["continue"])),
            ),
            (
                "runs of agent",
                Box::new(|v| v["data"][1] = serde_json::json!([[1.0, 2.0]])),
            ),
            (
                "data",
                Box::new(|v| v["data"] = serde_json::json!([[], []])),
            ),
            (
                "stage",
                Box::new(|v| {
                    let r = v["records"][0].clone();
                    v["records"] =
                        serde_json::json!([r.clone(), r.clone(), r.clone(), r.clone(), r]);
                }),
            ),
            (
                "active",
                Box::new(|v| v["records"][0]["active"] = serde_json::json!([0, 40])),
            ),
            (
                "number of agents",
                Box::new(|v| v["agents"] = serde_json::json!(["a"])),
            ),
        ];
        for (what, edit) in cases {
            let e = edited(&s, edit).unwrap_err().to_string();
            assert!(e.contains(what) && e.contains("state.json"), "{what}: {e}");
        }
    }

    #[test]
    fn a_study_without_comparisons_is_not_finished() {
        let mut s = one_stage();
        s.decisions.clear();
        assert!(!s.is_finished());
        assert!(s.validate().is_err());
    }

    #[test]
    fn too_many_agents_are_refused_at_once() {
        let names: Vec<String> = (0..3_000).map(|i| format!("a{i}")).collect();
        let e = AdaStop::new(names, params()).unwrap_err().to_string();
        assert!(e.contains("number of agents") && e.contains("1000"), "{e}");
    }

    #[test]
    fn runs_near_the_largest_f64_decide_as_unscaled_runs() {
        let run = |scale: f64| {
            let mut s = AdaStop::new(vec!["a".into(), "b".into(), "c".into()], params()).unwrap();
            let mut st = 0;
            while !s.is_finished() {
                s.update(&batch(scale, st)).unwrap();
                st += 1;
            }
            s
        };
        let small = run(1.0);
        // 2^1020 ~ 1.1e307: sums of such runs overflow without rescaling.
        let big = run(2f64.powi(1020));
        assert_eq!(small.decisions(), big.decisions());
        assert!(small.decisions().iter().any(|d| *d != Decision::Equal));
        for (a, b) in small.outcomes().iter().zip(big.outcomes()) {
            assert!(b.statistic.is_finite());
            assert_eq!(a.statistic * 2f64.powi(1020), b.statistic);
        }
        // A later stage far larger than the first cannot be rescaled: refused.
        let mut s = AdaStop::new(vec!["a".into(), "b".into(), "c".into()], params()).unwrap();
        s.update(&batch(1.0, 0)).unwrap();
        let before = s.clone();
        let e = s.update(&batch(5e307, 1)).unwrap_err().to_string();
        assert!(e.contains("AdaStop statistic"), "{e}");
        assert_eq!(s, before);
    }
}
