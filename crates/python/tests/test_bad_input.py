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
    raises(ValueError, "rewards", bandits.ips, np.array([0.0, np.nan]), np.zeros(2, int), np.full(2, 0.5), np.full((2, 2, 1), 0.5))
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
    raises(ValueError, r"actions\[1\]", bandits.ips, np.zeros(2), np.array([0, 5]), np.full(2, 0.5), np.full((2, 2, 1), 0.5))
    raises(ValueError, "action", bandits.ips, np.zeros(2), np.array([0.0, 0.5]), np.full(2, 0.5), np.full((2, 2, 1), 0.5))
    raises(ValueError, r"pscores\[0\]", bandits.ips, np.zeros(2), np.zeros(2, int), np.array([0.0, 0.5]), np.full((2, 2, 1), 0.5))
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
