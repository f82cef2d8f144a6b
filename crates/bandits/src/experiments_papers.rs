//! Bench experiments of issue #17's papers (a submodule of
//! [`super`], sharing its parameter and headline helpers):
//! `portfolio-ensemble` (Lam 2024).

use duality_core::check;
use duality_core::config::Validate;
use duality_core::record::RunRecord;
use duality_eval::plot::{LineChart, Series};
use serde::{Deserialize, Serialize};

use super::{headline, params};
use crate::analysis::MeanSe;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs an experiment's quick profile on three seeds and prints its
    /// notes (`cargo test ... -- --nocapture --ignored` to inspect a run).
    fn run_quick(name: &str) -> Outcome {
        let suite = super::super::suite();
        let ctx = Context::for_test(&suite, name, true).unwrap();
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
    fn portfolio_parameters_are_checked() {
        let p = PortfolioParams {
            periods: 100,
            assets: 3,
            cost: 1.0,
        };
        assert!(p.validate().unwrap_err().to_string().contains("cost"));
    }
}
