//! The `argmine` binary: a thin layer over the library (see `cli.rs`).

mod cli;

use clap::Parser;

fn main() {
    let code = match cli::Cli::try_parse() {
        Ok(cli) => run(cli),
        Err(err) => {
            let _ = err.print();
            if err.use_stderr() {
                cli::EXIT_USAGE
            } else {
                cli::EXIT_OK // --help, --version
            }
        }
    };
    std::process::exit(code);
}

fn run(cli: cli::Cli) -> i32 {
    let result = match cli.command {
        cli::Command::Mine(args) => cli::mine(args),
        cli::Command::Datasets(args) => cli::build_datasets(args),
        cli::Command::Train(args) => cli::train(args),
        cli::Command::Eval(args) => cli::eval(args),
        cli::Command::Export(args) => cli::export(args),
        cli::Command::Show(args) => cli::show(args),
        cli::Command::Report(args) => cli::report(args),
        cli::Command::Bench(args) => cli::bench(args),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => cli::EXIT_OK,
        Err(err) => {
            eprintln!("argmine: {err:#}");
            cli::EXIT_USAGE
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
