//! The LP engines branch-and-bound can run its node relaxations on
//! ([`LpEngine`]), and the view of a solved node LP that branching rules
//! and observers get ([`NodeLp`]).
//!
//! - [`LpEngine::Dense`] (the default): the workspace's dense-tableau
//!   bounded dual simplex [`DualSimplex`], warm-started from the parent's
//!   basis after bound changes; it stops a node LP as soon as its dual bound
//!   passes the incumbent (cutoff), honours the LP-iteration limit inside a
//!   solve and exposes reduced costs and the basis (reduced-cost fixing, the
//!   GCNN features of [`super::features`]).
//! - [`LpEngine::Microlp`]: the `microlp` crate (0.7, pure Rust, sparse LU
//!   factorised basis, dual simplex re-solves after edits). Each open node
//!   keeps its parent's solved `microlp::Solution` (a clone of the whole
//!   solver state) and the child re-solves from it by the dual simplex after
//!   the node's bounds are imposed. microlp's public API changes bounds only
//!   by fixing a variable (`Solution::fix_var`) or adding a row
//!   (`Solution::add_constraint`), and every edit re-solves, so the node
//!   bounds are imposed *lazily*: while the LP optimum violates a node bound
//!   (by more than `1e-6 (1 + |bound|)`), the most violated one is added (a
//!   fix when the node's bounds are equal, else a one-variable row), and the
//!   LP is re-solved. The final optimum satisfies every node bound and is
//!   optimal for a relaxation of the node LP, hence optimal for the node LP
//!   itself: the same bound as the dense engine, possibly at another
//!   optimal vertex when the LP is degenerate.
//!
//!   What differs, honestly: microlp has no cutoff inside a solve (the node
//!   LP is solved to optimality, then compared with the incumbent: the same
//!   pruning, more pivots), no LP-iteration limit inside a solve (the limit
//!   is checked between nodes, so a search may pass it by one node's pivots;
//!   strong-branching children are solved to optimality whatever their pivot
//!   budget), its time limit is per call (the whole remaining budget at the
//!   root, and the deadline is checked between nodes), and its public API
//!   has neither reduced costs nor a basis, so reduced-cost fixing is
//!   skipped and rules needing [`NodeLp::as_dense`] (the learned `gnn` rule,
//!   strong-branching sample collection) refuse it. The pivots of an edit
//!   that proves a child infeasible are not reported by microlp (the
//!   solution is consumed by the error) and are not counted. Its advantage:
//!   no dense `m x (n + m)` tableau, so no memory budget on the tableau and
//!   far cheaper pivots on large sparse problems.

use std::rc::Rc;
use std::time::Instant;

use duality_core::{Error, Result};
use serde::Serialize;

use super::lp::{DualSimplex, LpStatus};
use super::problem::Milp;

/// The LP engine of branch-and-bound's node relaxations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LpEngine {
    /// The workspace's dense-tableau bounded dual simplex ([`DualSimplex`]).
    #[default]
    Dense,
    /// The `microlp` crate's sparse dual simplex, warm re-solves through
    /// its solution edits (see the module documentation for what differs).
    Microlp,
}

impl LpEngine {
    /// Every engine, in a fixed order.
    pub const ALL: [LpEngine; 2] = [LpEngine::Dense, LpEngine::Microlp];

    /// Its name (`dense`, `microlp`), as parsed and serialised.
    pub fn name(self) -> &'static str {
        match self {
            LpEngine::Dense => "dense",
            LpEngine::Microlp => "microlp",
        }
    }
}

impl std::fmt::Display for LpEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for LpEngine {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        LpEngine::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| Error::invalid("LP engine", s, "dense or microlp"))
    }
}

/// A child LP solved from a node's optimum (strong branching).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trial {
    /// How the solve ended.
    pub status: LpStatus,
    /// Its objective (minimisation form): the optimum, or a valid dual
    /// bound when the solve stopped early.
    pub objective: f64,
    /// Pivots it took.
    pub iterations: u64,
}

/// Reusable storage for [`NodeLp::trial`] (the dense engine's scratch
/// tableau).
#[derive(Debug, Default)]
pub struct LpScratch {
    dense: Option<DualSimplex>,
}

/// A node LP at its optimum, as branching rules and observers see it,
/// whatever the engine.
pub trait NodeLp {
    /// The engine behind it.
    fn engine(&self) -> LpEngine;
    /// Values of the structural variables.
    fn x(&self) -> &[f64];
    /// The objective (minimisation form, without the offset).
    fn objective(&self) -> f64;
    /// The node's bounds of structural variable `j`.
    fn bounds(&self, j: usize) -> (f64, f64);
    /// The dense simplex (reduced costs, basis status, row duals) when the
    /// engine is [`LpEngine::Dense`].
    fn as_dense(&self) -> Option<&DualSimplex>;
    /// Solves the child whose bounds of `var` are `[lower, upper]` from this
    /// optimum, leaving `self` unchanged: at most `max_iterations` pivots
    /// and stopping at `cutoff` where the engine can (the dense one), to
    /// optimality otherwise. An engine failure gives this LP's own
    /// objective with [`LpStatus::IterationLimit`] (a valid, uninformative
    /// bound).
    #[allow(clippy::too_many_arguments)]
    fn trial(
        &self,
        var: usize,
        lower: f64,
        upper: f64,
        max_iterations: u64,
        cutoff: f64,
        deadline: Option<Instant>,
        scratch: &mut LpScratch,
    ) -> Trial;
}

impl NodeLp for DualSimplex {
    fn engine(&self) -> LpEngine {
        LpEngine::Dense
    }
    fn x(&self) -> &[f64] {
        DualSimplex::x(self)
    }
    fn objective(&self) -> f64 {
        DualSimplex::objective(self)
    }
    fn bounds(&self, j: usize) -> (f64, f64) {
        DualSimplex::bounds(self, j)
    }
    fn as_dense(&self) -> Option<&DualSimplex> {
        Some(self)
    }
    fn trial(
        &self,
        var: usize,
        lower: f64,
        upper: f64,
        max_iterations: u64,
        cutoff: f64,
        deadline: Option<Instant>,
        scratch: &mut LpScratch,
    ) -> Trial {
        let lp = match scratch.dense.as_mut() {
            Some(s) => {
                s.clone_from(self);
                s
            }
            None => scratch.dense.insert(self.clone()),
        };
        lp.set_bounds(var, lower, upper);
        let before = lp.iterations();
        let status = lp.solve(max_iterations, cutoff, deadline);
        Trial {
            status,
            objective: lp.objective(),
            iterations: lp.iterations() - before,
        }
    }
}

/// What the search loop needs of an engine beyond [`NodeLp`].
pub(crate) trait SearchLp: NodeLp {
    /// The state a child warm-starts from.
    type Warm;
    /// The root's warm state.
    fn root_warm(&self) -> Self::Warm;
    /// Solves the node LP with bounds `lb`, `ub`, from `warm` unless
    /// `continuing` (the node is a child of the last node solved, whose
    /// state the engine still holds, and the engine can use it).
    #[allow(clippy::too_many_arguments)]
    fn solve_node(
        &mut self,
        lb: &[f64],
        ub: &[f64],
        warm: Rc<Self::Warm>,
        continuing: bool,
        max_iterations: u64,
        cutoff: f64,
        deadline: Option<Instant>,
    ) -> Result<LpStatus>;
    /// The warm state of the node just solved, for its children.
    fn save(&mut self) -> Self::Warm;
    /// Pivots so far (all node solves, not trials).
    fn iterations(&self) -> u64;
}

impl SearchLp for DualSimplex {
    type Warm = super::lp::Basis;
    fn root_warm(&self) -> Self::Warm {
        self.basis()
    }
    fn solve_node(
        &mut self,
        lb: &[f64],
        ub: &[f64],
        warm: Rc<Self::Warm>,
        continuing: bool,
        max_iterations: u64,
        cutoff: f64,
        deadline: Option<Instant>,
    ) -> Result<LpStatus> {
        for (j, (&l, &u)) in lb.iter().zip(ub).enumerate() {
            self.set_bounds(j, l, u);
        }
        if !continuing {
            self.load_basis(&warm)?;
        }
        Ok(self.solve(max_iterations, cutoff, deadline))
    }
    fn save(&mut self) -> Self::Warm {
        self.basis()
    }
    fn iterations(&self) -> u64 {
        DualSimplex::iterations(self)
    }
}

/// Relative tolerance of a node bound against a microlp optimum.
const BOUND_TOL: f64 = 1e-6;

/// How imposing bounds on a microlp solution ended.
enum Imposed {
    Optimal(microlp::Solution),
    Infeasible,
    Unbounded,
    TimeLimit,
}

/// The node LPs on `microlp` ([`LpEngine::Microlp`]): what branching
/// rules and observers see (through [`NodeLp`]) when a search runs on that
/// engine; branch-and-bound builds and drives it.
pub struct MicrolpLp {
    problem: microlp::Problem,
    vars: Vec<microlp::Variable>,
    /// An empty row that cannot hold: the LP is infeasible.
    empty_infeasible: bool,
    sol: Option<microlp::Solution>,
    x: Vec<f64>,
    objective: f64,
    lb: Vec<f64>,
    ub: Vec<f64>,
    iterations: u64,
}

impl std::fmt::Debug for MicrolpLp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MicrolpLp")
            .field("vars", &self.vars.len())
            .field("objective", &self.objective)
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

impl MicrolpLp {
    /// The LP relaxation of `p` (minimisation form, every variable
    /// continuous) as a microlp problem; `time_limit` seconds per microlp
    /// call. Nothing is solved yet.
    ///
    /// # Errors
    /// An invalid problem.
    pub(crate) fn new(p: &Milp, time_limit: Option<f64>) -> Result<Self> {
        p.validate()?;
        let mut problem = microlp::Problem::new(microlp::OptimizationDirection::Minimize);
        if let Some(t) = time_limit {
            problem.set_time_limit(std::time::Duration::from_secs_f64(t.clamp(0.0, 1e9)));
        }
        let costs = p.min_costs();
        let vars: Vec<microlp::Variable> = (0..p.num_vars())
            .map(|j| problem.add_var(costs[j], (p.lower[j], p.upper[j])))
            .collect();
        let mut empty_infeasible = false;
        for row in &p.rows {
            // Repeated variables summed, zero coefficients dropped.
            let mut coefs: Vec<(usize, f64)> = row.coefs.clone();
            coefs.sort_by_key(|&(j, _)| j);
            let mut expr: Vec<(microlp::Variable, f64)> = Vec::with_capacity(coefs.len());
            let mut last = usize::MAX;
            for (j, v) in coefs {
                if j == last {
                    if let Some(e) = expr.last_mut() {
                        e.1 += v;
                    }
                } else {
                    expr.push((vars[j], v));
                    last = j;
                }
            }
            expr.retain(|&(_, v)| v != 0.0);
            if expr.is_empty() {
                empty_infeasible |= row.lower > 0.0 || row.upper < 0.0;
                continue;
            }
            if row.lower == row.upper {
                problem.add_constraint(expr, microlp::ComparisonOp::Eq, row.lower);
                continue;
            }
            if row.lower.is_finite() {
                problem.add_constraint(expr.clone(), microlp::ComparisonOp::Ge, row.lower);
            }
            if row.upper.is_finite() {
                problem.add_constraint(expr, microlp::ComparisonOp::Le, row.upper);
            }
        }
        Ok(MicrolpLp {
            problem,
            vars,
            empty_infeasible,
            sol: None,
            x: vec![0.0; p.num_vars()],
            objective: f64::NEG_INFINITY,
            lb: p.lower.clone(),
            ub: p.upper.clone(),
            iterations: 0,
        })
    }

    /// Pivots microlp reported so far (node solves; trials excluded).
    pub fn iterations(&self) -> u64 {
        self.iterations
    }

    fn failure(e: &microlp::Error) -> Error {
        Error::invalid("microlp LP solve", e.to_string(), "a solved node LP")
    }

    /// The most violated bound of `lb`, `ub` at `sol`'s values.
    fn most_violated(
        &self,
        sol: &microlp::Solution,
        lb: &[f64],
        ub: &[f64],
    ) -> Option<(usize, bool)> {
        let mut best = None;
        let mut worst = 0.0;
        for (j, &v) in self.vars.iter().enumerate() {
            let x = sol.var_value(v);
            let below = lb[j] - x;
            let above = x - ub[j];
            if below > BOUND_TOL * (1.0 + lb[j].abs()) && below > worst {
                worst = below;
                best = Some((j, true));
            } else if above > BOUND_TOL * (1.0 + ub[j].abs()) && above > worst {
                worst = above;
                best = Some((j, false));
            }
        }
        best
    }

    /// Edits `sol` until its optimum satisfies `lb`, `ub` (module docs),
    /// adding the reported pivots to `iters`.
    fn impose(
        &self,
        mut sol: microlp::Solution,
        lb: &[f64],
        ub: &[f64],
        iters: &mut u64,
    ) -> Result<Imposed> {
        let mut edits = 0usize;
        while let Some((j, below)) = self.most_violated(&sol, lb, ub) {
            edits += 1;
            if edits > 4 * self.vars.len() + 16 {
                return Err(Error::invalid(
                    "microlp node LP",
                    format!("{edits} bound edits without meeting the node's bounds"),
                    "an optimum within the node's bounds",
                ));
            }
            let before = sol.stats().lp_iterations;
            let v = self.vars[j];
            let out = if lb[j] == ub[j] {
                sol.fix_var(v, lb[j])
            } else if below {
                sol.add_constraint([(v, 1.0)], microlp::ComparisonOp::Ge, lb[j])
            } else {
                sol.add_constraint([(v, 1.0)], microlp::ComparisonOp::Le, ub[j])
            };
            match Self::outcome(out, before, iters)? {
                Imposed::Optimal(s) => sol = s,
                other => return Ok(other),
            }
        }
        Ok(Imposed::Optimal(sol))
    }

    /// A microlp solve or edit as an [`Imposed`], adding the pivots it
    /// reported beyond `before` (the solution's count before an edit, 0
    /// for a solve from scratch) to `iters`.
    fn outcome(
        out: std::result::Result<microlp::SolveOutcome, microlp::Error>,
        before: u64,
        iters: &mut u64,
    ) -> Result<Imposed> {
        match out {
            Ok(o) => {
                *iters += o.stats().lp_iterations.saturating_sub(before);
                Ok(match o.into_solution() {
                    Ok(s) => Imposed::Optimal(s),
                    Err(_) => Imposed::TimeLimit,
                })
            }
            Err(microlp::Error::Infeasible) => Ok(Imposed::Infeasible),
            Err(microlp::Error::Unbounded) => Ok(Imposed::Unbounded),
            Err(e) => Err(Self::failure(&e)),
        }
    }

    /// The root LP from scratch.
    fn solve_root(&mut self, iters: &mut u64) -> Result<Imposed> {
        if self.empty_infeasible {
            return Ok(Imposed::Infeasible);
        }
        Self::outcome(self.problem.solve(), 0, iters)
    }
}

impl NodeLp for MicrolpLp {
    fn engine(&self) -> LpEngine {
        LpEngine::Microlp
    }
    fn x(&self) -> &[f64] {
        &self.x
    }
    fn objective(&self) -> f64 {
        self.objective
    }
    fn bounds(&self, j: usize) -> (f64, f64) {
        (self.lb[j], self.ub[j])
    }
    fn as_dense(&self) -> Option<&DualSimplex> {
        None
    }
    fn trial(
        &self,
        var: usize,
        lower: f64,
        upper: f64,
        _max_iterations: u64,
        cutoff: f64,
        _deadline: Option<Instant>,
        _scratch: &mut LpScratch,
    ) -> Trial {
        let unfinished = |iterations| Trial {
            status: LpStatus::IterationLimit,
            objective: self.objective,
            iterations,
        };
        let Some(sol) = &self.sol else {
            return unfinished(0);
        };
        let mut lb = self.lb.clone();
        let mut ub = self.ub.clone();
        lb[var] = lower;
        ub[var] = upper;
        let mut iterations = 0;
        match self.impose(sol.clone(), &lb, &ub, &mut iterations) {
            Ok(Imposed::Optimal(s)) => {
                let objective = s.objective();
                Trial {
                    status: if objective > cutoff {
                        LpStatus::Cutoff
                    } else {
                        LpStatus::Optimal
                    },
                    objective,
                    iterations,
                }
            }
            Ok(Imposed::Infeasible) => Trial {
                status: LpStatus::Infeasible,
                objective: f64::INFINITY,
                iterations,
            },
            Ok(Imposed::TimeLimit) => Trial {
                status: LpStatus::TimeLimit,
                ..unfinished(iterations)
            },
            Ok(Imposed::Unbounded) | Err(_) => unfinished(iterations),
        }
    }
}

impl SearchLp for MicrolpLp {
    /// The parent's solved state (`None`: solve the root from scratch).
    type Warm = Option<microlp::Solution>;
    fn root_warm(&self) -> Self::Warm {
        None
    }
    fn solve_node(
        &mut self,
        lb: &[f64],
        ub: &[f64],
        warm: Rc<Self::Warm>,
        _continuing: bool,
        _max_iterations: u64,
        cutoff: f64,
        _deadline: Option<Instant>,
    ) -> Result<LpStatus> {
        self.lb.copy_from_slice(lb);
        self.ub.copy_from_slice(ub);
        self.sol = None;
        self.objective = f64::NEG_INFINITY;
        // The last sibling to leave takes the parent's state without a copy.
        let start = Rc::try_unwrap(warm).unwrap_or_else(|rc| (*rc).clone());
        let mut iters = 0;
        let started = match start {
            Some(s) => Imposed::Optimal(s),
            None => self.solve_root(&mut iters)?,
        };
        let imposed = match started {
            Imposed::Optimal(s) => self.impose(s, lb, ub, &mut iters)?,
            other => other,
        };
        self.iterations += iters;
        Ok(match imposed {
            Imposed::Optimal(s) => {
                for (xj, &v) in self.x.iter_mut().zip(&self.vars) {
                    *xj = s.var_value(v);
                }
                self.objective = s.objective();
                self.sol = Some(s);
                if self.objective > cutoff {
                    LpStatus::Cutoff
                } else {
                    LpStatus::Optimal
                }
            }
            Imposed::Infeasible => LpStatus::Infeasible,
            Imposed::Unbounded => LpStatus::Unbounded,
            Imposed::TimeLimit => LpStatus::TimeLimit,
        })
    }
    fn save(&mut self) -> Self::Warm {
        self.sol.take()
    }
    fn iterations(&self) -> u64 {
        self.iterations
    }
}
