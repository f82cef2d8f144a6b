//! The suite registry's runner: filters suites, runs experiments with a
//! seeded context, summarises records over seeds, writes the report and
//! checks the headline snapshots.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{bail, Context as _};
use duality_core::progress::Progress;
use duality_core::record::RunRecord;
use duality_core::seed::Seeder;
use duality_eval::aggregate::{self, Metric};
use duality_eval::bootstrap::StratifiedBootstrap;
use duality_eval::scores::ScoreMatrix;
use serde::{Deserialize, Serialize};

use duality_bench::{check_defaults, Context, Outcome, Overrides, PeerComparison, Suite};

use super::{cells, machine, micro, registry, report, shard, snapshot, BenchArgs};
use crate::cmd;

/// Per (task, algorithm, metric): statistics over seeds, with bootstrap CIs
/// from duality-eval (a one-task score matrix with one run per seed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Task.
    pub task: String,
    /// Algorithm.
    pub algorithm: String,
    /// Metric.
    pub metric: String,
    /// Number of seeds.
    pub n: usize,
    /// Mean over seeds.
    #[serde(deserialize_with = "duality_core::record::nan_as_null::f64")]
    pub mean: f64,
    /// 95% percentile-bootstrap CI of the mean (None for one seed).
    pub mean_ci: Option<(f64, f64)>,
    /// Interquartile mean over seeds.
    #[serde(deserialize_with = "duality_core::record::nan_as_null::f64")]
    pub iqm: f64,
    /// 95% percentile-bootstrap CI of the IQM (None for one seed).
    pub iqm_ci: Option<(f64, f64)>,
    /// Sample standard deviation over seeds (0 for one seed).
    #[serde(deserialize_with = "duality_core::record::nan_as_null::f64")]
    pub std: f64,
}

/// `P(X > Y)` over seeds for a pair an experiment asked for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImprovementRow {
    /// Task.
    pub task: String,
    /// Metric compared.
    pub metric: String,
    /// Algorithm X.
    pub x: String,
    /// Algorithm Y.
    pub y: String,
    /// Probability that a run of X scores higher than a run of Y (ties 1/2).
    #[serde(deserialize_with = "duality_core::record::nan_as_null::f64")]
    pub estimate: f64,
    /// 95% stratified-bootstrap CI.
    #[serde(deserialize_with = "duality_core::record::nan_as_null::pair")]
    pub ci: (f64, f64),
}

/// An experiment's results as stored in `results.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExperimentResult {
    /// Suite name.
    pub suite: String,
    /// Experiment name.
    pub name: String,
    /// What it measures.
    pub about: String,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Peak resident memory of the process during the experiment, in MB
    /// (Linux; the process-wide peak if the mark could not be reset).
    #[serde(default)]
    pub peak_memory_mb: Option<f64>,
    /// Summaries over seeds.
    pub summary: Vec<SummaryRow>,
    /// Probabilities of improvement between the pairs the experiment named.
    #[serde(default)]
    pub improvements: Vec<ImprovementRow>,
    /// Peer comparisons run by the experiment (`--compare`).
    #[serde(default)]
    pub comparisons: Vec<PeerComparison>,
    /// The parameters it ran with (resolved from its TOML and overrides).
    #[serde(default)]
    pub params: serde_json::Value,
    /// What the experiment returned.
    pub outcome: Outcome,
}

/// The whole run, as stored in `results.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchResults {
    /// Machine and build header.
    pub machine: machine::Machine,
    /// Master seed.
    pub seed: u64,
    /// Quick mode.
    pub quick: bool,
    /// Seeds per experiment.
    pub seeds: usize,
    /// Suites that were selected, with their experiment counts.
    pub suites: Vec<(String, usize)>,
    /// Whether peer comparisons were asked for.
    #[serde(default)]
    pub compare: bool,
    /// The shard this run covered (`I/N`), if sharded.
    #[serde(default)]
    pub shard: Option<String>,
    /// Criterion micro-benchmarks found under the target dir.
    #[serde(default)]
    pub micro: Vec<micro::MicroBench>,
    /// Results.
    pub experiments: Vec<ExperimentResult>,
    /// Experiments that failed (`suite/experiment`, the error with its
    /// causes); the run goes on without them and exits non-zero at the end.
    #[serde(default)]
    pub failures: Vec<(String, String)>,
}

/// Bootstrap replicates for the per-row CIs (n <= a few dozen seeds).
const SUMMARY_REPS: usize = 2_000;

fn group_over_seeds(records: &[RunRecord]) -> BTreeMap<(String, String, String), Vec<f64>> {
    let mut groups: BTreeMap<(String, String, String), Vec<f64>> = BTreeMap::new();
    for r in records {
        for (metric, &v) in &r.metrics {
            groups
                .entry((r.task.clone(), r.algorithm.clone(), metric.clone()))
                .or_default()
                .push(v);
        }
    }
    groups
}

/// One run per seed, one task: the shape duality-eval's bootstrap expects.
fn seed_matrix(algorithm: &str, xs: &[f64]) -> Option<ScoreMatrix> {
    let rows: Vec<Vec<f64>> = xs.iter().map(|&x| vec![x]).collect();
    ScoreMatrix::from_rows(algorithm, &rows).ok()
}

fn summarise(records: &[RunRecord], seeder: &Seeder) -> Vec<SummaryRow> {
    group_over_seeds(records)
        .into_iter()
        .enumerate()
        .map(|(i, ((task, algorithm, metric), xs))| {
            let n = xs.len();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let var = if n > 1 {
                xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64
            } else {
                0.0
            };
            let matrix = seed_matrix(&algorithm, &xs);
            let iqm = matrix.as_ref().map(aggregate::iqm).unwrap_or(f64::NAN);
            let cis = matrix.filter(|_| n > 1).and_then(|m| {
                StratifiedBootstrap::new(SUMMARY_REPS, 0.95, seeder.seed_for(i as u64))
                    .ok()?
                    .intervals(&m, &[Metric::Mean, Metric::Iqm])
                    .ok()
            });
            SummaryRow {
                task,
                algorithm,
                metric,
                n,
                mean,
                mean_ci: cis.as_ref().map(|c| (c[0].lo, c[0].hi)),
                iqm,
                iqm_ci: cis.as_ref().map(|c| (c[1].lo, c[1].hi)),
                std: var.sqrt(),
            }
        })
        .collect()
}

fn improvements(
    records: &[RunRecord],
    pairs: &[(String, String)],
    seeder: &Seeder,
) -> Vec<ImprovementRow> {
    let groups = group_over_seeds(records);
    let mut out = Vec::new();
    for ((task, algorithm, metric), xs) in &groups {
        for (x, y) in pairs.iter().filter(|(x, _)| x == algorithm) {
            let Some(ys) = groups.get(&(task.clone(), y.clone(), metric.clone())) else {
                continue;
            };
            let (Some(mx), Some(my)) = (seed_matrix(x, xs), seed_matrix(y, ys)) else {
                continue;
            };
            let seed = seeder
                .named(&format!("{task}/{metric}/{x}/{y}"))
                .seed_for(0);
            if let Ok(ci) = StratifiedBootstrap::new(SUMMARY_REPS, 0.95, seed)
                .and_then(|b| b.improvement(&mx, &my))
            {
                out.push(ImprovementRow {
                    task: task.clone(),
                    metric: metric.clone(),
                    x: x.clone(),
                    y: y.clone(),
                    estimate: ci.estimate,
                    ci: (ci.lo, ci.hi),
                });
            }
        }
    }
    out
}

fn selected(args: &BenchArgs) -> anyhow::Result<Vec<Suite>> {
    let all = registry::registry();
    for wanted in &args.suites {
        if !all.iter().any(|s| s.name == wanted) {
            let names: Vec<_> = all.iter().map(|s| s.name).collect();
            bail!(
                "no suite named {wanted:?}; registered: {}",
                names.join(", ")
            );
        }
    }
    let mut chosen: Vec<Suite> = all
        .into_iter()
        .filter(|s| args.suites.is_empty() || args.suites.iter().any(|w| w == s.name))
        .collect();
    if !args.experiments.is_empty() {
        for s in &mut chosen {
            s.experiments
                .retain(|e| args.experiments.iter().any(|w| w == e.name));
        }
        if chosen.iter().all(|s| s.experiments.is_empty()) {
            bail!(
                "no experiment named {:?} in the selected suites",
                args.experiments
            );
        }
    }
    if let Some(text) = &args.shard {
        let (i, n) = shard::resolve(text, args.shards, |k| std::env::var(k).ok())?;
        let ids = grid(&chosen);
        let costs = shard::CostTable::load(&shard::CostTable::default_path())?;
        let owner = shard::assign(&ids, costs.mode(args.quick), n);
        let mut k = 0usize;
        for s in &mut chosen {
            s.experiments.retain(|_| {
                let keep = owner[k] == i;
                k += 1;
                keep
            });
        }
        println!(
            "shard {i}/{n}: {} of {} experiment(s)",
            owner.iter().filter(|&&o| o == i).count(),
            ids.len()
        );
    }
    Ok(chosen)
}

/// `suite/experiment` of every selected experiment, in registry order.
fn grid(chosen: &[Suite]) -> Vec<String> {
    chosen
        .iter()
        .flat_map(|s| {
            s.experiments
                .iter()
                .map(move |e| format!("{}/{}", s.name, e.name))
        })
        .collect()
}

/// The full default suite should finish within this many seconds on the
/// project's 2-core machine (issue #24); `--list` warns past it.
const FULL_SUITE_BUDGET_SECS: f64 = 20.0 * 60.0;

/// `bench --list`: every selected experiment with its resolved parameters
/// and its expected time from the cost table.
fn list_experiments(chosen: &[Suite], overrides: &Overrides, quick: bool) -> anyhow::Result<()> {
    let costs = shard::CostTable::load(&shard::CostTable::default_path())?;
    let costs = costs.mode(quick);
    let mut total = 0.0;
    let mut unknown = 0usize;
    for s in chosen {
        println!("{:<10} {}", s.name, s.about);
        if s.experiments.is_empty() {
            println!("    (no experiments registered yet)");
        }
        for e in &s.experiments {
            let expected = match costs.get(&format!("{}/{}", s.name, e.name)) {
                Some(&secs) => {
                    total += secs;
                    format!("~{secs:.0}s")
                }
                None => {
                    unknown += 1;
                    "?".to_string()
                }
            };
            println!("    {:<28} {:>6}  {}", e.name, expected, e.about);
            let p = overrides.resolve(s.name, s.defaults, e.name, quick)?;
            if !p.table().is_empty() {
                println!("    {:<28} {:>6}  {}", "", "", params_line(p.table()));
            }
        }
    }
    println!(
        "expected time ({} mode, from fixtures/bench/costs.toml): {:.0}s{}",
        if quick { "quick" } else { "full" },
        total,
        if unknown > 0 {
            format!(" + {unknown} experiment(s) not measured yet")
        } else {
            String::new()
        }
    );
    if !quick && total > FULL_SUITE_BUDGET_SECS {
        println!(
            "warning: the cost table sums to {:.1} min, over the {:.0}-minute budget of the full \
             suite: shrink sizes in fixtures/bench/<suite>.toml",
            total / 60.0,
            FULL_SUITE_BUDGET_SECS / 60.0
        );
    }
    Ok(())
}

/// The console lines for one finished experiment: counts, time, memory,
/// headlines and peer timings.
fn print_outcome(
    suite: &str,
    experiment: &str,
    outcome: &Outcome,
    seconds: f64,
    peak_memory_mb: Option<f64>,
    comparisons: &[PeerComparison],
) {
    println!(
        "[{}] {}: {} record(s), {} headline(s), {} figure(s) in {:.1}s{}",
        suite,
        experiment,
        outcome.records.len(),
        outcome.headlines.len(),
        outcome.figures.len(),
        seconds,
        peak_memory_mb
            .map(|m| format!(", peak memory {m:.0} MB"))
            .unwrap_or_default()
    );
    for h in &outcome.headlines {
        println!("    {:<40} {:.*}", h.name, h.digits as usize, h.value);
    }
    for c in comparisons {
        match (&c.skipped, c.ratio_median) {
            (Some(why), _) => println!("    vs {:<20} skipped: {why}", c.peer),
            (None, Some(r)) => println!(
                "    vs {:<20} time ratio duality/peer {:.3} (median), max |diff| {}, max rel diff {}",
                c.peer,
                r,
                c.max_abs_diff
                    .map(|d| format!("{d:.2e}"))
                    .unwrap_or_else(|| "-".into()),
                c.max_rel_diff()
                    .map(|d| format!("{:.3}%", 100.0 * d))
                    .unwrap_or_else(|| "-".into())
            ),
            (None, None) => println!("    vs {:<20} no timing", c.peer),
        }
    }
}

/// Runs the selected suites and writes the report.
pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    if let Some(t) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t.max(1))
            .build_global()
            .context("cannot configure the rayon thread pool")?;
    }
    let grid_ids = grid(&selected(&BenchArgs {
        shard: None,
        ..args.clone()
    })?);
    let chosen = selected(args)?;
    let overrides = Overrides::load(args.config.as_deref(), &args.set)?;
    overrides.validate(&registry::defaults())?;
    for s in &chosen {
        // Check against the full registry, not the filtered list.
        let all: Vec<&str> = registry::registry()
            .into_iter()
            .find(|r| r.name == s.name)
            .map(|r| r.experiments.iter().map(|e| e.name).collect())
            .unwrap_or_default();
        check_defaults(s.name, s.defaults, &all, false)?;
    }
    if args.list {
        return list_experiments(&chosen, &overrides, args.quick);
    }

    let n_seeds = args.seeds.unwrap_or(if args.quick { 3 } else { 10 }).max(1);
    let root = Seeder::new(args.seed);
    let stamp = machine::timestamp();
    let base = cmd::target_dir().join("duality-bench");
    let out_dir = base.join(&stamp);
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;

    let mut results = BenchResults {
        machine: machine::Machine::detect(),
        seed: args.seed,
        quick: args.quick,
        seeds: n_seeds,
        suites: chosen
            .iter()
            .map(|s| (s.name.to_string(), s.experiments.len()))
            .collect(),
        compare: args.compare,
        shard: args.shard.clone().map(|text| {
            shard::resolve(&text, args.shards, |k| std::env::var(k).ok())
                .map(|(i, n)| format!("{i}/{n}"))
                .unwrap_or(text)
        }),
        micro: micro::collect(&cmd::target_dir()),
        experiments: Vec::new(),
        failures: Vec::new(),
    };

    // One bar for the whole run, measured in expected seconds from the cost
    // table (1 s for an experiment never measured), so its ETA is honest
    // when a long experiment comes first.
    let costs = shard::CostTable::load(&shard::CostTable::default_path())?;
    let expected = |suite: &str, exp: &str| -> u64 {
        costs
            .mode(args.quick)
            .get(&format!("{suite}/{exp}"))
            .map(|&secs| (secs * 1000.0).max(1.0) as u64)
            .unwrap_or(1000)
    };
    let total_ms: u64 = chosen
        .iter()
        .flat_map(|s| s.experiments.iter().map(|e| expected(s.name, e.name)))
        .sum();
    let progress = Progress::new(total_ms, "bench (expected seconds x 1000)");
    let results_dir = args
        .results_dir
        .clone()
        .unwrap_or_else(|| out_dir.join("cells"));
    let version = cells::code_version(&results.machine);

    for suite in &chosen {
        if suite.experiments.is_empty() {
            println!(
                "[{}] no experiments registered yet: nothing to run ({})",
                suite.name, suite.about
            );
            continue;
        }
        for exp in &suite.experiments {
            progress.set_message(format!("{}/{}", suite.name, exp.name));
            let params = overrides.resolve(suite.name, suite.defaults, exp.name, args.quick)?;
            // --seeds wins over the experiment's own `seeds`, which wins over
            // the run's default.
            let seeds = match args.seeds {
                Some(n) => n,
                None => params.get_or("seeds", n_seeds)?,
            }
            .max(1);
            let params_json = serde_json::to_value(params.table())?;
            let key = cells::CellKey {
                suite: suite.name.to_string(),
                experiment: exp.name.to_string(),
                seed: args.seed,
                quick: args.quick,
                seeds,
                params: params_json.clone(),
                version: version.clone(),
            };
            if let Some(cell) = cells::load(&results_dir, &key)? {
                // Done by an earlier (pre-empted or repeated) run: reuse it.
                println!(
                    "[{}] {}: already computed ({}), skipped",
                    suite.name,
                    exp.name,
                    results_dir.join(key.file_name()).display()
                );
                for f in &cell.result.outcome.figures {
                    let _ = std::fs::copy(results_dir.join(&f.file), out_dir.join(&f.file));
                }
                results.experiments.push(cell.result);
                progress.inc(expected(suite.name, exp.name));
                continue;
            }
            let mut ctx = Context::new(
                format!("{}/{}", suite.name, exp.name),
                params,
                (0..seeds as u64).collect(),
                root.named(suite.name).named(exp.name),
                out_dir.clone(),
                progress.clone(),
            );
            if args.compare {
                ctx = ctx.with_peers(crate::peers::python());
            }
            machine::reset_peak_memory();
            let start = Instant::now();
            let outcome = match (exp.run)(&ctx) {
                Ok(outcome) => outcome,
                Err(err) => {
                    // One broken experiment (e.g. missing input data) must
                    // not hide the others: record it, report it, go on, and
                    // fail the run at the end.
                    let id = format!("{}/{}", suite.name, exp.name);
                    println!("[{}] {}: FAILED: {err:#}", suite.name, exp.name);
                    results.failures.push((id, format!("{err:#}")));
                    progress.inc(expected(suite.name, exp.name));
                    continue;
                }
            };
            let seconds = start.elapsed().as_secs_f64();
            let peak_memory_mb = machine::peak_memory_bytes().map(|b| b as f64 / 1e6);
            let stats_seeder = ctx.seeder.named("summary");
            let summary = summarise(&outcome.records, &stats_seeder);
            let (comparisons, pairs) = ctx.into_requests();
            let improvements = improvements(&outcome.records, &pairs, &stats_seeder);
            print_outcome(
                suite.name,
                exp.name,
                &outcome,
                seconds,
                peak_memory_mb,
                &comparisons,
            );
            let result = ExperimentResult {
                suite: suite.name.to_string(),
                name: exp.name.to_string(),
                about: exp.about.to_string(),
                seconds,
                peak_memory_mb,
                summary,
                improvements,
                comparisons,
                params: params_json,
                outcome,
            };
            let cell = cells::Cell {
                key,
                grid: grid_ids.clone(),
                machine: results.machine.clone(),
                result,
            };
            cells::write(&results_dir, &cell, &out_dir)?;
            results.experiments.push(cell.result);
            progress.inc(expected(suite.name, exp.name));
        }
    }
    progress.finish();

    if args.update_costs {
        let mut table = shard::CostTable::load(&shard::CostTable::default_path())?;
        table.update(
            args.quick,
            results
                .experiments
                .iter()
                .map(|e| (format!("{}/{}", e.suite, e.name), e.seconds)),
        );
        table.save(&shard::CostTable::default_path())?;
        println!(
            "cost table updated: {}",
            shard::CostTable::default_path().display()
        );
    }

    report::publish(&results, &out_dir, &base)?;

    if !results.failures.is_empty() {
        let list = results
            .failures
            .iter()
            .map(|(id, err)| format!("  {id}: {err}"))
            .collect::<Vec<_>>()
            .join("\n");
        bail!(
            "{} experiment(s) failed (report written to {}):\n{list}",
            results.failures.len(),
            out_dir.display()
        );
    }

    let partial = !args.suites.is_empty() || !args.experiments.is_empty() || args.shard.is_some();
    if args.bless {
        snapshot::bless(&results, partial)?;
    } else if args.check {
        snapshot::check(&results, partial)?;
    }
    Ok(())
}

/// `key = value, ...` of a parameter table, for listings and the report.
pub fn params_line(table: &toml::Table) -> String {
    table
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_over_seeds() {
        let recs: Vec<RunRecord> = (0..3)
            .map(|s| RunRecord::new("a", "t", s).with_metric("m", s as f64))
            .collect();
        let rows = summarise(&recs, &Seeder::new(1));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].n, 3);
        assert_eq!(rows[0].mean, 1.0);
        assert_eq!(rows[0].std, 1.0);
        let (lo, hi) = rows[0].mean_ci.unwrap();
        assert!(lo <= 1.0 && 1.0 <= hi && lo >= 0.0 && hi <= 2.0);
        // Same seed, same interval.
        assert_eq!(
            rows[0].mean_ci,
            summarise(&recs, &Seeder::new(1))[0].mean_ci
        );
    }

    #[test]
    fn improvement_of_dominating_algorithm_is_one() {
        let mut recs = Vec::new();
        for s in 0..5 {
            recs.push(RunRecord::new("good", "t", s).with_metric("m", 10.0 + s as f64));
            recs.push(RunRecord::new("bad", "t", s).with_metric("m", s as f64));
        }
        let rows = improvements(&recs, &[("good".into(), "bad".into())], &Seeder::new(3));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].estimate, 1.0);
    }

    #[test]
    fn every_suite_has_parameter_tables_for_exactly_its_experiments() {
        for s in registry::registry() {
            let names: Vec<&str> = s.experiments.iter().map(|e| e.name).collect();
            check_defaults(s.name, s.defaults, &names, true).unwrap();
        }
    }

    #[test]
    fn registry_names_are_unique() {
        let reg = registry::registry();
        let mut names: Vec<_> = reg.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), reg.len());
        for s in &reg {
            let mut e: Vec<_> = s.experiments.iter().map(|e| e.name).collect();
            e.sort_unstable();
            e.dedup();
            assert_eq!(
                e.len(),
                s.experiments.len(),
                "duplicate experiment in {}",
                s.name
            );
        }
    }
}
