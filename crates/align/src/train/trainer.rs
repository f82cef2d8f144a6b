//! The [`Trainer`] trait and the [`TrainContext`] every trainer runs in.

use duality_core::config::Validate;
use duality_core::seed::{DualityRng, Seeder};
use duality_core::tensor::tch::Device;
use duality_core::{Error, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::TrainLog;
use crate::policy::Policy;
use crate::testbed::{offline_pairs, ranked_responses, PreferencePair, RankedResponses, TestBed};

/// A training method: a name in the registry, a config section, and a
/// `train` that updates the context's policy.
///
/// A trainer is built from its config by [`Trainer::new`], which validates
/// the config once; `train` then never re-checks it. The run config names
/// a trainer by [`Trainer::NAME`] (`trainer = "offline"`) and holds its
/// config under the same key (`[offline]`).
///
/// ```
/// use duality_align::prelude::*;
///
/// # fn main() -> duality_core::Result<()> {
/// duality_align::tch::set_num_threads(1);
/// let bed = HiddenRewardBed::new(HiddenRewardTask::easy(0), 4.0)?;
/// let mut policy = Policy::new(&PolicyConfig::gru(bed.vocab()), 7)?;
/// let reference = policy.frozen_copy()?;
/// let config = OfflineConfig { epochs: 2, ..OfflineConfig::default() };
/// let trainer = Offline::new(config)?;
/// let mut steps = Vec::new();
/// let mut watch = |step: usize, _: &Policy| -> duality_core::Result<()> {
///     steps.push(step);
///     Ok(())
/// };
/// let mut ctx = TrainContext::new(&mut policy, &reference, &bed)?
///     .with_data(DataSpec { pairs: 64, ..DataSpec::default() })
///     .with_observer(&mut watch);
/// let log = trainer.train(&mut ctx)?;
/// assert_eq!(log.entries.len(), 2);
/// assert_eq!(steps, [1, 2]);
/// # Ok(())
/// # }
/// ```
pub trait Trainer: Sized {
    /// Registry name: `trainer = "NAME"` in a run config, the key of its
    /// config section, and a row of `duality align trainers`.
    const NAME: &'static str;
    /// One line on what it does, with the paper.
    const ABOUT: &'static str;
    /// Whether `train` reports its logged steps to the context's
    /// [`Observer`] (so that a run can trace win rate along training).
    const OBSERVED: bool;
    /// Its settings, as written in the `[NAME]` section of a run config.
    type Config: Clone + Default + Serialize + DeserializeOwned + Validate;

    /// Builds the trainer, validating `config` once.
    fn new(config: Self::Config) -> Result<Self>;

    /// The (validated) settings.
    fn config(&self) -> &Self::Config;

    /// Trains `ctx`'s policy; data come from the context's test bed.
    fn train(&self, ctx: &mut TrainContext<'_>) -> Result<TrainLog>;
}

/// Something told `(step, current policy)` after each of a trainer's logged
/// steps (epochs of the offline trainers, optimizer steps of the online
/// ones), e.g. to trace win rate against training step. It must not touch
/// the policy's weights; an error stops training and is returned. Any
/// `FnMut(usize, &Policy) -> Result<()>` is one.
pub trait Observer {
    /// Called after logged step `step` (1-based) with the current policy.
    fn observe(&mut self, step: usize, policy: &Policy) -> Result<()>;
}

impl<F: FnMut(usize, &Policy) -> Result<()>> Observer for F {
    fn observe(&mut self, step: usize, policy: &Policy) -> Result<()> {
        self(step, policy)
    }
}

/// Calls `observer` if there is one.
pub(crate) fn notify(
    observer: &mut Option<&mut dyn Observer>,
    step: usize,
    policy: &Policy,
) -> Result<()> {
    match observer {
        Some(o) => o.observe(step, policy),
        None => Ok(()),
    }
}

/// How much data trainers that generate their own draw from the test bed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DataSpec {
    /// Offline preference pairs (>= 1).
    pub pairs: usize,
    /// Share of the vocabulary the offline behaviour policy uses, in (0, 1].
    pub coverage: f64,
    /// Prompts with ranked responses (>= 1).
    pub ranked_prompts: usize,
    /// Ranked responses per prompt (>= 2).
    pub responses_per_prompt: usize,
}

impl Default for DataSpec {
    fn default() -> Self {
        DataSpec {
            pairs: 256,
            coverage: 1.0,
            ranked_prompts: 64,
            responses_per_prompt: 4,
        }
    }
}

/// What a trainer works on: the policy it updates, the frozen reference,
/// the test bed, a seed and a random stream for data, and an optional
/// observer. Build one with [`TrainContext::new`] and the `with_*` methods.
pub struct TrainContext<'a> {
    pub(super) policy: &'a mut Policy,
    pub(super) reference: &'a Policy,
    pub(super) bed: &'a dyn TestBed,
    pub(super) observer: Option<&'a mut dyn Observer>,
    data: DataSpec,
    data_rng: DualityRng,
    seed: u64,
}

impl<'a> TrainContext<'a> {
    /// A context over `policy`, its frozen `reference` and `bed` (all three
    /// must share one vocabulary), with seed 0, the default [`DataSpec`],
    /// a data stream seeded from 0 and no observer.
    pub fn new(
        policy: &'a mut Policy,
        reference: &'a Policy,
        bed: &'a dyn TestBed,
    ) -> Result<Self> {
        crate::logprob::check_same_vocab(policy.vocab(), reference.vocab())?;
        if bed.vocab() != policy.vocab() {
            return Err(Error::invalid(
                "test bed vocabulary",
                bed.vocab(),
                format!("the policy's vocabulary {}", policy.vocab()),
            ));
        }
        Ok(TrainContext {
            policy,
            reference,
            bed,
            observer: None,
            data: DataSpec::default(),
            data_rng: Seeder::new(0).named("data").rng(0),
            seed: 0,
        })
    }

    /// Mixes `seed` into every trainer seed (see [`TrainContext::trainer_seed`]).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets how much data the bed's generators draw.
    pub fn with_data(mut self, data: DataSpec) -> Self {
        self.data = data;
        self
    }

    /// Sets the random stream the data are drawn from.
    pub fn with_data_rng(mut self, rng: DualityRng) -> Self {
        self.data_rng = rng;
        self
    }

    /// Reports every logged step to `observer`.
    pub fn with_observer(mut self, observer: &'a mut dyn Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The policy being trained.
    pub fn policy(&self) -> &Policy {
        self.policy
    }

    /// The frozen reference.
    pub fn reference(&self) -> &Policy {
        self.reference
    }

    /// The test bed.
    pub fn bed(&self) -> &dyn TestBed {
        self.bed
    }

    /// Where the policy's tensors live.
    pub fn device(&self) -> Device {
        self.policy.var_store().device()
    }

    /// The data sizes.
    pub fn data(&self) -> DataSpec {
        self.data
    }

    /// The seed a trainer uses for its own streams: its config's `seed`
    /// XOR the context's seed, so one run seed moves every trainer stream
    /// while a config seed still selects among them.
    pub fn trainer_seed(&self, config_seed: u64) -> u64 {
        config_seed ^ self.seed
    }

    /// Tells the observer (if any) that logged step `step` is done.
    pub fn observe(&mut self, step: usize) -> Result<()> {
        notify(&mut self.observer, step, self.policy)
    }

    /// [`DataSpec::pairs`] offline pairs from the bed's behaviour policy
    /// with [`DataSpec::coverage`], labelled by its oracle
    /// ([`offline_pairs`]; gaps from its reward, 0 without one).
    pub fn offline_pairs(&mut self) -> Result<Vec<PreferencePair>> {
        let bed = self.bed;
        offline_pairs(
            bed,
            bed.oracle(),
            bed.reward(),
            self.data.pairs,
            self.data.coverage,
            &mut self.data_rng,
        )
    }

    /// [`DataSpec::responses_per_prompt`] uniform responses for each of
    /// [`DataSpec::ranked_prompts`] prompts, ranked by the bed's reward
    /// (an error naming `trainer` on a bed without one).
    pub fn ranked_responses(&mut self, trainer: &str) -> Result<Vec<RankedResponses>> {
        let bed = self.bed;
        let reward = bed.reward().ok_or_else(|| {
            Error::config(
                "testbed",
                format!("{trainer} needs a scored test bed (one with a reward; not cyclic)"),
            )
        })?;
        ranked_responses(
            bed,
            reward,
            self.data.ranked_prompts,
            self.data.responses_per_prompt,
            &mut self.data_rng,
        )
    }
}
