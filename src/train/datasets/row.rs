//! The dataset row: one labelled unit with its document context, gold links and split, and
//! the JSONL files that hold rows.

use crate::choice::{choice_traits, Choice};
use crate::classify::relative_position;
use crate::error::{Error, Result};
use crate::types::{stable_hash, Label, Relation, Scores};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// Which part of a corpus a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Dev,
    Test,
}

impl Choice for Split {
    const KIND: &'static str = "split";
    const ALL: &'static [Split] = &[Split::Train, Split::Dev, Split::Test];

    fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Dev => "dev",
            Split::Test => "test",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Split::Train => "what models are fitted on",
            Split::Dev => "what models and settings are chosen on",
            Split::Test => "held out: the official test splits",
        }
    }
}

choice_traits!(Split);

/// What surrounds a unit in its document; the classifier's context inputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RowContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    pub position: f32,
    #[serde(default)]
    pub is_title: bool,
}

/// One labelled unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub text: String,
    pub label: Label,
    pub source_label: String,
    pub doc_id: String,
    pub split: Split,
    pub source: String,
    pub context: RowContext,
    /// Loss weight; below 1 for noisy labels.
    #[serde(default = "one")]
    pub weight: f32,
    /// The unit's index in its document (sentence or proposition number); absent for titles
    /// and for units outside any document structure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<usize>,
    /// The units of the same document that this unit supports or attacks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<RowLink>,
    /// Whether the unit states its document's main standpoint (only news-written marks theses).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub thesis: bool,
    /// Whether the unit is a second acceptable thesis (annotated editorials only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub thesis_alt: bool,
    /// A teacher model's probabilities for this unit, mixed into its training target when
    /// distilling ([`crate::train::distil`]); never stored in the dataset files.
    #[serde(skip)]
    pub teacher: Option<Scores>,
}

/// A gold argumentative link from a row to another unit of its document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowLink {
    /// The target's [`Row::unit`].
    pub target: usize,
    pub relation: Relation,
}

/// One unit of a document as a converter sees it, before context is attached.
pub(super) struct Unit {
    pub(super) index: usize,
    pub(super) text: String,
    pub(super) label: Label,
    pub(super) source_label: String,
    pub(super) weight: f32,
    pub(super) links: Vec<RowLink>,
    pub(super) thesis: bool,
    pub(super) thesis_alt: bool,
}

impl Unit {
    pub(super) fn new(index: usize, text: String, label: Label, source_label: String) -> Unit {
        Unit {
            index,
            text,
            label,
            source_label,
            weight: 1.0,
            links: Vec::new(),
            thesis: false,
            thesis_alt: false,
        }
    }
}

fn one() -> f32 {
    1.0
}

/// Train or dev for a training document: `dev_percent` of documents go to dev.
pub(super) fn train_or_dev(doc_id: &str, dev_percent: u64) -> Split {
    if stable_hash(doc_id) % 100 < dev_percent {
        Split::Dev
    } else {
        Split::Train
    }
}

/// Rows for a document's units in order, with neighbours as context.
pub(super) fn with_context(
    units: Vec<Unit>,
    doc_id: &str,
    split: Split,
    source: &str,
    title: Option<&str>,
) -> Vec<Row> {
    let n = units.len();
    let texts: Vec<String> = units.iter().map(|u| u.text.clone()).collect();
    units
        .into_iter()
        .enumerate()
        .map(|(i, u)| Row {
            text: u.text,
            label: u.label,
            source_label: u.source_label,
            doc_id: doc_id.to_string(),
            split,
            source: source.to_string(),
            context: RowContext {
                title: title.map(str::to_string),
                prev: i.checked_sub(1).map(|j| texts[j].clone()),
                next: texts.get(i + 1).cloned(),
                position: relative_position(i, n),
                is_title: false,
            },
            weight: u.weight,
            unit: Some(u.index),
            links: u.links,
            thesis: u.thesis,
            thesis_alt: u.thesis_alt,
            teacher: None,
        })
        .collect()
}

pub(super) fn read_to_string(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes rows as JSONL.
pub fn write_jsonl<T: Serialize>(path: &Path, rows: &[T]) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })?;
    let mut w = std::io::BufWriter::new(file);
    for r in rows {
        serde_json::to_writer(&mut w, r).map_err(|e| Error::Write {
            path: path.to_path_buf(),
            source: e.into(),
        })?;
        w.write_all(b"\n")?;
    }
    w.flush()?;
    Ok(())
}

/// Reads rows written by [`write_jsonl`].
pub fn read_rows(path: &Path) -> Result<Vec<Row>> {
    read_jsonl(path)
}

/// Reads a JSONL file, one value per non-blank line; a line that does not parse is an error
/// naming it.
pub fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    read_to_string(path)?
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| Error::Dataset {
                path: path.to_path_buf(),
                line: i + 1,
                reason: e.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_split_is_stable() {
        assert_eq!(stable_hash("abc"), 0xe71fa2190541574b);
        assert_eq!(train_or_dev("x", 0), Split::Train);
        assert_eq!(train_or_dev("x", 100), Split::Dev);
    }
}
