//! Text files: the title rule and the body split never panic and lose no text.
#![no_main]
use argmine::ingest::files::title_and_body;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let (title, body) = title_and_body(text);
    let kept: usize = title.map_or(0, |t| t.trim().len()) + body.trim().len();
    assert!(kept <= text.len());
});
