//! KTO (Ethayarajh et al. 2024, "KTO: Model Alignment as Prospect
//! Theoretic Optimization", Eqs. 7-8), computed as TRL's `KTOTrainer`
//! computes it (`loss_type = "kto"`).
//!
//! KTO learns from unpaired examples (x, y) marked desirable or
//! undesirable. With the implied reward r(x, y) = log pi(y|x) - log
//! pi_ref(y|x) and the reference point
//!
//!   z0 = max(0, mean_i [log pi(y_{i-1}|x_i) - log pi_ref(y_{i-1}|x_i)]),
//!
//! a detached estimate of KL(pi ‖ pi_ref) from mismatched pairs (each
//! prompt of the batch with the previous example's completion, TRL's "KL
//! dataset"), the per-example loss is
//!
//!   desirable:   w_D (1 - sigmoid(beta (r - z0)))
//!   undesirable: w_U (1 - sigmoid(beta (z0 - r)))
//!
//! and the batch loss is their mean. Preference pairs become KTO data by
//! splitting each into a desirable chosen and an undesirable rejected
//! example ([`unpair`], TRL's `unpair_preference_dataset`).

use duality_core::config::Validate;
use duality_core::progress::Progress;
use duality_core::seed::Seeder;
use duality_core::tensor::tch::{Kind, Tensor};
use duality_core::tensor::OptimizerConfig;
use duality_core::{Error, Result};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::{finite_loss, notify, positive_count, TrainContext, TrainLog, Trainer};
use crate::testbed::{full_mask, token_tensor, PreferencePair};
use crate::util::{scalar, shape_of};

/// KTO settings (the `[kto]` section; defaults as TRL's `KTOConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KtoConfig {
    /// beta of the implied reward (> 0).
    pub beta: f64,
    /// Weight w_D of desirable examples (> 0).
    pub desirable_weight: f64,
    /// Weight w_U of undesirable examples (> 0).
    pub undesirable_weight: f64,
    /// Passes over the examples (>= 1).
    pub epochs: usize,
    /// Examples per step (>= 1).
    pub batch_size: usize,
    /// Optimizer.
    pub optimizer: OptimizerConfig,
    /// Seed of the data order.
    pub seed: u64,
}

impl Default for KtoConfig {
    fn default() -> Self {
        KtoConfig {
            beta: 0.1,
            desirable_weight: 1.0,
            undesirable_weight: 1.0,
            epochs: 5,
            batch_size: 32,
            optimizer: OptimizerConfig::adam(1e-2),
            seed: 0,
        }
    }
}

impl Validate for KtoConfig {
    fn validate(&self) -> Result<()> {
        duality_core::check::positive("beta", self.beta)?;
        duality_core::check::positive("desirable_weight", self.desirable_weight)?;
        duality_core::check::positive("undesirable_weight", self.undesirable_weight)?;
        positive_count("epochs", self.epochs)?;
        positive_count("batch_size", self.batch_size)?;
        crate::limits::check_optimizer("optimizer", &self.optimizer)
    }
}

/// One unpaired KTO example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KtoExample {
    /// Prompt tokens.
    pub prompt: Vec<i64>,
    /// Completion tokens.
    pub completion: Vec<i64>,
    /// Whether the completion is desirable.
    pub desirable: bool,
}

/// Each pair as a desirable (chosen) and an undesirable (rejected) example,
/// in that order.
pub fn unpair(pairs: &[PreferencePair]) -> Vec<KtoExample> {
    pairs
        .iter()
        .flat_map(|p| {
            [(&p.chosen, true), (&p.rejected, false)].map(|(y, desirable)| KtoExample {
                prompt: p.prompt.clone(),
                completion: y.clone(),
                desirable,
            })
        })
        .collect()
}

/// KTO loss values of one batch.
#[derive(Debug)]
pub struct KtoLosses {
    /// Weighted per-example losses, shape `[B]`, differentiable in the policy log-probs.
    pub per_example: Tensor,
    /// The reference point z0 (detached, >= 0).
    pub kl: f64,
}

/// KTO (registry name `kto`) on the run's offline pairs, unpaired, or on
/// given examples ([`Kto::train_on`]). Log steps are epochs; metrics: loss
/// (mean batch loss), kl (mean reference point z0), desirable_reward and
/// undesirable_reward (mean beta r of each kind).
#[derive(Debug, Clone)]
pub struct Kto {
    config: KtoConfig,
}

impl Trainer for Kto {
    const NAME: &'static str = "kto";
    const ABOUT: &'static str =
        "KTO: prospect-theoretic loss on unpaired desirable / undesirable examples (Ethayarajh et al. 2024)";
    const OBSERVED: bool = true;
    type Config = KtoConfig;

    fn new(config: KtoConfig) -> Result<Self> {
        config.validate()?;
        Ok(Kto { config })
    }

    fn config(&self) -> &KtoConfig {
        &self.config
    }

    fn train(&self, ctx: &mut TrainContext<'_>) -> Result<TrainLog> {
        let examples = unpair(&ctx.offline_pairs()?);
        self.train_on(ctx, &examples)
    }
}

impl Kto {
    /// The per-example losses from the implied rewards `log_ratios` (log
    /// pi - log pi_ref of each example, `[B]`), which examples are
    /// `desirable`, and the log-ratios `kl_log_ratios` of the mismatched
    /// pairs that estimate the reference point (`[M]`, M >= 1).
    pub fn losses(
        &self,
        log_ratios: &Tensor,
        desirable: &[bool],
        kl_log_ratios: &Tensor,
    ) -> Result<KtoLosses> {
        let b = desirable.len();
        if shape_of(log_ratios) != [b] {
            return Err(Error::Shape {
                what: "KTO log-ratios (one per example)".into(),
                expected: vec![b],
                got: shape_of(log_ratios),
            });
        }
        if kl_log_ratios.numel() == 0 {
            return Err(Error::Empty {
                what: "KTO mismatched-pair log-ratios".into(),
                min: 1,
            });
        }
        let c = &self.config;
        let z0 = scalar(&kl_log_ratios.detach().mean(Kind::Double)).max(0.0);
        let d: Vec<f64> = desirable.iter().map(|&x| f64::from(u8::from(x))).collect();
        let d = Tensor::from_slice(&d).to_kind(log_ratios.kind());
        let desirable_loss = -((log_ratios - z0) * c.beta).sigmoid() + 1.0;
        let undesirable_loss = -((-log_ratios + z0) * c.beta).sigmoid() + 1.0;
        let per_example = &d * desirable_loss * c.desirable_weight
            + (-&d + 1.0) * undesirable_loss * c.undesirable_weight;
        Ok(KtoLosses {
            per_example,
            kl: z0,
        })
    }

    /// Trains on `examples`.
    pub fn train_on(
        &self,
        ctx: &mut TrainContext<'_>,
        examples: &[KtoExample],
    ) -> Result<TrainLog> {
        duality_core::check::non_empty("KTO examples", examples)?;
        let c = &self.config;
        let mut rng = Seeder::new(ctx.trainer_seed(c.seed))
            .named("kto-order")
            .rng(0);
        let (policy, reference) = (&mut *ctx.policy, ctx.reference);
        let mut opt = c.optimizer.build(policy.var_store())?;
        let steps_per_epoch = examples.len().div_ceil(c.batch_size);
        let progress = Progress::new((c.epochs * steps_per_epoch) as u64, "kto");
        let mut log = TrainLog::new("kto");
        let mut order: Vec<usize> = (0..examples.len()).collect();
        let mut step = 0;
        for epoch in 1..=c.epochs {
            order.shuffle(&mut rng);
            let mut sums = [0.0f64; 4]; // loss, kl, desirable reward, undesirable reward
            let mut counts = [0.0f64; 2]; // desirable, undesirable examples
            for chunk in order.chunks(c.batch_size) {
                let batch: Vec<&KtoExample> = chunk.iter().map(|&i| &examples[i]).collect();
                let x: Vec<&[i64]> = batch.iter().map(|e| e.prompt.as_slice()).collect();
                let y: Vec<&[i64]> = batch.iter().map(|e| e.completion.as_slice()).collect();
                // TRL's KL dataset: completion i-1 for prompt i.
                let y_kl: Vec<&[i64]> = (0..batch.len())
                    .map(|i| y[(i + batch.len() - 1) % batch.len()])
                    .collect();
                let (x, y, y_kl) = (token_tensor(&x)?, token_tensor(&y)?, token_tensor(&y_kl)?);
                let mask = full_mask(batch.len(), shape_of(&y)[1]);
                let lp = policy.completion_log_probs(&x, &y, &mask)?.sum;
                let (lr, kl) = {
                    let _g = duality_core::tensor::tch::no_grad_guard();
                    let lr = reference.completion_log_probs(&x, &y, &mask)?.sum;
                    let kl = policy.completion_log_probs(&x, &y_kl, &mask)?.sum
                        - reference.completion_log_probs(&x, &y_kl, &mask)?.sum;
                    (lr, kl)
                };
                let ratios = &lp - lr;
                let desirable: Vec<bool> = batch.iter().map(|e| e.desirable).collect();
                let out = self.losses(&ratios, &desirable, &kl)?;
                let loss = out.per_example.mean(None);
                sums[0] += finite_loss(step, &loss)?;
                sums[1] += out.kl;
                let r = crate::util::tensor_to_f64(&ratios.detach())?;
                for (ri, &di) in r.iter().zip(&desirable) {
                    let k = usize::from(!di);
                    sums[2 + k] += c.beta * ri;
                    counts[k] += 1.0;
                }
                opt.backward_step(&loss);
                step += 1;
                progress.inc(1);
            }
            let n = steps_per_epoch as f64;
            log.push(
                epoch,
                &[
                    ("loss", sums[0] / n),
                    ("kl", sums[1] / n),
                    ("desirable_reward", sums[2] / counts[0].max(1.0)),
                    ("undesirable_reward", sums[3] / counts[1].max(1.0)),
                ],
            );
            notify(&mut ctx.observer, epoch, policy)?;
        }
        progress.finish();
        Ok(log)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{run, RunConfig};

    fn sigmoid(z: f64) -> f64 {
        1.0 / (1.0 + (-z).exp())
    }

    #[test]
    fn loss_matches_hand_computation() {
        let kto = Kto::new(KtoConfig {
            beta: 0.5,
            undesirable_weight: 2.0,
            ..KtoConfig::default()
        })
        .unwrap();
        let r = Tensor::from_slice(&[0.5f64, -1.0, 2.0]);
        let d = [true, false, true];
        // z0 = mean(0.2, 0.6) = 0.4.
        let out = kto
            .losses(&r, &d, &Tensor::from_slice(&[0.2f64, 0.6]))
            .unwrap();
        assert!((out.kl - 0.4).abs() < 1e-12);
        let want = [
            1.0 - sigmoid(0.5 * (0.5 - 0.4)),
            2.0 * (1.0 - sigmoid(0.5 * (0.4 + 1.0))),
            1.0 - sigmoid(0.5 * (2.0 - 0.4)),
        ];
        let got = crate::util::tensor_to_f64(&out.per_example).unwrap();
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}");
        }
        // A negative KL estimate is clamped: z0 = 0.
        let out = kto
            .losses(&r, &d, &Tensor::from_slice(&[-0.3f64, -0.1]))
            .unwrap();
        assert_eq!(out.kl, 0.0);
        let got = crate::util::tensor_to_f64(&out.per_example).unwrap();
        assert!((got[0] - (1.0 - sigmoid(0.25))).abs() < 1e-12);
        assert!(kto.losses(&r, &d[..2], &r).is_err());
        let e = Kto::new(KtoConfig {
            desirable_weight: 0.0,
            ..KtoConfig::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("desirable_weight = 0"), "{e}");
    }

    #[test]
    fn unpair_splits_each_pair() {
        let p = PreferencePair {
            prompt: vec![1],
            chosen: vec![2, 3],
            rejected: vec![4, 5],
            gap: 0.3,
        };
        let u = unpair(&[p]);
        assert_eq!(u.len(), 2);
        assert!(u[0].desirable && u[0].completion == [2, 3]);
        assert!(!u[1].desirable && u[1].completion == [4, 5]);
    }

    #[test]
    fn kto_raises_the_hidden_reward() {
        crate::tch::set_num_threads(1);
        let config = KtoConfig {
            beta: 0.5,
            epochs: 6,
            ..KtoConfig::default()
        };
        let mut c = RunConfig::for_trainer::<Kto>(&config).unwrap();
        c.seed = 3;
        c.eval_samples = 400;
        c.curve_every = 3;
        c.curve_samples = 50;
        let r = run(&c).unwrap();
        let (t, base) = (r.true_reward.unwrap(), r.reference_reward.unwrap());
        assert!(t.mean > base.mean, "{t:?} vs reference {base:?}");
        assert!(r.win_rate.excludes_below(0.5), "{:?}", r.win_rate);
        assert_eq!(r.log.entries.len(), 6);
        assert!(r.log.entries.iter().all(|e| e.metrics["kl"] >= 0.0));
        let steps: Vec<usize> = r.curve.iter().map(|p| p.step).collect();
        assert_eq!(steps, [0, 3, 6]);
    }
}
