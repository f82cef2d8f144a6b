//! Resampling for model evaluation (Raschka 2018, Sec. 2-3; Efron &
//! Tibshirani 1997): k-fold (optionally shuffled and stratified),
//! leave-one-out and nested cross-validation splitters; bootstrap error
//! estimates (out-of-bag, .632, .632+) from user `fit` / `predict` / `loss`
//! closures; and drivers that run the paired tests of [`crate::classical`]
//! with a user `evaluate(train, test)` closure.

use duality_core::seed::Seeder;
use duality_core::{Error, Result};
use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::classical::{combined_f_5x2cv, paired_t_5x2cv, paired_t_test, TestResult};

/// A train/test split of sample indices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// Training indices (ascending).
    pub train: Vec<usize>,
    /// Test indices (ascending).
    pub test: Vec<usize>,
}

fn folds_to_splits(n: usize, folds: Vec<Vec<usize>>) -> Vec<Split> {
    let mut fold_of = vec![0usize; n];
    for (f, idx) in folds.iter().enumerate() {
        for &i in idx {
            fold_of[i] = f;
        }
    }
    (0..folds.len())
        .map(|f| {
            let mut test = folds[f].clone();
            test.sort_unstable();
            Split {
                train: (0..n).filter(|&i| fold_of[i] != f).collect(),
                test,
            }
        })
        .collect()
}

/// k-fold cross-validation splits of `n` samples: consecutive folds (the
/// first `n % k` one larger, as scikit-learn's `KFold`), after a shuffle when
/// `shuffle_seed` is given.
pub fn k_fold(n: usize, k: usize, shuffle_seed: Option<u64>) -> Result<Vec<Split>> {
    duality_core::check::at_least("k", k, 2)?;
    if n < k {
        return Err(Error::invalid(
            "number of samples",
            n,
            format!("at least k = {k}"),
        ));
    }
    let mut order: Vec<usize> = (0..n).collect();
    if let Some(seed) = shuffle_seed {
        order.shuffle(&mut Seeder::new(seed).rng(0));
    }
    let mut folds = Vec::with_capacity(k);
    let mut start = 0;
    for f in 0..k {
        let size = n / k + usize::from(f < n % k);
        folds.push(order[start..start + size].to_vec());
        start += size;
    }
    Ok(folds_to_splits(n, folds))
}

/// Stratified k-fold: each class's samples (shuffled when a seed is given)
/// are dealt round-robin to the folds, so every fold keeps the class
/// proportions within one sample. Errors if a class has fewer than `k`
/// samples.
pub fn stratified_k_fold<T: PartialEq>(
    labels: &[T],
    k: usize,
    shuffle_seed: Option<u64>,
) -> Result<Vec<Split>> {
    duality_core::check::at_least("k", k, 2)?;
    let n = labels.len();
    let mut classes: Vec<Vec<usize>> = Vec::new();
    let mut reps: Vec<&T> = Vec::new();
    for (i, l) in labels.iter().enumerate() {
        match reps.iter().position(|r| *r == l) {
            Some(c) => classes[c].push(i),
            None => {
                reps.push(l);
                classes.push(vec![i]);
            }
        }
    }
    let mut folds = vec![Vec::new(); k];
    let mut next = 0;
    for (c, members) in classes.iter_mut().enumerate() {
        if members.len() < k {
            return Err(Error::invalid(
                format!("size of class {c}"),
                members.len(),
                format!("at least k = {k} samples per class"),
            ));
        }
        if let Some(seed) = shuffle_seed {
            members.shuffle(&mut Seeder::new(seed).rng(c as u64 + 1));
        }
        for &i in members.iter() {
            folds[next % k].push(i);
            next += 1;
        }
    }
    Ok(folds_to_splits(n, folds))
}

/// Leave-one-out splits.
pub fn leave_one_out(n: usize) -> Result<Vec<Split>> {
    duality_core::check::at_least("number of samples", n, 2)?;
    Ok((0..n)
        .map(|i| Split {
            train: (0..n).filter(|&j| j != i).collect(),
            test: vec![i],
        })
        .collect())
}

/// One outer fold of nested cross-validation with its inner splits (indices
/// of the inner splits refer to the original samples).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NestedSplit {
    /// The outer split (model assessment).
    pub outer: Split,
    /// k-fold splits of `outer.train` (model selection).
    pub inner: Vec<Split>,
}

/// Nested cross-validation (Raschka 2018 Sec. 3.8): `outer_k` folds, and
/// within each outer training set `inner_k` folds.
pub fn nested_k_fold(
    n: usize,
    outer_k: usize,
    inner_k: usize,
    shuffle_seed: Option<u64>,
) -> Result<Vec<NestedSplit>> {
    let outer = k_fold(n, outer_k, shuffle_seed)?;
    outer
        .into_iter()
        .enumerate()
        .map(|(f, o)| {
            let inner = k_fold(
                o.train.len(),
                inner_k,
                shuffle_seed.map(|s| s ^ (f as u64 + 1)),
            )?
            .into_iter()
            .map(|s| Split {
                train: s.train.iter().map(|&i| o.train[i]).collect(),
                test: s.test.iter().map(|&i| o.train[i]).collect(),
            })
            .collect();
            Ok(NestedSplit { outer: o, inner })
        })
        .collect()
}

/// Bootstrap estimates of prediction error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapError {
    /// Resubstitution (training) error of the model fit on all data.
    pub training_error: f64,
    /// Leave-one-out bootstrap error `Err(1)` (out-of-bag).
    pub out_of_bag: f64,
    /// `.368 err + .632 Err(1)` (Efron 1983).
    pub point632: f64,
    /// `.632+` (Efron & Tibshirani 1997, eq. 32), with `Err(1)` clipped to the
    /// no-information rate and the relative overfitting rate `R` set to 0
    /// unless `Err(1) > err` and `gamma > err`.
    pub point632_plus: f64,
    /// No-information error rate `gamma = mean_{i,j} loss(y_i, prediction_j)`.
    pub no_information: f64,
    /// Relative overfitting rate `R'` used by .632+.
    pub relative_overfitting: f64,
}

/// Bootstrap error estimates with `rounds` bootstrap samples.
///
/// `fit(train_indices)` trains a model; `predict(model, i)` predicts sample
/// `i`; `loss(i, prediction)` scores a prediction against sample `i`'s
/// truth (e.g. 0/1 loss). `Err(1)` is Efron & Tibshirani's leave-one-out
/// bootstrap: per sample, the mean loss over the rounds that left it out,
/// then the mean over samples (samples never left out are skipped).
///
/// Difference from mlxtend's `bootstrap_point632_score`: mlxtend averages
/// per-round out-of-bag errors and computes .632 / .632+ per round without
/// clipping `R` or `Err(1)`; here the estimators follow the paper.
pub fn bootstrap_error<M, P>(
    n: usize,
    rounds: usize,
    seed: u64,
    fit: impl Fn(&[usize]) -> Result<M>,
    predict: impl Fn(&M, usize) -> P,
    loss: impl Fn(usize, &P) -> f64,
) -> Result<BootstrapError> {
    duality_core::check::at_least("number of samples", n, 2)?;
    duality_core::check::at_least("rounds", rounds, 1)?;
    let seeder = Seeder::new(seed);
    let mut sum = vec![0.0; n];
    let mut count = vec![0usize; n];
    let mut in_bag = vec![false; n];
    let mut sample = vec![0usize; n];
    for b in 0..rounds {
        let mut rng = seeder.rng(b as u64);
        in_bag.iter_mut().for_each(|x| *x = false);
        for s in sample.iter_mut() {
            *s = rng.random_range(0..n);
            in_bag[*s] = true;
        }
        let model = fit(&sample)?;
        for i in (0..n).filter(|&i| !in_bag[i]) {
            let l = loss(i, &predict(&model, i));
            if !l.is_finite() {
                return Err(Error::invalid(
                    format!("loss of sample {i}"),
                    l,
                    "a finite number",
                ));
            }
            sum[i] += l;
            count[i] += 1;
        }
    }
    let left_out: Vec<f64> = (0..n)
        .filter(|&i| count[i] > 0)
        .map(|i| sum[i] / count[i] as f64)
        .collect();
    if left_out.is_empty() {
        return Err(Error::invalid(
            "rounds",
            rounds,
            "enough rounds that some sample is left out",
        ));
    }
    let err1 = left_out.iter().sum::<f64>() / left_out.len() as f64;
    let all: Vec<usize> = (0..n).collect();
    let full = fit(&all)?;
    let preds: Vec<P> = (0..n).map(|i| predict(&full, i)).collect();
    let err_bar = (0..n).map(|i| loss(i, &preds[i])).sum::<f64>() / n as f64;
    let gamma = (0..n)
        .map(|i| preds.iter().map(|p| loss(i, p)).sum::<f64>())
        .sum::<f64>()
        / (n * n) as f64;
    let err1_clipped = err1.min(gamma);
    let r = if err1_clipped > err_bar && gamma > err_bar {
        ((err1_clipped - err_bar) / (gamma - err_bar)).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let w = 0.632 / (1.0 - 0.368 * r);
    Ok(BootstrapError {
        training_error: err_bar,
        out_of_bag: err1,
        point632: 0.368 * err_bar + 0.632 * err1,
        point632_plus: (1.0 - w) * err_bar + w * err1_clipped,
        no_information: gamma,
        relative_overfitting: r,
    })
}

/// Runs the k-fold (or resampled) paired t-test: `evaluate(split)` returns
/// the scores `(a, b)` of the two models trained on `split.train` and scored
/// on `split.test`.
pub fn paired_t_test_on(
    splits: &[Split],
    mut evaluate: impl FnMut(&Split) -> Result<(f64, f64)>,
) -> Result<TestResult> {
    let diffs = splits
        .iter()
        .map(|s| evaluate(s).map(|(a, b)| a - b))
        .collect::<Result<Vec<f64>>>()?;
    paired_t_test(&diffs)
}

/// Five random 50/50 splits of `n` samples (seeded), each used both ways, as
/// Dietterich's 5x2cv design; returns the score differences.
pub fn five_by_two_differences(
    n: usize,
    seed: u64,
    mut evaluate: impl FnMut(&Split) -> Result<(f64, f64)>,
) -> Result<Vec<[f64; 2]>> {
    duality_core::check::at_least("number of samples", n, 4)?;
    let seeder = Seeder::new(seed);
    (0..5)
        .map(|r| {
            let mut order: Vec<usize> = (0..n).collect();
            order.shuffle(&mut seeder.rng(r));
            let (h1, h2) = order.split_at(n / 2);
            let (mut a, mut b) = (h1.to_vec(), h2.to_vec());
            a.sort_unstable();
            b.sort_unstable();
            let first = evaluate(&Split {
                train: a.clone(),
                test: b.clone(),
            })?;
            let second = evaluate(&Split { train: b, test: a })?;
            Ok([first.0 - first.1, second.0 - second.1])
        })
        .collect()
}

/// Dietterich's 5x2cv paired t-test with a user `evaluate` closure.
pub fn paired_t_5x2cv_with(
    n: usize,
    seed: u64,
    evaluate: impl FnMut(&Split) -> Result<(f64, f64)>,
) -> Result<TestResult> {
    paired_t_5x2cv(&five_by_two_differences(n, seed, evaluate)?)
}

/// Alpaydin's combined 5x2cv F-test with a user `evaluate` closure.
pub fn combined_f_5x2cv_with(
    n: usize,
    seed: u64,
    evaluate: impl FnMut(&Split) -> Result<(f64, f64)>,
) -> Result<TestResult> {
    combined_f_5x2cv(&five_by_two_differences(n, seed, evaluate)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_fold_partitions() {
        let s = k_fold(10, 3, None).unwrap();
        assert_eq!(
            s.iter().map(|x| x.test.len()).collect::<Vec<_>>(),
            vec![4, 3, 3]
        );
        assert_eq!(s[0].test, vec![0, 1, 2, 3]);
        let mut all: Vec<usize> = k_fold(10, 3, Some(1))
            .unwrap()
            .into_iter()
            .flat_map(|x| x.test)
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert!(k_fold(2, 3, None).is_err());
        assert_eq!(leave_one_out(4).unwrap().len(), 4);
    }

    #[test]
    fn stratified_keeps_proportions() {
        let labels: Vec<u8> = (0..30).map(|i| u8::from(i % 3 == 0)).collect();
        for s in stratified_k_fold(&labels, 5, Some(2)).unwrap() {
            let pos = s.test.iter().filter(|&&i| labels[i] == 1).count();
            assert_eq!(pos, 2);
            assert_eq!(s.test.len(), 6);
        }
        assert!(stratified_k_fold(&[0, 0, 1], 2, None).is_err());
        let nested = nested_k_fold(20, 4, 3, Some(5)).unwrap();
        for ns in &nested {
            for inner in &ns.inner {
                assert!(inner.test.iter().all(|i| ns.outer.train.contains(i)));
            }
        }
    }

    #[test]
    fn bootstrap_error_of_a_majority_classifier() {
        // 70% class 1: the majority-vote model errs on the 30% class-0 samples.
        let y: Vec<u8> = (0..50).map(|i| u8::from(i % 10 < 7)).collect();
        let fit = |idx: &[usize]| -> Result<u8> {
            let ones = idx.iter().filter(|&&i| y[i] == 1).count();
            Ok(u8::from(2 * ones >= idx.len()))
        };
        let r = bootstrap_error(
            50,
            100,
            3,
            fit,
            |m, _| *m,
            |i, p| f64::from(u8::from(y[i] != *p)),
        )
        .unwrap();
        assert!((r.training_error - 0.3).abs() < 1e-12);
        assert!((r.out_of_bag - 0.3).abs() < 0.05, "{r:?}");
        // gamma = P(y=0) P(pred=1) = 0.3.
        assert!((r.no_information - 0.3).abs() < 1e-12);
        assert!((r.point632_plus - 0.3).abs() < 0.05, "{r:?}");
    }

    #[test]
    fn five_by_two_with_identical_models_is_degenerate_but_named() {
        let r = paired_t_5x2cv_with(20, 1, |s| {
            Ok((s.test.len() as f64, s.test.len() as f64 - 1.0))
        });
        // Constant differences: zero variance gives an infinite t, not a panic.
        assert!(r.unwrap().statistic.is_infinite());
        let f = combined_f_5x2cv_with(20, 1, |s| Ok((s.test[0] as f64 / 20.0, 0.3))).unwrap();
        assert!(f.p_value >= 0.0 && f.p_value <= 1.0);
    }
}
