//! Cross-checks of OptCS against the authors' procedure (`Tian-Bai/OptCS`,
//! `simulation/MSel/choosescore_Jin.py`: auxiliary p-values, BH, e-values,
//! eBH), run on integer scores with ties by `fixtures/eval/generate_optcs.py`
//! (numpy 2.4.6). For every test point the chosen model must
//! be one of the reference's maximisers of `|R_j^(k)|`, with the same
//! `|R_j|` and the p-value of that model; with one model the e-values and the
//! deterministic-pruning selection must match exactly.

use duality_eval::conformal::{opt_cs, ModelScores, OptCsConfig};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/eval/optcs.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn opt_cs_matches_the_reference_code() {
    let fx = fixture();
    let cases = fx["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for (i, c) in cases.iter().enumerate() {
        let scores = ModelScores::new(matrix(&c["calibration"]), matrix(&c["test"])).unwrap();
        let sizes = matrix(&c["sizes"]);
        let p = matrix(&c["p"]);
        let config = OptCsConfig::new(c["q"].as_f64().unwrap())
            .unwrap()
            .with_beta(c["beta"].as_f64().unwrap())
            .unwrap()
            .with_seed(i as u64);
        let r = opt_cs(&scores, &config).unwrap();
        for (j, pt) in r.points.iter().enumerate() {
            let best = sizes[j].iter().copied().fold(0.0, f64::max);
            assert_eq!(
                sizes[j][pt.model], best,
                "case {i} point {j}: not a maximiser"
            );
            assert_eq!(pt.r_size as f64, best, "case {i} point {j}: |R_j|");
            assert_eq!(pt.p_value, p[j][pt.model], "case {i} point {j}: p-value");
        }
        if let Some(e) = c.get("e") {
            for (j, (pt, want)) in r.points.iter().zip(e.as_array().unwrap()).enumerate() {
                let want = want.as_f64().unwrap();
                assert!(
                    (pt.e_value - want).abs() <= 1e-12 * want.max(1.0),
                    "case {i} point {j}: e {} vs {want}",
                    pt.e_value
                );
            }
            let sel: Vec<usize> = c["selected_deterministic"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(r.selected, sel, "case {i}: selection");
        }
    }
}
