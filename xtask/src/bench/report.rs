//! The bench report: `results.json` (every number), `report.md`, and a
//! self-contained `report.html` with the SVG figures inlined.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::cells::{self, Cell};
use super::harness::{self, BenchResults, ExperimentResult};
use super::machine;

/// Writes the report into `dir`, copies it to `<base>/latest`, prints where.
pub fn publish(results: &BenchResults, dir: &Path, base: &Path) -> anyhow::Result<()> {
    write(results, dir)?;
    let latest = base.join("latest");
    replace_dir(dir, &latest)?;
    println!("report: {}", latest.join("report.md").display());
    Ok(())
}

/// Writes `results.json`, `report.md` and `report.html` into `dir`.
pub fn write(results: &BenchResults, dir: &Path) -> anyhow::Result<()> {
    let write = |name: &str, text: String| {
        duality_core::files::write_atomic(dir.join(name), text)
            .with_context(|| format!("cannot write {}", dir.join(name).display()))
    };
    write(
        "results.json",
        serde_json::to_string_pretty(results)? + "\n",
    )?;
    let md = markdown(results);
    write("report.html", html(&md, dir))?;
    write("report.md", md)?;
    Ok(())
}

/// `cargo xtask bench merge PATH...`: combines result cells (files or
/// folders of them, as `--results-dir` collects them) and whole report
/// folders into one report. Cells computed twice (a retried task) count once;
/// cells computed under different settings, parameters or code are an error
/// naming the difference; experiments of the grid that no cell covers are
/// listed, and are an error unless `partial`. Returns the merged results.
pub fn merge(paths: &[PathBuf], partial: bool, base: &Path) -> anyhow::Result<BenchResults> {
    if paths.is_empty() {
        bail!("merge needs at least one cell file or folder");
    }
    // (cell, folder its figures are in)
    let mut found: Vec<(Cell, PathBuf)> = Vec::new();
    let mut reports: Vec<(BenchResults, PathBuf)> = Vec::new();
    // Folders that may hold seed cells of unfinished experiments.
    let mut seed_dirs: Vec<PathBuf> = Vec::new();
    for p in paths {
        if p.is_dir() && p.join("results.json").exists() {
            let path = p.join("results.json");
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let r: BenchResults = serde_json::from_str(&text)
                .with_context(|| format!("malformed {}", path.display()))?;
            if p.join("cells").is_dir() {
                seed_dirs.push(p.join("cells"));
            }
            reports.push((r, p.clone()));
        } else if p.is_dir() {
            let files = cells::list(p)?;
            let seeds = cells::list_seeds(p)?;
            if files.is_empty() && seeds.is_empty() {
                bail!(
                    "{} holds no result cells (*__*-<hash>.json or seed cells *.cbor)",
                    p.display()
                );
            }
            for f in files {
                found.push((cells::read(&f)?, p.clone()));
            }
            seed_dirs.push(p.clone());
        } else {
            let folder = p.parent().map(Path::to_path_buf).unwrap_or_default();
            found.push((cells::read(p)?, folder));
        }
    }

    // Seed cells, grouped by experiment: (template key, seeds asked, grid).
    let mut seed_groups: BTreeMap<String, (cells::SeedCellKey, usize, Vec<String>)> =
        BTreeMap::new();
    for dir in &seed_dirs {
        for f in cells::list_seeds(dir)? {
            let cell = cells::read_seed(&f)?;
            let key = cell.key()?;
            let id = format!("{}/{}", key.suite, key.experiment);
            let template = cells::SeedCellKey { index: 0, ..key };
            match seed_groups.get_mut(&id) {
                Some((t, seeds, _)) if *t == template => *seeds = (*seeds).max(cell.seeds),
                Some((t, _, _)) => bail!(
                    "{id}: seed cells under different settings ({} with {} / quick {} / code {} \
                     against {} / quick {} / code {}): shards must share settings",
                    f.display(),
                    template.seed,
                    template.quick,
                    template.version,
                    t.seed,
                    t.quick,
                    t.version
                ),
                None => {
                    seed_groups.insert(id, (template, cell.seeds, cell.grid));
                }
            }
        }
    }

    // Settings shared by every cell: the first one's.
    let reference = found
        .first()
        .map(|(c, _)| {
            (
                c.key.seed,
                c.key.quick,
                c.key.version.clone(),
                c.machine.clone(),
            )
        })
        .or_else(|| {
            seed_groups.values().next().map(|(t, _, _)| {
                (
                    t.seed,
                    t.quick,
                    t.version.clone(),
                    machine::Machine::detect(),
                )
            })
        });
    let mut by_id: BTreeMap<String, (Cell, PathBuf)> = BTreeMap::new();
    let mut grid: Vec<String> = Vec::new();
    for (cell, folder) in found {
        let (seed, quick, version, _) = reference.clone().expect("non-empty");
        let k = &cell.key;
        let id = format!("{}/{}", k.suite, k.experiment);
        if (k.seed, k.quick, &k.version) != (seed, quick, &version) {
            bail!(
                "{id} was computed with seed {} / quick {} / code {}, unlike the first cell \
                 (seed {seed} / quick {quick} / code {version}): shards must share settings",
                k.seed,
                k.quick,
                k.version
            );
        }
        for g in &cell.grid {
            if !grid.contains(g) {
                grid.push(g.clone());
            }
        }
        match by_id.get(&id) {
            Some((prev, _)) if prev.key == cell.key => {} // a retried task: same numbers
            Some((prev, _)) => bail!(
                "{id} appears with different parameters or seed counts: {} seed(s) with {} \
                 against {} seed(s) with {}",
                prev.key.seeds,
                prev.key.params,
                k.seeds,
                k.params
            ),
            None => {
                by_id.insert(id, (cell, folder));
            }
        }
    }

    let out_dir = base.join(format!("{}-merged", machine::timestamp()));
    std::fs::create_dir_all(&out_dir)?;
    // Experiments no shard could finish alone: run their summary code over
    // the seed cells every shard wrote.
    let mut finished: BTreeMap<String, ExperimentResult> = BTreeMap::new();
    let mut unfinished: Vec<String> = Vec::new();
    for (id, (template, seeds, cell_grid)) in &seed_groups {
        if let Some((seed, quick, version, _)) = &reference {
            if (template.seed, template.quick, &template.version) != (*seed, *quick, version) {
                bail!(
                    "seed cells of {id} were computed with seed {} / quick {} / code {}, unlike \
                     the other cells (seed {seed} / quick {quick} / code {version})",
                    template.seed,
                    template.quick,
                    template.version
                );
            }
        }
        for g in cell_grid {
            if !grid.contains(g) {
                grid.push(g.clone());
            }
        }
        let done = by_id.contains_key(id)
            || reports.iter().any(|(r, _)| {
                r.experiments
                    .iter()
                    .any(|e| format!("{}/{}", e.suite, e.name) == *id)
            });
        if done {
            continue;
        }
        match harness::finish_from_seed_cells(template, *seeds, cell_grid, &seed_dirs, &out_dir)? {
            Ok(result) => {
                println!("{id}: finished from {seeds} seed cell(s)");
                finished.insert(id.clone(), result);
            }
            Err(p) => unfinished.push(format!("{id} (seeds {:?} missing)", p.pending)),
        }
    }

    let mut merged: Option<BenchResults> = None;
    if let Some((seed, quick, _, machine)) = reference {
        let mut experiments = Vec::new();
        // Registry (grid) order, so the report reads as a single run's.
        let mut ids: Vec<&String> = by_id.keys().chain(finished.keys()).collect();
        ids.sort_by_key(|id| grid.iter().position(|g| g == *id).unwrap_or(usize::MAX));
        for id in ids {
            if let Some(result) = finished.get(id) {
                experiments.push(result.clone());
                continue;
            }
            let (cell, folder) = &by_id[id];
            for f in &cell.result.outcome.figures {
                let _ = std::fs::copy(folder.join(&f.file), out_dir.join(&f.file));
            }
            experiments.push(cell.result.clone());
        }
        let mut suites: Vec<(String, usize)> = Vec::new();
        for e in &experiments {
            match suites.iter_mut().find(|(s, _)| *s == e.suite) {
                Some((_, n)) => *n += 1,
                None => suites.push((e.suite.clone(), 1)),
            }
        }
        let seeds = by_id
            .values()
            .map(|(c, _)| c.key.seeds)
            .chain(seed_groups.values().map(|g| g.1))
            .max()
            .unwrap_or(0);
        merged = Some(BenchResults {
            machine,
            seed,
            quick,
            seeds,
            suites,
            compare: false,
            shard: None,
            micro: Vec::new(),
            experiments,
            failures: Vec::new(),
            pending: Vec::new(),
            adaptive: Vec::new(),
        });
    }
    for (r, dir) in reports {
        for e in &r.experiments {
            for f in &e.outcome.figures {
                let _ = std::fs::copy(dir.join(&f.file), out_dir.join(&f.file));
            }
        }
        match &mut merged {
            None => merged = Some(r),
            Some(m) => {
                if m.seed != r.seed || m.quick != r.quick {
                    bail!(
                        "{} was run with seed {} / quick {}, unlike the others (seed {} / \
                         quick {}): shards must share settings",
                        dir.display(),
                        r.seed,
                        r.quick,
                        m.seed,
                        m.quick
                    );
                }
                for e in r.experiments {
                    if !m
                        .experiments
                        .iter()
                        .any(|x| x.suite == e.suite && x.name == e.name)
                    {
                        match m.suites.iter_mut().find(|(s, _)| *s == e.suite) {
                            Some((_, n)) => *n += 1,
                            None => m.suites.push((e.suite.clone(), 1)),
                        }
                        m.experiments.push(e);
                    }
                }
                m.failures.extend(r.failures);
            }
        }
    }
    let mut m = merged.expect("at least one input");
    let missing: Vec<&String> = grid
        .iter()
        .filter(|g| {
            !m.experiments
                .iter()
                .any(|e| format!("{}/{}", e.suite, e.name) == **g)
        })
        .collect();
    m.shard = Some(format!(
        "merged: {} experiment(s) from {} input(s){}",
        m.experiments.len(),
        paths.len(),
        if missing.is_empty() {
            String::new()
        } else {
            format!(", {} missing", missing.len())
        }
    ));
    if !missing.is_empty() {
        let list: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        if !unfinished.is_empty() {
            println!(
                "unfinished (some seed cells missing): {}",
                unfinished.join(", ")
            );
        }
        if !partial {
            bail!(
                "{} experiment(s) of the grid have no result yet: {} (re-run their shards, or \
                 merge with --partial)",
                list.len(),
                list.join(", ")
            );
        }
        println!("missing (merged anyway, --partial): {}", list.join(", "));
    }
    publish(&m, &out_dir, base)?;
    if !m.failures.is_empty() {
        let ids: Vec<&str> = m.failures.iter().map(|(id, _)| id.as_str()).collect();
        bail!(
            "the merged shards carry {} failed experiment(s): {}",
            ids.len(),
            ids.join(", ")
        );
    }
    Ok(m)
}

/// `--adaptive`: seeds used per experiment, and the total against the fixed
/// counts.
fn adaptive_section(s: &mut String, r: &BenchResults) {
    if r.adaptive.is_empty() {
        return;
    }
    let used: usize = r.adaptive.iter().map(|a| a.seeds).sum();
    let fixed: usize = r.adaptive.iter().map(|a| a.fixed).sum();
    let _ = writeln!(s, "## Adaptive seeds (AdaStop stages)\n");
    let _ = writeln!(
        s,
        "{used} seed(s) in all against {fixed} with the fixed counts: {} saved ({:+.0}%). \
         Each (task, metric) is its own AdaStop study at level 0.05; studies are not \
         corrected against each other.\n",
        fixed as i64 - used as i64,
        100.0 * (used as f64 - fixed as f64) / fixed.max(1) as f64
    );
    let _ = writeln!(
        s,
        "| experiment | seeds | fixed | why |\n|---|---:|---:|---|"
    );
    for a in &r.adaptive {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            a.experiment,
            a.seeds,
            a.fixed,
            escape(&a.reason)
        );
    }
    let _ = writeln!(s);
}

fn markdown(r: &BenchResults) -> String {
    let mut s = String::new();
    machine_section(&mut s, r);
    overview_section(&mut s, r);
    adaptive_section(&mut s, r);
    for e in &r.experiments {
        experiment_section(&mut s, e);
    }
    peer_section(&mut s, r);
    micro_section(&mut s, r);
    s
}

/// Title, the machine table and how to read the report.
fn machine_section(s: &mut String, r: &BenchResults) {
    let m = &r.machine;
    let _ = writeln!(s, "# duality bench report\n");
    let _ = writeln!(
        s,
        "| machine | |\n|---|---|\n| CPU | {} ({} cores) |\n| OS | {} |\n| rustc | {} |\n\
         | libtorch | {} |\n| commit | {}{} |\n| time (UTC) | {} |\n| mode | {}, {} seed(s), master seed {}{} |\n",
        m.cpu,
        m.cores,
        m.os,
        m.rustc,
        m.libtorch,
        m.commit,
        if m.dirty { " (dirty)" } else { "" },
        m.timestamp,
        if r.quick { "quick" } else { "full" },
        r.seeds,
        r.seed,
        r.shard
            .as_ref()
            .map(|sh| format!(", shard {sh}"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        s,
        "How to read it: each experiment states its claim; tables summarise every \
         (task, algorithm, metric) over seeds as mean and interquartile mean with 95% \
         stratified-bootstrap CIs (duality-eval, 2,000 replicates); P(X > Y) rows give \
         the probability that a run of X scores higher than a run of Y; headline numbers are the ones checked \
         against the committed snapshot; peer ratios are duality time / peer time on \
         the same input (below 1 means duality is faster).\n"
    );
}

/// Suites, failures and the per-experiment time table.
fn overview_section(s: &mut String, r: &BenchResults) {
    let _ = writeln!(s, "## Suites\n");
    for (name, n) in &r.suites {
        let what = if *n == 0 {
            "no experiments registered yet".to_string()
        } else {
            format!("{n} experiment(s)")
        };
        let _ = writeln!(s, "- `{name}`: {what}");
    }
    s.push('\n');
    if !r.failures.is_empty() {
        let _ = writeln!(
            s,
            "**{} experiment(s) FAILED** and have no results below; the run exited non-zero:\n",
            r.failures.len()
        );
        for (id, err) in &r.failures {
            let _ = writeln!(s, "- `{id}`: {err}");
        }
        s.push('\n');
    }
    if !r.experiments.is_empty() {
        let _ = writeln!(
            s,
            "| experiment | seconds | peak memory (MB) | headlines | figures |\n|---|---|---|---|---|"
        );
        for e in &r.experiments {
            let _ = writeln!(
                s,
                "| {}/{} | {:.1} | {} | {} | {} |",
                e.suite,
                e.name,
                e.seconds,
                e.peak_memory_mb
                    .map(|m| format!("{m:.0}"))
                    .unwrap_or_else(|| "-".into()),
                e.outcome.headlines.len(),
                e.outcome.figures.len()
            );
        }
        s.push('\n');
    }
}

/// One experiment: claim, run time, parameters, notes, headlines, the
/// summary and P(X > Y) tables, figures.
fn experiment_section(s: &mut String, e: &ExperimentResult) {
    let _ = writeln!(s, "## {} / {}\n", e.suite, e.name);
    let _ = writeln!(s, "{}\n", e.about);
    match e.peak_memory_mb {
        Some(mb) => {
            let _ = writeln!(s, "Run time: {:.1} s, peak memory {mb:.0} MB\n", e.seconds);
        }
        None => {
            let _ = writeln!(s, "Run time: {:.1} s\n", e.seconds);
        }
    }
    if let Some(params) = e.params.as_object().filter(|p| !p.is_empty()) {
        let line: Vec<String> = params.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        let _ = writeln!(s, "Parameters: `{}`\n", line.join(", "));
    }
    for note in &e.outcome.notes {
        let _ = writeln!(s, "> {note}\n");
    }
    if !e.outcome.headlines.is_empty() {
        let _ = writeln!(s, "| headline | value |\n|---|---|");
        for h in &e.outcome.headlines {
            let _ = writeln!(s, "| {} | {:.*} |", h.name, h.digits as usize, h.value);
        }
        s.push('\n');
    }
    if !e.summary.is_empty() {
        let _ = writeln!(
            s,
            "| task | algorithm | metric | n | mean [95% CI] | IQM [95% CI] | std |\n\
             |---|---|---|---|---|---|---|"
        );
        for row in &e.summary {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                row.task,
                row.algorithm,
                row.metric,
                row.n,
                with_ci(row.mean, row.mean_ci),
                with_ci(row.iqm, row.iqm_ci),
                num(row.std)
            );
        }
        s.push('\n');
    }
    if !e.improvements.is_empty() {
        let _ = writeln!(
            s,
            "| task | metric | P(X > Y) | X | Y | 95% CI |\n|---|---|---|---|---|---|"
        );
        for p in &e.improvements {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | [{}, {}] |",
                p.task,
                p.metric,
                num(p.estimate),
                p.x,
                p.y,
                num(p.ci.0),
                num(p.ci.1)
            );
        }
        s.push('\n');
    }
    for f in &e.outcome.figures {
        let _ = writeln!(s, "![{}]({})\n", f.title, f.file);
    }
}

/// The peer-comparison table (or why there is none).
fn peer_section(s: &mut String, r: &BenchResults) {
    let _ = writeln!(s, "## Peer comparisons\n");
    let all: Vec<_> = r.experiments.iter().flat_map(|e| &e.comparisons).collect();
    if !r.compare {
        let _ = writeln!(
            s,
            "Not run: pass `--compare` (after `cargo xtask peers`) to time the Python \
             reference libraries on the same inputs.\n"
        );
    } else if all.is_empty() {
        let _ = writeln!(
            s,
            "`--compare` was given, but no selected experiment defines a peer.\n"
        );
    } else {
        let _ = writeln!(
            s,
            "| experiment | comparison | peer | reps | duality/peer time (median) | range | max abs diff | max rel diff | status |\n\
             |---|---|---|---|---|---|---|---|---|"
        );
        for c in all {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                c.experiment,
                c.name,
                c.peer,
                c.duality_seconds.len(),
                c.ratio_median.map(num).unwrap_or_else(|| "-".into()),
                c.ratio_range
                    .map(|(a, b)| format!("{} - {}", num(a), num(b)))
                    .unwrap_or_else(|| "-".into()),
                c.max_abs_diff
                    .map(|d| format!("{d:.2e}"))
                    .unwrap_or_else(|| "-".into()),
                c.max_rel_diff()
                    .map(|d| format!("{:.3}%", 100.0 * d))
                    .unwrap_or_else(|| "-".into()),
                c.skipped
                    .as_ref()
                    .map(|w| format!("skipped: {w}"))
                    .unwrap_or_else(|| "ran".into()),
            );
        }
        s.push('\n');
    }
}

/// Criterion micro-benchmarks, when any were collected.
fn micro_section(s: &mut String, r: &BenchResults) {
    if !r.micro.is_empty() {
        let _ = writeln!(
            s,
            "## Micro-benchmarks (criterion)\n\n| benchmark | mean | 95% CI |\n|---|---|---|"
        );
        for b in &r.micro {
            let _ = writeln!(
                s,
                "| {} | {} | {} - {} |",
                b.id,
                duration(b.mean_ns),
                duration(b.mean_ci_ns.0),
                duration(b.mean_ci_ns.1)
            );
        }
        s.push('\n');
    }
}

fn with_ci(x: f64, ci: Option<(f64, f64)>) -> String {
    match ci {
        Some((lo, hi)) => format!("{} [{}, {}]", num(x), num(lo), num(hi)),
        None => num(x),
    }
}

fn num(x: f64) -> String {
    if x == 0.0 || (1e-3..1e6).contains(&x.abs()) {
        format!("{x:.4}")
    } else {
        format!("{x:.3e}")
    }
}

fn duration(ns: f64) -> String {
    match ns {
        n if n < 1e3 => format!("{n:.1} ns"),
        n if n < 1e6 => format!("{:.2} us", n / 1e3),
        n if n < 1e9 => format!("{:.2} ms", n / 1e6),
        n => format!("{:.2} s", n / 1e9),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Inline code spans (`x`) to <code>.
fn inline(text: &str) -> String {
    let escaped = escape(text);
    let mut out = String::new();
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// Renders the subset of Markdown that [`markdown`] produces, inlining SVG
/// figures from `dir` so the page is self-contained.
fn html(md: &str, dir: &Path) -> String {
    let mut body = String::new();
    let mut in_table = false;
    let mut in_list = false;
    for line in md.lines() {
        let is_row = line.starts_with('|');
        if in_table && !is_row {
            body.push_str("</table>\n");
            in_table = false;
        }
        let is_item = line.starts_with("- ");
        if in_list && !is_item {
            body.push_str("</ul>\n");
            in_list = false;
        }
        if let Some(h) = line.strip_prefix("# ") {
            let _ = writeln!(body, "<h1>{}</h1>", inline(h));
        } else if let Some(h) = line.strip_prefix("## ") {
            let _ = writeln!(body, "<h2>{}</h2>", inline(h));
        } else if is_row {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            if cells.iter().all(|c| c.chars().all(|ch| ch == '-')) {
                continue;
            }
            if !in_table {
                body.push_str("<table>\n");
                in_table = true;
                let _ = writeln!(
                    body,
                    "<tr>{}</tr>",
                    cells
                        .iter()
                        .map(|c| format!("<th>{}</th>", inline(c)))
                        .collect::<String>()
                );
                continue;
            }
            let _ = writeln!(
                body,
                "<tr>{}</tr>",
                cells
                    .iter()
                    .map(|c| format!("<td>{}</td>", inline(c)))
                    .collect::<String>()
            );
        } else if let Some(q) = line.strip_prefix("> ") {
            let _ = writeln!(body, "<blockquote>{}</blockquote>", inline(q));
        } else if let Some(item) = line.strip_prefix("- ") {
            if !in_list {
                body.push_str("<ul>\n");
                in_list = true;
            }
            let _ = writeln!(body, "<li>{}</li>", inline(item));
        } else if let Some(rest) = line.strip_prefix("![") {
            let (title, file) = rest
                .split_once("](")
                .map(|(t, f)| (t, f.trim_end_matches(')')))
                .unwrap_or((rest, ""));
            let svg = std::fs::read_to_string(dir.join(file))
                .map(|s| match s.find("<svg") {
                    Some(i) => s[i..].to_string(),
                    None => s,
                })
                .unwrap_or_else(|_| format!("<p>(missing figure {})</p>", escape(file)));
            let _ = writeln!(
                body,
                "<figure>{svg}<figcaption>{}</figcaption></figure>",
                inline(title)
            );
        } else if !line.trim().is_empty() {
            let _ = writeln!(body, "<p>{}</p>", inline(line));
        }
    }
    if in_table {
        body.push_str("</table>\n");
    }
    if in_list {
        body.push_str("</ul>\n");
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>duality bench report</title><style>\
         body{{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}}\
         table{{border-collapse:collapse;margin:1em 0;font-size:0.9em}}\
         td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left}}\
         th{{background:#f3f3f3}}blockquote{{border-left:4px solid #7a9;margin:0.5em 0;padding:0.2em 1em;background:#f6fbf8}}\
         figure{{margin:1em 0}}figcaption{{color:#555;font-size:0.9em}}code{{background:#f3f3f3;padding:0 3px}}\
         </style></head><body>\n{body}</body></html>\n"
    )
}

fn replace_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    // Built beside the target and renamed into place, so that shards of an
    // array finishing together never see (or leave) a half-copied `latest`.
    let staging = to.with_file_name(format!(
        "{}.tmp-{}",
        to.file_name().and_then(|n| n.to_str()).unwrap_or("latest"),
        std::process::id()
    ));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(&staging)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.path().is_file() {
            std::fs::copy(entry.path(), staging.join(entry.file_name()))?;
        }
    }
    for _ in 0..3 {
        if to.is_symlink() || to.is_file() {
            let _ = std::fs::remove_file(to);
        } else if to.exists() {
            // Another process may remove it first: that is fine.
            let _ = std::fs::remove_dir_all(to);
        }
        if std::fs::rename(&staging, to).is_ok() {
            return Ok(());
        }
    }
    std::fs::rename(&staging, to)
        .with_context(|| format!("cannot move {} to {}", staging.display(), to.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_renders_tables_quotes_and_inlines_svg() {
        let dir = std::env::temp_dir().join(format!("xtask-html-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("f.svg"),
            "<?xml version=\"1.0\"?><svg id=\"x\"></svg>",
        )
        .unwrap();
        let md = "# T\n\n| a | b |\n|---|---|\n| 1 | `x<y` |\n\n> claim held\n\n![Fig](f.svg)\n";
        let page = html(md, &dir);
        assert!(page.contains("<th>a</th>"));
        assert!(page.contains("<td><code>x&lt;y</code></td>"));
        assert!(page.contains("<blockquote>claim held</blockquote>"));
        assert!(page.contains("<svg id=\"x\"></svg>"));
        assert!(!page.contains("<?xml"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
