//! The entropic risk measure (exponential certainty equivalent),
//! `rho_lambda(G) = -(1/lambda) log E[exp(-lambda G)]`, listed by Pires,
//! Rowland, Borsa et al. (2025, Table 1) among the objectives stock-augmented
//! DP optimises. It is a strictly increasing transform of the exponential
//! utility `E[-exp(-lambda G) / lambda]`, so the DP maximises that utility
//! and reports the certainty equivalent; like the utility it needs
//! `gamma = 1`. Risk-averse for `lambda > 0` (below the mean, by Jensen),
//! risk-seeking for `lambda < 0`, the mean as `lambda -> 0`.

use std::fmt;

use duality_core::config::Validate;
use duality_core::Result;

use super::builtin::{check_lambda, exponential_needs_gamma_one};
use super::StockObjective;
use crate::dist::ReturnDistribution;

/// `-(1/lambda) log E[exp(-lambda G)]`, by the DP of the exponential utility.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EntropicRisk {
    lambda: f64,
}

impl EntropicRisk {
    /// Checked: `lambda` finite and non-zero.
    pub fn new(lambda: f64) -> Result<Self> {
        let o = EntropicRisk { lambda };
        o.validate()?;
        Ok(o)
    }
    /// The risk-aversion parameter.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }
}

impl Validate for EntropicRisk {
    fn validate(&self) -> Result<()> {
        check_lambda(self.lambda)
    }
}

impl fmt::Display for EntropicRisk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entropic:{}", self.lambda)
    }
}

impl StockObjective for EntropicRisk {
    fn utility(&self, x: f64) -> f64 {
        -(-self.lambda * x).exp() / self.lambda
    }

    /// `inner = E[-exp(-lambda (c0 + G)) / lambda]`, so
    /// `E[exp(-lambda G)] = -lambda inner exp(lambda c0)`.
    fn value_from_inner(&self, c0: f64, inner: f64) -> f64 {
        -(-self.lambda * inner).ln() / self.lambda - c0
    }

    /// Log-sum-exp, so large `|lambda G|` does not overflow.
    fn evaluate(&self, law: &dyn ReturnDistribution) -> Result<f64> {
        let l = self.lambda;
        let m = law
            .atoms()
            .iter()
            .map(|&x| -l * x)
            .fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = law
            .atoms()
            .iter()
            .zip(law.probs())
            .map(|(&x, &p)| p * (-l * x - m).exp())
            .sum();
        Ok(-(m + s.ln()) / l)
    }

    fn check_optimisable(&self, gamma: f64) -> Result<()> {
        exponential_needs_gamma_one("entropic risk", gamma)
    }

    /// The stock scales every action's utility by `exp(-lambda c) > 0`.
    fn stock_blind(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::{FiniteSupport, Representation};
    use crate::mdp::{library, FiniteMdp};
    use crate::objective::Objective;
    use crate::solve::{solve, SolveSpec, StockModel};

    /// Every return law reachable by a deterministic history-dependent
    /// policy from `(t, s)`: each action, then an independent sub-policy per
    /// outcome branch (the history), as weighted atoms of the return to go.
    fn all_laws(mdp: &FiniteMdp, t: usize, s: usize, h: usize) -> Vec<Vec<(f64, f64)>> {
        if t == h || mdp.is_terminal(s) {
            return vec![vec![(0.0, 1.0)]];
        }
        let mut out = Vec::new();
        for a in 0..mdp.n_actions() {
            let mut laws: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
            for o in mdp.outcomes(s, a) {
                let subs = all_laws(mdp, t + 1, o.next, h);
                let mut next = Vec::with_capacity(laws.len() * subs.len());
                for law in &laws {
                    for sub in &subs {
                        let mut l = law.clone();
                        l.extend(sub.iter().map(|&(g, p)| (o.reward + g, o.prob * p)));
                        next.push(l);
                    }
                }
                laws = next;
            }
            out.extend(laws);
        }
        out
    }

    #[test]
    fn dp_matches_brute_force_over_history_dependent_policies() {
        // Three rounds, stakes 0..=2, favourable bet: hundreds of policies.
        let mdp = library::gambling(3, 2, 1, 0.55, 1.0, 3).unwrap();
        let laws = all_laws(&mdp, 0, mdp.start(), 3);
        assert!(laws.len() > 100, "{}", laws.len());
        for lambda in [0.3, 1.0, -0.5] {
            let obj = EntropicRisk::new(lambda).unwrap();
            let brute = laws
                .iter()
                .map(|l| {
                    obj.evaluate(&FiniteSupport::from_weighted(l.clone()))
                        .unwrap()
                })
                .fold(f64::NEG_INFINITY, f64::max);
            for stock in [StockModel::Exact, StockModel::Buckets(11)] {
                let spec = SolveSpec::new(
                    Objective::new(obj).unwrap(),
                    stock,
                    Representation::Exact { budget: None },
                )
                .unwrap();
                let sol = solve(&mdp, &spec).unwrap();
                assert!(
                    (sol.value - brute).abs() < 1e-9,
                    "lambda {lambda} {stock}: DP {} vs brute force {brute}",
                    sol.value
                );
                // The reported value is the executed law's certainty equivalent.
                assert!((obj.evaluate(&sol.law).unwrap() - sol.value).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn closed_form_and_limits() {
        // One fair coin on +-1: rho = -(1/l) log cosh(l) exactly.
        let law = FiniteSupport::new(vec![-1.0, 1.0], vec![0.5, 0.5]).unwrap();
        for l in [0.1f64, 1.0, 5.0, 800.0] {
            let want = -l.cosh().ln() / l;
            let want = if l > 700.0 {
                -1.0 + 2f64.ln() / l
            } else {
                want
            };
            let got = EntropicRisk::new(l).unwrap().evaluate(&law).unwrap();
            assert!((got - want).abs() < 1e-12, "{l}: {got} vs {want}");
        }
        // lambda -> 0 recovers the mean; value_from_inner inverts the utility.
        let skew = FiniteSupport::new(vec![-2.0, 0.0, 3.0], vec![0.2, 0.5, 0.3]).unwrap();
        let tiny = EntropicRisk::new(1e-7).unwrap();
        assert!((tiny.evaluate(&skew).unwrap() - skew.mean()).abs() < 1e-6);
        let o = EntropicRisk::new(0.7).unwrap();
        let c0 = 0.4;
        let inner = skew.expected_utility(&|x| o.utility(c0 + x));
        assert!((o.value_from_inner(c0, inner) - o.evaluate(&skew).unwrap()).abs() < 1e-12);
        assert!(EntropicRisk::new(0.0).is_err() && EntropicRisk::new(f64::NAN).is_err());
    }
}
