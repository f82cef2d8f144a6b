//! Tabular f-DVL (dual V-learning) from offline data: "Dual RL: Unification
//! and New Methods for Reinforcement and Imitation Learning" (Sikchi, Zheng,
//! Zhang & Niekum, ICLR 2024), the offline-RL method built on the dual of the
//! regularised MDP LP ([`crate::lp`] holds the unregularised pair).
//!
//! The LP's dual over occupancies, regularised by an f-divergence to the
//! data's occupancy, has a dual over values whose inner problem is a
//! one-dimensional convex regression of `V(s)` on `Q(s, a) - V(s)` over the
//! data's actions; `Q` itself is regressed on the one-step target
//! `r + gamma V(s')`. With `d = Q(s, a) - V(s)` and weight `lambda` in
//! `(0, 1)`, the value losses are (as in the public f-DVL implementations
//! this follows; the paper's text was available as an abstract only):
//!
//! - chi-square (Pearson): `lambda max(d + d^2/4, 0) - (1 - lambda) d`;
//! - total variation: `lambda max(d, 0) - (1 - lambda) d`;
//! - Gumbel / XQL (reverse KL, the special case f-DVL generalises):
//!   `e^z - z - 1` with `z = d / lambda` — unbounded exponential gradients,
//!   the instability f-DVL removes.
//!
//! As `lambda -> 1` the chi-square and TV minimisers of `V(s)` move to the
//! largest `Q(s, a)` among the data's actions at `s` (an in-sample maximum),
//! so `Q` and `V` approach the optimal values of the MDP restricted to the
//! data's support. Tabular form here: `Q(s, a)` is the exact least-squares
//! fit (the mean target over the data at `(s, a)`), `V(s)` takes
//! `v_steps` gradient steps of size `lr` on its mean loss per outer
//! iteration, and the policy takes the best in-data action by `Q` (the
//! large-temperature limit of the exponentially weighted behaviour cloning
//! used to extract f-DVL's policy).

use duality_core::{Error, Result};
use rand::Rng;
use serde::Serialize;

use crate::mdp::FiniteMdp;

#[cfg(feature = "torch")]
pub mod deep;
#[cfg(feature = "torch")]
pub mod deep_recoil;
#[cfg(all(feature = "experiments", feature = "torch"))]
pub(crate) mod experiment;
pub mod recoil;
#[cfg(all(feature = "experiments", feature = "torch"))]
pub(crate) mod recoil_experiment;
pub use recoil::{
    behaviour_cloning, one_hot, policy_value, recoil, rollouts, Behaviour, RecoilParams,
    RecoilSolution,
};

/// The f-divergence of the value loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FDivergence {
    /// Pearson chi-square.
    ChiSquare,
    /// Total variation.
    TotalVariation,
    /// Reverse KL: XQL's Gumbel regression loss.
    Gumbel,
}

impl std::str::FromStr for FDivergence {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "chi-square" | "chi2" => Ok(FDivergence::ChiSquare),
            "tv" | "total-variation" => Ok(FDivergence::TotalVariation),
            "gumbel" | "xql" => Ok(FDivergence::Gumbel),
            other => Err(Error::invalid(
                "divergence",
                other,
                "chi-square | total-variation | gumbel",
            )),
        }
    }
}

impl FDivergence {
    /// The value loss at `d = Q(s, a) - V(s)` with weight (or, for Gumbel,
    /// temperature) `lambda`.
    pub fn loss(&self, d: f64, lambda: f64) -> f64 {
        match self {
            FDivergence::ChiSquare => lambda * (d + d * d / 4.0).max(0.0) - (1.0 - lambda) * d,
            FDivergence::TotalVariation => lambda * d.max(0.0) - (1.0 - lambda) * d,
            FDivergence::Gumbel => {
                let z = d / lambda;
                z.exp() - z - 1.0
            }
        }
    }

    /// The derivative of [`FDivergence::loss`] with respect to `V(s)`
    /// (that is, minus its derivative in `d`).
    pub fn grad_v(&self, d: f64, lambda: f64) -> f64 {
        match self {
            FDivergence::ChiSquare => {
                let active = if d + d * d / 4.0 > 0.0 {
                    1.0 + d / 2.0
                } else {
                    0.0
                };
                -(lambda * active - (1.0 - lambda))
            }
            FDivergence::TotalVariation => {
                let active = if d > 0.0 { 1.0 } else { 0.0 };
                -(lambda * active - (1.0 - lambda))
            }
            FDivergence::Gumbel => -((d / lambda).exp() - 1.0) / lambda,
        }
    }
}

/// One offline transition.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Transition {
    /// State.
    pub state: usize,
    /// Action.
    pub action: usize,
    /// Reward.
    pub reward: f64,
    /// Next state.
    pub next: usize,
    /// Whether the next state is terminal (no bootstrap).
    pub done: bool,
}

/// `n` transitions of a behaviour policy (`behaviour[s][a]`, rows summing
/// to 1) from states drawn uniformly (so every state is covered).
pub fn behaviour_dataset<R: Rng + ?Sized>(
    mdp: &FiniteMdp,
    behaviour: &[Vec<f64>],
    n: usize,
    rng: &mut R,
) -> Result<Vec<Transition>> {
    duality_core::check::at_least("transitions", n, 1)?;
    if n > 50_000_000 {
        return Err(Error::invalid("transitions", n, "at most 5e7"));
    }
    duality_core::check::same_len("behaviour rows", behaviour.len(), "states", mdp.n_states())?;
    for (s, row) in behaviour.iter().enumerate() {
        duality_core::check::same_len(
            &format!("behaviour[{s}]"),
            row.len(),
            "actions",
            mdp.n_actions(),
        )?;
        duality_core::check::distribution(&format!("behaviour[{s}]"), row, 1e-9)?;
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let s = rng.random_range(0..mdp.n_states());
        let u: f64 = rng.random();
        let mut acc = 0.0;
        let mut a = mdp.n_actions() - 1;
        for (i, &p) in behaviour[s].iter().enumerate() {
            acc += p;
            if u < acc {
                a = i;
                break;
            }
        }
        let o = mdp.step(s, a, rng);
        out.push(Transition {
            state: s,
            action: a,
            reward: o.reward,
            next: o.next,
            done: mdp.is_terminal(o.next),
        });
    }
    Ok(out)
}

/// Settings of tabular f-DVL.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FdvlParams {
    /// The value loss.
    pub divergence: FDivergence,
    /// Weight in `(0, 1)` (chi-square, TV) or temperature `> 0` (Gumbel).
    pub lambda: f64,
    /// Outer iterations (Q fit, then V steps).
    pub iterations: usize,
    /// Gradient steps on V per iteration.
    pub v_steps: usize,
    /// Step size of the V steps.
    pub lr: f64,
}

impl FdvlParams {
    /// Checked: lambda in (0, 1) for chi-square and TV, > 0 for Gumbel;
    /// iterations and v_steps in 1..=1e6; lr > 0.
    pub fn new(
        divergence: FDivergence,
        lambda: f64,
        iterations: usize,
        v_steps: usize,
        lr: f64,
    ) -> Result<Self> {
        match divergence {
            FDivergence::Gumbel => duality_core::check::positive("lambda", lambda)?,
            _ => {
                if !(lambda > 0.0 && lambda < 1.0) {
                    return Err(Error::invalid("lambda", lambda, "a weight in (0, 1)"));
                }
            }
        }
        for (name, v) in [("iterations", iterations), ("v_steps", v_steps)] {
            if v == 0 || v > 1_000_000 {
                return Err(Error::invalid(name, v, "in 1..=1000000"));
            }
        }
        duality_core::check::positive("lr", lr)?;
        Ok(FdvlParams {
            divergence,
            lambda,
            iterations,
            v_steps,
            lr,
        })
    }
}

/// What [`fdvl`] returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FdvlSolution {
    /// `Q[s][a]` (NaN where the data has no `(s, a)`).
    pub q: Vec<Vec<f64>>,
    /// `V[s]`.
    pub v: Vec<f64>,
    /// The best in-data action by `Q` per state (0 where the state is absent).
    pub policy: Vec<usize>,
    /// Mean value loss over the data after each iteration.
    pub losses: Vec<f64>,
    /// Whether every loss and value stayed finite (false: the run diverged
    /// and stopped at that iteration).
    pub stable: bool,
}

/// Tabular f-DVL on `data` from `mdp` (its discount and sizes); see the
/// module documentation. A run whose loss or values overflow stops there
/// and reports `stable: false` (the Gumbel loss's failure mode) instead of
/// an error, so the loss curves can be compared.
pub fn fdvl(mdp: &FiniteMdp, data: &[Transition], params: &FdvlParams) -> Result<FdvlSolution> {
    duality_core::check::non_empty("offline data", data)?;
    let (ns, na, gamma) = (mdp.n_states(), mdp.n_actions(), mdp.gamma());
    for (i, t) in data.iter().enumerate() {
        if t.state >= ns || t.next >= ns || t.action >= na || !t.reward.is_finite() {
            return Err(Error::invalid(
                format!("transition {i}"),
                format!("{t:?}"),
                format!("states < {ns}, actions < {na}, a finite reward"),
            ));
        }
    }
    let mut count = vec![vec![0usize; na]; ns];
    for t in data {
        count[t.state][t.action] += 1;
    }
    let total: Vec<usize> = count.iter().map(|r| r.iter().sum()).collect();
    let mut q = vec![vec![f64::NAN; na]; ns];
    let mut v = vec![0.0; ns];
    let mut losses = Vec::with_capacity(params.iterations);
    let mut stable = true;
    let (div, lambda) = (params.divergence, params.lambda);
    'outer: for _ in 0..params.iterations {
        // Q: exact least squares on r + gamma V(s').
        let mut sum = vec![vec![0.0; na]; ns];
        for t in data {
            let boot = if t.done { 0.0 } else { gamma * v[t.next] };
            sum[t.state][t.action] += t.reward + boot;
        }
        for s in 0..ns {
            for a in 0..na {
                if count[s][a] > 0 {
                    q[s][a] = sum[s][a] / count[s][a] as f64;
                }
            }
        }
        // V: gradient steps on the mean value loss over the data's actions.
        for _ in 0..params.v_steps {
            for s in 0..ns {
                if total[s] == 0 {
                    continue;
                }
                let g: f64 = (0..na)
                    .filter(|&a| count[s][a] > 0)
                    .map(|a| count[s][a] as f64 * div.grad_v(q[s][a] - v[s], lambda))
                    .sum::<f64>()
                    / total[s] as f64;
                v[s] -= params.lr * g;
                if !v[s].is_finite() {
                    stable = false;
                    break 'outer;
                }
            }
        }
        let loss = data
            .iter()
            .map(|t| div.loss(q[t.state][t.action] - v[t.state], lambda))
            .sum::<f64>()
            / data.len() as f64;
        losses.push(loss);
        if !loss.is_finite() {
            stable = false;
            break;
        }
    }
    let policy = (0..ns)
        .map(|s| {
            let mut best: Option<usize> = None;
            for a in 0..na {
                if count[s][a] > 0 && best.is_none_or(|b| q[s][a] > q[s][b]) {
                    best = Some(a);
                }
            }
            best.unwrap_or(0)
        })
        .collect();
    Ok(FdvlSolution {
        q,
        v,
        policy,
        losses,
        stable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::evaluate_policy;
    use crate::lp::solve_mdp_lp;
    use crate::mdp::library;
    use duality_core::seed::Seeder;

    #[test]
    fn losses_on_hand_values() {
        let (c, t, g) = (
            FDivergence::ChiSquare,
            FDivergence::TotalVariation,
            FDivergence::Gumbel,
        );
        // d = 2: chi-square 0.5 * (2 + 1) - 0.5 * 2 = 0.5; TV 0.5 * 2 - 1 = 0.
        assert!((c.loss(2.0, 0.5) - 0.5).abs() < 1e-12);
        assert!(t.loss(2.0, 0.5).abs() < 1e-12);
        // d = -1: chi-square's positive part is 0 (-1 + 1/4 < 0): -(0.5)(-1) = 0.5.
        assert!((c.loss(-1.0, 0.5) - 0.5).abs() < 1e-12);
        // Gumbel at d = 0 is 0 with zero slope.
        assert!(g.loss(0.0, 1.0).abs() < 1e-12 && g.grad_v(0.0, 1.0).abs() < 1e-12);
        // Gradients match finite differences in V (d = Q - V).
        for div in [c, t, g] {
            for d in [-3.0, -0.7, 0.4, 1.5] {
                let h = 1e-6;
                let fd = (div.loss(d - h, 0.7) - div.loss(d + h, 0.7)) / (2.0 * h);
                assert!((fd - div.grad_v(d, 0.7)).abs() < 1e-5, "{div:?} at {d}");
            }
        }
        assert!("kl2".parse::<FDivergence>().is_err());
    }

    #[test]
    fn bad_settings_are_named() {
        let e = FdvlParams::new(FDivergence::ChiSquare, 1.0, 10, 10, 0.1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("lambda") && e.contains('1'), "{e}");
        assert!(FdvlParams::new(FDivergence::Gumbel, 2.0, 10, 10, 0.1).is_ok());
        let e = FdvlParams::new(FDivergence::TotalVariation, 0.5, 0, 10, 0.1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("iterations"), "{e}");
        let e = FdvlParams::new(FDivergence::TotalVariation, 0.5, 5, 10, 0.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("lr"), "{e}");
        let mdp = library::chain(3, 0.1, 0.9).unwrap();
        let p = FdvlParams::new(FDivergence::ChiSquare, 0.5, 1, 1, 0.1).unwrap();
        assert!(fdvl(&mdp, &[], &p).is_err());
        let bad = Transition {
            state: 9,
            action: 0,
            reward: 0.0,
            next: 0,
            done: false,
        };
        let e = fdvl(&mdp, &[bad], &p).unwrap_err().to_string();
        assert!(e.contains("transition 0"), "{e}");
    }

    /// With full-coverage uniform data and lambda near 1, chi-square and TV
    /// f-DVL recover a policy whose exact value is within 2% of the LP
    /// optimum on a seeded random MDP.
    #[test]
    fn fdvl_reaches_the_lp_optimum_with_full_coverage() {
        let mut rng = Seeder::new(11).rng(0);
        let mdp = library::random(6, 3, 2, 0.9, &mut rng).unwrap();
        let mu = vec![1.0 / 6.0; 6];
        let lp = solve_mdp_lp(&mdp, &mu).unwrap();
        let uniform = vec![vec![1.0 / 3.0; 3]; 6];
        let data = behaviour_dataset(&mdp, &uniform, 20_000, &mut rng).unwrap();
        for (div, lambda, lr) in [
            (FDivergence::ChiSquare, 0.95, 0.5),
            (FDivergence::TotalVariation, 0.95, 0.05),
        ] {
            let p = FdvlParams::new(div, lambda, 300, 20, lr).unwrap();
            let sol = fdvl(&mdp, &data, &p).unwrap();
            assert!(sol.stable);
            let values = evaluate_policy(&mdp, &sol.policy).unwrap();
            let value: f64 = values.iter().zip(&mu).map(|(v, m)| v * m).sum();
            assert!(
                (lp.primal_objective - value).abs() <= 0.02 * lp.primal_objective.abs(),
                "{div:?}: policy value {value} vs LP optimum {}",
                lp.primal_objective
            );
            // Not a trivial MDP: the worst action by Q is far from optimal.
            let worst: Vec<usize> = sol
                .q
                .iter()
                .map(|row| {
                    (0..row.len())
                        .min_by(|&a, &b| row[a].total_cmp(&row[b]))
                        .unwrap_or(0)
                })
                .collect();
            let w = evaluate_policy(&mdp, &worst).unwrap();
            let wv: f64 = w.iter().zip(&mu).map(|(v, m)| v * m).sum();
            assert!(
                lp.primal_objective - wv > 0.1 * lp.primal_objective.abs(),
                "{wv} vs {}",
                lp.primal_objective
            );
        }
    }

    /// The Gumbel (XQL) loss with a small temperature overflows on the same
    /// data and step size where chi-square stays finite.
    #[test]
    fn gumbel_diverges_where_chi_square_is_stable() {
        let mut rng = Seeder::new(5).rng(0);
        let mdp = library::random(6, 3, 2, 0.9, &mut rng).unwrap();
        let uniform = vec![vec![1.0 / 3.0; 3]; 6];
        let data = behaviour_dataset(&mdp, &uniform, 5_000, &mut rng).unwrap();
        let gumbel = fdvl(
            &mdp,
            &data,
            &FdvlParams::new(FDivergence::Gumbel, 0.05, 200, 20, 0.5).unwrap(),
        )
        .unwrap();
        assert!(
            !gumbel.stable,
            "{:?}",
            &gumbel.losses[..5.min(gumbel.losses.len())]
        );
        let chi = fdvl(
            &mdp,
            &data,
            &FdvlParams::new(FDivergence::ChiSquare, 0.95, 200, 20, 0.5).unwrap(),
        )
        .unwrap();
        assert!(chi.stable && chi.losses.iter().all(|l| l.is_finite()));
    }
}
