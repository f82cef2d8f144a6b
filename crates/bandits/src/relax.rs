//! *Learning to Relax* (Khodak, Chow, Balcan & Talwalkar, "Learning to
//! Relax: Setting Solver Parameters Across a Sequence of Linear System
//! Instances", ICLR 2024): choose the successive over-relaxation parameter
//! `omega` online for a sequence of related systems `A_t x = b_t`, with the
//! solver's iteration count as the loss.
//!
//! - [`sor_dense`] / [`sor_csr`]: the SOR iteration
//!   `x_i <- (1 - omega) x_i + omega (b_i - sum_{j != i} a_ij x_j) / a_ii`
//!   (Gauss-Seidel order), stopped at relative residual
//!   `|b - A x| / |b| <= tol` or an iteration cap;
//! - [`ShiftedLaplacianSequence`]: the paper's sequence, the 2-D Laplacian on
//!   a `g x g` grid shifted by `c_t I` with `c_t = -0.15 + 0.6 Beta(0.5, 1.5)`
//!   (the 5-point Laplacian's smallest eigenvalue on a 10x10 grid is 0.16,
//!   so every `A_t` stays positive definite and SOR converges for
//!   `omega` in `(0, 2)`);
//! - [`run_omega_bandit`]: Exp3 / Tsallis-INF over an `omega` grid with
//!   normalised iteration count `iterations / cap` as loss, compared with the
//!   best fixed `omega` in hindsight, `omega = 1` (Gauss-Seidel) and the
//!   instance-optimal `omega* = 2 / (1 + sqrt(1 - rho_J^2))` (Young 1950);
//! - [`ChebCb`]: the contextual variant: Chebyshev features of the shift
//!   `c_t`, per-arm ridge regression of the loss, SquareCB action
//!   probabilities (Foster & Rakhlin 2020), as the paper's ChebCB.
//!
//! Every learner runs through the crate's round
//! [`driver`](crate::driver), on a precomputed iteration table (one solve
//! per system and grid omega, in parallel).
//!
//! ```
//! use duality_bandits::prelude::*;
//! use duality_core::seed::Seeder;
//!
//! let seq = seeded_sequence(6, 40, 1).unwrap();
//! let grid = omega_grid(5);
//! let setup = RelaxSetup::default();
//! let table = iteration_table(&seq, &grid, &setup).unwrap();
//! let mut policy = TsallisInf::with_defaults(grid.len()).unwrap();
//! let out = run_omega_bandit(&seq, &grid, &table, &mut policy, &setup, &mut Seeder::new(2).rng(0)).unwrap();
//! assert!(out.best_fixed_iterations <= out.gauss_seidel_iterations);
//! assert_eq!(out.learner_curve.len(), 40);
//! ```

use duality_core::config::Validate;
use duality_core::seed::Seeder;
use duality_core::{check, Error, Result};
use rand::{Rng, RngCore};
use rand_distr::{Beta, Distribution, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::driver::{drive, Arena, Response, Step};
use crate::linalg::{dot, solve_spd};
use crate::math::{argmin, sample_categorical};
use crate::policy::{Arm, Policy, Round};

/// Solver settings: relaxation parameter and stopping rule. Built only
/// through [`SorParams::new`] (deserialising runs the same checks), so a
/// value in hand is valid and the solvers never re-check it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SorParamsFields")]
pub struct SorParams {
    omega: f64,
    tol: f64,
    max_iter: usize,
}

/// The serialised form of [`SorParams`], checked on the way in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SorParamsFields {
    omega: f64,
    tol: f64,
    max_iter: usize,
}

impl TryFrom<SorParamsFields> for SorParams {
    type Error = Error;
    fn try_from(f: SorParamsFields) -> Result<Self> {
        SorParams::new(f.omega, f.tol, f.max_iter)
    }
}

impl SorParams {
    /// Checked parameters: `omega` in `(0, 2)` (SOR's convergence range
    /// for symmetric positive definite systems, Young 1950), `tol > 0`,
    /// `max_iter >= 1`.
    pub fn new(omega: f64, tol: f64, max_iter: usize) -> Result<Self> {
        let params = SorParams {
            omega,
            tol,
            max_iter,
        };
        params.validate()?;
        Ok(params)
    }

    /// The relaxation parameter `omega`.
    pub fn omega(&self) -> f64 {
        self.omega
    }

    /// The relative residual tolerance.
    pub fn tol(&self) -> f64 {
        self.tol
    }

    /// The iteration cap.
    pub fn max_iter(&self) -> usize {
        self.max_iter
    }

    /// The same stopping rule with another `omega` (checked).
    pub fn with_omega(&self, omega: f64) -> Result<Self> {
        Self::new(omega, self.tol, self.max_iter)
    }
}

impl Validate for SorParams {
    fn validate(&self) -> Result<()> {
        if !(self.omega > 0.0 && self.omega < 2.0) {
            return Err(Error::invalid(
                "omega",
                self.omega,
                "a relaxation parameter in (0, 2)",
            ));
        }
        check::positive("tol", self.tol)?;
        check::at_least("max_iter", self.max_iter, 1)
    }
}

/// What the solver did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SorResult {
    /// The final iterate.
    pub x: Vec<f64>,
    /// Sweeps performed.
    pub iterations: usize,
    /// Whether the tolerance was reached.
    pub converged: bool,
    /// Final relative residual.
    pub relative_residual: f64,
}

pub use duality_core::numerics::CsrMatrix;

fn norm(x: &[f64]) -> f64 {
    dot(x, x).sqrt()
}

fn check_rhs(n: usize, b: &[f64], x0: Option<&[f64]>) -> Result<()> {
    check::same_len("matrix rows", n, "b", b.len())?;
    check::finite("b", b)?;
    if let Some(x0) = x0 {
        check::same_len("matrix rows", n, "x0", x0.len())?;
        check::finite("x0", x0)?;
    }
    Ok(())
}

/// SOR on a dense row-major `n x n` matrix (see the module docs).
pub fn sor_dense(
    a: &[f64],
    n: usize,
    b: &[f64],
    x0: Option<&[f64]>,
    params: &SorParams,
) -> Result<SorResult> {
    if a.len() != n * n {
        return Err(Error::Shape {
            what: "SOR matrix".into(),
            expected: vec![n, n],
            got: vec![a.len()],
        });
    }
    check::finite("matrix", a)?;
    check_rhs(n, b, x0)?;
    for i in 0..n {
        if a[i * n + i] == 0.0 {
            return Err(Error::invalid(
                format!("diagonal entry a[{i}][{i}]"),
                0,
                "a non-zero value (SOR divides by it)",
            ));
        }
    }
    let mut x = x0.map_or_else(|| vec![0.0; n], <[f64]>::to_vec);
    let bnorm = norm(b).max(f64::MIN_POSITIVE);
    let residual = |x: &[f64]| {
        let r: Vec<f64> = (0..n)
            .map(|i| b[i] - dot(&a[i * n..(i + 1) * n], x))
            .collect();
        norm(&r) / bnorm
    };
    let mut rel = residual(&x);
    let mut it = 0;
    while rel > params.tol && it < params.max_iter {
        for i in 0..n {
            let row = &a[i * n..(i + 1) * n];
            let sigma = dot(row, &x) - row[i] * x[i];
            x[i] = (1.0 - params.omega) * x[i] + params.omega * (b[i] - sigma) / row[i];
        }
        it += 1;
        rel = residual(&x);
    }
    Ok(SorResult {
        x,
        iterations: it,
        converged: rel <= params.tol,
        relative_residual: rel,
    })
}

/// SOR on a CSR matrix (see the module docs).
pub fn sor_csr(
    a: &CsrMatrix,
    b: &[f64],
    x0: Option<&[f64]>,
    params: &SorParams,
) -> Result<SorResult> {
    let n = a.n();
    check_rhs(n, b, x0)?;
    // SOR divides by every diagonal entry: check them once, outside the loop.
    let diag = a.diagonal();
    if let Some(i) = diag.iter().position(|&d| d == 0.0) {
        return Err(Error::invalid(
            format!("diagonal entry a[{i}][{i}]"),
            0,
            "a non-zero value (SOR divides by it)",
        ));
    }
    let mut x = x0.map_or_else(|| vec![0.0; n], <[f64]>::to_vec);
    let bnorm = norm(b).max(f64::MIN_POSITIVE);
    let mut ax = vec![0.0; n];
    let mut residual = |x: &[f64]| {
        // Lengths were checked above, so the product cannot fail.
        let _ = a.matvec(x, &mut ax);
        let r2: f64 = b
            .iter()
            .zip(&ax)
            .map(|(bi, ai)| (bi - ai) * (bi - ai))
            .sum();
        r2.sqrt() / bnorm
    };
    let mut rel = residual(&x);
    let mut it = 0;
    while rel > params.tol && it < params.max_iter {
        for i in 0..n {
            let (cols, vals) = a.row(i);
            let mut sigma = 0.0;
            for (&j, &v) in cols.iter().zip(vals) {
                if j != i {
                    sigma += v * x[j];
                }
            }
            x[i] = (1.0 - params.omega) * x[i] + params.omega * (b[i] - sigma) / diag[i];
        }
        it += 1;
        rel = residual(&x);
    }
    Ok(SorResult {
        x,
        iterations: it,
        converged: rel <= params.tol,
        relative_residual: rel,
    })
}

/// The 5-point 2-D Laplacian on a `g x g` interior grid (Dirichlet
/// boundary): 4 on the diagonal, -1 for grid neighbours.
pub fn laplacian_2d(g: usize) -> Result<CsrMatrix> {
    check::at_least("grid size", g, 1)?;
    let n = g * g;
    let mut t = Vec::with_capacity(5 * n);
    for r in 0..g {
        for c in 0..g {
            let i = r * g + c;
            t.push((i, i, 4.0));
            if r > 0 {
                t.push((i, i - g, -1.0));
            }
            if r + 1 < g {
                t.push((i, i + g, -1.0));
            }
            if c > 0 {
                t.push((i, i - 1, -1.0));
            }
            if c + 1 < g {
                t.push((i, i + 1, -1.0));
            }
        }
    }
    CsrMatrix::from_triplets(n, &t)
}

/// Young's optimal omega for the shifted Laplacian `L + c I` on a `g x g`
/// grid: the Jacobi spectral radius is `rho = 4 cos(pi / (g + 1)) / (4 + c)`
/// and `omega* = 2 / (1 + sqrt(1 - rho^2))`.
pub fn optimal_omega_shifted_laplacian(g: usize, c: f64) -> Result<f64> {
    let rho = 4.0 * (std::f64::consts::PI / (g as f64 + 1.0)).cos() / (4.0 + c);
    if rho.is_nan() || rho.abs() >= 1.0 {
        return Err(Error::invalid(
            "Jacobi spectral radius",
            rho,
            "< 1 (shift c too negative)",
        ));
    }
    Ok(2.0 / (1.0 + (1.0 - rho * rho).sqrt()))
}

/// The paper's sequence of systems `(L + c_t I) x = b_t`.
#[derive(Debug, Clone, PartialEq)]
pub struct ShiftedLaplacianSequence {
    /// Grid size `g` (the system has `g^2` unknowns).
    pub grid: usize,
    /// The shifts `c_t`.
    pub shifts: Vec<f64>,
    /// Right-hand sides `b_t ~ N(0, I)`.
    pub rhs: Vec<Vec<f64>>,
    base: CsrMatrix,
}

impl ShiftedLaplacianSequence {
    /// `t` systems on a `g x g` grid, `c_t = -0.15 + 0.6 Beta(0.5, 1.5)`.
    pub fn generate(grid: usize, t: usize, rng: &mut dyn RngCore) -> Result<Self> {
        check::at_least("number of systems", t, 1)?;
        let base = laplacian_2d(grid)?;
        let beta = Beta::new(0.5, 1.5).map_err(|e| Error::wrap("Beta(0.5, 1.5) shift law", e))?;
        let mut shifts = Vec::with_capacity(t);
        let mut rhs = Vec::with_capacity(t);
        for _ in 0..t {
            shifts.push(-0.15 + 0.6 * beta.sample(rng));
            rhs.push(
                (0..grid * grid)
                    .map(|_| StandardNormal.sample(rng))
                    .collect(),
            );
        }
        Ok(ShiftedLaplacianSequence {
            grid,
            shifts,
            rhs,
            base,
        })
    }

    /// A sequence from its parts (checked: one right-hand side of length
    /// `grid^2` per shift, and `base` of that size).
    pub fn from_parts(
        base: CsrMatrix,
        grid: usize,
        shifts: Vec<f64>,
        rhs: Vec<Vec<f64>>,
    ) -> Result<Self> {
        check::same_len("grid^2", grid * grid, "matrix rows", base.n())?;
        check::same_len("shifts", shifts.len(), "right-hand sides", rhs.len())?;
        check::finite("shifts", &shifts)?;
        for (t, b) in rhs.iter().enumerate() {
            check::same_len("grid^2", grid * grid, &format!("rhs[{t}]"), b.len())?;
        }
        Ok(ShiftedLaplacianSequence {
            grid,
            shifts,
            rhs,
            base,
        })
    }

    /// System `t`'s matrix.
    pub fn matrix(&self, t: usize) -> Result<CsrMatrix> {
        let c = self
            .shifts
            .get(t)
            .copied()
            .ok_or_else(|| Error::invalid("system index", t, "an index < number of systems"))?;
        self.base.shifted(c)
    }

    /// Iterations SOR with `params` needs on system `t`.
    pub fn iterations(&self, t: usize, params: &SorParams) -> Result<usize> {
        let a = self.matrix(t)?;
        Ok(sor_csr(&a, &self.rhs[t], None, params)?.iterations)
    }
}

/// The `omega` grid of the paper's experiments: `n` points evenly in `[1, 1.95]`.
pub fn omega_grid(n: usize) -> Vec<f64> {
    if n <= 1 {
        return vec![1.0];
    }
    (0..n)
        .map(|i| 1.0 + 0.95 * i as f64 / (n - 1) as f64)
        .collect()
}

/// Outcome of tuning omega online over a sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelaxOutcome {
    /// Total iterations of the learner.
    pub learner_iterations: usize,
    /// Total iterations of the best fixed grid omega in hindsight.
    pub best_fixed_iterations: usize,
    /// That omega.
    pub best_fixed_omega: f64,
    /// Total iterations with omega = 1 (Gauss-Seidel).
    pub gauss_seidel_iterations: usize,
    /// Total iterations with the instance-optimal omega of every system.
    pub instance_optimal_iterations: usize,
    /// Cumulative learner iterations after each system.
    pub learner_curve: Vec<usize>,
    /// Cumulative best-fixed iterations after each system.
    pub best_fixed_curve: Vec<usize>,
}

/// Iteration counts of every grid omega on every system (`[t][arm]`),
/// with `setup`'s tolerance and cap.
pub fn iteration_table(
    seq: &ShiftedLaplacianSequence,
    grid: &[f64],
    setup: &RelaxSetup,
) -> Result<Vec<Vec<usize>>> {
    // Checked once here, not per solve.
    let params: Vec<SorParams> = grid
        .iter()
        .map(|&w| SorParams::new(w, setup.tol, setup.max_iter))
        .collect::<Result<_>>()?;
    // One task per system: cells are independent solves, so the table is
    // the same whatever the thread count.
    (0..seq.shifts.len())
        .into_par_iter()
        .map(|t| params.iter().map(|p| seq.iterations(t, p)).collect())
        .collect()
}

/// Solver tolerance, iteration cap and context features of an omega-tuning run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RelaxSetup {
    /// Relative residual tolerance (e.g. 1e-8).
    pub tol: f64,
    /// Iteration cap (the loss is `iterations / max_iter`).
    pub max_iter: usize,
    /// Degree of the Chebyshev context features (for contextual policies).
    pub chebyshev_degree: usize,
}

impl Default for RelaxSetup {
    fn default() -> Self {
        RelaxSetup {
            tol: 1e-8,
            max_iter: 1000,
            chebyshev_degree: 3,
        }
    }
}

/// Runs a bandit `policy` (one arm per grid omega; reward `1 - iterations /
/// max_iter`; the round's context features are the Chebyshev features of
/// the shift, for contextual policies) over the sequence, with the
/// precomputed `table` from [`iteration_table`].
pub fn run_omega_bandit(
    seq: &ShiftedLaplacianSequence,
    grid: &[f64],
    table: &[Vec<usize>],
    policy: &mut dyn Policy,
    setup: &RelaxSetup,
    rng: &mut dyn RngCore,
) -> Result<RelaxOutcome> {
    check::same_len("omega grid", grid.len(), "policy arms", policy.n_arms())?;
    let gauss_seidel = SorParams::new(1.0, setup.tol, setup.max_iter)?;
    let learner_iters = table_bandit_run(&seq.shifts, table, policy, setup, rng)?;
    let horizon = seq.shifts.len();
    let mut learner = 0usize;
    let mut learner_curve = Vec::with_capacity(horizon);
    let mut cum_arm = vec![0usize; grid.len()];
    let mut best_curve = Vec::with_capacity(horizon);
    let mut gs = 0usize;
    let mut opt = 0usize;
    for (t, iters) in learner_iters.into_iter().enumerate() {
        learner += iters;
        learner_curve.push(learner);
        for (c, &n) in cum_arm.iter_mut().zip(&table[t]) {
            *c += n;
        }
        best_curve.push(*cum_arm.iter().min().unwrap_or(&0));
        gs += seq.iterations(t, &gauss_seidel)?;
        let w = optimal_omega_shifted_laplacian(seq.grid, seq.shifts[t])?;
        opt += seq.iterations(t, &gauss_seidel.with_omega(w.min(1.999))?)?;
    }
    let best = argmin(&cum_arm.iter().map(|&c| c as f64).collect::<Vec<_>>());
    Ok(RelaxOutcome {
        learner_iterations: learner,
        best_fixed_iterations: cum_arm[best],
        best_fixed_omega: grid[best],
        gauss_seidel_iterations: gs,
        instance_optimal_iterations: opt,
        learner_curve,
        best_fixed_curve: best_curve,
    })
}

/// The learner's part of [`run_omega_bandit`] on a precomputed iteration
/// `table` (`[t][arm]`, from [`iteration_table`]) and the systems' `shifts`
/// (for the Chebyshev context): the horizon is `table.len()`, the policy is
/// reset, round `t` plays an arm, pays `table[t][arm]` iterations and
/// receives the reward `1 - min(iterations / max_iter, 1)` (the paper's
/// normalised iteration count as loss). Returns the iterations paid per
/// system. Running it on prefixes of one table gives the regret-vs-T trend
/// without solving any system again.
pub fn table_bandit_run(
    shifts: &[f64],
    table: &[Vec<usize>],
    policy: &mut dyn Policy,
    setup: &RelaxSetup,
    rng: &mut dyn RngCore,
) -> Result<Vec<usize>> {
    check::same_len("systems", shifts.len(), "table rows", table.len())?;
    check::non_empty("iteration table", table)?;
    let k = policy.n_arms();
    for (t, row) in table.iter().enumerate() {
        check::same_len("policy arms", k, &format!("table[{t}]"), row.len())?;
    }
    check::at_least("max_iter", setup.max_iter, 1)?;
    let mut arena = TableArena {
        shifts,
        table,
        setup,
        context: crate::policy::Context::default(),
    };
    let mut paid = Vec::with_capacity(table.len());
    drive(
        policy,
        &mut arena,
        table.len(),
        rng,
        &mut |a: &TableArena<'_>, s: &Step| paid.push(a.table[s.t - 1][s.arm]),
    )?;
    Ok(paid)
}

/// A precomputed iteration table as an arena: round `t` reveals the
/// Chebyshev features of shift `t` (the same row for every arm) and pays
/// `table[t - 1][arm]` iterations, rewarded `1 - min(iterations / cap, 1)`.
struct TableArena<'a> {
    shifts: &'a [f64],
    table: &'a [Vec<usize>],
    setup: &'a RelaxSetup,
    context: crate::policy::Context,
}

impl Arena for TableArena<'_> {
    fn n_arms(&self) -> usize {
        self.table[0].len()
    }
    fn begin(&mut self, t: usize, _rng: &mut dyn RngCore) {
        let feats = chebyshev_features(self.shifts[t - 1], self.setup.chebyshev_degree);
        self.context = crate::policy::Context {
            features: vec![feats; self.n_arms()],
            advice: Vec::new(),
        };
    }
    fn context(&self) -> Option<&crate::policy::Context> {
        Some(&self.context)
    }
    fn respond(&mut self, t: usize, arm: Arm, _rng: &mut dyn RngCore) -> Response {
        let iters = self.table[t - 1][arm];
        let loss = (iters as f64 / self.setup.max_iter as f64).min(1.0);
        Response::Reward(1.0 - loss)
    }
}

/// Chebyshev features `T_0(u), ..., T_d(u)` of a shift `c` in
/// `[-0.15, 0.45]`, mapped to `u` in `[-1, 1]`.
pub fn chebyshev_features(c: f64, degree: usize) -> Vec<f64> {
    let u = ((c + 0.15) / 0.6 * 2.0 - 1.0).clamp(-1.0, 1.0);
    let mut f = Vec::with_capacity(degree + 1);
    f.push(1.0);
    if degree >= 1 {
        f.push(u);
    }
    for k in 2..=degree {
        let next = 2.0 * u * f[k - 1] - f[k - 2];
        f.push(next);
    }
    f
}

/// ChebCB: per-arm ridge regression of the *loss* on the round's context
/// features (Chebyshev features of the shift), with SquareCB action
/// probabilities (Foster & Rakhlin 2020, "Beyond UCB", Algorithm 1):
/// `p_a = 1 / (K + gamma (ŷ_a - ŷ_best))` for `a != best`, the rest on the
/// predicted best arm, `gamma = gamma_scale * sqrt(K t)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChebCb {
    k: usize,
    dim: usize,
    lambda: f64,
    gamma_scale: f64,
    gram: Vec<Vec<f64>>,
    xty: Vec<Vec<f64>>,
    probs: Vec<f64>,
}

impl ChebCb {
    /// `k` arms, feature dimension `dim`, ridge `lambda > 0`, `gamma_scale > 0`.
    pub fn new(k: usize, dim: usize, lambda: f64, gamma_scale: f64) -> Result<Self> {
        check::at_least("number of arms", k, 1)?;
        check::at_least("feature dimension", dim, 1)?;
        check::positive("lambda", lambda)?;
        check::positive("gamma_scale", gamma_scale)?;
        let mut eye = vec![0.0; dim * dim];
        for i in 0..dim {
            eye[i * dim + i] = lambda;
        }
        Ok(ChebCb {
            k,
            dim,
            lambda,
            gamma_scale,
            gram: vec![eye; k],
            xty: vec![vec![0.0; dim]; k],
            probs: vec![1.0 / k as f64; k],
        })
    }

    fn predict(&self, arm: usize, x: &[f64]) -> f64 {
        solve_spd(&self.gram[arm], self.dim, &self.xty[arm]).map_or(0.5, |w| dot(&w, x))
    }
}

impl Policy for ChebCb {
    fn name(&self) -> String {
        "chebcb".into()
    }
    fn n_arms(&self) -> usize {
        self.k
    }
    fn reset(&mut self) {
        for g in &mut self.gram {
            g.iter_mut().for_each(|v| *v = 0.0);
            for i in 0..self.dim {
                g[i * self.dim + i] = self.lambda;
            }
        }
        self.xty
            .iter_mut()
            .for_each(|v| v.iter_mut().for_each(|x| *x = 0.0));
    }
    fn select(&mut self, round: &Round<'_>, rng: &mut dyn RngCore) -> usize {
        let x = round
            .context
            .and_then(|c| c.features.first())
            .filter(|f| f.len() == self.dim)
            .cloned()
            .unwrap_or_else(|| vec![1.0; self.dim]);
        let losses: Vec<f64> = (0..self.k).map(|a| self.predict(a, &x)).collect();
        let best = argmin(&losses);
        let gamma = self.gamma_scale * ((self.k * round.t.max(1)) as f64).sqrt();
        let mut rest = 0.0;
        for a in 0..self.k {
            if a != best {
                self.probs[a] = 1.0 / (self.k as f64 + gamma * (losses[a] - losses[best]).max(0.0));
                rest += self.probs[a];
            }
        }
        self.probs[best] = (1.0 - rest).max(0.0);
        sample_categorical(&self.probs, rng)
    }
    fn update(&mut self, round: &Round<'_>, arm: usize, reward: f64) {
        let Some(x) = round
            .context
            .and_then(|c| c.features.get(arm))
            .filter(|f| f.len() == self.dim)
        else {
            return;
        };
        let loss = 1.0 - reward;
        let d = self.dim;
        for i in 0..d {
            self.xty[arm][i] += x[i] * loss;
            for j in 0..d {
                self.gram[arm][i * d + j] += x[i] * x[j];
            }
        }
    }
    fn probabilities(&self, _round: &Round<'_>) -> Option<Vec<f64>> {
        Some(self.probs.clone())
    }
}

/// A seeded sequence (stream `Seeder::new(seed).named("relax")`).
pub fn seeded_sequence(grid: usize, t: usize, seed: u64) -> Result<ShiftedLaplacianSequence> {
    let mut rng = Seeder::new(seed).named("relax").rng(0);
    let _: f64 = rng.random();
    ShiftedLaplacianSequence::generate(grid, t, &mut rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adversarial::{TsallisEstimator, TsallisInf};

    #[test]
    fn table_run_is_the_learner_part_of_run_omega_bandit() {
        let seq = seeded_sequence(4, 30, 2).unwrap();
        let grid = omega_grid(5);
        let setup = RelaxSetup::default();
        let table = iteration_table(&seq, &grid, &setup).unwrap();
        let mut p = TsallisInf::new(5, 2.0, TsallisEstimator::ImportanceWeighted).unwrap();
        let full = run_omega_bandit(
            &seq,
            &grid,
            &table,
            &mut p,
            &setup,
            &mut Seeder::new(3).rng(0),
        )
        .unwrap();
        let paid = table_bandit_run(
            &seq.shifts,
            &table,
            &mut p,
            &setup,
            &mut Seeder::new(3).rng(0),
        )
        .unwrap();
        let cum: Vec<usize> = paid
            .iter()
            .scan(0, |s, &x| {
                *s += x;
                Some(*s)
            })
            .collect();
        assert_eq!(cum, full.learner_curve);
        // Bad input: ragged table, mismatched shifts, empty table.
        let mut ragged = table.clone();
        ragged[3].pop();
        let err = table_bandit_run(
            &seq.shifts,
            &ragged,
            &mut p,
            &setup,
            &mut Seeder::new(3).rng(0),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("table[3]"), "{err}");
        assert!(table_bandit_run(
            &seq.shifts[..3],
            &table,
            &mut p,
            &setup,
            &mut Seeder::new(3).rng(0)
        )
        .is_err());
        assert!(table_bandit_run(&[], &[], &mut p, &setup, &mut Seeder::new(3).rng(0)).is_err());
    }

    #[test]
    fn sor_solves_and_matches_dense() {
        let a = laplacian_2d(4).unwrap().shifted(0.1).unwrap();
        let b: Vec<f64> = (0..16).map(|i| (i as f64).sin()).collect();
        let p = SorParams::new(1.3, 1e-10, 10_000).unwrap();
        let s = sor_csr(&a, &b, None, &p).unwrap();
        let d = sor_dense(&a.to_dense(), 16, &b, None, &p).unwrap();
        assert!(s.converged && d.converged);
        assert_eq!(s.iterations, d.iterations);
        let mut ax = vec![0.0; 16];
        a.matvec(&s.x, &mut ax).unwrap();
        for (x, y) in ax.iter().zip(&b) {
            assert!((x - y).abs() < 1e-8);
        }
        assert!(SorParams::new(2.0, 1e-8, 10).is_err());
        assert!(SorParams::new(0.0, 1e-8, 10).is_err());
        assert!(sor_dense(&[0.0, 1.0, 1.0, 1.0], 2, &[1.0, 1.0], None, &p).is_err());
    }

    #[test]
    fn optimal_omega_beats_gauss_seidel() {
        let seq = seeded_sequence(10, 3, 1).unwrap();
        for t in 0..3 {
            let w = optimal_omega_shifted_laplacian(10, seq.shifts[t]).unwrap();
            let opt = seq
                .iterations(t, &SorParams::new(w, 1e-8, 10_000).unwrap())
                .unwrap();
            let gs = seq
                .iterations(t, &SorParams::new(1.0, 1e-8, 10_000).unwrap())
                .unwrap();
            assert!(opt * 2 < gs, "omega* {w}: {opt} vs GS {gs}");
        }
    }

    #[test]
    fn bandit_approaches_best_fixed_omega() {
        let seq = seeded_sequence(10, 60, 2).unwrap();
        let grid = omega_grid(20);
        let (tol, cap) = (1e-8, 1000);
        let setup = RelaxSetup {
            tol,
            max_iter: cap,
            chebyshev_degree: 3,
        };
        let table = iteration_table(&seq, &grid, &setup).unwrap();
        let mut policy =
            TsallisInf::new(grid.len(), 2.0, TsallisEstimator::ImportanceWeighted).unwrap();
        let mut rng = Seeder::new(3).rng(0);
        let out = run_omega_bandit(&seq, &grid, &table, &mut policy, &setup, &mut rng).unwrap();
        assert!(out.best_fixed_iterations < out.gauss_seidel_iterations);
        assert!(
            out.learner_iterations < out.gauss_seidel_iterations,
            "{out:?}"
        );
        let mut cheb = ChebCb::new(grid.len(), 4, 1.0, 1.0).unwrap();
        let out2 = run_omega_bandit(&seq, &grid, &table, &mut cheb, &setup, &mut rng).unwrap();
        assert!(
            out2.learner_iterations < out2.gauss_seidel_iterations,
            "{out2:?}"
        );
    }
}
