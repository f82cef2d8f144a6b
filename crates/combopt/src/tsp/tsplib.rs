//! TSPLIB 95 reader and writer (Reinelt 1995).
//!
//! Supported: `TYPE: TSP`, `EDGE_WEIGHT_TYPE` in `EUC_2D`, `CEIL_2D`, `ATT`,
//! `GEO`, `EXPLICIT` (formats `FULL_MATRIX`, `UPPER_ROW`, `LOWER_ROW`,
//! `UPPER_DIAG_ROW`, `LOWER_DIAG_ROW`), `NODE_COORD_SECTION`,
//! `EDGE_WEIGHT_SECTION`, `EOF`. A leading UTF-8 byte-order mark is skipped.
//!
//! Input handling (issue #25): everything malformed is an error naming the
//! source, the line and the value as written, and nothing is allocated
//! before its size is checked:
//!
//! - `DIMENSION` must be an integer >= 3 given once; a data section must fit
//!   in the file (a node needs a line, a weight at least one character), and
//!   the arrays it needs go through [`duality_core::limits`] (checked
//!   products, the memory budget) before they are allocated, so
//!   `DIMENSION 18446744073709551615` or an `EXPLICIT` matrix of dimension
//!   5e9 is an error, never an overflow or an allocation abort;
//! - every keyword and section appears at most once (TSPLIB defines no
//!   meaning for a repeat, and "the later one wins" silently changes the
//!   instance), and a section must match `EDGE_WEIGHT_TYPE` (weights only for
//!   `EXPLICIT`, coordinates only for the coordinate types);
//! - a `TYPE: TSP` instance is symmetric: a `FULL_MATRIX` whose entry
//!   `(i, j)` differs from `(j, i)` is refused (an asymmetric instance is
//!   `TYPE: ATSP`, which is not supported), never symmetrised;
//! - coordinates and weights are finite, weights >= 0, `GEO` coordinates are
//!   latitudes in [-90, 90] and longitudes in [-180, 180] degrees (read as
//!   TSPLIB's `DDD.MM`);
//! - the longest possible tour is finite in f64: `n` times the largest
//!   distance (the largest weight, or the diagonal of the coordinates'
//!   bounding box) must not overflow, so no tour length read from a file can
//!   become `inf`.

use std::collections::HashMap;
use std::path::Path;

use duality_core::{limits, Error, Result};

use super::instance::{Instance, Metric};
use super::tour::Tour;

/// Reads a `.tsp` file.
pub fn read_tsp(path: impl AsRef<Path>) -> Result<Instance> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_tsp(&text, &path.display().to_string())
}

/// One row of a table of known optimal tour lengths (`optima.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct KnownOptimum {
    /// Instance name; the file is `<name>.tsp` beside the table.
    pub name: String,
    /// Number of cities.
    pub dimension: usize,
    /// Optimal (or best known, see the table's note) tour length.
    pub length: f64,
}

/// Reads a table of known optima with the header
/// `instance,dimension,edge_weight_type,optimal_length,note` (the layout of
/// `fixtures/combopt/tsplib/optima.csv`; the note may contain commas).
///
/// A missing file is an error naming its path, so that a caller never mistakes
/// absent data for an empty benchmark; a malformed row names its line.
pub fn read_optima(path: impl AsRef<Path>) -> Result<Vec<KnownOptimum>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let source = path.display().to_string();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let err = |msg: String| Error::parse(&source, Some(i + 1), msg);
        let cols: Vec<&str> = line.splitn(5, ',').map(str::trim).collect();
        if cols.len() < 4 {
            return Err(err(format!(
                "{line:?} has {} column(s): expected instance,dimension,edge_weight_type,optimal_length[,note]",
                cols.len()
            )));
        }
        let dimension = cols[1]
            .parse()
            .map_err(|_| err(format!("dimension {:?} is not a positive integer", cols[1])))?;
        let length: f64 = cols[3]
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v > 0.0)
            .ok_or_else(|| {
                err(format!(
                    "optimal_length {:?} is not a positive number",
                    cols[3]
                ))
            })?;
        out.push(KnownOptimum {
            name: cols[0].to_string(),
            dimension,
            length,
        });
    }
    if out.is_empty() {
        return Err(Error::parse(&source, None, "no instances listed"));
    }
    Ok(out)
}

/// Parses TSPLIB text; `source` names it in error messages.
///
/// Reads the specification part (keywords before the data sections), then
/// `NODE_COORD_SECTION` or `EDGE_WEIGHT_SECTION`, and builds the instance;
/// every error names `source`, the offending line and the value as written
/// (see the module documentation for what is checked).
pub fn parse_tsp(text: &str, source: &str) -> Result<Instance> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut p = Parser {
        lines: text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())),
        source,
        last_line: 0,
        total_lines: text.lines().count(),
        total_bytes: text.len(),
    };
    let mut spec = Spec::default();
    let mut coords: Option<(Vec<[f64; 2]>, Vec<usize>, usize)> = None;
    let mut weights: Option<Weights> = None;
    // Keyword or section -> the line it was first seen on.
    let mut seen: HashMap<String, usize> = HashMap::new();
    // The data section read last, and how many entries it had.
    let mut last_section: Option<(&'static str, usize, usize)> = None;
    while let Some((ln, line)) = p.next_line() {
        if line.is_empty() {
            continue;
        }
        if line == "EOF" {
            break;
        }
        let (key, value) = match line.split_once(':') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (line, ""),
        };
        let known = matches!(
            key,
            "NAME"
                | "TYPE"
                | "DIMENSION"
                | "EDGE_WEIGHT_TYPE"
                | "EDGE_WEIGHT_FORMAT"
                | "NODE_COORD_TYPE"
                | "DISPLAY_DATA_TYPE"
                | "NODE_COORD_SECTION"
                | "EDGE_WEIGHT_SECTION"
        );
        if known {
            if let Some(first) = seen.insert(key.to_string(), ln) {
                seen.insert(key.to_string(), first);
                return Err(p.err(
                    ln,
                    format!(
                        "{key} appears twice (first on line {first}): a TSPLIB file gives each keyword and section once"
                    ),
                ));
            }
            if key == "EDGE_WEIGHT_FORMAT" {
                if let Some(at) = seen.get("EDGE_WEIGHT_SECTION") {
                    return Err(p.err(
                        ln,
                        format!(
                            "EDGE_WEIGHT_FORMAT {value:?} comes after EDGE_WEIGHT_SECTION (line {at}), which was read as FULL_MATRIX: give the format first"
                        ),
                    ));
                }
            }
        }
        match key {
            "NODE_COORD_SECTION" => {
                let n = spec.dimension_for(&p, ln, key)?;
                let (cs, lines) = p.node_coords(n, spec.dimension_line())?;
                last_section = Some(("NODE_COORD_SECTION", n, ln));
                coords = Some((cs, lines, ln));
            }
            "EDGE_WEIGHT_SECTION" => {
                let n = spec.dimension_for(&p, ln, key)?;
                let fmt = spec.format.clone().unwrap_or_else(|| "FULL_MATRIX".into());
                let w = p.edge_weights(n, &fmt, ln, spec.dimension_line())?;
                last_section = Some(("EDGE_WEIGHT_SECTION", n, ln));
                weights = Some(w);
            }
            "DISPLAY_DATA_SECTION" | "FIXED_EDGES_SECTION" | "TOUR_SECTION" => {
                return Err(p.err(ln, format!("{key} is not supported")));
            }
            _ if spec.keyword(&p, ln, key, value)? => {}
            other => {
                // A data line where a keyword was expected: typically more
                // nodes or weights than DIMENSION announced.
                if let Some((section, n, at)) = last_section {
                    if other.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.') {
                        let dl = spec.dimension_line();
                        return Err(p.err(
                            ln,
                            format!(
                                "unexpected line {other:?} after the {section} of line {at}: DIMENSION {n} (line {dl}) is smaller than the data"
                            ),
                        ));
                    }
                }
                return Err(p.err(ln, format!("unknown keyword {other:?}")));
            }
        }
    }
    spec.instance(&p, coords, weights)
}

/// An `EXPLICIT` matrix as read: row-major `n x n`, and the line and value
/// of its largest entry (for the overflow check).
struct Weights {
    matrix: Vec<f64>,
    largest: (f64, usize),
}

/// Line reader over TSPLIB text that remembers the last line read (for
/// errors at the end of the file) and names the source in errors.
struct Parser<'t, I: Iterator<Item = (usize, &'t str)>> {
    lines: I,
    source: &'t str,
    last_line: usize,
    /// Lines in the whole text (a node needs one).
    total_lines: usize,
    /// Bytes in the whole text (a weight needs at least one).
    total_bytes: usize,
}

impl<'t, I: Iterator<Item = (usize, &'t str)>> Parser<'t, I> {
    fn next_line(&mut self) -> Option<(usize, &'t str)> {
        let next = self.lines.next();
        if let Some((ln, _)) = next {
            self.last_line = ln;
        }
        next
    }

    fn err(&self, line: usize, msg: String) -> Error {
        Error::parse(self.source, Some(line), msg)
    }

    /// The `n` lines `id x y` of a `NODE_COORD_SECTION`, in id order, with
    /// the line each node was read from. `dim_line` is `DIMENSION`'s line.
    fn node_coords(&mut self, n: usize, dim_line: usize) -> Result<(Vec<[f64; 2]>, Vec<usize>)> {
        let left = self.total_lines.saturating_sub(self.last_line);
        if n > left {
            return Err(self.err(
                dim_line,
                format!(
                    "DIMENSION {n} asks for {n} node lines but only {left} line(s) follow NODE_COORD_SECTION (line {})",
                    self.last_line
                ),
            ));
        }
        // Coordinates, an occupancy flag and a line number per node.
        limits::check_memory(&format!("DIMENSION {n} (line {dim_line})"), n as u128 * 40)
            .map_err(|e| self.err(dim_line, e.to_string()))?;
        let mut cs: Vec<Option<[f64; 2]>> = vec![None; n];
        let mut lines = vec![0usize; n];
        let mut count = 0;
        while count < n {
            let Some((ln, line)) = self.next_line() else {
                return Err(self.err(
                    self.last_line + 1,
                    format!("NODE_COORD_SECTION ended after {count} node(s) but DIMENSION is {n}"),
                ));
            };
            if line.is_empty() {
                continue;
            }
            if line == "EOF" || line.ends_with("SECTION") {
                return Err(self.err(
                    ln,
                    format!("NODE_COORD_SECTION has {count} node(s) but DIMENSION is {n}"),
                ));
            }
            let (id, xy) = self.node_line(ln, line, n)?;
            if cs[id - 1].is_some() {
                return Err(self.err(
                    ln,
                    format!(
                        "node id {id} appears twice (first on line {})",
                        lines[id - 1]
                    ),
                ));
            }
            cs[id - 1] = Some(xy);
            lines[id - 1] = ln;
            count += 1;
        }
        Ok((cs.into_iter().flatten().collect(), lines))
    }

    /// One `id x y` line: a 1-based id in `1..=n` and finite coordinates.
    fn node_line(&self, ln: usize, line: &str, n: usize) -> Result<(usize, [f64; 2])> {
        let toks: Vec<&str> = line.split_whitespace().collect();
        if toks.len() != 3 {
            return Err(self.err(ln, format!("expected `id x y`, got {line:?}")));
        }
        let id: usize = toks[0]
            .parse()
            .map_err(|_| self.err(ln, format!("node id {:?} is not an integer", toks[0])))?;
        if id == 0 || id > n {
            return Err(self.err(
                ln,
                format!("node id {id} out of range 1..={n} (DIMENSION {n})"),
            ));
        }
        let mut xy = [0.0; 2];
        for k in 0..2 {
            let tok = toks[k + 1];
            let v: f64 = tok
                .parse()
                .map_err(|_| self.err(ln, format!("coordinate {tok:?} is not a number")))?;
            if !v.is_finite() {
                return Err(self.err(
                    ln,
                    format!("coordinate {tok:?} of node {id} is not a finite number"),
                ));
            }
            xy[k] = v;
        }
        Ok((id, xy))
    }

    /// The weights of an `EDGE_WEIGHT_SECTION` in format `fmt` (keyword on
    /// line `at`, `DIMENSION` on line `dim_line`), as a full `n x n` matrix.
    /// In `FULL_MATRIX` the entry `(i, j)` below the diagonal must equal the
    /// `(j, i)` read before it.
    fn edge_weights(&mut self, n: usize, fmt: &str, at: usize, dim_line: usize) -> Result<Weights> {
        let dim = |e: Error| self.err(dim_line, e.to_string());
        let full = limits::product(&[("DIMENSION", n), ("DIMENSION", n)]).map_err(dim)?;
        let needed = match fmt {
            "FULL_MATRIX" => full,
            "UPPER_ROW" | "LOWER_ROW" => (full - n) / 2,
            "UPPER_DIAG_ROW" | "LOWER_DIAG_ROW" => (full - n) / 2 + n,
            other => {
                return Err(self.err(at, format!("EDGE_WEIGHT_FORMAT {other:?} is not supported: expected FULL_MATRIX, UPPER_ROW, LOWER_ROW, UPPER_DIAG_ROW or LOWER_DIAG_ROW")))
            }
        };
        // A weight takes at least one character and a separator.
        if needed / 2 > self.total_bytes {
            return Err(self.err(
                dim_line,
                format!(
                    "DIMENSION {n} with {fmt} needs {needed} edge weights, more than a file of {} bytes can hold",
                    self.total_bytes
                ),
            ));
        }
        // The matrix read here, then the rows and the instance's copy.
        limits::check_memory(
            &format!("DIMENSION {n} (line {dim_line}): an {n} x {n} distance matrix"),
            full as u128 * 8 * 2,
        )
        .map_err(|e| self.err(dim_line, e.to_string()))?;
        let mut m = vec![0.0; full];
        let mut cells = Cells::new(fmt, n);
        let mut count = 0usize;
        let mut largest = (0.0f64, at);
        while count < needed {
            let Some((ln, line)) = self.next_line() else {
                return Err(self.err(
                    self.last_line + 1,
                    format!("EDGE_WEIGHT_SECTION ended after {count} weight(s); {fmt} with DIMENSION {n} needs {needed}"),
                ));
            };
            if line == "EOF" || line.ends_with("SECTION") {
                return Err(self.err(
                    ln,
                    format!("EDGE_WEIGHT_SECTION has {count} weight(s); {fmt} with DIMENSION {n} needs {needed}"),
                ));
            }
            for tok in line.split_whitespace() {
                let v: f64 = tok
                    .parse()
                    .map_err(|_| self.err(ln, format!("edge weight {tok:?} is not a number")))?;
                if !v.is_finite() || v < 0.0 {
                    return Err(self.err(
                        ln,
                        format!("edge weight {tok:?} is not a finite number >= 0"),
                    ));
                }
                let Some((i, j)) = cells.next() else {
                    return Err(self.err(
                        ln,
                        format!("too many edge weights for {fmt} with DIMENSION {n}: {tok:?} is weight {} of {needed}", count + 1),
                    ));
                };
                if fmt == "FULL_MATRIX" && j < i && m[j * n + i] != v {
                    return Err(self.err(
                        ln,
                        format!(
                            "edge weight {tok:?} at row {}, column {} differs from {} at row {}, column {}: TYPE TSP needs a symmetric matrix (an asymmetric instance is ATSP, not supported)",
                            i + 1,
                            j + 1,
                            m[j * n + i],
                            j + 1,
                            i + 1
                        ),
                    ));
                }
                m[i * n + j] = v;
                m[j * n + i] = v;
                if v > largest.0 {
                    largest = (v, ln);
                }
                count += 1;
            }
        }
        Ok(Weights { matrix: m, largest })
    }
}

/// The `(row, column)` cells of an `n x n` matrix in the order a TSPLIB
/// `EDGE_WEIGHT_FORMAT` lists them (0-based).
struct Cells {
    lower: bool,
    diagonal: bool,
    full: bool,
    n: usize,
    i: usize,
    j: usize,
}

impl Cells {
    fn new(fmt: &str, n: usize) -> Self {
        let (full, lower, diagonal) = match fmt {
            "FULL_MATRIX" => (true, false, true),
            "UPPER_ROW" => (false, false, false),
            "LOWER_ROW" => (false, true, false),
            "UPPER_DIAG_ROW" => (false, false, true),
            _ => (false, true, true), // LOWER_DIAG_ROW
        };
        let mut c = Cells {
            lower,
            diagonal,
            full,
            n,
            i: 0,
            j: 0,
        };
        c.j = c.first_column(0);
        c
    }

    /// First column listed in row `i`.
    fn first_column(&self, i: usize) -> usize {
        match (self.full, self.lower, self.diagonal) {
            (true, _, _) | (false, true, _) => 0,
            (false, false, true) => i,
            (false, false, false) => i + 1,
        }
    }

    /// One past the last column listed in row `i`.
    fn end_column(&self, i: usize) -> usize {
        match (self.full, self.lower, self.diagonal) {
            (true, _, _) | (false, false, _) => self.n,
            (false, true, true) => i + 1,
            (false, true, false) => i,
        }
    }
}

impl Iterator for Cells {
    type Item = (usize, usize);
    fn next(&mut self) -> Option<(usize, usize)> {
        while self.i < self.n {
            if self.j < self.end_column(self.i) {
                let cell = (self.i, self.j);
                self.j += 1;
                return Some(cell);
            }
            self.i += 1;
            self.j = self.first_column(self.i);
        }
        None
    }
}

/// The specification part of a TSPLIB file.
#[derive(Default)]
struct Spec {
    name: Option<String>,
    /// `(value, line)`.
    dimension: Option<(usize, usize)>,
    /// `(value, line)`.
    metric: Option<(Metric, usize)>,
    format: Option<String>,
}

impl Spec {
    /// Reads a specification keyword; `false` when `key` is not one.
    fn keyword<'t, I: Iterator<Item = (usize, &'t str)>>(
        &mut self,
        p: &Parser<'t, I>,
        ln: usize,
        key: &str,
        value: &str,
    ) -> Result<bool> {
        match key {
            "NAME" => self.name = Some(value.to_string()),
            "COMMENT" | "NODE_COORD_TYPE" | "DISPLAY_DATA_TYPE" => {}
            "TYPE" if value != "TSP" => {
                return Err(p.err(ln, format!("TYPE {value:?} is not supported: expected TSP")));
            }
            "TYPE" => {}
            "DIMENSION" => {
                let d: usize = value.parse().map_err(|_| {
                    p.err(
                        ln,
                        format!("DIMENSION {value:?} is not a positive integer (written in digits, at most {})", usize::MAX),
                    )
                })?;
                if d < 3 {
                    return Err(p.err(
                        ln,
                        format!("DIMENSION {d} is too small: expected at least 3"),
                    ));
                }
                self.dimension = Some((d, ln));
            }
            "EDGE_WEIGHT_TYPE" => {
                let metric = value.parse::<Metric>().map_err(|_| {
                    p.err(
                        ln,
                        format!("EDGE_WEIGHT_TYPE {value:?} is not supported: expected EUC_2D, CEIL_2D, ATT, GEO or EXPLICIT"),
                    )
                })?;
                self.metric = Some((metric, ln));
            }
            "EDGE_WEIGHT_FORMAT" => self.format = Some(value.to_string()),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `DIMENSION`, which a data section on line `ln` needs to have seen.
    fn dimension_for<'t, I: Iterator<Item = (usize, &'t str)>>(
        &self,
        p: &Parser<'t, I>,
        ln: usize,
        section: &str,
    ) -> Result<usize> {
        self.dimension
            .map(|(n, _)| n)
            .ok_or_else(|| p.err(ln, format!("{section} before DIMENSION")))
    }

    /// The line of `DIMENSION` (0 before it is read).
    fn dimension_line(&self) -> usize {
        self.dimension.map_or(0, |(_, l)| l)
    }

    /// The instance described, once the whole file has been read.
    fn instance<'t, I: Iterator<Item = (usize, &'t str)>>(
        self,
        p: &Parser<'t, I>,
        coords: Option<(Vec<[f64; 2]>, Vec<usize>, usize)>,
        weights: Option<Weights>,
    ) -> Result<Instance> {
        let end = p.last_line.max(1);
        let name = self.name.unwrap_or_else(|| "unnamed".into());
        let (n, dim_line) = self
            .dimension
            .ok_or_else(|| p.err(end, "missing DIMENSION".into()))?;
        let (metric, metric_line) = self
            .metric
            .ok_or_else(|| p.err(end, "missing EDGE_WEIGHT_TYPE".into()))?;
        if metric == Metric::Explicit {
            if let Some((_, _, at)) = coords {
                return Err(p.err(
                    at,
                    format!("NODE_COORD_SECTION in an EXPLICIT instance (EDGE_WEIGHT_TYPE on line {metric_line}): the distances come from EDGE_WEIGHT_SECTION"),
                ));
            }
            let w = weights.ok_or_else(|| {
                p.err(end, "EXPLICIT instance without EDGE_WEIGHT_SECTION".into())
            })?;
            let (big, big_line) = w.largest;
            if !(big * n as f64).is_finite() {
                return Err(p.err(
                    big_line,
                    format!(
                        "edge weight {big:e}: a tour of {n} such edges overflows f64 (with DIMENSION {n} the weights must stay below {:e})",
                        f64::MAX / n as f64
                    ),
                ));
            }
            let rows: Vec<Vec<f64>> = w.matrix.chunks(n).map(|r| r.to_vec()).collect();
            drop(w.matrix);
            return Instance::from_matrix(name, &rows).map_err(|e| p.err(dim_line, e.to_string()));
        }
        if weights.is_some() {
            return Err(p.err(
                metric_line,
                format!("EDGE_WEIGHT_TYPE {metric} takes its distances from NODE_COORD_SECTION, but the file has an EDGE_WEIGHT_SECTION: use EDGE_WEIGHT_TYPE EXPLICIT"),
            ));
        }
        let (cs, lines, _) =
            coords.ok_or_else(|| p.err(end, "missing NODE_COORD_SECTION".into()))?;
        if metric == Metric::Geo {
            check_geo(p, &cs, &lines)?;
        }
        check_span(p, &cs, &lines)?;
        Instance::from_coords(name, cs, metric)
    }
}

/// GEO coordinates are `DDD.MM` latitude (x) and longitude (y): the degrees
/// they stand for must lie in [-90, 90] and [-180, 180].
fn check_geo<'t, I: Iterator<Item = (usize, &'t str)>>(
    p: &Parser<'t, I>,
    cs: &[[f64; 2]],
    lines: &[usize],
) -> Result<()> {
    for (node, (xy, &ln)) in cs.iter().zip(lines).enumerate() {
        for (k, (what, max)) in [("latitude", 90.0), ("longitude", 180.0)]
            .into_iter()
            .enumerate()
        {
            let v = xy[k];
            let deg = v.trunc() + 5.0 * (v - v.trunc()) / 3.0;
            if deg.abs() > max {
                return Err(p.err(
                    ln,
                    format!(
                        "GEO {what} {v} of node {} is outside [-{max}, {max}] degrees (TSPLIB GEO coordinates are DDD.MM)",
                        node + 1
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The longest tour through coordinates spanning `sx x sy` is at most
/// `n * (sqrt(sx^2 + sy^2) + 1)` under every TSPLIB coordinate metric:
/// refuse coordinates for which that (or a squared distance) overflows.
fn check_span<'t, I: Iterator<Item = (usize, &'t str)>>(
    p: &Parser<'t, I>,
    cs: &[[f64; 2]],
    lines: &[usize],
) -> Result<()> {
    let mut lo = [f64::INFINITY; 2];
    let mut hi = [f64::NEG_INFINITY; 2];
    let mut far = (0.0f64, 0usize);
    for (xy, &ln) in cs.iter().zip(lines) {
        for k in 0..2 {
            lo[k] = lo[k].min(xy[k]);
            hi[k] = hi[k].max(xy[k]);
            if xy[k].abs() > far.0 {
                far = (xy[k].abs(), ln);
            }
        }
    }
    let (sx, sy) = (hi[0] - lo[0], hi[1] - lo[1]);
    let sq = sx * sx + sy * sy;
    let n = cs.len() as f64;
    if !sq.is_finite() || !((sq.sqrt() + 1.0) * n).is_finite() {
        return Err(p.err(
            far.1,
            format!(
                "coordinate {:e} is so large that distances or a tour length overflow f64 (the coordinates span {sx:e} x {sy:e})",
                far.0
            ),
        ));
    }
    Ok(())
}

/// Renders an instance as TSPLIB text (coordinates, or a `FULL_MATRIX`).
///
/// [`Metric::Euclidean`] has no TSPLIB keyword; it is written as `EUC_2D`
/// with a comment saying the distances were unrounded.
pub fn to_tsplib(instance: &Instance) -> String {
    use std::fmt::Write;
    let n = instance.len();
    let mut s = String::new();
    let _ = writeln!(s, "NAME : {}", instance.name);
    if instance.metric() == Metric::Euclidean {
        let _ = writeln!(
            s,
            "COMMENT : unrounded Euclidean instance written as EUC_2D"
        );
    }
    let _ = writeln!(s, "TYPE : TSP");
    let _ = writeln!(s, "DIMENSION : {n}");
    match instance.metric() {
        Metric::Explicit => {
            let _ = writeln!(s, "EDGE_WEIGHT_TYPE : EXPLICIT");
            let _ = writeln!(s, "EDGE_WEIGHT_FORMAT : FULL_MATRIX");
            let _ = writeln!(s, "EDGE_WEIGHT_SECTION");
            for row in instance.matrix().chunks(n) {
                let line: Vec<String> = row.iter().map(|v| format!("{v}")).collect();
                let _ = writeln!(s, "{}", line.join(" "));
            }
        }
        m => {
            let kw = if m == Metric::Euclidean {
                "EUC_2D".to_string()
            } else {
                m.to_string()
            };
            let _ = writeln!(s, "EDGE_WEIGHT_TYPE : {kw}");
            let _ = writeln!(s, "NODE_COORD_SECTION");
            for (i, [x, y]) in instance.coords().iter().enumerate() {
                let _ = writeln!(s, "{} {x} {y}", i + 1);
            }
        }
    }
    s.push_str("EOF\n");
    s
}

/// Writes an instance to a `.tsp` file (atomically: a temporary file beside
/// it, renamed into place).
pub fn write_tsp(instance: &Instance, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    duality_core::files::write_atomic(path, to_tsplib(instance))
}

/// Renders a tour as a TSPLIB `.tour` file (1-based ids, `-1` terminator).
pub fn tour_to_tsplib(name: &str, tour: &Tour) -> String {
    use std::fmt::Write;
    let mut s = format!(
        "NAME : {name}\nTYPE : TOUR\nDIMENSION : {}\nTOUR_SECTION\n",
        tour.len()
    );
    for &c in tour.cities() {
        let _ = writeln!(s, "{}", c + 1);
    }
    s.push_str("-1\nEOF\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optima_table_reads_and_missing_file_names_its_path() {
        let dir = std::env::temp_dir().join(format!("duality-optima-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("optima.csv");
        std::fs::write(
            &path,
            "instance,dimension,edge_weight_type,optimal_length,note\nx5,5,EUC_2D,12,a, b\n",
        )
        .unwrap();
        let rows = read_optima(&path).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].name.as_str(), rows[0].dimension, rows[0].length),
            ("x5", 5, 12.0)
        );
        std::fs::write(&path, "h\nx5,five,EUC_2D,12\n").unwrap();
        let msg = read_optima(&path).unwrap_err().to_string();
        assert!(msg.contains("five") && msg.contains('2'), "{msg}");
        std::fs::remove_dir_all(&dir).unwrap();
        let msg = read_optima(&path).unwrap_err().to_string();
        assert!(msg.contains("optima.csv"), "{msg}");
    }

    const SMALL: &str = "NAME : tiny\nTYPE : TSP\nDIMENSION : 4\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 0 10\n3 10 10\n4 10 0\nEOF\n";

    #[test]
    fn reads_and_roundtrips() {
        let inst = parse_tsp(SMALL, "tiny.tsp").unwrap();
        assert_eq!(inst.len(), 4);
        assert_eq!(inst.dist(0, 2), 14.0);
        let again = parse_tsp(&to_tsplib(&inst), "again").unwrap();
        assert_eq!(inst, again);
        for kw in ["EUC_2D", "CEIL_2D", "ATT", "GEO", "EXPLICIT"] {
            assert_eq!(kw.parse::<Metric>().unwrap().to_string(), kw);
        }
        let e = "EUCLIDEAN".parse::<Metric>().unwrap_err().to_string();
        assert!(e.contains("EUCLIDEAN") && e.contains("EUC_2D"), "{e}");
        let e = parse_tsp(&SMALL.replace("EUC_2D", "MAN_2D"), "m.tsp")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 4") && e.contains("MAN_2D"), "{e}");
    }

    #[test]
    fn explicit_formats() {
        let text = "NAME: m\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: UPPER_ROW\nEDGE_WEIGHT_SECTION\n1 2\n3\nEOF\n";
        let inst = parse_tsp(text, "m").unwrap();
        assert_eq!(inst.dist(0, 1), 1.0);
        assert_eq!(inst.dist(2, 0), 2.0);
        assert_eq!(inst.dist(1, 2), 3.0);
        let again = parse_tsp(&to_tsplib(&inst), "again").unwrap();
        assert_eq!(again.dist(1, 2), 3.0);
        let lower = "NAME: m\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: LOWER_DIAG_ROW\nEDGE_WEIGHT_SECTION\n0 1 0 2 3 0\nEOF\n";
        let inst = parse_tsp(lower, "m").unwrap();
        assert_eq!(inst.dist(2, 1), 3.0);
    }

    #[test]
    fn wrong_dimension_names_the_line() {
        let too_big = SMALL.replace("DIMENSION : 4", "DIMENSION : 5");
        let e = parse_tsp(&too_big, "x.tsp").unwrap_err().to_string();
        assert!(
            e.contains("x.tsp line 10") && e.contains("DIMENSION is 5"),
            "{e}"
        );
        let too_small = SMALL.replace("DIMENSION : 4", "DIMENSION : 3");
        let e = parse_tsp(&too_small, "x.tsp").unwrap_err().to_string();
        assert!(e.contains("line 9") && e.contains("DIMENSION 3"), "{e}");
        let bad_id = SMALL.replace("4 10 0", "7 10 0");
        let e = parse_tsp(&bad_id, "x.tsp").unwrap_err().to_string();
        assert!(e.contains("line 9") && e.contains("node id 7"), "{e}");
        let nan = SMALL.replace("3 10 10", "3 nan 10");
        let e = parse_tsp(&nan, "x.tsp").unwrap_err().to_string();
        assert!(e.contains("line 8"), "{e}");
        let dup = SMALL.replace("4 10 0", "3 10 0");
        let e = parse_tsp(&dup, "x.tsp").unwrap_err().to_string();
        assert!(e.contains("appears twice"), "{e}");
        let nodim = SMALL.replace("DIMENSION : 4\n", "");
        assert!(parse_tsp(&nodim, "x").is_err());
        let baddim = SMALL.replace("DIMENSION : 4", "DIMENSION : four");
        let e = parse_tsp(&baddim, "x.tsp").unwrap_err().to_string();
        assert!(e.contains("line 3"), "{e}");
    }
}
