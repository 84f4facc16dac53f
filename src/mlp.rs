//! The small feed-forward network behind the classification head ([`crate::classify`]) and the
//! link scorer ([`crate::graph`]).

use crate::error::Result;
use candle_core::{Device, Module, Tensor, D};
use candle_nn::{Linear, VarBuilder};
use ndarray::Array2;

/// `Linear(input → hidden) → GELU → Linear(hidden → output)`.
pub struct Mlp {
    fc1: Linear,
    fc2: Linear,
}

impl Mlp {
    /// Weights are `fc1.{weight,bias}` and `fc2.{weight,bias}` under `vb`.
    pub fn new(vb: VarBuilder, input: usize, hidden: usize, output: usize) -> Result<Self> {
        Ok(Mlp {
            fc1: candle_nn::linear(input, hidden, vb.pp("fc1"))?,
            fc2: candle_nn::linear(hidden, output, vb.pp("fc2"))?,
        })
    }

    /// Raw logits `[rows, output]`; differentiable.
    pub fn logits(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.logits_after_first_layer(&self.fc1.forward(x)?)
    }

    /// The logits from the first layer's output (before GELU).
    fn logits_after_first_layer(&self, hidden: &Tensor) -> candle_core::Result<Tensor> {
        self.fc2.forward(&hidden.gelu_erf()?)
    }

    /// The first layer's weight, `[hidden, input]`, and bias, for callers that compute its
    /// product in parts ([`crate::graph::LinkScorer::score`]).
    pub fn first_layer(&self) -> (&Tensor, Option<&Tensor>) {
        (self.fc1.weight(), self.fc1.bias())
    }

    /// The softmax of each row's logits divided by `temperature`, one `Vec` per row of `x`.
    pub fn probabilities(&self, x: &Array2<f32>, temperature: f32) -> Result<Vec<Vec<f32>>> {
        if x.nrows() == 0 {
            return Ok(Vec::new());
        }
        let slice = x.as_slice().expect("standard layout");
        let x = Tensor::from_slice(slice, x.dim(), &Device::Cpu)?;
        self.probabilities_after_first_layer(&self.fc1.forward(&x)?, temperature)
    }

    /// [`Mlp::probabilities`] from the first layer's output (before GELU), `[rows, hidden]`.
    pub fn probabilities_after_first_layer(
        &self,
        hidden: &Tensor,
        temperature: f32,
    ) -> Result<Vec<Vec<f32>>> {
        let logits = (self.logits_after_first_layer(hidden)? / f64::from(temperature))?;
        Ok(candle_nn::ops::softmax(&logits, D::Minus1)?.to_vec2::<f32>()?)
    }
}
