//! # duality-distdp — distributional dynamic programming
//!
//! Will hold (see `docs/papers.md`): finite MDPs, return-distribution
//! representations (exact, categorical, quantile), distributional policy
//! evaluation, stock augmentation with distributional value and policy
//! iteration for objectives on the return distribution (expected utility,
//! CVaR, threshold reaching, homeostatic regulation), exact baselines
//! (value/policy iteration, the primal/dual LP of an MDP), and optimal
//! stopping by least-squares Monte Carlo with a binomial-lattice oracle.
//!
//! The tabular parts build without libtorch; deep variants sit behind the
//! `torch` feature.
