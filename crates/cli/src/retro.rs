//! `duality retro search ...`: retrosynthetic planning on a seeded
//! synthetic reaction graph with Retro*'s AND-OR search, breadth-first
//! search, or Retro* guided by value networks (single cost value, or PDVN's
//! dual values; libtorch: run by `duality-torch`).
//!
//! `retro search [--levels 5] [--per-level 200] [--max-reactions 3]
//! [--max-reactants 3] [--seed S] [--targets 20] [--max-expansions 100]
//! --method bfs|retro0|retro|dual [--train-graphs 4] [--c-dead 20]
//! [--rl-rounds 0] [--format json]` prints `{"method": ..., "targets": n, "solved": k,
//! "solved_rate": r, "runs": [{"target": m, "solvable": true, "solved":
//! b, "expansions_to_first_route": e, "route_cost": c, "optimal_cost":
//! c*}, ...]}`; the targets are the top-level molecules that have a route.
//! `--rl-rounds R` (methods `retro` and `dual`) tunes the networks after
//! their supervised fit by R rounds of PDVN's planning-based RL on the
//! training graphs (`duality_combopt::retro::value::plan_and_fine_tune`).

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::output::{emit, Format};
use duality_combopt::retro::{
    search, GraphParams, MoleculeValue, ReactionGraph, SearchParams, Stop, Strategy, ZeroValue,
};

/// `duality retro ...`.
#[derive(Debug, Subcommand)]
pub enum RetroCommand {
    /// Search routes for the top-level molecules of a generated graph.
    Search(SearchArgs),
}

/// Arguments of `duality retro search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Levels above the building blocks.
    #[arg(long, default_value_t = 5)]
    pub levels: usize,
    /// Molecules per level.
    #[arg(long, default_value_t = 200)]
    pub per_level: usize,
    /// Most reactions per molecule.
    #[arg(long, default_value_t = 3)]
    pub max_reactions: usize,
    /// Most reactants per reaction.
    #[arg(long, default_value_t = 3)]
    pub max_reactants: usize,
    /// Seed of the graph (and of the training graphs and networks).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Most targets.
    #[arg(long, default_value_t = 20)]
    pub targets: usize,
    /// Expansion budget per target.
    #[arg(long, default_value_t = 100)]
    pub max_expansions: usize,
    /// `bfs`, `retro0` (Retro* with V = 0), `retro` (cost network,
    /// libtorch) or `dual` (PDVN's two networks, libtorch).
    #[arg(long, default_value = "dual")]
    pub method: String,
    /// Training graphs for the value networks.
    #[arg(long, default_value_t = 4)]
    pub train_graphs: usize,
    /// PDVN's dead-end cost.
    #[arg(long, default_value_t = 20.0)]
    pub c_dead: f64,
    /// Rounds of PDVN's planning-based RL after the supervised fit (0:
    /// none; methods retro and dual): each plans up to 60 top-level
    /// molecules with a route per training graph within --max-expansions,
    /// then fits the networks to the search trees' targets (8 epochs, Adam
    /// 1e-3, the authors' settings).
    #[arg(long, default_value_t = 0)]
    pub rl_rounds: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Serialize)]
struct RunOut {
    target: usize,
    solved: bool,
    expansions_to_first_route: Option<usize>,
    route_cost: Option<f64>,
    optimal_cost: f64,
}

#[derive(Serialize)]
struct SearchOut {
    method: String,
    targets: usize,
    solved: usize,
    solved_rate: f64,
    runs: Vec<RunOut>,
}

#[cfg(duality_torch)]
fn learned(
    a: &SearchArgs,
    gp: &GraphParams,
    test: &ReactionGraph,
) -> anyhow::Result<Box<dyn MoleculeValue>> {
    use duality_combopt::retro::value::{train_dual, ValueParams};
    if a.train_graphs == 0 || a.train_graphs > 1000 {
        bail!("--train-graphs {}: expected 1 to 1000", a.train_graphs);
    }
    if !(a.c_dead.is_finite() && a.c_dead > 0.0) {
        bail!("--c-dead {}: expected a finite cost > 0", a.c_dead);
    }
    let seeder = duality_core::seed::Seeder::new(a.seed);
    let graphs: Vec<ReactionGraph> = (0..a.train_graphs as u64)
        .map(|k| ReactionGraph::generate(gp, &mut seeder.named("train").rng(k)))
        .collect::<Result<_, _>>()?;
    let vp = ValueParams {
        hidden: 64,
        epochs: 40,
        batch: 128,
        lr: 3e-3,
        seed: seeder.seed_for(7),
    };
    let (mut model, _) = train_dual(&graphs, &vp)?;
    if a.rl_rounds > 0 {
        use duality_combopt::retro::value::{plan_and_fine_tune, RlParams};
        let problems: Vec<(&ReactionGraph, Vec<usize>)> = graphs
            .iter()
            .map(|g| {
                let e = g.exact();
                let top = g.len().saturating_sub(a.per_level)..g.len();
                (g, top.filter(|&m| e.solvable(m)).take(60).collect())
            })
            .collect();
        let rp = RlParams {
            rounds: a.rl_rounds,
            max_expansions: a.max_expansions,
            epochs: 8,
            batch: 128,
            lr: 1e-3,
            c_dead: a.c_dead,
            seed: seeder.seed_for(8),
        };
        plan_and_fine_tune(&mut model, &problems, &rp)?;
    }
    let (single, dual) = model.tables(test, a.c_dead)?;
    Ok(Box::new(if a.method == "dual" { dual } else { single }))
}

#[cfg(not(duality_torch))]
fn learned(
    _: &SearchArgs,
    _: &GraphParams,
    _: &ReactionGraph,
) -> anyhow::Result<Box<dyn MoleculeValue>> {
    bail!(
        "--method retro|dual needs libtorch: run it with duality-torch (duality forwards it there)"
    )
}

/// Runs `duality retro ...`.
pub fn run(cmd: RetroCommand) -> anyhow::Result<()> {
    let RetroCommand::Search(a) = cmd;
    if !["bfs", "retro0", "retro", "dual"].contains(&a.method.as_str()) {
        bail!(
            "--method {:?}: expected bfs, retro0, retro or dual",
            a.method
        );
    }
    if a.max_expansions == 0 {
        bail!("--max-expansions 0: expected at least one expansion");
    }
    if a.rl_rounds > 100 {
        bail!("--rl-rounds {}: expected at most 100", a.rl_rounds);
    }
    if a.rl_rounds > 0 && !["retro", "dual"].contains(&a.method.as_str()) {
        bail!(
            "--rl-rounds {} with --method {}: RL tunes value networks, expected --method retro or dual",
            a.rl_rounds,
            a.method
        );
    }
    let gp = GraphParams {
        levels: a.levels,
        per_level: a.per_level,
        max_reactions: a.max_reactions,
        max_reactants: a.max_reactants,
    };
    let seeder = duality_core::seed::Seeder::new(a.seed);
    let test = ReactionGraph::generate(&gp, &mut seeder.named("test").rng(0))
        .context("--levels/--per-level/--max-reactions/--max-reactants")?;
    let exact = test.exact();
    let targets: Vec<usize> = (test.len() - a.per_level..test.len())
        .filter(|&m| exact.solvable(m))
        .take(a.targets)
        .collect();
    let value: Box<dyn MoleculeValue> = match a.method.as_str() {
        "bfs" | "retro0" => Box::new(ZeroValue),
        _ => learned(&a, &gp, &test)?,
    };
    let sp = SearchParams {
        max_expansions: a.max_expansions,
        strategy: if a.method == "bfs" {
            Strategy::BreadthFirst
        } else {
            Strategy::RetroStar
        },
        stop: Stop::FirstSolution,
    };
    let mut runs = Vec::new();
    for &t in &targets {
        let r = search(&test, t, value.as_ref(), &sp)?;
        runs.push(RunOut {
            target: t,
            solved: r.solved,
            expansions_to_first_route: r.first_solution_at,
            route_cost: r.route_cost.is_finite().then_some(r.route_cost),
            optimal_cost: exact.cost[t],
        });
    }
    let solved = runs.iter().filter(|r| r.solved).count();
    let out = SearchOut {
        method: a.method.clone(),
        targets: runs.len(),
        solved,
        solved_rate: solved as f64 / runs.len().max(1) as f64,
        runs,
    };
    emit(a.format, &out, |o| {
        println!(
            "{}: solved {}/{} targets ({:.3}) within {} expansions",
            o.method, o.solved, o.targets, o.solved_rate, a.max_expansions
        );
        for r in &o.runs {
            match (r.expansions_to_first_route, r.route_cost) {
                (Some(e), Some(c)) => println!(
                    "  molecule {:6}  route cost {c:.3} (optimal {:.3}) after {e} expansions",
                    r.target, r.optimal_cost
                ),
                _ => println!("  molecule {:6}  not solved", r.target),
            }
        }
    })
}
