//! HyPO (Song et al. 2024, "The Importance of Online Data: Understanding
//! Preference Fine-tuning via Coverage", Algorithm 1): each step takes the
//! DPO loss on an offline minibatch and adds lambda times the reverse KL
//! KL(pi_theta || pi_ref), estimated on fresh, unlabeled responses that the
//! current policy samples for the minibatch's own prompts (x ~ D, y ~ pi_theta(x)).
//!
//! Because the samples depend on theta, the KL gradient is taken as a policy
//! gradient with the per-sample log-ratio as the (negative) reward: Algorithm
//! 1 writes the regulariser as sum log pi_theta(y|x) * sg(log pi_theta(y|x) /
//! pi_ref(y|x)), and the paper's experiments reduce its variance with the
//! REINFORCE leave-one-out baseline (RLOO, Ahmadian et al. 2024; the `k` of
//! the paper's HyPO hyper-parameter tables). With k responses per prompt and
//! s_i = sg(log pi_theta(y_i|x) - log pi_ref(y_i|x)):
//!
//!   l_KL = mean_i (s_i - mean_{j != i} s_j) log pi_theta(y_i|x),
//!
//! whose expected gradient is grad KL(pi_theta || pi_ref).

use duality_core::config::Validate;
use duality_core::progress::Progress;
use duality_core::seed::Seeder;
use duality_core::tensor::tch::Tensor;
use duality_core::{Error, Result};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::offline::OfflineConfig;
use super::{
    finite_loss, notify, pair_log_probs, positive_count, PairBatch, TrainContext, TrainLog, Trainer,
};
use crate::loss::Loss;
use crate::policy::SamplingConfig;
use crate::testbed::{full_mask, token_tensor, PreferencePair};

/// HyPO settings (the `[hypo]` section).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HypoConfig {
    /// The offline part (loss, epochs, batch size, optimizer, seed).
    pub offline: OfflineConfig,
    /// KL weight lambda (>= 0; 0 is plain offline training).
    pub kl_coef: f64,
    /// Prompts per step that get online responses (taken, in order and
    /// cycling, from the step's offline minibatch).
    pub online_batch: usize,
    /// Online responses per prompt k (>= 2) for the leave-one-out baseline.
    pub samples_per_prompt: usize,
    /// Sampling of the online responses.
    pub sampling: SamplingConfig,
}

impl Default for HypoConfig {
    fn default() -> Self {
        HypoConfig {
            offline: OfflineConfig::default(),
            kl_coef: 0.1,
            online_batch: 16,
            samples_per_prompt: 2,
            sampling: SamplingConfig::default(),
        }
    }
}

impl Validate for HypoConfig {
    fn validate(&self) -> Result<()> {
        self.offline.validate()?;
        super::offline::refuse_reference_cache("hypo", &self.offline)?;
        positive_count("online_batch", self.online_batch)?;
        duality_core::check::at_least("samples_per_prompt", self.samples_per_prompt, 2)?;
        if !(self.kl_coef.is_finite() && self.kl_coef >= 0.0) {
            return Err(Error::invalid(
                "kl_coef",
                self.kl_coef,
                "a finite number >= 0",
            ));
        }
        Ok(())
    }
}

/// The RLOO advantages s_i - mean_{j != i} s_j of consecutive groups of `k`
/// per-sample log-ratios (HyPO's KL "reward" with the leave-one-out baseline).
pub fn leave_one_out_advantages(log_ratios: &[f64], k: usize) -> Result<Vec<f64>> {
    duality_core::check::finite_non_empty("log-ratios", log_ratios)?;
    duality_core::check::at_least("samples_per_prompt", k, 2)?;
    if log_ratios.len() % k != 0 {
        return Err(Error::invalid(
            "number of log-ratios",
            log_ratios.len(),
            format!("a multiple of samples_per_prompt = {k}"),
        ));
    }
    let mut out = Vec::with_capacity(log_ratios.len());
    for g in log_ratios.chunks(k) {
        let total: f64 = g.iter().sum();
        out.extend(g.iter().map(|s| s - (total - s) / (k - 1) as f64));
    }
    Ok(out)
}

/// HyPO (registry name `hypo`) on the run's offline pairs
/// ([`TrainContext::offline_pairs`]) or given ones ([`Hypo::train_on`]),
/// with online responses for the KL term drawn from the context's policy.
/// Log steps are epochs; metrics: loss (offline part), kl (mean sampled
/// log-ratio log pi/pi_ref of the online responses).
#[derive(Debug, Clone)]
pub struct Hypo {
    config: HypoConfig,
    loss: Loss,
}

impl Trainer for Hypo {
    const NAME: &'static str = "hypo";
    const ABOUT: &'static str =
        "HyPO: offline DPO plus a KL penalty on fresh policy samples (Song et al. 2024)";
    const OBSERVED: bool = true;
    type Config = HypoConfig;

    fn new(config: HypoConfig) -> Result<Self> {
        config.validate()?;
        let loss = config.offline.loss.check()?;
        Ok(Hypo { config, loss })
    }

    fn config(&self) -> &HypoConfig {
        &self.config
    }

    fn train(&self, ctx: &mut TrainContext<'_>) -> Result<TrainLog> {
        let pairs = ctx.offline_pairs()?;
        self.train_on(ctx, &pairs)
    }
}

impl Hypo {
    /// Trains on the offline pairs `train`.
    pub fn train_on(
        &self,
        ctx: &mut TrainContext<'_>,
        train: &[PreferencePair],
    ) -> Result<TrainLog> {
        duality_core::check::non_empty("training pairs", train)?;
        let config = &self.config;
        let oc = &config.offline;
        let seeder = Seeder::new(ctx.trainer_seed(oc.seed)).named("hypo");
        let (policy, reference) = (&mut *ctx.policy, ctx.reference);
        let mut opt = oc.optimizer.build(policy.var_store())?;
        let mut order_rng = seeder.rng(u64::MAX);
        let mut order: Vec<usize> = (0..train.len()).collect();
        let progress = Progress::new(
            (oc.epochs * train.len().div_ceil(oc.batch_size)) as u64,
            "hypo",
        );
        let mut log = TrainLog::new("hypo");
        let len = ctx.bed.completion_len();
        let k = config.samples_per_prompt;
        let rows = super::check_batch(
            policy,
            len,
            &[
                ("online_batch", config.online_batch),
                ("samples_per_prompt", k),
            ],
        )?;
        let mask = full_mask(rows, len);
        let mut step = 0usize;
        for epoch in 1..=oc.epochs {
            order.shuffle(&mut order_rng);
            let (mut total, mut kl_sum, mut n) = (0.0, 0.0, 0.0);
            for chunk in order.chunks(oc.batch_size) {
                let refs: Vec<&PreferencePair> = chunk.iter().map(|&i| &train[i]).collect();
                let dpo = self.loss.batch_loss(&pair_log_probs(
                    policy,
                    reference,
                    &PairBatch::new(&refs)?,
                )?)?;
                // Online, unlabeled responses for the minibatch's prompts (x ~ D).
                let mut rng = seeder.rng(step as u64);
                let xs: Vec<&[i64]> = (0..config.online_batch)
                    .flat_map(|i| std::iter::repeat_n(refs[i % refs.len()].prompt.as_slice(), k))
                    .collect();
                let x = token_tensor(&xs)?;
                let y = policy.sample(&x, len, config.sampling, &mut rng)?;
                let lp = policy.completion_log_probs(&x, &y, &mask)?.sum;
                let lr = {
                    let _g = duality_core::tensor::tch::no_grad_guard();
                    reference.completion_log_probs(&x, &y, &mask)?.sum
                };
                let ratios = crate::util::tensor_to_f64(&(&lp - lr).detach())?;
                let adv = leave_one_out_advantages(&ratios, k)?;
                let adv_t = Tensor::from_slice(&adv).to_kind(lp.kind());
                let kl_term = (adv_t * &lp).mean(None) * config.kl_coef;
                let loss = &dpo + kl_term;
                finite_loss(step, &loss)?;
                total += crate::util::scalar(&dpo);
                kl_sum += ratios.iter().sum::<f64>() / rows as f64;
                n += 1.0;
                opt.backward_step(&loss);
                step += 1;
                progress.inc(1);
            }
            log.push(epoch, &[("loss", total / n), ("kl", kl_sum / n)]);
            notify(&mut ctx.observer, epoch, policy)?;
        }
        progress.finish();
        Ok(log)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leave_one_out_baseline() {
        // Group (1, 2, 6): baselines 4, 3.5, 1.5.
        let a = leave_one_out_advantages(&[1.0, 2.0, 6.0, 0.5, 0.5, 0.5], 3).unwrap();
        let want = [-3.0, -1.5, 4.5, 0.0, 0.0, 0.0];
        for (g, w) in a.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{a:?}");
        }
        // k = 2: s_1 - s_2 and s_2 - s_1.
        assert_eq!(
            leave_one_out_advantages(&[3.0, 1.0], 2).unwrap(),
            vec![2.0, -2.0]
        );
        assert!(leave_one_out_advantages(&[1.0, 2.0, 3.0], 2).is_err());
        assert!(leave_one_out_advantages(&[1.0, 2.0], 1).is_err());
        assert!(leave_one_out_advantages(&[1.0, f64::NAN], 2).is_err());
    }
}
