"""Evaluation statistics shaped like rliable, scikit-learn and mlxtend.

rliable users switch with::

    from duality.eval import get_interval_estimates
    points, cis = get_interval_estimates(score_dict, metrics=("iqm", "mean"), reps=50_000)

Scores are ``(num_runs, num_tasks)`` arrays, one per algorithm, as in
rliable. Bootstrap intervals are duality's stratified bootstrap (seeded,
bit-identical for any thread count); they estimate the same intervals as
rliable's but with a different random stream, so they agree within Monte
Carlo error, not digit for digit. Point estimates agree exactly.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _native
from ._convert import any_array, as_array, as_float, as_int

__all__ = [
    "aggregate_mean",
    "aggregate_median",
    "aggregate_iqm",
    "aggregate_optimality_gap",
    "probability_of_improvement",
    "get_interval_estimates",
    "create_performance_profile",
    "performance_profile",
    "roc_auc_score",
    "average_precision_score",
    "delong_test",
    "mcnemar_table",
    "mcnemar",
    "paired_ttest_5x2cv",
    "combined_ftest_5x2cv",
    "AdaStop",
    "conformal_select",
]

Scores = Any  # a (num_runs, num_tasks) array-like of numbers


def _scores(x: Scores, name: str) -> np.ndarray:
    return as_array(x, name, ndim=2)


def aggregate_mean(scores: Scores) -> float:
    """Mean over tasks of the per-task mean over runs (rliable's ``aggregate_mean``)."""
    return _native.eval_aggregate("mean", _scores(scores, "scores"))


def aggregate_median(scores: Scores) -> float:
    """Median over tasks of the per-task mean over runs (rliable's ``aggregate_median``)."""
    return _native.eval_aggregate("median", _scores(scores, "scores"))


def aggregate_iqm(scores: Scores) -> float:
    """Interquartile mean of all runs x tasks scores: the 25% trimmed mean,
    ``scipy.stats.trim_mean(scores, 0.25, axis=None)`` (rliable's ``aggregate_iqm``)."""
    return _native.eval_aggregate("iqm", _scores(scores, "scores"))


def aggregate_optimality_gap(scores: Scores, gamma: float = 1) -> float:
    """``gamma - mean(min(scores, gamma))`` (rliable's ``aggregate_optimality_gap``)."""
    return _native.eval_aggregate(
        "optimality_gap", _scores(scores, "scores"), as_float(gamma, "gamma")
    )


def probability_of_improvement(scores_x: Scores, scores_y: Scores) -> float:
    """``P(X > Y)``: the mean over tasks of the Mann-Whitney ``U / (n_x n_y)``
    (ties count 1/2), rliable's ``probability_of_improvement``. The two
    matrices need the same tasks but may have different numbers of runs."""
    return _native.eval_probability_of_improvement(
        _scores(scores_x, "scores_x"), _scores(scores_y, "scores_y")
    )


# rliable's aggregate functions stand for their metric names, so that
# ``metrics=(aggregate_iqm, aggregate_mean)`` works like the strings.
_METRIC_OF: Dict[Callable[..., float], str] = {
    aggregate_mean: "mean",
    aggregate_median: "median",
    aggregate_iqm: "iqm",
    aggregate_optimality_gap: "optimality_gap",
}

MetricLike = Union[str, Callable[..., float]]


def _metric_names(metrics: Union[MetricLike, Sequence[MetricLike]]) -> Tuple[list, bool]:
    """Metric names and whether the request is probability of improvement."""
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    names = []
    for m in metrics:
        if m is probability_of_improvement or m == "probability_of_improvement":
            names.append("probability_of_improvement")
        elif callable(m):
            if m not in _METRIC_OF:
                raise TypeError(
                    f"metrics: {getattr(m, '__name__', m)!r} is not one of duality's aggregates; "
                    "pass names ('iqm', 'mean', 'median', 'optimality_gap') or "
                    "duality.eval.aggregate_* functions"
                )
            names.append(_METRIC_OF[m])
        elif isinstance(m, str):
            names.append(m)
        else:
            raise TypeError(f"metrics: expected metric names, got {m!r}")
    if not names:
        raise ValueError("metrics: expected at least one metric, got none")
    poi = "probability_of_improvement" in names
    if poi and len(names) > 1:
        raise ValueError(
            "metrics: probability_of_improvement cannot be combined with other metrics"
        )
    return names, poi


def _confidence(confidence_interval_size: float, confidence: Optional[float]) -> float:
    if confidence is not None:
        return as_float(confidence, "confidence")
    return as_float(confidence_interval_size, "confidence_interval_size")


def _check_dict(score_dict: Mapping[str, Any], name: str = "score_dict") -> None:
    if not isinstance(score_dict, Mapping):
        raise TypeError(f"{name}: expected a dict of score arrays, got {type(score_dict).__name__}")
    if not score_dict:
        raise ValueError(f"{name}: expected at least one algorithm, got an empty dict")


def get_interval_estimates(
    score_dict: Mapping[str, Any],
    metrics: Union[MetricLike, Sequence[MetricLike]] = ("iqm", "mean", "median", "optimality_gap"),
    reps: int = 50_000,
    confidence_interval_size: float = 0.95,
    method: str = "percentile",
    task_bootstrap: bool = False,
    seed: int = 0,
    gamma: float = 1.0,
    confidence: Optional[float] = None,
) -> Tuple[Dict[str, np.ndarray], Dict[str, np.ndarray]]:
    """Point estimates and stratified-bootstrap confidence intervals, shaped as
    rliable's ``get_interval_estimates``.

    Args:
        score_dict: ``{algorithm: (num_runs, num_tasks) scores}``; for
            ``metrics="probability_of_improvement"``, ``{pair name: (scores_x,
            scores_y)}`` as in rliable.
        metrics: metric names (``iqm``, ``mean``, ``median``,
            ``optimality_gap``) or the ``aggregate_*`` functions of this module;
            this replaces rliable's ``func``.
        reps: bootstrap replicates (>= 1).
        confidence_interval_size: coverage in (0, 1) (``confidence`` is an alias).
        method: ``percentile``, ``basic``, ``bc`` or ``bca``.
        task_bootstrap: also resample tasks (not with probability of improvement
            pairs in rliable; here it resamples tasks jointly for both).
        seed: master seed; each algorithm gets its own stream derived from its
            name, so adding an algorithm leaves the others' intervals unchanged.
        gamma: threshold of the optimality gap.

    Returns:
        ``(point_estimates, interval_estimates)``: per algorithm an array of
        shape ``(len(metrics),)`` and one of shape ``(2, len(metrics))`` (lower
        bounds in row 0, upper bounds in row 1).
    """
    _check_dict(score_dict)
    names, poi = _metric_names(metrics)
    conf = _confidence(confidence_interval_size, confidence)
    reps_ = as_int(reps, "reps")
    seed_ = as_int(seed, "seed")
    keys = [str(k) for k in score_dict]
    if poi:
        xs, ys = [], []
        for k, v in score_dict.items():
            if isinstance(v, np.ndarray) or len(v) != 2:
                raise ValueError(
                    f"score_dict[{k!r}]: probability_of_improvement needs a pair (scores_x, scores_y)"
                )
            xs.append(_scores(v[0], f"score_dict[{k!r}][0]"))
            ys.append(_scores(v[1], f"score_dict[{k!r}][1]"))
        out = _native.eval_improvement_intervals(
            keys, xs, ys, reps_, conf, method, bool(task_bootstrap), seed_
        )
        points = {k: np.array([e]) for k, (e, _, _) in zip(keys, out)}
        cis = {k: np.array([[lo], [hi]]) for k, (_, lo, hi) in zip(keys, out)}
        return points, cis
    arrays = [_scores(v, f"score_dict[{k!r}]") for k, v in score_dict.items()]
    out = _native.eval_interval_estimates(
        keys,
        arrays,
        names,
        as_float(gamma, "gamma"),
        reps_,
        conf,
        method,
        bool(task_bootstrap),
        seed_,
    )
    points = {k: p for k, (p, _) in zip(keys, out)}
    cis = {k: c for k, (_, c) in zip(keys, out)}
    return points, cis


def create_performance_profile(
    score_dict: Mapping[str, Any],
    tau_list: Any,
    use_score_distribution: bool = True,
    method: str = "percentile",
    task_bootstrap: bool = False,
    reps: int = 2000,
    confidence_interval_size: float = 0.95,
    seed: int = 0,
) -> Tuple[Dict[str, np.ndarray], Dict[str, np.ndarray]]:
    """Performance profiles with pointwise bootstrap CIs, shaped as rliable's
    ``create_performance_profile``: per algorithm the fraction of scores
    (``use_score_distribution=True``: of all runs x tasks; otherwise of the
    per-task mean scores) strictly above each ``tau``, an array of shape
    ``(len(tau_list),)``, and its CI of shape ``(2, len(tau_list))``."""
    _check_dict(score_dict)
    taus = as_array(tau_list, "tau_list", ndim=1)
    keys = [str(k) for k in score_dict]
    arrays = [_scores(v, f"score_dict[{k!r}]") for k, v in score_dict.items()]
    out = _native.eval_performance_profile(
        keys,
        arrays,
        taus,
        bool(use_score_distribution),
        as_int(reps, "reps"),
        as_float(confidence_interval_size, "confidence_interval_size"),
        method,
        bool(task_bootstrap),
        as_int(seed, "seed"),
    )
    return {k: p for k, (p, _) in zip(keys, out)}, {k: c for k, (_, c) in zip(keys, out)}


performance_profile = create_performance_profile


def _binary_labels(y_true: Any, pos_label: Any = None) -> np.ndarray:
    """Boolean positives from binary labels. Without ``pos_label`` the larger
    of the two classes is positive (scikit-learn's rule for ``{0, 1}``,
    ``{-1, 1}`` and ``{False, True}``).

    A C-contiguous boolean array is used as it is (no copy); numeric labels
    are classified in linear time (min, max and two comparisons, no sort),
    and ``labels == positive`` is their one conversion."""
    y = any_array(y_true, "y_true")
    if y.ndim != 1:
        raise ValueError(f"y_true: expected a 1-D array, got shape {y.shape}")
    if y.dtype.kind == "O":
        raise TypeError("y_true: expected numeric or boolean labels, got dtype object")
    if y.dtype.kind == "c":
        raise TypeError(f"y_true: expected numeric or boolean labels, got dtype {y.dtype}")
    if y.dtype.kind == "b":
        if pos_label is None or (not isinstance(pos_label, str) and pos_label == 1):
            return np.ascontiguousarray(y)
        if not isinstance(pos_label, str) and pos_label == 0:
            return np.ascontiguousarray(~y)
        raise ValueError(f"invalid pos_label = {pos_label!r}: not one of the labels [False, True]")
    if y.dtype.kind == "f" and y.size and not np.isfinite(y).all():
        bad = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(f"invalid y_true[{bad}] = {y[bad]}: expected a finite label")
    if y.dtype.kind in "iuf":
        if y.size == 0:
            return np.zeros(0, dtype=bool)  # the Rust side names the empty input
        lo, hi = y.min(), y.max()
        is_hi = y == hi
        count = int(np.count_nonzero(is_hi)) + (int(np.count_nonzero(y == lo)) if lo != hi else 0)
        if count != y.size:
            classes = np.unique(y)
            raise ValueError(
                f"y_true: expected binary labels, got {len(classes)} classes {classes[:5].tolist()}"
            )
        classes = np.array([lo, hi]) if lo != hi else np.array([hi])
        if pos_label is None:
            if len(classes) == 2 or hi == 1:
                return is_hi
            return y == 1
    else:
        classes = np.unique(y)
        if len(classes) > 2:
            raise ValueError(
                f"y_true: expected binary labels, got {len(classes)} classes {classes[:5].tolist()}"
            )
        if pos_label is None:
            return np.ascontiguousarray(y == classes[-1]) if len(classes) == 2 else np.zeros(y.shape, bool)
    if len(classes) == 2 and not np.any(classes == pos_label):
        # scikit-learn: "pos_label=1 is not a valid label" (e.g. string labels).
        raise ValueError(
            f"invalid pos_label = {pos_label!r}: not one of the labels {classes.tolist()}"
        )
    return np.ascontiguousarray(y == pos_label)


def _no_weights(sample_weight: Any) -> None:
    if sample_weight is not None:
        raise ValueError("sample_weight: weighted scores are not supported (pass None)")


def roc_auc_score(
    y_true: Any,
    y_score: Any,
    *,
    average: Optional[str] = "macro",
    sample_weight: Any = None,
    max_fpr: Optional[float] = None,
) -> float:
    """Area under the ROC curve of binary labels, ties counting 1/2
    (scikit-learn's ``roc_auc_score`` for binary ``y_true``; ``average`` is
    accepted and ignored there too). Needs both classes."""
    _no_weights(sample_weight)
    if max_fpr is not None:
        raise ValueError(f"max_fpr = {max_fpr!r}: partial AUC is not supported (pass None)")
    labels = _binary_labels(y_true)
    return _native.eval_roc_auc(labels, as_array(y_score, "y_score", ndim=1))


def average_precision_score(
    y_true: Any,
    y_score: Any,
    *,
    average: Optional[str] = "macro",
    pos_label: Any = 1,
    sample_weight: Any = None,
) -> float:
    """Average precision, ``sum_n (R_n - R_{n-1}) P_n`` over score thresholds
    (scikit-learn's ``average_precision_score`` for binary ``y_true``)."""
    _no_weights(sample_weight)
    labels = _binary_labels(y_true, pos_label)
    return _native.eval_average_precision(labels, as_array(y_score, "y_score", ndim=1))


def delong_test(
    y_true: Any, y_score_a: Any, y_score_b: Any, confidence: float = 0.95
) -> Dict[str, float]:
    """DeLong's test (DeLong et al. 1988) that two scores of the same samples
    have equal AUROC. Returns a dict with ``auc_a``, ``auc_b``, ``variance``
    (of the difference), ``z``, ``p_value`` (two-sided) and ``ci`` (the Wald
    interval of ``auc_a - auc_b`` at ``confidence``)."""
    labels = _binary_labels(y_true)
    a = as_array(y_score_a, "y_score_a", ndim=1)
    b = as_array(y_score_b, "y_score_b", ndim=1)
    auc_a, auc_b, var, z, p, lo, hi = _native.eval_delong(
        labels, a, b, as_float(confidence, "confidence")
    )
    return {"auc_a": auc_a, "auc_b": auc_b, "variance": var, "z": z, "p_value": p, "ci": (lo, hi)}


def mcnemar_table(y_target: Any, y_model1: Any, y_model2: Any) -> np.ndarray:
    """mlxtend's ``mcnemar_table``: ``[[both right, 1 right & 2 wrong],
    [1 wrong & 2 right, both wrong]]`` as a 2x2 int array (labels of any kind)."""
    arrays = []
    for name, y in (("y_target", y_target), ("y_model1", y_model1), ("y_model2", y_model2)):
        a = any_array(y, name)
        if a.ndim != 1:
            raise ValueError(f"{name}: expected a 1-D array, got shape {a.shape}")
        arrays.append(a)
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise ValueError(
            f"y_target, y_model1, y_model2: lengths differ ({', '.join(str(len(a)) for a in arrays)})"
        )
    try:
        _, codes = np.unique(np.concatenate(arrays), return_inverse=True)
    except TypeError as e:
        raise TypeError(f"y_target, y_model1, y_model2: labels are not comparable: {e}") from None
    codes = codes.reshape(-1).astype(np.int64)
    n = len(arrays[0])
    return _native.eval_mcnemar_table(
        np.ascontiguousarray(codes[:n]),
        np.ascontiguousarray(codes[n : 2 * n]),
        np.ascontiguousarray(codes[2 * n :]),
    )


def mcnemar(ary: Any, corrected: bool = True, exact: bool = False) -> Tuple[Optional[float], float]:
    """McNemar's test on a 2x2 table, mlxtend's ``mcnemar``: ``(chi2, p)``;
    with ``exact=True``, ``(None, p)`` from the two-sided binomial test;
    ``corrected`` applies Edwards' continuity correction."""
    table = as_array(ary, "ary", ndim=2, dtype=np.int64)
    chi2_c, p_c, chi2, p_chi2, p_exact, _p_mid = _native.eval_mcnemar(table)
    if exact:
        return None, p_exact
    return (chi2_c, p_c) if corrected else (chi2, p_chi2)


def _estimator_type(estimator: Any) -> Optional[str]:
    """``"classifier"``, ``"regressor"`` or ``None``, as mlxtend infers it
    (scikit-learn's tags when sklearn imports, else ``_estimator_type``)."""
    try:
        from sklearn.utils import get_tags

        return get_tags(estimator).estimator_type
    except Exception:
        return getattr(estimator, "_estimator_type", None)


def _accuracy(estimator: Any, X: Any, y: Any) -> float:
    return float(np.mean(np.asarray(estimator.predict(X)) == np.asarray(y)))


def _r2(estimator: Any, X: Any, y: Any) -> float:
    # scikit-learn's r2_score, operation for operation (columns, axis-0 sums).
    y = np.asarray(y, dtype=float).reshape(-1, 1)
    pred = np.asarray(estimator.predict(X), dtype=float).reshape(-1, 1)
    ss_res = float(((y - pred) ** 2).sum(axis=0, dtype=np.float64)[0])
    ss_tot = float(((y - np.average(y, axis=0)) ** 2).sum(axis=0, dtype=np.float64)[0])
    if ss_tot == 0.0:  # scikit-learn's force_finite
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


_BUILTIN_SCORERS = {"accuracy": _accuracy, "r2": _r2}


def _scorer(scoring: Any, estimator1: Any, y_ndim: int) -> Callable[[Any, Any, Any], float]:
    """mlxtend's choice of scorer: ``None`` means accuracy for a classifier
    and R^2 for a regressor; a string is a scikit-learn scorer name; a
    callable is used as ``scorer(estimator, X, y)``. Accuracy and R^2 of a
    1-D target are computed here, as scikit-learn's ``accuracy_score`` and
    ``r2_score`` do (same operations, same digits), so they need neither
    scikit-learn nor scikit-learn's estimator tags; other names go to
    ``sklearn.metrics.get_scorer``."""
    if scoring is None:
        kind = _estimator_type(estimator1)
        if kind == "classifier":
            scoring = "accuracy"
        elif kind == "regressor":
            scoring = "r2"
        else:
            raise TypeError(
                f"estimator1: cannot infer the scoring of {type(estimator1).__name__} "
                f"(estimator type {kind!r}): give scoring= or a classifier or regressor"
            )
    if isinstance(scoring, str):
        if scoring in _BUILTIN_SCORERS and y_ndim == 1:
            return _BUILTIN_SCORERS[scoring]
        try:
            from sklearn.metrics import get_scorer
        except ImportError:
            raise ValueError(
                f"invalid scoring = {scoring!r}: without scikit-learn installed only "
                f"{sorted(_BUILTIN_SCORERS)} (1-D y) or a callable scorer(estimator, X, y) are available"
            ) from None
        try:
            return get_scorer(scoring)
        except (ValueError, KeyError) as e:
            raise ValueError(f"invalid scoring = {scoring!r}: {e}") from None
    if callable(scoring):
        return scoring
    raise TypeError(
        f"scoring: expected None, a string or a callable scorer(estimator, X, y), "
        f"got {scoring!r} ({type(scoring).__name__})"
    )


def _num_samples(x: Any, name: str) -> int:
    shape = getattr(x, "shape", None)
    if shape is not None:
        if len(shape) == 0:
            raise ValueError(f"{name}: expected an array of samples, got a 0-d array")
        return int(shape[0])
    try:
        return len(x)
    except TypeError:
        raise TypeError(f"{name}: expected an array-like of samples, got {type(x).__name__}") from None


def _take(x: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of ``x`` (pandas by position, arrays and sparse
    matrices by fancy indexing, lists element by element), as
    scikit-learn's ``train_test_split`` returns them."""
    if hasattr(x, "iloc"):
        return x.iloc[idx]
    if hasattr(x, "shape"):
        return x[idx]
    return [x[i] for i in idx]


def _five_by_two_differences(
    estimator1: Any, estimator2: Any, X: Any, y: Any, scoring: Any, random_seed: Any
) -> np.ndarray:
    """The ``(5, 2)`` score differences of Dietterich's 5x2cv design, with
    mlxtend 0.25's splits: replication ``i`` draws ``randint(0, 32767)`` from
    ``RandomState(random_seed)`` and splits as scikit-learn's
    ``train_test_split(test_size=0.5, random_state=that)`` (a permutation of
    ``RandomState(that)``: the first ``ceil(n / 2)`` indices test, the rest
    train); fold 0 trains on the train half and scores on the test half,
    fold 1 the reverse. Both estimators are refitted in place."""
    n = _num_samples(X, "X")
    ny = _num_samples(y, "y")
    if n != ny:
        raise ValueError(f"X, y: numbers of samples differ (X has {n}, y has {ny})")
    if n < 2:
        raise ValueError(f"invalid number of samples = {n}: 5x2cv needs at least 2")
    if random_seed is not None:
        seed = as_int(random_seed, "random_seed")
        if not 0 <= seed < 2**32:
            raise ValueError(f"invalid random_seed = {seed}: expected an integer in 0..2**32 or None")
        random_seed = seed
    try:
        y_ndim = int(np.ndim(y))
    except Exception:
        y_ndim = 1
    scorer = _scorer(scoring, estimator1, y_ndim)
    rng = np.random.RandomState(random_seed)
    n_test = int(np.ceil(0.5 * n))

    def score(estimator: Any, name: str, x: Any, y_: Any, i: int, j: int) -> float:
        s = scorer(estimator, x, y_)
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, float, np.integer, np.floating)):
            raise TypeError(
                f"score of {name} in replication {i}, fold {j}: the scorer returned {s!r}, not a real number"
            )
        return float(s)

    def diff(x_fit: Any, y_fit: Any, x_score: Any, y_score: Any, i: int, j: int) -> float:
        estimator1.fit(x_fit, y_fit)
        estimator2.fit(x_fit, y_fit)
        return score(estimator1, "estimator1", x_score, y_score, i, j) - score(
            estimator2, "estimator2", x_score, y_score, i, j
        )

    out = np.empty((5, 2))
    for i in range(5):
        split_seed = rng.randint(low=0, high=32767)
        perm = np.random.RandomState(split_seed).permutation(n)
        test, train = perm[:n_test], perm[n_test:]
        x1, x2, y1, y2 = _take(X, train), _take(X, test), _take(y, train), _take(y, test)
        out[i, 0] = diff(x1, y1, x2, y2, i, 0)
        out[i, 1] = diff(x2, y2, x1, y1, i, 1)
    return out


def paired_ttest_5x2cv(
    estimator1: Any, estimator2: Any, X: Any, y: Any, scoring: Any = None, random_seed: Optional[int] = None
) -> Tuple[float, float]:
    """Dietterich's (1998) 5x2cv paired t-test, mlxtend's
    ``paired_ttest_5x2cv``: ``(t, p)``.

    Five times, ``X, y`` are split in two halves; each estimator is fitted
    on one half and scored on the other, both ways round, giving the
    differences ``d_ij`` (estimator1 minus estimator2). Then
    ``t = d_11 / sqrt(sum_i s_i^2 / 5)`` with ``s_i^2 = sum_j (d_ij -
    mean_i)^2`` (Dietterich 1998, Neural Computation 10(7), eq. 7.2 / the
    5x2cv t~), two-sided p from Student's t with 5 d.f.; the statistic is
    ``duality_eval::classical::paired_t_5x2cv`` in Rust.

    The splits equal mlxtend 0.25's for the same ``random_seed`` (an int
    or ``None`` for fresh entropy, as there), so ``(t, p)`` equal mlxtend's
    for deterministic estimators. ``scoring``: ``None`` (accuracy for
    classifiers, R^2 for regressors), a scikit-learn scorer name, or a
    callable ``scorer(estimator, X, y)``. ``X`` and ``y`` may be arrays,
    lists, sparse matrices or pandas objects; the estimators are any
    objects with scikit-learn's ``fit`` / ``predict``.
    """
    d = _five_by_two_differences(estimator1, estimator2, X, y, scoring, random_seed)
    t, p, _f, _pf = _native.eval_five_by_two(d)
    return float(t), float(p)


def combined_ftest_5x2cv(
    estimator1: Any, estimator2: Any, X: Any, y: Any, scoring: Any = None, random_seed: Optional[int] = None
) -> Tuple[float, float]:
    """Alpaydin's (1999) combined 5x2cv F-test, mlxtend's
    ``combined_ftest_5x2cv``: ``(f, p)`` with ``f = sum_ij d_ij^2 / (2
    sum_i s_i^2)`` ~ F(10, 5), on the same splits and differences as
    :func:`paired_ttest_5x2cv`."""
    d = _five_by_two_differences(estimator1, estimator2, X, y, scoring, random_seed)
    _t, _p, f, pf = _native.eval_five_by_two(d)
    return float(f), float(pf)


def conformal_select(
    calibration_scores: Any = None,
    test_scores: Any = None,
    q: float = 0.1,
    *,
    y_calib: Any = None,
    mu_calib: Any = None,
    mu_test: Any = None,
    threshold: Optional[float] = None,
) -> Dict[str, np.ndarray]:
    """Conformal selection with FDR control (Jin & Candes 2023, Algorithm 1):
    conformal p-values ``(1 + #{V_i < V_j}) / (n + 1)`` of the test scores
    against the calibration scores (smaller score = more likely selected),
    then Benjamini-Hochberg at level ``q``.

    Give either the scores, or labelled outcomes with predictions
    (``y_calib``, ``mu_calib``, ``mu_test``) and ``threshold`` ``c`` to
    select test points with ``Y > c`` through the clipped score
    ``V = M 1{y > c} + c 1{y <= c} - mu`` (J&C eq. 7).

    Returns ``{"selected": int64 indices of test points, "p_values": array}``.
    """
    if threshold is not None:
        if calibration_scores is not None or test_scores is not None:
            raise ValueError("conformal_select: give scores or (y_calib, mu_calib, mu_test, threshold), not both")
        cal, tst = _native.eval_clipped_scores(
            as_array(y_calib, "y_calib", ndim=1),
            as_array(mu_calib, "mu_calib", ndim=1),
            as_array(mu_test, "mu_test", ndim=1),
            as_float(threshold, "threshold"),
        )
    else:
        if calibration_scores is None or test_scores is None:
            raise ValueError("conformal_select: calibration_scores and test_scores are required")
        cal = as_array(calibration_scores, "calibration_scores", ndim=1)
        tst = as_array(test_scores, "test_scores", ndim=1)
    selected, p_values = _native.eval_conformal_select(cal, tst, as_float(q, "q"))
    return {"selected": selected, "p_values": p_values}


class AdaStop:
    """AdaStop (Mathieu et al. 2023): a group-sequential permutation test that
    compares agents stage by stage and says when to stop running them.

    Each stage, feed ``n`` new evaluation values of every agent in
    :attr:`agents_to_run` (``partial_compare``, named like the ``adastop``
    package's method); after at most ``K`` stages every comparison is decided
    (``larger``, ``smaller`` or ``equal``). ``B`` permutations, level
    ``alpha``; ``variant="adastop-0.1.3"`` reproduces the Python package's
    decisions, the default is duality's two-sided test (see duality-eval's
    ``adastop`` docs). The state is resumable: ``to_json()`` then
    ``AdaStop.from_json(text)``.
    """

    def __init__(
        self,
        agents: Sequence[str],
        n: Union[int, Sequence[int]] = 5,
        K: int = 5,
        B: int = 10_000,
        alpha: float = 0.05,
        seed: int = 0,
        comparisons: Optional[Sequence[Tuple[Any, Any]]] = None,
        variant: str = "duality",
    ) -> None:
        names = [str(a) for a in agents]
        group_sizes = None
        if not isinstance(n, (int, np.integer)):
            group_sizes = [as_int(g, "n") for g in n]
            n_ = max(group_sizes) if group_sizes else 1
        else:
            n_ = as_int(n, "n")
        pairs = None
        if comparisons is not None:
            pairs = [(self._index(names, i), self._index(names, j)) for i, j in comparisons]
        self._native = _native.AdaStop(
            names,
            n_,
            as_int(K, "K"),
            as_float(alpha, "alpha"),
            as_int(B, "B"),
            as_int(seed, "seed"),
            pairs,
            group_sizes,
            str(variant),
        )

    @staticmethod
    def _index(names: Sequence[str], agent: Any) -> int:
        if isinstance(agent, (int, np.integer)) and not isinstance(agent, bool):
            return int(agent)
        if str(agent) not in names:
            raise ValueError(f"comparisons: unknown agent {agent!r}; agents are {list(names)}")
        return list(names).index(str(agent))

    @classmethod
    def from_json(cls, text: str) -> "AdaStop":
        """A study resumed from :meth:`to_json`."""
        self = cls.__new__(cls)
        self._native = _native.AdaStop.from_json(str(text))
        return self

    def to_json(self) -> str:
        """The whole state (parameters, runs kept, decisions) as JSON."""
        return self._native.to_json()

    @property
    def agents(self) -> list:
        """Agent names."""
        return self._native.agents

    @property
    def agents_to_run(self) -> list:
        """Names of the agents that need runs in the next stage."""
        names = self._native.agents
        return [names[i] for i in self._native.agents_to_run]

    @property
    def is_finished(self) -> bool:
        """Whether every comparison is decided."""
        return self._native.is_finished

    @property
    def stage(self) -> int:
        """Stages processed so far."""
        return self._native.stage

    @property
    def decisions(self) -> Dict[Tuple[str, str], str]:
        """``{(agent, other): "continue" | "larger" | "smaller" | "equal"}``."""
        return {(o["agent"], o["other"]): o["decision"] for o in self._native.outcomes()}

    def outcomes(self) -> list:
        """Per comparison: ``agent``, ``other``, ``decision``, ``statistic``."""
        return self._native.outcomes()

    def partial_compare(self, eval_values: Union[Mapping[str, Any], Sequence[Any]]) -> Dict[Tuple[str, str], str]:
        """Processes one stage: ``eval_values[agent]`` holds the agent's new
        runs (agents not in :attr:`agents_to_run` may be left out). Returns
        :attr:`decisions`."""
        names = self._native.agents
        if isinstance(eval_values, Mapping):
            unknown = [k for k in eval_values if str(k) not in names]
            if unknown:
                raise ValueError(f"eval_values: unknown agents {unknown}; agents are {names}")
            values = {str(k): v for k, v in eval_values.items()}
            batch = [values.get(a, ()) for a in names]
        else:
            batch = list(eval_values)
        arrays = [as_array(v, f"eval_values[{a!r}]", ndim=1) for a, v in zip(names, batch)]
        if len(arrays) != len(names):
            raise ValueError(f"eval_values: {len(arrays)} agents given, expected {len(names)}")
        self._native.update(arrays)
        return self.decisions

    update = partial_compare

    def __repr__(self) -> str:
        return f"AdaStop(agents={self.agents}, stage={self.stage}, finished={self.is_finished})"
