//! Bradley-Terry reward models (Bradley & Terry 1952; the reward-modelling
//! step of RLHF, Ouyang et al. 2022, Eq. 1): r_phi(x, y) from an embedding +
//! GRU encoder of [x; y] (final hidden state -> linear), trained on pairs by
//! minimising -log sigmoid(r(x, y_w) - r(x, y_l)); and the two-stage RLHF
//! trainer `reward-model` that fits one on the run's offline pairs and then
//! runs group-relative REINFORCE on its scores.

use duality_core::config::Validate;
use duality_core::progress::Progress;
use duality_core::seed::Seeder;
use duality_core::tensor::tch::nn::{self, Module, RNN};
use duality_core::tensor::tch::{Device, Kind, Tensor};
use duality_core::tensor::OptimizerConfig;
use duality_core::Result;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::group::{BatchReward, Group, GroupConfig};
use super::{finite_loss, positive_count, PairBatch, TrainContext, TrainLog, Trainer};
use crate::testbed::{token_tensor, PreferencePair};

/// Reward-model settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
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

impl Validate for RewardModelConfig {
    fn validate(&self) -> Result<()> {
        duality_core::check::at_least("vocab", self.vocab, 2)?;
        positive_count("embed", self.embed)?;
        positive_count("hidden", self.hidden)?;
        positive_count("epochs", self.epochs)?;
        positive_count("batch_size", self.batch_size)?;
        crate::limits::check_optimizer("optimizer", &self.optimizer)
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
        config.validate()?;
        // The same GRU shape as a policy's (embedding, GRU, head), so the
        // policy estimate bounds it; refused before allocating.
        let shape = crate::policy::PolicyConfig {
            vocab: config.vocab,
            embed: config.embed,
            hidden: config.hidden,
            ..crate::policy::PolicyConfig::default()
        };
        let (field, value) = crate::limits::larger(
            crate::limits::larger(
                ("reward model vocab", config.vocab),
                ("reward model embed", config.embed),
            ),
            ("reward model hidden", config.hidden),
        );
        crate::limits::check_bytes(
            field,
            value,
            format!(
                "a reward model of vocab {}, embed {}, hidden {}",
                config.vocab, config.embed, config.hidden
            ),
            crate::limits::policy_bytes(&shape),
        )?;
        Ok(crate::util::seeded_init(config.seed, || {
            let vs = nn::VarStore::new(Device::Cpu);
            let root = vs.root();
            let (v, e, h) = (
                config.vocab as i64,
                config.embed as i64,
                config.hidden as i64,
            );
            RewardModel {
                embed: nn::embedding(&root / "embed", v, e, Default::default()),
                gru: nn::gru(&root / "gru", e, h, Default::default()),
                head: nn::linear(&root / "head", h, 1, Default::default()),
                vs,
                vocab: config.vocab,
            }
        }))
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

/// A reward model fitted by [`train_reward_model`] and its training log.
#[derive(Debug)]
pub struct FittedRewardModel {
    /// The model.
    pub model: RewardModel,
    /// Log steps are epochs; metrics: loss, accuracy (fraction of training
    /// pairs ranked correctly).
    pub log: TrainLog,
}

/// Trains a reward model on `pairs`.
pub fn train_reward_model(
    pairs: &[PreferencePair],
    config: &RewardModelConfig,
) -> Result<FittedRewardModel> {
    duality_core::check::non_empty("preference pairs", pairs)?;
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
    Ok(FittedRewardModel { model, log })
}

/// Settings of reward-model RLHF (the `[reward-model]` section): the
/// reward model (its `vocab` is taken from the test bed) and the
/// group-relative policy update on its scores.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RewardModelRlhfConfig {
    /// The Bradley-Terry reward model.
    pub model: RewardModelConfig,
    /// The policy update.
    pub rlhf: GroupConfig,
}

impl Validate for RewardModelRlhfConfig {
    fn validate(&self) -> Result<()> {
        self.model.validate()?;
        self.rlhf.validate()
    }
}

/// Two-stage RLHF (registry name `reward-model`; Ouyang et al. 2022): a
/// Bradley-Terry reward model on the run's offline pairs, then
/// group-relative REINFORCE on its scores. The log is the policy update's,
/// renamed `reward-model-rlhf (<method>-lag<k>)`, with the reward model's
/// final training accuracy as `reward_model_accuracy` on its first entry.
#[derive(Debug, Clone)]
pub struct RewardModelRlhf {
    config: RewardModelRlhfConfig,
    rlhf: Group,
}

impl Trainer for RewardModelRlhf {
    const NAME: &'static str = "reward-model";
    const ABOUT: &'static str =
        "Bradley-Terry reward model on offline pairs, then group-relative RLHF on it (Ouyang et al. 2022)";
    const OBSERVED: bool = true;
    type Config = RewardModelRlhfConfig;

    fn new(config: RewardModelRlhfConfig) -> Result<Self> {
        config.validate()?;
        let rlhf = Group::new(config.rlhf.clone())?;
        Ok(RewardModelRlhf { config, rlhf })
    }

    fn config(&self) -> &RewardModelRlhfConfig {
        &self.config
    }

    fn train(&self, ctx: &mut TrainContext<'_>) -> Result<TrainLog> {
        let pairs = ctx.offline_pairs()?;
        let mut rc = self.config.model.clone();
        rc.vocab = ctx.bed().vocab();
        rc.seed = ctx.trainer_seed(rc.seed);
        let fitted = train_reward_model(&pairs, &rc)?;
        let mut log = self.rlhf.train_with_reward(ctx, &fitted.model)?;
        log.trainer = format!("reward-model-rlhf ({})", log.trainer);
        if let Some(acc) = fitted.log.last("accuracy") {
            if let Some(e) = log.entries.first_mut() {
                e.metrics.insert("reward_model_accuracy".into(), acc);
            }
        }
        Ok(log)
    }
}
