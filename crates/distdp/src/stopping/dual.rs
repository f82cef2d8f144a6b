//! Prices as intervals: an out-of-sample lower bound and the
//! Andersen-Broadie dual upper bound of a Bermudan put.
//!
//! Any exercise rule gives a lower bound on the price: its expected
//! discounted payoff on fresh paths ([`policy_value`]). The dual
//! (Rogers 2002; Haugh & Kogan 2004) gives an upper bound for every
//! martingale `M` with `M_0 = 0`: `V_0 <= E[max_k (Z_k - M_k)]`, with `Z_k`
//! the discounted payoff at date `k`. Andersen & Broadie (2004, "Primal-dual
//! simulation algorithm for pricing multidimensional American options",
//! §3, eq. (8)-(10)) build `M` from the rule's own value process `L_k`
//! (the discounted payoff of following the rule from date `k`):
//! `M_k = sum_{j=1..k} (L_j - E_{j-1}[L_j])`, where the conditional
//! expectations are estimated by nested simulation from each outer path.
//! The closer the rule is to optimal, the closer `M` is to the optimal
//! martingale and the smaller the duality gap.
//!
//! Two standard savings (Andersen-Broadie §3.2, Broadie & Cao 2008):
//! where the rule continues, `E_j[L_{j+1}] = L_j`, so consecutive
//! increments telescope and nested simulation is only needed at date 0 and
//! at in-the-money dates; and the maximum only runs over date 0,
//! in-the-money dates and maturity (out of the money, exercising pays 0,
//! never more than holding, so the price of the problem restricted to those
//! dates is the same).

use duality_core::config::Validate;
use duality_core::seed::Seeder;
use duality_core::{Error, Result};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::process::{simulate_paths, PathState, PriceProcess, Stepper};
use super::{lsmc_fit_process, ExercisePolicy, LsmcFit, LsmcParams, McPrice, PutOption};

/// Simulation sizes of the interval: fresh paths for the lower bound, outer
/// and inner (nested) paths for the dual upper bound, and the seed of both
/// (independent of the training seed of the rule).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DualParamsFile")]
pub struct DualParams {
    lower_paths: usize,
    outer_paths: usize,
    inner_paths: usize,
    seed: u64,
}

/// The serialised form of [`DualParams`], checked on the way in.
#[derive(Deserialize)]
struct DualParamsFile {
    lower_paths: usize,
    outer_paths: usize,
    inner_paths: usize,
    seed: u64,
}

impl TryFrom<DualParamsFile> for DualParams {
    type Error = Error;
    fn try_from(f: DualParamsFile) -> Result<Self> {
        DualParams::new(f.lower_paths, f.outer_paths, f.inner_paths, f.seed)
    }
}

impl Validate for DualParams {
    /// At least two lower-bound paths, two outer paths (a standard error
    /// needs two) and two inner paths (one antithetic pair).
    fn validate(&self) -> Result<()> {
        duality_core::check::at_least("lower paths", self.lower_paths, 2)?;
        duality_core::check::at_least("outer paths", self.outer_paths, 2)?;
        duality_core::check::at_least("inner paths", self.inner_paths, 2)
    }
}

impl DualParams {
    /// Checked sizes: `lower_paths` fresh paths (rounded up to even:
    /// antithetic pairs), `outer_paths` dual paths, `inner_paths` nested paths
    /// per conditional expectation (rounded up to even).
    pub fn new(
        lower_paths: usize,
        outer_paths: usize,
        inner_paths: usize,
        seed: u64,
    ) -> Result<Self> {
        let p = DualParams {
            lower_paths,
            outer_paths,
            inner_paths,
            seed,
        };
        p.validate()?;
        Ok(p)
    }
    /// Fresh paths of the lower bound.
    pub fn lower_paths(&self) -> usize {
        self.lower_paths
    }
    /// Outer paths of the dual.
    pub fn outer_paths(&self) -> usize {
        self.outer_paths
    }
    /// Nested paths per conditional expectation.
    pub fn inner_paths(&self) -> usize {
        self.inner_paths
    }
    /// Seed of the lower-bound and dual simulations.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

/// A price as an interval: the rule's out-of-sample value (lower), the
/// Andersen-Broadie dual (upper), and the 95% interval
/// `[lower - 1.96 se_lower, upper + 1.96 se_upper]` (Andersen-Broadie §4),
/// which covers the true price with probability at least about 95%.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PriceBounds {
    /// Out-of-sample value of the exercise rule (a lower bound in expectation).
    pub lower: McPrice,
    /// Dual value (an upper bound in expectation).
    pub upper: McPrice,
    /// Lower end of the 95% interval.
    pub ci_low: f64,
    /// Upper end of the 95% interval.
    pub ci_high: f64,
    /// Estimated duality gap `upper - lower`.
    pub gap: f64,
}

/// Mean, standard error and the 95% normal interval of independent units.
fn mc_price(units: &[f64], paths: usize, floor: f64) -> McPrice {
    let n = units.len() as f64;
    let mean = units.iter().sum::<f64>() / n;
    let var = units.iter().map(|u| (u - mean) * (u - mean)).sum::<f64>() / (n - 1.0).max(1.0);
    let se = (var / n).sqrt();
    let price = mean.max(floor);
    McPrice {
        price,
        std_error: se,
        ci_low: price - 1.96 * se,
        ci_high: price + 1.96 * se,
        paths,
    }
}

fn check_dates(
    opt: &PutOption,
    process: &PriceProcess,
    policy: &dyn ExercisePolicy,
) -> Result<usize> {
    opt.validate()?;
    process.validate()?;
    let dates = policy.dates();
    duality_core::check::at_least("exercise dates", dates, 1)?;
    Ok(dates)
}

/// Out-of-sample value of an exercise rule: `paths` fresh antithetic paths
/// of `process` (streams of `seed`), each stopped at the rule's first
/// exercise date, discounted payoff averaged over antithetic pairs.
/// Exercising at time 0 is the holder's right too, so the value is at least
/// the immediate payoff. In expectation a lower bound on the price (no rule
/// beats the optimal one).
pub fn policy_value<P: ExercisePolicy>(
    opt: &PutOption,
    process: &PriceProcess,
    policy: &P,
    paths: usize,
    seed: u64,
) -> Result<McPrice> {
    let dates = check_dates(opt, process, policy)?;
    duality_core::check::at_least("lower paths", paths, 2)?;
    super::check_path_memory("lower paths", paths, dates)?;
    let spots = simulate_paths(process, opt, dates, paths, seed);
    let n_paths = spots.len() / dates;
    let dt = opt.maturity / dates as f64;
    let disc: Vec<f64> = (0..n_paths)
        .map(|i| {
            let path: Vec<f64> = (0..dates).map(|k| spots[k * n_paths + i]).collect();
            (1..=dates)
                .find(|&k| policy.exercise(k, &path[..k]))
                .map_or(0.0, |k| {
                    opt.payoff(path[k - 1]) * (-opt.rate * dt * k as f64).exp()
                })
        })
        .collect();
    let units: Vec<f64> = disc
        .chunks(2)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect();
    Ok(mc_price(&units, n_paths, opt.payoff(opt.s0)))
}

/// What nested simulation needs to know, fixed for one dual estimate.
struct Nested<'a, P> {
    opt: &'a PutOption,
    policy: &'a P,
    stepper: Stepper,
    inner: usize,
    dt: f64,
}

impl<P: ExercisePolicy> Nested<'_, P> {
    /// Nested estimate of `E_j[L_{j+1}]`, discounted to time 0: `inner`
    /// paths (antithetic pairs) from `state` at date `j` after the outer
    /// `prefix` (spots of dates `1..=j`), each following the rule from date
    /// `j + 1` on.
    fn continuation<R: Rng + ?Sized>(
        &self,
        j: usize,
        prefix: &[f64],
        state: PathState,
        rng: &mut R,
    ) -> f64 {
        let dates = self.policy.dates();
        let pairs = self.inner.div_ceil(2);
        let mut total = 0.0;
        let mut hp: Vec<f64> = Vec::with_capacity(dates);
        let mut hm: Vec<f64> = Vec::with_capacity(dates);
        for _ in 0..pairs {
            hp.clear();
            hp.extend_from_slice(prefix);
            hm.clear();
            hm.extend_from_slice(prefix);
            let (mut sp, mut sm) = (state, state);
            let (mut done_p, mut done_m) = (false, false);
            for k in j + 1..=dates {
                let z: f64 = StandardNormal.sample(rng);
                let disc = (-self.opt.rate * self.dt * k as f64).exp();
                if !done_p {
                    hp.push(self.stepper.step(&mut sp, z));
                    if self.policy.exercise(k, &hp) {
                        total += self.opt.payoff(hp[k - 1]) * disc;
                        done_p = true;
                    }
                }
                if !done_m {
                    hm.push(self.stepper.step(&mut sm, -z));
                    if self.policy.exercise(k, &hm) {
                        total += self.opt.payoff(hm[k - 1]) * disc;
                        done_m = true;
                    }
                }
                if done_p && done_m {
                    break;
                }
            }
        }
        total / (2 * pairs) as f64
    }

    /// One outer path of the dual: `max_k (Z_k - M_k)` over date 0, the
    /// in-the-money dates and maturity, with `M_k = base_k + L_k` kept
    /// incrementally (`base` changes only where the rule exercises).
    fn dual_path<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let (opt, dates) = (self.opt, self.policy.dates());
        // Outer path first, so the nested draws do not shift it.
        let mut states = Vec::with_capacity(dates);
        let mut spots = Vec::with_capacity(dates);
        let mut state = self.stepper.start(opt);
        for _ in 0..dates {
            let z: f64 = StandardNormal.sample(rng);
            spots.push(self.stepper.step(&mut state, z));
            states.push(state);
        }
        // M_0 = 0: the candidate at date 0 is the immediate payoff.
        let mut best = opt.payoff(opt.s0);
        // base_1 = -E_0[L_1].
        let mut base = -self.continuation(0, &[], self.stepper.start(opt), rng);
        for k in 1..=dates {
            let z = opt.payoff(spots[k - 1]) * (-opt.rate * self.dt * k as f64).exp();
            if k == dates {
                // L_n = Z_n whatever the rule does at maturity.
                best = best.max(-base);
                break;
            }
            if z <= 0.0 {
                continue; // out of the money: the increments telescope, no candidate
            }
            let c = self.continuation(k, &spots[..k], states[k - 1], rng);
            if self.policy.exercise(k, &spots[..k]) {
                // L_k = Z_k, so Z_k - M_k = -base; the next increment subtracts c.
                best = best.max(-base);
                base += z - c;
            } else {
                // L_k = c = E_k[L_{k+1}]: base is unchanged.
                best = best.max(z - (base + c));
            }
        }
        best
    }
}

/// Andersen-Broadie dual upper bound of the put under an exercise rule
/// (Andersen & Broadie 2004, §3, eq. (8)-(10)): `outer` paths of
/// `process`, each with nested simulations of `inner` paths for the
/// conditional expectations of the rule's value process. Outer path `i`
/// draws from stream `i` of `Seeder::new(seed)`, so the result is the same
/// for any rayon thread count. In expectation an upper bound on the price
/// for any rule; tight when the rule is optimal.
pub fn andersen_broadie<P: ExercisePolicy>(
    opt: &PutOption,
    process: &PriceProcess,
    policy: &P,
    outer: usize,
    inner: usize,
    seed: u64,
) -> Result<McPrice> {
    let dates = check_dates(opt, process, policy)?;
    duality_core::check::at_least("outer paths", outer, 2)?;
    duality_core::check::at_least("inner paths", inner, 2)?;
    // Nested simulation costs about outer x inner x dates^2 / 2 steps.
    let work = duality_core::limits::product(&[
        ("outer paths", outer),
        ("inner paths", inner),
        ("exercise dates", dates),
        ("exercise dates", dates),
    ])
    .ok()
    .filter(|&w| w <= MAX_DUAL_WORK);
    if work.is_none() {
        return Err(Error::invalid(
            "outer paths x inner paths x dates^2",
            format!("{outer} x {inner} x {dates}^2"),
            format!("at most {MAX_DUAL_WORK:e} simulated steps (fewer outer or inner paths)"),
        ));
    }
    let nested = Nested {
        opt,
        policy,
        stepper: Stepper::new(process, opt, dates),
        inner,
        dt: opt.maturity / dates as f64,
    };
    let units = Seeder::new(seed).par_map(outer, |_, rng| nested.dual_path(rng));
    Ok(mc_price(&units, outer, f64::NEG_INFINITY))
}

/// The most nested-simulation work `outer x inner x dates^2` that
/// [`andersen_broadie`] accepts (about an hour on two cores; the
/// defaults are 500 x 100 x 50^2 = 1.25e8).
pub const MAX_DUAL_WORK: usize = 100_000_000_000;

/// The price of the put as an interval under a rule: [`policy_value`] on
/// fresh paths (lower), [`andersen_broadie`] (upper), both from streams of
/// `params.seed()`, and the 95% interval of [`PriceBounds`].
pub fn bounds<P: ExercisePolicy>(
    opt: &PutOption,
    process: &PriceProcess,
    policy: &P,
    params: &DualParams,
) -> Result<PriceBounds> {
    let seeder = Seeder::new(params.seed());
    let lower = policy_value(
        opt,
        process,
        policy,
        params.lower_paths(),
        seeder.seed_for(0),
    )?;
    let upper = andersen_broadie(
        opt,
        process,
        policy,
        params.outer_paths(),
        params.inner_paths(),
        seeder.seed_for(1),
    )?;
    let b = PriceBounds {
        lower,
        upper,
        ci_low: lower.price - 1.96 * lower.std_error,
        ci_high: upper.price + 1.96 * upper.std_error,
        gap: upper.price - lower.price,
    };
    for (what, x) in [
        ("lower bound", b.lower.price),
        ("lower bound's standard error", b.lower.std_error),
        ("dual upper bound", b.upper.price),
        ("dual upper bound's standard error", b.upper.std_error),
    ] {
        if !x.is_finite() {
            return Err(Error::invalid(
                what,
                x,
                "a finite price (the simulation overflowed: check s0, strike, rate, sigma and maturity)",
            ));
        }
    }
    Ok(b)
}

/// What [`price_interval`] returns: the fitted LSMC rule (with its
/// in-sample price) and the interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LsmcInterval {
    /// The LSMC fit on the training paths of `LsmcParams`.
    pub fit: LsmcFit,
    /// Lower bound, dual upper bound and 95% interval of the fitted rule.
    pub bounds: PriceBounds,
}

/// Fits LSMC on training paths of `process` ([`lsmc_fit_process`]), then
/// prices its exercise rule as an interval ([`bounds`]).
///
/// ```
/// use duality_distdp::prelude::*;
///
/// # fn main() -> duality_core::Result<()> {
/// let put = PutOption::default();
/// let lsmc = LsmcParams::default().exercise_dates(10).paths(4_000).seed(1);
/// let dual = DualParams::new(4_000, 200, 100, 2)?;
/// let iv = price_interval(&put, &PriceProcess::Gbm, &lsmc, &dual)?;
/// let lattice = binomial_price(&put, Exercise::Bermudan { dates: 10 }, 2000)?;
/// assert!(iv.bounds.ci_low <= lattice && lattice <= iv.bounds.ci_high);
/// # Ok(())
/// # }
/// ```
pub fn price_interval(
    opt: &PutOption,
    process: &PriceProcess,
    lsmc: &LsmcParams,
    params: &DualParams,
) -> Result<LsmcInterval> {
    let fit = lsmc_fit_process(opt, process, lsmc)?;
    let bounds = bounds(opt, process, &fit.policy, params)?;
    Ok(LsmcInterval { fit, bounds })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stopping::{binomial_price, Basis, Exercise};

    const GBM: PriceProcess = PriceProcess::Gbm;

    fn put() -> PutOption {
        PutOption::default()
    }

    /// Coverage over seeds: the 95% interval of a 10-date put contains the
    /// lattice price in at least 9 of 10 seeds (tolerance: one miss; the
    /// interval is conservative, so misses should be rarer than 5%).
    #[test]
    fn interval_covers_the_lattice_price_over_seeds() {
        let dates = 10;
        let lattice = binomial_price(&put(), Exercise::Bermudan { dates }, 2000).unwrap();
        let mut covered = 0;
        for seed in 0..10u64 {
            let lsmc = LsmcParams::default()
                .exercise_dates(dates)
                .paths(2_000)
                .seed(seed);
            let dual = DualParams::new(2_000, 100, 60, 1_000 + seed).unwrap();
            let b = price_interval(&put(), &GBM, &lsmc, &dual).unwrap().bounds;
            assert!(b.ci_low < b.ci_high, "{b:?}");
            covered += (b.ci_low <= lattice && lattice <= b.ci_high) as usize;
        }
        assert!(covered >= 9, "covered {covered}/10, lattice {lattice}");
    }

    /// Lower below upper, both near the lattice, for the LSMC rule; the gap
    /// (0.06 at this seed) is mostly the lower bound's own noise (se 0.019).
    #[test]
    fn bounds_bracket_the_lattice_price() {
        let dates = 10;
        let lattice = binomial_price(&put(), Exercise::Bermudan { dates }, 2000).unwrap();
        let lsmc = LsmcParams::default()
            .exercise_dates(dates)
            .paths(10_000)
            .seed(3);
        let dual = DualParams::new(10_000, 200, 100, 4).unwrap();
        let b = price_interval(&put(), &GBM, &lsmc, &dual).unwrap().bounds;
        assert!(b.lower.price < lattice + 3.0 * b.lower.std_error, "{b:?}");
        assert!(b.upper.price > lattice - 3.0 * b.upper.std_error, "{b:?}");
        assert!(b.gap < 0.1, "{b:?}");
    }

    /// The duality gap shrinks as the regression basis improves: constant
    /// continuation (poly:0) > linear (poly:1) > Laguerre of degree 2, on
    /// common random numbers.
    #[test]
    fn gap_shrinks_as_the_basis_improves() {
        let dates = 10;
        let gaps: Vec<f64> = [
            Basis::Polynomial(0),
            Basis::Polynomial(1),
            Basis::Laguerre(2),
        ]
        .iter()
        .map(|&basis| {
            let lsmc = LsmcParams::default()
                .exercise_dates(dates)
                .paths(10_000)
                .basis(basis)
                .seed(5);
            let dual = DualParams::new(10_000, 200, 100, 6).unwrap();
            price_interval(&put(), &GBM, &lsmc, &dual)
                .unwrap()
                .bounds
                .gap
        })
        .collect();
        assert!(gaps[0] > gaps[1] && gaps[1] > gaps[2], "{gaps:?}");
    }

    #[test]
    fn same_seed_same_bounds_any_thread_count() {
        let lsmc = LsmcParams::default().exercise_dates(5).paths(1_000).seed(1);
        let dual = DualParams::new(1_000, 50, 20, 2).unwrap();
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| price_interval(&put(), &GBM, &lsmc, &dual).unwrap().bounds)
        };
        assert_eq!(run(1), run(2));
    }

    #[test]
    fn bad_sizes_are_named() {
        for (args, name) in [
            ((1, 10, 10), "lower paths"),
            ((10, 1, 10), "outer paths"),
            ((10, 10, 0), "inner paths"),
        ] {
            let e = DualParams::new(args.0, args.1, args.2, 0)
                .unwrap_err()
                .to_string();
            assert!(e.contains(name), "{e}");
        }
        let bad: std::result::Result<DualParams, _> = serde_json::from_str(
            r#"{"lower_paths": 10, "outer_paths": 1, "inner_paths": 10, "seed": 0}"#,
        );
        assert!(bad.unwrap_err().to_string().contains("outer paths"));
        let fit =
            crate::stopping::lsmc_fit(&put(), &LsmcParams::default().exercise_dates(3).paths(100))
                .unwrap();
        let bad_put = PutOption {
            strike: -1.0,
            ..put()
        };
        let e = policy_value(&bad_put, &GBM, &fit.policy, 10, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("strike"), "{e}");
        let e = andersen_broadie(&put(), &GBM, &fit.policy, 10, 1, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("inner paths"), "{e}");
    }
}
