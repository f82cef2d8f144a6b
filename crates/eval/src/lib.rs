//! # duality-eval — evaluation statistics
//!
//! The leaf crate every duality area reports through. It will hold (see
//! `docs/papers.md`):
//!
//! - **Statistical Precipice (rliable)**: score matrices (runs x tasks),
//!   mean / median / interquartile mean / optimality gap, probability of
//!   improvement, stratified bootstrap confidence intervals (percentile, BCa),
//!   performance profiles;
//! - **AdaStop**: group-sequential permutation tests with step-down multiple
//!   comparisons for comparing agents with few runs;
//! - **Raschka's model evaluation**: cross-validation and bootstrap error
//!   estimators, McNemar, Cochran's Q, paired t-tests, 5x2cv tests,
//!   Bonferroni / Holm / Benjamini-Hochberg;
//! - **AUROC / AUPRC** with correct tie handling, curves, DeLong's test;
//! - **conformal selection** (BH with conformal p-values, OptCS);
//! - SVG plots of all of the above.
//!
//! It builds and tests without libtorch.
