//! The whole pipeline, articles in and JSONL records out, over the sample articles, in
//! sentences per second (what `argmine mine` does, without reading files).

mod common;

use argmine::export::JsonlSink;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

fn end_to_end(c: &mut Criterion) {
    let pipeline = common::pipeline(32);
    let articles = common::samples();
    let mut out = JsonlSink::new(std::io::sink(), usize::MAX);
    let sentences = pipeline
        .run(articles.iter().cloned().map(Ok), &mut out, &mut |_| {})
        .expect("runs")
        .sentences;
    let mut group = c.benchmark_group("end_to_end");
    group.sample_size(10);
    group.throughput(Throughput::Elements(sentences as u64));
    group.bench_function("samples", |b| {
        b.iter_batched(
            || articles.clone(),
            |articles| {
                let mut out = JsonlSink::new(std::io::sink(), usize::MAX);
                pipeline
                    .run(articles.into_iter().map(Ok), &mut out, &mut |_| {})
                    .expect("runs")
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, end_to_end);
criterion_main!(benches);
