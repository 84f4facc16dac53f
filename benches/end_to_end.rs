//! The whole pipeline, articles in and JSONL records out, over the sample articles, in
//! sentences per second (what `argmine mine` does, without reading files).

mod common;

use argmine::encode::Backend;
use argmine::export::JsonlSink;
use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion, Throughput,
};

fn end_to_end(c: &mut Criterion) {
    let mut group = c.benchmark_group("end_to_end");
    group.sample_size(10);
    for backend in common::backends() {
        bench_backend(&mut group, backend);
    }
    group.finish();
}

fn bench_backend(group: &mut BenchmarkGroup<WallTime>, backend: Backend) {
    let pipeline = common::pipeline(backend, 32);
    let articles = common::samples();
    let mut out = JsonlSink::new(std::io::sink(), usize::MAX);
    let sentences = pipeline
        .run(articles.iter().cloned().map(Ok), &mut out, &mut |_| {})
        .expect("runs")
        .sentences;
    group.throughput(Throughput::Elements(sentences as u64));
    group.bench_function(format!("{backend}/samples"), |b| {
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
}

criterion_group!(benches, end_to_end);
criterion_main!(benches);
