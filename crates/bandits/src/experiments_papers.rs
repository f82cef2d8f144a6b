//! Bench experiments of issue #17's papers (a submodule of
//! [`super`], sharing its parameter and headline helpers):
//! `portfolio-ensemble` (Lam 2024), `private-counting` and `private-ucb`
//! (differential privacy under continual observation), `fair-learning`
//! (individually fair learning with one-sided feedback).

use duality_core::check;
use duality_core::config::Validate;
use duality_core::record::RunRecord;
use duality_eval::plot::{LineChart, Series};
use serde::{Deserialize, Serialize};

use super::{headline, params};
use crate::analysis::MeanSe;
use crate::continual::{private_counts, Mechanism, PrivateUcb};
use crate::fairness::{run_fair, threshold_class, FairLearner, FairRun, FairnessEnv};
use crate::portfolio::{compare, Market, PERIODS_PER_YEAR};
use duality_bench::{Context, Figure, Outcome};

/// Parameters of `portfolio-ensemble`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PortfolioParams {
    /// Trading days per market.
    periods: usize,
    /// Assets per market.
    assets: usize,
    /// Proportional transaction cost in [0, 1).
    cost: f64,
}

impl Validate for PortfolioParams {
    fn validate(&self) -> duality_core::Result<()> {
        check::at_least("periods", self.periods, 50)?;
        check::at_least("assets", self.assets, 2)?;
        if !(self.cost.is_finite() && (0.0..1.0).contains(&self.cost)) {
            return Err(duality_core::Error::config(
                "cost",
                format!("must be in [0, 1), got {}", self.cost),
            ));
        }
        Ok(())
    }
}

const MARKETS: [&str; 3] = ["gbm", "mean-reverting", "regime-switching"];
const BEST_CRP: &str = "best-crp (hindsight)";

/// One strategy's (name, log-wealth, annualised growth, max drawdown,
/// turnover) on one market.
type StrategyRow = (String, f64, f64, f64, f64);

/// One seed's cell: per market, per strategy.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PortfolioCell {
    markets: Vec<Vec<StrategyRow>>,
}

/// Lam (2024): the ensemble tracks the best base strategy in every market
/// type, better than any single base strategy does across all of them.
pub(super) fn portfolio_ensemble(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: PortfolioParams = params(ctx)?;
    let cells = ctx.per_seed(|seed| {
        let s = ctx.seeder.seed_for(seed);
        let markets = MARKETS
            .iter()
            .map(|kind| {
                let market = Market::synthetic(kind, p.assets, p.periods, s)?;
                Ok(compare(&market, p.cost, s)?
                    .into_iter()
                    .map(|r| {
                        (
                            r.strategy,
                            r.log_wealth,
                            r.annualised_growth,
                            r.max_drawdown,
                            r.turnover,
                        )
                    })
                    .collect())
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(PortfolioCell { markets })
    })?;
    let years = p.periods as f64 / PERIODS_PER_YEAR;
    let names: Vec<String> = cells[0].markets[0].iter().map(|r| r.0.clone()).collect();
    let n_base = names.len() - 3; // bases, then best-crp, ensemble, ensemble-leader
    let mut out = Outcome::default();
    // gaps[market][strategy] = per-seed (best base log-wealth - its own) / years.
    let mut gaps: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); names.len()]; MARKETS.len()];
    for (cell, &seed) in cells.iter().zip(&ctx.seeds) {
        for (mi, rows) in cell.markets.iter().enumerate() {
            let best = rows[..n_base]
                .iter()
                .map(|r| r.1)
                .fold(f64::NEG_INFINITY, f64::max);
            for (si, r) in rows.iter().enumerate() {
                gaps[mi][si].push((best - r.1) / years);
                out.records.push(
                    RunRecord::new(r.0.clone(), MARKETS[mi], seed)
                        .with_metric("log_wealth", r.1)
                        .with_metric("annualised_growth", r.2)
                        .with_metric("max_drawdown", r.3)
                        .with_metric("turnover", r.4),
                );
            }
        }
    }
    // Worst market (largest mean gap) per strategy.
    let worst: Vec<(usize, MeanSe)> = (0..names.len())
        .map(|si| {
            (0..MARKETS.len())
                .map(|mi| (mi, MeanSe::of(&gaps[mi][si])))
                .max_by(|a, b| a.1.mean.total_cmp(&b.1.mean))
                .unwrap_or((0, MeanSe { mean: 0.0, se: 0.0 }))
        })
        .collect();
    for (mi, market) in MARKETS.iter().enumerate() {
        let mut line = format!("{market}: annual log-wealth gap to the best base strategy (mean +- 95% CI over {} seeds):", ctx.seeds.len());
        for (si, name) in names.iter().enumerate() {
            let g = MeanSe::of(&gaps[mi][si]);
            line.push_str(&format!(" {name} {:.3} +- {:.3};", g.mean, 1.96 * g.se));
        }
        out.notes.push(line);
        for name in ["ensemble", "ensemble-leader"] {
            let si = names.iter().position(|n| n == name).unwrap_or(0);
            out.headlines.push(headline(
                format!("{market}: {name} annual log-wealth gap to best base"),
                MeanSe::of(&gaps[mi][si]).mean,
                3,
            ));
        }
    }
    let best_base = (0..n_base)
        .min_by(|&a, &b| worst[a].1.mean.total_cmp(&worst[b].1.mean))
        .unwrap_or(0);
    for (si, name) in names.iter().enumerate() {
        if name == BEST_CRP {
            continue;
        }
        out.headlines.push(headline(
            format!("worst-market annual gap: {name}"),
            worst[si].1.mean,
            3,
        ));
    }
    for name in ["ensemble", "ensemble-leader"] {
        let si = names.iter().position(|n| n == name).unwrap_or(0);
        let (e, b) = (worst[si].1, worst[best_base].1);
        let z = e.welch_z(&b);
        let held = e.mean < b.mean && z < -1.96;
        out.notes.push(format!(
            "Claim (Lam 2024): the ensemble tracks the best base strategy in every market type, better than any single base strategy does across all of them. \
             {name}: worst-market annual log-wealth gap {:.3} +- {:.3} ({}), the most robust base strategy {} has {:.3} +- {:.3} ({}); Welch z = {z:.2}: {}.",
            e.mean,
            1.96 * e.se,
            MARKETS[worst[si].0],
            names[best_base],
            b.mean,
            1.96 * b.se,
            MARKETS[worst[best_base].0],
            if held { "HELD on this run" } else if e.mean < b.mean { "smaller but NOT significant on this run" } else { "NOT held on this run" }
        ));
    }
    // Figure: worst-market gap per strategy (bars as a line over strategy index).
    let file = "bandits_portfolio_ensemble.svg";
    let series: Vec<Series> = MARKETS
        .iter()
        .enumerate()
        .map(|(mi, market)| {
            Series::new(
                market.to_string(),
                (0..names.len())
                    .map(|si| (si as f64, MeanSe::of(&gaps[mi][si]).mean))
                    .collect(),
            )
        })
        .collect();
    LineChart::new(
        format!(
            "annual log-wealth gap to the best base, strategies 0..{}: {}",
            names.len() - 1,
            names.join(", ")
        ),
        "strategy index",
        "gap (per year)",
    )
    .markers(true)
    .draw(ctx.figure_dir.join(file), &series)?;
    out.figures.push(Figure {
        title: "Annual log-wealth gap to the best base strategy, per market".into(),
        file: file.into(),
    });
    out.notes.push(format!(
        "{} assets, {} trading days ({years:.1} years), transaction cost {}; bases: {}; best-crp sees the future (reference only, may be negative gap).",
        p.assets,
        p.periods,
        p.cost,
        names[..n_base].join(", ")
    ));
    Ok(out)
}

/// Parameters of `private-counting`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PrivateCountingParams {
    /// Stream lengths T (increasing).
    horizons: Vec<usize>,
    /// Streams per (seed, T, mechanism).
    runs: usize,
    /// Privacy budget.
    epsilon: f64,
    /// The delta of the Gaussian mechanisms.
    delta: f64,
}

impl Validate for PrivateCountingParams {
    fn validate(&self) -> duality_core::Result<()> {
        check::non_empty("horizons", &self.horizons)?;
        for (i, &t) in self.horizons.iter().enumerate() {
            check::at_least(&format!("horizons[{i}]"), t, 2)?;
        }
        check::at_least("runs", self.runs, 1)?;
        check::positive("epsilon", self.epsilon)?;
        check::open_unit("delta", self.delta)
    }
}

const MECHANISMS: [Mechanism; 3] = [
    Mechanism::TreeLaplace,
    Mechanism::TreeGaussian,
    Mechanism::Factorization,
];

/// Continual counting: empirical max error over T of the tree (Laplace,
/// Gaussian) and square-root factorisation mechanisms against the analytic
/// error; claim: the factorisation's error has the smaller constant.
pub(super) fn private_counting(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: PrivateCountingParams = params(ctx)?;
    // cells[seed][horizon][mechanism] = mean over runs of max_t |error|.
    let cells: Vec<Vec<Vec<f64>>> = ctx.per_seed(|seed| {
        let seeder = duality_core::seed::Seeder::new(ctx.seeder.seed_for(seed));
        p.horizons
            .iter()
            .map(|&t| {
                MECHANISMS
                    .iter()
                    .enumerate()
                    .map(|(mi, m)| {
                        let proto = m.build(t, p.epsilon, p.delta)?;
                        let mut total = 0.0;
                        for r in 0..p.runs {
                            let mut rng = seeder.child(t as u64).child(mi as u64).rng(r as u64);
                            let stream: Vec<f64> = (0..t)
                                .map(|_| f64::from(u8::from(rand::Rng::random::<bool>(&mut rng))))
                                .collect();
                            let mut c = proto.clone_box();
                            let out = private_counts(c.as_mut(), &stream, &mut rng)?;
                            let mut sum = 0.0;
                            let mut worst = 0.0f64;
                            for (x, o) in stream.iter().zip(&out) {
                                sum += x;
                                worst = worst.max((o - sum).abs());
                            }
                            total += worst;
                        }
                        Ok(total / p.runs as f64)
                    })
                    .collect::<anyhow::Result<Vec<f64>>>()
            })
            .collect()
    })?;
    let mut out = Outcome::default();
    let mut verdicts = Vec::new();
    let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for (mi, m) in MECHANISMS.iter().enumerate() {
        let name = m.build(2, p.epsilon, p.delta)?.name();
        series.push((format!("{name} (empirical)"), Vec::new()));
        series.push((
            format!("{name} (analytic max sd x sqrt(2 ln T))"),
            Vec::new(),
        ));
        let _ = mi;
    }
    for (hi, &t) in p.horizons.iter().enumerate() {
        let mut stats = Vec::new();
        for (mi, m) in MECHANISMS.iter().enumerate() {
            let vals: Vec<f64> = cells.iter().map(|c| c[hi][mi]).collect();
            for (v, &seed) in vals.iter().zip(&ctx.seeds) {
                let name = m.build(2, p.epsilon, p.delta)?.name();
                out.records.push(
                    RunRecord::new(name, format!("T{t}"), seed).with_metric("mean_max_error", *v),
                );
            }
            let c = m.build(t, p.epsilon, p.delta)?;
            let max_sd = (1..=t).map(|i| c.error_sd(i)).fold(0.0, f64::max);
            let bound = max_sd * (2.0 * (t as f64).ln()).sqrt();
            let ms = MeanSe::of(&vals);
            series[2 * mi].1.push((t as f64, ms.mean));
            series[2 * mi + 1].1.push((t as f64, bound));
            out.headlines.push(headline(
                format!("T {t}: {} mean max error", c.name()),
                ms.mean,
                1,
            ));
            stats.push((c.name(), ms, max_sd, bound));
        }
        let (tree, fact) = (&stats[1], &stats[2]);
        let z = fact.1.welch_z(&tree.1);
        let held = z < -1.96;
        verdicts.push(held);
        out.headlines.push(headline(
            format!("T {t}: factorization / tree-gaussian max error"),
            fact.1.mean / tree.1.mean,
            3,
        ));
        out.notes.push(format!(
            "T = {t}: mean max error over t (95% CI over {} seeds x {} streams) — {}. Factorisation / Gaussian tree = {:.3} \
             (analytic max-sd ratio {:.3}); Welch z = {z:.1}: {}.",
            ctx.seeds.len(),
            p.runs,
            stats
                .iter()
                .map(|(n, ms, sd, b)| format!("{n} {:.1} +- {:.1} (analytic max sd {sd:.1}, bound {b:.1})", ms.mean, 1.96 * ms.se))
                .collect::<Vec<_>>()
                .join("; "),
            fact.1.mean / tree.1.mean,
            fact.2 / tree.2,
            if held { "factorisation smaller (held)" } else { "NOT smaller on this run" }
        ));
    }
    let file = "bandits_private_counting.svg";
    let series: Vec<Series> = series
        .into_iter()
        .map(|(n, pts)| Series::new(n, pts))
        .collect();
    LineChart::new(
        format!(
            "continual counting, epsilon = {}, delta = {}",
            p.epsilon, p.delta
        ),
        "stream length T",
        "max error over t",
    )
    .log_x(true)
    .log_y(true)
    .markers(true)
    .draw(ctx.figure_dir.join(file), &series)?;
    out.figures.push(Figure {
        title: "Max error against T, with the analytic curves".into(),
        file: file.into(),
    });
    out.notes.push(format!(
        "Claim (square-root factorisation, Henzinger-Upadhyay-Upadhyay 2023 / Fichtenberger et al. 2023): at equal (epsilon, delta) = ({}, {}) the \
         factorisation mechanism's max error has a smaller leading constant than the binary tree's (analytic ratio of max standard deviations -> ln 2 / pi = 0.22 as T grows). {}",
        p.epsilon,
        p.delta,
        if verdicts.iter().all(|&v| v) { "HELD at every T on this run." } else { "NOT held at every T on this run (see above)." }
    ));
    Ok(out)
}

/// Parameters of `private-ucb`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PrivateUcbParams {
    /// Rounds per run.
    horizon: usize,
    /// Repetitions per seed.
    repetitions: usize,
    /// Privacy budgets to sweep.
    epsilons: Vec<f64>,
}

impl Validate for PrivateUcbParams {
    fn validate(&self) -> duality_core::Result<()> {
        check::at_least("horizon", self.horizon, 10)?;
        check::at_least("repetitions", self.repetitions, 1)?;
        check::non_empty("epsilons", &self.epsilons)?;
        for (i, &e) in self.epsilons.iter().enumerate() {
            check::positive(&format!("epsilons[{i}]"), e)?;
        }
        Ok(())
    }
}

/// Private UCB (tree mechanism, Laplace, pure epsilon-DP) against UCB1 on
/// Bernoulli K = 5, regret as a function of epsilon.
pub(super) fn private_ucb(ctx: &Context) -> anyhow::Result<Outcome> {
    use crate::prelude::*;
    let p: PrivateUcbParams = params(ctx)?;
    let means = [0.9, 0.8, 0.7, 0.6, 0.5];
    let env = StochasticBandit::bernoulli(&means)?;
    let k = means.len();
    // cells[seed][policy] = final pseudo-regrets of the repetitions.
    let cells: Vec<Vec<Vec<f64>>> = ctx.per_seed(|seed| {
        let mut policies: Vec<Box<dyn Policy>> = vec![Box::new(Ucb1::new(k)?)];
        for &e in &p.epsilons {
            policies.push(Box::new(PrivateUcb::new(
                k,
                p.horizon,
                e,
                1e-6,
                Mechanism::TreeLaplace,
            )?));
        }
        let sim = Simulator::new(
            SimulatorConfig::default()
                .horizon(p.horizon)
                .repetitions(p.repetitions)
                .seed(ctx.seeder.seed_for(seed)),
        )?;
        let r = sim.run(&env, &policies)?;
        Ok(r.policies
            .iter()
            .map(|pr| pr.final_pseudo_regrets())
            .collect())
    })?;
    let mut names = vec!["ucb1".to_string()];
    names.extend(p.epsilons.iter().map(|e| format!("private-ucb eps={e}")));
    let mut out = Outcome::default();
    let mut means_by_policy = Vec::new();
    for (pi, name) in names.iter().enumerate() {
        let all: Vec<f64> = cells.iter().flat_map(|c| c[pi].iter().copied()).collect();
        for (c, &seed) in cells.iter().zip(&ctx.seeds) {
            out.records.push(
                RunRecord::new(name.clone(), "bernoulli-5", seed)
                    .with_metric("pseudo_regret", crate::analysis::mean(&c[pi])),
            );
        }
        let ms = MeanSe::of(&all);
        out.headlines
            .push(headline(format!("{name} final pseudo-regret"), ms.mean, 0));
        means_by_policy.push(ms);
    }
    let ucb = means_by_policy[0];
    // Regret decreases in epsilon and approaches UCB1's.
    let mut order: Vec<usize> = (0..p.epsilons.len()).collect();
    order.sort_by(|&a, &b| p.epsilons[a].total_cmp(&p.epsilons[b]));
    let monotone = order.windows(2).all(|w| {
        means_by_policy[w[0] + 1].mean
            >= means_by_policy[w[1] + 1].mean - 2.0 * means_by_policy[w[1] + 1].se
    });
    let largest = means_by_policy[order[order.len() - 1] + 1];
    let close = largest.mean <= 2.0 * ucb.mean + 3.0 * largest.se;
    out.notes.push(format!(
        "Bernoulli means {means:?}, T = {}, {} runs per policy. Final pseudo-regret (mean +- 95% CI): {}.",
        p.horizon,
        ctx.seeds.len() * p.repetitions,
        names
            .iter()
            .zip(&means_by_policy)
            .map(|(n, m)| format!("{n} {:.1} +- {:.1}", m.mean, 1.96 * m.se))
            .collect::<Vec<_>>()
            .join("; ")
    ));
    out.notes.push(format!(
        "Claim (Mishra & Thakurta 2015; issue #17): private UCB's regret grows as epsilon shrinks (an additive O(K log^2 T / epsilon) price) and \
         approaches UCB1's for large epsilon. Regret non-increasing in epsilon: {}; within 2x of UCB1 at epsilon = {}: {}.",
        if monotone { "held" } else { "NOT held" },
        p.epsilons[order[order.len() - 1]],
        if close { "held" } else { "NOT held" }
    ));
    Ok(out)
}

/// Parameters of `fair-learning`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FairLearningParams {
    /// Rounds T.
    rounds: usize,
    /// Individuals per round.
    k: usize,
    /// Lagrange weight of a reported violation.
    c: f64,
    /// Directions and thresholds of the classifier grid.
    angles: usize,
    /// Thresholds per direction.
    thresholds: usize,
}

impl Validate for FairLearningParams {
    fn validate(&self) -> duality_core::Result<()> {
        check::at_least("rounds", self.rounds, 64)?;
        check::at_least("k", self.k, 2)?;
        check::positive("c", self.c)?;
        check::at_least("angles", self.angles, 1)?;
        check::at_least("thresholds", self.thresholds, 1)
    }
}

const FAIR_LEARNERS: [FairLearner; 3] = [FairLearner::Exp2, FairLearner::Ftpl, FairLearner::Blind];

/// Bechavod & Roth (2023): misclassification regret and fairness
/// violations both sublinear in T for Exp2 and Context-Semi-Bandit-FTPL;
/// the learner ignoring the auditors as the baseline.
pub(super) fn fair_learning(ctx: &Context) -> anyhow::Result<Outcome> {
    let p: FairLearningParams = params(ctx)?;
    let env = FairnessEnv::standard(p.k)?;
    let class = threshold_class(p.angles, p.thresholds)?;
    // Fit on log-spaced checkpoints over the last four doublings.
    let checkpoints: Vec<usize> = (0..=8)
        .map(|i| ((p.rounds as f64) * 2f64.powf(-4.0 + 0.5 * i as f64)).round() as usize)
        .collect();
    let cells: Vec<Vec<FairRun>> = ctx.per_seed(|seed| {
        FAIR_LEARNERS
            .iter()
            .enumerate()
            .map(|(li, &l)| {
                let mut rng =
                    duality_core::seed::Seeder::new(ctx.seeder.seed_for(seed)).rng(li as u64);
                Ok(run_fair(
                    &env,
                    &class,
                    l,
                    p.rounds,
                    p.c,
                    &checkpoints,
                    &mut rng,
                )?)
            })
            .collect()
    })?;
    let mut out = Outcome::default();
    let mut verdicts = Vec::new();
    let mut series: Vec<Series> = Vec::new();
    for (li, _) in FAIR_LEARNERS.iter().enumerate() {
        let name = cells[0][li].learner.clone();
        let mut reg_exp = Vec::new();
        let mut best_exp = Vec::new();
        let mut vio_exp = Vec::new();
        for (c, &seed) in cells.iter().zip(&ctx.seeds) {
            let r = &c[li];
            let pts = |ys: &[f64]| -> Vec<(f64, f64)> {
                r.checkpoints
                    .iter()
                    .zip(ys)
                    .map(|(&t, &y)| (t as f64, y.max(1.0)))
                    .collect()
            };
            let re = crate::analysis::regret_exponent(&pts(&r.regret_vs_fair))?.slope;
            let ve = crate::analysis::regret_exponent(&pts(&r.violations))?.slope;
            let be = crate::analysis::regret_exponent(&pts(&r.regret_vs_best_fair))?.slope;
            reg_exp.push(re);
            best_exp.push(be);
            vio_exp.push(ve);
            let last = r.regret.len() - 1;
            out.records.push(
                RunRecord::new(name.clone(), format!("fair-k{}", p.k), seed)
                    .with_metric("regret", r.regret[last])
                    .with_metric("regret_vs_fair_reference", r.regret_vs_fair[last])
                    .with_metric("regret_vs_best_fair", r.regret_vs_best_fair[last])
                    .with_metric("regret_vs_best_fair_exponent", be)
                    .with_metric("best_fair_lp_rows", r.best_fair_rows[last] as f64)
                    .with_metric("violations", r.violations[last])
                    .with_metric("regret_exponent", re)
                    .with_metric("violation_exponent", ve),
            );
        }
        let (re, be, ve) = (
            MeanSe::of(&reg_exp),
            MeanSe::of(&best_exp),
            MeanSe::of(&vio_exp),
        );
        let final_best = MeanSe::of(
            &cells
                .iter()
                .map(|c| *c[li].regret_vs_best_fair.last().unwrap_or(&0.0))
                .collect::<Vec<_>>(),
        );
        let final_reg = MeanSe::of(
            &cells
                .iter()
                .map(|c| *c[li].regret.last().unwrap_or(&0.0))
                .collect::<Vec<_>>(),
        );
        let final_fair = MeanSe::of(
            &cells
                .iter()
                .map(|c| *c[li].regret_vs_fair.last().unwrap_or(&0.0))
                .collect::<Vec<_>>(),
        );
        let final_vio = MeanSe::of(
            &cells
                .iter()
                .map(|c| *c[li].violations.last().unwrap_or(&0.0))
                .collect::<Vec<_>>(),
        );
        out.headlines.push(headline(
            format!("{name}: exponent of regret vs fair reference"),
            re.mean,
            2,
        ));
        out.headlines.push(headline(
            format!("{name}: exponent of regret vs best fair policy"),
            be.mean,
            2,
        ));
        out.headlines.push(headline(
            format!("{name}: regret vs best fair policy at T"),
            final_best.mean,
            0,
        ));
        out.headlines.push(headline(
            format!("{name}: regret vs best fixed classifier at T"),
            final_reg.mean,
            0,
        ));
        out.headlines
            .push(headline(format!("{name}: violation exponent"), ve.mean, 2));
        out.headlines.push(headline(
            format!("{name}: violations at T"),
            final_vio.mean,
            0,
        ));
        let sub = |m: &MeanSe| m.mean + 1.96 * m.se < 1.0;
        // Regret against the best fair policy in hindsight (the paper's
        // comparator) is sublinear if its exponent CI is below 1, or
        // trivially if the learner ends below it (negative regret: the
        // floored log-log fit is then meaningless).
        let regret_ok = final_best.mean + 1.96 * final_best.se <= 0.0 || sub(&be);
        let held = regret_ok && sub(&ve);
        if !matches!(FAIR_LEARNERS[li], FairLearner::Blind) {
            verdicts.push(held);
        }
        out.notes.push(format!(
            "{name}: at T = {} regret against the best fair policy in hindsight (LP, {:.0} pair rows) {:.0} +- {:.0}, against the best fixed classifier \
             (unfair comparator) {:.0} +- {:.0}, against the uniform x_0-threshold mixture (not fair on every round) {:.0} +- {:.0}; \
             {:.0} +- {:.0} rounds with a reported violation; fitted exponents (95% CI over {} seeds; regret floored at 1 before logs, so a negative regret fits as 0) \
             regret vs the best fair policy {:.2} +- {:.2} (vs the x_0 mixture {:.2} +- {:.2}), violations {:.2} +- {:.2}: {}.",
            p.rounds,
            cells[0][li].best_fair_rows.last().copied().unwrap_or(0),
            final_best.mean,
            1.96 * final_best.se,
            final_reg.mean,
            1.96 * final_reg.se,
            final_fair.mean,
            1.96 * final_fair.se,
            final_vio.mean,
            1.96 * final_vio.se,
            ctx.seeds.len(),
            be.mean,
            1.96 * be.se,
            re.mean,
            1.96 * re.se,
            ve.mean,
            1.96 * ve.se,
            if held { "both sublinear" } else { "NOT both sublinear" }
        ));
        let r0 = &cells[0][li];
        series.push(Series::new(
            format!("{name} violations"),
            r0.checkpoints
                .iter()
                .zip(&r0.violations)
                .map(|(&t, &v)| (t as f64, v.max(1.0)))
                .collect(),
        ));
        series.push(Series::new(
            format!("{name} regret vs best fair"),
            r0.checkpoints
                .iter()
                .zip(&r0.regret_vs_best_fair)
                .map(|(&t, &v)| (t as f64, v.max(1.0)))
                .collect(),
        ));
        series.push(Series::new(
            format!("{name} regret"),
            r0.checkpoints
                .iter()
                .zip(&r0.regret)
                .map(|(&t, &v)| (t as f64, v.max(1.0)))
                .collect(),
        ));
    }
    let file = "bandits_fair_learning.svg";
    LineChart::new(
        "individually fair learning with one-sided feedback (first seed)",
        "round t",
        "cumulative count",
    )
    .log_x(true)
    .log_y(true)
    .markers(true)
    .draw(ctx.figure_dir.join(file), &series)?;
    out.figures.push(Figure {
        title: "Regret and fairness violations against T".into(),
        file: file.into(),
    });
    out.notes.push(format!(
        "Claim (Bechavod & Roth 2023): with one-sided feedback and a panel of 3 auditors (majority quorum, alpha = {}), Exp2 over the class ({} threshold \
         classifiers) and Context-Semi-Bandit-FTPL have sublinear misclassification regret against the best fair policy in hindsight (an LP over \
         distributions on the class with every realised pair's panel constraint, solved by constraint generation) and sublinear fairness violations \
         (exponent CI below 1); regret against the best fixed, unfair classifier is \
         reported but not claimed sublinear (the price of fairness); \
         k = {} individuals a round, C = {}; the learner ignoring the auditors is the baseline. {}",
        env.alpha,
        class.len(),
        p.k,
        p.c,
        if verdicts.iter().all(|&v| v) { "HELD on this run." } else { "NOT held on this run (see above)." }
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs an experiment's quick profile on three seeds and prints its
    /// notes (`cargo test ... -- --nocapture --ignored` to inspect a run).
    fn run_quick(name: &str) -> Outcome {
        run_profile(name, true)
    }

    fn run_profile(name: &str, quick: bool) -> Outcome {
        let suite = super::super::suite();
        let ctx = Context::for_test(&suite, name, quick).unwrap();
        let exp = suite.experiments.iter().find(|e| e.name == name).unwrap();
        let out = (exp.run)(&ctx).unwrap();
        for n in &out.notes {
            println!("{n}");
        }
        for h in &out.headlines {
            println!("{} = {}", h.name, h.value);
            assert!(h.value.is_finite(), "{}", h.name);
        }
        out
    }

    #[test]
    #[ignore = "inspection run (seconds); the bench runs it"]
    fn portfolio_ensemble_quick() {
        let out = run_quick("portfolio-ensemble");
        assert!(!out.records.is_empty());
    }

    #[test]
    #[ignore = "full profile on three seeds (about a minute)"]
    fn portfolio_ensemble_full() {
        run_profile("portfolio-ensemble", false);
    }

    #[test]
    #[ignore = "inspection run (seconds); the bench runs it"]
    fn private_quick() {
        run_quick("private-counting");
        run_quick("private-ucb");
    }

    #[test]
    #[ignore = "inspection run (seconds); the bench runs it"]
    fn fair_quick() {
        run_quick("fair-learning");
    }

    #[test]
    fn portfolio_parameters_are_checked() {
        let p = PortfolioParams {
            periods: 100,
            assets: 3,
            cost: 1.0,
        };
        assert!(p.validate().unwrap_err().to_string().contains("cost"));
    }
}
