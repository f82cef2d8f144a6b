//! The tensor layer over tch 0.26 / libtorch 2.13.0 (feature `torch`).
//!
//! Deliberately thin, like `candle-core`: area crates build their models on
//! `tch` directly and use this module for the chores that must be done the
//! same way everywhere — picking a device, seeding, moving data between
//! slices and tensors with shape checks that return errors instead of
//! panicking inside libtorch, building small MLPs, configuring optimizers and
//! saving checkpoints.

pub mod checkpoint;
pub mod convert;
pub mod device;
pub mod mlp;
pub mod optim;

pub use checkpoint::{load_checkpoint, save_checkpoint};
pub use convert::{tensor_from_slice, tensor_from_slice_f32, tensor_to_vec_f32, tensor_to_vec_f64};
pub use device::{
    default_device, lock_generator, lock_seeded, manual_seed, GeneratorGuard, DEVICE_ENV,
};
pub use mlp::{Activation, Mlp, MlpConfig};
pub use optim::{OptimizerConfig, OptimizerKind};

/// Re-export of tch, so dependents use the exact same version.
pub use tch;
