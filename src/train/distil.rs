//! Distillation: trained models (teachers) label the train rows with their sentence
//! probabilities, and training pulls the new model towards them as well as towards the gold
//! labels ([`super::optim::target`]).
//!
//! A teacher's probabilities say what the gold label alone cannot: how much a sentence looks
//! like each class. Several teachers are averaged, so a slow, strong ensemble (say, a
//! fine-tuned MPNet with a fine-tuned MiniLM) can teach the fast model that ships. Only train
//! rows are labelled: dev keeps choosing on gold.

use super::datasets::{Row, Split};
use super::evaluate::predict_rows;
use crate::encode::Backend;
use crate::error::Result;
use crate::model::{Classifier, ModelDir};
use crate::types::Scores;
use std::path::PathBuf;

/// The share of the teachers' probabilities in a train row's target; the gold label has the
/// rest.
pub const TEACHER_SHARE: f32 = 0.5;

/// Sets [`Row::teacher`] of every train row to the mean of the `teachers`' probabilities
/// (each model directory's classifier, in f32), calling `progress(teacher, done, total)` as
/// each one embeds the rows. With no teachers, the rows stay as they are.
pub fn teach(
    rows: &mut [Row],
    teachers: &[PathBuf],
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<()> {
    if teachers.is_empty() {
        return Ok(());
    }
    let train: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].split == Split::Train)
        .collect();
    let train_rows: Vec<Row> = train.iter().map(|&i| rows[i].clone()).collect();
    let mut sum = vec![[0f32; 4]; train.len()];
    for dir in teachers {
        let model = Classifier::load(&ModelDir::new(dir), Backend::Candle)?;
        let name = format!("teacher {}", dir.display());
        let scores = predict_rows(&model, &train_rows, &mut |d, t| progress(&name, d, t))?;
        for (s, p) in sum.iter_mut().zip(scores) {
            s.iter_mut().zip(p.0).for_each(|(s, p)| *s += p);
        }
    }
    let n = teachers.len() as f32;
    for (&i, s) in train.iter().zip(sum) {
        rows[i].teacher = Some(Scores(s.map(|s| s / n)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(text: &str, split: &str) -> Row {
        serde_json::from_value(serde_json::json!({
            "text": text, "label": "claim", "source_label": "x", "doc_id": "d", "split": split,
            "source": "webis-guardian", "context": {"position": 0.5}
        }))
        .unwrap()
    }

    #[test]
    fn train_rows_take_the_mean_of_the_teachers_and_dev_rows_keep_their_gold_alone() {
        let shipped = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/argmine-minilm");
        let mut rows = vec![
            row("The council must repeal the tax before winter.", "train"),
            row("Prices rose by five percent last year.", "dev"),
            row(
                "This policy has failed the very people it promised to help.",
                "train",
            ),
        ];
        let unchanged = rows.clone();
        teach(&mut rows, &[], &mut |_, _, _| {}).unwrap();
        assert_eq!(rows, unchanged, "no teacher, no change");

        let model = Classifier::load(&ModelDir::new(&shipped), Backend::Candle).unwrap();
        let train = [rows[0].clone(), rows[2].clone()];
        let expected = predict_rows(&model, &train, &mut |_, _| {}).unwrap();
        // the same teacher twice: their mean is its own probabilities
        teach(&mut rows, &[shipped.clone(), shipped], &mut |_, _, _| {}).unwrap();
        assert_eq!(rows[1].teacher, None, "dev rows are not taught");
        for (row, want) in [&rows[0], &rows[2]].into_iter().zip(&expected) {
            let got = row.teacher.expect("train rows are taught");
            for (g, w) in got.0.iter().zip(want.0) {
                assert!((g - w).abs() < 1e-6, "{got:?} against {want:?}");
            }
        }
    }
}
