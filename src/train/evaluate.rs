//! `argmine eval`: each task scores a model on a split of the datasets and returns its report;
//! the caller decides how to print it.

use super::datasets::{self, written, Row, Split};
use super::embed::TextEmbeddings;
use super::graph::{self, Doc, Embedded, ThesisMetrics};
use super::metrics::{self, BoundaryMetrics, LinkMetrics, Metrics};
use crate::choice::{choice_traits, Choice};
use crate::error::{Error, Result};
use crate::ingest::Ingested;
use crate::model::{Classifier, Model};
use crate::pipeline::Pipeline;
use crate::segment::Segmenter;
use crate::types::{Article, Label, Record, Scores};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

/// What `argmine eval` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    Classify,
    Segment,
    Links,
    Thesis,
    Probe,
}

impl Choice for Task {
    const KIND: &'static str = "task";
    const ALL: &'static [Task] = &[
        Task::Classify,
        Task::Segment,
        Task::Links,
        Task::Thesis,
        Task::Probe,
    ];

    fn name(self) -> &'static str {
        match self {
            Task::Classify => "classify",
            Task::Segment => "segment",
            Task::Links => "links",
            Task::Thesis => "thesis",
            Task::Probe => "probe",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Task::Classify => "sentence labels: per-class P/R/F1, macro-F1, confusion matrix, ECE",
            Task::Segment => "sentence boundaries against the gold sentences of written articles",
            Task::Links => {
                "support/attack links: P/R/F1 between the gold units, and of the graphs mined from the text"
            }
            Task::Thesis => "thesis accuracy on the documents with a gold thesis",
            Task::Probe => {
                "the corpus's own unit types (CDCP's five), by a probe fitted on train and dev"
            }
        }
    }
}

choice_traits!(Task);

/// The rows of `split` in the dataset files; none at all is an error.
pub fn split_rows(data: &[PathBuf], split: Split) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for path in data {
        rows.extend(
            datasets::read_rows(path)?
                .into_iter()
                .filter(|r| r.split == split),
        );
    }
    if rows.is_empty() {
        return Err(Error::NothingToEvaluate(
            "no rows of that split in the given data",
        ));
    }
    Ok(rows)
}

/// The texts of `rows` embedded by the classifier's encoder, calling `progress(done, total)`.
fn embed(
    model: &Classifier,
    rows: &[Row],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<TextEmbeddings> {
    TextEmbeddings::of_rows(rows, &model.tokenizer, model.encoder.as_ref(), progress)
}

/// The classifier's probabilities for each row, calling `progress(done, total)` as it embeds
/// their texts.
pub fn predict_rows(
    model: &Classifier,
    rows: &[Row],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<Scores>> {
    model
        .head
        .predict(&embed(model, rows, progress)?.features(rows))
}

/// Sentence-label metrics per source, over all rows (`all`), and over each source's headlines
/// alone (`<source> headlines`).
pub fn classification(model: &Classifier, rows: &[Row]) -> Result<BTreeMap<String, Metrics>> {
    let predictions = predict_rows(model, rows, &mut |_, _| {})?;
    let mut by_source: BTreeMap<String, (Vec<Label>, Vec<Scores>)> = BTreeMap::new();
    for (r, p) in rows.iter().zip(&predictions) {
        let headlines = r
            .context
            .is_title
            .then(|| format!("{} headlines", r.source));
        for key in [Some(r.source.clone()), Some("all".to_string()), headlines]
            .into_iter()
            .flatten()
        {
            let e = by_source.entry(key).or_default();
            e.0.push(r.label);
            e.1.push(*p);
        }
    }
    Ok(by_source
        .into_iter()
        .map(|(k, (g, p))| (k, metrics::evaluate(&g, &p)))
        .collect())
}

/// Link metrics of one source.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceLinks {
    /// With the gold argumentative units as nodes and the gold thesis as root.
    #[serde(flatten)]
    pub metrics: LinkMetrics,
    /// Of the graphs that mining builds from each document's text ([`mined_links`]).
    pub end_to_end: LinkMetrics,
    /// Of [`graph::nearest_claim_links`] on the same nodes and root as `metrics`, with the
    /// model's labels.
    pub nearest_claim_model_labels: LinkMetrics,
    /// The same with the gold labels: what the rule reaches with a perfect classifier (the
    /// same for every model).
    pub nearest_claim_gold_labels: LinkMetrics,
    /// Documents of the source in the split.
    #[serde(skip)]
    pub documents: usize,
}

/// Link metrics at the model's thresholds, per source with gold links.
pub fn links(pipeline: &Pipeline, rows: &[Row]) -> Result<BTreeMap<String, SourceLinks>> {
    let model = pipeline.model();
    let links = &model.graph.links;
    // every document is mined once; a source (and `all`) adds up its documents' counts
    let all_docs = graph::documents(rows);
    let mined: HashMap<&str, [usize; 3]> = all_docs
        .iter()
        .map(|d| d.doc_id.as_str())
        .zip(mined_links(
            pipeline,
            rows,
            &all_docs.iter().collect::<Vec<_>>(),
        ))
        .collect();
    per_source(model, rows, |data, docs| {
        let m = graph::evaluate_links(links, data, docs, &[links.thresholds])?.remove(0);
        if m.gold == 0 {
            return Ok(None);
        }
        let mut end_to_end = LinkMetrics::default();
        for d in docs {
            let [gold, predicted, correct] = mined[d.doc_id.as_str()];
            end_to_end.add(gold, predicted, correct);
        }
        Ok(Some(SourceLinks {
            metrics: m,
            end_to_end,
            nearest_claim_model_labels: graph::nearest_claim_links(data, docs, |i| {
                data.scores[i].best().0
            }),
            nearest_claim_gold_labels: graph::nearest_claim_links(data, docs, |i| {
                data.rows[i].label
            }),
            documents: docs.len(),
        }))
    })
}

/// Link counts `[gold, predicted, correct]` of each document's graph as mining builds it: the
/// document's rows joined by spaces into one text (with its title), mined by `pipeline` as any
/// article, and every mined sentence taken for the row it overlaps most. A predicted edge is
/// right where the gold links those two rows; an article that fails to mine predicts nothing.
pub fn mined_links(pipeline: &Pipeline, rows: &[Row], docs: &[&Doc]) -> Vec<[usize; 3]> {
    let mut counts = Vec::with_capacity(docs.len());
    for chunk in docs.chunks(pipeline.options().chunk_articles.max(1)) {
        // each row's code-point range in its document's text
        let mut ranges: Vec<Vec<(usize, usize)>> = Vec::with_capacity(chunk.len());
        let articles: Vec<Ingested> = chunk
            .iter()
            .map(|doc| {
                let mut text = String::new();
                let mut doc_ranges = Vec::with_capacity(doc.rows.len());
                let mut at = 0;
                for &i in &doc.rows {
                    if !text.is_empty() {
                        text.push(' ');
                        at += 1;
                    }
                    let len = rows[i].text.chars().count();
                    text.push_str(&rows[i].text);
                    doc_ranges.push((at, at + len));
                    at += len;
                }
                ranges.push(doc_ranges);
                Ok(Article {
                    id: doc.doc_id.clone(),
                    title: doc.title.clone(),
                    text,
                    meta: Default::default(),
                })
            })
            .collect();
        for ((doc, doc_ranges), record) in
            chunk.iter().zip(&ranges).zip(pipeline.mine_chunk(articles))
        {
            let gold = graph::gold_links(rows, &graph::gold_nodes(rows, doc));
            let Record::Mined(mined) = record else {
                counts.push([gold.len(), 0, 0]);
                continue;
            };
            // the row a mined sentence stands for: the one it overlaps most
            let row_of = |sentence: usize| {
                let s = &mined.sentences[sentence];
                (0..doc_ranges.len())
                    .map(|k| {
                        let (start, end) = doc_ranges[k];
                        (end.min(s.end).saturating_sub(start.max(s.start)), k)
                    })
                    .filter(|&(overlap, _)| overlap > 0)
                    .max_by_key(|&(overlap, k)| (overlap, std::cmp::Reverse(k)))
                    .map(|(_, k)| doc.rows[k])
            };
            let predicted: HashSet<(usize, usize)> = mined
                .graph
                .edges
                .iter()
                .filter_map(|e| Some((row_of(e.source)?, row_of(e.target)?)))
                .filter(|(a, b)| a != b)
                .collect();
            counts.push([
                gold.len(),
                predicted.len(),
                predicted.intersection(&gold).count(),
            ]);
        }
    }
    counts
}

/// Thesis accuracy, per source with gold theses.
pub fn thesis(model: &Model, rows: &[Row]) -> Result<BTreeMap<String, ThesisMetrics>> {
    per_source(model, rows, |data, docs| {
        let g = &model.graph;
        let m = graph::evaluate_thesis(&g.links, &g.semantic, &g.thesis, data, docs)?;
        Ok((m.documents > 0).then_some(m))
    })
}

/// `score` run on each source's documents, and on all of them (`all`) when there are several
/// sources; a source it gives `None` for is left out, and none left at all is an error.
fn per_source<T>(
    model: &Model,
    rows: &[Row],
    mut score: impl FnMut(&Embedded, &[&Doc]) -> Result<Option<T>>,
) -> Result<BTreeMap<String, T>> {
    let classifier = &model.classifier;
    let data = Embedded::new(
        rows,
        embed(classifier, rows, &mut |_, _| {})?,
        &classifier.head,
    )?;
    let docs = graph::documents(rows);
    let mut by_source: BTreeMap<&str, Vec<&Doc>> = BTreeMap::new();
    for d in &docs {
        by_source.entry(d.source.as_str()).or_default().push(d);
    }
    if by_source.len() > 1 {
        by_source.insert("all", docs.iter().collect());
    }
    let mut out = BTreeMap::new();
    for (source, docs) in &by_source {
        if let Some(report) = score(&data, docs)? {
            out.insert(source.to_string(), report);
        }
    }
    if out.is_empty() {
        return Err(Error::NothingToEvaluate(
            "no documents with gold links or theses in that split",
        ));
    }
    Ok(out)
}

/// Sentence boundaries of `segmenter` against the gold sentences of the written articles in
/// `dirs`.
pub fn segmentation(dirs: &[PathBuf], segmenter: &dyn Segmenter) -> Result<BoundaryMetrics> {
    let (mut gold, mut predicted) = (Vec::new(), Vec::new());
    for dir in dirs {
        for article in written::read(dir)? {
            let (text, spans) = written::text_and_spans(&article);
            predicted.push(
                segmenter
                    .segment(&text)
                    .iter()
                    .map(|s| (s.start, s.end))
                    .collect(),
            );
            gold.push(spans);
        }
    }
    Ok(metrics::boundary_metrics(&gold, &predicted))
}
