//! Trainers, one [`Trainer`] each, and the registry that names them.
//!
//! A trainer is built from its config ([`Trainer::new`] validates it once)
//! and trains the policy of a [`TrainContext`] (policy, frozen reference,
//! test bed, seed, data stream, optional [`Observer`]); it returns a
//! [`TrainLog`] of per-step metrics. Long runs show a progress bar on a
//! terminal. [`trainers`] lists the registered ones and [`find_trainer`]
//! looks one up by name, which is how a run config selects its trainer.
//!
//! To add a trainer: a module here with a config type and a type that
//! implements [`Trainer`], then a `pub mod` line and one `REGISTRY` line
//! below.

use std::collections::BTreeMap;

use duality_core::tensor::tch::{Kind, Tensor};
use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::loss::PairLogProbs;
use crate::policy::Policy;
use crate::testbed::{full_mask, token_tensor, PreferencePair};

pub mod constrained;
pub mod curry;
pub mod d3s;
pub mod dno;
pub mod group;
pub mod hypo;
pub mod kto;
pub mod nelder_mead;
pub mod nm_ppo;
pub mod offline;
pub mod online;
pub mod ppo;
pub mod reference_cache;
mod registry;
pub mod reward_model;
pub mod spo;
mod trainer;

pub(crate) use registry::{section_config, to_section};
pub use registry::{Registered, RegisteredTrainer, TrainerInfo};
pub(crate) use trainer::notify;
pub use trainer::{DataSpec, Observer, TrainContext, Trainer};

/// Every registered trainer, in listing order.
static REGISTRY: &[&dyn RegisteredTrainer] = &[
    &Registered::<offline::Offline>::ENTRY,
    &Registered::<curry::Curry>::ENTRY,
    &Registered::<online::Online>::ENTRY,
    &Registered::<dno::Dno>::ENTRY,
    &Registered::<hypo::Hypo>::ENTRY,
    &Registered::<group::Group>::ENTRY,
    &Registered::<reward_model::RewardModelRlhf>::ENTRY,
    &Registered::<constrained::Constrained>::ENTRY,
    &Registered::<nm_ppo::NmPpo>::ENTRY,
    &Registered::<kto::Kto>::ENTRY,
    &Registered::<spo::Spo>::ENTRY,
    &Registered::<ppo::Ppo>::ENTRY,
    &Registered::<d3s::D3s>::ENTRY,
];

/// The registered trainers, in listing order.
pub fn registered() -> &'static [&'static dyn RegisteredTrainer] {
    REGISTRY
}

/// Name, description, whether it can be traced, and default config of every
/// registered trainer.
pub fn trainers() -> Result<Vec<TrainerInfo>> {
    REGISTRY
        .iter()
        .map(|t| {
            Ok(TrainerInfo {
                name: t.name(),
                about: t.about(),
                observed: t.observed(),
                defaults: t.default_config()?,
            })
        })
        .collect()
}

/// The registered trainer called `name`; an unknown name is an error that
/// lists the registered ones.
///
/// ```
/// let t = duality_align::train::find_trainer("offline")?;
/// assert!(t.observed());
/// let e = duality_align::train::find_trainer("trpo").unwrap_err().to_string();
/// assert!(e.contains("\"trpo\"") && e.contains("offline, curry"), "{e}");
/// # Ok::<(), duality_core::Error>(())
/// ```
pub fn find_trainer(name: &str) -> Result<&'static dyn RegisteredTrainer> {
    REGISTRY
        .iter()
        .copied()
        .find(|t| t.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = REGISTRY.iter().map(|t| t.name()).collect();
            Error::invalid(
                "trainer",
                format!("{name:?}"),
                format!("a registered trainer: {}", names.join(", ")),
            )
        })
}

/// One logged step: named metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Step (or epoch / iteration, as the trainer documents).
    pub step: usize,
    /// Metrics at that step.
    pub metrics: BTreeMap<String, f64>,
}

/// A trainer's JSON log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainLog {
    /// Which trainer wrote it.
    pub trainer: String,
    /// Entries in step order.
    pub entries: Vec<LogEntry>,
}

impl TrainLog {
    /// An empty log for `trainer`.
    pub fn new(trainer: impl Into<String>) -> Self {
        TrainLog {
            trainer: trainer.into(),
            entries: Vec::new(),
        }
    }

    /// Appends an entry.
    pub fn push(&mut self, step: usize, metrics: &[(&str, f64)]) {
        self.entries.push(LogEntry {
            step,
            metrics: metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        });
    }

    /// The last value of a metric, if logged.
    pub fn last(&self, metric: &str) -> Option<f64> {
        self.entries
            .iter()
            .rev()
            .find_map(|e| e.metrics.get(metric).copied())
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)?)
    }
}

/// Tensors of a batch of pairs: prompts `[B, P]`, chosen and rejected `[B, C]`.
pub(crate) struct PairBatch {
    pub prompts: Tensor,
    pub chosen: Tensor,
    pub rejected: Tensor,
}

impl PairBatch {
    pub(crate) fn new(pairs: &[&PreferencePair]) -> Result<Self> {
        let rows = |f: fn(&PreferencePair) -> &[i64]| -> Result<Tensor> {
            let r: Vec<&[i64]> = pairs.iter().map(|p| f(p)).collect();
            token_tensor(&r)
        };
        Ok(PairBatch {
            prompts: rows(|p| &p.prompt)?,
            chosen: rows(|p| &p.chosen)?,
            rejected: rows(|p| &p.rejected)?,
        })
    }
}

/// Policy (with gradients) and reference (without) sequence log-probs of a
/// batch of pairs, with token counts.
pub(crate) fn pair_log_probs(
    policy: &Policy,
    reference: &Policy,
    batch: &PairBatch,
) -> Result<PairLogProbs> {
    crate::logprob::check_same_vocab(policy.vocab(), reference.vocab())?;
    let b = batch.chosen.size()[0] as usize;
    let mc = full_mask(b, batch.chosen.size()[1] as usize);
    let mr = full_mask(b, batch.rejected.size()[1] as usize);
    let pc = policy.completion_log_probs(&batch.prompts, &batch.chosen, &mc)?;
    let pr = policy.completion_log_probs(&batch.prompts, &batch.rejected, &mr)?;
    let (rc, rr) = {
        let _g = duality_core::tensor::tch::no_grad_guard();
        (
            reference
                .completion_log_probs(&batch.prompts, &batch.chosen, &mc)?
                .sum,
            reference
                .completion_log_probs(&batch.prompts, &batch.rejected, &mr)?
                .sum,
        )
    };
    Ok(PairLogProbs::new(pc.sum, pr.sum, rc, rr).with_tokens(pc.tokens, pr.tokens))
}

/// Refuses a batch of sequences whose forward and backward pass through
/// `policy` would exceed the memory budget, before anything is sampled:
/// the batch is the product of `factors` (config fields and their values,
/// multiplied without overflow), each a row of a prompt and `len` completion
/// tokens. Returns the number of rows.
pub(crate) fn check_batch(policy: &Policy, len: usize, factors: &[(&str, usize)]) -> Result<usize> {
    let rows = duality_core::limits::product(factors)?;
    let names: Vec<String> = factors.iter().map(|(n, v)| format!("{n} = {v}")).collect();
    let (field, value) = factors
        .iter()
        .copied()
        .fold(("batch rows", 0), crate::limits::larger);
    crate::limits::check_bytes(
        field,
        value,
        format!("{} sequences of {len} tokens per step", names.join(" x ")),
        crate::limits::batch_bytes(
            rows,
            len.saturating_add(crate::limits::MAX_PROMPT_LEN),
            policy.config(),
        ),
    )?;
    Ok(rows)
}

/// Fails unless every parameter of `policy` is finite: a step that
/// diverged is an error naming the parameter (and `when`, e.g. the trainer
/// and its last step), not NaN weights evaluated or saved silently.
pub fn finite_parameters(policy: &Policy, when: &str) -> Result<()> {
    for (name, t) in policy.var_store().variables() {
        if !crate::util::all_finite(&t) {
            return Err(Error::invalid(
                format!("policy parameter `{name}` {when}"),
                "not finite",
                "finite weights (training diverged: lower the learning rate or beta)",
            ));
        }
    }
    Ok(())
}

/// Fails unless `n >= 1` (named).
pub(crate) fn positive_count(name: &str, n: usize) -> Result<()> {
    duality_core::check::at_least(name, n, 1)
}

/// Fails unless the scalar loss is finite (a diverged step is an error, not silent NaN weights).
pub(crate) fn finite_loss(step: usize, loss: &Tensor) -> Result<f64> {
    let v = loss.detach().to_kind(Kind::Double).double_value(&[]);
    if !v.is_finite() {
        return Err(Error::invalid(
            format!("loss at step {step}"),
            v,
            "a finite number (lower the learning rate or beta)",
        ));
    }
    Ok(v)
}
