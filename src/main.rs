//! The `argmine` binary: a thin layer over the library (see `cli/mod.rs`).

mod cli;

fn main() {
    std::process::exit(cli::main());
}
