//! # argmine: argument mining for article corpora
//!
//! argmine reads articles, splits them into sentences, labels every sentence **claim**,
//! **evidence**, **recommendation** or **other** with a fine-tuned transformer, and builds one
//! argument graph per article: the thesis, and support/attack edges with confidences.
//!
//! Data flows one way through these stages, each its own module:
//!
//! 1. [`ingest`]: JSONL records, text/Markdown and HTML files become [`Article`]s; a bad record
//!    becomes a failure that names it, and the stream goes on.
//! 2. [`segment`]: paragraphs and sentences with code-point offsets (LanguageTool's SRX rules);
//!    [`segment::boilerplate`] flags page furniture.
//! 3. [`encode`]: the model's tokenizer and a BERT encoder turn sentences into embeddings,
//!    batched across articles by length; the encoder runs on candle (default), ONNX Runtime
//!    or libtorch.
//! 4. [`classify`]: a context head maps each sentence, its neighbours and the title to class
//!    probabilities.
//! 5. [`graph`]: thesis selection and links, per article.
//! 6. [`export`]: sinks write records out; readers and writers of the graph formats.
//!
//! [`pipeline::Pipeline`] composes them into a bounded parallel stream. [`model`] is the one
//! home of a model directory (loading and saving); [`train`] builds the datasets, trains and
//! evaluates the model; [`report`] renders the HTML report and [`bench`] times the stages.
//! `docs/ARCHITECTURE.md` maps the crate and its invariants.
//!
//! ```no_run
//! use argmine::{encode::Backend, model::Model, Article, Pipeline, PipelineOptions, Record};
//!
//! let model = Model::load(argmine::model::DEFAULT_MODEL_DIR.as_ref(), Backend::default())?;
//! let pipeline = Pipeline::new(model, PipelineOptions::default())?;
//! let article = Article {
//!     id: "ed-1".into(),
//!     title: Some("The City Must Fix Its Roads".into()),
//!     text: "Potholes cost drivers $600 a year. The council should double the repair budget.".into(),
//!     meta: Default::default(),
//! };
//! if let Record::Mined(mined) = pipeline.mine(article) {
//!     for s in &mined.sentences {
//!         println!("{} {:.2} {}", s.label, s.confidence, s.text);
//!     }
//! }
//! # Ok::<(), argmine::Error>(())
//! ```

pub mod bench;
pub mod choice;
pub mod classify;
pub mod encode;
pub mod error;
pub mod export;
pub mod graph;
pub mod ingest;
pub mod json;
pub mod mlp;
pub mod model;
pub mod pipeline;
pub mod report;
pub mod segment;
pub mod train;
pub mod types;

pub use choice::Choice;
pub use error::{Error, Result};
pub use pipeline::{Pipeline, PipelineOptions, Summary};
pub use types::*;
