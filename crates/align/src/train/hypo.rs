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
//!
//! `kl_estimator = "exact"` (ours, for the issue-20 investigation of why
//! HyPO loses to offline DPO here) replaces the sampled estimate by the exact
//! KL of each distinct prompt of the online batch, enumerating all V^L
//! completions: sum_y pi(y|x) (log pi(y|x) - log pi_ref(y|x)), differentiated
//! by autograd, averaged over the batch's prompts with their multiplicities.
//! Its gradient is the expectation of the RLOO gradient over the responses,
//! so comparing the two isolates the response-sampling variance of the KL
//! estimator (only possible on the tiny beds: at most
//! [`MAX_EXACT_COMPLETIONS`] completions per prompt).

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

/// How HyPO estimates KL(pi_theta || pi_ref) and its gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum KlEstimator {
    /// REINFORCE with the leave-one-out baseline over `samples_per_prompt`
    /// fresh responses per prompt (the paper's experiments).
    #[default]
    Rloo,
    /// The exact KL of each distinct online prompt over all V^L completions
    /// (no response-sampling variance; tiny beds only).
    Exact,
}

crate::util::named_enum!(KlEstimator, "kl estimator", {
    Rloo => "rloo",
    Exact => "exact",
});

/// The most completions per prompt (V^L) the exact KL estimator enumerates.
pub const MAX_EXACT_COMPLETIONS: usize = 1 << 16;

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
    /// rloo (default, the paper's) | exact (enumerates all completions).
    pub kl_estimator: KlEstimator,
}

impl Default for HypoConfig {
    fn default() -> Self {
        HypoConfig {
            offline: OfflineConfig::default(),
            kl_coef: 0.1,
            online_batch: 16,
            samples_per_prompt: 2,
            sampling: SamplingConfig::default(),
            kl_estimator: KlEstimator::Rloo,
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

/// Every completion of `len` tokens over `vocab` tokens, as a `[V^L, L]`
/// tensor (refused beyond [`MAX_EXACT_COMPLETIONS`]).
pub fn all_completions(vocab: usize, len: usize) -> Result<Tensor> {
    let n = u32::try_from(len)
        .ok()
        .and_then(|l| vocab.checked_pow(l))
        .filter(|&n| n <= MAX_EXACT_COMPLETIONS)
        .ok_or_else(|| {
            Error::invalid(
                "kl_estimator = \"exact\"",
                format!("vocab {vocab} ^ completion length {len} completions"),
                format!("at most {MAX_EXACT_COMPLETIONS} completions per prompt (use \"rloo\")"),
            )
        })?;
    let mut flat = Vec::with_capacity(n * len);
    for i in 0..n {
        let mut rest = i;
        let mut row = vec![0i64; len];
        for t in (0..len).rev() {
            row[t] = (rest % vocab) as i64;
            rest /= vocab;
        }
        flat.extend(row);
    }
    Ok(Tensor::from_slice(&flat).view([n as i64, len as i64]))
}

/// The exact KL(pi || pi_ref), averaged over `prompts` (with their
/// multiplicities), by enumerating the completions `ys` (`[N, L]`, all of
/// them): sum_y pi(y|x) (log pi(y|x) - log pi_ref(y|x)), differentiable in
/// the policy. Each distinct prompt is evaluated once.
pub fn exact_kl(
    policy: &crate::policy::Policy,
    reference: &crate::policy::Policy,
    prompts: &[&[i64]],
    ys: &Tensor,
) -> Result<Tensor> {
    duality_core::check::non_empty("online prompts", prompts)?;
    let mut distinct: Vec<(&[i64], usize)> = Vec::new();
    for &p in prompts {
        match distinct.iter_mut().find(|(q, _)| *q == p) {
            Some(e) => e.1 += 1,
            None => distinct.push((p, 1)),
        }
    }
    let size = ys.size();
    let (n, len) = (size[0] as usize, size[1] as usize);
    let mask = full_mask(n, len);
    let mut total: Option<Tensor> = None;
    for (p, count) in distinct {
        let x = token_tensor(&vec![p; n])?;
        let lp = policy.completion_log_probs(&x, ys, &mask)?.sum;
        let lr = {
            let _g = duality_core::tensor::tch::no_grad_guard();
            reference.completion_log_probs(&x, ys, &mask)?.sum
        };
        let kl = (lp.exp() * (&lp - lr)).sum(None) * (count as f64 / prompts.len() as f64);
        total = Some(match total {
            Some(t) => t + kl,
            None => kl,
        });
    }
    total.ok_or_else(|| Error::Empty {
        what: "online prompts".into(),
        min: 1,
    })
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
        let all = match config.kl_estimator {
            KlEstimator::Exact => Some(all_completions(ctx.bed.vocab(), len)?),
            KlEstimator::Rloo => None,
        };
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
                let (kl_term, kl_value) = match &all {
                    None => {
                        // Online, unlabeled responses for the minibatch's prompts (x ~ D).
                        let mut rng = seeder.rng(step as u64);
                        let xs: Vec<&[i64]> = (0..config.online_batch)
                            .flat_map(|i| {
                                std::iter::repeat_n(refs[i % refs.len()].prompt.as_slice(), k)
                            })
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
                        (
                            (adv_t * &lp).mean(None),
                            ratios.iter().sum::<f64>() / rows as f64,
                        )
                    }
                    Some(ys) => {
                        let prompts: Vec<&[i64]> = (0..config.online_batch)
                            .map(|i| refs[i % refs.len()].prompt.as_slice())
                            .collect();
                        let kl = exact_kl(policy, reference, &prompts, ys)?;
                        let v = crate::util::scalar(&kl);
                        (kl, v)
                    }
                };
                let loss = &dpo + kl_term * config.kl_coef;
                finite_loss(step, &loss)?;
                total += crate::util::scalar(&dpo);
                kl_sum += kl_value;
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
    fn exact_kl_is_zero_at_the_reference_and_matches_enumeration() {
        use crate::policy::{Policy, PolicyConfig};
        let policy = Policy::new(&PolicyConfig::gru(3), 1).unwrap();
        let other = Policy::new(&PolicyConfig::gru(3), 2).unwrap();
        let same = policy.frozen_copy().unwrap();
        let ys = all_completions(3, 2).unwrap();
        assert_eq!(ys.size(), [9, 2]);
        let rows = crate::testbed::tensor_rows(&ys).unwrap();
        assert_eq!(rows[5], [1, 2]);
        let x: [&[i64]; 3] = [&[0], &[1], &[0]];
        let kl0 = crate::util::scalar(&exact_kl(&policy, &same, &x, &ys).unwrap());
        assert!(kl0.abs() < 1e-6, "{kl0}");
        // By hand: sum_y p (log p - log q) per prompt, weighted 2/3, 1/3.
        let kl = crate::util::scalar(&exact_kl(&policy, &other, &x, &ys).unwrap());
        let mask = full_mask(9, 2);
        let mut want = 0.0;
        for (prompt, w) in [(0i64, 2.0 / 3.0), (1, 1.0 / 3.0)] {
            let xt = token_tensor(&[&[prompt][..]; 9]).unwrap();
            let p = crate::util::tensor_to_f64(
                &policy.completion_log_probs(&xt, &ys, &mask).unwrap().sum,
            )
            .unwrap();
            let q = crate::util::tensor_to_f64(
                &other.completion_log_probs(&xt, &ys, &mask).unwrap().sum,
            )
            .unwrap();
            let total: f64 = p.iter().map(|l| l.exp()).sum();
            assert!((total - 1.0).abs() < 1e-5, "{total}");
            want += w * p
                .iter()
                .zip(&q)
                .map(|(a, b)| a.exp() * (a - b))
                .sum::<f64>();
        }
        assert!(kl > 0.0 && (kl - want).abs() < 1e-5, "{kl} vs {want}");
        let e = all_completions(13, 8).unwrap_err().to_string();
        assert!(e.contains("exact") && e.contains("rloo"), "{e}");
    }

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
