//! Random DAGs and linear structural equation models, as in the NOTEARS
//! benchmarks (Zheng et al. 2018, section 5; `notears/utils.py`).

use duality_core::{Error, Result};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_distr::{Distribution, Exp, Gumbel, Normal};
use serde::{Deserialize, Serialize};

/// A `d x d` weighted adjacency matrix, row-major: `w[i * d + j] != 0`
/// means an edge `i -> j`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adjacency {
    /// Number of nodes.
    pub d: usize,
    /// Row-major weights.
    pub w: Vec<f64>,
}

impl Adjacency {
    /// Validates a square row-major matrix.
    pub fn new(d: usize, w: Vec<f64>) -> Result<Self> {
        if w.len() != d * d {
            return Err(Error::Shape {
                what: "adjacency matrix".into(),
                expected: vec![d, d],
                got: vec![w.len()],
            });
        }
        duality_core::check::finite("adjacency", &w)?;
        Ok(Adjacency { d, w })
    }

    /// From rows; fails on non-square input.
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Self> {
        let d = rows.len();
        for (i, r) in rows.iter().enumerate() {
            if r.len() != d {
                return Err(Error::Shape {
                    what: format!("adjacency row {i} (matrix must be square)"),
                    expected: vec![d],
                    got: vec![r.len()],
                });
            }
        }
        Self::new(d, rows.concat())
    }

    /// Weight of edge `i -> j`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.w[i * self.d + j]
    }

    /// Rows as nested vectors.
    pub fn rows(&self) -> Vec<Vec<f64>> {
        self.w.chunks(self.d.max(1)).map(|r| r.to_vec()).collect()
    }

    /// Number of non-zero edges.
    pub fn edge_count(&self) -> usize {
        self.w.iter().filter(|&&x| x != 0.0).count()
    }

    /// Zeroes entries with `|w| < threshold`.
    pub fn thresholded(&self, threshold: f64) -> Adjacency {
        Adjacency {
            d: self.d,
            w: self
                .w
                .iter()
                .map(|&x| if x.abs() < threshold { 0.0 } else { x })
                .collect(),
        }
    }

    /// A topological order if the graph is acyclic (Kahn's algorithm).
    pub fn topological_order(&self) -> Option<Vec<usize>> {
        let d = self.d;
        let mut indeg = vec![0usize; d];
        for i in 0..d {
            for j in 0..d {
                if self.get(i, j) != 0.0 {
                    indeg[j] += 1;
                }
            }
        }
        let mut stack: Vec<usize> = (0..d).rev().filter(|&j| indeg[j] == 0).collect();
        let mut order = Vec::with_capacity(d);
        while let Some(i) = stack.pop() {
            order.push(i);
            for j in (0..d).rev() {
                if self.get(i, j) != 0.0 {
                    indeg[j] -= 1;
                    if indeg[j] == 0 {
                        stack.push(j);
                    }
                }
            }
        }
        (order.len() == d).then_some(order)
    }

    /// Whether the graph is a DAG.
    pub fn is_dag(&self) -> bool {
        self.topological_order().is_some()
    }
}

/// Random graph model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum GraphType {
    /// Erdos-Renyi with exactly `edges` edges, acyclically oriented.
    ErdosRenyi,
    /// Barabasi-Albert preferential attachment with `round(edges / d)` edges per new node.
    ScaleFree,
}

/// Noise distribution of the SEM (unit scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Noise {
    /// Standard normal.
    Gaussian,
    /// Exponential with rate 1.
    Exponential,
    /// Standard Gumbel.
    Gumbel,
}

/// A random DAG on `d` nodes with about `edges` edges, weights uniform in
/// `[-2, -0.5] u [0.5, 2]`, nodes randomly permuted.
pub fn random_dag<R: Rng + ?Sized>(
    d: usize,
    edges: usize,
    graph: GraphType,
    rng: &mut R,
) -> Result<Adjacency> {
    duality_core::check::at_least("d (nodes)", d, 2)?;
    let max_edges = d * (d - 1) / 2;
    if edges > max_edges {
        return Err(Error::invalid(
            "edges",
            edges,
            format!("at most d(d-1)/2 = {max_edges}"),
        ));
    }
    let mut b = vec![false; d * d];
    match graph {
        GraphType::ErdosRenyi => {
            // Choose `edges` pairs i < j uniformly, orient low -> high.
            let mut pairs: Vec<(usize, usize)> = (0..d)
                .flat_map(|i| (i + 1..d).map(move |j| (i, j)))
                .collect();
            pairs.shuffle(rng);
            for &(i, j) in pairs.iter().take(edges) {
                b[i * d + j] = true;
            }
        }
        GraphType::ScaleFree => {
            let m = ((edges as f64 / d as f64).round() as usize).max(1);
            let mut indeg = vec![0usize; d];
            for t in 1..d {
                let mut chosen: Vec<usize> = Vec::new();
                while chosen.len() < m.min(t) {
                    // Probability proportional to in-degree + 1 (igraph's default).
                    let total: usize = (0..t)
                        .filter(|u| !chosen.contains(u))
                        .map(|u| indeg[u] + 1)
                        .sum();
                    let mut x = rng.random_range(0..total);
                    for u in (0..t).filter(|u| !chosen.contains(u)) {
                        if x < indeg[u] + 1 {
                            chosen.push(u);
                            break;
                        }
                        x -= indeg[u] + 1;
                    }
                }
                for u in chosen {
                    b[t * d + u] = true;
                    indeg[u] += 1;
                }
            }
        }
    }
    let mut perm: Vec<usize> = (0..d).collect();
    perm.shuffle(rng);
    let mut w = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            if b[i * d + j] {
                let mag = rng.random_range(0.5..2.0);
                let sign = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
                w[perm[i] * d + perm[j]] = sign * mag;
            }
        }
    }
    Adjacency::new(d, w)
}

/// Draws `n` samples from the linear SEM `X_j = sum_i W_ij X_i + z_j`.
/// Returns row-major `n x d` data.
pub fn simulate_linear_sem<R: Rng + ?Sized>(
    w: &Adjacency,
    n: usize,
    noise: Noise,
    rng: &mut R,
) -> Result<Vec<f64>> {
    duality_core::check::at_least("n (samples)", n, 1)?;
    let d = w.d;
    let order = w
        .topological_order()
        .ok_or_else(|| Error::invalid("adjacency", "a cyclic graph", "a DAG"))?;
    let normal = Normal::new(0.0, 1.0).map_err(|e| Error::wrap("standard normal noise", e))?;
    let exp = Exp::new(1.0).map_err(|e| Error::wrap("exponential noise", e))?;
    let gumbel = Gumbel::new(0.0, 1.0).map_err(|e| Error::wrap("Gumbel noise", e))?;
    let mut x = vec![0.0; n * d];
    for s in 0..n {
        for &j in &order {
            let z = match noise {
                Noise::Gaussian => normal.sample(rng),
                Noise::Exponential => exp.sample(rng),
                Noise::Gumbel => gumbel.sample(rng),
            };
            let mut v = z;
            for i in 0..d {
                let wij = w.get(i, j);
                if wij != 0.0 {
                    v += wij * x[s * d + i];
                }
            }
            x[s * d + j] = v;
        }
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn generators_give_dags_with_requested_size() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let er = random_dag(10, 20, GraphType::ErdosRenyi, &mut rng).unwrap();
        assert!(er.is_dag());
        assert_eq!(er.edge_count(), 20);
        let sf = random_dag(10, 20, GraphType::ScaleFree, &mut rng).unwrap();
        assert!(sf.is_dag());
        assert_eq!(sf.edge_count(), 2 * 9 - 1);
        let x = simulate_linear_sem(&er, 50, Noise::Gumbel, &mut rng).unwrap();
        assert_eq!(x.len(), 500);
        assert!(random_dag(3, 5, GraphType::ErdosRenyi, &mut rng).is_err());
        assert!(Adjacency::from_rows(&[vec![0.0, 1.0]]).is_err());
    }
}
