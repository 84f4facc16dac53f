//! `argmine._argmine`, the extension module behind the Python package: the argmine library
//! through PyO3. `argmine/__init__.py` wraps it in the public API and `argmine/_argmine.pyi`
//! types it.
//!
//! Articles and records cross the boundary as JSON text. An article goes in as a JSONL record
//! and is parsed by the same function as the command line's input
//! ([`argmine::ingest::parse_record`]); a record comes out exactly as `argmine mine` writes
//! it. So the package and the command line give the same records, errors included, and cannot
//! drift apart.

use argmine::encode::candle::use_batch_parallelism;
use argmine::encode::Backend;
use argmine::error::error_chain;
use argmine::export::formats::Format;
use argmine::ingest::parse_record;
use argmine::model::{Model, DEFAULT_MODEL_DIR};
use argmine::{Choice, Error, Pipeline, PipelineOptions, Record};
use pyo3::exceptions::{PyFileNotFoundError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::path::PathBuf;

/// A loaded model in a mining pipeline.
#[pyclass(frozen, module = "argmine._argmine")]
struct Engine {
    pipeline: Pipeline,
}

#[pymethods]
impl Engine {
    #[new]
    fn new(py: Python<'_>, path: PathBuf, backend: &str, batch_size: usize) -> PyResult<Self> {
        let backend = Backend::parse(backend).map_err(|e| PyValueError::new_err(e.to_string()))?;
        if batch_size == 0 {
            return Err(PyValueError::new_err("batch_size must be at least 1"));
        }
        if !path.is_dir() {
            return Err(PyFileNotFoundError::new_err(format!(
                "no model directory at {}; pass Model(path=...) or set ARGMINE_MODEL",
                path.display()
            )));
        }
        let model = py
            .detach(|| Model::load(&path, backend))
            .map_err(|e| load_error(&path, &e))?;
        let options = PipelineOptions {
            batch_size,
            ..PipelineOptions::default()
        };
        let pipeline = Pipeline::new(model, options).map_err(|e| load_error(&path, &e))?;
        Ok(Engine { pipeline })
    }

    /// The model directory.
    #[getter]
    fn path(&self) -> PathBuf {
        self.pipeline.model().dir.path().to_path_buf()
    }

    /// The encoder backend's name.
    #[getter]
    fn backend(&self) -> &'static str {
        self.pipeline.model().backend.name()
    }

    /// The model's name and revision, as records give them.
    #[getter]
    fn info(&self) -> (String, String) {
        let info = self.pipeline.model().info();
        (info.name, info.revision)
    }

    /// Mines JSONL records together (their sentences share encoder batches) without holding
    /// the GIL, on `pool` or the process's pool; returns one JSON record per line, in order.
    /// A line without a usable id is named `input:N`, N counting from `first`.
    #[pyo3(signature = (lines, first, pool=None))]
    fn mine_lines(
        &self,
        py: Python<'_>,
        lines: Vec<String>,
        first: usize,
        pool: Option<&ThreadPool>,
    ) -> Vec<String> {
        py.detach(|| {
            let mine = || {
                let items = lines
                    .iter()
                    .enumerate()
                    .map(|(k, line)| parse_record(line, &format!("input:{}", first + k)))
                    .collect();
                self.pipeline.mine_chunk(items)
            };
            let records = match pool {
                Some(p) => p.0.install(mine),
                None => mine(),
            };
            records.iter().map(record_json).collect()
        })
    }
}

/// Worker threads for [`Engine::mine_lines`], when a call wants its own number of them.
#[pyclass(frozen, module = "argmine._argmine")]
struct ThreadPool(rayon::ThreadPool);

#[pymethods]
impl ThreadPool {
    #[new]
    fn new(threads: usize) -> PyResult<Self> {
        if threads == 0 {
            return Err(PyValueError::new_err("threads must be at least 1"));
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map(ThreadPool)
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start {threads} threads: {e}")))
    }
}

/// The files of one mined record in an export format, as (file-name suffix, contents) pairs:
/// brat gives two (`txt`, `ann`), the other formats one.
#[pyfunction]
fn export(record: &str, format: &str) -> PyResult<Vec<(&'static str, String)>> {
    let format = Format::parse(format).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let record: Record = serde_json::from_str(record).map_err(|e| {
        PyValueError::new_err(format!(
            "not an argmine record (as Model.mine returns): {e}"
        ))
    })?;
    match record {
        Record::Mined(article) => Ok(format
            .render(&article)
            .into_iter()
            .map(|f| (f.extension, f.contents))
            .collect()),
        Record::Failed { id, error } => Err(PyValueError::new_err(format!(
            "record {id} failed and has no graph: {}",
            error.message
        ))),
    }
}

/// The JSON Schema of a record (`docs/output.schema.json`).
#[pyfunction]
fn output_schema() -> &'static str {
    include_str!("../../docs/output.schema.json")
}

/// The bundled model of the checkout the package was built from.
#[pyfunction]
fn default_model_dir() -> &'static str {
    DEFAULT_MODEL_DIR
}

/// Threads as `argmine mine` uses them: one encoder batch per thread, on a global rayon pool
/// of all cores, with candle's per-op threading off. This sets `RAYON_NUM_THREADS` and
/// `CANDLE_NUM_THREADS` to 1 in the process environment, which child processes inherit; it
/// runs at import, before the package starts any thread. A global pool that another
/// extension built first is kept.
fn configure_threads() {
    // Err only when the global pool already exists, which is fine to share.
    let _ = use_batch_parallelism(None);
}

fn record_json(record: &Record) -> String {
    serde_json::to_string(record).expect("records serialise")
}

/// A model that does not load: missing files are `FileNotFoundError`, the rest
/// `RuntimeError`, each with the whole chain of causes.
fn load_error(path: &std::path::Path, err: &Error) -> PyErr {
    let message = format!(
        "cannot load the model in {}: {}",
        path.display(),
        error_chain(err)
    );
    let missing =
        matches!(err, Error::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound);
    if missing {
        PyFileNotFoundError::new_err(message)
    } else {
        PyRuntimeError::new_err(message)
    }
}

#[pymodule]
fn _argmine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    configure_threads();
    m.add_class::<Engine>()?;
    m.add_class::<ThreadPool>()?;
    m.add_function(wrap_pyfunction!(export, m)?)?;
    m.add_function(wrap_pyfunction!(output_schema, m)?)?;
    m.add_function(wrap_pyfunction!(default_model_dir, m)?)?;
    Ok(())
}
