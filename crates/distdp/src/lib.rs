//! # duality-distdp — distributional dynamic programming
//!
//! Implements "Optimizing Return Distributions with Distributional Dynamic
//! Programming" (Pires, Rowland, Borsa et al., 2025) on finite MDPs, with its
//! exact baselines and an optimal-stopping application:
//!
//! - [`mdp`]: finite MDPs with finite-support rewards, validation, TOML/JSON
//!   loading and an instance library (chain, cliff, gambling, random);
//! - [`dist`]: return-distribution representations behind one trait
//!   ([`dist::ReturnDistribution`]): exact, categorical (Cramér projection),
//!   quantile (W1 projection), with mean/variance/VaR/CVaR/expected utility and
//!   W1/Cramér/KS distances;
//! - [`evaluation`]: distributional policy evaluation with projection;
//! - [`stock`]: stock augmentation, distributional value and policy iteration
//!   over (state, stock), objectives (expectation, expected utility, CVaR via
//!   Rockafellar-Uryasev, threshold probability, homeostatic regulation);
//! - [`classic`]: value iteration, policy iteration, policy evaluation;
//! - [`lp`]: the primal (values) and dual (occupancy) LPs of an MDP solved by
//!   an exact simplex;
//! - [`stopping`]: Longstaff-Schwartz least-squares Monte Carlo for
//!   Bermudan/American puts with a CRR binomial-lattice oracle and
//!   Black-Scholes European prices.
//!
//! The tabular parts build without libtorch; deep variants (stock-augmented
//! QR/C51 DQN) belong behind the `torch` feature and are not implemented yet.

#[cfg(feature = "experiments")]
pub mod experiments;
pub mod classic;
pub mod dist;
pub mod evaluation;
pub mod lp;
pub mod mdp;
pub mod stock;
pub mod stopping;

/// The most used items.
pub mod prelude {
    pub use crate::classic::{policy_iteration, value_iteration, IterParams, Solution};
    pub use crate::dist::{
        Categorical, FiniteSupport, Quantiles, Representation, ReturnDistribution,
    };
    pub use crate::evaluation::{evaluate, DistEvaluation, MarkovPolicy};
    pub use crate::lp::{solve_mdp_lp, MdpLpSolution};
    pub use crate::mdp::{library, FiniteMdp, Outcome};
    pub use crate::stock::{
        distributional_policy_iteration, distributional_value_iteration, optimize_cvar_exact,
        optimize_cvar_grid, rollout_returns, solve_exact, AugmentedPolicy, Objective, StockGrid,
        Utility,
    };
    pub use crate::stopping::{
        binomial_price, black_scholes_put, lsmc_price, Basis, Exercise, LsmcParams, McPrice,
        PutOption,
    };
}
