//! Node features of the bipartite variable-constraint graph (Gasse et al.
//! 2019, Sec. 4.2 and Table 4), computed from the node's LP; the learned
//! branching policy (feature `torch`) reads them. Pure Rust, so they are
//! tested without libtorch.
//!
//! We keep the subset of Gasse et al.'s features our LP exposes (no
//! incumbent-related or age features):
//! - variable (9): objective coefficient / `max |c|`, integer, fractional
//!   part of the LP value, at lower bound, at upper bound, basic, reduced
//!   cost / `max |c|`, LP value (clipped to `[-10, 10]`, / 10), candidate;
//! - constraint (5): the side over the row norm (the upper side if finite,
//!   else the lower, clipped to `[-10, 10]`, / 10), two-sided (range or
//!   equality), cosine with the objective, tight at the LP optimum, dual
//!   value / `max |c|` (clipped to `[-10, 10]`);
//! - edge (1): the coefficient over its row's norm.

use super::branching::Candidate;
use super::lp::DualSimplex;
use super::problem::Milp;

/// Variable features per variable.
pub const VAR_FEATURES: usize = 9;
/// Constraint features per row.
pub const ROW_FEATURES: usize = 5;

/// The bipartite graph of one node with its features.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphFeatures {
    /// Variables.
    pub n: usize,
    /// Rows.
    pub m: usize,
    /// `n x VAR_FEATURES`, row-major.
    pub var: Vec<f32>,
    /// `m x ROW_FEATURES`, row-major.
    pub row: Vec<f32>,
    /// Row of each edge.
    pub edge_row: Vec<i64>,
    /// Variable of each edge.
    pub edge_var: Vec<i64>,
    /// Normalised coefficient of each edge.
    pub edge_val: Vec<f32>,
    /// Variable index of each candidate.
    pub candidates: Vec<i64>,
}

fn clip(v: f64, lim: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else {
        v.clamp(-lim, lim)
    }
}

/// The features of the node whose LP optimum is `lp`.
pub fn graph_features(p: &Milp, lp: &DualSimplex, candidates: &[Candidate]) -> GraphFeatures {
    let n = p.num_vars();
    let m = p.num_rows();
    let c = p.min_costs();
    let cmax = c.iter().fold(0.0f64, |a, v| a.max(v.abs())).max(1e-12);
    let cnorm = c.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
    let x = lp.x();
    let d = lp.reduced_costs();
    let mut is_cand = vec![false; n];
    for k in candidates {
        is_cand[k.var] = true;
    }
    let mut var = Vec::with_capacity(n * VAR_FEATURES);
    for j in 0..n {
        let basic = lp.is_basic(j);
        let upper = !basic && lp.at_upper(j);
        let f = [
            c[j] / cmax,
            f64::from(u8::from(p.integer[j])),
            x[j] - x[j].floor(),
            f64::from(u8::from(!basic && !upper)),
            f64::from(u8::from(upper)),
            f64::from(u8::from(basic)),
            clip(d[j] / cmax, 10.0),
            clip(x[j], 10.0) / 10.0,
            f64::from(u8::from(is_cand[j])),
        ];
        var.extend(f.iter().map(|&v| v as f32));
    }
    let duals = lp.row_reduced_costs();
    let mut row = Vec::with_capacity(m * ROW_FEATURES);
    let nnz = p.nonzeros();
    let mut edge_row = Vec::with_capacity(nnz);
    let mut edge_var = Vec::with_capacity(nnz);
    let mut edge_val = Vec::with_capacity(nnz);
    for (i, r) in p.rows.iter().enumerate() {
        let norm = r
            .coefs
            .iter()
            .map(|e| e.1 * e.1)
            .sum::<f64>()
            .sqrt()
            .max(1e-12);
        let dot: f64 = r.coefs.iter().map(|&(j, a)| a * c[j]).sum();
        let act: f64 = r.coefs.iter().map(|&(j, a)| a * x[j]).sum();
        let side = if r.upper.is_finite() {
            r.upper
        } else {
            r.lower
        };
        let tight = (r.upper.is_finite() && (act - r.upper).abs() <= 1e-6 * (1.0 + r.upper.abs()))
            || (r.lower.is_finite() && (act - r.lower).abs() <= 1e-6 * (1.0 + r.lower.abs()));
        let f = [
            clip(side / norm, 10.0) / 10.0,
            f64::from(u8::from(r.upper.is_finite() && r.lower.is_finite())),
            dot / (norm * cnorm),
            f64::from(u8::from(tight)),
            clip(duals[i] / cmax, 10.0),
        ];
        row.extend(f.iter().map(|&v| v as f32));
        for &(j, a) in &r.coefs {
            edge_row.push(i as i64);
            edge_var.push(j as i64);
            edge_val.push((a / norm) as f32);
        }
    }
    GraphFeatures {
        n,
        m,
        var,
        row,
        edge_row,
        edge_var,
        edge_val,
        candidates: candidates.iter().map(|k| k.var as i64).collect(),
    }
}

/// One imitation-learning sample: a node's graph and the index (into its
/// candidates) of the strong-branching choice.
#[derive(Debug, Clone, PartialEq)]
pub struct BranchSample {
    /// The node's features.
    pub graph: GraphFeatures,
    /// The expert's choice, an index into `graph.candidates`.
    pub target: usize,
    /// Node depth.
    pub depth: usize,
}

/// Runs branch-and-bound with full strong branching (the expert) on `p`
/// and records every branching decision as a sample (Gasse et al.'s
/// behaviour cloning data; they sample states under a cheaper rule and
/// query strong branching, we follow the expert's own trajectory).
///
/// # Errors
/// As [`super::branch_and_bound`]; an engine other than
/// [`super::LpEngine::Dense`] (the features need its reduced costs).
pub fn collect_strong_branching(
    p: &Milp,
    params: &super::BnbParams,
    strong_iterations: u64,
) -> duality_core::Result<(Vec<BranchSample>, super::BnbResult)> {
    if params.lp_engine != super::LpEngine::Dense {
        return Err(duality_core::Error::invalid(
            "LP engine for strong-branching samples",
            params.lp_engine,
            "dense (the features need reduced costs and the basis)",
        ));
    }
    let mut rule = super::branching::FullStrong {
        max_iterations: strong_iterations,
    };
    let mut samples = Vec::new();
    let mut observe = |e: &super::NodeEvent<'_>| {
        if let Some(lp) = e.lp.as_dense() {
            samples.push(BranchSample {
                graph: graph_features(p, lp, e.candidates),
                target: e.chosen,
                depth: e.depth,
            });
        }
    };
    let r = super::branch_and_bound_observed(p, &mut rule, params, &mut observe)?;
    Ok((samples, r))
}
