//! HyPO (Song et al. 2024, "The Importance of Online Data: Understanding
//! Preference Fine-tuning via Coverage", Algorithm 1): the DPO loss on
//! offline pairs plus lambda times a reverse-KL penalty KL(pi || pi_ref)
//! estimated on fresh samples from the current policy.
//!
//! The KL gradient is taken with the score-function estimator
//! E_{y~pi}[sg(log pi(y) - log pi_ref(y)) grad log pi(y)], which is unbiased
//! for grad KL(pi || pi_ref) (the sampling distribution depends on theta).

use duality_core::progress::Progress;
use duality_core::seed::Seeder;
use duality_core::Result;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::offline::OfflineConfig;
use super::{finite_loss, pair_log_probs, positive_count, PairBatch, TrainLog};
use crate::loss::PreferenceLoss;
use crate::policy::{Policy, SamplingConfig};
use crate::testbed::{full_mask, token_tensor, PreferencePair, TestBed};

/// HyPO settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HypoConfig {
    /// The offline part (loss, epochs, batch size, optimizer, seed).
    pub offline: OfflineConfig,
    /// KL weight lambda (>= 0; 0 is plain offline training).
    pub kl_coef: f64,
    /// Online samples per step.
    pub online_batch: usize,
    /// Sampling of the online responses.
    pub sampling: SamplingConfig,
}

impl Default for HypoConfig {
    fn default() -> Self {
        HypoConfig {
            offline: OfflineConfig::default(),
            kl_coef: 0.1,
            online_batch: 32,
            sampling: SamplingConfig::default(),
        }
    }
}

/// Runs HyPO. Log steps are epochs; metrics: loss (offline part), kl
/// (mean sampled log-ratio at the end of the epoch).
pub fn train_hypo(
    policy: &mut Policy,
    reference: &Policy,
    train: &[PreferencePair],
    bed: &impl TestBed,
    config: &HypoConfig,
) -> Result<TrainLog> {
    config.offline.validate()?;
    positive_count("online_batch", config.online_batch)?;
    if !(config.kl_coef.is_finite() && config.kl_coef >= 0.0) {
        return Err(duality_core::Error::invalid(
            "kl_coef",
            config.kl_coef,
            "a finite number >= 0",
        ));
    }
    duality_core::check::non_empty("training pairs", train)?;
    let oc = &config.offline;
    let mut opt = oc.optimizer.build(policy.var_store())?;
    let seeder = Seeder::new(oc.seed).named("hypo");
    let mut order_rng = seeder.rng(u64::MAX);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let progress = Progress::new(
        (oc.epochs * train.len().div_ceil(oc.batch_size)) as u64,
        "hypo",
    );
    let mut log = TrainLog::new("hypo");
    let len = bed.completion_len();
    let mask = full_mask(config.online_batch, len);
    let mut step = 0usize;
    for epoch in 1..=oc.epochs {
        order.shuffle(&mut order_rng);
        let (mut total, mut kl_sum, mut n) = (0.0, 0.0, 0.0);
        for chunk in order.chunks(oc.batch_size) {
            let refs: Vec<&PreferencePair> = chunk.iter().map(|&i| &train[i]).collect();
            let dpo = oc
                .loss
                .loss(&pair_log_probs(policy, reference, &PairBatch::new(&refs)?)?)?;
            let mut rng = seeder.rng(step as u64);
            let xs: Vec<Vec<i64>> = (0..config.online_batch)
                .map(|_| bed.sample_prompt(&mut rng))
                .collect();
            let xr: Vec<&[i64]> = xs.iter().map(|x| x.as_slice()).collect();
            let x = token_tensor(&xr)?;
            let y = policy.sample(&x, len, config.sampling, &mut rng)?;
            let lp = policy.completion_log_probs(&x, &y, &mask)?.sum;
            let lr = {
                let _g = duality_core::tensor::tch::no_grad_guard();
                reference.completion_log_probs(&x, &y, &mask)?.sum
            };
            let ratio = (&lp - lr).detach();
            let kl_term = (&ratio * &lp).mean(None) * config.kl_coef;
            let loss = &dpo + kl_term;
            finite_loss(step, &loss)?;
            total += crate::util::scalar(&dpo);
            kl_sum += crate::util::scalar(&ratio.mean(None));
            n += 1.0;
            opt.backward_step(&loss);
            step += 1;
            progress.inc(1);
        }
        log.push(epoch, &[("loss", total / n), ("kl", kl_sum / n)]);
    }
    progress.finish();
    Ok(log)
}
