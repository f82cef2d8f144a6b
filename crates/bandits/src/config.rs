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
    /// Most arm-rounds (`horizon x repetitions x policies x arms`) the
    /// spec may ask for; see [`DEFAULT_MAX_ARM_ROUNDS`].
    #[serde(default = "default_max_arm_rounds")]
    max_arm_rounds: u64,
}

fn default_checkpoints() -> usize {
    60
}

/// The default bound on a simulation's work, `horizon x repetitions x
/// policies x arms` = 10^10 arm-rounds: at the 1-15 ns per arm-round of a
/// release build (Bernoulli arms, UCB1 / Thompson sampling, one core) that
/// is a few seconds to a few minutes of CPU; a debug build is ~10x slower.
/// A spec asking for more (e.g. `horizon = 1e12`, which would run for
/// days; issue #25) is refused before anything runs, naming the factors;
/// `max_arm_rounds = N` in the spec raises the bound.
pub const DEFAULT_MAX_ARM_ROUNDS: u64 = 10_000_000_000;

fn default_max_arm_rounds() -> u64 {
    DEFAULT_MAX_ARM_ROUNDS
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
    /// Bound on `horizon x repetitions x policies x arms` (default
    /// [`DEFAULT_MAX_ARM_ROUNDS`]).
    pub fn max_arm_rounds(mut self, bound: u64) -> Self {
        self.spec.max_arm_rounds = bound;
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
                max_arm_rounds: DEFAULT_MAX_ARM_ROUNDS,
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

/// Bytes per stored `f64` / `usize` value.
const WORD: u128 = 8;
/// Heap overhead of one `Vec` (pointer, length, capacity).
const VEC_HEADER: u128 = 24;
/// Rough per-arm state of one policy instance (counts, sums, indices,
/// weights): a generous bound over the registered policies.
const POLICY_BYTES_PER_ARM: u128 = 64;

impl SimulationSpec {
    /// The number of arms the environment spec asks for (before building it).
    fn requested_arms(&self) -> usize {
        match &self.environment {
            EnvironmentSpec::Bernoulli { means } | EnvironmentSpec::Gaussian { means, .. } => {
                means.len()
            }
            EnvironmentSpec::Arms { arms } => arms.len(),
            EnvironmentSpec::AdversarialSwitch { k }
            | EnvironmentSpec::ShiftedCoins { k, .. }
            | EnvironmentSpec::Adaptive { k } => *k,
        }
    }

    /// Refuses a spec whose estimated memory exceeds
    /// [`duality_core::limits::memory_budget`], naming the fields that drive
    /// the estimate. Counted: the environment's reward table
    /// (`adversarial_switch`: `horizon x k`; `shifted_coins`: `rounds x k`),
    /// the checkpoints, every repetition's two regret curves and per-arm
    /// pull counts (kept for the report), one policy and environment state
    /// per arm and thread, and the bootstrap's `ci.reps x repetitions`
    /// resamples.
    fn check_sizes(&self) -> Result<()> {
        use duality_core::limits::{check_memory, product};
        let field = |e: Error| Error::config("size", e.to_string());
        let k = self.requested_arms();
        let policies = self.policies.len();
        let reps = self.repetitions;
        // log_checkpoints allocates `checkpoints` values before deduplicating.
        let stored = self.checkpoints.min(self.horizon.saturating_add(1));
        let threads = rayon::current_num_threads().max(1) as u128;
        // (what the user asked for, estimated bytes)
        let mut parts: Vec<(String, u128)> = Vec::new();
        parts.push((
            format!("checkpoints = {}", self.checkpoints),
            self.checkpoints as u128 * WORD,
        ));
        let curves = product(&[
            ("repetitions", reps),
            ("policies", policies),
            ("checkpoints", stored),
        ])
        .map_err(field)?;
        parts.push((
            format!(
                "repetitions = {reps} x {policies} policies x checkpoints = {} (regret curves)",
                self.checkpoints
            ),
            curves as u128 * 2 * WORD,
        ));
        let pulls = product(&[("repetitions", reps), ("policies", policies), ("arms", k)])
            .map_err(field)?;
        parts.push((
            format!("repetitions = {reps} x {policies} policies x {k} arms (pull counts)"),
            pulls as u128 * WORD,
        ));
        parts.push((
            format!("{k} arms (policy and environment state)"),
            k as u128 * (policies as u128 + 2) * threads * POLICY_BYTES_PER_ARM,
        ));
        let table_rows = match &self.environment {
            EnvironmentSpec::AdversarialSwitch { .. } => Some(("horizon", self.horizon)),
            EnvironmentSpec::ShiftedCoins { rounds, .. } => Some(("environment.rounds", *rounds)),
            _ => None,
        };
        if let Some((name, rows)) = table_rows {
            let cells = product(&[(name, rows), ("arms", k)]).map_err(field)?;
            parts.push((
                format!("{name} = {rows} x {k} arms (reward table)"),
                cells as u128 * WORD + rows as u128 * VEC_HEADER,
            ));
        }
        let resamples =
            product(&[("ci.reps", self.ci.reps), ("repetitions", reps)]).map_err(field)?;
        parts.push((
            format!(
                "ci.reps = {} x repetitions = {reps} (bootstrap)",
                self.ci.reps
            ),
            resamples as u128 * WORD,
        ));
        let total: u128 = parts.iter().map(|p| p.1).sum();
        let largest = parts
            .iter()
            .max_by_key(|p| p.1)
            .map(|p| p.0.clone())
            .unwrap_or_default();
        check_memory(&largest, total).map_err(field)?;
        self.check_work()
    }

    /// Refuses a spec whose work `horizon x repetitions x policies x arms`
    /// exceeds `max_arm_rounds` (default [`DEFAULT_MAX_ARM_ROUNDS`]): the
    /// run would take hours or days and is not cancellable mid-repetition.
    fn check_work(&self) -> Result<()> {
        let k = self.requested_arms();
        let work = self.horizon as u128
            * self.repetitions as u128
            * self.policies.len() as u128
            * k as u128;
        if work > u128::from(self.max_arm_rounds) {
            return Err(Error::config(
                "horizon",
                format!(
                    "horizon = {} x repetitions = {} x {} policies x {k} arms = {:.3e} arm-rounds \
                     exceeds max_arm_rounds = {:.0e} (hours of CPU or more); shrink one of them, or set \
                     `max_arm_rounds` in the spec to run it anyway",
                    self.horizon,
                    self.repetitions,
                    self.policies.len(),
                    work as f64,
                    self.max_arm_rounds as f64
                ),
            ));
        }
        Ok(())
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
        if self.ci.reps == 0 {
            return Err(Error::config("ci.reps", "must be >= 1, got 0"));
        }
        // Sizes are refused before anything is allocated (issue #25: a
        // config asking for 10^12 arms or checkpoints aborted the process).
        self.check_sizes()?;
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

    const BASE: &str = "horizon = 100\nrepetitions = 2\n[environment]\nkind = \"bernoulli\"\n\
                        means = [0.2, 0.8]\n[[policies]]\nkind = \"ucb1\"\n";

    fn parse_err(text: &str) -> String {
        from_toml_str::<SimulationSpec>(text, "sim.toml")
            .unwrap_err()
            .to_string()
    }

    /// Issue #25: `horizon = 1e12` on Bernoulli arms needs little memory
    /// but would run for days (the sweep's 60 s timeout); it is refused by
    /// the work bound, which the spec can raise.
    #[test]
    fn work_beyond_the_bound_is_refused_and_can_be_raised() {
        let huge = BASE.replace("horizon = 100", "horizon = 1000000000000");
        let err = parse_err(&huge);
        assert!(
            err.contains("horizon = 1000000000000")
                && err.contains("arm-rounds")
                && err.contains("max_arm_rounds"),
            "{err}"
        );
        let raised = format!("max_arm_rounds = 9000000000000\n{huge}");
        let spec: SimulationSpec = from_toml_str(&raised, "sim.toml").unwrap();
        assert_eq!(spec.horizon(), 1_000_000_000_000);
        // At the bound exactly: 5e9 x 1 x 1 x 2 = 1e10 passes.
        let at = BASE
            .replace("horizon = 100", "horizon = 5000000000")
            .replace("repetitions = 2", "repetitions = 1");
        assert!(from_toml_str::<SimulationSpec>(&at, "sim.toml").is_ok());
    }

    /// Issue #25: huge K, horizon, repetitions or checkpoints are refused
    /// before anything is allocated, naming the field.
    #[test]
    fn huge_sizes_are_refused_before_allocating() {
        let adv = |k: &str, horizon: &str| {
            format!(
                "horizon = {horizon}\nrepetitions = 2\n[environment]\nkind = \"adversarial_switch\"\n\
                 k = {k}\n[[policies]]\nkind = \"ucb1\"\n"
            )
        };
        let err = parse_err(&adv("1000000000000", "100"));
        assert!(err.contains("arms") && err.contains("memory"), "{err}");
        let err = parse_err(&adv("4", "1000000000000"));
        assert!(err.contains("horizon = 1000000000000"), "{err}");
        let err = parse_err(&adv("9223372036854775807", "9223372036854775807"));
        assert!(err.contains("horizon x arms"), "{err}");
        let adaptive = "horizon = 10\nrepetitions = 2\n[environment]\nkind = \"adaptive\"\n\
                        k = 1000000000000\n[[policies]]\nkind = \"ucb1\"\n";
        let err = parse_err(adaptive);
        assert!(err.contains("arms") && err.contains("memory"), "{err}");
        let coins = "horizon = 10\nrepetitions = 2\n[environment]\nkind = \"shifted_coins\"\n\
                     k = 3\ngap = 0.1\nrounds = 1000000000000\nseed = 1\n[[policies]]\nkind = \"ucb1\"\n";
        let err = parse_err(coins);
        assert!(err.contains("environment.rounds"), "{err}");
        let err = parse_err(&BASE.replace("repetitions = 2", "repetitions = 1000000000000"));
        assert!(err.contains("repetitions = 1000000000000"), "{err}");
        let err = parse_err(&BASE.replace(
            "repetitions = 2",
            "repetitions = 2\ncheckpoints = 1000000000000",
        ));
        assert!(err.contains("checkpoints = 1000000000000"), "{err}");
        let err = parse_err(&format!("{BASE}[ci]\nreps = 1000000000000000\n"));
        assert!(err.contains("ci.reps"), "{err}");
        let err = parse_err(&format!("{BASE}[ci]\nreps = 0\n"));
        assert!(err.contains("ci.reps"), "{err}");
        // Reasonable sizes still pass.
        assert!(from_toml_str::<SimulationSpec>(&adv("4", "1000"), "sim.toml").is_ok());
    }

    /// Issue #25: a non-finite parameter anywhere is an error naming it.
    #[test]
    fn non_finite_parameters_are_rejected() {
        for bad in ["nan", "inf", "-inf"] {
            let err = parse_err(&BASE.replace("0.8]", &format!("{bad}]")));
            assert!(
                err.contains("environment") && err.contains("arms[1]"),
                "{bad}: {err}"
            );
            let gauss = format!(
                "horizon = 10\nrepetitions = 2\n[environment]\nkind = \"gaussian\"\n\
                 means = [0.0, 1.0]\nsd = {bad}\n[[policies]]\nkind = \"ucb1\"\n"
            );
            assert!(parse_err(&gauss).contains("sd"), "{bad}");
            let err = parse_err(&format!("{BASE}[ci]\nconfidence = {bad}\n"));
            assert!(err.contains("ci.confidence"), "{bad}: {err}");
            // Every float parameter of every registered policy.
            for entry in crate::registry::policies() {
                for key in entry
                    .params
                    .split(',')
                    .filter_map(|p| p.split('=').next())
                    .map(str::trim)
                    .filter(|k| !k.is_empty() && !k.contains(' '))
                {
                    let text = BASE.replace(
                        "kind = \"ucb1\"",
                        &format!("kind = \"{}\"\n{key} = {bad}", entry.name),
                    );
                    let result = from_toml_str::<SimulationSpec>(&text, "sim.toml");
                    assert!(result.is_err(), "{} {key} = {bad} accepted", entry.name);
                }
            }
        }
    }

    /// Issue #25: config parsing goes through `from_toml_str`, so an unknown
    /// key is an error that names it and suggests the closest known one.
    #[test]
    fn unknown_keys_are_errors_with_a_suggestion() {
        let err = parse_err(&BASE.replace("repetitions = 2", "rep = 2"));
        assert!(err.contains("rep"), "{err}");
        let err = parse_err(&BASE.replace("horizon = 100", "horizon = 100\nrepetitons = 5"));
        assert!(
            err.contains("repetitons") && err.contains("did you mean `repetitions`"),
            "{err}"
        );
        let err = parse_err(&format!("{BASE}[ci]\nconfidense = 0.9\n"));
        assert!(err.contains("confidense"), "{err}");
    }
}
