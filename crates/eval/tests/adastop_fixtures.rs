//! The `adastop-0.1.3` variant against the Python package `adastop` 0.1.3
//! (`fixtures/eval/generate_adastop.py`): on the package's example CSVs
//! (walker1..5, three seeds) and synthetic cases with random permutations,
//! unequal group sizes and compare-to-first, every stage's decisions must
//! be equal and the boundary and level spent agree to 1e-9 relative.

use duality_eval::adastop::compat::Mt19937;
use duality_eval::adastop::{AdaStop, AdaStopParams, Decision, Variant};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/eval/adastop.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn decision_name(d: Decision) -> &'static str {
    match d {
        Decision::Continue => "continue",
        Decision::Larger => "larger",
        Decision::Smaller => "smaller",
        Decision::Equal => "equal",
    }
}

#[test]
fn numpy_permutations() {
    let f = fixture();
    for (seed, perm) in f["permutations"].as_object().unwrap() {
        let mut mt = Mt19937::new(seed.parse().unwrap());
        let want: Vec<usize> = perm
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(mt.permutation(10), want, "seed {seed}");
    }
}

#[test]
fn decisions_match_the_package() {
    let f = fixture();
    for case in f["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let agents: Vec<String> = case["agents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let sizes: Vec<usize> = case["sizes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let comparisons = case["comparisons"].as_array().map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p[0].as_u64().unwrap() as usize,
                        p[1].as_u64().unwrap() as usize,
                    )
                })
                .collect()
        });
        let params = AdaStopParams {
            n: sizes[0],
            stages: case["stages"].as_u64().unwrap() as usize,
            alpha: case["alpha"].as_f64().unwrap(),
            permutations: case["permutations"].as_u64().unwrap() as usize,
            seed: case["seed"].as_u64().unwrap(),
            comparisons,
            group_sizes: Some(sizes.clone()),
            variant: Variant::Adastop013,
        };
        let mut study = AdaStop::new(agents.clone(), params).unwrap();
        for (k, want) in case["expected"].as_array().unwrap().iter().enumerate() {
            let stage = &case["data"][k];
            let needed = study.agents_to_run();
            let batch: Vec<Vec<f64>> = agents
                .iter()
                .enumerate()
                .map(|(a, n)| {
                    if needed.contains(&a) {
                        stage[n]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|v| v.as_f64().unwrap())
                            .collect()
                    } else {
                        Vec::new()
                    }
                })
                .collect();
            study.update(&batch).unwrap();
            let got: Vec<&str> = study
                .decisions()
                .iter()
                .map(|&d| decision_name(d))
                .collect();
            let exp: Vec<&str> = want["decisions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(got, exp, "{name}, stage {}", k + 1);
            let rec = &study.records()[k];
            let wb = want["boundary"].as_f64().unwrap();
            assert!(
                (rec.boundary - wb).abs() <= 1e-9 * wb.abs().max(1.0),
                "{name}, stage {}: boundary {} vs {wb}",
                k + 1,
                rec.boundary
            );
            let wl = want["level_spent"].as_f64().unwrap();
            assert!(
                (rec.level_spent - wl).abs() <= 1e-12,
                "{name}, stage {}: level {} vs {wl}",
                k + 1,
                rec.level_spent
            );
        }
        assert!(study.is_finished(), "{name}");
    }
}
