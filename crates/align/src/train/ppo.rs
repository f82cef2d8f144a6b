//! Token-level PPO with a learned critic: the baseline SPO is compared with
//! (Guo et al. 2025, Sec. 1: "token-level methods (e.g. PPO) ... suffer
//! from inaccurate estimation due to difficulties in training an accurate
//! critic").
//!
//! For each prompt, G responses are sampled from the current policy. A
//! critic V_phi (embedding + GRU + linear head, its own weights) predicts
//! the value of every state s_t = (x, y_<t). With the reward at the last
//! token only (r_t = 0 for t < L - 1, r_{L-1} = r(x, y)) and V(s_L) = 0,
//! advantages are GAE (Schulman et al. 2016, Eq. 16) with gamma = 1:
//! delta_t = r_t + V(s_{t+1}) - V(s_t), A_t = delta_t + lambda A_{t+1};
//! the critic regresses on the returns A_t + V(s_t) (squared error, one
//! step per batch), and the policy takes the token-level PPO clipped
//! surrogate (Schulman et al. 2017, Eq. 7) on whitened advantages, a mean
//! over all tokens (as SPO's trainer, `crate::train::spo`).

use duality_core::config::Validate;
use duality_core::progress::Progress;
use duality_core::seed::Seeder;
use duality_core::tensor::tch::{nn, nn::Module, nn::RNN, Device, Kind, Tensor};
use duality_core::tensor::OptimizerConfig;
use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::spo::{token_ppo_step, TokenBatch};
use super::{notify, positive_count, TrainContext, TrainLog, Trainer};
use crate::policy::SamplingConfig;
use crate::testbed::{tensor_rows, token_tensor, BatchReward};

/// Token-level PPO settings (the `[ppo]` section).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PpoConfig {
    /// Responses per prompt G (>= 1).
    pub group_size: usize,
    /// Prompts per step.
    pub prompts_per_step: usize,
    /// Optimizer steps.
    pub steps: usize,
    /// PPO clip range eps (in (0, 1)).
    pub clip_eps: f64,
    /// GAE lambda (in [0, 1]).
    pub gae_lambda: f64,
    /// Critic embedding and hidden sizes.
    pub critic_hidden: usize,
    /// Whiten advantages over the batch.
    pub whiten: bool,
    /// Policy optimizer.
    pub optimizer: OptimizerConfig,
    /// Critic optimizer.
    pub critic_optimizer: OptimizerConfig,
    /// Sampling.
    pub sampling: SamplingConfig,
    /// Seed (also of the critic's initial weights).
    pub seed: u64,
}

impl Default for PpoConfig {
    fn default() -> Self {
        PpoConfig {
            group_size: 4,
            prompts_per_step: 4,
            steps: 10,
            clip_eps: 0.2,
            gae_lambda: 0.95,
            critic_hidden: 32,
            whiten: true,
            optimizer: OptimizerConfig::adam(1e-2),
            critic_optimizer: OptimizerConfig::adam(1e-2),
            sampling: SamplingConfig::default(),
            seed: 0,
        }
    }
}

impl Validate for PpoConfig {
    fn validate(&self) -> Result<()> {
        positive_count("group_size", self.group_size)?;
        positive_count("prompts_per_step", self.prompts_per_step)?;
        positive_count("steps", self.steps)?;
        duality_core::check::open_unit("clip_eps", self.clip_eps)?;
        duality_core::check::probability("gae_lambda", self.gae_lambda)?;
        duality_core::check::at_least("critic_hidden", self.critic_hidden, 1)?;
        if self.critic_hidden > 4096 {
            return Err(Error::invalid(
                "critic_hidden",
                self.critic_hidden,
                "at most 4096",
            ));
        }
        crate::limits::check_optimizer("optimizer", &self.optimizer)?;
        crate::limits::check_optimizer("critic_optimizer", &self.critic_optimizer)
    }
}

/// The critic: V(x, y_<t) for every state of a response.
struct Critic {
    vs: nn::VarStore,
    embed: nn::Embedding,
    gru: nn::GRU,
    head: nn::Linear,
}

impl Critic {
    fn new(vocab: usize, hidden: usize, seed: u64) -> Self {
        crate::util::seeded_init(seed, || {
            let vs = nn::VarStore::new(Device::Cpu);
            let root = vs.root();
            let (v, h) = (vocab as i64, hidden as i64);
            Critic {
                embed: nn::embedding(&root / "embed", v, h, Default::default()),
                gru: nn::gru(&root / "gru", h, h, Default::default()),
                head: nn::linear(&root / "head", h, 1, Default::default()),
                vs,
            }
        })
    }

    /// Values of the states before each completion token: `x` `[B, P]`,
    /// `y` `[B, L]` -> `[B, L]`.
    fn values(&self, x: &Tensor, y: &Tensor) -> Tensor {
        let p = x.size()[1];
        let l = y.size()[1];
        let seq = Tensor::cat(&[x, y], 1).narrow(1, 0, p + l - 1);
        let (out, _) = self.gru.seq(&self.embed.forward(&seq));
        self.head.forward(&out).squeeze_dim(-1).narrow(1, p - 1, l)
    }
}

/// GAE advantages with gamma = 1 and the reward at the last token:
/// `values` row-major `[rows, len]` (V(s_t)), one reward per row.
pub fn gae_advantages(
    values: &[f64],
    rewards: &[f64],
    len: usize,
    lambda: f64,
) -> Result<Vec<f64>> {
    duality_core::check::same_len("values", values.len(), "rows x len", rewards.len() * len)?;
    let mut adv = vec![0.0; values.len()];
    for (i, &r) in rewards.iter().enumerate() {
        let v = &values[i * len..(i + 1) * len];
        let mut next_adv = 0.0;
        for t in (0..len).rev() {
            let (reward, next_v) = if t + 1 == len {
                (r, 0.0)
            } else {
                (0.0, v[t + 1])
            };
            let delta = reward + next_v - v[t];
            next_adv = delta + lambda * next_adv;
            adv[i * len + t] = next_adv;
        }
    }
    Ok(adv)
}

/// Token-level PPO with a GRU critic and GAE (registry name `ppo`). Log
/// steps are optimizer steps; metrics: loss, critic_loss, reward, samples,
/// sampled_tokens.
#[derive(Debug, Clone)]
pub struct Ppo {
    config: PpoConfig,
}

impl Trainer for Ppo {
    const NAME: &'static str = "ppo";
    const ABOUT: &'static str =
        "token-level PPO with a learned GRU critic and GAE advantages (Schulman et al. 2016, 2017); SPO's token-level baseline";
    const OBSERVED: bool = true;
    type Config = PpoConfig;

    fn new(config: PpoConfig) -> Result<Self> {
        config.validate()?;
        Ok(Ppo { config })
    }

    fn config(&self) -> &PpoConfig {
        &self.config
    }

    fn train(&self, ctx: &mut TrainContext<'_>) -> Result<TrainLog> {
        let bed = ctx.bed;
        let reward = bed
            .reward()
            .ok_or_else(|| Error::config("testbed", "ppo needs a reward (not the cyclic bed)"))?;
        let c = &self.config;
        super::check_batch(
            ctx.policy,
            bed.completion_len(),
            &[
                ("prompts_per_step", c.prompts_per_step),
                ("group_size", c.group_size),
            ],
        )?;
        crate::limits::check_bytes(
            "critic_hidden",
            c.critic_hidden,
            "the critic",
            crate::limits::mul(&[
                c.critic_hidden,
                c.critic_hidden.saturating_add(bed.vocab()),
                4 * 20,
            ]),
        )?;
        let seed = ctx.trainer_seed(c.seed);
        let seeder = Seeder::new(seed).named("ppo");
        let critic = Critic::new(
            bed.vocab(),
            c.critic_hidden,
            seeder.named("critic").seed_for(0),
        );
        let mut critic_opt = c.critic_optimizer.build(&critic.vs)?;
        let mut opt = c.optimizer.build(ctx.policy.var_store())?;
        let progress = Progress::new(c.steps as u64, "ppo");
        let mut log = TrainLog::new("ppo");
        let len = bed.completion_len();
        for step in 0..c.steps {
            let mut rng = seeder.rng(step as u64);
            let mut prompts = Vec::with_capacity(c.prompts_per_step * c.group_size);
            for _ in 0..c.prompts_per_step {
                let x = bed.sample_prompt(&mut rng);
                prompts.extend(std::iter::repeat_n(x, c.group_size));
            }
            let refs: Vec<&[i64]> = prompts.iter().map(|p| p.as_slice()).collect();
            let x = token_tensor(&refs)?;
            let y = ctx.policy.sample(&x, len, c.sampling, &mut rng)?;
            let completions = tensor_rows(&y)?;
            let rewards = reward.rewards(&prompts, &completions)?;
            let values = {
                let _g = duality_core::tensor::tch::no_grad_guard();
                crate::util::tensor_to_f64(&critic.values(&x, &y))?
            };
            let advantages = gae_advantages(&values, &rewards, len, c.gae_lambda)?;
            let returns: Vec<f64> = advantages.iter().zip(&values).map(|(a, v)| a + v).collect();
            let rows = prompts.len();
            let target = Tensor::from_slice(&returns)
                .to_kind(Kind::Float)
                .reshape([rows as i64, len as i64]);
            let critic_loss = (critic.values(&x, &y) - target).square().mean(Kind::Float) * 0.5;
            let critic_value = super::finite_loss(step, &critic_loss)?;
            critic_opt.backward_step(&critic_loss);
            let batch = TokenBatch {
                mean_reward: rewards.iter().sum::<f64>() / rows as f64,
                samples: rows,
                sampled_tokens: rows * len,
                segments: len as f64,
                mask: vec![1.0; rows * len],
                prompts,
                completions,
                advantages,
            };
            let value = token_ppo_step(ctx.policy, &mut opt, &batch, c.clip_eps, c.whiten, step)?;
            progress.inc(1);
            log.push(
                step + 1,
                &[
                    ("loss", value),
                    ("critic_loss", critic_value),
                    ("reward", batch.mean_reward),
                    ("samples", batch.samples as f64),
                    ("sampled_tokens", batch.sampled_tokens as f64),
                ],
            );
            notify(&mut ctx.observer, step + 1, ctx.policy)?;
        }
        progress.finish();
        Ok(log)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// lambda = 1: A_t = R - V(s_t); lambda = 0: one-step TD errors.
    #[test]
    fn gae_matches_hand_values() {
        let v = [0.5, 0.2, 0.9];
        let a = gae_advantages(&v, &[1.0], 3, 1.0).unwrap();
        for (x, y) in a.iter().zip([0.5, 0.8, 0.1]) {
            assert!((x - y).abs() < 1e-12, "{a:?}");
        }
        let a = gae_advantages(&v, &[1.0], 3, 0.0).unwrap();
        for (x, y) in a.iter().zip([0.2 - 0.5, 0.9 - 0.2, 1.0 - 0.9]) {
            assert!((x - y).abs() < 1e-12, "{a:?}");
        }
        assert!(gae_advantages(&v, &[1.0, 2.0], 3, 0.5).is_err());
        assert!(Ppo::new(PpoConfig {
            gae_lambda: 1.5,
            ..PpoConfig::default()
        })
        .unwrap_err()
        .to_string()
        .contains("gae_lambda"));
    }
}
