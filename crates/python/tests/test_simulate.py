"""duality.bandits.simulate: regret curves from a config dict or TOML."""


import numpy as np
import pytest

from duality.bandits import simulate

CONFIG = {
    "horizon": 2000,
    "repetitions": 4,
    "seed": 3,
    "checkpoints": 10,
    "environment": {"kind": "bernoulli", "means": [0.9, 0.5, 0.3]},
    "policies": [{"kind": "ucb1"}, {"kind": "epsilon_greedy", "epsilon": 0.1}, {"kind": "thompson_beta"}],
}


def test_curves_shapes_and_determinism():
    out = simulate(CONFIG)
    assert out["horizon"] == 2000
    c = len(out["checkpoints"])
    assert out["checkpoints"][-1] == 2000
    assert list(out["policies"]) == ["ucb1", "eps-greedy(0.1)", "thompson-beta"]
    for name, p in out["policies"].items():
        assert p["pseudo_regret"].shape == (4, c)
        assert p["realised_regret"].shape == (4, c)
        assert p["pulls"].shape == (4, 3) and p["pulls"].dtype == np.int64
        assert np.all(p["pulls"].sum(axis=1) == 2000)
        assert np.all(np.diff(p["pseudo_regret"], axis=1) >= -1e-12)
    again = simulate(CONFIG)
    for name in out["policies"]:
        np.testing.assert_array_equal(out["policies"][name]["pseudo_regret"], again["policies"][name]["pseudo_regret"])
    # Thompson sampling's logarithmic regret beats a fixed 10% exploration rate.
    final = {n: p["pseudo_regret"][:, -1].mean() for n, p in out["policies"].items()}
    assert final["thompson-beta"] < final["eps-greedy(0.1)"]


def test_toml_text_gives_the_same_curves():
    toml = """
horizon = 2000
repetitions = 4
seed = 3
checkpoints = 10
[environment]
kind = "bernoulli"
means = [0.9, 0.5, 0.3]
[[policies]]
kind = "ucb1"
[[policies]]
kind = "epsilon_greedy"
epsilon = 0.1
[[policies]]
kind = "thompson_beta"
"""
    a, b = simulate(toml), simulate(CONFIG)
    for name in a["policies"]:
        np.testing.assert_array_equal(a["policies"][name]["pseudo_regret"], b["policies"][name]["pseudo_regret"])


def test_bad_configs_name_the_key():
    with pytest.raises(ValueError, match="horizonn"):
        simulate({**CONFIG, "horizonn": 5})
    with pytest.raises(ValueError, match="repetitions"):
        simulate({**CONFIG, "repetitions": 0})
    with pytest.raises(ValueError, match="policies"):
        simulate({**CONFIG, "policies": [{"kind": "ucb7"}]})
    with pytest.raises(ValueError, match="repetitions"):
        simulate({**CONFIG, "repetitions": 10**15})
    with pytest.raises(ValueError):
        simulate({**CONFIG, "horizon": -1})
    with pytest.raises(TypeError, match="config"):
        simulate(["horizon", 5])
    with pytest.raises(TypeError, match="config"):
        simulate({**CONFIG, "seed": object()})
    with pytest.raises(ValueError):
        simulate({**CONFIG, "environment": {"kind": "bernoulli", "means": [float("nan"), 0.5]}})
    with pytest.raises(ValueError):
        simulate("horizon = [")
