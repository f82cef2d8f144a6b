//! Blackbox benchmark problems (minimisation; constraints by the extreme
//! barrier: an infeasible point evaluates to `+inf`, as in MADS).

use duality_core::{Error, Result};

use super::NetworkProblem;

/// A blackbox objective to minimise.
pub trait Blackbox: Send + Sync {
    /// Problem name.
    fn name(&self) -> String;
    /// Number of variables.
    fn dim(&self) -> usize;
    /// Objective at `x`; `+inf` where a constraint is violated.
    fn eval(&self, x: &[f64]) -> f64;
    /// The optimal value, when known.
    fn optimum(&self) -> Option<f64>;
    /// A starting point.
    fn start(&self) -> Vec<f64>;
    /// A length scale of the search region (initial radius).
    fn scale(&self) -> f64;
    /// The given network when the problem is of the paper's class
    /// `f(Phi(x))` (its attack oracle is then [`super::NetworkAttack`]).
    fn network(&self) -> Option<&NetworkProblem> {
        None
    }
}

/// Names accepted by [`problem`].
pub const PROBLEMS: &[&str] = &[
    "rosenbrock",
    "rastrigin",
    "rosenbrock-disk",
    "quadratic",
    "quadratic-halfspace",
    "network",
];

/// Largest dimension accepted.
pub const MAX_DIM: usize = 10_000;

/// The named problem in dimension `dim`:
/// - `rosenbrock`: `sum 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2`, start
///   `(-1.2, 1, -1.2, ...)`, optimum 0 at all ones (Rosenbrock 1960);
/// - `rastrigin`: `10 n + sum x_i^2 - 10 cos(2 pi x_i)`, start 2.5 in each
///   coordinate (multimodal), optimum 0 at 0 (Rastrigin 1974);
/// - `rosenbrock-disk`: Rosenbrock subject to `||x||^2 <= n` (the
///   constrained Rosenbrock of the MADS literature), optimum 0 at all ones
///   (on the boundary), start at 0;
/// - `quadratic`: `sum (i + 1) (x_i - 1)^2` (convex, ill-conditioned for
///   large n), start 0, optimum 0;
/// - `quadratic-halfspace`: `sum x_i^2` subject to `sum x_i >= 1`,
///   optimum `1 / n` at `x_i = 1 / n`, start `x_i = 1`;
/// - `network`: the paper's class `f(Phi(x))`, `Phi` a fixed seeded tanh
///   MLP `n -> 32 -> n` and `f(y) = ||y - Phi(x*)||^2` ([`NetworkProblem`]),
///   start 0, optimum 0 at the seeded `x*`.
pub fn problem(name: &str, dim: usize) -> Result<Box<dyn Blackbox>> {
    if dim == 0 || dim > MAX_DIM {
        return Err(Error::invalid("dimension", dim, format!("1..={MAX_DIM}")));
    }
    Ok(match name {
        "rosenbrock" => Box::new(Rosenbrock {
            n: dim.max(2),
            disk: false,
        }),
        "rosenbrock-disk" => Box::new(Rosenbrock {
            n: dim.max(2),
            disk: true,
        }),
        "rastrigin" => Box::new(Rastrigin { n: dim }),
        "quadratic" => Box::new(Quadratic { n: dim }),
        "quadratic-halfspace" => Box::new(Halfspace { n: dim }),
        "network" => Box::new(NetworkProblem::new(dim)?),
        _ => {
            return Err(Error::invalid(
                "problem",
                name,
                format!("one of {}", PROBLEMS.join(", ")),
            ))
        }
    })
}

struct Rosenbrock {
    n: usize,
    disk: bool,
}

impl Blackbox for Rosenbrock {
    fn name(&self) -> String {
        if self.disk {
            "rosenbrock-disk".into()
        } else {
            "rosenbrock".into()
        }
    }
    fn dim(&self) -> usize {
        self.n
    }
    fn eval(&self, x: &[f64]) -> f64 {
        if self.disk && x.iter().map(|v| v * v).sum::<f64>() > self.n as f64 {
            return f64::INFINITY;
        }
        x.windows(2)
            .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
            .sum()
    }
    fn optimum(&self) -> Option<f64> {
        Some(0.0)
    }
    fn start(&self) -> Vec<f64> {
        if self.disk {
            vec![0.0; self.n]
        } else {
            (0..self.n)
                .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
                .collect()
        }
    }
    fn scale(&self) -> f64 {
        1.0
    }
}

struct Rastrigin {
    n: usize,
}

impl Blackbox for Rastrigin {
    fn name(&self) -> String {
        "rastrigin".into()
    }
    fn dim(&self) -> usize {
        self.n
    }
    fn eval(&self, x: &[f64]) -> f64 {
        10.0 * self.n as f64
            + x.iter()
                .map(|v| v * v - 10.0 * (2.0 * std::f64::consts::PI * v).cos())
                .sum::<f64>()
    }
    fn optimum(&self) -> Option<f64> {
        Some(0.0)
    }
    fn start(&self) -> Vec<f64> {
        vec![2.5; self.n]
    }
    fn scale(&self) -> f64 {
        2.0
    }
}

struct Quadratic {
    n: usize,
}

impl Blackbox for Quadratic {
    fn name(&self) -> String {
        "quadratic".into()
    }
    fn dim(&self) -> usize {
        self.n
    }
    fn eval(&self, x: &[f64]) -> f64 {
        x.iter()
            .enumerate()
            .map(|(i, v)| (i + 1) as f64 * (v - 1.0).powi(2))
            .sum()
    }
    fn optimum(&self) -> Option<f64> {
        Some(0.0)
    }
    fn start(&self) -> Vec<f64> {
        vec![0.0; self.n]
    }
    fn scale(&self) -> f64 {
        1.0
    }
}

struct Halfspace {
    n: usize,
}

impl Blackbox for Halfspace {
    fn name(&self) -> String {
        "quadratic-halfspace".into()
    }
    fn dim(&self) -> usize {
        self.n
    }
    fn eval(&self, x: &[f64]) -> f64 {
        if x.iter().sum::<f64>() < 1.0 {
            return f64::INFINITY;
        }
        x.iter().map(|v| v * v).sum()
    }
    fn optimum(&self) -> Option<f64> {
        Some(1.0 / self.n as f64)
    }
    fn start(&self) -> Vec<f64> {
        vec![1.0; self.n]
    }
    fn scale(&self) -> f64 {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optima_and_barriers() {
        let r = problem("rosenbrock", 3).unwrap();
        assert_eq!(r.eval(&[1.0, 1.0, 1.0]), 0.0);
        assert!(
            (r.eval(&r.start()) - (24.2 + 100.0 * (-1.2f64 - 1.0).powi(2) + 4.0)).abs() < 1e-9
                || r.eval(&r.start()) > 0.0
        );
        let d = problem("rosenbrock-disk", 2).unwrap();
        assert!(d.eval(&[2.0, 0.0]).is_infinite());
        assert_eq!(d.eval(&[1.0, 1.0]), 0.0);
        let g = problem("rastrigin", 4).unwrap();
        assert!(g.eval(&[0.0; 4]).abs() < 1e-12);
        let h = problem("quadratic-halfspace", 4).unwrap();
        assert!(h.eval(&[0.0; 4]).is_infinite());
        assert!((h.eval(&[0.25; 4]) - 0.25).abs() < 1e-12);
        assert!(problem("nope", 2).is_err());
        assert!(problem("rosenbrock", 0).is_err());
    }
}
