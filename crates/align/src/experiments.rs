//! Suite `align`: preference-optimisation win rates and training throughput (duality-align).
//!
//! Every run is one `crate::run::RunConfig` (registered trainer x test bed
//! x seed) on CPU with libtorch limited to one thread, so results are
//! bit-identical run to run for a fixed seed; headlines are rounded to 2
//! digits. Win rates are against the initial (reference) policy under the
//! test bed's oracle; the harness aggregates them over seeds (every seed of
//! the context: 10 by default, 3 with `--quick`), and the notes give each
//! claim's paired difference over seeds with a 95% bootstrap CI, all from
//! the run that writes them. Parameters come from
//! `fixtures/bench/align.toml` as one typed struct per experiment.

use crate::evaluate::cyclic_worst_case_win_rate;
use crate::loss::LossKind;
use crate::run::{run, run_trained, RunConfig, RunReport};
use crate::testbed::{CyclicOracle, HiddenRewardTask, TestBedKind};
use crate::train::constrained::{Constrained, MultiplierSquash};
use crate::train::curry::Curry;
use crate::train::dno::Dno;
use crate::train::group::{Group, GroupConfig, GroupMethod, OpmdForm, RecClip, RecWeight};
use crate::train::hypo::Hypo;
use crate::train::nm_ppo::NmPpo;
use crate::train::offline::Offline;
use crate::train::online::{Online, OnlineMethod};
use crate::train::reward_model::RewardModelRlhf;
use crate::train::Trainer;
use duality_core::record::RunRecord;
use duality_eval::aggregate::Metric;
use duality_eval::bootstrap::{Interval, StratifiedBootstrap};
use duality_eval::plot::{interval_estimates, LineChart, Series};
use duality_eval::scores::ScoreMatrix;
use serde::Deserialize;

use duality_bench::PeerSpec;
use duality_bench::{Context, Experiment, Figure, Headline, Outcome, Suite};

/// The `align` suite.
pub fn suite() -> Suite {
    Suite {
        name: "align",
        about: "preference-optimisation win rates and training throughput",
        defaults: include_str!("../../../fixtures/bench/align.toml"),
        experiments: vec![
            Experiment {
                name: "ranked-dpo-family",
                about: "DPO vs IPO vs SLiC vs SLiC-HF (best-vs-worst pair of the 4 ranked responses) vs DPO on all ranked pairs at once vs Curry-DPO (the same pairs, easy->hard, reference refreshed) on ranked data; Curry-DPO claims to beat single-pair DPO",
                run: ranked,
            },
            Experiment {
                name: "poor-coverage",
                about: "offline DPO / IPO vs online DPO / IPO vs IPO-MD vs Nash-MD vs HyPO when offline data covers half the vocabulary (offline and online IPO at the same beta and sequence-sum margin); HyPO/online claim to beat offline DPO",
                run: coverage,
            },
            Experiment {
                name: "hypo-causes",
                about: "why HyPO loses to offline DPO here: HyPO with the paper's RLOO KL estimate (k responses, online batch) vs the exact KL (no response-sampling variance) vs offline DPO, across coverage levels, with and without the paper's premise (reference = behaviour policy, out-of-coverage responses penalised); Song et al. 2024 claim HyPO beats offline DPO under poor coverage",
                run: hypo_causes,
            },
            Experiment {
                name: "cyclic-oracle",
                about: "DNO vs reward-model RLHF under an intransitive oracle; DNO claims robustness where a BT reward model cannot represent the preferences",
                run: cyclic,
            },
            Experiment {
                name: "staleness",
                about: "GRPO vs OPMD vs AsymRE as the behaviour policy lags more steps behind; the regularised variants claim stability off-policy",
                run: staleness,
            },
            Experiment {
                name: "rec-staleness",
                about: "the REC family (clipping none / one-sided / two-sided x importance weight none / sequence / token) and OPMD's token vs sequence form on stale samples; Yao et al. 2025 claim the clipping mode, not importance sampling, keeps REINFORCE stable off-policy",
                run: rec_staleness,
            },
            Experiment {
                name: "spo-credit",
                about: "SPO-chain and SPO-tree vs GRPO and token-level PPO (GRU critic, GAE) at about equal sampled tokens per step on 8-token hidden-reward completions; Guo et al. 2025 claim better credit assignment than both",
                run: spo_credit,
            },
            Experiment {
                name: "d3s-efficiency",
                about: "D^3S (max-Var(A) responses, top |A| x entropy tokens, relaxing schedule) vs full GRPO; Wang et al. 2025 claim the same or better reward on a fraction of samples and tokens",
                run: d3s_efficiency,
            },
            Experiment {
                name: "constrained-rlhf",
                about: "constrained RLHF (xi-PPO: tanh multipliers, KL-to-reference advantage, per-component normalisation, thresholds at the proxy points), its clipped-multiplier form and NM-PPO (thresholds searched by Nelder-Mead) vs a fixed-weight composite reward on thresholded proxies; Moskovitz et al. 2024 claim the constrained agent's true reward beats the fixed-weight agent's",
                run: constrained,
            },
            Experiment {
                name: "throughput",
                about: "offline DPO training steps per second (GRU policy, batch 32); compare with fixtures/align/throughput.py (peak memory per experiment: the report's overview table)",
                run: throughput,
            },
        ],
    }
}

/// Parameters of the experiments that only size the evaluation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EvalParams {
    /// Monte Carlo samples for win rate, true reward and KL.
    eval_samples: usize,
}

/// Parameters of `staleness`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StalenessParams {
    /// Monte Carlo samples for the evaluation.
    eval_samples: usize,
    /// Lags of the behaviour policy (optimizer steps).
    lags: Vec<usize>,
}

/// Parameters of `rec-staleness`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecParams {
    /// Monte Carlo samples for the evaluation.
    eval_samples: usize,
    /// Lags of the behaviour policy (optimizer steps).
    lags: Vec<usize>,
    /// Variants: `rec:CLIP:WEIGHT` (CLIP none | one-sided | two-sided,
    /// WEIGHT none | sequence | token) or `opmd:FORM` (token | sequence).
    variants: Vec<String>,
}

/// Applies a `rec-staleness` variant name to a group config.
fn group_variant(name: &str, g: &mut GroupConfig) -> anyhow::Result<()> {
    let parts: Vec<&str> = name.split(':').collect();
    match parts.as_slice() {
        ["rec", clip, weight] => {
            g.method = GroupMethod::Rec;
            g.rec_clip = clip.parse::<RecClip>()?;
            g.rec_weight = weight.parse::<RecWeight>()?;
        }
        ["opmd", form] => {
            g.method = GroupMethod::Opmd;
            g.opmd_form = form.parse::<OpmdForm>()?;
        }
        _ => anyhow::bail!("rec-staleness variant {name:?}: expected rec:CLIP:WEIGHT or opmd:FORM"),
    }
    Ok(())
}

/// Parameters of `hypo-causes`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HypoCausesParams {
    /// Monte Carlo samples for the evaluation.
    eval_samples: usize,
    /// Offline coverage levels (share of the vocabulary the behaviour
    /// policy emits).
    coverages: Vec<f64>,
    /// `plain` (random initial policy as the reference, no penalty) and/or
    /// `premise` (reference warm-started on the offline behaviour policy,
    /// out-of-coverage tokens penalised: the paper's setting).
    settings: Vec<String>,
    /// `dpo` or `hypo:ESTIMATOR:K:ONLINE_BATCH:LAMBDA` (ESTIMATOR rloo |
    /// exact; K responses per prompt for rloo).
    variants: Vec<String>,
}

/// Applies a `hypo-causes` variant to a run config: its trainer and HyPO's
/// settings (the offline part is the suite's DPO in both).
fn hypo_variant(name: &str, c: &mut RunConfig) -> anyhow::Result<()> {
    use crate::train::hypo::KlEstimator;
    let parts: Vec<&str> = name.split(':').collect();
    match parts.as_slice() {
        ["dpo"] => c.trainer = Offline::NAME.to_string(),
        ["hypo", est, k, batch, lambda] => {
            let est: KlEstimator = est.parse()?;
            let (k, batch, lambda): (usize, usize, f64) =
                (k.parse()?, batch.parse()?, lambda.parse()?);
            c.trainer = Hypo::NAME.to_string();
            c.edit_trainer_config::<Hypo>(|h| {
                h.kl_estimator = est;
                h.samples_per_prompt = k;
                h.online_batch = batch;
                h.kl_coef = lambda;
            })?;
        }
        _ => anyhow::bail!(
            "hypo-causes variant {name:?}: expected dpo or hypo:ESTIMATOR:K:ONLINE_BATCH:LAMBDA"
        ),
    }
    Ok(())
}

/// Parameters of `spo-credit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpoParams {
    /// Monte Carlo samples for the evaluation.
    eval_samples: usize,
    /// Optimizer steps of every method.
    steps: usize,
    /// Completion length of the hidden-reward bed.
    completion_len: usize,
}

/// Parameters of `d3s-efficiency`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct D3sParams {
    /// Monte Carlo samples for the evaluation.
    eval_samples: usize,
    /// Optimizer steps of both methods.
    steps: usize,
    /// Completion length of the hidden-reward bed.
    completion_len: usize,
}

/// Parameters of `throughput`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThroughputParams {
    /// Timed offline DPO steps.
    steps: usize,
}

/// A named tweak of the base config.
/// (`Send + Sync`: seeds run in parallel through [`Context::per_seed`].)
type Variant = (&'static str, Box<TweakFn>);

/// A tweak of the base config.
type TweakFn = dyn Fn(&mut RunConfig) -> duality_core::Result<()> + Send + Sync;

/// The suite's base run of `trainer` on `testbed`: trainer sizes shared by
/// all experiments (pairs, epochs, steps), one section per trainer.
fn base(
    eval_samples: usize,
    ctx: &Context,
    seed: u64,
    trainer: &str,
    testbed: TestBedKind,
) -> anyhow::Result<RunConfig> {
    crate::tch::set_num_threads(1);
    let mut c = RunConfig {
        trainer: trainer.to_string(),
        testbed,
        seed: ctx.seeder.seed_for(seed),
        eval_samples,
        ..RunConfig::default()
    };
    c.task.pairs = 384;
    c.task.ranked_prompts = 96;
    let mut offline = c.trainer_config::<Offline>()?;
    offline.epochs = 6;
    offline.loss.beta = 0.5;
    c.set_trainer_config::<Offline>(&offline)?;
    c.edit_trainer_config::<Curry>(|k| {
        k.offline = offline.clone();
        k.offline.epochs = 2;
    })?;
    c.edit_trainer_config::<Hypo>(|h| h.offline = offline.clone())?;
    c.edit_trainer_config::<Online>(|o| {
        o.steps = 60;
        o.beta = 0.5;
    })?;
    let mut group = c.trainer_config::<Group>()?;
    group.steps = 60;
    group.group_size = 4;
    group.prompts_per_step = 8;
    c.set_trainer_config::<Group>(&group)?;
    c.edit_trainer_config::<RewardModelRlhf>(|r| {
        r.model.epochs = 8;
        r.rlhf = group.clone();
    })?;
    c.edit_trainer_config::<Constrained>(|k| k.group = group.clone())?;
    c.edit_trainer_config::<NmPpo>(|k| {
        k.constrained.group = group.clone();
        // The authors' proportions: segments of a tenth of the run,
        // evaluated twice each.
        k.segment_steps = group.steps / 10;
        k.eval_every = group.steps / 20;
    })?;
    c.edit_trainer_config::<Dno>(|d| {
        d.iterations = 4;
        d.prompts = 32;
    })?;
    Ok(c)
}

/// Every seed of the context (10 by default, 3 with `--quick`, so the quick
/// suite still has a spread over seeds).
fn seeds(ctx: &Context) -> Vec<u64> {
    ctx.seeds.clone()
}

/// Values of `metric` for `alg` (optionally on `task`), in seed order.
fn values(records: &[RunRecord], alg: &str, task: Option<&str>, metric: &str) -> Vec<(u64, f64)> {
    let mut v: Vec<(u64, f64)> = records
        .iter()
        .filter(|r| r.algorithm == alg && task.is_none_or(|t| r.task == t))
        .filter_map(|r| r.metric(metric).map(|m| (r.seed, m)))
        .collect();
    v.sort_by_key(|p| p.0);
    v
}

/// Mean over seeds with a 95% percentile-bootstrap CI (duality-eval; a
/// point interval for one seed).
fn mean_ci(ctx: &Context, label: &str, xs: &[f64]) -> anyhow::Result<Interval> {
    let mean = xs.iter().sum::<f64>() / xs.len().max(1) as f64;
    if xs.len() < 2 {
        return Ok(Interval {
            estimate: mean,
            lo: mean,
            hi: mean,
        });
    }
    let rows: Vec<Vec<f64>> = xs.iter().map(|&x| vec![x]).collect();
    let m = ScoreMatrix::from_rows(label, &rows)?;
    let seed = ctx.seeder.named(label).seed_for(0);
    Ok(StratifiedBootstrap::new(2_000, 0.95, seed)?.interval(&m, Metric::Mean)?)
}

/// Paired difference x - y of `metric` over the seeds both ran, with its CI.
fn paired(
    ctx: &Context,
    records: &[RunRecord],
    x: &str,
    y: &str,
    task: Option<&str>,
    metric: &str,
) -> anyhow::Result<Interval> {
    let ys = values(records, y, task, metric);
    let d: Vec<f64> = values(records, x, task, metric)
        .into_iter()
        .filter_map(|(s, a)| ys.iter().find(|p| p.0 == s).map(|p| a - p.1))
        .collect();
    mean_ci(ctx, &format!("{x}-{y}/{metric}"), &d)
}

fn fmt_ci(i: &Interval) -> String {
    format!("{:.3} [{:.3}, {:.3}]", i.estimate, i.lo, i.hi)
}

/// Whether a paired difference supports "x beats y".
fn verdict(d: &Interval, n: usize) -> &'static str {
    if n < 2 {
        "one seed only: no verdict"
    } else if d.lo > 0.0 {
        "held (95% CI of the paired difference above 0)"
    } else if d.hi < 0.0 {
        "did not hold (reversed: CI below 0)"
    } else {
        "not significant (CI contains 0)"
    }
}

/// An interval-estimate figure of `metric` (mean over seeds, bootstrap CI)
/// for each algorithm, in the given order.
fn interval_figure(
    ctx: &Context,
    records: &[RunRecord],
    algs: &[&str],
    task: Option<&str>,
    metric: &str,
    file: &str,
    title: &str,
) -> anyhow::Result<Figure> {
    let mut rows = Vec::new();
    for alg in algs {
        let xs: Vec<f64> = values(records, alg, task, metric)
            .into_iter()
            .map(|p| p.1)
            .collect();
        if !xs.is_empty() {
            let ci = mean_ci(ctx, &format!("{alg}/{metric}/{}", task.unwrap_or("")), &xs)?;
            rows.push((alg.to_string(), vec![ci]));
        }
    }
    interval_estimates(ctx.figure_dir.join(file), &[metric], &rows)?;
    Ok(Figure {
        title: title.into(),
        file: file.into(),
    })
}

/// Mean over seeds of equally long curves, with a 95% bootstrap CI per
/// point (drawn as a band).
fn curve_with_ci(ctx: &Context, label: &str, curves: &[Vec<(f64, f64)>]) -> anyhow::Result<Series> {
    let n = curves.iter().map(Vec::len).min().unwrap_or(0);
    let mut xs = Vec::with_capacity(n);
    let mut intervals = Vec::with_capacity(n);
    for i in 0..n {
        let ys: Vec<f64> = curves.iter().map(|c| c[i].1).collect();
        xs.push(curves[0][i].0);
        intervals.push(mean_ci(ctx, &format!("{label}@{i}"), &ys)?);
    }
    Ok(Series::with_intervals(label, &xs, &intervals))
}

/// Mean over seeds of equally long curves `(x, y)`.
fn mean_curve(curves: &[Vec<(f64, f64)>]) -> Vec<(f64, f64)> {
    let n = curves.iter().map(Vec::len).min().unwrap_or(0);
    (0..n)
        .map(|i| {
            let y = curves.iter().map(|c| c[i].1).sum::<f64>() / curves.len() as f64;
            (curves[0][i].0, y)
        })
        .collect()
}

fn record(name: &str, task: &str, seed: u64, r: &RunReport) -> RunRecord {
    let mut rec = RunRecord::new(name, task, seed)
        .with_metric("win_rate", r.win_rate.mean)
        .with_metric("win_rate_lo", r.win_rate.lo)
        .with_metric("win_rate_hi", r.win_rate.hi)
        .with_metric("kl", r.kl.mean);
    if let Some(t) = r.true_reward {
        rec = rec.with_metric("true_reward", t.mean);
    }
    if let Some(t) = r.reference_reward {
        rec = rec.with_metric("reference_reward", t.mean);
    }
    rec
}

fn mean_of(records: &[RunRecord], alg: &str, metric: &str) -> f64 {
    let v: Vec<f64> = records
        .iter()
        .filter(|r| r.algorithm == alg)
        .filter_map(|r| r.metric(metric))
        .collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn headline(name: &str, value: f64) -> Headline {
    Headline {
        name: name.into(),
        value,
        digits: 2,
    }
}

/// One finished run of [`compare`].
struct Done {
    name: String,
    config: RunConfig,
    report: RunReport,
}

impl Done {
    /// The win-rate curve against the fraction of training done (the last
    /// logged step is the whole of training).
    fn curve(&self) -> Vec<(f64, f64)> {
        let total = self.report.log.entries.last().map_or(1, |e| e.step.max(1)) as f64;
        self.report
            .curve
            .iter()
            .map(|p| (p.step as f64 / total, p.win_rate))
            .collect()
    }
}

/// What [`compare`] ran: one record and one finished run per (seed, variant).
struct Compared {
    records: Vec<RunRecord>,
    done: Vec<Done>,
}

fn compare(
    ctx: &Context,
    eval_samples: usize,
    task: &str,
    variants: &[Variant],
    trainer_bed: impl Fn(&str) -> (&'static str, TestBedKind) + Sync,
) -> anyhow::Result<Compared> {
    // Each variant's config is a pure function of (seed, variant): built
    // again below instead of stored in the seed cell.
    let config = |seed: u64, name: &str, tweak: &TweakFn| -> anyhow::Result<RunConfig> {
        let (trainer, bed) = trainer_bed(name);
        let mut c = base(eval_samples, ctx, seed, trainer, bed)?;
        tweak(&mut c)?;
        Ok(c)
    };
    // One seed cell: the reports of every variant for that seed (#24).
    let reports: Vec<Vec<RunReport>> = ctx.per_seed(|seed| {
        variants
            .iter()
            .map(|(name, tweak)| {
                ctx.progress
                    .set_message(format!("align {task}: {name} seed {seed}"));
                Ok(run(&config(seed, name, tweak.as_ref())?)?)
            })
            .collect()
    })?;
    let mut records = Vec::new();
    let mut done = Vec::new();
    for (&seed, reports) in seeds(ctx).iter().zip(reports) {
        for ((name, tweak), r) in variants.iter().zip(reports) {
            records.push(record(name, task, seed, &r));
            done.push(Done {
                name: name.to_string(),
                config: config(seed, name, tweak.as_ref())?,
                report: r,
            });
        }
    }
    Ok(Compared { records, done })
}

fn ranked(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: EvalParams = ctx.params()?;
    type Tweak = Box<TweakFn>;
    let single = |k: LossKind| -> Tweak {
        Box::new(move |c: &mut RunConfig| {
            // Single-pair baselines train on the same k ranked responses per
            // prompt as Curry-DPO, but only its first stage (best vs worst),
            // for as many epochs as Curry-DPO in total, one reference.
            let stages = c.task.responses_per_prompt - 1;
            c.edit_trainer_config::<Curry>(|k2| {
                k2.offline.loss.kind = k;
                k2.offline.epochs *= stages;
                k2.refresh_reference = false;
                k2.stages = 1;
            })
        })
    };
    let variants: Vec<Variant> = vec![
        ("dpo", single(LossKind::Dpo)),
        ("ipo", single(LossKind::Ipo)),
        ("slic", single(LossKind::Slic)),
        ("slic-hf", single(LossKind::SlicHf)),
        (
            "dpo-all-pairs",
            Box::new(|c: &mut RunConfig| {
                let stages = c.task.responses_per_prompt - 1;
                c.edit_trainer_config::<Curry>(|k2| {
                    k2.offline.epochs *= stages;
                    k2.refresh_reference = false;
                    k2.merge_stages = true;
                })
            }),
        ),
        (
            "curry-dpo",
            Box::new(|_c: &mut RunConfig| -> duality_core::Result<()> { Ok(()) }),
        ),
    ];
    let Compared { records, .. } = compare(
        ctx,
        p.eval_samples,
        "ranked-hidden-reward",
        &variants,
        |_| (Curry::NAME, TestBedKind::HiddenReward),
    )?;
    ctx.report_improvement("curry-dpo", "dpo");
    let n = seeds(ctx).len();
    let win = |a: &str| -> anyhow::Result<Interval> {
        let xs: Vec<f64> = values(&records, a, None, "win_rate")
            .into_iter()
            .map(|p| p.1)
            .collect();
        mean_ci(ctx, &format!("ranked/{a}"), &xs)
    };
    let (dpo, curry, all) = (win("dpo")?, win("curry-dpo")?, win("dpo-all-pairs")?);
    let d = paired(ctx, &records, "curry-dpo", "dpo", None, "win_rate")?;
    let d_all = paired(
        ctx,
        &records,
        "curry-dpo",
        "dpo-all-pairs",
        None,
        "win_rate",
    )?;
    let (ipo, slic, slic_hf) = (win("ipo")?, win("slic")?, win("slic-hf")?);
    let fig = interval_figure(
        ctx,
        &records,
        &[
            "dpo",
            "ipo",
            "slic",
            "slic-hf",
            "dpo-all-pairs",
            "curry-dpo",
        ],
        None,
        "win_rate",
        "align_ranked_win_rate.svg",
        "Ranked data: win rate against the reference (mean over seeds, 95% bootstrap CI)",
    )?;
    Ok(Outcome {
        headlines: vec![
            headline("dpo_win_rate", dpo.estimate),
            headline("dpo_all_pairs_win_rate", all.estimate),
            headline("curry_win_rate", curry.estimate),
        ],
        notes: vec![
            format!(
                "Curry-DPO (Pattnaik et al. 2024) claims to beat single-pair DPO on ranked data: win rate {} vs {} over {n} seeds; paired difference {} — {}. Both see the same 4 ranked responses per prompt: the baseline is Curry-DPO's first stage (best vs worst) for as many epochs in total.",
                fmt_ci(&curry),
                fmt_ci(&dpo),
                fmt_ci(&d),
                verdict(&d, n)
            ),
            format!(
                "Curriculum vs the same pairs without it: DPO on all three (best, j-th) pairs per prompt at once, one reference, {}; Curry-DPO minus it {} — {}.",
                fmt_ci(&all),
                fmt_ci(&d_all),
                verdict(&d_all, n)
            ),
            format!(
                "Other single-pair losses on the same data: IPO (sequence-sum margin) {}, SLiC as RSO / TRL's hinge on reference log-ratios {}, SLiC-HF (reference-free hinge + chosen NLL, delta 1, lambda 0.1) {}.",
                fmt_ci(&ipo),
                fmt_ci(&slic),
                fmt_ci(&slic_hf)
            ),
        ],
        figures: vec![fig],
        records,
    })
}

fn coverage(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: EvalParams = ctx.params()?;
    let cov = |c: &mut RunConfig| -> duality_core::Result<()> {
        c.task.coverage = 0.5;
        c.curve_every = 1;
        Ok(())
    };
    type Tweak = Box<TweakFn>;
    let online = |m: OnlineMethod| -> Tweak {
        Box::new(move |c: &mut RunConfig| {
            cov(c)?;
            c.edit_trainer_config::<Online>(|o| o.method = m)?;
            c.curve_every = c.trainer_config::<Online>()?.steps / 10;
            Ok(())
        })
    };
    let variants: Vec<Variant> = vec![
        ("offline-dpo", Box::new(cov)),
        (
            "offline-ipo",
            Box::new(move |c: &mut RunConfig| {
                cov(c)?;
                // The online IPO's beta and margin (sequence sums).
                let beta = c.trainer_config::<Online>()?.beta;
                c.edit_trainer_config::<Offline>(|o| {
                    o.loss.kind = LossKind::Ipo;
                    o.loss.beta = beta;
                    o.loss.ipo_normalization = crate::loss::IpoNormalization::Sum;
                })
            }),
        ),
        ("online-dpo", online(OnlineMethod::Dpo)),
        ("online-ipo", online(OnlineMethod::Ipo)),
        ("ipo-md", online(OnlineMethod::IpoMd)),
        ("nash-md", online(OnlineMethod::NashMd)),
        ("hypo", Box::new(cov)),
    ];
    let task = "hidden-reward-coverage-0.5";
    let Compared { records, done } = compare(ctx, p.eval_samples, task, &variants, |name| {
        let t = match name {
            "offline-dpo" | "offline-ipo" => Offline::NAME,
            "hypo" => Hypo::NAME,
            _ => Online::NAME,
        };
        (t, TestBedKind::HiddenReward)
    })?;
    ctx.report_improvement("hypo", "offline-dpo");
    ctx.report_improvement("online-ipo", "offline-dpo");
    let n = seeds(ctx).len();
    let names = [
        "offline-dpo",
        "offline-ipo",
        "online-dpo",
        "online-ipo",
        "ipo-md",
        "nash-md",
        "hypo",
    ];
    let mut series = Vec::new();
    for name in names {
        let curves: Vec<Vec<(f64, f64)>> = done
            .iter()
            .filter(|d| d.name == name)
            .map(Done::curve)
            .collect();
        series.push(curve_with_ci(ctx, name, &curves)?);
    }
    let curve_file = "align_coverage_win_rate_curves.svg";
    LineChart::new(
        "Win rate against the reference during training (offline coverage 0.5)",
        "fraction of training (epochs or steps)",
        "win rate vs reference (mean over seeds, 95% CI)",
    )
    .markers(true)
    .draw(ctx.figure_dir.join(curve_file), &series)?;
    let fig = interval_figure(
        ctx,
        &records,
        &names,
        None,
        "win_rate",
        "align_coverage_win_rate.svg",
        "Poor coverage: final win rate against the reference (mean over seeds, 95% bootstrap CI)",
    )?;
    let mut notes = Vec::new();
    for (x, metric) in [
        ("hypo", "win_rate"),
        ("hypo", "true_reward"),
        ("online-ipo", "win_rate"),
    ] {
        let d = paired(ctx, &records, x, "offline-dpo", None, metric)?;
        notes.push(format!(
            "{x} vs offline DPO, {metric}: paired difference {} over {n} seeds — {}.",
            fmt_ci(&d),
            verdict(&d, n)
        ));
    }
    // One change at a time: online vs offline at the same loss.
    for (x, y) in [("online-ipo", "offline-ipo"), ("online-dpo", "offline-dpo")] {
        let d = paired(ctx, &records, x, y, None, "true_reward")?;
        notes.push(format!(
            "Online vs offline at the same loss and beta: {x} minus {y}, true reward {} over {n} seeds — {}.",
            fmt_ci(&d),
            verdict(&d, n)
        ));
    }
    let mean = |a: &str, m: &str| mean_of(&records, a, m);
    notes.insert(
        0,
        format!(
            "HyPO (Song et al. 2024) claims to beat offline DPO when the offline data covers the response space poorly (here the behaviour policy uses half the vocabulary). Mean true reward: offline DPO {:.3}, HyPO {:.3}, online IPO {:.3}, IPO-MD {:.3}, Nash-MD {:.3}; mean KL to the reference: offline DPO {:.2}, HyPO {:.2}.",
            mean("offline-dpo", "true_reward"),
            mean("hypo", "true_reward"),
            mean("online-ipo", "true_reward"),
            mean("ipo-md", "true_reward"),
            mean("nash-md", "true_reward"),
            mean("offline-dpo", "kl"),
            mean("hypo", "kl"),
        ),
    );
    Ok(Outcome {
        headlines: vec![
            headline(
                "offline_dpo_true_reward",
                mean("offline-dpo", "true_reward"),
            ),
            headline("hypo_true_reward", mean("hypo", "true_reward")),
            headline(
                "offline_ipo_true_reward",
                mean("offline-ipo", "true_reward"),
            ),
            headline("online_ipo_true_reward", mean("online-ipo", "true_reward")),
            headline("online_dpo_true_reward", mean("online-dpo", "true_reward")),
        ],
        notes,
        figures: vec![
            Figure {
                title: "Win rate against the reference along training, per method (coverage 0.5)"
                    .into(),
                file: curve_file.into(),
            },
            fig,
        ],
        records,
    })
}

fn cyclic(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: EvalParams = ctx.params()?;
    // One seed cell: both trainers' records of the seed (#24).
    let per_seed: Vec<Vec<RunRecord>> = ctx.per_seed(|seed| {
        let mut records = Vec::new();
        for (name, trainer) in [
            ("dno", Dno::NAME),
            ("reward-model-rlhf", RewardModelRlhf::NAME),
        ] {
            ctx.progress
                .set_message(format!("align cyclic: {name} seed {seed}"));
            let c = base(p.eval_samples, ctx, seed, trainer, TestBedKind::Cyclic)?;
            let oracle = CyclicOracle {
                strength: c.task.cyclic_strength,
            };
            let done = run_trained(&c)?;
            let (r, policy) = (done.report, done.policy);
            let mut rec = record(name, "cyclic-0.8", seed, &r);
            let task = HiddenRewardTask::new(
                c.task.vocab,
                c.task.contexts,
                c.task.completion_len,
                c.seed,
            )?;
            let mut rng = duality_core::seed::Seeder::new(c.seed)
                .named("exploit")
                .rng(0);
            let worst =
                cyclic_worst_case_win_rate(&policy, &task, &oracle, c.eval_samples, &mut rng)?;
            rec = rec.with_metric("worst_case_win_rate", worst);
            records.push(rec);
        }
        Ok(records)
    })?;
    let records: Vec<RunRecord> = per_seed.into_iter().flatten().collect();
    ctx.report_improvement("dno", "reward-model-rlhf");
    let n = seeds(ctx).len();
    let (dno, rm) = (
        mean_of(&records, "dno", "worst_case_win_rate"),
        mean_of(&records, "reward-model-rlhf", "worst_case_win_rate"),
    );
    let d = paired(
        ctx,
        &records,
        "dno",
        "reward-model-rlhf",
        None,
        "worst_case_win_rate",
    )?;
    let fig = interval_figure(
        ctx,
        &records,
        &["dno", "reward-model-rlhf"],
        None,
        "worst_case_win_rate",
        "align_cyclic_worst_case.svg",
        "Cyclic oracle: worst-case win rate against the pure strategies (Nash = 0.5; mean over seeds, 95% CI)",
    )?;
    Ok(Outcome {
        headlines: vec![headline("dno_worst_case_win", dno), headline("rm_worst_case_win", rm)],
        notes: vec![format!(
            "DNO (Rosset et al. 2024) claims robustness to intransitive preferences: worst-case win rate against the three pure strategies {dno:.3} (Nash = 0.5) vs reward-model RLHF {rm:.3}; paired difference {} over {n} seeds — {}.",
            fmt_ci(&d),
            verdict(&d, n)
        )],
        figures: vec![fig],
        records,
    })
}

fn staleness(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: StalenessParams = ctx.params()?;
    let lags = p.lags.as_slice();
    let methods = [
        ("grpo", GroupMethod::Grpo),
        ("opmd", GroupMethod::Opmd),
        ("asymre", GroupMethod::AsymRe),
    ];
    // One seed cell: every (lag, method) record of the seed (#24).
    let per_seed: Vec<Vec<RunRecord>> = ctx.per_seed(|seed| {
        let mut records = Vec::new();
        for &lag in lags {
            for (name, m) in methods {
                ctx.progress
                    .set_message(format!("align staleness: {name} lag {lag} seed {seed}"));
                let mut c = base(
                    p.eval_samples,
                    ctx,
                    seed,
                    Group::NAME,
                    TestBedKind::HiddenReward,
                )?;
                c.edit_trainer_config::<Group>(|g| {
                    g.method = m;
                    g.lag = lag;
                })?;
                let r = run(&c)?;
                records.push(record(name, &format!("hidden-reward-lag-{lag}"), seed, &r));
            }
        }
        Ok(records)
    })?;
    let records: Vec<RunRecord> = per_seed.into_iter().flatten().collect();
    let n = seeds(ctx).len();
    let last = *lags.last().unwrap_or(&0);
    let last_task = format!("hidden-reward-lag-{last}");
    let at = |alg: &str, metric: &str, task: &str| {
        let v = values(&records, alg, Some(task), metric);
        v.iter().map(|p| p.1).sum::<f64>() / v.len().max(1) as f64
    };
    let (g, o, a) = (
        at("grpo", "true_reward", &last_task),
        at("opmd", "true_reward", &last_task),
        at("asymre", "true_reward", &last_task),
    );
    let reference = at("grpo", "reference_reward", &last_task);
    let mut series = Vec::with_capacity(methods.len());
    for (name, _) in &methods {
        let xs: Vec<f64> = lags.iter().map(|&l| l as f64).collect();
        let intervals = lags
            .iter()
            .map(|&l| {
                let task = format!("hidden-reward-lag-{l}");
                let v: Vec<f64> = values(&records, name, Some(&task), "win_rate")
                    .into_iter()
                    .map(|p| p.1)
                    .collect();
                mean_ci(ctx, &format!("{name}/{task}"), &v)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        series.push(Series::with_intervals(*name, &xs, &intervals));
    }
    let file = "align_staleness_win_rate.svg";
    LineChart::new(
        "Group-relative REINFORCE on stale samples",
        "lag of the behaviour policy (optimizer steps)",
        "win rate vs reference (mean over seeds, 95% CI)",
    )
    .markers(true)
    .draw(ctx.figure_dir.join(file), &series)?;
    let mut notes = vec![format!(
        "At lag {last}: true reward GRPO {g:.3}, OPMD {o:.3}, AsymRE {a:.3} (reference policy {reference:.3}), means over {n} seeds. Yao et al. (2025) argue the regularised variants tolerate stale data."
    )];
    for x in ["opmd", "asymre"] {
        let d = paired(ctx, &records, x, "grpo", Some(&last_task), "win_rate")?;
        notes.push(format!(
            "{x} vs GRPO at lag {last}, win rate: paired difference {} over {n} seeds — {}.",
            fmt_ci(&d),
            verdict(&d, n)
        ));
    }
    Ok(Outcome {
        headlines: vec![
            headline("grpo_reward_max_lag", g),
            headline("opmd_reward_max_lag", o),
        ],
        notes,
        figures: vec![Figure {
            title: "Win rate against the reference vs staleness (lag) for GRPO, OPMD and AsymRE"
                .into(),
            file: file.into(),
        }],
        records,
    })
}

fn rec_staleness(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: RecParams = ctx.params()?;
    let lags = p.lags.as_slice();
    anyhow::ensure!(!lags.is_empty(), "rec-staleness: lags is empty");
    // One seed cell: every (lag, method) record of the seed (#24).
    let per_seed: Vec<Vec<RunRecord>> = ctx.per_seed(|seed| {
        let mut records = Vec::new();
        for &lag in lags {
            for name in &p.variants {
                ctx.progress
                    .set_message(format!("align rec-staleness: {name} lag {lag} seed {seed}"));
                let mut c = base(
                    p.eval_samples,
                    ctx,
                    seed,
                    Group::NAME,
                    TestBedKind::HiddenReward,
                )?;
                let mut g = c.trainer_config::<Group>()?;
                group_variant(name, &mut g)?;
                g.lag = lag;
                c.set_trainer_config::<Group>(&g)?;
                let r = run(&c)?;
                records.push(record(name, &format!("hidden-reward-lag-{lag}"), seed, &r));
            }
        }
        Ok(records)
    })?;
    let records: Vec<RunRecord> = per_seed.into_iter().flatten().collect();
    let n = seeds(ctx).len();
    let last = *lags.last().unwrap_or(&0);
    let last_task = format!("hidden-reward-lag-{last}");
    let at = |alg: &str| {
        let v = values(&records, alg, Some(&last_task), "true_reward");
        v.iter().map(|p| p.1).sum::<f64>() / v.len().max(1) as f64
    };
    let mut series = Vec::with_capacity(p.variants.len());
    let xs: Vec<f64> = lags.iter().map(|&l| l as f64).collect();
    for name in &p.variants {
        let intervals = lags
            .iter()
            .map(|&l| {
                let task = format!("hidden-reward-lag-{l}");
                let v: Vec<f64> = values(&records, name, Some(&task), "true_reward")
                    .into_iter()
                    .map(|p| p.1)
                    .collect();
                mean_ci(ctx, &format!("{name}/{task}"), &v)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        series.push(Series::with_intervals(name.as_str(), &xs, &intervals));
    }
    let file = "align_rec_staleness_true_reward.svg";
    LineChart::new(
        "REC family and OPMD forms on stale samples",
        "lag of the behaviour policy (optimizer steps)",
        "true reward (mean over seeds, 95% CI)",
    )
    .markers(true)
    .draw(ctx.figure_dir.join(file), &series)?;
    let has = |a: &str| p.variants.iter().any(|v| v == a);
    let plain = "rec:none:none";
    let mut notes = vec![format!(
        "True reward at lag {last}, mean over {n} seeds: {}. Yao et al. (2025) claim that on stale data the clipping mode matters and importance sampling does not.",
        p.variants
            .iter()
            .map(|v| format!("{v} {:.3}", at(v)))
            .collect::<Vec<_>>()
            .join(", ")
    )];
    // Each claim as a paired difference at the largest lag: clipping vs
    // none (same weight), and importance weighting vs none (same clipping).
    let pairs = [
        (
            "rec:one-sided:none",
            plain,
            "one-sided clipping vs none, no IS",
        ),
        (
            "rec:two-sided:none",
            plain,
            "two-sided clipping vs none, no IS",
        ),
        ("rec:none:token", plain, "token IS vs none, no clipping"),
        (
            "rec:none:sequence",
            plain,
            "sequence IS vs none, no clipping",
        ),
        (
            "rec:one-sided:token",
            "rec:one-sided:none",
            "token IS vs none, one-sided clipping",
        ),
        (
            "opmd:token",
            "opmd:sequence",
            "OPMD token (k2) form vs sequence form",
        ),
    ];
    for (x, y, what) in pairs {
        if has(x) && has(y) {
            let d = paired(ctx, &records, x, y, Some(&last_task), "true_reward")?;
            notes.push(format!(
                "{what} ({x} - {y}) at lag {last}, true reward: paired difference {} over {n} seeds — {}.",
                fmt_ci(&d),
                verdict(&d, n)
            ));
        }
    }
    let headlines = [
        ("reinforce_reward_max_lag", plain),
        ("rec_one_sided_reward_max_lag", "rec:one-sided:none"),
        ("rec_token_is_reward_max_lag", "rec:none:token"),
        ("opmd_token_reward_max_lag", "opmd:token"),
    ]
    .into_iter()
    .filter(|(_, v)| has(v))
    .map(|(h, v)| headline(h, at(v)))
    .collect();
    Ok(Outcome {
        headlines,
        notes,
        figures: vec![Figure {
            title: "True reward vs staleness (lag) for the REC clipping x weighting grid and the OPMD forms".into(),
            file: file.into(),
        }],
        records,
    })
}

/// Mean over the log of a per-step metric.
fn log_mean(r: &RunReport, metric: &str) -> f64 {
    let v: Vec<f64> = r
        .log
        .entries
        .iter()
        .filter_map(|e| e.metrics.get(metric).copied())
        .collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// The training-reward curve of a run: (step, mean reward of the step's
/// responses).
fn reward_curve(r: &RunReport) -> Vec<(f64, f64)> {
    r.log
        .entries
        .iter()
        .filter_map(|e| e.metrics.get("reward").map(|&v| (e.step as f64, v)))
        .collect()
}

fn hypo_causes(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: HypoCausesParams = ctx.params()?;
    anyhow::ensure!(
        p.variants.iter().any(|v| v == "dpo"),
        "hypo-causes needs the \"dpo\" variant (every HyPO variant is compared with it)"
    );
    for s in &p.settings {
        anyhow::ensure!(
            s == "plain" || s == "premise",
            "hypo-causes setting {s:?}: expected plain or premise"
        );
    }
    let task_of = |setting: &str, cov: f64| format!("{setting}-coverage-{cov}");
    // One seed cell: every (setting, coverage, variant) record of the seed (#24).
    let per_seed: Vec<Vec<RunRecord>> = ctx.per_seed(|seed| {
        let mut records = Vec::new();
        for setting in &p.settings {
            for &cov in &p.coverages {
                for v in &p.variants {
                    ctx.progress.set_message(format!(
                        "align hypo-causes: {setting} coverage {cov} {v} seed {seed}"
                    ));
                    let mut c = base(
                        p.eval_samples,
                        ctx,
                        seed,
                        Offline::NAME,
                        TestBedKind::HiddenReward,
                    )?;
                    c.task.coverage = cov;
                    if setting == "premise" {
                        c.task.sft_steps = 100;
                        c.task.uncovered_penalty = 1.0;
                    }
                    hypo_variant(v, &mut c)?;
                    let r = run(&c)?;
                    records.push(record(v, &task_of(setting, cov), seed, &r));
                }
            }
        }
        Ok(records)
    })?;
    let records: Vec<RunRecord> = per_seed.into_iter().flatten().collect();
    let n = seeds(ctx).len();
    let mut notes = vec![format!(
        "Song et al. 2024 claim HyPO (offline DPO + lambda KL(pi || pi_ref) on fresh samples) beats offline DPO when the offline data covers the responses poorly. Candidate causes of its loss here, one change at a time against HyPO as the suite runs it (rloo, k 2, online batch 16, lambda 0.1): the KL estimator's variance (exact KL over all completions vs RLOO), k (8 vs 2 responses per prompt), the number of online samples (online batch 64 vs 16), lambda, the coverage level, and the paper's premise (reference warm-started on the behaviour policy, 100 steps, and responses outside the coverage penalised by 1 per unit share). True reward, paired over {n} seeds."
    )];
    let mut headlines = Vec::new();
    let hypo_variants: Vec<&String> = p.variants.iter().filter(|v| *v != "dpo").collect();
    let default = "hypo:rloo:2:16:0.1";
    for setting in &p.settings {
        for &cov in &p.coverages {
            let task = task_of(setting, cov);
            let t = Some(task.as_str());
            let mean = |alg: &str, m: &str| -> f64 {
                let v = values(&records, alg, t, m);
                v.iter().map(|p| p.1).sum::<f64>() / v.len().max(1) as f64
            };
            let mut line = format!(
                "{setting}, coverage {cov}: offline DPO true reward {:.3} (KL {:.2})",
                mean("dpo", "true_reward"),
                mean("dpo", "kl")
            );
            let slug = |v: &str| v.replace([':', '-'], "_").replace('.', "p");
            let cov_slug = slug(&cov.to_string());
            headlines.push(headline(
                &format!("{setting}_cov{cov_slug}_dpo_true_reward"),
                mean("dpo", "true_reward"),
            ));
            for v in &hypo_variants {
                let d = paired(ctx, &records, v, "dpo", t, "true_reward")?;
                line.push_str(&format!(
                    "; {v} {:.3} (KL {:.2}), minus DPO {} — {}",
                    mean(v, "true_reward"),
                    mean(v, "kl"),
                    fmt_ci(&d),
                    verdict(&d, n)
                ));
                headlines.push(headline(
                    &format!("{setting}_cov{cov_slug}_{}_true_reward", slug(v)),
                    mean(v, "true_reward"),
                ));
            }
            notes.push(format!("{line}."));
            if p.variants.iter().any(|v| v == default) {
                for v in hypo_variants.iter().filter(|v| **v != default) {
                    let d = paired(ctx, &records, v, default, t, "true_reward")?;
                    notes.push(format!(
                        "{setting}, coverage {cov}: {v} minus {default}: {} — {}.",
                        fmt_ci(&d),
                        verdict(&d, n)
                    ));
                }
            }
        }
    }
    let mut figures = Vec::new();
    for setting in &p.settings {
        let mut series = Vec::new();
        for v in &p.variants {
            let curves: Vec<Vec<(f64, f64)>> = seeds(ctx)
                .iter()
                .map(|&s| {
                    p.coverages
                        .iter()
                        .filter_map(|&cov| {
                            values(&records, v, Some(&task_of(setting, cov)), "true_reward")
                                .into_iter()
                                .find(|q| q.0 == s)
                                .map(|q| (cov, q.1))
                        })
                        .collect()
                })
                .collect();
            series.push(curve_with_ci(ctx, v, &curves)?);
        }
        let file = format!("align_hypo_causes_{setting}.svg");
        LineChart::new(
            format!("HyPO variants vs offline DPO across coverage ({setting})"),
            "offline coverage (share of the vocabulary)",
            "true reward (mean over seeds, 95% CI)",
        )
        .markers(true)
        .draw(ctx.figure_dir.join(&file), &series)?;
        figures.push(Figure {
            title: format!("True reward against offline coverage, {setting} setting"),
            file,
        });
    }
    Ok(Outcome {
        headlines,
        notes,
        figures,
        records,
    })
}

fn spo_credit(ctx: &Context) -> anyhow::Result<Outcome> {
    use crate::train::ppo::Ppo;
    use crate::train::spo::{Spo, SpoEstimator, SpoPartition};
    let p: SpoParams = ctx.params()?;
    let prompts = 8;
    let methods = ["spo-chain", "spo-tree", "grpo", "ppo"];
    let mut records = Vec::new();
    type Curves = Vec<Vec<(f64, f64)>>;
    let mut curves: Vec<(&str, Curves)> = methods.iter().map(|m| (*m, Vec::new())).collect();
    let mut tokens: Vec<(&str, Vec<f64>)> = methods.iter().map(|m| (*m, Vec::new())).collect();
    // One seed cell: the four methods' run reports and GRPO's group size (#24).
    let per_seed: Vec<(usize, Vec<(String, RunReport)>)> = ctx.per_seed(|seed| {
        let cfg = |trainer: &str| -> anyhow::Result<RunConfig> {
            let mut c = base(
                p.eval_samples,
                ctx,
                seed,
                trainer,
                TestBedKind::HiddenReward,
            )?;
            c.task.completion_len = p.completion_len;
            Ok(c)
        };
        let mut reports = Vec::new();
        // SPO-chain first: its sampled tokens per step set the baselines' group size.
        let mut c = cfg(Spo::NAME)?;
        c.edit_trainer_config::<Spo>(|s| {
            s.estimator = SpoEstimator::Chain;
            s.partition = SpoPartition::Cutpoint;
            s.interval = 2;
            s.rollouts = 2;
            s.responses = 2;
            s.prompts_per_step = prompts;
            s.steps = p.steps;
        })?;
        ctx.progress
            .set_message(format!("align spo-credit: spo-chain seed {seed}"));
        let chain = run(&c)?;
        let per_prompt = log_mean(&chain, "sampled_tokens") / prompts as f64;
        let g = ((per_prompt / p.completion_len as f64).round() as usize).max(2);
        reports.push(("spo-chain".to_string(), chain));
        let mut c = cfg(Spo::NAME)?;
        c.edit_trainer_config::<Spo>(|s| {
            s.estimator = SpoEstimator::Tree;
            s.interval = 3;
            // 2-2-2 with segments of 3 samples 2*3 + 4*3 + 8*2 = 34 tokens
            // per prompt, SPO-chain's budget (4-2-2 sampled twice as many).
            s.branch_factors = vec![2, 2, 2];
            s.prompts_per_step = prompts;
            s.steps = p.steps;
        })?;
        ctx.progress
            .set_message(format!("align spo-credit: spo-tree seed {seed}"));
        reports.push(("spo-tree".to_string(), run(&c)?));
        let mut c = cfg(Group::NAME)?;
        c.edit_trainer_config::<Group>(|x| {
            x.method = GroupMethod::Grpo;
            x.group_size = g;
            x.prompts_per_step = prompts;
            x.steps = p.steps;
        })?;
        ctx.progress
            .set_message(format!("align spo-credit: grpo seed {seed}"));
        reports.push(("grpo".to_string(), run(&c)?));
        let mut c = cfg(Ppo::NAME)?;
        c.edit_trainer_config::<Ppo>(|x| {
            x.group_size = g;
            x.prompts_per_step = prompts;
            x.steps = p.steps;
        })?;
        ctx.progress
            .set_message(format!("align spo-credit: ppo seed {seed}"));
        reports.push(("ppo".to_string(), run(&c)?));
        Ok((g, reports))
    })?;
    for (&seed, (g, reports)) in seeds(ctx).iter().zip(per_seed) {
        for (name, r) in reports {
            let name = name.as_str();
            // The group trainer logs no token count: G full responses per prompt.
            let toks = if name == "grpo" {
                (g * p.completion_len) as f64
            } else {
                log_mean(&r, "sampled_tokens") / prompts as f64
            };
            records.push(
                record(name, "hidden-reward", seed, &r)
                    .with_metric("sampled_tokens_per_prompt", toks),
            );
            if let Some(c) = curves.iter_mut().find(|c| c.0 == name) {
                c.1.push(reward_curve(&r));
            }
            if let Some(t) = tokens.iter_mut().find(|t| t.0 == name) {
                t.1.push(toks);
            }
        }
    }
    let n = seeds(ctx).len();
    let mut series = Vec::new();
    for (name, cs) in &curves {
        series.push(curve_with_ci(ctx, name, cs)?);
    }
    let file = "align_spo_reward_curve.svg";
    LineChart::new(
        "SPO vs GRPO vs token-level PPO: training reward at about equal sampled tokens per step",
        "optimizer step",
        "mean reward of the step's responses (mean over seeds, 95% CI)",
    )
    .draw(ctx.figure_dir.join(file), &series)?;
    let ci = |alg: &str| -> anyhow::Result<Interval> {
        let xs: Vec<f64> = values(&records, alg, None, "true_reward")
            .into_iter()
            .map(|p| p.1)
            .collect();
        mean_ci(ctx, &format!("spo/{alg}"), &xs)
    };
    let budget = tokens
        .iter()
        .map(|(m, t)| format!("{m} {:.1}", t.iter().sum::<f64>() / t.len().max(1) as f64))
        .collect::<Vec<_>>()
        .join(", ");
    let mut notes = vec![format!(
        "Final true reward over {n} seeds ({} steps, {}-token completions): {}. Sampled tokens per prompt per step (rollouts included): {budget}; GRPO and PPO get a group size matching SPO-chain's mean.",
        p.steps,
        p.completion_len,
        methods
            .iter()
            .map(|m| Ok(format!("{m} {}", fmt_ci(&ci(m)?))))
            .collect::<anyhow::Result<Vec<_>>>()?
            .join(", ")
    )];
    for (x, y) in [
        ("spo-chain", "grpo"),
        ("spo-chain", "ppo"),
        ("spo-tree", "grpo"),
        ("spo-tree", "ppo"),
    ] {
        let d = paired(ctx, &records, x, y, None, "true_reward")?;
        notes.push(format!(
            "Guo et al. (2025) claim {x} beats {y} at equal samples: true-reward paired difference {} over {n} seeds — {}.",
            fmt_ci(&d),
            verdict(&d, n)
        ));
    }
    Ok(Outcome {
        headlines: methods
            .iter()
            .map(|m| headline(&format!("{}_reward", m.replace('-', "_")), mean_of(&records, m, "true_reward")))
            .collect(),
        notes,
        figures: vec![Figure {
            title: "Training reward curves of SPO-chain, SPO-tree, GRPO and token-level PPO (mean over seeds, 95% CI)".into(),
            file: file.into(),
        }],
        records,
    })
}

fn d3s_efficiency(ctx: &Context) -> anyhow::Result<Outcome> {
    use crate::train::d3s::D3s;
    let p: D3sParams = ctx.params()?;
    let (prompts, g) = (8, 8);
    let mut records = Vec::new();
    let mut secs: Vec<(&str, Vec<f64>)> = vec![("grpo", Vec::new()), ("d3s", Vec::new())];
    for &seed in &seeds(ctx) {
        for name in ["grpo", "d3s"] {
            let trainer = if name == "grpo" {
                Group::NAME
            } else {
                D3s::NAME
            };
            let mut c = base(
                p.eval_samples,
                ctx,
                seed,
                trainer,
                TestBedKind::HiddenReward,
            )?;
            c.task.completion_len = p.completion_len;
            c.edit_trainer_config::<Group>(|x| {
                x.method = GroupMethod::Grpo;
                x.group_size = g;
                x.prompts_per_step = prompts;
                x.steps = p.steps;
            })?;
            c.edit_trainer_config::<D3s>(|x| {
                x.group_size = g;
                x.prompts_per_step = prompts;
                x.steps = p.steps;
            })?;
            ctx.progress
                .set_message(format!("align d3s-efficiency: {name} seed {seed}"));
            let start = std::time::Instant::now();
            let r = run(&c)?;
            let per_step = start.elapsed().as_secs_f64() / p.steps as f64;
            if let Some(s) = secs.iter_mut().find(|s| s.0 == name) {
                s.1.push(per_step);
            }
            let frac = if name == "grpo" {
                1.0
            } else {
                log_mean(&r, "gradient_token_fraction")
            };
            records.push(
                record(name, "hidden-reward", seed, &r)
                    .with_metric("gradient_token_fraction", frac),
            );
        }
    }
    let n = seeds(ctx).len();
    let ci = |alg: &str| -> anyhow::Result<Interval> {
        let xs: Vec<f64> = values(&records, alg, None, "true_reward")
            .into_iter()
            .map(|p| p.1)
            .collect();
        mean_ci(ctx, &format!("d3s/{alg}"), &xs)
    };
    let d = paired(ctx, &records, "d3s", "grpo", None, "true_reward")?;
    let frac = mean_of(&records, "d3s", "gradient_token_fraction");
    let ms = |name: &str| {
        let v = &secs
            .iter()
            .find(|s| s.0 == name)
            .map(|s| s.1.clone())
            .unwrap_or_default();
        1e3 * v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    let notes = vec![
        format!(
            "True reward over {n} seeds ({} steps, G = {g}, {prompts} prompts, {}-token completions): D^3S {} vs full GRPO {}; paired difference {} — {} (the claim is 'the same or better': a CI containing 0 is consistent with 'the same', a CI below 0 is not).",
            p.steps,
            p.completion_len,
            fmt_ci(&ci("d3s")?),
            fmt_ci(&ci("grpo")?),
            fmt_ci(&d),
            verdict(&d, n)
        ),
        format!(
            "D^3S trained on {:.1}% of the sampled tokens on average over training (schedule 0.5 -> 1 of responses and of tokens, linear over training); wall time per step, evaluation included, on this loaded machine (reported, not asserted): D^3S {:.1} ms, GRPO {:.1} ms.",
            100.0 * frac,
            ms("d3s"),
            ms("grpo")
        ),
    ];
    let fig = interval_figure(
        ctx,
        &records,
        &["grpo", "d3s"],
        None,
        "true_reward",
        "align_d3s_true_reward.svg",
        "D^3S vs full GRPO: final true reward (mean over seeds, 95% bootstrap CI)",
    )?;
    Ok(Outcome {
        headlines: vec![
            headline("grpo_reward", mean_of(&records, "grpo", "true_reward")),
            headline("d3s_reward", mean_of(&records, "d3s", "true_reward")),
            headline("d3s_gradient_token_fraction", frac),
        ],
        notes,
        figures: vec![fig],
        records,
    })
}

fn constrained(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: EvalParams = ctx.params()?;
    let variants: Vec<Variant> = vec![
        (
            "constrained",
            Box::new(|_c: &mut RunConfig| -> duality_core::Result<()> { Ok(()) }),
        ),
        (
            "constrained-clip",
            Box::new(|c: &mut RunConfig| {
                c.edit_trainer_config::<Constrained>(|k| {
                    k.squash = MultiplierSquash::Clip;
                    k.initial_multipliers = vec![1.0, 1.0];
                    k.kl_advantage = false;
                    k.normalize_components = false;
                })
            }),
        ),
        (
            "nm-ppo",
            Box::new(|_c: &mut RunConfig| -> duality_core::Result<()> { Ok(()) }),
        ),
        (
            "fixed-weight",
            Box::new(|c: &mut RunConfig| {
                c.edit_trainer_config::<Constrained>(|k| {
                    k.adapt = false;
                    k.squash = MultiplierSquash::Clip;
                    k.initial_multipliers = vec![1.0, 1.0];
                    k.kl_advantage = false;
                    k.normalize_components = false;
                })
            }),
        ),
    ];
    let Compared { records, done } = compare(
        ctx,
        p.eval_samples,
        "thresholded-proxies",
        &variants,
        |name| {
            if name == "nm-ppo" {
                (NmPpo::NAME, TestBedKind::Proxies)
            } else {
                (Constrained::NAME, TestBedKind::Proxies)
            }
        },
    )?;
    ctx.report_improvement("constrained", "fixed-weight");
    let n = seeds(ctx).len();
    let mean = |alg: &str| mean_of(&records, alg, "true_reward");
    let reference = mean_of(&records, "fixed-weight", "reference_reward");
    let (con, clip, nm, fixed) = (
        mean("constrained"),
        mean("constrained-clip"),
        mean("nm-ppo"),
        mean("fixed-weight"),
    );
    let d = paired(
        ctx,
        &records,
        "constrained",
        "fixed-weight",
        None,
        "true_reward",
    )?;
    let d_clip = paired(
        ctx,
        &records,
        "constrained-clip",
        "fixed-weight",
        None,
        "true_reward",
    )?;
    let d_nm = paired(ctx, &records, "nm-ppo", "fixed-weight", None, "true_reward")?;
    let d_nm_con = paired(ctx, &records, "nm-ppo", "constrained", None, "true_reward")?;
    // Where NM-PPO's search ended (mean over seeds of the last thresholds).
    let nm_runs: Vec<&Done> = done.iter().filter(|d| d.name == "nm-ppo").collect();
    let last_mean = |key: &str| {
        let v: Vec<f64> = nm_runs
            .iter()
            .filter_map(|d| d.report.log.last(key))
            .collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    let nm_note = format!(
        "NM-PPO (Sec. 5.3; thresholds searched online by Nelder-Mead on the true reward, {:.1} evaluations and {:.1} simplex iterations per run on average): true reward {nm:.3}; vs fixed weights {} — {}; vs constrained with the true proxy points {} — {}. Its final thresholds average ({:.2}, {:.2}); the proxy points are {:?}.",
        last_mean("nm_evaluations"),
        last_mean("nm_iterations"),
        fmt_ci(&d_nm),
        verdict(&d_nm, n),
        fmt_ci(&d_nm_con),
        verdict(&d_nm_con, n),
        last_mean("theta_0"),
        last_mean("theta_1"),
        done.first().map(|d| d.config.task.proxy_thresholds.clone()).unwrap_or_default(),
    );
    // Component rewards along training, mean over seeds.
    let mut series = Vec::new();
    let Some(first) = done.first() else {
        anyhow::bail!("constrained-rlhf ran no seeds");
    };
    let settings = first.config.trainer_config::<Constrained>()?;
    // The constraint thresholds are the bed's proxy points.
    let thresholds = first.config.task.proxy_thresholds.clone();
    for name in ["constrained", "nm-ppo", "fixed-weight"] {
        let runs: Vec<&Done> = done.iter().filter(|d| d.name == name).collect();
        let k = thresholds.len();
        for i in 0..k {
            let key = format!("component_{i}");
            let curves: Vec<Vec<(f64, f64)>> = runs
                .iter()
                .map(|d| {
                    d.report
                        .log
                        .entries
                        .iter()
                        .filter_map(|e| e.metrics.get(&key).map(|v| (e.step as f64, *v)))
                        .collect()
                })
                .collect();
            series.push(Series::new(format!("{name}: r_{i}"), mean_curve(&curves)));
        }
    }
    let steps = settings.group.steps as f64;
    for (i, t) in thresholds.iter().enumerate() {
        series.push(Series::new(
            format!("threshold theta_{i}"),
            vec![(1.0, *t), (steps, *t)],
        ));
    }
    let file = "align_constrained_components.svg";
    LineChart::new(
        "Constrained vs fixed-weight RLHF: proxy components along training",
        "optimizer step",
        "mean component reward of the batch (mean over seeds)",
    )
    .draw(ctx.figure_dir.join(file), &series)?;
    Ok(Outcome {
        headlines: vec![
            headline("constrained_true_reward", con),
            headline("constrained_clip_true_reward", clip),
            headline("nm_ppo_true_reward", nm),
            headline("fixed_true_reward", fixed),
        ],
        notes: vec![
            format!(
                "Moskovitz et al. (2024) claim the constrained agent's true reward is above the fixed-weight agent's: xi-PPO as the authors run it (tanh multipliers from 0, KL-to-reference advantage, per-component normalisation, thresholds at the bed's proxy points) {con:.3} vs fixed weights {fixed:.3} (the initial policy: {reference:.3}); paired difference {} over {n} seeds — {}.",
                fmt_ci(&d),
                verdict(&d, n)
            ),
            format!(
                "The clipped-multiplier form (mu_i in [-5, 5] from 1, composite reward through GRPO, no KL term): {clip:.3}; vs fixed weights {} — {}.",
                fmt_ci(&d_clip),
                verdict(&d_clip, n)
            ),
            nm_note,
        ],
        figures: vec![Figure {
            title: "Component rewards along training, constrained (Lagrange multipliers) vs fixed weights, with the constraint thresholds".into(),
            file: file.into(),
        }],
        records,
    })
}

fn throughput(ctx: &Context) -> anyhow::Result<Outcome> {
    crate::tch::set_num_threads(1);
    let ThroughputParams { steps } = ctx.params()?;
    let rate = crate::throughput::dpo_steps_per_second(steps, 32)?;
    let spec = PeerSpec {
        name: "dpo-train-steps".into(),
        peer: "torch".into(),
        script: "fixtures/align/throughput.py".into(),
        input: serde_json::json!({ "steps": steps, "batch": 32 }),
        reps: 3,
    };
    ctx.compare_with_peer(&spec, || {
        crate::throughput::dpo_steps_per_second(steps, 32)?;
        Ok(Vec::new())
    });
    let notes = vec![format!(
        "Rust/tch offline DPO: {rate:.1} steps/s (GRU 16/32, vocab 6, batch 32, 1 thread). `--compare` times the same loop in PyTorch (fixtures/align/throughput.py); timings are not headlines."
    )];
    Ok(Outcome {
        notes,
        records: vec![RunRecord::new("dpo-train-step", "gru-batch32", 0)
            .with_metric("steps_per_second", rate)],
        ..Outcome::default()
    })
}
