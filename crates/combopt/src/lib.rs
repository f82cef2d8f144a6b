//! # duality-combopt — combinatorial optimisation
//!
//! Will hold (see `docs/papers.md`): TSP instances (TSPLIB reader),
//! construction heuristics and 2-opt / Or-opt local search, the UDC-style
//! divide-conquer-reunion solver for large instances, a rectangular linear
//! assignment solver, online bipartite matching with stochastic rewards
//! (Ranking, Balance, Stochastic Balance), position auctions with VCG
//! payments, DAG structure learning (NOTEARS and topological swaps), and
//! Pareto tools (non-dominated sorting, hypervolume).
//!
//! The non-neural parts build without libtorch; learned components sit
//! behind the `torch` feature.
