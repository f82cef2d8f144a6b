//! Cross-checks against scikit-learn 1.9.1, mlxtend 0.25.0 and scipy 1.17.1
//! (`fixtures/eval/generate_sklearn.py`); every value at 1e-9 relative.

use duality_eval::classical::{
    adjust_p_values, cochrans_q, combined_f_5x2cv, mcnemar, paired_t_5x2cv, paired_t_test,
    Correction, McNemarTable,
};
use duality_eval::ranking::{auroc, average_precision, delong_test, labels_from_f64, roc_curve};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/eval/sklearn.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn vec_f(v: &Value) -> Vec<f64> {
    serde_json::from_value(v.clone()).unwrap()
}

fn vec_i(v: &Value) -> Vec<i64> {
    serde_json::from_value(v.clone()).unwrap()
}

fn close(got: f64, want: f64, what: &str) {
    let tol = 1e-9 * want.abs().max(1e-300);
    assert!(
        (got - want).abs() <= tol || got == want,
        "{what}: got {got}, want {want}"
    );
}

#[test]
fn auroc_ap_and_roc_curve_match_sklearn() {
    let fx = fixture();
    for (i, case) in fx["ranking"].as_array().unwrap().iter().enumerate() {
        let labels = labels_from_f64(&vec_f(&case["labels"])).unwrap();
        let scores = vec_f(&case["scores"]);
        close(
            auroc(&labels, &scores).unwrap(),
            case["auroc"].as_f64().unwrap(),
            &format!("auroc {i}"),
        );
        close(
            average_precision(&labels, &scores).unwrap(),
            case["average_precision"].as_f64().unwrap(),
            &format!("ap {i}"),
        );
        let roc = roc_curve(&labels, &scores, true).unwrap();
        let fpr = vec_f(&case["roc_fpr"]);
        let tpr = vec_f(&case["roc_tpr"]);
        assert_eq!(roc.len(), fpr.len(), "roc points {i}");
        for (k, pt) in roc.iter().enumerate() {
            close(pt.fpr, fpr[k], "fpr");
            close(pt.tpr, tpr[k], "tpr");
            if let Some(t) = case["roc_thresholds"][k].as_f64() {
                close(pt.threshold, t, "threshold");
            } else {
                assert_eq!(pt.threshold, f64::INFINITY);
            }
        }
    }
}

#[test]
fn delong_matches_definition() {
    let fx = fixture();
    let d = &fx["delong"];
    let labels = labels_from_f64(&vec_f(&d["labels"])).unwrap();
    let r = delong_test(&labels, &vec_f(&d["a"]), &vec_f(&d["b"])).unwrap();
    close(r.auroc_a, d["auroc_a"].as_f64().unwrap(), "auroc_a");
    close(r.auroc_b, d["auroc_b"].as_f64().unwrap(), "auroc_b");
    close(r.variance, d["variance"].as_f64().unwrap(), "variance");
    close(r.z, d["z"].as_f64().unwrap(), "z");
    close(r.p_value, d["p_value"].as_f64().unwrap(), "p");
}

#[test]
fn mcnemar_and_cochran_match_mlxtend() {
    let fx = fixture();
    for case in fx["mcnemar"].as_array().unwrap() {
        let t = McNemarTable::from_predictions(
            &vec_i(&case["y_true"]),
            &vec_i(&case["pred_a"]),
            &vec_i(&case["pred_b"]),
        )
        .unwrap();
        let table: Vec<Vec<u64>> = serde_json::from_value(case["table"].clone()).unwrap();
        assert_eq!(
            [t.both_correct, t.only_a, t.only_b, t.both_wrong],
            [table[0][0], table[0][1], table[1][0], table[1][1]]
        );
        let r = mcnemar(t).unwrap();
        close(
            r.chi2_corrected,
            case["chi2_corrected"].as_f64().unwrap(),
            "chi2c",
        );
        close(r.p_corrected, case["p_corrected"].as_f64().unwrap(), "pc");
        close(r.chi2, case["chi2"].as_f64().unwrap(), "chi2");
        close(r.p_chi2, case["p_chi2"].as_f64().unwrap(), "p");
        close(r.p_exact, case["p_exact"].as_f64().unwrap(), "p exact");
    }
    let c = &fx["cochran"];
    let y = vec_i(&c["y_true"]);
    let preds: Vec<Vec<i64>> = serde_json::from_value(c["predictions"].clone()).unwrap();
    let refs: Vec<&[i64]> = preds.iter().map(|p| p.as_slice()).collect();
    let r = cochrans_q(&y, &refs).unwrap();
    close(r.statistic, c["q"].as_f64().unwrap(), "Q");
    close(r.p_value, c["p_value"].as_f64().unwrap(), "Q p");
}

#[test]
fn paired_tests_match_mlxtend() {
    let fx = fixture();
    for key in ["paired_t_resampled", "paired_t_kfold"] {
        let c = &fx[key];
        let r = paired_t_test(&vec_f(&c["differences"])).unwrap();
        close(r.statistic, c["t"].as_f64().unwrap(), key);
        close(r.p_value, c["p_value"].as_f64().unwrap(), key);
    }
    let as_pairs = |v: &Value| -> Vec<[f64; 2]> { serde_json::from_value(v.clone()).unwrap() };
    let c = &fx["paired_t_5x2cv"];
    let r = paired_t_5x2cv(&as_pairs(&c["differences"])).unwrap();
    close(r.statistic, c["t"].as_f64().unwrap(), "5x2 t");
    close(r.p_value, c["p_value"].as_f64().unwrap(), "5x2 p");
    let c = &fx["combined_f_5x2cv"];
    let r = combined_f_5x2cv(&as_pairs(&c["differences"])).unwrap();
    close(r.statistic, c["f"].as_f64().unwrap(), "5x2 F");
    close(r.p_value, c["p_value"].as_f64().unwrap(), "5x2 F p");
}

#[test]
fn corrections_match_scipy() {
    let fx = fixture();
    let c = &fx["corrections"];
    let p = vec_f(&c["p"]);
    for (key, corr) in [
        ("bonferroni", Correction::Bonferroni),
        ("holm", Correction::Holm),
        ("bh", Correction::BenjaminiHochberg),
    ] {
        let got = adjust_p_values(&p, corr).unwrap();
        for (g, w) in got.iter().zip(vec_f(&c[key])) {
            close(*g, w, key);
        }
    }
}
