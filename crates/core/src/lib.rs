//! # duality-core
//!
//! The thin shared foundation of the duality workspace (in the spirit of
//! `candle-core`): everything every area crate needs, and nothing
//! area-specific.
//!
//! - [`error`]: the workspace [`Error`] type and [`Result`] alias, with
//!   messages that name the bad value and what was expected;
//! - [`check`]: small validation helpers (finite, non-empty, probability,
//!   matching lengths) that produce those errors;
//! - [`seed`]: splitting one master seed into independent per-task RNG
//!   streams, so results do not depend on the rayon thread count;
//! - [`config`]: TOML + serde config loading with validation errors that name
//!   the field;
//! - [`files`]: atomic output files (a temporary file renamed into place);
//! - [`limits`]: checked size products and a memory budget, so requests too
//!   large are refused before allocating;
//! - [`record`]: the [`RunRecord`](record::RunRecord) (algorithm, task, seed,
//!   metrics) with JSON and CSV writers and readers;
//! - [`linalg`]: the dense solvers of [`numerics`] under their old path;
//! - [`numerics`]: the one shared numerics layer: dense solves (Cholesky,
//!   LU), CSR matrices, the simplex method and L-BFGS(-B);
//! - [`progress`]: an indicatif progress bar that stays quiet off a terminal;
//! - `tensor` (feature `torch`): device choice, seeding, slice <-> tensor
//!   conversion with shape checks, a small MLP builder, optimizer setup and
//!   checkpoints over tch 0.26 / libtorch 2.13.0.
//!
//! ```
//! use duality_core::seed::Seeder;
//! use rand::Rng;
//!
//! let seeder = Seeder::new(42);
//! // Stream 3 is the same whichever thread asks for it, and whenever.
//! let a: f64 = seeder.rng(3).random();
//! let b: f64 = seeder.rng(3).random();
//! assert_eq!(a, b);
//! ```

pub mod check;
pub mod config;
pub mod error;
pub mod files;
pub mod limits;
pub mod numerics;
pub mod progress;
pub mod record;
pub mod seed;
#[cfg(feature = "torch")]
pub mod tensor;

pub use error::{Error, Result};
/// The dense solvers under their historical path; they live in
/// [`numerics::dense`].
pub use numerics::dense as linalg;

/// The most used items, for `use duality_core::prelude::*`.
pub mod prelude {
    pub use crate::config::{load_toml, Validate};
    pub use crate::error::{Error, Result};
    pub use crate::progress::Progress;
    pub use crate::record::RunRecord;
    pub use crate::seed::{DualityRng, Seeder};
}
