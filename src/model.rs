//! A model directory: everything needed to classify sentences and build graphs, offline.
//!
//! ```text
//! models/<name>/
//!   argmine.json          name, revision, window size, head and graph settings (ModelMeta)
//!   config.json           the BERT configuration (Hugging Face format)
//!   tokenizer.json        the tokenizer (Hugging Face format)
//!   model.safetensors     encoder weights, f16 (the candle and tch backends)
//!   model.onnx            the encoder as an ONNX graph (onnx backend; scripts/export-onnx.py)
//!   model.int8.onnx       the same with int8 weights (onnx-int8 backend)
//!   head.safetensors      classification head weights, f32
//!   graph.safetensors     link scorer weights, f32 (the thesis weights are in argmine.json)
//!   semantic.safetensors  the thesis scorer's map into the base encoder's space, f32
//!   training.json         what `argmine train` did (TrainReport)
//!   graph-training.json   what graph training reached (GraphReport)
//!   MODEL_CARD.md         what it was trained on and how well it does
//! ```
//!
//! This module is the layout's one home: [`ModelDir`] names every file, loads the parts, and
//! writes them for training, so load and save sit side by side. Backends receive resolved
//! paths ([`EncoderFiles`]) and know nothing of the layout.

use crate::classify::{ContextHead, HeadConfig};
use crate::encode::bert::Config as BertConfig;
use crate::encode::{Backend, Encoder, EncoderFiles, SentenceTokenizer};
use crate::error::{Error, Result};
use crate::graph::features::THESIS_FEATURES;
use crate::graph::semantic::SemanticMap;
use crate::graph::{GraphMeta, GraphModel, LinkConfig, LinkScorer};
use crate::json::{read_json, write_json};
use crate::types::ModelInfo;
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The model bundled with the repository, relative to the crate root.
pub const DEFAULT_MODEL_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/argmine-minilm");

const META_FILE: &str = "argmine.json";
const CONFIG_FILE: &str = "config.json";
const TOKENIZER_FILE: &str = "tokenizer.json";
const ENCODER_FILE: &str = "model.safetensors";
const HEAD_FILE: &str = "head.safetensors";
const GRAPH_FILE: &str = "graph.safetensors";
const SEMANTIC_FILE: &str = "semantic.safetensors";

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

/// The training reports kept beside the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// `training.json`: what `argmine train` did.
    Training,
    /// `graph-training.json`: what graph training reached.
    Graph,
}

impl Report {
    fn file(self) -> &'static str {
        match self {
            Report::Training => "training.json",
            Report::Graph => "graph-training.json",
        }
    }
}

/// The files of a model directory (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDir {
    path: PathBuf,
}

impl ModelDir {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        ModelDir { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    fn unusable(&self, reason: String) -> Error {
        Error::Model {
            dir: self.path.clone(),
            reason,
        }
    }

    /// `argmine.json`; a directory without one is not a model.
    pub fn read_meta(&self) -> Result<ModelMeta> {
        let path = self.file(META_FILE);
        if !path.is_file() {
            return Err(self.unusable(format!("{META_FILE} not found")));
        }
        read_json(&path)
    }

    pub fn write_meta(&self, meta: &ModelMeta) -> Result<()> {
        write_json(&self.file(META_FILE), meta)
    }

    pub fn read_config(&self) -> Result<BertConfig> {
        read_json(&self.file(CONFIG_FILE))
    }

    /// The tokenizer, set up for single sentences of at most `max_tokens`.
    pub fn tokenizer(&self, max_tokens: usize) -> Result<SentenceTokenizer> {
        SentenceTokenizer::from_file(&self.file(TOKENIZER_FILE), max_tokens)
    }

    /// The weights file `backend` reads.
    fn encoder_weights(backend: Backend) -> &'static str {
        match backend {
            Backend::Candle | Backend::CandleInt8 | Backend::Tch => ENCODER_FILE,
            Backend::Onnx => "model.onnx",
            Backend::OnnxInt8 => "model.int8.onnx",
        }
    }

    /// The files `backend` loads the encoder from, which must exist.
    pub fn encoder_files(&self, backend: Backend) -> Result<EncoderFiles> {
        let name = Self::encoder_weights(backend);
        let weights = self.file(name);
        if !weights.is_file() {
            let hint = match backend {
                Backend::Candle | Backend::CandleInt8 | Backend::Tch => "",
                Backend::Onnx | Backend::OnnxInt8 => {
                    "; write it with `python3 scripts/export-onnx.py DIR --int8`"
                }
            };
            return Err(self.unusable(format!(
                "{name} not found (the {backend} backend reads it{hint})"
            )));
        }
        Ok(EncoderFiles {
            config: self.file(CONFIG_FILE),
            weights,
        })
    }

    /// Every floating-point tensor of the encoder, widened to f32 (where fine-tuning starts).
    pub fn read_encoder_tensors(&self) -> Result<HashMap<String, Tensor>> {
        Ok(
            candle_core::safetensors::load(self.file(ENCODER_FILE), &Device::Cpu)?
                .into_iter()
                .filter(|(_, t)| t.dtype().is_float())
                .map(|(k, t)| Ok((k, t.to_dtype(DType::F32)?)))
                .collect::<candle_core::Result<_>>()?,
        )
    }

    /// Writes the encoder tensors, stored as f16.
    pub fn write_encoder(&self, tensors: &HashMap<String, Tensor>) -> Result<()> {
        let f16: HashMap<String, Tensor> = tensors
            .iter()
            .map(|(k, t)| Ok((k.clone(), t.to_dtype(DType::F16)?)))
            .collect::<candle_core::Result<_>>()?;
        Ok(candle_core::safetensors::save(
            &f16,
            self.file(ENCODER_FILE),
        )?)
    }

    pub fn head(&self, config: &HeadConfig) -> Result<ContextHead> {
        ContextHead::new(self.weights(HEAD_FILE)?, config)
    }

    pub fn write_head(&self, vars: &VarMap) -> Result<()> {
        Ok(vars.save(self.file(HEAD_FILE))?)
    }

    pub fn links(&self, config: &LinkConfig) -> Result<LinkScorer> {
        LinkScorer::new(self.weights(GRAPH_FILE)?, config)
    }

    pub fn write_links(&self, vars: &VarMap) -> Result<()> {
        Ok(vars.save(self.file(GRAPH_FILE))?)
    }

    /// The map of the thesis features into the base encoder's space.
    pub fn semantic_map(&self) -> Result<SemanticMap> {
        let path = self.file(SEMANTIC_FILE);
        if !path.is_file() {
            return Err(self.unusable(format!(
                "{SEMANTIC_FILE} not found (refit the thesis scorer: `argmine train \
                 --thesis-only --base BASE --out DIR --data ...`)"
            )));
        }
        SemanticMap::load(&path)
    }

    pub fn write_semantic_map(&self, map: &SemanticMap) -> Result<()> {
        map.save(&self.file(SEMANTIC_FILE))
    }

    /// The graph scorers that `meta` describes.
    pub fn graph(&self, meta: &GraphMeta) -> Result<GraphModel> {
        let found = meta.thesis.weights.len();
        if found != THESIS_FEATURES && found != THESIS_FEATURES + meta.link.input {
            return Err(Error::ThesisWidth {
                dir: self.path.clone(),
                found,
                expected: THESIS_FEATURES,
                with_embedding: THESIS_FEATURES + meta.link.input,
            });
        }
        let semantic = self.semantic_map()?;
        if semantic.input() != meta.link.input {
            return Err(self.unusable(format!(
                "{SEMANTIC_FILE} reads embeddings of size {}, the encoder writes {}",
                semantic.input(),
                meta.link.input
            )));
        }
        Ok(GraphModel {
            links: self.links(&meta.link)?,
            thesis: meta.thesis.clone(),
            semantic,
        })
    }

    /// Creates the directory for a model being written.
    pub fn create(&self) -> Result<()> {
        std::fs::create_dir_all(&self.path).map_err(|source| Error::Write {
            path: self.path.clone(),
            source,
        })
    }

    /// Writes the tokenizer as configured (unpadded, truncated).
    pub fn write_tokenizer(&self, tokenizer: &SentenceTokenizer) -> Result<()> {
        tokenizer.save(&self.file(TOKENIZER_FILE))
    }

    /// Copies `config.json` from the model that training started from.
    pub fn copy_config_from(&self, base: &ModelDir) -> Result<()> {
        let to = self.file(CONFIG_FILE);
        std::fs::copy(base.file(CONFIG_FILE), &to)
            .map(drop)
            .map_err(|source| Error::Write { path: to, source })
    }

    pub fn read_report<T: serde::de::DeserializeOwned>(&self, report: Report) -> Result<T> {
        read_json(&self.file(report.file()))
    }

    pub fn write_report<T: Serialize>(&self, report: Report, value: &T) -> Result<()> {
        write_json(&self.file(report.file()), value)
    }

    /// Memory-maps an f32 weights file saved by training.
    fn weights(&self, name: &str) -> Result<VarBuilder<'static>> {
        let path = self.file(name);
        if !path.is_file() {
            return Err(Error::Read {
                path,
                source: std::io::ErrorKind::NotFound.into(),
            });
        }
        // SAFETY: the weights file is memory-mapped read-only and not modified while mapped.
        Ok(unsafe { VarBuilder::from_mmaped_safetensors(&[path], DType::F32, &Device::Cpu)? })
    }
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
    pub fn load(dir: &ModelDir, backend: Backend) -> Result<Self> {
        let meta = dir.read_meta()?;
        let config = dir.read_config()?;
        if config.hidden_size != meta.head.input {
            return Err(dir.unusable(format!(
                "encoder hidden size {} does not match the head's input {}",
                config.hidden_size, meta.head.input
            )));
        }
        let tokenizer = dir.tokenizer(meta.max_tokens)?;
        let encoder = backend.load(&config, &dir.encoder_files(backend)?)?;
        let head = dir.head(&meta.head)?;
        Ok(Classifier {
            meta,
            tokenizer,
            encoder,
            head,
        })
    }
}

/// A loaded model: the sentence classifier and the graph scorers.
pub struct Model {
    pub dir: ModelDir,
    pub backend: Backend,
    pub classifier: Classifier,
    pub graph: GraphModel,
}

impl Model {
    /// Loads a model directory, running its encoder on `backend`.
    pub fn load(dir: &Path, backend: Backend) -> Result<Self> {
        let dir = ModelDir::new(dir);
        let classifier = Classifier::load(&dir, backend)?;
        let Some(graph_meta) = &classifier.meta.graph else {
            return Err(Error::NoGraphScorers {
                dir: dir.path.clone(),
            });
        };
        let graph = dir.graph(graph_meta)?;
        Ok(Model {
            dir,
            backend,
            classifier,
            graph,
        })
    }

    pub fn info(&self) -> ModelInfo {
        ModelInfo {
            name: self.classifier.meta.name.clone(),
            revision: self.classifier.meta.revision.clone(),
        }
    }
}
