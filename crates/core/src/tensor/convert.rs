//! Slices <-> tensors with shape checks that return errors.

use tch::{Kind, Tensor};

use crate::error::{Error, Result};

fn check_shape(what: &str, len: usize, shape: &[usize]) -> Result<Vec<i64>> {
    let numel: usize = shape.iter().product();
    if numel != len {
        return Err(Error::Shape {
            what: format!("{what} ({len} values)"),
            expected: vec![len],
            got: shape.to_vec(),
        });
    }
    shape
        .iter()
        .map(|&d| i64::try_from(d).map_err(|_| Error::invalid("dimension", d, "a size below 2^63")))
        .collect()
}

/// A float64 tensor of the given shape from row-major `data`.
/// Fails if `shape` does not hold exactly `data.len()` values.
pub fn tensor_from_slice(data: &[f64], shape: &[usize]) -> Result<Tensor> {
    let dims = check_shape("tensor_from_slice", data.len(), shape)?;
    Ok(Tensor::from_slice(data).reshape(&dims))
}

/// A float32 tensor of the given shape from row-major `data`.
pub fn tensor_from_slice_f32(data: &[f32], shape: &[usize]) -> Result<Tensor> {
    let dims = check_shape("tensor_from_slice_f32", data.len(), shape)?;
    Ok(Tensor::from_slice(data).reshape(&dims))
}

fn flat(t: &Tensor, kind: Kind) -> Tensor {
    t.detach()
        .to_device(tch::Device::Cpu)
        .to_kind(kind)
        .contiguous()
        .view([-1])
}

/// All values of `t` (any shape, any float kind) as row-major f64.
pub fn tensor_to_vec_f64(t: &Tensor) -> Result<Vec<f64>> {
    Ok(Vec::<f64>::try_from(&flat(t, Kind::Double))?)
}

/// All values of `t` (any shape, any float kind) as row-major f32.
pub fn tensor_to_vec_f32(t: &Tensor) -> Result<Vec<f32>> {
    Ok(Vec::<f32>::try_from(&flat(t, Kind::Float))?)
}

/// The shape of `t` as `usize`s.
pub fn shape_of(t: &Tensor) -> Vec<usize> {
    t.size().iter().map(|&d| d as usize).collect()
}

/// Fails unless `t` has exactly `expected` shape.
pub fn expect_shape(what: &str, t: &Tensor, expected: &[usize]) -> Result<()> {
    let got = shape_of(t);
    if got != expected {
        return Err(Error::Shape {
            what: what.to_string(),
            expected: expected.to_vec(),
            got,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_values_and_shape() {
        let data: Vec<f64> = (0..6).map(|i| i as f64 * 0.5 - 1.0).collect();
        let t = tensor_from_slice(&data, &[2, 3]).unwrap();
        assert_eq!(shape_of(&t), vec![2, 3]);
        assert_eq!(tensor_to_vec_f64(&t).unwrap(), data);
        let t32 = tensor_from_slice_f32(&[1.5, -2.0], &[2, 1]).unwrap();
        assert_eq!(tensor_to_vec_f32(&t32).unwrap(), vec![1.5, -2.0]);
        assert!(expect_shape("t", &t, &[2, 3]).is_ok());
    }

    #[test]
    fn shape_mismatch_is_an_error_not_a_panic() {
        let err = tensor_from_slice(&[1.0, 2.0, 3.0], &[2, 2])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("shape mismatch") && err.contains("[2, 2]"),
            "{err}"
        );
        let t = tensor_from_slice(&[1.0, 2.0], &[2]).unwrap();
        assert!(expect_shape("logits", &t, &[1, 2]).is_err());
    }
}
