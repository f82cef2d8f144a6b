//! Small dense linear algebra for DAG learning (d x d matrices, row-major);
//! the Cholesky solves come from [`duality_core::numerics::dense`].

use duality_core::numerics::dense::solve_spd_regularised;

/// `C = A B` for `d x d` matrices.
pub(crate) fn matmul(a: &[f64], b: &[f64], d: usize) -> Vec<f64> {
    let mut c = vec![0.0; d * d];
    for i in 0..d {
        for k in 0..d {
            let aik = a[i * d + k];
            if aik == 0.0 {
                continue;
            }
            for j in 0..d {
                c[i * d + j] += aik * b[k * d + j];
            }
        }
    }
    c
}

/// Matrix exponential by scaling and squaring with a degree-18 Taylor
/// polynomial: scale so that the 1-norm is at most 1/2 (truncation error
/// below 1e-22 relative), then square. NOTEARS only exponentiates the
/// non-negative matrix W o W, where the series has no cancellation.
pub(crate) fn expm(a: &[f64], d: usize) -> Vec<f64> {
    let norm = (0..d)
        .map(|j| (0..d).map(|i| a[i * d + j].abs()).sum::<f64>())
        .fold(0.0, f64::max);
    let mut s = 0;
    let mut scale = 1.0;
    while norm * scale > 0.5 {
        scale *= 0.5;
        s += 1;
    }
    let scaled: Vec<f64> = a.iter().map(|x| x * scale).collect();
    let mut result = identity(d);
    let mut term = identity(d);
    for k in 1..=18 {
        term = matmul(&term, &scaled, d);
        let inv = 1.0 / k as f64;
        term.iter_mut().for_each(|x| *x *= inv);
        for (r, t) in result.iter_mut().zip(&term) {
            *r += t;
        }
    }
    for _ in 0..s {
        result = matmul(&result, &result, d);
    }
    result
}

pub(crate) fn identity(d: usize) -> Vec<f64> {
    let mut m = vec![0.0; d * d];
    for i in 0..d {
        m[i * d + i] = 1.0;
    }
    m
}

/// Solves the symmetric positive (semi-)definite system `A x = b` with
/// duality-core's regularised Cholesky (a tiny ridge when `A` is numerically
/// singular).
pub(crate) fn solve_spd(a: &[f64], b: &[f64], k: usize) -> Vec<f64> {
    // `a` is a covariance submatrix of finite, validated data, hence PSD, and
    // the regularised solve succeeds; zero weights (no parent contributes)
    // are the fallback for the case that cannot occur.
    solve_spd_regularised(a, k, b).unwrap_or_else(|_| vec![0.0; k])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expm_of_nilpotent_and_diagonal() {
        // exp([[0,1],[0,0]]) = [[1,1],[0,1]]; exp(diag(2)) = e^2.
        let e = expm(&[0.0, 1.0, 0.0, 0.0], 2);
        assert!((e[1] - 1.0).abs() < 1e-14 && (e[0] - 1.0).abs() < 1e-14);
        let e = expm(&[2.0, 0.0, 0.0, 2.0], 2);
        assert!((e[0] - 2f64.exp()).abs() < 1e-12);
        let x = solve_spd(&[4.0, 1.0, 1.0, 3.0], &[1.0, 2.0], 2);
        assert!((4.0 * x[0] + x[1] - 1.0).abs() < 1e-12 && (x[0] + 3.0 * x[1] - 2.0).abs() < 1e-12);
    }
}
