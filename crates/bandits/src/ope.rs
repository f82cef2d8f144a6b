//! Off-policy evaluation from logged bandit feedback, with Open Bandit
//! Pipeline's definitions (Saito et al. 2021, obp 0.4.1 `obp.ope.estimators`;
//! the estimators of Dudík, Langford & Li 2011 and Wang, Agarwal & Dudík
//! 2017, as used in the ad-load balancing paper).
//!
//! With importance weight `w_i = pi_e(a_i | x_i) / pi_b(a_i | x_i)` and a
//! reward model `q̂(x, a)`, each estimator is the mean of per-round values:
//!
//! - IPW: `w_i r_i`;
//! - SNIPW: `w_i r_i / mean(w)`;
//! - DM: `sum_a pi_e(a | x_i) q̂(x_i, a) / sum_a pi_e(a | x_i)` (obp's
//!   `np.average(q̂, weights=pi_e)`);
//! - DR: DM term `+ w_i (r_i - q̂(x_i, a_i))`;
//! - Switch-DR: DM term `+ 1{w_i <= tau} w_i (r_i - q̂(x_i, a_i))`.
//!
//! No clipping is applied (obp's default `lambda_ = inf`). Confidence
//! intervals bootstrap the mean of the per-round values (as obp's
//! `estimate_interval`) through `duality-eval`.

use std::io::Read;

use duality_core::{check, Error, Result};
use duality_eval::prelude::{Interval, Metric};
use serde::{Deserialize, Serialize};

use crate::stats::{bootstrap_ci, CiParams};

/// Logged bandit feedback plus what an estimator needs about the evaluation
/// policy: `n` rounds, `K` actions, row-major `n x K` matrices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpeData {
    n_actions: usize,
    actions: Vec<usize>,
    rewards: Vec<f64>,
    pscores: Vec<f64>,
    /// `pi_e(a | x_i)` at `i * K + a`.
    action_dist: Vec<f64>,
    /// `q̂(x_i, a)` at `i * K + a` (empty when no reward model is given).
    qhat: Vec<f64>,
}

impl OpeData {
    /// Validates and builds the data. `action_dist` and `qhat` are row-major
    /// `n x K`; `qhat` may be empty (then DM/DR/Switch-DR are unavailable).
    /// Propensities must lie in `(0, 1]` (IPW divides by them).
    pub fn new(
        n_actions: usize,
        actions: Vec<usize>,
        rewards: Vec<f64>,
        pscores: Vec<f64>,
        action_dist: Vec<f64>,
        qhat: Vec<f64>,
    ) -> Result<Self> {
        check::at_least("number of actions", n_actions, 1)?;
        let n = actions.len();
        if n == 0 {
            return Err(Error::Empty {
                what: "logged rounds".into(),
                min: 1,
            });
        }
        check::same_len("actions", n, "rewards", rewards.len())?;
        check::same_len("actions", n, "pscores", pscores.len())?;
        check::same_len(
            "actions x n_actions",
            n * n_actions,
            "action_dist",
            action_dist.len(),
        )?;
        if !qhat.is_empty() {
            check::same_len("actions x n_actions", n * n_actions, "qhat", qhat.len())?;
            check::finite("qhat", &qhat)?;
        }
        check::finite("rewards", &rewards)?;
        for (i, &a) in actions.iter().enumerate() {
            if a >= n_actions {
                return Err(Error::invalid(
                    format!("actions[{i}]"),
                    a,
                    format!("an action in 0..{n_actions}"),
                ));
            }
        }
        for (i, &p) in pscores.iter().enumerate() {
            if !(p > 0.0 && p <= 1.0) {
                return Err(Error::invalid(
                    format!("pscores[{i}]"),
                    p,
                    "a propensity in (0, 1] (IPW divides by it)",
                ));
            }
        }
        check::probabilities("action_dist", &action_dist)?;
        Ok(OpeData {
            n_actions,
            actions,
            rewards,
            pscores,
            action_dist,
            qhat,
        })
    }

    /// Reads the CSV format of `duality bandit ope`: header
    /// `action,reward,pscore,pi_0..pi_{K-1}[,qhat_0..qhat_{K-1}]`; `K` is
    /// taken from the `pi_` columns. Errors name the line and column.
    pub fn from_csv<R: Read>(reader: R, source_name: &str) -> Result<Self> {
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let headers = rdr
            .headers()
            .map_err(|e| Error::parse(source_name, Some(1), e.to_string()))?
            .clone();
        let names: Vec<String> = headers.iter().map(|h| h.trim().to_string()).collect();
        let col = |name: &str| {
            duality_core::record::header_column(
                &headers,
                name,
                source_name,
                "action,reward,pscore,pi_0..,qhat_0..",
            )
        };
        let (ia, ir, ip) = (col("action")?, col("reward")?, col("pscore")?);
        let k = names.iter().filter(|h| h.starts_with("pi_")).count();
        if k == 0 {
            return Err(Error::parse(
                source_name,
                Some(1),
                "no `pi_0..` columns in header",
            ));
        }
        let pi_cols: Vec<usize> = (0..k)
            .map(|a| col(&format!("pi_{a}")))
            .collect::<Result<_>>()?;
        let n_q = names.iter().filter(|h| h.starts_with("qhat_")).count();
        if n_q != 0 && n_q != k {
            return Err(Error::parse(
                source_name,
                Some(1),
                format!("{k} `pi_` columns but {n_q} `qhat_` columns: expected as many"),
            ));
        }
        let q_cols: Vec<usize> = (0..n_q)
            .map(|a| col(&format!("qhat_{a}")))
            .collect::<Result<_>>()?;
        let (mut actions, mut rewards, mut pscores, mut dist, mut qhat) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (row_no, row) in rdr.records().enumerate() {
            let line = row_no + 2;
            let row = row.map_err(|e| Error::parse(source_name, Some(line), e.to_string()))?;
            if row.len() != names.len() {
                return Err(Error::parse(
                    source_name,
                    Some(line),
                    format!("{} fields but the header has {}", row.len(), names.len()),
                ));
            }
            let num = |i: usize| -> Result<f64> {
                let s = row.get(i).unwrap_or("").trim();
                s.parse::<f64>().map_err(|_| {
                    Error::parse(
                        source_name,
                        Some(line),
                        format!("column `{}` is not a number: {s:?}", names[i]),
                    )
                })
            };
            let a_text = row.get(ia).unwrap_or("").trim();
            let a: usize = a_text.parse().map_err(|_| {
                Error::parse(
                    source_name,
                    Some(line),
                    format!("action is not an integer: {a_text:?}"),
                )
            })?;
            if a >= k {
                return Err(Error::parse(
                    source_name,
                    Some(line),
                    format!("action {a} out of range 0..{k}"),
                ));
            }
            let r = num(ir)?;
            if !r.is_finite() {
                return Err(Error::parse(
                    source_name,
                    Some(line),
                    format!("reward is {r}: expected a finite number"),
                ));
            }
            let p = num(ip)?;
            if !(p > 0.0 && p <= 1.0) {
                return Err(Error::parse(
                    source_name,
                    Some(line),
                    format!("pscore = {p}: expected a propensity in (0, 1] (IPW divides by it)"),
                ));
            }
            actions.push(a);
            rewards.push(r);
            pscores.push(p);
            for &c in &pi_cols {
                let v = num(c)?;
                if !(0.0..=1.0).contains(&v) {
                    return Err(Error::parse(
                        source_name,
                        Some(line),
                        format!("{} = {v}: expected a probability in [0, 1]", names[c]),
                    ));
                }
                dist.push(v);
            }
            for &c in &q_cols {
                let v = num(c)?;
                if !v.is_finite() {
                    return Err(Error::parse(
                        source_name,
                        Some(line),
                        format!("{} = {v}: expected a finite number", names[c]),
                    ));
                }
                qhat.push(v);
            }
        }
        Self::new(k, actions, rewards, pscores, dist, qhat)
    }

    /// Number of logged rounds.
    pub fn len(&self) -> usize {
        self.actions.len()
    }
    /// Whether there are no rounds (never true for validated data).
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
    /// Number of actions `K`.
    pub fn n_actions(&self) -> usize {
        self.n_actions
    }
    /// Whether a reward model `q̂` is present.
    pub fn has_reward_model(&self) -> bool {
        !self.qhat.is_empty()
    }
    /// Logged actions `a_i`.
    pub fn actions(&self) -> &[usize] {
        &self.actions
    }
    /// Logged rewards `r_i`.
    pub fn rewards(&self) -> &[f64] {
        &self.rewards
    }
    /// Logging propensities `pi_b(a_i | x_i)`.
    pub fn pscores(&self) -> &[f64] {
        &self.pscores
    }
    /// Evaluation-policy probabilities, row-major `n x K`.
    pub fn action_dist(&self) -> &[f64] {
        &self.action_dist
    }
    /// Reward-model predictions `q̂(x_i, a)`, row-major `n x K` (empty
    /// without a model).
    pub fn qhat(&self) -> &[f64] {
        &self.qhat
    }

    /// Writes the data as one little-endian `f64` array, in this order:
    /// `actions` (n, as exact integers), `rewards` (n), `pscores` (n),
    /// `action_dist` (n K), `qhat` (n K or nothing); read it with
    /// `numpy.fromfile(path, dtype="<f8")`. 10^6 rounds with K = 5 take
    /// 104 MB, against about 3x that as JSON text. Used to hand large logs
    /// to the obp peer of the bench suite.
    pub fn write_f64_le(&self, path: &std::path::Path) -> Result<()> {
        let mut buf = Vec::with_capacity(8 * (3 * self.len() + 2 * self.action_dist.len()));
        for &a in &self.actions {
            buf.extend_from_slice(&(a as f64).to_le_bytes());
        }
        for v in [&self.rewards, &self.pscores, &self.action_dist, &self.qhat] {
            for x in v.iter() {
                buf.extend_from_slice(&x.to_le_bytes());
            }
        }
        std::fs::write(path, &buf).map_err(|e| Error::io(path, e))
    }

    /// Importance weights `pi_e(a_i | x_i) / pscore_i`.
    pub fn importance_weights(&self) -> Vec<f64> {
        let k = self.n_actions;
        self.actions
            .iter()
            .zip(&self.pscores)
            .enumerate()
            .map(|(i, (&a, &p))| self.action_dist[i * k + a] / p)
            .collect()
    }

    fn require_model(&self, estimator: &str) -> Result<()> {
        if self.qhat.is_empty() {
            return Err(Error::invalid(
                format!("reward model for {estimator}"),
                "none",
                "qhat_0..qhat_{K-1} columns (estimated rewards per action)",
            ));
        }
        Ok(())
    }

    /// obp's DM term per round: `np.average(q̂_i, weights=pi_e_i)`. A row
    /// whose evaluation-policy probabilities sum to 0 is an error naming the
    /// row, as numpy's `ZeroDivisionError` is in obp 0.4.1 (not a silent 0).
    fn dm_terms(&self) -> Result<Vec<f64>> {
        let k = self.n_actions;
        (0..self.len())
            .map(|i| {
                let pi = &self.action_dist[i * k..(i + 1) * k];
                let q = &self.qhat[i * k..(i + 1) * k];
                let wsum: f64 = pi.iter().sum();
                let dot: f64 = pi.iter().zip(q).map(|(p, q)| p * q).sum();
                if wsum > 0.0 {
                    Ok(dot / wsum)
                } else {
                    Err(Error::invalid(
                        format!("evaluation-policy probabilities of row {i} (sum)"),
                        wsum,
                        "a positive sum (the DM term is an average weighted by them)",
                    ))
                }
            })
            .collect()
    }

    fn factual_qhat(&self, i: usize) -> f64 {
        self.qhat[i * self.n_actions + self.actions[i]]
    }
}

/// An off-policy value estimator: a mean of per-round values.
pub trait OffPolicyEstimator {
    /// Name (`ipw`, `snipw`, `dm`, `dr`, `switch-dr`).
    fn name(&self) -> String;
    /// The per-round values whose mean is the estimate.
    fn round_values(&self, data: &OpeData) -> Result<Vec<f64>>;
    /// The policy-value estimate.
    fn estimate(&self, data: &OpeData) -> Result<f64> {
        let v = self.round_values(data)?;
        Ok(v.iter().sum::<f64>() / v.len().max(1) as f64)
    }
    /// The estimate with a bootstrap CI of the mean of the per-round values.
    fn interval(&self, data: &OpeData, ci: &CiParams) -> Result<Interval> {
        bootstrap_ci(&self.round_values(data)?, Metric::Mean, ci)
    }
}

/// Inverse propensity weighting (Horvitz-Thompson; obp `InverseProbabilityWeighting`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Ipw;

/// Self-normalised IPW (Swaminathan & Joachims 2015; obp
/// `SelfNormalizedInverseProbabilityWeighting`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Snipw;

/// Direct method: the reward model averaged under the evaluation policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct DirectMethod;

/// Doubly robust (Dudík, Langford & Li 2011, eq. (2); obp `DoublyRobust`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct DoublyRobust;

/// Switch-DR (Wang, Agarwal & Dudík 2017, in obp's form
/// `SwitchDoublyRobust`): the DR correction only where `w <= tau`.
/// `Default` is obp 0.4.1's `tau = 1` ([`OBP_SWITCH_TAU`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SwitchDoublyRobust {
    tau: f64,
}

impl SwitchDoublyRobust {
    /// Threshold `tau >= 0` on the importance weight (may be infinite: then DR).
    pub fn new(tau: f64) -> Result<Self> {
        if tau.is_nan() || tau < 0.0 {
            return Err(Error::invalid("switch tau", tau, "a number >= 0"));
        }
        Ok(SwitchDoublyRobust { tau })
    }

    /// The threshold.
    pub fn tau(&self) -> f64 {
        self.tau
    }
}

/// obp 0.4.1's default Switch-DR threshold (`SwitchDoublyRobust.tau = 1.0`).
pub const OBP_SWITCH_TAU: f64 = 1.0;

/// obp 0.4.1's default number of bootstrap replicates
/// (`estimate_confidence_interval_by_bootstrap(n_bootstrap_samples=10000)`).
pub const OBP_BOOTSTRAP_REPS: usize = 10_000;

impl Default for SwitchDoublyRobust {
    fn default() -> Self {
        SwitchDoublyRobust {
            tau: OBP_SWITCH_TAU,
        }
    }
}

impl OffPolicyEstimator for Ipw {
    fn name(&self) -> String {
        "ipw".into()
    }
    fn round_values(&self, data: &OpeData) -> Result<Vec<f64>> {
        Ok(data
            .importance_weights()
            .iter()
            .zip(&data.rewards)
            .map(|(w, r)| w * r)
            .collect())
    }
}

impl OffPolicyEstimator for Snipw {
    fn name(&self) -> String {
        "snipw".into()
    }
    fn round_values(&self, data: &OpeData) -> Result<Vec<f64>> {
        let w = data.importance_weights();
        let mean_w = w.iter().sum::<f64>() / w.len() as f64;
        if mean_w <= 0.0 {
            return Err(Error::invalid(
                "mean importance weight",
                mean_w,
                "> 0 (the evaluation policy never takes a logged action)",
            ));
        }
        Ok(w.iter()
            .zip(&data.rewards)
            .map(|(w, r)| w * r / mean_w)
            .collect())
    }
}

impl OffPolicyEstimator for DirectMethod {
    fn name(&self) -> String {
        "dm".into()
    }
    fn round_values(&self, data: &OpeData) -> Result<Vec<f64>> {
        data.require_model("dm")?;
        data.dm_terms()
    }
}

impl OffPolicyEstimator for DoublyRobust {
    fn name(&self) -> String {
        "dr".into()
    }
    fn round_values(&self, data: &OpeData) -> Result<Vec<f64>> {
        // DR is switch-DR that never switches (every weight <= infinity).
        switch_dr_terms(data, "dr", f64::INFINITY)
    }
    fn estimate(&self, data: &OpeData) -> Result<f64> {
        switch_dr_estimate(data, "dr", f64::INFINITY)
    }
}

/// The switch-DR (DR for `tau = inf`) estimate in one fused pass over the
/// rows (issue #26): per row the DM term `pi . q / sum(pi)`, the weight
/// `pi(a) / pscore` and the correction, added straight into one running
/// sum, with no per-round vectors. The arithmetic and the summation order
/// are those of [`switch_dr_terms`] followed by the mean, so the value is
/// the same to the last bit. The pass reads each row's `K` probabilities
/// and `K` predictions once (`16 K + 24` bytes per row): it is bound by
/// memory bandwidth.
fn switch_dr_estimate(data: &OpeData, name: &str, tau: f64) -> Result<f64> {
    data.require_model(name)?;
    let k = data.n_actions;
    let mut total = 0.0;
    let rows = data
        .action_dist
        .chunks_exact(k)
        .zip(data.qhat.chunks_exact(k))
        .zip(data.actions.iter().zip(&data.pscores).zip(&data.rewards));
    for (i, ((pi, q), ((&a, &p), &r))) in rows.enumerate() {
        let wsum: f64 = pi.iter().sum();
        let dot: f64 = pi.iter().zip(q).map(|(p, q)| p * q).sum();
        if wsum > 0.0 {
            let w = pi[a] / p;
            let switch = if w <= tau { 1.0 } else { 0.0 };
            total += dot / wsum + switch * w * (r - q[a]);
        } else {
            return Err(Error::invalid(
                format!("evaluation-policy probabilities of row {i} (sum)"),
                wsum,
                "a positive sum (the DM term is an average weighted by them)",
            ));
        }
    }
    Ok(total / data.len().max(1) as f64)
}

/// Per-round switch-DR terms: the direct-method term plus the weighted
/// residual `w (r - qhat)` of rounds whose importance weight is at most
/// `tau` (Wang et al. 2017); `tau = inf` gives doubly robust.
fn switch_dr_terms(data: &OpeData, name: &str, tau: f64) -> Result<Vec<f64>> {
    data.require_model(name)?;
    let w = data.importance_weights();
    Ok(data
        .dm_terms()?
        .into_iter()
        .enumerate()
        .map(|(i, dm)| {
            let switch = if w[i] <= tau { 1.0 } else { 0.0 };
            dm + switch * w[i] * (data.rewards[i] - data.factual_qhat(i))
        })
        .collect())
}

impl OffPolicyEstimator for SwitchDoublyRobust {
    fn name(&self) -> String {
        "switch-dr".into()
    }
    fn round_values(&self, data: &OpeData) -> Result<Vec<f64>> {
        switch_dr_terms(data, "switch-dr", self.tau)
    }
    fn estimate(&self, data: &OpeData) -> Result<f64> {
        switch_dr_estimate(data, "switch-dr", self.tau)
    }
}

/// The estimators by name (`ipw`, `snipw`, `dm`, `dr`, `switch-dr`, as in
/// `duality bandit ope --estimators`; `ips` and `snips` are accepted
/// aliases). Parse with [`str::parse`], print with `Display`.
///
/// ```
/// use duality_bandits::ope::EstimatorKind;
///
/// let kind: EstimatorKind = "switch-dr".parse().unwrap();
/// assert_eq!(kind.to_string(), "switch-dr");
/// // switch-dr without a threshold takes obp 0.4.1's default tau = 1
/// assert_eq!(kind.build(None).unwrap().name(), "switch-dr");
/// assert_eq!(kind.build(Some(5.0)).unwrap().name(), "switch-dr");
/// assert!("ipx".parse::<EstimatorKind>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EstimatorKind {
    /// [`Ipw`].
    Ipw,
    /// [`Snipw`].
    Snipw,
    /// [`DirectMethod`].
    DirectMethod,
    /// [`DoublyRobust`].
    DoublyRobust,
    /// [`SwitchDoublyRobust`] (needs `tau`).
    SwitchDoublyRobust,
}

impl std::str::FromStr for EstimatorKind {
    type Err = Error;
    fn from_str(name: &str) -> Result<Self> {
        Ok(match name.trim().to_ascii_lowercase().as_str() {
            "ipw" | "ips" => EstimatorKind::Ipw,
            "snipw" | "snips" => EstimatorKind::Snipw,
            "dm" => EstimatorKind::DirectMethod,
            "dr" => EstimatorKind::DoublyRobust,
            "switch-dr" => EstimatorKind::SwitchDoublyRobust,
            other => {
                return Err(Error::invalid(
                    "estimator",
                    other,
                    "one of ipw, snipw, dm, dr, switch-dr",
                ))
            }
        })
    }
}

impl std::fmt::Display for EstimatorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EstimatorKind::Ipw => "ipw",
            EstimatorKind::Snipw => "snipw",
            EstimatorKind::DirectMethod => "dm",
            EstimatorKind::DoublyRobust => "dr",
            EstimatorKind::SwitchDoublyRobust => "switch-dr",
        })
    }
}

impl EstimatorKind {
    /// The estimator; `switch-dr` uses the importance-weight threshold `tau`
    /// ([`OBP_SWITCH_TAU`] = 1 when `None`, obp 0.4.1's default).
    pub fn build(self, tau: Option<f64>) -> Result<Box<dyn OffPolicyEstimator>> {
        Ok(match self {
            EstimatorKind::Ipw => Box::new(Ipw),
            EstimatorKind::Snipw => Box::new(Snipw),
            EstimatorKind::DirectMethod => Box::new(DirectMethod),
            EstimatorKind::DoublyRobust => Box::new(DoublyRobust),
            EstimatorKind::SwitchDoublyRobust => {
                Box::new(SwitchDoublyRobust::new(tau.unwrap_or(OBP_SWITCH_TAU))?)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn binary_export_round_trips() {
        let data = OpeData::new(
            2,
            vec![1, 0, 1],
            vec![1.0, 0.0, 0.5],
            vec![0.5, 0.25, 0.75],
            vec![0.2, 0.8, 0.6, 0.4, 0.1, 0.9],
            vec![0.3, 0.7, 0.2, 0.1, 0.0, 1.0],
        )
        .unwrap();
        let path = std::env::temp_dir().join(format!("duality-ope-{}.f64", std::process::id()));
        data.write_f64_le(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        let vals: Vec<f64> = bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let mut expected: Vec<f64> = data.actions().iter().map(|&a| a as f64).collect();
        for v in [
            data.rewards(),
            data.pscores(),
            data.action_dist(),
            data.qhat(),
        ] {
            expected.extend_from_slice(v);
        }
        assert_eq!(vals, expected);
        assert_eq!(vals.len(), 3 * 3 + 2 * 3 * 2);
        let bad = std::path::Path::new("/nonexistent-dir/x.f64");
        let err = data.write_f64_le(bad).unwrap_err().to_string();
        assert!(err.contains("nonexistent-dir"), "{err}");
    }

    fn tiny() -> OpeData {
        // 2 rounds, 2 actions.
        OpeData::new(
            2,
            vec![0, 1],
            vec![1.0, 0.0],
            vec![0.5, 0.25],
            vec![1.0, 0.0, 0.5, 0.5],
            vec![0.8, 0.2, 0.4, 0.6],
        )
        .unwrap()
    }

    #[test]
    fn hand_computed_estimates() {
        let d = tiny();
        // w = (2, 2); IPW = mean(2*1, 2*0) = 1.
        assert_relative_eq!(Ipw.estimate(&d).unwrap(), 1.0);
        // SNIPW = mean(w r) / mean(w) = 1 / 2.
        assert_relative_eq!(Snipw.estimate(&d).unwrap(), 0.5);
        // DM = mean(0.8, 0.5).
        assert_relative_eq!(DirectMethod.estimate(&d).unwrap(), 0.65);
        // DR = mean(0.8 + 2 (1 - 0.8), 0.5 + 2 (0 - 0.6)).
        assert_relative_eq!(DoublyRobust.estimate(&d).unwrap(), 0.5 * (1.2 - 0.7));
        // tau = 1 switches both corrections off: DM.
        assert_relative_eq!(
            SwitchDoublyRobust::new(1.0).unwrap().estimate(&d).unwrap(),
            0.65
        );
    }

    #[test]
    fn fused_dr_equals_the_mean_of_round_values_bit_for_bit() {
        use rand::{Rng, SeedableRng};
        let mut rng = duality_core::seed::DualityRng::seed_from_u64(5);
        let (n, k) = (997, 4);
        let mut dist = Vec::new();
        for _ in 0..n {
            let row: Vec<f64> = (0..k).map(|_| rng.random::<f64>()).collect();
            let s: f64 = row.iter().sum();
            dist.extend(row.iter().map(|v| v / s));
        }
        let data = OpeData::new(
            k,
            (0..n).map(|_| rng.random_range(0..k)).collect(),
            (0..n).map(|_| rng.random::<f64>()).collect(),
            (0..n).map(|_| rng.random_range(0.05..1.0)).collect(),
            dist,
            (0..n * k).map(|_| rng.random::<f64>()).collect(),
        )
        .unwrap();
        let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
        let dr = DoublyRobust;
        assert_eq!(
            dr.estimate(&data).unwrap(),
            mean(dr.round_values(&data).unwrap())
        );
        for tau in [0.0, 0.5, 1.0, 3.0, f64::INFINITY] {
            let sw = SwitchDoublyRobust::new(tau).unwrap();
            assert_eq!(
                sw.estimate(&data).unwrap(),
                mean(sw.round_values(&data).unwrap()),
                "tau {tau}"
            );
        }
    }

    #[test]
    fn dm_row_with_zero_probability_sum_is_an_error_as_in_obp() {
        let data = OpeData::new(
            2,
            vec![0, 1],
            vec![1.0, 0.0],
            vec![0.5, 0.5],
            vec![0.5, 0.5, 0.0, 0.0],
            vec![0.2, 0.4, 0.1, 0.3],
        )
        .unwrap();
        let err = DirectMethod.estimate(&data).unwrap_err().to_string();
        assert!(err.contains("row 1"), "{err}");
        assert!(DoublyRobust.estimate(&data).is_err());
    }

    #[test]
    fn bad_logs_are_rejected_by_name() {
        let err = OpeData::new(2, vec![0], vec![1.0], vec![0.0], vec![1.0, 0.0], vec![])
            .unwrap_err()
            .to_string();
        assert!(err.contains("pscores[0]"), "{err}");
        let err = OpeData::new(
            2,
            vec![0],
            vec![f64::NAN],
            vec![0.5],
            vec![1.0, 0.0],
            vec![],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("rewards[0]"), "{err}");
        let csv = "action,reward,pscore,pi_0,pi_1\n0,1,0.5,1,0\n1,0,0.5,0.5\n";
        let err = OpeData::from_csv(csv.as_bytes(), "log.csv")
            .unwrap_err()
            .to_string();
        assert!(err.contains("log.csv line 3"), "{err}");
        assert!(DirectMethod
            .estimate(
                &OpeData::from_csv("action,reward,pscore,pi_0\n0,1,1,1\n".as_bytes(), "x").unwrap()
            )
            .is_err());
        assert_eq!(SwitchDoublyRobust::default().tau(), 1.0);
        let sw = EstimatorKind::SwitchDoublyRobust.build(None).unwrap();
        assert_eq!(sw.name(), "switch-dr");
    }
}
