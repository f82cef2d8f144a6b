//! Suite `python`: duality's Python API (crates/python) timed in one Python
//! process beside rliable, scikit-learn, obp and scipy, on the bench's own
//! workloads, next to the same work called from Rust (issue #23, item 4).
//!
//! Workloads (sizes from `fixtures/python/bench.toml`, the same as the area
//! suites' `--compare` runs):
//! - `bootstrap-iqm`: IQM with 95% percentile stratified-bootstrap CIs of
//!   five synthetic Atari-100k-like score matrices (eval `bootstrap-iqm`'s
//!   generator); peer rliable `get_interval_estimates`;
//! - `auroc-ap`: AUROC and average precision of `n` scores with ties (eval
//!   `auroc`'s generator); peer scikit-learn `roc_auc_score` +
//!   `average_precision_score`. The Python API is two calls, as
//!   scikit-learn's, so the Rust side is the two public functions
//!   (`ranking::auroc`, `ranking::average_precision`), not the shared sort
//!   of eval's `auroc` experiment;
//! - `ope-dr`: the doubly robust estimate on bandits `ope-error`'s
//!   synthetic log (ridge reward model); peer obp 0.4.1 `DoublyRobust`;
//! - `assignment`: `linear_sum_assignment` of a uniform `n x n` matrix
//!   (combopt `assignment`); peer scipy.
//!
//! Always: the Rust-level calls on the crates' own types (data built
//! beforehand, as the area suites time them) and their results, which are
//! the headlines. With `--compare`: the wheel is built with maturin (the dev
//! profile for `--quick`, as the quick xtask build, release otherwise),
//! unpacked beside the run, and `fixtures/python/bench_inprocess.py` runs in
//! the peers venv's python with the wheel on `PYTHONPATH`; it times
//! duality's Python API and the peer alternately in that one process on the
//! same arrays (binary files, read with `numpy.fromfile`: C-contiguous
//! float64, so duality borrows them). The claim: the Python speed-up over
//! the peer keeps at least `min_kept` (80%) of the Rust-level speed-up, i.e.
//! Rust time / Python time >= `min_kept` (best of `reps` each). The script
//! also reports `tracemalloc`'s peak during one duality call (NumPy and
//! Python allocations; the Rust side's own buffers are not traced) against
//! the input size: no copy of the inputs means a peak far below it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context as _};
use duality_bandits::offpolicy::{generate_logs, SyntheticParams};
use duality_bandits::ope::{EstimatorKind, OpeData};
use duality_bench::{Context, Experiment, Headline, Outcome, Suite};
use duality_combopt::assignment::{linear_sum_assignment, CostMatrix};
use duality_core::record::RunRecord;
use duality_core::seed::Seeder;
use duality_eval::aggregate::Metric;
use duality_eval::bootstrap::{BootstrapParams, IntervalMethod, StratifiedBootstrap};
use duality_eval::ranking;
use duality_eval::scores::ScoreMatrix;
use rand::Rng;
use serde::Deserialize;

/// The `python` suite.
pub fn suite() -> Suite {
    Suite {
        name: "python",
        about: "duality's Python API in one process beside rliable, scikit-learn, obp and scipy (--compare)",
        defaults: include_str!("../../../fixtures/python/bench.toml"),
        experiments: vec![Experiment {
            name: "python-api",
            about: "Rust-level vs in-process Python speed-ups over rliable, scikit-learn, obp, scipy on the bench's workloads (claim: Python keeps >= 80% of the Rust-level speed-up; --compare)",
            run: python_api,
        }],
    }
}

/// Parameters of `python-api`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    /// Bootstrap replicates (eval `bootstrap-iqm`).
    bootstrap_reps: usize,
    /// Runs and tasks per score matrix (five algorithms).
    runs: usize,
    tasks: usize,
    /// Scores of the AUROC / AP workload (eval `auroc`).
    auroc_scores: usize,
    /// Logged rounds of the DR workload (bandits `ope-error`'s `obp_rounds`).
    obp_rounds: usize,
    /// Side of the assignment matrix (combopt `assignment`).
    assignment_size: usize,
    /// Timed repetitions per side (best of them is compared).
    reps: usize,
    /// The claim: Python keeps at least this fraction of the Rust speed-up.
    min_kept: f64,
}

/// The workloads' data, built once, and what the Rust calls return.
struct Workloads {
    scores: Vec<ScoreMatrix>,
    labels: Vec<bool>,
    auroc_scores: Vec<f64>,
    ope: OpeData,
    costs: CostMatrix,
}

impl Workloads {
    fn new(p: &Params, seeder: &Seeder) -> anyhow::Result<Self> {
        let mut rng = seeder.named("bootstrap-iqm").rng(0);
        let scores = duality_eval::experiments::synthetic_scores(&mut rng, p.runs, p.tasks);
        // eval `auroc`: 10% positives, scores rounded to 1e-3 (ties).
        let mut rng = seeder.named("auroc-ap").rng(0);
        let (mut labels, mut auroc_scores) = (Vec::new(), Vec::new());
        for _ in 0..p.auroc_scores {
            let y = rng.random::<f64>() < 0.1;
            let s: f64 = rng.random::<f64>() + if y { 0.35 } else { 0.0 };
            labels.push(y);
            auroc_scores.push((s * 1000.0).round() / 1000.0);
        }
        // bandits `ope-error`'s obp comparison: default synthetic setting.
        let params = SyntheticParams {
            n_rounds: p.obp_rounds,
            ..SyntheticParams::default()
        };
        let mut rng = seeder.named("ope-dr").rng(0);
        let log = generate_logs(&params, &mut rng)?;
        let qhat = log.logged.ridge_reward_model(1.0)?;
        let ope = log.logged.ope_data(log.evaluation_dist.clone(), qhat)?;
        let n = p.assignment_size;
        let mut rng = seeder.named("assignment").rng(0);
        let costs = CostMatrix::new(n, n, (0..n * n).map(|_| rng.random::<f64>()).collect())?;
        Ok(Workloads {
            scores,
            labels,
            auroc_scores,
            ope,
            costs,
        })
    }
}

/// One workload's Rust-level call: its time and result.
fn rust_call(w: &Workloads, name: &str, p: &Params) -> anyhow::Result<(f64, Vec<f64>)> {
    let start = Instant::now();
    let result = match name {
        "bootstrap-iqm" => {
            // What duality.eval.get_interval_estimates(metrics="iqm",
            // reps, seed=0) runs per algorithm.
            let boot = StratifiedBootstrap::from_params(BootstrapParams {
                reps: p.bootstrap_reps,
                confidence: 0.95,
                seed: 0,
                method: IntervalMethod::Percentile,
                task_bootstrap: false,
            })?;
            let base = Seeder::new(0);
            let mut out = Vec::new();
            for m in &w.scores {
                let iv =
                    boot.intervals_of(m, [Metric::Iqm].as_slice(), base.named(m.algorithm()))?;
                out.extend([iv[0].estimate, iv[0].lo, iv[0].hi]);
            }
            out
        }
        "auroc-ap" => vec![
            ranking::auroc(&w.labels, &w.auroc_scores)?,
            ranking::average_precision(&w.labels, &w.auroc_scores)?,
        ],
        "ope-dr" => {
            let dr = "dr".parse::<EstimatorKind>()?.build(None)?;
            vec![dr.estimate(&w.ope)?]
        }
        "assignment" => vec![linear_sum_assignment(&w.costs, false)?.cost],
        other => bail!("unknown workload {other}"),
    };
    Ok((start.elapsed().as_secs_f64(), result))
}

const WORKLOADS: [(&str, &str); 4] = [
    ("bootstrap-iqm", "rliable"),
    ("auroc-ap", "scikit-learn"),
    ("ope-dr", "obp"),
    ("assignment", "scipy"),
];

/// What the in-process script reports per workload.
#[derive(Debug, Deserialize)]
struct PyWorkload {
    duality_seconds: Vec<f64>,
    duality_result: Vec<f64>,
    #[serde(default)]
    peer_seconds: Vec<f64>,
    #[serde(default)]
    peer_result: Vec<f64>,
    #[serde(default)]
    peer_version: Option<String>,
    #[serde(default)]
    peer_skipped: Option<String>,
    traced_peak_bytes: f64,
    input_bytes: f64,
}

#[derive(Debug, Deserialize)]
struct PyReport {
    python: String,
    numpy: String,
    workloads: std::collections::BTreeMap<String, PyWorkload>,
}

fn best(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(f64::INFINITY, f64::min)
}

fn python_api(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: Params = ctx.params()?;
    if p.reps == 0 || !(p.min_kept > 0.0 && p.min_kept <= 1.0) {
        bail!(
            "python-api: invalid reps = {} or min_kept = {} (expected reps >= 1, 0 < min_kept <= 1)",
            p.reps,
            p.min_kept
        );
    }
    let w = Workloads::new(&p, &ctx.seeder)?;
    let mut out = Outcome::default();
    // Rust-level times: a warm-up call, then `reps` timed calls now and
    // `reps` more after the Python process (under --compare), so that both
    // sides see the machine's load of the same minutes; the best counts.
    // On a pool of their own: the harness's pool may be busy with the
    // experiment itself, which left the bootstrap one thread (its time
    // matched the wheel's at RAYON_NUM_THREADS=1).
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(rayon::current_num_threads())
        .build()?;
    let rust_call = |w: &Workloads, name: &str, p: &Params| pool.install(|| rust_call(w, name, p));
    let mut rust_times: Vec<Vec<f64>> = vec![Vec::new(); WORKLOADS.len()];
    let mut rust_results: Vec<Vec<f64>> = Vec::new();
    for (i, (name, _)) in WORKLOADS.iter().enumerate() {
        rust_results.push(rust_call(&w, name, &p)?.1);
        for _ in 0..p.reps {
            rust_times[i].push(rust_call(&w, name, &p)?.0);
        }
    }
    let (iqm, auc, dr, lsa) = (
        &rust_results[0],
        &rust_results[1],
        &rust_results[2],
        &rust_results[3],
    );
    for (name, value, digits) in [
        ("iqm_DER", iqm[0], 9),
        ("iqm_ci_lo_DER", iqm[1], 6),
        ("auroc", auc[0], 9),
        ("average_precision", auc[1], 9),
        ("dr_estimate", dr[0], 9),
        ("assignment_cost", lsa[0], 6),
    ] {
        out.headlines.push(Headline {
            name: name.into(),
            value,
            digits,
        });
    }

    let py = if ctx.compare {
        match run_python(ctx, &p, &w) {
            Ok(r) => Some(r),
            Err(e) => {
                out.notes
                    .push(format!("the in-process Python timings did not run: {e:#}"));
                None
            }
        }
    } else {
        out.notes.push(
            "Rust-level times only: the in-process Python timings run with --compare \
             (they build the wheel with maturin and use the peers venv of `cargo xtask peers`)"
                .into(),
        );
        None
    };

    if py.is_some() {
        for (i, (name, _)) in WORKLOADS.iter().enumerate() {
            for _ in 0..p.reps {
                rust_times[i].push(rust_call(&w, name, &p)?.0);
            }
        }
    }
    let rust: Vec<(f64, &Vec<f64>)> = rust_times
        .iter()
        .zip(&rust_results)
        .map(|(t, r)| (best(t), r))
        .collect();
    let mut table = vec![
        "| workload | Rust s | Python s | peer s | Rust x peer | Python x peer | kept | peer |"
            .to_string(),
        "|---|---:|---:|---:|---:|---:|---:|---|".to_string(),
    ];
    let mut held = Vec::new();
    for (i, (name, peer)) in WORKLOADS.iter().enumerate() {
        let (rust_s, rust_result) = &rust[i];
        let mut rec = RunRecord::new("duality", *name, 0).with_metric("rust_seconds", *rust_s);
        let Some(report) = &py else {
            table.push(format!("| {name} | {rust_s:.4} | | | | | | |"));
            out.records.push(rec);
            continue;
        };
        let Some(wl) = report.workloads.get(*name) else {
            table.push(format!(
                "| {name} | {rust_s:.4} | | | | | | missing from the Python report |"
            ));
            out.records.push(rec);
            continue;
        };
        let py_s = best(&wl.duality_seconds);
        let kept = rust_s / py_s;
        rec = rec
            .with_metric("python_seconds", py_s)
            .with_metric("kept", kept)
            .with_metric("traced_peak_bytes", wl.traced_peak_bytes)
            .with_metric("input_bytes", wl.input_bytes);
        // Same code on the same data: equal up to the order of a final sum
        // (the assignment's cost is summed by numpy on the Python side).
        let same = max_rel_diff(&wl.duality_result, rust_result).is_some_and(|d| d <= 1e-12);
        let (peer_s, peer_col) = if wl.peer_seconds.is_empty() {
            (
                f64::NAN,
                format!(
                    "{peer}: skipped ({})",
                    wl.peer_skipped.as_deref().unwrap_or("no timing")
                ),
            )
        } else {
            let ps = best(&wl.peer_seconds);
            let diff = max_rel_diff(&wl.duality_result, &wl.peer_result);
            (
                ps,
                format!(
                    "{}; max rel diff to peer {}",
                    wl.peer_version.as_deref().unwrap_or(peer),
                    diff.map_or("n/a".into(), |d| format!("{d:.1e}"))
                ),
            )
        };
        if peer_s.is_finite() {
            rec = rec.with_metric("peer_seconds", peer_s);
        }
        table.push(format!(
            "| {name} | {rust_s:.4} | {py_s:.4} | {peer_s:.4} | {:.2} | {:.2} | {kept:.2} | {peer_col}{} |",
            peer_s / rust_s,
            peer_s / py_s,
            if same {
                ""
            } else {
                "; Python result differs from Rust's!"
            }
        ));
        held.push(format!(
            "{name} {} (kept {kept:.2}; tracemalloc peak {:.1} kB during a call on {:.1} kB of input)",
            if kept >= p.min_kept && same {
                "held"
            } else {
                "NOT held"
            },
            wl.traced_peak_bytes / 1e3,
            wl.input_bytes / 1e3
        ));
        out.records.push(rec);
    }
    out.notes.push(format!(
        "times are the best of {} calls per side, alternating duality and the peer in one Python \
         process; Rust: best of {} calls ({} before and {} after the Python process), built with the \
         {} profile as the wheel; {} thread(s). 'x peer' = peer time / duality time (the speed-up), \
         kept = Python speed-up / Rust speed-up = Rust time / Python time:\n>\n> {}",
        p.reps,
        if py.is_some() { 2 * p.reps } else { p.reps },
        p.reps,
        if py.is_some() { p.reps } else { 0 },
        if cfg!(debug_assertions) { "dev" } else { "release" },
        rayon::current_num_threads(),
        table.join("\n> ")
    ));
    if let Some(report) = &py {
        out.notes.push(format!(
            "claim (Python keeps >= {:.0}% of the Rust-level speed-up, same result as Rust) on this run \
             (python {}, numpy {}): {}",
            100.0 * p.min_kept,
            report.python,
            report.numpy,
            held.join("; ")
        ));
    }
    Ok(out)
}

fn max_rel_diff(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.is_empty() || a.len() != b.len() {
        return None;
    }
    Some(
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs() / y.abs().max(1e-300))
            .fold(0.0, f64::max),
    )
}

/// Writes `data` as little-endian f64 (what `numpy.fromfile(dtype="<f8")` reads).
fn write_f64(path: &Path, data: impl IntoIterator<Item = f64>) -> anyhow::Result<()> {
    let bytes: Vec<u8> = data.into_iter().flat_map(f64::to_le_bytes).collect();
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// A python that can run the script: the peers venv's (with the peers), else
/// the Python test venv's (duality only: every peer is then reported skipped).
fn python_and_maturin() -> anyhow::Result<(PathBuf, PathBuf)> {
    let test_venv = crate::libtorch::cache_dir()
        .join("python-test-venv")
        .join("bin");
    let python = crate::peers::python()
        .or_else(|| Some(test_venv.join("python")).filter(|p| p.exists()))
        .context("no python: run `cargo xtask peers` (or `cargo xtask test --python-only`)")?;
    let maturin = [
        python.with_file_name("maturin"),
        test_venv.join("maturin"),
    ]
    .into_iter()
    .find(|p| p.exists())
    .context("no maturin: run `cargo xtask peers` again (it installs maturin) or `cargo xtask test --python-only`")?;
    Ok((python, maturin))
}

/// Builds the wheel (profile of this xtask build) and unpacks it into
/// `<target>/python-bench/site`; returns that folder.
fn build_wheel(python: &Path, maturin: &Path) -> anyhow::Result<PathBuf> {
    let root = crate::cmd::workspace_root();
    let dir = crate::cmd::target_dir().join("python-bench");
    let wheels = dir.join("wheels");
    let site = dir.join("site");
    for d in [&wheels, &site] {
        if d.exists() {
            std::fs::remove_dir_all(d).with_context(|| format!("cannot clear {}", d.display()))?;
        }
    }
    let mut c = Command::new(maturin);
    c.current_dir(&root)
        .args([
            "build",
            "--quiet",
            "-m",
            "crates/python/Cargo.toml",
            "--interpreter",
        ])
        .arg(python)
        .arg("--out")
        .arg(&wheels)
        .env("CARGO_TARGET_DIR", crate::cmd::target_dir());
    if !cfg!(debug_assertions) {
        c.arg("--release");
    }
    let status = c.status().context("cannot run maturin")?;
    if !status.success() {
        bail!("maturin build failed ({status})");
    }
    let wheel = std::fs::read_dir(&wheels)?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .with_context(|| format!("no wheel in {}", wheels.display()))?;
    let status = Command::new(python)
        .args(["-m", "zipfile", "-e"])
        .arg(&wheel)
        .arg(&site)
        .status()
        .context("cannot unpack the wheel")?;
    if !status.success() {
        bail!("cannot unpack {}", wheel.display());
    }
    Ok(site)
}

fn run_python(ctx: &Context, p: &Params, w: &Workloads) -> anyhow::Result<PyReport> {
    let (python, maturin) = python_and_maturin()?;
    let site = build_wheel(&python, &maturin)?;
    let dir = crate::cmd::target_dir()
        .join("python-bench")
        .join(format!("inputs-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = (|| {
        write_f64(
            &dir.join("scores.f64"),
            w.scores.iter().flat_map(|m| m.data().iter().copied()),
        )?;
        write_f64(
            &dir.join("labels.f64"),
            w.labels.iter().map(|&y| if y { 1.0 } else { 0.0 }),
        )?;
        write_f64(
            &dir.join("auroc_scores.f64"),
            w.auroc_scores.iter().copied(),
        )?;
        w.ope.write_f64_le(&dir.join("ope.f64"))?;
        let n = w.costs.rows();
        write_f64(
            &dir.join("costs.f64"),
            (0..n * n).map(|k| w.costs.get(k / n, k % n)),
        )?;
        let spec = serde_json::json!({
            "dir": dir,
            "reps": p.reps,
            "bootstrap": {"reps": p.bootstrap_reps, "algorithms": w.scores.iter().map(|m| m.algorithm()).collect::<Vec<_>>(), "runs": p.runs, "tasks": p.tasks},
            "auroc": {"n": w.labels.len()},
            "ope": {"n": w.ope.len(), "k": w.ope.n_actions()},
            "assignment": {"n": n},
        });
        let input = dir.join("input.json");
        std::fs::write(&input, serde_json::to_vec(&spec)?)?;
        ctx.progress
            .set_message("python-api: in-process Python timings");
        let out = Command::new(&python)
            .arg(crate::cmd::workspace_root().join("fixtures/python/bench_inprocess.py"))
            .arg(&input)
            .env("PYTHONPATH", &site)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env(
                "RAYON_NUM_THREADS",
                rayon::current_num_threads().to_string(),
            )
            .output()
            .context("cannot run fixtures/python/bench_inprocess.py")?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = err.lines().rev().take(4).collect();
            bail!(
                "bench_inprocess.py failed: {}",
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            );
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        serde_json::from_str::<PyReport>(last)
            .with_context(|| format!("bench_inprocess.py printed no JSON report: {last:?}"))
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
