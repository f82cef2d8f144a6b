//! Blackbox optimisation by covering-step direct search (cDSM) and its
//! hybrid with **directional attacks** through a neural surrogate
//! (Bouchet & Vidal 2024, "Optimization by Directional Attacks: Solving
//! Problems with Neural Network Surrogates").
//!
//! Followed source: the authors' code, `PierreYvesBouchet/
//! Optimization-by-Directional-Attacks` on GitHub
//! (`src/optimization_algorithms/optim_hybrid_method.py` and `tools/`:
//! `covering_step`, `search_step`, `poll_step`, `local_attack_step`,
//! `evaluate_batch_directions`, `sufficient_increase`), rewritten for
//! minimisation. One iteration of [`minimize`]:
//!
//! 1. **attack** (only with an [`AttackOracle`]): a direction `d` with
//!    `||d||_inf <= r_atk` computed on the surrogate; if `f(x + d)` is a
//!    sufficient decrease (relative decrease `>= tau = 1e-3`) the point is
//!    taken, `r_atk *= 1.3` and the DSM steps are skipped; a plain decrease
//!    is taken with `r_atk *= 1.1`, a failure divides `r_atk` by 1.3; then
//! 2. **covering**: one point at a random direction and radius
//!    `(U r_0)^(1/n)` (the authors' "simplified" covering step);
//! 3. **search**: a random line search at radius `r_0 sqrt(s + 1)` (`s` =
//!    searches so far, capped at `r_max`), both signs;
//! 4. **poll**: the `2n` directions `±h_i` of a random Householder matrix
//!    `I - 2 u u^T` (or the `n + 1` minimal positive basis `h_1..h_n,
//!    -sum h_i`) scaled to `||d||_inf = r_dsm`;
//!
//! each step evaluated opportunistically (stop at the first improvement).
//! **Mesh adaptation** ([`Mesh`]): the poll radius doubles after a
//! successful search or poll (capped at `r_max`) and halves after a failed
//! poll (floored at `r_min`). Constraints use the extreme barrier (an
//! infeasible point evaluates to `+inf`). Without an oracle this is the
//! plain cDSM ("direct search alone", the claim's baseline).
//!
//! The attack oracle of the paper attacks a trained network `Phi` inside
//! `f(Phi(x))`; here the blackbox has no network, so (as the issue asks)
//! the network is a **surrogate fitted online** to the evaluations
//! (`SurrogateAttack`, feature `torch`), and the attack is FGSM (the
//! authors' default `algo = "FGSM"`) on it: `d = -r_atk sign(grad
//! Phi(x))`.

mod problems;
#[cfg(feature = "torch")]
mod surrogate;

#[cfg(feature = "experiments")]
pub(crate) mod bench;

pub use problems::{problem, Blackbox, MAX_DIM, PROBLEMS};
#[cfg(feature = "torch")]
pub use surrogate::{SurrogateAttack, SurrogateParams};

use duality_core::{Error, Result};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// The poll radius and its adaptation rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mesh {
    /// Current radius (`||d||_inf` of the poll directions).
    pub radius: f64,
    /// Smallest radius (convergence).
    pub min: f64,
    /// Largest radius.
    pub max: f64,
}

impl Mesh {
    /// After a successful search or poll: double, capped at `max`.
    pub fn success(&mut self) {
        self.radius = (2.0 * self.radius).min(self.max);
    }

    /// After a failed poll: halve, floored at `min`.
    pub fn failure(&mut self) {
        self.radius = (self.radius / 2.0).max(self.min);
    }

    /// True once the radius reached its floor.
    pub fn converged(&self) -> bool {
        self.radius <= self.min
    }
}

/// Poll sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Poll {
    /// `±` the columns of a random Householder matrix (`2n` directions).
    TwoN,
    /// The columns and minus their sum (`n + 1` directions).
    NPlusOne,
}

/// Parameters of [`minimize`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DsmParams {
    /// Largest number of blackbox evaluations.
    pub max_evals: usize,
    /// Initial radius `r_0` (covering, search and poll), in units of the
    /// problem's scale.
    pub r0: f64,
    /// Smallest poll radius (stop when reached, and the attack radius is
    /// at its floor too).
    pub r_min: f64,
    /// Largest poll and search radius, in units of the problem's scale.
    pub r_max: f64,
    /// Poll set.
    pub poll: Poll,
    /// Stop as soon as `f <= target`.
    pub target: Option<f64>,
    /// Attack radius bounds, in units of the problem's scale (the authors'
    /// `r_atk_min = 1e-5`, `r_atk_max = 1`).
    pub r_atk_min: f64,
    /// See `r_atk_min`.
    pub r_atk_max: f64,
    /// Relative decrease that makes an attack skip the DSM steps (1e-3).
    pub tau: f64,
}

impl Default for DsmParams {
    fn default() -> Self {
        Self {
            max_evals: 1_000,
            r0: 1.0,
            r_min: 1e-7,
            r_max: 100.0,
            poll: Poll::TwoN,
            target: None,
            r_atk_min: 1e-5,
            r_atk_max: 1.0,
            tau: 1e-3,
        }
    }
}

impl DsmParams {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        let pos = |name: &str, v: f64| -> Result<()> {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::invalid(name, v, "a finite value > 0"))
            }
        };
        pos("r0", self.r0)?;
        pos("r_min", self.r_min)?;
        pos("r_max", self.r_max)?;
        pos("r_atk_min", self.r_atk_min)?;
        pos("r_atk_max", self.r_atk_max)?;
        if self.r_min > self.r0 || self.r0 > self.r_max {
            return Err(Error::invalid(
                "r0",
                self.r0,
                format!("r_min ({}) <= r0 <= r_max ({})", self.r_min, self.r_max),
            ));
        }
        if self.r_atk_min > self.r_atk_max {
            return Err(Error::invalid(
                "r_atk_min",
                self.r_atk_min,
                "at most r_atk_max",
            ));
        }
        if !(self.tau.is_finite() && self.tau >= 0.0) {
            return Err(Error::invalid("tau", self.tau, "a finite value >= 0"));
        }
        if self.max_evals == 0 {
            return Err(Error::invalid("max_evals", 0, "at least 1 evaluation"));
        }
        if let Some(t) = self.target {
            if t.is_nan() {
                return Err(Error::invalid("target", t, "a number"));
            }
        }
        Ok(())
    }
}

/// The attack step's oracle: sees every evaluation and proposes a
/// direction with `||d||_inf <= radius` expected to decrease `f`.
pub trait AttackOracle {
    /// Name shown in reports.
    fn name(&self) -> &str;
    /// Records an evaluated, feasible point.
    fn observe(&mut self, x: &[f64], f: f64);
    /// A direction from `x` (or `None` when it cannot propose one yet).
    fn direction(&mut self, x: &[f64], radius: f64) -> Result<Option<Vec<f64>>>;
}

/// Result of [`minimize`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DsmRun {
    /// Best point.
    pub x: Vec<f64>,
    /// Its value.
    pub f: f64,
    /// Evaluations used.
    pub evals: usize,
    /// Evaluations when `f <= target` first held (none without a target or
    /// when it was not reached).
    pub evals_to_target: Option<usize>,
    /// Iterations.
    pub iterations: usize,
    /// Successful steps by kind: attack, covering, search, poll.
    pub successes: [usize; 4],
    /// Final poll radius.
    pub poll_radius: f64,
    /// `(evaluation, best value)` at each improvement.
    pub trace: Vec<(usize, f64)>,
}

struct Evaluator<'p, 'o> {
    problem: &'p dyn Blackbox,
    oracle: Option<&'o mut dyn AttackOracle>,
    evals: usize,
    max: usize,
    target: Option<f64>,
    best: f64,
    hit: Option<usize>,
    trace: Vec<(usize, f64)>,
}

impl Evaluator<'_, '_> {
    fn exhausted(&self) -> bool {
        self.evals >= self.max || self.hit.is_some()
    }

    fn eval(&mut self, x: &[f64]) -> f64 {
        self.evals += 1;
        let f = self.problem.eval(x);
        let f = if f.is_nan() { f64::INFINITY } else { f };
        if f.is_finite() {
            if let Some(o) = self.oracle.as_deref_mut() {
                o.observe(x, f);
            }
        }
        if f < self.best {
            self.best = f;
            self.trace.push((self.evals, f));
            if self.hit.is_none() && self.target.is_some_and(|t| f <= t) {
                self.hit = Some(self.evals);
            }
        }
        f
    }

    /// Opportunistic evaluation of `x + d` for each direction: the first
    /// improvement over `fx`, if any.
    fn first_improvement(
        &mut self,
        x: &[f64],
        fx: f64,
        dirs: &[Vec<f64>],
    ) -> Option<(Vec<f64>, f64)> {
        for d in dirs {
            if self.exhausted() {
                return None;
            }
            let y: Vec<f64> = x.iter().zip(d).map(|(a, b)| a + b).collect();
            let fy = self.eval(&y);
            if fy < fx {
                return Some((y, fy));
            }
        }
        None
    }
}

/// A uniformly random unit direction (2-norm).
fn unit_direction(n: usize, rng: &mut impl Rng) -> Vec<f64> {
    loop {
        let v: Vec<f64> = (0..n).map(|_| StandardNormal.sample(rng)).collect();
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm > 1e-12 {
            return v.into_iter().map(|a| a / norm).collect();
        }
    }
}

/// Poll directions at radius `r` (`||d||_inf = r`).
pub fn poll_directions(n: usize, r: f64, poll: Poll, rng: &mut impl Rng) -> Vec<Vec<f64>> {
    let u = unit_direction(n, rng);
    let h: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| f64::from(u8::from(i == j)) - 2.0 * u[i] * u[j])
                .collect()
        })
        .collect();
    let mut dirs = match poll {
        Poll::TwoN => {
            let mut d = h.clone();
            d.extend(h.iter().map(|c| c.iter().map(|v| -v).collect::<Vec<f64>>()));
            d
        }
        Poll::NPlusOne => {
            let mut d = h.clone();
            d.push(
                (0..n)
                    .map(|j| -h.iter().map(|c| c[j]).sum::<f64>())
                    .collect(),
            );
            d
        }
    };
    for d in &mut dirs {
        let inf = d.iter().fold(0.0_f64, |m, v| m.max(v.abs())).max(1e-300);
        for v in d.iter_mut() {
            *v *= r / inf;
        }
    }
    dirs
}

/// Minimises `problem` from its start point by cDSM, with attack steps
/// when `oracle` is given (see the module docs).
pub fn minimize(
    problem: &dyn Blackbox,
    params: &DsmParams,
    oracle: Option<&mut dyn AttackOracle>,
    rng: &mut impl Rng,
) -> Result<DsmRun> {
    params.validate()?;
    let n = problem.dim();
    let scale = problem.scale();
    let with_attack = oracle.is_some();
    let mut ev = Evaluator {
        problem,
        oracle,
        evals: 0,
        max: params.max_evals,
        target: params.target,
        best: f64::INFINITY,
        hit: None,
        trace: Vec::new(),
    };
    let mut x = problem.start();
    if x.len() != n {
        return Err(Error::invalid(
            "start point length",
            x.len(),
            format!("{n}"),
        ));
    }
    let mut fx = ev.eval(&x);
    if !fx.is_finite() {
        return Err(Error::invalid(
            "start point",
            format!("{x:?}"),
            "a feasible point with a finite objective",
        ));
    }
    let r0 = params.r0 * scale;
    let r_max = params.r_max * scale;
    let mut mesh = Mesh {
        radius: r0,
        min: params.r_min * scale,
        max: r_max,
    };
    let (atk_min, atk_max) = (params.r_atk_min * scale, params.r_atk_max * scale);
    let mut r_atk = r0.clamp(atk_min, atk_max);
    let mut searches = 0usize;
    let mut successes = [0usize; 4];
    let mut iterations = 0usize;
    while !ev.exhausted() {
        if mesh.converged() && (!with_attack || r_atk <= atk_min) {
            break;
        }
        iterations += 1;
        // 1. Attack.
        if with_attack {
            let proposal = match ev.oracle.as_deref_mut() {
                Some(o) => o.direction(&x, r_atk)?,
                None => None,
            };
            if let Some(d) = proposal {
                let y: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a + b).collect();
                let fy = ev.eval(&y);
                if fy < fx {
                    let sufficient = (fx - fy) / (fx.abs() + 1e-10) >= params.tau;
                    x = y;
                    fx = fy;
                    successes[0] += 1;
                    if sufficient {
                        if mesh.converged() {
                            mesh.radius = (2.0 * mesh.radius).min(mesh.max);
                        }
                        r_atk = (r_atk * 1.3).clamp(atk_min, atk_max);
                        continue;
                    }
                    r_atk = (r_atk * 1.1).clamp(atk_min, atk_max);
                } else {
                    r_atk = (r_atk / 1.3).max(atk_min);
                }
                if ev.exhausted() {
                    break;
                }
            }
        }
        // 2. Covering.
        let radius = (rng.random::<f64>() * r0).powf(1.0 / n as f64);
        let d: Vec<f64> = unit_direction(n, rng)
            .into_iter()
            .map(|v| v * radius)
            .collect();
        if let Some((y, fy)) = ev.first_improvement(&x, fx, &[d]) {
            x = y;
            fx = fy;
            successes[1] += 1;
            continue;
        }
        // 3. Search (skipped once the mesh is at its floor).
        if !mesh.converged() {
            let r = (r0 * ((searches + 1) as f64).sqrt()).min(r_max);
            searches += 1;
            let d: Vec<f64> = unit_direction(n, rng).into_iter().map(|v| v * r).collect();
            let neg: Vec<f64> = d.iter().map(|v| -v).collect();
            if let Some((y, fy)) = ev.first_improvement(&x, fx, &[d, neg]) {
                x = y;
                fx = fy;
                successes[2] += 1;
                mesh.success();
                continue;
            }
            // 4. Poll.
            let dirs = poll_directions(n, mesh.radius, params.poll, rng);
            if let Some((y, fy)) = ev.first_improvement(&x, fx, &dirs) {
                x = y;
                fx = fy;
                successes[3] += 1;
                mesh.success();
            } else {
                mesh.failure();
            }
        }
    }
    Ok(DsmRun {
        x,
        f: fx,
        evals: ev.evals,
        evals_to_target: ev.hit,
        iterations,
        successes,
        poll_radius: mesh.radius,
        trace: ev.trace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use duality_core::seed::Seeder;

    #[test]
    fn mesh_rules() {
        let mut m = Mesh {
            radius: 1.0,
            min: 0.25,
            max: 4.0,
        };
        m.success();
        assert_eq!(m.radius, 2.0);
        m.success();
        m.success();
        assert_eq!(m.radius, 4.0, "capped at max");
        for _ in 0..10 {
            m.failure();
        }
        assert_eq!(m.radius, 0.25, "floored at min");
        assert!(m.converged());
    }

    #[test]
    fn poll_sets_are_positive_spanning_with_the_radius() {
        let mut rng = Seeder::new(4).rng(0);
        for (poll, count) in [(Poll::TwoN, 8), (Poll::NPlusOne, 5)] {
            let dirs = poll_directions(4, 0.5, poll, &mut rng);
            assert_eq!(dirs.len(), count);
            for d in &dirs {
                let inf = d.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
                assert!((inf - 0.5).abs() < 1e-12);
            }
            // Positive spanning: every unit vector has a direction at an
            // acute angle.
            for k in 0..4 {
                for s in [-1.0, 1.0] {
                    assert!(
                        dirs.iter().any(|d| s * d[k] > 1e-9),
                        "{poll:?} misses ±e_{k}"
                    );
                }
            }
        }
    }

    #[test]
    fn direct_search_converges_on_convex_quadratics() {
        for n in [2, 5] {
            let p = problem("quadratic", n).unwrap();
            let params = DsmParams {
                max_evals: 20_000,
                r_min: 1e-9,
                ..DsmParams::default()
            };
            let run =
                minimize(p.as_ref(), &params, None, &mut Seeder::new(n as u64).rng(0)).unwrap();
            assert!(
                run.f < 1e-8,
                "n = {n}: f = {} after {} evals",
                run.f,
                run.evals
            );
            assert!(run.x.iter().all(|v| (v - 1.0).abs() < 1e-3));
            // Constrained: the optimum 1/n on the half-space boundary.
            let h = problem("quadratic-halfspace", n).unwrap();
            let run = minimize(h.as_ref(), &params, None, &mut Seeder::new(9).rng(0)).unwrap();
            // The extreme barrier makes direct search slow along a
            // constraint boundary (feasible descent directions are a thin
            // cone there): within 10% of the optimum 1/n, from 1 at the start.
            assert!(run.f < 1.1 / n as f64, "halfspace n = {n}: {}", run.f);
            assert!(run.x.iter().sum::<f64>() >= 1.0);
        }
    }

    #[test]
    fn target_budget_and_determinism() {
        let p = problem("rosenbrock", 2).unwrap();
        let params = DsmParams {
            max_evals: 5_000,
            target: Some(1e-2),
            ..DsmParams::default()
        };
        let a = minimize(p.as_ref(), &params, None, &mut Seeder::new(1).rng(0)).unwrap();
        let b = minimize(p.as_ref(), &params, None, &mut Seeder::new(1).rng(0)).unwrap();
        assert_eq!(a, b);
        if let Some(k) = a.evals_to_target {
            assert_eq!(k, a.evals);
            assert!(a.f <= 1e-2);
        }
        let few = DsmParams {
            max_evals: 10,
            ..DsmParams::default()
        };
        assert_eq!(
            minimize(p.as_ref(), &few, None, &mut Seeder::new(1).rng(0))
                .unwrap()
                .evals,
            10
        );
        assert!(minimize(
            p.as_ref(),
            &DsmParams {
                r0: 0.0,
                ..DsmParams::default()
            },
            None,
            &mut Seeder::new(1).rng(0)
        )
        .is_err());
    }

    /// An oracle that knows the gradient sign of the quadratic: attacks
    /// then reach the target in fewer evaluations than direct search alone.
    struct Exact;
    impl AttackOracle for Exact {
        fn name(&self) -> &str {
            "exact"
        }
        fn observe(&mut self, _: &[f64], _: f64) {}
        fn direction(&mut self, x: &[f64], r: f64) -> Result<Option<Vec<f64>>> {
            Ok(Some(x.iter().map(|v| -r * (v - 1.0).signum()).collect()))
        }
    }

    #[test]
    fn a_good_oracle_saves_evaluations() {
        let p = problem("quadratic", 6).unwrap();
        let params = DsmParams {
            max_evals: 20_000,
            target: Some(1e-6),
            ..DsmParams::default()
        };
        let plain = minimize(p.as_ref(), &params, None, &mut Seeder::new(2).rng(0)).unwrap();
        let mut o = Exact;
        let hybrid = minimize(
            p.as_ref(),
            &params,
            Some(&mut o),
            &mut Seeder::new(2).rng(0),
        )
        .unwrap();
        let (a, b) = (
            hybrid.evals_to_target.unwrap(),
            plain.evals_to_target.unwrap(),
        );
        assert!(a < b, "hybrid {a} vs plain {b}");
        assert!(hybrid.successes[0] > 0);
    }
}
