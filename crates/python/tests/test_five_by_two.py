"""`paired_ttest_5x2cv` and `combined_ftest_5x2cv` against mlxtend 0.25.0
(fixtures/python/five_by_two.json, made by fixtures/python/generate_5x2cv.py
with the same toy estimators, there with scikit-learn's bases for its
scorers). Needs neither mlxtend nor scikit-learn."""

import importlib.util
import json
import pathlib

import numpy as np
import pytest

from duality import eval as ev

ROOT = pathlib.Path(__file__).resolve().parents[3]
VECTORS = json.loads((ROOT / "fixtures" / "python" / "five_by_two.json").read_text())


class NearestCentroid:
    _estimator_type = "classifier"

    def fit(self, X, y):
        X, y = np.asarray(X, float), np.asarray(y)
        self.classes_ = np.unique(y)
        self.centroids_ = np.array([X[y == c].mean(axis=0) for c in self.classes_])
        return self

    def predict(self, X):
        X = np.asarray(X, float)
        d = ((X[:, None, :] - self.centroids_[None, :, :]) ** 2).sum(axis=2)
        return self.classes_[np.argmin(d, axis=1)]


class OneNN:
    _estimator_type = "classifier"

    def fit(self, X, y):
        self.X_, self.y_ = np.asarray(X, float), np.asarray(y)
        self.classes_ = np.unique(self.y_)
        return self

    def predict(self, X):
        X = np.asarray(X, float)
        d = ((X[:, None, :] - self.X_[None, :, :]) ** 2).sum(axis=2)
        return self.y_[np.argmin(d, axis=1)]


class LeastSquares:
    _estimator_type = "regressor"

    def __init__(self, ridge=0.0):
        self.ridge = ridge

    def fit(self, X, y):
        X = np.column_stack([np.ones(len(X)), np.asarray(X, float)])
        y = np.asarray(y, float)
        reg = self.ridge * np.eye(X.shape[1])
        reg[0, 0] = 0.0
        self.coef_ = np.linalg.solve(X.T @ X + reg, X.T @ y)
        return self

    def predict(self, X):
        X = np.column_stack([np.ones(len(X)), np.asarray(X, float)])
        return X @ self.coef_


def neg_mae(estimator, X, y):
    return -float(np.mean(np.abs(np.asarray(y, float) - estimator.predict(X))))


ESTIMATORS = {
    "NearestCentroid": NearestCentroid,
    "OneNN": OneNN,
    "LeastSquares": lambda: LeastSquares(0.0),
    "Ridge5": lambda: LeastSquares(5.0),
}
SCORERS = {None: None, "accuracy": "accuracy", "r2": "r2", "neg_mae": neg_mae}
HAVE_SKLEARN = importlib.util.find_spec("sklearn") is not None


def data(name):
    d = VECTORS[name]
    return np.array(d["X"]), np.array(d["y"])


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: f"{c['estimator1']}-{c['estimator2']}-{c['scoring']}-{c['random_seed']}")
def test_equals_mlxtend(case):
    if case["estimator1"] not in ESTIMATORS or case["estimator2"] not in ESTIMATORS:
        if not HAVE_SKLEARN:
            pytest.skip("scikit-learn estimators: scikit-learn is not installed in this venv")
        from sklearn.linear_model import LogisticRegression
        from sklearn.tree import DecisionTreeClassifier

        ESTIMATORS.update(
            LogisticRegression=LogisticRegression,
            DecisionTree=lambda: DecisionTreeClassifier(random_state=0, max_depth=3),
        )
    X, y = data(case["data"])
    args = dict(scoring=SCORERS[case["scoring"]], random_seed=case["random_seed"])
    e1, e2 = ESTIMATORS[case["estimator1"]], ESTIMATORS[case["estimator2"]]
    t, p = ev.paired_ttest_5x2cv(e1(), e2(), X, y, **args)
    f, pf = ev.combined_ftest_5x2cv(e1(), e2(), X, y, **args)
    assert isinstance(t, float) and isinstance(p, float)
    np.testing.assert_allclose([t, p, f, pf], [case["t"], case["p"], case["f"], case["p_f"]], rtol=1e-12, atol=1e-14)


def test_lists_and_same_seed_same_result():
    X, y = data("classification")
    a = ev.paired_ttest_5x2cv(NearestCentroid(), OneNN(), X.tolist(), y.tolist(), random_seed=1)
    b = ev.paired_ttest_5x2cv(NearestCentroid(), OneNN(), X, y, random_seed=1)
    assert a == b
    case = VECTORS["cases"][0]
    np.testing.assert_allclose(a, [case["t"], case["p"]], rtol=1e-12)


def test_bad_input_names_the_value():
    X, y = data("classification")
    with pytest.raises(ValueError, match=r"X has 61, y has 60"):
        ev.paired_ttest_5x2cv(NearestCentroid(), OneNN(), X, y[:-1])
    with pytest.raises(ValueError, match=r"random_seed = -1"):
        ev.paired_ttest_5x2cv(NearestCentroid(), OneNN(), X, y, random_seed=-1)
    with pytest.raises(TypeError, match=r"random_seed"):
        ev.paired_ttest_5x2cv(NearestCentroid(), OneNN(), X, y, random_seed="1")
    with pytest.raises(TypeError, match=r"scoring"):
        ev.paired_ttest_5x2cv(NearestCentroid(), OneNN(), X, y, scoring=3)
    with pytest.raises(TypeError, match=r"estimator1.*object"):
        ev.paired_ttest_5x2cv(object(), OneNN(), X, y)
    with pytest.raises(ValueError, match=r"number of samples = 1"):
        ev.paired_ttest_5x2cv(NearestCentroid(), OneNN(), X[:1], y[:1], scoring=neg_mae)
    with pytest.raises(ValueError, match=r"0-d"):
        ev.paired_ttest_5x2cv(NearestCentroid(), OneNN(), np.array(1.0), y)
    if not HAVE_SKLEARN:
        with pytest.raises(ValueError, match=r"scoring = 'f1'"):
            ev.paired_ttest_5x2cv(NearestCentroid(), OneNN(), X, y, scoring="f1")
    # A scorer returning NaN: the Rust statistic names the difference.
    with pytest.raises(ValueError, match=r"differences\[0\]"):
        ev.paired_ttest_5x2cv(NearestCentroid(), OneNN(), X, y, scoring=lambda e, X, y: float("nan"))
    with pytest.raises(TypeError, match=r"estimator1 in replication 0, fold 0"):
        ev.paired_ttest_5x2cv(NearestCentroid(), OneNN(), X, y, scoring=lambda e, X, y: "high")


def test_native_statistic_checks_its_shape():
    from duality import _native

    with pytest.raises(ValueError, match=r"differences shape = \(4, 2\)"):
        _native.eval_five_by_two(np.zeros((4, 2)))
    with pytest.raises(TypeError):
        _native.eval_five_by_two(np.zeros((5, 2), dtype=np.float32))
