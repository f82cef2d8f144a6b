//! Bench experiment `retro-dual` (suite `combopt`): success rate within an
//! expansion budget of Retro* with PDVN's dual value networks against
//! single-value Retro* (the cost network alone), Retro*-0 (`V = 0`) and
//! breadth-first search, on seeded synthetic reaction graphs.
//!
//! Per seed: one test graph; its top-level molecules that have a route are
//! the targets (at most `targets`); the value networks (feature `torch`)
//! are trained on `train_graphs` other graphs of the same generator. Each
//! method searches each target with Retro*'s protocol (stop at the first
//! route, at most `max_expansions` expansions). The solved-rate curve is
//! the fraction of targets solved within `b` expansions for every `b`; the
//! claim (PDVN, Liu et al. 2023: a higher success rate than Retro*; and
//! than breadth-first search) is a paired t CI over seeds of the
//! solved-rate difference at the budget.
//!
//! With `rl_rounds > 0` the supervised networks are then tuned by PDVN's
//! planning-based RL on the training graphs (`value::plan_and_fine_tune`)
//! and searched as `retro*-dual-rl`; the second claim (RL improves the
//! success rate) is the paired CI of RL-tuned minus supervised-only dual
//! values at the budget, with the area under the solved-rate curve beside it.

use duality_bench::{Context, Figure, Headline, Outcome};
use duality_core::record::RunRecord;
use duality_eval::plot::{LineChart, Series};
use serde::Deserialize;

use super::{search, GraphParams, ReactionGraph, SearchParams, Stop, Strategy, ZeroValue};

/// Parameters of `retro-dual`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetroParams {
    /// Graph generator: levels above the building blocks, molecules per
    /// level, most reactions per molecule, most reactants per reaction.
    levels: usize,
    per_level: usize,
    max_reactions: usize,
    max_reactants: usize,
    /// Training graphs per seed (value networks).
    train_graphs: usize,
    /// Most targets per seed.
    targets: usize,
    /// Expansion budget per target.
    max_expansions: usize,
    /// Value networks: hidden width, epochs, batch, Adam rate, and PDVN's
    /// dead-end cost `c_dead`.
    hidden: usize,
    epochs: usize,
    batch: usize,
    lr: f64,
    c_dead: f64,
    /// PDVN's planning-based RL after the supervised fit (0 rounds: none):
    /// rounds, planning targets per training graph (its top-level molecules
    /// that have a route, as the authors' training targets are the products
    /// of known routes), expansion budget per planning episode, update
    /// epochs per round and Adam rate (the authors' 3 epochs over the
    /// targets, 8 update epochs and rate 1e-3 are the defaults).
    #[serde(default = "default_rl_rounds")]
    rl_rounds: usize,
    #[serde(default = "default_rl_targets")]
    rl_targets: usize,
    #[serde(default = "default_rl_expansions")]
    rl_expansions: usize,
    #[serde(default = "default_rl_epochs")]
    rl_epochs: usize,
    #[serde(default = "default_rl_lr")]
    rl_lr: f64,
    /// Optional explicit seed count (the command line's --seeds wins).
    #[serde(default)]
    #[allow(dead_code)]
    seeds: Option<u64>,
}

fn default_rl_rounds() -> usize {
    3
}

fn default_rl_targets() -> usize {
    60
}

fn default_rl_expansions() -> usize {
    50
}

fn default_rl_epochs() -> usize {
    8
}

fn default_rl_lr() -> f64 {
    1e-3
}

/// One target's search: expansions at its first route (`None`: not
/// solved within the budget) and the route's cost.
type TargetRun = (Option<usize>, f64);

/// One seed: per method, the expansion count of each target's first route
/// (`None`: not solved within the budget) and its route cost.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct RetroSeed {
    methods: Vec<(String, Vec<TargetRun>)>,
    syn_accuracy: f64,
    cost_rmse: f64,
    /// PDVN RL rounds: (episodes, solved, synthesizability labels, cost
    /// labels).
    #[serde(default)]
    rl: Vec<(usize, usize, usize, usize)>,
}

/// The experiment.
///
/// # Errors
/// Invalid parameters or a failing search.
pub fn retro_dual(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: RetroParams = ctx.params()?;
    let gp = GraphParams {
        levels: p.levels,
        per_level: p.per_level,
        max_reactions: p.max_reactions,
        max_reactants: p.max_reactants,
    };
    duality_core::check::at_least("targets", p.targets, 1)?;
    duality_core::check::at_least("max_expansions", p.max_expansions, 1)?;
    duality_core::check::positive("c_dead", p.c_dead)?;
    if p.rl_rounds > 0 {
        // Checked here, by the TOML names, in builds with and without torch.
        duality_core::check::at_least("rl_targets", p.rl_targets, 1)?;
        duality_core::check::at_least("rl_expansions", p.rl_expansions, 1)?;
        duality_core::check::at_least("rl_epochs", p.rl_epochs, 1)?;
        duality_core::check::positive("rl_lr", p.rl_lr)?;
    }
    let seeds = ctx.per_seed(|seed| -> anyhow::Result<RetroSeed> {
        let seeder = ctx.seeder.child(seed);
        let test = ReactionGraph::generate(&gp, &mut seeder.named("test").rng(0))?;
        let exact = test.exact();
        let targets: Vec<usize> = (test.len() - p.per_level..test.len())
            .filter(|&m| exact.solvable(m))
            .take(p.targets)
            .collect();
        let sp = |strategy| SearchParams {
            max_expansions: p.max_expansions,
            strategy,
            stop: Stop::FirstSolution,
        };
        let run = |v: &dyn super::MoleculeValue, strategy| -> anyhow::Result<Vec<TargetRun>> {
            targets
                .iter()
                .map(|&t| {
                    let r = search(&test, t, v, &sp(strategy))?;
                    Ok((r.first_solution_at, r.route_cost))
                })
                .collect()
        };
        #[cfg_attr(not(feature = "torch"), allow(unused_mut))]
        let mut out = RetroSeed {
            methods: vec![
                ("bfs".into(), run(&ZeroValue, Strategy::BreadthFirst)?),
                ("retro*-0".into(), run(&ZeroValue, Strategy::RetroStar)?),
            ],
            syn_accuracy: f64::NAN,
            cost_rmse: f64::NAN,
            rl: Vec::new(),
        };
        #[cfg(feature = "torch")]
        {
            use super::value::{train_dual, ValueParams};
            let graphs: Vec<ReactionGraph> = (0..p.train_graphs as u64)
                .map(|k| ReactionGraph::generate(&gp, &mut seeder.named("train").rng(k)))
                .collect::<Result<_, _>>()?;
            let vp = ValueParams {
                hidden: p.hidden,
                epochs: p.epochs,
                batch: p.batch,
                lr: p.lr,
                seed: seeder.seed_for(7),
            };
            let (mut model, rep) = train_dual(&graphs, &vp)?;
            out.syn_accuracy = rep.syn_accuracy;
            out.cost_rmse = rep.cost_rmse;
            let (single, dual) = model.tables(&test, p.c_dead)?;
            out.methods
                .push(("retro*".into(), run(&single, Strategy::RetroStar)?));
            out.methods
                .push(("retro*-dual".into(), run(&dual, Strategy::RetroStar)?));
            if p.rl_rounds > 0 {
                use super::value::{plan_and_fine_tune, RlParams};
                // Planning targets: the top-level molecules of the training
                // graphs that have a route (the authors train on the
                // products of known routes); whether the planner finds one
                // is the episode's outcome.
                let problems: Vec<(&ReactionGraph, Vec<usize>)> = graphs
                    .iter()
                    .map(|g| {
                        let e = g.exact();
                        let top = g.len().saturating_sub(p.per_level)..g.len();
                        let t = top.filter(|&m| e.solvable(m)).take(p.rl_targets);
                        (g, t.collect())
                    })
                    .collect();
                let rp = RlParams {
                    rounds: p.rl_rounds,
                    max_expansions: p.rl_expansions,
                    epochs: p.rl_epochs,
                    batch: p.batch,
                    lr: p.rl_lr,
                    c_dead: p.c_dead,
                    seed: seeder.seed_for(8),
                };
                let rounds = plan_and_fine_tune(&mut model, &problems, &rp)?;
                out.rl = rounds
                    .iter()
                    .map(|r| (r.episodes, r.solved, r.syn_labels, r.cost_labels))
                    .collect();
                let (_, dual_rl) = model.tables(&test, p.c_dead)?;
                out.methods
                    .push(("retro*-dual-rl".into(), run(&dual_rl, Strategy::RetroStar)?));
            }
        }
        #[cfg(not(feature = "torch"))]
        let _ = (
            p.train_graphs,
            p.hidden,
            p.epochs,
            p.batch,
            p.lr,
            p.rl_rounds,
            p.rl_targets,
            p.rl_expansions,
            p.rl_epochs,
            p.rl_lr,
        );
        Ok(out)
    })?;
    let mut out = Outcome::default();
    let names: Vec<String> = seeds
        .first()
        .map(|s| s.methods.iter().map(|m| m.0.clone()).collect())
        .unwrap_or_default();
    // Per seed and method: solved rate within b expansions, b = 1..=budget.
    let curve = |s: &RetroSeed, name: &str| -> Vec<f64> {
        let runs = &s.methods.iter().find(|m| m.0 == name).map(|m| &m.1);
        let Some(runs) = runs else { return Vec::new() };
        (1..=p.max_expansions)
            .map(|b| {
                runs.iter().filter(|r| r.0.is_some_and(|x| x <= b)).count() as f64
                    / runs.len().max(1) as f64
            })
            .collect()
    };
    for (si, s) in seeds.iter().enumerate() {
        for (name, runs) in &s.methods {
            for (k, r) in runs.iter().enumerate() {
                let mut rec = RunRecord::new(name.as_str(), format!("target#{k}"), ctx.seeds[si])
                    .with_metric("solved", f64::from(u8::from(r.0.is_some())))
                    .with_metric(
                        "expansions_to_first_route",
                        r.0.map_or(f64::NAN, |x| x as f64),
                    );
                if r.1.is_finite() {
                    rec = rec.with_metric("route_cost", r.1);
                }
                out.records.push(rec);
            }
        }
    }
    let mut series = Vec::new();
    let mut summary = Vec::new();
    for name in &names {
        let curves: Vec<Vec<f64>> = seeds.iter().map(|s| curve(s, name)).collect();
        let mean: Vec<f64> = (0..p.max_expansions)
            .map(|b| curves.iter().map(|c| c[b]).sum::<f64>() / curves.len().max(1) as f64)
            .collect();
        let last = mean.last().copied().unwrap_or(0.0);
        out.headlines.push(Headline {
            name: format!("solved_{}", name.replace('*', "_star").replace('-', "_")),
            value: last,
            digits: 3,
        });
        let half = mean.get(p.max_expansions / 2).copied().unwrap_or(0.0);
        summary.push(format!(
            "{name} {last:.3} (at {} expansions: {half:.3})",
            p.max_expansions / 2 + 1
        ));
        series.push(Series {
            label: name.clone(),
            points: mean
                .iter()
                .enumerate()
                .map(|(b, &y)| ((b + 1) as f64, y))
                .collect(),
            band: None,
        });
    }
    let targets: Vec<String> = seeds
        .iter()
        .map(|s| s.methods.first().map_or(0, |m| m.1.len()).to_string())
        .collect();
    out.notes.push(format!(
        "{} seeds, graphs of {} levels x {} molecules (max {} reactions, {} reactants), targets per seed [{}], budget {} expansions; solved rate at the budget: {}",
        seeds.len(),
        p.levels,
        p.per_level,
        p.max_reactions,
        p.max_reactants,
        targets.join(", "),
        p.max_expansions,
        summary.join("; ")
    ));
    let file = "retro_solved_rate.svg";
    LineChart::new(
        "Solved rate against expansions (mean over seeds)",
        "expansions",
        "solved rate",
    )
    .y_from_zero(true)
    .draw(ctx.figure_dir.join(file), &series)?;
    out.figures.push(Figure {
        title: "Retro*: solved rate against expansions".into(),
        file: file.into(),
    });
    if names.iter().any(|n| n == "retro*-dual") {
        let at_budget = |name: &str| -> Vec<f64> {
            seeds
                .iter()
                .map(|s| curve(s, name).last().copied().unwrap_or(0.0))
                .collect()
        };
        let d = at_budget("retro*-dual");
        let mut verdicts = Vec::new();
        for base in ["retro*", "bfs"] {
            let v = match duality_eval::comparison::PairedScores::new(d.clone(), at_budget(base)) {
                Ok(pair) => {
                    let iv = pair.analytic_ci(0.95)?;
                    let verdict = if iv.lo > 0.0 {
                        "HELD"
                    } else if iv.hi < 0.0 {
                        "NOT held (the baseline solves more)"
                    } else {
                        "NOT shown (CI covers 0)"
                    };
                    format!(
                        "vs {base}: solved-rate difference {:.3} (95% paired t CI over seeds [{:.3}, {:.3}]) -> {verdict}",
                        iv.estimate, iv.lo, iv.hi
                    )
                }
                Err(e) => format!("vs {base}: no CI ({e})"),
            };
            verdicts.push(v);
        }
        let acc: Vec<String> = seeds
            .iter()
            .map(|s| format!("{:.2}", s.syn_accuracy))
            .collect();
        let rmse: Vec<String> = seeds
            .iter()
            .map(|s| format!("{:.2}", s.cost_rmse))
            .collect();
        out.notes.push(format!(
            "claim (PDVN, Liu et al. 2023): Retro* with the dual value networks solves more targets within {} expansions than single-value Retro* and than breadth-first search: {}; value networks on their training molecules: synthesizability accuracy [{}], cost RMSE [{}]",
            p.max_expansions,
            verdicts.join("; "),
            acc.join(", "),
            rmse.join(", ")
        ));
        if names.iter().any(|n| n == "retro*-dual-rl") {
            // Paired over seeds: RL-tuned minus supervised-only dual values,
            // at the budget (the claim) and on the area under the
            // solved-rate curve (mean over budgets 1..=B, which also counts
            // how early targets are solved).
            let area = |name: &str| -> Vec<f64> {
                seeds
                    .iter()
                    .map(|s| {
                        let c = curve(s, name);
                        c.iter().sum::<f64>() / c.len().max(1) as f64
                    })
                    .collect()
            };
            let paired = |a: Vec<f64>, b: Vec<f64>| -> anyhow::Result<String> {
                Ok(match duality_eval::comparison::PairedScores::new(a, b) {
                    Ok(pair) => {
                        let iv = pair.analytic_ci(0.95)?;
                        let verdict = if iv.lo > 0.0 {
                            "HELD"
                        } else if iv.hi < 0.0 {
                            "NOT held (the supervised-only values do better)"
                        } else {
                            "NOT shown (CI covers 0)"
                        };
                        format!(
                            "{:+.3} (95% paired t CI over seeds [{:.3}, {:.3}]) -> {verdict}",
                            iv.estimate, iv.lo, iv.hi
                        )
                    }
                    Err(e) => format!("no CI ({e})"),
                })
            };
            let at = paired(at_budget("retro*-dual-rl"), d.clone())?;
            let auc = paired(area("retro*-dual-rl"), area("retro*-dual"))?;
            let rounds: Vec<String> = seeds
                .iter()
                .map(|s| {
                    s.rl.iter()
                        .map(|r| format!("{}/{} solved, {} + {} labels", r.1, r.0, r.2, r.3))
                        .collect::<Vec<_>>()
                        .join(" -> ")
                })
                .collect();
            out.notes.push(format!(
                "claim (PDVN, Liu et al. 2023: planning-based RL of the value networks raises the search success rate): {} rounds of planning (Retro* with the current dual values, {} expansions per episode, on the training graphs' top-level molecules with a route) and updating (PDVN's tree targets, {} epochs, Adam {}) after the supervised fit; test solved rate within {} expansions, RL minus supervised-only: {at}; area under the solved-rate curve, RL minus supervised-only: {auc}; planning episodes per round, per seed [{}]",
                p.rl_rounds,
                p.rl_expansions,
                p.rl_epochs,
                p.rl_lr,
                p.max_expansions,
                rounds.join("; ")
            ));
        }
    } else {
        out.notes.push(
            "the value networks need feature torch: only BFS and Retro*-0 ran and the claim was not checked on this run".into(),
        );
    }
    Ok(out)
}
