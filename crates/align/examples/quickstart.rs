//! Offline DPO on the easy hidden-reward task, then the win rate against the
//! reference under the oracle. `cargo run -p duality-align --example quickstart`
use duality_align::prelude::*;
use duality_core::seed::Seeder;

fn main() -> duality_core::Result<()> {
    let task = HiddenRewardTask::easy(0);
    let oracle = BradleyTerryOracle {
        reward: task.clone(),
        scale: 4.0,
    };
    let mut rng = Seeder::new(1).rng(0);
    let pairs = duality_align::testbed::offline_pairs(&task, &oracle, None, 256, 1.0, &mut rng)?;

    let mut policy = Policy::new(&PolicyConfig::gru(task.vocab()), 7)?;
    let reference = policy.frozen_copy()?;
    let config = OfflineConfig {
        loss: LossConfig::new(LossKind::Dpo, 0.5),
        epochs: 6,
        ..Default::default()
    };
    let log = train_offline(&mut policy, &reference, &pairs, &[], &config)?;
    println!("final accuracy {:?}", log.last("accuracy"));

    let win = win_rate(
        &policy,
        &reference,
        &task,
        &oracle,
        400,
        SamplingConfig::default(),
        &mut rng,
    )?;
    println!(
        "win rate vs reference {:.3} [{:.3}, {:.3}]",
        win.mean, win.lo, win.hi
    );
    Ok(())
}
