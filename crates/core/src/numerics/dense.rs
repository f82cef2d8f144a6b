//! Dense linear algebra for the small systems the areas solve: row-major
//! `Vec<f64>` matrices, plain loops in a fixed order (so results are
//! identical across machines).
//!
//! - symmetric positive definite systems (ridge regressions, LinUCB, linear
//!   Thompson sampling, least-squares fits per topological order):
//!   [`cholesky`], [`solve_spd`], and [`solve_spd_regularised`], which adds
//!   the smallest ridge that makes a numerically singular Gram matrix
//!   definite;
//! - general square systems (policy evaluation `(I - gamma P) V = r`,
//!   L-BFGS-B's compact-form middle matrix, regression normal equations):
//!   [`solve_lu`], Gaussian elimination with partial pivoting.

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

/// Solves the symmetric positive (semi-)definite system `a x = b` by
/// Cholesky. When `a` is numerically singular, a ridge `r I` is added,
/// starting at `1e-12 * max_i a_ii` and growing tenfold until the
/// factorisation succeeds, up to `1e-2 * max_i a_ii`: a larger ridge would no
/// longer be a rounding repair but a different system.
///
/// # Errors
/// A wrong size, or a matrix that no ridge up to `1e-2 * max_i a_ii` makes
/// definite (non-finite entries, or not positive semi-definite).
pub fn solve_spd_regularised(a: &[f64], n: usize, b: &[f64]) -> Result<Vec<f64>> {
    crate::check::same_len("right-hand side", b.len(), "matrix size", n)?;
    let scale = (0..n.min(a.len()))
        .map(|i| a.get(i * n + i).copied().unwrap_or(0.0))
        .fold(0.0, f64::max)
        .max(1e-300);
    let mut ridge = 0.0;
    let mut last = None;
    for _ in 0..12 {
        match cholesky_shifted(a, n, ridge) {
            Ok(l) => return Ok(solve_cholesky(&l, n, b)),
            Err(e @ Error::Shape { .. }) => return Err(e),
            Err(e) => last = Some(e),
        }
        ridge = if ridge == 0.0 {
            1e-12 * scale
        } else {
            ridge * 10.0
        };
    }
    Err(last.unwrap_or_else(|| Error::invalid("matrix", "not definite", "a PSD matrix")))
}

/// Solves the square system `a x = b` (`a` row-major `n x n`) by Gaussian
/// elimination with partial pivoting and back substitution. `a` and `b` are
/// consumed as workspace.
///
/// # Errors
/// A wrong size; a pivot whose magnitude is below `min_pivot` (the matrix is
/// numerically singular: the message names the column); or a non-finite
/// solution.
pub fn solve_lu(mut a: Vec<f64>, mut b: Vec<f64>, n: usize, min_pivot: f64) -> Result<Vec<f64>> {
    if a.len() != n * n {
        return Err(Error::Shape {
            what: "matrix for the LU solve".into(),
            expected: vec![n, n],
            got: vec![a.len()],
        });
    }
    crate::check::same_len("right-hand side", b.len(), "matrix size", n)?;
    for col in 0..n {
        let piv = (col..n)
            .max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs()))
            .unwrap_or(col);
        let magnitude = a[piv * n + col].abs();
        if magnitude.is_nan() || magnitude < min_pivot {
            return Err(Error::invalid(
                format!("pivot of column {col}"),
                a[piv * n + col],
                format!("magnitude >= {min_pivot:e} (the matrix is numerically singular)"),
            ));
        }
        if piv != col {
            for j in 0..n {
                a.swap(piv * n + j, col * n + j);
            }
            b.swap(piv, col);
        }
        for i in col + 1..n {
            let f = a[i * n + col] / a[col * n + col];
            if f != 0.0 {
                for j in col..n {
                    a[i * n + j] -= f * a[col * n + j];
                }
                b[i] -= f * b[col];
            }
        }
    }
    for i in (0..n).rev() {
        let mut v = b[i];
        for j in i + 1..n {
            v -= a[i * n + j] * b[j];
        }
        b[i] = v / a[i * n + i];
    }
    if let Some(i) = b.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(
            format!("solution component {i}"),
            b[i],
            "a finite number (the system is too ill-conditioned)",
        ));
    }
    Ok(b)
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

    #[test]
    fn lu_solves_general_systems_and_names_singular_columns() {
        // Needs a row swap: a[0][0] = 0.
        let a = vec![0.0, 2.0, 1.0, 1.0, 1.0, 0.0, 2.0, 0.0, 3.0];
        let b = vec![3.0, 2.0, 5.0];
        let x = solve_lu(a.clone(), b.clone(), 3, 1e-14).unwrap();
        for i in 0..3 {
            let r: f64 = (0..3).map(|j| a[i * 3 + j] * x[j]).sum();
            assert!((r - b[i]).abs() < 1e-12, "row {i}: {r}");
        }
        let e = solve_lu(vec![1.0, 2.0, 2.0, 4.0], vec![1.0, 1.0], 2, 1e-14).unwrap_err();
        assert!(e.to_string().contains("column 1"), "{e}");
        assert!(solve_lu(vec![1.0; 3], vec![1.0; 2], 2, 1e-14).is_err());
        assert!(solve_lu(vec![f64::NAN], vec![1.0], 1, 1e-14).is_err());
    }

    #[test]
    fn regularised_spd_solve_handles_singular_gram_matrices() {
        let x = solve_spd_regularised(&[4.0, 1.0, 1.0, 3.0], 2, &[1.0, 2.0]).unwrap();
        assert!((4.0 * x[0] + x[1] - 1.0).abs() < 1e-12);
        // Rank one: the ridge makes it solvable, and the solution is finite.
        let x = solve_spd_regularised(&[1.0, 1.0, 1.0, 1.0], 2, &[2.0, 2.0]).unwrap();
        assert!(x.iter().all(|v| v.is_finite()));
        assert!((x[0] + x[1] - 2.0).abs() < 1e-3);
        assert!(solve_spd_regularised(&[1.0, 0.0, 0.0, -1.0], 2, &[1.0, 1.0]).is_err());
    }
}
