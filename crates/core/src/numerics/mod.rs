//! The workspace's one numerics layer: each numerical kernel that more than
//! one area needs lives here once (see docs/ARCHITECTURE.md, "Numerics").
//!
//! - [`dense`]: Cholesky and LU solves of small dense systems;
//! - [`CsrMatrix`]: compressed sparse row matrices for iterative solvers;
//! - [`simplex`]: the dense tableau simplex (two-phase standard form and
//!   packing form; Bland's or Dantzig's rule);
//! - [`minimize_lbfgsb`] / [`minimize_bounded`]: L-BFGS-B and a projected
//!   L-BFGS for bound-constrained smooth problems, with a [`Termination`]
//!   status in every result.

mod csr;
pub mod dense;
mod lbfgs;
pub mod simplex;

pub use csr::CsrMatrix;
pub use lbfgs::{minimize_bounded, minimize_lbfgsb, LbfgsOptions, LbfgsResult, Termination};
