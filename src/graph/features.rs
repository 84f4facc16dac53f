//! Inputs of the graph scorers, shared by inference and training so both see identical
//! features.
//!
//! **Pairs.** A candidate link from source `u` to target `v` is described by
//!
//! ```text
//! x = [ u ; v ; |u − v| ; u ⊙ v ; P(u) ; P(v) ; distance ; position ; markers(u) ; markers(v) ;
//!       domain ; units between ]
//! ```
//!
//! the sentence-pair representation of InferSent (Conneau et al., EMNLP 2017) over unit-length
//! sentence embeddings, the four label probabilities of each side, the signed distance in
//! sentences, both relative positions, which families of discourse markers each side contains
//! (see [`Marker`]), the document's domain (see [`DocShape`]), and what lies between the two
//! among the argumentative units: the signed distance in units and how many of those between
//! are claims or recommendations. Evidence mostly backs the nearest claim before it, and
//! the sentence distance cannot tell a neighbouring unit from one with a claim in between.
//!
//! **Thesis candidates.** A candidate sentence is described by [`THESIS_FEATURES`] scalars: its
//! claim and recommendation probabilities; its similarity to the title and its centrality among
//! the argumentative sentences, each measured twice, with the model's embeddings and in the
//! base encoder's space ([`super::semantic`]); how much of the title's distinctive wording it
//! repeats ([`TitleWords`]); where it stands, counted from the start and from
//! the end (real editorials often state their thesis in the closing paragraphs), and whether it
//! is the first or the last candidate; how much predicted support flows into it; and its
//! conclusion and contrast markers. The sentence embedding follows the scalars, so that what a
//! sentence says can count as well as where it stands; a thesis scorer may give it no weight
//! (with a few hundred annotated articles, a weight per dimension can learn the training
//! topics rather than what a thesis looks like), and training chooses on dev.

use crate::classify::Domain;
use crate::types::{Label, Scores};
use ndarray::ArrayView1;
use std::collections::{HashMap, HashSet};

/// Families of discourse markers, each a cue for a kind of argumentative move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// Introduces support: "because", "for example", "according to", "based on".
    Support,
    /// Introduces contrast or an opposing view: "however", "but", "critics", "some argue".
    Contrast,
    /// Draws a conclusion or restates: "therefore", "thus", "in short", "more clearly".
    Conclusion,
    /// Adds a point: "moreover", "furthermore", "in addition", "also".
    Addition,
}

impl Marker {
    pub const ALL: [Marker; 4] = [
        Marker::Support,
        Marker::Contrast,
        Marker::Conclusion,
        Marker::Addition,
    ];

    /// The phrases of the family, lower case, matched on word boundaries.
    pub fn phrases(self) -> &'static [&'static str] {
        match self {
            Marker::Support => &[
                "because",
                "since",
                "for example",
                "for instance",
                "according to",
                "based on",
                "given that",
                "in fact",
                "indeed",
                "after all",
                "as shown",
                "data",
                "study",
                "studies",
                "survey",
                "report",
                "percent",
            ],
            Marker::Contrast => &[
                "however",
                "but",
                "although",
                "though",
                "yet",
                "on the other hand",
                "nevertheless",
                "nonetheless",
                "despite",
                "whereas",
                "critics",
                "some argue",
                "opponents",
                "skeptics",
            ],
            Marker::Conclusion => &[
                "therefore",
                "thus",
                "hence",
                "consequently",
                "as a result",
                "in short",
                "in sum",
                "clearly",
                "that is why",
                "for these reasons",
                "ultimately",
            ],
            Marker::Addition => &[
                "moreover",
                "furthermore",
                "in addition",
                "also",
                "besides",
                "what is more",
                "likewise",
            ],
        }
    }
}

/// The words of `text`, lower case: its runs of letters and digits.
fn lower_words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Which marker families occur in `text`, as 0/1 flags in [`Marker::ALL`] order.
pub fn markers(text: &str) -> [f32; 4] {
    let words: Vec<String> = lower_words(text).collect();
    let contains = |phrase: &str| {
        let p: Vec<&str> = phrase.split(' ').collect();
        words
            .windows(p.len())
            .any(|w| w.iter().zip(&p).all(|(a, b)| a == b))
    };
    Marker::ALL.map(|m| {
        if m.phrases().iter().any(|p| contains(p)) {
            1.0
        } else {
            0.0
        }
    })
}

/// A sentence as the graph scorers see it.
#[derive(Debug, Clone, Copy)]
pub struct Unit<'a> {
    /// Position in the article (sentence index or proposition number).
    pub index: usize,
    pub text: &'a str,
    pub embedding: ArrayView1<'a, f32>,
    pub scores: Scores,
    pub markers: [f32; 4],
    /// Position among the document's units.
    pub ordinal: usize,
    /// Sum of [`Unit::claim_mass`] over the units before this one.
    pub claims_before: f32,
}

impl Unit<'_> {
    /// The probability that the unit is a claim or a recommendation: what evidence backs.
    pub fn claim_mass(&self) -> f32 {
        self.scores.get(Label::Claim) + self.scores.get(Label::Recommendation)
    }
}

/// Candidate targets further away than this many sentences are not scored (the thesis always
/// is): links in the training corpora are local, and it keeps the cost linear in article length.
pub const MAX_LINK_DISTANCE: usize = 30;

/// What a pair's features need to know about its document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocShape {
    /// Number of sentences (or units).
    pub length: usize,
    /// The labelling convention to follow (the pipeline always asks for news); as for the
    /// sentence head, the corpora annotate links differently (CDCP links mostly adjacent
    /// clauses, IBM only evidence to claims), and the flag lets the scorer keep them apart.
    pub domain: Domain,
}

/// Scalar features of a pair after the four embedding blocks.
pub const PAIR_SCALARS: usize = 4 + 4 + 4 + 2 + 4 + 4 + Domain::COUNT + 3;

/// Width of a pair's features for embeddings of size `hidden`.
pub fn pair_width(hidden: usize) -> usize {
    2 * hidden + interaction_width(hidden)
}

/// Writes the features of the link `source → target`: the two embeddings, then
/// [`write_interactions`].
pub fn write_pair(out: &mut [f32], source: &Unit, target: &Unit, doc: DocShape) {
    let h = source.embedding.len();
    for (o, &u) in out[..h].iter_mut().zip(&source.embedding) {
        *o = u;
    }
    for (o, &v) in out[h..2 * h].iter_mut().zip(&target.embedding) {
        *o = v;
    }
    write_interactions(&mut out[2 * h..], source, target, doc);
}

/// Width of [`write_interactions`]'s features for embeddings of size `hidden`.
pub fn interaction_width(hidden: usize) -> usize {
    2 * hidden + PAIR_SCALARS
}

/// Writes what a link's features hold beyond its two embeddings: `|u − v|`, `u ∘ v`, then the
/// scalars (both units' label scores, the signed distance, both positions, both units' markers,
/// the domain, and the units between the two).
pub fn write_interactions(out: &mut [f32], source: &Unit, target: &Unit, doc: DocShape) {
    let h = source.embedding.len();
    let (u, v) = (&source.embedding, &target.embedding);
    for k in 0..h {
        out[k] = (u[k] - v[k]).abs();
        out[h + k] = u[k] * v[k];
    }
    let d = target.index as f32 - source.index as f32;
    let position = |i: usize| crate::classify::relative_position(i, doc.length);
    let log_distance = |d: f32| (1.0 + d).ln() / (1.0 + MAX_LINK_DISTANCE as f32).ln();
    let units_apart = target.ordinal as f32 - source.ordinal as f32;
    // the claim mass up to the later end, less that up to and including the earlier end
    let claims_between = (source.claims_before.max(target.claims_before)
        - (source.claims_before + source.claim_mass())
            .min(target.claims_before + target.claim_mass()))
    .max(0.0);
    let scalars = out[2 * h..].iter_mut();
    let values = source
        .scores
        .0
        .into_iter()
        .chain(target.scores.0)
        .chain([
            f32::from(d > 0.0),
            f32::from(d.abs() == 1.0),
            log_distance(d.abs()),
            d.signum() * log_distance(d.abs()),
            position(source.index),
            position(target.index),
        ])
        .chain(source.markers)
        .chain(target.markers)
        .chain(
            [Domain::News, Domain::Comment, Domain::Encyclopedia]
                .map(|d| f32::from(doc.domain == d)),
        )
        .chain([
            f32::from(units_apart.abs() == 1.0),
            units_apart.signum() * log_distance(units_apart.abs()),
            log_distance(claims_between),
        ]);
    for (o, x) in scalars.zip(values) {
        *o = x;
    }
}

/// Number of scalar features of a thesis candidate (its embedding follows them).
pub const THESIS_FEATURES: usize = 16;

/// Names of the scalar thesis features, in order (saved with the model for inspection).
pub const THESIS_FEATURE_NAMES: [&str; THESIS_FEATURES] = [
    "p_claim",
    "p_recommendation",
    "title_similarity",
    "position",
    "first_candidate",
    "centrality",
    "support_in",
    "conclusion_marker",
    "contrast_marker",
    "position_squared",
    "semantic_title_similarity",
    "semantic_centrality",
    "last_candidate",
    "sentences_after",
    "candidates_after",
    "title_overlap",
];

/// Words are compared by this many leading letters, lower case: a crude stemmer that makes
/// "negotiations" and "negotiate" one word.
const WORD_PREFIX: usize = 6;

/// The distinct words of `text`, cut to [`WORD_PREFIX`] letters.
fn word_stems(text: &str) -> HashSet<String> {
    lower_words(text)
        .map(|w| w.chars().take(WORD_PREFIX).collect())
        .collect()
}

/// The words of an article's title, each weighted by how rare it is in the article:
/// `ln((n + 1) / (1 + df))` for an article of `n` sentences, `df` of which contain the word.
/// Function words and the topic run through the whole article and weigh almost nothing; the
/// words that make the title's point, repeated in the sentence that states it, weigh most.
/// Editorials often restate their headline in the thesis ("Paris attacks: unless we overcome
/// fear, self-censorship will spread" / "Unless we find the courage to overcome fear, the
/// self-censorship will spread"), which an embedding's cosine blurs with the topic.
#[derive(Debug, Clone)]
pub struct TitleWords {
    weights: HashMap<String, f32>,
    total: f32,
}

impl TitleWords {
    pub fn new<'a>(title: &str, sentences: impl IntoIterator<Item = &'a str>) -> Self {
        let mut df: HashMap<String, usize> =
            word_stems(title).into_iter().map(|w| (w, 0)).collect();
        let mut n = 0usize;
        for sentence in sentences {
            n += 1;
            for w in word_stems(sentence) {
                if let Some(count) = df.get_mut(&w) {
                    *count += 1;
                }
            }
        }
        let weights: HashMap<String, f32> = df
            .into_iter()
            .map(|(w, count)| (w, ((n + 1) as f32 / (1 + count) as f32).ln()))
            .collect();
        let total = weights.values().sum();
        TitleWords { weights, total }
    }

    /// The share of the title's weight in the words of `text`, from 0 to 1 (0 when no title
    /// word has weight).
    pub fn overlap(&self, text: &str) -> f32 {
        if self.total <= 0.0 {
            return 0.0;
        }
        word_stems(text)
            .iter()
            .filter_map(|w| self.weights.get(w))
            .sum::<f32>()
            / self.total
    }
}

/// What the thesis features read from an article's title.
#[derive(Debug, Clone)]
pub struct ArticleTitle<'a> {
    /// The title's embedding (unit length).
    pub embedding: ArrayView1<'a, f32>,
    pub words: TitleWords,
}

/// Sentences after a candidate are counted on a log scale that reaches 1 at this many.
const SENTENCES_AFTER_SCALE: f32 = 60.0;

/// What the thesis scorer knows about one candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThesisCandidate<'a> {
    pub scores: Scores,
    /// Cosine similarity of the model's embeddings to the title's, 0 without a title.
    pub title_similarity: f32,
    /// Mean cosine similarity of the model's embeddings to the other argumentative sentences.
    pub centrality: f32,
    /// Cosine similarity to the title in the base encoder's space, 0 without a title.
    pub semantic_title_similarity: f32,
    /// Cosine similarity to the mean of the argumentative sentences in the base encoder's
    /// space.
    pub semantic_centrality: f32,
    /// [`TitleWords::overlap`], 0 without a title.
    pub title_overlap: f32,
    /// Relative position in the article.
    pub position: f32,
    /// Sentences of the article after this one.
    pub sentences_after: usize,
    /// Candidates before and after this one.
    pub candidates_before: usize,
    pub candidates_after: usize,
    /// Sum of the link probabilities from the other argumentative sentences to this one,
    /// divided by their number.
    pub support_in: f32,
    pub markers: [f32; 4],
    /// The sentence embedding (unit length).
    pub embedding: ArrayView1<'a, f32>,
}

impl ThesisCandidate<'_> {
    /// The [`THESIS_FEATURES`] scalars, named by [`THESIS_FEATURE_NAMES`], then the embedding.
    pub fn features(&self) -> Vec<f32> {
        let others = (self.candidates_before + self.candidates_after).max(1);
        let scalars = [
            self.scores.get(Label::Claim),
            self.scores.get(Label::Recommendation),
            self.title_similarity,
            self.position,
            f32::from(self.candidates_before == 0),
            self.centrality,
            self.support_in,
            self.markers[Marker::Conclusion as usize],
            self.markers[Marker::Contrast as usize],
            self.position * self.position,
            self.semantic_title_similarity,
            self.semantic_centrality,
            f32::from(self.candidates_after == 0),
            (1.0 + self.sentences_after as f32).ln() / (1.0 + SENTENCES_AFTER_SCALE).ln(),
            self.candidates_after as f32 / others as f32,
            self.title_overlap,
        ];
        scalars
            .into_iter()
            .chain(self.embedding.iter().copied())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn markers_match_whole_words_and_phrases() {
        assert_eq!(
            markers("However, the data say otherwise."),
            [1.0, 1.0, 0.0, 0.0]
        );
        assert_eq!(markers("In short, we must act."), [0.0, 0.0, 1.0, 0.0]);
        // "butter" is not "but", "yesterday" is not "yet"
        assert_eq!(markers("Butter prices rose yesterday."), [0.0; 4]);
    }

    #[test]
    fn thesis_features_are_the_named_scalars_then_the_embedding() {
        let e = array![0.6f32, 0.8];
        let candidate = ThesisCandidate {
            scores: Scores([0.7, 0.1, 0.15, 0.05]),
            title_similarity: 0.5,
            centrality: 0.3,
            semantic_title_similarity: 0.6,
            semantic_centrality: 0.35,
            title_overlap: 0.25,
            position: 0.2,
            sentences_after: 0,
            candidates_before: 0,
            candidates_after: 3,
            support_in: 0.4,
            markers: [0.0, 1.0, 0.0, 0.0],
            embedding: e.view(),
        };
        let f = candidate.features();
        assert_eq!(f.len(), THESIS_FEATURES + 2);
        assert_eq!(&f[THESIS_FEATURES..], &[0.6, 0.8]);
        let named = |name: &str| {
            f[THESIS_FEATURE_NAMES
                .iter()
                .position(|n| *n == name)
                .unwrap()]
        };
        assert_eq!(named("p_claim"), 0.7);
        assert_eq!(named("p_recommendation"), 0.15);
        assert_eq!(named("first_candidate"), 1.0);
        assert_eq!(named("last_candidate"), 0.0);
        assert_eq!(named("candidates_after"), 1.0);
        assert_eq!(named("sentences_after"), 0.0);
        assert_eq!(named("semantic_title_similarity"), 0.6);
        assert_eq!(named("semantic_centrality"), 0.35);
        assert_eq!(named("title_overlap"), 0.25);
        assert_eq!(named("contrast_marker"), 1.0);
        assert_eq!(named("conclusion_marker"), 0.0);
        assert!((named("position_squared") - 0.04).abs() < 1e-6);
        let last = ThesisCandidate {
            sentences_after: 60,
            candidates_before: 3,
            candidates_after: 0,
            ..candidate
        }
        .features();
        assert_eq!(last[0..3], f[0..3]);
        assert_eq!(last[4], 0.0, "not the first");
        assert_eq!(
            last[12..15],
            [1.0, 1.0, 0.0],
            "last; 60 sentences after; none after"
        );
    }

    #[test]
    fn title_overlap_weighs_the_words_the_article_rarely_repeats() {
        let title = "Paris attacks: unless we overcome fear, self-censorship will spread";
        let article = [
            "The Paris attacks shocked the world.",
            "Unless we find the courage to overcome fear, the self-censorship will spread.",
            "Paris mourned, and the attacks dominated the news.",
            "Editors in Paris met on Monday.",
        ];
        let words = TitleWords::new(title, article);
        let overlaps = article.map(|s| words.overlap(s));
        let best = (0..4).max_by(|&a, &b| overlaps[a].total_cmp(&overlaps[b]));
        assert_eq!(best, Some(1), "{overlaps:?}");
        assert!(overlaps.iter().all(|o| (0.0..=1.0).contains(o)));
        // "spreads" and "spread" share their first letters; "Overcome" is "overcome"
        assert!(words.overlap("Overcome the fear before it spreads") > 0.0);
        assert_eq!(words.overlap("Nothing in common here"), 0.0);
        assert_eq!(TitleWords::new("", article).overlap(article[1]), 0.0);
    }

    #[test]
    fn pair_features_are_symmetric_blocks_and_signed_distance() {
        let (a, b) = (array![1.0f32, 0.0], array![0.0f32, 1.0]);
        let unit = |index, e| Unit {
            index,
            text: "",
            embedding: e,
            scores: Scores([0.7, 0.1, 0.1, 0.1]),
            markers: [0.0; 4],
            ordinal: index,
            claims_before: 0.0,
        };
        let mut x = vec![0.0; pair_width(2)];
        let doc = DocShape {
            length: 5,
            domain: Domain::News,
        };
        write_pair(&mut x, &unit(3, a.view()), &unit(1, b.view()), doc);
        assert_eq!(&x[..8], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0]);
        let distance = &x[8 + 8..8 + 12];
        assert_eq!(distance[0], 0.0, "target before source");
        assert_eq!(distance[1], 0.0, "not adjacent");
        assert!(distance[3] < 0.0 && (distance[3] + distance[2]).abs() < 1e-6);
        assert_eq!(
            &x[x.len() - 6..x.len() - 3],
            &[1.0, 0.0, 0.0],
            "news domain"
        );
    }
}
