//! Size and hyper-parameter limits, checked before anything is allocated or
//! trained (issue 25: a small config asking for a huge vocabulary, length,
//! data set or evaluation must be refused, not abort on allocation; a
//! learning rate of 1e300 must be an error, not a panic inside libtorch).
//!
//! Memory is estimated generously from the sizes that drive it and compared
//! with [`duality_core::limits`]' memory budget (3/4 of the available memory
//! by default, `DUALITY_MAX_MEMORY` or the CLI's `--max-memory` to change
//! it). Every estimate saturates instead of overflowing, so any absurd size
//! ends in an error that names the config fields.

use duality_core::config::Validate;
use duality_core::tensor::OptimizerConfig;
use duality_core::{Error, Result};

use crate::policy::{Architecture, PolicyConfig};

/// The largest learning rate accepted (libtorch stores it as a 32-bit float
/// and our tiny policies diverge far below this; anything larger is a typo).
pub const MAX_LEARNING_RATE: f64 = 10.0;

/// The largest weight decay accepted (same reasoning as
/// [`MAX_LEARNING_RATE`]).
pub const MAX_WEIGHT_DECAY: f64 = 10.0;

/// The largest loss temperature beta accepted: the losses scale f32
/// log-ratio margins by it, so far larger values only overflow (beta =
/// 1e308 made every loss NaN at step 0).
pub const MAX_BETA: f64 = 1e6;

/// A float as the user would have written it: `1e300` rather than its 301
/// digits (errors quote it).
pub(crate) fn short(x: f64) -> String {
    if x != 0.0 && x.is_finite() && !(1e-4..1e6).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// Longest prompt of any test bed (CountDown's four tokens), used in the
/// estimates.
pub(crate) const MAX_PROMPT_LEN: usize = 4;

/// Multiplies sizes in 128 bits, saturating (a saturated estimate is far
/// over any budget, so it is refused).
pub(crate) fn mul(factors: &[usize]) -> u128 {
    factors
        .iter()
        .fold(1u128, |acc, &f| acc.saturating_mul(f as u128))
}

/// Checks an optimizer config: [`OptimizerConfig`]'s own validation, plus a
/// learning rate in (0, [`MAX_LEARNING_RATE`]] and a weight decay at most
/// [`MAX_WEIGHT_DECAY`]. `field` names it in errors (`optimizer`,
/// `critic_optimizer`, ...).
pub fn check_optimizer(field: &str, config: &OptimizerConfig) -> Result<()> {
    if !(config.lr > 0.0 && config.lr <= MAX_LEARNING_RATE) {
        return Err(Error::invalid(
            format!("{field}.lr"),
            short(config.lr),
            format!("a learning rate in (0, {MAX_LEARNING_RATE}]"),
        ));
    }
    if !(config.weight_decay >= 0.0 && config.weight_decay <= MAX_WEIGHT_DECAY) {
        return Err(Error::invalid(
            format!("{field}.weight_decay"),
            short(config.weight_decay),
            format!("a weight decay in [0, {MAX_WEIGHT_DECAY}]"),
        ));
    }
    if !(0.0..1.0).contains(&config.momentum) {
        return Err(Error::invalid(
            format!("{field}.momentum"),
            config.momentum,
            "a momentum in [0, 1)",
        ));
    }
    config
        .validate()
        .map_err(|e| Error::config(field.to_string(), e.to_string()))
}

/// Estimated bytes of a policy's parameters, gradients, two Adam moments
/// and a frozen reference copy (f32).
pub(crate) fn policy_bytes(config: &PolicyConfig) -> u128 {
    let (v, e, h) = (config.vocab, config.embed, config.hidden);
    let params = match config.architecture {
        Architecture::Gru => mul(&[v, e])
            .saturating_add(mul(&[3, e.saturating_add(h).saturating_add(2), h]))
            .saturating_add(mul(&[h.saturating_add(1), v])),
        Architecture::Transformer => mul(&[v.saturating_add(config.max_len), e])
            .saturating_add(mul(&[config.layers.max(1), 4, e, e.saturating_add(h)]))
            .saturating_add(mul(&[e.saturating_add(1), v])),
    };
    params.saturating_mul(4 * 5)
}

/// Estimated bytes of one forward and backward pass of `rows` sequences of
/// `seq_len` tokens through a policy (f32 activations: embeddings, hidden
/// states, logits and log-softmax, with headroom for the backward pass and
/// the reference's pass), plus the token rows themselves.
pub(crate) fn batch_bytes(rows: usize, seq_len: usize, config: &PolicyConfig) -> u128 {
    let width = config
        .vocab
        .saturating_mul(2)
        .saturating_add(config.embed)
        .saturating_add(config.hidden.saturating_mul(4));
    mul(&[rows, seq_len, width, 4 * 6]).saturating_add(mul(&[rows, seq_len.saturating_add(4), 8]))
}

/// Refuses a request of about `bytes` bytes over the memory budget. The
/// error starts with `field = value`, the size that makes the request too
/// large (issue #25: the field first), and `detail` says what the request
/// is ("256 pairs of 1000000000000 tokens"); it stays short at any size.
pub(crate) fn check_bytes(
    field: &str,
    value: impl std::fmt::Display,
    detail: impl AsRef<str>,
    bytes: u128,
) -> Result<()> {
    duality_core::limits::check_memory_for(field, value, detail.as_ref(), bytes)
}

/// Of two sizes that multiply into one request, the one to name first: the
/// larger (the absurd one, when one is).
pub(crate) fn larger<'a>(a: (&'a str, usize), b: (&'a str, usize)) -> (&'a str, usize) {
    if b.1 > a.1 {
        b
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_learning_rates_and_decays_are_refused_by_name() {
        let ok = OptimizerConfig::adam(1e-2);
        check_optimizer("optimizer", &ok).unwrap();
        for lr in [1e300, 11.0, f64::NAN, f64::INFINITY, 0.0, -1.0] {
            let e = check_optimizer("optimizer", &OptimizerConfig::adam(lr))
                .unwrap_err()
                .to_string();
            assert!(e.contains("optimizer") && e.contains("lr"), "{lr}: {e}");
        }
        let e = check_optimizer("optimizer", &OptimizerConfig::adam(1e300))
            .unwrap_err()
            .to_string();
        assert!(e.contains("= 1e300"), "{e}");
        let wd = OptimizerConfig {
            weight_decay: 1e30,
            ..ok
        };
        let e = check_optimizer("critic_optimizer", &wd)
            .unwrap_err()
            .to_string();
        assert!(e.contains("critic_optimizer.weight_decay"), "{e}");
    }

    #[test]
    fn estimates_saturate_instead_of_overflowing() {
        let huge = PolicyConfig {
            vocab: usize::MAX,
            ..PolicyConfig::default()
        };
        assert!(policy_bytes(&huge) > 1u128 << 64);
        assert_eq!(mul(&[usize::MAX; 3]), u128::MAX);
        assert_eq!(batch_bytes(usize::MAX, usize::MAX, &huge), u128::MAX);
        let e = check_bytes("task.vocab", huge.vocab, "the policy", policy_bytes(&huge))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("invalid task.vocab = "), "{e}");
        assert!(e.len() < 300, "{e}");
        let small = PolicyConfig::default();
        check_bytes("policy", 1, "the policy", policy_bytes(&small)).unwrap();
        check_bytes("batch", 512, "a batch", batch_bytes(512, 8, &small)).unwrap();
    }
}
