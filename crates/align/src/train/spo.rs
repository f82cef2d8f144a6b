//! Segment Policy Optimization (Guo et al. 2025, "Segment Policy
//! Optimization: Effective Segment-Level Credit Assignment in RL for Large
//! Language Models", arXiv 2505.23564). Only the abstract is in the seed
//! list; the mechanisms follow the authors' code (github.com/
//! AIFrameResearch/SPO, `math_episode_generator_with_mc_advantages.py`,
//! `hybrid_inference_strategy.py`, `tree_episode_generator.py`,
//! `ppo_trainer.py`), re-written here.
//!
//! A response is cut into segments; the value V(s) of the state at each cut
//! is a Monte Carlo estimate (the mean reward of N rollouts of the current
//! policy from that prefix), and every token of a segment gets the
//! segment's advantage V(after) - V(before). Two instances:
//!
//! - **SPO-chain** (short responses). *Cut points*: a candidate is every
//!   token y_t whose probability under the sampling policy is below
//!   `prob_threshold` (the authors' constant 0.9); the cut is placed just
//!   before it (after token t - 1, so the prompt itself is the cut when
//!   t = 0), and every `interval`-th candidate is kept (`cutpoints[::
//!   interval]`). With `partition = "fixed"` the cuts are instead every
//!   `interval` tokens, starting at the prompt. The state after the last
//!   token has V = r(x, y) (the final reward). Token t between cut c_{k-1}
//!   (exclusive) and c_k (inclusive) gets A = V(c_k) - V(c_{k-1}); as in the
//!   authors' code, the first segment gets A = 0 when the prompt is not a
//!   cut (no V(s_0) is estimated then).
//! - **SPO-tree** (long responses): each prompt grows a tree of
//!   `branch_factors.len()` levels, node at depth d having `branch_factors[d]`
//!   children, each a segment of `interval` tokens (the last level runs to
//!   the end of the response). Leaves are scored; a node's value is the
//!   mean of its children's; the edge into a child gets A = V(child) -
//!   V(parent) (the authors' `adv_method = "rloo"`), and edges with A = 0
//!   are dropped. Each edge's tokens are trained once, on the first leaf
//!   path through it.
//!
//! **Probability mask** (`prob_mask`, the authors' `use_prob_mask`): only
//! tokens whose sampling probability is below `prob_threshold` receive
//! their segment's advantage; the others get no gradient. Advantages are
//! whitened over the trained tokens (`whiten`, the authors'
//! `whiten_advantages`, population variance + 1e-8) and the loss is the
//! token-level PPO clipped surrogate, a mean over the trained tokens
//! (`ppo_trainer.py`, `_compute_actor_loss`).

use duality_core::config::Validate;
use duality_core::progress::Progress;
use duality_core::seed::Seeder;
use duality_core::tensor::tch::{nn::Optimizer, Kind, Tensor};
use duality_core::tensor::OptimizerConfig;
use duality_core::{Error, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{finite_loss, notify, positive_count, TrainContext, TrainLog, Trainer};
use crate::policy::{Policy, SamplingConfig};
use crate::testbed::{full_mask, tensor_rows, token_tensor, BatchReward, Task};

/// How SPO estimates segment advantages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SpoEstimator {
    /// SPO-chain: N rollouts from each cut of each sampled response.
    #[default]
    Chain,
    /// SPO-tree: a tree of segments per prompt; values are subtree means.
    Tree,
}

crate::util::named_enum!(SpoEstimator, "SPO estimator", {
    Chain => "chain",
    Tree => "tree",
});

/// Where SPO-chain cuts a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SpoPartition {
    /// Before every `interval`-th low-probability token (the authors' cut points).
    #[default]
    Cutpoint,
    /// Every `interval` tokens, starting at the prompt.
    Fixed,
}

crate::util::named_enum!(SpoPartition, "SPO partition", {
    Cutpoint => "cutpoint",
    Fixed => "fixed",
});

/// SPO settings (the `[spo]` section).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpoConfig {
    /// chain | tree.
    pub estimator: SpoEstimator,
    /// Chain: cutpoint | fixed.
    pub partition: SpoPartition,
    /// Chain/cutpoint: keep every `interval`-th candidate; chain/fixed and
    /// tree: tokens per segment (>= 1).
    pub interval: usize,
    /// Probability below which a token is a cut candidate and, with
    /// `prob_mask`, receives gradient (in (0, 1]; the authors use 0.9).
    pub prob_threshold: f64,
    /// Train only the low-probability tokens of each segment.
    pub prob_mask: bool,
    /// Chain: Monte Carlo rollouts per cut (N >= 1).
    pub rollouts: usize,
    /// Chain: sampled responses per prompt (>= 1).
    pub responses: usize,
    /// Tree: children per node at each depth (each >= 2, at most 8 levels
    /// and 4096 leaves per prompt).
    pub branch_factors: Vec<usize>,
    /// Prompts per step.
    pub prompts_per_step: usize,
    /// Optimizer steps.
    pub steps: usize,
    /// PPO clip range eps (in (0, 1)).
    pub clip_eps: f64,
    /// Whiten advantages over the trained tokens.
    pub whiten: bool,
    /// Optimizer.
    pub optimizer: OptimizerConfig,
    /// Sampling (responses and rollouts).
    pub sampling: SamplingConfig,
    /// Seed.
    pub seed: u64,
}

impl Default for SpoConfig {
    fn default() -> Self {
        SpoConfig {
            estimator: SpoEstimator::Chain,
            partition: SpoPartition::Cutpoint,
            interval: 1,
            prob_threshold: 0.9,
            prob_mask: true,
            rollouts: 2,
            responses: 2,
            branch_factors: vec![2, 2],
            prompts_per_step: 4,
            steps: 10,
            clip_eps: 0.2,
            whiten: true,
            optimizer: OptimizerConfig::adam(1e-2),
            sampling: SamplingConfig::default(),
            seed: 0,
        }
    }
}

/// Most tree levels and leaves per prompt (refused before sampling).
const MAX_TREE_DEPTH: usize = 8;
const MAX_TREE_LEAVES: usize = 4096;

impl Validate for SpoConfig {
    fn validate(&self) -> Result<()> {
        positive_count("interval", self.interval)?;
        positive_count("rollouts", self.rollouts)?;
        positive_count("responses", self.responses)?;
        positive_count("prompts_per_step", self.prompts_per_step)?;
        positive_count("steps", self.steps)?;
        if !(self.prob_threshold > 0.0 && self.prob_threshold <= 1.0) {
            return Err(Error::invalid(
                "prob_threshold",
                self.prob_threshold,
                "a number in (0, 1]",
            ));
        }
        duality_core::check::open_unit("clip_eps", self.clip_eps)?;
        if self.estimator == SpoEstimator::Tree {
            duality_core::check::non_empty("branch_factors", &self.branch_factors)?;
            if self.branch_factors.len() > MAX_TREE_DEPTH {
                return Err(Error::invalid(
                    "branch_factors (depth)",
                    self.branch_factors.len(),
                    format!("at most {MAX_TREE_DEPTH} levels"),
                ));
            }
            let mut leaves = 1usize;
            for &b in &self.branch_factors {
                duality_core::check::at_least("branch factor", b, 2)?;
                leaves = leaves.saturating_mul(b);
            }
            if leaves > MAX_TREE_LEAVES {
                return Err(Error::invalid(
                    "branch_factors (leaves per prompt)",
                    leaves,
                    format!("at most {MAX_TREE_LEAVES}"),
                ));
            }
        }
        crate::limits::check_optimizer("optimizer", &self.optimizer)
    }
}

/// Segment Policy Optimization (registry name `spo`) on the test bed's
/// reward. Log steps are optimizer steps; metrics: loss, reward (mean
/// reward of the trained responses, or of the tree's leaves), samples and
/// sampled_tokens (completions and tokens drawn this step, rollouts and
/// partial segments included: the sample budget), segments (mean per
/// response), trained_fraction (share of response tokens with gradient).
#[derive(Debug, Clone)]
pub struct Spo {
    config: SpoConfig,
}

impl Trainer for Spo {
    const NAME: &'static str = "spo";
    const ABOUT: &'static str =
        "Segment Policy Optimization: Monte Carlo segment advantages at cut points (chain) or over a segment tree, probability mask, PPO-clip (Guo et al. 2025)";
    const OBSERVED: bool = true;
    type Config = SpoConfig;

    fn new(config: SpoConfig) -> Result<Self> {
        config.validate()?;
        Ok(Spo { config })
    }

    fn config(&self) -> &SpoConfig {
        &self.config
    }

    fn train(&self, ctx: &mut TrainContext<'_>) -> Result<TrainLog> {
        let bed = ctx.bed;
        let reward = bed
            .reward()
            .ok_or_else(|| Error::config("testbed", "spo needs a reward (not the cyclic bed)"))?;
        let config = &self.config;
        let len = bed.completion_len();
        if config.estimator == SpoEstimator::Tree {
            let depth = config.branch_factors.len();
            if (depth - 1) * config.interval >= len {
                return Err(Error::invalid(
                    "interval (tree segment length)",
                    config.interval,
                    format!(
                        "less than completion length {len} / (depth - 1) = {} levels",
                        depth - 1
                    ),
                ));
            }
        }
        match config.estimator {
            SpoEstimator::Chain => {
                super::check_batch(
                    ctx.policy,
                    len,
                    &[
                        ("prompts_per_step", config.prompts_per_step),
                        ("responses", config.responses),
                        ("rollouts", config.rollouts),
                        ("cuts (completion length)", len),
                    ],
                )?;
            }
            SpoEstimator::Tree => {
                let mut factors = vec![("prompts_per_step", config.prompts_per_step)];
                factors.extend(config.branch_factors.iter().map(|&b| ("branch_factors", b)));
                super::check_batch(ctx.policy, len, &factors)?;
            }
        }
        let seed = ctx.trainer_seed(config.seed);
        let mut opt = config.optimizer.build(ctx.policy.var_store())?;
        let seeder = Seeder::new(seed).named("spo");
        let progress = Progress::new(config.steps as u64, "spo");
        let mut log = TrainLog::new(format!("spo-{}", config.estimator));
        for step in 0..config.steps {
            let mut rng = seeder.rng(step as u64);
            let batch = match config.estimator {
                SpoEstimator::Chain => self.chain_batch(ctx.policy, bed, reward, &mut rng)?,
                SpoEstimator::Tree => self.tree_batch(ctx.policy, bed, reward, &mut rng)?,
            };
            let value = token_ppo_step(
                ctx.policy,
                &mut opt,
                &batch,
                config.clip_eps,
                config.whiten,
                step,
            )?;
            progress.inc(1);
            let trained = batch.mask.iter().sum::<f64>() / batch.mask.len().max(1) as f64;
            log.push(
                step + 1,
                &[
                    ("loss", value),
                    ("reward", batch.mean_reward),
                    ("samples", batch.samples as f64),
                    ("sampled_tokens", batch.sampled_tokens as f64),
                    ("segments", batch.segments),
                    ("trained_fraction", trained),
                ],
            );
            notify(&mut ctx.observer, step + 1, ctx.policy)?;
        }
        progress.finish();
        Ok(log)
    }
}

/// One step's training batch of equally long responses with a per-token
/// advantage and a mask of the tokens that receive gradient.
#[derive(Debug, Clone, Default)]
pub(crate) struct TokenBatch {
    pub prompts: Vec<Vec<i64>>,
    pub completions: Vec<Vec<i64>>,
    /// Row-major `[rows, len]`.
    pub advantages: Vec<f64>,
    /// Row-major `[rows, len]`, 1 = trained.
    pub mask: Vec<f64>,
    /// Mean reward of the step's responses.
    pub mean_reward: f64,
    /// Completions (full or partial) drawn for this step.
    pub samples: usize,
    /// Tokens drawn for this step.
    pub sampled_tokens: usize,
    /// Mean segments per response.
    pub segments: f64,
}

/// SPO-chain cut points of one response from its token probabilities under
/// the sampling policy (module docs): each cut c in -1..=len-2 means "after
/// token c" (-1: the prompt). Ascending.
pub fn cut_points(
    probs: &[f64],
    partition: SpoPartition,
    interval: usize,
    threshold: f64,
) -> Vec<isize> {
    let len = probs.len() as isize;
    let step = interval.max(1);
    match partition {
        SpoPartition::Cutpoint => probs
            .iter()
            .enumerate()
            .filter(|(_, &p)| p < threshold)
            .map(|(t, _)| t as isize - 1)
            .step_by(step)
            .collect(),
        SpoPartition::Fixed => (0..)
            .map(|k: isize| k * step as isize - 1)
            .take_while(|&c| c <= len - 2)
            .collect(),
    }
}

/// SPO-chain token advantages (the authors' `_compute_token_advantages`):
/// `cuts` ascending in -1..=len-2 with their Monte Carlo `values`, the state
/// after the last token valued at `final_reward`. A token gets V(end of its
/// segment) - V(start); the first segment gets 0 unless -1 is a cut.
pub fn segment_advantages(
    len: usize,
    cuts: &[isize],
    values: &[f64],
    final_reward: f64,
) -> Result<Vec<f64>> {
    duality_core::check::same_len("cut values", values.len(), "cuts", cuts.len())?;
    if len == 0 {
        return Err(Error::invalid("completion length", 0, "at least 1"));
    }
    let mut token_value: Vec<Option<f64>> = vec![None; len];
    let mut base = None;
    for (&c, &v) in cuts.iter().zip(values) {
        if c == -1 {
            base = Some(v);
        } else if c >= 0 && (c as usize) < len - 1 {
            token_value[c as usize] = Some(v);
        } else {
            return Err(Error::invalid(
                "cut point",
                c,
                format!("in -1..={} (completion length {len})", len as isize - 2),
            ));
        }
    }
    token_value[len - 1] = Some(final_reward);
    let mut adv: Vec<Option<f64>> = vec![None; len];
    for t in 0..len {
        if let Some(v) = token_value[t] {
            adv[t] = Some(base.map_or(0.0, |b| v - b));
            base = Some(v);
        }
    }
    let mut out = vec![0.0; len];
    let mut next = 0.0;
    for t in (0..len).rev() {
        next = adv[t].unwrap_or(next);
        out[t] = next;
    }
    Ok(out)
}

/// Mean reward of `rollouts` continuations sampled by `policy` after each
/// (prompt, prefix) request, completed to `len` tokens; requests are
/// batched by prefix length. Returns one value per request and the tokens drawn.
fn rollout_values(
    policy: &Policy,
    reward: &dyn crate::testbed::RewardFn,
    requests: &[(Vec<i64>, Vec<i64>)],
    rollouts: usize,
    len: usize,
    sampling: SamplingConfig,
    rng: &mut impl Rng,
) -> Result<(Vec<f64>, usize)> {
    let mut values = vec![0.0; requests.len()];
    let mut tokens = 0;
    for prefix_len in 0..len {
        let ids: Vec<usize> = (0..requests.len())
            .filter(|&i| requests[i].1.len() == prefix_len)
            .collect();
        if ids.is_empty() {
            continue;
        }
        let mut rows = Vec::with_capacity(ids.len() * rollouts);
        for &i in &ids {
            let (x, prefix) = &requests[i];
            let mut row = x.clone();
            row.extend_from_slice(prefix);
            rows.extend(std::iter::repeat_n(row, rollouts));
        }
        let refs: Vec<&[i64]> = rows.iter().map(|r| r.as_slice()).collect();
        let rest = len - prefix_len;
        let cont = tensor_rows(&policy.sample(&token_tensor(&refs)?, rest, sampling, rng)?)?;
        tokens += rows.len() * rest;
        for (k, &i) in ids.iter().enumerate() {
            let (x, prefix) = &requests[i];
            let mut total = 0.0;
            for c in &cont[k * rollouts..(k + 1) * rollouts] {
                let mut y = prefix.clone();
                y.extend_from_slice(c);
                total += reward.reward(x, &y);
            }
            values[i] = total / rollouts as f64;
        }
    }
    Ok((values, tokens))
}

/// Per-token probabilities (no gradient) of `completions` under `policy`,
/// row-major.
pub(crate) fn token_probs(
    policy: &Policy,
    prompts: &[Vec<i64>],
    completions: &[Vec<i64>],
) -> Result<Vec<f64>> {
    let _g = duality_core::tensor::tch::no_grad_guard();
    let x = token_tensor(&prompts.iter().map(|p| p.as_slice()).collect::<Vec<_>>())?;
    let y = token_tensor(&completions.iter().map(|c| c.as_slice()).collect::<Vec<_>>())?;
    let len = completions.first().map_or(0, Vec::len);
    let lp = policy.completion_log_probs(&x, &y, &full_mask(completions.len(), len))?;
    Ok(crate::util::tensor_to_f64(&lp.per_token)?
        .into_iter()
        .map(f64::exp)
        .collect())
}

impl Spo {
    /// SPO-chain: responses, cut points, rollouts, segment advantages, mask.
    fn chain_batch(
        &self,
        policy: &Policy,
        bed: &(impl Task + ?Sized),
        reward: &dyn crate::testbed::RewardFn,
        rng: &mut impl Rng,
    ) -> Result<TokenBatch> {
        let c = &self.config;
        let len = bed.completion_len();
        let mut prompts = Vec::with_capacity(c.prompts_per_step * c.responses);
        for _ in 0..c.prompts_per_step {
            let x = bed.sample_prompt(rng);
            prompts.extend(std::iter::repeat_n(x, c.responses));
        }
        let refs: Vec<&[i64]> = prompts.iter().map(|p| p.as_slice()).collect();
        let y = policy.sample(&token_tensor(&refs)?, len, c.sampling, rng)?;
        let completions = tensor_rows(&y)?;
        let probs = token_probs(policy, &prompts, &completions)?;
        let rewards = reward.rewards(&prompts, &completions)?;
        let cuts: Vec<Vec<isize>> = probs
            .chunks(len)
            .map(|p| cut_points(p, c.partition, c.interval, c.prob_threshold))
            .collect();
        let mut requests = Vec::new();
        for (i, row_cuts) in cuts.iter().enumerate() {
            for &cut in row_cuts {
                let prefix = completions[i][..(cut + 1) as usize].to_vec();
                requests.push((prompts[i].clone(), prefix));
            }
        }
        let (values, rollout_tokens) =
            rollout_values(policy, reward, &requests, c.rollouts, len, c.sampling, rng)?;
        let mut advantages = Vec::with_capacity(prompts.len() * len);
        let mut next = 0;
        let mut segments = 0usize;
        for (i, row_cuts) in cuts.iter().enumerate() {
            let v = &values[next..next + row_cuts.len()];
            next += row_cuts.len();
            advantages.extend(segment_advantages(len, row_cuts, v, rewards[i])?);
            segments += row_cuts.iter().filter(|&&c| c >= 0).count() + 1;
        }
        let mask = self.prob_mask(&probs, None);
        Ok(TokenBatch {
            mean_reward: rewards.iter().sum::<f64>() / rewards.len() as f64,
            samples: prompts.len() + requests.len() * c.rollouts,
            sampled_tokens: prompts.len() * len + rollout_tokens,
            segments: segments as f64 / prompts.len() as f64,
            prompts,
            completions,
            advantages,
            mask,
        })
    }

    /// 1 where a token is trained: below the probability threshold (with
    /// `prob_mask`) and, if `keep` is given, where it is 1.
    fn prob_mask(&self, probs: &[f64], keep: Option<&[f64]>) -> Vec<f64> {
        probs
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                let low = !self.config.prob_mask || p < self.config.prob_threshold;
                let kept = keep.is_none_or(|k| k[i] != 0.0);
                if low && kept {
                    1.0
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// SPO-tree: one tree per prompt, edge advantages on the first leaf
    /// path through each edge (module docs).
    fn tree_batch(
        &self,
        policy: &Policy,
        bed: &(impl Task + ?Sized),
        reward: &dyn crate::testbed::RewardFn,
        rng: &mut impl Rng,
    ) -> Result<TokenBatch> {
        let c = &self.config;
        let len = bed.completion_len();
        let b = &c.branch_factors;
        let depth = b.len();
        let seg = |d: usize| -> (usize, usize) {
            let start = d * c.interval;
            let end = if d + 1 == depth {
                len
            } else {
                start + c.interval
            };
            (start, end)
        };
        let leaves_per_prompt: usize = b.iter().product();
        let prompts_once: Vec<Vec<i64>> = (0..c.prompts_per_step)
            .map(|_| bed.sample_prompt(rng))
            .collect();
        // Level by level: (prompt index, prefix) of every node, in tree order.
        let mut nodes: Vec<(usize, Vec<i64>)> =
            (0..c.prompts_per_step).map(|p| (p, Vec::new())).collect();
        let (mut samples, mut sampled_tokens) = (0, 0);
        for (d, &bd) in b.iter().enumerate() {
            let (start, end) = seg(d);
            let rows: Vec<Vec<i64>> = nodes
                .iter()
                .flat_map(|(p, prefix)| {
                    let mut r = prompts_once[*p].clone();
                    r.extend_from_slice(prefix);
                    std::iter::repeat_n(r, bd)
                })
                .collect();
            let refs: Vec<&[i64]> = rows.iter().map(|r| r.as_slice()).collect();
            let segs = tensor_rows(&policy.sample(
                &token_tensor(&refs)?,
                end - start,
                c.sampling,
                rng,
            )?)?;
            samples += rows.len();
            sampled_tokens += rows.len() * (end - start);
            nodes = nodes
                .iter()
                .flat_map(|(p, prefix)| std::iter::repeat_n((*p, prefix.clone()), bd))
                .zip(segs)
                .map(|((p, mut prefix), s)| {
                    prefix.extend(s);
                    (p, prefix)
                })
                .collect();
        }
        let prompts: Vec<Vec<i64>> = nodes
            .iter()
            .map(|(p, _)| prompts_once[*p].clone())
            .collect();
        let completions: Vec<Vec<i64>> = nodes.into_iter().map(|(_, y)| y).collect();
        let rewards = reward.rewards(&prompts, &completions)?;
        // Values per level, bottom-up: level `depth` = leaves.
        let mut values: Vec<Vec<f64>> = vec![Vec::new(); depth + 1];
        values[depth] = rewards.clone();
        for d in (0..depth).rev() {
            values[d] = values[d + 1]
                .chunks(b[d])
                .map(|ch| ch.iter().sum::<f64>() / ch.len() as f64)
                .collect();
        }
        let rows = prompts.len();
        let mut advantages = vec![0.0; rows * len];
        let mut keep = vec![0.0; rows * len];
        let mut edges = 0usize;
        for d in 0..depth {
            let (start, end) = seg(d);
            // Leaves under one node of level d + 1.
            let span: usize = b[d + 1..].iter().product();
            for (j, &v) in values[d + 1].iter().enumerate() {
                let a = v - values[d][j / b[d]];
                if a == 0.0 {
                    continue;
                }
                edges += 1;
                let row = j * span;
                for t in start..end {
                    advantages[row * len + t] = a;
                    keep[row * len + t] = 1.0;
                }
            }
        }
        let probs = token_probs(policy, &prompts, &completions)?;
        let mask = self.prob_mask(&probs, Some(&keep));
        debug_assert_eq!(rows, c.prompts_per_step * leaves_per_prompt);
        Ok(TokenBatch {
            mean_reward: rewards.iter().sum::<f64>() / rows as f64,
            samples,
            sampled_tokens,
            segments: edges as f64 / rows as f64,
            prompts,
            completions,
            advantages,
            mask,
        })
    }
}

/// Whitens `values` over the entries where `mask` is 1 (all entries when
/// none is), population variance + 1e-8, as the authors' `masked_whiten`.
pub(crate) fn masked_whiten(values: &[f64], mask: &[f64]) -> Vec<f64> {
    let any = mask.iter().any(|&m| m != 0.0);
    let w = |i: usize| if any { mask[i] } else { 1.0 };
    let n: f64 = (0..values.len()).map(w).sum();
    if n == 0.0 {
        return values.to_vec();
    }
    let mean = (0..values.len()).map(|i| w(i) * values[i]).sum::<f64>() / n;
    let var = (0..values.len())
        .map(|i| w(i) * (values[i] - mean).powi(2))
        .sum::<f64>()
        / n;
    let scale = 1.0 / (var + 1e-8).sqrt();
    values.iter().map(|v| (v - mean) * scale).collect()
}

/// Token-level PPO clipped surrogate, mean over the masked tokens:
/// `new`, `old` per-token log-probs `[B, T]` (old detached), `adv` and
/// `mask` `[B, T]`.
pub(crate) fn token_ppo_loss(
    new: &Tensor,
    old: &Tensor,
    adv: &Tensor,
    mask: &Tensor,
    eps: f64,
) -> Tensor {
    let ratio = ((new - old) * mask).clamp(-10.0, 10.0).exp();
    let l1 = -(adv * &ratio);
    let l2 = -(adv * ratio.clamp(1.0 - eps, 1.0 + eps));
    let per_token = l1.maximum(&l2);
    (per_token * mask).sum(Kind::Float) / mask.sum(Kind::Float).clamp_min(1.0)
}

/// One optimizer step of the token PPO loss on `batch` (on-policy: the old
/// log-probs are the current ones, detached). A batch with no trained
/// token takes no step and logs loss 0.
pub(crate) fn token_ppo_step(
    policy: &mut Policy,
    opt: &mut Optimizer,
    batch: &TokenBatch,
    eps: f64,
    whiten: bool,
    step: usize,
) -> Result<f64> {
    if batch.mask.iter().all(|&m| m == 0.0) {
        return Ok(0.0);
    }
    let rows = batch.completions.len() as i64;
    let len = batch.completions.first().map_or(0, Vec::len) as i64;
    let adv = if whiten {
        masked_whiten(&batch.advantages, &batch.mask)
    } else {
        batch.advantages.clone()
    };
    let to_t = |v: &[f64]| {
        Tensor::from_slice(v)
            .to_kind(Kind::Float)
            .reshape([rows, len])
    };
    let x = token_tensor(
        &batch
            .prompts
            .iter()
            .map(|p| p.as_slice())
            .collect::<Vec<_>>(),
    )?;
    let y = token_tensor(
        &batch
            .completions
            .iter()
            .map(|c| c.as_slice())
            .collect::<Vec<_>>(),
    )?;
    let full = full_mask(rows as usize, len as usize);
    let new = policy.completion_log_probs(&x, &y, &full)?;
    let old = new.per_token.detach();
    let loss = token_ppo_loss(&new.per_token, &old, &to_t(&adv), &to_t(&batch.mask), eps);
    let value = finite_loss(step, &loss)?;
    opt.backward_step(&loss);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_points_follow_the_authors_rule() {
        // Candidates: tokens 0, 2, 3, 5 (p < 0.9) -> cuts -1, 1, 2, 4.
        let p = [0.5, 0.95, 0.3, 0.8, 0.99, 0.1, 0.92];
        assert_eq!(
            cut_points(&p, SpoPartition::Cutpoint, 1, 0.9),
            vec![-1, 1, 2, 4]
        );
        // Every 2nd candidate.
        assert_eq!(cut_points(&p, SpoPartition::Cutpoint, 2, 0.9), vec![-1, 2]);
        // Fixed segments of 3 tokens over 7: cuts -1, 2, 5.
        assert_eq!(cut_points(&p, SpoPartition::Fixed, 3, 0.9), vec![-1, 2, 5]);
        assert_eq!(cut_points(&p, SpoPartition::Fixed, 7, 0.9), vec![-1]);
    }

    /// Hand-computed chain advantages: len 6, cuts -1 (V 0.2), 1 (V 0.5),
    /// 3 (V 0.4), reward 1.0: tokens 0-1 get 0.3, 2-3 get -0.1, 4-5 get 0.6.
    #[test]
    fn segment_advantages_match_hand_computation() {
        let a = segment_advantages(6, &[-1, 1, 3], &[0.2, 0.5, 0.4], 1.0).unwrap();
        let want = [0.3, 0.3, -0.1, -0.1, 0.6, 0.6];
        for (x, y) in a.iter().zip(want) {
            assert!((x - y).abs() < 1e-12, "{a:?}");
        }
        // Without the prompt as a cut the first segment gets 0 (authors' code).
        let a = segment_advantages(4, &[1], &[0.5], 1.0).unwrap();
        assert_eq!(a, vec![0.0, 0.0, 0.5, 0.5]);
        // No cut at all: a single segment without a baseline.
        assert_eq!(segment_advantages(3, &[], &[], 1.0).unwrap(), vec![0.0; 3]);
        assert!(segment_advantages(3, &[2], &[0.1], 1.0).is_err());
        assert!(segment_advantages(3, &[0], &[], 1.0).is_err());
    }

    #[test]
    fn whitening_and_the_loss_match_hand_values() {
        let w = masked_whiten(&[1.0, 3.0, 100.0], &[1.0, 1.0, 0.0]);
        assert!(
            (w[0] + 1.0).abs() < 1e-6 && (w[1] - 1.0).abs() < 1e-6,
            "{w:?}"
        );
        // On-policy (ratio 1) the loss is -mean over masked tokens of A.
        let new = Tensor::from_slice(&[-0.5f32, -1.0, -2.0, -0.1]).reshape([2, 2]);
        let adv = Tensor::from_slice(&[1.0f32, 2.0, -3.0, 4.0]).reshape([2, 2]);
        let mask = Tensor::from_slice(&[1.0f32, 0.0, 1.0, 1.0]).reshape([2, 2]);
        let got = crate::util::scalar(&token_ppo_loss(&new, &new.detach(), &adv, &mask, 0.2));
        assert!((got - (-(1.0 - 3.0 + 4.0) / 3.0)).abs() < 1e-6, "{got}");
    }

    #[test]
    fn bad_configs_name_the_field() {
        let bad = |f: fn(&mut SpoConfig)| {
            let mut c = SpoConfig::default();
            f(&mut c);
            Spo::new(c).unwrap_err().to_string()
        };
        assert!(bad(|c| c.rollouts = 0).contains("rollouts"));
        assert!(bad(|c| c.prob_threshold = 1.5).contains("prob_threshold"));
        assert!(bad(|c| {
            c.estimator = SpoEstimator::Tree;
            c.branch_factors = vec![2, 1];
        })
        .contains("branch factor"));
        assert!(bad(|c| {
            c.estimator = SpoEstimator::Tree;
            c.branch_factors = vec![16; 4];
        })
        .contains("leaves"));
        assert_eq!("tree".parse::<SpoEstimator>().unwrap(), SpoEstimator::Tree);
        assert_eq!(SpoPartition::Fixed.to_string(), "fixed");
    }
}
