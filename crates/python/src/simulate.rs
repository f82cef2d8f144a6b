//! `duality.bandits.simulate`: the bandit simulator of `duality-bandits`
//! from a config (the TOML of `duality bandit simulate`, or the same as a
//! dict), regret curves out as arrays.

use duality_bandits::config::{BuiltSimulation, SimulationSpec};
use duality_bandits::simulator::{SimulationResult, Simulator};
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{array2, value_error};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bandits_simulate, m)?)?;
    Ok(())
}

/// Runs a simulation. `config` is TOML text, or (`is_json`) the JSON of a
/// dict with the same keys, checked by the same strict loader (unknown keys
/// are errors naming them).
#[pyfunction]
fn bandits_simulate<'py>(
    py: Python<'py>,
    config: String,
    is_json: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let result: SimulationResult = py
        .detach(|| {
            let text = if is_json {
                let value: serde_json::Value = serde_json::from_str(&config)
                    .map_err(|e| duality_core::Error::wrap("config", e))?;
                let value = toml::Value::try_from(value)
                    .map_err(|e| duality_core::Error::wrap("config", e))?;
                toml::to_string(&value).map_err(|e| duality_core::Error::wrap("config", e))?
            } else {
                config
            };
            let spec: SimulationSpec = duality_core::config::from_toml_str(&text, "config")?;
            // Regret curves kept: repetitions x checkpoints x policies x 2.
            let cells = duality_core::limits::product(&[
                ("repetitions", spec.repetitions()),
                ("checkpoints", spec.checkpoints()),
                ("policies", spec.policies().len()),
                ("curves", 2),
            ])?;
            duality_core::limits::elements::<f64>(
                &format!(
                    "repetitions = {} x checkpoints = {} x {} policies",
                    spec.repetitions(),
                    spec.checkpoints(),
                    spec.policies().len()
                ),
                cells,
            )?;
            let BuiltSimulation {
                environment,
                policies,
            } = spec.build()?;
            Simulator::new(spec.simulator_config())?.run(environment.as_ref(), &policies)
        })
        .map_err(value_error)?;
    let out = PyDict::new(py);
    out.set_item("environment", &result.environment)?;
    out.set_item("horizon", result.horizon)?;
    let checkpoints: Vec<i64> = result.checkpoints.iter().map(|&c| c as i64).collect();
    let c = checkpoints.len();
    out.set_item("checkpoints", checkpoints.into_pyarray(py))?;
    let policies = PyDict::new(py);
    for p in &result.policies {
        let reps = p.repetitions.len();
        let arms = p.repetitions.first().map_or(0, |r| r.pulls.len());
        let curves = |f: fn(&duality_bandits::simulator::RepetitionResult) -> &Vec<f64>| {
            p.repetitions
                .iter()
                .flat_map(|r| f(r).iter().copied())
                .collect::<Vec<f64>>()
        };
        let d = PyDict::new(py);
        d.set_item(
            "pseudo_regret",
            array2(py, reps, c, curves(|r| &r.pseudo_regret))?,
        )?;
        d.set_item(
            "realised_regret",
            array2(py, reps, c, curves(|r| &r.realised_regret))?,
        )?;
        let pulls: Vec<i64> = p
            .repetitions
            .iter()
            .flat_map(|r| r.pulls.iter().map(|&n| n as i64))
            .collect();
        d.set_item("pulls", array2(py, reps, arms, pulls)?)?;
        let totals: Vec<f64> = p.repetitions.iter().map(|r| r.total_reward).collect();
        let totals: Bound<'py, PyArray1<f64>> = totals.into_pyarray(py);
        d.set_item("total_reward", totals)?;
        policies.set_item(&p.name, d)?;
    }
    out.set_item("policies", policies)?;
    Ok(out)
}
