//! Environments: where rewards come from.
//!
//! Each round the simulator asks the environment to [`draw`](Environment::draw)
//! the reward of *every* arm (plus the arms' means and an optional context)
//! from the repetition's environment RNG stream, then tells it which arm was
//! [`played`](Environment::played). Drawing all arms every round is what makes
//! common random numbers work: every policy run within one repetition replays
//! the same stream and so sees the same reward table, whatever it plays
//! (for adaptive adversaries, the same table *given* the same history).

use duality_core::config::Validate;
use duality_core::seed::SplitMix64;
use duality_core::{check, Error, Result};
use rand::{Rng, RngCore};
use rand_distr::{Beta, Distribution, Normal, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::policy::{Arm, Context};

/// One round's draw: realised rewards and expected rewards of every arm.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Draw {
    /// Realised reward of each arm this round.
    pub rewards: Vec<f64>,
    /// Expected reward of each arm this round (for pseudo-regret). For
    /// adversarial environments these equal the rewards.
    pub means: Vec<f64>,
    /// Context revealed before acting, for contextual environments.
    pub context: Option<Context>,
}

impl Draw {
    /// An empty draw sized for `k` arms.
    pub fn new(k: usize) -> Self {
        Draw {
            rewards: vec![0.0; k],
            means: vec![0.0; k],
            context: None,
        }
    }
}

/// Cloning boxed environments.
pub trait EnvironmentClone {
    /// A boxed copy.
    fn clone_box(&self) -> Box<dyn Environment>;
}

impl<T: Environment + Clone + 'static> EnvironmentClone for T {
    fn clone_box(&self) -> Box<dyn Environment> {
        Box::new(self.clone())
    }
}

/// A bandit environment.
pub trait Environment: EnvironmentClone + Send + Sync {
    /// Short name (records, plots).
    fn name(&self) -> String;
    /// Number of arms.
    fn n_arms(&self) -> usize;
    /// Restores the initial state (start of a repetition).
    fn reset(&mut self) {}
    /// Draws round `t` (1-based) into `out` (sized for `n_arms`).
    fn draw(&mut self, t: usize, rng: &mut dyn RngCore, out: &mut Draw);
    /// Tells the environment which arm was played in round `t`
    /// (adaptive adversaries react to it).
    fn played(&mut self, _t: usize, _arm: Arm) {}
    /// The arms' means when they are the same every round and every
    /// [`draw`](Environment::draw) writes exactly these into
    /// [`Draw::means`] (a stationary stochastic bandit); `None` (the
    /// default) when they may change. The simulator's regret recorder then
    /// adds the played arm's precomputed gap instead of taking the maximum
    /// mean every round (the same numbers).
    fn constant_means(&self) -> Option<&[f64]> {
        None
    }
    /// The concrete environment, for the simulator's statically dispatched
    /// round loop (see [`crate::policy::Policy::as_any_mut`]); `None` by
    /// default.
    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        None
    }
}

impl Clone for Box<dyn Environment> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// The reward distribution of one stochastic arm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ArmDistribution {
    /// Reward 1 with probability `p`, else 0.
    Bernoulli {
        /// Success probability.
        p: f64,
    },
    /// Gaussian reward.
    Gaussian {
        /// Mean.
        mean: f64,
        /// Standard deviation (> 0).
        sd: f64,
    },
    /// Beta(a, b) reward in `[0, 1]` (a bounded, non-Bernoulli arm).
    Beta {
        /// First shape (> 0).
        a: f64,
        /// Second shape (> 0).
        b: f64,
    },
    /// Uniform reward on `[low, high]`.
    Uniform {
        /// Lower end.
        low: f64,
        /// Upper end (>= low).
        high: f64,
    },
}

impl ArmDistribution {
    /// Expected reward.
    pub fn mean(&self) -> f64 {
        match *self {
            ArmDistribution::Bernoulli { p } => p,
            ArmDistribution::Gaussian { mean, .. } => mean,
            ArmDistribution::Beta { a, b } => a / (a + b),
            ArmDistribution::Uniform { low, high } => 0.5 * (low + high),
        }
    }

    /// Checks the parameters; `name` prefixes the field in the error
    /// (`arms[2].sd`).
    pub(crate) fn check_named(&self, name: &str) -> Result<()> {
        match *self {
            ArmDistribution::Bernoulli { p } => check::probability(&format!("{name}.p"), p),
            ArmDistribution::Gaussian { mean, sd } => {
                check::finite_scalar(&format!("{name}.mean"), mean)?;
                check::positive(&format!("{name}.sd"), sd)
            }
            ArmDistribution::Beta { a, b } => {
                check::positive(&format!("{name}.a"), a)?;
                check::positive(&format!("{name}.b"), b)
            }
            ArmDistribution::Uniform { low, high } => {
                check::finite_scalar(&format!("{name}.low"), low)?;
                check::finite_scalar(&format!("{name}.high"), high)?;
                if high < low {
                    return Err(Error::invalid(
                        format!("{name}.high"),
                        high,
                        format!("a number >= low = {low}"),
                    ));
                }
                Ok(())
            }
        }
    }

    /// Draws one reward. Parameters must have been validated.
    pub fn sample<R: RngCore + ?Sized>(&self, rng: &mut R) -> f64 {
        match *self {
            ArmDistribution::Bernoulli { p } => {
                if rng.random::<f64>() < p {
                    1.0
                } else {
                    0.0
                }
            }
            ArmDistribution::Gaussian { mean, sd } => {
                Normal::new(mean, sd).map(|d| d.sample(rng)).unwrap_or(mean)
            }
            ArmDistribution::Beta { a, b } => Beta::new(a, b)
                .map(|d| d.sample(rng))
                .unwrap_or(a / (a + b)),
            ArmDistribution::Uniform { low, high } => low + (high - low) * rng.random::<f64>(),
        }
    }
}

impl Validate for ArmDistribution {
    /// Bernoulli `p` in `[0, 1]`, Gaussian `sd > 0`, Beta shapes `> 0`,
    /// uniform `low <= high`, all finite.
    fn validate(&self) -> Result<()> {
        self.check_named("arm")
    }
}

/// A stationary stochastic bandit: independent arms with fixed distributions.
///
/// Serialised as its arms only; the per-round caches below are rebuilt from
/// them (construction and deserialisation both go through
/// `StochasticBandit::from_arms`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "StochasticArms")]
pub struct StochasticBandit {
    arms: Vec<ArmDistribution>,
    /// Every arm's mean, copied into each round's [`Draw`].
    #[serde(skip_serializing)]
    means: Vec<f64>,
    /// When every arm is Bernoulli: arm `a` pays 1 when the top 53 bits of
    /// its generator word are below `thresholds[a] = ceil(p_a 2^53)`, which
    /// is exactly the event `u < p_a` for rand's `u = (x >> 11) 2^-53`
    /// (both sides are scaled by a power of two, so no rounding), so the
    /// rewards are bit-identical to [`ArmDistribution::sample`]'s without a
    /// conversion, a match or a call per arm.
    #[serde(skip_serializing)]
    thresholds: Option<Vec<u64>>,
}

/// The serialised form of a [`StochasticBandit`].
#[derive(Deserialize)]
struct StochasticArms {
    arms: Vec<ArmDistribution>,
}

impl From<StochasticArms> for StochasticBandit {
    fn from(raw: StochasticArms) -> Self {
        StochasticBandit::from_arms(raw.arms)
    }
}

/// `ceil(p 2^53)`: `x >> 11 < ceil(p 2^53)` iff `(x >> 11) 2^-53 < p` for an
/// integer `x >> 11 < 2^53` (`p 2^53` is exact for `p` in `[0, 1]`).
fn bernoulli_threshold(p: f64) -> u64 {
    (p.clamp(0.0, 1.0) * (1u64 << 53) as f64).ceil() as u64
}

impl StochasticBandit {
    /// A bandit with the given arms (at least one, valid parameters).
    pub fn new(arms: Vec<ArmDistribution>) -> Result<Self> {
        if arms.is_empty() {
            return Err(Error::invalid("number of arms", 0, "at least 1 arm"));
        }
        for (i, a) in arms.iter().enumerate() {
            a.check_named(&format!("arms[{i}]"))?;
        }
        Ok(StochasticBandit::from_arms(arms))
    }

    /// The bandit with its caches (no validation).
    fn from_arms(arms: Vec<ArmDistribution>) -> Self {
        let means = arms.iter().map(ArmDistribution::mean).collect();
        let thresholds = arms
            .iter()
            .map(|a| match *a {
                ArmDistribution::Bernoulli { p } => Some(bernoulli_threshold(p)),
                _ => None,
            })
            .collect();
        StochasticBandit {
            arms,
            means,
            thresholds,
        }
    }

    /// Bernoulli arms with success probabilities `ps`.
    pub fn bernoulli(ps: &[f64]) -> Result<Self> {
        Self::new(
            ps.iter()
                .map(|&p| ArmDistribution::Bernoulli { p })
                .collect(),
        )
    }

    /// Gaussian arms with the given means and a common standard deviation.
    pub fn gaussian(means: &[f64], sd: f64) -> Result<Self> {
        Self::new(
            means
                .iter()
                .map(|&mean| ArmDistribution::Gaussian { mean, sd })
                .collect(),
        )
    }

    /// The arms.
    pub fn arms(&self) -> &[ArmDistribution] {
        &self.arms
    }

    /// Expected rewards.
    pub fn means(&self) -> Vec<f64> {
        self.means.clone()
    }
}

impl Environment for StochasticBandit {
    fn name(&self) -> String {
        format!("stochastic-{}", self.arms.len())
    }
    fn n_arms(&self) -> usize {
        self.arms.len()
    }
    #[inline]
    fn draw(&mut self, _t: usize, rng: &mut dyn RngCore, out: &mut Draw) {
        match &self.thresholds {
            // The same stream and the same rewards as `draw_arms`: word `i`
            // of the round's SplitMix64 stream decides arm `i`.
            Some(thresholds) => {
                // Only the Weyl state (one add) is carried from arm to arm,
                // so the K mixes are independent and overlap.
                let mut round_rng = SplitMix64::new(rng.next_u64());
                for (reward, &threshold) in out.rewards.iter_mut().zip(thresholds) {
                    *reward = if round_rng.next_u64() >> 11 < threshold {
                        1.0
                    } else {
                        0.0
                    };
                }
                for (mean, &m) in out.means.iter_mut().zip(&self.means) {
                    *mean = m;
                }
            }
            None => draw_arms(&self.arms, rng, out),
        }
    }
    fn constant_means(&self) -> Option<&[f64]> {
        Some(&self.means)
    }
    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}

/// One round of independent draws from `arms` into `out`.
///
/// The round's rewards come from a [`SplitMix64`] stream seeded with one
/// number of `rng`: the per-arm draws are then inlined integer operations
/// instead of one dynamic call into a ChaCha buffer each, which was a large
/// share of a simulated round. Every policy of a repetition still sees the
/// same rewards (common random numbers), because `rng` is the repetition's
/// environment stream.
#[inline]
fn draw_arms(arms: &[ArmDistribution], rng: &mut dyn RngCore, out: &mut Draw) {
    let mut round_rng = SplitMix64::new(rng.next_u64());
    for ((reward, mean), arm) in out.rewards.iter_mut().zip(&mut out.means).zip(arms) {
        *reward = arm.sample(&mut round_rng);
        *mean = arm.mean();
    }
}

/// A piecewise-stationary (non-stationary) stochastic bandit: the arm
/// distributions switch at given rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PiecewiseStationary {
    /// `(first round of the segment, arms)`, sorted by round, the first at round 1.
    segments: Vec<(usize, Vec<ArmDistribution>)>,
}

impl PiecewiseStationary {
    /// Segments `(start_round, arms)`; the first must start at round 1, starts
    /// strictly increase and every segment has the same number of arms.
    pub fn new(segments: Vec<(usize, Vec<ArmDistribution>)>) -> Result<Self> {
        let first = segments
            .first()
            .ok_or_else(|| Error::invalid("number of segments", 0, "at least 1"))?;
        if first.0 != 1 {
            return Err(Error::invalid("segments[0].start", first.0, "1"));
        }
        let k = first.1.len();
        if k == 0 {
            return Err(Error::invalid("number of arms", 0, "at least 1 arm"));
        }
        for (s, (start, arms)) in segments.iter().enumerate() {
            check::same_len(
                "segments[0] arms",
                k,
                &format!("segments[{s}] arms"),
                arms.len(),
            )?;
            if s > 0 && *start <= segments[s - 1].0 {
                return Err(Error::invalid(
                    format!("segments[{s}].start"),
                    start,
                    "strictly increasing segment starts",
                ));
            }
            for (i, a) in arms.iter().enumerate() {
                a.check_named(&format!("segments[{s}].arms[{i}]"))?;
            }
        }
        Ok(PiecewiseStationary { segments })
    }

    fn arms_at(&self, t: usize) -> &[ArmDistribution] {
        let idx = self.segments.partition_point(|(start, _)| *start <= t);
        &self.segments[idx.saturating_sub(1)].1
    }
}

impl Environment for PiecewiseStationary {
    fn name(&self) -> String {
        format!("piecewise-{}x{}", self.segments.len(), self.n_arms())
    }
    fn n_arms(&self) -> usize {
        self.segments.first().map_or(0, |s| s.1.len())
    }
    fn draw(&mut self, t: usize, rng: &mut dyn RngCore, out: &mut Draw) {
        draw_arms(self.arms_at(t), rng, out);
    }
}

/// An oblivious adversary: a fixed reward table, cycled if the run is longer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObliviousAdversary {
    /// `rewards[t][arm]`, all in `[0, 1]`.
    rewards: Vec<Vec<f64>>,
}

impl ObliviousAdversary {
    /// A table of per-round reward vectors in `[0, 1]`, all of the same length.
    pub fn new(rewards: Vec<Vec<f64>>) -> Result<Self> {
        check::non_empty("rewards", &rewards)?;
        let k = rewards[0].len();
        if k == 0 {
            return Err(Error::invalid("number of arms", 0, "at least 1 arm"));
        }
        for (t, row) in rewards.iter().enumerate() {
            check::same_len("rewards[0]", k, &format!("rewards[{t}]"), row.len())?;
            check::probabilities(&format!("rewards[{t}]"), row)?;
        }
        Ok(ObliviousAdversary { rewards })
    }

    /// The classic lower-bound-style instance: every arm has Bernoulli(1/2)
    /// rewards except arm 0 with Bernoulli(1/2 + gap), re-drawn into a fixed
    /// table of `rounds` rounds from `seed` (then replayed identically).
    pub fn shifted_coins(k: usize, rounds: usize, gap: f64, seed: u64) -> Result<Self> {
        check::at_least("k", k, 1)?;
        check::at_least("rounds", rounds, 1)?;
        check::probability("0.5 + gap", 0.5 + gap)?;
        let mut rng = duality_core::seed::Seeder::new(seed).rng(0);
        let rewards = (0..rounds)
            .map(|_| {
                (0..k)
                    .map(|a| {
                        let p = if a == 0 { 0.5 + gap } else { 0.5 };
                        f64::from(u8::from(rng.random::<f64>() < p))
                    })
                    .collect()
            })
            .collect();
        Self::new(rewards)
    }

    /// A switching instance: the best arm alternates between arm 0 and arm 1
    /// in phases of doubling length (fools follow-the-leader and
    /// stochastic policies; arm 0 is best overall by a small margin).
    pub fn doubling_switch(k: usize, rounds: usize) -> Result<Self> {
        check::at_least("k", k, 2)?;
        check::at_least("rounds", rounds, 1)?;
        let mut rewards = Vec::with_capacity(rounds);
        let mut phase_len = 1usize;
        let mut phase = 0usize;
        let mut in_phase = 0usize;
        for _ in 0..rounds {
            let mut row = vec![0.3; k];
            let good = phase % 2;
            row[good] = if good == 0 { 0.9 } else { 0.8 };
            rewards.push(row);
            in_phase += 1;
            if in_phase == phase_len {
                phase += 1;
                in_phase = 0;
                phase_len *= 2;
            }
        }
        Self::new(rewards)
    }
}

impl Environment for ObliviousAdversary {
    fn name(&self) -> String {
        format!("oblivious-{}", self.n_arms())
    }
    fn n_arms(&self) -> usize {
        self.rewards.first().map_or(0, Vec::len)
    }
    fn draw(&mut self, t: usize, _rng: &mut dyn RngCore, out: &mut Draw) {
        let row = &self.rewards[(t.max(1) - 1) % self.rewards.len()];
        out.rewards.copy_from_slice(row);
        out.means.copy_from_slice(row);
    }
}

/// An adaptive (non-oblivious) adversary: each round the arm the learner has
/// played most often so far pays a reward in `[0, 0.2]` and every other arm
/// one in `[0.8, 1]`. A deterministic policy that concentrates on one arm is
/// punished every round; regret is measured against the realised table.
/// Ties in the play counts go to the lowest arm (so before any play arm 0
/// is the punished one); `reset` forgets the plays; plays of arms outside
/// `0..K` are ignored. Tested in `tests/adaptive_knapsacks.rs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdaptiveAdversary {
    counts: Vec<u64>,
}

impl AdaptiveAdversary {
    /// An adaptive adversary over `k >= 2` arms.
    pub fn new(k: usize) -> Result<Self> {
        check::at_least("number of arms", k, 2)?;
        Ok(AdaptiveAdversary { counts: vec![0; k] })
    }
}

impl Environment for AdaptiveAdversary {
    fn name(&self) -> String {
        format!("adaptive-{}", self.counts.len())
    }
    fn n_arms(&self) -> usize {
        self.counts.len()
    }
    fn reset(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = 0);
    }
    fn draw(&mut self, _t: usize, rng: &mut dyn RngCore, out: &mut Draw) {
        let most = crate::math::argmax(&self.counts.iter().map(|&c| c as f64).collect::<Vec<_>>());
        for i in 0..self.counts.len() {
            // A little noise so that ties do not make every arm identical.
            let base = if i == most { 0.0 } else { 0.8 };
            out.rewards[i] = (base + 0.2 * rng.random::<f64>()).min(1.0);
            out.means[i] = out.rewards[i];
        }
    }
    fn played(&mut self, _t: usize, arm: Arm) {
        if let Some(c) = self.counts.get_mut(arm) {
            *c += 1;
        }
    }
}

/// A linear contextual bandit: each round every arm gets a feature vector
/// `x_{t,a} ~ N(0, I_d / d)`; the reward is `<theta_a, x_{t,a}> + noise` with
/// a per-arm `theta_a` (disjoint model) or one shared `theta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearContextual {
    thetas: Vec<Vec<f64>>,
    noise_sd: f64,
    shared_context: bool,
}

impl LinearContextual {
    /// `thetas` has one row per arm (repeat a row for a shared model);
    /// `shared_context`: all arms see the same feature vector.
    pub fn new(thetas: Vec<Vec<f64>>, noise_sd: f64, shared_context: bool) -> Result<Self> {
        check::non_empty("thetas", &thetas)?;
        let d = thetas[0].len();
        check::at_least("feature dimension", d, 1)?;
        for (a, th) in thetas.iter().enumerate() {
            check::same_len("thetas[0]", d, &format!("thetas[{a}]"), th.len())?;
            check::finite(&format!("thetas[{a}]"), th)?;
        }
        if !(noise_sd >= 0.0 && noise_sd.is_finite()) {
            return Err(Error::invalid("noise_sd", noise_sd, "a finite number >= 0"));
        }
        Ok(LinearContextual {
            thetas,
            noise_sd,
            shared_context,
        })
    }

    /// Feature dimension.
    pub fn dim(&self) -> usize {
        self.thetas[0].len()
    }
}

impl Environment for LinearContextual {
    fn name(&self) -> String {
        format!("linear-{}x{}", self.thetas.len(), self.dim())
    }
    fn n_arms(&self) -> usize {
        self.thetas.len()
    }
    fn draw(&mut self, _t: usize, rng: &mut dyn RngCore, out: &mut Draw) {
        let d = self.dim();
        let k = self.thetas.len();
        let scale = 1.0 / (d as f64).sqrt();
        let std = StandardNormal;
        let mut features = Vec::with_capacity(k);
        for a in 0..k {
            if self.shared_context && a > 0 {
                let first: Vec<f64> = features.first().cloned().unwrap_or_default();
                features.push(first);
            } else {
                features.push(
                    (0..d)
                        .map(|_| scale * Distribution::<f64>::sample(&std, rng))
                        .collect::<Vec<f64>>(),
                );
            }
        }
        for a in 0..k {
            let mean: f64 = self.thetas[a]
                .iter()
                .zip(&features[a])
                .map(|(t, x)| t * x)
                .sum();
            let noise = if self.noise_sd > 0.0 {
                self.noise_sd * Distribution::<f64>::sample(&std, rng)
            } else {
                0.0
            };
            out.means[a] = mean;
            out.rewards[a] = mean + noise;
        }
        out.context = Some(Context {
            features,
            advice: Vec::new(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use duality_core::seed::Seeder;

    #[test]
    fn bad_arms_are_rejected_by_name() {
        let err = StochasticBandit::bernoulli(&[0.2, 1.5])
            .unwrap_err()
            .to_string();
        assert!(err.contains("arms[1].p") && err.contains("1.5"), "{err}");
        let err = StochasticBandit::bernoulli(&[]).unwrap_err().to_string();
        assert!(err.contains("arms"), "{err}");
        assert!(StochasticBandit::gaussian(&[0.0], 0.0).is_err());
    }

    #[test]
    fn bernoulli_means_match() {
        let mut env = StochasticBandit::bernoulli(&[0.2, 0.7]).unwrap();
        let mut rng = Seeder::new(1).rng(0);
        let mut d = Draw::new(2);
        let mut sums = [0.0; 2];
        for t in 1..=20_000 {
            env.draw(t, &mut rng, &mut d);
            sums[0] += d.rewards[0];
            sums[1] += d.rewards[1];
        }
        assert!((sums[0] / 20_000.0 - 0.2).abs() < 0.015);
        assert!((sums[1] / 20_000.0 - 0.7).abs() < 0.015);
    }

    /// The all-Bernoulli fast path (integer thresholds) draws exactly the
    /// rewards of the generic path (`ArmDistribution::sample` on the same
    /// SplitMix64 words), including p = 0, p = 1 and p just below a
    /// representable uniform; a deserialised bandit rebuilds its caches.
    #[test]
    fn bernoulli_fast_path_matches_the_generic_draws() {
        let ps = [0.0, 1.0, 0.5, 0.1, 0.3, 1.0 - f64::EPSILON, 1e-300, 0.85];
        let mut env = StochasticBandit::bernoulli(&ps).unwrap();
        assert!(env.thresholds.is_some());
        let json = serde_json::to_string(&env).unwrap();
        assert_eq!(json.matches("\"p\"").count(), ps.len(), "{json}");
        let mut back: StochasticBandit = serde_json::from_str(&json).unwrap();
        assert_eq!(back, env);
        let (mut fast, mut generic, mut again) = (Draw::new(8), Draw::new(8), Draw::new(8));
        let (mut r1, mut r2, mut r3) = (
            Seeder::new(4).rng(0),
            Seeder::new(4).rng(0),
            Seeder::new(4).rng(0),
        );
        for t in 1..=5_000 {
            env.draw(t, &mut r1, &mut fast);
            draw_arms(env.arms(), &mut r2, &mut generic);
            back.draw(t, &mut r3, &mut again);
            assert_eq!(fast, generic, "round {t}");
            assert_eq!(fast, again, "round {t}");
        }
        assert_eq!(env.constant_means(), Some(&ps[..]));
        // u < p at the edges: a word whose top 53 bits give u = p exactly
        // pays 0, one below pays 1.
        let p = 0.25;
        let threshold = bernoulli_threshold(p);
        assert_eq!(threshold, 1 << 51);
        assert!(((threshold - 1) as f64) * 2f64.powi(-53) < p);
        assert!((threshold as f64) * 2f64.powi(-53) >= p);
    }

    #[test]
    fn piecewise_switches() {
        let env = PiecewiseStationary::new(vec![
            (
                1,
                vec![
                    ArmDistribution::Bernoulli { p: 0.9 },
                    ArmDistribution::Bernoulli { p: 0.1 },
                ],
            ),
            (
                10,
                vec![
                    ArmDistribution::Bernoulli { p: 0.1 },
                    ArmDistribution::Bernoulli { p: 0.9 },
                ],
            ),
        ])
        .unwrap();
        assert_eq!(env.arms_at(9)[0].mean(), 0.9);
        assert_eq!(env.arms_at(10)[0].mean(), 0.1);
        assert!(
            PiecewiseStationary::new(vec![(2, vec![ArmDistribution::Bernoulli { p: 0.5 }])])
                .is_err()
        );
    }
}
