//! TOML descriptions of simulations (`duality bandit simulate --config`).
//!
//! ```toml
//! horizon = 10000
//! repetitions = 100
//! seed = 7
//!
//! [environment]
//! kind = "bernoulli"
//! means = [0.1, 0.5, 0.9]
//!
//! [[policies]]
//! kind = "ucb1"
//!
//! [[policies]]
//! kind = "epsilon_greedy"
//! epsilon = 0.1
//! ```

use duality_core::config::Validate;
use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::adversarial::{Exp3, Exp3Ix, Hedge, TsallisEstimator, TsallisInf};
use crate::env::{
    AdaptiveAdversary, ArmDistribution, Environment, ObliviousAdversary, StochasticBandit,
};
use crate::policy::Policy;
use crate::simulator::SimulatorConfig;
use crate::stats::CiParams;
use crate::stochastic::{
    BetaThompson, EpsilonGreedy, EpsilonSchedule, ExploreFirst, GaussianThompson, KlFamily, KlUcb,
    Moss, SuccessiveElimination, Ucb1,
};

/// Which environment to simulate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum EnvironmentSpec {
    /// Bernoulli arms with the given means.
    Bernoulli {
        /// Success probabilities.
        means: Vec<f64>,
    },
    /// Gaussian arms with the given means and a common standard deviation.
    Gaussian {
        /// Means.
        means: Vec<f64>,
        /// Standard deviation.
        sd: f64,
    },
    /// Arbitrary arm distributions (`{ kind = "beta", a = 2, b = 3 }`, ...).
    Arms {
        /// The arms.
        arms: Vec<ArmDistribution>,
    },
    /// The oblivious doubling-switch adversary over `k` arms.
    AdversarialSwitch {
        /// Arms.
        k: usize,
    },
    /// Bernoulli(1/2) coins with arm 0 shifted by `gap`, fixed table of
    /// `rounds` rounds drawn from `seed`.
    ShiftedCoins {
        /// Arms.
        k: usize,
        /// Advantage of arm 0.
        gap: f64,
        /// Table length (cycled).
        rounds: usize,
        /// Seed of the table.
        seed: u64,
    },
    /// The adaptive adversary punishing the most-played arm.
    Adaptive {
        /// Arms.
        k: usize,
    },
}

impl EnvironmentSpec {
    /// Builds the environment (`horizon` sizes tables).
    pub fn build(&self, horizon: usize) -> Result<Box<dyn Environment>> {
        Ok(match self {
            EnvironmentSpec::Bernoulli { means } => Box::new(StochasticBandit::bernoulli(means)?),
            EnvironmentSpec::Gaussian { means, sd } => {
                Box::new(StochasticBandit::gaussian(means, *sd)?)
            }
            EnvironmentSpec::Arms { arms } => Box::new(StochasticBandit::new(arms.clone())?),
            EnvironmentSpec::AdversarialSwitch { k } => {
                Box::new(ObliviousAdversary::doubling_switch(*k, horizon)?)
            }
            EnvironmentSpec::ShiftedCoins {
                k,
                gap,
                rounds,
                seed,
            } => Box::new(ObliviousAdversary::shifted_coins(*k, *rounds, *gap, *seed)?),
            EnvironmentSpec::Adaptive { k } => Box::new(AdaptiveAdversary::new(*k)?),
        })
    }
}

fn default_one() -> f64 {
    1.0
}
fn default_two() -> f64 {
    2.0
}

/// Which policy to run (parameters default to the papers' choices).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PolicySpec {
    /// [`ExploreFirst`]; `n_per_arm` absent: the `T^{2/3}` tuning.
    ExploreFirst {
        /// Exploration pulls per arm.
        #[serde(default)]
        n_per_arm: Option<usize>,
    },
    /// [`EpsilonGreedy`]; `epsilon` absent: the decaying schedule.
    EpsilonGreedy {
        /// Fixed exploration probability.
        #[serde(default)]
        epsilon: Option<f64>,
    },
    /// [`SuccessiveElimination`].
    SuccessiveElimination,
    /// [`Ucb1`].
    Ucb1 {
        /// Bonus scale.
        #[serde(default = "default_one")]
        scale: f64,
    },
    /// Bernoulli [`KlUcb`].
    KlUcb {
        /// Exploration constant `c`.
        #[serde(default)]
        c: f64,
    },
    /// Gaussian [`KlUcb`].
    KlUcbGaussian {
        /// Exploration constant `c`.
        #[serde(default)]
        c: f64,
        /// Reward variance.
        #[serde(default = "default_one")]
        variance: f64,
    },
    /// [`Moss`].
    Moss,
    /// [`BetaThompson`].
    ThompsonBeta,
    /// [`GaussianThompson`].
    ThompsonGaussian {
        /// Posterior scale.
        #[serde(default = "default_one")]
        sigma: f64,
    },
    /// [`Hedge`] (full feedback).
    Hedge {
        /// Learning rate (absent: tuned to the horizon).
        #[serde(default)]
        eta: Option<f64>,
    },
    /// [`Exp3`].
    Exp3 {
        /// Learning rate (absent: tuned).
        #[serde(default)]
        eta: Option<f64>,
        /// Uniform mixing.
        #[serde(default)]
        gamma: f64,
    },
    /// [`Exp3Ix`].
    Exp3Ix {
        /// Learning rate (absent: tuned).
        #[serde(default)]
        eta: Option<f64>,
        /// Implicit exploration (absent: `eta / 2`).
        #[serde(default)]
        gamma: Option<f64>,
    },
    /// [`TsallisInf`].
    TsallisInf {
        /// `eta_t = eta_scale / sqrt(t)`.
        #[serde(default = "default_two")]
        eta_scale: f64,
        /// Use the importance-weighted instead of the reduced-variance estimator.
        #[serde(default)]
        importance_weighted: bool,
    },
}

impl PolicySpec {
    /// Builds the policy for `k` arms and horizon `horizon`.
    pub fn build(&self, k: usize, horizon: usize) -> Result<Box<dyn Policy>> {
        Ok(match *self {
            PolicySpec::ExploreFirst { n_per_arm } => match n_per_arm {
                Some(n) => Box::new(ExploreFirst::new(k, n)?),
                None => Box::new(ExploreFirst::tuned(k, horizon)?),
            },
            PolicySpec::EpsilonGreedy { epsilon } => Box::new(EpsilonGreedy::new(
                k,
                match epsilon {
                    Some(epsilon) => EpsilonSchedule::Fixed { epsilon },
                    None => EpsilonSchedule::Decaying,
                },
            )?),
            PolicySpec::SuccessiveElimination => Box::new(SuccessiveElimination::new(k)?),
            PolicySpec::Ucb1 { scale } => Box::new(Ucb1::with_scale(k, scale)?),
            PolicySpec::KlUcb { c } => Box::new(KlUcb::new(k, KlFamily::Bernoulli, c)?),
            PolicySpec::KlUcbGaussian { c, variance } => {
                Box::new(KlUcb::new(k, KlFamily::Gaussian { variance }, c)?)
            }
            PolicySpec::Moss => Box::new(Moss::new(k)?),
            PolicySpec::ThompsonBeta => Box::new(BetaThompson::new(k)?),
            PolicySpec::ThompsonGaussian { sigma } => Box::new(GaussianThompson::new(k, sigma)?),
            PolicySpec::Hedge { eta } => Box::new(Hedge::new(k, eta)?),
            PolicySpec::Exp3 { eta, gamma } => Box::new(Exp3::new(k, eta, gamma)?),
            PolicySpec::Exp3Ix { eta, gamma } => Box::new(Exp3Ix::new(k, eta, gamma)?),
            PolicySpec::TsallisInf {
                eta_scale,
                importance_weighted,
            } => Box::new(TsallisInf::new(
                k,
                eta_scale,
                if importance_weighted {
                    TsallisEstimator::ImportanceWeighted
                } else {
                    TsallisEstimator::ReducedVariance
                },
            )?),
        })
    }
}

/// An environment and the policies to run on it.
pub type BuiltSimulation = (Box<dyn Environment>, Vec<Box<dyn Policy>>);

/// A whole simulation: settings, environment, policies, CI settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationSpec {
    /// Rounds per run.
    pub horizon: usize,
    /// Repetitions.
    pub repetitions: usize,
    /// Master seed.
    #[serde(default)]
    pub seed: u64,
    /// Log-spaced checkpoints.
    #[serde(default = "default_checkpoints")]
    pub checkpoints: usize,
    /// The environment.
    pub environment: EnvironmentSpec,
    /// The policies.
    pub policies: Vec<PolicySpec>,
    /// Bootstrap settings of the reported CIs.
    #[serde(default)]
    pub ci: CiParams,
}

fn default_checkpoints() -> usize {
    60
}

impl SimulationSpec {
    /// The simulator settings.
    pub fn simulator_config(&self) -> SimulatorConfig {
        SimulatorConfig::default()
            .horizon(self.horizon)
            .repetitions(self.repetitions)
            .seed(self.seed)
            .checkpoints(self.checkpoints)
    }

    /// Builds the environment and the policies.
    pub fn build(&self) -> Result<BuiltSimulation> {
        let env = self.environment.build(self.horizon)?;
        let k = env.n_arms();
        let policies = self
            .policies
            .iter()
            .enumerate()
            .map(|(i, p)| {
                p.build(k, self.horizon)
                    .map_err(|e| Error::config(format!("policies[{i}]"), e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((env, policies))
    }
}

impl Validate for SimulationSpec {
    fn validate(&self) -> Result<()> {
        if self.horizon == 0 {
            return Err(Error::config("horizon", "must be >= 1, got 0"));
        }
        if self.repetitions == 0 {
            return Err(Error::config("repetitions", "must be >= 1, got 0"));
        }
        if self.policies.is_empty() {
            return Err(Error::config(
                "policies",
                "at least one [[policies]] entry is needed",
            ));
        }
        if !(self.ci.confidence > 0.0 && self.ci.confidence < 1.0) {
            return Err(Error::config(
                "ci.confidence",
                format!("must be in (0, 1), got {}", self.ci.confidence),
            ));
        }
        let env = self
            .environment
            .build(self.horizon)
            .map_err(|e| Error::config("environment", e.to_string()))?;
        for (i, p) in self.policies.iter().enumerate() {
            p.build(env.n_arms(), self.horizon)
                .map_err(|e| Error::config(format!("policies[{i}]"), e.to_string()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use duality_core::config::from_toml_str;

    #[test]
    fn parses_and_validates() {
        let text = "horizon = 100\nrepetitions = 2\n[environment]\nkind = \"bernoulli\"\nmeans = [0.2, 0.8]\n\
                    [[policies]]\nkind = \"ucb1\"\n[[policies]]\nkind = \"epsilon_greedy\"\nepsilon = 0.1\n\
                    [[policies]]\nkind = \"tsallis_inf\"\n";
        let spec: SimulationSpec = from_toml_str(text, "sim.toml").unwrap();
        let (env, policies) = spec.build().unwrap();
        assert_eq!(env.n_arms(), 2);
        assert_eq!(policies.len(), 3);
        let bad = text.replace("0.8]", "1.8]");
        let err = from_toml_str::<SimulationSpec>(&bad, "sim.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("sim.toml") && err.contains("1.8"), "{err}");
        let bad = text.replace("epsilon = 0.1", "epsilon = 2");
        let err = from_toml_str::<SimulationSpec>(&bad, "sim.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("policies[1]") && err.contains("epsilon"),
            "{err}"
        );
        let bad = text.replace("horizon = 100", "horizon = 0");
        assert!(from_toml_str::<SimulationSpec>(&bad, "sim.toml").is_err());
        let bad = text.replace("means = [0.2, 0.8]", "means = []");
        assert!(from_toml_str::<SimulationSpec>(&bad, "sim.toml").is_err());
    }
}
