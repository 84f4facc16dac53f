//! Stage 5: build one argument graph per article — the thesis, and a support or attack edge
//! from each other argumentative sentence towards what it backs, where that link is confident
//! enough.
//!
//! The nodes are the non-boilerplate sentences labelled claim, evidence or recommendation.
//!
//! 1. **Links are scored pairwise.** For every node and every other node within
//!    [`MAX_LINK_DISTANCE`] sentences, a learned [`LinkScorer`] gives the probabilities that the
//!    first supports the second, attacks it, or neither (features in [`features`]). It is
//!    trained on CDCP's reason and evidence links, IBM's claim–evidence pairs and argmine's
//!    written news articles.
//! 2. **The thesis is chosen** among the claims and recommendations by a learned conditional
//!    logit ([`ThesisScorer`]): `P(thesis = i) = softmax_i(w · f_i)` over the candidates, with
//!    `f_i` the label probabilities, similarity to the title and centrality among the
//!    argumentative sentences (also in the base encoder's space, [`semantic`]), position from
//!    the start and from the end, and predicted support flowing in. Its probability is the
//!    thesis confidence. An article with no claim or recommendation has no
//!    thesis.
//! 3. **Links are decoded into a forest whose main tree is rooted at the thesis**: every other
//!    node gets at most one target, chosen as the maximum spanning arborescence ([`decode`])
//!    over the link log-odds, so there are no cycles. A node may instead stay unattached, at
//!    the log-odds of the link threshold ([`Thresholds`], tuned on dev): it is
//!    attached only where that beats leaving it out, so a weak link is not shown as structure.
//!    The thesis is always a candidate target, however far away. The edge's relation is the
//!    likelier of support and attack and its confidence that relation's probability.
//!
//! For corpora without a thesis (the evaluation on CDCP), the same decoder runs with no thesis,
//! and every link ends wherever it is confident enough.

pub mod decode;
pub mod features;
pub mod semantic;

use crate::classify::Domain;
use crate::error::Result;
use crate::mlp::Mlp;
use crate::types::{ArgumentGraph, Edge, Relation, Scores, Sentence};
use candle_core::{Device, Tensor};
use candle_nn::VarBuilder;
use decode::{arborescence, ScoredEdge};
use features::{
    markers, pair_width, write_pair, ArticleTitle, DocShape, ThesisCandidate, TitleWords, Unit,
    MAX_LINK_DISTANCE,
};
use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use semantic::SemanticMap;
use serde::{Deserialize, Serialize};

/// Shape of the link scorer, saved in `argmine.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkConfig {
    /// Embedding size of the encoder.
    pub input: usize,
    /// Width of the hidden layer.
    pub hidden: usize,
    #[serde(default)]
    pub thresholds: Thresholds,
}

/// Link probability below which a unit stays unattached rather than linked, per domain, each
/// chosen for link F1 on that domain's dev documents. Mining always decodes as news; the other
/// domains serve evaluation on their corpora. A missing value is 0: every unit is attached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    pub news: f32,
    pub comment: f32,
    pub encyclopedia: f32,
}

impl Thresholds {
    /// The same threshold in every domain.
    pub fn uniform(threshold: f32) -> Self {
        Thresholds {
            news: threshold,
            comment: threshold,
            encyclopedia: threshold,
        }
    }

    pub fn of(&self, domain: Domain) -> f32 {
        match domain {
            Domain::News => self.news,
            Domain::Comment => self.comment,
            Domain::Encyclopedia => self.encyclopedia,
        }
    }

    pub fn set(&mut self, domain: Domain, threshold: f32) {
        match domain {
            Domain::News => self.news = threshold,
            Domain::Comment => self.comment = threshold,
            Domain::Encyclopedia => self.encyclopedia = threshold,
        }
    }
}

/// The link scorer: an [`Mlp`] over [`features::write_pair`]'s features, giving logits for no
/// link, support and attack.
pub struct LinkScorer {
    mlp: Mlp,
    pub thresholds: Thresholds,
}

/// Probabilities of a candidate link: `[none, support, attack]`.
pub type LinkProbs = [f32; 3];

/// Pairs scored per forward pass, to bound memory on long articles.
const PAIR_CHUNK: usize = 2048;

impl LinkScorer {
    /// Weights are `fc1.{weight,bias}` and `fc2.{weight,bias}` under `vb`.
    pub fn new(vb: VarBuilder, config: &LinkConfig) -> Result<Self> {
        Ok(LinkScorer {
            mlp: Mlp::new(vb, pair_width(config.input), config.hidden, 3)?,
            thresholds: config.thresholds,
        })
    }

    /// Raw logits `[rows, 3]`; differentiable.
    pub fn logits(&self, features: &Tensor) -> candle_core::Result<Tensor> {
        self.mlp.logits(features)
    }

    /// Probabilities of the links `units[a] → units[b]` for each `(a, b)` in `pairs`.
    ///
    /// The first layer's product with a pair's features is the sum of its products with the
    /// source's embedding, the target's and the rest ([`features::write_pair`]'s blocks); the
    /// first two are computed once per unit rather than once per pair, which halves the work
    /// on an article, where each unit is in dozens of pairs.
    pub fn score(
        &self,
        units: &[Unit],
        doc: DocShape,
        pairs: &[(usize, usize)],
    ) -> Result<Vec<LinkProbs>> {
        let Some(first) = units.first() else {
            return Ok(Vec::new());
        };
        let h = first.embedding.len();
        let (weight, bias) = self.mlp.first_layer();
        // Transposed views of the weight's column blocks: the product reads them by stride.
        let part = |from: usize, width: usize| weight.narrow(1, from, width)?.t();
        let embeddings: Vec<f32> = units
            .iter()
            .flat_map(|u| u.embedding.iter().copied())
            .collect();
        let embeddings = Tensor::from_vec(embeddings, (units.len(), h), &Device::Cpu)?;
        let sources = embeddings.matmul(&part(0, h)?)?;
        let targets = embeddings.matmul(&part(h, h)?)?;
        let rest = part(2 * h, features::interaction_width(h))?;
        let mut out = Vec::with_capacity(pairs.len());
        for chunk in pairs.chunks(PAIR_CHUNK) {
            let index = |side: fn(&(usize, usize)) -> usize| {
                let index: Vec<u32> = chunk.iter().map(|p| side(p) as u32).collect();
                Tensor::from_vec(index, chunk.len(), &Device::Cpu)
            };
            let interactions = interaction_matrix(units, doc, chunk);
            let interactions = Tensor::from_slice(
                interactions.as_slice().expect("standard layout"),
                interactions.dim(),
                &Device::Cpu,
            )?;
            let mut hidden = (interactions.matmul(&rest)?
                + sources.index_select(&index(|p| p.0)?, 0)?
                + targets.index_select(&index(|p| p.1)?, 0)?)?;
            if let Some(bias) = bias {
                hidden = hidden.broadcast_add(bias)?;
            }
            let p = self.mlp.probabilities_after_first_layer(&hidden, 1.0)?;
            out.extend(p.into_iter().map(|p| [p[0], p[1], p[2]]));
        }
        Ok(out)
    }

    /// The first step of graph building, shared by inference and thesis training: scores the
    /// candidate links among `units` and lists the thesis candidates with their features
    /// (similarities in the base encoder's space through `semantic`).
    pub fn thesis_step(
        &self,
        units: &[Unit],
        doc: DocShape,
        title: Option<&ArticleTitle>,
        semantic: &SemanticMap,
    ) -> Result<ThesisStep> {
        let pairs = candidate_pairs(units);
        let probs = self.score(units, doc, &pairs)?;
        let (candidates, features) =
            thesis_candidates(units, title, doc.length, &pairs, &probs, semantic)
                .into_iter()
                .map(|(unit, candidate)| (unit, candidate.features()))
                .unzip();
        Ok(ThesisStep {
            pairs,
            probs,
            candidates,
            features,
        })
    }
}

/// The scored candidate links of a document and its thesis candidates
/// ([`LinkScorer::thesis_step`]).
pub struct ThesisStep {
    pub pairs: Vec<(usize, usize)>,
    pub probs: Vec<LinkProbs>,
    /// The thesis candidates (units labelled claim or recommendation), in unit order.
    pub candidates: Vec<usize>,
    /// Each candidate's features ([`ThesisCandidate::features`]).
    pub features: Vec<Vec<f32>>,
}

/// The thesis scorer: one weight per feature of [`ThesisCandidate::features`], stored in
/// `argmine.json` so it can be read. It may stop after the scalars, giving the embedding no
/// weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThesisScorer {
    pub weights: Vec<f32>,
}

impl ThesisScorer {
    /// The candidates from the most to the least likely thesis, each with its softmax
    /// probability among the candidates; ties keep candidate order.
    pub fn rank(&self, candidates: &[Vec<f32>]) -> Vec<(usize, f32)> {
        let scores: Vec<f32> = candidates.iter().map(|c| self.score(c)).collect();
        let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let total: f32 = scores.iter().map(|s| (s - max).exp()).sum();
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
        order
            .into_iter()
            .map(|k| (k, (scores[k] - max).exp() / total))
            .collect()
    }

    /// The likeliest candidate and its probability (see [`ThesisScorer::rank`]).
    pub fn choose(&self, candidates: &[Vec<f32>]) -> Option<(usize, f32)> {
        self.rank(candidates).first().copied()
    }

    pub fn score(&self, features: &[f32]) -> f32 {
        features.iter().zip(&self.weights).map(|(f, w)| f * w).sum()
    }
}

/// Graph settings and thesis weights, saved in `argmine.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphMeta {
    pub link: LinkConfig,
    pub thesis: ThesisScorer,
}

/// The learned graph components of a model.
pub struct GraphModel {
    pub links: LinkScorer,
    pub thesis: ThesisScorer,
    pub semantic: SemanticMap,
}

/// Candidate links among `units`: every ordered pair at most [`MAX_LINK_DISTANCE`] sentences
/// apart, in a fixed order.
pub fn candidate_pairs(units: &[Unit]) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    for (a, u) in units.iter().enumerate() {
        for (b, v) in units.iter().enumerate() {
            if a != b && u.index.abs_diff(v.index) <= MAX_LINK_DISTANCE {
                pairs.push((a, b));
            }
        }
    }
    pairs
}

/// The thesis candidates among `units` (those labelled claim or recommendation), as
/// (unit, candidate) pairs. `pairs` and `probs` are the scored candidate links.
fn thesis_candidates<'a>(
    units: &[Unit<'a>],
    title: Option<&ArticleTitle>,
    length: usize,
    pairs: &[(usize, usize)],
    probs: &[LinkProbs],
    semantic: &SemanticMap,
) -> Vec<(usize, ThesisCandidate<'a>)> {
    let m = units.len();
    let mut support_in = vec![0f32; m];
    for (&(_, b), p) in pairs.iter().zip(probs) {
        support_in[b] += 1.0 - p[0];
    }
    let chosen: Vec<usize> = (0..m)
        .filter(|&a| units[a].scores.best().0.takes_support())
        .collect();
    if chosen.is_empty() {
        return Vec::new();
    }
    let embeddings: Vec<ArrayView1<f32>> = units.iter().map(|u| u.embedding).collect();
    let rows = ndarray::stack(Axis(0), &embeddings).expect("unit embeddings of one width");
    let projected = semantic.project_rows(rows.view());
    let semantic_title = title.map(|t| semantic.project(t.embedding));
    let mean = semantic::unit_length(projected.sum_axis(Axis(0)));
    chosen
        .iter()
        .enumerate()
        .map(|(k, &a)| {
            let u = &units[a];
            let centrality = if m > 1 {
                units
                    .iter()
                    .enumerate()
                    .filter(|&(b, _)| b != a)
                    .map(|(_, v)| u.embedding.dot(&v.embedding))
                    .sum::<f32>()
                    / (m - 1) as f32
            } else {
                0.0
            };
            let candidate = ThesisCandidate {
                scores: u.scores,
                title_similarity: title.map_or(0.0, |t| u.embedding.dot(&t.embedding)),
                centrality,
                semantic_title_similarity: semantic_title
                    .as_ref()
                    .map_or(0.0, |t| projected.row(a).dot(t)),
                semantic_centrality: projected.row(a).dot(&mean),
                title_overlap: title.map_or(0.0, |t| t.words.overlap(u.text)),
                position: crate::classify::relative_position(u.index, length),
                sentences_after: length.saturating_sub(u.index + 1),
                candidates_before: k,
                candidates_after: chosen.len() - 1 - k,
                support_in: support_in[a] / (m.max(2) - 1) as f32,
                markers: u.markers,
                embedding: u.embedding,
            };
            (a, candidate)
        })
        .collect()
}

/// A decoded link between units: `(source, target, relation, confidence)`.
pub type DecodedLink = (usize, usize, Relation, f32);

/// Decodes scored candidate links among `m` units into a forest (see the module docs): every
/// unit but the `thesis` gets at most one target, and is left without one where that scores
/// better in the arborescence than any target (leaving out is scored at the log-odds of
/// `threshold`).
pub fn decode_links(
    m: usize,
    pairs: &[(usize, usize)],
    probs: &[LinkProbs],
    thesis: Option<usize>,
    threshold: f32,
) -> Vec<DecodedLink> {
    let log_odds = |p: f32| {
        let p = p.clamp(1e-6, 1.0 - 1e-6);
        (p / (1.0 - p)).ln()
    };
    // the thesis has no target; node `m` is where unattached units (and the thesis) end
    let (mut edges, mut edge_probs): (Vec<ScoredEdge>, Vec<LinkProbs>) = pairs
        .iter()
        .zip(probs)
        .filter(|(&(a, _), _)| thesis != Some(a))
        .map(|(&(a, b), p)| {
            let edge = ScoredEdge {
                from: a,
                to: b,
                score: log_odds(1.0 - p[0]),
            };
            (edge, *p)
        })
        .unzip();
    for a in 0..m {
        edges.push(ScoredEdge {
            from: a,
            to: m,
            score: log_odds(threshold),
        });
        edge_probs.push([1.0, 0.0, 0.0]);
    }
    arborescence(m + 1, m, &edges)
        .expect("every unit has an edge to the root")
        .into_iter()
        .flatten()
        .filter(|&k| edges[k].to < m)
        .map(|k| {
            let p = edge_probs[k];
            let (relation, confidence) = if p[2] > p[1] {
                (Relation::Attack, p[2])
            } else {
                (Relation::Support, p[1])
            };
            (edges[k].from, edges[k].to, relation, confidence)
        })
        .collect()
}

impl GraphModel {
    /// Builds the graph of one article from its classified sentences, their embeddings (rows
    /// in sentence order, unit length) and the title with its embedding.
    pub fn build(
        &self,
        sentences: &[Sentence],
        embeddings: ArrayView2<f32>,
        title: Option<(&str, ArrayView1<f32>)>,
    ) -> Result<ArgumentGraph> {
        let article = sentences.iter().filter(|s| !s.boilerplate);
        let title = title.map(|(text, embedding)| ArticleTitle {
            embedding,
            words: TitleWords::new(text, article.clone().map(|s| s.text.as_str())),
        });
        let units = units_of(
            article
                .filter(|s| s.label.is_argumentative())
                .map(|s| (s.index, s.text.as_str(), embeddings.row(s.index), s.scores)),
        );
        let doc = DocShape {
            length: sentences.len(),
            domain: Domain::News,
        };
        let step = self
            .links
            .thesis_step(&units, doc, title.as_ref(), &self.semantic)?;
        let Some((best, confidence)) = self.thesis.choose(&step.features) else {
            return Ok(ArgumentGraph::default());
        };
        let thesis = step.candidates[best];
        let mut edges: Vec<Edge> = self
            .links
            .link_tree(
                &units,
                doc,
                step.pairs,
                step.probs,
                Some(thesis),
                self.links.thresholds.news,
            )?
            .into_iter()
            .map(|(a, b, relation, confidence)| Edge {
                source: units[a].index,
                target: units[b].index,
                relation,
                confidence,
            })
            .collect();
        edges.sort_by_key(|e| e.source);
        Ok(ArgumentGraph {
            thesis: Some(units[thesis].index),
            thesis_confidence: Some(confidence),
            edges,
        })
    }
}

impl LinkScorer {
    /// Decodes the scored candidate links among `units` ([`decode_links`]). With a thesis, the
    /// links from units further than [`MAX_LINK_DISTANCE`] from it are scored first, so that
    /// the thesis is a candidate target for every unit.
    pub fn link_tree(
        &self,
        units: &[Unit],
        doc: DocShape,
        mut pairs: Vec<(usize, usize)>,
        mut probs: Vec<LinkProbs>,
        thesis: Option<usize>,
        threshold: f32,
    ) -> Result<Vec<DecodedLink>> {
        if let Some(t) = thesis {
            let far: Vec<(usize, usize)> = (0..units.len())
                .filter(|&a| units[a].index.abs_diff(units[t].index) > MAX_LINK_DISTANCE)
                .map(|a| (a, t))
                .collect();
            probs.extend(self.score(units, doc, &far)?);
            pairs.extend(far);
        }
        Ok(decode_links(units.len(), &pairs, &probs, thesis, threshold))
    }
}

/// Unit features for a document's units given in order as index, text, embedding row and
/// scores; inference reads them from [`Sentence`]s, training and evaluation from datasets.
pub fn units_of<'a>(
    items: impl IntoIterator<Item = (usize, &'a str, ArrayView1<'a, f32>, Scores)>,
) -> Vec<Unit<'a>> {
    let mut claims_before = 0.0;
    items
        .into_iter()
        .enumerate()
        .map(|(ordinal, (index, text, embedding, scores))| {
            let unit = Unit {
                index,
                text,
                embedding,
                scores,
                markers: markers(text),
                ordinal,
                claims_before,
            };
            claims_before += unit.claim_mass();
            unit
        })
        .collect()
}

/// The features of each pair `units[a] → units[b]`, one row per pair.
pub fn pair_matrix(units: &[Unit], doc: DocShape, pairs: &[(usize, usize)]) -> Array2<f32> {
    let width = units.first().map_or(0, |u| pair_width(u.embedding.len()));
    pair_rows(units, doc, pairs, width, write_pair)
}

/// [`features::write_interactions`] of each pair, one row per pair.
fn interaction_matrix(units: &[Unit], doc: DocShape, pairs: &[(usize, usize)]) -> Array2<f32> {
    let width = units
        .first()
        .map_or(0, |u| features::interaction_width(u.embedding.len()));
    pair_rows(units, doc, pairs, width, features::write_interactions)
}

fn pair_rows(
    units: &[Unit],
    doc: DocShape,
    pairs: &[(usize, usize)],
    width: usize,
    write: fn(&mut [f32], &Unit, &Unit, DocShape),
) -> Array2<f32> {
    let mut x = Array2::zeros((pairs.len(), width));
    for (mut row, &(a, b)) in x.rows_mut().into_iter().zip(pairs) {
        write(
            row.as_slice_mut().expect("standard layout"),
            &units[a],
            &units[b],
            doc,
        );
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoring_in_parts_equals_the_network_on_whole_pair_features() {
        let config = LinkConfig {
            input: 8,
            hidden: 16,
            thresholds: Thresholds::default(),
        };
        let vars = candle_nn::VarMap::new();
        let vb = VarBuilder::from_varmap(&vars, candle_core::DType::F32, &Device::Cpu);
        let scorer = LinkScorer::new(vb, &config).unwrap();
        let embeddings = Array2::from_shape_fn((4, 8), |(i, j)| ((i * 8 + j) as f32 * 0.37).sin());
        let units = units_of((0..4).map(|i| {
            let scores = Scores([0.4, 0.3, 0.2, 0.1]);
            (2 * i, "However, this follows.", embeddings.row(i), scores)
        }));
        let doc = DocShape {
            length: 9,
            domain: Domain::News,
        };
        let pairs = candidate_pairs(&units);
        let parts = scorer.score(&units, doc, &pairs).unwrap();
        let whole = scorer
            .mlp
            .probabilities(&pair_matrix(&units, doc, &pairs), 1.0)
            .unwrap();
        assert_eq!(parts.len(), 12);
        for (p, w) in parts.iter().zip(&whole) {
            for (p, w) in p.iter().zip(w) {
                assert!((p - w).abs() < 1e-5, "{p} vs {w}");
            }
        }
    }

    #[test]
    fn a_link_sees_the_units_and_the_claims_between_its_ends() {
        let embeddings = Array2::from_shape_fn((4, 2), |(i, j)| (i + j) as f32);
        let claim = Scores([0.8, 0.1, 0.05, 0.05]);
        let evidence = Scores([0.1, 0.8, 0.05, 0.05]);
        // sentences 0 and 5 are claims, 2 and 9 evidence; the others are not units
        let units = units_of(
            [(0, claim), (2, evidence), (5, claim), (9, evidence)]
                .into_iter()
                .enumerate()
                .map(|(k, (index, scores))| (index, "", embeddings.row(k), scores)),
        );
        let doc = DocShape {
            length: 12,
            domain: Domain::News,
        };
        let between = |a: usize, b: usize| {
            let x = pair_matrix(&units, doc, &[(a, b)]);
            let n = x.ncols();
            [x[[0, n - 3]], x[[0, n - 2]], x[[0, n - 1]]]
        };
        let log_units = |d: f32| (1.0 + d).ln() / (1.0 + MAX_LINK_DISTANCE as f32).ln();
        let [adjacent, apart, claims] = between(3, 2);
        assert_eq!(adjacent, 1.0, "sentences 9 and 5 are neighbouring units");
        assert!((apart + log_units(1.0)).abs() < 1e-6, "one unit back");
        assert_eq!(claims, 0.0, "the nearest claim before the evidence");
        let [adjacent, apart, claims] = between(3, 0);
        assert_eq!(adjacent, 0.0);
        assert!((apart + log_units(3.0)).abs() < 1e-6, "three units back");
        assert!(
            (claims - log_units(0.85 + 0.15)).abs() < 1e-6,
            "a claim between"
        );
        assert_eq!(
            between(0, 3)[2],
            claims,
            "the same units lie between either way"
        );
    }

    /// Probabilities `[none, support, attack]` of a support link with probability `p`.
    fn support(p: f32) -> LinkProbs {
        [1.0 - p, p, 0.0]
    }

    #[test]
    fn a_unit_whose_links_are_all_weak_stays_unattached() {
        // 1 → 0 (thesis) is confident; 2's only links are weak
        let pairs = [(1, 0), (2, 0), (2, 1)];
        let probs = [support(0.9), support(0.05), support(0.08)];
        let links = decode_links(3, &pairs, &probs, Some(0), 0.1);
        assert_eq!(links.len(), 1);
        assert_eq!((links[0].0, links[0].1), (1, 0));
        assert_eq!(links[0].2, Relation::Support);
    }

    #[test]
    fn at_threshold_zero_every_unit_with_a_candidate_link_is_attached() {
        let pairs = [(1, 0), (2, 0), (2, 1)];
        let probs = [support(0.9), support(0.05), support(0.08)];
        let links = decode_links(3, &pairs, &probs, Some(0), 0.0);
        let targets: Vec<(usize, usize)> = links.iter().map(|l| (l.0, l.1)).collect();
        assert_eq!(targets, [(1, 0), (2, 1)]);
    }

    #[test]
    fn an_attached_unit_takes_the_likelier_relation_and_its_probability() {
        // 2 reaches the thesis only through 1, and 1 → 0 is confident
        let pairs = [(1, 0), (2, 1)];
        let probs = [support(0.8), [0.3, 0.2, 0.5]];
        let links = decode_links(3, &pairs, &probs, Some(0), 0.3);
        assert_eq!(links.len(), 2);
        assert_eq!(
            (links[1].0, links[1].1, links[1].2),
            (2, 1, Relation::Attack)
        );
        assert_eq!(links[1].3, 0.5);
    }

    #[test]
    fn a_unit_may_hang_under_an_unattached_one() {
        // 1 → 0 is weak, so 1 stays unattached; 2 → 1 is confident
        let pairs = [(1, 0), (2, 1), (2, 0)];
        let probs = [support(0.05), support(0.9), support(0.01)];
        let links = decode_links(3, &pairs, &probs, Some(0), 0.1);
        let targets: Vec<(usize, usize)> = links.iter().map(|l| (l.0, l.1)).collect();
        assert_eq!(targets, [(2, 1)]);
    }

    #[test]
    fn the_thesis_never_gets_a_target() {
        let pairs = [(0, 1), (1, 0)];
        let probs = [support(0.99), support(0.6)];
        let links = decode_links(2, &pairs, &probs, Some(0), 0.1);
        assert!(links.iter().all(|l| l.0 != 0));
    }

    #[test]
    fn without_a_thesis_the_result_is_a_forest_of_confident_links() {
        let pairs = [(0, 1), (1, 0), (2, 1), (3, 2)];
        let probs = [support(0.7), support(0.6), support(0.4), support(0.1)];
        let links = decode_links(4, &pairs, &probs, None, 0.3);
        let targets: Vec<(usize, usize)> = links.iter().map(|l| (l.0, l.1)).collect();
        assert_eq!(targets, [(0, 1), (2, 1)]);
    }
}
