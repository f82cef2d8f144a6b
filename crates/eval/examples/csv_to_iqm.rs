//! From a tidy CSV of scores to IQM with a 95% CI and a plot.
//!
//! `cargo run -p duality-eval --example csv_to_iqm -- scores.csv out.svg`
//! (without arguments it uses a small built-in CSV and writes `iqm.svg`).

use duality_eval::prelude::*;

fn main() -> duality_eval::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let set = match args.get(1) {
        Some(path) => ScoreSet::from_csv_path(path)?,
        None => ScoreSet::read_csv(DEMO.as_bytes(), "demo")?,
    };
    let bootstrap = StratifiedBootstrap::new(50_000, 0.95, 42)?;
    let rows = bootstrap.intervals_for_set(&set, &[Metric::Iqm])?;
    for (algorithm, ci) in &rows {
        println!(
            "{algorithm}: IQM {:.3} [{:.3}, {:.3}]",
            ci[0].estimate, ci[0].lo, ci[0].hi
        );
    }
    let svg = args.get(2).map_or("iqm.svg", |s| s.as_str());
    duality_eval::plot::interval_estimates(svg, &["IQM"], &rows)?;
    Ok(())
}

const DEMO: &str = "algorithm,task,run,score
dqn,pong,0,0.61
dqn,pong,1,0.55
dqn,pong,2,0.70
dqn,breakout,0,0.20
dqn,breakout,1,0.35
dqn,breakout,2,0.28
spr,pong,0,0.90
spr,pong,1,0.84
spr,pong,2,1.02
spr,breakout,0,0.41
spr,breakout,1,0.38
spr,breakout,2,0.52
";
