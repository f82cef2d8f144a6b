//! Best-arm identification on stochastic arms: uniform allocation and
//! successive halving with a fixed budget, LUCB with a fixed confidence.

use duality_core::seed::Seeder;
use duality_core::{check, Error, Result};
use rand::RngCore;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::env::StochasticBandit;
use crate::math::argmax;
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
            BestArmStrategy::Lucb { delta, max_samples } => {
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
        let mut stats = ArmStats::new(k);
        let mut pull = |a: usize, stats: &mut ArmStats| {
            let r = env.arms()[a].sample(rng);
            stats.add(a, r);
        };
        let means = |stats: &ArmStats, set: &[usize]| {
            set.iter().map(|&a| stats.mean(a)).collect::<Vec<_>>()
        };
        match *self {
            BestArmStrategy::Uniform { budget } => {
                for i in 0..budget - budget % k as u64 {
                    pull(i as usize % k, &mut stats);
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
                            pull(a, &mut stats);
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
                    pull(a, &mut stats);
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
                    pull(h, &mut stats);
                    pull(l, &mut stats);
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

/// Runs `strategy` `repetitions` times (stream `i` of `Seeder::new(seed)`).
pub fn evaluate(
    strategy: &BestArmStrategy,
    env: &StochasticBandit,
    repetitions: usize,
    seed: u64,
) -> Result<IdentificationReport> {
    check::at_least("repetitions", repetitions, 1)?;
    let best = argmax(&env.means());
    let runs: Vec<Result<Identification>> = (0..repetitions)
        .into_par_iter()
        .map(|i| strategy.identify(env, &mut Seeder::new(seed).rng(i as u64)))
        .collect();
    let runs: Vec<Identification> = runs.into_iter().collect::<Result<_>>()?;
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
}
