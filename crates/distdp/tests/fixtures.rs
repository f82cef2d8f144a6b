//! Cross-checks against committed fixtures (see `fixtures/distdp/`).

use duality_distdp::prelude::*;
use serde_json::Value;

fn exact_spec(objective: &str) -> SolveSpec {
    SolveSpec::new(
        objective.parse().unwrap(),
        StockModel::Exact,
        Representation::Exact { budget: None },
    )
    .unwrap()
}

const MDP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/distdp/cvar_brute_force.toml"
);
const BRUTE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/distdp/cvar_brute_force.json"
);

#[test]
fn cvar_dp_matches_brute_force_enumeration() {
    let mdp = FiniteMdp::load(MDP).unwrap();
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(BRUTE).unwrap()).unwrap();
    for level in reference["levels"].as_array().unwrap() {
        let alpha = level["alpha"].as_f64().unwrap();
        let want = level["optimal_cvar"].as_f64().unwrap();
        let sol = solve(&mdp, &exact_spec(&format!("cvar:{alpha}"))).unwrap();
        assert!(
            (sol.value - want).abs() < 1e-9,
            "alpha {alpha}: DP {} vs brute force {want}",
            sol.value
        );
        // The executed policy's law has that CVaR.
        assert!((sol.law.cvar(alpha).unwrap() - want).abs() < 1e-9);
        // Markov policies cannot reach it where the fixture says so.
        let markov = level["best_markov_cvar"].as_f64().unwrap();
        assert!(sol.value >= markov - 1e-9);
    }
    // At alpha = 0.5 the optimum needs history: strictly above the best Markov policy.
    let l = &reference["levels"][2];
    assert!(l["optimal_cvar"].as_f64().unwrap() > l["best_markov_cvar"].as_f64().unwrap() + 0.1);
}

#[test]
fn expectation_objective_matches_brute_force_mean() {
    let mdp = FiniteMdp::load(MDP).unwrap();
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(BRUTE).unwrap()).unwrap();
    let want = reference["levels"][0]["risk_neutral_mean"]
        .as_f64()
        .unwrap();
    let vi = value_iteration(&mdp, IterParams::default()).unwrap();
    assert!((vi.values[mdp.start()] - want).abs() < 1e-9);
    let exact = solve(&mdp, &exact_spec("expectation")).unwrap();
    assert!((exact.value - want).abs() < 1e-9);
    // Rolling out the classic policy gives the same mean (Monte Carlo, 4 sigma).
    let mut rng = duality_core::seed::Seeder::new(9).rng(0);
    let rs = rollout_returns(
        &mdp,
        &MarkovActions::new(&mdp, vi.policy.clone()).unwrap(),
        0.0,
        20_000,
        10,
        &mut rng,
    )
    .unwrap();
    let mean = rs.iter().sum::<f64>() / rs.len() as f64;
    let var = rs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / rs.len() as f64;
    assert!((mean - want).abs() < 4.0 * (var / rs.len() as f64).sqrt() + 1e-9);
}

#[test]
fn grid_cvar_policy_rollouts_match_dp_tables_on_cliff() {
    let mdp = library::cliff(5, 3, 0.15, 1.0, Some(15)).unwrap();
    let returns = duality_distdp::stock::achievable_returns(&mdp).unwrap();
    let (lo, hi) = (returns[0].floor(), returns[returns.len() - 1].ceil());
    let grid = StockGrid::new(-hi, -lo, (hi - lo) as usize + 1).unwrap();
    let spec = SolveSpec::new(
        "cvar:0.1".parse().unwrap(),
        StockModel::Grid(grid),
        Representation::Exact { budget: None },
    )
    .unwrap();
    let sol = solve(&mdp, &spec).unwrap();
    let law = &sol.law;
    let exact_cvar = law.cvar(0.1).unwrap();
    assert!(
        exact_cvar >= sol.value - 1e-9,
        "{exact_cvar} vs {}",
        sol.value
    );
    let mut rng = duality_core::seed::Seeder::new(2).rng(0);
    let n = 40_000;
    let rs = rollout_returns(&mdp, &sol.policy, sol.initial_stock, n, 100, &mut rng).unwrap();
    let emp = FiniteSupport::from_weighted(rs.iter().map(|&x| (x, 1.0 / n as f64)).collect());
    eprintln!("tables {exact_cvar} rollouts {}", emp.cvar(0.1).unwrap());
    assert!(
        (emp.mean() - law.mean()).abs() < 0.1,
        "{} vs {}",
        emp.mean(),
        law.mean()
    );
    assert!((emp.cvar(0.1).unwrap() - exact_cvar).abs() < 0.4);
}

const DISTRIBUTIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/distdp/distributions.json"
);

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn law(v: &Value) -> FiniteSupport {
    FiniteSupport::new(floats(&v["atoms"]), floats(&v["probs"])).unwrap()
}

/// Distances, VaR / CVaR and both projections against SciPy / NumPy
/// (`fixtures/distdp/generate_distributions.py`). Tolerance 1e-9: the
/// references compute the same quantities by other formulas (SciPy's
/// energy distance, the Rockafellar-Uryasev form of CVaR), so agreement is
/// up to floating-point summation order.
#[test]
fn distribution_functionals_match_scipy_and_numpy() {
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(DISTRIBUTIONS).unwrap()).unwrap();
    let cases = reference["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    let close = |got: f64, want: f64, what: &str, i: usize| {
        assert!(
            (got - want).abs() <= 1e-9 * (1.0 + want.abs()),
            "case {i} {what}: duality {got} vs reference {want}"
        );
    };
    for (i, case) in cases.iter().enumerate() {
        let (a, b) = (law(&case["a"]), law(&case["b"]));
        close(a.wasserstein1(&b), case["w1"].as_f64().unwrap(), "W1", i);
        close(a.cramer(&b), case["cramer"].as_f64().unwrap(), "Cramér", i);
        close(
            a.kolmogorov_smirnov(&b),
            case["ks"].as_f64().unwrap(),
            "KS",
            i,
        );
        close(a.mean(), case["mean"].as_f64().unwrap(), "mean", i);
        let alphas = floats(&case["alphas"]);
        for ((alpha, var), cvar) in alphas
            .iter()
            .zip(floats(&case["var"]))
            .zip(floats(&case["cvar"]))
        {
            close(a.var(*alpha).unwrap(), var, &format!("VaR({alpha})"), i);
            close(a.cvar(*alpha).unwrap(), cvar, &format!("CVaR({alpha})"), i);
        }
        let support: std::sync::Arc<[f64]> = floats(&case["support"]).into();
        let projected = Categorical::project(support, &a).unwrap();
        let want = floats(&case["cramer_projection"]);
        for (k, (&got, &w)) in projected.probs().iter().zip(&want).enumerate() {
            close(got, w, &format!("Cramér projection atom {k}"), i);
        }
        let n = case["quantiles_n"].as_u64().unwrap() as usize;
        let q = Quantiles::project(n, &a).unwrap();
        // Quantiles merge equal locations, so compare through the quantile function.
        for (k, &w) in floats(&case["quantile_projection"]).iter().enumerate() {
            let tau = (2 * k + 1) as f64 / (2 * n) as f64;
            close(q.quantile(tau).unwrap(), w, &format!("quantile {k}"), i);
        }
    }
}
