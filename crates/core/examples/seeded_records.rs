//! Seeded parallel tasks reported as run records.
//!
//! Run with `cargo run -p duality-core --example seeded_records`.
//! Prints the same CSV for any `RAYON_NUM_THREADS`.

use duality_core::prelude::*;
use rand::Rng;

fn main() -> Result<()> {
    let seeder = Seeder::new(42);
    // Ten "runs" of a noisy measurement, each on its own RNG stream.
    let scores = seeder.par_map(10, |_, rng| {
        (0..1000).map(|_| rng.random::<f64>()).sum::<f64>() / 1000.0
    });
    let records: Vec<RunRecord> = scores
        .iter()
        .enumerate()
        .map(|(seed, &s)| {
            RunRecord::new("uniform-mean", "toy", seed as u64).with_metric("score", s)
        })
        .collect();
    duality_core::record::write_csv(&records, std::io::stdout())?;
    Ok(())
}
