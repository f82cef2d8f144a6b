//! Rectangular linear assignment by shortest augmenting paths
//! (Jonker & Volgenant 1987; Crouse 2016, "On implementing 2D rectangular
//! assignment algorithms", Algorithm 1 — the method behind scipy's
//! `linear_sum_assignment`). Square matrices of finite costs first run the
//! Jonker-Volgenant initialisation (column reduction, reduction transfer,
//! augmenting row reduction, as LAPJV), so that the augmenting paths start
//! from a nearly complete matching.
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
    /// duality), which certifies optimality. When that sum overflows (costs
    /// near 1e308) it falls back to the row minima (`v = 0`), then to
    /// `f64::MIN`: always finite, still a valid bound.
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
/// `linear_sum_assignment`), after the Jonker-Volgenant initialisation on
/// square matrices without forbidden pairs. Among several optimal
/// assignments (ties) it may pick another than scipy; the cost is the
/// same. Rectangular matrices assign every row (or
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
    if !bound.is_finite() {
        // Duals near +-1e308 (costs that large) overflow the sum; the row
        // minima are a weaker dual feasible point (v = 0) that stays finite
        // unless the costs themselves sum past f64, when the trivial bound
        // remains. A bound is never printed as inf.
        let rows: f64 = (0..r)
            .map(|i| {
                cost[i * c..(i + 1) * c]
                    .iter()
                    .copied()
                    .fold(f64::INFINITY, f64::min)
            })
            .sum();
        bound = if rows.is_finite() { rows } else { f64::MIN };
    }
    let dual_bound = if maximize { -bound } else { bound };
    let mut pairs: Vec<(usize, usize)> = col4row
        .iter()
        .enumerate()
        .map(|(i, &j)| if transpose { (j, i) } else { (i, j) })
        .collect();
    pairs.sort_unstable();
    let total: f64 = pairs.iter().map(|&(i, j)| costs.get(i, j)).sum();
    if !total.is_finite() {
        // Entries near +-1.8e308 whose sum leaves f64: refuse rather than
        // report an infinite total (issue #25); the pairs are optimal but
        // their total has no f64 value.
        return Err(Error::invalid(
            format!("total {}", if maximize { "profit" } else { "cost" }),
            total,
            format!(
                "a finite sum of the {} assigned entries (it overflows f64; rescale the costs)",
                pairs.len()
            ),
        ));
    }
    Ok(Assignment {
        cost: total,
        pairs,
        dual_bound,
    })
}

/// Solver state shared by the Jonker-Volgenant initialisation and the
/// shortest augmenting paths: row duals `u`, column duals `v` and the
/// partial matching.
struct State {
    u: Vec<f64>,
    v: Vec<f64>,
    col4row: Vec<usize>,
    row4col: Vec<usize>,
}

const NONE: usize = usize::MAX;

/// Core for `r <= c`: returns the column of each row and the final column
/// duals. Square matrices without forbidden pairs start with the
/// Jonker-Volgenant initialisation ([`jv_init`]: column reduction,
/// reduction transfer, two rounds of augmenting row reduction), which
/// leaves few rows free; every free row is then matched by one shortest
/// augmenting path (Crouse's Algorithm 1, as scipy). Integer-valued costs
/// stay integral throughout: every dual update is a sum or difference of
/// costs, exact in `f64` below `2^53`.
fn shortest_augmenting_path(r: usize, c: usize, cost: &[f64]) -> Result<(Vec<usize>, Vec<f64>)> {
    solve(r, c, cost, true)
}

/// [`shortest_augmenting_path`], with the JV initialisation on or off.
fn solve(r: usize, c: usize, cost: &[f64], jv: bool) -> Result<(Vec<usize>, Vec<f64>)> {
    let mut st = State {
        u: vec![0.0; r],
        v: vec![0.0; c],
        col4row: vec![NONE; r],
        row4col: vec![NONE; c],
    };
    let free: Vec<usize> = if jv && r == c && r >= 2 && cost.iter().all(|x| x.is_finite()) {
        jv_init(r, cost, &mut st)
    } else {
        (0..r).collect()
    };
    let mut shortest = vec![f64::INFINITY; c];
    let mut path = vec![NONE; c];
    let mut sr = vec![false; r];
    let mut sc = vec![false; c];
    let mut remaining = vec![0usize; c];
    for cur_row in free {
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
        let State {
            u,
            v,
            col4row,
            row4col,
        } = &mut st;
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
    let State { col4row, mut v, .. } = st;
    if r == c {
        // A square problem matches every column, so its column duals are
        // free: shifting them by a constant (and the row duals by its
        // opposite) keeps `sum u + sum v` and makes `v <= 0`, the form
        // `Assignment::dual_bound` reads (JV's column reduction starts from
        // the column minima, which may be positive).
        let top = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if top > 0.0 {
            v.iter_mut().for_each(|x| *x -= top);
        }
    }
    Ok((col4row, v))
}

/// Upper bound on augmenting-row-reduction steps, per row. Each step scans
/// a row (O(n)); on uniform costs the reduction keeps evicting rows with
/// ever smaller dual decreases (2,000 x 2,000: 128,000 steps at a bound of
/// 64 still left a row free, 16,000 steps at 8 left 14), so past a few
/// passes the shortest augmenting paths finish sooner. It also stops any
/// cycling on floating-point ties. Rows still free when it stops go to the
/// shortest augmenting paths, which need no more than the dual feasibility
/// the reduction keeps.
const ARR_STEPS_PER_ROW: usize = 8;

/// The Jonker-Volgenant initialisation of a square `n x n` matrix of finite
/// costs (Jonker & Volgenant 1987, "A shortest augmenting path algorithm for
/// dense and sparse linear assignment problems", Computing 38, Sec. 4 and
/// the LAPJV code's `lapjv.cpp`, as in the `lap` package): column
/// reduction (`v_j = min_i c_ij`, each column's argmin row takes it if still
/// free, columns scanned from the last), reduction transfer (a row holding
/// one column `j1` lowers `v_j1` by its second-best reduced cost), and two
/// rounds of augmenting row reduction (a free row takes its best column
/// `j1`, lowering `v_j1` to its second-best reduced cost and evicting
/// `j1`'s row, which is reduced next). Only `v` ever decreases, so every
/// assigned row keeps its column at the minimum of `c_ij - v_j`; the row
/// duals are set to that minimum at the end (`u_i = c_i,x_i - v_x_i`), a
/// dual-feasible start for the shortest augmenting paths. Returns the rows
/// left free.
fn jv_init(n: usize, cost: &[f64], st: &mut State) -> Vec<usize> {
    // Column reduction: the column minima in one row-major pass (the first
    // row attaining each minimum, as a column scan from row 0 finds it).
    let mut vmin = vec![f64::INFINITY; n];
    let mut imin = vec![0usize; n];
    for (i, row) in cost.chunks_exact(n).enumerate() {
        for ((m, arg), &x) in vmin.iter_mut().zip(imin.iter_mut()).zip(row) {
            if x < *m {
                *m = x;
                *arg = i;
            }
        }
    }
    let mut matches = vec![0u32; n];
    for j in (0..n).rev() {
        let i = imin[j];
        st.v[j] = vmin[j];
        matches[i] += 1;
        if matches[i] == 1 {
            st.col4row[i] = j;
            st.row4col[j] = i;
        } else {
            // The row keeps its first (highest) column.
            st.row4col[j] = NONE;
        }
    }
    // Reduction transfer.
    let mut free = Vec::new();
    for i in 0..n {
        match matches[i] {
            0 => free.push(i),
            1 => {
                let j1 = st.col4row[i];
                let row = &cost[i * n..(i + 1) * n];
                let mut m = f64::INFINITY;
                for (j, (&x, &vj)) in row.iter().zip(&st.v).enumerate() {
                    if j != j1 && x - vj < m {
                        m = x - vj;
                    }
                }
                st.v[j1] -= m;
            }
            _ => {}
        }
    }
    // Augmenting row reduction, twice.
    let mut budget = ARR_STEPS_PER_ROW * n;
    for _ in 0..2 {
        let mut k = 0;
        let prev = std::mem::take(&mut free);
        let mut queue = prev;
        while k < queue.len() {
            if budget == 0 {
                free.extend_from_slice(&queue[k..]);
                break;
            }
            budget -= 1;
            let i = queue[k];
            k += 1;
            let row = &cost[i * n..(i + 1) * n];
            // Best and second-best reduced cost of row i.
            let (mut u1, mut j1) = (row[0] - st.v[0], 0usize);
            let (mut u2, mut j2) = (f64::INFINITY, NONE);
            for j in 1..n {
                let h = row[j] - st.v[j];
                if h < u2 {
                    if h >= u1 {
                        u2 = h;
                        j2 = j;
                    } else {
                        u2 = u1;
                        j2 = j1;
                        u1 = h;
                        j1 = j;
                    }
                }
            }
            let mut i0 = st.row4col[j1];
            if u1 < u2 {
                st.v[j1] -= u2 - u1;
            } else if i0 != NONE {
                j1 = j2;
                i0 = st.row4col[j2];
            }
            st.col4row[i] = j1;
            st.row4col[j1] = i;
            if i0 != NONE {
                st.col4row[i0] = NONE;
                if u1 < u2 {
                    // Reduce the evicted row next.
                    k -= 1;
                    queue[k] = i0;
                } else {
                    free.push(i0);
                }
            }
        }
    }
    for i in 0..n {
        let j = st.col4row[i];
        if j != NONE {
            st.u[i] = cost[i * n + j] - st.v[j];
        }
    }
    free.sort_unstable();
    free
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
    fn jv_initialisation_reaches_the_same_optimum() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for (n, levels) in [(40usize, 5u32), (60, 1000), (80, 3), (50, 0)] {
            let data: Vec<f64> = (0..n * n)
                .map(|_| {
                    if levels == 0 {
                        rng.random::<f64>()
                    } else {
                        f64::from(rng.random_range(0..levels))
                    }
                })
                .collect();
            let total = |col4row: &[usize]| -> f64 {
                col4row
                    .iter()
                    .enumerate()
                    .map(|(i, &j)| data[i * n + j])
                    .sum()
            };
            let (with_jv, v) = solve(n, n, &data, true).unwrap();
            let (plain, _) = solve(n, n, &data, false).unwrap();
            let mut seen = vec![false; n];
            for &j in &with_jv {
                assert!(!seen[j], "column {j} twice");
                seen[j] = true;
            }
            assert_eq!(total(&with_jv), total(&plain), "n {n} levels {levels}");
            assert!(v.iter().all(|&x| x <= 0.0));
            let m = CostMatrix::new(n, n, data.clone()).unwrap();
            let a = linear_sum_assignment(&m, false).unwrap();
            assert!((a.dual_bound - a.cost).abs() < 1e-9 * a.cost.abs().max(1.0));
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

    #[test]
    fn costs_near_f64_max_give_a_finite_valid_bound() {
        let big = 1e308;
        let m = CostMatrix::from_rows(&[
            vec![1.0, big, 5.0],
            vec![big, 4.0, 6.0],
            vec![3.0, big, big],
        ])
        .unwrap();
        let a = linear_sum_assignment(&m, false).unwrap();
        assert!(a.dual_bound.is_finite(), "{}", a.dual_bound);
        assert!(
            a.dual_bound <= a.cost + 1e-9,
            "{} vs {}",
            a.dual_bound,
            a.cost
        );
        // Maximising picks the 1e308 entries, whose sum overflows: refused
        // with a message naming the total (no 309-digit numbers), never an
        // infinite total.
        let e = linear_sum_assignment(&m, true).unwrap_err().to_string();
        assert!(e.contains("total profit") && e.contains("overflows"), "{e}");
        let m = CostMatrix::from_rows(&[vec![-big, 0.0], vec![0.0, -big]]).unwrap();
        let e = linear_sum_assignment(&m, false).unwrap_err().to_string();
        assert!(e.contains("total cost") && e.len() < 200, "{e}");
        // A large but representable total is fine.
        let m = CostMatrix::from_rows(&[vec![-big, 0.0], vec![0.0, 1.0]]).unwrap();
        let a = linear_sum_assignment(&m, false).unwrap();
        assert!(a.cost == -big + 1.0 && a.dual_bound.is_finite());
    }
}
