//! Peer comparisons (`cargo xtask bench --compare`): the same input through
//! duality and through a Python reference library, timed alternately, with
//! the agreement of their results.
//!
//! A peer script (committed under `fixtures/<area>/`) is called as
//! `python SCRIPT INPUT.json` with the peers venv's python and prints one
//! JSON object on its last stdout line:
//! `{"seconds": <time of the core work only>, "result": [numbers], "version": "lib x.y"}`.
//! Import and start-up time are excluded on the peer's side, and data
//! generation on ours, so the ratio compares the same work.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// What to compare.
#[derive(Debug, Clone)]
pub struct PeerSpec {
    /// Name of the comparison (unique within the experiment).
    pub name: String,
    /// The peer library, e.g. `rliable`.
    pub peer: String,
    /// Peer script, relative to the workspace root.
    pub script: String,
    /// Input given to both sides (written to a JSON file for the peer).
    pub input: serde_json::Value,
    /// Alternating repetitions (each side runs this many times).
    pub reps: usize,
}

/// Result of one comparison, as stored in `results.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerComparison {
    /// Experiment that ran it (`suite/experiment`).
    pub experiment: String,
    /// Comparison name.
    pub name: String,
    /// Peer library (with version when it ran).
    pub peer: String,
    /// `None` when it ran; otherwise why it was skipped.
    pub skipped: Option<String>,
    /// duality's times per repetition (seconds).
    pub duality_seconds: Vec<f64>,
    /// The peer's times per repetition (seconds).
    pub peer_seconds: Vec<f64>,
    /// Median over repetitions of duality/peer time (below 1: duality faster).
    pub ratio_median: Option<f64>,
    /// Smallest and largest per-repetition ratio.
    pub ratio_range: Option<(f64, f64)>,
    /// Max absolute difference between the two results (same length only).
    pub max_abs_diff: Option<f64>,
    /// duality's result (last repetition), for relative comparisons.
    #[serde(default)]
    #[serde(deserialize_with = "duality_core::record::nan_as_null::vec")]
    pub duality_result: Vec<f64>,
    /// The peer's result (last repetition).
    #[serde(default)]
    #[serde(deserialize_with = "duality_core::record::nan_as_null::vec")]
    pub peer_result: Vec<f64>,
}

impl PeerComparison {
    /// Largest relative difference `|ours - theirs| / |theirs|` over the
    /// results (e.g. a tour's gap to LKH), when both sides returned the
    /// same number of values and the peer's are non-zero.
    pub fn max_rel_diff(&self) -> Option<f64> {
        if self.duality_result.is_empty() || self.duality_result.len() != self.peer_result.len() {
            return None;
        }
        self.duality_result
            .iter()
            .zip(&self.peer_result)
            .map(|(a, b)| (b != &0.0).then(|| ((a - b) / b).abs()))
            .try_fold(0.0f64, |acc, r| r.map(|r| acc.max(r)))
    }
}

#[derive(Debug, Deserialize)]
struct PeerOutput {
    seconds: f64,
    #[serde(default)]
    result: Vec<f64>,
    #[serde(default)]
    version: Option<String>,
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        0.5 * (xs[n / 2 - 1] + xs[n / 2])
    }
}

fn run_peer(python: &Path, script: &PathBuf, input: &PathBuf) -> anyhow::Result<PeerOutput> {
    let out = Command::new(python)
        .arg(script)
        .arg(input)
        .output()
        .with_context(|| format!("cannot run {}", script.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(3).collect();
        anyhow::bail!(
            "{} failed: {}",
            script.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    serde_json::from_str(last)
        .with_context(|| format!("{} printed no JSON result line: {last:?}", script.display()))
}

/// Runs one comparison. Never fails the experiment: problems become a
/// `skipped` reason, so a missing peer is reported, never silent.
pub(crate) fn compare(
    experiment: &str,
    spec: &PeerSpec,
    python: Option<&Path>,
    duality: &mut dyn FnMut() -> anyhow::Result<Vec<f64>>,
) -> PeerComparison {
    let mut c = PeerComparison {
        experiment: experiment.to_string(),
        name: spec.name.clone(),
        peer: spec.peer.clone(),
        skipped: None,
        duality_seconds: Vec::new(),
        peer_seconds: Vec::new(),
        ratio_median: None,
        ratio_range: None,
        max_abs_diff: None,
        duality_result: Vec::new(),
        peer_result: Vec::new(),
    };
    let Some(python) = python else {
        c.skipped = Some("peers venv missing: run `cargo xtask peers`".into());
        return c;
    };
    let script = crate::repo_root().join(&spec.script);
    if !script.exists() {
        c.skipped = Some(format!("peer script {} not found", spec.script));
        return c;
    }
    let input = std::env::temp_dir().join(format!(
        "duality-peer-{}-{}.json",
        std::process::id(),
        spec.name
            .replace(|ch: char| !ch.is_ascii_alphanumeric(), "_")
    ));
    if let Err(e) = std::fs::write(&input, spec.input.to_string()) {
        c.skipped = Some(format!("cannot write peer input: {e}"));
        return c;
    }
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..spec.reps.max(1) {
        let start = Instant::now();
        match duality() {
            Ok(r) => ours = r,
            Err(e) => {
                c.skipped = Some(format!("duality side failed: {e:#}"));
                break;
            }
        }
        c.duality_seconds.push(start.elapsed().as_secs_f64());
        match run_peer(python, &script, &input) {
            Ok(out) => {
                c.peer_seconds.push(out.seconds);
                theirs = out.result;
                if let Some(v) = out.version {
                    c.peer = v;
                }
            }
            Err(e) => {
                c.skipped = Some(format!("{e:#}"));
                break;
            }
        }
    }
    let _ = std::fs::remove_file(&input);
    if c.skipped.is_some() {
        return c;
    }
    let mut ratios: Vec<f64> = c
        .duality_seconds
        .iter()
        .zip(&c.peer_seconds)
        .filter(|(_, p)| **p > 0.0)
        .map(|(d, p)| d / p)
        .collect();
    if !ratios.is_empty() {
        let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        c.ratio_median = Some(median(&mut ratios));
        c.ratio_range = Some((lo, hi));
    }
    c.duality_result = ours.clone();
    c.peer_result = theirs.clone();
    if !ours.is_empty() && ours.len() == theirs.len() {
        c.max_abs_diff = Some(
            ours.iter()
                .zip(&theirs)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max),
        );
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_even_and_odd() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn missing_script_is_reported_not_silent() {
        let spec = PeerSpec {
            name: "x".into(),
            peer: "nobody".into(),
            script: "fixtures/does-not-exist.py".into(),
            input: serde_json::json!({}),
            reps: 1,
        };
        let c = compare("s/e", &spec, None, &mut || Ok(vec![]));
        assert!(c.skipped.is_some());
        assert_eq!(c.max_rel_diff(), None);
    }

    #[test]
    fn relative_difference() {
        let mut c = compare(
            "s/e",
            &PeerSpec {
                name: "x".into(),
                peer: "nobody".into(),
                script: "fixtures/does-not-exist.py".into(),
                input: serde_json::json!({}),
                reps: 1,
            },
            None,
            &mut || Ok(vec![]),
        );
        c.duality_result = vec![10.5, 2.0];
        c.peer_result = vec![10.0, 2.0];
        assert!((c.max_rel_diff().unwrap() - 0.05).abs() < 1e-12);
        c.peer_result = vec![10.0, 0.0];
        assert_eq!(c.max_rel_diff(), None);
    }
}
