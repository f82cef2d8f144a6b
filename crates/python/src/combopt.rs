//! `duality.combopt`: scipy's `linear_sum_assignment`, the TSP solvers with
//! the Held-Karp lower bound, and the hypervolume, over `duality-combopt`.

use duality_combopt::assignment::{linear_sum_assignment, CostMatrix};
use duality_combopt::pareto::hypervolume;
use duality_combopt::tsp::{
    held_karp_bound, methods, solve, BoundParams, Instance, Metric, SolveParams,
};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

use crate::convert::{count, rows_of, seed, slice1, slice2, value_error};

/// Row and column indices, as scipy returns them.
type Indices<'py> = (Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<i64>>);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(combopt_linear_sum_assignment, m)?)?;
    m.add_function(wrap_pyfunction!(combopt_solve_tsp, m)?)?;
    m.add_function(wrap_pyfunction!(combopt_tsp_methods, m)?)?;
    m.add_function(wrap_pyfunction!(combopt_hypervolume, m)?)?;
    Ok(())
}

/// `(row_ind, col_ind)` of the optimal assignment, as scipy returns them.
#[pyfunction]
fn combopt_linear_sum_assignment<'py>(
    py: Python<'py>,
    cost: PyReadonlyArray2<'py, f64>,
    maximize: bool,
) -> PyResult<Indices<'py>> {
    let (data, rows, cols) = slice2(&cost, "cost_matrix")?;
    let pairs = py
        .detach(|| {
            let costs = CostMatrix::new(rows, cols, data.to_vec())?;
            linear_sum_assignment(&costs, maximize)
        })
        .map_err(value_error)?
        .pairs;
    // Indices are below the array's dimensions, which fit in an i64.
    let r: Vec<i64> = pairs.iter().map(|&(i, _)| i as i64).collect();
    let c: Vec<i64> = pairs.iter().map(|&(_, j)| j as i64).collect();
    Ok((r.into_pyarray(py), c.into_pyarray(py)))
}

/// The built-in TSP methods: `(name, description, seeded)`.
#[pyfunction]
fn combopt_tsp_methods() -> Vec<(String, String, bool)> {
    methods()
        .iter()
        .map(|p| (p.name().to_string(), p.about().to_string(), p.is_seeded()))
        .collect()
}

/// Solves a TSP given `(n, 2)` points (exact Euclidean distances) or an
/// `(n, n)` symmetric distance matrix (`is_matrix`): `(tour, length,
/// lower_bound or None)`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn combopt_solve_tsp<'py>(
    py: Python<'py>,
    data: PyReadonlyArray2<'py, f64>,
    is_matrix: bool,
    method: &str,
    seed_: i128,
    k: i128,
    time_limit: Option<f64>,
    kicks: Option<i128>,
    lower_bound: bool,
) -> PyResult<(Bound<'py, PyArray1<i64>>, f64, Option<f64>)> {
    let (values, rows, cols) = slice2(&data, if is_matrix { "distances" } else { "points" })?;
    let params = SolveParams::new(method)
        .with_seed(seed(seed_)?)
        .with_k(count("k", k, 1)?)
        .with_time_limit(time_limit)
        .with_kicks(kicks.map(|v| count("kicks", v, 0)).transpose()?);
    let (tour, length, bound) = py
        .detach(|| {
            let instance = if is_matrix {
                Instance::from_matrix("matrix", &rows_of(values, cols))?
            } else {
                if cols != 2 {
                    return Err(duality_core::Error::Shape {
                        what: "points (one row of x, y per city)".into(),
                        expected: vec![rows, 2],
                        got: vec![rows, cols],
                    });
                }
                let coords = values.chunks_exact(2).map(|c| [c[0], c[1]]).collect();
                Instance::from_coords("points", coords, Metric::Euclidean)?
            };
            let sol = solve(&instance, &params)?;
            let bound = if lower_bound {
                Some(held_karp_bound(&instance, &BoundParams::default(), Some(sol.length))?.value)
            } else {
                None
            };
            Ok((sol.tour.into_vec(), sol.length, bound))
        })
        .map_err(value_error)?;
    let tour: Vec<i64> = tour.into_iter().map(|c| c as i64).collect();
    Ok((tour.into_pyarray(py), length, bound))
}

/// Hypervolume dominated by `points` (minimisation) up to `reference`.
#[pyfunction]
fn combopt_hypervolume(
    py: Python<'_>,
    points: PyReadonlyArray2<'_, f64>,
    reference: PyReadonlyArray1<'_, f64>,
) -> PyResult<f64> {
    let (data, _, cols) = slice2(&points, "data")?;
    let r = slice1(&reference, "ref")?;
    py.detach(|| hypervolume(&rows_of(data, cols), r))
        .map_err(value_error)
}
