//! Bench experiment `lot_sizing` (suite `distdp`, features `experiments` +
//! `torch`): PPO vs PDPPO on the lot-sizing environment, cost curves with
//! 95% bands over seeds against environment steps, paired intervals on the
//! final and the mean training cost.

use duality_bench::{Context, Figure, Headline, Outcome};
use duality_core::progress::Progress;
use duality_core::record::RunRecord;
use duality_eval::plot::{LineChart, Series};
use serde::{Deserialize, Serialize};

use super::env::{LotSizing, LotSizingConfig};
use super::ppo::{random_policy_cost, train, Algo, PpoParams};

/// Parameters of `lot_sizing` (`fixtures/bench/distdp.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LotBenchParams {
    /// PPO updates per run, episodes per update, epochs per update.
    updates: usize,
    envs: usize,
    epochs: usize,
    /// Hidden widths of actor and critics.
    hidden: Vec<usize>,
    /// GAE lambda.
    lambda: f64,
    /// Evaluation episodes of each final policy, sampled and greedy (common
    /// starts and demands for both learners).
    eval_episodes: usize,
    /// Periods per episode (of the default instance, or of `instance`).
    horizon: usize,
    /// The instance (its `horizon` is replaced by the key above):
    /// `fixtures/bench/distdp.toml` spells out the default one, so that
    /// `--config fixtures/bench/lot_sizing_paper.toml` (the authors'
    /// 15-item, 5-machine setting) may replace it; absent, the default.
    #[serde(default)]
    instance: Option<LotSizingConfig>,
}

/// One seed's results: per learner (PPO, PDPPO) the training curve, the
/// final policy's cost (sampled actions) and its greedy cost, and the
/// uniform random policy's cost.
#[derive(Debug, Serialize, Deserialize)]
struct LotSeed {
    steps: Vec<usize>,
    curves: Vec<Vec<f64>>,
    finals: Vec<f64>,
    greedy: Vec<f64>,
    random: f64,
    device: String,
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Half-width of a normal 95% interval of the mean.
fn half_width(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = mean(v);
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64;
    1.96 * var.sqrt() / (v.len() as f64).sqrt()
}

/// How a paired interval reads: PDPPO significantly better, PPO
/// significantly better, or neither.
fn verdict(pdppo_better: bool, ppo_better: bool, what: &str) -> String {
    if pdppo_better {
        format!("PDPPO {what}: significant")
    } else if ppo_better {
        format!("PDPPO not {what}: PPO significantly better")
    } else {
        format!("PDPPO not significantly {what}")
    }
}

fn headline(name: impl Into<String>, value: f64, digits: u32) -> Headline {
    Headline {
        name: name.into(),
        value,
        digits,
    }
}

/// The experiment.
pub(crate) fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: LotBenchParams = ctx.params()?;
    let env = LotSizing::new(LotSizingConfig {
        horizon: p.horizon,
        ..p.instance.clone().unwrap_or_default()
    })?;
    let params_for = |algo: Algo, seed: u64| PpoParams {
        hidden: p.hidden.clone(),
        envs: p.envs,
        epochs: p.epochs,
        lambda: p.lambda,
        ..PpoParams::new(algo, p.updates, seed)
    };
    for algo in Algo::ALL {
        duality_core::config::Validate::validate(&params_for(algo, 0))?;
    }
    ctx.progress.set_message("distdp: lot-sizing PPO vs PDPPO");
    let cells = ctx.per_seed(|seed| -> anyhow::Result<LotSeed> {
        // One training seed for both learners: the same initial actor, starts
        // and demands (common random numbers).
        let s = ctx.seeder.child(seed).seed_for(0);
        let eval_seed = ctx.seeder.child(seed).seed_for(1);
        let mut curves = Vec::new();
        let mut finals = Vec::new();
        let mut greedy = Vec::new();
        let mut steps = Vec::new();
        let mut device = String::new();
        for algo in Algo::ALL {
            let fit = train(&env, &params_for(algo, s), &Progress::hidden())?;
            steps = fit.curve.iter().map(|c| c.steps).collect();
            curves.push(fit.curve.iter().map(|c| c.cost).collect());
            finals.push(fit.policy.evaluate_sampled(p.eval_episodes, eval_seed)?);
            greedy.push(fit.policy.evaluate(p.eval_episodes, eval_seed)?);
            device = fit.device;
        }
        let random = random_policy_cost(&env, p.eval_episodes, eval_seed)?;
        Ok(LotSeed {
            steps,
            curves,
            finals,
            greedy,
            random,
            device,
        })
    })?;
    let mut out = Outcome::default();
    let n = cells.len();
    let steps = cells.first().map(|c| c.steps.clone()).unwrap_or_default();
    let task = format!(
        "lot-sizing-{}items-{}machines-T{}",
        env.items(),
        env.machines(),
        env.horizon()
    );
    // Per learner: final greedy costs and mean training costs over seeds.
    let mut finals = vec![Vec::new(); 2];
    let mut greedy = vec![Vec::new(); 2];
    let mut aucs = vec![Vec::new(); 2];
    for (cell, &seed) in cells.iter().zip(&ctx.seeds) {
        for (k, algo) in Algo::ALL.iter().enumerate() {
            let auc = mean(&cell.curves[k]);
            finals[k].push(cell.finals[k]);
            greedy[k].push(cell.greedy[k]);
            aucs[k].push(auc);
            out.records.push(
                RunRecord::new(algo.to_string(), task.clone(), seed)
                    .with_metric("final_cost", cell.finals[k])
                    .with_metric("greedy_cost", cell.greedy[k])
                    .with_metric("mean_training_cost", auc),
            );
        }
    }
    let randoms: Vec<f64> = cells.iter().map(|c| c.random).collect();
    for (k, algo) in Algo::ALL.iter().enumerate() {
        out.headlines
            .push(headline(format!("{algo}/final_cost"), mean(&finals[k]), 2));
        out.headlines
            .push(headline(format!("{algo}/greedy_cost"), mean(&greedy[k]), 2));
        out.headlines.push(headline(
            format!("{algo}/mean_training_cost"),
            mean(&aucs[k]),
            2,
        ));
    }
    out.headlines
        .push(headline("random/final_cost", mean(&randoms), 2));
    let paired = |v: &[Vec<f64>]| -> (f64, f64) {
        let d: Vec<f64> = v[1].iter().zip(&v[0]).map(|(b, a)| b - a).collect();
        (mean(&d), half_width(&d))
    };
    let (df, hf) = paired(&finals);
    let (da, ha) = paired(&aucs);
    out.headlines
        .push(headline("pdppo_minus_ppo/final_cost", df, 2));
    out.headlines
        .push(headline("pdppo_minus_ppo/mean_training_cost", da, 2));
    out.notes.push(format!(
        "{task}: {} updates x {} episodes ({} environment steps per learner), {} seeds, \
         trained on {}. Final policy's cost over {} common episodes (mean ± 95% half-width), \
         actions sampled: PPO {:.2} ± {:.2}, PDPPO {:.2} ± {:.2}; greedy: PPO {:.2} ± {:.2}, \
         PDPPO {:.2} ± {:.2}; uniform random policy {:.2} ± {:.2}. Mean \
         training-episode cost over the run (the area under the learning curve): PPO {:.2} ± \
         {:.2}, PDPPO {:.2} ± {:.2}.",
        p.updates,
        p.envs,
        steps.last().copied().unwrap_or(0),
        n,
        cells.first().map(|c| c.device.as_str()).unwrap_or("?"),
        p.eval_episodes,
        mean(&finals[0]),
        half_width(&finals[0]),
        mean(&finals[1]),
        half_width(&finals[1]),
        mean(&greedy[0]),
        half_width(&greedy[0]),
        mean(&greedy[1]),
        half_width(&greedy[1]),
        mean(&randoms),
        half_width(&randoms),
        mean(&aucs[0]),
        half_width(&aucs[0]),
        mean(&aucs[1]),
        half_width(&aucs[1]),
    ));
    let lower = df + hf < 0.0;
    let faster = da + ha < 0.0;
    out.notes.push(format!(
        "Claim (PDPPO learns faster or reaches lower cost than PPO): paired PDPPO - PPO final \
         cost {df:+.2} ± {hf:.2} ({}), mean training cost {da:+.2} ± {ha:.2} ({}): {}.",
        verdict(lower, df - hf > 0.0, "lower"),
        verdict(faster, da - ha > 0.0, "faster"),
        if lower || faster {
            "HELD on this run"
        } else {
            "DID NOT HOLD on this run"
        }
    ));
    // Cost curves with 95% bands over seeds.
    let series: Vec<Series> = Algo::ALL
        .iter()
        .enumerate()
        .map(|(k, algo)| {
            let at = |u: usize| -> Vec<f64> { cells.iter().map(|c| c.curves[k][u]).collect() };
            Series {
                label: algo.to_string().to_uppercase(),
                points: steps
                    .iter()
                    .enumerate()
                    .map(|(u, &s)| (s as f64, mean(&at(u))))
                    .collect(),
                band: Some(
                    (0..steps.len())
                        .map(|u| {
                            let v = at(u);
                            let (m, h) = (mean(&v), half_width(&v));
                            (m - h, m + h)
                        })
                        .collect(),
                ),
            }
        })
        .collect();
    let file = "distdp_lot_sizing.svg";
    LineChart::new(
        "PPO vs PDPPO on lot-sizing (mean training-episode cost, 95% bands over seeds)",
        "environment steps",
        "episode cost",
    )
    .draw(ctx.figure_dir.join(file), &series)?;
    out.figures.push(Figure {
        title: "Lot-sizing cost curves, PPO vs PDPPO".into(),
        file: file.into(),
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quick and full parameters deserialise and build valid learners.
    #[test]
    fn parameters_are_typed() {
        let s = crate::experiments::suite();
        for quick in [true, false] {
            let ctx = Context::for_test(&s, "lot_sizing", quick).unwrap();
            let p: LotBenchParams = ctx.params().unwrap();
            // The fixture's instance is the default one (the snapshots of
            // the default instance stand).
            assert_eq!(p.instance, Some(LotSizingConfig::default()));
            LotSizing::new(LotSizingConfig {
                horizon: p.horizon,
                ..LotSizingConfig::default()
            })
            .unwrap();
        }
    }

    /// `fixtures/bench/lot_sizing_paper.toml` passes the runner's override
    /// check and resolves to a valid 15-item, 5-machine instance.
    #[test]
    fn paper_config_resolves() {
        let s = crate::experiments::suite();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/bench/lot_sizing_paper.toml");
        let o = duality_bench::Overrides::load(Some(&path), &[]).unwrap();
        o.validate(&[(s.name, s.defaults)]).unwrap();
        let params = o.resolve(s.name, s.defaults, "lot_sizing", false).unwrap();
        let ctx = Context::new(
            "distdp/lot_sizing",
            params,
            vec![0],
            duality_core::seed::Seeder::new(0),
            std::env::temp_dir(),
            Progress::hidden(),
        );
        let p: LotBenchParams = ctx.params().unwrap();
        let inst = p.instance.unwrap();
        assert_eq!((inst.production.len(), inst.holding_cost.len()), (5, 15));
        assert_eq!(p.horizon, 100);
        LotSizing::new(LotSizingConfig {
            horizon: p.horizon,
            ..inst
        })
        .unwrap();
    }

    /// The full experiment on ten seeds (about a minute or two on 2 loaded
    /// cores): prints its notes and the figure's path.
    #[test]
    #[ignore = "full mode: run with --ignored"]
    fn full_run() {
        let s = crate::experiments::suite();
        let mut ctx = Context::for_test(&s, "lot_sizing", false).unwrap();
        ctx.seeds = (0..10).collect();
        let t = std::time::Instant::now();
        let out = run(&ctx).unwrap();
        eprintln!(
            "lot_sizing full, 10 seeds: {:.1} s",
            t.elapsed().as_secs_f64()
        );
        for h in &out.headlines {
            eprintln!("{} = {:.2}", h.name, h.value);
        }
        for n in &out.notes {
            eprintln!("{n}");
        }
        eprintln!(
            "figure: {}",
            ctx.figure_dir.join(&out.figures[0].file).display()
        );
    }

    /// The quick experiment on two seeds: a verdict, a figure, finite
    /// headlines, the same numbers twice.
    #[test]
    fn quick_run_has_a_verdict() {
        let s = crate::experiments::suite();
        let run_once = || {
            let mut ctx = Context::for_test(&s, "lot_sizing", true).unwrap();
            ctx.seeds = vec![0, 1];
            let t = std::time::Instant::now();
            let out = run(&ctx).unwrap();
            eprintln!(
                "lot_sizing quick, 2 seeds: {:.2} s",
                t.elapsed().as_secs_f64()
            );
            for n in &out.notes {
                eprintln!("{n}");
            }
            out
        };
        let a = run_once();
        assert_eq!(a.figures.len(), 1);
        assert!(a.headlines.iter().all(|h| h.value.is_finite()));
        assert_eq!(a.notes.iter().filter(|n| n.starts_with("Claim")).count(), 1);
        let b = run_once();
        let values = |o: &Outcome| o.headlines.iter().map(|h| h.value).collect::<Vec<_>>();
        assert_eq!(values(&a), values(&b));
    }
}
