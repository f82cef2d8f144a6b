//! MPS files (fixed and free format, read by whitespace-separated fields:
//! names must not contain spaces): `NAME`, `OBJSENSE` (`MIN`/`MAX`, on the
//! same or the next line), `ROWS` (`N`, `L`, `G`, `E`; the first `N` row is
//! the objective, further `N` rows are ignored), `COLUMNS` with
//! `'MARKER' 'INTORG'`/`'INTEND'` integer blocks, `RHS` (a right-hand side
//! on the objective row is minus the objective constant, as CPLEX and SCIP
//! read it), `RANGES` (the standard `|R|` rules), `BOUNDS` (`UP`, `LO`,
//! `FX`, `FR`, `MI`, `PL`, `BV`, `LI`, `UI`; `UP` with a negative value on a
//! variable whose lower bound is 0 sets the lower bound to `-inf`), `ENDATA`.
//! Integer variables of `INTORG` blocks default to `[0, +inf)` (CPLEX and
//! Gurobi; SCIP too). Errors name the file and the line.

use std::collections::HashMap;
use std::path::Path;

use duality_core::{files, limits, Error, Result};

use super::problem::{Milp, Row, MAX_DIM};

/// Largest MPS file read (bytes).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

#[derive(Clone, Copy, PartialEq)]
enum Section {
    None,
    Name,
    ObjSense,
    Rows,
    Columns,
    Rhs,
    Ranges,
    Bounds,
    End,
}

#[derive(Clone, Copy, PartialEq)]
enum RowKind {
    L,
    G,
    E,
}

/// Reads an MPS file.
///
/// # Errors
/// Unreadable or oversized files, and any syntax or consistency error
/// (naming the line).
pub fn read_mps(path: impl AsRef<Path>) -> Result<Milp> {
    let path = path.as_ref();
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.len() > MAX_FILE_BYTES.min(limits::memory_budget()) {
        return Err(Error::invalid(
            format!("size of {}", path.display()),
            format!("{} bytes", meta.len()),
            format!(
                "at most {} bytes for an MPS file",
                MAX_FILE_BYTES.min(limits::memory_budget())
            ),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_mps(&text, &path.display().to_string())
}

/// Parses MPS text; `source` names it in errors.
///
/// # Errors
/// As [`read_mps`].
pub fn parse_mps(text: &str, source: &str) -> Result<Milp> {
    let err = |line: usize, msg: String| Error::parse(source, Some(line), msg);
    let mut p = Milp::new("", false);
    let mut section = Section::None;
    let mut obj_row: Option<String> = None;
    let mut extra_n: Vec<String> = Vec::new();
    let mut row_index: HashMap<String, usize> = HashMap::new();
    let mut kinds: Vec<RowKind> = Vec::new();
    let mut rhs: Vec<f64> = Vec::new();
    let mut ranges: Vec<Option<f64>> = Vec::new();
    let mut col_index: HashMap<String, usize> = HashMap::new();
    let mut in_int = false;
    let mut bounded: Vec<bool> = Vec::new();
    let mut last_col: Option<usize> = None;
    for (k, raw) in text.lines().enumerate() {
        let line_no = k + 1;
        if raw.starts_with('*') || raw.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = raw.split_whitespace().collect();
        let header = !raw.starts_with(' ') && !raw.starts_with('\t');
        if header {
            let key = fields[0].to_ascii_uppercase();
            section = match key.as_str() {
                "NAME" => {
                    p.name = fields.get(1..).map(|f| f.join(" ")).unwrap_or_default();
                    Section::Name
                }
                "OBJSENSE" => {
                    if let Some(s) = fields.get(1) {
                        set_sense(&mut p, s).map_err(|m| err(line_no, m))?;
                    }
                    Section::ObjSense
                }
                "OBJSENS" => Section::ObjSense,
                "ROWS" => Section::Rows,
                "COLUMNS" => Section::Columns,
                "RHS" => Section::Rhs,
                "RANGES" => Section::Ranges,
                "BOUNDS" => Section::Bounds,
                "ENDATA" => Section::End,
                "MAX" | "MAXIMIZE" | "MIN" | "MINIMIZE" if section == Section::ObjSense => {
                    set_sense(&mut p, &key).map_err(|m| err(line_no, m))?;
                    Section::ObjSense
                }
                other => {
                    return Err(err(
                        line_no,
                        format!("unknown section {other:?} (expected NAME, OBJSENSE, ROWS, COLUMNS, RHS, RANGES, BOUNDS or ENDATA)"),
                    ))
                }
            };
            if section == Section::End {
                break;
            }
            continue;
        }
        match section {
            Section::ObjSense => {
                set_sense(&mut p, fields[0]).map_err(|m| err(line_no, m))?;
            }
            Section::Rows => {
                if fields.len() != 2 {
                    return Err(err(
                        line_no,
                        format!(
                            "a ROWS line has 2 fields (type, name), found {}",
                            fields.len()
                        ),
                    ));
                }
                let name = fields[1].to_string();
                let kind = match fields[0].to_ascii_uppercase().as_str() {
                    "N" => {
                        if obj_row.is_none() {
                            obj_row = Some(name);
                        } else {
                            extra_n.push(name);
                        }
                        continue;
                    }
                    "L" => RowKind::L,
                    "G" => RowKind::G,
                    "E" => RowKind::E,
                    other => {
                        return Err(err(
                            line_no,
                            format!("unknown row type {other:?} (expected N, L, G or E)"),
                        ))
                    }
                };
                if row_index.contains_key(&name) || obj_row.as_deref() == Some(name.as_str()) {
                    return Err(err(line_no, format!("row {name} declared twice")));
                }
                if kinds.len() >= MAX_DIM {
                    return Err(err(line_no, format!("more than {MAX_DIM} rows")));
                }
                row_index.insert(name.clone(), kinds.len());
                kinds.push(kind);
                rhs.push(0.0);
                ranges.push(None);
                p.rows.push(Row {
                    name,
                    coefs: Vec::new(),
                    lower: 0.0,
                    upper: 0.0,
                });
            }
            Section::Columns => {
                if fields.len() >= 3 && fields[1].trim_matches('\'').eq_ignore_ascii_case("MARKER")
                {
                    match fields[2].trim_matches('\'').to_ascii_uppercase().as_str() {
                        "INTORG" => in_int = true,
                        "INTEND" => in_int = false,
                        other => {
                            return Err(err(
                                line_no,
                                format!("unknown marker {other:?} (expected INTORG or INTEND)"),
                            ))
                        }
                    }
                    continue;
                }
                if fields.len() != 3 && fields.len() != 5 {
                    return Err(err(line_no, format!("a COLUMNS line has 3 or 5 fields (column, row, value[, row, value]), found {}", fields.len())));
                }
                let name = fields[0];
                let j = match col_index.get(name) {
                    Some(&j) => {
                        if last_col != Some(j) {
                            return Err(err(line_no, format!("column {name} is not contiguous")));
                        }
                        j
                    }
                    None => {
                        let j = p
                            .add_var(name, 0.0, 0.0, f64::INFINITY, in_int)
                            .map_err(|e| err(line_no, e.to_string()))?;
                        col_index.insert(name.to_string(), j);
                        bounded.push(false);
                        j
                    }
                };
                last_col = Some(j);
                for pair in fields[1..].chunks(2) {
                    let v = number(pair[1]).map_err(|m| err(line_no, m))?;
                    if Some(pair[0]) == obj_row.as_deref() {
                        p.obj[j] += v;
                    } else if let Some(&i) = row_index.get(pair[0]) {
                        if p.rows[i].coefs.last().is_some_and(|&(c, _)| c == j) {
                            return Err(err(
                                line_no,
                                format!("column {name} has two entries in row {}", pair[0]),
                            ));
                        }
                        if v != 0.0 {
                            p.rows[i].coefs.push((j, v));
                        }
                    } else if !extra_n.iter().any(|r| r == pair[0]) {
                        return Err(err(line_no, format!("unknown row {}", pair[0])));
                    }
                }
            }
            Section::Rhs | Section::Ranges => {
                // Optional set name: 2 or 4 fields without, 3 or 5 with.
                let pairs = match fields.len() {
                    2 | 4 => &fields[..],
                    3 | 5 => &fields[1..],
                    n => {
                        return Err(err(
                            line_no,
                            format!("an RHS/RANGES line has 2 to 5 fields, found {n}"),
                        ))
                    }
                };
                for pair in pairs.chunks(2) {
                    let v = number(pair[1]).map_err(|m| err(line_no, m))?;
                    if section == Section::Rhs && Some(pair[0]) == obj_row.as_deref() {
                        p.obj_offset = -v;
                        continue;
                    }
                    let Some(&i) = row_index.get(pair[0]) else {
                        if extra_n.iter().any(|r| r == pair[0]) {
                            continue;
                        }
                        return Err(err(line_no, format!("unknown row {}", pair[0])));
                    };
                    if section == Section::Rhs {
                        rhs[i] = v;
                    } else {
                        ranges[i] = Some(v);
                    }
                }
            }
            Section::Bounds => {
                let kind = fields[0].to_ascii_uppercase();
                let needs_value = !matches!(kind.as_str(), "FR" | "MI" | "PL" | "BV");
                // type [set] column [value]
                let (col, value) = match (needs_value, fields.len()) {
                    (true, 4) => (fields[2], Some(fields[3])),
                    (true, 3) => (fields[1], Some(fields[2])),
                    (false, 3) => (fields[2], None),
                    (false, 2) => (fields[1], None),
                    (false, 4) => (fields[2], None),
                    (_, n) => {
                        return Err(err(line_no, format!("bound {kind} line has {n} fields")))
                    }
                };
                let Some(&j) = col_index.get(col) else {
                    return Err(err(line_no, format!("unknown column {col}")));
                };
                let v = match value {
                    Some(s) => number(s).map_err(|m| err(line_no, m))?,
                    None => 0.0,
                };
                match kind.as_str() {
                    "UP" => {
                        if v < 0.0 && p.lower[j] == 0.0 && !bounded[j] {
                            p.lower[j] = f64::NEG_INFINITY;
                        }
                        p.upper[j] = v;
                    }
                    "LO" => p.lower[j] = v,
                    "FX" => {
                        p.lower[j] = v;
                        p.upper[j] = v;
                    }
                    "FR" => {
                        p.lower[j] = f64::NEG_INFINITY;
                        p.upper[j] = f64::INFINITY;
                    }
                    "MI" => p.lower[j] = f64::NEG_INFINITY,
                    "PL" => p.upper[j] = f64::INFINITY,
                    "BV" => {
                        p.lower[j] = 0.0;
                        p.upper[j] = 1.0;
                        p.integer[j] = true;
                    }
                    "LI" => {
                        p.lower[j] = v;
                        p.integer[j] = true;
                    }
                    "UI" => {
                        p.upper[j] = v;
                        p.integer[j] = true;
                    }
                    other => return Err(err(line_no, format!("unknown bound type {other:?} (expected UP, LO, FX, FR, MI, PL, BV, LI or UI)"))),
                }
                bounded[j] = true;
                if p.lower[j] > p.upper[j] {
                    return Err(err(
                        line_no,
                        format!("bounds of {col} cross: [{}, {}]", p.lower[j], p.upper[j]),
                    ));
                }
            }
            Section::Name => return Err(err(line_no, "data line before ROWS".into())),
            Section::None => return Err(err(line_no, "data line before any section".into())),
            Section::End => break,
        }
    }
    if section != Section::End {
        return Err(Error::parse(source, None, "missing ENDATA"));
    }
    if obj_row.is_none() && p.rows.is_empty() {
        return Err(Error::parse(source, None, "no ROWS section"));
    }
    for (i, row) in p.rows.iter_mut().enumerate() {
        let b = rhs[i];
        let (lo, hi) = match kinds[i] {
            RowKind::L => (f64::NEG_INFINITY, b),
            RowKind::G => (b, f64::INFINITY),
            RowKind::E => (b, b),
        };
        let (lo, hi) = match ranges[i] {
            None => (lo, hi),
            Some(r) => match kinds[i] {
                RowKind::L => (b - r.abs(), b),
                RowKind::G => (b, b + r.abs()),
                RowKind::E if r >= 0.0 => (b, b + r),
                RowKind::E => (b + r, b),
            },
        };
        row.lower = lo;
        row.upper = hi;
    }
    p.validate()
        .map_err(|e| Error::parse(source, None, e.to_string()))?;
    Ok(p)
}

fn set_sense(p: &mut Milp, s: &str) -> std::result::Result<(), String> {
    match s.to_ascii_uppercase().as_str() {
        "MAX" | "MAXIMIZE" => p.maximize = true,
        "MIN" | "MINIMIZE" => p.maximize = false,
        other => {
            return Err(format!(
                "unknown objective sense {other:?} (expected MIN or MAX)"
            ))
        }
    }
    Ok(())
}

fn number(s: &str) -> std::result::Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if v.is_nan() {
        return Err(format!("{s:?} is not a number"));
    }
    Ok(v)
}

fn fmt_num(v: f64) -> String {
    if v == f64::INFINITY {
        "1e+30".into()
    } else if v == f64::NEG_INFINITY {
        "-1e+30".into()
    } else {
        format!("{v:?}")
    }
}

/// A name for the objective row that no constraint row has.
fn objective_row_name(p: &Milp) -> String {
    let taken: std::collections::HashSet<&str> = p.rows.iter().map(|r| r.name.as_str()).collect();
    if !taken.contains("obj") {
        return "obj".into();
    }
    (1..)
        .map(|k| format!("obj_{k}"))
        .find(|name| !taken.contains(name.as_str()))
        .unwrap_or_else(|| "obj".into())
}

/// The problem in free MPS (names as stored; generated names have no
/// spaces). `OBJSENSE MAX` is written for maximisation; infinite bounds
/// use `MI`/`PL`/`FR`.
pub fn write_mps_string(p: &Milp) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "NAME {}",
        if p.name.is_empty() { "milp" } else { &p.name }
    );
    if p.maximize {
        let _ = writeln!(s, "OBJSENSE\n    MAX");
    }
    // The objective row's name must not be a constraint's (a file whose
    // constraint is named `obj` was written with two rows `obj`, which the
    // reader rightly refuses): `obj`, else `obj_1`, `obj_2`, ...
    let obj = objective_row_name(p);
    let _ = writeln!(s, "ROWS\n N  {obj}");
    for row in &p.rows {
        let t = match (row.lower.is_finite(), row.upper.is_finite()) {
            (true, true) if row.lower == row.upper => "E",
            (true, _) => "G",
            (false, true) => "L",
            (false, false) => "N",
        };
        let _ = writeln!(s, " {t}  {}", row.name);
    }
    let mut cols: Vec<Vec<(usize, f64)>> = vec![Vec::new(); p.num_vars()];
    for (i, row) in p.rows.iter().enumerate() {
        for &(j, v) in &row.coefs {
            cols[j].push((i, v));
        }
    }
    let _ = writeln!(s, "COLUMNS");
    let mut in_int = false;
    for (j, col) in cols.iter().enumerate() {
        if p.integer[j] != in_int {
            in_int = p.integer[j];
            let _ = writeln!(
                s,
                "    MARKER  'MARKER'  '{}'",
                if in_int { "INTORG" } else { "INTEND" }
            );
        }
        let name = &p.var_names[j];
        if p.obj[j] != 0.0 || col.is_empty() {
            let _ = writeln!(s, "    {name}  {obj}  {}", fmt_num(p.obj[j]));
        }
        for &(i, v) in col {
            let _ = writeln!(s, "    {name}  {}  {}", p.rows[i].name, fmt_num(v));
        }
    }
    if in_int {
        let _ = writeln!(s, "    MARKER  'MARKER'  'INTEND'");
    }
    let _ = writeln!(s, "RHS");
    if p.obj_offset != 0.0 {
        let _ = writeln!(s, "    RHS  {obj}  {}", fmt_num(-p.obj_offset));
    }
    let mut range_lines = String::new();
    for row in &p.rows {
        let (b, range) = match (row.lower.is_finite(), row.upper.is_finite()) {
            (true, true) if row.lower == row.upper => (row.lower, None),
            (true, true) => (row.lower, Some(row.upper - row.lower)),
            (true, false) => (row.lower, None),
            (false, true) => (row.upper, None),
            (false, false) => (0.0, None),
        };
        if b != 0.0 {
            let _ = writeln!(s, "    RHS  {}  {}", row.name, fmt_num(b));
        }
        if let Some(r) = range {
            let _ = writeln!(range_lines, "    RNG  {}  {}", row.name, fmt_num(r));
        }
    }
    if !range_lines.is_empty() {
        let _ = write!(s, "RANGES\n{range_lines}");
    }
    let _ = writeln!(s, "BOUNDS");
    for j in 0..p.num_vars() {
        let name = &p.var_names[j];
        let (l, u) = (p.lower[j], p.upper[j]);
        if l == f64::NEG_INFINITY && u == f64::INFINITY {
            let _ = writeln!(s, " FR BND  {name}");
            continue;
        }
        if l == u {
            let _ = writeln!(s, " FX BND  {name}  {}", fmt_num(l));
            continue;
        }
        if l == f64::NEG_INFINITY {
            let _ = writeln!(s, " MI BND  {name}");
        } else if l != 0.0 {
            let _ = writeln!(s, " LO BND  {name}  {}", fmt_num(l));
        }
        if u.is_finite() {
            let _ = writeln!(s, " UP BND  {name}  {}", fmt_num(u));
        } else if p.integer[j] {
            let _ = writeln!(s, " PL BND  {name}");
        }
    }
    let _ = writeln!(s, "ENDATA");
    s
}

/// Writes the problem as free MPS, atomically.
///
/// # Errors
/// I/O errors naming the path.
pub fn write_mps(p: &Milp, path: impl AsRef<Path>) -> Result<()> {
    files::write_atomic(path, write_mps_string(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
* a comment
NAME          TESTLP
OBJSENSE
    MAX
ROWS
 N  COST
 L  LIM1
 G  LIM2
 E  MYEQN
COLUMNS
    MARKER                 'MARKER'                 'INTORG'
    X1        COST         1.0   LIM1         1.0
    X1        LIM2         1.0
    MARKER                 'MARKER'                 'INTEND'
    X2        COST         2.0   LIM1         1.0
    X2        MYEQN       -1.0
    X3        COST        -1.0   MYEQN        1.0
RHS
    RHS       COST        -2.5
    RHS       LIM1         4.0   LIM2         1.0
    RHS       MYEQN        7.0
RANGES
    RNG       LIM1         2.5
BOUNDS
 UP BND       X1           4.0
 MI BND       X2
 UP BND       X2           1.0
 BV BND       X3
ENDATA
";

    #[test]
    fn reads_the_sample_and_round_trips() {
        let p = parse_mps(SAMPLE, "sample").unwrap();
        assert!(p.maximize);
        assert_eq!(p.name, "TESTLP");
        assert_eq!(p.var_names, vec!["X1", "X2", "X3"]);
        assert_eq!(p.obj, vec![1.0, 2.0, -1.0]);
        assert_eq!(p.obj_offset, 2.5);
        assert_eq!(p.integer, vec![true, false, true]);
        assert_eq!((p.lower[0], p.upper[0]), (0.0, 4.0));
        assert_eq!((p.lower[1], p.upper[1]), (f64::NEG_INFINITY, 1.0));
        assert_eq!((p.lower[2], p.upper[2]), (0.0, 1.0));
        assert_eq!((p.rows[0].lower, p.rows[0].upper), (1.5, 4.0));
        assert_eq!((p.rows[1].lower, p.rows[1].upper), (1.0, f64::INFINITY));
        assert_eq!((p.rows[2].lower, p.rows[2].upper), (7.0, 7.0));
        assert_eq!(p.rows[2].coefs, vec![(1, -1.0), (2, 1.0)]);
        let again = parse_mps(&write_mps_string(&p), "again").unwrap();
        assert_eq!(again.obj, p.obj);
        assert_eq!(again.rows, p.rows);
        assert_eq!(again.lower, p.lower);
        assert_eq!(again.upper, p.upper);
        assert_eq!(again.integer, p.integer);
        assert_eq!(again.obj_offset, p.obj_offset);
        assert!(again.maximize);
    }

    #[test]
    fn objective_constant_follows_scip() {
        // SCIP 6.2.1 (PySCIPOpt, fixtures/combopt/peer_scip.py) reads this
        // variant (MYEQN = 0.5) as optimal at 5.5: the objective row's RHS
        // -2.5 is a constant +2.5.
        let p = parse_mps(&SAMPLE.replace("MYEQN        7.0", "MYEQN        0.5"), "v").unwrap();
        let mut rule = crate::milp::branching::MostFractional;
        let r = crate::milp::branch_and_bound(&p, &mut rule, &crate::milp::BnbParams::default())
            .unwrap();
        assert!(
            (r.objective.unwrap() - 5.5).abs() < 1e-9,
            "{:?}",
            r.objective
        );
        let p = parse_mps(SAMPLE, "s").unwrap();
        let r = crate::milp::branch_and_bound(&p, &mut rule, &crate::milp::BnbParams::default())
            .unwrap();
        assert_eq!(r.status, crate::milp::Termination::Infeasible);
    }

    #[test]
    fn a_constraint_named_obj_round_trips() {
        // The fuzzer's finding (fixtures/fuzz/mps/crash-3a643c42453718b8):
        // the writer named its objective row `obj` too.
        for text in [
            "NAME t\nROWS\n L  obj\n G  c0\nCOLUMNS\n    x  obj  2\n    x  c0  1\nRHS\n    RHS  c0  1\n    RHS  obj  4\nENDATA\n",
            "NAME t\nROWS\n N  cost\n L  obj\n L  obj_1\nCOLUMNS\n    x  cost  3\n    x  obj  1\n    x  obj_1  1\nRHS\n    RHS  obj  4\n    RHS  cost  -1\nENDATA\n",
        ] {
            let p = parse_mps(text, "t.mps").unwrap();
            let written = write_mps_string(&p);
            let again = parse_mps(&written, "again.mps").unwrap_or_else(|e| panic!("{e}\n{written}"));
            assert_eq!(again.obj, p.obj);
            assert_eq!(again.obj_offset, p.obj_offset);
            assert_eq!(again.rows, p.rows);
        }
    }

    #[test]
    fn errors_name_the_line() {
        let bad = SAMPLE.replace(
            "    X2        MYEQN       -1.0",
            "    X2        NOPE       -1.0",
        );
        let e = parse_mps(&bad, "f.mps").unwrap_err().to_string();
        assert!(
            e.contains("f.mps line 16") && e.contains("unknown row NOPE"),
            "{e}"
        );
        let bad = SAMPLE.replace(
            " UP BND       X1           4.0",
            " UP BND       X1           four",
        );
        let e = parse_mps(&bad, "f.mps").unwrap_err().to_string();
        assert!(e.contains("line 25") && e.contains("not a number"), "{e}");
        let bad = SAMPLE.replace(" E  MYEQN", " Q  MYEQN");
        let e = parse_mps(&bad, "f.mps").unwrap_err().to_string();
        assert!(
            e.contains("line 9") && e.contains("unknown row type"),
            "{e}"
        );
        let e = parse_mps(&SAMPLE.replace("ENDATA\n", ""), "f.mps").unwrap_err();
        assert!(e.to_string().contains("missing ENDATA"));
        let bad = SAMPLE.replace("RANGES", "WHATEVER");
        let e = parse_mps(&bad, "f.mps").unwrap_err().to_string();
        assert!(e.contains("unknown section"), "{e}");
    }
}
