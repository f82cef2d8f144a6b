//! Borrowing NumPy arrays as slices, counts and errors across the boundary.

use numpy::ndarray::Array2;
use numpy::{
    Element, IntoPyArray, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

/// A workspace error as `ValueError` carrying its message (which names the
/// bad value).
pub fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// The data of a 1-D array, which must be C-contiguous (the Python half
/// makes it so; a direct caller gets a `TypeError` naming the argument).
pub fn slice1<'a, T: Element>(a: &'a PyReadonlyArray1<'_, T>, name: &str) -> PyResult<&'a [T]> {
    a.as_slice().map_err(|_| {
        PyTypeError::new_err(format!(
            "{name}: expected a C-contiguous 1-D array (use numpy.ascontiguousarray)"
        ))
    })
}

/// The row-major data and `(rows, cols)` of a 2-D array (C-contiguous).
pub fn slice2<'a, T: Element>(
    a: &'a PyReadonlyArray2<'_, T>,
    name: &str,
) -> PyResult<(&'a [T], usize, usize)> {
    let shape = a.shape();
    let (rows, cols) = (shape[0], shape[1]);
    let data = a.as_slice().map_err(|_| {
        PyTypeError::new_err(format!(
            "{name}: expected a C-contiguous 2-D array (use numpy.ascontiguousarray)"
        ))
    })?;
    Ok((data, rows, cols))
}

/// A count from a Python int: at least `min`, named in the error otherwise
/// (so `reps=-5` says `reps = -5`, not a bare overflow).
pub fn count(name: &str, value: i128, min: i128) -> PyResult<usize> {
    if value < min {
        return Err(PyValueError::new_err(format!(
            "invalid {name} = {value}: expected an integer >= {min}"
        )));
    }
    usize::try_from(value)
        .map_err(|_| PyValueError::new_err(format!("invalid {name} = {value}: too large")))
}

/// A seed from a Python int (any integer >= 0 that fits in 64 bits).
pub fn seed(value: i128) -> PyResult<u64> {
    u64::try_from(value).map_err(|_| {
        PyValueError::new_err(format!(
            "invalid seed = {value}: expected an integer in 0..2**64"
        ))
    })
}

/// Row-major data as a new `(rows, cols)` NumPy array.
pub fn array2<'py, T: Element>(
    py: Python<'py>,
    rows: usize,
    cols: usize,
    data: Vec<T>,
) -> PyResult<Bound<'py, PyArray2<T>>> {
    Ok(Array2::from_shape_vec((rows, cols), data)
        .map_err(value_error)?
        .into_pyarray(py))
}

/// Rows of a row-major buffer as vectors (the crates' `&[Vec<f64>]` inputs).
pub fn rows_of(data: &[f64], cols: usize) -> Vec<Vec<f64>> {
    if cols == 0 {
        return Vec::new();
    }
    data.chunks_exact(cols).map(<[f64]>::to_vec).collect()
}
