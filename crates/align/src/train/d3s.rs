//! Dynamic Dual-Level Down-Sampling (D^3S; Wang et al. 2025, "Learning
//! More with Less: A Dynamic Dual-Level Down-Sampling Framework for
//! Efficient Policy Optimization", arXiv 2509.22115, ICLR 2026) on top of
//! GRPO.
//!
//! Sources: the paper's abstract (the seed list) and its public summary;
//! the authors' code was "in the supplementary materials" and is not
//! public, so the three mechanisms below follow the abstract, and the
//! sample-level selection uses the max-variance down-sampling algorithm of
//! the work D^3S builds on (Xu et al. 2025, "Not All Rollouts are Useful:
//! Down-Sampling Rollouts in LLM Reinforcement Learning" (PODS), Sec. 3:
//! the m-subset of n values with the largest variance consists of the k
//! largest and the m - k smallest for some k, found by one scan over k
//! after a sort).
//!
//! Each step samples G responses per prompt and computes GRPO advantages
//! A_i = (r_i - mean r) / (std r + 1e-4) over the whole group. Then:
//!
//! - **sample level** (intra-group, the paper's D^3S-I): of each group keep
//!   the m = max(2, ceil(rho_s G)) responses whose advantages have the
//!   largest variance Var(A) (the abstract: "selects a subset of rollouts to
//!   maximize advantage variance");
//! - **token level**: over the kept responses, keep the ceil(rho_t N) tokens
//!   with the largest |A_i| x H_{i,t}, H_{i,t} the entropy of the policy's
//!   next-token distribution at that position (detached);
//! - **dynamic schedule**: rho_s and rho_t start at `sample_keep_start` /
//!   `token_keep_start` (aggressive) and rise linearly to
//!   `sample_keep_end` / `token_keep_end` over the first `relax_fraction` of
//!   training, then stay (the abstract: "starts with aggressive
//!   down-sampling ... and gradually relaxes"; the exact curve of the
//!   paper is not public, linear is our choice).
//!
//! The loss is GRPO's token ratio clipped surrogate, a mean over the kept
//! tokens (on-policy, one step per batch). Advantages are not recomputed on
//! the subset: the selection only chooses which gradient terms are taken.

use duality_core::config::Validate;
use duality_core::progress::Progress;
use duality_core::seed::Seeder;
use duality_core::tensor::tch::{Kind, Tensor};
use duality_core::tensor::OptimizerConfig;
use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::group::group_advantages;
use super::spo::{token_ppo_loss, TokenBatch};
use super::{finite_loss, notify, positive_count, TrainContext, TrainLog, Trainer};
use crate::policy::{Policy, SamplingConfig};
use crate::testbed::{full_mask, tensor_rows, token_tensor, BatchReward};

/// D^3S settings (the `[d3s]` section).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct D3sConfig {
    /// Responses per prompt G (>= 2).
    pub group_size: usize,
    /// Prompts per step.
    pub prompts_per_step: usize,
    /// Optimizer steps.
    pub steps: usize,
    /// Clip range eps (in (0, 1)).
    pub clip_eps: f64,
    /// Share of each group kept at step 0 (in (0, 1]).
    pub sample_keep_start: f64,
    /// Share of each group kept once relaxed (in (0, 1]).
    pub sample_keep_end: f64,
    /// Share of the kept responses' tokens trained at step 0 (in (0, 1]).
    pub token_keep_start: f64,
    /// Share of tokens trained once relaxed (in (0, 1]).
    pub token_keep_end: f64,
    /// Fraction of training over which the shares relax (in [0, 1]; 0 =
    /// the end shares from the start).
    pub relax_fraction: f64,
    /// Optimizer.
    pub optimizer: OptimizerConfig,
    /// Sampling.
    pub sampling: SamplingConfig,
    /// Seed.
    pub seed: u64,
}

impl Default for D3sConfig {
    fn default() -> Self {
        D3sConfig {
            group_size: 8,
            prompts_per_step: 4,
            steps: 10,
            clip_eps: 0.2,
            sample_keep_start: 0.5,
            sample_keep_end: 1.0,
            token_keep_start: 0.5,
            token_keep_end: 1.0,
            relax_fraction: 1.0,
            optimizer: OptimizerConfig::adam(1e-2),
            sampling: SamplingConfig::default(),
            seed: 0,
        }
    }
}

impl Validate for D3sConfig {
    fn validate(&self) -> Result<()> {
        duality_core::check::at_least("group_size", self.group_size, 2)?;
        positive_count("prompts_per_step", self.prompts_per_step)?;
        positive_count("steps", self.steps)?;
        duality_core::check::open_unit("clip_eps", self.clip_eps)?;
        for (name, v) in [
            ("sample_keep_start", self.sample_keep_start),
            ("sample_keep_end", self.sample_keep_end),
            ("token_keep_start", self.token_keep_start),
            ("token_keep_end", self.token_keep_end),
        ] {
            if !(v > 0.0 && v <= 1.0) {
                return Err(Error::invalid(name, v, "a share in (0, 1]"));
            }
        }
        duality_core::check::probability("relax_fraction", self.relax_fraction)?;
        crate::limits::check_optimizer("optimizer", &self.optimizer)
    }
}

impl D3sConfig {
    /// The (sample, token) keep shares at `step` of the schedule.
    pub fn keep_at(&self, step: usize) -> (f64, f64) {
        let span = self.relax_fraction * self.steps as f64;
        let u = if span <= 0.0 {
            1.0
        } else {
            (step as f64 / span).min(1.0)
        };
        let lerp = |a: f64, b: f64| a + (b - a) * u;
        (
            lerp(self.sample_keep_start, self.sample_keep_end),
            lerp(self.token_keep_start, self.token_keep_end),
        )
    }
}

/// Indices (ascending) of the `m` of `values` with the largest population
/// variance (PODS max-variance down-sampling: the k largest and m - k
/// smallest for the best k; ties broken by index, so deterministic).
pub fn max_variance_subset(values: &[f64], m: usize) -> Result<Vec<usize>> {
    duality_core::check::finite_non_empty("values", values)?;
    if m == 0 || m > values.len() {
        return Err(Error::invalid(
            "subset size",
            m,
            format!("in 1..={} (the number of values)", values.len()),
        ));
    }
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]).then(a.cmp(&b)));
    let n = values.len();
    let var_of = |idx: &[usize]| {
        let mean = idx.iter().map(|&i| values[i]).sum::<f64>() / idx.len() as f64;
        idx.iter().map(|&i| (values[i] - mean).powi(2)).sum::<f64>() / idx.len() as f64
    };
    let mut best: Option<(f64, Vec<usize>)> = None;
    for k in 0..=m {
        // k largest and m - k smallest.
        let mut idx: Vec<usize> = order[..m - k].to_vec();
        idx.extend_from_slice(&order[n - k..]);
        let v = var_of(&idx);
        if best.as_ref().is_none_or(|(b, _)| v > *b) {
            best = Some((v, idx));
        }
    }
    let mut idx = best.map(|b| b.1).unwrap_or_default();
    idx.sort_unstable();
    Ok(idx)
}

/// Keeps the `keep` largest `scores` (ties by index): a 0/1 mask.
pub fn top_k_mask(scores: &[f64], keep: usize) -> Vec<f64> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let mut mask = vec![0.0; scores.len()];
    for &i in order.iter().take(keep) {
        mask[i] = 1.0;
    }
    mask
}

/// Entropy of the policy's next-token distribution at every completion
/// position (no gradient), row-major.
fn token_entropies(policy: &Policy, x: &Tensor, y: &Tensor) -> Result<Vec<f64>> {
    let _g = duality_core::tensor::tch::no_grad_guard();
    let p = x.size()[1];
    let l = y.size()[1];
    let seq = Tensor::cat(&[x, y], 1).narrow(1, 0, p + l - 1);
    let logp = policy
        .logits(&seq)?
        .narrow(1, p - 1, l)
        .log_softmax(-1, Kind::Float);
    let h = -(logp.exp() * &logp).sum_dim_intlist([-1i64].as_slice(), false, Kind::Float);
    crate::util::tensor_to_f64(&h)
}

/// D^3S on GRPO (registry name `d3s`). Log steps are optimizer steps;
/// metrics: loss, reward (mean over all sampled responses), sample_keep
/// and token_keep (the schedule), gradient_token_fraction (trained tokens
/// / all sampled tokens), selected_adv_var (mean Var(A) of the kept
/// responses per group) and group_adv_var (of the whole groups).
#[derive(Debug, Clone)]
pub struct D3s {
    config: D3sConfig,
}

impl Trainer for D3s {
    const NAME: &'static str = "d3s";
    const ABOUT: &'static str =
        "Dynamic Dual-Level Down-Sampling on GRPO: max-Var(A) responses, top |A| x entropy tokens, relaxing schedule (Wang et al. 2025)";
    const OBSERVED: bool = true;
    type Config = D3sConfig;

    fn new(config: D3sConfig) -> Result<Self> {
        config.validate()?;
        Ok(D3s { config })
    }

    fn config(&self) -> &D3sConfig {
        &self.config
    }

    fn train(&self, ctx: &mut TrainContext<'_>) -> Result<TrainLog> {
        let bed = ctx.bed;
        let reward = bed
            .reward()
            .ok_or_else(|| Error::config("testbed", "d3s needs a reward (not the cyclic bed)"))?;
        let c = &self.config;
        super::check_batch(
            ctx.policy,
            bed.completion_len(),
            &[
                ("prompts_per_step", c.prompts_per_step),
                ("group_size", c.group_size),
            ],
        )?;
        let seeder = Seeder::new(ctx.trainer_seed(c.seed)).named("d3s");
        let mut opt = c.optimizer.build(ctx.policy.var_store())?;
        let progress = Progress::new(c.steps as u64, "d3s");
        let mut log = TrainLog::new("d3s");
        let (g, len) = (c.group_size, bed.completion_len());
        for step in 0..c.steps {
            let mut rng = seeder.rng(step as u64);
            let mut prompts = Vec::with_capacity(c.prompts_per_step * g);
            for _ in 0..c.prompts_per_step {
                let x = bed.sample_prompt(&mut rng);
                prompts.extend(std::iter::repeat_n(x, g));
            }
            let refs: Vec<&[i64]> = prompts.iter().map(|p| p.as_slice()).collect();
            let x = token_tensor(&refs)?;
            let y = ctx.policy.sample(&x, len, c.sampling, &mut rng)?;
            let completions = tensor_rows(&y)?;
            let rewards = reward.rewards(&prompts, &completions)?;
            let adv = group_advantages(&rewards, g, true)?;
            let (sample_keep, token_keep) = c.keep_at(step);
            let m = ((sample_keep * g as f64).ceil() as usize).clamp(2, g);
            let pop_var = |a: &[f64]| {
                let mean = a.iter().sum::<f64>() / a.len() as f64;
                a.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / a.len() as f64
            };
            let mut rows = Vec::with_capacity(c.prompts_per_step * m);
            let (mut sel_var, mut all_var) = (0.0, 0.0);
            for (k, group) in adv.chunks(g).enumerate() {
                let idx = max_variance_subset(group, m)?;
                let chosen: Vec<f64> = idx.iter().map(|&i| group[i]).collect();
                sel_var += pop_var(&chosen);
                all_var += pop_var(group);
                rows.extend(idx.into_iter().map(|i| k * g + i));
            }
            let sel_prompts: Vec<Vec<i64>> = rows.iter().map(|&i| prompts[i].clone()).collect();
            let sel_completions: Vec<Vec<i64>> =
                rows.iter().map(|&i| completions[i].clone()).collect();
            let sx = token_tensor(&sel_prompts.iter().map(|p| p.as_slice()).collect::<Vec<_>>())?;
            let sy = token_tensor(
                &sel_completions
                    .iter()
                    .map(|p| p.as_slice())
                    .collect::<Vec<_>>(),
            )?;
            let entropy = token_entropies(ctx.policy, &sx, &sy)?;
            let token_adv: Vec<f64> = rows
                .iter()
                .flat_map(|&i| std::iter::repeat_n(adv[i], len))
                .collect();
            let scores: Vec<f64> = token_adv
                .iter()
                .zip(&entropy)
                .map(|(a, h)| a.abs() * h)
                .collect();
            let n_tokens = scores.len();
            let keep = ((token_keep * n_tokens as f64).ceil() as usize).clamp(1, n_tokens);
            let mask = top_k_mask(&scores, keep);
            let batch = TokenBatch {
                mean_reward: rewards.iter().sum::<f64>() / rewards.len() as f64,
                samples: prompts.len(),
                sampled_tokens: prompts.len() * len,
                segments: 1.0,
                prompts: sel_prompts,
                completions: sel_completions,
                advantages: token_adv,
                mask,
            };
            let value = self.step(ctx.policy, &mut opt, &batch, &sx, &sy, step)?;
            progress.inc(1);
            let groups = c.prompts_per_step as f64;
            log.push(
                step + 1,
                &[
                    ("loss", value),
                    ("reward", batch.mean_reward),
                    ("sample_keep", sample_keep),
                    ("token_keep", token_keep),
                    (
                        "gradient_token_fraction",
                        keep as f64 / (prompts.len() * len) as f64,
                    ),
                    ("selected_adv_var", sel_var / groups),
                    ("group_adv_var", all_var / groups),
                ],
            );
            notify(&mut ctx.observer, step + 1, ctx.policy)?;
        }
        progress.finish();
        Ok(log)
    }
}

impl D3s {
    /// GRPO's clipped surrogate on the kept tokens (advantages as they are,
    /// already group-normalised).
    fn step(
        &self,
        policy: &mut Policy,
        opt: &mut duality_core::tensor::tch::nn::Optimizer,
        batch: &TokenBatch,
        x: &Tensor,
        y: &Tensor,
        step: usize,
    ) -> Result<f64> {
        let (rows, len) = (y.size()[0], y.size()[1]);
        let to_t = |v: &[f64]| {
            Tensor::from_slice(v)
                .to_kind(Kind::Float)
                .reshape([rows, len])
        };
        let new = policy.completion_log_probs(x, y, &full_mask(rows as usize, len as usize))?;
        let old = new.per_token.detach();
        let loss = token_ppo_loss(
            &new.per_token,
            &old,
            &to_t(&batch.advantages),
            &to_t(&batch.mask),
            self.config.clip_eps,
        );
        let value = finite_loss(step, &loss)?;
        opt.backward_step(&loss);
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force over all subsets agrees with the sorted scan.
    #[test]
    fn max_variance_subset_is_optimal() {
        let v = [0.3, -1.2, 2.0, 0.1, 0.0, -0.4, 1.1];
        let var = |idx: &[usize]| {
            let m = idx.iter().map(|&i| v[i]).sum::<f64>() / idx.len() as f64;
            idx.iter().map(|&i| (v[i] - m).powi(2)).sum::<f64>() / idx.len() as f64
        };
        for m in 1..=v.len() {
            let got = max_variance_subset(&v, m).unwrap();
            assert_eq!(got.len(), m);
            let mut best = f64::NEG_INFINITY;
            for bits in 0u32..(1 << v.len()) {
                if bits.count_ones() as usize == m {
                    let idx: Vec<usize> = (0..v.len()).filter(|i| bits >> i & 1 == 1).collect();
                    best = best.max(var(&idx));
                }
            }
            assert!((var(&got) - best).abs() < 1e-12, "m {m}: {got:?}");
        }
        // Two of [-1, 0, 0.5, 3]: the extremes.
        assert_eq!(
            max_variance_subset(&[-1.0, 0.0, 0.5, 3.0], 2).unwrap(),
            vec![0, 3]
        );
        assert!(max_variance_subset(&v, 0).is_err());
        assert!(max_variance_subset(&v, 8).is_err());
    }

    #[test]
    fn schedule_and_token_mask() {
        let c = D3sConfig {
            steps: 10,
            sample_keep_start: 0.25,
            token_keep_start: 0.5,
            relax_fraction: 0.5,
            ..D3sConfig::default()
        };
        assert_eq!(c.keep_at(0), (0.25, 0.5));
        let (s, t) = c.keep_at(2);
        assert!((s - 0.55).abs() < 1e-12 && (t - 0.7).abs() < 1e-12);
        assert_eq!(c.keep_at(5), (1.0, 1.0));
        assert_eq!(c.keep_at(9), (1.0, 1.0));
        assert_eq!(
            top_k_mask(&[0.1, 3.0, 0.5, 3.0], 2),
            vec![0.0, 1.0, 0.0, 1.0]
        );
        let bad = D3s::new(D3sConfig {
            token_keep_end: 0.0,
            ..D3sConfig::default()
        })
        .unwrap_err()
        .to_string();
        assert!(bad.contains("token_keep_end"), "{bad}");
    }
}
