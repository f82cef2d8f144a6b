"""Memory across the boundary (issue #23, item 4): no copy of an input
array beyond one contiguous conversion.

`tracemalloc` sees NumPy's array buffers and Python's objects (not the Rust
side's own working memory), so its peak during a call measures exactly the
copies the Python half makes: none for C-contiguous arrays of the dtype the
Rust side reads (they are borrowed), one for anything else.
"""

import tracemalloc

import numpy as np
import pytest

from duality import bandits, combopt
from duality import eval as ev


def traced_peak(fn, *args, **kwargs):
    fn(*args, **kwargs)  # warm-up: first-call imports and caches
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


RNG = np.random.default_rng(5)
N = 1_000_000  # 8 MB of float64


def borrowed_cases():
    scores = RNG.random((1000, 1000))
    labels = RNG.random(N) < 0.3
    y_score = RNG.random(N)
    n, k = 200_000, 5
    ope = dict(
        reward=RNG.random(n),
        action=RNG.integers(0, k, n),
        pscore=np.full(n, 1 / k),
        action_dist=np.full((n, k, 1), 1 / k),
        estimated_rewards_by_reg_model=RNG.random((n, k, 1)),
    )
    ope_bytes = sum(v.nbytes for v in ope.values())
    cost = RNG.random((300, 300))
    return [
        ("aggregate_iqm", lambda: ev.aggregate_iqm(scores), scores.nbytes),
        ("get_interval_estimates", lambda: ev.get_interval_estimates({"a": scores}, metrics="mean", reps=2), scores.nbytes),
        ("roc_auc_score", lambda: ev.roc_auc_score(labels, y_score), labels.nbytes + y_score.nbytes),
        ("average_precision_score", lambda: ev.average_precision_score(labels, y_score), labels.nbytes + y_score.nbytes),
        ("DoublyRobust", lambda: bandits.DoublyRobust().estimate_policy_value(**ope), ope_bytes),
        ("linear_sum_assignment", lambda: combopt.linear_sum_assignment(cost), cost.nbytes),
    ]


@pytest.mark.parametrize("name,call,input_bytes", borrowed_cases(), ids=lambda x: x if isinstance(x, str) else "")
def test_c_contiguous_inputs_are_borrowed_not_copied(name, call, input_bytes):
    peak = traced_peak(call)
    # Outputs and small Python objects only: far below one copy of the input.
    assert peak < 0.05 * input_bytes, f"{name}: traced peak {peak} bytes for {input_bytes} bytes of input"


def test_strided_input_is_converted_exactly_once():
    big = RNG.random((2000, 1000))
    view = big[:, ::2]  # (2000, 500), not contiguous: 8 MB once made contiguous
    assert not view.flags["C_CONTIGUOUS"]
    one_copy = view.size * 8
    peak = traced_peak(ev.aggregate_iqm, view)
    assert 0.9 * one_copy <= peak < 1.5 * one_copy, f"traced peak {peak} for one copy of {one_copy} bytes"
    f = np.asfortranarray(RNG.random((1000, 1000)))
    peak = traced_peak(combopt.linear_sum_assignment, f[:300, :300])
    assert peak < 1.5 * 300 * 300 * 8


def test_integer_labels_make_one_boolean_conversion():
    y = (RNG.random(N) < 0.3).astype(np.int64)
    s = RNG.random(N)
    peak = traced_peak(ev.roc_auc_score, y, s)
    # `y == positive` is one bool array (N bytes); the classes are checked
    # in linear time without sorting or copying the labels.
    assert peak < 2.5 * N, f"traced peak {peak} for {N} int64 labels"


def _address(a):
    return a.__array_interface__["data"][0]


def test_ope_estimates_on_the_callers_buffers():
    """The Rust side's own copies are invisible to tracemalloc, so the OPE
    binding records the addresses it estimated on (`_ope_last_buffers`):
    C-contiguous float64 / int64 inputs are read in place, not copied into
    an owned log (issue #23: that copy cost a third of DR's speed-up)."""
    from duality import _native

    n, k = 50_000, 4
    reward = RNG.random(n)
    action = RNG.integers(0, k, n)  # int64
    pscore = np.full(n, 1 / k)
    dist = RNG.dirichlet(np.ones(k), n)[:, :, None]
    q = RNG.random((n, k, 1))
    for est in (bandits.DoublyRobust(), bandits.SwitchDoublyRobust(tau=2.0)):
        est.estimate_policy_value(reward=reward, action=action, pscore=pscore, action_dist=dist, estimated_rewards_by_reg_model=q)
        got = _native._ope_last_buffers()
        assert got == {
            "reward": _address(reward),
            "action": _address(action),
            "pscore": _address(pscore),
            "action_dist": _address(dist),
            "estimated_rewards_by_reg_model": _address(q),
        }, est
    # A 2-D (n_rounds, n_actions) action_dist is one slot: still borrowed.
    bandits.ips(reward, action, pscore, dist[:, :, 0])
    got = _native._ope_last_buffers()
    assert got["action_dist"] == _address(dist) and got["estimated_rewards_by_reg_model"] == 0
    assert got["action"] == _address(action) and got["reward"] == _address(reward)
    # Several slots: the (n, k) slice of each round's position is gathered
    # once (the one conversion), while the 1-D inputs stay borrowed.
    dist3 = np.repeat(dist, 3, axis=2)
    pos = RNG.integers(0, 3, n)
    bandits.ips(reward, action, pscore, dist3, pos)
    got = _native._ope_last_buffers()
    assert got["action_dist"] != _address(dist3) and got["reward"] == _address(reward)
    # int32 actions are converted once to int64 on the Python side.
    bandits.ips(reward, action.astype(np.int32), pscore, dist)
    assert _native._ope_last_buffers()["action"] != _address(action)
