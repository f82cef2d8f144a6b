//! Branching rules: the open [`BranchingRule`] trait, pseudo-costs and the
//! registry ([`BranchingRegistry`]) of most fractional, pseudo-cost, full
//! strong and reliability branching.
//!
//! Scores follow Achterberg, Koch & Martin (2005), *Branching rules
//! revisited*, Oper. Res. Lett. 33: the product score
//! `score = max(q-, eps) * max(q+, eps)` of the two children's objective
//! gains (eq. (2) with SCIP's product rule, `eps = 1e-6`); pseudo-costs are
//! the average objective gain per unit of fractionality in each direction
//! (eq. (1)), uninitialised ones take the average of the initialised ones
//! (1 when there is none); reliability branching (their Algorithm 3)
//! strong-branches candidates whose pseudo-costs rest on fewer than
//! `eta_rel` observations in either direction, in order of their
//! pseudo-cost score, and stops after `lookahead` strong-branching
//! evaluations without a new best.

use std::collections::BTreeMap;
use std::time::Instant;

use duality_core::{Error, Result};

use super::engine::{LpScratch, NodeLp};
use super::lp::LpStatus;
use super::problem::Milp;

/// Smallest gain in the product score.
pub const SCORE_EPS: f64 = 1e-6;
/// Gain standing for an infeasible or cut-off child.
pub const INFEASIBLE_GAIN: f64 = 1e12;

/// A fractional integer variable of the node's LP solution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Variable index.
    pub var: usize,
    /// Its LP value.
    pub value: f64,
}

impl Candidate {
    /// Distance to the down branch, `value - floor(value)`.
    pub fn down_frac(&self) -> f64 {
        self.value - self.value.floor()
    }
    /// Distance to the up branch, `ceil(value) - value`.
    pub fn up_frac(&self) -> f64 {
        self.value.ceil() - self.value
    }
}

/// The product score of two gains.
pub fn product_score(down: f64, up: f64) -> f64 {
    down.max(SCORE_EPS) * up.max(SCORE_EPS)
}

/// Per-variable pseudo-costs: sums and counts of unit gains per direction.
#[derive(Debug, Clone, Default)]
pub struct Pseudocosts {
    sum: [Vec<f64>; 2],
    count: [Vec<u32>; 2],
    total: [f64; 2],
    total_count: [u32; 2],
}

impl Pseudocosts {
    /// Pseudo-costs of `n` variables, none observed.
    pub fn new(n: usize) -> Self {
        Pseudocosts {
            sum: [vec![0.0; n], vec![0.0; n]],
            count: [vec![0; n], vec![0; n]],
            total: [0.0; 2],
            total_count: [0; 2],
        }
    }

    /// Records a gain `gain` (objective increase, >= 0) of branching `var`
    /// `up` or down over a fractional distance `frac`.
    pub fn update(&mut self, var: usize, up: bool, gain: f64, frac: f64) {
        if frac <= 1e-9 || !gain.is_finite() {
            return;
        }
        let unit = gain.max(0.0) / frac;
        let k = usize::from(up);
        self.sum[k][var] += unit;
        self.count[k][var] += 1;
        self.total[k] += unit;
        self.total_count[k] += 1;
    }

    /// Observations of `var` in direction `up`.
    pub fn count(&self, var: usize, up: bool) -> u32 {
        self.count[usize::from(up)][var]
    }

    /// Pseudo-cost of `var` in direction `up` (average unit gain; the
    /// average over initialised variables when `var` has none; 1 when no
    /// variable has any).
    pub fn value(&self, var: usize, up: bool) -> f64 {
        let k = usize::from(up);
        if self.count[k][var] > 0 {
            self.sum[k][var] / f64::from(self.count[k][var])
        } else if self.total_count[k] > 0 {
            self.total[k] / f64::from(self.total_count[k])
        } else {
            1.0
        }
    }

    /// Pseudo-cost product score of a candidate.
    pub fn score(&self, c: &Candidate) -> f64 {
        product_score(
            self.value(c.var, false) * c.down_frac(),
            self.value(c.var, true) * c.up_frac(),
        )
    }
}

/// Strong-branching outcome of one candidate: each child's LP objective
/// (minimisation form) or `None` when the child is infeasible or cut off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StrongResult {
    /// Down child.
    pub down: Option<f64>,
    /// Up child.
    pub up: Option<f64>,
}

/// What a branching rule sees at a node.
pub struct BranchState<'a> {
    /// The problem.
    pub problem: &'a Milp,
    /// Fractional integer variables of the node's LP optimum.
    pub candidates: &'a [Candidate],
    /// The node's LP at its optimum (its engine's view;
    /// [`NodeLp::as_dense`] gives the dense simplex with the default
    /// engine).
    pub lp: &'a dyn NodeLp,
    /// Its objective (minimisation form).
    pub lp_objective: f64,
    /// Node depth (root 0).
    pub depth: usize,
    /// Pseudo-costs (rules may update them with strong-branching gains).
    pub pseudocosts: &'a mut Pseudocosts,
    /// Dual simplex pivots spent in strong branching (added to by
    /// [`BranchState::strong_branch`]).
    pub strong_iterations: &'a mut u64,
    /// Children whose bound reaches this are cut off (incumbent, minimisation form).
    pub cutoff: f64,
    /// Wall-clock deadline of the search.
    pub deadline: Option<Instant>,
    /// Scratch LP reused by strong branching.
    pub(crate) scratch: &'a mut LpScratch,
}

impl BranchState<'_> {
    /// Solves both children of candidate `k` from the node's optimum
    /// ([`NodeLp::trial`]) with at most `max_iterations` dual pivots each
    /// (an unfinished child gives its dual bound, still valid; the microlp
    /// engine solves each child to optimality whatever the budget),
    /// counting the pivots in `strong_iterations`.
    pub fn strong_branch(&mut self, k: usize, max_iterations: u64) -> StrongResult {
        let c = self.candidates[k];
        let (lo, hi) = self.lp.bounds(c.var);
        let mut solve = |lower: f64, upper: f64| -> Option<f64> {
            let t = self.lp.trial(
                c.var,
                lower,
                upper,
                max_iterations,
                self.cutoff,
                self.deadline,
                self.scratch,
            );
            *self.strong_iterations += t.iterations;
            match t.status {
                LpStatus::Infeasible | LpStatus::Cutoff => None,
                _ => Some(t.objective),
            }
        };
        let down = solve(lo, c.value.floor());
        let up = solve(c.value.ceil(), hi);
        StrongResult { down, up }
    }

    /// Strong-branches candidate `k`, records its gains as pseudo-cost
    /// observations (as reliability branching does) and returns its product
    /// score.
    pub fn strong_score(&mut self, k: usize, max_iterations: u64) -> f64 {
        let c = self.candidates[k];
        let r = self.strong_branch(k, max_iterations);
        let gain = |z: Option<f64>| match z {
            Some(z) => (z - self.lp_objective).max(0.0),
            None => INFEASIBLE_GAIN,
        };
        let (gd, gu) = (gain(r.down), gain(r.up));
        if r.down.is_some() {
            self.pseudocosts.update(c.var, false, gd, c.down_frac());
        }
        if r.up.is_some() {
            self.pseudocosts.update(c.var, true, gu, c.up_frac());
        }
        product_score(gd, gu)
    }
}

/// A branching rule: picks one candidate at each node. Open: implement it
/// and register it in a [`BranchingRegistry`].
pub trait BranchingRule {
    /// Registry name.
    fn name(&self) -> &str;
    /// Index into `state.candidates` of the variable to branch on
    /// (candidates are never empty).
    ///
    /// # Errors
    /// A rule that cannot decide (e.g. a learned model failing).
    fn select(&mut self, state: &mut BranchState<'_>) -> Result<usize>;
}

/// Index of the largest score (first on ties).
pub fn argmax(scores: impl IntoIterator<Item = f64>) -> usize {
    let mut best = 0;
    let mut best_v = f64::NEG_INFINITY;
    for (k, v) in scores.into_iter().enumerate() {
        if v > best_v {
            best_v = v;
            best = k;
        }
    }
    best
}

/// Most fractional (most infeasible) branching: `min(f, 1 - f)` largest.
#[derive(Debug, Clone, Default)]
pub struct MostFractional;

impl BranchingRule for MostFractional {
    fn name(&self) -> &str {
        "most-fractional"
    }
    fn select(&mut self, s: &mut BranchState<'_>) -> Result<usize> {
        Ok(argmax(
            s.candidates.iter().map(|c| c.down_frac().min(c.up_frac())),
        ))
    }
}

/// Pseudo-cost branching (Bénichou et al. 1971; score of Achterberg et al.
/// 2005), pseudo-costs learned from the children solved in the tree.
#[derive(Debug, Clone, Default)]
pub struct PseudoCost;

impl BranchingRule for PseudoCost {
    fn name(&self) -> &str {
        "pseudo-cost"
    }
    fn select(&mut self, s: &mut BranchState<'_>) -> Result<usize> {
        Ok(argmax(s.candidates.iter().map(|c| s.pseudocosts.score(c))))
    }
}

/// Full strong branching: both children of every candidate are solved
/// (up to `max_iterations` pivots each) and the best product score wins.
#[derive(Debug, Clone)]
pub struct FullStrong {
    /// Dual pivots per child LP.
    pub max_iterations: u64,
}

impl BranchingRule for FullStrong {
    fn name(&self) -> &str {
        "strong"
    }
    fn select(&mut self, s: &mut BranchState<'_>) -> Result<usize> {
        let scores: Vec<f64> = (0..s.candidates.len())
            .map(|k| s.strong_score(k, self.max_iterations))
            .collect();
        Ok(argmax(scores))
    }
}

/// Reliability branching (Achterberg, Koch & Martin 2005, Algorithm 3).
#[derive(Debug, Clone)]
pub struct Reliability {
    /// Observations per direction for a pseudo-cost to be reliable.
    pub eta_rel: u32,
    /// Strong-branching evaluations without a new best before stopping.
    pub lookahead: usize,
    /// Dual pivots per child LP.
    pub max_iterations: u64,
}

impl BranchingRule for Reliability {
    fn name(&self) -> &str {
        "reliability"
    }
    fn select(&mut self, s: &mut BranchState<'_>) -> Result<usize> {
        let pc: Vec<f64> = s
            .candidates
            .iter()
            .map(|c| s.pseudocosts.score(c))
            .collect();
        let mut order: Vec<usize> = (0..pc.len()).collect();
        order.sort_by(|&a, &b| pc[b].total_cmp(&pc[a]).then(a.cmp(&b)));
        let mut best = order[0];
        let mut best_score = f64::NEG_INFINITY;
        let mut since_best = 0;
        for &k in &order {
            let c = s.candidates[k];
            let reliable = s
                .pseudocosts
                .count(c.var, false)
                .min(s.pseudocosts.count(c.var, true))
                >= self.eta_rel;
            let score = if reliable {
                pc[k]
            } else {
                s.strong_score(k, self.max_iterations)
            };
            if score > best_score {
                best_score = score;
                best = k;
                since_best = 0;
            } else if !reliable {
                since_best += 1;
                if since_best >= self.lookahead {
                    break;
                }
            }
        }
        Ok(best)
    }
}

/// Builds a rule from its options.
pub type RuleFactory = fn(&RuleOptions) -> Result<Box<dyn BranchingRule>>;

/// Options shared by the built-in rules.
#[derive(Debug, Clone)]
pub struct RuleOptions {
    /// Dual pivots per strong-branching child LP.
    pub strong_iterations: u64,
    /// Reliability threshold `eta_rel`.
    pub eta_rel: u32,
    /// Reliability lookahead.
    pub lookahead: usize,
    /// Checkpoint of the learned policy (rule `gnn`, feature `torch`).
    pub model: Option<std::path::PathBuf>,
}

impl Default for RuleOptions {
    /// SCIP-like defaults: 8 observations (Achterberg et al. use 4 to 8),
    /// lookahead 8, 100 pivots per strong-branching child.
    fn default() -> Self {
        RuleOptions {
            strong_iterations: 100,
            eta_rel: 8,
            lookahead: 8,
            model: None,
        }
    }
}

/// Rules added for the whole process by [`register_rule`]: every
/// [`BranchingRegistry::builtin`] has them after the built-in ones.
static REGISTERED: std::sync::RwLock<Vec<(&'static str, &'static str, RuleFactory)>> =
    std::sync::RwLock::new(Vec::new());

/// Adds the rule `name` (one line `about` it, built by `make`) to every
/// [`BranchingRegistry::builtin`] of this process from now on (a later
/// registration of the same name replaces it).
pub fn register_rule(name: &'static str, about: &'static str, make: RuleFactory) {
    let mut registered = REGISTERED
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    registered.retain(|(n, _, _)| *n != name);
    registered.push((name, about, make));
}

/// Registers the rules that need libtorch (`gnn`, the learned policy of
/// [`super::gnn`]) for this process; calling it again changes nothing.
/// They are registered at run time, not listed in [`BranchingRegistry::builtin`],
/// so a binary that never calls this does not reach libtorch through the
/// registry even when this crate has its `torch` feature (issue #26: the
/// `duality` CLI then starts without loading libtorch).
#[cfg(feature = "torch")]
pub fn register_torch_rules() {
    register_rule(
        "gnn",
        "learned bipartite GCNN policy (imitation of strong branching; needs a checkpoint)",
        |o| {
            let path = o.model.as_ref().ok_or_else(|| {
                Error::invalid(
                    "branching rule gnn",
                    "no model",
                    "a checkpoint trained by imitation (RuleOptions::model / --gnn-model)",
                )
            })?;
            Ok(Box::new(super::gnn::Learned {
                policy: super::gnn::GnnPolicy::load(path)?,
            }))
        },
    );
}

/// The branching rules by name.
pub struct BranchingRegistry {
    rules: BTreeMap<&'static str, (&'static str, RuleFactory)>,
}

impl BranchingRegistry {
    /// The built-in rules (`most-fractional`, `pseudo-cost`, `strong`,
    /// `reliability`), then those registered for the process
    /// ([`register_rule`]; `gnn` by [`register_torch_rules`]).
    pub fn builtin() -> Self {
        let mut r = BranchingRegistry {
            rules: BTreeMap::new(),
        };
        r.register(
            "most-fractional",
            "the variable whose LP value is farthest from an integer",
            |_| Ok(Box::new(MostFractional)),
        );
        r.register(
            "pseudo-cost",
            "pseudo-cost product score, costs learned in the tree (uninitialised: average)",
            |_| Ok(Box::new(PseudoCost)),
        );
        r.register(
            "strong",
            "full strong branching: both child LPs of every candidate, product score",
            |o| {
                Ok(Box::new(FullStrong {
                    max_iterations: o.strong_iterations,
                }))
            },
        );
        r.register(
            "reliability",
            "reliability branching: strong branching until pseudo-costs are reliable (Achterberg et al. 2005)",
            |o| {
                Ok(Box::new(Reliability {
                    eta_rel: o.eta_rel,
                    lookahead: o.lookahead.max(1),
                    max_iterations: o.strong_iterations,
                }))
            },
        );
        let registered = REGISTERED
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for &(name, about, make) in registered.iter() {
            r.register(name, about, make);
        }
        r
    }

    /// Adds (or replaces) a rule.
    pub fn register(&mut self, name: &'static str, about: &'static str, make: RuleFactory) {
        self.rules.insert(name, (about, make));
    }

    /// `(name, description)` of every rule, sorted by name.
    pub fn list(&self) -> Vec<(&'static str, &'static str)> {
        self.rules.iter().map(|(n, (a, _))| (*n, *a)).collect()
    }

    /// Builds the rule `name`.
    ///
    /// # Errors
    /// An unknown name (the message lists the known ones).
    pub fn make(&self, name: &str, opts: &RuleOptions) -> Result<Box<dyn BranchingRule>> {
        match self.rules.get(name) {
            Some((_, make)) => make(opts),
            None => Err(Error::invalid(
                "branching rule",
                name,
                format!(
                    "one of {}",
                    self.rules.keys().copied().collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }
}
