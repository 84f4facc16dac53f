//! HTML pages of any text: extraction never panics.
#![no_main]
use argmine::ingest::html::html_to_article;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|html: &str| {
    let _ = html_to_article("fuzz.html".into(), html);
});
