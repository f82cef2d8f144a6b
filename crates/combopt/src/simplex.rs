//! The packing LP of online matching's offline benchmark,
//! `max c^T x  s.t.  A x <= b, x >= 0` with `b >= 0`, solved by the
//! workspace's one simplex ([`duality_core::numerics::simplex`]) with
//! Dantzig's rule (Bland's after a degenerate pivot) at tolerance `1e-12`.

use duality_core::numerics::simplex::{self, PivotRule, SimplexOptions};
use duality_core::Result;

pub use duality_core::numerics::simplex::LpSolution;

/// Solves `max c^T x  s.t.  A x <= b, x >= 0` (`a` has one row per
/// constraint); see [`simplex::maximize_packing`] for the errors.
pub fn maximize_packing(c: &[f64], a: &[Vec<f64>], b: &[f64]) -> Result<LpSolution> {
    let opts = SimplexOptions::new(PivotRule::DantzigThenBland).with_tolerance(1e-12)?;
    simplex::maximize_packing(c, a, b, &opts)
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
        assert!((s.objective - 36.0).abs() < 1e-9);
        assert!((s.x[0] - 2.0).abs() < 1e-9 && (s.x[1] - 6.0).abs() < 1e-9);
        assert!(maximize_packing(&[1.0], &[vec![-1.0]], &[1.0]).is_err());
    }
}
