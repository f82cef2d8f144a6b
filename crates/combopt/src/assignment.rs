//! Rectangular linear assignment by shortest augmenting paths. Square
//! matrices of finite costs run LAPJV (Jonker & Volgenant 1987, "A shortest
//! augmenting path algorithm for dense and sparse linear assignment
//! problems", Computing 38; the dense code of the `lap` package,
//! gatagat/lap `lapjv.cpp`): column reduction, reduction transfer and
//! augmenting row reduction, then shortest augmenting paths that take every
//! column at the current minimum distance at once. Rectangular matrices and
//! forbidden pairs run Crouse 2016, "On implementing 2D rectangular
//! assignment algorithms", Algorithm 1 (the method behind scipy's
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

/// Minimum-cost (or, with `maximize`, maximum-profit) assignment: LAPJV
/// (Jonker & Volgenant 1987) on square matrices without forbidden pairs,
/// otherwise the shortest augmenting paths of Crouse 2016 (Algorithm 1,
/// scipy's `linear_sum_assignment`). Among several optimal assignments
/// (ties) it may pick another than scipy or `lap`; the cost is the same. Rectangular matrices assign every row (or
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
    // One vectorised pass decides both whether LAPJV applies (all finite)
    // and, only when not, whether an entry is the refused infinity.
    let finite = costs.data.iter().fold(true, |ok, v| ok & v.is_finite());
    if let Some(i) = (!finite)
        .then(|| costs.data.iter().position(|&v| v == forbidden))
        .flatten()
    {
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
    let (col4row, v) = solve(r, c, &cost, finite)?;
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

const NONE: usize = usize::MAX;

/// Core for `r <= c`: returns the column of each row and the final column
/// duals. Square matrices of finite costs (`lapjv_ok`: the caller checked
/// every entry) run LAPJV ([`lapjv`]: the Jonker-Volgenant initialisation,
/// then shortest augmenting paths that take every column at the current
/// minimum distance at once); rectangular matrices and forbidden pairs run
/// Crouse's Algorithm 1 ([`crouse`]), as scipy. Integer-valued costs stay
/// integral throughout: every dual update is a sum or difference of costs
/// (exact in `f64` below `2^53`), so every comparison of distances is
/// exact.
fn solve(r: usize, c: usize, cost: &[f64], lapjv_ok: bool) -> Result<(Vec<usize>, Vec<f64>)> {
    if lapjv_ok && r == c && r >= 2 {
        let (col4row, mut v) = lapjv(r, cost);
        // A square problem matches every column, so its column duals are
        // free: shifting them by a constant (and the row duals by its
        // opposite) keeps `sum u + sum v` and makes `v <= 0`, the form
        // `Assignment::dual_bound` reads (JV's column reduction starts from
        // the column minima, which may be positive).
        let top = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if top > 0.0 {
            v.iter_mut().for_each(|x| *x -= top);
        }
        return Ok((col4row, v));
    }
    crouse(r, c, cost)
}

/// Crouse 2016, Algorithm 1 (scipy's `linear_sum_assignment`): one
/// Dijkstra search over reduced costs per row, from an empty matching.
/// Handles `r < c` and forbidden (`+inf`) pairs.
fn crouse(r: usize, c: usize, cost: &[f64]) -> Result<(Vec<usize>, Vec<f64>)> {
    let mut u = vec![0.0; r];
    let mut v = vec![0.0; c];
    let mut col4row = vec![NONE; r];
    let mut row4col = vec![NONE; c];
    let mut shortest = vec![f64::INFINITY; c];
    let mut path = vec![NONE; c];
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

/// Upper bound on augmenting-row-reduction steps, per row. Each step scans
/// a row (O(n)); on uniform costs the reduction keeps evicting rows with
/// ever smaller dual decreases (2,000 x 2,000: 128,000 steps at a bound of
/// 64 still left a row free, 16,000 steps at 8 left 14), so past a few
/// passes the shortest augmenting paths finish sooner. It also stops any
/// cycling on floating-point ties. Rows still free when it stops go to the
/// shortest augmenting paths, which need no more than the dual feasibility
/// the reduction keeps.
const ARR_STEPS_PER_ROW: usize = 8;

/// LAPJV on a square `n x n` matrix of finite costs (Jonker & Volgenant
/// 1987, "A shortest augmenting path algorithm for dense and sparse linear
/// assignment problems", Computing 38: the initialisation of Sec. 4, then
/// the augmentation procedure), following the dense code of the `lap`
/// package (gatagat/lap, `_lapjv_src/lapjv.cpp`: `_ccrrt_dense`,
/// `_carr_dense`, `find_path_dense` / `_find_dense` / `_scan_dense`,
/// `_ca_dense`). Returns the column of each row and the column duals `v`
/// (reduced costs `c_ij - v_j`; every row holds a column at its row
/// minimum, so `u_i = c_i,x_i - v_x_i` completes an optimal dual).
fn lapjv(n: usize, cost: &[f64]) -> (Vec<usize>, Vec<f64>) {
    let mut v = vec![f64::INFINITY; n];
    let mut col4row = vec![NONE; n];
    let mut row4col = vec![NONE; n];
    let free = jv_init(n, cost, &mut v, &mut col4row, &mut row4col);
    jv_augment(n, cost, &free, &mut v, &mut col4row, &mut row4col);
    (col4row, v)
}

/// The Jonker-Volgenant initialisation (Jonker & Volgenant 1987, Sec. 4;
/// `lap`'s `_ccrrt_dense` and `_carr_dense`): column reduction
/// (`v_j = min_i c_ij`, each column's argmin row takes it if still free,
/// columns scanned from the last), reduction transfer (a row holding one
/// column `j1` lowers `v_j1` by its second-best reduced cost), and two
/// rounds of augmenting row reduction (a free row takes its best column
/// `j1`, lowering `v_j1` to its second-best reduced cost and evicting
/// `j1`'s row, which is reduced next). Only `v` ever decreases, so every
/// assigned row keeps its column at the minimum of `c_ij - v_j`. Returns
/// the rows left free, ascending.
fn jv_init(
    n: usize,
    cost: &[f64],
    v: &mut [f64],
    col4row: &mut [usize],
    row4col: &mut [usize],
) -> Vec<usize> {
    // Column reduction: the column minima in one row-major pass (the first
    // row attaining each minimum, as a column scan from row 0 finds it).
    let mut imin = vec![0usize; n];
    for (i, row) in cost.chunks_exact(n).enumerate() {
        for ((m, arg), &x) in v.iter_mut().zip(imin.iter_mut()).zip(row) {
            if x < *m {
                *m = x;
                *arg = i;
            }
        }
    }
    let mut matches = vec![0u32; n];
    for j in (0..n).rev() {
        let i = imin[j];
        matches[i] += 1;
        if matches[i] == 1 {
            col4row[i] = j;
            row4col[j] = i;
        } else {
            // The row keeps its first (highest) column.
            row4col[j] = NONE;
        }
    }
    // Reduction transfer.
    let mut free = Vec::new();
    for i in 0..n {
        match matches[i] {
            0 => free.push(i),
            1 => {
                let j1 = col4row[i];
                let row = &cost[i * n..(i + 1) * n];
                let mut m = f64::INFINITY;
                for (j, (&x, &vj)) in row.iter().zip(v.iter()).enumerate() {
                    if j != j1 && x - vj < m {
                        m = x - vj;
                    }
                }
                v[j1] -= m;
            }
            _ => {}
        }
    }
    // Augmenting row reduction, twice.
    let mut budget = ARR_STEPS_PER_ROW * n;
    for _ in 0..2 {
        let mut k = 0;
        let mut queue = std::mem::take(&mut free);
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
            let (mut u1, mut j1) = (row[0] - v[0], 0usize);
            let (mut u2, mut j2) = (f64::INFINITY, NONE);
            for j in 1..n {
                let h = row[j] - v[j];
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
            let mut i0 = row4col[j1];
            if u1 < u2 {
                v[j1] -= u2 - u1;
            } else if i0 != NONE {
                j1 = j2;
                i0 = row4col[j2];
            }
            col4row[i] = j1;
            row4col[j1] = i;
            if i0 != NONE {
                col4row[i0] = NONE;
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
    free.sort_unstable();
    free
}

/// LAPJV's augmentation (Jonker & Volgenant 1987, procedure "augmentation";
/// `lap`'s `_ca_dense` / `find_path_dense`): for each free row, a Dijkstra
/// search over reduced costs `c_ij - v_j` that splits the columns into
/// READY (distance final, row scanned), SCAN (at the current minimum
/// distance `mind`, rows still to scan, taken FIFO) and TODO. When SCAN is
/// empty, FIND moves every TODO column at the new minimum into SCAN at once
/// and stops if one of them is free; scanning a row relaxes every TODO
/// column, and a TODO column whose distance drops to `mind` joins SCAN, or
/// ends the search if it is free. On integer costs ties at the minimum are
/// common; this plateau handling reaches a free column at the minimum
/// distance without a new minimum search per scanned row (Crouse's loop,
/// scipy's, does one per row). The READY columns' duals are then lowered by
/// their distance below the final one and the path is augmented.
///
/// The layout differs from `lap`'s (which permutes one column array): each
/// row scan runs over all `n` columns in order, branch-free (so it
/// vectorises), and the columns that left TODO are excluded through a
/// working copy `w` of the duals set to `-inf` for them (their reduced
/// cost is `+inf`, never an improvement; their entry of `d` is `+inf`, so
/// FIND's minimum runs over TODO alone). The search, the ties it follows
/// and the duals are LAPJV's; which free column ends a search at a tied
/// distance may differ (the optimum value never does).
fn jv_augment(
    n: usize,
    cost: &[f64],
    free: &[usize],
    v: &mut [f64],
    col4row: &mut [usize],
    row4col: &mut [usize],
) {
    let mut d = vec![f64::INFINITY; n];
    let mut dist = vec![0.0; n];
    // Columns that left TODO, in order: `queue[head..]` is SCAN, the rest READY.
    let mut queue: Vec<usize> = Vec::with_capacity(n);
    // The rows scanned, in order, with their offsets `h`.
    let mut scanned: Vec<(usize, f64)> = Vec::with_capacity(n);
    for &start in free {
        let row = &cost[start * n..(start + 1) * n];
        for ((dj, &vj), &c) in d.iter_mut().zip(v.iter()).zip(row) {
            *dj = c - vj - 0.0; // as `relax` computes it, with h = 0
        }
        queue.clear();
        scanned.clear();
        scanned.push((start, 0.0));
        let mut head = 0;
        let mut mind = f64::INFINITY;
        let mut final_j = NONE;
        'search: loop {
            if head == queue.len() {
                // FIND: every TODO column at the minimum distance into SCAN.
                mind = todo_minimum(&d);
                if take_block(
                    0,
                    mind,
                    &mut d,
                    &mut dist,
                    &mut queue,
                    row4col,
                    &mut final_j,
                ) {
                    break 'search;
                }
            }
            // SCAN: the row of SCAN's next column relaxes every TODO column.
            let j = queue[head];
            head += 1;
            let i = row4col[j];
            let ri = &cost[i * n..(i + 1) * n];
            let h = ri[j] - v[j] - mind;
            scanned.push((i, h));
            let mut base = 0;
            let blocks = d
                .chunks_exact_mut(BLOCK)
                .zip(v.chunks_exact(BLOCK))
                .zip(ri.chunks_exact(BLOCK));
            for ((db, vb), cb) in blocks {
                if relax(db, vb, cb, h, mind)
                    && take_block(base, mind, db, &mut dist, &mut queue, row4col, &mut final_j)
                {
                    break 'search;
                }
                base += BLOCK;
            }
            let (db, vb, cb) = (&mut d[base..], &v[base..], &ri[base..]);
            if relax(db, vb, cb, h, mind)
                && take_block(base, mind, db, &mut dist, &mut queue, row4col, &mut final_j)
            {
                break 'search;
            }
        }
        // The path, column by column back to `start`: a column's
        // predecessor is the first scanned row through which its distance
        // is attained (the row that set it: later rows only replace a
        // distance they lower), recomputed with the very same arithmetic,
        // so no predecessor is stored per relaxation. That row's column
        // left TODO before this one did, so the walk cannot cycle.
        let mut j = final_j;
        loop {
            let dj = dist[j];
            let i = scanned
                .iter()
                .find(|&&(r, h)| cost[r * n + j] - v[j] - h == dj)
                .map_or(start, |&(r, _)| r);
            row4col[j] = i;
            std::mem::swap(&mut col4row[i], &mut j);
            if i == start {
                break;
            }
        }
        // Dual update of the columns that left TODO (READY ones by their
        // distance below the final one; SCAN ones are at it).
        for &j in &queue {
            v[j] += dist[j] - mind;
        }
    }
}

/// Columns per block of a row scan: the relaxation of a block is
/// branch-free; only a block with a column at the current minimum is
/// looked at again.
const BLOCK: usize = 16;

/// Relaxes one block of columns from a scanned row (`h` is the row's
/// offset, so that `c_ij - v_j - h` is the distance through it); columns
/// out of TODO hold `d_j = -inf` and are never lowered. Returns whether a
/// column of the block was lowered to at most `mind`.
#[inline(always)]
fn relax(d: &mut [f64], v: &[f64], c: &[f64], h: f64, mind: f64) -> bool {
    let mut hit = false;
    for ((dj, &vj), &cj) in d.iter_mut().zip(v).zip(c) {
        let cred = cj - vj - h;
        let better = cred < *dj;
        *dj = if better { cred } else { *dj };
        hit |= better & (cred <= mind);
    }
    hit
}

/// The smallest distance of a TODO column (columns out of TODO hold
/// `-inf`); four running minima, so the loop vectorises.
fn todo_minimum(d: &[f64]) -> f64 {
    let mut acc = [f64::INFINITY; 4];
    let mut chunks = d.chunks_exact(4);
    for ch in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(ch) {
            *a = if x < *a && x > f64::NEG_INFINITY {
                x
            } else {
                *a
            };
        }
    }
    let mut m = f64::INFINITY;
    for &x in acc.iter().chain(chunks.remainder()) {
        m = if x < m && x > f64::NEG_INFINITY { x } else { m };
    }
    m
}

/// Moves every TODO column of a block (its first column is `base`) at
/// distance at most `at` out of TODO: to the back of `queue` (SCAN), its
/// distance kept in `dist` and `-inf` left in `d`. Returns true, with
/// `final_j` set, at the first free one (LAPJV ends the search there).
#[inline(always)]
fn take_block(
    base: usize,
    at: f64,
    d: &mut [f64],
    dist: &mut [f64],
    queue: &mut Vec<usize>,
    row4col: &[usize],
    final_j: &mut usize,
) -> bool {
    for (k, dk) in d.iter_mut().enumerate() {
        if *dk <= at && *dk > f64::NEG_INFINITY {
            let j = base + k;
            dist[j] = *dk;
            if row4col[j] == NONE {
                *final_j = j;
                return true;
            }
            *dk = f64::NEG_INFINITY;
            queue.push(j);
        }
    }
    false
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
        fn lapjv_matches_crouse_on_plateaus(n in 2usize..24, levels in prop::sample::select(vec![1u32, 2, 3, 7, 1000, 0]), seed in 0u64..1000, shift in -5i32..5) {
            // Few distinct costs make ties at the minimum distance (the
            // plateaus LAPJV takes at once); levels 0 is uniform [0, 1).
            use rand::{Rng, SeedableRng};
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let data: Vec<f64> = (0..n * n)
                .map(|_| if levels == 0 { rng.random::<f64>() } else { f64::from(rng.random_range(0..levels) as i32 + shift * 100) })
                .collect();
            let (jv, v) = solve(n, n, &data, true).unwrap();
            let (plain, _) = solve(n, n, &data, false).unwrap();
            let mut seen = vec![false; n];
            for &j in &jv {
                prop_assert!(!seen[j]);
                seen[j] = true;
            }
            let total = |c4r: &[usize]| -> f64 { c4r.iter().enumerate().map(|(i, &j)| data[i * n + j]).sum() };
            prop_assert!((total(&jv) - total(&plain)).abs() <= 1e-9 * total(&plain).abs().max(1.0));
            // Complementary slackness of LAPJV's duals: every row holds a
            // column at its row minimum of `c_ij - v_j`.
            for (i, &j) in jv.iter().enumerate() {
                let row = &data[i * n..(i + 1) * n];
                let m = row.iter().zip(&v).map(|(c, vj)| c - vj).fold(f64::INFINITY, f64::min);
                prop_assert!(row[j] - v[j] <= m + 1e-9, "row {} column {}", i, j);
            }
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
