//! Stage 2: split an article's text into paragraphs and sentences, with code-point offsets.
//!
//! Paragraphs come from line structure: every line break that is not a soft wrap ends a
//! paragraph, so headings, list items and bylines without a full stop become their own
//! sentences. A line break is a *soft wrap* (the two lines are one paragraph) only when the
//! line before it does not end in sentence punctuation and the next line starts with a
//! lower-case letter, which is how hard-wrapped plain text (e-mail, Project Gutenberg) looks.
//!
//! Inside a paragraph, sentence boundaries come from LanguageTool's English SRX rules (run by
//! the `srx` crate), which know abbreviations (U.S., Mr., Jan.), initials, decimals, ellipses
//! and quotes. Offsets born here are carried untouched to every sink.

pub mod boilerplate;

use crate::error::Result;
use std::str::FromStr;

/// A sentence span: `[start, end)` in code points, the same range in bytes, and the paragraph
/// it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub byte_start: usize,
    pub byte_end: usize,
    pub paragraph: usize,
}

impl Span {
    /// The sentence in `text`, the text it was segmented from. Slicing by bytes keeps this
    /// O(1): [`slice_chars`] walks the text from its start, which over all the sentences of a
    /// long article is quadratic.
    pub fn text<'a>(&self, text: &'a str) -> &'a str {
        &text[self.byte_start..self.byte_end]
    }
}

/// Splits text into sentence spans. Spans are in order, do not overlap, never start or end with
/// whitespace, and together cover every non-whitespace character of the text.
pub trait Segmenter: Send + Sync {
    fn segment(&self, text: &str) -> Vec<Span>;
}

/// The English rules, extracted from LanguageTool's `segment.srx` (LGPL-2.1+).
const ENGLISH_SRX: &str = include_str!("segment-en.srx");

/// Line-aware SRX segmenter (see the module docs).
pub struct SrxSegmenter {
    rules: srx::Rules,
}

impl SrxSegmenter {
    pub fn english() -> Result<Self> {
        let srx = srx::SRX::from_str(ENGLISH_SRX)?;
        Ok(SrxSegmenter {
            rules: srx.language_rules("en"),
        })
    }
}

impl Segmenter for SrxSegmenter {
    fn segment(&self, text: &str) -> Vec<Span> {
        let mut spans = Vec::new();
        let mut offsets = CharOffsets::new(text);
        for (paragraph, (para_start, para_end)) in paragraphs(text).into_iter().enumerate() {
            let para = &text[para_start..para_end];
            for range in self.rules.split_ranges(para) {
                let piece = &para[range.clone()];
                let trimmed_start = piece.len() - piece.trim_start().len();
                let trimmed = piece.trim();
                if trimmed.is_empty() {
                    continue;
                }
                let byte_start = para_start + range.start + trimmed_start;
                let byte_end = byte_start + trimmed.len();
                spans.push(Span {
                    start: offsets.advance_to(byte_start),
                    end: offsets.advance_to(byte_end),
                    byte_start,
                    byte_end,
                    paragraph,
                });
            }
        }
        spans
    }
}

/// Byte ranges of the paragraphs of `text`, trimmed, in order (see the module docs).
fn paragraphs(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, usize)> = None;
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim();
        let lead = line.len() - line.trim_start().len();
        let start = line_start + lead;
        let end = start + content.len();
        line_start += line.len();
        if content.is_empty() {
            out.extend(current.take());
            continue;
        }
        current = match current {
            Some((p_start, p_end)) if is_soft_wrap(&text[p_start..p_end], content) => {
                Some((p_start, end))
            }
            Some(done) => {
                out.push(done);
                Some((start, end))
            }
            None => Some((start, end)),
        };
    }
    out.extend(current);
    out
}

fn is_soft_wrap(before: &str, next_line: &str) -> bool {
    let ends_sentence = before
        .chars()
        .next_back()
        .is_some_and(|c| matches!(c, '.' | '!' | '?' | ':' | ';' | '…' | '"' | '”' | ')'));
    let continues = next_line.chars().next().is_some_and(char::is_lowercase);
    !ends_sentence && continues
}

/// Converts increasing byte offsets to code-point offsets in one pass over the text.
struct CharOffsets<'a> {
    text: &'a str,
    byte: usize,
    chars: usize,
}

impl<'a> CharOffsets<'a> {
    fn new(text: &'a str) -> Self {
        CharOffsets {
            text,
            byte: 0,
            chars: 0,
        }
    }

    /// The code-point offset of `byte`, which must not be smaller than the previous call's.
    fn advance_to(&mut self, byte: usize) -> usize {
        self.chars += self.text[self.byte..byte].chars().count();
        self.byte = byte;
        self.chars
    }
}

/// The substring of `text` between two code-point offsets.
pub fn slice_chars(text: &str, start: usize, end: usize) -> &str {
    let mut indices = text.char_indices().map(|(i, _)| i).chain([text.len()]);
    let from = indices.nth(start).unwrap_or(text.len());
    let to = if end > start {
        indices.nth(end - start - 1).unwrap_or(text.len())
    } else {
        from
    };
    &text[from..to]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentences(text: &str) -> Vec<String> {
        let seg = SrxSegmenter::english().unwrap();
        seg.segment(text)
            .iter()
            .map(|s| slice_chars(text, s.start, s.end).to_string())
            .collect()
    }

    #[test]
    fn keeps_abbreviations_initials_and_decimals_together() {
        let got = sentences(
            "The U.S. economy grew 2.5 percent in Jan. this year, said Mr. J. R. Smith. Prices rose.",
        );
        assert_eq!(
            got,
            [
                "The U.S. economy grew 2.5 percent in Jan. this year, said Mr. J. R. Smith.",
                "Prices rose."
            ]
        );
    }

    #[test]
    fn splits_on_question_exclamation_and_quotes() {
        let got = sentences("Is it over? “It is not,” she said. Stop now! Then wait…");
        assert_eq!(
            got,
            [
                "Is it over?",
                "“It is not,” she said.",
                "Stop now!",
                "Then wait…"
            ]
        );
    }

    #[test]
    fn headings_and_list_items_without_full_stops_are_sentences() {
        let text = "Related Publications\n-\nFirst title\nSecond item here\n\nBody starts. Ends.";
        let seg = SrxSegmenter::english().unwrap();
        let spans = seg.segment(text);
        let got: Vec<_> = spans
            .iter()
            .map(|s| (slice_chars(text, s.start, s.end), s.paragraph))
            .collect();
        assert_eq!(
            got,
            [
                ("Related Publications", 0),
                ("-", 1),
                ("First title", 2),
                ("Second item here", 3),
                ("Body starts.", 4),
                ("Ends.", 4)
            ]
        );
    }

    #[test]
    fn soft_wrapped_lines_join_into_one_paragraph() {
        let text = "The powers of the\ngovernment are few. They are\ndefined.";
        assert_eq!(
            sentences(text),
            [
                "The powers of the\ngovernment are few.",
                "They are\ndefined."
            ]
        );
    }

    #[test]
    fn offsets_are_code_points() {
        let text = "Ünïcödé “quotes” here. Zweite Satz.";
        let seg = SrxSegmenter::english().unwrap();
        let spans = seg.segment(text);
        assert_eq!(spans[0].start, 0);
        assert_eq!(spans[0].end, 22);
        assert_eq!(
            slice_chars(text, spans[1].start, spans[1].end),
            "Zweite Satz."
        );
    }
}
