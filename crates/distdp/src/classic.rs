//! Classic (expected-value) dynamic programming: value iteration, policy
//! iteration and policy evaluation (Puterman, *Markov Decision Processes*,
//! §6.3 and §6.4), plus backward induction for finite horizons. These are the
//! exact baselines the distributional methods must reproduce for the
//! expectation objective.

use duality_core::config::Validate;
use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::mdp::FiniteMdp;

/// Stopping rule for iterative solvers: a tolerance on the sup-norm change
/// between iterates and an iteration cap. Checked once, at construction
/// ([`IterParams::new`]); the solvers never re-check it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "IterParamsFile")]
pub struct IterParams {
    tol: f64,
    max_iter: usize,
}

/// The serialised form of [`IterParams`], checked on the way in.
#[derive(Deserialize)]
struct IterParamsFile {
    tol: f64,
    max_iter: usize,
}

impl TryFrom<IterParamsFile> for IterParams {
    type Error = Error;
    fn try_from(f: IterParamsFile) -> Result<Self> {
        IterParams::new(f.tol, f.max_iter)
    }
}

impl Default for IterParams {
    /// `tol = 1e-10`, `max_iter = 100_000`.
    fn default() -> Self {
        IterParams {
            tol: 1e-10,
            max_iter: 100_000,
        }
    }
}

impl IterParams {
    /// A checked stopping rule: `tol > 0` (finite) and `max_iter >= 1`.
    pub fn new(tol: f64, max_iter: usize) -> Result<Self> {
        let p = IterParams { tol, max_iter };
        p.validate()?;
        Ok(p)
    }

    /// The tolerance on the sup-norm change between iterates.
    pub fn tol(&self) -> f64 {
        self.tol
    }

    /// The iteration cap.
    pub fn max_iter(&self) -> usize {
        self.max_iter
    }
}

impl Validate for IterParams {
    /// Checks `tol > 0` and `max_iter >= 1`.
    fn validate(&self) -> Result<()> {
        duality_core::check::positive("tol", self.tol)?;
        duality_core::check::at_least("max_iter", self.max_iter, 1)
    }
}

/// Values and a (possibly time-dependent) deterministic policy from classic
/// (expected-value) dynamic programming.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassicSolution {
    /// Optimal values at time 0, per state.
    pub values: Vec<f64>,
    /// `policy[t][s]`: action at time `t` (one row for stationary policies).
    pub policy: Vec<Vec<usize>>,
    /// Iterations used.
    pub iterations: usize,
    /// Sup-norm change per iteration.
    pub residuals: Vec<f64>,
}

/// A greedy action and its value `Q(s, a)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GreedyAction {
    /// The action (lowest index among ties within `1e-12`).
    pub action: usize,
    /// Its value `Q(s, action)`.
    pub value: f64,
}

/// `Q(s, a) = E[R + gamma V(S')]`.
pub fn q_value(mdp: &FiniteMdp, values: &[f64], s: usize, a: usize) -> f64 {
    mdp.outcomes(s, a)
        .iter()
        .map(|o| o.prob * (o.reward + mdp.gamma() * values[o.next]))
        .sum()
}

/// Greedy action in `s` (lowest index among ties within `1e-12`) and its value.
pub fn greedy(mdp: &FiniteMdp, values: &[f64], s: usize) -> GreedyAction {
    let mut best = GreedyAction {
        action: 0,
        value: f64::NEG_INFINITY,
    };
    for a in 0..mdp.n_actions() {
        let q = q_value(mdp, values, s, a);
        if q > best.value + 1e-12 {
            best = GreedyAction {
                action: a,
                value: q,
            };
        }
    }
    best
}

/// Value iteration `V <- max_a E[R + gamma V(S')]` (infinite horizon), or
/// backward induction over `horizon` steps (finite horizon, exact).
pub fn value_iteration(mdp: &FiniteMdp, params: IterParams) -> Result<ClassicSolution> {
    let n = mdp.n_states();
    if let Some(h) = mdp.horizon() {
        let mut v = vec![0.0; n];
        let mut policy = vec![vec![0; n]; h];
        let mut residuals = Vec::with_capacity(h);
        for t in (0..h).rev() {
            let mut next = vec![0.0; n];
            for s in 0..n {
                let g = greedy(mdp, &v, s);
                next[s] = g.value;
                policy[t][s] = g.action;
            }
            residuals.push(sup_diff(&next, &v));
            v = next;
        }
        return Ok(ClassicSolution {
            values: v,
            policy,
            iterations: h,
            residuals,
        });
    }
    let mut v = vec![0.0; n];
    let mut residuals = Vec::new();
    for it in 1..=params.max_iter() {
        let next: Vec<f64> = (0..n).map(|s| greedy(mdp, &v, s).value).collect();
        let r = sup_diff(&next, &v);
        residuals.push(r);
        v = next;
        if r < params.tol() {
            let policy = (0..n).map(|s| greedy(mdp, &v, s).action).collect();
            return Ok(ClassicSolution {
                values: v,
                policy: vec![policy],
                iterations: it,
                residuals,
            });
        }
    }
    Err(Error::Other(format!(
        "value iteration did not reach tol = {:e} in max_iter = {} iterations",
        params.tol(),
        params.max_iter()
    )))
}

/// Exact values of a stationary deterministic policy by solving
/// `(I - gamma P_pi) V = r_pi` (Gaussian elimination with partial pivoting).
pub fn evaluate_policy(mdp: &FiniteMdp, policy: &[usize]) -> Result<Vec<f64>> {
    let n = mdp.n_states();
    duality_core::check::same_len("policy", policy.len(), "states", n)?;
    if let Some((s, &a)) = policy
        .iter()
        .enumerate()
        .find(|(_, &a)| a >= mdp.n_actions())
    {
        return Err(Error::invalid(
            format!("policy[{s}]"),
            a,
            format!("an action < {}", mdp.n_actions()),
        ));
    }
    if let Some(h) = mdp.horizon() {
        let mut v = vec![0.0; n];
        for _ in 0..h {
            v = (0..n).map(|s| q_value(mdp, &v, s, policy[s])).collect();
        }
        return Ok(v);
    }
    let mut m = vec![vec![0.0; n + 1]; n];
    for s in 0..n {
        m[s][s] += 1.0;
        for o in mdp.outcomes(s, policy[s]) {
            m[s][o.next] -= mdp.gamma() * o.prob;
            m[s][n] += o.prob * o.reward;
        }
    }
    solve_dense(m)
}

/// Solves an augmented `n x (n+1)` system (rows `[A | b]`) with
/// duality-core's partial-pivoting LU; pivots below `1e-14` mean singular.
pub(crate) fn solve_dense(m: Vec<Vec<f64>>) -> Result<Vec<f64>> {
    let n = m.len();
    let mut a = Vec::with_capacity(n * n);
    let mut b = Vec::with_capacity(n);
    for row in m {
        a.extend_from_slice(&row[..n]);
        b.push(row[n]);
    }
    duality_core::linalg::solve_lu(a, b, n, 1e-14)
}

/// Policy iteration (Howard): exact evaluation, then greedy improvement that
/// keeps the current action on ties, until the policy is stable. Infinite
/// horizon only (for a finite horizon, backward induction is already exact).
pub fn policy_iteration(mdp: &FiniteMdp, max_iter: usize) -> Result<ClassicSolution> {
    if mdp.horizon().is_some() {
        return value_iteration(mdp, IterParams::default());
    }
    duality_core::check::at_least("max_iter", max_iter, 1)?;
    let n = mdp.n_states();
    let mut policy = vec![0usize; n];
    let mut prev = vec![0.0; n];
    let mut residuals = Vec::new();
    for it in 1..=max_iter {
        let v = evaluate_policy(mdp, &policy)?;
        residuals.push(sup_diff(&v, &prev));
        let mut stable = true;
        for s in 0..n {
            let current = q_value(mdp, &v, s, policy[s]);
            let g = greedy(mdp, &v, s);
            if g.value > current + 1e-10 {
                policy[s] = g.action;
                stable = false;
            }
        }
        if stable {
            return Ok(ClassicSolution {
                values: v,
                policy: vec![policy],
                iterations: it,
                residuals,
            });
        }
        prev = v;
    }
    Err(Error::Other(format!(
        "policy iteration did not stabilise in max_iter = {max_iter} iterations"
    )))
}

pub(crate) fn sup_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mdp::library;
    use duality_core::seed::Seeder;

    #[test]
    fn vi_and_pi_agree_on_random_mdps() {
        for seed in 0..5 {
            let mut rng = Seeder::new(seed).rng(0);
            let m = library::random(12, 3, 3, 0.9, &mut rng).unwrap();
            let vi = value_iteration(&m, IterParams::new(1e-12, 100_000).unwrap()).unwrap();
            let pi = policy_iteration(&m, 100).unwrap();
            assert!(sup_diff(&vi.values, &pi.values) < 1e-9);
        }
    }

    #[test]
    fn chain_optimum_hand_checked() {
        // Deterministic 2-state chain, gamma 0.9: going right forever pays 1/(1-0.9)
        // from state 1 and 0.9 * 10 = 9 from state 0; going left pays 0.2/(0.1) = 2.
        let m = library::chain(2, 0.0, 0.9).unwrap();
        let s = value_iteration(&m, IterParams::new(1e-13, 100_000).unwrap()).unwrap();
        assert!((s.values[0] - 9.0).abs() < 1e-9, "{:?}", s.values);
        assert_eq!(s.policy[0], vec![1, 1]);
    }

    #[test]
    fn bad_policy_rejected() {
        let m = library::chain(3, 0.0, 0.9).unwrap();
        assert!(evaluate_policy(&m, &[0, 5, 0]).is_err());
        assert!(evaluate_policy(&m, &[0]).is_err());
    }
}
