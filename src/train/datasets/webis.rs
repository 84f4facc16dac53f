//! Webis-Editorials-16 (Al-Khatib, Wachsmuth, Kiesel, Hagen & Stein, COLING 2016): real news
//! editorials from Al Jazeera, Fox News and The Guardian, each argumentative unit typed by
//! professional annotators.
//!
//! An editorial's segments are joined into its text (a space between two segments, none before
//! closing punctuation; a blank line between paragraphs). The first paragraph is the headline.
//! The body is split into sentences by argmine's own segmenter, so the rows are the sentences
//! that `argmine mine` sees. Each sentence takes the unit type that covers most of its
//! characters (the earlier type on a tie), mapped to argmine's labels:
//!
//! | Webis type | label |
//! |---|---|
//! | assumption | recommendation when the sentence prescribes ([`prescribes`]), else claim |
//! | anecdote, testimony, statistics | evidence |
//! | common-ground | claim |
//! | other, or no unit at all | other |
//!
//! These labels are weak: the Webis types say what kind of unit a span is, not what role the
//! sentence plays in the argument, and Webis has almost no "other" (background and rhetorical
//! questions are typed anecdote or assumption). The headline gets no label here.
//!
//! Editorials are split by portal into test (the first 20% in the order of the FNV-1a hash of
//! their id), dev (the next 20%) and train (the rest), so every portal is in every split.

use super::row::{read_jsonl, Split};
use super::written::{WrittenArticle, WrittenSentence};
use crate::error::Result;
use crate::segment::{Segmenter, Span};
use crate::types::{stable_hash, Label};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One editorial of `editorials.jsonl`.
#[derive(Deserialize)]
struct Editorial {
    id: String,
    portal: String,
    /// The headline, then the body's paragraphs, each a list of segments in reading order.
    paragraphs: Vec<Vec<Segment>>,
}

#[derive(Deserialize)]
struct Segment {
    text: String,
    label: String,
}

/// A unit's type over a code-point range of the body text.
struct TypedRange {
    start: usize,
    end: usize,
    label: String,
}

/// Reads `editorials.jsonl` and returns the editorials as sentence-labelled articles, with
/// their portal as `genre`, `webis-<portal>` as source, and their split.
pub fn convert(path: &Path, segmenter: &dyn Segmenter) -> Result<Vec<WrittenArticle>> {
    let editorials: Vec<Editorial> = read_jsonl(path)?;
    let splits = splits(&editorials);
    Ok(editorials
        .iter()
        .map(|e| article(e, splits[e.id.as_str()], segmenter))
        .collect())
}

/// Test, dev and train by portal (see the module docs).
fn splits(editorials: &[Editorial]) -> BTreeMap<&str, Split> {
    let mut by_portal: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in editorials {
        by_portal.entry(&e.portal).or_default().push(&e.id);
    }
    let mut out = BTreeMap::new();
    for ids in by_portal.values_mut() {
        ids.sort_by_key(|id| (stable_hash(id), *id));
        let fifth = ids.len().div_ceil(5);
        for (k, id) in ids.iter().enumerate() {
            let split = match k / fifth {
                0 => Split::Test,
                1 => Split::Dev,
                _ => Split::Train,
            };
            out.insert(*id, split);
        }
    }
    out
}

fn article(e: &Editorial, split: Split, segmenter: &dyn Segmenter) -> WrittenArticle {
    let title = e
        .paragraphs
        .first()
        .map(|p| headline(&join(p.iter().map(|s| s.text.as_str()), &mut Vec::new(), 0)))
        .unwrap_or_default();
    let (text, units) = body(&e.paragraphs[1.min(e.paragraphs.len())..]);
    let sentences = segmenter
        .segment(&text)
        .iter()
        .map(|span| sentence(&text, span, &units))
        .collect();
    WrittenArticle {
        doc_id: e.id.clone(),
        genre: e.portal.clone(),
        source: Some(format!("webis-{}", e.portal)),
        split: Some(split),
        title,
        title_label: None,
        sentences,
        thesis: None,
        thesis_alt: None,
    }
}

/// The headline without the full stop the corpus adds to it.
fn headline(text: &str) -> String {
    match text.strip_suffix('.') {
        Some(t) if !t.ends_with('.') => t.to_string(),
        _ => text.to_string(),
    }
}

/// The body text, paragraphs separated by a blank line, and the typed ranges of its units.
fn body(paragraphs: &[Vec<Segment>]) -> (String, Vec<TypedRange>) {
    let mut text = String::new();
    let mut units = Vec::new();
    for p in paragraphs {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        let offset = text.chars().count();
        let mut ranges = Vec::new();
        text.push_str(&join(
            p.iter().map(|s| s.text.as_str()),
            &mut ranges,
            offset,
        ));
        for (s, (start, end)) in p.iter().zip(ranges) {
            if s.label != "no-unit" {
                units.push(TypedRange {
                    start,
                    end,
                    label: s.label.clone(),
                });
            }
        }
    }
    (text, units)
}

/// Joins segments with a space, except before closing punctuation, and records each segment's
/// code-point range (from `offset`) in `ranges`. A segment `\.` is a full stop.
fn join<'a>(
    segments: impl Iterator<Item = &'a str>,
    ranges: &mut Vec<(usize, usize)>,
    offset: usize,
) -> String {
    let mut out = String::new();
    let mut chars = offset;
    for s in segments {
        let s = if s == "\\." { "." } else { s.trim() };
        if !out.is_empty() && !s.starts_with(['.', ',', ':', ';', '?', '!', ')', ']', '…']) {
            out.push(' ');
            chars += 1;
        }
        let n = s.chars().count();
        ranges.push((chars, chars + n));
        out.push_str(s);
        chars += n;
    }
    out
}

/// A sentence labelled by the unit type covering most of it (see the module docs).
fn sentence(text: &str, span: &Span, units: &[TypedRange]) -> WrittenSentence {
    let mut cover: Vec<(&str, usize)> = Vec::new();
    for u in units {
        let overlap = span.end.min(u.end).saturating_sub(span.start.max(u.start));
        if overlap == 0 {
            continue;
        }
        match cover.iter_mut().find(|(l, _)| *l == u.label) {
            Some((_, n)) => *n += overlap,
            None => cover.push((&u.label, overlap)),
        }
    }
    let dominant = cover
        .iter()
        .fold(None, |best: Option<(&str, usize)>, &(l, n)| match best {
            Some((_, m)) if m >= n => best,
            _ => Some((l, n)),
        })
        .map(|(l, _)| l);
    let sentence = span.text(text);
    let label = match dominant {
        Some("assumption") if prescribes(sentence) => Label::Recommendation,
        Some("assumption" | "common-ground") => Label::Claim,
        Some("anecdote" | "testimony" | "statistics") => Label::Evidence,
        _ => Label::Other,
    };
    WrittenSentence {
        text: sentence.to_string(),
        label,
        source_label: Some(dominant.unwrap_or("no-unit").to_string()),
        paragraph: span.paragraph,
        target: None,
        relation: None,
    }
}

/// Phrases of obligation and exhortation that make an opinion a recommendation.
const PRESCRIPTIVE: [&str; 17] = [
    "should",
    "shouldn't",
    "must",
    "mustn't",
    "ought to",
    "need to",
    "needs to",
    "have to",
    "has to",
    "it is time",
    "it's time",
    "let us",
    "let's",
    "we call on",
    "we urge",
    "cannot afford to",
    "can't afford to",
];

/// Whether a sentence prescribes what someone should do: it contains one of [`PRESCRIPTIVE`]
/// as whole words, case aside. An epistemic "must" ("there must be a reason") is miscounted;
/// a check of the rule by hand is in `datasets/README.md`.
pub fn prescribes(sentence: &str) -> bool {
    let words: Vec<String> = sentence
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().replace('’', "'"))
        .collect();
    PRESCRIPTIVE.iter().any(|phrase| {
        let phrase: Vec<&str> = phrase.split(' ').collect();
        words.windows(phrase.len()).any(|w| w == phrase.as_slice())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::SrxSegmenter;

    fn segment(text: &str, label: &str) -> Segment {
        Segment {
            text: text.into(),
            label: label.into(),
        }
    }

    #[test]
    fn a_sentence_takes_the_type_covering_most_of_it() {
        let e = Editorial {
            id: "webis-test-001".into(),
            portal: "test".into(),
            paragraphs: vec![
                vec![segment("Roads first.", "title")],
                vec![
                    segment("On Monday the council met", "anecdote"),
                    segment(",", "no-unit"),
                    segment("and", "no-unit"),
                    segment("it rightly rejected the plan", "assumption"),
                    segment("\\.", "no-unit"),
                    segment("The city should fix its roads first", "assumption"),
                    segment(".", "no-unit"),
                ],
                vec![segment("Subscribe for more.", "no-unit")],
            ],
        };
        let a = article(&e, Split::Dev, &SrxSegmenter::english().unwrap());
        assert_eq!(a.title, "Roads first");
        let got: Vec<(&str, Label, usize)> = a
            .sentences
            .iter()
            .map(|s| (s.text.as_str(), s.label, s.paragraph))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "On Monday the council met, and it rightly rejected the plan.",
                    Label::Claim,
                    0
                ),
                (
                    "The city should fix its roads first.",
                    Label::Recommendation,
                    0
                ),
                ("Subscribe for more.", Label::Other, 1),
            ]
        );
    }

    #[test]
    fn prescriptions_are_whole_words() {
        assert!(prescribes("Europe must act now."));
        assert!(prescribes("It’s time for a change."));
        assert!(!prescribes("The mustard seed grew."));
        assert!(!prescribes("Critics shouldered the blame."));
    }
}
