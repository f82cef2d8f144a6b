//! Cached reference log-probs for offline training: log pi_ref(y_w | x) and
//! log pi_ref(y_l | x) of every training pair, computed once with the
//! frozen reference and read back from a file instead of a reference
//! forward pass per step (what TRL's `precompute_ref_log_probs` does in
//! memory; asked for on TRL's tracker as a reusable file).
//!
//! File format (JSON, written by [`ReferenceLogProbs::save`]):
//!
//! ```json
//! { "format": "duality-align-reference-logprobs", "version": 1,
//!   "pairs": 2, "batch_size": 32,
//!   "data_fingerprint": "9c1f...", "reference_fingerprint": "03ab...",
//!   "chosen": [-7.25, -6.5], "rejected": [-8.0, -7.75] }
//! ```
//!
//! `chosen[i]` / `rejected[i]` belong to the i-th training pair in the
//! order the trainer receives them; the values are the reference's f32
//! sums exactly (JSON numbers written in shortest round-trip form, so they
//! read back bit for bit). The fingerprints are FNV-1a 64-bit hashes of
//! the pairs' tokens and of the reference's parameters (names and f32
//! bits): a cache made for other data or another reference is refused
//! with an error naming the file, never silently used.
//!
//! Bit-identical training on the cache: the values are computed with the
//! reference in evaluation mode in consecutive chunks of `batch_size`
//! pairs; training then gathers them per shuffled minibatch. On CPU with
//! one libtorch thread (what the tests and the bench use) a row's
//! log-prob does not depend on which rows share its batch, so training on
//! the cache equals recomputing bit for bit (`tests::cache_equals_recomputing`).
//! With several threads or on CUDA, reductions may be ordered differently
//! between batch shapes: the results then agree to float rounding only
//! (see docs/align.md, "Determinism").

use std::path::Path;

use duality_core::tensor::tch::{Device, Kind, Tensor};
use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::PairBatch;
use crate::policy::Policy;
use crate::testbed::{full_mask, PreferencePair};

/// The `format` string of a cache file.
pub const FORMAT: &str = "duality-align-reference-logprobs";
/// The `version` of the cache files this build writes and reads.
pub const VERSION: u32 = 1;

/// Reference log-probs of a set of training pairs (module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceLogProbs {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// Number of pairs.
    pub pairs: usize,
    /// Pairs per reference forward pass when computed.
    pub batch_size: usize,
    /// FNV-1a hash of the pairs' tokens (hex).
    pub data_fingerprint: String,
    /// FNV-1a hash of the reference's parameters (hex).
    pub reference_fingerprint: String,
    /// log pi_ref(chosen | prompt) per pair.
    pub chosen: Vec<f32>,
    /// log pi_ref(rejected | prompt) per pair.
    pub rejected: Vec<f32>,
}

impl ReferenceLogProbs {
    /// Computes the cache of `pairs` under `reference`, `batch_size` pairs
    /// per forward pass (>= 1).
    pub fn compute(
        reference: &Policy,
        pairs: &[PreferencePair],
        batch_size: usize,
    ) -> Result<Self> {
        duality_core::check::non_empty("training pairs", pairs)?;
        duality_core::check::at_least("batch_size", batch_size, 1)?;
        let _g = duality_core::tensor::tch::no_grad_guard();
        let (mut chosen, mut rejected) = (Vec::new(), Vec::new());
        for chunk in pairs.chunks(batch_size) {
            let refs: Vec<&PreferencePair> = chunk.iter().collect();
            let batch = PairBatch::new(&refs)?;
            let b = chunk.len();
            for (ys, out) in [
                (&batch.chosen, &mut chosen),
                (&batch.rejected, &mut rejected),
            ] {
                let mask = full_mask(b, ys.size()[1] as usize);
                let lp = reference.completion_log_probs(&batch.prompts, ys, &mask)?;
                out.extend(to_f32(&lp.sum)?);
            }
        }
        Ok(ReferenceLogProbs {
            format: FORMAT.into(),
            version: VERSION,
            pairs: pairs.len(),
            batch_size,
            data_fingerprint: data_fingerprint(pairs),
            reference_fingerprint: reference_fingerprint(reference)?,
            chosen,
            rejected,
        })
    }

    /// Writes the cache as JSON to `path` (atomically: a temporary file
    /// renamed into place).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string(self)?;
        duality_core::files::write_atomic(path, text)
    }

    /// Reads a cache from `path`, checking its format, version and lengths.
    pub fn load(path: &Path) -> Result<Self> {
        let where_ = || format!("reference log-probs file {}", path.display());
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::wrap(format!("reading {}", where_()), e))?;
        let c: ReferenceLogProbs = serde_json::from_str(&text)
            .map_err(|e| Error::parse(where_(), Some(e.line()), e.to_string()))?;
        if c.format != FORMAT || c.version != VERSION {
            return Err(Error::invalid(
                where_(),
                format!("format {:?} version {}", c.format, c.version),
                format!("format {FORMAT:?} version {VERSION}"),
            ));
        }
        if c.chosen.len() != c.pairs || c.rejected.len() != c.pairs {
            return Err(Error::invalid(
                where_(),
                format!(
                    "{} chosen and {} rejected values",
                    c.chosen.len(),
                    c.rejected.len()
                ),
                format!("{} of each (its `pairs`)", c.pairs),
            ));
        }
        if let Some(v) = c.chosen.iter().chain(&c.rejected).find(|v| !v.is_finite()) {
            return Err(Error::invalid(where_(), v, "finite log-probs"));
        }
        Ok(c)
    }

    /// Fails (naming `source`) unless this cache was made for `pairs` and
    /// `reference`.
    pub fn check_matches(
        &self,
        source: &str,
        reference: &Policy,
        pairs: &[PreferencePair],
    ) -> Result<()> {
        if self.pairs != pairs.len() || self.data_fingerprint != data_fingerprint(pairs) {
            return Err(Error::invalid(
                format!("{source}: data fingerprint"),
                format!("{} pairs, {}", self.pairs, self.data_fingerprint),
                format!(
                    "the training pairs' ({} pairs, {}); delete the file to recompute",
                    pairs.len(),
                    data_fingerprint(pairs)
                ),
            ));
        }
        let r = reference_fingerprint(reference)?;
        if self.reference_fingerprint != r {
            return Err(Error::invalid(
                format!("{source}: reference fingerprint"),
                &self.reference_fingerprint,
                format!("the reference policy's ({r}); delete the file to recompute"),
            ));
        }
        Ok(())
    }

    /// The cache at `path` if it exists (checked against `pairs` and
    /// `reference`), else computed and written there. The flag says
    /// whether it was computed.
    pub fn load_or_compute(
        path: &Path,
        reference: &Policy,
        pairs: &[PreferencePair],
        batch_size: usize,
    ) -> Result<(Self, bool)> {
        if path.exists() {
            let c = Self::load(path)?;
            c.check_matches(&path.display().to_string(), reference, pairs)?;
            Ok((c, false))
        } else {
            let c = Self::compute(reference, pairs, batch_size)?;
            c.save(path)?;
            Ok((c, true))
        }
    }

    /// The cached (chosen, rejected) log-probs of pairs `idx`, as f32
    /// tensors on `device`.
    pub(crate) fn gather(&self, idx: &[usize], device: Device) -> Result<(Tensor, Tensor)> {
        let pick = |v: &[f32]| -> Result<Tensor> {
            let xs: Vec<f32> = idx
                .iter()
                .map(|&i| {
                    v.get(i).copied().ok_or_else(|| {
                        Error::invalid("reference cache index", i, format!("< {}", v.len()))
                    })
                })
                .collect::<Result<_>>()?;
            Ok(Tensor::from_slice(&xs).to_device(device))
        };
        Ok((pick(&self.chosen)?, pick(&self.rejected)?))
    }
}

fn to_f32(t: &Tensor) -> Result<Vec<f32>> {
    let t = t.detach().to_device(Device::Cpu).to_kind(Kind::Float);
    Ok(Vec::<f32>::try_from(&t)?)
}

/// FNV-1a 64 over a stream of words.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn tokens(&mut self, xs: &[i64]) {
        self.bytes(&(xs.len() as u64).to_le_bytes());
        for x in xs {
            self.bytes(&x.to_le_bytes());
        }
    }
    fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// FNV-1a hash of the pairs' prompt, chosen and rejected tokens, in order.
pub fn data_fingerprint(pairs: &[PreferencePair]) -> String {
    let mut h = Fnv::new();
    for p in pairs {
        h.tokens(&p.prompt);
        h.tokens(&p.chosen);
        h.tokens(&p.rejected);
    }
    h.hex()
}

/// FNV-1a hash of a policy's parameters (sorted names, f32 bits).
pub fn reference_fingerprint(reference: &Policy) -> Result<String> {
    let mut vars: Vec<(String, Tensor)> = reference.var_store().variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    let mut h = Fnv::new();
    for (name, t) in vars {
        h.bytes(name.as_bytes());
        let v = to_f32(&t.flatten(0, -1))?;
        h.bytes(&(v.len() as u64).to_le_bytes());
        for x in v {
            h.bytes(&x.to_bits().to_le_bytes());
        }
    }
    Ok(h.hex())
}
