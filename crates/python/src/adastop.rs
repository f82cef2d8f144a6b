//! `duality.eval.AdaStop`: the group-sequential AdaStop study of
//! `duality-eval`, stage by stage, with its state as JSON to resume.

use duality_eval::adastop::{AdaStop, AdaStopParams, Decision, Variant};
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{count, seed, slice1, value_error};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeAdaStop>()?;
    Ok(())
}

fn decision_name(d: Decision) -> &'static str {
    match d {
        Decision::Continue => "continue",
        Decision::Larger => "larger",
        Decision::Smaller => "smaller",
        Decision::Equal => "equal",
    }
}

/// An AdaStop study (Mathieu et al. 2023): agents, their runs per stage,
/// decisions after each stage.
#[pyclass(name = "AdaStop", module = "duality._native")]
pub struct NativeAdaStop {
    inner: AdaStop,
}

#[pymethods]
impl NativeAdaStop {
    /// A new study; `group_sizes` gives each agent's runs per stage when they
    /// differ, `comparisons` agent index pairs (all pairs when None),
    /// `variant` "duality" or "adastop-0.1.3".
    #[new]
    #[pyo3(signature = (agents, n, stages, alpha, permutations, seed_, comparisons=None, group_sizes=None, variant="duality"))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        agents: Vec<String>,
        n: i128,
        stages: i128,
        alpha: f64,
        permutations: i128,
        seed_: i128,
        comparisons: Option<Vec<(i128, i128)>>,
        group_sizes: Option<Vec<i128>>,
        variant: &str,
    ) -> PyResult<Self> {
        let variant = match variant {
            "duality" => Variant::Duality,
            "adastop-0.1.3" => Variant::Adastop013,
            other => {
                return Err(value_error(format!(
                    "invalid variant = {other:?}: expected \"duality\" or \"adastop-0.1.3\""
                )))
            }
        };
        let comparisons = comparisons
            .map(|cs| {
                cs.into_iter()
                    .map(|(i, j)| {
                        Ok((
                            count("comparison agent", i, 0)?,
                            count("comparison agent", j, 0)?,
                        ))
                    })
                    .collect::<PyResult<Vec<_>>>()
            })
            .transpose()?;
        let group_sizes = group_sizes
            .map(|gs| {
                gs.into_iter()
                    .map(|g| count("group size", g, 1))
                    .collect::<PyResult<Vec<_>>>()
            })
            .transpose()?;
        let params = AdaStopParams {
            n: count("n", n, 1)?,
            stages: count("K", stages, 1)?,
            alpha,
            permutations: count("B", permutations, 1)?,
            seed: seed(seed_)?,
            comparisons,
            group_sizes,
            variant,
        };
        Ok(Self {
            inner: AdaStop::new(agents, params).map_err(value_error)?,
        })
    }

    /// Feeds one stage (`batch[a]`: the new runs of agent `a`, empty for
    /// agents not in `agents_to_run`); returns the decisions, one per
    /// comparison.
    fn update(
        &mut self,
        py: Python<'_>,
        batch: Vec<PyReadonlyArray1<'_, f64>>,
    ) -> PyResult<Vec<String>> {
        let runs = batch
            .iter()
            .enumerate()
            .map(|(a, r)| slice1(r, &format!("runs of agent {a}")).map(<[f64]>::to_vec))
            .collect::<PyResult<Vec<_>>>()?;
        let inner = &mut self.inner;
        let decisions = py
            .detach(|| inner.update(&runs).map(<[Decision]>::to_vec))
            .map_err(value_error)?;
        Ok(decisions
            .into_iter()
            .map(|d| decision_name(d).to_string())
            .collect())
    }

    /// Agent names.
    #[getter]
    fn agents(&self) -> Vec<String> {
        self.inner.agents().to_vec()
    }

    /// Comparisons as agent index pairs.
    #[getter]
    fn comparisons(&self) -> Vec<(usize, usize)> {
        self.inner.comparisons().to_vec()
    }

    /// Runs per stage of each agent.
    #[getter]
    fn group_sizes(&self) -> Vec<usize> {
        self.inner.group_sizes().to_vec()
    }

    /// Stages processed so far.
    #[getter]
    fn stage(&self) -> usize {
        self.inner.stage()
    }

    /// Whether every comparison is decided (or the last stage is done).
    #[getter]
    fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }

    /// Indices of the agents that need runs in the next stage.
    #[getter]
    fn agents_to_run(&self) -> Vec<usize> {
        self.inner.agents_to_run()
    }

    /// Total runs used so far.
    #[getter]
    fn runs_used(&self) -> usize {
        self.inner.runs_used()
    }

    /// Per comparison: `agent`, `other`, `decision`, `statistic`.
    fn outcomes<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.inner
            .outcomes()
            .into_iter()
            .map(|o| {
                let d = PyDict::new(py);
                d.set_item("agent", o.agent)?;
                d.set_item("other", o.other)?;
                d.set_item("decision", decision_name(o.decision))?;
                d.set_item("statistic", o.statistic)?;
                Ok(d)
            })
            .collect()
    }

    /// Per stage: the boundary and the level spent so far.
    fn records(&self) -> Vec<(f64, f64)> {
        self.inner
            .records()
            .iter()
            .map(|r| (r.boundary, r.level_spent))
            .collect()
    }

    /// The whole state as JSON, to resume with `from_json`.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(value_error)
    }

    /// A study resumed from `to_json`'s text.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        let inner: AdaStop = serde_json::from_str(text)
            .map_err(|e| value_error(format!("invalid AdaStop state: {e}")))?;
        Ok(Self { inner })
    }
}
