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
        // Parameters are f32: a rate or decay beyond f32::MAX turns every
        // update into inf (tch then panics inside the optimizer).
        let most = f64::from(f32::MAX);
        if !(self.lr.is_finite() && self.lr > 0.0 && self.lr <= most) {
            return Err(Error::config(
                "lr",
                format!(
                    "must be in (0, {most:?}] (f32 parameters), got {:?}",
                    self.lr
                ),
            ));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0 && self.weight_decay <= most)
        {
            return Err(Error::config(
                "weight_decay",
                format!(
                    "must be in [0, {most:?}] (f32 parameters), got {:?}",
                    self.weight_decay
                ),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_beyond_f32_are_refused_with_the_value_as_a_short_number() {
        let err = OptimizerConfig::adam(1e300)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains("lr") && err.contains("1e300"), "{err}");
        assert!(OptimizerConfig::adam(f64::NAN).validate().is_err());
        assert!(OptimizerConfig::adam(0.0).validate().is_err());
        assert!(OptimizerConfig::adam(1e-3).validate().is_ok());
        let decay = OptimizerConfig {
            weight_decay: 1e39,
            ..OptimizerConfig::default()
        };
        assert!(decay
            .validate()
            .unwrap_err()
            .to_string()
            .contains("weight_decay"));
    }
}
