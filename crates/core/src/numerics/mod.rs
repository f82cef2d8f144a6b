//! The workspace's one numerics layer: each numerical kernel that more than
//! one area needs lives here once (see docs/ARCHITECTURE.md, "Numerics").
//!
//! - [`CsrMatrix`]: compressed sparse row matrices for iterative solvers.

mod csr;

pub use csr::CsrMatrix;
