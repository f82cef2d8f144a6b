//! Bench experiment `directional-attacks` (suite `combopt`): evaluations to
//! a target value, cDSM alone vs cDSM + attacks through an online MLP
//! surrogate (feature `torch`), paired CIs over (seed, problem).

use duality_bench::{Context, Experiment, Headline, Outcome};
use duality_core::record::RunRecord;
use serde::Deserialize;

use super::{minimize, problem, DsmParams};

/// The experiment, registered in `experiments::suite()`.
pub(crate) fn experiment() -> Experiment {
    Experiment {
        name: "directional-attacks",
        about: "covering direct search (cDSM) alone vs cDSM + FGSM attacks through an MLP surrogate fitted online (feature torch) on Rosenbrock, Rastrigin and constrained Rosenbrock; claim: fewer evaluations to the target, paired CI over (seed, problem)",
        run,
    }
}

/// Parameters of `directional-attacks`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    /// Problem names (`direct_search::PROBLEMS`) ...
    problems: Vec<String>,
    /// ... their dimensions ...
    dims: Vec<usize>,
    /// ... and targets: reached when `f <= optimum + target`.
    targets: Vec<f64>,
    /// Evaluation budget per run (a run that misses the target counts this).
    max_evals: usize,
    /// Surrogate: hidden widths, Adam steps per attack, learning rate,
    /// fitting window.
    hidden: Vec<usize>,
    steps: usize,
    lr: f64,
    window: usize,
}

/// Per problem: (evals alone, reached alone, evals hybrid, reached hybrid,
/// attack successes).
type Cell = (usize, bool, usize, bool, usize);

fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: Params = ctx.params()?;
    if p.problems.len() != p.dims.len()
        || p.problems.len() != p.targets.len()
        || p.problems.is_empty()
    {
        anyhow::bail!(
            "parameters problems, dims and targets: expected equal non-zero lengths, got {}, {}, {}",
            p.problems.len(),
            p.dims.len(),
            p.targets.len()
        );
    }
    for (name, &d) in p.problems.iter().zip(&p.dims) {
        problem(name, d).map_err(|e| anyhow::anyhow!("parameter problems: {e}"))?;
    }
    #[cfg(not(feature = "torch"))]
    let _ = (&p.hidden, p.steps, p.lr, p.window);
    let seeds = ctx.per_seed(|seed| -> anyhow::Result<Vec<Cell>> {
        let seeder = ctx.seeder.child(seed);
        let mut out = Vec::new();
        for (k, ((name, &dim), &target)) in
            p.problems.iter().zip(&p.dims).zip(&p.targets).enumerate()
        {
            let prob = problem(name, dim)?;
            let params = DsmParams {
                max_evals: p.max_evals,
                target: Some(prob.optimum().unwrap_or(0.0) + target),
                ..DsmParams::default()
            };
            let alone = minimize(prob.as_ref(), &params, None, &mut seeder.rng(k as u64))?;
            #[cfg(feature = "torch")]
            let hybrid = {
                use super::{SurrogateAttack, SurrogateParams};
                let mut oracle = SurrogateAttack::new(
                    prob.dim(),
                    SurrogateParams {
                        hidden: p.hidden.clone(),
                        steps: p.steps,
                        lr: p.lr,
                        window: p.window,
                        seed: seeder.seed_for(1_000 + k as u64),
                    },
                )?;
                Some(minimize(
                    prob.as_ref(),
                    &params,
                    Some(&mut oracle),
                    &mut seeder.rng(k as u64),
                )?)
            };
            #[cfg(not(feature = "torch"))]
            let hybrid: Option<super::DsmRun> = None;
            let (he, hr, hs) = match &hybrid {
                Some(h) => (
                    h.evals_to_target.unwrap_or(p.max_evals),
                    h.evals_to_target.is_some(),
                    h.successes[0],
                ),
                None => (0, false, 0),
            };
            out.push((
                alone.evals_to_target.unwrap_or(p.max_evals),
                alone.evals_to_target.is_some(),
                he,
                hr,
                hs,
            ));
        }
        Ok(out)
    })?;
    let mut out = Outcome::default();
    let torch = cfg!(feature = "torch");
    let mut lines = Vec::new();
    let mut log_ratios = Vec::new();
    for (k, name) in p.problems.iter().enumerate() {
        let inst = format!("{name}-{}", p.dims[k]);
        let col: Vec<Cell> = seeds.iter().map(|s| s[k]).collect();
        for (si, c) in col.iter().enumerate() {
            let seed = ctx.seeds[si];
            out.records.push(
                RunRecord::new("cdsm", inst.as_str(), seed)
                    .with_metric("evals_to_target", c.0 as f64)
                    .with_metric("reached", f64::from(u8::from(c.1))),
            );
            if torch {
                out.records.push(
                    RunRecord::new("cdsm+attack", inst.as_str(), seed)
                        .with_metric("evals_to_target", c.2 as f64)
                        .with_metric("reached", f64::from(u8::from(c.3)))
                        .with_metric("attack_successes", c.4 as f64),
                );
                log_ratios.push((c.2.max(1) as f64 / c.0.max(1) as f64).ln());
            }
        }
        let geo = |v: Vec<usize>| -> f64 {
            (v.iter().map(|&e| (e.max(1) as f64).ln()).sum::<f64>() / v.len().max(1) as f64).exp()
        };
        let ga = geo(col.iter().map(|c| c.0).collect());
        let reached_a = col.iter().filter(|c| c.1).count();
        let tag = inst.replace('-', "_");
        out.headlines.push(Headline {
            name: format!("evals_cdsm_{tag}"),
            value: ga,
            digits: 1,
        });
        if torch {
            let gh = geo(col.iter().map(|c| c.2).collect());
            let reached_h = col.iter().filter(|c| c.3).count();
            out.headlines.push(Headline {
                name: format!("evals_attack_{tag}"),
                value: gh,
                digits: 1,
            });
            lines.push(format!(
                "{inst} (target f* + {}): cDSM {ga:.1} evaluations (geometric mean; reached {reached_a}/{}), cDSM+attack {gh:.1} (reached {reached_h}/{}, attack successes {} in total)",
                p.targets[k],
                col.len(),
                col.len(),
                col.iter().map(|c| c.4).sum::<usize>()
            ));
        } else {
            lines.push(format!(
                "{inst} (target f* + {}): cDSM {ga:.1} evaluations (geometric mean; reached {reached_a}/{})",
                p.targets[k],
                col.len()
            ));
        }
    }
    out.notes.push(format!(
        "evaluations to the target (a run that misses it counts the budget of {}), {} seeds; {}",
        p.max_evals,
        seeds.len(),
        lines.join("; ")
    ));
    if torch {
        let zeros = vec![0.0; log_ratios.len()];
        let fewer = log_ratios.iter().filter(|v| **v < 0.0).count();
        let verdict = match duality_eval::comparison::PairedScores::new(log_ratios.clone(), zeros)
            .and_then(|pr| pr.analytic_ci(0.95))
        {
            Ok(iv) => {
                out.headlines.push(Headline {
                    name: "attack_vs_cdsm_eval_ratio".into(),
                    value: iv.estimate.exp(),
                    digits: 3,
                });
                let v = if iv.hi < 0.0 {
                    "HELD (CI below 1)"
                } else if iv.lo > 0.0 {
                    "NOT held (CI above 1: the attacks cost evaluations)"
                } else {
                    "NOT shown (CI covers 1)"
                };
                format!(
                    "evaluation ratio cDSM+attack / cDSM {:.3} (95% paired t CI on the log ratio over (seed, problem): [{:.3}, {:.3}]), fewer on {fewer}/{} -> {v}",
                    iv.estimate.exp(),
                    iv.lo.exp(),
                    iv.hi.exp(),
                    log_ratios.len()
                )
            }
            Err(e) => format!("no CI ({e})"),
        };
        out.notes.push(format!(
            "claim (Bouchet & Vidal, directional attacks): fewer blackbox evaluations to the target than direct search alone: {verdict} on this run; surrogate MLP {:?} (tanh), {} Adam steps (lr {}) per attack on the {} nearest points, FGSM attack",
            p.hidden, p.steps, p.lr, p.window
        ));
    } else {
        out.notes.push(
            "the attack oracle needs feature torch: the claim was not checked on this run".into(),
        );
    }
    Ok(out)
}
