//! # duality-bandits — multi-armed bandits
//!
//! - [`policy`] and [`env`]: the [`Policy`](policy::Policy) and
//!   [`Environment`](env::Environment) traits, stochastic / adversarial /
//!   contextual / non-stationary environments;
//! - [`simulator`]: parallel repetitions with common random numbers and
//!   log-spaced regret curves, aggregated with `duality-eval`;
//! - [`stochastic`]: explore-first, epsilon-greedy, successive elimination,
//!   UCB1, KL-UCB, MOSS, Thompson sampling (Slivkins ch. 1-3), with
//!   [`posterior`]'s exact lazy arg-max of Beta posterior draws;
//! - [`adversarial`]: Hedge, Exp3, Exp3-IX, Exp4, 1/2-Tsallis-INF (ch. 5-6);
//! - [`ope`] and [`offpolicy`]: off-policy evaluation (IPW, SNIPW, DM, DR,
//!   Switch-DR with Open Bandit Pipeline's definitions), logged feedback,
//!   a synthetic logger with ground truth, off-policy learning;
//! - [`linear`]: LinUCB (disjoint and shared), linear Thompson sampling,
//!   contextual epsilon-greedy (Slivkins ch. 8);
//! - [`best_arm`]: uniform allocation, successive halving, LUCB;
//! - [`knapsacks`]: bandits with knapsacks, primal-dual LagrangeBwK;
//! - [`combinatorial`]: semi-bandits, Exp2 and FTPL (top-k, matchings);
//! - [`lipschitz`]: the zooming algorithm for Lipschitz arms on [0, 1];
//! - [`tallying`]: weighted tallying bandits and memory-bounded elimination;
//! - [`relax`]: SOR solvers and *Learning to Relax* (omega bandits, ChebCB);
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

#[cfg(feature = "experiments")]
pub mod experiments;
pub mod adversarial;
pub mod best_arm;
pub mod combinatorial;
pub mod config;
pub mod env;
pub mod knapsacks;
pub mod linalg;
pub mod linear;
pub mod lipschitz;
pub mod math;
pub mod offpolicy;
pub mod ope;
pub mod plot;
pub mod policy;
pub mod posterior;
pub mod relax;
pub mod simulator;
pub mod stats;
pub mod stochastic;
pub mod tallying;

/// The most used items.
pub mod prelude {
    pub use crate::adversarial::{Exp3, Exp3Ix, Exp4, Hedge, TsallisEstimator, TsallisInf};
    pub use crate::config::{EnvironmentSpec, PolicySpec, SimulationSpec};
    pub use crate::env::{
        AdaptiveAdversary, ArmDistribution, Draw, Environment, LinearContextual,
        ObliviousAdversary, PiecewiseStationary, StochasticBandit,
    };
    pub use crate::linear::{ContextualEpsilonGreedy, LinUcb, LinearThompson};
    pub use crate::offpolicy::{
        generate_logs, LearningObjective, LinearSoftmaxPolicy, LoggedFeedback, OplParams,
        SyntheticLog, SyntheticParams,
    };
    pub use crate::ope::{
        estimator_by_name, DirectMethod, DoublyRobust, Ipw, OffPolicyEstimator, OpeData, Snipw,
        SwitchDoublyRobust,
    };
    pub use crate::policy::{Arm, ArmStats, Context, Feedback, Policy, Round};
    pub use crate::simulator::{
        run_single, PolicyResult, PolicySummary, RepetitionResult, SimulationResult, Simulator,
        SimulatorConfig,
    };
    pub use crate::stats::{CiParams, MeanIqm};
    pub use crate::stochastic::{
        BetaThompson, EpsilonGreedy, EpsilonSchedule, ExploreFirst, GaussianThompson, KlFamily,
        KlUcb, Moss, SuccessiveElimination, Ucb1,
    };
    pub use crate::tallying::{TallyLoss, TallyingBandit, TallyingElimination};
}
