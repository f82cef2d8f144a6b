//! The dense tableau simplex method, one implementation for every area:
//! combopt's online-matching LPs (packing form, Dantzig's rule) and distdp's
//! MDP linear programs (standard form, two phases, Bland's rule).
//!
//! Sized for LPs of hundreds of variables and rows: the tableau is dense and
//! every pivot touches all of it. For MILP-scale work a sparse revised
//! simplex would be needed.
//!
//! Two entry points share one pivoting engine:
//! - [`minimize_standard`]: `min c^T x  s.t.  A x = b, x >= 0`, by the
//!   two-phase method (phase 1 minimises the sum of artificial variables);
//! - [`maximize_packing`]: `max c^T x  s.t.  A x <= b, x >= 0` with `b >= 0`,
//!   where the slack basis is feasible, so no phase 1 runs.
//!
//! Ties in the ratio test go to the smallest basis index (Bland), and
//! [`PivotRule`] chooses the entering column. Bland's rule cannot cycle
//! (Bland 1977); Dantzig's largest-coefficient rule is faster in practice
//! and falls back to Bland's after a degenerate pivot.

use serde::{Deserialize, Serialize};

use crate::check;
use crate::error::{Error, Result};

/// How the entering column is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PivotRule {
    /// The lowest-index column with a negative reduced cost (Bland 1977);
    /// never cycles.
    Bland,
    /// The most negative reduced cost (Dantzig), switching to Bland's rule
    /// for the next pivot after a degenerate (zero-step) pivot.
    DantzigThenBland,
}

/// Options of the simplex method.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimplexOptions {
    rule: PivotRule,
    tolerance: f64,
    max_pivots: usize,
}

impl SimplexOptions {
    /// Options with the given entering rule, tolerance `1e-10` (a reduced
    /// cost or pivot element smaller than this counts as zero) and at most
    /// 1,000,000 pivots.
    pub fn new(rule: PivotRule) -> Self {
        SimplexOptions {
            rule,
            tolerance: 1e-10,
            max_pivots: 1_000_000,
        }
    }

    /// Sets the zero tolerance.
    ///
    /// # Errors
    /// A tolerance that is not finite and `> 0`.
    pub fn with_tolerance(mut self, tolerance: f64) -> Result<Self> {
        check::positive("simplex tolerance", tolerance)?;
        self.tolerance = tolerance;
        Ok(self)
    }

    /// Sets the pivot budget (an error is returned when it is spent).
    ///
    /// # Errors
    /// `max_pivots == 0`.
    pub fn with_max_pivots(mut self, max_pivots: usize) -> Result<Self> {
        check::at_least("max_pivots", max_pivots, 1)?;
        self.max_pivots = max_pivots;
        Ok(self)
    }

    /// The entering rule.
    pub fn rule(&self) -> PivotRule {
        self.rule
    }

    /// The zero tolerance.
    pub fn tolerance(&self) -> f64 {
        self.tolerance
    }

    /// The pivot budget.
    pub fn max_pivots(&self) -> usize {
        self.max_pivots
    }
}

impl Default for SimplexOptions {
    /// Bland's rule.
    fn default() -> Self {
        SimplexOptions::new(PivotRule::Bland)
    }
}

/// An optimal basic solution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LpSolution {
    /// Optimal point (the original variables only).
    pub x: Vec<f64>,
    /// Optimal objective value, in the problem's own sense (the minimum for
    /// [`minimize_standard`], the maximum for [`maximize_packing`]).
    pub objective: f64,
    /// Simplex pivots used (all phases).
    pub pivots: usize,
}

/// Checks `A` (one row per constraint) against `b` and `c`.
fn check_problem(a: &[Vec<f64>], b: &[f64], c: &[f64]) -> Result<()> {
    check::same_len("A rows", a.len(), "b", b.len())?;
    check::finite("b", b)?;
    check::finite("c", c)?;
    for (i, row) in a.iter().enumerate() {
        check::same_len(&format!("A row {i}"), row.len(), "c", c.len())?;
        check::finite(&format!("A row {i}"), row)?;
    }
    Ok(())
}

/// A dense tableau: `m` constraint rows of width `w` (the last column is the
/// right-hand side), the objective row of reduced costs (its last entry is
/// minus the objective value), and the basic variable of each row.
struct Tableau {
    rows: Vec<f64>,
    obj: Vec<f64>,
    basis: Vec<usize>,
    m: usize,
    w: usize,
    pivots: usize,
}

impl Tableau {
    /// A tableau of `m` rows as wide as `obj` (`w`) whose starting
    /// basis is columns `n..n + m` (the slack or artificial identity block
    /// both callers place right after the `n` structural columns).
    fn with_slack_basis(rows: Vec<f64>, obj: Vec<f64>, n: usize, m: usize) -> Self {
        let w = obj.len();
        Tableau {
            rows,
            obj,
            basis: (n..n + m).collect(),
            m,
            w,
            pivots: 0,
        }
    }

    fn rhs(&self, i: usize) -> f64 {
        self.rows[i * self.w + self.w - 1]
    }

    /// Pivots on row `r`, column `c`: normalise the pivot row, eliminate the
    /// column from every other row and from the objective.
    fn pivot(&mut self, r: usize, c: usize) {
        let w = self.w;
        let p = self.rows[r * w + c];
        for v in &mut self.rows[r * w..(r + 1) * w] {
            *v /= p;
        }
        let (before, rest) = self.rows.split_at_mut(r * w);
        let (pivot_row, after) = rest.split_at_mut(w);
        for row in before.chunks_mut(w).chain(after.chunks_mut(w)) {
            let f = row[c];
            if f != 0.0 {
                for (v, pv) in row.iter_mut().zip(pivot_row.iter()) {
                    *v -= f * pv;
                }
            }
        }
        let f = self.obj[c];
        if f != 0.0 {
            for (v, pv) in self.obj.iter_mut().zip(pivot_row.iter()) {
                *v -= f * pv;
            }
        }
        self.basis[r] = c;
        self.pivots += 1;
    }

    /// Runs simplex pivots until no column below `allowed` has a negative
    /// reduced cost.
    fn optimise(&mut self, allowed: usize, opts: &SimplexOptions) -> Result<()> {
        let eps = opts.tolerance;
        let mut bland = opts.rule == PivotRule::Bland;
        loop {
            let reduced = &self.obj[..allowed];
            let enter = if bland {
                reduced.iter().position(|&v| v < -eps)
            } else {
                reduced
                    .iter()
                    .enumerate()
                    .filter(|(_, &v)| v < -eps)
                    .min_by(|a, b| a.1.total_cmp(b.1))
                    .map(|(j, _)| j)
            };
            let Some(enter) = enter else {
                return Ok(());
            };
            // Ratio test; ties within eps go to the smallest basis index.
            let mut leave: Option<(f64, usize)> = None;
            for i in 0..self.m {
                let aij = self.rows[i * self.w + enter];
                if aij > eps {
                    let ratio = self.rhs(i) / aij;
                    let better = match leave {
                        None => true,
                        Some((r, li)) => {
                            ratio < r - eps || (ratio <= r + eps && self.basis[i] < self.basis[li])
                        }
                    };
                    if better {
                        leave = Some((ratio, i));
                    }
                }
            }
            let Some((ratio, row)) = leave else {
                return Err(Error::invalid(
                    "LP",
                    format!("unbounded along column {enter}"),
                    "a bounded linear program",
                ));
            };
            if self.pivots >= opts.max_pivots {
                return Err(Error::invalid(
                    "simplex pivots",
                    self.pivots,
                    format!("at most max_pivots = {}", opts.max_pivots),
                ));
            }
            if opts.rule == PivotRule::DantzigThenBland {
                bland = ratio <= eps;
            }
            self.pivot(row, enter);
        }
    }

    /// The values of the first `n` variables in the current basis.
    fn solution(&self, n: usize) -> Vec<f64> {
        let mut x = vec![0.0; n];
        for (i, &bv) in self.basis.iter().enumerate() {
            if bv < n {
                x[bv] = self.rhs(i);
            }
        }
        x
    }
}

/// Solves `min c^T x` s.t. `A x = b`, `x >= 0` (`a` has one row per
/// constraint) by the two-phase tableau simplex. Rows with `b_i < 0` are
/// negated first; phase 1 minimises the sum of one artificial variable per
/// row, artificials left basic at zero (redundant rows) are pivoted out
/// where possible, and phase 2 optimises `c` with artificial columns barred
/// from entering.
///
/// # Errors
/// Mismatched sizes or non-finite entries (naming them), an infeasible
/// problem (phase-1 optimum above `1e-8`), an unbounded one, or a spent pivot
/// budget.
pub fn minimize_standard(
    a: &[Vec<f64>],
    b: &[f64],
    c: &[f64],
    opts: &SimplexOptions,
) -> Result<LpSolution> {
    check_problem(a, b, c)?;
    let (m, n) = (a.len(), c.len());
    let w = n + m + 1;
    let rhs = w - 1;
    let mut rows = vec![0.0; m * w];
    for i in 0..m {
        let sign = if b[i] < 0.0 { -1.0 } else { 1.0 };
        for j in 0..n {
            rows[i * w + j] = sign * a[i][j];
        }
        rows[i * w + n + i] = 1.0;
        rows[i * w + rhs] = sign * b[i];
    }
    // Phase 1 objective: the sum of artificials, priced out of the basis.
    let mut obj = vec![0.0; w];
    for v in &mut obj[n..n + m] {
        *v = 1.0;
    }
    for row in rows.chunks(w) {
        for (o, v) in obj.iter_mut().zip(row) {
            *o -= v;
        }
    }
    let mut t = Tableau::with_slack_basis(rows, obj, n, m);
    t.optimise(n + m, opts)?;
    if -t.obj[rhs] > 1e-8 {
        return Err(Error::invalid(
            "LP",
            format!("infeasible (phase-1 optimum {:e} > 0)", -t.obj[rhs]),
            "a feasible linear program",
        ));
    }
    for i in 0..m {
        if t.basis[i] >= n {
            if let Some(j) = (0..n).find(|&j| t.rows[i * w + j].abs() > opts.tolerance) {
                t.pivot(i, j);
            }
        }
    }
    // Phase 2: the real objective, priced out of the current basis.
    let mut obj = vec![0.0; w];
    obj[..n].copy_from_slice(c);
    for (i, &bi) in t.basis.iter().enumerate() {
        let cb = if bi < n { c[bi] } else { 0.0 };
        if cb != 0.0 {
            for (o, v) in obj.iter_mut().zip(&t.rows[i * w..(i + 1) * w]) {
                *o -= cb * v;
            }
        }
    }
    t.obj = obj;
    t.optimise(n, opts)?;
    let x = t.solution(n);
    let objective = c.iter().zip(&x).map(|(ci, xi)| ci * xi).sum();
    Ok(LpSolution {
        x,
        objective,
        pivots: t.pivots,
    })
}

/// Solves `max c^T x` s.t. `A x <= b`, `x >= 0` with `b >= 0` (`a` has one
/// row per constraint). The origin is feasible, so the simplex starts from
/// the slack basis without a phase 1.
///
/// # Errors
/// Mismatched sizes or non-finite entries, a negative `b_i` (naming it), an
/// unbounded problem, or a spent pivot budget.
pub fn maximize_packing(
    c: &[f64],
    a: &[Vec<f64>],
    b: &[f64],
    opts: &SimplexOptions,
) -> Result<LpSolution> {
    check_problem(a, b, c)?;
    if let Some(i) = b.iter().position(|&v| v < 0.0) {
        return Err(Error::invalid(
            format!("b[{i}]"),
            b[i],
            "a right-hand side >= 0",
        ));
    }
    let (m, n) = (a.len(), c.len());
    // Tableau [A | I | b]; minimising -c^T x, so the objective row starts
    // at [-c | 0 | 0] and its last entry ends at the maximum of c^T x.
    let w = n + m + 1;
    let mut rows = vec![0.0; m * w];
    for i in 0..m {
        rows[i * w..i * w + n].copy_from_slice(&a[i]);
        rows[i * w + n + i] = 1.0;
        rows[i * w + w - 1] = b[i];
    }
    let mut obj = vec![0.0; w];
    for j in 0..n {
        obj[j] = -c[j];
    }
    let mut t = Tableau::with_slack_basis(rows, obj, n, m);
    t.optimise(n + m, opts)?;
    Ok(LpSolution {
        x: t.solution(n),
        objective: t.obj[w - 1],
        pivots: t.pivots,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_textbook_lp_under_both_rules() {
        // max 3x + 5y s.t. x <= 4, 2y <= 12, 3x + 2y <= 18 -> 36 at (2, 6).
        let a = [vec![1.0, 0.0], vec![0.0, 2.0], vec![3.0, 2.0]];
        for rule in [PivotRule::Bland, PivotRule::DantzigThenBland] {
            let s = maximize_packing(
                &[3.0, 5.0],
                &a,
                &[4.0, 12.0, 18.0],
                &SimplexOptions::new(rule),
            )
            .unwrap();
            assert!((s.objective - 36.0).abs() < 1e-9, "{rule:?}");
            assert!((s.x[0] - 2.0).abs() < 1e-9 && (s.x[1] - 6.0).abs() < 1e-9);
        }
        let opts = SimplexOptions::default();
        let e = maximize_packing(&[1.0], &[vec![-1.0]], &[1.0], &opts).unwrap_err();
        assert!(e.to_string().contains("unbounded"), "{e}");
        let e = maximize_packing(&[1.0], &[vec![1.0]], &[-1.0], &opts).unwrap_err();
        assert!(e.to_string().contains("b[0]"), "{e}");
    }

    #[test]
    fn standard_form_two_phases() {
        // min -x1 - x2 s.t. x1 + x2 + s1 = 4, x1 + 3 x2 + s2 = 6 -> -4.
        let a = vec![vec![1.0, 1.0, 1.0, 0.0], vec![1.0, 3.0, 0.0, 1.0]];
        let opts = SimplexOptions::default();
        let s = minimize_standard(&a, &[4.0, 6.0], &[-1.0, -1.0, 0.0, 0.0], &opts).unwrap();
        assert!((s.objective + 4.0).abs() < 1e-12);
        // A negative right-hand side and a redundant row.
        let a = vec![vec![-1.0, -1.0], vec![2.0, 2.0], vec![1.0, -1.0]];
        let s = minimize_standard(&a, &[-2.0, 4.0, 0.0], &[1.0, 3.0], &opts).unwrap();
        assert!((s.objective - 4.0).abs() < 1e-9 && (s.x[0] - 1.0).abs() < 1e-9);
        let e = minimize_standard(&[vec![1.0]], &[-1.0], &[1.0], &opts).unwrap_err();
        assert!(e.to_string().contains("infeasible"), "{e}");
        let e = minimize_standard(&[vec![1.0, -1.0]], &[0.0], &[-1.0, 0.0], &opts).unwrap_err();
        assert!(e.to_string().contains("unbounded"), "{e}");
        let e = minimize_standard(&[vec![1.0]], &[1.0, 2.0], &[1.0], &opts).unwrap_err();
        assert!(e.to_string().contains("b"), "{e}");
    }

    #[test]
    fn pivot_budget_is_an_error() {
        let a = vec![vec![1.0, 1.0, 1.0, 0.0], vec![1.0, 3.0, 0.0, 1.0]];
        let opts = SimplexOptions::default().with_max_pivots(1).unwrap();
        let e = minimize_standard(&a, &[4.0, 6.0], &[-1.0, -1.0, 0.0, 0.0], &opts).unwrap_err();
        assert!(e.to_string().contains("max_pivots"), "{e}");
        assert!(SimplexOptions::default().with_tolerance(0.0).is_err());
    }
}
