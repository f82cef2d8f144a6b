//! L-BFGS-B and a projected L-BFGS for bound-constrained smooth problems
//! (`lo <= x <= hi`).
//!
//! Used by combopt's NOTEARS, which minimises over `w+ >= 0, w- >= 0` with
//! L-BFGS-B; it lives in duality-core so every area shares one
//! implementation. argmin was considered: its L-BFGS has no bound
//! constraints, which NOTEARS needs. [`minimize_bounded`] is a
//! simpler projected variant (in the spirit of Kim, Sra & Dhillon 2010,
//! "Tackling box-constrained optimization via a new projected quasi-Newton
//! approach"): variables at a bound whose gradient pushes outward are held
//! fixed, the two-loop L-BFGS direction is computed on the free variables,
//! and a backtracking Armijo search runs along the projected path. Stopping
//! mirrors scipy's L-BFGS-B defaults (`pgtol = 1e-5`, relative decrease
//! `ftol = 2.2e-9`). It lacks L-BFGS-B's generalised Cauchy point.
//!
//! [`minimize_lbfgsb`] is the bound-constrained L-BFGS-B proper (generalised
//! Cauchy point on the compact limited-memory model + subspace
//! minimisation), with a simpler line search than the Fortran code.
//!
//! Both return an [`LbfgsResult`] whose [`Termination`] says why they
//! stopped (argmin-style), so a caller can tell convergence from a spent
//! iteration budget or a failed line search.

use serde::{Deserialize, Serialize};

/// Options of [`minimize_bounded`] and [`minimize_lbfgsb`].
#[derive(Debug, Clone, Copy)]
pub struct LbfgsOptions {
    /// History length.
    pub memory: usize,
    /// Maximum iterations.
    pub max_iter: usize,
    /// Stop when the projected gradient's max-norm is below this.
    pub pgtol: f64,
    /// Stop when the relative decrease of f is below this.
    pub ftol: f64,
}

impl Default for LbfgsOptions {
    fn default() -> Self {
        LbfgsOptions {
            memory: 10,
            max_iter: 15_000,
            pgtol: 1e-5,
            ftol: 2.220446049250313e-9,
        }
    }
}

/// Why a minimiser stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Termination {
    /// The projected gradient's max-norm fell below `pgtol`.
    GradientTolerance,
    /// The relative decrease of `f` in one step fell below `ftol`.
    FunctionTolerance,
    /// `max_iter` iterations ran without meeting a tolerance.
    MaxIterations,
    /// 40 halvings of the step found no sufficient decrease (or only
    /// non-finite values).
    LineSearchFailed,
    /// Not even steepest descent (projected) is a descent direction: the
    /// free gradient vanished to rounding.
    NoDescentDirection,
}

impl Termination {
    /// Whether a tolerance was met (the point is a solution to the
    /// requested accuracy), rather than a budget or a failure stopping it.
    pub fn is_converged(self) -> bool {
        matches!(
            self,
            Termination::GradientTolerance | Termination::FunctionTolerance
        )
    }
}

impl std::fmt::Display for Termination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Termination::GradientTolerance => "converged (projected gradient below pgtol)",
            Termination::FunctionTolerance => "converged (relative decrease below ftol)",
            Termination::MaxIterations => "stopped at max_iter",
            Termination::LineSearchFailed => "line search failed",
            Termination::NoDescentDirection => "no descent direction",
        })
    }
}

/// The final point of a run and why it stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct LbfgsResult {
    /// The final (feasible) point.
    pub x: Vec<f64>,
    /// `f(x)`.
    pub f: f64,
    /// Iterations run.
    pub iterations: usize,
    /// Why the run stopped.
    pub termination: Termination,
}

fn project(x: &mut [f64], lo: &[f64], hi: &[f64]) {
    for ((v, l), h) in x.iter_mut().zip(lo).zip(hi) {
        *v = v.clamp(*l, *h);
    }
}

/// A step accepted by a line search: the new point, its value and gradient.
struct Step {
    x: Vec<f64>,
    f: f64,
    g: Vec<f64>,
}

/// Backtracking Armijo search: halves `t` up to 40 times until the trial
/// point `next(t)` has a finite value at most `bound(t, next(t))` (the
/// sufficient-decrease threshold, `f(x) + 1e-4 * predicted decrease`);
/// `None` when no step passes.
fn backtrack(
    f: &mut impl FnMut(&[f64]) -> (f64, Vec<f64>),
    mut t: f64,
    next: impl Fn(f64) -> Vec<f64>,
    bound: impl Fn(f64, &[f64]) -> f64,
) -> Option<Step> {
    for _ in 0..40 {
        let xn = next(t);
        let threshold = bound(t, &xn);
        let (fn_, gn) = f(&xn);
        if fn_.is_finite() && fn_ <= threshold {
            return Some(Step {
                x: xn,
                f: fn_,
                g: gn,
            });
        }
        t *= 0.5;
    }
    None
}

/// Relative decrease from `fx` to `fn_`, as scipy's `ftol` test.
fn relative_decrease(fx: f64, fn_: f64) -> f64 {
    (fx - fn_) / fx.abs().max(fn_.abs()).max(1.0)
}

/// Moves the iterate `(x, fx, g)` to an accepted step (both solvers share
/// this); true when the relative decrease met `ftol`, scipy's stop.
fn advance(x: &mut Vec<f64>, fx: &mut f64, g: &mut Vec<f64>, step: Step, ftol: f64) -> bool {
    let rel = relative_decrease(*fx, step.f);
    *x = step.x;
    *fx = step.f;
    *g = step.g;
    rel <= ftol
}

/// Variables not stuck at a bound with the gradient pushing outward.
fn free_variables(x: &[f64], g: &[f64], lo: &[f64], hi: &[f64]) -> Vec<bool> {
    (0..x.len())
        .map(|i| {
            !((x[i] <= lo[i] && g[i] > 0.0) || (x[i] >= hi[i] && g[i] < 0.0) || lo[i] == hi[i])
        })
        .collect()
}

/// The L-BFGS two-loop recursion on the free subspace: minus the inverse
/// Hessian approximation times the (free) gradient.
fn two_loop_direction(
    g: &[f64],
    free: &[bool],
    s_hist: &[Vec<f64>],
    y_hist: &[Vec<f64>],
) -> Vec<f64> {
    let n = g.len();
    let mut q: Vec<f64> = (0..n).map(|i| if free[i] { g[i] } else { 0.0 }).collect();
    let k = s_hist.len();
    let mut alpha = vec![0.0; k];
    let dot =
        |a: &[f64], b: &[f64]| -> f64 { (0..n).filter(|&i| free[i]).map(|i| a[i] * b[i]).sum() };
    for idx in (0..k).rev() {
        let sy = dot(&s_hist[idx], &y_hist[idx]);
        if sy <= 1e-300 {
            continue;
        }
        alpha[idx] = dot(&s_hist[idx], &q) / sy;
        for i in 0..n {
            if free[i] {
                q[i] -= alpha[idx] * y_hist[idx][i];
            }
        }
    }
    if let (Some(s), Some(y)) = (s_hist.last(), y_hist.last()) {
        let (sy, yy) = (dot(s, y), dot(y, y));
        if sy > 1e-300 && yy > 1e-300 {
            let gamma = sy / yy;
            q.iter_mut().for_each(|v| *v *= gamma);
        }
    }
    for idx in 0..k {
        let sy = dot(&s_hist[idx], &y_hist[idx]);
        if sy <= 1e-300 {
            continue;
        }
        let beta = dot(&y_hist[idx], &q) / sy;
        for i in 0..n {
            if free[i] {
                q[i] += s_hist[idx][i] * (alpha[idx] - beta);
            }
        }
    }
    q.iter().map(|v| -v).collect()
}

/// Minimises `f` (returning value and gradient) over the box `[lo, hi]`
/// from `x0` by projected L-BFGS (see the module docs). Returns the final
/// point and why the run stopped.
pub fn minimize_bounded(
    mut f: impl FnMut(&[f64]) -> (f64, Vec<f64>),
    x0: &[f64],
    lo: &[f64],
    hi: &[f64],
    opts: &LbfgsOptions,
) -> LbfgsResult {
    let n = x0.len();
    let mut x = x0.to_vec();
    project(&mut x, lo, hi);
    let (mut fx, mut g) = f(&x);
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut termination = Termination::MaxIterations;
    let mut iterations = 0;
    for _ in 0..opts.max_iter {
        let free = free_variables(&x, &g, lo, hi);
        let pg = (0..n)
            .filter(|&i| free[i])
            .map(|i| g[i].abs())
            .fold(0.0, f64::max);
        if pg < opts.pgtol {
            termination = Termination::GradientTolerance;
            break;
        }
        iterations += 1;
        let k = s_hist.len();
        let mut dir = two_loop_direction(&g, &free, &s_hist, &y_hist);
        let mut slope: f64 = (0..n).map(|i| dir[i] * g[i]).sum();
        if slope >= 0.0 || !slope.is_finite() {
            // Not a descent direction: restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            dir = (0..n).map(|i| if free[i] { -g[i] } else { 0.0 }).collect();
            slope = (0..n).map(|i| dir[i] * g[i]).sum();
            if slope >= 0.0 {
                termination = Termination::NoDescentDirection;
                break;
            }
        }
        // First iteration without curvature: keep the step modest.
        let t = if k == 0 {
            (1.0 / dir.iter().map(|v| v.abs()).fold(0.0, f64::max)).min(1.0)
        } else {
            1.0
        };
        let next = |t: f64| {
            let mut xn: Vec<f64> = (0..n).map(|i| x[i] + t * dir[i]).collect();
            project(&mut xn, lo, hi);
            xn
        };
        let bound = |_: f64, xn: &[f64]| {
            let decrease: f64 = (0..n).map(|i| g[i] * (xn[i] - x[i])).sum();
            fx + 1e-4 * decrease
        };
        let Some(step) = backtrack(&mut f, t, next, bound) else {
            termination = Termination::LineSearchFailed;
            break;
        };
        let s: Vec<f64> = (0..n).map(|i| step.x[i] - x[i]).collect();
        let y: Vec<f64> = (0..n).map(|i| step.g[i] - g[i]).collect();
        let sy: f64 = s.iter().zip(&y).map(|(a, b)| a * b).sum();
        if sy > 1e-12 {
            s_hist.push(s);
            y_hist.push(y);
            if s_hist.len() > opts.memory {
                s_hist.remove(0);
                y_hist.remove(0);
            }
        }
        if advance(&mut x, &mut fx, &mut g, step, opts.ftol) {
            termination = Termination::FunctionTolerance;
            break;
        }
    }
    LbfgsResult {
        x,
        f: fx,
        iterations,
        termination,
    }
}

/// Solves the dense `k x k` system `a x = b` with the shared LU solve;
/// `None` when `a` is numerically singular (the caller then resets its
/// limited-memory model).
fn solve_dense(a: Vec<f64>, b: Vec<f64>, k: usize) -> Option<Vec<f64>> {
    super::dense::solve_lu(a, b, k, 1e-300).ok()
}

/// The compact limited-memory matrix `B = theta I - W M W^T` with
/// `W = [Y, theta S]` (Byrd, Nocedal & Schnabel 1994, eq. 3.2-3.5).
struct Compact {
    theta: f64,
    /// Pairs, oldest first.
    s: Vec<Vec<f64>>,
    y: Vec<Vec<f64>>,
    /// `M` (2k x 2k, row-major) = [[-D, L^T], [L, theta S^T S]]^{-1}.
    m: Vec<f64>,
}

impl Compact {
    fn k2(&self) -> usize {
        2 * self.s.len()
    }

    /// Row `i` of `W`.
    fn w_row(&self, i: usize, out: &mut [f64]) {
        let k = self.s.len();
        for j in 0..k {
            out[j] = self.y[j][i];
            out[k + j] = self.theta * self.s[j][i];
        }
    }

    fn m_times(&self, v: &[f64]) -> Vec<f64> {
        let k2 = self.k2();
        (0..k2)
            .map(|i| (0..k2).map(|j| self.m[i * k2 + j] * v[j]).sum())
            .collect()
    }

    /// Rebuilds `M` after the pairs or theta changed; `false` if singular.
    fn rebuild(&mut self) -> bool {
        let k = self.s.len();
        let k2 = 2 * k;
        let dot = |a: &[f64], b: &[f64]| -> f64 { a.iter().zip(b).map(|(x, y)| x * y).sum() };
        let mut a = vec![0.0; k2 * k2];
        for i in 0..k {
            a[i * k2 + i] = -dot(&self.s[i], &self.y[i]);
            for j in 0..k {
                if i > j {
                    let l = dot(&self.s[i], &self.y[j]);
                    a[(k + i) * k2 + j] = l; // L
                    a[j * k2 + k + i] = l; // L^T
                }
                a[(k + i) * k2 + k + j] = self.theta * dot(&self.s[i], &self.s[j]);
            }
        }
        // Invert column by column.
        let mut m = vec![0.0; k2 * k2];
        for c in 0..k2 {
            let mut e = vec![0.0; k2];
            e[c] = 1.0;
            match solve_dense(a.clone(), e, k2) {
                Some(col) => {
                    for r in 0..k2 {
                        m[r * k2 + c] = col[r];
                    }
                }
                None => return false,
            }
        }
        self.m = m;
        true
    }

    /// Forgets every pair (`B = I`).
    fn reset(&mut self) {
        self.s.clear();
        self.y.clear();
        self.theta = 1.0;
        self.m.clear();
    }

    /// Adds the pair `(s, y)` when it has enough curvature
    /// (`s^T y > eps y^T y`), dropping the oldest beyond `memory`, and
    /// rebuilds `M` (resetting if it turned singular).
    fn update(&mut self, s: Vec<f64>, y: Vec<f64>, memory: usize) {
        let sy: f64 = s.iter().zip(&y).map(|(a, b)| a * b).sum();
        let yy: f64 = y.iter().map(|v| v * v).sum();
        if sy > f64::EPSILON * yy && yy > 0.0 {
            self.s.push(s);
            self.y.push(y);
            if self.s.len() > memory {
                self.s.remove(0);
                self.y.remove(0);
            }
            self.theta = yy / sy;
            if !self.rebuild() {
                self.reset();
            }
        }
    }
}

/// L-BFGS-B (Byrd, Lu, Nocedal & Zhu 1995, "A limited memory algorithm for
/// bound constrained optimization"; the solver scipy's `minimize(method=
/// "L-BFGS-B")` wraps, as used by the NOTEARS reference code): each
/// iteration finds the **generalised Cauchy point** of the compact L-BFGS
/// model along the projected steepest-descent path (their Algorithm CP,
/// section 4), then minimises the model over the variables still free
/// there by the **direct primal method** (section 5.1) with backtracking
/// into the box, and searches along the resulting direction. Differences
/// from the Fortran code: a backtracking Armijo line search instead of
/// Moré-Thuente's `dcsrch` (sufficient decrease `1e-4`, no curvature test;
/// pairs with `s^T y <= eps y^T y` are skipped, as there). Stopping as
/// scipy: projected-gradient max-norm below `pgtol`, or relative decrease
/// below `ftol`; the result says which (or why else it stopped).
pub fn minimize_lbfgsb(
    mut f: impl FnMut(&[f64]) -> (f64, Vec<f64>),
    x0: &[f64],
    lo: &[f64],
    hi: &[f64],
    opts: &LbfgsOptions,
) -> LbfgsResult {
    let n = x0.len();
    let mut x = x0.to_vec();
    project(&mut x, lo, hi);
    let (mut fx, mut g) = f(&x);
    let mut cm = Compact {
        theta: 1.0,
        s: Vec::new(),
        y: Vec::new(),
        m: Vec::new(),
    };
    let mut wb = vec![0.0; 2 * opts.memory.max(1)];
    let mut termination = Termination::MaxIterations;
    let mut iterations = 0;
    for iter in 0..opts.max_iter {
        let pg = (0..n)
            .map(|i| ((x[i] - g[i]).clamp(lo[i], hi[i]) - x[i]).abs())
            .fold(0.0, f64::max);
        if pg < opts.pgtol {
            termination = Termination::GradientTolerance;
            break;
        }
        iterations += 1;
        let wb = &mut wb[..cm.k2()];
        let cauchy = cauchy_point(&cm, &x, &g, lo, hi, wb);
        let xbar = subspace_minimum(&cm, &x, &g, lo, hi, &cauchy, wb);
        // --- Line search along d = xbar - x (feasible for steps in [0, 1]).
        let dir: Vec<f64> = (0..n).map(|i| xbar[i] - x[i]).collect();
        let slope: f64 = dir.iter().zip(&g).map(|(a, b)| a * b).sum();
        if slope >= 0.0 || !slope.is_finite() {
            if cm.s.is_empty() {
                termination = Termination::NoDescentDirection;
                break;
            }
            // The model lost descent (rounding): drop the memory and retry.
            cm.reset();
            continue;
        }
        let step = if iter == 0 && cm.s.is_empty() {
            let norm = dir.iter().map(|v| v * v).sum::<f64>().sqrt();
            (1.0 / norm).min(1.0)
        } else {
            1.0
        };
        let next = |t: f64| -> Vec<f64> {
            (0..n)
                .map(|i| (x[i] + t * dir[i]).clamp(lo[i], hi[i]))
                .collect()
        };
        let bound = |t: f64, _: &[f64]| fx + 1e-4 * t * slope;
        let Some(accepted) = backtrack(&mut f, step, next, bound) else {
            termination = Termination::LineSearchFailed;
            break;
        };
        let s: Vec<f64> = (0..n).map(|i| accepted.x[i] - x[i]).collect();
        let y: Vec<f64> = (0..n).map(|i| accepted.g[i] - g[i]).collect();
        cm.update(s, y, opts.memory.max(1));
        if advance(&mut x, &mut fx, &mut g, accepted, opts.ftol) {
            termination = Termination::FunctionTolerance;
            break;
        }
    }
    LbfgsResult {
        x,
        f: fx,
        iterations,
        termination,
    }
}

/// The generalised Cauchy point and the vector `c = W^T (xc - x)`.
struct CauchyPoint {
    xc: Vec<f64>,
    c: Vec<f64>,
}

/// Algorithm CP of Byrd et al. (1995, section 4): the first local minimiser
/// of the quadratic model along the projected steepest-descent path
/// `x(t) = P(x - t g)`, examining breakpoints in increasing order.
fn cauchy_point(
    cm: &Compact,
    x: &[f64],
    g: &[f64],
    lo: &[f64],
    hi: &[f64],
    wb: &mut [f64],
) -> CauchyPoint {
    let n = x.len();
    let k2 = cm.k2();
    let mut t = vec![f64::INFINITY; n];
    let mut d = vec![0.0; n];
    for i in 0..n {
        if g[i] < 0.0 {
            t[i] = (x[i] - hi[i]) / g[i];
        } else if g[i] > 0.0 {
            t[i] = (x[i] - lo[i]) / g[i];
        }
        if t[i] > 0.0 {
            d[i] = -g[i];
        } else {
            t[i] = 0.0;
        }
    }
    let mut order: Vec<usize> = (0..n).filter(|&i| t[i] > 0.0 && t[i].is_finite()).collect();
    order.sort_by(|&a, &b| t[a].total_cmp(&t[b]).then(a.cmp(&b)));
    let mut p = vec![0.0; k2];
    for i in 0..n {
        if d[i] != 0.0 {
            cm.w_row(i, wb);
            for (pj, wj) in p.iter_mut().zip(wb.iter()) {
                *pj += wj * d[i];
            }
        }
    }
    let mut c = vec![0.0; k2];
    let mut fp: f64 = -d.iter().map(|v| v * v).sum::<f64>();
    let mp = cm.m_times(&p);
    let mut fpp = -cm.theta * fp - p.iter().zip(&mp).map(|(a, b)| a * b).sum::<f64>();
    let mut xc = x.to_vec();
    let mut dt_min = if fpp > 0.0 { -fp / fpp } else { f64::INFINITY };
    let mut t_old = 0.0;
    let mut next = 0;
    while next < order.len() && fp < 0.0 {
        let b = order[next];
        let dt = t[b] - t_old;
        if dt_min < dt {
            break;
        }
        next += 1;
        let xb = if d[b] > 0.0 { hi[b] } else { lo[b] };
        let zb = xb - x[b];
        xc[b] = xb;
        for (cj, pj) in c.iter_mut().zip(&p) {
            *cj += dt * pj;
        }
        let gb = g[b];
        cm.w_row(b, wb);
        let mw = cm.m_times(wb);
        let wmc: f64 = mw.iter().zip(&c).map(|(a, b)| a * b).sum();
        let wmp: f64 = mw.iter().zip(&p).map(|(a, b)| a * b).sum();
        let wmw: f64 = mw.iter().zip(wb.iter()).map(|(a, b)| a * b).sum();
        fp += dt * fpp + gb * gb + cm.theta * gb * zb - gb * wmc;
        fpp -= cm.theta * gb * gb + 2.0 * gb * wmp + gb * gb * wmw;
        for (pj, wj) in p.iter_mut().zip(wb.iter()) {
            *pj += gb * wj;
        }
        d[b] = 0.0;
        dt_min = if fpp > 0.0 { -fp / fpp } else { f64::INFINITY };
        t_old = t[b];
    }
    let dt_min = if dt_min.is_finite() {
        dt_min.max(0.0)
    } else {
        0.0
    };
    let t_final = t_old + dt_min;
    // Every variable not yet at its breakpoint (including those without
    // one, t = inf) moves to t_final along d.
    for i in 0..n {
        if d[i] != 0.0 {
            xc[i] = (x[i] + t_final * d[i]).clamp(lo[i], hi[i]);
        }
    }
    for (cj, pj) in c.iter_mut().zip(&p) {
        *cj += dt_min * pj;
    }
    CauchyPoint { xc, c }
}

/// Direct primal subspace minimisation (Byrd et al. 1995, section 5.1):
/// minimises the model over the variables free at the Cauchy point, then
/// backtracks into the box. Returns the point `xbar`.
fn subspace_minimum(
    cm: &Compact,
    x: &[f64],
    g: &[f64],
    lo: &[f64],
    hi: &[f64],
    cauchy: &CauchyPoint,
    wb: &mut [f64],
) -> Vec<f64> {
    let n = x.len();
    let k2 = cm.k2();
    let xc = &cauchy.xc;
    let free: Vec<usize> = (0..n).filter(|&i| xc[i] > lo[i] && xc[i] < hi[i]).collect();
    let mut xbar = xc.clone();
    if free.is_empty() {
        return xbar;
    }
    let mc = cm.m_times(&cauchy.c);
    // r = Z^T (g + theta (xc - x) - W M c)
    let mut r = vec![0.0; free.len()];
    for (fi, &i) in free.iter().enumerate() {
        cm.w_row(i, wb);
        let wmc: f64 = wb.iter().zip(&mc).map(|(a, b)| a * b).sum();
        r[fi] = g[i] + cm.theta * (xc[i] - x[i]) - wmc;
    }
    let mut du: Vec<f64> = r.iter().map(|v| -v / cm.theta).collect();
    if k2 > 0 {
        let mut v = vec![0.0; k2];
        let mut q = vec![0.0; k2 * k2];
        for (fi, &i) in free.iter().enumerate() {
            cm.w_row(i, wb);
            for a in 0..k2 {
                v[a] += wb[a] * r[fi];
                for bb in 0..k2 {
                    q[a * k2 + bb] += wb[a] * wb[bb];
                }
            }
        }
        let v = cm.m_times(&v);
        // N = I - (1/theta) M (W^T Z Z^T W)
        let mut nmat = vec![0.0; k2 * k2];
        for a in 0..k2 {
            for bb in 0..k2 {
                let mq: f64 = (0..k2).map(|j| cm.m[a * k2 + j] * q[j * k2 + bb]).sum();
                nmat[a * k2 + bb] = f64::from(u8::from(a == bb)) - mq / cm.theta;
            }
        }
        if let Some(v) = solve_dense(nmat, v, k2) {
            for (fi, &i) in free.iter().enumerate() {
                cm.w_row(i, wb);
                let wv: f64 = wb.iter().zip(&v).map(|(a, b)| a * b).sum();
                du[fi] -= wv / (cm.theta * cm.theta);
            }
        }
    }
    // Backtrack into the box: largest alpha <= 1 keeping xc + alpha du feasible.
    let mut alpha: f64 = 1.0;
    for (fi, &i) in free.iter().enumerate() {
        if du[fi] > 0.0 {
            alpha = alpha.min((hi[i] - xc[i]) / du[fi]);
        } else if du[fi] < 0.0 {
            alpha = alpha.min((lo[i] - xc[i]) / du[fi]);
        }
    }
    let alpha = alpha.max(0.0);
    for (fi, &i) in free.iter().enumerate() {
        xbar[i] = (xc[i] + alpha * du[fi]).clamp(lo[i], hi[i]);
    }
    xbar
}

#[cfg(test)]
mod tests {
    use super::*;

    type Objective<'a> = &'a dyn Fn(&[f64]) -> (f64, Vec<f64>);
    type Solver = fn(Objective<'_>, &[f64], &[f64], &[f64], &LbfgsOptions) -> LbfgsResult;

    fn check_solver(solve: Solver) {
        // Bounded quadratic with an active bound: (1, 0).
        let q = |v: &[f64]| {
            (
                (v[0] - 1.0).powi(2) + (v[1] + 2.0).powi(2),
                vec![2.0 * (v[0] - 1.0), 2.0 * (v[1] + 2.0)],
            )
        };
        let inf = f64::INFINITY;
        let r = solve(
            &q,
            &[5.0, 5.0],
            &[0.0, 0.0],
            &[inf, inf],
            &LbfgsOptions::default(),
        );
        assert!(r.termination.is_converged(), "{}", r.termination);
        assert!((r.f - q(&r.x).0).abs() < 1e-15);
        let x = r.x;
        assert!((x[0] - 1.0).abs() < 1e-5 && x[1].abs() < 1e-9, "{x:?}");
        // Coupled quadratic 0.5 x^T A x - b^T x on [0, 0.6]^4 against
        // projected gradient descent run to convergence.
        let a = [
            4.0, 1.0, 0.5, 0.0, 1.0, 3.0, 0.2, 0.1, 0.5, 0.2, 2.0, 0.3, 0.0, 0.1, 0.3, 1.5,
        ];
        let b = [3.0, -1.0, 2.0, 1.0];
        let fq = |v: &[f64]| -> (f64, Vec<f64>) {
            let av: Vec<f64> = (0..4)
                .map(|i| (0..4).map(|j| a[i * 4 + j] * v[j]).sum())
                .collect();
            let val = 0.5 * (0..4).map(|i| v[i] * av[i]).sum::<f64>()
                - (0..4).map(|i| b[i] * v[i]).sum::<f64>();
            (val, (0..4).map(|i| av[i] - b[i]).collect())
        };
        let (lo, hi) = ([0.0; 4], [0.6; 4]);
        let mut z = vec![0.3; 4];
        for _ in 0..20_000 {
            let g: Vec<f64> = fq(&z).1;
            for i in 0..4 {
                z[i] = (z[i] - 0.1 * g[i]).clamp(lo[i], hi[i]);
            }
        }
        let opts = LbfgsOptions {
            pgtol: 1e-10,
            ftol: 1e-15,
            ..Default::default()
        };
        let x = solve(&fq, &[0.3; 4], &lo, &hi, &opts).x;
        for i in 0..4 {
            assert!((x[i] - z[i]).abs() < 1e-6, "{x:?} vs {z:?}");
        }
        // Rosenbrock, unconstrained in effect.
        let rb = |v: &[f64]| {
            let (a, b) = (v[0], v[1]);
            (
                (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2),
                vec![
                    -2.0 * (1.0 - a) - 400.0 * a * (b - a * a),
                    200.0 * (b - a * a),
                ],
            )
        };
        let x = solve(&rb, &[-1.2, 1.0], &[-10.0, -10.0], &[10.0, 10.0], &opts).x;
        // A budget of 3 iterations on Rosenbrock is not convergence.
        let short = LbfgsOptions {
            max_iter: 3,
            ..opts
        };
        let r = solve(&rb, &[-1.2, 1.0], &[-10.0, -10.0], &[10.0, 10.0], &short);
        assert_eq!(r.termination, Termination::MaxIterations);
        assert_eq!(r.iterations, 3);
        assert!(!r.termination.is_converged());
        assert!(
            (x[0] - 1.0).abs() < 1e-3 && (x[1] - 1.0).abs() < 1e-3,
            "{x:?}"
        );
    }

    #[test]
    fn lbfgsb_solves_bounded_problems() {
        check_solver(|f, x0, lo, hi, o| minimize_lbfgsb(f, x0, lo, hi, o));
        check_solver(|f, x0, lo, hi, o| minimize_bounded(f, x0, lo, hi, o));
    }

    #[test]
    fn bounded_quadratic() {
        // min (x-1)^2 + (y+2)^2 s.t. x, y >= 0  ->  (1, 0).
        let x = minimize_bounded(
            |v| {
                (
                    (v[0] - 1.0).powi(2) + (v[1] + 2.0).powi(2),
                    vec![2.0 * (v[0] - 1.0), 2.0 * (v[1] + 2.0)],
                )
            },
            &[5.0, 5.0],
            &[0.0, 0.0],
            &[f64::INFINITY, f64::INFINITY],
            &LbfgsOptions::default(),
        )
        .x;
        assert!((x[0] - 1.0).abs() < 1e-5 && x[1].abs() < 1e-9, "{x:?}");
        // Rosenbrock, unconstrained in effect.
        let x = minimize_bounded(
            |v| {
                let (a, b) = (v[0], v[1]);
                (
                    (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2),
                    vec![
                        -2.0 * (1.0 - a) - 400.0 * a * (b - a * a),
                        200.0 * (b - a * a),
                    ],
                )
            },
            &[-1.2, 1.0],
            &[-10.0, -10.0],
            &[10.0, 10.0],
            &LbfgsOptions {
                pgtol: 1e-8,
                ftol: 1e-15,
                ..Default::default()
            },
        )
        .x;
        assert!(
            (x[0] - 1.0).abs() < 1e-3 && (x[1] - 1.0).abs() < 1e-3,
            "{x:?}"
        );
    }

    #[test]
    fn a_failed_line_search_is_reported() {
        // f is finite only at the start point: every trial step is rejected.
        let r = minimize_bounded(
            |v: &[f64]| {
                if v[0] == 1.0 {
                    (1.0, vec![1.0])
                } else {
                    (f64::NAN, vec![f64::NAN])
                }
            },
            &[1.0],
            &[-5.0],
            &[5.0],
            &LbfgsOptions::default(),
        );
        assert_eq!(r.termination, Termination::LineSearchFailed);
        assert_eq!(r.x, vec![1.0]);
        assert!(Termination::LineSearchFailed
            .to_string()
            .contains("line search"));
    }
}
