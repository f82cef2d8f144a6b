//! One trainer on one test bed from a single config (what `duality align
//! train --config FILE.toml` runs, and what the bench suite calls).
//!
//! ```toml
//! trainer = "offline"        # any registered trainer (`duality align trainers`)
//! testbed = "hidden-reward"  # hidden-reward | cyclic | countdown | proxies
//! seed = 0
//! eval_samples = 512
//! [task]                     # test bed and data sizes (TaskConfig)
//! pairs = 256
//! [offline]                  # the section named after a trainer is its config
//! epochs = 5
//! [offline.loss]
//! kind = "dpo"
//! beta = 0.5
//! ```
//!
//! The trainer is looked up in the registry ([`crate::train::find_trainer`]);
//! sections of other registered trainers may be present (only the selected
//! one is used, all are checked), any other key is an error.
//!
//! ```
//! use duality_align::run::{run, RunConfig};
//!
//! duality_align::tch::set_num_threads(1);
//! let text = "trainer = \"offline\"\neval_samples = 100\n[task]\npairs = 64\n[offline]\nepochs = 2\n";
//! let config = RunConfig::from_toml_str(text, "run.toml")?;
//! let report = run(&config)?;
//! assert_eq!(report.trainer, "offline");
//! assert_eq!(report.log.entries.len(), 2);
//! let e = RunConfig::from_toml_str("trainer = \"ofline\"\n", "run.toml").unwrap_err();
//! assert!(e.to_string().contains("offline, curry"), "{e}");
//! let e = RunConfig::from_toml_str("[offline]\nepochs = \"two\"\n", "run.toml").unwrap_err();
//! assert!(e.to_string().contains("run.toml line 2"), "{e}");
//! # Ok::<(), duality_core::Error>(())
//! ```

use std::collections::BTreeMap;

use duality_core::config::Validate;
use duality_core::seed::{DualityRng, Seeder};
use duality_core::{Error, Result};
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::evaluate::{win_rate, Estimate};
use crate::policy::{Policy, PolicyConfig, SamplingConfig};
use crate::testbed::{covered_tokens, token_tensor, Task, TaskConfig, TestBed, TestBedKind};
use crate::train::{
    find_trainer, registered, section_config, to_section, DataSpec, Observer, TrainContext,
    TrainLog, Trainer,
};

/// A complete run description. Deserialised from TOML by
/// [`RunConfig::from_toml_str`] / [`RunConfig::load_toml`] (or any serde
/// deserializer): the keys below, and one section per registered trainer
/// holding its config (`[offline]`, `[kto]`, ...).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunConfig {
    /// Registered trainer name.
    pub trainer: String,
    /// Test bed.
    pub testbed: TestBedKind,
    /// Master seed (task tables, data, weights, sampling).
    pub seed: u64,
    /// Monte Carlo samples for evaluation (>= 2).
    pub eval_samples: usize,
    /// Trace the win rate against the reference every `curve_every` logged
    /// steps (epochs of the offline, HyPO and KTO trainers, optimizer steps
    /// of the online and group trainers), plus once before training (step
    /// 0); 0 turns the curve off. Trainers that are not observed (Curry-DPO,
    /// DNO, constrained RLHF: `duality align trainers`) have no curve. The
    /// curve draws from its own random stream, so it does not change
    /// training or evaluation.
    pub curve_every: usize,
    /// Monte Carlo samples per curve point (>= 2).
    pub curve_samples: usize,
    /// Policy network (its vocabulary is set from the test bed).
    pub policy: PolicyConfig,
    /// Sampling at evaluation.
    pub eval_sampling: SamplingConfig,
    /// Test bed and data.
    pub task: TaskConfig,
    /// Trainer configs by trainer name, as TOML; missing = defaults. Use
    /// [`RunConfig::set_trainer_config`] / [`RunConfig::trainer_config`]
    /// for typed access.
    #[serde(flatten)]
    pub sections: BTreeMap<String, toml::Value>,
}

/// The keys of [`RunConfig`] other than trainer sections.
const RUN_KEYS: [&str; 9] = [
    "trainer",
    "testbed",
    "seed",
    "eval_samples",
    "curve_every",
    "curve_samples",
    "policy",
    "eval_sampling",
    "task",
];

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            trainer: crate::train::offline::Offline::NAME.to_string(),
            testbed: TestBedKind::HiddenReward,
            seed: 0,
            eval_samples: 512,
            curve_every: 0,
            curve_samples: 200,
            policy: PolicyConfig::default(),
            eval_sampling: SamplingConfig::default(),
            task: TaskConfig::default(),
            sections: BTreeMap::new(),
        }
    }
}

/// Known keys typed (so their errors keep the deserializer's position),
/// every other key a trainer section.
impl<'de> Deserialize<'de> for RunConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = RunConfig;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an align run config table")
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<RunConfig, A::Error> {
                let mut c = RunConfig::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "trainer" => c.trainer = map.next_value()?,
                        "testbed" => c.testbed = map.next_value()?,
                        "seed" => c.seed = map.next_value()?,
                        "eval_samples" => c.eval_samples = map.next_value()?,
                        "curve_every" => c.curve_every = map.next_value()?,
                        "curve_samples" => c.curve_samples = map.next_value()?,
                        "policy" => c.policy = map.next_value()?,
                        "eval_sampling" => c.eval_sampling = map.next_value()?,
                        "task" => c.task = map.next_value()?,
                        _ => {
                            let v: toml::Value = map.next_value()?;
                            c.sections.insert(key, v);
                        }
                    }
                }
                Ok(c)
            }
        }
        d.deserialize_map(Keys)
    }
}

impl Validate for RunConfig {
    /// Checks the run keys, that the trainer is registered, that every
    /// other key names a registered trainer, and each such section's config.
    fn validate(&self) -> Result<()> {
        find_trainer(&self.trainer)?;
        duality_core::check::at_least("eval_samples", self.eval_samples, 2)
            .map_err(|e| Error::config("eval_samples", e.to_string()))?;
        if self.curve_every > 0 {
            duality_core::check::at_least("curve_samples", self.curve_samples, 2)
                .map_err(|e| Error::config("curve_samples", e.to_string()))?;
        }
        self.task.validate()?;
        let mut policy = self.policy.clone();
        // The vocabulary and position table are set from the test bed.
        policy.vocab = policy.vocab.max(2);
        policy.max_len = policy.max_len.max(1);
        policy.validate()?;
        self.check_sizes()?;
        for (key, section) in &self.sections {
            let entry = find_trainer(key).map_err(|_| {
                let names: Vec<&str> = registered().iter().map(|t| t.name()).collect();
                let hint = crate::util::closest(key, RUN_KEYS.iter().copied().chain(names.iter().copied()))
                    .map(|k| format!(" (did you mean `{k}`?)"))
                    .unwrap_or_default();
                Error::config(
                    key.clone(),
                    format!(
                        "unknown key: neither a run setting ({}) nor a registered trainer ({}){hint}",
                        RUN_KEYS.join(", "),
                        names.join(", ")
                    ),
                )
            })?;
            entry.check(Some(section))?;
        }
        find_trainer(&self.trainer)?.check(self.sections.get(&self.trainer))
    }
}

impl RunConfig {
    /// The vocabulary and completion length of the configured bed
    /// (CountDown's are fixed; the others take `task.vocab` and
    /// `task.completion_len`).
    fn bed_sizes(&self) -> (usize, usize) {
        match self.testbed {
            TestBedKind::Countdown => {
                let c = crate::testbed::CountDown;
                (c.vocab(), c.completion_len())
            }
            _ => (self.task.vocab, self.task.completion_len),
        }
    }

    /// Refuses sizes whose memory would exceed the budget
    /// ([`duality_core::limits::memory_budget`]) before anything is
    /// allocated: the bed's tables, the offline and ranked data, the policy,
    /// and the evaluation and curve batches. Errors name the fields.
    fn check_sizes(&self) -> Result<()> {
        use crate::limits::{batch_bytes, check_bytes, larger, mul, MAX_PROMPT_LEN};
        let t = &self.task;
        let (vocab, len) = self.bed_sizes();
        let seq = len.saturating_add(MAX_PROMPT_LEN);
        check_bytes(
            "task.vocab",
            t.vocab,
            "the hidden reward tables",
            mul(&[t.contexts.saturating_add(t.vocab), t.vocab, 8]),
        )?;
        let (field, value) = larger(("task.pairs", t.pairs), ("task.completion_len", len));
        check_bytes(
            field,
            value,
            format!("{} pairs of {len} tokens", t.pairs),
            mul(&[t.pairs, seq.saturating_mul(2).saturating_add(16), 8]),
        )?;
        let (field, value) = larger(
            ("task.ranked_prompts", t.ranked_prompts),
            ("task.responses_per_prompt", t.responses_per_prompt),
        );
        let (field, value) = larger((field, value), ("task.completion_len", len));
        check_bytes(
            field,
            value,
            format!(
                "{} prompts x {} responses of {len} tokens",
                t.ranked_prompts, t.responses_per_prompt
            ),
            mul(&[
                t.ranked_prompts,
                t.responses_per_prompt,
                seq.saturating_add(8),
                8,
            ]),
        )?;
        let mut policy = self.policy.clone();
        policy.vocab = vocab;
        policy.max_len = policy.max_len.max(seq);
        let (field, value) = [
            ("policy.vocab", vocab),
            ("policy.embed", policy.embed),
            ("policy.hidden", policy.hidden),
            ("policy.max_len", policy.max_len),
        ]
        .into_iter()
        .fold(("policy.vocab", vocab), larger);
        check_bytes(
            field,
            value,
            format!(
                "a policy of vocab {vocab}, embed {}, hidden {}, max_len {}",
                policy.embed, policy.hidden, policy.max_len
            ),
            crate::limits::policy_bytes(&policy),
        )?;
        let (field, value) = larger(
            ("eval_samples", self.eval_samples),
            ("task.completion_len", len),
        );
        check_bytes(
            field,
            value,
            format!(
                "{} evaluation sequences of {len} tokens (vocab {vocab})",
                self.eval_samples
            ),
            batch_bytes(self.eval_samples, seq, &policy),
        )?;
        if self.curve_every > 0 {
            let (field, value) = larger(
                ("curve_samples", self.curve_samples),
                ("task.completion_len", len),
            );
            check_bytes(
                field,
                value,
                format!(
                    "{} curve sequences of {len} tokens (vocab {vocab})",
                    self.curve_samples
                ),
                batch_bytes(self.curve_samples, seq, &policy),
            )?;
        }
        Ok(())
    }

    /// A run of trainer `T` with `config`, everything else at its default.
    pub fn for_trainer<T: Trainer>(config: &T::Config) -> Result<Self> {
        let mut c = RunConfig::default();
        c.set_trainer_config::<T>(config)?;
        c.trainer = T::NAME.to_string();
        Ok(c)
    }

    /// Stores `config` as trainer `T`'s section (without selecting `T`).
    pub fn set_trainer_config<T: Trainer>(&mut self, config: &T::Config) -> Result<()> {
        self.sections
            .insert(T::NAME.to_string(), to_section::<T>(config)?);
        Ok(())
    }

    /// Trainer `T`'s config: its section, or the default.
    pub fn trainer_config<T: Trainer>(&self) -> Result<T::Config> {
        section_config::<T>(self.sections.get(T::NAME))
    }

    /// Edits trainer `T`'s config in place (its section, or the default).
    pub fn edit_trainer_config<T: Trainer>(
        &mut self,
        edit: impl FnOnce(&mut T::Config),
    ) -> Result<()> {
        let mut config = self.trainer_config::<T>()?;
        edit(&mut config);
        self.set_trainer_config::<T>(&config)
    }

    /// Parses and validates a TOML config; `source` (a file name) is quoted
    /// in errors, which carry the line for malformed or mistyped values,
    /// also inside trainer sections.
    pub fn from_toml_str(text: &str, source: &str) -> Result<Self> {
        // Trainer sections are held as raw TOML by the run config, so check
        // their types against the text first, where the lines are known.
        for entry in registered() {
            entry.check_text(text, source)?;
        }
        duality_core::config::from_toml_str(text, source)
    }

    /// Reads, parses and validates a TOML config file.
    pub fn load_toml(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_toml_str(&text, &path.display().to_string())
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
    /// Trainer (registry name).
    pub trainer: String,
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
    /// `curve_every` > 0 and the trainer is observed).
    #[serde(default)]
    pub curve: Vec<CurvePoint>,
}

/// A finished run: its report and the trained policy.
#[derive(Debug)]
pub struct TrainedRun {
    /// The report.
    pub report: RunReport,
    /// The trained policy.
    pub policy: Policy,
}

/// Maximum likelihood on completions drawn uniformly from the first
/// `covered` tokens (the offline behaviour policy of [`offline_pairs`]).
fn warm_start(
    policy: &Policy,
    bed: &dyn TestBed,
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

/// Traces the win rate against the reference every `every` logged steps.
struct CurveTracer<'a> {
    every: usize,
    samples: usize,
    sampling: SamplingConfig,
    reference: &'a Policy,
    bed: &'a dyn TestBed,
    rng: DualityRng,
    points: Vec<CurvePoint>,
}

impl Observer for CurveTracer<'_> {
    fn observe(&mut self, step: usize, policy: &Policy) -> Result<()> {
        if self.every > 0 && step % self.every == 0 {
            let bed = self.bed;
            let w = win_rate(
                policy,
                self.reference,
                bed,
                bed.oracle(),
                self.samples,
                self.sampling,
                &mut self.rng,
            )?;
            self.points.push(CurvePoint {
                step,
                win_rate: w.mean,
            });
        }
        Ok(())
    }
}

/// The initial policy (seed stream 1), warm-started when `task.sft_steps` > 0.
fn initial_policy(config: &RunConfig, bed: &dyn TestBed, seeder: &Seeder) -> Result<Policy> {
    let mut policy_cfg = config.policy.clone();
    policy_cfg.vocab = bed.vocab();
    policy_cfg.max_len = policy_cfg.max_len.max(bed.completion_len() + 4);
    let policy = Policy::new(&policy_cfg, seeder.seed_for(1))?;
    let t = &config.task;
    if t.sft_steps > 0 {
        let covered = covered_tokens(t.coverage, bed.vocab())?;
        warm_start(
            &policy,
            bed,
            covered,
            t.sft_steps,
            &mut seeder.named("sft").rng(0),
        )?;
    }
    Ok(policy)
}

/// Runs one configured trainer on one test bed and evaluates it.
pub fn run(config: &RunConfig) -> Result<RunReport> {
    Ok(run_trained(config)?.report)
}

/// [`run`], also returning the trained policy.
pub fn run_trained(config: &RunConfig) -> Result<TrainedRun> {
    config.validate()?;
    let entry = find_trainer(&config.trainer)?;
    let seeder = Seeder::new(config.seed);
    let bed = config.testbed.build(&config.task, config.seed)?;
    let bed = bed.as_ref();
    let mut policy = initial_policy(config, bed, &seeder)?;
    let reference = policy.frozen_copy()?;
    let t = &config.task;
    let mut curve = CurveTracer {
        every: if entry.observed() {
            config.curve_every
        } else {
            0
        },
        samples: config.curve_samples,
        sampling: config.eval_sampling,
        reference: &reference,
        bed,
        rng: seeder.named("curve").rng(0),
        points: Vec::new(),
    };
    curve.observe(0, &policy)?;
    let log = {
        let mut ctx = TrainContext::new(&mut policy, &reference, bed)?
            .with_seed(seeder.seed_for(2))
            .with_data(DataSpec {
                pairs: t.pairs,
                coverage: t.coverage,
                ranked_prompts: t.ranked_prompts,
                responses_per_prompt: t.responses_per_prompt,
            })
            .with_data_rng(seeder.named("data").rng(0))
            .with_observer(&mut curve);
        entry.train(config.sections.get(&config.trainer), &mut ctx)?
    };
    let steps = log.entries.last().map_or(0, |e| e.step);
    crate::train::finite_parameters(
        &policy,
        &format!(
            "after training ({}, last logged step {steps})",
            config.trainer
        ),
    )?;
    let points = std::mem::take(&mut curve.points);
    let mut eval_rng = seeder.named("eval").rng(0);
    let eval = bed.evaluate(
        &policy,
        &reference,
        config.eval_samples,
        config.eval_sampling,
        &mut eval_rng,
    )?;
    let report = RunReport {
        trainer: config.trainer.clone(),
        testbed: config.testbed,
        seed: config.seed,
        win_rate: eval.win_rate,
        true_reward: eval.true_reward,
        reference_reward: eval.reference_reward,
        kl: eval.kl,
        log,
        curve: points,
    };
    Ok(TrainedRun { report, policy })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::kto::{Kto, KtoConfig};
    use crate::train::offline::Offline;

    #[test]
    fn toml_round_trip_and_typed_sections() {
        let mut c = RunConfig::for_trainer::<Kto>(&KtoConfig {
            beta: 0.25,
            ..KtoConfig::default()
        })
        .unwrap();
        c.edit_trainer_config::<Offline>(|o| o.epochs = 3).unwrap();
        let text = duality_core::config::to_toml_string(&c).unwrap();
        let back = RunConfig::from_toml_str(&text, "back.toml").unwrap();
        assert_eq!(back, c);
        assert_eq!(back.trainer_config::<Kto>().unwrap().beta, 0.25);
        assert_eq!(back.trainer_config::<Offline>().unwrap().epochs, 3);
        // Every serialised key is a run key or a trainer section.
        let table: toml::Table = toml::from_str(&text).unwrap();
        for k in table.keys() {
            assert!(
                RUN_KEYS.contains(&k.as_str()) || find_trainer(k).is_ok(),
                "{k}"
            );
        }
    }

    #[test]
    fn bad_configs_name_the_key_and_line() {
        let err = |text: &str, source: &str| {
            RunConfig::from_toml_str(text, source)
                .unwrap_err()
                .to_string()
        };
        let e = err("seed = 1\nepoch = 3\n", "a.toml");
        assert!(e.contains("`epoch`") && e.contains("a.toml"), "{e}");
        let e = err("seed = \"x\"\n", "b.toml");
        assert!(e.contains("b.toml line 1"), "{e}");
        let e = err("[kto]\nbeta = 0.1\nbetta = 2\n", "c.toml");
        assert!(e.contains("c.toml line 3") && e.contains("betta"), "{e}");
        let e = err("[offline]\nepochs = 0\n", "d.toml");
        assert!(
            e.contains("d.toml") && e.contains("offline") && e.contains("epochs = 0"),
            "{e}"
        );
        let e = err("[task]\ncoverage = 2.0\n", "e.toml");
        assert!(e.contains("task.coverage"), "{e}");
    }
}
