//! `duality tsp|assign|dag ...`: commands over `duality_combopt`.
//!
//! - `tsp solve FILE.tsp [--method NAME] [--time-limit S] [--seed S] [--kicks K]
//!   [--bound-iterations I] [--format json]` prints `{"length": L, "tour":
//!   [...], "seconds": t, "lower_bound": B, "certified_gap": L / B - 1,
//!   "bound_seconds": s}` (tour 0-based in file order; B is the Held-Karp
//!   1-tree bound, valid whatever the iterations); NAME is any method of the
//!   registry;
//! - `tsp solve ... --method udc [--udc-model FILE.ot]` (`duality-torch`)
//!   uses UDC's neural divide policy (the shipped checkpoint by default);
//! - `tsp train-udc --cities 200 --steps N --samples 8 --seed S --reward
//!   end-to-end|divide-only --out FILE.ot` (`duality-torch`) trains it;
//! - `tsp methods [--format json]` lists the registry: one line per method
//!   (name, stages, seeded or not, description);
//! - `assign --costs FILE.csv [--maximize] [--format json]` prints
//!   `{"cost": c, "assignment": [[row, col], ...], "dual_bound": b,
//!   "certified_gap": g}` (`inf` entries are forbidden pairs; `b` is the
//!   assignment LP's dual bound, equal to `c` at the optimum);
//! - `dag learn --data FILE.csv --method notears|topo [--lambda L] [--format json]`
//!   prints the weighted adjacency matrix (`w[i][j]` is the edge `i -> j`);
//! - `vrp solve FILE.vrp [--method savings|sweep|savings-ls|sweep-ls|dcr]
//!   [--time-limit S] [--seed S] [--format json]` prints `{"cost": c,
//!   "routes": [[...], ...], "seconds": t}` (customer ids as in CVRPLIB
//!   `.sol` files: file id - 1 with the depot at file id 1, the depot not
//!   written); `vrp methods` lists the methods.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use duality_combopt::assignment::{linear_sum_assignment, CostMatrix};
use duality_combopt::dag::{notears, topo, topo_random_start, Data, NotearsParams, TopoParams};
use duality_combopt::tsp::{
    certified_gap, held_karp_bound, methods, read_tsp, solve, BoundParams, Registry, SolveParams,
};
use serde::Serialize;

use crate::output::{emit, Format};

/// `duality tsp ...`.
#[derive(Debug, Subcommand)]
pub enum TspCommand {
    /// Solve a TSPLIB instance.
    Solve(TspSolveArgs),
    /// List the registered methods (names accepted by `tsp solve --method`).
    Methods(TspMethodsArgs),
    /// Train UDC's neural divide policy (REINFORCE, shared baseline) and save
    /// a checkpoint for `tsp solve --method udc --udc-model FILE`.
    #[cfg(duality_torch)]
    TrainUdc(TspTrainUdcArgs),
}

/// Arguments of `duality tsp train-udc`.
#[cfg(duality_torch)]
#[derive(Debug, Args)]
pub struct TspTrainUdcArgs {
    /// Cities per uniform training instance.
    #[arg(long, default_value_t = 200)]
    pub cities: usize,
    /// Gradient steps (one fresh instance each).
    #[arg(long, default_value_t = 3_000)]
    pub steps: usize,
    /// Sampled tours per instance (they share the baseline).
    #[arg(long, default_value_t = 8)]
    pub samples: usize,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// `end-to-end` (length after conquer and reunion) or `divide-only`.
    #[arg(long, default_value = "end-to-end")]
    pub reward: String,
    /// Where to write the checkpoint.
    #[arg(long)]
    pub out: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[cfg(duality_torch)]
#[derive(Serialize)]
struct TrainUdcOut {
    out: PathBuf,
    steps: usize,
    seconds: f64,
    parameters: usize,
    /// Mean final length (after conquer and reunion) over the first and the
    /// last tenth of the steps.
    first_final_length: f64,
    last_final_length: f64,
}

/// Arguments of `duality tsp methods`.
#[derive(Debug, Args)]
pub struct TspMethodsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality tsp solve`.
#[derive(Debug, Args)]
pub struct TspSolveArgs {
    /// The TSPLIB `.tsp` file.
    pub file: PathBuf,
    /// A registered method (`duality tsp methods` lists them).
    #[arg(long, default_value = "or2opt")]
    pub method: String,
    /// Wall-clock limit in seconds for the improvement phase.
    #[arg(long)]
    pub time_limit: Option<f64>,
    /// Seed (or2opt-ils kicks, DCR perturbations).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Kick budget of or2opt-ils (default: 13 per city, at least 1,000).
    #[arg(long)]
    pub kicks: Option<usize>,
    /// Subgradient iterations of the Held-Karp lower bound (0: the plain
    /// 1-tree bound; the bound is valid either way).
    #[arg(long, default_value_t = 1_000)]
    pub bound_iterations: usize,
    /// Checkpoint of the `udc` method's divide policy (default: the shipped one).
    #[arg(long)]
    pub udc_model: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `duality assign ...`.
#[derive(Debug, Args)]
pub struct AssignArgs {
    /// Cost matrix as CSV (one row per line, no header; `inf` = forbidden pair).
    #[arg(long)]
    pub costs: PathBuf,
    /// Maximise the total instead of minimising.
    #[arg(long)]
    pub maximize: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `duality dag ...`.
#[derive(Debug, Subcommand)]
pub enum DagCommand {
    /// Learn a linear DAG from data.
    Learn(DagLearnArgs),
}

/// Arguments of `duality dag learn`.
#[derive(Debug, Args)]
pub struct DagLearnArgs {
    /// Samples as CSV, one row per sample (an optional header row of names).
    #[arg(long)]
    pub data: PathBuf,
    /// notears or topo.
    #[arg(long, default_value = "notears")]
    pub method: String,
    /// L1 penalty of NOTEARS.
    #[arg(long, default_value_t = 0.1)]
    pub lambda: f64,
    /// Edges with |w| below this are dropped.
    #[arg(long, default_value_t = 0.3)]
    pub threshold: f64,
    /// Seed of TOPO's random initial order (TOPO starts from NOTEARS' order with --warm-start).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// TOPO: start from the NOTEARS estimate's topological order.
    #[arg(long)]
    pub warm_start: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Serialize)]
struct TspOut {
    length: f64,
    tour: Vec<usize>,
    seconds: f64,
    /// The Held-Karp 1-tree bound: no tour is shorter.
    lower_bound: f64,
    /// `length / lower_bound - 1` (`null` when the bound is 0).
    certified_gap: Option<f64>,
    /// Seconds spent on the bound (not part of `seconds`).
    bound_seconds: f64,
}

/// One registered method, as `tsp methods` prints it.
#[derive(Serialize)]
struct MethodOut {
    name: &'static str,
    about: &'static str,
    builder: String,
    improvers: Vec<String>,
    seeded: bool,
    aliases: Vec<&'static str>,
}

/// Runs one `tsp` command.
pub fn run_tsp(cmd: TspCommand) -> anyhow::Result<()> {
    match cmd {
        TspCommand::Solve(args) => {
            // An unknown method fails before a large file is read.
            Registry::builtin().get(&args.method)?;
            let instance = read_tsp(&args.file)?;
            let params = SolveParams::new(args.method.as_str())
                .with_time_limit(args.time_limit)
                .with_seed(args.seed)
                .with_kicks(args.kicks)
                .with_udc_model(args.udc_model.clone());
            let sol = solve(&instance, &params)?;
            let bound_params = BoundParams::default().with_iterations(args.bound_iterations);
            let start = std::time::Instant::now();
            let bound = held_karp_bound(&instance, &bound_params, Some(sol.length))?;
            let out = TspOut {
                length: sol.length,
                tour: sol.tour.into_vec(),
                seconds: sol.seconds,
                lower_bound: bound.value,
                certified_gap: certified_gap(sol.length, bound.value).ok(),
                bound_seconds: start.elapsed().as_secs_f64(),
            };
            emit(args.format, &out, |o| {
                println!(
                    "instance {} ({} cities), method {}",
                    instance.name,
                    o.tour.len(),
                    params.method()
                );
                println!("length   {}", o.length);
                println!("seconds  {:.3}", o.seconds);
                println!("bound    {} (Held-Karp 1-tree)", o.lower_bound);
                match o.certified_gap {
                    Some(g) => println!("gap      <= {:.3}% (certified)", 100.0 * g),
                    None => println!("gap      (no positive bound)"),
                }
            })
        }
        #[cfg(duality_torch)]
        TspCommand::TrainUdc(args) => {
            use duality_combopt::tsp::{train_udc, Reward, UdcTrainParams};
            let reward: Reward = args.reward.parse()?;
            let params = UdcTrainParams::default()
                .with_cities(args.cities)
                .with_steps(args.steps)
                .with_samples(args.samples)
                .with_seed(args.seed)
                .with_reward(reward);
            let progress = duality_core::progress::Progress::new(args.steps as u64, "train-udc");
            let run = train_udc(&params, &progress)?;
            run.policy.save(&args.out)?;
            let tenth = (run.trace.len() / 10).max(1);
            let mean = |s: &[duality_combopt::tsp::UdcTrainStep]| {
                s.iter().map(|t| t.final_length).sum::<f64>() / s.len() as f64
            };
            let out = TrainUdcOut {
                out: args.out.clone(),
                steps: run.trace.len(),
                seconds: run.seconds,
                parameters: run.policy.parameters(),
                first_final_length: mean(&run.trace[..tenth]),
                last_final_length: mean(&run.trace[run.trace.len() - tenth..]),
            };
            emit(args.format, &out, |o| {
                println!("saved    {} ({} parameters)", o.out.display(), o.parameters);
                println!("steps    {} in {:.1} s", o.steps, o.seconds);
                println!(
                    "length   {:.4} -> {:.4} (mean after conquer + reunion, first vs last tenth)",
                    o.first_final_length, o.last_final_length
                );
            })
        }
        TspCommand::Methods(args) => {
            let list: Vec<MethodOut> = methods()
                .iter()
                .map(|m| MethodOut {
                    name: m.name(),
                    about: m.about(),
                    builder: m.builder().name().to_string(),
                    improvers: m.improvers().iter().map(|i| i.name().to_string()).collect(),
                    seeded: m.is_seeded(),
                    aliases: m.aliases().to_vec(),
                })
                .collect();
            emit(args.format, &list, |list| {
                let width = list.iter().map(|m| m.name.len()).max().unwrap_or(0);
                for m in list {
                    let stages = std::iter::once(m.builder.as_str())
                        .chain(m.improvers.iter().map(String::as_str))
                        .collect::<Vec<_>>()
                        .join(" -> ");
                    let aliases = if m.aliases.is_empty() {
                        String::new()
                    } else {
                        format!(" (also: {})", m.aliases.join(", "))
                    };
                    println!(
                        "{:width$}  {:8}  {stages}: {}{aliases}",
                        m.name,
                        if m.seeded { "seeded" } else { "fixed" },
                        m.about,
                    );
                }
            })
        }
    }
}

/// Optional header names and numeric rows of a CSV file.
type HeaderAndRows = (Option<Vec<String>>, Vec<Vec<f64>>);

/// Reads a numeric CSV (no header unless `allow_header`), naming bad cells.
fn read_matrix(path: &Path, allow_header: bool) -> anyhow::Result<HeaderAndRows> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut rows = Vec::new();
    let mut header = None;
    for (line, rec) in reader.records().enumerate() {
        let rec = rec.with_context(|| format!("{} line {}", path.display(), line + 1))?;
        if rec.iter().all(|c| c.is_empty()) {
            continue;
        }
        let parsed: Result<Vec<f64>, _> = rec.iter().map(|c| c.parse::<f64>()).collect();
        match parsed {
            Ok(row) => rows.push(row),
            Err(_) if allow_header && line == 0 => {
                header = Some(rec.iter().map(str::to_string).collect())
            }
            Err(_) => {
                let bad = rec
                    .iter()
                    .find(|c| c.parse::<f64>().is_err())
                    .unwrap_or_default();
                bail!(
                    "{} line {}: {bad:?} is not a number",
                    path.display(),
                    line + 1
                );
            }
        }
    }
    if rows.is_empty() {
        bail!("{}: no data rows", path.display());
    }
    Ok((header, rows))
}

#[derive(Serialize)]
struct AssignOut {
    cost: f64,
    assignment: Vec<[usize; 2]>,
    /// The LP dual bound (lower bound on the cost; upper bound on the
    /// profit with --maximize).
    dual_bound: f64,
    /// `|cost - dual_bound| / |dual_bound|` (`null` when the bound is 0):
    /// 0 up to rounding certifies optimality.
    certified_gap: Option<f64>,
}

/// Runs `assign`.
pub fn run_assign(args: AssignArgs) -> anyhow::Result<()> {
    let (_, rows) = read_matrix(&args.costs, false)?;
    let mut rows = rows;
    if args.maximize {
        // `inf` in the file means forbidden whatever the direction.
        for r in &mut rows {
            for v in r.iter_mut() {
                if *v == f64::INFINITY {
                    *v = f64::NEG_INFINITY;
                }
            }
        }
    }
    // Errors below the reader name the file too (issue #25).
    let file = || args.costs.display().to_string();
    let m = CostMatrix::from_rows(&rows).with_context(file)?;
    let a = linear_sum_assignment(&m, args.maximize).with_context(file)?;
    let out = AssignOut {
        cost: a.cost,
        assignment: a.pairs.iter().map(|&(r, c)| [r, c]).collect(),
        dual_bound: a.dual_bound,
        certified_gap: (a.dual_bound != 0.0)
            .then(|| (a.cost - a.dual_bound).abs() / a.dual_bound.abs()),
    };
    emit(args.format, &out, |o| {
        println!(
            "total {}: {}",
            if args.maximize { "profit" } else { "cost" },
            duality_core::error::short_number(o.cost)
        );
        println!(
            "dual bound: {} (LP dual, certifies optimality)",
            duality_core::error::short_number(o.dual_bound)
        );
        for [r, c] in &o.assignment {
            println!("row {r} -> column {c}");
        }
    })
}

#[derive(Serialize)]
struct DagOut {
    method: String,
    variables: Option<Vec<String>>,
    edges: usize,
    loss: f64,
    w: Vec<Vec<f64>>,
}

/// Fits the DAG of `dag learn` with the chosen method.
fn learn_dag(
    args: &DagLearnArgs,
    data: &Data,
    np: &NotearsParams,
) -> anyhow::Result<duality_combopt::dag::DagFit> {
    Ok(match args.method.as_str() {
        "notears" => notears(data, np)?,
        "topo" => {
            let tp = TopoParams::default().with_w_threshold(Some(args.threshold));
            if args.warm_start {
                let nt = notears(data, np)?;
                let order =
                    nt.w.topological_order()
                        .unwrap_or_else(|| (0..data.d).collect());
                topo(data, &order, &tp)?.fit
            } else {
                let mut rng = duality_core::seed::Seeder::new(args.seed).rng(0);
                topo_random_start(data, &tp, &mut rng)?.fit
            }
        }
        other => bail!("unknown --method {other:?}: expected notears or topo"),
    })
}

/// Runs one `dag` command.
pub fn run_dag(cmd: DagCommand) -> anyhow::Result<()> {
    match cmd {
        DagCommand::Learn(args) => {
            let (names, rows) = read_matrix(&args.data, true)?;
            // Errors of the data (shape, non-finite cells, overflowing
            // covariances) name the file too (issue #25).
            let file = || args.data.display().to_string();
            let data = Data::from_rows(&rows).with_context(file)?;
            let np = NotearsParams::default()
                .with_lambda(args.lambda)
                .with_w_threshold(args.threshold);
            let fit = learn_dag(&args, &data, &np).with_context(file)?;
            let out = DagOut {
                method: args.method.clone(),
                variables: names,
                edges: fit.w.edge_count(),
                loss: fit.loss,
                w: fit.w.rows(),
            };
            emit(args.format, &out, |o| {
                println!(
                    "{} edges, least-squares loss {:.6} ({})",
                    o.edges, o.loss, o.method
                );
                for row in &o.w {
                    let cells: Vec<String> = row.iter().map(|v| format!("{v:8.3}")).collect();
                    println!("{}", cells.join(" "));
                }
            })
        }
    }
}

/// `duality vrp ...`.
#[derive(Debug, Subcommand)]
pub enum VrpCommand {
    /// Solve a CVRPLIB instance.
    Solve(VrpSolveArgs),
    /// List the CVRP methods.
    Methods(TspMethodsArgs),
}

/// Arguments of `duality vrp solve`.
#[derive(Debug, Args)]
pub struct VrpSolveArgs {
    /// The CVRPLIB `.vrp` file (EUC_2D, one depot).
    pub file: PathBuf,
    /// savings, sweep, savings-ls, sweep-ls or dcr.
    #[arg(long, default_value = "dcr")]
    pub method: String,
    /// Wall-clock limit in seconds (dcr runs rounds until it).
    #[arg(long)]
    pub time_limit: Option<f64>,
    /// Seed (dcr's ruin-and-recreate kicks).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Serialize)]
struct VrpOut {
    cost: f64,
    routes: Vec<Vec<usize>>,
    seconds: f64,
}

#[derive(Serialize)]
struct VrpMethodOut {
    name: &'static str,
    about: &'static str,
}

/// Runs one `vrp` command.
pub fn run_vrp(cmd: VrpCommand) -> anyhow::Result<()> {
    use duality_combopt::vrp::{read_vrp, solve_vrp, VrpParams, VRP_METHODS};
    use duality_core::config::Validate;
    match cmd {
        VrpCommand::Solve(args) => {
            let params = VrpParams {
                time_limit: args.time_limit,
                seed: args.seed,
                ..VrpParams::new(args.method.as_str())
            };
            // Bad options fail before a large file is read.
            params.validate()?;
            let instance = read_vrp(&args.file)?;
            let sol = solve_vrp(&instance, &params)?;
            let out = VrpOut {
                cost: sol.cost,
                routes: sol.routes,
                seconds: sol.seconds,
            };
            emit(args.format, &out, |o| {
                println!(
                    "instance {} ({} customers, capacity {}), method {}",
                    instance.name(),
                    instance.customers(),
                    instance.capacity(),
                    params.method
                );
                println!("cost     {}", o.cost);
                println!("routes   {}", o.routes.len());
                println!("seconds  {:.3}", o.seconds);
                for (k, r) in o.routes.iter().enumerate() {
                    let ids: Vec<String> = r.iter().map(|v| v.to_string()).collect();
                    println!("Route #{}: {}", k + 1, ids.join(" "));
                }
            })
        }
        VrpCommand::Methods(args) => {
            let list: Vec<VrpMethodOut> = VRP_METHODS
                .iter()
                .map(|&(name, about)| VrpMethodOut { name, about })
                .collect();
            emit(args.format, &list, |list| {
                for m in list {
                    println!("{:10}  {}", m.name, m.about);
                }
            })
        }
    }
}

/// `duality milp ...` (needs `Milp(combopt::MilpCommand)` in main.rs's
/// command enum and `Command::Milp(cmd) => combopt::run_milp(cmd)`).
///
/// - `milp solve FILE.mps [--branching NAME] [--node-selection
///   best-bound|depth-first] [--max-nodes N] [--max-lp-iterations N]
///   [--time-limit S] [--no-propagate] [--no-reduced-cost-fixing]
///   [--format json]` prints `{"status": ..., "objective": v, "bound": b,
///   "gap": g, "nodes": n, "lp_iterations": i, "strong_iterations": s,
///   "seconds": t, "x": {name: value, ...}}` (nonzeros only);
/// - `milp generate --family setcover|auction|facility|indset --scale K
///   --seed S --out FILE.mps` writes a generated instance;
/// - `milp rules` lists the branching rules.
#[derive(Debug, Subcommand)]
pub enum MilpCommand {
    /// Solve an MPS file by branch-and-bound.
    Solve(MilpSolveArgs),
    /// Write a generated instance (Gasse et al. 2019 families) as MPS.
    Generate(MilpGenerateArgs),
    /// List the branching rules.
    Rules(MilpRulesArgs),
}

/// Arguments of `duality milp solve`.
#[derive(Debug, Args)]
pub struct MilpSolveArgs {
    /// The MPS file (free or fixed format, names without spaces), or a CPLEX
    /// LP file (a subset; by the extension `.lp`).
    pub file: PathBuf,
    /// Branching rule (`duality milp rules` lists them).
    #[arg(long, default_value = "reliability")]
    pub branching: String,
    /// `best-bound` or `depth-first`.
    #[arg(long, default_value = "best-bound")]
    pub node_selection: String,
    /// Most nodes processed.
    #[arg(long, default_value_t = 1_000_000)]
    pub max_nodes: u64,
    /// Most dual simplex pivots (node LPs and strong branching).
    #[arg(long)]
    pub max_lp_iterations: Option<u64>,
    /// Wall-clock limit in seconds.
    #[arg(long)]
    pub time_limit: Option<f64>,
    /// Turn off bound propagation at the nodes.
    #[arg(long)]
    pub no_propagate: bool,
    /// Turn off reduced-cost fixing.
    #[arg(long)]
    pub no_reduced_cost_fixing: bool,
    /// LP engine of the node relaxations: `dense` (the workspace's dense
    /// dual simplex; faster on small LPs, needed by `--branching gnn`) or
    /// `microlp` (sparse LU basis; faster on large LPs, no reduced-cost
    /// fixing). See docs/combopt.md for the measurement.
    #[arg(long, default_value = "dense")]
    pub lp_engine: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality milp generate`.
#[derive(Debug, Args)]
pub struct MilpGenerateArgs {
    /// `setcover`, `auction`, `facility` or `indset`.
    #[arg(long)]
    pub family: String,
    /// Size (rows of set cover, items of auctions, customers of facility
    /// location, nodes of independent set).
    #[arg(long)]
    pub scale: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where to write the MPS file.
    #[arg(long)]
    pub out: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality milp rules`.
#[derive(Debug, Args)]
pub struct MilpRulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Serialize)]
struct MilpSolveOut {
    name: String,
    variables: usize,
    rows: usize,
    branching: String,
    lp_engine: String,
    status: duality_combopt::milp::Termination,
    objective: Option<f64>,
    bound: f64,
    gap: Option<f64>,
    root_bound: Option<f64>,
    nodes: u64,
    lp_iterations: u64,
    strong_iterations: u64,
    tightenings: u64,
    seconds: f64,
    x: std::collections::BTreeMap<String, f64>,
}

#[derive(Serialize)]
struct MilpGenerateOut {
    out: PathBuf,
    name: String,
    variables: usize,
    rows: usize,
    nonzeros: usize,
}

#[derive(Serialize)]
struct MilpRuleOut {
    name: &'static str,
    about: &'static str,
}

/// Runs `duality milp ...`.
pub fn run_milp(cmd: MilpCommand) -> anyhow::Result<()> {
    use duality_combopt::milp::{
        branch_and_bound, generators, read_lp, read_mps, write_mps, BnbParams, BranchingRegistry,
        LpEngine, NodeSelection, RuleOptions,
    };
    match cmd {
        MilpCommand::Solve(args) => {
            // Bad options fail before the file is read.
            let registry = BranchingRegistry::builtin();
            let mut rule = registry
                .make(&args.branching, &RuleOptions::default())
                .context("--branching")?;
            let node_selection: NodeSelection =
                args.node_selection.parse().context("--node-selection")?;
            let lp_engine: LpEngine = args.lp_engine.parse().context("--lp-engine")?;
            if let Some(t) = args.time_limit {
                if t.is_nan() || t < 0.0 {
                    bail!("--time-limit {t}: expected a number of seconds >= 0");
                }
            }
            let params = BnbParams {
                node_selection,
                max_nodes: args.max_nodes,
                max_lp_iterations: args.max_lp_iterations.unwrap_or(u64::MAX),
                time_limit: args.time_limit,
                propagate: !args.no_propagate,
                reduced_cost_fixing: !args.no_reduced_cost_fixing,
                cutoff: None,
                lp_engine,
            };
            // CPLEX LP by extension (`.lp`), MPS otherwise.
            let p = if args
                .file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("lp"))
            {
                read_lp(&args.file)?
            } else {
                read_mps(&args.file)?
            };
            let r = branch_and_bound(&p, rule.as_mut(), &params)?;
            let x =
                r.x.as_ref()
                    .map(|x| {
                        x.iter()
                            .enumerate()
                            .filter(|(_, v)| **v != 0.0)
                            .map(|(j, v)| (p.var_names[j].clone(), *v))
                            .collect()
                    })
                    .unwrap_or_default();
            let out = MilpSolveOut {
                name: p.name.clone(),
                variables: p.num_vars(),
                rows: p.num_rows(),
                branching: r.branching.clone(),
                lp_engine: lp_engine.to_string(),
                status: r.status,
                objective: r.objective,
                bound: r.bound,
                gap: r.gap,
                root_bound: r.root_bound,
                nodes: r.nodes,
                lp_iterations: r.lp_iterations,
                strong_iterations: r.strong_iterations,
                tightenings: r.tightenings,
                seconds: r.seconds,
                x,
            };
            emit(args.format, &out, |o| {
                println!(
                    "problem {} ({} variables, {} rows), branching {}, LP engine {}",
                    o.name, o.variables, o.rows, o.branching, o.lp_engine
                );
                println!("status      {:?}", o.status);
                match o.objective {
                    Some(v) => println!("objective   {v}"),
                    None => println!("objective   none"),
                }
                println!("bound       {}", o.bound);
                if let Some(g) = o.gap {
                    println!("gap         {:.3e}", g);
                }
                println!("nodes       {}", o.nodes);
                println!(
                    "lp pivots   {} (+{} strong branching)",
                    o.lp_iterations, o.strong_iterations
                );
                println!("seconds     {:.3}", o.seconds);
                for (name, v) in &o.x {
                    println!("  {name} = {v}");
                }
            })
        }
        MilpCommand::Generate(args) => {
            let seeder = duality_core::seed::Seeder::new(args.seed);
            let p = generators::generate(&args.family, args.scale, &mut seeder.rng(0))?;
            write_mps(&p, &args.out)?;
            let out = MilpGenerateOut {
                out: args.out.clone(),
                name: p.name.clone(),
                variables: p.num_vars(),
                rows: p.num_rows(),
                nonzeros: p.nonzeros(),
            };
            emit(args.format, &out, |o| {
                println!(
                    "wrote {} ({}: {} variables, {} rows, {} nonzeros)",
                    o.out.display(),
                    o.name,
                    o.variables,
                    o.rows,
                    o.nonzeros
                );
            })
        }
        MilpCommand::Rules(args) => {
            let list: Vec<MilpRuleOut> = BranchingRegistry::builtin()
                .list()
                .into_iter()
                .map(|(name, about)| MilpRuleOut { name, about })
                .collect();
            emit(args.format, &list, |list| {
                for r in list {
                    println!("{:16}  {}", r.name, r.about);
                }
            })
        }
    }
}
