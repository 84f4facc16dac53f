//! `argmine datasets` and `argmine train`: the datasets built from the raw corpora, and the
//! model trained on them.

use super::args::{progress_bar, set_threads};
use super::EXIT_OK;
use anyhow::{Context, Result};
use argmine::model::ModelDir;
use argmine::segment::SrxSegmenter;
use argmine::train::datasets::{self, cdcp, ibm, samples, webis, written};
use argmine::train::finetune::FinetuneSettings;
use argmine::train::graph::GraphTraining;
use argmine::train::head::HeadTraining;
use argmine::train::recipe::{self, GraphRefit, HeadRefitOptions, TrainOptions};
use argmine::Choice;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct DatasetsArgs {
    /// Directory with the raw corpora (`cdcp/`, `ibm-ce-emnlp15/`, `webis-editorials-16/`,
    /// `federalist/`).
    #[arg(long)]
    pub raw: PathBuf,
    /// The seed op-ed, copied into the samples.
    #[arg(long)]
    pub seed: PathBuf,
    /// Output directory (`datasets/`).
    #[arg(long, default_value = "datasets")]
    pub out: PathBuf,
}

pub fn datasets(args: DatasetsArgs) -> Result<i32> {
    let segmenter = SrxSegmenter::english()?;
    let out = &args.out;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let news = written::read(&out.join("news-written"))?;
    let editorials = webis::convert(
        &args.raw.join("webis-editorials-16/editorials.jsonl"),
        &segmenter,
    )?;
    datasets::write_jsonl(&out.join("webis-editorials.jsonl"), &editorials)?;
    // the hand-annotated editorials: the gold that argmine trains and is measured on
    let gold = written::read(&out.join("webis-graphs"))?;
    let sets = [
        ("cdcp.jsonl", cdcp::convert(&args.raw.join("cdcp"))?),
        (
            "ibm.jsonl",
            ibm::convert(&args.raw.join("ibm-ce-emnlp15"), &segmenter)?,
        ),
        ("news-written.jsonl", written::convert(&news)),
        ("webis.jsonl", written::convert(&editorials)),
        ("webis-graphs.jsonl", written::convert(&gold)),
    ];
    for (name, rows) in &sets {
        datasets::write_jsonl(&out.join(name), rows)?;
        let mut counts = BTreeMap::new();
        for r in rows {
            *counts
                .entry((r.split.name(), r.label.name()))
                .or_insert(0usize) += 1;
        }
        eprintln!("{name}: {} rows {:?}", rows.len(), counts);
    }
    samples::write(
        &args.seed,
        &args.raw.join("federalist/federalist.csv"),
        &out.join("samples"),
    )?;
    Ok(EXIT_OK)
}

#[derive(clap::Args)]
pub struct TrainArgs {
    /// Dataset files; their train and dev splits are used.
    #[arg(long, required = true, num_args = 1..)]
    pub data: Vec<PathBuf>,
    /// Base model directory (config.json, tokenizer.json, model.safetensors): the encoder
    /// that training starts from, and whose space the thesis scorer measures similarity in.
    #[arg(long, required_unless_present = "thresholds_only")]
    pub base: Option<PathBuf>,
    /// Where to write the trained model.
    #[arg(long)]
    pub out: PathBuf,
    /// Retrain the head of the model in `--out` on its encoder (trying each weight of the
    /// written articles, chosen on dev), then its link and thesis scorers.
    #[arg(long, conflicts_with_all = ["graph_only", "thesis_only", "thresholds_only"])]
    pub head_only: bool,
    /// Retrain only the link and thesis scorers of the model in `--out`, keeping its encoder
    /// and head.
    #[arg(long, conflicts_with_all = ["thesis_only", "thresholds_only"])]
    pub graph_only: bool,
    /// Refit only the thesis scorer of the model in `--out`, keeping its encoder, head and
    /// link scorer.
    #[arg(long, conflicts_with = "thresholds_only")]
    pub thesis_only: bool,
    /// Choose only the link thresholds of the model in `--out` on dev, keeping everything
    /// else.
    #[arg(long)]
    pub thresholds_only: bool,
    #[arg(long, default_value = "argmine-minilm")]
    pub name: String,
    /// Fine-tuning epochs (early stopping may end sooner).
    #[arg(long, default_value_t = FinetuneSettings::default().epochs)]
    pub epochs: usize,
    /// Stop starting fine-tuning epochs after this many minutes.
    #[arg(long, default_value_t = FinetuneSettings::default().max_minutes)]
    pub max_minutes: f64,
    /// Peak learning rate of the encoder during fine-tuning.
    #[arg(long, default_value_t = FinetuneSettings::default().learning_rate)]
    pub learning_rate: f64,
    /// Fine-tune only the top N transformer layers; the states entering them are computed once
    /// (how a 12-layer encoder trains on a few CPU cores).
    #[arg(long, value_name = "N")]
    pub trainable_layers: Option<std::num::NonZeroUsize>,
    /// Train only a head on the frozen encoder.
    #[arg(long)]
    pub frozen_only: bool,
    /// Distil: a trained model directory whose probabilities the train rows are trained
    /// towards, half and half with their gold labels (repeat it to average several teachers);
    /// with `--head-only`, only the head learns from them.
    #[arg(long = "teacher", value_name = "DIR", conflicts_with_all = ["graph_only", "thesis_only", "thresholds_only"])]
    pub teachers: Vec<PathBuf>,
    #[arg(long, default_value_t = 17)]
    pub seed: u64,
    #[arg(long)]
    pub threads: Option<usize>,
}

impl TrainArgs {
    /// The graph scorers to refit alone, if only those.
    fn refit(&self) -> Result<Option<GraphRefit>> {
        let base = || self.base.clone().context("--base is required");
        Ok(if self.thesis_only {
            Some(GraphRefit::Thesis { base: base()? })
        } else if self.thresholds_only {
            Some(GraphRefit::Thresholds)
        } else if self.graph_only {
            Some(GraphRefit::LinksAndThesis { base: base()? })
        } else {
            None
        })
    }
}

pub fn run(args: TrainArgs) -> Result<i32> {
    set_threads(args.threads)?;
    let graph = GraphTraining {
        seed: args.seed,
        ..Default::default()
    };
    let bar = progress_bar("{spinner} {elapsed_precise} {msg}");
    let mut log = |line: &str| bar.suspend(|| eprintln!("{line}"));
    let bar2 = bar.clone();
    let mut last_tenth = (String::new(), usize::MAX);
    let mut progress = |stage: &str, done: usize, total: usize, loss: f32| {
        let loss = if loss > 0.0 {
            format!(" loss {loss:.4}")
        } else {
            String::new()
        };
        let message = format!("{stage}: {done}/{total}{loss}");
        if !bar2.is_hidden() {
            bar2.set_message(message);
            return;
        }
        // Not a terminal: a line at every tenth of each stage.
        let tenth = done * 10 / total.max(1);
        if (stage, tenth) != (last_tenth.0.as_str(), last_tenth.1) {
            eprintln!("{message}");
            last_tenth = (stage.to_string(), tenth);
        }
    };
    let head = HeadTraining {
        seed: args.seed,
        ..Default::default()
    };
    if args.head_only {
        let options = HeadRefitOptions {
            data: args.data,
            base: args.base.context("--base is required")?,
            teachers: args.teachers,
            head,
            graph,
        };
        let refit =
            recipe::retrain_head(&ModelDir::new(&args.out), &options, &mut log, &mut progress)?;
        bar.finish_and_clear();
        eprintln!(
            "head refitted in {} (written weight {}, dev score {:.4}), then its graph scorers; \
             {:.1} min",
            args.out.display(),
            refit.written_weight,
            refit.dev_score,
            refit.minutes
        );
        return Ok(EXIT_OK);
    }
    if let Some(refit) = args.refit()? {
        recipe::retrain_graph(
            &ModelDir::new(&args.out),
            &args.data,
            &graph,
            refit,
            &mut log,
            &mut progress,
        )?;
        bar.finish_and_clear();
        eprintln!("graph scorers refitted in {}", args.out.display());
        return Ok(EXIT_OK);
    }
    let base = args.base.context("--base is required")?;
    let options = TrainOptions {
        base,
        data: args.data,
        out: args.out,
        name: args.name,
        max_tokens: 256,
        head,
        finetune: FinetuneSettings {
            epochs: args.epochs,
            learning_rate: args.learning_rate,
            max_minutes: args.max_minutes,
            seed: args.seed,
            trainable_layers: args.trainable_layers,
            ..Default::default()
        },
        graph,
        frozen_only: args.frozen_only,
        teachers: args.teachers,
    };
    let report = recipe::train_model(&options, &mut log, &mut progress)?;
    bar.finish_and_clear();
    eprintln!(
        "kept the {} model (dev score {:.4} frozen, {} fine-tuned); {:.1} min; written to {}",
        report.kept,
        report.frozen_dev_score,
        report
            .finetuned_dev_score
            .map_or("-".into(), |s| format!("{s:.4}")),
        report.minutes,
        options.out.display()
    );
    Ok(EXIT_OK)
}
