//! # duality-align — preference alignment on tch
//!
//! - [`logprob`]: sequence log-probabilities from logits and a completion mask;
//! - [`loss`]: the DPO family (DPO, conservative DPO, IPO, SLiC, robust DPO,
//!   SimPO, ORPO): a [`LossConfig`](loss::LossConfig) checked once into a
//!   [`Loss`](loss::Loss) behind the [`PreferenceLoss`](loss::PreferenceLoss)
//!   trait, with implicit-reward metrics;
//! - [`policy`]: tiny GRU / causal-transformer policies with seeded sampling
//!   and frozen reference copies;
//! - [`testbed`]: tasks, rewards and oracles (hidden reward, Bradley-Terry,
//!   cyclic, CountDown), offline preference generators, and the
//!   [`TestBed`](testbed::TestBed) trait pairing a task with its judge and
//!   evaluation;
//! - [`train`]: one [`Trainer`](train::Trainer) per method — offline
//!   DPO-family, Curry-DPO, online IPO / IPO-MD / Nash-MD, DNO, HyPO,
//!   reward-model RLHF, constrained RLHF, group-relative REINFORCE (GRPO,
//!   OPMD, AsymRE) on stale samples, KTO — and the registry that names them;
//! - [`evaluate`]: win rate against the reference, true reward, KL;
//! - [`limits`]: size and hyper-parameter limits checked before allocating
//!   or training;
//! - [`run`]: one registered trainer on one test bed from a TOML config (the
//!   CLI's `align train`).
//!
//! Always needs libtorch (through `duality-core`'s `torch` feature).
//!
//! ```
//! use duality_align::prelude::*;
//!
//! duality_align::tch::set_num_threads(1);
//! let mut config = RunConfig::for_trainer::<Kto>(&KtoConfig { beta: 0.5, epochs: 2, ..KtoConfig::default() })?;
//! config.eval_samples = 100;
//! let report = duality_align::run(&config)?;
//! assert_eq!(report.trainer, "kto");
//! assert!(duality_align::train::trainers()?.iter().any(|t| t.name == "group"));
//! # Ok::<(), duality_core::Error>(())
//! ```

pub mod evaluate;
#[cfg(feature = "experiments")]
pub mod experiments;
pub mod limits;
pub mod logprob;
pub mod loss;
pub mod policy;
pub mod run;
pub mod testbed;
mod throughput;
pub mod train;
mod util;

/// Re-export of the tch version this crate is built on.
pub use duality_core::tensor::tch;

pub use run::{run, run_trained, RunConfig, RunReport, TrainedRun};
pub use throughput::dpo_steps_per_second;
pub use train::{find_trainer, trainers, TrainContext, TrainLog, Trainer};

/// The most used items.
pub mod prelude {
    pub use crate::evaluate::{kl_to_reference, mean_reward, win_rate, Estimate};
    pub use crate::logprob::{sequence_log_probs, SequenceLogProbs};
    pub use crate::loss::{
        loss_values, pair_metrics, Loss, LossConfig, LossKind, PairLogProbs, PairMetrics,
        PreferenceLoss,
    };
    pub use crate::policy::{Architecture, Policy, PolicyConfig, SamplingConfig};
    pub use crate::run::{run, RunConfig, RunReport};
    pub use crate::testbed::{
        BradleyTerryOracle, CountDown, CountDownBed, CyclicBed, CyclicOracle, HiddenRewardBed,
        HiddenRewardTask, PreferenceOracle, PreferencePair, ProxiesBed, RankedResponses, RewardFn,
        Task, TestBed, TestBedKind,
    };
    pub use crate::train::kto::{Kto, KtoConfig};
    pub use crate::train::offline::{Offline, OfflineConfig};
    pub use crate::train::{DataSpec, Observer, TrainContext, TrainLog, Trainer};
}
