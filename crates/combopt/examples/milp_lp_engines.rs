//! The measurement behind the LP engine choice (docs/combopt.md): the root
//! LP of generated set-cover instances solved by the workspace's dense
//! two-phase simplex (`duality_core::numerics::simplex::minimize_standard`,
//! bounds as rows) and by `milp::DualSimplex` from the slack basis, then the
//! pivots of a warm-started child re-solve against a from-scratch one; the
//! same for `microlp` 0.7 (a maintained pure-Rust LP/MIP crate: dual
//! simplex on an LU-factorised basis, warm re-solves through
//! `Solution::fix_var`, pivot counts in `Stats::lp_iterations`), a
//! dev-dependency used only here.
//! `cargo run --release -p duality-combopt --example milp_lp_engines`.

use std::time::Instant;

use duality_combopt::milp::{generators, DualSimplex, LpStatus, Milp};
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

fn main() -> duality_combopt::Result<()> {
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
