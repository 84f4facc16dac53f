//! Properties of segmentation on generated text: spans are in order and do not overlap, never
//! start or end with whitespace, slice back to their text, and together cover every
//! non-whitespace character.

use argmine::segment::{slice_chars, Segmenter, SrxSegmenter};
use proptest::prelude::*;
use std::sync::OnceLock;

fn segmenter() -> &'static SrxSegmenter {
    static S: OnceLock<SrxSegmenter> = OnceLock::new();
    S.get_or_init(|| SrxSegmenter::english().expect("bundled rules load"))
}

/// Text made of words, abbreviations, numbers, punctuation, quotes, line breaks and odd
/// characters (combining marks, emoji, NUL, non-breaking and wide spaces).
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[A-Za-z]{1,9}",
        Just("Mr.".to_string()),
        Just("U.S.".to_string()),
        Just("e.g.".to_string()),
        Just("3.5".to_string()),
        Just("...".to_string()),
        Just("?!".to_string()),
        Just(".".to_string()),
        Just("\u{201c}Yes.\u{201d}".to_string()),
        Just("\n".to_string()),
        Just("\n\n".to_string()),
        Just("e\u{301}".to_string()),
        Just("\u{1f600}".to_string()),
        Just("\u{0}".to_string()),
        Just("\u{a0}".to_string()),
        Just("\u{3000}".to_string()),
        Just("- ".to_string()),
    ];
    prop::collection::vec((piece, prop_oneof![Just(" "), Just(""), Just("  ")]), 0..60)
        .prop_map(|v| v.into_iter().map(|(p, s)| format!("{p}{s}")).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn spans_are_ordered_trimmed_and_cover_the_text(t in text()) {
        let chars: Vec<char> = t.chars().collect();
        let spans = segmenter().segment(&t);
        let mut covered = vec![false; chars.len()];
        let mut last_end = 0;
        let mut last_paragraph = 0;
        for s in &spans {
            prop_assert!(s.start < s.end && s.end <= chars.len(), "{s:?} in {t:?}");
            prop_assert!(s.start >= last_end, "overlap at {s:?} in {t:?}");
            prop_assert!(s.paragraph >= last_paragraph);
            prop_assert!(!chars[s.start].is_whitespace() && !chars[s.end - 1].is_whitespace(), "{s:?} in {t:?}");
            let slice = slice_chars(&t, s.start, s.end);
            prop_assert_eq!(slice.chars().count(), s.end - s.start);
            prop_assert_eq!(s.text(&t), slice, "byte and code-point offsets disagree");
            covered[s.start..s.end].iter_mut().for_each(|c| *c = true);
            last_end = s.end;
            last_paragraph = s.paragraph;
        }
        for (i, c) in chars.iter().enumerate() {
            prop_assert!(c.is_whitespace() || covered[i], "char {i} {c:?} uncovered in {t:?}");
        }
    }
}
