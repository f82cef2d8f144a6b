//! Structure-recovery metrics, as `count_accuracy` in the NOTEARS code:
//! true positive rate, false discovery rate (reversed edges count as false),
//! and structural Hamming distance (extra + missing skeleton edges +
//! reversed edges).

use duality_core::Result;
use serde::{Deserialize, Serialize};

use super::sem::Adjacency;

/// Accuracy of an estimated graph against the truth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    /// Structural Hamming distance.
    pub shd: usize,
    /// True positive rate (recall of directed edges).
    pub tpr: f64,
    /// False discovery rate.
    pub fdr: f64,
    /// False positive rate over non-edges.
    pub fpr: f64,
    /// Number of predicted edges.
    pub nnz: usize,
}

/// Compares the supports of `estimate` and `truth`.
pub fn accuracy(truth: &Adjacency, estimate: &Adjacency) -> Result<Accuracy> {
    duality_core::check::same_len("truth nodes", truth.d, "estimate nodes", estimate.d)?;
    let d = truth.d;
    let t = |i: usize, j: usize| truth.get(i, j) != 0.0;
    let e = |i: usize, j: usize| estimate.get(i, j) != 0.0;
    let (mut tp, mut reversed, mut false_pos, mut pred, mut cond) = (0, 0, 0, 0, 0);
    for i in 0..d {
        for j in 0..d {
            if t(i, j) {
                cond += 1;
            }
            if e(i, j) {
                pred += 1;
                if t(i, j) {
                    tp += 1;
                } else if t(j, i) {
                    reversed += 1;
                } else {
                    false_pos += 1;
                }
            }
        }
    }
    let (mut extra, mut missing) = (0, 0);
    for i in 0..d {
        for j in 0..i {
            let ps = e(i, j) || e(j, i);
            let cs = t(i, j) || t(j, i);
            if ps && !cs {
                extra += 1;
            }
            if cs && !ps {
                missing += 1;
            }
        }
    }
    let cond_neg = (d * d.saturating_sub(1) / 2).saturating_sub(cond);
    Ok(Accuracy {
        shd: extra + missing + reversed,
        tpr: tp as f64 / cond.max(1) as f64,
        fdr: (reversed + false_pos) as f64 / pred.max(1) as f64,
        fpr: (reversed + false_pos) as f64 / cond_neg.max(1) as f64,
        nnz: pred,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_reversed_extra_missing() {
        // truth: 0->1, 1->2 ; estimate: 1->0 (reversed), 0->2 (extra).
        let t = Adjacency::from_rows(&[vec![0.0, 1.0, 0.0], vec![0.0, 0.0, 1.0], vec![0.0; 3]])
            .unwrap();
        let e = Adjacency::from_rows(&[vec![0.0, 0.0, 1.0], vec![1.0, 0.0, 0.0], vec![0.0; 3]])
            .unwrap();
        let a = accuracy(&t, &e).unwrap();
        assert_eq!(a.shd, 3); // extra 0-2, missing 1-2, reversed 0-1
        assert_eq!(a.tpr, 0.0);
        assert_eq!(a.fdr, 1.0);
        assert_eq!(accuracy(&t, &t).unwrap().shd, 0);
    }
}
