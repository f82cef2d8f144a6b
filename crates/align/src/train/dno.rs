//! Direct Nash Optimization (Rosset et al. 2024, Algorithm 1): batched
//! on-policy iterations with a general preference oracle.
//!
//! Iteration t: sample K responses per prompt from pi_t; estimate each
//! response's win rate against pi_t, r_t(y) = mean_{y' != y} P(y ≻ y'); then
//! solve the regression objective (Alg. 1, line 6)
//!   max_pi E[ sigma(r_t(y1) - r_t(y2)) log sigma(eta h) + sigma(r_t(y2) - r_t(y1)) log sigma(-eta h) ],
//!   h = log pi(y1)/pi_t(y1) - log pi(y2)/pi_t(y2),
//! over all response pairs, by a few epochs of minibatch Adam, and set pi_{t+1} = pi.

use duality_core::config::Validate;
use duality_core::progress::Progress;
use duality_core::seed::Seeder;
use duality_core::tensor::tch::{Kind, Tensor};
use duality_core::tensor::OptimizerConfig;
use duality_core::Result;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::{finite_loss, positive_count, PairBatch, TrainContext, TrainLog, Trainer};
use crate::policy::{Policy, SamplingConfig};
use crate::testbed::{sigmoid, tensor_rows, token_tensor, PreferenceOracle, PreferencePair, Task};

/// DNO settings (the `[dno]` section).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DnoConfig {
    /// Outer iterations T.
    pub iterations: usize,
    /// Prompts per iteration.
    pub prompts: usize,
    /// Responses per prompt K (>= 2).
    pub samples_per_prompt: usize,
    /// Inverse temperature eta of the regression (> 0).
    pub eta: f64,
    /// Epochs over the iteration's pairs.
    pub epochs: usize,
    /// Pairs per minibatch.
    pub batch_size: usize,
    /// Optimizer (rebuilt every iteration).
    pub optimizer: OptimizerConfig,
    /// Sampling.
    pub sampling: SamplingConfig,
    /// Seed.
    pub seed: u64,
}

impl Default for DnoConfig {
    fn default() -> Self {
        DnoConfig {
            iterations: 4,
            prompts: 32,
            samples_per_prompt: 4,
            eta: 1.0,
            epochs: 2,
            batch_size: 32,
            optimizer: OptimizerConfig::adam(1e-2),
            sampling: SamplingConfig::default(),
            seed: 0,
        }
    }
}

impl Validate for DnoConfig {
    fn validate(&self) -> Result<()> {
        positive_count("iterations", self.iterations)?;
        positive_count("prompts", self.prompts)?;
        duality_core::check::at_least("samples_per_prompt", self.samples_per_prompt, 2)?;
        duality_core::check::positive("eta", self.eta)?;
        positive_count("epochs", self.epochs)?;
        positive_count("batch_size", self.batch_size)?;
        crate::limits::check_optimizer("optimizer", &self.optimizer)
    }
}

/// Direct Nash Optimization (registry name `dno`) against the context's
/// test-bed oracle; the reference is not used (each iteration's anchor is
/// the previous policy). Log steps are iterations; metrics: loss (last
/// epoch mean), spread (mean |r_t(y1) - r_t(y2)| over pairs) and self_win
/// (the new policy's win rate against the iteration's anchor pi_t, mean
/// P(y ≻ y') over one y ~ pi_{t+1}, y' ~ pi_t per sampled prompt row, on its
/// own random stream so training is unchanged; above 1/2 means the
/// iteration improved on pi_t under the oracle). Not observed.
#[derive(Debug, Clone)]
pub struct Dno {
    config: DnoConfig,
}

impl Trainer for Dno {
    const NAME: &'static str = "dno";
    const ABOUT: &'static str =
        "Direct Nash Optimization: regression on self-play win rates under a general preference oracle (Rosset et al. 2024)";
    const OBSERVED: bool = false;
    type Config = DnoConfig;

    fn new(config: DnoConfig) -> Result<Self> {
        config.validate()?;
        Ok(Dno { config })
    }

    fn config(&self) -> &DnoConfig {
        &self.config
    }

    fn train(&self, ctx: &mut TrainContext<'_>) -> Result<TrainLog> {
        let seed = ctx.trainer_seed(self.config.seed);
        let bed = ctx.bed;
        train_dno(ctx.policy, bed, bed.oracle(), &self.config, seed)
    }
}

/// The DNO loop on `policy` with streams seeded by `seed`.
fn train_dno(
    policy: &mut Policy,
    bed: &(impl Task + ?Sized),
    oracle: &(impl PreferenceOracle + ?Sized),
    config: &DnoConfig,
    seed: u64,
) -> Result<TrainLog> {
    let seeder = Seeder::new(seed).named("dno");
    let self_win_seeder = Seeder::new(seed).named("dno-self-win");
    let progress = Progress::new(config.iterations as u64, "dno");
    let mut log = TrainLog::new("dno");
    let k = config.samples_per_prompt;
    let len = bed.completion_len();
    super::check_batch(
        policy,
        len,
        &[("prompts", config.prompts), ("samples_per_prompt", k)],
    )?;
    for it in 0..config.iterations {
        let mut rng = seeder.rng(it as u64);
        let anchor = policy.frozen_copy()?;
        let mut prompts = Vec::new();
        for _ in 0..config.prompts {
            let x = bed.sample_prompt(&mut rng);
            prompts.extend(std::iter::repeat_n(x, k));
        }
        let refs: Vec<&[i64]> = prompts.iter().map(|p| p.as_slice()).collect();
        let ys =
            tensor_rows(&anchor.sample(&token_tensor(&refs)?, len, config.sampling, &mut rng)?)?;
        // r_t(y_i): win rate against the other K-1 samples of its prompt.
        let mut pairs = Vec::new();
        let mut targets = Vec::new();
        let mut spread = 0.0;
        for g in 0..config.prompts {
            let base = g * k;
            let x = &prompts[base];
            let r: Vec<f64> = (0..k)
                .map(|i| {
                    (0..k)
                        .filter(|&j| j != i)
                        .map(|j| oracle.prob_prefer(x, &ys[base + i], &ys[base + j]))
                        .sum::<f64>()
                        / (k - 1) as f64
                })
                .collect();
            for i in 0..k {
                for j in i + 1..k {
                    pairs.push(PreferencePair {
                        prompt: x.clone(),
                        chosen: ys[base + i].clone(),
                        rejected: ys[base + j].clone(),
                        gap: r[i] - r[j],
                    });
                    targets.push(sigmoid(r[i] - r[j]));
                    spread += (r[i] - r[j]).abs();
                }
            }
        }
        let mut opt = config.optimizer.build(policy.var_store())?;
        let mut order: Vec<usize> = (0..pairs.len()).collect();
        let mut last = 0.0;
        for _ in 0..config.epochs {
            order.shuffle(&mut rng);
            let mut total = 0.0;
            let chunks = order.chunks(config.batch_size).count();
            for chunk in order.chunks(config.batch_size) {
                let refs: Vec<&PreferencePair> = chunk.iter().map(|&i| &pairs[i]).collect();
                let q: Vec<f64> = chunk.iter().map(|&i| targets[i]).collect();
                let q = Tensor::from_slice(&q).to_kind(Kind::Float);
                let batch = PairBatch::new(&refs)?;
                let lp = super::pair_log_probs(policy, &anchor, &batch)?;
                let r = lp.log_ratios()?;
                let z = (r.chosen - r.rejected) * config.eta;
                let loss = -(&q * z.log_sigmoid() + (-&q + 1.0) * (-z).log_sigmoid()).mean(None);
                total += finite_loss(it, &loss)?;
                opt.backward_step(&loss);
            }
            last = total / chunks as f64;
        }
        let self_win = {
            let _g = duality_core::tensor::tch::no_grad_guard();
            let mut rng = self_win_seeder.rng(it as u64);
            let x = token_tensor(&refs)?;
            let new = tensor_rows(&policy.sample(&x, len, config.sampling, &mut rng)?)?;
            let old = tensor_rows(&anchor.sample(&x, len, config.sampling, &mut rng)?)?;
            prompts
                .iter()
                .zip(new.iter().zip(&old))
                .map(|(x, (a, b))| oracle.prob_prefer(x, a, b))
                .sum::<f64>()
                / prompts.len().max(1) as f64
        };
        progress.inc(1);
        log.push(
            it + 1,
            &[
                ("loss", last),
                ("spread", spread / pairs.len().max(1) as f64),
                ("self_win", self_win),
            ],
        );
    }
    progress.finish();
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{run, RunConfig};

    /// `self_win` is logged every iteration as a probability, and logging
    /// it (its own stream) leaves training as it was: the loss and spread
    /// do not depend on it.
    #[test]
    fn self_win_is_logged_each_iteration() {
        duality_core::tensor::tch::set_num_threads(1);
        let mut c = RunConfig {
            trainer: Dno::NAME.into(),
            eval_samples: 20,
            ..RunConfig::default()
        };
        c.edit_trainer_config::<Dno>(|d| {
            d.iterations = 3;
            d.prompts = 8;
        })
        .unwrap();
        let log = run(&c).unwrap().log;
        assert_eq!(log.entries.len(), 3);
        for e in &log.entries {
            let w = e.metrics["self_win"];
            assert!((0.0..=1.0).contains(&w), "{w}");
        }
    }
}
