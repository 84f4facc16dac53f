//! Articles labelled sentence by sentence, with gold links and theses: argmine's news-written
//! articles (`datasets/news-written/*.jsonl`), and the Webis editorials in the same shape
//! (`datasets/webis-editorials.jsonl`, written by [`super::webis`]).

use super::row::{read_jsonl, train_or_dev, with_context, Row, RowContext, RowLink, Split, Unit};
use crate::error::{Error, Result};
use crate::types::{Label, Relation};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The dataset source of the news-written articles.
pub const NEWS_WRITTEN: &str = "argmine-news-written";

/// An article labelled sentence by sentence.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WrittenArticle {
    pub doc_id: String,
    #[serde(default)]
    pub genre: String,
    /// The rows' `source`; absent for the news-written articles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The article's split; absent for the news-written articles, which go to train or dev by
    /// a hash of their id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<Split>,
    pub title: String,
    /// The headline's label; an article without one gives no headline row.
    pub title_label: Option<Label>,
    pub sentences: Vec<WrittenSentence>,
    pub thesis: Option<usize>,
    /// A second sentence that would also be an acceptable thesis (annotated editorials only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thesis_alt: Option<usize>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WrittenSentence {
    pub text: String,
    pub label: Label,
    /// What the label was derived from, when not written directly (the rows' `source_label`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_label: Option<String>,
    pub paragraph: usize,
    pub target: Option<usize>,
    pub relation: Option<Relation>,
}

/// Reads every `*.jsonl` file in `dir`, in name order.
pub fn read(dir: &Path) -> Result<Vec<WrittenArticle>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| Error::Read {
            path: dir.to_path_buf(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        out.extend(read_jsonl::<WrittenArticle>(&path)?);
    }
    Ok(out)
}

/// Sentences and headlines of the articles, in their own split; an article without one goes to
/// dev with a 20% chance (by its id), else to train.
pub fn convert(articles: &[WrittenArticle]) -> Vec<Row> {
    let mut rows = Vec::new();
    for a in articles {
        let split = a.split.unwrap_or_else(|| train_or_dev(&a.doc_id, 20));
        let source = a.source.as_deref().unwrap_or(NEWS_WRITTEN);
        let units = a
            .sentences
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let source_label = s.source_label.as_deref().unwrap_or(s.label.name());
                let mut unit = Unit::new(i, s.text.clone(), s.label, source_label.to_string());
                unit.links = s
                    .target
                    .map(|target| RowLink {
                        target,
                        relation: s.relation.unwrap_or(Relation::Support),
                    })
                    .into_iter()
                    .collect();
                unit.thesis = a.thesis == Some(i);
                unit.thesis_alt = a.thesis_alt == Some(i);
                unit
            })
            .collect();
        if let Some(label) = a.title_label {
            rows.push(Row {
                text: a.title.clone(),
                label,
                source_label: "headline".into(),
                doc_id: a.doc_id.clone(),
                split,
                source: source.into(),
                context: RowContext {
                    title: None,
                    prev: None,
                    next: a.sentences.first().map(|s| s.text.clone()),
                    position: 0.0,
                    is_title: true,
                },
                weight: 1.0,
                unit: None,
                links: Vec::new(),
                thesis: false,
                thesis_alt: false,
                teacher: None,
            });
        }
        rows.extend(with_context(
            units,
            &a.doc_id,
            split,
            source,
            Some(&a.title),
        ));
    }
    rows
}

/// Rebuilds an article's text from its labelled sentences and returns it with the gold
/// sentence spans, in code points: the reference for measuring the segmenter. Sentences of a
/// paragraph are joined by a space, paragraphs by a blank line, and a line without closing
/// punctuation (a heading, a byline, a list item) ends with a line break, as on a page.
pub fn text_and_spans(article: &WrittenArticle) -> (String, Vec<(usize, usize)>) {
    let mut text = String::new();
    let mut chars = 0;
    let mut spans = Vec::new();
    let mut paragraph = None;
    for s in &article.sentences {
        let open_line = !text.ends_with(['.', '!', '?', '…', '"', '”', '’', ')', ']']);
        let sep = match paragraph {
            None => "",
            Some(p) if p != s.paragraph => "\n\n",
            Some(_) if open_line => "\n",
            Some(_) => " ",
        };
        text.push_str(sep);
        chars += sep.chars().count();
        let len = s.text.chars().count();
        spans.push((chars, chars + len));
        text.push_str(&s.text);
        chars += len;
        paragraph = Some(s.paragraph);
    }
    (text, spans)
}
