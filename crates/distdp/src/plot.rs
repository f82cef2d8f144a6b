//! Small SVG line charts (plotters) for convergence curves and error-vs-size
//! plots, used by the bench suite and examples.

use std::path::Path;

use duality_core::{Error, Result};
use plotters::prelude::*;

/// One named curve of `(x, y)` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Points.
    pub points: Vec<(f64, f64)>,
}

/// Draws `series` as lines into an SVG at `path`. With `log_y`, y values are
/// plotted as `log10(y)` (non-positive values are dropped) and the axis label
/// says so.
pub fn line_chart(
    path: impl AsRef<Path>,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    log_y: bool,
) -> Result<()> {
    let path = path.as_ref();
    duality_core::check::non_empty("series", series)?;
    let err =
        |e: &dyn std::fmt::Debug| Error::Other(format!("cannot draw {}: {e:?}", path.display()));
    let tf = |y: f64| if log_y { y.log10() } else { y };
    let pts: Vec<Vec<(f64, f64)>> = series
        .iter()
        .map(|s| {
            s.points
                .iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite() && (!log_y || *y > 0.0))
                .map(|&(x, y)| (x, tf(y)))
                .collect()
        })
        .collect();
    let all = pts.iter().flatten();
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for &(x, y) in all {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !x0.is_finite() {
        return Err(Error::invalid(
            "series",
            "no finite points",
            "at least one finite point",
        ));
    }
    let padx = ((x1 - x0) * 0.03).max(1e-9);
    let pady = ((y1 - y0) * 0.05).max(1e-9);
    let root = SVGBackend::new(path, (720, 460)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d((x0 - padx)..(x1 + padx), (y0 - pady)..(y1 + pady))
        .map_err(|e| err(&e))?;
    let y_desc = if log_y {
        format!("log10 {y_label}")
    } else {
        y_label.to_string()
    };
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_desc)
        .draw()
        .map_err(|e| err(&e))?;
    for (i, (s, p)) in series.iter().zip(&pts).enumerate() {
        let c = duality_eval::plot::series_color(i);
        chart
            .draw_series(LineSeries::new(p.iter().copied(), c.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(s.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_svg() {
        let dir = std::env::temp_dir().join(format!("distdp-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.svg");
        let s = Series {
            label: "gamma^k".into(),
            points: (0..10).map(|k| (k as f64, 0.9f64.powi(k))).collect(),
        };
        line_chart(&path, "t", "k", "d", &[s], true).unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().contains("<svg"));
        assert!(line_chart(&path, "t", "k", "d", &[], false).is_err());
    }
}
