//! `duality.bandits`: obp's off-policy estimators over `duality-bandits`.

use duality_bandits::ope::{EstimatorKind, OpeData};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::convert::{slice1, slice2, value_error};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bandits_ope, m)?)?;
    Ok(())
}

/// One off-policy estimator (`ipw`, `snipw`, `dm`, `dr`, `switch-dr`) on
/// logged data: `(estimate, per-round values)`. `action_dist` and
/// `estimated_rewards` are `(n, n_actions)` (the Python half selects the
/// position of obp's third axis).
#[pyfunction]
#[pyo3(signature = (estimator, reward, action, pscore, action_dist, estimated_rewards=None, tau=None))]
#[allow(clippy::too_many_arguments)]
fn bandits_ope<'py>(
    py: Python<'py>,
    estimator: &str,
    reward: PyReadonlyArray1<'py, f64>,
    action: PyReadonlyArray1<'py, i64>,
    pscore: PyReadonlyArray1<'py, f64>,
    action_dist: PyReadonlyArray2<'py, f64>,
    estimated_rewards: Option<PyReadonlyArray2<'py, f64>>,
    tau: Option<f64>,
) -> PyResult<(f64, Bound<'py, PyArray1<f64>>)> {
    let kind: EstimatorKind = estimator.parse().map_err(value_error)?;
    let reward = slice1(&reward, "reward")?;
    let action = slice1(&action, "action")?;
    let pscore = slice1(&pscore, "pscore")?;
    let (dist, _, n_actions) = slice2(&action_dist, "action_dist")?;
    let qhat = match &estimated_rewards {
        Some(q) => {
            let (data, rows, cols) = slice2(q, "estimated_rewards_by_reg_model")?;
            let (dr, dc) = (action_dist.shape()[0], n_actions);
            if (rows, cols) != (dr, dc) {
                return Err(value_error(format!(
                    "shape mismatch: estimated_rewards_by_reg_model has shape ({rows}, {cols}) \
                     but action_dist has ({dr}, {dc})"
                )));
            }
            data
        }
        None => &[],
    };
    let actions = action
        .iter()
        .enumerate()
        .map(|(i, &a)| {
            usize::try_from(a).map_err(|_| {
                value_error(format!(
                    "invalid action[{i}] = {a}: expected an action in 0..{n_actions}"
                ))
            })
        })
        .collect::<PyResult<Vec<_>>>()?;
    let (estimate, values) = py
        .detach(|| {
            let data = OpeData::new(
                n_actions,
                actions,
                reward.to_vec(),
                pscore.to_vec(),
                dist.to_vec(),
                qhat.to_vec(),
            )?;
            let est = kind.build(tau)?;
            Ok::<_, duality_core::Error>((est.estimate(&data)?, est.round_values(&data)?))
        })
        .map_err(value_error)?;
    Ok((estimate, values.into_pyarray(py)))
}
