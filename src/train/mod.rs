//! Datasets, training and evaluation of the sentence classifier.
//!
//! Training (`argmine train`) has two stages and keeps the better:
//! 1. **frozen**: the base encoder as it is, and the context head ([`crate::classify`])
//!    trained on its embeddings;
//! 2. **fine-tuned**: the encoder's transformer layers fine-tuned with a linear probe on
//!    single sentences ([`finetune`]), then the context head trained on the new embeddings.
//!
//! Both heads are selected by early stopping on dev, the score being the mean over domains of
//! the per-domain macro-F1, so that no single corpus dominates the choice. The temperature is
//! then fitted on dev.

pub mod datasets;
pub mod finetune;
pub mod graph;
pub mod metrics;

use crate::classify::{feature_width, write_features, Context, ContextHead, Domain, HeadConfig};
use crate::encode::{length_batches, Encoder, SentenceTokenizer, TokenBatch};
use crate::error::Result;
use crate::types::{Label, Scores};
use candle_core::{DType, Device, Tensor, D};
use candle_nn::{Optimizer, VarBuilder, VarMap};
use datasets::Row;
use ndarray::Array2;
use std::collections::{BTreeMap, HashMap};

/// Embeddings of a set of distinct texts.
pub struct TextEmbeddings {
    index: HashMap<String, usize>,
    matrix: Array2<f32>,
}

impl TextEmbeddings {
    /// Encodes every distinct text among the rows (units and their context) in length-sorted
    /// batches, calling `progress(done, total)` after each batch.
    pub fn of_rows(
        rows: &[Row],
        tokenizer: &SentenceTokenizer,
        encoder: &dyn Encoder,
        batch_size: usize,
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
        let lengths: Vec<usize> = tokens.iter().map(|t| t.ids.len()).collect();
        let mut matrix = Array2::zeros((texts.len(), encoder.hidden_size()));
        let mut done = 0;
        for batch in length_batches(&lengths, batch_size) {
            let rows: Vec<_> = batch.iter().map(|&i| &tokens[i]).collect();
            let out = encoder.encode(&TokenBatch::pad(&rows))?;
            for (r, &i) in batch.iter().enumerate() {
                matrix.row_mut(i).assign(&out.row(r));
            }
            done += batch.len();
            progress(done, texts.len());
        }
        Ok(TextEmbeddings { index, matrix })
    }

    /// The embedding of a text given to [`TextEmbeddings::of_rows`].
    pub fn get(&self, text: &str) -> ndarray::ArrayView1<'_, f32> {
        self.matrix.row(self.index[text])
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

/// Class weights `1/sqrt(freq)` over the weighted training labels, scaled to mean 1, so the
/// rare recommendation class is not drowned out without over-weighting it.
pub fn class_weights(rows: &[Row]) -> [f32; 4] {
    let mut counts = [0f32; 4];
    for r in rows {
        counts[r.label.index()] += r.weight;
    }
    let mut w = counts.map(|c| if c > 0.0 { 1.0 / c.sqrt() } else { 0.0 });
    let present = w.iter().filter(|&&x| x > 0.0).count().max(1) as f32;
    let mean = w.iter().sum::<f32>() / present;
    w.iter_mut().for_each(|x| *x /= mean);
    w
}

/// Weighted cross-entropy: `Σ w_i · −log p(y_i) / Σ w_i`.
pub fn weighted_cross_entropy(
    logits: &Tensor,
    labels: &Tensor,
    weights: &Tensor,
) -> candle_core::Result<Tensor> {
    let logp = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let picked = logp.gather(&labels.unsqueeze(1)?, 1)?.squeeze(1)?;
    let total = (picked * weights)?.sum_all()?;
    total.neg()? / weights.sum_all()?.to_scalar::<f32>()? as f64
}

/// The weighted cross-entropy of `logits` for the rows `batch` of `rows`, each row weighted by
/// its class weight times its own weight.
pub fn batch_loss(
    logits: &Tensor,
    rows: &[Row],
    batch: &[usize],
    class_weights: &[f32; 4],
) -> candle_core::Result<Tensor> {
    let device = logits.device();
    let y: Vec<u32> = batch
        .iter()
        .map(|&i| rows[i].label.index() as u32)
        .collect();
    let w: Vec<f32> = batch
        .iter()
        .map(|&i| class_weights[rows[i].label.index()] * rows[i].weight)
        .collect();
    weighted_cross_entropy(
        logits,
        &Tensor::from_vec(y, batch.len(), device)?,
        &Tensor::from_vec(w, batch.len(), device)?,
    )
}

/// Dev score used for model selection: mean over domains (news, comments, encyclopedia) of
/// each domain's macro-F1.
pub fn selection_score(rows: &[Row], predictions: &[Scores]) -> (f64, BTreeMap<String, f64>) {
    let mut by_source: BTreeMap<String, (Vec<Label>, Vec<Scores>)> = BTreeMap::new();
    for (r, p) in rows.iter().zip(predictions) {
        let domain = format!("{:?}", Domain::of_source(&r.source)).to_lowercase();
        let e = by_source.entry(domain).or_default();
        e.0.push(r.label);
        e.1.push(*p);
    }
    let per: BTreeMap<String, f64> = by_source
        .into_iter()
        .map(|(s, (g, p))| (s, metrics::evaluate(&g, &p).macro_f1))
        .collect();
    let mean = per.values().sum::<f64>() / per.len().max(1) as f64;
    (mean, per)
}

/// Settings of head training.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HeadTraining {
    pub hidden: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub dropout: f32,
    /// Stop after this many epochs without a better dev score.
    pub patience: usize,
    pub seed: u64,
}

impl Default for HeadTraining {
    fn default() -> Self {
        HeadTraining {
            hidden: 256,
            epochs: 40,
            batch_size: 64,
            learning_rate: 1e-3,
            weight_decay: 0.01,
            dropout: 0.2,
            patience: 6,
            seed: 17,
        }
    }
}

/// A trained head with its dev score and the variables to save.
pub struct TrainedHead {
    pub head: ContextHead,
    pub config: HeadConfig,
    pub vars: VarMap,
    pub dev_score: f64,
    pub dev_per_source: BTreeMap<String, f64>,
    pub epochs_run: usize,
}

/// A small deterministic generator (SplitMix64) for shuffling and dropout masks.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// Inverted dropout with a mask from `rng`, so training is reproducible.
pub fn dropout(x: &Tensor, p: f32, rng: &mut Rng) -> candle_core::Result<Tensor> {
    if p <= 0.0 {
        return Ok(x.clone());
    }
    let n = x.elem_count();
    let keep = 1.0 / (1.0 - p);
    let mask: Vec<f32> = (0..n)
        .map(|_| if rng.next_f32() < p { 0.0 } else { keep })
        .collect();
    x * Tensor::from_vec(mask, x.shape(), x.device())?
}

/// A dev score, the score per source, and a copy of the weights that reached it.
type Checkpoint = (f64, BTreeMap<String, f64>, HashMap<String, Tensor>);

/// Trains the context head on fixed features with AdamW and early stopping on dev.
pub fn train_head(
    train_x: &Array2<f32>,
    train_rows: &[Row],
    dev_x: &Array2<f32>,
    dev_rows: &[Row],
    input: usize,
    settings: &HeadTraining,
    log: &mut dyn FnMut(&str),
) -> Result<TrainedHead> {
    let device = Device::Cpu;
    let config = HeadConfig {
        input,
        hidden: settings.hidden,
        temperature: 1.0,
    };
    let vars = VarMap::new();
    let vb = VarBuilder::from_varmap(&vars, DType::F32, &device);
    let head = ContextHead::new(vb, &config)?;
    let mut opt = candle_nn::AdamW::new(
        vars.all_vars(),
        candle_nn::ParamsAdamW {
            lr: settings.learning_rate,
            weight_decay: settings.weight_decay,
            ..Default::default()
        },
    )?;
    let cw = class_weights(train_rows);
    let width = train_x.ncols();
    let mut rng = Rng::new(settings.seed);
    let mut order: Vec<usize> = (0..train_rows.len()).collect();
    let mut best: Option<Checkpoint> = None;
    let mut since_best = 0;
    let mut epochs_run = 0;
    for epoch in 0..settings.epochs {
        epochs_run = epoch + 1;
        rng.shuffle(&mut order);
        let mut loss_sum = 0.0;
        for batch in order.chunks(settings.batch_size) {
            let mut xs: Vec<f32> = Vec::with_capacity(batch.len() * width);
            for &i in batch {
                xs.extend(train_x.row(i).iter());
            }
            let x = Tensor::from_vec(xs, (batch.len(), width), &device)?;
            let x = dropout(&x, settings.dropout, &mut rng)?;
            let loss = batch_loss(&head.logits(&x)?, train_rows, batch, &cw)?;
            opt.backward_step(&loss)?;
            loss_sum += loss.to_scalar::<f32>()? as f64 * batch.len() as f64;
        }
        let (score, per) = selection_score(dev_rows, &head.predict(dev_x)?);
        log(&format!(
            "head epoch {:>2}: train loss {:.4}, dev score {:.4} {:?}",
            epoch + 1,
            loss_sum / train_rows.len() as f64,
            score,
            per
        ));
        if best.as_ref().is_none_or(|b| score > b.0) {
            let snapshot = vars
                .data()
                .lock()
                .expect("var map lock")
                .iter()
                .map(|(k, v)| Ok((k.clone(), v.as_tensor().copy()?)))
                .collect::<candle_core::Result<HashMap<_, _>>>()?;
            best = Some((score, per, snapshot));
            since_best = 0;
        } else {
            since_best += 1;
            if since_best >= settings.patience {
                break;
            }
        }
    }
    let (dev_score, dev_per_source, snapshot) = best.expect("at least one epoch");
    for (k, v) in vars.data().lock().expect("var map lock").iter() {
        v.set(&snapshot[k])?;
    }
    let mut trained = TrainedHead {
        head: ContextHead::new(VarBuilder::from_varmap(&vars, DType::F32, &device), &config)?,
        config,
        vars,
        dev_score,
        dev_per_source,
        epochs_run,
    };
    let t = fit_temperature(&trained.head, dev_x, dev_rows)?;
    trained.head.set_temperature(t);
    trained.config.temperature = t;
    Ok(trained)
}

/// The temperature in [0.5, 4] that minimises dev negative log-likelihood (grid search).
fn fit_temperature(head: &ContextHead, dev_x: &Array2<f32>, dev_rows: &[Row]) -> Result<f32> {
    let device = Device::Cpu;
    let x = Tensor::from_slice(
        dev_x.as_slice().expect("standard layout"),
        dev_x.dim(),
        &device,
    )?;
    let logits = head.logits(&x)?;
    let y: Vec<u32> = dev_rows.iter().map(|r| r.label.index() as u32).collect();
    let y = Tensor::from_vec(y, dev_rows.len(), &device)?;
    let ones = Tensor::ones(dev_rows.len(), DType::F32, &device)?;
    let mut best = (f32::INFINITY, 1.0);
    for step in 0..=70 {
        let t = 0.5 + step as f32 * 0.05;
        let nll = weighted_cross_entropy(&(&logits / t as f64)?, &y, &ones)?.to_scalar::<f32>()?;
        if nll < best.0 {
            best = (nll, t);
        }
    }
    Ok(best.1)
}

/// Everything `argmine train` needs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainOptions {
    /// Directory with the base model's `config.json`, `tokenizer.json`, `model.safetensors`.
    pub base: std::path::PathBuf,
    /// Dataset files (rows of [`datasets::Row`]); their train and dev splits are used.
    pub data: Vec<std::path::PathBuf>,
    pub out: std::path::PathBuf,
    pub name: String,
    pub max_tokens: usize,
    pub head: HeadTraining,
    pub finetune: finetune::FinetuneSettings,
    pub graph: graph::GraphTraining,
    /// Skip the fine-tuning stage (train only a head on the frozen encoder).
    pub frozen_only: bool,
}

/// What training did, saved next to the model as `training.json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainReport {
    pub options: TrainOptions,
    pub train_rows: usize,
    pub dev_rows: usize,
    pub frozen_dev_score: f64,
    pub frozen_dev_per_source: BTreeMap<String, f64>,
    pub finetuned_dev_score: Option<f64>,
    pub finetuned_dev_per_source: Option<BTreeMap<String, f64>>,
    pub finetune_minutes: Option<f64>,
    pub kept: String,
    pub temperature: f32,
    pub minutes: f64,
}

/// Trains both variants, keeps the better on dev, and writes the model directory.
pub fn train_model(
    options: &TrainOptions,
    log: &mut dyn FnMut(&str),
    progress: &mut dyn FnMut(&str, usize, usize, f32),
) -> Result<TrainReport> {
    use crate::model::{
        read_json, ModelMeta, CONFIG_FILE, ENCODER_FILE, HEAD_FILE, META_FILE, TOKENIZER_FILE,
    };
    let started = std::time::Instant::now();
    let mut rows = Vec::new();
    for path in &options.data {
        rows.extend(datasets::read_rows(path)?);
    }
    let (train, dev): (Vec<Row>, Vec<Row>) = rows
        .into_iter()
        .filter(|r| r.split != datasets::Split::Test)
        .partition(|r| r.split == datasets::Split::Train);
    let all: Vec<Row> = train.iter().chain(&dev).cloned().collect();
    log(&format!(
        "{} train rows, {} dev rows",
        train.len(),
        dev.len()
    ));

    let base = finetune::BaseEncoder {
        config: read_json(&options.base.join(CONFIG_FILE))?,
        tokenizer: SentenceTokenizer::from_file(
            &options.base.join(TOKENIZER_FILE),
            options.max_tokens,
        )?,
        tensors: candle_core::safetensors::load(options.base.join(ENCODER_FILE), &Device::Cpu)?
            .into_iter()
            .filter(|(_, t)| t.dtype().is_float())
            .map(|(k, t)| Ok((k, t.to_dtype(DType::F32)?)))
            .collect::<candle_core::Result<_>>()?,
    };

    let fit_head = |tensors: &HashMap<String, Tensor>,
                    stage: &str,
                    log: &mut dyn FnMut(&str),
                    progress: &mut dyn FnMut(&str, usize, usize, f32)|
     -> Result<(TrainedHead, TextEmbeddings)> {
        let vb = VarBuilder::from_tensors(tensors.clone(), DType::F32, &Device::Cpu);
        let encoder = crate::encode::candle::CandleEncoder::new(vb, &base.config, false)?;
        let emb = TextEmbeddings::of_rows(&all, &base.tokenizer, &encoder, 64, &mut |d, t| {
            progress(stage, d, t, 0.0)
        })?;
        let head = train_head(
            &emb.features(&train),
            &train,
            &emb.features(&dev),
            &dev,
            base.config.hidden_size,
            &options.head,
            log,
        )?;
        log(&format!(
            "{stage}: head dev score {:.4} {:?}",
            head.dev_score, head.dev_per_source
        ));
        Ok((head, emb))
    };

    let (frozen, frozen_emb) = fit_head(&base.tensors, "embed (frozen encoder)", log, progress)?;
    let mut report = TrainReport {
        options: options.clone(),
        train_rows: train.len(),
        dev_rows: dev.len(),
        frozen_dev_score: frozen.dev_score,
        frozen_dev_per_source: frozen.dev_per_source.clone(),
        finetuned_dev_score: None,
        finetuned_dev_per_source: None,
        finetune_minutes: None,
        kept: "frozen".into(),
        temperature: frozen.config.temperature,
        minutes: 0.0,
    };
    let mut kept = (base.tensors.clone(), frozen, frozen_emb);
    if !options.frozen_only {
        let tuned = finetune::finetune(
            &base,
            &train,
            &dev,
            &options.finetune,
            log,
            &mut |d, t, loss| progress("fine-tune", d, t, loss),
        )?;
        report.finetune_minutes = Some(tuned.minutes);
        let (head, emb) = fit_head(&tuned.tensors, "embed (fine-tuned encoder)", log, progress)?;
        report.finetuned_dev_score = Some(head.dev_score);
        report.finetuned_dev_per_source = Some(head.dev_per_source.clone());
        if head.dev_score > kept.1.dev_score {
            report.kept = "fine-tuned".into();
            report.temperature = head.config.temperature;
            kept = (tuned.tensors, head, emb);
        }
    }
    log(&format!("keeping the {} encoder", report.kept));

    let out = &options.out;
    std::fs::create_dir_all(out).map_err(|source| crate::Error::Write {
        path: out.clone(),
        source,
    })?;
    let f16: HashMap<String, Tensor> = kept
        .0
        .iter()
        .map(|(k, t)| Ok((k.clone(), t.to_dtype(DType::F16)?)))
        .collect::<candle_core::Result<_>>()?;
    candle_core::safetensors::save(&f16, out.join(ENCODER_FILE))?;
    kept.1.vars.save(out.join(HEAD_FILE))?;
    base.tokenizer.save(&out.join(TOKENIZER_FILE))?;
    let copy = |name: &str| {
        std::fs::copy(options.base.join(name), out.join(name)).map_err(|source| {
            crate::Error::Write {
                path: out.join(name),
                source,
            }
        })
    };
    copy(CONFIG_FILE)?;
    let data = graph::Embedded::new(&all, kept.2, &kept.1.head)?;
    let graph = fit_graph(out, &data, &options.graph, log, &mut |d, t, l| {
        progress("graph", d, t, l)
    })?;
    let meta = ModelMeta {
        name: options.name.clone(),
        revision: format!(
            "{}-{:016x}",
            report.kept,
            datasets::stable_hash(&format!("{:?}", kept.1.dev_score))
        ),
        max_tokens: options.max_tokens,
        head: kept.1.config.clone(),
        graph: Some(graph),
    };
    report.minutes = started.elapsed().as_secs_f64() / 60.0;
    write_json(&out.join(META_FILE), &meta)?;
    write_json(&out.join("training.json"), &report)?;
    Ok(report)
}

/// Trains the graph components on embedded rows, writes their weights and report into the
/// model directory `out`, and returns what `argmine.json` records of them.
pub fn fit_graph(
    out: &std::path::Path,
    data: &graph::Embedded,
    settings: &graph::GraphTraining,
    log: &mut dyn FnMut(&str),
    progress: &mut dyn FnMut(usize, usize, f32),
) -> Result<crate::graph::GraphMeta> {
    let trained = graph::train_graph(data, settings, log, progress)?;
    trained.vars.save(out.join(crate::model::GRAPH_FILE))?;
    write_json(&out.join(GRAPH_REPORT_FILE), &trained.report)?;
    Ok(crate::graph::GraphMeta {
        link: trained.config,
        thesis: trained.model.thesis,
    })
}

/// Where [`fit_graph`] reports what graph training reached.
pub const GRAPH_REPORT_FILE: &str = "graph-training.json";

/// Which graph components [`retrain_graph`] fits again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphRefit {
    /// The link scorer and the thesis scorer.
    LinksAndThesis,
    /// Only the thesis scorer, on the model's link scorer (whose weights stay as they are).
    Thesis,
}

/// Retrains the graph components of the model in `dir` on the train and dev splits of `data`,
/// keeping its encoder and head, and updates `argmine.json` and the graph report.
pub fn retrain_graph(
    dir: &std::path::Path,
    data: &[std::path::PathBuf],
    settings: &graph::GraphTraining,
    refit: GraphRefit,
    log: &mut dyn FnMut(&str),
    progress: &mut dyn FnMut(&str, usize, usize, f32),
) -> Result<()> {
    let model = crate::model::Classifier::load(dir, crate::encode::Backend::Candle)?;
    let mut rows = Vec::new();
    for path in data {
        rows.extend(
            datasets::read_rows(path)?
                .into_iter()
                .filter(|r| r.split != datasets::Split::Test),
        );
    }
    let emb = TextEmbeddings::of_rows(
        &rows,
        &model.tokenizer,
        model.encoder.as_ref(),
        64,
        &mut |d, t| progress("embed", d, t, 0.0),
    )?;
    let embedded = graph::Embedded::new(&rows, emb, &model.head)?;
    let mut meta = model.meta.clone();
    meta.graph = Some(match (refit, &model.meta.graph) {
        (GraphRefit::Thesis, Some(graph_meta)) => {
            let links = crate::model::load_links(dir, &graph_meta.link)?;
            let (thesis, thesis_report) =
                graph::fit_thesis_scorer(&links, &embedded, settings, log)?;
            let report_path = dir.join(GRAPH_REPORT_FILE);
            let mut report: graph::GraphReport = crate::model::read_json(&report_path)?;
            report.settings.thesis_l2 = settings.thesis_l2.clone();
            report.thesis = thesis_report;
            write_json(&report_path, &report)?;
            crate::graph::GraphMeta {
                link: graph_meta.link.clone(),
                thesis,
            }
        }
        (GraphRefit::Thesis, None) => {
            return Err(crate::Error::Model {
                dir: dir.to_path_buf(),
                reason: "it has no link scorer to refit the thesis scorer on".into(),
            })
        }
        (GraphRefit::LinksAndThesis, _) => {
            fit_graph(dir, &embedded, settings, log, &mut |d, t, l| {
                progress("graph", d, t, l)
            })?
        }
    });
    write_json(&dir.join(crate::model::META_FILE), &meta)
}

/// Writes a value as pretty JSON with a final newline.
pub fn write_json<T: serde::Serialize>(path: &std::path::Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(|source| crate::Error::Json {
        path: path.to_path_buf(),
        source,
    })?;
    text.push('\n');
    std::fs::write(path, text).map_err(|source| crate::Error::Write {
        path: path.to_path_buf(),
        source,
    })
}
