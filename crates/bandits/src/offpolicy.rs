//! Logged bandit feedback, a synthetic logging generator with known ground
//! truth, and off-policy learning of a linear softmax policy (the ad-load
//! balancing paper's recipe: learn the policy that maximises an IPS or DR
//! estimate of its value from logs).

use duality_core::config::Validate;
use duality_core::{check, Error, Result};
use rand::{Rng, RngCore};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::linalg::{dot, ridge};
use crate::math::{sample_categorical, softmax_into};
use crate::ope::{OpeData, OpeView};

/// Logged bandit feedback: contexts, actions, rewards and the logging
/// policy's propensities `pi_b(a_i | x_i)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedFeedback {
    /// Number of actions.
    pub n_actions: usize,
    /// Context of each round (all of the same dimension).
    pub contexts: Vec<Vec<f64>>,
    /// Logged action of each round.
    pub actions: Vec<usize>,
    /// Observed reward of each round.
    pub rewards: Vec<f64>,
    /// Propensity of the logged action under the logging policy, in (0, 1].
    pub pscores: Vec<f64>,
}

impl Validate for LoggedFeedback {
    /// Checks lengths, ranges and finiteness.
    fn validate(&self) -> Result<()> {
        check::at_least("number of actions", self.n_actions, 1)?;
        let n = self.actions.len();
        check::at_least("logged rounds", n, 1)?;
        check::same_len("actions", n, "contexts", self.contexts.len())?;
        check::same_len("actions", n, "rewards", self.rewards.len())?;
        check::same_len("actions", n, "pscores", self.pscores.len())?;
        let d = self.contexts[0].len();
        for (i, x) in self.contexts.iter().enumerate() {
            check::same_len("contexts[0]", d, &format!("contexts[{i}]"), x.len())?;
            check::finite(&format!("contexts[{i}]"), x)?;
        }
        check::finite("rewards", &self.rewards)?;
        for (i, (&a, &p)) in self.actions.iter().zip(&self.pscores).enumerate() {
            if a >= self.n_actions {
                return Err(Error::invalid(
                    format!("actions[{i}]"),
                    a,
                    format!("an action in 0..{}", self.n_actions),
                ));
            }
            if !(p > 0.0 && p <= 1.0) {
                return Err(Error::invalid(
                    format!("pscores[{i}]"),
                    p,
                    "a propensity in (0, 1]",
                ));
            }
        }
        Ok(())
    }
}

impl LoggedFeedback {
    /// Context dimension.
    pub fn dim(&self) -> usize {
        self.contexts.first().map_or(0, Vec::len)
    }

    /// A per-action ridge-regression reward model `q̂(x, a) = <w_a, [x, 1]>`
    /// fitted on the rounds that logged `a`; returns `n x K` predictions
    /// (row-major) on the logged contexts.
    pub fn ridge_reward_model(&self, lambda: f64) -> Result<Vec<f64>> {
        check::positive("ridge lambda", lambda)?;
        let k = self.n_actions;
        let d = self.dim() + 1;
        let with_bias = |x: &Vec<f64>| {
            let mut v = x.clone();
            v.push(1.0);
            v
        };
        let mut weights = Vec::with_capacity(k);
        for a in 0..k {
            let (xs, ys): (Vec<Vec<f64>>, Vec<f64>) = self
                .actions
                .iter()
                .enumerate()
                .filter(|(_, &b)| b == a)
                .map(|(i, _)| (with_bias(&self.contexts[i]), self.rewards[i]))
                .unzip();
            weights.push(ridge(&xs, &ys, d, lambda)?);
        }
        let mut out = Vec::with_capacity(self.actions.len() * k);
        for x in &self.contexts {
            let xb = with_bias(x);
            for w in &weights {
                out.push(dot(w, &xb));
            }
        }
        Ok(out)
    }

    /// The [`OpeData`] for evaluating a policy with the given `n x K`
    /// action distribution and reward-model predictions.
    pub fn ope_data(&self, action_dist: Vec<f64>, qhat: Vec<f64>) -> Result<OpeData> {
        OpeData::new(
            self.n_actions,
            self.actions.clone(),
            self.rewards.clone(),
            self.pscores.clone(),
            action_dist,
            qhat,
        )
    }

    /// The same log as [`LoggedFeedback::ope_data`], borrowed: a validated
    /// [`OpeView`] over this feedback's actions, rewards and propensities
    /// and the given `n x K` slices, with nothing copied.
    pub fn ope_view<'a>(&'a self, action_dist: &'a [f64], qhat: &'a [f64]) -> Result<OpeView<'a>> {
        OpeView::new(
            self.n_actions,
            &self.actions,
            &self.rewards,
            &self.pscores,
            action_dist,
            qhat,
        )
    }
}

/// Settings of the synthetic logging generator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyntheticParams {
    /// Logged rounds.
    pub n_rounds: usize,
    /// Actions.
    pub n_actions: usize,
    /// Context dimension.
    pub dim: usize,
    /// Inverse temperature of the logging policy `softmax(beta q(x, .))`.
    pub beta_behavior: f64,
    /// Inverse temperature of the evaluation policy.
    pub beta_evaluation: f64,
}

impl Default for SyntheticParams {
    fn default() -> Self {
        SyntheticParams {
            n_rounds: 1000,
            n_actions: 5,
            dim: 5,
            beta_behavior: -2.0,
            beta_evaluation: 8.0,
        }
    }
}

/// Synthetic logs with everything needed to score an estimator.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticLog {
    /// The logged feedback.
    pub logged: LoggedFeedback,
    /// True expected rewards `q(x_i, a)` (row-major `n x K`).
    pub expected_rewards: Vec<f64>,
    /// Evaluation policy `pi_e(a | x_i)` (row-major `n x K`).
    pub evaluation_dist: Vec<f64>,
    /// Ground-truth value `mean_i sum_a pi_e(a | x_i) q(x_i, a)` (as obp's
    /// `calc_ground_truth_policy_value` on the logged contexts).
    pub ground_truth: f64,
}

/// Generates logs: `x ~ N(0, I_d)`, `q(x, a) = sigmoid(<theta_a, x> + b_a)`
/// with `theta_a ~ N(0, I / d)`, `b_a ~ N(0, 1/4)` drawn once; the logging
/// policy is `softmax(beta_behavior q(x, .))`, rewards `Bernoulli(q)`.
/// With a negative `beta_behavior` the logger prefers bad actions, which is
/// what makes off-policy evaluation hard (the setting of obp's examples).
pub fn generate_logs(params: &SyntheticParams, rng: &mut dyn RngCore) -> Result<SyntheticLog> {
    check::at_least("n_rounds", params.n_rounds, 1)?;
    check::at_least("n_actions", params.n_actions, 1)?;
    check::at_least("dim", params.dim, 1)?;
    check::finite_scalar("beta_behavior", params.beta_behavior)?;
    check::finite_scalar("beta_evaluation", params.beta_evaluation)?;
    let (n, k, d) = (params.n_rounds, params.n_actions, params.dim);
    let scale = 1.0 / (d as f64).sqrt();
    let normal = |rng: &mut dyn RngCore| -> f64 { StandardNormal.sample(rng) };
    let thetas: Vec<Vec<f64>> = (0..k)
        .map(|_| (0..d).map(|_| scale * normal(rng)).collect())
        .collect();
    let biases: Vec<f64> = (0..k).map(|_| 0.5 * normal(rng)).collect();
    let mut logged = LoggedFeedback {
        n_actions: k,
        contexts: Vec::with_capacity(n),
        actions: Vec::with_capacity(n),
        rewards: Vec::with_capacity(n),
        pscores: Vec::with_capacity(n),
    };
    let mut expected = Vec::with_capacity(n * k);
    let mut eval = Vec::with_capacity(n * k);
    let mut truth = 0.0;
    let mut q = vec![0.0; k];
    let mut logits = vec![0.0; k];
    let mut pb = vec![0.0; k];
    let mut pe = vec![0.0; k];
    for _ in 0..n {
        let x: Vec<f64> = (0..d).map(|_| normal(rng)).collect();
        for a in 0..k {
            let z = dot(&thetas[a], &x) + biases[a];
            q[a] = 1.0 / (1.0 + (-z).exp());
        }
        for a in 0..k {
            logits[a] = params.beta_behavior * q[a];
        }
        softmax_into(&logits, &mut pb);
        for a in 0..k {
            logits[a] = params.beta_evaluation * q[a];
        }
        softmax_into(&logits, &mut pe);
        let a = sample_categorical(&pb, rng);
        let r = if rng.random::<f64>() < q[a] { 1.0 } else { 0.0 };
        truth += dot(&pe, &q);
        logged.contexts.push(x);
        logged.actions.push(a);
        logged.rewards.push(r);
        logged.pscores.push(pb[a].max(f64::MIN_POSITIVE));
        expected.extend_from_slice(&q);
        eval.extend_from_slice(&pe);
    }
    Ok(SyntheticLog {
        logged,
        expected_rewards: expected,
        evaluation_dist: eval,
        ground_truth: truth / n as f64,
    })
}

/// The objective maximised by off-policy learning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LearningObjective {
    /// The IPS estimate of the policy's value.
    Ips,
    /// The doubly robust estimate (needs a reward model).
    DoublyRobust,
}

/// Settings of off-policy learning (full-batch gradient ascent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OplParams {
    /// Objective.
    pub objective: LearningObjective,
    /// Step size.
    pub learning_rate: f64,
    /// Gradient steps.
    pub epochs: usize,
    /// L2 penalty on the weights.
    pub l2: f64,
}

impl Default for OplParams {
    fn default() -> Self {
        OplParams {
            objective: LearningObjective::DoublyRobust,
            learning_rate: 0.5,
            epochs: 200,
            l2: 1e-3,
        }
    }
}

/// A linear softmax policy `pi(a | x) = softmax_a(<w_a, [x, 1]>)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearSoftmaxPolicy {
    /// One weight vector (dimension `d + 1`, last entry the bias) per action.
    pub weights: Vec<Vec<f64>>,
}

impl LinearSoftmaxPolicy {
    /// The uniform policy (zero weights).
    pub fn zeros(n_actions: usize, dim: usize) -> Self {
        LinearSoftmaxPolicy {
            weights: vec![vec![0.0; dim + 1]; n_actions],
        }
    }

    /// Action probabilities for context `x` into `out`.
    pub fn probabilities_into(&self, x: &[f64], out: &mut [f64]) {
        let logits: Vec<f64> = self
            .weights
            .iter()
            .map(|w| dot(&w[..x.len()], x) + w[x.len()])
            .collect();
        softmax_into(&logits, out);
    }

    /// Row-major `n x K` action distribution on the given contexts.
    pub fn action_dist(&self, contexts: &[Vec<f64>]) -> Vec<f64> {
        let k = self.weights.len();
        let mut out = vec![0.0; contexts.len() * k];
        for (i, x) in contexts.iter().enumerate() {
            self.probabilities_into(x, &mut out[i * k..(i + 1) * k]);
        }
        out
    }

    /// Learns from logs by gradient ascent on the IPS or DR estimate of the
    /// policy's value. With per-round value vector `v_i` (IPS:
    /// `v_i(a) = 1{a = a_i} r_i / p_i`; DR: `v_i(a) = q̂(x_i, a) +
    /// 1{a = a_i} (r_i - q̂(x_i, a_i)) / p_i`) the estimate is
    /// `J = mean_i <pi(. | x_i), v_i>` and its exact gradient is
    /// `dJ/dw_b = mean_i pi(b | x_i) (v_i(b) - <pi(. | x_i), v_i>) [x_i, 1]`.
    /// `qhat` (row-major `n x K`) is required for DR.
    pub fn fit(logged: &LoggedFeedback, qhat: Option<&[f64]>, params: &OplParams) -> Result<Self> {
        logged.validate()?;
        check::positive("learning_rate", params.learning_rate)?;
        if !(params.l2 >= 0.0 && params.l2.is_finite()) {
            return Err(Error::invalid("l2", params.l2, "a finite number >= 0"));
        }
        let k = logged.n_actions;
        let n = logged.actions.len();
        let d = logged.dim();
        if params.objective == LearningObjective::DoublyRobust {
            let q = qhat.ok_or_else(|| {
                Error::invalid("qhat", "none", "a reward model for the DR objective")
            })?;
            check::same_len("rounds x actions", n * k, "qhat", q.len())?;
        }
        let mut policy = Self::zeros(k, d);
        let mut grad = vec![vec![0.0; d + 1]; k];
        let mut pi = vec![0.0; k];
        let mut v = vec![0.0; k];
        for _ in 0..params.epochs {
            grad.iter_mut()
                .for_each(|g| g.iter_mut().for_each(|x| *x = 0.0));
            for i in 0..n {
                let x = &logged.contexts[i];
                policy.probabilities_into(x, &mut pi);
                let (a_i, r_i, p_i) = (logged.actions[i], logged.rewards[i], logged.pscores[i]);
                match (params.objective, qhat) {
                    (LearningObjective::DoublyRobust, Some(q)) => {
                        let row = &q[i * k..(i + 1) * k];
                        v.copy_from_slice(row);
                        v[a_i] += (r_i - row[a_i]) / p_i;
                    }
                    _ => {
                        v.iter_mut().for_each(|x| *x = 0.0);
                        v[a_i] = r_i / p_i;
                    }
                }
                let value = dot(&pi, &v);
                for b in 0..k {
                    let coef = pi[b] * (v[b] - value) / n as f64;
                    for j in 0..d {
                        grad[b][j] += coef * x[j];
                    }
                    grad[b][d] += coef;
                }
            }
            for (w, g) in policy.weights.iter_mut().zip(&grad) {
                for (wj, gj) in w.iter_mut().zip(g) {
                    *wj += params.learning_rate * (gj - params.l2 * *wj);
                }
            }
        }
        Ok(policy)
    }

    /// The true value of this policy on synthetic logs (known `q`).
    pub fn true_value(&self, log: &SyntheticLog) -> f64 {
        let k = self.weights.len();
        let mut pi = vec![0.0; k];
        let n = log.logged.contexts.len();
        let mut total = 0.0;
        for (i, x) in log.logged.contexts.iter().enumerate() {
            self.probabilities_into(x, &mut pi);
            total += dot(&pi, &log.expected_rewards[i * k..(i + 1) * k]);
        }
        total / n.max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ope::{DirectMethod, DoublyRobust, Ipw, OffPolicyEstimator};
    use duality_core::seed::Seeder;

    #[test]
    fn estimators_recover_ground_truth_and_learning_improves() {
        let params = SyntheticParams {
            n_rounds: 4000,
            ..SyntheticParams::default()
        };
        let log = generate_logs(&params, &mut Seeder::new(5).rng(0)).unwrap();
        let qhat = log.logged.ridge_reward_model(1.0).unwrap();
        let data = log
            .logged
            .ope_data(log.evaluation_dist.clone(), qhat.clone())
            .unwrap();
        let truth = log.ground_truth;
        let dr = DoublyRobust.estimate(&data).unwrap();
        let ipw = Ipw.estimate(&data).unwrap();
        assert!((dr - truth).abs() < 0.06, "dr {dr} truth {truth}");
        assert!((ipw - truth).abs() < 0.15, "ipw {ipw} truth {truth}");
        assert!(DirectMethod.estimate(&data).unwrap().is_finite());
        // The borrowed view of the same log gives the same estimates.
        let view = log.logged.ope_view(&log.evaluation_dist, &qhat).unwrap();
        assert_eq!(DoublyRobust.estimate_view(&view).unwrap(), dr);
        assert_eq!(Ipw.estimate_view(&view).unwrap(), ipw);
        let uniform = LinearSoftmaxPolicy::zeros(params.n_actions, params.dim).true_value(&log);
        let learned =
            LinearSoftmaxPolicy::fit(&log.logged, Some(&qhat), &OplParams::default()).unwrap();
        assert!(
            learned.true_value(&log) > uniform + 0.02,
            "{} vs {uniform}",
            learned.true_value(&log)
        );
    }
}
