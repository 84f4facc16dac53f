//! Stage 2: sentence segmentation and boilerplate flags, in bytes of article text per second.

mod common;

use argmine::encode::Backend;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn segment(c: &mut Criterion) {
    let pipeline = common::pipeline(Backend::Candle, 32);
    let articles = common::samples();
    let bytes: usize = articles.iter().map(|a| a.text.len()).sum();
    let mut group = c.benchmark_group("segment");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("samples", |b| {
        b.iter_batched(
            || articles.clone(),
            |articles| {
                for a in articles {
                    std::hint::black_box(pipeline.segment(a).ok());
                }
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, segment);
criterion_main!(benches);
