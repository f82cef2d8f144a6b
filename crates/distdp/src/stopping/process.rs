//! Price processes for optimal stopping: geometric Brownian motion (the
//! Longstaff-Schwartz reference case) and an autocorrelated alternative
//! whose price history carries information about the next move.

use duality_core::config::Validate;
use duality_core::seed::Seeder;
use duality_core::{Error, Result};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::PutOption;

/// The law of the spot on the exercise dates.
///
/// - `Gbm`: log-returns i.i.d. normal with mean `(r - sigma^2/2) dt` and
///   variance `sigma^2 dt` (risk neutral).
/// - `Ar1 { phi }`: log-returns `X_k = m + phi (X_{k-1} - m) + e_k` with
///   `m = (r - sigma^2/2) dt`, `X_0 = m` and `e_k ~ N(0, (1 - phi^2) sigma^2 dt)`,
///   so each return has the stationary variance `sigma^2 dt` of the GBM but
///   the last return predicts the next one (momentum for `phi > 0`). The
///   payoff is still discounted at `r`; this is an optimal-stopping problem
///   under that law, not an arbitrage-free price.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PriceProcess {
    /// Geometric Brownian motion.
    Gbm,
    /// AR(1) log-returns with autocorrelation `phi` in (-1, 1).
    Ar1 {
        /// Lag-one autocorrelation of the log-returns.
        phi: f64,
    },
}

impl Validate for PriceProcess {
    /// `phi` strictly inside (-1, 1).
    fn validate(&self) -> Result<()> {
        if let PriceProcess::Ar1 { phi } = *self {
            if !(phi.is_finite() && phi > -1.0 && phi < 1.0) {
                return Err(Error::invalid("phi", phi, "in (-1, 1)"));
            }
        }
        Ok(())
    }
}

impl std::fmt::Display for PriceProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PriceProcess::Gbm => write!(f, "gbm"),
            PriceProcess::Ar1 { phi } => write!(f, "ar1:{phi}"),
        }
    }
}

impl std::str::FromStr for PriceProcess {
    type Err = Error;
    /// `gbm` or `ar1:PHI`.
    fn from_str(text: &str) -> Result<Self> {
        let p = match text.trim().split_once(':') {
            None if text.trim() == "gbm" => PriceProcess::Gbm,
            Some(("ar1", phi)) => PriceProcess::Ar1 {
                phi: phi
                    .parse()
                    .map_err(|_| Error::invalid("phi", phi, "a number in (-1, 1)"))?,
            },
            _ => return Err(Error::invalid("process", text, "gbm | ar1:PHI")),
        };
        p.validate()?;
        Ok(p)
    }
}

/// The Markov state of a simulated path: log-spot and last log-return.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PathState {
    pub(crate) log_spot: f64,
    pub(crate) last_return: f64,
}

/// One date's step of a process, precomputed from the option and `dt`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stepper {
    mean: f64,
    phi: f64,
    noise: f64,
}

impl Stepper {
    /// The step of `process` over `dt = T / dates`.
    pub(crate) fn new(process: &PriceProcess, opt: &PutOption, dates: usize) -> Self {
        let dt = opt.maturity / dates as f64;
        let mean = (opt.rate - 0.5 * opt.sigma * opt.sigma) * dt;
        let vol = opt.sigma * dt.sqrt();
        let (phi, noise) = match *process {
            PriceProcess::Gbm => (0.0, vol),
            PriceProcess::Ar1 { phi } => (phi, vol * (1.0 - phi * phi).sqrt()),
        };
        Stepper { mean, phi, noise }
    }
    /// The state at time 0.
    pub(crate) fn start(&self, opt: &PutOption) -> PathState {
        PathState {
            log_spot: opt.s0.ln(),
            last_return: self.mean,
        }
    }
    /// Advances `state` by one date with standard normal draw `z`; returns the spot.
    pub(crate) fn step(&self, state: &mut PathState, z: f64) -> f64 {
        let x = self.mean + self.phi * (state.last_return - self.mean) + self.noise * z;
        state.last_return = x;
        state.log_spot += x;
        state.log_spot.exp()
    }
}

/// Spots of `paths` paths (rounded up to even: antithetic pairs, adjacent)
/// at dates `1..=dates`, date-major (`out[(k - 1) * n + i]`). Pair `g`
/// draws from stream `g` of `Seeder::new(seed)`.
pub(crate) fn simulate_paths(
    process: &PriceProcess,
    opt: &PutOption,
    dates: usize,
    paths: usize,
    seed: u64,
) -> Vec<f64> {
    let stepper = Stepper::new(process, opt, dates);
    let pairs = paths.div_ceil(2);
    let n = 2 * pairs;
    let per_pair: Vec<Vec<f64>> = Seeder::new(seed).par_map(pairs, |_, rng| {
        let mut out = vec![0.0; 2 * dates];
        let (mut a, mut b) = (stepper.start(opt), stepper.start(opt));
        for k in 0..dates {
            let z: f64 = StandardNormal.sample(rng);
            out[k] = stepper.step(&mut a, z);
            out[dates + k] = stepper.step(&mut b, -z);
        }
        out
    });
    let mut spots = vec![0.0; n * dates];
    for (g, pp) in per_pair.iter().enumerate() {
        for j in 0..2 {
            for k in 0..dates {
                spots[k * n + 2 * g + j] = pp[j * dates + k];
            }
        }
    }
    spots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_displays_and_checks_phi() {
        for p in [PriceProcess::Gbm, PriceProcess::Ar1 { phi: 0.5 }] {
            assert_eq!(p.to_string().parse::<PriceProcess>().unwrap(), p);
        }
        let e = "ar1:1.5".parse::<PriceProcess>().unwrap_err().to_string();
        assert!(e.contains("phi") && e.contains("1.5"), "{e}");
        assert!("ar1:x".parse::<PriceProcess>().is_err());
        assert!("heston"
            .parse::<PriceProcess>()
            .unwrap_err()
            .to_string()
            .contains("heston"));
    }

    /// AR(1) log-returns have the GBM's variance and lag-one correlation phi.
    #[test]
    fn ar1_moments() {
        let opt = PutOption::default();
        let dates = 50;
        let spots = simulate_paths(&PriceProcess::Ar1 { phi: 0.6 }, &opt, dates, 4_000, 3);
        let n = spots.len() / dates;
        let (mut x0, mut x1) = (Vec::new(), Vec::new());
        for i in 0..n {
            for k in 10..dates - 1 {
                let r = |k: usize| (spots[k * n + i] / spots[(k - 1) * n + i]).ln();
                x0.push(r(k));
                x1.push(r(k + 1));
            }
        }
        let m = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (m0, m1) = (m(&x0), m(&x1));
        let cov = x0
            .iter()
            .zip(&x1)
            .map(|(a, b)| (a - m0) * (b - m1))
            .sum::<f64>()
            / x0.len() as f64;
        let var = x0.iter().map(|a| (a - m0) * (a - m0)).sum::<f64>() / x0.len() as f64;
        assert!((var / (0.04 / 50.0) - 1.0).abs() < 0.05, "{var}");
        assert!((cov / var - 0.6).abs() < 0.03, "{}", cov / var);
    }
}
