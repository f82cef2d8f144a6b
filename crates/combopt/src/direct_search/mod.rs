//! Blackbox optimisation by covering-step direct search (cDSM) and its
//! hybrid with **directional attacks** through a neural surrogate
//! (Bouchet & Vidal 2024, "Optimization by Directional Attacks: Solving
//! Problems with Neural Network Surrogates").
//!
//! Followed source: the authors' code, `PierreYvesBouchet/
//! Optimization-by-Directional-Attacks` on GitHub
//! (`src/optimization_algorithms/hybrid_method.py`, `optim_hybrid_method`,
//! and `tools/`: `covering_step`, `search_step`, `poll_step`,
//! `random_rotation`, `altered_line_search_step`, `local_attack_step`,
//! `evaluate_batch_directions`, `sufficient_increase`; the attacks in
//! `src/attack_algorithms/`), rewritten for minimisation. One iteration of [`minimize`]:
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
//!    -sum h_i`, or the authors' `n+1` poll that rotates each of those
//!    `n + 1` vectors by a random angle of at most `arccos(1/n)`,
//!    `poll_step(poll_type = "n+1")`) scaled to `||d||_inf = r_dsm`;
//!
//! each step evaluated opportunistically (stop at the first improvement).
//! With [`DsmParams::speculative`] (the authors' `enable_speculative_search`,
//! `altered_line_search_step`) every iteration after a successful one
//! first tries `x + m d` for the last successful step `d` and `m = 3/2, 1,
//! 2/3`; a success there takes the point, keeps both radii and skips the
//! rest of the iteration; a failed poll forgets `d`.
//! **Mesh adaptation** ([`Mesh`]): the poll radius doubles after a
//! successful search or poll (capped at `r_max`) and halves after a failed
//! poll (floored at `r_min`). Constraints use the extreme barrier (an
//! infeasible point evaluates to `+inf`). Without an oracle this is the
//! plain cDSM ("direct search alone", the claim's baseline).
//!
//! The attack oracle of the paper attacks a trained network `Phi` inside
//! `f(Phi(x))` ([`NetworkAttack`] on the problem `network`, whose `Phi` is a
//! fixed seeded MLP with an exact pure-Rust gradient: the paper's setting);
//! the other blackboxes have no network, so (as the issue asks) the network
//! is a **surrogate fitted online** to the evaluations (`SurrogateAttack`,
//! feature `torch`). The attack ([`AttackKind`], the authors' `algo`) is
//! FGSM (their default), `d = -r_atk sign(grad)`, or PGD, projected
//! signed-gradient steps inside `||d||_inf <= r_atk` (torchattacks' `PGD`
//! as the authors call it: 10 steps of `2/255` of the attack box, no
//! random start); see [`attack_direction`].

mod network;
mod problems;
#[cfg(feature = "torch")]
mod surrogate;

#[cfg(feature = "experiments")]
pub(crate) mod bench;

pub use network::{NetworkAttack, NetworkProblem};
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
    /// The columns and minus their sum (`n + 1` directions, a minimal
    /// positive basis).
    NPlusOne,
    /// The authors' `n+1` poll (`poll_step(poll_type = "n+1")`, the poll of
    /// their hybrid method): the `n + 1` vectors of [`Poll::NPlusOne`], each
    /// rotated by a random angle of at most `arccos(1/n)`
    /// ([`random_rotation`]). The rotated set need not be positively
    /// spanning; the covering step keeps the method's convergence argument.
    NPlusOneRotated,
}

/// The attack algorithm (the authors' `algo` of `local_attack_step`).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum AttackKind {
    /// Fast gradient sign method: `d = -r sign(g(0))` (torchattacks' `FGSM`,
    /// the authors' default).
    #[default]
    Fgsm,
    /// Projected gradient descent in the `l_inf` ball (torchattacks' `PGD`
    /// with `random_start = False`, as the authors call it): from `d = 0`,
    /// `steps` times `d <- clip(d - alpha 2r sign(g(d)), -r, r)`.
    Pgd {
        /// Number of steps (torchattacks' default 10).
        steps: usize,
        /// Step as a fraction of the attack box's width `2r`: the authors
        /// attack `Phi(x + 2r (u - 1/2))` over `u` in `[0, 1]^n` with
        /// torchattacks' default step `2/255` in `u`.
        alpha: f64,
    },
}

impl AttackKind {
    /// PGD with the authors' parameters (torchattacks 3.5.1 defaults:
    /// 10 steps of `2/255`; `eps = 1/2` of the unit box, i.e. radius `r`).
    pub const PGD: AttackKind = AttackKind::Pgd {
        steps: 10,
        alpha: 2.0 / 255.0,
    };

    /// Checks the PGD parameters.
    pub fn validate(&self) -> Result<()> {
        if let AttackKind::Pgd { steps, alpha } = *self {
            if steps == 0 {
                return Err(Error::invalid("pgd steps", steps, "at least 1"));
            }
            if !(alpha.is_finite() && alpha > 0.0 && alpha <= 1.0) {
                return Err(Error::invalid("pgd alpha", alpha, "a value in (0, 1]"));
            }
        }
        Ok(())
    }

    /// Parses `fgsm` or `pgd` (the latter with the authors' parameters).
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "fgsm" => Ok(AttackKind::Fgsm),
            "pgd" => Ok(AttackKind::PGD),
            _ => Err(Error::invalid("attack", name, "fgsm or pgd")),
        }
    }

    /// `fgsm` or `pgd`.
    pub fn name(&self) -> &'static str {
        match self {
            AttackKind::Fgsm => "fgsm",
            AttackKind::Pgd { .. } => "pgd",
        }
    }
}

/// The attack direction of `kind` at radius `r > 0`: `grad(d)` is the
/// gradient, with respect to the step `d`, of the attacked objective at
/// `x + d` (to decrease: the paper's targeted attack of `Phi` in the
/// direction `grad f(Phi(x))`, here `<grad f(Phi(x)), Phi(x + d)>`).
/// `None` when the attack cannot move (a zero gradient sign everywhere).
/// The result has `||d||_inf <= r`.
pub fn attack_direction(
    kind: AttackKind,
    n: usize,
    r: f64,
    mut grad: impl FnMut(&[f64]) -> Result<Vec<f64>>,
) -> Result<Option<Vec<f64>>> {
    kind.validate()?;
    if !(r.is_finite() && r > 0.0) {
        return Err(Error::invalid("attack radius", r, "a finite value > 0"));
    }
    // torch's sign: 0 for a zero (or NaN: no information) component.
    let sign = |v: f64| {
        if v > 0.0 {
            1.0
        } else if v < 0.0 {
            -1.0
        } else {
            0.0
        }
    };
    let mut d = vec![0.0; n];
    let (steps, step) = match kind {
        // FGSM is one step of the full radius.
        AttackKind::Fgsm => (1, r),
        AttackKind::Pgd { steps, alpha } => (steps, alpha * 2.0 * r),
    };
    for _ in 0..steps {
        let g = grad(&d)?;
        if g.len() != n {
            return Err(Error::invalid(
                "attack gradient length",
                g.len(),
                format!("{n}"),
            ));
        }
        for (di, gi) in d.iter_mut().zip(&g) {
            *di = (*di - step * sign(*gi)).clamp(-r, r);
        }
    }
    if d.iter().all(|v| *v == 0.0) {
        return Ok(None);
    }
    Ok(Some(d))
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
    /// The authors' speculative line search (`enable_speculative_search`,
    /// off by default as in their runs): after a successful iteration,
    /// first try `x + m d` for the last step `d`, `m = 3/2, 1, 2/3`.
    #[serde(default)]
    pub speculative: bool,
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
            speculative: false,
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
    /// Successful steps by kind: attack, covering, search, poll,
    /// speculative line search.
    pub successes: [usize; 5],
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
    /// improvement over `fx`, if any, with its direction.
    fn first_improvement(
        &mut self,
        x: &[f64],
        fx: f64,
        dirs: &[Vec<f64>],
    ) -> Option<(Vec<f64>, f64, Vec<f64>)> {
        for d in dirs {
            if self.exhausted() {
                return None;
            }
            let y: Vec<f64> = x.iter().zip(d).map(|(a, b)| a + b).collect();
            let fy = self.eval(&y);
            if fy < fx {
                return Some((y, fy, d.clone()));
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

/// `v` rotated by a random angle of at most `theta_max` (the authors'
/// `random_rotation`): the coordinates are shuffled into disjoint pairs
/// (an odd one left out) and each pair is turned by its own angle drawn
/// uniformly in `[-theta_max, theta_max]`. The authors' function draws the
/// shuffle but then builds its 2 x 2 blocks on the consecutive indices
/// `(i, i + 1)`, `i < n / 2`, which overlap for `n > 2` and zero the
/// trailing coordinates (not a rotation); we rotate the shuffled pairs,
/// the stated intent. The angle between `v` and the result is at most
/// `theta_max` (each pair's share of `|v|^2` turns by at most it) and the
/// 2-norm is kept.
pub fn random_rotation(v: &[f64], theta_max: f64, rng: &mut impl Rng) -> Vec<f64> {
    use rand::seq::SliceRandom;
    let n = v.len();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(rng);
    let mut out = v.to_vec();
    for pair in idx.chunks_exact(2) {
        let theta = theta_max * (2.0 * rng.random::<f64>() - 1.0);
        let (c, s) = (theta.cos(), theta.sin());
        let (i, j) = (pair[0], pair[1]);
        out[i] = c * v[i] + s * v[j];
        out[j] = -s * v[i] + c * v[j];
    }
    out
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
        Poll::NPlusOne | Poll::NPlusOneRotated => {
            let mut d = h.clone();
            d.push(
                (0..n)
                    .map(|j| -h.iter().map(|c| c[j]).sum::<f64>())
                    .collect(),
            );
            if poll == Poll::NPlusOneRotated {
                let theta = (1.0 / n as f64).acos();
                d = d.iter().map(|v| random_rotation(v, theta, rng)).collect();
            }
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
    let mut successes = [0usize; 5];
    let mut iterations = 0usize;
    // The last successful step (the authors' `d_speculative`): the
    // speculative line search retries it; a failed iteration forgets it.
    let mut last: Option<Vec<f64>> = None;
    while !ev.exhausted() {
        if mesh.converged() && (!with_attack || r_atk <= atk_min) {
            break;
        }
        iterations += 1;
        // 0. Speculative line search (authors' `altered_line_search_step`
        // with `theta_max = 0`: no rotation): radii unchanged on success.
        if params.speculative {
            if let Some(d) = last.take() {
                let dirs: Vec<Vec<f64>> = [1.5, 1.0, 2.0 / 3.0]
                    .iter()
                    .map(|m| d.iter().map(|v| v * m).collect())
                    .collect();
                if let Some((y, fy, dl)) = ev.first_improvement(&x, fx, &dirs) {
                    x = y;
                    fx = fy;
                    successes[4] += 1;
                    last = Some(dl);
                    continue;
                }
                // After a failed speculative search every path through the
                // rest of the iteration sets `last` again (the authors' loop
                // keeps `d` only until then).
                if ev.exhausted() {
                    break;
                }
            }
        }
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
                    last = Some(d);
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
        if let Some((y, fy, d)) = ev.first_improvement(&x, fx, &[d]) {
            x = y;
            fx = fy;
            successes[1] += 1;
            last = Some(d);
            continue;
        }
        // 3. Search (skipped once the mesh is at its floor).
        if !mesh.converged() {
            let r = (r0 * ((searches + 1) as f64).sqrt()).min(r_max);
            searches += 1;
            let d: Vec<f64> = unit_direction(n, rng).into_iter().map(|v| v * r).collect();
            let neg: Vec<f64> = d.iter().map(|v| -v).collect();
            if let Some((y, fy, d)) = ev.first_improvement(&x, fx, &[d, neg]) {
                x = y;
                fx = fy;
                successes[2] += 1;
                mesh.success();
                last = Some(d);
                continue;
            }
            // 4. Poll.
            let dirs = poll_directions(n, mesh.radius, params.poll, rng);
            if let Some((y, fy, d)) = ev.first_improvement(&x, fx, &dirs) {
                x = y;
                fx = fy;
                successes[3] += 1;
                mesh.success();
                last = Some(d);
            } else {
                mesh.failure();
                last = None;
            }
        } else {
            // The authors skip search and poll at the floor and count it a
            // failed poll.
            last = None;
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

    #[test]
    fn random_rotation_keeps_the_norm_and_bounds_the_angle() {
        let mut rng = Seeder::new(7).rng(0);
        for n in [1, 2, 5, 8] {
            let theta = (1.0 / n as f64).acos();
            for _ in 0..50 {
                let v = unit_direction(n, &mut rng);
                let w = random_rotation(&v, theta, &mut rng);
                let norm = w.iter().map(|a| a * a).sum::<f64>().sqrt();
                assert!((norm - 1.0).abs() < 1e-12, "n = {n}: norm {norm}");
                let cos: f64 = v.iter().zip(&w).map(|(a, b)| a * b).sum();
                assert!(cos >= theta.cos() - 1e-12, "n = {n}: cos {cos}");
            }
        }
        // Rotated n+1 poll: n + 1 directions at the radius, seeded.
        let a = poll_directions(4, 0.5, Poll::NPlusOneRotated, &mut Seeder::new(3).rng(0));
        let b = poll_directions(4, 0.5, Poll::NPlusOneRotated, &mut Seeder::new(3).rng(0));
        let plain = poll_directions(4, 0.5, Poll::NPlusOne, &mut Seeder::new(3).rng(0));
        assert_eq!(a, b);
        assert_eq!(a.len(), 5);
        assert_ne!(a, plain, "rotated");
        for d in &a {
            let inf = d.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
            assert!((inf - 0.5).abs() < 1e-12);
        }
    }

    #[test]
    fn rotated_poll_and_speculative_search_descend_on_a_quadratic() {
        let p = problem("quadratic", 4).unwrap();
        for (poll, speculative) in [
            (Poll::NPlusOneRotated, false),
            (Poll::TwoN, true),
            (Poll::NPlusOneRotated, true),
        ] {
            let params = DsmParams {
                max_evals: 20_000,
                target: Some(1e-6),
                poll,
                speculative,
                ..DsmParams::default()
            };
            let run = minimize(p.as_ref(), &params, None, &mut Seeder::new(5).rng(0)).unwrap();
            let again = minimize(p.as_ref(), &params, None, &mut Seeder::new(5).rng(0)).unwrap();
            assert_eq!(run, again, "same seed, same run");
            assert!(
                run.f <= 1e-6,
                "{poll:?} speculative {speculative}: f = {}",
                run.f
            );
            assert_eq!(run.successes[4] > 0, speculative, "{:?}", run.successes);
        }
        // The exact-sign oracle with the speculative search.
        let params = DsmParams {
            max_evals: 20_000,
            target: Some(1e-6),
            speculative: true,
            ..DsmParams::default()
        };
        let run = minimize(
            p.as_ref(),
            &params,
            Some(&mut Exact),
            &mut Seeder::new(5).rng(0),
        )
        .unwrap();
        assert!(run.f <= 1e-6);
    }

    #[test]
    fn attack_directions_and_bad_parameters() {
        // A linear objective g = (1, -2, 0): FGSM goes to the corner, PGD
        // takes steps of 2 alpha r and stops at the box.
        let grad = |_: &[f64]| -> Result<Vec<f64>> { Ok(vec![1.0, -2.0, 0.0]) };
        let d = attack_direction(AttackKind::Fgsm, 3, 0.5, grad)
            .unwrap()
            .unwrap();
        assert_eq!(d, vec![-0.5, 0.5, 0.0]);
        let d = attack_direction(AttackKind::PGD, 3, 0.5, grad)
            .unwrap()
            .unwrap();
        let moved = 10.0 * 2.0 * (2.0 / 255.0) * 0.5;
        assert!((d[0] + moved).abs() < 1e-12 && (d[1] - moved).abs() < 1e-12 && d[2] == 0.0);
        let d = attack_direction(
            AttackKind::Pgd {
                steps: 40,
                alpha: 0.1,
            },
            3,
            0.5,
            grad,
        )
        .unwrap()
        .unwrap();
        assert_eq!(d, vec![-0.5, 0.5, 0.0], "projected onto the box");
        let zero = |_: &[f64]| -> Result<Vec<f64>> { Ok(vec![0.0; 3]) };
        assert!(attack_direction(AttackKind::PGD, 3, 0.5, zero)
            .unwrap()
            .is_none());
        for (kind, r, name) in [
            (
                AttackKind::Pgd {
                    steps: 0,
                    alpha: 0.1,
                },
                0.5,
                "pgd steps",
            ),
            (
                AttackKind::Pgd {
                    steps: 2,
                    alpha: 1.5,
                },
                0.5,
                "pgd alpha",
            ),
            (AttackKind::Fgsm, 0.0, "attack radius"),
            (AttackKind::Fgsm, f64::NAN, "attack radius"),
        ] {
            let e = attack_direction(kind, 3, r, grad).unwrap_err().to_string();
            assert!(e.contains(name), "{e}");
        }
        let short = |_: &[f64]| -> Result<Vec<f64>> { Ok(vec![1.0]) };
        assert!(attack_direction(AttackKind::Fgsm, 3, 0.5, short).is_err());
        assert_eq!(AttackKind::parse("pgd").unwrap(), AttackKind::PGD);
        let e = AttackKind::parse("cw").unwrap_err().to_string();
        assert!(e.contains("cw"), "{e}");
    }
}
