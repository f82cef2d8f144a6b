//! Dense linear algebra for the small symmetric positive definite systems
//! the areas solve (ridge regressions, LinUCB, linear Thompson sampling,
//! least-squares fits per topological order): row-major `Vec<f64>`
//! matrices, Cholesky factorisation and triangular solves. Plain loops in a
//! fixed order, so results are identical across machines.

use crate::{Error, Result};

/// Lower-triangular Cholesky factor `L` of the symmetric positive definite
/// `n x n` matrix `a + shift I` (row-major), `a + shift I = L L^T`. Errors
/// on a wrong size or on a pivot that is not a finite positive number
/// (naming the pivot).
pub fn cholesky_shifted(a: &[f64], n: usize, shift: f64) -> Result<Vec<f64>> {
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
            let mut s = a[i * n + j] + if i == j { shift } else { 0.0 };
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if !(s.is_finite() && s > 0.0) {
                    return Err(Error::invalid(
                        format!("pivot {i} of Cholesky"),
                        s,
                        "a finite number > 0 (a symmetric positive definite matrix)",
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

/// [`cholesky_shifted`] without a shift.
pub fn cholesky(a: &[f64], n: usize) -> Result<Vec<f64>> {
    cholesky_shifted(a, n, 0.0)
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

/// Solves `L L^T x = b` given the Cholesky factor `l`.
pub fn solve_cholesky(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    solve_upper_t(l, n, &solve_lower(l, n, b))
}

/// Solves `a x = b` for symmetric positive definite `a` via Cholesky.
pub fn solve_spd(a: &[f64], n: usize, b: &[f64]) -> Result<Vec<f64>> {
    Ok(solve_cholesky(&cholesky(a, n)?, n, b))
}

/// Dot product.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_and_rejects() {
        let a = [4.0, 2.0, 0.6, 2.0, 5.0, 1.0, 0.6, 1.0, 3.0];
        let b = [1.0, 2.0, 3.0];
        let x = solve_spd(&a, 3, &b).unwrap();
        for i in 0..3 {
            let r: f64 = (0..3).map(|j| a[i * 3 + j] * x[j]).sum();
            assert!((r - b[i]).abs() < 1e-12);
        }
        let e = cholesky(&[1.0, 2.0, 2.0, 1.0], 2).unwrap_err().to_string();
        assert!(e.contains("pivot 1"), "{e}");
        assert!(cholesky(&[1.0, 0.0, 0.0], 2).is_err());
        assert!(cholesky(&[f64::INFINITY], 1).is_err());
        // A shift makes a singular matrix definite.
        assert!(cholesky(&[1.0, 1.0, 1.0, 1.0], 2).is_err());
        assert!(cholesky_shifted(&[1.0, 1.0, 1.0, 1.0], 2, 1e-9).is_ok());
        assert_eq!(dot(&[1.0, 2.0], &[3.0, 4.0]), 11.0);
    }
}
