//! The end-to-end recipe of `argmine train`, and the refits of parts of a trained model: the
//! head and the graph scorers after it, or the graph scorers alone.
//!
//! Training has two stages and keeps the better:
//! 1. **frozen**: the base encoder as it is, and the context head ([`super::head`]) trained on
//!    its embeddings;
//! 2. **fine-tuned**: the encoder's transformer layers fine-tuned with a linear probe on
//!    single sentences ([`super::finetune`]), then the context head trained on the new
//!    embeddings.
//!
//! Both heads are selected by early stopping on dev ([`super::head::selection_score`]); the
//! graph scorers ([`super::graph`]) are then trained on the kept encoder's embeddings, and the
//! whole model is written through [`ModelDir`].

use super::datasets::{self, Row, Split};
use super::distil;
use super::embed::TextEmbeddings;
use super::finetune::{self, BaseEncoder, FinetuneSettings};
use super::graph::{self, GraphTraining};
use super::head::{train_head, HeadTraining, TrainedHead};
use crate::encode::bert::{Mode, Precision};
use crate::encode::candle::CandleEncoder;
use crate::encode::gemm::Level;
use crate::encode::Backend;
use crate::error::{Error, Result};
use crate::graph::semantic::SemanticMap;
use crate::graph::GraphMeta;
use crate::model::{Classifier, ModelDir, ModelMeta, Report};
use crate::types::stable_hash;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// Everything `argmine train` needs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainOptions {
    /// Directory with the base model's `config.json`, `tokenizer.json`, `model.safetensors`.
    pub base: PathBuf,
    /// Dataset files (rows of [`datasets::Row`]); their train and dev splits are used.
    pub data: Vec<PathBuf>,
    pub out: PathBuf,
    pub name: String,
    pub max_tokens: usize,
    pub head: HeadTraining,
    pub finetune: FinetuneSettings,
    pub graph: GraphTraining,
    /// Skip the fine-tuning stage (train only a head on the frozen encoder).
    pub frozen_only: bool,
    /// Model directories whose averaged probabilities the train rows are also trained towards
    /// ([`distil`]); none: gold labels alone.
    pub teachers: Vec<PathBuf>,
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
    /// The kept head's multiplier of the written articles' row weights.
    pub written_weight: f32,
    pub minutes: f64,
}

/// The rows of the train and dev splits of the dataset files (test rows are never read into
/// training).
fn training_rows(data: &[PathBuf]) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for path in data {
        rows.extend(
            datasets::read_rows(path)?
                .into_iter()
                .filter(|r| r.split != Split::Test),
        );
    }
    Ok(rows)
}

/// Trains both variants, keeps the better on dev, and writes the model directory.
pub fn train_model(
    options: &TrainOptions,
    log: &mut dyn FnMut(&str),
    progress: &mut dyn FnMut(&str, usize, usize, f32),
) -> Result<TrainReport> {
    let started = std::time::Instant::now();
    let mut rows = training_rows(&options.data)?;
    distil::teach(&mut rows, &options.teachers, &mut |t, d, n| {
        progress(t, d, n, 0.0)
    })?;
    let (train, dev): (Vec<Row>, Vec<Row>) =
        rows.into_iter().partition(|r| r.split == Split::Train);
    let all: Vec<Row> = train.iter().chain(&dev).cloned().collect();
    log(&format!(
        "{} train rows, {} dev rows",
        train.len(),
        dev.len()
    ));

    let base_dir = ModelDir::new(&options.base);
    let base = BaseEncoder::load(&base_dir, options.max_tokens)?;

    let fit_head = |tensors: &HashMap<String, Tensor>,
                    stage: &str,
                    log: &mut dyn FnMut(&str),
                    progress: &mut dyn FnMut(&str, usize, usize, f32)|
     -> Result<(TrainedHead, TextEmbeddings)> {
        let emb = embed_rows(&base, tensors, &all, &mut |d, t| progress(stage, d, t, 0.0))?;
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

    let (frozen, base_emb) = fit_head(&base.tensors, "embed (frozen encoder)", log, progress)?;
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
        written_weight: frozen.written_weight,
        minutes: 0.0,
    };
    // the kept encoder's tensors, head, and embeddings (`None`: the base encoder's)
    let mut kept = (base.tensors.clone(), frozen, None);
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
            report.written_weight = head.written_weight;
            kept = (tuned.tensors, head, Some(emb));
        }
    }
    log(&format!("keeping the {} encoder", report.kept));

    let out = ModelDir::new(&options.out);
    out.create()?;
    out.write_encoder(&kept.0)?;
    out.write_head(&kept.1.vars)?;
    out.write_tokenizer(&base.tokenizer)?;
    out.copy_config_from(&base_dir)?;
    let semantic = graph::fit_semantic_map(kept.2.as_ref().unwrap_or(&base_emb), &base_emb);
    let data = graph::Embedded::new(&all, kept.2.unwrap_or(base_emb), &kept.1.head)?;
    let graph = fit_graph(
        &out,
        &data,
        semantic,
        &options.graph,
        log,
        &mut |d, t, l| progress("graph", d, t, l),
    )?;
    let meta = ModelMeta {
        name: options.name.clone(),
        revision: format!(
            "{}-{:016x}",
            report.kept,
            stable_hash(&format!("{:?}", kept.1.dev_score))
        ),
        max_tokens: options.max_tokens,
        head: kept.1.config.clone(),
        graph: Some(graph),
    };
    report.minutes = started.elapsed().as_secs_f64() / 60.0;
    out.write_meta(&meta)?;
    out.write_report(Report::Training, &report)?;
    Ok(report)
}

/// Every distinct text of `rows` embedded by the encoder with `tensors` (the base encoder's,
/// or fine-tuned from them), in f32.
fn embed_rows(
    base: &BaseEncoder,
    tensors: &HashMap<String, Tensor>,
    rows: &[Row],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<TextEmbeddings> {
    let vb = VarBuilder::from_tensors(tensors.clone(), DType::F32, &Device::Cpu);
    let inference = Mode::Inference {
        precision: Precision::F32,
        level: Level::from_env()?,
    };
    let encoder = CandleEncoder::new(vb, &base.config, inference)?;
    TextEmbeddings::of_rows(rows, &base.tokenizer, &encoder, progress)
}

/// Trains the graph components on embedded rows (with `semantic`, the map of their
/// embeddings into the base encoder's), writes their weights and report into the model
/// directory `out`, and returns what `argmine.json` records of them.
fn fit_graph(
    out: &ModelDir,
    data: &graph::Embedded,
    semantic: SemanticMap,
    settings: &GraphTraining,
    log: &mut dyn FnMut(&str),
    progress: &mut dyn FnMut(usize, usize, f32),
) -> Result<GraphMeta> {
    let trained = graph::train_graph(data, semantic, settings, log, progress)?;
    out.write_links(&trained.vars)?;
    out.write_semantic_map(&trained.model.semantic)?;
    out.write_report(Report::Graph, &trained.report)?;
    Ok(GraphMeta {
        link: trained.config,
        thesis: trained.model.thesis,
    })
}

/// What every refit starts from: the model in `dir`, the train and dev rows of `data`, and
/// their embeddings by the model's encoder.
fn model_and_embedded_rows(
    dir: &ModelDir,
    data: &[PathBuf],
    progress: &mut dyn FnMut(&str, usize, usize, f32),
) -> Result<(Classifier, Vec<Row>, TextEmbeddings)> {
    let model = Classifier::load(dir, Backend::Candle)?;
    let rows = training_rows(data)?;
    let emb = TextEmbeddings::of_rows(
        &rows,
        &model.tokenizer,
        model.encoder.as_ref(),
        &mut |d, t| progress("embed", d, t, 0.0),
    )?;
    Ok((model, rows, emb))
}

/// What a head refit ([`retrain_head`]) reached, saved in `training.json` as `head_refit`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HeadRefit {
    pub settings: HeadTraining,
    pub teachers: Vec<PathBuf>,
    pub written_weight: f32,
    /// Every written weight tried, with its dev selection score.
    pub tried: Vec<(f32, f64)>,
    pub dev_score: f64,
    pub dev_per_source: BTreeMap<String, f64>,
    pub temperature: f32,
    pub minutes: f64,
}

/// Everything a head refit ([`retrain_head`]) needs besides the model directory.
#[derive(Debug, Clone)]
pub struct HeadRefitOptions {
    /// Dataset files; their train and dev splits are used.
    pub data: Vec<PathBuf>,
    /// The encoder the model was fine-tuned from, in whose space the thesis scorer measures
    /// similarity.
    pub base: PathBuf,
    /// Models whose averaged probabilities the head also learns from ([`distil`]).
    pub teachers: Vec<PathBuf>,
    pub head: HeadTraining,
    pub graph: GraphTraining,
}

/// Retrains the head of the model in `dir` on its encoder's embeddings of the train and dev
/// splits of the data ([`train_head`], which chooses the written articles' weight on dev), then
/// its link and thesis scorers, whose features include the head's probabilities.
pub fn retrain_head(
    dir: &ModelDir,
    options: &HeadRefitOptions,
    log: &mut dyn FnMut(&str),
    progress: &mut dyn FnMut(&str, usize, usize, f32),
) -> Result<HeadRefit> {
    let started = std::time::Instant::now();
    let (model, mut rows, emb) = model_and_embedded_rows(dir, &options.data, progress)?;
    distil::teach(&mut rows, &options.teachers, &mut |t, d, n| {
        progress(t, d, n, 0.0)
    })?;
    let (train, dev): (Vec<Row>, Vec<Row>) =
        rows.iter().cloned().partition(|r| r.split == Split::Train);
    let head = train_head(
        &emb.features(&train),
        &train,
        &emb.features(&dev),
        &dev,
        model.meta.head.input,
        &options.head,
        log,
    )?;

    let base = BaseEncoder::load(&ModelDir::new(&options.base), model.meta.max_tokens)?;
    let base_emb = embed_rows(&base, &base.tensors, &rows, &mut |d, t| {
        progress("embed (base encoder)", d, t, 0.0)
    })?;
    let semantic = graph::fit_semantic_map(&emb, &base_emb);
    let embedded = graph::Embedded::new(&rows, emb, &head.head)?;
    let graph = fit_graph(
        dir,
        &embedded,
        semantic,
        &options.graph,
        log,
        &mut |d, t, l| progress("graph", d, t, l),
    )?;

    // edited as JSON, so that what this refit does not touch stays as it was written
    let mut report: serde_json::Value = dir.read_report(Report::Training)?;
    let kept = report["kept"].as_str().unwrap_or("fine-tuned").to_string();
    let refit = HeadRefit {
        settings: options.head.clone(),
        teachers: options.teachers.clone(),
        written_weight: head.written_weight,
        tried: head.tried.clone(),
        dev_score: head.dev_score,
        dev_per_source: head.dev_per_source.clone(),
        temperature: head.config.temperature,
        minutes: started.elapsed().as_secs_f64() / 60.0,
    };
    report["temperature"] = json_value(&head.config.temperature);
    report["written_weight"] = json_value(&head.written_weight);
    report["head_refit"] = json_value(&refit);
    dir.write_report(Report::Training, &report)?;
    dir.write_head(&head.vars)?;
    let meta = ModelMeta {
        revision: format!(
            "{kept}-{:016x}",
            stable_hash(&format!("{:?}", head.dev_score))
        ),
        head: head.config.clone(),
        graph: Some(graph),
        ..model.meta.clone()
    };
    dir.write_meta(&meta)?;
    Ok(refit)
}

/// Which graph components [`retrain_graph`] fits again. The thesis scorer's similarities are
/// measured in the space of the `base` encoder that the model was fine-tuned from
/// ([`SemanticMap`]), so refitting it needs that encoder's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphRefit {
    /// The link scorer and the thesis scorer.
    LinksAndThesis { base: PathBuf },
    /// Only the thesis scorer, on the model's link scorer (whose weights stay as they are).
    Thesis { base: PathBuf },
    /// Only the link thresholds, chosen on dev for the model's link scorer (whose weights
    /// stay as they are).
    Thresholds,
}

/// Retrains the graph components of the model in `dir` on the train and dev splits of `data`,
/// keeping its encoder and head, and updates `argmine.json` and the graph report.
pub fn retrain_graph(
    dir: &ModelDir,
    data: &[PathBuf],
    settings: &GraphTraining,
    refit: GraphRefit,
    log: &mut dyn FnMut(&str),
    progress: &mut dyn FnMut(&str, usize, usize, f32),
) -> Result<()> {
    let (model, rows, emb) = model_and_embedded_rows(dir, data, progress)?;
    let semantic = match &refit {
        GraphRefit::LinksAndThesis { base } | GraphRefit::Thesis { base } => {
            let base = BaseEncoder::load(&ModelDir::new(base), model.meta.max_tokens)?;
            let base_emb = embed_rows(&base, &base.tensors, &rows, &mut |d, t| {
                progress("embed (base encoder)", d, t, 0.0)
            })?;
            Some(graph::fit_semantic_map(&emb, &base_emb))
        }
        GraphRefit::Thresholds => None,
    };
    let embedded = graph::Embedded::new(&rows, emb, &model.head)?;
    let mut meta = model.meta.clone();
    let (semantic, graph_meta) = match (semantic, &refit, &model.meta.graph) {
        (Some(semantic), GraphRefit::LinksAndThesis { .. }, _) => {
            meta.graph = Some(fit_graph(
                dir,
                &embedded,
                semantic,
                settings,
                log,
                &mut |d, t, l| progress("graph", d, t, l),
            )?);
            return dir.write_meta(&meta);
        }
        (semantic, _, Some(graph_meta)) => (semantic, graph_meta.clone()),
        (_, _, None) => {
            return Err(Error::NoGraphScorers {
                dir: dir.path().to_path_buf(),
            })
        }
    };
    let links = dir.links(&graph_meta.link)?;
    // edited as JSON, so that what this refit does not touch stays as it was written
    let mut report: serde_json::Value = dir.read_report(Report::Graph)?;
    let mut refitted = graph_meta;
    if let Some(semantic) = semantic {
        let (thesis, thesis_report) =
            graph::fit_thesis_scorer(&links, &semantic, &embedded, settings, log)?;
        report["settings"]["thesis_l2"] = serde_json::json!(settings.thesis_l2);
        report["settings"]["thesis_written_weights"] =
            serde_json::json!(settings.thesis_written_weights);
        report["settings"]["thesis_embedding_l2_scales"] =
            serde_json::json!(settings.thesis_embedding_l2_scales);
        report["thesis"] = json_value(&thesis_report);
        dir.write_semantic_map(&semantic)?;
        refitted.thesis = thesis;
    } else {
        let docs = graph::documents(&rows);
        let dev: Vec<&graph::Doc> = docs.iter().filter(|d| d.split == Split::Dev).collect();
        let choice = graph::choose_thresholds(&links, &embedded, &dev)?;
        log(&format!(
            "links: thresholds {:?} (dev F1 {:.4})",
            choice.thresholds, choice.score
        ));
        refitted.link.thresholds = choice.thresholds;
        report["thresholds"] = json_value(&choice);
    }
    dir.write_report(Report::Graph, &report)?;
    meta.graph = Some(refitted);
    dir.write_meta(&meta)
}

/// `value` as a JSON value whose floats read as printed: an f32 0.45 stays 0.45 rather than
/// widening to 0.44999998807907104, as `serde_json::to_value` would make it.
fn json_value(value: &impl serde::Serialize) -> serde_json::Value {
    let text = serde_json::to_string(value).expect("reports serialise");
    serde_json::from_str(&text).expect("serialised JSON parses")
}
