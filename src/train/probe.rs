//! A probe for a corpus's own unit types, so that argmine's encoder can be compared with
//! published figures at the granularity the corpus defines: CDCP's five proposition types
//! (policy, value, fact, testimony, reference) where argmine's labels have three.
//!
//! The probe is a head of the classifier's shape ([`Mlp`] over the same features,
//! [`TextEmbeddings::features`]) trained on the train split's `source_label`s with the model's
//! encoder frozen, stopped early on dev macro-F1, and scored on the split asked for. It reads
//! the train and dev splits only to fit itself; the model is not changed.

use super::datasets::{Row, Split};
use super::embed::TextEmbeddings;
use super::head::HeadTraining;
use super::optim::{
    adamw, batch_rows, early_stopping, seeded_init, weighted_cross_entropy, Rng, Stopping,
};
use crate::error::{Error, Result};
use crate::mlp::Mlp;
use crate::model::Classifier;
use candle_core::{DType, Device, Tensor};
use candle_nn::{Optimizer, VarBuilder, VarMap};
use ndarray::Array2;

/// One type's figures on the scored split.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TypeMetrics {
    pub name: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Gold items of the type.
    pub support: usize,
}

/// What the probe reached on the scored split.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProbeReport {
    pub examples: usize,
    pub accuracy: f64,
    /// Mean F1 over the types with gold items.
    pub macro_f1: f64,
    /// Mean F1 over the types with more than one gold item (CDCP's "4-class" figure leaves
    /// out reference, which has a single test item).
    pub macro_f1_without_singletons: f64,
    pub types: Vec<TypeMetrics>,
    /// `confusion[gold][predicted]`, in the order of `types`.
    pub confusion: Vec<Vec<usize>>,
    /// The dev macro-F1 the probe was stopped at.
    pub dev_macro_f1: f64,
}

/// Fits the probe on the train rows of `rows` (stopped on the dev rows) and scores it on the
/// rows of `split`. The types are the train rows' `source_label`s; a scored row of another
/// type counts against accuracy only (it has no row in the confusion matrix).
pub fn probe(model: &Classifier, rows: &[Row], split: Split) -> Result<ProbeReport> {
    let part = |s: Split| {
        rows.iter()
            .filter(|r| r.split == s)
            .cloned()
            .collect::<Vec<_>>()
    };
    let (train, dev, scored) = (part(Split::Train), part(Split::Dev), part(split));
    if train.is_empty() || dev.is_empty() || scored.is_empty() {
        return Err(Error::NothingToEvaluate(
            "the probe needs train, dev and scored rows",
        ));
    }
    let mut types: Vec<String> = train.iter().map(|r| r.source_label.clone()).collect();
    types.sort();
    types.dedup();
    let index = |r: &Row| types.iter().position(|t| *t == r.source_label);

    // one pass of the encoder over every text the three parts need
    let needed: Vec<Row> = rows
        .iter()
        .filter(|r| matches!(r.split, Split::Train | Split::Dev) || r.split == split)
        .cloned()
        .collect();
    let embeddings = TextEmbeddings::of_rows(
        &needed,
        &model.tokenizer,
        model.encoder.as_ref(),
        &mut |_, _| {},
    )?;
    let (train_x, dev_x, scored_x) = (
        embeddings.features(&train),
        embeddings.features(&dev),
        embeddings.features(&scored),
    );
    let train_y: Vec<u32> = train
        .iter()
        .map(|r| index(r).expect("a train type") as u32)
        .collect();

    let settings = HeadTraining::default();
    let device = Device::Cpu;
    let vars = VarMap::new();
    let width = train_x.ncols();
    let mlp = Mlp::new(
        VarBuilder::from_varmap(&vars, DType::F32, &device),
        width,
        settings.hidden,
        types.len(),
    )?;
    let mut rng = Rng::new(settings.seed);
    seeded_init(&vars, &mut rng)?;
    let mut opt = adamw(&vars, settings.learning_rate, settings.weight_decay)?;
    let mut order: Vec<usize> = (0..train.len()).collect();
    let x = train_x.as_slice().expect("standard layout");
    let predict = |x: &Array2<f32>| -> Result<Vec<usize>> {
        Ok(mlp
            .probabilities(x, 1.0)?
            .iter()
            .map(|p| (0..p.len()).fold(0, |b, k| if p[k] > p[b] { k } else { b }))
            .collect())
    };
    let stopping = Stopping {
        epochs: settings.epochs,
        patience: settings.patience,
        budget: None,
    };
    let best = early_stopping(&vars, &stopping, |_| {
        rng.shuffle(&mut order);
        for batch in order.chunks(settings.batch_size) {
            let xb = batch_rows(x, width, batch, settings.dropout, &mut rng)?;
            let y: Vec<u32> = batch.iter().map(|&i| train_y[i]).collect();
            let loss = weighted_cross_entropy(
                &mlp.logits(&xb)?,
                &Tensor::from_vec(y, batch.len(), &device)?,
                &Tensor::ones(batch.len(), DType::F32, &device)?,
            )?;
            opt.backward_step(&loss)?;
        }
        let report = score(&types, &dev, &predict(&dev_x)?, index);
        Ok((report.macro_f1, ()))
    })?;
    let mut report = score(&types, &scored, &predict(&scored_x)?, index);
    report.dev_macro_f1 = best.score;
    Ok(report)
}

/// Scores predicted type indices against the rows' types.
fn score(
    types: &[String],
    rows: &[Row],
    predicted: &[usize],
    index: impl Fn(&Row) -> Option<usize>,
) -> ProbeReport {
    let n = types.len();
    let mut confusion = vec![vec![0usize; n]; n];
    let mut correct = 0;
    for (r, &p) in rows.iter().zip(predicted) {
        if let Some(g) = index(r) {
            confusion[g][p] += 1;
            correct += usize::from(g == p);
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let metrics: Vec<TypeMetrics> = (0..n)
        .map(|k| {
            let support: usize = confusion[k].iter().sum();
            let predicted: usize = confusion.iter().map(|row| row[k]).sum();
            let (precision, recall) = (
                ratio(confusion[k][k], predicted),
                ratio(confusion[k][k], support),
            );
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            TypeMetrics {
                name: types[k].clone(),
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect();
    let mean_f1 = |keep: &dyn Fn(&TypeMetrics) -> bool| {
        let kept: Vec<f64> = metrics.iter().filter(|m| keep(m)).map(|m| m.f1).collect();
        kept.iter().sum::<f64>() / kept.len().max(1) as f64
    };
    ProbeReport {
        examples: rows.len(),
        accuracy: ratio(correct, rows.len()),
        macro_f1: mean_f1(&|m| m.support > 0),
        macro_f1_without_singletons: mean_f1(&|m| m.support > 1),
        types: metrics,
        confusion,
        dev_macro_f1: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(source_label: &str) -> Row {
        serde_json::from_value(serde_json::json!({
            "text": "x", "label": "claim", "source_label": source_label, "doc_id": "d",
            "split": "test", "source": "cdcp", "context": {"position": 0.0}
        }))
        .unwrap()
    }

    #[test]
    fn macro_f1_without_singletons_leaves_out_types_with_one_gold_item() {
        let types: Vec<String> = ["fact", "reference", "value"].map(String::from).into();
        let rows = [
            row("fact"),
            row("fact"),
            row("value"),
            row("value"),
            row("reference"),
        ];
        let index = |r: &Row| types.iter().position(|t| *t == r.source_label);
        // fact right twice, value right once and once taken for fact, reference missed
        let report = score(&types, &rows, &[0, 0, 2, 0, 2], index);
        assert_eq!(report.confusion, [[2, 0, 0], [0, 0, 1], [1, 0, 1]]);
        assert_eq!(report.accuracy, 0.6);
        let (fact, value) = (2.0 * (2.0 / 3.0) / (2.0 / 3.0 + 1.0), 0.5);
        assert!((report.macro_f1_without_singletons - (fact + value) / 2.0).abs() < 1e-12);
        assert!((report.macro_f1 - (fact + value) / 3.0).abs() < 1e-12);
    }
}
