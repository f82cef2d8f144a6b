"""duality.eval.conformal_select against the definitions computed here with
numpy (conformal p-values, Benjamini-Hochberg)."""

import numpy as np
import pytest

from duality.eval import conformal_select


def reference(cal, test, q):
    p = np.array([(1 + np.sum(cal < v)) / (len(cal) + 1) for v in test])
    m = len(p)
    order = np.argsort(p, kind="stable")
    ok = np.flatnonzero(p[order] <= q * np.arange(1, m + 1) / m)
    k = ok[-1] + 1 if len(ok) else 0
    return p, np.sort(np.flatnonzero(p <= (q * k / m))) if k else np.array([], dtype=np.int64)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_definition(seed):
    rng = np.random.default_rng(seed)
    cal = rng.normal(size=200)
    test = np.concatenate([rng.normal(size=80), rng.normal(-3, 1, size=20)])
    out = conformal_select(cal, test, q=0.1)
    p, sel = reference(cal, test, 0.1)
    np.testing.assert_allclose(out["p_values"], p, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(out["selected"], sel)
    assert out["selected"].dtype == np.int64


def test_clipped_scores_select_the_large_outcomes():
    rng = np.random.default_rng(5)
    x_cal, x_test = rng.normal(size=300), rng.normal(size=100)
    y_cal = x_cal + 0.3 * rng.normal(size=300)
    out = conformal_select(y_calib=y_cal, mu_calib=x_cal, mu_test=x_test, threshold=1.0, q=0.2)
    assert len(out["selected"]) > 0
    assert np.mean(x_test[out["selected"]]) > 1.0


def test_bad_conformal_input():
    with pytest.raises(ValueError, match="q"):
        conformal_select([0.1, 0.2], [0.3], q=1.5)
    with pytest.raises(ValueError, match="calibration"):
        conformal_select([], [0.3])
    with pytest.raises(ValueError, match="test scores"):
        conformal_select([0.1, 0.2], [np.nan])
    with pytest.raises(ValueError, match="outcomes|length"):
        conformal_select(y_calib=[1.0, 2.0], mu_calib=[1.0], mu_test=[0.0], threshold=1.0)
    with pytest.raises(ValueError, match="not both"):
        conformal_select([0.1], [0.2], y_calib=[1.0], mu_calib=[1.0], mu_test=[0.0], threshold=1.0)
