//! A model directory: everything needed to classify sentences, offline.
//!
//! ```text
//! models/<name>/
//!   argmine.json        name, revision, window size and head settings (ModelMeta)
//!   config.json         the BERT configuration (Hugging Face format)
//!   tokenizer.json      the tokenizer (Hugging Face format)
//!   model.safetensors   encoder weights, f16
//!   head.safetensors    classification head weights, f32
//!   graph.safetensors   link scorer weights, f32 (the thesis weights are in argmine.json)
//!   MODEL_CARD.md       what it was trained on and how well it does
//! ```

use crate::classify::{ContextHead, HeadConfig};
use crate::encode::bert::Config as BertConfig;
use crate::encode::{Backend, Encoder, SentenceTokenizer};
use crate::error::{Error, Result};
use crate::graph::features::THESIS_FEATURES;
use crate::graph::{GraphMeta, GraphModel, LinkConfig, LinkScorer};
use crate::types::ModelInfo;
use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The model bundled with the repository, relative to the crate root.
pub const DEFAULT_MODEL_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/argmine-minilm");

pub const META_FILE: &str = "argmine.json";
pub const CONFIG_FILE: &str = "config.json";
pub const TOKENIZER_FILE: &str = "tokenizer.json";
pub const ENCODER_FILE: &str = "model.safetensors";
pub const HEAD_FILE: &str = "head.safetensors";
pub const GRAPH_FILE: &str = "graph.safetensors";

/// `argmine.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    pub name: String,
    pub revision: String,
    /// The model window in tokens, `[CLS]` and `[SEP]` included.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: usize,
    pub head: HeadConfig,
    /// The graph components ([`crate::graph`]); absent until they are trained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph: Option<GraphMeta>,
}

fn default_max_tokens() -> usize {
    256
}

/// Reads and parses a JSON file.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// The sentence classifier of a model directory: everything but the graph scorers.
pub struct Classifier {
    pub meta: ModelMeta,
    pub tokenizer: SentenceTokenizer,
    pub encoder: Box<dyn Encoder>,
    pub head: ContextHead,
}

impl Classifier {
    /// Loads the classifier of a model directory, running its encoder on `backend`.
    pub fn load(dir: &Path, backend: Backend) -> Result<Self> {
        if !dir.join(META_FILE).is_file() {
            return Err(Error::Model {
                dir: dir.to_path_buf(),
                reason: format!("{META_FILE} not found"),
            });
        }
        let meta: ModelMeta = read_json(&dir.join(META_FILE))?;
        let config: BertConfig = read_json(&dir.join(CONFIG_FILE))?;
        if config.hidden_size != meta.head.input {
            return Err(Error::Model {
                dir: dir.to_path_buf(),
                reason: format!(
                    "encoder hidden size {} does not match the head's input {}",
                    config.hidden_size, meta.head.input
                ),
            });
        }
        let tokenizer = SentenceTokenizer::from_file(&dir.join(TOKENIZER_FILE), meta.max_tokens)?;
        let encoder = backend.load(dir, &config)?;
        let head = load_head(&dir.join(HEAD_FILE), &meta.head)?;
        Ok(Classifier {
            meta,
            tokenizer,
            encoder,
            head,
        })
    }
}

/// A loaded model: tokenizer, encoder backend, head and graph scorers.
pub struct Model {
    pub dir: PathBuf,
    pub backend: Backend,
    pub meta: ModelMeta,
    pub tokenizer: SentenceTokenizer,
    pub encoder: Box<dyn Encoder>,
    pub head: ContextHead,
    pub graph: GraphModel,
}

impl Model {
    /// Loads a model directory, running its encoder on `backend`.
    pub fn load(dir: &Path, backend: Backend) -> Result<Self> {
        let classifier = Classifier::load(dir, backend)?;
        let Some(graph_meta) = &classifier.meta.graph else {
            return Err(Error::Model {
                dir: dir.to_path_buf(),
                reason: "it has no graph scorers; train them with `argmine train --graph-only`"
                    .into(),
            });
        };
        let graph = load_graph(dir, graph_meta)?;
        Ok(Model {
            dir: dir.to_path_buf(),
            backend,
            meta: classifier.meta,
            tokenizer: classifier.tokenizer,
            encoder: classifier.encoder,
            head: classifier.head,
            graph,
        })
    }

    pub fn info(&self) -> ModelInfo {
        ModelInfo {
            name: self.meta.name.clone(),
            revision: self.meta.revision.clone(),
        }
    }
}

/// Memory-maps an f32 weights file saved by training.
fn weights(path: &Path) -> Result<VarBuilder<'static>> {
    if !path.is_file() {
        return Err(Error::Read {
            path: path.to_path_buf(),
            source: std::io::ErrorKind::NotFound.into(),
        });
    }
    // SAFETY: the weights file is memory-mapped read-only and not modified while mapped.
    Ok(unsafe { VarBuilder::from_mmaped_safetensors(&[path], DType::F32, &Device::Cpu)? })
}

/// Loads head weights saved by training.
pub fn load_head(path: &Path, config: &HeadConfig) -> Result<ContextHead> {
    ContextHead::new(weights(path)?, config)
}

/// Loads the graph scorers of the model in `dir`.
pub fn load_graph(dir: &Path, meta: &GraphMeta) -> Result<GraphModel> {
    let expected = THESIS_FEATURES + meta.link.input;
    if meta.thesis.weights.len() != expected {
        return Err(Error::Model {
            dir: dir.to_path_buf(),
            reason: format!(
                "{} thesis weights, expected {expected}; refit them with \
                 `argmine train --thesis-only --out DIR --data ...`",
                meta.thesis.weights.len()
            ),
        });
    }
    Ok(GraphModel {
        links: load_links(dir, &meta.link)?,
        thesis: meta.thesis.clone(),
    })
}

/// Loads the link scorer of the model in `dir`.
pub fn load_links(dir: &Path, config: &LinkConfig) -> Result<LinkScorer> {
    LinkScorer::new(weights(&dir.join(GRAPH_FILE))?, config)
}
