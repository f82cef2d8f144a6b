//! Bias tests of a binary decision sequence: a fair, independent coin
//! against a "human-like" generator with negative recency (it avoids
//! repeating itself), as LLMs asked for random choices often are.
//!
//! `cargo run -p duality-eval --example decision_bias`

use duality_core::seed::Seeder;
use duality_eval::sequence::{markov_test, proportion_test, runs_test};
use rand::Rng;

fn report(name: &str, seq: &[bool]) -> duality_eval::Result<()> {
    let p = proportion_test(seq, 0.5, 0.95)?;
    let r = runs_test(seq, true)?;
    let m = markov_test(seq)?;
    println!(
        "{name:>16}: rate {:.3} [{:.3}, {:.3}] p={:.3}; runs {} vs {:.0} expected, z={:+.2} p={:.2e}; \
         P(1|1)={:.2} P(1|0)={:.2}, chi2 p={:.2e}",
        p.proportion,
        p.ci.0,
        p.ci.1,
        p.p_value,
        r.runs,
        r.expected,
        r.z,
        r.p_value,
        m.p_true_after_true,
        m.p_true_after_false,
        m.p_value
    );
    Ok(())
}

fn main() -> duality_eval::Result<()> {
    let mut rng = Seeder::new(7).rng(0);
    let n = 500;
    let fair: Vec<bool> = (0..n).map(|_| rng.random::<f64>() < 0.5).collect();
    // Switches with probability 0.65 instead of 0.5: negative recency.
    let mut alternating = vec![rng.random::<f64>() < 0.5];
    for _ in 1..n {
        let last = *alternating.last().unwrap_or(&false);
        alternating.push(if rng.random::<f64>() < 0.65 {
            !last
        } else {
            last
        });
    }
    report("fair coin", &fair)?;
    report("negative recency", &alternating)?;
    Ok(())
}
