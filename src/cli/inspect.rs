//! `argmine export`, `argmine show` and `argmine report`: mine output turned into the graph
//! formats of the field, a terminal tree, and an HTML report.

use super::args::choice;
use super::EXIT_OK;
use anyhow::{Context, Result};
use argmine::export::formats::Format;
use argmine::export::tree::{render_tree, Colour, TreeStyle};
use argmine::export::{find_record, read_records, write_graph_files};
use argmine::Record;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ExportArgs {
    /// Mine output (JSONL; `-` for standard input).
    pub input: PathBuf,
    #[arg(long, value_parser = choice::<Format>())]
    pub format: Format,
    /// Directory for the files, one per article (brat: a `.txt` and an `.ann`).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Export only the article with this id.
    #[arg(long)]
    pub id: Option<String>,
}

pub fn export(args: ExportArgs) -> Result<i32> {
    let records = read_records(&args.input)?;
    let summary = write_graph_files(records, args.format, &args.output, args.id.as_deref())?;
    eprintln!(
        "argmine: exported {} articles to {} ({} failed records skipped)",
        summary.written,
        args.output.display(),
        summary.skipped
    );
    if let (0, Some(id)) = (summary.written, &args.id) {
        anyhow::bail!("no article with id {id:?} in {}", args.input.display());
    }
    Ok(EXIT_OK)
}

#[derive(clap::Args)]
pub struct ShowArgs {
    /// The article's id.
    pub id: String,
    /// Mine output (JSONL; `-` for standard input).
    #[arg(short, long)]
    pub input: PathBuf,
    /// When to colour the labels.
    #[arg(long, value_parser = choice::<Colour>(), default_value_t = Colour::Auto)]
    pub color: Colour,
    /// Line width (default: the terminal's, or 100).
    #[arg(long)]
    pub width: Option<usize>,
}

pub fn show(args: ShowArgs) -> Result<i32> {
    let stdout = std::io::stdout();
    let terminal = stdout.is_terminal();
    let width = args.width.unwrap_or_else(|| {
        terminal_size::terminal_size()
            .map(|(w, _)| usize::from(w.0))
            .filter(|_| terminal)
            .unwrap_or(100)
    });
    let style = TreeStyle {
        width,
        colour: args.color.enabled(terminal),
    };
    match find_record(read_records(&args.input)?, &args.id)? {
        Some(Record::Mined(article)) => {
            stdout
                .lock()
                .write_all(render_tree(&article, style).as_bytes())?;
            Ok(EXIT_OK)
        }
        Some(Record::Failed { id, error }) => {
            anyhow::bail!("{id} failed: {} ({:?})", error.message, error.kind)
        }
        None => anyhow::bail!(
            "no article with id {:?} in {}",
            args.id,
            args.input.display()
        ),
    }
}

#[derive(clap::Args)]
pub struct ReportArgs {
    /// Mine output (JSONL; `-` for standard input).
    pub input: PathBuf,
    /// The HTML file to write.
    #[arg(short, long)]
    pub output: PathBuf,
}

pub fn report(args: ReportArgs) -> Result<i32> {
    let records = read_records(&args.input)?;
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
