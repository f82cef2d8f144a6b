//! TSPLIB 95 reader and writer (Reinelt 1995).
//!
//! Supported: `TYPE: TSP`, `EDGE_WEIGHT_TYPE` in `EUC_2D`, `CEIL_2D`, `ATT`,
//! `GEO`, `EXPLICIT` (formats `FULL_MATRIX`, `UPPER_ROW`, `LOWER_ROW`,
//! `UPPER_DIAG_ROW`, `LOWER_DIAG_ROW`), `NODE_COORD_SECTION`,
//! `EDGE_WEIGHT_SECTION`, `EOF`. Everything malformed is an error naming the
//! line: a missing or wrong `DIMENSION`, a node id out of range or repeated,
//! a non-numeric or non-finite coordinate, too few or too many entries.

use std::path::Path;

use duality_core::{Error, Result};

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
/// every error names `source` and the offending line.
pub fn parse_tsp(text: &str, source: &str) -> Result<Instance> {
    let mut p = Parser {
        lines: text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())),
        source,
        last_line: 0,
    };
    let mut spec = Spec::default();
    let mut coords: Option<Vec<[f64; 2]>> = None;
    let mut weights: Option<Vec<f64>> = None;
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
        match key {
            "NODE_COORD_SECTION" => {
                let n = spec.dimension_for(&p, ln, key)?;
                coords = Some(p.node_coords(n)?);
            }
            "EDGE_WEIGHT_SECTION" => {
                let n = spec.dimension_for(&p, ln, key)?;
                let fmt = spec.format.clone().unwrap_or_else(|| "FULL_MATRIX".into());
                weights = Some(p.edge_weights(n, &fmt, ln)?);
            }
            "DISPLAY_DATA_SECTION" | "FIXED_EDGES_SECTION" | "TOUR_SECTION" => {
                return Err(p.err(ln, format!("{key} is not supported")));
            }
            _ if spec.keyword(&p, ln, key, value)? => {}
            other => {
                // A data line where a keyword was expected: typically more
                // nodes than DIMENSION announced.
                if let (Some((n, dl)), Some(_)) = (spec.dimension, coords.as_ref()) {
                    return Err(p.err(
                        ln,
                        format!("unexpected line {other:?} after {n} nodes: DIMENSION {n} (line {dl}) is smaller than the node list"),
                    ));
                }
                return Err(p.err(ln, format!("unknown keyword {other:?}")));
            }
        }
    }
    spec.instance(&p, coords, weights)
}

/// Line reader over TSPLIB text that remembers the last line read (for
/// errors at the end of the file) and names the source in errors.
struct Parser<'t, I: Iterator<Item = (usize, &'t str)>> {
    lines: I,
    source: &'t str,
    last_line: usize,
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

    /// The `n` lines `id x y` of a `NODE_COORD_SECTION`, in id order.
    fn node_coords(&mut self, n: usize) -> Result<Vec<[f64; 2]>> {
        let mut cs: Vec<Option<[f64; 2]>> = vec![None; n];
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
                return Err(self.err(ln, format!("node id {id} appears twice")));
            }
            cs[id - 1] = Some(xy);
            count += 1;
        }
        Ok(cs.into_iter().flatten().collect())
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
            let v: f64 = toks[k + 1].parse().map_err(|_| {
                self.err(ln, format!("coordinate {:?} is not a number", toks[k + 1]))
            })?;
            if !v.is_finite() {
                return Err(self.err(ln, format!("coordinate {v} of node {id} is not finite")));
            }
            xy[k] = v;
        }
        Ok((id, xy))
    }

    /// The weights of an `EDGE_WEIGHT_SECTION` in format `fmt` (keyword on
    /// line `at`), expanded to a full symmetric `n x n` matrix.
    fn edge_weights(&mut self, n: usize, fmt: &str, at: usize) -> Result<Vec<f64>> {
        let needed = match fmt {
            "FULL_MATRIX" => n * n,
            "UPPER_ROW" | "LOWER_ROW" => n * (n - 1) / 2,
            "UPPER_DIAG_ROW" | "LOWER_DIAG_ROW" => n * (n + 1) / 2,
            other => {
                return Err(self.err(at, format!("EDGE_WEIGHT_FORMAT {other:?} is not supported")))
            }
        };
        let mut ws = Vec::with_capacity(needed);
        while ws.len() < needed {
            let Some((ln, line)) = self.next_line() else {
                return Err(self.err(
                    self.last_line + 1,
                    format!("EDGE_WEIGHT_SECTION ended after {} weight(s); {fmt} with DIMENSION {n} needs {needed}", ws.len()),
                ));
            };
            if line == "EOF" || line.ends_with("SECTION") {
                return Err(self.err(
                    ln,
                    format!("EDGE_WEIGHT_SECTION has {} weight(s); {fmt} with DIMENSION {n} needs {needed}", ws.len()),
                ));
            }
            for tok in line.split_whitespace() {
                let v: f64 = tok
                    .parse()
                    .map_err(|_| self.err(ln, format!("edge weight {tok:?} is not a number")))?;
                if !v.is_finite() || v < 0.0 {
                    return Err(
                        self.err(ln, format!("edge weight {v} is not a finite number >= 0"))
                    );
                }
                if ws.len() == needed {
                    return Err(self.err(
                        ln,
                        format!("too many edge weights for {fmt} with DIMENSION {n}"),
                    ));
                }
                ws.push(v);
            }
        }
        Ok(expand_matrix(&ws, n, fmt))
    }
}

/// The specification part of a TSPLIB file.
#[derive(Default)]
struct Spec {
    name: Option<String>,
    /// `(value, line)`.
    dimension: Option<(usize, usize)>,
    metric: Option<Metric>,
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
                    p.err(ln, format!("DIMENSION {value:?} is not a positive integer"))
                })?;
                if d < 3 {
                    return Err(p.err(ln, format!("DIMENSION {d} is too small: expected at least 3")));
                }
                self.dimension = Some((d, ln));
            }
            "EDGE_WEIGHT_TYPE" => {
                self.metric = Some(value.parse::<Metric>().map_err(|_| {
                    p.err(
                        ln,
                        format!("EDGE_WEIGHT_TYPE {value:?} is not supported: expected EUC_2D, CEIL_2D, ATT, GEO or EXPLICIT"),
                    )
                })?)
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

    /// The instance described, once the whole file has been read.
    fn instance<'t, I: Iterator<Item = (usize, &'t str)>>(
        self,
        p: &Parser<'t, I>,
        coords: Option<Vec<[f64; 2]>>,
        weights: Option<Vec<f64>>,
    ) -> Result<Instance> {
        let end = p.last_line.max(1);
        let name = self.name.unwrap_or_else(|| "unnamed".into());
        let (n, dim_line) = self
            .dimension
            .ok_or_else(|| p.err(end, "missing DIMENSION".into()))?;
        let metric = self
            .metric
            .ok_or_else(|| p.err(end, "missing EDGE_WEIGHT_TYPE".into()))?;
        if metric == Metric::Explicit {
            let w = weights.ok_or_else(|| {
                p.err(end, "EXPLICIT instance without EDGE_WEIGHT_SECTION".into())
            })?;
            let rows: Vec<Vec<f64>> = w.chunks(n).map(|r| r.to_vec()).collect();
            return Instance::from_matrix(name, &rows).map_err(|e| p.err(dim_line, e.to_string()));
        }
        let cs = coords.ok_or_else(|| p.err(end, "missing NODE_COORD_SECTION".into()))?;
        Instance::from_coords(name, cs, metric)
    }
}

fn expand_matrix(ws: &[f64], n: usize, fmt: &str) -> Vec<f64> {
    let mut m = vec![0.0; n * n];
    let mut it = ws.iter().copied();
    let mut set = |i: usize, j: usize, v: f64| {
        m[i * n + j] = v;
        m[j * n + i] = v;
    };
    match fmt {
        "FULL_MATRIX" => {
            for i in 0..n {
                for j in 0..n {
                    let v = it.next().unwrap_or(0.0);
                    if i <= j {
                        set(i, j, v);
                    }
                }
            }
        }
        "UPPER_ROW" => {
            for i in 0..n {
                for j in i + 1..n {
                    set(i, j, it.next().unwrap_or(0.0));
                }
            }
        }
        "UPPER_DIAG_ROW" => {
            for i in 0..n {
                for j in i..n {
                    set(i, j, it.next().unwrap_or(0.0));
                }
            }
        }
        "LOWER_ROW" => {
            for i in 0..n {
                for j in 0..i {
                    set(i, j, it.next().unwrap_or(0.0));
                }
            }
        }
        _ => {
            // LOWER_DIAG_ROW
            for i in 0..n {
                for j in 0..=i {
                    set(i, j, it.next().unwrap_or(0.0));
                }
            }
        }
    }
    m
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

/// Writes an instance to a `.tsp` file.
pub fn write_tsp(instance: &Instance, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    std::fs::write(path, to_tsplib(instance)).map_err(|e| Error::io(path, e))
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
