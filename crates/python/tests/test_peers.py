"""Optional: duality against the real peers, run live on fresh random data.

The peers live in their own venv (`cargo xtask peers`), not in the test
venv: each check sends its input as JSON to that venv's python
(`DUALITY_PEERS_PYTHON`, set by `cargo xtask test` when the venv exists)
and compares the answer with duality's, in this process. Without that
python, or without the peer module in it, each test reports itself
skipped (pytest -rs lists why), never passed.
"""

import json
import os
import subprocess

import numpy as np
import pytest

from duality import bandits, combopt
from duality import eval as ev

PEERS_PYTHON = os.environ.get("DUALITY_PEERS_PYTHON")
MISSING = 3  # exit code of a peer script whose module does not import


def peer(module, script, payload):
    """Runs `script` in the peers python with `data` (the payload) and
    returns its JSON `out`; skips when the peer is absent."""
    if not PEERS_PYTHON or not os.path.exists(PEERS_PYTHON):
        pytest.skip("peers venv absent (run `cargo xtask peers`; DUALITY_PEERS_PYTHON unset)")
    program = (
        "import json, sys\n"
        "import numpy as np\n"
        "try:\n"
        f"    import {module}\n"
        "except Exception as e:\n"
        "    print(e); sys.exit(3)\n"
        "data = json.load(sys.stdin)\n" + script + "\nprint(json.dumps(out))\n"
    )
    r = subprocess.run(
        [PEERS_PYTHON, "-c", program], input=json.dumps(payload), capture_output=True, text=True, timeout=600
    )
    if r.returncode == MISSING:
        pytest.skip(f"peer {module} does not import in the peers venv: {r.stdout.strip()[:200]}")
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_rliable_live():
    rng = np.random.default_rng(11)
    a, b = rng.normal(size=(8, 12)), rng.normal(0.3, 1, size=(6, 12))
    out = peer(
        "rliable",
        "from rliable import metrics\n"
        "a, b = np.array(data['a']), np.array(data['b'])\n"
        "out = [metrics.aggregate_iqm(a), metrics.aggregate_mean(a), metrics.aggregate_median(a),\n"
        "       metrics.aggregate_optimality_gap(a), metrics.probability_of_improvement(a, b)]\n"
        "out = [float(v) for v in out]",
        {"a": a.tolist(), "b": b.tolist()},
    )
    ours = [ev.aggregate_iqm(a), ev.aggregate_mean(a), ev.aggregate_median(a), ev.aggregate_optimality_gap(a), ev.probability_of_improvement(a, b)]
    np.testing.assert_allclose(ours, out, rtol=1e-12, atol=1e-12)


def test_sklearn_live():
    rng = np.random.default_rng(12)
    y = rng.integers(0, 2, 500)
    s = np.round(rng.normal(size=500) + y, 1)
    out = peer(
        "sklearn",
        "from sklearn.metrics import roc_auc_score, average_precision_score\n"
        "y, s = np.array(data['y']), np.array(data['s'])\n"
        "out = [float(roc_auc_score(y, s)), float(average_precision_score(y, s))]",
        {"y": y.tolist(), "s": s.tolist()},
    )
    assert ev.roc_auc_score(y, s) == pytest.approx(out[0], rel=1e-12)
    assert ev.average_precision_score(y, s) == pytest.approx(out[1], rel=1e-12)


def test_scipy_live():
    rng = np.random.default_rng(13)
    cost = rng.random((40, 55))
    out = peer(
        "scipy",
        "from scipy.optimize import linear_sum_assignment\n"
        "c = np.array(data['c'])\n"
        "r, k = linear_sum_assignment(c, maximize=True)\n"
        "out = [r.tolist(), k.tolist()]",
        {"c": cost.tolist()},
    )
    r, c = combopt.linear_sum_assignment(cost, maximize=True)
    assert r.tolist() == out[0] and c.tolist() == out[1]


def test_obp_live():
    rng = np.random.default_rng(14)
    n, k = 400, 5
    data = {
        "reward": rng.binomial(1, 0.3, n).astype(float).tolist(),
        "action": rng.integers(0, k, n).tolist(),
        "pscore": rng.uniform(0.1, 1.0, n).tolist(),
        "action_dist": rng.dirichlet(np.ones(k), n)[:, :, None].tolist(),
        "q": rng.random((n, k, 1)).tolist(),
    }
    out = peer(
        "obp",
        "from obp.ope import InverseProbabilityWeighting, DoublyRobust\n"
        "kw = dict(reward=np.array(data['reward']), action=np.array(data['action']),\n"
        "          pscore=np.array(data['pscore']), action_dist=np.array(data['action_dist']))\n"
        "out = [float(InverseProbabilityWeighting().estimate_policy_value(**kw)),\n"
        "       float(DoublyRobust().estimate_policy_value(estimated_rewards_by_reg_model=np.array(data['q']), **kw))]",
        data,
    )
    kw = dict(reward=data["reward"], action=data["action"], pscore=data["pscore"], action_dist=np.array(data["action_dist"]))
    assert bandits.InverseProbabilityWeighting().estimate_policy_value(**kw) == pytest.approx(out[0], rel=1e-12)
    assert bandits.DoublyRobust().estimate_policy_value(estimated_rewards_by_reg_model=np.array(data["q"]), **kw) == pytest.approx(out[1], rel=1e-12)


def test_mlxtend_live():
    rng = np.random.default_rng(15)
    y = rng.integers(0, 2, 300)
    m1 = np.where(rng.random(300) < 0.8, y, 1 - y)
    m2 = np.where(rng.random(300) < 0.7, y, 1 - y)
    out = peer(
        "mlxtend",
        "from mlxtend.evaluate import mcnemar, mcnemar_table\n"
        "tb = mcnemar_table(y_target=np.array(data['y']), y_model1=np.array(data['m1']), y_model2=np.array(data['m2']))\n"
        "out = [tb.tolist(), [float(v) for v in mcnemar(ary=tb)], float(mcnemar(ary=tb, exact=True)[1])]",
        {"y": y.tolist(), "m1": m1.tolist(), "m2": m2.tolist()},
    )
    tb = ev.mcnemar_table(y, m1, m2)
    assert tb.tolist() == out[0]
    np.testing.assert_allclose(ev.mcnemar(tb), out[1], rtol=1e-10)
    assert ev.mcnemar(tb, exact=True)[1] == pytest.approx(out[2], rel=1e-10)


def test_mlxtend_5x2cv_live():
    """paired_ttest_5x2cv / combined_ftest_5x2cv on fresh data: mlxtend
    refits a nearest-centroid and a 1-NN classifier (written there with
    scikit-learn's bases, which its scorers need), duality the same numpy
    estimators without them."""
    from test_five_by_two import NearestCentroid, OneNN

    rng = np.random.default_rng(16)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] - X[:, 2] + rng.normal(scale=0.7, size=80) > 0).astype(int)
    out = peer(
        "mlxtend",
        "from mlxtend.evaluate import paired_ttest_5x2cv, combined_ftest_5x2cv\n"
        "from sklearn.base import BaseEstimator, ClassifierMixin\n"
        "class NearestCentroid(ClassifierMixin, BaseEstimator):\n"
        "    def fit(self, X, y):\n"
        "        self.classes_ = np.unique(y)\n"
        "        self.centroids_ = np.array([X[y == c].mean(axis=0) for c in self.classes_])\n"
        "        return self\n"
        "    def predict(self, X):\n"
        "        d = ((X[:, None, :] - self.centroids_[None, :, :]) ** 2).sum(axis=2)\n"
        "        return self.classes_[np.argmin(d, axis=1)]\n"
        "class OneNN(ClassifierMixin, BaseEstimator):\n"
        "    def fit(self, X, y):\n"
        "        self.X_, self.y_ = X, y\n"
        "        self.classes_ = np.unique(y)\n"
        "        return self\n"
        "    def predict(self, X):\n"
        "        d = ((X[:, None, :] - self.X_[None, :, :]) ** 2).sum(axis=2)\n"
        "        return self.y_[np.argmin(d, axis=1)]\n"
        "X, y = np.array(data['X']), np.array(data['y'])\n"
        "out = list(paired_ttest_5x2cv(NearestCentroid(), OneNN(), X, y, random_seed=4))\n"
        "out += list(combined_ftest_5x2cv(NearestCentroid(), OneNN(), X, y, random_seed=4))",
        {"X": X.tolist(), "y": y.tolist()},
    )
    ours = list(ev.paired_ttest_5x2cv(NearestCentroid(), OneNN(), X, y, random_seed=4))
    ours += list(ev.combined_ftest_5x2cv(NearestCentroid(), OneNN(), X, y, random_seed=4))
    np.testing.assert_allclose(ours, out, rtol=1e-12, atol=1e-14)
