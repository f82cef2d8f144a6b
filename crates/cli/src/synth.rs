//! `duality synth ...`: differentially private synthetic data (Private-GSD,
//! `duality_combopt::private_gsd`).
//!
//! - `synth gsd [--data FILE.csv] [--k 2] (--epsilon E [--delta D] | --rho R)
//!   [--rows N] [--generations G] [--patience P] [--seed S] [--out FILE.csv]
//!   [--format json]`: measures all k-way marginals with the Gaussian
//!   mechanism, fits a synthetic table with the genetic algorithm and
//!   prints the privacy budget and the query errors of Private-GSD and of
//!   the independent-marginals baseline (same budget). Without `--data`,
//!   the bundled breast-cancer table. CSV header: `name:size` per column.
//! - `synth budget (--epsilon E --delta D | --rho R --delta D)`: zCDP <->
//!   (epsilon, delta) conversions.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use duality_combopt::private_gsd::{
    independent_baseline, privacy, private_gsd, Budget, Dataset, GsdParams,
};
use serde::Serialize;

use crate::output::{emit, Format};

/// `duality synth ...`.
#[derive(Debug, Subcommand)]
pub enum SynthCommand {
    /// Private-GSD: private synthetic data by a genetic algorithm on k-way marginals.
    Gsd(GsdArgs),
    /// Convert privacy budgets: (epsilon, delta) -> zCDP rho, or rho -> epsilon.
    Budget(BudgetArgs),
}

/// Arguments of `duality synth gsd`.
#[derive(Debug, Args)]
pub struct GsdArgs {
    /// Discrete table (CSV, header `name:size` per column); default: the
    /// bundled breast-cancer table.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Marginal order of the measured queries.
    #[arg(long, default_value_t = 2)]
    pub k: usize,
    /// epsilon of (epsilon, delta)-DP (or give --rho).
    #[arg(long)]
    pub epsilon: Option<f64>,
    /// delta of (epsilon, delta)-DP.
    #[arg(long, default_value_t = 1e-5)]
    pub delta: f64,
    /// zCDP budget instead of --epsilon.
    #[arg(long, conflicts_with = "epsilon")]
    pub rho: Option<f64>,
    /// Rows of the synthetic table (default: as many as the data).
    #[arg(long)]
    pub rows: Option<usize>,
    /// Most generations of the genetic algorithm.
    #[arg(long, default_value_t = 20_000)]
    pub generations: usize,
    /// Stop after this many generations without improvement (0: never).
    #[arg(long, default_value_t = 2_000)]
    pub patience: usize,
    /// Seed of the noise and of the genetic algorithm.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write the synthetic table here (CSV, same header format).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality synth budget`.
#[derive(Debug, Args)]
pub struct BudgetArgs {
    /// epsilon (gives rho).
    #[arg(long)]
    pub epsilon: Option<f64>,
    /// zCDP rho (gives epsilon).
    #[arg(long, conflicts_with = "epsilon")]
    pub rho: Option<f64>,
    /// delta.
    #[arg(long, default_value_t = 1e-5)]
    pub delta: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Serialize)]
struct GsdOut {
    rows: usize,
    attributes: usize,
    k: usize,
    rho: f64,
    epsilon: Option<f64>,
    delta: Option<f64>,
    sigma: f64,
    synthetic_rows: usize,
    generations: usize,
    gsd_max_error: f64,
    gsd_mean_error: f64,
    noisy_mean_error: Option<f64>,
    independent_max_error: f64,
    independent_mean_error: f64,
    out: Option<PathBuf>,
}

#[derive(Serialize)]
struct BudgetOut {
    epsilon: f64,
    delta: f64,
    rho: f64,
    epsilon_simple_bound: f64,
}

/// Runs `duality synth ...`.
pub fn run(cmd: SynthCommand) -> anyhow::Result<()> {
    match cmd {
        SynthCommand::Gsd(a) => {
            let budget = match (a.epsilon, a.rho) {
                (Some(epsilon), None) => Budget::Approx {
                    epsilon,
                    delta: a.delta,
                },
                (None, Some(rho)) => Budget::Zcdp(rho),
                _ => bail!("give --epsilon E (with --delta) or --rho R"),
            };
            // Bad budgets fail before the data is read.
            let rho = budget.rho().context("privacy budget")?;
            let data = match &a.data {
                Some(p) => Dataset::read_csv(p)?,
                None => Dataset::breast_cancer()?,
            };
            let params = GsdParams {
                synthetic_rows: a.rows.unwrap_or(data.rows()),
                generations: a.generations,
                patience: a.patience,
                ..GsdParams::default()
            };
            let g = private_gsd(&data, a.k, budget, &params, a.seed)?;
            let b = independent_baseline(&data, a.k, budget, a.seed)?;
            if let Some(path) = &a.out {
                duality_core::files::write_atomic(path, g.synthetic.to_csv())?;
            }
            let out = GsdOut {
                rows: data.rows(),
                attributes: data.domain().len(),
                k: a.k,
                rho,
                epsilon: a.epsilon,
                delta: a.epsilon.map(|_| a.delta),
                sigma: g.sigma,
                synthetic_rows: g.synthetic.rows(),
                generations: g.generations,
                gsd_max_error: g.max_error,
                gsd_mean_error: g.mean_error,
                noisy_mean_error: g.noisy_mean_error,
                independent_max_error: b.max_error,
                independent_mean_error: b.mean_error,
                out: a.out.clone(),
            };
            emit(a.format, &out, |o| {
                println!(
                    "data {} rows x {} attributes, all {}-way marginals",
                    o.rows, o.attributes, o.k
                );
                match (o.epsilon, o.delta) {
                    (Some(e), Some(d)) => {
                        println!("budget      ({e}, {d})-DP = rho {:.6} zCDP", o.rho)
                    }
                    _ => println!("budget      rho {} zCDP", o.rho),
                }
                println!("noise sd    {:.5} per query", o.sigma);
                println!(
                    "Private-GSD {} rows, {} generations: max |error| {:.4}, mean {:.4}",
                    o.synthetic_rows, o.generations, o.gsd_max_error, o.gsd_mean_error
                );
                println!(
                    "independent max |error| {:.4}, mean {:.4}",
                    o.independent_max_error, o.independent_mean_error
                );
                if let Some(p) = &o.out {
                    println!("wrote {}", p.display());
                }
            })
        }
        SynthCommand::Budget(a) => {
            let out = match (a.epsilon, a.rho) {
                (Some(epsilon), None) => {
                    let rho = privacy::cdp_rho(epsilon, a.delta)?;
                    BudgetOut {
                        epsilon,
                        delta: a.delta,
                        rho,
                        epsilon_simple_bound: privacy::zcdp_to_eps_simple(rho, a.delta)?,
                    }
                }
                (None, Some(rho)) => BudgetOut {
                    epsilon: privacy::cdp_eps(rho, a.delta)?,
                    delta: a.delta,
                    rho,
                    epsilon_simple_bound: privacy::zcdp_to_eps_simple(rho, a.delta)?,
                },
                _ => bail!("give --epsilon E or --rho R"),
            };
            emit(a.format, &out, |o| {
                println!(
                    "epsilon {} delta {} <-> rho {} zCDP",
                    o.epsilon, o.delta, o.rho
                );
                println!(
                    "(Bun-Steinke simple bound: rho gives epsilon {})",
                    o.epsilon_simple_bound
                );
            })
        }
    }
}
