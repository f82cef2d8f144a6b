//! A small multilayer perceptron builder.

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::Tensor;

use crate::config::Validate;
use crate::error::{Error, Result};

/// Hidden-layer nonlinearity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// max(x, 0).
    #[default]
    Relu,
    /// tanh(x).
    Tanh,
    /// x * sigmoid(1.702 x) approximation-free GELU as in libtorch.
    Gelu,
}

/// Shape of an MLP: `input -> hidden[0] -> ... -> output`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlpConfig {
    /// Input width.
    pub input: usize,
    /// Widths of the hidden layers (may be empty: a linear model).
    pub hidden: Vec<usize>,
    /// Output width.
    pub output: usize,
    /// Nonlinearity between layers (none after the last).
    #[serde(default)]
    pub activation: Activation,
}

impl MlpConfig {
    /// A config with the given widths and ReLU activations.
    pub fn new(input: usize, hidden: &[usize], output: usize) -> Self {
        MlpConfig {
            input,
            hidden: hidden.to_vec(),
            output,
            activation: Activation::Relu,
        }
    }

    /// Sets the activation, builder-style.
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Builds the network's variables under `path`.
    pub fn build(&self, path: &nn::Path<'_>) -> Result<Mlp> {
        self.validate()?;
        let mut widths = vec![self.input];
        widths.extend(&self.hidden);
        widths.push(self.output);
        let layers = widths
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                nn::linear(
                    path / format!("layer{i}"),
                    w[0] as i64,
                    w[1] as i64,
                    Default::default(),
                )
            })
            .collect();
        Ok(Mlp {
            layers,
            activation: self.activation,
            input: self.input,
        })
    }
}

impl Validate for MlpConfig {
    fn validate(&self) -> Result<()> {
        if self.input == 0 {
            return Err(Error::config("input", "width must be > 0"));
        }
        if self.output == 0 {
            return Err(Error::config("output", "width must be > 0"));
        }
        if let Some(i) = self.hidden.iter().position(|&h| h == 0) {
            return Err(Error::config(format!("hidden[{i}]"), "width must be > 0"));
        }
        Ok(())
    }
}

/// A built MLP; implements [`Module`].
#[derive(Debug)]
pub struct Mlp {
    layers: Vec<nn::Linear>,
    activation: Activation,
    input: usize,
}

impl Mlp {
    /// Forward pass with an input-width check (`[.., input]`).
    pub fn try_forward(&self, xs: &Tensor) -> Result<Tensor> {
        let size = xs.size();
        if size.last().copied() != Some(self.input as i64) {
            return Err(Error::Shape {
                what: "MLP input (last dimension)".into(),
                expected: vec![self.input],
                got: size.iter().map(|&d| d as usize).collect(),
            });
        }
        Ok(self.forward(xs))
    }
}

impl Module for Mlp {
    fn forward(&self, xs: &Tensor) -> Tensor {
        let last = self.layers.len() - 1;
        let mut h = xs.shallow_clone();
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.forward(&h);
            if i < last {
                h = match self.activation {
                    Activation::Relu => h.relu(),
                    Activation::Tanh => h.tanh(),
                    Activation::Gelu => h.gelu("none"),
                };
            }
        }
        h
    }
}
