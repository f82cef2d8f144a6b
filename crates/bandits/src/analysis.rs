//! Analysis of regret curves: log-spaced checkpoints, growth between
//! checkpoints, regret exponents (log-log least-squares slopes), trend
//! checks and the mean / standard error summaries the bench suite and the
//! simulator report.
//!
//! A regret curve that grows like `c T^alpha` is a straight line of slope
//! `alpha` on log-log axes, so [`regret_exponent`] reads `alpha` off a few
//! `(T, regret)` points: `alpha < 1` is sublinear regret (the per-round gap
//! to the benchmark closes like `T^(alpha - 1)`), `alpha = 1/2` the
//! `sqrt(T)` rate of adversarial bounds (Lattimore & Szepesvári Thm 11.2),
//! and logarithmic regret shows as a slope that falls towards 0.
//!
//! ```
//! use duality_bandits::analysis::{log_checkpoints, regret_exponent};
//!
//! assert_eq!(log_checkpoints(1000, 4), vec![1, 10, 100, 1000]);
//! // Regret 3 sqrt(T): exponent 1/2.
//! let points: Vec<(f64, f64)> = [100.0, 400.0, 1600.0].iter().map(|&t: &f64| (t, 3.0 * t.sqrt())).collect();
//! let fit = regret_exponent(&points).unwrap();
//! assert!((fit.slope - 0.5).abs() < 1e-12);
//! ```

use duality_core::{check, Error, Result};
use serde::{Deserialize, Serialize};

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

/// Index of the first checkpoint at or after round `t` (the last checkpoint
/// when `t` is beyond all of them); an error for no checkpoints.
pub fn checkpoint_index(checkpoints: &[usize], t: usize) -> Result<usize> {
    check::non_empty("checkpoints", checkpoints)?;
    Ok(checkpoints
        .iter()
        .position(|&c| c >= t)
        .unwrap_or(checkpoints.len() - 1))
}

/// Arithmetic mean (0 for no values).
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// A mean with its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanSe {
    /// The sample mean.
    pub mean: f64,
    /// Standard error of the mean, `sd / sqrt(n)` with the `n - 1`
    /// variance (0 for fewer than two values).
    pub se: f64,
}

impl MeanSe {
    /// Mean and standard error of `values`.
    pub fn of(values: &[f64]) -> Self {
        let m = mean(values);
        if values.len() < 2 {
            return MeanSe { mean: m, se: 0.0 };
        }
        let var = values.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (values.len() - 1) as f64;
        MeanSe {
            mean: m,
            se: (var / values.len() as f64).sqrt(),
        }
    }

    /// Welch's statistic `(m_1 - m_2) / sqrt(se_1^2 + se_2^2)` for the
    /// difference of two independent means (the denominator floored at
    /// 1e-12 so equal constants give 0, not NaN).
    pub fn welch_z(&self, other: &MeanSe) -> f64 {
        (self.mean - other.mean) / (self.se * self.se + other.se * other.se).sqrt().max(1e-12)
    }
}

/// A least-squares line `y = intercept + slope x`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LineFit {
    /// Slope.
    pub slope: f64,
    /// Intercept.
    pub intercept: f64,
    /// Number of points fitted.
    pub points: usize,
}

/// Ordinary least squares of `y` on `x` over `points`. Errors: fewer than
/// two points, a non-finite coordinate (named by index), or all `x` equal.
pub fn fit_line(points: &[(f64, f64)]) -> Result<LineFit> {
    if points.len() < 2 {
        return Err(Error::invalid(
            "number of points",
            points.len(),
            "at least 2 points to fit a line",
        ));
    }
    for (i, &(x, y)) in points.iter().enumerate() {
        if !(x.is_finite() && y.is_finite()) {
            return Err(Error::invalid(
                format!("points[{i}]"),
                format!("({x}, {y})"),
                "finite coordinates",
            ));
        }
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx <= 0.0 {
        return Err(Error::invalid(
            "x spread",
            sxx,
            "at least two distinct x values",
        ));
    }
    let slope = sxy / sxx;
    Ok(LineFit {
        slope,
        intercept: my - slope * mx,
        points: points.len(),
    })
}

/// The regret exponent: the least-squares slope of `ln y` on `ln x` over
/// `points` `(T, cumulative regret)`, so `y ~ e^intercept x^slope`. Every
/// coordinate must be `> 0` (a zero or negative regret has no logarithm;
/// the error names the point).
pub fn regret_exponent(points: &[(f64, f64)]) -> Result<LineFit> {
    let logs = points
        .iter()
        .enumerate()
        .map(|(i, &(x, y))| {
            if x > 0.0 && y > 0.0 {
                Ok((x.ln(), y.ln()))
            } else {
                Err(Error::invalid(
                    format!("points[{i}]"),
                    format!("({x}, {y})"),
                    "positive coordinates (a log-log fit)",
                ))
            }
        })
        .collect::<Result<Vec<_>>>()?;
    fit_line(&logs)
}

/// Growth factor `y(T) / y(T / 10)` of a curve sampled at `checkpoints`
/// (the checkpoint at or after `T / 10`, with `T` the last checkpoint): a
/// linear curve grows 10x, a logarithmic one by `ln T / ln(T / 10)`. The
/// denominator is floored at 1e-9.
pub fn growth_over_decade(checkpoints: &[usize], curve: &[f64]) -> Result<f64> {
    check::same_len("checkpoints", checkpoints.len(), "curve", curve.len())?;
    check::non_empty("checkpoints", checkpoints)?;
    let last = checkpoints[checkpoints.len() - 1];
    let at = checkpoint_index(checkpoints, last / 10)?;
    Ok(curve[curve.len() - 1] / curve[at].max(1e-9))
}

/// Whether every value is strictly below the one before (a trend that
/// shrinks monotonically; true for fewer than two values).
pub fn strictly_decreasing(values: &[f64]) -> bool {
    values.windows(2).all(|w| w[1] < w[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn checkpoints_are_log_spaced() {
        let c = log_checkpoints(1000, 4);
        assert_eq!(c, vec![1, 10, 100, 1000]);
        assert_eq!(log_checkpoints(1, 10), vec![1]);
        assert!(log_checkpoints(0, 3).is_empty());
        assert_eq!(checkpoint_index(&c, 50).unwrap(), 2);
        assert_eq!(checkpoint_index(&c, 5000).unwrap(), 3);
        assert!(checkpoint_index(&[], 1).is_err());
    }

    #[test]
    fn line_and_exponent_fits() {
        let fit = fit_line(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]).unwrap();
        assert_relative_eq!(fit.slope, 2.0, epsilon = 1e-12);
        assert_relative_eq!(fit.intercept, 1.0, epsilon = 1e-12);
        // y = 5 x^0.7 exactly.
        let pts: Vec<(f64, f64)> = [10.0, 100.0, 1000.0, 5000.0]
            .iter()
            .map(|&x: &f64| (x, 5.0 * x.powf(0.7)))
            .collect();
        let e = regret_exponent(&pts).unwrap();
        assert_relative_eq!(e.slope, 0.7, epsilon = 1e-12);
        assert_relative_eq!(e.intercept.exp(), 5.0, epsilon = 1e-10);
        // Bad input names the problem.
        let err = regret_exponent(&[(10.0, 1.0), (100.0, -2.0)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("points[1]"), "{err}");
        assert!(fit_line(&[(1.0, 1.0)]).is_err());
        assert!(fit_line(&[(1.0, 1.0), (1.0, 2.0)]).is_err());
        assert!(fit_line(&[(1.0, f64::NAN), (2.0, 2.0)]).is_err());
    }

    #[test]
    fn summaries() {
        let m = MeanSe::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_relative_eq!(m.mean, 2.5);
        // sd = sqrt(5/3), se = sd / 2.
        assert_relative_eq!(m.se, (5.0f64 / 3.0).sqrt() / 2.0, epsilon = 1e-15);
        assert_eq!(MeanSe::of(&[7.0]).se, 0.0);
        assert_eq!(mean(&[]), 0.0);
        let z = m.welch_z(&MeanSe { mean: 2.5, se: 0.0 });
        assert_eq!(z, 0.0);
        assert!(strictly_decreasing(&[3.0, 2.0, 1.0]));
        assert!(!strictly_decreasing(&[3.0, 3.0]));
        // Linear curve: 10x; a log curve grows by ln T / ln(T / 10).
        let cps = log_checkpoints(10_000, 5);
        let lin: Vec<f64> = cps.iter().map(|&t| t as f64).collect();
        assert_relative_eq!(growth_over_decade(&cps, &lin).unwrap(), 10.0);
        let log: Vec<f64> = cps.iter().map(|&t| (t as f64).ln()).collect();
        assert_relative_eq!(
            growth_over_decade(&cps, &log).unwrap(),
            4.0 / 3.0,
            epsilon = 1e-12
        );
        assert!(growth_over_decade(&cps, &lin[1..]).is_err());
    }
}
