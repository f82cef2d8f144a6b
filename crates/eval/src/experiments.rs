//! Suite `eval`: statistics of evaluation (bootstrap CIs, AUROC) and their speed (duality-eval).
//!
//! - `bootstrap-iqm`: stratified-bootstrap IQM CIs for 5 algorithms x 26
//!   tasks x 10 runs at 50,000 replicates (2,000 in `--quick`), as rliable's
//!   Atari-100k figures; records the seconds per algorithm (notes only).
//! - `auroc`: AUROC and average precision on 10^7 scores (10^5 in `--quick`).
//! - `iqm-vs-median`: the Statistical Precipice claim that IQM intervals are
//!   far tighter than median intervals with few runs (3 runs x 26 tasks).
//!
//! Peer timings (rliable, scikit-learn) come from
//! `fixtures/eval/peer_timing.py`, which runs the same work on the same
//! generated inputs.

use std::time::Instant;

use crate::plot;
use crate::prelude::*;
use crate::ranking::SortedClasses;
use duality_core::record::RunRecord;
use duality_core::seed::DualityRng;
use rand::Rng;
use serde::Deserialize;

use duality_bench::PeerSpec;
use duality_bench::{Context, Experiment, Figure, Headline, Outcome, Suite};

/// The peer script (rliable and scikit-learn on the same work).
const PEER_SCRIPT: &str = "fixtures/eval/peer_timing.py";

/// The `eval` suite.
pub fn suite() -> Suite {
    Suite {
        name: "eval",
        about: "statistics of evaluation (bootstrap CIs, AUROC) and their speed",
        defaults: include_str!("../../../fixtures/bench/eval.toml"),
        experiments: vec![
            Experiment {
                name: "bootstrap-iqm",
                about: "stratified bootstrap IQM CI, 5 algorithms x 26 tasks x 10 runs, 50k reps (rliable: 50x slower target)",
                run: bootstrap_iqm,
            },
            Experiment {
                name: "auroc",
                about: "AUROC + average precision on 10^7 scores with one sort (scikit-learn: 3x slower target)",
                run: auroc,
            },
            Experiment {
                name: "iqm-vs-median",
                about: "claim: IQM CIs are far tighter than median CIs at few runs (Agarwal et al. 2021)",
                run: iqm_vs_median,
            },
        ],
    }
}

const ALGORITHMS: [&str; 5] = ["DER", "OTR", "CURL", "DrQ", "SPR"];

/// Synthetic normalised scores in the spirit of Atari 100k: per-task
/// difficulty (log-normal), per-algorithm skill, log-normal run noise.
/// Shared with `fixtures/eval/peer_timing.py` through the CSV it reads.
pub fn synthetic_scores(rng: &mut DualityRng, runs: usize, tasks: usize) -> Vec<ScoreMatrix> {
    let normal = |rng: &mut DualityRng| -> f64 {
        // Box-Muller keeps this independent of rand_distr versions.
        let u1: f64 = 1.0 - rng.random::<f64>();
        let u2: f64 = rng.random();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    };
    let difficulty: Vec<f64> = (0..tasks)
        .map(|_| (normal(rng) * 0.8 - 0.7).exp())
        .collect();
    ALGORITHMS
        .iter()
        .enumerate()
        .map(|(a, name)| {
            let skill = 0.6 + 0.15 * a as f64;
            let data = (0..runs * tasks)
                .map(|i| difficulty[i % tasks] * skill * (normal(rng) * 0.6).exp())
                .collect();
            let names = (0..tasks).map(|t| format!("game{t:02}")).collect();
            ScoreMatrix::from_flat(*name, names, runs, data).expect("synthetic scores are finite")
        })
        .collect()
}

/// Parameters of `bootstrap-iqm` and `iqm-vs-median` (`fixtures/bench/eval.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BootstrapParams {
    /// Bootstrap replicates per interval.
    replicates: usize,
    /// Runs per (algorithm, task).
    runs: usize,
    /// Tasks of the synthetic score matrix.
    tasks: usize,
}

/// Parameters of `auroc`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AurocParams {
    /// Number of scores.
    scores: usize,
    /// Timed repetitions of the metric (at most the number of seeds).
    timings: usize,
}

fn bootstrap_iqm(ctx: &Context) -> anyhow::Result<Outcome> {
    let BootstrapParams {
        replicates: reps,
        runs,
        tasks,
    } = ctx.params()?;
    let mut out = Outcome::default();
    let mut seconds = Vec::new();
    let mut first_rows = Vec::new();
    for &seed in &ctx.seeds {
        let mut rng = ctx.seeder.rng(seed);
        let set = synthetic_scores(&mut rng, runs, tasks);
        let bs = StratifiedBootstrap::new(reps, 0.95, ctx.seeder.seed_for(1000 + seed))?;
        let start = Instant::now();
        let mut rows = Vec::new();
        for m in &set {
            let t0 = Instant::now();
            let ci = bs.interval(m, Metric::Iqm)?;
            let secs = t0.elapsed().as_secs_f64();
            out.records.push(
                RunRecord::new(m.algorithm(), format!("synthetic-{tasks}x{runs}"), seed)
                    .with_metric("iqm", ci.estimate)
                    .with_metric("ci_lo", ci.lo)
                    .with_metric("ci_hi", ci.hi)
                    .with_metric("ci_width", ci.width())
                    .with_metric("seconds", secs),
            );
            rows.push((m.algorithm().to_string(), vec![ci]));
        }
        seconds.push(start.elapsed().as_secs_f64());
        if seed == ctx.seeds[0] {
            first_rows = rows;
            // --compare: rliable on the same five matrices and replicate count.
            let scores: serde_json::Map<String, serde_json::Value> = set
                .iter()
                .map(|m| {
                    let rows: Vec<Vec<f64>> =
                        m.data().chunks(m.tasks()).map(|r| r.to_vec()).collect();
                    (m.algorithm().to_string(), serde_json::json!(rows))
                })
                .collect();
            let spec = PeerSpec {
                name: format!("bootstrap-iqm-5x26x10-{reps}reps"),
                peer: "rliable".into(),
                script: PEER_SCRIPT.into(),
                input: serde_json::json!({"work": "bootstrap_iqm", "scores": scores, "reps": reps}),
                reps: 1,
            };
            ctx.compare_with_peer(&spec, || {
                // The peer answers in the JSON object's (sorted) key order.
                let mut by_name = std::collections::BTreeMap::new();
                for m in &set {
                    let ci = bs.interval(m, Metric::Iqm)?;
                    by_name.insert(m.algorithm().to_string(), [ci.estimate, ci.lo, ci.hi]);
                }
                Ok(by_name.into_values().flatten().collect())
            });
        }
    }
    if let Some((_, v)) = first_rows.first() {
        out.headlines.push(Headline {
            name: "iqm_DER_seed0".into(),
            value: v[0].estimate,
            digits: 6,
        });
        out.headlines.push(Headline {
            name: "ci_width_DER_seed0".into(),
            value: v[0].width(),
            digits: 3,
        });
    }
    let file = "eval_bootstrap_iqm.svg";
    plot::interval_estimates(ctx.figure_dir.join(file), &["IQM"], &first_rows)?;
    out.figures.push(Figure {
        title: format!(
            "IQM with 95% stratified-bootstrap CIs (synthetic {tasks} tasks x {runs} runs, seed 0)"
        ),
        file: file.into(),
    });
    let mean_s = seconds.iter().sum::<f64>() / seconds.len() as f64;
    out.notes.push(format!(
        "duality-eval: {:.3} s per 5-algorithm IQM CI set ({} reps x 5 algorithms x {} scores, {} thread(s)); \
         compare with `python fixtures/eval/peer_timing.py` (rliable) for the speed ratio (target >= 50x).",
        mean_s,
        reps,
        runs * tasks,
        rayon::current_num_threads()
    ));
    Ok(out)
}

fn auroc(ctx: &Context) -> anyhow::Result<Outcome> {
    let AurocParams { scores: n, timings } = ctx.params()?;
    let mut out = Outcome::default();
    let mut times = Vec::new();
    // The big input is generated once (seed 0's stream); seeds re-run the metric.
    let mut rng = ctx.seeder.rng(0);
    let mut labels = Vec::with_capacity(n);
    let mut scores = Vec::with_capacity(n);
    for _ in 0..n {
        let y = rng.random::<f64>() < 0.1;
        // Scores rounded to 1e-3 so that ties occur, as with real classifiers.
        let s: f64 = rng.random::<f64>() + if y { 0.35 } else { 0.0 };
        labels.push(y);
        scores.push((s * 1000.0).round() / 1000.0);
    }
    let mut value = (f64::NAN, f64::NAN);
    for &seed in ctx.seeds.iter().take(timings.max(1)) {
        let t0 = Instant::now();
        let sc = SortedClasses::new(&labels, &scores)?;
        value = (sc.auroc(), sc.average_precision());
        let secs = t0.elapsed().as_secs_f64();
        times.push(secs);
        out.records.push(
            RunRecord::new("duality-eval", format!("auroc-{n}"), seed)
                .with_metric("auroc", value.0)
                .with_metric("average_precision", value.1)
                .with_metric("seconds", secs),
        );
    }
    // --compare: scikit-learn regenerates the same-distribution input itself
    // (10^7 numbers are too many to pass as JSON); only times are compared.
    let spec = PeerSpec {
        name: format!("auroc-ap-{n}"),
        peer: "scikit-learn".into(),
        script: PEER_SCRIPT.into(),
        input: serde_json::json!({"work": "auroc", "n": n, "seed": 0}),
        reps: 3,
    };
    ctx.compare_with_peer(&spec, || {
        let sc = SortedClasses::new(&labels, &scores)?;
        let _ = (sc.auroc(), sc.average_precision());
        Ok(Vec::new())
    });
    out.headlines.push(Headline {
        name: "auroc".into(),
        value: value.0,
        digits: 9,
    });
    out.headlines.push(Headline {
        name: "average_precision".into(),
        value: value.1,
        digits: 9,
    });
    let best = times.iter().copied().fold(f64::INFINITY, f64::min);
    out.notes.push(format!(
        "AUROC + AP on {n} scores: best {best:.3} s (split by class, radix sort, one merge). \
         scikit-learn's roc_auc_score + average_precision_score on the same input: see peer_timing.py (target ratio >= 3x)."
    ));
    Ok(out)
}

fn iqm_vs_median(ctx: &Context) -> anyhow::Result<Outcome> {
    let BootstrapParams {
        replicates: reps,
        runs,
        tasks,
    } = ctx.params()?;
    let mut out = Outcome::default();
    let mut ratios = Vec::new();
    let mut first_rows = Vec::new();
    for &seed in &ctx.seeds {
        let mut rng = ctx.seeder.child(7).rng(seed);
        let set = synthetic_scores(&mut rng, runs, tasks);
        let bs = StratifiedBootstrap::new(reps, 0.95, ctx.seeder.seed_for(2000 + seed))?;
        let mut rows = Vec::new();
        for m in &set {
            let ci = bs.intervals(m, &[Metric::Median, Metric::Iqm, Metric::Mean])?;
            let ratio = ci[0].width() / ci[1].width();
            ratios.push(ratio);
            out.records.push(
                RunRecord::new(m.algorithm(), format!("synthetic-{tasks}x{runs}"), seed)
                    .with_metric("median_ci_width", ci[0].width())
                    .with_metric("iqm_ci_width", ci[1].width())
                    .with_metric("mean_ci_width", ci[2].width())
                    .with_metric("width_ratio_median_over_iqm", ratio),
            );
            rows.push((m.algorithm().to_string(), ci));
        }
        if seed == ctx.seeds[0] {
            first_rows = rows;
        }
    }
    let mean_ratio = ratios.iter().sum::<f64>() / ratios.len() as f64;
    let frac_tighter = ratios.iter().filter(|&&r| r > 1.0).count() as f64 / ratios.len() as f64;
    out.headlines.push(Headline {
        name: "median_over_iqm_ci_width".into(),
        value: mean_ratio,
        digits: 2,
    });
    out.headlines.push(Headline {
        name: "fraction_iqm_tighter".into(),
        value: frac_tighter,
        digits: 2,
    });
    let file = "eval_iqm_vs_median.svg";
    plot::interval_estimates(
        ctx.figure_dir.join(file),
        &["median", "IQM", "mean"],
        &first_rows,
    )?;
    out.figures.push(Figure {
        title: format!(
            "Median vs IQM vs mean with 95% CIs at {runs} runs x {tasks} tasks (seed 0)"
        ),
        file: file.into(),
    });
    out.notes.push(format!(
        "Claim (Agarwal et al. 2021, Fig. 5): with few runs IQM CIs are much tighter than median CIs. \
         Here ({runs} runs x {tasks} synthetic tasks) the median CI is on average {mean_ratio:.2}x as wide as the IQM CI, \
         and IQM is tighter in {:.0}% of (algorithm, seed) cases: {}.",
        100.0 * frac_tighter,
        if frac_tighter >= 0.9 && mean_ratio >= 1.2 {
            "the claim holds in direction on this data (IQM consistently tighter); how much tighter depends on the score distribution"
        } else {
            "the claim does not clearly hold on this data"
        }
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every experiment runs on its quick parameters (typed parameters
    /// deserialise, the work is small): the suite needs no libtorch.
    #[test]
    fn every_experiment_runs_quick() {
        let s = suite();
        for e in &s.experiments {
            let ctx = Context::for_test(&s, e.name, true).unwrap();
            let out = (e.run)(&ctx).unwrap_or_else(|err| panic!("{}: {err:#}", e.name));
            assert!(!out.headlines.is_empty(), "{} has no headlines", e.name);
        }
    }
}
