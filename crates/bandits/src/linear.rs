//! Linear contextual bandits (Slivkins ch. 8; Lattimore & Szepesvári ch. 19).
//!
//! Features arrive in [`Context::features`](crate::policy::Context): one row
//! per arm. *Disjoint* models keep one ridge regression per arm on that arm's
//! row; *shared* models keep one regression over all arms' rows. Inverses of
//! the design matrices are maintained with Sherman-Morrison rank-one updates,
//! `(A + x x^T)^{-1} = A^{-1} - A^{-1} x x^T A^{-1} / (1 + x^T A^{-1} x)`.
//! Rounds whose features are missing or of the wrong dimension fall back to
//! a zero feature vector (the policy then acts on its bonus/prior only).

use duality_core::{check, Result};
use rand::{Rng, RngCore};
use rand_distr::{Distribution, StandardNormal};

use crate::linalg::{cholesky, dot};
use crate::math::argmax;
use crate::policy::{Arm, Policy, Round};

/// Ridge statistics with a Sherman-Morrison-maintained inverse.
#[derive(Debug, Clone, PartialEq)]
struct RidgeState {
    d: usize,
    lambda: f64,
    a_inv: Vec<f64>,
    b: Vec<f64>,
}

impl RidgeState {
    fn new(d: usize, lambda: f64) -> Self {
        let mut s = RidgeState {
            d,
            lambda,
            a_inv: Vec::new(),
            b: Vec::new(),
        };
        s.reset();
        s
    }
    fn reset(&mut self) {
        self.a_inv = vec![0.0; self.d * self.d];
        for i in 0..self.d {
            self.a_inv[i * self.d + i] = 1.0 / self.lambda;
        }
        self.b = vec![0.0; self.d];
    }
    fn a_inv_x(&self, x: &[f64]) -> Vec<f64> {
        (0..self.d)
            .map(|i| dot(&self.a_inv[i * self.d..(i + 1) * self.d], x))
            .collect()
    }
    fn theta(&self) -> Vec<f64> {
        self.a_inv_x(&self.b)
    }
    /// `x^T A^{-1} x`.
    fn width2(&self, x: &[f64]) -> f64 {
        dot(x, &self.a_inv_x(x)).max(0.0)
    }
    fn add(&mut self, x: &[f64], reward: f64) {
        let ax = self.a_inv_x(x);
        let denom = 1.0 + dot(x, &ax);
        for i in 0..self.d {
            for j in 0..self.d {
                self.a_inv[i * self.d + j] -= ax[i] * ax[j] / denom;
            }
        }
        for (bi, xi) in self.b.iter_mut().zip(x) {
            *bi += reward * xi;
        }
    }
}

fn features<'a>(round: &'a Round<'_>, arm: Arm, d: usize, zero: &'a [f64]) -> &'a [f64] {
    round
        .context
        .and_then(|c| c.features.get(arm))
        .filter(|f| f.len() == d)
        .map_or(zero, Vec::as_slice)
}

/// LinUCB (Li, Chu, Langford & Schapire 2010, Algorithm 1 "disjoint" and
/// the shared-parameter variant): play `argmax <theta, x_a> + alpha sqrt(x_a^T A^{-1} x_a)`.
#[derive(Debug, Clone, PartialEq)]
pub struct LinUcb {
    k: usize,
    d: usize,
    alpha: f64,
    shared: bool,
    models: Vec<RidgeState>,
}

impl LinUcb {
    /// `k` arms, feature dimension `d`, exploration `alpha > 0`, ridge
    /// `lambda > 0`; `shared`: one model over all arms' features.
    pub fn new(k: usize, d: usize, alpha: f64, lambda: f64, shared: bool) -> Result<Self> {
        check::at_least("number of arms", k, 1)?;
        check::at_least("feature dimension", d, 1)?;
        check::positive("alpha", alpha)?;
        check::positive("lambda", lambda)?;
        let n_models = if shared { 1 } else { k };
        Ok(LinUcb {
            k,
            d,
            alpha,
            shared,
            models: vec![RidgeState::new(d, lambda); n_models],
        })
    }
    fn model(&self, arm: Arm) -> &RidgeState {
        &self.models[if self.shared { 0 } else { arm }]
    }
}

impl Policy for LinUcb {
    fn name(&self) -> String {
        if self.shared {
            "linucb-shared".into()
        } else {
            "linucb".into()
        }
    }
    fn n_arms(&self) -> usize {
        self.k
    }
    fn reset(&mut self) {
        self.models.iter_mut().for_each(RidgeState::reset);
    }
    fn select(&mut self, round: &Round<'_>, _rng: &mut dyn RngCore) -> Arm {
        let zero = vec![0.0; self.d];
        let scores: Vec<f64> = (0..self.k)
            .map(|a| {
                let x = features(round, a, self.d, &zero);
                let m = self.model(a);
                dot(&m.theta(), x) + self.alpha * m.width2(x).sqrt()
            })
            .collect();
        argmax(&scores)
    }
    fn update(&mut self, round: &Round<'_>, arm: Arm, reward: f64) {
        let zero = vec![0.0; self.d];
        let x = features(round, arm, self.d, &zero).to_vec();
        let idx = if self.shared { 0 } else { arm.min(self.k - 1) };
        self.models[idx].add(&x, reward);
    }
}

/// Linear Thompson sampling (Agrawal & Goyal 2013, "Thompson sampling for
/// contextual bandits with linear payoffs", Algorithm 1) with a shared
/// model: sample `theta ~ N(theta_hat, v^2 B^{-1})` as
/// `theta_hat + v L z` with `L L^T = B^{-1}` (Cholesky, so the draw is the
/// same on every machine) and play the argmax of `<theta, x_a>`.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearThompson {
    k: usize,
    d: usize,
    v: f64,
    model: RidgeState,
}

impl LinearThompson {
    /// `k` arms, dimension `d`, posterior scale `v > 0`, ridge `lambda > 0`.
    pub fn new(k: usize, d: usize, v: f64, lambda: f64) -> Result<Self> {
        check::at_least("number of arms", k, 1)?;
        check::at_least("feature dimension", d, 1)?;
        check::positive("v", v)?;
        check::positive("lambda", lambda)?;
        Ok(LinearThompson {
            k,
            d,
            v,
            model: RidgeState::new(d, lambda),
        })
    }
}

impl Policy for LinearThompson {
    fn name(&self) -> String {
        "linear-thompson".into()
    }
    fn n_arms(&self) -> usize {
        self.k
    }
    fn reset(&mut self) {
        self.model.reset();
    }
    fn select(&mut self, round: &Round<'_>, rng: &mut dyn RngCore) -> Arm {
        let theta_hat = self.model.theta();
        let z: Vec<f64> = (0..self.d).map(|_| StandardNormal.sample(rng)).collect();
        // Symmetrise before factoring: rank-one updates leave rounding asymmetry.
        let d = self.d;
        let mut sym = self.model.a_inv.clone();
        for i in 0..d {
            for j in 0..i {
                let m = 0.5 * (sym[i * d + j] + sym[j * d + i]);
                sym[i * d + j] = m;
                sym[j * d + i] = m;
            }
        }
        let theta: Vec<f64> = match cholesky(&sym, d) {
            Ok(l) => (0..d)
                .map(|i| theta_hat[i] + self.v * (0..=i).map(|j| l[i * d + j] * z[j]).sum::<f64>())
                .collect(),
            Err(_) => theta_hat,
        };
        let zero = vec![0.0; d];
        let scores: Vec<f64> = (0..self.k)
            .map(|a| dot(&theta, features(round, a, d, &zero)))
            .collect();
        argmax(&scores)
    }
    fn update(&mut self, round: &Round<'_>, arm: Arm, reward: f64) {
        let zero = vec![0.0; self.d];
        let x = features(round, arm, self.d, &zero).to_vec();
        self.model.add(&x, reward);
    }
}

/// Contextual epsilon-greedy: with probability `epsilon` a uniform arm,
/// otherwise the argmax of per-arm ridge predictions (disjoint models).
#[derive(Debug, Clone, PartialEq)]
pub struct ContextualEpsilonGreedy {
    k: usize,
    d: usize,
    epsilon: f64,
    models: Vec<RidgeState>,
}

impl ContextualEpsilonGreedy {
    /// `k` arms, dimension `d`, exploration probability `epsilon`, ridge `lambda`.
    pub fn new(k: usize, d: usize, epsilon: f64, lambda: f64) -> Result<Self> {
        check::at_least("number of arms", k, 1)?;
        check::at_least("feature dimension", d, 1)?;
        check::probability("epsilon", epsilon)?;
        check::positive("lambda", lambda)?;
        Ok(ContextualEpsilonGreedy {
            k,
            d,
            epsilon,
            models: vec![RidgeState::new(d, lambda); k],
        })
    }
}

impl Policy for ContextualEpsilonGreedy {
    fn name(&self) -> String {
        format!("contextual-eps-greedy({})", self.epsilon)
    }
    fn n_arms(&self) -> usize {
        self.k
    }
    fn reset(&mut self) {
        self.models.iter_mut().for_each(RidgeState::reset);
    }
    fn select(&mut self, round: &Round<'_>, rng: &mut dyn RngCore) -> Arm {
        if rng.random::<f64>() < self.epsilon {
            return rng.random_range(0..self.k);
        }
        let zero = vec![0.0; self.d];
        let scores: Vec<f64> = (0..self.k)
            .map(|a| dot(&self.models[a].theta(), features(round, a, self.d, &zero)))
            .collect();
        argmax(&scores)
    }
    fn update(&mut self, round: &Round<'_>, arm: Arm, reward: f64) {
        let zero = vec![0.0; self.d];
        let x = features(round, arm, self.d, &zero).to_vec();
        if let Some(m) = self.models.get_mut(arm) {
            m.add(&x, reward);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::LinearContextual;
    use crate::simulator::{Simulator, SimulatorConfig};
    use crate::stochastic::Ucb1;

    #[test]
    fn sherman_morrison_matches_direct_inverse() {
        let mut s = RidgeState::new(3, 1.0);
        let xs = [[1.0, 0.5, -0.2], [0.3, -1.0, 2.0], [0.0, 0.7, 0.1]];
        for x in &xs {
            s.add(x, 1.0);
        }
        let mut a = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        for x in &xs {
            for i in 0..3 {
                for j in 0..3 {
                    a[i * 3 + j] += x[i] * x[j];
                }
            }
        }
        for i in 0..3 {
            for j in 0..3 {
                let prod: f64 = (0..3).map(|k| a[i * 3 + k] * s.a_inv[k * 3 + j]).sum();
                assert!((prod - f64::from(u8::from(i == j))).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn linear_policies_beat_context_blind_ucb() {
        let thetas = vec![
            vec![1.0, 0.0, 0.5],
            vec![-0.5, 1.0, 0.0],
            vec![0.0, -1.0, 1.0],
            vec![0.5, 0.5, -1.0],
        ];
        let env = LinearContextual::new(thetas, 0.1, false).unwrap();
        let policies: Vec<Box<dyn Policy>> = vec![
            Box::new(LinUcb::new(4, 3, 1.0, 1.0, false).unwrap()),
            Box::new(ContextualEpsilonGreedy::new(4, 3, 0.05, 1.0).unwrap()),
            Box::new(Ucb1::new(4).unwrap()),
        ];
        let sim = Simulator::new(
            SimulatorConfig::default()
                .horizon(2000)
                .repetitions(4)
                .seed(1),
        )
        .unwrap();
        let r = sim.run(&env, &policies).unwrap();
        let reg = |r: &crate::simulator::SimulationResult, i: usize| {
            r.policies[i].final_pseudo_regrets().iter().sum::<f64>() / 4.0
        };
        assert!(
            reg(&r, 0) < 0.3 * reg(&r, 2),
            "linucb {} ucb1 {}",
            reg(&r, 0),
            reg(&r, 2)
        );
        assert!(
            reg(&r, 1) < 0.5 * reg(&r, 2),
            "eps {} ucb1 {}",
            reg(&r, 1),
            reg(&r, 2)
        );
        // Shared model: same theta for every arm, per-arm features.
        let env = LinearContextual::new(vec![vec![1.0, -0.5, 0.3]; 5], 0.1, false).unwrap();
        let policies: Vec<Box<dyn Policy>> = vec![
            Box::new(LinUcb::new(5, 3, 1.0, 1.0, true).unwrap()),
            Box::new(LinearThompson::new(5, 3, 0.3, 1.0).unwrap()),
            Box::new(Ucb1::new(5).unwrap()),
        ];
        let r = sim.run(&env, &policies).unwrap();
        assert!(
            reg(&r, 0) < 0.3 * reg(&r, 2),
            "linucb-shared {} ucb1 {}",
            reg(&r, 0),
            reg(&r, 2)
        );
        assert!(
            reg(&r, 1) < 0.3 * reg(&r, 2),
            "lin-ts {} ucb1 {}",
            reg(&r, 1),
            reg(&r, 2)
        );
    }
}
