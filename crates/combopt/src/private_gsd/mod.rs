//! Private synthetic data by a genetic algorithm: **Private-GSD** (Liu,
//! Vietri & Wu, ICML 2023, "Generating Private Synthetic Data with Genetic
//! Algorithms"), on k-way marginal queries of a discrete table.
//!
//! 1. Measure every k-way marginal of the real data with the Gaussian
//!    mechanism under a zCDP budget ([`Workload::measure`]; budgets given as
//!    `(epsilon, delta)` are converted with [`privacy::cdp_rho`]).
//! 2. Fit a synthetic dataset to the noisy answers with the genetic
//!    algorithm ([`fit`], mutation + crossover over synthetic rows), which
//!    only post-processes the measurements, so the synthetic data has the
//!    same privacy guarantee.
//!
//! The baseline [`independent_marginals`] spends the same budget on the
//! one-way marginals and releases their product distribution.
//!
//! Followed source: the authors' code, `giusevtr/private_gsd` on GitHub
//! (`models/gsd.py`, `stats/*: private_measure_all_statistics`), and the
//! zCDP conversion it calls (`snsynth.utils.cdp_rho`, Canonne, Kamath &
//! Steinke 2020). Only the non-adaptive ("one-shot") mechanism is
//! implemented, with discrete columns.
//!
//! ```
//! use duality_combopt::private_gsd::{private_gsd, Budget, Dataset, GsdParams};
//!
//! let data = Dataset::breast_cancer()?;
//! let params = GsdParams { synthetic_rows: 100, generations: 200, ..GsdParams::default() };
//! let run = private_gsd(&data, 2, Budget::Approx { epsilon: 1.0, delta: 1e-5 }, &params, 7)?;
//! assert_eq!(run.synthetic.rows(), 100);
//! assert!(run.max_error <= 1.0);
//! # Ok::<(), duality_combopt::Error>(())
//! ```

mod data;
mod gsd;
mod marginals;
pub mod privacy;

#[cfg(feature = "experiments")]
pub(crate) mod bench;

pub use data::{Dataset, Domain, BREAST_CANCER_CSV, MAX_DOMAIN_SIZE};
pub use gsd::{fit, independent_marginals, project_simplex, GsdParams, GsdRun};
pub use marginals::{query_errors, Measurement, Workload, MAX_QUERIES};
pub use privacy::Budget;

use duality_core::seed::Seeder;
use duality_core::Result;

/// Result of [`private_gsd`] and [`independent_baseline`]: errors are
/// against the *true* answers of the k-way workload.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PrivateRun {
    /// The synthetic dataset (empty rows for the baseline, which releases a
    /// product distribution).
    pub synthetic: Dataset,
    /// zCDP budget spent.
    pub rho: f64,
    /// Noise standard deviation per measured query.
    pub sigma: f64,
    /// Largest absolute error over the workload's queries.
    pub max_error: f64,
    /// Mean absolute error over the workload's queries.
    pub mean_error: f64,
    /// Mean absolute error of the noisy measurements themselves (none for
    /// the baseline, which measures other queries).
    pub noisy_mean_error: Option<f64>,
    /// Generations the genetic algorithm ran (0 for the baseline).
    pub generations: usize,
}

/// Private-GSD on all k-way marginals of `data` under `budget`; `seed`
/// fixes the noise (stream 0) and the genetic algorithm (stream 1).
pub fn private_gsd(
    data: &Dataset,
    k: usize,
    budget: Budget,
    params: &GsdParams,
    seed: u64,
) -> Result<PrivateRun> {
    params.validate()?;
    let rho = budget.rho()?;
    let w = Workload::all_k_way(data.domain(), k)?;
    let seeder = Seeder::new(seed);
    let truth = w.answers(data)?;
    let m = w.measure(data, rho, &mut seeder.rng(0))?;
    let run = fit(&w, &m.noisy, params, &mut seeder.rng(1))?;
    let (max_error, mean_error) = query_errors(&truth, &w.answers(&run.data)?)?;
    Ok(PrivateRun {
        synthetic: run.data,
        rho,
        sigma: m.sigma,
        max_error,
        mean_error,
        noisy_mean_error: Some(query_errors(&truth, &m.noisy)?.1),
        generations: run.generations,
    })
}

/// The independent-marginals baseline under the same `budget`, evaluated on
/// the k-way workload (exact answers of the product distribution).
pub fn independent_baseline(
    data: &Dataset,
    k: usize,
    budget: Budget,
    seed: u64,
) -> Result<PrivateRun> {
    let rho = budget.rho()?;
    let w = Workload::all_k_way(data.domain(), k)?;
    let truth = w.answers(data)?;
    let marg = independent_marginals(data, rho, &mut Seeder::new(seed).rng(2))?;
    let (max_error, mean_error) = query_errors(&truth, &w.product_answers(&marg)?)?;
    let sigma = privacy::gaussian_sigma(
        Workload::marginal_sensitivity(data.rows())?,
        rho / data.domain().len() as f64,
    )?;
    Ok(PrivateRun {
        synthetic: Dataset::new(data.domain().clone(), Vec::new())?,
        rho,
        sigma,
        max_error,
        mean_error,
        noisy_mean_error: None,
        generations: 0,
    })
}
