//! Group-relative REINFORCE on stale (off-policy) samples.
//!
//! For each prompt a group of G responses is drawn from a *behaviour*
//! policy that lags `lag` optimizer steps behind the current one (lag 0 is
//! on-policy), scored, and turned into advantages relative to the group:
//!
//! - **GRPO** (Shao et al. 2024, DeepSeekMath, Eq. 3; advantages as TRL's
//!   `GRPOTrainer`): A_i = (r_i - mean r) / (std r + 1e-4) (Bessel std), token
//!   ratios rho_t = pi(y_t|.)/pi_old(y_t|.) and the clipped surrogate
//!   -min(rho_t A_i, clip(rho_t, 1 - eps, 1 + eps) A_i), averaged per sequence.
//! - **OPMD** (online policy mirror descent, as analysed in Yao et al. 2025,
//!   "Group-Relative REINFORCE is Secretly an Off-Policy Algorithm", Sec. 3):
//!   -(r_i - mean r) log pi(y_i) + tau/2 (log pi(y_i) - log pi_old(y_i))^2,
//!   the squared log-ratio regulariser keeping the update near the behaviour
//!   policy that produced the stale samples.
//! - **AsymRE** (Arnal et al. 2025, "Asymmetric REINFORCE for off-policy
//!   RL", also in Yao et al. 2025): REINFORCE with the baseline shifted below
//!   the group mean, -(r_i - (mean r - delta)) log pi(y_i); delta > 0 adds
//!   delta * log pi of the behaviour samples, a pull toward the behaviour policy.
//!
//! - **REC** (Yao et al. 2025, Sec. 4, the "REC" family; as Trinity-RFT's
//!   `RECPolicyLossFn`): REINFORCE with group-mean advantages A_i = r_i -
//!   mean r (not std-scaled), a token mask from the clipping mode and an
//!   importance weight w, token-mean loss
//!   -mean_{i,t} [in_range_{i,t} w_{i,t} A_i log pi(y_t|.)], where with the
//!   detached token ratio rho_t = pi/pi_old:
//!   clipping `none` keeps every token, `one-sided` drops a token when
//!   A >= 0 and rho_t > 1 + eps or A <= 0 and rho_t < 1 - eps (the
//!   direction PPO's clip stops), `two-sided` drops it whenever rho_t is
//!   outside [1 - eps, 1 + eps]; weighting `none` is w = 1, `token` w =
//!   rho_t, `sequence` w = exp(sum_t log rho_t), the whole response's
//!   (detached) likelihood ratio. The paper's point: the clipping mode, not
//!   the importance weight, is what keeps REINFORCE stable on stale data.
//!
//! OPMD has two forms (`opmd_form`): `sequence`, the formula above on
//! sequence log-probs (the default, as this crate always had), and
//! `token`, the authors' code (Trinity-RFT `RECPolicyLossFn` with
//! `regularizer = "k2"`): -A_i log pi(y_t|.) + tau/2 (log pi(y_t|.) - log
//! pi_old(y_t|.))^2 per token, averaged over all tokens (Trinity's
//! `regularizer_coef` is our tau/2).
//!
//! Rewards may include a KL penalty to the reference, r - kl_coef (log
//! pi_old - log pi_ref), the usual RLHF shaping (Ouyang et al. 2022, Eq. 2).

use std::collections::VecDeque;

use duality_core::config::Validate;
use duality_core::progress::Progress;
use duality_core::seed::Seeder;
use duality_core::tensor::tch::{Kind, Tensor};
use duality_core::tensor::OptimizerConfig;
use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::{finite_loss, notify, positive_count, Observer, TrainContext, TrainLog, Trainer};
use crate::logprob::SequenceLogProbs;
use crate::policy::{Policy, SamplingConfig};
pub use crate::testbed::BatchReward;
use crate::testbed::{full_mask, tensor_rows, token_tensor, Task};

/// Which group-relative update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum GroupMethod {
    /// Clipped importance-ratio surrogate with normalised advantages.
    #[default]
    Grpo,
    /// Online policy mirror descent (squared log-ratio regulariser).
    Opmd,
    /// Asymmetric REINFORCE (baseline below the group mean).
    AsymRe,
    /// REINFORCE with a clipping mode and an importance weight (the REC
    /// family of Yao et al. 2025; module docs).
    Rec,
}

crate::util::named_enum!(GroupMethod, "group method", {
    Grpo => "grpo",
    Opmd => "opmd",
    AsymRe => "asymre",
    Rec => "rec",
});

/// Which tokens REC keeps, by their detached ratio rho_t = pi/pi_old
/// (Yao et al. 2025, Sec. 4; Trinity-RFT `clip_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RecClip {
    /// Every token (plain REINFORCE on stale samples).
    None,
    /// Drop tokens whose ratio moved past 1 + eps with A >= 0 or below
    /// 1 - eps with A <= 0 (PPO's clip direction, Trinity's `one-side`).
    #[default]
    OneSided,
    /// Drop tokens whose ratio is outside [1 - eps, 1 + eps].
    TwoSided,
}

crate::util::named_enum!(RecClip, "REC clipping mode", {
    None => "none",
    OneSided => "one-sided",
    TwoSided => "two-sided",
});

/// REC's importance weight of a token's policy-gradient term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RecWeight {
    /// w = 1 (no importance sampling).
    #[default]
    None,
    /// w = exp(sum_t log rho_t), the response's likelihood ratio (detached).
    Sequence,
    /// w = rho_t, the token's ratio (detached; Trinity's `importance_sampling`).
    Token,
}

crate::util::named_enum!(RecWeight, "REC importance weight", {
    None => "none",
    Sequence => "sequence",
    Token => "token",
});

/// Where OPMD's squared log-ratio regulariser acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum OpmdForm {
    /// On sequence log-probs, loss averaged over sequences.
    #[default]
    Sequence,
    /// Per token (k2), loss averaged over tokens, as the authors' code.
    Token,
}

crate::util::named_enum!(OpmdForm, "OPMD form", {
    Sequence => "sequence",
    Token => "token",
});

/// Group-relative trainer settings (the `[group]` section).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupConfig {
    /// Update rule.
    pub method: GroupMethod,
    /// Responses per prompt G (>= 2).
    pub group_size: usize,
    /// Prompts per step.
    pub prompts_per_step: usize,
    /// Optimizer steps.
    pub steps: usize,
    /// How many steps old the behaviour policy is (0 = on-policy).
    pub lag: usize,
    /// GRPO clip range eps (in (0, 1)).
    pub clip_eps: f64,
    /// GRPO: divide advantages by the group std (TRL `scale_rewards="group"`).
    pub scale_rewards: bool,
    /// OPMD regularisation tau (>= 0).
    pub tau: f64,
    /// OPMD: sequence-level or per-token (k2, token mean) regulariser.
    pub opmd_form: OpmdForm,
    /// REC: clipping mode (clip range `clip_eps`).
    pub rec_clip: RecClip,
    /// REC: importance weight.
    pub rec_weight: RecWeight,
    /// AsymRE baseline shift delta (>= 0).
    pub asym_shift: f64,
    /// KL penalty coefficient in the shaped reward (>= 0).
    pub kl_coef: f64,
    /// Optimizer.
    pub optimizer: OptimizerConfig,
    /// Sampling.
    pub sampling: SamplingConfig,
    /// Seed.
    pub seed: u64,
}

impl Default for GroupConfig {
    fn default() -> Self {
        GroupConfig {
            method: GroupMethod::Grpo,
            group_size: 8,
            prompts_per_step: 8,
            steps: 100,
            lag: 0,
            clip_eps: 0.2,
            scale_rewards: true,
            tau: 0.1,
            opmd_form: OpmdForm::Sequence,
            rec_clip: RecClip::OneSided,
            rec_weight: RecWeight::None,
            asym_shift: 0.1,
            kl_coef: 0.0,
            optimizer: OptimizerConfig::adam(1e-2),
            sampling: SamplingConfig::default(),
            seed: 0,
        }
    }
}

impl Validate for GroupConfig {
    fn validate(&self) -> Result<()> {
        duality_core::check::at_least("group_size", self.group_size, 2)?;
        positive_count("prompts_per_step", self.prompts_per_step)?;
        positive_count("steps", self.steps)?;
        duality_core::check::open_unit("clip_eps", self.clip_eps)?;
        for (name, v) in [
            ("tau", self.tau),
            ("asym_shift", self.asym_shift),
            ("kl_coef", self.kl_coef),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::invalid(name, v, "a finite number >= 0"));
            }
        }
        crate::limits::check_optimizer("optimizer", &self.optimizer)
    }
}

/// Group-normalised advantages of consecutive groups of `group_size`
/// rewards, exactly as TRL's `GRPOTrainer`: r - mean, divided (if `scale`)
/// by the Bessel-corrected group std + 1e-4.
pub fn group_advantages(rewards: &[f64], group_size: usize, scale: bool) -> Result<Vec<f64>> {
    duality_core::check::finite_non_empty("rewards", rewards)?;
    duality_core::check::at_least("group_size", group_size, 2)?;
    if rewards.len() % group_size != 0 {
        return Err(Error::invalid(
            "number of rewards",
            rewards.len(),
            format!("a multiple of group_size = {group_size}"),
        ));
    }
    let mut out = Vec::with_capacity(rewards.len());
    for g in rewards.chunks(group_size) {
        let n = g.len() as f64;
        let mean = g.iter().sum::<f64>() / n;
        let std = (g.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        out.extend(g.iter().map(|r| {
            if scale {
                (r - mean) / (std + 1e-4)
            } else {
                r - mean
            }
        }));
    }
    Ok(out)
}

/// What a reward hook returns for one step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepRewards {
    /// One reward per sampled row.
    pub rewards: Vec<f64>,
    /// Extra named metrics to log at this step.
    pub metrics: Vec<(String, f64)>,
    /// Advantages computed by the hook itself (one per row), used as they
    /// are instead of the method's group-relative advantages of `rewards`
    /// (constrained RLHF's mixed advantages); `None` = the method's own.
    pub advantages: Option<Vec<f64>>,
}

/// One step's sampled data, handed to a reward hook.
pub struct GroupSamples<'a> {
    /// Prompt of each row (each prompt repeated G times).
    pub prompts: &'a [Vec<i64>],
    /// Completion of each row.
    pub completions: &'a [Vec<i64>],
    /// log pi_old(y|x) - log pi_ref(y|x) of each row (behaviour policy
    /// against the reference: the sample's KL-to-reference estimate).
    pub log_ratio: &'a [f64],
}

/// A per-step reward hook: `hook(samples, step)`.
pub type RewardHook<'h> = dyn FnMut(&GroupSamples<'_>, usize) -> Result<StepRewards> + 'h;

/// Group-relative REINFORCE (registry name `group`) on the test bed's true
/// reward (hidden reward, verifier), or on any [`BatchReward`] with
/// [`Group::train_with_reward`], or on a reward that changes along training
/// with [`Group::train_with_hook`]. Log steps are optimizer steps; metrics:
/// loss, reward (mean raw reward), log_ratio (mean log pi_old/pi_ref), plus
/// the hook's.
#[derive(Debug, Clone)]
pub struct Group {
    config: GroupConfig,
}

impl Trainer for Group {
    const NAME: &'static str = "group";
    const ABOUT: &'static str =
        "group-relative REINFORCE on the true reward with a stale behaviour policy: GRPO, OPMD, AsymRE (Shao et al. 2024; Yao et al. 2025; Arnal et al. 2025)";
    const OBSERVED: bool = true;
    type Config = GroupConfig;

    fn new(config: GroupConfig) -> Result<Self> {
        config.validate()?;
        Ok(Group { config })
    }

    fn config(&self) -> &GroupConfig {
        &self.config
    }

    fn train(&self, ctx: &mut TrainContext<'_>) -> Result<TrainLog> {
        let bed = ctx.bed;
        let reward = bed.reward().ok_or_else(|| {
            Error::config(
                "testbed",
                "group needs a reward (use reward-model on the cyclic bed)",
            )
        })?;
        self.train_with_reward(ctx, reward)
    }
}

impl Group {
    /// Trains on a fixed reward.
    pub fn train_with_reward(
        &self,
        ctx: &mut TrainContext<'_>,
        reward: &(impl BatchReward + ?Sized),
    ) -> Result<TrainLog> {
        self.train_with_hook(ctx, &mut |s: &GroupSamples<'_>, _| {
            Ok(StepRewards {
                rewards: reward.rewards(s.prompts, s.completions)?,
                metrics: Vec::new(),
                advantages: None,
            })
        })
    }

    /// Trains with a reward hook called once per step (constrained RLHF,
    /// whose reward moves with its multipliers).
    pub fn train_with_hook(
        &self,
        ctx: &mut TrainContext<'_>,
        hook: &mut RewardHook<'_>,
    ) -> Result<TrainLog> {
        let seed = ctx.trainer_seed(self.config.seed);
        self.fit(
            ctx.policy,
            ctx.reference,
            ctx.bed,
            seed,
            hook,
            &mut ctx.observer,
        )
    }

    fn fit(
        &self,
        policy: &mut Policy,
        reference: &Policy,
        bed: &(impl Task + ?Sized),
        seed: u64,
        hook: &mut RewardHook<'_>,
        observer: &mut Option<&mut dyn Observer>,
    ) -> Result<TrainLog> {
        let config = &self.config;
        let g = config.group_size;
        let len = bed.completion_len();
        let rows = super::check_batch(
            policy,
            len,
            &[
                ("prompts_per_step", config.prompts_per_step),
                ("group_size", g),
            ],
        )?;
        let mut opt = config.optimizer.build(policy.var_store())?;
        let seeder = Seeder::new(seed).named("group");
        let progress = Progress::new(config.steps as u64, "group");
        let mut log = TrainLog::new(format!("{}-lag{}", config.method, config.lag));
        let mask = full_mask(rows, len);
        // Snapshots of past policies; the front is the behaviour policy.
        let mut history: VecDeque<Policy> = VecDeque::new();
        history.push_back(policy.frozen_copy()?);
        for step in 0..config.steps {
            let mut rng = seeder.rng(step as u64);
            let behaviour = history
                .front()
                .ok_or_else(|| Error::Other("empty policy history".into()))?;
            let mut prompts = Vec::with_capacity(rows);
            for _ in 0..config.prompts_per_step {
                let x = bed.sample_prompt(&mut rng);
                prompts.extend(std::iter::repeat_n(x, g));
            }
            let refs: Vec<&[i64]> = prompts.iter().map(|p| p.as_slice()).collect();
            let x = token_tensor(&refs)?;
            let y = behaviour.sample(&x, len, config.sampling, &mut rng)?;
            let completions = tensor_rows(&y)?;
            let (old, lr) = {
                let _g = duality_core::tensor::tch::no_grad_guard();
                (
                    behaviour.completion_log_probs(&x, &y, &mask)?,
                    reference.completion_log_probs(&x, &y, &mask)?.sum,
                )
            };
            let log_ratio = crate::util::tensor_to_f64(&(&old.sum - &lr))?;
            let samples = GroupSamples {
                prompts: &prompts,
                completions: &completions,
                log_ratio: &log_ratio,
            };
            let StepRewards {
                rewards: raw,
                metrics: extra,
                advantages,
            } = hook(&samples, step)?;
            duality_core::check::same_len("rewards", raw.len(), "samples", rows)?;
            let adv = match advantages {
                Some(a) => {
                    duality_core::check::same_len("advantages", a.len(), "samples", rows)?;
                    duality_core::check::finite_non_empty("advantages", &a)?;
                    a
                }
                None => self.advantages(&raw, &log_ratio)?,
            };
            let new = policy.completion_log_probs(&x, &y, &mask)?;
            let loss = self.surrogate(&new, &old, &adv);
            let value = finite_loss(step, &loss)?;
            opt.backward_step(&loss);
            progress.inc(1);
            let mean_r = raw.iter().sum::<f64>() / rows as f64;
            let mean_lr = log_ratio.iter().sum::<f64>() / rows as f64;
            let mut metrics: Vec<(&str, f64)> =
                vec![("loss", value), ("reward", mean_r), ("log_ratio", mean_lr)];
            metrics.extend(extra.iter().map(|(k, v)| (k.as_str(), *v)));
            log.push(step + 1, &metrics);
            notify(observer, step + 1, policy)?;
            history.push_back(policy.frozen_copy()?);
            while history.len() > config.lag + 1 {
                history.pop_front();
            }
        }
        progress.finish();
        Ok(log)
    }

    /// Advantages of the KL-shaped rewards r - kl_coef log(pi_old/pi_ref):
    /// group-relative, normalised for GRPO, shifted by delta for AsymRE.
    fn advantages(&self, raw: &[f64], log_ratio: &[f64]) -> Result<Vec<f64>> {
        let config = &self.config;
        let shaped: Vec<f64> = raw
            .iter()
            .zip(log_ratio)
            .map(|(r, l)| r - config.kl_coef * l)
            .collect();
        let scale = config.scale_rewards && config.method == GroupMethod::Grpo;
        let mut adv = group_advantages(&shaped, config.group_size, scale)?;
        if config.method == GroupMethod::AsymRe {
            adv.iter_mut().for_each(|a| *a += config.asym_shift);
        }
        Ok(adv)
    }

    /// The method's loss on the behaviour samples (module docs).
    fn surrogate(&self, new: &SequenceLogProbs, old: &SequenceLogProbs, adv: &[f64]) -> Tensor {
        let config = &self.config;
        let adv_t = Tensor::from_slice(adv).to_kind(Kind::Float);
        match config.method {
            GroupMethod::Grpo => {
                let ratio = (&new.per_token - &old.per_token).exp();
                let a = adv_t.unsqueeze(1);
                let unclipped = &ratio * &a;
                let clipped = ratio.clamp(1.0 - config.clip_eps, 1.0 + config.clip_eps) * &a;
                let per_token = -unclipped.minimum(&clipped);
                (per_token.sum_dim_intlist([1i64].as_slice(), false, Kind::Float) / &new.tokens)
                    .mean(None)
            }
            GroupMethod::Opmd if config.opmd_form == OpmdForm::Token => {
                let pg = -(adv_t.unsqueeze(1) * &new.per_token).mean(None);
                let reg =
                    (&new.per_token - &old.per_token).square().mean(None) * (config.tau / 2.0);
                pg + reg
            }
            GroupMethod::Opmd => {
                let pg = -(&adv_t * &new.sum).mean(None);
                let reg = (&new.sum - &old.sum).square().mean(None) * (config.tau / 2.0);
                pg + reg
            }
            GroupMethod::AsymRe => -(&adv_t * &new.sum).mean(None),
            GroupMethod::Rec => rec_loss(
                &new.per_token,
                &old.per_token,
                &adv_t,
                config.rec_clip,
                config.rec_weight,
                config.clip_eps,
            ),
        }
    }
}

/// REC's token-mean loss (module docs) on full-length completions: policy
/// and behaviour token log-probs `[B, T]`, advantages `[B]`.
pub(crate) fn rec_loss(
    new: &Tensor,
    old: &Tensor,
    adv: &Tensor,
    clip: RecClip,
    weight: RecWeight,
    eps: f64,
) -> Tensor {
    let log_ratio = (new - old).detach();
    let ratio = log_ratio.exp();
    let a = adv.unsqueeze(1).expand_as(new);
    let keep = match clip {
        RecClip::None => ratio.ones_like(),
        RecClip::TwoSided => {
            (ratio.ge(1.0 - eps).logical_and(&ratio.le(1.0 + eps))).to_kind(Kind::Float)
        }
        RecClip::OneSided => {
            let up = ratio.le(1.0 + eps).logical_and(&a.ge(0.0));
            let down = ratio.ge(1.0 - eps).logical_and(&a.le(0.0));
            up.logical_or(&down).to_kind(Kind::Float)
        }
    };
    let w = match weight {
        RecWeight::None => ratio.ones_like(),
        RecWeight::Token => ratio,
        RecWeight::Sequence => log_ratio
            .sum_dim_intlist([1i64].as_slice(), true, Kind::Float)
            .exp()
            .expand_as(new),
    };
    -(a * w * keep * new).mean(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn advantages_match_trl_fixture() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/align/losses.json"
        ))
        .unwrap();
        let f: Value = serde_json::from_str(&text).unwrap();
        let v = |k: &str| -> Vec<f64> {
            f["grpo"][k]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        };
        let g = f["grpo"]["group_size"].as_u64().unwrap() as usize;
        let rewards = v("rewards");
        for (scale, key) in [
            (true, "advantages_group_scaled"),
            (false, "advantages_unscaled"),
        ] {
            let got = group_advantages(&rewards, g, scale).unwrap();
            // 1e-6: TRL's `nanstd` computes Bessel's n/(n-1) as a float32
            // tensor, which moves the float64 result by ~1e-8.
            for (a, b) in got.iter().zip(v(key)) {
                assert!((a - b).abs() < 1e-6, "{a} vs {b}");
            }
        }
        assert!(group_advantages(&rewards[..5], 4, true).is_err());
        assert!(group_advantages(&[1.0, f64::NAN], 2, true).is_err());
    }

    /// Hand-computed REC losses: behaviour probabilities 0.5 everywhere,
    /// policy probabilities [[0.7, 0.55], [0.3, 0.45]] (ratios [[1.4, 1.1],
    /// [0.6, 0.9]]), advantages +1 for both rows, eps 0.2. One-sided
    /// clipping drops only the token at 1.4 (A > 0 and rho > 1.2; the 0.6
    /// token moves against the update direction and stays); two-sided also
    /// drops the 0.6 token.
    #[test]
    fn rec_loss_matches_hand_computed_values() {
        let p = [[0.7f64, 0.55], [0.3, 0.45]];
        let l = |x: f64| x.ln();
        let new = Tensor::from_slice(&[l(0.7), l(0.55), l(0.3), l(0.45)])
            .to_kind(Kind::Float)
            .reshape([2, 2]);
        let old = Tensor::from_slice(&[l(0.5); 4])
            .to_kind(Kind::Float)
            .reshape([2, 2]);
        let adv = Tensor::from_slice(&[1.0f32, 1.0]);
        let lp: Vec<f64> = p.iter().flatten().map(|&x| l(x)).collect();
        let rho: Vec<f64> = p.iter().flatten().map(|&x| x / 0.5).collect();
        let cases = [
            (
                RecClip::None,
                RecWeight::None,
                -(lp[0] + lp[1] + lp[2] + lp[3]) / 4.0,
            ),
            (
                RecClip::OneSided,
                RecWeight::None,
                -(lp[1] + lp[2] + lp[3]) / 4.0,
            ),
            (RecClip::TwoSided, RecWeight::None, -(lp[1] + lp[3]) / 4.0),
            (
                RecClip::None,
                RecWeight::Token,
                -(0..4).map(|i| rho[i] * lp[i]).sum::<f64>() / 4.0,
            ),
            (
                RecClip::None,
                RecWeight::Sequence,
                -(rho[0] * rho[1] * (lp[0] + lp[1]) + rho[2] * rho[3] * (lp[2] + lp[3])) / 4.0,
            ),
        ];
        for (clip, weight, want) in cases {
            let got = crate::util::scalar(&rec_loss(&new, &old, &adv, clip, weight, 0.2));
            assert!(
                (got - want).abs() < 1e-5,
                "{clip} {weight}: {got} vs {want}"
            );
        }
        // Negative advantages flip the one-sided rule: the 0.6 token is
        // dropped (rho < 0.8 with A < 0) and the 1.4 token kept.
        let neg = Tensor::from_slice(&[-1.0f32, -1.0]);
        let got = crate::util::scalar(&rec_loss(
            &new,
            &old,
            &neg,
            RecClip::OneSided,
            RecWeight::None,
            0.2,
        ));
        assert!((got - (lp[0] + lp[1] + lp[3]) / 4.0).abs() < 1e-5, "{got}");
        // Weights and masks are detached: the gradient of the unclipped,
        // token-weighted loss w.r.t. log pi_t is -rho_t A / 4.
        let x = new.detach().set_requires_grad(true);
        rec_loss(&x, &old, &adv, RecClip::None, RecWeight::Token, 0.2).backward();
        let g = crate::util::tensor_to_f64(&x.grad()).unwrap();
        for (gi, r) in g.iter().zip(&rho) {
            assert!((gi + r / 4.0).abs() < 1e-5, "{gi} vs {}", -r / 4.0);
        }
    }

    /// OPMD's token form: -mean_t A log pi_t + tau/2 mean_t (log pi_t -
    /// log pi_old_t)^2, against a hand-computed value.
    #[test]
    fn opmd_token_form_matches_hand_computed_value() {
        let per_token = |v: &[f64]| Tensor::from_slice(v).to_kind(Kind::Float).reshape([2, 2]);
        let seq = |t: &Tensor| SequenceLogProbs {
            sum: t.sum_dim_intlist([1i64].as_slice(), false, Kind::Float),
            mean: t.mean_dim([1i64].as_slice(), false, Kind::Float),
            tokens: Tensor::from_slice(&[2.0f32, 2.0]),
            per_token: t.shallow_clone(),
        };
        let (n, o) = ([-0.5, -1.0, -2.0, -0.25], [-0.7, -1.0, -1.5, -0.5]);
        let new = seq(&per_token(&n));
        let old = seq(&per_token(&o));
        let trainer = Group::new(GroupConfig {
            method: GroupMethod::Opmd,
            opmd_form: OpmdForm::Token,
            tau: 0.4,
            ..GroupConfig::default()
        })
        .unwrap();
        let adv = [1.0, -2.0];
        let got = crate::util::scalar(&trainer.surrogate(&new, &old, &adv));
        let pg = -(adv[0] * (n[0] + n[1]) + adv[1] * (n[2] + n[3])) / 4.0;
        let reg = 0.2 * (0..4).map(|i| (n[i] - o[i]).powi(2)).sum::<f64>() / 4.0;
        assert!((got - (pg + reg)).abs() < 1e-5, "{got} vs {}", pg + reg);
        for (text, want) in [
            ("one-sided", RecClip::OneSided),
            ("two-sided", RecClip::TwoSided),
        ] {
            assert_eq!(text.parse::<RecClip>().unwrap(), want);
            assert_eq!(want.to_string(), text);
        }
        assert_eq!(
            "sequence".parse::<RecWeight>().unwrap(),
            RecWeight::Sequence
        );
        assert!("ring".parse::<RecClip>().is_err());
    }
}
