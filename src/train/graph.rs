//! Training and evaluation of the graph components ([`crate::graph`]): the link scorer and the
//! thesis scorer.
//!
//! Both learn from the datasets' documents: rows that share a `doc_id` and carry a `unit`
//! index, with gold `links` and (news-written only) a gold `thesis`.
//!
//! - **Links.** Nodes are a document's argumentative units (gold labels). Every candidate pair
//!   (as in inference, [`candidate_pairs`]) is an example labelled support, attack or none. In
//!   IBM documents only evidence is a source, since IBM's claims back the debate topic, which is
//!   not a sentence of the article. Unweighted cross-entropy, so the probabilities stay
//!   calibrated for the decoder; AdamW; early stopping on the dev link F1 after decoding, with
//!   each domain's link threshold (below which a unit stays unattached) chosen on its own dev
//!   documents ([`choose_thresholds`], which can also run alone on a trained scorer).
//! - **Thesis.** Nodes are the units the classifier labels argumentative, as at inference; the
//!   candidates and their features come from [`LinkScorer::thesis_step`], as at inference.
//!   Their similarities in the base encoder's space go through a [`SemanticMap`] fitted first
//!   ([`fit_semantic_map`]) from the model's embeddings of the training texts to the base
//!   encoder's. A conditional logit is fitted by gradient descent on the train documents
//!   where an acceptable thesis (the gold one or its annotated alternative) is a candidate,
//!   maximising the probability of choosing either, as accuracy counts them; once for each
//!   pair of a weight of the documents that are not real news
//!   ([`GraphTraining::thesis_written_weights`]) and an L2 penalty
//!   ([`GraphTraining::thesis_l2`]); the fit with the best real-news dev accuracy is kept. The
//!   thesis scorer can also be refitted alone on a trained link scorer ([`fit_thesis_scorer`]),
//!   which leaves the links untouched.

use super::datasets::{Row, Split};
use super::embed::TextEmbeddings;
use super::head::selection_group;
use super::metrics::LinkMetrics;
use super::optim::{
    adamw, batch_rows, early_stopping, seeded_init, weighted_cross_entropy, Rng, Stopping,
};
use crate::classify::{ContextHead, Domain};
use crate::error::Result;
use crate::graph::features::{
    ArticleTitle, DocShape, TitleWords, Unit, THESIS_FEATURES, THESIS_FEATURE_NAMES,
};
use crate::graph::semantic::SemanticMap;
use crate::graph::{
    candidate_pairs, units_of, GraphModel, LinkConfig, LinkScorer, ThesisScorer, Thresholds,
};
use crate::types::{Label, Relation, Scores};
use candle_core::{DType, Device, Tensor};
use candle_nn::{Optimizer, VarBuilder, VarMap};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A document of the datasets: its rows with a unit index, in unit order.
pub struct Doc {
    pub doc_id: String,
    pub source: String,
    pub split: Split,
    /// Indices into the row list.
    pub rows: Vec<usize>,
    pub title: Option<String>,
    /// Number of units (one past the largest unit index).
    pub length: usize,
}

impl Doc {
    pub fn shape(&self) -> DocShape {
        DocShape {
            length: self.length,
            domain: Domain::of_source(&self.source),
        }
    }
}

/// Groups rows into documents, in order of first appearance.
pub fn documents(rows: &[Row]) -> Vec<Doc> {
    let mut docs: Vec<Doc> = Vec::new();
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        let Some(unit) = r.unit else { continue };
        let d = *by_id.entry(&r.doc_id).or_insert_with(|| {
            docs.push(Doc {
                doc_id: r.doc_id.clone(),
                source: r.source.clone(),
                split: r.split,
                rows: Vec::new(),
                title: r.context.title.clone(),
                length: 0,
            });
            docs.len() - 1
        });
        docs[d].rows.push(i);
        docs[d].length = docs[d].length.max(unit + 1);
    }
    for d in &mut docs {
        d.rows.sort_by_key(|&i| rows[i].unit);
    }
    docs
}

/// Rows with their embeddings and the classifier's probabilities.
pub struct Embedded<'a> {
    pub rows: &'a [Row],
    pub embeddings: TextEmbeddings,
    pub scores: Vec<Scores>,
}

impl<'a> Embedded<'a> {
    pub fn new(rows: &'a [Row], embeddings: TextEmbeddings, head: &ContextHead) -> Result<Self> {
        let scores = head.predict(&embeddings.features(rows))?;
        Ok(Embedded {
            rows,
            embeddings,
            scores,
        })
    }

    /// Scorer units for the given rows of a document.
    fn units(&self, members: &[usize]) -> Vec<Unit<'_>> {
        units_of(members.iter().map(|&i| {
            let r = &self.rows[i];
            (
                r.unit.unwrap_or_default(),
                r.text.as_str(),
                self.embeddings.get(&r.text),
                self.scores[i],
            )
        }))
    }

    /// The document's title with its embedding and its words weighted over the document's
    /// rows, as [`GraphModel::build`] weighs them over an article's sentences.
    fn title(&self, doc: &Doc) -> Option<ArticleTitle<'_>> {
        doc.title.as_deref().map(|t| ArticleTitle {
            embedding: self.embeddings.get(t),
            words: TitleWords::new(t, doc.rows.iter().map(|&i| self.rows[i].text.as_str())),
        })
    }
}

/// The gold argumentative units of a document (the nodes the links are learned and scored on).
pub fn gold_nodes(rows: &[Row], doc: &Doc) -> Vec<usize> {
    doc.rows
        .iter()
        .copied()
        .filter(|&i| rows[i].label.is_argumentative())
        .collect()
}

/// The gold relation of `source → target` (rows), if any.
fn gold_relation(source: &Row, target: &Row) -> Option<Relation> {
    source
        .links
        .iter()
        .find(|l| Some(l.target) == target.unit)
        .map(|l| l.relation)
}

/// Only IBM evidence may be a link source (see the module docs).
fn may_link(source: &Row) -> bool {
    !source.source.starts_with("ibm") || source.label == Label::Evidence
}

/// Settings of graph training.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct GraphTraining {
    pub hidden: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub dropout: f32,
    pub patience: usize,
    /// L2 penalties of the thesis weights to try, strongest first; the first with the best dev
    /// accuracy is kept.
    pub thesis_l2: Vec<f64>,
    /// Weights of the thesis training documents that are not real news (the written
    /// articles, whose theses come early), each tried with every L2 penalty, smallest first.
    #[serde(default = "default_thesis_written_weights")]
    pub thesis_written_weights: Vec<f32>,
    /// How the embedding weights of the thesis scorer are penalised, each tried with every
    /// weight and L2 penalty: `None` leaves the embedding out, a number multiplies the L2
    /// penalty for its weights.
    #[serde(default = "default_thesis_embedding_l2_scales")]
    pub thesis_embedding_l2_scales: Vec<Option<f64>>,
    pub seed: u64,
}

fn default_thesis_written_weights() -> Vec<f32> {
    vec![0.0, 0.3, 1.0]
}

fn default_thesis_embedding_l2_scales() -> Vec<Option<f64>> {
    vec![None, Some(1.0), Some(100.0)]
}

impl Default for GraphTraining {
    fn default() -> Self {
        GraphTraining {
            hidden: 128,
            epochs: 30,
            batch_size: 256,
            learning_rate: 1e-3,
            weight_decay: 0.01,
            dropout: 0.1,
            patience: 4,
            thesis_l2: vec![0.003, 0.001, 0.0003, 0.0001],
            thesis_written_weights: default_thesis_written_weights(),
            thesis_embedding_l2_scales: default_thesis_embedding_l2_scales(),
            seed: 17,
        }
    }
}

/// What graph training reached, saved in `graph-training.json`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct GraphReport {
    pub settings: GraphTraining,
    pub links: LinkReport,
    pub thesis: ThesisReport,
    /// The thresholds when chosen again alone (`argmine train --thresholds-only`) on the
    /// embeddings of that run, with their dev figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<ThresholdChoice>,
}

/// What link training reached.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LinkReport {
    pub train_pairs: usize,
    pub train_links: usize,
    pub epochs: usize,
    /// Per source, at the thresholds chosen with the kept epoch.
    pub dev: BTreeMap<String, LinkMetrics>,
    pub minutes: f64,
}

/// What the thesis fit reached.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ThesisReport {
    pub train_documents: usize,
    /// The fit kept.
    pub kept: ThesisFit,
    /// Every fit tried, with its dev accuracy.
    pub dev_accuracy: Vec<(ThesisFit, f64)>,
    /// The weight of each scalar feature (the embedding weights, if any, are in
    /// `argmine.json`).
    pub weights: BTreeMap<String, f32>,
    pub dev: ThesisMetrics,
    pub minutes: f64,
}

/// Thesis accuracy over documents with a gold thesis. A choice is right when it is the gold
/// thesis or the annotated alternative.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq)]
#[serde(default)]
pub struct ThesisMetrics {
    pub documents: usize,
    pub correct: usize,
    pub accuracy: f64,
    /// Accuracy when any of the three best-scored candidates counts.
    pub top3_accuracy: f64,
    /// Documents whose gold theses the classifier did not label claim or recommendation (so
    /// they could not be chosen).
    pub not_a_candidate: usize,
    /// Baselines: always the first candidate, the last, or the one most similar to the
    /// headline.
    pub first_candidate_accuracy: f64,
    pub last_candidate_accuracy: f64,
    pub headline_similarity_accuracy: f64,
}

/// The settings of one fit of the thesis scorer.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ThesisFit {
    /// Weight of the training documents that are not real news.
    pub written_weight: f32,
    pub l2: f64,
    /// Multiplier of `l2` for the embedding weights; `None`: no embedding weights.
    pub embedding_l2_scale: Option<f64>,
}

/// The trained components.
pub struct TrainedGraph {
    pub model: GraphModel,
    pub config: LinkConfig,
    pub vars: VarMap,
    pub report: GraphReport,
}

/// Link examples of the documents: pair features and labels (0 none, 1 support, 2 attack).
fn link_examples(data: &Embedded, docs: &[&Doc]) -> (Vec<f32>, Vec<u32>, usize) {
    let mut x = Vec::new();
    let mut y = Vec::new();
    let mut width = 0;
    for doc in docs {
        let nodes = gold_nodes(data.rows, doc);
        let units = data.units(&nodes);
        let pairs: Vec<(usize, usize)> = candidate_pairs(&units)
            .into_iter()
            .filter(|&(a, _)| may_link(&data.rows[nodes[a]]))
            .collect();
        if pairs.is_empty() {
            continue;
        }
        let m = crate::graph::pair_matrix(&units, doc.shape(), &pairs);
        width = m.ncols();
        x.extend(m.iter());
        y.extend(pairs.iter().map(|&(a, b)| {
            match gold_relation(&data.rows[nodes[a]], &data.rows[nodes[b]]) {
                None => 0,
                Some(Relation::Support) => 1,
                Some(Relation::Attack) => 2,
            }
        }));
    }
    (x, y, width)
}

/// The gold thesis row of a document, if it has one.
fn gold_thesis(rows: &[Row], doc: &Doc) -> Option<usize> {
    doc.rows.iter().copied().find(|&i| rows[i].thesis)
}

/// The rows of a document that are acceptable theses: the gold thesis and its alternative.
fn acceptable_theses(rows: &[Row], doc: &Doc) -> Vec<usize> {
    doc.rows
        .iter()
        .copied()
        .filter(|&i| rows[i].thesis || rows[i].thesis_alt)
        .collect()
}

/// The gold links `(source, target)` among the rows `members`.
pub fn gold_links(rows: &[Row], members: &[usize]) -> HashSet<(usize, usize)> {
    let mut gold = HashSet::new();
    for &a in members {
        for &b in members {
            if a != b && gold_relation(&rows[a], &rows[b]).is_some() {
                gold.insert((a, b));
            }
        }
    }
    gold
}

/// Link precision, recall and F1 on the documents, with the gold argumentative units as nodes
/// and the gold thesis (where there is one) as the root, for each of `thresholds` (each
/// document decoded at its domain's).
pub fn evaluate_links(
    links: &LinkScorer,
    data: &Embedded,
    docs: &[&Doc],
    thresholds: &[Thresholds],
) -> Result<Vec<LinkMetrics>> {
    let mut metrics = vec![LinkMetrics::default(); thresholds.len()];
    for doc in docs {
        let nodes = gold_nodes(data.rows, doc);
        let units = data.units(&nodes);
        let thesis = gold_thesis(data.rows, doc).and_then(|t| nodes.iter().position(|&i| i == t));
        let pairs = candidate_pairs(&units);
        let probs = links.score(&units, doc.shape(), &pairs)?;
        let gold = gold_links(data.rows, &nodes);
        for (m, threshold) in metrics.iter_mut().zip(thresholds) {
            let predicted: HashSet<(usize, usize)> = links
                .link_tree(
                    &units,
                    doc.shape(),
                    pairs.clone(),
                    probs.clone(),
                    thesis,
                    threshold.of(doc.shape().domain),
                )?
                .into_iter()
                .map(|(a, b, ..)| (nodes[a], nodes[b]))
                .collect();
            m.add(
                gold.len(),
                predicted.len(),
                predicted.intersection(&gold).count(),
            );
        }
    }
    Ok(metrics)
}

/// Link metrics of the nearest-claim baseline ([`nearest_claim_baseline`]) on the same nodes
/// and root as [`evaluate_links`], the units' labels read by `label` (the classifier's or the
/// gold): a learned link scorer has to beat it to be worth its weights.
pub fn nearest_claim_links(
    data: &Embedded,
    docs: &[&Doc],
    label: impl Fn(usize) -> Label,
) -> LinkMetrics {
    let mut metrics = LinkMetrics::default();
    for doc in docs {
        let nodes = gold_nodes(data.rows, doc);
        let thesis = gold_thesis(data.rows, doc).and_then(|t| nodes.iter().position(|&i| i == t));
        let claims: Vec<bool> = nodes.iter().map(|&i| label(i).takes_support()).collect();
        let predicted: HashSet<(usize, usize)> = nearest_claim_baseline(&claims, thesis)
            .into_iter()
            .map(|(a, b)| (nodes[a], nodes[b]))
            .collect();
        let gold = gold_links(data.rows, &nodes);
        metrics.add(
            gold.len(),
            predicted.len(),
            predicted.intersection(&gold).count(),
        );
    }
    metrics
}

/// Links `(source, target)` among units in order, given which are claims or recommendations:
/// every unit but the thesis links to the nearest claim or recommendation before it or, with
/// none before it, to the thesis (without a thesis, to nothing). Evidence mostly backs the
/// claim just before it, and an argument mostly runs on from the point before it.
fn nearest_claim_baseline(claims: &[bool], thesis: Option<usize>) -> Vec<(usize, usize)> {
    let mut last_claim = None;
    let mut links = Vec::new();
    for (a, &claim) in claims.iter().enumerate() {
        if Some(a) != thesis {
            if let Some(target) = last_claim.or(thesis) {
                links.push((a, target));
            }
        }
        if claim {
            last_claim = Some(a);
        }
    }
    links
}

/// The link F1 that training selects on: the mean over the head's selection groups (real news,
/// comments; [`selection_group`]) of each group's mean F1 over its sources; without either
/// group, the mean over every source.
fn selection_f1<'a>(f1_by_source: impl IntoIterator<Item = (&'a str, f64)>) -> f64 {
    let (mut groups, mut all): (BTreeMap<&str, Vec<f64>>, Vec<f64>) = Default::default();
    for (source, f1) in f1_by_source {
        if let Some(group) = selection_group(source) {
            groups.entry(group).or_default().push(f1);
        }
        all.push(f1);
    }
    if groups.is_empty() {
        groups.insert("all", all);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    groups.values().map(|v| mean(v)).sum::<f64>() / groups.len() as f64
}

/// Thresholds tried for each domain of [`Thresholds`]; 0 attaches every unit that has a
/// candidate link.
const THRESHOLDS: [f32; 12] = [
    0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
];

/// The link thresholds chosen on dev, with what they reached.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ThresholdChoice {
    pub thresholds: Thresholds,
    /// The selection F1 ([`selection_f1`]) at those thresholds.
    pub score: f64,
    /// Per source with gold links.
    pub dev: BTreeMap<String, LinkMetrics>,
}

/// For each domain, the threshold of [`THRESHOLDS`] with the best selection F1 of `links` on
/// that domain's `dev` documents (the first of equals); a domain without dev links takes the
/// best over all of them.
pub fn choose_thresholds(
    links: &LinkScorer,
    data: &Embedded,
    dev: &[&Doc],
) -> Result<ThresholdChoice> {
    let mut per_source: BTreeMap<&str, Vec<&Doc>> = BTreeMap::new();
    for &d in dev {
        per_source.entry(d.source.as_str()).or_default().push(d);
    }
    let candidates = THRESHOLDS.map(Thresholds::uniform);
    // sources without gold links do not count
    let mut by_source: BTreeMap<&str, Vec<LinkMetrics>> = BTreeMap::new();
    for (source, docs) in per_source {
        let m = evaluate_links(links, data, &docs, &candidates)?;
        if m[0].gold > 0 {
            by_source.insert(source, m);
        }
    }
    let best = |in_domain: &dyn Fn(&str) -> bool| {
        let score = |k: usize| {
            selection_f1(
                by_source
                    .iter()
                    .filter(|(s, _)| in_domain(s))
                    .map(|(s, m)| (*s, m[k].f1)),
            )
        };
        (0..THRESHOLDS.len()).fold(0, |b, k| if score(k) > score(b) { k } else { b })
    };
    let mut thresholds = Thresholds::uniform(THRESHOLDS[best(&|_| true)]);
    for domain in Domain::ALL {
        if by_source.keys().any(|s| Domain::of_source(s) == domain) {
            thresholds.set(
                domain,
                THRESHOLDS[best(&|s| Domain::of_source(s) == domain)],
            );
        }
    }
    // the index of a source's metrics at its domain's threshold
    let at = |source: &str| {
        let threshold = thresholds.of(Domain::of_source(source));
        THRESHOLDS
            .iter()
            .position(|&t| t == threshold)
            .expect("a tried threshold")
    };
    Ok(ThresholdChoice {
        thresholds,
        score: selection_f1(by_source.iter().map(|(s, m)| (*s, m[at(s)].f1))),
        dev: by_source
            .iter()
            .map(|(s, m)| (s.to_string(), m[at(s)].clone()))
            .collect(),
    })
}

/// A document's thesis candidates and which of them the gold accepts.
struct ThesisProblem {
    /// Each candidate's features.
    features: Vec<Vec<f32>>,
    /// The candidates that are acceptable theses (the gold thesis and its alternative).
    acceptable: Vec<usize>,
}

/// Candidates and the gold candidates of a document, with nodes as at inference (the units
/// the classifier labels argumentative). `None` when the document has no gold thesis.
fn thesis_problem(
    scorer: &LinkScorer,
    semantic: &SemanticMap,
    data: &Embedded,
    doc: &Doc,
) -> Result<Option<ThesisProblem>> {
    if gold_thesis(data.rows, doc).is_none() {
        return Ok(None);
    }
    let accepted = acceptable_theses(data.rows, doc);
    let nodes: Vec<usize> = doc
        .rows
        .iter()
        .copied()
        .filter(|&i| data.scores[i].best().0.is_argumentative())
        .collect();
    let units = data.units(&nodes);
    let step = scorer.thesis_step(&units, doc.shape(), data.title(doc).as_ref(), semantic)?;
    let candidate_row = |k: usize| nodes[step.candidates[k]];
    Ok(Some(ThesisProblem {
        acceptable: (0..step.candidates.len())
            .filter(|&k| accepted.contains(&candidate_row(k)))
            .collect(),
        features: step.features,
    }))
}

/// A training document of the thesis scorer: its candidates' features, the acceptable
/// candidates (never empty), and whether it is real news.
struct ThesisExample {
    features: Vec<Vec<f32>>,
    acceptable: Vec<usize>,
    real: bool,
}

impl ThesisExample {
    /// Its weight in training: 1 for real news, `written_weight` otherwise.
    fn weight(&self, written_weight: f32) -> f64 {
        if self.real {
            1.0
        } else {
            f64::from(written_weight)
        }
    }
}

/// Fits the conditional logit: minimises the mean of `−log Σ_{k acceptable} softmax(w·f)[k]`
/// over the examples, weighted by [`ThesisExample::weight`], plus `l2·|w|²/2`. With one
/// acceptable candidate that is the usual conditional logit; with two, the fit does not push
/// either above the other, as accuracy does not. It runs over the scalar features only or,
/// with an embedding L2 scale, over the embedding too with its weights' penalty multiplied by
/// the scale.
fn fit_thesis(
    examples: &[ThesisExample],
    written_weight: f32,
    l2: f64,
    embedding_l2_scale: Option<f64>,
) -> Vec<f32> {
    let width = match (embedding_l2_scale, examples.first()) {
        (Some(_), Some(e)) => e.features[0].len(),
        _ => THESIS_FEATURES,
    };
    let penalty: Vec<f64> = (0..width)
        .map(|k| {
            if k < THESIS_FEATURES {
                l2
            } else {
                l2 * embedding_l2_scale.unwrap_or(1.0)
            }
        })
        .collect();
    let mut w = vec![0f64; width];
    // all weights 0 leaves the zero scorer
    let total: f64 = examples
        .iter()
        .map(|e| e.weight(written_weight))
        .sum::<f64>()
        .max(f64::MIN_POSITIVE);
    let rate = 0.5;
    for _ in 0..3000 {
        let mut grad: Vec<f64> = w.iter().zip(&penalty).map(|(x, l2)| l2 * x).collect();
        for e in examples {
            let weight = e.weight(written_weight);
            if weight == 0.0 {
                continue;
            }
            let scores: Vec<f64> = e
                .features
                .iter()
                .map(|f| f.iter().zip(&w).map(|(x, w)| *x as f64 * w).sum())
                .collect();
            let max = scores.iter().cloned().fold(f64::MIN, f64::max);
            let exp: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
            let z: f64 = exp.iter().sum();
            let z_acceptable: f64 = e.acceptable.iter().map(|&k| exp[k]).sum();
            for (k, f) in e.features.iter().enumerate() {
                // d/d score_k: p_k − p_k / P(acceptable) when k is acceptable, p_k otherwise
                let target = if e.acceptable.contains(&k) {
                    exp[k] / z_acceptable
                } else {
                    0.0
                };
                let p = exp[k] / z - target;
                for (g, x) in grad.iter_mut().zip(f) {
                    *g += weight * p * *x as f64 / total;
                }
            }
        }
        for (w, g) in w.iter_mut().zip(grad) {
            *w -= rate * g;
        }
    }
    w.iter().map(|&x| x as f32).collect()
}

/// Thesis accuracy of `thesis` (over candidates built with `links`) on the documents with a
/// gold thesis.
pub fn evaluate_thesis(
    links: &LinkScorer,
    semantic: &SemanticMap,
    thesis: &ThesisScorer,
    data: &Embedded,
    docs: &[&Doc],
) -> Result<ThesisMetrics> {
    Ok(thesis_metrics(
        thesis,
        &thesis_problems(links, semantic, data, docs)?,
    ))
}

/// The thesis problems of those of `docs` that have a gold thesis.
fn thesis_problems(
    links: &LinkScorer,
    semantic: &SemanticMap,
    data: &Embedded,
    docs: &[&Doc],
) -> Result<Vec<ThesisProblem>> {
    docs.iter()
        .filter_map(|doc| thesis_problem(links, semantic, data, doc).transpose())
        .collect()
}

/// [`evaluate_thesis`] on problems already built.
fn thesis_metrics(thesis: &ThesisScorer, problems: &[ThesisProblem]) -> ThesisMetrics {
    let title_similarity = THESIS_FEATURE_NAMES
        .iter()
        .position(|&n| n == "semantic_title_similarity")
        .expect("a title-similarity feature");
    let mut m = ThesisMetrics::default();
    let (mut top3, mut first, mut last, mut headline) = (0, 0, 0, 0);
    for problem in problems {
        m.documents += 1;
        if problem.acceptable.is_empty() {
            m.not_a_candidate += 1;
            continue;
        }
        let right = |k: usize| usize::from(problem.acceptable.contains(&k));
        let ranked = thesis.rank(&problem.features);
        m.correct += right(ranked[0].0);
        top3 += ranked
            .iter()
            .take(3)
            .map(|&(k, _)| right(k))
            .max()
            .unwrap_or(0);
        let n = problem.features.len();
        first += right(0);
        last += right(n - 1);
        let similar = (0..n).fold(0, |b, k| {
            if problem.features[k][title_similarity] > problem.features[b][title_similarity] {
                k
            } else {
                b
            }
        });
        headline += right(similar);
    }
    let rate = |k: usize| k as f64 / m.documents.max(1) as f64;
    m.accuracy = rate(m.correct);
    m.top3_accuracy = rate(top3);
    m.first_candidate_accuracy = rate(first);
    m.last_candidate_accuracy = rate(last);
    m.headline_similarity_accuracy = rate(headline);
    m
}

/// Fits the [`SemanticMap`] from the model's embeddings to the base encoder's, both of the
/// same rows. It learns from the texts alone, no label.
pub fn fit_semantic_map(model: &TextEmbeddings, base: &TextEmbeddings) -> SemanticMap {
    assert!(
        model.same_texts(base),
        "both embeddings are of the same rows"
    );
    SemanticMap::fit(model.matrix(), base.matrix(), SEMANTIC_RIDGE)
}

/// L2 penalty of [`fit_semantic_map`]'s regression.
const SEMANTIC_RIDGE: f64 = 0.1;

/// Trains the link scorer and the thesis scorer on the train documents, selecting on dev;
/// `semantic` is [`fit_semantic_map`]'s map for these embeddings.
pub fn train_graph(
    data: &Embedded,
    semantic: SemanticMap,
    settings: &GraphTraining,
    log: &mut dyn FnMut(&str),
    progress: &mut dyn FnMut(usize, usize, f32),
) -> Result<TrainedGraph> {
    let (links, config, vars, link_report) = train_links(data, settings, log, progress)?;
    let (thesis, thesis_report) = fit_thesis_scorer(&links, &semantic, data, settings, log)?;
    Ok(TrainedGraph {
        model: GraphModel {
            links,
            thesis,
            semantic,
        },
        config,
        vars,
        report: GraphReport {
            settings: settings.clone(),
            links: link_report,
            thesis: thesis_report,
            thresholds: None,
        },
    })
}

/// The train and dev documents of the data.
fn splits(docs: &[Doc]) -> (Vec<&Doc>, Vec<&Doc>) {
    let split = |s: Split| docs.iter().filter(|d| d.split == s).collect::<Vec<_>>();
    (split(Split::Train), split(Split::Dev))
}

/// Trains the link scorer, keeping the epoch and threshold with the best mean dev link F1 over
/// the sources.
fn train_links(
    data: &Embedded,
    settings: &GraphTraining,
    log: &mut dyn FnMut(&str),
    progress: &mut dyn FnMut(usize, usize, f32),
) -> Result<(LinkScorer, LinkConfig, VarMap, LinkReport)> {
    let started = std::time::Instant::now();
    let docs = documents(data.rows);
    let (train, dev) = splits(&docs);
    let (x, y, width) = link_examples(data, &train);
    let n = y.len();
    let mut counts = [0f32; 3];
    y.iter().for_each(|&c| counts[c as usize] += 1.0);
    log(&format!(
        "graph: {n} candidate pairs from {} train documents (none {}, support {}, attack {})",
        train.len(),
        counts[0],
        counts[1],
        counts[2]
    ));

    let device = Device::Cpu;
    let mut config = LinkConfig {
        input: data.embeddings.hidden_size(),
        hidden: settings.hidden,
        thresholds: Thresholds::default(),
    };
    let vars = VarMap::new();
    let scorer = LinkScorer::new(VarBuilder::from_varmap(&vars, DType::F32, &device), &config)?;
    let mut rng = Rng::new(settings.seed);
    seeded_init(&vars, &mut rng)?;
    let mut opt = adamw(&vars, settings.learning_rate, settings.weight_decay)?;
    let mut order: Vec<usize> = (0..n).collect();
    let stopping = Stopping {
        epochs: settings.epochs,
        patience: settings.patience,
        budget: None,
    };
    let best = early_stopping(&vars, &stopping, |epoch| {
        rng.shuffle(&mut order);
        let mut loss_sum = 0.0;
        for (b, batch) in order.chunks(settings.batch_size).enumerate() {
            let xb = batch_rows(&x, width, batch, settings.dropout, &mut rng)?;
            let labels: Vec<u32> = batch.iter().map(|&i| y[i]).collect();
            let loss = weighted_cross_entropy(
                &scorer.logits(&xb)?,
                &Tensor::from_vec(labels, batch.len(), &device)?,
                &Tensor::ones(batch.len(), DType::F32, &device)?,
            )?;
            opt.backward_step(&loss)?;
            let l = loss.to_scalar::<f32>()?;
            loss_sum += l as f64 * batch.len() as f64;
            progress(((b + 1) * settings.batch_size).min(n), n, l);
        }
        let choice = choose_thresholds(&scorer, data, &dev)?;
        log(&format!(
            "links epoch {:>2}: train loss {:.4}, dev F1 {:.4} at thresholds {:?} {:?}",
            epoch + 1,
            loss_sum / n.max(1) as f64,
            choice.score,
            choice.thresholds,
            choice
                .dev
                .iter()
                .map(|(k, v)| (k, (v.f1 * 1e4).round() / 1e4))
                .collect::<Vec<_>>()
        ));
        Ok((choice.score, choice))
    })?;
    config.thresholds = best.outcome.thresholds;
    let epochs_run = best.epochs_run;
    let scorer = LinkScorer::new(VarBuilder::from_varmap(&vars, DType::F32, &device), &config)?;
    let report = LinkReport {
        train_pairs: n,
        train_links: (counts[1] + counts[2]) as usize,
        epochs: epochs_run,
        dev: best.outcome.dev,
        minutes: started.elapsed().as_secs_f64() / 60.0,
    };
    Ok((scorer, config, vars, report))
}

/// Fits the thesis scorer on the train documents, with candidates and support features from
/// `links`, once for each written-news weight and L2 penalty of the settings, and keeps the
/// fit with the best dev accuracy (on real news when the dev split has any).
pub fn fit_thesis_scorer(
    links: &LinkScorer,
    semantic: &SemanticMap,
    data: &Embedded,
    settings: &GraphTraining,
    log: &mut dyn FnMut(&str),
) -> Result<(ThesisScorer, ThesisReport)> {
    let started = std::time::Instant::now();
    let docs = documents(data.rows);
    let (train, dev) = splits(&docs);
    let is_real = |d: &Doc| selection_group(&d.source) == Some("real-news");
    let mut examples = Vec::new();
    for d in &train {
        let problem = thesis_problem(links, semantic, data, d)?;
        if let Some(ThesisProblem {
            features,
            acceptable,
        }) = problem.filter(|p| !p.acceptable.is_empty())
        {
            examples.push(ThesisExample {
                features,
                acceptable,
                real: is_real(d),
            });
        }
    }
    let real: Vec<&Doc> = dev.iter().copied().filter(|d| is_real(d)).collect();
    let dev = thesis_problems(
        links,
        semantic,
        data,
        if real.is_empty() { &dev } else { &real },
    )?;
    let mut best: Option<(ThesisFit, ThesisScorer, ThesisMetrics)> = None;
    let mut tried = Vec::new();
    for &written_weight in &settings.thesis_written_weights {
        for &embedding_l2_scale in &settings.thesis_embedding_l2_scales {
            for &l2 in &settings.thesis_l2 {
                let fit = ThesisFit {
                    written_weight,
                    l2,
                    embedding_l2_scale,
                };
                let scorer = ThesisScorer {
                    weights: fit_thesis(&examples, written_weight, l2, embedding_l2_scale),
                };
                let metrics = thesis_metrics(&scorer, &dev);
                log(&format!(
                    "thesis: {fit:?}: dev accuracy {:.4} ({} of {})",
                    metrics.accuracy, metrics.correct, metrics.documents
                ));
                tried.push((fit, metrics.accuracy));
                if best
                    .as_ref()
                    .is_none_or(|b| metrics.accuracy > b.2.accuracy)
                {
                    best = Some((fit, scorer, metrics));
                }
            }
        }
    }
    let (kept, scorer, dev_thesis) = best.expect("at least one thesis setting");
    log(&format!(
        "thesis: {} train documents; kept {kept:?}: dev accuracy {:.4} ({} of {}; first \
         candidate {:.4}, last {:.4})",
        examples.len(),
        dev_thesis.accuracy,
        dev_thesis.correct,
        dev_thesis.documents,
        dev_thesis.first_candidate_accuracy,
        dev_thesis.last_candidate_accuracy
    ));
    let report = ThesisReport {
        train_documents: examples.len(),
        kept,
        dev_accuracy: tried,
        weights: THESIS_FEATURE_NAMES
            .iter()
            .zip(&scorer.weights)
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        dev: dev_thesis,
        minutes: started.elapsed().as_secs_f64() / 60.0,
    };
    Ok((scorer, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three candidates: the first two differ only in feature 1, the third lacks feature 0.
    fn example(acceptable: Vec<usize>) -> ThesisExample {
        let candidate = |f0: f32, f1: f32| {
            let mut f = vec![0f32; THESIS_FEATURES];
            f[0] = f0;
            f[1] = f1;
            f
        };
        ThesisExample {
            features: vec![
                candidate(1.0, 1.0),
                candidate(1.0, -1.0),
                candidate(0.0, 0.0),
            ],
            acceptable,
            real: true,
        }
    }

    #[test]
    fn the_baseline_links_each_unit_to_the_claim_before_it_else_the_thesis() {
        // evidence, claim, evidence, thesis (a claim), evidence
        let claims = [false, true, false, true, false];
        assert_eq!(
            nearest_claim_baseline(&claims, Some(3)),
            vec![(0, 3), (1, 3), (2, 1), (4, 3)]
        );
        // without a thesis, what comes before the first claim stays unattached
        assert_eq!(
            nearest_claim_baseline(&claims, None),
            vec![(2, 1), (3, 1), (4, 3)]
        );
    }

    #[test]
    fn a_thesis_and_its_alternative_are_not_pushed_apart() {
        let both = fit_thesis(&[example(vec![0, 1])], 1.0, 0.01, None);
        assert!(both[0] > 1.0, "acceptable candidates rise: {both:?}");
        assert!(both[1].abs() < 1e-6, "neither is preferred: {both:?}");
        // with the first alone acceptable, what sets it apart from the second is learnt
        let first = fit_thesis(&[example(vec![0])], 1.0, 0.01, None);
        assert!(first[1] > 1.0, "{first:?}");
    }
}
