//! The MILP model: `min/max c^T x + offset` subject to row ranges
//! `lo_i <= a_i^T x <= hi_i`, variable bounds and integrality.

use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Largest number of variables or rows accepted (the LP engine is dense:
/// see [`crate::milp::lp`]; the memory budget is checked as well).
pub const MAX_DIM: usize = 100_000;

/// One constraint row `lower <= sum coefs[k].1 * x[coefs[k].0] <= upper`
/// (`lower` may be `-inf`, `upper` may be `+inf`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Row name (MPS row name).
    pub name: String,
    /// `(variable, coefficient)` pairs, each variable at most once.
    pub coefs: Vec<(usize, f64)>,
    /// Lower side (`-inf` for none).
    pub lower: f64,
    /// Upper side (`+inf` for none).
    pub upper: f64,
}

/// A mixed-integer linear program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Milp {
    /// Problem name.
    pub name: String,
    /// `true` to maximise `obj^T x + obj_offset`, `false` to minimise it.
    pub maximize: bool,
    /// Variable names.
    pub var_names: Vec<String>,
    /// Objective coefficients, in the problem's own sense.
    pub obj: Vec<f64>,
    /// Constant added to the objective.
    pub obj_offset: f64,
    /// Lower bounds (`-inf` allowed).
    pub lower: Vec<f64>,
    /// Upper bounds (`+inf` allowed).
    pub upper: Vec<f64>,
    /// Integrality of each variable.
    pub integer: Vec<bool>,
    /// Constraint rows.
    pub rows: Vec<Row>,
}

impl Milp {
    /// An empty problem.
    pub fn new(name: impl Into<String>, maximize: bool) -> Self {
        Milp {
            name: name.into(),
            maximize,
            var_names: Vec::new(),
            obj: Vec::new(),
            obj_offset: 0.0,
            lower: Vec::new(),
            upper: Vec::new(),
            integer: Vec::new(),
            rows: Vec::new(),
        }
    }

    /// Number of variables.
    pub fn num_vars(&self) -> usize {
        self.obj.len()
    }

    /// Number of rows.
    pub fn num_rows(&self) -> usize {
        self.rows.len()
    }

    /// Adds a variable and returns its index.
    ///
    /// # Errors
    /// A non-finite objective, `lower > upper`, `lower = +inf` or
    /// `upper = -inf`, or more than [`MAX_DIM`] variables.
    pub fn add_var(
        &mut self,
        name: impl Into<String>,
        obj: f64,
        lower: f64,
        upper: f64,
        integer: bool,
    ) -> Result<usize> {
        let name = name.into();
        if self.obj.len() >= MAX_DIM {
            return Err(Error::invalid(
                "number of variables",
                self.obj.len() + 1,
                format!("at most {MAX_DIM}"),
            ));
        }
        check_var(&name, obj, lower, upper)?;
        self.var_names.push(name);
        self.obj.push(obj);
        self.lower.push(lower);
        self.upper.push(upper);
        self.integer.push(integer);
        Ok(self.obj.len() - 1)
    }

    /// Adds a row `lower <= coefs . x <= upper` and returns its index.
    ///
    /// # Errors
    /// An unknown variable, a repeated variable, a non-finite coefficient,
    /// `lower > upper` or NaN sides, or more than [`MAX_DIM`] rows.
    pub fn add_row(
        &mut self,
        name: impl Into<String>,
        coefs: Vec<(usize, f64)>,
        lower: f64,
        upper: f64,
    ) -> Result<usize> {
        if self.rows.len() >= MAX_DIM {
            return Err(Error::invalid(
                "number of rows",
                self.rows.len() + 1,
                format!("at most {MAX_DIM}"),
            ));
        }
        let row = Row {
            name: name.into(),
            coefs,
            lower,
            upper,
        };
        self.check_row(&row)?;
        self.rows.push(row);
        Ok(self.rows.len() - 1)
    }

    fn check_row(&self, row: &Row) -> Result<()> {
        let n = self.num_vars();
        let mut seen = vec![false; n];
        for &(j, v) in &row.coefs {
            if j >= n {
                return Err(Error::invalid(
                    format!("row {} variable index", row.name),
                    j,
                    format!("below the number of variables, {n}"),
                ));
            }
            if seen[j] {
                return Err(Error::invalid(
                    format!("row {}", row.name),
                    format!("variable {} twice", self.var_names[j]),
                    "each variable at most once per row",
                ));
            }
            seen[j] = true;
            if !v.is_finite() {
                return Err(Error::invalid(
                    format!("row {} coefficient of {}", row.name, self.var_names[j]),
                    v,
                    "a finite number",
                ));
            }
        }
        if row.lower.is_nan()
            || row.upper.is_nan()
            || row.lower > row.upper
            || row.lower == f64::INFINITY
            || row.upper == f64::NEG_INFINITY
        {
            return Err(Error::invalid(
                format!("row {} sides", row.name),
                format!("[{}, {}]", row.lower, row.upper),
                "lower <= upper, lower < +inf, upper > -inf",
            ));
        }
        Ok(())
    }

    /// Checks every variable and row (for a problem built field by field).
    ///
    /// # Errors
    /// The first inconsistency, naming the variable or row.
    pub fn validate(&self) -> Result<()> {
        let n = self.obj.len();
        for (what, len) in [
            ("var_names", self.var_names.len()),
            ("lower", self.lower.len()),
            ("upper", self.upper.len()),
            ("integer", self.integer.len()),
        ] {
            if len != n {
                return Err(Error::LengthMismatch {
                    left_name: "obj".into(),
                    left: n,
                    right_name: what.into(),
                    right: len,
                });
            }
        }
        if n > MAX_DIM || self.rows.len() > MAX_DIM {
            return Err(Error::invalid(
                "problem size",
                format!("{n} variables x {} rows", self.rows.len()),
                format!("at most {MAX_DIM} of each"),
            ));
        }
        if !self.obj_offset.is_finite() {
            return Err(Error::invalid(
                "objective offset",
                self.obj_offset,
                "a finite number",
            ));
        }
        for j in 0..n {
            check_var(
                &self.var_names[j],
                self.obj[j],
                self.lower[j],
                self.upper[j],
            )?;
        }
        for row in &self.rows {
            self.check_row(row)?;
        }
        Ok(())
    }

    /// The objective in minimisation form: `c` with `min c^T x` equivalent
    /// to the problem (negated when maximising).
    pub fn min_costs(&self) -> Vec<f64> {
        if self.maximize {
            self.obj.iter().map(|c| -c).collect()
        } else {
            self.obj.clone()
        }
    }

    /// The objective value of `x` in the problem's own sense.
    pub fn objective(&self, x: &[f64]) -> f64 {
        self.obj.iter().zip(x).map(|(c, v)| c * v).sum::<f64>() + self.obj_offset
    }

    /// The largest violation of a bound, a row or integrality by `x`
    /// (0 for a feasible point).
    pub fn max_violation(&self, x: &[f64]) -> f64 {
        let mut worst: f64 = 0.0;
        for j in 0..self.num_vars().min(x.len()) {
            worst = worst.max(self.lower[j] - x[j]).max(x[j] - self.upper[j]);
            if self.integer[j] {
                worst = worst.max((x[j] - x[j].round()).abs());
            }
        }
        for row in &self.rows {
            let act: f64 = row.coefs.iter().map(|&(j, v)| v * x[j]).sum();
            worst = worst.max(row.lower - act).max(act - row.upper);
        }
        worst
    }

    /// Number of nonzero coefficients.
    pub fn nonzeros(&self) -> usize {
        self.rows.iter().map(|r| r.coefs.len()).sum()
    }
}

fn check_var(name: &str, obj: f64, lower: f64, upper: f64) -> Result<()> {
    if !obj.is_finite() {
        return Err(Error::invalid(
            format!("objective coefficient of {name}"),
            obj,
            "a finite number",
        ));
    }
    if lower.is_nan()
        || upper.is_nan()
        || lower > upper
        || lower == f64::INFINITY
        || upper == f64::NEG_INFINITY
    {
        return Err(Error::invalid(
            format!("bounds of {name}"),
            format!("[{lower}, {upper}]"),
            "lower <= upper, lower < +inf, upper > -inf",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_refuses_bad_input() {
        let mut p = Milp::new("t", true);
        let x = p.add_var("x", 1.0, 0.0, 1.0, true).unwrap();
        let y = p.add_var("y", 2.0, 0.0, f64::INFINITY, false).unwrap();
        p.add_row("r", vec![(x, 1.0), (y, 1.0)], f64::NEG_INFINITY, 3.0)
            .unwrap();
        assert!(p.add_var("z", f64::NAN, 0.0, 1.0, false).is_err());
        assert!(p.add_var("z", 0.0, 2.0, 1.0, false).is_err());
        let e = p
            .add_row("bad", vec![(x, 1.0), (x, 2.0)], 0.0, 1.0)
            .unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
        assert!(p.add_row("bad", vec![(7, 1.0)], 0.0, 1.0).is_err());
        assert!(p.add_row("bad", vec![(x, 1.0)], 2.0, 1.0).is_err());
        p.validate().unwrap();
        assert_eq!(p.min_costs(), vec![-1.0, -2.0]);
        assert_eq!(p.objective(&[1.0, 2.0]), 5.0);
        assert!(p.max_violation(&[1.0, 2.0]) <= 0.0);
        assert!((p.max_violation(&[0.5, 3.0]) - 0.5).abs() < 1e-12);
    }
}
