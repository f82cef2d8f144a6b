//! CPU test beds with hidden ground truth.
//!
//! Two layers:
//!
//! - the pieces: a [`Task`] (prompt and completion space: the hidden-reward
//!   sequence task, CountDown arithmetic with a verifier), [`RewardFn`]s
//!   (hidden reward, verifier, token-frequency proxies) and
//!   [`PreferenceOracle`]s (Bradley-Terry over a reward, the intransitive
//!   rock-paper-scissors [`CyclicOracle`]), plus offline preference-data
//!   generators with controllable coverage and ranked responses;
//! - the [`TestBed`] trait: a task together with its judge (oracle and,
//!   where there is one, ground-truth reward) and the evaluation of a
//!   trained policy against its reference. [`HiddenRewardBed`],
//!   [`CyclicBed`], [`CountDownBed`] and [`ProxiesBed`] implement it; a
//!   [`TaskConfig`] plus a [`TestBedKind`] builds one from a run config.

use duality_core::tensor::tch::{Device, Kind, Tensor};
use duality_core::{Error, Result};
use rand::Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

mod beds;

pub use beds::{
    CountDownBed, CyclicBed, Evaluation, HiddenRewardBed, ProxiesBed, TaskConfig, TestBed,
    TestBedKind,
};

/// A prompt -> completion task with fixed prompt and completion lengths:
/// where prompts come from and what a completion looks like. A
/// [`TestBed`] adds the judge.
pub trait Task {
    /// Vocabulary size of prompts and completions.
    fn vocab(&self) -> usize;
    /// Completion length (tokens).
    fn completion_len(&self) -> usize;
    /// Draws a prompt.
    fn sample_prompt(&self, rng: &mut dyn rand::RngCore) -> Vec<i64>;
}

/// A scalar ground-truth score r(x, y).
pub trait RewardFn {
    /// The reward of completion `y` for prompt `x`.
    fn reward(&self, prompt: &[i64], completion: &[i64]) -> f64;
}

impl<R: RewardFn + ?Sized> RewardFn for &R {
    fn reward(&self, prompt: &[i64], completion: &[i64]) -> f64 {
        (**self).reward(prompt, completion)
    }
}

/// Rewards of a batch of (prompt, completion) rows: every [`RewardFn`],
/// and learned reward models that score a whole batch at once.
pub trait BatchReward {
    /// One reward per row.
    fn rewards(&self, prompts: &[Vec<i64>], completions: &[Vec<i64>]) -> Result<Vec<f64>>;
}

impl<R: RewardFn + ?Sized> BatchReward for R {
    fn rewards(&self, prompts: &[Vec<i64>], completions: &[Vec<i64>]) -> Result<Vec<f64>> {
        Ok(prompts
            .iter()
            .zip(completions)
            .map(|(x, y)| self.reward(x, y))
            .collect())
    }
}

/// A (possibly intransitive) preference model P(y ≻ y' | x).
pub trait PreferenceOracle {
    /// Probability that `a` is preferred to `b` (P(a≻b) + P(b≻a) = 1).
    fn prob_prefer(&self, prompt: &[i64], a: &[i64], b: &[i64]) -> f64;
}

/// Synthetic sequence task: prompt = one context token, completion of fixed
/// length; hidden reward r(x, y) = mean_t [U(x, y_t) + B(y_t, y_{t+1})]
/// with Gaussian tables drawn from a seed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HiddenRewardTask {
    vocab: usize,
    contexts: usize,
    len: usize,
    unigram: Vec<f64>,
    bigram: Vec<f64>,
}

impl HiddenRewardTask {
    /// A task over `vocab` tokens with `contexts` prompt tokens (<= vocab)
    /// and completions of `len` tokens; `seed` draws the hidden tables.
    pub fn new(vocab: usize, contexts: usize, len: usize, seed: u64) -> Result<Self> {
        duality_core::check::at_least("vocab", vocab, 2)?;
        duality_core::check::at_least("contexts", contexts, 1)?;
        duality_core::check::at_least("completion length", len, 1)?;
        if contexts > vocab {
            return Err(Error::invalid(
                "contexts",
                contexts,
                format!("at most vocab = {vocab}"),
            ));
        }
        crate::limits::check_bytes(
            "vocab",
            vocab,
            "the hidden reward tables",
            crate::limits::mul(&[contexts.saturating_add(vocab), vocab, 8]),
        )?;
        let mut rng = duality_core::seed::Seeder::new(seed)
            .named("hidden-reward")
            .rng(0);
        let normal = Normal::new(0.0, 1.0).map_err(|e| Error::wrap("standard normal", e))?;
        let unigram = (0..contexts * vocab)
            .map(|_| normal.sample(&mut rng))
            .collect();
        let bigram = (0..vocab * vocab)
            .map(|_| 0.5 * normal.sample(&mut rng))
            .collect();
        Ok(HiddenRewardTask {
            vocab,
            contexts,
            len,
            unigram,
            bigram,
        })
    }

    /// The default easy task: 6 tokens, 2 contexts, completions of 4.
    pub fn easy(seed: u64) -> Self {
        // Sizes are valid constants, so this cannot fail.
        Self::new(6, 2, 4, seed).unwrap_or_else(|_| unreachable!())
    }
}

impl Task for HiddenRewardTask {
    fn vocab(&self) -> usize {
        self.vocab
    }
    fn completion_len(&self) -> usize {
        self.len
    }
    fn sample_prompt(&self, rng: &mut dyn rand::RngCore) -> Vec<i64> {
        vec![rng.random_range(0..self.contexts) as i64]
    }
}

fn tok(t: i64, n: usize) -> usize {
    (t.max(0) as usize).min(n - 1)
}

impl RewardFn for HiddenRewardTask {
    fn reward(&self, prompt: &[i64], y: &[i64]) -> f64 {
        if y.is_empty() {
            return 0.0;
        }
        let x = tok(prompt.first().copied().unwrap_or(0), self.contexts);
        let v = self.vocab;
        let mut total = 0.0;
        for (t, &yt) in y.iter().enumerate() {
            total += self.unigram[x * v + tok(yt, v)];
            if let Some(&next) = y.get(t + 1) {
                total += self.bigram[tok(yt, v) * v + tok(next, v)];
            }
        }
        total / y.len() as f64
    }
}

/// Bradley-Terry oracle over a reward: P(a≻b) = sigmoid(scale (r(a) - r(b)))
/// (Bradley & Terry 1952; the preference model assumed by DPO, Eq. 1).
#[derive(Debug, Clone)]
pub struct BradleyTerryOracle<R> {
    /// The hidden reward.
    pub reward: R,
    /// Inverse temperature of the preferences (> 0; larger = less noisy).
    pub scale: f64,
}

impl<R: RewardFn> PreferenceOracle for BradleyTerryOracle<R> {
    fn prob_prefer(&self, x: &[i64], a: &[i64], b: &[i64]) -> f64 {
        sigmoid(self.scale * (self.reward.reward(x, a) - self.reward.reward(x, b)))
    }
}

/// Numerically stable logistic function.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// An intransitive oracle: each completion falls in class
/// c(y) = (sum of tokens) mod 3; class 0 beats 1 beats 2 beats 0 with
/// probability 1/2 + strength/2, equal classes tie at 1/2. No reward
/// r(y) satisfies P(a≻b) = sigmoid(r(a) - r(b)) for it (the cycle would need
/// r(0) > r(1) > r(2) > r(0)), which is the setting of Direct Nash
/// Optimization (Rosset et al. 2024, Sec. 2) and Nash learning (Munos et al. 2024).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct CyclicOracle {
    /// Strength of the cycle in (0, 1].
    pub strength: f64,
}

impl CyclicOracle {
    /// The class of a completion (0, 1 or 2).
    pub fn class(y: &[i64]) -> usize {
        (y.iter().map(|&t| t.max(0)).sum::<i64>() % 3) as usize
    }
}

impl PreferenceOracle for CyclicOracle {
    fn prob_prefer(&self, _x: &[i64], a: &[i64], b: &[i64]) -> f64 {
        let (ca, cb) = (Self::class(a), Self::class(b));
        let s = if ca == cb {
            0.0
        } else if (ca + 1) % 3 == cb {
            1.0
        } else {
            -1.0
        };
        0.5 + 0.5 * self.strength.clamp(0.0, 1.0) * s
    }
}

/// CountDown-style arithmetic (as in the TinyZero / "CountDown" RL
/// benchmarks, reduced to two operands): the prompt holds two digits a, b
/// and a two-digit target; a completion `x op y` scores 1 if {x, y} = {a, b}
/// and x op y = target; otherwise it earns a small format reward (as the
/// TinyZero verifier does): 0.1 for an operator in the middle and 0.1 for
/// each operand drawn from the prompt's numbers (each number used once).
///
/// Tokens: digits 0-9 are ids 0-9, `+` = 10, `-` = 11, `*` = 12.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct CountDown;

impl CountDown {
    /// Token id of `+`.
    pub const PLUS: i64 = 10;
    /// Token id of `-`.
    pub const MINUS: i64 = 11;
    /// Token id of `*`.
    pub const TIMES: i64 = 12;

    /// The verifier: reward of a completion for a prompt `[a, b, tens, units]`.
    pub fn verify(prompt: &[i64], y: &[i64]) -> f64 {
        let (&[a, b, tens, units], &[x, op, z]) = (prompt, y) else {
            return 0.0;
        };
        let target = tens * 10 + units;
        let value = match op {
            Self::PLUS => Some(x + z),
            Self::MINUS => Some(x - z),
            Self::TIMES => Some(x * z),
            _ => None,
        };
        let uses_both = (x == a && z == b) || (x == b && z == a);
        if uses_both && value == Some(target) {
            return 1.0;
        }
        let mut score = if value.is_some() { 0.1 } else { 0.0 };
        let mut pool = vec![a, b];
        for operand in [x, z] {
            if let Some(i) = pool.iter().position(|&p| p == operand) {
                pool.swap_remove(i);
                score += 0.1;
            }
        }
        score
    }
}

impl Task for CountDown {
    fn vocab(&self) -> usize {
        13
    }
    fn completion_len(&self) -> usize {
        3
    }
    fn sample_prompt(&self, rng: &mut dyn rand::RngCore) -> Vec<i64> {
        let a = rng.random_range(1..10i64);
        let b = rng.random_range(1..10i64);
        let target = match rng.random_range(0..3) {
            0 => a + b,
            1 => (a - b).abs(),
            _ => a * b,
        };
        let (x, y) = if a >= b { (a, b) } else { (b, a) };
        // Prompt lists the larger first so that `x - y` is representable.
        vec![x, y, target / 10, target % 10]
    }
}

impl RewardFn for CountDown {
    fn reward(&self, prompt: &[i64], y: &[i64]) -> f64 {
        Self::verify(prompt, y)
    }
}

/// One offline preference pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreferencePair {
    /// Prompt tokens.
    pub prompt: Vec<i64>,
    /// Preferred completion.
    pub chosen: Vec<i64>,
    /// Dispreferred completion.
    pub rejected: Vec<i64>,
    /// Ground-truth score gap (chosen - rejected), used by curricula.
    pub gap: f64,
}

/// Several responses to one prompt ranked by a score (best first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedResponses {
    /// Prompt tokens.
    pub prompt: Vec<i64>,
    /// Responses, best first.
    pub responses: Vec<Vec<i64>>,
    /// Their scores, descending.
    pub scores: Vec<f64>,
}

/// Uniform random completion over the first `covered` tokens of the vocabulary.
fn random_completion(len: usize, covered: usize, rng: &mut dyn rand::RngCore) -> Vec<i64> {
    (0..len)
        .map(|_| rng.random_range(0..covered) as i64)
        .collect()
}

/// Offline pairs from a behaviour policy that only emits the first
/// ceil(coverage * V) tokens (`coverage` in (0, 1]): low coverage means the
/// data never shows the best tokens, the regime of HyPO (Song et al. 2024,
/// "The Importance of Online Data", Sec. 4). Labels are Bernoulli draws from
/// `oracle`.
pub fn offline_pairs(
    bed: &(impl Task + ?Sized),
    oracle: &(impl PreferenceOracle + ?Sized),
    reward: Option<&dyn RewardFn>,
    n: usize,
    coverage: f64,
    rng: &mut dyn rand::RngCore,
) -> Result<Vec<PreferencePair>> {
    duality_core::check::at_least("number of pairs", n, 1)?;
    let covered = covered_tokens(coverage, bed.vocab())?;
    let len = bed.completion_len();
    let (field, value) = crate::limits::larger(("pairs", n), ("completion length", len));
    crate::limits::check_bytes(
        field,
        value,
        format!("{n} pairs of {len} tokens"),
        crate::limits::mul(&[
            n,
            len.saturating_add(crate::limits::MAX_PROMPT_LEN)
                .saturating_mul(2)
                .saturating_add(16),
            8,
        ]),
    )?;
    (0..n)
        .map(|i| {
            let prompt = bed.sample_prompt(rng);
            let a = random_completion(len, covered, rng);
            let b = random_completion(len, covered, rng);
            let p = oracle.prob_prefer(&prompt, &a, &b);
            if !(0.0..=1.0).contains(&p) {
                return Err(Error::invalid(
                    format!("oracle preference probability of pair {i}"),
                    p,
                    "a probability in [0, 1] (check the oracle's scale)",
                ));
            }
            let (chosen, rejected) = if rng.random_bool(p) { (a, b) } else { (b, a) };
            let gap = reward.map_or(0.0, |r| {
                r.reward(&prompt, &chosen) - r.reward(&prompt, &rejected)
            });
            Ok(PreferencePair {
                prompt,
                chosen,
                rejected,
                gap,
            })
        })
        .collect()
}

/// A reward that penalises responses outside the offline data's coverage:
/// r'(x, y) = r(x, y) - penalty * (share of y's tokens with id >= `covered`),
/// the tokens [`offline_pairs`] never emits. It makes the premise of HyPO's
/// separation (Song et al. 2024, Sec. 4: without global coverage an offline
/// contrastive method can move mass onto unseen, bad responses) true by
/// construction; labels of covered pairs are unchanged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutOfCoveragePenalty<R> {
    /// The underlying reward.
    pub base: R,
    /// Covered tokens: ids `0..covered`.
    pub covered: usize,
    /// Penalty per unit share of uncovered tokens (>= 0).
    pub penalty: f64,
}

impl<R: RewardFn> RewardFn for OutOfCoveragePenalty<R> {
    fn reward(&self, x: &[i64], y: &[i64]) -> f64 {
        let outside = y.iter().filter(|&&t| t >= self.covered as i64).count();
        let share = if y.is_empty() {
            0.0
        } else {
            outside as f64 / y.len() as f64
        };
        self.base.reward(x, y) - self.penalty * share
    }
}

/// The number of tokens ceil(coverage * vocab) (at least 1) that
/// [`offline_pairs`] draws from; errors unless `coverage` is in (0, 1].
pub fn covered_tokens(coverage: f64, vocab: usize) -> Result<usize> {
    if !(coverage > 0.0 && coverage <= 1.0) {
        return Err(Error::invalid("coverage", coverage, "a fraction in (0, 1]"));
    }
    Ok(((coverage * vocab as f64).ceil() as usize).clamp(1, vocab.max(1)))
}

/// `k` uniform random responses per prompt, scored by `reward` and ranked
/// (best first), as in Curry-DPO's UltraFeedback setting (Pattnaik et al.
/// 2024, Sec. 3: four responses per prompt with scores).
pub fn ranked_responses(
    bed: &(impl Task + ?Sized),
    reward: &(impl RewardFn + ?Sized),
    prompts: usize,
    k: usize,
    rng: &mut dyn rand::RngCore,
) -> Result<Vec<RankedResponses>> {
    duality_core::check::at_least("prompts", prompts, 1)?;
    duality_core::check::at_least("responses per prompt", k, 2)?;
    let (field, value) = crate::limits::larger(("prompts", prompts), ("responses per prompt", k));
    crate::limits::check_bytes(
        field,
        value,
        format!("{prompts} prompts x {k} responses"),
        crate::limits::mul(&[
            prompts,
            k,
            bed.completion_len()
                .saturating_add(crate::limits::MAX_PROMPT_LEN + 8),
            8,
        ]),
    )?;
    Ok((0..prompts)
        .map(|_| {
            let prompt = bed.sample_prompt(rng);
            let mut scored: Vec<(f64, Vec<i64>)> = (0..k)
                .map(|_| {
                    let y = random_completion(bed.completion_len(), bed.vocab(), rng);
                    (reward.reward(&prompt, &y), y)
                })
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0));
            RankedResponses {
                prompt,
                scores: scored.iter().map(|s| s.0).collect(),
                responses: scored.into_iter().map(|s| s.1).collect(),
            }
        })
        .collect())
}

/// Token rows of equal length as an int64 tensor `[rows, len]`.
pub fn token_tensor(rows: &[&[i64]]) -> Result<Tensor> {
    let first = rows.first().ok_or(Error::Empty {
        what: "token rows".into(),
        min: 1,
    })?;
    let len = first.len();
    let mut flat = Vec::with_capacity(rows.len() * len);
    for (i, r) in rows.iter().enumerate() {
        duality_core::check::same_len("row 0", len, &format!("row {i}"), r.len())?;
        flat.extend_from_slice(r);
    }
    Ok(Tensor::from_slice(&flat).view([rows.len() as i64, len as i64]))
}

/// Rows of an int64 `[rows, len]` tensor.
pub fn tensor_rows(t: &Tensor) -> Result<Vec<Vec<i64>>> {
    let s = crate::util::shape_of(t);
    let flat = Vec::<i64>::try_from(&t.to_kind(Kind::Int64).contiguous().view([-1]))?;
    let len = s.get(1).copied().unwrap_or(0).max(1);
    Ok(flat.chunks(len).map(|c| c.to_vec()).collect())
}

/// A `[rows, len]` mask of ones.
pub(crate) fn full_mask(rows: usize, len: usize) -> Tensor {
    Tensor::ones([rows as i64, len as i64], (Kind::Float, Device::Cpu))
}

#[cfg(test)]
mod tests {
    use super::*;
    use duality_core::seed::Seeder;

    #[test]
    fn oracles_are_probabilities_and_complementary() {
        let task = HiddenRewardTask::easy(3);
        let bt = BradleyTerryOracle {
            reward: task.clone(),
            scale: 4.0,
        };
        let cyc = CyclicOracle { strength: 0.8 };
        let mut rng = Seeder::new(1).rng(0);
        for _ in 0..50 {
            let x = task.sample_prompt(&mut rng);
            let a = random_completion(4, 6, &mut rng);
            let b = random_completion(4, 6, &mut rng);
            for o in [&bt as &dyn PreferenceOracle, &cyc] {
                let p = o.prob_prefer(&x, &a, &b);
                assert!((0.0..=1.0).contains(&p));
                assert!((p + o.prob_prefer(&x, &b, &a) - 1.0).abs() < 1e-12);
            }
        }
        // The cycle: 0 beats 1 beats 2 beats 0.
        let (c0, c1, c2) = (vec![0i64], vec![1i64], vec![2i64]);
        assert!(cyc.prob_prefer(&[], &c0, &c1) > 0.5);
        assert!(cyc.prob_prefer(&[], &c1, &c2) > 0.5);
        assert!(cyc.prob_prefer(&[], &c2, &c0) > 0.5);
    }

    #[test]
    fn countdown_verifier() {
        assert_eq!(
            CountDown::verify(&[7, 3, 1, 0], &[7, CountDown::PLUS, 3]),
            1.0
        );
        assert_eq!(
            CountDown::verify(&[7, 3, 1, 0], &[3, CountDown::PLUS, 7]),
            1.0
        );
        assert_eq!(
            CountDown::verify(&[7, 3, 2, 1], &[7, CountDown::TIMES, 3]),
            1.0
        );
        assert_eq!(
            CountDown::verify(&[7, 3, 0, 4], &[7, CountDown::MINUS, 3]),
            1.0
        );
        let near = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(near(
            CountDown::verify(&[7, 3, 0, 4], &[7, CountDown::PLUS, 3]),
            0.3
        ));
        assert!(near(
            CountDown::verify(&[7, 3, 0, 4], &[7, CountDown::PLUS, 2]),
            0.2
        ));
        assert!(near(CountDown::verify(&[7, 3, 0, 4], &[7, 7, 7]), 0.1));
        assert!(near(CountDown::verify(&[7, 7, 0, 4], &[7, 5, 7]), 0.2));
        assert_eq!(CountDown::verify(&[7, 3, 0, 4], &[7, 3]), 0.0);
        let mut rng = Seeder::new(0).rng(0);
        for _ in 0..100 {
            let p = CountDown.sample_prompt(&mut rng);
            let ok = [CountDown::PLUS, CountDown::MINUS, CountDown::TIMES]
                .iter()
                .any(|&op| CountDown::verify(&p, &[p[0], op, p[1]]) == 1.0);
            assert!(ok, "unsolvable prompt {p:?}");
        }
    }

    #[test]
    fn generators_respect_coverage_and_ranking() {
        let task = HiddenRewardTask::easy(1);
        let bt = BradleyTerryOracle {
            reward: task.clone(),
            scale: 4.0,
        };
        let mut rng = Seeder::new(2).rng(0);
        let pairs = offline_pairs(&task, &bt, Some(&task), 200, 0.5, &mut rng).unwrap();
        assert!(pairs
            .iter()
            .all(|p| p.chosen.iter().chain(&p.rejected).all(|&t| t < 3)));
        // Labels follow the oracle: most chosen have the higher reward.
        let agree = pairs.iter().filter(|p| p.gap > 0.0).count();
        assert!(agree > 120, "{agree}");
        let ranked = ranked_responses(&task, &task, 10, 4, &mut rng).unwrap();
        assert!(ranked
            .iter()
            .all(|r| r.scores.windows(2).all(|w| w[0] >= w[1]) && r.responses.len() == 4));
        assert!(offline_pairs(&task, &bt, None, 5, 0.0, &mut rng).is_err());
        assert!(ranked_responses(&task, &task, 3, 1, &mut rng).is_err());
        let t = token_tensor(&[&[1, 2], &[3, 4]]).unwrap();
        assert_eq!(tensor_rows(&t).unwrap(), vec![vec![1, 2], vec![3, 4]]);
        assert!(token_tensor(&[&[1, 2], &[3]]).is_err());
    }
}

/// A proxy reward component: the frequency of one token in the completion.
/// Used with [`ThresholdedProxies`] as the constrained-RLHF test bed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct TokenFrequency {
    /// The token counted.
    pub token: i64,
}

impl RewardFn for TokenFrequency {
    fn reward(&self, _x: &[i64], y: &[i64]) -> f64 {
        if y.is_empty() {
            return 0.0;
        }
        y.iter().filter(|&&t| t == self.token).count() as f64 / y.len() as f64
    }
}

/// The true objective behind several proxy components (Moskovitz et al.
/// 2024's setting, Sec. 3): each component helps up to its threshold
/// theta_i and hurts beyond it, true = sum_i [min(r_i, theta_i) -
/// overshoot_penalty * max(r_i - theta_i, 0)].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThresholdedProxies {
    /// The proxy components.
    pub components: Vec<TokenFrequency>,
    /// Their usefulness thresholds.
    pub thresholds: Vec<f64>,
    /// Slope of the decline past a threshold.
    pub overshoot_penalty: f64,
}

impl RewardFn for ThresholdedProxies {
    fn reward(&self, x: &[i64], y: &[i64]) -> f64 {
        self.components
            .iter()
            .zip(&self.thresholds)
            .map(|(c, &t)| {
                let r = c.reward(x, y);
                r.min(t) - self.overshoot_penalty * (r - t).max(0.0)
            })
            .sum()
    }
}
