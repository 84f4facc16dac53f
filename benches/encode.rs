//! Stage 4: the transformer encoder over the seed op-ed's sentences and title, in sequences per
//! second, on each backend in the build at several batch sizes (batches are length-sorted, as
//! in a run).

mod common;

use argmine::pipeline::Prepared;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    group.sample_size(10);
    for (backend, batch_size) in common::backends().flat_map(|b| [1, 8, 32, 64].map(|n| (b, n))) {
        let pipeline = common::pipeline(backend, batch_size);
        let prepared = common::prepared(&pipeline, |id| id == "north-korea-oped.txt");
        let refs: Vec<&Prepared> = prepared.iter().collect();
        let sequences: usize = prepared.iter().map(Prepared::sequences).sum();
        group.throughput(Throughput::Elements(sequences as u64));
        group.bench_function(format!("{backend}/batch {batch_size}"), |b| {
            b.iter(|| std::hint::black_box(pipeline.encode(&refs)))
        });
    }
    group.finish();
}

criterion_group!(benches, encode);
criterion_main!(benches);
