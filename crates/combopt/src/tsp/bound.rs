//! A certified lower bound for every tour: the Held-Karp 1-tree bound
//! (Held & Karp 1970, "The traveling-salesman problem and minimum spanning
//! trees"; 1971, "... Part II").
//!
//! For city penalties `pi`, every tour is a 1-tree (a spanning tree on cities
//! `1..n` plus two edges at city 0) in which each city has degree 2, so
//!
//! ```text
//! w(pi) = min over 1-trees T of sum_{(i,j) in T} (d_ij + pi_i + pi_j) - 2 sum_i pi_i  <=  OPT
//! ```
//!
//! (Held & Karp 1970, eq. 4). [`held_karp_bound`] maximises `w` by
//! subgradient ascent (`pi_i += t (deg_i - 2)`, the step of Held, Wolfe &
//! Crowder 1974, `t = lambda (U - w) / |g|^2`) with the 1-tree computed on
//! a sparse candidate graph (the k-NN lists plus the edges of the plain
//! minimum spanning tree, so the graph is connected), which is fast but may
//! overestimate `w`. The reported bound is therefore recomputed once with
//! the exact minimum 1-tree on the complete graph (Prim, O(n^2)) at the best
//! penalties found, which is valid for any penalties.

use duality_core::config::Validate;
use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::construct::greedy_edge;
use super::instance::Instance;
use super::knn::Neighbours;

/// Parameters of [`held_karp_bound`]: [`BoundParams::default`] plus the
/// `with_*` setters, checked once by [`Validate`] when a bound starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BoundParams {
    k: usize,
    iterations: usize,
    patience: usize,
}

impl Default for BoundParams {
    fn default() -> Self {
        BoundParams {
            k: 10,
            iterations: 1_000,
            patience: 20,
        }
    }
}

impl BoundParams {
    /// Sets the candidate neighbours per city of the sparse graph (at least 1).
    pub fn with_k(mut self, k: usize) -> Self {
        self.k = k;
        self
    }
    /// Sets the most subgradient iterations (0: the plain 1-tree bound).
    pub fn with_iterations(mut self, iterations: usize) -> Self {
        self.iterations = iterations;
        self
    }
    /// Sets how many iterations without a better bound halve the step scale
    /// `lambda` (at least 1).
    pub fn with_patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }
    /// Candidate neighbours per city.
    pub fn k(&self) -> usize {
        self.k
    }
    /// Most subgradient iterations.
    pub fn iterations(&self) -> usize {
        self.iterations
    }
    /// Iterations without improvement before `lambda` is halved.
    pub fn patience(&self) -> usize {
        self.patience
    }
}

impl Validate for BoundParams {
    fn validate(&self) -> Result<()> {
        if self.k == 0 {
            return Err(Error::config("k", "must be >= 1, got 0"));
        }
        if self.patience == 0 {
            return Err(Error::config("patience", "must be >= 1, got 0"));
        }
        Ok(())
    }
}

/// A certified lower bound on the optimal tour length of an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LowerBound {
    /// The valid bound: the exact minimum 1-tree value at `penalties`.
    pub value: f64,
    /// The best value of the subgradient phase on the sparse candidate graph
    /// (at least `value`; not a certificate by itself).
    pub sparse_value: f64,
    /// Subgradient iterations run.
    pub iterations: usize,
    /// The city penalties `pi` of the certificate.
    pub penalties: Vec<f64>,
}

/// `length / lower_bound - 1`: how far a tour can at most be from optimal.
/// Fails naming the value when `length` is not finite and non-negative or
/// `lower_bound` is not finite and positive.
pub fn certified_gap(length: f64, lower_bound: f64) -> Result<f64> {
    if !(length.is_finite() && length >= 0.0) {
        return Err(Error::invalid("length", length, "finite and >= 0"));
    }
    if !(lower_bound.is_finite() && lower_bound > 0.0) {
        return Err(Error::invalid("lower_bound", lower_bound, "finite and > 0"));
    }
    Ok(length / lower_bound - 1.0)
}

/// The Held-Karp lower bound of `instance` (see the module docs). `upper` is
/// the length of a known tour, used by the step rule; `None` builds a greedy
/// tour. Fails naming the field when `params` are invalid or `upper` is not
/// finite.
pub fn held_karp_bound(
    instance: &Instance,
    params: &BoundParams,
    upper: Option<f64>,
) -> Result<LowerBound> {
    params.validate()?;
    if let Some(u) = upper {
        if !u.is_finite() {
            return Err(Error::invalid("upper", u, "a finite tour length"));
        }
    }
    let n = instance.len();
    if n < 3 {
        // The only tour is a 1-tree itself: 0, or twice the one edge.
        let value = if n == 2 {
            2.0 * instance.dist(0, 1)
        } else {
            0.0
        };
        return Ok(LowerBound {
            value,
            sparse_value: value,
            iterations: 0,
            penalties: vec![0.0; n],
        });
    }
    let dist = |i: usize, j: usize| instance.dist(i, j);
    let nb = Neighbours::new(instance, params.k);
    let upper = match upper {
        Some(u) => u,
        None => super::tour::tour_length(greedy_edge(instance, &nb).cities(), dist),
    };
    let mut pi = vec![0.0; n];
    let plain = dense_one_tree(n, &dist, &pi);
    let graph = SparseGraph::new(n, &nb, &plain.parents, &dist);
    let ascent = subgradient(&graph, n, &dist, upper, params, &mut pi);
    let certificate = dense_one_tree(n, &dist, &pi);
    Ok(LowerBound {
        value: certificate.value.max(plain.value),
        sparse_value: ascent.best,
        iterations: ascent.iterations,
        penalties: if certificate.value >= plain.value {
            pi
        } else {
            vec![0.0; n]
        },
    })
}

struct Ascent {
    best: f64,
    iterations: usize,
}

/// Subgradient ascent on the sparse graph; leaves the best penalties in `pi`.
fn subgradient(
    graph: &SparseGraph,
    n: usize,
    dist: &impl Fn(usize, usize) -> f64,
    upper: f64,
    params: &BoundParams,
    pi: &mut [f64],
) -> Ascent {
    let mut best = f64::NEG_INFINITY;
    let mut best_pi = pi.to_vec();
    let mut lambda = 2.0;
    let mut since_best = 0;
    let mut order: Vec<usize> = (0..graph.edges.len()).collect();
    let mut degree = vec![0i64; n];
    let mut iterations = 0;
    while iterations < params.iterations && lambda > 1e-7 {
        iterations += 1;
        let value = graph.one_tree(dist, pi, &mut order, &mut degree);
        if !best.is_finite() || value > best + 1e-12 * best.abs().max(1.0) {
            best = value;
            best_pi.copy_from_slice(pi);
            since_best = 0;
        } else {
            since_best += 1;
            if since_best >= params.patience {
                lambda /= 2.0;
                since_best = 0;
            }
        }
        let norm: i64 = degree.iter().map(|&d| (d - 2) * (d - 2)).sum();
        if norm == 0 {
            // The 1-tree is a tour: the bound is the optimum.
            break;
        }
        let step = lambda * (upper - value).max(1e-9 * upper.abs().max(1.0)) / norm as f64;
        for (p, &d) in pi.iter_mut().zip(&degree) {
            *p += step * (d - 2) as f64;
        }
    }
    pi.copy_from_slice(&best_pi);
    Ascent { best, iterations }
}

/// The candidate edges among cities `1..n` (city 0 is the 1-tree's special
/// city and is joined to all others when its two edges are chosen).
struct SparseGraph {
    edges: Vec<(usize, usize, f64)>,
}

impl SparseGraph {
    fn new(
        n: usize,
        nb: &Neighbours,
        mst_parents: &[usize],
        dist: &impl Fn(usize, usize) -> f64,
    ) -> Self {
        let mut pairs: Vec<(usize, usize)> = Vec::with_capacity(n * (nb.k() + 2));
        for i in 1..n {
            pairs.extend(
                nb.of(i)
                    .iter()
                    .filter(|&&j| j != 0)
                    .map(|&j| (i.min(j), i.max(j))),
            );
            let p = mst_parents[i];
            if p != 0 && p != i {
                pairs.push((i.min(p), i.max(p)));
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let edges = pairs.into_iter().map(|(a, b)| (a, b, dist(a, b))).collect();
        SparseGraph { edges }
    }

    /// Kruskal's minimum spanning tree of cities `1..n` under the penalised
    /// costs, plus city 0's two cheapest penalised edges (to any city).
    /// `order` is the previous iteration's edge order: penalties move little
    /// between iterations, and the adaptive stable sort is near linear on an
    /// almost sorted input. Fills `degree` and returns `w(pi)`.
    fn one_tree(
        &self,
        dist: &impl Fn(usize, usize) -> f64,
        pi: &[f64],
        order: &mut [usize],
        degree: &mut [i64],
    ) -> f64 {
        let n = pi.len();
        let cost = |e: usize| {
            let (a, b, d) = self.edges[e];
            d + pi[a] + pi[b]
        };
        order.sort_by(|&x, &y| cost(x).total_cmp(&cost(y)));
        degree.iter_mut().for_each(|d| *d = 0);
        let mut uf = UnionFind::new(n);
        let mut total = 0.0;
        let mut joined = 0;
        for &e in order.iter() {
            let (a, b, _) = self.edges[e];
            if uf.union(a, b) {
                total += cost(e);
                degree[a] += 1;
                degree[b] += 1;
                joined += 1;
                if joined == n - 2 {
                    break;
                }
            }
        }
        let (first, second) = two_cheapest(n, |j| dist(0, j) + pi[0] + pi[j]);
        total += first.1 + second.1;
        degree[0] = 2;
        degree[first.0] += 1;
        degree[second.0] += 1;
        total - 2.0 * pi.iter().sum::<f64>()
    }
}

/// The two cheapest `(city, cost)` among cities `1..n` (n >= 3).
fn two_cheapest(n: usize, cost: impl Fn(usize) -> f64) -> ((usize, f64), (usize, f64)) {
    let mut first = (0, f64::INFINITY);
    let mut second = (0, f64::INFINITY);
    for j in 1..n {
        let c = cost(j);
        if c < first.1 {
            second = first;
            first = (j, c);
        } else if c < second.1 {
            second = (j, c);
        }
    }
    (first, second)
}

struct DenseOneTree {
    value: f64,
    /// Prim's parent of every city of `1..n` (city 1 is the root, its own parent).
    parents: Vec<usize>,
}

/// The exact minimum 1-tree over the complete graph under penalties `pi`:
/// Prim in O(n^2) on cities `1..n`, then city 0's two cheapest edges.
fn dense_one_tree(n: usize, dist: &impl Fn(usize, usize) -> f64, pi: &[f64]) -> DenseOneTree {
    let mut in_tree = vec![false; n];
    let mut key = vec![f64::INFINITY; n];
    let mut parents = vec![1; n];
    parents[0] = 0;
    key[1] = 0.0;
    let mut current = 1;
    for _ in 1..n {
        in_tree[current] = true;
        let mut next = 0;
        let mut next_key = f64::INFINITY;
        for j in 2..n {
            if in_tree[j] {
                continue;
            }
            let c = dist(current, j) + pi[current] + pi[j];
            if c < key[j] {
                key[j] = c;
                parents[j] = current;
            }
            if key[j] < next_key {
                next_key = key[j];
                next = j;
            }
        }
        if next == 0 {
            break;
        }
        current = next;
    }
    let (first, second) = two_cheapest(n, |j| dist(0, j) + pi[0] + pi[j]);
    // w(pi) = sum of the tree's plain lengths + sum_i pi_i (deg_i - 2): the
    // same value as the penalised sum minus 2 sum pi, but when the 1-tree is
    // a tour (all degrees 2) it is exactly the tour's length, with no
    // rounding from adding and removing the penalties.
    let mut degree = vec![0i64; n];
    let mut length = dist(0, first.0) + dist(0, second.0);
    degree[0] = 2;
    degree[first.0] += 1;
    degree[second.0] += 1;
    for j in 2..n {
        let p = parents[j];
        length += dist(j, p);
        degree[j] += 1;
        degree[p] += 1;
    }
    let slack: f64 = pi
        .iter()
        .zip(&degree)
        .map(|(p, &d)| p * (d - 2) as f64)
        .sum();
    DenseOneTree {
        value: length + slack,
        parents,
    }
}

struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
        }
    }
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        self.parent[ra] = rb;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tsp::{held_karp_tour, read_optima, read_tsp};
    use duality_core::seed::Seeder;
    use std::path::PathBuf;

    #[test]
    fn bound_is_below_the_exact_optimum_and_tight_on_small_instances() {
        for seed in 0..5 {
            let inst = Instance::random_uniform(12, &mut Seeder::new(seed).rng(0)).unwrap();
            let opt = held_karp_tour(12, |a, b| inst.dist(a, b)).unwrap().length;
            let b = held_karp_bound(&inst, &BoundParams::default(), None).unwrap();
            assert!(b.value <= opt + 1e-9, "seed {seed}: {} > {opt}", b.value);
            assert!(b.value >= 0.9 * opt, "seed {seed}: {} vs {opt}", b.value);
            assert!(b.sparse_value >= b.value - 1e-9);
        }
    }

    #[test]
    fn bound_is_below_the_optimum_on_every_shipped_tsplib_instance() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/combopt/tsplib");
        let optima = read_optima(dir.join("optima.csv")).unwrap();
        assert!(optima.len() >= 16);
        for known in &optima {
            let inst = read_tsp(dir.join(format!("{}.tsp", known.name))).unwrap();
            // The bound is valid after any number of iterations; the largest
            // instances get fewer to keep the debug-build test short.
            let iterations = if inst.len() > 5_000 { 30 } else { 300 };
            let params = BoundParams::default().with_iterations(iterations);
            let b = held_karp_bound(&inst, &params, None).unwrap();
            assert!(
                b.value <= known.length,
                "{}: bound {} > optimum {}",
                known.name,
                b.value,
                known.length
            );
            assert!(b.value > 0.8 * known.length, "{}: {}", known.name, b.value);
        }
    }

    #[test]
    fn tiny_instances_gaps_and_bad_values() {
        let rows = [
            vec![0.0, 3.0, 4.0],
            vec![3.0, 0.0, 5.0],
            vec![4.0, 5.0, 0.0],
        ];
        let inst = Instance::from_matrix("three", &rows).unwrap();
        let b = held_karp_bound(&inst, &BoundParams::default(), None).unwrap();
        assert!((b.value - 12.0).abs() < 1e-9, "{}", b.value);
        assert!((certified_gap(110.0, 100.0).unwrap() - 0.1).abs() < 1e-12);
        assert!(certified_gap(1.0, 0.0)
            .unwrap_err()
            .to_string()
            .contains("lower_bound"));
        assert!(certified_gap(f64::NAN, 1.0)
            .unwrap_err()
            .to_string()
            .contains("length"));
        let big = Instance::random_uniform(20, &mut Seeder::new(1).rng(0)).unwrap();
        for (p, field) in [
            (BoundParams::default().with_k(0), "k"),
            (BoundParams::default().with_patience(0), "patience"),
        ] {
            let e = held_karp_bound(&big, &p, None).unwrap_err().to_string();
            assert!(e.contains(field), "{e}");
        }
        let e = held_karp_bound(&big, &BoundParams::default(), Some(f64::NAN)).unwrap_err();
        assert!(e.to_string().contains("upper"), "{e}");
    }
}
