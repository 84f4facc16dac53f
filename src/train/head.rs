//! Training the context head ([`crate::classify`]) on fixed features: AdamW with dropout and
//! class weights, early stopping on the dev selection score, once for each weight of the
//! written articles; the best on dev is kept and given a temperature fitted on dev so that its
//! probabilities are calibrated.

use super::datasets::{written::NEWS_WRITTEN, Row};
use super::metrics;
use super::optim::{
    adamw, batch_loss, batch_rows, class_weights, early_stopping, seeded_init,
    weighted_cross_entropy, Rng, Stopping,
};
use crate::classify::{ContextHead, Domain, HeadConfig};
use crate::error::Result;
use crate::types::{Label, Scores};
use candle_core::{DType, Device, Tensor};
use candle_nn::{Optimizer, VarBuilder, VarMap};
use ndarray::Array2;
use std::collections::BTreeMap;

/// The group a dev source is selected on: real news editorials and CDCP's comments. The other
/// corpora (the written articles, IBM's encyclopedia) are trained on but not chosen on.
pub fn selection_group(source: &str) -> Option<&'static str> {
    if source.starts_with("webis") {
        Some("real-news")
    } else if source.starts_with("cdcp") {
        Some("comments")
    } else {
        None
    }
}

/// Dev score used for model selection: the mean over the [`selection_group`]s of each group's
/// macro-F1, so that neither dominates the choice. Dev data with neither group is scored by
/// domain (news, comments, encyclopedia) instead.
pub fn selection_score(rows: &[Row], predictions: &[Scores]) -> (f64, BTreeMap<String, f64>) {
    let grouped = rows.iter().any(|r| selection_group(&r.source).is_some());
    let mut by_source: BTreeMap<String, (Vec<Label>, Vec<Scores>)> = BTreeMap::new();
    for (r, p) in rows.iter().zip(predictions) {
        let group = match selection_group(&r.source) {
            Some(group) => group.to_string(),
            None if grouped => continue,
            None => format!("{:?}", Domain::of_source(&r.source)).to_lowercase(),
        };
        let e = by_source.entry(group).or_default();
        e.0.push(r.label);
        e.1.push(*p);
    }
    let per: BTreeMap<String, f64> = by_source
        .into_iter()
        .map(|(s, (g, p))| (s, metrics::evaluate(&g, &p).macro_f1))
        .collect();
    let mean = per.values().sum::<f64>() / per.len().max(1) as f64;
    (mean, per)
}

/// Settings of head training.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HeadTraining {
    pub hidden: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub dropout: f32,
    /// Stop after this many epochs without a better dev score.
    pub patience: usize,
    /// Multipliers of the written articles' row weights, each tried in turn (the first of
    /// equal dev scores is kept). The written articles follow another convention than real
    /// editorials (theses early, headlines often calls to action), so how much they count is
    /// chosen on real dev.
    pub written_weights: Vec<f32>,
    pub seed: u64,
}

impl Default for HeadTraining {
    fn default() -> Self {
        HeadTraining {
            hidden: 256,
            epochs: 40,
            batch_size: 64,
            learning_rate: 1e-3,
            weight_decay: 0.01,
            dropout: 0.2,
            patience: 6,
            written_weights: vec![1.0, 0.5, 0.25],
            seed: 17,
        }
    }
}

/// A trained head with its dev score and the variables to save.
pub struct TrainedHead {
    pub head: ContextHead,
    pub config: HeadConfig,
    pub vars: VarMap,
    pub dev_score: f64,
    pub dev_per_source: BTreeMap<String, f64>,
    pub epochs_run: usize,
    /// The kept multiplier of the written articles' row weights.
    pub written_weight: f32,
    /// Every multiplier tried, with its dev selection score.
    pub tried: Vec<(f32, f64)>,
}

/// Trains the context head on fixed features once for each of the settings' written weights
/// ([`HeadTraining::written_weights`]), keeps the best on dev, and fits its temperature on dev.
pub fn train_head(
    train_x: &Array2<f32>,
    train_rows: &[Row],
    dev_x: &Array2<f32>,
    dev_rows: &[Row],
    input: usize,
    settings: &HeadTraining,
    log: &mut dyn FnMut(&str),
) -> Result<TrainedHead> {
    let mut best: Option<TrainedHead> = None;
    let mut tried = Vec::new();
    for &written_weight in &settings.written_weights {
        let rows: Vec<Row> = train_rows
            .iter()
            .map(|r| {
                let mut r = r.clone();
                if r.source == NEWS_WRITTEN {
                    r.weight *= written_weight;
                }
                r
            })
            .collect();
        let mut head = fit_head(train_x, &rows, dev_x, dev_rows, input, settings, log)?;
        head.written_weight = written_weight;
        log(&format!(
            "head: written weight {written_weight}: dev score {:.4} {:?}",
            head.dev_score, head.dev_per_source
        ));
        tried.push((written_weight, head.dev_score));
        if best.as_ref().is_none_or(|b| head.dev_score > b.dev_score) {
            best = Some(head);
        }
    }
    let mut trained = best.expect("at least one written weight");
    trained.tried = tried;
    let t = fit_temperature(&trained.head, dev_x, dev_rows)?;
    trained.head.set_temperature(t);
    trained.config.temperature = t;
    Ok(trained)
}

/// Trains the context head on fixed features with AdamW and early stopping on dev.
fn fit_head(
    train_x: &Array2<f32>,
    train_rows: &[Row],
    dev_x: &Array2<f32>,
    dev_rows: &[Row],
    input: usize,
    settings: &HeadTraining,
    log: &mut dyn FnMut(&str),
) -> Result<TrainedHead> {
    let device = Device::Cpu;
    let config = HeadConfig {
        input,
        hidden: settings.hidden,
        temperature: 1.0,
    };
    let vars = VarMap::new();
    let head = ContextHead::new(VarBuilder::from_varmap(&vars, DType::F32, &device), &config)?;
    let mut rng = Rng::new(settings.seed);
    seeded_init(&vars, &mut rng)?;
    let mut opt = adamw(&vars, settings.learning_rate, settings.weight_decay)?;
    let cw = class_weights(train_rows);
    let (train, width) = (
        train_x.as_slice().expect("standard layout"),
        train_x.ncols(),
    );
    let mut order: Vec<usize> = (0..train_rows.len()).collect();
    let stopping = Stopping {
        epochs: settings.epochs,
        patience: settings.patience,
        budget: None,
    };
    let best = early_stopping(&vars, &stopping, |epoch| {
        rng.shuffle(&mut order);
        let mut loss_sum = 0.0;
        for batch in order.chunks(settings.batch_size) {
            let x = batch_rows(train, width, batch, settings.dropout, &mut rng)?;
            let loss = batch_loss(&head.logits(&x)?, train_rows, batch, &cw)?;
            opt.backward_step(&loss)?;
            loss_sum += loss.to_scalar::<f32>()? as f64 * batch.len() as f64;
        }
        let (score, per) = selection_score(dev_rows, &head.predict(dev_x)?);
        log(&format!(
            "head epoch {:>2}: train loss {:.4}, dev score {:.4} {:?}",
            epoch + 1,
            loss_sum / train_rows.len() as f64,
            score,
            per
        ));
        Ok((score, per))
    })?;
    Ok(TrainedHead {
        head: ContextHead::new(VarBuilder::from_varmap(&vars, DType::F32, &device), &config)?,
        config,
        vars,
        dev_score: best.score,
        dev_per_source: best.outcome,
        epochs_run: best.epochs_run,
        written_weight: 1.0,
        tried: Vec::new(),
    })
}

/// The temperature in [0.5, 4] that minimises dev negative log-likelihood (grid search).
fn fit_temperature(head: &ContextHead, dev_x: &Array2<f32>, dev_rows: &[Row]) -> Result<f32> {
    let device = Device::Cpu;
    let x = Tensor::from_slice(
        dev_x.as_slice().expect("standard layout"),
        dev_x.dim(),
        &device,
    )?;
    let logits = head.logits(&x)?;
    let y: Vec<u32> = dev_rows.iter().map(|r| r.label.index() as u32).collect();
    let y = Tensor::from_vec(y, dev_rows.len(), &device)?;
    let ones = Tensor::ones(dev_rows.len(), DType::F32, &device)?;
    let mut best = (f32::INFINITY, 1.0);
    for step in 0..=70 {
        let t = 0.5 + step as f32 * 0.05;
        let nll = weighted_cross_entropy(&(&logits / t as f64)?, &y, &ones)?.to_scalar::<f32>()?;
        if nll < best.0 {
            best = (nll, t);
        }
    }
    Ok(best.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(source: &str, label: Label) -> Row {
        serde_json::from_value(serde_json::json!({
            "text": "x", "label": label, "source_label": "x", "doc_id": "d", "split": "dev",
            "source": source, "context": {"position": 0.0}
        }))
        .unwrap()
    }

    #[test]
    fn the_written_articles_count_as_much_as_real_dev_prefers() {
        // column 0 tells the labels apart; the many written rows teach the opposite of the
        // few real ones, so only a small written weight scores well on real dev
        let hidden = 2;
        let width = crate::classify::feature_width(hidden);
        let mut rows = Vec::new();
        let mut x = Vec::new();
        for k in 0..240 {
            let (positive, real) = (k % 2 == 0, k < 40);
            let source = if real { "webis-guardian" } else { NEWS_WRITTEN };
            let label = if positive == real {
                Label::Claim
            } else {
                Label::Evidence
            };
            rows.push(row(source, label));
            let mut features = vec![0.0; width];
            features[0] = if positive { 1.0 } else { -1.0 };
            x.extend(features);
        }
        let train_x = Array2::from_shape_vec((rows.len(), width), x).unwrap();
        let dev_rows = &rows[..40];
        let dev_x = train_x.slice(ndarray::s![..40, ..]).to_owned();
        let settings = HeadTraining {
            hidden: 8,
            epochs: 30,
            patience: 30,
            written_weights: vec![1.0, 0.02],
            ..HeadTraining::default()
        };
        let head = train_head(
            &train_x,
            &rows,
            &dev_x,
            dev_rows,
            hidden,
            &settings,
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(head.written_weight, 0.02, "{:?}", head.tried);
        assert_eq!(head.tried.len(), 2);
        assert!(head.tried[1].1 > head.tried[0].1, "{:?}", head.tried);
    }

    #[test]
    fn selection_is_scored_on_real_news_and_comments_when_there_are_any() {
        let claim = Scores::certain(Label::Claim);
        let rows = [
            row("webis-guardian", Label::Claim),
            row("cdcp", Label::Evidence),
            row("argmine-news-written", Label::Evidence),
        ];
        let (score, per) = selection_score(&rows, &[claim; 3]);
        assert_eq!(per.keys().collect::<Vec<_>>(), ["comments", "real-news"]);
        assert_eq!(score, 0.5);
        // without them, by domain
        let (_, per) = selection_score(&rows[2..], &[claim]);
        assert_eq!(per.keys().collect::<Vec<_>>(), ["news"]);
    }
}
