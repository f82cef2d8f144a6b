//! Cross-checks of the binary-sequence tests against SciPy 1.17.1 and
//! statsmodels 0.14.5 (`fixtures/eval/generate_sequence.py`): 30 sequences
//! (independent at rates 0.3 / 0.5 / 0.7, streaky and alternating Markov
//! chains) of lengths 12 to 1,000. Counts match exactly; statistics and
//! p-values to 1e-9 relative (1e-12 absolute for p-values near 0).

use duality_eval::sequence::{markov_test, proportion_test, runs_test};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/eval/sequence.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn close(got: f64, want: f64, what: &str, i: usize) {
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1e-3),
        "case {i} {what}: duality {got} vs reference {want}"
    );
}

#[test]
fn sequence_tests_match_scipy_and_statsmodels() {
    let fx = fixture();
    let cases = fx["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 30);
    for (i, c) in cases.iter().enumerate() {
        let seq: Vec<bool> = c["sequence"]
            .as_str()
            .unwrap()
            .bytes()
            .map(|b| b == b'1')
            .collect();
        let f = |k: &str| c[k].as_f64().unwrap();

        let p = proportion_test(&seq, f("p0"), 0.95).unwrap();
        close(p.p_value, f("binom_p_value"), "binomial p-value", i);
        close(p.ci.0, c["ci"][0].as_f64().unwrap(), "CI low", i);
        close(p.ci.1, c["ci"][1].as_f64().unwrap(), "CI high", i);

        let r = runs_test(&seq, false).unwrap();
        assert_eq!(r.runs, c["runs"].as_u64().unwrap(), "case {i} runs");
        close(r.z, f("runs_z"), "runs z", i);
        close(r.p_value, f("runs_p_value"), "runs p-value", i);
        if c["corrected_comparable"].as_bool().unwrap() {
            let r = runs_test(&seq, true).unwrap();
            close(r.z, f("runs_z_corrected"), "corrected runs z", i);
            close(
                r.p_value,
                f("runs_p_value_corrected"),
                "corrected runs p",
                i,
            );
        }

        let m = markov_test(&seq).unwrap();
        let t: Vec<Vec<u64>> = serde_json::from_value(c["transitions"].clone()).unwrap();
        assert_eq!(m.transitions[0].to_vec(), t[0], "case {i}");
        assert_eq!(m.transitions[1].to_vec(), t[1], "case {i}");
        close(m.chi2, f("chi2"), "chi2", i);
        close(m.p_value, f("chi2_p_value"), "chi2 p-value", i);
        close(m.chi2_yates, f("chi2_yates"), "Yates chi2", i);
        close(m.p_value_yates, f("chi2_yates_p_value"), "Yates p-value", i);
    }
}
