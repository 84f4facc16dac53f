//! `argmine mine`: articles in, one JSONL record per article out.

use super::args::{progress_bar, EngineArgs};
use super::{EXIT_INTERRUPTED, EXIT_OK, EXIT_SOME_FAILED};
use anyhow::{Context, Result};
use argmine::export::open_output;
use argmine::ingest::{ingested_id, read_inputs, IngestOptions, Shard};
use argmine::{Label, PipelineOptions, Record};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

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
    pub shard: Option<Shard>,
    /// Sync the output file to disk every this many records (and at the end).
    #[arg(long, default_value_t = 1000)]
    pub sync_every: usize,
}

pub fn run(args: MineArgs) -> Result<i32> {
    let pipeline = args.engine.pipeline(PipelineOptions {
        max_sentences: args.max_sentences,
        ..Default::default()
    })?;
    let ingest = IngestOptions {
        max_article_bytes: args.max_article_bytes,
        lossy_utf8: args.lossy_utf8,
    };
    let (mut sink, mut resumed) =
        open_output(args.output.as_deref(), args.resume, args.sync_every)?;
    if let (Some(path), true) = (&args.output, args.resume) {
        let torn = match resumed.discarded_bytes {
            0 => String::new(),
            n => format!(" (a torn last line of {n} bytes cut off)"),
        };
        eprintln!(
            "argmine: resuming: {} records already in {}{torn}",
            resumed.records,
            path.display(),
        );
    }
    let stop = interrupt_flag()?;
    let bar = progress_bar("{spinner} {elapsed_precise} {pos} articles ({per_sec}) {msg}");
    let started = Instant::now();
    let mut sentences = 0usize;
    let mut on_record = |r: &Record| {
        match r {
            Record::Mined(m) => sentences += m.sentences.len(),
            Record::Failed { id, error } => bar
                .suspend(|| eprintln!("argmine: record {id}: {:?}: {}", error.kind, error.message)),
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
        .filter(move |item| resumed.pending(ingested_id(item)))
        .take_while(move |_| !stopping.load(Ordering::SeqCst));
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
    if stop.load(Ordering::SeqCst) {
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
fn interrupt_flag() -> Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
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
