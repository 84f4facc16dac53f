//! Embedding datasets: every distinct text of a set of rows (units, their neighbours and
//! titles) encoded once, and the head's input built from them.

use super::datasets::Row;
use crate::classify::{feature_width, write_features, Context, Domain};
use crate::encode::{encode_sorted, Encoder, Schedule, SentenceTokenizer, Tokens};
use crate::error::Result;
use ndarray::Array2;
use std::collections::HashMap;

/// Sequences per encoder batch when embedding datasets.
const BATCH_SIZE: usize = 64;

/// Embeddings of a set of distinct texts.
pub struct TextEmbeddings {
    index: HashMap<String, usize>,
    matrix: Array2<f32>,
}

impl TextEmbeddings {
    /// Encodes every distinct text among the rows (units and their context), calling
    /// `progress(done, total)` after each batch.
    pub fn of_rows(
        rows: &[Row],
        tokenizer: &SentenceTokenizer,
        encoder: &dyn Encoder,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Self> {
        let mut index = HashMap::new();
        let mut texts: Vec<&str> = Vec::new();
        for r in rows {
            let c = &r.context;
            for t in [
                Some(&r.text),
                c.prev.as_ref(),
                c.next.as_ref(),
                c.title.as_ref(),
            ]
            .into_iter()
            .flatten()
            {
                if !index.contains_key(t.as_str()) {
                    index.insert(t.clone(), texts.len());
                    texts.push(t);
                }
            }
        }
        use rayon::prelude::*;
        let tokens = texts
            .par_iter()
            .map(|t| tokenizer.tokenize(t))
            .collect::<Result<Vec<_>>>()?;
        let sequences: Vec<&Tokens> = tokens.iter().collect();
        let matrix = encode_sorted(
            &sequences,
            BATCH_SIZE,
            encoder.hidden_size(),
            Schedule::Sequential,
            |batch| encoder.encode(batch),
            progress,
        )
        .into_rows()?;
        Ok(TextEmbeddings { index, matrix })
    }

    /// The embedding of a text given to [`TextEmbeddings::of_rows`].
    pub fn get(&self, text: &str) -> ndarray::ArrayView1<'_, f32> {
        self.matrix.row(self.index[text])
    }

    /// One row per distinct text, in the order [`TextEmbeddings::of_rows`] met them.
    pub fn matrix(&self) -> ndarray::ArrayView2<'_, f32> {
        self.matrix.view()
    }

    /// Whether `other` embeds the same texts in the same order (as two encoders' embeddings of
    /// the same rows do), so that their matrices align row by row.
    pub fn same_texts(&self, other: &TextEmbeddings) -> bool {
        self.index == other.index
    }

    pub fn hidden_size(&self) -> usize {
        self.matrix.ncols()
    }

    /// The head's input for each row.
    pub fn features(&self, rows: &[Row]) -> Array2<f32> {
        let h = self.matrix.ncols();
        let mut x = Array2::zeros((rows.len(), feature_width(h)));
        for (i, r) in rows.iter().enumerate() {
            let c = &r.context;
            let ctx = Context {
                prev: c.prev.as_deref().map(|t| self.get(t)),
                next: c.next.as_deref().map(|t| self.get(t)),
                title: c.title.as_deref().map(|t| self.get(t)),
                position: c.position,
                is_title: c.is_title,
                domain: Domain::of_source(&r.source),
            };
            let out = x.row_mut(i).into_slice().expect("standard layout");
            write_features(out, self.get(&r.text), &ctx);
        }
        x
    }
}
