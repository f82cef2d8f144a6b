//! `duality.bandits`: obp's off-policy estimators over `duality-bandits`.

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use duality_bandits::ope::{EstimatorKind, OpeView};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray3, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{slice1, value_error};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bandits_ope, m)?)?;
    m.add_function(wrap_pyfunction!(_ope_last_buffers, m)?)?;
    m.add_function(wrap_pyfunction!(_ope_in_flight, m)?)?;
    Ok(())
}

/// The addresses of the buffers the last `bandits_ope` call estimated on
/// (`reward`, `action`, `pscore`, `action_dist`,
/// `estimated_rewards_by_reg_model`; 0 when absent): the test hook that
/// shows the inputs were borrowed, not copied (`tests/test_memory.py`
/// compares them with NumPy's data pointers).
static LAST_BUFFERS: Mutex<[usize; 5]> = Mutex::new([0; 5]);

/// Test hook: the data addresses the last OPE call read, by argument name.
#[pyfunction]
fn _ope_last_buffers(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let buffers = *LAST_BUFFERS
        .lock()
        .map_err(|_| value_error("the buffer record is poisoned"))?;
    let out = PyDict::new(py);
    let names = [
        "reward",
        "action",
        "pscore",
        "action_dist",
        "estimated_rewards_by_reg_model",
    ];
    for (name, address) in names.into_iter().zip(buffers) {
        out.set_item(name, address)?;
    }
    Ok(out)
}

/// OPE calls now inside their GIL-free section: the test hook that shows
/// the GIL is released (`tests/test_api_surface.py`: another Python thread
/// can read a non-zero count only while a call is inside `detach`).
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Test hook: how many OPE calls are running with the GIL released.
#[pyfunction]
fn _ope_in_flight() -> usize {
    IN_FLIGHT.load(Ordering::SeqCst)
}

/// Counts a call in [`IN_FLIGHT`] while it lives.
struct InFlight;

impl InFlight {
    fn enter() -> Self {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The `(n, K)` slice `x[i, :, position[i]]` of obp's `(n, K, len_list)`
/// layout, row-major: the array's own buffer, borrowed, when it has one
/// slot (`len_list = 1`, or a 2-D input); else gathered once into a new
/// buffer.
fn at_position<'a>(
    x: &'a PyReadonlyArray3<'_, f64>,
    name: &str,
    position: &[i64],
) -> PyResult<(Cow<'a, [f64]>, usize, usize)> {
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
        return Ok((Cow::Borrowed(data), n, k));
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
    Ok((Cow::Owned(out), n, k))
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
        None => Cow::Borrowed(&[][..]),
    };
    // Everything borrowed (NumPy's buffers, int64 actions as they are); the
    // values are checked in the estimator's own pass over the rows, with
    // OpeData::new's messages (issue #23).
    let view = OpeView::deferred(n_actions, action, reward, pscore, &dist, &qhat)
        .map_err(|e| value_error(obp_names(&e.to_string())))?;
    if let Ok(mut last) = LAST_BUFFERS.lock() {
        let address = |s: &[f64]| if s.is_empty() { 0 } else { s.as_ptr() as usize };
        *last = [
            address(view.rewards()),
            action.as_ptr() as usize,
            address(view.pscores()),
            address(view.action_dist()),
            address(view.qhat()),
        ];
    }
    let out = py
        .detach(|| {
            let _in_flight = InFlight::enter();
            let est = kind.build(tau)?;
            if round_rewards {
                Ok::<_, duality_core::Error>((None, Some(est.round_values_view(&view)?)))
            } else {
                Ok((Some(est.estimate_view(&view)?), None))
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
