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

use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::group::{train_group_with, BatchReward, GroupConfig, GroupSamples, HookOutput};
use super::TrainLog;
use crate::policy::Policy;
use crate::testbed::TestBed;

/// Constrained-RLHF settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
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

/// Runs constrained (or fixed-weight) RLHF over `components`. Log metrics:
/// loss, reward (composite), component_i (mean r_i) and mu_i per step.
pub fn train_constrained(
    policy: &mut Policy,
    reference: &Policy,
    bed: &impl TestBed,
    components: &[&dyn BatchReward],
    config: &ConstrainedConfig,
) -> Result<(TrainLog, Vec<f64>)> {
    duality_core::check::non_empty("reward components", components)?;
    duality_core::check::same_len(
        "thresholds",
        config.thresholds.len(),
        "components",
        components.len(),
    )?;
    duality_core::check::same_len(
        "initial_multipliers",
        config.initial_multipliers.len(),
        "components",
        components.len(),
    )?;
    duality_core::check::finite("thresholds", &config.thresholds)?;
    duality_core::check::positive("multiplier_lr", config.multiplier_lr)?;
    duality_core::check::positive("multiplier_max", config.multiplier_max)?;
    for (i, &m) in config.initial_multipliers.iter().enumerate() {
        if !(m.is_finite() && m >= 0.0) {
            return Err(Error::invalid(
                format!("initial_multipliers[{i}]"),
                m,
                "a finite number >= 0",
            ));
        }
    }
    let mut mu = config.initial_multipliers.clone();
    let lower = if config.equality {
        -config.multiplier_max
    } else {
        0.0
    };
    let mut hook = |s: &GroupSamples<'_>, _step: usize| -> Result<HookOutput> {
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
        Ok((composite, extra))
    };
    let mut log = train_group_with(
        policy,
        reference,
        bed,
        &config.group,
        &mut hook,
        &mut |_, _| Ok(()),
    )?;
    log.trainer = if config.adapt {
        "constrained-rlhf"
    } else {
        "fixed-weight-rlhf"
    }
    .into();
    Ok((log, mu))
}
