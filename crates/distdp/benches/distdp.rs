#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Criterion micro-benchmarks: one distributional value-iteration sweep size,
//! the Cramér projection, and a small LSMC price.

use criterion::{criterion_group, criterion_main, Criterion};
use duality_distdp::dist::{cramer_project, uniform_support, Representation};
use duality_distdp::mdp::library;
use duality_distdp::stopping::{lsmc_price, LsmcParams, PutOption};
use duality_distdp::{solve, SolveSpec, StockGrid, StockModel};

fn benches(c: &mut Criterion) {
    let support = uniform_support(-10.0, 10.0, 51).unwrap();
    let pairs: Vec<(f64, f64)> = (0..200)
        .map(|i| (i as f64 * 0.1 - 10.0, 1.0 / 200.0))
        .collect();
    c.bench_function("cramer_project_200_to_51", |b| {
        b.iter(|| cramer_project(std::hint::black_box(&support), &pairs))
    });
    let m = library::gambling(10, 2, 3, 0.6, 1.0, 4).unwrap();
    let grid = StockGrid::new(-10.0, 10.0, 21).unwrap();
    let repr = Representation::Exact { budget: Some(32) };
    // CVaR's inner utility min(x, 0) on the grid, plus the outer search.
    let spec = SolveSpec::new("cvar:0.2".parse().unwrap(), StockModel::Grid(grid), repr).unwrap();
    c.bench_function("dvi_gambling_h4_21buckets", |b| {
        b.iter(|| solve(&m, &spec).unwrap())
    });
    let o = PutOption::default();
    let p = LsmcParams::default().paths(2000).exercise_dates(10);
    c.bench_function("lsmc_2000_paths_10_dates", |b| {
        b.iter(|| lsmc_price(&o, &p).unwrap())
    });
}

criterion_group! {
    name = distdp;
    config = Criterion::default().sample_size(10);
    targets = benches
}
criterion_main!(distdp);
