//! SVG plots (plotters): interval estimates per metric, performance profiles
//! with CI bands, probability-of-improvement bars and sample-efficiency
//! curves, in the style of rliable's figures; and [`LineChart`], the plain
//! multi-series line chart the other areas draw their curves with.

use std::path::Path;

use duality_core::{Error, Result};
use plotters::prelude::*;

use crate::bootstrap::Interval;
use crate::profile::{EfficiencyCurve, Profile};

/// The categorical palette of every duality figure (matplotlib's "tab10"),
/// shared so that the areas' plots look alike.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Colour of series `i` (cycles through [`PALETTE`]).
pub fn series_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

fn plot_err<E: std::fmt::Debug>(path: &Path) -> impl Fn(E) -> Error + '_ {
    move |e| Error::Other(format!("cannot draw {}: {e:?}", path.display()))
}

fn padded_range(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    let pad = ((hi - lo) * 0.08).max(1e-9);
    (lo - pad, hi + pad)
}

/// One named curve of `(x, y)` points for a [`LineChart`], optionally with
/// a confidence band.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Points, drawn in order.
    pub points: Vec<(f64, f64)>,
    /// Optional `(lo, hi)` per point (same length as `points`), drawn as a
    /// translucent band, e.g. a bootstrap CI over seeds.
    pub band: Option<Vec<(f64, f64)>>,
}

impl Series {
    /// A series from a label and its points.
    pub fn new(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            label: label.into(),
            points,
            band: None,
        }
    }

    /// A series whose points are interval estimates: the line through the
    /// estimates and a band from `lo` to `hi`.
    pub fn with_intervals(label: impl Into<String>, xs: &[f64], intervals: &[Interval]) -> Self {
        Self {
            label: label.into(),
            points: xs
                .iter()
                .zip(intervals)
                .map(|(&x, i)| (x, i.estimate))
                .collect(),
            band: Some(intervals.iter().map(|i| (i.lo, i.hi)).collect()),
        }
    }
}

/// A line chart with a legend, the one every area draws its curves with
/// (regret against rounds, gap against instance size, residual against
/// iteration, win rate against training step).
///
/// A logarithmic x axis is a true log scale (ticks at the data's values);
/// a logarithmic y axis plots `log10(y)` and says so in the axis label.
/// Points with a non-finite coordinate, or (on a log axis) a non-positive
/// one, are left out.
#[derive(Debug, Clone)]
pub struct LineChart {
    title: String,
    x_label: String,
    y_label: String,
    log_x: bool,
    log_y: bool,
    markers: bool,
    y_from_zero: bool,
    size: (u32, u32),
}

impl LineChart {
    /// A linear chart with this title and axis labels.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_x: false,
            log_y: false,
            markers: false,
            y_from_zero: false,
            size: (800, 500),
        }
    }

    /// Logarithmic x axis (rounds, instance sizes).
    pub fn log_x(mut self, on: bool) -> Self {
        self.log_x = on;
        self
    }

    /// Plot `log10(y)` (residuals, errors spanning decades).
    pub fn log_y(mut self, on: bool) -> Self {
        self.log_y = on;
        self
    }

    /// Mark every point with a dot (for sparse series).
    pub fn markers(mut self, on: bool) -> Self {
        self.markers = on;
        self
    }

    /// Start the y axis at 0 when all values are positive (regret, counts).
    pub fn y_from_zero(mut self, on: bool) -> Self {
        self.y_from_zero = on;
        self
    }

    /// Canvas size in pixels (default 800 x 500).
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.size = (width.max(200), height.max(150));
        self
    }

    /// Draws `series` into an SVG at `path`. Errors if there is no series
    /// or no drawable point, or if the file cannot be written.
    pub fn draw(&self, path: impl AsRef<Path>, series: &[Series]) -> Result<()> {
        let path = path.as_ref();
        duality_core::check::non_empty("series", series)?;
        let keep = |&(x, y): &(f64, f64)| {
            x.is_finite() && y.is_finite() && (!self.log_x || x > 0.0) && (!self.log_y || y > 0.0)
        };
        let pts: Vec<Vec<(f64, f64)>> = series
            .iter()
            .map(|s| {
                s.points
                    .iter()
                    .copied()
                    .filter(keep)
                    .map(|(x, y)| (x, if self.log_y { y.log10() } else { y }))
                    .collect()
            })
            .collect();
        let (mut x0, mut x1, mut y0, mut y1) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for &(x, y) in pts.iter().flatten() {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        // Bands: polygons through (x, hi) forward and (x, lo) back, over the
        // points that survive the same filter.
        let bands: Vec<Option<Vec<(f64, f64)>>> = series
            .iter()
            .map(|s| {
                let band = s.band.as_ref()?;
                if band.len() != s.points.len() {
                    return None;
                }
                let kept: Vec<(f64, f64, f64)> = s
                    .points
                    .iter()
                    .zip(band)
                    .filter(|(p, (lo, hi))| {
                        keep(p)
                            && lo.is_finite()
                            && hi.is_finite()
                            && (!self.log_y || (*lo > 0.0 && *hi > 0.0))
                    })
                    .map(|(p, &(lo, hi))| {
                        let t = |v: f64| if self.log_y { v.log10() } else { v };
                        (p.0, t(lo), t(hi))
                    })
                    .collect();
                let mut poly: Vec<(f64, f64)> = kept.iter().map(|&(x, _, hi)| (x, hi)).collect();
                poly.extend(kept.iter().rev().map(|&(x, lo, _)| (x, lo)));
                Some(poly)
            })
            .collect();
        for &(_, y) in bands.iter().flatten().flatten() {
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        if !x0.is_finite() {
            return Err(Error::invalid(
                "series",
                "no finite point to draw",
                "at least one finite point (positive on a log axis)",
            ));
        }
        if self.y_from_zero && !self.log_y && y0 > 0.0 {
            y0 = 0.0;
        }
        if x1 <= x0 {
            x1 = if self.log_x { x0 * 10.0 } else { x0 + 1.0 };
        }
        let pad = ((y1 - y0) * 0.05).max(1e-9);
        let (y0, y1) = (
            if self.y_from_zero && y0 == 0.0 {
                0.0
            } else {
                y0 - pad
            },
            y1 + pad,
        );
        let y_desc = if self.log_y {
            format!("log10 {}", self.y_label)
        } else {
            self.y_label.clone()
        };
        let err = plot_err(path);
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, self.size).into_drawing_area();
            root.fill(&WHITE).map_err(&err)?;
            let mut builder = ChartBuilder::on(&root);
            builder
                .caption(&self.title, ("sans-serif", 20))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(60);
            // The coordinate type differs between a linear and a log x axis, so
            // the drawing is written once and instantiated for both.
            macro_rules! draw_on {
                ($chart:expr) => {{
                    let mut chart = $chart.map_err(&err)?;
                    chart
                        .configure_mesh()
                        .x_desc(self.x_label.as_str())
                        .y_desc(y_desc.as_str())
                        .draw()
                        .map_err(&err)?;
                    for (i, band) in bands.iter().enumerate() {
                        if let Some(poly) = band.as_ref().filter(|p| p.len() >= 4) {
                            let c = series_color(i);
                            chart
                                .draw_series(std::iter::once(Polygon::new(
                                    poly.clone(),
                                    c.mix(0.18).filled(),
                                )))
                                .map_err(&err)?;
                        }
                    }
                    for (i, (s, p)) in series.iter().zip(&pts).enumerate() {
                        let c = series_color(i);
                        chart
                            .draw_series(LineSeries::new(p.iter().copied(), c.stroke_width(2)))
                            .map_err(&err)?
                            .label(s.label.clone())
                            .legend(move |(x, y)| {
                                PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                            });
                        if self.markers {
                            chart
                                .draw_series(p.iter().map(|&q| Circle::new(q, 3, c.filled())))
                                .map_err(&err)?;
                        }
                    }
                    chart
                        .configure_series_labels()
                        .background_style(WHITE.mix(0.8))
                        .border_style(BLACK)
                        .position(SeriesLabelPosition::UpperLeft)
                        .draw()
                        .map_err(&err)?;
                }};
            }
            if self.log_x {
                draw_on!(builder.build_cartesian_2d((x0..x1).log_scale(), y0..y1));
            } else {
                let padx = ((x1 - x0) * 0.03).max(1e-9);
                draw_on!(builder.build_cartesian_2d((x0 - padx)..(x1 + padx), y0..y1));
            }
            root.present().map_err(&err)?;
        }
        duality_core::files::write_atomic(path, svg)?;
        Ok(())
    }
}

/// One interval as a horizontal bar from `lo` to `hi` in row `row` (counted
/// from the bottom, 1-based: the bar is centred at `row - 0.5`), coloured
/// as series `color`, with a black tick at the estimate.
fn interval_bar<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    row: usize,
    color: usize,
    ci: &Interval,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let yc = row as f64 - 0.5;
    chart.draw_series(std::iter::once(Rectangle::new(
        [(ci.lo, yc - 0.3), (ci.hi, yc + 0.3)],
        series_color(color).mix(0.6).filled(),
    )))?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(ci.estimate, yc - 0.3), (ci.estimate, yc + 0.3)],
        BLACK.stroke_width(2),
    )))?;
    Ok(())
}

/// Interval estimates: one panel per metric, one row per algorithm, a bar
/// from `lo` to `hi` with a tick at the estimate (rliable's
/// `plot_interval_estimates`). `rows[a] = (algorithm, intervals per metric)`.
pub fn interval_estimates(
    path: impl AsRef<Path>,
    metric_names: &[&str],
    rows: &[(String, Vec<Interval>)],
) -> Result<()> {
    let path = path.as_ref();
    duality_core::check::non_empty("metrics", metric_names)?;
    duality_core::check::non_empty("algorithms", rows)?;
    for (alg, v) in rows {
        duality_core::check::same_len(
            &format!("intervals of {alg}"),
            v.len(),
            "metrics",
            metric_names.len(),
        )?;
    }
    let width = 260 * metric_names.len() as u32 + 120;
    let height = 60 + 36 * rows.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err(path))?;
        let (left, right) = root.split_horizontally(120);
        let n_alg = rows.len();
        for (a, (alg, _)) in rows.iter().enumerate() {
            let y = 30 + (36 * a as i32) + 18;
            left.draw(&Text::new(
                alg.clone(),
                (8, y),
                ("sans-serif", 14).into_font().color(&series_color(a)),
            ))
            .map_err(plot_err(path))?;
        }
        let panels = right.split_evenly((1, metric_names.len()));
        for (m, panel) in panels.iter().enumerate() {
            let lo = rows.iter().map(|r| r.1[m].lo).fold(f64::INFINITY, f64::min);
            let hi = rows
                .iter()
                .map(|r| r.1[m].hi)
                .fold(f64::NEG_INFINITY, f64::max);
            let (lo, hi) = padded_range(lo, hi);
            let mut chart = ChartBuilder::on(panel)
                .caption(metric_names[m], ("sans-serif", 16))
                .margin(8)
                .x_label_area_size(28)
                .build_cartesian_2d(lo..hi, 0f64..n_alg as f64)
                .map_err(plot_err(path))?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .disable_y_axis()
                .x_labels(5)
                .draw()
                .map_err(plot_err(path))?;
            for (a, (_, v)) in rows.iter().enumerate() {
                interval_bar(&mut chart, n_alg - a, a, &v[m]).map_err(plot_err(path))?;
            }
        }
        root.present().map_err(plot_err(path))?;
    }
    duality_core::files::write_atomic(path, svg)?;
    Ok(())
}

/// Probability-of-improvement bars: one row per comparison label, bar from
/// `lo` to `hi`, tick at the estimate, dashed line at 0.5.
pub fn improvement_bars(path: impl AsRef<Path>, rows: &[(String, Interval)]) -> Result<()> {
    let path = path.as_ref();
    duality_core::check::non_empty("comparisons", rows)?;
    let height = 70 + 36 * rows.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err(path))?;
        let (left, right) = root.split_horizontally(200);
        let n = rows.len();
        for (a, (label, _)) in rows.iter().enumerate() {
            let y = 36 + 36 * a as i32 + 14;
            left.draw(&Text::new(
                label.clone(),
                (8, y),
                ("sans-serif", 13).into_font(),
            ))
            .map_err(plot_err(path))?;
        }
        let mut chart = ChartBuilder::on(&right)
            .caption("P(X > Y)", ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(28)
            .build_cartesian_2d(0f64..1f64, 0f64..n as f64)
            .map_err(plot_err(path))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .disable_y_axis()
            .draw()
            .map_err(plot_err(path))?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.5, 0.0), (0.5, n as f64)],
                RGBColor(120, 120, 120).stroke_width(1),
            )))
            .map_err(plot_err(path))?;
        for (a, (_, ci)) in rows.iter().enumerate() {
            interval_bar(&mut chart, n - a, a, ci).map_err(plot_err(path))?;
        }
        root.present().map_err(plot_err(path))?;
    }
    duality_core::files::write_atomic(path, svg)?;
    Ok(())
}

/// Performance profiles with pointwise CI bands (rliable's
/// `plot_performance_profiles`).
pub fn performance_profiles(path: impl AsRef<Path>, profiles: &[Profile]) -> Result<()> {
    let curves: Vec<Series> = profiles
        .iter()
        .map(|p| Series::with_intervals(p.algorithm.clone(), &p.taus, &p.points))
        .collect();
    LineChart::new(
        "Performance profile",
        "normalized score (tau)",
        "fraction of runs with score > tau",
    )
    .size(720, 480)
    .draw(path, &curves)
}

/// Sample-efficiency curves: an aggregate with CI band per checkpoint.
pub fn sample_efficiency(path: impl AsRef<Path>, curves: &[EfficiencyCurve]) -> Result<()> {
    let metric = curves.first().map(|c| c.metric.name()).unwrap_or("score");
    let data: Vec<Series> = curves
        .iter()
        .map(|c| Series::with_intervals(c.algorithm.clone(), &c.checkpoints, &c.points))
        .collect();
    LineChart::new("Sample efficiency", "checkpoint", metric)
        .size(720, 480)
        .draw(path, &data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ProfileKind;

    #[test]
    fn plots_write_svg() {
        let dir = tempfile::tempdir().unwrap();
        let iv = |e: f64| Interval {
            estimate: e,
            lo: e - 0.1,
            hi: e + 0.1,
        };
        let rows = vec![
            ("a".to_string(), vec![iv(0.5), iv(0.7)]),
            ("b".to_string(), vec![iv(0.4), iv(0.9)]),
        ];
        let p = dir.path().join("i.svg");
        interval_estimates(&p, &["iqm", "mean"], &rows).unwrap();
        assert!(std::fs::read_to_string(&p).unwrap().contains("<svg"));
        improvement_bars(dir.path().join("p.svg"), &[("a > b".into(), iv(0.6))]).unwrap();
        let prof = Profile {
            algorithm: "a".into(),
            kind: ProfileKind::RunScore,
            taus: vec![0.0, 0.5, 1.0],
            points: vec![iv(0.9), iv(0.5), iv(0.1)],
        };
        performance_profiles(dir.path().join("f.svg"), &[prof]).unwrap();
        let curve = Series::new("a", (1..50).map(|t| (t as f64, (t as f64).ln())).collect());
        for (lx, ly) in [(false, false), (true, false), (false, true), (true, true)] {
            let f = dir.path().join(format!("l{lx}{ly}.svg"));
            LineChart::new("t", "x", "y")
                .log_x(lx)
                .log_y(ly)
                .markers(true)
                .y_from_zero(true)
                .draw(&f, std::slice::from_ref(&curve))
                .unwrap();
            assert!(std::fs::read_to_string(&f).unwrap().contains("<svg"));
        }
        let chart = LineChart::new("t", "x", "y");
        assert!(chart.draw(dir.path().join("e.svg"), &[]).is_err());
        let nan = Series::new("nan", vec![(f64::NAN, 1.0)]);
        assert!(chart.draw(dir.path().join("n.svg"), &[nan]).is_err());
        let single = Series::new("one", vec![(3.0, 1.0)]);
        chart.draw(dir.path().join("s.svg"), &[single]).unwrap();
        let banded = Series::with_intervals("ci", &[1.0, 2.0, 3.0], &[iv(0.5), iv(0.6), iv(0.7)]);
        assert_eq!(banded.band.as_ref().unwrap()[1], (0.5, 0.7));
        let f = dir.path().join("b.svg");
        chart.draw(&f, &[banded]).unwrap();
        assert!(std::fs::read_to_string(&f).unwrap().contains("polygon"));
        assert!(interval_estimates(dir.path().join("x.svg"), &["iqm"], &rows).is_err());
    }
}
