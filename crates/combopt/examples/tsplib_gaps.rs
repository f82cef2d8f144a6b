//! Solves the instances in `fixtures/combopt/tsplib` with each method and prints
//! the gap to the known optimum and the time.
//!
//! `cargo run --release -p duality-combopt --example tsplib_gaps [-- MAX_CITIES [METHODS]]`

use std::path::PathBuf;

use duality_combopt::tsp::{gap_percent, methods, read_optima, read_tsp, solve, SolveParams};

fn main() -> duality_combopt::Result<()> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/combopt/tsplib");
    let args: Vec<String> = std::env::args().collect();
    let max: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2500);
    // Names are checked by `solve` (an unknown one lists the registry).
    let chosen: Vec<String> = match args.get(2) {
        Some(list) => list.split(',').map(str::to_string).collect(),
        None => methods().iter().map(|m| m.name().to_string()).collect(),
    };
    for row in read_optima(dir.join("optima.csv"))? {
        let (name, n, opt) = (row.name.as_str(), row.dimension, row.length);
        if n > max {
            continue;
        }
        let inst = read_tsp(dir.join(format!("{name}.tsp")))?;
        for m in &chosen {
            // The O(n^2) insertions are too slow beyond a few thousand cities.
            if n > 3000 && m.contains("insertion") {
                continue;
            }
            let sol = solve(&inst, &SolveParams::new(m.as_str()))?;
            println!(
                "{name:10} {m:20} gap {:6.2}%  {:8.3}s",
                gap_percent(sol.length, opt),
                sol.seconds
            );
        }
    }
    Ok(())
}
