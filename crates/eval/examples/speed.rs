//! Times the bench-suite workloads: IQM bootstrap CIs for 5 algorithms x
//! 26 tasks x 10 runs at 50,000 replicates, and AUROC + AP on 10^7 scores.
//!
//! `cargo run --release -p duality-eval --example speed [-- REPS N_AUROC]`

use std::time::Instant;

/// Process CPU seconds (user + system) from `/proc/self/stat` (Linux; 0 elsewhere),
/// the fairer number on a shared machine. Assumes 100 clock ticks per second.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>();
            let utime: f64 = after.get(11)?.parse().ok()?;
            let stime: f64 = after.get(12)?.parse().ok()?;
            Some((utime + stime) / 100.0)
        })
        .unwrap_or(0.0)
}

use duality_core::seed::Seeder;
use duality_eval::prelude::*;
use duality_eval::ranking::SortedClasses;
use rand::Rng;

fn main() -> duality_eval::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let reps = args.first().copied().unwrap_or(50_000);
    let n = args.get(1).copied().unwrap_or(10_000_000);
    let mut rng = Seeder::new(0).rng(0);
    let matrices: Vec<ScoreMatrix> = (0..5)
        .map(|a| {
            let rows: Vec<Vec<f64>> = (0..10)
                .map(|_| {
                    (0..26)
                        .map(|_| rng.random::<f64>() * (1.0 + a as f64 * 0.2))
                        .collect()
                })
                .collect();
            ScoreMatrix::from_rows(format!("alg{a}"), &rows)
        })
        .collect::<duality_eval::Result<_>>()?;
    let bs = StratifiedBootstrap::new(reps, 0.95, 1)?;
    let (t0, c0) = (Instant::now(), cpu_seconds());
    for m in &matrices {
        bs.interval(m, Metric::Iqm)?;
    }
    let boot = t0.elapsed().as_secs_f64();
    let boot_cpu = cpu_seconds() - c0;

    let labels: Vec<bool> = (0..n).map(|_| rng.random::<f64>() < 0.1).collect();
    let scores: Vec<f64> = labels
        .iter()
        .map(|&y| ((rng.random::<f64>() + if y { 0.35 } else { 0.0 }) * 1000.0).round() / 1000.0)
        .collect();
    let (mut best, mut best_cpu) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..3 {
        let (t0, c0) = (Instant::now(), cpu_seconds());
        let sc = SortedClasses::new(&labels, &scores)?;
        std::hint::black_box((sc.auroc(), sc.average_precision()));
        best = best.min(t0.elapsed().as_secs_f64());
        best_cpu = best_cpu.min(cpu_seconds() - c0);
    }
    println!(
        "{{\"reps\": {reps}, \"bootstrap_iqm_seconds\": {boot}, \"bootstrap_iqm_cpu_seconds\": {boot_cpu}, \"n_auroc\": {n}, \"auroc_seconds\": {best}, \"auroc_cpu_seconds\": {best_cpu}, \"threads\": {}}}",
        rayon::current_num_threads()
    );
    Ok(())
}
