//! Tiny autoregressive policies over a small vocabulary: embedding + GRU and
//! a 1-2 layer causal transformer (Vaswani et al. 2017, pre-LN as in GPT-2),
//! with seeded batched sampling (temperature, top-k) and frozen reference
//! copies.

use duality_core::config::Validate;
use duality_core::tensor::tch::nn::{self, Module, RNN};
use duality_core::tensor::tch::{Device, Kind, Tensor};
use duality_core::{Error, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::logprob::{check_same_vocab, sequence_log_probs, SequenceLogProbs};
use crate::util::shape_of;

/// Network architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Architecture {
    /// Token embedding -> single-layer GRU (Cho et al. 2014) -> linear head.
    #[default]
    Gru,
    /// Token + position embeddings -> pre-LN causal transformer blocks -> head.
    Transformer,
}

crate::util::named_enum!(Architecture, "architecture", {
    Gru => "gru",
    Transformer => "transformer",
});

/// Shape of a policy network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// Architecture.
    pub architecture: Architecture,
    /// Vocabulary size (>= 2).
    pub vocab: usize,
    /// Embedding width (>= 1; a multiple of `heads` for the transformer).
    pub embed: usize,
    /// GRU hidden width / transformer MLP width.
    pub hidden: usize,
    /// Transformer blocks (1 or 2; ignored by the GRU).
    pub layers: usize,
    /// Attention heads (transformer only).
    pub heads: usize,
    /// Longest prompt + completion the transformer's position table holds.
    pub max_len: usize,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            architecture: Architecture::Gru,
            vocab: 8,
            embed: 16,
            hidden: 32,
            layers: 1,
            heads: 2,
            max_len: 32,
        }
    }
}

impl PolicyConfig {
    /// A GRU policy over `vocab` tokens with default widths.
    pub fn gru(vocab: usize) -> Self {
        PolicyConfig {
            vocab,
            ..Self::default()
        }
    }

    /// A transformer policy over `vocab` tokens with `layers` blocks.
    pub fn transformer(vocab: usize, layers: usize) -> Self {
        PolicyConfig {
            architecture: Architecture::Transformer,
            vocab,
            layers,
            ..Self::default()
        }
    }
}

impl Validate for PolicyConfig {
    /// Checks the widths.
    fn validate(&self) -> Result<()> {
        if self.vocab < 2 {
            return Err(Error::config(
                "vocab",
                format!("must be >= 2, got {}", self.vocab),
            ));
        }
        if self.embed == 0 || self.hidden == 0 {
            return Err(Error::config("embed/hidden", "widths must be > 0"));
        }
        if self.architecture == Architecture::Transformer {
            if !(1..=2).contains(&self.layers) {
                return Err(Error::config(
                    "layers",
                    format!("must be 1 or 2, got {}", self.layers),
                ));
            }
            if self.heads == 0 || self.embed % self.heads != 0 {
                return Err(Error::config(
                    "heads",
                    format!("must divide embed = {}, got {}", self.embed, self.heads),
                ));
            }
            if self.max_len == 0 {
                return Err(Error::config("max_len", "must be > 0"));
            }
        }
        Ok(())
    }
}

/// Sampling controls.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamplingConfig {
    /// Softmax temperature (> 0).
    pub temperature: f64,
    /// Keep only the `top_k` most likely tokens (0 = all).
    pub top_k: usize,
}

impl Default for SamplingConfig {
    fn default() -> Self {
        SamplingConfig {
            temperature: 1.0,
            top_k: 0,
        }
    }
}

#[derive(Debug)]
struct Block {
    ln1: nn::LayerNorm,
    qkv: nn::Linear,
    proj: nn::Linear,
    ln2: nn::LayerNorm,
    fc1: nn::Linear,
    fc2: nn::Linear,
}

#[derive(Debug)]
enum Net {
    Gru {
        embed: nn::Embedding,
        gru: nn::GRU,
        head: nn::Linear,
    },
    Transformer {
        embed: nn::Embedding,
        pos: nn::Embedding,
        blocks: Vec<Block>,
        ln_f: nn::LayerNorm,
        head: nn::Linear,
        heads: i64,
    },
}

/// An autoregressive policy pi(y | x) with its own variables.
#[derive(Debug)]
pub struct Policy {
    config: PolicyConfig,
    vs: nn::VarStore,
    net: Net,
}

fn build_net(config: &PolicyConfig, root: &nn::Path<'_>) -> Net {
    let v = config.vocab as i64;
    let e = config.embed as i64;
    let h = config.hidden as i64;
    match config.architecture {
        Architecture::Gru => Net::Gru {
            embed: nn::embedding(root / "embed", v, e, Default::default()),
            gru: nn::gru(root / "gru", e, h, Default::default()),
            head: nn::linear(root / "head", h, v, Default::default()),
        },
        Architecture::Transformer => {
            let blocks = (0..config.layers)
                .map(|i| {
                    let p = root / format!("block{i}");
                    Block {
                        ln1: nn::layer_norm(&p / "ln1", vec![e], Default::default()),
                        qkv: nn::linear(&p / "qkv", e, 3 * e, Default::default()),
                        proj: nn::linear(&p / "proj", e, e, Default::default()),
                        ln2: nn::layer_norm(&p / "ln2", vec![e], Default::default()),
                        fc1: nn::linear(&p / "fc1", e, h, Default::default()),
                        fc2: nn::linear(&p / "fc2", h, e, Default::default()),
                    }
                })
                .collect();
            Net::Transformer {
                embed: nn::embedding(root / "embed", v, e, Default::default()),
                pos: nn::embedding(root / "pos", config.max_len as i64, e, Default::default()),
                blocks,
                ln_f: nn::layer_norm(root / "ln_f", vec![e], Default::default()),
                head: nn::linear(root / "head", e, v, Default::default()),
                heads: config.heads as i64,
            }
        }
    }
}

impl Policy {
    /// A freshly initialised policy; `seed` fixes the initial weights.
    pub fn new(config: &PolicyConfig, seed: u64) -> Result<Self> {
        config.validate()?;
        let (field, value) = [
            ("embed", config.embed),
            ("hidden", config.hidden),
            ("max_len", config.max_len),
        ]
        .into_iter()
        .fold(("vocab", config.vocab), crate::limits::larger);
        crate::limits::check_bytes(
            &format!("policy {field}"),
            value,
            format!(
                "a policy of vocab {}, embed {}, hidden {}, max_len {}",
                config.vocab, config.embed, config.hidden, config.max_len
            ),
            crate::limits::policy_bytes(config),
        )?;
        let (vs, net) = crate::util::seeded_init(seed, || {
            let vs = nn::VarStore::new(Device::Cpu);
            let net = build_net(config, &vs.root());
            (vs, net)
        });
        Ok(Policy {
            config: config.clone(),
            vs,
            net,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }

    /// Vocabulary size.
    pub fn vocab(&self) -> usize {
        self.config.vocab
    }

    /// The variables (for optimizers and checkpoints).
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    /// A copy with identical weights and no gradients (the frozen
    /// reference pi_ref of DPO and friends).
    pub fn frozen_copy(&self) -> Result<Policy> {
        let (mut vs, net) = crate::util::with_generator(|| {
            let vs = nn::VarStore::new(Device::Cpu);
            let net = build_net(&self.config, &vs.root());
            (vs, net)
        });
        vs.copy(&self.vs)?;
        vs.freeze();
        Ok(Policy {
            config: self.config.clone(),
            vs,
            net,
        })
    }

    /// Overwrites this policy's weights with `other`'s (same config).
    pub fn load_weights_from(&mut self, other: &Policy) -> Result<()> {
        check_same_vocab(self.vocab(), other.vocab())?;
        if self.config != other.config {
            return Err(Error::invalid(
                "policy config",
                format!("{:?}", other.config),
                format!("the same architecture as {:?}", self.config),
            ));
        }
        self.vs.copy(&other.vs)?;
        Ok(())
    }

    /// Next-token logits for every position: `tokens` `[B, L]` -> `[B, L, V]`
    /// (position t scores token t+1).
    pub fn logits(&self, tokens: &Tensor) -> Result<Tensor> {
        let s = shape_of(tokens);
        if s.len() != 2 || s[0] == 0 || s[1] == 0 {
            return Err(Error::invalid(
                "token batch shape",
                format!("{s:?}"),
                "a non-empty [batch, length] tensor",
            ));
        }
        let (min, max) = (tokens.min().int64_value(&[]), tokens.max().int64_value(&[]));
        if min < 0 || max >= self.config.vocab as i64 {
            return Err(Error::invalid(
                "token id",
                if min < 0 { min } else { max },
                format!(
                    "an id in 0..{} (the policy's vocabulary)",
                    self.config.vocab
                ),
            ));
        }
        Ok(match &self.net {
            Net::Gru { embed, gru, head } => {
                let (out, _) = gru.seq(&embed.forward(tokens));
                head.forward(&out)
            }
            Net::Transformer {
                embed,
                pos,
                blocks,
                ln_f,
                head,
                heads,
            } => {
                let len = s[1];
                if len > self.config.max_len {
                    return Err(Error::invalid(
                        "sequence length",
                        len,
                        format!("at most max_len = {}", self.config.max_len),
                    ));
                }
                let positions = Tensor::arange(len as i64, (Kind::Int64, Device::Cpu));
                let mut x = embed.forward(tokens) + pos.forward(&positions).unsqueeze(0);
                for b in blocks {
                    x = &x + attention(b, &x.apply(&b.ln1), *heads);
                    x = &x + x.apply(&b.ln2).apply(&b.fc1).gelu("none").apply(&b.fc2);
                }
                head.forward(&x.apply(ln_f))
            }
        })
    }

    /// log pi(completion | prompt): summed and averaged over `mask`.
    /// `prompts` `[B, P]` (P >= 1, e.g. a BOS token), `completions` and `mask` `[B, C]`.
    pub fn completion_log_probs(
        &self,
        prompts: &Tensor,
        completions: &Tensor,
        mask: &Tensor,
    ) -> Result<SequenceLogProbs> {
        let (ps, cs) = (shape_of(prompts), shape_of(completions));
        if ps.len() != 2 || cs.len() != 2 || ps[1] == 0 || cs[1] == 0 {
            return Err(Error::invalid(
                "prompt/completion shapes",
                format!("{ps:?} / {cs:?}"),
                "[batch, P >= 1] and [batch, C >= 1]",
            ));
        }
        duality_core::check::same_len("prompts (batch)", ps[0], "completions (batch)", cs[0])?;
        let p = ps[1] as i64;
        let c = cs[1] as i64;
        let seq = Tensor::cat(&[prompts, completions], 1);
        // Inputs are all tokens but the last; the last C outputs predict the completion.
        let logits = self
            .logits(&seq.narrow(1, 0, p + c - 1))?
            .narrow(1, p - 1, c);
        sequence_log_probs(&logits, completions, mask)
    }

    /// Samples `len` tokens after each prompt (`[B, P]` -> `[B, len]`).
    pub fn sample(
        &self,
        prompts: &Tensor,
        len: usize,
        sampling: SamplingConfig,
        rng: &mut impl Rng,
    ) -> Result<Tensor> {
        sample_with(prompts, len, sampling, rng, |seq| {
            Ok(self.logits(seq)?.select(1, -1).log_softmax(-1, Kind::Float))
        })
    }

    /// Samples from the token-level geometric mixture
    /// pi_mix(.|s) ∝ pi(.|s)^(1-mix) pi_ref(.|s)^mix (Munos et al. 2024,
    /// "Nash Learning from Human Feedback", Sec. 7 and Eq. 11; also the
    /// IPO-MD sampler of Calandriello et al. 2024).
    pub fn sample_geometric_mixture(
        &self,
        reference: &Policy,
        mix: f64,
        prompts: &Tensor,
        len: usize,
        sampling: SamplingConfig,
        rng: &mut impl Rng,
    ) -> Result<Tensor> {
        check_same_vocab(self.vocab(), reference.vocab())?;
        duality_core::check::probability("mixture weight", mix)?;
        sample_with(prompts, len, sampling, rng, |seq| {
            let a = self.logits(seq)?.select(1, -1).log_softmax(-1, Kind::Float);
            let b = reference
                .logits(seq)?
                .select(1, -1)
                .log_softmax(-1, Kind::Float);
            Ok(a * (1.0 - mix) + b * mix)
        })
    }
}

fn attention(b: &Block, x: &Tensor, heads: i64) -> Tensor {
    let (bs, len, e) = x.size3().unwrap_or((1, 1, 1));
    let d = e / heads;
    let qkv = x
        .apply(&b.qkv)
        .view([bs, len, 3, heads, d])
        .permute([2, 0, 3, 1, 4]);
    let (q, k, v) = (qkv.get(0), qkv.get(1), qkv.get(2));
    let scores = q.matmul(&k.transpose(-2, -1)) / (d as f64).sqrt();
    let causal = Tensor::ones([len, len], (Kind::Bool, Device::Cpu)).triu(1);
    let att = scores
        .masked_fill(&causal, f64::NEG_INFINITY)
        .softmax(-1, Kind::Float);
    att.matmul(&v)
        .transpose(1, 2)
        .contiguous()
        .view([bs, len, e])
        .apply(&b.proj)
}

/// Shared batched sampler: `next_log_probs(seq)` gives `[B, V]` next-token
/// log-probabilities; tokens are drawn on the Rust side from `rng`, so a
/// seed fixes the samples whatever libtorch's own generator state is.
fn sample_with(
    prompts: &Tensor,
    len: usize,
    sampling: SamplingConfig,
    rng: &mut impl Rng,
    next_log_probs: impl Fn(&Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    if !(sampling.temperature.is_finite() && sampling.temperature > 0.0) {
        return Err(Error::invalid(
            "temperature",
            sampling.temperature,
            "a finite number > 0",
        ));
    }
    duality_core::check::at_least("completion length", len, 1)?;
    let _guard = duality_core::tensor::tch::no_grad_guard();
    let mut seq = prompts.to_kind(Kind::Int64);
    let batch = shape_of(prompts).first().copied().unwrap_or(0);
    for _ in 0..len {
        let lp = next_log_probs(&seq)?;
        let v = shape_of(&lp).get(1).copied().unwrap_or(0);
        let flat: Vec<f64> = crate::util::tensor_to_f64(&lp)?;
        if let Some(bad) = flat.iter().find(|x| x.is_nan() || **x == f64::INFINITY) {
            return Err(Error::invalid(
                "policy next-token log-probability",
                *bad,
                "a finite log-probability (the policy's weights are not finite; lower the learning rate)",
            ));
        }
        let mut next = Vec::with_capacity(batch);
        for row in flat.chunks(v.max(1)) {
            next.push(draw(row, sampling, rng) as i64);
        }
        let col = Tensor::from_slice(&next).view([batch as i64, 1]);
        seq = Tensor::cat(&[seq, col], 1);
    }
    let p = shape_of(prompts)[1] as i64;
    Ok(seq.narrow(1, p, len as i64))
}

/// Draws one index from log-probabilities with temperature and top-k.
fn draw(log_probs: &[f64], sampling: SamplingConfig, rng: &mut impl Rng) -> usize {
    let mut scaled: Vec<f64> = log_probs
        .iter()
        .map(|&l| l / sampling.temperature)
        .collect();
    if sampling.top_k > 0 && sampling.top_k < scaled.len() {
        let mut sorted = scaled.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let cut = sorted[sampling.top_k - 1];
        // Ties at the cut are kept (the set may exceed k by ties only).
        for s in scaled.iter_mut() {
            if *s < cut {
                *s = f64::NEG_INFINITY;
            }
        }
    }
    let m = scaled.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let weights: Vec<f64> = scaled.iter().map(|&s| (s - m).exp()).collect();
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.iter().rposition(|&w| w > 0.0).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use duality_core::seed::Seeder;

    #[test]
    fn both_architectures_give_normalised_log_probs() {
        for config in [PolicyConfig::gru(6), PolicyConfig::transformer(6, 2)] {
            let policy = Policy::new(&config, 1).unwrap();
            let prompts = Tensor::from_slice(&[0i64, 1, 0, 2]).view([2, 2]);
            // Sum over all 6^2 completions of pi(y|x) must be 1 for each prompt.
            let mut comps = Vec::new();
            for a in 0..6i64 {
                for b in 0..6i64 {
                    comps.extend([a, b]);
                }
            }
            let c = Tensor::from_slice(&comps).view([36, 2]);
            for row in 0..2 {
                let p = prompts.get(row).unsqueeze(0).repeat([36, 1]);
                let lp = policy
                    .completion_log_probs(
                        &p,
                        &c,
                        &Tensor::ones([36, 2], (Kind::Float, Device::Cpu)),
                    )
                    .unwrap();
                let total = lp.sum.exp().sum(Kind::Double).double_value(&[]);
                assert!((total - 1.0).abs() < 1e-4, "{config:?}: {total}");
            }
        }
    }

    #[test]
    fn transformer_is_causal() {
        let policy = Policy::new(&PolicyConfig::transformer(5, 1), 3).unwrap();
        let a = Tensor::from_slice(&[1i64, 2, 3, 4]).view([1, 4]);
        let b = Tensor::from_slice(&[1i64, 2, 0, 0]).view([1, 4]);
        let la = policy.logits(&a).unwrap().narrow(1, 0, 2);
        let lb = policy.logits(&b).unwrap().narrow(1, 0, 2);
        assert!(la.allclose(&lb, 1e-6, 1e-6, false));
    }

    #[test]
    fn sampling_is_seeded_and_frozen_copy_matches() {
        duality_core::tensor::tch::set_num_threads(1);
        let policy = Policy::new(&PolicyConfig::gru(5), 7).unwrap();
        let prompts = Tensor::zeros([4, 1], (Kind::Int64, Device::Cpu));
        let s = SamplingConfig {
            temperature: 0.8,
            top_k: 3,
        };
        let x = policy
            .sample(&prompts, 6, s, &mut Seeder::new(1).rng(0))
            .unwrap();
        let y = policy
            .sample(&prompts, 6, s, &mut Seeder::new(1).rng(0))
            .unwrap();
        assert_eq!(shape_of(&x), vec![4, 6]);
        assert!(x.equal(&y));
        let frozen = policy.frozen_copy().unwrap();
        let ones = Tensor::ones([4, 6], (Kind::Float, Device::Cpu));
        let a = policy
            .completion_log_probs(&prompts, &x, &ones)
            .unwrap()
            .sum;
        let b = frozen
            .completion_log_probs(&prompts, &x, &ones)
            .unwrap()
            .sum;
        assert!(a.equal(&b));
        assert!(!b.requires_grad());
        let m = policy
            .sample_geometric_mixture(&frozen, 0.5, &prompts, 3, s, &mut Seeder::new(2).rng(0))
            .unwrap();
        assert_eq!(shape_of(&m), vec![4, 3]);
    }

    #[test]
    fn top_k_one_is_greedy_and_bad_inputs_error() {
        let mut rng = Seeder::new(0).rng(0);
        let s = SamplingConfig {
            temperature: 1.0,
            top_k: 1,
        };
        for _ in 0..20 {
            assert_eq!(draw(&[-3.0, -0.1, -2.5], s, &mut rng), 1);
        }
        let policy = Policy::new(&PolicyConfig::gru(4), 0).unwrap();
        let bad = Tensor::from_slice(&[0i64, 9]).view([1, 2]);
        let e = policy.logits(&bad).unwrap_err().to_string();
        assert!(e.contains("token id = 9"), "{e}");
        let other = Policy::new(&PolicyConfig::gru(5), 0).unwrap();
        let mut p = policy;
        assert!(p.load_weights_from(&other).is_err());
        assert!(PolicyConfig::transformer(4, 3).validate().is_err());
    }
}
