//! The built-in objectives (Pires, Rowland, Borsa et al. 2025, §5 and
//! Table 1): expectation, exponential utility, CVaR via Rockafellar-Uryasev,
//! threshold probability, homeostatic regulation, and mean-variance, which
//! is present so that its refusal is explicit and tested.

use std::fmt;

use duality_core::config::Validate;
use duality_core::{Error, Result};

use super::{InitialStock, StockObjective};
use crate::dist::ReturnDistribution;

/// `E[G]`: `f(x) = x`, `f(gamma x) = gamma f(x)`; reproduces classic value
/// iteration. The stock only shifts every action's score equally, so it is
/// ignored (one stock bucket).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Expectation;

impl Validate for Expectation {
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expectation")
    }
}

impl StockObjective for Expectation {
    fn utility(&self, x: f64) -> f64 {
        x
    }
    fn evaluate(&self, law: &dyn ReturnDistribution) -> Result<f64> {
        Ok(law.mean())
    }
    fn check_optimisable(&self, _gamma: f64) -> Result<()> {
        Ok(())
    }
    fn stock_blind(&self) -> bool {
        true
    }
}

/// Exponential utility `E[-exp(-lambda G) / lambda]` (risk-averse for
/// `lambda > 0`). Optimisable only at `gamma = 1`: no `a, b` give
/// `f(gamma x) = a f(x) + b` for `gamma < 1`. The stock `c` scales every
/// action's score by `exp(-lambda c) > 0`, so greedy actions ignore it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpUtility {
    lambda: f64,
}

impl ExpUtility {
    /// Checked: `lambda` finite and non-zero.
    pub fn new(lambda: f64) -> Result<Self> {
        let o = ExpUtility { lambda };
        o.validate()?;
        Ok(o)
    }
    /// The risk parameter.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }
}

/// Errors unless `lambda` is finite and non-zero (shared by the exponential
/// objectives).
pub(super) fn check_lambda(lambda: f64) -> Result<()> {
    duality_core::check::finite_scalar("lambda", lambda)?;
    if lambda == 0.0 {
        return Err(Error::invalid("lambda", lambda, "a non-zero number"));
    }
    Ok(())
}

/// The refusal of an exponential objective at `gamma < 1`.
pub(super) fn exponential_needs_gamma_one(what: &str, gamma: f64) -> Result<()> {
    if gamma < 1.0 {
        return Err(Error::invalid(
            "objective",
            format!("{what} with gamma = {gamma}"),
            "gamma = 1: f(x) = -exp(-lambda x)/lambda has no a, b with \
             f(gamma x) = a f(x) + b when gamma < 1",
        ));
    }
    Ok(())
}

impl Validate for ExpUtility {
    fn validate(&self) -> Result<()> {
        check_lambda(self.lambda)
    }
}

impl fmt::Display for ExpUtility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "utility:exp:{}", self.lambda)
    }
}

impl StockObjective for ExpUtility {
    fn utility(&self, x: f64) -> f64 {
        -(-self.lambda * x).exp() / self.lambda
    }
    fn evaluate(&self, law: &dyn ReturnDistribution) -> Result<f64> {
        Ok(law.expected_utility(&|x| self.utility(x)))
    }
    fn check_optimisable(&self, gamma: f64) -> Result<()> {
        exponential_needs_gamma_one("exponential utility", gamma)
    }
    fn stock_blind(&self) -> bool {
        true
    }
}

/// Lower-tail `CVaR_alpha(G)` by Rockafellar-Uryasev:
/// `CVaR_alpha(G) = max_c c + E[min(G - c, 0)] / alpha`. The inner problem is
/// the utility `f(x) = min(x, 0)` (`f(gamma x) = gamma f(x)`) at initial
/// stock `c_0 = -c`; the outer search runs over `c_0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cvar {
    alpha: f64,
}

impl Cvar {
    /// Checked: `alpha` in `(0, 1]`.
    pub fn new(alpha: f64) -> Result<Self> {
        let o = Cvar { alpha };
        o.validate()?;
        Ok(o)
    }
    /// The level.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
}

impl Validate for Cvar {
    fn validate(&self) -> Result<()> {
        if self.alpha > 0.0 && self.alpha <= 1.0 {
            Ok(())
        } else {
            Err(Error::invalid("alpha", self.alpha, "a level in (0, 1]"))
        }
    }
}

impl fmt::Display for Cvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cvar:{}", self.alpha)
    }
}

impl StockObjective for Cvar {
    fn utility(&self, x: f64) -> f64 {
        x.min(0.0)
    }
    fn initial_stock(&self) -> InitialStock {
        InitialStock::Search
    }
    fn value_from_inner(&self, c0: f64, inner: f64) -> f64 {
        -c0 + inner / self.alpha
    }
    fn evaluate(&self, law: &dyn ReturnDistribution) -> Result<f64> {
        law.cvar(self.alpha)
    }
    fn check_optimisable(&self, _gamma: f64) -> Result<()> {
        Ok(())
    }
}

/// `P(G >= level)`: `f(x) = 1{x >= 0}` (`f(gamma x) = f(x)`) at initial
/// stock `-level`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    level: f64,
}

impl Threshold {
    /// Checked: `level` finite.
    pub fn new(level: f64) -> Result<Self> {
        let o = Threshold { level };
        o.validate()?;
        Ok(o)
    }
    /// The return level to reach.
    pub fn level(&self) -> f64 {
        self.level
    }
}

impl Validate for Threshold {
    fn validate(&self) -> Result<()> {
        duality_core::check::finite_scalar("threshold", self.level)
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "threshold:{}", self.level)
    }
}

impl StockObjective for Threshold {
    fn utility(&self, x: f64) -> f64 {
        // Tolerance: stock + return sums accumulate rounding.
        if x >= -1e-9 {
            1.0
        } else {
            0.0
        }
    }
    fn initial_stock(&self) -> InitialStock {
        InitialStock::Fixed(-self.level)
    }
    fn evaluate(&self, law: &dyn ReturnDistribution) -> Result<f64> {
        Ok(law.expected_utility(&|x| if x >= self.level { 1.0 } else { 0.0 }))
    }
    fn check_optimisable(&self, _gamma: f64) -> Result<()> {
        Ok(())
    }
}

/// Homeostatic regulation `-E|G - target|`: `f(x) = -|x|`
/// (`f(gamma x) = gamma f(x)`) at initial stock `-target`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Homeostatic {
    target: f64,
}

impl Homeostatic {
    /// Checked: `target` finite.
    pub fn new(target: f64) -> Result<Self> {
        let o = Homeostatic { target };
        o.validate()?;
        Ok(o)
    }
    /// The target return.
    pub fn target(&self) -> f64 {
        self.target
    }
}

impl Validate for Homeostatic {
    fn validate(&self) -> Result<()> {
        duality_core::check::finite_scalar("target", self.target)
    }
}

impl fmt::Display for Homeostatic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "homeostatic:{}", self.target)
    }
}

impl StockObjective for Homeostatic {
    fn utility(&self, x: f64) -> f64 {
        -x.abs()
    }
    fn initial_stock(&self) -> InitialStock {
        InitialStock::Fixed(-self.target)
    }
    fn evaluate(&self, law: &dyn ReturnDistribution) -> Result<f64> {
        Ok(law.expected_utility(&|x| -(x - self.target).abs()))
    }
    fn check_optimisable(&self, _gamma: f64) -> Result<()> {
        Ok(())
    }
}

/// `E[G] - lambda Var[G]`: NOT optimisable by stock-augmented DP. It is not
/// an expected utility (not indifferent to mixtures), so no
/// Bellman-consistent greedy policy exists; it parses so that the refusal is
/// explicit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanVariance {
    lambda: f64,
}

impl MeanVariance {
    /// Checked: `lambda` finite.
    pub fn new(lambda: f64) -> Result<Self> {
        let o = MeanVariance { lambda };
        o.validate()?;
        Ok(o)
    }
    /// The variance penalty.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }
}

impl Validate for MeanVariance {
    fn validate(&self) -> Result<()> {
        duality_core::check::finite_scalar("lambda", self.lambda)
    }
}

impl fmt::Display for MeanVariance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mean-variance:{}", self.lambda)
    }
}

impl StockObjective for MeanVariance {
    /// Never used by a solver (refused first); the identity keeps it total.
    fn utility(&self, x: f64) -> f64 {
        x
    }
    fn evaluate(&self, law: &dyn ReturnDistribution) -> Result<f64> {
        Ok(law.mean() - self.lambda * law.variance())
    }
    fn check_optimisable(&self, _gamma: f64) -> Result<()> {
        Err(Error::invalid(
            "objective",
            "mean-variance",
            "an objective optimisable by stock-augmented DP: mean-variance is not an \
             expected utility (not indifferent to mixtures), so no Bellman-consistent \
             greedy policy exists",
        ))
    }
}
