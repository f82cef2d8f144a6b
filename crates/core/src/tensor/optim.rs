//! Optimizer setup from a serialisable config.

use serde::{Deserialize, Serialize};
use tch::nn::{self, OptimizerConfig as _};

use crate::config::Validate;
use crate::error::{Error, Result};

/// Which optimizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam (Kingma & Ba 2015).
    #[default]
    Adam,
    /// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019).
    AdamW,
    /// Plain SGD with optional momentum.
    Sgd,
}

/// Optimizer hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OptimizerConfig {
    /// Algorithm.
    pub kind: OptimizerKind,
    /// Learning rate (> 0).
    pub lr: f64,
    /// Weight decay (>= 0).
    pub weight_decay: f64,
    /// Momentum for SGD (in [0, 1)).
    pub momentum: f64,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig {
            kind: OptimizerKind::Adam,
            lr: 1e-3,
            weight_decay: 0.0,
            momentum: 0.0,
        }
    }
}

impl OptimizerConfig {
    /// Adam with learning rate `lr`.
    pub fn adam(lr: f64) -> Self {
        OptimizerConfig {
            lr,
            ..Self::default()
        }
    }

    /// Builds the optimizer over all trainable variables of `vs`.
    pub fn build(&self, vs: &nn::VarStore) -> Result<nn::Optimizer> {
        self.validate()?;
        let opt = match self.kind {
            OptimizerKind::Adam => nn::Adam {
                wd: self.weight_decay,
                ..Default::default()
            }
            .build(vs, self.lr)?,
            OptimizerKind::AdamW => nn::AdamW {
                wd: self.weight_decay,
                ..Default::default()
            }
            .build(vs, self.lr)?,
            OptimizerKind::Sgd => nn::Sgd {
                momentum: self.momentum,
                wd: self.weight_decay,
                ..Default::default()
            }
            .build(vs, self.lr)?,
        };
        Ok(opt)
    }
}

impl Validate for OptimizerConfig {
    fn validate(&self) -> Result<()> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::config("lr", format!("must be > 0, got {}", self.lr)));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::config(
                "weight_decay",
                format!("must be >= 0, got {}", self.weight_decay),
            ));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(Error::config(
                "momentum",
                format!("must be in [0, 1), got {}", self.momentum),
            ));
        }
        Ok(())
    }
}
