//! Cross-checks of the comparison statistics against SciPy 1.17.1 and
//! statsmodels 0.15.0 (`fixtures/eval/generate_comparison.py`): corrected
//! resampled t, mid-p McNemar, the paired t interval, cluster-robust
//! standard errors (statsmodels `cov_type="cluster"`), DeLong's interval of
//! an AUROC difference (Sun & Xu's fast DeLong in numpy). All to 1e-9.

use duality_eval::classical::{mcnemar, McNemarTable};
use duality_eval::comparison::{clustered_accuracy, corrected_resampled_t, PairedScores};
use duality_eval::ranking::delong_test;
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/eval/comparison.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn close(got: f64, want: &Value, what: &str) {
    let want = want.as_f64().unwrap();
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1e-3),
        "{what}: duality {got} vs reference {want}"
    );
}

#[test]
fn comparison_statistics_match_scipy_and_statsmodels() {
    let fx = fixture();
    for (i, c) in fx["nadeau_bengio"].as_array().unwrap().iter().enumerate() {
        let r = corrected_resampled_t(
            &floats(&c["d"]),
            c["n_train"].as_u64().unwrap() as usize,
            c["n_test"].as_u64().unwrap() as usize,
        )
        .unwrap();
        close(r.statistic, &c["t"], &format!("NB t {i}"));
        close(r.p_value, &c["p"], &format!("NB p {i}"));
    }
    for c in fx["mid_p"].as_array().unwrap() {
        let table = McNemarTable {
            both_correct: 5,
            only_a: c["b"].as_u64().unwrap(),
            only_b: c["c"].as_u64().unwrap(),
            both_wrong: 2,
        };
        close(
            mcnemar(table).unwrap().p_mid,
            &c["p_mid"],
            &format!("mid-p {c}"),
        );
    }
    for (i, c) in fx["paired"].as_array().unwrap().iter().enumerate() {
        let p = PairedScores::new(floats(&c["a"]), floats(&c["b"])).unwrap();
        let ci = p.analytic_ci(0.95).unwrap();
        close(ci.lo, &c["lo"], &format!("paired lo {i}"));
        close(ci.hi, &c["hi"], &format!("paired hi {i}"));
    }
    for (i, c) in fx["cluster"].as_array().unwrap().iter().enumerate() {
        let correct: Vec<bool> = floats(&c["correct"]).iter().map(|&v| v == 1.0).collect();
        let groups: Vec<String> = floats(&c["cluster"])
            .iter()
            .map(|g| g.to_string())
            .collect();
        let r = clustered_accuracy(&correct, &groups).unwrap();
        close(r.accuracy, &c["accuracy"], &format!("accuracy {i}"));
        close(r.se_iid, &c["se_iid"], &format!("se iid {i}"));
        close(r.se_cluster, &c["se_cluster"], &format!("se cluster {i}"));
    }
    for (i, c) in fx["delong"].as_array().unwrap().iter().enumerate() {
        let labels: Vec<bool> = floats(&c["labels"]).iter().map(|&v| v == 1.0).collect();
        let d = delong_test(&labels, &floats(&c["a"]), &floats(&c["b"])).unwrap();
        close(d.auroc_a, &c["auroc_a"], &format!("auroc a {i}"));
        close(d.auroc_b, &c["auroc_b"], &format!("auroc b {i}"));
        let ci = d.difference_ci(0.95).unwrap();
        close(ci.lo, &c["lo"], &format!("delong lo {i}"));
        close(ci.hi, &c["hi"], &format!("delong hi {i}"));
    }
}
