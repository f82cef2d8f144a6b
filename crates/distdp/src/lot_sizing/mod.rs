//! Post-Decision PPO with dual critics on multi-item lot-sizing (issue 19,
//! item 2): Felizardo, Fadda, Nascimento, Brandimarte & Del-Moral-Hernandez,
//! "A Reinforcement Learning Method for Environments with Stochastic
//! Variables: Post-Decision Proximal Policy Optimization with Dual Critic
//! Networks" (2025).
//!
//! **Source followed.** Only the paper's abstract is available here; the
//! algorithm follows the authors' public code, `leokan92/pdppo`
//! (`code/Lot-sizing/agents/PDPPO.py`, `PPO.py`, `envs/simplePlant.py`,
//! `scenarioManager/stochasticDemandModel.py`):
//!
//! - [`env`]: the lot-sizing plant (`SimplePlant`): machines choose an item
//!   to produce or stay idle, setup costs and setup losses on a change,
//!   lost sales, holding costs, inventory caps, binomial demand. A period
//!   splits into a deterministic step to the **post-decision state**
//!   (inventory after production, setups after the decision) and a random
//!   step (demand) to the next state.
//! - `ppo` (feature `torch`): PPO (Schulman et al. 2017, clipped surrogate
//!   eq. (7), GAE of Schulman et al. 2016 eq. (16)) with a factored
//!   categorical policy (one softmax per machine, a clipped ratio per
//!   machine, as the authors' code), and **PDPPO**: a second critic on the
//!   post-decision state, learning the return of the post-decision rewards
//!   (the deterministic part of the reward: minus the setup cost); the actor
//!   uses the larger of the two critics' advantages,
//!   `A_t = max(A^s_t, A^x_t)`, as the authors' later `PDPPO.py` (lot-sizing
//!   and frozen-lake agents alike).

pub mod env;
#[cfg(all(feature = "experiments", feature = "torch"))]
pub(crate) mod experiment;
#[cfg(feature = "torch")]
pub mod ppo;
#[cfg(test)]
mod tests;

pub use env::{LotSizing, LotSizingConfig, LotState, PeriodCost, PostDecision, Transition};
#[cfg(feature = "torch")]
pub use ppo::{train, train_on, Algo, LotPolicy, PpoFit, PpoParams};
