//! Offline DPO on the easy hidden-reward test bed through the `Trainer`
//! API, then the win rate against the reference under the bed's oracle.
//! `cargo run -p duality-align --example quickstart`
use duality_align::prelude::*;
use duality_core::seed::Seeder;

fn main() -> duality_core::Result<()> {
    let bed = HiddenRewardBed::new(HiddenRewardTask::easy(0), 4.0)?;
    let mut policy = Policy::new(&PolicyConfig::gru(bed.vocab()), 7)?;
    let reference = policy.frozen_copy()?;
    let trainer = Offline::new(OfflineConfig {
        loss: LossConfig::new(LossKind::Dpo, 0.5),
        epochs: 6,
        ..Default::default()
    })?;
    let log = {
        let mut ctx = TrainContext::new(&mut policy, &reference, &bed)?
            .with_data(DataSpec {
                pairs: 256,
                ..DataSpec::default()
            })
            .with_data_rng(Seeder::new(1).rng(0));
        trainer.train(&mut ctx)?
    };
    println!("final accuracy {:?}", log.last("accuracy"));

    let mut rng = Seeder::new(2).rng(0);
    let win = win_rate(
        &policy,
        &reference,
        &bed,
        bed.oracle(),
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
