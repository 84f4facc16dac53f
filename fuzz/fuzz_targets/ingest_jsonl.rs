//! JSONL records of any bytes: every line becomes an article or a failure, never a panic.
#![no_main]
use argmine::ingest::{jsonl::JsonlReader, IngestOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = IngestOptions {
        max_article_bytes: 1 << 16,
        lossy_utf8: data.first().is_some_and(|b| b & 1 == 1),
    };
    for item in JsonlReader::new(data, "fuzz.jsonl".into(), options) {
        let _ = item;
    }
});
