//! argmine's news-written articles (`datasets/news-written/*.jsonl`): sentences and headlines
//! labelled as written, with gold links and theses.

use super::row::{read_to_string, train_or_dev, with_context, Row, RowContext, RowLink, Unit};
use crate::error::{Error, Result};
use crate::types::{Label, Relation};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A labelled article written for this project (`datasets/news-written/*.jsonl`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WrittenArticle {
    pub doc_id: String,
    #[serde(default)]
    pub genre: String,
    pub title: String,
    pub title_label: Label,
    pub sentences: Vec<WrittenSentence>,
    pub thesis: Option<usize>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WrittenSentence {
    pub text: String,
    pub label: Label,
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
        for (i, line) in read_to_string(&path)?.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let a: WrittenArticle = serde_json::from_str(line).map_err(|e| Error::Dataset {
                path: path.clone(),
                line: i + 1,
                reason: e.to_string(),
            })?;
            out.push(a);
        }
    }
    Ok(out)
}

/// Sentences and headlines of the written articles; 20% of articles go to dev, none to test.
pub fn convert(articles: &[WrittenArticle]) -> Vec<Row> {
    let mut rows = Vec::new();
    for a in articles {
        let split = train_or_dev(&a.doc_id, 20);
        let units = a
            .sentences
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut unit = Unit::new(i, s.text.clone(), s.label, s.label.name().to_string());
                unit.links = s
                    .target
                    .map(|target| RowLink {
                        target,
                        relation: s.relation.unwrap_or(Relation::Support),
                    })
                    .into_iter()
                    .collect();
                unit.thesis = a.thesis == Some(i);
                unit
            })
            .collect();
        rows.push(Row {
            text: a.title.clone(),
            label: a.title_label,
            source_label: "headline".into(),
            doc_id: a.doc_id.clone(),
            split,
            source: "argmine-news-written".into(),
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
        });
        rows.extend(with_context(
            units,
            &a.doc_id,
            split,
            "argmine-news-written",
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
