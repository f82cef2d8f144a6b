//! Regression snapshots of the headline numbers, as insta snapshots.
//!
//! One file per experiment, `fixtures/bench/snapshots/<mode>/<suite>__<experiment>.snap`
//! (`mode` is `quick` or `full`), holding `name = value` lines rounded to
//! the digits each headline declares stable for a fixed seed.
//!
//! - `--check` asserts each experiment's lines with `insta::assert_snapshot!`,
//!   so a moved number prints insta's diff. Outside CI insta also leaves a
//!   `.snap.new` beside the old file, which `cargo insta review` (or
//!   `cargo insta accept`) turns into the new snapshot; in CI nothing is
//!   written and the check fails.
//! - `--bless` writes the files directly (in insta's format), which is the
//!   same as accepting every pending change of the run.
//!
//! A partial run (`--suite`, `--experiment`, `--shard`) touches only its own
//! experiments; a whole run also reports (on `--check`) or deletes (on
//! `--bless`) the files of experiments that no longer exist.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

use duality_bench::Headline;

use super::harness::BenchResults;
use crate::cmd;

/// Where the snapshots of a mode live.
pub fn dir(quick: bool) -> PathBuf {
    cmd::workspace_root()
        .join("fixtures/bench/snapshots")
        .join(if quick { "quick" } else { "full" })
}

/// The snapshot name of an experiment (file stem).
fn name(suite: &str, experiment: &str) -> String {
    format!("{suite}__{experiment}")
}

/// The snapshot text: one `name = value` line per headline, sorted by name.
pub fn render(headlines: &[Headline]) -> String {
    let mut lines: Vec<String> = headlines
        .iter()
        .map(|h| format!("{} = {:.*}", h.name, h.digits as usize, h.value))
        .collect();
    lines.sort();
    lines.join("\n")
}

/// The experiments of a run that have headlines: (snapshot name, text).
fn current(results: &BenchResults) -> Vec<(String, String)> {
    results
        .experiments
        .iter()
        .filter(|e| !e.outcome.headlines.is_empty())
        .map(|e| (name(&e.suite, &e.name), render(&e.outcome.headlines)))
        .collect()
}

/// Snapshot names of the experiments a run covered (with or without headlines).
fn covered(results: &BenchResults) -> BTreeSet<String> {
    results
        .experiments
        .iter()
        .map(|e| name(&e.suite, &e.name))
        .collect()
}

/// Existing `.snap` files in `dir`, by stem.
fn existing(dir: &Path) -> anyhow::Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    if !dir.exists() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "snap") {
            if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                out.insert(stem.to_string());
            }
        }
    }
    Ok(out)
}

/// The file insta would write for `text` (header, then the content).
fn snap_file(snapshot: &str, quick: bool, text: &str) -> String {
    format!(
        "---\nsource: xtask/src/bench/snapshot.rs\ndescription: \"headline numbers of {} in {} mode (cargo xtask bench{})\"\n---\n{text}\n",
        snapshot.replacen("__", "/", 1),
        if quick { "quick" } else { "full" },
        if quick { " --quick" } else { "" },
    )
}

/// `--bless`: writes the run's snapshots.
pub fn bless(results: &BenchResults, partial: bool) -> anyhow::Result<()> {
    let dir = dir(results.quick);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let current = current(results);
    let keep: BTreeSet<String> = current.iter().map(|(n, _)| n.clone()).collect();
    for (snapshot, text) in &current {
        let path = dir.join(format!("{snapshot}.snap"));
        std::fs::write(&path, snap_file(snapshot, results.quick, text))
            .with_context(|| format!("cannot write {}", path.display()))?;
        let _ = std::fs::remove_file(dir.join(format!("{snapshot}.snap.new")));
    }
    // Experiments the run covered that no longer have headlines, and (for a
    // whole run) experiments that no longer exist, lose their files.
    let covered = covered(results);
    for stale in existing(&dir)?
        .into_iter()
        .filter(|s| !keep.contains(s) && (!partial || covered.contains(s)))
    {
        std::fs::remove_file(dir.join(format!("{stale}.snap")))?;
        println!("snapshot removed: {stale}");
    }
    println!(
        "snapshots written: {} experiment(s) in {}",
        current.len(),
        dir.display()
    );
    Ok(())
}

/// `--check`: asserts the run's headlines against the snapshots with insta.
pub fn check(results: &BenchResults, partial: bool) -> anyhow::Result<()> {
    let dir = dir(results.quick);
    let current = current(results);
    let mut problems = Vec::new();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(&dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    // insta reports a mismatch by panicking after printing its diff; keep
    // the default panic message out of the way and collect the failures.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    settings.bind(|| {
        for (snapshot, text) in &current {
            let outcome = std::panic::catch_unwind(|| {
                insta::assert_snapshot!(snapshot.as_str(), text.as_str());
            });
            if outcome.is_err() {
                problems.push(format!(
                    "{} moved (diff above)",
                    snapshot.replacen("__", "/", 1)
                ));
            }
        }
    });
    std::panic::set_hook(hook);
    let with_headlines: BTreeSet<String> = current.iter().map(|(n, _)| n.clone()).collect();
    let covered = covered(results);
    for stale in existing(&dir)?
        .into_iter()
        .filter(|s| !with_headlines.contains(s) && (!partial || covered.contains(s)))
    {
        problems.push(format!(
            "{} has a snapshot but no headlines in this run (experiment removed or renamed?)",
            stale.replacen("__", "/", 1)
        ));
    }
    if problems.is_empty() {
        println!(
            "bench check: {} experiment snapshot(s) match {}",
            current.len(),
            dir.display()
        );
        Ok(())
    } else {
        bail!(
            "bench check failed against {}:\n  {}\nIf the change is intended, accept it with \
             `cargo insta review` (pending .snap.new files) or re-run with --bless, and commit \
             the snapshots.",
            dir.display(),
            problems.join("\n  ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_rounds_and_sorts() {
        let h = |name: &str, value: f64, digits: u32| Headline {
            name: name.into(),
            value,
            digits,
        };
        let text = render(&[h("b", 1.23456, 2), h("a", 2.0, 0)]);
        assert_eq!(text, "a = 2\nb = 1.23");
        let file = snap_file("eval__auroc", true, &text);
        assert!(file.starts_with("---\n") && file.ends_with("---\na = 2\nb = 1.23\n"));
        assert!(file.contains("eval/auroc in quick mode"));
    }
}
