//! The [`Policy`] trait: choose an arm each round, learn from the feedback.
//!
//! Rewards are in `[0, 1]` for the Bernoulli/bounded and adversarial
//! settings (adversarial policies internally use the loss `1 - reward`);
//! Gaussian environments give unbounded rewards, which the UCB-type policies
//! accept with their sub-Gaussian scale parameter.

use rand::RngCore;
use serde::{Deserialize, Serialize};

/// An arm index in `0..n_arms`.
pub type Arm = usize;

/// Side information revealed before the policy acts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// One feature vector per arm (`n_arms` rows of equal length). A shared
    /// context is the same row repeated; disjoint models read their own row.
    pub features: Vec<Vec<f64>>,
    /// Expert advice for Exp4: one probability vector over arms per expert.
    pub advice: Vec<Vec<f64>>,
}

/// What a policy sees about the current round.
#[derive(Debug, Clone, Copy)]
pub struct Round<'a> {
    /// 1-based round number.
    pub t: usize,
    /// The horizon `T` of the run (policies tuned for a known horizon use it).
    pub horizon: usize,
    /// Context of this round, for contextual environments.
    pub context: Option<&'a Context>,
}

impl<'a> Round<'a> {
    /// A round without context.
    pub fn new(t: usize, horizon: usize) -> Self {
        Round {
            t,
            horizon,
            context: None,
        }
    }
}

/// Which feedback a policy learns from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Feedback {
    /// Only the played arm's reward (bandit feedback).
    Bandit,
    /// Every arm's reward (full information / experts, e.g. Hedge).
    Full,
}

/// Cloning boxed policies (the simulator clones a prototype per repetition).
pub trait PolicyClone {
    /// A boxed copy of this policy.
    fn clone_box(&self) -> Box<dyn Policy>;
}

impl<T: Policy + Clone + 'static> PolicyClone for T {
    fn clone_box(&self) -> Box<dyn Policy> {
        Box::new(self.clone())
    }
}

/// A bandit policy (a learner): `select` an arm, then `update` with its reward.
pub trait Policy: PolicyClone + Send + Sync {
    /// Short name used in records and plots (e.g. `ucb1`).
    fn name(&self) -> String;
    /// Number of arms.
    fn n_arms(&self) -> usize;
    /// Forgets everything learned (start of a repetition).
    fn reset(&mut self);
    /// Chooses the arm for `round`.
    fn select(&mut self, round: &Round<'_>, rng: &mut dyn RngCore) -> Arm;
    /// Learns from the reward of the played arm (bandit feedback).
    fn update(&mut self, round: &Round<'_>, arm: Arm, reward: f64);
    /// The feedback this policy wants; [`Feedback::Full`] policies get
    /// [`Policy::update_full`] instead of [`Policy::update`].
    fn feedback(&self) -> Feedback {
        Feedback::Bandit
    }
    /// Learns from every arm's reward (full feedback); defaults to the bandit
    /// update of the played arm.
    fn update_full(&mut self, round: &Round<'_>, arm: Arm, rewards: &[f64]) {
        if let Some(&r) = rewards.get(arm) {
            self.update(round, arm, r);
        }
    }
    /// The current sampling distribution over arms, for policies that keep one
    /// explicitly (Exp3, Hedge, Tsallis-INF); `None` for index policies.
    fn probabilities(&self, _round: &Round<'_>) -> Option<Vec<f64>> {
        None
    }
    /// The concrete policy, for the simulator's statically dispatched
    /// round loop (`simulator::run_single` runs the registered hot policies,
    /// UCB1 and Beta-Bernoulli Thompson sampling, through a loop compiled
    /// for their type, with no dynamic call per round). `None` (the
    /// default) keeps the dynamically dispatched loop, which computes the
    /// same numbers.
    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        None
    }
}

impl Clone for Box<dyn Policy> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// Pull counts and empirical means, the sufficient statistics of most
/// stochastic policies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmStats {
    /// Pulls per arm.
    pub pulls: Vec<u64>,
    /// Sum of rewards per arm.
    pub sums: Vec<f64>,
}

impl ArmStats {
    /// Statistics for `k` arms, all zero.
    pub fn new(k: usize) -> Self {
        ArmStats {
            pulls: vec![0; k],
            sums: vec![0.0; k],
        }
    }
    /// Records one reward.
    pub fn add(&mut self, arm: Arm, reward: f64) {
        if let (Some(n), Some(s)) = (self.pulls.get_mut(arm), self.sums.get_mut(arm)) {
            *n += 1;
            *s += reward;
        }
    }
    /// Empirical mean of `arm` (0 before its first pull).
    pub fn mean(&self, arm: Arm) -> f64 {
        match self.pulls.get(arm) {
            Some(&n) if n > 0 => self.sums[arm] / n as f64,
            _ => 0.0,
        }
    }
    /// The first arm never pulled, if any.
    pub fn unpulled(&self) -> Option<Arm> {
        self.pulls.iter().position(|&n| n == 0)
    }
    /// The selection rule of every index policy (UCB1, KL-UCB, MOSS): each
    /// arm once, then the arm with the largest `index` (ties to the lowest).
    pub fn select_by_index(&self, index: impl FnMut(Arm) -> f64) -> Arm {
        self.unpulled()
            .unwrap_or_else(|| crate::math::argmax_by(self.pulls.len(), index))
    }
    /// Total pulls.
    pub fn total(&self) -> u64 {
        self.pulls.iter().sum()
    }
    /// Zeroes everything.
    pub fn reset(&mut self) {
        self.pulls.iter_mut().for_each(|n| *n = 0);
        self.sums.iter_mut().for_each(|s| *s = 0.0);
    }
}
