//! Kick-budget and kick-segment study of `or2opt-ils` on uniform instances
//! (issue #26: the gap to LKH at a fraction of its time). Writes each
//! instance's coordinates as JSON so LKH (elkai) can solve the same one.
//!
//! `cargo run --release -p duality-combopt --example tsp_ils_tune -- N SEEDS OUTDIR KICKS_PER_CITY:MAX_SEG ...`

use duality_combopt::tsp::{greedy_edge, iterated_local_search, IlsParams, Instance, Neighbours};
use duality_core::seed::Seeder;

fn main() -> duality_combopt::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        println!("usage: tsp_ils_tune N SEEDS OUTDIR KICKS_PER_CITY:MAX_SEG ...");
        return Ok(());
    }
    let n: usize = args[1].parse().unwrap_or(1000);
    let seeds: u64 = args[2].parse().unwrap_or(3);
    let dir = std::path::PathBuf::from(&args[3]);
    for s in 0..seeds {
        let inst = Instance::random_uniform(n, &mut Seeder::new(s).rng(0))?;
        let coords: Vec<String> = inst
            .coords()
            .iter()
            .map(|c| format!("[{},{}]", c[0], c[1]))
            .collect();
        duality_core::files::write_atomic(
            dir.join(format!("uniform{n}_{s}.json")),
            format!("{{\"coords\":[{}],\"runs\":1}}", coords.join(",")),
        )?;
        let nb = Neighbours::new(&inst, 10);
        for cfg in &args[4..] {
            let (kpc, seg) = cfg.split_once(':').unwrap_or((cfg, "50"));
            let (kpc, seg): (usize, usize) = (kpc.parse().unwrap_or(10), seg.parse().unwrap_or(50));
            let start = std::time::Instant::now();
            let order = greedy_edge(&inst, &nb).into_vec();
            let params = IlsParams::default()
                .with_kicks(kpc * n)
                .with_max_kick_segment(seg);
            let run = iterated_local_search(
                order,
                &|a, b| inst.dist(a, b),
                &nb,
                None,
                &params,
                &mut Seeder::new(s).rng(1),
            )?;
            println!(
                "seed {s} kicks/city {kpc} seg {seg}: length {:.4} in {:.3} s",
                run.stats.length,
                start.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}
