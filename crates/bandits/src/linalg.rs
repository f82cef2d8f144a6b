//! Ridge regression for the linear and contextual policies, on the dense
//! Cholesky solves of [`duality_core::linalg`] (re-exported here).

use duality_core::Result;

pub use duality_core::linalg::{cholesky, dot, solve_spd};

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
