//! Constrained RLHF (Moskovitz et al. 2024, "Confronting Reward Model
//! Overoptimization with Constrained RLHF", Sec. 4, the mu-PPO / xi-PPO
//! Lagrangians): several component rewards r_i, each a useful proxy only up
//! to a threshold theta_i (beyond it the true objective stops improving).
//! The policy maximises sum_i mu_i r_i with one Lagrange multiplier per
//! component, and each multiplier follows projected dual descent on its
//! constraint E(r_i) <= theta_i:
//!   mu_i <- clip(mu_i + lr_mu (theta_i - mean r_i), 0, mu_max),
//! so a component that overshoots its threshold loses weight (and, once
//! mu_i = 0, stops being optimised); with equality constraints (xi-PPO) the
//! lower clip is -mu_max, so an overshooting component is pushed back to its
//! threshold. The fixed-weight baseline keeps mu_i = w_i.
//! Policy updates use the group-relative trainer (GRPO by default) on the
//! composite reward.
//!
//! The defaults follow the authors' code (ConstrainedRL4LMs,
//! `constrained_ppo.py` with `gpt2_constrained_ppo.yml`: `squash_lagrange`,
//! `equality_constraints`, `normalize_advantage`, multipliers initialised
//! near 0) and the paper's mixed advantage — `squash = "tanh"`,
//! `kl_advantage`, `normalize_components`, `initial_multipliers = [0, 0]`;
//! the clipped multipliers on the composite reward above are
//! `squash = "clip"` with both flags off (the fixed-weight baseline of the
//! bench uses that form with `adapt = false` and weights 1). In detail:
//! - `squash = "sigmoid"` / `"tanh"`: the dual variable z_i is unbounded and
//!   the weight is lambda_i = sigma(z_i) in (0, 1) (inequality
//!   constraints) or tanh(z_i) in (-1, 1) (equality), updated by gradient
//!   descent on lambda_i (mean r_i - theta_i), i.e. z_i <- z_i + lr
//!   lambda'(z_i) (theta_i - mean r_i), instead of a clipped multiplier;
//! - `kl_advantage`: the advantage is (n - sum_i lambda_i) A_KL + sum_i
//!   lambda_i A_i with A_KL the group-relative advantage of -log(pi_old /
//!   pi_ref), so that once the components are satisfied the weight moves
//!   to staying near the reference (n = number of components);
//! - `normalize_components`: each A_i (and A_KL) is normalised by its own
//!   group std before mixing (the reference normalises task and constraint
//!   advantages separately), rather than normalising the composite.
//!
//! With `kl_advantage` or `normalize_components` the trainer hands the
//! mixed advantages to the group trainer as they are (its own scaling and
//! `kl_coef` shaping are bypassed); with neither, the composite reward goes
//! through the group method as before.
//!
//! The thresholds theta_i are the test bed's proxy points
//! ([`TestBed::proxy_points`](crate::testbed::TestBed::proxy_points), the
//! `task.proxy_thresholds` of a run config): the same numbers define the
//! bed's true reward, so the constraints sit exactly where the true reward
//! stops improving. The config has no threshold of its own (it used to,
//! with 0.5 against the bed's 0.4, which pushed every run past the proxy
//! points); [`Constrained::train_on`] takes them with the components.

use duality_core::config::Validate;
use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::group::{BatchReward, Group, GroupConfig, GroupSamples, StepRewards};
use super::{TrainContext, TrainLog, Trainer};

/// Constrained-RLHF settings (the `[constrained]` section).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConstrainedConfig {
    /// The policy-update settings.
    pub group: GroupConfig,
    /// Initial multipliers, one per reward component (also the fixed
    /// weights when `adapt` is false).
    pub initial_multipliers: Vec<f64>,
    /// Dual step size (> 0).
    pub multiplier_lr: f64,
    /// Upper bound on each multiplier (> 0).
    pub multiplier_max: f64,
    /// Adapt multipliers (constrained) or keep them fixed (fixed-weight baseline).
    pub adapt: bool,
    /// Equality constraints E(r_i) = theta_i (the paper's xi-PPO: multipliers
    /// may turn negative and push an overshooting component back) instead of
    /// inequalities (mu-PPO: multipliers clipped at 0).
    pub equality: bool,
    /// How dual variables become component weights (module docs).
    pub squash: MultiplierSquash,
    /// Mix in the KL-to-reference advantage with weight n - sum lambda_i.
    pub kl_advantage: bool,
    /// Normalise each component's group-relative advantage separately.
    pub normalize_components: bool,
}

/// How constrained RLHF turns its dual variables into component weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum MultiplierSquash {
    /// Projected dual ascent: mu_i clipped to [0, max] (mu-PPO) or
    /// [-max, max] (xi-PPO, `equality`).
    #[default]
    Clip,
    /// lambda_i = sigmoid(z_i) in (0, 1), the reference code's
    /// `sigmoid_lagrange` (inequality constraints; `equality` and
    /// `multiplier_max` unused).
    Sigmoid,
    /// lambda_i = tanh(z_i) in (-1, 1) (equality constraints; `equality`
    /// and `multiplier_max` unused).
    Tanh,
}

crate::util::named_enum!(MultiplierSquash, "multiplier squash", {
    Clip => "clip",
    Sigmoid => "sigmoid",
    Tanh => "tanh",
});

impl MultiplierSquash {
    /// The weight lambda(z) and its derivative lambda'(z).
    fn weight(self, z: f64) -> (f64, f64) {
        match self {
            MultiplierSquash::Clip => (z, 1.0),
            MultiplierSquash::Sigmoid => {
                let s = 1.0 / (1.0 + (-z).exp());
                (s, s * (1.0 - s))
            }
            MultiplierSquash::Tanh => {
                let t = z.tanh();
                (t, 1.0 - t * t)
            }
        }
    }

    /// The dual variable z with lambda(z) = `lambda` (checked in range by
    /// the config).
    fn inverse(self, lambda: f64) -> f64 {
        match self {
            MultiplierSquash::Clip => lambda,
            MultiplierSquash::Sigmoid => (lambda / (1.0 - lambda)).ln(),
            MultiplierSquash::Tanh => lambda.atanh(),
        }
    }
}

impl Default for ConstrainedConfig {
    fn default() -> Self {
        ConstrainedConfig {
            group: GroupConfig::default(),
            initial_multipliers: vec![0.0, 0.0],
            multiplier_lr: 0.5,
            multiplier_max: 5.0,
            adapt: true,
            equality: true,
            squash: MultiplierSquash::Tanh,
            kl_advantage: true,
            normalize_components: true,
        }
    }
}

impl Validate for ConstrainedConfig {
    fn validate(&self) -> Result<()> {
        self.group.validate()?;
        duality_core::check::finite_non_empty("initial_multipliers", &self.initial_multipliers)?;
        duality_core::check::positive("multiplier_lr", self.multiplier_lr)?;
        duality_core::check::positive("multiplier_max", self.multiplier_max)?;
        let (ok, range): (fn(f64) -> bool, &str) = match self.squash {
            MultiplierSquash::Clip => (|m| m.is_finite() && m >= 0.0, "a finite number >= 0"),
            MultiplierSquash::Sigmoid => (
                |m| m > 0.0 && m < 1.0,
                "in (0, 1) (sigmoid-squashed multipliers)",
            ),
            MultiplierSquash::Tanh => (
                |m| m > -1.0 && m < 1.0,
                "in (-1, 1) (tanh-squashed multipliers)",
            ),
        };
        for (i, &m) in self.initial_multipliers.iter().enumerate() {
            if !ok(m) {
                return Err(Error::invalid(
                    format!("initial_multipliers[{i}]"),
                    m,
                    range,
                ));
            }
        }
        Ok(())
    }
}

/// What constrained RLHF returns: its log and the final multipliers.
#[derive(Debug, Clone, PartialEq)]
pub struct ConstrainedOutcome {
    /// Log metrics: loss, reward (composite), component_i (mean r_i),
    /// mu_i (the multiplier used at that step) and theta_i (its threshold).
    pub log: TrainLog,
    /// The multipliers after the last dual update.
    pub multipliers: Vec<f64>,
    /// The constraint thresholds theta_i the dual updates used.
    pub thresholds: Vec<f64>,
}

/// Constrained (or, with `adapt = false`, fixed-weight) RLHF (registry
/// name `constrained`) over the test bed's reward components (the
/// `proxies` bed), or over given components with
/// [`Constrained::train_on`]. Not observed.
#[derive(Debug, Clone)]
pub struct Constrained {
    config: ConstrainedConfig,
    group: Group,
}

impl Trainer for Constrained {
    const NAME: &'static str = "constrained";
    const ABOUT: &'static str =
        "constrained RLHF: one Lagrange multiplier per proxy reward, xi-PPO / mu-PPO dual updates (Moskovitz et al. 2024)";
    const OBSERVED: bool = false;
    type Config = ConstrainedConfig;

    fn new(config: ConstrainedConfig) -> Result<Self> {
        config.validate()?;
        let group = Group::new(config.group.clone())?;
        Ok(Constrained { config, group })
    }

    fn config(&self) -> &ConstrainedConfig {
        &self.config
    }

    fn train(&self, ctx: &mut TrainContext<'_>) -> Result<TrainLog> {
        let bed = ctx.bed;
        let parts = bed.reward_components();
        if parts.is_empty() {
            return Err(Error::config(
                "testbed",
                "constrained needs a test bed with reward components (the `proxies` bed)",
            ));
        }
        let components: Vec<&dyn BatchReward> =
            parts.iter().map(|c| c as &dyn BatchReward).collect();
        // The bed's proxy points, the very numbers its true reward uses.
        let thresholds = bed.proxy_points().to_vec();
        Ok(self.train_on(ctx, &components, &thresholds)?.log)
    }
}

impl Constrained {
    /// Runs constrained RLHF over `components` with constraint thresholds
    /// `thresholds` (one per component, finite; as many as
    /// `initial_multipliers`).
    pub fn train_on(
        &self,
        ctx: &mut TrainContext<'_>,
        components: &[&dyn BatchReward],
        thresholds: &[f64],
    ) -> Result<ConstrainedOutcome> {
        duality_core::check::finite_non_empty("thresholds", thresholds)?;
        duality_core::check::same_len(
            "thresholds",
            thresholds.len(),
            "reward components",
            components.len(),
        )?;
        let mut fixed = FixedThresholds(thresholds.to_vec());
        self.train_scheduled(ctx, components, &mut fixed)
    }

    /// Runs constrained RLHF with thresholds that `schedule` may move
    /// between steps (NM-PPO's search); the multipliers carry over.
    pub(crate) fn train_scheduled(
        &self,
        ctx: &mut TrainContext<'_>,
        components: &[&dyn BatchReward],
        schedule: &mut dyn ThresholdSchedule,
    ) -> Result<ConstrainedOutcome> {
        let config = &self.config;
        duality_core::check::same_len(
            "initial_multipliers",
            config.initial_multipliers.len(),
            "reward components",
            components.len(),
        )?;
        let squash = config.squash;
        // Dual variables z_i; the weights are lambda_i = squash(z_i).
        let mut z: Vec<f64> = config
            .initial_multipliers
            .iter()
            .map(|&m| squash.inverse(m))
            .collect();
        let lower = if config.equality {
            -config.multiplier_max
        } else {
            0.0
        };
        let group_size = config.group.group_size;
        let mixed = config.kl_advantage || config.normalize_components;
        let mut last_thresholds = Vec::new();
        let mut hook = |s: &GroupSamples<'_>, step: usize| -> Result<StepRewards> {
            let parts: Vec<Vec<f64>> = components
                .iter()
                .map(|c| c.rewards(s.prompts, s.completions))
                .collect::<Result<_>>()?;
            let n = s.prompts.len();
            let means: Vec<f64> = parts
                .iter()
                .map(|p| p.iter().sum::<f64>() / n as f64)
                .collect();
            if step == 0 {
                schedule.start(&means)?;
            }
            let thresholds = schedule.current().to_vec();
            duality_core::check::same_len(
                "thresholds",
                thresholds.len(),
                "reward components",
                components.len(),
            )?;
            let mu: Vec<f64> = z.iter().map(|&zi| squash.weight(zi).0).collect();
            let composite: Vec<f64> = (0..n)
                .map(|j| parts.iter().zip(&mu).map(|(p, m)| m * p[j]).sum())
                .collect();
            let advantages = if mixed {
                Some(mixed_advantages(
                    &parts,
                    &mu,
                    config.kl_advantage.then_some(s.log_ratio),
                    group_size,
                    config.normalize_components,
                )?)
            } else {
                None
            };
            let mut extra = Vec::new();
            for (i, &mean) in means.iter().enumerate() {
                extra.push((format!("component_{i}"), mean));
                extra.push((format!("mu_{i}"), mu[i]));
                extra.push((format!("theta_{i}"), thresholds[i]));
                if config.adapt {
                    let step = config.multiplier_lr * (thresholds[i] - mean);
                    z[i] = match squash {
                        MultiplierSquash::Clip => (z[i] + step).clamp(lower, config.multiplier_max),
                        _ => z[i] + squash.weight(z[i]).1 * step,
                    };
                }
            }
            extra.extend(schedule.after_step(s, &means)?);
            last_thresholds = thresholds;
            Ok(StepRewards {
                rewards: composite,
                metrics: extra,
                advantages,
            })
        };
        let mut log = self.group.train_with_hook(ctx, &mut hook)?;
        log.trainer = if config.adapt {
            "constrained-rlhf"
        } else {
            "fixed-weight-rlhf"
        }
        .into();
        Ok(ConstrainedOutcome {
            log,
            multipliers: z.iter().map(|&zi| squash.weight(zi).0).collect(),
            thresholds: last_thresholds,
        })
    }
}

/// Where the constraint thresholds of each step come from: fixed (the
/// bed's proxy points) or searched (NM-PPO).
pub(crate) trait ThresholdSchedule {
    /// Called once before the first dual update with the first batch's
    /// component means (the initial policy's scores).
    fn start(&mut self, _initial_means: &[f64]) -> Result<()> {
        Ok(())
    }
    /// The thresholds of the current step.
    fn current(&self) -> &[f64];
    /// Called after each step's dual update with its samples and component
    /// means; may move the thresholds for the next step. Returns metrics
    /// for the step's log entry.
    fn after_step(
        &mut self,
        samples: &GroupSamples<'_>,
        means: &[f64],
    ) -> Result<Vec<(String, f64)>>;
}

/// Thresholds that never move.
struct FixedThresholds(Vec<f64>);

impl ThresholdSchedule for FixedThresholds {
    fn current(&self) -> &[f64] {
        &self.0
    }
    fn after_step(&mut self, _: &GroupSamples<'_>, _: &[f64]) -> Result<Vec<(String, f64)>> {
        Ok(Vec::new())
    }
}

/// The mixed advantage sum_i lambda_i A_i (+ (n - sum_i lambda_i) A_KL when
/// `log_ratio` is given, A_KL the advantage of -log(pi_old/pi_ref)), each
/// A group-relative over consecutive groups of `group_size` and, with
/// `normalize`, divided by its own group std (+ 1e-4).
pub(crate) fn mixed_advantages(
    parts: &[Vec<f64>],
    lambda: &[f64],
    log_ratio: Option<&[f64]>,
    group_size: usize,
    normalize: bool,
) -> Result<Vec<f64>> {
    let rows = parts.first().map_or(0, Vec::len);
    let mut adv = vec![0.0; rows];
    for (p, &l) in parts.iter().zip(lambda) {
        let a = super::group::group_advantages(p, group_size, normalize)?;
        adv.iter_mut().zip(a).for_each(|(x, ai)| *x += l * ai);
    }
    if let Some(lr) = log_ratio {
        let kl_reward: Vec<f64> = lr.iter().map(|l| -l).collect();
        let a = super::group::group_advantages(&kl_reward, group_size, normalize)?;
        let w = parts.len() as f64 - lambda.iter().sum::<f64>();
        adv.iter_mut().zip(a).for_each(|(x, ai)| *x += w * ai);
    }
    Ok(adv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{run, RunConfig};
    use crate::testbed::{TaskConfig, TestBedKind};

    /// The constraint thresholds are the bed's proxy points, and those are
    /// where the bed's true reward stops improving: change one side alone
    /// (a threshold in the trainer config, or a reward with other kinks)
    /// and this fails.
    #[test]
    fn constraint_thresholds_are_the_true_rewards_proxy_points() {
        duality_core::tensor::tch::set_num_threads(1);
        let task = TaskConfig {
            proxy_thresholds: vec![0.3, 0.6],
            completion_len: 10,
            ..TaskConfig::default()
        };
        let bed = TestBedKind::Proxies.build(&task, 0).unwrap();
        assert_eq!(bed.proxy_points(), task.proxy_thresholds.as_slice());
        // The true reward as one component's frequency k/L grows (the other
        // component fixed at 0, filler token 5): it peaks at the largest
        // k/L <= theta_i, so its kink is theta_i.
        let len = task.completion_len;
        for (i, &theta) in bed.proxy_points().iter().enumerate() {
            let reward = |k: usize| {
                let y: Vec<i64> = (0..len).map(|j| if j < k { i as i64 } else { 5 }).collect();
                bed.reward().unwrap().reward(&[0], &y)
            };
            let best = (0..=len)
                .max_by(|&a, &b| reward(a).total_cmp(&reward(b)))
                .unwrap();
            assert_eq!(best, (theta * len as f64).floor() as usize, "component {i}");
        }
        let mut config = RunConfig {
            trainer: Constrained::NAME.into(),
            testbed: TestBedKind::Proxies,
            eval_samples: 20,
            task: task.clone(),
            ..RunConfig::default()
        };
        config
            .edit_trainer_config::<Constrained>(|k| {
                k.group.steps = 2;
                k.group.group_size = 2;
                k.group.prompts_per_step = 2;
            })
            .unwrap();
        let log = run(&config).unwrap().log;
        for (i, &theta) in task.proxy_thresholds.iter().enumerate() {
            assert_eq!(log.last(&format!("theta_{i}")), Some(theta));
        }
        // A threshold of the trainer's own is no longer accepted.
        let e = RunConfig::from_toml_str(
            "trainer = \"constrained\"\ntestbed = \"proxies\"\n[constrained]\nthresholds = [0.5, 0.5]\n",
            "run.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("thresholds"), "{e}");
    }

    /// Hand-computed mixed advantages: two components, one group of 2.
    #[test]
    fn mixed_advantages_match_hand_computed_values() {
        let parts = vec![vec![1.0, 0.0], vec![0.0, 0.5]];
        let lambda = [0.25, 0.5];
        // Centred: A_0 = [0.5, -0.5], A_1 = [-0.25, 0.25].
        let a = mixed_advantages(&parts, &lambda, None, 2, false).unwrap();
        let want = [0.25 * 0.5 - 0.5 * 0.25, -0.25 * 0.5 + 0.5 * 0.25];
        for (x, w) in a.iter().zip(want) {
            assert!((x - w).abs() < 1e-12, "{x} vs {w}");
        }
        // The KL term: log ratios [0.2, -0.2] -> A_KL = [-0.2, 0.2], weight 2 - 0.75.
        let a = mixed_advantages(&parts, &lambda, Some(&[0.2, -0.2]), 2, false).unwrap();
        for (x, (w, k)) in a.iter().zip(want.iter().zip([-0.2, 0.2])) {
            assert!((x - (w + 1.25 * k)).abs() < 1e-12, "{x}");
        }
        // Normalised: each A becomes +-1/sqrt(2)·sqrt(2)... i.e. (r - mean)/(std + 1e-4)
        // with the Bessel std of two values |a - b| / sqrt(2).
        let a = mixed_advantages(&parts, &lambda, None, 2, true).unwrap();
        let unit = |d: f64| (d / 2.0) / (d / 2f64.sqrt() + 1e-4);
        let want0 = 0.25 * unit(1.0) - 0.5 * unit(0.5);
        assert!(
            (a[0] - want0).abs() < 1e-12 && (a[1] + want0).abs() < 1e-12,
            "{a:?}"
        );
        assert!(mixed_advantages(&[vec![1.0, 0.0, 1.0]], &[1.0], None, 2, false).is_err());
    }

    #[test]
    fn squashed_multipliers_stay_in_range_and_invert() {
        for (squash, lambda) in [
            (MultiplierSquash::Sigmoid, 0.3),
            (MultiplierSquash::Tanh, -0.6),
        ] {
            let z = squash.inverse(lambda);
            let (l, d) = squash.weight(z);
            assert!((l - lambda).abs() < 1e-12 && d > 0.0, "{squash}");
            assert_eq!(
                squash.to_string().parse::<MultiplierSquash>().unwrap(),
                squash
            );
        }
        let (s, _) = MultiplierSquash::Sigmoid.weight(50.0);
        assert!(s <= 1.0);
        let bad = ConstrainedConfig {
            squash: MultiplierSquash::Sigmoid,
            ..ConstrainedConfig::default()
        };
        let e = bad.validate().unwrap_err().to_string();
        assert!(
            e.contains("initial_multipliers[0]") && e.contains("(0, 1)"),
            "{e}"
        );
    }

    #[test]
    fn kl_advantage_and_squashed_multipliers_train() {
        duality_core::tensor::tch::set_num_threads(1);
        let mut config = RunConfig {
            trainer: Constrained::NAME.into(),
            testbed: TestBedKind::Proxies,
            eval_samples: 20,
            ..RunConfig::default()
        };
        config
            .edit_trainer_config::<Constrained>(|k| {
                k.group.steps = 3;
                k.group.group_size = 2;
                k.group.prompts_per_step = 2;
                k.squash = MultiplierSquash::Sigmoid;
                k.initial_multipliers = vec![0.5, 0.5];
                k.kl_advantage = true;
                k.normalize_components = true;
            })
            .unwrap();
        let log = run(&config).unwrap().log;
        assert_eq!(log.entries.len(), 3);
        for i in 0..2 {
            let mu = log.last(&format!("mu_{i}")).unwrap();
            assert!(mu > 0.0 && mu < 1.0, "{mu}");
        }
    }

    #[test]
    fn thresholds_and_multipliers_must_match_the_components() {
        duality_core::tensor::tch::set_num_threads(1);
        let bed = TestBedKind::Proxies
            .build(&TaskConfig::default(), 0)
            .unwrap();
        let mut policy =
            crate::policy::Policy::new(&crate::policy::PolicyConfig::gru(bed.vocab()), 1).unwrap();
        let reference = policy.frozen_copy().unwrap();
        let trainer = Constrained::new(ConstrainedConfig::default()).unwrap();
        let parts = bed.reward_components();
        let components: Vec<&dyn BatchReward> =
            parts.iter().map(|c| c as &dyn BatchReward).collect();
        let mut ctx = TrainContext::new(&mut policy, &reference, bed.as_ref()).unwrap();
        let e = trainer
            .train_on(&mut ctx, &components, &[0.4])
            .unwrap_err()
            .to_string();
        assert!(e.contains("thresholds"), "{e}");
        let e = trainer
            .train_on(&mut ctx, &components[..1], &[0.4])
            .unwrap_err()
            .to_string();
        assert!(e.contains("initial_multipliers"), "{e}");
    }
}
