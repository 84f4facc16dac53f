//! Stage 7: writing records, as `argmine mine` does (JSONL) and as `argmine export` does (the
//! graph formats), in articles per second over the mined samples.

mod common;

use argmine::encode::Backend;

use argmine::export::formats::Format;
use argmine::export::{JsonlSink, Sink};
use argmine::types::Record;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn export(c: &mut Criterion) {
    let pipeline = common::pipeline(Backend::Candle, 32);
    let records: Vec<Record> = common::samples()
        .into_iter()
        .map(|a| pipeline.mine(a))
        .collect();
    let mined: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Mined(m) => Some(m),
            Record::Failed { .. } => None,
        })
        .collect();
    let mut group = c.benchmark_group("export");
    group.throughput(Throughput::Elements(records.len() as u64));
    group.bench_function("jsonl", |b| {
        b.iter(|| {
            let mut sink = JsonlSink::new(Vec::with_capacity(1 << 20), usize::MAX);
            for r in &records {
                sink.write(r).expect("writes to memory");
            }
        })
    });
    for format in [Format::Aif, Format::Graphml, Format::Dot] {
        group.bench_function(format!("{format:?}").to_lowercase(), |b| {
            b.iter(|| {
                for m in &mined {
                    std::hint::black_box(format.render(m));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, export);
criterion_main!(benches);
