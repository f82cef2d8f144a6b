//! Small numerical helpers shared by the policies: KL divergences and their
//! inverse (the KL-UCB index), stable softmax / log-sum-exp, tie-aware argmax
//! and categorical sampling.

use rand::{Rng, RngCore};

/// Index of the largest value; ties go to the lowest index (deterministic, so
/// runs are reproducible). NaNs are never selected unless all values are NaN.
pub fn argmax(values: &[f64]) -> usize {
    argmax_by(values.len(), |i| values[i])
}

/// [`argmax`] over `0..n` of `value(i)`, without materialising the values
/// (index policies call this every round).
pub fn argmax_by(n: usize, mut value: impl FnMut(usize) -> f64) -> usize {
    let mut best = 0;
    let mut best_value = f64::NEG_INFINITY;
    for i in 0..n {
        let v = value(i);
        if v > best_value {
            best = i;
            best_value = v;
        }
    }
    best
}

/// Index of the smallest value; ties go to the lowest index.
pub fn argmin(values: &[f64]) -> usize {
    let mut best = 0;
    let mut best_value = f64::INFINITY;
    for (i, &v) in values.iter().enumerate() {
        if v < best_value {
            best = i;
            best_value = v;
        }
    }
    best
}

/// `log(sum(exp(x)))` computed stably (shifted by the maximum).
pub fn log_sum_exp(x: &[f64]) -> f64 {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

/// Writes `softmax(logits)` into `out` (stable: shifted by the maximum).
pub fn softmax_into(logits: &[f64], out: &mut [f64]) {
    let lse = log_sum_exp(logits);
    for (o, &l) in out.iter_mut().zip(logits) {
        *o = (l - lse).exp();
    }
}

/// Draws an index from the distribution `probs` (non-negative, summing to
/// about 1) with one uniform draw; rounding slack falls on the last arm with
/// positive probability.
pub fn sample_categorical(probs: &[f64], rng: &mut dyn RngCore) -> usize {
    let u: f64 = rng.random::<f64>();
    let mut cum = 0.0;
    let mut last_positive = 0;
    for (i, &p) in probs.iter().enumerate() {
        if p > 0.0 {
            last_positive = i;
        }
        cum += p;
        if u < cum {
            return i;
        }
    }
    last_positive
}

/// Bernoulli Kullback-Leibler divergence `kl(p, q)`, with the conventions
/// `0 log 0 = 0` and arguments clamped into `[eps, 1 - eps]` for `q` so the
/// result stays finite (Garivier & Cappé 2011, eq. (1)).
pub fn kl_bernoulli(p: f64, q: f64) -> f64 {
    const EPS: f64 = 1e-15;
    let p = p.clamp(0.0, 1.0);
    let q = q.clamp(EPS, 1.0 - EPS);
    let a = if p > 0.0 { p * (p / q).ln() } else { 0.0 };
    let b = if p < 1.0 {
        (1.0 - p) * ((1.0 - p) / (1.0 - q)).ln()
    } else {
        0.0
    };
    a + b
}

/// Gaussian KL divergence with common variance `sigma2`:
/// `(p - q)^2 / (2 sigma2)`.
pub fn kl_gaussian(p: f64, q: f64, sigma2: f64) -> f64 {
    (p - q) * (p - q) / (2.0 * sigma2)
}

/// The KL-UCB upper index for Bernoulli rewards:
/// `max { q in [p, 1] : kl(p, q) <= level }`, found by bisection
/// (Garivier & Cappé 2011, Algorithm KL-UCB). `kl(p, .)` is increasing on
/// `[p, 1]`, so bisection on that interval is exact to `tol`; the returned
/// value is the upper end of the final bracket's feasible side, so it never
/// overshoots the constraint.
pub fn kl_ucb_bernoulli(p: f64, level: f64, tol: f64) -> f64 {
    let p = p.clamp(0.0, 1.0);
    if level <= 0.0 {
        return p;
    }
    if kl_bernoulli(p, 1.0) <= level {
        return 1.0;
    }
    let (mut lo, mut hi) = (p, 1.0);
    // lo always satisfies kl(p, lo) <= level; hi never does.
    for _ in 0..200 {
        if hi - lo <= tol {
            break;
        }
        let mid = 0.5 * (lo + hi);
        if kl_bernoulli(p, mid) <= level {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The KL-UCB lower index for Bernoulli rewards:
/// `min { q in [0, p] : kl(p, q) <= level }` (used by LUCB-style rules).
pub fn kl_lcb_bernoulli(p: f64, level: f64, tol: f64) -> f64 {
    1.0 - kl_ucb_bernoulli(1.0 - p, level, tol)
}

/// The KL-UCB upper index for Gaussian rewards of variance `sigma2`, in
/// closed form: `p + sqrt(2 sigma2 level)`.
pub fn kl_ucb_gaussian(p: f64, level: f64, sigma2: f64) -> f64 {
    p + (2.0 * sigma2 * level.max(0.0)).sqrt()
}

/// `n` round numbers spaced logarithmically in `1..=horizon`, always
/// including 1 and `horizon`, strictly increasing (duplicates removed).
pub fn log_checkpoints(horizon: usize, n: usize) -> Vec<usize> {
    if horizon == 0 {
        return Vec::new();
    }
    let n = n.max(2);
    let mut out: Vec<usize> = (0..n)
        .map(|i| {
            let x = (horizon as f64).powf(i as f64 / (n - 1) as f64);
            (x.round() as usize).clamp(1, horizon)
        })
        .collect();
    out.push(horizon);
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use proptest::prelude::*;

    #[test]
    fn kl_ucb_bisection_hits_the_level() {
        let p = 0.3;
        let level = 0.2;
        let q = kl_ucb_bernoulli(p, level, 1e-12);
        assert_relative_eq!(kl_bernoulli(p, q), level, epsilon = 1e-9);
        assert!(q > p && q < 1.0);
        assert_eq!(kl_ucb_bernoulli(1.0, 0.5, 1e-12), 1.0);
        assert_eq!(kl_ucb_bernoulli(0.4, 0.0, 1e-12), 0.4);
        // Closed-form Gaussian index agrees with bisection on the Gaussian KL.
        let g = kl_ucb_gaussian(0.1, 0.3, 0.25);
        assert_relative_eq!(kl_gaussian(0.1, g, 0.25), 0.3, epsilon = 1e-12);
    }

    #[test]
    fn checkpoints_are_log_spaced() {
        let c = log_checkpoints(1000, 4);
        assert_eq!(c, vec![1, 10, 100, 1000]);
        assert_eq!(log_checkpoints(1, 10), vec![1]);
        assert!(log_checkpoints(0, 3).is_empty());
    }

    proptest! {
        #[test]
        fn kl_ucb_is_feasible_and_tight(p in 0.0f64..1.0, level in 0.0f64..3.0) {
            let q = kl_ucb_bernoulli(p, level, 1e-10);
            prop_assert!(q >= p - 1e-12 && q <= 1.0);
            prop_assert!(kl_bernoulli(p, q) <= level + 1e-9);
            if q < 1.0 - 1e-9 {
                prop_assert!(kl_bernoulli(p, (q + 1e-8).min(1.0)) > level - 1e-6);
            }
        }

        #[test]
        fn softmax_sums_to_one(x in proptest::collection::vec(-500.0f64..500.0, 1..20)) {
            let mut out = vec![0.0; x.len()];
            softmax_into(&x, &mut out);
            let s: f64 = out.iter().sum();
            prop_assert!((s - 1.0).abs() < 1e-12);
        }
    }
}
