//! Segmentation of any text: spans are ordered, trimmed, and slice back into the text.
#![no_main]
use argmine::segment::{slice_chars, Segmenter, SrxSegmenter};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|text: &str| {
    static SEGMENTER: OnceLock<SrxSegmenter> = OnceLock::new();
    let segmenter = SEGMENTER.get_or_init(|| SrxSegmenter::english().expect("rules load"));
    let chars = text.chars().count();
    let mut last = 0;
    for span in segmenter.segment(text) {
        assert!(last <= span.start && span.start < span.end && span.end <= chars);
        let s = slice_chars(text, span.start, span.end);
        assert_eq!(s.trim(), s);
        assert_eq!(span.text(text), s);
        last = span.end;
    }
});
