//! Criterion benches: simulator throughput and the DR estimator.
// criterion's macros generate undocumented items.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use duality_bandits::prelude::*;
use duality_core::seed::Seeder;

fn simulate(c: &mut Criterion) {
    let env =
        StochasticBandit::bernoulli(&[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9]).unwrap();
    let sim = Simulator::new(SimulatorConfig::default().horizon(10_000).repetitions(4)).unwrap();
    let ucb: Vec<Box<dyn Policy>> = vec![Box::new(Ucb1::new(10).unwrap())];
    let ts: Vec<Box<dyn Policy>> = vec![Box::new(BetaThompson::new(10).unwrap())];
    c.bench_function("simulate ucb1 K=10 T=1e4 R=4", |b| {
        b.iter(|| sim.run(&env, &ucb).unwrap())
    });
    c.bench_function("simulate thompson K=10 T=1e4 R=4", |b| {
        b.iter(|| sim.run(&env, &ts).unwrap())
    });
    let eager: Vec<Box<dyn Policy>> = vec![Box::new(BetaThompson::eager(10).unwrap())];
    c.bench_function("simulate thompson-eager K=10 T=1e4 R=4", |b| {
        b.iter(|| sim.run(&env, &eager).unwrap())
    });
    // The round without a policy's work: environment draws, driver and
    // regret recorder (a policy that always plays arm 9, through `dyn`).
    let fixed: Vec<Box<dyn Policy>> = vec![Box::new(FixedArm)];
    c.bench_function("simulate fixed-arm K=10 T=1e4 R=4 (round overhead)", |b| {
        b.iter(|| sim.run(&env, &fixed).unwrap())
    });
}

/// Always plays the last of 10 arms.
#[derive(Clone)]
struct FixedArm;

impl Policy for FixedArm {
    fn name(&self) -> String {
        "fixed-arm".into()
    }
    fn n_arms(&self) -> usize {
        10
    }
    fn reset(&mut self) {}
    fn select(&mut self, _round: &Round<'_>, _rng: &mut dyn rand::RngCore) -> usize {
        9
    }
    fn update(&mut self, _round: &Round<'_>, _arm: usize, _reward: f64) {}
}

fn ope(c: &mut Criterion) {
    let params = SyntheticParams {
        n_rounds: 20_000,
        ..SyntheticParams::default()
    };
    let log = generate_logs(&params, &mut Seeder::new(1).rng(0)).unwrap();
    let qhat = log.logged.ridge_reward_model(1.0).unwrap();
    let data = log
        .logged
        .ope_data(log.evaluation_dist.clone(), qhat)
        .unwrap();
    c.bench_function("dr estimate n=2e4 K=5", |b| {
        b.iter(|| DoublyRobust.estimate(&data).unwrap())
    });
    // 2 x 10^5 rounds: 17 MB of rows, past the caches (the fused pass is
    // bound by memory bandwidth; the bench suite's obp comparison uses 10^6).
    let params = SyntheticParams {
        n_rounds: 200_000,
        ..SyntheticParams::default()
    };
    let log = generate_logs(&params, &mut Seeder::new(2).rng(0)).unwrap();
    let qhat = log.logged.ridge_reward_model(1.0).unwrap();
    let data = log
        .logged
        .ope_data(log.evaluation_dist.clone(), qhat)
        .unwrap();
    c.bench_function("dr estimate n=2e5 K=5", |b| {
        b.iter(|| DoublyRobust.estimate(&data).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = simulate, ope
}
criterion_main!(benches);
