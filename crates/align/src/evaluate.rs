//! Evaluation against the hidden ground truth: win rate against the
//! reference policy under the oracle, true reward, and KL to the reference.
//!
//! Each estimate comes with a 95% normal-approximation confidence interval
//! over its Monte Carlo samples (mean ± 1.96 s/√n). Aggregation over training
//! seeds (with bootstrap CIs) is left to `duality-eval` / the bench harness.

use duality_core::{Error, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::policy::{Policy, SamplingConfig};
use crate::testbed::{full_mask, tensor_rows, token_tensor, PreferenceOracle, RewardFn, Task};
use crate::util::tensor_to_f64;

/// A Monte Carlo mean with a 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Sample mean.
    pub mean: f64,
    /// Lower end of the 95% interval.
    pub lo: f64,
    /// Upper end of the 95% interval.
    pub hi: f64,
    /// Number of samples.
    pub n: usize,
}

impl Estimate {
    /// Mean and normal 95% CI of finite samples (at least 2).
    pub fn from_samples(name: &str, xs: &[f64]) -> Result<Self> {
        duality_core::check::finite_non_empty(name, xs)?;
        if xs.len() < 2 {
            return Err(Error::invalid(
                format!("number of {name} samples"),
                xs.len(),
                "at least 2 for a confidence interval",
            ));
        }
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let half = 1.959_963_984_540_054 * (var / n).sqrt();
        Ok(Estimate {
            mean,
            lo: mean - half,
            hi: mean + half,
            n: xs.len(),
        })
    }

    /// Whether the interval lies strictly above `x`.
    pub fn excludes_below(&self, x: f64) -> bool {
        self.lo > x
    }
}

/// `n` prompts as a `[n, P]` tensor plus their rows.
fn prompts(
    bed: &(impl Task + ?Sized),
    n: usize,
    rng: &mut impl Rng,
) -> Result<(Vec<Vec<i64>>, duality_core::tensor::tch::Tensor)> {
    duality_core::check::at_least("evaluation samples", n, 2)?;
    crate::limits::check_bytes(
        "evaluation samples",
        n,
        format!(
            "{n} evaluation sequences of {} tokens",
            bed.completion_len()
        ),
        crate::limits::mul(&[
            n,
            bed.completion_len()
                .saturating_add(crate::limits::MAX_PROMPT_LEN)
                .saturating_add(8),
            bed.vocab().saturating_add(8),
            4 * 6,
        ]),
    )?;
    let rows: Vec<Vec<i64>> = (0..n).map(|_| bed.sample_prompt(rng)).collect();
    let refs: Vec<&[i64]> = rows.iter().map(|r| r.as_slice()).collect();
    let t = token_tensor(&refs)?;
    Ok((rows, t))
}

/// Win rate of `policy` against `reference`: the mean over prompts x of
/// P(y ≻ y' | x) with y ~ policy, y' ~ reference (the expected preference,
/// not a coin flip, which has lower variance and the same mean).
pub fn win_rate(
    policy: &Policy,
    reference: &Policy,
    bed: &(impl Task + ?Sized),
    oracle: &(impl PreferenceOracle + ?Sized),
    n: usize,
    sampling: SamplingConfig,
    rng: &mut impl Rng,
) -> Result<Estimate> {
    let (rows, x) = prompts(bed, n, rng)?;
    let len = bed.completion_len();
    let y = tensor_rows(&policy.sample(&x, len, sampling, rng)?)?;
    let y_ref = tensor_rows(&reference.sample(&x, len, sampling, rng)?)?;
    let p: Vec<f64> = rows
        .iter()
        .zip(y.iter().zip(&y_ref))
        .map(|(x, (a, b))| oracle.prob_prefer(x, a, b))
        .collect();
    Estimate::from_samples("win", &p)
}

/// Mean true reward of the policy's samples.
pub fn mean_reward(
    policy: &Policy,
    bed: &(impl Task + ?Sized),
    reward: &(impl RewardFn + ?Sized),
    n: usize,
    sampling: SamplingConfig,
    rng: &mut impl Rng,
) -> Result<Estimate> {
    let (rows, x) = prompts(bed, n, rng)?;
    let y = tensor_rows(&policy.sample(&x, bed.completion_len(), sampling, rng)?)?;
    let r: Vec<f64> = rows
        .iter()
        .zip(&y)
        .map(|(x, y)| reward.reward(x, y))
        .collect();
    Estimate::from_samples("reward", &r)
}

/// KL(policy || reference) estimated as the mean of
/// log pi(y|x) - log pi_ref(y|x) over y ~ pi (temperature 1, no top-k).
pub fn kl_to_reference(
    policy: &Policy,
    reference: &Policy,
    bed: &(impl Task + ?Sized),
    n: usize,
    rng: &mut impl Rng,
) -> Result<Estimate> {
    crate::logprob::check_same_vocab(policy.vocab(), reference.vocab())?;
    let (_, x) = prompts(bed, n, rng)?;
    let len = bed.completion_len();
    let y = policy.sample(&x, len, SamplingConfig::default(), rng)?;
    let _guard = duality_core::tensor::tch::no_grad_guard();
    let mask = full_mask(n, len);
    let a = policy.completion_log_probs(&x, &y, &mask)?.sum;
    let b = reference.completion_log_probs(&x, &y, &mask)?.sum;
    Estimate::from_samples("log-ratio", &tensor_to_f64(&(a - b))?)
}

/// Worst-case win rate under a [`CyclicOracle`](crate::testbed::CyclicOracle):
/// min over the three pure class strategies c of sum_c' q(c') P(c' ≻ c),
/// with q the policy's class distribution estimated from `n` samples. The
/// Nash equilibrium (uniform q) scores 1/2; a policy collapsed on one class
/// scores 1/2 - strength/2 (it is exploitable), which is what a reward model
/// fitted to cyclic preferences drives a policy to (Rosset et al. 2024, Sec. 2).
pub fn cyclic_worst_case_win_rate(
    policy: &Policy,
    bed: &(impl Task + ?Sized),
    oracle: &crate::testbed::CyclicOracle,
    n: usize,
    rng: &mut impl Rng,
) -> Result<f64> {
    let (_, x) = prompts(bed, n, rng)?;
    let ys =
        tensor_rows(&policy.sample(&x, bed.completion_len(), SamplingConfig::default(), rng)?)?;
    let mut q = [0.0; 3];
    for y in &ys {
        q[crate::testbed::CyclicOracle::class(y)] += 1.0 / n as f64;
    }
    let reps: [Vec<i64>; 3] = [vec![0], vec![1], vec![2]];
    Ok((0..3)
        .map(|c| {
            (0..3)
                .map(|c2| q[c2] * oracle.prob_prefer(&[], &reps[c2], &reps[c]))
                .sum::<f64>()
        })
        .fold(f64::INFINITY, f64::min))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyConfig;
    use crate::testbed::{BradleyTerryOracle, HiddenRewardTask};
    use duality_core::seed::Seeder;

    #[test]
    fn a_policy_ties_with_itself_and_has_zero_kl() {
        let task = HiddenRewardTask::easy(0);
        let oracle = BradleyTerryOracle {
            reward: task.clone(),
            scale: 3.0,
        };
        let p = Policy::new(&PolicyConfig::gru(6), 0).unwrap();
        let r = p.frozen_copy().unwrap();
        let mut rng = Seeder::new(5).rng(0);
        let w = win_rate(
            &p,
            &r,
            &task,
            &oracle,
            400,
            SamplingConfig::default(),
            &mut rng,
        )
        .unwrap();
        assert!(w.lo < 0.5 && w.hi > 0.5, "{w:?}");
        let kl = kl_to_reference(&p, &r, &task, 50, &mut rng).unwrap();
        assert!(kl.mean.abs() < 1e-6, "{kl:?}");
        assert!(Estimate::from_samples("x", &[1.0]).is_err());
        let e = Estimate::from_samples("x", &[0.0, 1.0, 0.5]).unwrap();
        assert!((e.mean - 0.5).abs() < 1e-12 && e.lo < 0.5 && e.hi > 0.5);
    }
}
