//! `duality bandit ...`: commands over `duality_bandits`.
//!
//! - `simulate --config FILE.toml [--svg OUT.svg] [--format json]`: runs the
//!   policies of a TOML simulation spec (see `duality_bandits::config`) and
//!   reports final regrets (mean and IQM with bootstrap CIs);
//! - `ope --logged FILE.csv [--estimators ipw,snipw,dm,dr,switch-dr]
//!   [--switch-tau T]`: off-policy value estimates with Open Bandit
//!   Pipeline's definitions;
//! - `policies [--format json]`: the registered policies (the `kind`s a
//!   simulation spec may name), their parameters and sources, read from
//!   `duality_bandits::registry`, so a new policy appears without a change
//!   here.

use std::fs::File;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use duality_bandits::prelude::*;
use duality_bandits::stats::CiParams;
use serde::Serialize;

use crate::output::{emit, Format};

/// Commands of the `bandit` area.
#[derive(Debug, Subcommand)]
pub enum BanditCommand {
    /// Simulate bandit policies on an environment described in a TOML file.
    Simulate(SimulateArgs),
    /// Estimate a policy's value from logged bandit feedback (off-policy evaluation).
    Ope(OpeArgs),
    /// List the registered policies (`kind` names for `[[policies]]`).
    Policies(PoliciesArgs),
}

/// Arguments of `duality bandit policies`.
#[derive(Debug, Args)]
pub struct PoliciesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality bandit simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Simulation spec (horizon, repetitions, seed, [environment], [[policies]]).
    #[arg(long)]
    pub config: PathBuf,
    /// Write the mean regret curves (log-x) to this SVG file.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Write one record per (policy, repetition) to this `.json` or `.csv` file.
    #[arg(long)]
    pub records: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality bandit ope`.
#[derive(Debug, Args)]
pub struct OpeArgs {
    /// CSV with columns action,reward,pscore,pi_0..pi_{K-1},qhat_0..qhat_{K-1}.
    #[arg(long)]
    pub logged: PathBuf,
    /// Comma-separated estimators (ipw, snipw, dm, dr, switch-dr); default:
    /// all, with switch-dr only when --switch-tau is given.
    #[arg(long, value_delimiter = ',')]
    pub estimators: Option<Vec<String>>,
    /// Importance-weight threshold of switch-dr.
    #[arg(long)]
    pub switch_tau: Option<f64>,
    /// Also report percentile-bootstrap CIs with this many replicates.
    #[arg(long)]
    pub ci_reps: Option<usize>,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Runs one `bandit` command.
pub fn run(cmd: BanditCommand) -> anyhow::Result<()> {
    match cmd {
        BanditCommand::Simulate(args) => simulate(args),
        BanditCommand::Ope(args) => ope(args),
        BanditCommand::Policies(args) => list_policies(args),
    }
}

fn list_policies(args: PoliciesArgs) -> anyhow::Result<()> {
    let entries = duality_bandits::registry::policies();
    emit(args.format, &entries, |list| {
        println!("{:<24} {:<60} parameters (defaults)", "kind", "about");
        for p in list.iter() {
            println!("{:<24} {:<60} {}", p.name, p.about, p.params);
            println!("{:<24} source: {}", "", p.source);
        }
    })
}

#[derive(Debug, Serialize)]
struct SimulateReport {
    environment: String,
    horizon: usize,
    repetitions: usize,
    seed: u64,
    policies: Vec<PolicySummary>,
}

fn simulate(args: SimulateArgs) -> anyhow::Result<()> {
    let spec: SimulationSpec = duality_core::config::load_toml(&args.config)?;
    let BuiltSimulation {
        environment: env,
        policies,
    } = spec.build()?;
    let sim = Simulator::new(spec.simulator_config().progress(true))?;
    let result = sim.run(env.as_ref(), &policies)?;
    if let Some(svg) = &args.svg {
        duality_bandits::plot::regret_svg(
            &result,
            svg,
            &format!("regret on {}", result.environment),
        )
        .with_context(|| format!("writing {}", svg.display()))?;
    }
    if let Some(path) = &args.records {
        duality_core::record::save(&result.records(), path)?;
    }
    let report = SimulateReport {
        environment: result.environment.clone(),
        horizon: spec.horizon(),
        repetitions: spec.repetitions(),
        seed: spec.seed(),
        policies: result.summary(spec.ci())?,
    };
    emit(args.format, &report, |r| {
        println!(
            "{} arms env `{}`, T = {}, {} repetitions, seed {}",
            env.n_arms(),
            r.environment,
            r.horizon,
            r.repetitions,
            r.seed
        );
        println!(
            "{:<24} {:>28} {:>28} {:>28}",
            "policy",
            "pseudo-regret mean [CI]",
            "pseudo-regret IQM [CI]",
            "realised regret mean [CI]"
        );
        for p in &r.policies {
            let fmt = |i: &duality_eval::prelude::Interval| {
                format!("{:.1} [{:.1}, {:.1}]", i.estimate, i.lo, i.hi)
            };
            println!(
                "{:<24} {:>28} {:>28} {:>28}",
                p.policy,
                fmt(&p.pseudo_regret.mean),
                fmt(&p.pseudo_regret.iqm),
                fmt(&p.realised_regret.mean)
            );
        }
    })
}

fn ope(args: OpeArgs) -> anyhow::Result<()> {
    let name = args.logged.display().to_string();
    let file = File::open(&args.logged).map_err(|e| duality_core::Error::io(&args.logged, e))?;
    let data = OpeData::from_csv(std::io::BufReader::new(file), &name)?;
    let kinds: Vec<EstimatorKind> = match args.estimators {
        Some(list) => list
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()?,
        None => {
            let mut v = vec![
                EstimatorKind::Ipw,
                EstimatorKind::Snipw,
                EstimatorKind::DirectMethod,
                EstimatorKind::DoublyRobust,
            ];
            if args.switch_tau.is_some() {
                v.push(EstimatorKind::SwitchDoublyRobust);
            }
            if !data.has_reward_model() {
                v.retain(|k| matches!(k, EstimatorKind::Ipw | EstimatorKind::Snipw));
            }
            v
        }
    };
    anyhow::ensure!(!kinds.is_empty(), "no estimators given");
    let ci = args.ci_reps.map(|reps| CiParams {
        reps,
        confidence: 0.95,
        seed: args.seed,
    });
    let mut out = serde_json::Map::new();
    for kind in &kinds {
        let est = kind.build(args.switch_tau)?;
        let value = match &ci {
            None => serde_json::json!(est.estimate(&data)?),
            Some(ci) => {
                let i = est.interval(&data, ci)?;
                serde_json::json!({"estimate": i.estimate, "lo": i.lo, "hi": i.hi})
            }
        };
        out.insert(est.name(), value);
    }
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}
