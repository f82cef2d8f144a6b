//! Bench experiment `deep_recoil` (features `experiments` + `torch`): deep
//! ReCOIL against behaviour cloning on the 2-D point mass from mostly
//! non-expert offline data plus a few expert trajectories (issue 19,
//! section 1 "then deep"). See [`super::deep_recoil`].

use duality_bench::{Context, Headline, Outcome};
use duality_core::record::RunRecord;
use serde::{Deserialize, Serialize};

use super::deep::{collect, normalised, reference_returns, Dataset, PointMass};
use super::deep_recoil::{
    collect_suboptimal, concat, train_bc_on, train_deep_recoil_on, DeepRecoilParams,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    /// Suboptimal episodes (half uniform, half another task's medium policy).
    suboptimal_episodes: usize,
    /// Expert trajectories.
    expert_episodes: usize,
    /// ReCOIL gradient steps, and behaviour cloning's.
    steps: usize,
    bc_steps: usize,
    /// Minibatch (ReCOIL: per half), hidden widths, learning rate.
    batch: usize,
    hidden: Vec<usize>,
    lr: f64,
    /// Chi-square weight of ReCOIL's value loss.
    lambda: f64,
    /// Value of the absorbing (goal) state in units of `q_max`: `1` here,
    /// the authors' `-1` (see [`DeepRecoilParams::absorbing`]).
    absorbing: f64,
    /// Episodes of each policy evaluation (and of the reference policies).
    eval_episodes: usize,
}

/// One seed's normalised returns (uniform 0, scripted expert 1).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SeedResult {
    data: f64,
    transitions: usize,
    expert_transitions: usize,
    /// NaN when ReCOIL diverged.
    recoil: f64,
    diverged_at: Option<usize>,
    bc_all: f64,
    bc_expert: f64,
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

/// The experiment (see the module documentation and docs/distdp.md).
pub(crate) fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: Params = ctx.params()?;
    let env = PointMass::standard();
    let device = duality_core::tensor::default_device()?;
    let seeder = ctx.seeder;
    let results: Vec<SeedResult> = ctx.per_seed(|seed| {
        let s = seeder.child(seed);
        let (j_rand, j_exp) = reference_returns(&env, p.eval_episodes, s.seed_for(1))?;
        let mut rng = s.rng(0);
        let sub = collect_suboptimal(&env, p.suboptimal_episodes, &mut rng)?;
        let expert = collect(&env, Dataset::Expert, p.expert_episodes, &mut rng)?;
        let all = concat(&sub, &expert);
        let data = normalised(mean(&all.episode_returns), j_rand, j_exp);
        let score = |fit: &super::deep::DeepFdvlFit, k: u64| -> anyhow::Result<f64> {
            let mut rng = s.rng(k);
            Ok(normalised(
                env.evaluate(|x| fit.act(x), p.eval_episodes, &mut rng)?,
                j_rand,
                j_exp,
            ))
        };
        let mut rp = DeepRecoilParams::new(p.steps, s.seed_for(2));
        rp.dual.batch = p.batch;
        rp.dual.hidden = p.hidden.clone();
        rp.dual.lr = p.lr;
        rp.dual.lambda = p.lambda;
        rp.absorbing = p.absorbing;
        let fit = train_deep_recoil_on(&env, &all, &expert, &rp, device)?;
        let recoil = if fit.stable() {
            score(&fit, 3)?
        } else {
            f64::NAN
        };
        let bc = |d, k| {
            train_bc_on(
                d,
                &p.hidden,
                p.bc_steps,
                p.batch,
                p.lr,
                s.seed_for(k),
                device,
            )
        };
        let bc_all = score(&bc(&all, 4)?, 3)?;
        let bc_expert = score(&bc(&expert, 5)?, 3)?;
        Ok(SeedResult {
            data,
            transitions: all.len(),
            expert_transitions: expert.len(),
            recoil,
            diverged_at: fit.diverged_at,
            bc_all,
            bc_expert,
        })
    })?;
    let mut out = Outcome::default();
    let task = "point-mass-imitation";
    for (r, &seed) in results.iter().zip(&ctx.seeds) {
        for (label, v) in [
            ("recoil", r.recoil),
            ("bc-all-data", r.bc_all),
            ("bc-expert-only", r.bc_expert),
        ] {
            out.records.push(
                RunRecord::new(label, task, seed)
                    .with_metric("normalised_return", if v.is_finite() { v } else { -1.0 }),
            );
        }
    }
    let col = |f: fn(&SeedResult) -> f64| -> Vec<f64> {
        results.iter().map(f).filter(|v| v.is_finite()).collect()
    };
    let (recoil, bc_all, bc_expert, data) = (
        col(|r| r.recoil),
        col(|r| r.bc_all),
        col(|r| r.bc_expert),
        col(|r| r.data),
    );
    let ci = |v: &[f64]| format!("{:.3} ± {:.3}", mean(v), half_width(v));
    let diverged: Vec<String> = results
        .iter()
        .filter_map(|r| r.diverged_at.map(|s| s.to_string()))
        .collect();
    out.notes.push(format!(
        "Data: {} suboptimal episodes (even: uniform; odd: another task's medium policy, goal \
         mirrored to the lower right) + {} expert trajectories ({} transitions, {} expert, on the \
         first seed); the data's own normalised return (uniform 0, scripted expert 1) {}.",
        p.suboptimal_episodes,
        p.expert_episodes,
        results.first().map_or(0, |r| r.transitions),
        results.first().map_or(0, |r| r.expert_transitions),
        ci(&data)
    ));
    out.notes.push(format!(
        "Normalised return, mean ± 95% half-width over seeds: deep ReCOIL (chi-square, lambda \
         {}, absorbing {} q_max, {} steps, batch {} + {} expert, hidden {:?}, lr {}) {} ({} of {} runs stable{}); BC on \
         all the data ({} steps) {}; BC on the expert trajectories only {}.",
        p.lambda,
        p.absorbing,
        p.steps,
        p.batch,
        p.batch,
        p.hidden,
        p.lr,
        ci(&recoil),
        recoil.len(),
        results.len(),
        if diverged.is_empty() {
            String::new()
        } else {
            format!("; diverged at steps {}", diverged.join(", "))
        },
        p.bc_steps,
        ci(&bc_all),
        ci(&bc_expert)
    ));
    for (name, v) in [
        ("recoil", &recoil),
        ("bc-all-data", &bc_all),
        ("bc-expert-only", &bc_expert),
        ("data", &data),
    ] {
        out.headlines.push(Headline {
            name: format!("{name}/normalised_return"),
            value: mean(v),
            digits: 3,
        });
    }
    let all_stable = recoil.len() == results.len();
    let recoil_near = all_stable && mean(&recoil) - half_width(&recoil) >= 0.9;
    let bc_below = mean(&bc_all) + half_width(&bc_all) < 0.9;
    out.notes.push(format!(
        "Claim (ReCOIL near-expert: every seed stable and the 95% CI above 0.9, where BC on all \
         the data is not: CI below 0.9): {}.",
        if recoil_near && bc_below {
            "HELD on this run"
        } else {
            "DID NOT HOLD on this run"
        }
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_typed() {
        let s = crate::experiments::suite();
        for quick in [true, false] {
            let ctx = Context::for_test(&s, "deep_recoil", quick).unwrap();
            let p: Params = ctx.params().unwrap();
            assert!(p.expert_episodes >= 1 && p.lambda > 0.0);
        }
    }
}
