//! Position auctions: allocating creatives (e.g. AI-generated ad variants)
//! to slots. Welfare maximisation as an assignment problem with VCG
//! payments (Vickrey 1961, Clarke 1971, Groves 1973; for position auctions
//! Aggarwal, Goel & Motwani 2006 and Edelman, Ostrovsky & Schwarz 2007), the
//! multinomial-logit (MNL) user model solved exactly by Dinkelbach's
//! fractional programming over assignments, and the cascade model (Kempe &
//! Mahdian 2008; Aggarwal et al. 2008) with its exact sort-and-DP optimum and
//! the externality-free greedy approximation.
//!
//! Revenue (Myerson 1981, "Optimal auction design"): with independent
//! private values per click drawn from *regular* distributions
//! ([`ValueDistribution`]: uniform and exponential, whose virtual values
//! `phi(b) = b - (1 - F(b)) / f(b)` increase, so no ironing is needed), the
//! revenue-optimal truthful mechanism allocates to maximise the expected
//! *virtual* welfare `sum phi_i(b_i) P_i` (creatives with `phi_i < 0`, i.e.
//! bids below the reserve `phi_i^{-1}(0)`, are never shown) and charges
//! Myerson's payment `p_i = b_i P_i(b_i) - int_{lo_i}^{b_i} P_i(z) dz`
//! ([`myerson_payments`]). For the MNL model the virtual-welfare allocation
//! is again a ratio of linear functions, solved exactly by the same
//! Dinkelbach iterations ([`mnl_myerson`]); this is the efficient optimal
//! mechanism of Balseiro et al. 2025 ("Position auctions in AI-generated
//! content", arXiv 2506.03309, abstract: "for the MNL model ... we can
//! efficiently implement the optimal mechanisms"); only the abstract and a
//! summary of the model were reachable, so the construction here is the
//! textbook Myerson reduction applied to their model, not their text.
//! [`PositionalCascade`] is the cascade model with position-specific click
//! rates `c[k][i]` (their setting: one click rate per position-creative
//! pair), solved exactly by a DP over subsets; the paper's approximation
//! algorithm for it was not reachable.

use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::assignment::{linear_sum_assignment, CostMatrix};

/// Creatives with bids (value per click) and click-through rates per
/// `(position, creative)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionAuction {
    /// Bid of each creative.
    pub bids: Vec<f64>,
    /// `ctr[k][i]`: click probability of creative `i` in position `k`.
    pub ctr: Vec<Vec<f64>>,
}

/// An allocation with its welfare and payments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuctionOutcome {
    /// `slots[k]`: creative shown in position `k`, if any.
    pub slots: Vec<Option<usize>>,
    /// Expected welfare (sum of bid x click probability).
    pub welfare: f64,
    /// Expected payment of each creative (VCG; zero when not computed).
    pub payments: Vec<f64>,
    /// Sum of payments.
    pub revenue: f64,
}

impl PositionAuction {
    /// Validates bids (finite, >= 0) and CTRs (probabilities, one per creative).
    pub fn new(bids: Vec<f64>, ctr: Vec<Vec<f64>>) -> Result<Self> {
        duality_core::check::finite_non_empty("bids", &bids)?;
        if let Some(i) = bids.iter().position(|&b| b < 0.0) {
            return Err(Error::invalid(format!("bids[{i}]"), bids[i], "a bid >= 0"));
        }
        duality_core::check::non_empty("positions (ctr rows)", &ctr)?;
        for (k, row) in ctr.iter().enumerate() {
            duality_core::check::same_len(&format!("ctr[{k}]"), row.len(), "bids", bids.len())?;
            duality_core::check::probabilities(&format!("ctr[{k}]"), row)?;
        }
        Ok(PositionAuction { bids, ctr })
    }

    fn values(&self, exclude: Option<usize>) -> Result<CostMatrix> {
        let n = self.bids.len();
        let data = self
            .ctr
            .iter()
            .flat_map(|row| {
                (0..n).map(move |i| {
                    if Some(i) == exclude {
                        0.0
                    } else {
                        self.bids[i] * row[i]
                    }
                })
            })
            .collect();
        CostMatrix::new(self.ctr.len(), n, data)
    }

    fn best_welfare(&self, exclude: Option<usize>) -> Result<(f64, Vec<Option<usize>>)> {
        let a = linear_sum_assignment(&self.values(exclude)?, true)?;
        let mut slots = vec![None; self.ctr.len()];
        for (k, i) in a.pairs {
            if Some(i) != exclude && self.bids[i] * self.ctr[k][i] > 0.0 {
                slots[k] = Some(i);
            }
        }
        Ok((a.cost, slots))
    }

    /// The welfare-maximising allocation with VCG payments: creative `i`
    /// pays the welfare the others lose because `i` takes part,
    /// `W*_{-i} - (W* - b_i ctr_{k(i), i})`.
    pub fn vcg(&self) -> Result<AuctionOutcome> {
        let (welfare, slots) = self.best_welfare(None)?;
        let mut payments = vec![0.0; self.bids.len()];
        for (k, s) in slots.iter().enumerate() {
            if let Some(i) = *s {
                let (without, _) = self.best_welfare(Some(i))?;
                let own = self.bids[i] * self.ctr[k][i];
                payments[i] = (without - (welfare - own)).max(0.0);
            }
        }
        let revenue = payments.iter().sum();
        Ok(AuctionOutcome {
            slots,
            welfare,
            payments,
            revenue,
        })
    }
}

/// Expected welfare of `slots` under the MNL model with attractiveness
/// `v[k][i]`: `sum b_i v_ki / (1 + sum v_ki)` over shown pairs.
pub fn mnl_welfare(bids: &[f64], v: &[Vec<f64>], slots: &[Option<usize>]) -> f64 {
    let (mut num, mut den) = (0.0, 1.0);
    for (k, s) in slots.iter().enumerate() {
        if let Some(i) = *s {
            num += bids[i] * v[k][i];
            den += v[k][i];
        }
    }
    num / den
}

/// Exact welfare-maximising allocation under MNL choice, with VCG
/// payments. Allocation: Dinkelbach's method (Dinkelbach 1967) — for the
/// current ratio `lambda`, solve the assignment `max sum (b_i - lambda)
/// v_ki` (pairs with non-positive value are left empty), update `lambda` to
/// the new ratio; it stops at the exact optimum after finitely many
/// assignments. Payments (Clarke pivot, as [`PositionAuction::vcg`] under
/// the MNL welfare): a shown creative `i` pays `W*_{-i} - (W* - b_i
/// P_i)`, the welfare the others lose because `i` takes part, where `P_i =
/// v_ki / (1 + sum v)` is its click probability and `W*_{-i}` the optimum
/// without `i`; so `0 <= payment_i <= b_i P_i` (individually rational), and
/// truthful because the allocation maximises the reported welfare exactly.
/// (Before issue 21 the payments were all zero.)
pub fn mnl_optimal(bids: &[f64], v: &[Vec<f64>]) -> Result<AuctionOutcome> {
    duality_core::check::finite_non_empty("bids", bids)?;
    duality_core::check::non_empty("attractiveness rows", v)?;
    for (k, row) in v.iter().enumerate() {
        duality_core::check::same_len(&format!("v[{k}]"), row.len(), "bids", bids.len())?;
        duality_core::check::finite(&format!("v[{k}]"), row)?;
        if let Some(i) = row.iter().position(|&x| x < 0.0) {
            return Err(Error::invalid(
                format!("v[{k}][{i}]"),
                row[i],
                "an attractiveness >= 0",
            ));
        }
    }
    let n = bids.len();
    let slots = mnl_allocate(bids, v)?;
    let welfare = mnl_welfare(bids, v, &slots);
    let den = mnl_denominator(v, &slots);
    let mut payments = vec![0.0; n];
    for (k, s) in slots.iter().enumerate() {
        if let Some(i) = *s {
            let without_i: Vec<Vec<f64>> = v
                .iter()
                .map(|row| {
                    let mut r = row.clone();
                    r[i] = 0.0;
                    r
                })
                .collect();
            let others = mnl_welfare(bids, &without_i, &mnl_allocate(bids, &without_i)?);
            let own = bids[i] * v[k][i] / den;
            payments[i] = (others - (welfare - own)).clamp(0.0, own);
        }
    }
    let revenue = payments.iter().sum();
    Ok(AuctionOutcome {
        slots,
        welfare,
        payments,
        revenue,
    })
}

/// Dinkelbach iterations of [`mnl_optimal`] on validated input.
fn mnl_allocate(bids: &[f64], v: &[Vec<f64>]) -> Result<Vec<Option<usize>>> {
    let n = bids.len();
    let mut lambda = 0.0;
    let mut slots = vec![None; v.len()];
    for _ in 0..1000 {
        let data = v
            .iter()
            .flat_map(|row| (0..n).map(move |i| ((bids[i] - lambda) * row[i]).max(0.0)))
            .collect();
        let a = linear_sum_assignment(&CostMatrix::new(v.len(), n, data)?, true)?;
        let mut new_slots = vec![None; v.len()];
        for (k, i) in a.pairs {
            if (bids[i] - lambda) * v[k][i] > 0.0 {
                new_slots[k] = Some(i);
            }
        }
        let ratio = mnl_welfare(bids, v, &new_slots);
        if ratio <= lambda * (1.0 + 1e-12) + 1e-15 {
            break;
        }
        lambda = ratio;
        slots = new_slots;
    }
    Ok(slots)
}

/// A bidder's value-per-click distribution (regular, so Myerson's virtual
/// value is increasing and no ironing is needed).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ValueDistribution {
    /// Uniform on `[low, high]`: `phi(b) = 2 b - high`.
    Uniform {
        /// Lowest value.
        low: f64,
        /// Highest value.
        high: f64,
    },
    /// Exponential with the given rate: `phi(b) = b - 1 / rate`.
    Exponential {
        /// Rate (inverse mean).
        rate: f64,
    },
}

impl ValueDistribution {
    /// Validates the parameters (finite, `0 <= low < high`, `rate > 0`).
    pub fn validate(&self) -> Result<()> {
        match *self {
            ValueDistribution::Uniform { low, high } => {
                if !(low.is_finite() && high.is_finite() && low >= 0.0 && low < high) {
                    return Err(Error::invalid(
                        "uniform value distribution",
                        format!("[{low}, {high}]"),
                        "finite 0 <= low < high",
                    ));
                }
            }
            ValueDistribution::Exponential { rate } => {
                if !(rate.is_finite() && rate > 0.0) {
                    return Err(Error::invalid(
                        "exponential rate",
                        rate,
                        "a finite rate > 0",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Myerson's virtual value `phi(b) = b - (1 - F(b)) / f(b)`.
    pub fn virtual_value(&self, b: f64) -> f64 {
        match *self {
            ValueDistribution::Uniform { high, .. } => 2.0 * b - high,
            ValueDistribution::Exponential { rate } => b - 1.0 / rate,
        }
    }

    /// Lowest value of the support.
    pub fn low(&self) -> f64 {
        match *self {
            ValueDistribution::Uniform { low, .. } => low,
            ValueDistribution::Exponential { .. } => 0.0,
        }
    }

    /// Highest value of the support (`inf` for the exponential).
    pub fn high(&self) -> f64 {
        match *self {
            ValueDistribution::Uniform { high, .. } => high,
            ValueDistribution::Exponential { .. } => f64::INFINITY,
        }
    }

    /// The monopoly reserve `phi^{-1}(0)`, clipped to the support.
    pub fn reserve(&self) -> f64 {
        match *self {
            ValueDistribution::Uniform { low, high } => (high / 2.0).max(low),
            ValueDistribution::Exponential { rate } => 1.0 / rate,
        }
    }

    /// One draw (inverse CDF).
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let u: f64 = rng.random();
        match *self {
            ValueDistribution::Uniform { low, high } => low + u * (high - low),
            ValueDistribution::Exponential { rate } => -(1.0 - u).ln() / rate,
        }
    }
}

/// Checks bids against their distributions' supports.
fn check_bids_in_support(bids: &[f64], dists: &[ValueDistribution]) -> Result<()> {
    duality_core::check::finite_non_empty("bids", bids)?;
    duality_core::check::same_len("value distributions", dists.len(), "bids", bids.len())?;
    for (i, (b, d)) in bids.iter().zip(dists).enumerate() {
        d.validate()?;
        if *b < d.low() || *b > d.high() {
            return Err(Error::invalid(
                format!("bids[{i}]"),
                b,
                format!("a value in the support [{}, {}]", d.low(), d.high()),
            ));
        }
    }
    Ok(())
}

/// Myerson's payments for a monotone allocation rule: `alloc(bids)` gives
/// each creative's click probability; creative `i` pays `b_i P_i(b_i) -
/// int_{lo_i}^{b_i} P_i(z) dz` (Myerson 1981, Lemma 2 with zero payment at
/// the lowest type), the others' bids fixed. The integral is exact for the
/// step functions these allocations are: a monotone `P_i` equal at both
/// ends of an interval is constant on it, so intervals are bisected only
/// where `P_i` changes, down to a width of `1e-9 (1 + b_i)` (the threshold
/// error bound).
///
/// # Errors
/// Those of `alloc`.
pub fn myerson_payments<F>(bids: &[f64], low: &[f64], alloc: F) -> Result<Vec<f64>>
where
    F: Fn(&[f64]) -> Result<Vec<f64>>,
{
    let base = alloc(bids)?;
    let mut payments = vec![0.0; bids.len()];
    for i in 0..bids.len() {
        if base[i] <= 0.0 {
            continue;
        }
        let mut z = bids.to_vec();
        let mut at = |x: f64| -> Result<f64> {
            z[i] = x;
            Ok(alloc(&z)?[i])
        };
        let tol = 1e-9 * (1.0 + bids[i].abs());
        let (a, b) = (low[i], bids[i]);
        let mut integral = 0.0;
        let mut stack = vec![(a, b, at(a)?, base[i])];
        while let Some((lo, hi, flo, fhi)) = stack.pop() {
            if (fhi - flo).abs() <= 1e-15 {
                integral += flo * (hi - lo);
            } else if hi - lo <= tol {
                integral += 0.5 * (flo + fhi) * (hi - lo);
            } else {
                let mid = 0.5 * (lo + hi);
                let fm = at(mid)?;
                stack.push((lo, mid, flo, fm));
                stack.push((mid, hi, fm, fhi));
            }
        }
        payments[i] = (bids[i] * base[i] - integral).clamp(0.0, bids[i] * base[i]);
    }
    Ok(payments)
}

/// The MNL choice model's denominator of an allocation: 1 (no click) plus
/// the attractiveness of every shown ad.
fn mnl_denominator(v: &[Vec<f64>], slots: &[Option<usize>]) -> f64 {
    1.0 + slots
        .iter()
        .enumerate()
        .filter_map(|(k, s)| s.map(|i| v[k][i]))
        .sum::<f64>()
}

/// Click probabilities of an MNL allocation.
fn mnl_clicks(n: usize, v: &[Vec<f64>], slots: &[Option<usize>]) -> Vec<f64> {
    let den = mnl_denominator(v, slots);
    let mut p = vec![0.0; n];
    for (k, s) in slots.iter().enumerate() {
        if let Some(i) = *s {
            p[i] = v[k][i] / den;
        }
    }
    p
}

/// The revenue-optimal (Myerson) mechanism under the MNL model: show the
/// assortment maximising the virtual welfare `sum phi_i(b_i) v_ki / (1 +
/// sum v)` (Dinkelbach, as [`mnl_optimal`], on the virtual values; a
/// creative bidding below its reserve has `phi < 0` and is never shown)
/// and charge [`myerson_payments`]. `welfare` is the true (bid) welfare of
/// that allocation; the expected revenue over the value distributions
/// equals the expected virtual welfare (Myerson's Lemma 3), the most any
/// truthful, individually rational mechanism earns.
///
/// # Errors
/// Invalid bids, attractiveness or distributions, or a bid outside its
/// distribution's support (all named).
pub fn mnl_myerson(
    bids: &[f64],
    v: &[Vec<f64>],
    dists: &[ValueDistribution],
) -> Result<AuctionOutcome> {
    mnl_optimal(bids, v)?; // validates bids and v
    check_bids_in_support(bids, dists)?;
    let n = bids.len();
    let alloc = |b: &[f64]| -> Result<Vec<f64>> {
        let phi: Vec<f64> = b
            .iter()
            .zip(dists)
            .map(|(x, d)| d.virtual_value(*x))
            .collect();
        Ok(mnl_clicks(n, v, &mnl_allocate(&phi, v)?))
    };
    let phi: Vec<f64> = bids
        .iter()
        .zip(dists)
        .map(|(x, d)| d.virtual_value(*x))
        .collect();
    let slots = mnl_allocate(&phi, v)?;
    let low: Vec<f64> = dists.iter().map(|d| d.low()).collect();
    let payments = myerson_payments(bids, &low, alloc)?;
    Ok(AuctionOutcome {
        welfare: mnl_welfare(bids, v, &slots),
        revenue: payments.iter().sum(),
        slots,
        payments,
    })
}

/// The MNL virtual welfare `sum phi_i(b_i) P_i` of the allocation in
/// `outcome` (the Myerson benchmark: its expectation is the optimal
/// expected revenue).
pub fn mnl_virtual_welfare(
    bids: &[f64],
    v: &[Vec<f64>],
    dists: &[ValueDistribution],
    slots: &[Option<usize>],
) -> f64 {
    mnl_clicks(bids.len(), v, slots)
        .iter()
        .enumerate()
        .map(|(i, p)| p * dists[i].virtual_value(bids[i]))
        .sum()
}

impl PositionAuction {
    /// The revenue-optimal (Myerson) mechanism for separable welfare with
    /// position-specific click rates: the assignment maximising `sum
    /// phi_i(b_i) ctr[k][i]` over pairs with positive virtual value, and
    /// [`myerson_payments`].
    ///
    /// # Errors
    /// Distributions that do not match the bids (named).
    pub fn myerson(&self, dists: &[ValueDistribution]) -> Result<AuctionOutcome> {
        check_bids_in_support(&self.bids, dists)?;
        let n = self.bids.len();
        let alloc_slots = |b: &[f64]| -> Result<Vec<Option<usize>>> {
            let phi: Vec<f64> = b
                .iter()
                .zip(dists)
                .map(|(x, d)| d.virtual_value(*x))
                .collect();
            let data = self
                .ctr
                .iter()
                .flat_map(|row| {
                    (0..n)
                        .map(|i| (phi[i] * row[i]).max(0.0))
                        .collect::<Vec<_>>()
                })
                .collect();
            let a = linear_sum_assignment(&CostMatrix::new(self.ctr.len(), n, data)?, true)?;
            let mut slots = vec![None; self.ctr.len()];
            for (k, i) in a.pairs {
                if phi[i] * self.ctr[k][i] > 0.0 {
                    slots[k] = Some(i);
                }
            }
            Ok(slots)
        };
        let clicks = |slots: &[Option<usize>]| -> Vec<f64> {
            let mut p = vec![0.0; n];
            for (k, s) in slots.iter().enumerate() {
                if let Some(i) = *s {
                    p[i] = self.ctr[k][i];
                }
            }
            p
        };
        let slots = alloc_slots(&self.bids)?;
        let low: Vec<f64> = dists.iter().map(|d| d.low()).collect();
        let payments = myerson_payments(&self.bids, &low, |b| Ok(clicks(&alloc_slots(b)?)))?;
        let welfare = clicks(&slots)
            .iter()
            .zip(&self.bids)
            .map(|(p, b)| p * b)
            .sum();
        Ok(AuctionOutcome {
            slots,
            welfare,
            revenue: payments.iter().sum(),
            payments,
        })
    }
}

/// The cascade model with position-specific click rates (the paper's
/// setting: one click rate per position-creative pair): viewed top-down,
/// creative `i` in position `k` is clicked with probability `click[k][i]`
/// when viewed, and the user continues with probability `cont[i]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionalCascade {
    /// Bids (value per click).
    pub bids: Vec<f64>,
    /// `click[k][i]`: click probability of creative `i` viewed in position `k`.
    pub click: Vec<Vec<f64>>,
    /// Probability of continuing after viewing creative `i`.
    pub cont: Vec<f64>,
}

/// Most creatives [`PositionalCascade::optimal`] accepts (its DP has
/// `2^n` states).
pub const MAX_CASCADE_CREATIVES: usize = 20;

impl PositionalCascade {
    /// Validates the model (one click row per position, probabilities).
    pub fn new(bids: Vec<f64>, click: Vec<Vec<f64>>, cont: Vec<f64>) -> Result<Self> {
        duality_core::check::finite_non_empty("bids", &bids)?;
        duality_core::check::non_empty("positions (click rows)", &click)?;
        for (k, row) in click.iter().enumerate() {
            duality_core::check::same_len(&format!("click[{k}]"), row.len(), "bids", bids.len())?;
            duality_core::check::probabilities(&format!("click[{k}]"), row)?;
        }
        duality_core::check::same_len("cont", cont.len(), "bids", bids.len())?;
        duality_core::check::probabilities("cont", &cont)?;
        Ok(PositionalCascade { bids, click, cont })
    }

    /// Expected welfare of showing `order` top-down (position `k` holds
    /// `order[k]`).
    pub fn welfare(&self, order: &[usize]) -> f64 {
        let mut reach = 1.0;
        let mut total = 0.0;
        for (k, &i) in order.iter().enumerate() {
            total += reach * self.bids[i] * self.click[k][i];
            reach *= self.cont[i];
        }
        total
    }

    /// Exact optimum by a DP over the set of shown creatives: the value of
    /// filling positions `|S|..` after showing the set `S` is `g(S) =
    /// max(0, max_{i not in S} b_i c[|S|][i] + q_i g(S + i))` (the reach
    /// factors out), `O(2^n n)`.
    ///
    /// # Errors
    /// More than [`MAX_CASCADE_CREATIVES`] creatives.
    pub fn optimal(&self) -> Result<Vec<usize>> {
        let n = self.bids.len();
        if n > MAX_CASCADE_CREATIVES {
            return Err(Error::invalid(
                "creatives",
                n,
                format!("at most {MAX_CASCADE_CREATIVES} (the exact DP has 2^n states)"),
            ));
        }
        let k_max = self.click.len().min(n);
        let full = 1usize << n;
        let mut g = vec![0.0f64; full];
        let mut pick = vec![usize::MAX; full];
        for mask in (0..full).rev() {
            let k = mask.count_ones() as usize;
            if k >= k_max {
                continue;
            }
            let mut best = 0.0;
            for i in 0..n {
                if mask >> i & 1 == 0 {
                    let val = self.bids[i] * self.click[k][i] + self.cont[i] * g[mask | 1 << i];
                    if val > best {
                        best = val;
                        pick[mask] = i;
                    }
                }
            }
            g[mask] = best;
        }
        let mut order = Vec::new();
        let mut mask = 0usize;
        while order.len() < k_max && pick[mask] != usize::MAX {
            let i = pick[mask];
            order.push(i);
            mask |= 1 << i;
        }
        Ok(order)
    }

    /// Separable-CTR approximation: the order [`Cascade::optimal`] gives
    /// when each creative's click rate is its mean over the positions
    /// (Kempe & Mahdian's sort-and-DP, ignoring position-specific rates),
    /// evaluated under the true rates.
    pub fn separable_approximation(&self) -> Result<Vec<usize>> {
        let n = self.bids.len();
        let k = self.click.len();
        let mean: Vec<f64> = (0..n)
            .map(|i| self.click.iter().map(|r| r[i]).sum::<f64>() / k as f64)
            .collect();
        Ok(Cascade::new(self.bids.clone(), mean, self.cont.clone(), k)?.optimal())
    }
}

/// Creatives in the cascade model: viewed top-down, creative `i` is clicked
/// with probability `click[i]` when viewed, and the user goes on to the next
/// slot with probability `cont[i]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cascade {
    /// Bids (value per click).
    pub bids: Vec<f64>,
    /// Click probability when viewed.
    pub click: Vec<f64>,
    /// Probability of continuing after viewing.
    pub cont: Vec<f64>,
    /// Number of slots.
    pub slots: usize,
}

impl Cascade {
    /// Validates the model.
    pub fn new(bids: Vec<f64>, click: Vec<f64>, cont: Vec<f64>, slots: usize) -> Result<Self> {
        duality_core::check::finite_non_empty("bids", &bids)?;
        duality_core::check::same_len("click", click.len(), "bids", bids.len())?;
        duality_core::check::same_len("cont", cont.len(), "bids", bids.len())?;
        duality_core::check::probabilities("click", &click)?;
        duality_core::check::probabilities("cont", &cont)?;
        duality_core::check::at_least("slots", slots, 1)?;
        Ok(Cascade {
            bids,
            click,
            cont,
            slots,
        })
    }

    /// Expected welfare of showing `order` top-down.
    pub fn welfare(&self, order: &[usize]) -> f64 {
        let mut reach = 1.0;
        let mut total = 0.0;
        for &i in order {
            total += reach * self.bids[i] * self.click[i];
            reach *= self.cont[i];
        }
        total
    }

    /// Exact optimum (Kempe & Mahdian 2008): some optimal solution lists its
    /// creatives by decreasing `b c / (1 - q)`, so a DP over that order
    /// choosing which creatives to show is exact, O(n log n + n K).
    pub fn optimal(&self) -> Vec<usize> {
        let n = self.bids.len();
        let key = |i: usize| {
            let den = 1.0 - self.cont[i];
            if den <= 0.0 {
                f64::INFINITY
            } else {
                self.bids[i] * self.click[i] / den
            }
        };
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by(|&a, &b| key(b).total_cmp(&key(a)).then(a.cmp(&b)));
        let k = self.slots.min(n);
        // best[j][s]: best value using creatives idx[j..] with s slots left.
        let mut best = vec![vec![0.0; k + 1]; n + 1];
        for j in (0..n).rev() {
            let i = idx[j];
            for s in 1..=k {
                let take = self.bids[i] * self.click[i] + self.cont[i] * best[j + 1][s - 1];
                best[j][s] = best[j + 1][s].max(take);
            }
        }
        let mut order = Vec::new();
        let mut s = k;
        for j in 0..n {
            if s == 0 {
                break;
            }
            let i = idx[j];
            let take = self.bids[i] * self.click[i] + self.cont[i] * best[j + 1][s - 1];
            if take >= best[j + 1][s] && take > 0.0 {
                order.push(i);
                s -= 1;
            }
        }
        order
    }

    /// Externality-free approximation: the `K` creatives with the largest
    /// `b c`, in that order (what a separable-CTR auction would show).
    pub fn greedy(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.bids.len()).collect();
        idx.sort_by(|&a, &b| {
            (self.bids[b] * self.click[b])
                .total_cmp(&(self.bids[a] * self.click[a]))
                .then(a.cmp(&b))
        });
        idx.truncate(self.slots);
        idx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcg_on_separable_ctrs_is_gsp_like() {
        // Separable CTRs (0.5, 0.25), bids 10, 6, 2: VCG prices from Edelman
        // et al.: second slot pays 2*0.25 = 0.5; first pays 6*(0.5-0.25) + 0.5 = 2.
        let bids = vec![10.0, 6.0, 2.0];
        let ctr = vec![vec![0.5; 3], vec![0.25; 3]];
        let out = PositionAuction::new(bids, ctr).unwrap().vcg().unwrap();
        assert_eq!(out.slots, vec![Some(0), Some(1)]);
        assert!((out.welfare - 6.5).abs() < 1e-12);
        assert!((out.payments[0] - 2.0).abs() < 1e-12);
        assert!((out.payments[1] - 0.5).abs() < 1e-12);
        assert!((out.revenue - 2.5).abs() < 1e-12);
    }

    #[test]
    fn mnl_dinkelbach_matches_brute_force() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        for _ in 0..20 {
            let bids: Vec<f64> = (0..4).map(|_| rng.random_range(0.0..5.0)).collect();
            let v: Vec<Vec<f64>> = (0..2)
                .map(|_| (0..4).map(|_| rng.random_range(0.0..2.0)).collect())
                .collect();
            let out = mnl_optimal(&bids, &v).unwrap();
            let got = out.welfare;
            // Brute force over slot contents (None or a creative, distinct),
            // optionally without creative `skip`.
            let brute = |skip: Option<usize>| {
                let mut best: f64 = 0.0;
                for a in 0..5 {
                    for b in 0..5 {
                        if (a == b && a < 4)
                            || (skip.is_some() && (Some(a) == skip || Some(b) == skip))
                        {
                            continue;
                        }
                        let s = [(a < 4).then_some(a), (b < 4).then_some(b)];
                        best = best.max(mnl_welfare(&bids, &v, &s));
                    }
                }
                best
            };
            let best = brute(None);
            assert!((got - best).abs() < 1e-9, "{got} vs {best}");
            // VCG payments: W*_{-i} - (W* - own_i), between 0 and own_i.
            let den = 1.0
                + out
                    .slots
                    .iter()
                    .enumerate()
                    .filter_map(|(k, s)| s.map(|i| v[k][i]))
                    .sum::<f64>();
            for (k, s) in out.slots.iter().enumerate() {
                if let Some(i) = *s {
                    let own = bids[i] * v[k][i] / den;
                    let want = (brute(Some(i)) - (best - own)).clamp(0.0, own);
                    assert!(
                        (out.payments[i] - want).abs() < 1e-9,
                        "{} vs {want}",
                        out.payments[i]
                    );
                    assert!(out.payments[i] >= 0.0 && out.payments[i] <= own + 1e-12);
                }
            }
            assert!((out.revenue - out.payments.iter().sum::<f64>()).abs() < 1e-12);
        }
    }

    #[test]
    fn myerson_is_truthful_and_earns_its_virtual_welfare() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
        let dists = vec![
            ValueDistribution::Uniform {
                low: 0.0,
                high: 10.0
            };
            4
        ];
        let v: Vec<Vec<f64>> = (0..2)
            .map(|_| (0..4).map(|_| rng.random_range(0.1..2.0)).collect())
            .collect();
        let (mut revenue, mut virt, mut vcg_revenue) = (0.0, 0.0, 0.0);
        let trials = 300;
        for t in 0..trials {
            let bids: Vec<f64> = dists.iter().map(|d| d.sample(&mut rng)).collect();
            let out = mnl_myerson(&bids, &v, &dists).unwrap();
            revenue += out.revenue;
            virt += mnl_virtual_welfare(&bids, &v, &dists, &out.slots);
            vcg_revenue += mnl_optimal(&bids, &v).unwrap().revenue;
            // Below the reserve (5 for U[0, 10]) nobody is shown.
            for (k, s) in out.slots.iter().enumerate() {
                if let Some(i) = *s {
                    assert!(bids[i] >= 5.0 - 1e-12, "slot {k} bid {}", bids[i]);
                }
            }
            if t < 15 {
                // Truthful: no misreport on a grid raises a creative's utility.
                let clicks = |b: &[f64]| {
                    let o = mnl_myerson(b, &v, &dists).unwrap();
                    (mnl_clicks(4, &v, &o.slots), o.payments)
                };
                let (p0, pay0) = clicks(&bids);
                for i in 0..4 {
                    let honest = bids[i] * p0[i] - pay0[i];
                    assert!(honest >= -1e-9, "IR {honest}");
                    for r in 0..=20 {
                        let mut lie = bids.clone();
                        lie[i] = r as f64 * 0.5;
                        let (p, pay) = clicks(&lie);
                        let u = bids[i] * p[i] - pay[i];
                        assert!(
                            u <= honest + 1e-6,
                            "creative {i} lies {} gains {u} > {honest}",
                            lie[i]
                        );
                    }
                }
            }
        }
        // Myerson's identity E[revenue] = E[virtual welfare] holds per
        // profile in expectation; over 300 draws they agree to noise.
        let (r, w) = (revenue / trials as f64, virt / trials as f64);
        assert!((r - w).abs() < 0.1 * r.max(0.1), "{r} vs {w}");
        assert!(r > vcg_revenue / trials as f64, "{r} vs VCG");
        let e = mnl_myerson(&[11.0, 1.0, 1.0, 1.0], &v, &dists)
            .unwrap_err()
            .to_string();
        assert!(e.contains("bids[0]") && e.contains("11"), "{e}");
    }

    #[test]
    fn position_auction_myerson_has_reserves_and_vcg_limits() {
        // One slot, two U[0, 1] bidders: Myerson = second price with reserve 1/2.
        let d = vec![
            ValueDistribution::Uniform {
                low: 0.0,
                high: 1.0
            };
            2
        ];
        let a = PositionAuction::new(vec![0.8, 0.3], vec![vec![1.0, 1.0]]).unwrap();
        let o = a.myerson(&d).unwrap();
        assert_eq!(o.slots, vec![Some(0)]);
        assert!((o.payments[0] - 0.5).abs() < 1e-6, "{:?}", o.payments);
        let o = PositionAuction::new(vec![0.8, 0.6], vec![vec![1.0, 1.0]])
            .unwrap()
            .myerson(&d)
            .unwrap();
        assert!((o.payments[0] - 0.6).abs() < 1e-6, "{:?}", o.payments);
        let o = PositionAuction::new(vec![0.4, 0.3], vec![vec![1.0, 1.0]])
            .unwrap()
            .myerson(&d)
            .unwrap();
        assert_eq!(o.slots, vec![None]);
        assert_eq!(o.revenue, 0.0);
        let e = ValueDistribution::Exponential { rate: -1.0 }
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("-1"));
    }

    #[test]
    fn positional_cascade_dp_matches_brute_force() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(6);
        for _ in 0..20 {
            let n = 5;
            let c = PositionalCascade::new(
                (0..n).map(|_| rng.random_range(0.0..5.0)).collect(),
                (0..3)
                    .map(|_| (0..n).map(|_| rng.random_range(0.0..1.0)).collect())
                    .collect(),
                (0..n).map(|_| rng.random_range(0.0..1.0)).collect(),
            )
            .unwrap();
            let opt = c.welfare(&c.optimal().unwrap());
            let mut best: f64 = 0.0;
            for a in 0..n {
                best = best.max(c.welfare(&[a]));
                for b in 0..n {
                    if a != b {
                        best = best.max(c.welfare(&[a, b]));
                    }
                    for d in 0..n {
                        if a != b && b != d && a != d {
                            best = best.max(c.welfare(&[a, b, d]));
                        }
                    }
                }
            }
            assert!((opt - best).abs() < 1e-9, "{opt} vs {best}");
            assert!(c.welfare(&c.separable_approximation().unwrap()) <= opt + 1e-12);
        }
        // With equal rows it is the plain cascade model.
        let c = PositionalCascade::new(
            vec![3.0, 2.0, 1.0],
            vec![vec![0.5, 0.4, 0.9]; 2],
            vec![0.2, 0.9, 0.5],
        )
        .unwrap();
        let plain = Cascade::new(
            vec![3.0, 2.0, 1.0],
            vec![0.5, 0.4, 0.9],
            vec![0.2, 0.9, 0.5],
            2,
        )
        .unwrap();
        assert!((c.welfare(&c.optimal().unwrap()) - plain.welfare(&plain.optimal())).abs() < 1e-12);
    }

    #[test]
    fn cascade_dp_matches_brute_force_and_beats_greedy() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for _ in 0..20 {
            let n = 5;
            let c = Cascade::new(
                (0..n).map(|_| rng.random_range(0.0..5.0)).collect(),
                (0..n).map(|_| rng.random_range(0.0..1.0)).collect(),
                (0..n).map(|_| rng.random_range(0.0..1.0)).collect(),
                3,
            )
            .unwrap();
            let opt = c.welfare(&c.optimal());
            let mut best: f64 = 0.0;
            for a in 0..n {
                for b in 0..n {
                    for d in 0..n {
                        if a != b && b != d && a != d {
                            best = best.max(c.welfare(&[a, b, d]));
                        }
                    }
                }
            }
            assert!((opt - best).abs() < 1e-9, "{opt} vs {best}");
            assert!(c.welfare(&c.greedy()) <= opt + 1e-12);
        }
    }
}
