//! `duality bandit ...`: commands over `duality_bandits`.
//!
//! - `simulate --config FILE.toml [--svg OUT.svg] [--format json]`: runs the
//!   policies of a TOML simulation spec (see `duality_bandits::config`) and
//!   reports final regrets (mean and IQM with bootstrap CIs);
//! - `ope --logged FILE.csv [--estimators ipw,snipw,dm,dr,switch-dr]
//!   [--switch-tau T] [--ci | --ci-reps N]`: off-policy value estimates
//!   with Open Bandit Pipeline's definitions and defaults (Switch-DR
//!   tau = 1, 10,000 bootstrap replicates);
//! - `relax [--shift high|low] [--systems T] [--learner NAME] [--solver sor]
//!   [--seed S] [--format json]`: *Learning to Relax* as the authors'
//!   scripts run it (`duality_bandits::relax_reference`): total SOR
//!   iterations of the learner, the best fixed omega in hindsight, omega = 1
//!   and the instance-optimal omega;
//! - `portfolio [--market gbm|mean-reverting|regime-switching | --prices
//!   FILE.csv] [--assets M] [--periods T] [--cost C] [--seed S]`: online
//!   portfolio selection (`duality_bandits::portfolio`): base strategies,
//!   the best CRP in hindsight and the ensembles of Lam (2024), with final
//!   wealth, annualised growth, maximum drawdown and turnover;
//! - `private-count --stream FILE.csv --epsilon E [--mechanism
//!   tree|tree-gaussian|factorization] [--delta D] [--seed S]`: private
//!   running counts under continual observation
//!   (`duality_bandits::continual`);
//! - `fair [--learner exp2|ftpl|blind] [--rounds T] [--k K] [--c C]
//!   [--seed S]`: individually fair learning with one-sided feedback
//!   (`duality_bandits::fairness`): regret and reported violations at
//!   log-spaced rounds;
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
    /// Tune SOR's omega online over a sequence of shifted Laplacian systems (Learning to Relax).
    Relax(RelaxArgs),
    /// Online portfolio selection: base strategies and their ensemble (Lam 2024) on a synthetic market or a price CSV.
    Portfolio(PortfolioArgs),
    /// Differentially private running counts of a stream (binary tree or square-root factorisation mechanism).
    PrivateCount(PrivateCountArgs),
    /// Individually fair online classification with one-sided feedback and an auditor panel (Bechavod & Roth).
    Fair(FairArgs),
}

/// Arguments of `duality bandit fair`.
#[derive(Debug, Args)]
pub struct FairArgs {
    /// Learner: exp2, ftpl (Context-Semi-Bandit-FTPL) or blind (Exp2 ignoring the auditors).
    #[arg(long, default_value = "exp2")]
    pub learner: String,
    /// Rounds T.
    #[arg(long, default_value_t = 4000)]
    pub rounds: usize,
    /// Individuals per round (batch size, at least 2).
    #[arg(long, default_value_t = 4)]
    pub k: usize,
    /// Lagrange weight C of a reported fairness violation.
    #[arg(long, default_value_t = 10.0)]
    pub c: f64,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality bandit private-count`.
#[derive(Debug, Args)]
pub struct PrivateCountArgs {
    /// CSV with one value in [0, 1] per row (first column; a non-numeric first row is a header).
    #[arg(long)]
    pub stream: PathBuf,
    /// Privacy budget epsilon > 0.
    #[arg(long)]
    pub epsilon: f64,
    /// Mechanism: tree (Laplace noise, epsilon-DP), tree-gaussian or factorization (Gaussian noise, (epsilon, delta)-DP).
    #[arg(long, default_value = "tree")]
    pub mechanism: String,
    /// The delta of the Gaussian mechanisms, in (0, 1).
    #[arg(long, default_value_t = 1e-6)]
    pub delta: f64,
    /// Seed of the noise.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality bandit portfolio`.
#[derive(Debug, Args)]
pub struct PortfolioArgs {
    /// Synthetic market: gbm, mean-reverting or regime-switching (ignored with --prices).
    #[arg(long, default_value = "gbm")]
    pub market: String,
    /// CSV of prices with header date,asset,price (ISO dates); replaces the synthetic market.
    #[arg(long)]
    pub prices: Option<PathBuf>,
    /// Assets of the synthetic market.
    #[arg(long, default_value_t = 3)]
    pub assets: usize,
    /// Trading days of the synthetic market.
    #[arg(long, default_value_t = 2520)]
    pub periods: usize,
    /// Proportional transaction cost in [0, 1).
    #[arg(long, default_value_t = 0.0)]
    pub cost: f64,
    /// Seed of the market and of the Monte Carlo simplex samples.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `duality bandit relax`.
#[derive(Debug, Args)]
pub struct RelaxArgs {
    /// Shift law: high (-0.15 + 0.6 Beta(0.5, 1.5)) or low (-0.15 + 0.6 Beta(2, 6)).
    #[arg(long, default_value = "high")]
    pub shift: String,
    /// Number of systems T.
    #[arg(long, default_value_t = 1000)]
    pub systems: usize,
    /// Learner: tsallis-inf, tsallis-inf-cap, chebcb, tsallis-inf-cb or fixed:OMEGA (a grid omega).
    #[arg(long, default_value = "tsallis-inf")]
    pub learner: String,
    /// Solver: sor, or ssor-cg (SSOR-preconditioned conjugate gradient, omega grid in [2 sqrt(2) - 2, 1.9]).
    #[arg(long, default_value = "sor")]
    pub solver: String,
    /// Seed of the sequence and the learner.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
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
    /// all (the model-based ones only when the log has qhat columns).
    #[arg(long, value_delimiter = ',')]
    pub estimators: Option<Vec<String>>,
    /// Importance-weight threshold of switch-dr (default 1, as obp 0.4.1).
    #[arg(long)]
    pub switch_tau: Option<f64>,
    /// Also report percentile-bootstrap CIs with obp 0.4.1's 10,000 replicates.
    #[arg(long)]
    pub ci: bool,
    /// Also report percentile-bootstrap CIs with this many replicates (implies --ci).
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
        BanditCommand::Relax(args) => relax(args),
        BanditCommand::Portfolio(args) => portfolio(args),
        BanditCommand::PrivateCount(args) => private_count(args),
        BanditCommand::Fair(args) => fair(args),
    }
}

fn fair(args: FairArgs) -> anyhow::Result<()> {
    use duality_bandits::fairness::{run_fair, threshold_class, FairLearner, FairnessEnv};
    anyhow::ensure!(
        args.c.is_finite() && args.c >= 0.0,
        "--c {}: expected a finite weight >= 0",
        args.c
    );
    anyhow::ensure!(args.rounds >= 1, "--rounds 0: expected at least 1 round");
    let learner: FairLearner = args.learner.parse()?;
    let env = FairnessEnv::standard(args.k)?;
    let class = threshold_class(7, 8)?;
    let checkpoints = duality_bandits::analysis::log_checkpoints(args.rounds, 10);
    let mut rng = duality_core::seed::Seeder::new(args.seed)
        .named("fair")
        .rng(0);
    let run = run_fair(
        &env,
        &class,
        learner,
        args.rounds,
        args.c,
        &checkpoints,
        &mut rng,
    )?;
    emit(args.format, &run, |r| {
        println!(
            "{}: {} rounds, {} individuals a round, C = {}, seed {}",
            r.learner, args.rounds, args.k, args.c, args.seed
        );
        println!(
            "{:>8} {:>16} {:>18} {:>17} {:>12}",
            "round", "regret (best h)", "regret (best fair)", "regret (x0 mix)", "violations"
        );
        for i in 0..r.checkpoints.len() {
            println!(
                "{:>8} {:>16.1} {:>18.1} {:>17.1} {:>12}",
                r.checkpoints[i],
                r.regret[i],
                r.regret_vs_best_fair[i],
                r.regret_vs_fair[i],
                r.violations[i]
            );
        }
    })
}

#[derive(Debug, Serialize)]
struct PrivateCountReport {
    mechanism: String,
    epsilon: f64,
    delta: Option<f64>,
    seed: u64,
    /// Private running counts, one per input.
    counts: Vec<f64>,
    /// Standard deviation of each count's noise (data-independent).
    error_sd: Vec<f64>,
}

/// Reads the stream: the first column of each row, values in [0, 1].
fn read_stream(path: &std::path::Path) -> anyhow::Result<Vec<f64>> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| duality_core::Error::io(path, e))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let field = line.split(',').next().unwrap_or("").trim();
        if field.is_empty() {
            continue;
        }
        // A long field is quoted cut to 80 characters (issue #25: a
        // 300-digit value was echoed whole).
        let shown = || duality_core::error::shorten(&format!("{field:?}"), 80);
        match field.parse::<f64>() {
            Ok(x) if x.is_finite() && (0.0..=1.0).contains(&x) => out.push(x),
            Ok(_) => anyhow::bail!(
                "{name} line {}: value {}: expected a number in [0, 1]",
                i + 1,
                shown()
            ),
            Err(_) if i == 0 => {} // header
            Err(_) => anyhow::bail!("{name} line {}: {} is not a number", i + 1, shown()),
        }
    }
    anyhow::ensure!(
        !out.is_empty(),
        "{name}: the stream is empty (expected one value in [0, 1] per row)"
    );
    Ok(out)
}

fn private_count(args: PrivateCountArgs) -> anyhow::Result<()> {
    use duality_bandits::continual::{private_counts, Mechanism};
    anyhow::ensure!(
        args.epsilon.is_finite() && args.epsilon > 0.0,
        "--epsilon {}: expected a finite privacy budget > 0",
        args.epsilon
    );
    let mechanism: Mechanism = args.mechanism.parse()?;
    let stream = read_stream(&args.stream)?;
    let mut counter = mechanism.build(stream.len(), args.epsilon, args.delta)?;
    let mut rng = duality_core::seed::Seeder::new(args.seed)
        .named("private-count")
        .rng(0);
    let counts = private_counts(counter.as_mut(), &stream, &mut rng)?;
    let error_sd = (1..=stream.len()).map(|t| counter.error_sd(t)).collect();
    let report = PrivateCountReport {
        mechanism: counter.name(),
        epsilon: args.epsilon,
        delta: (mechanism != Mechanism::TreeLaplace).then_some(args.delta),
        seed: args.seed,
        counts,
        error_sd,
    };
    emit(args.format, &report, |r| {
        println!(
            "{} mechanism, epsilon {}{}, seed {}: {} private running counts",
            r.mechanism,
            r.epsilon,
            r.delta.map(|d| format!(", delta {d}")).unwrap_or_default(),
            r.seed,
            r.counts.len()
        );
        println!("{:>8} {:>14} {:>12}", "t", "private count", "noise sd");
        for (t, (c, sd)) in r.counts.iter().zip(&r.error_sd).enumerate() {
            println!("{:>8} {:>14.3} {:>12.3}", t + 1, c, sd);
        }
    })
}

#[derive(Debug, Serialize)]
struct PortfolioReport {
    market: String,
    assets: Vec<String>,
    periods: usize,
    cost: f64,
    seed: u64,
    strategies: Vec<duality_bandits::portfolio::Performance>,
}

fn portfolio(args: PortfolioArgs) -> anyhow::Result<()> {
    use duality_bandits::portfolio::{compare, Market};
    anyhow::ensure!(
        args.cost.is_finite() && (0.0..1.0).contains(&args.cost),
        "--cost {}: expected a transaction cost in [0, 1)",
        args.cost
    );
    let (name, market) = match &args.prices {
        Some(path) => {
            let file = File::open(path).map_err(|e| duality_core::Error::io(path, e))?;
            let market = Market::from_prices_csv(
                std::io::BufReader::new(file),
                &path.display().to_string(),
            )?;
            (path.display().to_string(), market)
        }
        None => (
            args.market.clone(),
            Market::synthetic(&args.market, args.assets, args.periods, args.seed)?,
        ),
    };
    let report = PortfolioReport {
        market: name,
        assets: market.assets.clone(),
        periods: market.n_periods(),
        cost: args.cost,
        seed: args.seed,
        strategies: compare(&market, args.cost, args.seed)?,
    };
    emit(args.format, &report, |r| {
        println!(
            "market {} ({} assets, {} periods), transaction cost {}, seed {}",
            r.market,
            r.assets.len(),
            r.periods,
            r.cost,
            r.seed
        );
        println!(
            "{:<24} {:>14} {:>12} {:>12} {:>10}",
            "strategy", "final wealth", "growth/yr", "max drawdn", "turnover"
        );
        for p in &r.strategies {
            println!(
                "{:<24} {:>14.4} {:>11.2}% {:>11.2}% {:>10.4}",
                p.strategy,
                p.final_wealth,
                100.0 * p.annualised_growth,
                100.0 * p.max_drawdown,
                p.turnover
            );
        }
    })
}

#[derive(Debug, Serialize)]
struct RelaxReport {
    shift: String,
    systems: usize,
    seed: u64,
    learner: String,
    solver: String,
    learner_iterations: usize,
    best_fixed_omega: f64,
    best_fixed_iterations: usize,
    gauss_seidel_iterations: usize,
    instance_optimal_iterations: usize,
}

fn relax(args: RelaxArgs) -> anyhow::Result<()> {
    use duality_bandits::relax::optimal_omega_shifted_laplacian;
    use duality_bandits::relax_reference::{
        reference_grid, reference_learner, reference_sequence, run_reference_learner, ssor_cg_grid,
        ssor_cg_table, REFERENCE_GRID, REFERENCE_MAX_ITER, REFERENCE_TOL,
    };
    let law: duality_bandits::relax_reference::ShiftLaw = args.shift.parse()?;
    let cg = match args.solver.as_str() {
        "sor" => false,
        "ssor-cg" => true,
        other => anyhow::bail!("solver {other:?}: expected sor or ssor-cg"),
    };
    let grid = if cg {
        ssor_cg_grid(20)
    } else {
        reference_grid()
    };
    // The sequence and the iteration table hold systems x grid values.
    let cells = duality_core::limits::product(&[
        ("--systems", args.systems),
        ("omega grid", grid.len() + 2),
    ])?;
    duality_core::limits::elements::<usize>("--systems", cells)?;
    let mut learner = reference_learner(&args.learner, &grid, REFERENCE_MAX_ITER)?;
    let seq = reference_sequence(REFERENCE_GRID, args.systems, law, args.seed)?;
    let table = if cg {
        ssor_cg_table(&seq, &grid, REFERENCE_TOL, REFERENCE_MAX_ITER)?
    } else {
        let setup = RelaxSetup {
            tol: REFERENCE_TOL,
            max_iter: REFERENCE_MAX_ITER,
            chebyshev_degree: 3,
        };
        iteration_table(&seq, &grid, &setup)?
    };
    let mut rng = duality_core::seed::Seeder::new(args.seed)
        .named("relax-learner")
        .rng(0);
    let paid = run_reference_learner(&seq.shifts, &table, learner.as_mut(), &mut rng)?;
    let sums: Vec<usize> = (0..grid.len())
        .map(|a| table.iter().map(|row| row[a]).sum())
        .collect();
    let best = (0..grid.len()).min_by_key(|&a| sums[a]).unwrap_or(0);
    let (gauss_seidel, optimal) = if cg {
        // omega = 1 (symmetric Gauss-Seidel preconditioner); no closed-form
        // optimum for SSOR-CG, so the per-system best grid omega.
        let gs = ssor_cg_table(&seq, &[1.0], REFERENCE_TOL, REFERENCE_MAX_ITER)?
            .iter()
            .map(|r| r[0])
            .sum();
        let opt = table
            .iter()
            .map(|r| r.iter().copied().min().unwrap_or(0))
            .sum();
        (gs, opt)
    } else {
        let mut opt = 0;
        for (t, &c) in seq.shifts.iter().enumerate() {
            let w = optimal_omega_shifted_laplacian(REFERENCE_GRID, c)?;
            opt += seq.iterations(
                t,
                &SorParams::new(w.min(1.999), REFERENCE_TOL, REFERENCE_MAX_ITER)?,
            )?;
        }
        (sums[0], opt)
    };
    let report = RelaxReport {
        shift: law.to_string(),
        systems: args.systems,
        seed: args.seed,
        learner: learner.name(),
        learner_iterations: paid.iter().sum(),
        best_fixed_omega: grid[best],
        best_fixed_iterations: sums[best],
        solver: args.solver.clone(),
        gauss_seidel_iterations: gauss_seidel,
        instance_optimal_iterations: optimal,
    };
    emit(args.format, &report, |r| {
        println!(
            "Learning to Relax: {} systems, {}-variance shifts, solver {}, seed {}",
            r.systems, r.shift, r.solver, r.seed
        );
        println!("{:<32} {:>14}", "", "total iterations");
        println!("{:<32} {:>14}", r.learner, r.learner_iterations);
        println!(
            "{:<32} {:>14}",
            format!("best fixed omega = {:.2}", r.best_fixed_omega),
            r.best_fixed_iterations
        );
        println!(
            "{:<32} {:>14}",
            "omega = 1 (Gauss-Seidel)", r.gauss_seidel_iterations
        );
        println!(
            "{:<32} {:>14}",
            "instance-optimal omega", r.instance_optimal_iterations
        );
    })
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
    // Everything is validated before anything is written (issue #25): the
    // spec (sizes included), the records file's extension, then the run and
    // its summary; only then are `--svg` and `--records` written, each
    // atomically (a temporary file renamed into place).
    let spec: SimulationSpec = duality_core::config::load_toml(&args.config)?;
    if let Some(path) = &args.records {
        check_records_extension(path)?;
    }
    let BuiltSimulation {
        environment: env,
        policies,
    } = spec.build()?;
    let sim = Simulator::new(spec.simulator_config().progress(true))?;
    let result = sim.run(env.as_ref(), &policies)?;
    let report = SimulateReport {
        environment: result.environment.clone(),
        horizon: spec.horizon(),
        repetitions: spec.repetitions(),
        seed: spec.seed(),
        policies: result.summary(spec.ci())?,
    };
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

/// `--records` must name a `.json` or `.csv` file; checked before the run.
fn check_records_extension(path: &std::path::Path) -> anyhow::Result<()> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json" | "csv") => Ok(()),
        other => Err(duality_core::Error::invalid(
            "--records",
            format!("{} (extension {other:?})", path.display()),
            "a `.json` or `.csv` file",
        )
        .into()),
    }
}

fn ope(args: OpeArgs) -> anyhow::Result<()> {
    let name = args.logged.display().to_string();
    let file = File::open(&args.logged).map_err(|e| duality_core::Error::io(&args.logged, e))?;
    // The reader names the file and line for bad rows; an error without a
    // line (e.g. a header-only file: "logged rounds is empty") gets the file
    // name here (issue #25).
    let data = OpeData::from_csv(std::io::BufReader::new(file), &name).map_err(|e| {
        let msg = e.to_string();
        if msg.contains(&name) {
            anyhow::Error::from(e)
        } else {
            anyhow::anyhow!("{name}: {msg}")
        }
    })?;
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
                EstimatorKind::SwitchDoublyRobust,
            ];
            if !data.has_reward_model() {
                v.retain(|k| matches!(k, EstimatorKind::Ipw | EstimatorKind::Snipw));
            }
            v
        }
    };
    anyhow::ensure!(!kinds.is_empty(), "no estimators given");
    let reps = match (args.ci, args.ci_reps) {
        (_, Some(r)) => Some(r),
        (true, None) => Some(duality_bandits::ope::OBP_BOOTSTRAP_REPS),
        (false, None) => None,
    };
    if let Some(reps) = reps {
        // One f64 per replicate and estimator, refused before allocating.
        anyhow::ensure!(reps >= 1, "--ci-reps 0: expected at least 1 replicate");
        let cells =
            duality_core::limits::product(&[("--ci-reps", reps), ("estimators", kinds.len())])?;
        duality_core::limits::elements::<f64>("--ci-reps", cells)?;
    }
    let ci = reps.map(|reps| CiParams {
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
