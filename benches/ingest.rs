//! Stage 1: reading a JSONL corpus (line splitting, JSON parsing, validation), in bytes per
//! second. The corpus is the sample articles, each repeated 100 times under new ids.

mod common;

use argmine::ingest::jsonl::JsonlReader;
use argmine::ingest::IngestOptions;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn ingest(c: &mut Criterion) {
    let mut corpus = Vec::new();
    for (i, article) in common::samples().iter().cycle().take(600).enumerate() {
        let line = serde_json::json!({"id": format!("a{i}"), "title": article.title, "text": article.text});
        serde_json::to_writer(&mut corpus, &line).expect("serialises");
        corpus.push(b'\n');
    }
    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Bytes(corpus.len() as u64));
    group.bench_function("jsonl", |b| {
        b.iter(|| {
            let reader = JsonlReader::new(&corpus[..], "bench".into(), IngestOptions::default());
            reader.filter(Result::is_ok).count()
        })
    });
    group.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
