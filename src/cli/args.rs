//! Flag groups shared by several commands, and their conversion to library settings.

use anyhow::{Context, Result};
use argmine::encode::candle::use_batch_parallelism;
use argmine::encode::Backend;
use argmine::model::Model;
use argmine::{Choice, Pipeline, PipelineOptions};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Parses a library [`Choice`] by name; its names, each with its help, are the possible values
/// that `--help` lists and errors suggest.
pub fn choice<T: Choice + Clone + Send + Sync>() -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(
        T::ALL
            .iter()
            .map(|v| PossibleValue::new(v.name()).help(v.help())),
    )
    .try_map(|name| T::parse(&name))
}

/// Which model, on which encoder backend.
#[derive(clap::Args)]
pub struct ModelArgs {
    /// Model directory; `ARGMINE_MODEL` sets it for a binary installed away from the checkout.
    #[arg(long, env = "ARGMINE_MODEL", default_value = argmine::model::DEFAULT_MODEL_DIR)]
    pub model: PathBuf,
    /// Encoder backend (the onnx ones need a build with `--features onnx`, ORT_DYLIB_PATH, and
    /// scripts/export-onnx.py run on the model; tch a build with `--features tch` against
    /// libtorch).
    #[arg(long, value_parser = choice::<Backend>(), default_value_t = Backend::default())]
    pub backend: Backend,
}

impl ModelArgs {
    pub fn load(&self) -> Result<Model> {
        Model::load(&self.model, self.backend).with_context(|| {
            format!(
                "cannot load the model in {} with the {} backend",
                self.model.display(),
                self.backend
            )
        })
    }
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

impl EngineArgs {
    /// Sets up the threads for mining (see [`use_batch_parallelism`]; nothing has started a
    /// thread yet), then loads the model into a pipeline with these settings (`options`' batch
    /// size is replaced by `--batch-size`).
    pub fn pipeline(&self, options: PipelineOptions) -> Result<Pipeline> {
        use_batch_parallelism(self.threads).context("cannot configure the thread pool")?;
        let model = self.model.load()?;
        let options = PipelineOptions {
            batch_size: self.batch_size.max(1),
            ..options
        };
        Ok(Pipeline::new(model, options)?)
    }
}

/// Sizes the global thread pool for training and evaluation (default: all cores).
pub fn set_threads(threads: Option<usize>) -> Result<()> {
    if let Some(n) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("cannot configure the thread pool")?;
    }
    Ok(())
}

/// A spinner on standard error with `template`, hidden when standard error is not a terminal.
pub fn progress_bar(template: &str) -> ProgressBar {
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
