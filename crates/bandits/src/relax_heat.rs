//! *Learning to Relax*'s third setting: the 2-D heat equation with a
//! time-varying diffusion coefficient, one linear system per implicit
//! (Crank-Nicolson) time step, as the authors' `scripts/h2d.m` and
//! `utils/Heat2D.m` (github.com/mkhodak/learning-to-relax) build it. Facts
//! and formulas follow those scripts; the code is our own.
//!
//! - Grid: `nx` cells per side of the unit square, `n = (nx - 1)^2`
//!   interior unknowns, `dx = 1 / nx`, `L` the 5-point Laplacian / `dx^2`
//!   (Dirichlet zero boundary).
//! - Diffusion `kappa(t) = max(0.1 sin(2 pi t), -10 sin(2 pi t))`; forcing
//!   `32 bump(x; (1/2 + cos(16 pi t)/4, 1/2 + sin(16 pi t)/4), 1/8)`; initial
//!   condition `bump(x; (1/2, 1/2), 1/4)`, with
//!   `bump(x; c, r) = exp(1 - 1 / (1 - min(1, |x - c|^2 / r^2)))`.
//! - Step `i` (time `t = i dt`, half step `h = t + dt/2`):
//!   `A = I - (kappa(h) dt / 2) L`, `b = (I + (kappa(h) dt / 2) L) u + dt f(h, x)`;
//!   5,000 steps of `dt = 5 / 5000`.
//! - The solver is SSOR-preconditioned CG warm-started at the previous `u`,
//!   tolerance 1e-8; the learners' context is `kappa(t)`, on
//!   `[min kappa, max kappa]` over the run's times.
//!
//! The reference advances each learner's own simulation with that learner's
//! solution; here the trajectory is advanced once with a tight solve
//! (relative residual 1e-13) and every (step, omega) cost is read from a
//! table -- the learners' solutions differ from it by at most the 1e-8
//! tolerance, so the systems they face are the same to that accuracy.

use duality_core::{check, Error, Result};
use rayon::prelude::*;

use crate::relax::{laplacian_2d, CsrMatrix};
use crate::relax_reference::ssor_pcg_from;

/// The reference's diffusion coefficient `kappa(t)`.
pub fn heat_coefficient(t: f64) -> f64 {
    let s = (2.0 * std::f64::consts::PI * t).sin();
    (0.1 * s).max(-10.0 * s)
}

/// The reference's smooth bump `exp(1 - 1 / (1 - min(1, |x - c|^2 / r^2)))`
/// (0 outside the disc of radius `r`).
pub fn bump(x: (f64, f64), centre: (f64, f64), radius: f64) -> f64 {
    let q = ((x.0 - centre.0).powi(2) + (x.1 - centre.1).powi(2)) / (radius * radius);
    if q >= 1.0 {
        0.0
    } else {
        (1.0 - 1.0 / (1.0 - q)).exp()
    }
}

/// The reference's forcing: a bump of height 32 circling the centre.
fn forcing(t: f64, x: (f64, f64)) -> f64 {
    let a = 16.0 * std::f64::consts::PI * t;
    32.0 * bump(x, (0.5 + a.cos() / 4.0, 0.5 + a.sin() / 4.0), 0.125)
}

/// Largest `nx` accepted (refused before allocating).
pub const MAX_HEAT_NX: usize = 512;
/// Largest number of time steps accepted.
pub const MAX_HEAT_STEPS: usize = 100_000;

/// The Crank-Nicolson systems of one heat-equation run.
#[derive(Debug, Clone)]
pub struct HeatSequence {
    /// Cells per side (`n = (nx - 1)^2` unknowns).
    pub nx: usize,
    /// Time step.
    pub dt: f64,
    /// `kappa(t_i)` at each step's start: the learners' context.
    pub contexts: Vec<f64>,
    /// Each step's matrix `A_i`.
    pub matrices: Vec<CsrMatrix>,
    /// Each step's right-hand side `b_i`.
    pub rhs: Vec<Vec<f64>>,
    /// The state `u_i` each step starts from (the solver's initial guess).
    pub starts: Vec<Vec<f64>>,
}

impl HeatSequence {
    /// The first `steps` systems of the reference run with `nx` cells per
    /// side and `dt = stop_time / total_steps` (the reference: 5 / 5000).
    /// Errors: `nx < 3` or above [`MAX_HEAT_NX`], `steps` 0 or above
    /// [`MAX_HEAT_STEPS`], a non-positive `dt`, or a solve that fails to
    /// reach 1e-13.
    pub fn new(nx: usize, steps: usize, dt: f64) -> Result<Self> {
        check::at_least("nx", nx, 3)?;
        if nx > MAX_HEAT_NX {
            return Err(Error::invalid("nx", nx, format!("at most {MAX_HEAT_NX}")));
        }
        check::at_least("steps", steps, 1)?;
        if steps > MAX_HEAT_STEPS {
            return Err(Error::invalid(
                "steps",
                steps,
                format!("at most {MAX_HEAT_STEPS}"),
            ));
        }
        check::positive("dt", dt)?;
        let g = nx - 1;
        let n = g * g;
        let dx = 1.0 / nx as f64;
        // laplacian_2d is -L dx^2 (4 on the diagonal, -1 off it), with the
        // same row-major ordering as the reference's ijdx.
        let neg_l = laplacian_2d(g)?;
        let coords: Vec<(f64, f64)> = (0..n)
            .map(|k| (((k / g) + 1) as f64 * dx, ((k % g) + 1) as f64 * dx))
            .collect();
        let mut u: Vec<f64> = coords.iter().map(|&x| bump(x, (0.5, 0.5), 0.25)).collect();
        let mut seq = HeatSequence {
            nx,
            dt,
            contexts: Vec::with_capacity(steps),
            matrices: Vec::with_capacity(steps),
            rhs: Vec::with_capacity(steps),
            starts: Vec::with_capacity(steps),
        };
        let mut lu = vec![0.0; n];
        for i in 0..steps {
            let t = i as f64 * dt;
            let h = t + 0.5 * dt;
            // c = kappa(h) dt / (2 dx^2); A = I + c (-L dx^2).
            let c = heat_coefficient(h) * dt / (2.0 * dx * dx);
            let mut trip = Vec::with_capacity(neg_l.nnz());
            for r in 0..n {
                let (cols, vals) = neg_l.row(r);
                for (&j, &v) in cols.iter().zip(vals) {
                    trip.push((r, j, c * v + if j == r { 1.0 } else { 0.0 }));
                }
            }
            let a = CsrMatrix::from_triplets(n, &trip)?;
            neg_l.matvec(&u, &mut lu)?;
            let b: Vec<f64> = (0..n)
                .map(|k| u[k] - c * lu[k] + dt * forcing(h, coords[k]))
                .collect();
            let sol = ssor_pcg_from(&a, &b, Some(&u), 1.5, 1e-13, 100_000)?;
            if !sol.converged {
                return Err(Error::invalid(
                    format!("heat step {i} solve (relative residual)"),
                    sol.relative_residual,
                    "convergence to 1e-13",
                ));
            }
            seq.contexts.push(heat_coefficient(t));
            seq.matrices.push(a);
            seq.rhs.push(b);
            seq.starts.push(std::mem::replace(&mut u, sol.x));
        }
        Ok(seq)
    }

    /// Number of systems.
    pub fn len(&self) -> usize {
        self.matrices.len()
    }

    /// Whether there are no systems.
    pub fn is_empty(&self) -> bool {
        self.matrices.is_empty()
    }

    /// `[min, max]` of the contexts (the interval of the contextual learners).
    pub fn context_range(&self) -> (f64, f64) {
        let lo = self.contexts.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = self
            .contexts
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        (lo, hi)
    }

    /// SSOR-PCG iterations for every step and grid omega (`[t][arm]`),
    /// warm-started at the step's start state, in parallel over steps.
    pub fn iteration_table(
        &self,
        grid: &[f64],
        tol: f64,
        max_iter: usize,
    ) -> Result<Vec<Vec<usize>>> {
        check::non_empty("omega grid", grid)?;
        (0..self.len())
            .into_par_iter()
            .map(|t| {
                grid.iter()
                    .map(|&w| {
                        Ok(ssor_pcg_from(
                            &self.matrices[t],
                            &self.rhs[t],
                            Some(&self.starts[t]),
                            w,
                            tol,
                            max_iter,
                        )?
                        .iterations)
                    })
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coefficient_bump_and_sequence() {
        // kappa: 0.1 sin on the positive half-period, -10 sin on the other.
        assert!((heat_coefficient(0.25) - 0.1).abs() < 1e-12);
        assert!((heat_coefficient(0.75) - 10.0).abs() < 1e-12);
        assert_eq!(heat_coefficient(0.0), 0.0);
        assert!((bump((0.5, 0.5), (0.5, 0.5), 0.25) - 1.0).abs() < 1e-12);
        assert_eq!(bump((0.9, 0.5), (0.5, 0.5), 0.25), 0.0);
        let seq = HeatSequence::new(9, 6, 0.001).unwrap();
        assert_eq!(seq.len(), 6);
        assert_eq!(seq.rhs[0].len(), 64);
        // Each start state solves the previous step's system.
        for t in 1..seq.len() {
            let mut ax = vec![0.0; 64];
            seq.matrices[t - 1].matvec(&seq.starts[t], &mut ax).unwrap();
            let err: f64 = ax
                .iter()
                .zip(&seq.rhs[t - 1])
                .map(|(a, b)| (a - b).powi(2))
                .sum();
            let bn: f64 = seq.rhs[t - 1].iter().map(|b| b * b).sum();
            assert!(err.sqrt() <= 1e-12 * bn.sqrt());
        }
        // A = I + c(-L dx^2) has diagonal 1 + 4c with c = kappa(h) dt / (2 dx^2).
        let c = heat_coefficient(0.0005) * 0.001 / (2.0 / 81.0);
        assert!((seq.matrices[0].diagonal()[0] - (1.0 + 4.0 * c)).abs() < 1e-12);
        let table = seq.iteration_table(&[1.0, 1.5], 1e-8, 10_000).unwrap();
        assert_eq!(table.len(), 6);
        assert!(table.iter().all(|r| r.iter().all(|&i| i < 10_000)));
        assert!(HeatSequence::new(2, 5, 0.001).is_err());
        assert!(HeatSequence::new(9, 0, 0.001).is_err());
        assert!(HeatSequence::new(9, 5, 0.0).is_err());
    }
}
