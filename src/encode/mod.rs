//! Stage 4: tokenize sentences and turn them into sentence embeddings.
//!
//! Tokenization uses the model's own `tokenizer.json` (HF `tokenizers`) with padding switched
//! off: each batch is padded only to its longest member. Sentences are grouped into batches by
//! token length (across all articles in flight), which is what keeps padding waste near zero.
//!
//! Sentences longer than the model window (`max_tokens`, 256 for the shipped model) are
//! *truncated* to their first `max_tokens - 2` word pieces plus `[CLS]`/`[SEP]`: a sentence that
//! long is nearly always a run-on list or a segmentation failure, and its opening words carry
//! its role (claim, evidence, recommendation) far more often than its tail.
//!
//! Backends implement [`Encoder`]; the head and everything after it does not know which one ran.
//! [`Backend`] names them and [`Backend::load`] builds one from a model directory:
//! - `candle` (default): BERT in pure Rust, from `model.safetensors`;
//! - `onnx` (cargo feature `onnx`): ONNX Runtime on `model.onnx`, written from the same weights
//!   by `scripts/export-onnx.py`;
//! - `onnx-int8` (feature `onnx`): the same graph with int8 weights, `model.int8.onnx`;
//! - `tch` (feature `tch`): rust-bert's BERT on libtorch, from `model.safetensors`.

pub mod bert;
pub mod candle;
pub mod kernels;
#[cfg(feature = "onnx")]
pub mod onnx;
#[cfg(feature = "tch")]
pub mod tch;

use crate::error::{Error, Result};
use ndarray::Array2;
use std::path::Path;

/// An encoder implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    #[default]
    Candle,
    Onnx,
    OnnxInt8,
    Tch,
}

impl Backend {
    pub const ALL: [Backend; 4] = [
        Backend::Candle,
        Backend::Onnx,
        Backend::OnnxInt8,
        Backend::Tch,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Backend::Candle => "candle",
            Backend::Onnx => "onnx",
            Backend::OnnxInt8 => "onnx-int8",
            Backend::Tch => "tch",
        }
    }

    /// Whether this build of argmine includes the backend.
    pub fn is_available(self) -> bool {
        match self {
            Backend::Candle => true,
            Backend::Onnx | Backend::OnnxInt8 => cfg!(feature = "onnx"),
            Backend::Tch => cfg!(feature = "tch"),
        }
    }

    /// The weights file the backend reads in a model directory.
    pub fn weights_file(self) -> &'static str {
        match self {
            Backend::Candle | Backend::Tch => crate::model::ENCODER_FILE,
            Backend::Onnx => "model.onnx",
            Backend::OnnxInt8 => "model.int8.onnx",
        }
    }

    /// Loads the encoder of the model directory `dir`, whose BERT configuration is `config`.
    pub fn load(self, dir: &Path, config: &bert::Config) -> Result<Box<dyn Encoder>> {
        match self {
            Backend::Candle => Ok(Box::new(candle::CandleEncoder::load(
                config,
                &self.weights(dir)?,
            )?)),
            #[cfg(feature = "onnx")]
            Backend::Onnx | Backend::OnnxInt8 => Ok(Box::new(onnx::OnnxEncoder::load(
                &self.weights(dir)?,
                config.hidden_size,
            )?)),
            #[cfg(not(feature = "onnx"))]
            Backend::Onnx | Backend::OnnxInt8 => Err(Error::BackendUnavailable {
                backend: self.name(),
                feature: "onnx",
            }),
            #[cfg(feature = "tch")]
            Backend::Tch => Ok(Box::new(tch::TchEncoder::load(
                &dir.join(crate::model::CONFIG_FILE),
                &self.weights(dir)?,
            )?)),
            #[cfg(not(feature = "tch"))]
            Backend::Tch => Err(Error::BackendUnavailable {
                backend: self.name(),
                feature: "tch",
            }),
        }
    }

    /// The path of the backend's weights file in `dir`, which must exist.
    fn weights(self, dir: &Path) -> Result<std::path::PathBuf> {
        let path = dir.join(self.weights_file());
        if path.is_file() {
            return Ok(path);
        }
        let hint = match self {
            Backend::Candle | Backend::Tch => "",
            Backend::Onnx | Backend::OnnxInt8 => {
                "; write it with `python3 scripts/export-onnx.py DIR --int8`"
            }
        };
        Err(Error::Model {
            dir: dir.to_path_buf(),
            reason: format!(
                "{} not found (the {} backend reads it{hint})",
                self.weights_file(),
                self.name()
            ),
        })
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Backend {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Backend::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Backend::ALL.iter().map(|b| b.name()).collect();
                format!(
                    "unknown backend `{s}`; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Token ids of one sentence, `[CLS] … [SEP]`, at most the model window long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub ids: Vec<u32>,
}

/// A padded batch, row-major `[rows, width]`.
#[derive(Debug, Clone)]
pub struct TokenBatch {
    pub rows: usize,
    pub width: usize,
    pub ids: Vec<u32>,
    pub mask: Vec<u32>,
}

impl TokenBatch {
    /// Pads `items` (each at most `width` long) to the longest of them with id 0.
    pub fn pad(items: &[&Tokens]) -> TokenBatch {
        let width = items.iter().map(|t| t.ids.len()).max().unwrap_or(0);
        let mut ids = vec![0u32; items.len() * width];
        let mut mask = vec![0u32; items.len() * width];
        for (row, t) in items.iter().enumerate() {
            ids[row * width..row * width + t.ids.len()].copy_from_slice(&t.ids);
            mask[row * width..row * width + t.ids.len()].fill(1);
        }
        TokenBatch {
            rows: items.len(),
            width,
            ids,
            mask,
        }
    }

    /// Number of real (non-padding) tokens.
    pub fn real_tokens(&self) -> usize {
        self.mask.iter().filter(|&&m| m == 1).count()
    }
}

/// Maps token batches to L2-normalised sentence embeddings `[rows, hidden]`.
pub trait Encoder: Send + Sync {
    fn encode(&self, batch: &TokenBatch) -> Result<Array2<f32>>;
    fn hidden_size(&self) -> usize;
}

/// The model's tokenizer, set up for unpadded, truncated single sentences.
pub struct SentenceTokenizer {
    tokenizer: tokenizers::Tokenizer,
}

impl SentenceTokenizer {
    pub fn from_file(path: &Path, max_tokens: usize) -> Result<Self> {
        let mut tokenizer =
            tokenizers::Tokenizer::from_file(path).map_err(|source| Error::Tokenizer {
                path: path.to_path_buf(),
                source,
            })?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams {
                max_length: max_tokens,
                ..Default::default()
            }))
            .map_err(|source| Error::Tokenizer {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(SentenceTokenizer { tokenizer })
    }

    /// Saves the tokenizer as configured (unpadded, truncated) to `tokenizer.json` form.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.tokenizer
            .save(path, true)
            .map_err(|source| Error::Tokenizer {
                path: path.to_path_buf(),
                source,
            })
    }

    pub fn tokenize(&self, text: &str) -> Result<Tokens> {
        let encoding = self
            .tokenizer
            .encode(text, true)
            .map_err(|source| Error::Tokenize { source })?;
        Ok(Tokens {
            ids: encoding.get_ids().to_vec(),
        })
    }
}

/// Orders `lengths` from longest to shortest and cuts the order into batches of at most
/// `batch_size`, so each batch holds sentences of similar length. Longest first, because threads
/// that encode batches in parallel then start with the costliest ones and finish at about the
/// same time, instead of one thread ending on a long batch while the other waits. Returns
/// indices into `lengths`. The sort is stable, so the result depends only on the lengths, never
/// on timing.
pub fn length_batches(lengths: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(lengths[i]));
    order
        .chunks(batch_size.max(1))
        .map(<[usize]>::to_vec)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_to_the_longest_row() {
        let a = Tokens {
            ids: vec![101, 7, 102],
        };
        let b = Tokens {
            ids: vec![101, 102],
        };
        let batch = TokenBatch::pad(&[&a, &b]);
        assert_eq!(batch.width, 3);
        assert_eq!(batch.ids, [101, 7, 102, 101, 102, 0]);
        assert_eq!(batch.mask, [1, 1, 1, 1, 1, 0]);
        assert_eq!(batch.real_tokens(), 5);
    }

    #[test]
    fn batches_group_similar_lengths() {
        let batches = length_batches(&[9, 2, 8, 3, 1], 2);
        assert_eq!(batches, [vec![0, 2], vec![3, 1], vec![4]]);
    }
}
