//! Distributional value and policy iteration over `(state, stock bucket)`
//! on a [`StockGrid`] (Pires, Rowland, Borsa et al. 2025, Algorithm 1 with a
//! stock grid; policy iteration as in their §5). Finite horizons are solved
//! by exact backward induction in time (a time-dependent policy) whichever
//! method is asked for; infinite horizons iterate to `sup W1 < tol` or
//! `max_iter`. Inputs were validated by [`crate::solve()`]; nothing here
//! re-checks them.

use rayon::prelude::*;

use super::{next_stock, Candidate, GridPolicy, GridSolution, StockGrid};
use crate::classic::IterParams;
use crate::dist::{FiniteSupport, Representation, ReturnDistribution};
use crate::mdp::FiniteMdp;
use crate::objective::StockObjective;
use crate::solve::Method;

/// `eta[s][b]`: a return law per (state, stock bucket).
type Table = Vec<Vec<FiniteSupport>>;

/// Policy iteration keeps the current action unless it loses by more than this.
const KEEP: f64 = 1e-10;

/// The solver's fixed context.
struct GridDp<'a> {
    mdp: &'a FiniteMdp,
    grid: StockGrid,
    objective: &'a dyn StockObjective,
    repr: &'a Representation,
}

/// Solves the grid model with `method` (ignored for finite horizons).
pub(crate) fn solve_grid(
    mdp: &FiniteMdp,
    objective: &dyn StockObjective,
    grid: StockGrid,
    repr: &Representation,
    params: IterParams,
    method: Method,
) -> GridSolution {
    let dp = GridDp {
        mdp,
        grid,
        objective,
        repr,
    };
    match (mdp.horizon(), method) {
        (Some(h), _) => dp.backward_induction(h),
        (None, Method::ValueIteration) => dp.value_iteration(params),
        (None, Method::PolicyIteration) => dp.policy_iteration(params),
    }
}

impl GridDp<'_> {
    fn zero_table(&self) -> Table {
        vec![vec![FiniteSupport::dirac(0.0); self.grid.buckets()]; self.mdp.n_states()]
    }

    /// Bellman target of `(s, c, a)`: the law of `R + gamma G(S', C')` as
    /// weighted atoms, written into `out`.
    fn target(
        &self,
        eta: &[Vec<FiniteSupport>],
        s: usize,
        c: f64,
        a: usize,
        out: &mut Vec<(f64, f64)>,
    ) {
        out.clear();
        let gamma = self.mdp.gamma();
        for o in self.mdp.outcomes(s, a) {
            let b = self.grid.bucket(next_stock(c, o.reward, gamma));
            let next = &eta[o.next][b];
            for (&g, &p) in next.atoms().iter().zip(next.probs()) {
                out.push((o.reward + gamma * g, o.prob * p));
            }
        }
    }

    /// Greedy action at `(s, bucket b)` and its projected target. With
    /// `keep = Some(current)` (policy iteration) the current action stays
    /// unless another is strictly better.
    fn greedy_backup(
        &self,
        eta: &[Vec<FiniteSupport>],
        s: usize,
        b: usize,
        keep: Option<usize>,
    ) -> (usize, FiniteSupport) {
        let c = self.grid.value(b);
        let mut best: Option<Candidate> = None;
        let mut buf = Vec::new();
        let mut kept_score = f64::NEG_INFINITY;
        for a in 0..self.mdp.n_actions() {
            self.target(eta, s, c, a, &mut buf);
            let score = self.objective.expected_utility(c, &buf);
            if Some(a) == keep {
                kept_score = score;
            }
            if Candidate::beaten_by(&best, score) {
                best = Some(Candidate {
                    action: a,
                    score,
                    target: std::mem::take(&mut buf),
                });
            }
        }
        // n_actions >= 1 (checked at construction), so `best` is set.
        let (mut a, v, mut pairs) = best.map_or((0, 0.0, vec![(0.0, 1.0)]), |b| {
            (b.action, b.score, b.target)
        });
        if let Some(k) = keep {
            if kept_score >= v - KEEP * (1.0 + v.abs()) && k != a {
                a = k;
                self.target(eta, s, c, k, &mut buf);
                pairs = buf;
            }
        }
        (a, self.repr.project(pairs))
    }

    /// One greedy backup of every (state, bucket), in parallel over states:
    /// the chosen actions and the backed-up laws (terminal states keep the
    /// zero return and action 0).
    fn greedy_sweep(&self, eta: &[Vec<FiniteSupport>]) -> (Vec<Vec<usize>>, Table) {
        let nb = self.grid.buckets();
        (0..self.mdp.n_states())
            .into_par_iter()
            .map(|s| {
                if self.mdp.is_terminal(s) {
                    return (vec![0; nb], vec![FiniteSupport::dirac(0.0); nb]);
                }
                (0..nb).map(|b| self.greedy_backup(eta, s, b, None)).unzip()
            })
            .unzip()
    }

    /// One evaluation sweep of the fixed augmented policy `actions[s][b]`.
    fn evaluation_sweep(&self, eta: &[Vec<FiniteSupport>], actions: &[Vec<usize>]) -> Table {
        (0..self.mdp.n_states())
            .into_par_iter()
            .map(|s| {
                (0..self.grid.buckets())
                    .map(|b| {
                        if self.mdp.is_terminal(s) {
                            return FiniteSupport::dirac(0.0);
                        }
                        let mut buf = Vec::new();
                        self.target(eta, s, self.grid.value(b), actions[s][b], &mut buf);
                        self.repr.project(buf)
                    })
                    .collect()
            })
            .collect()
    }

    /// Greedy improvement of `actions`, keeping each current action unless
    /// strictly improved.
    fn improve(&self, eta: &[Vec<FiniteSupport>], actions: &[Vec<usize>]) -> Vec<Vec<usize>> {
        (0..self.mdp.n_states())
            .into_par_iter()
            .map(|s| {
                (0..self.grid.buckets())
                    .map(|b| {
                        if self.mdp.is_terminal(s) {
                            0
                        } else {
                            self.greedy_backup(eta, s, b, Some(actions[s][b])).0
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// Inner value `E f(c + G)` at the start state for every bucket stock `c`.
    fn start_values(&self, eta: &[Vec<FiniteSupport>]) -> Vec<f64> {
        (0..self.grid.buckets())
            .map(|b| {
                let c = self.grid.value(b);
                let law = &eta[self.mdp.start()][b];
                law.expected_utility(&|x| self.objective.utility(c + x))
            })
            .collect()
    }

    fn finish(
        &self,
        actions: Vec<Vec<Vec<usize>>>,
        eta: Table,
        iterations: usize,
        converged: bool,
        sup_w1: Vec<f64>,
    ) -> GridSolution {
        let start_values = self.start_values(&eta);
        GridSolution {
            policy: GridPolicy {
                grid: self.grid,
                actions,
            },
            eta,
            iterations,
            converged,
            sup_w1,
            start_values,
        }
    }

    /// Finite horizon `h`: `h` greedy sweeps backwards in time (exact).
    fn backward_induction(&self, h: usize) -> GridSolution {
        let (ns, nb) = (self.mdp.n_states(), self.grid.buckets());
        let mut eta = self.zero_table();
        let mut actions = vec![vec![vec![0usize; nb]; ns]; h];
        let mut residuals = Vec::with_capacity(h);
        for t in (0..h).rev() {
            let (acts, next) = self.greedy_sweep(&eta);
            actions[t] = acts;
            residuals.push(sup_w1(&next, &eta));
            eta = next;
        }
        self.finish(actions, eta, h, true, residuals)
    }

    /// Infinite horizon: greedy sweeps until the sup-W1 change is below `tol`.
    fn value_iteration(&self, params: IterParams) -> GridSolution {
        let mut eta = self.zero_table();
        let mut actions = vec![vec![0usize; self.grid.buckets()]; self.mdp.n_states()];
        let mut residuals = Vec::new();
        let mut iterations = 0;
        let mut converged = false;
        while iterations < params.max_iter() {
            iterations += 1;
            let (acts, next) = self.greedy_sweep(&eta);
            actions = acts;
            let r = sup_w1(&next, &eta);
            residuals.push(r);
            eta = next;
            if r < params.tol() {
                converged = true;
                break;
            }
        }
        self.finish(vec![actions], eta, iterations, converged, residuals)
    }

    /// Infinite horizon: evaluate the current augmented policy (to `tol`, at
    /// most `max_iter` sweeps), improve greedily, until the policy is stable.
    /// One residual (the last evaluation sweep's) per improvement step.
    fn policy_iteration(&self, params: IterParams) -> GridSolution {
        let mut eta = self.zero_table();
        let mut actions = vec![vec![0usize; self.grid.buckets()]; self.mdp.n_states()];
        let mut residuals = Vec::new();
        let mut iterations = 0;
        let mut converged = false;
        while iterations < params.max_iter() {
            iterations += 1;
            let mut inner = 0;
            loop {
                inner += 1;
                let next = self.evaluation_sweep(&eta, &actions);
                let r = sup_w1(&next, &eta);
                eta = next;
                if r < params.tol() || inner >= params.max_iter() {
                    residuals.push(r);
                    break;
                }
            }
            let improved = self.improve(&eta, &actions);
            if improved == actions {
                converged = true;
                break;
            }
            actions = improved;
        }
        self.finish(vec![actions], eta, iterations, converged, residuals)
    }
}

/// Sup over (state, bucket) of W1 between two tables.
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
