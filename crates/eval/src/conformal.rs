//! Conformal p-values and conformal selection with FDR control: BH
//! conformal selection (Jin & Candès 2023, "Selection by Prediction with
//! Conformal p-values", JMLR 24) and Optimized Conformal Selection (Bai & Jin
//! 2024, "Optimized Conformal Selection: Powerful Selective Inference After
//! Conformity Score Optimization"), as in the authors' code
//! (`Tian-Bai/OptCS`, `simulation/MSel/choosescore_Jin.py`,
//! `simulation/Full/loo_Jin.py`).
//!
//! Scores follow Jin & Candès: smaller means "more likely to be selected".
//! To select test points with `Y > c` from a predictor `mu`, the clipped
//! score ([`ClippedScore`]) is `V_i = M 1{Y_i > c} + c 1{Y_i <= c} - mu(X_i)`
//! on labelled points and `V_j = c - mu(X_j)` on test points (J&C eq. (7)).
//!
//! - [`conformal_p_values`]: `p_j = (1 + #{i : V_i < V_j}) / (n + 1)`;
//! - [`randomized_p_values`]: ties and the `+1` randomised (J&C eq. (4));
//! - [`bh_select`] / [`ebh_select`]: Benjamini-Hochberg on p-values, and on
//!   e-values (Wang & Ramdas 2022);
//! - [`conformal_select`]: BH conformal selection with one score model;
//! - [`opt_cs`]: OptCS over several score models with a calibration set
//!   (Bai & Jin, Algorithm 1: auxiliary p-values, per-test-point model
//!   choice, e-values, eBH with pruning);
//! - [`opt_cs_full`]: OptCS-Full, the leave-one-out variant that uses all
//!   labelled data for training and calibration (Bai & Jin, Section 5).

use duality_core::config::Validate;
use duality_core::seed::{DualityRng, Seeder};
use duality_core::{Error, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};

fn sorted_calibration(calibration: &[f64]) -> Result<Vec<f64>> {
    duality_core::check::finite_non_empty("calibration scores", calibration)?;
    let mut s = calibration.to_vec();
    s.sort_unstable_by(f64::total_cmp);
    Ok(s)
}

/// Deterministic conformal p-values `(1 + #{V_i < V_j}) / (n + 1)`
/// (Jin & Candès 2023, eq. (4) without randomisation).
pub fn conformal_p_values(calibration: &[f64], test: &[f64]) -> Result<Vec<f64>> {
    let cal = sorted_calibration(calibration)?;
    duality_core::check::finite("test scores", test)?;
    let n1 = (cal.len() + 1) as f64;
    Ok(test
        .iter()
        .map(|&v| (1 + cal.partition_point(|&c| c < v)) as f64 / n1)
        .collect())
}

/// Randomised conformal p-values
/// `(#{V_i < V_j} + U_j (1 + #{V_i = V_j})) / (n + 1)`, `U_j ~ Uniform(0, 1)`
/// (Jin & Candès 2023, eq. (4)): exactly uniform under exchangeability.
pub fn randomized_p_values(
    calibration: &[f64],
    test: &[f64],
    rng: &mut impl Rng,
) -> Result<Vec<f64>> {
    let cal = sorted_calibration(calibration)?;
    duality_core::check::finite("test scores", test)?;
    let n1 = (cal.len() + 1) as f64;
    Ok(test
        .iter()
        .map(|&v| {
            let below = cal.partition_point(|&c| c < v);
            let ties = cal.partition_point(|&c| c <= v) - below;
            let u: f64 = rng.random();
            (below as f64 + u * (1 + ties) as f64) / n1
        })
        .collect())
}

/// BH's `k* = max{k : v_(k) <= q k / m}` for values already sorted
/// ascending (`m` is the number of hypotheses, which may exceed the slice).
fn bh_count_sorted(
    sorted: impl DoubleEndedIterator<Item = f64>,
    len: usize,
    q: f64,
    m: usize,
) -> usize {
    let mf = m as f64;
    let mut k = len;
    for v in sorted.rev() {
        if v <= q * k as f64 / mf {
            return k;
        }
        k -= 1;
    }
    0
}

/// Indices (ascending) selected by BH on arbitrary non-negative values
/// (p-values, or the `1 / e` of eBH).
fn bh_indices(values: &[f64], q: f64) -> Vec<usize> {
    let m = values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let k = bh_count_sorted(order.iter().map(|&i| values[i]), m, q, m);
    let mut sel = order[..k].to_vec();
    sel.sort_unstable();
    sel
}

/// Benjamini-Hochberg selection at FDR level `q`: the indices (ascending) of
/// the `k*` smallest p-values, `k* = max{k : p_(k) <= q k / m}`.
pub fn bh_select(p_values: &[f64], q: f64) -> Result<Vec<usize>> {
    duality_core::check::open_unit("q", q)?;
    duality_core::check::probabilities("p-values", p_values)?;
    Ok(bh_indices(p_values, q))
}

/// eBH selection at level `q` (Wang & Ramdas 2022): the `k*` largest
/// e-values, `k* = max{k : e_(k) >= m / (q k)}` — BH applied to `1 / e`, as
/// the authors' `eBH`. An e-value of 0 is never selected (the reference
/// replaces it by `1e-9`, which can only matter after a pruning divisor
/// below `1e-9 q / m`).
pub fn ebh_select(e_values: &[f64], q: f64) -> Result<Vec<usize>> {
    duality_core::check::open_unit("q", q)?;
    for (i, &e) in e_values.iter().enumerate() {
        if e.is_nan() || e < 0.0 {
            return Err(Error::invalid(
                format!("e-value {i}"),
                e,
                "a number >= 0 (+inf allowed)",
            ));
        }
    }
    let inv: Vec<f64> = e_values.iter().map(|&e| 1.0 / e).collect();
    Ok(bh_indices(&inv, q))
}

/// Result of BH conformal selection with one score model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// Conformal p-value of every test point.
    pub p_values: Vec<f64>,
    /// Selected test indices (ascending).
    pub selected: Vec<usize>,
}

/// BH conformal selection (Jin & Candès 2023, Algorithm 1) with
/// deterministic p-values.
pub fn conformal_select(calibration: &[f64], test: &[f64], q: f64) -> Result<Selection> {
    let p_values = conformal_p_values(calibration, test)?;
    let selected = bh_select(&p_values, q)?;
    Ok(Selection { p_values, selected })
}

/// The clipped conformity score of Jin & Candès (2023, eq. (7)) for selecting
/// outcomes above a threshold `c`: `V = M 1{y > c} + c 1{y <= c} - mu(x)` on
/// labelled points, `c - mu(x)` on test points.
///
/// `M` only has to rank every labelled positive above every test score; the
/// p-values do not depend on it beyond that, so it is taken as
/// `c + (max mu - min mu) + 1` over all predictions passed in (the
/// reference code uses the constant 1000 with predictions well inside it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClippedScore {
    threshold: f64,
}

impl ClippedScore {
    /// A clipped score for threshold `c` (finite).
    pub fn new(threshold: f64) -> Result<Self> {
        duality_core::check::finite_scalar("threshold c", threshold)?;
        Ok(Self { threshold })
    }

    /// The threshold `c`.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Scores of `outcomes` with predictions `calibration` (labelled) and of
    /// `test` predictions, under one model. Errors on non-finite values or
    /// a length mismatch between outcomes and their predictions.
    pub fn scores(
        &self,
        outcomes: &[f64],
        calibration: &[f64],
        test: &[f64],
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        duality_core::check::finite_non_empty("outcomes", outcomes)?;
        duality_core::check::finite("calibration predictions", calibration)?;
        duality_core::check::finite("test predictions", test)?;
        duality_core::check::same_len(
            "outcomes",
            outcomes.len(),
            "calibration predictions",
            calibration.len(),
        )?;
        let (lo, hi) = calibration
            .iter()
            .chain(test)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                (l.min(v), h.max(v))
            });
        let c = self.threshold;
        let big = c + (hi - lo).max(0.0) + 1.0;
        let cal = outcomes
            .iter()
            .zip(calibration)
            .map(|(&y, &mu)| if y > c { big } else { c } - mu)
            .collect();
        let tst = test.iter().map(|&mu| c - mu).collect();
        Ok((cal, tst))
    }
}

/// Conformity scores of `K` candidate models: `calibration[k]` (length `n`)
/// and `test[k]` (length `m`), validated once (finite, same lengths).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelScores {
    calibration: Vec<Vec<f64>>,
    test: Vec<Vec<f64>>,
}

impl ModelScores {
    /// Checks shapes (at least one model, one calibration and one test
    /// point, equal lengths across models) and finiteness.
    pub fn new(calibration: Vec<Vec<f64>>, test: Vec<Vec<f64>>) -> Result<Self> {
        duality_core::check::non_empty("candidate models", &calibration)?;
        duality_core::check::same_len(
            "calibration models",
            calibration.len(),
            "test models",
            test.len(),
        )?;
        let (n, m) = (calibration[0].len(), test[0].len());
        for (k, (c, t)) in calibration.iter().zip(&test).enumerate() {
            duality_core::check::finite_non_empty(&format!("calibration scores of model {k}"), c)?;
            duality_core::check::finite_non_empty(&format!("test scores of model {k}"), t)?;
            duality_core::check::same_len(
                &format!("calibration scores of model {k}"),
                c.len(),
                "calibration scores of model 0",
                n,
            )?;
            duality_core::check::same_len(
                &format!("test scores of model {k}"),
                t.len(),
                "test scores of model 0",
                m,
            )?;
        }
        Ok(Self { calibration, test })
    }

    /// Clipped scores ([`ClippedScore`]) of every model from the labelled
    /// `outcomes`, each model's calibration predictions and test predictions.
    pub fn clipped(
        score: ClippedScore,
        outcomes: &[f64],
        calibration_predictions: &[Vec<f64>],
        test_predictions: &[Vec<f64>],
    ) -> Result<Self> {
        duality_core::check::same_len(
            "calibration models",
            calibration_predictions.len(),
            "test models",
            test_predictions.len(),
        )?;
        let mut cal = Vec::with_capacity(calibration_predictions.len());
        let mut tst = Vec::with_capacity(test_predictions.len());
        for (c, t) in calibration_predictions.iter().zip(test_predictions) {
            let (a, b) = score.scores(outcomes, c, t)?;
            cal.push(a);
            tst.push(b);
        }
        Self::new(cal, tst)
    }

    /// Number of candidate models `K`.
    pub fn models(&self) -> usize {
        self.calibration.len()
    }

    /// Calibration scores of model `k` (length `n`); `None` past the end.
    pub fn calibration(&self, k: usize) -> Option<&[f64]> {
        self.calibration.get(k).map(Vec::as_slice)
    }

    /// Test scores of model `k` (length `m`); `None` past the end.
    pub fn test(&self, k: usize) -> Option<&[f64]> {
        self.test.get(k).map(Vec::as_slice)
    }
}

/// How OptCS turns its e-values into a selection (Bai & Jin 2024,
/// Section 3.3; the reference code's three variants).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pruning {
    /// eBH on the e-values: `{j : e_j > 0, |R_j| <= k*}`.
    #[default]
    Deterministic,
    /// eBH on `e_j / xi_j` with independent `xi_j ~ Uniform(0, 1)`.
    Heterogeneous,
    /// eBH on `e_j / xi` with one `xi ~ Uniform(0, 1)` for all points.
    Homogeneous,
}

impl std::fmt::Display for Pruning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Pruning::Deterministic => "deterministic",
            Pruning::Heterogeneous => "heterogeneous",
            Pruning::Homogeneous => "homogeneous",
        })
    }
}

impl std::str::FromStr for Pruning {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "deterministic" | "dtm" => Ok(Pruning::Deterministic),
            "heterogeneous" | "hete" => Ok(Pruning::Heterogeneous),
            "homogeneous" | "homo" => Ok(Pruning::Homogeneous),
            _ => Err(Error::invalid(
                "pruning",
                s,
                "deterministic, heterogeneous or homogeneous",
            )),
        }
    }
}

/// Settings of [`opt_cs`] and [`opt_cs_full`]: FDR level `q` in (0, 1),
/// pruning, `beta` in (0, 1] (e-value threshold `q beta |R_j| / m`; the
/// reference also reports `beta = 0.9`), and the seed of the random
/// tie-breaks and pruning draws.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OptCsConfig {
    q: f64,
    pruning: Pruning,
    beta: f64,
    seed: u64,
}

impl OptCsConfig {
    /// Level `q` with deterministic pruning, `beta = 1`, seed 0.
    pub fn new(q: f64) -> Result<Self> {
        let c = Self {
            q,
            pruning: Pruning::Deterministic,
            beta: 1.0,
            seed: 0,
        };
        c.validate()?;
        Ok(c)
    }

    /// With another pruning rule.
    pub fn with_pruning(mut self, pruning: Pruning) -> Self {
        self.pruning = pruning;
        self
    }

    /// With `beta` in (0, 1].
    pub fn with_beta(mut self, beta: f64) -> Result<Self> {
        self.beta = beta;
        self.validate()?;
        Ok(self)
    }

    /// With the seed of tie-breaks and pruning draws.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// FDR level.
    pub fn q(&self) -> f64 {
        self.q
    }
    /// Pruning rule.
    pub fn pruning(&self) -> Pruning {
        self.pruning
    }
    /// Threshold multiplier.
    pub fn beta(&self) -> f64 {
        self.beta
    }
    /// Seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

impl Validate for OptCsConfig {
    fn validate(&self) -> Result<()> {
        if !(self.q > 0.0 && self.q < 1.0) {
            return Err(Error::Config {
                source_name: None,
                field: "q".into(),
                message: format!("{} is not in (0, 1)", self.q),
            });
        }
        if !(self.beta > 0.0 && self.beta <= 1.0) {
            return Err(Error::Config {
                source_name: None,
                field: "beta".into(),
                message: format!("{} is not in (0, 1]", self.beta),
            });
        }
        Ok(())
    }
}

/// What OptCS computed for one test point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OptCsPoint {
    /// The chosen model `theta_j` (index into the candidates).
    pub model: usize,
    /// `|R_j|`: BH selections on the auxiliary p-values under `theta_j`.
    pub r_size: usize,
    /// `p_j = (1 + #{V_i < V_j}) / (n + 1)` under `theta_j`.
    pub p_value: f64,
    /// `e_j = 1{p_j <= q beta |R_j| / m} / (q beta |R_j| / m)`.
    pub e_value: f64,
}

/// Result of [`opt_cs`] / [`opt_cs_full`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptCsSelection {
    /// Selected test indices (ascending).
    pub selected: Vec<usize>,
    /// Per test point: model, `|R_j|`, p-value, e-value.
    pub points: Vec<OptCsPoint>,
}

/// `theta_j = argmax_k sizes[k]`, ties broken uniformly at random (the
/// reference's `np.random.choice` over the maximisers).
fn argmax_random(sizes: &[usize], rng: &mut DualityRng) -> usize {
    let best = sizes.iter().copied().max().unwrap_or(0);
    let ties: Vec<usize> = (0..sizes.len()).filter(|&k| sizes[k] == best).collect();
    if ties.len() == 1 {
        ties[0]
    } else {
        ties[rng.random_range(0..ties.len())]
    }
}

/// e-values and the pruned eBH selection from the per-point model choice.
fn finish(chosen: Vec<(usize, usize, f64)>, config: &OptCsConfig) -> Result<OptCsSelection> {
    let m = chosen.len() as f64;
    let (q, beta) = (config.q, config.beta);
    let points: Vec<OptCsPoint> = chosen
        .into_iter()
        .map(|(model, r_size, p_value)| {
            let t = q * beta * r_size as f64 / m;
            let e_value = if r_size > 0 && p_value <= t {
                1.0 / t
            } else {
                0.0
            };
            OptCsPoint {
                model,
                r_size,
                p_value,
                e_value,
            }
        })
        .collect();
    let mut e: Vec<f64> = points.iter().map(|p| p.e_value).collect();
    // The pruning draws come from their own stream, apart from the tie-breaks.
    let mut rng = Seeder::new(config.seed).named("pruning").rng(0);
    match config.pruning {
        Pruning::Deterministic => {}
        Pruning::Heterogeneous => {
            for v in &mut e {
                *v /= 1.0 - rng.random::<f64>();
            }
        }
        Pruning::Homogeneous => {
            let xi = 1.0 - rng.random::<f64>();
            for v in &mut e {
                *v /= xi;
            }
        }
    }
    let selected = ebh_select(&e, q)?;
    Ok(OptCsSelection { selected, points })
}

/// BH count on the auxiliary p-values of test point `j` under one model,
/// where `order` sorts the test scores ascending and `le[l]` is
/// `#{i : V_i <= V_l}` over the calibration set:
/// `p_l = (le[l] + 1{V_j <= V_l}) / (n + 1)` for `l != j`, `p_j = 0`.
/// The `+1` falls on the suffix `V_l >= V_j` of the order, so the sequence
/// stays sorted and one backward scan gives `k*` (no sort per `j`).
fn aux_bh_size(test: &[f64], order: &[usize], le: &[usize], j: usize, n: usize, q: f64) -> usize {
    let m = test.len();
    let n1 = (n + 1) as f64;
    let vj = test[j];
    let values = order
        .iter()
        .filter(|&&l| l != j)
        .map(|&l| (le[l] + usize::from(vj <= test[l])) as f64 / n1);
    // p_j = 0 is the smallest value; the other m - 1 follow in order. The
    // count is at least 1 because 0 <= q / m.
    bh_count_sorted(std::iter::once(0.0).chain(values), m, q, m)
}

/// Optimized Conformal Selection (Bai & Jin 2024, Algorithm 1, with the
/// reference code's choices): for every test point `j` and model `k`, the
/// auxiliary p-values `p_l^(j) = (#{V_i <= V_l} + 1{V_j <= V_l}) / (n + 1)`
/// (`l != j`), `p_j^(j) = 0`, and `R_j^(k)` = BH at level `q` on them;
/// `theta_j = argmax_k |R_j^(k)|` (random ties, stream `j` of the seed);
/// `p_j = (1 + #{V_i < V_j}) / (n + 1)` under `theta_j`;
/// `e_j = 1{p_j <= q beta |R_j| / m} / (q beta |R_j| / m)`; then eBH with
/// the configured pruning. FDR <= q in finite samples for deterministic
/// pruning (Theorem 3.2). Cost `O(K (n + m) log n + K m^2)`.
pub fn opt_cs(scores: &ModelScores, config: &OptCsConfig) -> Result<OptCsSelection> {
    config.validate()?;
    let n = scores.calibration[0].len();
    // Per model: sorted calibration, #{V_i <= V_l} and #{V_i < V_l} per test
    // point, and the test points sorted by score.
    struct Prepared {
        le: Vec<usize>,
        lt: Vec<usize>,
        order: Vec<usize>,
    }
    let prepared: Vec<Prepared> = scores
        .calibration
        .iter()
        .zip(&scores.test)
        .map(|(c, t)| {
            let mut cal = c.clone();
            cal.sort_unstable_by(f64::total_cmp);
            let le = t
                .iter()
                .map(|&v| cal.partition_point(|&x| x <= v))
                .collect();
            let lt = t.iter().map(|&v| cal.partition_point(|&x| x < v)).collect();
            let mut order: Vec<usize> = (0..t.len()).collect();
            order.sort_by(|&a, &b| t[a].total_cmp(&t[b]));
            Prepared { le, lt, order }
        })
        .collect();
    let m = scores.test[0].len();
    let q = config.q;
    let chosen = Seeder::new(config.seed).named("ties").par_map(m, |j, rng| {
        let sizes: Vec<usize> = prepared
            .iter()
            .zip(&scores.test)
            .map(|(p, t)| aux_bh_size(t, &p.order, &p.le, j, n, q))
            .collect();
        let k = argmax_random(&sizes, rng);
        let p = (1 + prepared[k].lt[j]) as f64 / (n + 1) as f64;
        (k, sizes[k], p)
    });
    finish(chosen, config)
}

/// Predictions of one leave-one-out fit ([`LooLearner::fit_loo`]).
#[derive(Debug, Clone, PartialEq)]
pub struct LooFit {
    /// `loo[i]`: prediction at training row `i` by the model fitted without it.
    pub loo: Vec<f64>,
    /// Predictions at the query rows by the model fitted on all rows.
    pub queries: Vec<f64>,
}

/// A learner that OptCS-Full can refit leave-one-out. Implementations must be
/// symmetric in the training rows (a permutation of the rows permutes `loo`
/// and leaves `queries` unchanged), which is what keeps the p-values valid.
pub trait LooLearner: Sync {
    /// Fits on rows `x` with targets `t` and returns every row's
    /// leave-one-out prediction and the predictions at `queries` of the fit
    /// on all rows.
    fn fit_loo(&self, x: &[Vec<f64>], t: &[f64], queries: &[Vec<f64>]) -> Result<LooFit>;
}

/// Ridge regression with an unpenalised intercept on a subset of the
/// features, whose leave-one-out predictions come in closed form
/// (`(yhat_i - h_ii t_i) / (1 - h_ii)`, `h_ii` the hat-matrix diagonal).
#[derive(Debug, Clone, PartialEq)]
pub struct Ridge {
    lambda: f64,
    columns: Option<Vec<usize>>,
}

/// A ridge fit: coefficients (intercept first), the Cholesky factor of the
/// regularised Gram matrix (for the hat-matrix diagonal) and the design rows.
struct RidgeFit {
    beta: Vec<f64>,
    l: Vec<f64>,
    rows: Vec<Vec<f64>>,
}

impl Ridge {
    /// Ridge with penalty `lambda >= 0` on all features (`columns = None`)
    /// or on the listed feature columns.
    pub fn new(lambda: f64, columns: Option<Vec<usize>>) -> Result<Self> {
        if !(lambda >= 0.0 && lambda.is_finite()) {
            return Err(Error::invalid(
                "ridge lambda",
                lambda,
                "a finite number >= 0",
            ));
        }
        Ok(Self { lambda, columns })
    }

    /// The penalty.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    fn design(&self, row: &[f64]) -> Result<Vec<f64>> {
        let mut phi = vec![1.0];
        match &self.columns {
            None => phi.extend_from_slice(row),
            Some(cols) => {
                for &c in cols {
                    let v = row.get(c).ok_or_else(|| {
                        Error::invalid("ridge feature column", c, format!("< {}", row.len()))
                    })?;
                    phi.push(*v);
                }
            }
        }
        Ok(phi)
    }

    /// Coefficients (intercept first) of the fit on `x`, `t`, with the
    /// Cholesky factor of the regularised Gram matrix and the design rows.
    fn fit(&self, x: &[Vec<f64>], t: &[f64]) -> Result<RidgeFit> {
        duality_core::check::same_len("ridge rows", x.len(), "ridge targets", t.len())?;
        duality_core::check::finite_non_empty("ridge targets", t)?;
        let rows: Vec<Vec<f64>> = x.iter().map(|r| self.design(r)).collect::<Result<_>>()?;
        let d = rows[0].len();
        let mut a = vec![0.0; d * d];
        let mut b = vec![0.0; d];
        for (phi, &y) in rows.iter().zip(t) {
            duality_core::check::same_len("ridge row", phi.len(), "ridge row 0", d)?;
            duality_core::check::finite("ridge features", phi)?;
            for r in 0..d {
                b[r] += phi[r] * y;
                for c in 0..d {
                    a[r * d + c] += phi[r] * phi[c];
                }
            }
        }
        for r in 1..d {
            a[r * d + r] += self.lambda;
        }
        // A tiny jitter keeps the factorisation defined for collinear or
        // constant features without changing well-posed fits visibly.
        let l = duality_core::linalg::cholesky_shifted(&a, d, 1e-10)?;
        let beta = duality_core::linalg::solve_cholesky(&l, d, &b);
        Ok(RidgeFit { beta, l, rows })
    }

    /// Predictions of the fit on `x`, `t` at `queries`.
    pub fn fit_predict(&self, x: &[Vec<f64>], t: &[f64], queries: &[Vec<f64>]) -> Result<Vec<f64>> {
        let RidgeFit { beta, .. } = self.fit(x, t)?;
        queries
            .iter()
            .map(|q| Ok(duality_core::linalg::dot(&beta, &self.design(q)?)))
            .collect()
    }
}

impl LooLearner for Ridge {
    fn fit_loo(&self, x: &[Vec<f64>], t: &[f64], queries: &[Vec<f64>]) -> Result<LooFit> {
        let RidgeFit { beta, l, rows } = self.fit(x, t)?;
        let d = beta.len();
        let mut loo = Vec::with_capacity(rows.len());
        for (i, (phi, &y)) in rows.iter().zip(t).enumerate() {
            let fitted = duality_core::linalg::dot(&beta, phi);
            let h =
                duality_core::linalg::dot(phi, &duality_core::linalg::solve_cholesky(&l, d, phi));
            if h.is_nan() || 1.0 - h <= 1e-12 {
                return Err(Error::invalid(
                    format!("leverage of training row {i}"),
                    h,
                    "< 1 (more rows than features, or a positive ridge penalty)",
                ));
            }
            loo.push((fitted - h * y) / (1.0 - h));
        }
        let queries = queries
            .iter()
            .map(|q| Ok(duality_core::linalg::dot(&beta, &self.design(q)?)))
            .collect::<Result<_>>()?;
        Ok(LooFit { loo, queries })
    }
}

/// Labelled and test data for [`opt_cs_full`]: feature rows, outcomes of
/// the labelled rows and the threshold `c` of the clipped score.
#[derive(Debug, Clone, Copy)]
pub struct FullData<'a> {
    /// Labelled feature rows (`n`).
    pub labelled: &'a [Vec<f64>],
    /// Their outcomes `Y_i`.
    pub outcomes: &'a [f64],
    /// Test feature rows (`m`).
    pub test: &'a [Vec<f64>],
    /// Select test points with `Y > threshold`.
    pub threshold: f64,
}

/// OptCS-Full (Bai & Jin 2024, Section 5; the reference's "LOO version 2"
/// in `simulation/Full/loo_Jin.py`, with model choice): no data split. For
/// each test point `j` and learner `k`, the learner is fitted
/// leave-one-out on the `n + 1` rows `Z_j` = labelled ∪ {X_j}, with targets
/// `max(Y_i, c)` and `c` for `X_j` (the clipped outcome, the same for every
/// null point, so `Z_j` is exchangeable under `H_j: Y_j <= c`). The LOO
/// clipped scores `V_i = M 1{Y_i > c} + c 1{Y_i <= c} - mu_{-i}(X_i)`,
/// `V_j = c - mu_{-j}(X_j)` give `p_j = (1 + #{V_i < V_j}) / (n + 1)`; the
/// other test points `l` are scored by the fit on all of `Z_j`
/// (`c - mu_{Z_j}(X_l)`), their auxiliary p-values
/// `(#{V in Z_j : V <= V_l}) / (n + 1)` with `p_j^(j) = 0` give `|R_j^(k)|`
/// by BH. Model choice, e-values and eBH are as in [`opt_cs`].
///
/// Differences from the reference (documented in `docs/eval.md`): the
/// reference scores the other test points with the fit that leaves `X_j`
/// out, which is not symmetric in `Z_j`; we use the fit on all of `Z_j`. It
/// randomises ties in the auxiliary p-values; we count them (`<=`), as the
/// split version does. Cost: `m K` LOO fits of `n + 1` rows.
pub fn opt_cs_full(
    data: FullData<'_>,
    learners: &[&dyn LooLearner],
    config: &OptCsConfig,
) -> Result<OptCsSelection> {
    config.validate()?;
    duality_core::check::non_empty("learners", learners)?;
    duality_core::check::non_empty("labelled rows", data.labelled)?;
    duality_core::check::non_empty("test rows", data.test)?;
    duality_core::check::same_len(
        "labelled rows",
        data.labelled.len(),
        "outcomes",
        data.outcomes.len(),
    )?;
    duality_core::check::finite("outcomes", data.outcomes)?;
    duality_core::check::finite_scalar("threshold c", data.threshold)?;
    let c = data.threshold;
    let (n, m) = (data.labelled.len(), data.test.len());
    let q = config.q;
    let mut targets: Vec<f64> = data.outcomes.iter().map(|&y| y.max(c)).collect();
    targets.push(c);
    let positive: Vec<bool> = data.outcomes.iter().map(|&y| y > c).collect();
    let results: Vec<Result<(usize, usize, f64)>> =
        Seeder::new(config.seed).named("ties").par_map(m, |j, rng| {
            let mut rows = data.labelled.to_vec();
            rows.push(data.test[j].clone());
            let mut sizes = Vec::with_capacity(learners.len());
            let mut p_values = Vec::with_capacity(learners.len());
            for learner in learners {
                let fit = learner.fit_loo(&rows, &targets, data.test)?;
                duality_core::check::same_len("LOO predictions", fit.loo.len(), "rows", n + 1)?;
                duality_core::check::same_len(
                    "query predictions",
                    fit.queries.len(),
                    "test rows",
                    m,
                )?;
                duality_core::check::finite("LOO predictions", &fit.loo)?;
                duality_core::check::finite("query predictions", &fit.queries)?;
                // M = +inf: labelled positives rank above every test score.
                let mut z: Vec<f64> = (0..n)
                    .map(|i| {
                        if positive[i] {
                            f64::INFINITY
                        } else {
                            c - fit.loo[i]
                        }
                    })
                    .collect();
                let vj = c - fit.loo[n];
                let below_j = z.iter().filter(|&&v| v < vj).count();
                p_values.push((1 + below_j) as f64 / (n + 1) as f64);
                z.push(vj);
                z.sort_unstable_by(f64::total_cmp);
                let mut aux: Vec<f64> = (0..m)
                    .filter(|&l| l != j)
                    .map(|l| {
                        let v = c - fit.queries[l];
                        z.partition_point(|&s| s <= v) as f64 / (n + 1) as f64
                    })
                    .collect();
                aux.push(0.0);
                sizes.push(bh_indices(&aux, q).len());
            }
            let k = argmax_random(&sizes, rng);
            Ok((k, sizes[k], p_values[k]))
        });
    let chosen = results.into_iter().collect::<Result<Vec<_>>>()?;
    finish(chosen, config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use duality_core::seed::{DualityRng, Seeder};
    use rand_distr::{Distribution, Normal};

    #[test]
    fn p_values_by_hand() {
        let p = conformal_p_values(&[1.0, 2.0, 3.0], &[0.5, 2.0, 9.0]).unwrap();
        assert_eq!(p, vec![0.25, 0.5, 1.0]);
        assert_eq!(bh_select(&[0.01, 0.5, 0.02, 0.9], 0.1).unwrap(), vec![0, 2]);
        assert!(bh_select(&[0.1], 1.0).is_err());
        assert!(conformal_p_values(&[], &[1.0]).is_err());
        let mut rng = Seeder::new(1).rng(0);
        let r = randomized_p_values(&[1.0, 2.0, 2.0], &[2.0], &mut rng).unwrap();
        assert!(r[0] >= 0.25 && r[0] <= 1.0);
        // eBH: m = 4, q = 0.5: e_(k) >= 8 / k; e = (9, 5, 0, 3) sorted 9, 5, 3:
        // k = 3 (3 >= 2.67) selects {0, 1, 3}; e = (9, 3.9, 0, 0): k = 1.
        assert_eq!(
            ebh_select(&[9.0, 5.0, 0.0, 3.0], 0.5).unwrap(),
            vec![0, 1, 3]
        );
        assert_eq!(ebh_select(&[9.0, 3.9, 0.0, 0.0], 0.5).unwrap(), vec![0]);
        assert!(ebh_select(&[f64::NAN], 0.5).is_err());
        assert!(ebh_select(&[-1.0], 0.5).is_err());
    }

    #[test]
    fn clipped_scores_by_hand() {
        let s = ClippedScore::new(0.0).unwrap();
        let (cal, test) = s.scores(&[1.0, -1.0], &[0.5, 0.2], &[0.3]).unwrap();
        // M = 0 + (0.5 - 0.2) + 1 = 1.3.
        assert!((cal[0] - 0.8).abs() < 1e-12 && (cal[1] + 0.2).abs() < 1e-12);
        assert!((test[0] + 0.3).abs() < 1e-12);
        assert!(ClippedScore::new(f64::NAN).is_err());
        assert!(s.scores(&[1.0], &[0.5, 0.2], &[0.3]).is_err());
    }

    #[test]
    fn config_and_pruning_reject_bad_values() {
        assert!(OptCsConfig::new(0.0).is_err());
        assert!(OptCsConfig::new(1.0).is_err());
        let e = OptCsConfig::new(0.2).unwrap().with_beta(1.5).unwrap_err();
        assert!(e.to_string().contains("beta"), "{e}");
        assert!("sideways".parse::<Pruning>().is_err());
        for p in [
            Pruning::Deterministic,
            Pruning::Heterogeneous,
            Pruning::Homogeneous,
        ] {
            assert_eq!(p.to_string().parse::<Pruning>().unwrap(), p);
        }
    }

    /// A case computed by hand from the reference's formulas: n = 3
    /// calibration nulls, m = 2 test points, one model, q = 0.5.
    #[test]
    fn opt_cs_matches_a_hand_computation() {
        let scores = ModelScores::new(vec![vec![1.0, 2.0, 3.0]], vec![vec![0.5, 2.5]]).unwrap();
        let r = opt_cs(&scores, &OptCsConfig::new(0.5).unwrap()).unwrap();
        // j = 0: aux p_1 = (#{V_i <= 2.5} = 2, + 1{0.5 <= 2.5}) / 4 = 0.75;
        // sorted (0, 0.75) vs (0.25, 0.5): k* = 1, |R_0| = 1.
        // j = 1: aux p_0 = (0 + 1{2.5 <= 0.5} = 0) / 4 = 0: (0, 0) -> |R_1| = 2.
        assert_eq!(r.points[0].r_size, 1);
        assert_eq!(r.points[1].r_size, 2);
        // p_0 = 1/4, p_1 = 3/4; thresholds q|R|/m = 0.25, 0.5.
        assert_eq!(r.points[0].p_value, 0.25);
        assert_eq!(r.points[1].p_value, 0.75);
        assert_eq!(r.points[0].e_value, 4.0);
        assert_eq!(r.points[1].e_value, 0.0);
        // eBH: e_(1) = 4 >= m / (q 1) = 4: select point 0 only.
        assert_eq!(r.selected, vec![0]);
    }

    #[test]
    fn ties_are_broken_at_random_from_the_seed() {
        // Two identical models: every choice is a tie.
        let cal = vec![vec![1.0, 2.0, 3.0, 4.0]; 2];
        let test = vec![vec![0.5, 1.5, 2.5, 3.5, 0.1, 0.2]; 2];
        let scores = ModelScores::new(cal, test).unwrap();
        let pick = |seed| {
            let c = OptCsConfig::new(0.3).unwrap().with_seed(seed);
            opt_cs(&scores, &c)
                .unwrap()
                .points
                .iter()
                .map(|p| p.model)
                .collect::<Vec<_>>()
        };
        assert_eq!(pick(1), pick(1));
        let all: Vec<usize> = (0..20).flat_map(pick).collect();
        assert!(all.contains(&0) && all.contains(&1), "{all:?}");
    }

    /// A regression problem with features `x` (2-D): select test points with
    /// `Y > 0`. Returns labelled rows, outcomes, test rows, test truth.
    fn draw(rng: &mut DualityRng, n: usize) -> (Vec<Vec<f64>>, Vec<f64>) {
        let noise = Normal::new(0.0, 1.0).unwrap();
        (0..n)
            .map(|_| {
                let x0: f64 = noise.sample(rng) * 1.5;
                let x1: f64 = noise.sample(rng);
                (vec![x0, x1], x0 + noise.sample(rng) - 1.0)
            })
            .unzip()
    }

    fn fdp(selected: &[usize], truth: &[bool]) -> f64 {
        let false_sel = selected.iter().filter(|&&j| !truth[j]).count();
        false_sel as f64 / selected.len().max(1) as f64
    }

    /// Empirical FDR over 300 repetitions stays below q (+ 3 s.e.) for BH
    /// conformal selection and for OptCS over three candidate models under
    /// each pruning rule, and for OptCS-Full over two ridge learners.
    #[test]
    fn fdr_is_controlled_in_simulation() {
        let q = 0.2;
        let reps = 300;
        let modes = [
            Pruning::Deterministic,
            Pruning::Heterogeneous,
            Pruning::Homogeneous,
        ];
        let slopes = [1.0, 0.3, -0.5];
        let res = Seeder::new(5).par_map(reps, |r, rng| {
            let (xc, yc) = draw(rng, 120);
            let (xt, yt) = draw(rng, 40);
            let truth: Vec<bool> = yt.iter().map(|&y| y > 0.0).collect();
            let pred = |x: &[Vec<f64>], b: f64| x.iter().map(|r| b * r[0]).collect::<Vec<f64>>();
            let cal_p: Vec<Vec<f64>> = slopes.iter().map(|&b| pred(&xc, b)).collect();
            let test_p: Vec<Vec<f64>> = slopes.iter().map(|&b| pred(&xt, b)).collect();
            let scores =
                ModelScores::clipped(ClippedScore::new(0.0).unwrap(), &yc, &cal_p, &test_p)
                    .unwrap();
            let bh = conformal_select(scores.calibration(0).unwrap(), scores.test(0).unwrap(), q)
                .unwrap();
            let mut out = vec![fdp(&bh.selected, &truth)];
            let mut sizes = vec![bh.selected.len()];
            for mode in modes {
                let c = OptCsConfig::new(q)
                    .unwrap()
                    .with_pruning(mode)
                    .with_seed(r as u64);
                let s = opt_cs(&scores, &c).unwrap();
                out.push(fdp(&s.selected, &truth));
                sizes.push(s.selected.len());
            }
            let (xl, yl) = draw(rng, 40);
            let (xf, yf) = draw(rng, 15);
            let truth_f: Vec<bool> = yf.iter().map(|&y| y > 0.0).collect();
            let r1 = Ridge::new(1.0, None).unwrap();
            let r2 = Ridge::new(1.0, Some(vec![1])).unwrap();
            let data = FullData {
                labelled: &xl,
                outcomes: &yl,
                test: &xf,
                threshold: 0.0,
            };
            let full = opt_cs_full(data, &[&r1, &r2], &OptCsConfig::new(q).unwrap()).unwrap();
            out.push(fdp(&full.selected, &truth_f));
            sizes.push(full.selected.len());
            (out, sizes)
        });
        // FDP is in [0, 1]; its s.d. is at most 0.5, so 3 s.e. <= 0.087.
        let margin = 3.0 * 0.5 / (reps as f64).sqrt();
        let names = ["BH", "OptCS dtm", "OptCS hete", "OptCS homo", "OptCS-Full"];
        for (i, name) in names.iter().enumerate() {
            let fdr = res.iter().map(|r| r.0[i]).sum::<f64>() / reps as f64;
            let mean_size = res.iter().map(|r| r.1[i] as f64).sum::<f64>() / reps as f64;
            assert!(fdr <= q + margin, "{name} FDR {fdr}");
            // Every method selects something on average (the good model is informative).
            assert!(mean_size > 0.5, "{name} selects {mean_size} on average");
        }
    }

    #[test]
    fn ridge_loo_matches_refitting() {
        let x: Vec<Vec<f64>> = (0..8)
            .map(|i| vec![i as f64, (i * i) as f64 * 0.1])
            .collect();
        let t: Vec<f64> = (0..8).map(|i| (i as f64 * 0.7).sin()).collect();
        let ridge = Ridge::new(0.5, None).unwrap();
        let fit = ridge.fit_loo(&x, &t, &x[..1]).unwrap();
        for i in 0..8 {
            let mut xr = x.clone();
            let mut tr = t.clone();
            let xi = xr.remove(i);
            tr.remove(i);
            let direct = ridge.fit_predict(&xr, &tr, &[xi]).unwrap()[0];
            assert!(
                (direct - fit.loo[i]).abs() < 1e-6,
                "row {i}: {direct} vs {}",
                fit.loo[i]
            );
        }
        assert!(Ridge::new(-1.0, None).is_err());
        assert!(Ridge::new(1.0, Some(vec![5]))
            .unwrap()
            .fit_loo(&x, &t, &[])
            .is_err());
    }
}
