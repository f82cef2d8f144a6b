//! Best-arm identification on stochastic arms: uniform allocation and
//! successive halving with a fixed budget; LUCB and Track-and-Stop
//! (Garivier & Kaufmann 2016) with a fixed confidence, and the optimal
//! allocation `w*(mu)` / characteristic time `T*(mu)` of Bernoulli arms.

use duality_core::seed::Seeder;
use duality_core::{check, Error, Result};
use rand::{Rng, RngCore};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::env::{ArmDistribution, StochasticBandit};
use crate::math::{argmax, kl_bernoulli};
use crate::policy::ArmStats;

/// What a best-arm identification run returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identification {
    /// The recommended arm.
    pub arm: usize,
    /// Samples used.
    pub samples: u64,
}

/// A best-arm identification strategy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum BestArmStrategy {
    /// Uniform allocation: `budget / K` pulls per arm, recommend the best mean.
    Uniform {
        /// Total pulls.
        budget: u64,
    },
    /// Sequential halving (Karnin, Koren & Somekh 2013, Algorithm 1):
    /// `ceil(log2 K)` rounds; in each, every surviving arm gets
    /// `floor(budget / (|S| ceil(log2 K)))` pulls and the better half survives.
    SuccessiveHalving {
        /// Total pulls.
        budget: u64,
    },
    /// LUCB1 (Kalyanakrishnan, Tewari, Auer & Stone 2012): pull the empirical
    /// best arm and the most optimistic challenger until
    /// `LCB(best) > UCB(challenger)`, with radius
    /// `beta(u, t) = sqrt(ln(5 K t^4 / (4 delta)) / (2 u))` (rewards in [0, 1]).
    Lucb {
        /// Error probability in (0, 1).
        delta: f64,
        /// Safety cap on samples.
        max_samples: u64,
    },
    /// Track-and-Stop for Bernoulli arms (Garivier & Kaufmann, "Optimal
    /// Best Arm Identification with Fixed Confidence", COLT 2016): each arm
    /// once, then **D-tracking** (§3.1) -- if some arm has
    /// `N_a(t) < sqrt(t) - K/2` pull the least-pulled arm (forced
    /// exploration), else the arm maximising `t w*_a(mu_hat(t)) - N_a(t)`
    /// with [`optimal_weights`] of the empirical means -- and the
    /// **Chernoff / GLR stopping rule** (§3.2): stop when
    /// `Z(t) = min_{b != a_hat} [N_a d(mu_a, m_ab) + N_b d(mu_b, m_ab)]`
    /// (`m_ab` the pooled mean, `d` the Bernoulli KL) exceeds
    /// `beta(t, delta) = ln((ln t + 1) / delta)`, the threshold of the
    /// paper's experiments and of the authors' code
    /// (jsfunc/best-arm-identification, `mainBAI.jl`); Theorem 10's provably
    /// delta-correct `ln(2 t (K - 1) / delta)` is larger. As in the authors'
    /// `TrackAndStop`, tied empirical best arms are broken at random and
    /// block stopping (the tied arm drawn is pulled).
    TrackAndStop {
        /// Error probability in (0, 1).
        delta: f64,
        /// Safety cap on samples (reached: the empirical best is returned).
        max_samples: u64,
    },
}

/// The optimal allocation of Bernoulli best-arm identification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimalAllocation {
    /// `w*(mu)`: the fraction of samples per arm (sums to 1).
    pub weights: Vec<f64>,
    /// `T*(mu)`: `E[tau_delta] >= T*(mu) kl(delta, 1 - delta)` for every
    /// delta-correct strategy (Garivier & Kaufmann 2016, Theorem 1);
    /// infinite when the best arm is not unique.
    pub characteristic_time: f64,
}

/// Bisection for the root of an increasing-or-decreasing `f` on
/// `[lo, hi]` to width `tol` (the authors' `dicoSolve`), relative to
/// `max(1, |hi|)`: an absolute 1e-11 cannot be reached once the bracket is
/// above ~1e5 (the f64 spacing there is larger), which would never end.
fn bisect(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64, tol: f64) -> f64 {
    let sign = f(lo);
    while hi - lo > tol * hi.abs().max(1.0) {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if f(mid) * sign > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// `g_b(x) = d(mu_1, m) + x d(mu_b, m)`, `m = (mu_1 + x mu_b) / (1 + x)`
/// (Garivier & Kaufmann 2016, Lemma 3): increasing from 0 at `x = 0`
/// towards `d(mu_1, mu_b)`.
fn g_b(mu1: f64, mub: f64, x: f64) -> f64 {
    let m = (mu1 + x * mub) / (1.0 + x);
    kl_bernoulli(mu1, m) + x * kl_bernoulli(mub, m)
}

/// `x_b(y)`: the `x` with `g_b(x) = y` (Lemma 3), bracketed by doubling as
/// the authors' `xkofy`, then solved by Newton steps safeguarded by the
/// bracket (`g_b'(x) = d(mu_b, m(x))`, Lemma 3's proof) instead of plain
/// bisection -- the same root to the same tolerance in a handful of steps,
/// which matters as D-tracking solves it every round.
fn x_of_y(mu1: f64, mub: f64, y: f64, tol: f64) -> f64 {
    let mut hi = 1.0;
    // g_b(x) -> d(mu_1, mu_b) as x grows; y < that limit, but cap the
    // doubling so a y at the limit cannot loop forever.
    for _ in 0..64 {
        if g_b(mu1, mub, hi) >= y {
            break;
        }
        hi *= 2.0;
    }
    let mut lo = 0.0;
    let mut x = 0.5 * hi;
    for _ in 0..200 {
        let m = (mu1 + x * mub) / (1.0 + x);
        let gx = kl_bernoulli(mu1, m) + x * kl_bernoulli(mub, m) - y;
        if gx > 0.0 {
            hi = x;
        } else {
            lo = x;
        }
        let slope = kl_bernoulli(mub, m);
        let newton = x - gx / slope;
        let next = if slope > 0.0 && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        let step = (next - x).abs();
        x = next;
        if step <= tol * x.abs().max(1.0) || hi - lo <= tol * hi.abs().max(1.0) {
            break;
        }
    }
    x
}

/// `F_mu(y) - 1 = sum_{b >= 2} d(mu_1, m_b) / d(mu_b, m_b) - 1` with
/// `m_b = (mu_1 + x_b(y) mu_b) / (1 + x_b(y))` (Theorem 5): increasing in
/// `y`, its root `y*` gives the optimal weights.
fn f_minus_one(sorted: &[f64], y: f64, tol: f64) -> f64 {
    let mu1 = sorted[0];
    sorted[1..]
        .iter()
        .map(|&mub| {
            let x = x_of_y(mu1, mub, y, tol);
            let m = (mu1 + x * mub) / (1.0 + x);
            kl_bernoulli(mu1, m) / kl_bernoulli(mub, m).max(f64::MIN_POSITIVE)
        })
        .sum::<f64>()
        - 1.0
}

/// `w*(mu)` and `T*(mu)` of Bernoulli arms with means `mu` (Garivier &
/// Kaufmann 2016, Theorem 5), computed as the authors' `OptimalWeights`
/// (jsfunc/best-arm-identification, `BAIalgos.jl`): with the arms sorted
/// so that `mu_1` is the best, the scalar root `y*` of `F_mu(y) = 1` on
/// `[0, d(mu_1, mu_2)]` by bisection (tolerance 1e-11), then
/// `x_1 = 1`, `x_b = x_b(y*)`, `w* = x / sum(x)` and
/// `T*(mu)^{-1} = w*_1 y*`. Several best arms: `T* = infinity` and the
/// weights are uniform over them (as the authors' code). Errors: fewer than
/// two arms, a mean outside `[0, 1]`.
pub fn optimal_weights(mu: &[f64]) -> Result<OptimalAllocation> {
    check::at_least("number of arms", mu.len(), 2)?;
    for (i, &m) in mu.iter().enumerate() {
        check::probability(&format!("mu[{i}]"), m)?;
    }
    const TOL: f64 = 1e-11;
    let k = mu.len();
    let top = mu.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let n_top = mu.iter().filter(|&&m| m == top).count();
    if n_top > 1 {
        return Ok(OptimalAllocation {
            weights: mu
                .iter()
                .map(|&m| if m == top { 1.0 / n_top as f64 } else { 0.0 })
                .collect(),
            characteristic_time: f64::INFINITY,
        });
    }
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| mu[b].total_cmp(&mu[a]));
    let sorted: Vec<f64> = order.iter().map(|&a| mu[a]).collect();
    let y_max = kl_bernoulli(sorted[0], sorted[1]);
    let y = bisect(|y| f_minus_one(&sorted, y, TOL), 0.0, y_max, TOL);
    let mut x = vec![1.0];
    x.extend(
        sorted[1..]
            .iter()
            .map(|&mub| x_of_y(sorted[0], mub, y, TOL)),
    );
    let total: f64 = x.iter().sum();
    let mut weights = vec![0.0; k];
    for (rank, &arm) in order.iter().enumerate() {
        weights[arm] = x[rank] / total;
    }
    let inv = x[0] / total * y;
    Ok(OptimalAllocation {
        weights,
        characteristic_time: if inv > 0.0 { 1.0 / inv } else { f64::INFINITY },
    })
}

/// The Chernoff (GLR) statistic of Garivier & Kaufmann 2016, eq. (6) for
/// Bernoulli arms: `min_{b != best} [N_best d(mu_best, m) + N_b d(mu_b, m)]`
/// with `m = (S_best + S_b) / (N_best + N_b)`.
pub fn glr_statistic(stats: &ArmStats, best: usize) -> f64 {
    let (nb, sb) = (stats.pulls[best] as f64, stats.sums[best]);
    let mub = stats.mean(best);
    (0..stats.pulls.len())
        .filter(|&b| b != best)
        .map(|b| {
            let (n, s) = (stats.pulls[b] as f64, stats.sums[b]);
            let mid = (sb + s) / (nb + n).max(1.0);
            nb * kl_bernoulli(mub, mid) + n * kl_bernoulli(stats.mean(b), mid)
        })
        .fold(f64::INFINITY, f64::min)
}

/// The stopping threshold `beta(t, delta) = ln((ln t + 1) / delta)` of
/// Track-and-Stop's experiments (Garivier & Kaufmann 2016, §6).
pub fn glr_threshold(t: u64, delta: f64) -> f64 {
    (((t.max(1) as f64).ln() + 1.0) / delta).ln()
}

impl BestArmStrategy {
    /// Checks the parameters for `k` arms (a budget depends on `k`, so this
    /// is not a `Validate` impl).
    pub fn check_for_arms(&self, k: usize) -> Result<()> {
        check::at_least("number of arms", k, 2)?;
        match *self {
            BestArmStrategy::Uniform { budget } | BestArmStrategy::SuccessiveHalving { budget } => {
                if budget < k as u64 {
                    return Err(Error::invalid(
                        "budget",
                        budget,
                        format!("at least one pull per arm (>= {k})"),
                    ));
                }
                Ok(())
            }
            BestArmStrategy::Lucb { delta, max_samples }
            | BestArmStrategy::TrackAndStop { delta, max_samples } => {
                check::open_unit("delta", delta)?;
                if max_samples < k as u64 {
                    return Err(Error::invalid(
                        "max_samples",
                        max_samples,
                        format!(">= {k}"),
                    ));
                }
                Ok(())
            }
        }
    }

    /// Runs the strategy once.
    pub fn identify(
        &self,
        env: &StochasticBandit,
        rng: &mut dyn RngCore,
    ) -> Result<Identification> {
        let k = env.arms().len();
        self.check_for_arms(k)?;
        if let BestArmStrategy::TrackAndStop { .. } = self {
            if let Some(i) = env
                .arms()
                .iter()
                .position(|a| !matches!(a, ArmDistribution::Bernoulli { .. }))
            {
                return Err(Error::invalid(
                    format!("arms[{i}]"),
                    format!("{:?}", env.arms()[i]),
                    "a Bernoulli arm (Track-and-Stop uses the Bernoulli KL)",
                ));
            }
        }
        let mut stats = ArmStats::new(k);
        let pull = |a: usize, stats: &mut ArmStats, rng: &mut dyn RngCore| {
            let r = env.arms()[a].sample(rng);
            stats.add(a, r);
        };
        let means = |stats: &ArmStats, set: &[usize]| {
            set.iter().map(|&a| stats.mean(a)).collect::<Vec<_>>()
        };
        match *self {
            BestArmStrategy::Uniform { budget } => {
                for i in 0..budget - budget % k as u64 {
                    pull(i as usize % k, &mut stats, &mut *rng);
                }
                let all: Vec<usize> = (0..k).collect();
                Ok(Identification {
                    arm: argmax(&means(&stats, &all)),
                    samples: stats.total(),
                })
            }
            BestArmStrategy::SuccessiveHalving { budget } => {
                let rounds = (k as f64).log2().ceil().max(1.0) as u64;
                let mut set: Vec<usize> = (0..k).collect();
                for _ in 0..rounds {
                    if set.len() == 1 {
                        break;
                    }
                    let per_arm = (budget / (set.len() as u64 * rounds)).max(1);
                    for &a in &set {
                        for _ in 0..per_arm {
                            pull(a, &mut stats, &mut *rng);
                        }
                    }
                    // Keep the ceil(|S|/2) best (stable order breaks ties by index).
                    let mut order = set.clone();
                    order.sort_by(|&a, &b| stats.mean(b).total_cmp(&stats.mean(a)));
                    order.truncate(set.len().div_ceil(2));
                    order.sort_unstable();
                    set = order;
                }
                let best = set[argmax(&means(&stats, &set))];
                Ok(Identification {
                    arm: best,
                    samples: stats.total(),
                })
            }
            BestArmStrategy::Lucb { delta, max_samples } => {
                for a in 0..k {
                    pull(a, &mut stats, &mut *rng);
                }
                let all: Vec<usize> = (0..k).collect();
                loop {
                    let t = stats.total() as f64;
                    let beta = |u: u64| {
                        ((5.0 * k as f64 * t.powi(4) / (4.0 * delta)).ln() / (2.0 * u as f64))
                            .sqrt()
                    };
                    let m = means(&stats, &all);
                    let h = argmax(&m);
                    let ucb: Vec<f64> = (0..k)
                        .map(|a| {
                            if a == h {
                                f64::NEG_INFINITY
                            } else {
                                m[a] + beta(stats.pulls[a])
                            }
                        })
                        .collect();
                    let l = argmax(&ucb);
                    if m[h] - beta(stats.pulls[h]) > ucb[l] || stats.total() + 2 > max_samples {
                        return Ok(Identification {
                            arm: h,
                            samples: stats.total(),
                        });
                    }
                    pull(h, &mut stats, &mut *rng);
                    pull(l, &mut stats, &mut *rng);
                }
            }
            BestArmStrategy::TrackAndStop { delta, max_samples } => {
                for a in 0..k {
                    pull(a, &mut stats, &mut *rng);
                }
                let mut m = vec![0.0; k];
                loop {
                    let t = stats.total();
                    for (a, v) in m.iter_mut().enumerate() {
                        *v = stats.mean(a);
                    }
                    let top = m.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let ties: Vec<usize> = (0..k).filter(|&a| m[a] == top).collect();
                    let best = ties[rng.random_range(0..ties.len())];
                    let arm = if ties.len() > 1 {
                        // No unique empirical best: no stopping, pull it.
                        best
                    } else {
                        if glr_statistic(&stats, best) > glr_threshold(t, delta) {
                            return Ok(Identification {
                                arm: best,
                                samples: t,
                            });
                        }
                        let least = crate::math::argmin(
                            &stats.pulls.iter().map(|&n| n as f64).collect::<Vec<_>>(),
                        );
                        if (stats.pulls[least] as f64)
                            <= ((t as f64).sqrt() - k as f64 / 2.0).max(0.0)
                        {
                            // D-tracking's forced exploration.
                            least
                        } else {
                            let w = optimal_weights(&m)?.weights;
                            argmax(
                                &(0..k)
                                    .map(|a| w[a] - stats.pulls[a] as f64 / t as f64)
                                    .collect::<Vec<_>>(),
                            )
                        }
                    };
                    if t + 1 > max_samples {
                        return Ok(Identification {
                            arm: best,
                            samples: t,
                        });
                    }
                    pull(arm, &mut stats, &mut *rng);
                }
            }
        }
    }
}

/// Error probability and mean sample count over `repetitions` parallel runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IdentificationReport {
    /// Fraction of runs recommending a sub-optimal arm.
    pub error_probability: f64,
    /// Mean samples used.
    pub mean_samples: f64,
}

/// Every run of `strategy`, `repetitions` times in parallel (run `i` on
/// stream `i` of `Seeder::new(seed)`, so any thread count gives the same runs).
pub fn identify_runs(
    strategy: &BestArmStrategy,
    env: &StochasticBandit,
    repetitions: usize,
    seed: u64,
) -> Result<Vec<Identification>> {
    check::at_least("repetitions", repetitions, 1)?;
    (0..repetitions)
        .into_par_iter()
        .map(|i| strategy.identify(env, &mut Seeder::new(seed).rng(i as u64)))
        .collect()
}

/// Runs `strategy` `repetitions` times (stream `i` of `Seeder::new(seed)`).
pub fn evaluate(
    strategy: &BestArmStrategy,
    env: &StochasticBandit,
    repetitions: usize,
    seed: u64,
) -> Result<IdentificationReport> {
    let best = argmax(&env.means());
    let runs = identify_runs(strategy, env, repetitions, seed)?;
    let n = runs.len() as f64;
    Ok(IdentificationReport {
        error_probability: runs.iter().filter(|r| r.arm != best).count() as f64 / n,
        mean_samples: runs.iter().map(|r| r.samples as f64).sum::<f64>() / n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_find_the_best_arm() {
        let env = StochasticBandit::bernoulli(&[0.5, 0.45, 0.4, 0.7, 0.3, 0.35, 0.2, 0.5]).unwrap();
        let budget = 800;
        let uni = evaluate(&BestArmStrategy::Uniform { budget }, &env, 200, 1).unwrap();
        let sh = evaluate(&BestArmStrategy::SuccessiveHalving { budget }, &env, 200, 1).unwrap();
        assert!(
            uni.error_probability < 0.15 && sh.error_probability < 0.1,
            "{uni:?} {sh:?}"
        );
        assert!(uni.mean_samples <= budget as f64 && sh.mean_samples <= budget as f64);
        let lucb = evaluate(
            &BestArmStrategy::Lucb {
                delta: 0.05,
                max_samples: 1_000_000,
            },
            &env,
            50,
            2,
        )
        .unwrap();
        assert!(lucb.error_probability <= 0.05, "{lucb:?}");
        assert!(BestArmStrategy::Lucb {
            delta: 1.5,
            max_samples: 10
        }
        .check_for_arms(3)
        .is_err());
        assert!(BestArmStrategy::Uniform { budget: 2 }
            .check_for_arms(3)
            .is_err());
    }

    /// `min_b [w_1 d(mu_1, m_b) + w_b d(mu_b, m_b)]`, the objective `w*`
    /// maximises (Garivier & Kaufmann 2016, Lemma 3), best arm `0`.
    fn objective(mu: &[f64], w: &[f64]) -> f64 {
        (1..mu.len())
            .map(|b| {
                let m = (w[0] * mu[0] + w[b] * mu[b]) / (w[0] + w[b]);
                w[0] * kl_bernoulli(mu[0], m) + w[b] * kl_bernoulli(mu[b], m)
            })
            .fold(f64::INFINITY, f64::min)
    }

    #[test]
    fn optimal_weights_hand_cases() {
        // Two arms symmetric about 1/2: the KLs mirror, so w* = (1/2, 1/2)
        // and T* = 1 / d(0.6, 0.5).
        let o = optimal_weights(&[0.6, 0.4]).unwrap();
        assert!(
            (o.weights[0] - 0.5).abs() < 1e-8 && (o.weights[1] - 0.5).abs() < 1e-8,
            "{o:?}"
        );
        let d = 0.6 * (0.6f64 / 0.5).ln() + 0.4 * (0.4f64 / 0.5).ln();
        assert!(
            (o.characteristic_time - 1.0 / d).abs() < 1e-6,
            "{o:?} vs {}",
            1.0 / d
        );
        // Order does not matter.
        let r = optimal_weights(&[0.4, 0.6]).unwrap();
        assert!((r.weights[1] - 0.5).abs() < 1e-8);
        // Ties: T* infinite, uniform over the best arms.
        let t = optimal_weights(&[0.5, 0.2, 0.5]).unwrap();
        assert!(t.characteristic_time.is_infinite());
        assert_eq!(t.weights, vec![0.5, 0.0, 0.5]);
        assert!(optimal_weights(&[0.5]).is_err());
        assert!(optimal_weights(&[0.5, 1.2]).is_err());
    }

    #[test]
    fn optimal_weights_match_the_paper_and_equalise_the_constraints() {
        // Garivier & Kaufmann 2016, Table 1 (three decimals).
        let cases: [(&[f64], &[f64]); 2] = [
            (&[0.5, 0.45, 0.43, 0.4], &[0.417, 0.390, 0.136, 0.057]),
            (
                &[0.3, 0.21, 0.2, 0.19, 0.18],
                &[0.336, 0.251, 0.177, 0.132, 0.104],
            ),
        ];
        for (mu, paper) in cases {
            let o = optimal_weights(mu).unwrap();
            assert!((o.weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            for (w, p) in o.weights.iter().zip(paper) {
                assert!(
                    (w - p).abs() < 1.5e-3,
                    "{mu:?}: {:?} vs {paper:?}",
                    o.weights
                );
            }
            // At w*, every constraint equals 1 / T* (Lemma 3 / Theorem 5).
            let inv = 1.0 / o.characteristic_time;
            for b in 1..mu.len() {
                let w = &o.weights;
                let m = (w[0] * mu[0] + w[b] * mu[b]) / (w[0] + w[b]);
                let v = w[0] * kl_bernoulli(mu[0], m) + w[b] * kl_bernoulli(mu[b], m);
                assert!((v - inv).abs() < 1e-7 * inv.max(1.0), "b {b}: {v} vs {inv}");
            }
            // No perturbed allocation does better.
            let mut rng = Seeder::new(4).rng(0);
            for _ in 0..200 {
                let mut w: Vec<f64> = o
                    .weights
                    .iter()
                    .map(|&x| (x * (1.0 + 0.2 * (rng.random::<f64>() - 0.5))).max(1e-9))
                    .collect();
                let s: f64 = w.iter().sum();
                w.iter_mut().for_each(|x| *x /= s);
                assert!(objective(mu, &w) <= inv + 1e-9);
            }
        }
    }

    #[test]
    fn track_and_stop_stops_with_the_right_arm() {
        // Gaps of 0.2 keep the test fast (the authors' harder instance runs
        // in the bench).
        let mu = [0.6, 0.4, 0.3];
        let env = StochasticBandit::bernoulli(&mu).unwrap();
        let delta = 0.1;
        let tas = BestArmStrategy::TrackAndStop {
            delta,
            max_samples: 1_000_000,
        };
        let rep = evaluate(&tas, &env, 40, 7).unwrap();
        let t_star = optimal_weights(&mu).unwrap().characteristic_time;
        let kl_delta = kl_bernoulli(delta, 1.0 - delta);
        assert!(rep.error_probability <= delta, "{rep:?}");
        // Above the lower bound T* kl(delta, 1 - delta), within a few
        // T* ln(1/delta).
        assert!(rep.mean_samples >= t_star * kl_delta, "{rep:?} T* {t_star}");
        assert!(
            rep.mean_samples <= 4.0 * t_star * (1.0 / delta).ln(),
            "{rep:?} T* {t_star}"
        );
        // Same seed, same runs.
        assert_eq!(rep, evaluate(&tas, &env, 40, 7).unwrap());
        // Non-Bernoulli arms are refused.
        let g = StochasticBandit::gaussian(&[0.5, 0.4], 1.0).unwrap();
        assert!(tas.identify(&g, &mut Seeder::new(1).rng(0)).is_err());
    }
}
