//! # duality-distdp — distributional dynamic programming
//!
//! Implements "Optimizing Return Distributions with Distributional Dynamic
//! Programming" (Pires, Rowland, Borsa et al., 2025) on finite MDPs, with its
//! exact baselines and an optimal-stopping application:
//!
//! - [`solve()`]: the entry point — optimise an objective of the return
//!   distribution under a [`SolveSpec`] (objective, stock model,
//!   representation, method, tolerances) by stock-augmented distributional
//!   value or policy iteration;
//! - [`objective`]: the open [`StockObjective`] trait and the registry of
//!   objective names (expectation, exponential utility, CVaR via
//!   Rockafellar-Uryasev, threshold probability, homeostatic regulation,
//!   entropic risk; mean-variance refused);
//! - [`mdp`]: finite MDPs with finite-support rewards, validation, TOML/JSON
//!   loading and an instance library (chain, cliff, gambling, random);
//! - [`dist`]: return-distribution representations behind one trait
//!   ([`ReturnDistribution`]): exact, categorical (Cramér projection),
//!   quantile (W1 projection), with mean/variance/VaR/CVaR/expected utility and
//!   W1/Cramér/KS distances;
//! - [`evaluation`]: distributional policy evaluation with projection;
//! - [`stock`]: the stock grid, policies on (time, state, stock), achievable
//!   returns and Monte Carlo rollouts;
//! - [`classic`]: value iteration, policy iteration, policy evaluation;
//! - [`lp`]: the primal (values) and dual (occupancy) LPs of an MDP solved by
//!   an exact simplex;
//! - [`dual_rl`]: tabular f-DVL from offline data (chi-square, total
//!   variation, and XQL's Gumbel loss) on the dual side of those LPs, and
//!   ReCOIL imitation from off-policy data plus a few expert trajectories;
//! - [`lot_sizing`]: multi-item lot-sizing with stochastic demand and its
//!   post-decision state; with feature `torch`, PPO and Post-Decision PPO
//!   with dual critics (Felizardo et al. 2025);
//! - [`explore`]: global vs episodic count-based exploration bonuses (and
//!   their product) in contextual gridworlds (Henaff et al. 2023);
//! - [`stopping`]: prices as intervals (out-of-sample LSMC lower bound and
//!   the Andersen-Broadie dual upper bound); Longstaff-Schwartz least-squares Monte Carlo for
//!   Bermudan/American puts with a CRR binomial-lattice oracle and
//!   Black-Scholes European prices.
//!
//! The tabular parts build without libtorch. Feature `torch` adds neural
//! optimal stopping (`stopping::neural_fit`: an MLP on (time, price) and a
//! 1-D CNN over the last returns, trained by deep optimal stopping) and
//! [`deep`]: stock-augmented deep distributional agents (QR-DQN and C51
//! heads over state features and the stock, acting greedily on the same
//! objectives as the tabular DP) on every finite-horizon `FiniteMdp` and a
//! continuous-state inventory problem.
//!
//! ```
//! use duality_distdp::prelude::*;
//!
//! # fn main() -> duality_core::Result<()> {
//! let mdp = library::gambling(10, 3, 3, 0.8, 1.0, 6)?;
//! // Integer rewards and gamma = 1: an integer stock grid is exact.
//! let grid = StockGrid::new(-7.0, 18.0, 26)?;
//! let spec = SolveSpec::new("cvar:0.1".parse()?, StockModel::Grid(grid), Representation::Exact { budget: None })?;
//! let cvar = solve(&mdp, &spec)?;
//! let returns = rollout_returns(&mdp, &cvar.policy, cvar.initial_stock, 1_000, 100,
//!     &mut duality_core::seed::Seeder::new(1).rng(0))?;
//! assert_eq!(returns.len(), 1_000);
//! # Ok(())
//! # }
//! ```

pub mod classic;
#[cfg(feature = "torch")]
pub mod deep;
pub mod dist;
pub mod dual_rl;
pub mod evaluation;
#[cfg(feature = "experiments")]
pub mod experiments;
pub mod explore;
pub mod lot_sizing;
pub mod lp;
pub mod mdp;
pub mod objective;
pub(crate) mod solve;
pub mod stock;
pub mod stopping;

pub use dist::{FiniteSupport, Representation, ReturnDistribution};
pub use mdp::FiniteMdp;
pub use objective::{Objective, StockObjective};
pub use solve::{solve, Method, RepresentationSpec, Solution, SolveSpec, StockModel, StockPolicy};
pub use stock::StockGrid;

/// The most used items: `use duality_distdp::prelude::*;`.
pub mod prelude {
    pub use crate::classic::{policy_iteration, value_iteration, ClassicSolution, IterParams};
    pub use crate::dist::{
        Categorical, FiniteSupport, Quantiles, Representation, ReturnDistribution,
    };
    pub use crate::evaluation::{evaluate, DistEvaluation, MarkovPolicy};
    pub use crate::lp::{solve_mdp_lp, MdpLpSolution};
    pub use crate::mdp::{library, FiniteMdp, Outcome};
    pub use crate::objective::{InitialStock, Objective, StockObjective};
    pub use crate::solve::{
        solve, Method, RepresentationSpec, Solution, SolveSpec, StockModel, StockPolicy,
    };
    pub use crate::stock::{
        executed_law, rollout_returns, AugmentedPolicy, GridSolution, MarkovActions, StockGrid,
    };
    pub use crate::stopping::{
        andersen_broadie, binomial_price, black_scholes_put, lsmc_fit, lsmc_fit_process,
        lsmc_price, policy_value, price_interval, Basis, DualParams, Exercise, ExercisePolicy,
        LsmcParams, LsmcPolicy, McPrice, PriceBounds, PriceProcess, PutOption,
    };
    #[cfg(feature = "torch")]
    pub use crate::stopping::{
        neural_fit, neural_price_interval, NeuralFit, NeuralInterval, NeuralPolicy,
        NeuralStopParams, StoppingNet,
    };
}
