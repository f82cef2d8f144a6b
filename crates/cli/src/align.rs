//! `duality align ...`: commands over `duality_align`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use duality_align::loss::{loss_values, LossConfig, LossKind, PairLogProbs};
use duality_align::run::{run as run_config, RunConfig, RunReport};
use duality_align::train::offline::Offline;
use duality_align::train::{Trainer, TrainerInfo};
use duality_core::error::{short_number, shorten, MAX_VALUE_CHARS};
use serde::Serialize;

use crate::output::{emit, Format};

/// Commands of the `align` area.
#[derive(Debug, Subcommand)]
pub enum AlignCommand {
    /// Pairwise preference losses of sequence log-probs from a CSV with columns
    /// policy_chosen,policy_rejected,ref_chosen,ref_rejected; prints one loss per row
    /// and the mean (JSON by default).
    Loss {
        /// CSV file (header required).
        #[arg(long)]
        input: PathBuf,
        /// dpo | cdpo | ipo | slic | slic-hf | robust (simpo and orpo need
        /// token counts; slic-hf ignores the ref_* columns).
        #[arg(long, default_value = "dpo")]
        loss: LossKind,
        /// beta (> 0).
        #[arg(long, default_value_t = 0.1)]
        beta: f64,
        /// Label smoothing e in [0, 0.5) (cdpo, robust).
        #[arg(long, default_value_t = 0.0)]
        label_smoothing: f64,
        /// Output format (JSON by default, as before `--format` existed).
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Lists the registered trainers (the names `trainer = "..."` accepts in
    /// a `train` config) with what they do and their default settings.
    Trainers {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Runs one registered trainer on one test bed from a TOML config and
    /// reports win rate vs the reference, true reward and KL.
    Train {
        /// TOML config (see `duality_align::run`).
        #[arg(long)]
        config: PathBuf,
        /// Cached reference log-probs of the training pairs (offline
        /// trainer): read when the file exists (refused unless made for
        /// the same pairs and reference), else computed once and written.
        /// Overrides `[offline] reference_cache`. Format: docs/align.md.
        #[arg(long)]
        reference_cache: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Serialize)]
struct LossOutput {
    loss: String,
    beta: f64,
    label_smoothing: f64,
    losses: Vec<f64>,
    mean: f64,
}

const COLUMNS: [&str; 4] = [
    "policy_chosen",
    "policy_rejected",
    "ref_chosen",
    "ref_rejected",
];

fn read_pairs(path: &PathBuf) -> anyhow::Result<[Vec<f64>; 4]> {
    let name = path.display().to_string();
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("cannot open {name}"))?;
    // A directory opens but fails at the first read: name the file.
    let headers = reader
        .headers()
        .with_context(|| format!("{name}: cannot read the CSV header"))?
        .clone();
    let idx: Vec<usize> = COLUMNS
        .iter()
        .map(|c| {
            headers
                .iter()
                .position(|h| h.trim() == *c)
                .with_context(|| {
                    format!("{name}: missing column `{c}` (need {})", COLUMNS.join(","))
                })
        })
        .collect::<anyhow::Result<_>>()?;
    let mut cols: [Vec<f64>; 4] = Default::default();
    for (row, rec) in reader.records().enumerate() {
        let line = row + 2;
        let rec = rec.with_context(|| format!("{name} line {line}: malformed CSV"))?;
        for (k, &i) in idx.iter().enumerate() {
            let field = rec.get(i).unwrap_or("").trim();
            // A huge field is quoted by its start and length only.
            let shown = || shorten(&format!("{field:?}"), MAX_VALUE_CHARS);
            let v: f64 = field.parse().map_err(|_| {
                duality_core::Error::parse(
                    name.clone(),
                    Some(line),
                    format!("{} is not a number: {}", COLUMNS[k], shown()),
                )
            })?;
            if !v.is_finite() {
                return Err(duality_core::Error::parse(
                    name.clone(),
                    Some(line),
                    format!("{} is not finite: {}", COLUMNS[k], shown()),
                )
                .into());
            }
            cols[k].push(v);
        }
    }
    if cols[0].is_empty() {
        anyhow::bail!("{name}: no data rows");
    }
    Ok(cols)
}

/// The mean of finite losses without overflow (each term divided first,
/// so two losses near f64::MAX do not sum to infinity), or an error if even
/// that is not finite. `-0.0` prints as `0`.
fn finite_mean(losses: &[f64]) -> anyhow::Result<f64> {
    let n = losses.len() as f64;
    let mean = losses.iter().map(|l| l / n).sum::<f64>() + 0.0;
    if !mean.is_finite() {
        anyhow::bail!(
            "the mean loss over {} pairs is not finite: {mean}",
            losses.len()
        );
    }
    Ok(mean)
}

/// Runs one `align` command.
pub fn run(cmd: AlignCommand) -> anyhow::Result<()> {
    match cmd {
        AlignCommand::Loss {
            input,
            loss,
            beta,
            label_smoothing,
            format,
        } => {
            if matches!(loss, LossKind::Simpo | LossKind::Orpo) {
                anyhow::bail!(
                    "loss `{loss}` needs token counts; use dpo, cdpo, ipo, slic, slic-hf or robust"
                );
            }
            // The flags as the user typed them name the error (issue #25).
            let checked = LossConfig::new(loss, beta)
                .label_smoothing(label_smoothing)
                .check()
                .with_context(|| {
                    format!(
                        "--loss {loss} --beta {} --label-smoothing {}",
                        short_number(beta),
                        short_number(label_smoothing)
                    )
                })?;
            let [pc, pr, rc, rr] = read_pairs(&input)?;
            let pairs = PairLogProbs::from_slices(&pc, &pr, &rc, &rr, None)?;
            let mut losses = loss_values(&checked, &pairs)?;
            for (row, l) in losses.iter_mut().enumerate() {
                if !l.is_finite() {
                    anyhow::bail!(
                        "{}: the loss of the pair on line {} is not finite: {l}",
                        input.display(),
                        row + 2
                    );
                }
                *l += 0.0; // -0.0 prints as 0
            }
            let mean = finite_mean(&losses)?;
            let out = LossOutput {
                loss: loss.to_string(),
                beta,
                label_smoothing,
                losses,
                mean,
            };
            emit(format, &out, |o: &LossOutput| {
                println!(
                    "{} loss, beta {}, label smoothing {}",
                    o.loss, o.beta, o.label_smoothing
                );
                println!("{:>6}  loss", "line");
                for (row, l) in o.losses.iter().enumerate() {
                    println!("{:>6}  {l:.6}", row + 2);
                }
                println!("  mean  {:.6}  ({} pairs)", o.mean, o.losses.len());
            })
        }
        AlignCommand::Trainers { format } => {
            let list = duality_align::train::trainers()?;
            emit(format, &list, |list: &Vec<TrainerInfo>| {
                let width = list.iter().map(|t| t.name.len()).max().unwrap_or(0);
                for t in list {
                    let curve = if t.observed { "curve" } else { "     " };
                    println!("{:width$}  {curve}  {}", t.name, t.about);
                }
            })
        }
        AlignCommand::Train {
            config,
            reference_cache,
            format,
        } => {
            let name = config.display().to_string();
            let mut cfg = RunConfig::load_toml(&config)?;
            if let Some(path) = reference_cache {
                if cfg.trainer != Offline::NAME {
                    anyhow::bail!(
                        "--reference-cache applies to trainer \"offline\" only (the config's trainer is {:?})",
                        cfg.trainer
                    );
                }
                let path = path
                    .to_str()
                    .with_context(|| format!("--reference-cache {}: not UTF-8", path.display()))?
                    .to_string();
                cfg.edit_trainer_config::<Offline>(|o| o.reference_cache = path)?;
            }
            // Size limits, divergence and trainer errors are about the
            // config file: name it (load errors already do).
            let report = run_config(&cfg).with_context(|| format!("--config {name}"))?;
            emit(format, &report, |r: &RunReport| {
                println!("trainer   {} on {} (seed {})", r.trainer, r.testbed, r.seed);
                println!(
                    "win rate  {:.3}  [{:.3}, {:.3}]  vs reference, n = {}",
                    r.win_rate.mean, r.win_rate.lo, r.win_rate.hi, r.win_rate.n
                );
                if let (Some(t), Some(b)) = (&r.true_reward, &r.reference_reward) {
                    println!("reward    {:.3}  (reference {:.3})", t.mean, b.mean);
                }
                println!("KL        {:.3}", r.kl.mean);
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::finite_mean;

    #[test]
    fn the_mean_of_huge_losses_does_not_overflow() {
        let m = finite_mean(&[f64::MAX, f64::MAX, 0.0]).unwrap();
        assert!((m - f64::MAX * (2.0 / 3.0)).abs() <= f64::MAX * 1e-15);
        assert_eq!(finite_mean(&[-0.0]).unwrap().to_bits(), 0.0f64.to_bits());
        assert!(finite_mean(&[f64::INFINITY]).is_err());
    }
}
