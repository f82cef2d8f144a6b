//! `duality.distdp`: Bermudan put prices (Longstaff-Schwartz, its
//! Andersen-Broadie interval, the CRR lattice) over `duality-distdp`.

use duality_core::config::Validate;
use duality_core::limits;
use duality_distdp::stopping::{
    binomial_price, black_scholes_put, lsmc_price, price_interval, Basis, DualParams, Exercise,
    LsmcParams, PriceProcess, PutOption,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{count, seed, value_error};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(distdp_price_bermudan_put, m)?)?;
    Ok(())
}

/// Prices a put; `method` is `lsmc` (in-sample LSMC price with its 95% CI),
/// `interval` (LSMC rule, then out-of-sample lower bound and the
/// Andersen-Broadie dual upper bound), `binomial` (CRR lattice, Bermudan on
/// `exercise_dates` dates) or `european` (Black-Scholes). Returns a dict.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn distdp_price_bermudan_put<'py>(
    py: Python<'py>,
    s0: f64,
    strike: f64,
    rate: f64,
    sigma: f64,
    maturity: f64,
    exercise_dates: i128,
    paths: i128,
    basis: &str,
    antithetic: bool,
    seed_: i128,
    method: &str,
    steps: i128,
    dual_paths: (i128, i128, i128),
    dual_seed: i128,
) -> PyResult<Bound<'py, PyDict>> {
    let opt = PutOption {
        s0,
        strike,
        rate,
        sigma,
        maturity,
    };
    opt.validate().map_err(value_error)?;
    let dates = count("exercise_dates", exercise_dates, 1)?;
    // Paths x dates spot tables: refused beyond the memory budget before
    // the simulation allocates them.
    let paths_n = count("paths", paths, 2)?;
    let cells =
        limits::product(&[("paths", paths_n), ("exercise_dates", dates)]).map_err(value_error)?;
    limits::elements::<f64>(
        &format!("paths = {paths_n} x exercise_dates = {dates}"),
        cells,
    )
    .map_err(value_error)?;
    let basis: Basis = basis.parse().map_err(value_error)?;
    let lsmc = LsmcParams::default()
        .exercise_dates(dates)
        .paths(paths_n)
        .basis(basis)
        .antithetic(antithetic)
        .seed(seed(seed_)?);
    lsmc.validate().map_err(value_error)?;
    let out = PyDict::new(py);
    out.set_item("method", method)?;
    match method {
        "lsmc" => {
            let p = py.detach(|| lsmc_price(&opt, &lsmc)).map_err(value_error)?;
            out.set_item("price", p.price)?;
            out.set_item("std_error", p.std_error)?;
            out.set_item("ci", (p.ci_low, p.ci_high))?;
            out.set_item("paths", p.paths)?;
        }
        "interval" => {
            let (lower, outer, inner) = (
                count("lower_paths", dual_paths.0, 2)?,
                count("outer_paths", dual_paths.1, 2)?,
                count("inner_paths", dual_paths.2, 2)?,
            );
            let cells = limits::product(&[("lower_paths", lower), ("exercise_dates", dates)])
                .map_err(value_error)?;
            limits::elements::<f64>(
                &format!("lower_paths = {lower} x exercise_dates = {dates}"),
                cells,
            )
            .map_err(value_error)?;
            let cells = limits::product(&[("inner_paths", inner), ("exercise_dates", dates)])
                .map_err(value_error)?;
            limits::elements::<f64>(
                &format!("inner_paths = {inner} x exercise_dates = {dates}"),
                cells,
            )
            .map_err(value_error)?;
            let dual =
                DualParams::new(lower, outer, inner, seed(dual_seed)?).map_err(value_error)?;
            let iv = py
                .detach(|| price_interval(&opt, &PriceProcess::Gbm, &lsmc, &dual))
                .map_err(value_error)?;
            let b = iv.bounds;
            out.set_item("price", b.lower.price)?;
            out.set_item("in_sample", iv.fit.in_sample.price)?;
            out.set_item("lower", b.lower.price)?;
            out.set_item("lower_std_error", b.lower.std_error)?;
            out.set_item("upper", b.upper.price)?;
            out.set_item("upper_std_error", b.upper.std_error)?;
            out.set_item("ci", (b.ci_low, b.ci_high))?;
            out.set_item("gap", b.gap)?;
        }
        "binomial" => {
            let steps = count("steps", steps, 1)?;
            limits::elements::<f64>(&format!("steps = {steps}"), steps).map_err(value_error)?;
            let p = py
                .detach(|| binomial_price(&opt, Exercise::Bermudan { dates }, steps))
                .map_err(value_error)?;
            out.set_item("price", p)?;
            out.set_item("steps", steps)?;
        }
        "european" => {
            out.set_item("price", black_scholes_put(&opt).map_err(value_error)?)?;
        }
        other => {
            return Err(value_error(format!(
                "invalid method = {other:?}: expected one of lsmc, interval, binomial, european"
            )))
        }
    }
    Ok(out)
}
