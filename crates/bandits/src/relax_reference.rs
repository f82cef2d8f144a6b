//! *Learning to Relax* as the authors' MATLAB code runs it
//! (github.com/mkhodak/learning-to-relax, `scripts/learning.m`,
//! `scripts/contextual.m`, `learners/*.m`; Khodak, Chow, Balcan & Talwalkar,
//! ICLR 2024). The facts and formulas follow those scripts; the code is our own.
//!
//! What the reference does, and this module with it:
//! - systems `(L + c_t I) x = b_t` with `L` the 5-point Laplacian on a
//!   10 x 10 interior grid (`delsq(numgrid('S', 12))`), tolerance `1e-8`
//!   and an iteration cap of 10,000 ([`REFERENCE_MAX_ITER`]);
//! - right-hand sides from a radially truncated standard Gaussian
//!   (`||b|| <= sqrt(n)`, rejection sampling: [`truncated_normal`]);
//! - two shift laws ([`ShiftLaw`]): high variance
//!   `c = -0.15 + 0.6 Beta(0.5, 1.5)`, low variance `-0.15 + 0.6 Beta(2, 6)`;
//! - 20 omegas `linspace(1, 1.95, 20)` as arms;
//! - [`RefTsallisInf`]: Tsallis-INF with `eta_t = 2 / sqrt(t)`, importance-
//!   weighted `(iterations - 1) / p` accumulated per arm and divided, when
//!   the distribution is computed, by the running mean of
//!   `(iterations - 1)` ([`LossScale::RunningMean`]), so losses are about 1.
//!   [`LossScale::Cap`] is this crate's older scaling (`iterations / cap`,
//!   losses about 0.1), kept as an option;
//! - [`RefChebCb`]: `learners/ChebCB.m`: 6 Chebyshev features of the shift
//!   on `[-0.15, 0.65]`, per-arm least squares on `(loss - 1) / (K N)` with
//!   the reference's coefficient bounds, SquareCB probabilities with
//!   `eta_t = 2 t sqrt(d t / (R_t - resnorm + 2 alpha^2 t))`;
//! - [`RefTsallisInfCb`]: Tsallis-INF run independently in 5 context bins;
//! - baselines: fixed omega in `{1, 1.2, 1.4, 1.6, 1.8}`, the best fixed
//!   grid omega in hindsight and the instance-optimal omega (Young 1950).
//!
//! Every learner sees the raw iteration count of its chosen omega; the
//! runner [`run_reference_learner`] reads the counts from a precomputed
//! table (SOR from `x0 = 0` is deterministic, so a table lookup is the solve
//! the reference performs).

use duality_core::seed::Seeder;
use duality_core::{check, Error, Result};
use rand::RngCore;
use rand_distr::{Beta, Distribution, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::linalg::{dot, solve_spd};
use crate::math::{argmin, sample_categorical};
use crate::relax::{laplacian_2d, CsrMatrix, ShiftedLaplacianSequence, SorResult};

/// The reference scripts' iteration cap.
pub const REFERENCE_MAX_ITER: usize = 10_000;
/// The reference scripts' relative residual tolerance.
pub const REFERENCE_TOL: f64 = 1e-8;
/// The reference scripts' grid: 10 x 10 interior points.
pub const REFERENCE_GRID: usize = 10;
/// The context interval of the reference's contextual learners.
pub const CONTEXT_RANGE: (f64, f64) = (-0.15, 0.65);
/// The fixed omegas the reference plots next to its learners.
pub const FIXED_OMEGAS: [f64; 5] = [1.0, 1.2, 1.4, 1.6, 1.8];

/// The reference's 20 arms, `linspace(1, 1.95, 20)`.
pub fn reference_grid() -> Vec<f64> {
    crate::relax::omega_grid(20)
}

/// The distribution of the diagonal shift `c_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShiftLaw {
    /// `c = -0.15 + 0.6 Beta(0.5, 1.5)` (the reference's high-variance law).
    High,
    /// `c = -0.15 + 0.6 Beta(2, 6)` (the reference's low-variance law).
    Low,
}

impl ShiftLaw {
    /// Both laws, in the order the bench reports them.
    pub const ALL: [ShiftLaw; 2] = [ShiftLaw::High, ShiftLaw::Low];

    fn beta(self) -> (f64, f64) {
        match self {
            ShiftLaw::High => (0.5, 1.5),
            ShiftLaw::Low => (2.0, 6.0),
        }
    }

    /// One shift.
    pub fn sample(self, rng: &mut dyn RngCore) -> Result<f64> {
        let (a, b) = self.beta();
        let beta =
            Beta::new(a, b).map_err(|e| Error::wrap(format!("Beta({a}, {b}) shift law"), e))?;
        Ok(-0.15 + 0.6 * beta.sample(rng))
    }
}

impl std::fmt::Display for ShiftLaw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ShiftLaw::High => "high",
            ShiftLaw::Low => "low",
        })
    }
}

impl std::str::FromStr for ShiftLaw {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "high" => Ok(ShiftLaw::High),
            "low" => Ok(ShiftLaw::Low),
            other => Err(Error::invalid("shift law", other, "high or low")),
        }
    }
}

/// A standard Gaussian vector of length `n` conditioned on `||b|| <= sqrt(n)`
/// (rejection sampling, as `utils/truncated_normal.m`; the acceptance
/// probability is about 1/2 for large `n`).
pub fn truncated_normal(n: usize, rng: &mut dyn RngCore) -> Result<Vec<f64>> {
    check::at_least("dimension", n, 1)?;
    loop {
        let b: Vec<f64> = (0..n).map(|_| StandardNormal.sample(rng)).collect();
        if dot(&b, &b) <= n as f64 {
            return Ok(b);
        }
    }
}

/// Largest number of systems a sequence may have (refused before allocating).
pub const MAX_SYSTEMS: usize = 1_000_000;

/// `t` systems on a `grid x grid` Laplacian with shifts from `law` and
/// truncated-Gaussian right-hand sides, on stream
/// `Seeder::new(seed).named("relax-reference")` (task = law).
pub fn reference_sequence(
    grid: usize,
    t: usize,
    law: ShiftLaw,
    seed: u64,
) -> Result<ShiftedLaplacianSequence> {
    check::at_least("number of systems", t, 1)?;
    if t > MAX_SYSTEMS {
        return Err(Error::invalid(
            "number of systems",
            t,
            format!("at most {MAX_SYSTEMS}"),
        ));
    }
    check::at_least("grid size", grid, 1)?;
    if grid > 1000 {
        return Err(Error::invalid("grid size", grid, "at most 1000"));
    }
    let mut rng = Seeder::new(seed).named("relax-reference").rng(law as u64);
    let mut shifts = Vec::with_capacity(t);
    let mut rhs = Vec::with_capacity(t);
    for _ in 0..t {
        shifts.push(law.sample(&mut rng)?);
        rhs.push(truncated_normal(grid * grid, &mut rng)?);
    }
    ShiftedLaplacianSequence::from_parts(laplacian_2d(grid)?, grid, shifts, rhs)
}

/// SSOR-preconditioned conjugate gradient, as `solvers/ssor_pcg.m`: MATLAB's
/// `pcg` with `M = (D + omega U) D^-1 (D + omega L) / (omega (2 - omega))`
/// (`L`, `U` the strict lower and upper triangles, `D` the diagonal; for a
/// symmetric `A` this is the SSOR preconditioner), from `x0 = 0`, stopped at
/// relative residual `<= tol` or after `max_iter` iterations.
pub fn ssor_pcg(
    a: &CsrMatrix,
    b: &[f64],
    omega: f64,
    tol: f64,
    max_iter: usize,
) -> Result<SorResult> {
    ssor_pcg_from(a, b, None, omega, tol, max_iter)
}

/// [`ssor_pcg`] from the initial guess `x0` (`None`: zero), as
/// `ssor_pcg(A, b, x0, omega, epsilon)` in `scripts/h2d.m`, which warm-starts
/// each time step from the previous solution; the relative residual is
/// `||b - A x|| / ||b||` as MATLAB's `pcg`, and a guess that already meets
/// `tol` costs 0 iterations.
pub fn ssor_pcg_from(
    a: &CsrMatrix,
    b: &[f64],
    x0: Option<&[f64]>,
    omega: f64,
    tol: f64,
    max_iter: usize,
) -> Result<SorResult> {
    let n = a.n();
    check::same_len("matrix rows", n, "b", b.len())?;
    check::finite("b", b)?;
    if let Some(x0) = x0 {
        check::same_len("matrix rows", n, "x0", x0.len())?;
        check::finite("x0", x0)?;
    }
    if !(omega > 0.0 && omega < 2.0) {
        return Err(Error::invalid(
            "omega",
            omega,
            "a relaxation parameter in (0, 2)",
        ));
    }
    check::positive("tol", tol)?;
    check::at_least("max_iter", max_iter, 1)?;
    let diag = a.diagonal();
    if let Some(i) = diag.iter().position(|&d| d == 0.0) {
        return Err(Error::invalid(
            format!("diagonal entry a[{i}][{i}]"),
            0,
            "a non-zero value (SSOR divides by it)",
        ));
    }
    // z = M^-1 r: backward solve with (D + omega U), scale by D, forward
    // solve with (D + omega L), times omega (2 - omega).
    let precondition = |r: &[f64], z: &mut [f64]| {
        let mut y = vec![0.0; n];
        for i in (0..n).rev() {
            let (cols, vals) = a.row(i);
            let mut s = r[i];
            for (&j, &v) in cols.iter().zip(vals) {
                if j > i {
                    s -= omega * v * y[j];
                }
            }
            y[i] = s / diag[i];
        }
        for i in 0..n {
            let (cols, vals) = a.row(i);
            let mut s = diag[i] * y[i];
            for (&j, &v) in cols.iter().zip(vals) {
                if j < i {
                    s -= omega * v * z[j];
                }
            }
            z[i] = s / diag[i];
        }
        let f = omega * (2.0 - omega);
        z.iter_mut().for_each(|v| *v *= f);
    };
    let bnorm = dot(b, b).sqrt().max(f64::MIN_POSITIVE);
    let mut x = x0.map_or_else(|| vec![0.0; n], <[f64]>::to_vec);
    let mut r = b.to_vec();
    if x0.is_some() {
        let mut ax = vec![0.0; n];
        a.matvec(&x, &mut ax)?;
        r.iter_mut().zip(&ax).for_each(|(ri, v)| *ri -= v);
    }
    let mut z = vec![0.0; n];
    let mut p = vec![0.0; n];
    let mut q = vec![0.0; n];
    let mut rho_old = 1.0;
    let mut rel = dot(&r, &r).sqrt() / bnorm;
    let mut it = 0;
    while rel > tol && it < max_iter {
        precondition(&r, &mut z);
        let rho = dot(&r, &z);
        if it == 0 {
            p.copy_from_slice(&z);
        } else {
            let beta = rho / rho_old;
            for (pi, zi) in p.iter_mut().zip(&z) {
                *pi = zi + beta * *pi;
            }
        }
        a.matvec(&p, &mut q)?;
        let pq = dot(&p, &q);
        if pq.is_nan() || pq <= 0.0 {
            // Breakdown: A or M is not positive definite on this direction.
            break;
        }
        let alpha = rho / pq;
        for i in 0..n {
            x[i] += alpha * p[i];
            r[i] -= alpha * q[i];
        }
        rho_old = rho;
        it += 1;
        rel = dot(&r, &r).sqrt() / bnorm;
    }
    Ok(SorResult {
        x,
        iterations: it,
        converged: rel <= tol,
        relative_residual: rel,
    })
}

/// The omega grid of the CG setting: `n` points in `[2 sqrt(2) - 2, 1.9]`
/// (the range `scripts/cg.m` sweeps).
pub fn ssor_cg_grid(n: usize) -> Vec<f64> {
    let lo = 2.0 * 2f64.sqrt() - 2.0;
    if n <= 1 {
        return vec![lo];
    }
    (0..n)
        .map(|i| lo + (1.9 - lo) * i as f64 / (n - 1) as f64)
        .collect()
}

/// Iterations of SSOR-preconditioned CG for every system and grid omega
/// (`[t][arm]`), in parallel over systems.
pub fn ssor_cg_table(
    seq: &ShiftedLaplacianSequence,
    grid: &[f64],
    tol: f64,
    max_iter: usize,
) -> Result<Vec<Vec<usize>>> {
    (0..seq.shifts.len())
        .into_par_iter()
        .map(|t| {
            let a = seq.matrix(t)?;
            grid.iter()
                .map(|&w| Ok(ssor_pcg(&a, &seq.rhs[t], w, tol, max_iter)?.iterations))
                .collect()
        })
        .collect()
}

/// A learner of the reference scripts: picks an arm given the round's
/// context (the shift `c_t`) and observes the raw iteration count.
pub trait OmegaLearner {
    /// Display name.
    fn name(&self) -> String;
    /// Arm for the round with shift `context`.
    fn choose(&mut self, context: f64, rng: &mut dyn RngCore) -> usize;
    /// The iteration count the chosen arm cost.
    fn observe(&mut self, cost: f64);
}

/// How [`RefTsallisInf`] scales the importance-weighted losses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum LossScale {
    /// The reference: `(iterations - 1) / p`, divided by the running mean of
    /// `(iterations - 1)` (losses about 1).
    RunningMean,
    /// This crate's older scaling: `(iterations / cap) / p` (losses about
    /// `mean iterations / cap`).
    Cap(usize),
}

/// Tsallis-INF as `learners/TsallisINF.m`: `1/2`-Tsallis regulariser,
/// `eta_t = 2 / sqrt(t)`, the normalising constant found by 20 Newton steps
/// from `x = -1` (Zimmert & Seldin 2021, Algorithm 2), probabilities
/// `p_i = 4 (eta (L_i / s - x))^-2`.
#[derive(Debug, Clone, PartialEq)]
pub struct RefTsallisInf {
    k: usize,
    t: usize,
    cum: Vec<f64>,
    cost_sum: f64,
    scale: LossScale,
    index: usize,
    prob: f64,
}

impl RefTsallisInf {
    /// `k >= 2` arms.
    pub fn new(k: usize, scale: LossScale) -> Result<Self> {
        check::at_least("number of arms", k, 2)?;
        if let LossScale::Cap(c) = scale {
            check::at_least("cap", c, 1)?;
        }
        Ok(RefTsallisInf {
            k,
            t: 1,
            cum: vec![0.0; k],
            cost_sum: 0.0,
            scale,
            index: 0,
            prob: 1.0 / k as f64,
        })
    }

    /// The distribution of round `t` (before sampling).
    pub fn distribution(&self) -> Vec<f64> {
        let eta = 2.0 / (self.t as f64).sqrt();
        let s = match self.scale {
            // mean(losses(1:t)) - 1 over the rounds seen so far; 1 before any
            // (the reference's initial value) or if it is not positive.
            LossScale::RunningMean if self.t > 1 => {
                let m = self.cost_sum / (self.t - 1) as f64 - 1.0;
                if m > 0.0 {
                    m
                } else {
                    1.0
                }
            }
            _ => 1.0,
        };
        let mut x = -1.0;
        let mut probs = vec![0.0; self.k];
        for _ in 0..20 {
            for (p, l) in probs.iter_mut().zip(&self.cum) {
                *p = 4.0 * (eta * (l / s - x)).powi(-2);
            }
            let sum: f64 = probs.iter().sum();
            let sum15: f64 = probs.iter().map(|p| p.powf(1.5)).sum();
            x -= (sum - 1.0) / (eta * sum15);
        }
        let sum: f64 = probs.iter().sum();
        if probs.iter().all(|p| p.is_finite() && *p >= 0.0) && sum > 0.0 && sum.is_finite() {
            probs.iter_mut().for_each(|p| *p /= sum);
            probs
        } else {
            // MATLAB's randsample fails on such weights; the reference then
            // samples uniformly.
            vec![1.0 / self.k as f64; self.k]
        }
    }
}

impl OmegaLearner for RefTsallisInf {
    fn name(&self) -> String {
        match self.scale {
            LossScale::RunningMean => "tsallis-inf".into(),
            LossScale::Cap(_) => "tsallis-inf (cap scaling)".into(),
        }
    }
    fn choose(&mut self, _context: f64, rng: &mut dyn RngCore) -> usize {
        let probs = self.distribution();
        self.index = sample_categorical(&probs, rng);
        self.prob = probs[self.index].max(f64::MIN_POSITIVE);
        self.index
    }
    fn observe(&mut self, cost: f64) {
        let loss = match self.scale {
            LossScale::RunningMean => cost - 1.0,
            LossScale::Cap(c) => (cost / c as f64).min(1.0),
        };
        self.cost_sum += cost;
        self.cum[self.index] += loss / self.prob;
        self.t += 1;
    }
}

/// Tsallis-INF-CB as `learners/TsallisINFCB.m`: the context interval is cut
/// into `bins` equal bins and an independent [`RefTsallisInf`] (reference
/// scaling) runs in each; a round goes to the bin whose centre is nearest.
#[derive(Debug, Clone, PartialEq)]
pub struct RefTsallisInfCb {
    centres: Vec<f64>,
    learners: Vec<RefTsallisInf>,
    active: usize,
}

impl RefTsallisInfCb {
    /// `k >= 2` arms, `bins >= 1` on the interval `[lo, hi]`.
    pub fn new(k: usize, bins: usize, lo: f64, hi: f64) -> Result<Self> {
        check::at_least("number of bins", bins, 1)?;
        if !(lo.is_finite() && hi.is_finite() && hi > lo) {
            return Err(Error::invalid("context interval", hi - lo, "hi > lo"));
        }
        let m = bins as f64;
        let centres = (0..bins)
            .map(|i| {
                let u = if bins == 1 {
                    0.5
                } else {
                    0.5 / m + (1.0 - 1.0 / m) * i as f64 / (m - 1.0)
                };
                lo + (hi - lo) * u
            })
            .collect();
        let learners = (0..bins)
            .map(|_| RefTsallisInf::new(k, LossScale::RunningMean))
            .collect::<Result<_>>()?;
        Ok(RefTsallisInfCb {
            centres,
            learners,
            active: 0,
        })
    }

    /// The bin centres.
    pub fn centres(&self) -> &[f64] {
        &self.centres
    }
}

impl OmegaLearner for RefTsallisInfCb {
    fn name(&self) -> String {
        "tsallis-inf-cb".into()
    }
    fn choose(&mut self, context: f64, rng: &mut dyn RngCore) -> usize {
        let d: Vec<f64> = self.centres.iter().map(|c| (c - context).abs()).collect();
        self.active = argmin(&d);
        self.learners[self.active].choose(context, rng)
    }
    fn observe(&mut self, cost: f64) {
        self.learners[self.active].observe(cost);
    }
}

/// ChebCB as `learners/ChebCB.m` (the paper's contextual bandit).
///
/// - features: `T_0(u), ..., T_{m-1}(u)` with `u = 2 (c - a) / (b - a) - 1`;
/// - after each round, with `K = max` and `L = (max - min) / (b - a)` of the
///   costs so far, `N = 2 + 4 (b - a) L / K (1 + ln m)` and scale `K N`:
///   each arm's coefficients are the least-squares fit of its
///   `(cost - 1) / (K N)` on its features (minimum norm), refitted with the
///   box `|theta_0| <= 1 / N`, `|theta_j| <= 2 (b - a) L / (K N j)` when the
///   free fit leaves the box (all arms when the scale changed, else the
///   played arm);
/// - SquareCB probabilities `1 / (d + eta (yhat_a - yhat_best))`, with
///   `alpha = (pi + 2/pi ln(2m + 1)) / (2 K N (m + 1)) (b - a) L`,
///   `R_t = sum_s (yhat_s - cost_s / (K N))^2` and
///   `eta_t = 2 t sqrt(d t / (R_t - resnorm + 2 alpha^2 t))`.
///
/// The box-constrained fit (MATLAB's `lsqlin`) is solved here by projected
/// coordinate descent on the normal equations; `resnorm` is its squared
/// residual, as `lsqlin` returns it (0 when no arm needed the box).
#[derive(Debug, Clone, PartialEq)]
pub struct RefChebCb {
    d: usize,
    m: usize,
    lo: f64,
    width: f64,
    eta: f64,
    t: usize,
    theta: Vec<Vec<f64>>,
    gram: Vec<Vec<f64>>,
    fty: Vec<Vec<f64>>,
    yty: Vec<f64>,
    scale: f64,
    cost_max: f64,
    cost_min: f64,
    resid: f64,
    feature: Vec<f64>,
    action: usize,
    predicted: f64,
    // Sum over rounds of (predicted_s - cost_s / (K N))^2 needs the current
    // K N: kept as sums of predicted^2, predicted * cost and cost^2.
    pp: f64,
    pc: f64,
    cc: f64,
    probs: Vec<f64>,
}

impl RefChebCb {
    /// `d >= 2` arms, `m >= 2` features, context interval `[lo, hi]`.
    pub fn new(d: usize, m: usize, lo: f64, hi: f64) -> Result<Self> {
        check::at_least("number of arms", d, 2)?;
        check::at_least("number of features", m, 2)?;
        if m > 64 {
            return Err(Error::invalid("number of features", m, "at most 64"));
        }
        if !(lo.is_finite() && hi.is_finite() && hi > lo) {
            return Err(Error::invalid("context interval", hi - lo, "hi > lo"));
        }
        Ok(RefChebCb {
            d,
            m,
            lo,
            width: hi - lo,
            eta: 0.0,
            t: 1,
            theta: vec![vec![0.0; m]; d],
            gram: vec![vec![0.0; m * m]; d],
            fty: vec![vec![0.0; m]; d],
            yty: vec![0.0; d],
            scale: 0.0,
            cost_max: f64::NEG_INFINITY,
            cost_min: f64::INFINITY,
            resid: 0.0,
            feature: vec![0.0; m],
            action: 0,
            predicted: 0.0,
            pp: 0.0,
            pc: 0.0,
            cc: 0.0,
            probs: vec![1.0 / d as f64; d],
        })
    }

    /// The reference's setting: 20 arms, 6 features on `[-0.15, 0.65]`.
    pub fn reference(d: usize) -> Result<Self> {
        Self::new(d, 6, CONTEXT_RANGE.0, CONTEXT_RANGE.1)
    }

    /// Chebyshev features `T_0..T_{m-1}` of `u`.
    fn features(&self, context: f64) -> Vec<f64> {
        let u = 2.0 / self.width * (context - self.lo) - 1.0;
        let mut f = vec![1.0; self.m];
        if self.m > 1 {
            f[1] = u;
        }
        for j in 2..self.m {
            f[j] = 2.0 * u * f[j - 1] - f[j - 2];
        }
        f
    }

    /// The current exploration parameter `eta_t`.
    pub fn eta(&self) -> f64 {
        self.eta
    }

    /// The last round's action probabilities.
    pub fn probabilities(&self) -> &[f64] {
        &self.probs
    }

    /// Refits arm `i` (scaled targets `(cost - 1) / scale`); returns the
    /// squared residual when the box was needed.
    fn refit(&mut self, i: usize, ub: &[f64]) -> Option<f64> {
        let m = self.m;
        let s = self.scale;
        let h: Vec<f64> = self.fty[i].iter().map(|v| v / s).collect();
        let yy = self.yty[i] / (s * s);
        let g = &self.gram[i];
        // Minimum-norm least squares: a ridge far below the data's scale
        // (the Gram is rank deficient only while the arm has < m samples).
        let trace: f64 = (0..m).map(|j| g[j * m + j]).sum();
        let mut reg = g.clone();
        for j in 0..m {
            reg[j * m + j] += 1e-10 * trace.max(1e-300);
        }
        let free = solve_spd(&reg, m, &h).unwrap_or_else(|_| vec![0.0; m]);
        if free.iter().zip(ub).all(|(v, b)| v.abs() <= *b) {
            self.theta[i] = free;
            return None;
        }
        // Box-constrained least squares: projected coordinate descent on
        // 1/2 theta' G theta - h' theta from the clipped free fit.
        let mut th: Vec<f64> = free.iter().zip(ub).map(|(v, b)| v.clamp(-b, *b)).collect();
        for _ in 0..500 {
            let mut moved = 0.0f64;
            for j in 0..m {
                let gjj = g[j * m + j];
                if gjj <= 0.0 {
                    th[j] = 0.0f64.clamp(-ub[j], ub[j]);
                    continue;
                }
                let r: f64 = h[j] - (0..m).map(|l| g[j * m + l] * th[l]).sum::<f64>();
                let new = (th[j] + r / gjj).clamp(-ub[j], ub[j]);
                moved = moved.max((new - th[j]).abs());
                th[j] = new;
            }
            if moved < 1e-14 {
                break;
            }
        }
        let quad: f64 = (0..m)
            .map(|j| th[j] * (0..m).map(|l| g[j * m + l] * th[l]).sum::<f64>())
            .sum();
        let res = (quad - 2.0 * dot(&th, &h) + yy).max(0.0);
        self.theta[i] = th;
        Some(res)
    }
}

impl OmegaLearner for RefChebCb {
    fn name(&self) -> String {
        "chebcb".into()
    }
    fn choose(&mut self, context: f64, rng: &mut dyn RngCore) -> usize {
        self.feature = self.features(context);
        let yhat: Vec<f64> = self.theta.iter().map(|w| dot(w, &self.feature)).collect();
        let best = argmin(&yhat);
        let mut rest = 0.0;
        for a in 0..self.d {
            if a != best {
                self.probs[a] = 1.0 / (self.d as f64 + self.eta * (yhat[a] - yhat[best]));
                rest += self.probs[a];
            }
        }
        self.probs[best] = (1.0 - rest).max(0.0);
        self.action = sample_categorical(&self.probs, rng);
        self.predicted = yhat[self.action];
        self.action
    }
    fn observe(&mut self, cost: f64) {
        let m = self.m;
        let i = self.action;
        let y = cost - 1.0;
        for j in 0..m {
            self.fty[i][j] += self.feature[j] * y;
            for l in 0..m {
                self.gram[i][j * m + l] += self.feature[j] * self.feature[l];
            }
        }
        self.yty[i] += y * y;
        self.pp += self.predicted * self.predicted;
        self.pc += self.predicted * cost;
        self.cc += cost * cost;
        self.cost_max = self.cost_max.max(cost);
        self.cost_min = self.cost_min.min(cost);
        let k = self.cost_max.max(f64::MIN_POSITIVE);
        let l = (self.cost_max - self.cost_min) / self.width;
        let n = 2.0 + 4.0 * self.width * l / k * (1.0 + (m as f64).ln());
        let rescaled = self.scale != k * n;
        self.scale = k * n;
        let mut ub = vec![1.0 / n];
        ub.extend((1..m).map(|j| 2.0 * self.width * l / self.scale / j as f64));
        let mut resnorm = 0.0;
        for a in 0..self.d {
            if (rescaled || a == i) && self.gram[a][0] > 0.0 {
                if let Some(r) = self.refit(a, &ub) {
                    resnorm = r;
                }
            }
        }
        let alpha = (std::f64::consts::PI
            + 2.0 / std::f64::consts::PI * (2.0 * m as f64 + 1.0).ln())
            / (2.0 * self.scale * (m as f64 + 1.0))
            * self.width
            * l;
        let r = self.pp - 2.0 * self.pc / self.scale + self.cc / (self.scale * self.scale);
        let t = self.t as f64;
        let denom = r - resnorm + 2.0 * alpha * alpha * t;
        // The reference would take the square root of a non-positive
        // denominator; keep the last eta then.
        if denom > 0.0 && denom.is_finite() {
            self.eta = 2.0 * t * (self.d as f64 * t / denom).sqrt();
        }
        self.t += 1;
    }
}

/// A fixed arm (the fixed-omega baselines).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FixedArm {
    /// The arm played every round.
    pub arm: usize,
    /// Its omega (for the name).
    pub omega: f64,
}

impl OmegaLearner for FixedArm {
    fn name(&self) -> String {
        format!("omega = {:.2}", self.omega)
    }
    fn choose(&mut self, _context: f64, _rng: &mut dyn RngCore) -> usize {
        self.arm
    }
    fn observe(&mut self, _cost: f64) {}
}

/// Runs `learner` over the systems (`shifts` as contexts) with the
/// iteration `table` (`[t][arm]`); returns the iterations paid per system.
pub fn run_reference_learner(
    shifts: &[f64],
    table: &[Vec<usize>],
    learner: &mut dyn OmegaLearner,
    rng: &mut dyn RngCore,
) -> Result<Vec<usize>> {
    check::same_len("systems", shifts.len(), "table rows", table.len())?;
    check::non_empty("iteration table", table)?;
    let k = table[0].len();
    let mut paid = Vec::with_capacity(table.len());
    for (t, (row, &c)) in table.iter().zip(shifts).enumerate() {
        check::same_len("arms", k, &format!("table[{t}]"), row.len())?;
        let arm = learner.choose(c, rng);
        let cost = *row.get(arm).ok_or_else(|| {
            Error::invalid(
                format!("{} arm at system {t}", learner.name()),
                arm,
                format!("an arm < {k}"),
            )
        })?;
        learner.observe(cost as f64);
        paid.push(cost);
    }
    Ok(paid)
}

/// Builds a learner by the CLI's names: `tsallis-inf`, `tsallis-inf-cap`
/// (the older scaling with cap `cap`), `chebcb`, `tsallis-inf-cb`, or
/// `fixed:OMEGA` with OMEGA on `grid`.
pub fn reference_learner(name: &str, grid: &[f64], cap: usize) -> Result<Box<dyn OmegaLearner>> {
    let k = grid.len();
    check::at_least("omega grid points", k, 2)?;
    Ok(match name {
        "tsallis-inf" => Box::new(RefTsallisInf::new(k, LossScale::RunningMean)?),
        "tsallis-inf-cap" => Box::new(RefTsallisInf::new(k, LossScale::Cap(cap))?),
        "chebcb" => Box::new(RefChebCb::reference(k)?),
        "tsallis-inf-cb" => Box::new(RefTsallisInfCb::new(
            k,
            5,
            CONTEXT_RANGE.0,
            CONTEXT_RANGE.1,
        )?),
        other => {
            let Some(w) = other.strip_prefix("fixed:") else {
                return Err(Error::invalid(
                    "learner",
                    other,
                    "tsallis-inf, tsallis-inf-cap, chebcb, tsallis-inf-cb or fixed:OMEGA",
                ));
            };
            let omega: f64 = w
                .parse()
                .map_err(|_| Error::invalid("fixed omega", w, "a number"))?;
            let arm = grid
                .iter()
                .position(|g| (g - omega).abs() < 1e-9)
                .ok_or_else(|| {
                    Error::invalid(
                        "fixed omega",
                        omega,
                        format!(
                            "one of the {k} grid omegas from {:.4} to {:.4}",
                            grid[0],
                            grid[k - 1]
                        ),
                    )
                })?;
            Box::new(FixedArm { arm, omega })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relax::{iteration_table, RelaxSetup};
    use rand::Rng;

    #[test]
    fn truncated_normal_respects_the_radius_and_laws_their_means() {
        let mut rng = Seeder::new(1).rng(0);
        for _ in 0..50 {
            let b = truncated_normal(100, &mut rng).unwrap();
            assert!(dot(&b, &b) <= 100.0);
        }
        assert!(truncated_normal(0, &mut rng).is_err());
        // E[c] = -0.15 + 0.6 a / (a + b): 0.0 for high, 0.0 for low.
        for law in ShiftLaw::ALL {
            let cs: Vec<f64> = (0..4000).map(|_| law.sample(&mut rng).unwrap()).collect();
            let mean = cs.iter().sum::<f64>() / cs.len() as f64;
            assert!(mean.abs() < 0.02, "{law}: {mean}");
            assert!(cs.iter().all(|&c| (-0.15..=0.45).contains(&c)));
        }
        let mut sd = |law: ShiftLaw| {
            let cs: Vec<f64> = (0..4000).map(|_| law.sample(&mut rng).unwrap()).collect();
            (cs.iter().map(|c| c * c).sum::<f64>() / 4000.0).sqrt()
        };
        let (high, low) = (sd(ShiftLaw::High), sd(ShiftLaw::Low));
        assert!(high > 1.5 * low, "{high} vs {low}");
        assert!("medium".parse::<ShiftLaw>().is_err());
    }

    #[test]
    fn tsallis_distribution_is_normalised_and_prefers_small_losses() {
        let mut p = RefTsallisInf::new(5, LossScale::RunningMean).unwrap();
        let d = p.distribution();
        assert!((d.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(d.iter().all(|v| (v - 0.2).abs() < 1e-9));
        let mut rng = Seeder::new(2).rng(0);
        for _ in 0..200 {
            let a = p.choose(0.0, &mut rng);
            p.observe(if a == 3 { 50.0 } else { 400.0 });
        }
        let d = p.distribution();
        assert_eq!(argmin(&d.iter().map(|v| -v).collect::<Vec<_>>()), 3);
        assert!(d[3] > 0.5, "{d:?}");
    }

    #[test]
    fn chebcb_learns_a_context_dependent_best_arm() {
        // Arm 0 is best for c < 0.25, arm 1 otherwise.
        let mut p = RefChebCb::new(3, 4, -0.15, 0.65).unwrap();
        let mut rng = Seeder::new(3).rng(0);
        let mut late_good = 0;
        for t in 0..3000 {
            let c: f64 = -0.15 + 0.8 * rng.random::<f64>();
            let a = p.choose(c, &mut rng);
            let best = usize::from(c >= 0.25);
            let cost = if a == best { 100.0 } else { 300.0 };
            if t >= 2000 && a == best {
                late_good += 1;
            }
            p.observe(cost);
        }
        assert!(p.eta() > 0.0);
        assert!(late_good > 800, "{late_good}");
    }

    #[test]
    fn ssor_pcg_solves_and_beats_plain_cg_at_a_good_omega() {
        let a = laplacian_2d(10).unwrap().shifted(0.0).unwrap();
        let mut rng = Seeder::new(5).rng(0);
        let b = truncated_normal(100, &mut rng).unwrap();
        let r = ssor_pcg(&a, &b, 1.5, 1e-8, 10_000).unwrap();
        assert!(r.converged);
        let mut ax = vec![0.0; 100];
        a.matvec(&r.x, &mut ax).unwrap();
        let err: f64 = ax
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(err <= 1e-7 * dot(&b, &b).sqrt(), "{err}");
        // CG on the 100-unknown Laplacian takes tens of iterations; SSOR
        // preconditioning with a good omega roughly halves them.
        let few = ssor_pcg(&a, &b, 1.5, 1e-8, 10_000).unwrap().iterations;
        let bad = ssor_pcg(&a, &b, 0.1, 1e-8, 10_000).unwrap().iterations;
        assert!(few < bad, "{few} vs {bad}");
        assert!(ssor_pcg(&a, &b, 2.0, 1e-8, 10).is_err());
        assert!(ssor_pcg(&a, &b[..5], 1.0, 1e-8, 10).is_err());
        let g = ssor_cg_grid(5);
        assert!((g[0] - 0.828_427).abs() < 1e-6 && (g[4] - 1.9).abs() < 1e-12);
    }

    #[test]
    fn learners_run_on_a_reference_table_and_bad_names_are_errors() {
        let seq = reference_sequence(6, 40, ShiftLaw::High, 1).unwrap();
        let grid = reference_grid();
        let setup = RelaxSetup {
            tol: REFERENCE_TOL,
            max_iter: REFERENCE_MAX_ITER,
            chebyshev_degree: 3,
        };
        let table = iteration_table(&seq, &grid, &setup).unwrap();
        for name in [
            "tsallis-inf",
            "tsallis-inf-cap",
            "chebcb",
            "tsallis-inf-cb",
            "fixed:1.8",
        ] {
            let mut l = reference_learner(name, &grid, REFERENCE_MAX_ITER).unwrap();
            let a =
                run_reference_learner(&seq.shifts, &table, l.as_mut(), &mut Seeder::new(4).rng(0))
                    .unwrap();
            let b = run_reference_learner(
                &seq.shifts,
                &table,
                reference_learner(name, &grid, REFERENCE_MAX_ITER)
                    .unwrap()
                    .as_mut(),
                &mut Seeder::new(4).rng(0),
            )
            .unwrap();
            assert_eq!(a, b, "{name} is not reproducible");
            assert_eq!(a.len(), 40);
        }
        let err = reference_learner("fixed:1.33", &grid, 10)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("1.33"), "{err}");
        assert!(reference_learner("ucb", &grid, 10).is_err());
        assert!(reference_sequence(6, 0, ShiftLaw::Low, 1).is_err());
        assert!(reference_sequence(6, MAX_SYSTEMS + 1, ShiftLaw::Low, 1).is_err());
    }
}
