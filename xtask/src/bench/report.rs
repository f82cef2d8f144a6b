//! Writes `results.json` and `report.md` for a bench run.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;

use super::harness::BenchResults;

/// Writes the report files into `dir`.
pub fn write(results: &BenchResults, dir: &Path) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(results)?;
    std::fs::write(dir.join("results.json"), json + "\n")
        .with_context(|| format!("cannot write {}", dir.join("results.json").display()))?;
    std::fs::write(dir.join("report.md"), markdown(results))
        .with_context(|| format!("cannot write {}", dir.join("report.md").display()))?;
    Ok(())
}

fn markdown(r: &BenchResults) -> String {
    let m = &r.machine;
    let mut s = String::new();
    let _ = writeln!(s, "# duality bench report\n");
    let _ = writeln!(
        s,
        "| machine | |\n|---|---|\n| CPU | {} ({} cores) |\n| OS | {} |\n| rustc | {} |\n\
         | libtorch | {} |\n| commit | {}{} |\n| time (UTC) | {} |\n| mode | {}, {} seed(s), master seed {} |\n",
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
        r.seed
    );
    let _ = writeln!(s, "## Suites\n");
    for (name, n) in &r.suites {
        let _ = writeln!(
            s,
            "- `{name}`: {}",
            if *n == 0 {
                "no experiments registered yet".to_string()
            } else {
                format!("{n} experiment(s)")
            }
        );
    }
    for e in &r.experiments {
        let _ = writeln!(
            s,
            "\n## {} / {}\n\n{}\n\nRun time: {:.1} s\n",
            e.suite, e.name, e.about, e.seconds
        );
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
            let _ = writeln!(s, "| task | algorithm | metric | n | mean | std | min | max |\n|---|---|---|---|---|---|---|---|");
            for row in &e.summary {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {:.4} | {:.4} | {:.4} | {:.4} |",
                    row.task, row.algorithm, row.metric, row.n, row.mean, row.std, row.min, row.max
                );
            }
            s.push('\n');
        }
        for f in &e.outcome.figures {
            let _ = writeln!(s, "![{}]({})\n", f.title, f.file);
        }
    }
    s
}
