//! The `argmine` command line: argument parsing, progress display and exit codes.

use anyhow::{Context, Result};
use argmine::encode::candle::use_batch_parallelism;
use argmine::export::Durable;
use argmine::ingest::{ingested_id, read_inputs, IngestOptions};
use argmine::train::datasets::{self, Split};
use argmine::train::graph::{self, GraphTraining};
use argmine::train::{
    finetune::FinetuneSettings, metrics, GraphRefit, HeadTraining, TextEmbeddings, TrainOptions,
};
use argmine::{encode::Backend, model::Model, Label, Pipeline, PipelineOptions, Record};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

/// Exit codes: every record succeeded, some records failed, usage or configuration error.
pub const EXIT_OK: i32 = 0;
pub const EXIT_SOME_FAILED: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
/// The run was interrupted (SIGINT or SIGTERM) and stopped cleanly: 128 + SIGINT.
pub const EXIT_INTERRUPTED: i32 = 130;

#[derive(Parser)]
#[command(
    name = "argmine",
    version,
    about = "Argument mining for article corpora"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Mine articles: one argument-graph record per article, as JSONL.
    Mine(MineArgs),
    /// Build the sentence datasets and sample articles from the raw corpora.
    Datasets(DatasetsArgs),
    /// Train the sentence classifier and the graph scorers.
    Train(TrainArgs),
    /// Evaluate a model on a dataset split.
    Eval(EvalArgs),
    /// Convert mine output to an argument-graph format (one file per article).
    Export(ExportArgs),
    /// Print one article's argument graph as a tree.
    Show(ShowArgs),
    /// Write a self-contained HTML report of mine output.
    Report(ReportArgs),
    /// Measure throughput per stage and end to end.
    Bench(BenchArgs),
}

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Corpus to mine (as for `mine`); default: `datasets/samples` of the checkout the binary
    /// was built from, read 5 times over (2,205 sentences).
    pub inputs: Vec<PathBuf>,
    /// Read the corpus this many times over (default 5 for the samples, else 1).
    #[arg(long)]
    pub repeat: Option<usize>,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// Mine output (JSONL; `-` for standard input).
    pub input: PathBuf,
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Directory for the files, one per article (brat: a `.txt` and an `.ann`).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Export only the article with this id.
    #[arg(long)]
    pub id: Option<String>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ExportFormat {
    /// AIF-JSON for OVA and AIFdb.
    Aif,
    /// xAIF for the oAMF modules.
    Xaif,
    /// GraphML for networkx and yEd.
    Graphml,
    /// node-link JSON for networkx.
    Nodelink,
    /// DOT for graphviz.
    Dot,
    /// brat standoff (`.txt` + `.ann`).
    Brat,
}

#[derive(clap::Args)]
pub struct ShowArgs {
    /// The article's id.
    pub id: String,
    /// Mine output (JSONL; `-` for standard input).
    #[arg(short, long)]
    pub input: PathBuf,
    /// Colour the labels: `auto` colours when standard output is a terminal and NO_COLOR is
    /// unset.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// Line width (default: the terminal's, or 100).
    #[arg(long)]
    pub width: Option<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(clap::Args)]
pub struct ReportArgs {
    /// Mine output (JSONL; `-` for standard input).
    pub input: PathBuf,
    /// The HTML file to write.
    #[arg(short, long)]
    pub output: PathBuf,
}

/// The model and how it runs, shared by `mine` and `bench`.
#[derive(clap::Args)]
pub struct EngineArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Sentences per encoder batch.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Which model, on which encoder backend.
#[derive(clap::Args)]
pub struct ModelArgs {
    /// Model directory; `ARGMINE_MODEL` sets it for a binary installed away from the checkout.
    #[arg(long, env = "ARGMINE_MODEL", default_value = argmine::model::DEFAULT_MODEL_DIR)]
    pub model: PathBuf,
    /// Encoder backend: candle, onnx, onnx-int8 or tch (the onnx ones need a build with
    /// `--features onnx`, ORT_DYLIB_PATH, and scripts/export-onnx.py run on the model; tch a
    /// build with `--features tch` against libtorch).
    #[arg(long, default_value_t = Backend::Candle)]
    pub backend: Backend,
}

impl ModelArgs {
    fn load(&self) -> Result<Model> {
        Model::load(&self.model, self.backend).with_context(|| {
            format!(
                "cannot load the model in {} with the {} backend",
                self.model.display(),
                self.backend
            )
        })
    }
}

#[derive(clap::Args)]
pub struct MineArgs {
    /// JSONL files (`-` for standard input), text/Markdown/HTML files, or directories.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output file; standard output when absent.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Larger articles are reported as errors.
    #[arg(long, default_value_t = IngestOptions::default().max_article_bytes)]
    pub max_article_bytes: usize,
    /// Articles with more sentences are reported as errors.
    #[arg(long, default_value_t = PipelineOptions::default().max_sentences)]
    pub max_sentences: usize,
    /// Replace invalid UTF-8 with U+FFFD instead of rejecting the record.
    #[arg(long)]
    pub lossy_utf8: bool,
    /// Continue an interrupted run: keep the complete records already in `-o FILE` (a torn
    /// last line is cut off), skip their ids, and append the rest.
    #[arg(long, requires = "output")]
    pub resume: bool,
    /// Process only shard I of N: the articles whose id's FNV-1a 64-bit hash is I modulo N.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<argmine::ingest::Shard>,
    /// Sync the output file to disk every this many records (and at the end).
    #[arg(long, default_value_t = 1000)]
    pub sync_every: usize,
}

#[derive(clap::Args)]
pub struct DatasetsArgs {
    /// Directory with the raw corpora (`cdcp/`, `ibm-ce-emnlp15/`, `federalist/`).
    #[arg(long)]
    pub raw: PathBuf,
    /// The seed op-ed, copied into the samples.
    #[arg(long)]
    pub seed: PathBuf,
    /// Output directory (`datasets/`).
    #[arg(long, default_value = "datasets")]
    pub out: PathBuf,
}

#[derive(clap::Args)]
pub struct TrainArgs {
    /// Dataset files; their train and dev splits are used.
    #[arg(long, required = true, num_args = 1..)]
    pub data: Vec<PathBuf>,
    /// Base model directory (config.json, tokenizer.json, model.safetensors).
    #[arg(long, required_unless_present_any = ["graph_only", "thesis_only"])]
    pub base: Option<PathBuf>,
    /// Where to write the trained model.
    #[arg(long)]
    pub out: PathBuf,
    /// Retrain only the link and thesis scorers of the model in `--out`, keeping its encoder
    /// and head.
    #[arg(long, conflicts_with = "thesis_only")]
    pub graph_only: bool,
    /// Refit only the thesis scorer of the model in `--out`, keeping its encoder, head and
    /// link scorer.
    #[arg(long)]
    pub thesis_only: bool,
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
    /// Train only a head on the frozen encoder.
    #[arg(long)]
    pub frozen_only: bool,
    #[arg(long, default_value_t = 17)]
    pub seed: u64,
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(clap::Args)]
pub struct EvalArgs {
    /// What to evaluate.
    #[arg(long, value_enum, default_value = "classify")]
    pub task: Task,
    /// Dataset files (`classify`), or directories of written articles (`segment`).
    #[arg(long, required = true, num_args = 1..)]
    pub data: Vec<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Which split to score.
    #[arg(long, value_enum, default_value = "test")]
    pub split: SplitArg,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Task {
    /// Sentence labels: per-class P/R/F1, macro-F1, confusion matrix, ECE.
    Classify,
    /// Sentence boundaries against the gold sentences of written articles.
    Segment,
    /// Support/attack links between the gold argumentative units: precision, recall, F1.
    Links,
    /// Thesis accuracy on the documents with a gold thesis.
    Thesis,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum SplitArg {
    Train,
    Dev,
    Test,
}

impl From<SplitArg> for Split {
    fn from(s: SplitArg) -> Split {
        match s {
            SplitArg::Train => Split::Train,
            SplitArg::Dev => Split::Dev,
            SplitArg::Test => Split::Test,
        }
    }
}

impl EngineArgs {
    /// Sets up the threads for mining (see [`use_batch_parallelism`]; nothing has started a
    /// thread yet), then loads the model into a pipeline with these settings (`options`' batch
    /// size is replaced by `--batch-size`).
    fn pipeline(&self, options: PipelineOptions) -> Result<Pipeline> {
        use_batch_parallelism(self.threads).context("cannot configure the thread pool")?;
        let model = self.model.load()?;
        let options = PipelineOptions {
            batch_size: self.batch_size.max(1),
            ..options
        };
        Ok(Pipeline::new(model, options)?)
    }
}

fn set_threads(threads: Option<usize>) -> Result<()> {
    if let Some(n) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("cannot configure the thread pool")?;
    }
    Ok(())
}

fn progress_bar(template: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

pub fn mine(args: MineArgs) -> Result<i32> {
    let pipeline = args.engine.pipeline(PipelineOptions {
        max_sentences: args.max_sentences,
        ..Default::default()
    })?;
    let ingest = IngestOptions {
        max_article_bytes: args.max_article_bytes,
        lossy_utf8: args.lossy_utf8,
    };
    let mut done = std::collections::HashMap::new();
    let out: Box<dyn Durable> = match &args.output {
        Some(path) if args.resume => {
            let resumed = argmine::export::prepare_resume(path)
                .with_context(|| format!("cannot resume from {}", path.display()))?;
            eprintln!(
                "argmine: resuming: {} records already in {}{}",
                resumed.records,
                path.display(),
                if resumed.discarded_bytes > 0 {
                    format!(
                        " (a torn last line of {} bytes cut off)",
                        resumed.discarded_bytes
                    )
                } else {
                    String::new()
                }
            );
            done = resumed.done;
            let file = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            Box::new(std::io::BufWriter::new(file))
        }
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let mut sink = argmine::export::JsonlSink::new(out, args.sync_every);
    let stop = interrupt_flag()?;
    let bar = progress_bar("{spinner} {elapsed_precise} {pos} articles ({per_sec}) {msg}");
    let started = Instant::now();
    let mut sentences = 0usize;
    let mut on_record = |r: &Record| {
        if let Record::Mined(m) = r {
            sentences += m.sentences.len();
        }
        if let Record::Failed { id, error } = r {
            bar.suspend(|| eprintln!("argmine: record {id}: {:?}: {}", error.kind, error.message));
        }
        bar.inc(1);
        let secs = started.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!(
            "{sentences} sentences ({:.0}/s)",
            sentences as f64 / secs
        ));
    };
    let shard = args.shard;
    let stopping = stop.clone();
    let input = read_inputs(args.inputs.clone(), ingest)
        .filter(move |item| shard.is_none_or(|s| s.contains(ingested_id(item))))
        // on resume, skip as many records of each id as the output already has
        .filter(move |item| match done.get_mut(ingested_id(item)) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .take_while(move |_| !stopping.load(std::sync::atomic::Ordering::SeqCst));
    let summary = match pipeline.run(input, &mut sink, &mut on_record) {
        Ok(s) => s,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => return Ok(EXIT_OK),
        Err(err) => return Err(err).context("cannot write the output"),
    };
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let labels: Vec<String> = Label::ALL
        .iter()
        .map(|l| format!("{} {}", l.name(), summary.labels[l.index()]))
        .collect();
    eprintln!(
        "argmine: {} articles ok, {} failed; {} sentences ({}); {:.1} s, {:.1} articles/s, {:.1} sentences/s",
        summary.articles_ok,
        summary.articles_failed,
        summary.sentences,
        labels.join(", "),
        secs,
        (summary.articles_ok + summary.articles_failed) as f64 / secs.max(1e-9),
        summary.sentences as f64 / secs.max(1e-9),
    );
    if stop.load(std::sync::atomic::Ordering::SeqCst) {
        let again = match &args.output {
            Some(path) => format!("run the same command with --resume (-o {})", path.display()),
            None => "write to a file with -o to be able to --resume".to_string(),
        };
        eprintln!("argmine: interrupted; every record above is complete. To continue, {again}.");
        return Ok(EXIT_INTERRUPTED);
    }
    Ok(if summary.articles_failed > 0 {
        EXIT_SOME_FAILED
    } else {
        EXIT_OK
    })
}

/// A flag set by the first SIGINT or SIGTERM, so that `mine` stops reading input, finishes
/// the articles in flight and writes them out. A second signal exits at once.
fn interrupt_flag() -> Result<std::sync::Arc<std::sync::atomic::AtomicBool>> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let flag = std::sync::Arc::new(AtomicBool::new(false));
    let handler_flag = flag.clone();
    ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            std::process::exit(EXIT_INTERRUPTED);
        }
        eprintln!("argmine: interrupted; finishing the articles in flight (again to quit now)");
    })
    .context("cannot install the signal handler")?;
    Ok(flag)
}

pub fn build_datasets(args: DatasetsArgs) -> Result<i32> {
    let segmenter = argmine::segment::SrxSegmenter::english()?;
    let out = &args.out;
    std::fs::create_dir_all(out)?;
    let written = datasets::read_written(&out.join("news-written"))?;
    let sets = [
        (
            "cdcp.jsonl",
            datasets::convert_cdcp(&args.raw.join("cdcp"))?,
        ),
        (
            "ibm.jsonl",
            datasets::convert_ibm(&args.raw.join("ibm-ce-emnlp15"), &segmenter)?,
        ),
        ("news-written.jsonl", datasets::convert_written(&written)),
    ];
    for (name, rows) in &sets {
        datasets::write_rows(&out.join(name), rows)?;
        let mut counts = std::collections::BTreeMap::new();
        for r in rows {
            *counts
                .entry((format!("{:?}", r.split).to_lowercase(), r.label.name()))
                .or_insert(0usize) += 1;
        }
        eprintln!("{name}: {} rows {:?}", rows.len(), counts);
    }
    datasets::write_samples(
        &args.seed,
        &args.raw.join("federalist/federalist.csv"),
        &out.join("samples"),
    )?;
    Ok(EXIT_OK)
}

pub fn train(args: TrainArgs) -> Result<i32> {
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
    let refit = if args.thesis_only {
        Some(GraphRefit::Thesis)
    } else if args.graph_only {
        Some(GraphRefit::LinksAndThesis)
    } else {
        None
    };
    if let Some(refit) = refit {
        argmine::train::retrain_graph(
            &args.out,
            &args.data,
            &graph,
            refit,
            &mut log,
            &mut progress,
        )?;
        bar.finish_and_clear();
        eprintln!("graph scorers retrained in {}", args.out.display());
        return Ok(EXIT_OK);
    }
    let base = args.base.context("--base is required")?;
    let options = TrainOptions {
        base,
        data: args.data,
        out: args.out,
        name: args.name,
        max_tokens: 256,
        head: HeadTraining {
            seed: args.seed,
            ..Default::default()
        },
        finetune: FinetuneSettings {
            epochs: args.epochs,
            learning_rate: args.learning_rate,
            max_minutes: args.max_minutes,
            seed: args.seed,
            ..Default::default()
        },
        graph,
        frozen_only: args.frozen_only,
    };
    let report = argmine::train::train_model(&options, &mut log, &mut progress)?;
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

pub fn eval(args: EvalArgs) -> Result<i32> {
    set_threads(args.threads)?;
    if let Task::Segment = args.task {
        return eval_segment(&args);
    }
    let model = args.model.load()?;
    let split: Split = args.split.into();
    let mut rows = Vec::new();
    for path in &args.data {
        rows.extend(
            datasets::read_rows(path)?
                .into_iter()
                .filter(|r| r.split == split),
        );
    }
    anyhow::ensure!(!rows.is_empty(), "no rows of that split in the given data");
    let emb = TextEmbeddings::of_rows(
        &rows,
        &model.tokenizer,
        model.encoder.as_ref(),
        64,
        &mut |_, _| {},
    )?;
    if let Task::Links | Task::Thesis = args.task {
        return eval_graph(&args, &model, &rows, emb);
    }
    let predictions = model.head.predict(&emb.features(&rows))?;
    let mut by_source: std::collections::BTreeMap<String, (Vec<Label>, Vec<argmine::Scores>)> =
        Default::default();
    for (r, p) in rows.iter().zip(&predictions) {
        for key in [r.source.clone(), "all".to_string()] {
            let e = by_source.entry(key).or_default();
            e.0.push(r.label);
            e.1.push(*p);
        }
    }
    let results: std::collections::BTreeMap<String, metrics::Metrics> = by_source
        .into_iter()
        .map(|(k, (g, p))| (k, metrics::evaluate(&g, &p)))
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        for (source, m) in &results {
            println!("== {source} ({:?} split)\n{m}", split);
        }
    }
    Ok(EXIT_OK)
}

fn eval_graph(
    args: &EvalArgs,
    model: &Model,
    rows: &[datasets::Row],
    emb: TextEmbeddings,
) -> Result<i32> {
    let data = graph::Embedded::new(rows, emb, &model.head)?;
    let docs = graph::documents(rows);
    let mut by_source: std::collections::BTreeMap<&str, Vec<&graph::Doc>> = Default::default();
    for d in &docs {
        by_source.entry(d.source.as_str()).or_default().push(d);
    }
    let mut out = serde_json::Map::new();
    for (source, docs) in &by_source {
        let value = match args.task {
            Task::Links => {
                let threshold = model.graph.links.threshold;
                let m =
                    graph::evaluate_links(&model.graph.links, &data, docs, &[threshold])?.remove(0);
                if m.gold == 0 {
                    continue;
                }
                if !args.json {
                    println!(
                        "{source}: links precision {:.4}, recall {:.4}, F1 {:.4} ({} gold, {} predicted, {} correct; {} documents)",
                        m.precision, m.recall, m.f1, m.gold, m.predicted, m.correct, docs.len()
                    );
                }
                serde_json::to_value(m)?
            }
            _ => {
                let m =
                    graph::evaluate_thesis(&model.graph.links, &model.graph.thesis, &data, docs)?;
                if m.documents == 0 {
                    continue;
                }
                if !args.json {
                    println!(
                        "{source}: thesis accuracy {:.4} ({} of {} documents; {} gold theses not labelled claim or recommendation; first candidate {:.4})",
                        m.accuracy, m.correct, m.documents, m.not_a_candidate, m.first_candidate_accuracy
                    );
                }
                serde_json::to_value(m)?
            }
        };
        out.insert(source.to_string(), value);
    }
    anyhow::ensure!(
        !out.is_empty(),
        "no documents with gold links or theses in that split"
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(EXIT_OK)
}

fn eval_segment(args: &EvalArgs) -> Result<i32> {
    use argmine::segment::Segmenter;
    let segmenter = argmine::segment::SrxSegmenter::english()?;
    let (mut gold, mut predicted) = (Vec::new(), Vec::new());
    for dir in &args.data {
        for article in datasets::read_written(dir)? {
            let (text, spans) = datasets::written_text_and_spans(&article);
            predicted.push(
                segmenter
                    .segment(&text)
                    .iter()
                    .map(|s| (s.start, s.end))
                    .collect(),
            );
            gold.push(spans);
        }
    }
    let m = metrics::boundary_metrics(&gold, &predicted);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&m)?);
    } else {
        println!(
            "sentence boundaries: precision {:.4}, recall {:.4}, F1 {:.4}; exact sentences {:.4} ({} gold, {} predicted)",
            m.precision, m.recall, m.f1, m.exact_sentences, m.gold_sentences, m.predicted_sentences
        );
    }
    Ok(EXIT_OK)
}

pub fn export(args: ExportArgs) -> Result<i32> {
    use argmine::export::formats::Format;
    let format = match args.format {
        ExportFormat::Aif => Format::Aif,
        ExportFormat::Xaif => Format::Xaif,
        ExportFormat::Graphml => Format::Graphml,
        ExportFormat::Nodelink => Format::Nodelink,
        ExportFormat::Dot => Format::Dot,
        ExportFormat::Brat => Format::Brat,
    };
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let mut used = std::collections::HashSet::new();
    let (mut written, mut skipped) = (0, 0);
    for record in argmine::export::read_records(&args.input)? {
        let Record::Mined(article) = record? else {
            skipped += 1;
            continue;
        };
        if args.id.as_ref().is_some_and(|id| *id != article.id) {
            continue;
        }
        // distinct names even when two ids map to the same stem
        let stem = argmine::export::file_stem(&article.id);
        let mut name = stem.clone();
        let mut k = 1;
        while !used.insert(name.clone()) {
            k += 1;
            name = format!("{stem}-{k}");
        }
        for file in format.render(&article) {
            let path = args.output.join(format!("{name}.{}", file.extension));
            std::fs::write(&path, file.contents)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        written += 1;
    }
    eprintln!(
        "argmine: exported {written} articles to {} ({skipped} failed records skipped)",
        args.output.display()
    );
    if written == 0 {
        if let Some(id) = args.id {
            anyhow::bail!("no article with id {id:?} in {}", args.input.display());
        }
    }
    Ok(EXIT_OK)
}

pub fn show(args: ShowArgs) -> Result<i32> {
    use argmine::export::tree::{render_tree, TreeStyle};
    let stdout = std::io::stdout();
    let terminal = stdout.is_terminal();
    let colour = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    let width = args.width.unwrap_or_else(|| {
        terminal_size::terminal_size()
            .map(|(w, _)| usize::from(w.0))
            .filter(|_| terminal)
            .unwrap_or(100)
    });
    for record in argmine::export::read_records(&args.input)? {
        match record? {
            Record::Mined(article) if article.id == args.id => {
                let tree = render_tree(&article, TreeStyle { width, colour });
                stdout.lock().write_all(tree.as_bytes())?;
                return Ok(EXIT_OK);
            }
            Record::Failed { id, error } if id == args.id => {
                anyhow::bail!("{id} failed: {} ({:?})", error.message, error.kind);
            }
            _ => {}
        }
    }
    anyhow::bail!(
        "no article with id {:?} in {}",
        args.id,
        args.input.display()
    )
}

pub fn report(args: ReportArgs) -> Result<i32> {
    let records = argmine::export::read_records(&args.input)?;
    // stop at the first unreadable line rather than drop it silently
    let mut error = None;
    let records = records.map_while(|r| r.map_err(|e| error = Some(e)).ok());
    let file = std::fs::File::create(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let summary = argmine::report::write_report(records, &mut out)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    if let Some(e) = error {
        return Err(e).context("the report is incomplete");
    }
    eprintln!(
        "argmine: report of {} articles and {} failed records written to {}",
        summary.articles,
        summary.failed,
        args.output.display()
    );
    Ok(EXIT_OK)
}

pub fn bench(args: BenchArgs) -> Result<i32> {
    let pipeline = args.engine.pipeline(PipelineOptions::default())?;
    let (inputs, repeat) = if args.inputs.is_empty() {
        let samples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datasets/samples");
        (vec![samples], args.repeat.unwrap_or(5))
    } else {
        (args.inputs, args.repeat.unwrap_or(1))
    };
    let report = argmine::bench::run(&pipeline, &inputs, repeat, &IngestOptions::default())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(EXIT_OK);
    }
    println!(
        "{} articles, {} sentences, {} tokens (padding ratio {:.2}); {} backend, batch {}, {} threads",
        report.articles,
        report.sentences,
        report.tokens,
        report.padding_ratio,
        report.backend,
        report.batch_size,
        report.threads
    );
    println!(
        "{:<12} {:>9} {:>12} {:>11} {:>12}",
        "stage", "seconds", "sentences/s", "articles/s", "tokens/s"
    );
    for s in report.stages.iter().chain([&report.end_to_end]) {
        println!(
            "{:<12} {:>9.3} {:>12.1} {:>11.1} {:>12.0}",
            s.stage, s.seconds, s.sentences_per_second, s.articles_per_second, s.tokens_per_second
        );
    }
    if let Some(rss) = report.peak_rss_mib {
        println!("peak RSS {rss:.0} MiB");
    }
    Ok(EXIT_OK)
}
