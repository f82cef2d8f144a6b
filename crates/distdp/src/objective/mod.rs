//! Objectives on the return distribution that stock-augmented distributional
//! DP can optimise (Pires, Rowland, Borsa et al., "Optimizing Return
//! Distributions with Distributional Dynamic Programming", 2025, §4-5).
//!
//! The DP maximises an expected utility `E f(c + G)` of stock plus return at
//! every augmented state `(s, c)`. That is consistent across time (the
//! greedy policy is optimal among history-dependent policies, the paper's
//! Theorem 1) when `f(gamma x) = a f(x) + b` with `a > 0`, or for any `f`
//! when `gamma = 1`. An objective is a [`StockObjective`]: its utility `f`,
//! how the initial stock `c_0` is chosen ([`InitialStock`]: fixed, or an
//! outer search as in CVaR's Rockafellar-Uryasev form), how the objective
//! value follows from the inner value `E f(c_0 + G)`, its direct evaluation
//! on a return law, and the consistency check at a given discount.
//!
//! Objectives are named in one registry ([`REGISTRY`]): `"cvar:0.1".parse::<Objective>()`
//! is how the command line (`duality ddp solve --objective`) and the bench
//! suite build them. The built-ins: `expectation`, `utility:exp:LAMBDA`,
//! `cvar:ALPHA`, `threshold:X`, `homeostatic:X`, `entropic:LAMBDA`, and
//! `mean-variance:LAMBDA`, which parses but is refused by
//! [`StockObjective::check_optimisable`] (not an expected utility).
//!
//! Adding one: implement [`StockObjective`] (and `Validate`, `Display`) for
//! a new type in its own file under `objective/`, then add its `mod` line and
//! one [`ObjectiveEntry`] to [`REGISTRY`] here (see `entropic.rs`).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use duality_core::config::Validate;
use duality_core::{Error, Result};

use crate::dist::ReturnDistribution;

mod builtin;
mod entropic;

pub use builtin::{Cvar, ExpUtility, Expectation, Homeostatic, MeanVariance, Threshold};
pub use entropic::EntropicRisk;

/// How the initial stock `c_0` of the executed policy is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum InitialStock {
    /// One stock, fixed by the objective (e.g. `-threshold`).
    Fixed(f64),
    /// An outer maximisation over `c_0` of [`StockObjective::value_from_inner`]:
    /// over the negated achievable returns (exact stock model, where
    /// Rockafellar-Uryasev's maximiser lies) or over the grid stocks.
    Search,
}

/// An objective on the law of the return that stock-augmented DP optimises
/// as `E f(c_0 + G)` (see the module documentation for the conditions).
///
/// Implementations are small value types with a checked constructor;
/// [`Objective::new`] validates them once and shares them with the solvers.
pub trait StockObjective: Validate + fmt::Debug + fmt::Display + Send + Sync {
    /// The utility `f(x)` of stock plus return.
    fn utility(&self, x: f64) -> f64;

    /// `E f(c + X)` for the weighted atoms `(x, p)` of a Bellman target: the
    /// score the greedy step maximises. The default sums `p f(c + x)` in
    /// order; override only for a faster closed form with the same value.
    fn expected_utility(&self, c: f64, pairs: &[(f64, f64)]) -> f64 {
        pairs.iter().map(|&(g, p)| p * self.utility(c + g)).sum()
    }

    /// How the executed policy's initial stock is chosen.
    fn initial_stock(&self) -> InitialStock {
        InitialStock::Fixed(0.0)
    }

    /// The objective's value from the inner value `inner = E f(c0 + G)` at
    /// initial stock `c0` (the identity for plain expected utilities; for
    /// CVaR, `-c0 + inner / alpha`).
    fn value_from_inner(&self, c0: f64, inner: f64) -> f64 {
        let _ = c0;
        inner
    }

    /// The objective evaluated directly on a return law (for reporting and
    /// for checking executed policies).
    fn evaluate(&self, law: &dyn ReturnDistribution) -> Result<f64>;

    /// Errors unless stock-augmented DP optimises this objective at
    /// discount `gamma`, naming the objective and the reason.
    fn check_optimisable(&self, gamma: f64) -> Result<()>;

    /// Whether greedy actions never depend on the stock (so one stock
    /// bucket suffices and the grid can be skipped). False by default.
    fn stock_blind(&self) -> bool {
        false
    }
}

/// A validated objective, shared by the solvers (cheap to clone).
#[derive(Debug, Clone)]
pub struct Objective(Arc<dyn StockObjective>);

impl Objective {
    /// Validates `objective` once and wraps it.
    pub fn new(objective: impl StockObjective + 'static) -> Result<Self> {
        objective.validate()?;
        Ok(Objective(Arc::new(objective)))
    }

    /// The objective as a trait object.
    pub fn get(&self) -> &dyn StockObjective {
        &*self.0
    }
}

impl std::ops::Deref for Objective {
    type Target = dyn StockObjective;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl FromStr for Objective {
    type Err = Error;

    /// Parses `NAME` or `NAME:ARG:...` through [`REGISTRY`]; the error lists
    /// every registered spelling.
    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        for entry in REGISTRY {
            let rest = if text == entry.name {
                ""
            } else if let Some(rest) = text
                .strip_prefix(entry.name)
                .and_then(|r| r.strip_prefix(':'))
            {
                rest
            } else {
                continue;
            };
            let args: Vec<&str> = if rest.is_empty() {
                Vec::new()
            } else {
                rest.split(':').collect()
            };
            if args.len() != entry.params.len() {
                return Err(Error::invalid(
                    "objective",
                    text,
                    format!("`{}`", entry.usage()),
                ));
            }
            let mut values = Vec::with_capacity(args.len());
            for (arg, name) in args.iter().zip(entry.params) {
                values.push(
                    arg.parse::<f64>()
                        .map_err(|_| Error::invalid(*name, arg, "a number"))?,
                );
            }
            return (entry.build)(&values);
        }
        Err(Error::invalid("objective", text, registry_usage()))
    }
}

/// One registered objective: its name, its numeric parameters (in order,
/// after the name, separated by `:`), and how to build it.
#[derive(Debug, Clone, Copy)]
pub struct ObjectiveEntry {
    /// The name, e.g. `cvar` (may contain `:`, e.g. `utility:exp`).
    pub name: &'static str,
    /// Parameter names, e.g. `["alpha"]`.
    pub params: &'static [&'static str],
    /// One line on what it is.
    pub about: &'static str,
    /// Builds the validated objective from the parsed parameters (one per
    /// entry of `params`).
    pub build: fn(&[f64]) -> Result<Objective>,
}

impl ObjectiveEntry {
    /// The spelling, e.g. `cvar:ALPHA`.
    pub fn usage(&self) -> String {
        let mut s = self.name.to_string();
        for p in self.params {
            s.push(':');
            s.push_str(&p.to_uppercase());
        }
        s
    }
}

/// Every objective by name: the one list behind `--objective` and the
/// bench. `mean` is an alias of `expectation`.
pub const REGISTRY: &[ObjectiveEntry] = &[
    ObjectiveEntry {
        name: "expectation",
        params: &[],
        about: "E[G], classic DP's objective",
        build: |_| Objective::new(Expectation),
    },
    ObjectiveEntry {
        name: "mean",
        params: &[],
        about: "alias of expectation",
        build: |_| Objective::new(Expectation),
    },
    ObjectiveEntry {
        name: "cvar",
        params: &["alpha"],
        about: "lower-tail CVaR_alpha(G) via Rockafellar-Uryasev",
        build: |v| Objective::new(Cvar::new(v[0])?),
    },
    ObjectiveEntry {
        name: "utility:exp",
        params: &["lambda"],
        about: "exponential utility E[-exp(-lambda G) / lambda] (gamma = 1 only)",
        build: |v| Objective::new(ExpUtility::new(v[0])?),
    },
    ObjectiveEntry {
        name: "threshold",
        params: &["x"],
        about: "P(G >= x)",
        build: |v| Objective::new(Threshold::new(v[0])?),
    },
    ObjectiveEntry {
        name: "homeostatic",
        params: &["x"],
        about: "-E|G - x|",
        build: |v| Objective::new(Homeostatic::new(v[0])?),
    },
    ObjectiveEntry {
        name: "entropic",
        params: &["lambda"],
        about: "entropic risk -(1/lambda) log E[exp(-lambda G)] (gamma = 1 only)",
        build: |v| Objective::new(EntropicRisk::new(v[0])?),
    },
    ObjectiveEntry {
        name: "mean-variance",
        params: &["lambda"],
        about: "E[G] - lambda Var[G]: parses, refused (not an expected utility)",
        build: |v| Objective::new(MeanVariance::new(v[0])?),
    },
];

/// `expectation | cvar:ALPHA | ...`: every registered spelling.
pub fn registry_usage() -> String {
    REGISTRY
        .iter()
        .map(ObjectiveEntry::usage)
        .collect::<Vec<_>>()
        .join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_parses_and_displays_back() {
        for entry in REGISTRY {
            let args: Vec<String> = entry.params.iter().map(|_| "0.5".to_string()).collect();
            let text = std::iter::once(entry.name.to_string())
                .chain(args)
                .collect::<Vec<_>>()
                .join(":");
            let o: Objective = text.parse().unwrap();
            // Display is the canonical spelling, which parses to the same objective.
            let again: Objective = o.to_string().parse().unwrap();
            assert_eq!(again.to_string(), o.to_string(), "{text}");
        }
        assert_eq!(
            "mean".parse::<Objective>().unwrap().to_string(),
            "expectation"
        );
    }

    #[test]
    fn bad_spellings_name_the_value() {
        let e = "cvar:0".parse::<Objective>().unwrap_err().to_string();
        assert!(e.contains("alpha") && e.contains('0'), "{e}");
        assert!("cvar:1.5".parse::<Objective>().is_err());
        let e = "cvar:x".parse::<Objective>().unwrap_err().to_string();
        assert!(e.contains("alpha") && e.contains('x'), "{e}");
        let e = "cvar".parse::<Objective>().unwrap_err().to_string();
        assert!(e.contains("cvar:ALPHA"), "{e}");
        let e = "median".parse::<Objective>().unwrap_err().to_string();
        assert!(e.contains("median") && e.contains("entropic:LAMBDA"), "{e}");
        assert!("utility:exp:0".parse::<Objective>().is_err());
    }

    #[test]
    fn optimisability_rules() {
        let o = |t: &str| t.parse::<Objective>().unwrap();
        let e = o("mean-variance:1")
            .check_optimisable(1.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("mean-variance"), "{e}");
        assert!(o("utility:exp:1").check_optimisable(0.9).is_err());
        assert!(o("utility:exp:1").check_optimisable(1.0).is_ok());
        assert!(o("entropic:1").check_optimisable(0.9).is_err());
        for t in ["cvar:0.1", "threshold:1", "homeostatic:0", "expectation"] {
            o(t).check_optimisable(0.9).unwrap();
        }
    }

    #[test]
    fn consistency_conditions_hold_numerically() {
        // f(gamma x) = a f(x) + b for the utilities optimisable at gamma < 1.
        let g = 0.9;
        let cases: [(&dyn StockObjective, f64); 4] = [
            (&Expectation, g),
            (&Cvar::new(0.3).unwrap(), g),
            (&Homeostatic::new(1.0).unwrap(), g),
            (&Threshold::new(1.0).unwrap(), 1.0),
        ];
        for (o, a) in cases {
            for x in [-3.0, -0.5, 0.5, 2.0] {
                assert!((o.utility(g * x) - a * o.utility(x)).abs() < 1e-12, "{o}");
            }
        }
    }
}
