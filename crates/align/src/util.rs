//! Small tensor chores shared by the modules of this crate.

use duality_core::tensor::tch::{Kind, Tensor};
use duality_core::Result;

/// The shape of `t` as `usize`s.
pub(crate) fn shape_of(t: &Tensor) -> Vec<usize> {
    t.size().iter().map(|&d| d.max(0) as usize).collect()
}

/// Whether every entry of a float tensor is finite.
pub(crate) fn all_finite(t: &Tensor) -> bool {
    if t.numel() == 0 {
        return true;
    }
    t.isfinite().all().int64_value(&[]) != 0
}

/// All values of `t` as f64 (detached, CPU).
pub(crate) fn tensor_to_f64(t: &Tensor) -> Result<Vec<f64>> {
    duality_core::tensor::tensor_to_vec_f64(t)
}

/// A scalar tensor's value as f64.
pub(crate) fn scalar(t: &Tensor) -> f64 {
    t.detach().to_kind(Kind::Double).double_value(&[])
}
