//! Conformal p-values and conformal selection with FDR control (Jin &
//! Candès 2023, "Selection by Prediction with Conformal p-values"; Bai & Jin
//! 2024, "Optimized Conformal Selection").
//!
//! Scores follow Jin & Candès: smaller means "more likely to be selected".
//! For selecting test points with `Y > c` from a predictor `mu`, use e.g.
//! calibration scores `V_i = M 1{Y_i > c} + c 1{Y_i <= c} - mu(X_i)` (with
//! `M` larger than any prediction) and test scores `V_j = c - mu(X_j)`.
//!
//! - deterministic p-value: `p_j = (1 + #{i : V_i < V_j}) / (n + 1)`;
//! - randomised p-value: `p_j = (#{V_i < V_j} + U_j (1 + #{V_i = V_j})) / (n + 1)`
//!   with `U_j ~ Uniform(0, 1)` (ties with the calibration set *and* the test
//!   point's own `+1` are randomised);
//! - BH conformal selection: select the `k*` smallest p-values with
//!   `k* = max{k : p_(k) <= q k / m}`;
//! - OptCS: choose among several score models per test point with a rule that
//!   is symmetric in the calibration set augmented with that test point, so
//!   the p-value stays valid, then apply BH.

use duality_core::{Error, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};

fn sorted_calibration(calibration: &[f64]) -> Result<Vec<f64>> {
    duality_core::check::finite_non_empty("calibration scores", calibration)?;
    let mut s = calibration.to_vec();
    s.sort_unstable_by(f64::total_cmp);
    Ok(s)
}

/// Deterministic conformal p-values `(1 + #{V_i < V_j}) / (n + 1)`.
pub fn conformal_p_values(calibration: &[f64], test: &[f64]) -> Result<Vec<f64>> {
    let cal = sorted_calibration(calibration)?;
    duality_core::check::finite("test scores", test)?;
    let n1 = (cal.len() + 1) as f64;
    Ok(test
        .iter()
        .map(|&v| (1 + cal.partition_point(|&c| c < v)) as f64 / n1)
        .collect())
}

/// Randomised conformal p-values (exactly uniform under exchangeability).
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

/// Benjamini-Hochberg selection at FDR level `q`: the indices (ascending) of
/// the `k*` smallest p-values, `k* = max{k : p_(k) <= q k / m}`.
pub fn bh_select(p_values: &[f64], q: f64) -> Result<Vec<usize>> {
    duality_core::check::open_unit("q", q)?;
    duality_core::check::probabilities("p-values", p_values)?;
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let k_star = (1..=m)
        .rev()
        .find(|&k| p_values[order[k - 1]] <= q * k as f64 / m as f64)
        .unwrap_or(0);
    let mut sel: Vec<usize> = order[..k_star].to_vec();
    sel.sort_unstable();
    Ok(sel)
}

/// Result of a conformal selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// Conformal p-value of every test point.
    pub p_values: Vec<f64>,
    /// Selected test indices (ascending).
    pub selected: Vec<usize>,
    /// Score model used for each test point (always 0 for a single model).
    pub model: Vec<usize>,
}

/// BH conformal selection (Jin & Candès 2023, Algorithm 1) with
/// deterministic p-values.
pub fn conformal_select(calibration: &[f64], test: &[f64], q: f64) -> Result<Selection> {
    let p_values = conformal_p_values(calibration, test)?;
    let selected = bh_select(&p_values, q)?;
    Ok(Selection {
        model: vec![0; test.len()],
        p_values,
        selected,
    })
}

/// OptCS-style model choice (Bai & Jin 2024): `calibration[k]` and `test[k]`
/// are the scores under candidate model `k`. For test point `j` and model
/// `k`, the augmented calibration set `calibration[k] ∪ {test[k][j]}` is used
/// to compute p-values of all test points, and the criterion is the number of
/// BH selections at level `q`. The model with the largest criterion (the
/// first on ties) gives `p_j`. Because the criterion is a symmetric function
/// of the `n + 1` augmented scores, `p_j` is still a valid conformal p-value;
/// BH is then applied to the `p_j`. Cost: `O(K m^2 log n)`.
pub fn opt_conformal_select(
    calibration: &[Vec<f64>],
    test: &[Vec<f64>],
    q: f64,
) -> Result<Selection> {
    duality_core::check::open_unit("q", q)?;
    duality_core::check::non_empty("candidate models", calibration)?;
    duality_core::check::same_len(
        "calibration models",
        calibration.len(),
        "test models",
        test.len(),
    )?;
    let m = test[0].len();
    let mut cals = Vec::with_capacity(calibration.len());
    for (k, (c, t)) in calibration.iter().zip(test).enumerate() {
        cals.push(sorted_calibration(c)?);
        duality_core::check::same_len(
            &format!("test scores of model {k}"),
            t.len(),
            "test scores of model 0",
            m,
        )?;
        duality_core::check::finite(&format!("test scores of model {k}"), t)?;
        if c.len() != calibration[0].len() {
            return Err(Error::LengthMismatch {
                left_name: format!("calibration scores of model {k}"),
                left: c.len(),
                right_name: "calibration scores of model 0".into(),
                right: calibration[0].len(),
            });
        }
    }
    let n = calibration[0].len();
    let mut p_values = vec![0.0; m];
    let mut model = vec![0; m];
    let mut pbuf = vec![0.0; m];
    for j in 0..m {
        let mut best = (usize::MAX, 0usize);
        for (k, cal) in cals.iter().enumerate() {
            let vj = test[k][j];
            // p-values of every test point against the augmented set (n + 2 denominators).
            for (l, p) in pbuf.iter_mut().enumerate() {
                let v = test[k][l];
                let below = cal.partition_point(|&c| c < v) + usize::from(vj < v);
                *p = (1 + below) as f64 / (n + 2) as f64;
            }
            let count = bh_select(&pbuf, q)?.len();
            if best.0 == usize::MAX || count > best.0 {
                best = (count, k);
            }
        }
        let k = best.1;
        let v = test[k][j];
        p_values[j] = (1 + cals[k].partition_point(|&c| c < v)) as f64 / (n + 1) as f64;
        model[j] = k;
    }
    let selected = bh_select(&p_values, q)?;
    Ok(Selection {
        p_values,
        selected,
        model,
    })
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
    }

    /// A regression problem: select test points with `Y > 0`.
    fn simulate(
        rng: &mut DualityRng,
        n: usize,
        m: usize,
        slopes: &[f64],
    ) -> (Vec<Vec<f64>>, Vec<Vec<f64>>, Vec<bool>) {
        let noise = Normal::new(0.0, 1.0).unwrap();
        let draw = |rng: &mut DualityRng| {
            let x: f64 = noise.sample(rng) * 1.5;
            (x, x + noise.sample(rng) - 1.0)
        };
        let cal: Vec<(f64, f64)> = (0..n).map(|_| draw(rng)).collect();
        let tst: Vec<(f64, f64)> = (0..m).map(|_| draw(rng)).collect();
        let big = 1e6;
        let calib = slopes
            .iter()
            .map(|&b| {
                cal.iter()
                    .map(|&(x, y)| if y > 0.0 { big } else { 0.0 } - b * x)
                    .collect()
            })
            .collect();
        let test = slopes
            .iter()
            .map(|&b| tst.iter().map(|&(x, _)| -b * x).collect())
            .collect();
        (calib, test, tst.iter().map(|&(_, y)| y > 0.0).collect())
    }

    fn fdp(selected: &[usize], truth: &[bool]) -> f64 {
        let false_sel = selected.iter().filter(|&&j| !truth[j]).count();
        false_sel as f64 / selected.len().max(1) as f64
    }

    /// Empirical FDR over 300 repetitions stays below q (+ 3 s.e.) for BH
    /// conformal selection and for OptCS over three candidate models.
    #[test]
    fn fdr_is_controlled_in_simulation() {
        let q = 0.2;
        let reps = 300;
        let res = Seeder::new(5).par_map(reps, |_, rng| {
            let (calib, test, truth) = simulate(rng, 150, 60, &[1.0, 0.3, -0.5]);
            let bh = conformal_select(&calib[0], &test[0], q).unwrap();
            let opt = opt_conformal_select(&calib, &test, q).unwrap();
            (
                fdp(&bh.selected, &truth),
                fdp(&opt.selected, &truth),
                bh.selected.len(),
                opt.selected.len(),
            )
        });
        let mean =
            |f: fn(&(f64, f64, usize, usize)) -> f64| res.iter().map(f).sum::<f64>() / reps as f64;
        let (fdr_bh, fdr_opt) = (mean(|r| r.0), mean(|r| r.1));
        // FDP is in [0, 1]; its s.d. is at most 0.5, so 3 s.e. <= 0.087.
        let margin = 3.0 * 0.5 / (reps as f64).sqrt();
        assert!(fdr_bh <= q + margin, "BH FDR {fdr_bh}");
        assert!(fdr_opt <= q + margin, "OptCS FDR {fdr_opt}");
        // Both select something on average (the good model is informative).
        assert!(mean(|r| r.2 as f64) > 1.0 && mean(|r| r.3 as f64) > 1.0);
    }
}
