//! Stage 4: turn sentence embeddings into claim / evidence / recommendation / other
//! probabilities.
//!
//! Whether a sentence is evidence or background, a claim or a recommendation, often depends on
//! its neighbours and on what the article is about. The head therefore sees, for each sentence,
//! its own embedding together with the embeddings of the previous and next sentence and of the
//! title, plus its relative position:
//!
//! ```text
//! x = [ e_i ; e_{i-1} ; e_{i+1} ; e_title ; pos, has_prev, has_next, has_title, is_title ; domain ]
//! ```
//!
//! (missing neighbours are zero vectors, flagged by `has_*`). `domain` is a one-hot [`Domain`]:
//! the training corpora draw the line between evidence and background differently (an
//! unannotated Wikipedia fact is "other", the same fact in an op-ed is evidence), so the head
//! learns each corpus's convention separately while sharing everything else. The pipeline
//! always asks for [`Domain::News`], the convention argmine's users want. A two-layer perceptron maps `x`
//! to four logits, divided by a temperature fitted on the dev set so the probabilities are
//! calibrated. Each sentence is encoded once; the context costs only the head's extra inputs.
//! The title is classified by the same head, with `is_title` set and the first sentence as
//! its next neighbour. The pipeline gives the head the article body only: sentences flagged as
//! page furniture are neither neighbours (the title's included) nor counted in positions, as in
//! the training articles, which have none.

use crate::error::Result;
use crate::mlp::Mlp;
use crate::types::Scores;
use candle_core::Tensor;
use candle_nn::VarBuilder;
use ndarray::{Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

/// Number of scalar features after the four embeddings.
pub const SCALAR_FEATURES: usize = 5 + Domain::COUNT;

/// The text genre whose labelling convention the head should follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Domain {
    /// News, op-eds and policy analysis (argmine's own convention).
    News,
    /// Public comments (CDCP).
    Comment,
    /// Encyclopedia articles (IBM claims and evidence).
    Encyclopedia,
}

impl Domain {
    pub const COUNT: usize = 3;
    pub const ALL: [Domain; Domain::COUNT] = [Domain::News, Domain::Comment, Domain::Encyclopedia];

    /// The domain of a dataset `source`.
    pub fn of_source(source: &str) -> Domain {
        if source.starts_with("cdcp") {
            Domain::Comment
        } else if source.starts_with("ibm") {
            Domain::Encyclopedia
        } else {
            Domain::News
        }
    }
}

/// Width of the head's input for a given embedding size.
pub fn feature_width(hidden: usize) -> usize {
    4 * hidden + SCALAR_FEATURES
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadConfig {
    /// Embedding size of the encoder.
    pub input: usize,
    /// Width of the hidden layer.
    pub hidden: usize,
    /// Logits are divided by this before the softmax (fitted on dev).
    #[serde(default = "one")]
    pub temperature: f32,
}

fn one() -> f32 {
    1.0
}

/// Where a sentence sits, and what is around it.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub prev: Option<ArrayView1<'a, f32>>,
    pub next: Option<ArrayView1<'a, f32>>,
    pub title: Option<ArrayView1<'a, f32>>,
    /// Relative position in the article, 0 for the first sentence and 1 for the last.
    pub position: f32,
    pub is_title: bool,
    pub domain: Domain,
}

/// Position of unit `i` of `n` in `[0, 1]`: 0 for the first, 1 for the last, 0 when alone.
pub fn relative_position(i: usize, n: usize) -> f32 {
    if n > 1 {
        i as f32 / (n - 1) as f32
    } else {
        0.0
    }
}

/// Writes the head's input for one sentence into `out` (length [`feature_width`]).
pub fn write_features(out: &mut [f32], embedding: ArrayView1<f32>, ctx: &Context) {
    let h = embedding.len();
    let mut put = |slot: usize, v: Option<ArrayView1<f32>>| {
        let dst = &mut out[slot * h..(slot + 1) * h];
        match v {
            Some(v) => dst.iter_mut().zip(v.iter()).for_each(|(d, s)| *d = *s),
            None => dst.fill(0.0),
        }
    };
    put(0, Some(embedding));
    put(1, ctx.prev);
    put(2, ctx.next);
    put(3, ctx.title);
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    out[4 * h..4 * h + SCALAR_FEATURES].copy_from_slice(&[
        ctx.position,
        flag(ctx.prev.is_some()),
        flag(ctx.next.is_some()),
        flag(ctx.title.is_some()),
        flag(ctx.is_title),
        flag(ctx.domain == Domain::News),
        flag(ctx.domain == Domain::Comment),
        flag(ctx.domain == Domain::Encyclopedia),
    ]);
}

/// Features for every sentence of one news article (rows `0..n`), then for its title if any
/// (row `n`).
pub fn article_features(sentences: ArrayView2<f32>, title: Option<ArrayView1<f32>>) -> Array2<f32> {
    let (n, h) = sentences.dim();
    let rows = n + usize::from(title.is_some());
    let mut x = Array2::zeros((rows, feature_width(h)));
    for i in 0..n {
        let ctx = Context {
            prev: (i > 0).then(|| sentences.row(i - 1)),
            next: (i + 1 < n).then(|| sentences.row(i + 1)),
            title,
            position: relative_position(i, n),
            is_title: false,
            domain: Domain::News,
        };
        let row = x.row_mut(i).into_slice().expect("standard layout");
        write_features(row, sentences.row(i), &ctx);
    }
    if let Some(t) = title {
        let ctx = Context {
            prev: None,
            next: (n > 0).then(|| sentences.row(0)),
            title: None,
            position: 0.0,
            is_title: true,
            domain: Domain::News,
        };
        let row = x.row_mut(n).into_slice().expect("standard layout");
        write_features(row, t, &ctx);
    }
    x
}

/// The classification head: an [`Mlp`] from the features to four logits, then softmax at
/// `temperature`.
pub struct ContextHead {
    mlp: Mlp,
    temperature: f32,
}

impl ContextHead {
    /// Weights are `fc1.{weight,bias}` and `fc2.{weight,bias}` under `vb`.
    pub fn new(vb: VarBuilder, config: &HeadConfig) -> Result<Self> {
        Ok(ContextHead {
            mlp: Mlp::new(vb, feature_width(config.input), config.hidden, 4)?,
            temperature: config.temperature,
        })
    }

    /// Raw logits `[rows, 4]`; differentiable.
    pub fn logits(&self, features: &Tensor) -> candle_core::Result<Tensor> {
        self.mlp.logits(features)
    }

    /// Calibrated probabilities for each row of `features`.
    pub fn predict(&self, features: &Array2<f32>) -> Result<Vec<Scores>> {
        let probs = self.mlp.probabilities(features, self.temperature)?;
        Ok(probs
            .into_iter()
            .map(|p| Scores([p[0], p[1], p[2], p[3]]))
            .collect())
    }

    pub fn set_temperature(&mut self, t: f32) {
        self.temperature = t;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn features_place_neighbours_and_flags() {
        let s = array![[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let t = array![7.0f32, 8.0];
        let x = article_features(s.view(), Some(t.view()));
        assert_eq!(x.dim(), (4, feature_width(2)));
        // middle sentence: self, prev, next, title, then pos 0.5 and all flags but is_title
        assert_eq!(
            x.row(1).to_vec(),
            [3.0, 4.0, 1.0, 2.0, 5.0, 6.0, 7.0, 8.0, 0.5, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0]
        );
        // first sentence has no previous neighbour
        assert_eq!(&x.row(0).to_vec()[2..4], &[0.0, 0.0]);
        // the title row: is_title set, next is the first sentence
        assert_eq!(
            x.row(3).to_vec(),
            [7.0, 8.0, 0.0, 0.0, 1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0]
        );
    }
}
