//! Compare stochastic and adversarial policies on a Bernoulli bandit, print
//! final regrets with bootstrap CIs and write `regret.svg`.
//!
//! `cargo run --release -p duality-bandits --example compare_policies`

use duality_bandits::prelude::*;

fn main() -> duality_core::Result<()> {
    let means = [0.9, 0.8, 0.7, 0.5, 0.3];
    let env = StochasticBandit::bernoulli(&means)?;
    let k = means.len();
    let policies: Vec<Box<dyn Policy>> = vec![
        Box::new(Ucb1::new(k)?),
        Box::new(KlUcb::new(k, KlFamily::Bernoulli, 0.0)?),
        Box::new(BetaThompson::new(k)?),
        Box::new(Exp3::new(k, None, 0.0)?),
        Box::new(EpsilonGreedy::new(
            k,
            EpsilonSchedule::Fixed { epsilon: 0.1 },
        )?),
    ];
    let sim = Simulator::new(
        SimulatorConfig::default()
            .horizon(20_000)
            .repetitions(50)
            .seed(1),
    )?;
    let result = sim.run(&env, &policies)?;
    for s in result.summary(&CiParams::default())? {
        let m = s.pseudo_regret.mean;
        println!(
            "{:<16} regret {:>8.1}  95% CI [{:.1}, {:.1}]",
            s.policy, m.estimate, m.lo, m.hi
        );
    }
    duality_bandits::plot::regret_svg(
        &result,
        std::path::Path::new("regret.svg"),
        "Bernoulli K=5",
    )?;
    println!("wrote regret.svg");
    Ok(())
}
