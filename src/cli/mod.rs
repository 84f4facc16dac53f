//! The `argmine` command line: one file per command, each parsing its flags, calling the
//! library, and printing what it returns. Flag groups that several commands share, and the
//! conversion of flags to library settings, are in [`args`].

mod args;
mod bench;
mod eval;
mod inspect;
mod mine;
mod train;

use clap::{Parser, Subcommand};

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
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Mine articles: one argument-graph record per article, as JSONL.
    Mine(mine::MineArgs),
    /// Build the sentence datasets and sample articles from the raw corpora.
    Datasets(train::DatasetsArgs),
    /// Train the sentence classifier and the graph scorers.
    Train(train::TrainArgs),
    /// Evaluate a model on a dataset split.
    Eval(eval::EvalArgs),
    /// Convert mine output to an argument-graph format (one file per article).
    Export(inspect::ExportArgs),
    /// Print one article's argument graph as a tree.
    Show(inspect::ShowArgs),
    /// Write a self-contained HTML report of mine output.
    Report(inspect::ReportArgs),
    /// Measure throughput per stage and end to end.
    Bench(bench::BenchArgs),
}

/// Parses the command line, runs the command, and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                EXIT_USAGE
            } else {
                EXIT_OK // --help, --version
            };
        }
    };
    let result = match cli.command {
        Command::Mine(args) => mine::run(args),
        Command::Datasets(args) => train::datasets(args),
        Command::Train(args) => train::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Export(args) => inspect::export(args),
        Command::Show(args) => inspect::show(args),
        Command::Report(args) => inspect::report(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => EXIT_OK,
        Err(err) => {
            match hint(&err) {
                Some(hint) => eprintln!("argmine: {err:#}; {hint}"),
                None => eprintln!("argmine: {err:#}"),
            }
            EXIT_USAGE
        }
    }
}

/// A closed pipe downstream (`argmine mine … | head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The command that fixes a library error, where there is one.
fn hint(err: &anyhow::Error) -> Option<&'static str> {
    err.chain()
        .find_map(|e| match e.downcast_ref::<argmine::Error>()? {
            argmine::Error::NoGraphScorers { .. } => Some(
                "train them with `argmine train --graph-only --base BASE --out DIR --data ...`",
            ),
            argmine::Error::ThesisWidth { .. } => Some(
                "refit them with `argmine train --thesis-only --base BASE --out DIR --data ...`",
            ),
            _ => None,
        })
}
