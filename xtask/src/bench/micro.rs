//! Criterion micro-benchmarks: `cargo xtask bench --micro` runs
//! `cargo bench` for every crate first; the report then lists every
//! estimate criterion left under `<target>/criterion/`.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// One criterion benchmark's estimate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MicroBench {
    /// Benchmark id (`group/function/parameter`).
    pub id: String,
    /// Mean time per iteration in nanoseconds.
    pub mean_ns: f64,
    /// Lower and upper bound of criterion's confidence interval for the mean.
    pub mean_ci_ns: (f64, f64),
}

/// Collects `new/estimates.json` files below `<target>/criterion`.
pub fn collect(target: &Path) -> Vec<MicroBench> {
    let root = target.join("criterion");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<MicroBench>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            if let Some(b) = read_estimate(root, &path) {
                out.push(b);
            }
        } else if path
            .file_name()
            .is_some_and(|n| n != "report" && n != "base" && n != "change")
        {
            walk(root, &path, out);
        }
    }
}

fn read_estimate(root: &Path, new_dir: &Path) -> Option<MicroBench> {
    let text = std::fs::read_to_string(new_dir.join("estimates.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let mean = &v["mean"];
    let id = new_dir
        .parent()?
        .strip_prefix(root)
        .ok()?
        .to_string_lossy()
        .into_owned();
    Some(MicroBench {
        id,
        mean_ns: mean["point_estimate"].as_f64()?,
        mean_ci_ns: (
            mean["confidence_interval"]["lower_bound"].as_f64()?,
            mean["confidence_interval"]["upper_bound"].as_f64()?,
        ),
    })
}
