//! Risk-neutral vs CVaR-optimal gambling: stock-augmented distributional DP
//! finds a history-dependent policy with a higher CVaR than classic VI.
//!
//! Run: `cargo run -p duality-distdp --example cvar_gambling`

use duality_distdp::prelude::*;

fn main() -> duality_core::Result<()> {
    let mdp = library::gambling(10, 3, 3, 0.8, 1.0, 6)?;
    let alpha = 0.1;
    // Integer rewards and gamma = 1: an integer stock grid is exact.
    let grid = StockGrid::new(-7.0, 18.0, 26)?;
    let spec = SolveSpec::new(
        format!("cvar:{alpha}").parse()?,
        StockModel::Grid(grid),
        Representation::Exact { budget: None },
    )?;
    let cvar = solve(&mdp, &spec)?;
    let classic = value_iteration(&mdp, IterParams::default())?;
    println!(
        "CVaR({alpha}) optimum from the DP tables: {:.4} (initial stock {})",
        cvar.value, cvar.initial_stock
    );

    let seeder = duality_core::seed::Seeder::new(1);
    let dp = rollout_returns(
        &mdp,
        &cvar.policy,
        cvar.initial_stock,
        50_000,
        100,
        &mut seeder.rng(0),
    )?;
    let rn = rollout_returns(
        &mdp,
        &MarkovActions::new(&mdp, classic.policy)?,
        0.0,
        50_000,
        100,
        &mut seeder.rng(1),
    )?;
    for (name, r) in [("stock-augmented CVaR", dp), ("risk-neutral VI", rn)] {
        let law =
            FiniteSupport::from_weighted(r.iter().map(|&x| (x, 1.0 / r.len() as f64)).collect());
        println!(
            "{name:>22}: mean {:.3}, CVaR({alpha}) {:.3}",
            law.mean(),
            law.cvar(alpha)?
        );
    }

    let price = lsmc_price(&PutOption::default(), &LsmcParams::default().paths(20_000))?;
    println!(
        "LSMC Bermudan put: {:.4} (95% CI {:.4} .. {:.4}); lattice {:.4}",
        price.price,
        price.ci_low,
        price.ci_high,
        binomial_price(
            &PutOption::default(),
            Exercise::Bermudan { dates: 50 },
            2000
        )?
    );
    Ok(())
}
