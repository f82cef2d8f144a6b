//! `duality ddp ...`: commands over `duality_distdp` (distributional dynamic
//! programming with stock augmentation, and option pricing by LSMC).

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use duality_distdp::classic::IterParams;
use duality_distdp::dist::{uniform_support, Representation, ReturnDistribution};
use duality_distdp::mdp::FiniteMdp;
use duality_distdp::stock::{
    distributional_value_iteration, optimize_cvar_exact, optimize_cvar_grid, solve_exact,
    Objective, StockGrid,
};
use duality_distdp::stopping::{
    binomial_price, black_scholes_put, lsmc_price, Basis, Exercise, LsmcParams, PutOption,
};
use serde::Serialize;

use crate::output::{emit, Format};

/// Commands of the `distdp` area.
#[derive(Debug, Subcommand)]
pub enum DdpCommand {
    /// Optimise an objective of the return distribution of an MDP (TOML/JSON)
    /// by stock-augmented distributional dynamic programming.
    Solve(SolveArgs),
    /// Price a Bermudan put by Longstaff-Schwartz LSMC (with lattice and
    /// Black-Scholes references).
    Price(PriceArgs),
}

/// Arguments of `duality ddp solve`.
#[derive(Debug, Args)]
pub struct SolveArgs {
    /// MDP file (.toml or .json).
    #[arg(long)]
    mdp: PathBuf,
    /// expectation | cvar:ALPHA | utility:exp:LAMBDA | threshold:X | homeostatic:X
    #[arg(long, default_value = "expectation")]
    objective: String,
    /// exact | exact:BUDGET | categorical:N | quantile:N
    #[arg(long, default_value = "exact")]
    representation: String,
    /// Stock model: grid:BUCKETS, or exact (finite horizon only).
    #[arg(long, default_value = "grid:101")]
    stock: String,
    /// Convergence tolerance on the sup-W1 change (infinite horizon).
    #[arg(long, default_value_t = 1e-8)]
    tol: f64,
    /// Iteration cap (infinite horizon).
    #[arg(long, default_value_t = 10_000)]
    max_iter: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Arguments of `duality ddp price`.
#[derive(Debug, Args)]
pub struct PriceArgs {
    /// Spot price.
    #[arg(long, default_value_t = 36.0)]
    s0: f64,
    /// Strike.
    #[arg(long, default_value_t = 40.0)]
    strike: f64,
    /// Risk-free rate.
    #[arg(long, default_value_t = 0.06)]
    rate: f64,
    /// Volatility.
    #[arg(long, default_value_t = 0.2)]
    sigma: f64,
    /// Maturity in years.
    #[arg(long, default_value_t = 1.0)]
    maturity: f64,
    /// Number of exercise dates.
    #[arg(long, default_value_t = 50)]
    steps: usize,
    /// Number of Monte Carlo paths.
    #[arg(long, default_value_t = 100_000)]
    paths: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Regression basis: laguerre:DEGREE or poly:DEGREE.
    #[arg(long, default_value = "laguerre:2")]
    basis: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Runs one `distdp` command.
pub fn run(cmd: DdpCommand) -> anyhow::Result<()> {
    match cmd {
        DdpCommand::Solve(args) => solve(args),
        DdpCommand::Price(args) => price(args),
    }
}

fn parse_representation(text: &str, mdp: &FiniteMdp) -> anyhow::Result<Representation> {
    let parts: Vec<&str> = text.split(':').collect();
    let num = |s: &str| -> anyhow::Result<usize> {
        s.parse::<usize>()
            .with_context(|| format!("invalid representation size `{s}` in `{text}`"))
    };
    let repr = match parts.as_slice() {
        // Unlimited atoms are exact for finite horizons; cap them otherwise.
        ["exact"] => Representation::Exact {
            budget: if mdp.horizon.is_some() { None } else { Some(128) },
        },
        ["exact", b] => Representation::Exact {
            budget: Some(num(b)?),
        },
        ["categorical", n] => {
            let (lo, hi) = mdp.return_bounds();
            let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 1.0, hi + 1.0) };
            Representation::Categorical {
                support: uniform_support(lo, hi, num(n)?)?,
            }
        }
        ["quantile", n] => Representation::Quantile { n: num(n)? },
        _ => bail!(
            "invalid representation `{text}`: expected exact | exact:BUDGET | categorical:N | quantile:N"
        ),
    };
    repr.validate()?;
    Ok(repr)
}

#[derive(Debug, Serialize)]
struct SolveReport {
    mdp: String,
    objective: String,
    representation: String,
    stock: String,
    /// Objective value at the start state.
    value: f64,
    /// Initial stock used by the executed policy.
    initial_stock: f64,
    iterations: usize,
    converged: bool,
    start_mean: f64,
    start_atoms: usize,
    /// Grid policy: `policy[s][b]` at time 0 with the bucket stock values.
    #[serde(skip_serializing_if = "Option::is_none")]
    stock_values: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<Vec<Vec<usize>>>,
    /// Exact policy entries `(t, state, stock, action)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    exact_policy: Option<Vec<(usize, usize, f64, usize)>>,
}

fn solve(args: SolveArgs) -> anyhow::Result<()> {
    let mdp = FiniteMdp::load(&args.mdp)?;
    let objective = Objective::parse(&args.objective)?;
    objective.check_optimisable(mdp.gamma)?;
    let repr = parse_representation(&args.representation, &mdp)?;
    let params = IterParams::default().tol(args.tol).max_iter(args.max_iter);
    params.validate()?;
    let util = objective.utility();
    let mut report = SolveReport {
        mdp: mdp.name.clone(),
        objective: args.objective.clone(),
        representation: args.representation.clone(),
        stock: args.stock.clone(),
        value: 0.0,
        initial_stock: 0.0,
        iterations: 0,
        converged: true,
        start_mean: 0.0,
        start_atoms: 0,
        stock_values: None,
        policy: None,
        exact_policy: None,
    };
    if args.stock == "exact" {
        let (law, policy, c0, value) = match objective {
            Objective::Cvar { alpha } => {
                let sol = optimize_cvar_exact(&mdp, alpha, &repr)?;
                (sol.law, sol.policy, -sol.c, sol.cvar)
            }
            _ => {
                let c0 = objective.initial_stock();
                let sol = solve_exact(&mdp, util, c0, &repr)?;
                let value = objective.evaluate(&sol.law)?;
                (sol.law, sol.policy, c0, value)
            }
        };
        report.value = value;
        report.initial_stock = c0;
        report.iterations = mdp.horizon.unwrap_or(0);
        report.start_mean = law.mean();
        report.start_atoms = law.len();
        report.exact_policy = Some(policy.entries());
    } else {
        let buckets = match args.stock.split_once(':') {
            Some(("grid", n)) => n
                .parse::<usize>()
                .with_context(|| format!("invalid bucket count `{n}` in --stock"))?,
            _ => bail!(
                "invalid --stock `{}`: expected grid:BUCKETS or exact",
                args.stock
            ),
        };
        let grid = if objective == Objective::Expectation {
            StockGrid::new(0.0, 0.0, 1)?
        } else {
            StockGrid::for_mdp(&mdp, buckets)?
        };
        let (sol, c0, value) = match objective {
            Objective::Cvar { alpha } => {
                let g = optimize_cvar_grid(&mdp, alpha, grid, &repr, params)?;
                (g.solution, -g.c, g.cvar)
            }
            _ => {
                let sol = distributional_value_iteration(&mdp, util, grid, &repr, params)?;
                let c0 = objective.initial_stock();
                let b = grid.bucket(c0);
                let value = objective.evaluate(&sol.eta[mdp.start][b])?;
                (sol, c0, value)
            }
        };
        let law = &sol.eta[mdp.start][grid.bucket(c0)];
        report.value = value;
        report.initial_stock = c0;
        report.iterations = sol.iterations;
        report.converged = sol.converged;
        report.start_mean = law.mean();
        report.start_atoms = law.len();
        report.stock_values = Some((0..grid.buckets).map(|b| grid.value(b)).collect());
        report.policy = sol.policy.actions.first().cloned();
    }
    emit(args.format, &report, |r| {
        println!(
            "MDP {} | objective {} | representation {} | stock {}",
            r.mdp, r.objective, r.representation, r.stock
        );
        println!("objective value at start: {:.6}", r.value);
        println!("initial stock: {:.6}", r.initial_stock);
        println!(
            "start-state mean return: {:.6} ({} atoms)",
            r.start_mean, r.start_atoms
        );
        println!("iterations: {} (converged: {})", r.iterations, r.converged);
        if let (Some(stocks), Some(policy)) = (&r.stock_values, &r.policy) {
            println!(
                "policy at t = 0 (rows: states; columns: stock buckets {:.3} .. {:.3}):",
                stocks.first().copied().unwrap_or(0.0),
                stocks.last().copied().unwrap_or(0.0)
            );
            for (s, row) in policy.iter().enumerate() {
                let acts: Vec<String> = row.iter().map(|a| a.to_string()).collect();
                println!("  state {s:>3}: {}", acts.join(""));
            }
        }
        if let Some(entries) = &r.exact_policy {
            println!("policy (t, state, stock -> action):");
            for (t, s, c, a) in entries {
                println!("  t {t} state {s} stock {c:.6} -> {a}");
            }
        }
    })
}

#[derive(Debug, Serialize)]
struct PriceReport {
    option: PutOption,
    exercise_dates: usize,
    paths: usize,
    seed: u64,
    lsmc_price: f64,
    std_error: f64,
    ci_low: f64,
    ci_high: f64,
    lattice_bermudan: f64,
    lattice_american: f64,
    european_black_scholes: f64,
}

fn price(args: PriceArgs) -> anyhow::Result<()> {
    let option = PutOption {
        s0: args.s0,
        strike: args.strike,
        rate: args.rate,
        sigma: args.sigma,
        maturity: args.maturity,
    };
    option.validate()?;
    let basis = match args.basis.split_once(':') {
        Some(("laguerre", d)) => Basis::Laguerre(
            d.parse()
                .with_context(|| format!("invalid basis degree `{d}`"))?,
        ),
        Some(("poly", d)) => Basis::Polynomial(
            d.parse()
                .with_context(|| format!("invalid basis degree `{d}`"))?,
        ),
        _ => bail!(
            "invalid --basis `{}`: expected laguerre:DEGREE or poly:DEGREE",
            args.basis
        ),
    };
    let params = LsmcParams::default()
        .exercise_dates(args.steps)
        .paths(args.paths)
        .seed(args.seed)
        .basis(basis);
    let mc = lsmc_price(&option, &params)?;
    let lattice_steps = (2000 / args.steps.max(1)).max(1) * args.steps;
    let report = PriceReport {
        option,
        exercise_dates: args.steps,
        paths: mc.paths,
        seed: args.seed,
        lsmc_price: mc.price,
        std_error: mc.std_error,
        ci_low: mc.ci_low,
        ci_high: mc.ci_high,
        lattice_bermudan: binomial_price(
            &option,
            Exercise::Bermudan { dates: args.steps },
            lattice_steps,
        )?,
        lattice_american: binomial_price(&option, Exercise::American, 2000)?,
        european_black_scholes: black_scholes_put(&option)?,
    };
    emit(args.format, &report, |r| {
        println!(
            "LSMC price: {:.4} (95% CI {:.4} .. {:.4}; se {:.4}; {} paths, {} dates)",
            r.lsmc_price, r.ci_low, r.ci_high, r.std_error, r.paths, r.exercise_dates
        );
        println!(
            "lattice Bermudan ({} dates): {:.4}",
            r.exercise_dates, r.lattice_bermudan
        );
        println!("lattice American: {:.4}", r.lattice_american);
        println!("European (Black-Scholes): {:.4}", r.european_black_scholes);
    })
}
