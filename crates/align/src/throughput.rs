//! A fixed offline-DPO training loop for throughput measurements (the bench
//! suite and `fixtures/align/throughput.py`, its PyTorch twin, use the same
//! sizes: GRU policy with embedding 16 and hidden 32 over 6 tokens, prompts
//! of 1 token, completions of 4, batch `batch` pairs, Adam 1e-2, beta 0.5).

use std::time::Instant;

use duality_core::Result;

use crate::loss::{LossConfig, LossKind};
use crate::policy::{Policy, PolicyConfig};
use crate::testbed::{offline_pairs, BradleyTerryOracle, HiddenRewardTask, PreferencePair};
use crate::train::{pair_log_probs, PairBatch};

/// Runs `steps` DPO steps on batches of `batch` pairs and returns steps per
/// second (wall clock, after one warm-up step).
pub fn dpo_steps_per_second(steps: usize, batch: usize) -> Result<f64> {
    duality_core::check::at_least("steps", steps, 1)?;
    duality_core::check::at_least("batch", batch, 1)?;
    let task = HiddenRewardTask::easy(0);
    let oracle = BradleyTerryOracle {
        reward: task.clone(),
        scale: 4.0,
    };
    let mut rng = duality_core::seed::Seeder::new(0).rng(0);
    let pairs = offline_pairs(&task, &oracle, None, batch * 8, 1.0, &mut rng)?;
    let policy = Policy::new(&PolicyConfig::gru(6), 0)?;
    let reference = policy.frozen_copy()?;
    let mut opt = duality_core::tensor::OptimizerConfig::adam(1e-2).build(policy.var_store())?;
    let loss = LossConfig::new(LossKind::Dpo, 0.5).check()?;
    let batches: Vec<PairBatch> = pairs
        .chunks(batch)
        .map(|c| PairBatch::new(&c.iter().collect::<Vec<&PreferencePair>>()))
        .collect::<Result<_>>()?;
    let mut step = |i: usize| -> Result<()> {
        let b = &batches[i % batches.len()];
        let l = loss.batch_loss(&pair_log_probs(&policy, &reference, b)?)?;
        opt.backward_step(&l);
        Ok(())
    };
    step(0)?;
    let start = Instant::now();
    for i in 0..steps {
        step(i + 1)?;
    }
    Ok(steps as f64 / start.elapsed().as_secs_f64().max(1e-9))
}
