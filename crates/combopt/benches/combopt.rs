//! Criterion micro-benchmarks: Or-2opt and its iterated local search
//! (default 10,000 kicks) on a 1,000-city instance, the
//! assignment solver at 300 x 300 and at 1,000 x 1,000 (uniform and integer
//! costs), and a 4-objective hypervolume.

// criterion_group!/criterion_main! generate undocumented items.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use duality_combopt::assignment::{linear_sum_assignment, CostMatrix};
use duality_combopt::pareto::hypervolume;
use duality_combopt::tsp::{solve, Instance, SolveParams};
use duality_core::seed::Seeder;
use rand::Rng;

fn benches(c: &mut Criterion) {
    let mut rng = Seeder::new(1).rng(0);
    let inst = Instance::random_uniform(1_000, &mut rng).unwrap();
    c.bench_function("or2opt_uniform1000", |b| {
        b.iter(|| solve(&inst, &SolveParams::new("or2opt")).unwrap().length)
    });
    c.bench_function("or2opt_ils_uniform1000", |b| {
        b.iter(|| {
            solve(&inst, &SolveParams::new("or2opt-ils"))
                .unwrap()
                .length
        })
    });
    let n = 300;
    let m = CostMatrix::new(n, n, (0..n * n).map(|_| rng.random::<f64>()).collect()).unwrap();
    c.bench_function("assignment_300x300", |b| {
        b.iter(|| linear_sum_assignment(&m, false).unwrap().cost)
    });
    // The bench suite's cases at half size: uniform [0, 1) and integers
    // 0..999 (many ties), JV initialisation then augmenting paths.
    let n = 1_000;
    let uniform = CostMatrix::new(n, n, (0..n * n).map(|_| rng.random::<f64>()).collect()).unwrap();
    c.bench_function("assignment_1000x1000_uniform", |b| {
        b.iter(|| linear_sum_assignment(&uniform, false).unwrap().cost)
    });
    let integer = CostMatrix::new(
        n,
        n,
        (0..n * n)
            .map(|_| f64::from(rng.random_range(0..1_000u32)))
            .collect(),
    )
    .unwrap();
    c.bench_function("assignment_1000x1000_int1000", |b| {
        b.iter(|| linear_sum_assignment(&integer, false).unwrap().cost)
    });
    let pts: Vec<Vec<f64>> = (0..60)
        .map(|_| (0..4).map(|_| rng.random::<f64>()).collect())
        .collect();
    c.bench_function("hypervolume_4d_60pts", |b| {
        b.iter(|| hypervolume(&pts, &[1.0; 4]).unwrap())
    });
}

criterion_group! {
    name = combopt;
    config = Criterion::default().sample_size(10);
    targets = benches
}
criterion_main!(combopt);
