//! Nelder-Mead simplex search in ask/tell form, as NM-PPO uses it to find
//! the proxy points of constrained RLHF (Moskovitz et al. 2024, Sec. 5.3;
//! the authors' `NelderMeadTrainer` in ConstrainedRL4LMs,
//! `rl4lms/envs/text_generation/training_utils.py`).
//!
//! The procedure is the authors' loop, one step of it per evaluation:
//! sort the n+1 vertices by value; reflect the worst through the centroid
//! of the others, r = c + alpha (c - w); keep r if f(best) <= f(r) <
//! f(second worst); if f(r) < f(best) try the expansion e = c + gamma (r -
//! c) and keep e if f(e) < f(best), else r; otherwise try the contraction
//! k = c + rho (w - c) and keep it if f(k) < f(w); otherwise shrink every
//! vertex towards the best, v <- b + sigma (v - b), and stop once the
//! standard deviation of the shrunk simplex's values is below `tol`.
//! Values are cached as the authors' `NelderMeadFunc` does: a point within
//! `cache_tol` of an evaluated one (in every coordinate) reuses its value,
//! so a vertex keeps the value it had when it was evaluated.
//!
//! Unlike a closed-form optimiser, the caller evaluates each point by
//! training (NM-PPO: a segment of constrained RLHF with those thresholds),
//! so the search is driven from outside: [`NelderMead::ask`] gives the next
//! point to evaluate (or `None` once converged) and [`NelderMead::tell`]
//! gives its value (lower is better).

use duality_core::config::Validate;
use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Coefficients of the simplex moves (the authors' `nelder_mead.args`
/// defaults: alpha 1, gamma 2, rho 0.5, sigma 0.5, tol 0.01; cache
/// tolerance 5e-3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NelderMeadConfig {
    /// Reflection coefficient (> 0).
    pub alpha: f64,
    /// Expansion coefficient (> 1).
    pub gamma: f64,
    /// Contraction coefficient (in (0, 1)).
    pub rho: f64,
    /// Shrink coefficient (in (0, 1)).
    pub sigma: f64,
    /// Stop when the values of a shrunk simplex have a standard deviation
    /// below this (>= 0).
    pub tol: f64,
    /// Points closer than this in every coordinate share a value (>= 0).
    pub cache_tol: f64,
}

impl Default for NelderMeadConfig {
    fn default() -> Self {
        NelderMeadConfig {
            alpha: 1.0,
            gamma: 2.0,
            rho: 0.5,
            sigma: 0.5,
            tol: 0.01,
            cache_tol: 5e-3,
        }
    }
}

impl Validate for NelderMeadConfig {
    fn validate(&self) -> Result<()> {
        duality_core::check::positive("alpha", self.alpha)?;
        if !(self.gamma.is_finite() && self.gamma > 1.0) {
            return Err(Error::invalid("gamma", self.gamma, "a finite number > 1"));
        }
        for (name, v) in [("rho", self.rho), ("sigma", self.sigma)] {
            if !(v > 0.0 && v < 1.0) {
                return Err(Error::invalid(name, v, "in (0, 1)"));
            }
        }
        for (name, v) in [("tol", self.tol), ("cache_tol", self.cache_tol)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::invalid(name, v, "a finite number >= 0"));
            }
        }
        Ok(())
    }
}

/// Where the search is within one Nelder-Mead iteration.
#[derive(Debug, Clone)]
enum Phase {
    /// Evaluating vertices without a value (the start, after a shrink).
    Vertices { after_shrink: bool },
    /// Waiting for f(r).
    Reflect { centroid: Vec<f64>, r: Vec<f64> },
    /// Waiting for f(e).
    Expand { r: Vec<f64>, fr: f64, e: Vec<f64> },
    /// Waiting for f(k).
    Contract { k: Vec<f64> },
    /// Converged: no more points.
    Done,
}

/// An ask/tell Nelder-Mead minimiser (module docs).
#[derive(Debug, Clone)]
pub struct NelderMead {
    config: NelderMeadConfig,
    simplex: Vec<Vec<f64>>,
    values: Vec<Option<f64>>,
    cache: Vec<(Vec<f64>, f64)>,
    phase: Phase,
    pending: Option<Vec<f64>>,
    iterations: usize,
}

impl NelderMead {
    /// A search from the initial `simplex` (n + 1 finite points of
    /// dimension n >= 1).
    pub fn new(config: NelderMeadConfig, simplex: Vec<Vec<f64>>) -> Result<Self> {
        config.validate()?;
        let n = simplex.first().map_or(0, Vec::len);
        if n == 0 || simplex.len() != n + 1 {
            return Err(Error::invalid(
                "simplex",
                format!("{} points of dimension {n}", simplex.len()),
                "n + 1 points of one dimension n >= 1",
            ));
        }
        for (i, v) in simplex.iter().enumerate() {
            duality_core::check::same_len(&format!("simplex[{i}]"), v.len(), "dimension", n)?;
            duality_core::check::finite_non_empty(&format!("simplex[{i}]"), v)?;
        }
        let values = vec![None; simplex.len()];
        Ok(NelderMead {
            config,
            simplex,
            values,
            cache: Vec::new(),
            phase: Phase::Vertices {
                after_shrink: false,
            },
            pending: None,
            iterations: 0,
        })
    }

    /// The next point to evaluate, or `None` once the search has converged.
    /// Asking again before [`NelderMead::tell`] gives the same point.
    pub fn ask(&mut self) -> Option<Vec<f64>> {
        if self.pending.is_none() {
            self.pending = self.advance();
        }
        self.pending.clone()
    }

    /// The value of the point last given by [`NelderMead::ask`] (finite;
    /// lower is better).
    pub fn tell(&mut self, value: f64) -> Result<()> {
        if !value.is_finite() {
            return Err(Error::invalid(
                "Nelder-Mead value",
                value,
                "a finite number",
            ));
        }
        let x = self
            .pending
            .take()
            .ok_or_else(|| Error::Other("Nelder-Mead: tell without a pending ask".into()))?;
        self.cache.push((x, value));
        Ok(())
    }

    /// Whether the search has stopped (shrunk simplex values within `tol`).
    pub fn converged(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    /// Completed iterations (one per accepted move or shrink).
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// The best evaluated vertex and its value (`None` before the first
    /// vertex has a value).
    pub fn best(&self) -> Option<(&[f64], f64)> {
        self.simplex
            .iter()
            .zip(&self.values)
            .filter_map(|(x, v)| v.map(|v| (x.as_slice(), v)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// The current simplex.
    pub fn simplex(&self) -> &[Vec<f64>] {
        &self.simplex
    }

    /// The cached value of `x`: an exact match first, then the first point
    /// within `cache_tol` in every coordinate (the authors' order).
    fn lookup(&self, x: &[f64]) -> Option<f64> {
        if let Some((_, v)) = self.cache.iter().find(|(p, _)| p.as_slice() == x) {
            return Some(*v);
        }
        self.cache
            .iter()
            .find(|(p, _)| {
                p.iter()
                    .zip(x)
                    .all(|(a, b)| (a - b).abs() < self.config.cache_tol)
            })
            .map(|(_, v)| *v)
    }

    /// Runs the procedure until it needs a value the cache lacks.
    fn advance(&mut self) -> Option<Vec<f64>> {
        let c = self.config.clone();
        loop {
            let n = self.simplex.len() - 1;
            match std::mem::replace(&mut self.phase, Phase::Done) {
                Phase::Done => return None,
                Phase::Vertices { after_shrink } => {
                    if let Some(i) = self.values.iter().position(Option::is_none) {
                        self.phase = Phase::Vertices { after_shrink };
                        match self.lookup(&self.simplex[i]) {
                            Some(v) => self.values[i] = Some(v),
                            None => return Some(self.simplex[i].clone()),
                        }
                        continue;
                    }
                    let vals: Vec<f64> = self.values.iter().map(|v| v.unwrap_or(0.0)).collect();
                    if after_shrink {
                        self.iterations += 1;
                        let mean = vals.iter().sum::<f64>() / vals.len() as f64;
                        let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>()
                            / vals.len() as f64;
                        if var.sqrt() < c.tol {
                            self.sort();
                            return None;
                        }
                    }
                    self.sort();
                    let centroid: Vec<f64> = (0..n)
                        .map(|d| self.simplex[..n].iter().map(|v| v[d]).sum::<f64>() / n as f64)
                        .collect();
                    let worst = &self.simplex[n];
                    let r = centroid
                        .iter()
                        .zip(worst)
                        .map(|(m, w)| m + c.alpha * (m - w))
                        .collect();
                    self.phase = Phase::Reflect { centroid, r };
                }
                Phase::Reflect { centroid, r } => {
                    let Some(fr) = self.lookup(&r) else {
                        self.phase = Phase::Reflect {
                            centroid,
                            r: r.clone(),
                        };
                        return Some(r);
                    };
                    let f = |i: usize| self.values[i].unwrap_or(f64::INFINITY);
                    let (f_best, f_second) = (f(0), f(n - 1));
                    if f_best <= fr && fr < f_second {
                        self.replace_worst(r, fr);
                    } else if fr < f_best {
                        let e = centroid
                            .iter()
                            .zip(&r)
                            .map(|(m, x)| m + c.gamma * (x - m))
                            .collect();
                        self.phase = Phase::Expand { r, fr, e };
                    } else {
                        let k = centroid
                            .iter()
                            .zip(&self.simplex[n])
                            .map(|(m, w)| m + c.rho * (w - m))
                            .collect();
                        self.phase = Phase::Contract { k };
                    }
                }
                Phase::Expand { r, fr, e } => {
                    let Some(fe) = self.lookup(&e) else {
                        let out = e.clone();
                        self.phase = Phase::Expand { r, fr, e };
                        return Some(out);
                    };
                    if fe < self.values[0].unwrap_or(f64::INFINITY) {
                        self.replace_worst(e, fe);
                    } else {
                        self.replace_worst(r, fr);
                    }
                }
                Phase::Contract { k } => {
                    let Some(fk) = self.lookup(&k) else {
                        self.phase = Phase::Contract { k: k.clone() };
                        return Some(k);
                    };
                    if fk < self.values[n].unwrap_or(f64::INFINITY) {
                        self.replace_worst(k, fk);
                    } else {
                        let best = self.simplex[0].clone();
                        for i in 1..=n {
                            let v = best
                                .iter()
                                .zip(&self.simplex[i])
                                .map(|(b, x)| b + c.sigma * (x - b))
                                .collect();
                            self.simplex[i] = v;
                            self.values[i] = None;
                        }
                        self.phase = Phase::Vertices { after_shrink: true };
                    }
                }
            }
        }
    }

    /// Stable sort of the vertices by value (all evaluated).
    fn sort(&mut self) {
        let mut idx: Vec<usize> = (0..self.simplex.len()).collect();
        idx.sort_by(|&a, &b| {
            let (x, y) = (self.values[a].unwrap_or(0.0), self.values[b].unwrap_or(0.0));
            x.total_cmp(&y)
        });
        self.simplex = idx.iter().map(|&i| self.simplex[i].clone()).collect();
        self.values = idx.iter().map(|&i| self.values[i]).collect();
    }

    /// Replaces the worst vertex and ends the iteration.
    fn replace_worst(&mut self, x: Vec<f64>, v: f64) {
        let n = self.simplex.len() - 1;
        self.simplex[n] = x;
        self.values[n] = Some(v);
        self.iterations += 1;
        self.phase = Phase::Vertices {
            after_shrink: false,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimise(f: impl Fn(&[f64]) -> f64, simplex: Vec<Vec<f64>>, budget: usize) -> NelderMead {
        let config = NelderMeadConfig {
            tol: 1e-9,
            cache_tol: 0.0,
            ..NelderMeadConfig::default()
        };
        let mut nm = NelderMead::new(config, simplex).unwrap();
        for _ in 0..budget {
            let Some(x) = nm.ask() else { break };
            nm.tell(f(&x)).unwrap();
        }
        nm
    }

    #[test]
    fn finds_the_minimum_of_a_quadratic() {
        let f = |x: &[f64]| (x[0] - 0.4).powi(2) + 2.0 * (x[1] - 0.3).powi(2);
        let nm = minimise(
            f,
            vec![vec![0.9, 0.9], vec![0.8, 0.6], vec![0.5, 0.95]],
            400,
        );
        let (best, v) = nm.best().unwrap();
        assert!(v < 1e-8, "{best:?} {v}");
        assert!((best[0] - 0.4).abs() < 1e-3 && (best[1] - 0.3).abs() < 1e-3);
    }

    /// The first moves by hand on f(x) = x^2 in one dimension from {2, 3}:
    /// evaluate 2 (4) and 3 (9); reflect 3 through 2 to 1 (1 < 4 = f(best):
    /// expand to 0, value 0 < 4: keep 0). Next iteration, simplex {0, 2}:
    /// reflect 2 through 0 to -2 (value 4, not below f(best) = 0 nor below
    /// the second worst, which in 1-D is the best), so contract to 1 —
    /// already evaluated as the first reflection, so its cached value 1 < 4
    /// is used without asking. Third iteration, simplex {0, 1}: reflect to -1.
    #[test]
    fn first_moves_match_a_hand_trace() {
        let mut nm =
            NelderMead::new(NelderMeadConfig::default(), vec![vec![2.0], vec![3.0]]).unwrap();
        let mut asked = Vec::new();
        for _ in 0..6 {
            let x = nm.ask().unwrap();
            asked.push(x[0]);
            nm.tell(x[0] * x[0]).unwrap();
        }
        assert_eq!(asked, vec![2.0, 3.0, 1.0, 0.0, -2.0, -1.0]);
        assert_eq!(nm.iterations(), 2);
        let (best, v) = nm.best().unwrap();
        assert_eq!((best[0], v), (0.0, 0.0));
    }

    #[test]
    fn cache_reuses_nearby_values_and_tell_needs_an_ask() {
        let mut nm = NelderMead::new(
            NelderMeadConfig::default(),
            vec![vec![0.5, 0.5], vec![0.502, 0.5], vec![0.5, 0.9]],
        )
        .unwrap();
        assert_eq!(nm.ask().unwrap(), vec![0.5, 0.5]);
        nm.tell(1.0).unwrap();
        // The second vertex is within 5e-3 of the first: it is not asked.
        assert_eq!(nm.ask().unwrap(), vec![0.5, 0.9]);
        assert!(nm.tell(f64::NAN).is_err());
        nm.tell(2.0).unwrap();
        assert!(nm.tell(0.0).is_err());
        assert!(NelderMead::new(NelderMeadConfig::default(), vec![vec![0.0]]).is_err());
        assert!(
            NelderMead::new(NelderMeadConfig::default(), vec![vec![0.0], vec![f64::NAN]]).is_err()
        );
        let bad = NelderMeadConfig {
            gamma: 0.5,
            ..NelderMeadConfig::default()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("gamma"));
    }

    #[test]
    fn converges_and_then_asks_nothing() {
        let nm = minimise(|_| 1.0, vec![vec![0.0], vec![1.0]], 100);
        assert!(nm.converged());
    }
}
