//! Return-distribution representations behind one trait.
//!
//! Every representation is, at bottom, a finitely supported law: sorted atoms
//! with probabilities. The [`ReturnDistribution`] trait exposes that view and
//! derives all statistics from it (mean, variance, quantile/VaR, lower-tail
//! CVaR with the split atom, expected utility) and distances (Wasserstein-1,
//! Cramér, Kolmogorov-Smirnov), so they are implemented once.
//!
//! Representations (Bellemare, Dabney & Rowland, *Distributional RL*, ch. 5):
//! - [`FiniteSupport`]: exact atoms and probabilities, equal atoms merged, with
//!   an optional atom budget enforced by mean-preserving merges of the closest
//!   adjacent atoms;
//! - [`Categorical`]: probabilities on a fixed sorted support, obtained by the
//!   Cramér (C51) projection, which preserves the mean when the law lies
//!   inside the support;
//! - [`Quantiles`]: `n` equally weighted locations at the quantile midpoints
//!   `tau_i = (2i - 1) / 2n`, the W1-optimal quantile projection.
//!
//! A [`Representation`] turns any finitely supported law (e.g. a Bellman
//! target mixture) into its representation.

use std::sync::Arc;

use duality_core::config::Validate;
use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Atoms closer than this (relative) are considered equal when merging.
pub const ATOM_EPS: f64 = 1e-12;

/// A finitely supported return distribution: sorted atoms with probabilities.
pub trait ReturnDistribution {
    /// Sorted atoms (strictly increasing).
    fn atoms(&self) -> &[f64];
    /// Probabilities of the atoms (same length, summing to 1).
    fn probs(&self) -> &[f64];

    /// Expectation.
    fn mean(&self) -> f64 {
        self.atoms()
            .iter()
            .zip(self.probs())
            .map(|(x, p)| x * p)
            .sum()
    }

    /// Variance.
    fn variance(&self) -> f64 {
        let m = self.mean();
        self.atoms()
            .iter()
            .zip(self.probs())
            .map(|(x, p)| p * (x - m) * (x - m))
            .sum()
    }

    /// Lower quantile `F^{-1}(tau) = inf { x : F(x) >= tau }` for `tau` in `(0, 1]`.
    fn quantile(&self, tau: f64) -> Result<f64> {
        if !(tau > 0.0 && tau <= 1.0) {
            return Err(Error::invalid("tau", tau, "a level in (0, 1]"));
        }
        Ok(quantile_sorted(self.atoms(), self.probs(), tau))
    }

    /// Value at risk at level `alpha` (lower tail): the `alpha`-quantile.
    fn var(&self, alpha: f64) -> Result<f64> {
        self.quantile(alpha)
    }

    /// Lower-tail conditional value at risk `CVaR_alpha = (1/alpha) int_0^alpha F^{-1}(u) du`,
    /// exact for discrete laws: the atom straddling level `alpha` is split.
    /// `alpha = 1` gives the mean.
    fn cvar(&self, alpha: f64) -> Result<f64> {
        if !(alpha > 0.0 && alpha <= 1.0) {
            return Err(Error::invalid("alpha", alpha, "a level in (0, 1]"));
        }
        Ok(cvar_sorted(self.atoms(), self.probs(), alpha))
    }

    /// Expected utility `E[f(X)]`.
    fn expected_utility(&self, f: &dyn Fn(f64) -> f64) -> f64 {
        self.atoms()
            .iter()
            .zip(self.probs())
            .map(|(&x, p)| p * f(x))
            .sum()
    }

    /// CDF `F(x) = P(X <= x)`.
    fn cdf(&self, x: f64) -> f64 {
        self.atoms()
            .iter()
            .zip(self.probs())
            .take_while(|(a, _)| **a <= x)
            .map(|(_, p)| p)
            .sum()
    }

    /// Wasserstein-1 distance `int |F - G|`.
    fn wasserstein1(&self, other: &dyn ReturnDistribution) -> f64 {
        cdf_distance(self, other, |d, w| d.abs() * w, |s| s)
    }

    /// Cramér (l2) distance `sqrt(int (F - G)^2)`.
    fn cramer(&self, other: &dyn ReturnDistribution) -> f64 {
        cdf_distance(self, other, |d, w| d * d * w, f64::sqrt)
    }

    /// Kolmogorov-Smirnov distance `sup |F - G|`.
    fn kolmogorov_smirnov(&self, other: &dyn ReturnDistribution) -> f64 {
        let grid = merged_grid(self.atoms(), other.atoms());
        grid.iter()
            .map(|&x| (self.cdf(x) - other.cdf(x)).abs())
            .fold(0.0, f64::max)
    }
}

fn merged_grid(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut g: Vec<f64> = a.iter().chain(b).copied().collect();
    g.sort_by(f64::total_cmp);
    g.dedup();
    g
}

/// Integrates `h(F - G, width)` over the piecewise-constant CDF difference.
fn cdf_distance<A: ReturnDistribution + ?Sized>(
    a: &A,
    b: &dyn ReturnDistribution,
    h: impl Fn(f64, f64) -> f64,
    finish: impl Fn(f64) -> f64,
) -> f64 {
    let grid = merged_grid(a.atoms(), b.atoms());
    let (mut fa, mut fb) = (0.0, 0.0);
    let (mut ia, mut ib) = (0, 0);
    let mut total = 0.0;
    for w in grid.windows(2) {
        let x = w[0];
        while ia < a.atoms().len() && a.atoms()[ia] <= x {
            fa += a.probs()[ia];
            ia += 1;
        }
        while ib < b.atoms().len() && b.atoms()[ib] <= x {
            fb += b.probs()[ib];
            ib += 1;
        }
        total += h(fa - fb, w[1] - w[0]);
    }
    finish(total)
}

pub(crate) fn quantile_sorted(atoms: &[f64], probs: &[f64], tau: f64) -> f64 {
    let mut acc = 0.0;
    for (&x, &p) in atoms.iter().zip(probs) {
        acc += p;
        // Tolerance so that tau = 1 and sums slightly below 1 still land on an atom.
        if acc >= tau - 1e-12 {
            return x;
        }
    }
    atoms.last().copied().unwrap_or(f64::NAN)
}

pub(crate) fn cvar_sorted(atoms: &[f64], probs: &[f64], alpha: f64) -> f64 {
    let mut remaining = alpha;
    let mut total = 0.0;
    for (&x, &p) in atoms.iter().zip(probs) {
        let take = p.min(remaining);
        total += take * x;
        remaining -= take;
        if remaining <= 0.0 {
            break;
        }
    }
    if remaining > 1e-12 {
        // Probabilities summed slightly below alpha: put the rest on the top atom.
        total += remaining * atoms.last().copied().unwrap_or(0.0);
    }
    total / alpha
}

/// Exact finite-support law: sorted distinct atoms with probabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiniteSupport {
    atoms: Vec<f64>,
    probs: Vec<f64>,
}

impl ReturnDistribution for FiniteSupport {
    fn atoms(&self) -> &[f64] {
        &self.atoms
    }
    fn probs(&self) -> &[f64] {
        &self.probs
    }
}

impl FiniteSupport {
    /// Builds a law from (possibly unsorted, repeated) atoms and probabilities,
    /// validating them (finite atoms, probabilities in `[0, 1]` summing to 1).
    pub fn new(atoms: Vec<f64>, probs: Vec<f64>) -> Result<Self> {
        duality_core::check::finite_non_empty("atoms", &atoms)?;
        duality_core::check::same_len("atoms", atoms.len(), "probs", probs.len())?;
        duality_core::check::distribution("probs", &probs, 1e-9)?;
        Ok(Self::from_weighted(atoms.into_iter().zip(probs).collect()))
    }

    /// A point mass.
    pub fn dirac(x: f64) -> Self {
        FiniteSupport {
            atoms: vec![x],
            probs: vec![1.0],
        }
    }

    /// Sorts weighted atoms, merges equal ones and drops zero weights
    /// (no validation: for internal use on already valid mixtures).
    pub fn from_weighted(mut pairs: Vec<(f64, f64)>) -> Self {
        pairs.retain(|&(_, p)| p > 0.0);
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut atoms: Vec<f64> = Vec::with_capacity(pairs.len());
        let mut probs: Vec<f64> = Vec::with_capacity(pairs.len());
        for (x, p) in pairs {
            match atoms.last() {
                Some(&last) if (x - last).abs() <= ATOM_EPS * (1.0 + x.abs()) => {
                    if let Some(lp) = probs.last_mut() {
                        *lp += p;
                    }
                }
                _ => {
                    atoms.push(x);
                    probs.push(p);
                }
            }
        }
        if atoms.is_empty() {
            return FiniteSupport::dirac(0.0);
        }
        FiniteSupport { atoms, probs }
    }

    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.atoms.len()
    }

    /// Always false (a law has at least one atom); for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.atoms.is_empty()
    }

    /// The law of `shift + scale * X` (`scale >= 0`).
    pub fn affine(&self, shift: f64, scale: f64) -> Self {
        FiniteSupport {
            atoms: self.atoms.iter().map(|x| shift + scale * x).collect(),
            probs: self.probs.clone(),
        }
    }

    /// Reduces to at most `budget` atoms by repeatedly merging the closest
    /// adjacent pair into its probability-weighted mean; the mean is preserved
    /// exactly (up to rounding).
    pub fn with_budget(mut self, budget: usize) -> Self {
        let budget = budget.max(1);
        while self.atoms.len() > budget {
            let mut best = 0;
            let mut gap = f64::INFINITY;
            for i in 0..self.atoms.len() - 1 {
                let g = self.atoms[i + 1] - self.atoms[i];
                if g < gap {
                    gap = g;
                    best = i;
                }
            }
            let (p, q) = (self.probs[best], self.probs[best + 1]);
            let m = if p + q > 0.0 {
                (p * self.atoms[best] + q * self.atoms[best + 1]) / (p + q)
            } else {
                self.atoms[best]
            };
            self.atoms[best] = m;
            self.probs[best] = p + q;
            self.atoms.remove(best + 1);
            self.probs.remove(best + 1);
        }
        self
    }
}

/// Probabilities on a fixed, strictly increasing support (shared via `Arc`).
#[derive(Debug, Clone, PartialEq)]
pub struct Categorical {
    support: Arc<[f64]>,
    probs: Vec<f64>,
}

impl ReturnDistribution for Categorical {
    fn atoms(&self) -> &[f64] {
        &self.support
    }
    fn probs(&self) -> &[f64] {
        &self.probs
    }
}

/// Checks a categorical support: non-empty, finite, strictly increasing.
pub fn check_support(support: &[f64]) -> Result<()> {
    duality_core::check::finite_non_empty("support", support)?;
    for i in 1..support.len() {
        if support[i] <= support[i - 1] {
            return Err(Error::invalid(
                format!("support[{i}]"),
                support[i],
                format!(
                    "strictly greater than support[{}] = {} (sorted, no duplicates)",
                    i - 1,
                    support[i - 1]
                ),
            ));
        }
    }
    Ok(())
}

/// The uniform support of `n` atoms on `[lo, hi]`.
pub fn uniform_support(lo: f64, hi: f64, n: usize) -> Result<Vec<f64>> {
    duality_core::check::at_least("number of atoms", n, 2)?;
    duality_core::check::finite_scalar("lo", lo)?;
    duality_core::check::finite_scalar("hi", hi)?;
    if hi <= lo {
        return Err(Error::invalid("hi", hi, format!("greater than lo = {lo}")));
    }
    Ok((0..n)
        .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
        .collect())
}

/// Cramér (C51) projection of weighted atoms onto `support`: mass at `x`
/// between `z_i <= x <= z_{i+1}` is split linearly between the two; mass
/// outside is clipped to the end atoms. Returns probabilities on `support`.
pub fn cramer_project(support: &[f64], pairs: &[(f64, f64)]) -> Vec<f64> {
    let k = support.len();
    let mut probs = vec![0.0; k];
    if k == 0 {
        return probs;
    }
    for &(x, p) in pairs {
        if x <= support[0] {
            probs[0] += p;
        } else if x >= support[k - 1] {
            probs[k - 1] += p;
        } else {
            // First index with support[j] > x (j >= 1 here).
            let j = support.partition_point(|&z| z <= x);
            let (lo, hi) = (support[j - 1], support[j]);
            let w = (x - lo) / (hi - lo);
            probs[j - 1] += p * (1.0 - w);
            probs[j] += p * w;
        }
    }
    probs
}

impl Categorical {
    /// A categorical law with the given probabilities on `support` (validated).
    pub fn new(support: Arc<[f64]>, probs: Vec<f64>) -> Result<Self> {
        check_support(&support)?;
        duality_core::check::same_len("support", support.len(), "probs", probs.len())?;
        duality_core::check::distribution("probs", &probs, 1e-9)?;
        Ok(Categorical { support, probs })
    }

    /// Cramér projection of any finite law onto `support` (validated).
    pub fn project(support: Arc<[f64]>, law: &dyn ReturnDistribution) -> Result<Self> {
        check_support(&support)?;
        let pairs: Vec<(f64, f64)> = law
            .atoms()
            .iter()
            .copied()
            .zip(law.probs().iter().copied())
            .collect();
        let probs = cramer_project(&support, &pairs);
        Ok(Categorical { support, probs })
    }

    /// The support.
    pub fn support(&self) -> &Arc<[f64]> {
        &self.support
    }
}

/// `n` equally weighted quantile locations (sorted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quantiles {
    locs: Vec<f64>,
    probs: Vec<f64>,
}

impl ReturnDistribution for Quantiles {
    fn atoms(&self) -> &[f64] {
        &self.locs
    }
    fn probs(&self) -> &[f64] {
        &self.probs
    }
}

/// W1-optimal quantile projection of sorted (atom, prob) pairs onto `n`
/// equally weighted locations: location `i` is the quantile at the midpoint
/// `tau_i = (2i + 1) / 2n` (0-based).
pub fn quantile_project(atoms: &[f64], probs: &[f64], n: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(n);
    let mut acc = 0.0;
    let mut j = 0;
    for i in 0..n {
        let tau = (2 * i + 1) as f64 / (2 * n) as f64;
        while j < atoms.len() && acc + probs[j] < tau - 1e-12 {
            acc += probs[j];
            j += 1;
        }
        out.push(atoms[j.min(atoms.len().saturating_sub(1))]);
    }
    out
}

impl Quantiles {
    /// The W1 quantile projection of `law` onto `n` locations.
    pub fn project(n: usize, law: &dyn ReturnDistribution) -> Result<Self> {
        duality_core::check::at_least("number of quantiles", n, 1)?;
        let locs = quantile_project(law.atoms(), law.probs(), n);
        Ok(Self::from_sorted_locs(locs))
    }

    /// From locations (sorted here); validates finiteness.
    pub fn new(mut locs: Vec<f64>) -> Result<Self> {
        duality_core::check::finite_non_empty("quantile locations", &locs)?;
        locs.sort_by(f64::total_cmp);
        Ok(Self::from_sorted_locs(locs))
    }

    fn from_sorted_locs(locs: Vec<f64>) -> Self {
        // Keep equal locations merged so the atoms stay strictly increasing.
        let n = locs.len() as f64;
        let law = FiniteSupport::from_weighted(locs.into_iter().map(|x| (x, 1.0 / n)).collect());
        Quantiles {
            locs: law.atoms,
            probs: law.probs,
        }
    }
}

/// How return distributions are represented inside dynamic programming.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Representation {
    /// Exact finite support, optionally capped at `budget` atoms by
    /// mean-preserving merges.
    Exact {
        /// Maximum number of atoms (`None`: unlimited; beware exponential growth).
        budget: Option<usize>,
    },
    /// Categorical on a fixed support with the Cramér projection.
    Categorical {
        /// Strictly increasing support.
        support: Vec<f64>,
    },
    /// `n` quantiles with the W1 projection.
    Quantile {
        /// Number of quantiles.
        n: usize,
    },
}

impl Validate for Representation {
    /// Checks the parameters (support sorted without duplicates, sizes >= 1).
    fn validate(&self) -> Result<()> {
        match self {
            Representation::Exact { budget: Some(b) } => {
                duality_core::check::at_least("atom budget", *b, 1)
            }
            Representation::Exact { budget: None } => Ok(()),
            Representation::Categorical { support } => check_support(support),
            Representation::Quantile { n } => {
                duality_core::check::at_least("number of quantiles", *n, 1)
            }
        }
    }
}

impl Representation {
    /// Projects a mixture of weighted atoms (probabilities summing to 1) onto
    /// this representation; the result is a [`FiniteSupport`] view.
    pub fn project(&self, pairs: Vec<(f64, f64)>) -> FiniteSupport {
        match self {
            Representation::Exact { budget } => {
                let law = FiniteSupport::from_weighted(pairs);
                match budget {
                    Some(b) => law.with_budget(*b),
                    None => law,
                }
            }
            Representation::Categorical { support } => {
                let probs = cramer_project(support, &pairs);
                FiniteSupport::from_weighted(support.iter().copied().zip(probs).collect())
            }
            Representation::Quantile { n } => {
                let law = FiniteSupport::from_weighted(pairs);
                let locs = quantile_project(&law.atoms, &law.probs, *n);
                let w = 1.0 / *n as f64;
                FiniteSupport::from_weighted(locs.into_iter().map(|x| (x, w)).collect())
            }
        }
    }

    /// Maximum number of atoms a projected law can have (`None`: unbounded).
    pub fn max_atoms(&self) -> Option<usize> {
        match self {
            Representation::Exact { budget } => *budget,
            Representation::Categorical { support } => Some(support.len()),
            Representation::Quantile { n } => Some(*n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use proptest::prelude::*;

    fn law(a: &[f64], p: &[f64]) -> FiniteSupport {
        FiniteSupport::new(a.to_vec(), p.to_vec()).unwrap()
    }

    #[test]
    fn hand_checked_statistics() {
        // X in {-10, 0, 5} w.p. {0.05, 0.15, 0.8}.
        let x = law(&[5.0, -10.0, 0.0], &[0.8, 0.05, 0.15]);
        assert_relative_eq!(x.mean(), 3.5, epsilon = 1e-12);
        assert_relative_eq!(x.var(0.05).unwrap(), -10.0);
        assert_relative_eq!(x.var(0.06).unwrap(), 0.0);
        // CVaR_0.1 = (0.05 * -10 + 0.05 * 0) / 0.1 = -5 (split atom at 0).
        assert_relative_eq!(x.cvar(0.1).unwrap(), -5.0, epsilon = 1e-12);
        // CVaR_0.25 = (0.05*-10 + 0.15*0 + 0.05*5)/0.25 = -1.
        assert_relative_eq!(x.cvar(0.25).unwrap(), -1.0, epsilon = 1e-12);
        assert_relative_eq!(x.cvar(1.0).unwrap(), x.mean(), epsilon = 1e-12);
        assert!(x.cvar(0.0).is_err() && x.cvar(1.5).is_err());
        let eu = x.expected_utility(&|v: f64| v.min(0.0));
        assert_relative_eq!(eu, -0.5, epsilon = 1e-12);
    }

    #[test]
    fn equal_atoms_merge_and_budget_keeps_mean() {
        let x = law(&[1.0, 1.0, 2.0, 2.5, 10.0], &[0.2, 0.2, 0.2, 0.2, 0.2]);
        assert_eq!(x.len(), 4);
        let m = x.mean();
        let y = x.clone().with_budget(2);
        assert_eq!(y.len(), 2);
        assert_relative_eq!(y.mean(), m, epsilon = 1e-12);
    }

    #[test]
    fn distances_hand_checked() {
        let a = FiniteSupport::dirac(0.0);
        let b = law(&[0.0, 2.0], &[0.5, 0.5]);
        assert_relative_eq!(a.wasserstein1(&b), 1.0, epsilon = 1e-12);
        assert_relative_eq!(a.cramer(&b), (0.25f64 * 2.0).sqrt(), epsilon = 1e-12);
        assert_relative_eq!(a.kolmogorov_smirnov(&b), 0.5, epsilon = 1e-12);
    }

    #[test]
    fn projections_hand_checked() {
        let support: Arc<[f64]> = Arc::from(vec![0.0, 1.0, 2.0]);
        let x = law(&[0.25, 1.5, 3.0], &[0.4, 0.4, 0.2]);
        let c = Categorical::project(support.clone(), &x).unwrap();
        // 0.25 -> 0.3 @0, 0.1 @1; 1.5 -> 0.2 @1, 0.2 @2; 3.0 -> 0.2 @2.
        for (got, want) in c.probs().iter().zip([0.3, 0.3, 0.4]) {
            assert_relative_eq!(*got, want, epsilon = 1e-12);
        }
        let q = Quantiles::project(4, &x).unwrap();
        // taus 1/8, 3/8, 5/8, 7/8 -> 0.25, 0.25, 1.5, 3.0.
        assert_eq!(q.atoms(), &[0.25, 1.5, 3.0]);
        assert_relative_eq!(q.probs()[0], 0.5);
        assert!(Categorical::project(Arc::from(vec![0.0, 0.0]), &x).is_err());
        assert!(Categorical::project(Arc::from(vec![1.0, 0.0]), &x).is_err());
        assert!(FiniteSupport::new(vec![], vec![]).is_err());
        assert!(FiniteSupport::new(vec![1.0], vec![0.9]).is_err());
    }

    proptest! {
        #[test]
        fn cramer_projection_preserves_mean_inside_support(
            xs in proptest::collection::vec(0.0f64..10.0, 1..20),
        ) {
            let n = xs.len() as f64;
            let pairs: Vec<(f64, f64)> = xs.iter().map(|&x| (x, 1.0 / n)).collect();
            let support = uniform_support(0.0, 10.0, 11).unwrap();
            let probs = cramer_project(&support, &pairs);
            let m: f64 = support.iter().zip(&probs).map(|(z, p)| z * p).sum();
            let want: f64 = xs.iter().sum::<f64>() / n;
            prop_assert!((m - want).abs() < 1e-9);
        }

        #[test]
        fn cvar_is_between_min_and_mean(
            xs in proptest::collection::vec(-5.0f64..5.0, 1..20),
            alpha in 0.01f64..1.0,
        ) {
            let n = xs.len() as f64;
            let l = FiniteSupport::from_weighted(xs.iter().map(|&x| (x, 1.0 / n)).collect());
            let c = l.cvar(alpha).unwrap();
            prop_assert!(c >= l.atoms()[0] - 1e-9 && c <= l.mean() + 1e-9);
        }
    }
}
