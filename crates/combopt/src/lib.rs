//! # duality-combopt — combinatorial optimisation
//!
//! - [`tsp`]: TSP instances (TSPLIB reader/writer), construction heuristics,
//!   2-opt / Or-opt / 2h-opt with neighbour lists and don't-look bits,
//!   iterated local search, Held-Karp, and the UDC-style
//!   divide-conquer-reunion solver for large instances. Methods are named
//!   pipelines (a [`tsp::TourBuilder`] then [`tsp::TourImprover`]s) in one
//!   registry ([`tsp::methods`]).
//! - [`assignment`]: rectangular linear assignment (shortest augmenting path).
//! - [`matching`]: online matching with stochastic rewards and its LP bound
//!   ([`simplex`]).
//! - [`auction`]: position auctions (VCG, MNL, cascade).
//! - [`dag`]: linear SEM generators, NOTEARS, TOPO, SHD/TPR/FDR.
//! - [`milp`]: MILP branch-and-bound (bounded dual simplex, branching
//!   rules, MPS, instance generators).
//! - [`pareto`]: non-dominated sorting, exact hypervolume, R2.
//! - [`private_gsd`]: Private-GSD, private synthetic data by a genetic
//!   algorithm on Gaussian-mechanism k-way marginals (zCDP accounting).
//! - [`direct_search`]: covering direct search (cDSM) and, with the `torch`
//!   feature, its hybrid with directional attacks through a neural surrogate.
//! - [`gflownet`]: multi-objective GFlowNets (preference-conditional,
//!   trajectory balance; the model behind `torch`), NSGA-II and random
//!   search on the HyperGrid and N-grams tasks.
//! - [`retro`]: Retro*'s AND-OR search on synthetic reaction graphs,
//!   breadth-first search, and (feature `torch`) PDVN's dual value networks.
//! - [`vrp`]: CVRP (CVRPLIB reader/writer, X-style generator, savings,
//!   sweep, local search, divide-conquer-reunion over route groups).
//!
//! The non-neural parts build without libtorch; with the `torch` feature,
//! UDC's neural divide policy (`tsp::UdcPolicy`, `tsp::train_udc`) is the
//! builder of the `udc` method.
//!
//! ```
//! use duality_combopt::prelude::*;
//! use duality_core::seed::Seeder;
//!
//! let inst = Instance::random_uniform(300, &mut Seeder::new(42).rng(0))?;
//! let sol = solve(&inst, &SolveParams::new("dcr").with_seed(7))?;
//! assert_eq!(sol.tour.len(), 300);
//!
//! let costs = CostMatrix::from_rows(&[vec![4.0, 1.0, 3.0], vec![2.0, 0.0, 5.0], vec![3.0, 2.0, 2.0]])?;
//! assert_eq!(linear_sum_assignment(&costs, false)?.cost, 5.0);
//! # Ok::<(), duality_combopt::Error>(())
//! ```

pub mod assignment;
pub mod auction;
pub mod dag;
pub mod direct_search;
#[cfg(feature = "experiments")]
pub mod experiments;
pub mod gflownet;
pub mod matching;
pub mod milp;
pub mod pareto;
pub mod private_gsd;
pub mod retro;
pub mod simplex;
pub mod tsp;
pub mod vrp;

pub use duality_core::{Error, Result};

/// The most used items: TSP solving through the method registry,
/// assignment, DAG learning and Pareto tools.
pub mod prelude {
    pub use crate::assignment::{linear_sum_assignment, Assignment, CostMatrix};
    pub use crate::dag::{notears, topo, Data, NotearsParams, TopoParams};
    pub use crate::pareto::{hypervolume, non_dominated_sort, r2_indicator};
    pub use crate::tsp::{
        methods, solve, Instance, Pipeline, Registry, Solution, SolveParams, Tour, TourBuilder,
        TourImprover,
    };
    pub use crate::{Error, Result};
}
