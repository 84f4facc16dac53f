//! What every bench loads: the bundled model and the sample articles.
#![allow(dead_code)] // each bench uses part of it

use argmine::encode::candle::use_batch_parallelism;
use argmine::encode::Backend;
use argmine::ingest::{read_inputs, IngestOptions};
use argmine::model::Model;
use argmine::pipeline::{Pipeline, PipelineOptions, Prepared};
use argmine::types::Article;
use argmine::Choice;
use std::path::PathBuf;
use std::sync::Once;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The six articles of `datasets/samples` (the seed op-ed and five Federalist essays).
pub fn samples() -> Vec<Article> {
    read_inputs(
        vec![root().join("datasets/samples")],
        IngestOptions::default(),
    )
    .map(|a| a.expect("the samples read"))
    .collect()
}

/// The pipeline over the bundled model on `backend`, with `batch_size` sentences per encoder
/// batch, and the threads set up as `argmine mine` sets them up.
pub fn pipeline(backend: Backend, batch_size: usize) -> Pipeline {
    static THREADS: Once = Once::new();
    THREADS.call_once(|| use_batch_parallelism(None).expect("the first use of the thread pool"));
    let options = PipelineOptions {
        batch_size,
        ..PipelineOptions::default()
    };
    let model =
        Model::load(&root().join("models/argmine-minilm"), backend).expect("the model loads");
    Pipeline::new(model, options).expect("the segmentation rules load")
}

/// The backends compiled into this build (`--features onnx` adds the ONNX Runtime ones).
pub fn backends() -> impl Iterator<Item = Backend> {
    Backend::ALL.iter().copied().filter(|b| b.is_available())
}

/// The samples whose id passes `keep`, segmented and tokenized, ready for the encoder.
pub fn prepared(pipeline: &Pipeline, keep: impl Fn(&str) -> bool) -> Vec<Prepared> {
    samples()
        .into_iter()
        .filter(|a| keep(&a.id))
        .map(|a| {
            let s = pipeline.segment(a).expect("the samples segment");
            pipeline.tokenize(s).expect("the samples tokenize")
        })
        .collect()
}
