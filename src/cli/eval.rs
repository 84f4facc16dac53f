//! `argmine eval`: a model scored on a dataset split, printed as tables or JSON.

use super::args::{choice, set_threads, ModelArgs};
use super::EXIT_OK;
use anyhow::Result;
use argmine::model::Model;
use argmine::segment::SrxSegmenter;
use argmine::train::datasets::{self, Row, Split};
use argmine::train::evaluate::{self, Task};
use argmine::train::probe;
use argmine::{Pipeline, PipelineOptions};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct EvalArgs {
    /// What to evaluate.
    #[arg(long, value_parser = choice::<Task>(), default_value_t = Task::Classify)]
    pub task: Task,
    /// Dataset files (`classify`, `links`, `thesis`), or directories of written articles
    /// (`segment`).
    #[arg(long, required = true, num_args = 1..)]
    pub data: Vec<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Which split to score (the probe also reads train and dev, to fit itself).
    #[arg(long, value_parser = choice::<Split>(), default_value_t = Split::Test)]
    pub split: Split,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    #[arg(long)]
    pub threads: Option<usize>,
}

pub fn run(args: EvalArgs) -> Result<i32> {
    set_threads(args.threads)?;
    match args.task {
        Task::Classify => classify(&args),
        Task::Segment => segment(&args),
        Task::Links => links(&args),
        Task::Thesis => thesis(&args),
        Task::Probe => probe(&args),
    }?;
    Ok(EXIT_OK)
}

/// The model, and the rows of the split to score it on.
fn model_and_rows(args: &EvalArgs) -> Result<(Model, Vec<Row>)> {
    Ok((
        args.model.load()?,
        evaluate::split_rows(&args.data, args.split)?,
    ))
}

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn classify(args: &EvalArgs) -> Result<()> {
    let (model, rows) = model_and_rows(args)?;
    let results = evaluate::classification(&model.classifier, &rows)?;
    if args.json {
        return print_json(&results);
    }
    for (source, m) in &results {
        println!("== {source} ({:?} split)\n{m}", args.split);
    }
    Ok(())
}

fn segment(args: &EvalArgs) -> Result<()> {
    let m = evaluate::segmentation(&args.data, &SrxSegmenter::english()?)?;
    if args.json {
        return print_json(&m);
    }
    println!(
        "sentence boundaries: precision {:.4}, recall {:.4}, F1 {:.4}; exact sentences {:.4} ({} gold, {} predicted)",
        m.precision, m.recall, m.f1, m.exact_sentences, m.gold_sentences, m.predicted_sentences
    );
    Ok(())
}

fn links(args: &EvalArgs) -> Result<()> {
    let (model, rows) = model_and_rows(args)?;
    let pipeline = Pipeline::new(model, PipelineOptions::default())?;
    let results = evaluate::links(&pipeline, &rows)?;
    if args.json {
        return print_json(&results);
    }
    for (source, r) in &results {
        for (what, m) in [
            ("gold units and thesis", &r.metrics),
            ("mined end to end", &r.end_to_end),
            (
                "baseline: nearest claim before, gold units and thesis",
                &r.nearest_claim_model_labels,
            ),
            (
                "the same baseline with the gold labels, for every model",
                &r.nearest_claim_gold_labels,
            ),
        ] {
            println!(
                "{source}: links ({what}) precision {:.4}, recall {:.4}, F1 {:.4} ({} gold, {} predicted, {} correct; {} documents)",
                m.precision, m.recall, m.f1, m.gold, m.predicted, m.correct, r.documents
            );
        }
    }
    Ok(())
}

fn thesis(args: &EvalArgs) -> Result<()> {
    let (model, rows) = model_and_rows(args)?;
    let results = evaluate::thesis(&model, &rows)?;
    if args.json {
        return print_json(&results);
    }
    for (source, m) in &results {
        println!(
            "{source}: thesis accuracy {:.4} ({} of {} documents), top 3 {:.4}; {} gold theses not labelled claim or recommendation; baselines: first candidate {:.4}, last {:.4}, most similar to the headline {:.4}",
            m.accuracy,
            m.correct,
            m.documents,
            m.top3_accuracy,
            m.not_a_candidate,
            m.first_candidate_accuracy,
            m.last_candidate_accuracy,
            m.headline_similarity_accuracy
        );
    }
    Ok(())
}

fn probe(args: &EvalArgs) -> Result<()> {
    let model = args.model.load()?;
    let mut rows = Vec::new();
    for path in &args.data {
        rows.extend(datasets::read_rows(path)?);
    }
    let r = probe::probe(&model.classifier, &rows, args.split)?;
    if args.json {
        return print_json(&r);
    }
    println!(
        "{:<14} {:>9} {:>9} {:>9} {:>8}",
        "type", "precision", "recall", "F1", "support"
    );
    for t in &r.types {
        println!(
            "{:<14} {:>9.4} {:>9.4} {:>9.4} {:>8}",
            t.name, t.precision, t.recall, t.f1, t.support
        );
    }
    println!(
        "macro-F1 {:.4} ({} types), {:.4} without single-item types; accuracy {:.4}; n={}; dev macro-F1 {:.4}",
        r.macro_f1,
        r.types.iter().filter(|t| t.support > 0).count(),
        r.macro_f1_without_singletons,
        r.accuracy,
        r.examples,
        r.dev_macro_f1
    );
    Ok(())
}
