//! Exact stock-augmented distributional DP for a finite-horizon MDP
//! (Pires, Rowland, Borsa et al. 2025, §5 with the exact stock): a memoised
//! backward recursion over the augmented states `(t, s, c)` reachable from
//! `c_0`, keyed by the stock's bits. Exact with
//! `Representation::Exact { budget: None }`; the number of reachable stocks
//! can grow exponentially in the horizon, so it suits small problems.

use std::collections::HashMap;

use duality_core::{Error, Result};

use super::{next_stock, Candidate, ExactPolicy};
use crate::dist::{FiniteSupport, Representation, ReturnDistribution};
use crate::mdp::FiniteMdp;
use crate::objective::StockObjective;

/// Exact solution from one initial stock.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExactSolution {
    /// Return law from the start state under the greedy policy.
    pub(crate) law: FiniteSupport,
    /// Inner value `E f(c_0 + G)`.
    pub(crate) value: f64,
    /// Greedy actions keyed by `(t, s, stock bits)`.
    pub(crate) policy: ExactPolicy,
}

struct ExactSolver<'a> {
    mdp: &'a FiniteMdp,
    objective: &'a dyn StockObjective,
    repr: &'a Representation,
    horizon: usize,
    memo: HashMap<(usize, usize, u64), FiniteSupport>,
    policy: ExactPolicy,
}

impl ExactSolver<'_> {
    fn solve(&mut self, t: usize, s: usize, c: f64) -> FiniteSupport {
        if t >= self.horizon || self.mdp.is_terminal(s) {
            return FiniteSupport::dirac(0.0);
        }
        let key = (t, s, c.to_bits());
        if let Some(law) = self.memo.get(&key) {
            return law.clone();
        }
        let mdp = self.mdp;
        let gamma = mdp.gamma();
        let mut best: Option<Candidate> = None;
        for a in 0..mdp.n_actions() {
            let mut pairs = Vec::new();
            for o in mdp.outcomes(s, a) {
                let next = self.solve(t + 1, o.next, next_stock(c, o.reward, gamma));
                for (&g, &p) in next.atoms().iter().zip(next.probs()) {
                    pairs.push((o.reward + gamma * g, o.prob * p));
                }
            }
            let score = self.objective.expected_utility(c, &pairs);
            if Candidate::beaten_by(&best, score) {
                best = Some(Candidate {
                    action: a,
                    score,
                    target: pairs,
                });
            }
        }
        // n_actions >= 1 (checked at construction), so `best` is set.
        let (a, pairs) = best.map_or((0, vec![(0.0, 1.0)]), |b| (b.action, b.target));
        let law = self.repr.project(pairs);
        self.policy.insert(key, a);
        self.memo.insert(key, law.clone());
        law
    }
}

/// Solves from initial stock `c0`; errors if the MDP has no finite horizon.
pub(crate) fn solve_exact(
    mdp: &FiniteMdp,
    objective: &dyn StockObjective,
    c0: f64,
    repr: &Representation,
) -> Result<ExactSolution> {
    let Some(horizon) = mdp.horizon() else {
        return Err(Error::invalid(
            "horizon",
            "none",
            "a finite horizon for the exact stock recursion (use the stock grid otherwise)",
        ));
    };
    let mut solver = ExactSolver {
        mdp,
        objective,
        repr,
        horizon,
        memo: HashMap::new(),
        policy: ExactPolicy::default(),
    };
    let law = solver.solve(0, mdp.start(), c0);
    let value = law.expected_utility(&|x| objective.utility(c0 + x));
    Ok(ExactSolution {
        law,
        value,
        policy: solver.policy,
    })
}
