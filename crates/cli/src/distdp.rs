//! `duality ddp ...`: commands over `duality_distdp` (distributional dynamic
//! programming with stock augmentation, and option pricing by LSMC).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use duality_core::config::Validate;
use duality_distdp::classic::IterParams;
use duality_distdp::mdp::FiniteMdp;
use duality_distdp::objective::Objective;
use duality_distdp::stock::ExactPolicyEntry;
use duality_distdp::stopping::{
    binomial_price, black_scholes_put, price_interval, Basis, DualParams, Exercise, LsmcParams,
    McPrice, PriceBounds, PriceProcess, PutOption,
};
use duality_distdp::{
    solve, Method, RepresentationSpec, ReturnDistribution, SolveSpec, StockModel, StockPolicy,
};
use serde::Serialize;

use crate::output::{emit, Format};

/// Commands of the `distdp` area.
#[derive(Debug, Subcommand)]
pub enum DdpCommand {
    /// Optimise an objective of the return distribution of an MDP (TOML/JSON)
    /// by stock-augmented distributional dynamic programming.
    Solve(SolveArgs),
    /// Price a Bermudan put as an interval under an exercise rule fitted by
    /// Longstaff-Schwartz LSMC or trained as a neural stopping rule (MLP on
    /// time and price, or a CNN over the last returns; needs the `torch`
    /// build): the rule's out-of-sample value (lower), the Andersen-Broadie
    /// dual (upper) and a 95% interval, with lattice and Black-Scholes
    /// references.
    Price(PriceArgs),
    /// Train a stock-augmented deep distributional agent (QR-DQN or C51
    /// head over one-hot state, time and the stock; needs the `torch`
    /// build) for an objective on a finite-horizon MDP, and evaluate its
    /// executed policy exactly against the tabular DP optimum and the
    /// risk-neutral policy.
    Deep(DeepArgs),
    /// Dual RL from offline data on a tabular MDP (infinite horizon): f-DVL
    /// (chi-square or total variation), XQL's Gumbel loss, or ReCOIL
    /// imitation; the datasets are drawn from the MDP around its optimal
    /// (expert) policy, and the learned policy is valued exactly against
    /// the LP optimum.
    Offline(OfflineArgs),
    /// Deep Dual RL from offline data (needs the `torch` build): f-DVL
    /// (chi-square or total variation) or XQL's Gumbel loss on tch, trained
    /// on a 2-D point mass reaching a goal from mixed-quality offline data;
    /// reports the value-loss curve, whether the run diverged, and the
    /// learned policy's normalised return (uniform 0, scripted expert 1).
    DeepOffline(DeepOfflineArgs),
    /// Global vs episodic count-based exploration bonuses (and their
    /// product) for a tabular Q-learning agent in a contextual gridworld
    /// whose layout is redrawn every episode (Henaff et al. 2023).
    Explore(ExploreArgs),
    /// PPO vs Post-Decision PPO with dual critics (needs the `torch` build)
    /// on multi-item lot-sizing with stochastic demand: training-cost curves
    /// against environment steps and the final policies' costs on common
    /// evaluation episodes.
    LotSizing(LotSizingArgs),
}

/// Arguments of `duality ddp explore`.
#[derive(Debug, Args)]
pub struct ExploreArgs {
    /// none | global | episodic | product | all.
    #[arg(long, default_value = "all")]
    bonus: String,
    /// Shared structure in [0, 1]: probability that a wall cell or the goal
    /// keeps the base layout in a new episode.
    #[arg(long, default_value_t = 0.5)]
    shared: f64,
    /// Grid side.
    #[arg(long, default_value_t = 7)]
    size: usize,
    /// Wall density in [0, 1).
    #[arg(long, default_value_t = 0.2)]
    wall_density: f64,
    /// Steps per episode.
    #[arg(long, default_value_t = 40)]
    horizon: usize,
    /// Training episodes.
    #[arg(long, default_value_t = 1_000)]
    episodes: usize,
    /// Bonus scale.
    #[arg(long, default_value_t = 0.1)]
    beta: f64,
    /// Seed (the same grid and layouts for every bonus).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// One bonus's result in `duality ddp explore`.
#[derive(Debug, Serialize)]
struct ExploreRow {
    bonus: String,
    mean_return: f64,
    success_rate: f64,
}

/// What `duality ddp explore` reports.
#[derive(Debug, Serialize)]
struct ExploreReport {
    shared: f64,
    size: usize,
    episodes: usize,
    seed: u64,
    results: Vec<ExploreRow>,
}

fn explore(args: ExploreArgs) -> anyhow::Result<()> {
    use duality_distdp::explore::{run as run_explore, Bonus, ExploreParams};
    let bonuses: Vec<Bonus> = if args.bonus == "all" {
        Bonus::ALL.to_vec()
    } else {
        vec![args.bonus.parse()?]
    };
    let params = ExploreParams {
        size: args.size,
        wall_density: args.wall_density,
        shared: args.shared,
        horizon: args.horizon,
        episodes: args.episodes,
        beta: args.beta,
        ..ExploreParams::default()
    };
    params.validate()?;
    let mut results = Vec::new();
    for b in bonuses {
        let mut rng = duality_core::seed::Seeder::new(args.seed).rng(0);
        let r = run_explore(&params, b, &mut rng)?;
        results.push(ExploreRow {
            bonus: b.to_string(),
            mean_return: r.mean_return,
            success_rate: r.success_rate,
        });
    }
    let report = ExploreReport {
        shared: args.shared,
        size: args.size,
        episodes: args.episodes,
        seed: args.seed,
        results,
    };
    emit(args.format, &report, |r| {
        println!(
            "{}x{} contextual gridworld, shared structure {}, {} episodes, seed {}",
            r.size, r.size, r.shared, r.episodes, r.seed
        );
        for row in &r.results {
            println!(
                "  {:<9} mean return {:.4}  success rate {:.3}",
                row.bonus, row.mean_return, row.success_rate
            );
        }
    })
}

/// Arguments of `duality ddp offline`.
#[derive(Debug, Args)]
pub struct OfflineArgs {
    /// MDP file (.toml or .json), infinite horizon.
    #[arg(long)]
    mdp: PathBuf,
    /// fdvl (chi-square or --divergence tv) | xql (Gumbel loss) | recoil.
    #[arg(long, default_value = "fdvl")]
    algo: String,
    /// f-DVL divergence: chi-square | tv.
    #[arg(long, default_value = "chi-square")]
    divergence: String,
    /// Behaviour of the offline data: random | medium | suboptimal | expert
    /// (around the MDP's optimal policy).
    #[arg(long, default_value = "medium")]
    behaviour: String,
    /// Offline trajectories.
    #[arg(long, default_value_t = 100)]
    episodes: usize,
    /// Expert trajectories (added to the data; ReCOIL's demonstrations).
    #[arg(long, default_value_t = 5)]
    expert_episodes: usize,
    /// Steps per trajectory.
    #[arg(long, default_value_t = 30)]
    length: usize,
    /// f-DVL weight lambda in (0, 1), or XQL's temperature (> 0).
    #[arg(long, default_value_t = 0.95)]
    lambda: f64,
    /// f-DVL / XQL outer iterations.
    #[arg(long, default_value_t = 300)]
    iterations: usize,
    /// f-DVL / XQL value steps per iteration.
    #[arg(long, default_value_t = 20)]
    v_steps: usize,
    /// f-DVL / XQL step size of the value steps.
    #[arg(long, default_value_t = 0.5)]
    lr: f64,
    /// ReCOIL mixture weight beta in (0, 1).
    #[arg(long, default_value_t = 0.5)]
    beta: f64,
    /// Seed of the datasets.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// What `duality ddp offline` reports.
#[derive(Debug, Serialize)]
struct OfflineReport {
    mdp: String,
    algo: String,
    behaviour: String,
    transitions: usize,
    /// Exact value of the learned policy from a uniform start state.
    policy_value: f64,
    /// LP optimum (the expert's value) and the uniform policy's value.
    lp_optimum: f64,
    uniform_value: f64,
    /// (policy - uniform) / (optimum - uniform).
    normalised_return: f64,
    /// Behaviour cloning on the same data, normalised the same way.
    bc_normalised_return: f64,
    /// Whether every loss and value stayed finite.
    stable: bool,
    /// Loss per iteration (f-DVL / XQL) or per evaluation (ReCOIL).
    losses: Vec<f64>,
    policy: Vec<usize>,
}

fn offline(args: OfflineArgs) -> anyhow::Result<()> {
    use duality_distdp::dual_rl::{
        behaviour_cloning, fdvl, one_hot, policy_value, recoil, rollouts, Behaviour, FDivergence,
        FdvlParams, RecoilParams,
    };
    use duality_distdp::lp::solve_mdp_lp;
    let mdp = FiniteMdp::load(&args.mdp)?;
    let behaviour: Behaviour = args.behaviour.parse()?;
    // Every setting is checked before any data is drawn.
    enum Algo {
        Fdvl(FdvlParams),
        Recoil(RecoilParams),
    }
    let algo = match args.algo.as_str() {
        "fdvl" => {
            let div: FDivergence = args.divergence.parse()?;
            if div == FDivergence::Gumbel {
                anyhow::bail!("--divergence gumbel is --algo xql");
            }
            Algo::Fdvl(FdvlParams::new(
                div,
                args.lambda,
                args.iterations,
                args.v_steps,
                args.lr,
            )?)
        }
        "xql" => Algo::Fdvl(FdvlParams::new(
            FDivergence::Gumbel,
            args.lambda,
            args.iterations,
            args.v_steps,
            args.lr,
        )?),
        "recoil" => Algo::Recoil(RecoilParams::new(args.beta, 10_000)?),
        other => anyhow::bail!("unknown --algo {other:?}: expected fdvl | xql | recoil"),
    };
    if matches!(algo, Algo::Recoil(_)) && args.expert_episodes == 0 {
        anyhow::bail!("--algo recoil needs --expert-episodes >= 1");
    }
    for (flag, n) in [
        ("--episodes", args.episodes),
        ("--expert-episodes", args.expert_episodes),
    ] {
        duality_core::limits::product(&[(flag, n), ("--length", args.length)])?;
    }
    let (ns, na) = (mdp.n_states(), mdp.n_actions());
    let mu = vec![1.0 / ns as f64; ns];
    let lp = solve_mdp_lp(&mdp, &mu)?;
    let uniform_value = policy_value(&mdp, &vec![vec![1.0 / na as f64; na]; ns])?;
    let mut rng = duality_core::seed::Seeder::new(args.seed).rng(0);
    let rows = behaviour.policy(&lp.policy, na, &mut rng);
    let offline_data = if args.episodes > 0 {
        rollouts(&mdp, &rows, args.episodes, args.length, &mut rng)?
    } else {
        Vec::new()
    };
    let expert = if args.expert_episodes > 0 {
        rollouts(
            &mdp,
            &one_hot(&lp.policy, na),
            args.expert_episodes,
            args.length,
            &mut rng,
        )?
    } else {
        Vec::new()
    };
    let mut all = offline_data.concat();
    all.extend(expert.concat());
    if all.is_empty() {
        anyhow::bail!("no offline data: set --episodes or --expert-episodes above 0");
    }
    let (policy, losses, stable) = match &algo {
        Algo::Fdvl(p) => {
            let sol = fdvl(&mdp, &all, p)?;
            (sol.policy, sol.losses, sol.stable)
        }
        Algo::Recoil(p) => {
            let sol = recoil(&mdp, &expert, &offline_data, p)?;
            (sol.policy, sol.losses, true)
        }
    };
    let gap = lp.primal_objective - uniform_value;
    let norm = |v: f64| {
        if gap.abs() > 1e-12 {
            (v - uniform_value) / gap
        } else {
            1.0
        }
    };
    let value = policy_value(&mdp, &one_hot(&policy, na))?;
    let bc = policy_value(&mdp, &one_hot(&behaviour_cloning(ns, na, &all)?, na))?;
    // Losses of a diverged run end at the first non-finite one; JSON has
    // no NaN or inf, so the report keeps the finite prefix.
    let losses: Vec<f64> = losses.into_iter().take_while(|l| l.is_finite()).collect();
    let report = OfflineReport {
        mdp: mdp.name().to_string(),
        algo: match &algo {
            Algo::Fdvl(p) => format!("{} ({:?}, lambda {})", args.algo, p.divergence, p.lambda),
            Algo::Recoil(p) => format!("recoil (beta {})", p.beta),
        },
        behaviour: args.behaviour.clone(),
        transitions: all.len(),
        policy_value: value,
        lp_optimum: lp.primal_objective,
        uniform_value,
        normalised_return: norm(value),
        bc_normalised_return: norm(bc),
        stable,
        losses,
        policy,
    };
    emit(args.format, &report, |r| {
        println!(
            "{} on {} ({} transitions, {} behaviour + expert trajectories)",
            r.algo, r.mdp, r.transitions, r.behaviour
        );
        println!(
            "learned policy value {:.4} (LP optimum {:.4}, uniform {:.4}): normalised {:.3}",
            r.policy_value, r.lp_optimum, r.uniform_value, r.normalised_return
        );
        println!(
            "behaviour cloning on the same data: normalised {:.3}",
            r.bc_normalised_return
        );
        println!(
            "stable: {} ({} losses, last {:.4e})",
            r.stable,
            r.losses.len(),
            r.losses.last().copied().unwrap_or(0.0)
        );
        let acts: Vec<String> = r.policy.iter().map(|a| a.to_string()).collect();
        println!("policy: {}", acts.join(" "));
    })
}

/// Arguments of `duality ddp deep-offline`.
#[derive(Debug, Args)]
#[cfg_attr(not(duality_torch), allow(dead_code))]
pub struct DeepOfflineArgs {
    /// fdvl | xql | recoil (imitation: suboptimal data plus a few expert
    /// trajectories, no rewards used).
    #[arg(long, default_value = "fdvl")]
    algo: String,
    /// f-DVL's divergence: chi-square | total-variation; ReCOIL's value
    /// loss: chi-square | total-variation | gumbel.
    #[arg(long, default_value = "chi-square")]
    divergence: String,
    /// f-DVL's weight in (0, 1), or XQL's temperature (> 0).
    #[arg(long, default_value_t = 0.7)]
    lambda: f64,
    /// XQL (or ReCOIL with gumbel) only: the authors' stabilisers (clip
    /// z = d / lambda at this value and rescale by the batch maximum); off
    /// by default.
    #[arg(long)]
    gumbel_clip: Option<f64>,
    /// Offline data: random | medium | expert | mixed (default mixed); for
    /// recoil the suboptimal part, by default half uniform and half another
    /// task's medium policy.
    #[arg(long)]
    dataset: Option<String>,
    /// Offline episodes (recoil: suboptimal episodes).
    #[arg(long, default_value_t = 300)]
    episodes: usize,
    /// ReCOIL only: expert trajectories added to the data (default 5).
    #[arg(long)]
    expert_episodes: Option<usize>,
    /// Gradient steps.
    #[arg(long, default_value_t = 3_000)]
    steps: usize,
    /// Minibatch size.
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Adam learning rate of every network.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Evaluation episodes of the learned policy.
    #[arg(long, default_value_t = 200)]
    eval_episodes: usize,
    /// Seed of the data, the initialisation and the minibatches.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// One point of the `ddp deep-offline` loss curve.
#[cfg(duality_torch)]
#[derive(Debug, Serialize)]
struct DeepOfflinePoint {
    step: usize,
    /// Mean value loss over the interval (`null`: it overflowed).
    value_loss: Option<f64>,
    /// Mean critic loss over the interval (`null`: it overflowed).
    critic_loss: Option<f64>,
    v_mean: Option<f64>,
}

/// What `duality ddp deep-offline` reports.
#[cfg(duality_torch)]
#[derive(Debug, Serialize)]
struct DeepOfflineReport {
    algo: String,
    dataset: String,
    transitions: usize,
    steps: usize,
    seed: u64,
    stable: bool,
    /// The step at which the run diverged, if it did.
    diverged_at: Option<usize>,
    /// Normalised return of the learned policy (uniform 0, expert 1);
    /// absent when the run diverged.
    normalised_return: Option<f64>,
    /// The data's own normalised return.
    data_normalised_return: f64,
    /// ReCOIL only: expert transitions within `transitions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    expert_transitions: Option<usize>,
    /// ReCOIL only: behaviour cloning on all the data (same steps, batch
    /// and rate), the baseline of the imitation claim.
    #[serde(skip_serializing_if = "Option::is_none")]
    bc_normalised_return: Option<f64>,
    device: String,
    curve: Vec<DeepOfflinePoint>,
}

#[cfg(duality_torch)]
fn deep_offline(args: DeepOfflineArgs) -> anyhow::Result<()> {
    use duality_distdp::dual_rl::deep::{
        collect, normalised, reference_returns, train_deep_fdvl, Dataset, DeepFdvlParams, PointMass,
    };
    use duality_distdp::dual_rl::deep_recoil::{
        collect_suboptimal, concat, train_bc_on, train_deep_recoil, DeepRecoilParams,
    };
    use duality_distdp::dual_rl::FDivergence;
    let recoil = args.algo == "recoil";
    let divergence = match args.algo.as_str() {
        "fdvl" => {
            let div: FDivergence = args.divergence.parse()?;
            if div == FDivergence::Gumbel {
                anyhow::bail!("--divergence gumbel is --algo xql");
            }
            div
        }
        "xql" => FDivergence::Gumbel,
        "recoil" => args.divergence.parse()?,
        other => anyhow::bail!("unknown --algo {other:?}: expected fdvl | xql | recoil"),
    };
    if args.gumbel_clip.is_some() && divergence != FDivergence::Gumbel {
        anyhow::bail!("--gumbel-clip is for --algo xql (or recoil with --divergence gumbel) only");
    }
    if args.expert_episodes.is_some() && !recoil {
        anyhow::bail!("--expert-episodes is for --algo recoil only");
    }
    let dataset = args
        .dataset
        .as_deref()
        .map(|d| d.parse::<Dataset>())
        .transpose()?;
    let env = PointMass::standard();
    let seeder = duality_core::seed::Seeder::new(args.seed);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let (j_rand, j_exp) = reference_returns(&env, args.eval_episodes, seeder.seed_for(1))?;
    // Each branch checks its parameters before drawing any data.
    let (fit, data, expert_len, bc, data_label, algo_label) = if recoil {
        let mut params = DeepRecoilParams::new(args.steps, args.seed);
        params.dual.divergence = divergence;
        params.dual.lambda = args.lambda;
        params.dual.gumbel_clip = args.gumbel_clip;
        params.dual.batch = args.batch;
        params.dual.lr = args.lr;
        params.validate()?;
        let mut rng = seeder.rng(0);
        let sub = match dataset {
            Some(d) => collect(&env, d, args.episodes, &mut rng)?,
            None => collect_suboptimal(&env, args.episodes, &mut rng)?,
        };
        let n_expert = args.expert_episodes.unwrap_or(5);
        duality_core::check::at_least("expert episodes", n_expert, 1)?;
        let expert = collect(&env, Dataset::Expert, n_expert, &mut rng)?;
        let all = concat(&sub, &expert);
        let fit = train_deep_recoil(&env, &all, &expert, &params)?;
        let device = duality_core::tensor::default_device()?;
        let bc_fit = train_bc_on(
            &all,
            &params.dual.hidden,
            args.steps,
            args.batch,
            args.lr,
            seeder.seed_for(4),
            device,
        )?;
        let j = env.evaluate(|s| bc_fit.act(s), args.eval_episodes, &mut seeder.rng(3))?;
        let label = format!(
            "{} + {n_expert} expert episodes",
            dataset.map_or("suboptimal".to_string(), |d| d.to_string())
        );
        (
            fit,
            all,
            Some(expert.len()),
            Some(normalised(j, j_rand, j_exp)),
            label,
            format!("recoil ({divergence:?}, lambda {})", args.lambda),
        )
    } else {
        let mut params = DeepFdvlParams::new(divergence, args.lambda, args.steps, args.seed);
        params.gumbel_clip = args.gumbel_clip;
        params.batch = args.batch;
        params.lr = args.lr;
        params.validate()?;
        let dataset = dataset.unwrap_or(Dataset::Mixed);
        let data = collect(&env, dataset, args.episodes, &mut seeder.rng(0))?;
        let fit = train_deep_fdvl(&env, &data, &params)?;
        let algo = match divergence {
            FDivergence::Gumbel => format!(
                "xql (Gumbel, temperature {}{})",
                args.lambda,
                args.gumbel_clip
                    .map(|c| format!(", clip {c}"))
                    .unwrap_or_default()
            ),
            d => format!("fdvl ({d:?}, lambda {})", args.lambda),
        };
        (fit, data, None, None, dataset.to_string(), algo)
    };
    let data_return = mean(&data.episode_returns);
    let normalised_return = if fit.stable() {
        let j = env.evaluate(|s| fit.act(s), args.eval_episodes, &mut seeder.rng(3))?;
        Some(normalised(j, j_rand, j_exp))
    } else {
        None
    };
    let finite = |v: f64| v.is_finite().then_some(v);
    let report = DeepOfflineReport {
        algo: algo_label,
        dataset: data_label,
        transitions: data.len(),
        steps: args.steps,
        seed: args.seed,
        stable: fit.stable(),
        diverged_at: fit.diverged_at,
        normalised_return,
        data_normalised_return: normalised(data_return, j_rand, j_exp),
        expert_transitions: expert_len,
        bc_normalised_return: bc,
        device: fit.device.clone(),
        curve: fit
            .curve
            .iter()
            .map(|p| DeepOfflinePoint {
                step: p.step,
                value_loss: finite(p.value_loss),
                critic_loss: finite(p.critic_loss),
                v_mean: finite(p.v_mean),
            })
            .collect(),
    };
    emit(args.format, &report, |r| {
        println!(
            "{} on the point mass, {} data ({} transitions), {} steps, seed {}, trained on {}",
            r.algo, r.dataset, r.transitions, r.steps, r.seed, r.device
        );
        match (r.diverged_at, r.normalised_return) {
            (Some(step), _) => {
                println!("DIVERGED at step {step} (non-finite loss or |V| out of range)")
            }
            (None, Some(v)) => println!(
                "stable; learned policy normalised return {v:.3} (the data's own {:.3})",
                r.data_normalised_return
            ),
            (None, None) => println!("stable"),
        }
        if let Some(b) = r.bc_normalised_return {
            println!("behaviour cloning on all the data: normalised return {b:.3}");
        }
        println!(
            "{:>8} {:>14} {:>14} {:>10}",
            "step", "value loss", "critic loss", "mean V"
        );
        let show = |v: Option<f64>| v.map_or("overflow".to_string(), |v| format!("{v:.4e}"));
        for p in &r.curve {
            println!(
                "{:>8} {:>14} {:>14} {:>10}",
                p.step,
                show(p.value_loss),
                show(p.critic_loss),
                p.v_mean
                    .map_or("overflow".to_string(), |v| format!("{v:.3}"))
            );
        }
    })
}

#[cfg(not(duality_torch))]
fn deep_offline(_args: DeepOfflineArgs) -> anyhow::Result<()> {
    anyhow::bail!(
        "ddp deep-offline needs the torch build of duality (`duality-torch`: cargo build -p duality-torch)"
    )
}

/// Arguments of `duality ddp deep`.
#[derive(Debug, Args)]
#[cfg_attr(not(duality_torch), allow(dead_code))]
pub struct DeepArgs {
    /// MDP file (.toml or .json); it needs a finite horizon (or --horizon).
    #[arg(long)]
    mdp: PathBuf,
    /// Objective, by name from the objective registry: cvar:ALPHA |
    /// expectation | mean | utility:exp:LAMBDA | threshold:X |
    /// homeostatic:X | entropic:LAMBDA.
    #[arg(long, default_value = "cvar:0.1")]
    objective: String,
    /// Distributional head: qr (QR-DQN, 32 quantiles) or c51 (51 atoms).
    #[arg(long, default_value = "qr")]
    head: String,
    /// Environment steps of training (one gradient step each).
    #[arg(long, default_value_t = 5_000)]
    steps: usize,
    /// Seed of the initialisation, exploration, replay and environment.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Horizon to impose on an infinite-horizon MDP file (its discount kept).
    #[arg(long)]
    horizon: Option<usize>,
    /// Save the trained network here (libtorch VarStore format).
    #[arg(long)]
    save: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Arguments of `duality ddp solve`.
#[derive(Debug, Args)]
pub struct SolveArgs {
    /// MDP file (.toml or .json).
    #[arg(long)]
    mdp: PathBuf,
    /// Objective, by name from the objective registry: expectation | mean |
    /// cvar:ALPHA | utility:exp:LAMBDA | threshold:X | homeostatic:X |
    /// entropic:LAMBDA | mean-variance:LAMBDA (refused).
    #[arg(long, default_value = "expectation")]
    objective: String,
    /// exact | exact:BUDGET | categorical:N | quantile:N
    #[arg(long, default_value = "exact")]
    representation: String,
    /// Stock model: grid:BUCKETS (over the return range), grid:LO:HI:BUCKETS,
    /// or exact (finite horizon only).
    #[arg(long, default_value = "grid:101")]
    stock: String,
    /// value-iteration | policy-iteration (grid stock, infinite horizon).
    #[arg(long, default_value = "value-iteration")]
    method: String,
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
    /// Exercise rule: lsmc (Longstaff-Schwartz), neural-mlp (an MLP on time
    /// and price) or neural-cnn (a 1-D CNN over the last --window
    /// log-returns); the neural rules are trained by deep optimal stopping
    /// (Becker-Cheridito-Jentzen) and need the `torch` build.
    #[arg(long, default_value = "lsmc")]
    method: String,
    /// Number of Monte Carlo training paths of LSMC.
    #[arg(long, default_value_t = 100_000)]
    paths: usize,
    /// Neural rules: Adam steps, each on fresh simulated paths.
    #[arg(long, default_value_t = 1_000)]
    train_steps: usize,
    /// Neural rules: fresh paths per training step.
    #[arg(long, default_value_t = 1_024)]
    batch_paths: usize,
    /// Neural rules: learning rate.
    #[arg(long, default_value_t = 5e-3)]
    lr: f64,
    /// neural-cnn: number of past log-returns the network sees.
    #[arg(long, default_value_t = 10)]
    window: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Regression basis: laguerre:DEGREE or poly:DEGREE.
    #[arg(long, default_value = "laguerre:2")]
    basis: String,
    /// Price process: gbm, or ar1:PHI (AR(1) log-returns, |PHI| < 1; the
    /// lattice and Black-Scholes references are then GBM's, for comparison).
    #[arg(long, default_value = "gbm")]
    process: String,
    /// Fresh paths for the out-of-sample lower bound.
    #[arg(long, default_value_t = 100_000)]
    lower_paths: usize,
    /// Outer paths of the Andersen-Broadie dual upper bound.
    #[arg(long, default_value_t = 500)]
    outer_paths: usize,
    /// Nested paths per conditional expectation of the dual.
    #[arg(long, default_value_t = 100)]
    inner_paths: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Runs one `distdp` command.
pub fn run(cmd: DdpCommand) -> anyhow::Result<()> {
    match cmd {
        DdpCommand::Solve(args) => solve_mdp(args),
        DdpCommand::Price(args) => price(args),
        DdpCommand::Deep(args) => deep(args),
        DdpCommand::Offline(args) => offline(args),
        DdpCommand::DeepOffline(args) => deep_offline(args),
        DdpCommand::Explore(args) => explore(args),
        DdpCommand::LotSizing(args) => lot_sizing(args),
    }
}

/// What `duality ddp deep` reports.
#[cfg(duality_torch)]
#[derive(Debug, Serialize)]
struct DeepReport {
    mdp: String,
    objective: String,
    head: String,
    steps: usize,
    seed: u64,
    /// The objective on the exact return law of the executed policy.
    objective_value: f64,
    /// The stock-augmented DP optimum (exact stock model).
    dp_optimum: f64,
    /// The objective on the exact law of the tabular risk-neutral policy.
    risk_neutral_value: f64,
    /// The network's own prediction at the start.
    predicted_value: f64,
    initial_stock: f64,
    mean_return: f64,
    tail_loss: f64,
    episodes: usize,
    device: String,
}

#[cfg(duality_torch)]
fn deep(args: DeepArgs) -> anyhow::Result<()> {
    use duality_distdp::deep::{
        evaluate_mdp, tabular_references, train, with_horizon, DeepParams, Head, MdpEnv,
    };
    let objective: Objective = args.objective.parse()?;
    let head: Head = args.head.parse()?;
    let mut params = DeepParams::new(head, args.steps, args.seed);
    params.lr = args.lr;
    params.validate()?;
    let mut mdp = FiniteMdp::load(&args.mdp)?;
    if let Some(h) = args.horizon {
        mdp = with_horizon(&mdp, h, mdp.gamma())?;
    }
    let env = MdpEnv::new(mdp)?;
    let (dp_optimum, risk_neutral_value) = tabular_references(env.mdp(), &objective)?;
    let progress = duality_core::progress::Progress::new(args.steps as u64, "train");
    let fit = train(&env, &objective, &params, &progress)?;
    progress.finish();
    if let Some(path) = &args.save {
        save_atomic(fit.agent.var_store(), path)?;
    }
    let ev = evaluate_mdp(&fit.agent, &env)?;
    let report = DeepReport {
        mdp: env.mdp().name().to_string(),
        objective: objective.to_string(),
        head: head.to_string(),
        steps: args.steps,
        seed: args.seed,
        objective_value: ev.objective_value,
        dp_optimum,
        risk_neutral_value,
        predicted_value: ev.predicted_value,
        initial_stock: ev.initial_stock,
        mean_return: ev.mean_return,
        tail_loss: fit.tail_loss,
        episodes: fit.episodes,
        device: fit.device,
    };
    emit(args.format, &report, |r| {
        println!(
            "deep agent ({} head, {} steps, seed {}) on {} for {}, trained on {}",
            r.head, r.steps, r.seed, r.mdp, r.objective, r.device
        );
        println!(
            "executed policy (exact law): {:.4}  (network's prediction {:.4}, initial stock {:.4}, mean return {:.4})",
            r.objective_value, r.predicted_value, r.initial_stock, r.mean_return
        );
        println!("stock-augmented DP optimum: {:.4}", r.dp_optimum);
        println!("risk-neutral greedy policy: {:.4}", r.risk_neutral_value);
    })
}

/// Saves a checkpoint atomically (issue 25): libtorch writes a temporary
/// file beside `path`, which is renamed into place only once complete, so
/// an interrupted save never leaves a truncated checkpoint.
#[cfg(duality_torch)]
fn save_atomic(
    vs: &duality_core::tensor::tch::nn::VarStore,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| anyhow::anyhow!("--save {}: expected a file name", path.display()))?;
    if path.is_dir() {
        anyhow::bail!("--save {}: a folder, expected a file name", path.display());
    }
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let saved = duality_core::tensor::save_checkpoint(vs, &tmp)
        .map_err(anyhow::Error::from)
        .and_then(|()| {
            std::fs::rename(&tmp, path)
                .map_err(|e| anyhow::anyhow!("--save {}: {e}", path.display()))
        });
    if saved.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    saved
}

#[cfg(not(duality_torch))]
fn deep(_args: DeepArgs) -> anyhow::Result<()> {
    anyhow::bail!(
        "ddp deep needs the torch build of duality (`duality-torch`: cargo build -p duality-torch)"
    )
}

#[derive(Debug, Serialize)]
struct SolveReport {
    mdp: String,
    objective: String,
    representation: String,
    stock: String,
    method: String,
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
    /// Exact policy entries `{t, state, stock, action}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    exact_policy: Option<Vec<ExactPolicyEntry>>,
}

fn solve_mdp(args: SolveArgs) -> anyhow::Result<()> {
    let mdp = FiniteMdp::load(&args.mdp)?;
    let objective: Objective = args.objective.parse()?;
    let representation = args
        .representation
        .parse::<RepresentationSpec>()?
        .resolve(&mdp)?;
    let stock: StockModel = args.stock.parse()?;
    let method: Method = args.method.parse()?;
    let spec = SolveSpec::new(objective, stock, representation)?
        .with_method(method)
        .with_iteration(IterParams::new(args.tol, args.max_iter)?);
    let sol = solve(&mdp, &spec)?;
    let (stock_values, policy, exact_policy) = match &sol.policy {
        StockPolicy::Grid(g) => (
            Some(g.policy.grid().values()),
            g.policy.actions().first().cloned(),
            None,
        ),
        StockPolicy::Exact(p) => (None, None, Some(p.entries())),
        // A future stock model: report what every solution has.
        _ => (None, None, None),
    };
    let report = SolveReport {
        mdp: mdp.name().to_string(),
        objective: args.objective.clone(),
        representation: args.representation.clone(),
        stock: args.stock.clone(),
        method: method.to_string(),
        value: sol.value,
        initial_stock: sol.initial_stock,
        iterations: sol.iterations,
        converged: sol.converged,
        start_mean: sol.law.mean(),
        start_atoms: sol.law.len(),
        stock_values,
        policy,
        exact_policy,
    };
    emit(args.format, &report, |r| {
        println!(
            "MDP {} | objective {} | representation {} | stock {} | method {}",
            r.mdp, r.objective, r.representation, r.stock, r.method
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
            for e in entries {
                println!(
                    "  t {} state {} stock {:.6} -> {}",
                    e.t, e.state, e.stock, e.action
                );
            }
        }
    })
}

#[derive(Debug, Serialize)]
struct PriceReport {
    option: PutOption,
    process: String,
    /// lsmc | neural-mlp | neural-cnn.
    method: String,
    exercise_dates: usize,
    /// Training paths (LSMC: the regression's; neural: steps x batch).
    paths: usize,
    seed: u64,
    /// In-sample LSMC price on the training paths, with its CI (LSMC only).
    #[serde(skip_serializing_if = "Option::is_none")]
    lsmc_price: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    std_error: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ci_low: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ci_high: Option<f64>,
    /// Neural rules: the soft stopped payoff (training objective), mean
    /// over the last tenth of the steps, and the device trained on.
    #[serde(skip_serializing_if = "Option::is_none")]
    train_objective: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<String>,
    /// Out-of-sample value of the LSMC rule (lower bound).
    lower: f64,
    lower_std_error: f64,
    /// Andersen-Broadie dual value (upper bound).
    upper: f64,
    upper_std_error: f64,
    /// 95% interval for the price.
    interval_low: f64,
    interval_high: f64,
    duality_gap: f64,
    lattice_bermudan: f64,
    lattice_american: f64,
    european_black_scholes: f64,
}

/// Refuses `--rate`, `--sigma` and `--maturity` values whose `n`-step
/// binomial lattice (the CRR reference) breaks, naming the flags and the
/// values as typed (issue 25: `--rate 1e308` was reported as "invalid
/// steps = 2000", a number the user never typed). With `dt = T / n`,
/// `u = e^{sigma sqrt(dt)}` must stay finite and the risk-neutral
/// probability `(e^{r dt} - 1/u) / (u - 1/u)` lies in `[0, 1]` exactly when
/// `|r| dt <= sigma sqrt(dt)`.
fn check_lattice_inputs(args: &PriceArgs, option: &PutOption, n: usize) -> anyhow::Result<()> {
    let num = duality_core::error::short_number;
    let dt = option.maturity / n.max(1) as f64;
    let up = option.sigma * dt.sqrt();
    if !(up.is_finite() && up <= 700.0) {
        anyhow::bail!(
            "invalid --maturity {} with --sigma {}: expected a maturity and volatility whose \
             {n}-step binomial lattice reference stays finite (sigma x sqrt(maturity / {n}) = {} \
             exceeds 700, e^700 is near the largest double): a shorter --maturity or a smaller \
             --sigma",
            num(args.maturity),
            num(args.sigma),
            num(up)
        );
    }
    let drift = option.rate * dt;
    if !(drift.is_finite() && drift.abs() <= up) {
        anyhow::bail!(
            "invalid --rate {} with --sigma {} and --maturity {}: expected |rate| x maturity / {n} \
             (here {}) at most sigma x sqrt(maturity / {n}) (here {}), so that the {n}-step \
             binomial lattice reference has a risk-neutral probability in [0, 1]: a smaller \
             --rate or a larger --sigma",
            num(args.rate),
            num(args.sigma),
            num(args.maturity),
            num(drift.abs()),
            num(up)
        );
    }
    Ok(())
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
    let basis: Basis = args.basis.parse()?;
    let params = LsmcParams::default()
        .exercise_dates(args.steps)
        .paths(args.paths)
        .seed(args.seed)
        .basis(basis);
    // Every size is checked before anything is simulated (issue 25).
    params.validate()?;
    // Lower bound and dual from streams of a seed apart from the training one.
    let dual = DualParams::new(
        args.lower_paths,
        args.outer_paths,
        args.inner_paths,
        args.seed.wrapping_add(1),
    )?;
    let process: PriceProcess = args.process.parse()?;
    // The lattice references first: an input whose lattice breaks is named
    // by its flags before anything is simulated (issue 25).
    let lattice_steps = (2000 / args.steps.max(1)).max(1) * args.steps;
    check_lattice_inputs(&args, &option, lattice_steps.min(2000))?;
    let lattice_bermudan = binomial_price(
        &option,
        Exercise::Bermudan { dates: args.steps },
        lattice_steps,
    )?;
    let lattice_american = binomial_price(&option, Exercise::American, 2000)?;
    let fitted = match args.method.as_str() {
        "lsmc" => {
            let interval = price_interval(&option, &process, &params, &dual)?;
            let mc = interval.fit.in_sample;
            Fitted {
                bounds: interval.bounds,
                paths: mc.paths,
                in_sample: Some(mc),
                train_objective: None,
                device: None,
            }
        }
        "neural-mlp" | "neural-cnn" => neural(&args, &option, &process, &dual)?,
        other => {
            anyhow::bail!("unknown --method {other:?}: expected lsmc | neural-mlp | neural-cnn")
        }
    };
    let b = fitted.bounds;
    let mc = fitted.in_sample;
    let report = PriceReport {
        option,
        process: process.to_string(),
        method: args.method.clone(),
        exercise_dates: args.steps,
        paths: fitted.paths,
        seed: args.seed,
        lsmc_price: mc.map(|m| m.price),
        std_error: mc.map(|m| m.std_error),
        ci_low: mc.map(|m| m.ci_low),
        ci_high: mc.map(|m| m.ci_high),
        train_objective: fitted.train_objective,
        device: fitted.device,
        lower: b.lower.price,
        lower_std_error: b.lower.std_error,
        upper: b.upper.price,
        upper_std_error: b.upper.std_error,
        interval_low: b.ci_low,
        interval_high: b.ci_high,
        duality_gap: b.gap,
        lattice_bermudan,
        lattice_american,
        european_black_scholes: black_scholes_put(&option)?,
    };
    emit(args.format, &report, |r| {
        println!("process: {} | rule: {}", r.process, r.method);
        println!(
            "price interval (95%): {:.4} .. {:.4}  (lower {:.4} se {:.4}; dual upper {:.4} se {:.4}; gap {:.4})",
            r.interval_low, r.interval_high, r.lower, r.lower_std_error, r.upper, r.upper_std_error,
            r.duality_gap
        );
        if let (Some(p), Some(lo), Some(hi), Some(se)) =
            (r.lsmc_price, r.ci_low, r.ci_high, r.std_error)
        {
            println!(
                "LSMC in-sample price: {p:.4} (95% CI {lo:.4} .. {hi:.4}; se {se:.4}; {} paths, {} dates)",
                r.paths, r.exercise_dates
            );
        }
        if let (Some(obj), Some(dev)) = (r.train_objective, &r.device) {
            println!(
                "training objective (soft stopped payoff, last tenth of the steps): {obj:.4} on {dev} ({} paths, {} dates)",
                r.paths, r.exercise_dates
            );
        }
        println!(
            "lattice Bermudan ({} dates): {:.4}",
            r.exercise_dates, r.lattice_bermudan
        );
        println!("lattice American: {:.4}", r.lattice_american);
        println!("European (Black-Scholes): {:.4}", r.european_black_scholes);
    })
}

/// What the chosen rule gives the report.
struct Fitted {
    bounds: PriceBounds,
    paths: usize,
    in_sample: Option<McPrice>,
    train_objective: Option<f64>,
    device: Option<String>,
}

#[cfg(duality_torch)]
fn neural(
    args: &PriceArgs,
    option: &PutOption,
    process: &PriceProcess,
    dual: &DualParams,
) -> anyhow::Result<Fitted> {
    use duality_distdp::stopping::{neural_price_interval, NeuralStopParams, StoppingNet};
    let net = if args.method == "neural-cnn" {
        StoppingNet::cnn(args.window)
    } else {
        StoppingNet::mlp()
    };
    let params = NeuralStopParams::new(
        net,
        args.steps,
        args.batch_paths,
        args.train_steps,
        args.lr,
        args.seed,
    )?;
    let progress = duality_core::progress::Progress::new(args.train_steps as u64, "train");
    let iv = neural_price_interval(option, process, &params, dual, &progress)?;
    progress.finish();
    Ok(Fitted {
        bounds: iv.bounds,
        paths: args
            .train_steps
            .saturating_mul(args.batch_paths.div_ceil(2) * 2),
        in_sample: None,
        train_objective: Some(iv.fit.tail_objective),
        device: Some(iv.fit.device),
    })
}

#[cfg(not(duality_torch))]
fn neural(
    args: &PriceArgs,
    _option: &PutOption,
    _process: &PriceProcess,
    _dual: &DualParams,
) -> anyhow::Result<Fitted> {
    anyhow::bail!(
        "--method {} needs the torch build of duality (`duality-torch`: cargo build -p duality-torch)",
        args.method
    )
}

/// Arguments of `duality ddp lot-sizing`.
#[derive(Debug, Args)]
#[cfg_attr(not(duality_torch), allow(dead_code))]
pub struct LotSizingArgs {
    /// ppo | pdppo | both.
    #[arg(long, default_value = "both")]
    algo: String,
    /// A lot-sizing instance (TOML, the fields of `LotSizingConfig`);
    /// default: 3 items, 2 machines, 20 periods, binomial demand.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Updates (each collects `--envs` episodes).
    #[arg(long, default_value_t = 60)]
    updates: usize,
    /// Episodes per update.
    #[arg(long, default_value_t = 16)]
    envs: usize,
    /// Full-batch epochs per update.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// GAE lambda (1: Monte Carlo returns).
    #[arg(long, default_value_t = 0.95)]
    lambda: f64,
    /// Evaluation episodes of the final policies (the same for each).
    #[arg(long, default_value_t = 200)]
    eval_episodes: usize,
    /// Seed of the initialisation, actions, starts and demands.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// One learner of `ddp lot-sizing`.
#[cfg(duality_torch)]
#[derive(Debug, Serialize)]
struct LotSizingRow {
    algo: String,
    /// Mean training-episode cost after each update, against environment steps.
    curve: Vec<duality_distdp::lot_sizing::ppo::CurvePoint>,
    /// The final policy's mean episode cost, actions sampled.
    final_cost: f64,
    /// The same with greedy actions.
    greedy_cost: f64,
    device: String,
}

/// What `duality ddp lot-sizing` reports.
#[cfg(duality_torch)]
#[derive(Debug, Serialize)]
struct LotSizingReport {
    items: usize,
    machines: usize,
    horizon: usize,
    seed: u64,
    eval_episodes: usize,
    /// The uniform random policy's mean episode cost on the same episodes.
    random_cost: f64,
    results: Vec<LotSizingRow>,
}

#[cfg(duality_torch)]
fn lot_sizing(args: LotSizingArgs) -> anyhow::Result<()> {
    use duality_core::progress::Progress;
    use duality_distdp::lot_sizing::ppo::{random_policy_cost, train, Algo, PpoParams};
    use duality_distdp::lot_sizing::{LotSizing, LotSizingConfig};
    let env = match &args.config {
        Some(path) => LotSizing::load(path)?,
        None => LotSizing::new(LotSizingConfig::default())?,
    };
    let algos: Vec<Algo> = if args.algo.trim().eq_ignore_ascii_case("both") {
        Algo::ALL.to_vec()
    } else {
        vec![args.algo.parse()?]
    };
    duality_core::check::at_least("--eval-episodes", args.eval_episodes, 1)?;
    let params_for = |algo| PpoParams {
        envs: args.envs,
        epochs: args.epochs,
        lambda: args.lambda,
        ..PpoParams::new(algo, args.updates, args.seed)
    };
    for &algo in &algos {
        params_for(algo).validate()?;
    }
    let mut results = Vec::new();
    for algo in algos {
        let progress = Progress::new(args.updates as u64, &format!("lot-sizing {algo}"));
        let fit = train(&env, &params_for(algo), &progress)?;
        progress.finish();
        results.push(LotSizingRow {
            algo: algo.to_string(),
            final_cost: fit.policy.evaluate_sampled(args.eval_episodes, args.seed)?,
            greedy_cost: fit.policy.evaluate(args.eval_episodes, args.seed)?,
            curve: fit.curve,
            device: fit.device,
        });
    }
    let random_cost = random_policy_cost(&env, args.eval_episodes, args.seed)?;
    let report = LotSizingReport {
        items: env.items(),
        machines: env.machines(),
        horizon: env.horizon(),
        seed: args.seed,
        eval_episodes: args.eval_episodes,
        random_cost,
        results,
    };
    emit(args.format, &report, |r| {
        println!(
            "lot-sizing: {} items, {} machines, {} periods, seed {}; mean episode cost over {} \
             evaluation episodes (uniform random policy {:.2})",
            r.items, r.machines, r.horizon, r.seed, r.eval_episodes, r.random_cost
        );
        for row in &r.results {
            let first = row.curve.first().map(|c| c.cost).unwrap_or(f64::NAN);
            let last = row.curve.last().map(|c| c.cost).unwrap_or(f64::NAN);
            let steps = row.curve.last().map(|c| c.steps).unwrap_or(0);
            println!(
                "  {:<6} final cost {:.2} (greedy {:.2}); training cost {:.2} -> {:.2} over {} \
                 steps on {}",
                row.algo, row.final_cost, row.greedy_cost, first, last, steps, row.device
            );
        }
    })
}

#[cfg(not(duality_torch))]
fn lot_sizing(_args: LotSizingArgs) -> anyhow::Result<()> {
    anyhow::bail!("ddp lot-sizing needs the torch build of duality (`duality-torch`: cargo build -p duality-torch)")
}
