//! Adversarial combinatorial semi-bandits: each action is a set of base arms
//! (a binary vector), the learner pays the sum of the chosen base arms'
//! losses and observes each of them (semi-bandit feedback).
//!
//! - [`Exp2`]: exponential weights over an explicit action set with
//!   importance-weighted base-arm estimates `l_i 1{i in A_t} / q_i`,
//!   `q_i = P(i in A_t)` (Audibert, Bubeck & Lugosi 2014, "Regret in online
//!   combinatorial optimization", Exp2 with semi-bandit feedback), mixed with
//!   `gamma` uniform exploration;
//! - [`Ftpl`]: follow the perturbed leader with exponential perturbations and
//!   geometric resampling of `1 / q_i` (Neu & Bartók 2013, "An efficient
//!   algorithm for learning with semi-bandit feedback"), using a linear
//!   optimisation oracle (here: the minimum over the action set, with a
//!   fast path for top-k).

use duality_core::{check, Error, Result};
use rand::{Rng, RngCore};
use rand_distr::{Distribution, Exp};

use crate::math::{sample_categorical, softmax_into};

/// An explicit action set over `d` base arms.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionSet {
    d: usize,
    actions: Vec<Vec<usize>>,
    top_k: Option<usize>,
}

impl ActionSet {
    /// All subsets of size `k` of `d` base arms.
    pub fn top_k(d: usize, k: usize) -> Result<Self> {
        check::at_least("d", d, 1)?;
        if k == 0 || k > d {
            return Err(Error::invalid("k", k, format!("an integer in 1..={d}")));
        }
        let mut actions = Vec::new();
        let mut cur = Vec::new();
        fn rec(start: usize, d: usize, k: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
            if cur.len() == k {
                out.push(cur.clone());
                return;
            }
            for i in start..d {
                cur.push(i);
                rec(i + 1, d, k, cur, out);
                cur.pop();
            }
        }
        rec(0, d, k, &mut cur, &mut actions);
        Ok(ActionSet {
            d,
            actions,
            top_k: Some(k),
        })
    }

    /// Perfect matchings of an `n x n` bipartite graph (base arm `i * n + j`
    /// is edge `(i, j)`), i.e. the `n!` permutations; `n <= 7`.
    pub fn matchings(n: usize) -> Result<Self> {
        if n == 0 || n > 7 {
            return Err(Error::invalid(
                "n",
                n,
                "1..=7 (the set is enumerated explicitly)",
            ));
        }
        let mut perm: Vec<usize> = (0..n).collect();
        let mut actions = Vec::new();
        fn heap(m: usize, perm: &mut Vec<usize>, n: usize, out: &mut Vec<Vec<usize>>) {
            if m == 1 {
                let mut a: Vec<usize> = perm.iter().enumerate().map(|(i, &j)| i * n + j).collect();
                a.sort_unstable();
                out.push(a);
                return;
            }
            for i in 0..m {
                heap(m - 1, perm, n, out);
                if m % 2 == 0 {
                    perm.swap(i, m - 1);
                } else {
                    perm.swap(0, m - 1);
                }
            }
        }
        heap(n, &mut perm, n, &mut actions);
        actions.sort();
        Ok(ActionSet {
            d: n * n,
            actions,
            top_k: None,
        })
    }

    /// Number of base arms.
    pub fn dim(&self) -> usize {
        self.d
    }
    /// The actions (sorted base-arm indices).
    pub fn actions(&self) -> &[Vec<usize>] {
        &self.actions
    }

    /// Linear optimisation oracle: the action minimising `sum_{i in A} w_i`.
    pub fn argmin(&self, w: &[f64]) -> Vec<usize> {
        if let Some(k) = self.top_k {
            let mut idx: Vec<usize> = (0..self.d).collect();
            idx.sort_by(|&a, &b| w[a].total_cmp(&w[b]).then(a.cmp(&b)));
            idx.truncate(k);
            idx.sort_unstable();
            return idx;
        }
        let cost = |a: &Vec<usize>| a.iter().map(|&i| w[i]).sum::<f64>();
        self.actions
            .iter()
            .min_by(|a, b| cost(a).total_cmp(&cost(b)))
            .cloned()
            .unwrap_or_default()
    }
}

/// A semi-bandit learner.
pub trait SemiBandit {
    /// Chooses an action (sorted base arms).
    fn select(&mut self, t: usize, rng: &mut dyn RngCore) -> Vec<usize>;
    /// Observes the losses of the chosen base arms (`losses[j]` for `action[j]`).
    fn update(&mut self, action: &[usize], losses: &[f64], rng: &mut dyn RngCore);
}

/// Exp2 with semi-bandit feedback (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Exp2 {
    set: ActionSet,
    eta: f64,
    gamma: f64,
    cum: Vec<f64>,
    probs: Vec<f64>,
}

impl Exp2 {
    /// Learning rate `eta > 0`, uniform mixing `gamma` in `[0, 1]`.
    pub fn new(set: ActionSet, eta: f64, gamma: f64) -> Result<Self> {
        check::positive("eta", eta)?;
        check::probability("gamma", gamma)?;
        let n = set.actions.len();
        Ok(Exp2 {
            cum: vec![0.0; set.d],
            probs: vec![1.0 / n as f64; n],
            set,
            eta,
            gamma,
        })
    }
}

impl SemiBandit for Exp2 {
    fn select(&mut self, _t: usize, rng: &mut dyn RngCore) -> Vec<usize> {
        let logits: Vec<f64> = self
            .set
            .actions
            .iter()
            .map(|a| -self.eta * a.iter().map(|&i| self.cum[i]).sum::<f64>())
            .collect();
        softmax_into(&logits, &mut self.probs);
        let n = self.probs.len() as f64;
        for p in &mut self.probs {
            *p = (1.0 - self.gamma) * *p + self.gamma / n;
        }
        self.set.actions[sample_categorical(&self.probs, rng)].clone()
    }
    fn update(&mut self, action: &[usize], losses: &[f64], _rng: &mut dyn RngCore) {
        let mut q = vec![0.0; self.set.d];
        for (a, &p) in self.set.actions.iter().zip(&self.probs) {
            for &i in a {
                q[i] += p;
            }
        }
        for (&i, &l) in action.iter().zip(losses) {
            if q[i] > 0.0 {
                self.cum[i] += l / q[i];
            }
        }
    }
}

/// FTPL with geometric resampling (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Ftpl {
    set: ActionSet,
    perturbation: Exp<f64>,
    max_resample: usize,
    cum: Vec<f64>,
}

impl Ftpl {
    /// Perturbation rate `eta > 0` (perturbations `Exp(eta)`), resampling cap.
    pub fn new(set: ActionSet, eta: f64, max_resample: usize) -> Result<Self> {
        check::positive("eta", eta)?;
        check::at_least("max_resample", max_resample, 1)?;
        let perturbation = Exp::new(eta).map_err(|e| Error::invalid("eta", eta, e.to_string()))?;
        Ok(Ftpl {
            cum: vec![0.0; set.d],
            set,
            perturbation,
            max_resample,
        })
    }

    fn perturbed_leader(&self, rng: &mut dyn RngCore) -> Vec<usize> {
        let exp = self.perturbation;
        let w: Vec<f64> = self.cum.iter().map(|l| l - exp.sample(rng)).collect();
        self.set.argmin(&w)
    }
}

impl SemiBandit for Ftpl {
    fn select(&mut self, _t: usize, rng: &mut dyn RngCore) -> Vec<usize> {
        self.perturbed_leader(rng)
    }
    fn update(&mut self, action: &[usize], losses: &[f64], rng: &mut dyn RngCore) {
        // Geometric resampling: K_i = first m with i in a fresh perturbed
        // leader, an unbiased estimate of 1 / q_i (capped).
        let mut k = vec![0usize; action.len()];
        let mut open = action.len();
        for m in 1..=self.max_resample {
            if open == 0 {
                break;
            }
            let a = self.perturbed_leader(rng);
            for (j, &i) in action.iter().enumerate() {
                if k[j] == 0 && (a.binary_search(&i).is_ok() || m == self.max_resample) {
                    k[j] = m;
                    open -= 1;
                }
            }
        }
        for ((&i, &l), &kj) in action.iter().zip(losses).zip(&k) {
            self.cum[i] += l * kj.max(1) as f64;
        }
    }
}

/// Runs a learner against Bernoulli base-arm losses with the given means;
/// returns its expected regret against the best fixed action.
pub fn run_semi_bandit(
    learner: &mut dyn SemiBandit,
    set: &ActionSet,
    loss_means: &[f64],
    horizon: usize,
    rng: &mut dyn RngCore,
) -> Result<f64> {
    check::same_len("base arms", set.d, "loss_means", loss_means.len())?;
    check::probabilities("loss_means", loss_means)?;
    let best: f64 = set.argmin(loss_means).iter().map(|&i| loss_means[i]).sum();
    let mut regret = 0.0;
    for t in 1..=horizon {
        let a = learner.select(t, rng);
        let losses: Vec<f64> = a
            .iter()
            .map(|&i| {
                if rng.random::<f64>() < loss_means[i] {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        regret += a.iter().map(|&i| loss_means[i]).sum::<f64>() - best;
        learner.update(&a, &losses, rng);
    }
    Ok(regret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use duality_core::seed::Seeder;

    #[test]
    fn action_sets_and_oracle() {
        assert_eq!(ActionSet::top_k(5, 2).unwrap().actions().len(), 10);
        let m = ActionSet::matchings(3).unwrap();
        assert_eq!(m.actions().len(), 6);
        let w = [0.0, 5.0, 5.0, 5.0, 0.0, 5.0, 5.0, 5.0, 0.0];
        assert_eq!(m.argmin(&w), vec![0, 4, 8]);
        assert_eq!(
            ActionSet::top_k(4, 2)
                .unwrap()
                .argmin(&[0.3, 0.1, 0.2, 0.9]),
            vec![1, 2]
        );
        assert!(ActionSet::top_k(3, 4).is_err());
    }

    #[test]
    fn learners_have_sublinear_regret() {
        let set = ActionSet::top_k(6, 2).unwrap();
        let means = [0.2, 0.3, 0.6, 0.7, 0.8, 0.9];
        let horizon = 3000;
        // Uniform play loses about 2 * (mean - best/2) = 1.0 - 0.5 per round.
        let uniform = (2.0 * means.iter().sum::<f64>() / 6.0 - 0.5) * horizon as f64;
        let mut exp2 = Exp2::new(set.clone(), 0.02, 0.01).unwrap();
        let r1 =
            run_semi_bandit(&mut exp2, &set, &means, horizon, &mut Seeder::new(1).rng(0)).unwrap();
        let mut ftpl = Ftpl::new(set.clone(), 0.05, 200).unwrap();
        let r2 =
            run_semi_bandit(&mut ftpl, &set, &means, horizon, &mut Seeder::new(2).rng(0)).unwrap();
        assert!(
            r1 < 0.3 * uniform && r2 < 0.3 * uniform,
            "exp2 {r1} ftpl {r2} uniform {uniform}"
        );
    }
}
