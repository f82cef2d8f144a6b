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

use crate::env::{
    AdaptiveAdversary, ArmDistribution, Environment, ObliviousAdversary, StochasticBandit,
};
use crate::policy::Policy;
use crate::registry::find_policy;
use crate::simulator::SimulatorConfig;
use crate::stats::CiParams;

/// Which environment to simulate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
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

/// One `[[policies]]` entry: a registered policy's name (`kind`) and its
/// parameters (the other keys), built through the
/// [`registry`](crate::registry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicySpec {
    kind: String,
    #[serde(flatten)]
    params: toml::Table,
}

impl PolicySpec {
    /// The registered policy `kind` with default parameters (an error
    /// listing the known kinds for an unknown one).
    pub fn new(kind: &str) -> Result<Self> {
        find_policy(kind)?;
        Ok(PolicySpec {
            kind: kind.to_string(),
            params: toml::Table::new(),
        })
    }

    /// Sets parameter `key` (checked when the policy is built).
    pub fn with(mut self, key: &str, value: impl Into<toml::Value>) -> Self {
        self.params.insert(key.to_string(), value.into());
        self
    }

    /// The policy's registered name.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// Its parameters.
    pub fn params(&self) -> &toml::Table {
        &self.params
    }

    /// Builds the policy for `k` arms and horizon `horizon`.
    pub fn build(&self, k: usize, horizon: usize) -> Result<Box<dyn Policy>> {
        find_policy(&self.kind)?.build(&self.params, k, horizon)
    }
}

/// An environment and the policies to run on it.
pub struct BuiltSimulation {
    /// The environment.
    pub environment: Box<dyn Environment>,
    /// The policies, in the spec's order.
    pub policies: Vec<Box<dyn Policy>>,
}

/// A whole simulation: settings, environment, policies, CI settings. Read
/// from TOML with `duality_core::config::load_toml` (which runs
/// [`Validate`]) or built with [`SimulationSpec::builder`].
///
/// ```
/// use duality_bandits::config::{EnvironmentSpec, PolicySpec, SimulationSpec};
///
/// let spec = SimulationSpec::builder(
///     EnvironmentSpec::Bernoulli { means: vec![0.2, 0.8] },
///     vec![PolicySpec::new("ucb1").unwrap(), PolicySpec::new("exp3_p").unwrap().with("delta", 0.1)],
/// )
/// .horizon(500)
/// .repetitions(3)
/// .build()
/// .unwrap();
/// let built = spec.build().unwrap();
/// assert_eq!(built.policies[1].name(), "exp3-p");
/// assert!(SimulationSpec::builder(EnvironmentSpec::Bernoulli { means: vec![0.5] }, vec![]).build().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationSpec {
    horizon: usize,
    repetitions: usize,
    #[serde(default)]
    seed: u64,
    #[serde(default = "default_checkpoints")]
    checkpoints: usize,
    environment: EnvironmentSpec,
    policies: Vec<PolicySpec>,
    #[serde(default)]
    ci: CiParams,
}

fn default_checkpoints() -> usize {
    60
}

/// Builder of a [`SimulationSpec`]; [`SimulationSpecBuilder::build`]
/// validates once.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationSpecBuilder {
    spec: SimulationSpec,
}

impl SimulationSpecBuilder {
    /// Rounds per run (default 10,000).
    pub fn horizon(mut self, horizon: usize) -> Self {
        self.spec.horizon = horizon;
        self
    }
    /// Repetitions (default 100).
    pub fn repetitions(mut self, repetitions: usize) -> Self {
        self.spec.repetitions = repetitions;
        self
    }
    /// Master seed (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.spec.seed = seed;
        self
    }
    /// Log-spaced checkpoints of the curves (default 60).
    pub fn checkpoints(mut self, checkpoints: usize) -> Self {
        self.spec.checkpoints = checkpoints;
        self
    }
    /// Bootstrap settings of the reported CIs.
    pub fn ci(mut self, ci: CiParams) -> Self {
        self.spec.ci = ci;
        self
    }
    /// The validated spec.
    pub fn build(self) -> Result<SimulationSpec> {
        self.spec.validate()?;
        Ok(self.spec)
    }
}

impl SimulationSpec {
    /// A builder over `environment` and `policies` with the defaults of a
    /// TOML file that gives only those.
    pub fn builder(
        environment: EnvironmentSpec,
        policies: Vec<PolicySpec>,
    ) -> SimulationSpecBuilder {
        let defaults = SimulatorConfig::default();
        SimulationSpecBuilder {
            spec: SimulationSpec {
                horizon: defaults.horizon,
                repetitions: defaults.repetitions,
                seed: 0,
                checkpoints: default_checkpoints(),
                environment,
                policies,
                ci: CiParams::default(),
            },
        }
    }

    /// Rounds per run.
    pub fn horizon(&self) -> usize {
        self.horizon
    }
    /// Repetitions.
    pub fn repetitions(&self) -> usize {
        self.repetitions
    }
    /// Master seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Log-spaced checkpoints.
    pub fn checkpoints(&self) -> usize {
        self.checkpoints
    }
    /// The environment.
    pub fn environment(&self) -> &EnvironmentSpec {
        &self.environment
    }
    /// The policies.
    pub fn policies(&self) -> &[PolicySpec] {
        &self.policies
    }
    /// Bootstrap settings of the reported CIs.
    pub fn ci(&self) -> &CiParams {
        &self.ci
    }

    /// The simulator settings.
    pub fn simulator_config(&self) -> SimulatorConfig {
        SimulatorConfig::default()
            .horizon(self.horizon)
            .repetitions(self.repetitions)
            .seed(self.seed)
            .checkpoints(self.checkpoints)
    }

    /// Builds the environment and the policies (errors name
    /// `environment` or `policies[i]`).
    pub fn build(&self) -> Result<BuiltSimulation> {
        let environment = self
            .environment
            .build(self.horizon)
            .map_err(|e| Error::config("environment", e.to_string()))?;
        let k = environment.n_arms();
        let policies = self
            .policies
            .iter()
            .enumerate()
            .map(|(i, p)| {
                p.build(k, self.horizon)
                    .map_err(|e| Error::config(format!("policies[{i}]"), e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(BuiltSimulation {
            environment,
            policies,
        })
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
        if self.checkpoints < 2 {
            return Err(Error::config(
                "checkpoints",
                format!("must be >= 2, got {}", self.checkpoints),
            ));
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
        // Building checks every environment and policy parameter.
        self.build().map(|_| ())
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
        let built = spec.build().unwrap();
        assert_eq!(built.environment.n_arms(), 2);
        assert_eq!(built.policies.len(), 3);
        assert_eq!(spec.horizon(), 100);
        assert_eq!(spec.policies()[1].kind(), "epsilon_greedy");
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
        // Unknown policy kinds and keys are named.
        let bad = text.replace("kind = \"ucb1\"", "kind = \"ucb2\"");
        let err = from_toml_str::<SimulationSpec>(&bad, "sim.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("ucb2") && err.contains("policies[0]"), "{err}");
        let bad = text.replace("epsilon = 0.1", "epsilom = 0.1");
        let err = from_toml_str::<SimulationSpec>(&bad, "sim.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("epsilom"), "{err}");
        // Round trip through TOML keeps kind and parameters.
        let again: SimulationSpec =
            from_toml_str(&toml::to_string(&spec).unwrap(), "again.toml").unwrap();
        assert_eq!(again, spec);
    }
}
