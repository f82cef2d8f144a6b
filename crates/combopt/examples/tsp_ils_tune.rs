//! Kick-budget, kick-kind and neighbourhood study of `or2opt-ils` on
//! uniform instances (issue #26: the gap to LKH at a fraction of its time).
//! Runs `SEEDS` seeded instances plus the bench's `tsp-vs-lkh` seed-0
//! instance (`bench`, with the stream the bench's `or2opt-ils` run uses),
//! and writes each instance's coordinates as JSON so LKH (elkai,
//! `fixtures/combopt/peer_lkh.py`) can solve the same one.
//!
//! `cargo run --release -p duality-combopt --example tsp_ils_tune -- N SEEDS OUTDIR CONFIG ...`
//!
//! `CONFIG` is `KICKS_PER_CITY:MAX_SEG[:LOCAL[:KICK[:OR_SEGMENT]]]` with `LOCAL` one of
//! `or2opt`, `or3opt` and `KICK` one of `segment`, `walkSTEPS`; `default` is the
//! built-in `or2opt-ils` settings.

use duality_combopt::tsp::{
    greedy_edge, ils_on_instance, IlsParams, Instance, Kick, LocalSearchParams, Neighbourhood,
    Neighbours,
};
use duality_core::seed::Seeder;

fn parse(cfg: &str, n: usize) -> IlsParams {
    if cfg == "default" {
        return duality_combopt::tsp::default_ils_params(n);
    }
    let parts: Vec<&str> = cfg.split(':').collect();
    let kpc: usize = parts.first().and_then(|s| s.parse().ok()).unwrap_or(20);
    let seg: usize = parts.get(1).and_then(|s| s.parse().ok()).unwrap_or(100);
    let nh = match parts.get(2).copied() {
        Some("or2opt") => Neighbourhood::Or2Opt,
        _ => Neighbourhood::Or3Opt,
    };
    let kick = match parts.get(3).copied() {
        Some("segment") => Kick::SegmentSwap,
        Some(w) => Kick::RandomWalk {
            steps: w.trim_start_matches("walk").parse().unwrap_or(3),
        },
        None => Kick::RandomWalk { steps: 3 },
    };
    IlsParams::default()
        .with_local(
            LocalSearchParams::new(nh)
                .with_max_segment(parts.get(4).and_then(|s| s.parse().ok()).unwrap_or(3)),
        )
        .with_kicks(kpc * n)
        .with_max_kick_segment(seg)
        .with_kick(kick)
}

fn main() -> duality_combopt::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        println!("usage: tsp_ils_tune N SEEDS OUTDIR KICKS_PER_CITY:MAX_SEG[:LOCAL[:KICK[:OR_SEGMENT]]] ...");
        return Ok(());
    }
    let n: usize = args[1].parse().unwrap_or(1000);
    let seeds: u64 = args[2].parse().unwrap_or(3);
    let dir = std::path::PathBuf::from(&args[3]);
    // The six-instance study's instances, then the bench's seed-0 instance.
    // The bench master seed (`cargo xtask bench --seed`, default 20261128).
    let bench = Seeder::new(20_261_128).named("combopt").named("tsp-vs-lkh");
    let mut cases: Vec<(String, Instance, Seeder, u64)> = Vec::new();
    for s in 0..seeds {
        let inst = Instance::random_uniform(n, &mut Seeder::new(s).rng(0))?;
        cases.push((s.to_string(), inst, Seeder::new(s), 1));
    }
    let inst = Instance::random_uniform(n, &mut bench.rng(0))?;
    cases.push(("bench".into(), inst, Seeder::new(bench.seed_for(0)), 0));
    for (name, inst, seeder, stream) in &cases {
        let coords: Vec<String> = inst
            .coords()
            .iter()
            .map(|c| format!("[{},{}]", c[0], c[1]))
            .collect();
        duality_core::files::write_atomic(
            dir.join(format!("uniform{n}_{name}.json")),
            format!("{{\"coords\":[{}],\"runs\":1}}", coords.join(",")),
        )?;
        for cfg in &args[4..] {
            let params = parse(cfg, n);
            // Timed like the bench's pipeline: candidate lists, greedy, ILS.
            let start = std::time::Instant::now();
            let nb = Neighbours::new(inst, 10);
            let tour = greedy_edge(inst, &nb);
            let run = ils_on_instance(inst, tour, &nb, &params, &mut seeder.rng(*stream))?;
            println!(
                "inst {name} cfg {cfg}: length {:.4} in {:.3} s (accepted {} of {} kicks)",
                run.stats.length,
                start.elapsed().as_secs_f64(),
                run.stats.accepted,
                run.stats.kicks
            );
        }
    }
    Ok(())
}
