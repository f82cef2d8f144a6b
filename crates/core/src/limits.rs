//! Size limits, checked before allocating.
//!
//! A small input can ask for a huge allocation (`--reps 1e12`, a TSPLIB
//! `DIMENSION` of 2^64-1, an MDP with 10^12 states). Rust aborts the process
//! when an allocation fails, so such requests must be refused *before*
//! allocating, with an error that names the flag or field. Area crates call
//! [`product`] to multiply user-given sizes without overflow and
//! [`check_memory`] (or [`elements`]) with their estimate of the bytes a
//! request needs. The limit is the [memory budget](memory_budget): by default
//! three quarters of the memory the OS reports as available, overridable by
//! `DUALITY_MAX_MEMORY` or by the CLI's `--max-memory` flag.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// Budget used when the available memory cannot be read (non-Linux hosts).
pub const FALLBACK_MEMORY_BUDGET: u64 = 8 << 30;

/// Environment variable that sets the memory budget (same syntax as
/// [`parse_bytes`]).
pub const MEMORY_BUDGET_ENV: &str = "DUALITY_MAX_MEMORY";

/// 0 means "not set explicitly".
static EXPLICIT_BUDGET: AtomicU64 = AtomicU64::new(0);

/// Sets the memory budget for this process, in bytes (the CLI's
/// `--max-memory`). It takes precedence over the environment variable.
pub fn set_memory_budget(bytes: u64) {
    EXPLICIT_BUDGET.store(bytes.max(1), Ordering::Relaxed);
}

/// The largest allocation estimate, in bytes, that [`check_memory`] accepts:
/// the value given to [`set_memory_budget`], else `DUALITY_MAX_MEMORY`, else
/// 3/4 of `MemAvailable` from `/proc/meminfo`, else
/// [`FALLBACK_MEMORY_BUDGET`].
pub fn memory_budget() -> u64 {
    let explicit = EXPLICIT_BUDGET.load(Ordering::Relaxed);
    if explicit > 0 {
        return explicit;
    }
    if let Some(bytes) = std::env::var(MEMORY_BUDGET_ENV)
        .ok()
        .and_then(|v| parse_bytes(&v).ok())
    {
        return bytes;
    }
    available_memory()
        .map(|bytes| bytes / 4 * 3)
        .unwrap_or(FALLBACK_MEMORY_BUDGET)
}

/// `MemAvailable` of `/proc/meminfo`, in bytes.
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Parses a byte size such as `512M`, `8G`, `1.5GiB`, `1000000` (suffixes
/// K, M, G, T with an optional `B` or `iB` are powers of 1024).
///
/// ```
/// use duality_core::limits::parse_bytes;
/// assert_eq!(parse_bytes("8G").unwrap(), 8 << 30);
/// assert_eq!(parse_bytes("1.5KiB").unwrap(), 1536);
/// assert!(parse_bytes("lots").is_err());
/// ```
pub fn parse_bytes(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E' || c == '+'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        "T" | "TB" | "TIB" => 1 << 40,
        _ => return Err(bad_size(text)),
    };
    let value: f64 = number.parse().map_err(|_| bad_size(text))?;
    let bytes = value * scale as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes >= u64::MAX as f64 {
        return Err(bad_size(text));
    }
    Ok(bytes as u64)
}

fn bad_size(text: &str) -> Error {
    Error::invalid(
        "memory size",
        format!("{text:?}"),
        "a positive size such as 512M, 8G or 1000000 (bytes)",
    )
}

/// Human-readable bytes (`1.5 GiB`), short at any size: binary units up
/// to EiB, then scientific notation in bytes (`8.0e24 B`), never a
/// thirteen-digit count of TiB.
///
/// ```
/// use duality_core::limits::format_bytes;
/// assert_eq!(format_bytes(512), "512 B");
/// assert_eq!(format_bytes(3 << 30), "3.0 GiB");
/// assert_eq!(format_bytes(1 << 62), "4.0 EiB");
/// assert_eq!(format_bytes(1 << 100), "1.3e30 B");
/// ```
pub fn format_bytes(bytes: u128) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else if value >= 1024.0 {
        format!("{:.1e} B", bytes as f64)
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Multiplies user-given sizes without overflow. `factors` pairs each size
/// with the flag or field it came from, so the error says which request was
/// too large.
///
/// ```
/// use duality_core::limits::product;
/// assert_eq!(product(&[("states", 10), ("actions", 4)]).unwrap(), 40);
/// let e = product(&[("states", usize::MAX), ("actions", 2)]).unwrap_err();
/// assert!(e.to_string().contains("states x actions"));
/// ```
pub fn product(factors: &[(&str, usize)]) -> Result<usize> {
    factors
        .iter()
        .try_fold(1usize, |acc, &(_, n)| acc.checked_mul(n))
        .ok_or_else(|| {
            let names: Vec<&str> = factors.iter().map(|(name, _)| *name).collect();
            let values: Vec<String> = factors.iter().map(|(_, n)| n.to_string()).collect();
            Error::invalid(
                names.join(" x "),
                values.join(" x "),
                "a product that fits in memory (it overflows a 64-bit size)",
            )
        })
}

/// Refuses a request whose estimated size, `bytes`, exceeds the
/// [memory budget](memory_budget). `what` names the request as the user
/// wrote it (e.g. `--reps 1000000000 x 5 metrics`).
pub fn check_memory(what: &str, bytes: u128) -> Result<()> {
    let budget = memory_budget();
    if bytes > u128::from(budget) {
        return Err(Error::invalid(
            what,
            format!("a request for about {}", format_bytes(bytes)),
            format!(
                "at most the memory limit of {} (raise it with --max-memory or {MEMORY_BUDGET_ENV})",
                format_bytes(u128::from(budget))
            ),
        ));
    }
    Ok(())
}

/// Like [`check_memory`], with the field first and the message short:
/// `invalid task.completion_len = 1000000000000: expected a size within
/// the memory limit of 16.0 GiB (256 pairs of 1000000000000 tokens need
/// about 3.6 PiB; raise the limit with --max-memory or DUALITY_MAX_MEMORY)`.
/// `field` and `value` are the request as the user wrote it (the field
/// that makes it too large), `detail` what it asks for.
///
/// ```
/// use duality_core::limits::check_memory_for;
/// let e = check_memory_for("task.vocab", 1u64 << 40, "hidden reward tables", 1 << 100)
///     .unwrap_err()
///     .to_string();
/// assert!(e.starts_with("invalid task.vocab = 1099511627776: expected a size within"), "{e}");
/// assert!(e.len() < 300, "{e}");
/// ```
pub fn check_memory_for(
    field: &str,
    value: impl std::fmt::Display,
    detail: &str,
    bytes: u128,
) -> Result<()> {
    let budget = memory_budget();
    if bytes > u128::from(budget) {
        return Err(Error::invalid(
            field,
            value,
            format!(
                "a size within the memory limit of {} ({detail} need about {}; raise the \
                 limit with --max-memory or {MEMORY_BUDGET_ENV})",
                format_bytes(u128::from(budget)),
                format_bytes(bytes)
            ),
        ));
    }
    Ok(())
}

/// Checks that `count` values of type `T` fit in the memory budget, and
/// returns `count` (so it can guard a `Vec::with_capacity`).
///
/// ```
/// use duality_core::limits::elements;
/// let n = elements::<f64>("--reps", 1_000).unwrap();
/// let v: Vec<f64> = Vec::with_capacity(n);
/// assert!(elements::<f64>("--reps", usize::MAX).is_err());
/// # drop(v);
/// ```
pub fn elements<T>(what: &str, count: usize) -> Result<usize> {
    let bytes = (count as u128) * (std::mem::size_of::<T>().max(1) as u128);
    check_memory(what, bytes)?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_bytes("1000").unwrap(), 1000);
        assert_eq!(parse_bytes("2k").unwrap(), 2048);
        assert_eq!(parse_bytes("3 MiB").unwrap(), 3 << 20);
        assert_eq!(parse_bytes("1T").unwrap(), 1 << 40);
        for bad in ["", "0", "-1G", "nanG", "1e300G", "5 parsecs"] {
            assert!(parse_bytes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn product_names_every_factor() {
        let e = product(&[("dimension", 1 << 40), ("dimension", 1 << 40)]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("dimension x dimension"), "{msg}");
        assert!(msg.contains("1099511627776 x 1099511627776"), "{msg}");
    }

    #[test]
    fn memory_check_refuses_over_budget_and_names_the_request() {
        let e = check_memory("--reps", 1u128 << 100).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("--reps"), "{msg}");
        assert!(msg.contains("--max-memory"), "{msg}");
        assert!(check_memory("--reps", 1024).is_ok());
    }

    #[test]
    fn bytes_format_for_humans() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(3 << 30), "3.0 GiB");
    }
}
