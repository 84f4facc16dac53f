//! Stage 3: word-piece tokenization of every sentence and title, in sentences per second.

mod common;

use argmine::encode::Backend;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

fn tokenize(c: &mut Criterion) {
    let pipeline = common::pipeline(Backend::Candle, 32);
    let segmented: Vec<_> = common::samples()
        .into_iter()
        .map(|a| pipeline.segment(a).expect("the samples segment"))
        .collect();
    let sequences: usize = segmented
        .iter()
        .map(|s| pipeline.tokenize(s.clone()).expect("tokenizes").sequences())
        .sum();
    let mut group = c.benchmark_group("tokenize");
    group.throughput(Throughput::Elements(sequences as u64));
    group.bench_function("samples", |b| {
        b.iter_batched(
            || segmented.clone(),
            |segmented| {
                for s in segmented {
                    std::hint::black_box(pipeline.tokenize(s).ok());
                }
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, tokenize);
criterion_main!(benches);
