//! IBM Debater claims and evidence (CE-EMNLP15, Rinott et al. 2015), located in the segmented
//! Wikipedia articles, and the debate motions recast as recommendations.

use super::row::{
    read_to_string, train_or_dev, with_context, Row, RowContext, RowLink, Split, Unit,
};
use crate::classify::relative_position;
use crate::error::Result;
use crate::segment::{Segmenter, SrxSegmenter};
use crate::types::{stable_hash, Label, Relation};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Lower-case letters and digits only, single-spaced: how claim and evidence strings are
/// matched against article sentences (the corpus's strings differ from the articles in
/// punctuation and spacing).
fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&w.to_lowercase());
    }
    out
}

fn tsv_rows(path: &Path) -> Result<Vec<Vec<String>>> {
    Ok(read_to_string(path)?
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').map(|f| f.trim().to_string()).collect())
        .collect())
}

/// Recasts a debate motion as a recommendation sentence.
fn recast_motion(motion: &str) -> String {
    let m = motion.trim();
    let rest = |p: &str| m.strip_prefix(p).map(str::trim);
    let s = if let Some(r) = rest("This house would") {
        format!("We should {r}")
    } else if let Some(r) = rest("This house believes that") {
        r.to_string()
    } else if let Some(r) = rest("This house supports") {
        format!("We should support {r}")
    } else {
        m.to_string()
    };
    let mut chars = s.chars();
    let first = chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>())
        .unwrap_or_default();
    format!("{first}{}.", chars.as_str().trim_end_matches('.'))
}

/// IBM claims and evidence, located in the segmented Wikipedia articles. Annotators marked only
/// material relevant to each topic, so unannotated sentences are only probably "other": at most
/// as many as the annotated ones are sampled per article, with loss weight 0.5.
pub fn convert(root: &Path, segmenter: &SrxSegmenter) -> Result<Vec<Row>> {
    let motions = tsv_rows(&root.join("motions.txt"))?;
    let held_out: HashSet<String> = motions
        .iter()
        .filter(|r| r.get(2).is_some_and(|s| s == "held-out"))
        .map(|r| r[1].clone())
        .collect();
    let mut claims: HashMap<String, Vec<String>> = HashMap::new();
    for r in tsv_rows(&root.join("claims.txt"))? {
        if r.len() >= 2 {
            let c = claims.entry(r[0].clone()).or_default();
            c.push(normalise(&r[1]));
            if let Some(corrected) = r.get(2) {
                c.push(normalise(corrected));
            }
        }
    }
    // (evidence, its type, the claim it backs), all normalised, per topic.
    let mut evidence: HashMap<String, Vec<(String, String, String)>> = HashMap::new();
    for r in tsv_rows(&root.join("evidence.txt"))? {
        if r.len() >= 4 {
            let kind = r[3].trim_matches(['[', ']']).to_lowercase();
            evidence.entry(r[0].clone()).or_default().push((
                normalise(&r[2]),
                kind,
                normalise(&r[1]),
            ));
        }
    }

    let mut rows = Vec::new();
    for m in &motions {
        let doc_id = format!("ibm-motion-{}", m[0]);
        let split = if held_out.contains(&m[1]) {
            Split::Test
        } else {
            train_or_dev(&doc_id, 15)
        };
        let text = recast_motion(&m[1]);
        rows.extend(with_context(
            vec![Unit::new(
                0,
                text,
                Label::Recommendation,
                "motion (synthetic recast)".into(),
            )],
            &doc_id,
            split,
            "ibm-motions",
            None,
        ));
    }

    let mut seen = HashSet::new();
    for a in tsv_rows(&root.join("articles.txt"))? {
        let [topic, _title, article_id] = &a[..] else {
            continue;
        };
        // The debate topic, recast as a headline, stands in for the title: IBM's claims and
        // evidence are defined relative to it, as an op-ed's are relative to its headline.
        let topic_title = recast_motion(topic);
        if !seen.insert((topic.clone(), article_id.clone())) {
            continue;
        }
        let path = root
            .join("articles")
            .join(format!("clean_{article_id}.txt"));
        let Ok(text) = read_to_string(&path) else {
            continue;
        };
        let doc_id = format!("ibm-{article_id}");
        let split = if held_out.contains(topic) {
            Split::Test
        } else {
            train_or_dev(&doc_id, 15)
        };
        let topic_claims = claims.get(topic).map(Vec::as_slice).unwrap_or_default();
        let topic_evidence = evidence.get(topic).map(Vec::as_slice).unwrap_or_default();
        let sentences: Vec<&str> = segmenter
            .segment(&text)
            .iter()
            .map(|s| s.text(&text))
            .collect();
        let normalised: Vec<String> = sentences.iter().map(|s| normalise(s)).collect();
        let matches = |n: &str, e: &str| e.len() >= 20 && (e.contains(n) || n.contains(e));
        let is_claim = |n: &str, c: &str| c.len() >= 10 && n.contains(c);
        let labelled: Vec<Option<(Label, String)>> = normalised
            .iter()
            .map(|n| {
                if n.len() < 20 {
                    return None;
                }
                if let Some((_, kind, _)) = topic_evidence.iter().find(|(e, ..)| matches(n, e)) {
                    return Some((Label::Evidence, format!("evidence ({kind})")));
                }
                topic_claims
                    .iter()
                    .any(|c| is_claim(n, c))
                    .then(|| (Label::Claim, "claim".to_string()))
            })
            .collect();
        // Evidence → claim links: the claim that the corpus pairs with the evidence, where that
        // claim was located in a sentence of the same article.
        let links = |i: usize| -> Vec<RowLink> {
            if !matches!(labelled[i], Some((Label::Evidence, _))) {
                return Vec::new();
            }
            let backed: Vec<&str> = topic_evidence
                .iter()
                .filter(|(e, ..)| matches(&normalised[i], e))
                .map(|(_, _, c)| c.as_str())
                .collect();
            (0..sentences.len())
                .filter(|&j| {
                    matches!(labelled[j], Some((Label::Claim, _)))
                        && backed.iter().any(|c| is_claim(&normalised[j], c))
                })
                .map(|target| RowLink {
                    target,
                    relation: Relation::Support,
                })
                .collect()
        };
        let annotated = labelled.iter().filter(|l| l.is_some()).count();
        if annotated == 0 {
            continue;
        }
        // Deterministic sample of unannotated sentences: those whose hash falls lowest.
        let mut others: Vec<(u64, usize)> = labelled
            .iter()
            .enumerate()
            .filter(|(i, l)| l.is_none() && sentences[*i].split_whitespace().count() >= 4)
            .map(|(i, _)| (stable_hash(&format!("{doc_id}/{i}")), i))
            .collect();
        others.sort();
        let keep_other: HashSet<usize> = others
            .iter()
            .take(annotated.max(2))
            .map(|&(_, i)| i)
            .collect();
        let n = sentences.len();
        for (i, l) in labelled.iter().enumerate() {
            let (label, source_label, weight) = match l {
                Some((label, sl)) => (*label, sl.clone(), 1.0),
                None if keep_other.contains(&i) => (Label::Other, "unannotated".to_string(), 0.5),
                None => continue,
            };
            rows.push(Row {
                text: sentences[i].to_string(),
                label,
                source_label,
                doc_id: doc_id.clone(),
                split,
                source: "ibm-ce-emnlp15".into(),
                context: RowContext {
                    title: Some(topic_title.clone()),
                    prev: i.checked_sub(1).map(|j| sentences[j].to_string()),
                    next: sentences.get(i + 1).map(|s| s.to_string()),
                    position: relative_position(i, n),
                    is_title: false,
                },
                weight,
                unit: Some(i),
                links: links(i),
                thesis: false,
                thesis_alt: false,
                teacher: None,
            });
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn motions_are_recast_as_recommendations() {
        assert_eq!(
            recast_motion("This house would make physical education compulsory"),
            "We should make physical education compulsory."
        );
        assert_eq!(
            recast_motion("This house believes that the sale of violent video games to minors should be banned"),
            "The sale of violent video games to minors should be banned."
        );
    }
}
