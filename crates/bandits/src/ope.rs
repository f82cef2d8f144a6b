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

/// A logged action index as a log stores it: the crate's own `usize`, or
/// NumPy's default `int64` (so that an `OpeView` borrows Python's
/// `action` array as it is, issue #23). Negative or out-of-range values are
/// refused by the validation, naming the value.
pub trait ActionIndex: Copy + std::fmt::Display + Send + Sync {
    /// The index as `usize` (`None` when negative).
    fn index(self) -> Option<usize>;
}

impl ActionIndex for usize {
    #[inline]
    fn index(self) -> Option<usize> {
        Some(self)
    }
}

impl ActionIndex for i64 {
    #[inline]
    fn index(self) -> Option<usize> {
        usize::try_from(self).ok()
    }
}

/// Borrowed logged actions: `usize` (an [`OpeData`]'s) or `i64` (NumPy's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionSlice<'a> {
    /// The crate's own action indices.
    Usize(&'a [usize]),
    /// Signed 64-bit indices (NumPy's default integer), validated to lie in
    /// `0..K`.
    I64(&'a [i64]),
}

impl ActionSlice<'_> {
    /// Number of logged actions.
    pub fn len(&self) -> usize {
        match self {
            ActionSlice::Usize(a) => a.len(),
            ActionSlice::I64(a) => a.len(),
        }
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Action `i` as `usize` (`None` when `i` is out of range or the
    /// stored value is negative).
    pub fn get(&self, i: usize) -> Option<usize> {
        match self {
            ActionSlice::Usize(a) => a.get(i).copied(),
            ActionSlice::I64(a) => a.get(i).and_then(|&v| v.index()),
        }
    }
}

impl<'a> From<&'a [usize]> for ActionSlice<'a> {
    fn from(a: &'a [usize]) -> Self {
        ActionSlice::Usize(a)
    }
}

impl<'a> From<&'a [i64]> for ActionSlice<'a> {
    fn from(a: &'a [i64]) -> Self {
        ActionSlice::I64(a)
    }
}

impl<'a> From<&'a Vec<usize>> for ActionSlice<'a> {
    fn from(a: &'a Vec<usize>) -> Self {
        ActionSlice::Usize(a)
    }
}

impl<'a> From<&'a Vec<i64>> for ActionSlice<'a> {
    fn from(a: &'a Vec<i64>) -> Self {
        ActionSlice::I64(a)
    }
}

/// Runs `$body` with `$a` bound to the typed slice of an [`ActionSlice`]:
/// the dispatch happens once per call, the loops inside are monomorphic.
macro_rules! with_actions {
    ($slice:expr, |$a:ident| $body:expr) => {
        match $slice {
            ActionSlice::Usize($a) => $body,
            ActionSlice::I64($a) => $body,
        }
    };
}

/// The O(1) checks of a log: counts and lengths (no values read).
fn check_shapes(
    n_actions: usize,
    n: usize,
    rewards: &[f64],
    pscores: &[f64],
    action_dist: &[f64],
    qhat: &[f64],
) -> Result<()> {
    check::at_least("number of actions", n_actions, 1)?;
    if n == 0 {
        return Err(Error::Empty {
            what: "logged rounds".into(),
            min: 1,
        });
    }
    check::same_len("actions", n, "rewards", rewards.len())?;
    check::same_len("actions", n, "pscores", pscores.len())?;
    let cells = n.checked_mul(n_actions).ok_or_else(|| {
        Error::invalid(
            "actions x n_actions",
            format!("{n} x {n_actions}"),
            "a product that fits in memory",
        )
    })?;
    check::same_len(
        "actions x n_actions",
        cells,
        "action_dist",
        action_dist.len(),
    )?;
    if !qhat.is_empty() {
        check::same_len("actions x n_actions", cells, "qhat", qhat.len())?;
    }
    Ok(())
}

/// The value checks of a log, in [`OpeData::new`]'s order (the first bad
/// value of the first array that has one is named): `qhat` finite,
/// `rewards` finite, actions in `0..K`, propensities in `(0, 1]`,
/// `action_dist` in `[0, 1]`.
fn check_values(
    n_actions: usize,
    actions: ActionSlice<'_>,
    rewards: &[f64],
    pscores: &[f64],
    action_dist: &[f64],
    qhat: &[f64],
) -> Result<()> {
    if !qhat.is_empty() {
        check::finite("qhat", qhat)?;
    }
    check::finite("rewards", rewards)?;
    with_actions!(actions, |acts| {
        if let Some(i) = acts
            .iter()
            .position(|a| a.index().is_none_or(|a| a >= n_actions))
        {
            return Err(Error::invalid(
                format!("actions[{i}]"),
                acts[i],
                format!("an action in 0..{n_actions}"),
            ));
        }
    });
    if let Some(i) = pscores.iter().position(|&p| !(p > 0.0 && p <= 1.0)) {
        return Err(Error::invalid(
            format!("pscores[{i}]"),
            pscores[i],
            "a propensity in (0, 1] (IPW divides by it)",
        ));
    }
    check::probabilities("action_dist", action_dist)
}

/// Logged bandit feedback plus what an estimator needs about the evaluation
/// policy: `n` rounds, `K` actions, row-major `n x K` matrices. Owns its
/// data; [`OpeView`] is the same log borrowed from slices (what the Python
/// binding passes), and the estimators run on either.
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
        OpeView::new(n_actions, &actions, &rewards, &pscores, &action_dist, &qhat)?;
        Ok(OpeData {
            n_actions,
            actions,
            rewards,
            pscores,
            action_dist,
            qhat,
        })
    }

    /// The data as a borrowed, already validated [`OpeView`] (no copy).
    pub fn view(&self) -> OpeView<'_> {
        OpeView {
            n_actions: self.n_actions,
            actions: ActionSlice::Usize(&self.actions),
            rewards: &self.rewards,
            pscores: &self.pscores,
            action_dist: &self.action_dist,
            qhat: &self.qhat,
            validated: true,
        }
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
        importance_weights(
            self.n_actions,
            &self.actions,
            &self.pscores,
            &self.action_dist,
        )
    }
}

/// A log of bandit feedback borrowed from slices: the same data as
/// [`OpeData`] (row-major `n x K` `action_dist` and optional `qhat`), with
/// actions as `usize` or `i64` ([`ActionSlice`]), and nothing copied. The
/// Python binding builds one over NumPy's buffers (issue #23: converting to
/// an owned [`OpeData`] copied about 100 MB per call at 10^6 rounds).
///
/// Validation is that of [`OpeData::new`], with the same messages: eager in
/// [`OpeView::new`]; in [`OpeView::deferred`] the values are checked by the
/// estimator, in the same pass over the rows as the estimate where it has
/// one (DR, Switch-DR), and on the first bad value the checks of
/// [`OpeData::new`] run in their order, so the error names the same value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpeView<'a> {
    n_actions: usize,
    actions: ActionSlice<'a>,
    rewards: &'a [f64],
    pscores: &'a [f64],
    action_dist: &'a [f64],
    qhat: &'a [f64],
    validated: bool,
}

impl<'a> OpeView<'a> {
    /// A validated view (the checks and messages of [`OpeData::new`]).
    pub fn new(
        n_actions: usize,
        actions: impl Into<ActionSlice<'a>>,
        rewards: &'a [f64],
        pscores: &'a [f64],
        action_dist: &'a [f64],
        qhat: &'a [f64],
    ) -> Result<Self> {
        Self::deferred(n_actions, actions, rewards, pscores, action_dist, qhat)?.validated()
    }

    /// A view whose counts and lengths are checked now and whose values are
    /// checked by the estimator that reads them (see the type's doc): an
    /// invalid value is still an error naming it, never a wrong estimate.
    pub fn deferred(
        n_actions: usize,
        actions: impl Into<ActionSlice<'a>>,
        rewards: &'a [f64],
        pscores: &'a [f64],
        action_dist: &'a [f64],
        qhat: &'a [f64],
    ) -> Result<Self> {
        let actions = actions.into();
        check_shapes(
            n_actions,
            actions.len(),
            rewards,
            pscores,
            action_dist,
            qhat,
        )?;
        Ok(OpeView {
            n_actions,
            actions,
            rewards,
            pscores,
            action_dist,
            qhat,
            validated: false,
        })
    }

    /// The view with every value checked ([`OpeData::new`]'s checks and
    /// messages); free when it already is.
    pub fn validated(self) -> Result<Self> {
        if !self.validated {
            check_values(
                self.n_actions,
                self.actions,
                self.rewards,
                self.pscores,
                self.action_dist,
                self.qhat,
            )?;
        }
        Ok(OpeView {
            validated: true,
            ..self
        })
    }

    /// Whether the values have been checked.
    pub fn is_validated(&self) -> bool {
        self.validated
    }

    /// An owned copy ([`OpeData`]), validated.
    pub fn to_data(&self) -> Result<OpeData> {
        let v = self.validated()?;
        let actions = with_actions!(v.actions, |acts| acts
            .iter()
            .map(|a| a.index().unwrap_or(0))
            .collect());
        Ok(OpeData {
            n_actions: v.n_actions,
            actions,
            rewards: v.rewards.to_vec(),
            pscores: v.pscores.to_vec(),
            action_dist: v.action_dist.to_vec(),
            qhat: v.qhat.to_vec(),
        })
    }

    /// Number of logged rounds.
    pub fn len(&self) -> usize {
        self.actions.len()
    }
    /// Whether there are no rounds (never true: refused at construction).
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
    pub fn actions(&self) -> ActionSlice<'a> {
        self.actions
    }
    /// Logged rewards `r_i`.
    pub fn rewards(&self) -> &'a [f64] {
        self.rewards
    }
    /// Logging propensities `pi_b(a_i | x_i)`.
    pub fn pscores(&self) -> &'a [f64] {
        self.pscores
    }
    /// Evaluation-policy probabilities, row-major `n x K`.
    pub fn action_dist(&self) -> &'a [f64] {
        self.action_dist
    }
    /// Reward-model predictions, row-major `n x K` (empty without a model).
    pub fn qhat(&self) -> &'a [f64] {
        self.qhat
    }

    /// Fails unless a reward model is present; on a deferred view the
    /// values are checked first, so that a bad value is reported as
    /// [`OpeData::new`] would have before any estimator ran.
    fn require_model(&self, estimator: &str) -> Result<()> {
        if self.qhat.is_empty() {
            self.validated()?;
            return Err(Error::invalid(
                format!("reward model for {estimator}"),
                "none",
                "qhat_0..qhat_{K-1} columns (estimated rewards per action)",
            ));
        }
        Ok(())
    }
}

/// Importance weights `pi_e(a_i | x_i) / pscore_i` of validated data.
fn importance_weights<A: ActionIndex>(
    k: usize,
    actions: &[A],
    pscores: &[f64],
    action_dist: &[f64],
) -> Vec<f64> {
    actions
        .iter()
        .zip(pscores)
        .enumerate()
        .map(|(i, (&a, &p))| action_dist[i * k + a.index().unwrap_or(usize::MAX)] / p)
        .collect()
}

/// Importance weights of a validated view.
fn view_weights(data: &OpeView<'_>) -> Vec<f64> {
    with_actions!(data.actions, |acts| importance_weights(
        data.n_actions,
        acts,
        data.pscores,
        data.action_dist
    ))
}

/// obp's DM term per round of a validated view: `np.average(q̂_i,
/// weights=pi_e_i)`. A row whose evaluation-policy probabilities sum to 0
/// is an error naming the row, as numpy's `ZeroDivisionError` is in obp
/// 0.4.1 (not a silent 0).
fn dm_terms(data: &OpeView<'_>) -> Result<Vec<f64>> {
    let k = data.n_actions;
    (0..data.len())
        .map(|i| {
            let pi = &data.action_dist[i * k..(i + 1) * k];
            let q = &data.qhat[i * k..(i + 1) * k];
            let wsum: f64 = pi.iter().sum();
            let dot: f64 = pi.iter().zip(q).map(|(p, q)| p * q).sum();
            if wsum > 0.0 {
                Ok(dot / wsum)
            } else {
                Err(zero_row(i, wsum))
            }
        })
        .collect()
}

/// The error of a row whose evaluation-policy probabilities sum to 0.
fn zero_row(i: usize, wsum: f64) -> Error {
    Error::invalid(
        format!("evaluation-policy probabilities of row {i} (sum)"),
        wsum,
        "a positive sum (the DM term is an average weighted by them)",
    )
}

/// An off-policy value estimator: a mean of per-round values. The `_view`
/// methods are the estimator (on owned or borrowed data, [`OpeView`]); the
/// others run them on an [`OpeData`]'s view.
pub trait OffPolicyEstimator {
    /// Name (`ipw`, `snipw`, `dm`, `dr`, `switch-dr`).
    fn name(&self) -> String;
    /// The per-round values whose mean is the estimate.
    fn round_values_view(&self, data: &OpeView<'_>) -> Result<Vec<f64>>;
    /// The policy-value estimate.
    fn estimate_view(&self, data: &OpeView<'_>) -> Result<f64> {
        let v = self.round_values_view(data)?;
        Ok(v.iter().sum::<f64>() / v.len().max(1) as f64)
    }
    /// The estimate with a bootstrap CI of the mean of the per-round values.
    fn interval_view(&self, data: &OpeView<'_>, ci: &CiParams) -> Result<Interval> {
        bootstrap_ci(&self.round_values_view(data)?, Metric::Mean, ci)
    }
    /// [`OffPolicyEstimator::round_values_view`] on owned data.
    fn round_values(&self, data: &OpeData) -> Result<Vec<f64>> {
        self.round_values_view(&data.view())
    }
    /// [`OffPolicyEstimator::estimate_view`] on owned data.
    fn estimate(&self, data: &OpeData) -> Result<f64> {
        self.estimate_view(&data.view())
    }
    /// [`OffPolicyEstimator::interval_view`] on owned data.
    fn interval(&self, data: &OpeData, ci: &CiParams) -> Result<Interval> {
        self.interval_view(&data.view(), ci)
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
    fn round_values_view(&self, data: &OpeView<'_>) -> Result<Vec<f64>> {
        let data = data.validated()?;
        Ok(view_weights(&data)
            .iter()
            .zip(data.rewards)
            .map(|(w, r)| w * r)
            .collect())
    }
}

impl OffPolicyEstimator for Snipw {
    fn name(&self) -> String {
        "snipw".into()
    }
    fn round_values_view(&self, data: &OpeView<'_>) -> Result<Vec<f64>> {
        let data = data.validated()?;
        let w = view_weights(&data);
        let mean_w = w.iter().sum::<f64>() / w.len() as f64;
        if mean_w <= 0.0 {
            return Err(Error::invalid(
                "mean importance weight",
                mean_w,
                "> 0 (the evaluation policy never takes a logged action)",
            ));
        }
        Ok(w.iter()
            .zip(data.rewards)
            .map(|(w, r)| w * r / mean_w)
            .collect())
    }
}

impl OffPolicyEstimator for DirectMethod {
    fn name(&self) -> String {
        "dm".into()
    }
    fn round_values_view(&self, data: &OpeView<'_>) -> Result<Vec<f64>> {
        data.require_model("dm")?;
        dm_terms(&data.validated()?)
    }
}

impl OffPolicyEstimator for DoublyRobust {
    fn name(&self) -> String {
        "dr".into()
    }
    fn round_values_view(&self, data: &OpeView<'_>) -> Result<Vec<f64>> {
        // DR is switch-DR that never switches (every weight <= infinity).
        switch_dr_terms(data, "dr", f64::INFINITY)
    }
    fn estimate_view(&self, data: &OpeView<'_>) -> Result<f64> {
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
///
/// On a deferred [`OpeView`] the same pass also checks each row's values
/// (issue #23: a separate validation pass cost as much as the estimate); at
/// the first bad value, or at a row whose probabilities sum to 0, the full
/// checks of [`OpeData::new`] run in their order, so the error is the one
/// an owned log would have given.
fn switch_dr_estimate(data: &OpeView<'_>, name: &str, tau: f64) -> Result<f64> {
    data.require_model(name)?;
    let pass = with_actions!(data.actions, |acts| if data.validated {
        switch_dr_pass::<_, false>(data, acts, tau)
    } else {
        switch_dr_pass::<_, true>(data, acts, tau)
    });
    match pass {
        Ok(Some(total)) => Ok(total / data.len().max(1) as f64),
        other => {
            // A bad value, or a zero row (which a bad value in a later row
            // precedes in `OpeData::new`'s order): report what the ordered
            // checks find first. They find a value whenever the pass did,
            // as both test the same conditions.
            data.validated()?;
            match other {
                Err(e) => Err(e),
                _ => Err(Error::invalid(
                    "logged data",
                    "a value outside its range",
                    "values that pass OpeData::new's checks",
                )),
            }
        }
    }
}

/// One pass of [`switch_dr_estimate`] over typed actions: the sum of the
/// per-round terms; `Ok(None)` at the first value that fails a check
/// (`CHECK`: the view is deferred).
fn switch_dr_pass<A: ActionIndex, const CHECK: bool>(
    data: &OpeView<'_>,
    actions: &[A],
    tau: f64,
) -> Result<Option<f64>> {
    let k = data.n_actions;
    let mut total = 0.0;
    let rows = data
        .action_dist
        .chunks_exact(k)
        .zip(data.qhat.chunks_exact(k))
        .zip(actions.iter().zip(data.pscores).zip(data.rewards));
    for (i, ((pi, q), ((&a, &p), &r))) in rows.enumerate() {
        let a = match a.index() {
            Some(a) if a < k => a,
            _ => return Ok(None),
        };
        if CHECK
            && !(r.is_finite()
                && p > 0.0
                && p <= 1.0
                && pi.iter().all(|x| (0.0..=1.0).contains(x))
                && q.iter().all(|x| x.is_finite()))
        {
            return Ok(None);
        }
        let wsum: f64 = pi.iter().sum();
        let dot: f64 = pi.iter().zip(q).map(|(p, q)| p * q).sum();
        if wsum > 0.0 {
            let w = pi[a] / p;
            let switch = if w <= tau { 1.0 } else { 0.0 };
            total += dot / wsum + switch * w * (r - q[a]);
        } else {
            return Err(zero_row(i, wsum));
        }
    }
    Ok(Some(total))
}

/// Per-round switch-DR terms: the direct-method term plus the weighted
/// residual `w (r - qhat)` of rounds whose importance weight is at most
/// `tau` (Wang et al. 2017); `tau = inf` gives doubly robust.
fn switch_dr_terms(data: &OpeView<'_>, name: &str, tau: f64) -> Result<Vec<f64>> {
    data.require_model(name)?;
    let data = data.validated()?;
    let w = view_weights(&data);
    let k = data.n_actions;
    Ok(dm_terms(&data)?
        .into_iter()
        .enumerate()
        .map(|(i, dm)| {
            let switch = if w[i] <= tau { 1.0 } else { 0.0 };
            let a = data.actions.get(i).unwrap_or(0);
            dm + switch * w[i] * (data.rewards[i] - data.qhat[i * k + a])
        })
        .collect())
}

impl OffPolicyEstimator for SwitchDoublyRobust {
    fn name(&self) -> String {
        "switch-dr".into()
    }
    fn round_values_view(&self, data: &OpeView<'_>) -> Result<Vec<f64>> {
        switch_dr_terms(data, "switch-dr", self.tau)
    }
    fn estimate_view(&self, data: &OpeView<'_>) -> Result<f64> {
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

    /// Actions, rewards, pscores, `action_dist`, `qhat` of a log.
    type Log<A> = (Vec<A>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);

    /// A random valid log.
    fn random_log(n: usize, k: usize, seed: u64) -> Log<usize> {
        use rand::{Rng, SeedableRng};
        let mut rng = duality_core::seed::DualityRng::seed_from_u64(seed);
        let mut dist = Vec::new();
        for _ in 0..n {
            let row: Vec<f64> = (0..k).map(|_| rng.random::<f64>()).collect();
            let s: f64 = row.iter().sum();
            dist.extend(row.iter().map(|v| v / s));
        }
        (
            (0..n).map(|_| rng.random_range(0..k)).collect(),
            (0..n).map(|_| rng.random::<f64>()).collect(),
            (0..n).map(|_| rng.random_range(0.05..1.0)).collect(),
            dist,
            (0..n * k).map(|_| rng.random::<f64>()).collect(),
        )
    }

    fn all_estimators() -> Vec<Box<dyn OffPolicyEstimator>> {
        vec![
            Box::new(Ipw),
            Box::new(Snipw),
            Box::new(DirectMethod),
            Box::new(DoublyRobust),
            Box::new(SwitchDoublyRobust::new(1.5).unwrap()),
        ]
    }

    #[test]
    fn borrowed_views_give_the_owned_data_results_bit_for_bit() {
        let (n, k) = (301, 3);
        let (actions, rewards, pscores, dist, qhat) = random_log(n, k, 9);
        let data = OpeData::new(
            k,
            actions.clone(),
            rewards.clone(),
            pscores.clone(),
            dist.clone(),
            qhat.clone(),
        )
        .unwrap();
        let signed: Vec<i64> = actions.iter().map(|&a| a as i64).collect();
        let views = [
            OpeView::new(k, &actions, &rewards, &pscores, &dist, &qhat).unwrap(),
            OpeView::new(k, &signed, &rewards, &pscores, &dist, &qhat).unwrap(),
            OpeView::deferred(k, &actions, &rewards, &pscores, &dist, &qhat).unwrap(),
            OpeView::deferred(k, &signed, &rewards, &pscores, &dist, &qhat).unwrap(),
        ];
        assert!(views[0].is_validated() && !views[3].is_validated());
        for est in all_estimators() {
            let owned = est.estimate(&data).unwrap();
            let values = est.round_values(&data).unwrap();
            for (j, view) in views.iter().enumerate() {
                assert_eq!(
                    est.estimate_view(view).unwrap(),
                    owned,
                    "{} view {j}",
                    est.name()
                );
                assert_eq!(est.round_values_view(view).unwrap(), values);
            }
        }
        // The view borrows: its slices are the caller's buffers.
        assert_eq!(views[3].rewards().as_ptr(), rewards.as_ptr());
        assert_eq!(views[3].action_dist().as_ptr(), dist.as_ptr());
        assert_eq!(views[3].actions(), ActionSlice::I64(&signed));
        assert_eq!(views[3].to_data().unwrap(), data);
        assert_eq!(data.view().rewards().as_ptr(), data.rewards().as_ptr());
    }

    #[test]
    fn deferred_views_report_the_owned_checks_errors() {
        let (n, k) = (50, 3);
        let (actions, rewards, pscores, dist, qhat) = random_log(n, k, 3);
        let signed: Vec<i64> = actions.iter().map(|&a| a as i64).collect();
        let base: Log<i64> = (signed, rewards, pscores, dist, qhat);
        let mut cases: Vec<(&str, Log<i64>)> = Vec::new();
        let mut c = base.clone();
        c.1[7] = f64::NAN;
        cases.push(("rewards[7] = NaN", c));
        let mut c = base.clone();
        c.0[9] = -1;
        cases.push(("actions[9] = -1", c));
        let mut c = base.clone();
        c.0[9] = 3;
        cases.push(("actions[9] = 3", c));
        let mut c = base.clone();
        c.2[11] = 0.0;
        cases.push(("pscores[11] = 0", c));
        let mut c = base.clone();
        c.2[11] = 1.5;
        cases.push(("pscores[11] = 1.5", c));
        let mut c = base.clone();
        c.3[13] = -0.25;
        cases.push(("action_dist[13] = -0.25", c));
        let mut c = base.clone();
        c.3[13] = f64::NAN;
        cases.push(("action_dist[13] = NaN", c));
        let mut c = base.clone();
        c.4[17] = f64::INFINITY;
        cases.push(("qhat[17] = inf", c));
        // Two bad values: the ordered checks name the reward (checked
        // before actions) although the action's row comes first.
        let mut c = base.clone();
        c.0[2] = 7;
        c.1[40] = f64::NAN;
        cases.push(("rewards[40] = NaN", c));
        // A zero-sum row before a bad value: the bad value is named, as
        // OpeData::new refuses it before any estimator runs.
        let mut c = base.clone();
        c.3[3..6].fill(0.0);
        c.2[30] = -1.0;
        cases.push(("pscores[30] = -1", c));
        for (expected, (a, r, p, d, q)) in &cases {
            let owned: Vec<usize> = a.iter().map(|&v| v.max(0) as usize).collect();
            if !expected.starts_with("actions[9] = -1") {
                let err = OpeData::new(k, owned, r.clone(), p.clone(), d.clone(), q.clone())
                    .unwrap_err()
                    .to_string();
                assert!(err.contains(expected), "owned: {err} (expected {expected})");
            }
            let err = OpeView::new(k, a, r, p, d, q).unwrap_err().to_string();
            assert!(err.contains(expected), "eager view: {err}");
            let view = OpeView::deferred(k, a, r, p, d, q).unwrap();
            for est in all_estimators() {
                let err = est.estimate_view(&view).unwrap_err().to_string();
                assert!(
                    err.contains(expected),
                    "{}: {err} (expected {expected})",
                    est.name()
                );
                let err = est.round_values_view(&view).unwrap_err().to_string();
                assert!(err.contains(expected), "{}: {err}", est.name());
            }
            // Without a reward model, the bad value still comes first.
            let view = OpeView::deferred(k, a, r, p, d, &[]).unwrap();
            if !expected.starts_with("qhat") {
                let err = DoublyRobust.estimate_view(&view).unwrap_err().to_string();
                assert!(err.contains(expected), "dr without model: {err}");
            }
        }
        // A zero-sum row alone is DM's error naming the row, on every path.
        let mut d = base.3.clone();
        d[3..6].fill(0.0);
        let view = OpeView::deferred(k, &base.0, &base.1, &base.2, &d, &base.4).unwrap();
        for est in [&DoublyRobust as &dyn OffPolicyEstimator, &DirectMethod] {
            let err = est.estimate_view(&view).unwrap_err().to_string();
            assert!(err.contains("row 1"), "{err}");
        }
        // Lengths are checked at construction, eagerly.
        let err = OpeView::deferred(k, &base.0[1..], &base.1, &base.2, &base.3, &base.4)
            .unwrap_err()
            .to_string();
        assert!(err.contains("rewards"), "{err}");
        let err = OpeView::deferred(k, &base.0, &base.1, &base.2, &base.3, &base.4[1..])
            .unwrap_err()
            .to_string();
        assert!(err.contains("qhat"), "{err}");
        let err = OpeView::deferred(0, &base.0, &base.1, &base.2, &base.3, &base.4)
            .unwrap_err()
            .to_string();
        assert!(err.contains("number of actions"), "{err}");
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
