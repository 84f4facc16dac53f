//! Stage 3: tokenize sentences and turn them into sentence embeddings.
//!
//! Tokenization uses the model's own `tokenizer.json` (HF `tokenizers`) with padding switched
//! off: each batch is padded only to its longest member. Sentences are grouped into batches by
//! token length (across all articles in flight), which is what keeps padding waste near zero;
//! [`encode_sorted`] is that loop, for mining, training and evaluation alike.
//!
//! Sentences longer than the model window (`max_tokens`, 256 for the shipped model) are
//! *truncated* to their first `max_tokens - 2` word pieces plus `[CLS]`/`[SEP]`: a sentence that
//! long is nearly always a run-on list or a segmentation failure, and its opening words carry
//! its role (claim, evidence, recommendation) far more often than its tail.
//!
//! Backends implement [`Encoder`]; the head and everything after it does not know which one ran.
//! [`Backend`] names them and [`Backend::load`] builds one from the files that
//! [`crate::model::ModelDir::encoder_files`] resolves:
//! - `candle-int8` (default): BERT in pure Rust, from `model.safetensors`, its linear layers
//!   quantised to int8 at load and run on argmine's own matrix products ([`gemm`]);
//! - `candle`: the same in f32 throughout;
//! - `onnx` (cargo feature `onnx`): ONNX Runtime on `model.onnx`, written from the same weights
//!   by `scripts/export-onnx.py`;
//! - `onnx-int8` (feature `onnx`): the same graph with int8 weights, `model.int8.onnx`;
//! - `tch` (feature `tch`): rust-bert's BERT on libtorch, from `model.safetensors`.

pub mod bert;
pub mod candle;
pub mod gemm;
pub mod kernels;
#[cfg(feature = "onnx")]
pub mod onnx;
#[cfg(feature = "tch")]
pub mod tch;

use crate::choice::{choice_traits, Choice};
use crate::error::{Error, Result};
use ndarray::Array2;
use std::path::{Path, PathBuf};

/// The files a backend loads an encoder from, resolved by [`crate::model::ModelDir`].
#[derive(Debug, Clone)]
pub struct EncoderFiles {
    /// The BERT configuration, `config.json` (the tch backend parses it itself).
    pub config: PathBuf,
    /// The backend's weights file.
    pub weights: PathBuf,
}

/// An encoder implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    Candle,
    #[default]
    CandleInt8,
    Onnx,
    OnnxInt8,
    Tch,
}

impl Choice for Backend {
    const KIND: &'static str = "backend";
    const ALL: &'static [Backend] = &[
        Backend::Candle,
        Backend::CandleInt8,
        Backend::Onnx,
        Backend::OnnxInt8,
        Backend::Tch,
    ];

    fn name(self) -> &'static str {
        match self {
            Backend::Candle => "candle",
            Backend::CandleInt8 => "candle-int8",
            Backend::Onnx => "onnx",
            Backend::OnnxInt8 => "onnx-int8",
            Backend::Tch => "tch",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Backend::Candle => "BERT in pure Rust, f32",
            Backend::CandleInt8 => "BERT in pure Rust with int8 linear layers (the default)",
            Backend::Onnx => "ONNX Runtime on model.onnx (build with --features onnx)",
            Backend::OnnxInt8 => "ONNX Runtime on model.int8.onnx (build with --features onnx)",
            Backend::Tch => "rust-bert on libtorch (build with --features tch)",
        }
    }
}

choice_traits!(Backend);

impl Backend {
    /// Whether this build of argmine includes the backend.
    pub fn is_available(self) -> bool {
        match self {
            Backend::Candle | Backend::CandleInt8 => true,
            Backend::Onnx | Backend::OnnxInt8 => cfg!(feature = "onnx"),
            Backend::Tch => cfg!(feature = "tch"),
        }
    }

    /// Loads an encoder from `files`, whose BERT configuration is `config`.
    pub fn load(self, config: &bert::Config, files: &EncoderFiles) -> Result<Box<dyn Encoder>> {
        let weights = files.weights.as_path();
        let candle = matches!(self, Backend::Candle | Backend::CandleInt8);
        if !candle && config.model_type != bert::Architecture::Bert {
            return Err(Error::BackendArchitecture {
                backend: self.name(),
                architecture: config.model_type,
            });
        }
        match self {
            Backend::Candle => Ok(Box::new(candle::CandleEncoder::load(
                config,
                weights,
                bert::Precision::F32,
            )?)),
            Backend::CandleInt8 => Ok(Box::new(candle::CandleEncoder::load(
                config,
                weights,
                bert::Precision::Int8,
            )?)),
            #[cfg(feature = "onnx")]
            Backend::Onnx | Backend::OnnxInt8 => Ok(Box::new(onnx::OnnxEncoder::load(
                weights,
                config.hidden_size,
            )?)),
            #[cfg(not(feature = "onnx"))]
            Backend::Onnx | Backend::OnnxInt8 => Err(Error::BackendUnavailable {
                backend: self.name(),
                feature: "onnx",
            }),
            #[cfg(feature = "tch")]
            Backend::Tch => Ok(Box::new(tch::TchEncoder::load(&files.config, weights)?)),
            #[cfg(not(feature = "tch"))]
            Backend::Tch => Err(Error::BackendUnavailable {
                backend: self.name(),
                feature: "tch",
            }),
        }
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

/// Token counts of an encoding pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct EncodeStats {
    /// Real tokens, `[CLS]` and `[SEP]` included.
    pub tokens: usize,
    /// Tokens the encoder computed, padding included.
    pub padded_tokens: usize,
}

/// How [`encode_sorted`] runs its batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// One batch per rayon pool thread, for mining (see [`candle::use_batch_parallelism`]).
    Parallel,
    /// One batch after another, each free to thread inside its ops, for training and
    /// evaluation.
    Sequential,
}

/// What [`encode_sorted`] computed, in input order.
pub struct Encoded {
    /// One row per sequence; the rows of a failed batch are zero.
    pub rows: Array2<f32>,
    /// The errors of the batches that failed.
    errors: Vec<Error>,
    /// For each sequence, its batch's index in `errors` if that batch failed.
    failed: Vec<Option<usize>>,
    pub stats: EncodeStats,
}

impl Encoded {
    /// The error of the batch that held sequence `row`, if it failed.
    pub fn error(&self, row: usize) -> Option<&Error> {
        self.failed[row].map(|e| &self.errors[e])
    }

    /// The rows, or the first batch error.
    pub fn into_rows(mut self) -> Result<Array2<f32>> {
        if self.errors.is_empty() {
            Ok(self.rows)
        } else {
            Err(self.errors.swap_remove(0))
        }
    }
}

/// The one loop that feeds an encoder, for mining, training and evaluation alike: cuts
/// `sequences` into length-sorted batches of at most `batch_size` ([`length_batches`]), pads
/// each, runs `encode` on it (giving `[rows, width]`), and puts the output rows back in input
/// order. A failed batch fails only its own sequences. `progress(done, total)` follows the
/// sequences placed.
pub fn encode_sorted(
    sequences: &[&Tokens],
    batch_size: usize,
    width: usize,
    schedule: Schedule,
    encode: impl Fn(&TokenBatch) -> Result<Array2<f32>> + Sync,
    progress: &mut dyn FnMut(usize, usize),
) -> Encoded {
    use rayon::prelude::*;
    let lengths: Vec<usize> = sequences.iter().map(|t| t.ids.len()).collect();
    let batches = length_batches(&lengths, batch_size);
    let run = |batch: &Vec<usize>| {
        let rows: Vec<&Tokens> = batch.iter().map(|&i| sequences[i]).collect();
        encode(&TokenBatch::pad(&rows))
    };
    let mut out = Encoded {
        rows: Array2::zeros((sequences.len(), width)),
        errors: Vec::new(),
        failed: vec![None; sequences.len()],
        stats: EncodeStats::default(),
    };
    let mut done = 0;
    let mut place = |out: &mut Encoded, batch: &[usize], result: Result<Array2<f32>>| {
        out.stats.tokens += batch.iter().map(|&i| lengths[i]).sum::<usize>();
        out.stats.padded_tokens +=
            batch.len() * batch.iter().map(|&i| lengths[i]).max().unwrap_or(0);
        match result {
            Ok(e) => {
                for (r, &i) in batch.iter().enumerate() {
                    out.rows.row_mut(i).assign(&e.row(r));
                }
            }
            Err(err) => {
                for &i in batch {
                    out.failed[i] = Some(out.errors.len());
                }
                out.errors.push(err);
            }
        }
        done += batch.len();
        progress(done, sequences.len());
    };
    match schedule {
        Schedule::Parallel => {
            let results: Vec<_> = batches.par_iter().map(run).collect();
            for (batch, result) in batches.iter().zip(results) {
                place(&mut out, batch, result);
            }
        }
        Schedule::Sequential => {
            for batch in &batches {
                place(&mut out, batch, run(batch));
            }
        }
    }
    out
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
    fn a_failed_batch_fails_only_its_own_sequences() {
        let sequences: Vec<Tokens> = [3, 1, 2, 3]
            .iter()
            .map(|&n| Tokens { ids: vec![7; n] })
            .collect();
        let refs: Vec<&Tokens> = sequences.iter().collect();
        // longest first: sequences 0 and 3 (width 3) share the batch that fails
        let encode = |batch: &TokenBatch| {
            if batch.width == 3 {
                Err(Error::Io(std::io::Error::other("batch failed")))
            } else {
                Ok(Array2::from_elem((batch.rows, 1), batch.width as f32))
            }
        };
        for schedule in [Schedule::Parallel, Schedule::Sequential] {
            let encoded = encode_sorted(&refs, 2, 1, schedule, encode, &mut |_, _| {});
            let failed: Vec<bool> = (0..4).map(|i| encoded.error(i).is_some()).collect();
            assert_eq!(failed, [true, false, false, true]);
            assert_eq!(encoded.rows.column(0).to_vec(), [0.0, 2.0, 2.0, 0.0]);
            assert_eq!(
                encoded.stats,
                EncodeStats {
                    tokens: 9,
                    padded_tokens: 10
                }
            );
            assert!(encoded.into_rows().is_err());
        }
    }

    #[test]
    fn batches_group_similar_lengths() {
        let batches = length_batches(&[9, 2, 8, 3, 1], 2);
        assert_eq!(batches, [vec![0, 2], vec![3, 1], vec![4]]);
    }
}
