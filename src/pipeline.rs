//! The bounded, parallel stream that composes the stages.
//!
//! Three threads overlap reading, computing and writing: a reader fills a bounded channel with
//! ingested articles; the compute loop takes them a chunk at a time, segments and tokenizes the
//! chunk's articles in parallel (rayon), encodes all their sentences in length-sorted batches,
//! then classifies and builds graphs per article in parallel; a writer drains the records, in
//! input order, into the sink. Memory is bounded by the chunk size and the channel capacities,
//! never by the corpus.

use crate::classify::article_features;
use crate::encode::{length_batches, TokenBatch, Tokens};
use crate::error::Result;
use crate::export::Sink;
use crate::ingest::{Failure, Ingested};
use crate::model::Model;
use crate::segment::boilerplate::BoilerplateDetector;
use crate::segment::{slice_chars, Segmenter, Span, SrxSegmenter};
use crate::types::{Article, ErrorKind, Label, MinedArticle, Record, Scores, Sentence, Title};
use ndarray::{s, Array2};
use rayon::prelude::*;
use std::path::Path;

/// Settings of a run; every field has a default that suits both 2 and 64 cores.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PipelineOptions {
    /// Sentences per encoder batch.
    pub batch_size: usize,
    /// Articles taken into one chunk at most.
    pub chunk_articles: usize,
    /// Text bytes taken into one chunk at most (the chunk closes after the article that
    /// crosses it).
    pub chunk_bytes: usize,
    /// Articles with more sentences are rejected as `too_large`.
    pub max_sentences: usize,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            batch_size: 32,
            chunk_articles: 64,
            chunk_bytes: 1 << 20,
            max_sentences: 20_000,
        }
    }
}

/// Counts for the end-of-run summary.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Summary {
    pub articles_ok: usize,
    pub articles_failed: usize,
    pub sentences: usize,
    /// Sentence counts per label, in [`Label::ALL`] order.
    pub labels: [usize; 4],
}

impl Summary {
    pub fn add(&mut self, record: &Record) {
        match record {
            Record::Mined(m) => {
                self.articles_ok += 1;
                self.sentences += m.sentences.len();
                for s in &m.sentences {
                    self.labels[s.label.index()] += 1;
                }
            }
            Record::Failed { .. } => self.articles_failed += 1,
        }
    }
}

/// An article after segmenting and tokenizing, waiting for the encoder.
struct Prepared {
    article: Article,
    spans: Vec<Span>,
    boilerplate: Vec<bool>,
    /// One per sentence, then the title's if there is one.
    tokens: Vec<Tokens>,
}

pub struct Pipeline {
    model: Model,
    segmenter: SrxSegmenter,
    boilerplate: BoilerplateDetector,
    options: PipelineOptions,
}

impl Pipeline {
    /// Loads the model in `dir` and the English segmentation rules.
    pub fn from_dir(dir: &Path, options: PipelineOptions) -> Result<Self> {
        Ok(Pipeline {
            model: Model::load(dir)?,
            segmenter: SrxSegmenter::english()?,
            boilerplate: BoilerplateDetector,
            options,
        })
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Mines one article.
    pub fn mine(&self, article: Article) -> Record {
        self.mine_chunk(vec![Ok(article)])
            .pop()
            .expect("one record per input")
    }

    /// Mines a chunk of ingested items, returning one record per item, in order. All
    /// sentences of the chunk share the encoder batches.
    pub fn mine_chunk(&self, items: Vec<Ingested>) -> Vec<Record> {
        let prepared: Vec<Result<Prepared, Failure>> = items
            .into_par_iter()
            .map(|item| item.and_then(|article| self.prepare(article)))
            .collect();

        // Every token sequence of the chunk, as (item, row) pairs, encoded in length order.
        let mut owners = Vec::new();
        for (item, p) in prepared.iter().enumerate() {
            if let Ok(p) = p {
                owners.extend((0..p.tokens.len()).map(|row| (item, row)));
            }
        }
        let token = |&(item, row): &(usize, usize)| match &prepared[item] {
            Ok(p) => &p.tokens[row],
            Err(_) => unreachable!("only prepared items own tokens"),
        };
        let lengths: Vec<usize> = owners.iter().map(|o| token(o).ids.len()).collect();
        let hidden = self.model.encoder.hidden_size();
        let mut embeddings: Vec<Option<Array2<f32>>> = prepared
            .iter()
            .map(|p| {
                p.as_ref()
                    .ok()
                    .map(|p| Array2::zeros((p.tokens.len(), hidden)))
            })
            .collect();
        let mut failed: Vec<Option<String>> = vec![None; prepared.len()];
        for batch in length_batches(&lengths, self.options.batch_size) {
            let rows: Vec<&Tokens> = batch.iter().map(|&k| token(&owners[k])).collect();
            match self.model.encoder.encode(&TokenBatch::pad(&rows)) {
                Ok(out) => {
                    for (r, &k) in batch.iter().enumerate() {
                        let (item, row) = owners[k];
                        if let Some(e) = embeddings[item].as_mut() {
                            e.row_mut(row).assign(&out.row(r));
                        }
                    }
                }
                Err(err) => {
                    for &k in &batch {
                        failed[owners[k].0] = Some(error_chain(&err));
                    }
                }
            }
        }

        prepared
            .into_par_iter()
            .zip(embeddings)
            .zip(failed)
            .map(|((p, emb), failure)| match (p, emb, failure) {
                (Err(f), _, _) => Record::Failed {
                    id: f.id,
                    error: f.error,
                },
                (Ok(p), _, Some(message)) => Record::Failed {
                    id: p.article.id,
                    error: crate::types::RecordError {
                        kind: ErrorKind::Inference,
                        message,
                    },
                },
                (Ok(p), Some(emb), None) => self.finish(p, emb),
                (Ok(_), None, None) => unreachable!("prepared items have embeddings"),
            })
            .collect()
    }

    fn prepare(&self, article: Article) -> Result<Prepared, Failure> {
        let spans = self.segmenter.segment(&article.text);
        if spans.len() > self.options.max_sentences {
            return Err(Failure::new(
                article.id,
                ErrorKind::TooLarge,
                format!(
                    "{} sentences, over the limit of {} (--max-sentences)",
                    spans.len(),
                    self.options.max_sentences
                ),
            ));
        }
        let texts: Vec<&str> = spans
            .iter()
            .map(|s| slice_chars(&article.text, s.start, s.end))
            .collect();
        let standalone: Vec<bool> = (0..spans.len())
            .map(|i| {
                let para = spans[i].paragraph;
                (i == 0 || spans[i - 1].paragraph != para)
                    && spans.get(i + 1).is_none_or(|n| n.paragraph != para)
            })
            .collect();
        let boilerplate = self.boilerplate.detect(&texts, &standalone);
        let tokenize = |t: &str| {
            self.model
                .tokenizer
                .tokenize(t)
                .map_err(|err| Failure::new(&article.id, ErrorKind::Inference, error_chain(&err)))
        };
        let mut tokens = texts
            .iter()
            .map(|t| tokenize(t))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(title) = &article.title {
            tokens.push(tokenize(title)?);
        }
        Ok(Prepared {
            article,
            spans,
            boilerplate,
            tokens,
        })
    }

    /// Classifies the sentences of an encoded article and builds its graph.
    fn finish(&self, p: Prepared, embeddings: Array2<f32>) -> Record {
        let n = p.spans.len();
        let title_emb = p.article.title.as_ref().map(|_| embeddings.row(n));
        let sentence_emb = embeddings.slice(s![..n, ..]);
        let features = article_features(sentence_emb, title_emb);
        let scores = match self.model.head.predict(&features) {
            Ok(s) => s,
            Err(err) => return inference_failure(p.article.id, &err),
        };
        let sentences: Vec<Sentence> = p
            .spans
            .iter()
            .enumerate()
            .map(|(index, span)| {
                let scores = if p.boilerplate[index] {
                    Scores::certain(Label::Other)
                } else {
                    scores[index]
                };
                let (label, confidence) = scores.best();
                Sentence {
                    index,
                    start: span.start,
                    end: span.end,
                    paragraph: span.paragraph,
                    text: slice_chars(&p.article.text, span.start, span.end).to_string(),
                    label,
                    confidence,
                    scores,
                    boilerplate: p.boilerplate[index],
                }
            })
            .collect();
        let title = p.article.title.map(|text| {
            let (label, confidence) = scores[n].best();
            Title {
                text,
                label,
                confidence,
                scores: scores[n],
            }
        });
        let graph = match self.model.graph.build(&sentences, sentence_emb, title_emb) {
            Ok(g) => g,
            Err(err) => return inference_failure(p.article.id, &err),
        };
        Record::Mined(Box::new(MinedArticle {
            id: p.article.id,
            title,
            sentences,
            graph,
            model: self.model.info(),
            meta: p.article.meta,
        }))
    }

    /// Streams `input` through the pipeline into `sink`, calling `on_record` for each record
    /// as it is written. Stops early, with the error, only if the sink fails.
    pub fn run<I>(
        &self,
        input: I,
        sink: &mut dyn Sink,
        on_record: &mut (dyn FnMut(&Record) + Send),
    ) -> std::io::Result<Summary>
    where
        I: Iterator<Item = Ingested> + Send,
    {
        let (item_tx, item_rx) =
            crossbeam_channel::bounded::<Ingested>(self.options.chunk_articles * 2);
        let (rec_tx, rec_rx) = crossbeam_channel::bounded::<Vec<Record>>(2);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                for item in input {
                    if item_tx.send(item).is_err() {
                        break; // the writer stopped; stop reading
                    }
                }
            });
            let writer = scope.spawn(move || -> std::io::Result<Summary> {
                let mut summary = Summary::default();
                for chunk in rec_rx {
                    for record in &chunk {
                        sink.write(record)?;
                        summary.add(record);
                        on_record(record);
                    }
                }
                sink.finish()?;
                Ok(summary)
            });
            let mut items = item_rx.iter().peekable();
            while items.peek().is_some() {
                let mut chunk = Vec::new();
                let mut bytes = 0;
                while chunk.len() < self.options.chunk_articles && bytes < self.options.chunk_bytes
                {
                    let Some(item) = items.next() else { break };
                    bytes += item.as_ref().map_or(0, |a| a.text.len());
                    chunk.push(item);
                }
                if rec_tx.send(self.mine_chunk(chunk)).is_err() {
                    break; // the writer failed; its error is reported below
                }
            }
            drop(rec_tx);
            drop(items);
            writer.join().expect("writer thread panicked")
        })
    }
}

/// An error and its sources, as one line: `outer: inner: innermost`.
/// The failed record of an article whose inference failed.
fn inference_failure(id: String, err: &dyn std::error::Error) -> Record {
    Record::Failed {
        id,
        error: crate::types::RecordError {
            kind: ErrorKind::Inference,
            message: error_chain(err),
        },
    }
}

pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
