//! Position auctions: allocating creatives (e.g. AI-generated ad variants)
//! to slots. Welfare maximisation as an assignment problem with VCG
//! payments (Vickrey 1961, Clarke 1971, Groves 1973; for position auctions
//! Aggarwal, Goel & Motwani 2006 and Edelman, Ostrovsky & Schwarz 2007), the
//! multinomial-logit (MNL) user model solved exactly by Dinkelbach's
//! fractional programming over assignments, and the cascade model (Kempe &
//! Mahdian 2008; Aggarwal et al. 2008) with its exact sort-and-DP optimum and
//! the externality-free greedy approximation.

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
    let den = 1.0
        + slots
            .iter()
            .enumerate()
            .filter_map(|(k, s)| s.map(|i| v[k][i]))
            .sum::<f64>();
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
