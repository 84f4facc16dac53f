//! The pure-Rust backends, `candle` and `candle-int8`: BERT with candle tensors and argmine's
//! own matrix products.
//!
//! The encoder is the BERT of [`super::bert`], read from `model.safetensors` (stored in f16,
//! computed in f32, or with the linear layers quantised to int8 at load). A sentence embedding is the mean of the last layer's token states over the real tokens,
//! as in Sentence-BERT (Reimers & Gurevych 2019), L2-normalised.

use super::bert::{Bert, Config, Dropout, Mode, Precision};
use super::gemm::Level;
use super::{Encoder, TokenBatch};
use crate::error::Result;
use candle_core::{DType, Device, Tensor, D};
use candle_nn::VarBuilder;
use ndarray::Array2;
use std::path::Path;

/// Sets up the threads for mining: a global rayon pool of `threads` (default: all cores) that
/// encodes one batch per thread, with candle's per-op threading switched off. candle otherwise
/// splits every op across all cores (matrix products read `RAYON_NUM_THREADS`, element-wise
/// ops `CANDLE_NUM_THREADS`), and each of a batch's `rows × heads` small attention products is
/// a separate parallel call, so synchronisation eats much of the gain; whole batches in
/// parallel are faster (docs/benchmarks.md). The other backends ignore these variables and
/// thread inside each run. Training and `eval` keep candle's per-op threading: they encode
/// one batch at a time.
///
/// It changes the process environment, so call it before anything has started a thread, and
/// before anything has used the global rayon pool.
pub fn use_batch_parallelism(
    threads: Option<usize>,
) -> std::result::Result<(), rayon::ThreadPoolBuildError> {
    let n = threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    std::env::set_var("RAYON_NUM_THREADS", "1");
    std::env::set_var("CANDLE_NUM_THREADS", "1");
    rayon::ThreadPoolBuilder::new()
        .num_threads(n.max(1))
        .build_global()
}

pub struct CandleEncoder {
    model: Bert,
    hidden: usize,
    device: Device,
}

impl CandleEncoder {
    /// Loads the encoder for inference from `model.safetensors`, its products at the CPU
    /// level [`Level::from_env`] gives.
    pub fn load(config: &Config, weights: &Path, precision: Precision) -> Result<Self> {
        let device = Device::Cpu;
        // SAFETY: the weights file is memory-mapped read-only and not modified while mapped.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, &device)? };
        let level = Level::from_env()?;
        Self::new(vb, config, Mode::Inference { precision, level })
    }

    /// Builds the encoder from any variable source (a file, or trainable variables).
    pub fn new(vb: VarBuilder, config: &Config, mode: Mode) -> Result<Self> {
        let device = vb.device().clone();
        let model = Bert::load(vb, config, mode)?;
        Ok(CandleEncoder {
            model,
            hidden: config.hidden_size,
            device,
        })
    }

    /// Mean-pooled sentence states `[rows, hidden]`, not normalised. Differentiable, so
    /// training uses it too.
    pub fn pooled(&self, batch: &TokenBatch) -> Result<Tensor> {
        let (ids, mask) = self.ids_and_mask(batch)?;
        Ok(mean_pool(&self.model.forward(&ids, &mask)?, &mask)?)
    }

    /// The batch's token ids and mask as `[rows, width]` tensors.
    fn ids_and_mask(&self, batch: &TokenBatch) -> Result<(Tensor, Tensor)> {
        let shape = (batch.rows, batch.width);
        Ok((
            Tensor::from_slice(&batch.ids, shape, &self.device)?,
            Tensor::from_slice(&batch.mask, shape, &self.device)?,
        ))
    }

    /// The number of transformer layers.
    pub fn depth(&self) -> usize {
        self.model.depth()
    }

    /// The token states `[rows, width, hidden]` that enter layer `layer` (0: the embeddings),
    /// with the batch's mask `[rows, width]`.
    pub fn states_below(&self, batch: &TokenBatch, layer: usize) -> Result<(Tensor, Tensor)> {
        let (ids, mask) = self.ids_and_mask(batch)?;
        let states = self
            .model
            .layers(self.model.embed(&ids)?, &mask, 0..layer)?;
        Ok((states, mask))
    }

    /// Mean-pooled sentence states `[rows, hidden]` of `states` that enter layer `layer`, as
    /// [`CandleEncoder::states_below`] gives them, with `dropout` inside the layers
    /// ([`Bert::layers_with_dropout`]). Differentiable.
    pub fn pooled_from(
        &self,
        states: Tensor,
        mask: &Tensor,
        layer: usize,
        dropout: &mut Dropout,
    ) -> Result<Tensor> {
        let states = self
            .model
            .layers_with_dropout(states, mask, layer..self.depth(), dropout)?;
        Ok(mean_pool(&states, mask)?)
    }
}

/// Mean of `states [rows, width, hidden]` over the positions where `mask [rows, width]` is 1.
pub fn mean_pool(states: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
    let mask = mask.to_dtype(states.dtype())?.unsqueeze(2)?;
    let summed = states.broadcast_mul(&mask)?.sum(1)?;
    let counts = mask.sum(1)?.clamp(1e-9, f64::INFINITY)?;
    summed.broadcast_div(&counts)
}

/// A `[rows, columns]` tensor as a matrix.
pub fn to_array(t: &Tensor) -> Result<Array2<f32>> {
    let shape = t.dims2()?;
    let flat = t.flatten_all()?.to_vec1::<f32>()?;
    Ok(Array2::from_shape_vec(shape, flat).expect("a [rows, columns] tensor"))
}

/// Scales each row to unit length.
pub fn l2_normalize(x: &Tensor) -> candle_core::Result<Tensor> {
    let norm = x
        .sqr()?
        .sum_keepdim(D::Minus1)?
        .sqrt()?
        .clamp(1e-12, f64::INFINITY)?;
    x.broadcast_div(&norm)
}

impl Encoder for CandleEncoder {
    fn encode(&self, batch: &TokenBatch) -> Result<Array2<f32>> {
        if batch.rows == 0 {
            return Ok(Array2::zeros((0, self.hidden)));
        }
        to_array(&l2_normalize(&self.pooled(batch)?)?)
    }

    fn hidden_size(&self) -> usize {
        self.hidden
    }
}
