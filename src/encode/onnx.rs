//! The `onnx` backend: ONNX Runtime through the `ort` crate.
//!
//! The graph is the encoder of the model directory written by `scripts/export-onnx.py`
//! (`model.onnx`, or `model.int8.onnx` with int8 weights): token ids and mask in, L2-normalised
//! mean-pooled sentence embeddings out, the same function as the candle backend computes.
//! ONNX Runtime is not linked in: `libonnxruntime.so` is opened at run time from the path in
//! `ORT_DYLIB_PATH` (the library in the `onnxruntime` Python wheel will do), so building argmine
//! needs no native toolchain beyond cargo.

use super::{Encoder, TokenBatch};
use crate::error::{Error, Result};
use ndarray::Array2;
use ort::environment::Environment;
use ort::session::Session;
use ort::value::TensorRef;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct OnnxEncoder {
    /// `Session::run` takes `&mut self`. The pipeline hands batches over from all pool threads;
    /// the lock runs them one at a time, each on all of ONNX Runtime's intra-op threads.
    session: Mutex<Session>,
    hidden: usize,
}

impl OnnxEncoder {
    /// Opens ONNX Runtime (once per process) and the graph in `path`, running it on as many
    /// threads as the rayon pool has.
    pub fn load(path: &Path, hidden: usize) -> Result<Self> {
        let session = Session::builder(&environment()?)?
            .with_intra_threads(rayon::current_num_threads())
            .map_err(ort::Error::from)?
            .commit_from_file(path)?;
        Ok(OnnxEncoder {
            session: Mutex::new(session),
            hidden,
        })
    }
}

/// The process's ONNX Runtime environment (ONNX Runtime allows one), created on first use.
fn environment() -> Result<Environment> {
    static ENVIRONMENT: Mutex<Option<Environment>> = Mutex::new(None);
    let mut slot = ENVIRONMENT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(environment) = &*slot {
        return Ok(environment.clone());
    }
    let library = runtime_library();
    let environment = ort::init_from(&library)
        .map_err(|source| Error::OnnxRuntimeLibrary {
            path: library,
            source,
        })?
        .with_name("argmine")
        .build()?;
    *slot = Some(environment.clone());
    Ok(environment)
}

/// `ORT_DYLIB_PATH`, else `libonnxruntime.so` on the library search path.
fn runtime_library() -> PathBuf {
    match std::env::var_os("ORT_DYLIB_PATH") {
        Some(path) if !path.is_empty() => path.into(),
        _ => format!(
            "{}onnxruntime{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        )
        .into(),
    }
}

impl Encoder for OnnxEncoder {
    fn encode(&self, batch: &TokenBatch) -> Result<Array2<f32>> {
        if batch.rows == 0 {
            return Ok(Array2::zeros((0, self.hidden)));
        }
        let shape = (batch.rows, batch.width);
        let widen = |v: &[u32]| {
            Array2::from_shape_vec(shape, v.iter().map(|&x| i64::from(x)).collect())
                .expect("a TokenBatch holds rows × width values")
        };
        let (ids, mask) = (widen(&batch.ids), widen(&batch.mask));
        // A poisoned lock only means another thread panicked mid-run; the session is stateless.
        let mut session = self
            .session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let outputs = session.run(ort::inputs![
            "input_ids" => TensorRef::from_array_view(&ids)?,
            "attention_mask" => TensorRef::from_array_view(&mask)?,
        ])?;
        let (out_shape, values) = outputs["sentence_embedding"].try_extract_tensor::<f32>()?;
        if values.len() != batch.rows * self.hidden {
            return Err(ort::Error::new(format!(
                "sentence_embedding has shape {out_shape:?}, expected [{}, {}]",
                batch.rows, self.hidden
            ))
            .into());
        }
        Ok(
            Array2::from_shape_vec((batch.rows, self.hidden), values.to_vec())
                .expect("length checked above"),
        )
    }

    fn hidden_size(&self) -> usize {
        self.hidden
    }
}
