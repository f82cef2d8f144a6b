//! The measurement behind the LP engine choice (docs/combopt.md).
//!
//! Part 1 (`--root`), root LPs: generated set-cover instances solved by the
//! workspace's dense two-phase simplex
//! (`duality_core::numerics::simplex::minimize_standard`, bounds as rows)
//! and by `milp::DualSimplex` from the slack basis, then the pivots of a
//! warm-started child re-solve against a from-scratch one; the same for
//! `microlp` 0.7 (a maintained pure-Rust LP/MIP crate: dual simplex on an
//! LU-factorised basis, warm re-solves through `Solution::fix_var`, pivot
//! counts in `Stats::lp_iterations`).
//!
//! Part 2, whole searches: `milp::branch_and_bound` on the generated
//! families (set cover, combinatorial auctions, capacitated facility
//! location, independent set) at the bench's test size and a larger one,
//! several seeds, with pseudo-cost, most-fractional and reliability
//! branching, on three LP set-ups: `dense` (the default engine, with
//! reduced-cost fixing), `dense-norc` (the dense engine without
//! reduced-cost fixing: the like-for-like baseline, since microlp exposes
//! no reduced costs) and `microlp` (`milp::LpEngine::Microlp`). It prints
//! nodes, LP pivots (node LPs + strong branching), wall time and whether
//! the optima agree, then per family and size the range over seeds and
//! rules of the time ratio microlp / dense-norc.
//!
//! `cargo run --release -p duality-combopt --example milp_lp_engines`
//! (about 4 minutes on one core), options
//! `-- --seeds N --sizes 30,60 --rules pseudo-cost,most-fractional --max-nodes N --no-propagate --root`;
//! part 1 runs only with `--root` (the core simplex takes minutes there).

use std::time::Instant;

use duality_combopt::milp::{
    branch_and_bound, generators, BnbParams, BnbResult, BranchingRegistry, DualSimplex, LpEngine,
    LpStatus, Milp, RuleOptions,
};
use duality_core::numerics::simplex::{minimize_standard, PivotRule, SimplexOptions};
use duality_core::seed::Seeder;

/// `min c^T x, A x >= 1, 0 <= x <= 1` as `A x - s = 1, x + t = 1, x, s, t >= 0`.
fn standard_form(p: &Milp) -> (Vec<f64>, Vec<Vec<f64>>, Vec<f64>) {
    let (n, m) = (p.num_vars(), p.num_rows());
    let w = n + m + n;
    let mut c = p.min_costs();
    c.resize(w, 0.0);
    let mut a = Vec::new();
    let mut b = Vec::new();
    for (i, row) in p.rows.iter().enumerate() {
        let mut r = vec![0.0; w];
        for &(j, v) in &row.coefs {
            r[j] = v;
        }
        r[n + i] = -1.0;
        a.push(r);
        b.push(row.lower);
    }
    for j in 0..n {
        let mut r = vec![0.0; w];
        r[j] = 1.0;
        r[n + m + j] = 1.0;
        a.push(r);
        b.push(p.upper[j]);
    }
    (c, a, b)
}

/// The same LP in `microlp`: `(problem, variables)`.
fn microlp_problem(p: &Milp, upper: &[f64]) -> (microlp::Problem, Vec<microlp::Variable>) {
    let mut prob = microlp::Problem::new(microlp::OptimizationDirection::Minimize);
    let costs = p.min_costs();
    let vars: Vec<microlp::Variable> = (0..p.num_vars())
        .map(|j| prob.add_var(costs[j], (p.lower[j], upper[j])))
        .collect();
    for row in &p.rows {
        let expr: Vec<(microlp::Variable, f64)> =
            row.coefs.iter().map(|&(j, v)| (vars[j], v)).collect();
        if row.lower.is_finite() {
            prob.add_constraint(expr.clone(), microlp::ComparisonOp::Ge, row.lower);
        }
        if row.upper.is_finite() {
            prob.add_constraint(expr, microlp::ComparisonOp::Le, row.upper);
        }
    }
    (prob, vars)
}

/// `microlp` on the root LP, then the child `x_j = 0` warm (`fix_var`) and
/// cold: "obj, ms, pivots | warm pivots, cold pivots".
fn microlp_row(p: &Milp, j: usize) -> String {
    let (prob, vars) = microlp_problem(p, &p.upper);
    let t = Instant::now();
    let root = match prob.solve().map(|o| o.into_solution()) {
        Ok(Ok(s)) => s,
        Ok(Err(_)) => return "interrupted".into(),
        Err(e) => return format!("failed ({e})"),
    };
    let ms = t.elapsed().as_secs_f64() * 1e3;
    let (obj, pivots) = (root.objective(), root.stats().lp_iterations);
    let warm = match root.fix_var(vars[j], 0.0) {
        Ok(o) => o.stats().lp_iterations.saturating_sub(pivots).to_string(),
        Err(e) => format!("failed ({e})"),
    };
    let mut upper = p.upper.clone();
    upper[j] = 0.0;
    let cold = match microlp_problem(p, &upper).0.solve() {
        Ok(o) => o.stats().lp_iterations.to_string(),
        Err(e) => format!("failed ({e})"),
    };
    format!("{obj:.1}, {ms:.1}, {pivots} | {warm}, {cold}")
}

fn root_lps() -> duality_combopt::Result<()> {
    println!("rows cols | core two-phase: obj, ms | dual simplex: obj, ms, pivots | child: warm pivots, cold pivots | microlp: obj, ms, pivots | child: warm pivots, cold pivots");
    for scale in [50usize, 100, 200] {
        let p = generators::generate("setcover", scale, &mut Seeder::new(3).rng(0))?;
        let (c, a, b) = standard_form(&p);
        let t = Instant::now();
        let core = minimize_standard(
            &a,
            &b,
            &c,
            &SimplexOptions::new(PivotRule::DantzigThenBland),
        );
        let core_ms = t.elapsed().as_secs_f64() * 1e3;
        let core_text = match core {
            Ok(s) => format!("{:.1}, {core_ms:.1}", s.objective),
            Err(e) => format!("failed after {core_ms:.0} ms ({e})"),
        };
        let t = Instant::now();
        let mut lp = DualSimplex::new(&p)?;
        assert_eq!(lp.solve(u64::MAX, f64::INFINITY, None), LpStatus::Optimal);
        let dual_ms = t.elapsed().as_secs_f64() * 1e3;
        let root_pivots = lp.iterations();
        // Branch down on the most fractional variable: warm vs cold.
        let x = lp.x().to_vec();
        let j = (0..x.len())
            .max_by(|&a, &b| (x[a] - 0.5).abs().total_cmp(&(x[b] - 0.5).abs()).reverse())
            .unwrap_or(0);
        let mut warm = lp.clone();
        warm.set_bounds(j, 0.0, 0.0);
        warm.solve(u64::MAX, f64::INFINITY, None);
        let warm_pivots = warm.iterations() - root_pivots;
        let mut q = p.clone();
        q.upper[j] = 0.0;
        let mut cold = DualSimplex::new(&q)?;
        cold.solve(u64::MAX, f64::INFINITY, None);
        println!(
            "{} {} | {} | {:.1}, {:.1}, {} | {}, {} | {}",
            p.num_rows(),
            p.num_vars(),
            core_text,
            lp.objective(),
            dual_ms,
            root_pivots,
            warm_pivots,
            cold.iterations(),
            microlp_row(&p, j)
        );
    }
    Ok(())
}

/// Command-line options of the whole-search part.
struct Opts {
    seeds: u64,
    /// Sizes for every family (default: the bench's test size 30 and a larger one per family).
    sizes: Option<Vec<usize>>,
    rules: Vec<String>,
    max_nodes: u64,
    /// Also part 1 (several minutes: the core simplex's 200 x 400 root).
    root: bool,
    propagate: bool,
}

fn opts() -> Opts {
    let mut o = Opts {
        seeds: 3,
        sizes: None,
        rules: vec![
            "pseudo-cost".into(),
            "most-fractional".into(),
            "reliability".into(),
        ],
        max_nodes: 20_000,
        root: false,
        propagate: true,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut k = 0;
    while k < args.len() {
        let value = args.get(k + 1).cloned().unwrap_or_default();
        match args[k].as_str() {
            "--seeds" => o.seeds = value.parse().expect("--seeds N"),
            "--sizes" => {
                o.sizes = Some(
                    value
                        .split(',')
                        .map(|v| v.parse().expect("--sizes a,b"))
                        .collect(),
                );
            }
            "--rules" => o.rules = value.split(',').map(String::from).collect(),
            "--max-nodes" => o.max_nodes = value.parse().expect("--max-nodes N"),
            "--root" => {
                o.root = true;
                k += 1;
                continue;
            }
            "--no-propagate" => {
                o.propagate = false;
                k += 1;
                continue;
            }
            other => panic!("unknown option {other}"),
        }
        k += 2;
    }
    o
}

/// The three LP set-ups compared.
const SETUPS: [(&str, LpEngine, bool); 3] = [
    ("dense", LpEngine::Dense, true),
    ("dense-norc", LpEngine::Dense, false),
    ("microlp", LpEngine::Microlp, false),
];

fn solve(
    p: &Milp,
    rule: &str,
    engine: LpEngine,
    rc: bool,
    o: &Opts,
) -> duality_combopt::Result<BnbResult> {
    let mut r = BranchingRegistry::builtin().make(rule, &RuleOptions::default())?;
    branch_and_bound(
        p,
        r.as_mut(),
        &BnbParams {
            lp_engine: engine,
            reduced_cost_fixing: rc,
            max_nodes: o.max_nodes,
            propagate: o.propagate,
            ..BnbParams::default()
        },
    )
}

fn whole_searches(o: &Opts) -> duality_combopt::Result<()> {
    println!();
    println!("whole searches (max {} nodes): per instance and rule, each set-up's nodes / LP pivots (node + strong) / ms; agree: same status and optimum (1e-6 relative)", o.max_nodes);
    println!(
        "family size seed (rows x vars) rule | dense | dense-norc | microlp | microlp/dense-norc time | agree"
    );
    // Per (family, size): time ratios microlp / dense-norc and dense /
    // dense-norc, node ratios microlp / dense-norc, agreeing and all runs.
    type Row = (String, usize, Vec<f64>, Vec<f64>, Vec<f64>, usize, usize);
    let mut summary: Vec<Row> = Vec::new();
    for fam in generators::FAMILIES {
        // The bench's test size (fixtures/bench/combopt.toml) and one where
        // the family's tree or LP is clearly larger.
        let larger = match fam {
            "setcover" => 150,
            "auction" => 40,
            "facility" => 40,
            _ => 80,
        };
        let sizes = o.sizes.clone().unwrap_or_else(|| vec![30, larger]);
        for &size in &sizes {
            let (mut ratios, mut dense_ratios, mut node_ratios) =
                (Vec::new(), Vec::new(), Vec::new());
            let (mut agree, mut total) = (0, 0);
            for seed in 0..o.seeds {
                let p = generators::generate(fam, size, &mut Seeder::new(7).rng(seed))?;
                for rule in &o.rules {
                    let mut cells = Vec::new();
                    let mut results = Vec::new();
                    for (_, engine, rc) in SETUPS {
                        let r = solve(&p, rule, engine, rc, o)?;
                        cells.push(format!(
                            "{} / {} / {:.1}{}",
                            r.nodes,
                            r.lp_iterations + r.strong_iterations,
                            r.seconds * 1e3,
                            if r.status == duality_combopt::milp::Termination::Optimal {
                                ""
                            } else {
                                " (limit)"
                            }
                        ));
                        results.push(r);
                    }
                    let same = results.iter().all(|r| {
                        r.status == results[0].status
                            && match (r.objective, results[0].objective) {
                                (Some(a), Some(b)) => (a - b).abs() <= 1e-6 * (1.0 + b.abs()),
                                (None, None) => true,
                                _ => false,
                            }
                    });
                    total += 1;
                    agree += usize::from(same);
                    let ratio = results[2].seconds / results[1].seconds.max(1e-9);
                    ratios.push(ratio);
                    dense_ratios.push(results[0].seconds / results[1].seconds.max(1e-9));
                    node_ratios.push(results[2].nodes as f64 / results[1].nodes.max(1) as f64);
                    println!(
                        "{fam} {size} {seed} ({} x {}) {rule} | {} | {} | {} | {ratio:.2} | {}",
                        p.num_rows(),
                        p.num_vars(),
                        cells[0],
                        cells[1],
                        cells[2],
                        if same { "yes" } else { "NO" }
                    );
                }
            }
            summary.push((
                fam.to_string(),
                size,
                ratios,
                dense_ratios,
                node_ratios,
                agree,
                total,
            ));
        }
    }
    let range = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        let med = if s.is_empty() {
            f64::NAN
        } else {
            s[s.len() / 2]
        };
        format!("{med:.2} ({lo:.2}-{hi:.2})")
    };
    println!();
    println!("family size | time microlp/dense-norc: median (min-max) | time dense/dense-norc | nodes microlp/dense-norc | optima agree");
    for (fam, size, r, d, nr, agree, total) in &summary {
        println!(
            "{fam} {size} | {} | {} | {} | {agree}/{total}",
            range(r),
            range(d),
            range(nr)
        );
    }
    Ok(())
}

fn main() -> duality_combopt::Result<()> {
    let o = opts();
    if o.root {
        root_lps()?;
    }
    whole_searches(&o)
}
