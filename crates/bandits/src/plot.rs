//! SVG plots (plotters): regret curves on a logarithmic round axis.

use std::path::Path;

use duality_core::{Error, Result};
use plotters::prelude::*;

/// One named curve: `(x, y)` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// Legend label.
    pub label: String,
    /// Points, x increasing.
    pub points: Vec<(f64, f64)>,
}

fn plot_err(e: impl std::fmt::Display) -> Error {
    Error::Other(format!("cannot draw SVG: {e}"))
}

/// Draws `curves` into an SVG at `path` with a logarithmic x axis (rounds)
/// when `log_x`, linear otherwise.
pub fn line_chart_svg(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    curves: &[Curve],
    log_x: bool,
) -> Result<()> {
    let (mut x_min, mut x_max, mut y_min, mut y_max) =
        (f64::INFINITY, f64::NEG_INFINITY, 0.0f64, f64::NEG_INFINITY);
    for c in curves {
        for &(x, y) in &c.points {
            if x.is_finite() && y.is_finite() {
                x_min = x_min.min(x);
                x_max = x_max.max(x);
                y_min = y_min.min(y);
                y_max = y_max.max(y);
            }
        }
    }
    if !x_min.is_finite() || !y_max.is_finite() {
        return Err(Error::invalid(
            "curves",
            "no finite points",
            "at least one finite point",
        ));
    }
    if x_max <= x_min {
        x_max = x_min + 1.0;
    }
    if y_max <= y_min {
        y_max = y_min + 1.0;
    }
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(title, ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60);
    macro_rules! draw {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(x_label)
                .y_desc(y_label)
                .draw()
                .map_err(plot_err)?;
            for (i, c) in curves.iter().enumerate() {
                let color = duality_eval::plot::series_color(i);
                chart
                    .draw_series(LineSeries::new(
                        c.points.iter().copied(),
                        color.stroke_width(2),
                    ))
                    .map_err(plot_err)?
                    .label(c.label.clone())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                    });
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperLeft)
                .draw()
                .map_err(plot_err)?;
        }};
    }
    if log_x {
        draw!(builder
            .build_cartesian_2d((x_min.max(1e-12)..x_max).log_scale(), y_min..y_max * 1.05)
            .map_err(plot_err)?);
    } else {
        draw!(builder
            .build_cartesian_2d(x_min..x_max, y_min..y_max * 1.05)
            .map_err(plot_err)?);
    }
    root.present().map_err(plot_err)?;
    Ok(())
}

/// Which regret a curve shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    let curves: Vec<Curve> = result
        .policies
        .iter()
        .map(|p| {
            let curve = match kind {
                RegretKind::Pseudo => p.mean_pseudo_curve(),
                RegretKind::Realised => p.mean_realised_curve(),
            };
            Curve {
                label: p.name.clone(),
                points: result
                    .checkpoints
                    .iter()
                    .zip(curve)
                    .map(|(&t, r)| (t as f64, r))
                    .collect(),
            }
        })
        .collect();
    let y_label = match kind {
        RegretKind::Pseudo => "mean cumulative pseudo-regret",
        RegretKind::Realised => "mean cumulative realised regret",
    };
    line_chart_svg(path, title, "round t", y_label, &curves, true)
}
