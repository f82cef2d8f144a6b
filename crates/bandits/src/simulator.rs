//! The parallel simulator: `R` independent repetitions of every policy on one
//! environment, with common random numbers.
//!
//! Streams: repetition `r` uses `Seeder::new(seed).child(r)`; within it the
//! environment draws from `.named("environment")` and each policy from
//! `.named(<policy index and name>)`. Every policy of a repetition therefore
//! sees the same reward table (common random numbers: differences between
//! policies are not blurred by different luck), and the whole result is
//! bit-identical for a seed whatever the rayon thread count.
//!
//! Memory: only checkpointed curves are kept (`checkpoints` log-spaced
//! rounds), never per-step histories, so a 10^6-step, 1,000-repetition run
//! with a few policies needs a few MB.

use std::time::Instant;

use duality_core::config::Validate;
use duality_core::progress::Progress;
use duality_core::record::RunRecord;
use duality_core::seed::Seeder;
use duality_core::{check, Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::analysis::log_checkpoints;
use crate::driver::{drive, EnvironmentArena, Observer, Step};
use crate::env::{Environment, StochasticBandit};
use crate::policy::Policy;
use crate::stats::{mean_iqm, CiParams, MeanIqm};
use crate::stochastic::{BetaThompson, Ucb1};

/// Simulation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimulatorConfig {
    /// Rounds per run (`T >= 1`).
    pub horizon: usize,
    /// Independent repetitions (`R >= 1`).
    pub repetitions: usize,
    /// Master seed.
    pub seed: u64,
    /// Number of log-spaced checkpoints of the regret curves.
    pub checkpoints: usize,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            horizon: 10_000,
            repetitions: 100,
            seed: 0,
            checkpoints: 60,
            progress: false,
        }
    }
}

impl SimulatorConfig {
    /// Sets the horizon.
    pub fn horizon(mut self, horizon: usize) -> Self {
        self.horizon = horizon;
        self
    }
    /// Sets the number of repetitions.
    pub fn repetitions(mut self, repetitions: usize) -> Self {
        self.repetitions = repetitions;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Sets the number of checkpoints.
    pub fn checkpoints(mut self, checkpoints: usize) -> Self {
        self.checkpoints = checkpoints;
        self
    }
    /// Turns the progress bar on or off.
    pub fn progress(mut self, progress: bool) -> Self {
        self.progress = progress;
        self
    }
}

impl Validate for SimulatorConfig {
    /// `horizon >= 1`, `repetitions >= 1`, `checkpoints >= 2`.
    fn validate(&self) -> Result<()> {
        check::at_least("horizon", self.horizon, 1)?;
        check::at_least("repetitions", self.repetitions, 1)?;
        check::at_least("checkpoints", self.checkpoints, 2)
    }
}

/// One policy's run in one repetition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepetitionResult {
    /// Cumulative pseudo-regret `sum_t (max_a mu_t(a) - mu_t(A_t))` at each checkpoint.
    pub pseudo_regret: Vec<f64>,
    /// Cumulative realised regret `max_a sum_t r_t(a) - sum_t r_t(A_t)` at each
    /// checkpoint (regret against the best fixed arm in hindsight).
    pub realised_regret: Vec<f64>,
    /// Pulls per arm over the whole run.
    pub pulls: Vec<u64>,
    /// Total reward collected.
    pub total_reward: f64,
    /// Wall-clock seconds of this run (not deterministic; never a headline).
    pub seconds: f64,
}

/// Records what the simulator keeps of a run: pseudo- and realised-regret
/// curves at the checkpoints, pulls and total reward.
struct RegretRecorder<'c> {
    checkpoints: &'c [usize],
    /// `max_b mu(b) - mu(a)` per arm when the environment's means are
    /// constant ([`Environment::constant_means`]): the round's pseudo-regret
    /// is then one load instead of a maximum over the means (the same
    /// subtraction of the same numbers, so the same result).
    gaps: Option<Vec<f64>>,
    next_checkpoint: usize,
    cum_arm_rewards: Vec<f64>,
    pulls: Vec<u64>,
    pseudo: f64,
    collected: f64,
    pseudo_curve: Vec<f64>,
    realised_curve: Vec<f64>,
}

impl<E: Environment + ?Sized> Observer<EnvironmentArena<'_, E>> for RegretRecorder<'_> {
    #[inline]
    fn observe(&mut self, arena: &EnvironmentArena<'_, E>, step: &Step) {
        let draw = arena.draw();
        self.pseudo += match &self.gaps {
            Some(gaps) => gaps[step.arm],
            None => {
                let best_mean = draw.means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                best_mean - draw.means[step.arm]
            }
        };
        self.collected += step.reward;
        self.pulls[step.arm] += 1;
        for (c, r) in self.cum_arm_rewards.iter_mut().zip(&draw.rewards) {
            *c += r;
        }
        if self.checkpoints.get(self.next_checkpoint) == Some(&step.t) {
            let best = self
                .cum_arm_rewards
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
            self.pseudo_curve.push(self.pseudo);
            self.realised_curve.push(best - self.collected);
            self.next_checkpoint += 1;
        }
    }
}

/// Runs one policy on one environment for `horizon` rounds through the
/// round [`driver`](crate::driver), recording the regret curves at
/// `checkpoints` (sorted rounds in `1..=horizon`). The environment and the
/// policy are reset first. An arm outside `0..k` from the policy is an
/// error naming it.
///
/// UCB1 and Beta-Bernoulli Thompson sampling on a [`StochasticBandit`] (the
/// hot case of every simulation benchmark) run through the same driver
/// instantiated for their concrete types, so no call of the round is
/// dynamic; every other pair runs through `dyn`. The numbers are the same
/// either way (the same operations in the same order; tested).
pub fn run_single(
    env: &mut dyn Environment,
    policy: &mut dyn Policy,
    horizon: usize,
    checkpoints: &[usize],
    env_rng: &mut dyn rand::RngCore,
    policy_rng: &mut dyn rand::RngCore,
) -> Result<RepetitionResult> {
    if let Some(env) = env
        .as_any_mut()
        .and_then(|e| e.downcast_mut::<StochasticBandit>())
    {
        if let Some(p) = policy.as_any_mut() {
            if p.is::<Ucb1>() {
                if let Some(p) = p.downcast_mut::<Ucb1>() {
                    return run_typed(env, p, horizon, checkpoints, env_rng, policy_rng);
                }
            } else if let Some(p) = p.downcast_mut::<BetaThompson>() {
                return run_typed(env, p, horizon, checkpoints, env_rng, policy_rng);
            }
        }
        return run_typed(env, policy, horizon, checkpoints, env_rng, policy_rng);
    }
    run_typed(env, policy, horizon, checkpoints, env_rng, policy_rng)
}

/// [`run_single`] for concrete (or `dyn`) environment and policy types.
fn run_typed<E: Environment + ?Sized, P: Policy + ?Sized>(
    env: &mut E,
    policy: &mut P,
    horizon: usize,
    checkpoints: &[usize],
    env_rng: &mut dyn rand::RngCore,
    policy_rng: &mut dyn rand::RngCore,
) -> Result<RepetitionResult> {
    let k = env.n_arms();
    let gaps = env.constant_means().map(|means| {
        let best = means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        means.iter().map(|&m| best - m).collect()
    });
    let mut recorder = RegretRecorder {
        checkpoints,
        gaps,
        next_checkpoint: 0,
        cum_arm_rewards: vec![0.0; k],
        pulls: vec![0; k],
        pseudo: 0.0,
        collected: 0.0,
        pseudo_curve: Vec::with_capacity(checkpoints.len()),
        realised_curve: Vec::with_capacity(checkpoints.len()),
    };
    let mut arena = EnvironmentArena::typed(env, env_rng);
    let start = Instant::now();
    drive(policy, &mut arena, horizon, policy_rng, &mut recorder)?;
    Ok(RepetitionResult {
        pseudo_regret: recorder.pseudo_curve,
        realised_regret: recorder.realised_curve,
        pulls: recorder.pulls,
        total_reward: recorder.collected,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// All repetitions of one policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyResult {
    /// Policy name.
    pub name: String,
    /// One entry per repetition, in repetition order.
    pub repetitions: Vec<RepetitionResult>,
}

impl PolicyResult {
    /// Final pseudo-regret of each repetition.
    pub fn final_pseudo_regrets(&self) -> Vec<f64> {
        self.repetitions
            .iter()
            .map(|r| r.pseudo_regret.last().copied().unwrap_or(0.0))
            .collect()
    }
    /// Final realised regret of each repetition.
    pub fn final_realised_regrets(&self) -> Vec<f64> {
        self.repetitions
            .iter()
            .map(|r| r.realised_regret.last().copied().unwrap_or(0.0))
            .collect()
    }
    /// Mean pseudo-regret curve over repetitions.
    pub fn mean_pseudo_curve(&self) -> Vec<f64> {
        mean_curve(self.repetitions.iter().map(|r| r.pseudo_regret.as_slice()))
    }
    /// Mean realised-regret curve over repetitions.
    pub fn mean_realised_curve(&self) -> Vec<f64> {
        mean_curve(
            self.repetitions
                .iter()
                .map(|r| r.realised_regret.as_slice()),
        )
    }
    /// Total seconds over repetitions.
    pub fn seconds(&self) -> f64 {
        self.repetitions.iter().map(|r| r.seconds).sum()
    }
}

fn mean_curve<'a>(curves: impl Iterator<Item = &'a [f64]>) -> Vec<f64> {
    let mut sum: Vec<f64> = Vec::new();
    let mut n = 0usize;
    for c in curves {
        if sum.is_empty() {
            sum = vec![0.0; c.len()];
        }
        for (s, v) in sum.iter_mut().zip(c) {
            *s += v;
        }
        n += 1;
    }
    sum.iter().map(|s| s / n.max(1) as f64).collect()
}

/// Per-policy aggregate of a simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicySummary {
    /// Policy name.
    pub policy: String,
    /// Final pseudo-regret: mean and IQM with bootstrap CIs.
    pub pseudo_regret: MeanIqm,
    /// Final realised regret: mean and IQM with bootstrap CIs.
    pub realised_regret: MeanIqm,
    /// Mean pulls per arm.
    pub mean_pulls: Vec<f64>,
    /// Total run time in seconds (all repetitions, summed over threads).
    pub seconds: f64,
}

/// The result of [`Simulator::run`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationResult {
    /// Environment name.
    pub environment: String,
    /// Horizon.
    pub horizon: usize,
    /// The checkpoint rounds of every curve.
    pub checkpoints: Vec<usize>,
    /// One entry per policy, in the order given.
    pub policies: Vec<PolicyResult>,
}

impl SimulationResult {
    /// Mean/IQM with CIs of the final regrets, per policy.
    pub fn summary(&self, ci: &CiParams) -> Result<Vec<PolicySummary>> {
        self.policies
            .iter()
            .map(|p| {
                let reps = p.repetitions.len().max(1) as f64;
                let k = p.repetitions.first().map_or(0, |r| r.pulls.len());
                let mut mean_pulls = vec![0.0; k];
                for r in &p.repetitions {
                    for (m, &n) in mean_pulls.iter_mut().zip(&r.pulls) {
                        *m += n as f64 / reps;
                    }
                }
                Ok(PolicySummary {
                    policy: p.name.clone(),
                    pseudo_regret: mean_iqm(&p.final_pseudo_regrets(), ci)?,
                    realised_regret: mean_iqm(&p.final_realised_regrets(), ci)?,
                    mean_pulls,
                    seconds: p.seconds(),
                })
            })
            .collect()
    }

    /// One [`RunRecord`] per (policy, repetition) with the final regrets;
    /// the repetition index is the record's seed.
    pub fn records(&self) -> Vec<RunRecord> {
        let mut out = Vec::new();
        for p in &self.policies {
            for (i, r) in p.repetitions.iter().enumerate() {
                out.push(
                    RunRecord::new(&p.name, &self.environment, i as u64)
                        .with_metric(
                            "pseudo_regret",
                            r.pseudo_regret.last().copied().unwrap_or(0.0),
                        )
                        .with_metric(
                            "realised_regret",
                            r.realised_regret.last().copied().unwrap_or(0.0),
                        )
                        .with_metric("total_reward", r.total_reward),
                );
            }
        }
        out
    }
}

/// Runs policies on an environment, repetitions in parallel.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulator {
    config: SimulatorConfig,
}

impl Simulator {
    /// A simulator with validated settings.
    pub fn new(config: SimulatorConfig) -> Result<Self> {
        config.validate()?;
        Ok(Simulator { config })
    }

    /// The settings.
    pub fn config(&self) -> &SimulatorConfig {
        &self.config
    }

    /// Runs every policy for `repetitions` repetitions on clones of `env`.
    /// All policies must have as many arms as the environment.
    pub fn run(
        &self,
        env: &dyn Environment,
        policies: &[Box<dyn Policy>],
    ) -> Result<SimulationResult> {
        check::non_empty("policies", policies)?;
        let k = env.n_arms();
        if k == 0 {
            return Err(Error::invalid("number of arms", 0, "at least 1 arm"));
        }
        for p in policies {
            check::same_len(
                "environment arms",
                k,
                &format!("arms of policy {}", p.name()),
                p.n_arms(),
            )?;
        }
        let cfg = &self.config;
        let checkpoints = log_checkpoints(cfg.horizon, cfg.checkpoints);
        let root = Seeder::new(cfg.seed);
        let stream_names: Vec<String> = policies
            .iter()
            .enumerate()
            .map(|(i, p)| format!("policy-{i}-{}", p.name()))
            .collect();
        let progress = if cfg.progress {
            Progress::new(cfg.repetitions as u64, "simulate")
        } else {
            Progress::hidden()
        };
        // [repetition][policy]
        let per_rep: Vec<Vec<RepetitionResult>> = (0..cfg.repetitions)
            .into_par_iter()
            .map(|rep| {
                let seeder = root.child(rep as u64);
                let env_seeder = seeder.named("environment");
                let out = policies
                    .iter()
                    .zip(&stream_names)
                    .map(|(proto, stream)| {
                        let mut env = env.clone_box();
                        let mut policy = proto.clone_box();
                        let mut env_rng = env_seeder.rng(0);
                        let mut policy_rng = seeder.named(stream).rng(0);
                        run_single(
                            env.as_mut(),
                            policy.as_mut(),
                            cfg.horizon,
                            &checkpoints,
                            &mut env_rng,
                            &mut policy_rng,
                        )
                    })
                    .collect::<Result<Vec<_>>>();
                progress.inc(1);
                out
            })
            .collect::<Result<Vec<_>>>()?;
        progress.finish();
        let mut results: Vec<PolicyResult> = policies
            .iter()
            .map(|p| PolicyResult {
                name: p.name(),
                repetitions: Vec::with_capacity(cfg.repetitions),
            })
            .collect();
        for rep in per_rep {
            for (slot, r) in results.iter_mut().zip(rep) {
                slot.repetitions.push(r);
            }
        }
        Ok(SimulationResult {
            environment: env.name(),
            horizon: cfg.horizon,
            checkpoints,
            policies: results,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::StochasticBandit;
    use crate::stochastic::{BetaThompson, Ucb1};

    fn policies() -> Vec<Box<dyn Policy>> {
        vec![
            Box::new(Ucb1::new(3).unwrap()),
            Box::new(BetaThompson::new(3).unwrap()),
        ]
    }

    /// Hides the concrete type, so `run_single` takes the `dyn` loop.
    #[derive(Clone)]
    struct Hidden<P: Policy + Clone>(P);

    impl<P: Policy + Clone + 'static> Policy for Hidden<P> {
        fn name(&self) -> String {
            self.0.name()
        }
        fn n_arms(&self) -> usize {
            self.0.n_arms()
        }
        fn reset(&mut self) {
            self.0.reset()
        }
        fn select(
            &mut self,
            round: &crate::policy::Round<'_>,
            rng: &mut dyn rand::RngCore,
        ) -> usize {
            self.0.select(round, rng)
        }
        fn update(&mut self, round: &crate::policy::Round<'_>, arm: usize, reward: f64) {
            self.0.update(round, arm, reward)
        }
    }

    /// The statically dispatched loop (UCB1 and Thompson sampling on a
    /// stochastic bandit) computes exactly what the `dyn` loop does.
    #[test]
    fn typed_and_dynamic_loops_agree_exactly() {
        let means = [0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1];
        let env = StochasticBandit::bernoulli(&means).unwrap();
        let checkpoints = log_checkpoints(3000, 20);
        let run = |p: &mut dyn Policy| {
            let mut e = env.clone();
            let seeder = Seeder::new(9).child(2);
            let mut env_rng = seeder.named("environment").rng(0);
            let mut policy_rng = seeder.named("policy").rng(0);
            let mut r =
                run_single(&mut e, p, 3000, &checkpoints, &mut env_rng, &mut policy_rng).unwrap();
            r.seconds = 0.0;
            r
        };
        let ucb = Ucb1::new(10).unwrap();
        assert_eq!(run(&mut ucb.clone()), run(&mut Hidden(ucb)));
        for ts in [
            BetaThompson::new(10).unwrap(),
            BetaThompson::eager(10).unwrap(),
        ] {
            assert_eq!(run(&mut ts.clone()), run(&mut Hidden(ts)));
        }
    }

    #[test]
    fn bit_identical_across_thread_counts() {
        let env = StochasticBandit::bernoulli(&[0.3, 0.5, 0.6]).unwrap();
        let sim = Simulator::new(
            SimulatorConfig::default()
                .horizon(500)
                .repetitions(7)
                .seed(3),
        )
        .unwrap();
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| sim.run(&env, &policies()).unwrap())
        };
        let (a, b) = (run(1), run(3));
        for (pa, pb) in a.policies.iter().zip(&b.policies) {
            for (ra, rb) in pa.repetitions.iter().zip(&pb.repetitions) {
                assert_eq!(ra.pseudo_regret, rb.pseudo_regret);
                assert_eq!(ra.realised_regret, rb.realised_regret);
                assert_eq!(ra.pulls, rb.pulls);
            }
        }
    }

    #[test]
    fn common_random_numbers_give_the_same_table() {
        // Two copies of the same deterministic policy see identical rewards,
        // so their curves are identical.
        let env = StochasticBandit::bernoulli(&[0.3, 0.5, 0.6]).unwrap();
        let sim = Simulator::new(SimulatorConfig::default().horizon(300).repetitions(3)).unwrap();
        let ps: Vec<Box<dyn Policy>> = vec![
            Box::new(Ucb1::new(3).unwrap()),
            Box::new(Ucb1::new(3).unwrap()),
        ];
        let r = sim.run(&env, &ps).unwrap();
        assert_eq!(
            r.policies[0].repetitions,
            r.policies[1]
                .repetitions
                .iter()
                .zip(&r.policies[0].repetitions)
                .map(|(b, a)| RepetitionResult {
                    seconds: a.seconds,
                    ..b.clone()
                })
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn bad_config_and_mismatched_arms_are_rejected() {
        assert!(Simulator::new(SimulatorConfig::default().horizon(0)).is_err());
        assert!(Simulator::new(SimulatorConfig::default().repetitions(0)).is_err());
        let env = StochasticBandit::bernoulli(&[0.3, 0.5]).unwrap();
        let sim = Simulator::new(SimulatorConfig::default().horizon(10).repetitions(1)).unwrap();
        let err = sim.run(&env, &policies()).unwrap_err().to_string();
        assert!(err.contains("ucb1"), "{err}");
    }
}
