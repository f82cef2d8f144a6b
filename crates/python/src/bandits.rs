//! `duality.bandits`: obp's off-policy estimators over `duality-bandits`.

use duality_bandits::ope::{EstimatorKind, OpeData};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray3, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::convert::{slice1, value_error};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bandits_ope, m)?)?;
    Ok(())
}

/// The `(n, K)` slice `x[i, :, position[i]]` of obp's `(n, K, len_list)`
/// layout, copied once into the row-major buffer the crate owns.
fn at_position(
    x: &PyReadonlyArray3<'_, f64>,
    name: &str,
    position: &[i64],
) -> PyResult<(Vec<f64>, usize, usize)> {
    let shape = x.shape();
    let (n, k, slots) = (shape[0], shape[1], shape[2]);
    let data = x
        .as_slice()
        .map_err(|_| value_error(format!("{name}: expected a C-contiguous array")))?;
    if !position.is_empty() && position.len() != n {
        return Err(value_error(format!(
            "length mismatch: position has {} element(s) but {name} has {n} rounds",
            position.len()
        )));
    }
    if slots == 1 {
        return Ok((data.to_vec(), n, k));
    }
    let mut out = Vec::with_capacity(n * k);
    for i in 0..n {
        let p = position.get(i).copied().unwrap_or(0);
        let p = usize::try_from(p)
            .ok()
            .filter(|&p| p < slots)
            .ok_or_else(|| {
                value_error(format!(
                    "invalid position[{i}] = {p}: expected a slot in 0..{slots}"
                ))
            })?;
        let row = &data[i * k * slots..(i + 1) * k * slots];
        out.extend((0..k).map(|a| row[a * slots + p]));
    }
    Ok((out, n, k))
}

/// A `duality-bandits` message in obp's argument names: `rewards` ->
/// `reward`, `actions` -> `action`, `pscores` -> `pscore`, `qhat` ->
/// `estimated_rewards_by_reg_model` (whole words only). Indices into the
/// `(n, n_actions)` data of one slot are flat (`round * n_actions + action`),
/// which the message then says.
fn obp_names(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len() + 64);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(match word.as_str() {
            "rewards" => "reward",
            "actions" => "action",
            "pscores" => "pscore",
            "qhat" => "estimated_rewards_by_reg_model",
            w => w,
        });
        word.clear();
    };
    for c in msg.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    if msg.contains("qhat[") || msg.contains("action_dist[") {
        out.push_str(" (flat index: round * n_actions + action, at the round's position)");
    }
    out
}

/// One off-policy estimator (`ipw`, `snipw`, `dm`, `dr`, `switch-dr`) on
/// logged data: the estimate, or (`round_rewards`) the per-round values
/// whose mean it is. `action_dist` and `estimated_rewards` are obp's
/// `(n, n_actions, len_list)`; `position` picks the slot of each round
/// (empty: slot 0).
#[pyfunction]
#[pyo3(signature = (estimator, reward, action, pscore, action_dist, position, estimated_rewards=None, tau=None, round_rewards=false))]
#[allow(clippy::too_many_arguments)]
fn bandits_ope<'py>(
    py: Python<'py>,
    estimator: &str,
    reward: PyReadonlyArray1<'py, f64>,
    action: PyReadonlyArray1<'py, i64>,
    pscore: PyReadonlyArray1<'py, f64>,
    action_dist: PyReadonlyArray3<'py, f64>,
    position: PyReadonlyArray1<'py, i64>,
    estimated_rewards: Option<PyReadonlyArray3<'py, f64>>,
    tau: Option<f64>,
    round_rewards: bool,
) -> PyResult<Py<PyAny>> {
    let kind: EstimatorKind = estimator.parse().map_err(value_error)?;
    let reward = slice1(&reward, "reward")?;
    let action = slice1(&action, "action")?;
    let pscore = slice1(&pscore, "pscore")?;
    let position = slice1(&position, "position")?;
    let (dist, n, n_actions) = at_position(&action_dist, "action_dist", position)?;
    let qhat = match &estimated_rewards {
        Some(q) => {
            let (data, rows, cols) = at_position(q, "estimated_rewards_by_reg_model", position)?;
            if (rows, cols) != (n, n_actions) {
                return Err(value_error(format!(
                    "shape mismatch: estimated_rewards_by_reg_model has {rows} rounds x {cols} \
                     actions but action_dist has {n} x {n_actions}"
                )));
            }
            data
        }
        None => Vec::new(),
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
    let (reward, pscore) = (reward.to_vec(), pscore.to_vec());
    let out = py
        .detach(|| {
            let data = OpeData::new(n_actions, actions, reward, pscore, dist, qhat)?;
            let est = kind.build(tau)?;
            if round_rewards {
                Ok::<_, duality_core::Error>((None, Some(est.round_values(&data)?)))
            } else {
                Ok((Some(est.estimate(&data)?), None))
            }
        })
        .map_err(|e| value_error(obp_names(&e.to_string())))?;
    match out {
        (Some(v), _) => Ok(v.into_pyobject(py)?.into_any().unbind()),
        (_, Some(values)) => {
            let arr: Bound<'py, PyArray1<f64>> = values.into_pyarray(py);
            Ok(arr.into_any().unbind())
        }
        _ => Err(value_error("no estimate")),
    }
}
