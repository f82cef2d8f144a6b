//! Stochastic bandit policies (Slivkins, *Introduction to Multi-Armed
//! Bandits*, 2019, chapters 1-3).
//!
//! All index policies pull every arm once before using their index (an
//! unpulled arm has an infinite index), and break ties towards the lowest arm.

use duality_core::seed::SplitMix64;
use duality_core::{check, Error, Result};
use rand::{Rng, RngCore};
use rand_distr::Distribution;
use serde::{Deserialize, Serialize};

use crate::math::{argmax, argmax_by, kl_ucb_bernoulli, kl_ucb_gaussian};
use crate::policy::{Arm, ArmStats, Policy, Round};
use crate::posterior::{BetaArgmax, LazyDrawCounts};

fn check_arms(k: usize) -> Result<()> {
    if k == 0 {
        return Err(Error::invalid("number of arms", 0, "at least 1 arm"));
    }
    Ok(())
}

/// Explore-first (Slivkins Sec. 1.2, Algorithm 1.1): play every arm
/// `n_per_arm` times round-robin, then commit to the best empirical mean.
/// With `n_per_arm ~ (T / K)^{2/3} (log T)^{1/3}` regret is `O(T^{2/3})`;
/// a fixed exploration budget gives linear regret when it is too small.
#[derive(Debug, Clone, PartialEq)]
pub struct ExploreFirst {
    n_per_arm: usize,
    stats: ArmStats,
    committed: Option<Arm>,
}

impl ExploreFirst {
    /// `k` arms, `n_per_arm >= 1` exploration pulls each.
    pub fn new(k: usize, n_per_arm: usize) -> Result<Self> {
        check_arms(k)?;
        check::at_least("n_per_arm", n_per_arm, 1)?;
        Ok(ExploreFirst {
            n_per_arm,
            stats: ArmStats::new(k),
            committed: None,
        })
    }

    /// The tuning of Slivkins Thm 1.2: `N = (T / K)^{2/3} (ln T)^{1/3}`.
    pub fn tuned(k: usize, horizon: usize) -> Result<Self> {
        check_arms(k)?;
        check::at_least("horizon", horizon, 1)?;
        let t = horizon as f64;
        let n = ((t / k as f64).powf(2.0 / 3.0) * t.ln().max(1.0).powf(1.0 / 3.0)).ceil();
        Self::new(k, (n as usize).max(1))
    }
}

impl Policy for ExploreFirst {
    fn name(&self) -> String {
        format!("explore-first({})", self.n_per_arm)
    }
    fn n_arms(&self) -> usize {
        self.stats.pulls.len()
    }
    fn reset(&mut self) {
        self.stats.reset();
        self.committed = None;
    }
    fn select(&mut self, round: &Round<'_>, _rng: &mut dyn RngCore) -> Arm {
        let k = self.n_arms();
        if round.t <= self.n_per_arm * k {
            return (round.t - 1) % k;
        }
        *self
            .committed
            .get_or_insert_with(|| argmax_by(k, |a| self.stats.mean(a)))
    }
    fn update(&mut self, _round: &Round<'_>, arm: Arm, reward: f64) {
        if self.committed.is_none() {
            self.stats.add(arm, reward);
        }
    }
}

/// How epsilon-greedy's exploration probability evolves.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EpsilonSchedule {
    /// A constant `epsilon` (linear regret `~ epsilon T`).
    Fixed {
        /// Exploration probability in `[0, 1]`.
        epsilon: f64,
    },
    /// `epsilon_t = min(1, (K ln t / t)^{1/3})` (Slivkins Thm 1.6), regret
    /// `O(t^{2/3} (K log t)^{1/3})`.
    Decaying,
}

/// Epsilon-greedy (Slivkins Sec. 1.2, Algorithm 1.2): with probability
/// `epsilon_t` play a uniformly random arm, otherwise the best empirical mean.
/// Each arm is pulled once first so that every mean is defined.
#[derive(Debug, Clone, PartialEq)]
pub struct EpsilonGreedy {
    schedule: EpsilonSchedule,
    stats: ArmStats,
}

impl EpsilonGreedy {
    /// `k` arms with the given schedule.
    pub fn new(k: usize, schedule: EpsilonSchedule) -> Result<Self> {
        check_arms(k)?;
        if let EpsilonSchedule::Fixed { epsilon } = schedule {
            check::probability("epsilon", epsilon)?;
        }
        Ok(EpsilonGreedy {
            schedule,
            stats: ArmStats::new(k),
        })
    }

    /// The exploration probability at round `t`.
    pub fn epsilon(&self, t: usize) -> f64 {
        match self.schedule {
            EpsilonSchedule::Fixed { epsilon } => epsilon,
            EpsilonSchedule::Decaying => {
                let t = t.max(2) as f64;
                (self.n_arms() as f64 * t.ln() / t).powf(1.0 / 3.0).min(1.0)
            }
        }
    }
}

impl Policy for EpsilonGreedy {
    fn name(&self) -> String {
        match self.schedule {
            EpsilonSchedule::Fixed { epsilon } => format!("eps-greedy({epsilon})"),
            EpsilonSchedule::Decaying => "eps-greedy(decaying)".into(),
        }
    }
    fn n_arms(&self) -> usize {
        self.stats.pulls.len()
    }
    fn reset(&mut self) {
        self.stats.reset();
    }
    fn select(&mut self, round: &Round<'_>, rng: &mut dyn RngCore) -> Arm {
        if let Some(a) = self.stats.unpulled() {
            return a;
        }
        if rng.random::<f64>() < self.epsilon(round.t) {
            return rng.random_range(0..self.n_arms());
        }
        argmax_by(self.n_arms(), |a| self.stats.mean(a))
    }
    fn update(&mut self, _round: &Round<'_>, arm: Arm, reward: f64) {
        self.stats.add(arm, reward);
    }
}

/// Successive elimination (Slivkins Sec. 1.3.2): play the active arms
/// round-robin; after each phase deactivate every arm whose upper confidence
/// bound `mean + r` is below some arm's lower bound `mean - r`, with
/// `r = sqrt(2 ln T / n)`. Regret `O(sqrt(K T log T))` and
/// `O(sum_a log T / Delta_a)`.
#[derive(Debug, Clone, PartialEq)]
pub struct SuccessiveElimination {
    stats: ArmStats,
    active: Vec<bool>,
    queue: Vec<Arm>,
}

impl SuccessiveElimination {
    /// `k` arms.
    pub fn new(k: usize) -> Result<Self> {
        check_arms(k)?;
        Ok(SuccessiveElimination {
            stats: ArmStats::new(k),
            active: vec![true; k],
            queue: Vec::new(),
        })
    }

    /// Which arms are still active.
    pub fn active(&self) -> &[bool] {
        &self.active
    }

    fn eliminate(&mut self, horizon: usize) {
        let log_t = (horizon.max(2) as f64).ln();
        let radius = |n: u64| (2.0 * log_t / n.max(1) as f64).sqrt();
        let k = self.n_arms();
        let best_lcb = (0..k)
            .filter(|&a| self.active[a])
            .map(|a| self.stats.mean(a) - radius(self.stats.pulls[a]))
            .fold(f64::NEG_INFINITY, f64::max);
        for a in 0..k {
            if self.active[a] && self.stats.mean(a) + radius(self.stats.pulls[a]) < best_lcb {
                self.active[a] = false;
            }
        }
    }
}

impl Policy for SuccessiveElimination {
    fn name(&self) -> String {
        "successive-elimination".into()
    }
    fn n_arms(&self) -> usize {
        self.stats.pulls.len()
    }
    fn reset(&mut self) {
        self.stats.reset();
        self.active.iter_mut().for_each(|a| *a = true);
        self.queue.clear();
    }
    fn select(&mut self, round: &Round<'_>, _rng: &mut dyn RngCore) -> Arm {
        if self.queue.is_empty() {
            if self.stats.total() > 0 {
                self.eliminate(round.horizon);
            }
            // Reverse so that `pop` plays arms in increasing order.
            self.queue = (0..self.n_arms())
                .rev()
                .filter(|&a| self.active[a])
                .collect();
        }
        self.queue.pop().unwrap_or(0)
    }
    fn update(&mut self, _round: &Round<'_>, arm: Arm, reward: f64) {
        self.stats.add(arm, reward);
    }
}

/// UCB1 (Auer, Cesa-Bianchi & Fischer 2002, Fig. 1; Slivkins Sec. 1.3.3):
/// play `argmax mean_a + scale * sqrt(2 ln t / n_a)`. Regret
/// `O(sum_a log T / Delta_a)` for rewards in `[0, 1]` (`scale = 1`); use
/// `scale = sigma` for sigma-sub-Gaussian rewards.
#[derive(Debug, Clone, PartialEq)]
pub struct Ucb1 {
    scale: f64,
    stats: ArmStats,
    /// Structure of arrays for the round loop: each arm's empirical mean
    /// `sum / n` (recomputed only for the played arm), its pull count as
    /// `f64` (the exact index) and `1 / sqrt(n)` (the screening index of
    /// `select`, also recomputed only for the played arm).
    means: Vec<f64>,
    counts: Vec<f64>,
    inv_sqrt_counts: Vec<f64>,
    /// Arms not pulled yet (each is played once first).
    unpulled: usize,
}

impl Ucb1 {
    /// `k` arms, bonus scale 1.
    pub fn new(k: usize) -> Result<Self> {
        Self::with_scale(k, 1.0)
    }
    /// `k` arms, bonus scale `scale > 0`.
    pub fn with_scale(k: usize, scale: f64) -> Result<Self> {
        check_arms(k)?;
        check::positive("scale", scale)?;
        Ok(Ucb1 {
            scale,
            stats: ArmStats::new(k),
            means: vec![0.0; k],
            counts: vec![0.0; k],
            inv_sqrt_counts: vec![0.0; k],
            unpulled: k,
        })
    }
    /// The UCB1 index of `arm` at round `t` (infinite before its first pull).
    pub fn index(&self, arm: Arm, t: usize) -> f64 {
        let n = self.stats.pulls.get(arm).copied().unwrap_or(0);
        if n == 0 {
            return f64::INFINITY;
        }
        self.stats.mean(arm) + self.scale * (2.0 * (t.max(1) as f64).ln() / n as f64).sqrt()
    }
    /// The sufficient statistics (for tests and inspection).
    pub fn stats(&self) -> &ArmStats {
        &self.stats
    }

    /// The arg-max of the exact indices `mean + scale sqrt(two_ln_t / n)`
    /// (ties to the lowest arm, as `argmax_by`); every arm pulled. The
    /// indices of a block of arms are computed first, without branches, so
    /// the compiler vectorises the divisions and square roots.
    fn exact_argmax(&self, two_ln_t: f64) -> Arm {
        const BLOCK: usize = 16;
        let scale = self.scale;
        let mut best = 0;
        let mut best_value = f64::NEG_INFINITY;
        let mut index = [0.0f64; BLOCK];
        for (b, (means, counts)) in self
            .means
            .chunks(BLOCK)
            .zip(self.counts.chunks(BLOCK))
            .enumerate()
        {
            let index = &mut index[..means.len()];
            for ((v, &m), &n) in index.iter_mut().zip(means).zip(counts) {
                *v = m + scale * (two_ln_t / n).sqrt();
            }
            for (j, &v) in index.iter().enumerate() {
                if v > best_value {
                    best = b * BLOCK + j;
                    best_value = v;
                }
            }
        }
        best
    }

    /// The exact indices' arg-max when the screening indices
    /// `mean + bonus / sqrt(n)` (with `bonus = scale sqrt(2 ln t)`) prove it,
    /// else `None`. Each screening index is within
    /// `1e-15 b + 3e-16 |index|` of the exact one (`b <= bonus` the arm's
    /// bonus: a few rounding errors of the square roots, the division and
    /// the products), so a leader ahead of the runner-up by more than
    /// `1e-12 (|leader| + |runner-up| + 4 bonus)` leads the exact indices
    /// too, strictly (and `x + 1e-12 |x|` is increasing, so the runner-up
    /// bounds every other arm). NaNs never pass the test.
    #[inline]
    fn screened_argmax(&self, bonus: f64) -> Option<Arm> {
        let mut best = 0;
        let mut best_value = f64::NEG_INFINITY;
        let mut second = f64::NEG_INFINITY;
        for (i, (&m, &r)) in self.means.iter().zip(&self.inv_sqrt_counts).enumerate() {
            let v = m + bonus * r;
            if v > best_value {
                second = best_value;
                best = i;
                best_value = v;
            } else if v > second {
                second = v;
            }
        }
        let tolerance = 1e-12 * (best_value.abs() + second.abs() + 4.0 * bonus);
        (best_value - second > tolerance).then_some(best)
    }
}

impl Policy for Ucb1 {
    fn name(&self) -> String {
        "ucb1".into()
    }
    fn n_arms(&self) -> usize {
        self.stats.pulls.len()
    }
    fn reset(&mut self) {
        self.stats.reset();
        self.means.iter_mut().for_each(|m| *m = 0.0);
        self.counts.iter_mut().for_each(|n| *n = 0.0);
        self.inv_sqrt_counts.iter_mut().for_each(|r| *r = 0.0);
        self.unpulled = self.means.len();
    }
    #[inline]
    fn select(&mut self, round: &Round<'_>, _rng: &mut dyn RngCore) -> Arm {
        if self.unpulled > 0 {
            if let Some(a) = self.stats.unpulled() {
                return a;
            }
        }
        // `index` with `2 ln t` computed once per round instead of once per
        // arm and the mean `sum / n` cached at the update (the same numbers:
        // the same operations on the same values). The exact index needs a
        // division and a square root per arm, which the divider runs one
        // after the other; `select` first screens with
        // `mean + (scale sqrt(2 ln t)) (1 / sqrt(n))` (one square root per
        // round, `1 / sqrt(n)` cached at the update): it differs from the
        // exact index by a few rounding errors, so when its leader is ahead
        // by far more than that, the exact indices have the same arg-max and
        // the exact pass is skipped. Otherwise (near-ties, e.g. arms with
        // equal counts and sums) the exact pass decides, so the arm is always
        // the exact index's arg-max.
        let two_ln_t = 2.0 * (round.t.max(1) as f64).ln();
        let scale = self.scale;
        if let Some(arm) = self.screened_argmax(scale * two_ln_t.sqrt()) {
            return arm;
        }
        self.exact_argmax(two_ln_t)
    }
    #[inline]
    fn update(&mut self, _round: &Round<'_>, arm: Arm, reward: f64) {
        let before = self.stats.pulls.get(arm).copied();
        self.stats.add(arm, reward);
        if let Some(n) = before {
            if n == 0 {
                self.unpulled -= 1;
            }
            let n = self.stats.pulls[arm];
            self.counts[arm] = n as f64;
            self.inv_sqrt_counts[arm] = 1.0 / (n as f64).sqrt();
            self.means[arm] = self.stats.sums[arm] / n as f64;
        }
    }
    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}

/// The divergence used by KL-UCB.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum KlFamily {
    /// Bernoulli KL (rewards in `[0, 1]`); the index is found by bisection.
    Bernoulli,
    /// Gaussian KL with known variance (closed-form index).
    Gaussian {
        /// Reward variance (> 0).
        variance: f64,
    },
}

/// KL-UCB (Garivier & Cappé 2011; Slivkins Sec. 1.5 notes): play
/// `argmax max{q : n_a kl(mean_a, q) <= ln t + c ln ln t}`. Asymptotically
/// optimal for Bernoulli arms (Lai & Robbins constant). `c = 0` is the
/// recommended practical choice (the paper's analysis uses `c = 3`).
#[derive(Debug, Clone, PartialEq)]
pub struct KlUcb {
    family: KlFamily,
    c: f64,
    stats: ArmStats,
}

impl KlUcb {
    /// `k` arms, the given divergence, exploration constant `c >= 0`.
    pub fn new(k: usize, family: KlFamily, c: f64) -> Result<Self> {
        check_arms(k)?;
        if !(c >= 0.0 && c.is_finite()) {
            return Err(Error::invalid("c", c, "a finite number >= 0"));
        }
        if let KlFamily::Gaussian { variance } = family {
            check::positive("variance", variance)?;
        }
        Ok(KlUcb {
            family,
            c,
            stats: ArmStats::new(k),
        })
    }

    /// The exploration level `(ln t + c ln ln t) / n` of an arm pulled `n` times.
    pub fn level(&self, t: usize, n: u64) -> f64 {
        let t = t.max(1) as f64;
        let lnln = if t > std::f64::consts::E {
            t.ln().ln()
        } else {
            0.0
        };
        (t.ln() + self.c * lnln) / n.max(1) as f64
    }

    /// The KL-UCB index of `arm` at round `t` (infinite before its first pull).
    pub fn index(&self, arm: Arm, t: usize) -> f64 {
        let n = self.stats.pulls.get(arm).copied().unwrap_or(0);
        if n == 0 {
            return f64::INFINITY;
        }
        let mean = self.stats.mean(arm);
        let level = self.level(t, n);
        match self.family {
            KlFamily::Bernoulli => kl_ucb_bernoulli(mean, level, 1e-9),
            KlFamily::Gaussian { variance } => kl_ucb_gaussian(mean, level, variance),
        }
    }
}

impl Policy for KlUcb {
    fn name(&self) -> String {
        match self.family {
            KlFamily::Bernoulli => "kl-ucb".into(),
            KlFamily::Gaussian { .. } => "kl-ucb-gaussian".into(),
        }
    }
    fn n_arms(&self) -> usize {
        self.stats.pulls.len()
    }
    fn reset(&mut self) {
        self.stats.reset();
    }
    fn select(&mut self, round: &Round<'_>, _rng: &mut dyn RngCore) -> Arm {
        self.stats.select_by_index(|a| self.index(a, round.t))
    }
    fn update(&mut self, _round: &Round<'_>, arm: Arm, reward: f64) {
        self.stats.add(arm, reward);
    }
}

/// MOSS (Audibert & Bubeck 2009, "Minimax policies for adversarial and
/// stochastic bandits", eq. for MOSS): play
/// `argmax mean_a + sqrt(max(ln(T / (K n_a)), 0) / n_a)`; minimax-optimal
/// `O(sqrt(K T))` regret for rewards in `[0, 1]` with known horizon `T`.
#[derive(Debug, Clone, PartialEq)]
pub struct Moss {
    stats: ArmStats,
}

impl Moss {
    /// `k` arms (the horizon comes from the round).
    pub fn new(k: usize) -> Result<Self> {
        check_arms(k)?;
        Ok(Moss {
            stats: ArmStats::new(k),
        })
    }
    /// The MOSS index of `arm` for horizon `horizon`.
    pub fn index(&self, arm: Arm, horizon: usize) -> f64 {
        let n = self.stats.pulls.get(arm).copied().unwrap_or(0);
        if n == 0 {
            return f64::INFINITY;
        }
        let k = self.n_arms() as f64;
        let bonus = ((horizon as f64 / (k * n as f64)).ln().max(0.0) / n as f64).sqrt();
        self.stats.mean(arm) + bonus
    }
}

impl Policy for Moss {
    fn name(&self) -> String {
        "moss".into()
    }
    fn n_arms(&self) -> usize {
        self.stats.pulls.len()
    }
    fn reset(&mut self) {
        self.stats.reset();
    }
    fn select(&mut self, round: &Round<'_>, _rng: &mut dyn RngCore) -> Arm {
        self.stats.select_by_index(|a| self.index(a, round.horizon))
    }
    fn update(&mut self, _round: &Round<'_>, arm: Arm, reward: f64) {
        self.stats.add(arm, reward);
    }
}

/// Thompson sampling with Beta(1, 1) priors (Slivkins Ch. 3; Agrawal & Goyal
/// 2012, Algorithm 2 for rewards in `[0, 1]`: a reward `r` is turned into a
/// Bernoulli(`r`) success before the conjugate update, which is exact for
/// Bernoulli arms).
///
/// The arm played is the arg-max of one exact posterior draw per arm, but
/// by default arms far below the leader are resolved lazily
/// ([`BetaArgmax`]: a Chernoff bound and, rarely, the exact Beta tail rule
/// them out without drawing them), which gives the same distribution of
/// played arms at a fraction of the cost. [`BetaThompson::eager`] draws
/// every arm (`X / (X + Y)` from two Marsaglia-Tsang gamma variates), the
/// textbook sampler. The two consume random numbers differently, so the
/// same seed gives different (equally distributed) runs.
#[derive(Debug, Clone, PartialEq)]
pub struct BetaThompson {
    /// The per-arm posteriors (success and failure counts) and their draws.
    sampler: BetaArgmax,
    coin: f64,
}

impl BetaThompson {
    /// `k` arms with uniform priors, lazy arg-max draws.
    pub fn new(k: usize) -> Result<Self> {
        Self::with_sampler(k, true)
    }

    /// `k` arms with uniform priors, every arm drawn every round.
    pub fn eager(k: usize) -> Result<Self> {
        Self::with_sampler(k, false)
    }

    fn with_sampler(k: usize, lazy: bool) -> Result<Self> {
        check_arms(k)?;
        Ok(BetaThompson {
            sampler: BetaArgmax::new(k, lazy),
            coin: 0.5,
        })
    }

    /// How the arms were resolved since the last reset (lazy sampler
    /// diagnostics).
    pub fn draw_counts(&self) -> LazyDrawCounts {
        self.sampler.counts()
    }
}

impl Policy for BetaThompson {
    fn name(&self) -> String {
        if self.sampler.is_lazy() {
            "thompson-beta".into()
        } else {
            "thompson-beta-eager".into()
        }
    }
    fn n_arms(&self) -> usize {
        self.sampler.n_arms()
    }
    fn reset(&mut self) {
        self.sampler.reset();
    }
    fn select(&mut self, _round: &Round<'_>, rng: &mut dyn RngCore) -> Arm {
        // One number from the policy's stream seeds this round's draws; the
        // samplers then run on an inlined generator instead of a dynamic
        // call per variate (see `SplitMix64`).
        let mut round_rng = SplitMix64::new(rng.next_u64());
        let arm = self.sampler.draw_argmax(&mut round_rng);
        self.coin = round_rng.random::<f64>();
        arm
    }
    fn update(&mut self, _round: &Round<'_>, arm: Arm, reward: f64) {
        // Binarisation (Agrawal & Goyal 2012): success with probability
        // `reward`, using the coin drawn in `select` from the policy's stream.
        // An out-of-range arm is ignored.
        self.sampler.record(arm, self.coin < reward);
    }
    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}

/// Gaussian Thompson sampling (Agrawal & Goyal 2013, "Further optimal regret
/// bounds for Thompson sampling", Algorithm 2): sample
/// `theta_a ~ N(mu_a, sigma^2 / (n_a + 1))` with `mu_a = sum_a / (n_a + 1)`
/// and play the argmax.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianThompson {
    sigma: f64,
    stats: ArmStats,
    samples: Vec<f64>,
}

impl GaussianThompson {
    /// `k` arms, posterior scale `sigma > 0` (1 in the paper).
    pub fn new(k: usize, sigma: f64) -> Result<Self> {
        check_arms(k)?;
        check::positive("sigma", sigma)?;
        Ok(GaussianThompson {
            sigma,
            stats: ArmStats::new(k),
            samples: vec![0.0; k],
        })
    }
}

impl Policy for GaussianThompson {
    fn name(&self) -> String {
        "thompson-gaussian".into()
    }
    fn n_arms(&self) -> usize {
        self.stats.pulls.len()
    }
    fn reset(&mut self) {
        self.stats.reset();
    }
    fn select(&mut self, _round: &Round<'_>, rng: &mut dyn RngCore) -> Arm {
        for a in 0..self.n_arms() {
            let n1 = self.stats.pulls[a] as f64 + 1.0;
            let mu = self.stats.sums[a] / n1;
            let z: f64 = rand_distr::StandardNormal.sample(rng);
            self.samples[a] = mu + self.sigma / n1.sqrt() * z;
        }
        argmax(&self.samples)
    }
    fn update(&mut self, _round: &Round<'_>, arm: Arm, reward: f64) {
        self.stats.add(arm, reward);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn ucb1_screening_returns_the_exact_argmax() {
        // Arms with equal means and 0/1 rewards often have equal counts and
        // sums (exact ties, which the screening must hand to the exact
        // pass); the scales move the bonus against the means.
        let means = [0.5, 0.5, 0.5, 0.6, 0.4, 0.6];
        for scale in [1.0, 0.3, 25.0] {
            let mut p = Ucb1::with_scale(means.len(), scale).unwrap();
            let mut rng = duality_core::seed::DualityRng::seed_from_u64(3);
            let (mut screened, mut exact) = (0, 0);
            for t in 1..=20_000 {
                let round = Round::new(t, 20_000);
                let arm = p.select(&round, &mut rng);
                if p.unpulled == 0 {
                    let two_ln_t = 2.0 * (t as f64).ln();
                    assert_eq!(arm, p.exact_argmax(two_ln_t), "scale {scale} round {t}");
                    match p.screened_argmax(scale * two_ln_t.sqrt()) {
                        Some(a) => {
                            assert_eq!(a, arm);
                            screened += 1;
                        }
                        None => exact += 1,
                    }
                }
                let reward = f64::from(u8::from(rng.random::<f64>() < means[arm]));
                p.update(&round, arm, reward);
            }
            assert!(screened > 15_000 && exact > 0, "{screened} {exact}");
        }
    }

    #[test]
    fn ucb1_select_is_the_argmax_of_its_index() {
        let mut rng = duality_core::seed::DualityRng::seed_from_u64(9);
        let means = [0.2, 0.5, 0.45, 0.7, 0.69];
        let mut p = Ucb1::with_scale(5, 0.8).unwrap();
        for t in 1..=3_000 {
            let round = Round::new(t, 3_000);
            let arm = p.select(&round, &mut rng);
            let expect = p.stats.select_by_index(|a| p.index(a, t));
            assert_eq!(arm, expect, "round {t}");
            let reward = if rng.random::<f64>() < means[arm] {
                1.0
            } else {
                0.0
            };
            p.update(&round, arm, reward);
        }
    }
}
