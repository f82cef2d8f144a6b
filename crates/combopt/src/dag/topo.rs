//! TOPO: optimising the NOTEARS score over topological orders by swaps
//! (Deng, Bello, Aragam & Ravikumar 2023, "Optimizing NOTEARS Objectives via
//! Topological Swaps", Algorithm 1 and the reference `topo_linear.py`).
//!
//! For an order `pi`, the inner problem fits each node by least squares on
//! the nodes before it (`W(pi)`). The outer search proposes swapping the
//! positions of a pair `(i, j)` with `i` after `j` whose acyclicity gradient
//! `[grad h(W)]_ij` is among the smallest (adding `i -> j` would close no or
//! only a weak cycle): the `size_small` smallest form the search set, the
//! `size_large` smallest the enlarged set tried when the small one fails.
//! Each swap refits only the nodes between the two positions; improving
//! swaps with disjoint position ranges are applied greedily, best first.
//!
//! Two acyclicity gradients rank the candidate pairs ([`SwapGradient`]):
//! the log-det one `inv(I - |W|)^T` of DAGMA-style `h(W) = -log det(I -
//! |W|)`, which the reference's `TOPO_linear._h` uses (the default here),
//! and NOTEARS' `2 exp(W o W)^T`. `W(pi)` is a DAG, so `I - |W|` is unit
//! triangular up to the order's permutation and `inv(I - |W|)` is the
//! finite path sum `sum_k |W|^k`, computed exactly along the order.
//!
//! With an L1 weight `lambda > 0` ([`TopoParams::with_lambda`]) the inner
//! fit of each node is the lasso `min_b 1/(2n)||x_j - X_P b||^2 + lambda
//! ||b||_1` (the reference's `init_Wstar(method='Lasso', tau)`; sklearn's
//! `Lasso` has the same scaling), solved by cyclic coordinate descent on the
//! covariance, and swaps are scored by the NOTEARS objective
//! `1/(2n)||X - XW||^2 + lambda ||W||_1`: TOPO and NOTEARS then optimise the
//! same objective.

use duality_core::config::Validate;
use duality_core::{Error, Result};
use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::linalg::{expm, solve_spd};
use super::notears::{DagFit, Data};

/// What [`topo`] returns: the fit and the topological order it ended at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopoFit {
    /// The thresholded estimate (with the raw one inside).
    pub fit: DagFit,
    /// The final topological order.
    pub order: Vec<usize>,
}
use super::sem::Adjacency;

/// TOPO parameters; `None` sizes follow the reference implementation's
/// `set_sizes_linear` (the number of large searches: see `sizes`, one for
/// every `d`, where the reference's linear default gives none below 10). [`TopoParams::default`] plus the `with_*` setters,
/// checked once by [`Validate`] when [`topo`] starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct TopoParams {
    size_small: Option<usize>,
    size_large: Option<usize>,
    large_searches: Option<usize>,
    w_threshold: Option<f64>,
    max_iter: Option<usize>,
    lambda: f64,
    gradient: SwapGradient,
}

/// Which acyclicity gradient ranks TOPO's swap candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SwapGradient {
    /// `inv(I - |W|)^T`, the gradient of `h(W) = -log det(I - |W|)` (up to
    /// the sign convention of `|W|`); what the reference implementation
    /// (`TOPO_linear._h`, `h_func(h_type='log_det')`) uses.
    #[default]
    LogDet,
    /// `2 exp(W o W)^T`, the matrix-exponential part of NOTEARS' gradient
    /// (the reference's `h_type='exp_square'` option).
    ExpSquare,
}

impl TopoParams {
    /// Sets the size of the small candidate set.
    pub fn with_size_small(mut self, size: Option<usize>) -> Self {
        self.size_small = size;
        self
    }
    /// Sets the size of the large candidate set.
    pub fn with_size_large(mut self, size: Option<usize>) -> Self {
        self.size_large = size;
        self
    }
    /// Sets how many times the large set may be used.
    pub fn with_large_searches(mut self, searches: Option<usize>) -> Self {
        self.large_searches = searches;
        self
    }
    /// Final edges with `|w| < threshold` are removed (0.3 when `None`).
    pub fn with_w_threshold(mut self, threshold: Option<f64>) -> Self {
        self.w_threshold = threshold;
        self
    }
    /// Safety cap on outer iterations (10 000 when `None`).
    pub fn with_max_iter(mut self, iterations: Option<usize>) -> Self {
        self.max_iter = iterations;
        self
    }
    /// Sets the L1 weight `lambda` of the inner lasso fits and of the score
    /// (0, the default, is plain least squares as in the reference's
    /// example).
    pub fn with_lambda(mut self, lambda: f64) -> Self {
        self.lambda = lambda;
        self
    }
    /// Sets the gradient that ranks swap candidates.
    pub fn with_gradient(mut self, gradient: SwapGradient) -> Self {
        self.gradient = gradient;
        self
    }
    /// Final edge threshold (0.3 when unset).
    pub fn w_threshold(&self) -> f64 {
        self.w_threshold.unwrap_or(0.3)
    }
    /// The L1 weight.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }
    /// The gradient ranking swap candidates.
    pub fn gradient(&self) -> SwapGradient {
        self.gradient
    }
}

impl Validate for TopoParams {
    fn validate(&self) -> Result<()> {
        if let Some(t) = self.w_threshold {
            if !(t >= 0.0 && t.is_finite()) {
                return Err(Error::config(
                    "w_threshold",
                    format!("must be a finite number >= 0, got {t}"),
                ));
            }
        }
        if !(self.lambda >= 0.0 && self.lambda.is_finite()) {
            return Err(Error::config(
                "lambda",
                format!("must be a finite number >= 0, got {}", self.lambda),
            ));
        }
        for (field, v) in [
            ("size_small", self.size_small),
            ("size_large", self.size_large),
        ] {
            if v == Some(0) {
                return Err(Error::config(field, "must be >= 1, got 0"));
            }
        }
        Ok(())
    }
}

impl TopoParams {
    fn sizes(&self, d: usize) -> (usize, usize, usize) {
        let df = d as f64;
        let pairs = d * (d - 1) / 2;
        let mid = ((df.sqrt() * (df - 1.0) * df.log10()) as usize).min(pairs);
        let small = self
            .size_small
            .unwrap_or_else(|| ((1.5 * df) as usize).min(mid));
        let large = self
            .size_large
            .unwrap_or_else(|| ((1.5 * df) as usize).max(mid));
        // At most one enlarged search, and at least one for every d >= 1.
        // The reference's `set_sizes_linear` writes `min(int(d/10), 1)`,
        // which is 0 for d < 10 (so small graphs never try the large set);
        // its `set_sizes_nonlinear` writes `min(ceil(d/20), 1)` = 1 for every
        // d. We follow the nonlinear form, which agrees with the linear one
        // for d >= 10 and keeps the cap of one.
        let searches = self.large_searches.unwrap_or_else(|| d.div_ceil(10).min(1));
        (
            small.clamp(1, pairs.max(1)),
            large.clamp(1, pairs.max(1)),
            searches,
        )
    }
}

/// Least-squares fit of every node on the nodes before it in `order`.
pub fn fit_order(data: &Data, order: &[usize]) -> Vec<f64> {
    fit_order_l1(data, order, 0.0)
}

/// Fit of every node on the nodes before it in `order`: least squares for
/// `lambda = 0`, the lasso `1/(2n)||x_j - X_P b||^2 + lambda ||b||_1`
/// otherwise.
pub fn fit_order_l1(data: &Data, order: &[usize], lambda: f64) -> Vec<f64> {
    let d = data.d;
    let mut w = vec![0.0; d * d];
    for k in 1..order.len() {
        fit_column(data, order, k, lambda, &mut w);
    }
    w
}

/// The NOTEARS objective `1/(2n)||X - XW||^2 + lambda ||W||_1`.
pub fn l1_objective(data: &Data, w: &[f64], lambda: f64) -> f64 {
    data.loss(w).value + lambda * w.iter().map(|v| v.abs()).sum::<f64>()
}

fn fit_column(data: &Data, order: &[usize], k: usize, lambda: f64, w: &mut [f64]) {
    if lambda > 0.0 {
        return fit_column_lasso(data, order, k, lambda, w);
    }
    let d = data.d;
    let j = order[k];
    for i in 0..d {
        w[i * d + j] = 0.0;
    }
    if k == 0 {
        return;
    }
    let preds = &order[..k];
    let a: Vec<f64> = preds
        .iter()
        .flat_map(|&p| preds.iter().map(move |&q| data.cov[p * d + q]))
        .collect();
    let b: Vec<f64> = preds.iter().map(|&p| data.cov[p * d + j]).collect();
    let beta = solve_spd(&a, &b, k);
    for (&p, &v) in preds.iter().zip(&beta) {
        w[p * d + j] = v;
    }
}

/// Lasso fit of node `order[k]` on `order[..k]` by cyclic coordinate descent
/// on the covariance: `b_p <- soft(S_pj - sum_{q != p} S_pq b_q, lambda) /
/// S_pp`, until no coefficient moves by more than `1e-10` (or 10,000
/// sweeps).
fn fit_column_lasso(data: &Data, order: &[usize], k: usize, lambda: f64, w: &mut [f64]) {
    let d = data.d;
    let j = order[k];
    for i in 0..d {
        w[i * d + j] = 0.0;
    }
    let preds = &order[..k];
    let mut beta = vec![0.0; k];
    for _ in 0..10_000 {
        let mut moved = 0.0f64;
        for (a, &p) in preds.iter().enumerate() {
            let spp = data.cov[p * d + p];
            if spp <= 0.0 {
                continue;
            }
            let mut r = data.cov[p * d + j];
            for (b, &q) in preds.iter().enumerate() {
                if b != a {
                    r -= data.cov[p * d + q] * beta[b];
                }
            }
            let new = r.signum() * (r.abs() - lambda).max(0.0) / spp;
            moved = moved.max((new - beta[a]).abs());
            beta[a] = new;
        }
        if moved <= 1e-10 {
            break;
        }
    }
    for (&p, &v) in preds.iter().zip(&beta) {
        w[p * d + j] = v;
    }
}

/// Runs TOPO from `initial` order (e.g. a random permutation, or the
/// topological order of a NOTEARS estimate). Fails naming the value when
/// `initial` is not a permutation of `0..d`.
pub fn topo(data: &Data, initial: &[usize], params: &TopoParams) -> Result<TopoFit> {
    params.validate()?;
    let d = data.d;
    duality_core::limits::check_memory(
        &format!("TOPO on {d} variables"),
        super::notears::matrix_bytes(d)?,
    )?;
    let mut check = initial.to_vec();
    check.sort_unstable();
    if check != (0..d).collect::<Vec<_>>() {
        return Err(Error::invalid(
            "initial order",
            format!("{initial:?}"),
            format!("a permutation of 0..{d}"),
        ));
    }
    if d < 2 {
        let w = Adjacency::new(d, vec![0.0; d * d])?;
        let loss = data.loss(&w.w).value;
        return Ok(TopoFit {
            fit: DagFit {
                w: w.clone(),
                w_raw: w,
                h: 0.0,
                loss,
            },
            order: initial.to_vec(),
        });
    }
    let (size_small, size_large, large_searches) = params.sizes(d);
    let lambda = params.lambda;
    let mut order = initial.to_vec();
    let mut w = fit_order_l1(data, &order, lambda);
    let mut loss = l1_objective(data, &w, lambda);
    let mut large_used = 0;
    for _ in 0..params.max_iter.unwrap_or(10_000) {
        let (small, large) =
            candidate_pairs(&w, &order, d, size_small, size_large, params.gradient);
        let mut gains = evaluate_swaps(data, &w, &order, &small, lambda);
        if !gains.iter().any(|g| g.0 < loss) {
            if large_used >= large_searches {
                break;
            }
            let extra: Vec<(usize, usize)> =
                large.into_iter().filter(|p| !small.contains(p)).collect();
            gains = evaluate_swaps(data, &w, &order, &extra, lambda);
            if !gains.iter().any(|g| g.0 < loss) {
                break;
            }
            large_used += 1;
        }
        // Apply improving swaps with disjoint position ranges, best first.
        gains.retain(|g| g.0 < loss);
        gains.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut pos = vec![0; d];
        for (p, &v) in order.iter().enumerate() {
            pos[v] = p;
        }
        let mut used = vec![false; d];
        for &(_, i, j) in &gains {
            let (a, b) = (pos[j].min(pos[i]), pos[j].max(pos[i]));
            if used[a..=b].iter().any(|&u| u) {
                continue;
            }
            used[a..=b].iter_mut().for_each(|u| *u = true);
            order.swap(pos[i], pos[j]);
        }
        w = fit_order_l1(data, &order, lambda);
        loss = l1_objective(data, &w, lambda);
    }
    let raw = Adjacency::new(d, w)?;
    let thr = raw.thresholded(params.w_threshold());
    let loss_thr = data.loss(&thr.w).value;
    super::notears::finite_fit("TOPO", &raw, 0.0, loss_thr)?;
    Ok(TopoFit {
        fit: DagFit {
            w: thr,
            w_raw: raw,
            h: 0.0,
            loss: loss_thr,
        },
        order,
    })
}

/// TOPO from a random order drawn with `rng`.
pub fn topo_random_start<R: Rng + ?Sized>(
    data: &Data,
    params: &TopoParams,
    rng: &mut R,
) -> Result<TopoFit> {
    let mut order: Vec<usize> = (0..data.d).collect();
    order.shuffle(rng);
    topo(data, &order, params)
}

type Pairs = Vec<(usize, usize)>;

/// `inv(I - |W|)` for a `W` whose edges all go forward in `order`: the path
/// sum `N = I + |W| N`, filled from the last node of the order backwards
/// (exact; `I - |W|` is unit triangular up to the permutation).
pub(crate) fn inv_i_minus_abs(w: &[f64], order: &[usize], d: usize) -> Vec<f64> {
    let mut n = vec![0.0; d * d];
    for (p, &a) in order.iter().enumerate().rev() {
        n[a * d + a] = 1.0;
        for &c in &order[p + 1..] {
            let wac = w[a * d + c].abs();
            if wac == 0.0 {
                continue;
            }
            for b in 0..d {
                n[a * d + b] += wac * n[c * d + b];
            }
        }
    }
    n
}

/// Pairs `(i, j)` with `i` after `j` in `order`, ranked by `[grad h(W)]_ij`
/// with `grad h = inv(I - |W|)^T` ([`SwapGradient::LogDet`], the reference's)
/// or `2 exp(W o W)^T` ([`SwapGradient::ExpSquare`]): the `small` and
/// `large` lowest, ties included.
fn candidate_pairs(
    w: &[f64],
    order: &[usize],
    d: usize,
    small: usize,
    large: usize,
    gradient: SwapGradient,
) -> (Pairs, Pairs) {
    // `m[j * d + i]` is `[grad h]_ij` (the transpose is read by index).
    let m = match gradient {
        SwapGradient::LogDet => inv_i_minus_abs(w, order, d),
        SwapGradient::ExpSquare => {
            let sq: Vec<f64> = w.iter().map(|x| x * x).collect();
            expm(&sq, d).into_iter().map(|v| 2.0 * v).collect()
        }
    };
    let mut pos = vec![0; d];
    for (p, &v) in order.iter().enumerate() {
        pos[v] = p;
    }
    let mut vals: Vec<(f64, usize, usize)> = Vec::new();
    for i in 0..d {
        for j in 0..d {
            if i != j && pos[i] > pos[j] {
                vals.push((m[j * d + i], i, j));
            }
        }
    }
    let mut sorted: Vec<f64> = vals.iter().map(|v| v.0).collect();
    sorted.sort_by(f64::total_cmp);
    let pick = |size: usize| -> Vec<(usize, usize)> {
        let thr = sorted[(size - 1).min(sorted.len() - 1)];
        vals.iter()
            .filter(|v| v.0 <= thr)
            .map(|v| (v.1, v.2))
            .collect()
    };
    (pick(small), pick(large))
}

/// Loss after swapping each pair (refitting only the affected columns).
fn evaluate_swaps(
    data: &Data,
    w: &[f64],
    order: &[usize],
    pairs: &[(usize, usize)],
    lambda: f64,
) -> Vec<(f64, usize, usize)> {
    let d = data.d;
    let mut pos = vec![0; d];
    for (p, &v) in order.iter().enumerate() {
        pos[v] = p;
    }
    pairs
        .iter()
        .map(|&(i, j)| {
            let (pj, pi) = (pos[j], pos[i]);
            let mut new_order = order.to_vec();
            new_order.swap(pi, pj);
            let mut wn = w.to_vec();
            for k in pj..=pi {
                fit_column(data, &new_order, k, lambda, &mut wn);
            }
            (l1_objective(data, &wn, lambda), i, j)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_allows_one_large_search_for_every_size() {
        // The old default `(d / 10).min(1)` gave 0 large searches for d < 10.
        for d in [2, 5, 8, 9, 10, 20, 100] {
            assert_eq!(TopoParams::default().sizes(d).2, 1, "d = {d}");
        }
        let p = TopoParams::default().with_large_searches(Some(3));
        assert_eq!(p.sizes(8).2, 3);
    }

    #[test]
    fn log_det_gradient_is_the_path_sum_inverse() {
        // Chain 2 -> 0 -> 1 with weights 0.5 and -2: inv(I - |W|) has the
        // path products off the diagonal.
        let d = 3;
        let mut w = vec![0.0; 9];
        w[2 * d] = 0.5;
        w[1] = -2.0;
        let n = inv_i_minus_abs(&w, &[2, 0, 1], d);
        // (I - |W|) N = I.
        for a in 0..d {
            for b in 0..d {
                let v: f64 = (0..d)
                    .map(|c| (f64::from(u8::from(a == c)) - w[a * d + c].abs()) * n[c * d + b])
                    .sum();
                assert!(
                    (v - f64::from(u8::from(a == b))).abs() < 1e-12,
                    "{a},{b}: {v}"
                );
            }
        }
        assert!((n[2 * d + 1] - 1.0).abs() < 1e-12); // 0.5 * 2
    }

    #[test]
    fn lasso_column_meets_the_kkt_conditions_and_shrinks() {
        use crate::dag::{random_dag, simulate_linear_sem, GraphType, Noise};
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let truth = random_dag(6, 8, GraphType::ErdosRenyi, &mut rng).unwrap();
        let x = simulate_linear_sem(&truth, 300, Noise::Gaussian, &mut rng).unwrap();
        let data = Data::new(&x, 6).unwrap();
        let order: Vec<usize> = (0..6).collect();
        let lambda = 0.1;
        let w = fit_order_l1(&data, &order, lambda);
        let g = data.loss(&w).grad;
        let d = 6;
        for j in 0..d {
            for i in 0..j {
                let (wij, gij) = (w[i * d + j], g[i * d + j]);
                if wij != 0.0 {
                    assert!((gij + lambda * wij.signum()).abs() < 1e-6, "{i}->{j}");
                } else {
                    assert!(gij.abs() <= lambda + 1e-6, "{i}->{j}");
                }
            }
        }
        let l1 = |w: &[f64]| w.iter().map(|v| v.abs()).sum::<f64>();
        assert!(l1(&w) < l1(&fit_order(&data, &order)));
        assert!(
            l1_objective(&data, &w, lambda)
                <= l1_objective(&data, &fit_order(&data, &order), lambda)
        );
    }

    #[test]
    fn both_gradients_and_l1_give_dags_no_worse_than_the_start() {
        use crate::dag::{random_dag, simulate_linear_sem, GraphType, Noise};
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let truth = random_dag(8, 12, GraphType::ErdosRenyi, &mut rng).unwrap();
        let x = simulate_linear_sem(&truth, 500, Noise::Gaussian, &mut rng).unwrap();
        let data = Data::new(&x, 8).unwrap();
        let start: Vec<usize> = (0..8).rev().collect();
        for gradient in [SwapGradient::LogDet, SwapGradient::ExpSquare] {
            for lambda in [0.0, 0.05] {
                let p = TopoParams::default()
                    .with_gradient(gradient)
                    .with_lambda(lambda);
                let fit = topo(&data, &start, &p).unwrap();
                assert!(fit.fit.w.is_dag());
                let before = l1_objective(&data, &fit_order_l1(&data, &start, lambda), lambda);
                let after = l1_objective(&data, &fit.fit.w_raw.w, lambda);
                assert!(
                    after <= before + 1e-12,
                    "{gradient:?} {lambda}: {after} > {before}"
                );
            }
        }
        assert!(topo(&data, &start, &TopoParams::default().with_lambda(-1.0)).is_err());
    }
}
