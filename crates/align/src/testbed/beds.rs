//! Test beds: a [`Task`] with its judge and the evaluation of a policy
//! against its reference, and the config that builds one for a run.

use duality_core::config::Validate;
use duality_core::{Error, Result};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::{
    covered_tokens, BradleyTerryOracle, CountDown, CyclicOracle, HiddenRewardTask,
    OutOfCoveragePenalty, PreferenceOracle, RewardFn, Task, ThresholdedProxies, TokenFrequency,
};
use crate::evaluate::{kl_to_reference, mean_reward, win_rate, Estimate};
use crate::policy::{Policy, SamplingConfig};

/// A task with its judge: where prompts come from ([`Task`]), who prefers
/// which completion (a [`PreferenceOracle`]), the ground-truth reward when
/// the bed has one, and the evaluation of a trained policy. Trainers see a
/// test bed only through this trait (`&dyn TestBed` in a
/// [`TrainContext`](crate::train::TrainContext)).
pub trait TestBed: Task {
    /// The preference oracle P(y ≻ y' | x) that labels data and judges win rates.
    fn oracle(&self) -> &dyn PreferenceOracle;

    /// The ground-truth reward, if the bed has one (the cyclic bed has none:
    /// no reward is consistent with its preferences).
    fn reward(&self) -> Option<&dyn RewardFn>;

    /// The proxy components the reward is built from, for multi-objective
    /// trainers (constrained RLHF); empty when the bed has none.
    fn reward_components(&self) -> Vec<&dyn RewardFn> {
        Vec::new()
    }

    /// The proxy points theta_i of the reward components, one per
    /// [`TestBed::reward_components`] entry: the component values past
    /// which the true reward stops improving (empty when the bed has no
    /// components). This is the one source of the thresholds: the true
    /// reward uses them, and constrained RLHF takes its constraint
    /// thresholds from here, so the two cannot disagree.
    fn proxy_points(&self) -> &[f64] {
        &[]
    }

    /// Win rate of `policy` against `reference` under the oracle, then (if
    /// the bed has a reward) the mean true reward of both, then KL(policy ‖
    /// reference), each from `n` Monte Carlo samples drawn from `rng` in
    /// that order.
    fn evaluate(
        &self,
        policy: &Policy,
        reference: &Policy,
        n: usize,
        sampling: SamplingConfig,
        mut rng: &mut dyn RngCore,
    ) -> Result<Evaluation> {
        let win = win_rate(
            policy,
            reference,
            self,
            self.oracle(),
            n,
            sampling,
            &mut rng,
        )?;
        let (true_reward, reference_reward) = match self.reward() {
            Some(r) => (
                Some(mean_reward(policy, self, r, n, sampling, &mut rng)?),
                Some(mean_reward(reference, self, r, n, sampling, &mut rng)?),
            ),
            None => (None, None),
        };
        let kl = kl_to_reference(policy, reference, self, n, &mut rng)?;
        Ok(Evaluation {
            win_rate: win,
            true_reward,
            reference_reward,
            kl,
        })
    }
}

/// What [`TestBed::evaluate`] measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Win rate against the reference under the oracle.
    pub win_rate: Estimate,
    /// Mean true reward of the policy (absent without a reward).
    pub true_reward: Option<Estimate>,
    /// Mean true reward of the reference.
    pub reference_reward: Option<Estimate>,
    /// KL(policy ‖ reference).
    pub kl: Estimate,
}

/// Delegates [`Task`] to a field.
macro_rules! task_via {
    ($bed:ty, $field:ident) => {
        impl Task for $bed {
            fn vocab(&self) -> usize {
                self.$field.vocab()
            }
            fn completion_len(&self) -> usize {
                self.$field.completion_len()
            }
            fn sample_prompt(&self, rng: &mut dyn RngCore) -> Vec<i64> {
                self.$field.sample_prompt(rng)
            }
        }
    };
}

/// The hidden-reward task judged by a Bradley-Terry oracle over its hidden
/// reward (Bradley & Terry 1952; DPO's preference model, Rafailov et al.
/// 2023, Eq. 1), optionally minus an [`OutOfCoveragePenalty`].
#[derive(Debug, Clone)]
pub struct HiddenRewardBed {
    task: HiddenRewardTask,
    oracle: BradleyTerryOracle<OutOfCoveragePenalty<HiddenRewardTask>>,
}

impl HiddenRewardBed {
    /// The task with oracle inverse temperature `scale` (> 0).
    pub fn new(task: HiddenRewardTask, scale: f64) -> Result<Self> {
        duality_core::check::positive("oracle scale", scale)?;
        let reward = OutOfCoveragePenalty {
            base: task.clone(),
            // Every token covered: the penalty term is exactly 0.
            covered: task.vocab(),
            penalty: 0.0,
        };
        Ok(HiddenRewardBed {
            task,
            oracle: BradleyTerryOracle { reward, scale },
        })
    }

    /// Subtracts `penalty` (finite, >= 0) times the share of tokens with id
    /// >= `covered` from the reward (and so from the oracle's preferences).
    pub fn with_uncovered_penalty(mut self, covered: usize, penalty: f64) -> Result<Self> {
        if !(penalty.is_finite() && penalty >= 0.0) {
            return Err(Error::invalid(
                "uncovered_penalty",
                penalty,
                "a finite number >= 0",
            ));
        }
        self.oracle.reward.covered = covered;
        self.oracle.reward.penalty = penalty;
        Ok(self)
    }

    /// The underlying task.
    pub fn task(&self) -> &HiddenRewardTask {
        &self.task
    }
}

task_via!(HiddenRewardBed, task);

impl TestBed for HiddenRewardBed {
    fn oracle(&self) -> &dyn PreferenceOracle {
        &self.oracle
    }
    fn reward(&self) -> Option<&dyn RewardFn> {
        Some(&self.oracle.reward)
    }
}

/// Hidden-reward sequences judged by the intransitive [`CyclicOracle`]; no
/// ground-truth reward (the setting of DNO, Rosset et al. 2024, Sec. 2).
#[derive(Debug, Clone)]
pub struct CyclicBed {
    task: HiddenRewardTask,
    oracle: CyclicOracle,
}

impl CyclicBed {
    /// The task's prompts and completions under a cycle of `strength` in [0, 1].
    pub fn new(task: HiddenRewardTask, strength: f64) -> Result<Self> {
        duality_core::check::probability("cyclic strength", strength)?;
        Ok(CyclicBed {
            task,
            oracle: CyclicOracle { strength },
        })
    }
}

task_via!(CyclicBed, task);

impl TestBed for CyclicBed {
    fn oracle(&self) -> &dyn PreferenceOracle {
        &self.oracle
    }
    fn reward(&self) -> Option<&dyn RewardFn> {
        None
    }
}

/// CountDown arithmetic; the reward is its verifier and the oracle a
/// Bradley-Terry model over it.
#[derive(Debug, Clone)]
pub struct CountDownBed {
    oracle: BradleyTerryOracle<CountDown>,
}

impl CountDownBed {
    /// CountDown with oracle inverse temperature `scale` (> 0).
    pub fn new(scale: f64) -> Result<Self> {
        duality_core::check::positive("oracle scale", scale)?;
        Ok(CountDownBed {
            oracle: BradleyTerryOracle {
                reward: CountDown,
                scale,
            },
        })
    }
}

impl Task for CountDownBed {
    fn vocab(&self) -> usize {
        CountDown.vocab()
    }
    fn completion_len(&self) -> usize {
        CountDown.completion_len()
    }
    fn sample_prompt(&self, rng: &mut dyn RngCore) -> Vec<i64> {
        CountDown.sample_prompt(rng)
    }
}

impl TestBed for CountDownBed {
    fn oracle(&self) -> &dyn PreferenceOracle {
        &self.oracle
    }
    fn reward(&self) -> Option<&dyn RewardFn> {
        Some(&CountDown)
    }
}

/// The constrained-RLHF bed (Moskovitz et al. 2024, Sec. 3): hidden-reward
/// prompts, token-frequency proxy components (tokens 0, 1, ...), and the
/// true objective [`ThresholdedProxies`] as reward and oracle.
#[derive(Debug, Clone)]
pub struct ProxiesBed {
    task: HiddenRewardTask,
    oracle: BradleyTerryOracle<ThresholdedProxies>,
}

impl ProxiesBed {
    /// One proxy per threshold (at most the vocabulary), each useful up to
    /// its threshold and declining with slope `overshoot_penalty` beyond;
    /// oracle inverse temperature `scale` (> 0).
    pub fn new(
        task: HiddenRewardTask,
        thresholds: &[f64],
        overshoot_penalty: f64,
        scale: f64,
    ) -> Result<Self> {
        duality_core::check::finite_non_empty("proxy_thresholds", thresholds)?;
        duality_core::check::finite_scalar("overshoot_penalty", overshoot_penalty)?;
        duality_core::check::positive("oracle scale", scale)?;
        if thresholds.len() > task.vocab() {
            return Err(Error::config(
                "task.proxy_thresholds",
                format!(
                    "{} components but only {} tokens",
                    thresholds.len(),
                    task.vocab()
                ),
            ));
        }
        let proxies = ThresholdedProxies {
            components: (0..thresholds.len())
                .map(|i| TokenFrequency { token: i as i64 })
                .collect(),
            thresholds: thresholds.to_vec(),
            overshoot_penalty,
        };
        Ok(ProxiesBed {
            task,
            oracle: BradleyTerryOracle {
                reward: proxies,
                scale,
            },
        })
    }
}

task_via!(ProxiesBed, task);

impl TestBed for ProxiesBed {
    fn oracle(&self) -> &dyn PreferenceOracle {
        &self.oracle
    }
    fn reward(&self) -> Option<&dyn RewardFn> {
        Some(&self.oracle.reward)
    }
    fn reward_components(&self) -> Vec<&dyn RewardFn> {
        self.oracle
            .reward
            .components
            .iter()
            .map(|c| c as &dyn RewardFn)
            .collect()
    }
    fn proxy_points(&self) -> &[f64] {
        &self.oracle.reward.thresholds
    }
}

/// Which test bed a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TestBedKind {
    /// [`HiddenRewardBed`].
    #[default]
    HiddenReward,
    /// [`CyclicBed`].
    Cyclic,
    /// [`CountDownBed`].
    Countdown,
    /// [`ProxiesBed`].
    Proxies,
}

crate::util::named_enum!(TestBedKind, "testbed", {
    HiddenReward => "hidden-reward",
    Cyclic => "cyclic",
    Countdown => "countdown",
    Proxies => "proxies",
});

impl TestBedKind {
    /// Builds the bed described by `task`; `seed` draws the hidden tables.
    pub fn build(self, task: &TaskConfig, seed: u64) -> Result<Box<dyn TestBed>> {
        let seq = || HiddenRewardTask::new(task.vocab, task.contexts, task.completion_len, seed);
        Ok(match self {
            TestBedKind::HiddenReward => {
                let mut bed = HiddenRewardBed::new(seq()?, task.oracle_scale)?;
                if task.uncovered_penalty != 0.0 {
                    let covered = covered_tokens(task.coverage, task.vocab)?;
                    bed = bed.with_uncovered_penalty(covered, task.uncovered_penalty)?;
                }
                Box::new(bed)
            }
            TestBedKind::Cyclic => Box::new(CyclicBed::new(seq()?, task.cyclic_strength)?),
            TestBedKind::Countdown => Box::new(CountDownBed::new(task.oracle_scale)?),
            TestBedKind::Proxies => Box::new(ProxiesBed::new(
                seq()?,
                &task.proxy_thresholds,
                task.overshoot_penalty,
                task.oracle_scale,
            )?),
        })
    }
}

/// Test-bed sizes and data generation (the `[task]` table of a run config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaskConfig {
    /// Vocabulary of the hidden-reward / cyclic / proxies beds.
    pub vocab: usize,
    /// Prompt contexts.
    pub contexts: usize,
    /// Completion length.
    pub completion_len: usize,
    /// Bradley-Terry inverse temperature of the oracle (> 0).
    pub oracle_scale: f64,
    /// Strength of the cyclic oracle, in [0, 1].
    pub cyclic_strength: f64,
    /// Offline pairs (offline, hypo, reward-model, kto).
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
    /// offline coverage (>= 0; 0 = none), see [`OutOfCoveragePenalty`].
    pub uncovered_penalty: f64,
    /// Prompts with ranked responses (curry).
    pub ranked_prompts: usize,
    /// Ranked responses per prompt (curry, >= 2).
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

impl Validate for TaskConfig {
    fn validate(&self) -> Result<()> {
        let field = |name: &str, e: Error| Error::config(format!("task.{name}"), e.to_string());
        duality_core::check::at_least("vocab", self.vocab, 2).map_err(|e| field("vocab", e))?;
        duality_core::check::at_least("contexts", self.contexts, 1)
            .map_err(|e| field("contexts", e))?;
        if self.contexts > self.vocab {
            return Err(Error::config(
                "task.contexts",
                format!(
                    "must be at most vocab = {}, got {}",
                    self.vocab, self.contexts
                ),
            ));
        }
        duality_core::check::at_least("completion_len", self.completion_len, 1)
            .map_err(|e| field("completion_len", e))?;
        duality_core::check::positive("oracle_scale", self.oracle_scale)
            .map_err(|e| field("oracle_scale", e))?;
        duality_core::check::probability("cyclic_strength", self.cyclic_strength)
            .map_err(|e| field("cyclic_strength", e))?;
        duality_core::check::at_least("pairs", self.pairs, 1).map_err(|e| field("pairs", e))?;
        covered_tokens(self.coverage, self.vocab).map_err(|e| field("coverage", e))?;
        if !(self.uncovered_penalty.is_finite() && self.uncovered_penalty >= 0.0) {
            return Err(Error::config(
                "task.uncovered_penalty",
                format!(
                    "must be a finite number >= 0, got {}",
                    self.uncovered_penalty
                ),
            ));
        }
        duality_core::check::at_least("ranked_prompts", self.ranked_prompts, 1)
            .map_err(|e| field("ranked_prompts", e))?;
        duality_core::check::at_least("responses_per_prompt", self.responses_per_prompt, 2)
            .map_err(|e| field("responses_per_prompt", e))?;
        duality_core::check::finite_non_empty("proxy_thresholds", &self.proxy_thresholds)
            .map_err(|e| field("proxy_thresholds", e))?;
        duality_core::check::finite_scalar("overshoot_penalty", self.overshoot_penalty)
            .map_err(|e| field("overshoot_penalty", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beds_build_from_the_config_and_judge() {
        let t = TaskConfig::default();
        for kind in [
            TestBedKind::HiddenReward,
            TestBedKind::Cyclic,
            TestBedKind::Countdown,
            TestBedKind::Proxies,
        ] {
            let bed = kind.build(&t, 1).unwrap();
            assert_eq!(kind.to_string().parse::<TestBedKind>().unwrap(), kind);
            assert_eq!(bed.reward().is_none(), kind == TestBedKind::Cyclic);
            assert_eq!(
                bed.reward_components().len(),
                if kind == TestBedKind::Proxies { 2 } else { 0 }
            );
            let mut rng = duality_core::seed::Seeder::new(0).rng(0);
            let x = bed.sample_prompt(&mut rng);
            let y = vec![1i64; bed.completion_len()];
            let p = bed.oracle().prob_prefer(&x, &y, &y);
            assert!(
                (p - 0.5).abs() < 1e-12,
                "{kind}: a completion ties with itself"
            );
        }
        let e = "grid".parse::<TestBedKind>().unwrap_err().to_string();
        assert!(e.contains("\"grid\"") && e.contains("hidden-reward"), "{e}");
    }

    #[test]
    fn the_penalty_moves_the_reward_and_bad_configs_name_the_field() {
        let task = HiddenRewardTask::easy(0);
        let plain = HiddenRewardBed::new(task.clone(), 4.0).unwrap();
        let (x, y) = (vec![0i64], vec![0i64, 1, 4, 5]);
        let r0 = plain.reward().unwrap().reward(&x, &y);
        assert_eq!(
            r0,
            task.reward(&x, &y),
            "no penalty: the hidden reward exactly"
        );
        let pen = plain.with_uncovered_penalty(3, 2.0).unwrap();
        assert!((pen.reward().unwrap().reward(&x, &y) - (r0 - 1.0)).abs() < 1e-12);
        let mut t = TaskConfig {
            uncovered_penalty: -1.0,
            ..TaskConfig::default()
        };
        let e = t.validate().unwrap_err().to_string();
        assert!(e.contains("task.uncovered_penalty"), "{e}");
        t.uncovered_penalty = 0.0;
        t.coverage = 0.0;
        let e = t.validate().unwrap_err().to_string();
        assert!(e.contains("task.coverage"), "{e}");
        t.coverage = 1.0;
        t.proxy_thresholds = vec![0.1; 7];
        assert!(TestBedKind::Proxies.build(&t, 0).is_err());
    }
}
