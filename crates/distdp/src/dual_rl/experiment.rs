//! Bench experiment `deep_dual_rl` (features `experiments` + `torch`):
//! deep f-DVL (chi-square, TV) against XQL's Gumbel loss over a sweep of
//! temperatures on the 2-D point mass with mixed-quality offline data
//! (issue 19, section 1 "then deep"). See [`super::deep`].

use duality_bench::{Context, Figure, Headline, Outcome};
use duality_core::record::RunRecord;
use duality_eval::plot::{LineChart, Series};
use serde::{Deserialize, Serialize};

use super::deep::{
    collect, normalised, reference_returns, train_deep_fdvl, Dataset, DeepFdvlParams, LossPoint,
    PointMass,
};
use super::FDivergence;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    /// Offline episodes and which data.
    episodes: usize,
    dataset: Dataset,
    /// Gradient steps, minibatch, hidden widths, learning rate of every run.
    steps: usize,
    batch: usize,
    hidden: Vec<usize>,
    lr: f64,
    /// f-DVL's weight lambda (chi-square and TV).
    lambda: f64,
    /// XQL Gumbel temperatures (plain loss, no stabilisers).
    gumbel_temperatures: Vec<f64>,
    /// Episodes of the policy evaluation (and of the reference policies).
    eval_episodes: usize,
}

/// One method's run on one seed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Run {
    label: String,
    diverged_at: Option<usize>,
    /// log10(1 + the largest curve point of the value loss), 38.5 when it
    /// overflowed (f32's range ends at 10^38.5).
    peak: f64,
    /// Normalised return (uniform 0, scripted expert 1); NaN when diverged.
    score: f64,
    curve: Vec<LossPoint>,
}

/// One seed: the data's own score and every method's run.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SeedResult {
    data_score: f64,
    transitions: usize,
    runs: Vec<Run>,
}

fn peak_of(curve: &[LossPoint]) -> f64 {
    let mut peak: f64 = 0.0;
    for p in curve {
        if !p.value_loss.is_finite() || p.value_loss > 1e38 {
            return 38.5;
        }
        peak = peak.max(p.value_loss.abs());
    }
    (1.0 + peak).log10()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Half-width of a normal 95% interval of the mean.
fn half_width(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return f64::NAN;
    }
    let m = mean(v);
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
    1.96 * (var / v.len() as f64).sqrt()
}

/// Wilson 95% interval of a proportion `k / n`.
fn wilson(k: usize, n: usize) -> (f64, f64) {
    let (k, n, z) = (k as f64, n as f64, 1.96f64);
    let p = k / n;
    let c = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let h = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
    ((c - h).max(0.0), (c + h).min(1.0))
}

fn headline(name: String, value: f64, digits: u32) -> Headline {
    Headline {
        name,
        value,
        digits,
    }
}

/// The experiment (see the module documentation and docs/distdp.md).
pub(crate) fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: Params = ctx.params()?;
    let env = PointMass::standard();
    let mut methods: Vec<(String, FDivergence, f64)> = vec![
        ("fdvl-chi-square".into(), FDivergence::ChiSquare, p.lambda),
        ("fdvl-tv".into(), FDivergence::TotalVariation, p.lambda),
    ];
    for &t in &p.gumbel_temperatures {
        methods.push((format!("xql-gumbel-t{t}"), FDivergence::Gumbel, t));
    }
    let seeder = ctx.seeder;
    let results: Vec<SeedResult> = ctx.per_seed(|seed| {
        let s = seeder.child(seed);
        let (j_rand, j_exp) = reference_returns(&env, p.eval_episodes, s.seed_for(1))?;
        let data = collect(&env, p.dataset, p.episodes, &mut s.rng(0))?;
        let data_score = normalised(mean(&data.episode_returns), j_rand, j_exp);
        let mut runs = Vec::new();
        for (label, div, lambda) in &methods {
            let mut dp = DeepFdvlParams::new(*div, *lambda, p.steps, s.seed_for(2));
            dp.batch = p.batch;
            dp.hidden = p.hidden.clone();
            dp.lr = p.lr;
            let fit = train_deep_fdvl(&env, &data, &dp)?;
            let score = if fit.stable() {
                let mut rng = s.rng(3);
                normalised(
                    env.evaluate(|x| fit.act(x), p.eval_episodes, &mut rng)?,
                    j_rand,
                    j_exp,
                )
            } else {
                f64::NAN
            };
            runs.push(Run {
                label: label.clone(),
                diverged_at: fit.diverged_at,
                peak: peak_of(&fit.curve),
                score,
                curve: fit.curve,
            });
        }
        Ok(SeedResult {
            data_score,
            transitions: data.len(),
            runs,
        })
    })?;
    let n = results.len();
    let mut out = Outcome::default();
    let task = format!("point-mass-{}", p.dataset);
    for (r, &seed) in results.iter().zip(&ctx.seeds) {
        for run in &r.runs {
            out.records.push(
                RunRecord::new(run.label.clone(), task.clone(), seed)
                    .with_metric("stable", f64::from(u8::from(run.diverged_at.is_none())))
                    .with_metric("log10_peak_value_loss", run.peak)
                    .with_metric(
                        "normalised_return",
                        if run.score.is_finite() {
                            run.score
                        } else {
                            -1.0
                        },
                    ),
            );
        }
    }
    let ci = |v: &[f64]| {
        if v.is_empty() {
            "no stable run".to_string()
        } else {
            format!("{:.3} ± {:.3} ({} runs)", mean(v), half_width(v), v.len())
        }
    };
    let data_scores: Vec<f64> = results.iter().map(|r| r.data_score).collect();
    out.notes.push(format!(
        "Data: {} episodes of the {} behaviour on the point mass ({} transitions on the first \
         seed); the data's own normalised return (uniform 0, scripted expert 1) {}.",
        p.episodes,
        p.dataset,
        results.first().map(|r| r.transitions).unwrap_or(0),
        ci(&data_scores)
    ));
    let mut stable_counts = Vec::new();
    let mut cells = Vec::new();
    for (m, (label, _, _)) in methods.iter().enumerate() {
        let stable = results
            .iter()
            .filter(|r| r.runs[m].diverged_at.is_none())
            .count();
        let peaks: Vec<f64> = results.iter().map(|r| r.runs[m].peak).collect();
        let scores: Vec<f64> = results
            .iter()
            .map(|r| r.runs[m].score)
            .filter(|s| s.is_finite())
            .collect();
        let steps: Vec<String> = results
            .iter()
            .filter_map(|r| r.runs[m].diverged_at.map(|s| s.to_string()))
            .collect();
        let (lo, hi) = wilson(stable, n);
        cells.push(format!(
            "{label}: stable {stable}/{n} (Wilson 95% [{lo:.2}, {hi:.2}]){}, log10(1 + peak \
             value loss) {}, normalised return {}",
            if steps.is_empty() {
                String::new()
            } else {
                format!(", diverged at steps {}", steps.join(", "))
            },
            ci(&peaks),
            ci(&scores)
        ));
        out.headlines.push(headline(
            format!("{label}/stable_fraction"),
            stable as f64 / n as f64,
            2,
        ));
        out.headlines.push(headline(
            format!("{label}/log10_peak_value_loss"),
            mean(&peaks),
            2,
        ));
        if !scores.is_empty() {
            out.headlines.push(headline(
                format!("{label}/normalised_return"),
                mean(&scores),
                3,
            ));
        }
        stable_counts.push(stable);
    }
    out.notes.push(format!(
        "Deep f-DVL vs XQL's plain Gumbel loss ({} gradient steps, batch {}, hidden {:?}, Adam lr \
         {} for every run; f-DVL lambda {}; diverged = a non-finite loss or mean |V| beyond 10x \
         the return bound 1/(1 - gamma); mean ± 95% half-width over seeds): {}.",
        p.steps,
        p.batch,
        p.hidden,
        p.lr,
        p.lambda,
        cells.join("; ")
    ));
    let fdvl_stable = stable_counts[0] == n && stable_counts[1] == n;
    let gumbel_diverged = stable_counts[2..].iter().any(|&s| 2 * s < n);
    out.notes.push(format!(
        "Claim (f-DVL chi-square and TV stable on every seed, where the plain Gumbel loss \
         diverges on most seeds at some temperature of the sweep): {}.",
        if fdvl_stable && gumbel_diverged {
            "HELD on this run"
        } else {
            "DID NOT HOLD on this run"
        }
    ));
    // Value-loss curves of the first seed.
    if let Some(first) = results.first() {
        let series: Vec<Series> = first
            .runs
            .iter()
            .map(|run| Series {
                label: match run.diverged_at {
                    Some(s) => format!("{} (diverged at step {s})", run.label),
                    None => run.label.clone(),
                },
                points: run
                    .curve
                    .iter()
                    .map(|pt| {
                        let v = if pt.value_loss.is_finite() {
                            pt.value_loss.abs()
                        } else {
                            1e38
                        };
                        (pt.step as f64, v.clamp(1e-6, 1e38))
                    })
                    .collect(),
                band: None,
            })
            .collect();
        let file = "distdp_deep_dual_rl_losses.svg";
        LineChart::new(
            "Deep f-DVL value losses vs XQL's Gumbel loss (first seed; a curve that stops diverged)",
            "gradient step",
            "|mean value loss|",
        )
        .log_y(true)
        .draw(ctx.figure_dir.join(file), &series)?;
        out.figures.push(Figure {
            title: "Deep Dual RL value-loss curves".into(),
            file: file.into(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_typed() {
        let s = crate::experiments::suite();
        for quick in [true, false] {
            let ctx = Context::for_test(&s, "deep_dual_rl", quick).unwrap();
            let p: Params = ctx.params().unwrap();
            assert!(p.gumbel_temperatures.iter().all(|&t| t > 0.0));
        }
    }

    #[test]
    fn wilson_and_peaks() {
        let (lo, hi) = wilson(3, 3);
        assert!(lo > 0.4 && hi == 1.0, "{lo} {hi}");
        let (lo, hi) = wilson(0, 5);
        assert!(lo == 0.0 && hi < 0.5, "{lo} {hi}");
        let pt = |v| LossPoint {
            step: 1,
            value_loss: v,
            critic_loss: 0.0,
            v_mean: 0.0,
        };
        assert_eq!(peak_of(&[pt(9.0)]), 1.0);
        assert_eq!(peak_of(&[pt(1.0), pt(f64::INFINITY)]), 38.5);
    }
}
