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

/// The default parameters of every suite: `fixtures/bench/<suite>.toml`,
/// embedded so the bare command works from any directory.
pub const DEFAULTS: [(&str, &str); 5] = [
    ("eval", include_str!("../../../../fixtures/bench/eval.toml")),
    (
        "bandits",
        include_str!("../../../../fixtures/bench/bandits.toml"),
    ),
    (
        "combopt",
        include_str!("../../../../fixtures/bench/combopt.toml"),
    ),
    (
        "distdp",
        include_str!("../../../../fixtures/bench/distdp.toml"),
    ),
    (
        "align",
        include_str!("../../../../fixtures/bench/align.toml"),
    ),
];

/// The embedded default parameters of suite `name` (empty if it has none).
pub fn defaults(name: &str) -> &'static str {
    DEFAULTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
        .unwrap_or("")
}

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
