//! What every bench loads: the bundled model and the sample articles.
#![allow(dead_code)] // each bench uses part of it

use argmine::ingest::{read_inputs, IngestOptions};
use argmine::pipeline::{Pipeline, PipelineOptions, Prepared};
use argmine::types::Article;
use std::path::PathBuf;

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

/// The pipeline over the bundled model, with `batch_size` sentences per encoder batch.
pub fn pipeline(batch_size: usize) -> Pipeline {
    let options = PipelineOptions {
        batch_size,
        ..PipelineOptions::default()
    };
    Pipeline::from_dir(&root().join("models/argmine-minilm"), options).expect("the model loads")
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
