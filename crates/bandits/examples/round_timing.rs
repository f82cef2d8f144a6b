//! Per-round cost of the simulator's hot loop on one thread, robust to a
//! shared machine: every number is the *minimum* over many short timed
//! runs (a run that no other process interrupted), next to the median.
//!
//! ```text
//! cargo run --release -p duality-bandits --example round_timing [RUNS]
//! ```
//!
//! Prints ns per round of a whole simulation (UCB1, lazy and eager
//! Thompson sampling, a fixed-arm policy for the round without a policy's
//! work) on the Bernoulli K = 10 instance of `simulation-speed`, and the
//! floor's parts: the K reward draws alone and UCB1's index pass alone.
//! Not a test: nothing is asserted.

use std::hint::black_box;
use std::time::Instant;

use duality_bandits::prelude::*;
use duality_bandits::{sample_beta, GammaSampler};
use duality_core::seed::Seeder;

const MEANS: [f64; 10] = [0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1];
const HORIZON: usize = 10_000;

/// `(min, median)` of `runs` timings of `f`, in ns per round.
fn time(runs: usize, rounds: usize, mut f: impl FnMut(u64)) -> (f64, f64) {
    let mut ns: Vec<f64> = (0..runs)
        .map(|r| {
            let start = Instant::now();
            f(r as u64);
            start.elapsed().as_secs_f64() * 1e9 / rounds as f64
        })
        .collect();
    ns.sort_by(f64::total_cmp);
    (ns[0], ns[ns.len() / 2])
}

/// Always plays the best arm (the round without a policy's work).
#[derive(Clone)]
struct FixedArm;

impl Policy for FixedArm {
    fn name(&self) -> String {
        "fixed-arm".into()
    }
    fn n_arms(&self) -> usize {
        MEANS.len()
    }
    fn reset(&mut self) {}
    fn select(&mut self, _round: &Round<'_>, _rng: &mut dyn rand::RngCore) -> usize {
        0
    }
    fn update(&mut self, _round: &Round<'_>, _arm: usize, _reward: f64) {}
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(40);
    let env = StochasticBandit::bernoulli(&MEANS)?;
    let k = MEANS.len();
    let checkpoints = log_checkpoints(HORIZON, 60);
    let policies: Vec<Box<dyn Policy>> = vec![
        Box::new(Ucb1::new(k)?),
        Box::new(BetaThompson::new(k)?),
        Box::new(BetaThompson::eager(k)?),
        Box::new(FixedArm),
    ];
    for proto in &policies {
        let (min, med) = time(runs, HORIZON, |r| {
            let seeder = Seeder::new(7).child(r);
            let mut e = env.clone();
            let mut p = proto.clone_box();
            let out = run_single(
                &mut e,
                p.as_mut(),
                HORIZON,
                &checkpoints,
                &mut seeder.named("environment").rng(0),
                &mut seeder.named("policy").rng(0),
            );
            black_box(out.ok());
        });
        println!(
            "simulation {:<22} min {min:6.1} ns/round  median {med:6.1}",
            proto.name()
        );
    }
    // How many arms lazy Thompson sampling draws exactly per round.
    let mut ts = BetaThompson::new(k)?;
    let seeder = Seeder::new(7).child(0);
    run_single(
        &mut env.clone(),
        &mut ts,
        HORIZON,
        &checkpoints,
        &mut seeder.named("environment").rng(0),
        &mut seeder.named("policy").rng(0),
    )?;
    let c = ts.draw_counts();
    let per_round = |n: u64| n as f64 / HORIZON as f64;
    println!(
        "lazy thompson per round: {:.2} exact Beta draws, {:.2} ruled out, {:.3} tail checks, {:.3} conditional draws",
        per_round(c.exact),
        per_round(c.ruled_out),
        per_round(c.tail_checks),
        per_round(c.conditional_draws)
    );
    // The floor's parts.
    let mut draw = Draw::new(k);
    let (min, med) = time(runs, HORIZON, |r| {
        let mut e = env.clone();
        let mut rng = Seeder::new(7).child(r).rng(0);
        for t in 1..=HORIZON {
            e.draw(t, &mut rng, &mut draw);
            black_box(&draw.rewards);
        }
    });
    println!("floor part: {k} Bernoulli draws      min {min:6.1} ns/round  median {med:6.1}");
    let mut ucb = Ucb1::new(k)?;
    let mut rng = Seeder::new(1).rng(0);
    for (a, &m) in MEANS.iter().enumerate() {
        for i in 0..100 {
            ucb.update(
                &Round::new(1, HORIZON),
                a,
                f64::from(u8::from(i < (m * 100.0) as usize)),
            );
        }
    }
    let (min, med) = time(runs, HORIZON, |_| {
        for t in 1..=HORIZON {
            black_box(ucb.select(&Round::new(black_box(t + 1000), HORIZON), &mut rng));
        }
    });
    println!("floor part: UCB1 index pass (K={k})   min {min:6.1} ns/round  median {med:6.1}");
    // One exact Beta draw (two Marsaglia-Tsang gamma variates) with the
    // shapes of a well-pulled arm, on the inlined generator Thompson
    // sampling uses.
    let (a, b) = (GammaSampler::new(900.0)?, GammaSampler::new(100.0)?);
    let (min, med) = time(runs, HORIZON, |r| {
        let mut rng = duality_core::seed::SplitMix64::new(r);
        for _ in 0..HORIZON {
            black_box(sample_beta(&a, &b, &mut rng));
        }
    });
    println!("floor part: one Beta(900, 100) draw     min {min:6.1} ns/draw   median {med:6.1}");
    Ok(())
}
