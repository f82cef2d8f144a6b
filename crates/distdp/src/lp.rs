//! The linear-programming view of a discounted MDP ("Dual RL", Sikchi et al.
//! 2024, §3; Puterman §6.9), solved exactly by a dense two-phase simplex with
//! Bland's anti-cycling rule.
//!
//! - **Primal (values):** `min_V sum_s mu(s) V(s)` s.t.
//!   `V(s) >= r(s, a) + gamma sum_s' P(s'|s, a) V(s')` for all `(s, a)`.
//! - **Dual (occupancy measures):** `max_x sum_{s,a} r(s, a) x(s, a)` s.t.
//!   `sum_a x(s', a) - gamma sum_{s,a} P(s'|s, a) x(s, a) = mu(s')`, `x >= 0`.
//!
//! Strong duality makes both optima equal `sum_s mu(s) V*(s)`; the dual
//! solution's support gives an optimal policy.

use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::mdp::FiniteMdp;

pub use duality_core::numerics::simplex::LpSolution;
use duality_core::numerics::simplex::{minimize_standard, PivotRule, SimplexOptions};

/// Solves `min c^T x` s.t. `A x = b`, `x >= 0` with the workspace's two-phase
/// tableau simplex ([`duality_core::numerics::simplex`]) under Bland's rule
/// (lowest-index entering and leaving variables), which cannot cycle.
/// Errors on infeasible or unbounded problems.
pub fn simplex(a: &[Vec<f64>], b: &[f64], c: &[f64]) -> Result<LpSolution> {
    minimize_standard(a, b, c, &SimplexOptions::new(PivotRule::Bland))
}

/// Primal and dual LP solutions of a discounted MDP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MdpLpSolution {
    /// Primal optimum `sum_s mu(s) V(s)`.
    pub primal_objective: f64,
    /// Dual optimum `sum_{s,a} r(s, a) x(s, a)`.
    pub dual_objective: f64,
    /// Optimal values from the primal.
    pub values: Vec<f64>,
    /// Occupancy measure `x[s][a]` from the dual.
    pub occupancy: Vec<Vec<f64>>,
    /// Policy read off the dual (action with the largest occupancy per state).
    pub policy: Vec<usize>,
}

/// Solves both LPs of an infinite-horizon discounted MDP with initial
/// distribution `mu` (all entries > 0, so that the primal pins down `V*` in
/// every state).
pub fn solve_mdp_lp(mdp: &FiniteMdp, mu: &[f64]) -> Result<MdpLpSolution> {
    if mdp.horizon().is_some() {
        return Err(Error::invalid(
            "horizon",
            mdp.horizon().unwrap_or(0),
            "an infinite-horizon (discounted) MDP for the LP formulation",
        ));
    }
    let ns = mdp.n_states();
    let na = mdp.n_actions();
    duality_core::check::same_len("mu", mu.len(), "states", ns)?;
    duality_core::check::distribution("mu", mu, 1e-9)?;
    let gamma = mdp.gamma();
    // Primal: variables V+ (ns), V- (ns), slack e (ns*na):
    // (V+ - V-)(s) - gamma sum P V(s') - e(s,a) = r(s,a).
    let nv = 2 * ns + ns * na;
    let mut a = Vec::with_capacity(ns * na);
    let mut b = Vec::with_capacity(ns * na);
    for s in 0..ns {
        for act in 0..na {
            let mut row = vec![0.0; nv];
            row[s] += 1.0;
            row[ns + s] -= 1.0;
            for o in mdp.outcomes(s, act) {
                row[o.next] -= gamma * o.prob;
                row[ns + o.next] += gamma * o.prob;
            }
            row[2 * ns + s * na + act] = -1.0;
            a.push(row);
            b.push(mdp.expected_reward(s, act));
        }
    }
    let mut c = vec![0.0; nv];
    for s in 0..ns {
        c[s] = mu[s];
        c[ns + s] = -mu[s];
    }
    let primal = simplex(&a, &b, &c)?;
    let values: Vec<f64> = (0..ns).map(|s| primal.x[s] - primal.x[ns + s]).collect();

    // Dual: variables x(s,a); equality per state s'.
    let nx = ns * na;
    let mut a = vec![vec![0.0; nx]; ns];
    for s in 0..ns {
        for act in 0..na {
            let j = s * na + act;
            a[s][j] += 1.0;
            for o in mdp.outcomes(s, act) {
                a[o.next][j] -= gamma * o.prob;
            }
        }
    }
    let c: Vec<f64> = (0..ns)
        .flat_map(|s| (0..na).map(move |act| (s, act)))
        .map(|(s, act)| -mdp.expected_reward(s, act))
        .collect();
    let dual = simplex(&a, mu, &c)?;
    let occupancy: Vec<Vec<f64>> = (0..ns)
        .map(|s| dual.x[s * na..(s + 1) * na].to_vec())
        .collect();
    let policy = occupancy
        .iter()
        .map(|row| {
            (0..na)
                .max_by(|&i, &j| row[i].total_cmp(&row[j]).then(j.cmp(&i)))
                .unwrap_or(0)
        })
        .collect();
    Ok(MdpLpSolution {
        primal_objective: primal.objective,
        dual_objective: -dual.objective,
        values,
        occupancy,
        policy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::{value_iteration, IterParams};
    use crate::mdp::library;
    use duality_core::seed::Seeder;

    #[test]
    fn small_lp_hand_checked() {
        // min -x1 - x2 s.t. x1 + x2 + s1 = 4, x1 + 3 x2 + s2 = 6 -> optimum -4.
        let a = vec![vec![1.0, 1.0, 1.0, 0.0], vec![1.0, 3.0, 0.0, 1.0]];
        let sol = simplex(&a, &[4.0, 6.0], &[-1.0, -1.0, 0.0, 0.0]).unwrap();
        assert!((sol.objective + 4.0).abs() < 1e-12);
        // Infeasible: x1 = -1 with x1 >= 0.
        assert!(simplex(&[vec![1.0]], &[-1.0], &[1.0]).is_err());
        // Unbounded: min -x1 with x1 - x2 = 0.
        assert!(simplex(&[vec![1.0, -1.0]], &[0.0], &[-1.0, 0.0]).is_err());
    }

    #[test]
    fn primal_equals_dual_equals_value_iteration() {
        let mut rng = Seeder::new(7).rng(0);
        let mdps = vec![
            library::random(8, 3, 3, 0.9, &mut rng).unwrap(),
            library::chain(5, 0.1, 0.95).unwrap(),
            library::cliff(4, 3, 0.1, 0.9, None).unwrap(),
        ];
        for m in mdps {
            let mu = vec![1.0 / m.n_states() as f64; m.n_states()];
            let lp = solve_mdp_lp(&m, &mu).unwrap();
            assert!(
                (lp.primal_objective - lp.dual_objective).abs() < 1e-8,
                "{} vs {}",
                lp.primal_objective,
                lp.dual_objective
            );
            let vi = value_iteration(&m, IterParams::new(1e-13, 100_000).unwrap()).unwrap();
            for (x, y) in lp.values.iter().zip(&vi.values) {
                assert!((x - y).abs() < 1e-7, "{x} vs {y}");
            }
            // The dual's policy is optimal.
            let v = crate::classic::evaluate_policy(&m, &lp.policy).unwrap();
            for (x, y) in v.iter().zip(&vi.values) {
                assert!((x - y).abs() < 1e-7);
            }
        }
    }
}
