//! NOTEARS (Zheng, Aragam, Ravikumar & Xing 2018, "DAGs with NO TEARS").
//!
//! Minimises the least-squares score with an L1 penalty,
//! `F(W) = 1/(2n) ||X - X W||_F^2 + lambda ||W||_1`, subject to the smooth
//! acyclicity constraint `h(W) = tr(exp(W o W)) - d = 0` (their eq. 7, with
//! gradient `exp(W o W)^T o 2W`), by the augmented Lagrangian of their
//! Algorithm 1: `F + rho/2 h^2 + alpha h`, `rho` multiplied by 10 until `h`
//! drops below a quarter of its previous value, then `alpha += rho h`.
//! The L1 term is made smooth by splitting `W = W+ - W-` with `W+-, >= 0`
//! (their section 4), solved by projected L-BFGS ([`super::lbfgs`]).

use duality_core::config::Validate;
use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::linalg::{expm, matmul};
use super::sem::Adjacency;
use duality_core::numerics::{minimize_bounded, minimize_lbfgsb, LbfgsOptions};

/// A smooth function's value and gradient at a point.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueAndGradient {
    /// The value.
    pub value: f64,
    /// The gradient, row-major like the argument.
    pub grad: Vec<f64>,
}

/// `h(W) = tr(exp(W o W)) - d` and its gradient `exp(W o W)^T o 2W`
/// (Zheng et al. 2018, eq. 7 and Theorem 1), for row-major `d x d` `w`.
pub fn acyclicity(w: &[f64], d: usize) -> ValueAndGradient {
    let sq: Vec<f64> = w.iter().map(|x| x * x).collect();
    let e = expm(&sq, d);
    let h = (0..d).map(|i| e[i * d + i]).sum::<f64>() - d as f64;
    let mut g = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            g[i * d + j] = e[j * d + i] * 2.0 * w[i * d + j];
        }
    }
    ValueAndGradient { value: h, grad: g }
}

/// `d x d` matrices NOTEARS and TOPO hold at once on `d` variables: the
/// covariance, the split variables `W+, W-` with their bounds, iterates and
/// gradients, the matrix exponential's workspace and L-BFGS's 10 pairs of
/// `2 d^2` history vectors (L-BFGS-B adds its compact `2 d^2 x 20` factor).
pub const SOLVER_MATRICES: u128 = 96;

/// Bytes of [`SOLVER_MATRICES`] `d x d` f64 matrices; an error naming `d`
/// when `d^2` overflows.
pub fn matrix_bytes(d: usize) -> Result<u128> {
    let dd = duality_core::limits::product(&[("variables", d), ("variables", d)])?;
    Ok(dd as u128 * 8 * SOLVER_MATRICES)
}

/// Centred data summarised by its covariance `S = X^T X / n`; the
/// least-squares score and its gradient only need `S`.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// Number of variables.
    pub d: usize,
    /// Number of samples.
    pub n: usize,
    /// `X^T X / n` of the centred data, row-major.
    pub cov: Vec<f64>,
}

impl Data {
    /// From row-major `n x d` samples; centres each column. Fails on empty or
    /// non-finite data, when `x.len()` is not a multiple of `d`, on fewer
    /// than 2 samples (a covariance needs two), when the `d x d` matrices
    /// of the solvers ([`matrix_bytes`]) exceed the memory budget of
    /// [`duality_core::limits`] (checked before allocating: a 1 x 100,000
    /// file asks for 80 GB per matrix), and when the covariance overflows
    /// f64 (values near 1e155 and beyond: rescale the data), naming the
    /// columns.
    pub fn new(x: &[f64], d: usize) -> Result<Self> {
        duality_core::check::at_least("d (variables)", d, 1)?;
        duality_core::check::finite_non_empty("data", x)?;
        if x.len() % d != 0 {
            return Err(Error::invalid(
                "data length",
                x.len(),
                format!("a multiple of d = {d}"),
            ));
        }
        let n = x.len() / d;
        if n < 2 {
            return Err(Error::invalid(
                "number of samples (data rows)",
                n,
                format!("at least 2 samples of the {d} variable(s): a covariance needs two"),
            ));
        }
        duality_core::limits::check_memory(
            &format!("{d} variables (data columns)"),
            matrix_bytes(d)?,
        )?;
        let mut mean = vec![0.0; d];
        for row in x.chunks(d) {
            for j in 0..d {
                mean[j] += row[j] / n as f64;
            }
        }
        let mut cov = vec![0.0; d * d];
        for row in x.chunks(d) {
            for i in 0..d {
                let a = row[i] - mean[i];
                for j in 0..d {
                    cov[i * d + j] += a * (row[j] - mean[j]);
                }
            }
        }
        cov.iter_mut().for_each(|v| *v /= n as f64);
        if let Some(k) = cov.iter().position(|v| !v.is_finite()) {
            let big = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            return Err(Error::invalid(
                format!("covariance of data columns {} and {}", k / d + 1, k % d + 1),
                cov[k],
                format!(
                    "a finite number: the data (largest |value| {big:e}) overflow f64 when squared; rescale them"
                ),
            ));
        }
        Ok(Data { d, n, cov })
    }

    /// From rows of samples.
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Self> {
        let d = rows.first().map_or(0, Vec::len);
        for (i, r) in rows.iter().enumerate() {
            duality_core::check::same_len(&format!("data row {i}"), r.len(), "data row 0", d)?;
        }
        Self::new(&rows.concat(), d)
    }

    /// `1/(2n) ||X - X W||^2 = 1/2 tr((I - W)^T S (I - W))` and its gradient
    /// `-S (I - W)`.
    pub fn loss(&self, w: &[f64]) -> ValueAndGradient {
        let d = self.d;
        let mut iw: Vec<f64> = w.iter().map(|v| -v).collect();
        for i in 0..d {
            iw[i * d + i] += 1.0;
        }
        let siw = matmul(&self.cov, &iw, d);
        let loss = 0.5 * (0..d * d).map(|k| iw[k] * siw[k]).sum::<f64>();
        ValueAndGradient {
            value: loss,
            grad: siw.into_iter().map(|v| -v).collect(),
        }
    }
}

/// The inner bound-constrained solver of NOTEARS' augmented Lagrangian
/// (over the split `W = W+ - W-`, `W+, W- >= 0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum InnerSolver {
    /// Projected L-BFGS ([`duality_core::numerics::minimize_bounded`]); no Cauchy point.
    #[default]
    ProjectedLbfgs,
    /// L-BFGS-B with generalised Cauchy point and subspace minimisation
    /// ([`duality_core::numerics::minimize_lbfgsb`]), as the reference code's scipy call.
    LbfgsB,
}

/// NOTEARS parameters (defaults as in the reference implementation):
/// [`NotearsParams::default`] plus the `with_*` setters, checked once by
/// [`Validate`] when [`notears`] starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotearsParams {
    lambda: f64,
    max_iter: usize,
    h_tol: f64,
    rho_max: f64,
    w_threshold: f64,
    inner: InnerSolver,
}

impl Default for NotearsParams {
    fn default() -> Self {
        NotearsParams {
            lambda: 0.1,
            max_iter: 100,
            h_tol: 1e-8,
            rho_max: 1e16,
            w_threshold: 0.3,
            inner: InnerSolver::default(),
        }
    }
}

impl NotearsParams {
    /// Sets the L1 penalty `lambda` (finite, `>= 0`).
    pub fn with_lambda(mut self, lambda: f64) -> Self {
        self.lambda = lambda;
        self
    }
    /// Sets the outer iterations of the augmented Lagrangian.
    pub fn with_max_iter(mut self, iterations: usize) -> Self {
        self.max_iter = iterations;
        self
    }
    /// Stops when `h(W) <= h_tol` (`> 0`).
    pub fn with_h_tol(mut self, h_tol: f64) -> Self {
        self.h_tol = h_tol;
        self
    }
    /// Stops when `rho >= rho_max` (`> 0`).
    pub fn with_rho_max(mut self, rho_max: f64) -> Self {
        self.rho_max = rho_max;
        self
    }
    /// Sets the inner solver.
    pub fn with_inner(mut self, inner: InnerSolver) -> Self {
        self.inner = inner;
        self
    }
    /// Final edges with `|w| < threshold` are removed (`>= 0`).
    pub fn with_w_threshold(mut self, threshold: f64) -> Self {
        self.w_threshold = threshold;
        self
    }
    /// L1 penalty.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }
    /// Outer iterations.
    pub fn max_iter(&self) -> usize {
        self.max_iter
    }
    /// Acyclicity tolerance.
    pub fn h_tol(&self) -> f64 {
        self.h_tol
    }
    /// Largest penalty weight.
    pub fn rho_max(&self) -> f64 {
        self.rho_max
    }
    /// Inner solver.
    pub fn inner(&self) -> InnerSolver {
        self.inner
    }
    /// Final edge threshold.
    pub fn w_threshold(&self) -> f64 {
        self.w_threshold
    }
}

impl Validate for NotearsParams {
    fn validate(&self) -> Result<()> {
        if !(self.lambda >= 0.0 && self.lambda.is_finite()) {
            return Err(Error::config(
                "lambda",
                format!("must be a finite number >= 0, got {}", self.lambda),
            ));
        }
        duality_core::check::positive("h_tol", self.h_tol)?;
        duality_core::check::positive("rho_max", self.rho_max)?;
        if !(self.w_threshold >= 0.0 && self.w_threshold.is_finite()) {
            return Err(Error::config(
                "w_threshold",
                format!("must be a finite number >= 0, got {}", self.w_threshold),
            ));
        }
        Ok(())
    }
}

/// Result of a structure-learning run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DagFit {
    /// Estimated weights after thresholding.
    pub w: Adjacency,
    /// Weights before thresholding.
    pub w_raw: Adjacency,
    /// `h` of the raw estimate.
    pub h: f64,
    /// Least-squares score `1/(2n)||X - XW||^2` of the thresholded estimate.
    pub loss: f64,
}

/// Runs NOTEARS (Algorithm 1 of Zheng et al. 2018). Fails naming the field
/// when `params` are invalid.
///
/// ```
/// use duality_combopt::dag::{accuracy, notears, random_dag, simulate_linear_sem};
/// use duality_combopt::dag::{Data, GraphType, Noise, NotearsParams};
/// use duality_core::seed::Seeder;
///
/// let mut rng = Seeder::new(3).rng(0);
/// let truth = random_dag(5, 5, GraphType::ErdosRenyi, &mut rng)?;
/// let x = simulate_linear_sem(&truth, 500, Noise::Gaussian, &mut rng)?;
/// let fit = notears(&Data::new(&x, 5)?, &NotearsParams::default())?;
/// assert!(fit.w.is_dag());
/// assert!(accuracy(&truth, &fit.w)?.shd <= 3);
/// # Ok::<(), duality_combopt::Error>(())
/// ```
pub fn notears(data: &Data, params: &NotearsParams) -> Result<DagFit> {
    params.validate()?;
    let d = data.d;
    duality_core::limits::check_memory(&format!("NOTEARS on {d} variables"), matrix_bytes(d)?)?;
    let dd = d * d;
    let adj = |w: &[f64]| -> Vec<f64> { (0..dd).map(|k| w[k] - w[dd + k]).collect() };
    let mut lo = vec![0.0; 2 * dd];
    let mut hi = vec![f64::INFINITY; 2 * dd];
    for i in 0..d {
        hi[i * d + i] = 0.0;
        hi[dd + i * d + i] = 0.0;
    }
    lo.iter_mut().for_each(|v| *v = 0.0);
    let (mut rho, mut alpha, mut h) = (1.0, 0.0, f64::INFINITY);
    let mut w_est = vec![0.0; 2 * dd];
    let opts = LbfgsOptions::default();
    for _ in 0..params.max_iter {
        let mut w_new = w_est.clone();
        let mut h_new = h;
        while rho < params.rho_max {
            let objective = |w: &[f64]| -> (f64, Vec<f64>) {
                let wm = adj(w);
                let ValueAndGradient {
                    value: loss,
                    grad: gl,
                } = data.loss(&wm);
                let ValueAndGradient {
                    value: hv,
                    grad: gh,
                } = acyclicity(&wm, d);
                let obj =
                    loss + 0.5 * rho * hv * hv + alpha * hv + params.lambda * w.iter().sum::<f64>();
                let mut g = vec![0.0; 2 * dd];
                for k in 0..dd {
                    let smooth = gl[k] + (rho * hv + alpha) * gh[k];
                    g[k] = smooth + params.lambda;
                    g[dd + k] = -smooth + params.lambda;
                }
                (obj, g)
            };
            w_new = match params.inner {
                InnerSolver::ProjectedLbfgs => minimize_bounded(objective, &w_est, &lo, &hi, &opts),
                InnerSolver::LbfgsB => minimize_lbfgsb(objective, &w_est, &lo, &hi, &opts),
            }
            .x;
            h_new = acyclicity(&adj(&w_new), d).value;
            if h_new > 0.25 * h {
                rho *= 10.0;
            } else {
                break;
            }
        }
        w_est = w_new;
        h = h_new;
        alpha += rho * h;
        if h <= params.h_tol || rho >= params.rho_max {
            break;
        }
    }
    let raw = Adjacency::new(d, adj(&w_est))?;
    let w = raw.thresholded(params.w_threshold);
    let loss = data.loss(&w.w).value;
    finite_fit("NOTEARS", &raw, h, loss)?;
    Ok(DagFit {
        w,
        w_raw: raw,
        h,
        loss,
    })
}

/// A fit whose weights, acyclicity `h` or least-squares loss are not finite
/// is an error naming the quantity (issue #25: no NaN or inf is printed as
/// a result).
pub(crate) fn finite_fit(method: &str, raw: &Adjacency, h: f64, loss: f64) -> Result<()> {
    if let Some(k) = raw.w.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(
            format!("{method} weight W[{}][{}]", k / raw.d + 1, k % raw.d + 1),
            raw.w[k],
            "a finite weight (the fit overflowed f64; rescale the data)",
        ));
    }
    if !h.is_finite() {
        return Err(Error::invalid(
            format!("{method} acyclicity h(W)"),
            h,
            "a finite number (the fit overflowed f64; rescale the data)",
        ));
    }
    if !loss.is_finite() {
        return Err(Error::invalid(
            format!("{method} least-squares loss"),
            loss,
            "a finite number (the fit overflowed f64; rescale the data)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Case {
        d: usize,
        #[serde(rename = "W")]
        w: Vec<Vec<f64>>,
        h: f64,
        grad_h: Vec<Vec<f64>>,
        #[serde(rename = "X")]
        x: Vec<Vec<f64>>,
        loss: f64,
        grad_loss: Vec<Vec<f64>>,
    }

    #[derive(serde::Deserialize)]
    struct Fixture {
        cases: Vec<Case>,
    }

    /// scipy.linalg.expm-based h(W), gradients and loss: relative 1e-10.
    #[test]
    fn matches_scipy_fixture() {
        let text = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/combopt/notears.json"
        ));
        let fx: Fixture = serde_json::from_str(text).unwrap();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-10 * (1.0 + b.abs());
        for c in fx.cases {
            let w = c.w.concat();
            let ValueAndGradient { value: h, grad: g } = acyclicity(&w, c.d);
            assert!(close(h, c.h), "h {h} vs {}", c.h);
            for (a, b) in g.iter().zip(c.grad_h.concat()) {
                assert!(close(*a, b));
            }
            // The fixture loss uses uncentred X: compare with S = X^T X / n.
            let n = c.x.len();
            let xs = c.x.concat();
            let mut cov = vec![0.0; c.d * c.d];
            for row in xs.chunks(c.d) {
                for i in 0..c.d {
                    for j in 0..c.d {
                        cov[i * c.d + j] += row[i] * row[j] / n as f64;
                    }
                }
            }
            let data = Data { d: c.d, n, cov };
            let ValueAndGradient {
                value: loss,
                grad: gl,
            } = data.loss(&w);
            assert!(close(loss, c.loss), "loss {loss} vs {}", c.loss);
            for (a, b) in gl.iter().zip(c.grad_loss.concat()) {
                assert!(close(*a, b));
            }
        }
    }
}
