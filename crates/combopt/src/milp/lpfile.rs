//! CPLEX LP files, a subset (issue #22 item 1; the format as documented in
//! the CPLEX "LP file format: algebraic representation" reference):
//!
//! - sections, case-insensitive, at the start of a line (content may follow
//!   on the same line): `Maximize`/`Maximise`/`Maximum`/`Max`,
//!   `Minimize`/`Minimise`/`Minimum`/`Min`, `Subject To`/`Such That`/`st`/
//!   `s.t.`, `Bounds`, `General`/`Generals`/`Gen`/`Integers`,
//!   `Binary`/`Binaries`/`Bin`, `End`;
//! - `\` starts a comment to the end of the line;
//! - the objective: an optional `name:`, then a linear expression (`3 x + 2
//!   y - z`, `3x` is coefficient 3 of `x`) with an optional constant;
//! - constraints (may span lines): an optional `name:`, a linear expression,
//!   a sense (`<=`, `=<`, `<`, `>=`, `=>`, `>`, `=`) and a signed constant;
//!   a variable repeated in one row has its coefficients summed;
//! - bounds, one per line: `x >= a`, `x <= b`, `x = a`, `a <= x`, `a <= x
//!   <= b`, `x free`, with `inf`/`infinity` (signed) for infinite bounds;
//! - `General` and `Binary` name lists (binaries get `[0, 1]`).
//!
//! Variables default to `[0, +inf)`. Not supported (an error naming the
//! line): ranged constraints written as `a <= expr <= b`, constants on a
//! constraint's left side, quadratic terms (`[ ... ]`), semi-continuous and
//! SOS sections, indicator constraints, and `-R` range syntax. Sizes are
//! bounded like MPS files ([`MAX_FILE_BYTES`], [`MAX_DIM`] variables and
//! rows). Errors name the file and the line.

use std::collections::HashMap;
use std::path::Path;

use duality_core::{limits, Error, Result};

use super::problem::{Milp, MAX_DIM};

/// Largest LP file read (bytes).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Name(String),
    Sense(Sense),
    Plus,
    Minus,
    Colon,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Sense {
    Le,
    Ge,
    Eq,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Section {
    None,
    Objective,
    Constraints,
    Bounds,
    General,
    Binary,
    End,
}

/// Reads an LP file.
///
/// # Errors
/// Unreadable or oversized files, and any syntax or consistency error
/// (naming the line).
pub fn read_lp(path: impl AsRef<Path>) -> Result<Milp> {
    let path = path.as_ref();
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let cap = MAX_FILE_BYTES.min(limits::memory_budget());
    if meta.len() > cap {
        return Err(Error::invalid(
            format!("size of {}", path.display()),
            format!("{} bytes", meta.len()),
            format!("at most {cap} bytes for an LP file"),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_lp(&text, &path.display().to_string())
}

/// The section a line's leading keyword(s) open, and the rest of the line.
fn section_of(line: &str) -> Option<(Section, &str)> {
    let trimmed = line.trim_start();
    let lower = trimmed.to_ascii_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let first = *words.first()?;
    let skip_words = |k: usize| -> &str {
        let mut rest = trimmed;
        for _ in 0..k {
            rest = rest.trim_start();
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            rest = &rest[end..];
        }
        rest
    };
    let two = words.get(1).copied();
    let s = match (first, two) {
        ("subject", Some("to")) | ("such", Some("that")) => {
            return Some((Section::Constraints, skip_words(2)))
        }
        ("maximize" | "maximise" | "maximum" | "max", _) => Section::Objective,
        ("minimize" | "minimise" | "minimum" | "min", _) => Section::Objective,
        ("st" | "s.t." | "st.", _) => Section::Constraints,
        ("bounds" | "bound", _) => Section::Bounds,
        ("general" | "generals" | "gen" | "integer" | "integers", _) => Section::General,
        ("binary" | "binaries" | "bin", _) => Section::Binary,
        ("end", _) => Section::End,
        _ => return None,
    };
    Some((s, skip_words(1)))
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || "_!\"#$%&()/,;?@`'{}|~".contains(c)
}

fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_ascii_digit() || c == '.'
}

/// Tokens of one line (comment stripped).
fn tokenize(line: &str) -> std::result::Result<Vec<Tok>, String> {
    let line = line.split('\\').next().unwrap_or("");
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '+' {
            out.push(Tok::Plus);
            i += 1;
        } else if c == '-' {
            out.push(Tok::Minus);
            i += 1;
        } else if c == ':' {
            out.push(Tok::Colon);
            i += 1;
        } else if c == '<' || c == '>' || c == '=' {
            let next = chars.get(i + 1).copied();
            let (sense, len) = match (c, next) {
                ('<', Some('=')) | ('=', Some('<')) => (Sense::Le, 2),
                ('>', Some('=')) | ('=', Some('>')) => (Sense::Ge, 2),
                ('<', _) => (Sense::Le, 1),
                ('>', _) => (Sense::Ge, 1),
                _ => (Sense::Eq, 1),
            };
            out.push(Tok::Sense(sense));
            i += len;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            // An exponent only when digits follow (`3e` starts a name `e`).
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut k = i + 1;
                if k < chars.len() && (chars[k] == '+' || chars[k] == '-') {
                    k += 1;
                }
                if k < chars.len() && chars[k].is_ascii_digit() {
                    i = k;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let text: String = chars[start..i].iter().collect();
            let v: f64 = text
                .parse()
                .map_err(|_| format!("{:?} is not a number", shorten(&text)))?;
            out.push(Tok::Num(v));
        } else if is_name_start(c) {
            let start = i;
            while i < chars.len() && is_name_char(chars[i]) {
                i += 1;
            }
            out.push(Tok::Name(chars[start..i].iter().collect()));
        } else if c == '[' {
            return Err("quadratic terms ([ ... ]) are not supported".into());
        } else {
            return Err(format!("unexpected character {c:?}"));
        }
    }
    Ok(out)
}

fn shorten(s: &str) -> String {
    duality_core::error::shorten(s, 80)
}

/// `inf`/`infinity` (any case) as a bound value.
fn infinity_word(name: &str) -> bool {
    matches!(name.to_ascii_lowercase().as_str(), "inf" | "infinity")
}

/// Token stream of a section, each token with its line.
type Stream = Vec<(Tok, usize)>;

struct Builder {
    p: Milp,
    index: HashMap<String, usize>,
}

impl Builder {
    fn var(&mut self, name: &str, line: usize, source: &str) -> Result<usize> {
        if let Some(&j) = self.index.get(name) {
            return Ok(j);
        }
        let j = self
            .p
            .add_var(name, 0.0, 0.0, f64::INFINITY, false)
            .map_err(|e| Error::parse(source, Some(line), e.to_string()))?;
        self.index.insert(name.to_string(), j);
        Ok(j)
    }
}

/// A parsed linear expression: terms (merged per variable) and constant.
struct Expr {
    terms: Vec<(usize, f64)>,
    constant: f64,
}

/// Parses `[+-] term ([+-] term)*` from `s[*at..]` until a sense, a
/// `name:` (the next statement) or the end; a term is `num name`, `name`
/// or `num` (a constant).
fn expression(
    s: &Stream,
    at: &mut usize,
    b: &mut Builder,
    source: &str,
    stop_at_label: bool,
) -> Result<Expr> {
    let err = |line: usize, msg: String| Error::parse(source, Some(line), msg);
    let mut terms: Vec<(usize, f64)> = Vec::new();
    let mut constant = 0.0;
    let mut first = true;
    while let Some((tok, line)) = s.get(*at) {
        let line = *line;
        if matches!(tok, Tok::Sense(_)) {
            break;
        }
        if stop_at_label
            && !first
            && matches!(tok, Tok::Name(_))
            && matches!(s.get(*at + 1), Some((Tok::Colon, _)))
        {
            break;
        }
        let mut sign = 1.0;
        let mut signed = false;
        while let Some((t @ (Tok::Plus | Tok::Minus), _)) = s.get(*at) {
            if *t == Tok::Minus {
                sign = -sign;
            }
            signed = true;
            *at += 1;
        }
        if !first && !signed {
            return Err(err(
                line,
                format!("expected + or - between terms, found {}", describe(tok)),
            ));
        }
        match s.get(*at) {
            Some((Tok::Num(v), _)) => {
                *at += 1;
                if let Some((Tok::Name(name), l2)) = s.get(*at) {
                    if infinity_word(name) {
                        return Err(err(*l2, "an infinite coefficient or constant".into()));
                    }
                    *at += 1;
                    let j = b.var(name, *l2, source)?;
                    terms.push((j, sign * v));
                } else {
                    constant += sign * v;
                }
            }
            Some((Tok::Name(name), l)) => {
                if matches!(s.get(*at + 1), Some((Tok::Colon, _))) {
                    return Err(err(
                        *l,
                        format!("unexpected label {name:?}: inside an expression"),
                    ));
                }
                *at += 1;
                let j = b.var(name, *l, source)?;
                terms.push((j, sign));
            }
            Some((t, l)) => {
                return Err(err(*l, format!("expected a term, found {}", describe(t))));
            }
            None => return Err(err(line, "expression ends after a sign".into())),
        }
        first = false;
    }
    // Merge repeated variables (summed coefficients), first-seen order.
    let mut merged: Vec<(usize, f64)> = Vec::new();
    let mut pos: HashMap<usize, usize> = HashMap::new();
    for (j, v) in terms {
        match pos.get(&j) {
            Some(&k) => merged[k].1 += v,
            None => {
                pos.insert(j, merged.len());
                merged.push((j, v));
            }
        }
    }
    Ok(Expr {
        terms: merged,
        constant,
    })
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Num(v) => format!("the number {v}"),
        Tok::Name(n) => format!("{:?}", shorten(n)),
        Tok::Sense(_) => "a comparison".into(),
        Tok::Plus => "+".into(),
        Tok::Minus => "-".into(),
        Tok::Colon => ":".into(),
    }
}

/// Parses CPLEX LP text; `source` names it in errors.
///
/// # Errors
/// As [`read_lp`].
pub fn parse_lp(text: &str, source: &str) -> Result<Milp> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let err = |line: usize, msg: String| Error::parse(source, Some(line), msg);
    let mut section = Section::None;
    let mut seen_objective = false;
    let mut streams: Vec<(Section, Stream)> = Vec::new();
    let mut maximize = None;
    for (k, raw) in text.lines().enumerate() {
        let line_no = k + 1;
        let mut rest = raw;
        if let Some((s, after)) = section_of(raw) {
            if s == Section::Objective {
                if seen_objective {
                    return Err(err(line_no, "a second objective section".into()));
                }
                seen_objective = true;
                maximize = Some(raw.trim_start().to_ascii_lowercase().starts_with("max"));
            }
            section = s;
            rest = after;
            streams.push((s, Vec::new()));
            if s == Section::End {
                break;
            }
        }
        let toks = tokenize(rest).map_err(|m| err(line_no, m))?;
        if toks.is_empty() {
            continue;
        }
        match (section, streams.last_mut()) {
            (Section::None, _) | (_, None) => {
                return Err(err(
                    line_no,
                    "content before the objective section (Maximize or Minimize)".into(),
                ))
            }
            (_, Some((_, stream))) => stream.extend(toks.into_iter().map(|t| (t, line_no))),
        }
    }
    let Some(maximize) = maximize else {
        return Err(Error::parse(
            source,
            None,
            "no objective section (Maximize or Minimize)",
        ));
    };
    if section != Section::End {
        return Err(Error::parse(source, None, "missing End"));
    }
    let mut b = Builder {
        p: Milp::new("", maximize),
        index: HashMap::new(),
    };
    let mut row_names: HashMap<String, usize> = HashMap::new();
    let mut bounded: Vec<bool> = Vec::new();
    for (sec, s) in &streams {
        let mut at = 0;
        match sec {
            Section::Objective => {
                if let (Some((Tok::Name(_), _)), Some((Tok::Colon, _))) = (s.first(), s.get(1)) {
                    at = 2;
                }
                let e = expression(s, &mut at, &mut b, source, false)?;
                if let Some((t, l)) = s.get(at) {
                    return Err(err(
                        *l,
                        format!("unexpected {} in the objective", describe(t)),
                    ));
                }
                for (j, v) in e.terms {
                    b.p.obj[j] += v;
                }
                b.p.obj_offset += e.constant;
            }
            Section::Constraints => {
                while at < s.len() {
                    let line = s[at].1;
                    let name = match (s.get(at), s.get(at + 1)) {
                        (Some((Tok::Name(n), _)), Some((Tok::Colon, _))) => {
                            at += 2;
                            n.clone()
                        }
                        _ => format!("c{}", b.p.rows.len() + 1),
                    };
                    let e = expression(s, &mut at, &mut b, source, false)?;
                    let Some((Tok::Sense(sense), l)) = s.get(at).cloned() else {
                        return Err(err(
                            s.get(at).map(|t| t.1).unwrap_or(line),
                            format!("constraint {name:?} has no comparison (<=, >= or =)"),
                        ));
                    };
                    at += 1;
                    if e.constant != 0.0 {
                        return Err(err(
                            l,
                            format!("constraint {name:?} has a constant on its left side (move it to the right)"),
                        ));
                    }
                    let mut sign = 1.0;
                    while let Some((t @ (Tok::Plus | Tok::Minus), _)) = s.get(at) {
                        if *t == Tok::Minus {
                            sign = -sign;
                        }
                        at += 1;
                    }
                    let rhs = match s.get(at) {
                        Some((Tok::Num(v), _)) => sign * v,
                        Some((Tok::Name(n), _)) if infinity_word(n) => sign * f64::INFINITY,
                        Some((t, l)) => {
                            return Err(err(
                                *l,
                                format!("constraint {name:?}: expected a number after the comparison, found {}", describe(t)),
                            ))
                        }
                        None => {
                            return Err(err(
                                l,
                                format!("constraint {name:?} has no right-hand side"),
                            ))
                        }
                    };
                    at += 1;
                    if let Some((Tok::Sense(_), l2)) = s.get(at) {
                        return Err(err(
                            *l2,
                            format!("constraint {name:?}: ranged constraints (a <= expr <= b) are not supported"),
                        ));
                    }
                    let (lo, hi) = match sense {
                        Sense::Le => (f64::NEG_INFINITY, rhs),
                        Sense::Ge => (rhs, f64::INFINITY),
                        Sense::Eq => (rhs, rhs),
                    };
                    if row_names.insert(name.clone(), line).is_some() {
                        return Err(err(line, format!("constraint {name:?} declared twice")));
                    }
                    if b.p.rows.len() >= MAX_DIM {
                        return Err(err(line, format!("more than {MAX_DIM} constraints")));
                    }
                    b.p.add_row(name, e.terms, lo, hi)
                        .map_err(|e| err(line, e.to_string()))?;
                }
            }
            Section::Bounds => {
                // One bound per line: group the tokens by line.
                let mut k = 0;
                while k < s.len() {
                    let line = s[k].1;
                    let mut end = k;
                    while end < s.len() && s[end].1 == line {
                        end += 1;
                    }
                    bound_line(&s[k..end], &mut b, &mut bounded, source)?;
                    k = end;
                }
            }
            Section::General | Section::Binary => {
                for (t, l) in s {
                    let Tok::Name(name) = t else {
                        return Err(err(
                            *l,
                            format!("expected a variable name, found {}", describe(t)),
                        ));
                    };
                    let j = b.var(name, *l, source)?;
                    b.p.integer[j] = true;
                    if *sec == Section::Binary {
                        b.p.lower[j] = b.p.lower[j].max(0.0);
                        b.p.upper[j] = b.p.upper[j].min(1.0);
                    }
                }
            }
            Section::None | Section::End => {}
        }
    }
    b.p.validate()
        .map_err(|e| Error::parse(source, None, e.to_string()))?;
    Ok(b.p)
}

/// A signed number or (signed) infinity at `t[*at..]`.
fn bound_value(t: &[(Tok, usize)], at: &mut usize) -> Option<f64> {
    let mut sign = 1.0;
    let start = *at;
    while let Some((tok @ (Tok::Plus | Tok::Minus), _)) = t.get(*at) {
        if *tok == Tok::Minus {
            sign = -sign;
        }
        *at += 1;
    }
    match t.get(*at) {
        Some((Tok::Num(v), _)) => {
            *at += 1;
            Some(sign * v)
        }
        Some((Tok::Name(n), _)) if infinity_word(n) => {
            *at += 1;
            Some(sign * f64::INFINITY)
        }
        _ => {
            *at = start;
            None
        }
    }
}

fn bound_line(
    t: &[(Tok, usize)],
    b: &mut Builder,
    bounded: &mut Vec<bool>,
    source: &str,
) -> Result<()> {
    let line = t[0].1;
    let err = |msg: String| Error::parse(source, Some(line), msg);
    let form = "a bound: x >= a, x <= b, x = a, a <= x, a <= x <= b or x free";
    let mut at = 0;
    let left = bound_value(t, &mut at);
    let (name, mut lo, mut hi);
    let j = |b: &mut Builder, name: &str| b.var(name, line, source);
    match left {
        Some(a) => {
            // a <= x [<= c]   or   a >= x [>= c]   or   a = x
            let Some((Tok::Sense(s1), _)) = t.get(at) else {
                return Err(err(format!("expected {form}")));
            };
            let s1 = *s1;
            at += 1;
            let Some((Tok::Name(n), _)) = t.get(at) else {
                return Err(err(format!("expected a variable in {form}")));
            };
            name = n.clone();
            at += 1;
            let k = j(b, &name)?;
            (lo, hi) = (b.p.lower[k], b.p.upper[k]);
            match s1 {
                Sense::Le => lo = a,
                Sense::Ge => hi = a,
                Sense::Eq => (lo, hi) = (a, a),
            }
            if let Some((Tok::Sense(s2), _)) = t.get(at) {
                let s2 = *s2;
                at += 1;
                let Some(c) = bound_value(t, &mut at) else {
                    return Err(err(format!("expected a number in {form}")));
                };
                match (s1, s2) {
                    (Sense::Le, Sense::Le) => hi = c,
                    (Sense::Ge, Sense::Ge) => lo = c,
                    _ => return Err(err(format!("mixed comparisons in {form}"))),
                }
            }
        }
        None => {
            let Some((Tok::Name(n), _)) = t.first() else {
                return Err(err(format!("expected {form}")));
            };
            name = n.clone();
            at = 1;
            let k = j(b, &name)?;
            (lo, hi) = (b.p.lower[k], b.p.upper[k]);
            match t.get(at) {
                Some((Tok::Name(w), _)) if w.eq_ignore_ascii_case("free") => {
                    at += 1;
                    (lo, hi) = (f64::NEG_INFINITY, f64::INFINITY);
                }
                Some((Tok::Sense(s), _)) => {
                    let s = *s;
                    at += 1;
                    let Some(v) = bound_value(t, &mut at) else {
                        return Err(err(format!("expected a number in {form}")));
                    };
                    match s {
                        Sense::Le => hi = v,
                        Sense::Ge => lo = v,
                        Sense::Eq => (lo, hi) = (v, v),
                    }
                }
                _ => return Err(err(format!("expected {form}"))),
            }
        }
    }
    if let Some((tok, _)) = t.get(at) {
        return Err(err(format!("unexpected {} after the bound", describe(tok))));
    }
    let k = b.index[&name];
    if lo > hi || lo == f64::INFINITY || hi == f64::NEG_INFINITY {
        return Err(err(format!(
            "bounds of {name:?} cross or are empty: [{lo}, {hi}]"
        )));
    }
    b.p.lower[k] = lo;
    b.p.upper[k] = hi;
    if bounded.len() <= k {
        bounded.resize(k + 1, false);
    }
    bounded[k] = true;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::milp::{branch_and_bound, parse_mps, BnbParams, BranchingRegistry, RuleOptions};

    const SAMPLE: &str = r"\ A small MILP
Maximize
 obj: 5 x + 4y + 3 z - 2 + 0 w
Subject To
 c1: 2 x + 3 y + z <= 5
 c2: 4 x + y + 2 z
     <= 11
 c3: 3x + 4 y + 2 z >= -1e2
 3 x - x + y = 2.5e0
Bounds
 x <= 4
 -3 <= y <= 10
 z free
 w = 0
General
 x
Binary
 z
End
";

    #[test]
    fn reads_the_sample() {
        let p = parse_lp(SAMPLE, "s.lp").unwrap();
        assert!(p.maximize);
        assert_eq!(p.var_names, vec!["x", "y", "z", "w"]);
        assert_eq!(p.obj, vec![5.0, 4.0, 3.0, 0.0]);
        assert_eq!(p.obj_offset, -2.0);
        assert_eq!(p.rows.len(), 4);
        assert_eq!(p.rows[1].coefs, vec![(0, 4.0), (1, 1.0), (2, 2.0)]);
        assert_eq!(p.rows[1].upper, 11.0);
        assert_eq!(p.rows[2].lower, -100.0);
        // Repeated x summed; an unnamed row gets a generated name.
        assert_eq!(p.rows[3].coefs, vec![(0, 2.0), (1, 1.0)]);
        assert_eq!((p.rows[3].lower, p.rows[3].upper), (2.5, 2.5));
        assert_eq!(p.rows[3].name, "c4");
        assert_eq!((p.lower[0], p.upper[0]), (0.0, 4.0));
        assert_eq!((p.lower[1], p.upper[1]), (-3.0, 10.0));
        // z: free, then binary -> [0, 1].
        assert_eq!((p.lower[2], p.upper[2]), (0.0, 1.0));
        assert_eq!(p.integer, vec![true, false, true, false]);
        // Same optimum through the MPS writer and reader.
        let again = parse_mps(&crate::milp::write_mps_string(&p), "again.mps").unwrap();
        let reg = BranchingRegistry::builtin();
        let solve = |q: &Milp| {
            let mut rule = reg
                .make("most-fractional", &RuleOptions::default())
                .unwrap();
            branch_and_bound(q, rule.as_mut(), &BnbParams::default())
                .unwrap()
                .objective
                .unwrap()
        };
        assert!((solve(&p) - solve(&again)).abs() < 1e-9);
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("Minimize\n x\nSubject To\n c1: x + <= 3\nEnd\n", "line 4"),
            ("Minimize\n x\nSubject To\n c1: x y <= 3\nEnd\n", "line 4"),
            ("Minimize\n x\nSubject To\n c1: x\nEnd\n", "comparison"),
            (
                "Minimize\n x\nSubject To\n c1: x <= 3\n c1: x >= 1\nEnd\n",
                "twice",
            ),
            (
                "Minimize\n x\nSubject To\n c1: 1 <= x <= 3\nEnd\n",
                "constant",
            ),
            (
                "Minimize\n x\nSubject To\n c1: x + 2 <= 3\nEnd\n",
                "constant",
            ),
            ("Minimize\n x\nBounds\n x <= -1\nEnd\n", "line 4"),
            ("Minimize\n x\nBounds\n x >= 1 y\nEnd\n", "line 4"),
            ("Minimize\n x + [ x ^ 2 ]\nEnd\n", "quadratic"),
            ("Minimize\n x\n", "missing End"),
            ("Subject To\n x <= 1\nEnd\n", "objective"),
            ("Minimize\n x\nMaximize\n x\nEnd\n", "second objective"),
            ("Minimize\n x * 2\nEnd\n", "line 2"),
        ];
        for (text, want) in cases {
            let e = parse_lp(text, "bad.lp").unwrap_err().to_string();
            assert!(e.contains("bad.lp") && e.contains(want), "{text:?}: {e}");
        }
        // A long token is cut in the message.
        let long = format!(
            "Minimize\n x\nSubject To\n c1: x <= {}\nEnd\n",
            "9".repeat(400)
        );
        let e = parse_lp(&long.replace("<= 9", "<= a9"), "bad.lp")
            .unwrap_err()
            .to_string();
        assert!(e.len() < 300, "{e}");
    }

    #[test]
    fn bounds_and_infinities() {
        let p = parse_lp(
            "\u{feff}minimize obj: x + y\nst\n x + y >= 1\nbounds\n -inf <= x <= +inf\n y >= -infinity\n y <= 3\nend",
            "b.lp",
        )
        .unwrap();
        assert!(!p.maximize);
        assert_eq!((p.lower[0], p.upper[0]), (f64::NEG_INFINITY, f64::INFINITY));
        assert_eq!((p.lower[1], p.upper[1]), (f64::NEG_INFINITY, 3.0));
    }
}
