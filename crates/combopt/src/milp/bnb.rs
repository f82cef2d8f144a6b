//! LP-based branch-and-bound (Land & Doig 1960) with best-bound or
//! depth-first node selection, warm-started dual simplex relaxations,
//! bound tightening (activity-based propagation at every node and
//! reduced-cost fixing against the incumbent) and node, LP-iteration and
//! time limits; every result carries its [`Termination`].

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::rc::Rc;
use std::time::Instant;

use duality_core::{Error, Result};
use serde::Serialize;

use super::branching::{BranchState, BranchingRule, Candidate, Pseudocosts};
use super::engine::{LpEngine, LpScratch, MicrolpLp, NodeLp, SearchLp};
use super::lp::{DualSimplex, LpStatus};
use super::problem::Milp;

/// Integrality tolerance.
pub const INT_TOL: f64 = 1e-6;
/// Feasibility tolerance of an accepted incumbent.
pub const FEAS_TOL: f64 = 1e-6;

/// Which open node is processed next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeSelection {
    /// The node with the smallest LP bound (ties: deeper, then older).
    BestBound,
    /// The last child created (the child on the side the LP value rounds to first).
    DepthFirst,
}

impl std::str::FromStr for NodeSelection {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "best-bound" => Ok(NodeSelection::BestBound),
            "depth-first" => Ok(NodeSelection::DepthFirst),
            other => Err(Error::invalid(
                "node selection",
                other,
                "best-bound or depth-first",
            )),
        }
    }
}

/// How a search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Termination {
    /// The incumbent is optimal (within the tolerances).
    Optimal,
    /// No integer feasible point exists.
    Infeasible,
    /// The LP relaxation is unbounded.
    Unbounded,
    /// `max_nodes` nodes were processed.
    NodeLimit,
    /// `max_lp_iterations` dual pivots were spent.
    IterationLimit,
    /// `time_limit` seconds passed.
    TimeLimit,
}

/// Search parameters.
#[derive(Debug, Clone)]
pub struct BnbParams {
    /// Node selection.
    pub node_selection: NodeSelection,
    /// Most nodes processed.
    pub max_nodes: u64,
    /// Most dual simplex pivots (node LPs and strong branching together).
    pub max_lp_iterations: u64,
    /// Wall-clock limit in seconds.
    pub time_limit: Option<f64>,
    /// Activity-based bound propagation at every node.
    pub propagate: bool,
    /// Reduced-cost fixing at every node once an incumbent exists.
    pub reduced_cost_fixing: bool,
    /// A known objective value (problem sense): nodes that cannot beat it
    /// are pruned (as if an incumbent of that value existed).
    pub cutoff: Option<f64>,
    /// The LP engine of the node relaxations ([`LpEngine`]; the dense
    /// bounded dual simplex by default, chosen by the whole-search
    /// measurement of `examples/milp_lp_engines.rs`, see
    /// `docs/combopt.md`). With [`LpEngine::Microlp`], reduced-cost fixing
    /// is skipped (no reduced costs) and the LP-iteration limit is checked
    /// between nodes only.
    pub lp_engine: LpEngine,
}

impl Default for BnbParams {
    fn default() -> Self {
        BnbParams {
            node_selection: NodeSelection::BestBound,
            max_nodes: 1_000_000,
            max_lp_iterations: u64::MAX,
            time_limit: None,
            propagate: true,
            reduced_cost_fixing: true,
            cutoff: None,
            lp_engine: LpEngine::Dense,
        }
    }
}

/// The result of a search. Objective values are in the problem's sense.
#[derive(Debug, Clone, Serialize)]
pub struct BnbResult {
    /// How it ended.
    pub status: Termination,
    /// Best objective found.
    pub objective: Option<f64>,
    /// Best point found.
    pub x: Option<Vec<f64>>,
    /// Proven bound on the optimum (lower when minimising, upper when
    /// maximising).
    pub bound: f64,
    /// `|objective - bound| / max(1, |objective|)`, when both exist.
    pub gap: Option<f64>,
    /// LP bound at the root.
    pub root_bound: Option<f64>,
    /// Nodes whose LP was solved.
    pub nodes: u64,
    /// Dual simplex pivots in node LPs.
    pub lp_iterations: u64,
    /// Dual simplex pivots in strong branching.
    pub strong_iterations: u64,
    /// Deepest node.
    pub max_depth: usize,
    /// Bounds tightened by propagation and reduced-cost fixing.
    pub tightenings: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// The branching rule.
    pub branching: String,
}

struct Node<W> {
    id: u64,
    parent: u64,
    /// The parent's LP state (dense: its basis; microlp: its solution).
    basis: Rc<W>,
    lb: Vec<f64>,
    ub: Vec<f64>,
    bound: f64,
    depth: usize,
    /// `(var, up, fractional distance, parent objective)`.
    branch: Option<(usize, bool, f64, f64)>,
}

struct Open<W>(Node<W>);

impl<W> PartialEq for Open<W> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<W> Eq for Open<W> {}
impl<W> PartialOrd for Open<W> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<W> Ord for Open<W> {
    /// Max-heap order: smaller bound first, then deeper, then older.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .0
            .bound
            .total_cmp(&self.0.bound)
            .then(self.0.depth.cmp(&other.0.depth))
            .then(other.0.id.cmp(&self.0.id))
    }
}

enum Queue<W> {
    Best(BinaryHeap<Open<W>>),
    Depth(Vec<Node<W>>),
}

impl<W> Queue<W> {
    fn push(&mut self, n: Node<W>) {
        match self {
            Queue::Best(h) => h.push(Open(n)),
            Queue::Depth(v) => v.push(n),
        }
    }
    fn pop(&mut self) -> Option<Node<W>> {
        match self {
            Queue::Best(h) => h.pop().map(|o| o.0),
            Queue::Depth(v) => v.pop(),
        }
    }
    fn min_bound(&self) -> f64 {
        let it: Box<dyn Iterator<Item = f64>> = match self {
            Queue::Best(h) => Box::new(h.iter().map(|o| o.0.bound)),
            Queue::Depth(v) => Box::new(v.iter().map(|n| n.bound)),
        };
        it.fold(f64::INFINITY, f64::min)
    }
}

/// Activity-based bound propagation (FBBT) over every row, at most
/// `passes` rounds; integer bounds are rounded. Returns the number of
/// tightened bounds, or `None` when a row or bound proves infeasibility.
pub fn propagate(p: &Milp, lb: &mut [f64], ub: &mut [f64], passes: usize) -> Option<u64> {
    let mut count = 0;
    for _ in 0..passes {
        let mut changed = false;
        for row in &p.rows {
            // Minimum and maximum activity with counts of infinite terms.
            let (mut min_a, mut max_a, mut min_inf, mut max_inf) = (0.0, 0.0, 0u32, 0u32);
            for &(j, a) in &row.coefs {
                if a == 0.0 {
                    continue;
                }
                let (lo, hi) = if a > 0.0 {
                    (a * lb[j], a * ub[j])
                } else {
                    (a * ub[j], a * lb[j])
                };
                if lo.is_finite() {
                    min_a += lo;
                } else {
                    min_inf += 1;
                }
                if hi.is_finite() {
                    max_a += hi;
                } else {
                    max_inf += 1;
                }
            }
            let scale = 1.0 + row.upper.abs().min(row.lower.abs()).min(1e6);
            if (min_inf == 0 && min_a > row.upper + FEAS_TOL * scale)
                || (max_inf == 0 && max_a < row.lower - FEAS_TOL * scale)
            {
                return None;
            }
            for &(j, a) in &row.coefs {
                if a == 0.0 {
                    continue;
                }
                let (lo, hi) = if a > 0.0 {
                    (a * lb[j], a * ub[j])
                } else {
                    (a * ub[j], a * lb[j])
                };
                // Residual activities without j.
                let min_rest = if lo.is_finite() {
                    (min_inf == 0).then_some(min_a - lo)
                } else {
                    (min_inf == 1).then_some(min_a)
                };
                let max_rest = if hi.is_finite() {
                    (max_inf == 0).then_some(max_a - hi)
                } else {
                    (max_inf == 1).then_some(max_a)
                };
                let mut new_lb = lb[j];
                let mut new_ub = ub[j];
                if let (Some(r), true) = (min_rest, row.upper.is_finite()) {
                    let v = (row.upper - r) / a;
                    if a > 0.0 {
                        new_ub = new_ub.min(v);
                    } else {
                        new_lb = new_lb.max(v);
                    }
                }
                if let (Some(r), true) = (max_rest, row.lower.is_finite()) {
                    let v = (row.lower - r) / a;
                    if a > 0.0 {
                        new_lb = new_lb.max(v);
                    } else {
                        new_ub = new_ub.min(v);
                    }
                }
                if p.integer[j] {
                    new_lb = (new_lb - INT_TOL).ceil();
                    new_ub = (new_ub + INT_TOL).floor();
                }
                let width = (ub[j] - lb[j]).min(1e6);
                let min_step = if p.integer[j] {
                    0.5
                } else {
                    1e-3 * (1.0 + width)
                };
                if new_lb > lb[j] + min_step {
                    lb[j] = new_lb;
                    count += 1;
                    changed = true;
                }
                if new_ub < ub[j] - min_step {
                    ub[j] = new_ub;
                    count += 1;
                    changed = true;
                }
                if lb[j] > ub[j] + FEAS_TOL {
                    return None;
                }
                if lb[j] > ub[j] {
                    ub[j] = lb[j];
                }
            }
        }
        if !changed {
            break;
        }
    }
    Some(count)
}

/// Whether the objective takes integer values on every feasible point
/// (integer coefficients on integer variables, none on continuous ones),
/// so a node whose bound rounds up to the incumbent can be pruned.
fn integral_objective(p: &Milp) -> bool {
    p.obj
        .iter()
        .zip(&p.integer)
        .all(|(&c, &int)| if int { c == c.round() } else { c == 0.0 })
        && p.obj_offset == p.obj_offset.round()
}

/// Solves `p` by branch-and-bound with `rule`.
///
/// # Errors
/// An invalid problem, a tableau beyond the memory budget, or an error of
/// the branching rule.
pub fn branch_and_bound(
    p: &Milp,
    rule: &mut dyn BranchingRule,
    params: &BnbParams,
) -> Result<BnbResult> {
    let mut observer = |_: &NodeEvent<'_>| {};
    branch_and_bound_observed(p, rule, params, &mut observer)
}

/// One branching decision, shown to an observer (used to record
/// strong-branching demonstrations and RL trajectories).
pub struct NodeEvent<'a> {
    /// Node id.
    pub node: u64,
    /// Parent id (root: itself).
    pub parent: u64,
    /// Depth.
    pub depth: usize,
    /// The candidates.
    pub candidates: &'a [Candidate],
    /// The candidate chosen.
    pub chosen: usize,
    /// The node LP at its optimum (its engine's view; [`NodeLp::as_dense`]
    /// gives the dense simplex with the default engine).
    pub lp: &'a dyn NodeLp,
    /// Its objective (minimisation form).
    pub lp_objective: f64,
}

/// [`branch_and_bound`] calling `observe` at every branching decision.
///
/// # Errors
/// As [`branch_and_bound`].
pub fn branch_and_bound_observed(
    p: &Milp,
    rule: &mut dyn BranchingRule,
    params: &BnbParams,
    observe: &mut dyn FnMut(&NodeEvent<'_>),
) -> Result<BnbResult> {
    branch_and_bound_traced(p, rule, params, observe, &mut |_, _| {})
}

/// [`branch_and_bound_observed`] also calling `visit(node, parent)` for
/// every processed node (every node counted in [`BnbResult::nodes`]; the
/// root's parent is itself), so the search tree can be rebuilt (the
/// revived trajectories of `milp::revived` need every node's subtree
/// size, leaves included).
///
/// # Errors
/// As [`branch_and_bound`].
pub fn branch_and_bound_traced(
    p: &Milp,
    rule: &mut dyn BranchingRule,
    params: &BnbParams,
    observe: &mut dyn FnMut(&NodeEvent<'_>),
    visit: &mut dyn FnMut(u64, u64),
) -> Result<BnbResult> {
    let start = Instant::now();
    if params.time_limit.is_some_and(|t| t.is_nan() || t < 0.0) {
        return Err(Error::invalid(
            "time limit",
            params.time_limit.unwrap_or(f64::NAN),
            "a number of seconds >= 0",
        ));
    }
    let deadline = params
        .time_limit
        .map(|t| start + std::time::Duration::from_secs_f64(t.min(1e9)));
    match params.lp_engine {
        LpEngine::Dense => {
            let lp = DualSimplex::new(p)?;
            search(p, rule, params, observe, visit, lp, start, deadline)
        }
        LpEngine::Microlp => {
            let lp = MicrolpLp::new(p, params.time_limit)?;
            search(p, rule, params, observe, visit, lp, start, deadline)
        }
    }
}

/// The search loop over any engine.
#[allow(clippy::too_many_arguments)]
fn search<E: SearchLp>(
    p: &Milp,
    rule: &mut dyn BranchingRule,
    params: &BnbParams,
    observe: &mut dyn FnMut(&NodeEvent<'_>),
    visit: &mut dyn FnMut(u64, u64),
    mut lp: E,
    start: Instant,
    deadline: Option<Instant>,
) -> Result<BnbResult> {
    let sign = if p.maximize { -1.0 } else { 1.0 };
    let n = p.num_vars();
    let int_obj = integral_objective(p);
    // Incumbent in minimisation form (without the offset).
    let mut incumbent = params
        .cutoff
        .map(|c| sign * (c - p.obj_offset))
        .unwrap_or(f64::INFINITY);
    let mut best_x: Option<Vec<f64>> = None;
    let prune_level = |inc: f64| -> f64 {
        if !inc.is_finite() {
            f64::INFINITY
        } else if int_obj {
            inc - 1.0 + 1e-6
        } else {
            inc - 1e-9 * inc.abs().max(1.0)
        }
    };
    let mut res = BnbResult {
        status: Termination::Optimal,
        objective: None,
        x: None,
        bound: f64::NEG_INFINITY,
        gap: None,
        root_bound: None,
        nodes: 0,
        lp_iterations: 0,
        strong_iterations: 0,
        max_depth: 0,
        tightenings: 0,
        seconds: 0.0,
        branching: rule.name().to_string(),
    };
    let mut pseudocosts = Pseudocosts::new(n);
    let mut scratch = LpScratch::default();
    let mut queue = match params.node_selection {
        NodeSelection::BestBound => Queue::Best(BinaryHeap::new()),
        NodeSelection::DepthFirst => Queue::Depth(Vec::new()),
    };
    queue.push(Node {
        id: 0,
        parent: 0,
        basis: Rc::new(lp.root_warm()),
        lb: p.lower.clone(),
        ub: p.upper.clone(),
        bound: f64::NEG_INFINITY,
        depth: 0,
        branch: None,
    });
    let mut next_id = 1u64;
    let mut last_solved = u64::MAX;
    let mut stopped: Option<(Termination, f64)> = None;
    while let Some(mut node) = queue.pop() {
        if node.bound > prune_level(incumbent) {
            continue;
        }
        let spent = res.lp_iterations + res.strong_iterations;
        let limit = if res.nodes >= params.max_nodes {
            Some(Termination::NodeLimit)
        } else if spent >= params.max_lp_iterations {
            Some(Termination::IterationLimit)
        } else if deadline.is_some_and(|d| Instant::now() >= d) {
            Some(Termination::TimeLimit)
        } else {
            None
        };
        if let Some(t) = limit {
            stopped = Some((t, node.bound));
            break;
        }
        res.nodes += 1;
        visit(node.id, node.parent);
        res.max_depth = res.max_depth.max(node.depth);
        if params.propagate {
            match propagate(p, &mut node.lb, &mut node.ub, 5) {
                Some(c) => res.tightenings += c,
                None => continue,
            }
        }
        let continuing = last_solved == node.parent && node.id != 0;
        last_solved = node.id;
        let before = lp.iterations();
        let status = lp.solve_node(
            &node.lb,
            &node.ub,
            node.basis,
            continuing,
            params.max_lp_iterations.saturating_sub(spent),
            prune_level(incumbent),
            deadline,
        )?;
        res.lp_iterations += lp.iterations() - before;
        let z = lp.objective();
        match status {
            LpStatus::Infeasible | LpStatus::Cutoff => continue,
            LpStatus::Unbounded => {
                stopped = Some((Termination::Unbounded, f64::NEG_INFINITY));
                break;
            }
            LpStatus::IterationLimit | LpStatus::TimeLimit => {
                let t = if status == LpStatus::TimeLimit {
                    Termination::TimeLimit
                } else {
                    Termination::IterationLimit
                };
                stopped = Some((t, node.bound.max(z)));
                break;
            }
            LpStatus::Optimal => {}
        }
        if node.id == 0 {
            res.root_bound = Some(sign * z + p.obj_offset);
        }
        if let Some((var, up, frac, parent_z)) = node.branch {
            pseudocosts.update(var, up, z - parent_z, frac);
        }
        if z > prune_level(incumbent) {
            continue;
        }
        let x = lp.x();
        let candidates: Vec<Candidate> = (0..n)
            .filter(|&j| p.integer[j] && (x[j] - x[j].round()).abs() > INT_TOL)
            .map(|j| Candidate {
                var: j,
                value: x[j],
            })
            .collect();
        if candidates.is_empty() {
            let mut point = x.to_vec();
            for j in 0..n {
                if p.integer[j] {
                    point[j] = point[j].round();
                }
            }
            if p.max_violation(&point) <= FEAS_TOL * 10.0 && z < incumbent {
                incumbent = z;
                best_x = Some(point);
            }
            continue;
        }
        // Reduced-cost fixing needs the dense engine's reduced costs.
        if let Some(lp) = lp
            .as_dense()
            .filter(|_| params.reduced_cost_fixing && incumbent.is_finite())
        {
            let d = lp.reduced_costs();
            let slack = incumbent - z;
            for j in 0..n {
                if !p.integer[j] || lp.is_basic(j) {
                    continue;
                }
                if !lp.at_upper(j) && d[j] > 1e-9 && node.lb[j].is_finite() {
                    let nu = node.lb[j] + (slack / d[j] + INT_TOL).floor();
                    if nu < node.ub[j] {
                        node.ub[j] = nu;
                        res.tightenings += 1;
                    }
                } else if lp.at_upper(j) && d[j] < -1e-9 && node.ub[j].is_finite() {
                    let nl = node.ub[j] - (slack / -d[j] + INT_TOL).floor();
                    if nl > node.lb[j] {
                        node.lb[j] = nl;
                        res.tightenings += 1;
                    }
                }
            }
        }
        let chosen = {
            let mut state = BranchState {
                problem: p,
                candidates: &candidates,
                lp: &lp,
                lp_objective: z,
                depth: node.depth,
                pseudocosts: &mut pseudocosts,
                strong_iterations: &mut res.strong_iterations,
                cutoff: prune_level(incumbent),
                deadline,
                scratch: &mut scratch,
            };
            rule.select(&mut state)?
        };
        if chosen >= candidates.len() {
            return Err(Error::invalid(
                format!("candidate chosen by branching rule {}", rule.name()),
                chosen,
                format!("below the number of candidates, {}", candidates.len()),
            ));
        }
        observe(&NodeEvent {
            node: node.id,
            parent: node.parent,
            depth: node.depth,
            candidates: &candidates,
            chosen,
            lp: &lp,
            lp_objective: z,
        });
        let c = candidates[chosen];
        let basis = Rc::new(lp.save());
        let mut make = |up: bool| {
            let mut lb = node.lb.clone();
            let mut ub = node.ub.clone();
            if up {
                lb[c.var] = c.value.ceil();
            } else {
                ub[c.var] = c.value.floor();
            }
            let id = next_id;
            next_id += 1;
            Node {
                id,
                parent: node.id,
                basis: Rc::clone(&basis),
                lb,
                ub,
                bound: z,
                depth: node.depth + 1,
                branch: Some((c.var, up, if up { c.up_frac() } else { c.down_frac() }, z)),
            }
        };
        // The side the value rounds to is explored first (pushed last).
        let up_first = c.up_frac() <= 0.5;
        let (first, second) = if up_first {
            (make(true), make(false))
        } else {
            (make(false), make(true))
        };
        queue.push(second);
        queue.push(first);
    }
    let open_bound = match &stopped {
        Some((_, b)) => b.min(queue.min_bound()),
        None => f64::INFINITY,
    };
    res.status = match stopped {
        Some((t, _)) => t,
        None if best_x.is_some() || params.cutoff.is_some() && incumbent.is_finite() => {
            Termination::Optimal
        }
        None => Termination::Infeasible,
    };
    if res.status == Termination::Optimal && best_x.is_none() {
        // The cutoff pruned everything: no point better than it exists.
        res.status = Termination::Infeasible;
    }
    let bound_min = open_bound.min(incumbent);
    res.bound = if res.status == Termination::Infeasible {
        sign * f64::INFINITY
    } else {
        sign * bound_min + p.obj_offset
    };
    if let Some(x) = best_x {
        let obj = p.objective(&x);
        res.gap = Some((obj - res.bound).abs() / obj.abs().max(1.0));
        res.objective = Some(obj);
        res.x = Some(x);
    }
    res.seconds = start.elapsed().as_secs_f64();
    Ok(res)
}
