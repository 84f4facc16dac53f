//! CDCP (Park & Cardie 2018): user comments on a proposed consumer-debt rule, split into
//! propositions with types and reason/evidence links.

use super::row::{read_to_string, train_or_dev, with_context, Row, RowLink, Split, Unit};
use crate::error::{Error, Result};
use crate::json::read_json;
use crate::segment::slice_chars;
use crate::types::{Label, Relation};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct CdcpAnnotation {
    prop_offsets: Vec<(usize, usize)>,
    prop_labels: Vec<String>,
    /// `[[first, last], target]`: propositions `first..=last` are reasons for `target`.
    #[serde(default)]
    reasons: Option<Vec<((usize, usize), usize)>>,
    /// Same shape: propositions that are evidence for `target`.
    #[serde(default)]
    evidences: Option<Vec<((usize, usize), usize)>>,
}

fn cdcp_label(l: &str) -> Option<Label> {
    match l {
        "policy" => Some(Label::Recommendation),
        "value" => Some(Label::Claim),
        "fact" | "testimony" | "reference" => Some(Label::Evidence),
        _ => None,
    }
}

/// CDCP propositions. Units are the annotated propositions (clauses or sentences), as in the
/// corpus's own evaluation; their neighbours are the previous and next proposition. Reason and
/// evidence links both become support links (CDCP annotates no attacks).
pub fn convert(root: &Path) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for (dir, official) in [("train", Split::Train), ("test", Split::Test)] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .map_err(|source| Error::Read {
                path: root.join(dir),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with(".ann.json"))
            .collect();
        files.sort();
        for ann_path in files {
            let ann: CdcpAnnotation = read_json(&ann_path)?;
            let txt_path = PathBuf::from(ann_path.to_string_lossy().replace(".ann.json", ".txt"));
            let text = read_to_string(&txt_path)?;
            let id = txt_path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let doc_id = format!("cdcp-{id}");
            let split = match official {
                Split::Test => Split::Test,
                _ => train_or_dev(&doc_id, 15),
            };
            let mut links: BTreeMap<usize, Vec<RowLink>> = BTreeMap::new();
            for &((first, last), target) in ann.reasons.iter().chain(&ann.evidences).flatten() {
                for source in first..=last {
                    links.entry(source).or_default().push(RowLink {
                        target,
                        relation: Relation::Support,
                    });
                }
            }
            let units = ann
                .prop_offsets
                .iter()
                .zip(&ann.prop_labels)
                .enumerate()
                .filter_map(|(i, (&(s, e), l))| {
                    let t = slice_chars(&text, s, e).trim().to_string();
                    let label = cdcp_label(l)?;
                    let mut unit = Unit::new(i, t, label, l.clone());
                    unit.links = links.remove(&i).unwrap_or_default();
                    (!unit.text.is_empty()).then_some(unit)
                })
                .collect();
            rows.extend(with_context(units, &doc_id, split, "cdcp", None));
        }
    }
    Ok(rows)
}
