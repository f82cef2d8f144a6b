//! Sequence log-probabilities from next-token logits and a completion mask.
//!
//! The quantity every preference loss consumes is log pi(y | x) = sum_t log
//! pi(y_t | x, y_<t) over the completion tokens only (Rafailov et al. 2023,
//! "Direct Preference Optimization", Eq. 7 uses it through the log-ratio
//! log pi_theta(y|x) - log pi_ref(y|x)). We compute it as `log_softmax` +
//! `gather`, which never forms probabilities and so stays finite for any
//! finite logits, then sum (and average) under the mask.

use duality_core::tensor::tch::{Kind, Tensor};
use duality_core::{Error, Result};

use crate::util::{all_finite, shape_of};

/// Per-sequence log-probabilities of a batch of completions.
#[derive(Debug)]
pub struct SequenceLogProbs {
    /// Summed log-probability over masked tokens, shape `[B]`.
    pub sum: Tensor,
    /// Mean log-probability per masked token (`sum / tokens`), shape `[B]`.
    pub mean: Tensor,
    /// Number of masked tokens per sequence (as the logits' float kind), shape `[B]`.
    pub tokens: Tensor,
    /// Per-token log-probabilities with zeros outside the mask, shape `[B, T]`.
    pub per_token: Tensor,
}

/// Log-probabilities of `targets` under `logits`, summed and averaged over
/// the positions where `mask` is non-zero.
///
/// - `logits`: `[B, T, V]` float; position `t` holds the distribution of `targets[:, t]`
///   (i.e. logits already shifted so they align with the tokens they predict);
/// - `targets`: `[B, T]` integer token ids in `0..V`;
/// - `mask`: `[B, T]` with 1 on completion tokens and 0 elsewhere (prompt, padding).
///
/// Errors (each naming the value): wrong ranks, batch or length mismatch,
/// a token id outside the vocabulary, non-finite logits, and an empty
/// completion (a row of the mask with no non-zero entry).
pub fn sequence_log_probs(
    logits: &Tensor,
    targets: &Tensor,
    mask: &Tensor,
) -> Result<SequenceLogProbs> {
    let ls = shape_of(logits);
    if ls.len() != 3 {
        return Err(Error::invalid(
            "logits shape",
            format!("{ls:?}"),
            "a rank-3 tensor [batch, time, vocab]",
        ));
    }
    let (b, t, v) = (ls[0], ls[1], ls[2]);
    if b == 0 || t == 0 || v == 0 {
        return Err(Error::Empty {
            what: format!("logits of shape {ls:?}"),
            min: 1,
        });
    }
    for (name, x) in [("targets", targets), ("mask", mask)] {
        let s = shape_of(x);
        if s != [b, t] {
            return Err(Error::Shape {
                what: format!("{name} (must match logits [batch, time] = [{b}, {t}])"),
                expected: vec![b, t],
                got: s,
            });
        }
    }
    let targets = targets.to_kind(Kind::Int64);
    let (min_id, max_id) = (
        targets.min().int64_value(&[]),
        targets.max().int64_value(&[]),
    );
    if min_id < 0 || max_id >= v as i64 {
        let bad = if min_id < 0 { min_id } else { max_id };
        return Err(Error::invalid(
            "token id",
            bad,
            format!("an id in 0..{v} (the vocabulary size of the logits)"),
        ));
    }
    if !all_finite(logits) {
        return Err(Error::invalid(
            "logits",
            "a tensor with NaN or infinite entries",
            "finite logits",
        ));
    }
    let kind = logits.kind();
    let mask = mask.to_kind(kind);
    let tokens = mask.sum_dim_intlist([1i64].as_slice(), false, kind);
    let counts = crate::util::tensor_to_f64(&tokens)?;
    if let Some(row) = counts.iter().position(|&c| c <= 0.0) {
        return Err(Error::invalid(
            format!("completion mask row {row}"),
            "all zeros",
            "at least one completion token (an empty completion has no log-probability)",
        ));
    }
    let per_token = logits
        .log_softmax(-1, kind)
        .gather(2, &targets.unsqueeze(-1), false)
        .squeeze_dim(-1)
        * &mask;
    let sum = per_token.sum_dim_intlist([1i64].as_slice(), false, kind);
    let mean = &sum / &tokens;
    Ok(SequenceLogProbs {
        sum,
        mean,
        tokens,
        per_token,
    })
}

/// Fails unless a policy and its reference share one vocabulary.
pub fn check_same_vocab(policy_vocab: usize, reference_vocab: usize) -> Result<()> {
    if policy_vocab != reference_vocab {
        return Err(Error::invalid(
            "reference vocabulary size",
            reference_vocab,
            format!("the policy's vocabulary size {policy_vocab}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use duality_core::tensor::{tensor_from_slice, tensor_to_vec_f64};

    fn ids(data: &[i64], shape: &[i64]) -> Tensor {
        Tensor::from_slice(data).reshape(shape)
    }

    #[test]
    fn matches_hand_computation() {
        // Two sequences, two positions, vocab 3.
        let logits = tensor_from_slice(
            &[0.0, 1.0, 2.0, 1.0, 1.0, 1.0, -1.0, 0.5, 3.0, 0.0, 0.0, 10.0],
            &[2, 2, 3],
        )
        .unwrap();
        let targets = ids(&[2, 0, 1, 2], &[2, 2]);
        let mask = tensor_from_slice(&[1.0, 1.0, 0.0, 1.0], &[2, 2]).unwrap();
        let out = sequence_log_probs(&logits, &targets, &mask).unwrap();
        let lse = |xs: &[f64]| xs.iter().map(|x| x.exp()).sum::<f64>().ln();
        let a = 2.0 - lse(&[0.0, 1.0, 2.0]) + 1.0 - lse(&[1.0, 1.0, 1.0]);
        let b = 10.0 - lse(&[0.0, 0.0, 10.0]);
        let sum = tensor_to_vec_f64(&out.sum).unwrap();
        assert!((sum[0] - a).abs() < 1e-12 && (sum[1] - b).abs() < 1e-12);
        let mean = tensor_to_vec_f64(&out.mean).unwrap();
        assert!((mean[0] - a / 2.0).abs() < 1e-12 && (mean[1] - b).abs() < 1e-12);
        assert_eq!(tensor_to_vec_f64(&out.tokens).unwrap(), vec![2.0, 1.0]);
    }

    #[test]
    fn stable_for_huge_logits() {
        let logits = tensor_from_slice(&[1e4, -1e4, 0.0], &[1, 1, 3]).unwrap();
        let out = sequence_log_probs(
            &logits,
            &ids(&[1], &[1, 1]),
            &tensor_from_slice(&[1.0], &[1, 1]).unwrap(),
        )
        .unwrap();
        let s = tensor_to_vec_f64(&out.sum).unwrap()[0];
        assert!((s + 2e4).abs() < 1e-6, "{s}");
    }

    #[test]
    fn bad_inputs_are_errors_naming_the_value() {
        let logits = Tensor::zeros(
            [2, 3, 4],
            (Kind::Double, duality_core::tensor::tch::Device::Cpu),
        );
        let targets = ids(&[0, 1, 2, 3, 0, 1], &[2, 3]);
        let ok_mask = Tensor::ones(
            [2, 3],
            (Kind::Double, duality_core::tensor::tch::Device::Cpu),
        );
        let empty = tensor_from_slice(&[1.0, 0.0, 1.0, 0.0, 0.0, 0.0], &[2, 3]).unwrap();
        let e = sequence_log_probs(&logits, &targets, &empty)
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 1") && e.contains("all zeros"), "{e}");
        let e = sequence_log_probs(&logits, &ids(&[0, 1, 2], &[1, 3]), &ok_mask)
            .unwrap_err()
            .to_string();
        assert!(e.contains("targets") && e.contains("[1, 3]"), "{e}");
        let e = sequence_log_probs(&logits, &ids(&[0, 1, 2, 3, 0, 4], &[2, 3]), &ok_mask)
            .unwrap_err()
            .to_string();
        assert!(e.contains("token id = 4") && e.contains("0..4"), "{e}");
        let nan = logits.copy().fill_(f64::NAN);
        assert!(sequence_log_probs(&nan, &targets, &ok_mask).is_err());
        let e = check_same_vocab(4, 5).unwrap_err().to_string();
        assert!(e.contains("= 5") && e.contains("4"), "{e}");
    }
}
