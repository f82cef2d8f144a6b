//! Mixed-integer linear programming by LP-based branch-and-bound with
//! pluggable branching (the ReviBranch paper's setting: Wang et al. 2025,
//! *ReviBranch: Deep Reinforcement Learning for Branch-and-Bound with
//! Revived Trajectories*).
//!
//! - [`problem`]: the model ([`Milp`]);
//! - [`lp`]: the bounded dual simplex with warm starts ([`DualSimplex`]);
//! - [`engine`]: the LP engines of the node relaxations ([`LpEngine`]:
//!   that dense simplex, the default, or the `microlp` crate) and the node
//!   LP view of branching rules ([`NodeLp`]);
//! - [`bnb`]: branch-and-bound ([`branch_and_bound`]): best-bound or
//!   depth-first, propagation, reduced-cost fixing, limits, [`Termination`];
//! - [`branching`]: the [`BranchingRule`] trait and its registry
//!   ([`BranchingRegistry`]): most fractional, pseudo-cost, full strong,
//!   reliability;
//! - [`features`]: bipartite-graph node features and strong-branching
//!   sample collection; [`gnn`] (feature `torch`): the learned GCNN policy
//!   trained by imitation of strong branching, then fine-tuned by
//!   REINFORCE on [`revived`] trajectories (ReviBranch's RL stage, as far
//!   as its abstract states);
//! - [`mps`]: MPS reading and writing; [`lpfile`]: CPLEX LP reading (a
//!   subset);
//! - [`generators`]: set cover, combinatorial auctions, capacitated facility
//!   location, maximum independent set (Gasse et al. 2019).
//!
//! ```
//! use duality_combopt::milp::{branch_and_bound, generators, BnbParams, BranchingRegistry, RuleOptions, Termination};
//! use duality_core::seed::Seeder;
//!
//! let p = generators::generate("setcover", 30, &mut Seeder::new(1).rng(0))?;
//! let mut rule = BranchingRegistry::builtin().make("reliability", &RuleOptions::default())?;
//! let r = branch_and_bound(&p, rule.as_mut(), &BnbParams::default())?;
//! assert_eq!(r.status, Termination::Optimal);
//! assert!(p.max_violation(r.x.as_ref().unwrap()) < 1e-6);
//! # Ok::<(), duality_combopt::Error>(())
//! ```

pub mod bnb;
pub mod branching;
pub mod engine;
pub mod features;
pub mod generators;
#[cfg(feature = "torch")]
pub mod gnn;
pub mod lp;
pub mod lpfile;
pub mod mps;
pub mod problem;
pub mod revived;

pub use bnb::{
    branch_and_bound, branch_and_bound_observed, branch_and_bound_traced, propagate, BnbParams,
    BnbResult, NodeEvent, NodeSelection, Termination,
};
pub use branching::{
    BranchState, BranchingRegistry, BranchingRule, Candidate, Pseudocosts, RuleOptions,
    StrongResult,
};
pub use engine::{LpEngine, LpScratch, MicrolpLp, NodeLp, Trial};
pub use lp::{Basis, DualSimplex, LpStatus};
pub use lpfile::{parse_lp, read_lp};
pub use mps::{parse_mps, read_mps, write_mps, write_mps_string};
pub use problem::{Milp, Row};

#[cfg(test)]
mod tests;
