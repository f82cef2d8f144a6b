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

use super::reference_cache::ReferenceLogProbs;
use super::{
    finite_loss, notify, pair_log_probs, positive_count, Observer, PairBatch, TrainContext,
    TrainLog, Trainer,
};
use crate::loss::{pair_metrics, Loss, LossConfig, PairLogProbs};
use crate::policy::Policy;
use crate::testbed::{full_mask, PreferencePair};

/// Fails when a trainer that embeds [`OfflineConfig`] but cannot use a
/// reference cache (`trainer`) is given one.
pub(crate) fn refuse_reference_cache(trainer: &str, config: &OfflineConfig) -> Result<()> {
    if config.reference_cache.is_empty() {
        Ok(())
    } else {
        Err(duality_core::Error::config(
            "offline.reference_cache",
            format!("{trainer} does not read cached reference log-probs (only the offline trainer does)"),
        ))
    }
}

/// Policy log-probs of a batch with the reference's from `cache` (rows
/// `idx` of the training pairs), as [`super::pair_log_probs`] returns them.
fn cached_pair_log_probs(
    policy: &Policy,
    batch: &PairBatch,
    cache: &ReferenceLogProbs,
    idx: &[usize],
) -> Result<PairLogProbs> {
    let b = batch.chosen.size()[0] as usize;
    let mc = full_mask(b, batch.chosen.size()[1] as usize);
    let mr = full_mask(b, batch.rejected.size()[1] as usize);
    let pc = policy.completion_log_probs(&batch.prompts, &batch.chosen, &mc)?;
    let pr = policy.completion_log_probs(&batch.prompts, &batch.rejected, &mr)?;
    let (rc, rr) = cache.gather(idx, policy.var_store().device())?;
    Ok(PairLogProbs::new(pc.sum, pr.sum, rc, rr).with_tokens(pc.tokens, pr.tokens))
}

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
    /// File of cached reference log-probs of the training pairs
    /// ([`ReferenceLogProbs`]; empty: none, the reference runs every step).
    /// Read when it exists (and refused unless made for these pairs and
    /// this reference), else computed once and written. Used by the
    /// `offline` trainer only (Curry-DPO changes its reference between
    /// stages, HyPO refuses it).
    pub reference_cache: String,
}

impl Default for OfflineConfig {
    fn default() -> Self {
        OfflineConfig {
            loss: LossConfig::default(),
            epochs: 5,
            batch_size: 32,
            optimizer: OptimizerConfig::adam(1e-2),
            seed: 0,
            reference_cache: String::new(),
        }
    }
}

impl Validate for OfflineConfig {
    fn validate(&self) -> Result<()> {
        self.loss.validate()?;
        positive_count("epochs", self.epochs)?;
        positive_count("batch_size", self.batch_size)?;
        crate::limits::check_optimizer("optimizer", &self.optimizer)
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
        let cache = if self.config.reference_cache.is_empty() {
            None
        } else {
            let path = std::path::Path::new(&self.config.reference_cache);
            let (c, _computed) = ReferenceLogProbs::load_or_compute(
                path,
                ctx.reference,
                train,
                self.config.batch_size,
            )?;
            Some(c)
        };
        self.fit_cached(
            ctx.policy,
            ctx.reference,
            train,
            eval,
            seed,
            cache.as_ref(),
            &mut ctx.observer,
        )
    }

    /// [`Offline::train_on`] with reference log-probs of `train` taken from
    /// `cache` (checked against the pairs and `ctx`'s reference) instead of
    /// the reference's forward passes.
    pub fn train_on_cached(
        &self,
        ctx: &mut TrainContext<'_>,
        train: &[PreferencePair],
        cache: &ReferenceLogProbs,
    ) -> Result<TrainLog> {
        cache.check_matches("reference cache", ctx.reference, train)?;
        let seed = ctx.trainer_seed(self.config.seed);
        self.fit_cached(
            ctx.policy,
            ctx.reference,
            train,
            &[],
            seed,
            Some(cache),
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
        self.fit_cached(policy, reference, train, eval, seed, None, observer)
    }

    /// The training loop; with `cache`, the reference log-probs of `train`
    /// (and of the evaluation set when it is `train`) come from it.
    #[allow(clippy::too_many_arguments)]
    fn fit_cached(
        &self,
        policy: &mut Policy,
        reference: &Policy,
        train: &[PreferencePair],
        eval: &[PreferencePair],
        seed: u64,
        cache: Option<&ReferenceLogProbs>,
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
                let pairs = match cache {
                    Some(c) => cached_pair_log_probs(policy, &batch, c, chunk)?,
                    None => pair_log_probs(policy, reference, &batch)?,
                };
                let loss = self.loss.batch_loss(&pairs)?;
                total += finite_loss(step, &loss)?;
                opt.backward_step(&loss);
                step += 1;
                progress.inc(1);
            }
            let m = {
                let _g = duality_core::tensor::tch::no_grad_guard();
                let pairs = match cache {
                    Some(c) if eval.is_empty() => {
                        let all: Vec<usize> = (0..train.len()).collect();
                        cached_pair_log_probs(policy, &eval_batch, c, &all)?
                    }
                    _ => pair_log_probs(policy, reference, &eval_batch)?,
                };
                pair_metrics(&self.loss, &pairs)?
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
