//! # duality-align — preference alignment on tch
//!
//! - [`logprob`]: sequence log-probabilities from logits and a completion mask;
//! - [`loss`]: the DPO family (DPO, conservative DPO, IPO, SLiC, robust DPO,
//!   SimPO, ORPO) behind the [`PreferenceLoss`](loss::PreferenceLoss) trait,
//!   with implicit-reward metrics;
//! - [`policy`]: tiny GRU / causal-transformer policies with seeded sampling
//!   and frozen reference copies;
//! - [`testbed`]: hidden-reward sequence task, Bradley-Terry and cyclic
//!   oracles, CountDown arithmetic, offline preference generators;
//! - [`train`]: offline DPO-family, Curry-DPO, online IPO / IPO-MD / Nash-MD,
//!   DNO, HyPO, Bradley-Terry reward models, constrained RLHF, and
//!   group-relative REINFORCE (GRPO, OPMD, AsymRE) on stale samples;
//! - [`evaluate`]: win rate against the reference, true reward, KL;
//! - [`run`]: one trainer on one test bed from a TOML config (the CLI's `align train`).
//!
//! Always needs libtorch (through `duality-core`'s `torch` feature).

#[cfg(feature = "experiments")]
pub mod experiments;
pub mod evaluate;
pub mod logprob;
pub mod loss;
pub mod policy;
pub mod run;
pub mod testbed;
pub mod throughput;
pub mod train;
mod util;

/// Re-export of the tch version this crate is built on.
pub use duality_core::tensor::tch;

/// The most used items.
pub mod prelude {
    pub use crate::evaluate::{kl_to_reference, mean_reward, win_rate, Estimate};
    pub use crate::logprob::{sequence_log_probs, SequenceLogProbs};
    pub use crate::loss::{
        pair_metrics, LossConfig, LossKind, PairLogProbs, PairMetrics, PreferenceLoss,
    };
    pub use crate::policy::{Architecture, Policy, PolicyConfig, SamplingConfig};
    pub use crate::testbed::{
        BradleyTerryOracle, CountDown, CyclicOracle, HiddenRewardTask, PreferenceOracle,
        PreferencePair, RankedResponses, RewardFn, TestBed,
    };
    pub use crate::train::offline::{train_offline, OfflineConfig};
    pub use crate::train::TrainLog;
}
