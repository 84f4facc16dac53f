//! The core types that flow through the pipeline, all serde-serialisable.
//!
//! Offsets (`start`, `end`) are always Unicode code points into [`Article::text`], so that
//! `text.chars().skip(start).take(end - start)` is the sentence.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One input document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub text: String,
    /// Any other fields of the input record, carried through untouched.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub meta: serde_json::Map<String, serde_json::Value>,
}

/// The four sentence classes, in the order of the model's output units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Claim,
    Evidence,
    Recommendation,
    Other,
}

impl Label {
    pub const ALL: [Label; 4] = [
        Label::Claim,
        Label::Evidence,
        Label::Recommendation,
        Label::Other,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Label::Claim => "claim",
            Label::Evidence => "evidence",
            Label::Recommendation => "recommendation",
            Label::Other => "other",
        }
    }

    /// Whether sentences of this class take part in the argument graph.
    pub fn is_argumentative(self) -> bool {
        self != Label::Other
    }

    /// Whether sentences of this class state a position that others back: claims and
    /// recommendations, the thesis candidates and what evidence supports.
    pub fn takes_support(self) -> bool {
        matches!(self, Label::Claim | Label::Recommendation)
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Label {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Label::ALL
            .into_iter()
            .find(|l| l.name() == s)
            .ok_or_else(|| {
                format!("unknown label {s:?} (expected claim, evidence, recommendation or other)")
            })
    }
}

/// Class probabilities, indexed by [`Label::index`]; they sum to one.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Scores(pub [f32; 4]);

impl Scores {
    /// The most probable label and its probability. Ties go to the earlier label.
    pub fn best(&self) -> (Label, f32) {
        let mut best = 0;
        for i in 1..4 {
            if self.0[i] > self.0[best] {
                best = i;
            }
        }
        (Label::ALL[best], self.0[best])
    }

    pub fn get(&self, label: Label) -> f32 {
        self.0[label.index()]
    }

    /// A certain prediction, used for sentences decided without the model (boilerplate).
    pub fn certain(label: Label) -> Self {
        let mut s = [0.0; 4];
        s[label.index()] = 1.0;
        Scores(s)
    }
}

/// Serialised as `{"claim": p, "evidence": p, "recommendation": p, "other": p}`, with every
/// probability rounded to four decimals so output stays small and byte-stable.
impl Serialize for Scores {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(4))?;
        for label in Label::ALL {
            map.serialize_entry(label.name(), &round4(self.get(label)))?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Scores {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Named {
            claim: f32,
            evidence: f32,
            recommendation: f32,
            other: f32,
        }
        let n = Named::deserialize(deserializer)?;
        Ok(Scores([n.claim, n.evidence, n.recommendation, n.other]))
    }
}

/// FNV-1a, 64-bit: a stable hash, the same on every run and platform. It assigns dataset
/// documents to splits and articles to shards (`argmine mine --shard`).
pub fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Rounds a probability to four decimals for output.
pub fn round4(x: f32) -> f32 {
    (x * 10_000.0).round() / 10_000.0
}

/// [`round4`] as an `f64`, for JSON built with `serde_json::json!` (which widens `f32`
/// exactly, so `0.81f32` would print as `0.8100000023841858`).
pub fn round4_f64(x: f32) -> f64 {
    (f64::from(x) * 10_000.0).round() / 10_000.0
}

fn serialize_round4<S: serde::Serializer>(x: &f32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f32(round4(*x))
}

/// A sentence of an article, with its classification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sentence {
    pub index: usize,
    /// First code point of the sentence in the article text.
    pub start: usize,
    /// One past the last code point.
    pub end: usize,
    pub paragraph: usize,
    pub text: String,
    pub label: Label,
    #[serde(serialize_with = "serialize_round4")]
    pub confidence: f32,
    pub scores: Scores,
    pub boilerplate: bool,
}

/// The classified title of an article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Title {
    pub text: String,
    pub label: Label,
    #[serde(serialize_with = "serialize_round4")]
    pub confidence: f32,
    pub scores: Scores,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    Support,
    Attack,
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Relation::Support => "support",
            Relation::Attack => "attack",
        })
    }
}

/// A directed link: sentence `source` supports or attacks sentence `target` (sentence indices).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    pub source: usize,
    pub target: usize,
    pub relation: Relation,
    #[serde(serialize_with = "serialize_round4")]
    pub confidence: f32,
}

/// The argument structure of one article: a tree of edges rooted at the thesis, and the
/// subtrees of argumentative sentences left unattached (see `docs/output-format.md`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ArgumentGraph {
    /// Index of the sentence that states the main standpoint; `None` for an article with no argument.
    pub thesis: Option<usize>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_opt_round4"
    )]
    pub thesis_confidence: Option<f32>,
    pub edges: Vec<Edge>,
}

fn serialize_opt_round4<S: serde::Serializer>(x: &Option<f32>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(v) => s.serialize_some(&round4(*v)),
        None => s.serialize_none(),
    }
}

/// Which model produced a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
    pub revision: String,
}

/// The result for one article that went through the whole pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinedArticle {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Title>,
    pub sentences: Vec<Sentence>,
    pub graph: ArgumentGraph,
    pub model: ModelInfo,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub meta: serde_json::Map<String, serde_json::Value>,
}

/// Why a record could not be processed. The `kind` is a stable machine-readable tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordError {
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The record is not valid JSON, or a field is missing or of the wrong type.
    InvalidRecord,
    /// The bytes are not valid UTF-8.
    InvalidUtf8,
    /// The text is empty or only whitespace.
    EmptyText,
    /// The article is larger than the configured limit.
    TooLarge,
    /// The file could not be read.
    Unreadable,
    /// The model failed on this article.
    Inference,
}

/// One line of output: a mined article, or a failure that names the record and says why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Record {
    Mined(Box<MinedArticle>),
    Failed { id: String, error: RecordError },
}

impl Record {
    pub fn id(&self) -> &str {
        match self {
            Record::Mined(m) => &m.id,
            Record::Failed { id, .. } => id,
        }
    }
}

/// A record that could not be mined, with the id it goes by (the article id when it could be
/// read, otherwise `source:line` or the file path): what every stage returns for a bad record,
/// and what becomes a [`Record::Failed`] line.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub id: String,
    pub error: RecordError,
}

impl Failure {
    /// The failed record of this failure.
    pub fn into_record(self) -> Record {
        Record::Failed {
            id: self.id,
            error: self.error,
        }
    }

    pub fn new(id: impl Into<String>, kind: ErrorKind, message: impl Into<String>) -> Self {
        Failure {
            id: id.into(),
            error: RecordError {
                kind,
                message: message.into(),
            },
        }
    }
}
