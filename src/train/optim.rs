//! The optimisation toolbox every trainer uses: a seeded generator and seeded initial weights,
//! dropout, the weighted losses and class weights, AdamW, and the one early-stopping loop that
//! the head, the link scorer and fine-tuning all run.

use super::datasets::Row;
use super::distil::TEACHER_SHARE;
use crate::error::Result;
use candle_core::{Tensor, D};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarMap};
use std::collections::HashMap;
use std::time::Instant;

/// A small deterministic generator (SplitMix64) for shuffling and dropout masks.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// Inverted dropout with a mask from `rng`, so training is reproducible.
pub fn dropout(x: &Tensor, p: f32, rng: &mut Rng) -> candle_core::Result<Tensor> {
    if p <= 0.0 {
        return Ok(x.clone());
    }
    let n = x.elem_count();
    let keep = 1.0 / (1.0 - p);
    let mask: Vec<f32> = (0..n)
        .map(|_| if rng.next_f32() < p { 0.0 } else { keep })
        .collect();
    x * Tensor::from_vec(mask, x.shape(), x.device())?
}

/// The rows `batch` of the row-major matrix `x` (rows `width` long) as a `[batch, width]`
/// tensor, with inverted dropout `p`.
pub fn batch_rows(
    x: &[f32],
    width: usize,
    batch: &[usize],
    p: f32,
    rng: &mut Rng,
) -> candle_core::Result<Tensor> {
    let mut rows = Vec::with_capacity(batch.len() * width);
    for &i in batch {
        rows.extend_from_slice(&x[i * width..(i + 1) * width]);
    }
    let rows = Tensor::from_vec(rows, (batch.len(), width), &candle_core::Device::Cpu)?;
    dropout(&rows, p, rng)
}

/// Class weights `1/sqrt(freq)` over the weighted training labels, scaled to mean 1, so the
/// rare recommendation class is not drowned out without over-weighting it.
pub fn class_weights(rows: &[Row]) -> [f32; 4] {
    let mut counts = [0f32; 4];
    for r in rows {
        counts[r.label.index()] += r.weight;
    }
    let mut w = counts.map(|c| if c > 0.0 { 1.0 / c.sqrt() } else { 0.0 });
    let present = w.iter().filter(|&&x| x > 0.0).count().max(1) as f32;
    let mean = w.iter().sum::<f32>() / present;
    w.iter_mut().for_each(|x| *x /= mean);
    w
}

/// Weighted cross-entropy: `Σ w_i · −log p(y_i) / Σ w_i`.
pub fn weighted_cross_entropy(
    logits: &Tensor,
    labels: &Tensor,
    weights: &Tensor,
) -> candle_core::Result<Tensor> {
    let logp = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    weighted_mean_loss(&logp.gather(&labels.unsqueeze(1)?, 1)?.squeeze(1)?, weights)
}

/// `−Σ w_i · ll_i / Σ w_i` of per-row log-likelihoods `ll`.
fn weighted_mean_loss(log_likelihoods: &Tensor, weights: &Tensor) -> candle_core::Result<Tensor> {
    let total = (log_likelihoods * weights)?.sum_all()?;
    total.neg()? / weights.sum_all()?.to_scalar::<f32>()? as f64
}

/// The weighted cross-entropy of `logits` for the rows `batch` of `rows` against each row's
/// [`target`], each row weighted by the class weight of its gold label times its own weight.
pub fn batch_loss(
    logits: &Tensor,
    rows: &[Row],
    batch: &[usize],
    class_weights: &[f32; 4],
) -> candle_core::Result<Tensor> {
    let device = logits.device();
    let targets: Vec<f32> = batch.iter().flat_map(|&i| target(&rows[i])).collect();
    let w: Vec<f32> = batch
        .iter()
        .map(|&i| class_weights[rows[i].label.index()] * rows[i].weight)
        .collect();
    let logp = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let targets = Tensor::from_vec(targets, (batch.len(), 4), device)?;
    let w = Tensor::from_vec(w, batch.len(), device)?;
    weighted_mean_loss(&(logp * targets)?.sum(1)?, &w)
}

/// What a row is trained towards: its gold label, one-hot; with a teacher's probabilities
/// ([`super::distil`]), `1 − TEACHER_SHARE` of the gold label plus `TEACHER_SHARE` of them.
pub fn target(row: &Row) -> [f32; 4] {
    let mut t = [0.0; 4];
    t[row.label.index()] = 1.0;
    if let Some(teacher) = row.teacher {
        for (t, p) in t.iter_mut().zip(teacher.0) {
            *t = (1.0 - TEACHER_SHARE) * *t + TEACHER_SHARE * p;
        }
    }
    t
}

/// Draws every variable of `vars` again from `rng`, in name order, so that training starts
/// from the same weights on every run (candle's own initialisers draw from an unseeded
/// generator): a matrix `[out, in]` uniform in `±1/√in`, as PyTorch's linear layers; anything
/// else (biases) zero.
pub fn seeded_init(vars: &VarMap, rng: &mut Rng) -> Result<()> {
    let data = vars.data().lock().expect("var map lock");
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for name in names {
        let var = &data[name];
        let shape = var.shape().clone();
        let values: Vec<f32> = match shape.dims() {
            &[_, fan_in] => {
                let bound = 1.0 / (fan_in as f32).sqrt();
                (0..shape.elem_count())
                    .map(|_| (2.0 * rng.next_f32() - 1.0) * bound)
                    .collect()
            }
            _ => vec![0.0; shape.elem_count()],
        };
        var.set(&Tensor::from_vec(values, shape, var.device())?)?;
    }
    Ok(())
}

/// AdamW over every variable of `vars`.
pub fn adamw(vars: &VarMap, learning_rate: f64, weight_decay: f64) -> Result<AdamW> {
    Ok(AdamW::new(
        vars.all_vars(),
        ParamsAdamW {
            lr: learning_rate,
            weight_decay,
            ..Default::default()
        },
    )?)
}

/// When [`early_stopping`] ends.
#[derive(Debug, Clone, Copy)]
pub struct Stopping {
    /// Epochs at most.
    pub epochs: usize,
    /// Stop after this many epochs without a better dev score.
    pub patience: usize,
    /// Start no epoch after this many minutes since `started`.
    pub budget: Option<(Instant, f64)>,
}

/// Why [`early_stopping`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    AllEpochs,
    Patience,
    Budget,
}

/// The best epoch of [`early_stopping`].
pub struct Best<T> {
    /// Its dev score.
    pub score: f64,
    /// What its epoch returned besides the score.
    pub outcome: T,
    pub epochs_run: usize,
    pub stopped: Stopped,
}

/// The training loop: runs `epoch(k)` for `k = 0, 1, …` (each trains one epoch and returns
/// its dev score, higher being better, and anything to keep with it) until [`Stopping`] says
/// to stop; the first epoch always runs. Whenever an epoch beats every earlier one, the variables of `vars` are copied;
/// at the end they hold the best epoch's weights again.
pub fn early_stopping<T>(
    vars: &VarMap,
    stopping: &Stopping,
    mut epoch: impl FnMut(usize) -> Result<(f64, T)>,
) -> Result<Best<T>> {
    let mut best: Option<(f64, T, HashMap<String, Tensor>)> = None;
    let (mut since_best, mut epochs_run) = (0, 0);
    let mut stopped = Stopped::AllEpochs;
    for k in 0..stopping.epochs.max(1) {
        if let Some((started, minutes)) = stopping.budget.filter(|_| k > 0) {
            if started.elapsed().as_secs_f64() / 60.0 > minutes {
                stopped = Stopped::Budget;
                break;
            }
        }
        epochs_run = k + 1;
        let (score, outcome) = epoch(k)?;
        if best.as_ref().is_none_or(|b| score > b.0) {
            best = Some((score, outcome, snapshot(vars)?));
            since_best = 0;
        } else {
            since_best += 1;
            if since_best >= stopping.patience {
                stopped = Stopped::Patience;
                break;
            }
        }
    }
    let (score, outcome, weights) = best.expect("at least one epoch");
    for (k, v) in vars.data().lock().expect("var map lock").iter() {
        v.set(&weights[k])?;
    }
    Ok(Best {
        score,
        outcome,
        epochs_run,
        stopped,
    })
}

/// A copy of every variable's current value.
fn snapshot(vars: &VarMap) -> candle_core::Result<HashMap<String, Tensor>> {
    vars.data()
        .lock()
        .expect("var map lock")
        .iter()
        .map(|(k, v)| Ok((k.clone(), v.as_tensor().copy()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    #[test]
    fn a_teacher_shares_the_target_and_the_loss_with_the_gold_label() {
        let mut row: Row = serde_json::from_value(serde_json::json!({
            "text": "x", "label": "claim", "source_label": "x", "doc_id": "d", "split": "train",
            "source": "cdcp", "context": {"position": 0.0}
        }))
        .unwrap();
        let logits = Tensor::new(&[[2f32, 0.0, 0.0, 0.0]], &candle_core::Device::Cpu).unwrap();
        let log_z = (2f32.exp() + 3.0).ln();
        let (logp_claim, logp_evidence) = (2.0 - log_z, -log_z);
        let loss = |row: &Row| {
            batch_loss(&logits, std::slice::from_ref(row), &[0], &[1.0; 4])
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
        };
        assert_eq!(target(&row), [1.0, 0.0, 0.0, 0.0]);
        assert!((loss(&row) + logp_claim).abs() < 1e-6);

        row.teacher = Some(crate::types::Scores([0.0, 1.0, 0.0, 0.0]));
        let s = TEACHER_SHARE;
        assert_eq!(target(&row), [1.0 - s, s, 0.0, 0.0]);
        let want = -(1.0 - s) * logp_claim - s * logp_evidence;
        assert!(
            (loss(&row) - want).abs() < 1e-6,
            "{} against {want}",
            loss(&row)
        );
    }

    #[test]
    fn early_stopping_restores_the_best_epoch_and_stops_after_patience() {
        let vars = VarMap::new();
        vars.get(
            1,
            "w",
            candle_nn::Init::Const(0.0),
            DType::F32,
            &Device::Cpu,
        )
        .unwrap();
        let scores = [0.1, 0.5, 0.4, 0.3, 0.9];
        let stopping = Stopping {
            epochs: scores.len(),
            patience: 2,
            budget: None,
        };
        let best = early_stopping(&vars, &stopping, |k| {
            let value = Tensor::new(&[k as f32], &Device::Cpu)?;
            vars.data().lock().unwrap()["w"].set(&value)?;
            Ok((scores[k], k))
        })
        .unwrap();
        assert_eq!((best.outcome, best.epochs_run), (1, 4));
        assert_eq!(best.stopped, Stopped::Patience);
        let w = vars.data().lock().unwrap()["w"]
            .as_tensor()
            .to_vec1::<f32>()
            .unwrap();
        assert_eq!(w, [1.0]);
    }

    #[test]
    fn seeded_init_gives_the_same_weights_on_every_run() {
        let draw = || {
            let vars = VarMap::new();
            let vb = candle_nn::VarBuilder::from_varmap(&vars, DType::F32, &Device::Cpu);
            candle_nn::linear(16, 3, vb.pp("fc")).unwrap();
            seeded_init(&vars, &mut Rng::new(7)).unwrap();
            let data = vars.data().lock().unwrap();
            let w = data["fc.weight"].as_tensor().flatten_all().unwrap();
            let b = data["fc.bias"].as_tensor().to_vec1::<f32>().unwrap();
            (w.to_vec1::<f32>().unwrap(), b)
        };
        let (w, b) = draw();
        assert_eq!((w.clone(), b.clone()), draw());
        assert!(w.iter().all(|x| x.abs() <= 0.25) && w.iter().any(|&x| x != 0.0));
        assert_eq!(b, [0.0; 3]);
    }
}
