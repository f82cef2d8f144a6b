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
pub fn parse_tsp(text: &str, source: &str) -> Result<Instance> {
    let err = |line: usize, msg: String| Error::parse(source, Some(line), msg);
    let mut name = String::from("unnamed");
    let mut dimension: Option<(usize, usize)> = None; // (value, line)
    let mut metric: Option<Metric> = None;
    let mut format: Option<String> = None;
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
    let mut coords: Option<Vec<Option<[f64; 2]>>> = None;
    let mut weights: Option<Vec<f64>> = None;
    let mut last_line = 0;
    while let Some((ln, line)) = lines.next() {
        last_line = ln;
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
            "NAME" => name = value.to_string(),
            "COMMENT" => {}
            "TYPE" => {
                if value != "TSP" {
                    return Err(err(ln, format!("TYPE {value:?} is not supported: expected TSP")));
                }
            }
            "DIMENSION" => {
                let d: usize = value
                    .parse()
                    .map_err(|_| err(ln, format!("DIMENSION {value:?} is not a positive integer")))?;
                if d < 3 {
                    return Err(err(ln, format!("DIMENSION {d} is too small: expected at least 3")));
                }
                dimension = Some((d, ln));
            }
            "EDGE_WEIGHT_TYPE" => {
                metric = Some(match value {
                    "EUC_2D" => Metric::Euc2d,
                    "CEIL_2D" => Metric::Ceil2d,
                    "ATT" => Metric::Att,
                    "GEO" => Metric::Geo,
                    "EXPLICIT" => Metric::Explicit,
                    other => {
                        return Err(err(
                            ln,
                            format!("EDGE_WEIGHT_TYPE {other:?} is not supported: expected EUC_2D, CEIL_2D, ATT, GEO or EXPLICIT"),
                        ))
                    }
                })
            }
            "EDGE_WEIGHT_FORMAT" => format = Some(value.to_string()),
            "NODE_COORD_TYPE" | "DISPLAY_DATA_TYPE" => {}
            "NODE_COORD_SECTION" => {
                let (n, _) = dimension.ok_or_else(|| err(ln, "NODE_COORD_SECTION before DIMENSION".into()))?;
                let mut cs: Vec<Option<[f64; 2]>> = vec![None; n];
                let mut count = 0;
                while count < n {
                    let Some((ln, line)) = lines.next() else {
                        return Err(err(
                            last_line + 1,
                            format!("NODE_COORD_SECTION ended after {count} node(s) but DIMENSION is {n}"),
                        ));
                    };
                    last_line = ln;
                    if line.is_empty() {
                        continue;
                    }
                    if line == "EOF" || line.ends_with("SECTION") {
                        return Err(err(
                            ln,
                            format!("NODE_COORD_SECTION has {count} node(s) but DIMENSION is {n}"),
                        ));
                    }
                    let toks: Vec<&str> = line.split_whitespace().collect();
                    if toks.len() != 3 {
                        return Err(err(ln, format!("expected `id x y`, got {line:?}")));
                    }
                    let id: usize = toks[0]
                        .parse()
                        .map_err(|_| err(ln, format!("node id {:?} is not an integer", toks[0])))?;
                    if id == 0 || id > n {
                        return Err(err(ln, format!("node id {id} out of range 1..={n} (DIMENSION {n})")));
                    }
                    let mut xy = [0.0; 2];
                    for k in 0..2 {
                        let v: f64 = toks[k + 1]
                            .parse()
                            .map_err(|_| err(ln, format!("coordinate {:?} is not a number", toks[k + 1])))?;
                        if !v.is_finite() {
                            return Err(err(ln, format!("coordinate {v} of node {id} is not finite")));
                        }
                        xy[k] = v;
                    }
                    if cs[id - 1].is_some() {
                        return Err(err(ln, format!("node id {id} appears twice")));
                    }
                    cs[id - 1] = Some(xy);
                    count += 1;
                }
                coords = Some(cs);
            }
            "EDGE_WEIGHT_SECTION" => {
                let (n, _) = dimension.ok_or_else(|| err(ln, "EDGE_WEIGHT_SECTION before DIMENSION".into()))?;
                let fmt = format.clone().unwrap_or_else(|| "FULL_MATRIX".into());
                let needed = match fmt.as_str() {
                    "FULL_MATRIX" => n * n,
                    "UPPER_ROW" | "LOWER_ROW" => n * (n - 1) / 2,
                    "UPPER_DIAG_ROW" | "LOWER_DIAG_ROW" => n * (n + 1) / 2,
                    other => return Err(err(ln, format!("EDGE_WEIGHT_FORMAT {other:?} is not supported"))),
                };
                let mut ws = Vec::with_capacity(needed);
                while ws.len() < needed {
                    let Some((ln, line)) = lines.next() else {
                        return Err(err(
                            last_line + 1,
                            format!("EDGE_WEIGHT_SECTION ended after {} weight(s); {fmt} with DIMENSION {n} needs {needed}", ws.len()),
                        ));
                    };
                    last_line = ln;
                    if line == "EOF" || line.ends_with("SECTION") {
                        return Err(err(
                            ln,
                            format!("EDGE_WEIGHT_SECTION has {} weight(s); {fmt} with DIMENSION {n} needs {needed}", ws.len()),
                        ));
                    }
                    for tok in line.split_whitespace() {
                        let v: f64 = tok
                            .parse()
                            .map_err(|_| err(ln, format!("edge weight {tok:?} is not a number")))?;
                        if !v.is_finite() || v < 0.0 {
                            return Err(err(ln, format!("edge weight {v} is not a finite number >= 0")));
                        }
                        if ws.len() == needed {
                            return Err(err(ln, format!("too many edge weights for {fmt} with DIMENSION {n}")));
                        }
                        ws.push(v);
                    }
                }
                weights = Some(expand_matrix(&ws, n, &fmt));
            }
            "DISPLAY_DATA_SECTION" | "FIXED_EDGES_SECTION" | "TOUR_SECTION" => {
                return Err(err(ln, format!("{key} is not supported")));
            }
            other => {
                // A data line where a keyword was expected: typically more
                // nodes than DIMENSION announced.
                if let (Some((n, dl)), Some(_)) = (dimension, coords.as_ref()) {
                    return Err(err(
                        ln,
                        format!("unexpected line {other:?} after {n} nodes: DIMENSION {n} (line {dl}) is smaller than the node list"),
                    ));
                }
                return Err(err(ln, format!("unknown keyword {other:?}")));
            }
        }
    }
    let (n, dim_line) =
        dimension.ok_or_else(|| err(last_line.max(1), "missing DIMENSION".into()))?;
    let metric = metric.ok_or_else(|| err(last_line.max(1), "missing EDGE_WEIGHT_TYPE".into()))?;
    if metric == Metric::Explicit {
        let w = weights.ok_or_else(|| {
            err(
                last_line.max(1),
                "EXPLICIT instance without EDGE_WEIGHT_SECTION".into(),
            )
        })?;
        let rows: Vec<Vec<f64>> = w.chunks(n).map(|r| r.to_vec()).collect();
        return Instance::from_matrix(name, &rows).map_err(|e| err(dim_line, e.to_string()));
    }
    let cs = coords.ok_or_else(|| err(last_line.max(1), "missing NODE_COORD_SECTION".into()))?;
    let cs: Vec<[f64; 2]> = cs.into_iter().flatten().collect();
    Instance::from_coords(name, cs, metric)
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
                "EUC_2D"
            } else {
                m.keyword()
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
