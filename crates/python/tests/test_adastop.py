"""duality.eval.AdaStop: stage-by-stage decisions and resumable state."""

import numpy as np
import pytest

from duality.eval import AdaStop


def stages(seed, means, n=5, k=6):
    rng = np.random.default_rng(seed)
    return [{f"agent{i}": rng.normal(m, 1.0, n) for i, m in enumerate(means)} for _ in range(k)]


def run(study, batches):
    for batch in batches:
        if study.is_finished:
            break
        study.partial_compare({a: v for a, v in batch.items() if a in study.agents_to_run})
    return study


def test_clear_difference_is_found_and_equal_agents_are_not_separated():
    study = run(AdaStop(["agent0", "agent1", "agent2"], n=5, K=6, B=5_000, seed=1), stages(0, [0.0, 3.0, 0.0]))
    d = study.decisions
    assert d[("agent0", "agent1")] == "smaller"
    assert d[("agent1", "agent2")] == "larger"
    assert d[("agent0", "agent2")] in ("equal", "continue")
    assert study.is_finished or study.stage == 6
    assert all(o["decision"] in ("continue", "larger", "smaller", "equal") for o in study.outcomes())


def test_same_seed_same_decisions_and_json_resume_is_exact():
    batches = stages(3, [0.0, 0.4, 0.8], k=5)
    a = run(AdaStop(["agent0", "agent1", "agent2"], K=5, B=2_000, seed=7), batches)
    half = run(AdaStop(["agent0", "agent1", "agent2"], K=5, B=2_000, seed=7), batches[:2])
    resumed = run(AdaStop.from_json(half.to_json()), batches[2:])
    assert a.decisions == resumed.decisions
    assert a.to_json() == resumed.to_json()


def test_package_variant_and_named_comparisons():
    study = AdaStop(["x", "y", "z"], K=3, B=1_000, comparisons=[("x", "y"), (0, 2)], variant="adastop-0.1.3")
    study.partial_compare({"x": np.zeros(5), "y": np.ones(5), "z": np.full(5, 0.5)})
    assert set(study.decisions) == {("x", "y"), ("x", "z")}


def test_bad_adastop_input():
    with pytest.raises(ValueError, match="number of agents"):
        AdaStop(["only"])
    with pytest.raises(ValueError, match="alpha"):
        AdaStop(["a", "b"], alpha=1.5)
    with pytest.raises(ValueError, match="K = -1"):
        AdaStop(["a", "b"], K=-1)
    with pytest.raises(ValueError, match="variant"):
        AdaStop(["a", "b"], variant="other")
    with pytest.raises(ValueError, match="unknown agent"):
        AdaStop(["a", "b"], comparisons=[("a", "c")])
    study = AdaStop(["a", "b"], n=5, K=2, B=500)
    with pytest.raises(ValueError, match="unknown agents"):
        study.partial_compare({"a": np.zeros(5), "q": np.zeros(5)})
    with pytest.raises(ValueError):
        study.partial_compare({"a": np.zeros(3), "b": np.zeros(5)})
    with pytest.raises(ValueError, match="NaN|finite|eval_values"):
        study.partial_compare({"a": np.full(5, np.nan), "b": np.zeros(5)})
    with pytest.raises(TypeError, match="eval_values"):
        study.partial_compare({"a": ["x"] * 5, "b": np.zeros(5)})
    with pytest.raises(ValueError, match="AdaStop state"):
        AdaStop.from_json("{not json")
