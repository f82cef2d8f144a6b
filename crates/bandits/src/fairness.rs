//! *Individually Fair Learning with One-Sided Feedback* (Bechavod & Roth,
//! ICML 2023; only the abstract was reachable, the construction follows the
//! abstract and the framework it extends, Bechavod, Jung & Wu, *Metric-Free
//! Individual Fairness in Online Learning*, NeurIPS 2020).
//!
//! Each round `k` individuals with contexts `x_{t,1..k}` in `[0, 1]^d`
//! arrive; the learner deploys a randomised policy `pi_t` (a distribution
//! over a finite class `H` of classifiers) and decides `yhat_i = h_t(x_i)`
//! with `h_t ~ pi_t`. The true label `y_i` is revealed only when `yhat_i =
//! 1` (one-sided feedback, as in lending). A panel of auditors, each with
//! its own metric `d_j(x, x') = |D_j (x - x')|_2` unknown to the learner,
//! looks at the deployed policy: auditor `j` objects to a pair `(a, b)` when
//! `pi_t(x_a) - pi_t(x_b) > d_j(x_a, x_b) + alpha`, and the panel reports
//! the pair with the largest such gap among the pairs a majority (a
//! fraction `quorum`) of its auditors object to, if any.
//!
//! **The reduction** (the abstract's "reduction to the contextual
//! combinatorial semi-bandit problem"): with the relative loss `l'(yhat, y)
//! = l(yhat, y) - l(0, y)`, a negative decision costs 0 and a positive one
//! `1 - 2y`, so the per-round loss of a classifier `h` is a sum over the
//! *base arms* (individuals) it classifies positive, and exactly those
//! arms' losses are observed (semi-bandit feedback); regret is unchanged
//! since `l(0, y)` does not depend on the learner. The reported pair `(a,
//! b)` adds the Lagrangian fairness term `C (h(x_a) - h(x_b))` (Bechavod et
//! al. 2020's linearised unfairness loss), known for every `h` since the
//! contexts are. Base-arm loss: `c_i = (1 - 2 y_i) + C (1{i = a} - 1{i =
//! b})`; the action of `h` is `S_h = {i : h(x_i) = 1}`, context-dependent.
//!
//! Learners:
//! - [`FairExp2`]: Exp2 over the explicit class `H` (Bubeck, Cesa-Bianchi &
//!   Kakade 2012; semi-bandit estimates `(1 - 2 y_i) 1{i in S_t} / q_i`,
//!   `q_i = P_{h ~ pi_t}(h(x_i) = 1)`, as `combinatorial::Exp2`), mixed with
//!   `gamma` uniform exploration over `H`;
//! - [`FairFtpl`]: Context-Semi-Bandit-FTPL (Syrgkanis, Krishnamurthy &
//!   Schapire 2016): follow the perturbed leader through a linear
//!   optimisation oracle over `H`, perturbed by Laplace noise on a fixed
//!   *separator* set of contexts, with `1 / q_i` estimated by geometric
//!   resampling (Neu & Bartók 2013, as `combinatorial::Ftpl`);
//! - [`FairLearner::Blind`]: the baseline that ignores the auditors (Exp2 on
//!   the classification loss alone).
//!
//! Metrics: the number of rounds with a reported fairness violation, and
//! misclassification regret, measured two ways: against the best fixed
//! `h` in `H` in hindsight (an *unfair* comparator: a deterministic
//! threshold treats neighbours across it differently), and against a
//! reference fair policy (the uniform mixture of the thresholds on the
//! unprotected coordinate). The paper's accuracy guarantee is relative to
//! the best *fair* policy; computing that one in hindsight is a linear
//! program over distributions on `H` with the realised fairness
//! constraints, which is not implemented, so the reference policy gives a
//! lower bound on that regret.

use duality_core::{check, limits, Error, Result};
use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};

use crate::math::{sample_categorical, softmax_into};

/// A linear threshold classifier `h(x) = 1{w . x >= b}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// Weights.
    pub w: Vec<f64>,
    /// Threshold.
    pub b: f64,
}

impl Threshold {
    /// `h(x)`.
    pub fn predict(&self, x: &[f64]) -> bool {
        self.w.iter().zip(x).map(|(w, v)| w * v).sum::<f64>() >= self.b
    }
}

/// The finite class `H` for `d = 2`: directions at `angles` evenly spaced
/// angles in `[0, pi/2]` times `thresholds` evenly spaced thresholds in
/// `[0, sqrt 2]`, plus the constant classifiers.
pub fn threshold_class(angles: usize, thresholds: usize) -> Result<Vec<Threshold>> {
    check::at_least("angles", angles, 1)?;
    check::at_least("thresholds", thresholds, 1)?;
    let n = limits::product(&[("angles", angles), ("thresholds", thresholds)])?;
    limits::elements::<Threshold>("hypothesis class", n)?;
    let mut out = vec![
        Threshold {
            w: vec![0.0, 0.0],
            b: 1.0,
        }, // all negative
        Threshold {
            w: vec![0.0, 0.0],
            b: 0.0,
        }, // all positive
    ];
    for a in 0..angles {
        let theta = if angles == 1 {
            std::f64::consts::FRAC_PI_4
        } else {
            std::f64::consts::FRAC_PI_2 * a as f64 / (angles - 1) as f64
        };
        for j in 0..thresholds {
            let b = std::f64::consts::SQRT_2 * (j as f64 + 0.5) / thresholds as f64;
            out.push(Threshold {
                w: vec![theta.cos(), theta.sin()],
                b,
            });
        }
    }
    Ok(out)
}

/// An auditor with metric `d(x, x') = |scales * (x - x')|_2`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Auditor {
    /// Per-coordinate scales of the metric.
    pub scales: Vec<f64>,
}

impl Auditor {
    /// The auditor's distance.
    pub fn distance(&self, a: &[f64], b: &[f64]) -> f64 {
        self.scales
            .iter()
            .zip(a.iter().zip(b))
            .map(|(s, (x, y))| (s * (x - y)).powi(2))
            .sum::<f64>()
            .sqrt()
    }
}

/// The environment: contexts, labels and the auditor panel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FairnessEnv {
    /// Individuals per round.
    pub k: usize,
    /// Label model: `P(y = 1 | x) = clamp(0.5 + slope (w . x - b), 0, 1)`.
    pub label_w: Vec<f64>,
    /// Its threshold.
    pub label_b: f64,
    /// Its slope.
    pub slope: f64,
    /// The panel.
    pub auditors: Vec<Auditor>,
    /// Violation slack `alpha`.
    pub alpha: f64,
    /// Fraction of the panel that must object.
    pub quorum: f64,
}

impl FairnessEnv {
    /// The default instance: `k` individuals in `[0, 1]^2`, labels driven
    /// mostly by the first coordinate, and three auditors whose metrics
    /// weigh the coordinates differently (one treats the second coordinate,
    /// a protected attribute, as irrelevant).
    pub fn standard(k: usize) -> Result<Self> {
        let env = FairnessEnv {
            k,
            label_w: vec![0.9, 0.45],
            label_b: 0.6,
            slope: 0.8,
            auditors: vec![
                Auditor {
                    scales: vec![1.0, 0.0],
                },
                Auditor {
                    scales: vec![1.5, 0.2],
                },
                Auditor {
                    scales: vec![1.0, 0.5],
                },
            ],
            alpha: 0.1,
            quorum: 0.5,
        };
        env.check()?;
        Ok(env)
    }

    fn check(&self) -> Result<()> {
        if self.k < 2 {
            return Err(Error::invalid(
                "batch size k",
                self.k,
                "at least 2 individuals per round",
            ));
        }
        check::non_empty("auditors", &self.auditors)?;
        check::finite_scalar("alpha", self.alpha)?;
        check::open_unit("quorum", self.quorum).or_else(|_| {
            if self.quorum == 1.0 {
                Ok(())
            } else {
                Err(Error::invalid(
                    "quorum",
                    self.quorum,
                    "a fraction in (0, 1]",
                ))
            }
        })?;
        for (j, a) in self.auditors.iter().enumerate() {
            check::same_len(
                "contexts",
                2,
                &format!("auditors[{j}].scales"),
                a.scales.len(),
            )?;
            check::finite(&format!("auditors[{j}].scales"), &a.scales)?;
        }
        Ok(())
    }

    /// A batch of `k` contexts and their labels.
    pub fn draw(&self, rng: &mut dyn RngCore) -> (Vec<Vec<f64>>, Vec<bool>) {
        let xs: Vec<Vec<f64>> = (0..self.k)
            .map(|_| vec![rng.random::<f64>(), rng.random::<f64>()])
            .collect();
        let ys = xs
            .iter()
            .map(|x| {
                let s: f64 = self.label_w.iter().zip(x).map(|(w, v)| w * v).sum();
                let p = (0.5 + self.slope * (s - self.label_b)).clamp(0.0, 1.0);
                rng.random::<f64>() < p
            })
            .collect();
        (xs, ys)
    }

    /// The panel's report on policy values `pi[i] = P(yhat_i = 1)`: the
    /// pair `(favoured, disfavoured)` with the largest gap among those a
    /// quorum of auditors objects to.
    pub fn audit(&self, xs: &[Vec<f64>], pi: &[f64]) -> Option<(usize, usize)> {
        let need = (self.quorum * self.auditors.len() as f64).ceil().max(1.0) as usize;
        let mut best: Option<(f64, usize, usize)> = None;
        for a in 0..xs.len() {
            for b in 0..xs.len() {
                let gap = pi[a] - pi[b];
                if a == b || gap <= self.alpha {
                    continue;
                }
                let objecting = self
                    .auditors
                    .iter()
                    .filter(|aud| gap > aud.distance(&xs[a], &xs[b]) + self.alpha)
                    .count();
                if objecting >= need && best.is_none_or(|(g, _, _)| gap > g) {
                    best = Some((gap, a, b));
                }
            }
        }
        best.map(|(_, a, b)| (a, b))
    }
}

/// Which learner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FairLearner {
    /// Exp2 over the class, auditor feedback in the loss.
    Exp2,
    /// Context-Semi-Bandit-FTPL with an optimisation oracle.
    Ftpl,
    /// Exp2 ignoring the auditors (baseline).
    Blind,
}

impl std::str::FromStr for FairLearner {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "exp2" => Ok(FairLearner::Exp2),
            "ftpl" => Ok(FairLearner::Ftpl),
            "blind" => Ok(FairLearner::Blind),
            other => Err(Error::invalid(
                "learner",
                format!("{other:?}"),
                "exp2, ftpl or blind",
            )),
        }
    }
}

/// Exp2 over an explicit class with semi-bandit estimates.
#[derive(Debug, Clone)]
pub struct FairExp2 {
    cum: Vec<f64>,
    eta: f64,
    gamma: f64,
    p: Vec<f64>,
}

impl FairExp2 {
    /// Exp2 over `n` hypotheses with rate `eta > 0` and uniform mixing
    /// `gamma` in [0, 1].
    pub fn new(n: usize, eta: f64, gamma: f64) -> Result<Self> {
        check::at_least("hypotheses", n, 1)?;
        check::positive("eta", eta)?;
        check::probability("gamma", gamma)?;
        Ok(FairExp2 {
            cum: vec![0.0; n],
            eta,
            gamma,
            p: vec![1.0 / n as f64; n],
        })
    }

    /// The current distribution over the class.
    pub fn distribution(&mut self) -> &[f64] {
        let logits: Vec<f64> = self.cum.iter().map(|c| -self.eta * c).collect();
        softmax_into(&logits, &mut self.p);
        let n = self.p.len() as f64;
        for v in &mut self.p {
            *v = (1.0 - self.gamma) * *v + self.gamma / n;
        }
        &self.p
    }
}

/// Context-Semi-Bandit-FTPL over an explicit class (brute-force oracle).
#[derive(Debug, Clone)]
pub struct FairFtpl {
    cum: Vec<f64>,
    /// `h(z)` on the separator contexts, per hypothesis.
    separator: Vec<Vec<bool>>,
    scale: f64,
    max_resample: usize,
}

impl FairFtpl {
    /// FTPL over `class` with Laplace perturbations of scale `scale` on the
    /// separator `sep` (contexts on which every two hypotheses differ
    /// somewhere), geometric resampling capped at `max_resample`.
    pub fn new(
        class: &[Threshold],
        sep: &[Vec<f64>],
        scale: f64,
        max_resample: usize,
    ) -> Result<Self> {
        check::non_empty("hypothesis class", class)?;
        check::non_empty("separator", sep)?;
        check::positive("perturbation scale", scale)?;
        check::at_least("max_resample", max_resample, 1)?;
        Ok(FairFtpl {
            cum: vec![0.0; class.len()],
            separator: class
                .iter()
                .map(|h| sep.iter().map(|z| h.predict(z)).collect())
                .collect(),
            scale,
            max_resample,
        })
    }

    /// One perturbed-leader draw: `argmin_h cum(h) + sum_z eps_z h(z)`,
    /// `eps_z ~ Laplace(scale)`.
    fn leader(&self, rng: &mut dyn RngCore) -> usize {
        let m = self.separator[0].len();
        let eps: Vec<f64> = (0..m)
            .map(|_| {
                let u: f64 = rng.random::<f64>() - 0.5;
                -self.scale * u.signum() * (1.0 - 2.0 * u.abs()).max(f64::MIN_POSITIVE).ln()
            })
            .collect();
        let mut best = (f64::INFINITY, 0);
        for (h, row) in self.separator.iter().enumerate() {
            let v = self.cum[h]
                + row
                    .iter()
                    .zip(&eps)
                    .filter(|(on, _)| **on)
                    .map(|(_, e)| e)
                    .sum::<f64>();
            if v < best.0 {
                best = (v, h);
            }
        }
        best.1
    }
}

/// Result of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FairRun {
    /// Learner name.
    pub learner: String,
    /// Cumulative misclassification regret at each checkpoint (against the
    /// best fixed hypothesis in hindsight over the whole run, on the
    /// learner's expected 0-1 loss).
    pub regret: Vec<f64>,
    /// Cumulative rounds with a reported violation at each checkpoint.
    pub violations: Vec<f64>,
    /// Cumulative excess expected 0-1 loss over the reference fair policy
    /// (the uniform mixture of the class's thresholds on the first
    /// coordinate, `w = (1, 0)`: 1/sqrt(2)-Lipschitz in `x_0` and constant
    /// in the protected `x_1`, so no auditor of [`FairnessEnv::standard`]
    /// objects to it) at each checkpoint.
    pub regret_vs_fair: Vec<f64>,
    /// The checkpoints (rounds).
    pub checkpoints: Vec<usize>,
}

/// Runs `learner` for `rounds` rounds on `env` over `class` with Lagrange
/// weight `c` (fairness penalty per reported pair), recording at
/// `checkpoints` (sorted rounds).
#[allow(clippy::too_many_arguments)]
pub fn run_fair(
    env: &FairnessEnv,
    class: &[Threshold],
    learner: FairLearner,
    rounds: usize,
    c: f64,
    checkpoints: &[usize],
    rng: &mut dyn RngCore,
) -> Result<FairRun> {
    env.check()?;
    check::non_empty("hypothesis class", class)?;
    check::at_least("rounds", rounds, 1)?;
    check::finite_scalar("c", c)?;
    let n = class.len();
    limits::elements::<f64>(
        "rounds x hypotheses",
        limits::product(&[("hypotheses", n), ("k", env.k)])?,
    )?;
    let kf = env.k as f64;
    // Rates tuned as the analyses suggest for losses in [-(1 + C), 1 + C]
    // per arm: Exp2 eta ~ sqrt(ln N / (T k^2)), gamma small.
    let scale = kf * (1.0 + c.abs());
    let eta = ((n as f64).ln() / rounds as f64).sqrt() / scale;
    let mut exp2 = FairExp2::new(n, eta, 0.01)?;
    let sep: Vec<Vec<f64>> = (0..8)
        .flat_map(|i| (0..8).map(move |j| vec![(i as f64 + 0.5) / 8.0, (j as f64 + 0.5) / 8.0]))
        .collect();
    let mut ftpl = FairFtpl::new(
        class,
        &sep,
        scale * (rounds as f64 / (n as f64).ln().max(1.0)).sqrt() / 4.0,
        200,
    )?;
    // True 0-1 loss of every hypothesis, summed (for the hindsight best).
    let mut class_loss = vec![0.0; n];
    let mut learner_loss = 0.0;
    let mut learner_loss_at = Vec::new();
    let mut class_loss_at: Vec<Vec<f64>> = Vec::new();
    let mut violations = 0.0;
    let mut violations_at = Vec::new();
    // The reference fair policy: uniform over the thresholds with w = (1, 0).
    let fair_ref: Vec<usize> = (0..n)
        .filter(|&h| class[h].w.len() == 2 && class[h].w[0] > 0.999 && class[h].w[1].abs() < 1e-9)
        .collect();
    let mut fair_loss = 0.0;
    let mut fair_loss_at = Vec::new();
    let mut next = 0;
    for t in 1..=rounds {
        let (xs, ys) = env.draw(rng);
        let preds: Vec<Vec<bool>> = class
            .iter()
            .map(|h| xs.iter().map(|x| h.predict(x)).collect())
            .collect();
        // The deployed policy's distribution over H (FTPL's is estimated
        // from the same draws as its decision, for the audit).
        let (chosen, pi): (usize, Vec<f64>) = match learner {
            FairLearner::Exp2 | FairLearner::Blind => {
                let p = exp2.distribution().to_vec();
                let h = sample_categorical(&p, rng);
                let pi = (0..env.k)
                    .map(|i| {
                        p.iter()
                            .zip(&preds)
                            .filter(|(_, pr)| pr[i])
                            .map(|(w, _)| w)
                            .sum()
                    })
                    .collect();
                (h, pi)
            }
            FairLearner::Ftpl => {
                // The auditors see the policy; estimate pi by 32 oracle draws.
                let draws: Vec<usize> = (0..32).map(|_| ftpl.leader(rng)).collect();
                let pi = (0..env.k)
                    .map(|i| draws.iter().filter(|&&h| preds[h][i]).count() as f64 / 32.0)
                    .collect();
                (draws[0], pi)
            }
        };
        // Losses: the learner's expected 0-1 loss under pi, every h's.
        for (i, &y) in ys.iter().enumerate() {
            learner_loss += if y { 1.0 - pi[i] } else { pi[i] };
            if !fair_ref.is_empty() {
                let q = fair_ref.iter().filter(|&&h| preds[h][i]).count() as f64
                    / fair_ref.len() as f64;
                fair_loss += if y { 1.0 - q } else { q };
            }
            for (h, pr) in preds.iter().enumerate() {
                if pr[i] != y {
                    class_loss[h] += 1.0;
                }
            }
        }
        let report = env.audit(&xs, &pi);
        if report.is_some() {
            violations += 1.0;
        }
        let fair_term = |i: usize| match (report, learner) {
            (_, FairLearner::Blind) | (None, _) => 0.0,
            (Some((a, b)), _) => c * (f64::from(u8::from(i == a)) - f64::from(u8::from(i == b))),
        };
        // Semi-bandit feedback: labels of the positively decided individuals.
        let observed: Vec<usize> = (0..env.k).filter(|&i| preds[chosen][i]).collect();
        match learner {
            FairLearner::Exp2 | FairLearner::Blind => {
                let p = exp2.p.clone();
                let mut est = vec![0.0; env.k];
                for (i, e) in est.iter_mut().enumerate() {
                    *e = fair_term(i);
                }
                for &i in &observed {
                    let q: f64 = p
                        .iter()
                        .zip(&preds)
                        .filter(|(_, pr)| pr[i])
                        .map(|(w, _)| w)
                        .sum();
                    if q > 0.0 {
                        est[i] += (1.0 - 2.0 * f64::from(u8::from(ys[i]))) / q;
                    }
                }
                for (h, pr) in preds.iter().enumerate() {
                    exp2.cum[h] += (0..env.k).filter(|&i| pr[i]).map(|i| est[i]).sum::<f64>();
                }
            }
            FairLearner::Ftpl => {
                let mut est: Vec<f64> = (0..env.k).map(fair_term).collect();
                for &i in &observed {
                    // Geometric resampling: K_i = draws until i is chosen.
                    let mut m = 1;
                    while m < ftpl.max_resample && !preds[ftpl.leader(rng)][i] {
                        m += 1;
                    }
                    est[i] += (1.0 - 2.0 * f64::from(u8::from(ys[i]))) * m as f64;
                }
                for (h, pr) in preds.iter().enumerate() {
                    ftpl.cum[h] += (0..env.k).filter(|&i| pr[i]).map(|i| est[i]).sum::<f64>();
                }
            }
        }
        while next < checkpoints.len() && checkpoints[next] == t {
            learner_loss_at.push(learner_loss);
            class_loss_at.push(class_loss.clone());
            violations_at.push(violations);
            fair_loss_at.push(fair_loss);
            next += 1;
        }
    }
    // Regret at each checkpoint against the best fixed h on that prefix.
    let regret = learner_loss_at
        .iter()
        .zip(&class_loss_at)
        .map(|(l, cl)| l - cl.iter().copied().fold(f64::INFINITY, f64::min))
        .collect();
    Ok(FairRun {
        learner: match learner {
            FairLearner::Exp2 => "exp2".into(),
            FairLearner::Ftpl => "context-semi-bandit-ftpl".into(),
            FairLearner::Blind => "exp2-ignoring-auditors".into(),
        },
        regret,
        regret_vs_fair: learner_loss_at
            .iter()
            .zip(&fair_loss_at)
            .map(|(l, f)| l - f)
            .collect(),
        violations: violations_at,
        checkpoints: checkpoints[..next].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng(seed: u64) -> duality_core::seed::DualityRng {
        duality_core::seed::Seeder::new(seed).rng(0)
    }

    #[test]
    fn audit_reports_similar_pairs_treated_differently() {
        let env = FairnessEnv::standard(3).unwrap();
        let xs = vec![vec![0.5, 0.1], vec![0.5, 0.9], vec![0.0, 0.0]];
        // Individuals 0 and 1 differ only in the second coordinate; a
        // policy treating them very differently is reported by the panel.
        let r = env.audit(&xs, &[1.0, 0.0, 0.0]);
        assert_eq!(r, Some((0, 1)));
        assert_eq!(env.audit(&xs, &[0.5, 0.5, 0.5]), None);
        // Individual 2 is 0.5 or more from the others under every metric,
        // so a gap of 0.3 is within its Lipschitz allowance; a gap of 1 is not.
        assert_eq!(env.audit(&xs, &[0.8, 0.8, 0.5]), None);
        assert_eq!(env.audit(&xs, &[1.0, 1.0, 0.0]), Some((0, 2)));
    }

    #[test]
    fn learners_reduce_violations_and_learn() {
        let env = FairnessEnv::standard(4).unwrap();
        let class = threshold_class(7, 8).unwrap();
        let checkpoints = [500, 2000];
        let run = |l| run_fair(&env, &class, l, 2000, 1.0, &checkpoints, &mut rng(1)).unwrap();
        let (exp2, ftpl, blind) = (
            run(FairLearner::Exp2),
            run(FairLearner::Ftpl),
            run(FairLearner::Blind),
        );
        for r in [&exp2, &ftpl, &blind] {
            // Far below the linear regret of a uniform random policy.
            assert!(
                r.regret[1] < 0.25 * 2000.0 * 4.0,
                "{}: {:?}",
                r.learner,
                r.regret
            );
        }
        assert!(
            exp2.violations[1] < blind.violations[1],
            "{exp2:?} {blind:?}"
        );
    }

    #[test]
    fn bad_input_is_an_error_naming_it() {
        let mut env = FairnessEnv::standard(4).unwrap();
        let class = threshold_class(3, 3).unwrap();
        env.auditors.clear();
        let e = run_fair(&env, &class, FairLearner::Exp2, 10, 1.0, &[10], &mut rng(0)).unwrap_err();
        assert!(e.to_string().contains("auditors"), "{e}");
        assert!(FairnessEnv::standard(1)
            .unwrap_err()
            .to_string()
            .contains("batch"));
        assert!(run_fair(
            &FairnessEnv::standard(2).unwrap(),
            &[],
            FairLearner::Exp2,
            10,
            1.0,
            &[10],
            &mut rng(0)
        )
        .is_err());
        assert!("ucb".parse::<FairLearner>().is_err());
    }
}
