//! The registry of suites: one line per area. Each area crate builds its
//! own suite (experiments, embedded default parameters) behind its
//! `experiments` feature; adding an experiment touches only that crate.

use duality_bench::Suite;

// The Python bindings' suite (#23) lives in xtask: it drives the wheel.
#[path = "python_api.rs"]
mod python_api;

/// Every registered suite, in report order.
pub fn registry() -> Vec<Suite> {
    vec![
        duality_eval::experiments::suite(),
        duality_bandits::experiments::suite(),
        duality_combopt::experiments::suite(),
        duality_distdp::experiments::suite(),
        duality_align::experiments::suite(),
        python_api::suite(),
    ]
}

/// `(suite name, embedded default TOML)` of every suite, for validating
/// overrides against the whole registry.
pub fn defaults() -> Vec<(&'static str, &'static str)> {
    registry().iter().map(|s| (s.name, s.defaults)).collect()
}
