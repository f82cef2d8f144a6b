//! Online preference optimisation with a preference oracle (Calandriello et
//! al. 2024, "Human Alignment of Large Language Models through Online
//! Preference Optimisation"):
//!
//! - **online IPO**: both responses y, y' sampled from the current policy and
//!   *annotated* by the preference oracle: a winner is drawn with
//!   I ~ Bernoulli(P(y ≻ y')) and the pair, ordered as (y_w, y_l), takes the
//!   IPO loss of Azar et al. 2024, Eq. 17, (h(y_w, y_l) - 1/(2 beta))^2, with h
//!   the log-ratio margin against the reference. Written on the unordered
//!   pair that is (h(y, y') - (I - 1/2)/beta)^2. Its expectation over I has
//!   the same gradient as the expected-label regression
//!   (h(y, y') - (P(y ≻ y') - 1/2)/beta)^2 that the paper's equivalence with
//!   Nash-MD is stated for; [`PreferenceLabels::Expected`] trains on that
//!   lower-variance form instead;
//! - **IPO-MD**: the same loss with both responses from the token-level
//!   geometric mixture pi^(1-m) pi_ref^m (their Sec. 4);
//! - **Nash-MD** (Munos et al. 2024, "Nash Learning from Human Feedback",
//!   Nash-MD-PG, Sec. 7): y ~ pi, y' ~ mixture, policy gradient of
//!   P(y ≻ y') - beta KL(pi || pi_ref), i.e. the score-function loss
//!   -[(p - 1/2) - beta sg(log pi(y) - log pi_ref(y))] log pi(y)
//!   (`nash_md_kl = "sequence"`, the paper's form: one sequence log-ratio
//!   weights the whole sequence's score), or TRL's `NashMDTrainer` form
//!   (`"token"`): -(p - 1/2) log pi(y) + beta sum_t sg(log pi(y_t) - log
//!   pi_ref(y_t)) log pi(y_t), each token's score weighted by its own
//!   log-ratio only.
//!
//! IPO's margin h is the same as the offline loss's
//! ([`crate::loss::IpoNormalization`]): sequence sums by default (Azar et
//! al. 2024, Eq. 17; TRL's `OnlineDPOTrainer`), per-token averages with
//! `ipo_normalization = "length"`.
//!
//! Labels of online IPO / IPO-MD ([`PreferenceLabels`]): our default draws
//! I ~ Bernoulli(P(y ≻ y')), whose expectation is P(y ≻ y'), so the
//! expected loss is the regression on P that Calandriello et al. show to
//! share Nash-MD's fixed point (the regularised Nash equilibrium of the
//! preference game). TRL's `OnlineDPOTrainer` instead labels the pair by
//! its judge's argmax, I = 1[P(y ≻ y') > 1/2]: the regression target is
//! then a step function of P, which is the game of the deterministic
//! majority preference — a different fixed point whenever preferences are
//! not certain. `labels = "argmax"` offers TRL's labels (ties, P = 1/2, get
//! the label 1/2).

use duality_core::config::Validate;
use duality_core::progress::Progress;
use duality_core::seed::Seeder;
use duality_core::tensor::tch::Tensor;
use duality_core::tensor::OptimizerConfig;
use duality_core::Result;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{finite_loss, notify, positive_count, TrainContext, TrainLog, Trainer};
use crate::loss::IpoNormalization;
use crate::policy::{Policy, SamplingConfig};
use crate::testbed::{full_mask, tensor_rows, token_tensor, PreferenceOracle, Task};

/// Which online method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum OnlineMethod {
    /// Online IPO: both samples from the policy.
    #[default]
    Ipo,
    /// IPO-MD: both samples from the geometric mixture.
    IpoMd,
    /// Nash-MD-PG: one sample from the policy, one from the mixture.
    NashMd,
    /// Online DPO (Guo et al. 2024, "Direct Language Model Alignment from
    /// Online AI Feedback"; TRL's `OnlineDPOTrainer`): both samples from
    /// the policy, labelled like online IPO, DPO's logistic loss on the
    /// sequence-sum margin, -[I log sigma(beta h) + (1 - I) log sigma(-beta h)].
    Dpo,
}

/// How the oracle labels a sampled pair for online IPO / IPO-MD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PreferenceLabels {
    /// A binary preference I ~ Bernoulli(P(y ≻ y')), i.e. the annotated
    /// pair (y_w, y_l) of Calandriello et al. 2024 (Sec. 4, online IPO).
    #[default]
    Sampled,
    /// The expected preference P(y ≻ y') as a soft label (same expected
    /// gradient, less variance).
    Expected,
    /// TRL's `OnlineDPOTrainer` labels: the judge's argmax,
    /// 1[P(y ≻ y') > 1/2] (1/2 on a tie); changes the fixed point (module
    /// docs).
    Argmax,
}

/// Nash-MD's KL term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum NashMdKl {
    /// The paper's: sg(log pi(y)/pi_ref(y)) log pi(y), sequence sums.
    #[default]
    Sequence,
    /// TRL's `NashMDTrainer`: sum_t sg(log pi(y_t)/pi_ref(y_t)) log pi(y_t).
    Token,
}

crate::util::named_enum!(NashMdKl, "nash-md kl", {
    Sequence => "sequence",
    Token => "token",
});

crate::util::named_enum!(OnlineMethod, "online method", {
    Ipo => "ipo",
    IpoMd => "ipo-md",
    NashMd => "nash-md",
    Dpo => "dpo",
});

crate::util::named_enum!(PreferenceLabels, "labels", {
    Sampled => "sampled",
    Expected => "expected",
    Argmax => "argmax",
});

/// Online trainer settings (the `[online]` section).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OnlineConfig {
    /// Method.
    pub method: OnlineMethod,
    /// Regularisation beta (IPO's tau, Nash-MD's KL coefficient; > 0).
    pub beta: f64,
    /// Mixture weight m of the reference in pi^(1-m) pi_ref^m (in [0, 1]).
    pub mixture: f64,
    /// Labels of online IPO / IPO-MD pairs (Nash-MD always uses P(y ≻ y')).
    pub labels: PreferenceLabels,
    /// IPO's margin: sequence sums (default) or per-token averages, as the
    /// offline loss's `ipo_normalization`.
    pub ipo_normalization: IpoNormalization,
    /// Nash-MD's KL term: the paper's sequence form or TRL's per-token form.
    pub nash_md_kl: NashMdKl,
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
            labels: PreferenceLabels::Sampled,
            ipo_normalization: IpoNormalization::Sum,
            nash_md_kl: NashMdKl::Sequence,
            steps: 100,
            batch_size: 32,
            optimizer: OptimizerConfig::adam(1e-2),
            sampling: SamplingConfig::default(),
            seed: 0,
        }
    }
}

impl Validate for OnlineConfig {
    fn validate(&self) -> Result<()> {
        duality_core::check::positive("beta", self.beta)?;
        duality_core::check::probability("mixture", self.mixture)?;
        positive_count("steps", self.steps)?;
        positive_count("batch_size", self.batch_size)?;
        crate::limits::check_optimizer("optimizer", &self.optimizer)
    }
}

/// The online-IPO regression per pair, (h(y, y') - (label - 1/2)/beta)^2
/// (Azar et al. 2024, Eq. 17 written on an unordered pair; Calandriello et
/// al. 2024, Sec. 4): with a binary `label` (1 when y won) it is the IPO loss
/// (h(y_w, y_l) - 1/(2 beta))^2 of the ordered pair; with `label` = P(y ≻ y')
/// it is the expected-label form.
pub fn ipo_regression(h: &Tensor, label: &Tensor, beta: f64) -> Tensor {
    (h - (label - 0.5) / beta).square()
}

/// Nash-MD-PG's per-row loss from per-token log-probs `[B, T]` of y under
/// the policy (`policy_tokens`, with gradients) and the reference, and
/// P(y ≻ y') `p` `[B]`: the paper's sequence form
/// -[(p - 1/2) - beta sg(sum_t r_t)] sum_t log pi(y_t), or TRL's token form
/// beta sum_t sg(r_t) log pi(y_t) - (p - 1/2) sum_t log pi(y_t), with
/// r_t = log pi(y_t) - log pi_ref(y_t) (zeros outside the mask).
pub fn nash_md_loss(
    policy_tokens: &Tensor,
    reference_tokens: &Tensor,
    p: &Tensor,
    beta: f64,
    kl: NashMdKl,
) -> Tensor {
    let kind = policy_tokens.kind();
    let rows = |t: &Tensor| t.sum_dim_intlist([1i64].as_slice(), false, kind);
    let ratio = (policy_tokens - reference_tokens).detach();
    let lp = rows(policy_tokens);
    let score = p - 0.5;
    match kl {
        NashMdKl::Sequence => -((score - rows(&ratio) * beta) * lp),
        NashMdKl::Token => rows(&(ratio * policy_tokens)) * beta - score * lp,
    }
}

/// TRL's argmax label of a pair with preference probability `p`: 1 when
/// the first response is preferred, 0 when the second, 1/2 on a tie.
pub fn argmax_label(p: f64) -> f64 {
    if p > 0.5 {
        1.0
    } else if p < 0.5 {
        0.0
    } else {
        0.5
    }
}

/// Online IPO / IPO-MD / Nash-MD (registry name `online`) against the
/// context's test-bed oracle. Log steps are optimizer steps; metrics: loss,
/// preference (mean P(y ≻ y')), log_ratio (mean log pi/pi_ref of y).
#[derive(Debug, Clone)]
pub struct Online {
    config: OnlineConfig,
}

impl Trainer for Online {
    const NAME: &'static str = "online";
    const ABOUT: &'static str =
        "online IPO / IPO-MD / Nash-MD with the test bed's preference oracle (Calandriello et al. 2024; Munos et al. 2024)";
    const OBSERVED: bool = true;
    type Config = OnlineConfig;

    fn new(config: OnlineConfig) -> Result<Self> {
        config.validate()?;
        Ok(Online { config })
    }

    fn config(&self) -> &OnlineConfig {
        &self.config
    }

    fn train(&self, ctx: &mut TrainContext<'_>) -> Result<TrainLog> {
        let config = &self.config;
        let seeder = Seeder::new(ctx.trainer_seed(config.seed)).named("online");
        let (policy, reference, bed) = (&mut *ctx.policy, ctx.reference, ctx.bed);
        let oracle = bed.oracle();
        // Each prompt gets two responses (and the reference scores both).
        super::check_batch(
            policy,
            bed.completion_len(),
            &[("batch_size", config.batch_size), ("responses", 2)],
        )?;
        let mut opt = config.optimizer.build(policy.var_store())?;
        let progress = Progress::new(config.steps as u64, "online");
        let name = match config.method {
            OnlineMethod::Ipo => "online-ipo",
            OnlineMethod::IpoMd => "ipo-md",
            OnlineMethod::NashMd => "nash-md",
            OnlineMethod::Dpo => "online-dpo",
        };
        let mut log = TrainLog::new(name);
        let b = config.batch_size;
        for step in 0..config.steps {
            let mut rng = seeder.rng(step as u64);
            let mut batch = sample_batch(policy, reference, bed, oracle, config, &mut rng)?;
            let loss = batch.loss(policy, reference, config)?;
            let value = finite_loss(step, &loss)?;
            opt.backward_step(&loss);
            progress.inc(1);
            let mean_p = batch.preference.iter().sum::<f64>() / b as f64;
            log.push(
                step + 1,
                &[
                    ("loss", value),
                    ("preference", mean_p),
                    ("log_ratio", batch.mean_log_ratio),
                ],
            );
            notify(&mut ctx.observer, step + 1, policy)?;
        }
        progress.finish();
        Ok(log)
    }
}

/// One step's sampled, labelled batch.
struct OnlineBatch {
    prompts: Tensor,
    first: Tensor,
    second: Tensor,
    /// P(first ≻ second) per row.
    preference: Vec<f64>,
    /// The label the loss regresses on (sampled or expected preference).
    target: Vec<f64>,
    mean_log_ratio: f64,
}

/// Samples the step's prompts and response pairs from the method's
/// samplers and labels them with the oracle.
fn sample_batch<R: Rng>(
    policy: &Policy,
    reference: &Policy,
    bed: &(impl Task + ?Sized),
    oracle: &(impl PreferenceOracle + ?Sized),
    config: &OnlineConfig,
    rng: &mut R,
) -> Result<OnlineBatch> {
    let len = bed.completion_len();
    let prompts: Vec<Vec<i64>> = (0..config.batch_size)
        .map(|_| bed.sample_prompt(rng))
        .collect();
    let refs: Vec<&[i64]> = prompts.iter().map(|p| p.as_slice()).collect();
    let x = token_tensor(&refs)?;
    let mix = |rng: &mut R| {
        policy.sample_geometric_mixture(reference, config.mixture, &x, len, config.sampling, rng)
    };
    let (y, y2) = match config.method {
        OnlineMethod::Ipo | OnlineMethod::Dpo => (
            policy.sample(&x, len, config.sampling, rng)?,
            policy.sample(&x, len, config.sampling, rng)?,
        ),
        OnlineMethod::IpoMd => (mix(&mut *rng)?, mix(&mut *rng)?),
        OnlineMethod::NashMd => (
            policy.sample(&x, len, config.sampling, rng)?,
            mix(&mut *rng)?,
        ),
    };
    let (ya, yb) = (tensor_rows(&y)?, tensor_rows(&y2)?);
    let p: Vec<f64> = prompts
        .iter()
        .zip(ya.iter().zip(&yb))
        .map(|(x, (a, c))| oracle.prob_prefer(x, a, c))
        .collect();
    let target: Vec<f64> = match (config.method, config.labels) {
        (OnlineMethod::NashMd, _) | (_, PreferenceLabels::Expected) => p.clone(),
        (_, PreferenceLabels::Sampled) => p
            .iter()
            .map(|&q| if rng.random::<f64>() < q { 1.0 } else { 0.0 })
            .collect(),
        (_, PreferenceLabels::Argmax) => p.iter().map(|&q| argmax_label(q)).collect(),
    };
    Ok(OnlineBatch {
        prompts: x,
        first: y,
        second: y2,
        preference: p,
        target,
        mean_log_ratio: 0.0,
    })
}

impl OnlineBatch {
    /// The method's loss on this batch (records the mean log-ratio of the
    /// first responses for the log).
    fn loss(
        &mut self,
        policy: &Policy,
        reference: &Policy,
        config: &OnlineConfig,
    ) -> Result<Tensor> {
        let (x, y, y2) = (&self.prompts, &self.first, &self.second);
        let mask = full_mask(config.batch_size, crate::util::shape_of(y)[1]);
        let p_t = Tensor::from_slice(&self.target).to_kind(duality_core::tensor::tch::Kind::Float);
        let seq_a = policy.completion_log_probs(x, y, &mask)?;
        let ref_a = {
            let _g = duality_core::tensor::tch::no_grad_guard();
            reference.completion_log_probs(x, y, &mask)?
        };
        let lp_a = &seq_a.sum;
        let ratio_a = lp_a - &ref_a.sum;
        let len = crate::util::shape_of(y)[1] as f64;
        let per_len = |h: Tensor| match config.ipo_normalization {
            IpoNormalization::Sum => h,
            IpoNormalization::Length => h / len,
        };
        let loss = match config.method {
            OnlineMethod::Ipo | OnlineMethod::IpoMd => {
                let lp_b = policy.completion_log_probs(x, y2, &mask)?.sum;
                let lr_b = {
                    let _g = duality_core::tensor::tch::no_grad_guard();
                    reference.completion_log_probs(x, y2, &mask)?.sum
                };
                let h = per_len(&ratio_a - (lp_b - lr_b));
                ipo_regression(&h, &p_t, config.beta).mean(None)
            }
            OnlineMethod::Dpo => {
                let lp_b = policy.completion_log_probs(x, y2, &mask)?.sum;
                let lr_b = {
                    let _g = duality_core::tensor::tch::no_grad_guard();
                    reference.completion_log_probs(x, y2, &mask)?.sum
                };
                let z = (&ratio_a - (lp_b - lr_b)) * config.beta;
                -(&p_t * z.log_sigmoid() + (-&p_t + 1.0) * (-z).log_sigmoid()).mean(None)
            }
            OnlineMethod::NashMd => nash_md_loss(
                &seq_a.per_token,
                &ref_a.per_token,
                &p_t,
                config.beta,
                config.nash_md_kl,
            )
            .mean(None),
        };
        self.mean_log_ratio = crate::util::scalar(&ratio_a.mean(None));
        Ok(loss)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::{loss_values, LossConfig, LossKind, PairLogProbs};

    #[test]
    fn sampled_labels_give_the_ipo_loss_of_the_ordered_pair() {
        let beta = 0.7;
        // h(y, y') of four pairs, from made-up log-probs.
        let (pa, pb, ra, rb) = (
            [-2.0, -5.0, -1.0, -3.0],
            [-3.0, -1.0, -4.0, -3.5],
            [-2.5, -4.0, -2.0, -3.0],
            [-2.0, -2.0, -3.0, -3.0],
        );
        let h: Vec<f64> = (0..4).map(|i| (pa[i] - ra[i]) - (pb[i] - rb[i])).collect();
        let h_t = Tensor::from_slice(&h);
        let ipo = LossConfig::new(LossKind::Ipo, beta).check().unwrap();
        let won = crate::util::tensor_to_f64(&ipo_regression(
            &h_t,
            &Tensor::from_slice(&[1.0f64; 4]),
            beta,
        ))
        .unwrap();
        let want = loss_values(
            &ipo,
            &PairLogProbs::from_slices(&pa, &pb, &ra, &rb, None).unwrap(),
        )
        .unwrap();
        let lost = crate::util::tensor_to_f64(&ipo_regression(
            &h_t,
            &Tensor::from_slice(&[0.0f64; 4]),
            beta,
        ))
        .unwrap();
        let swapped = loss_values(
            &ipo,
            &PairLogProbs::from_slices(&pb, &pa, &rb, &ra, None).unwrap(),
        )
        .unwrap();
        for i in 0..4 {
            assert!((won[i] - want[i]).abs() < 1e-12);
            assert!((lost[i] - swapped[i]).abs() < 1e-12);
        }
        // Expected gradient in h over I ~ Bernoulli(p) equals the soft-label gradient:
        // d/dh = 2 (h - (I - 1/2)/beta), linear in I.
        let (p, h0) = (0.3, 0.4);
        let g = |label: f64| 2.0 * (h0 - (label - 0.5) / beta);
        assert!((p * g(1.0) + (1.0 - p) * g(0.0) - g(p)).abs() < 1e-12);
    }
}

#[cfg(test)]
mod form_tests {
    use super::*;
    use duality_core::tensor::tch::Kind;

    /// Nash-MD's two KL forms by hand on one row of two tokens: policy
    /// log-probs (-1, -2), reference (-1.5, -1), p = 0.8, beta = 0.5, so
    /// r = (0.5, -1), sum r = -0.5, sum log pi = -3. Values: sequence
    /// -[0.3 - 0.5 (-0.5)] (-3) = 1.65, token 0.5 (0.5 (-1) + (-1)(-2)) -
    /// 0.3 (-3) = 1.65 (equal here by chance); gradients in log pi(y_t):
    /// sequence -(0.3 + 0.25) = -0.55 for both tokens, token 0.5 r_t - 0.3
    /// = -0.05 and -0.8.
    #[test]
    fn nash_md_token_and_sequence_forms_by_hand() {
        let lp = Tensor::from_slice(&[-1.0f64, -2.0])
            .reshape([1, 2])
            .set_requires_grad(true);
        let rf = Tensor::from_slice(&[-1.5f64, -1.0]).reshape([1, 2]);
        let p = Tensor::from_slice(&[0.8f64]);
        let grad = |kl: NashMdKl| {
            let l = nash_md_loss(&lp, &rf, &p, 0.5, kl).sum(Kind::Double);
            let v = l.double_value(&[]);
            let g = Tensor::run_backward(&[&l], &[&lp], false, false);
            (v, crate::util::tensor_to_f64(&g[0].flatten(0, -1)).unwrap())
        };
        let (vs, gs) = grad(NashMdKl::Sequence);
        let (vt, gt) = grad(NashMdKl::Token);
        assert!(
            (vs - 1.65).abs() < 1e-12 && (vt - 1.65).abs() < 1e-12,
            "{vs} {vt}"
        );
        for g in &gs {
            assert!((g + 0.55).abs() < 1e-12, "{gs:?}");
        }
        assert!(
            (gt[0] + 0.05).abs() < 1e-12 && (gt[1] + 0.8).abs() < 1e-12,
            "{gt:?}"
        );
    }

    #[test]
    fn argmax_labels_length_ipo_and_token_nash_md_train() {
        duality_core::tensor::tch::set_num_threads(1);
        for (method, tweak) in [
            (OnlineMethod::Dpo, 0),
            (OnlineMethod::Ipo, 0),
            (OnlineMethod::IpoMd, 1),
            (OnlineMethod::NashMd, 2),
        ] {
            let mut c = crate::run::RunConfig {
                trainer: Online::NAME.into(),
                eval_samples: 20,
                ..crate::run::RunConfig::default()
            };
            c.edit_trainer_config::<Online>(|o| {
                o.method = method;
                o.steps = 2;
                o.batch_size = 4;
                match tweak {
                    0 => o.labels = PreferenceLabels::Argmax,
                    1 => o.ipo_normalization = IpoNormalization::Length,
                    _ => o.nash_md_kl = NashMdKl::Token,
                }
            })
            .unwrap();
            let log = crate::run::run(&c).unwrap().log;
            assert_eq!(log.entries.len(), 2);
            assert!(log.last("loss").unwrap().is_finite());
        }
    }

    #[test]
    fn argmax_labels_threshold_the_preference() {
        assert_eq!(
            [0.9, 0.51, 0.5, 0.2].map(argmax_label),
            [1.0, 1.0, 0.5, 0.0]
        );
        assert_eq!(
            "argmax".parse::<PreferenceLabels>().unwrap(),
            PreferenceLabels::Argmax
        );
        assert_eq!("token".parse::<NashMdKl>().unwrap(), NashMdKl::Token);
    }
}
