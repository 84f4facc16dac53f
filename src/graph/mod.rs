//! Stage 6: build one argument graph per article — the thesis, and a support edge from every
//! other argumentative sentence towards what it backs.
//!
//! **Thesis.** Among the non-boilerplate sentences labelled claim or recommendation, the thesis
//! maximises
//!
//! ```text
//! s_i = p_i · (1 + w_title·sim(e_i, e_title) + w_central·centrality_i) · (1 − w_pos·pos_i)
//! ```
//!
//! where `p_i = P(claim) + P(recommendation)`, `sim` is cosine similarity of sentence
//! embeddings, `centrality_i` is the mean similarity of sentence `i` to the other claims, and
//! `pos_i ∈ [0, 1]` its relative position (standpoints come early in op-eds). The confidence is
//! `s_thesis / Σ s`, over the candidates. An article with no claim or recommendation has no
//! thesis.
//!
//! **Links.** The graph is a forest rooted at the thesis, built without cycles by construction:
//! claims and recommendations point at the thesis, evidence points at the claim (or the thesis)
//! most similar to it, with a bonus for nearness in the text. Edge confidence combines the
//! source's label probability with that similarity.

use crate::types::{ArgumentGraph, Edge, Label, Relation, Sentence};
use ndarray::{ArrayView1, ArrayView2};

/// Weights of the thesis score (see the module docs).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct GraphConfig {
    pub title_weight: f32,
    pub centrality_weight: f32,
    pub position_weight: f32,
    /// Added to the similarity of a target `d` sentences away: `nearness / (1 + d)`.
    pub nearness: f32,
}

impl Default for GraphConfig {
    fn default() -> Self {
        GraphConfig {
            title_weight: 1.0,
            centrality_weight: 1.0,
            position_weight: 0.5,
            nearness: 0.3,
        }
    }
}

fn dot(a: ArrayView1<f32>, b: ArrayView1<f32>) -> f32 {
    a.dot(&b)
}

/// Builds the graph of one article from its classified sentences, their embeddings (rows in
/// sentence order, unit length) and the title's embedding.
pub fn build_graph(
    sentences: &[Sentence],
    embeddings: ArrayView2<f32>,
    title: Option<ArrayView1<f32>>,
    config: &GraphConfig,
) -> ArgumentGraph {
    let in_graph = |s: &Sentence| !s.boilerplate && s.label.is_argumentative();
    let candidates: Vec<usize> = sentences
        .iter()
        .filter(|s| in_graph(s) && matches!(s.label, Label::Claim | Label::Recommendation))
        .map(|s| s.index)
        .collect();
    if candidates.is_empty() {
        return ArgumentGraph::default();
    }
    let n = sentences.len().max(2) as f32 - 1.0;
    let scores: Vec<f32> = candidates
        .iter()
        .map(|&i| {
            let s = &sentences[i];
            let p = s.scores.get(Label::Claim) + s.scores.get(Label::Recommendation);
            let title_sim = title.map_or(0.0, |t| dot(embeddings.row(i), t).max(0.0));
            let centrality = if candidates.len() > 1 {
                candidates
                    .iter()
                    .filter(|&&j| j != i)
                    .map(|&j| dot(embeddings.row(i), embeddings.row(j)).max(0.0))
                    .sum::<f32>()
                    / (candidates.len() - 1) as f32
            } else {
                0.0
            };
            let pos = i as f32 / n;
            p * (1.0 + config.title_weight * title_sim + config.centrality_weight * centrality)
                * (1.0 - config.position_weight * pos)
        })
        .collect();
    let (best, _) =
        scores.iter().enumerate().fold(
            (0, f32::MIN),
            |acc, (k, &s)| if s > acc.1 { (k, s) } else { acc },
        );
    let thesis = candidates[best];
    let total: f32 = scores.iter().sum();

    let mut edges = Vec::new();
    for s in sentences
        .iter()
        .filter(|s| in_graph(s) && s.index != thesis)
    {
        let (target, sim) = match s.label {
            Label::Evidence => candidates
                .iter()
                .filter(|&&j| j == thesis || sentences[j].label == Label::Claim)
                .map(|&j| {
                    let near = config.nearness / (1.0 + s.index.abs_diff(j) as f32);
                    (j, dot(embeddings.row(s.index), embeddings.row(j)) + near)
                })
                .fold(
                    (thesis, f32::MIN),
                    |acc, c| if c.1 > acc.1 { c } else { acc },
                ),
            _ => (thesis, dot(embeddings.row(s.index), embeddings.row(thesis))),
        };
        edges.push(Edge {
            source: s.index,
            target,
            relation: Relation::Support,
            confidence: s.confidence * sim.clamp(0.0, 1.0).sqrt(),
        });
    }
    ArgumentGraph {
        thesis: Some(thesis),
        thesis_confidence: Some(scores[best] / total.max(f32::EPSILON)),
        edges,
    }
}
