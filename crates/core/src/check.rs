//! Validation helpers that turn bad input into an [`Error`] naming the value.
//!
//! Area crates call these at their public boundaries (once, when parameters
//! are constructed, linfa-style) so that the algorithms inside can assume
//! clean input.

use crate::error::{Error, Result};

/// Fails unless `values` is non-empty.
pub fn non_empty<T>(name: &str, values: &[T]) -> Result<()> {
    if values.is_empty() {
        return Err(Error::Empty {
            what: name.to_string(),
            min: 1,
        });
    }
    Ok(())
}

/// Fails on the first NaN or infinite value, naming its index.
pub fn finite(name: &str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(Error::invalid(
            format!("{name}[{i}]"),
            values[i],
            "a finite number",
        )),
    }
}

/// Fails unless `values` is non-empty and finite.
pub fn finite_non_empty(name: &str, values: &[f64]) -> Result<()> {
    non_empty(name, values)?;
    finite(name, values)
}

/// Fails unless `value` is finite.
pub fn finite_scalar(name: &str, value: f64) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(name, value, "a finite number"))
    }
}

/// Fails unless `p` is a probability in `[0, 1]`.
pub fn probability(name: &str, p: f64) -> Result<()> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(Error::invalid(name, p, "a probability in [0, 1]"))
    }
}

/// Fails unless every entry of `ps` is a probability in `[0, 1]`, naming the
/// first that is not. (The name is formatted only on failure: obp-sized
/// inputs have 10^7 entries.)
pub fn probabilities(name: &str, ps: &[f64]) -> Result<()> {
    match ps.iter().position(|p| !(0.0..=1.0).contains(p)) {
        None => Ok(()),
        Some(i) => Err(Error::invalid(
            format!("{name}[{i}]"),
            ps[i],
            "a probability in [0, 1]",
        )),
    }
}

/// Fails unless `x` lies in the open interval `(0, 1)` (levels such as alpha or q).
pub fn open_unit(name: &str, x: f64) -> Result<()> {
    if x > 0.0 && x < 1.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            name,
            x,
            "a number in the open interval (0, 1)",
        ))
    }
}

/// Fails unless `x` is finite and strictly positive.
pub fn positive(name: &str, x: f64) -> Result<()> {
    if x.is_finite() && x > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(name, x, "a finite number > 0"))
    }
}

/// Fails unless `n >= min`.
pub fn at_least(name: &str, n: usize, min: usize) -> Result<()> {
    if n >= min {
        Ok(())
    } else {
        Err(Error::invalid(name, n, format!("an integer >= {min}")))
    }
}

/// Fails unless the two lengths agree.
pub fn same_len(left_name: &str, left: usize, right_name: &str, right: usize) -> Result<()> {
    if left == right {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            left_name: left_name.to_string(),
            left,
            right_name: right_name.to_string(),
            right,
        })
    }
}

/// Fails unless `weights` is a probability vector: entries in `[0, 1]` summing
/// to 1 within `tol`.
pub fn distribution(name: &str, weights: &[f64], tol: f64) -> Result<()> {
    non_empty(name, weights)?;
    probabilities(name, weights)?;
    let total: f64 = weights.iter().sum();
    if (total - 1.0).abs() > tol {
        return Err(Error::invalid(
            format!("sum of {name}"),
            total,
            format!("1 (within {tol:e})"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_index_and_value() {
        let err = finite("scores", &[1.0, f64::NAN]).unwrap_err().to_string();
        assert!(err.contains("scores[1]") && err.contains("NaN"), "{err}");
        let err = probability("p", 1.2).unwrap_err().to_string();
        assert!(err.contains("p = 1.2"), "{err}");
        let err = same_len("x", 2, "y", 3).unwrap_err().to_string();
        assert!(err.contains("x has 2") && err.contains("y has 3"), "{err}");
        assert!(non_empty::<f64>("runs", &[]).is_err());
        assert!(open_unit("alpha", 0.0).is_err());
        assert!(open_unit("alpha", 0.05).is_ok());
        assert!(distribution("probs", &[0.5, 0.4], 1e-9).is_err());
        assert!(distribution("probs", &[0.5, 0.5], 1e-9).is_ok());
    }
}
