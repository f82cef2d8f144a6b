//! Online preference optimisation with a preference oracle (Calandriello et
//! al. 2024, "Human Alignment of Large Language Models through Online
//! Preference Optimisation"):
//!
//! - **online IPO**: both responses y, y' sampled from the current policy,
//!   loss (h(y, y') - (p - 1/2)/beta)^2 with h the log-ratio margin against the
//!   reference and p = P(y ≻ y') from the oracle (the IPO regression of Azar et
//!   al. 2024, Eq. 17, with the expected label 2p - 1 in place of a coin flip);
//! - **IPO-MD**: the same loss with both responses from the token-level
//!   geometric mixture pi^(1-m) pi_ref^m (their Sec. 4);
//! - **Nash-MD** (Munos et al. 2024, "Nash Learning from Human Feedback",
//!   Nash-MD-PG, Sec. 7): y ~ pi, y' ~ mixture, policy gradient of
//!   P(y ≻ y') - beta KL(pi || pi_ref), i.e. the score-function loss
//!   -[(p - 1/2) - beta sg(log pi(y) - log pi_ref(y))] log pi(y).

use duality_core::progress::Progress;
use duality_core::seed::Seeder;
use duality_core::tensor::tch::Tensor;
use duality_core::tensor::OptimizerConfig;
use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::{finite_loss, positive_count, TrainLog};
use crate::policy::{Policy, SamplingConfig};
use crate::testbed::{full_mask, tensor_rows, token_tensor, PreferenceOracle, TestBed};

/// Which online method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnlineMethod {
    /// Online IPO: both samples from the policy.
    #[default]
    Ipo,
    /// IPO-MD: both samples from the geometric mixture.
    IpoMd,
    /// Nash-MD-PG: one sample from the policy, one from the mixture.
    NashMd,
}

/// Online trainer settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OnlineConfig {
    /// Method.
    pub method: OnlineMethod,
    /// Regularisation beta (IPO's tau, Nash-MD's KL coefficient; > 0).
    pub beta: f64,
    /// Mixture weight m of the reference in pi^(1-m) pi_ref^m (in [0, 1]).
    pub mixture: f64,
    /// Optimizer steps.
    pub steps: usize,
    /// Prompts per step.
    pub batch_size: usize,
    /// Optimizer.
    pub optimizer: OptimizerConfig,
    /// Sampling of the responses.
    pub sampling: SamplingConfig,
    /// Seed of prompts and samples.
    pub seed: u64,
}

impl Default for OnlineConfig {
    fn default() -> Self {
        OnlineConfig {
            method: OnlineMethod::Ipo,
            beta: 0.1,
            mixture: 0.125,
            steps: 100,
            batch_size: 32,
            optimizer: OptimizerConfig::adam(1e-2),
            sampling: SamplingConfig::default(),
            seed: 0,
        }
    }
}

impl OnlineConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        duality_core::check::positive("beta", self.beta)?;
        duality_core::check::probability("mixture", self.mixture)?;
        positive_count("steps", self.steps)?;
        positive_count("batch_size", self.batch_size)?;
        duality_core::config::Validate::validate(&self.optimizer)
    }
}

/// Runs online IPO / IPO-MD / Nash-MD. Log steps are optimizer steps;
/// metrics: loss, preference (mean P(y ≻ y')), log_ratio (mean log pi/pi_ref of y).
pub fn train_online(
    policy: &mut Policy,
    reference: &Policy,
    bed: &impl TestBed,
    oracle: &impl PreferenceOracle,
    config: &OnlineConfig,
) -> Result<TrainLog> {
    config.validate()?;
    crate::logprob::check_same_vocab(policy.vocab(), reference.vocab())?;
    if bed.vocab() != policy.vocab() {
        return Err(Error::invalid(
            "test bed vocabulary",
            bed.vocab(),
            format!("the policy's vocabulary {}", policy.vocab()),
        ));
    }
    let mut opt = config.optimizer.build(policy.var_store())?;
    let seeder = Seeder::new(config.seed).named("online");
    let progress = Progress::new(config.steps as u64, "online");
    let name = match config.method {
        OnlineMethod::Ipo => "online-ipo",
        OnlineMethod::IpoMd => "ipo-md",
        OnlineMethod::NashMd => "nash-md",
    };
    let mut log = TrainLog::new(name);
    let len = bed.completion_len();
    let b = config.batch_size;
    let mask = full_mask(b, len);
    for step in 0..config.steps {
        let mut rng = seeder.rng(step as u64);
        let prompts: Vec<Vec<i64>> = (0..b).map(|_| bed.sample_prompt(&mut rng)).collect();
        let refs: Vec<&[i64]> = prompts.iter().map(|p| p.as_slice()).collect();
        let x = token_tensor(&refs)?;
        let mix = |rng: &mut _| {
            policy.sample_geometric_mixture(
                reference,
                config.mixture,
                &x,
                len,
                config.sampling,
                rng,
            )
        };
        let (y, y2) = match config.method {
            OnlineMethod::Ipo => (
                policy.sample(&x, len, config.sampling, &mut rng)?,
                policy.sample(&x, len, config.sampling, &mut rng)?,
            ),
            OnlineMethod::IpoMd => (mix(&mut rng)?, mix(&mut rng)?),
            OnlineMethod::NashMd => (
                policy.sample(&x, len, config.sampling, &mut rng)?,
                mix(&mut rng)?,
            ),
        };
        let (ya, yb) = (tensor_rows(&y)?, tensor_rows(&y2)?);
        let p: Vec<f64> = prompts
            .iter()
            .zip(ya.iter().zip(&yb))
            .map(|(x, (a, c))| oracle.prob_prefer(x, a, c))
            .collect();
        let p_t = Tensor::from_slice(&p).to_kind(duality_core::tensor::tch::Kind::Float);
        let lp_a = policy.completion_log_probs(&x, &y, &mask)?.sum;
        let lr_a = {
            let _g = duality_core::tensor::tch::no_grad_guard();
            reference.completion_log_probs(&x, &y, &mask)?.sum
        };
        let ratio_a = &lp_a - &lr_a;
        let loss = match config.method {
            OnlineMethod::Ipo | OnlineMethod::IpoMd => {
                let lp_b = policy.completion_log_probs(&x, &y2, &mask)?.sum;
                let lr_b = {
                    let _g = duality_core::tensor::tch::no_grad_guard();
                    reference.completion_log_probs(&x, &y2, &mask)?.sum
                };
                let h = &ratio_a - (lp_b - lr_b);
                (h - (p_t - 0.5) / config.beta).square().mean(None)
            }
            OnlineMethod::NashMd => {
                let advantage = (p_t - 0.5) - ratio_a.detach() * config.beta;
                -(advantage * &lp_a).mean(None)
            }
        };
        let value = finite_loss(step, &loss)?;
        opt.backward_step(&loss);
        progress.inc(1);
        let mean_p = p.iter().sum::<f64>() / b as f64;
        let mean_ratio = crate::util::scalar(&ratio_a.mean(None));
        log.push(
            step + 1,
            &[
                ("loss", value),
                ("preference", mean_p),
                ("log_ratio", mean_ratio),
            ],
        );
    }
    progress.finish();
    Ok(log)
}
