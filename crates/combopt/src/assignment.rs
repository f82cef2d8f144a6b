//! Rectangular linear assignment by shortest augmenting paths
//! (Jonker & Volgenant 1987; Crouse 2016, "On implementing 2D rectangular
//! assignment algorithms", Algorithm 1 — the method behind scipy's
//! `linear_sum_assignment`).
//!
//! Every row of the shorter side is matched to a distinct column so that the
//! total cost is minimal (or maximal). Forbidden pairs are `f64::INFINITY`
//! when minimising (`f64::NEG_INFINITY` when maximising), as in scipy; an
//! instance in which no complete assignment avoids them is an error.

use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// The optimal assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// Total cost (sum over the chosen pairs of the original entries).
    pub cost: f64,
    /// `(row, column)` pairs sorted by row, one per row of the shorter side.
    pub pairs: Vec<(usize, usize)>,
    /// The LP dual bound: a lower bound on the cost when minimising (an
    /// upper bound on the profit when maximising). The final column duals
    /// `v` of the augmenting-path method, clipped to `v <= 0`, with row
    /// duals `u_i = min_j (c_ij - v_j)` form a feasible solution of the
    /// dual of the assignment LP (rows matched exactly once, columns at most
    /// once), so `sum u + sum v` bounds every assignment whatever the
    /// primal; at the optimum it equals `cost` up to rounding (strong
    /// duality), which certifies optimality.
    pub dual_bound: f64,
}

/// A dense cost matrix (row-major), validated once.
#[derive(Debug, Clone, PartialEq)]
pub struct CostMatrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl CostMatrix {
    /// From row vectors; fails on ragged rows or NaN entries (naming them).
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Self> {
        let r = rows.len();
        let c = rows.first().map_or(0, Vec::len);
        let mut data = Vec::with_capacity(r * c);
        for (i, row) in rows.iter().enumerate() {
            if row.len() != c {
                return Err(Error::Shape {
                    what: format!("cost matrix row {i}"),
                    expected: vec![c],
                    got: vec![row.len()],
                });
            }
            data.extend_from_slice(row);
        }
        Self::new(r, c, data)
    }

    /// From a row-major buffer of `rows * cols` entries.
    pub fn new(rows: usize, cols: usize, data: Vec<f64>) -> Result<Self> {
        if data.len() != rows * cols {
            return Err(Error::Shape {
                what: "cost matrix".into(),
                expected: vec![rows, cols],
                got: vec![data.len()],
            });
        }
        if let Some(i) = data.iter().position(|v| v.is_nan()) {
            return Err(Error::invalid(
                format!("costs[{}][{}]", i / cols.max(1), i % cols.max(1)),
                "NaN",
                "a number (use +inf for forbidden pairs)",
            ));
        }
        Ok(CostMatrix { rows, cols, data })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Entry `(i, j)`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.cols + j]
    }
}

/// Minimum-cost (or, with `maximize`, maximum-profit) assignment by the
/// shortest augmenting path of Crouse 2016 (Algorithm 1, scipy's
/// `linear_sum_assignment`). Rectangular matrices assign every row (or
/// column) of the smaller side; `inf` (`-inf` when maximising) marks a
/// forbidden pair, and an infeasible matrix is an error.
///
/// ```
/// use duality_combopt::assignment::{linear_sum_assignment, CostMatrix};
///
/// let costs = CostMatrix::from_rows(&[
///     vec![4.0, 1.0, 3.0],
///     vec![2.0, 0.0, 5.0],
///     vec![3.0, 2.0, f64::INFINITY],
/// ])?;
/// let best = linear_sum_assignment(&costs, false)?;
/// assert_eq!(best.cost, 6.0);
/// assert_eq!(best.pairs, vec![(0, 2), (1, 1), (2, 0)]);
/// // Maximising, `inf` would be an unbounded profit: rejected.
/// assert!(linear_sum_assignment(&costs, true).is_err());
/// # Ok::<(), duality_combopt::Error>(())
/// ```
pub fn linear_sum_assignment(costs: &CostMatrix, maximize: bool) -> Result<Assignment> {
    let (nr, nc) = (costs.rows, costs.cols);
    if nr == 0 || nc == 0 {
        return Ok(Assignment {
            cost: 0.0,
            pairs: Vec::new(),
            dual_bound: 0.0,
        });
    }
    let forbidden = if maximize {
        f64::INFINITY
    } else {
        f64::NEG_INFINITY
    };
    if let Some(i) = costs.data.iter().position(|&v| v == forbidden) {
        return Err(Error::invalid(
            format!("costs[{}][{}]", i / nc, i % nc),
            forbidden,
            if maximize {
                "a finite profit or -inf (forbidden) when maximising"
            } else {
                "a finite cost or +inf (forbidden) when minimising"
            },
        ));
    }
    // Work on a transposed copy when there are more rows than columns, and
    // on negated entries when maximising.
    let transpose = nr > nc;
    let (r, c) = if transpose { (nc, nr) } else { (nr, nc) };
    let cost: std::borrow::Cow<'_, [f64]> = if !transpose && !maximize {
        // The common case works on the caller's buffer: no copy.
        std::borrow::Cow::Borrowed(&costs.data)
    } else {
        let mut cost = vec![0.0; r * c];
        for i in 0..nr {
            for j in 0..nc {
                let v = costs.data[i * nc + j];
                let v = if maximize { -v } else { v };
                if transpose {
                    cost[j * c + i] = v;
                } else {
                    cost[i * c + j] = v;
                }
            }
        }
        std::borrow::Cow::Owned(cost)
    };
    let (col4row, v) = shortest_augmenting_path(r, c, &cost)?;
    // Dual feasible point from the column duals (see `Assignment::dual_bound`).
    let mut bound: f64 = v.iter().map(|&x| x.min(0.0)).sum();
    for i in 0..r {
        let row = &cost[i * c..(i + 1) * c];
        bound += row
            .iter()
            .zip(&v)
            .map(|(&cij, &vj)| cij - vj.min(0.0))
            .fold(f64::INFINITY, f64::min);
    }
    let dual_bound = if maximize { -bound } else { bound };
    let mut pairs: Vec<(usize, usize)> = col4row
        .iter()
        .enumerate()
        .map(|(i, &j)| if transpose { (j, i) } else { (i, j) })
        .collect();
    pairs.sort_unstable();
    let total = pairs.iter().map(|&(i, j)| costs.get(i, j)).sum();
    Ok(Assignment {
        cost: total,
        pairs,
        dual_bound,
    })
}

/// Core of Crouse's Algorithm 1 for `r <= c`: returns the column of each
/// row and the final column duals.
fn shortest_augmenting_path(r: usize, c: usize, cost: &[f64]) -> Result<(Vec<usize>, Vec<f64>)> {
    const NONE: usize = usize::MAX;
    let mut u = vec![0.0; r];
    let mut v = vec![0.0; c];
    let mut shortest = vec![f64::INFINITY; c];
    let mut path = vec![NONE; c];
    let mut col4row = vec![NONE; r];
    let mut row4col = vec![NONE; c];
    let mut sr = vec![false; r];
    let mut sc = vec![false; c];
    let mut remaining = vec![0usize; c];
    for cur_row in 0..r {
        // Dijkstra over reduced costs from `cur_row` to a free column.
        let mut min_val = 0.0;
        let mut num_remaining = c;
        for (it, slot) in remaining.iter_mut().enumerate() {
            // Filled in reverse so that ties prefer lower column indices, as scipy does.
            *slot = c - it - 1;
        }
        sr.fill(false);
        sc.fill(false);
        shortest.fill(f64::INFINITY);
        let mut i = cur_row;
        let mut sink = NONE;
        loop {
            let mut index = NONE;
            let mut lowest = f64::INFINITY;
            sr[i] = true;
            // Dense row access: one contiguous row slice, duals hoisted.
            let row = &cost[i * c..(i + 1) * c];
            let ui = u[i];
            for (it, &j) in remaining[..num_remaining].iter().enumerate() {
                // Same evaluation order as scipy, so ties break identically.
                let reduced = min_val + row[j] - ui - v[j];
                let sj = &mut shortest[j];
                if reduced < *sj {
                    path[j] = i;
                    *sj = reduced;
                }
                let sj = *sj;
                if sj < lowest || (sj == lowest && row4col[j] == NONE) {
                    lowest = sj;
                    index = it;
                }
            }
            min_val = lowest;
            if min_val == f64::INFINITY || index == NONE {
                return Err(Error::invalid(
                    "cost matrix",
                    format!("row {cur_row}"),
                    "a feasible assignment (too many forbidden pairs: no complete assignment exists)",
                ));
            }
            let j = remaining[index];
            if row4col[j] == NONE {
                sink = j;
            } else {
                i = row4col[j];
            }
            sc[j] = true;
            num_remaining -= 1;
            remaining[index] = remaining[num_remaining];
            if sink != NONE {
                break;
            }
        }
        // Update the dual variables.
        u[cur_row] += min_val;
        for ii in 0..r {
            if sr[ii] && ii != cur_row {
                u[ii] += min_val - shortest[col4row[ii]];
            }
        }
        for j in 0..c {
            if sc[j] {
                v[j] -= min_val - shortest[j];
            }
        }
        // Augment along the path back to `cur_row`.
        let mut j = sink;
        loop {
            let ii = path[j];
            row4col[j] = ii;
            std::mem::swap(&mut col4row[ii], &mut j);
            if ii == cur_row {
                break;
            }
        }
    }
    Ok((col4row, v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn brute(costs: &CostMatrix, maximize: bool) -> Option<f64> {
        let (r, c) = (costs.rows(), costs.cols());
        let (small, large, t) = if r <= c { (r, c, false) } else { (c, r, true) };
        let mut best: Option<f64> = None;
        #[allow(clippy::too_many_arguments)]
        fn rec(
            k: usize,
            small: usize,
            large: usize,
            used: &mut Vec<bool>,
            acc: f64,
            f: &dyn Fn(usize, usize) -> f64,
            best: &mut Option<f64>,
            maximize: bool,
        ) {
            if k == small {
                if acc.is_finite() {
                    let better = best.is_none_or(|b| if maximize { acc > b } else { acc < b });
                    if better {
                        *best = Some(acc);
                    }
                }
                return;
            }
            for j in 0..large {
                if !used[j] {
                    used[j] = true;
                    rec(k + 1, small, large, used, acc + f(k, j), f, best, maximize);
                    used[j] = false;
                }
            }
        }
        let f = |a: usize, b: usize| if t { costs.get(b, a) } else { costs.get(a, b) };
        rec(
            0,
            small,
            large,
            &mut vec![false; large],
            0.0,
            &f,
            &mut best,
            maximize,
        );
        best
    }

    proptest! {
        #[test]
        fn equals_brute_force(r in 1usize..6, c in 1usize..6, seed in 0u64..1000, maximize: bool) {
            use rand::{Rng, SeedableRng};
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let data: Vec<f64> = (0..r * c).map(|_| rng.random_range(0..20) as f64).collect();
            let m = CostMatrix::new(r, c, data).unwrap();
            let a = linear_sum_assignment(&m, maximize).unwrap();
            prop_assert_eq!(a.pairs.len(), r.min(c));
            prop_assert!((a.cost - brute(&m, maximize).unwrap()).abs() < 1e-9);
            // Strong duality: the dual bound meets the optimum.
            prop_assert!((a.dual_bound - a.cost).abs() < 1e-9, "{} vs {}", a.dual_bound, a.cost);
        }

        #[test]
        fn forbidden_pairs_are_avoided(n in 2usize..6, seed in 0u64..1000) {
            use rand::{Rng, SeedableRng};
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let data: Vec<f64> = (0..n * n).map(|_| if rng.random_bool(0.3) { f64::INFINITY } else { rng.random_range(0.0..10.0) }).collect();
            let m = CostMatrix::new(n, n, data).unwrap();
            match (linear_sum_assignment(&m, false), brute(&m, false)) {
                (Ok(a), Some(b)) => {
                    prop_assert!((a.cost - b).abs() < 1e-9);
                    prop_assert!((a.dual_bound - b).abs() < 1e-9);
                }
                (Err(_), None) => {}
                (a, b) => prop_assert!(false, "solver {:?} vs brute {:?}", a, b),
            }
        }
    }

    #[test]
    fn bad_input() {
        let e = CostMatrix::from_rows(&[vec![1.0, 2.0], vec![1.0]])
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 1"), "{e}");
        let e = CostMatrix::from_rows(&[vec![1.0, f64::NAN]])
            .unwrap_err()
            .to_string();
        assert!(e.contains("costs[0][1]"), "{e}");
        let m =
            CostMatrix::from_rows(&[vec![f64::INFINITY, f64::INFINITY], vec![1.0, 2.0]]).unwrap();
        assert!(linear_sum_assignment(&m, false).is_err());
    }
}
