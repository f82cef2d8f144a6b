//! Classical model-comparison tests (Raschka 2018, "Model Evaluation, Model
//! Selection, and Algorithm Selection in Machine Learning", Sec. 4):
//! McNemar (exact binomial and chi-square), Cochran's Q, resampled and k-fold
//! paired t-tests, Dietterich's 5x2cv paired t-test and Alpaydin's combined
//! 5x2cv F-test. Statistics and p-values match mlxtend 0.25 given the same
//! per-split scores (`fixtures/eval/generate_sklearn.py`).

use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};
use statrs::distribution::{
    Binomial, ChiSquared, ContinuousCDF, Discrete, DiscreteCDF, FisherSnedecor, StudentsT,
};

/// A test statistic with its p-value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// The statistic (chi-square, t, F or Q).
    pub statistic: f64,
    /// The p-value.
    pub p_value: f64,
}

/// McNemar's 2x2 contingency table of two classifiers on the same samples
/// (mlxtend's `mcnemar_table` layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct McNemarTable {
    /// Both correct.
    pub both_correct: u64,
    /// A correct, B wrong (`b`).
    pub only_a: u64,
    /// A wrong, B correct (`c`).
    pub only_b: u64,
    /// Both wrong.
    pub both_wrong: u64,
}

impl McNemarTable {
    /// Counts from true labels and two prediction vectors (any comparable labels).
    pub fn from_predictions<T: PartialEq>(
        y_true: &[T],
        pred_a: &[T],
        pred_b: &[T],
    ) -> Result<Self> {
        duality_core::check::non_empty("y_true", y_true)?;
        duality_core::check::same_len("y_true", y_true.len(), "pred_a", pred_a.len())?;
        duality_core::check::same_len("y_true", y_true.len(), "pred_b", pred_b.len())?;
        let mut t = McNemarTable {
            both_correct: 0,
            only_a: 0,
            only_b: 0,
            both_wrong: 0,
        };
        for ((y, a), b) in y_true.iter().zip(pred_a).zip(pred_b) {
            match (a == y, b == y) {
                (true, true) => t.both_correct += 1,
                (true, false) => t.only_a += 1,
                (false, true) => t.only_b += 1,
                (false, false) => t.both_wrong += 1,
            }
        }
        Ok(t)
    }

    /// The table from text labels (as read from a CSV file), refusing an
    /// empty label: an empty prediction equal to an empty truth would
    /// otherwise count as correct. Errors name the column and the data row
    /// (1-based).
    pub fn from_labels<S: AsRef<str>>(y_true: &[S], pred_a: &[S], pred_b: &[S]) -> Result<Self> {
        for (name, col) in [("y_true", y_true), ("pred_a", pred_a), ("pred_b", pred_b)] {
            if let Some(row) = col.iter().position(|v| v.as_ref().trim().is_empty()) {
                return Err(Error::invalid(
                    format!("{name} of data row {}", row + 1),
                    "an empty cell",
                    "a label (an empty cell is missing data, not a class)",
                ));
            }
        }
        fn trimmed<S: AsRef<str>>(c: &[S]) -> Vec<&str> {
            c.iter().map(|v| v.as_ref().trim()).collect()
        }
        Self::from_predictions(&trimmed(y_true), &trimmed(pred_a), &trimmed(pred_b))
    }
}

/// McNemar's test results.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct McNemar {
    /// The table.
    pub table: McNemarTable,
    /// `(|b - c| - 1)^2 / (b + c)` (Edwards' continuity correction, as mlxtend).
    pub chi2_corrected: f64,
    /// Its p-value (chi-square, 1 d.f.).
    pub p_corrected: f64,
    /// `(b - c)^2 / (b + c)`.
    pub chi2: f64,
    /// Its p-value.
    pub p_chi2: f64,
    /// Exact two-sided binomial p-value `min(1, 2 P[Bin(b + c, 1/2) <= min(b, c)])`.
    pub p_exact: f64,
    /// Mid-p: `2 P[X < min(b, c)] + P[X = min(b, c)]`, `X ~ Bin(b + c, 1/2)`
    /// (Fagerland, Lydersen & Laake 2013, eq. (4)): the exact p-value minus
    /// the point probability, closer to nominal size than the exact test.
    pub p_mid: f64,
}

/// McNemar's test (McNemar 1947; Raschka 2018 Sec. 4.4). With no discordant
/// pairs (`b + c = 0`) the models never disagree: statistics are 0 and
/// p-values 1.
pub fn mcnemar(table: McNemarTable) -> Result<McNemar> {
    let (b, c) = (table.only_a, table.only_b);
    let n = b + c;
    if n == 0 {
        return Ok(McNemar {
            table,
            chi2_corrected: 0.0,
            p_corrected: 1.0,
            chi2: 0.0,
            p_chi2: 1.0,
            p_exact: 1.0,
            p_mid: 1.0,
        });
    }
    let chi = ChiSquared::new(1.0).map_err(|e| Error::wrap("chi-squared with 1 df", e))?;
    let diff = (b as f64 - c as f64).abs();
    let chi2_corrected = (diff - 1.0).powi(2) / n as f64;
    let chi2 = diff * diff / n as f64;
    let binom =
        Binomial::new(0.5, n).map_err(|e| Error::wrap(format!("Binomial(n = {n}, 0.5)"), e))?;
    let p_exact = (2.0 * binom.cdf(b.min(c))).min(1.0);
    let k = b.min(c);
    let p_mid = (2.0 * binom.cdf(k) - binom.pmf(k)).min(1.0);
    Ok(McNemar {
        table,
        chi2_corrected,
        p_corrected: chi.sf(chi2_corrected),
        chi2,
        p_chi2: chi.sf(chi2),
        p_exact,
        p_mid,
    })
}

/// Cochran's Q test that `M >= 2` classifiers have equal accuracy
/// (Cochran 1950; Raschka 2018 eq. in Sec. 4.5):
/// `Q = (M - 1) (M sum_j G_j^2 - T^2) / (M T - sum_i L_i^2)` where `G_j` is
/// the number of samples model `j` gets right, `L_i` the number of models
/// right on sample `i`, `T = sum_j G_j`; `Q ~ chi2(M - 1)`.
pub fn cochrans_q<T: PartialEq>(y_true: &[T], predictions: &[&[T]]) -> Result<TestResult> {
    duality_core::check::non_empty("y_true", y_true)?;
    if predictions.len() < 2 {
        return Err(Error::invalid(
            "number of models",
            predictions.len(),
            "at least 2 prediction vectors",
        ));
    }
    for (j, p) in predictions.iter().enumerate() {
        duality_core::check::same_len(
            "y_true",
            y_true.len(),
            &format!("predictions[{j}]"),
            p.len(),
        )?;
    }
    let m = predictions.len() as f64;
    let g: Vec<f64> = predictions
        .iter()
        .map(|p| p.iter().zip(y_true).filter(|(a, y)| a == y).count() as f64)
        .collect();
    let total: f64 = g.iter().sum();
    let sum_l2: f64 = (0..y_true.len())
        .map(|i| {
            let l = predictions.iter().filter(|p| p[i] == y_true[i]).count() as f64;
            l * l
        })
        .sum();
    let numerator = (m - 1.0) * (m * g.iter().map(|x| x * x).sum::<f64>() - total * total);
    let denominator = m * total - sum_l2;
    if denominator == 0.0 {
        return Err(Error::invalid(
            "Cochran's Q denominator",
            0,
            "some sample on which the models disagree (Q is undefined otherwise)",
        ));
    }
    let q = numerator / denominator;
    let chi = ChiSquared::new(m - 1.0)
        .map_err(|e| Error::wrap(format!("chi-squared with {} df", m - 1.0), e))?;
    Ok(TestResult {
        statistic: q,
        p_value: chi.sf(q),
    })
}

fn t_two_sided(t: f64, df: f64) -> Result<f64> {
    let dist = StudentsT::new(0.0, 1.0, df)
        .map_err(|e| Error::wrap(format!("Student-t with df = {df}"), e))?;
    Ok(2.0 * dist.sf(t.abs()))
}

/// Paired t-test over per-split score differences `d` (score of A minus score
/// of B on the same split): `t = mean(d) sqrt(k) / sd(d)`, `k - 1` d.f.
/// This is both the resampled paired t-test (random train/test splits) and the
/// k-fold cross-validated paired t-test (Raschka 2018 Sec. 4.6-4.7; mlxtend's
/// `paired_ttest_resampled` / `paired_ttest_kfold_cv`). Both are known to have
/// inflated type-I error because splits overlap (Dietterich 1998).
pub fn paired_t_test(differences: &[f64]) -> Result<TestResult> {
    duality_core::check::finite("differences", differences)?;
    duality_core::check::at_least("number of splits", differences.len(), 2)?;
    let k = differences.len() as f64;
    let mean = differences.iter().sum::<f64>() / k;
    let var = differences.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (k - 1.0);
    let t = mean * k.sqrt() / var.sqrt();
    Ok(TestResult {
        statistic: t,
        p_value: t_two_sided(t, k - 1.0)?,
    })
}

fn check_5x2(differences: &[[f64; 2]]) -> Result<()> {
    duality_core::check::same_len("5x2cv differences", differences.len(), "replications", 5)?;
    for (i, d) in differences.iter().enumerate() {
        duality_core::check::finite(&format!("differences[{i}]"), d)?;
    }
    Ok(())
}

/// Dietterich's (1998) 5x2cv paired t-test. `differences[i] = [d_i1, d_i2]`
/// are the score differences of the two folds of replication `i` (train on
/// half 1 / test on half 2, then swapped): `t = d_11 / sqrt(mean_i s_i^2)`,
/// `s_i^2 = sum_j (d_ij - mean_i)^2`, 5 d.f.
pub fn paired_t_5x2cv(differences: &[[f64; 2]]) -> Result<TestResult> {
    check_5x2(differences)?;
    let var_sum: f64 = differences
        .iter()
        .map(|d| {
            let m = (d[0] + d[1]) / 2.0;
            (d[0] - m).powi(2) + (d[1] - m).powi(2)
        })
        .sum();
    let t = differences[0][0] / (var_sum / 5.0).sqrt();
    Ok(TestResult {
        statistic: t,
        p_value: t_two_sided(t, 5.0)?,
    })
}

/// Alpaydin's (1999) combined 5x2cv F-test:
/// `F = sum_ij d_ij^2 / (2 sum_i s_i^2)` ~ F(10, 5).
pub fn combined_f_5x2cv(differences: &[[f64; 2]]) -> Result<TestResult> {
    check_5x2(differences)?;
    let mut num = 0.0;
    let mut var_sum = 0.0;
    for d in differences {
        let m = (d[0] + d[1]) / 2.0;
        var_sum += (d[0] - m).powi(2) + (d[1] - m).powi(2);
        num += d[0] * d[0] + d[1] * d[1];
    }
    let f = num / (2.0 * var_sum);
    let dist = FisherSnedecor::new(10.0, 5.0).map_err(|e| Error::wrap("F(10, 5)", e))?;
    Ok(TestResult {
        statistic: f,
        p_value: dist.sf(f),
    })
}

/// Multiple-comparison adjustment of p-values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Correction {
    /// Bonferroni: `min(1, m p)` (controls FWER).
    Bonferroni,
    /// Holm's step-down (1979): controls FWER, uniformly more powerful.
    Holm,
    /// Benjamini-Hochberg step-up (1995): controls FDR under independence/PRDS.
    BenjaminiHochberg,
}

/// Adjusted p-values (same order as the input), as
/// `statsmodels.stats.multitest.multipletests` / `scipy.stats.false_discovery_control`.
pub fn adjust_p_values(p: &[f64], correction: Correction) -> Result<Vec<f64>> {
    duality_core::check::non_empty("p-values", p)?;
    duality_core::check::probabilities("p-values", p)?;
    let m = p.len();
    let mf = m as f64;
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut out = vec![0.0; m];
    match correction {
        Correction::Bonferroni => {
            for (o, &x) in out.iter_mut().zip(p) {
                *o = (x * mf).min(1.0);
            }
        }
        Correction::Holm => {
            let mut running: f64 = 0.0;
            for (rank, &i) in order.iter().enumerate() {
                running = running.max(((mf - rank as f64) * p[i]).min(1.0));
                out[i] = running;
            }
        }
        Correction::BenjaminiHochberg => {
            let mut running: f64 = 1.0;
            for (rank, &i) in order.iter().enumerate().rev() {
                running = running.min(p[i] * mf / (rank + 1) as f64);
                out[i] = running.min(1.0);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mcnemar_hand_example() {
        // Raschka (2018) Fig. 13 example B: b = 11, c = 1.
        let t = McNemarTable {
            both_correct: 9945,
            only_a: 11,
            only_b: 1,
            both_wrong: 43,
        };
        let r = mcnemar(t).unwrap();
        assert!((r.chi2_corrected - 81.0 / 12.0).abs() < 1e-12);
        assert!((r.p_exact - 2.0 * 13.0 / 4096.0).abs() < 1e-12);
        let same = mcnemar(McNemarTable {
            only_a: 0,
            only_b: 0,
            ..t
        })
        .unwrap();
        assert_eq!(same.p_exact, 1.0);
    }

    #[test]
    fn corrections_by_hand() {
        let p = [0.01, 0.04, 0.03, 0.5];
        let bh = adjust_p_values(&p, Correction::BenjaminiHochberg).unwrap();
        assert_eq!(
            bh,
            vec![
                0.04,
                0.04 * 4.0 / 3.0 * 0.75 / 0.75,
                0.04 * 4.0 / 3.0 * 0.75 / 0.75,
                0.5
            ]
        );
        let holm = adjust_p_values(&p, Correction::Holm).unwrap();
        assert_eq!(holm, vec![0.04, 0.09, 0.09, 0.5]);
        assert!(adjust_p_values(&[1.5], Correction::Holm).is_err());
    }

    #[test]
    fn t_tests_reject_bad_input() {
        assert!(paired_t_test(&[1.0]).is_err());
        assert!(paired_t_5x2cv(&[[0.0, 0.1]; 4]).is_err());
        assert!(cochrans_q(&[1, 0], &[&[1, 0]]).is_err());
    }
}

/// Regression tests of issue #25.
#[cfg(test)]
mod reliability_tests {
    use super::*;

    #[test]
    fn empty_cells_are_not_counted_as_correct() {
        let e = McNemarTable::from_labels(&["x", "", "y"], &["x", "", "y"], &["x", "y", "y"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("y_true") && e.contains("row 2"), "{e}");
        let e = McNemarTable::from_labels(&["x", "y"], &["x", " "], &["x", "y"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("pred_a"), "{e}");
        let t = McNemarTable::from_labels(&["x", "y"], &["x ", "n"], &["n", "y"]).unwrap();
        assert_eq!(
            (t.both_correct, t.only_a, t.only_b, t.both_wrong),
            (0, 1, 1, 0)
        );
    }
}
