//! Offline DPO-family training on a fixed set of preference pairs
//! (Rafailov et al. 2023, Algorithm: minimise Eq. 7 by minibatch SGD, with
//! any [`LossConfig`] of the family), evaluated each epoch.

use duality_core::progress::Progress;
use duality_core::seed::Seeder;
use duality_core::tensor::OptimizerConfig;
use duality_core::Result;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::{finite_loss, pair_log_probs, positive_count, PairBatch, StepHook, TrainLog};
use crate::loss::{pair_metrics, LossConfig, PreferenceLoss};
use crate::policy::Policy;
use crate::testbed::PreferencePair;

/// Offline trainer settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OfflineConfig {
    /// The loss.
    pub loss: LossConfig,
    /// Passes over the data (>= 1).
    pub epochs: usize,
    /// Pairs per step (>= 1).
    pub batch_size: usize,
    /// Optimizer.
    pub optimizer: OptimizerConfig,
    /// Seed of the data order.
    pub seed: u64,
}

impl Default for OfflineConfig {
    fn default() -> Self {
        OfflineConfig {
            loss: LossConfig::default(),
            epochs: 5,
            batch_size: 32,
            optimizer: OptimizerConfig::adam(1e-2),
            seed: 0,
        }
    }
}

impl OfflineConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        self.loss.validate()?;
        positive_count("epochs", self.epochs)?;
        positive_count("batch_size", self.batch_size)?;
        duality_core::config::Validate::validate(&self.optimizer)
    }
}

/// Trains `policy` on `train` against the frozen `reference`; after each
/// epoch logs the loss metrics on `eval` (or `train` when `eval` is empty).
/// Log steps are epochs (1-based); metrics: loss, accuracy, margin,
/// chosen_reward, rejected_reward, train_loss.
pub fn train_offline(
    policy: &mut Policy,
    reference: &Policy,
    train: &[PreferencePair],
    eval: &[PreferencePair],
    config: &OfflineConfig,
) -> Result<TrainLog> {
    train_offline_observed(policy, reference, train, eval, config, &mut |_, _| Ok(()))
}

/// [`train_offline`] calling `observe(epoch, policy)` after every epoch.
pub fn train_offline_observed(
    policy: &mut Policy,
    reference: &Policy,
    train: &[PreferencePair],
    eval: &[PreferencePair],
    config: &OfflineConfig,
    observe: StepHook<'_>,
) -> Result<TrainLog> {
    config.validate()?;
    duality_core::check::non_empty("training pairs", train)?;
    let mut opt = config.optimizer.build(policy.var_store())?;
    let mut rng = Seeder::new(config.seed).named("offline-order").rng(0);
    let steps_per_epoch = train.len().div_ceil(config.batch_size);
    let progress = Progress::new((config.epochs * steps_per_epoch) as u64, "offline");
    let mut log = TrainLog::new(format!("offline-{}", config.loss.kind.name()));
    let eval_set = if eval.is_empty() { train } else { eval };
    let eval_refs: Vec<&PreferencePair> = eval_set.iter().collect();
    let eval_batch = PairBatch::new(&eval_refs)?;
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut step = 0;
    for epoch in 1..=config.epochs {
        order.shuffle(&mut rng);
        let mut total = 0.0;
        for chunk in order.chunks(config.batch_size) {
            let refs: Vec<&PreferencePair> = chunk.iter().map(|&i| &train[i]).collect();
            let batch = PairBatch::new(&refs)?;
            let pairs = pair_log_probs(policy, reference, &batch)?;
            let loss = config.loss.loss(&pairs)?;
            total += finite_loss(step, &loss)?;
            opt.backward_step(&loss);
            step += 1;
            progress.inc(1);
        }
        let m = {
            let _g = duality_core::tensor::tch::no_grad_guard();
            pair_metrics(
                &config.loss,
                &pair_log_probs(policy, reference, &eval_batch)?,
            )?
        };
        log.push(
            epoch,
            &[
                ("train_loss", total / steps_per_epoch as f64),
                ("loss", m.loss),
                ("accuracy", m.accuracy),
                ("margin", m.margin),
                ("chosen_reward", m.chosen_reward),
                ("rejected_reward", m.rejected_reward),
            ],
        );
        observe(epoch, policy)?;
    }
    progress.finish();
    Ok(log)
}
