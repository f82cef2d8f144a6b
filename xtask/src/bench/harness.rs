//! The suite registry's runner: filters suites, runs experiments with a
//! seeded context, summarises records over seeds, writes the report and
//! checks the headline snapshots.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _};
use duality_core::progress::Progress;
use duality_core::record::RunRecord;
use duality_core::seed::Seeder;
use duality_eval::aggregate::{self, Metric};
use duality_eval::bootstrap::StratifiedBootstrap;
use duality_eval::scores::ScoreMatrix;
use serde::{Deserialize, Serialize};

use duality_bench::{
    check_defaults, Context, Experiment, Outcome, Overrides, Params, PeerComparison, SeedsPending,
    Suite,
};

use super::{adaptive, cells, machine, micro, registry, report, shard, snapshot, BenchArgs};
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
    /// Experiments this shard computed its seeds of but could not finish,
    /// because other shards own the remaining seeds (`bench merge`
    /// finishes them from the seed cells).
    #[serde(default)]
    pub pending: Vec<String>,
    /// With `--adaptive`: seeds used per experiment, and why.
    #[serde(default)]
    pub adaptive: Vec<adaptive::AdaptiveRow>,
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

/// How much of one experiment this process runs.
#[derive(Debug, Clone, PartialEq)]
enum Share {
    /// All of it.
    All,
    /// Only these seeds (the experiment splits by seed; other shards own
    /// the rest).
    Seeds(BTreeSet<u64>),
    /// None of it (another shard's).
    Nothing,
}

/// One experiment of the grid with its resolved parameters and share.
struct Planned<'a> {
    suite: &'a Suite,
    exp: &'a Experiment,
    params: Params,
    seeds: usize,
    share: Share,
}

impl Planned<'_> {
    fn id(&self) -> String {
        format!("{}/{}", self.suite.name, self.exp.name)
    }
}

/// Seeds of one experiment: `--seeds` wins over the experiment's own
/// `seeds` parameter, which wins over the run's default.
fn seed_count(args: &BenchArgs, params: &Params, default: usize) -> anyhow::Result<usize> {
    Ok(match args.seeds {
        Some(n) => n,
        None => params.get_or("seeds", default)?,
    }
    .max(1))
}

/// Resolves every selected experiment and, with `--shard`, decides which
/// units (whole experiments, or single seeds of experiments the cost table
/// lists as split by seed) this shard runs.
fn plan<'a>(
    args: &BenchArgs,
    chosen: &'a [Suite],
    overrides: &Overrides,
    default_seeds: usize,
) -> anyhow::Result<Vec<Planned<'a>>> {
    let mut planned = Vec::new();
    for suite in chosen {
        for exp in &suite.experiments {
            let params = overrides.resolve(suite.name, suite.defaults, exp.name, args.quick)?;
            let seeds = seed_count(args, &params, default_seeds)?;
            planned.push(Planned {
                suite,
                exp,
                params,
                seeds,
                share: Share::All,
            });
        }
    }
    let Some(text) = &args.shard else {
        return Ok(planned);
    };
    let (i, n) = shard::resolve(text, args.shards, |k| std::env::var(k).ok())?;
    let costs = shard::CostTable::load(&shard::CostTable::default_path())?;
    // (unit id, experiment index, seed if a seed unit)
    let mut units: Vec<(String, usize, Option<u64>)> = Vec::new();
    for (k, p) in planned.iter().enumerate() {
        let id = p.id();
        if costs.per_seed(args.quick).contains_key(&id) {
            for seed in 0..p.seeds as u64 {
                units.push((shard::seed_unit(&id, seed), k, Some(seed)));
            }
        } else {
            units.push((id, k, None));
        }
    }
    let ids: Vec<String> = units.iter().map(|u| u.0.clone()).collect();
    let owner = shard::assign(&ids, &costs.unit_costs(args.quick, &ids), n);
    for p in &mut planned {
        p.share = Share::Nothing;
    }
    let mut mine = 0usize;
    for ((_, k, seed), &o) in units.iter().zip(&owner) {
        if o != i {
            continue;
        }
        mine += 1;
        let p = &mut planned[*k];
        p.share = match (seed, std::mem::replace(&mut p.share, Share::Nothing)) {
            (None, _) => Share::All,
            (Some(s), Share::Seeds(mut set)) => {
                set.insert(*s);
                Share::Seeds(set)
            }
            (Some(s), _) => Share::Seeds(BTreeSet::from([*s])),
        };
    }
    println!(
        "shard {i}/{n}: {mine} of {} unit(s) (experiments, or seeds of experiments that split \
         by seed), touching {} experiment(s)",
        units.len(),
        planned.iter().filter(|p| p.share != Share::Nothing).count()
    );
    Ok(planned)
}

/// Summaries, improvements and the stored form of one finished experiment.
#[allow(clippy::too_many_arguments)]
fn experiment_result(
    suite: &Suite,
    exp: &Experiment,
    ctx: Context,
    outcome: Outcome,
    seconds: f64,
    peak_memory_mb: Option<f64>,
    params: serde_json::Value,
) -> ExperimentResult {
    let stats_seeder = ctx.seeder.named("summary");
    let summary = summarise(&outcome.records, &stats_seeder);
    let (comparisons, pairs) = ctx.into_requests();
    let improvements = improvements(&outcome.records, &pairs, &stats_seeder);
    ExperimentResult {
        suite: suite.name.to_string(),
        name: exp.name.to_string(),
        about: exp.about.to_string(),
        seconds,
        peak_memory_mb,
        summary,
        improvements,
        comparisons,
        params,
        outcome,
    }
}

/// Whether `err` (or one of its causes) says that other shards own seeds.
pub fn as_pending(err: &anyhow::Error) -> Option<&SeedsPending> {
    err.chain().find_map(|c| c.downcast_ref::<SeedsPending>())
}

/// `bench merge`: finishes experiment `key.suite/key.experiment` from the
/// seed cells found in `dirs` (written by the shards), running only its
/// summary code. `Ok(Err(pending))` when some seeds have no cell yet.
pub fn finish_from_seed_cells(
    key: &cells::SeedCellKey,
    seeds: usize,
    grid: &[String],
    dirs: &[PathBuf],
    out_dir: &Path,
) -> anyhow::Result<Result<ExperimentResult, SeedsPending>> {
    let reg = registry::registry();
    let id = format!("{}/{}", key.suite, key.experiment);
    let suite = reg
        .iter()
        .find(|s| s.name == key.suite)
        .with_context(|| format!("seed cells of {id}: no suite {:?} in this build", key.suite))?;
    let exp = suite
        .experiments
        .iter()
        .find(|e| e.name == key.experiment)
        .with_context(|| format!("seed cells of {id}: no such experiment in this build"))?;
    let table: toml::Table = serde_json::from_value(key.params.clone())
        .with_context(|| format!("seed cells of {id}: parameters are not a table"))?;
    let params = Params::from_table(&id, key.quick, table);
    let store = cells::FileSeedStore::new(
        dirs.to_vec(),
        key.clone(),
        Some(BTreeSet::new()),
        seeds,
        grid.to_vec(),
    );
    let ctx = Context::new(
        id.clone(),
        params,
        (0..seeds as u64).collect(),
        Seeder::new(key.seed).named(suite.name).named(exp.name),
        out_dir.to_path_buf(),
        Progress::hidden(),
    )
    .with_seed_store(Arc::new(store));
    let start = Instant::now();
    match (exp.run)(&ctx) {
        Ok(outcome) => Ok(Ok(experiment_result(
            suite,
            exp,
            ctx,
            outcome,
            start.elapsed().as_secs_f64(),
            None,
            key.params.clone(),
        ))),
        Err(err) => match as_pending(&err) {
            Some(p) => Ok(Err(p.clone())),
            None => Err(err.context(format!("finishing {id} from its seed cells"))),
        },
    }
}

/// What running one experiment gave.
enum Ran {
    /// Its result.
    Done(Box<ExperimentResult>),
    /// This shard did its seeds; others own the rest.
    Pending,
    /// It failed (the error with its causes).
    Failed(String),
}

/// The state shared by the experiments of one run.
struct Runner<'a> {
    args: &'a BenchArgs,
    root: Seeder,
    out_dir: PathBuf,
    results_dir: PathBuf,
    version: String,
    grid: Vec<String>,
    machine: machine::Machine,
    progress: Progress,
    /// Per experiment: seconds per computed seed (Some) or "ran whole" (None).
    seed_costs: BTreeMap<String, Option<f64>>,
    /// Experiments whose whole time this process measured (every seed
    /// computed here), for the cost table.
    timed_whole: BTreeSet<String>,
}

impl Runner<'_> {
    /// Runs `p` with `seeds` seeds: reuses its result cell if an earlier run
    /// wrote one, else runs it (reusing seed cells) and writes the cell.
    fn run(&mut self, p: &Planned<'_>, seeds: usize) -> anyhow::Result<Ran> {
        let (args, suite, exp) = (self.args, p.suite, p.exp);
        let id = p.id();
        self.progress.set_message(id.clone());
        let params_json = serde_json::to_value(p.params.table())?;
        let key = cells::CellKey {
            suite: suite.name.to_string(),
            experiment: exp.name.to_string(),
            seed: args.seed,
            quick: args.quick,
            seeds,
            params: params_json.clone(),
            version: self.version.clone(),
        };
        if let Some(cell) = cells::load(&self.results_dir, &key)? {
            // Done by an earlier (pre-empted or repeated) run: reuse it.
            println!(
                "[{}] {}: already computed ({}), skipped",
                suite.name,
                exp.name,
                self.results_dir.join(key.file_name()).display()
            );
            for f in &cell.result.outcome.figures {
                let _ = std::fs::copy(self.results_dir.join(&f.file), self.out_dir.join(&f.file));
            }
            return Ok(Ran::Done(Box::new(cell.result)));
        }
        let store = cells::FileSeedStore::new(
            vec![self.results_dir.clone()],
            cells::SeedCellKey {
                suite: suite.name.to_string(),
                experiment: exp.name.to_string(),
                seed: args.seed,
                quick: args.quick,
                index: 0,
                params: params_json.clone(),
                version: self.version.clone(),
            },
            match &p.share {
                Share::Seeds(set) => Some(set.clone()),
                _ => None,
            },
            seeds,
            self.grid.clone(),
        );
        let mut ctx = Context::new(
            id.clone(),
            p.params.clone(),
            (0..seeds as u64).collect(),
            self.root.named(suite.name).named(exp.name),
            self.out_dir.clone(),
            self.progress.clone(),
        )
        .with_seed_store(Arc::new(store));
        if args.compare {
            ctx = ctx.with_peers(crate::peers::python());
        }
        machine::reset_peak_memory();
        let start = Instant::now();
        let run = (exp.run)(&ctx);
        let log = ctx.seed_log();
        if !log.loaded.is_empty() {
            println!(
                "[{}] {}: seed(s) {:?} reused from earlier cells, {} computed now",
                suite.name,
                exp.name,
                log.loaded,
                log.computed.len()
            );
        }
        if log.used && !log.computed.is_empty() {
            let per_seed =
                log.computed.iter().map(|c| c.1).sum::<f64>() / log.computed.len() as f64;
            self.seed_costs.insert(id.clone(), Some(per_seed));
        } else if !log.used {
            self.seed_costs.insert(id.clone(), None);
        }
        let outcome = match run {
            Ok(outcome) => outcome,
            Err(err) => {
                if let Some(pending) = as_pending(&err) {
                    println!(
                        "[{}] {}: computed seed(s) {:?} in {:.1}s; seed(s) {:?} belong to other \
                         shards (`bench merge` finishes it)",
                        suite.name,
                        exp.name,
                        pending.computed,
                        start.elapsed().as_secs_f64(),
                        pending.pending
                    );
                    return Ok(Ran::Pending);
                }
                // One broken experiment (e.g. missing input data) must not
                // hide the others: record it, report it, go on, and fail the
                // run at the end.
                println!("[{}] {}: FAILED: {err:#}", suite.name, exp.name);
                return Ok(Ran::Failed(format!("{err:#}")));
            }
        };
        if matches!(p.share, Share::Seeds(_)) && !log.used {
            println!(
                "[{}] {}: the cost table says it splits by seed, but it ran whole (every shard \
                 that owns one of its seeds repeats it): refresh the table with --update-costs",
                suite.name, exp.name
            );
        }
        let seconds = start.elapsed().as_secs_f64();
        // Whole-experiment time only when this process computed every seed.
        if p.share == Share::All && log.loaded.is_empty() {
            self.timed_whole.insert(id.clone());
        }
        let peak_memory_mb = machine::peak_memory_bytes().map(|b| b as f64 / 1e6);
        let result = experiment_result(
            suite,
            exp,
            ctx,
            outcome,
            seconds,
            peak_memory_mb,
            params_json,
        );
        print_outcome(
            suite.name,
            exp.name,
            &result.outcome,
            seconds,
            peak_memory_mb,
            &result.comparisons,
        );
        let cell = cells::Cell {
            key,
            grid: self.grid.clone(),
            machine: self.machine.clone(),
            result,
        };
        cells::write(&self.results_dir, &cell, &self.out_dir)?;
        Ok(Ran::Done(Box::new(cell.result)))
    }

    /// `--adaptive`: runs `p` in AdaStop stages of `plan.n` seeds until its
    /// comparison pairs are all decided or `plan.stages` stages ran; an
    /// experiment without pairs runs its fixed seed count.
    fn adaptive(
        &mut self,
        p: &Planned<'_>,
        plan: adaptive::Plan,
    ) -> anyhow::Result<(Ran, adaptive::AdaptiveRow)> {
        let id = p.id();
        let row = |seeds: usize, reason: String, decisions: Vec<String>| adaptive::AdaptiveRow {
            experiment: id.clone(),
            seeds,
            fixed: p.seeds,
            reason,
            decisions,
        };
        for stage in 1..=plan.stages {
            let seeds = plan.n * stage;
            let ran = self.run(p, seeds)?;
            let Ran::Done(result) = &ran else {
                return Ok((ran, row(seeds, "did not finish".into(), Vec::new())));
            };
            let pairs = adaptive::pairs(result);
            if pairs.is_empty() {
                if seeds == p.seeds {
                    return Ok((
                        ran,
                        row(seeds, "names no comparison pairs".into(), Vec::new()),
                    ));
                }
                let fixed = self.run(p, p.seeds)?;
                return Ok((
                    fixed,
                    row(
                        p.seeds,
                        "names no comparison pairs: its fixed seed count".into(),
                        Vec::new(),
                    ),
                ));
            }
            let seed = self.root.named(&id).named("adaptive").seed_for(0);
            let (decided, decisions) =
                adaptive::decide(&result.outcome.records, &pairs, plan, stage, seed)?;
            if decided && stage < plan.stages {
                let reason = format!(
                    "AdaStop decided its {} comparison(s) after {stage} of {} stage(s) of {} seeds",
                    decisions.len(),
                    plan.stages,
                    plan.n
                );
                return Ok((ran, row(seeds, reason, decisions)));
            }
            if stage == plan.stages {
                let equal = decisions.iter().filter(|d| d.ends_with("Equal")).count();
                let reason = format!(
                    "cap: {} stage(s) of {} seeds; the last stage decides every comparison \
                     ({equal} of {} found no difference)",
                    plan.stages,
                    plan.n,
                    decisions.len()
                );
                return Ok((ran, row(seeds, reason, decisions)));
            }
        }
        unreachable!("the loop returns at its last stage")
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
    let chosen = selected(args)?;
    let grid_ids = grid(&chosen);
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
    let planned = plan(args, &chosen, &overrides, n_seeds)?;
    let root = Seeder::new(args.seed);
    let stamp = machine::timestamp();
    let base = cmd::target_dir().join("duality-bench");
    // Shards of an array may start in the same second: one folder each.
    let out_dir = if base.join(&stamp).exists() {
        base.join(format!("{stamp}-{}", std::process::id()))
    } else {
        base.join(&stamp)
    };
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;

    let mut results = BenchResults {
        machine: machine::Machine::detect(),
        seed: args.seed,
        quick: args.quick,
        seeds: n_seeds,
        suites: chosen
            .iter()
            .map(|s| {
                let n = planned
                    .iter()
                    .filter(|p| p.suite.name == s.name && p.share != Share::Nothing)
                    .count();
                (s.name.to_string(), n)
            })
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
        pending: Vec::new(),
        adaptive: Vec::new(),
    };

    // One bar for the whole run, measured in expected seconds from the cost
    // table (1 s for an experiment never measured), so its ETA is honest
    // when a long experiment comes first.
    let costs = shard::CostTable::load(&shard::CostTable::default_path())?;
    let expected = |p: &Planned<'_>| -> u64 {
        let id = p.id();
        let secs = match &p.share {
            Share::Nothing => 0.0,
            Share::Seeds(set) => costs
                .per_seed(args.quick)
                .get(&id)
                .map(|s| s * set.len() as f64)
                .unwrap_or(1.0),
            Share::All => costs.mode(args.quick).get(&id).copied().unwrap_or(1.0),
        };
        (secs * 1000.0).max(1.0) as u64
    };
    let total_ms: u64 = planned
        .iter()
        .filter(|p| p.share != Share::Nothing)
        .map(&expected)
        .sum();
    let progress = Progress::new(total_ms, "bench (expected seconds x 1000)");
    let results_dir = args
        .results_dir
        .clone()
        .unwrap_or_else(|| out_dir.join("cells"));
    let version = cells::code_version(&results.machine);
    let mut runner = Runner {
        args,
        root,
        out_dir: out_dir.clone(),
        results_dir,
        version,
        grid: grid_ids,
        machine: results.machine.clone(),
        progress: progress.clone(),
        seed_costs: BTreeMap::new(),
        timed_whole: BTreeSet::new(),
    };

    for suite in &chosen {
        if suite.experiments.is_empty() {
            println!(
                "[{}] no experiments registered yet: nothing to run ({})",
                suite.name, suite.about
            );
        }
    }
    let plan = adaptive::Plan::new(args.quick, args.adaptive_n, args.adaptive_stages);
    for p in &planned {
        if p.share == Share::Nothing {
            continue;
        }
        let id = p.id();
        let ran = if args.adaptive {
            let (ran, row) = runner.adaptive(p, plan)?;
            println!(
                "[{}] {}: adaptive: {} seed(s) (fixed: {}): {}",
                p.suite.name, p.exp.name, row.seeds, row.fixed, row.reason
            );
            results.adaptive.push(row);
            ran
        } else {
            runner.run(p, p.seeds)?
        };
        match ran {
            Ran::Done(result) => results.experiments.push(*result),
            Ran::Pending => results.pending.push(id),
            Ran::Failed(err) => results.failures.push((id, err)),
        }
        progress.inc(expected(p));
    }
    let Runner {
        seed_costs,
        timed_whole,
        ..
    } = runner;
    progress.finish();

    if args.update_costs {
        let path = shard::CostTable::default_path();
        let mut table = shard::CostTable::load(&path)?;
        // An experiment's whole time is kept only from a process that
        // computed all of it (not one that loaded seeds from other shards).
        table.update(
            args.quick,
            results
                .experiments
                .iter()
                .filter(|e| timed_whole.contains(&format!("{}/{}", e.suite, e.name)))
                .map(|e| (format!("{}/{}", e.suite, e.name), e.seconds)),
        );
        for (id, per_seed) in &seed_costs {
            table.update_per_seed(args.quick, id, *per_seed);
        }
        table.save(&path)?;
        println!("cost table updated: {}", path.display());
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
