//! Bradley-Terry reward models (Bradley & Terry 1952; the reward-modelling
//! step of RLHF, Ouyang et al. 2022, Eq. 1): r_phi(x, y) from an embedding +
//! GRU encoder of [x; y] (final hidden state -> linear), trained on pairs by
//! minimising -log sigmoid(r(x, y_w) - r(x, y_l)).

use duality_core::progress::Progress;
use duality_core::seed::Seeder;
use duality_core::tensor::tch::nn::{self, Module, RNN};
use duality_core::tensor::tch::{Device, Kind, Tensor};
use duality_core::tensor::OptimizerConfig;
use duality_core::Result;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::group::BatchReward;
use super::{finite_loss, positive_count, PairBatch, TrainLog};
use crate::testbed::{token_tensor, PreferencePair};

/// Reward-model settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RewardModelConfig {
    /// Vocabulary size (>= 2).
    pub vocab: usize,
    /// Embedding width.
    pub embed: usize,
    /// GRU width.
    pub hidden: usize,
    /// Passes over the pairs.
    pub epochs: usize,
    /// Pairs per step.
    pub batch_size: usize,
    /// Optimizer.
    pub optimizer: OptimizerConfig,
    /// Seed of the initial weights and the data order.
    pub seed: u64,
}

impl Default for RewardModelConfig {
    fn default() -> Self {
        RewardModelConfig {
            vocab: 8,
            embed: 16,
            hidden: 32,
            epochs: 10,
            batch_size: 32,
            optimizer: OptimizerConfig::adam(1e-2),
            seed: 0,
        }
    }
}

/// A trained (or fresh) Bradley-Terry reward model.
#[derive(Debug)]
pub struct RewardModel {
    vs: nn::VarStore,
    embed: nn::Embedding,
    gru: nn::GRU,
    head: nn::Linear,
    vocab: usize,
}

impl RewardModel {
    /// A freshly initialised model.
    pub fn new(config: &RewardModelConfig) -> Result<Self> {
        duality_core::check::at_least("vocab", config.vocab, 2)?;
        positive_count("embed", config.embed)?;
        positive_count("hidden", config.hidden)?;
        duality_core::tensor::manual_seed(config.seed);
        let vs = nn::VarStore::new(Device::Cpu);
        let root = vs.root();
        let (v, e, h) = (
            config.vocab as i64,
            config.embed as i64,
            config.hidden as i64,
        );
        Ok(RewardModel {
            embed: nn::embedding(&root / "embed", v, e, Default::default()),
            gru: nn::gru(&root / "gru", e, h, Default::default()),
            head: nn::linear(&root / "head", h, 1, Default::default()),
            vs,
            vocab: config.vocab,
        })
    }

    /// Scores `[B, P]` prompts with `[B, C]` completions -> `[B]`.
    pub fn score(&self, prompts: &Tensor, completions: &Tensor) -> Result<Tensor> {
        let seq = Tensor::cat(&[prompts, completions], 1);
        let (min, max) = (seq.min().int64_value(&[]), seq.max().int64_value(&[]));
        if min < 0 || max >= self.vocab as i64 {
            return Err(duality_core::Error::invalid(
                "token id",
                if min < 0 { min } else { max },
                format!("an id in 0..{} (the reward model's vocabulary)", self.vocab),
            ));
        }
        let (out, _) = self.gru.seq(&self.embed.forward(&seq));
        Ok(self.head.forward(&out.select(1, -1)).squeeze_dim(-1))
    }
}

impl BatchReward for RewardModel {
    fn rewards(&self, prompts: &[Vec<i64>], completions: &[Vec<i64>]) -> Result<Vec<f64>> {
        let _g = duality_core::tensor::tch::no_grad_guard();
        let p: Vec<&[i64]> = prompts.iter().map(|x| x.as_slice()).collect();
        let c: Vec<&[i64]> = completions.iter().map(|x| x.as_slice()).collect();
        crate::util::tensor_to_f64(&self.score(&token_tensor(&p)?, &token_tensor(&c)?)?)
    }
}

/// Trains a reward model on `pairs`. Log steps are epochs; metrics: loss,
/// accuracy (fraction of training pairs ranked correctly).
pub fn train_reward_model(
    pairs: &[PreferencePair],
    config: &RewardModelConfig,
) -> Result<(RewardModel, TrainLog)> {
    duality_core::check::non_empty("preference pairs", pairs)?;
    positive_count("epochs", config.epochs)?;
    positive_count("batch_size", config.batch_size)?;
    let model = RewardModel::new(config)?;
    let mut opt = config.optimizer.build(&model.vs)?;
    let mut rng = Seeder::new(config.seed).named("reward-model").rng(0);
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    let progress = Progress::new(config.epochs as u64, "reward model");
    let mut log = TrainLog::new("bradley-terry-reward-model");
    for epoch in 1..=config.epochs {
        order.shuffle(&mut rng);
        let (mut total, mut correct) = (0.0, 0.0);
        for chunk in order.chunks(config.batch_size) {
            let refs: Vec<&PreferencePair> = chunk.iter().map(|&i| &pairs[i]).collect();
            let b = PairBatch::new(&refs)?;
            let margin =
                model.score(&b.prompts, &b.chosen)? - model.score(&b.prompts, &b.rejected)?;
            let loss = -margin.log_sigmoid().mean(None);
            total += finite_loss(epoch, &loss)? * chunk.len() as f64;
            correct += crate::util::scalar(&margin.gt(0.0).to_kind(Kind::Double).sum(Kind::Double));
            opt.backward_step(&loss);
        }
        progress.inc(1);
        let n = pairs.len() as f64;
        log.push(epoch, &[("loss", total / n), ("accuracy", correct / n)]);
    }
    progress.finish();
    Ok((model, log))
}
