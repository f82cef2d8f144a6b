//! Deep f-DVL on tch (feature `torch`): offline RL from the dual with
//! neural networks, on a continuous-state task — "Dual RL: Unification and
//! New Methods for Reinforcement and Imitation Learning" (Sikchi, Zheng,
//! Zhang & Niekum, ICLR 2024), issue 19, section 1 "then deep".
//!
//! **Source followed.** The paper's text was available as an abstract only;
//! the training loop follows the authors' public f-DVL code
//! (`hari-sikchi/DVL`, `offline/learner.py`, `offline/critic.py`,
//! `offline/actor.py`), one update per minibatch in its order:
//!
//! 1. **value step** (`update_v`): `V(s)` minimises the mean value loss of
//!    `d = Q_target(s, a) - V(s)` over the data's `(s, a)`, with
//!    `Q_target = min(Q1', Q2')` of the target critics (double Q) —
//!    chi-square `lambda max(d + d^2/4, 0) - (1 - lambda) d`
//!    (`chi_square_loss`), total variation `lambda max(d, 0) - (1 - lambda) d`
//!    (`total_variation_loss`), or XQL's Gumbel regression loss
//!    `e^z - z - 1`, `z = d / lambda` (Garg et al. 2023, "Extreme
//!    Q-Learning", the reverse-KL special case f-DVL generalises). The
//!    authors' `reverse_kl_loss` adds two stabilisers that are *not* part of
//!    XQL's loss: `z` clipped at `max_clip` (7 by default) and the loss
//!    rescaled by `e^{-max z}` over the batch
//!    (`e^{z - m} - z e^{-m} - e^{-m}`, `m = max(max_batch z, -1)`,
//!    detached). [`DeepFdvlParams::gumbel_clip`] turns both on
//!    (`None`: the plain loss, whose failure mode the claim is about);
//! 2. **policy step** (`actor.update`): advantage-weighted regression,
//!    `-mean(min(e^{beta (Q_target - V)}, 100) log pi(a | s))` — here a
//!    softmax policy over the task's discrete actions instead of the
//!    authors' Gaussian, since the task's actions are discrete;
//! 3. **critic step** (`update_q`): both critics regress on
//!    `r + gamma mask V(s')` with the new `V` (no gradient) under the Huber
//!    loss with `delta = 20`;
//! 4. **target step** (`target_update`): Polyak averaging
//!    `theta' <- tau theta + (1 - tau) theta'`.
//!
//! Adam on every network (the authors' value / critic / actor learning
//! rates, one shared rate here), hidden layers of the same width for all
//! networks. The executed policy is the actor's most likely action.
//!
//! **Divergence.** A run *diverges* when a value or critic loss is not
//! finite, or when the batch's mean `|V|` leaves `value_bound` times the
//! largest possible `|return|` (`max |r| / (1 - gamma)`): the value estimate
//! then has no relation to any return. The run stops there and reports the
//! step ([`DeepFdvlFit::diverged_at`]) instead of an error, so loss curves
//! of stable and diverging losses can be compared.
//!
//! **The task** ([`PointMass`]): a point in the unit square moving by a
//! fixed step along one axis per action (or staying), with Gaussian noise,
//! from a start box at the lower left to a goal disc at the upper right;
//! reward `-1` per step until the goal is reached (antmaze's shaping, as
//! the authors' `train_offline.py` uses for antmaze), episodes cut at a
//! horizon (a time-out, not a terminal: the critic still bootstraps).
//! Offline data of mixed quality come from a scripted expert (the axis with
//! the larger distance to the goal), a medium policy (expert with
//! probability 1/2, else uniform) and the uniform policy ([`Dataset`]).

use duality_core::seed::Seeder;
use duality_core::tensor::{self, tch, Mlp, MlpConfig, OptimizerConfig};
use duality_core::{Error, Result};
use rand::Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

use super::FDivergence;
use crate::deep::{init_from_seed, OneThread};

/// Number of actions of [`PointMass`]: stay, right, left, up, down.
pub const POINT_MASS_ACTIONS: usize = 5;

/// The 2-D point mass reaching a goal (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PointMass {
    /// Goal centre.
    pub goal: [f64; 2],
    /// Goal radius.
    pub radius: f64,
    /// Move per action.
    pub step: f64,
    /// Standard deviation of the per-coordinate Gaussian noise of a move.
    pub noise: f64,
    /// Side of the start box `[0, start_box]^2`.
    pub start_box: f64,
    /// Steps per episode (a time-out, not a terminal).
    pub horizon: usize,
    /// Discount.
    pub gamma: f64,
}

impl PointMass {
    /// Checked constructor: goal inside the unit square, radius and step in
    /// `(0, 1]`, noise in `[0, 1]`, start box in `(0, 1]`, horizon in
    /// `1..=10000`, gamma in `(0, 1)`.
    pub fn new(
        goal: [f64; 2],
        radius: f64,
        step: f64,
        noise: f64,
        horizon: usize,
        gamma: f64,
    ) -> Result<Self> {
        for (i, &g) in goal.iter().enumerate() {
            if !(0.0..=1.0).contains(&g) {
                return Err(Error::invalid(
                    format!("goal[{i}]"),
                    g,
                    "a coordinate in [0, 1]",
                ));
            }
        }
        for (name, v) in [("radius", radius), ("step", step)] {
            if !(v > 0.0 && v <= 1.0) {
                return Err(Error::invalid(name, v, "a length in (0, 1]"));
            }
        }
        if !(0.0..=1.0).contains(&noise) {
            return Err(Error::invalid(
                "noise",
                noise,
                "a standard deviation in [0, 1]",
            ));
        }
        if horizon == 0 || horizon > 10_000 {
            return Err(Error::invalid("horizon", horizon, "in 1..=10000 steps"));
        }
        if !(gamma > 0.0 && gamma < 1.0) {
            return Err(Error::invalid("gamma", gamma, "a discount in (0, 1)"));
        }
        Ok(PointMass {
            goal,
            radius,
            step,
            noise,
            start_box: 0.2,
            horizon,
            gamma,
        })
    }

    /// The standard task: goal (0.8, 0.8) of radius 0.1, step 0.08, noise
    /// 0.02, horizon 40, gamma 0.95 (the expert needs about 17 steps).
    pub fn standard() -> Self {
        PointMass {
            goal: [0.8, 0.8],
            radius: 0.1,
            step: 0.08,
            noise: 0.02,
            start_box: 0.2,
            horizon: 40,
            gamma: 0.95,
        }
    }

    /// A start state, uniform on the start box.
    pub fn reset<R: Rng + ?Sized>(&self, rng: &mut R) -> [f64; 2] {
        [
            rng.random::<f64>() * self.start_box,
            rng.random::<f64>() * self.start_box,
        ]
    }

    /// Whether `s` is in the goal disc.
    pub fn at_goal(&self, s: &[f64; 2]) -> bool {
        let (dx, dy) = (s[0] - self.goal[0], s[1] - self.goal[1]);
        dx * dx + dy * dy <= self.radius * self.radius
    }

    /// One move: `(reward, next state, reached the goal)`; reward `-1`
    /// unless the move reaches the goal (then 0 and the episode ends).
    /// An action out of range stays.
    pub fn step<R: Rng + ?Sized>(
        &self,
        s: &[f64; 2],
        action: usize,
        rng: &mut R,
    ) -> (f64, [f64; 2], bool) {
        let (dx, dy) = match action {
            1 => (self.step, 0.0),
            2 => (-self.step, 0.0),
            3 => (0.0, self.step),
            4 => (0.0, -self.step),
            _ => (0.0, 0.0),
        };
        let mut next = [s[0] + dx, s[1] + dy];
        if self.noise > 0.0 {
            // A valid standard deviation was checked at construction.
            if let Ok(n) = Normal::new(0.0, self.noise) {
                next[0] += n.sample(rng);
                next[1] += n.sample(rng);
            }
        }
        next[0] = next[0].clamp(0.0, 1.0);
        next[1] = next[1].clamp(0.0, 1.0);
        let done = self.at_goal(&next);
        (if done { 0.0 } else { -1.0 }, next, done)
    }

    /// The scripted expert: a move along the axis with the larger distance
    /// to the goal.
    pub fn expert_action(&self, s: &[f64; 2]) -> usize {
        let (dx, dy) = (self.goal[0] - s[0], self.goal[1] - s[1]);
        if dx.abs() >= dy.abs() {
            if dx >= 0.0 {
                1
            } else {
                2
            }
        } else if dy >= 0.0 {
            3
        } else {
            4
        }
    }

    /// The network input of a state: coordinates mapped to `[-1, 1]`.
    pub fn features(s: &[f64; 2]) -> [f32; 2] {
        [(2.0 * s[0] - 1.0) as f32, (2.0 * s[1] - 1.0) as f32]
    }

    /// The largest possible `|return|`: `max |r| / (1 - gamma)`.
    pub fn return_bound(&self) -> f64 {
        1.0 / (1.0 - self.gamma)
    }

    /// Mean discounted return of `policy` over `episodes` episodes.
    pub fn evaluate<R: Rng + ?Sized, P: FnMut(&[f64; 2]) -> Result<usize>>(
        &self,
        mut policy: P,
        episodes: usize,
        rng: &mut R,
    ) -> Result<f64> {
        duality_core::check::at_least("evaluation episodes", episodes, 1)?;
        if episodes > 10_000_000 {
            return Err(Error::invalid(
                "evaluation episodes",
                episodes,
                "at most 1e7",
            ));
        }
        let mut total = 0.0;
        for _ in 0..episodes {
            let mut s = self.reset(rng);
            let mut disc = 1.0;
            for _ in 0..self.horizon {
                let a = policy(&s)?;
                let (r, next, done) = self.step(&s, a, rng);
                total += disc * r;
                disc *= self.gamma;
                s = next;
                if done {
                    break;
                }
            }
        }
        Ok(total / episodes as f64)
    }
}

/// The behaviour policies of the offline data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Behaviour {
    /// Uniform over the actions.
    Random,
    /// The expert with probability 1/2, else uniform.
    Medium,
    /// The scripted expert with probability 0.9, else uniform.
    Expert,
}

impl Behaviour {
    fn act<R: Rng + ?Sized>(&self, env: &PointMass, s: &[f64; 2], rng: &mut R) -> usize {
        let p_expert = match self {
            Behaviour::Random => 0.0,
            Behaviour::Medium => 0.5,
            Behaviour::Expert => 0.9,
        };
        if rng.random::<f64>() < p_expert {
            env.expert_action(s)
        } else {
            rng.random_range(0..POINT_MASS_ACTIONS)
        }
    }
}

/// Which offline dataset: one behaviour, or `mixed` (60% random, 30%
/// medium, 10% expert episodes: mostly poor data with a little good data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dataset {
    /// Uniform-policy episodes.
    Random,
    /// Medium-policy episodes.
    Medium,
    /// Expert episodes.
    Expert,
    /// 60% random, 30% medium, 10% expert episodes.
    Mixed,
}

impl std::str::FromStr for Dataset {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "random" => Ok(Dataset::Random),
            "medium" => Ok(Dataset::Medium),
            "expert" => Ok(Dataset::Expert),
            "mixed" => Ok(Dataset::Mixed),
            other => Err(Error::invalid(
                "dataset",
                other,
                "random | medium | expert | mixed",
            )),
        }
    }
}

impl std::fmt::Display for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Dataset::Random => "random",
            Dataset::Medium => "medium",
            Dataset::Expert => "expert",
            Dataset::Mixed => "mixed",
        })
    }
}

/// Offline transitions, row-major: features `[n, 2]`, actions, rewards,
/// next features and bootstrap masks (0 at the goal, 1 otherwise).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfflineData {
    /// State features, two per transition.
    pub obs: Vec<f32>,
    /// Actions.
    pub actions: Vec<i64>,
    /// Rewards.
    pub rewards: Vec<f32>,
    /// Next-state features.
    pub next_obs: Vec<f32>,
    /// 0 where the next state is terminal (the goal), else 1.
    pub masks: Vec<f32>,
    /// Discounted return of each episode (for the data's own score).
    pub episode_returns: Vec<f64>,
}

impl OfflineData {
    /// Transitions.
    pub fn len(&self) -> usize {
        self.actions.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Checks the data before training, naming the bad field with `name`
    /// (`"offline"`, `"expert"`, ...): at least one transition, two
    /// features per observation, one mask per transition, actions in
    /// `0..POINT_MASS_ACTIONS`, and with `rewards` (learners that read
    /// them) one finite reward per transition.
    pub fn validate(&self, name: &str, rewards: bool) -> Result<()> {
        let n = self.len();
        duality_core::check::at_least(&format!("{name} transitions"), n, 1)?;
        let mut fields = vec![
            ("obs", self.obs.len(), 2 * n),
            ("next_obs", self.next_obs.len(), 2 * n),
            ("masks", self.masks.len(), n),
        ];
        if rewards {
            fields.push(("rewards", self.rewards.len(), n));
        }
        for (field, len, want) in fields {
            duality_core::check::same_len(
                &format!("{name} {field}"),
                len,
                "2 x transitions or transitions",
                want,
            )?;
        }
        if let Some(i) = self
            .actions
            .iter()
            .position(|&a| a < 0 || a >= POINT_MASS_ACTIONS as i64)
        {
            return Err(Error::invalid(
                format!("{name} action of transition {i}"),
                self.actions[i],
                format!("in 0..{POINT_MASS_ACTIONS}"),
            ));
        }
        if rewards {
            if let Some(i) = self.rewards.iter().position(|r| !r.is_finite()) {
                return Err(Error::invalid(
                    format!("{name} reward of transition {i}"),
                    self.rewards[i],
                    "a finite reward",
                ));
            }
        }
        Ok(())
    }
}

/// A minibatch of [`OfflineTensors`]: `[b, 2]` observations and next
/// observations, `[b, 1]` masks and actions, and `[b, 1]` rewards when the
/// tensors hold them.
pub(crate) struct Minibatch {
    pub(crate) obs: Tensor,
    pub(crate) next: Tensor,
    pub(crate) mask: Tensor,
    pub(crate) actions: Tensor,
    pub(crate) rewards: Option<Tensor>,
}

/// [`OfflineData`] on a device, sampled with replacement into
/// [`Minibatch`]es (shared by f-DVL, ReCOIL and behaviour cloning).
pub(crate) struct OfflineTensors {
    obs: Tensor,
    next: Tensor,
    mask: Tensor,
    actions: Tensor,
    rewards: Option<Tensor>,
    n: usize,
}

impl OfflineTensors {
    /// The data's tensors on `device` (rewards only when `rewards`).
    pub(crate) fn new(data: &OfflineData, rewards: bool, device: Device) -> Result<Self> {
        let n = data.len();
        let column = |v: &[f32], width: usize| -> Result<Tensor> {
            Ok(tensor::tensor_from_slice_f32(v, &[n, width])?.to_device(device))
        };
        Ok(OfflineTensors {
            obs: column(&data.obs, 2)?,
            next: column(&data.next_obs, 2)?,
            mask: column(&data.masks, 1)?,
            actions: Tensor::from_slice(&data.actions)
                .view([n as i64, 1])
                .to_device(device),
            rewards: if rewards {
                Some(column(&data.rewards, 1)?)
            } else {
                None
            },
            n,
        })
    }

    /// `b` transitions drawn uniformly with replacement (one
    /// `random_range` per row, in order).
    pub(crate) fn sample<R: Rng + ?Sized>(&self, b: usize, rng: &mut R) -> Minibatch {
        let idx: Vec<i64> = (0..b).map(|_| rng.random_range(0..self.n) as i64).collect();
        let index = Tensor::from_slice(&idx).to_device(self.obs.device());
        Minibatch {
            obs: self.obs.index_select(0, &index),
            next: self.next.index_select(0, &index),
            mask: self.mask.index_select(0, &index),
            actions: self.actions.index_select(0, &index),
            rewards: self.rewards.as_ref().map(|r| r.index_select(0, &index)),
        }
    }
}

/// `episodes` episodes of `dataset` on `env`.
pub fn collect<R: Rng + ?Sized>(
    env: &PointMass,
    dataset: Dataset,
    episodes: usize,
    rng: &mut R,
) -> Result<OfflineData> {
    collect_with(env, episodes, rng, |e, s, rng| {
        let behaviour = match dataset {
            Dataset::Random => Behaviour::Random,
            Dataset::Medium => Behaviour::Medium,
            Dataset::Expert => Behaviour::Expert,
            // 60 / 30 / 10 by episode index (deterministic proportions).
            Dataset::Mixed => match e % 10 {
                0..=5 => Behaviour::Random,
                6..=8 => Behaviour::Medium,
                _ => Behaviour::Expert,
            },
        };
        behaviour.act(env, s, rng)
    })
}

/// `episodes` episodes on `env` of the behaviour `policy(episode, state,
/// rng)`. An action out of range is recorded and executed as 0 (stay, what
/// [`PointMass::step`] does with it), so the data's actions are always
/// valid network indices.
pub fn collect_with<R, P>(
    env: &PointMass,
    episodes: usize,
    rng: &mut R,
    mut policy: P,
) -> Result<OfflineData>
where
    R: Rng + ?Sized,
    P: FnMut(usize, &[f64; 2], &mut R) -> usize,
{
    duality_core::check::at_least("episodes", episodes, 1)?;
    let cap = 10_000_000 / env.horizon.max(1);
    if episodes > cap {
        return Err(Error::invalid(
            "episodes",
            episodes,
            format!("at most {cap} (1e7 transitions at horizon {})", env.horizon),
        ));
    }
    let mut data = OfflineData {
        obs: Vec::new(),
        actions: Vec::new(),
        rewards: Vec::new(),
        next_obs: Vec::new(),
        masks: Vec::new(),
        episode_returns: Vec::with_capacity(episodes),
    };
    for e in 0..episodes {
        let mut s = env.reset(rng);
        let (mut ret, mut disc) = (0.0, 1.0);
        for _ in 0..env.horizon {
            let a = match policy(e, &s, rng) {
                a if a < POINT_MASS_ACTIONS => a,
                _ => 0,
            };
            let (r, next, done) = env.step(&s, a, rng);
            data.obs.extend(PointMass::features(&s));
            data.actions.push(a as i64);
            data.rewards.push(r as f32);
            data.next_obs.extend(PointMass::features(&next));
            data.masks.push(if done { 0.0 } else { 1.0 });
            ret += disc * r;
            disc *= env.gamma;
            s = next;
            if done {
                break;
            }
        }
        data.episode_returns.push(ret);
    }
    Ok(data)
}

/// Settings of deep f-DVL (checked by [`DeepFdvlParams::validate`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeepFdvlParams {
    /// The value loss.
    pub divergence: FDivergence,
    /// Weight in `(0, 1)` (chi-square, TV) or temperature `> 0` (Gumbel).
    pub lambda: f64,
    /// Gumbel only: the authors' stabilisers (clip `z` at this value and
    /// rescale by `e^{-max z}`); `None` is XQL's plain loss.
    pub gumbel_clip: Option<f64>,
    /// Hidden widths of every network.
    pub hidden: Vec<usize>,
    /// Gradient steps (one minibatch each).
    pub steps: usize,
    /// Minibatch size.
    pub batch: usize,
    /// Adam learning rate of every network.
    pub lr: f64,
    /// Polyak rate of the target critics.
    pub tau: f64,
    /// Advantage temperature `beta` of the policy step.
    pub beta: f64,
    /// Divergence threshold, in units of the largest possible `|return|`.
    pub value_bound: f64,
    /// Steps per point of the loss curves.
    pub log_every: usize,
    /// Seed of the initialisation and the minibatches.
    pub seed: u64,
}

impl DeepFdvlParams {
    /// Defaults: two hidden layers of 64, batch 256, lr 1e-3, tau 0.005
    /// (the authors'), beta 3, divergence at 10x the return bound, a curve
    /// point every 25 steps, no Gumbel stabilisers.
    pub fn new(divergence: FDivergence, lambda: f64, steps: usize, seed: u64) -> Self {
        DeepFdvlParams {
            divergence,
            lambda,
            gumbel_clip: None,
            hidden: vec![64, 64],
            steps,
            batch: 256,
            lr: 1e-3,
            tau: 0.005,
            beta: 3.0,
            value_bound: 10.0,
            log_every: 25,
            seed,
        }
    }

    /// Checks every field, naming the bad one: lambda as for tabular f-DVL,
    /// clip > 0, widths in 1..=4096, steps in 1..=1e7, batch in 1..=65536,
    /// lr > 0, tau in (0, 1], beta >= 0, value bound > 1, log_every >= 1.
    pub fn validate(&self) -> Result<()> {
        super::FdvlParams::new(self.divergence, self.lambda, 1, 1, 1.0)?;
        if let Some(c) = self.gumbel_clip {
            duality_core::check::positive("gumbel clip", c)?;
        }
        duality_core::check::at_least("hidden layers", self.hidden.len(), 1)?;
        for (i, &h) in self.hidden.iter().enumerate() {
            if h == 0 || h > 4096 {
                return Err(Error::invalid(
                    format!("hidden[{i}]"),
                    h,
                    "a width in 1..=4096",
                ));
            }
        }
        if self.steps == 0 || self.steps > 10_000_000 {
            return Err(Error::invalid("steps", self.steps, "in 1..=10000000"));
        }
        if self.batch == 0 || self.batch > 65_536 {
            return Err(Error::invalid("batch", self.batch, "in 1..=65536"));
        }
        duality_core::check::positive("lr", self.lr)?;
        if !(self.tau > 0.0 && self.tau <= 1.0) {
            return Err(Error::invalid("tau", self.tau, "a rate in (0, 1]"));
        }
        if !(self.beta.is_finite() && self.beta >= 0.0) {
            return Err(Error::invalid("beta", self.beta, "a temperature >= 0"));
        }
        if !(self.value_bound.is_finite() && self.value_bound > 1.0) {
            return Err(Error::invalid(
                "value bound",
                self.value_bound,
                "a factor > 1",
            ));
        }
        duality_core::check::at_least("log every", self.log_every, 1)
    }
}

/// One point of the loss curves: means over `log_every` steps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LossPoint {
    /// Steps done.
    pub step: usize,
    /// Mean value loss.
    pub value_loss: f64,
    /// Mean critic (Huber) loss.
    pub critic_loss: f64,
    /// Mean `V` over the minibatches.
    pub v_mean: f64,
}

/// Accumulates the per-step losses of a deep Dual RL training loop into
/// [`LossPoint`]s and detects divergence (shared by f-DVL and ReCOIL).
pub(crate) struct CurveLog {
    /// Divergence threshold on the batch's mean `|V|`.
    bound: f64,
    log_every: usize,
    steps: usize,
    acc: [f64; 3],
    acc_n: usize,
    pub(crate) curve: Vec<LossPoint>,
    pub(crate) diverged_at: Option<usize>,
}

impl CurveLog {
    /// A log for `steps` steps, a point every `log_every` (and at the end).
    pub(crate) fn new(bound: f64, log_every: usize, steps: usize) -> Self {
        Self {
            bound,
            log_every,
            steps,
            acc: [0.0; 3],
            acc_n: 0,
            curve: Vec::new(),
            diverged_at: None,
        }
    }

    /// Records step `step` (0-based); true when the run diverged there (a
    /// non-finite loss or `|V|` past the bound): the caller stops, and the
    /// partial point is flushed so the curve ends at the divergence.
    pub(crate) fn record(
        &mut self,
        step: usize,
        value_loss: f64,
        critic_loss: f64,
        v_mean: f64,
    ) -> bool {
        self.acc[0] += value_loss;
        self.acc[1] += critic_loss;
        self.acc[2] += v_mean;
        self.acc_n += 1;
        let bad = !value_loss.is_finite()
            || !critic_loss.is_finite()
            || !v_mean.is_finite()
            || v_mean.abs() > self.bound;
        if bad || (step + 1) % self.log_every == 0 || step + 1 == self.steps {
            let k = self.acc_n as f64;
            self.curve.push(LossPoint {
                step: step + 1,
                value_loss: self.acc[0] / k,
                critic_loss: self.acc[1] / k,
                v_mean: self.acc[2] / k,
            });
            (self.acc, self.acc_n) = ([0.0; 3], 0);
        }
        if bad {
            self.diverged_at = Some(step + 1);
        }
        bad
    }
}

/// The networks of a deep Dual RL learner, after the authors' DVL and
/// ReCOIL code alike: twin critics and their Polyak targets, the value
/// network and the softmax actor, each with its own Adam; and the two steps
/// both learners share (the value step and the advantage-weighted policy
/// step). Only the critic step differs between f-DVL and ReCOIL.
pub(crate) struct DualNets {
    pub(crate) q1: Mlp,
    pub(crate) q2: Mlp,
    tq1: Mlp,
    tq2: Mlp,
    pub(crate) value: Mlp,
    actor: Mlp,
    critic_vs: nn::VarStore,
    target_vs: nn::VarStore,
    actor_vs: nn::VarStore,
    pub(crate) critic_opt: nn::Optimizer,
    value_opt: nn::Optimizer,
    actor_opt: nn::Optimizer,
}

impl DualNets {
    /// The networks over the point mass's 2-D observations, initialised
    /// from `seeder` (critics `seed_for(10)`, value 11, actor 12; the
    /// targets copy the critics).
    pub(crate) fn new(hidden: &[usize], lr: f64, seeder: &Seeder, device: Device) -> Result<Self> {
        let init = |vs: &nn::VarStore, k: u64| init_from_seed(vs, seeder.seed_for(10 + k));
        let mlp = |out: usize| MlpConfig::new(2, hidden, out);
        let critic_vs = nn::VarStore::new(device);
        let q1 = mlp(POINT_MASS_ACTIONS).build(&(critic_vs.root() / "q1"))?;
        let q2 = mlp(POINT_MASS_ACTIONS).build(&(critic_vs.root() / "q2"))?;
        init(&critic_vs, 0)?;
        let mut target_vs = nn::VarStore::new(device);
        let tq1 = mlp(POINT_MASS_ACTIONS).build(&(target_vs.root() / "q1"))?;
        let tq2 = mlp(POINT_MASS_ACTIONS).build(&(target_vs.root() / "q2"))?;
        target_vs.copy(&critic_vs)?;
        let value_vs = nn::VarStore::new(device);
        let value = mlp(1).build(&value_vs.root())?;
        init(&value_vs, 1)?;
        let actor_vs = nn::VarStore::new(device);
        let actor = mlp(POINT_MASS_ACTIONS).build(&actor_vs.root())?;
        init(&actor_vs, 2)?;
        let opt = OptimizerConfig::adam(lr);
        let (critic_opt, value_opt, actor_opt) = (
            opt.build(&critic_vs)?,
            opt.build(&value_vs)?,
            opt.build(&actor_vs)?,
        );
        Ok(DualNets {
            q1,
            q2,
            tq1,
            tq2,
            value,
            actor,
            critic_vs,
            target_vs,
            actor_vs,
            critic_opt,
            value_opt,
            actor_opt,
        })
    }

    /// Value step on the target critics' `min(Q1', Q2')` at the data's
    /// actions: returns that minimum (for the policy step), the value loss
    /// and the batch's mean `V` before the step.
    pub(crate) fn value_step(
        &mut self,
        obs: &Tensor,
        a: &Tensor,
        divergence: FDivergence,
        lambda: f64,
        gumbel_clip: Option<f64>,
    ) -> (Tensor, f64, f64) {
        let q_t = tch::no_grad(|| {
            self.tq1
                .forward(obs)
                .gather(1, a, false)
                .minimum(&self.tq2.forward(obs).gather(1, a, false))
        });
        let v = self.value.forward(obs);
        let v_loss = value_loss(&(&q_t - &v), divergence, lambda, gumbel_clip).mean(Kind::Float);
        self.value_opt.backward_step(&v_loss);
        let v_loss_value = v_loss.double_value(&[]);
        let v_mean = v.mean(Kind::Float).double_value(&[]);
        (q_t, v_loss_value, v_mean)
    }

    /// Advantage-weighted regression with the new `V`: weights
    /// `min(e^{beta (Q' - V)}, 100)` on `log pi(a | s)`.
    pub(crate) fn policy_step(&mut self, obs: &Tensor, a: &Tensor, q_t: &Tensor, beta: f64) {
        let v_new = tch::no_grad(|| self.value.forward(obs));
        let weight = tch::no_grad(|| ((q_t - &v_new) * beta).exp().clamp_max(100.0));
        let logp = self
            .actor
            .forward(obs)
            .log_softmax(-1, Kind::Float)
            .gather(1, a, false);
        self.actor_opt
            .backward_step(&-(weight * logp).mean(Kind::Float));
    }

    /// Polyak step of the target critics.
    pub(crate) fn update_targets(&mut self, tau: f64) {
        polyak(&mut self.target_vs, &self.critic_vs, tau);
    }

    /// The trained actor with the run's loss log.
    pub(crate) fn into_fit(self, log: CurveLog, device: Device) -> DeepFdvlFit {
        DeepFdvlFit {
            actor: self.actor,
            actor_vs: self.actor_vs,
            curve: log.curve,
            diverged_at: log.diverged_at,
            device: format!("{device:?}"),
        }
    }
}

/// A trained deep Dual RL agent (f-DVL, XQL, or ReCOIL and behaviour
/// cloning from [`super::deep_recoil`]).
pub struct DeepFdvlFit {
    pub(crate) actor: Mlp,
    pub(crate) actor_vs: nn::VarStore,
    /// Loss curves, one point per `log_every` steps (and the last partial
    /// interval).
    pub curve: Vec<LossPoint>,
    /// The step at which the run diverged (see the module documentation),
    /// `None` when it trained stably to the end.
    pub diverged_at: Option<usize>,
    /// The device it trained on.
    pub device: String,
}

impl std::fmt::Debug for DeepFdvlFit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeepFdvlFit")
            .field("curve points", &self.curve.len())
            .field("diverged_at", &self.diverged_at)
            .field("device", &self.device)
            .finish()
    }
}

impl DeepFdvlFit {
    /// Whether it trained to the end without diverging.
    pub fn stable(&self) -> bool {
        self.diverged_at.is_none()
    }

    /// The policy's most likely action at `s`.
    pub fn act(&self, s: &[f64; 2]) -> Result<usize> {
        let f = PointMass::features(s);
        let x = tensor::tensor_from_slice_f32(&f, &[1, 2])?.to_device(self.actor_vs.device());
        let logits = tensor::tensor_to_vec_f32(&tch::no_grad(|| self.actor.forward(&x)))?;
        let mut best = 0;
        for (a, &l) in logits.iter().enumerate() {
            if l.is_nan() {
                return Err(Error::Torch(format!(
                    "policy logit {a} is NaN at state ({}, {})",
                    s[0], s[1]
                )));
            }
            if l > logits[best] {
                best = a;
            }
        }
        Ok(best)
    }
}

/// The value loss per sample as a tensor (see the module documentation).
pub(crate) fn value_loss(
    d: &Tensor,
    divergence: FDivergence,
    lambda: f64,
    clip: Option<f64>,
) -> Tensor {
    match divergence {
        FDivergence::ChiSquare => (d + d * d / 4.0).relu() * lambda - d * (1.0 - lambda),
        FDivergence::TotalVariation => d.relu() * lambda - d * (1.0 - lambda),
        FDivergence::Gumbel => {
            let z = d / lambda;
            match clip {
                None => z.exp() - &z - 1.0,
                Some(c) => {
                    // hari-sikchi/DVL offline/critic.py `reverse_kl_loss`.
                    let z = z.clamp_max(c);
                    let m = z.max().detach().clamp_min(-1.0);
                    let em = (-&m).exp();
                    (&z - &m).exp() - &z * &em - em
                }
            }
        }
    }
}

pub(crate) fn polyak(target: &mut nn::VarStore, online: &nn::VarStore, tau: f64) {
    let src = online.variables();
    let dst = target.variables();
    tch::no_grad(|| {
        for (name, t) in dst {
            if let Some(s) = src.get(&name) {
                let mut t = t;
                let mixed = s * tau + &t * (1.0 - tau);
                t.copy_(&mixed);
            }
        }
    });
}

/// Trains deep f-DVL on `data` from `env` on duality-core's default device
/// (`DUALITY_DEVICE`, else CUDA if available, else CPU); see the module
/// documentation.
pub fn train_deep_fdvl(
    env: &PointMass,
    data: &OfflineData,
    params: &DeepFdvlParams,
) -> Result<DeepFdvlFit> {
    train_deep_fdvl_on(env, data, params, tensor::default_device()?)
}

/// [`train_deep_fdvl`] on a given device (on the CPU with one libtorch
/// thread, as the deep agents).
pub fn train_deep_fdvl_on(
    env: &PointMass,
    data: &OfflineData,
    params: &DeepFdvlParams,
    device: Device,
) -> Result<DeepFdvlFit> {
    params.validate()?;
    data.validate("offline", true)?;
    let _threads = (device == Device::Cpu).then(OneThread::new);
    tensor::manual_seed(params.seed);
    let seeder = Seeder::new(params.seed);
    let mut nets = DualNets::new(&params.hidden, params.lr, &seeder, device)?;

    let tensors = OfflineTensors::new(data, true, device)?;

    let bound = params.value_bound * env.return_bound();
    let mut rng = seeder.rng(3);
    let mut log = CurveLog::new(bound, params.log_every, params.steps);
    for step in 0..params.steps {
        let Minibatch {
            obs,
            next,
            mask,
            actions: a,
            rewards,
        } = tensors.sample(params.batch, &mut rng);
        let r = rewards.ok_or_else(|| Error::Torch("f-DVL minibatch without rewards".into()))?;

        // 1. Value step on the target critics' min(Q1', Q2') at the data's actions.
        let (q_t, v_loss_value, v_mean) = nets.value_step(
            &obs,
            &a,
            params.divergence,
            params.lambda,
            params.gumbel_clip,
        );

        // 2. Policy step: advantage-weighted regression with the new V.
        nets.policy_step(&obs, &a, &q_t, params.beta);

        // 3. Critic step: Huber(delta 20) on r + gamma mask V(s').
        let target = tch::no_grad(|| &r + nets.value.forward(&next) * &mask * env.gamma);
        let l1 = nets.q1.forward(&obs).gather(1, &a, false).huber_loss(
            &target,
            tch::Reduction::Mean,
            20.0,
        );
        let l2 = nets.q2.forward(&obs).gather(1, &a, false).huber_loss(
            &target,
            tch::Reduction::Mean,
            20.0,
        );
        let q_loss = l1 + l2;
        nets.critic_opt.backward_step(&q_loss);
        let q_loss_value = q_loss.double_value(&[]);

        // 4. Target step.
        nets.update_targets(params.tau);

        if log.record(step, v_loss_value, q_loss_value, v_mean) {
            break;
        }
    }
    Ok(nets.into_fit(log, device))
}

/// Normalised score `(J - J_random) / (J_expert - J_random)` of a policy's
/// mean discounted return `j`, with the uniform and scripted-expert
/// policies' returns from [`reference_returns`].
pub fn normalised(j: f64, random: f64, expert: f64) -> f64 {
    (j - random) / (expert - random)
}

/// Mean discounted returns of the uniform policy and the scripted expert
/// over `episodes` episodes each (seeded by `seed`).
pub fn reference_returns(env: &PointMass, episodes: usize, seed: u64) -> Result<(f64, f64)> {
    let seeder = Seeder::new(seed);
    let mut rng = seeder.rng(0);
    let mut pick = seeder.rng(1);
    let random = env.evaluate(
        |_| Ok(pick.random_range(0..POINT_MASS_ACTIONS)),
        episodes,
        &mut rng,
    )?;
    let mut rng = seeder.rng(2);
    let expert = env.evaluate(|s| Ok(env.expert_action(s)), episodes, &mut rng)?;
    Ok((random, expert))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu() -> Device {
        Device::Cpu
    }

    #[test]
    fn value_losses_match_the_tabular_ones() {
        let d = [-3.0f64, -0.5, 0.0, 0.4, 2.0];
        let t = Tensor::from_slice(&d.map(|x| x as f32));
        for (div, lam) in [
            (FDivergence::ChiSquare, 0.7),
            (FDivergence::TotalVariation, 0.6),
            (FDivergence::Gumbel, 0.5),
        ] {
            let got = tensor::tensor_to_vec_f64(&value_loss(&t, div, lam, None)).unwrap();
            for (x, g) in d.iter().zip(got) {
                let want = div.loss(*x, lam);
                assert!(
                    (g - want).abs() < 1e-4 * (1.0 + want.abs()),
                    "{div:?} {x}: {g} vs {want}"
                );
            }
        }
        // The authors' stabilised Gumbel loss is e^{-m} times the plain one
        // when no z exceeds the clip (m = max z >= -1).
        let got = tensor::tensor_to_vec_f64(&value_loss(&t, FDivergence::Gumbel, 0.5, Some(7.0)))
            .unwrap();
        let m = 4.0f64; // max z = 2 / 0.5
        for (x, g) in d.iter().zip(got) {
            let want = FDivergence::Gumbel.loss(*x, 0.5) * (-m).exp();
            assert!((g - want).abs() < 1e-5, "{x}: {g} vs {want}");
        }
    }

    #[test]
    fn environment_and_data() {
        let env = PointMass::standard();
        let mut rng = Seeder::new(1).rng(0);
        let (random, expert) = reference_returns(&env, 200, 3).unwrap();
        assert!(expert > random + 2.0, "expert {expert} vs random {random}");
        assert!(expert > -14.0 && random < -15.0, "{expert} {random}");
        let data = collect(&env, Dataset::Mixed, 20, &mut rng).unwrap();
        assert_eq!(data.obs.len(), 2 * data.len());
        assert_eq!(data.episode_returns.len(), 20);
        assert!(data.masks.contains(&0.0), "some episode reaches the goal");
        assert!(data.obs.iter().all(|x| (-1.0..=1.0).contains(x)));
        assert!(PointMass::new([1.5, 0.5], 0.1, 0.1, 0.0, 10, 0.9)
            .unwrap_err()
            .to_string()
            .contains("goal[0]"));
        assert!(collect(&env, Dataset::Random, usize::MAX, &mut rng).is_err());
        assert!("bogus"
            .parse::<Dataset>()
            .unwrap_err()
            .to_string()
            .contains("bogus"));
    }

    #[test]
    fn params_are_checked() {
        let mut p = DeepFdvlParams::new(FDivergence::ChiSquare, 1.5, 10, 0);
        assert!(p.validate().unwrap_err().to_string().contains("lambda"));
        p.lambda = 0.5;
        p.validate().unwrap();
        p.tau = 0.0;
        assert!(p.validate().unwrap_err().to_string().contains("tau"));
        p.tau = 0.005;
        p.hidden = vec![0];
        assert!(p.validate().unwrap_err().to_string().contains("hidden[0]"));
    }

    #[test]
    fn chi_square_trains_stably_and_is_reproducible() {
        let env = PointMass::standard();
        let data = collect(&env, Dataset::Mixed, 30, &mut Seeder::new(2).rng(0)).unwrap();
        let mut p = DeepFdvlParams::new(FDivergence::ChiSquare, 0.7, 60, 5);
        p.batch = 64;
        p.log_every = 20;
        let a = train_deep_fdvl_on(&env, &data, &p, cpu()).unwrap();
        let b = train_deep_fdvl_on(&env, &data, &p, cpu()).unwrap();
        assert!(a.stable(), "{:?}", a.diverged_at);
        assert_eq!(a.curve.len(), 3);
        assert_eq!(a.curve, b.curve);
        let act = a.act(&[0.1, 0.1]).unwrap();
        assert!(act < POINT_MASS_ACTIONS);
    }

    #[test]
    fn plain_gumbel_at_a_small_temperature_overflows() {
        // d = Q - V of order 0.1 at initialisation over a temperature of
        // 1e-4: e^{d / lambda} overflows f32 (d > 0.009) at the first step.
        let env = PointMass::standard();
        let data = collect(&env, Dataset::Mixed, 30, &mut Seeder::new(2).rng(0)).unwrap();
        let mut p = DeepFdvlParams::new(FDivergence::Gumbel, 1e-4, 200, 5);
        p.batch = 64;
        let fit = train_deep_fdvl_on(&env, &data, &p, cpu()).unwrap();
        assert_eq!(fit.diverged_at, Some(1), "{fit:?}");
        assert!(!fit.curve[0].value_loss.is_finite() || fit.curve[0].value_loss > 1e30);
    }
}
