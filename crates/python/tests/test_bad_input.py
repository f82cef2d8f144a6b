"""Bad input raises a Python exception naming the value; nothing crashes
the interpreter (issue #23, "Bad input")."""

import numpy as np
import pytest

from duality import bandits, combopt, distdp
from duality import eval as ev

GOOD = np.arange(12, dtype=float).reshape(4, 3) / 10


def raises(exc, match, fn, *args, **kwargs):
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)


# ----------------------------------------------------------------- dtypes


@pytest.mark.parametrize(
    "bad",
    [
        np.array([[1.0, "a"]], dtype=object),
        np.array([["1", "2"], ["3", "4"]]),
        np.array([[1 + 2j, 3]]),
        [["a", "b"]],
    ],
)
def test_object_string_and_complex_arrays_are_type_errors(bad):
    raises(TypeError, "scores", ev.aggregate_iqm, bad)
    raises(TypeError, "score_dict", ev.get_interval_estimates, {"x": bad}, reps=10)
    raises(TypeError, "cost_matrix", combopt.linear_sum_assignment, bad)
    raises(TypeError, "points", combopt.solve_tsp, bad)
    raises(TypeError, "y_score", ev.roc_auc_score, [0, 1], np.asarray(bad).reshape(-1)[:2])


def test_non_numeric_scalars_are_type_errors():
    raises(TypeError, "reps", ev.get_interval_estimates, {"a": GOOD}, reps="100")
    raises(TypeError, "reps", ev.get_interval_estimates, {"a": GOOD}, reps=1.5)
    raises(TypeError, "gamma", ev.aggregate_optimality_gap, GOOD, gamma="one")
    raises(TypeError, "seed", combopt.solve_tsp, np.random.rand(5, 2), seed=None)
    raises(TypeError, "s0", distdp.price_bermudan_put, s0="36")
    raises(TypeError, "score_dict", ev.get_interval_estimates, [GOOD], reps=10)


# ------------------------------------------------------------------ shapes


@pytest.mark.parametrize("bad", [np.array(3.0), np.float64(3.0), 3.0, np.zeros(4), np.zeros((2, 2, 2))])
def test_wrong_dimensions_including_0d_are_value_errors(bad):
    raises(ValueError, "scores.*-D", ev.aggregate_mean, bad)
    raises(ValueError, "cost_matrix.*-D", combopt.linear_sum_assignment, bad)


def test_0d_labels_and_scores():
    raises(ValueError, "y_true", ev.roc_auc_score, np.array(1), np.array(0.5))
    raises(ValueError, "y_score", ev.roc_auc_score, [0, 1], np.array(0.5))
    raises(ValueError, "tau_list", ev.create_performance_profile, {"a": GOOD}, 0.5, reps=10)


def test_ragged_lists_are_value_errors():
    ragged = [[1.0, 2.0], [3.0]]
    raises(ValueError, "scores", ev.aggregate_iqm, ragged)
    raises(ValueError, "cost_matrix", combopt.linear_sum_assignment, ragged)
    raises(ValueError, "score_dict", ev.get_interval_estimates, {"a": ragged}, reps=10)
    raises(ValueError, "data", combopt.hypervolume, ragged, [3, 3])


def test_mismatched_shapes_are_value_errors():
    raises(ValueError, "tasks", ev.probability_of_improvement, np.zeros((3, 2)), np.zeros((3, 4)))
    raises(ValueError, "length|y_true|scores", ev.roc_auc_score, [0, 1, 1], [0.1, 0.2])
    raises(ValueError, "ref|length", combopt.hypervolume, [[1.0, 2.0]], [3.0, 3.0, 3.0])
    raises(ValueError, "points", combopt.solve_tsp, np.zeros((5, 3)))
    raises(ValueError, "matrix\\[0\\]\\[1\\]|symmetric", combopt.solve_tsp, distances=np.arange(16.0).reshape(4, 4))
    n, k = 6, 3
    ad = np.full((n, k, 1), 1 / k)
    raises(ValueError, "reward|action", bandits.ips, np.zeros(n - 1), np.zeros(n, int), np.full(n, 0.5), ad)
    raises(ValueError, "estimated_rewards_by_reg_model", bandits.dr, np.zeros(n), np.zeros(n, int), np.full(n, 0.5), ad, np.zeros((n, k + 1, 1)))
    raises(ValueError, "position", bandits.ips, np.zeros(n), np.zeros(n, int), np.full(n, 0.5), ad, np.zeros(n - 2, int))
    raises(ValueError, "lengths differ", ev.mcnemar_table, [1, 2], [1, 2], [1])
    raises(ValueError, "2x2", ev.mcnemar, np.ones((3, 2), int))


def test_empty_inputs_are_value_errors():
    raises(ValueError, "empty|0 runs", ev.aggregate_mean, np.zeros((0, 3)))
    raises(ValueError, "score_dict", ev.get_interval_estimates, {}, reps=10)
    raises(ValueError, "metrics", ev.get_interval_estimates, {"a": GOOD}, metrics=[], reps=10)


# --------------------------------------------------------------------- NaN


def test_nan_is_named():
    s = GOOD.copy()
    s[2, 1] = np.nan
    raises(ValueError, "run 2, task \"task_1\"", ev.aggregate_iqm, s)
    raises(ValueError, "run 2", ev.get_interval_estimates, {"algo": s}, reps=10)
    c = GOOD.copy()
    c[1, 2] = np.nan
    raises(ValueError, r"costs\[1\]\[2\]", combopt.linear_sum_assignment, c)
    raises(ValueError, "NaN|nan|scores", ev.roc_auc_score, [0, 1, 1], [0.1, np.nan, 0.3])
    raises(ValueError, "y_true", ev.roc_auc_score, [0, np.nan, 1], [0.1, 0.2, 0.3])
    p = np.random.rand(5, 2)
    p[3, 0] = np.inf
    raises(ValueError, r"coords\[3\]\[x\]", combopt.solve_tsp, p)
    raises(ValueError, r"reward\[1\] = NaN", bandits.ips, np.array([0.0, np.nan]), np.zeros(2, int), np.full(2, 0.5), np.full((2, 2, 1), 0.5))
    raises(ValueError, "gamma", ev.aggregate_optimality_gap, GOOD, gamma=float("nan"))
    raises(ValueError, "sigma", distdp.price_bermudan_put, sigma=float("nan"))


# ------------------------------------------------------------- bad values


def test_negative_and_absurd_counts_are_named():
    raises(ValueError, "reps = -5", ev.get_interval_estimates, {"a": GOOD}, reps=-5)
    raises(ValueError, "reps = 0", ev.get_interval_estimates, {"a": GOOD}, reps=0)
    raises(ValueError, "reps = -1", ev.create_performance_profile, {"a": GOOD}, [0.5], reps=-1)
    raises(ValueError, "reps", ev.get_interval_estimates, {"a,b": (GOOD, GOOD)}, metrics="probability_of_improvement", reps=-3)
    # Refused before allocating (a crash if it tried: Rust aborts on OOM).
    raises(ValueError, "reps = 1000000000000000", ev.get_interval_estimates, {"a": GOOD}, reps=10**15)
    raises(ValueError, "reps", ev.get_interval_estimates, {"a": GOOD}, reps=2**63 - 1)
    raises(ValueError, "too large|reps", ev.get_interval_estimates, {"a": GOOD}, reps=2**70)
    raises(ValueError, "paths", distdp.price_bermudan_put, paths=-10)
    raises(ValueError, "paths = 1000000000000", distdp.price_bermudan_put, paths=10**12)
    raises(ValueError, "steps", distdp.price_bermudan_put, method="binomial", steps=-1)
    raises(ValueError, "seed", combopt.solve_tsp, np.random.rand(5, 2), seed=-1)
    raises(ValueError, "k = 0", combopt.solve_tsp, np.random.rand(5, 2), k=0)


def test_bad_names_and_values():
    raises(ValueError, "confidence", ev.get_interval_estimates, {"a": GOOD}, reps=10, confidence_interval_size=1.5)
    raises(ValueError, "metric", ev.get_interval_estimates, {"a": GOOD}, metrics=["iqr"], reps=10)
    raises(ValueError, "interval method", ev.get_interval_estimates, {"a": GOOD}, reps=10, method="studentized")
    raises(TypeError, "metrics", ev.get_interval_estimates, {"a": GOOD}, metrics=[np.mean], reps=10)
    raises(ValueError, "bogus", combopt.solve_tsp, np.random.rand(5, 2), method="bogus")
    raises(ValueError, "number of cities", combopt.solve_tsp, np.random.rand(2, 2))
    raises(ValueError, "method", distdp.price_bermudan_put, method="quantum")
    raises(ValueError, "basis", distdp.price_bermudan_put, basis="fourier:3")
    raises(ValueError, "tau = -1", bandits.SwitchDoublyRobust(tau=-1.0).estimate_policy_value, np.zeros(2), np.zeros(2, int), np.full(2, 0.5), np.full((2, 2, 1), 0.5), np.zeros((2, 2, 1)))


def test_bad_labels_and_logs():
    raises(ValueError, "binary|classes", ev.roc_auc_score, [0, 1, 2], [0.1, 0.2, 0.3])
    raises(ValueError, "positive|negative|class", ev.roc_auc_score, [1, 1, 1], [0.1, 0.2, 0.3])
    raises(ValueError, r"action\[1\] = -1", bandits.ips, np.zeros(2), np.array([0, -1]), np.full(2, 0.5), np.full((2, 2, 1), 0.5))
    raises(ValueError, r"action\[1\] = 5", bandits.ips, np.zeros(2), np.array([0, 5]), np.full(2, 0.5), np.full((2, 2, 1), 0.5))
    raises(ValueError, "action", bandits.ips, np.zeros(2), np.array([0.0, 0.5]), np.full(2, 0.5), np.full((2, 2, 1), 0.5))
    raises(ValueError, r"pscore\[0\] = 0", bandits.ips, np.zeros(2), np.zeros(2, int), np.array([0.0, 0.5]), np.full((2, 2, 1), 0.5))
    raises(ValueError, "forbidden|infeasible|inf", combopt.linear_sum_assignment, np.full((2, 2), np.inf))
    raises(ValueError, r"ary\[0\]\[1\] = -1", ev.mcnemar, [[1, -1], [2, 3]])


# --------------------------------------------------------- contiguity


def test_non_contiguous_arrays_are_converted_once_not_refused():
    """A strided view (a slice, a transpose, Fortran order) is copied once
    into a C-contiguous array; results equal those on the contiguous copy."""
    rng = np.random.default_rng(0)
    big = rng.normal(size=(8, 10))
    view = big[::2, ::3]
    assert not view.flags["C_CONTIGUOUS"]
    assert ev.aggregate_iqm(view) == ev.aggregate_iqm(np.ascontiguousarray(view))
    f = np.asfortranarray(big)
    assert ev.aggregate_median(f) == ev.aggregate_median(big)
    y = (rng.random(40) > 0.5).astype(int)
    s = rng.normal(size=80)[::2]
    assert ev.roc_auc_score(y, s) == ev.roc_auc_score(y, s.copy())


def test_integer_and_bool_inputs_are_numbers():
    assert ev.aggregate_mean(np.ones((2, 2), dtype=np.int32)) == 1.0
    r, c = combopt.linear_sum_assignment(np.eye(3, dtype=bool), maximize=True)
    np.testing.assert_array_equal(c, [0, 1, 2])


def test_direct_native_calls_with_wrong_arrays_raise_not_crash():
    from duality import _native

    with pytest.raises(TypeError):
        _native.eval_aggregate("mean", np.zeros((2, 2), dtype=np.float32))
    with pytest.raises(TypeError):
        _native.eval_aggregate("mean", np.zeros((4, 4))[:, ::2])
    with pytest.raises(TypeError):
        _native.combopt_linear_sum_assignment("cost", False)


# ------------------------------------------- every array argument, swept

_RNG = np.random.default_rng(0)
_N, _K = 6, 3
_S = _RNG.random((4, 3))
_OPE = dict(
    reward=_RNG.random(_N),
    action=_RNG.integers(0, _K, _N),
    pscore=np.full(_N, 1 / _K),
    action_dist=np.full((_N, _K, 1), 1 / _K),
)
# name -> (function, good keyword arguments): each array argument in turn
# gets every bad value below, everything else stays good.
SWEEP = {
    "aggregate_iqm": (ev.aggregate_iqm, dict(scores=_S)),
    "probability_of_improvement": (ev.probability_of_improvement, dict(scores_x=_S, scores_y=_S + 0.1)),
    "get_interval_estimates": (lambda score_dict: ev.get_interval_estimates({"a": score_dict}, reps=10), dict(score_dict=_S)),
    "create_performance_profile": (
        lambda score_dict, tau_list: ev.create_performance_profile({"a": score_dict}, tau_list, reps=10),
        dict(score_dict=_S, tau_list=np.array([0.2, 0.5])),
    ),
    "roc_auc_score": (ev.roc_auc_score, dict(y_true=np.array([0, 1, 0, 1]), y_score=np.array([0.1, 0.4, 0.35, 0.8]))),
    "average_precision_score": (ev.average_precision_score, dict(y_true=np.array([0, 1, 0, 1]), y_score=np.array([0.1, 0.4, 0.35, 0.8]))),
    "delong_test": (
        ev.delong_test,
        dict(y_true=np.array([0, 1, 0, 1, 1]), y_score_a=np.array([0.1, 0.4, 0.35, 0.8, 0.7]), y_score_b=np.array([0.2, 0.3, 0.1, 0.9, 0.5])),
    ),
    "mcnemar": (ev.mcnemar, dict(ary=np.array([[3, 2], [1, 4]]))),
    "conformal_select": (ev.conformal_select, dict(calibration_scores=_RNG.random(10), test_scores=_RNG.random(5))),
    "ips": (bandits.ips, dict(_OPE)),
    "dr": (bandits.dr, dict(_OPE, estimated_rewards_by_reg_model=_RNG.random((_N, _K, 1)))),
    "dm": (bandits.dm, dict(action_dist=_OPE["action_dist"], estimated_rewards_by_reg_model=_RNG.random((_N, _K, 1)))),
    "linear_sum_assignment": (combopt.linear_sum_assignment, dict(cost_matrix=_RNG.random((4, 4)))),
    "solve_tsp": (combopt.solve_tsp, dict(points=_RNG.random((6, 2)))),
    "hypervolume": (combopt.hypervolume, dict(data=np.array([[1.0, 2.0], [2.0, 1.0]]), ref=np.array([3.0, 3.0]))),
    "solve_mdp": (distdp.solve_mdp, dict(transitions=np.full((2, 3, 3), 1 / 3), reward=_RNG.random((3, 2)), discount=0.9)),
}

# Variants that are valid input, not bad: fewer rows of a matrix (fewer runs,
# rounds or cities) and labels of any kind where the peer takes them too
# (scikit-learn's roc_auc_score takes string labels, the larger positive).
VALID = {
    ("aggregate_iqm", "scores", "truncated"),
    ("probability_of_improvement", "scores_x", "truncated"),
    ("probability_of_improvement", "scores_y", "truncated"),
    ("get_interval_estimates", "score_dict", "truncated"),
    ("create_performance_profile", "score_dict", "truncated"),
    ("create_performance_profile", "tau_list", "truncated"),
    ("roc_auc_score", "y_true", "string"),
    ("delong_test", "y_true", "string"),
    ("conformal_select", "calibration_scores", "truncated"),
    ("conformal_select", "test_scores", "truncated"),
    ("linear_sum_assignment", "cost_matrix", "truncated"),
    ("solve_tsp", "points", "truncated"),
    ("hypervolume", "data", "truncated"),
}

# Names the Rust side uses for an argument, besides the argument's own.
ALIASES = {
    "score_dict": {"score"},
    "tau_list": {"tau"},
    "cost_matrix": {"cost"},
    "y_true": {"labels", "pos_label"},
}


def _bad_variants(good):
    g = np.asarray(good)
    out = {
        "object": np.array(g.tolist(), dtype=object),
        "string": g.astype(str),
        "0d": np.array(1.0),
        "ragged": [[1.0, 2.0], [3.0]],
        "truncated": g[:-1],
    }
    if g.dtype.kind == "f":
        nan = g.copy()
        nan.flat[0] = np.nan
        out["nan"] = nan
    return out


def _sweep_cases():
    for fname, (fn, good) in SWEEP.items():
        for arg, value in good.items():
            if not isinstance(value, np.ndarray):
                continue
            for vname, bad in _bad_variants(value).items():
                if (fname, arg, vname) not in VALID:
                    yield pytest.param(fn, good, arg, bad, id=f"{fname}-{arg}-{vname}")


def test_sweep_good_inputs_run():
    for fname, (fn, good) in SWEEP.items():
        fn(**good)


@pytest.mark.parametrize("fn,good,arg,bad", list(_sweep_cases()))
def test_sweep_every_array_argument_refuses_bad_values_by_name(fn, good, arg, bad):
    """Object, string, 0-d, ragged, NaN and wrongly sized values of every
    array argument raise ValueError or TypeError (nothing else, no crash),
    and the message names the argument."""
    kwargs = dict(good)
    kwargs[arg] = bad
    with pytest.raises((ValueError, TypeError)) as info:
        fn(**kwargs)
    msg = str(info.value)
    names = {arg, arg.replace("_", " ")} | ALIASES.get(arg, set())
    assert any(n in msg for n in names), f"{arg} not named in: {msg}"
