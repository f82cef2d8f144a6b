//! # duality-align — preference alignment on tch
//!
//! Will hold (see `docs/papers.md`): sequence log-probabilities from a
//! policy and a frozen reference, the DPO family of losses (DPO, conservative
//! DPO, IPO, SLiC, robust DPO, SimPO, ORPO), Curry-DPO, online IPO / IPO-MD /
//! Nash-MD, Direct Nash Optimization, HyPO, constrained RLHF with Lagrange
//! multipliers, group-relative REINFORCE (GRPO, OPMD, AsymRE), Bradley-Terry
//! reward models, and CPU-sized test beds with hidden ground truth.
//!
//! Always needs libtorch (through `duality-core`'s `torch` feature).

/// Re-export of the tch version this crate is built on.
pub use duality_core::tensor::tch;
