//! `argmine bench`: throughput per stage and end to end, as a table or JSON.

use super::args::EngineArgs;
use super::EXIT_OK;
use anyhow::Result;
use argmine::ingest::IngestOptions;
use argmine::PipelineOptions;
use std::path::PathBuf;

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

pub fn run(args: BenchArgs) -> Result<i32> {
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
