//! The library's error type. Per-record failures are data ([`crate::types::RecordError`]);
//! this type is for failures that stop a whole operation (a model that will not load, an
//! output file that cannot be written).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot resume from {path}")]
    Resume {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid JSON in {path}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot load tokenizer {path}")]
    Tokenizer {
        path: PathBuf,
        #[source]
        source: tokenizers::Error,
    },
    #[error("tokenization failed")]
    Tokenize {
        #[source]
        source: tokenizers::Error,
    },
    #[error("model computation failed")]
    Candle(#[from] candle_core::Error),
    #[error(transparent)]
    CpuLevel(#[from] crate::encode::gemm::UnknownLevel),
    #[error("the {backend} backend is not in this build; rebuild with `--features {feature}`")]
    BackendUnavailable {
        backend: &'static str,
        feature: &'static str,
    },
    #[error("the {backend} backend runs BERT encoders only, and this model's is {architecture:?}; use --backend candle or candle-int8")]
    BackendArchitecture {
        backend: &'static str,
        architecture: crate::encode::bert::Architecture,
    },
    #[cfg(feature = "onnx")]
    #[error("cannot load ONNX Runtime from {path} (set ORT_DYLIB_PATH to libonnxruntime.so)")]
    OnnxRuntimeLibrary {
        path: PathBuf,
        #[source]
        source: ort::LoadDynamicError,
    },
    #[cfg(feature = "onnx")]
    #[error("ONNX Runtime failed")]
    Onnx(#[from] ort::Error),
    #[cfg(feature = "tch")]
    #[error("libtorch failed")]
    Tch(#[from] tch::TchError),
    #[cfg(feature = "tch")]
    #[error("rust-bert failed")]
    RustBert(#[from] rust_bert::RustBertError),
    #[error("invalid segmentation rules")]
    Rules(#[from] srx::Error),
    #[error("model directory {dir} is not usable: {reason}")]
    Model { dir: PathBuf, reason: String },
    #[error("model directory {dir} has no graph scorers")]
    NoGraphScorers { dir: PathBuf },
    #[error(
        "model directory {dir} has {found} thesis weights, expected {expected} or \
         {with_embedding} (written by an older argmine)"
    )]
    ThesisWidth {
        dir: PathBuf,
        found: usize,
        expected: usize,
        with_embedding: usize,
    },
    #[error("invalid dataset row {line} in {path}: {reason}")]
    Dataset {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("{0}")]
    NothingToEvaluate(&'static str),
    #[error("{path}:{line}: not a record of argmine mine output")]
    Record {
        path: PathBuf,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("I/O error")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error and its sources, as one line: `outer: inner: innermost`.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
