//! # duality-bandits — multi-armed bandits
//!
//! - [`policy`] and [`env`]: the [`Policy`](policy::Policy) and
//!   [`Environment`](env::Environment) traits, stochastic / adversarial /
//!   contextual / non-stationary environments;
//! - [`simulator`]: parallel repetitions with common random numbers and
//!   log-spaced regret curves, aggregated with `duality-eval`;
//! - [`driver`]: the one round loop (select -> environment -> update, with
//!   observers) that the simulator, tallying bandits, bandits with
//!   knapsacks and SOR tuning share; an out-of-range arm is an error;
//! - [`registry`]: policies by name (`[[policies]] kind = "..."`, and
//!   `duality bandit policies`);
//! - [`analysis`]: log-spaced checkpoints, regret exponents, trend fits;
//! - [`stochastic`]: explore-first, epsilon-greedy, successive elimination,
//!   UCB1, KL-UCB, MOSS, Thompson sampling (Slivkins ch. 1-3), with
//!   [`BetaArgmax`], the exact lazy arg-max of Beta posterior draws;
//! - [`adversarial`]: Hedge, Exp3, Exp3-IX, Exp3.P, Exp4, 1/2-Tsallis-INF
//!   (ch. 5-6);
//! - [`ope`] and [`offpolicy`]: off-policy evaluation (IPW, SNIPW, DM, DR,
//!   Switch-DR with Open Bandit Pipeline's definitions), logged feedback,
//!   a synthetic logger with ground truth, off-policy learning;
//! - [`linear`]: LinUCB (disjoint and shared), linear Thompson sampling,
//!   contextual epsilon-greedy (Slivkins ch. 8);
//! - [`best_arm`]: uniform allocation, successive halving, LUCB,
//!   Track-and-Stop and the optimal allocation `w*(mu)`, `T*(mu)`;
//! - [`knapsacks`]: bandits with knapsacks, primal-dual LagrangeBwK;
//! - [`combinatorial`]: semi-bandits, Exp2 and FTPL (top-k, matchings);
//! - [`lipschitz`]: the zooming algorithm for Lipschitz arms on [0, 1];
//! - [`tallying`]: weighted tallying bandits and memory-bounded elimination;
//! - [`relax`]: SOR solvers and *Learning to Relax* (omega bandits, ChebCB);
//! - [`relax_reference`]: *Learning to Relax* as the authors' MATLAB scripts
//!   run it (10,000-iteration cap, truncated-Gaussian right-hand sides, both
//!   shift laws, reference Tsallis-INF / ChebCB / Tsallis-INF-CB);
//! - [`relax_heat`]: its third setting, the 2-D heat equation's
//!   Crank-Nicolson systems (`scripts/h2d.m`) solved by SSOR-PCG;
//! - [`portfolio`]: online portfolio selection and the ensemble of
//!   *Ensembling Portfolio Strategies* (Lam 2024);
//! - [`continual`]: differential privacy under continual observation (tree
//!   and square-root factorisation counters, private UCB);
//! - [`fairness`]: individually fair learning with one-sided feedback
//!   (auditor panel, Exp2 and Context-Semi-Bandit-FTPL);
//! - [`config`], [`plot`], [`stats`]: TOML simulation specs, SVG curves,
//!   bootstrap CIs through `duality-eval`.
//!
//! It builds and tests without libtorch.
//!
//! ```
//! use duality_bandits::prelude::*;
//!
//! let env = StochasticBandit::bernoulli(&[0.2, 0.5, 0.6]).unwrap();
//! let policies: Vec<Box<dyn Policy>> = vec![Box::new(Ucb1::new(3).unwrap())];
//! let sim = Simulator::new(SimulatorConfig::default().horizon(1000).repetitions(4)).unwrap();
//! let result = sim.run(&env, &policies).unwrap();
//! assert!(result.policies[0].final_pseudo_regrets()[0] < 100.0);
//! ```

pub mod adversarial;
pub mod analysis;
pub mod best_arm;
pub mod combinatorial;
pub mod config;
pub mod continual;
pub mod driver;
pub mod env;
#[cfg(feature = "experiments")]
pub mod experiments;
pub mod fairness;
pub mod knapsacks;
pub(crate) mod linalg;
pub mod linear;
pub mod lipschitz;
pub(crate) mod math;
pub mod offpolicy;
pub mod ope;
pub mod plot;
pub mod policy;
pub mod portfolio;
pub(crate) mod posterior;
pub mod registry;
pub mod relax;
pub mod relax_heat;
pub mod relax_reference;
pub mod simulator;
pub mod stats;
pub mod stochastic;
pub mod tallying;

/// The numerical helpers that are API: the Beta posterior arg-max of
/// Thompson sampling, the exact Gamma / Beta samplers and the KL-UCB
/// indices (the rest of the crate's numerics stays internal).
pub use math::{
    kl_bernoulli, kl_gaussian, kl_lcb_bernoulli, kl_ucb_bernoulli, kl_ucb_gaussian, sample_beta,
    GammaSampler,
};
pub use posterior::{BetaArgmax, LazyDrawCounts};

/// The most used items.
pub mod prelude {
    // The policy families are re-exported whole, so a new policy is in the
    // prelude without touching this file (see "How to add a bandit policy"
    // in docs/bandits.md); their modules hold only policies and their
    // parameter types.
    pub use crate::adversarial::*;
    pub use crate::analysis::{log_checkpoints, regret_exponent, LineFit, MeanSe};
    pub use crate::config::{BuiltSimulation, EnvironmentSpec, PolicySpec, SimulationSpec};
    pub use crate::driver::{drive, Arena, EnvironmentArena, Observer, Response, RunSummary, Step};
    pub use crate::env::{
        AdaptiveAdversary, ArmDistribution, Draw, Environment, LinearContextual,
        ObliviousAdversary, PiecewiseStationary, StochasticBandit,
    };
    pub use crate::knapsacks::{lagrange_bwk, KnapsackArm, KnapsackRun};
    pub use crate::linear::*;
    pub use crate::offpolicy::{
        generate_logs, LearningObjective, LinearSoftmaxPolicy, LoggedFeedback, OplParams,
        SyntheticLog, SyntheticParams,
    };
    pub use crate::ope::{
        ActionIndex, ActionSlice, DirectMethod, DoublyRobust, EstimatorKind, Ipw,
        OffPolicyEstimator, OpeData, OpeView, Snipw, SwitchDoublyRobust,
    };
    pub use crate::policy::{Arm, ArmStats, Context, Feedback, Policy, Round};
    pub use crate::registry::{find_policy, PolicyEntry};
    pub use crate::relax::{
        iteration_table, omega_grid, run_omega_bandit, seeded_sequence, ChebCb, RelaxOutcome,
        RelaxSetup, ShiftedLaplacianSequence, SorParams,
    };
    pub use crate::simulator::{
        run_single, PolicyResult, PolicySummary, RepetitionResult, SimulationResult, Simulator,
        SimulatorConfig,
    };
    pub use crate::stats::{CiParams, MeanIqm};
    pub use crate::stochastic::*;
    pub use crate::tallying::{policy_regret, TallyLoss, TallyingBandit, TallyingElimination};
}
