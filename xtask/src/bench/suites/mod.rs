//! The registry: one module per area, each returning its [`Suite`].
//!
//! To add an experiment, edit only your area's module (and its TOML under
//! `fixtures/bench/`).

use super::harness::Suite;

mod align;
mod bandits;
mod combopt;
mod distdp;
mod eval;

/// Every registered suite, in report order.
pub fn registry() -> Vec<Suite> {
    vec![
        eval::suite(),
        bandits::suite(),
        combopt::suite(),
        distdp::suite(),
        align::suite(),
    ]
}
