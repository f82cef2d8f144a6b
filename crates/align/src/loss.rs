//! Pairwise preference losses of the DPO family, in log space.
//!
//! Notation: for a pair (chosen y_w, rejected y_l) with policy log-probs
//! `pc`, `pr` and reference log-probs `rc`, `rr`, the log-ratio margin is
//! h = (pc - rc) - (pr - rr). Every loss below is written with
//! `log_sigmoid` / `softplus` (never `log(sigmoid(.))`), so it is finite for
//! any finite input.

use duality_core::config::Validate;
use duality_core::tensor::tch::{Kind, Tensor};
use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::util::{all_finite, scalar, shape_of};

/// Which pairwise loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum LossKind {
    /// DPO (Rafailov et al. 2023, Eq. 7): -log sigmoid(beta h).
    #[default]
    Dpo,
    /// Conservative DPO (Mitchell 2023, "A note on DPO with noisy preferences";
    /// TRL's `sigmoid` with `label_smoothing`):
    /// -(1-e) log sigmoid(beta h) - e log sigmoid(-beta h).
    Cdpo,
    /// IPO (Azar et al. 2024, "A General Theoretical Paradigm to Understand
    /// Learning from Human Preferences", Eq. 17): (h - 1/(2 beta))^2 on
    /// sequence log-likelihoods (the paper's definition and TRL's
    /// `OnlineDPOTrainer`; the online trainer uses the same), or with
    /// [`IpoNormalization::Length`] TRL's `DPOTrainer` form
    /// (h_w/|y_w| - h_l/|y_l| - 1/(2 beta))^2 (needs token counts).
    Ipo,
    /// The hinge on reference log-ratios, relu(1 - beta h): RSO's hinge
    /// (Liu et al. 2024, "Statistical Rejection Sampling Improves Preference
    /// Optimization", Eq. 8) and TRL's `loss_type = "hinge"`, often called
    /// SLiC. Not SLiC-HF itself: that is [`LossKind::SlicHf`].
    Slic,
    /// SLiC-HF (Zhao et al. 2023, "SLiC-HF: Sequence Likelihood Calibration
    /// with Human Feedback", Eq. 2 with the chosen response as the
    /// regularisation target, their "SLiC-HF direct"): reference-free,
    /// max(0, delta - log pi(y_w|x) + log pi(y_l|x)) - lambda log pi(y_w|x)
    /// on sequence log-likelihoods, delta = `slic_delta`, lambda =
    /// `slic_lambda` (`beta` unused). No TRL counterpart: checked against a
    /// hand computation.
    #[serde(rename = "slic-hf")]
    SlicHf,
    /// Robust DPO (Chowdhury et al. 2024, "Provably Robust DPO", Eq. 8):
    /// [-(1-e) log sigmoid(beta h) + e log sigmoid(-beta h)] / (1 - 2e).
    Robust,
    /// SimPO (Meng et al. 2024, Eq. 6), reference-free on length-averaged
    /// log-probs: -log sigmoid(beta (pc/|y_w| - pr/|y_l|) - gamma).
    Simpo,
    /// ORPO (Hong et al. 2024, Eqs. 4-7), reference-free: the SFT NLL of the
    /// chosen responses, averaged per token over all chosen tokens of the
    /// batch, -sum_i pc_i / sum_i |y_w,i| (TRL's `ORPOTrainer`, an
    /// `nn.CrossEntropyLoss` over the chosen batch), minus beta times the mean
    /// of log sigmoid(log odds(y_w) - log odds(y_l)), with odds from
    /// length-averaged log-probs as TRL computes them. Per pair, the batch
    /// loss splits as -pc_i / mean_j |y_w,j| - beta log sigmoid(...), whose
    /// mean over the batch is the loss above.
    Orpo,
}

crate::util::named_enum!(LossKind, "loss", {
    Dpo => "dpo",
    Cdpo => "cdpo",
    Ipo => "ipo",
    Slic => "slic",
    SlicHf => "slic-hf",
    Robust => "robust",
    Simpo => "simpo",
    Orpo => "orpo",
});

impl LossKind {
    /// Whether the loss uses the reference policy's log-probs.
    pub fn needs_reference(self) -> bool {
        !matches!(self, LossKind::Simpo | LossKind::Orpo | LossKind::SlicHf)
    }
}

/// How IPO measures the log-ratio margin h.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum IpoNormalization {
    /// Sequence log-likelihood sums (Azar et al. 2024, Eq. 17; TRL's
    /// `OnlineDPOTrainer`).
    #[default]
    Sum,
    /// Per-token averages h_w/|y_w| - h_l/|y_l| (TRL's `DPOTrainer`); on
    /// completions of L tokens this is the sum form with beta / L in the
    /// target and the loss scaled by 1/L^2.
    Length,
}

crate::util::named_enum!(IpoNormalization, "ipo normalization", {
    Sum => "sum",
    Length => "length",
});

/// Hyper-parameters of a pairwise loss, as written in TOML; checked once by
/// [`LossConfig::check`] into a [`Loss`], which is what computes losses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LossConfig {
    /// Which loss.
    pub kind: LossKind,
    /// Inverse temperature / KL strength beta (> 0). For IPO it is TRL's beta
    /// (the paper's tau); for ORPO it is the odds-ratio weight lambda.
    pub beta: f64,
    /// Label-noise rate e in [0, 0.5) for conservative and robust DPO.
    pub label_smoothing: f64,
    /// SimPO's target margin gamma (>= 0), applied as beta * (... - gamma/beta) like TRL.
    pub simpo_gamma: f64,
    /// IPO's margin: sequence sums (default) or per-token averages.
    pub ipo_normalization: IpoNormalization,
    /// SLiC-HF's calibration margin delta (> 0).
    pub slic_delta: f64,
    /// SLiC-HF's weight lambda of the chosen response's NLL (>= 0).
    pub slic_lambda: f64,
}

impl Default for LossConfig {
    fn default() -> Self {
        LossConfig {
            kind: LossKind::Dpo,
            beta: 0.1,
            label_smoothing: 0.0,
            simpo_gamma: 0.5,
            ipo_normalization: IpoNormalization::Sum,
            slic_delta: 1.0,
            slic_lambda: 0.1,
        }
    }
}

impl LossConfig {
    /// A config of the given kind with beta, other fields at their defaults.
    pub fn new(kind: LossKind, beta: f64) -> Self {
        LossConfig {
            kind,
            beta,
            ..Self::default()
        }
    }

    /// Sets the label-smoothing rate, builder-style.
    pub fn label_smoothing(mut self, e: f64) -> Self {
        self.label_smoothing = e;
        self
    }

    /// Sets IPO's normalisation, builder-style.
    pub fn ipo_normalization(mut self, n: IpoNormalization) -> Self {
        self.ipo_normalization = n;
        self
    }

    /// Sets SLiC-HF's margin delta and NLL weight lambda, builder-style.
    pub fn slic_hf(mut self, delta: f64, lambda: f64) -> Self {
        self.slic_delta = delta;
        self.slic_lambda = lambda;
        self
    }

    /// Sets SimPO's gamma, builder-style.
    pub fn simpo_gamma(mut self, gamma: f64) -> Self {
        self.simpo_gamma = gamma;
        self
    }

    /// Validates the settings once and returns the loss they describe.
    pub fn check(&self) -> Result<Loss> {
        self.validate()?;
        Ok(Loss { config: *self })
    }
}

impl Validate for LossConfig {
    /// Checks beta > 0, e in [0, 0.5), gamma >= 0.
    fn validate(&self) -> Result<()> {
        if !(self.beta > 0.0 && self.beta <= crate::limits::MAX_BETA) {
            return Err(Error::invalid(
                "beta",
                crate::limits::short(self.beta),
                format!("a number in (0, {:e}]", crate::limits::MAX_BETA),
            ));
        }
        if !(0.0..0.5).contains(&self.label_smoothing) {
            return Err(Error::invalid(
                "label_smoothing",
                self.label_smoothing,
                "a rate in [0, 0.5)",
            ));
        }
        if !(self.simpo_gamma.is_finite() && self.simpo_gamma >= 0.0) {
            return Err(Error::invalid(
                "simpo_gamma",
                self.simpo_gamma,
                "a finite number >= 0",
            ));
        }
        if !(self.slic_delta.is_finite() && self.slic_delta > 0.0) {
            return Err(Error::invalid(
                "slic_delta",
                self.slic_delta,
                "a finite number > 0",
            ));
        }
        if !(self.slic_lambda.is_finite() && self.slic_lambda >= 0.0) {
            return Err(Error::invalid(
                "slic_lambda",
                self.slic_lambda,
                "a finite number >= 0",
            ));
        }
        Ok(())
    }
}

/// A validated pairwise loss (built by [`LossConfig::check`]): computing it
/// never re-checks its settings, so it can sit in a training loop.
///
/// ```
/// use duality_align::loss::{loss_values, LossConfig, LossKind, PairLogProbs};
///
/// let dpo = LossConfig::new(LossKind::Dpo, 0.5).check()?;
/// // One pair with log-ratio margin h = (-1 + 2) - (-3 + 2) = 2.
/// let pairs = PairLogProbs::from_slices(&[-1.0], &[-3.0], &[-2.0], &[-2.0], None)?;
/// let v = loss_values(&dpo, &pairs)?;
/// assert!((v[0] - (1.0 + (-1.0f64).exp()).ln()).abs() < 1e-12); // -log sigmoid(0.5 * 2)
/// assert!(LossConfig::new(LossKind::Dpo, 0.0).check().is_err());
/// # Ok::<(), duality_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loss {
    config: LossConfig,
}

impl Loss {
    /// The settings it was built from.
    pub fn config(&self) -> &LossConfig {
        &self.config
    }

    /// Which loss.
    pub fn kind(&self) -> LossKind {
        self.config.kind
    }

    /// Its beta.
    pub fn beta(&self) -> f64 {
        self.config.beta
    }

    /// Mean loss of a batch whose shapes the caller built itself (the
    /// trainers' batches): skips [`PairLogProbs::check`], whose finiteness
    /// test would synchronise every step; a diverged step is still caught
    /// by the trainer's finite-loss check.
    pub(crate) fn batch_loss(&self, pairs: &PairLogProbs) -> Result<Tensor> {
        Ok(self.compute(pairs)?.mean(None))
    }
}

/// The chosen and rejected log-ratios log pi/pi_ref of a batch of pairs.
#[derive(Debug)]
pub struct LogRatios {
    /// log pi(y_w|x) - log pi_ref(y_w|x), shape `[B]`.
    pub chosen: Tensor,
    /// log pi(y_l|x) - log pi_ref(y_l|x), shape `[B]`.
    pub rejected: Tensor,
}

/// Sequence log-probs of a batch of preference pairs (all shape `[B]`).
#[derive(Debug)]
pub struct PairLogProbs {
    /// log pi_theta(y_w | x).
    pub policy_chosen: Tensor,
    /// log pi_theta(y_l | x).
    pub policy_rejected: Tensor,
    /// log pi_ref(y_w | x) (required unless the loss is reference-free).
    pub ref_chosen: Option<Tensor>,
    /// log pi_ref(y_l | x).
    pub ref_rejected: Option<Tensor>,
    /// |y_w|, completion token counts (required by SimPO and ORPO; makes IPO length-normalised).
    pub chosen_tokens: Option<Tensor>,
    /// |y_l|.
    pub rejected_tokens: Option<Tensor>,
}

impl PairLogProbs {
    /// Pairs with policy and reference log-probs and no token counts.
    pub fn new(
        policy_chosen: Tensor,
        policy_rejected: Tensor,
        ref_chosen: Tensor,
        ref_rejected: Tensor,
    ) -> Self {
        PairLogProbs {
            policy_chosen,
            policy_rejected,
            ref_chosen: Some(ref_chosen),
            ref_rejected: Some(ref_rejected),
            chosen_tokens: None,
            rejected_tokens: None,
        }
    }

    /// Adds completion token counts, builder-style.
    pub fn with_tokens(mut self, chosen: Tensor, rejected: Tensor) -> Self {
        self.chosen_tokens = Some(chosen);
        self.rejected_tokens = Some(rejected);
        self
    }

    /// Pairs from plain f64 slices (for CSV input and tests); `ref_*` may be
    /// empty for reference-free losses, `tokens` may be `None`.
    pub fn from_slices(
        policy_chosen: &[f64],
        policy_rejected: &[f64],
        ref_chosen: &[f64],
        ref_rejected: &[f64],
        tokens: Option<(&[f64], &[f64])>,
    ) -> Result<Self> {
        let t = |name: &str, xs: &[f64]| -> Result<Tensor> {
            duality_core::check::finite(name, xs)?;
            Ok(Tensor::from_slice(xs).to_kind(Kind::Double))
        };
        let opt = |name: &str, xs: &[f64]| -> Result<Option<Tensor>> {
            if xs.is_empty() {
                Ok(None)
            } else {
                t(name, xs).map(Some)
            }
        };
        let mut pairs = PairLogProbs {
            policy_chosen: t("policy_chosen", policy_chosen)?,
            policy_rejected: t("policy_rejected", policy_rejected)?,
            ref_chosen: opt("ref_chosen", ref_chosen)?,
            ref_rejected: opt("ref_rejected", ref_rejected)?,
            chosen_tokens: None,
            rejected_tokens: None,
        };
        if let Some((c, r)) = tokens {
            pairs.chosen_tokens = Some(t("chosen_tokens", c)?);
            pairs.rejected_tokens = Some(t("rejected_tokens", r)?);
        }
        pairs.check()?;
        Ok(pairs)
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.policy_chosen.numel()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks shapes agree (all `[B]`, B > 0), log-probs are finite and
    /// token counts are >= 1.
    pub fn check(&self) -> Result<()> {
        let b = self.len();
        if b == 0 {
            return Err(Error::Empty {
                what: "policy_chosen log-probs".into(),
                min: 1,
            });
        }
        let fields = [
            ("policy_chosen", Some(&self.policy_chosen)),
            ("policy_rejected", Some(&self.policy_rejected)),
            ("ref_chosen", self.ref_chosen.as_ref()),
            ("ref_rejected", self.ref_rejected.as_ref()),
            ("chosen_tokens", self.chosen_tokens.as_ref()),
            ("rejected_tokens", self.rejected_tokens.as_ref()),
        ];
        for (name, t) in fields {
            let Some(t) = t else { continue };
            let s = shape_of(t);
            if s != [b] {
                return Err(Error::Shape {
                    what: format!("{name} (batch size must match policy_chosen)"),
                    expected: vec![b],
                    got: s,
                });
            }
            if !all_finite(t) {
                let vals = crate::util::tensor_to_f64(t)?;
                duality_core::check::finite(name, &vals)?;
            }
        }
        for (name, t) in [
            ("chosen_tokens", self.chosen_tokens.as_ref()),
            ("rejected_tokens", self.rejected_tokens.as_ref()),
        ] {
            if let Some(t) = t {
                let min = scalar(&t.min());
                if min < 1.0 {
                    return Err(Error::invalid(
                        format!("{name} (minimum)"),
                        min,
                        "token counts >= 1 (an empty completion has no log-probability)",
                    ));
                }
            }
        }
        Ok(())
    }

    fn reference(&self) -> Result<(&Tensor, &Tensor)> {
        match (&self.ref_chosen, &self.ref_rejected) {
            (Some(c), Some(r)) => Ok((c, r)),
            _ => Err(Error::invalid(
                "reference log-probs",
                "missing",
                "ref_chosen and ref_rejected for a reference-based loss",
            )),
        }
    }

    fn tokens(&self, loss: &str) -> Result<Option<(&Tensor, &Tensor)>> {
        match (&self.chosen_tokens, &self.rejected_tokens) {
            (Some(c), Some(r)) => Ok(Some((c, r))),
            (None, None) => Ok(None),
            _ => Err(Error::invalid(
                format!("token counts for {loss}"),
                "only one of chosen/rejected",
                "both chosen_tokens and rejected_tokens, or neither",
            )),
        }
    }

    /// The chosen and rejected log-ratios log pi/pi_ref (shape `[B]` each).
    pub fn log_ratios(&self) -> Result<LogRatios> {
        let (rc, rr) = self.reference()?;
        Ok(LogRatios {
            chosen: &self.policy_chosen - rc,
            rejected: &self.policy_rejected - rr,
        })
    }
}

/// A pairwise preference loss: per-pair values over a batch of sequence log-probs.
pub trait PreferenceLoss {
    /// Loss per pair, shape `[B]`, differentiable in the policy log-probs.
    fn per_pair(&self, pairs: &PairLogProbs) -> Result<Tensor>;

    /// Mean loss over the batch (a scalar tensor).
    fn loss(&self, pairs: &PairLogProbs) -> Result<Tensor> {
        Ok(self.per_pair(pairs)?.mean(None))
    }
}

/// -log sigmoid(x), computed as softplus(-x) (stable for all finite x).
fn neg_log_sigmoid(x: &Tensor) -> Tensor {
    -x.log_sigmoid()
}

/// log(1 - exp(x)) for x < 0, branching at -ln 2 (Maechler 2012) like TRL.
fn log1mexp(x: &Tensor) -> Tensor {
    let t = -std::f64::consts::LN_2;
    // log-probs of exactly 0 (certain sequences) would give -inf; keep them finite.
    let x = x.clamp_max(-1e-15);
    let small = x.lt(t);
    // Clamp each branch's argument into its safe range so neither produces NaN.
    let a = (-(x.clamp_max(t).exp())).log1p();
    let b = (-(x.clamp_min(t).expm1())).log();
    a.where_self(&small, &b)
}

/// The log-ratio margin h = (pc - rc) - (pr - rr) scaled by `scale`,
/// computed as 4 scale ((pc/2 - rc/2)/2 - (pr/2 - rr/2)/2): halving is exact
/// in binary floating point, so for ordinary inputs this is bit-identical to
/// the direct form, while every intermediate stays finite for any finite
/// log-probs (the direct form overflows to inf - inf = NaN near 1e308).
/// The product can still overflow when the true value is beyond f64, which
/// the public loss path reports as an error.
fn scaled_margin(r: &LogRatioParts<'_>, scale: f64) -> Tensor {
    let a = (r.pc / 2.0 - r.rc / 2.0) / 2.0;
    let b = (r.pr / 2.0 - r.rr / 2.0) / 2.0;
    (a - b) * scale * 4.0
}

/// The four log-prob tensors a reference-based margin is built from.
struct LogRatioParts<'a> {
    pc: &'a Tensor,
    pr: &'a Tensor,
    rc: &'a Tensor,
    rr: &'a Tensor,
}

impl PairLogProbs {
    fn parts(&self) -> Result<LogRatioParts<'_>> {
        let (rc, rr) = self.reference()?;
        Ok(LogRatioParts {
            pc: &self.policy_chosen,
            pr: &self.policy_rejected,
            rc,
            rr,
        })
    }
}

impl PreferenceLoss for Loss {
    /// Checks the pairs, computes the losses, and fails (naming the loss,
    /// the pair and its value) if a loss is not finite: the true value is
    /// beyond f64 (e.g. IPO's square of a margin near 1e200).
    fn per_pair(&self, pairs: &PairLogProbs) -> Result<Tensor> {
        pairs.check()?;
        let out = self.compute(pairs)?;
        if !all_finite(&out) {
            let vals = crate::util::tensor_to_f64(&out)?;
            if let Some((i, v)) = vals.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(Error::invalid(
                    format!("{} loss of pair {i}", self.kind()),
                    *v,
                    "a finite loss (the log-probs are so far apart that the loss overflows f64)",
                ));
            }
        }
        Ok(out)
    }
}

impl Loss {
    /// Per-pair values; `pairs` must have passed [`PairLogProbs::check`]
    /// or come from a trainer's own batch.
    fn compute(&self, pairs: &PairLogProbs) -> Result<Tensor> {
        let c = &self.config;
        let beta = c.beta;
        let e = c.label_smoothing;
        let out = match c.kind {
            LossKind::Dpo | LossKind::Cdpo | LossKind::Robust | LossKind::Slic => {
                let z = scaled_margin(&pairs.parts()?, beta);
                match c.kind {
                    LossKind::Dpo => neg_log_sigmoid(&z),
                    LossKind::Cdpo => neg_log_sigmoid(&z) * (1.0 - e) + neg_log_sigmoid(&-&z) * e,
                    LossKind::Robust => {
                        (neg_log_sigmoid(&z) * (1.0 - e) - neg_log_sigmoid(&-&z) * e)
                            / (1.0 - 2.0 * e)
                    }
                    _ => (-z + 1.0).relu(),
                }
            }
            LossKind::Ipo => {
                let h = match c.ipo_normalization {
                    IpoNormalization::Sum => scaled_margin(&pairs.parts()?, 1.0),
                    IpoNormalization::Length => {
                        let r = pairs.log_ratios()?;
                        let (nc, nr) = pairs.tokens("ipo")?.ok_or_else(|| {
                            Error::invalid(
                                "token counts for ipo",
                                "missing",
                                "chosen_tokens and rejected_tokens (ipo_normalization = \"length\")",
                            )
                        })?;
                        r.chosen / nc - r.rejected / nr
                    }
                };
                (h - 1.0 / (2.0 * beta)).square()
            }
            LossKind::SlicHf => {
                let margin = &pairs.policy_chosen - &pairs.policy_rejected;
                (-margin + c.slic_delta).relu() - &pairs.policy_chosen * c.slic_lambda
            }
            LossKind::Simpo | LossKind::Orpo => {
                let (nc, nr) = pairs.tokens(&c.kind.to_string())?.ok_or_else(|| {
                    Error::invalid(
                        format!("token counts for {}", c.kind),
                        "missing",
                        "chosen_tokens and rejected_tokens (the loss is length-averaged)",
                    )
                })?;
                let a = &pairs.policy_chosen / nc;
                let b = &pairs.policy_rejected / nr;
                if c.kind == LossKind::Simpo {
                    let z = (a - b - c.simpo_gamma / beta) * beta;
                    neg_log_sigmoid(&z) * (1.0 - e) + neg_log_sigmoid(&-&z) * e
                } else {
                    let log_odds = (&a - &b) - (log1mexp(&a) - log1mexp(&b));
                    // Token-level NLL over the whole chosen batch: pair i's
                    // share of -sum(pc)/sum(|y_w|) is -pc_i / mean(|y_w|).
                    let nll = -(&pairs.policy_chosen / nc.mean(None));
                    nll - log_odds.log_sigmoid() * beta
                }
            }
        };
        Ok(out)
    }
}

/// Batch metrics of a preference step (as TRL logs them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairMetrics {
    /// Mean loss.
    pub loss: f64,
    /// Mean implicit reward of the chosen responses, beta (pc - rc) (or beta pc if reference-free).
    pub chosen_reward: f64,
    /// Mean implicit reward of the rejected responses.
    pub rejected_reward: f64,
    /// Fraction of pairs whose chosen reward exceeds the rejected one.
    pub accuracy: f64,
    /// Mean reward margin (chosen - rejected).
    pub margin: f64,
}

/// Loss and implicit-reward metrics of a batch (no gradients kept).
pub fn pair_metrics(loss: &Loss, pairs: &PairLogProbs) -> Result<PairMetrics> {
    let value = scalar(&loss.loss(pairs)?);
    let (c, r) = if loss.kind().needs_reference() {
        let r = pairs.log_ratios()?;
        (r.chosen, r.rejected)
    } else {
        (
            pairs.policy_chosen.shallow_clone(),
            pairs.policy_rejected.shallow_clone(),
        )
    };
    let c = c.detach() * loss.beta();
    let r = r.detach() * loss.beta();
    let acc = scalar(&c.gt_tensor(&r).to_kind(Kind::Double).mean(None));
    Ok(PairMetrics {
        loss: value,
        chosen_reward: scalar(&c.mean(None)),
        rejected_reward: scalar(&r.mean(None)),
        accuracy: acc,
        margin: scalar(&(c - r).mean(None)),
    })
}

/// Per-pair loss values as f64 (convenience for CSV input and tests).
pub fn loss_values(
    loss: &(impl PreferenceLoss + ?Sized),
    pairs: &PairLogProbs,
) -> Result<Vec<f64>> {
    crate::util::tensor_to_f64(&loss.per_pair(pairs)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const KINDS: [LossKind; 8] = [
        LossKind::Dpo,
        LossKind::Cdpo,
        LossKind::Ipo,
        LossKind::Slic,
        LossKind::SlicHf,
        LossKind::Robust,
        LossKind::Simpo,
        LossKind::Orpo,
    ];

    fn fixture() -> Value {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/align/losses.json"
        ))
        .unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn vec_of(v: &Value) -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    }

    #[test]
    fn losses_match_trl_fixtures_to_1e6() {
        let f = fixture();
        let (pc, pr, rc, rr) = (
            vec_of(&f["policy_chosen"]),
            vec_of(&f["policy_rejected"]),
            vec_of(&f["ref_chosen"]),
            vec_of(&f["ref_rejected"]),
        );
        let (nc, nr) = (vec_of(&f["chosen_tokens"]), vec_of(&f["rejected_tokens"]));
        let cases = f["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 27);
        for case in cases {
            let name = case["loss"].as_str().unwrap();
            let kind = if name == "ipo_normalised" {
                LossKind::Ipo
            } else {
                name.parse().unwrap()
            };
            let mut config = LossConfig::new(kind, case["beta"].as_f64().unwrap())
                .label_smoothing(case["label_smoothing"].as_f64().unwrap());
            if let Some(g) = case.get("simpo_gamma") {
                config = config.simpo_gamma(g.as_f64().unwrap());
            }
            if name == "ipo_normalised" {
                config = config.ipo_normalization(IpoNormalization::Length);
            }
            let config = config.check().unwrap();
            let tokens = case["length_normalised"]
                .as_bool()
                .unwrap()
                .then_some((nc.as_slice(), nr.as_slice()));
            let pairs = PairLogProbs::from_slices(&pc, &pr, &rc, &rr, tokens).unwrap();
            let got = loss_values(&config, &pairs).unwrap();
            if let Some(b) = case.get("batch_loss") {
                // ORPO: TRL's batch loss, with the NLL a token mean over the chosen batch.
                let b = b.as_f64().unwrap();
                let l = scalar(&config.loss(&pairs).unwrap());
                assert!(
                    (l - b).abs() <= 1e-6 * (1.0 + b.abs()),
                    "{name}: {l} vs {b}"
                );
            }
            let want = vec_of(&case["losses"]);
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-6 * (1.0 + w.abs()),
                    "{name} beta {} pair {i}: {g} vs {w}",
                    config.beta()
                );
            }
        }
    }

    #[test]
    fn dpo_gradient_matches_finite_differences() {
        let pc = [-3.0, -10.0, -0.5];
        let pr = [-4.0, -2.0, -7.0];
        let rc = [-3.5, -9.0, -1.0];
        let rr = [-3.0, -2.5, -6.0];
        let config = LossConfig::new(LossKind::Dpo, 0.7).check().unwrap();
        let x = Tensor::from_slice(&pc).set_requires_grad(true);
        let pairs = PairLogProbs::new(
            x.shallow_clone(),
            Tensor::from_slice(&pr),
            Tensor::from_slice(&rc),
            Tensor::from_slice(&rr),
        );
        config.loss(&pairs).unwrap().backward();
        let grad = crate::util::tensor_to_f64(&x.grad()).unwrap();
        let f = |v: &[f64]| {
            let p = PairLogProbs::from_slices(v, &pr, &rc, &rr, None).unwrap();
            scalar(&config.loss(&p).unwrap())
        };
        for i in 0..3 {
            let h = 1e-6;
            let (mut up, mut dn) = (pc.to_vec(), pc.to_vec());
            up[i] += h;
            dn[i] -= h;
            let fd = (f(&up) - f(&dn)) / (2.0 * h);
            assert!((fd - grad[i]).abs() < 1e-8, "{i}: {fd} vs {}", grad[i]);
        }
        // Closed form: d/dpc mean(-log s(beta h)) = -beta s(-beta h) / B.
        let h0 = (pc[0] - rc[0]) - (pr[0] - rr[0]);
        let closed = -0.7 / (1.0 + (0.7 * h0).exp()) / 3.0;
        assert!((closed - grad[0]).abs() < 1e-12);
    }

    #[test]
    fn finite_for_extreme_inputs() {
        for kind in KINDS {
            let config = LossConfig::new(kind, 5.0)
                .label_smoothing(0.3)
                .check()
                .unwrap();
            let pairs = PairLogProbs::from_slices(
                &[-1e-9, -1e6],
                &[-1e6, -1e-9],
                &[-1e6, -1e-9],
                &[-1e-9, -1e6],
                Some((&[1.0, 1.0], &[1.0, 1.0])),
            )
            .unwrap();
            let v = loss_values(&config, &pairs).unwrap();
            assert!(v.iter().all(|x| x.is_finite()), "{kind:?}: {v:?}");
        }
    }

    #[test]
    fn metrics_are_implicit_rewards() {
        let pairs = PairLogProbs::from_slices(
            &[-1.0, -5.0],
            &[-2.0, -1.0],
            &[-1.5, -5.0],
            &[-1.5, -1.0],
            None,
        )
        .unwrap();
        let m = pair_metrics(
            &LossConfig::new(LossKind::Dpo, 2.0).check().unwrap(),
            &pairs,
        )
        .unwrap();
        // chosen log-ratios 0.5, 0; rejected -0.5, 0.
        assert!((m.chosen_reward - 0.5).abs() < 1e-12);
        assert!((m.rejected_reward + 0.5).abs() < 1e-12);
        assert!((m.accuracy - 0.5).abs() < 1e-12);
        assert!((m.margin - 1.0).abs() < 1e-12);
    }

    #[test]
    fn bad_input_names_the_value() {
        let ok = |c: LossConfig| {
            let p = PairLogProbs::from_slices(&[-1.0], &[-1.0], &[-1.0], &[-1.0], None).unwrap();
            c.check()
                .and_then(|l| loss_values(&l, &p))
                .map(|_| ())
                .unwrap_err()
                .to_string()
        };
        assert!(ok(LossConfig::new(LossKind::Dpo, 0.0)).contains("beta = 0"));
        assert!(ok(LossConfig::new(LossKind::Dpo, -1.0)).contains("beta = -1"));
        let e = ok(LossConfig::new(LossKind::Robust, 1.0).label_smoothing(0.5));
        assert!(e.contains("label_smoothing = 0.5"), "{e}");
        assert!(
            ok(LossConfig::new(LossKind::Cdpo, 1.0).label_smoothing(-0.1))
                .contains("label_smoothing")
        );
        let e = PairLogProbs::from_slices(
            &[-1.0, f64::NAN],
            &[-1.0, -1.0],
            &[-1.0, -1.0],
            &[-1.0, -1.0],
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("policy_chosen[1]") && e.contains("NaN"), "{e}");
        let e =
            PairLogProbs::from_slices(&[-1.0, -2.0], &[-1.0], &[-1.0, -1.0], &[-1.0, -1.0], None)
                .unwrap_err()
                .to_string();
        assert!(e.contains("policy_rejected"), "{e}");
        assert!(ok(LossConfig::new(LossKind::Simpo, 1.0)).contains("token counts"));
        let e = "xyz".parse::<LossKind>().unwrap_err().to_string();
        assert!(e.contains("\"xyz\"") && e.contains("dpo, cdpo"), "{e}");
        for kind in KINDS {
            assert_eq!(kind.to_string().parse::<LossKind>().unwrap(), kind);
            let toml = toml::Value::try_from(kind).unwrap();
            assert_eq!(toml.as_str(), Some(kind.to_string().as_str()), "serde name");
        }
    }

    /// SLiC-HF by hand (delta 1, lambda 0.1): pair 1 margin -3 - (-4) = 1
    /// gives hinge 0 and NLL term 0.3; pair 2 margin -2 - (-1.5) = -0.5
    /// gives hinge 1.5 and NLL 0.2; the reference is not read.
    #[test]
    fn slic_hf_matches_a_hand_computation() {
        let config = LossConfig::new(LossKind::SlicHf, 0.1)
            .slic_hf(1.0, 0.1)
            .check()
            .unwrap();
        let pairs =
            PairLogProbs::from_slices(&[-3.0, -2.0], &[-4.0, -1.5], &[0.0; 2], &[0.0; 2], None)
                .unwrap();
        let got = loss_values(&config, &pairs).unwrap();
        let want = [0.3, 1.5 + 0.2];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
        // delta 2, lambda 0: the hinge alone, relu(2 - 1) and relu(2 + 0.5).
        let got = loss_values(
            &LossConfig::new(LossKind::SlicHf, 0.1)
                .slic_hf(2.0, 0.0)
                .check()
                .unwrap(),
            &pairs,
        )
        .unwrap();
        assert!(
            (got[0] - 1.0).abs() < 1e-12 && (got[1] - 2.5).abs() < 1e-12,
            "{got:?}"
        );
        assert!(!LossKind::SlicHf.needs_reference());
        let e = LossConfig::new(LossKind::SlicHf, 0.1)
            .slic_hf(0.0, 0.1)
            .check()
            .unwrap_err()
            .to_string();
        assert!(e.contains("slic_delta"), "{e}");
        let e = LossConfig::new(LossKind::SlicHf, 0.1)
            .slic_hf(1.0, -1.0)
            .check()
            .unwrap_err()
            .to_string();
        assert!(e.contains("slic_lambda"), "{e}");
    }

    /// IPO's two margins: sums by default (token counts ignored), per-token
    /// averages with `Length` (which needs the counts); on equal lengths L
    /// the length form is the sum form with beta/L, scaled by 1/L^2.
    #[test]
    fn ipo_normalization_sum_by_default_length_on_request() {
        let (beta, l) = (0.5, 4.0);
        let pairs =
            PairLogProbs::from_slices(&[-3.0], &[-5.0], &[-3.5], &[-4.0], Some((&[l], &[l])))
                .unwrap();
        let h: f64 = (-3.0 + 3.5) - (-5.0 + 4.0);
        let sum = loss_values(
            &LossConfig::new(LossKind::Ipo, beta).check().unwrap(),
            &pairs,
        )
        .unwrap()[0];
        assert!((sum - (h - 1.0 / (2.0 * beta)).powi(2)).abs() < 1e-12);
        let length =
            LossConfig::new(LossKind::Ipo, beta).ipo_normalization(IpoNormalization::Length);
        let v = loss_values(&length.check().unwrap(), &pairs).unwrap()[0];
        assert!((v - (h / l - 1.0 / (2.0 * beta)).powi(2)).abs() < 1e-12);
        let scaled = loss_values(
            &LossConfig::new(LossKind::Ipo, beta / l).check().unwrap(),
            &pairs,
        )
        .unwrap()[0];
        assert!((v - scaled / (l * l)).abs() < 1e-12);
        let plain = PairLogProbs::from_slices(&[-3.0], &[-5.0], &[-3.5], &[-4.0], None).unwrap();
        let e = loss_values(&length.check().unwrap(), &plain)
            .unwrap_err()
            .to_string();
        assert!(e.contains("token counts"), "{e}");
        assert_eq!(
            "length".parse::<IpoNormalization>().unwrap(),
            IpoNormalization::Length
        );
    }
}
