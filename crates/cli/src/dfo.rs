//! `duality dfo ...`: blackbox optimisation by covering direct search
//! (cDSM), optionally with directional attacks through an MLP surrogate
//! fitted online (`--attack`, libtorch: run by `duality-torch`) or through
//! the problem's own network (`--exact-attack`, problem `network`, no
//! libtorch).
//!
//! - `dfo solve --problem NAME [--dim N] [--max-evals K] [--target T]
//!   [--poll 2n|n+1|n+1-rot] [--attack | --exact-attack] [--attack-kind
//!   fgsm|pgd] [--speculative] [--seed S] [--format json]` prints the best
//!   value and point, evaluations (and evaluations to the target),
//!   successes per step kind and the final poll radius.
//! - `dfo problems` lists the problems.

use anyhow::bail;
use clap::{Args, Subcommand};
use duality_combopt::direct_search::{
    minimize, problem, AttackKind, DsmParams, NetworkAttack, Poll, PROBLEMS,
};
use serde::Serialize;

use crate::output::{emit, Format};

/// `duality dfo ...`.
#[derive(Debug, Subcommand)]
pub enum DfoCommand {
    /// Minimise a benchmark blackbox by cDSM (and attacks with --attack).
    Solve(DfoSolveArgs),
    /// List the benchmark problems.
    Problems(DfoProblemsArgs),
}

/// Arguments of `duality dfo solve`.
#[derive(Debug, Args)]
pub struct DfoSolveArgs {
    /// Problem (`duality dfo problems`).
    #[arg(long)]
    pub problem: String,
    /// Number of variables.
    #[arg(long, default_value_t = 2)]
    pub dim: usize,
    /// Evaluation budget.
    #[arg(long, default_value_t = 2_000)]
    pub max_evals: usize,
    /// Stop when f <= optimum + target.
    #[arg(long)]
    pub target: Option<f64>,
    /// Poll set: `2n`, `n+1` (minimal positive basis) or `n+1-rot` (the
    /// authors' randomly rotated n+1 poll).
    #[arg(long, default_value = "2n")]
    pub poll: String,
    /// Attack steps through an MLP surrogate fitted online (needs libtorch).
    #[arg(long)]
    pub attack: bool,
    /// Attack steps through the problem's given network with its exact
    /// gradient (problems of the class f(Phi(x)): `network`; no libtorch).
    #[arg(long, conflicts_with = "attack")]
    pub exact_attack: bool,
    /// Attack algorithm: `fgsm` or `pgd` (the authors' 10 steps of 2/255).
    #[arg(long, default_value = "fgsm")]
    pub attack_kind: String,
    /// The authors' speculative line search after each successful step.
    #[arg(long)]
    pub speculative: bool,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality dfo problems`.
#[derive(Debug, Args)]
pub struct DfoProblemsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Serialize)]
struct SolveOut {
    problem: String,
    dim: usize,
    method: String,
    f: f64,
    optimum: Option<f64>,
    x: Vec<f64>,
    evals: usize,
    evals_to_target: Option<usize>,
    iterations: usize,
    successes: Successes,
    poll_radius: f64,
}

#[derive(Serialize)]
struct Successes {
    attack: usize,
    covering: usize,
    search: usize,
    poll: usize,
    speculative: usize,
}

/// Runs `duality dfo ...`.
pub fn run(cmd: DfoCommand) -> anyhow::Result<()> {
    match cmd {
        DfoCommand::Problems(a) => emit(a.format, &PROBLEMS, |p| {
            for name in p.iter() {
                println!("{name}");
            }
        }),
        DfoCommand::Solve(a) => {
            let poll = match a.poll.as_str() {
                "2n" => Poll::TwoN,
                "n+1" => Poll::NPlusOne,
                "n+1-rot" => Poll::NPlusOneRotated,
                other => bail!("--poll {other:?}: expected 2n, n+1 or n+1-rot"),
            };
            let kind = AttackKind::parse(&a.attack_kind)
                .map_err(|e| anyhow::anyhow!("--attack-kind: {e}"))?;
            if let Some(t) = a.target {
                if !t.is_finite() {
                    bail!("--target {t}: expected a finite number");
                }
            }
            let prob = problem(&a.problem, a.dim)?;
            let params = DsmParams {
                max_evals: a.max_evals,
                poll,
                target: a.target.map(|t| prob.optimum().unwrap_or(0.0) + t),
                speculative: a.speculative,
                ..DsmParams::default()
            };
            let mut rng = duality_core::seed::Seeder::new(a.seed).rng(0);
            let (run, method) = if a.attack {
                let run = attack_run(prob.as_ref(), &params, kind, a.seed, &mut rng)?;
                // FGSM keeps the earlier method name.
                let m = match kind {
                    AttackKind::Fgsm => "cdsm+attack".to_string(),
                    k => format!("cdsm+mlp-{}", k.name()),
                };
                (run, m)
            } else if a.exact_attack {
                let Some(net) = prob.network() else {
                    bail!(
                        "--exact-attack: problem {:?} has no given network (use --problem network, or --attack for a fitted surrogate)",
                        a.problem
                    );
                };
                let mut oracle = NetworkAttack::new(net, kind)?;
                let run = minimize(prob.as_ref(), &params, Some(&mut oracle), &mut rng)?;
                (run, format!("cdsm+network-{}", kind.name()))
            } else {
                (
                    minimize(prob.as_ref(), &params, None, &mut rng)?,
                    "cdsm".to_string(),
                )
            };
            let out = SolveOut {
                problem: prob.name(),
                dim: prob.dim(),
                method,
                f: run.f,
                optimum: prob.optimum(),
                x: run.x,
                evals: run.evals,
                evals_to_target: run.evals_to_target,
                iterations: run.iterations,
                successes: Successes {
                    attack: run.successes[0],
                    covering: run.successes[1],
                    search: run.successes[2],
                    poll: run.successes[3],
                    speculative: run.successes[4],
                },
                poll_radius: run.poll_radius,
            };
            emit(a.format, &out, |o| {
                println!("problem {} (n = {}), method {}", o.problem, o.dim, o.method);
                println!("f           {:.6e} (optimum {:?})", o.f, o.optimum);
                println!("evaluations {}", o.evals);
                if let Some(k) = o.evals_to_target {
                    println!("to target   {k}");
                }
                println!(
                    "successes   attack {}, covering {}, search {}, poll {}, speculative {}",
                    o.successes.attack,
                    o.successes.covering,
                    o.successes.search,
                    o.successes.poll,
                    o.successes.speculative
                );
                println!("poll radius {:.3e}", o.poll_radius);
                println!("x           {:?}", o.x);
            })
        }
    }
}

#[cfg(duality_torch)]
fn attack_run(
    prob: &dyn duality_combopt::direct_search::Blackbox,
    params: &DsmParams,
    kind: AttackKind,
    seed: u64,
    rng: &mut duality_core::seed::DualityRng,
) -> anyhow::Result<duality_combopt::direct_search::DsmRun> {
    use duality_combopt::direct_search::{SurrogateAttack, SurrogateParams};
    let mut oracle = SurrogateAttack::new(
        prob.dim(),
        SurrogateParams {
            seed,
            attack: kind,
            ..SurrogateParams::default()
        },
    )?;
    Ok(minimize(prob, params, Some(&mut oracle), rng)?)
}

#[cfg(not(duality_torch))]
fn attack_run(
    _: &dyn duality_combopt::direct_search::Blackbox,
    _: &DsmParams,
    _: AttackKind,
    _: u64,
    _: &mut duality_core::seed::DualityRng,
) -> anyhow::Result<duality_combopt::direct_search::DsmRun> {
    // `main` forwards `dfo solve --attack` to the companion; reached only
    // when that scan did not run.
    bail!("--attack needs libtorch: run it with duality-torch (the torch build)")
}
