//! # duality-combopt — combinatorial optimisation
//!
//! - [`tsp`]: TSP instances (TSPLIB reader/writer), construction heuristics,
//!   2-opt / Or-opt with neighbour lists and don't-look bits, Held-Karp, and
//!   the UDC-style divide-conquer-reunion solver for large instances.
//! - [`assignment`]: rectangular linear assignment (shortest augmenting path).
//! - [`matching`]: online matching with stochastic rewards and its LP bound
//!   ([`simplex`]).
//! - [`auction`]: position auctions (VCG, MNL, cascade).
//! - [`dag`]: linear SEM generators, NOTEARS, TOPO, SHD/TPR/FDR.
//! - [`pareto`]: non-dominated sorting, exact hypervolume, R2.
//!
//! The non-neural parts build without libtorch; learned components will sit
//! behind the `torch` feature (see [`tsp::SubpathSolver`] for the seam).

#[cfg(feature = "experiments")]
pub mod experiments;
pub mod assignment;
pub mod auction;
pub mod dag;
pub mod matching;
pub mod pareto;
pub mod simplex;
pub mod tsp;

pub use duality_core::{Error, Result};

/// The most used items.
pub mod prelude {
    pub use crate::assignment::{linear_sum_assignment, Assignment, CostMatrix};
    pub use crate::pareto::{hypervolume, non_dominated_sort, r2_indicator};
    pub use crate::tsp::{solve, Instance, Method, Solution, SolveParams, Tour};
    pub use crate::{Error, Result};
}
