//! Tours: a permutation of the cities, validated once at construction.

use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::instance::Instance;

/// A closed tour visiting every city exactly once (0-based city ids).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tour(Vec<usize>);

impl Tour {
    /// Validates `order` as a tour over `n` cities: fails naming a city that
    /// is out of range, repeated or missing.
    pub fn new(order: Vec<usize>, n: usize) -> Result<Self> {
        if order.len() != n {
            let mut seen = vec![false; n];
            for &c in &order {
                if c < n {
                    seen[c] = true;
                }
            }
            if order.len() < n {
                let missing = seen.iter().position(|s| !s).unwrap_or(0);
                return Err(Error::invalid(
                    "tour",
                    format!("{} cities (city {missing} missing)", order.len()),
                    format!("a permutation of all {n} cities"),
                ));
            }
        }
        let mut seen = vec![false; n];
        for (pos, &c) in order.iter().enumerate() {
            if c >= n {
                return Err(Error::invalid(
                    format!("tour[{pos}]"),
                    c,
                    format!("a city id in 0..{n}"),
                ));
            }
            if seen[c] {
                return Err(Error::invalid(
                    format!("tour[{pos}]"),
                    c,
                    "a city not visited before (each city exactly once)",
                ));
            }
            seen[c] = true;
        }
        if let Some(missing) = seen.iter().position(|s| !s) {
            return Err(Error::invalid(
                "tour",
                format!("city {missing} missing"),
                format!("all {n} cities"),
            ));
        }
        Ok(Tour(order))
    }

    /// Wraps an order known to be a permutation (internal constructions).
    pub(crate) fn from_permutation(order: Vec<usize>) -> Self {
        debug_assert!({
            let mut s = order.clone();
            s.sort_unstable();
            s.iter().enumerate().all(|(i, &c)| i == c)
        });
        Tour(order)
    }

    /// The visiting order.
    pub fn cities(&self) -> &[usize] {
        &self.0
    }

    /// Consumes the tour into its order.
    pub fn into_vec(self) -> Vec<usize> {
        self.0
    }

    /// Number of cities.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for an empty tour (never produced by the solvers).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Closed tour length under `instance`'s metric.
    pub fn length(&self, instance: &Instance) -> f64 {
        tour_length(&self.0, |a, b| instance.dist(a, b))
    }

    /// Checks the tour belongs to `instance` (same number of cities).
    pub fn check_for(&self, instance: &Instance) -> Result<()> {
        duality_core::check::same_len("tour", self.len(), "instance cities", instance.len())
    }
}

/// Length of the closed tour `order` under `dist`.
pub(crate) fn tour_length(order: &[usize], dist: impl Fn(usize, usize) -> f64) -> f64 {
    if order.len() < 2 {
        return 0.0;
    }
    let mut total = dist(order[order.len() - 1], order[0]);
    for w in order.windows(2) {
        total += dist(w[0], w[1]);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_repeats_and_missing() {
        let e = Tour::new(vec![0, 1, 1, 3], 4).unwrap_err().to_string();
        assert!(e.contains("tour[2]") && e.contains("= 1"), "{e}");
        let e = Tour::new(vec![0, 1, 2], 4).unwrap_err().to_string();
        assert!(e.contains("city 3 missing"), "{e}");
        let e = Tour::new(vec![0, 1, 2, 9], 4).unwrap_err().to_string();
        assert!(e.contains("tour[3]") && e.contains("9"), "{e}");
        assert!(Tour::new(vec![3, 1, 2, 0], 4).is_ok());
    }
}
