//! Train the stock-augmented deep agents for CVaR(0.1) on one environment
//! and compare the executed policy with the tabular DP optimum and a
//! risk-neutral QR-DQN.
//!
//! `cargo run -p duality-distdp --features torch --example deep_agent -- [ENV] [STEPS] [SEEDS]`
//! with ENV one of gambling (default), chain, random, cliff, inventory.

use duality_core::progress::Progress;
use duality_distdp::deep::{
    empirical_objective, evaluate_mdp, rollouts, tabular_references, train, with_horizon, DeepEnv,
    DeepParams, Head, Inventory, MdpEnv,
};
use duality_distdp::mdp::library;
use duality_distdp::{Objective, ReturnDistribution};

fn tabular(name: &str) -> duality_core::Result<MdpEnv> {
    let mdp = match name {
        "cliff" => library::cliff(5, 3, 0.15, 1.0, Some(15))?,
        "chain" => with_horizon(&library::chain(5, 0.2, 0.9)?, 10, 1.0)?,
        "random" => {
            let mut rng = duality_core::seed::Seeder::new(2026).rng(0);
            with_horizon(&library::random(8, 3, 3, 0.9, &mut rng)?, 5, 1.0)?
        }
        _ => library::gambling(10, 3, 3, 0.8, 1.0, 6)?,
    };
    MdpEnv::new(mdp)
}

fn main() -> duality_core::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let env_name = args.get(1).map(String::as_str).unwrap_or("gambling");
    let steps: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3_000);
    let seeds: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let cvar: Objective = "cvar:0.1".parse()?;
    let neutral: Objective = "expectation".parse()?;
    let env = (env_name != "inventory")
        .then(|| tabular(env_name))
        .transpose()?;
    if let Some(env) = &env {
        let (opt, rn) = tabular_references(env.mdp(), &cvar)?;
        println!(
            "{}: DP optimum CVaR(0.1) {opt:.3}, tabular risk-neutral {rn:.3}",
            env.name()
        );
    }
    let inventory = Inventory::standard();
    for seed in 0..seeds {
        for (alg, head, objective) in [
            ("qr-cvar", Head::Qr, &cvar),
            ("c51-cvar", Head::C51, &cvar),
            ("qr-neutral", Head::Qr, &neutral),
        ] {
            let params = DeepParams::new(head, steps, seed);
            let t0 = std::time::Instant::now();
            let (value, predicted) = match &env {
                Some(env) => {
                    let fit = train(env, objective, &params, &Progress::hidden())?;
                    let ev = evaluate_mdp(&fit.agent, env)?;
                    (ev.law.cvar(0.1)?, ev.predicted_value)
                }
                None => {
                    let fit = train(&inventory, objective, &params, &Progress::hidden())?;
                    let mut f = vec![0f32; inventory.feature_dim()];
                    inventory.features(0, &inventory.start(), &mut f);
                    let (c0, predicted) = fit.agent.start_stock(&f)?;
                    let returns = rollouts(&fit.agent, &inventory, c0, 5_000, 99)?;
                    (empirical_objective(&cvar, &returns)?, predicted)
                }
            };
            println!(
                "seed {seed} {alg}: executed CVaR(0.1) {value:.3} (predicted objective {predicted:.3}) in {:.1} s",
                t0.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}
