//! CLI start-up: a process per call, as a shell user works (issue #26,
//! item 2), so start-up cost cannot hide behind in-process timings.
//!
//! Builds three binaries in separate cargo invocations (so Cargo's feature
//! unification cannot hand one the torch parts of another's area crates):
//! `duality` with `--features torch` (copied aside as
//! `duality-bench/startup/duality-features-torch`: the build issue #26's
//! goal also covers, "in every build"), `duality` without features (no
//! libtorch), and `duality-torch` (the same sources with the torch
//! commands in process). Then it times every top-level command (`--help`
//! or a trivial input) through all three, alternating them each
//! repetition, and writes `startup.md` and `startup.json` under
//! `<target>/duality-bench/startup/`, with each binary's `DT_NEEDED`.
//!
//! Runs with `cargo xtask bench --compare` (after the suites, when no
//! `--suite`/`--experiment` narrows the run) or alone with `cargo xtask
//! bench --suite startup [--quick]`. `--quick` uses the dev profile and 5
//! repetitions; otherwise release and 21. Nothing here is asserted: the
//! goal (under 50 ms for every command that does not train) is reported.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;

use super::BenchArgs;
use crate::cmd;

/// The pseudo-suite name that selects this comparison.
pub const SUITE: &str = "startup";

/// The goal of issue #26 for commands that do not train.
const GOAL_MS: f64 = 50.0;

/// Whether the run asks for the start-up comparison only.
pub fn only(args: &BenchArgs) -> bool {
    !args.suites.is_empty() && args.suites.iter().all(|s| s == SUITE)
}

/// Whether a full `--compare` run should add the start-up comparison.
pub fn after_suites(args: &BenchArgs) -> bool {
    args.compare && args.suites.is_empty() && args.experiments.is_empty() && args.action.is_none()
}

/// One command line timed through both binaries.
struct Case {
    args: Vec<String>,
    /// `duality` hands it to `duality-torch` (it needs libtorch).
    forwarded: bool,
}

/// Every top-level command (`--help`, read from `duality --help`, so a new
/// command is timed without editing this list), plus trivial inputs:
/// `--version`, `--help`, `tsp methods`, `ddp deep --help` (answered by
/// `duality`), and `tsp train-udc --help` and `align trainers` (forwarded;
/// none of them trains).
fn cases(front: &Path) -> anyhow::Result<Vec<Case>> {
    let out = Command::new(front)
        .arg("--help")
        .output()
        .with_context(|| format!("cannot run {}", front.display()))?;
    let help = String::from_utf8_lossy(&out.stdout);
    let commands: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect();
    anyhow::ensure!(
        !commands.is_empty(),
        "no commands in `duality --help`:\n{help}"
    );
    let case = |args: &[&str], forwarded: bool| Case {
        args: args.iter().map(|a| a.to_string()).collect(),
        forwarded,
    };
    let mut cases = vec![case(&["--version"], false), case(&["--help"], false)];
    for command in &commands {
        cases.push(case(&[command, "--help"], command == "align"));
    }
    cases.extend([
        case(&["tsp", "methods", "--format", "json"], false),
        case(&["tsp", "train-udc", "--help"], true),
        case(&["ddp", "deep", "--help"], false),
        case(&["align", "trainers", "--format", "json"], true),
    ]);
    Ok(cases)
}

/// The median of one command through one binary, with a 95% confidence
/// interval from order statistics (distribution-free).
#[derive(Debug, Serialize)]
struct Timing {
    median_ms: f64,
    ci_ms: (f64, f64),
    min_ms: f64,
    max_ms: f64,
}

#[derive(Debug, Serialize)]
struct Row {
    command: String,
    forwarded: bool,
    /// `duality` as shipped now (no libtorch; torch commands exec the
    /// companion).
    duality: Timing,
    /// `duality` built with `--features torch` (torch commands exec the
    /// companion too when that build forwards them).
    feature_build: Timing,
    /// `duality-torch` directly: the all-in-one torch build.
    torch_build: Timing,
    /// `torch_build` median / `duality` median.
    speedup: f64,
    /// Both `duality` builds under the goal (forwarded commands load
    /// libtorch by design and are reported, not judged).
    meets_goal: bool,
}

#[derive(Debug, Serialize)]
struct Report {
    profile: String,
    repetitions: usize,
    goal_ms: f64,
    duality_needed: Vec<String>,
    feature_build_needed: Vec<String>,
    torch_build_needed: Vec<String>,
    rows: Vec<Row>,
}

/// Builds both binaries, times every case and writes the report.
pub fn run(args: &BenchArgs, env: &[(String, String)]) -> anyhow::Result<()> {
    let profile = if args.quick { "dev" } else { "release" };
    let repetitions = if args.quick { 5 } else { 21 };
    let dir = cmd::target_dir().join(if args.quick { "debug" } else { "release" });
    let exe = |name: &str| dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let out = cmd::target_dir().join("duality-bench").join(SUITE);
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    // `duality --features torch` first, copied aside: the plain build
    // below writes the same path.
    let featured = out.join(format!(
        "duality-features-torch{}",
        std::env::consts::EXE_SUFFIX
    ));
    let mut c = cmd::cargo();
    c.args(["build", "--quiet", "--profile", profile, "-p", "duality"])
        .args(["--features", "torch"]);
    cmd::run_with_env(c, env)?;
    std::fs::copy(exe("duality"), &featured).with_context(|| {
        format!(
            "cannot copy the torch-feature build to {}",
            featured.display()
        )
    })?;
    for package in ["duality", "duality-torch"] {
        let mut c = cmd::cargo();
        c.args(["build", "--quiet", "--profile", profile, "-p", package]);
        cmd::run_with_env(c, env)?;
    }
    let front = exe("duality");
    let torch = exe("duality-torch");
    // One untimed call each first: page cache warm for all three.
    for binary in [&front, &featured, &torch] {
        call(binary, &torch, &["--version".to_string()])?;
    }
    let mut rows = Vec::new();
    for case in cases(&front)? {
        let mut a = Vec::with_capacity(repetitions);
        let mut f = Vec::with_capacity(repetitions);
        let mut b = Vec::with_capacity(repetitions);
        for _ in 0..repetitions {
            a.push(call(&front, &torch, &case.args)?);
            f.push(call(&featured, &torch, &case.args)?);
            b.push(call(&torch, &torch, &case.args)?);
        }
        let duality = timing(a);
        let feature_build = timing(f);
        let torch_build = timing(b);
        rows.push(Row {
            command: format!("duality {}", case.args.join(" ")),
            forwarded: case.forwarded,
            speedup: torch_build.median_ms / duality.median_ms,
            meets_goal: duality.median_ms < GOAL_MS && feature_build.median_ms < GOAL_MS,
            duality,
            feature_build,
            torch_build,
        });
    }
    let report = Report {
        profile: profile.to_string(),
        repetitions,
        goal_ms: GOAL_MS,
        duality_needed: needed(&front),
        feature_build_needed: needed(&featured),
        torch_build_needed: needed(&torch),
        rows,
    };
    let md = markdown(&report);
    write_atomic(&out.join("startup.md"), &md)?;
    write_atomic(
        &out.join("startup.json"),
        &serde_json::to_string_pretty(&report)?,
    )?;
    println!("{md}");
    eprintln!("start-up report: {}", out.join("startup.md").display());
    Ok(())
}

/// Wall time of one process (spawn to exit) in milliseconds; output
/// discarded. A failing command is an error: the cases all succeed.
fn call(binary: &Path, companion: &Path, args: &[String]) -> anyhow::Result<f64> {
    let start = Instant::now();
    let status = Command::new(binary)
        .args(args)
        .env("DUALITY_TORCH", companion)
        .env("DUALITY_NO_PROGRESS", "1")
        .env_remove("DUALITY_FORWARDED")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("cannot run {}", binary.display()))?;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    anyhow::ensure!(
        status.success(),
        "{} {} failed ({status})",
        binary.display(),
        args.join(" ")
    );
    Ok(ms)
}

/// Median with the distribution-free 95% interval: the order statistics
/// of ranks j, k with P(j <= rank of the median <= k) >= 0.95 under
/// Binomial(n, 1/2) (normal approximation, at least the extremes).
fn timing(mut ms: Vec<f64>) -> Timing {
    ms.sort_by(f64::total_cmp);
    let n = ms.len();
    let median = if n % 2 == 1 {
        ms[n / 2]
    } else {
        0.5 * (ms[n / 2 - 1] + ms[n / 2])
    };
    let half = 1.96 * (n as f64).sqrt() / 2.0;
    let lo = ((n as f64 / 2.0 - half).floor().max(1.0) as usize).min(n) - 1;
    let hi = ((n as f64 / 2.0 + half).ceil() as usize).clamp(1, n) - 1;
    Timing {
        median_ms: median,
        ci_ms: (ms[lo], ms[hi]),
        min_ms: ms[0],
        max_ms: ms[n - 1],
    }
}

/// The `DT_NEEDED` entries of `binary` (empty when `readelf` is missing).
fn needed(binary: &Path) -> Vec<String> {
    let Ok(out) = Command::new("readelf").arg("-d").arg(binary).output() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| Some(l[l.find('[')? + 1..l.rfind(']')?].to_string()))
        .collect()
}

fn markdown(r: &Report) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "## CLI start-up (a process per call)\n");
    let _ = writeln!(
        s,
        "{} profile, {} calls per command and binary, alternating; median and 95% CI \
         of the median (ms). DT_NEEDED of `duality`: {}; of `duality` built with \
         `--features torch`: {}; of the torch build (`duality-torch`, every command in \
         process): {}. Commands marked `exec` need libtorch: `duality` replaces itself \
         with `duality-torch`. Goal: under {} ms for every command that does not train, \
         in both `duality` builds.\n",
        r.profile,
        r.repetitions,
        r.duality_needed.join(", "),
        r.feature_build_needed.join(", "),
        r.torch_build_needed.join(", "),
        r.goal_ms
    );
    let _ = writeln!(
        s,
        "| command | `duality` | `duality --features torch` | torch build | torch build / `duality` | goal |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for row in &r.rows {
        let goal = match (row.forwarded, row.meets_goal) {
            (true, _) => "loads libtorch (exec)",
            (false, true) => "met",
            (false, false) => "missed",
        };
        let _ = writeln!(
            s,
            "| `{}`{} | {} | {} | {} | {:.1}x | {goal} |",
            row.command,
            if row.forwarded { " (exec)" } else { "" },
            fmt(&row.duality),
            fmt(&row.feature_build),
            fmt(&row.torch_build),
            row.speedup,
        );
    }
    s
}

fn fmt(t: &Timing) -> String {
    format!("{:.1} [{:.1}, {:.1}]", t.median_ms, t.ci_ms.0, t.ci_ms.1)
}

/// Writes `text` to a temporary file beside `path`, then renames it over.
fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp: PathBuf = path.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot rename onto {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_interval_brackets_the_median() {
        let t = timing((1..=21).map(f64::from).collect());
        assert_eq!(t.median_ms, 11.0);
        assert!(t.ci_ms.0 <= 11.0 && t.ci_ms.1 >= 11.0);
        assert_eq!((t.min_ms, t.max_ms), (1.0, 21.0));
        let t = timing(vec![3.0, 1.0, 2.0, 4.0, 5.0]);
        assert_eq!(t.median_ms, 3.0);
        assert_eq!(t.ci_ms, (1.0, 5.0));
        let t = timing(vec![2.0]);
        assert_eq!((t.median_ms, t.ci_ms), (2.0, (2.0, 2.0)));
    }
}
