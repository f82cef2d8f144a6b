//! Held-Karp dynamic programming (Held & Karp 1962; Bellman 1962): exact
//! shortest tours and fixed-end Hamiltonian paths in O(2^n n^2) time.

use duality_core::{Error, Result};

/// Largest size accepted by the exact solvers (2^20 x 20 states).
pub const MAX_EXACT: usize = 20;

/// An optimal tour or path found by Held-Karp.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactTour {
    /// Its length.
    pub length: f64,
    /// The visiting order (a path starts at 0 and ends at `m - 1`; a tour
    /// starts at 0).
    pub order: Vec<usize>,
}

/// Shortest path from `0` to `m - 1` through all of `0..m`, under `dist`.
/// The order has `order[0] = 0` and `order[m-1] = m - 1`. Fails naming the
/// size when `m < 2` or `m > MAX_EXACT`.
pub fn held_karp_path(m: usize, dist: impl Fn(usize, usize) -> f64) -> Result<ExactTour> {
    if m < 2 {
        return Err(Error::invalid("path size", m, "at least 2 cities"));
    }
    if m > MAX_EXACT {
        return Err(Error::invalid(
            "path size",
            m,
            format!("at most {MAX_EXACT} cities for exact DP"),
        ));
    }
    if m == 2 {
        return Ok(ExactTour {
            length: dist(0, 1),
            order: vec![0, 1],
        });
    }
    // Inner cities 1..m-1 are bits 0..k-1.
    let k = m - 2;
    let full = (1usize << k) - 1;
    let mut cost = vec![f64::INFINITY; (1 << k) * k];
    let mut from = vec![u8::MAX; (1 << k) * k];
    for j in 0..k {
        cost[(1 << j) * k + j] = dist(0, j + 1);
    }
    for set in 1..=full {
        for j in 0..k {
            if set & (1 << j) == 0 {
                continue;
            }
            let c = cost[set * k + j];
            if !c.is_finite() {
                continue;
            }
            for t in 0..k {
                if set & (1 << t) != 0 {
                    continue;
                }
                let ns = set | (1 << t);
                let nc = c + dist(j + 1, t + 1);
                if nc < cost[ns * k + t] {
                    cost[ns * k + t] = nc;
                    from[ns * k + t] = j as u8;
                }
            }
        }
    }
    let (mut best, mut last) = (f64::INFINITY, 0);
    for j in 0..k {
        let c = cost[full * k + j] + dist(j + 1, m - 1);
        if c < best {
            best = c;
            last = j;
        }
    }
    let mut inner = Vec::with_capacity(k);
    let mut set = full;
    let mut j = last;
    loop {
        inner.push(j + 1);
        let prev = from[set * k + j];
        set &= !(1 << j);
        if prev == u8::MAX {
            break;
        }
        j = prev as usize;
    }
    inner.reverse();
    let mut order = vec![0];
    order.extend(inner);
    order.push(m - 1);
    Ok(ExactTour {
        length: best,
        order,
    })
}

/// Optimal closed tour over `0..n` (`n <= MAX_EXACT + 1`): a path from city 0
/// back to a copy of city 0. Fails naming the size when `n < 3` or
/// `n > MAX_EXACT + 1`.
pub fn held_karp_tour(n: usize, dist: impl Fn(usize, usize) -> f64) -> Result<ExactTour> {
    if n < 3 {
        return Err(Error::invalid("number of cities", n, "at least 3"));
    }
    // Path over 0..n where index n is a copy of city 0.
    let map = |i: usize| if i == n { 0 } else { i };
    let mut path = held_karp_path(n + 1, |a, b| dist(map(a), map(b)))?;
    path.order.truncate(n);
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tsp::instance::Instance;
    use crate::tsp::tour::tour_length;
    use rand::SeedableRng;

    fn brute_force(n: usize, d: &impl Fn(usize, usize) -> f64) -> f64 {
        fn rec(
            path: &mut Vec<usize>,
            used: &mut [bool],
            d: &dyn Fn(usize, usize) -> f64,
            best: &mut f64,
        ) {
            let n = used.len();
            if path.len() == n {
                *best = best.min(tour_length(path, d));
                return;
            }
            for c in 1..n {
                if !used[c] {
                    used[c] = true;
                    path.push(c);
                    rec(path, used, d, best);
                    path.pop();
                    used[c] = false;
                }
            }
        }
        let mut best = f64::INFINITY;
        let mut used = vec![false; n];
        used[0] = true;
        rec(&mut vec![0], &mut used, d, &mut best);
        best
    }

    #[test]
    fn matches_brute_force() {
        for seed in 0..6 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let inst = Instance::random_uniform(8, &mut rng).unwrap();
            let d = |a: usize, b: usize| inst.dist(a, b);
            let ExactTour { length: len, order } = held_karp_tour(8, d).unwrap();
            assert!((len - tour_length(&order, d)).abs() < 1e-9);
            assert!((len - brute_force(8, &d)).abs() < 1e-9);
        }
    }

    #[test]
    fn rejects_too_large() {
        assert!(held_karp_path(30, |_, _| 1.0).is_err());
    }
}
