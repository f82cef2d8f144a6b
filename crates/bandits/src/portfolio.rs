//! Online portfolio selection and *Ensembling Portfolio Strategies for
//! Long-Term Investments* (Duy Khanh Lam, arXiv:2406.03652, 2024).
//!
//! A market is a sequence of price-relative vectors `x_t` (`x_{t,i}` = price
//! of asset `i` at the end of period `t` over its price at the start). A
//! strategy picks a portfolio `b_t` in the simplex before seeing `x_t`; its
//! wealth grows by `b_t . x_t`, less proportional transaction costs
//! `(1 - c/2 |b_t - b~_{t-1}|_1)` on the turnover from the drifted previous
//! portfolio `b~_{t-1} = b_{t-1} * x_{t-1} / (b_{t-1} . x_{t-1})` (the
//! convention of Li & Hoi's OLPS toolbox).
//!
//! Base strategies ([`PortfolioStrategy`] implementations):
//! - [`Crp`]: constant rebalanced portfolio (uniform CRP; and the best CRP in
//!   hindsight from [`best_crp`], a computed baseline);
//! - [`UniversalPortfolio`]: Cover (1991), `b_t = sum_w w S_{t-1}(w) /
//!   sum_w S_{t-1}(w)`, the wealth-weighted average of CRPs under the
//!   uniform prior, exact on a simplex grid for few assets and by Monte
//!   Carlo (Dirichlet(1) draws) otherwise;
//! - [`ExponentiatedGradient`]: Helmbold, Schapire, Singer & Warmuth (1998),
//!   `b_{t+1,i} ∝ b_{t,i} exp(eta x_{t,i} / (b_t . x_t))`;
//! - [`OnlineNewtonStep`]: Agarwal, Hazan, Kale & Schapire (2006), with the
//!   OLPS toolbox's parameters (`beta = 1`, `delta = 1/8`, no mixing):
//!   `A_t = I + sum g g^T`, `p_{t+1} = Proj^{A_t}_simplex(delta A_t^{-1}
//!   sum (1 + 1/beta) g)`, `g = x / (p . x)`;
//! - [`Anticor`]: Borodin, El-Yaniv & Gogan (2004), the cross-correlation
//!   reversion strategy over two consecutive windows (Algorithm "Anticor",
//!   one window length).
//!
//! The ensemble ([`Ensemble`]): only the paper's abstract and section titles
//! were reachable (no code is published). The abstract's construction is a
//! *combinatorial strategy* over the component strategies whose objective,
//! under the investor's distribution-free preference over long-run wealth,
//! is to eventually exceed every component. We implement it as the
//! universal (Cover-style) mixture over *constant combinations* of the
//! components: each component's period return `r_{t,k} = b^(k)_t . x_t` is
//! treated as a synthetic asset, and the ensemble holds
//! `b_t = sum_k w_{t,k} b^(k)_t` with `w_t = sum_c c S_{t-1}(c) / sum_c
//! S_{t-1}(c)`, `S_{t-1}(c) = prod_{s<t} c . r_s`, over a grid (or Monte
//! Carlo sample) of combinations `c` of the components. Its log-wealth is
//! within `O(K log T)` of the best constant combination of the components,
//! which is at least the best single component and can exceed it (it
//! rebalances between strategies), with no assumption on the market. The
//! paper's *accelerated variant* is read as follow-the-leader on the same
//! objective ([`EnsembleKind::Leader`]): the best combination in hindsight
//! so far, found by Cover's (1984) multiplicative fixed point
//! `c <- c * mean_s(r_s / (c . r_s))`. Both readings are ours; see
//! docs/bandits.md.
//!
//! Markets: [`Market::gbm`], [`Market::mean_reverting`],
//! [`Market::regime_switching`] (seeded synthetic) and
//! [`Market::from_prices_csv`] (`date,asset,price` rows).

use std::collections::BTreeMap;

use duality_core::{check, limits, Error, Result};
use rand::Rng;
use rand_distr::{Distribution, Gamma, StandardNormal};
use serde::{Deserialize, Serialize};

/// Trading periods per year used to annualise growth by default (days).
pub const PERIODS_PER_YEAR: f64 = 252.0;

/// A market: `relatives[t][i]` is the price relative of asset `i` in
/// period `t` (all finite and > 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Market {
    /// Asset names.
    pub assets: Vec<String>,
    /// Price relatives, one row per period.
    pub relatives: Vec<Vec<f64>>,
}

fn gaussian(rng: &mut impl Rng) -> f64 {
    StandardNormal.sample(rng)
}

fn check_periods_assets(periods: usize, assets: usize) -> Result<()> {
    check::at_least("periods", periods, 1)?;
    check::at_least("assets", assets, 1)?;
    let cells = limits::product(&[("periods", periods), ("assets", assets)])?;
    limits::elements::<f64>("periods x assets (market table)", cells)?;
    Ok(())
}

impl Market {
    /// A market from price relatives; an error names the first relative
    /// that is not finite and > 0, or a row of the wrong length.
    pub fn new(assets: Vec<String>, relatives: Vec<Vec<f64>>) -> Result<Self> {
        check::non_empty("assets", &assets)?;
        check::non_empty("price relatives", &relatives)?;
        for (t, row) in relatives.iter().enumerate() {
            check::same_len(
                "assets",
                assets.len(),
                &format!("relatives[{t}]"),
                row.len(),
            )?;
            for (i, &x) in row.iter().enumerate() {
                if !(x.is_finite() && x > 0.0) {
                    return Err(Error::invalid(
                        format!("price relative of {} in period {t}", assets[i]),
                        x,
                        "a finite number > 0",
                    ));
                }
            }
        }
        Ok(Market { assets, relatives })
    }

    /// Number of assets.
    pub fn n_assets(&self) -> usize {
        self.assets.len()
    }

    /// Number of periods.
    pub fn n_periods(&self) -> usize {
        self.relatives.len()
    }

    fn names(m: usize) -> Vec<String> {
        (0..m).map(|i| format!("asset{i}")).collect()
    }

    /// Geometric Brownian motion, daily steps (`dt = 1/252`): asset `i` has
    /// annual drift `mu_i` spread evenly over `[0.02, 0.12]` and volatility
    /// `sigma_i` over `[0.15, 0.45]` (the high-drift assets are the
    /// volatile ones), independent shocks; `x = exp((mu - sigma^2/2) dt +
    /// sigma sqrt(dt) Z)`.
    pub fn gbm(assets: usize, periods: usize, seed: u64) -> Result<Self> {
        check_periods_assets(periods, assets)?;
        let mut rng = duality_core::seed::Seeder::new(seed).named("gbm").rng(0);
        let dt = 1.0 / PERIODS_PER_YEAR;
        let spread = |lo: f64, hi: f64, i: usize| {
            if assets == 1 {
                lo
            } else {
                lo + (hi - lo) * i as f64 / (assets - 1) as f64
            }
        };
        let relatives = (0..periods)
            .map(|_| {
                (0..assets)
                    .map(|i| {
                        let (mu, sigma) = (spread(0.02, 0.12, i), spread(0.15, 0.45, i));
                        ((mu - 0.5 * sigma * sigma) * dt + sigma * dt.sqrt() * gaussian(&mut rng))
                            .exp()
                    })
                    .collect()
            })
            .collect();
        Market::new(Self::names(assets), relatives)
    }

    /// Mean-reverting log prices (a discretised Ornstein-Uhlenbeck process
    /// around a common upward trend): `y_{t+1} = y_t + kappa (g t dt - y_t)
    /// dt + sigma sqrt(dt) Z` with `kappa = 60`/year (half-life about three
    /// days), trend `g = 0.05`/year, `sigma = 0.3`; `x_t = exp(y_{t+1} -
    /// y_t)`. Rebalancing and reversion strategies profit here.
    pub fn mean_reverting(assets: usize, periods: usize, seed: u64) -> Result<Self> {
        check_periods_assets(periods, assets)?;
        let mut rng = duality_core::seed::Seeder::new(seed)
            .named("mean-reverting")
            .rng(0);
        let dt = 1.0 / PERIODS_PER_YEAR;
        let (kappa, trend, sigma) = (60.0, 0.05, 0.3);
        let mut y = vec![0.0; assets];
        let relatives = (0..periods)
            .map(|t| {
                let level = trend * (t + 1) as f64 * dt;
                y.iter_mut()
                    .map(|yi| {
                        let next = *yi
                            + kappa * (level - *yi) * dt
                            + sigma * dt.sqrt() * gaussian(&mut rng);
                        let x = (next - *yi).exp();
                        *yi = next;
                        x
                    })
                    .collect()
            })
            .collect();
        Market::new(Self::names(assets), relatives)
    }

    /// A two-regime Markov-switching market: each day the regime flips with
    /// probability 1/100; in regime 0 asset `i` has annual drift
    /// `0.4 - 0.8 i / (m - 1)`, in regime 1 the reverse order, volatility
    /// 0.25 throughout (leadership between the assets rotates, which rewards
    /// momentum and punishes a fixed mix). A single asset gets drift 0.1.
    pub fn regime_switching(assets: usize, periods: usize, seed: u64) -> Result<Self> {
        check_periods_assets(periods, assets)?;
        let mut rng = duality_core::seed::Seeder::new(seed)
            .named("regime-switching")
            .rng(0);
        let dt = 1.0 / PERIODS_PER_YEAR;
        let sigma: f64 = 0.25;
        let mut regime = 0usize;
        let drift = |i: usize, regime: usize| {
            if assets == 1 {
                return 0.1;
            }
            let f = i as f64 / (assets - 1) as f64;
            let d = 0.4 - 0.8 * f;
            if regime == 0 {
                d
            } else {
                -d
            }
        };
        let relatives = (0..periods)
            .map(|_| {
                if rng.random::<f64>() < 0.01 {
                    regime = 1 - regime;
                }
                (0..assets)
                    .map(|i| {
                        ((drift(i, regime) - 0.5 * sigma * sigma) * dt
                            + sigma * dt.sqrt() * gaussian(&mut rng))
                        .exp()
                    })
                    .collect()
            })
            .collect();
        Market::new(Self::names(assets), relatives)
    }

    /// Builds a synthetic market by name: `gbm`, `mean-reverting` or
    /// `regime-switching`.
    pub fn synthetic(kind: &str, assets: usize, periods: usize, seed: u64) -> Result<Self> {
        match kind {
            "gbm" => Self::gbm(assets, periods, seed),
            "mean-reverting" => Self::mean_reverting(assets, periods, seed),
            "regime-switching" => Self::regime_switching(assets, periods, seed),
            other => Err(Error::invalid(
                "market",
                format!("{other:?}"),
                "gbm, mean-reverting or regime-switching",
            )),
        }
    }

    /// Reads long-format prices, CSV with header `date,asset,price` (any
    /// column order), and turns them into price relatives between
    /// consecutive dates (sorted as strings, so use ISO dates). Every asset
    /// must have a price on every date; prices must be finite and > 0. Errors
    /// name `source` and the line.
    pub fn from_prices_csv(reader: impl std::io::Read, source: &str) -> Result<Self> {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(reader);
        let headers = rdr
            .headers()
            .map_err(|e| Error::parse(source, None, e.to_string()))?
            .clone();
        let col = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim_start_matches('\u{feff}') == name)
                .ok_or_else(|| {
                    Error::parse(
                        source,
                        Some(1),
                        format!("missing column `{name}` (expected date,asset,price)"),
                    )
                })
        };
        let (cd, ca, cp) = (col("date")?, col("asset")?, col("price")?);
        let mut prices: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
        let mut assets: BTreeMap<String, ()> = BTreeMap::new();
        for (i, rec) in rdr.records().enumerate() {
            let line = i + 2;
            let rec = rec.map_err(|e| Error::parse(source, Some(line), e.to_string()))?;
            let field = |c: usize| rec.get(c).unwrap_or("");
            let raw = field(cp);
            let price: f64 = raw.parse().map_err(|_| {
                Error::parse(source, Some(line), format!("price {raw:?} is not a number"))
            })?;
            if !(price.is_finite() && price > 0.0) {
                return Err(Error::parse(
                    source,
                    Some(line),
                    format!("price {raw:?}: expected a finite number > 0"),
                ));
            }
            let (date, asset) = (field(cd).to_string(), field(ca).to_string());
            assets.insert(asset.clone(), ());
            if prices
                .entry(date.clone())
                .or_default()
                .insert(asset.clone(), price)
                .is_some()
            {
                return Err(Error::parse(
                    source,
                    Some(line),
                    format!("a second price for {asset:?} on {date:?}"),
                ));
            }
        }
        let assets: Vec<String> = assets.into_keys().collect();
        if prices.len() < 2 {
            return Err(Error::parse(
                source,
                None,
                format!(
                    "{} dates: need at least 2 to form price relatives",
                    prices.len()
                ),
            ));
        }
        let mut rows: Vec<Vec<f64>> = Vec::with_capacity(prices.len());
        for (date, p) in &prices {
            let row = assets
                .iter()
                .map(|a| {
                    p.get(a).copied().ok_or_else(|| {
                        Error::parse(source, None, format!("no price for {a:?} on {date:?}"))
                    })
                })
                .collect::<Result<Vec<f64>>>()?;
            rows.push(row);
        }
        let relatives = rows
            .windows(2)
            .map(|w| w[1].iter().zip(&w[0]).map(|(a, b)| a / b).collect())
            .collect();
        Market::new(assets, relatives)
    }
}

/// A sequential portfolio strategy.
pub trait PortfolioStrategy: Send {
    /// Display name.
    fn name(&self) -> String;
    /// The portfolio for the next period (non-negative, sums to 1).
    fn portfolio(&mut self) -> Vec<f64>;
    /// Observes the period's price relatives (after [`Self::portfolio`]).
    fn update(&mut self, relatives: &[f64]);
}

fn uniform(m: usize) -> Vec<f64> {
    vec![1.0 / m as f64; m]
}

fn dotp(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Constant rebalanced portfolio `b` (rebalanced to `b` every period).
#[derive(Debug, Clone)]
pub struct Crp {
    b: Vec<f64>,
    label: String,
}

impl Crp {
    /// The CRP `b` (a distribution over the assets).
    pub fn new(b: Vec<f64>, label: &str) -> Result<Self> {
        check::distribution("crp", &b, 1e-9)?;
        Ok(Crp {
            b,
            label: label.to_string(),
        })
    }
    /// The uniform CRP over `m` assets.
    pub fn uniform(m: usize) -> Result<Self> {
        check::at_least("assets", m, 1)?;
        Self::new(uniform(m), "ucrp")
    }
}

impl PortfolioStrategy for Crp {
    fn name(&self) -> String {
        self.label.clone()
    }
    fn portfolio(&mut self) -> Vec<f64> {
        self.b.clone()
    }
    fn update(&mut self, _relatives: &[f64]) {}
}

/// Cover's (1984) multiplicative fixed point for the log-optimal constant
/// mix of `returns` rows: `c <- c * mean_s(r_s / (c . r_s))`, monotone in
/// `sum_s log(c . r_s)`; `iters` steps from `start`.
pub fn log_optimal_weights(returns: &[Vec<f64>], start: &[f64], iters: usize) -> Vec<f64> {
    let mut c = start.to_vec();
    if returns.is_empty() {
        return c;
    }
    let n = returns.len() as f64;
    let mut grad = vec![0.0; c.len()];
    for _ in 0..iters {
        grad.iter_mut().for_each(|g| *g = 0.0);
        for r in returns {
            let d = dotp(&c, r);
            for (g, &x) in grad.iter_mut().zip(r) {
                *g += x / d;
            }
        }
        for (ci, g) in c.iter_mut().zip(&grad) {
            *ci *= g / n;
        }
        let s: f64 = c.iter().sum();
        c.iter_mut().for_each(|ci| *ci /= s);
    }
    c
}

/// The best constant rebalanced portfolio in hindsight on `market` (Cover's
/// fixed point, 2,000 iterations from uniform): a baseline that sees the
/// future, not a causal strategy.
pub fn best_crp(market: &Market) -> Result<Crp> {
    let b = log_optimal_weights(&market.relatives, &uniform(market.n_assets()), 2000);
    Crp::new(b, "best-crp (hindsight)")
}

/// Points of the simplex: a full grid of resolution `r` (all `w` with
/// `r w_i` integer) or `n` Dirichlet(1, ..., 1) draws.
#[derive(Debug, Clone, PartialEq)]
pub struct SimplexPoints {
    points: Vec<Vec<f64>>,
}

impl SimplexPoints {
    /// The grid `{w : r w in N^m, sum w = 1}` (`C(r + m - 1, m - 1)` points,
    /// refused when over `limit`).
    pub fn grid(m: usize, r: usize, limit: usize) -> Result<Self> {
        check::at_least("dimension", m, 1)?;
        check::at_least("grid resolution", r, 1)?;
        // C(r + m - 1, m - 1) without overflow.
        let mut count: u128 = 1;
        for j in 1..m as u128 {
            count = count * (r as u128 + j) / j;
            if count > limit as u128 {
                return Err(Error::invalid(
                    "simplex grid",
                    format!("resolution {r} in dimension {m}"),
                    format!("at most {limit} points"),
                ));
            }
        }
        let mut points = Vec::with_capacity(count as usize);
        let mut cur = vec![0usize; m];
        fn rec(i: usize, left: usize, r: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<f64>>) {
            if i + 1 == cur.len() {
                cur[i] = left;
                out.push(cur.iter().map(|&k| k as f64 / r as f64).collect());
                return;
            }
            for k in 0..=left {
                cur[i] = k;
                rec(i + 1, left - k, r, cur, out);
            }
        }
        rec(0, r, r, &mut cur, &mut points);
        Ok(SimplexPoints { points })
    }

    /// `n` uniform draws on the simplex (Dirichlet(1)) from `seed`.
    pub fn monte_carlo(m: usize, n: usize, seed: u64) -> Result<Self> {
        check::at_least("dimension", m, 1)?;
        check::at_least("samples", n, 1)?;
        let cells = limits::product(&[("samples", n), ("dimension", m)])?;
        limits::elements::<f64>("simplex samples", cells)?;
        let mut rng = duality_core::seed::Seeder::new(seed)
            .named("simplex")
            .rng(0);
        let gamma = Gamma::new(1.0, 1.0).map_err(|e| Error::Other(e.to_string()))?;
        let points = (0..n)
            .map(|_| {
                let mut g: Vec<f64> = (0..m).map(|_| gamma.sample(&mut rng)).collect();
                let s: f64 = g.iter().sum::<f64>().max(f64::MIN_POSITIVE);
                g.iter_mut().for_each(|x| *x /= s);
                g
            })
            .collect();
        Ok(SimplexPoints { points })
    }

    /// Grid of resolution `r` when it has at most `limit` points, else `n`
    /// Monte Carlo draws.
    pub fn grid_or_monte_carlo(
        m: usize,
        r: usize,
        limit: usize,
        n: usize,
        seed: u64,
    ) -> Result<Self> {
        Self::grid(m, r, limit).or_else(|_| Self::monte_carlo(m, n, seed))
    }

    /// The points.
    pub fn points(&self) -> &[Vec<f64>] {
        &self.points
    }
}

/// Wealth-weighted mixture over fixed mixes `points` of `m` "assets",
/// tracked in log space: `mix() = sum_c c S(c) / sum_c S(c)`.
#[derive(Debug, Clone)]
struct UniversalMixture {
    points: Vec<Vec<f64>>,
    log_wealth: Vec<f64>,
}

impl UniversalMixture {
    fn new(points: SimplexPoints) -> Self {
        let n = points.points.len();
        UniversalMixture {
            points: points.points,
            log_wealth: vec![0.0; n],
        }
    }
    fn mix(&self) -> Vec<f64> {
        let m = self.points[0].len();
        let top = self
            .log_wealth
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let mut out = vec![0.0; m];
        let mut z = 0.0;
        for (p, &lw) in self.points.iter().zip(&self.log_wealth) {
            let w = (lw - top).exp();
            z += w;
            for (o, &pi) in out.iter_mut().zip(p) {
                *o += w * pi;
            }
        }
        out.iter_mut().for_each(|o| *o /= z);
        out
    }
    fn update(&mut self, returns: &[f64]) {
        for (p, lw) in self.points.iter().zip(self.log_wealth.iter_mut()) {
            *lw += dotp(p, returns).max(f64::MIN_POSITIVE).ln();
        }
    }
}

/// Cover's universal portfolio over a simplex grid / Monte Carlo sample of
/// CRPs (uniform prior).
#[derive(Debug, Clone)]
pub struct UniversalPortfolio {
    mixture: UniversalMixture,
}

impl UniversalPortfolio {
    /// Exact on the grid of resolution `resolution` when it has at most
    /// 5,000 points, otherwise `samples` Dirichlet(1) CRPs from `seed`.
    pub fn new(m: usize, resolution: usize, samples: usize, seed: u64) -> Result<Self> {
        let points = SimplexPoints::grid_or_monte_carlo(m, resolution, 5000, samples, seed)?;
        Ok(UniversalPortfolio {
            mixture: UniversalMixture::new(points),
        })
    }
}

impl PortfolioStrategy for UniversalPortfolio {
    fn name(&self) -> String {
        "universal".into()
    }
    fn portfolio(&mut self) -> Vec<f64> {
        self.mixture.mix()
    }
    fn update(&mut self, relatives: &[f64]) {
        self.mixture.update(relatives);
    }
}

/// Exponentiated gradient (Helmbold et al. 1998, eq. (7)).
#[derive(Debug, Clone)]
pub struct ExponentiatedGradient {
    b: Vec<f64>,
    eta: f64,
}

impl ExponentiatedGradient {
    /// EG with learning rate `eta > 0` (the paper's experiments: 0.05).
    pub fn new(m: usize, eta: f64) -> Result<Self> {
        check::at_least("assets", m, 1)?;
        check::positive("eta", eta)?;
        Ok(ExponentiatedGradient { b: uniform(m), eta })
    }
}

impl PortfolioStrategy for ExponentiatedGradient {
    fn name(&self) -> String {
        format!("eg(eta={})", self.eta)
    }
    fn portfolio(&mut self) -> Vec<f64> {
        self.b.clone()
    }
    fn update(&mut self, x: &[f64]) {
        let r = dotp(&self.b, x);
        let logits: Vec<f64> = self
            .b
            .iter()
            .zip(x)
            .map(|(&bi, &xi)| bi.max(f64::MIN_POSITIVE).ln() + self.eta * xi / r)
            .collect();
        crate::math::softmax_into(&logits, &mut self.b);
    }
}

/// Euclidean projection onto the simplex (Duchi et al. 2008, sort-based).
fn project_simplex(v: &[f64]) -> Vec<f64> {
    let mut u = v.to_vec();
    u.sort_by(|a, b| b.total_cmp(a));
    let mut css = 0.0;
    let mut theta = 0.0;
    for (j, &uj) in u.iter().enumerate() {
        css += uj;
        let t = (css - 1.0) / (j + 1) as f64;
        if uj - t > 0.0 {
            theta = t;
        }
    }
    v.iter().map(|&x| (x - theta).max(0.0)).collect()
}

/// Online Newton step for portfolios (Agarwal et al. 2006, Algorithm 1 as
/// the OLPS toolbox's `ons.m` runs it: `eta = 0`, `beta = 1`, `delta =
/// 1/8`). The projection in the `A`-norm onto the simplex is solved by
/// accelerated projected gradient (FISTA, 300 steps, step `1 / tr A`).
#[derive(Debug, Clone)]
pub struct OnlineNewtonStep {
    m: usize,
    a: Vec<f64>,
    bsum: Vec<f64>,
    p: Vec<f64>,
    beta: f64,
    delta: f64,
}

impl OnlineNewtonStep {
    /// ONS over `m` assets with the toolbox's `beta = 1`, `delta = 1/8`.
    pub fn new(m: usize) -> Result<Self> {
        check::at_least("assets", m, 1)?;
        let mut a = vec![0.0; m * m];
        for i in 0..m {
            a[i * m + i] = 1.0;
        }
        Ok(OnlineNewtonStep {
            m,
            a,
            bsum: vec![0.0; m],
            p: uniform(m),
            beta: 1.0,
            delta: 0.125,
        })
    }

    fn project(&self, q: &[f64]) -> Vec<f64> {
        let m = self.m;
        let step = 1.0 / (0..m).map(|i| self.a[i * m + i]).sum::<f64>();
        let mut x = self.p.clone();
        let mut y = x.clone();
        let mut t = 1.0f64;
        for _ in 0..300 {
            // grad of (y - q)^T A (y - q) / 2
            let grad: Vec<f64> = (0..m)
                .map(|i| (0..m).map(|j| self.a[i * m + j] * (y[j] - q[j])).sum())
                .collect();
            let z: Vec<f64> = y.iter().zip(&grad).map(|(yi, g)| yi - step * g).collect();
            let next = project_simplex(&z);
            let t_next = (1.0 + (1.0 + 4.0 * t * t).sqrt()) / 2.0;
            y = next
                .iter()
                .zip(&x)
                .map(|(n, o)| n + (t - 1.0) / t_next * (n - o))
                .collect();
            x = next;
            t = t_next;
        }
        x
    }
}

impl PortfolioStrategy for OnlineNewtonStep {
    fn name(&self) -> String {
        "ons".into()
    }
    fn portfolio(&mut self) -> Vec<f64> {
        self.p.clone()
    }
    fn update(&mut self, x: &[f64]) {
        let m = self.m;
        let r = dotp(&self.p, x);
        let g: Vec<f64> = x.iter().map(|xi| xi / r).collect();
        for i in 0..m {
            for j in 0..m {
                self.a[i * m + j] += g[i] * g[j];
            }
            self.bsum[i] += (1.0 + 1.0 / self.beta) * g[i];
        }
        let Ok(sol) = duality_core::linalg::solve_spd(&self.a, m, &self.bsum) else {
            return; // A = I + sum g g^T is SPD; keep p on a numerical failure
        };
        let q: Vec<f64> = sol.iter().map(|v| self.delta * v).collect();
        self.p = self.project(&q);
    }
}

/// Anticor (Borodin, El-Yaniv & Gogan 2004, Algorithm 1) with window `w`:
/// moves wealth from recent winners to recent losers in proportion to the
/// positive cross-correlation of their log relatives over the last two
/// windows.
#[derive(Debug, Clone)]
pub struct Anticor {
    window: usize,
    history: Vec<Vec<f64>>,
    b: Vec<f64>,
}

impl Anticor {
    /// Anticor over `m` assets with window `window >= 2`.
    pub fn new(m: usize, window: usize) -> Result<Self> {
        check::at_least("assets", m, 1)?;
        check::at_least("window", window, 2)?;
        Ok(Anticor {
            window,
            history: Vec::new(),
            b: uniform(m),
        })
    }
}

impl PortfolioStrategy for Anticor {
    fn name(&self) -> String {
        format!("anticor(w={})", self.window)
    }
    fn portfolio(&mut self) -> Vec<f64> {
        self.b.clone()
    }
    fn update(&mut self, x: &[f64]) {
        let m = x.len();
        let w = self.window;
        // Drift the held portfolio with the period's relatives.
        let r = dotp(&self.b, x);
        let drifted: Vec<f64> = self.b.iter().zip(x).map(|(b, xi)| b * xi / r).collect();
        self.history.push(x.iter().map(|v| v.ln()).collect());
        if self.history.len() > 2 * w {
            self.history.remove(0);
        }
        if self.history.len() < 2 * w {
            self.b = drifted;
            return;
        }
        let (lx1, lx2) = self.history.split_at(w);
        let stats = |lx: &[Vec<f64>]| {
            let mu: Vec<f64> = (0..m)
                .map(|i| lx.iter().map(|row| row[i]).sum::<f64>() / w as f64)
                .collect();
            let sd: Vec<f64> = (0..m)
                .map(|i| {
                    (lx.iter().map(|row| (row[i] - mu[i]).powi(2)).sum::<f64>() / (w - 1) as f64)
                        .sqrt()
                })
                .collect();
            (mu, sd)
        };
        let (mu1, sd1) = stats(lx1);
        let (mu2, sd2) = stats(lx2);
        let cor = |i: usize, j: usize| {
            let cov = lx1
                .iter()
                .zip(lx2)
                .map(|(a, b)| (a[i] - mu1[i]) * (b[j] - mu2[j]))
                .sum::<f64>()
                / (w - 1) as f64;
            let d = sd1[i] * sd2[j];
            if d > 0.0 {
                cov / d
            } else {
                0.0
            }
        };
        let mut claim = vec![0.0; m * m];
        for i in 0..m {
            for j in 0..m {
                if i != j && mu2[i] > mu2[j] {
                    let c = cor(i, j);
                    if c > 0.0 {
                        claim[i * m + j] = c + (-cor(i, i)).max(0.0) + (-cor(j, j)).max(0.0);
                    }
                }
            }
        }
        let mut b = drifted.clone();
        for i in 0..m {
            let total: f64 = claim[i * m..(i + 1) * m].iter().sum();
            if total > 0.0 {
                for j in 0..m {
                    let transfer = drifted[i] * claim[i * m + j] / total;
                    b[i] -= transfer;
                    b[j] += transfer;
                }
            }
        }
        let s: f64 = b.iter().map(|v| v.max(0.0)).sum();
        self.b = b.iter().map(|v| v.max(0.0) / s).collect();
    }
}

/// How the ensemble combines its components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum EnsembleKind {
    /// The universal mixture over constant combinations of the components
    /// (our reading of the paper's combinatorial strategy).
    Universal,
    /// Follow the leader: the best constant combination in hindsight so far
    /// (our reading of the paper's accelerated variant).
    Leader,
}

/// The ensemble over component strategies (see the module docs).
pub struct Ensemble {
    components: Vec<Box<dyn PortfolioStrategy>>,
    kind: EnsembleKind,
    mixture: Option<UniversalMixture>,
    returns: Vec<Vec<f64>>,
    weights: Vec<f64>,
    current: Vec<Vec<f64>>,
}

impl Ensemble {
    /// An ensemble over `components` (at least one). The universal kind
    /// uses the combination grid of resolution 10 when it has at most 5,000
    /// points, else 2,000 Monte Carlo combinations from `seed`.
    pub fn new(
        components: Vec<Box<dyn PortfolioStrategy>>,
        kind: EnsembleKind,
        seed: u64,
    ) -> Result<Self> {
        check::non_empty("ensemble components", &components)?;
        let k = components.len();
        let mixture = match kind {
            EnsembleKind::Universal => Some(UniversalMixture::new(
                SimplexPoints::grid_or_monte_carlo(k, 10, 5000, 2000, seed)?,
            )),
            EnsembleKind::Leader => None,
        };
        Ok(Ensemble {
            components,
            kind,
            mixture,
            returns: Vec::new(),
            weights: uniform(k),
            current: Vec::new(),
        })
    }

    /// The current combination weights over the components.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
}

impl PortfolioStrategy for Ensemble {
    fn name(&self) -> String {
        match self.kind {
            EnsembleKind::Universal => "ensemble".into(),
            EnsembleKind::Leader => "ensemble-leader".into(),
        }
    }
    fn portfolio(&mut self) -> Vec<f64> {
        self.current = self.components.iter_mut().map(|c| c.portfolio()).collect();
        self.weights = match &self.mixture {
            Some(mix) => mix.mix(),
            // Warm-started fixed point: 20 steps per period.
            None => log_optimal_weights(&self.returns, &self.weights, 20),
        };
        let m = self.current[0].len();
        let mut b = vec![0.0; m];
        for (w, p) in self.weights.iter().zip(&self.current) {
            for (bi, pi) in b.iter_mut().zip(p) {
                *bi += w * pi;
            }
        }
        b
    }
    fn update(&mut self, x: &[f64]) {
        let r: Vec<f64> = self.current.iter().map(|p| dotp(p, x)).collect();
        if let Some(mix) = &mut self.mixture {
            mix.update(&r);
        } else {
            self.returns.push(r);
        }
        for c in &mut self.components {
            c.update(x);
        }
    }
}

/// Performance of one strategy on one market.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Performance {
    /// Strategy name.
    pub strategy: String,
    /// Natural log of the final wealth (start 1).
    pub log_wealth: f64,
    /// Final wealth (start 1).
    pub final_wealth: f64,
    /// Annualised growth `exp(periods_per_year log_wealth / T) - 1`.
    pub annualised_growth: f64,
    /// Maximum drawdown `max_t (1 - W_t / max_{s <= t} W_s)`.
    pub max_drawdown: f64,
    /// Mean fraction of wealth traded per period, `|b_t - b~_{t-1}|_1 / 2`.
    pub turnover: f64,
}

/// Runs `strategy` on `market` with proportional transaction cost `cost`
/// in `[0, 1)` (see the module docs).
pub fn run_strategy(
    strategy: &mut dyn PortfolioStrategy,
    market: &Market,
    cost: f64,
    periods_per_year: f64,
) -> Result<Performance> {
    if !(cost.is_finite() && (0.0..1.0).contains(&cost)) {
        return Err(Error::invalid(
            "transaction cost",
            cost,
            "a value in [0, 1)",
        ));
    }
    check::positive("periods per year", periods_per_year)?;
    let m = market.n_assets();
    let mut log_w = 0.0f64;
    let mut peak = 0.0f64;
    let mut max_dd = 0.0f64;
    let mut traded = 0.0;
    let mut drifted: Option<Vec<f64>> = None;
    for (t, x) in market.relatives.iter().enumerate() {
        let b = strategy.portfolio();
        if b.len() != m || b.iter().any(|v| !v.is_finite() || *v < -1e-9) {
            return Err(Error::invalid(
                format!("portfolio of {} in period {t}", strategy.name()),
                format!("{b:?}"),
                format!("{m} non-negative weights"),
            ));
        }
        let turn = drifted.as_ref().map_or(0.0, |d| {
            d.iter().zip(&b).map(|(a, c)| (a - c).abs()).sum::<f64>() / 2.0
        });
        traded += turn;
        let gross = dotp(&b, x);
        let net = gross * (1.0 - cost * turn);
        log_w += net.max(f64::MIN_POSITIVE).ln();
        peak = peak.max(log_w);
        max_dd = max_dd.max(1.0 - (log_w - peak).exp());
        drifted = Some(b.iter().zip(x).map(|(bi, xi)| bi * xi / gross).collect());
        strategy.update(x);
    }
    let n = market.n_periods() as f64;
    let final_wealth = log_w.exp();
    let annualised_growth = (periods_per_year * log_w / n).exp() - 1.0;
    for (name, v) in [
        ("final wealth", final_wealth),
        ("annualised growth", annualised_growth),
    ] {
        if !v.is_finite() {
            return Err(Error::invalid(
                format!("{name} of {}", strategy.name()),
                v,
                format!("a finite number (log-wealth {log_w:.3} overflows f64)"),
            ));
        }
    }
    Ok(Performance {
        strategy: strategy.name(),
        log_wealth: log_w,
        final_wealth,
        annualised_growth,
        max_drawdown: max_dd,
        turnover: traded / n,
    })
}

/// The base strategies of the ensemble on `m` assets: uniform CRP, Cover's
/// universal portfolio (grid resolution 20, else 2,000 draws), EG (eta =
/// 0.05), ONS, Anticor (window 10).
pub fn base_strategies(m: usize, seed: u64) -> Result<Vec<Box<dyn PortfolioStrategy>>> {
    Ok(vec![
        Box::new(Crp::uniform(m)?),
        Box::new(UniversalPortfolio::new(m, 20, 2000, seed)?),
        Box::new(ExponentiatedGradient::new(m, 0.05)?),
        Box::new(OnlineNewtonStep::new(m)?),
        Box::new(Anticor::new(m, 10)?),
    ])
}

/// Every base strategy, the best CRP in hindsight and both ensembles on
/// `market`: one [`Performance`] each (bases first, then `best-crp
/// (hindsight)`, `ensemble`, `ensemble-leader`).
pub fn compare(market: &Market, cost: f64, seed: u64) -> Result<Vec<Performance>> {
    let m = market.n_assets();
    let mut out = Vec::new();
    for mut s in base_strategies(m, seed)? {
        out.push(run_strategy(s.as_mut(), market, cost, PERIODS_PER_YEAR)?);
    }
    let mut best = best_crp(market)?;
    out.push(run_strategy(&mut best, market, cost, PERIODS_PER_YEAR)?);
    for kind in [EnsembleKind::Universal, EnsembleKind::Leader] {
        let mut e = Ensemble::new(base_strategies(m, seed)?, kind, seed)?;
        out.push(run_strategy(&mut e, market, cost, PERIODS_PER_YEAR)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn two_asset_cash_stock() -> Market {
        // The classic example: cash and a stock that alternately doubles
        // and halves; the best CRP is (1/2, 1/2), growing 9/8 per 2 periods.
        let rows = (0..40)
            .map(|t| vec![1.0, if t % 2 == 0 { 2.0 } else { 0.5 }])
            .collect();
        Market::new(vec!["cash".into(), "stock".into()], rows).unwrap()
    }

    #[test]
    fn bcrp_and_ucrp_on_the_doubling_stock() {
        let market = two_asset_cash_stock();
        let best = best_crp(&market).unwrap();
        assert_relative_eq!(best.b[0], 0.5, epsilon = 1e-6);
        let mut ucrp = Crp::uniform(2).unwrap();
        let p = run_strategy(&mut ucrp, &market, 0.0, 252.0).unwrap();
        assert_relative_eq!(p.log_wealth, 20.0 * (9.0f64 / 8.0).ln(), epsilon = 1e-9);
        // Buy-and-hold of either asset does not grow; the CRP rebalances.
        let mut stock = Crp::new(vec![0.0, 1.0], "stock").unwrap();
        let s = run_strategy(&mut stock, &market, 0.0, 252.0).unwrap();
        assert_relative_eq!(s.log_wealth, 0.0, epsilon = 1e-9);
        assert!(s.max_drawdown > 0.49 && s.turnover == 0.0);
        // Costs lower the rebalancing CRP's wealth and count turnover.
        let c = run_strategy(&mut ucrp, &market, 0.01, 252.0).unwrap();
        assert!(c.log_wealth < p.log_wealth && c.turnover > 0.0);
    }

    #[test]
    fn universal_portfolio_is_within_its_regret_bound() {
        let market = two_asset_cash_stock();
        let mut up = UniversalPortfolio::new(2, 200, 0, 0).unwrap();
        let p = run_strategy(&mut up, &market, 0.0, 252.0).unwrap();
        let best = 20.0 * (9.0f64 / 8.0).ln();
        // Cover 1991: S_n >= S*_n / (n + 1)^{(m - 1)} for m = 2.
        assert!(
            p.log_wealth >= best - (41.0f64).ln() - 1e-9,
            "{}",
            p.log_wealth
        );
        assert!(p.log_wealth < best + 1e-9);
    }

    #[test]
    fn strategies_return_distributions() {
        let market = Market::regime_switching(4, 200, 3).unwrap();
        let mut strategies = base_strategies(4, 1).unwrap();
        strategies.push(Box::new(
            Ensemble::new(base_strategies(4, 1).unwrap(), EnsembleKind::Leader, 1).unwrap(),
        ));
        for s in &mut strategies {
            for x in &market.relatives {
                let b = s.portfolio();
                assert_relative_eq!(b.iter().sum::<f64>(), 1.0, epsilon = 1e-6);
                assert!(b.iter().all(|&v| v >= -1e-12), "{} {b:?}", s.name());
                s.update(x);
            }
        }
    }

    #[test]
    fn eg_matches_its_update_rule() {
        let mut eg = ExponentiatedGradient::new(2, 0.5).unwrap();
        eg.update(&[1.0, 2.0]);
        let b = eg.portfolio();
        let (a, c) = ((0.5f64 * 1.0 / 1.5).exp(), (0.5f64 * 2.0 / 1.5).exp());
        assert_relative_eq!(b[1], c / (a + c), epsilon = 1e-12);
    }

    #[test]
    fn ons_projection_lands_on_the_simplex_optimum() {
        let mut ons = OnlineNewtonStep::new(3).unwrap();
        for x in [[1.1, 0.9, 1.0], [0.95, 1.05, 1.0], [1.2, 0.8, 1.01]] {
            ons.update(&x);
        }
        let q = [0.9, 0.5, -0.2];
        let p = ons.project(&q);
        let obj = |v: &[f64]| {
            let d: Vec<f64> = v.iter().zip(&q).map(|(a, b)| a - b).collect();
            (0..3)
                .map(|i| (0..3).map(|j| d[i] * ons.a[i * 3 + j] * d[j]).sum::<f64>())
                .sum::<f64>()
        };
        // No point of a fine simplex grid does better.
        let grid = SimplexPoints::grid(3, 60, 10_000).unwrap();
        let best = grid
            .points()
            .iter()
            .map(|g| obj(g))
            .fold(f64::INFINITY, f64::min);
        assert!(obj(&p) <= best + 1e-6, "{} vs {best}", obj(&p));
    }

    #[test]
    fn anticor_moves_wealth_from_winner_to_correlated_loser() {
        let mut a = Anticor::new(2, 3).unwrap();
        // Asset 0 wins in the second window after asset 1's moves predicted it.
        let rows = [
            [1.0, 1.1],
            [1.0, 0.9],
            [1.0, 1.2],
            [1.1, 1.0],
            [0.9, 1.0],
            [1.2, 1.0],
        ];
        for x in rows {
            a.update(&x);
        }
        let b = a.portfolio();
        assert_relative_eq!(b.iter().sum::<f64>(), 1.0, epsilon = 1e-12);
    }

    #[test]
    fn ensemble_tracks_the_best_component_on_a_known_market() {
        // Components: all-cash and all-stock CRPs. The best constant
        // combination (1/2, 1/2) is the rebalancing CRP, which beats both.
        let market = two_asset_cash_stock();
        let comps = || -> Vec<Box<dyn PortfolioStrategy>> {
            vec![
                Box::new(Crp::new(vec![1.0, 0.0], "cash").unwrap()),
                Box::new(Crp::new(vec![0.0, 1.0], "stock").unwrap()),
            ]
        };
        for kind in [EnsembleKind::Universal, EnsembleKind::Leader] {
            let mut e = Ensemble::new(comps(), kind, 0).unwrap();
            let p = run_strategy(&mut e, &market, 0.0, 252.0).unwrap();
            assert!(p.log_wealth > 0.5, "{kind:?}: {}", p.log_wealth);
        }
    }

    #[test]
    fn csv_reader_and_bad_input() {
        let text =
            "date,asset,price\n2024-01-02,A,10\n2024-01-02,B,20\n2024-01-03,B,22\n2024-01-03,A,9\n";
        let m = Market::from_prices_csv(text.as_bytes(), "p.csv").unwrap();
        assert_eq!(m.assets, vec!["A", "B"]);
        assert_relative_eq!(m.relatives[0][0], 0.9);
        assert_relative_eq!(m.relatives[0][1], 1.1);
        for (bad, what) in [
            (text.replace(",9\n", ",0\n"), "price \"0\""),
            (text.replace(",9\n", ",NaN\n"), "NaN"),
            (text.replace(",9\n", ",-3\n"), "-3"),
            (text.replace("2024-01-03,A,9\n", ""), "no price for \"A\""),
            ("date,asset,value\n".to_string(), "price"),
        ] {
            let e = Market::from_prices_csv(bad.as_bytes(), "p.csv")
                .unwrap_err()
                .to_string();
            assert!(e.contains(what) && e.contains("p.csv"), "{e}");
        }
        let e = Market::new(vec!["a".into()], vec![vec![f64::NAN]])
            .unwrap_err()
            .to_string();
        assert!(e.contains("NaN"), "{e}");
        let mut u = Crp::uniform(2).unwrap();
        for cost in [-0.1, 1.0, f64::NAN] {
            let e = run_strategy(&mut u, &m, cost, 252.0)
                .unwrap_err()
                .to_string();
            assert!(e.contains("transaction cost"), "{e}");
        }
        assert!(Ensemble::new(Vec::new(), EnsembleKind::Universal, 0).is_err());
        assert!(Market::gbm(3, usize::MAX / 2, 0).is_err());
    }

    #[test]
    fn synthetic_markets_are_seeded() {
        for kind in ["gbm", "mean-reverting", "regime-switching"] {
            let a = Market::synthetic(kind, 3, 50, 7).unwrap();
            assert_eq!(a, Market::synthetic(kind, 3, 50, 7).unwrap());
            assert_ne!(a, Market::synthetic(kind, 3, 50, 8).unwrap());
        }
        assert!(Market::synthetic("random-walk", 3, 50, 7).is_err());
    }
}
