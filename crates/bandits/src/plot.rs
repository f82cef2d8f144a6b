//! SVG plots: regret curves on a logarithmic round axis, drawn with the
//! shared [`duality_eval::plot::LineChart`].

use std::path::Path;

use duality_core::Result;
use duality_eval::plot::{LineChart, Series};

/// Which regret a curve shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegretKind {
    /// Pseudo-regret: gap of the best arm's mean to the played arms' means.
    Pseudo,
    /// Realised regret: against the best fixed arm on the realised rewards
    /// (the adversarial notion).
    Realised,
}

/// Mean pseudo-regret curves of a simulation, log-x.
pub fn regret_svg(
    result: &crate::simulator::SimulationResult,
    path: &Path,
    title: &str,
) -> Result<()> {
    regret_curves_svg(result, path, title, RegretKind::Pseudo)
}

/// Mean regret curves of a simulation (pseudo or realised), log-x.
pub fn regret_curves_svg(
    result: &crate::simulator::SimulationResult,
    path: &Path,
    title: &str,
    kind: RegretKind,
) -> Result<()> {
    let curves: Vec<Series> = result
        .policies
        .iter()
        .map(|p| {
            let curve = match kind {
                RegretKind::Pseudo => p.mean_pseudo_curve(),
                RegretKind::Realised => p.mean_realised_curve(),
            };
            Series::new(
                p.name.clone(),
                result
                    .checkpoints
                    .iter()
                    .zip(curve)
                    .map(|(&t, r)| (t as f64, r))
                    .collect(),
            )
        })
        .collect();
    let y_label = match kind {
        RegretKind::Pseudo => "mean cumulative pseudo-regret",
        RegretKind::Realised => "mean cumulative realised regret",
    };
    LineChart::new(title, "round t", y_label)
        .log_x(true)
        .y_from_zero(true)
        .draw(path, &curves)
}
