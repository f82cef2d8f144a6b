//! `duality gflownet front ...`: multi-objective search over a HyperGrid or
//! N-grams task with the preference-conditional GFlowNet (MOGFN-PC,
//! libtorch: run by `duality-torch`), NSGA-II or random search, at a given
//! evaluation budget; prints the Pareto front found and its hypervolume
//! and R2.
//!
//! `gflownet front --task hypergrid [--side 32] [--objectives
//! branin,currin] | --task ngrams [--alphabet 4] [--length 8] [--motifs
//! AB,CD]` `--method mogfn|nsga2|random [--budget N] [--seed S] [--format
//! json]` prints `{"task": ..., "method": ..., "evaluations": n,
//! "hypervolume": h, "r2": r, "front_size": k, "distinct": d, "front":
//! [{"state": [...], "objectives": [...]}, ...]}` (objectives maximised,
//! each in [0, 1]; states are grid coordinates or letter strings). With
//! `mogfn`, `--budget` is split into training trajectories (`--batch` per
//! step) and `--samples` final samples; `--conditioning
//! weighted-sum|tchebycheff|goal [--focus-cosim C --focus-limit-coef L]`
//! picks MOGFN-PC's scalarisation or MOGFN-GC's goal directions.

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::output::{emit, Format};
use duality_combopt::gflownet::{
    front_quality, nsga2, random_search, Evaluated, Nsga2Params, State, Task,
};

/// `duality gflownet ...`.
#[derive(Debug, Subcommand)]
pub enum GflownetCommand {
    /// Search a Pareto front at an evaluation budget.
    Front(FrontArgs),
}

/// Arguments of `duality gflownet front`.
#[derive(Debug, Args)]
pub struct FrontArgs {
    /// `hypergrid` or `ngrams`.
    #[arg(long, default_value = "hypergrid")]
    pub task: String,
    /// HyperGrid side (2-D grid).
    #[arg(long, default_value_t = 32)]
    pub side: usize,
    /// HyperGrid objectives, comma-separated (branin, currin, shubert).
    #[arg(long, default_value = "branin,currin", value_delimiter = ',')]
    pub objectives: Vec<String>,
    /// N-grams alphabet size.
    #[arg(long, default_value_t = 4)]
    pub alphabet: usize,
    /// N-grams longest string.
    #[arg(long, default_value_t = 8)]
    pub length: usize,
    /// N-grams motifs, comma-separated (one objective each).
    #[arg(long, default_value = "AB,CD", value_delimiter = ',')]
    pub motifs: Vec<String>,
    /// `mogfn` (libtorch), `nsga2` or `random`.
    #[arg(long, default_value = "mogfn")]
    pub method: String,
    /// Objective evaluations in all.
    #[arg(long, default_value_t = 4096)]
    pub budget: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// NSGA-II population.
    #[arg(long, default_value_t = 32)]
    pub population: usize,
    /// MOGFN: trajectories per training step.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// MOGFN: final samples (the rest of the budget trains).
    #[arg(long, default_value_t = 256)]
    pub samples: usize,
    /// MOGFN: reward exponent beta.
    #[arg(long, default_value_t = 16.0)]
    pub beta: f64,
    /// MOGFN: conditioning, `weighted-sum` or `tchebycheff` preferences
    /// (MOGFN-PC) or `goal` directions with focus regions (MOGFN-GC).
    #[arg(long, default_value = "weighted-sum")]
    pub conditioning: String,
    /// MOGFN-GC: cosine threshold of the focus cone.
    #[arg(long, default_value_t = 0.98)]
    pub focus_cosim: f64,
    /// MOGFN-GC: focus coefficient on the cone's boundary.
    #[arg(long, default_value_t = 0.1)]
    pub focus_limit_coef: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Serialize)]
struct FrontPoint {
    state: serde_json::Value,
    objectives: Vec<f64>,
}

#[derive(Serialize)]
struct FrontOut {
    task: String,
    method: String,
    evaluations: usize,
    hypervolume: f64,
    r2: f64,
    front_size: usize,
    distinct: usize,
    front: Vec<FrontPoint>,
}

fn show(task: &Task, s: &State) -> serde_json::Value {
    match task {
        Task::HyperGrid { .. } => serde_json::json!(s),
        Task::NGrams { .. } => {
            serde_json::json!(s
                .iter()
                .map(|&t| (b'A' + t as u8) as char)
                .collect::<String>())
        }
    }
}

#[cfg(duality_torch)]
fn run_mogfn(task: &Task, a: &FrontArgs) -> anyhow::Result<Evaluated> {
    use duality_combopt::gflownet::model::{train, TrainParams};
    use duality_combopt::gflownet::{sample_preference, Conditioning};
    let conditioning = match a.conditioning.as_str() {
        "weighted-sum" => Conditioning::WeightedSum,
        "tchebycheff" => Conditioning::Tchebycheff,
        "goal" => Conditioning::Goal {
            cosim: a.focus_cosim,
            limit_coef: a.focus_limit_coef,
        },
        other => bail!("--conditioning {other:?}: expected weighted-sum, tchebycheff or goal"),
    };
    conditioning
        .validate()
        .context("--focus-cosim/--focus-limit-coef")?;
    if a.batch == 0 || a.samples >= a.budget || (a.budget - a.samples) < a.batch {
        bail!(
            "--budget {} with --samples {} and --batch {}: the budget must leave at least one training step (budget - samples >= batch >= 1)",
            a.budget,
            a.samples,
            a.batch
        );
    }
    let tp = TrainParams {
        iterations: (a.budget - a.samples) / a.batch,
        batch: a.batch,
        hidden: 64,
        lr: 1e-3,
        lr_logz: 0.1,
        beta: a.beta,
        reward_floor: 0.01,
        alpha: 1.0,
        explore: 0.05,
        seed: a.seed,
        conditioning,
    };
    let (model, rep) = train(task, &tp)?;
    let mut rng = duality_core::seed::Seeder::new(a.seed).rng(2);
    let prefs: Vec<Vec<f64>> = (0..a.samples)
        .map(|_| sample_preference(task.objectives(), 1.0, &mut rng))
        .collect();
    let mut e = rep.evaluated;
    for x in model.sample(&prefs, &mut rng)? {
        e.objectives.push(task.evaluate(&x));
        e.states.push(x);
    }
    Ok(e)
}

#[cfg(not(duality_torch))]
fn run_mogfn(_task: &Task, _a: &FrontArgs) -> anyhow::Result<Evaluated> {
    bail!("--method mogfn needs libtorch: run it with duality-torch (duality forwards it there)")
}

/// Runs `duality gflownet ...`.
pub fn run(cmd: GflownetCommand) -> anyhow::Result<()> {
    let GflownetCommand::Front(a) = cmd;
    let task = match a.task.as_str() {
        "hypergrid" => Task::hypergrid(a.side, 2, &a.objectives).context("--side/--objectives")?,
        "ngrams" => {
            Task::ngrams(a.alphabet, a.length, &a.motifs).context("--alphabet/--length/--motifs")?
        }
        other => bail!("--task {other:?}: expected hypergrid or ngrams"),
    };
    if a.budget == 0 {
        bail!("--budget 0: expected at least one evaluation");
    }
    duality_core::limits::elements::<[f64; 4]>("--budget", a.budget)?;
    let mut rng = duality_core::seed::Seeder::new(a.seed).rng(0);
    let e = match a.method.as_str() {
        "random" => random_search(&task, a.budget, &mut rng)?,
        "nsga2" => nsga2(
            &task,
            &Nsga2Params {
                population: a.population,
                budget: a.budget,
                crossover: 0.9,
            },
            &mut rng,
        )
        .context("--population/--budget")?,
        "mogfn" => run_mogfn(&task, &a)?,
        other => bail!("--method {other:?}: expected mogfn, nsga2 or random"),
    };
    let q = front_quality(&e.states, &e.objectives)?;
    let neg: Vec<Vec<f64>> = e
        .objectives
        .iter()
        .map(|o| o.iter().map(|x| -x).collect())
        .collect();
    let fronts = duality_combopt::pareto::non_dominated_sort(&neg)?;
    let mut seen = std::collections::BTreeSet::new();
    let mut front: Vec<FrontPoint> = Vec::new();
    for &i in &fronts[0] {
        if seen.insert(e.states[i].clone()) {
            front.push(FrontPoint {
                state: show(&task, &e.states[i]),
                objectives: e.objectives[i].clone(),
            });
        }
    }
    front.sort_by(|x, y| y.objectives[0].total_cmp(&x.objectives[0]));
    let out = FrontOut {
        task: a.task.clone(),
        method: a.method.clone(),
        evaluations: e.states.len(),
        hypervolume: q.hypervolume,
        r2: q.r2,
        front_size: q.front_size,
        distinct: q.distinct,
        front,
    };
    emit(a.format, &out, |o| {
        println!(
            "{} on {}: {} evaluations, hypervolume {:.4}, R2 {:.4}, {} distinct states",
            o.method, o.task, o.evaluations, o.hypervolume, o.r2, o.distinct
        );
        println!("Pareto front ({} states):", o.front_size);
        for p in &o.front {
            let objs: Vec<String> = p.objectives.iter().map(|v| format!("{v:.4}")).collect();
            println!("  {}  [{}]", p.state, objs.join(", "));
        }
    })
}
