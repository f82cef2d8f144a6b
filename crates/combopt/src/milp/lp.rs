//! The LP engine of branch-and-bound: a dense-tableau **bounded dual
//! simplex** with warm starts.
//!
//! The LP `min c^T x  s.t.  lo <= A x <= hi,  l <= x <= u` is written with
//! one logical variable per row, `A x + s = 0` with `-hi <= s <= -lo`, so
//! every variable (structural or logical) only has bounds and the slack
//! basis `B = I` is always a starting basis. Nonbasic variables sit at the
//! bound that makes their reduced cost dual feasible (a variable whose
//! needed bound is infinite sits at an *artificial* bound `±`[`BIG`]; an
//! optimum that keeps one there is reported [`LpStatus::Unbounded`]), so the
//! slack basis is dual feasible and the dual simplex (textbook bounded form,
//! e.g. Koberstein 2005, *The dual simplex method, techniques for a fast and
//! stable implementation*, Alg. 2 with the Harris two-pass ratio test and
//! bound flipping of boxed variables when bounds change) solves the LP
//! without a phase 1.
//!
//! Warm starts are what branch-and-bound needs: after a bound change the
//! previous optimal basis stays dual feasible (nonbasic boxed variables are
//! flipped to the bound matching their reduced cost), so re-solving a child
//! takes a few dual pivots. [`DualSimplex::basis`] saves a basis and
//! [`DualSimplex::load_basis`] rebuilds the tableau from it (Gauss-Jordan
//! on the basic columns with partial pivoting; a singular column is
//! replaced by its row's logical).
//!
//! Why not the workspace's [`duality_core::numerics::simplex`]: it solves
//! `min c^T x, A x = b, x >= 0` from scratch (two phases, no bounds, no
//! warm start), so every node would re-solve the whole LP with the bounds
//! as extra rows; `docs/combopt.md` has the measurement (root LP and a full
//! branch-and-bound on the same instances). The other engine
//! branch-and-bound can run on, the `microlp` crate, and the whole-search
//! comparison behind keeping this one the default are in
//! [`super::engine`].

use std::time::Instant;

use duality_core::limits;
use duality_core::{Error, Result};

use super::problem::Milp;

/// The artificial bound of a variable whose needed bound is infinite.
pub const BIG: f64 = 1e7;
/// Primal feasibility tolerance.
pub const PRIMAL_TOL: f64 = 1e-7;
/// Dual feasibility tolerance.
pub const DUAL_TOL: f64 = 1e-9;
/// Smallest pivot magnitude accepted.
const PIVOT_TOL: f64 = 1e-9;
/// Pivots between two refactorisations.
const REFACTOR_EVERY: usize = 100;

/// How an LP solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LpStatus {
    /// Optimal basis found.
    Optimal,
    /// No feasible point (the dual is unbounded).
    Infeasible,
    /// The optimum keeps a variable at an artificial bound.
    Unbounded,
    /// The objective passed the cutoff (a dual bound proves it).
    Cutoff,
    /// The iteration limit was reached.
    IterationLimit,
    /// The deadline passed.
    TimeLimit,
}

/// Position of a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Basic,
    Lower,
    Upper,
    Free,
}

/// A saved basis: the basic variable of each row and, for nonbasic
/// variables, whether they sit at their upper bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Basis {
    head: Vec<usize>,
    at_upper: Vec<bool>,
}

/// The dense bounded dual simplex over one problem's rows; bounds change
/// between solves (branching), the rows never do.
#[derive(Debug, Clone)]
pub struct DualSimplex {
    m: usize,
    n: usize,
    w: usize,
    /// Original `[A I]`, row-major `m x w`.
    a: Vec<f64>,
    cost: Vec<f64>,
    lb: Vec<f64>,
    ub: Vec<f64>,
    /// Tableau `B^-1 [A I]`, row-major `m x w`.
    t: Vec<f64>,
    d: Vec<f64>,
    head: Vec<usize>,
    status: Vec<Status>,
    x: Vec<f64>,
    since_refactor: usize,
    iterations: u64,
}

impl DualSimplex {
    /// The LP relaxation of `p` (minimisation form), at the slack basis.
    ///
    /// # Errors
    /// An invalid problem or a tableau beyond the memory budget.
    pub fn new(p: &Milp) -> Result<Self> {
        p.validate()?;
        let m = p.num_rows();
        let n = p.num_vars();
        let w = n + m;
        let cells = limits::product(&[("rows", m), ("rows + variables", w)])?;
        // Tableau and the original matrix, plus saved copies in strong branching.
        limits::check_memory(
            &format!("the dense LP tableau of {m} rows x {w} columns"),
            (cells as u128) * 8 * 3,
        )?;
        let mut a = vec![0.0; cells];
        for (i, row) in p.rows.iter().enumerate() {
            for &(j, v) in &row.coefs {
                a[i * w + j] = v;
            }
            a[i * w + n + i] = 1.0;
        }
        let mut cost = p.min_costs();
        cost.resize(w, 0.0);
        let mut lb = p.lower.clone();
        let mut ub = p.upper.clone();
        for row in &p.rows {
            lb.push(-row.upper);
            ub.push(-row.lower);
        }
        let mut lp = DualSimplex {
            m,
            n,
            w,
            t: a.clone(),
            a,
            cost,
            lb,
            ub,
            d: vec![0.0; w],
            head: (n..w).collect(),
            status: vec![Status::Lower; w],
            x: vec![0.0; w],
            since_refactor: 0,
            iterations: 0,
        };
        for i in 0..m {
            lp.status[n + i] = Status::Basic;
        }
        lp.compute_duals();
        lp.settle_nonbasics();
        lp.compute_primals();
        Ok(lp)
    }

    /// Number of structural variables.
    pub fn num_vars(&self) -> usize {
        self.n
    }

    /// Dual simplex pivots made so far (all solves).
    pub fn iterations(&self) -> u64 {
        self.iterations
    }

    /// Bounds of structural variable `j`.
    pub fn bounds(&self, j: usize) -> (f64, f64) {
        (self.lb[j], self.ub[j])
    }

    /// Changes the bounds of structural variable `j` (takes effect at the
    /// next [`DualSimplex::solve`]).
    pub fn set_bounds(&mut self, j: usize, lower: f64, upper: f64) {
        self.lb[j] = lower;
        self.ub[j] = upper;
    }

    /// Values of the structural variables at the current basis.
    pub fn x(&self) -> &[f64] {
        &self.x[..self.n]
    }

    /// Reduced costs of the structural variables.
    pub fn reduced_costs(&self) -> &[f64] {
        &self.d[..self.n]
    }

    /// Reduced costs of the row logicals (`s_i = -a_i^T x`): minus the
    /// row duals.
    pub fn row_reduced_costs(&self) -> &[f64] {
        &self.d[self.n..]
    }

    /// Whether structural `j` is basic.
    pub fn is_basic(&self, j: usize) -> bool {
        self.status[j] == Status::Basic
    }

    /// Whether structural `j` is nonbasic at its upper bound.
    pub fn at_upper(&self, j: usize) -> bool {
        self.status[j] == Status::Upper
    }

    /// The objective `c^T x` (minimisation form) of the current basic
    /// solution; a lower bound on the LP optimum while the basis is dual
    /// feasible.
    pub fn objective(&self) -> f64 {
        self.cost
            .iter()
            .zip(&self.x)
            .take(self.n)
            .map(|(c, v)| c * v)
            .sum()
    }

    /// The current basis.
    pub fn basis(&self) -> Basis {
        Basis {
            head: self.head.clone(),
            at_upper: self.status.iter().map(|s| *s == Status::Upper).collect(),
        }
    }

    /// Rebuilds the tableau from a saved basis (a warm start).
    ///
    /// # Errors
    /// A basis of another problem's size.
    pub fn load_basis(&mut self, basis: &Basis) -> Result<()> {
        if basis.head.len() != self.m || basis.at_upper.len() != self.w {
            return Err(Error::invalid(
                "basis size",
                format!(
                    "{} rows, {} columns",
                    basis.head.len(),
                    basis.at_upper.len()
                ),
                format!("{} rows, {} columns", self.m, self.w),
            ));
        }
        for j in 0..self.w {
            self.status[j] = if basis.at_upper[j] {
                Status::Upper
            } else {
                Status::Lower
            };
        }
        for &j in &basis.head {
            if j < self.w {
                self.status[j] = Status::Basic;
            }
        }
        self.refactor();
        Ok(())
    }

    /// Rebuilds `B^-1 [A I]` from the original matrix for the basic set in
    /// `status`, then reduced costs and values.
    fn refactor(&mut self) {
        let (m, n, w) = (self.m, self.n, self.w);
        self.t.copy_from_slice(&self.a);
        let mut assigned = vec![false; m];
        let mut head = vec![usize::MAX; m];
        for i in 0..m {
            if self.status[n + i] == Status::Basic {
                assigned[i] = true;
                head[i] = n + i;
            }
        }
        for j in 0..n {
            if self.status[j] != Status::Basic {
                continue;
            }
            let mut best = None;
            let mut best_abs = PIVOT_TOL * 100.0;
            for (i, done) in assigned.iter().enumerate() {
                if !done {
                    let v = self.t[i * w + j].abs();
                    if v > best_abs {
                        best_abs = v;
                        best = Some(i);
                    }
                }
            }
            match best {
                Some(r) => {
                    self.pivot_tableau(r, j);
                    assigned[r] = true;
                    head[r] = j;
                }
                None => self.status[j] = Status::Lower,
            }
        }
        for i in 0..m {
            if !assigned[i] {
                head[i] = n + i;
                self.status[n + i] = Status::Basic;
            }
        }
        self.head = head;
        self.since_refactor = 0;
        self.compute_duals();
        self.settle_nonbasics();
        self.compute_primals();
    }

    /// Gauss-Jordan pivot of the tableau on `(r, q)` (no cost row).
    fn pivot_tableau(&mut self, r: usize, q: usize) {
        let w = self.w;
        let piv = self.t[r * w + q];
        let inv = 1.0 / piv;
        for v in &mut self.t[r * w..(r + 1) * w] {
            *v *= inv;
        }
        let (before, rest) = self.t.split_at_mut(r * w);
        let (row_r, after) = rest.split_at_mut(w);
        for row in before.chunks_mut(w).chain(after.chunks_mut(w)) {
            let f = row[q];
            if f != 0.0 {
                for (v, p) in row.iter_mut().zip(row_r.iter()) {
                    *v -= f * p;
                }
                row[q] = 0.0;
            }
        }
    }

    fn compute_duals(&mut self) {
        let w = self.w;
        self.d.copy_from_slice(&self.cost);
        for (i, &h) in self.head.iter().enumerate() {
            let cb = self.cost[h];
            if cb != 0.0 {
                for (dj, tij) in self.d.iter_mut().zip(&self.t[i * w..(i + 1) * w]) {
                    *dj -= cb * tij;
                }
            }
        }
        for &h in &self.head {
            self.d[h] = 0.0;
        }
    }

    /// Puts every nonbasic variable at the bound its reduced cost asks for
    /// (bound flipping), keeping the previous side when the cost is zero.
    fn settle_nonbasics(&mut self) {
        for j in 0..self.w {
            let s = self.status[j];
            if s == Status::Basic {
                continue;
            }
            let (l, u, dj) = (self.lb[j], self.ub[j], self.d[j]);
            self.status[j] = if dj > DUAL_TOL {
                Status::Lower
            } else if dj < -DUAL_TOL || (s == Status::Upper && u.is_finite()) {
                Status::Upper
            } else if l.is_finite() {
                Status::Lower
            } else if u.is_finite() {
                Status::Upper
            } else {
                Status::Free
            };
            self.x[j] = self.nonbasic_value(j);
        }
    }

    fn nonbasic_value(&self, j: usize) -> f64 {
        match self.status[j] {
            Status::Lower => {
                if self.lb[j].is_finite() {
                    self.lb[j]
                } else {
                    -BIG
                }
            }
            Status::Upper => {
                if self.ub[j].is_finite() {
                    self.ub[j]
                } else {
                    BIG
                }
            }
            Status::Free | Status::Basic => 0.0,
        }
    }

    fn compute_primals(&mut self) {
        let w = self.w;
        for (i, &h) in self.head.iter().enumerate() {
            let row = &self.t[i * w..(i + 1) * w];
            let mut s = 0.0;
            for (j, tij) in row.iter().enumerate() {
                if self.status[j] != Status::Basic && *tij != 0.0 {
                    s -= tij * self.x[j];
                }
            }
            self.x[h] = s;
        }
    }

    /// Re-applies the bounds after [`DualSimplex::set_bounds`] calls:
    /// nonbasic variables move to their (possibly flipped) bound and the
    /// basic values are recomputed. The basis stays dual feasible.
    fn apply_bounds(&mut self) {
        self.settle_nonbasics();
        self.compute_primals();
    }

    /// Row of the most infeasible basic variable, with its target bound.
    fn leaving_row(&self) -> Option<(usize, f64)> {
        let mut best = None;
        let mut worst = PRIMAL_TOL;
        for (i, &h) in self.head.iter().enumerate() {
            let v = self.x[h];
            let (l, u) = (self.lb[h], self.ub[h]);
            let scale = 1.0 + v.abs().min(1e3) * 1e-3;
            if l - v > worst * scale {
                worst = (l - v) / scale;
                best = Some((i, l));
            } else if v - u > worst * scale {
                worst = (v - u) / scale;
                best = Some((i, u));
            }
        }
        best
    }

    /// Solves from the current basis by the dual simplex.
    ///
    /// `cutoff`: stop with [`LpStatus::Cutoff`] once the (dual) objective
    /// exceeds it; `max_iterations` counts the pivots of this call;
    /// `deadline` is checked every 32 pivots.
    pub fn solve(
        &mut self,
        max_iterations: u64,
        cutoff: f64,
        deadline: Option<Instant>,
    ) -> LpStatus {
        self.apply_bounds();
        let w = self.w;
        let mut iters = 0u64;
        let mut rechecked = false;
        loop {
            let Some((r, target)) = self.leaving_row() else {
                if self.since_refactor > 0 && !rechecked {
                    // Confirm optimality on a fresh factorisation.
                    rechecked = true;
                    self.refactor();
                    continue;
                }
                return if self.at_artificial_bound() {
                    LpStatus::Unbounded
                } else if self.objective() > cutoff {
                    LpStatus::Cutoff
                } else {
                    LpStatus::Optimal
                };
            };
            if self.objective() > cutoff {
                return LpStatus::Cutoff;
            }
            if iters >= max_iterations {
                return LpStatus::IterationLimit;
            }
            if iters % 32 == 31 && deadline.is_some_and(|d| Instant::now() >= d) {
                return LpStatus::TimeLimit;
            }
            let leaving = self.head[r];
            let delta = self.x[leaving] - target;
            let row = &self.t[r * w..(r + 1) * w];
            // Harris pass 1: the largest dual step within tolerance.
            let mut theta_max = f64::INFINITY;
            for j in 0..w {
                if let Some(a) = self.eligible(j, row[j], delta) {
                    let ratio = (self.d[j].abs() + DUAL_TOL) / a;
                    if ratio < theta_max {
                        theta_max = ratio;
                    }
                }
            }
            if theta_max == f64::INFINITY {
                return LpStatus::Infeasible;
            }
            // Pass 2: the largest pivot among ratios within theta_max.
            let mut q = usize::MAX;
            let mut best_a = 0.0;
            for j in 0..w {
                if let Some(a) = self.eligible(j, row[j], delta) {
                    if self.d[j].abs() / a <= theta_max && a > best_a {
                        best_a = a;
                        q = j;
                    }
                }
            }
            let alpha = row[q];
            let step = delta / alpha;
            // Primal update: x_q moves by step, basics by -t[:, q] * step.
            self.x[q] += step;
            for (i, &h) in self.head.iter().enumerate() {
                if i != r {
                    self.x[h] -= self.t[i * w + q] * step;
                }
            }
            self.x[leaving] = target;
            // Dual update with the pivot row (before normalisation).
            let dq = self.d[q] / alpha;
            for j in 0..w {
                let tj = self.t[r * w + j];
                if tj != 0.0 {
                    self.d[j] -= dq * tj;
                }
            }
            self.d[q] = 0.0;
            self.pivot_tableau(r, q);
            self.status[leaving] = if target == self.lb[leaving] {
                Status::Lower
            } else {
                Status::Upper
            };
            self.status[q] = Status::Basic;
            self.head[r] = q;
            iters += 1;
            self.iterations += 1;
            self.since_refactor += 1;
            if self.since_refactor >= REFACTOR_EVERY {
                self.refactor();
            }
        }
    }

    /// `|alpha|` if nonbasic `j` may enter for a leaving variable that must
    /// move by `-delta` (`delta < 0`: it must increase), else `None`.
    #[inline]
    fn eligible(&self, j: usize, alpha: f64, delta: f64) -> Option<f64> {
        if alpha.abs() <= PIVOT_TOL {
            return None;
        }
        let ok = match self.status[j] {
            Status::Basic => false,
            Status::Free => true,
            Status::Lower => self.ub[j] > self.lb[j] && ((delta < 0.0) == (alpha < 0.0)),
            Status::Upper => self.ub[j] > self.lb[j] && ((delta < 0.0) == (alpha > 0.0)),
        };
        ok.then_some(alpha.abs())
    }

    fn at_artificial_bound(&self) -> bool {
        (0..self.w).any(|j| match self.status[j] {
            Status::Lower => !self.lb[j].is_finite(),
            Status::Upper => !self.ub[j].is_finite(),
            Status::Basic => self.x[j].abs() >= BIG * 0.5,
            Status::Free => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn textbook() -> Milp {
        // max 3x + 5y s.t. x <= 4, 2y <= 12, 3x + 2y <= 18, x, y >= 0.
        let mut p = Milp::new("t", true);
        let x = p.add_var("x", 3.0, 0.0, f64::INFINITY, false).unwrap();
        let y = p.add_var("y", 5.0, 0.0, f64::INFINITY, false).unwrap();
        p.add_row("a", vec![(x, 1.0)], f64::NEG_INFINITY, 4.0)
            .unwrap();
        p.add_row("b", vec![(y, 2.0)], f64::NEG_INFINITY, 12.0)
            .unwrap();
        p.add_row("c", vec![(x, 3.0), (y, 2.0)], f64::NEG_INFINITY, 18.0)
            .unwrap();
        p
    }

    #[test]
    fn solves_the_textbook_lp_and_warm_starts() {
        let p = textbook();
        let mut lp = DualSimplex::new(&p).unwrap();
        assert_eq!(lp.solve(1000, f64::INFINITY, None), LpStatus::Optimal);
        assert!((lp.objective() + 36.0).abs() < 1e-9, "{}", lp.objective());
        assert!((lp.x()[0] - 2.0).abs() < 1e-9 && (lp.x()[1] - 6.0).abs() < 1e-9);
        let basis = lp.basis();
        // Branch x >= 3: 3x + 2y <= 18 gives y <= 4.5 -> 9 + 22.5 = 31.5.
        lp.set_bounds(0, 3.0, f64::INFINITY);
        assert_eq!(lp.solve(1000, f64::INFINITY, None), LpStatus::Optimal);
        assert!((lp.objective() + 31.5).abs() < 1e-9);
        // Back to the saved basis with x <= 1: 3 + 30 = 33.
        lp.set_bounds(0, 0.0, 1.0);
        lp.load_basis(&basis).unwrap();
        assert_eq!(lp.solve(1000, f64::INFINITY, None), LpStatus::Optimal);
        assert!((lp.objective() + 33.0).abs() < 1e-9);
        // Infeasible bounds: x >= 5 against x <= 4.
        lp.set_bounds(0, 5.0, f64::INFINITY);
        assert_eq!(lp.solve(1000, f64::INFINITY, None), LpStatus::Infeasible);
        // Cutoff: the dual bound passes -40 at once.
        lp.set_bounds(0, 0.0, f64::INFINITY);
        lp.load_basis(&basis).unwrap();
        assert_eq!(lp.solve(1000, -40.0, None), LpStatus::Cutoff);
    }

    #[test]
    fn equality_rows_free_variables_and_unbounded() {
        // min x + y s.t. x + y = 2 (range), x - y >= -1, x free, y in [0, 10].
        let mut p = Milp::new("e", false);
        let x = p
            .add_var("x", 1.0, f64::NEG_INFINITY, f64::INFINITY, false)
            .unwrap();
        let y = p.add_var("y", 2.0, 0.0, 10.0, false).unwrap();
        p.add_row("eq", vec![(x, 1.0), (y, 1.0)], 2.0, 2.0).unwrap();
        p.add_row("ge", vec![(x, 1.0), (y, -1.0)], -1.0, f64::INFINITY)
            .unwrap();
        let mut lp = DualSimplex::new(&p).unwrap();
        assert_eq!(lp.solve(1000, f64::INFINITY, None), LpStatus::Optimal);
        // y as small as possible: y = 0, x = 2 -> 2.
        assert!((lp.objective() - 2.0).abs() < 1e-9, "{}", lp.objective());
        // min -x s.t. x - y <= 1 with y unbounded above: unbounded.
        let mut q = Milp::new("u", false);
        let x = q.add_var("x", -1.0, 0.0, f64::INFINITY, false).unwrap();
        let y = q.add_var("y", 0.0, 0.0, f64::INFINITY, false).unwrap();
        q.add_row("r", vec![(x, 1.0), (y, -1.0)], f64::NEG_INFINITY, 1.0)
            .unwrap();
        let mut lp = DualSimplex::new(&q).unwrap();
        assert_eq!(lp.solve(1000, f64::INFINITY, None), LpStatus::Unbounded);
    }
}
