//! `duality._native`: the Rust half of the `duality` Python package.
//!
//! Each function here converts NumPy arrays (already C-contiguous float64,
//! bool or int64: the Python half, `python/duality`, makes at most one
//! contiguous conversion of what the user passed) into the workspace
//! crates' types, calls their public API with the GIL released
//! (`Python::detach`), and hands NumPy arrays back. No algorithm lives here:
//! every estimate, interval and solver is the crates' own.
//!
//! Errors: a workspace error becomes `ValueError` with its message, which
//! names the bad value; an array of the wrong kind becomes `TypeError`.

mod adastop;
mod bandits;
mod combopt;
mod convert;
mod distdp;
mod eval;
mod mdp;
mod simulate;

use pyo3::prelude::*;

/// The extension module `duality._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    eval::register(m)?;
    adastop::register(m)?;
    combopt::register(m)?;
    bandits::register(m)?;
    simulate::register(m)?;
    distdp::register(m)?;
    mdp::register(m)?;
    Ok(())
}
