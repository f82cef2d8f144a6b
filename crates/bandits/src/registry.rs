//! Policies by name: the registry behind `[[policies]] kind = "..."` in
//! simulation specs ([`crate::config::PolicySpec`]) and behind
//! `duality bandit policies`. One [`PolicyEntry`] per policy: its TOML name,
//! what it is, where it comes from, its parameters and a builder that reads
//! them into a typed struct (unknown keys are errors naming the policy).
//!
//! Adding a policy is its implementation (e.g. in `adversarial.rs`) plus
//! one entry here; the CLI lists it without a change.
//!
//! ```
//! use duality_bandits::registry::{find_policy, policies};
//!
//! let exp3p = find_policy("exp3_p").unwrap();
//! let mut params = toml::Table::new();
//! params.insert("delta".into(), toml::Value::Float(0.01));
//! let policy = exp3p.build(&params, 5, 10_000).unwrap();
//! assert_eq!(policy.name(), "exp3-p");
//! assert!(policies().iter().any(|p| p.name == "ucb1"));
//! // Unknown kinds and keys are errors that say what is known.
//! assert!(find_policy("ucb2").is_err());
//! params.insert("eps".into(), toml::Value::Float(0.1));
//! assert!(exp3p.build(&params, 5, 10_000).is_err());
//! ```

use duality_core::{Error, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::adversarial::{Exp3, Exp3Ix, Exp3P, Hedge, TsallisEstimator, TsallisInf};
use crate::policy::Policy;
use crate::stochastic::{
    BetaThompson, EpsilonGreedy, EpsilonSchedule, ExploreFirst, GaussianThompson, KlFamily, KlUcb,
    Moss, SuccessiveElimination, Ucb1,
};

/// What a builder gets: the number of arms, the horizon and the entry's
/// TOML parameters.
#[derive(Debug, Clone, Copy)]
pub struct BuildArgs<'a> {
    /// Number of arms.
    pub k: usize,
    /// Horizon `T` (for horizon-tuned rates).
    pub horizon: usize,
    kind: &'a str,
    params: &'a toml::Table,
}

impl BuildArgs<'_> {
    /// The parameters as the policy's typed struct (declare it with
    /// `#[serde(deny_unknown_fields)]` so a typo is an error).
    pub fn params<T: DeserializeOwned>(&self) -> Result<T> {
        toml::Value::Table(self.params.clone())
            .try_into()
            .map_err(|e: toml::de::Error| {
                Error::config(format!("{} parameters", self.kind), e.message().to_string())
            })
    }
}

/// One registered policy.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PolicyEntry {
    /// Name in TOML (`kind = "..."`), snake_case.
    pub name: &'static str,
    /// One line on what it does.
    pub about: &'static str,
    /// Its parameters with their defaults (`key = default`, comma-separated).
    pub params: &'static str,
    /// Paper and equation or algorithm.
    pub source: &'static str,
    #[serde(skip)]
    builder: fn(&BuildArgs<'_>) -> Result<Box<dyn Policy>>,
}

impl PolicyEntry {
    /// Builds the policy for `k` arms and horizon `horizon` from its TOML
    /// parameters (the `[[policies]]` table without `kind`).
    pub fn build(&self, params: &toml::Table, k: usize, horizon: usize) -> Result<Box<dyn Policy>> {
        (self.builder)(&BuildArgs {
            k,
            horizon,
            kind: self.name,
            params,
        })
    }
}

/// Every registered policy, in listing order.
pub fn policies() -> &'static [PolicyEntry] {
    POLICIES
}

/// The entry named `name` (TOML kind); an error listing the known names
/// otherwise.
pub fn find_policy(name: &str) -> Result<&'static PolicyEntry> {
    POLICIES.iter().find(|p| p.name == name).ok_or_else(|| {
        let known: Vec<&str> = POLICIES.iter().map(|p| p.name).collect();
        Error::invalid("policy kind", name, format!("one of {}", known.join(", ")))
    })
}

/// Parameters of policies that take none.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoParams {}

/// A learning rate that defaults to the horizon-tuned one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateParams {
    eta: Option<f64>,
}

static POLICIES: &[PolicyEntry] = &[
    PolicyEntry {
        name: "explore_first",
        about: "explore each arm n_per_arm times, then commit to the best mean",
        params: "n_per_arm = T^(2/3) (ln T)^(1/3) / K^(2/3) tuning",
        source: "Slivkins ch. 1, Thm 1.5",
        builder: |a| {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct P {
                n_per_arm: Option<usize>,
            }
            let p: P = a.params()?;
            Ok(match p.n_per_arm {
                Some(n) => Box::new(ExploreFirst::new(a.k, n)?),
                None => Box::new(ExploreFirst::tuned(a.k, a.horizon)?),
            })
        },
    },
    PolicyEntry {
        name: "epsilon_greedy",
        about: "explore uniformly with probability epsilon (fixed), else the best mean",
        params: "epsilon = decaying schedule",
        source: "Slivkins ch. 1, Thm 1.6",
        builder: |a| {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct P {
                epsilon: Option<f64>,
            }
            let p: P = a.params()?;
            let schedule = match p.epsilon {
                Some(epsilon) => EpsilonSchedule::Fixed { epsilon },
                None => EpsilonSchedule::Decaying,
            };
            Ok(Box::new(EpsilonGreedy::new(a.k, schedule)?))
        },
    },
    PolicyEntry {
        name: "successive_elimination",
        about: "round-robin over active arms, eliminating by confidence intervals",
        params: "",
        source: "Slivkins ch. 1, Algorithm 1.3",
        builder: |a| {
            let _: NoParams = a.params()?;
            Ok(Box::new(SuccessiveElimination::new(a.k)?))
        },
    },
    PolicyEntry {
        name: "ucb1",
        about: "empirical mean plus scale * sqrt(2 ln t / n)",
        params: "scale = 1",
        source: "Auer, Cesa-Bianchi & Fischer 2002; Slivkins ch. 1",
        builder: |a| {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct P {
                scale: Option<f64>,
            }
            let p: P = a.params()?;
            Ok(Box::new(Ucb1::with_scale(a.k, p.scale.unwrap_or(1.0))?))
        },
    },
    PolicyEntry {
        name: "kl_ucb",
        about: "Bernoulli KL-UCB index, level ln t + c ln ln t",
        params: "c = 0",
        source: "Garivier & Cappe 2011",
        builder: |a| {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct P {
                c: Option<f64>,
            }
            let p: P = a.params()?;
            Ok(Box::new(KlUcb::new(
                a.k,
                KlFamily::Bernoulli,
                p.c.unwrap_or(0.0),
            )?))
        },
    },
    PolicyEntry {
        name: "kl_ucb_gaussian",
        about: "Gaussian KL-UCB index (closed form)",
        params: "c = 0, variance = 1",
        source: "Garivier & Cappe 2011",
        builder: |a| {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct P {
                c: Option<f64>,
                variance: Option<f64>,
            }
            let p: P = a.params()?;
            let family = KlFamily::Gaussian {
                variance: p.variance.unwrap_or(1.0),
            };
            Ok(Box::new(KlUcb::new(a.k, family, p.c.unwrap_or(0.0))?))
        },
    },
    PolicyEntry {
        name: "moss",
        about: "MOSS index, minimax optimal sqrt(K T)",
        params: "",
        source: "Audibert & Bubeck 2009",
        builder: |a| {
            let _: NoParams = a.params()?;
            Ok(Box::new(Moss::new(a.k)?))
        },
    },
    PolicyEntry {
        name: "thompson_beta",
        about: "Beta-Bernoulli Thompson sampling (exact lazy arg-max)",
        params: "",
        source: "Agrawal & Goyal 2012; Slivkins ch. 3",
        builder: |a| {
            let _: NoParams = a.params()?;
            Ok(Box::new(BetaThompson::new(a.k)?))
        },
    },
    PolicyEntry {
        name: "thompson_gaussian",
        about: "Gaussian Thompson sampling",
        params: "sigma = 1",
        source: "Agrawal & Goyal 2013",
        builder: |a| {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct P {
                sigma: Option<f64>,
            }
            let p: P = a.params()?;
            Ok(Box::new(GaussianThompson::new(
                a.k,
                p.sigma.unwrap_or(1.0),
            )?))
        },
    },
    PolicyEntry {
        name: "hedge",
        about: "exponential weights with full feedback",
        params: "eta = sqrt(8 ln K / T)",
        source: "Freund & Schapire 1997; Slivkins Sec. 5.3",
        builder: |a| {
            let p: RateParams = a.params()?;
            Ok(Box::new(Hedge::new(a.k, p.eta)?))
        },
    },
    PolicyEntry {
        name: "exp3",
        about: "exponential weights over importance-weighted losses",
        params: "eta = sqrt(2 ln K / (K T)), gamma = 0",
        source: "Auer et al. 2002; Lattimore & Szepesvari eq. (11.6), Thm 11.2",
        builder: |a| {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct P {
                eta: Option<f64>,
                gamma: Option<f64>,
            }
            let p: P = a.params()?;
            Ok(Box::new(Exp3::new(a.k, p.eta, p.gamma.unwrap_or(0.0))?))
        },
    },
    PolicyEntry {
        name: "exp3_ix",
        about: "Exp3 with implicit exploration l / (p + gamma)",
        params: "eta = sqrt(2 ln K / (K T)), gamma = eta / 2",
        source: "Neu 2015",
        builder: |a| {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct P {
                eta: Option<f64>,
                gamma: Option<f64>,
            }
            let p: P = a.params()?;
            Ok(Box::new(Exp3Ix::new(a.k, p.eta, p.gamma)?))
        },
    },
    PolicyEntry {
        name: "exp3_p",
        about: "Exp3.P: biased gain estimates (g 1{played} + beta) / p, regret bounded with probability 1 - delta",
        params: "delta = 0.05, eta = 0.95 sqrt(ln K / (T K)), gamma = min(1, 1.05 sqrt(K ln K / T)), beta = sqrt(ln(K / delta) / (T K))",
        source: "Bubeck & Cesa-Bianchi 2012, Fig. 3.1 and Thm 3.2; Auer et al. 2002, Fig. 3",
        builder: |a| {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct P {
                delta: Option<f64>,
                eta: Option<f64>,
                gamma: Option<f64>,
                beta: Option<f64>,
            }
            let p: P = a.params()?;
            let mut policy = Exp3P::new(a.k, p.delta.unwrap_or(0.05))?;
            if p.eta.is_some() || p.gamma.is_some() || p.beta.is_some() {
                policy = policy.with_rates(p.eta, p.gamma, p.beta)?;
            }
            Ok(Box::new(policy))
        },
    },
    PolicyEntry {
        name: "tsallis_inf",
        about: "1/2-Tsallis-INF, best of both worlds",
        params: "eta_scale = 2, importance_weighted = false (reduced-variance estimator)",
        source: "Zimmert & Seldin 2021, Algorithms 1-2, Thm 1",
        builder: |a| {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct P {
                eta_scale: Option<f64>,
                importance_weighted: Option<bool>,
            }
            let p: P = a.params()?;
            let estimator = if p.importance_weighted.unwrap_or(false) {
                TsallisEstimator::ImportanceWeighted
            } else {
                TsallisEstimator::ReducedVariance
            };
            Ok(Box::new(TsallisInf::new(
                a.k,
                p.eta_scale.unwrap_or(2.0),
                estimator,
            )?))
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_builds_with_defaults_and_names_are_unique() {
        let empty = toml::Table::new();
        let mut names: Vec<&str> = policies().iter().map(|p| p.name).collect();
        for entry in policies() {
            let p = entry.build(&empty, 4, 1000).unwrap();
            assert_eq!(p.n_arms(), 4, "{}", entry.name);
            assert!(!entry.about.is_empty() && !entry.source.is_empty());
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), policies().len());
    }

    #[test]
    fn unknown_kinds_and_keys_are_named() {
        let err = find_policy("ucb9").unwrap_err().to_string();
        assert!(err.contains("ucb9") && err.contains("ucb1"), "{err}");
        let mut t = toml::Table::new();
        t.insert("scael".into(), toml::Value::Float(2.0));
        let err = match find_policy("ucb1").unwrap().build(&t, 3, 10) {
            Ok(_) => panic!("an unknown key must be an error"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("ucb1") && err.contains("scael"), "{err}");
    }
}
