//! Times `linear_sum_assignment` on a square matrix stored as raw
//! little-endian f64 (row-major), e.g. written by numpy's `tofile`, so the
//! same matrix can be timed against scipy.
//!
//! `cargo run --release -p duality-combopt --example assignment_time -- FILE.bin N [REPS]`

use duality_combopt::assignment::{linear_sum_assignment, CostMatrix};

fn main() -> duality_combopt::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(file), Some(n)) = (
        args.get(1),
        args.get(2).and_then(|s| s.parse::<usize>().ok()),
    ) else {
        println!("usage: assignment_time FILE.bin N [REPS]");
        return Ok(());
    };
    let reps: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let bytes = std::fs::read(file).map_err(|e| duality_combopt::Error::io(file, e))?;
    let data: Vec<f64> = bytes
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
        .collect();
    let m = CostMatrix::new(n, n, data)?;
    for _ in 0..reps {
        let start = std::time::Instant::now();
        let a = linear_sum_assignment(&m, false)?;
        println!(
            "duality {file} {:.4}s cost {:.6}",
            start.elapsed().as_secs_f64(),
            a.cost
        );
    }
    Ok(())
}
