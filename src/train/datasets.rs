//! Converters from the raw labelled corpora to argmine's sentence dataset, one JSON row per
//! unit ([`Row`]), and the bundled sample articles.
//!
//! | corpus | unit | mapping |
//! |---|---|---|
//! | CDCP (Park & Cardie 2018) | proposition | policy → recommendation; value → claim; fact, testimony, reference → evidence |
//! | IBM CE-EMNLP15 (Rinott et al. 2015) | article sentence | contains a claim → claim; inside or containing an evidence span → evidence; sampled unannotated sentences → other (weight 0.5); the recast topic serves as title |
//! | IBM motions (source `ibm-motions`) | motion, recast | "This house would X" → recommendation (marked synthetic) |
//! | argmine news-written | sentence and headline | labelled as written |
//!
//! Official test splits stay test (CDCP `test/`, IBM held-out topics). Dev is carved from
//! train by document with a stable hash of the document id, so it never shares a document with
//! train.

use crate::classify::relative_position;
use crate::error::{Error, Result};
use crate::segment::{slice_chars, Segmenter, SrxSegmenter};
pub use crate::types::stable_hash;
use crate::types::{Label, Relation};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Dev,
    Test,
}

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
}

/// A gold argumentative link from a row to another unit of its document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowLink {
    /// The target's [`Row::unit`].
    pub target: usize,
    pub relation: Relation,
}

/// One unit of a document as a converter sees it, before context is attached.
struct Unit {
    index: usize,
    text: String,
    label: Label,
    source_label: String,
    weight: f32,
    links: Vec<RowLink>,
    thesis: bool,
}

impl Unit {
    fn new(index: usize, text: String, label: Label, source_label: String) -> Unit {
        Unit {
            index,
            text,
            label,
            source_label,
            weight: 1.0,
            links: Vec::new(),
            thesis: false,
        }
    }
}

fn one() -> f32 {
    1.0
}

/// Train or dev for a training document: `dev_percent` of documents go to dev.
fn train_or_dev(doc_id: &str, dev_percent: u64) -> Split {
    if stable_hash(doc_id) % 100 < dev_percent {
        Split::Dev
    } else {
        Split::Train
    }
}

/// Rows for a document's units in order, with neighbours as context.
fn with_context(
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
        })
        .collect()
}

fn read_to_string(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

// ---------------------------------------------------------------- CDCP

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
pub fn convert_cdcp(root: &Path) -> Result<Vec<Row>> {
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
            let ann: CdcpAnnotation = crate::model::read_json(&ann_path)?;
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

// ---------------------------------------------------------------- IBM

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
pub fn convert_ibm(root: &Path, segmenter: &SrxSegmenter) -> Result<Vec<Row>> {
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
            });
        }
    }
    Ok(rows)
}

// ---------------------------------------------------------------- news-written

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
pub fn read_written(dir: &Path) -> Result<Vec<WrittenArticle>> {
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
pub fn convert_written(articles: &[WrittenArticle]) -> Vec<Row> {
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

// ---------------------------------------------------------------- samples

/// Restores a Federalist essay from the corpus's tokenised markup: `<c>` comma, `<S>`
/// semicolon, `<p>` full stop, `<l>` line break, with punctuation re-attached. (Question marks
/// and paragraph breaks are not recoverable from the markup.)
pub fn restore_federalist(tokenised: &str) -> String {
    let mut out = String::new();
    for tok in tokenised.split_whitespace() {
        match tok {
            "<c>" => out.push(','),
            "<S>" => out.push(';'),
            "<p>" => out.push('.'),
            "<l>" => out.push('\n'),
            word => {
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push(' ');
                }
                out.push_str(word);
            }
        }
    }
    out.lines().map(str::trim).collect::<Vec<_>>().join("\n\n")
}

/// Writes the sample articles: the seed op-ed and five Federalist essays.
pub fn write_samples(seed: &Path, federalist_csv: &Path, out: &Path) -> Result<()> {
    let write = |name: &str, content: &str| -> Result<()> {
        let path = out.join(name);
        std::fs::write(&path, content).map_err(|source| Error::Write { path, source })
    };
    std::fs::create_dir_all(out).map_err(|source| Error::Write {
        path: out.to_path_buf(),
        source,
    })?;
    write("north-korea-oped.txt", &read_to_string(seed)?)?;
    let csv = read_to_string(federalist_csv)?;
    let mut essays = BTreeMap::new();
    for line in csv.lines().skip(1) {
        let mut f = line.splitn(3, ',');
        if let (Some(num), Some(author), Some(text)) = (f.next(), f.next(), f.next()) {
            essays.insert(
                num.trim().parse::<u32>().unwrap_or(0),
                (author.to_string(), text.to_string()),
            );
        }
    }
    for num in [1, 10, 51, 70, 78] {
        if let Some((author, text)) = essays.get(&num) {
            let body = restore_federalist(text);
            let author = author.to_lowercase();
            let author: String = author
                .chars()
                .enumerate()
                .map(|(i, c)| if i == 0 { c.to_ascii_uppercase() } else { c })
                .collect();
            write(
                &format!("federalist-{num:02}.txt"),
                &format!("The Federalist No. {num}\n\n{author}\n\n{body}\n"),
            )?;
        }
    }
    Ok(())
}

/// Writes rows as JSONL.
pub fn write_rows(path: &Path, rows: &[Row]) -> Result<()> {
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

/// Reads rows written by [`write_rows`].
pub fn read_rows(path: &Path) -> Result<Vec<Row>> {
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

/// Rebuilds an article's text from its labelled sentences and returns it with the gold
/// sentence spans, in code points: the reference for measuring the segmenter. Sentences of a
/// paragraph are joined by a space, paragraphs by a blank line, and a line without closing
/// punctuation (a heading, a byline, a list item) ends with a line break, as on a page.
pub fn written_text_and_spans(article: &WrittenArticle) -> (String, Vec<(usize, usize)>) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn federalist_markup_is_restored() {
        let got = restore_federalist(
            "To the People <l> AFTER an experience <c> you are called <S> so <p> The end <p>",
        );
        assert_eq!(
            got,
            "To the People\n\nAFTER an experience, you are called; so. The end."
        );
    }

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

    #[test]
    fn dev_split_is_stable() {
        assert_eq!(stable_hash("abc"), 0xe71fa2190541574b);
        assert_eq!(train_or_dev("x", 0), Split::Train);
        assert_eq!(train_or_dev("x", 100), Split::Dev);
    }
}
