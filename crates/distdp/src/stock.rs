//! Stock augmentation and distributional dynamic programming for objectives
//! on the return distribution (Pires, Rowland, Borsa et al., "Optimizing
//! Return Distributions with Distributional Dynamic Programming", 2025, §3-5).
//!
//! The augmented state is `(S_t, C_t)` with stock `C_0 = c_0` and
//! `C_{t+1} = (C_t + R_{t+1}) / gamma`, so that
//! `c_0 + G_0 = gamma^t (C_t + G_t)`. For an objective
//! `F(eta) = E[f(X)]`, `X ~ c + eta`, with `f(gamma x) = a f(x) + b`
//! (`a > 0`) — or any `f` when `gamma = 1` — maximising `F(c + G(s, c))` at
//! every augmented state is consistent across time, and distributional value
//! iteration
//! `eta(s, c) <- Pi( law of R + gamma G(S', C') )`, `a* = argmax_a F(c + R + gamma G(S', C'))`
//! finds a policy on `(state, stock)` that is optimal among all
//! history-dependent policies (paper, Theorem 1 and §5). Objectives that are not
//! expected utilities (mean-variance, which is not indifferent to mixtures) or
//! utilities with `f(gamma x) != a f(x) + b` for `gamma < 1` (e.g. exponential)
//! are refused by [`Objective::check_optimisable`].
//!
//! Two stock models:
//! - **exact** (finite horizon): a memoised recursion over `(t, s, c)` with
//!   the exact stock values reachable from `c_0` (small problems; exact);
//! - **grid**: a uniform grid of stock values, next stock rounded to the
//!   nearest bucket and clamped (any horizon); tables are
//!   `O(states x buckets x atoms)`.
//!
//! CVaR uses the Rockafellar-Uryasev form
//! `CVaR_alpha(G) = max_c { c + E[min(G - c, 0)] / alpha }`: the inner problem
//! is the expected utility `f(x) = min(x, 0)` with initial stock `c_0 = -c`,
//! and the outer 1-D search over `c` reads the grid table at the start state
//! (grid) or scans all achievable returns (exact, where the optimum is attained).

use std::collections::HashMap;

use duality_core::{Error, Result};
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::classic::IterParams;
use crate::dist::{FiniteSupport, Representation, ReturnDistribution};
use crate::mdp::FiniteMdp;

/// An objective on the law of the (stock-shifted) return.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Objective {
    /// `E[G]` (reproduces classic value iteration).
    Expectation,
    /// Exponential utility `E[-exp(-lambda G) / lambda]` (risk-averse for `lambda > 0`).
    ExpUtility {
        /// Risk parameter (non-zero).
        lambda: f64,
    },
    /// Lower-tail `CVaR_alpha(G)` via Rockafellar-Uryasev.
    Cvar {
        /// Level in `(0, 1]`.
        alpha: f64,
    },
    /// `P(G >= threshold)`.
    Threshold {
        /// Return level to reach.
        threshold: f64,
    },
    /// Homeostatic regulation `-E|G - target|`.
    Homeostatic {
        /// Target return.
        target: f64,
    },
    /// `E[G] - lambda Var[G]`: NOT optimisable by stock-augmented DP (not an
    /// expected utility; it is not indifferent to mixtures). Present so that
    /// the refusal is explicit and tested.
    MeanVariance {
        /// Variance penalty.
        lambda: f64,
    },
}

impl Objective {
    /// Validates parameters (alpha in (0, 1], finite values, lambda != 0).
    pub fn validate(&self) -> Result<()> {
        match *self {
            Objective::Expectation => Ok(()),
            Objective::ExpUtility { lambda } => {
                duality_core::check::finite_scalar("lambda", lambda)?;
                if lambda == 0.0 {
                    return Err(Error::invalid("lambda", lambda, "a non-zero number"));
                }
                Ok(())
            }
            Objective::Cvar { alpha } => {
                if alpha > 0.0 && alpha <= 1.0 {
                    Ok(())
                } else {
                    Err(Error::invalid("alpha", alpha, "a level in (0, 1]"))
                }
            }
            Objective::Threshold { threshold: x } => {
                duality_core::check::finite_scalar("threshold", x)
            }
            Objective::Homeostatic { target } => {
                duality_core::check::finite_scalar("target", target)
            }
            Objective::MeanVariance { lambda } => {
                duality_core::check::finite_scalar("lambda", lambda)
            }
        }
    }

    /// Errors unless stock-augmented DP optimises this objective at discount
    /// `gamma`: it must be an expected utility `E f(c + G)` with
    /// `f(gamma x) = a f(x) + b`, `a > 0`, or `gamma = 1`.
    pub fn check_optimisable(&self, gamma: f64) -> Result<()> {
        self.validate()?;
        match self {
            Objective::MeanVariance { .. } => Err(Error::invalid(
                "objective",
                "mean-variance",
                "an objective optimisable by stock-augmented DP: mean-variance is not an \
                 expected utility (not indifferent to mixtures), so no Bellman-consistent \
                 greedy policy exists",
            )),
            Objective::ExpUtility { .. } if gamma < 1.0 => Err(Error::invalid(
                "objective",
                format!("exponential utility with gamma = {gamma}"),
                "gamma = 1: f(x) = -exp(-lambda x)/lambda has no a, b with \
                 f(gamma x) = a f(x) + b when gamma < 1",
            )),
            _ => Ok(()),
        }
    }

    /// The initial stock `c_0` and utility `f` with `objective = E f(c_0 + G)`
    /// (for CVaR: the inner utility `min(x, 0)` at a given `c_0 = -c`).
    pub fn utility(&self) -> Utility {
        match *self {
            Objective::Expectation => Utility::Identity,
            Objective::ExpUtility { lambda } => Utility::Exp { lambda },
            Objective::Cvar { .. } => Utility::MinZero,
            Objective::Threshold { .. } => Utility::Step,
            Objective::Homeostatic { .. } => Utility::NegAbs,
            // Not used (refused by `check_optimisable`); identity keeps it total.
            Objective::MeanVariance { .. } => Utility::Identity,
        }
    }

    /// The initial stock for objectives with a fixed one (`-threshold`,
    /// `-target`, otherwise 0; CVaR searches over it).
    pub fn initial_stock(&self) -> f64 {
        match *self {
            Objective::Threshold { threshold } => -threshold,
            Objective::Homeostatic { target } => -target,
            _ => 0.0,
        }
    }

    /// The objective evaluated on a return law (for reporting and rollouts).
    pub fn evaluate(&self, law: &dyn ReturnDistribution) -> Result<f64> {
        Ok(match *self {
            Objective::Expectation => law.mean(),
            Objective::ExpUtility { lambda } => {
                law.expected_utility(&|x| Utility::Exp { lambda }.apply(x))
            }
            Objective::Cvar { alpha } => law.cvar(alpha)?,
            Objective::Threshold { threshold } => {
                law.expected_utility(&|x| if x >= threshold { 1.0 } else { 0.0 })
            }
            Objective::Homeostatic { target } => law.expected_utility(&|x| -(x - target).abs()),
            Objective::MeanVariance { lambda } => law.mean() - lambda * law.variance(),
        })
    }

    /// Parses `expectation | cvar:ALPHA | utility:exp:LAMBDA | threshold:X |
    /// homeostatic:X | mean-variance:LAMBDA`.
    pub fn parse(text: &str) -> Result<Self> {
        let parts: Vec<&str> = text.split(':').collect();
        let num = |s: &str, name: &str| -> Result<f64> {
            s.parse::<f64>()
                .map_err(|_| Error::invalid(name, s, "a number"))
        };
        let obj =
            match parts.as_slice() {
                ["expectation"] | ["mean"] => Objective::Expectation,
                ["cvar", a] => Objective::Cvar {
                    alpha: num(a, "alpha")?,
                },
                ["utility", "exp", l] => Objective::ExpUtility {
                    lambda: num(l, "lambda")?,
                },
                ["threshold", x] => Objective::Threshold {
                    threshold: num(x, "threshold")?,
                },
                ["homeostatic", x] => Objective::Homeostatic {
                    target: num(x, "target")?,
                },
                ["mean-variance", l] => Objective::MeanVariance {
                    lambda: num(l, "lambda")?,
                },
                _ => return Err(Error::invalid(
                    "objective",
                    text,
                    "expectation | cvar:ALPHA | utility:exp:LAMBDA | threshold:X | homeostatic:X",
                )),
            };
        obj.validate()?;
        Ok(obj)
    }
}

/// Utility functions `f` of stock + return.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Utility {
    /// `f(x) = x`: `f(gamma x) = gamma f(x)`.
    Identity,
    /// `f(x) = -exp(-lambda x) / lambda`.
    Exp {
        /// Risk parameter.
        lambda: f64,
    },
    /// `f(x) = min(x, 0)`: `f(gamma x) = gamma f(x)`.
    MinZero,
    /// `f(x) = 1{x >= 0}`: `f(gamma x) = f(x)`.
    Step,
    /// `f(x) = -|x|`: `f(gamma x) = gamma f(x)`.
    NegAbs,
}

impl Utility {
    /// `f(x)`.
    pub fn apply(&self, x: f64) -> f64 {
        match *self {
            Utility::Identity => x,
            Utility::Exp { lambda } => -(-lambda * x).exp() / lambda,
            Utility::MinZero => x.min(0.0),
            // Tolerance: stock + return sums accumulate rounding.
            Utility::Step => {
                if x >= -1e-9 {
                    1.0
                } else {
                    0.0
                }
            }
            Utility::NegAbs => -x.abs(),
        }
    }
}

/// A uniform grid of stock values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StockGrid {
    /// Smallest stock.
    pub lo: f64,
    /// Largest stock.
    pub hi: f64,
    /// Number of buckets (>= 1; one bucket ignores the stock).
    pub buckets: usize,
}

impl StockGrid {
    /// A validated grid.
    pub fn new(lo: f64, hi: f64, buckets: usize) -> Result<Self> {
        duality_core::check::finite_scalar("stock lo", lo)?;
        duality_core::check::finite_scalar("stock hi", hi)?;
        duality_core::check::at_least("stock buckets", buckets, 1)?;
        if hi < lo || (buckets > 1 && hi == lo) {
            return Err(Error::invalid(
                "stock hi",
                hi,
                format!("greater than stock lo = {lo}"),
            ));
        }
        Ok(StockGrid { lo, hi, buckets })
    }

    /// Stock value of bucket `b`.
    pub fn value(&self, b: usize) -> f64 {
        if self.buckets == 1 {
            return self.lo;
        }
        self.lo + (self.hi - self.lo) * b as f64 / (self.buckets - 1) as f64
    }

    /// Nearest bucket of stock `c` (clamped to the grid).
    pub fn bucket(&self, c: f64) -> usize {
        if self.buckets == 1 || !c.is_finite() {
            return if c.is_finite() || c < 0.0 {
                0
            } else {
                self.buckets - 1
            };
        }
        let x = (c - self.lo) / (self.hi - self.lo) * (self.buckets - 1) as f64;
        x.round().clamp(0.0, (self.buckets - 1) as f64) as usize
    }

    /// A grid covering `[-(G_max) - margin, -(G_min) + margin]` for an MDP,
    /// i.e. every initial stock `-c` for return levels `c` in the return range.
    pub fn for_mdp(mdp: &FiniteMdp, buckets: usize) -> Result<Self> {
        let (lo, hi) = mdp.return_bounds();
        let pad = 1e-9;
        StockGrid::new(-hi - pad, -lo + pad, buckets)
    }
}

/// Next stock `(c + r) / gamma` (for `gamma = 0`, the stock is irrelevant: keep `c + r`).
pub fn next_stock(c: f64, r: f64, gamma: f64) -> f64 {
    if gamma > 0.0 {
        (c + r) / gamma
    } else {
        c + r
    }
}

/// A policy acting on (time, state, stock).
pub trait AugmentedPolicy {
    /// Action at time `t` in state `s` with stock `c`.
    fn act(&self, t: usize, s: usize, c: f64) -> usize;
}

/// A greedy policy on a stock grid: `actions[t][s][b]` (one `t` row when stationary).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridPolicy {
    /// The grid.
    pub grid: StockGrid,
    /// `actions[t][s][b]`.
    pub actions: Vec<Vec<Vec<usize>>>,
}

impl AugmentedPolicy for GridPolicy {
    fn act(&self, t: usize, s: usize, c: f64) -> usize {
        let row = &self.actions[t.min(self.actions.len() - 1)];
        row[s][self.grid.bucket(c)]
    }
}

/// A Markov (stock-blind) stationary or time-dependent policy, e.g. from classic VI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkovActions(pub Vec<Vec<usize>>);

impl AugmentedPolicy for MarkovActions {
    fn act(&self, t: usize, s: usize, _c: f64) -> usize {
        self.0[t.min(self.0.len() - 1)][s]
    }
}

/// Result of distributional value (or policy) iteration on a stock grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridSolution {
    /// The greedy policy on (time, state, stock bucket).
    pub policy: GridPolicy,
    /// `eta[s][b]`: return law from state `s` with stock bucket `b` (time 0).
    pub eta: Vec<Vec<FiniteSupport>>,
    /// Iterations performed (backward steps for a finite horizon).
    pub iterations: usize,
    /// Whether the sup-W1 change fell below the tolerance (always true for a finite horizon).
    pub converged: bool,
    /// Sup over (state, bucket) of W1 between successive iterates.
    pub sup_w1: Vec<f64>,
    /// Objective value `F(c + G)` at the start state per stock bucket.
    pub start_values: Vec<f64>,
}

/// A candidate action: index, objective score and unprojected Bellman target.
type Candidate = (usize, f64, Vec<(f64, f64)>);

fn score(util: &Utility, c: f64, pairs: &[(f64, f64)]) -> f64 {
    pairs.iter().map(|&(g, p)| p * util.apply(c + g)).sum()
}

/// Bellman target of `(s, c, a)` on the grid: law of `R + gamma G(S', C')`.
fn grid_target(
    mdp: &FiniteMdp,
    grid: &StockGrid,
    eta: &[Vec<FiniteSupport>],
    s: usize,
    c: f64,
    a: usize,
    out: &mut Vec<(f64, f64)>,
) {
    out.clear();
    for o in mdp.outcomes(s, a) {
        let b = grid.bucket(next_stock(c, o.reward, mdp.gamma));
        let next = &eta[o.next][b];
        for (&g, &p) in next.atoms().iter().zip(next.probs()) {
            out.push((o.reward + mdp.gamma * g, o.prob * p));
        }
    }
}

/// One greedy backup of every (state, stock bucket), in parallel over
/// states: the chosen actions and the backed-up laws (terminal states keep
/// the zero return and action 0).
fn greedy_sweep(
    mdp: &FiniteMdp,
    grid: &StockGrid,
    eta: &[Vec<FiniteSupport>],
    util: &Utility,
    repr: &Representation,
) -> (Vec<Vec<usize>>, Vec<Vec<FiniteSupport>>) {
    let nb = grid.buckets;
    (0..mdp.n_states)
        .into_par_iter()
        .map(|s| {
            if mdp.is_terminal(s) {
                return (vec![0; nb], vec![FiniteSupport::dirac(0.0); nb]);
            }
            (0..nb)
                .map(|b| greedy_backup(mdp, grid, eta, util, repr, s, b, None))
                .unzip()
        })
        .unzip()
}

/// Greedy action at (s, stock c) and its projected target.
// Private hot-path helper: the arguments are the solver's fixed context plus the cell.
#[allow(clippy::too_many_arguments)]
fn greedy_backup(
    mdp: &FiniteMdp,
    grid: &StockGrid,
    eta: &[Vec<FiniteSupport>],
    util: &Utility,
    repr: &Representation,
    s: usize,
    b: usize,
    keep: Option<usize>,
) -> (usize, FiniteSupport) {
    let c = grid.value(b);
    let mut best: Option<Candidate> = None;
    let mut buf = Vec::new();
    let mut kept_score = f64::NEG_INFINITY;
    for a in 0..mdp.n_actions {
        grid_target(mdp, grid, eta, s, c, a, &mut buf);
        let v = score(util, c, &buf);
        if Some(a) == keep {
            kept_score = v;
        }
        let better = match &best {
            None => true,
            Some((_, bv, _)) => v > bv + 1e-12 * (1.0 + bv.abs()),
        };
        if better {
            best = Some((a, v, std::mem::take(&mut buf)));
        }
    }
    let (mut a, v, mut pairs) = best.unwrap_or((0, 0.0, vec![(0.0, 1.0)]));
    // Policy iteration keeps the current action unless strictly improved.
    if let Some(k) = keep {
        if kept_score >= v - 1e-10 * (1.0 + v.abs()) && k != a {
            a = k;
            grid_target(mdp, grid, eta, s, c, k, &mut buf);
            pairs = buf;
        }
    }
    (a, repr.project(pairs))
}

fn fixed_backup(
    mdp: &FiniteMdp,
    grid: &StockGrid,
    eta: &[Vec<FiniteSupport>],
    repr: &Representation,
    s: usize,
    b: usize,
    a: usize,
) -> FiniteSupport {
    let mut buf = Vec::new();
    grid_target(mdp, grid, eta, s, grid.value(b), a, &mut buf);
    repr.project(buf)
}

fn sup_w1(a: &[Vec<FiniteSupport>], b: &[Vec<FiniteSupport>]) -> f64 {
    a.par_iter()
        .zip(b)
        .map(|(ra, rb)| {
            ra.iter()
                .zip(rb)
                .map(|(x, y)| x.wasserstein1(y))
                .fold(0.0, f64::max)
        })
        .reduce(|| 0.0, f64::max)
}

fn start_values(
    mdp: &FiniteMdp,
    grid: &StockGrid,
    eta: &[Vec<FiniteSupport>],
    util: &Utility,
) -> Vec<f64> {
    (0..grid.buckets)
        .map(|b| {
            let c = grid.value(b);
            let law = &eta[mdp.start][b];
            law.expected_utility(&|x| util.apply(c + x))
        })
        .collect()
}

/// Distributional value iteration over `(state, stock bucket)` for the
/// expected utility `E f(c + G)` (paper, Algorithm 1 with a stock grid).
/// Finite horizon: exact backward induction in time (time-dependent policy);
/// infinite horizon: iterate to `sup W1 < tol` or `max_iter`.
pub fn distributional_value_iteration(
    mdp: &FiniteMdp,
    util: Utility,
    grid: StockGrid,
    repr: &Representation,
    params: IterParams,
) -> Result<GridSolution> {
    solve_grid(mdp, util, grid, repr, params, false)
}

/// Distributional policy iteration over `(state, stock bucket)`: evaluate the
/// current augmented policy distributionally (to `tol`), then improve
/// greedily (keeping the current action unless strictly better), until the
/// policy is stable. Finite horizons reduce to backward induction.
pub fn distributional_policy_iteration(
    mdp: &FiniteMdp,
    util: Utility,
    grid: StockGrid,
    repr: &Representation,
    params: IterParams,
) -> Result<GridSolution> {
    solve_grid(mdp, util, grid, repr, params, true)
}

fn solve_grid(
    mdp: &FiniteMdp,
    util: Utility,
    grid: StockGrid,
    repr: &Representation,
    params: IterParams,
    policy_iteration: bool,
) -> Result<GridSolution> {
    repr.validate()?;
    params.validate()?;
    let grid = StockGrid::new(grid.lo, grid.hi, grid.buckets)?;
    let (ns, nb) = (mdp.n_states, grid.buckets);
    let zero = FiniteSupport::dirac(0.0);
    let mut eta: Vec<Vec<FiniteSupport>> = vec![vec![zero.clone(); nb]; ns];
    let mut residuals = Vec::new();

    if let Some(h) = mdp.horizon {
        let mut actions = vec![vec![vec![0usize; nb]; ns]; h];
        for t in (0..h).rev() {
            let (acts, next) = greedy_sweep(mdp, &grid, &eta, &util, repr);
            actions[t] = acts;
            residuals.push(sup_w1(&next, &eta));
            eta = next;
        }
        let start_values = start_values(mdp, &grid, &eta, &util);
        return Ok(GridSolution {
            policy: GridPolicy { grid, actions },
            eta,
            iterations: h,
            converged: true,
            sup_w1: residuals,
            start_values,
        });
    }

    let mut actions = vec![vec![0usize; nb]; ns];
    let mut iterations = 0;
    let mut converged = false;
    while iterations < params.max_iter {
        iterations += 1;
        if policy_iteration {
            // Evaluation sweep(s) of the fixed policy.
            let mut inner = 0;
            loop {
                inner += 1;
                let next: Vec<Vec<FiniteSupport>> = (0..ns)
                    .into_par_iter()
                    .map(|s| {
                        (0..nb)
                            .map(|b| {
                                if mdp.is_terminal(s) {
                                    FiniteSupport::dirac(0.0)
                                } else {
                                    fixed_backup(mdp, &grid, &eta, repr, s, b, actions[s][b])
                                }
                            })
                            .collect()
                    })
                    .collect();
                let r = sup_w1(&next, &eta);
                eta = next;
                if r < params.tol || inner >= params.max_iter {
                    residuals.push(r);
                    break;
                }
            }
            let improved: Vec<Vec<usize>> = (0..ns)
                .into_par_iter()
                .map(|s| {
                    (0..nb)
                        .map(|b| {
                            if mdp.is_terminal(s) {
                                0
                            } else {
                                greedy_backup(
                                    mdp,
                                    &grid,
                                    &eta,
                                    &util,
                                    repr,
                                    s,
                                    b,
                                    Some(actions[s][b]),
                                )
                                .0
                            }
                        })
                        .collect()
                })
                .collect();
            if improved == actions {
                converged = true;
                break;
            }
            actions = improved;
        } else {
            let (acts, next) = greedy_sweep(mdp, &grid, &eta, &util, repr);
            actions = acts;
            let r = sup_w1(&next, &eta);
            residuals.push(r);
            eta = next;
            if r < params.tol {
                converged = true;
                break;
            }
        }
    }
    let start_values = start_values(mdp, &grid, &eta, &util);
    Ok(GridSolution {
        policy: GridPolicy {
            grid,
            actions: vec![actions],
        },
        eta,
        iterations,
        converged,
        sup_w1: residuals,
        start_values,
    })
}

/// Exact stock-augmented solution of a finite-horizon MDP from one initial stock.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactSolution {
    /// Return law from the start state under the greedy policy.
    pub law: FiniteSupport,
    /// `E f(c_0 + G)`.
    pub value: f64,
    /// Initial stock.
    pub c0: f64,
    /// Greedy actions keyed by `(t, s, stock bits)`.
    pub policy: ExactPolicy,
}

/// Greedy actions on the exact reachable augmented states.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExactPolicy {
    actions: HashMap<(usize, usize, u64), usize>,
}

impl ExactPolicy {
    /// Number of augmented states with a stored action.
    pub fn len(&self) -> usize {
        self.actions.len()
    }
    /// Whether no action is stored.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// All stored `(t, state, stock, action)` entries, sorted.
    pub fn entries(&self) -> Vec<(usize, usize, f64, usize)> {
        let mut v: Vec<(usize, usize, f64, usize)> = self
            .actions
            .iter()
            .map(|(&(t, s, c), &a)| (t, s, f64::from_bits(c), a))
            .collect();
        v.sort_by(|x, y| x.0.cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.total_cmp(&y.2)));
        v
    }
}

impl AugmentedPolicy for ExactPolicy {
    fn act(&self, t: usize, s: usize, c: f64) -> usize {
        self.actions.get(&(t, s, c.to_bits())).copied().unwrap_or(0)
    }
}

struct ExactSolver<'a> {
    mdp: &'a FiniteMdp,
    util: Utility,
    repr: &'a Representation,
    horizon: usize,
    memo: HashMap<(usize, usize, u64), FiniteSupport>,
    policy: ExactPolicy,
}

impl ExactSolver<'_> {
    fn solve(&mut self, t: usize, s: usize, c: f64) -> FiniteSupport {
        if t >= self.horizon || self.mdp.is_terminal(s) {
            return FiniteSupport::dirac(0.0);
        }
        let key = (t, s, c.to_bits());
        if let Some(law) = self.memo.get(&key) {
            return law.clone();
        }
        let mdp = self.mdp;
        let mut best: Option<Candidate> = None;
        for a in 0..mdp.n_actions {
            let mut pairs = Vec::new();
            for o in mdp.outcomes(s, a) {
                let next = self.solve(t + 1, o.next, next_stock(c, o.reward, mdp.gamma));
                for (&g, &p) in next.atoms().iter().zip(next.probs()) {
                    pairs.push((o.reward + mdp.gamma * g, o.prob * p));
                }
            }
            let v = score(&self.util, c, &pairs);
            let better = match &best {
                None => true,
                Some((_, bv, _)) => v > bv + 1e-12 * (1.0 + bv.abs()),
            };
            if better {
                best = Some((a, v, pairs));
            }
        }
        let (a, _, pairs) = best.unwrap_or((0, 0.0, vec![(0.0, 1.0)]));
        let law = self.repr.project(pairs);
        self.policy.actions.insert(key, a);
        self.memo.insert(key, law.clone());
        law
    }
}

/// Exact stock-augmented distributional DP for a finite-horizon MDP from
/// initial stock `c0`: memoised backward recursion over the reachable
/// `(t, s, c)`. Exact with `Representation::Exact { budget: None }`.
pub fn solve_exact(
    mdp: &FiniteMdp,
    util: Utility,
    c0: f64,
    repr: &Representation,
) -> Result<ExactSolution> {
    repr.validate()?;
    duality_core::check::finite_scalar("c0", c0)?;
    let Some(horizon) = mdp.horizon else {
        return Err(Error::invalid(
            "horizon",
            "none",
            "a finite horizon for the exact stock recursion (use the stock grid otherwise)",
        ));
    };
    let mut solver = ExactSolver {
        mdp,
        util,
        repr,
        horizon,
        memo: HashMap::new(),
        policy: ExactPolicy::default(),
    };
    let law = solver.solve(0, mdp.start, c0);
    let value = law.expected_utility(&|x| util.apply(c0 + x));
    Ok(ExactSolution {
        law,
        value,
        c0,
        policy: solver.policy,
    })
}

/// All achievable returns `G_0` of a finite-horizon MDP from its start state
/// (sorted, deduplicated; forward enumeration of `(s, discounted sum)`).
pub fn achievable_returns(mdp: &FiniteMdp) -> Result<Vec<f64>> {
    let Some(h) = mdp.horizon else {
        return Err(Error::invalid("horizon", "none", "a finite horizon"));
    };
    let mut frontier: Vec<(usize, f64)> = vec![(mdp.start, 0.0)];
    let mut discount = 1.0;
    let mut done: Vec<f64> = Vec::new();
    for _ in 0..h {
        let mut next = Vec::new();
        for &(s, g) in &frontier {
            if mdp.is_terminal(s) {
                done.push(g);
                continue;
            }
            for a in 0..mdp.n_actions {
                for o in mdp.outcomes(s, a) {
                    if o.prob > 0.0 {
                        next.push((o.next, g + discount * o.reward));
                    }
                }
            }
        }
        next.sort_by(|x, y| x.0.cmp(&y.0).then(x.1.total_cmp(&y.1)));
        next.dedup_by(|x, y| x.0 == y.0 && (x.1 - y.1).abs() < 1e-12);
        if next.len() > 1_000_000 {
            return Err(Error::Other(
                "more than 1e6 reachable (state, return) pairs: use the stock grid".into(),
            ));
        }
        frontier = next;
        discount *= mdp.gamma;
    }
    done.extend(frontier.into_iter().map(|(_, g)| g));
    done.sort_by(f64::total_cmp);
    done.dedup_by(|x, y| (*x - *y).abs() < 1e-12);
    Ok(done)
}

/// CVaR-optimal policy (exact, finite horizon): Rockafellar-Uryasev outer
/// maximisation of `c + E[min(G - c, 0)] / alpha` over every achievable
/// return `c` (the optimum is attained at one: the VaR of the optimal law),
/// inner exact stock-augmented DP with `f = min(x, 0)` and `c_0 = -c`.
#[derive(Debug, Clone, PartialEq)]
pub struct CvarSolution {
    /// Optimal CVaR.
    pub cvar: f64,
    /// The maximising `c` (the executed policy starts with stock `-c`).
    pub c: f64,
    /// The return law of the optimal policy.
    pub law: FiniteSupport,
    /// The policy on (t, s, stock), to be run with initial stock `-c`.
    pub policy: ExactPolicy,
    /// Number of inner DP solves.
    pub inner_solves: usize,
}

/// Solves `max_pi CVaR_alpha(G)` over history-dependent policies exactly.
pub fn optimize_cvar_exact(
    mdp: &FiniteMdp,
    alpha: f64,
    repr: &Representation,
) -> Result<CvarSolution> {
    Objective::Cvar { alpha }.validate()?;
    let candidates = achievable_returns(mdp)?;
    let mut best: Option<CvarSolution> = None;
    for &c in &candidates {
        let sol = solve_exact(mdp, Utility::MinZero, -c, repr)?;
        let ru = c + sol.value / alpha;
        if best.as_ref().is_none_or(|b| ru > b.cvar + 1e-12) {
            best = Some(CvarSolution {
                cvar: ru,
                c,
                law: sol.law,
                policy: sol.policy,
                inner_solves: 0,
            });
        }
    }
    let mut best = best.ok_or_else(|| Error::Other("no achievable returns".into()))?;
    best.inner_solves = candidates.len();
    Ok(best)
}

/// CVaR optimisation on a stock grid: one distributional value iteration
/// gives `eta(s_0, c_0)` for every grid stock; the outer Rockafellar-Uryasev
/// search reads `c + E[min(G - c, 0)] / alpha` with `c = -c_0` over buckets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridCvarSolution {
    /// The Rockafellar-Uryasev estimate of the optimal CVaR (from the DP tables).
    pub cvar: f64,
    /// The maximising return level `c` (initial stock `-c`).
    pub c: f64,
    /// The grid solution (policy on state x stock).
    pub solution: GridSolution,
}

/// Grid-based CVaR optimisation (any horizon).
pub fn optimize_cvar_grid(
    mdp: &FiniteMdp,
    alpha: f64,
    grid: StockGrid,
    repr: &Representation,
    params: IterParams,
) -> Result<GridCvarSolution> {
    Objective::Cvar { alpha }.validate()?;
    let solution = distributional_value_iteration(mdp, Utility::MinZero, grid, repr, params)?;
    let mut best = (f64::NEG_INFINITY, 0.0);
    for (b, &v) in solution.start_values.iter().enumerate() {
        let c = -grid.value(b);
        let ru = c + v / alpha;
        if ru > best.0 + 1e-12 {
            best = (ru, c);
        }
    }
    Ok(GridCvarSolution {
        cvar: best.0,
        c: best.1,
        solution,
    })
}

/// Monte Carlo returns of an augmented policy executed from the start state
/// with initial stock `c0` (the stock is tracked exactly as
/// `C_{t+1} = (C_t + R_{t+1}) / gamma`). Infinite-horizon episodes stop at a
/// terminal state or after `max_steps`.
pub fn rollout_returns<P: AugmentedPolicy + ?Sized, R: Rng + ?Sized>(
    mdp: &FiniteMdp,
    policy: &P,
    c0: f64,
    episodes: usize,
    max_steps: usize,
    rng: &mut R,
) -> Result<Vec<f64>> {
    duality_core::check::at_least("episodes", episodes, 1)?;
    let steps = mdp.horizon.unwrap_or(max_steps);
    let mut out = Vec::with_capacity(episodes);
    for _ in 0..episodes {
        let (mut s, mut c, mut g, mut disc) = (mdp.start, c0, 0.0, 1.0);
        for t in 0..steps {
            if mdp.is_terminal(s) {
                break;
            }
            let a = policy.act(t, s, c);
            if a >= mdp.n_actions {
                return Err(Error::invalid(
                    format!("policy action at (t {t}, state {s})"),
                    a,
                    format!("an action < {}", mdp.n_actions),
                ));
            }
            let o = mdp.step(s, a, rng);
            g += disc * o.reward;
            disc *= mdp.gamma;
            c = next_stock(c, o.reward, mdp.gamma);
            s = o.next;
        }
        out.push(g);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::value_iteration;
    use crate::dist::uniform_support;
    use crate::mdp::library;
    use duality_core::seed::Seeder;

    #[test]
    fn expectation_equals_classic_vi_finite_horizon() {
        let m = library::gambling(12, 3, 4, 0.55, 1.0, 5).unwrap();
        let vi = value_iteration(&m, IterParams::default()).unwrap();
        let exact = solve_exact(
            &m,
            Utility::Identity,
            0.0,
            &Representation::Exact { budget: None },
        )
        .unwrap();
        assert!((exact.value - vi.values[m.start]).abs() < 1e-9);
        let grid = StockGrid::new(-5.0, 5.0, 3).unwrap();
        let sol = distributional_value_iteration(
            &m,
            Utility::Identity,
            grid,
            &Representation::Exact { budget: Some(30) },
            IterParams::default(),
        )
        .unwrap();
        for s in 0..m.n_states {
            for b in 0..3 {
                assert!((sol.eta[s][b].mean() - vi.values[s]).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn expectation_equals_classic_vi_discounted() {
        let mut rng = Seeder::new(3).rng(0);
        let m = library::random(10, 3, 3, 0.8, &mut rng).unwrap();
        let vi = value_iteration(&m, IterParams::default().tol(1e-13)).unwrap();
        let (lo, hi) = m.return_bounds();
        let support = uniform_support(lo, hi, 51).unwrap();
        let params = IterParams::default().tol(1e-13).max_iter(2000);
        let repr = Representation::Categorical { support };
        let grid = StockGrid::new(-1.0, 1.0, 2).unwrap();
        for pi in [false, true] {
            let sol = if pi {
                distributional_policy_iteration(&m, Utility::Identity, grid, &repr, params)
            } else {
                distributional_value_iteration(&m, Utility::Identity, grid, &repr, params)
            }
            .unwrap();
            assert!(sol.converged);
            for s in 0..m.n_states {
                assert!(
                    (sol.eta[s][0].mean() - vi.values[s]).abs() < 1e-9,
                    "pi={pi} s={s}: {} vs {}",
                    sol.eta[s][0].mean(),
                    vi.values[s]
                );
            }
        }
    }

    #[test]
    fn unoptimisable_objectives_refused() {
        assert!(Objective::MeanVariance { lambda: 1.0 }
            .check_optimisable(1.0)
            .is_err());
        assert!(Objective::ExpUtility { lambda: 1.0 }
            .check_optimisable(0.9)
            .is_err());
        assert!(Objective::ExpUtility { lambda: 1.0 }
            .check_optimisable(1.0)
            .is_ok());
        for o in [
            Objective::Cvar { alpha: 0.1 },
            Objective::Threshold { threshold: 1.0 },
            Objective::Homeostatic { target: 0.0 },
            Objective::Expectation,
        ] {
            o.check_optimisable(0.9).unwrap();
        }
        assert!(Objective::parse("cvar:0").is_err());
        assert!(Objective::parse("cvar:1.5").is_err());
        assert_eq!(
            Objective::parse("utility:exp:0.5").unwrap(),
            Objective::ExpUtility { lambda: 0.5 }
        );
    }

    #[test]
    fn consistency_conditions_hold_numerically() {
        // f(gamma x) = a f(x) + b for the optimisable utilities.
        let g = 0.9;
        for (u, a) in [
            (Utility::Identity, g),
            (Utility::MinZero, g),
            (Utility::NegAbs, g),
            (Utility::Step, 1.0),
        ] {
            for x in [-3.0, -0.5, 0.5, 2.0] {
                assert!((u.apply(g * x) - a * u.apply(x)).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn cvar_beats_markov_policies_on_gambling() {
        // Risk-neutral: bet max. CVaR-optimal should be at least as good in CVaR.
        let m = library::gambling(8, 2, 2, 0.6, 1.0, 3).unwrap();
        let repr = Representation::Exact { budget: None };
        let cv = optimize_cvar_exact(&m, 0.2, &repr).unwrap();
        let neutral = solve_exact(&m, Utility::Identity, 0.0, &repr).unwrap();
        assert!(cv.cvar >= neutral.law.cvar(0.2).unwrap() - 1e-12);
        assert!((cv.law.cvar(0.2).unwrap() - cv.cvar).abs() < 1e-9);
        // Rollouts of the executed policy reproduce the law's CVaR.
        let mut rng = Seeder::new(5).rng(0);
        let rs = rollout_returns(&m, &cv.policy, -cv.c, 20_000, 100, &mut rng).unwrap();
        let emp = FiniteSupport::from_weighted(rs.iter().map(|&x| (x, 1.0 / 20_000.0)).collect());
        assert!((emp.cvar(0.2).unwrap() - cv.cvar).abs() < 0.15);
    }

    #[test]
    fn grid_cvar_agrees_with_exact_on_gambling() {
        let m = library::gambling(8, 2, 2, 0.6, 1.0, 3).unwrap();
        let exact = optimize_cvar_exact(&m, 0.25, &Representation::Exact { budget: None }).unwrap();
        // Integer rewards and gamma = 1: an integer stock grid is exact.
        let grid = StockGrid::new(-8.0, 8.0, 17).unwrap();
        let g = optimize_cvar_grid(
            &m,
            0.25,
            grid,
            &Representation::Exact { budget: None },
            IterParams::default(),
        )
        .unwrap();
        assert!(
            (g.cvar - exact.cvar).abs() < 1e-9,
            "{} vs {}",
            g.cvar,
            exact.cvar
        );
    }
}
