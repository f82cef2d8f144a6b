//! A dense primal simplex for `max c^T x  s.t.  A x <= b, x >= 0` with
//! `b >= 0` (the origin is feasible, so no phase 1 is needed). Dantzig's
//! rule with Bland's rule after degenerate pivots to prevent cycling.
//! Sized for the offline LP of online matching (hundreds of variables).

use duality_core::{Error, Result};

/// Optimal value and solution of a packing LP.
#[derive(Debug, Clone, PartialEq)]
pub struct LpSolution {
    /// Optimal objective value.
    pub value: f64,
    /// Optimal `x`.
    pub x: Vec<f64>,
}

/// Solves `max c^T x  s.t.  A x <= b, x >= 0` (`a` has one row per constraint).
pub fn maximize_packing(c: &[f64], a: &[Vec<f64>], b: &[f64]) -> Result<LpSolution> {
    let n = c.len();
    let m = a.len();
    duality_core::check::same_len("constraint rows", m, "b", b.len())?;
    duality_core::check::finite("c", c)?;
    duality_core::check::finite("b", b)?;
    for (i, row) in a.iter().enumerate() {
        duality_core::check::same_len(&format!("A row {i}"), row.len(), "c", n)?;
        duality_core::check::finite(&format!("A row {i}"), row)?;
    }
    if let Some(i) = b.iter().position(|&v| v < 0.0) {
        return Err(Error::invalid(
            format!("b[{i}]"),
            b[i],
            "a right-hand side >= 0",
        ));
    }
    // Tableau: m rows of [A | I | b], objective row of [-c | 0 | 0].
    let w = n + m + 1;
    let mut t = vec![0.0; (m + 1) * w];
    for i in 0..m {
        t[i * w..i * w + n].copy_from_slice(&a[i]);
        t[i * w + n + i] = 1.0;
        t[i * w + w - 1] = b[i];
    }
    for j in 0..n {
        t[m * w + j] = -c[j];
    }
    let mut basis: Vec<usize> = (n..n + m).collect();
    const EPS: f64 = 1e-12;
    let mut bland = false;
    for _ in 0..50_000 {
        // Entering column.
        let obj = &t[m * w..m * w + n + m];
        let enter = if bland {
            obj.iter().position(|&v| v < -EPS)
        } else {
            obj.iter()
                .enumerate()
                .filter(|(_, &v)| v < -EPS)
                .min_by(|a, b| a.1.total_cmp(b.1))
                .map(|(j, _)| j)
        };
        let Some(enter) = enter else { break };
        // Ratio test (ties: smallest basis index, Bland).
        let mut leave: Option<(f64, usize)> = None;
        for i in 0..m {
            let aij = t[i * w + enter];
            if aij > EPS {
                let ratio = t[i * w + w - 1] / aij;
                let better = match leave {
                    None => true,
                    Some((r, li)) => ratio < r - EPS || (ratio <= r + EPS && basis[i] < basis[li]),
                };
                if better {
                    leave = Some((ratio, i));
                }
            }
        }
        let Some((ratio, row)) = leave else {
            return Err(Error::invalid("LP", "unbounded", "a bounded packing LP"));
        };
        bland = ratio <= EPS;
        let piv = t[row * w + enter];
        for j in 0..w {
            t[row * w + j] /= piv;
        }
        for i in 0..=m {
            if i != row {
                let f = t[i * w + enter];
                if f != 0.0 {
                    for j in 0..w {
                        t[i * w + j] -= f * t[row * w + j];
                    }
                }
            }
        }
        basis[row] = enter;
    }
    let mut x = vec![0.0; n];
    for (i, &bv) in basis.iter().enumerate() {
        if bv < n {
            x[bv] = t[i * w + w - 1];
        }
    }
    Ok(LpSolution {
        value: t[m * w + w - 1],
        x,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_lp() {
        // max 3x + 5y s.t. x <= 4, 2y <= 12, 3x + 2y <= 18 -> 36 at (2, 6).
        let s = maximize_packing(
            &[3.0, 5.0],
            &[vec![1.0, 0.0], vec![0.0, 2.0], vec![3.0, 2.0]],
            &[4.0, 12.0, 18.0],
        )
        .unwrap();
        assert!((s.value - 36.0).abs() < 1e-9);
        assert!((s.x[0] - 2.0).abs() < 1e-9 && (s.x[1] - 6.0).abs() < 1e-9);
        assert!(maximize_packing(&[1.0], &[vec![-1.0]], &[1.0]).is_err());
    }
}
