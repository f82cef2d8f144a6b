//! `pareto::hypervolume` against moocore 0.3.2 (`moocore.hypervolume`):
//! vectors in `fixtures/combopt/hypervolume_moocore.json`, written by
//! `fixtures/combopt/moocore_hv.py` (random, near-simplex and coarse-grid
//! point sets with duplicates, 2 to 5 objectives, reference points that
//! cut some points off). Never runs Python.

use duality_combopt::pareto::hypervolume;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    m: usize,
    points: Vec<Vec<f64>>,
    reference: Vec<f64>,
    hypervolume: f64,
}

#[derive(Deserialize)]
struct Fixture {
    library: String,
    cases: Vec<Case>,
}

/// Tolerance: relative 1e-9 of the volume, absolute 1e-12 (both sides sum
/// the same boxes in different orders, in f64).
#[test]
fn hypervolume_matches_moocore() {
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/combopt/hypervolume_moocore.json"
    ));
    let fx: Fixture = serde_json::from_str(text).unwrap();
    assert!(fx.library.starts_with("moocore "), "{}", fx.library);
    assert_eq!(fx.cases.len(), 60);
    for m in 2..=5 {
        assert!(
            fx.cases.iter().any(|c| c.m == m),
            "no case in {m} objectives"
        );
    }
    let mut cut_off = 0;
    for (k, c) in fx.cases.iter().enumerate() {
        let hv = hypervolume(&c.points, &c.reference).unwrap();
        let tol = 1e-9 * c.hypervolume.abs() + 1e-12;
        assert!(
            (hv - c.hypervolume).abs() <= tol,
            "case {k} ({} objectives, {} points): ours {hv} vs moocore {}",
            c.m,
            c.points.len(),
            c.hypervolume
        );
        if c.hypervolume == 0.0 {
            cut_off += 1;
        }
    }
    // Some reference points leave no point inside: both sides say 0.
    assert!(cut_off < fx.cases.len());
}
