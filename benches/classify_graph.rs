//! Stages 5 and 6: the classification head and the argument graph (link scoring, thesis choice
//! and tree decoding), in sentences per second, over precomputed embeddings of the samples.

mod common;

use argmine::encode::Backend;

use argmine::pipeline::Prepared;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

fn classify_and_graph(c: &mut Criterion) {
    let pipeline = common::pipeline(Backend::Candle, 32);
    let prepared = common::prepared(&pipeline, |_| true);
    let refs: Vec<&Prepared> = prepared.iter().collect();
    let embeddings: Vec<_> = pipeline
        .encode(&refs)
        .0
        .into_iter()
        .map(|e| e.expect("encodes"))
        .collect();
    let inputs: Vec<_> = prepared.into_iter().zip(embeddings).collect();
    let sequences: usize = inputs.iter().map(|(p, _)| p.sequences()).sum();
    let classified: Vec<_> = inputs
        .iter()
        .cloned()
        .map(|(p, e)| pipeline.classify(p, e).expect("classifies"))
        .collect();

    let mut group = c.benchmark_group("classify_graph");
    group.throughput(Throughput::Elements(sequences as u64));
    group.bench_function("classify", |b| {
        b.iter_batched(
            || inputs.clone(),
            |inputs| {
                for (p, e) in inputs {
                    std::hint::black_box(pipeline.classify(p, e).ok());
                }
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("graph", |b| {
        b.iter_batched(
            || classified.clone(),
            |classified| {
                for c in classified {
                    std::hint::black_box(pipeline.graph(c));
                }
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, classify_and_graph);
criterion_main!(benches);
