//! Held-Karp lower bound on the instances in `fixtures/combopt/tsplib`:
//! gap below the known optimum and time, and the certified gap of a method's
//! tour (`length / bound - 1`).
//!
//! `cargo run --release -p duality-combopt --example tsp_bound [-- MAX_CITIES [METHOD [ITERATIONS [PATIENCE]]]]`

use std::path::PathBuf;
use std::time::Instant;

use duality_combopt::tsp::{
    certified_gap, gap_percent, held_karp_bound, read_optima, read_tsp, solve, BoundParams,
    SolveParams,
};

fn main() -> duality_combopt::Result<()> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/combopt/tsplib");
    let args: Vec<String> = std::env::args().collect();
    let max: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(25_000);
    let method = args.get(2).map_or("dcr", String::as_str);
    let iterations: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1_000);
    let patience: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(20);
    let params = BoundParams::default()
        .with_iterations(iterations)
        .with_patience(patience);
    println!("instance,n,bound_gap_pct,bound_seconds,method,tour_gap_pct,certified_gap_pct");
    for row in read_optima(dir.join("optima.csv"))? {
        let (name, n, opt) = (row.name.as_str(), row.dimension, row.length);
        if n > max {
            continue;
        }
        let inst = read_tsp(dir.join(format!("{name}.tsp")))?;
        let sol = solve(&inst, &SolveParams::new(method))?;
        let start = Instant::now();
        let bound = held_karp_bound(&inst, &params, Some(sol.length))?;
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{name},{n},{:.3},{secs:.2},{method},{:.3},{:.3}",
            (opt - bound.value) / opt * 100.0,
            gap_percent(sol.length, opt),
            100.0 * certified_gap(sol.length, bound.value)?
        );
    }
    Ok(())
}
