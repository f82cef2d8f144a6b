//! Optimal stopping: pricing Bermudan/American puts under geometric Brownian
//! motion.
//!
//! - [`lsmc_price`]: least-squares Monte Carlo (Longstaff & Schwartz 2001,
//!   "Valuing American Options by Simulation", §2): simulate antithetic GBM
//!   paths, then backwards over exercise dates regress the discounted
//!   realised cash flows of in-the-money paths on a basis of the spot
//!   (weighted Laguerre polynomials as in their eq. (2), or plain monomials),
//!   exercise where the immediate payoff beats the fitted continuation value.
//!   The in-sample estimator is biased low by a little; the price comes with
//!   a normal CI from independent antithetic pairs.
//! - [`binomial_price`]: the Cox-Ross-Rubinstein lattice (exact oracle in the
//!   limit of many steps), European, Bermudan (exercise only on the dates)
//!   and American.
//! - [`black_scholes_put`]: the European closed form.
//! - [`lsmc_fit`]: the LSMC regression kept as an exercise rule
//!   ([`LsmcPolicy`], an [`ExercisePolicy`]); [`price_interval`] prices it
//!   as an interval: out of sample on fresh paths ([`policy_value`], lower)
//!   and by the Andersen-Broadie dual with nested simulation
//!   ([`andersen_broadie`], upper), with a 95% interval ([`PriceBounds`]).
//! - [`PriceProcess`]: GBM or AR(1) log-returns (history carries
//!   information), for the lower bound, the dual and [`lsmc_fit_process`].
//! - `neural_fit` (feature `torch`): neural stopping rules on tch, an MLP
//!   on (time, price) and a 1-D CNN over the last `L` log-returns, trained
//!   as in Becker-Cheridito-Jentzen deep optimal stopping and priced as an
//!   interval like the LSMC rule (`neural_price_interval`).
//!
//! Reference (Longstaff-Schwartz Table 1, first row): S0 = 36, K = 40,
//! r = 0.06, sigma = 0.2, T = 1: Bermudan with 50 dates 4.478, American
//! 4.487, European 3.844.

mod dual;
#[cfg(feature = "torch")]
mod neural;
mod process;

pub use dual::{
    andersen_broadie, bounds, policy_value, price_interval, DualParams, LsmcInterval, PriceBounds,
};
#[cfg(feature = "torch")]
pub use neural::{
    neural_fit, neural_price_interval, NeuralFit, NeuralInterval, NeuralPolicy, NeuralStopParams,
    StoppingNet,
};
pub use process::PriceProcess;

use duality_core::config::Validate;
use duality_core::seed::Seeder;
use duality_core::{Error, Result};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// A put option under GBM.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PutOption {
    /// Spot.
    pub s0: f64,
    /// Strike.
    pub strike: f64,
    /// Risk-free rate (continuous).
    pub rate: f64,
    /// Volatility.
    pub sigma: f64,
    /// Maturity in years.
    pub maturity: f64,
}

impl Default for PutOption {
    /// The Longstaff-Schwartz reference put.
    fn default() -> Self {
        PutOption {
            s0: 36.0,
            strike: 40.0,
            rate: 0.06,
            sigma: 0.2,
            maturity: 1.0,
        }
    }
}

impl Validate for PutOption {
    /// Positive spot, strike, sigma and maturity; finite rate.
    fn validate(&self) -> Result<()> {
        duality_core::check::positive("s0", self.s0)?;
        duality_core::check::positive("strike", self.strike)?;
        duality_core::check::finite_scalar("rate", self.rate)?;
        duality_core::check::positive("sigma", self.sigma)?;
        duality_core::check::positive("maturity", self.maturity)
    }
}

impl PutOption {
    /// Payoff `max(K - S, 0)`.
    pub fn payoff(&self, s: f64) -> f64 {
        (self.strike - s).max(0.0)
    }
}

/// Regression basis for the continuation value, in `x = S / K`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Basis {
    /// Constant plus weighted Laguerre `exp(-x/2) L_k(x)`, `k = 0..degree`.
    Laguerre(usize),
    /// Monomials `1, x, ..., x^degree`.
    Polynomial(usize),
}

impl Basis {
    fn len(&self) -> usize {
        match *self {
            Basis::Laguerre(d) => d + 2,
            Basis::Polynomial(d) => d + 1,
        }
    }

    fn eval(&self, x: f64, out: &mut Vec<f64>) {
        out.clear();
        match *self {
            Basis::Laguerre(d) => {
                out.push(1.0);
                let w = (-x / 2.0).exp();
                // Laguerre recurrence: (k+1) L_{k+1} = (2k + 1 - x) L_k - k L_{k-1}.
                let (mut l0, mut l1) = (1.0, 1.0 - x);
                out.push(w * l0);
                if d >= 1 {
                    out.push(w * l1);
                }
                for k in 1..d {
                    let kf = k as f64;
                    let l2 = ((2.0 * kf + 1.0 - x) * l1 - kf * l0) / (kf + 1.0);
                    out.push(w * l2);
                    l0 = l1;
                    l1 = l2;
                }
            }
            Basis::Polynomial(d) => {
                let mut p = 1.0;
                for _ in 0..=d {
                    out.push(p);
                    p *= x;
                }
            }
        }
    }
}

impl std::fmt::Display for Basis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Basis::Laguerre(d) => write!(f, "laguerre:{d}"),
            Basis::Polynomial(d) => write!(f, "poly:{d}"),
        }
    }
}

impl std::str::FromStr for Basis {
    type Err = Error;
    /// `laguerre:DEGREE` or `poly:DEGREE`.
    fn from_str(text: &str) -> Result<Self> {
        let degree = |d: &str| {
            d.parse::<usize>()
                .map_err(|_| Error::invalid("basis degree", d, "a whole number"))
        };
        let basis = match text.trim().split_once(':') {
            Some(("laguerre", d)) => Basis::Laguerre(degree(d)?),
            Some(("poly", d)) => Basis::Polynomial(degree(d)?),
            _ => {
                return Err(Error::invalid(
                    "basis",
                    text,
                    "laguerre:DEGREE | poly:DEGREE",
                ))
            }
        };
        basis.validate()?;
        Ok(basis)
    }
}

/// The most exercise dates accepted (issue 25: `--steps 1e12` must be
/// refused before a path matrix or a lattice is allocated).
pub const MAX_EXERCISE_DATES: usize = 100_000;

/// The highest regression-basis degree accepted: beyond a few degrees the
/// normal equations are numerically singular anyway, and `laguerre:1e12`
/// must not loop for hours.
pub const MAX_BASIS_DEGREE: usize = 20;

/// The most binomial-lattice steps accepted (the lattice is `O(steps^2)`).
pub const MAX_LATTICE_STEPS: usize = 200_000;

/// Refuses more than [`MAX_EXERCISE_DATES`] dates; `what` names the flag.
pub(crate) fn check_dates_limit(what: &str, dates: usize) -> Result<()> {
    if dates > MAX_EXERCISE_DATES {
        return Err(Error::invalid(
            what,
            dates,
            format!("at most {MAX_EXERCISE_DATES} exercise dates"),
        ));
    }
    Ok(())
}

/// Refuses `paths x dates` simulated spots (two f64 copies: per pair and
/// date-major) over the memory budget, naming `what` (the paths flag).
pub(crate) fn check_path_memory(what: &str, paths: usize, dates: usize) -> Result<()> {
    let n = duality_core::limits::product(&[
        (what, paths.saturating_add(1)),
        ("exercise dates", dates),
    ])?;
    duality_core::limits::check_memory(
        &format!("{what} x exercise dates = {paths} x {dates}"),
        n as u128 * 16,
    )
}

impl Validate for Basis {
    /// A degree of at most [`MAX_BASIS_DEGREE`].
    fn validate(&self) -> Result<()> {
        let (Basis::Laguerre(d) | Basis::Polynomial(d)) = *self;
        if d > MAX_BASIS_DEGREE {
            return Err(Error::invalid(
                "basis degree",
                d,
                format!("at most {MAX_BASIS_DEGREE}"),
            ));
        }
        Ok(())
    }
}

/// LSMC settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LsmcParams {
    /// Number of exercise dates (equally spaced, the last at maturity).
    pub exercise_dates: usize,
    /// Number of paths (rounded up to even: antithetic pairs).
    pub paths: usize,
    /// Regression basis.
    pub basis: Basis,
    /// Use antithetic pairs.
    pub antithetic: bool,
    /// Seed.
    pub seed: u64,
}

impl Default for LsmcParams {
    fn default() -> Self {
        LsmcParams {
            exercise_dates: 50,
            paths: 100_000,
            basis: Basis::Laguerre(2),
            antithetic: true,
            seed: 0,
        }
    }
}

impl LsmcParams {
    /// Sets the number of exercise dates.
    pub fn exercise_dates(mut self, n: usize) -> Self {
        self.exercise_dates = n;
        self
    }
    /// Sets the number of paths.
    pub fn paths(mut self, n: usize) -> Self {
        self.paths = n;
        self
    }
    /// Sets the basis.
    pub fn basis(mut self, b: Basis) -> Self {
        self.basis = b;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, s: u64) -> Self {
        self.seed = s;
        self
    }
    /// Sets antithetic sampling.
    pub fn antithetic(mut self, on: bool) -> Self {
        self.antithetic = on;
        self
    }
}

impl Validate for LsmcParams {
    /// At least one exercise date and two paths.
    fn validate(&self) -> Result<()> {
        duality_core::check::at_least("exercise_dates", self.exercise_dates, 1)?;
        duality_core::check::at_least("paths", self.paths, 2)?;
        check_dates_limit("exercise_dates", self.exercise_dates)?;
        self.basis.validate()?;
        check_path_memory("paths", self.paths, self.exercise_dates)
    }
}

/// A Monte Carlo price with its 95% normal confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct McPrice {
    /// Price estimate.
    pub price: f64,
    /// Standard error.
    pub std_error: f64,
    /// Lower end of the 95% CI.
    pub ci_low: f64,
    /// Upper end of the 95% CI.
    pub ci_high: f64,
    /// Paths used.
    pub paths: usize,
}

/// An exercise rule on the dates `1..=dates` of a Bermudan put (date `k`
/// at time `k T / dates`), deciding from the date and the path so far
/// (`path[k - 1]` is the spot at date `k`, `path[0]` at date 1), so that
/// rules on the price history fit too. Used by the out-of-sample value
/// ([`policy_value`]) and the dual upper bound ([`andersen_broadie`]);
/// `Sync` so paths run in parallel.
pub trait ExercisePolicy: Sync {
    /// Number of exercise dates (the last at maturity).
    fn dates(&self) -> usize;
    /// Whether to exercise at date `k` (`1..=dates`) given the spots of
    /// dates `1..=k` (`path.len() == k`).
    fn exercise(&self, k: usize, path: &[f64]) -> bool;
}

/// The Longstaff-Schwartz exercise rule: at date `k < dates`, exercise an
/// in-the-money put when its payoff beats the regressed continuation value
/// `beta_k . phi(S / K)`; at maturity, exercise when in the money. Dates
/// without a regression (too few in-the-money paths, singular system) never
/// exercise, as in the fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LsmcPolicy {
    option: PutOption,
    basis: Basis,
    dates: usize,
    /// `betas[k - 1]`: coefficients at date `k` for `k = 1..dates`.
    betas: Vec<Option<Vec<f64>>>,
}

impl LsmcPolicy {
    /// The option the rule was fitted for.
    pub fn option(&self) -> &PutOption {
        &self.option
    }
    /// The regression basis.
    pub fn basis(&self) -> Basis {
        self.basis
    }
    /// Fitted continuation value (discounted to date `k`) at date `k` and
    /// spot `spot`, or `None` at maturity and at dates without a regression.
    pub fn continuation(&self, k: usize, spot: f64) -> Option<f64> {
        let beta = self.betas.get(k.checked_sub(1)?)?.as_ref()?;
        let mut phi = Vec::with_capacity(beta.len());
        self.basis.eval(spot / self.option.strike, &mut phi);
        Some(phi.iter().zip(beta).map(|(p, b)| p * b).sum())
    }
}

impl ExercisePolicy for LsmcPolicy {
    fn dates(&self) -> usize {
        self.dates
    }
    fn exercise(&self, k: usize, path: &[f64]) -> bool {
        let Some(&spot) = path.last() else {
            return false;
        };
        let ex = self.option.payoff(spot);
        if ex <= 0.0 {
            return false;
        }
        if k >= self.dates {
            return true;
        }
        self.continuation(k, spot).is_some_and(|cont| ex > cont)
    }
}

/// What [`lsmc_fit`] returns: the exercise rule and the in-sample price
/// (the number [`lsmc_price`] reports).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LsmcFit {
    /// The fitted exercise rule.
    pub policy: LsmcPolicy,
    /// In-sample LSMC price on the training paths.
    pub in_sample: McPrice,
}

/// GBM spots of every path at every exercise date, date-major:
/// `spots[k * n_paths + i]` is path `i` at date `k + 1`. Antithetic pairs
/// are adjacent paths; group `g` draws from `Seeder::new(seed)` stream `g`.
fn simulate_spots(opt: &PutOption, params: &LsmcParams) -> Vec<f64> {
    let n_dates = params.exercise_dates;
    let dt = opt.maturity / n_dates as f64;
    let drift = (opt.rate - 0.5 * opt.sigma * opt.sigma) * dt;
    let vol = opt.sigma * dt.sqrt();
    let groups = if params.antithetic {
        params.paths.div_ceil(2)
    } else {
        params.paths
    };
    let per_group = if params.antithetic { 2 } else { 1 };
    let n_paths = groups * per_group;
    let seeder = Seeder::new(params.seed);
    let group_paths: Vec<Vec<f64>> = seeder.par_map(groups, |_, rng| {
        let mut out = vec![0.0; per_group * n_dates];
        let (mut ls, mut la) = (opt.s0.ln(), opt.s0.ln());
        for k in 0..n_dates {
            let z: f64 = StandardNormal.sample(rng);
            ls += drift + vol * z;
            out[k] = ls.exp();
            if per_group == 2 {
                la += drift - vol * z;
                out[n_dates + k] = la.exp();
            }
        }
        out
    });
    let mut spots = vec![0.0; n_paths * n_dates];
    for (g, gp) in group_paths.iter().enumerate() {
        for j in 0..per_group {
            let i = g * per_group + j;
            for k in 0..n_dates {
                spots[k * n_paths + i] = gp[j * n_dates + k];
            }
        }
    }
    spots
}

/// Least-squares Monte Carlo price of a Bermudan put (American in the limit
/// of many dates; Longstaff & Schwartz 2001, §2 and Table 1). Paths are
/// generated per antithetic pair from `Seeder::new(seed).rng(pair)`, so the
/// result does not depend on the rayon thread count.
///
/// ```
/// use duality_distdp::prelude::*;
///
/// # fn main() -> duality_core::Result<()> {
/// // Longstaff-Schwartz's first row: S0 36, K 40, r 0.06, sigma 0.2, T 1, 50 dates.
/// let put = PutOption::default();
/// let mc = lsmc_price(&put, &LsmcParams::default().paths(20_000).seed(1))?;
/// let lattice = binomial_price(&put, Exercise::Bermudan { dates: 50 }, 2000)?;
/// assert!(mc.ci_low - 0.01 <= lattice && lattice <= mc.ci_high + 0.01);
/// // Early exercise is worth something: above the European price.
/// assert!(mc.price > black_scholes_put(&put)?);
/// # Ok(())
/// # }
/// ```
pub fn lsmc_price(opt: &PutOption, params: &LsmcParams) -> Result<McPrice> {
    lsmc_fit(opt, params).map(|fit| fit.in_sample)
}

/// The LSMC regression of [`lsmc_price`] kept as an exercise rule
/// ([`LsmcPolicy`]) next to the in-sample price. The rule can then be
/// priced out of sample ([`policy_value`], a lower bound) and fed to the
/// Andersen-Broadie dual ([`andersen_broadie`], an upper bound).
pub fn lsmc_fit(opt: &PutOption, params: &LsmcParams) -> Result<LsmcFit> {
    opt.validate()?;
    params.validate()?;
    let spots = simulate_spots(opt, params);
    Ok(fit_on_spots(opt, params, &spots))
}

/// [`lsmc_fit`] on training paths of any [`PriceProcess`] (antithetic
/// pairs always; `params.antithetic` is ignored off GBM), regressing on the
/// spot alone as Longstaff-Schwartz do. Under GBM this is [`lsmc_fit`].
pub fn lsmc_fit_process(
    opt: &PutOption,
    process: &PriceProcess,
    params: &LsmcParams,
) -> Result<LsmcFit> {
    if *process == PriceProcess::Gbm {
        return lsmc_fit(opt, params);
    }
    opt.validate()?;
    params.validate()?;
    process.validate()?;
    let antithetic = LsmcParams {
        antithetic: true,
        ..*params
    };
    let spots = process::simulate_paths(
        process,
        opt,
        params.exercise_dates,
        params.paths,
        params.seed,
    );
    Ok(fit_on_spots(opt, &antithetic, &spots))
}

/// The backward LSMC regression on date-major `spots` (checked inputs).
fn fit_on_spots(opt: &PutOption, params: &LsmcParams, spots: &[f64]) -> LsmcFit {
    let n_dates = params.exercise_dates;
    let dt = opt.maturity / n_dates as f64;
    let per_group = if params.antithetic { 2 } else { 1 };
    let n_paths = spots.len() / n_dates;

    // Cash flow and exercise date (1-based) per path.
    let mut cash: Vec<f64> = (0..n_paths)
        .map(|i| opt.payoff(spots[(n_dates - 1) * n_paths + i]))
        .collect();
    let mut when: Vec<usize> = vec![n_dates; n_paths];
    let nb = params.basis.len();
    let mut phi = Vec::with_capacity(nb);
    let mut betas: Vec<Option<Vec<f64>>> = vec![None; n_dates - 1];
    for k in (1..n_dates).rev() {
        let row = &spots[(k - 1) * n_paths..k * n_paths];
        // Normal equations over in-the-money paths.
        let mut ata = vec![vec![0.0; nb + 1]; nb];
        let mut itm = 0usize;
        for i in 0..n_paths {
            let s = row[i];
            if opt.payoff(s) <= 0.0 {
                continue;
            }
            itm += 1;
            let y = cash[i] * (-opt.rate * dt * (when[i] - k) as f64).exp();
            params.basis.eval(s / opt.strike, &mut phi);
            for a in 0..nb {
                for b in 0..nb {
                    ata[a][b] += phi[a] * phi[b];
                }
                ata[a][nb] += phi[a] * y;
            }
        }
        if itm < nb {
            continue; // too few in-the-money paths to regress: no exercise at this date
        }
        // Ridge-free solve; a singular system (degenerate spots) skips the date.
        let Ok(beta) = crate::classic::solve_dense(ata) else {
            continue;
        };
        for i in 0..n_paths {
            let s = row[i];
            let ex = opt.payoff(s);
            if ex <= 0.0 {
                continue;
            }
            params.basis.eval(s / opt.strike, &mut phi);
            let cont: f64 = phi.iter().zip(&beta).map(|(p, b)| p * b).sum();
            if ex > cont {
                cash[i] = ex;
                when[i] = k;
            }
        }
        betas[k - 1] = Some(beta);
    }
    let disc: Vec<f64> = (0..n_paths)
        .map(|i| cash[i] * (-opt.rate * dt * when[i] as f64).exp())
        .collect();
    // Independent units: antithetic pair averages.
    let units: Vec<f64> = disc
        .chunks(per_group)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect();
    let n = units.len() as f64;
    let mean = units.iter().sum::<f64>() / n;
    let var = units.iter().map(|u| (u - mean) * (u - mean)).sum::<f64>() / (n - 1.0).max(1.0);
    let se = (var / n).sqrt();
    // Immediate exercise at time 0 is allowed for the holder.
    let price = mean.max(opt.payoff(opt.s0));
    LsmcFit {
        policy: LsmcPolicy {
            option: *opt,
            basis: params.basis,
            dates: n_dates,
            betas,
        },
        in_sample: McPrice {
            price,
            std_error: se,
            ci_low: price - 1.96 * se,
            ci_high: price + 1.96 * se,
            paths: n_paths,
        },
    }
}

/// Exercise style for the lattice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Exercise {
    /// Only at maturity.
    European,
    /// On `dates` equally spaced dates (the last at maturity).
    Bermudan {
        /// Number of exercise dates.
        dates: usize,
    },
    /// At any lattice step.
    American,
}

/// CRR binomial-lattice put price with `steps` time steps (for Bermudan,
/// rounded up to a multiple of the number of dates so that every date is a
/// lattice step). Early exercise is also allowed at time 0 (Bermudan and
/// American).
pub fn binomial_price(opt: &PutOption, exercise: Exercise, steps: usize) -> Result<f64> {
    opt.validate()?;
    duality_core::check::at_least("steps", steps, 1)?;
    if steps > MAX_LATTICE_STEPS {
        return Err(Error::invalid(
            "lattice steps",
            steps,
            format!("at most {MAX_LATTICE_STEPS}"),
        ));
    }
    let (n, every) = match exercise {
        Exercise::European => (steps, usize::MAX),
        Exercise::American => (steps, 1),
        Exercise::Bermudan { dates } => {
            duality_core::check::at_least("dates", dates, 1)?;
            let per = steps.div_ceil(dates).max(1);
            (per * dates, per)
        }
    };
    let dt = opt.maturity / n as f64;
    let u = (opt.sigma * dt.sqrt()).exp();
    let d = 1.0 / u;
    let growth = (opt.rate * dt).exp();
    let p = (growth - d) / (u - d);
    if !(0.0..=1.0).contains(&p) {
        // Name what the user typed (issue 25): the lattice's step count is
        // usually not a flag of theirs.
        return Err(Error::invalid(
            "rate, sigma and maturity",
            format!(
                "rate {}, sigma {}, maturity {}",
                opt.rate, opt.sigma, opt.maturity
            ),
            format!(
                "values whose {n}-step binomial lattice has a risk-neutral up-probability in [0, 1] (got {p}): a smaller rate, or a larger sigma"
            ),
        ));
    }
    let disc = 1.0 / growth;
    let mut v: Vec<f64> = (0..=n)
        .map(|j| opt.payoff(opt.s0 * u.powi(j as i32) * d.powi((n - j) as i32)))
        .collect();
    for step in (0..n).rev() {
        let can_exercise = every != usize::MAX && step % every == 0;
        for j in 0..=step {
            let cont = disc * (p * v[j + 1] + (1.0 - p) * v[j]);
            v[j] = if can_exercise {
                cont.max(opt.payoff(opt.s0 * u.powi(j as i32) * d.powi((step - j) as i32)))
            } else {
                cont
            };
        }
    }
    Ok(v[0])
}

/// Black-Scholes price of the European put.
pub fn black_scholes_put(opt: &PutOption) -> Result<f64> {
    opt.validate()?;
    let sq = opt.sigma * opt.maturity.sqrt();
    let d1 =
        ((opt.s0 / opt.strike).ln() + (opt.rate + 0.5 * opt.sigma * opt.sigma) * opt.maturity) / sq;
    let d2 = d1 - sq;
    let n = |x: f64| 0.5 * statrs::function::erf::erfc(-x / std::f64::consts::SQRT_2);
    Ok(opt.strike * (-opt.rate * opt.maturity).exp() * n(-d2) - opt.s0 * n(-d1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn black_scholes_reference() {
        let p = black_scholes_put(&PutOption::default()).unwrap();
        assert!((p - 3.844).abs() < 5e-4, "{p}");
        let e = binomial_price(&PutOption::default(), Exercise::European, 2000).unwrap();
        assert!((e - p).abs() < 2e-3, "{e} vs {p}");
    }

    #[test]
    fn lattice_references() {
        let o = PutOption::default();
        let b = binomial_price(&o, Exercise::Bermudan { dates: 50 }, 2000).unwrap();
        assert!((b - 4.478).abs() < 2e-3, "{b}");
        let a = binomial_price(&o, Exercise::American, 2000).unwrap();
        assert!((a - 4.487).abs() < 2e-3, "{a}");
    }

    #[test]
    fn lsmc_reference_within_ci() {
        let o = PutOption::default();
        let p = lsmc_price(&o, &LsmcParams::default().paths(20_000).seed(1)).unwrap();
        // Biased low by a few thousandths (Longstaff-Schwartz report 4.472).
        assert!(
            p.ci_low - 0.01 <= 4.478 && 4.478 <= p.ci_high + 0.01,
            "{p:?}"
        );
        assert!((p.price - 4.472).abs() < 3.0 * p.std_error + 0.01, "{p:?}");
        let q = lsmc_price(&o, &LsmcParams::default().paths(20_000).seed(1)).unwrap();
        assert_eq!(p, q);
    }

    #[test]
    fn lsmc_thread_count_invariant() {
        let o = PutOption::default();
        let params = LsmcParams::default().paths(2000).exercise_dates(10).seed(4);
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| lsmc_price(&o, &params).unwrap());
        let two = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap()
            .install(|| lsmc_price(&o, &params).unwrap());
        assert_eq!(one, two);
    }

    #[test]
    fn basis_parses_and_displays() {
        for b in [Basis::Laguerre(2), Basis::Polynomial(3)] {
            assert_eq!(b.to_string().parse::<Basis>().unwrap(), b);
        }
        let e = "laguerre:x".parse::<Basis>().unwrap_err().to_string();
        assert!(e.contains("basis degree") && e.contains('x'), "{e}");
        assert!("hermite:2".parse::<Basis>().is_err());
    }

    #[test]
    fn bad_inputs_rejected() {
        let mut o = PutOption {
            sigma: 0.0,
            ..Default::default()
        };
        let err = lsmc_price(&o, &LsmcParams::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("sigma"), "{err}");
        assert!(binomial_price(&o, Exercise::American, 10).is_err());
        o.sigma = -0.1;
        assert!(black_scholes_put(&o).is_err());
    }
}
