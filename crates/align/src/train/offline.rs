//! Offline DPO-family training on a fixed set of preference pairs
//! (Rafailov et al. 2023, Algorithm: minimise Eq. 7 by minibatch SGD, with
//! any [`LossConfig`] of the family), evaluated each epoch.

use duality_core::config::Validate;
use duality_core::progress::Progress;
use duality_core::seed::Seeder;
use duality_core::tensor::OptimizerConfig;
use duality_core::Result;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::{
    finite_loss, notify, pair_log_probs, positive_count, Observer, PairBatch, TrainContext,
    TrainLog, Trainer,
};
use crate::loss::{pair_metrics, Loss, LossConfig};
use crate::policy::Policy;
use crate::testbed::PreferencePair;

/// Offline trainer settings (the `[offline]` section).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
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

impl Validate for OfflineConfig {
    fn validate(&self) -> Result<()> {
        self.loss.validate()?;
        positive_count("epochs", self.epochs)?;
        positive_count("batch_size", self.batch_size)?;
        self.optimizer.validate()
    }
}

/// Offline DPO-family training (registry name `offline`): on the run's
/// offline pairs ([`TrainContext::offline_pairs`]) or on given pairs
/// ([`Offline::train_on`]). Log steps are epochs (1-based); metrics: loss,
/// accuracy, margin, chosen_reward, rejected_reward (on the evaluation
/// pairs, or the training pairs when there are none), train_loss.
#[derive(Debug, Clone)]
pub struct Offline {
    config: OfflineConfig,
    loss: Loss,
}

impl Trainer for Offline {
    const NAME: &'static str = "offline";
    const ABOUT: &'static str =
        "offline DPO family (DPO, cDPO, IPO, SLiC, rDPO, SimPO, ORPO) on generated pairs (Rafailov et al. 2023)";
    const OBSERVED: bool = true;
    type Config = OfflineConfig;

    fn new(config: OfflineConfig) -> Result<Self> {
        config.validate()?;
        let loss = config.loss.check()?;
        Ok(Offline { config, loss })
    }

    fn config(&self) -> &OfflineConfig {
        &self.config
    }

    fn train(&self, ctx: &mut TrainContext<'_>) -> Result<TrainLog> {
        let pairs = ctx.offline_pairs()?;
        self.train_on(ctx, &pairs, &[])
    }
}

impl Offline {
    /// The validated loss.
    pub fn loss(&self) -> &Loss {
        &self.loss
    }

    /// Trains on `train`, logging metrics on `eval` (or `train` when empty).
    pub fn train_on(
        &self,
        ctx: &mut TrainContext<'_>,
        train: &[PreferencePair],
        eval: &[PreferencePair],
    ) -> Result<TrainLog> {
        let seed = ctx.trainer_seed(self.config.seed);
        self.fit(
            ctx.policy,
            ctx.reference,
            train,
            eval,
            seed,
            &mut ctx.observer,
        )
    }

    /// The training loop against an explicit reference and order seed
    /// (Curry-DPO swaps the reference between stages).
    pub(crate) fn fit(
        &self,
        policy: &mut Policy,
        reference: &Policy,
        train: &[PreferencePair],
        eval: &[PreferencePair],
        seed: u64,
        observer: &mut Option<&mut dyn Observer>,
    ) -> Result<TrainLog> {
        let config = &self.config;
        duality_core::check::non_empty("training pairs", train)?;
        crate::logprob::check_same_vocab(policy.vocab(), reference.vocab())?;
        let mut opt = config.optimizer.build(policy.var_store())?;
        let mut rng = Seeder::new(seed).named("offline-order").rng(0);
        let steps_per_epoch = train.len().div_ceil(config.batch_size);
        let progress = Progress::new((config.epochs * steps_per_epoch) as u64, "offline");
        let mut log = TrainLog::new(format!("offline-{}", config.loss.kind));
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
                let loss = self.loss.batch_loss(&pairs)?;
                total += finite_loss(step, &loss)?;
                opt.backward_step(&loss);
                step += 1;
                progress.inc(1);
            }
            let m = {
                let _g = duality_core::tensor::tch::no_grad_guard();
                pair_metrics(&self.loss, &pair_log_probs(policy, reference, &eval_batch)?)?
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
            notify(observer, epoch, policy)?;
        }
        progress.finish();
        Ok(log)
    }
}
