//! Device choice and seeding.

use tch::Device;

use crate::error::{Error, Result};

/// Environment variable that overrides the device: `cpu`, `cuda` or `cuda:N`.
pub const DEVICE_ENV: &str = "DUALITY_DEVICE";

/// The device to use: `DUALITY_DEVICE` if set, else CUDA when available,
/// else CPU. A malformed or unavailable override is an error naming it.
pub fn default_device() -> Result<Device> {
    match std::env::var(DEVICE_ENV) {
        Ok(spec) => parse_device(&spec),
        Err(_) => Ok(Device::cuda_if_available()),
    }
}

/// Parses a device spec (`cpu`, `cuda`, `cuda:N`), checking CUDA exists.
pub fn parse_device(spec: &str) -> Result<Device> {
    let s = spec.trim().to_ascii_lowercase();
    let device = match s.as_str() {
        "cpu" => return Ok(Device::Cpu),
        "cuda" | "gpu" => Device::Cuda(0),
        _ => match s
            .strip_prefix("cuda:")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) => Device::Cuda(n),
            None => {
                return Err(Error::invalid(
                    DEVICE_ENV,
                    format!("{spec:?}"),
                    "`cpu`, `cuda` or `cuda:N`",
                ))
            }
        },
    };
    let count = tch::Cuda::device_count();
    match device {
        Device::Cuda(n) if (n as i64) < count => Ok(device),
        _ => Err(Error::invalid(
            DEVICE_ENV,
            format!("{spec:?}"),
            format!("a CUDA device that exists (this machine has {count})"),
        )),
    }
}

/// Seeds libtorch's global generators (CPU and CUDA). Call once per run,
/// before building models, for reproducible initialisation and sampling.
/// Where models may be built on several threads at once (parallel bench
/// seeds, parallel tests), use [`lock_seeded`] instead.
pub fn manual_seed(seed: u64) {
    // libtorch takes an i64; wrapping keeps every u64 seed distinct.
    tch::manual_seed(seed as i64);
}

/// The one process-wide lock around libtorch's default generator. One lock
/// for every crate: two modules seeding and drawing initial weights on two
/// threads (a test binary runs tests in parallel) would otherwise interleave
/// and make each other's weights depend on timing.
static GENERATOR: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Holds the lock on libtorch's default generator until dropped (see
/// [`lock_seeded`]).
#[must_use = "the generator is only reserved while the guard lives"]
pub struct GeneratorGuard(#[allow(dead_code)] std::sync::MutexGuard<'static, ()>);

/// Takes the process-wide generator lock, then seeds the generator with
/// `seed`: build the model's layers while the guard lives, and drop it
/// before training, so seeded initialisation is reproducible whatever else
/// runs on other threads.
pub fn lock_seeded(seed: u64) -> GeneratorGuard {
    let guard = lock_generator();
    manual_seed(seed);
    guard
}

/// Takes the process-wide generator lock without reseeding (for code that
/// draws from the generator after an earlier [`lock_seeded`]).
pub fn lock_generator() -> GeneratorGuard {
    // A panic while holding the lock leaves nothing to repair: the
    // generator's state is reseeded by the next `lock_seeded`.
    GeneratorGuard(GENERATOR.lock().unwrap_or_else(|e| e.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        assert_eq!(parse_device("cpu").unwrap(), Device::Cpu);
        assert_eq!(parse_device(" CPU ").unwrap(), Device::Cpu);
        let err = parse_device("tpu").unwrap_err().to_string();
        assert!(err.contains("\"tpu\""), "{err}");
        if tch::Cuda::device_count() == 0 {
            assert!(parse_device("cuda").is_err());
        }
    }
}
