//! Cross-checks against committed vectors: obp 0.4.1 estimators
//! (`fixtures/bandits/generate_obp.py`) and hand-computable indices and
//! probabilities (`fixtures/bandits/generate_indices.py`).

use duality_bandits::prelude::*;
use duality_core::seed::Seeder;
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/bandits/");

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{DIR}{name}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

#[test]
fn ope_estimators_match_obp() {
    // Tolerance 1e-12 relative: the same sums in a different order.
    let fixture = load("obp_estimates.json");
    for case in fixture["cases"].as_array().unwrap() {
        let file = case["file"].as_str().unwrap();
        let data =
            OpeData::from_csv(std::fs::File::open(format!("{DIR}{file}")).unwrap(), file).unwrap();
        let tau = f(&case["switch_tau"]);
        for (name, expected) in case["estimates"].as_object().unwrap() {
            let est = name
                .parse::<EstimatorKind>()
                .unwrap()
                .build(Some(tau))
                .unwrap();
            let got = est.estimate(&data).unwrap();
            let want = f(expected);
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{file} {name}: got {got}, obp {want}"
            );
        }
    }
}

fn pulled(k: usize, arm: usize, mean: f64, n: u64) -> impl FnMut(&mut dyn Policy) {
    move |p: &mut dyn Policy| {
        let _ = k;
        for t in 1..=n as usize {
            p.update(&Round::new(t, 1000), arm, mean);
        }
    }
}

#[test]
fn ucb_kl_ucb_and_moss_indices_match() {
    // Tolerances: 1e-12 for closed forms, 1e-8 for the KL-UCB bisection
    // (the policy stops at a bracket of 1e-9).
    let fx = load("indices.json");
    for c in fx["ucb1"].as_array().unwrap() {
        let mut p = Ucb1::new(2).unwrap();
        pulled(2, 0, f(&c["mean"]), c["pulls"].as_u64().unwrap())(&mut p);
        let got = p.index(0, c["t"].as_u64().unwrap() as usize);
        assert!((got - f(&c["index"])).abs() < 1e-12, "ucb1 {c}: {got}");
    }
    for c in fx["kl_ucb"].as_array().unwrap() {
        let mut p = KlUcb::new(2, KlFamily::Bernoulli, 0.0).unwrap();
        pulled(2, 0, f(&c["mean"]), c["pulls"].as_u64().unwrap())(&mut p);
        let got = p.index(0, c["t"].as_u64().unwrap() as usize);
        assert!((got - f(&c["index"])).abs() < 1e-8, "kl-ucb {c}: {got}");
    }
    for c in fx["moss"].as_array().unwrap() {
        let k = c["k"].as_u64().unwrap() as usize;
        let mut p = Moss::new(k).unwrap();
        pulled(k, 0, f(&c["mean"]), c["pulls"].as_u64().unwrap())(&mut p);
        let got = p.index(0, c["horizon"].as_u64().unwrap() as usize);
        assert!((got - f(&c["index"])).abs() < 1e-12, "moss {c}: {got}");
    }
}

#[test]
fn exp3_probabilities_follow_the_fixture() {
    let fx = load("indices.json");
    let e = &fx["exp3"];
    let k = e["k"].as_u64().unwrap() as usize;
    let mut p = Exp3::new(k, Some(f(&e["eta"])), f(&e["gamma"])).unwrap();
    let probs = e["probabilities"].as_array().unwrap();
    let mut rng = Seeder::new(0).rng(0);
    for (t, play) in e["plays"].as_array().unwrap().iter().enumerate() {
        let round = Round::new(t + 1, 100);
        let want: Vec<f64> = probs[t].as_array().unwrap().iter().map(f).collect();
        let got = p.probabilities(&round).unwrap();
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-12, "round {t}: {got:?} vs {want:?}");
        }
        p.select(&round, &mut rng);
        let arm = play[0].as_u64().unwrap() as usize;
        p.update(&round, arm, f(&play[1]));
    }
    let last: Vec<f64> = probs
        .last()
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(f)
        .collect();
    let got = p.probabilities(&Round::new(99, 100)).unwrap();
    for (g, w) in got.iter().zip(&last) {
        assert!((g - w).abs() < 1e-12);
    }
}

#[test]
fn tsallis_inf_probabilities_match() {
    let fx = load("indices.json");
    for c in fx["tsallis_inf"].as_array().unwrap() {
        let losses: Vec<f64> = c["losses"].as_array().unwrap().iter().map(f).collect();
        let mut out = vec![0.0; losses.len()];
        let x = TsallisInf::tsallis_probabilities(&losses, f(&c["eta"]), &mut out);
        assert!(
            (x - f(&c["x"])).abs() < 1e-9 * (1.0 + x.abs()),
            "{c}: x = {x}"
        );
        for (g, w) in out.iter().zip(c["probabilities"].as_array().unwrap()) {
            assert!((g - f(w)).abs() < 1e-10, "{c}: {out:?}");
        }
    }
}
