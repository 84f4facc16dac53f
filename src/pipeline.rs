//! The bounded, parallel stream that composes the stages.
//!
//! Three threads overlap reading, computing and writing: a reader fills a bounded channel with
//! ingested articles; the compute loop takes them a chunk at a time, segments and tokenizes the
//! chunk's articles in parallel (rayon), encodes all their sentences in length-sorted batches,
//! then classifies and builds graphs per article in parallel; a writer drains the records, in
//! input order, into the sink. Memory is bounded by the chunk size and the channel capacities,
//! never by the corpus.

use crate::classify::article_features;
use crate::encode::{encode_sorted, EncodeStats, Schedule, Tokens};
use crate::error::{error_chain, Result};
use crate::export::Sink;
use crate::ingest::Ingested;
use crate::model::Model;
use crate::segment::boilerplate::BoilerplateDetector;
use crate::segment::{Segmenter, Span, SrxSegmenter};
use crate::types::{
    Article, ErrorKind, Failure, Label, MinedArticle, Record, Scores, Sentence, Title,
};
use ndarray::{s, Array2, Axis};
use rayon::prelude::*;

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

/// An article after segmenting: its sentence spans and which of them are page furniture.
#[derive(Clone)]
pub struct Segmented {
    article: Article,
    spans: Vec<Span>,
    boilerplate: Vec<bool>,
}

/// An article after tokenizing, waiting for the encoder.
#[derive(Clone)]
pub struct Prepared {
    segmented: Segmented,
    /// One per sentence, then the title's if there is one.
    tokens: Vec<Tokens>,
}

impl Prepared {
    /// Number of token sequences (sentences and title).
    pub fn sequences(&self) -> usize {
        self.tokens.len()
    }
}

/// An article with classified sentences, waiting for its graph.
#[derive(Clone)]
pub struct Classified {
    article: Article,
    sentences: Vec<Sentence>,
    title: Option<Title>,
    /// One row per sentence, then the title's.
    embeddings: Array2<f32>,
}

/// The stages composed: a model, a segmenter and the run's settings.
pub struct Pipeline {
    model: Model,
    segmenter: Box<dyn Segmenter>,
    boilerplate: BoilerplateDetector,
    options: PipelineOptions,
}

impl Pipeline {
    /// A pipeline around `model`, with the English segmentation rules.
    pub fn new(model: Model, options: PipelineOptions) -> Result<Self> {
        Ok(Pipeline {
            model,
            segmenter: Box::new(SrxSegmenter::english()?),
            boilerplate: BoilerplateDetector,
            options,
        })
    }

    /// The same pipeline with another segmenter (another language's rules, or gold
    /// sentences).
    pub fn with_segmenter(self, segmenter: Box<dyn Segmenter>) -> Self {
        Pipeline { segmenter, ..self }
    }

    pub fn options(&self) -> &PipelineOptions {
        &self.options
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
            .map(|item| {
                item.and_then(|a| self.segment(a))
                    .and_then(|s| self.tokenize(s))
            })
            .collect();
        let ok: Vec<&Prepared> = prepared.iter().filter_map(|p| p.as_ref().ok()).collect();
        let (mut encoded, _) = self.encode(&ok);
        encoded.reverse(); // popped in order below
        let paired: Vec<_> = prepared
            .into_iter()
            .map(|p| {
                let e = p
                    .is_ok()
                    .then(|| encoded.pop().expect("one per prepared item"));
                (p, e)
            })
            .collect();
        paired
            .into_par_iter()
            .map(|(p, e)| match (p, e) {
                (Err(f), _) => f.into_record(),
                (Ok(p), Some(Ok(emb))) => match self.classify(p, emb) {
                    Ok(c) => self.graph(c),
                    Err(f) => f.into_record(),
                },
                (Ok(p), Some(Err(message))) => {
                    Failure::new(p.segmented.article.id, ErrorKind::Inference, message)
                        .into_record()
                }
                (Ok(_), None) => unreachable!("prepared items are encoded"),
            })
            .collect()
    }

    /// Stage 2 ([`crate::segment`]): sentence spans and boilerplate flags.
    pub fn segment(&self, article: Article) -> Result<Segmented, Failure> {
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
        let texts: Vec<&str> = spans.iter().map(|s| s.text(&article.text)).collect();
        let standalone: Vec<bool> = (0..spans.len())
            .map(|i| {
                let para = spans[i].paragraph;
                (i == 0 || spans[i - 1].paragraph != para)
                    && spans.get(i + 1).is_none_or(|n| n.paragraph != para)
            })
            .collect();
        let boilerplate = self.boilerplate.detect(&texts, &standalone);
        Ok(Segmented {
            article,
            spans,
            boilerplate,
        })
    }

    /// Stage 3 ([`crate::encode`]), first half: word pieces of every sentence, then of the
    /// title.
    pub fn tokenize(&self, segmented: Segmented) -> Result<Prepared, Failure> {
        let article = &segmented.article;
        let tokenize =
            |t: &str| {
                self.model.classifier.tokenizer.tokenize(t).map_err(|err| {
                    Failure::new(&article.id, ErrorKind::Inference, error_chain(&err))
                })
            };
        let mut tokens = segmented
            .spans
            .iter()
            .map(|s| tokenize(s.text(&article.text)))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(title) = &article.title {
            tokens.push(tokenize(title)?);
        }
        Ok(Prepared { segmented, tokens })
    }

    /// Stage 3, second half: embeddings of every token sequence of `items`, encoded together
    /// in length-sorted batches, one batch per pool thread. One result per item: its
    /// embeddings, or the error of a batch that failed.
    pub fn encode(&self, items: &[&Prepared]) -> (Vec<Result<Array2<f32>, String>>, EncodeStats) {
        let sequences: Vec<&Tokens> = items.iter().flat_map(|p| &p.tokens).collect();
        let encoder = self.model.classifier.encoder.as_ref();
        let encoded = encode_sorted(
            &sequences,
            self.options.batch_size,
            encoder.hidden_size(),
            Schedule::Parallel,
            |batch| encoder.encode(batch),
            &mut |_, _| {},
        );
        let mut start = 0;
        let out = items
            .iter()
            .map(|p| {
                let rows = start..start + p.tokens.len();
                start = rows.end;
                match rows.clone().find_map(|r| encoded.error(r)) {
                    Some(err) => Err(error_chain(err)),
                    None => Ok(encoded.rows.slice(s![rows, ..]).to_owned()),
                }
            })
            .collect();
        (out, encoded.stats)
    }

    /// Stage 4 ([`crate::classify`]): label probabilities of every sentence and of the title.
    pub fn classify(&self, p: Prepared, embeddings: Array2<f32>) -> Result<Classified, Failure> {
        let Segmented {
            article,
            spans,
            boilerplate,
        } = p.segmented;
        let n = spans.len();
        // The head reads the article body as it read its training articles: page furniture
        // is neither a neighbour nor counted in positions.
        let body: Vec<usize> = (0..n).filter(|&i| !boilerplate[i]).collect();
        let features = article_features(
            embeddings.select(Axis(0), &body).view(),
            article.title.as_ref().map(|_| embeddings.row(n)),
        );
        let scores = self
            .model
            .classifier
            .head
            .predict(&features)
            .map_err(|err| Failure::new(&article.id, ErrorKind::Inference, error_chain(&err)))?;
        let mut body_scores = scores.iter();
        let sentences: Vec<Sentence> = spans
            .iter()
            .enumerate()
            .map(|(index, span)| {
                let scores = if boilerplate[index] {
                    Scores::certain(Label::Other)
                } else {
                    *body_scores.next().expect("one score per body sentence")
                };
                let (label, confidence) = scores.best();
                Sentence {
                    index,
                    start: span.start,
                    end: span.end,
                    paragraph: span.paragraph,
                    text: span.text(&article.text).to_string(),
                    label,
                    confidence,
                    scores,
                    boilerplate: boilerplate[index],
                }
            })
            .collect();
        let title = article.title.clone().map(|text| {
            let scores = scores[body.len()];
            let (label, confidence) = scores.best();
            Title {
                text,
                label,
                confidence,
                scores,
            }
        });
        Ok(Classified {
            article,
            sentences,
            title,
            embeddings,
        })
    }

    /// Stage 5 ([`crate::graph`]): the argument graph, completing the record.
    pub fn graph(&self, c: Classified) -> Record {
        let n = c.sentences.len();
        let title = c
            .title
            .as_ref()
            .map(|t| (t.text.as_str(), c.embeddings.row(n)));
        let graph =
            match self
                .model
                .graph
                .build(&c.sentences, c.embeddings.slice(s![..n, ..]), title)
            {
                Ok(g) => g,
                Err(err) => {
                    return Failure::new(c.article.id, ErrorKind::Inference, error_chain(&err))
                        .into_record()
                }
            };
        Record::Mined(Box::new(MinedArticle {
            id: c.article.id,
            title: c.title,
            sentences: c.sentences,
            graph,
            model: self.model.info(),
            meta: c.article.meta,
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
