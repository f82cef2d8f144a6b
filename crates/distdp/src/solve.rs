//! The one entry point of stock-augmented distributional DP: [`solve`] an
//! MDP for an objective under a [`SolveSpec`] (Pires, Rowland, Borsa et al.,
//! "Optimizing Return Distributions with Distributional Dynamic
//! Programming", 2025). The command line (`duality ddp solve`) and the
//! bench suite both call it.
//!
//! A spec names the objective ([`Objective`], from the registry), the stock
//! model ([`StockModel`]: exact reachable stocks, or a [`StockGrid`]), the
//! return-distribution [`Representation`], the [`Method`] (distributional
//! value or policy iteration) and the stopping rule ([`IterParams`]). It is
//! validated once, at construction; [`solve`] adds only the checks that
//! need the MDP (the objective's consistency at its discount, the exact
//! model's finite horizon).
//!
//! For objectives with an outer search over the initial stock
//! ([`InitialStock::Search`], e.g. CVaR by Rockafellar-Uryasev,
//! `CVaR_alpha(G) = max_c c + E[min(G - c, 0)] / alpha` with `c_0 = -c`),
//! the exact model solves the inner DP once per achievable return (where
//! the maximiser lies), and the grid model reads every grid stock off one
//! solve.

use std::fmt;
use std::str::FromStr;

use duality_core::config::Validate;
use duality_core::{Error, Result};
use serde::Serialize;

use crate::classic::IterParams;
use crate::dist::{uniform_support, FiniteSupport, Representation, ReturnDistribution};
use crate::mdp::FiniteMdp;
use crate::objective::{InitialStock, Objective};
use crate::stock::exact::solve_exact;
use crate::stock::grid::solve_grid;
use crate::stock::{achievable_returns, AugmentedPolicy, ExactPolicy, GridSolution, StockGrid};

/// Which dynamic-programming scheme runs on a stock grid (finite horizons
/// use exact backward induction either way, and so does the exact model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub enum Method {
    /// Distributional value iteration: greedy projected backups until the
    /// sup-W1 change falls below the tolerance.
    #[default]
    ValueIteration,
    /// Distributional policy iteration: evaluate the augmented policy
    /// distributionally, improve greedily, until stable.
    PolicyIteration,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::ValueIteration => "value-iteration",
            Method::PolicyIteration => "policy-iteration",
        })
    }
}

impl FromStr for Method {
    type Err = Error;
    /// `value-iteration` (`vi`) or `policy-iteration` (`pi`).
    fn from_str(text: &str) -> Result<Self> {
        match text.trim() {
            "value-iteration" | "vi" => Ok(Method::ValueIteration),
            "policy-iteration" | "pi" => Ok(Method::PolicyIteration),
            other => Err(Error::invalid(
                "method",
                other,
                "value-iteration (vi) | policy-iteration (pi)",
            )),
        }
    }
}

/// How stocks are represented.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub enum StockModel {
    /// The exact stocks reachable from `c_0` (finite horizon only).
    Exact,
    /// This grid, as given.
    Grid(StockGrid),
    /// A grid of this many buckets covering the MDP's return range
    /// ([`StockGrid::for_mdp`]); one bucket at stock 0 for objectives whose
    /// greedy actions ignore the stock ([`crate::objective::StockObjective::stock_blind`]).
    Buckets(usize),
}

impl fmt::Display for StockModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StockModel::Exact => f.write_str("exact"),
            StockModel::Grid(g) => write!(f, "grid:{}:{}:{}", g.lo(), g.hi(), g.buckets()),
            StockModel::Buckets(n) => write!(f, "grid:{n}"),
        }
    }
}

impl FromStr for StockModel {
    type Err = Error;
    /// `exact`, `grid:BUCKETS` or `grid:LO:HI:BUCKETS`.
    fn from_str(text: &str) -> Result<Self> {
        let expected = "exact | grid:BUCKETS | grid:LO:HI:BUCKETS";
        let parts: Vec<&str> = text.trim().split(':').collect();
        let count = |s: &str| {
            s.parse::<usize>()
                .map_err(|_| Error::invalid("stock buckets", s, "a whole number"))
        };
        let num = |name: &str, s: &str| {
            s.parse::<f64>()
                .map_err(|_| Error::invalid(name, s, "a number"))
        };
        match parts.as_slice() {
            ["exact"] => Ok(StockModel::Exact),
            ["grid", n] => Ok(StockModel::Buckets(count(n)?)),
            ["grid", lo, hi, n] => Ok(StockModel::Grid(StockGrid::new(
                num("stock lo", lo)?,
                num("stock hi", hi)?,
                count(n)?,
            )?)),
            _ => Err(Error::invalid("stock model", text, expected)),
        }
    }
}

/// A representation as named on the command line; the categorical support
/// and the exact atom budget depend on the MDP ([`RepresentationSpec::resolve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RepresentationSpec {
    /// Exact atoms: unlimited for a finite horizon, 128 otherwise.
    Exact,
    /// Exact atoms capped at this budget.
    ExactBudget(usize),
    /// Categorical with this many atoms spread over the return range.
    Categorical(usize),
    /// This many quantiles.
    Quantile(usize),
}

/// The most atoms `exact:BUDGET`, `categorical:N` and `quantile:N` accept
/// (issue 25: `categorical:1e12` must be refused before its support is
/// allocated).
pub const MAX_REPRESENTATION_ATOMS: usize = 1_000_000;

/// The atom budget of `exact` on an infinite horizon, where unlimited atoms
/// would grow without bound.
const INFINITE_HORIZON_BUDGET: usize = 128;

impl RepresentationSpec {
    /// The representation for `mdp`: `exact` is unlimited when the horizon is
    /// finite (then exact) and capped otherwise; `categorical:N` spreads `N`
    /// atoms over the return bounds (widened by 1 if they coincide).
    pub fn resolve(&self, mdp: &FiniteMdp) -> Result<Representation> {
        let repr = match *self {
            RepresentationSpec::Exact => Representation::Exact {
                budget: match mdp.horizon() {
                    Some(_) => None,
                    None => Some(INFINITE_HORIZON_BUDGET),
                },
            },
            RepresentationSpec::ExactBudget(b) => Representation::Exact { budget: Some(b) },
            RepresentationSpec::Categorical(n) => {
                let b = mdp.return_bounds();
                let (lo, hi) = if b.hi > b.lo {
                    (b.lo, b.hi)
                } else {
                    (b.lo - 1.0, b.hi + 1.0)
                };
                Representation::Categorical {
                    support: uniform_support(lo, hi, n)?,
                }
            }
            RepresentationSpec::Quantile(n) => Representation::Quantile { n },
        };
        repr.validate()?;
        Ok(repr)
    }
}

impl fmt::Display for RepresentationSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RepresentationSpec::Exact => f.write_str("exact"),
            RepresentationSpec::ExactBudget(b) => write!(f, "exact:{b}"),
            RepresentationSpec::Categorical(n) => write!(f, "categorical:{n}"),
            RepresentationSpec::Quantile(n) => write!(f, "quantile:{n}"),
        }
    }
}

impl FromStr for RepresentationSpec {
    type Err = Error;
    /// `exact | exact:BUDGET | categorical:N | quantile:N`.
    fn from_str(text: &str) -> Result<Self> {
        let parts: Vec<&str> = text.trim().split(':').collect();
        let size = |s: &str| {
            let n = s.parse::<usize>().map_err(|_| {
                Error::invalid(
                    format!("representation size in `{text}`"),
                    s,
                    "a whole number",
                )
            })?;
            if n > MAX_REPRESENTATION_ATOMS {
                return Err(Error::invalid(
                    format!("representation size in `{text}`"),
                    s,
                    format!("at most {MAX_REPRESENTATION_ATOMS} atoms"),
                ));
            }
            Ok(n)
        };
        match parts.as_slice() {
            ["exact"] => Ok(RepresentationSpec::Exact),
            ["exact", b] => Ok(RepresentationSpec::ExactBudget(size(b)?)),
            ["categorical", n] => Ok(RepresentationSpec::Categorical(size(n)?)),
            ["quantile", n] => Ok(RepresentationSpec::Quantile(size(n)?)),
            _ => Err(Error::invalid(
                "representation",
                text,
                "exact | exact:BUDGET | categorical:N | quantile:N",
            )),
        }
    }
}

/// Everything [`solve`] needs besides the MDP, validated once at
/// construction.
#[derive(Debug, Clone)]
pub struct SolveSpec {
    objective: Objective,
    stock: StockModel,
    representation: Representation,
    method: Method,
    iteration: IterParams,
}

impl SolveSpec {
    /// A checked spec with distributional value iteration and the default
    /// stopping rule (change them with [`SolveSpec::with_method`] and
    /// [`SolveSpec::with_iteration`]).
    pub fn new(
        objective: Objective,
        stock: StockModel,
        representation: Representation,
    ) -> Result<Self> {
        let spec = SolveSpec {
            objective,
            stock,
            representation,
            method: Method::default(),
            iteration: IterParams::default(),
        };
        spec.validate()?;
        Ok(spec)
    }

    /// Sets the method.
    pub fn with_method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Sets the stopping rule (already checked by [`IterParams::new`]).
    pub fn with_iteration(mut self, iteration: IterParams) -> Self {
        self.iteration = iteration;
        self
    }

    /// The objective.
    pub fn objective(&self) -> &Objective {
        &self.objective
    }
    /// The stock model.
    pub fn stock(&self) -> StockModel {
        self.stock
    }
    /// The representation.
    pub fn representation(&self) -> &Representation {
        &self.representation
    }
    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }
    /// The stopping rule.
    pub fn iteration(&self) -> IterParams {
        self.iteration
    }
}

impl Validate for SolveSpec {
    /// The representation's parameters and a grid size of at least one
    /// bucket (the objective, grid and stopping rule were checked when built).
    fn validate(&self) -> Result<()> {
        self.representation.validate()?;
        if let StockModel::Buckets(n) = self.stock {
            duality_core::check::at_least("stock buckets", n, 1)?;
        }
        Ok(())
    }
}

/// The executed policy of a [`Solution`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StockPolicy {
    /// Grid model: the whole grid solution (policy on (time, state, bucket),
    /// return-law tables, residuals).
    Grid(GridSolution),
    /// Exact model: greedy actions on the reachable augmented states.
    Exact(ExactPolicy),
}

impl AugmentedPolicy for StockPolicy {
    fn act(&self, t: usize, s: usize, c: f64) -> usize {
        match self {
            StockPolicy::Grid(g) => g.policy.act(t, s, c),
            StockPolicy::Exact(p) => p.act(t, s, c),
        }
    }
}

/// What [`solve`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// The objective's value at the start state (for a search objective,
    /// the optimum of the outer search, e.g. the optimal CVaR).
    pub value: f64,
    /// The initial stock `c_0` the executed policy starts with.
    pub initial_stock: f64,
    /// The return law from the start state at that stock.
    pub law: FiniteSupport,
    /// Iterations (grid: sweeps or improvement steps; exact: the horizon).
    pub iterations: usize,
    /// Whether the iteration met its tolerance (always for finite horizons).
    pub converged: bool,
    /// Inner DP solves (more than one only for a search objective on the
    /// exact model: one per achievable return).
    pub inner_solves: usize,
    /// The policy to execute from `initial_stock`.
    pub policy: StockPolicy,
}

impl Solution {
    /// The grid solution, for the grid stock models.
    pub fn grid(&self) -> Option<&GridSolution> {
        match &self.policy {
            StockPolicy::Grid(g) => Some(g),
            StockPolicy::Exact(_) => None,
        }
    }
}

/// Optimises `spec`'s objective of the return distribution of `mdp` by
/// stock-augmented distributional DP (Pires, Rowland, Borsa et al. 2025,
/// Theorem 1 and §5): the greedy policy on (time, state, stock) is optimal
/// among history-dependent policies for every objective that passes
/// [`crate::objective::StockObjective::check_optimisable`] at the MDP's
/// discount; others are refused with the reason.
///
/// ```
/// use duality_distdp::prelude::*;
///
/// # fn main() -> duality_core::Result<()> {
/// let mdp = library::gambling(8, 2, 2, 0.6, 1.0, 3)?;
/// let exact = Representation::Exact { budget: None };
/// let cvar = solve(&mdp, &SolveSpec::new("cvar:0.25".parse()?, StockModel::Exact, exact.clone())?)?;
/// // The executed policy's return law attains the optimal CVaR ...
/// assert!((cvar.law.cvar(0.25)? - cvar.value).abs() < 1e-9);
/// // ... which is at least the risk-neutral policy's.
/// let neutral = solve(&mdp, &SolveSpec::new("expectation".parse()?, StockModel::Exact, exact)?)?;
/// assert!(cvar.value >= neutral.law.cvar(0.25)? - 1e-12);
/// assert!(neutral.value >= cvar.law.mean() - 1e-12);
/// # Ok(())
/// # }
/// ```
pub fn solve(mdp: &FiniteMdp, spec: &SolveSpec) -> Result<Solution> {
    spec.objective.check_optimisable(mdp.gamma())?;
    let atoms = atoms_needed(mdp, spec)?;
    let sol = match spec.stock {
        StockModel::Exact => solve_exact_model(mdp, spec),
        StockModel::Grid(grid) => {
            check_grid_memory(mdp, grid.buckets(), atoms)?;
            solve_grid_model(mdp, spec, grid)
        }
        StockModel::Buckets(n) => {
            let grid = if spec.objective.stock_blind() {
                StockGrid::single()
            } else {
                StockGrid::for_mdp(mdp, n)?
            };
            check_grid_memory(mdp, grid.buckets(), atoms)?;
            solve_grid_model(mdp, spec, grid)
        }
    }?;
    // Issue 25: never report a non-finite answer.
    for (what, x) in [
        ("objective value", sol.value),
        ("initial stock", sol.initial_stock),
        ("start-state mean return", sol.law.mean()),
    ] {
        if !x.is_finite() {
            return Err(Error::invalid(
                what,
                x,
                "a finite number (the computation overflowed: rescale the rewards or choose a milder objective parameter)",
            ));
        }
    }
    Ok(sol)
}

/// Most reachable `(state, return)` pairs per step that the exact
/// representation (unlimited atoms) and the exact stock model accept: the
/// same cap as [`achievable_returns`]' enumeration.
pub const MAX_EXACT_PAIRS: usize = 1_000_000;

/// Atoms per return law the representation can hold, checked before any
/// table is allocated. Unlimited exact atoms on a finite horizon (the CLI's
/// default `exact`) and the exact stock model are capped like the exact
/// stock search: more than [`MAX_EXACT_PAIRS`] reachable `(state, return)`
/// pairs in one step (e.g. gamma 0.5 over 28 steps, where no two returns
/// coincide) is refused with the alternatives, instead of growing to
/// gigabytes.
fn atoms_needed(mdp: &FiniteMdp, spec: &SolveSpec) -> Result<usize> {
    let unlimited = matches!(spec.representation, Representation::Exact { budget: None });
    let exact_stock = matches!(spec.stock, StockModel::Exact);
    if (unlimited || exact_stock) && mdp.horizon().is_some() {
        let returns = achievable_returns(mdp).map_err(|_| {
            Error::invalid(
                if exact_stock {
                    "stock exact"
                } else {
                    "representation exact"
                },
                format!(
                    "MDP {:?} with horizon {}",
                    mdp.name(),
                    mdp.horizon().unwrap_or(0)
                ),
                format!(
                    "at most {MAX_EXACT_PAIRS} reachable (state, return) pairs per step (this MDP has more); use a grid stock (grid:BUCKETS) with exact:BUDGET, categorical:N or quantile:N"
                ),
            )
        })?;
        return Ok(returns.len().max(1));
    }
    Ok(match &spec.representation {
        Representation::Exact { budget: Some(b) } => *b,
        Representation::Exact { budget: None } => INFINITE_HORIZON_BUDGET,
        Representation::Categorical { support } => support.len(),
        Representation::Quantile { n } => *n,
    })
}

/// Refuses a grid solve whose tables (two return-law tables of
/// `states x buckets` laws of `atoms` atoms, and a policy of `states x
/// buckets` actions per time step) exceed the memory budget.
fn check_grid_memory(mdp: &FiniteMdp, buckets: usize, atoms: usize) -> Result<()> {
    let cells =
        duality_core::limits::product(&[("states", mdp.n_states()), ("stock buckets", buckets)])?;
    let law = std::mem::size_of::<FiniteSupport>() as u128 + 16 * atoms as u128;
    let steps = mdp.horizon().unwrap_or(1).max(1) as u128;
    let bytes = cells as u128 * (2 * law + 8 * steps);
    duality_core::limits::check_memory(
        &format!(
            "stock grid: {} states x {buckets} buckets x {atoms} atoms (x {steps} policy steps)",
            mdp.n_states()
        ),
        bytes,
    )
}

/// Strict improvement needed for a later candidate of the outer search to
/// win, so ties keep the first (lowest) candidate.
const SEARCH_TIE: f64 = 1e-12;

fn solve_exact_model(mdp: &FiniteMdp, spec: &SolveSpec) -> Result<Solution> {
    let objective = spec.objective.get();
    let repr = &spec.representation;
    let horizon = mdp.horizon().unwrap_or(0);
    match objective.initial_stock() {
        InitialStock::Fixed(c0) => {
            let sol = solve_exact(mdp, objective, c0, repr)?;
            Ok(Solution {
                value: objective.evaluate(&sol.law)?,
                initial_stock: c0,
                law: sol.law,
                iterations: horizon,
                converged: true,
                inner_solves: 1,
                policy: StockPolicy::Exact(sol.policy),
            })
        }
        InitialStock::Search => {
            let candidates = achievable_returns(mdp)?;
            let mut best: Option<Solution> = None;
            for &c in &candidates {
                let sol = solve_exact(mdp, objective, -c, repr)?;
                let value = objective.value_from_inner(-c, sol.value);
                if best.as_ref().is_none_or(|b| value > b.value + SEARCH_TIE) {
                    best = Some(Solution {
                        value,
                        initial_stock: -c,
                        law: sol.law,
                        iterations: horizon,
                        converged: true,
                        inner_solves: 0,
                        policy: StockPolicy::Exact(sol.policy),
                    });
                }
            }
            let mut best = best.ok_or_else(|| Error::Other("no achievable returns".into()))?;
            best.inner_solves = candidates.len();
            Ok(best)
        }
    }
}

fn solve_grid_model(mdp: &FiniteMdp, spec: &SolveSpec, grid: StockGrid) -> Result<Solution> {
    let objective = spec.objective.get();
    let sol = solve_grid(
        mdp,
        objective,
        grid,
        &spec.representation,
        spec.iteration,
        spec.method,
    );
    let (value, c0) = match objective.initial_stock() {
        InitialStock::Fixed(c0) => {
            let law = &sol.eta[mdp.start()][grid.bucket(c0)];
            (objective.evaluate(law)?, c0)
        }
        InitialStock::Search => {
            let mut best = (f64::NEG_INFINITY, 0.0);
            for (b, &inner) in sol.start_values.iter().enumerate() {
                let c0 = grid.value(b);
                let value = objective.value_from_inner(c0, inner);
                if value > best.0 + SEARCH_TIE {
                    best = (value, c0);
                }
            }
            best
        }
    };
    Ok(Solution {
        value,
        initial_stock: c0,
        law: sol.eta[mdp.start()][grid.bucket(c0)].clone(),
        iterations: sol.iterations,
        converged: sol.converged,
        inner_solves: 1,
        policy: StockPolicy::Grid(sol),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::value_iteration;
    use crate::dist::ReturnDistribution;
    use crate::mdp::library;
    use crate::objective::{Cvar, Expectation};
    use crate::stock::{rollout_returns, MarkovActions};
    use duality_core::seed::Seeder;

    fn spec(objective: &str, stock: StockModel, repr: Representation) -> SolveSpec {
        SolveSpec::new(objective.parse().unwrap(), stock, repr).unwrap()
    }

    #[test]
    fn expectation_equals_classic_vi_finite_horizon() {
        let m = library::gambling(12, 3, 4, 0.55, 1.0, 5).unwrap();
        let vi = value_iteration(&m, IterParams::default()).unwrap();
        let exact = solve(
            &m,
            &spec(
                "expectation",
                StockModel::Exact,
                Representation::Exact { budget: None },
            ),
        )
        .unwrap();
        assert!((exact.value - vi.values[m.start()]).abs() < 1e-9);
        let grid = StockGrid::new(-5.0, 5.0, 3).unwrap();
        let sol = solve(
            &m,
            &spec(
                "expectation",
                StockModel::Grid(grid),
                Representation::Exact { budget: Some(30) },
            ),
        )
        .unwrap();
        let g = sol.grid().unwrap();
        for s in 0..m.n_states() {
            for b in 0..3 {
                assert!((g.eta[s][b].mean() - vi.values[s]).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn expectation_equals_classic_vi_discounted_for_both_methods() {
        let mut rng = Seeder::new(3).rng(0);
        let m = library::random(10, 3, 3, 0.8, &mut rng).unwrap();
        let params = IterParams::new(1e-13, 2000).unwrap();
        let vi = value_iteration(&m, params).unwrap();
        let b = m.return_bounds();
        let support = uniform_support(b.lo, b.hi, 51).unwrap();
        let repr = Representation::Categorical { support };
        let grid = StockGrid::new(-1.0, 1.0, 2).unwrap();
        for method in [Method::ValueIteration, Method::PolicyIteration] {
            let s = spec("expectation", StockModel::Grid(grid), repr.clone())
                .with_method(method)
                .with_iteration(params);
            let sol = solve(&m, &s).unwrap();
            assert!(sol.converged, "{method}");
            let g = sol.grid().unwrap();
            for s in 0..m.n_states() {
                assert!(
                    (g.eta[s][0].mean() - vi.values[s]).abs() < 1e-9,
                    "{method} s={s}: {} vs {}",
                    g.eta[s][0].mean(),
                    vi.values[s]
                );
            }
        }
    }

    #[test]
    fn cvar_beats_markov_policies_on_gambling() {
        // Risk-neutral: bet max. CVaR-optimal should be at least as good in CVaR.
        let m = library::gambling(8, 2, 2, 0.6, 1.0, 3).unwrap();
        let repr = Representation::Exact { budget: None };
        let cv = solve(&m, &spec("cvar:0.2", StockModel::Exact, repr.clone())).unwrap();
        let neutral = solve(&m, &spec("expectation", StockModel::Exact, repr)).unwrap();
        assert!(cv.value >= neutral.law.cvar(0.2).unwrap() - 1e-12);
        assert!((cv.law.cvar(0.2).unwrap() - cv.value).abs() < 1e-9);
        assert_eq!(cv.inner_solves, achievable_returns(&m).unwrap().len());
        // Rollouts of the executed policy reproduce the law's CVaR.
        let mut rng = Seeder::new(5).rng(0);
        let rs = rollout_returns(&m, &cv.policy, cv.initial_stock, 20_000, 100, &mut rng).unwrap();
        let emp = FiniteSupport::from_weighted(rs.iter().map(|&x| (x, 1.0 / 20_000.0)).collect());
        assert!((emp.cvar(0.2).unwrap() - cv.value).abs() < 0.15);
    }

    #[test]
    fn grid_cvar_agrees_with_exact_on_gambling() {
        let m = library::gambling(8, 2, 2, 0.6, 1.0, 3).unwrap();
        let repr = Representation::Exact { budget: None };
        let exact = solve(&m, &spec("cvar:0.25", StockModel::Exact, repr.clone())).unwrap();
        // Integer rewards and gamma = 1: an integer stock grid is exact.
        let grid = StockGrid::new(-8.0, 8.0, 17).unwrap();
        let g = solve(&m, &spec("cvar:0.25", StockModel::Grid(grid), repr)).unwrap();
        assert!(
            (g.value - exact.value).abs() < 1e-9,
            "{} vs {}",
            g.value,
            exact.value
        );
        assert!((g.law.cvar(0.25).unwrap() - g.value).abs() < 1e-9);
    }

    #[test]
    fn stock_blind_objectives_use_one_bucket_and_refusals_name_the_objective() {
        let m = library::cliff(4, 3, 0.1, 0.9, None).unwrap();
        let repr = RepresentationSpec::Categorical(51).resolve(&m).unwrap();
        let sol = solve(
            &m,
            &spec("expectation", StockModel::Buckets(31), repr.clone()),
        )
        .unwrap();
        assert_eq!(sol.grid().unwrap().policy.grid().buckets(), 1);
        let classic = value_iteration(&m, IterParams::default()).unwrap();
        assert!((sol.value - classic.values[m.start()]).abs() < 1e-6);
        let e = solve(
            &m,
            &spec("utility:exp:1", StockModel::Buckets(3), repr.clone()),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("exponential utility") && e.contains("0.9"),
            "{e}"
        );
        let e = solve(&m, &spec("cvar:0.5", StockModel::Exact, repr))
            .unwrap_err()
            .to_string();
        assert!(e.contains("horizon"), "{e}");
        // Executed Markov policies of classic VI run through the same rollouts.
        let p = MarkovActions::new(&m, classic.policy).unwrap();
        let rs = rollout_returns(&m, &p, 0.0, 100, 50, &mut Seeder::new(1).rng(0)).unwrap();
        assert_eq!(rs.len(), 100);
    }

    #[test]
    fn specs_parse_display_and_validate() {
        for t in ["exact", "grid:7", "grid:-1:2:4"] {
            assert_eq!(t.parse::<StockModel>().unwrap().to_string(), t);
        }
        assert!("grid".parse::<StockModel>().is_err());
        assert!("grid:-1:-2:4".parse::<StockModel>().is_err());
        for t in ["exact", "exact:9", "categorical:51", "quantile:32"] {
            assert_eq!(t.parse::<RepresentationSpec>().unwrap().to_string(), t);
        }
        let e = "categorical:x"
            .parse::<RepresentationSpec>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("categorical:x"), "{e}");
        assert!("quantile:0"
            .parse::<RepresentationSpec>()
            .unwrap()
            .resolve(&library::chain(3, 0.0, 0.9).unwrap())
            .is_err());
        for m in [Method::ValueIteration, Method::PolicyIteration] {
            assert_eq!(m.to_string().parse::<Method>().unwrap(), m);
        }
        assert_eq!("pi".parse::<Method>().unwrap(), Method::PolicyIteration);
        assert!("newton".parse::<Method>().is_err());
        let o = Objective::new(Expectation).unwrap();
        assert!(SolveSpec::new(
            o.clone(),
            StockModel::Buckets(0),
            Representation::Quantile { n: 3 }
        )
        .is_err());
        assert!(SolveSpec::new(o, StockModel::Exact, Representation::Quantile { n: 0 }).is_err());
        assert!(Objective::new(Cvar::new(0.5).unwrap()).is_ok());
    }
}
