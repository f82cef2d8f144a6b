//! Privacy accounting: zero-concentrated differential privacy (zCDP), its
//! conversion to (epsilon, delta)-DP, and the Gaussian mechanism's noise
//! scale.
//!
//! - Gaussian mechanism (Bun & Steinke 2016, "Concentrated Differential
//!   Privacy: Simplifications, Extensions, and Lower Bounds", Proposition
//!   1.6): adding `N(0, sigma^2)` to a query of L2 sensitivity `Delta` is
//!   `Delta^2 / (2 sigma^2)`-zCDP, so `sigma = Delta / sqrt(2 rho)`.
//! - Composition (ibid., Lemma 2.3): zCDP budgets add.
//! - zCDP to (epsilon, delta) (ibid., Proposition 1.3, the simple bound):
//!   `epsilon = rho + 2 sqrt(rho ln(1/delta))`.
//! - The tight conversion used by Private-GSD (through `snsynth.utils.cdp_rho`)
//!   is Canonne, Kamath & Steinke 2020 ("The Discrete Gaussian for
//!   Differential Privacy", Proposition 12 / Corollary 13): `rho`-zCDP gives
//!   `(epsilon, delta)`-DP with
//!   `delta = min over alpha > 1 of exp((alpha-1)(alpha rho - epsilon)) /
//!   (alpha - 1) * (1 - 1/alpha)^alpha`. [`cdp_delta`] minimises over alpha by
//!   bisection on the derivative, [`cdp_eps`] and [`cdp_rho`] invert it by
//!   bisection, as in the authors' `cdp2adp.py` (Steinke's reference code,
//!   which the Private-GSD repository calls).

use duality_core::{Error, Result};

/// Bisection steps of the conversions (as in the reference code).
const STEPS: usize = 1_000;

/// The largest epsilon or rho the conversions accept. A budget this large
/// protects nothing, and beyond it the conversions' intermediate terms
/// (`alpha * rho`, `(alpha - 1) * epsilon`) overflow f64, which would make
/// the error name a quantity the user never typed.
pub const MAX_BUDGET: f64 = 1e6;

fn check_rho(rho: f64) -> Result<()> {
    if !(rho.is_finite() && (0.0..=MAX_BUDGET).contains(&rho)) {
        return Err(Error::invalid(
            "rho",
            rho,
            "a zCDP budget in [0, 1e6] (larger budgets protect nothing)",
        ));
    }
    Ok(())
}

fn check_eps(eps: f64) -> Result<()> {
    if !(eps.is_finite() && (0.0..=MAX_BUDGET).contains(&eps)) {
        return Err(Error::invalid(
            "epsilon",
            eps,
            "an epsilon in [0, 1e6] (larger budgets protect nothing)",
        ));
    }
    Ok(())
}

fn check_delta(delta: f64) -> Result<()> {
    if !(delta > 0.0 && delta < 1.0) {
        return Err(Error::invalid("delta", delta, "a delta in (0, 1)"));
    }
    Ok(())
}

/// The smallest `delta` such that `rho`-zCDP implies `(eps, delta)`-DP
/// (Canonne, Kamath & Steinke 2020, Proposition 12), capped at 1.
pub fn cdp_delta(rho: f64, eps: f64) -> Result<f64> {
    check_rho(rho)?;
    check_eps(eps)?;
    Ok(delta_of(rho, eps))
}

/// [`cdp_delta`] for checked inputs (the inverting bisections probe a
/// little past [`MAX_BUDGET`]).
fn delta_of(rho: f64, eps: f64) -> f64 {
    if rho == 0.0 {
        return 0.0;
    }
    // The optimal alpha is at least (1 + eps / rho) / 2; alpha >= 1.01 keeps
    // the log1p away from -inf (any alpha > 1 gives a valid bound).
    let mut lo = 1.01_f64;
    let mut hi = (eps + 1.0) / (2.0 * rho) + 2.0;
    let mut alpha = lo;
    for _ in 0..STEPS {
        alpha = 0.5 * (lo + hi);
        let derivative = (2.0 * alpha - 1.0) * rho - eps + (-1.0 / alpha).ln_1p();
        if derivative < 0.0 {
            lo = alpha;
        } else {
            hi = alpha;
        }
    }
    let delta = ((alpha - 1.0) * (alpha * rho - eps) + alpha * (-1.0 / alpha).ln_1p()).exp()
        / (alpha - 1.0);
    delta.min(1.0)
}

/// The smallest `epsilon` such that `rho`-zCDP implies `(epsilon, delta)`-DP
/// (bisection on [`cdp_delta`]; never above [`zcdp_to_eps_simple`]).
pub fn cdp_eps(rho: f64, delta: f64) -> Result<f64> {
    check_rho(rho)?;
    check_delta(delta)?;
    let mut lo = 0.0_f64;
    let mut hi = zcdp_to_eps_simple(rho, delta)?;
    for _ in 0..STEPS {
        let eps = 0.5 * (lo + hi);
        if delta_of(rho, eps) <= delta {
            hi = eps;
        } else {
            lo = eps;
        }
    }
    Ok(hi)
}

/// The largest zCDP budget `rho` whose mechanisms are `(eps, delta)`-DP
/// (bisection on [`cdp_delta`], as `snsynth.utils.cdp_rho`).
pub fn cdp_rho(eps: f64, delta: f64) -> Result<f64> {
    check_eps(eps)?;
    check_delta(delta)?;
    let mut lo = 0.0_f64;
    let mut hi = eps + 1.0;
    for _ in 0..STEPS {
        let rho = 0.5 * (lo + hi);
        if delta_of(rho, eps) <= delta {
            lo = rho;
        } else {
            hi = rho;
        }
    }
    Ok(lo)
}

/// Bun & Steinke 2016, Proposition 1.3: `rho`-zCDP implies
/// `(rho + 2 sqrt(rho ln(1/delta)), delta)`-DP (looser than [`cdp_eps`]).
pub fn zcdp_to_eps_simple(rho: f64, delta: f64) -> Result<f64> {
    check_rho(rho)?;
    check_delta(delta)?;
    Ok(rho + 2.0 * (rho * (1.0 / delta).ln()).sqrt())
}

/// Noise scale of the Gaussian mechanism that is `rho`-zCDP for a query of
/// L2 sensitivity `sensitivity` (Bun & Steinke 2016, Proposition 1.6):
/// `sigma = sensitivity / sqrt(2 rho)`.
pub fn gaussian_sigma(sensitivity: f64, rho: f64) -> Result<f64> {
    if !(sensitivity.is_finite() && sensitivity > 0.0) {
        return Err(Error::invalid(
            "sensitivity",
            sensitivity,
            "a finite L2 sensitivity > 0",
        ));
    }
    if !(rho.is_finite() && rho > 0.0) {
        return Err(Error::invalid("rho", rho, "a finite zCDP budget > 0"));
    }
    Ok(sensitivity / (2.0 * rho).sqrt())
}

/// A privacy budget: zCDP `rho`, or `(epsilon, delta)`-DP converted to the
/// largest `rho` that implies it ([`cdp_rho`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Budget {
    /// `rho`-zCDP.
    Zcdp(f64),
    /// `(epsilon, delta)`-DP.
    Approx {
        /// epsilon.
        epsilon: f64,
        /// delta.
        delta: f64,
    },
}

impl Budget {
    /// The zCDP budget to spend (`> 0`).
    pub fn rho(&self) -> Result<f64> {
        let rho = match *self {
            Budget::Zcdp(rho) => {
                check_rho(rho)?;
                rho
            }
            Budget::Approx { epsilon, delta } => cdp_rho(epsilon, delta)?,
        };
        if rho <= 0.0 {
            return Err(Error::invalid(
                "privacy budget",
                format!("{self:?}"),
                "a budget with rho > 0 (epsilon > 0)",
            ));
        }
        Ok(rho)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Huge budgets are refused by the name the user typed (they used to
    /// overflow inside the bisection and report "rho = inf").
    #[test]
    fn huge_budgets_name_the_typed_quantity() {
        for eps in [1e308, f64::MAX, 1e7] {
            let e = cdp_rho(eps, 1e-5).unwrap_err().to_string();
            assert!(e.contains("epsilon") && !e.contains("inf"), "{e}");
        }
        let e = cdp_eps(1e308, 1e-5).unwrap_err().to_string();
        assert!(e.contains("rho") && !e.contains("inf"), "{e}");
        assert!(cdp_rho(MAX_BUDGET, 1e-5).unwrap().is_finite());
        assert!(cdp_eps(MAX_BUDGET, 1e-5).unwrap().is_finite());
    }

    // Reference values: the authors' conversion code (cdp2adp.py, as called
    // by snsynth.utils.cdp_rho) run in Python 3.11.
    #[test]
    fn conversions_match_the_reference_code() {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1e-12);
        assert!(close(cdp_rho(1.0, 1e-5).unwrap(), 0.030_556_595_197_639_56));
        assert!(close(
            cdp_rho(0.5, 1e-6).unwrap(),
            0.006_641_524_356_660_502
        ));
        assert!(close(cdp_rho(4.0, 1e-5).unwrap(), 0.373_143_982_769_328_7));
        assert!(close(cdp_eps(0.5, 1e-5).unwrap(), 4.728_386_984_943_314));
        assert!(close(cdp_eps(1.0, 1e-6).unwrap(), 7.766_216_625_311_721_5));
        assert!(close(
            cdp_delta(0.5, 3.0).unwrap(),
            0.005_143_184_063_862_147
        ));
    }

    #[test]
    fn simple_bound_is_bun_steinke_and_looser_than_the_tight_one() {
        // 1 + 2 sqrt(ln 1e6) = 8.433...
        let simple = zcdp_to_eps_simple(1.0, 1e-6).unwrap();
        assert!((simple - (1.0 + 2.0 * (1e6_f64).ln().sqrt())).abs() < 1e-12);
        assert!((simple - 8.433_844_377_699_677).abs() < 1e-9);
        for &(rho, delta) in &[(0.01, 1e-5), (0.5, 1e-6), (2.0, 1e-3)] {
            assert!(cdp_eps(rho, delta).unwrap() < zcdp_to_eps_simple(rho, delta).unwrap());
        }
    }

    #[test]
    fn round_trip_and_monotone() {
        for &eps in &[0.1, 1.0, 8.0] {
            let rho = cdp_rho(eps, 1e-6).unwrap();
            assert!((cdp_eps(rho, 1e-6).unwrap() - eps).abs() < 1e-6 * eps);
            assert!(cdp_delta(rho, eps).unwrap() <= 1e-6 * (1.0 + 1e-9));
        }
        assert!(cdp_rho(1.0, 1e-6).unwrap() < cdp_rho(2.0, 1e-6).unwrap());
        assert!(cdp_rho(1.0, 1e-6).unwrap() < cdp_rho(1.0, 1e-4).unwrap());
    }

    #[test]
    fn gaussian_noise_scale_from_the_budget() {
        // Delta = 1, rho = 1/2: sigma = 1 (Bun & Steinke Prop. 1.6).
        assert!((gaussian_sigma(1.0, 0.5).unwrap() - 1.0).abs() < 1e-15);
        assert!((gaussian_sigma(2.0, 0.02).unwrap() - 10.0).abs() < 1e-12);
        let b = Budget::Approx {
            epsilon: 1.0,
            delta: 1e-5,
        };
        assert!((b.rho().unwrap() - 0.030_556_595_197_639_56).abs() < 1e-12);
        assert_eq!(Budget::Zcdp(0.3).rho().unwrap(), 0.3);
    }

    #[test]
    fn bad_budgets_are_errors() {
        assert!(cdp_rho(-1.0, 1e-5)
            .unwrap_err()
            .to_string()
            .contains("epsilon"));
        assert!(cdp_rho(1.0, 1.5).unwrap_err().to_string().contains("delta"));
        assert!(cdp_eps(f64::NAN, 1e-5).is_err());
        assert!(gaussian_sigma(1.0, 0.0).is_err());
        assert!(Budget::Zcdp(0.0).rho().is_err());
        // (0, delta)-DP still allows a small rho > 0 when delta > 0.
        assert!(
            Budget::Approx {
                epsilon: 0.0,
                delta: 1e-5
            }
            .rho()
            .unwrap()
                > 0.0
        );
        assert!(Budget::Approx {
            epsilon: -1.0,
            delta: 1e-5
        }
        .rho()
        .is_err());
    }
}
