//! Global versus episodic count-based exploration bonuses in contextual
//! MDPs, after Henaff, Jiang & Raileanu, "A Study of Global and Episodic
//! Bonuses for Exploration in Contextual MDPs" (ICML 2023).
//!
//! The paper's finding: an *episodic* bonus (novelty counted within the
//! current episode) works when contexts share little structure, a *global*
//! bonus (counts over all of training) when they share much, and their
//! *product* is robust across the range. Here (tabular, following the
//! paper's count-based definitions; its MiniHack/Habitat agents are neural):
//!
//! - [`ContextualGrid`]: a `size x size` gridworld whose layout (walls of
//!   density `wall_density`, the goal cell) is redrawn every episode. The
//!   shared-structure parameter `shared` in `[0, 1]` is the probability
//!   that each wall cell and the goal keep the base layout drawn once per
//!   run; otherwise they are drawn afresh (`shared = 1`: one fixed MDP;
//!   `shared = 0`: an unrelated layout every episode). The agent starts in
//!   the corner `(0, 0)`; reaching the goal ends the episode with reward
//!   `1 - 0.9 t / horizon` (MiniGrid's), hitting a wall keeps it in place.
//! - [`Bonus`]: `b_global(s) = 1 / sqrt(N(s))` with counts over every
//!   episode so far, `b_episodic(s) = 1 / sqrt(N_e(s))` with counts reset
//!   every episode, their product (the paper's combination), or none.
//! - The agent: tabular Q-learning on the position (layouts are not part of
//!   the state, so only shared structure can be learned across episodes),
//!   reward `r + beta b(s')`; it acts epsilon-greedily on
//!   `Q(s, a) + beta b(s'_a)`, the bonus of the neighbouring cell each move
//!   leads to (a tabular stand-in for the paper's neural agents, whose
//!   networks see the episode's observations: without it a position-only
//!   Q-table cannot follow a bonus that resets every episode). Random
//!   tie-breaks. Only the paper's abstract was available; no code of the
//!   authors was followed.

use duality_core::{Error, Result};
use rand::Rng;
use serde::Serialize;

/// Which count-based bonus the agent adds to the reward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bonus {
    /// No bonus (epsilon-greedy only).
    None,
    /// `1/sqrt(N(s))`, counts over all training.
    Global,
    /// `1/sqrt(N_e(s))`, counts reset every episode.
    Episodic,
    /// The product of the two (Henaff et al.'s combination).
    Product,
}

impl Bonus {
    /// All bonuses, in report order.
    pub const ALL: [Bonus; 4] = [Bonus::None, Bonus::Global, Bonus::Episodic, Bonus::Product];

    fn value(&self, global: u64, episodic: u64) -> f64 {
        let g = 1.0 / (global.max(1) as f64).sqrt();
        let e = 1.0 / (episodic.max(1) as f64).sqrt();
        match self {
            Bonus::None => 0.0,
            Bonus::Global => g,
            Bonus::Episodic => e,
            Bonus::Product => g * e,
        }
    }
}

impl std::fmt::Display for Bonus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Bonus::None => "none",
            Bonus::Global => "global",
            Bonus::Episodic => "episodic",
            Bonus::Product => "product",
        })
    }
}

impl std::str::FromStr for Bonus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Bonus::None),
            "global" => Ok(Bonus::Global),
            "episodic" => Ok(Bonus::Episodic),
            "product" => Ok(Bonus::Product),
            other => Err(Error::invalid(
                "bonus",
                other,
                "none | global | episodic | product",
            )),
        }
    }
}

/// Settings of one exploration run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ExploreParams {
    /// Grid side (2..=64).
    pub size: usize,
    /// Probability in `[0, 1)` that a cell is a wall.
    pub wall_density: f64,
    /// Shared structure in `[0, 1]`.
    pub shared: f64,
    /// Steps per episode.
    pub horizon: usize,
    /// Training episodes.
    pub episodes: usize,
    /// Bonus scale `beta >= 0`.
    pub beta: f64,
    /// Q-learning step size in `(0, 1]`, discount in `[0, 1)`, exploration
    /// rate in `[0, 1]`.
    pub alpha: f64,
    /// Discount.
    pub gamma: f64,
    /// Epsilon of epsilon-greedy.
    pub epsilon: f64,
}

impl Default for ExploreParams {
    fn default() -> Self {
        ExploreParams {
            size: 7,
            wall_density: 0.2,
            shared: 0.5,
            horizon: 40,
            episodes: 500,
            beta: 0.1,
            alpha: 0.5,
            gamma: 0.95,
            epsilon: 0.05,
        }
    }
}

impl ExploreParams {
    /// Checks every field; errors name it.
    pub fn validate(&self) -> Result<()> {
        if !(2..=64).contains(&self.size) {
            return Err(Error::invalid("size", self.size, "a grid side in 2..=64"));
        }
        for (name, v, ok) in [
            (
                "wall_density",
                self.wall_density,
                (0.0..1.0).contains(&self.wall_density),
            ),
            ("shared", self.shared, (0.0..=1.0).contains(&self.shared)),
            ("beta", self.beta, self.beta >= 0.0 && self.beta.is_finite()),
            ("alpha", self.alpha, self.alpha > 0.0 && self.alpha <= 1.0),
            ("gamma", self.gamma, (0.0..1.0).contains(&self.gamma)),
            ("epsilon", self.epsilon, (0.0..=1.0).contains(&self.epsilon)),
        ] {
            if !ok {
                return Err(Error::invalid(name, v, "a value in its documented range"));
            }
        }
        for (name, v) in [("horizon", self.horizon), ("episodes", self.episodes)] {
            if v == 0 || v > 10_000_000 {
                return Err(Error::invalid(name, v, "in 1..=10000000"));
            }
        }
        duality_core::limits::product(&[("episodes", self.episodes), ("horizon", self.horizon)])
            .ok()
            .filter(|&w| w <= 1_000_000_000)
            .ok_or_else(|| {
                Error::invalid(
                    "episodes x horizon",
                    format!("{} x {}", self.episodes, self.horizon),
                    "at most 1e9 environment steps",
                )
            })?;
        Ok(())
    }
}

/// The contextual gridworld: a base layout and the per-episode redraw.
#[derive(Debug, Clone)]
pub struct ContextualGrid {
    size: usize,
    density: f64,
    shared: f64,
    base_walls: Vec<bool>,
    base_goal: usize,
}

/// One episode's layout.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Wall flag per cell (row-major).
    pub walls: Vec<bool>,
    /// Goal cell.
    pub goal: usize,
}

impl ContextualGrid {
    /// Draws the base layout.
    pub fn new<R: Rng + ?Sized>(size: usize, density: f64, shared: f64, rng: &mut R) -> Self {
        let n = size * size;
        let base_goal = rng.random_range(1..n);
        let base_walls = (0..n)
            .map(|c| c != 0 && c != base_goal && rng.random::<f64>() < density)
            .collect();
        ContextualGrid {
            size,
            density,
            shared,
            base_walls,
            base_goal,
        }
    }

    /// The layout of a new episode: each wall cell and the goal keep the
    /// base with probability `shared`, else are drawn afresh; redrawn until
    /// the goal is reachable (after 100 tries, the walls are dropped).
    pub fn episode<R: Rng + ?Sized>(&self, rng: &mut R) -> Layout {
        for _ in 0..100 {
            let layout = self.draw(rng);
            if self.reachable(&layout) {
                return layout;
            }
        }
        let mut layout = self.draw(rng);
        layout.walls.iter_mut().for_each(|w| *w = false);
        layout
    }

    fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> Layout {
        let n = self.size * self.size;
        let goal = if rng.random::<f64>() < self.shared {
            self.base_goal
        } else {
            rng.random_range(1..n)
        };
        let walls = (0..n)
            .map(|c| {
                let w = if rng.random::<f64>() < self.shared {
                    self.base_walls[c]
                } else {
                    rng.random::<f64>() < self.density
                };
                w && c != 0 && c != goal
            })
            .collect();
        Layout { walls, goal }
    }

    /// Whether `layout`'s goal is reachable from the start cell.
    fn reachable(&self, layout: &Layout) -> bool {
        let mut seen = vec![false; layout.walls.len()];
        let mut stack = vec![0usize];
        seen[0] = true;
        while let Some(c) = stack.pop() {
            if c == layout.goal {
                return true;
            }
            for a in 0..4 {
                let n = self.step(layout, c, a);
                if !seen[n] {
                    seen[n] = true;
                    stack.push(n);
                }
            }
        }
        false
    }

    /// The cell after moving `a` (0 up, 1 right, 2 down, 3 left) from `c`.
    pub fn step(&self, layout: &Layout, c: usize, a: usize) -> usize {
        let (r, col) = (c / self.size, c % self.size);
        let next = match a {
            0 if r > 0 => c - self.size,
            1 if col + 1 < self.size => c + 1,
            2 if r + 1 < self.size => c + self.size,
            3 if col > 0 => c - 1,
            _ => c,
        };
        if layout.walls[next] {
            c
        } else {
            next
        }
    }
}

/// What [`run`] returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExploreRun {
    /// Extrinsic return per episode (0 when the goal was not reached).
    pub returns: Vec<f64>,
    /// Mean extrinsic return over all episodes.
    pub mean_return: f64,
    /// Fraction of episodes that reached the goal.
    pub success_rate: f64,
}

/// Trains one agent with `bonus` on a fresh contextual grid (all draws from
/// `rng`).
pub fn run<R: Rng + ?Sized>(
    params: &ExploreParams,
    bonus: Bonus,
    rng: &mut R,
) -> Result<ExploreRun> {
    params.validate()?;
    let grid = ContextualGrid::new(params.size, params.wall_density, params.shared, rng);
    let n = params.size * params.size;
    let mut q = vec![[0.0f64; 4]; n];
    let mut global = vec![0u64; n];
    let mut returns = Vec::with_capacity(params.episodes);
    let mut successes = 0usize;
    for _ in 0..params.episodes {
        let layout = grid.episode(rng);
        let mut episodic = vec![0u64; n];
        let mut s = 0usize;
        global[s] += 1;
        episodic[s] += 1;
        let mut ret = 0.0;
        for t in 0..params.horizon {
            let a = if rng.random::<f64>() < params.epsilon {
                rng.random_range(0..4)
            } else {
                // Q plus the bonus of the cell each move leads to (the
                // agent sees its neighbouring cells).
                let score: Vec<f64> = (0..4)
                    .map(|a| {
                        let c = grid.step(&layout, s, a);
                        q[s][a] + params.beta * bonus.value(global[c] + 1, episodic[c] + 1)
                    })
                    .collect();
                let best = score.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let ties: Vec<usize> = (0..4).filter(|&a| score[a] >= best - 1e-12).collect();
                ties[rng.random_range(0..ties.len())]
            };
            let next = grid.step(&layout, s, a);
            global[next] += 1;
            episodic[next] += 1;
            let done = next == layout.goal;
            let r = if done {
                1.0 - 0.9 * (t + 1) as f64 / params.horizon as f64
            } else {
                0.0
            };
            let total = r + params.beta * bonus.value(global[next], episodic[next]);
            let boot = if done {
                0.0
            } else {
                q[next].iter().copied().fold(f64::NEG_INFINITY, f64::max)
            };
            q[s][a] += params.alpha * (total + params.gamma * boot - q[s][a]);
            s = next;
            if done {
                ret = r;
                successes += 1;
                break;
            }
        }
        returns.push(ret);
    }
    let mean_return = returns.iter().sum::<f64>() / returns.len() as f64;
    Ok(ExploreRun {
        mean_return,
        success_rate: successes as f64 / params.episodes as f64,
        returns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use duality_core::seed::Seeder;

    #[test]
    fn layouts_share_structure_as_asked() {
        let mut rng = Seeder::new(1).rng(0);
        let full = ContextualGrid::new(7, 0.2, 1.0, &mut rng);
        for _ in 0..5 {
            let l = full.episode(&mut rng);
            assert_eq!(l.goal, full.base_goal);
            assert_eq!(l.walls, full.base_walls);
            assert!(!l.walls[0] && !l.walls[l.goal]);
        }
        let none = ContextualGrid::new(7, 0.2, 0.0, &mut rng);
        let goals: std::collections::BTreeSet<usize> =
            (0..50).map(|_| none.episode(&mut rng).goal).collect();
        assert!(goals.len() > 10);
        // Moves stay on the grid and stop at walls.
        let l = Layout {
            walls: vec![false; 49],
            goal: 48,
        };
        assert_eq!(full.step(&l, 0, 0), 0);
        assert_eq!(full.step(&l, 0, 1), 1);
        assert_eq!(full.step(&l, 0, 2), 7);
        let mut walled = l.clone();
        walled.walls[1] = true;
        assert_eq!(full.step(&walled, 0, 1), 0);
    }

    #[test]
    fn bonuses_and_settings() {
        assert_eq!(Bonus::Global.value(4, 1), 0.5);
        assert_eq!(Bonus::Episodic.value(4, 1), 1.0);
        assert_eq!(Bonus::Product.value(4, 4), 0.25);
        assert_eq!(Bonus::None.value(1, 1), 0.0);
        assert!("curiosity".parse::<Bonus>().is_err());
        for b in Bonus::ALL {
            assert_eq!(b.to_string().parse::<Bonus>().unwrap(), b);
        }
        let bad = ExploreParams {
            shared: 1.5,
            ..ExploreParams::default()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("shared"));
        let bad = ExploreParams {
            episodes: 1_000_000,
            horizon: 10_000,
            ..ExploreParams::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("episodes x horizon"));
    }

    #[test]
    fn same_seed_same_run_and_a_fixed_layout_is_learned() {
        let p = ExploreParams {
            shared: 1.0,
            episodes: 300,
            ..ExploreParams::default()
        };
        let a = run(&p, Bonus::Global, &mut Seeder::new(4).rng(0)).unwrap();
        let b = run(&p, Bonus::Global, &mut Seeder::new(4).rng(0)).unwrap();
        assert_eq!(a, b);
        // One fixed MDP: the last episodes reach the goal almost always.
        let tail = &a.returns[250..];
        assert!(tail.iter().filter(|&&r| r > 0.0).count() >= 40, "{tail:?}");
    }
}
