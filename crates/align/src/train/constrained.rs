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
    /// Thresholds theta_i, one per component.
    pub thresholds: Vec<f64>,
    /// Initial multipliers (also the fixed weights when `adapt` is false).
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
}

impl Default for ConstrainedConfig {
    fn default() -> Self {
        ConstrainedConfig {
            group: GroupConfig::default(),
            thresholds: vec![0.5, 0.5],
            initial_multipliers: vec![1.0, 1.0],
            multiplier_lr: 0.5,
            multiplier_max: 5.0,
            adapt: true,
            equality: true,
        }
    }
}

impl Validate for ConstrainedConfig {
    fn validate(&self) -> Result<()> {
        self.group.validate()?;
        duality_core::check::finite_non_empty("thresholds", &self.thresholds)?;
        duality_core::check::same_len(
            "initial_multipliers",
            self.initial_multipliers.len(),
            "thresholds",
            self.thresholds.len(),
        )?;
        duality_core::check::positive("multiplier_lr", self.multiplier_lr)?;
        duality_core::check::positive("multiplier_max", self.multiplier_max)?;
        for (i, &m) in self.initial_multipliers.iter().enumerate() {
            if !(m.is_finite() && m >= 0.0) {
                return Err(Error::invalid(
                    format!("initial_multipliers[{i}]"),
                    m,
                    "a finite number >= 0",
                ));
            }
        }
        Ok(())
    }
}

/// What constrained RLHF returns: its log and the final multipliers.
#[derive(Debug, Clone, PartialEq)]
pub struct ConstrainedOutcome {
    /// Log metrics: loss, reward (composite), component_i (mean r_i) and
    /// mu_i (the multiplier used at that step).
    pub log: TrainLog,
    /// The multipliers after the last dual update.
    pub multipliers: Vec<f64>,
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
        Ok(self.train_on(ctx, &components)?.log)
    }
}

impl Constrained {
    /// Runs constrained RLHF over `components` (one per threshold).
    pub fn train_on(
        &self,
        ctx: &mut TrainContext<'_>,
        components: &[&dyn BatchReward],
    ) -> Result<ConstrainedOutcome> {
        let config = &self.config;
        duality_core::check::same_len(
            "thresholds",
            config.thresholds.len(),
            "reward components",
            components.len(),
        )?;
        let mut mu = config.initial_multipliers.clone();
        let lower = if config.equality {
            -config.multiplier_max
        } else {
            0.0
        };
        let mut hook = |s: &GroupSamples<'_>, _step: usize| -> Result<StepRewards> {
            let parts: Vec<Vec<f64>> = components
                .iter()
                .map(|c| c.rewards(s.prompts, s.completions))
                .collect::<Result<_>>()?;
            let n = s.prompts.len();
            let composite: Vec<f64> = (0..n)
                .map(|j| parts.iter().zip(&mu).map(|(p, m)| m * p[j]).sum())
                .collect();
            let mut extra = Vec::new();
            for (i, p) in parts.iter().enumerate() {
                let mean = p.iter().sum::<f64>() / n as f64;
                extra.push((format!("component_{i}"), mean));
                extra.push((format!("mu_{i}"), mu[i]));
                if config.adapt {
                    mu[i] = (mu[i] + config.multiplier_lr * (config.thresholds[i] - mean))
                        .clamp(lower, config.multiplier_max);
                }
            }
            Ok(StepRewards {
                rewards: composite,
                metrics: extra,
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
            multipliers: mu,
        })
    }
}
