//! One trainer on one test bed from a single config (what `duality align
//! train --config FILE.toml` runs, and what the bench suite calls).
//!
//! ```toml
//! trainer = "offline"        # offline | curry | online | dno | hypo | group | reward-model | constrained
//! testbed = "hidden-reward"  # hidden-reward | cyclic | countdown | proxies (constrained only)
//! seed = 0
//! eval_samples = 512
//! [offline]
//! epochs = 5
//! [offline.loss]
//! kind = "dpo"
//! beta = 0.5
//! ```

use duality_core::seed::Seeder;
use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::evaluate::{kl_to_reference, mean_reward, win_rate, Estimate};
use crate::policy::{Policy, PolicyConfig, SamplingConfig};
use crate::testbed::{
    covered_tokens, offline_pairs, ranked_responses, token_tensor, BradleyTerryOracle, CountDown,
    CyclicOracle, HiddenRewardTask, OutOfCoveragePenalty, PreferenceOracle, RewardFn, TestBed,
    ThresholdedProxies, TokenFrequency,
};
use crate::train::constrained::{train_constrained, ConstrainedConfig};
use crate::train::curry::{train_curry, CurryConfig};
use crate::train::dno::{train_dno, DnoConfig};
use crate::train::group::{train_group_observed, BatchReward, GroupConfig};
use crate::train::hypo::{train_hypo_observed, HypoConfig};
use crate::train::offline::{train_offline_observed, OfflineConfig};
use crate::train::online::{train_online_observed, OnlineConfig};
use crate::train::reward_model::{train_reward_model, RewardModelConfig};
use crate::train::TrainLog;

/// Which trainer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrainerKind {
    /// Offline DPO-family on generated pairs.
    #[default]
    Offline,
    /// Curry-DPO on ranked responses.
    Curry,
    /// Online IPO / IPO-MD / Nash-MD.
    Online,
    /// Direct Nash Optimization.
    Dno,
    /// HyPO.
    Hypo,
    /// Group-relative REINFORCE on the true reward (verifier / hidden reward).
    Group,
    /// Bradley-Terry reward model on offline pairs, then group-relative RLHF on it.
    RewardModel,
    /// Constrained (or fixed-weight) RLHF on the proxies test bed.
    Constrained,
}

/// Which test bed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TestBedKind {
    /// Hidden reward, Bradley-Terry oracle.
    #[default]
    HiddenReward,
    /// Hidden-reward sequences judged by the cyclic oracle.
    Cyclic,
    /// CountDown arithmetic with a verifier (BT oracle over the verifier).
    Countdown,
    /// Token-frequency proxies with usefulness thresholds.
    Proxies,
}

/// Test-bed sizes and data generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskConfig {
    /// Vocabulary of the hidden-reward / cyclic / proxies beds.
    pub vocab: usize,
    /// Prompt contexts.
    pub contexts: usize,
    /// Completion length.
    pub completion_len: usize,
    /// Bradley-Terry inverse temperature of the oracle.
    pub oracle_scale: f64,
    /// Strength of the cyclic oracle.
    pub cyclic_strength: f64,
    /// Offline pairs (offline, hypo, reward-model).
    pub pairs: usize,
    /// Coverage of the offline behaviour policy, in (0, 1].
    pub coverage: f64,
    /// Warm-start the initial policy (and so the reference) with this many
    /// Adam steps (lr 1e-2, 64 completions each) of maximum likelihood on
    /// the offline behaviour distribution (uniform over the covered tokens),
    /// so that pi_ref is the policy the offline data came from, as in Song
    /// et al. 2024 (offline pairs sampled from pi_ref); 0 = no warm start.
    pub sft_steps: usize,
    /// Hidden-reward bed only: penalty on the share of tokens outside the
    /// offline coverage (>= 0; 0 = none), see
    /// [`OutOfCoveragePenalty`].
    pub uncovered_penalty: f64,
    /// Prompts with ranked responses (curry).
    pub ranked_prompts: usize,
    /// Ranked responses per prompt (curry).
    pub responses_per_prompt: usize,
    /// Thresholds of the proxies bed (one per component; tokens 0, 1, ...).
    pub proxy_thresholds: Vec<f64>,
    /// Decline slope past a proxy threshold.
    pub overshoot_penalty: f64,
}

impl Default for TaskConfig {
    fn default() -> Self {
        TaskConfig {
            vocab: 6,
            contexts: 2,
            completion_len: 4,
            oracle_scale: 4.0,
            cyclic_strength: 0.8,
            pairs: 256,
            coverage: 1.0,
            uncovered_penalty: 0.0,
            sft_steps: 0,
            ranked_prompts: 64,
            responses_per_prompt: 4,
            proxy_thresholds: vec![0.4, 0.4],
            overshoot_penalty: 2.0,
        }
    }
}

/// A complete run description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunConfig {
    /// Trainer.
    pub trainer: TrainerKind,
    /// Test bed.
    pub testbed: TestBedKind,
    /// Master seed (task tables, data, weights, sampling).
    pub seed: u64,
    /// Monte Carlo samples for evaluation.
    pub eval_samples: usize,
    /// Trace the win rate against the reference every `curve_every` logged
    /// steps (epochs of the offline and HyPO trainers, optimizer steps of
    /// the online and group trainers), plus once before training (step 0);
    /// 0 turns the curve off. Curry-DPO, DNO and constrained RLHF have no
    /// curve (their logs carry their own traces). The curve draws from its
    /// own random stream, so it does not change training or evaluation.
    pub curve_every: usize,
    /// Monte Carlo samples per curve point (>= 2).
    pub curve_samples: usize,
    /// Policy network (its vocabulary is set from the test bed).
    pub policy: PolicyConfig,
    /// Sampling at evaluation.
    pub eval_sampling: SamplingConfig,
    /// Test bed and data.
    pub task: TaskConfig,
    /// Offline trainer.
    pub offline: OfflineConfig,
    /// Curry-DPO.
    pub curry: CurryConfig,
    /// Online trainers.
    pub online: OnlineConfig,
    /// DNO.
    pub dno: DnoConfig,
    /// HyPO.
    pub hypo: HypoConfig,
    /// Group-relative REINFORCE.
    pub group: GroupConfig,
    /// Reward model.
    pub reward_model: RewardModelConfig,
    /// Constrained RLHF.
    pub constrained: ConstrainedConfig,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            trainer: TrainerKind::Offline,
            testbed: TestBedKind::HiddenReward,
            seed: 0,
            eval_samples: 512,
            curve_every: 0,
            curve_samples: 200,
            policy: PolicyConfig::default(),
            eval_sampling: SamplingConfig::default(),
            task: TaskConfig::default(),
            offline: OfflineConfig::default(),
            curry: CurryConfig::default(),
            online: OnlineConfig::default(),
            dno: DnoConfig::default(),
            hypo: HypoConfig::default(),
            group: GroupConfig::default(),
            reward_model: RewardModelConfig::default(),
            constrained: ConstrainedConfig::default(),
        }
    }
}

impl RunConfig {
    /// Parses a TOML config (errors name the field).
    pub fn from_toml(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| Error::config("align train config", e.to_string()))
    }
}

/// One point of a training curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Logged step (0 = before training).
    pub step: usize,
    /// Win rate against the reference under the oracle (Monte Carlo mean).
    pub win_rate: f64,
}

/// What a run produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    /// Trainer.
    pub trainer: TrainerKind,
    /// Test bed.
    pub testbed: TestBedKind,
    /// Seed.
    pub seed: u64,
    /// Win rate of the trained policy against the initial (reference) policy under the oracle.
    pub win_rate: Estimate,
    /// Mean true reward (hidden reward / verifier / true proxy objective; absent on the cyclic bed).
    pub true_reward: Option<Estimate>,
    /// True reward of the reference policy, for comparison.
    pub reference_reward: Option<Estimate>,
    /// KL(policy || reference).
    pub kl: Estimate,
    /// The trainer's log.
    pub log: TrainLog,
    /// Win rate against the reference along training (empty unless
    /// `curve_every` > 0 and the trainer supports it).
    #[serde(default)]
    pub curve: Vec<CurvePoint>,
}

enum Bed {
    Seq(HiddenRewardTask),
    Count(CountDown),
}

impl TestBed for Bed {
    fn vocab(&self) -> usize {
        match self {
            Bed::Seq(t) => t.vocab(),
            Bed::Count(c) => c.vocab(),
        }
    }
    fn completion_len(&self) -> usize {
        match self {
            Bed::Seq(t) => t.completion_len(),
            Bed::Count(c) => c.completion_len(),
        }
    }
    fn sample_prompt(&self, rng: &mut dyn rand::RngCore) -> Vec<i64> {
        match self {
            Bed::Seq(t) => t.sample_prompt(rng),
            Bed::Count(c) => c.sample_prompt(rng),
        }
    }
}

/// The oracle and ground-truth reward of a test bed.
struct Truth {
    oracle: Box<dyn PreferenceOracle>,
    reward: Option<Box<dyn RewardFn>>,
}

impl PreferenceOracle for Truth {
    fn prob_prefer(&self, x: &[i64], a: &[i64], b: &[i64]) -> f64 {
        self.oracle.prob_prefer(x, a, b)
    }
}

struct BoxedReward<'a>(&'a dyn RewardFn);
impl RewardFn for BoxedReward<'_> {
    fn reward(&self, x: &[i64], y: &[i64]) -> f64 {
        self.0.reward(x, y)
    }
}

/// Maximum likelihood on completions drawn uniformly from the first
/// `covered` tokens (the offline behaviour policy of [`offline_pairs`]).
fn warm_start(
    policy: &Policy,
    bed: &impl TestBed,
    covered: usize,
    steps: usize,
    rng: &mut impl rand::Rng,
) -> Result<()> {
    let mut opt = duality_core::tensor::OptimizerConfig::adam(1e-2).build(policy.var_store())?;
    let len = bed.completion_len();
    let rows = 64;
    let mask = crate::testbed::full_mask(rows, len);
    for step in 0..steps {
        let xs: Vec<Vec<i64>> = (0..rows).map(|_| bed.sample_prompt(rng)).collect();
        let ys: Vec<Vec<i64>> = (0..rows)
            .map(|_| {
                (0..len)
                    .map(|_| rng.random_range(0..covered) as i64)
                    .collect()
            })
            .collect();
        let xr: Vec<&[i64]> = xs.iter().map(Vec::as_slice).collect();
        let yr: Vec<&[i64]> = ys.iter().map(Vec::as_slice).collect();
        let lp = policy.completion_log_probs(&token_tensor(&xr)?, &token_tensor(&yr)?, &mask)?;
        let loss = -lp.mean.mean(None);
        crate::train::finite_loss(step, &loss)?;
        opt.backward_step(&loss);
    }
    Ok(())
}

/// Runs one configured trainer on one test bed and evaluates it.
pub fn run(config: &RunConfig) -> Result<RunReport> {
    Ok(run_with_policy(config)?.0)
}

/// [`run`], also returning the trained policy.
pub fn run_with_policy(config: &RunConfig) -> Result<(RunReport, Policy)> {
    let seeder = Seeder::new(config.seed);
    let t = &config.task;
    let seq = || HiddenRewardTask::new(t.vocab, t.contexts, t.completion_len, config.seed);
    let (bed, truth) = match config.testbed {
        TestBedKind::HiddenReward if t.uncovered_penalty != 0.0 => {
            if !(t.uncovered_penalty.is_finite() && t.uncovered_penalty > 0.0) {
                return Err(Error::invalid(
                    "task.uncovered_penalty",
                    t.uncovered_penalty,
                    "a finite number >= 0",
                ));
            }
            let task = seq()?;
            let reward = OutOfCoveragePenalty {
                base: task.clone(),
                covered: covered_tokens(t.coverage, task.vocab())?,
                penalty: t.uncovered_penalty,
            };
            let truth = Truth {
                oracle: Box::new(BradleyTerryOracle {
                    reward: reward.clone(),
                    scale: t.oracle_scale,
                }),
                reward: Some(Box::new(reward)),
            };
            (Bed::Seq(task), truth)
        }
        TestBedKind::HiddenReward => {
            let task = seq()?;
            let truth = Truth {
                oracle: Box::new(BradleyTerryOracle {
                    reward: task.clone(),
                    scale: t.oracle_scale,
                }),
                reward: Some(Box::new(task.clone())),
            };
            (Bed::Seq(task), truth)
        }
        TestBedKind::Cyclic => {
            let task = seq()?;
            let truth = Truth {
                oracle: Box::new(CyclicOracle {
                    strength: t.cyclic_strength,
                }),
                reward: None,
            };
            (Bed::Seq(task), truth)
        }
        TestBedKind::Countdown => (
            Bed::Count(CountDown),
            Truth {
                oracle: Box::new(BradleyTerryOracle {
                    reward: CountDown,
                    scale: t.oracle_scale,
                }),
                reward: Some(Box::new(CountDown)),
            },
        ),
        TestBedKind::Proxies => {
            let proxies = ThresholdedProxies {
                components: (0..t.proxy_thresholds.len())
                    .map(|i| TokenFrequency { token: i as i64 })
                    .collect(),
                thresholds: t.proxy_thresholds.clone(),
                overshoot_penalty: t.overshoot_penalty,
            };
            if proxies.components.len() > t.vocab {
                return Err(Error::config(
                    "task.proxy_thresholds",
                    "more components than tokens",
                ));
            }
            (
                Bed::Seq(seq()?),
                Truth {
                    oracle: Box::new(BradleyTerryOracle {
                        reward: proxies.clone(),
                        scale: t.oracle_scale,
                    }),
                    reward: Some(Box::new(proxies)),
                },
            )
        }
    };
    let mut policy_cfg = config.policy.clone();
    policy_cfg.vocab = bed.vocab();
    policy_cfg.max_len = policy_cfg.max_len.max(bed.completion_len() + 4);
    let mut policy = Policy::new(&policy_cfg, seeder.seed_for(1))?;
    if t.sft_steps > 0 {
        let covered = covered_tokens(t.coverage, bed.vocab())?;
        warm_start(
            &policy,
            &bed,
            covered,
            t.sft_steps,
            &mut seeder.named("sft").rng(0),
        )?;
    }
    let reference = policy.frozen_copy()?;
    let mut data_rng = seeder.named("data").rng(0);
    let with_seed = |s: u64| s ^ seeder.seed_for(2);
    let reward_ref = truth.reward.as_deref();
    let traced = matches!(
        config.trainer,
        TrainerKind::Offline
            | TrainerKind::Online
            | TrainerKind::Hypo
            | TrainerKind::Group
            | TrainerKind::RewardModel
    );
    let every = if traced { config.curve_every } else { 0 };
    if every > 0 {
        duality_core::check::at_least("curve_samples", config.curve_samples, 2)?;
    }
    let mut curve = Vec::new();
    let mut curve_rng = seeder.named("curve").rng(0);
    let mut observe = |step: usize, p: &Policy| -> Result<()> {
        if every > 0 && step % every == 0 {
            let w = win_rate(
                p,
                &reference,
                &bed,
                &truth,
                config.curve_samples,
                config.eval_sampling,
                &mut curve_rng,
            )?;
            curve.push(CurvePoint {
                step,
                win_rate: w.mean,
            });
        }
        Ok(())
    };
    observe(0, &policy)?;
    let log = match config.trainer {
        TrainerKind::Offline => {
            let pairs =
                offline_pairs(&bed, &truth, reward_ref, t.pairs, t.coverage, &mut data_rng)?;
            let mut c = config.offline.clone();
            c.seed = with_seed(c.seed);
            train_offline_observed(&mut policy, &reference, &pairs, &[], &c, &mut observe)?
        }
        TrainerKind::Curry => {
            let reward = reward_ref.ok_or_else(|| {
                Error::config("testbed", "curry needs a scored test bed (not cyclic)")
            })?;
            let ranked = ranked_responses(
                &bed,
                &BoxedReward(reward),
                t.ranked_prompts,
                t.responses_per_prompt,
                &mut data_rng,
            )?;
            let mut c = config.curry.clone();
            c.offline.seed = with_seed(c.offline.seed);
            train_curry(&mut policy, &reference, &ranked, &c)?
        }
        TrainerKind::Online => {
            let mut c = config.online.clone();
            c.seed = with_seed(c.seed);
            train_online_observed(&mut policy, &reference, &bed, &truth, &c, &mut observe)?
        }
        TrainerKind::Dno => {
            let mut c = config.dno.clone();
            c.seed = with_seed(c.seed);
            train_dno(&mut policy, &bed, &truth, &c)?
        }
        TrainerKind::Hypo => {
            let pairs =
                offline_pairs(&bed, &truth, reward_ref, t.pairs, t.coverage, &mut data_rng)?;
            let mut c = config.hypo.clone();
            c.offline.seed = with_seed(c.offline.seed);
            train_hypo_observed(&mut policy, &reference, &pairs, &bed, &c, &mut observe)?
        }
        TrainerKind::Group => {
            let reward = reward_ref.ok_or_else(|| {
                Error::config(
                    "testbed",
                    "group needs a reward (use reward-model on the cyclic bed)",
                )
            })?;
            let mut c = config.group.clone();
            c.seed = with_seed(c.seed);
            train_group_observed(
                &mut policy,
                &reference,
                &bed,
                &BoxedReward(reward),
                &c,
                &mut observe,
            )?
        }
        TrainerKind::RewardModel => {
            let pairs =
                offline_pairs(&bed, &truth, reward_ref, t.pairs, t.coverage, &mut data_rng)?;
            let mut rc = config.reward_model.clone();
            rc.vocab = bed.vocab();
            rc.seed = with_seed(rc.seed);
            let (rm, rm_log) = train_reward_model(&pairs, &rc)?;
            let mut c = config.group.clone();
            c.seed = with_seed(c.seed);
            let mut log =
                train_group_observed(&mut policy, &reference, &bed, &rm, &c, &mut observe)?;
            log.trainer = format!("reward-model-rlhf ({})", log.trainer);
            if let Some(acc) = rm_log.last("accuracy") {
                if let Some(e) = log.entries.first_mut() {
                    e.metrics.insert("reward_model_accuracy".into(), acc);
                }
            }
            log
        }
        TrainerKind::Constrained => {
            if config.testbed != TestBedKind::Proxies {
                return Err(Error::config(
                    "testbed",
                    "constrained runs on the `proxies` test bed",
                ));
            }
            let comps: Vec<TokenFrequency> = (0..t.proxy_thresholds.len())
                .map(|i| TokenFrequency { token: i as i64 })
                .collect();
            let dyn_comps: Vec<&dyn BatchReward> =
                comps.iter().map(|c| c as &dyn BatchReward).collect();
            let mut c = config.constrained.clone();
            c.group.seed = with_seed(c.group.seed);
            train_constrained(&mut policy, &reference, &bed, &dyn_comps, &c)?.0
        }
    };
    let mut eval_rng = seeder.named("eval").rng(0);
    let n = config.eval_samples;
    let s = config.eval_sampling;
    let win = win_rate(&policy, &reference, &bed, &truth, n, s, &mut eval_rng)?;
    let (true_reward, reference_reward) = match reward_ref {
        Some(r) => (
            Some(mean_reward(
                &policy,
                &bed,
                &BoxedReward(r),
                n,
                s,
                &mut eval_rng,
            )?),
            Some(mean_reward(
                &reference,
                &bed,
                &BoxedReward(r),
                n,
                s,
                &mut eval_rng,
            )?),
        ),
        None => (None, None),
    };
    let kl = kl_to_reference(&policy, &reference, &bed, n, &mut eval_rng)?;
    let report = RunReport {
        trainer: config.trainer,
        testbed: config.testbed,
        seed: config.seed,
        win_rate: win,
        true_reward,
        reference_reward,
        kl,
        log,
        curve,
    };
    Ok((report, policy))
}
