//! The machine/build header of a bench report.

use serde::{Deserialize, Serialize};

use crate::cmd;

/// Where and with what a report was produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    /// CPU model name.
    pub cpu: String,
    /// Logical cores.
    pub cores: usize,
    /// Operating system.
    pub os: String,
    /// `rustc --version`.
    pub rustc: String,
    /// libtorch version used by the build.
    pub libtorch: String,
    /// Git commit.
    pub commit: String,
    /// Whether the work tree had uncommitted changes.
    pub dirty: bool,
    /// UTC timestamp of the run.
    pub timestamp: String,
}

impl Machine {
    /// Reads the header from the running system.
    pub fn detect() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|s| s.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let os = std::fs::read_to_string("/etc/os-release")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                    .map(|s| s.trim_matches('"').to_string())
            })
            .unwrap_or_else(|| std::env::consts::OS.to_string());
        let root = cmd::workspace_root();
        let root = root.to_string_lossy();
        Machine {
            cpu,
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            os,
            rustc: cmd::output_of("rustc", &["--version"]).unwrap_or_else(|| "unknown".into()),
            libtorch: std::env::var("DUALITY_LIBTORCH_VERSION")
                .ok()
                .or_else(|| {
                    crate::libtorch::locate()
                        .ok()
                        .flatten()
                        .map(|lt| lt.version)
                })
                .unwrap_or_else(|| "unknown".into()),
            commit: cmd::output_of("git", &["-C", &root, "rev-parse", "--short=12", "HEAD"])
                .unwrap_or_else(|| "unknown".into()),
            dirty: cmd::output_of("git", &["-C", &root, "status", "--porcelain"])
                .map(|s| !s.is_empty())
                .unwrap_or(false),
            timestamp: timestamp(),
        }
    }
}

/// UTC time as `YYYYMMDD-HHMMSS` (no chrono: civil-from-days, Hinnant 2013).
pub fn timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Peak resident memory of this process in bytes since the last
/// [`reset_peak_memory`] (Linux `VmHWM`); `None` where it is not available.
pub fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Resets the peak-memory mark to the current resident size, so that the
/// next [`peak_memory_bytes`] measures one experiment (Linux: writing `5` to
/// `/proc/self/clear_refs`). Returns whether the reset worked; if not, the
/// peak is the process's peak so far.
pub fn reset_peak_memory() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
