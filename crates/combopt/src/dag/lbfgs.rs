//! A projected L-BFGS for bound-constrained smooth problems (`lo <= x <= hi`).
//!
//! NOTEARS minimises over `w+ >= 0, w- >= 0` with L-BFGS-B. This solver is a
//! simpler projected variant (in the spirit of Kim, Sra & Dhillon 2010,
//! "Tackling box-constrained optimization via a new projected quasi-Newton
//! approach"): variables at a bound whose gradient pushes outward are held
//! fixed, the two-loop L-BFGS direction is computed on the free variables,
//! and a backtracking Armijo search runs along the projected path. Stopping
//! mirrors scipy's L-BFGS-B defaults (`pgtol = 1e-5`, relative decrease
//! `ftol = 2.2e-9`). It lacks L-BFGS-B's generalised Cauchy point.

/// Options of [`minimize_bounded`].
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

fn project(x: &mut [f64], lo: &[f64], hi: &[f64]) {
    for ((v, l), h) in x.iter_mut().zip(lo).zip(hi) {
        *v = v.clamp(*l, *h);
    }
}

/// Minimises `f` (returning value and gradient) over the box `[lo, hi]`
/// from `x0`. Returns the final point.
pub fn minimize_bounded(
    mut f: impl FnMut(&[f64]) -> (f64, Vec<f64>),
    x0: &[f64],
    lo: &[f64],
    hi: &[f64],
    opts: &LbfgsOptions,
) -> Vec<f64> {
    let n = x0.len();
    let mut x = x0.to_vec();
    project(&mut x, lo, hi);
    let (mut fx, mut g) = f(&x);
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    for _ in 0..opts.max_iter {
        // Free variables: not stuck at a bound with the gradient pushing out.
        let free: Vec<bool> = (0..n)
            .map(|i| {
                !((x[i] <= lo[i] && g[i] > 0.0) || (x[i] >= hi[i] && g[i] < 0.0) || lo[i] == hi[i])
            })
            .collect();
        let pg = (0..n)
            .filter(|&i| free[i])
            .map(|i| g[i].abs())
            .fold(0.0, f64::max);
        if pg < opts.pgtol {
            break;
        }
        // Two-loop recursion on the free subspace.
        let mut q: Vec<f64> = (0..n).map(|i| if free[i] { g[i] } else { 0.0 }).collect();
        let k = s_hist.len();
        let mut alpha = vec![0.0; k];
        let dot = |a: &[f64], b: &[f64]| -> f64 {
            (0..n).filter(|&i| free[i]).map(|i| a[i] * b[i]).sum()
        };
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
        let mut dir: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut slope: f64 = (0..n).map(|i| dir[i] * g[i]).sum();
        if slope >= 0.0 || !slope.is_finite() {
            // Not a descent direction: restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            dir = (0..n).map(|i| if free[i] { -g[i] } else { 0.0 }).collect();
            slope = (0..n).map(|i| dir[i] * g[i]).sum();
            if slope >= 0.0 {
                break;
            }
        }
        // First iteration without curvature: keep the step modest.
        let mut t = if k == 0 {
            (1.0 / dir.iter().map(|v| v.abs()).fold(0.0, f64::max)).min(1.0)
        } else {
            1.0
        };
        let mut accepted = None;
        for _ in 0..40 {
            let mut xn: Vec<f64> = (0..n).map(|i| x[i] + t * dir[i]).collect();
            project(&mut xn, lo, hi);
            let decrease: f64 = (0..n).map(|i| g[i] * (xn[i] - x[i])).sum();
            let (fn_, gn) = f(&xn);
            if fn_.is_finite() && fn_ <= fx + 1e-4 * decrease {
                accepted = Some((xn, fn_, gn));
                break;
            }
            t *= 0.5;
        }
        let Some((xn, fn_, gn)) = accepted else { break };
        let s: Vec<f64> = (0..n).map(|i| xn[i] - x[i]).collect();
        let y: Vec<f64> = (0..n).map(|i| gn[i] - g[i]).collect();
        let sy: f64 = s.iter().zip(&y).map(|(a, b)| a * b).sum();
        if sy > 1e-12 {
            s_hist.push(s);
            y_hist.push(y);
            if s_hist.len() > opts.memory {
                s_hist.remove(0);
                y_hist.remove(0);
            }
        }
        let rel = (fx - fn_) / fx.abs().max(fn_.abs()).max(1.0);
        x = xn;
        fx = fn_;
        g = gn;
        if rel <= opts.ftol {
            break;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

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
        );
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
        );
        assert!(
            (x[0] - 1.0).abs() < 1e-3 && (x[1] - 1.0).abs() < 1e-3,
            "{x:?}"
        );
    }
}
