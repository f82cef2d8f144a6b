//! `duality.eval`: rliable's aggregates and bootstrap intervals, performance
//! profiles, scikit-learn's ranking metrics, McNemar and DeLong, over
//! `duality-eval`.

use duality_core::limits;
use duality_core::seed::Seeder;
use duality_eval::aggregate::{self, Metric};
use duality_eval::bootstrap::{BootstrapParams, Interval, IntervalMethod, StratifiedBootstrap};
use duality_eval::classical::{combined_f_5x2cv, mcnemar, paired_t_5x2cv, McNemarTable};
use duality_eval::conformal;
use duality_eval::profile::{performance_profile, ProfileKind};
use duality_eval::ranking;
use duality_eval::scores::ScoreMatrix;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

use crate::convert::{array2, count, seed, slice1, slice2, value_error};

/// A point-estimate vector and its `2 x k` interval array (rliable's pair).
type Estimates<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray2<f64>>);

/// Selected indices and the p-values of every test point.
type Selected<'py> = (Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<f64>>);

/// Calibration and test scores.
type ScorePair<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(eval_aggregate, m)?)?;
    m.add_function(wrap_pyfunction!(eval_probability_of_improvement, m)?)?;
    m.add_function(wrap_pyfunction!(eval_interval_estimates, m)?)?;
    m.add_function(wrap_pyfunction!(eval_improvement_intervals, m)?)?;
    m.add_function(wrap_pyfunction!(eval_performance_profile, m)?)?;
    m.add_function(wrap_pyfunction!(eval_roc_auc, m)?)?;
    m.add_function(wrap_pyfunction!(eval_average_precision, m)?)?;
    m.add_function(wrap_pyfunction!(eval_delong, m)?)?;
    m.add_function(wrap_pyfunction!(eval_mcnemar_table, m)?)?;
    m.add_function(wrap_pyfunction!(eval_mcnemar, m)?)?;
    m.add_function(wrap_pyfunction!(eval_five_by_two, m)?)?;
    m.add_function(wrap_pyfunction!(eval_conformal_select, m)?)?;
    m.add_function(wrap_pyfunction!(eval_clipped_scores, m)?)?;
    Ok(())
}

/// A (runs x tasks) score matrix named `name`: the one copy of the array.
fn matrix(name: &str, a: &PyReadonlyArray2<'_, f64>) -> PyResult<ScoreMatrix> {
    let (data, runs, tasks) = slice2(a, &format!("scores of {name:?}"))?;
    let task_names = (0..tasks).map(|t| format!("task_{t}")).collect();
    ScoreMatrix::from_flat(name, task_names, runs, data.to_vec()).map_err(value_error)
}

fn metric(name: &str, gamma: f64) -> PyResult<Metric> {
    match Metric::parse(name).map_err(value_error)? {
        Metric::OptimalityGap { .. } => {
            duality_core::check::finite_scalar("gamma", gamma).map_err(value_error)?;
            Ok(Metric::OptimalityGap { gamma })
        }
        m => Ok(m),
    }
}

/// The bootstrap, refusing `reps x outputs` replicate tables beyond the
/// memory budget (`duality_core::limits`) before anything is allocated.
fn bootstrap(
    reps: i128,
    outputs: usize,
    confidence: f64,
    method: &str,
    task_bootstrap: bool,
    seed_: i128,
) -> PyResult<StratifiedBootstrap> {
    let reps = count("reps", reps, 1)?;
    let cells =
        limits::product(&[("reps", reps), ("outputs", outputs.max(1))]).map_err(value_error)?;
    limits::elements::<f64>(&format!("reps = {reps} x {outputs} output(s)"), cells)
        .map_err(value_error)?;
    StratifiedBootstrap::from_params(BootstrapParams {
        reps,
        confidence,
        seed: seed(seed_)?,
        method: IntervalMethod::parse(method).map_err(value_error)?,
        task_bootstrap,
    })
    .map_err(value_error)
}

/// `(point estimates, 2 x k intervals)` as rliable returns them.
fn split<'py>(py: Python<'py>, intervals: &[Interval]) -> PyResult<Estimates<'py>> {
    let k = intervals.len();
    let point: Vec<f64> = intervals.iter().map(|i| i.estimate).collect();
    let mut ci: Vec<f64> = intervals.iter().map(|i| i.lo).collect();
    ci.extend(intervals.iter().map(|i| i.hi));
    Ok((point.into_pyarray(py), array2(py, 2, k, ci)?))
}

/// One aggregate (`mean`, `median`, `iqm`, `optimality_gap`) of a matrix.
#[pyfunction]
#[pyo3(signature = (metric_name, scores, gamma = 1.0))]
fn eval_aggregate(
    py: Python<'_>,
    metric_name: &str,
    scores: PyReadonlyArray2<'_, f64>,
    gamma: f64,
) -> PyResult<f64> {
    let metric = metric(metric_name, gamma)?;
    let m = matrix("scores", &scores)?;
    Ok(py.detach(|| metric.compute(&m)))
}

/// rliable's `probability_of_improvement(scores_x, scores_y)`.
#[pyfunction]
fn eval_probability_of_improvement(
    py: Python<'_>,
    scores_x: PyReadonlyArray2<'_, f64>,
    scores_y: PyReadonlyArray2<'_, f64>,
) -> PyResult<f64> {
    let x = matrix("scores_x", &scores_x)?;
    let y = matrix("scores_y", &scores_y)?;
    py.detach(|| aggregate::probability_of_improvement(&x, &y))
        .map_err(value_error)
}

/// Per algorithm `(point, 2 x k interval)` arrays for the `metrics`, each
/// algorithm on its own seed stream (`Seeder::new(seed).named(name)`).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn eval_interval_estimates<'py>(
    py: Python<'py>,
    names: Vec<String>,
    scores: Vec<PyReadonlyArray2<'py, f64>>,
    metrics: Vec<String>,
    gamma: f64,
    reps: i128,
    confidence: f64,
    method: &str,
    task_bootstrap: bool,
    seed_: i128,
) -> PyResult<Vec<Estimates<'py>>> {
    let boot = bootstrap(
        reps,
        metrics.len(),
        confidence,
        method,
        task_bootstrap,
        seed_,
    )?;
    let metrics = metrics
        .iter()
        .map(|m| metric(m, gamma))
        .collect::<PyResult<Vec<_>>>()?;
    duality_core::check::non_empty("metrics", &metrics).map_err(value_error)?;
    let mats = names
        .iter()
        .zip(&scores)
        .map(|(n, a)| matrix(n, a))
        .collect::<PyResult<Vec<_>>>()?;
    let base = Seeder::new(boot.params().seed);
    let all = py
        .detach(|| {
            mats.iter()
                .map(|m| boot.intervals_of(m, metrics.as_slice(), base.named(m.algorithm())))
                .collect::<duality_core::Result<Vec<_>>>()
        })
        .map_err(value_error)?;
    all.iter().map(|iv| split(py, iv)).collect()
}

/// Probability of improvement `P(X > Y)` of each pair with its stratified
/// independent bootstrap interval: `(estimate, lo, hi)` per pair.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn eval_improvement_intervals<'py>(
    py: Python<'py>,
    names: Vec<String>,
    scores_x: Vec<PyReadonlyArray2<'py, f64>>,
    scores_y: Vec<PyReadonlyArray2<'py, f64>>,
    reps: i128,
    confidence: f64,
    method: &str,
    task_bootstrap: bool,
    seed_: i128,
) -> PyResult<Vec<(f64, f64, f64)>> {
    let boot = bootstrap(reps, 1, confidence, method, task_bootstrap, seed_)?;
    let mut pairs = Vec::with_capacity(names.len());
    for ((n, x), y) in names.iter().zip(&scores_x).zip(&scores_y) {
        pairs.push((
            matrix(&format!("{n}[0]"), x)?,
            matrix(&format!("{n}[1]"), y)?,
        ));
    }
    let seed_ = boot.params().seed;
    let out = py
        .detach(|| {
            names
                .iter()
                .zip(&pairs)
                .map(|(n, (x, y))| {
                    let params = BootstrapParams {
                        seed: Seeder::new(seed_).named(n).seed_for(0),
                        ..*boot.params()
                    };
                    StratifiedBootstrap::from_params(params)?.improvement(x, y)
                })
                .collect::<duality_core::Result<Vec<_>>>()
        })
        .map_err(value_error)?;
    Ok(out.iter().map(|i| (i.estimate, i.lo, i.hi)).collect())
}

/// Per algorithm the profile at `taus` and its `2 x len(taus)` pointwise CI.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn eval_performance_profile<'py>(
    py: Python<'py>,
    names: Vec<String>,
    scores: Vec<PyReadonlyArray2<'py, f64>>,
    taus: PyReadonlyArray1<'py, f64>,
    use_score_distribution: bool,
    reps: i128,
    confidence: f64,
    method: &str,
    task_bootstrap: bool,
    seed_: i128,
) -> PyResult<Vec<Estimates<'py>>> {
    let taus = slice1(&taus, "tau_list")?;
    let boot = bootstrap(reps, taus.len(), confidence, method, task_bootstrap, seed_)?;
    let kind = if use_score_distribution {
        ProfileKind::RunScore
    } else {
        ProfileKind::AverageScore
    };
    let mats = names
        .iter()
        .zip(&scores)
        .map(|(n, a)| matrix(n, a))
        .collect::<PyResult<Vec<_>>>()?;
    let profiles = py
        .detach(|| {
            mats.iter()
                .map(|m| performance_profile(m, taus, kind, &boot))
                .collect::<duality_core::Result<Vec<_>>>()
        })
        .map_err(value_error)?;
    profiles.iter().map(|p| split(py, &p.points)).collect()
}

/// AUROC of `scores` for boolean `labels` (ties count 1/2).
#[pyfunction]
fn eval_roc_auc(
    py: Python<'_>,
    labels: PyReadonlyArray1<'_, bool>,
    scores: PyReadonlyArray1<'_, f64>,
) -> PyResult<f64> {
    let (l, s) = (slice1(&labels, "y_true")?, slice1(&scores, "y_score")?);
    py.detach(|| ranking::auroc(l, s))
        .map_err(|e| value_error(format!("y_true (labels), y_score (scores): {e}")))
}

/// Average precision (scikit-learn's step-wise AUPRC).
#[pyfunction]
fn eval_average_precision(
    py: Python<'_>,
    labels: PyReadonlyArray1<'_, bool>,
    scores: PyReadonlyArray1<'_, f64>,
) -> PyResult<f64> {
    let (l, s) = (slice1(&labels, "y_true")?, slice1(&scores, "y_score")?);
    py.detach(|| ranking::average_precision(l, s))
        .map_err(|e| value_error(format!("y_true (labels), y_score (scores): {e}")))
}

/// DeLong's test: `(auroc_a, auroc_b, variance, z, p_value, ci_lo, ci_hi)`
/// with the Wald interval of the difference at `confidence`.
#[pyfunction]
fn eval_delong(
    py: Python<'_>,
    labels: PyReadonlyArray1<'_, bool>,
    scores_a: PyReadonlyArray1<'_, f64>,
    scores_b: PyReadonlyArray1<'_, f64>,
    confidence: f64,
) -> PyResult<(f64, f64, f64, f64, f64, f64, f64)> {
    let l = slice1(&labels, "y_true")?;
    let a = slice1(&scores_a, "y_score_a")?;
    let b = slice1(&scores_b, "y_score_b")?;
    let (d, ci) = py
        .detach(|| {
            let d = ranking::delong_test(l, a, b)?;
            let ci = d.difference_ci(confidence)?;
            Ok::<_, duality_core::Error>((d, ci))
        })
        .map_err(|e| {
            value_error(format!(
                "y_true (labels), y_score_a (scores_a), y_score_b (scores_b): {e}"
            ))
        })?;
    Ok((
        d.auroc_a, d.auroc_b, d.variance, d.z, d.p_value, ci.lo, ci.hi,
    ))
}

/// mlxtend's `mcnemar_table` from integer-coded labels:
/// `[[both correct, a correct & b wrong], [a wrong & b correct, both wrong]]`.
#[pyfunction]
fn eval_mcnemar_table<'py>(
    py: Python<'py>,
    y_target: PyReadonlyArray1<'py, i64>,
    y_model1: PyReadonlyArray1<'py, i64>,
    y_model2: PyReadonlyArray1<'py, i64>,
) -> PyResult<Bound<'py, PyArray2<i64>>> {
    let t = slice1(&y_target, "y_target")?;
    let a = slice1(&y_model1, "y_model1")?;
    let b = slice1(&y_model2, "y_model2")?;
    let tb = McNemarTable::from_predictions(t, a, b).map_err(value_error)?;
    let cells = [tb.both_correct, tb.only_a, tb.only_b, tb.both_wrong];
    let data = cells
        .iter()
        .map(|&c| i64::try_from(c).map_err(value_error))
        .collect::<PyResult<Vec<_>>>()?;
    array2(py, 2, 2, data)
}

/// Dietterich's (1998) 5x2cv paired t-test and Alpaydin's (1999) combined
/// 5x2cv F-test on the `(5, 2)` score differences of the ten fits (row `i`:
/// replication `i`, column `j`: fold `j`), by `duality_eval::classical`:
/// `(t, p_t, f, p_f)`. The refitting of the estimators is Python's
/// (`duality.eval.paired_ttest_5x2cv`).
#[pyfunction]
fn eval_five_by_two(
    py: Python<'_>,
    differences: PyReadonlyArray2<'_, f64>,
) -> PyResult<(f64, f64, f64, f64)> {
    let (data, rows, cols) = slice2(&differences, "differences")?;
    if (rows, cols) != (5, 2) {
        return Err(value_error(format!(
            "invalid differences shape = ({rows}, {cols}): expected (5, 2), \
             5 replications of 2 folds"
        )));
    }
    let d: Vec<[f64; 2]> = data.chunks_exact(2).map(|c| [c[0], c[1]]).collect();
    py.detach(|| {
        let t = paired_t_5x2cv(&d).map_err(value_error)?;
        let f = combined_f_5x2cv(&d).map_err(value_error)?;
        Ok((t.statistic, t.p_value, f.statistic, f.p_value))
    })
}

/// McNemar's test on a 2x2 table (mlxtend's layout):
/// `(chi2_corrected, p_corrected, chi2, p_chi2, p_exact, p_mid)`.
#[pyfunction]
fn eval_mcnemar(table: PyReadonlyArray2<'_, i64>) -> PyResult<(f64, f64, f64, f64, f64, f64)> {
    let (data, rows, cols) = slice2(&table, "ary")?;
    if (rows, cols) != (2, 2) {
        return Err(value_error(format!(
            "invalid ary shape = ({rows}, {cols}): expected a 2x2 contingency table"
        )));
    }
    let cell = |i: usize| {
        u64::try_from(data[i]).map_err(|_| {
            value_error(format!(
                "invalid ary[{}][{}] = {}: expected a count >= 0",
                i / 2,
                i % 2,
                data[i]
            ))
        })
    };
    let t = McNemarTable {
        both_correct: cell(0)?,
        only_a: cell(1)?,
        only_b: cell(2)?,
        both_wrong: cell(3)?,
    };
    let r = mcnemar(t).map_err(value_error)?;
    Ok((
        r.chi2_corrected,
        r.p_corrected,
        r.chi2,
        r.p_chi2,
        r.p_exact,
        r.p_mid,
    ))
}

/// BH conformal selection (Jin & Candes 2023): `(selected indices, p-values)`.
#[pyfunction]
fn eval_conformal_select<'py>(
    py: Python<'py>,
    calibration: PyReadonlyArray1<'py, f64>,
    test: PyReadonlyArray1<'py, f64>,
    q: f64,
) -> PyResult<Selected<'py>> {
    let cal = slice1(&calibration, "calibration_scores")?;
    let tst = slice1(&test, "test_scores")?;
    let sel = py
        .detach(|| conformal::conformal_select(cal, tst, q))
        .map_err(value_error)?;
    // Indices of the test array, which fit in an i64.
    let idx: Vec<i64> = sel.selected.iter().map(|&i| i as i64).collect();
    Ok((idx.into_pyarray(py), sel.p_values.into_pyarray(py)))
}

/// Jin & Candes' clipped scores for selecting outcomes above `threshold`:
/// `(calibration scores, test scores)`.
#[pyfunction]
fn eval_clipped_scores<'py>(
    py: Python<'py>,
    outcomes: PyReadonlyArray1<'py, f64>,
    calibration: PyReadonlyArray1<'py, f64>,
    test: PyReadonlyArray1<'py, f64>,
    threshold: f64,
) -> PyResult<ScorePair<'py>> {
    let y = slice1(&outcomes, "y_calib")?;
    let cal = slice1(&calibration, "mu_calib")?;
    let tst = slice1(&test, "mu_test")?;
    let (c, t) = conformal::ClippedScore::new(threshold)
        .and_then(|s| s.scores(y, cal, tst))
        .map_err(value_error)?;
    Ok((c.into_pyarray(py), t.into_pyarray(py)))
}
