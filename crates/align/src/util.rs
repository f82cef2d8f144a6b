//! Small tensor chores shared by the modules of this crate.

use duality_core::tensor::tch::{Kind, Tensor};
use duality_core::Result;

/// The shape of `t` as `usize`s.
pub(crate) fn shape_of(t: &Tensor) -> Vec<usize> {
    t.size().iter().map(|&d| d.max(0) as usize).collect()
}

/// Whether every entry of a float tensor is finite.
pub(crate) fn all_finite(t: &Tensor) -> bool {
    if t.numel() == 0 {
        return true;
    }
    t.isfinite().all().int64_value(&[]) != 0
}

/// All values of `t` as f64 (detached, CPU).
pub(crate) fn tensor_to_f64(t: &Tensor) -> Result<Vec<f64>> {
    duality_core::tensor::tensor_to_vec_f64(t)
}

/// A scalar tensor's value as f64.
pub(crate) fn scalar(t: &Tensor) -> f64 {
    t.detach().to_kind(Kind::Double).double_value(&[])
}

/// `Display` and `FromStr` for a fieldless enum from one table of
/// `Variant => "name"` rows, so the names printed, parsed and written in
/// TOML (the enum's serde names, which must agree) live in one place.
/// Parsing trims and lowercases; an unknown name is an error naming it and
/// listing the accepted ones.
macro_rules! named_enum {
    ($ty:ident, $what:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(match self {
                    $($ty::$variant => $name,)+
                })
            }
        }

        impl std::str::FromStr for $ty {
            type Err = duality_core::Error;

            fn from_str(s: &str) -> duality_core::Result<Self> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($name => Ok($ty::$variant),)+
                    _ => Err(duality_core::Error::invalid(
                        $what,
                        format!("{s:?}"),
                        format!("one of {}", [$($name),+].join(", ")),
                    )),
                }
            }
        }
    };
}
pub(crate) use named_enum;

// Seeded weight initialisation (`manual_seed(seed)` then drawing the
// weights) and any other construction that draws from libtorch's default
// generator (a frozen copy builds its layers before copying the weights in)
// must not interleave with another thread doing the same (parallel tests; a
// caller training policies on threads): both helpers hold duality-core's
// process-wide generator lock, shared with every other crate.

/// Runs `init` with the default generator seeded by `seed`, holding the
/// generator lock.
pub(crate) fn seeded_init<T>(seed: u64, init: impl FnOnce() -> T) -> T {
    let _guard = duality_core::tensor::lock_seeded(seed);
    init()
}

/// Runs `f`, which draws from the default generator without reseeding it,
/// holding the generator lock.
pub(crate) fn with_generator<T>(f: impl FnOnce() -> T) -> T {
    let _guard = duality_core::tensor::lock_generator();
    f()
}

/// The candidate closest to `wrong` (Jaro-Winkler similarity >= 0.8, the
/// threshold `duality_core::config` uses for its own suggestions), if any.
pub(crate) fn closest<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(wrong, c), c))
        .filter(|(similarity, _)| *similarity >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Appends "(did you mean `x`?)" to serde's "unknown field `a`, expected
/// one of `x`, `y`" when one expected name is close (trainer sections are
/// parsed outside `duality_core::config::from_toml_str`, which does the same
/// for the run's typed keys).
pub(crate) fn with_suggestion(message: &str) -> String {
    let prefix = "unknown field `";
    let Some(start) = message.find(prefix).map(|i| i + prefix.len()) else {
        return message.to_string();
    };
    let Some(len) = message[start..].find('`') else {
        return message.to_string();
    };
    let wrong = &message[start..start + len];
    let Some(expected) = message[start + len..].find("expected") else {
        return message.to_string();
    };
    let candidates = message[start + len + expected..]
        .split('`')
        .skip(1)
        .step_by(2);
    match closest(wrong, candidates) {
        Some(name) => format!("{message} (did you mean `{name}`?)"),
        None => message.to_string(),
    }
}
