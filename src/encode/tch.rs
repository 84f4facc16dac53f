//! The `tch` backend: rust-bert's `BertModel` on libtorch, through `tch`.
//!
//! It reads the same `config.json` and `model.safetensors` as the candle backend, and
//! pools the last layer the same way: mean over the real tokens, L2-normalised. libtorch is
//! linked at build time: `LIBTORCH` must point at a libtorch 2.4 (the `torch` Python wheel's
//! directory will do; README, "Encoder backends").

use super::{Encoder, TokenBatch};
use crate::error::Result;
use ndarray::Array2;
use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use std::path::Path;
use std::sync::Mutex;
use tch::{nn, Device, Kind, Tensor};

pub struct TchEncoder {
    /// tch tensors may move between threads but not be shared. The pipeline hands batches over
    /// from all pool threads; the lock runs them one at a time, each on all of libtorch's threads.
    model: Mutex<BertModel<BertEmbeddings>>,
    /// Owns the weights the model's layers point into.
    _weights: nn::VarStore,
    hidden: usize,
}

impl TchEncoder {
    /// Builds rust-bert's BERT from `config.json` and loads `weights` into it, running on as
    /// many threads as the rayon pool has.
    pub fn load(config: &Path, weights: &Path) -> Result<Self> {
        let config: BertConfig = crate::json::read_json(config)?;
        tch::set_num_threads(rayon::current_num_threads() as i32);
        let mut store = nn::VarStore::new(Device::Cpu);
        let model = BertModel::new_with_optional_pooler(store.root(), &config, false);
        store.load(weights)?;
        // `load` gives the variables the file's precision, f16, which libtorch computes about 25 times
        // slower than f32 on a CPU; widen them back.
        store.float();
        Ok(TchEncoder {
            model: Mutex::new(model),
            _weights: store,
            hidden: config.hidden_size as usize,
        })
    }
}

impl Encoder for TchEncoder {
    fn encode(&self, batch: &TokenBatch) -> Result<Array2<f32>> {
        if batch.rows == 0 {
            return Ok(Array2::zeros((0, self.hidden)));
        }
        let shape = [batch.rows as i64, batch.width as i64];
        let widen = |v: &[u32]| {
            let wide: Vec<i64> = v.iter().map(|&x| i64::from(x)).collect();
            Tensor::from_slice(&wide).view(shape)
        };
        let (ids, mask) = (widen(&batch.ids), widen(&batch.mask));
        let _no_grad = tch::no_grad_guard();
        let states = {
            // A poisoned lock only means another thread panicked mid-run; the model is stateless.
            let model = self
                .model
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            model
                .forward_t(Some(&ids), Some(&mask), None, None, None, None, None, false)?
                .hidden_state
        };
        let weights = mask.unsqueeze(-1).to_kind(Kind::Float);
        let summed = (states * &weights).sum_dim_intlist(1, false, Kind::Float);
        let pooled = summed
            / weights
                .sum_dim_intlist(1, false, Kind::Float)
                .clamp_min(1e-9);
        let norm = pooled.norm_scalaropt_dim(2, [-1], true).clamp_min(1e-12);
        let embeddings = Vec::<f32>::try_from((pooled / norm).flatten(0, -1))?;
        Ok(
            Array2::from_shape_vec((batch.rows, self.hidden), embeddings)
                .expect("the model returns [rows, hidden]"),
        )
    }

    fn hidden_size(&self) -> usize {
        self.hidden
    }
}
