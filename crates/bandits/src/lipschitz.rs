//! Lipschitz bandits on `[0, 1]` and the zooming algorithm (Kleinberg,
//! Slivkins & Upfal 2008; Slivkins, *Introduction to Multi-Armed Bandits*,
//! Sec. 4.3, Algorithm 4.2 "zooming").
//!
//! Arms are points `x` of `[0, 1]` with a 1-Lipschitz mean reward `mu(x)`
//! and Bernoulli rewards. Zooming keeps a set of active arms, each with the
//! confidence radius `r(x) = sqrt(2 ln T / (n(x) + 1))`; when some point of
//! `[0, 1]` is not covered by any ball `[x - r(x), x + r(x)]` it activates
//! the leftmost uncovered point, then plays
//! `argmax_active mean(x) + 2 r(x)`. Regret adapts to the zooming dimension
//! (`O(T^{2/3})` worst case on `[0, 1]`, less near a sharp maximum).

use duality_core::{check, Result};
use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};

/// The result of one zooming run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoomingRun {
    /// Cumulative pseudo-regret `sum_t (mu* - mu(x_t))`.
    pub regret: f64,
    /// The active arms at the end.
    pub active: Vec<f64>,
    /// Pulls of each active arm.
    pub pulls: Vec<u64>,
}

/// Runs zooming for `horizon` rounds on `mu` (values in `[0, 1]`, assumed
/// 1-Lipschitz); `mu*` is approximated on a 10,001-point grid.
pub fn zooming(
    mu: &dyn Fn(f64) -> f64,
    horizon: usize,
    rng: &mut dyn RngCore,
) -> Result<ZoomingRun> {
    check::at_least("horizon", horizon, 1)?;
    let best = (0..=10_000)
        .map(|i| mu(i as f64 / 10_000.0))
        .fold(f64::NEG_INFINITY, f64::max);
    check::finite_scalar("max of mu", best)?;
    let log_t = (horizon.max(2) as f64).ln();
    let radius = |n: u64| (2.0 * log_t / (n as f64 + 1.0)).sqrt();
    let mut arms: Vec<f64> = Vec::new();
    let mut pulls: Vec<u64> = Vec::new();
    let mut sums: Vec<f64> = Vec::new();
    let mut regret = 0.0;
    for _ in 0..horizon {
        // Activation rule: cover [0, 1] by the confidence balls.
        if let Some(x) = first_uncovered(&arms, &pulls, &radius) {
            arms.push(x);
            pulls.push(0);
            sums.push(0.0);
        }
        let index = |i: usize| {
            let mean = if pulls[i] > 0 {
                sums[i] / pulls[i] as f64
            } else {
                0.0
            };
            mean + 2.0 * radius(pulls[i])
        };
        let mut choice = 0;
        for i in 1..arms.len() {
            if index(i) > index(choice) {
                choice = i;
            }
        }
        let m = mu(arms[choice]).clamp(0.0, 1.0);
        let r = if rng.random::<f64>() < m { 1.0 } else { 0.0 };
        pulls[choice] += 1;
        sums[choice] += r;
        regret += best - m;
    }
    Ok(ZoomingRun {
        regret,
        active: arms,
        pulls,
    })
}

/// The leftmost point of `[0, 1]` outside every ball `[x - r, x + r]`.
fn first_uncovered(arms: &[f64], pulls: &[u64], radius: &dyn Fn(u64) -> f64) -> Option<f64> {
    let mut balls: Vec<(f64, f64)> = arms
        .iter()
        .zip(pulls)
        .map(|(&x, &n)| {
            let r = radius(n);
            (x - r, x + r)
        })
        .collect();
    balls.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut covered_to = 0.0f64;
    let mut first = true;
    for (lo, hi) in balls {
        if lo > covered_to || (first && lo > 0.0) {
            return Some(covered_to);
        }
        first = false;
        covered_to = covered_to.max(hi);
        if covered_to >= 1.0 {
            return None;
        }
    }
    if covered_to < 1.0 || first {
        Some(if first { 0.0 } else { covered_to.min(1.0) })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use duality_core::seed::Seeder;

    #[test]
    fn zooming_concentrates_near_the_peak() {
        let mu = |x: f64| 0.9 - 0.8 * (x - 0.7).abs();
        let horizon = 20_000;
        let run = zooming(&mu, horizon, &mut Seeder::new(1).rng(0)).unwrap();
        // Uniform random play would lose about 0.8 * 0.29 per round.
        assert!(
            run.regret < 0.35 * 0.8 * 0.29 * horizon as f64,
            "regret {}",
            run.regret
        );
        let most = run
            .pulls
            .iter()
            .enumerate()
            .max_by_key(|(_, &n)| n)
            .map(|(i, _)| run.active[i])
            .unwrap();
        assert!((most - 0.7).abs() < 0.1, "most played arm {most}");
        assert_eq!(first_uncovered(&[], &[], &|_| 0.1), Some(0.0));
        assert_eq!(first_uncovered(&[0.5], &[0], &|_| 0.6), None);
        assert_eq!(first_uncovered(&[0.0], &[0], &|_| 0.25), Some(0.25));
    }
}
