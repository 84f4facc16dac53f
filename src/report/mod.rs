//! The visual report (`argmine report`): one self-contained HTML file that browses a mined
//! corpus and its argument graphs. The page (`template.html`, inline CSS and JavaScript) reads
//! the corpus from a JSON document embedded in it; `docs/report.md` describes both.
//!
//! The JSON is written as the records stream past, so the report of a large corpus never holds
//! more than one article in memory (failed records, which are small, are kept until the end).
//! Each article becomes a compact array form:
//!
//! ```text
//! {"id", "title", "title_label", "s": [[text, label, [scores], boilerplate, paragraph, start, end], …],
//!  "thesis", "thesis_confidence", "edges": [[source, target, relation, confidence], …]}
//! ```

use crate::types::{round4_f64, Label, MinedArticle, Record, RecordError, Relation};
use serde_json::{json, Value};
use std::io::Write;

const TEMPLATE: &str = include_str!("template.html");
const PLACEHOLDER: &str = "__ARGMINE_DATA__";

/// What went into a report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportSummary {
    pub articles: usize,
    pub failed: usize,
}

/// The compact form of one article.
fn compact(article: &MinedArticle) -> Value {
    let sentences: Vec<Value> = article
        .sentences
        .iter()
        .map(|s| {
            json!([
                s.text,
                s.label.index(),
                s.scores.0.map(round4_f64),
                u8::from(s.boilerplate),
                s.paragraph,
                s.start,
                s.end
            ])
        })
        .collect();
    let edges: Vec<Value> = article
        .graph
        .edges
        .iter()
        .map(|e| {
            json!([
                e.source,
                e.target,
                u8::from(e.relation == Relation::Attack),
                round4_f64(e.confidence)
            ])
        })
        .collect();
    json!({
        "id": article.id,
        "title": article.title.as_ref().map(|t| &t.text),
        "title_label": article.title.as_ref().map(|t| t.label.index()),
        "s": sentences,
        "thesis": article.graph.thesis,
        "thesis_confidence": article.graph.thesis_confidence.map(round4_f64),
        "edges": edges,
    })
}

/// JSON that is safe inside a `<script>` element: every `<` escaped.
fn embed(v: &Value) -> String {
    v.to_string().replace('<', "\\u003c")
}

/// Writes the report of `records` to `out`.
pub fn write_report<W: Write>(
    records: impl IntoIterator<Item = Record>,
    out: &mut W,
) -> std::io::Result<ReportSummary> {
    let (head, tail) = TEMPLATE
        .split_once(PLACEHOLDER)
        .expect("the template has a data placeholder");
    let labels: Vec<&str> = Label::ALL.iter().map(|l| l.name()).collect();
    out.write_all(head.as_bytes())?;
    write!(
        out,
        "{{\"version\":1,\"generator\":{},\"labels\":{},\"articles\":[",
        embed(&json!(format!("argmine {}", env!("CARGO_PKG_VERSION")))),
        embed(&json!(labels))
    )?;
    let mut summary = ReportSummary::default();
    let mut failed: Vec<(String, RecordError)> = Vec::new();
    for record in records {
        match record {
            Record::Mined(a) => {
                if summary.articles > 0 {
                    out.write_all(b",")?;
                }
                out.write_all(embed(&compact(&a)).as_bytes())?;
                summary.articles += 1;
            }
            Record::Failed { id, error } => failed.push((id, error)),
        }
    }
    summary.failed = failed.len();
    let failed: Vec<Value> = failed
        .into_iter()
        .map(|(id, e)| json!({"id": id, "kind": e.kind, "message": e.message}))
        .collect();
    write!(out, "],\"failed\":{}}}", embed(&json!(failed)))?;
    out.write_all(tail.as_bytes())?;
    out.flush()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ErrorKind;

    #[test]
    fn data_is_embedded_once_and_cannot_close_the_script() {
        let failed = Record::Failed {
            id: "x</script><b>".into(),
            error: RecordError {
                kind: ErrorKind::InvalidRecord,
                message: "bad".into(),
            },
        };
        let mut html = Vec::new();
        let summary = write_report([failed], &mut html).unwrap();
        assert_eq!(
            summary,
            ReportSummary {
                articles: 0,
                failed: 1
            }
        );
        let html = String::from_utf8(html).unwrap();
        assert!(!html.contains(PLACEHOLDER));
        assert!(!html.contains("x</script>"));
        let start = html.find("type=\"application/json\">").unwrap() + 24;
        let end = start + html[start..].find("</script>").unwrap();
        let data: Value = serde_json::from_str(&html[start..end]).unwrap();
        assert_eq!(data["failed"][0]["id"], "x</script><b>");
        assert_eq!(data["labels"][2], "recommendation");
    }
}
