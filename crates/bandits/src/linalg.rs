//! Dense linear algebra for small systems (ridge regressions, LinUCB, linear
//! Thompson sampling): row-major `Vec<f64>` matrices, Cholesky factorisation
//! and triangular solves. Plain, portable loops so results are identical
//! across machines.

use duality_core::{Error, Result};

/// Lower-triangular Cholesky factor `L` of a symmetric positive definite
/// `n x n` matrix `a` (row-major), `a = L L^T`.
pub fn cholesky(a: &[f64], n: usize) -> Result<Vec<f64>> {
    if a.len() != n * n {
        return Err(Error::Shape {
            what: "matrix for Cholesky".into(),
            expected: vec![n, n],
            got: vec![a.len()],
        });
    }
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if s.is_nan() || s <= 0.0 {
                    return Err(Error::invalid(
                        format!("pivot {i} of Cholesky"),
                        s,
                        "> 0 (a symmetric positive definite matrix)",
                    ));
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    Ok(l)
}

/// Solves `L y = b` (forward substitution) for lower-triangular `l`.
pub fn solve_lower(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; n];
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * n + k] * y[k];
        }
        y[i] = s / l[i * n + i];
    }
    y
}

/// Solves `L^T x = y` (back substitution) for lower-triangular `l`.
pub fn solve_upper_t(l: &[f64], n: usize, y: &[f64]) -> Vec<f64> {
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let mut s = y[i];
        for k in i + 1..n {
            s -= l[k * n + i] * x[k];
        }
        x[i] = s / l[i * n + i];
    }
    x
}

/// Solves `a x = b` for symmetric positive definite `a` via Cholesky.
pub fn solve_spd(a: &[f64], n: usize, b: &[f64]) -> Result<Vec<f64>> {
    let l = cholesky(a, n)?;
    Ok(solve_upper_t(&l, n, &solve_lower(&l, n, b)))
}

/// Ridge regression `argmin_w |X w - y|^2 + lambda |w|^2` (rows of `x` are
/// samples of dimension `d`).
pub fn ridge(x: &[Vec<f64>], y: &[f64], d: usize, lambda: f64) -> Result<Vec<f64>> {
    let mut a = vec![0.0; d * d];
    let mut b = vec![0.0; d];
    for i in 0..d {
        a[i * d + i] = lambda;
    }
    for (row, &t) in x.iter().zip(y) {
        for i in 0..d {
            b[i] += row[i] * t;
            for j in 0..d {
                a[i * d + j] += row[i] * row[j];
            }
        }
    }
    solve_spd(&a, d, &b)
}

/// Dot product.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn cholesky_solves() {
        let a = [4.0, 2.0, 0.6, 2.0, 5.0, 1.0, 0.6, 1.0, 3.0];
        let b = [1.0, 2.0, 3.0];
        let x = solve_spd(&a, 3, &b).unwrap();
        for i in 0..3 {
            let r: f64 = (0..3).map(|j| a[i * 3 + j] * x[j]).sum();
            assert_relative_eq!(r, b[i], epsilon = 1e-12);
        }
        assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2).is_err());
    }
}
