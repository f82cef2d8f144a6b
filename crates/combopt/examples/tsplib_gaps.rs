//! Solves the instances in `fixtures/combopt/tsplib` with each method and prints
//! the gap to the known optimum and the time.
//!
//! `cargo run --release -p duality-combopt --example tsplib_gaps [-- MAX_CITIES [METHODS]]`

use std::path::PathBuf;

use duality_combopt::tsp::{gap_percent, read_optima, read_tsp, solve, Method, SolveParams};

fn main() -> duality_combopt::Result<()> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/combopt/tsplib");
    let args: Vec<String> = std::env::args().collect();
    let max: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2500);
    let methods: Vec<Method> = match args.get(2) {
        Some(list) => list
            .split(',')
            .map(|m| m.parse())
            .collect::<Result<_, _>>()?,
        None => Method::ALL.to_vec(),
    };
    for row in read_optima(dir.join("optima.csv"))? {
        let (name, n, opt) = (row.name.as_str(), row.dimension, row.length);
        if n > max {
            continue;
        }
        let inst = read_tsp(dir.join(format!("{name}.tsp")))?;
        for &m in &methods {
            if n > 3000 && matches!(m, Method::CheapestInsertion | Method::FarthestInsertion) {
                continue;
            }
            let sol = solve(&inst, &SolveParams::new(m))?;
            println!(
                "{name:10} {:20} gap {:6.2}%  {:8.3}s",
                m.name(),
                gap_percent(sol.length, opt),
                sol.seconds
            );
        }
    }
    Ok(())
}
