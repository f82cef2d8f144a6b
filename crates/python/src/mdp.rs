//! `duality.distdp.solve_mdp`: a discounted finite MDP given as transition
//! and reward arrays (pymdptoolbox's layout), solved by duality-distdp's
//! value iteration, policy iteration or linear program.

use duality_distdp::classic::{policy_iteration, value_iteration, IterParams};
use duality_distdp::lp::solve_mdp_lp;
use duality_distdp::mdp::{FiniteMdp, Outcome};
use numpy::{IntoPyArray, PyReadonlyArray1, PyReadonlyArray3, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{array2, count, slice1, value_error};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(distdp_solve_mdp, m)?)?;
    Ok(())
}

/// Solves the MDP with transitions `p[a, s, s']` and rewards `r[a, s, s']`
/// (both `(A, S, S)`); `method` is `value_iteration`, `policy_iteration` or
/// `lp` (with initial distribution `mu`, uniform when empty).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn distdp_solve_mdp<'py>(
    py: Python<'py>,
    p: PyReadonlyArray3<'py, f64>,
    r: PyReadonlyArray3<'py, f64>,
    gamma: f64,
    method: &str,
    tol: f64,
    max_iter: i128,
    mu: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let shape = p.shape().to_vec();
    let (na, ns) = (shape[0], shape[1]);
    if shape[2] != ns || r.shape() != shape.as_slice() {
        return Err(value_error(format!(
            "shape mismatch: transitions have shape {:?} and rewards {:?}; expected (A, S, S) for both",
            shape,
            r.shape()
        )));
    }
    let pd = p
        .as_slice()
        .map_err(|_| value_error("transitions: expected a C-contiguous array"))?;
    let rd = r
        .as_slice()
        .map_err(|_| value_error("rewards: expected a C-contiguous array"))?;
    let mu = slice1(&mu, "mu")?;
    let max_iter = count("max_iter", max_iter, 1)?;
    let method = method.to_string();
    let out = py
        .detach(|| {
            // outcomes[s][a]: the next states with positive probability.
            let outcomes: Vec<Vec<Vec<Outcome>>> = (0..ns)
                .map(|s| {
                    (0..na)
                        .map(|a| {
                            (0..ns)
                                .filter_map(|n| {
                                    let i = (a * ns + s) * ns + n;
                                    (pd[i] != 0.0).then_some(Outcome {
                                        next: n,
                                        reward: rd[i],
                                        prob: pd[i],
                                    })
                                })
                                .collect()
                        })
                        .collect()
                })
                .collect();
            let mdp = FiniteMdp::builder(outcomes, gamma).build()?;
            match method.as_str() {
                "value_iteration" => {
                    let s = value_iteration(&mdp, IterParams::new(tol, max_iter)?)?;
                    Ok((s.values, s.policy[0].clone(), s.iterations, None))
                }
                "policy_iteration" => {
                    let s = policy_iteration(&mdp, max_iter)?;
                    Ok((s.values, s.policy[0].clone(), s.iterations, None))
                }
                "lp" => {
                    let uniform;
                    let mu = if mu.is_empty() {
                        uniform = vec![1.0 / ns as f64; ns];
                        &uniform[..]
                    } else {
                        mu
                    };
                    let s = solve_mdp_lp(&mdp, mu)?;
                    let occ: Vec<f64> = s.occupancy.iter().flatten().copied().collect();
                    Ok((s.values, s.policy, 0, Some(occ)))
                }
                other => Err(duality_core::Error::invalid(
                    "method",
                    other,
                    "one of value_iteration, policy_iteration, lp",
                )),
            }
        })
        .map_err(value_error)?;
    let (values, policy, iterations, occupancy) = out;
    let d = PyDict::new(py);
    d.set_item("values", values.into_pyarray(py))?;
    let policy: Vec<i64> = policy.into_iter().map(|a| a as i64).collect();
    d.set_item("policy", policy.into_pyarray(py))?;
    d.set_item("iterations", iterations)?;
    if let Some(occ) = occupancy {
        d.set_item("occupancy", array2(py, ns, na, occ)?)?;
    }
    Ok(d)
}
