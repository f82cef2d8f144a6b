//! Cross-checks of the poisoning certificates against the authors' own
//! certification scripts (github.com/k1rezaei/DPA-election @ ad20adb:
//! `dpa_roe_certify.py`, `fa_certify.py`, `fa_roe_certify.py`, run unchanged
//! by `fixtures/eval/generate_roe.py` on random logit tables), and of the
//! base classifier against scikit-learn 1.9.1's `LogisticRegression`.
//! The scripts report -1 where the prediction is not the label, else the
//! radius; every entry must match exactly.

use duality_eval::poisoning::{
    Certifier, ImageDataset, Layout, LogisticParams, LogisticRegression, LogitTable, Method,
};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/eval/roe.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

#[test]
fn certificates_match_the_reference_scripts() {
    let f = fixture();
    for case in f["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (k, samples, models, classes) = (
            case["k"].as_u64().unwrap() as usize,
            case["samples"].as_u64().unwrap() as usize,
            case["models"].as_u64().unwrap() as usize,
            case["classes"].as_u64().unwrap() as usize,
        );
        let logits: Vec<f64> = case["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let labels = usizes(&case["labels"]);
        let table = LogitTable::new(samples, models, classes, logits).unwrap();
        let layout = Layout::with_shifts(k, usizes(&case["shifts"])).unwrap();
        let certifier = Certifier::new(&table, &layout).unwrap();
        let mut checked = 0;
        for (key, method) in [
            ("dpa", Method::Dpa),
            ("dpa_roe", Method::DpaRoe),
            ("fa", Method::Fa),
            ("fa_roe", Method::FaRoe),
        ] {
            let Some(expected) = case["certs"].get(key) else {
                continue;
            };
            let certs = certifier.certify_all(method).unwrap();
            for (i, (c, e)) in certs.iter().zip(expected.as_array().unwrap()).enumerate() {
                let ours = if c.prediction == labels[i] {
                    c.radius as i64
                } else {
                    -1
                };
                assert_eq!(
                    ours,
                    e.as_i64().unwrap(),
                    "{name} {method} sample {i}: ours {c:?} (label {})",
                    labels[i]
                );
            }
            checked += 1;
        }
        assert_eq!(checked, 2, "{name}");
    }
}

#[test]
fn logistic_regression_matches_scikit_learn() {
    let f = fixture();
    let lr = &f["logistic"];
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/eval/digits.csv"
    );
    let data = ImageDataset::read_csv(std::fs::File::open(path).unwrap(), "digits.csv").unwrap();
    let n = lr["train_rows"].as_u64().unwrap() as usize;
    let rows: Vec<usize> = (0..n).collect();
    let params = LogisticParams {
        tol: 1e-9,
        max_iter: 5_000,
        ..LogisticParams::default()
    };
    let model = LogisticRegression::fit(&data, &rows, &params).unwrap();
    let expected: Vec<f64> = lr["logits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let range = usizes(&lr["test_rows"]);
    let mut worst = 0.0f64;
    for (t, i) in (range[0]..range[1]).enumerate() {
        let z = model.logits(&data, i);
        for c in 0..10 {
            worst = worst.max((z[c] - expected[t * 10 + c]).abs());
        }
    }
    assert!(worst < 1e-5, "largest logit difference {worst}");
}
