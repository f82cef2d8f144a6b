//! NM-PPO (Moskovitz et al. 2024, "Confronting Reward Model
//! Overoptimization with Constrained RLHF", Sec. 5.3): constrained RLHF
//! whose thresholds are not given but searched for online with Nelder-Mead
//! on the true (evaluation) objective, in one training run. Followed: the
//! authors' `NelderMeadTrainer` (ConstrainedRL4LMs,
//! `rl4lms/envs/text_generation/training_utils.py`, config
//! `gpt2_nm_ppo.yml`):
//! - one policy keeps training throughout; evaluating a point theta of the
//!   simplex means setting the constraint thresholds to theta and training
//!   for up to `segment_steps` steps (the authors: a tenth of the run),
//!   evaluating every `eval_every` steps and ending the segment early once
//!   every component is within +-`reach_tol` (relative; the authors: 5%)
//!   of its threshold; the point's value is minus the true objective at
//!   the segment's last evaluation;
//! - the simplex starts at n + 1 points drawn uniformly per coordinate in
//!   [low_i, high_i], low_i being the initial policy's score (the authors'
//!   `_INIT` constants are the initial model's metrics) and high_i the
//!   highest score considered (the authors' `_MAX`);
//! - the multipliers carry over from segment to segment (the authors only
//!   call `set_constraint_thresholds`); Nelder-Mead moves and caching are
//!   [`super::nelder_mead`].
//!
//! Differences, stated: the true objective is estimated from the training
//! batches of the evaluation window (the mean true reward of the on-policy
//! samples of the last `eval_every` steps) rather than a separate test
//! split, so an evaluation costs no extra samples but is noisier; once the
//! search has converged (or when the simplex values agree within `tol`)
//! the rest of the step budget trains at the best vertex instead of
//! stopping the run (the authors break out of training there).
//!
//! The true reward is the bed's (`TestBed::reward`, the thresholded-proxies
//! objective): NM-PPO is allowed to query it, unlike mu/xi-PPO, which is
//! the price the paper names for not needing the proxy points in advance.

use duality_core::config::Validate;
use duality_core::seed::{DualityRng, Seeder};
use duality_core::{Error, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::constrained::{Constrained, ConstrainedConfig, ThresholdSchedule};
use super::group::{BatchReward, GroupSamples};
use super::nelder_mead::{NelderMead, NelderMeadConfig};
use super::{TrainContext, TrainLog, Trainer};

/// NM-PPO settings (the `[nm-ppo]` section).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NmPpoConfig {
    /// The constrained-RLHF settings (its `group.steps` is the whole
    /// budget of the search).
    pub constrained: ConstrainedConfig,
    /// Simplex coefficients.
    pub nelder_mead: NelderMeadConfig,
    /// Most steps one evaluation of a threshold point trains for (>= 1).
    pub segment_steps: usize,
    /// Steps between evaluations within a segment (>= 1, <= segment_steps).
    pub eval_every: usize,
    /// A component has reached its threshold when within this relative
    /// distance (in [0, 1)).
    pub reach_tol: f64,
    /// Lower corner of the initial simplex box per component (empty: the
    /// first batch's component means, the initial policy's scores).
    pub simplex_low: Vec<f64>,
    /// Upper corner of the initial simplex box per component (empty: 1.0,
    /// the largest value of a frequency component).
    pub simplex_high: Vec<f64>,
    /// Seed of the initial simplex (mixed with the run seed).
    pub seed: u64,
}

impl Default for NmPpoConfig {
    fn default() -> Self {
        NmPpoConfig {
            constrained: ConstrainedConfig::default(),
            nelder_mead: NelderMeadConfig::default(),
            segment_steps: 10,
            eval_every: 5,
            reach_tol: 0.05,
            simplex_low: Vec::new(),
            simplex_high: Vec::new(),
            seed: 0,
        }
    }
}

impl Validate for NmPpoConfig {
    fn validate(&self) -> Result<()> {
        self.constrained.validate()?;
        self.nelder_mead.validate()?;
        duality_core::check::at_least("segment_steps", self.segment_steps, 1)?;
        duality_core::check::at_least("eval_every", self.eval_every, 1)?;
        if self.eval_every > self.segment_steps {
            return Err(Error::invalid(
                "eval_every",
                self.eval_every,
                format!("at most segment_steps = {}", self.segment_steps),
            ));
        }
        if !(self.reach_tol >= 0.0 && self.reach_tol < 1.0) {
            return Err(Error::invalid("reach_tol", self.reach_tol, "in [0, 1)"));
        }
        duality_core::check::finite("simplex_low", &self.simplex_low)?;
        duality_core::check::finite("simplex_high", &self.simplex_high)?;
        if !self.simplex_low.is_empty() && !self.simplex_high.is_empty() {
            duality_core::check::same_len(
                "simplex_low",
                self.simplex_low.len(),
                "simplex_high",
                self.simplex_high.len(),
            )?;
        }
        Ok(())
    }
}

/// NM-PPO (registry name `nm-ppo`) on the test bed's reward components
/// (the `proxies` bed). Log: constrained RLHF's metrics (`theta_i` now the
/// point under evaluation) plus `nm_evaluations`, `nm_best_true_reward`
/// (best evaluated true reward so far), `nm_iterations` and
/// `nm_converged`. Not observed.
#[derive(Debug, Clone)]
pub struct NmPpo {
    config: NmPpoConfig,
    constrained: Constrained,
}

impl Trainer for NmPpo {
    const NAME: &'static str = "nm-ppo";
    const ABOUT: &'static str =
        "NM-PPO: constrained RLHF with its thresholds found online by Nelder-Mead on the true reward (Moskovitz et al. 2024, Sec. 5.3)";
    const OBSERVED: bool = false;
    type Config = NmPpoConfig;

    fn new(config: NmPpoConfig) -> Result<Self> {
        config.validate()?;
        let constrained = Constrained::new(config.constrained.clone())?;
        Ok(NmPpo {
            config,
            constrained,
        })
    }

    fn config(&self) -> &NmPpoConfig {
        &self.config
    }

    fn train(&self, ctx: &mut TrainContext<'_>) -> Result<TrainLog> {
        let bed = ctx.bed;
        let parts = bed.reward_components();
        if parts.is_empty() {
            return Err(Error::config(
                "testbed",
                "nm-ppo needs a test bed with reward components (the `proxies` bed)",
            ));
        }
        let truth = bed.reward().ok_or_else(|| {
            Error::config(
                "testbed",
                "nm-ppo needs the bed's true reward to evaluate points",
            )
        })?;
        let components: Vec<&dyn BatchReward> =
            parts.iter().map(|c| c as &dyn BatchReward).collect();
        let k = components.len();
        for (name, v) in [
            ("simplex_low", &self.config.simplex_low),
            ("simplex_high", &self.config.simplex_high),
        ] {
            if !v.is_empty() {
                duality_core::check::same_len(name, v.len(), "reward components", k)?;
            }
        }
        let rng = Seeder::new(ctx.trainer_seed(self.config.seed))
            .named("nm-ppo")
            .rng(0);
        let mut search = Search {
            config: &self.config,
            truth,
            rng,
            nm: None,
            point: Vec::new(),
            seg_steps: 0,
            window: Window::default(),
            evaluations: 0,
            best: f64::NEG_INFINITY,
        };
        let mut out = self
            .constrained
            .train_scheduled(ctx, &components, &mut search)?;
        out.log.trainer = NmPpo::NAME.into();
        Ok(out.log)
    }
}

/// Running sums over an evaluation window.
#[derive(Debug, Default)]
struct Window {
    steps: usize,
    truth: f64,
    components: Vec<f64>,
}

/// The Nelder-Mead threshold schedule (module docs).
struct Search<'a> {
    config: &'a NmPpoConfig,
    truth: &'a dyn crate::testbed::RewardFn,
    rng: DualityRng,
    nm: Option<NelderMead>,
    point: Vec<f64>,
    seg_steps: usize,
    window: Window,
    evaluations: usize,
    best: f64,
}

impl ThresholdSchedule for Search<'_> {
    fn start(&mut self, initial_means: &[f64]) -> Result<()> {
        let k = initial_means.len();
        let low = if self.config.simplex_low.is_empty() {
            initial_means.to_vec()
        } else {
            self.config.simplex_low.clone()
        };
        let high = if self.config.simplex_high.is_empty() {
            vec![1.0; k]
        } else {
            self.config.simplex_high.clone()
        };
        let simplex: Vec<Vec<f64>> = (0..=k)
            .map(|_| {
                low.iter()
                    .zip(&high)
                    .map(|(l, h)| l + (h - l) * self.rng.random::<f64>())
                    .collect()
            })
            .collect();
        let mut nm = NelderMead::new(self.config.nelder_mead.clone(), simplex)?;
        self.point = nm
            .ask()
            .ok_or_else(|| Error::Other("Nelder-Mead asked for no first point".into()))?;
        self.nm = Some(nm);
        self.window.components = vec![0.0; k];
        Ok(())
    }

    fn current(&self) -> &[f64] {
        &self.point
    }

    fn after_step(
        &mut self,
        samples: &GroupSamples<'_>,
        means: &[f64],
    ) -> Result<Vec<(String, f64)>> {
        let nm = self
            .nm
            .as_mut()
            .ok_or_else(|| Error::Other("nm-ppo: search not started".into()))?;
        let truth = self.truth.rewards(samples.prompts, samples.completions)?;
        let w = &mut self.window;
        w.steps += 1;
        w.truth += truth.iter().sum::<f64>() / truth.len().max(1) as f64;
        w.components
            .iter_mut()
            .zip(means)
            .for_each(|(a, m)| *a += m);
        self.seg_steps += 1;
        let c = self.config;
        if !nm.converged() && (w.steps == c.eval_every || self.seg_steps >= c.segment_steps) {
            let true_reward = w.truth / w.steps as f64;
            let reached = w
                .components
                .iter()
                .zip(&self.point)
                .all(|(s, t)| (s / w.steps as f64 - t).abs() <= c.reach_tol * t.abs());
            *w = Window {
                components: vec![0.0; means.len()],
                ..Window::default()
            };
            self.evaluations += 1;
            if reached || self.seg_steps >= c.segment_steps {
                self.best = self.best.max(true_reward);
                nm.tell(-true_reward)?;
                self.seg_steps = 0;
                self.point = match nm.ask() {
                    Some(x) => x,
                    None => nm.best().map(|(x, _)| x.to_vec()).unwrap_or_default(),
                };
            }
        }
        Ok(vec![
            ("nm_evaluations".into(), self.evaluations as f64),
            ("nm_best_true_reward".into(), self.best),
            ("nm_iterations".into(), nm.iterations() as f64),
            ("nm_converged".into(), f64::from(u8::from(nm.converged()))),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{run, RunConfig};
    use crate::testbed::TestBedKind;

    fn config(steps: usize) -> RunConfig {
        let mut c = RunConfig {
            trainer: NmPpo::NAME.into(),
            testbed: TestBedKind::Proxies,
            eval_samples: 20,
            ..RunConfig::default()
        };
        c.edit_trainer_config::<NmPpo>(|k| {
            k.constrained.group.steps = steps;
            k.constrained.group.group_size = 2;
            k.constrained.group.prompts_per_step = 2;
            k.segment_steps = 2;
            k.eval_every = 1;
        })
        .unwrap();
        c
    }

    /// The thresholds move from segment to segment, starting inside the
    /// simplex box and the evaluations are counted.
    #[test]
    fn thresholds_follow_the_simplex_search() {
        duality_core::tensor::tch::set_num_threads(1);
        let log = run(&config(12)).unwrap().log;
        assert_eq!(log.trainer, "nm-ppo");
        let thetas: Vec<f64> = log.entries.iter().map(|e| e.metrics["theta_0"]).collect();
        assert!(thetas[0] > 0.0 && thetas[0] <= 1.0, "{thetas:?}");
        let distinct = thetas.windows(2).filter(|w| w[0] != w[1]).count();
        assert!(distinct >= 3, "{thetas:?}");
        assert!(log.last("nm_evaluations").unwrap() >= 6.0);
        assert!(log.last("nm_best_true_reward").unwrap().is_finite());
    }

    #[test]
    fn bad_settings_name_the_field() {
        let e = NmPpo::new(NmPpoConfig {
            eval_every: 20,
            ..NmPpoConfig::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("eval_every"), "{e}");
        let e = NmPpo::new(NmPpoConfig {
            reach_tol: 1.5,
            ..NmPpoConfig::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("reach_tol"), "{e}");
        let mut c = config(2);
        c.edit_trainer_config::<NmPpo>(|k| k.simplex_high = vec![0.9])
            .unwrap();
        let e = run(&c).unwrap_err().to_string();
        assert!(e.contains("simplex_high"), "{e}");
    }
}
