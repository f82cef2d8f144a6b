"""duality's Python API against vectors computed by rliable, scikit-learn,
scipy, obp, mlxtend and moocore (fixtures/python/generate.py). Needs only
numpy and pytest."""

import numpy as np
import pytest

import duality
from duality import bandits, combopt, distdp
from duality import eval as ev


def test_version_and_modules():
    assert isinstance(duality.__version__, str)
    for mod in (ev, combopt, bandits, distdp):
        assert mod.__doc__


# ---------------------------------------------------------------- rliable


def test_aggregates_match_rliable_exactly(vectors):
    for case in vectors["rliable"]:
        for method in ("percentile", "bca"):
            for name, scores in case["scores"].items():
                s = np.array(scores)
                ours = [ev.aggregate_iqm(s), ev.aggregate_mean(s), ev.aggregate_median(s), ev.aggregate_optimality_gap(s)]
                np.testing.assert_allclose(ours, case["points"][method][name], rtol=1e-12, atol=1e-12)
        for name, scores in case["scores"].items():
            assert ev.aggregate_optimality_gap(scores, gamma=2.0) == pytest.approx(case["gap_gamma_2"][name], rel=1e-12)


@pytest.mark.parametrize("method,tol", [("percentile", 0.05), ("bca", 0.10)])
def test_interval_estimates_agree_with_rliable_within_monte_carlo_error(vectors, method, tol):
    """Different random streams: endpoints agree within `tol` x CI width
    (20,000 replicates each: the standard error of an endpoint is about 0.5%
    of the width, so 5% is ~7 standard errors of the difference)."""
    for case in vectors["rliable"]:
        score_dict = {k: np.array(v) for k, v in case["scores"].items()}
        points, cis = ev.get_interval_estimates(
            score_dict, metrics=case["metrics"], reps=case["reps"], method=method, seed=3
        )
        for name in score_dict:
            np.testing.assert_allclose(points[name], case["points"][method][name], rtol=1e-12, atol=1e-12)
            theirs = np.array(case["cis"][method][name])
            assert cis[name].shape == theirs.shape == (2, 4)
            width = theirs[1] - theirs[0]
            assert np.all(np.abs(cis[name] - theirs) <= tol * width + 1e-12), (case["name"], name, cis[name], theirs)


def test_metric_functions_stand_for_names(vectors):
    case = vectors["rliable"][0]
    sd = {k: np.array(v) for k, v in case["scores"].items()}
    p1, c1 = ev.get_interval_estimates(sd, metrics=(ev.aggregate_iqm, ev.aggregate_median), reps=500, seed=1)
    p2, c2 = ev.get_interval_estimates(sd, metrics=("iqm", "median"), reps=500, seed=1)
    for k in sd:
        np.testing.assert_array_equal(p1[k], p2[k])
        np.testing.assert_array_equal(c1[k], c2[k])


def test_same_seed_same_intervals_and_independent_of_other_algorithms(vectors):
    case = vectors["rliable"][0]
    sd = {k: np.array(v) for k, v in case["scores"].items()}
    _, c1 = ev.get_interval_estimates(sd, reps=1000, seed=9)
    _, c2 = ev.get_interval_estimates(sd, reps=1000, seed=9)
    _, c3 = ev.get_interval_estimates({"b": sd["b"]}, reps=1000, seed=9)
    np.testing.assert_array_equal(c1["a"], c2["a"])
    np.testing.assert_array_equal(c1["b"], c3["b"])


def test_probability_of_improvement_matches_rliable(vectors):
    for case in vectors["rliable"]:
        a, b = (np.array(case["scores"][k]) for k in ("a", "b"))
        assert ev.probability_of_improvement(a, b) == pytest.approx(case["poi"], rel=1e-12)
        points, cis = ev.get_interval_estimates({"a,b": (a, b)}, metrics="probability_of_improvement", reps=5000, seed=4)
        assert points["a,b"][0] == pytest.approx(case["poi"], rel=1e-12)
        theirs = np.array(case["poi_ci"])
        width = theirs[1] - theirs[0]
        assert np.all(np.abs(cis["a,b"][:, 0] - theirs) <= 0.1 * width), (cis, theirs)


def test_performance_profiles_match_rliable(vectors):
    for case in vectors["rliable"]:
        sd = {k: np.array(v) for k, v in case["scores"].items()}
        taus = np.array(case["taus"])
        prof, ci = ev.create_performance_profile(sd, taus, reps=2000, seed=5)
        prof_avg, _ = ev.performance_profile(sd, taus, use_score_distribution=False, reps=50)
        for k, s in sd.items():
            np.testing.assert_allclose(prof[k], case["profile"][k], atol=1e-12)
            np.testing.assert_allclose(prof_avg[k], case["profile_avg"][k], atol=1e-12)
            # Pointwise CIs of a fraction of n = runs x tasks scores: allow one
            # step of 1/n plus 10% of the width.
            theirs = np.array(case["profile_ci"][k])
            step = 1.0 / s.size
            assert np.all(np.abs(ci[k] - theirs) <= 0.1 * (theirs[1] - theirs[0]) + step + 1e-12), k


# ----------------------------------------------------------- scikit-learn


def test_ranking_metrics_match_sklearn(vectors):
    for case in vectors["sklearn"]:
        y, s = np.array(case["y_true"]), np.array(case["y_score"])
        assert ev.roc_auc_score(y, s) == pytest.approx(case["roc_auc"], rel=1e-12, abs=1e-14)
        assert ev.roc_auc_score(2 * y - 1, s) == pytest.approx(case["roc_auc_pm1"], rel=1e-12, abs=1e-14)
        assert ev.roc_auc_score(y.astype(bool), s.tolist()) == pytest.approx(case["roc_auc"], rel=1e-12)
        assert ev.average_precision_score(y, s) == pytest.approx(case["average_precision"], rel=1e-12, abs=1e-14)


def test_delong_matches_reference(vectors):
    for case in vectors["sklearn"]:
        if "delong" not in case:
            continue
        ref = case["delong"]
        out = ev.delong_test(case["y_true"], case["y_score"], case["y_score_b"])
        for key in ("auc_a", "auc_b", "variance", "z", "p_value"):
            assert out[key] == pytest.approx(ref[key], rel=1e-9, abs=1e-12), key
        lo, hi = out["ci"]
        assert lo < out["auc_a"] - out["auc_b"] < hi


# ---------------------------------------------------------------- mlxtend


def test_mcnemar_matches_mlxtend(vectors):
    for case in vectors["mlxtend"]:
        tb = ev.mcnemar_table(case["y_target"], case["y_model1"], case["y_model2"])
        np.testing.assert_array_equal(tb, case["table"])
        for label, kw in (("corrected", {}), ("uncorrected", {"corrected": False}), ("exact", {"exact": True})):
            chi2, p = ev.mcnemar(tb, **kw)
            want_chi2, want_p = case[label]
            assert p == pytest.approx(want_p, rel=1e-9, abs=1e-15), label
            if want_chi2 is None:
                assert chi2 is None
            else:
                assert chi2 == pytest.approx(want_chi2, rel=1e-12), label


def test_mcnemar_table_takes_string_labels():
    tb = ev.mcnemar_table(["a", "b", "a"], ["a", "a", "a"], ["b", "b", "a"])
    np.testing.assert_array_equal(tb, [[1, 1], [1, 0]])


# ------------------------------------------------------------------ scipy


def _cost(rows):
    return np.array([[np.inf if v == "inf" else v for v in row] for row in rows], dtype=float)


def test_linear_sum_assignment_matches_scipy(vectors):
    for case in vectors["scipy"]:
        cost = _cost(case["cost"])
        r, c = combopt.linear_sum_assignment(cost, maximize=case["maximize"])
        assert r.dtype == np.int64 and c.dtype == np.int64
        assert cost[r, c].sum() == pytest.approx(case["total"], rel=1e-12)
        # Random real costs: the optimum is unique, so the indices agree too.
        np.testing.assert_array_equal(r, case["row_ind"])
        np.testing.assert_array_equal(c, case["col_ind"])


def test_linear_sum_assignment_accepts_transposed_views(vectors):
    cost = _cost(vectors["scipy"][2]["cost"])  # 4 x 7
    r1, c1 = combopt.linear_sum_assignment(cost.T)  # a non-contiguous view
    r2, c2 = combopt.linear_sum_assignment(np.ascontiguousarray(cost.T))
    np.testing.assert_array_equal(r1, r2)
    np.testing.assert_array_equal(c1, c2)


def test_empty_cost_matrix_gives_empty_assignment():
    r, c = combopt.linear_sum_assignment(np.zeros((0, 3)))
    assert r.shape == c.shape == (0,)


# -------------------------------------------------------------------- TSP


def test_solve_tsp_finds_enumerated_optimum_and_bounds_it(vectors):
    for case in vectors["tsp"]:
        pts = np.array(case["points"])
        sol = combopt.solve_tsp(pts, method="or2opt-ils", seed=1)
        n = len(pts)
        assert sorted(sol["tour"].tolist()) == list(range(n))
        assert sol["length"] == pytest.approx(case["optimum"], rel=1e-9)
        assert sol["lower_bound"] <= case["optimum"] + 1e-9
        d = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
        by_matrix = combopt.solve_tsp(distances=d, method="or2opt-ils", seed=1)
        assert by_matrix["length"] == pytest.approx(case["optimum"], rel=1e-9)


def test_solve_tsp_is_seeded():
    pts = np.random.default_rng(0).random((60, 2))
    a = combopt.solve_tsp(pts, method="or2opt-ils", seed=7, lower_bound=False)
    b = combopt.solve_tsp(pts, method="or2opt-ils", seed=7, lower_bound=False)
    np.testing.assert_array_equal(a["tour"], b["tour"])
    assert a["lower_bound"] is None
    assert {m["name"] for m in combopt.tsp_methods()} >= {"nn", "greedy", "or2opt", "or2opt-ils", "dcr"}


# ------------------------------------------------------------ hypervolume


def test_hypervolume_matches_moocore(vectors):
    if not vectors["hypervolume"]:
        pytest.skip("fixtures were generated without moocore")
    for case in vectors["hypervolume"]:
        assert combopt.hypervolume(case["data"], case["ref"]) == pytest.approx(case["hv"], rel=1e-12)


# -------------------------------------------------------------------- obp


@pytest.mark.parametrize("case_index", [0, 1])
def test_ope_estimators_match_obp(vectors, case_index):
    case = vectors["obp"][case_index]
    r, a, p = np.array(case["reward"]), np.array(case["action"]), np.array(case["pscore"])
    ad, q = np.array(case["action_dist"]), np.array(case["estimated_rewards_by_reg_model"])
    pos = None if case["position"] is None else np.array(case["position"])
    kw = dict(reward=r, action=a, pscore=p, action_dist=ad, position=pos)
    v = case["values"]
    assert bandits.InverseProbabilityWeighting().estimate_policy_value(**kw) == pytest.approx(v["ipw"], rel=1e-12)
    assert bandits.SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(**kw) == pytest.approx(v["snipw"], rel=1e-12)
    assert bandits.DirectMethod().estimate_policy_value(action_dist=ad, estimated_rewards_by_reg_model=q, position=pos) == pytest.approx(v["dm"], rel=1e-12)
    assert bandits.DoublyRobust().estimate_policy_value(estimated_rewards_by_reg_model=q, **kw) == pytest.approx(v["dr"], rel=1e-12)
    assert bandits.SwitchDoublyRobust().estimate_policy_value(estimated_rewards_by_reg_model=q, **kw) == pytest.approx(v["switch-dr_1"], rel=1e-12)
    assert bandits.SwitchDoublyRobust(tau=3.0).estimate_policy_value(estimated_rewards_by_reg_model=q, **kw) == pytest.approx(v["switch-dr_3"], rel=1e-12)
    np.testing.assert_allclose(bandits.InverseProbabilityWeighting().estimate_round_rewards(**kw), case["round_rewards"]["ipw"], rtol=1e-12)
    np.testing.assert_allclose(
        bandits.DoublyRobust().estimate_round_rewards(estimated_rewards_by_reg_model=q, **kw), case["round_rewards"]["dr"], rtol=1e-12, atol=1e-15
    )
    # The function forms.
    assert bandits.ips(r, a, p, ad, pos) == pytest.approx(v["ipw"], rel=1e-12)
    assert bandits.snips(r, a, p, ad, pos) == pytest.approx(v["snipw"], rel=1e-12)
    assert bandits.dm(ad, q, pos) == pytest.approx(v["dm"], rel=1e-12)
    assert bandits.dr(r, a, p, ad, q, pos) == pytest.approx(v["dr"], rel=1e-12)


# ----------------------------------------------------------------- distdp


def test_bermudan_put_lattice_matches_reference(vectors):
    for case in vectors["put"]:
        args = {k: case[k] for k in ("s0", "strike", "rate", "sigma", "maturity")}
        out = distdp.price_bermudan_put(**args, exercise_dates=case["exercise_dates"], method="binomial", steps=case["steps"])
        assert out["price"] == pytest.approx(case["binomial"], rel=1e-10)


def test_bermudan_put_lsmc_interval_covers_the_lattice(vectors):
    case = vectors["put"][2]  # 4 dates: small and fast
    args = {k: case[k] for k in ("s0", "strike", "rate", "sigma", "maturity")}
    lsmc = distdp.price_bermudan_put(**args, exercise_dates=4, paths=20_000, seed=3)
    lo, hi = lsmc["ci"]
    assert abs(lsmc["price"] - case["binomial"]) < 0.05 + 4 * lsmc["std_error"]
    iv = distdp.price_bermudan_put(
        **args, exercise_dates=4, method="interval", paths=4_000, lower_paths=4_000, outer_paths=100, inner_paths=50
    )
    assert iv["ci"][0] <= case["binomial"] <= iv["ci"][1]
    assert iv["lower"] <= iv["upper"] + 4 * (iv["lower_std_error"] + iv["upper_std_error"])
    assert distdp.price_bermudan_put(**args, method="european")["price"] <= case["binomial"]
    assert lo < hi
