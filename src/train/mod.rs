//! Datasets, training and evaluation of the model that [`crate::model`] loads.
//!
//! - [`datasets`]: the raw corpora converted to one row per labelled unit.
//! - [`embed`]: a dataset's texts encoded once, and the head's input built from them.
//! - [`distil`]: train rows labelled by teacher models, for training towards their probabilities.
//! - [`optim`]: the seeded generator, losses, AdamW and the one early-stopping loop.
//! - [`head`]: the context head and its temperature; the dev selection score.
//! - [`finetune`]: the encoder fine-tuned with a linear probe.
//! - [`graph`]: the link scorer and the thesis scorer, and their evaluation on documents.
//! - [`recipe`]: `argmine train` end to end, and the refits of the graph scorers alone.
//! - [`evaluate`]: `argmine eval`, each task returning a report.
//! - [`probe`]: a corpus's own unit types predicted from the frozen model, for comparison with
//!   published figures.
//! - [`metrics`]: precision, recall, F1, calibration and boundary scores.

pub mod datasets;
pub mod distil;
pub mod embed;
pub mod evaluate;
pub mod finetune;
pub mod graph;
pub mod head;
pub mod metrics;
pub mod optim;
pub mod probe;
pub mod recipe;
