//! `duality eval ...`: commands over `duality_eval`.
//!
//! - `aggregate --scores FILE.csv`: IQM / mean / median / optimality gap per
//!   algorithm with stratified-bootstrap CIs (`--svg` draws them);
//! - `improvement --scores FILE.csv --x A --y B`: probability of improvement
//!   `P(A > B)` with a CI;
//! - `profile --scores FILE.csv --tau START:STOP:COUNT`: performance profiles;
//! - `auc --input FILE.csv` (`label,score[,group]`): AUROC and AUPRC;
//! - `adastop --results FILE.csv --n N --stages K`: AdaStop decisions, with
//!   `--state` to resume between stages;
//! - `mcnemar --input FILE.csv` (`y_true,pred_a,pred_b`): McNemar's test;
//! - `import-runs --input FILE.csv`: tracked-run histories (Open RL
//!   Benchmark / W&B exports) to tidy final scores or per-checkpoint scores;
//! - `sequence --input FILE`: bias tests of a binary decision sequence
//!   (proportion, runs, first-order Markov);
//! - `conformal-select --calibration CAL.csv --test TEST.csv --threshold C
//!   --q Q`: OptCS / OptCS-Full / BH conformal selection;
//! - `corrected-t`, `paired-ci`, `cluster-accuracy`, `delong-ci`, `plan`:
//!   model-comparison statistics and the seed-budget planner;
//! - `roe --votes FILE.csv` (`sample,model,class,logit`): certified
//!   poisoning radii of DPA / DPA+ROE, or FA / FA+ROE with `--shifts`.
//!
//! Score files are tidy CSV `algorithm,task,run,score` (or JSON
//! `{alg: [[run x task]]}`). JSON output with `--format json`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use duality_core::{files, limits, record};
use duality_eval::adastop::{AdaStop, AdaStopParams, ComparisonOutcome, Variant};
use duality_eval::bootstrap::{BootstrapParams, Interval, IntervalMethod, StratifiedBootstrap};
use duality_eval::classical::{mcnemar, McNemarTable};
use duality_eval::plot;
use duality_eval::prelude::*;
use duality_eval::profile::{performance_profile, tau_grid, ProfileKind};
use duality_eval::ranking::{bootstrap_ci, by_group, GroupMetrics, SortedClasses};
use serde::Serialize;

use crate::output::{emit, Format};

/// Commands of the `eval` area.
#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Aggregate metrics (IQM, mean, median, optimality gap) with bootstrap CIs.
    Aggregate(AggregateArgs),
    /// Probability of improvement P(X > Y) with a bootstrap CI.
    Improvement(ImprovementArgs),
    /// Performance profiles (fraction of runs above tau) with CI bands.
    Profile(ProfileArgs),
    /// AUROC and AUPRC (average precision) from labels and scores.
    Auc(AucArgs),
    /// AdaStop sequential comparison of agents (resumable between stages).
    Adastop(AdaStopArgs),
    /// McNemar's test comparing two classifiers' predictions.
    Mcnemar(McNemarArgs),
    /// Tracked-run histories (Open RL Benchmark, W&B chart exports) to tidy
    /// scores `algorithm,task,run,score` for the other commands.
    ImportRuns(ImportRunsArgs),
    /// Bias tests of a binary decision sequence: exact binomial test of the
    /// rate, runs test, first-order Markov (negative recency) test.
    Sequence(SequenceArgs),
    /// Conformal selection of test rows with outcome above a threshold at FDR
    /// level q: OptCS over several models (Bai & Jin 2024), OptCS-Full, or BH.
    ConformalSelect(ConformalSelectArgs),
    /// Nadeau-Bengio corrected resampled t-test over per-split differences.
    CorrectedT(CorrectedTArgs),
    /// CI of the mean score difference of two models on the same items.
    PairedCi(PairedCiArgs),
    /// Accuracy with a cluster-robust standard error (`correct,cluster`).
    ClusterAccuracy(ClusterAccuracyArgs),
    /// DeLong CI of the difference of two AUROCs (`label,score_a,score_b`).
    DelongCi(DelongCiArgs),
    /// Runs per task needed for a target IQM CI width or power, from a pilot.
    Plan(PlanArgs),
    /// Certified data-poisoning radii of DPA and DPA+ROE (or, with
    /// `--shifts`, FA and FA+ROE) from per-model logits (Rezaei et al. 2023).
    Roe(RoeArgs),
}

/// Arguments of `duality eval roe`.
#[derive(Debug, Args)]
pub struct RoeArgs {
    /// Long CSV `sample,model,class,logit`: every model's logit for every
    /// class on every sample; `model` and `class` are 0-based integers.
    #[arg(long)]
    pub votes: PathBuf,
    /// Finite Aggregation's shifts `s_1,...,s_d`: the file's models are FA's
    /// `k d` classifiers and training bucket `h` reaches the models
    /// `(h + s_i) mod kd` (Wang et al. 2022). Without it, each model is one
    /// DPA partition (k = models).
    #[arg(long, value_delimiter = ',')]
    pub shifts: Option<Vec<usize>>,
    /// Optional CSV `sample,label` (true class per sample): adds the
    /// certified accuracy at each radius.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality eval corrected-t`.
#[derive(Debug, Args)]
pub struct CorrectedTArgs {
    /// CSV with a `difference` column: score of A minus score of B per split.
    #[arg(long)]
    pub input: PathBuf,
    /// Training-set size of each split.
    #[arg(long)]
    pub n_train: usize,
    /// Test-set size of each split.
    #[arg(long)]
    pub n_test: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality eval paired-ci`.
#[derive(Debug, Args)]
pub struct PairedCiArgs {
    /// Model A: CSV `item,score`.
    #[arg(long)]
    pub a: PathBuf,
    /// Model B: CSV `item,score` over the same items.
    #[arg(long)]
    pub b: PathBuf,
    /// Bootstrap replicates.
    #[arg(long, default_value_t = 10_000)]
    pub reps: usize,
    /// Confidence level.
    #[arg(long, default_value_t = 0.95)]
    pub confidence: f64,
    /// Bootstrap seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality eval cluster-accuracy`.
#[derive(Debug, Args)]
pub struct ClusterAccuracyArgs {
    /// CSV with columns `correct` (0/1) and `cluster`.
    #[arg(long)]
    pub input: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality eval delong-ci`.
#[derive(Debug, Args)]
pub struct DelongCiArgs {
    /// CSV with columns `label` (0/1), `score_a`, `score_b`.
    #[arg(long)]
    pub input: PathBuf,
    /// Confidence level.
    #[arg(long, default_value_t = 0.95)]
    pub confidence: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality eval plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Pilot scores, tidy CSV `algorithm,task,run,score` (>= 2 runs).
    #[arg(long)]
    pub scores: PathBuf,
    /// The statistic planned for: `iqm` (per algorithm) or `improvement`
    /// (`P(X > Y)` of `--x` over `--y`).
    #[arg(long, value_enum, default_value_t = PlanStatistic::Iqm)]
    pub statistic: PlanStatistic,
    /// Algorithm X of `P(X > Y)` (with `--statistic improvement`).
    #[arg(long)]
    pub x: Option<String>,
    /// Algorithm Y of `P(X > Y)` (with `--statistic improvement`).
    #[arg(long)]
    pub y: Option<String>,
    /// Target width of the statistic's 95% CI.
    #[arg(long)]
    pub target_width: Option<f64>,
    /// Target power: of a two-sided test of an IQM difference `--effect`
    /// (iqm), or of `P(X > Y) = 1/2` against `1/2 + effect` (improvement).
    #[arg(long)]
    pub power: Option<f64>,
    /// Effect to detect (with `--power`): an IQM difference, or
    /// `P(X > Y) - 1/2` (between 0 and 0.5 in absolute value).
    #[arg(long)]
    pub effect: Option<f64>,
    /// Test level (with `--power`).
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Bootstrap replicates on the pilot.
    #[arg(long, default_value_t = 5_000)]
    pub reps: usize,
    /// Bootstrap seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// What `duality eval plan` plans for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanStatistic {
    /// The interquartile mean of each algorithm.
    Iqm,
    /// The probability of improvement `P(X > Y)`.
    Improvement,
}

/// Arguments of `duality eval conformal-select`.
#[derive(Debug, Args)]
pub struct ConformalSelectArgs {
    /// Labelled CSV: `y,<model1>,<model2>,...` (outcomes and each model's prediction).
    #[arg(long)]
    pub calibration: PathBuf,
    /// Test CSV with the same model columns, without `y`.
    #[arg(long)]
    pub test: PathBuf,
    /// Select rows whose outcome exceeds this threshold c.
    #[arg(long)]
    pub threshold: f64,
    /// FDR level in (0, 1).
    #[arg(long)]
    pub q: f64,
    /// `optcs` (model choice on the calibration set), `optcs-full`
    /// (leave-one-out refits of a linear recalibration of each model column
    /// on all labelled rows) or `bh` (the first model column alone).
    #[arg(long, default_value = "optcs")]
    pub method: String,
    /// OptCS pruning: deterministic, heterogeneous or homogeneous.
    #[arg(long, default_value = "deterministic")]
    pub pruning: String,
    /// Seed of tie-breaks and pruning draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Bootstrap options shared by the score commands.
#[derive(Debug, Args)]
pub struct BootstrapOpts {
    /// Bootstrap replicates.
    #[arg(long)]
    pub reps: Option<usize>,
    /// Confidence level.
    #[arg(long, default_value_t = 0.95)]
    pub confidence: f64,
    /// Interval method: percentile, basic, bc or bca.
    #[arg(long, default_value = "percentile")]
    pub method: String,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also resample tasks (rliable's task bootstrap).
    #[arg(long)]
    pub task_bootstrap: bool,
}

impl BootstrapOpts {
    /// The bootstrap, after checking that `--reps x outputs` replicates
    /// (`outputs` numbers per replicate, `what` says which) fit in memory.
    fn build(
        &self,
        default_reps: usize,
        outputs: usize,
        what: &str,
    ) -> anyhow::Result<StratifiedBootstrap> {
        let reps = self.reps.unwrap_or(default_reps);
        check_reps("--reps", reps, outputs, what)?;
        if !self.confidence.is_finite() {
            bail!(
                "--confidence {}: expected a level in (0, 1)",
                self.confidence
            );
        }
        Ok(StratifiedBootstrap::from_params(BootstrapParams {
            reps,
            confidence: self.confidence,
            seed: self.seed,
            method: IntervalMethod::parse(&self.method)?,
            task_bootstrap: self.task_bootstrap,
        })?)
    }
}

/// Refuses `flag` = `reps` bootstrap replicates of `outputs` numbers each
/// when they (stored, plus a sorted copy) exceed the memory budget, before
/// anything is allocated.
fn check_reps(flag: &str, reps: usize, outputs: usize, what: &str) -> anyhow::Result<()> {
    let n = limits::product(&[(flag, reps), (what, outputs.max(1))])?;
    limits::check_memory(
        &format!("{flag} {reps} x {} {what}", outputs.max(1)),
        (n as u128) * 16,
    )?;
    Ok(())
}

/// Arguments of `duality eval aggregate`.
#[derive(Debug, Args)]
pub struct AggregateArgs {
    /// Tidy CSV `algorithm,task,run,score` (or JSON `{alg: [[run x task]]}`).
    #[arg(long)]
    pub scores: PathBuf,
    /// Comma-separated metrics: iqm, mean, median, optimality-gap.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "iqm,mean,median,optimality-gap"
    )]
    pub metrics: Vec<String>,
    /// Target score gamma of the optimality gap.
    #[arg(long, default_value_t = 1.0)]
    pub gamma: f64,
    #[command(flatten)]
    pub bootstrap: BootstrapOpts,
    /// Draw the interval estimates to this SVG file.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality eval improvement`.
#[derive(Debug, Args)]
pub struct ImprovementArgs {
    /// Tidy CSV `algorithm,task,run,score` (or JSON).
    #[arg(long)]
    pub scores: PathBuf,
    /// Algorithm X of P(X > Y).
    #[arg(long)]
    pub x: String,
    /// Algorithm Y of P(X > Y).
    #[arg(long)]
    pub y: String,
    #[command(flatten)]
    pub bootstrap: BootstrapOpts,
    /// Draw the probability-of-improvement bar to this SVG file.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality eval profile`.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// Tidy CSV `algorithm,task,run,score` (or JSON).
    #[arg(long)]
    pub scores: PathBuf,
    /// Threshold grid START:STOP:COUNT (inclusive, evenly spaced).
    #[arg(long)]
    pub tau: String,
    /// run-score (fraction of runs > tau) or average-score (fraction of task means > tau).
    #[arg(long, default_value = "run-score")]
    pub kind: String,
    #[command(flatten)]
    pub bootstrap: BootstrapOpts,
    /// Draw the profiles with CI bands to this SVG file.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality eval auc`.
#[derive(Debug, Args)]
pub struct AucArgs {
    /// CSV with columns `label` (0/1) and `score`, optionally `group`.
    #[arg(long)]
    pub input: PathBuf,
    /// Bootstrap replicates for CIs (class-stratified); 0 = no CI.
    #[arg(long, default_value_t = 0)]
    pub reps: usize,
    /// Confidence level of the CIs.
    #[arg(long, default_value_t = 0.95)]
    pub confidence: f64,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality eval adastop`.
#[derive(Debug, Args)]
pub struct AdaStopArgs {
    /// CSV with columns `agent` (or `algorithm`) and `score`: all runs so far,
    /// in order; the first N runs of each agent are stage 1, the next N stage 2, ...
    #[arg(long)]
    pub results: PathBuf,
    /// Runs per agent per stage.
    #[arg(long)]
    pub n: usize,
    /// Maximum number of stages K.
    #[arg(long)]
    pub stages: usize,
    /// Family-wise error level.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Number of permutations B.
    #[arg(long, default_value_t = 10_000)]
    pub permutations: usize,
    /// Seed of the random permutations.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Runs per stage per agent where they differ from --n, as
    /// `NAME=N,NAME=N` (the package's per-agent `n`).
    #[arg(long)]
    pub group_sizes: Option<String>,
    /// `duality` (two-sided joint test, the default) or `adastop-0.1.3`
    /// (reproduces the Python package's decisions; seed below 2^32).
    #[arg(long, default_value = "duality")]
    pub variant: String,
    /// State file: loaded if it exists (earlier stages are not recomputed), saved after.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality eval mcnemar`.
#[derive(Debug, Args)]
pub struct McNemarArgs {
    /// CSV with columns `y_true`, `pred_a`, `pred_b` (labels compared as text).
    #[arg(long)]
    pub input: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality eval import-runs`.
#[derive(Debug, Args)]
pub struct ImportRunsArgs {
    /// The export: long CSV (one row per logged point) or a W&B chart CSV.
    #[arg(long)]
    pub input: PathBuf,
    /// `long` (CSV with the columns below), `json` (the same records as a
    /// JSON array or JSON Lines) or `wide` (W&B chart export, run names
    /// `{env_id}__{exp_name}__{seed}__{time}`).
    #[arg(long, default_value = "long")]
    pub layout: String,
    /// Long layout: algorithm column.
    #[arg(long, default_value = "exp_name")]
    pub algorithm_col: String,
    /// Long layout: task column.
    #[arg(long, default_value = "env_id")]
    pub task_col: String,
    /// Long layout: run column.
    #[arg(long, default_value = "seed")]
    pub run_col: String,
    /// Long layout: step column.
    #[arg(long, default_value = "global_step")]
    pub step_col: String,
    /// Long layout: value column.
    #[arg(long, default_value = "charts/episodic_return")]
    pub value_col: String,
    /// Final score of a run: `last-episodes:N` (mean of the last N logged
    /// values) or `last-fraction:F` (mean over the last fraction F of its steps).
    #[arg(long, default_value = "last-episodes:100")]
    pub final_score: String,
    /// Instead of final scores: scores at checkpoints START:STOP:COUNT
    /// (steps), one block of rows per checkpoint with a `step` column.
    #[arg(long)]
    pub checkpoints: Option<String>,
    /// Window (in steps) ending at each checkpoint whose values are averaged.
    #[arg(long, default_value_t = 0.0)]
    pub window: f64,
    /// Write the tidy CSV here instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// Arguments of `duality eval sequence`.
#[derive(Debug, Args)]
pub struct SequenceArgs {
    /// File with the decisions: tokens separated by whitespace, commas or
    /// newlines (0/1, true/false, or any two labels with `--positive`), or
    /// one string of 0s and 1s.
    #[arg(long)]
    pub input: PathBuf,
    /// The label counted as `true` when the labels are not 0/1 or true/false.
    #[arg(long)]
    pub positive: Option<String>,
    /// Hypothesised rate of `true` for the binomial test.
    #[arg(long, default_value_t = 0.5)]
    pub p0: f64,
    /// Confidence level of the rate's Clopper-Pearson interval.
    #[arg(long, default_value_t = 0.95)]
    pub confidence: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Runs one `eval` command.
pub fn run(cmd: EvalCommand) -> anyhow::Result<()> {
    match cmd {
        EvalCommand::Aggregate(a) => aggregate(a),
        EvalCommand::Improvement(a) => improvement(a),
        EvalCommand::Profile(a) => profile(a),
        EvalCommand::Auc(a) => auc(a),
        EvalCommand::Adastop(a) => adastop(a),
        EvalCommand::Mcnemar(a) => run_mcnemar(a),
        EvalCommand::ImportRuns(a) => import_runs(a),
        EvalCommand::Sequence(a) => sequence(a),
        EvalCommand::ConformalSelect(a) => conformal_select(a),
        EvalCommand::CorrectedT(a) => corrected_t(a),
        EvalCommand::PairedCi(a) => paired_ci(a),
        EvalCommand::ClusterAccuracy(a) => cluster_accuracy(a),
        EvalCommand::DelongCi(a) => delong_ci(a),
        EvalCommand::Plan(a) => plan(a),
        EvalCommand::Roe(a) => roe(a),
    }
}

/// Parses a decision file into booleans (see [`SequenceArgs::input`]).
/// `text` quoted for an error message, cut to about 80 characters (a
/// 1 MB token must not come back in full).
fn quote(text: &str) -> String {
    duality_core::error::shorten(&format!("{text:?}"), duality_core::error::MAX_VALUE_CHARS)
}

/// Context for an error raised below the CLI about the data of `path`:
/// the file and the column(s) it came from (issue #25: "invalid number of
/// agents = 1" did not say which file).
fn in_columns(path: &Path, columns: &str, rows: usize) -> String {
    format!(
        "{} ({columns}, {rows} data row{})",
        path.display(),
        if rows == 1 { "" } else { "s" }
    )
}

fn parse_decisions(text: &str, positive: Option<&str>, name: &str) -> anyhow::Result<Vec<bool>> {
    let tokens: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .collect();
    // One string of 0s and 1s.
    if tokens.len() == 1 && tokens[0].len() > 1 && tokens[0].bytes().all(|b| b == b'0' || b == b'1')
    {
        return Ok(tokens[0].bytes().map(|b| b == b'1').collect());
    }
    let mut out = Vec::with_capacity(tokens.len());
    let mut labels: Vec<&str> = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if !labels.contains(t) {
            labels.push(t);
            if labels.len() > 2 {
                bail!(
                    "{name}: token {} is {}, a third label after {} and {}; a binary sequence has two",
                    i + 1,
                    quote(t),
                    quote(labels[0]),
                    quote(labels[1])
                );
            }
        }
        let value = match (positive, t.to_ascii_lowercase().as_str()) {
            (Some(p), _) => *t == p,
            (None, "1" | "true") => true,
            (None, "0" | "false") => false,
            (None, _) => bail!(
                "{name}: token {} is {}; use 0/1, true/false, or name the positive label with --positive",
                i + 1,
                quote(t)
            ),
        };
        out.push(value);
    }
    if let Some(p) = positive {
        if !labels.contains(&p) {
            bail!(
                "{name}: --positive {} does not occur (labels: {})",
                quote(p),
                quote(&labels.join(", "))
            );
        }
    }
    Ok(out)
}

/// The three tests of `duality eval sequence`, as printed in JSON.
#[derive(Debug, Serialize)]
struct SequenceReport {
    length: usize,
    proportion: duality_eval::sequence::ProportionTest,
    runs: Option<duality_eval::sequence::RunsTest>,
    markov: Option<duality_eval::sequence::MarkovTest>,
    notes: Vec<String>,
}

fn sequence(a: SequenceArgs) -> anyhow::Result<()> {
    use duality_eval::sequence::{markov_test, proportion_test, runs_test};
    let name = a.input.display().to_string();
    let text = std::fs::read_to_string(&a.input).with_context(|| format!("cannot read {name}"))?;
    let seq = parse_decisions(&text, a.positive.as_deref(), &name)?;
    if seq.is_empty() {
        bail!(
            "{name} line 1: no decisions (expected 0/1, true/false or two labels separated by \
             spaces, commas or newlines)"
        );
    }
    let proportion = proportion_test(&seq, a.p0, a.confidence)
        .with_context(|| format!("{name} ({} decisions)", seq.len()))?;
    // The runs and Markov tests are undefined on constant or very short
    // sequences: report why instead of failing the whole command.
    let mut notes = Vec::new();
    let runs = runs_test(&seq, true)
        .map_err(|e| notes.push(format!("runs test: {e}")))
        .ok();
    let markov = markov_test(&seq)
        .map_err(|e| notes.push(format!("Markov test: {e}")))
        .ok();
    let report = SequenceReport {
        length: seq.len(),
        proportion,
        runs,
        markov,
        notes,
    };
    emit(a.format, &report, |r| {
        let p = &r.proportion;
        println!(
            "rate of true: {}/{} = {:.4} [{:.4}, {:.4}], exact binomial p = {:.3e} (p0 = {})",
            p.successes, p.trials, p.proportion, p.ci.0, p.ci.1, p.p_value, a.p0
        );
        if let Some(t) = &r.runs {
            println!(
                "runs: {} (expected {:.1}), z = {:.3}, p = {:.3e}{}",
                t.runs,
                t.expected,
                t.z,
                t.p_value,
                if t.z < 0.0 {
                    " (streaky)"
                } else {
                    " (alternating)"
                }
            );
        }
        if let Some(m) = &r.markov {
            println!(
                "P(true | true) = {:.3}, P(true | false) = {:.3}; chi2 = {:.3}, p = {:.3e} (Yates p = {:.3e})",
                m.p_true_after_true, m.p_true_after_false, m.chi2, m.p_value, m.p_value_yates
            );
        }
        for n in &r.notes {
            println!("note: {n}");
        }
    })
}

fn parse_final_score(text: &str) -> anyhow::Result<FinalScore> {
    let parsed = match text.trim().split_once(':') {
        Some(("last-episodes", n)) => n.trim().parse().ok().map(FinalScore::LastEpisodes),
        Some(("last-fraction", f)) => f.trim().parse().ok().map(FinalScore::LastFraction),
        _ => None,
    };
    parsed.with_context(|| {
        format!("invalid --final-score {text:?}: expected last-episodes:N or last-fraction:F")
    })
}

fn import_runs(a: ImportRunsArgs) -> anyhow::Result<()> {
    let columns = TrackedColumns {
        algorithm: a.algorithm_col.clone(),
        task: a.task_col.clone(),
        run: a.run_col.clone(),
        step: a.step_col.clone(),
        value: a.value_col.clone(),
    };
    let runs = match a.layout.as_str() {
        "long" => TrackedRuns::from_long_csv_path(&a.input, &columns)?,
        "wide" => TrackedRuns::from_wide_csv_path(&a.input)?,
        "json" => TrackedRuns::from_long_json_path(&a.input, &columns)?,
        other => bail!("--layout must be long, wide or json, got {other:?}"),
    };
    // Runs are numbered 0.. within each algorithm (as in tidy score files).
    // Rows go through csv::Writer, so names with commas, quotes or line
    // breaks are quoted and read back as the same names.
    fn write_set<W: std::io::Write>(
        out: &mut csv::Writer<W>,
        set: &ScoreSet,
        step: Option<f64>,
    ) -> csv::Result<()> {
        for m in set.matrices() {
            for r in 0..m.runs() {
                for (t, task) in m.task_names().iter().enumerate() {
                    let v = m.get(r, t).unwrap_or(f64::NAN).to_string();
                    let run = r.to_string();
                    match step {
                        Some(s) => {
                            out.write_record([m.algorithm(), task, &run, &s.to_string(), &v])?
                        }
                        None => out.write_record([m.algorithm(), task, &run, &v])?,
                    }
                }
            }
        }
        Ok(())
    }
    // Every score is computed (and every error raised) before anything is
    // written.
    let mut out = csv::Writer::from_writer(Vec::new());
    match &a.checkpoints {
        None => {
            let set = runs.final_scores(parse_final_score(&a.final_score)?)?;
            out.write_record(["algorithm", "task", "run", "score"])?;
            write_set(&mut out, &set, None)?;
        }
        Some(spec) => {
            let steps = parse_grid(spec, "--checkpoints")?;
            // One score per curve and checkpoint, kept until written.
            let cells = limits::product(&[
                ("--checkpoints count", steps.len()),
                ("runs", runs.curves().len()),
            ])?;
            limits::check_memory(
                &format!("--checkpoints {spec} x {} runs", runs.curves().len()),
                (cells as u128) * 64,
            )?;
            let sets = runs.scores_at(&steps, a.window)?;
            out.write_record(["algorithm", "task", "run", "step", "score"])?;
            for (set, &s) in sets.iter().zip(&steps) {
                write_set(&mut out, set, Some(s))?;
            }
        }
    }
    let bytes = out
        .into_inner()
        .map_err(|e| anyhow::anyhow!("cannot assemble the tidy CSV: {}", e.error()))?;
    match &a.output {
        Some(path) => files::write_atomic(path, bytes)?,
        None => {
            use std::io::Write as _;
            std::io::stdout()
                .lock()
                .write_all(&bytes)
                .context("cannot write the tidy CSV to standard output")?;
        }
    }
    Ok(())
}

/// An estimate with its CI, as printed in JSON.
#[derive(Debug, Serialize)]
struct Estimate {
    estimate: f64,
    ci: [f64; 2],
}

impl From<Interval> for Estimate {
    fn from(i: Interval) -> Self {
        Estimate {
            estimate: i.estimate,
            ci: [i.lo, i.hi],
        }
    }
}

fn fmt_ci(i: &Estimate) -> String {
    format!("{:.4} [{:.4}, {:.4}]", i.estimate, i.ci[0], i.ci[1])
}

fn load_scores(path: &Path) -> anyhow::Result<ScoreSet> {
    ScoreSet::from_path(path).with_context(|| format!("cannot read scores from {}", path.display()))
}

fn aggregate(a: AggregateArgs) -> anyhow::Result<()> {
    let set = load_scores(&a.scores)?;
    let metrics: Vec<Metric> = a
        .metrics
        .iter()
        .map(|m| {
            Metric::parse(m).map(|m| match m {
                Metric::OptimalityGap { .. } => Metric::OptimalityGap { gamma: a.gamma },
                other => other,
            })
        })
        .collect::<duality_eval::Result<_>>()?;
    if !a.gamma.is_finite() {
        bail!("--gamma {}: expected a finite target score", a.gamma);
    }
    let bs = a.bootstrap.build(50_000, metrics.len(), "metrics")?;
    let rows = bs.intervals_for_set(&set, &metrics)?;
    // Drawn last: every check above has passed, and the file goes into
    // place atomically.
    if let Some(svg) = &a.svg {
        let names: Vec<&str> = metrics.iter().map(|m| m.name()).collect();
        plot::interval_estimates(svg, &names, &rows)?;
    }
    // Insertion order of algorithms is kept by writing a vector of pairs into a map per algorithm.
    let mut out: BTreeMap<String, BTreeMap<String, Estimate>> = BTreeMap::new();
    for (alg, intervals) in &rows {
        let entry = out.entry(alg.clone()).or_default();
        for (m, i) in metrics.iter().zip(intervals) {
            entry.insert(m.name().to_string(), (*i).into());
        }
    }
    emit(a.format, &out, |out| {
        print!("{:<20}", "algorithm");
        for m in &metrics {
            print!(" {:>30}", m.name());
        }
        println!();
        for (alg, row) in out {
            print!("{alg:<20}");
            for m in &metrics {
                if let Some(e) = row.get(m.name()) {
                    print!(" {:>30}", fmt_ci(e));
                }
            }
            println!();
        }
    })
}

fn improvement(a: ImprovementArgs) -> anyhow::Result<()> {
    let set = load_scores(&a.scores)?;
    let (x, y) = (set.get(&a.x)?, set.get(&a.y)?);
    let ci = a
        .bootstrap
        .build(50_000, 1, "probability")?
        .improvement(x, y)?;
    if !(ci.estimate.is_finite() && ci.lo.is_finite() && ci.hi.is_finite()) {
        bail!("P({} > {}) is not finite: {ci:?}", a.x, a.y);
    }
    if let Some(svg) = &a.svg {
        plot::improvement_bars(svg, &[(format!("P({} > {})", a.x, a.y), ci)])?;
    }
    let out: Estimate = ci.into();
    emit(a.format, &out, |e| {
        println!("P({} > {}) = {}", a.x, a.y, fmt_ci(e));
    })
}

/// Parses an evenly spaced grid `START:STOP:COUNT` given to `flag`.
fn parse_grid(spec: &str, flag: &str) -> anyhow::Result<Vec<f64>> {
    let parts: Vec<&str> = spec.split(':').collect();
    if parts.len() != 3 {
        bail!("{flag} must be START:STOP:COUNT, got {spec:?}");
    }
    let number = |i: usize, what: &str| -> anyhow::Result<f64> {
        parts[i]
            .trim()
            .parse()
            .with_context(|| format!("{flag} {what} {:?} is not a number", parts[i]))
    };
    let (start, stop) = (number(0, "start")?, number(1, "stop")?);
    for (i, v) in [(0, start), (1, stop)] {
        if !v.is_finite() {
            bail!(
                "{flag} {spec:?}: {} {:?} is not a finite number",
                if i == 0 { "start" } else { "stop" },
                parts[i]
            );
        }
    }
    let count: usize = parts[2].trim().parse().with_context(|| {
        format!(
            "{flag} {spec:?}: count {:?} is not a whole number",
            parts[2]
        )
    })?;
    if count == 0 {
        bail!("{flag} {spec:?}: count must be at least 1");
    }
    limits::elements::<f64>(&format!("{flag} count {}", parts[2].trim()), count)?;
    let grid = tau_grid(start, stop, count).with_context(|| format!("{flag} {spec:?}"))?;
    if let Some(v) = grid.iter().find(|v| !v.is_finite()) {
        bail!("{flag} {spec:?} gives the non-finite point {v}");
    }
    Ok(grid)
}

#[derive(Debug, Serialize)]
struct ProfileOut {
    kind: ProfileKind,
    taus: Vec<f64>,
    profiles: BTreeMap<String, Vec<Estimate>>,
}

fn profile(a: ProfileArgs) -> anyhow::Result<()> {
    let set = load_scores(&a.scores)?;
    let taus = parse_grid(&a.tau, "--tau")?;
    let kind = match a.kind.as_str() {
        "run-score" => ProfileKind::RunScore,
        "average-score" => ProfileKind::AverageScore,
        other => bail!("--kind must be run-score or average-score, got {other:?}"),
    };
    let bs = a.bootstrap.build(2_000, taus.len(), "--tau points")?;
    let profiles = set
        .matrices()
        .iter()
        .map(|m| performance_profile(m, &taus, kind, &bs))
        .collect::<duality_eval::Result<Vec<_>>>()?;
    if let Some(svg) = &a.svg {
        plot::performance_profiles(svg, &profiles)?;
    }
    let out = ProfileOut {
        kind,
        taus: taus.clone(),
        profiles: profiles
            .iter()
            .map(|p| {
                (
                    p.algorithm.clone(),
                    p.points.iter().map(|&i| i.into()).collect(),
                )
            })
            .collect(),
    };
    emit(a.format, &out, |o| {
        print!("{:>10}", "tau");
        for alg in o.profiles.keys() {
            print!(" {alg:>30}");
        }
        println!();
        for (t, tau) in o.taus.iter().enumerate() {
            print!("{tau:>10.4}");
            for v in o.profiles.values() {
                print!(" {:>30}", fmt_ci(&v[t]));
            }
            println!();
        }
    })
}

/// Required columns in order, then optional columns (`None` when absent).
type Columns = (Vec<Vec<String>>, Vec<Option<Vec<String>>>);

/// Reads named columns of a CSV file, with line numbers in errors.
fn read_columns(path: &Path, required: &[&[&str]], optional: &[&str]) -> anyhow::Result<Columns> {
    let name = path.display().to_string();
    // duality-core's reader: the same flexible CSV dialect and error
    // messages (file, line) as every other CSV input of the workspace.
    let (mut rdr, headers) = record::csv_with_header(record::open_buffered(path)?, &name)?;
    let find = |aliases: &[&str]| headers.iter().position(|h| aliases.contains(&h.trim()));
    let req: Vec<usize> = required
        .iter()
        .map(|aliases| {
            find(aliases).with_context(|| {
                format!(
                    "{name} line 1: missing column `{}` in header",
                    aliases.join("` or `")
                )
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let opt: Vec<Option<usize>> = optional.iter().map(|c| find(&[c])).collect();
    let mut cols = vec![Vec::new(); req.len()];
    let mut ocols: Vec<Option<Vec<String>>> = opt.iter().map(|o| o.map(|_| Vec::new())).collect();
    for (row_no, row) in rdr.records().enumerate() {
        let line = row_no + 2;
        let row = row.with_context(|| format!("{name} line {line}"))?;
        for (c, &i) in req.iter().enumerate() {
            let v = row
                .get(i)
                .with_context(|| format!("{name} line {line}: missing field {}", i + 1))?;
            cols[c].push(v.trim().to_string());
        }
        for (c, i) in opt.iter().enumerate() {
            if let (Some(i), Some(col)) = (i, ocols[c].as_mut()) {
                col.push(row.get(*i).unwrap_or("").trim().to_string());
            }
        }
    }
    if cols.first().is_none_or(|c| c.is_empty()) {
        bail!("{name}: no data rows");
    }
    Ok((cols, ocols))
}

fn parse_numbers(path: &Path, column: &str, values: &[String]) -> anyhow::Result<Vec<f64>> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let x: f64 = v.parse().with_context(|| {
                format!(
                    "{} line {}: {column} is not a number: {}",
                    path.display(),
                    i + 2,
                    quote(v)
                )
            })?;
            if !x.is_finite() {
                bail!(
                    "{} line {}: {column} is {x}: expected a finite number",
                    path.display(),
                    i + 2
                );
            }
            Ok(x)
        })
        .collect()
}

#[derive(Debug, Serialize)]
struct AucOut {
    n: usize,
    positives: usize,
    auroc: f64,
    auprc: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    auroc_ci: Option<[f64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auprc_ci: Option<[f64; 2]>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    groups: Vec<GroupMetrics>,
}

fn auc(a: AucArgs) -> anyhow::Result<()> {
    if a.reps > 0 {
        check_reps("--reps", a.reps, 2, "metrics (AUROC, AUPRC)")?;
    }
    let (cols, opt) = read_columns(&a.input, &[&["label"], &["score"]], &["group"])?;
    let labels_f = parse_numbers(&a.input, "label", &cols[0])?;
    let labels: Vec<bool> = labels_f
        .iter()
        .enumerate()
        .map(|(i, &l)| match l {
            1.0 => Ok(true),
            0.0 => Ok(false),
            x => bail!(
                "{} line {}: label is {x}: expected 0 or 1",
                a.input.display(),
                i + 2
            ),
        })
        .collect::<anyhow::Result<_>>()?;
    let scores = parse_numbers(&a.input, "score", &cols[1])?;
    let sc = SortedClasses::new(&labels, &scores)?;
    let mut out = AucOut {
        n: labels.len(),
        positives: sc.positives(),
        auroc: sc.auroc(),
        auprc: sc.average_precision(),
        auroc_ci: None,
        auprc_ci: None,
        groups: Vec::new(),
    };
    drop(sc);
    if a.reps > 0 {
        let params = BootstrapParams {
            reps: a.reps,
            confidence: a.confidence,
            seed: a.seed,
            ..BootstrapParams::default()
        };
        let (ra, rp) = bootstrap_ci(&labels, &scores, &params)?;
        out.auroc_ci = Some([ra.lo, ra.hi]);
        out.auprc_ci = Some([rp.lo, rp.hi]);
    }
    if let Some(Some(groups)) = opt.first() {
        out.groups = by_group(&labels, &scores, groups)?;
    }
    emit(a.format, &out, |o| {
        let ci = |c: &Option<[f64; 2]>| {
            c.map(|c| format!(" [{:.4}, {:.4}]", c[0], c[1]))
                .unwrap_or_default()
        };
        println!("n = {} ({} positive)", o.n, o.positives);
        println!("AUROC = {:.6}{}", o.auroc, ci(&o.auroc_ci));
        println!("AUPRC = {:.6}{}", o.auprc, ci(&o.auprc_ci));
        if !o.groups.is_empty() {
            println!(
                "{:<16} {:>8} {:>10} {:>10} {:>10}",
                "group", "n", "prevalence", "AUROC", "AUPRC"
            );
            let f = |x: Option<f64>| x.map(|v| format!("{v:.4}")).unwrap_or_else(|| "-".into());
            for g in &o.groups {
                println!(
                    "{:<16} {:>8} {:>10.4} {:>10} {:>10}",
                    g.group,
                    g.n,
                    g.prevalence,
                    f(g.auroc),
                    f(g.average_precision)
                );
            }
        }
    })
}

#[derive(Debug, Serialize)]
struct AdaStopOut {
    stage: usize,
    stages: usize,
    finished: bool,
    comparisons: Vec<ComparisonOutcome>,
    agents_to_run: Vec<String>,
}

fn adastop(a: AdaStopArgs) -> anyhow::Result<()> {
    let (cols, _) = read_columns(&a.results, &[&["agent", "algorithm"], &["score"]], &[])?;
    let scores = parse_numbers(&a.results, "score", &cols[1])?;
    let mut names: Vec<String> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut runs: Vec<Vec<f64>> = Vec::new();
    for (agent, &s) in cols[0].iter().zip(&scores) {
        match index.get(agent.as_str()) {
            Some(&i) => runs[i].push(s),
            None => {
                if names.len() == duality_eval::adastop::MAX_AGENTS {
                    bail!(
                        "{}: more than {} agents (AdaStop's limit, MAX_AGENTS)",
                        a.results.display(),
                        duality_eval::adastop::MAX_AGENTS
                    );
                }
                index.insert(agent, names.len());
                names.push(agent.clone());
                runs.push(vec![s]);
            }
        }
    }
    let variant = match a.variant.as_str() {
        "duality" => Variant::Duality,
        "adastop-0.1.3" => Variant::Adastop013,
        other => bail!("--variant {other:?}: expected duality or adastop-0.1.3"),
    };
    let group_sizes = match &a.group_sizes {
        None => None,
        Some(spec) => {
            let mut sizes = vec![a.n; names.len()];
            for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
                let (name, n) = part
                    .split_once('=')
                    .with_context(|| format!("--group-sizes entry {part:?}: expected NAME=N"))?;
                let n: usize = n.trim().parse().with_context(|| {
                    format!("--group-sizes entry {part:?}: {n:?} is not a run count")
                })?;
                let ag = index.get(name.trim()).copied().with_context(|| {
                    format!(
                        "--group-sizes names agent {name:?}, which is not in {}",
                        a.results.display()
                    )
                })?;
                sizes[ag] = n;
            }
            Some(sizes)
        }
    };
    let sizes = group_sizes
        .clone()
        .unwrap_or_else(|| vec![a.n; names.len()]);
    let params = AdaStopParams {
        n: a.n,
        stages: a.stages,
        alpha: a.alpha,
        permutations: a.permutations,
        seed: a.seed,
        comparisons: None,
        group_sizes,
        variant,
    };
    let mut study = match &a.state {
        Some(p) if p.exists() => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            // Validated in full (version, agents, comparisons, stage, data
            // lengths) before any of it is used.
            let s = AdaStop::from_json_str(&text, &p.display().to_string())?;
            if s.agents() != names.as_slice() {
                bail!(
                    "agents in {} ({}) differ from the state's ({})",
                    a.results.display(),
                    quote(&names.join(", ")),
                    quote(&s.agents().join(", "))
                );
            }
            if s.params() != &params {
                bail!(
                    "--n/--stages/--alpha/--permutations/--seed/--group-sizes/--variant differ from the saved state's {:?}",
                    s.params()
                );
            }
            for (ag, r) in runs.iter().enumerate() {
                for st in 0..s.stage() {
                    if let Some(saved) = s.stage_runs(ag, st) {
                        let n = sizes[ag];
                        if !saved.is_empty() && r.get(st * n..(st + 1) * n) != Some(saved) {
                            bail!(
                                "runs of agent {:?} in stage {} differ from the saved state",
                                names[ag],
                                st + 1
                            );
                        }
                    }
                }
            }
            s
        }
        _ => AdaStop::new(names.clone(), params).with_context(|| {
            format!(
                "{}: {} agent(s) {}",
                in_columns(&a.results, "column `agent`", scores.len()),
                names.len(),
                quote(&names.join(", "))
            )
        })?,
    };
    while !study.is_finished() && study.stage() < a.stages {
        let st = study.stage();
        let needed = study.agents_to_run();
        let mut batch = vec![Vec::new(); names.len()];
        let mut complete = true;
        for &ag in &needed {
            let n = sizes[ag];
            match runs[ag].get(st * n..(st + 1) * n) {
                Some(r) => batch[ag] = r.to_vec(),
                None => complete = false,
            }
        }
        if !complete {
            break;
        }
        study.update(&batch)?;
    }
    let out = AdaStopOut {
        stage: study.stage(),
        stages: a.stages,
        finished: study.is_finished(),
        comparisons: study.outcomes(),
        agents_to_run: if study.is_finished() {
            Vec::new()
        } else {
            study
                .agents_to_run()
                .into_iter()
                .map(|i| names[i].clone())
                .collect()
        },
    };
    if let Some(c) = out.comparisons.iter().find(|c| !c.statistic.is_finite()) {
        bail!(
            "the AdaStop statistic of {:?} vs {:?} overflows f64: rescale the scores",
            c.agent,
            c.other
        );
    }
    // Saved once everything is checked, atomically.
    if let Some(p) = &a.state {
        files::write_atomic(p, serde_json::to_string_pretty(&study)?)?;
    }
    emit(a.format, &out, |o| {
        println!(
            "stage {} of {}{}",
            o.stage,
            o.stages,
            if o.finished { " (finished)" } else { "" }
        );
        for c in &o.comparisons {
            println!("{:>16} vs {:<16} {:?}", c.agent, c.other, c.decision);
        }
        if !o.agents_to_run.is_empty() {
            println!(
                "run another stage ({} runs each unless --group-sizes says otherwise) of: {}",
                a.n,
                o.agents_to_run.join(", ")
            );
        }
    })
}

fn run_mcnemar(a: McNemarArgs) -> anyhow::Result<()> {
    let (cols, _) = read_columns(&a.input, &[&["y_true"], &["pred_a"], &["pred_b"]], &[])?;
    let table = McNemarTable::from_labels(&cols[0], &cols[1], &cols[2])
        .with_context(|| format!("{}", a.input.display()))?;
    let r = mcnemar(table)?;
    emit(a.format, &r, |r| {
        let t = &r.table;
        println!("                 B correct  B wrong");
        println!("A correct   {:>12} {:>8}", t.both_correct, t.only_a);
        println!("A wrong     {:>12} {:>8}", t.only_b, t.both_wrong);
        println!(
            "chi2 (corrected) = {:.6}, p = {:.6}",
            r.chi2_corrected, r.p_corrected
        );
        println!("chi2             = {:.6}, p = {:.6}", r.chi2, r.p_chi2);
        println!("exact binomial p = {:.6}", r.p_exact);
        println!("mid-p            = {:.6}", r.p_mid);
    })
}

/// A numeric CSV with named columns: (header names, columns).
fn read_numeric_table(path: &Path) -> anyhow::Result<(Vec<String>, Vec<Vec<f64>>)> {
    let name = path.display().to_string();
    let (mut rdr, headers) = record::csv_with_header(record::open_buffered(path)?, &name)?;
    let names: Vec<String> = headers.iter().map(|h| h.trim().to_string()).collect();
    if names.is_empty() || names.iter().all(String::is_empty) {
        bail!("{name}: empty file (expected a header line)");
    }
    let mut cols = vec![Vec::new(); names.len()];
    for (row_no, row) in rdr.records().enumerate() {
        let line = row_no + 2;
        let row = row.with_context(|| format!("{name} line {line}"))?;
        if row.len() != names.len() {
            bail!(
                "{name} line {line}: {} fields, expected {}",
                row.len(),
                names.len()
            );
        }
        for (c, v) in row.iter().enumerate() {
            let x: f64 = v.trim().parse().with_context(|| {
                format!(
                    "{name} line {line}: {} is not a number: {}",
                    names[c],
                    quote(v)
                )
            })?;
            if !x.is_finite() {
                bail!(
                    "{name} line {line}: {} is {x}: expected a finite number",
                    names[c]
                );
            }
            cols[c].push(x);
        }
    }
    if cols[0].is_empty() {
        bail!("{name}: no data rows");
    }
    Ok((names, cols))
}

#[derive(Debug, Serialize)]
struct ConformalOut {
    selected: Vec<usize>,
    models: Vec<String>,
    n_selected: usize,
}

fn conformal_select(a: ConformalSelectArgs) -> anyhow::Result<()> {
    use duality_eval::conformal::{
        self as cf, ClippedScore, FullData, LooLearner, ModelScores, OptCsConfig, Pruning, Ridge,
    };
    if !(a.q > 0.0 && a.q < 1.0) {
        bail!("--q {}: expected a level in (0, 1)", a.q);
    }
    let pruning: Pruning = a.pruning.parse()?;
    let config = OptCsConfig::new(a.q)?
        .with_pruning(pruning)
        .with_seed(a.seed);
    let score = ClippedScore::new(a.threshold)?;
    let (cal_names, cal_cols) = read_numeric_table(&a.calibration)?;
    let (test_names, test_cols) = read_numeric_table(&a.test)?;
    let cal = a.calibration.display();
    let Some(y_at) = cal_names.iter().position(|n| n == "y") else {
        bail!("{cal}: missing column `y` in header");
    };
    let models: Vec<String> = cal_names
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != y_at)
        .map(|(_, n)| n.clone())
        .collect();
    if models.is_empty() {
        bail!("{cal}: no model columns besides `y`");
    }
    if test_names != models {
        bail!(
            "model columns differ: {cal} has [{}] but {} has [{}]",
            models.join(", "),
            a.test.display(),
            test_names.join(", ")
        );
    }
    let y = &cal_cols[y_at];
    let cal_pred: Vec<Vec<f64>> = cal_cols
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != y_at)
        .map(|(_, c)| c.clone())
        .collect();
    let (selected, chosen): (Vec<usize>, Vec<usize>) = match a.method.as_str() {
        "bh" => {
            let (c, t) = score.scores(y, &cal_pred[0], &test_cols[0])?;
            let s = cf::conformal_select(&c, &t, a.q)?;
            let k = s.selected.len();
            (s.selected, vec![0; k])
        }
        "optcs" => {
            let scores = ModelScores::clipped(score, y, &cal_pred, &test_cols)?;
            let r = cf::opt_cs(&scores, &config)?;
            let chosen = r.selected.iter().map(|&j| r.points[j].model).collect();
            (r.selected, chosen)
        }
        "optcs-full" => {
            let rows = |cols: &[Vec<f64>]| -> Vec<Vec<f64>> {
                (0..cols[0].len())
                    .map(|i| cols.iter().map(|c| c[i]).collect())
                    .collect()
            };
            let (labelled, test) = (rows(&cal_pred), rows(&test_cols));
            let ridges: Vec<Ridge> = (0..models.len())
                .map(|k| Ridge::new(1e-6, Some(vec![k])))
                .collect::<duality_eval::Result<_>>()?;
            let learners: Vec<&dyn LooLearner> =
                ridges.iter().map(|r| r as &dyn LooLearner).collect();
            let data = FullData {
                labelled: &labelled,
                outcomes: y,
                test: &test,
                threshold: a.threshold,
            };
            let r = cf::opt_cs_full(data, &learners, &config)?;
            let chosen = r.selected.iter().map(|&j| r.points[j].model).collect();
            (r.selected, chosen)
        }
        other => bail!("--method {other:?}: expected optcs, optcs-full or bh"),
    };
    let out = ConformalOut {
        n_selected: selected.len(),
        models: chosen.iter().map(|&k| models[k].clone()).collect(),
        selected,
    };
    emit(a.format, &out, |o| {
        println!("{} selected at q = {} ({}):", o.n_selected, a.q, a.method);
        for (j, m) in o.selected.iter().zip(&o.models) {
            println!("  row {j:>6}  model {m}");
        }
    })
}

fn corrected_t(a: CorrectedTArgs) -> anyhow::Result<()> {
    let (cols, _) = read_columns(&a.input, &[&["difference"]], &[])?;
    let d = parse_numbers(&a.input, "difference", &cols[0])?;
    let r = duality_eval::comparison::corrected_resampled_t(&d, a.n_train, a.n_test)
        .with_context(|| in_columns(&a.input, "column `difference`", d.len()))?;
    emit(a.format, &r, |r| {
        println!(
            "corrected resampled t = {:.6} ({} splits), p = {:.6}",
            r.statistic,
            d.len(),
            r.p_value
        )
    })
}

#[derive(Debug, Serialize)]
struct PairedOut {
    n: usize,
    mean_difference: f64,
    analytic_ci: [f64; 2],
    bootstrap_ci: [f64; 2],
}

fn read_item_scores(path: &Path) -> anyhow::Result<Vec<(String, f64)>> {
    let (cols, _) = read_columns(path, &[&["item"], &["score"]], &[])?;
    let scores = parse_numbers(path, "score", &cols[1])?;
    Ok(cols[0].iter().cloned().zip(scores).collect())
}

fn paired_ci(a: PairedCiArgs) -> anyhow::Result<()> {
    use duality_eval::comparison::PairedScores;
    let (sa, sb) = (read_item_scores(&a.a)?, read_item_scores(&a.b)?);
    // Items in one file only, named by file and line (the library's
    // check would not know the files).
    for ((this, this_path), (other, other_path)) in
        [((&sa, &a.a), (&sb, &a.b)), ((&sb, &a.b), (&sa, &a.a))]
    {
        let known: std::collections::HashSet<&str> =
            other.iter().map(|(item, _)| item.as_str()).collect();
        if let Some(i) = this
            .iter()
            .position(|(item, _)| !known.contains(item.as_str()))
        {
            bail!(
                "{} line {}: item {} has no score in {} (column `item`: both files must list \
                 the same items)",
                this_path.display(),
                i + 2,
                quote(&this[i].0),
                other_path.display()
            );
        }
    }
    let files = || format!("--a {} --b {}", a.a.display(), a.b.display());
    let p = PairedScores::by_item(&sa, &sb).with_context(files)?;
    let an = p.analytic_ci(a.confidence).with_context(files)?;
    let bs = p
        .bootstrap_ci(a.reps, a.confidence, a.seed)
        .with_context(files)?;
    let out = PairedOut {
        n: p.len(),
        mean_difference: an.estimate,
        analytic_ci: [an.lo, an.hi],
        bootstrap_ci: [bs.lo, bs.hi],
    };
    emit(a.format, &out, |o| {
        println!(
            "mean difference (A - B) over {} items: {:.6}",
            o.n, o.mean_difference
        );
        println!(
            "analytic (paired t)  [{:.6}, {:.6}]",
            o.analytic_ci[0], o.analytic_ci[1]
        );
        println!(
            "bootstrap percentile [{:.6}, {:.6}]",
            o.bootstrap_ci[0], o.bootstrap_ci[1]
        );
    })
}

fn cluster_accuracy(a: ClusterAccuracyArgs) -> anyhow::Result<()> {
    let (cols, _) = read_columns(&a.input, &[&["correct"], &["cluster"]], &[])?;
    let correct = parse_numbers(&a.input, "correct", &cols[0])?
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            1.0 => Ok(true),
            0.0 => Ok(false),
            other => bail!(
                "{} line {}: correct is {other}: expected 0 or 1",
                a.input.display(),
                i + 2
            ),
        })
        .collect::<anyhow::Result<Vec<bool>>>()?;
    let r = duality_eval::comparison::clustered_accuracy(&correct, &cols[1])
        .with_context(|| in_columns(&a.input, "columns `correct` and `cluster`", correct.len()))?;
    emit(a.format, &r, |r| {
        println!(
            "accuracy {:.6} over {} items in {} clusters",
            r.accuracy, r.n, r.clusters
        );
        println!(
            "se (iid) {:.6}, se (cluster-robust) {:.6}, design effect {:.3}",
            r.se_iid, r.se_cluster, r.design_effect
        );
    })
}

#[derive(Debug, Serialize)]
struct DelongOut {
    auroc_a: f64,
    auroc_b: f64,
    difference: f64,
    ci: [f64; 2],
    p_value: f64,
}

fn delong_ci(a: DelongCiArgs) -> anyhow::Result<()> {
    let (cols, _) = read_columns(&a.input, &[&["label"], &["score_a"], &["score_b"]], &[])?;
    let rows = cols[0].len();
    let labels =
        duality_eval::ranking::labels_from_f64(&parse_numbers(&a.input, "label", &cols[0])?)
            .with_context(|| in_columns(&a.input, "column `label`", rows))?;
    let sa = parse_numbers(&a.input, "score_a", &cols[1])?;
    let sb = parse_numbers(&a.input, "score_b", &cols[2])?;
    let d = duality_eval::ranking::delong_test(&labels, &sa, &sb)
        .with_context(|| in_columns(&a.input, "columns `label`, `score_a`, `score_b`", rows))?;
    let ci = d.difference_ci(a.confidence)?;
    let out = DelongOut {
        auroc_a: d.auroc_a,
        auroc_b: d.auroc_b,
        difference: ci.estimate,
        ci: [ci.lo, ci.hi],
        p_value: d.p_value,
    };
    emit(a.format, &out, |o| {
        println!(
            "AUROC A {:.6}, B {:.6}; difference {:.6} [{:.6}, {:.6}], p = {:.6}",
            o.auroc_a, o.auroc_b, o.difference, o.ci[0], o.ci[1], o.p_value
        );
    })
}

#[derive(Debug, Serialize)]
struct PlanOut {
    algorithm: String,
    #[serde(flatten)]
    plan: duality_eval::comparison::RunPlan,
}

fn plan(a: PlanArgs) -> anyhow::Result<()> {
    use duality_eval::comparison::{
        plan_for_power, plan_for_width, plan_improvement_power, plan_improvement_width,
    };
    let set = load_scores(&a.scores)?;
    let bs = StratifiedBootstrap::new(a.reps, 0.95, a.seed)?;
    let mode = match (a.target_width, a.power, a.effect) {
        (Some(w), None, None) => Ok(w),
        (None, Some(p), Some(d)) => Err((p, d)),
        _ => bail!("give either --target-width W, or --power P with --effect D"),
    };
    let mut rows = Vec::new();
    match a.statistic {
        PlanStatistic::Iqm => {
            for m in set.matrices() {
                let plan = match mode {
                    Ok(w) => plan_for_width(m, w, &bs)?,
                    Err((p, d)) => plan_for_power(m, d, p, a.alpha, &bs)?,
                };
                rows.push(PlanOut {
                    algorithm: m.algorithm().to_string(),
                    plan,
                });
            }
        }
        PlanStatistic::Improvement => {
            let (Some(xn), Some(yn)) = (&a.x, &a.y) else {
                bail!(
                    "--statistic improvement needs --x A and --y B (algorithms of {})",
                    a.scores.display()
                );
            };
            let (x, y) = (set.get(xn)?, set.get(yn)?);
            let plan = match mode {
                Ok(w) => plan_improvement_width(x, y, w, &bs)?,
                Err((p, d)) => plan_improvement_power(x, y, d, p, a.alpha, &bs)?,
            };
            rows.push(PlanOut {
                algorithm: format!("P({xn} > {yn})"),
                plan,
            });
        }
    }
    let what = match a.statistic {
        PlanStatistic::Iqm => "IQM",
        PlanStatistic::Improvement => "P(X > Y)",
    };
    emit(a.format, &rows, |rows| {
        for r in rows {
            println!(
                "{:>16}: pilot {} runs ({what} CI width {:.4}) -> {} runs per task (predicted {} {:.4})",
                r.algorithm,
                r.plan.pilot_runs,
                r.plan.pilot_width,
                r.plan.runs,
                if mode.is_ok() { "width" } else { "power" },
                r.plan.predicted
            );
        }
    })
}

#[derive(Debug, Serialize)]
struct RoeSample {
    sample: String,
    certificates: Vec<RoeCert>,
}

#[derive(Debug, Serialize)]
struct RoeCert {
    method: &'static str,
    prediction: usize,
    radius: usize,
}

#[derive(Debug, Serialize)]
struct RoeCurve {
    method: &'static str,
    /// Certified accuracy at radius 0, 1, ... (until it reaches 0).
    certified_accuracy: Vec<f64>,
}

#[derive(Debug, Serialize)]
struct RoeOut {
    k: usize,
    d: usize,
    models: usize,
    classes: usize,
    methods: Vec<&'static str>,
    samples: Vec<RoeSample>,
    #[serde(skip_serializing_if = "Option::is_none")]
    accuracy: Option<Vec<RoeCurve>>,
}

/// Reads `sample,label` into labels in the order of `names`; every sample
/// of the votes file needs exactly one label and no other sample may appear.
fn read_roe_labels(path: &Path, names: &[String], classes: usize) -> anyhow::Result<Vec<usize>> {
    let (cols, _) = read_columns(path, &[&["sample"], &["label"]], &[])?;
    let index: std::collections::HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut labels: Vec<Option<usize>> = vec![None; names.len()];
    for (row, (s, l)) in cols[0].iter().zip(&cols[1]).enumerate() {
        let line = row + 2;
        let Some(&i) = index.get(s.as_str()) else {
            bail!(
                "{} line {line}: sample {s:?} is not in the votes file",
                path.display()
            );
        };
        let label: usize = l.parse().ok().filter(|&c| c < classes).with_context(|| {
            format!(
                "{} line {line}: label {l:?}: expected a class index below {classes}",
                path.display()
            )
        })?;
        if labels[i].replace(label).is_some() {
            bail!(
                "{} line {line}: second label for sample {s:?}",
                path.display()
            );
        }
    }
    labels
        .into_iter()
        .zip(names)
        .map(|(l, n)| l.with_context(|| format!("{}: no label for sample {n:?}", path.display())))
        .collect()
}

fn roe(a: RoeArgs) -> anyhow::Result<()> {
    use duality_eval::poisoning::{certified_accuracy, Certifier, Layout, LogitTable, Method};
    let name = a.votes.display().to_string();
    let (names, table) = LogitTable::read_csv(record::open_buffered(&a.votes)?, &name)?;
    let models = table.models();
    let (layout, methods) = match &a.shifts {
        None => (Layout::dpa(models)?, vec![Method::Dpa, Method::DpaRoe]),
        Some(shifts) => {
            let d = shifts.len();
            if d == 0 || models % d != 0 {
                bail!(
                    "--shifts gives d = {d}, but the {models} models of {name} are not k d classifiers for an integer k"
                );
            }
            let layout = Layout::with_shifts(models / d, shifts.clone())?;
            let methods = if d == 1 {
                Method::ALL.to_vec()
            } else {
                vec![Method::Fa, Method::FaRoe]
            };
            (layout, methods)
        }
    };
    let certifier = Certifier::new(&table, &layout)?;
    let certs: Vec<Vec<duality_eval::poisoning::Certificate>> = methods
        .iter()
        .map(|&m| certifier.certify_all(m))
        .collect::<duality_eval::Result<_>>()?;
    let accuracy = match &a.labels {
        None => None,
        Some(path) => {
            let labels = read_roe_labels(path, &names, table.classes())?;
            let max_r = certs.iter().flatten().map(|c| c.radius).max().unwrap_or(0);
            Some(
                methods
                    .iter()
                    .zip(&certs)
                    .map(|(m, c)| {
                        let mut curve = certified_accuracy(c, &labels, max_r + 1)?;
                        while curve.len() > 1
                            && curve[curve.len() - 1] == 0.0
                            && curve[curve.len() - 2] == 0.0
                        {
                            curve.pop();
                        }
                        Ok(RoeCurve {
                            method: m.name(),
                            certified_accuracy: curve,
                        })
                    })
                    .collect::<duality_eval::Result<Vec<_>>>()?,
            )
        }
    };
    let samples = names
        .iter()
        .enumerate()
        .map(|(i, n)| RoeSample {
            sample: n.clone(),
            certificates: methods
                .iter()
                .zip(&certs)
                .map(|(m, c)| RoeCert {
                    method: m.name(),
                    prediction: c[i].prediction,
                    radius: c[i].radius,
                })
                .collect(),
        })
        .collect();
    let out = RoeOut {
        k: layout.k(),
        d: layout.d(),
        models,
        classes: table.classes(),
        methods: methods.iter().map(|m| m.name()).collect(),
        samples,
        accuracy,
    };
    emit(a.format, &out, |o| {
        println!(
            "{} models, {} classes, k = {}, d = {}; radius = poisoned training samples each prediction survives",
            o.models, o.classes, o.k, o.d
        );
        print!("{:>16}", "sample");
        for m in &o.methods {
            print!(" {:>10} {:>6}", format!("{m} pred"), "radius");
        }
        println!();
        for s in &o.samples {
            print!("{:>16}", s.sample);
            for c in &s.certificates {
                print!(" {:>10} {:>6}", c.prediction, c.radius);
            }
            println!();
        }
        if let Some(acc) = &o.accuracy {
            println!("certified accuracy by radius:");
            for c in acc {
                let cells: Vec<String> = c
                    .certified_accuracy
                    .iter()
                    .map(|v| format!("{v:.3}"))
                    .collect();
                println!("{:>10}: {}", c.method, cells.join(" "));
            }
        }
    })
}
