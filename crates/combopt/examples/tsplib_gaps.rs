//! Solves the instances in `shared/data/tsplib` with each method and prints
//! the gap to the known optimum and the time.
//!
//! `cargo run --release -p duality-combopt --example tsplib_gaps [-- MAX_CITIES [METHODS]]`

use std::path::PathBuf;

use duality_combopt::tsp::{gap_percent, read_tsp, solve, Method, SolveParams};

fn main() -> duality_combopt::Result<()> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/tsplib");
    if !dir.exists() {
        println!("no instances at {} (skipping)", dir.display());
        return Ok(());
    }
    let args: Vec<String> = std::env::args().collect();
    let max: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2500);
    let methods: Vec<Method> = match args.get(2) {
        Some(list) => list
            .split(',')
            .map(|m| m.parse())
            .collect::<Result<_, _>>()?,
        None => Method::ALL.to_vec(),
    };
    let optima = std::fs::read_to_string(dir.join("optima.csv"))
        .map_err(|e| duality_combopt::Error::io(&dir, e))?;
    for line in optima.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let (name, n, opt): (&str, usize, f64) = (
            cols[0],
            cols[1].parse().unwrap_or(0),
            cols[3].parse().unwrap_or(f64::NAN),
        );
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
