//! Adversarial bandit policies (Slivkins chapters 5-6; Lattimore &
//! Szepesvári, *Bandit Algorithms*, chapters 11 and 18; Zimmert & Seldin
//! 2021). They work with losses `l = 1 - reward` in `[0, 1]` and keep their
//! cumulative (estimated) losses, turning them into probabilities in log
//! space (stable softmax) every round.

use duality_core::{check, Error, Result};
use rand::RngCore;

use crate::math::{sample_categorical, softmax_into};
use crate::policy::{Arm, Feedback, Policy, Round};

fn check_arms(k: usize) -> Result<()> {
    if k == 0 {
        return Err(Error::invalid("number of arms", 0, "at least 1 arm"));
    }
    Ok(())
}

fn check_rate(name: &str, rate: Option<f64>) -> Result<()> {
    if let Some(r) = rate {
        check::positive(name, r)?;
    }
    Ok(())
}

/// Exponential weights over cumulative losses: `p = softmax(-eta * L)`.
fn exp_weights(cum_losses: &[f64], eta: f64, out: &mut [f64]) {
    let logits: Vec<f64> = cum_losses.iter().map(|l| -eta * l).collect();
    softmax_into(&logits, out);
}

/// Hedge / exponential weights with full feedback (Freund & Schapire 1997;
/// Slivkins Sec. 5.3, Algorithm 5.2): `p_t(a) ∝ exp(-eta L_{t-1}(a))` over
/// cumulative true losses. Default `eta = sqrt(8 ln K / T)` gives regret
/// `<= sqrt(T ln K / 2)` (Cesa-Bianchi & Lugosi 2006, Thm 2.2).
#[derive(Debug, Clone, PartialEq)]
pub struct Hedge {
    eta: Option<f64>,
    cum_losses: Vec<f64>,
    probs: Vec<f64>,
}

impl Hedge {
    /// `k` arms; `eta = None` uses the horizon-tuned rate.
    pub fn new(k: usize, eta: Option<f64>) -> Result<Self> {
        check_arms(k)?;
        check_rate("eta", eta)?;
        Ok(Hedge {
            eta,
            cum_losses: vec![0.0; k],
            probs: vec![1.0 / k as f64; k],
        })
    }
    fn rate(&self, horizon: usize) -> f64 {
        self.eta.unwrap_or_else(|| {
            (8.0 * (self.n_arms().max(2) as f64).ln() / horizon.max(1) as f64).sqrt()
        })
    }
}

impl Policy for Hedge {
    fn name(&self) -> String {
        "hedge".into()
    }
    fn n_arms(&self) -> usize {
        self.cum_losses.len()
    }
    fn reset(&mut self) {
        self.cum_losses.iter_mut().for_each(|l| *l = 0.0);
    }
    fn select(&mut self, round: &Round<'_>, rng: &mut dyn RngCore) -> Arm {
        exp_weights(&self.cum_losses, self.rate(round.horizon), &mut self.probs);
        sample_categorical(&self.probs, rng)
    }
    fn update(&mut self, _round: &Round<'_>, _arm: Arm, _reward: f64) {
        // Hedge needs every arm's loss; see `update_full`.
    }
    fn feedback(&self) -> Feedback {
        Feedback::Full
    }
    fn update_full(&mut self, _round: &Round<'_>, _arm: Arm, rewards: &[f64]) {
        for (l, r) in self.cum_losses.iter_mut().zip(rewards) {
            *l += 1.0 - r;
        }
    }
    fn probabilities(&self, round: &Round<'_>) -> Option<Vec<f64>> {
        let mut p = vec![0.0; self.n_arms()];
        exp_weights(&self.cum_losses, self.rate(round.horizon), &mut p);
        Some(p)
    }
}

/// Exp3 (Auer, Cesa-Bianchi, Freund & Schapire 2002; in the loss-based form
/// of Lattimore & Szepesvári Sec. 11.3, eq. (11.6)): play
/// `p_t = (1 - gamma) softmax(-eta L̂_{t-1}) + gamma / K` and update the
/// played arm with the importance-weighted loss `l / p_t(a)`. Default
/// `eta = sqrt(2 ln K / (K T))`, `gamma = 0` (Thm 11.2: regret
/// `<= sqrt(2 K T ln K)`).
#[derive(Debug, Clone, PartialEq)]
pub struct Exp3 {
    eta: Option<f64>,
    gamma: f64,
    cum_losses: Vec<f64>,
    probs: Vec<f64>,
}

impl Exp3 {
    /// `k` arms, learning rate (`None`: tuned to the horizon), uniform
    /// mixing `gamma` in `[0, 1]`.
    pub fn new(k: usize, eta: Option<f64>, gamma: f64) -> Result<Self> {
        check_arms(k)?;
        check_rate("eta", eta)?;
        check::probability("gamma", gamma)?;
        Ok(Exp3 {
            eta,
            gamma,
            cum_losses: vec![0.0; k],
            probs: vec![1.0 / k as f64; k],
        })
    }
    fn rate(&self, horizon: usize) -> f64 {
        self.eta.unwrap_or_else(|| {
            let k = self.n_arms() as f64;
            (2.0 * k.max(2.0).ln() / (k * horizon.max(1) as f64)).sqrt()
        })
    }
    fn compute_probs(&self, horizon: usize, out: &mut [f64]) {
        exp_weights(&self.cum_losses, self.rate(horizon), out);
        let k = out.len() as f64;
        for p in out.iter_mut() {
            *p = (1.0 - self.gamma) * *p + self.gamma / k;
        }
    }
    /// Cumulative importance-weighted loss estimates `L̂`.
    pub fn estimated_losses(&self) -> &[f64] {
        &self.cum_losses
    }
}

impl Policy for Exp3 {
    fn name(&self) -> String {
        "exp3".into()
    }
    fn n_arms(&self) -> usize {
        self.cum_losses.len()
    }
    fn reset(&mut self) {
        self.cum_losses.iter_mut().for_each(|l| *l = 0.0);
    }
    fn select(&mut self, round: &Round<'_>, rng: &mut dyn RngCore) -> Arm {
        let mut p = std::mem::take(&mut self.probs);
        self.compute_probs(round.horizon, &mut p);
        self.probs = p;
        sample_categorical(&self.probs, rng)
    }
    fn update(&mut self, _round: &Round<'_>, arm: Arm, reward: f64) {
        if let (Some(l), Some(&p)) = (self.cum_losses.get_mut(arm), self.probs.get(arm)) {
            if p > 0.0 {
                *l += (1.0 - reward) / p;
            }
        }
    }
    fn probabilities(&self, round: &Round<'_>) -> Option<Vec<f64>> {
        let mut p = vec![0.0; self.n_arms()];
        self.compute_probs(round.horizon, &mut p);
        Some(p)
    }
}

/// The rates of one [`Exp3P`] run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exp3PRates {
    /// Learning rate `eta` of the exponential weights.
    pub eta: f64,
    /// Uniform exploration `gamma`: every arm keeps probability `>= gamma / K`.
    pub gamma: f64,
    /// Bias `beta` added to every arm's gain estimate (the optimism that
    /// turns the expected bound into a high-probability one).
    pub beta: f64,
}

/// Exp3.P (Auer, Cesa-Bianchi, Freund & Schapire 2002, "The nonstochastic
/// multiarmed bandit problem", Fig. 3 and Thm 6.3; in the form of Bubeck &
/// Cesa-Bianchi 2012, "Regret analysis of stochastic and nonstochastic
/// multi-armed bandit problems", Fig. 3.1 and Thm 3.2). With gains
/// `g = reward` in `[0, 1]`:
///
/// - play `p_t(i) = (1 - gamma) exp(eta G̃_{t-1}(i)) / sum_k exp(eta G̃_{t-1}(k)) + gamma / K`;
/// - every arm gets the biased estimate
///   `g̃_t(i) = (g_t(i) 1{I_t = i} + beta) / p_t(i)`, `G̃_t = sum_{s <= t} g̃_s`.
///
/// [`Exp3P::new`] tunes the rates to the horizon `n` and a confidence
/// `delta` as in Thm 3.2: `beta = sqrt(ln(K / delta) / (n K))`,
/// `eta = 0.95 sqrt(ln K / (n K))`, `gamma = 1.05 sqrt(K ln K / n)`; then,
/// with probability at least `1 - delta`, the realised regret against the
/// best fixed arm is at most `5.15 sqrt(n K ln(K / delta))` for any
/// oblivious or adaptive sequence of gains. `gamma` is capped at 1 (uniform
/// play): the theorem's `gamma` exceeds 1 only when `n < 1.1025 K ln K`,
/// where the bound exceeds `n` and holds trivially.
///
/// ```
/// use duality_bandits::prelude::*;
///
/// let p = Exp3P::new(5, 0.05).unwrap();
/// let rates = p.rates(10_000);
/// assert!((rates.gamma - 1.05 * (5.0 * 5f64.ln() / 1e4).sqrt()).abs() < 1e-15);
/// assert_eq!(Exp3P::high_probability_bound(10_000, 5, 0.05).unwrap().round(), 2_471.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Exp3P {
    delta: f64,
    eta: Option<f64>,
    gamma: Option<f64>,
    beta: Option<f64>,
    cum_gains: Vec<f64>,
    probs: Vec<f64>,
    logits: Vec<f64>,
}

impl Exp3P {
    /// `k` arms, rates tuned to the horizon for confidence `delta` in `(0, 1)`.
    pub fn new(k: usize, delta: f64) -> Result<Self> {
        check_arms(k)?;
        check::open_unit("delta", delta)?;
        Ok(Exp3P {
            delta,
            eta: None,
            gamma: None,
            beta: None,
            cum_gains: vec![0.0; k],
            probs: vec![1.0 / k as f64; k],
            logits: vec![0.0; k],
        })
    }

    /// Fixes some rates (the others stay tuned): `eta > 0`, `gamma` in
    /// `(0, 1]`, `beta >= 0` and finite.
    pub fn with_rates(
        mut self,
        eta: Option<f64>,
        gamma: Option<f64>,
        beta: Option<f64>,
    ) -> Result<Self> {
        check_rate("eta", eta)?;
        if let Some(g) = gamma {
            if !(g > 0.0 && g <= 1.0) {
                return Err(Error::invalid("gamma", g, "an exploration rate in (0, 1]"));
            }
        }
        if let Some(b) = beta {
            if !(b.is_finite() && b >= 0.0) {
                return Err(Error::invalid("beta", b, "a finite bias >= 0"));
            }
        }
        self.eta = eta.or(self.eta);
        self.gamma = gamma.or(self.gamma);
        self.beta = beta.or(self.beta);
        Ok(self)
    }

    /// The rates used for horizon `horizon` (Bubeck & Cesa-Bianchi Thm 3.2
    /// for those not fixed).
    pub fn rates(&self, horizon: usize) -> Exp3PRates {
        let k = self.cum_gains.len() as f64;
        let n = horizon.max(1) as f64;
        let ln_k = k.ln();
        Exp3PRates {
            eta: self.eta.unwrap_or_else(|| 0.95 * (ln_k / (n * k)).sqrt()),
            gamma: self
                .gamma
                .unwrap_or_else(|| (1.05 * (k * ln_k / n).sqrt()).min(1.0)),
            beta: self
                .beta
                .unwrap_or_else(|| ((k / self.delta).ln() / (n * k)).sqrt()),
        }
    }

    /// Thm 3.2's bound `5.15 sqrt(n K ln(K / delta))` on the realised
    /// regret, holding with probability `>= 1 - delta` for the tuned rates.
    pub fn high_probability_bound(horizon: usize, k: usize, delta: f64) -> Result<f64> {
        check::at_least("horizon", horizon, 1)?;
        check_arms(k)?;
        check::open_unit("delta", delta)?;
        let (n, k) = (horizon as f64, k as f64);
        Ok(5.15 * (n * k * (k / delta).ln()).sqrt())
    }

    fn compute_probs(&mut self, horizon: usize) {
        let Exp3PRates { eta, gamma, .. } = self.rates(horizon);
        for (l, g) in self.logits.iter_mut().zip(&self.cum_gains) {
            *l = eta * g;
        }
        softmax_into(&self.logits, &mut self.probs);
        let k = self.probs.len() as f64;
        for p in self.probs.iter_mut() {
            *p = (1.0 - gamma) * *p + gamma / k;
        }
    }

    /// Cumulative biased gain estimates `G̃`.
    pub fn estimated_gains(&self) -> &[f64] {
        &self.cum_gains
    }
}

impl Policy for Exp3P {
    fn name(&self) -> String {
        "exp3-p".into()
    }
    fn n_arms(&self) -> usize {
        self.cum_gains.len()
    }
    fn reset(&mut self) {
        self.cum_gains.iter_mut().for_each(|g| *g = 0.0);
    }
    fn select(&mut self, round: &Round<'_>, rng: &mut dyn RngCore) -> Arm {
        self.compute_probs(round.horizon);
        sample_categorical(&self.probs, rng)
    }
    fn update(&mut self, round: &Round<'_>, arm: Arm, reward: f64) {
        // `probs` are the probabilities this round was played with.
        let beta = self.rates(round.horizon).beta;
        for (i, (g, &p)) in self.cum_gains.iter_mut().zip(&self.probs).enumerate() {
            if p > 0.0 {
                let played = if i == arm { reward } else { 0.0 };
                *g += (played + beta) / p;
            }
        }
    }
    fn probabilities(&self, round: &Round<'_>) -> Option<Vec<f64>> {
        let mut copy = self.clone();
        copy.compute_probs(round.horizon);
        Some(copy.probs)
    }
}

/// Exp3-IX (Neu 2015, "Explore no more"; Lattimore & Szepesvári Sec. 12.1):
/// exponential weights over implicit-exploration estimates
/// `l / (p_t(a) + gamma)`. Defaults `eta = sqrt(2 ln K / (K T))`,
/// `gamma = eta / 2`; regret is bounded with high probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Exp3Ix {
    eta: Option<f64>,
    gamma: Option<f64>,
    cum_losses: Vec<f64>,
    probs: Vec<f64>,
}

impl Exp3Ix {
    /// `k` arms; `None` rates are tuned to the horizon.
    pub fn new(k: usize, eta: Option<f64>, gamma: Option<f64>) -> Result<Self> {
        check_arms(k)?;
        check_rate("eta", eta)?;
        check_rate("gamma", gamma)?;
        Ok(Exp3Ix {
            eta,
            gamma,
            cum_losses: vec![0.0; k],
            probs: vec![1.0 / k as f64; k],
        })
    }
    fn rates(&self, horizon: usize) -> (f64, f64) {
        let k = self.n_arms() as f64;
        let eta = self
            .eta
            .unwrap_or_else(|| (2.0 * k.max(2.0).ln() / (k * horizon.max(1) as f64)).sqrt());
        (eta, self.gamma.unwrap_or(eta / 2.0))
    }
}

impl Policy for Exp3Ix {
    fn name(&self) -> String {
        "exp3-ix".into()
    }
    fn n_arms(&self) -> usize {
        self.cum_losses.len()
    }
    fn reset(&mut self) {
        self.cum_losses.iter_mut().for_each(|l| *l = 0.0);
    }
    fn select(&mut self, round: &Round<'_>, rng: &mut dyn RngCore) -> Arm {
        let (eta, _) = self.rates(round.horizon);
        let mut p = std::mem::take(&mut self.probs);
        exp_weights(&self.cum_losses, eta, &mut p);
        self.probs = p;
        sample_categorical(&self.probs, rng)
    }
    fn update(&mut self, round: &Round<'_>, arm: Arm, reward: f64) {
        let (_, gamma) = self.rates(round.horizon);
        if let (Some(l), Some(&p)) = (self.cum_losses.get_mut(arm), self.probs.get(arm)) {
            *l += (1.0 - reward) / (p + gamma);
        }
    }
    fn probabilities(&self, round: &Round<'_>) -> Option<Vec<f64>> {
        let mut p = vec![0.0; self.n_arms()];
        exp_weights(&self.cum_losses, self.rates(round.horizon).0, &mut p);
        Some(p)
    }
}

/// Exp4 with expert advice (Auer et al. 2002; Lattimore & Szepesvári
/// Sec. 18.3, Algorithm 11): exponential weights `Q` over `N` experts; the
/// arm distribution is `p = sum_j Q_j xi_j` (mixed with `gamma / K`); the
/// loss estimate `l̂(a) = l 1{a = A_t} / p(a)` is passed to each expert as
/// `ŷ_j = <xi_j, l̂>`. Default `eta = sqrt(2 ln N / (K T))` (Thm 18.1).
///
/// The advice comes from [`Context::advice`](crate::policy::Context): one
/// probability vector over arms per expert. A round without valid advice
/// (missing, wrong shape) makes every expert uniform.
#[derive(Debug, Clone, PartialEq)]
pub struct Exp4 {
    k: usize,
    eta: Option<f64>,
    gamma: f64,
    cum_losses: Vec<f64>,
    expert_probs: Vec<f64>,
    advice: Vec<Vec<f64>>,
    probs: Vec<f64>,
}

impl Exp4 {
    /// `k` arms, `n_experts` experts, learning rate, mixing `gamma`.
    pub fn new(k: usize, n_experts: usize, eta: Option<f64>, gamma: f64) -> Result<Self> {
        check_arms(k)?;
        check::at_least("number of experts", n_experts, 1)?;
        check_rate("eta", eta)?;
        check::probability("gamma", gamma)?;
        Ok(Exp4 {
            k,
            eta,
            gamma,
            cum_losses: vec![0.0; n_experts],
            expert_probs: vec![1.0 / n_experts as f64; n_experts],
            advice: vec![vec![1.0 / k as f64; k]; n_experts],
            probs: vec![1.0 / k as f64; k],
        })
    }
    fn rate(&self, horizon: usize) -> f64 {
        self.eta.unwrap_or_else(|| {
            let n = self.cum_losses.len() as f64;
            (2.0 * n.max(2.0).ln() / (self.k as f64 * horizon.max(1) as f64)).sqrt()
        })
    }
    fn load_advice(&mut self, round: &Round<'_>) {
        let valid = round.context.is_some_and(|c| {
            c.advice.len() == self.cum_losses.len()
                && c.advice
                    .iter()
                    .all(|xi| xi.len() == self.k && check::distribution("advice", xi, 1e-6).is_ok())
        });
        for (j, slot) in self.advice.iter_mut().enumerate() {
            match round.context {
                Some(c) if valid => slot.copy_from_slice(&c.advice[j]),
                _ => slot.iter_mut().for_each(|p| *p = 1.0 / self.k as f64),
            }
        }
    }
    /// The experts' current weights `Q`.
    pub fn expert_weights(&self) -> &[f64] {
        &self.expert_probs
    }
}

impl Policy for Exp4 {
    fn name(&self) -> String {
        "exp4".into()
    }
    fn n_arms(&self) -> usize {
        self.k
    }
    fn reset(&mut self) {
        self.cum_losses.iter_mut().for_each(|l| *l = 0.0);
    }
    fn select(&mut self, round: &Round<'_>, rng: &mut dyn RngCore) -> Arm {
        self.load_advice(round);
        let mut q = std::mem::take(&mut self.expert_probs);
        exp_weights(&self.cum_losses, self.rate(round.horizon), &mut q);
        self.expert_probs = q;
        let k = self.k as f64;
        for a in 0..self.k {
            let mix: f64 = self
                .expert_probs
                .iter()
                .zip(&self.advice)
                .map(|(qj, xi)| qj * xi[a])
                .sum();
            self.probs[a] = (1.0 - self.gamma) * mix + self.gamma / k;
        }
        sample_categorical(&self.probs, rng)
    }
    fn update(&mut self, _round: &Round<'_>, arm: Arm, reward: f64) {
        let Some(&p) = self.probs.get(arm) else {
            return;
        };
        if p <= 0.0 {
            return;
        }
        let loss_hat = (1.0 - reward) / p;
        for (l, xi) in self.cum_losses.iter_mut().zip(&self.advice) {
            *l += xi[arm] * loss_hat;
        }
    }
    fn probabilities(&self, _round: &Round<'_>) -> Option<Vec<f64>> {
        Some(self.probs.clone())
    }
}

/// Which loss estimator Tsallis-INF uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TsallisEstimator {
    /// Importance weighting `l 1{a = A_t} / p(a)`.
    ImportanceWeighted,
    /// Reduced variance (Zimmert & Seldin 2021, eq. (6)):
    /// `(l - B) 1{a = A_t} / p(a) + B` with `B = 1/2 * 1{p(a) >= eta_t^2}`.
    ReducedVariance,
}

/// 1/2-Tsallis-INF (Zimmert & Seldin 2021, "Tsallis-INF: an optimal
/// algorithm for stochastic and adversarial bandits", JMLR, Algorithm 1 with
/// alpha = 1/2): `p_t(a) = 4 (eta_t (L̂(a) - x))^{-2}` where the normaliser
/// `x < min_a L̂(a)` makes the probabilities sum to one (found by Newton's
/// method, their Algorithm 2, safeguarded by bisection), and
/// `eta_t = eta_scale / sqrt(t)` (`eta_scale = 2`, Thm 1). Best of both
/// worlds: `O(sqrt(K T))` adversarial and `O(sum log T / Delta)` stochastic
/// regret.
#[derive(Debug, Clone, PartialEq)]
pub struct TsallisInf {
    eta_scale: f64,
    estimator: TsallisEstimator,
    cum_losses: Vec<f64>,
    probs: Vec<f64>,
    eta_t: f64,
}

impl TsallisInf {
    /// `k` arms, `eta_t = eta_scale / sqrt(t)`, the given loss estimator.
    pub fn new(k: usize, eta_scale: f64, estimator: TsallisEstimator) -> Result<Self> {
        check_arms(k)?;
        check::positive("eta_scale", eta_scale)?;
        Ok(TsallisInf {
            eta_scale,
            estimator,
            cum_losses: vec![0.0; k],
            probs: vec![1.0 / k as f64; k],
            eta_t: eta_scale,
        })
    }

    /// The paper's defaults: `eta_scale = 2`, reduced-variance estimator.
    pub fn with_defaults(k: usize) -> Result<Self> {
        Self::new(k, 2.0, TsallisEstimator::ReducedVariance)
    }

    /// Solves `sum_a 4 (eta (L(a) - x))^{-2} = 1` for `x < min L` and writes
    /// the probabilities into `out`; returns `x`.
    pub fn tsallis_probabilities(cum_losses: &[f64], eta: f64, out: &mut [f64]) -> f64 {
        let k = cum_losses.len() as f64;
        let min_l = cum_losses.iter().copied().fold(f64::INFINITY, f64::min);
        let weights = |x: f64, out: &mut [f64]| -> (f64, f64) {
            let mut s = 0.0;
            let mut s32 = 0.0;
            for (o, &l) in out.iter_mut().zip(cum_losses) {
                let d = eta * (l - x);
                let w = 4.0 / (d * d);
                *o = w;
                s += w;
                s32 += w * w.sqrt();
            }
            (s, s32)
        };
        // Bracket: at x = min - 2/eta the best arm alone has weight 1 (sum >= 1);
        // at x = min - 2 sqrt(K)/eta every weight is <= 1/K (sum <= 1).
        let mut hi = min_l - 2.0 / eta;
        let mut lo = min_l - 2.0 * k.sqrt() / eta;
        let mut x = hi;
        for _ in 0..100 {
            let (s, s32) = weights(x, out);
            let f = s - 1.0;
            if f.abs() < 1e-13 {
                break;
            }
            if f > 0.0 {
                hi = x;
            } else {
                lo = x;
            }
            // Newton step (Algorithm 2): f'(x) = eta * sum w^{3/2}.
            let mut next = x - f / (eta * s32);
            if !(next > lo && next < hi) {
                next = 0.5 * (lo + hi);
            }
            if (next - x).abs() <= 1e-15 * (1.0 + x.abs()) {
                x = next;
                break;
            }
            x = next;
        }
        let (s, _) = weights(x, out);
        for o in out.iter_mut() {
            *o /= s;
        }
        x
    }
}

impl Policy for TsallisInf {
    fn name(&self) -> String {
        "tsallis-inf".into()
    }
    fn n_arms(&self) -> usize {
        self.cum_losses.len()
    }
    fn reset(&mut self) {
        self.cum_losses.iter_mut().for_each(|l| *l = 0.0);
    }
    fn select(&mut self, round: &Round<'_>, rng: &mut dyn RngCore) -> Arm {
        self.eta_t = self.eta_scale / (round.t.max(1) as f64).sqrt();
        let mut p = std::mem::take(&mut self.probs);
        Self::tsallis_probabilities(&self.cum_losses, self.eta_t, &mut p);
        self.probs = p;
        sample_categorical(&self.probs, rng)
    }
    fn update(&mut self, _round: &Round<'_>, arm: Arm, reward: f64) {
        let loss = 1.0 - reward;
        match self.estimator {
            TsallisEstimator::ImportanceWeighted => {
                if let (Some(l), Some(&p)) = (self.cum_losses.get_mut(arm), self.probs.get(arm)) {
                    if p > 0.0 {
                        *l += loss / p;
                    }
                }
            }
            TsallisEstimator::ReducedVariance => {
                let eta2 = self.eta_t * self.eta_t;
                for (a, (l, &p)) in self.cum_losses.iter_mut().zip(&self.probs).enumerate() {
                    let b = if p >= eta2 { 0.5 } else { 0.0 };
                    let played = if a == arm && p > 0.0 {
                        (loss - b) / p
                    } else {
                        0.0
                    };
                    *l += played + b;
                }
            }
        }
    }
    fn probabilities(&self, round: &Round<'_>) -> Option<Vec<f64>> {
        let mut p = vec![0.0; self.n_arms()];
        let eta = self.eta_scale / (round.t.max(1) as f64).sqrt();
        Self::tsallis_probabilities(&self.cum_losses, eta, &mut p);
        Some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use duality_core::seed::Seeder;

    #[test]
    fn exp3_probabilities_follow_the_update() {
        // K = 3, eta = 0.5, gamma = 0.1: after playing arm 0 with p = 1/3 and
        // loss 1 (reward 0), L̂ = (3, 0, 0).
        let mut p = Exp3::new(3, Some(0.5), 0.1).unwrap();
        let round = Round::new(1, 10);
        let mut rng = Seeder::new(0).rng(0);
        p.select(&round, &mut rng);
        p.update(&round, 0, 0.0);
        let probs = p.probabilities(&Round::new(2, 10)).unwrap();
        let z = (-1.5f64).exp() + 2.0;
        let expect0 = 0.9 * (-1.5f64).exp() / z + 0.1 / 3.0;
        assert_relative_eq!(probs[0], expect0, epsilon = 1e-14);
        assert_relative_eq!(probs[1], 0.9 / z + 0.1 / 3.0, epsilon = 1e-14);
        assert_relative_eq!(probs.iter().sum::<f64>(), 1.0, epsilon = 1e-14);
    }

    #[test]
    fn tsallis_normalisation_solves_the_equation() {
        let losses = [3.0, 0.5, 10.0, 0.0, 1.2];
        let mut p = [0.0; 5];
        let eta = 0.3;
        let x = TsallisInf::tsallis_probabilities(&losses, eta, &mut p);
        let raw: f64 = losses.iter().map(|l| 4.0 / (eta * (l - x)).powi(2)).sum();
        assert_relative_eq!(raw, 1.0, epsilon = 1e-10);
        assert!(x < 0.0);
        assert!(p[3] > p[1] && p[1] > p[4] && p[4] > p[0] && p[0] > p[2]);
        // Equal losses give the uniform distribution.
        let mut q = [0.0; 4];
        TsallisInf::tsallis_probabilities(&[2.0; 4], 1.0, &mut q);
        for v in q {
            assert_relative_eq!(v, 0.25, epsilon = 1e-12);
        }
    }

    #[test]
    fn exp3p_probabilities_follow_the_update_and_keep_the_gamma_floor() {
        // K = 3, eta = 0.5, gamma = 0.3, beta = 0.1: after playing arm 0
        // with p = 1/3 and reward 1, G̃ = ((1 + 0.1) 3, 0.1 * 3, 0.1 * 3).
        let mut p = Exp3P::new(3, 0.05)
            .unwrap()
            .with_rates(Some(0.5), Some(0.3), Some(0.1))
            .unwrap();
        let round = Round::new(1, 10);
        let mut rng = Seeder::new(0).rng(0);
        p.select(&round, &mut rng);
        p.update(&round, 0, 1.0);
        assert_relative_eq!(p.estimated_gains()[0], 3.3, epsilon = 1e-14);
        assert_relative_eq!(p.estimated_gains()[1], 0.3, epsilon = 1e-14);
        let probs = p.probabilities(&Round::new(2, 10)).unwrap();
        let z = 1.65f64.exp() + 2.0 * 0.15f64.exp();
        assert_relative_eq!(probs[0], 0.7 * 1.65f64.exp() / z + 0.1, epsilon = 1e-14);
        assert_relative_eq!(probs[1], 0.7 * 0.15f64.exp() / z + 0.1, epsilon = 1e-14);
        // Over a long random play the distribution sums to 1 and every arm
        // keeps at least gamma / K.
        let mut q = Exp3P::new(4, 0.1).unwrap();
        let horizon = 5000;
        let floor = q.rates(horizon).gamma / 4.0;
        for t in 1..=horizon {
            let r = Round::new(t, horizon);
            let arm = q.select(&r, &mut rng);
            let probs = q.probabilities(&r).unwrap();
            assert_relative_eq!(probs.iter().sum::<f64>(), 1.0, epsilon = 1e-12);
            assert!(
                probs.iter().all(|&x| x >= floor * (1.0 - 1e-12)),
                "{probs:?}"
            );
            q.update(&r, arm, if arm == 2 { 0.9 } else { 0.2 });
        }
        assert!(q.probabilities(&Round::new(horizon, horizon)).unwrap()[2] > 0.9);
    }

    #[test]
    fn exp3p_meets_its_high_probability_bound_and_is_deterministic() {
        use crate::env::ObliviousAdversary;
        use crate::simulator::{Simulator, SimulatorConfig};
        let (k, horizon, delta) = (5, 20_000, 0.05);
        let env = ObliviousAdversary::doubling_switch(k, horizon).unwrap();
        let policies: Vec<Box<dyn Policy>> = vec![Box::new(Exp3P::new(k, delta).unwrap())];
        let sim = Simulator::new(
            SimulatorConfig::default()
                .horizon(horizon)
                .repetitions(20)
                .seed(9),
        )
        .unwrap();
        let a = sim.run(&env, &policies).unwrap();
        let bound = Exp3P::high_probability_bound(horizon, k, delta).unwrap();
        // The bound fails with probability <= delta per run; on this
        // switching sequence every one of 20 runs is far inside it.
        let regrets = a.policies[0].final_realised_regrets();
        assert!(regrets.iter().all(|&r| r < bound), "{regrets:?} vs {bound}");
        let worst = regrets.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert!(worst < 0.5 * bound, "worst {worst} vs {bound}");
        // Same seed, same runs.
        let b = sim.run(&env, &policies).unwrap();
        for (ra, rb) in a.policies[0]
            .repetitions
            .iter()
            .zip(&b.policies[0].repetitions)
        {
            assert_eq!(ra.realised_regret, rb.realised_regret);
            assert_eq!(ra.pulls, rb.pulls);
        }
    }

    #[test]
    fn bad_parameters_are_rejected() {
        assert!(Exp3P::new(3, 0.0).is_err());
        assert!(Exp3P::new(0, 0.1).is_err());
        let p = Exp3P::new(3, 0.1).unwrap();
        assert!(p.clone().with_rates(None, Some(0.0), None).is_err());
        assert!(p.clone().with_rates(None, None, Some(f64::NAN)).is_err());
        assert!(p.with_rates(Some(-1.0), None, None).is_err());
        assert!(Exp3::new(0, None, 0.0).is_err());
        assert!(Exp3::new(3, Some(-1.0), 0.0).is_err());
        assert!(Exp3::new(3, None, 1.5).is_err());
        assert!(Exp4::new(3, 0, None, 0.0).is_err());
        assert!(TsallisInf::new(3, f64::NAN, TsallisEstimator::ImportanceWeighted).is_err());
    }
}
