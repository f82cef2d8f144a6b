//! Criterion benches of the hot paths (small sizes; the bench suite runs the big ones).

// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use duality_eval::prelude::*;
use duality_eval::ranking::SortedClasses;

fn bootstrap_iqm(c: &mut Criterion) {
    let rows: Vec<Vec<f64>> = (0..10)
        .map(|r| {
            (0..26)
                .map(|t| ((r * 31 + t * 17) % 23) as f64 / 23.0)
                .collect()
        })
        .collect();
    let m = ScoreMatrix::from_rows("a", &rows).unwrap();
    let bs = StratifiedBootstrap::new(2_000, 0.95, 0).unwrap();
    c.bench_function("bootstrap_iqm_10x26_2000reps", |b| {
        b.iter(|| bs.interval(&m, Metric::Iqm).unwrap())
    });
    // The issue-26 kernel at its bench size: one algorithm of the 5 x 26 x 10
    // set at 50,000 replicates (resample counts, selection of percentiles).
    let big = StratifiedBootstrap::new(50_000, 0.95, 0).unwrap();
    c.bench_function("bootstrap_iqm_10x26_50000reps", |b| {
        b.iter(|| big.interval(&m, Metric::Iqm).unwrap())
    });
    let y = ScoreMatrix::from_rows("b", &rows[..7]).unwrap();
    c.bench_function("bootstrap_poi_10v7x26_2000reps", |b| {
        b.iter(|| bs.improvement(&m, &y).unwrap())
    });
}

fn auroc(c: &mut Criterion) {
    let n = 100_000;
    let labels: Vec<bool> = (0..n).map(|i| (i * 7919) % 10 == 0).collect();
    let scores: Vec<f64> = (0..n)
        .map(|i| ((i * 104_729) % 1000) as f64 / 1000.0 + if labels[i] { 0.3 } else { 0.0 })
        .collect();
    c.bench_function("auroc_ap_1e5", |b| {
        b.iter(|| {
            let sc = SortedClasses::new(&labels, &scores).unwrap();
            (sc.auroc(), sc.average_precision())
        })
    });
    // Tied scores (rounded to 1e-3, as the bench suite's 10^7 case): the
    // hash-grouping path; and distinct scores: the radix-sort path.
    let n = 1_000_000;
    let labels: Vec<bool> = (0..n).map(|i| (i * 7919) % 10 == 0).collect();
    let tied: Vec<f64> = (0..n)
        .map(|i| ((i * 104_729) % 1000) as f64 / 1000.0 + if labels[i] { 0.35 } else { 0.0 })
        .collect();
    c.bench_function("auroc_ap_1e6_tied", |b| {
        b.iter(|| {
            SortedClasses::new(&labels, &tied)
                .unwrap()
                .auroc_and_average_precision()
        })
    });
    let distinct: Vec<f64> = (0..n)
        .map(|i| ((i * 104_729) % 1_000_003) as f64 * 1e-6 + if labels[i] { 0.35 } else { 0.0 })
        .collect();
    c.bench_function("auroc_ap_1e6_distinct", |b| {
        b.iter(|| {
            SortedClasses::new(&labels, &distinct)
                .unwrap()
                .auroc_and_average_precision()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bootstrap_iqm, auroc
}
criterion_main!(benches);
