//! Tests for binary decision sequences, as used to measure decision biases
//! of LLMs and people (e.g. "Evaluating Binary Decision Biases in LLMs"):
//! a model asked for many "random" binary choices should produce each
//! option at the requested rate, without streaks or alternation.
//!
//! - [`proportion_test`]: the exact two-sided binomial test of the rate of
//!   `true` against `p0` (the outcomes no more likely than the observed one,
//!   as `scipy.stats.binomtest`), with the Clopper-Pearson interval;
//! - [`runs_test`]: the Wald-Wolfowitz runs test (too few runs = streaks,
//!   too many = alternation), normal approximation as
//!   `statsmodels.sandbox.stats.runs.runstest_1samp`;
//! - [`markov_test`]: first-order dependence, the 2x2 table of transitions
//!   (previous, next) with Pearson's chi-square test of independence
//!   (`scipy.stats.chi2_contingency`, with and without Yates' correction);
//!   its conditional rates show negative recency (a `true` is less likely
//!   right after a `true`).
//!
//! Cross-checked against SciPy and statsmodels in
//! `fixtures/eval/generate_sequence.py`.

use duality_core::{Error, Result};
use serde::{Deserialize, Serialize};
use statrs::distribution::{Binomial, ChiSquared, ContinuousCDF, Discrete, Normal};
use statrs::function::beta::beta_reg;

/// Exact binomial test of a proportion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProportionTest {
    /// Number of `true`.
    pub successes: u64,
    /// Sequence length.
    pub trials: u64,
    /// Observed rate `successes / trials`.
    pub proportion: f64,
    /// Two-sided p-value against the hypothesised rate.
    pub p_value: f64,
    /// Clopper-Pearson (exact) confidence interval of the rate.
    pub ci: (f64, f64),
}

/// The exact two-sided binomial test of `P(true) = p0` on `seq`, and the
/// Clopper-Pearson interval at `confidence`. The p-value sums the
/// probabilities of all outcomes no more likely than the observed one (with
/// SciPy's relative tolerance `1 + 1e-7` for ties in likelihood).
pub fn proportion_test(seq: &[bool], p0: f64, confidence: f64) -> Result<ProportionTest> {
    duality_core::check::non_empty("sequence", seq)?;
    if !(p0 > 0.0 && p0 < 1.0) {
        return Err(Error::invalid("p0", p0, "a probability in (0, 1)"));
    }
    duality_core::check::open_unit("confidence", confidence)?;
    let n = seq.len() as u64;
    let k = seq.iter().filter(|&&b| b).count() as u64;
    let binom =
        Binomial::new(p0, n).map_err(|e| Error::wrap(format!("Binomial(n = {n}, p = {p0})"), e))?;
    let observed = binom.pmf(k);
    let threshold = observed * (1.0 + 1e-7);
    // Sum the small outcomes in log-free form; pmf is unimodal, so only
    // the tails qualify, but a full pass is O(n) and exact enough.
    let p_value = (0..=n)
        .map(|j| binom.pmf(j))
        .filter(|&p| p <= threshold)
        .sum::<f64>()
        .min(1.0);
    Ok(ProportionTest {
        successes: k,
        trials: n,
        proportion: k as f64 / n as f64,
        p_value,
        ci: clopper_pearson(k, n, confidence),
    })
}

/// Inverse of the regularised incomplete beta `I_x(a, b)` in `x` by
/// bisection to machine precision (monotone in `x`).
fn beta_quantile(a: f64, b: f64, q: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if beta_reg(a, b, mid) < q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Clopper-Pearson interval: `[B(a/2; k, n-k+1), B(1-a/2; k+1, n-k)]`
/// with the ends 0 and 1 when `k = 0` or `k = n`.
fn clopper_pearson(k: u64, n: u64, confidence: f64) -> (f64, f64) {
    let tail = (1.0 - confidence) / 2.0;
    let (k, n) = (k as f64, n as f64);
    let lo = if k == 0.0 {
        0.0
    } else {
        beta_quantile(k, n - k + 1.0, tail)
    };
    let hi = if k == n {
        1.0
    } else {
        beta_quantile(k + 1.0, n - k, 1.0 - tail)
    };
    (lo, hi)
}

/// Wald-Wolfowitz runs test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RunsTest {
    /// Number of maximal runs of equal values.
    pub runs: u64,
    /// Expected runs under independence, `2 n1 n0 / n + 1`.
    pub expected: f64,
    /// Standardised statistic (negative: streaks; positive: alternation).
    pub z: f64,
    /// Two-sided normal p-value.
    pub p_value: f64,
}

/// The runs test of independence on `seq` (Wald & Wolfowitz 1940), with
/// variance `2 n1 n0 (2 n1 n0 - n) / (n^2 (n - 1))`. With
/// `continuity_correction`, sequences shorter than 50 move the difference
/// `runs - expected` half a run towards 0 (SAS's rule, statsmodels'
/// default); differences within half a run give `z = 0`. Errors if the
/// sequence has fewer than 2 elements or only one value (no variance).
pub fn runs_test(seq: &[bool], continuity_correction: bool) -> Result<RunsTest> {
    duality_core::check::at_least("sequence length", seq.len(), 2)?;
    let n = seq.len() as f64;
    let n1 = seq.iter().filter(|&&b| b).count() as f64;
    let n0 = n - n1;
    if n1 == 0.0 || n0 == 0.0 {
        return Err(Error::invalid(
            "sequence",
            format!("all {} values are {}", seq.len(), n1 > 0.0),
            "both values present (the runs test has no variance otherwise)",
        ));
    }
    let runs = 1 + seq.windows(2).filter(|w| w[0] != w[1]).count() as u64;
    let product = n1 * n0;
    let expected = 2.0 * product / n + 1.0;
    let variance = 2.0 * product * (2.0 * product - n) / (n * n * (n - 1.0));
    let mut diff = runs as f64 - expected;
    if continuity_correction && n < 50.0 {
        diff = if diff.abs() <= 0.5 {
            0.0
        } else {
            diff - 0.5 * diff.signum()
        };
    }
    let z = diff / variance.sqrt();
    let normal = Normal::standard();
    Ok(RunsTest {
        runs,
        expected,
        z,
        p_value: (2.0 * normal.sf(z.abs())).min(1.0),
    })
}

/// First-order dependence of a binary sequence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MarkovTest {
    /// Transition counts `[previous][next]` (index 1 = `true`).
    pub transitions: [[u64; 2]; 2],
    /// `P(true | previous true)`.
    pub p_true_after_true: f64,
    /// `P(true | previous false)`.
    pub p_true_after_false: f64,
    /// Pearson chi-square of independence (1 degree of freedom).
    pub chi2: f64,
    /// Its p-value.
    pub p_value: f64,
    /// Chi-square with Yates' continuity correction.
    pub chi2_yates: f64,
    /// Its p-value.
    pub p_value_yates: f64,
}

/// Tests whether the next value depends on the previous one: Pearson's
/// chi-square test of independence on the 2x2 transition table (rows:
/// previous value, columns: next value), without and with Yates'
/// correction (`|O - E|` reduced by `min(0.5, |O - E|)`, as SciPy). A
/// negative `p_true_after_true - p_true_after_false` is negative recency.
/// Errors if fewer than 3 values, or if a row or column of the table is
/// empty (the test is undefined).
pub fn markov_test(seq: &[bool]) -> Result<MarkovTest> {
    duality_core::check::at_least("sequence length", seq.len(), 3)?;
    let mut t = [[0u64; 2]; 2];
    for w in seq.windows(2) {
        t[usize::from(w[0])][usize::from(w[1])] += 1;
    }
    let row = [t[0][0] + t[0][1], t[1][0] + t[1][1]];
    let col = [t[0][0] + t[1][0], t[0][1] + t[1][1]];
    if row.contains(&0) || col.contains(&0) {
        return Err(Error::invalid(
            "transition table",
            format!("{t:?}"),
            "both values both before and after some transition (no empty row or column)",
        ));
    }
    let total = (row[0] + row[1]) as f64;
    let (mut chi2, mut chi2_yates) = (0.0, 0.0);
    for i in 0..2 {
        for j in 0..2 {
            let expected = row[i] as f64 * col[j] as f64 / total;
            let dev = t[i][j] as f64 - expected;
            chi2 += dev * dev / expected;
            let adj = dev.abs() - dev.abs().min(0.5);
            chi2_yates += adj * adj / expected;
        }
    }
    let chi = ChiSquared::new(1.0).map_err(|e| Error::wrap("chi-squared with 1 df", e))?;
    Ok(MarkovTest {
        transitions: t,
        p_true_after_true: t[1][1] as f64 / row[1] as f64,
        p_true_after_false: t[0][1] as f64 / row[0] as f64,
        chi2,
        p_value: chi.sf(chi2),
        chi2_yates,
        p_value_yates: chi.sf(chi2_yates),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(s: &str) -> Vec<bool> {
        s.bytes().map(|b| b == b'1').collect()
    }

    #[test]
    fn hand_checked_cases() {
        // 7 of 10 at p0 = 0.5: scipy.stats.binomtest(7, 10).pvalue = 0.34375.
        let t = proportion_test(&bits("1110111010"), 0.5, 0.95).unwrap();
        assert_eq!((t.successes, t.trials), (7, 10));
        assert!((t.p_value - 0.34375).abs() < 1e-12);
        assert!(t.ci.0 < 0.7 && 0.7 < t.ci.1);
        // Perfect alternation: n runs, far more than expected.
        let r = runs_test(&bits("1010101010"), false).unwrap();
        assert_eq!(r.runs, 10);
        assert!(r.z > 2.0 && r.p_value < 0.05);
        // Streaks: 2 runs.
        let r = runs_test(&bits("1111100000"), true).unwrap();
        assert_eq!(r.runs, 2);
        assert!(r.z < -2.0);
        let m = markov_test(&bits("10101010101")).unwrap();
        assert_eq!(m.transitions, [[0, 5], [5, 0]]);
        assert_eq!(m.p_true_after_true, 0.0);
        assert_eq!(m.p_true_after_false, 1.0);
        assert!(m.p_value < 0.01);
        // All k = 0 or k = n: CI reaches the bound.
        let t = proportion_test(&bits("0000"), 0.5, 0.95).unwrap();
        assert_eq!(t.ci.0, 0.0);
        assert!((t.ci.1 - (1.0 - 0.025f64.powf(0.25))).abs() < 1e-12);
    }

    #[test]
    fn bad_input_is_named() {
        assert!(proportion_test(&[], 0.5, 0.95).is_err());
        let e = proportion_test(&[true], 1.5, 0.95).unwrap_err().to_string();
        assert!(e.contains("1.5"), "{e}");
        assert!(proportion_test(&[true], 0.5, 1.0).is_err());
        let e = runs_test(&[true, true, true], false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("all 3 values"), "{e}");
        assert!(runs_test(&[true], false).is_err());
        assert!(markov_test(&bits("1111")).is_err());
        assert!(markov_test(&bits("10")).is_err());
    }
}
