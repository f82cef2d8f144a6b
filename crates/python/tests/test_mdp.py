"""duality.distdp.solve_mdp against value iteration written here in numpy."""

import numpy as np
import pytest

from duality.distdp import solve_mdp


def random_mdp(seed, a=3, s=6):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(s), size=(a, s))
    p[p < 0.05] = 0.0
    p /= p.sum(axis=2, keepdims=True)
    return p, rng.normal(size=(s, a))


def numpy_vi(p, r, gamma):
    v = np.zeros(p.shape[1])
    for _ in range(5000):
        q = r + gamma * np.einsum("ast,t->sa", p, v)
        v = q.max(axis=1)
    return v, q.argmax(axis=1)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("method", ["value_iteration", "policy_iteration", "lp"])
def test_solvers_match_numpy_value_iteration(seed, method):
    p, r = random_mdp(seed)
    v, pi = numpy_vi(p, r, 0.9)
    out = solve_mdp(p, r, 0.9, method=method)
    np.testing.assert_allclose(out["values"], v, atol=1e-7)
    np.testing.assert_array_equal(out["policy"], pi)
    assert out["policy"].dtype == np.int64
    if method == "lp":
        assert out["occupancy"].shape == (6, 3)


def test_transition_rewards_equal_state_action_rewards_when_constant():
    p, r = random_mdp(2)
    r3 = np.broadcast_to(r.T[:, :, None], p.shape)
    a = solve_mdp(p, r, 0.8)
    b = solve_mdp(p, r3, 0.8)
    np.testing.assert_allclose(a["values"], b["values"], atol=1e-12)


def test_bad_mdps():
    p, r = random_mdp(3)
    bad = p.copy()
    bad[1, 2, 0] += 0.5
    with pytest.raises(ValueError, match="sum|prob"):
        solve_mdp(bad, r, 0.9)
    with pytest.raises(ValueError, match="gamma|discount"):
        solve_mdp(p, r, 1.5)
    with pytest.raises(ValueError, match="reward"):
        solve_mdp(p, r.T, 0.9)
    with pytest.raises(ValueError, match="method"):
        solve_mdp(p, r, 0.9, method="magic")
    with pytest.raises(ValueError, match="transitions"):
        solve_mdp(p[0], r, 0.9)
    nan = p.copy()
    nan[0, 0, 0] = np.nan
    with pytest.raises(ValueError):
        solve_mdp(nan, r, 0.9)
    with pytest.raises(ValueError, match="max_iter"):
        solve_mdp(p, r, 0.9, max_iter=-2)
