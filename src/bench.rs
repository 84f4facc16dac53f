//! Throughput measurement (`argmine bench`): the pipeline's stages timed one at a time over a
//! whole corpus, then the streaming pipeline end to end over the same corpus.
//!
//! Each stage runs as one pass over every article, parallel where the pipeline is parallel
//! (segmenting, tokenizing, classifying and graph building per article with rayon; encoding in
//! length-sorted batches of up to 64 articles, as the pipeline chunks them), so its wall time
//! is what that stage costs in a run. The end-to-end figure overlaps reading, computing and
//! writing as `argmine mine` does; it is the one to compare with other tools.

use crate::encode::EncodeStats;
use crate::export::{JsonlSink, Sink};
use crate::ingest::{read_inputs, IngestOptions};
use crate::pipeline::{Classified, Pipeline, Prepared};
use crate::types::{Article, Record};
use rayon::prelude::*;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// The time of one stage and the rates it implies.
#[derive(Debug, Clone, Serialize)]
pub struct StageTime {
    pub stage: &'static str,
    pub seconds: f64,
    pub sentences_per_second: f64,
    pub articles_per_second: f64,
    pub tokens_per_second: f64,
}

/// What `argmine bench` measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub articles: usize,
    pub sentences: usize,
    pub tokens: usize,
    /// Encoder tokens computed per real token (1 = no padding).
    pub padding_ratio: f64,
    pub backend: crate::encode::Backend,
    pub batch_size: usize,
    pub threads: usize,
    pub stages: Vec<StageTime>,
    /// The streaming pipeline over the same corpus (reading, computing and writing overlap).
    pub end_to_end: StageTime,
    /// Peak resident memory of the process, in MiB (`VmHWM`; Linux only).
    pub peak_rss_mib: Option<f64>,
}

/// Peak resident set size of this process in MiB, from `/proc/self/status`.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Times `inputs` (read `repeat` times over, so small corpora give stable figures).
pub fn run(
    pipeline: &Pipeline,
    inputs: &[PathBuf],
    repeat: usize,
    ingest: &IngestOptions,
) -> crate::Result<BenchReport> {
    let mut times: Vec<(&'static str, f64)> = Vec::new();
    let mut lap = |stage: &'static str, start: Instant| {
        times.push((stage, start.elapsed().as_secs_f64().max(1e-9)));
    };

    let start = Instant::now();
    let read: Vec<Article> = (0..repeat.max(1))
        .flat_map(|r| {
            read_inputs(inputs.to_vec(), ingest.clone())
                .filter_map(Result::ok)
                .map(move |mut a| {
                    a.id = format!("{}#{r}", a.id);
                    a
                })
        })
        .collect();
    let article_count = read.len();
    lap("ingest", start);

    let start = Instant::now();
    let segmented: Vec<_> = read
        .into_par_iter()
        .filter_map(|a| pipeline.segment(a).ok())
        .collect();
    lap("segment", start);

    let start = Instant::now();
    let prepared: Vec<Prepared> = segmented
        .into_par_iter()
        .filter_map(|s| pipeline.tokenize(s).ok())
        .collect();
    lap("tokenize", start);

    let start = Instant::now();
    let mut stats = EncodeStats::default();
    let mut embeddings = Vec::with_capacity(prepared.len());
    for chunk in prepared.chunks(64) {
        let refs: Vec<&Prepared> = chunk.iter().collect();
        let (e, s) = pipeline.encode(&refs);
        stats.tokens += s.tokens;
        stats.padded_tokens += s.padded_tokens;
        embeddings.extend(e);
    }
    lap("encode", start);

    let start = Instant::now();
    let classified: Vec<Classified> = prepared
        .into_par_iter()
        .zip(embeddings)
        .filter_map(|(p, e)| pipeline.classify(p, e.ok()?).ok())
        .collect();
    lap("classify", start);

    let start = Instant::now();
    let records: Vec<Record> = classified
        .into_par_iter()
        .map(|c| pipeline.graph(c))
        .collect();
    lap("graph", start);

    let start = Instant::now();
    let mut sink = JsonlSink::new(std::io::sink(), usize::MAX);
    for r in &records {
        sink.write(r)?;
    }
    sink.finish()?;
    lap("write", start);

    let sentence_count: usize = records
        .iter()
        .map(|r| match r {
            Record::Mined(m) => m.sentences.len(),
            Record::Failed { .. } => 0,
        })
        .sum();
    drop(records);

    let start = Instant::now();
    let stream = (0..repeat.max(1)).flat_map(|_| read_inputs(inputs.to_vec(), ingest.clone()));
    let mut null = JsonlSink::new(std::io::sink(), usize::MAX);
    pipeline.run(stream, &mut null, &mut |_| {})?;
    let e2e_seconds = start.elapsed().as_secs_f64().max(1e-9);

    let rate = |stage: &'static str, seconds: f64| StageTime {
        stage,
        seconds,
        sentences_per_second: sentence_count as f64 / seconds,
        articles_per_second: article_count as f64 / seconds,
        tokens_per_second: stats.tokens as f64 / seconds,
    };
    Ok(BenchReport {
        articles: article_count,
        sentences: sentence_count,
        tokens: stats.tokens,
        padding_ratio: stats.padded_tokens as f64 / stats.tokens.max(1) as f64,
        backend: pipeline.model().backend,
        batch_size: pipeline.options().batch_size,
        threads: rayon::current_num_threads(),
        stages: times.into_iter().map(|(stage, t)| rate(stage, t)).collect(),
        end_to_end: rate("end to end", e2e_seconds),
        peak_rss_mib: peak_rss_mib(),
    })
}
