//! Fine-tuning the encoder with candle's autograd.
//!
//! The transformer layers are trainable; the embedding tables stay frozen (their 11.7 M
//! parameters would dominate the optimiser's work and over-fit a few thousand sentences). With
//! [`FinetuneSettings::trainable_layers`], only the top layers train: the states entering them
//! are computed once by the frozen layers below and kept, so an epoch costs only the top layers'
//! forward and backward passes, which makes a 12-layer encoder such as MPNet trainable on a few
//! CPU cores. A
//! linear probe on the mean-pooled, dropped-out sentence state gives the loss: weighted
//! cross-entropy with the class weights of [`super::optim::class_weights`]. AdamW with linear warm-up
//! and linear decay; the probe learns 20× faster than the encoder. After each epoch the probe's
//! dev score decides early stopping, and the best epoch's weights are kept.

use super::datasets::Row;
use super::head::selection_score;
use super::optim::{
    adamw, batch_loss, class_weights, dropout, early_stopping, Rng, Stopped, Stopping,
};
use crate::encode::bert::{Config as BertConfig, Dropout, Mode, Precision};
use crate::encode::candle::{to_array, CandleEncoder};
use crate::encode::gemm::Level;
use crate::encode::{length_batches, SentenceTokenizer, TokenBatch, Tokens};
use crate::error::Result;
use crate::model::ModelDir;
use crate::types::Scores;
use candle_core::{DType, Device, Module, Shape, Tensor, Var, D};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Optimizer, VarBuilder, VarMap};
use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::time::Instant;

#[derive(Debug, Clone, serde::Serialize)]
pub struct FinetuneSettings {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub probe_learning_rate: f64,
    pub warmup_fraction: f64,
    pub weight_decay: f64,
    /// Dropout inside the encoder (BERT's attention and hidden dropout) and on the pooled
    /// sentence embedding that the probe reads.
    pub dropout: f32,
    pub seed: u64,
    /// Stop starting new epochs once this many minutes have passed.
    pub max_minutes: f64,
    /// Train only the top this many transformer layers (all of them when `None`).
    pub trainable_layers: Option<NonZeroUsize>,
}

impl Default for FinetuneSettings {
    fn default() -> Self {
        FinetuneSettings {
            epochs: 3,
            batch_size: 16,
            learning_rate: 5e-5,
            probe_learning_rate: 1e-3,
            warmup_fraction: 0.1,
            weight_decay: 0.01,
            dropout: 0.1,
            seed: 17,
            max_minutes: 45.0,
            trainable_layers: None,
        }
    }
}

/// Serves pretrained tensors, turning those of the transformer layers from `first_trainable`
/// up into trainable variables recorded in `vars`.
struct PartlyTrainable {
    tensors: HashMap<String, Tensor>,
    vars: VarMap,
    first_trainable: usize,
}

impl PartlyTrainable {
    fn trainable(&self, name: &str) -> bool {
        name.strip_prefix("encoder.layer.")
            .and_then(|rest| rest.split('.').next())
            .and_then(|layer| layer.parse::<usize>().ok())
            .is_some_and(|layer| layer >= self.first_trainable)
    }
}

impl SimpleBackend for PartlyTrainable {
    fn get(
        &self,
        s: Shape,
        name: &str,
        _: candle_nn::Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        let t = self.get_unchecked(name, dtype, dev)?;
        if t.shape() != &s {
            candle_core::bail!(
                "shape mismatch for {name}: expected {s:?}, got {:?}",
                t.shape()
            );
        }
        if !self.trainable(name) {
            return Ok(t);
        }
        let var = Var::from_tensor(&t)?;
        let tensor = var.as_tensor().clone();
        self.vars
            .data()
            .lock()
            .expect("var map lock")
            .insert(name.to_string(), var);
        Ok(tensor)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        match self.tensors.get(name) {
            Some(t) => t.to_dtype(dtype)?.to_device(dev),
            None => candle_core::bail!("cannot find tensor {name}"),
        }
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }
}

/// The outcome: every encoder tensor (fine-tuned where trainable) and the best dev score.
pub struct Finetuned {
    pub tensors: HashMap<String, Tensor>,
    pub dev_score: f64,
    pub epochs_run: usize,
    pub minutes: f64,
}

/// Batches of row indices with similar token lengths, in shuffled order: rows are shuffled,
/// cut into pools of 50 batches, each pool sorted by length and cut into batches.
fn bucketed_batches(lengths: &[usize], batch_size: usize, rng: &mut Rng) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    rng.shuffle(&mut order);
    let mut batches = Vec::new();
    for pool in order.chunks(batch_size * 50) {
        let mut pool = pool.to_vec();
        pool.sort_by_key(|&i| lengths[i]);
        batches.extend(pool.chunks(batch_size).map(<[usize]>::to_vec));
    }
    rng.shuffle(&mut batches);
    batches
}

/// What enters the first trainable layer, per row: its tokens when every layer trains, else the
/// token states `[tokens, hidden]` that the frozen layers below computed once.
struct LayerInputs {
    /// Tokens per row.
    lengths: Vec<usize>,
    first: usize,
    rows: Rows,
}

enum Rows {
    Tokens(Vec<Tokens>),
    States(Vec<Tensor>),
}

impl LayerInputs {
    /// The inputs of rows of `tokens` to the first layer, or with `below = (frozen, first)` to
    /// layer `first`, run through the layers under it by `frozen`.
    fn new(tokens: Vec<Tokens>, below: Option<(&CandleEncoder, usize)>) -> Result<Self> {
        let lengths: Vec<usize> = tokens.iter().map(|t| t.ids.len()).collect();
        let Some((frozen, first)) = below else {
            let rows = Rows::Tokens(tokens);
            return Ok(LayerInputs {
                lengths,
                first: 0,
                rows,
            });
        };
        let mut states = vec![None; tokens.len()];
        for batch in length_batches(&lengths, 64) {
            let rows: Vec<&Tokens> = batch.iter().map(|&i| &tokens[i]).collect();
            let (below, _) = frozen.states_below(&TokenBatch::pad(&rows), first)?;
            for (slot, &i) in batch.iter().enumerate() {
                // A compact copy: a view would keep the whole batch's storage alive.
                let row = below.get(slot)?.narrow(0, 0, lengths[i])?;
                states[i] = Some(row.force_contiguous()?.detach());
            }
        }
        let rows = Rows::States(states.into_iter().flatten().collect());
        Ok(LayerInputs {
            lengths,
            first,
            rows,
        })
    }

    /// Mean-pooled output of `encoder` for `rows` (differentiable in the trainable layers), with
    /// `dropout` inside its trainable layers.
    fn pooled(
        &self,
        encoder: &CandleEncoder,
        rows: &[usize],
        dropout: &mut Dropout,
    ) -> Result<Tensor> {
        let (states, mask) = match &self.rows {
            Rows::Tokens(tokens) => {
                let rows: Vec<&Tokens> = rows.iter().map(|&i| &tokens[i]).collect();
                encoder.states_below(&TokenBatch::pad(&rows), 0)?
            }
            Rows::States(states) => {
                let width = rows.iter().map(|&i| self.lengths[i]).max().unwrap_or(0);
                let padded = rows
                    .iter()
                    .map(|&i| states[i].pad_with_zeros(0, 0, width - self.lengths[i]))
                    .collect::<candle_core::Result<Vec<_>>>()?;
                let mask: Vec<u32> = rows
                    .iter()
                    .flat_map(|&i| (0..width).map(move |t| u32::from(t < self.lengths[i])))
                    .collect();
                let mask = Tensor::from_vec(mask, (rows.len(), width), &Device::Cpu)?;
                (Tensor::stack(&padded, 0)?, mask)
            }
        };
        encoder.pooled_from(states, &mask, self.first, dropout)
    }
}

/// The encoder that fine-tuning starts from: its weights (as f32), configuration and tokenizer.
pub struct BaseEncoder {
    pub tensors: HashMap<String, Tensor>,
    pub config: BertConfig,
    pub tokenizer: SentenceTokenizer,
}

impl BaseEncoder {
    /// The encoder of the model in `dir`, its tokenizer set to a window of `max_tokens`.
    pub fn load(dir: &ModelDir, max_tokens: usize) -> Result<Self> {
        Ok(BaseEncoder {
            config: dir.read_config()?,
            tokenizer: dir.tokenizer(max_tokens)?,
            tensors: dir.read_encoder_tensors()?,
        })
    }
}

pub fn finetune(
    base: &BaseEncoder,
    train: &[Row],
    dev: &[Row],
    settings: &FinetuneSettings,
    log: &mut dyn FnMut(&str),
    progress: &mut dyn FnMut(usize, usize, f32),
) -> Result<Finetuned> {
    let device = Device::Cpu;
    let started = Instant::now();
    let vars = VarMap::new();
    let (config, tokenizer) = (&base.config, &base.tokenizer);
    let depth = config.num_hidden_layers;
    let first = depth.saturating_sub(settings.trainable_layers.map_or(depth, NonZeroUsize::get));
    let backend = PartlyTrainable {
        tensors: base.tensors.clone(),
        vars: vars.clone(),
        first_trainable: first,
    };
    let vb = VarBuilder::from_backend(Box::new(backend), DType::F32, device.clone());
    let encoder = CandleEncoder::new(vb, config, Mode::Differentiable)?;
    let probe_vars = VarMap::new();
    let probe = candle_nn::linear(
        config.hidden_size,
        4,
        VarBuilder::from_varmap(&probe_vars, DType::F32, &device).pp("probe"),
    )?;

    use rayon::prelude::*;
    let tokenize = |rows: &[Row]| -> Result<Vec<Tokens>> {
        rows.par_iter()
            .map(|r| tokenizer.tokenize(&r.text))
            .collect()
    };
    // The frozen layers below the first trainable one run once, packed for inference.
    let frozen = (first > 0)
        .then(|| {
            let vb = VarBuilder::from_tensors(base.tensors.clone(), DType::F32, &device);
            let mode = Mode::Inference {
                precision: Precision::F32,
                level: Level::from_env()?,
            };
            CandleEncoder::new(vb, config, mode)
        })
        .transpose()?;
    let below = frozen.as_ref().map(|f| (f, first));
    let train_inputs = LayerInputs::new(tokenize(train)?, below)?;
    let dev_inputs = LayerInputs::new(tokenize(dev)?, below)?;
    if first > 0 {
        log(&format!(
            "states entering layer {first} of {depth} computed, {:.1} min",
            started.elapsed().as_secs_f64() / 60.0
        ));
    }
    let lengths = &train_inputs.lengths;
    let cw = class_weights(train);
    let mut rng = Rng::new(settings.seed);

    let steps_per_epoch = train.len().div_ceil(settings.batch_size);
    let total_steps = (steps_per_epoch * settings.epochs).max(1);
    let warmup = ((total_steps as f64) * settings.warmup_fraction).max(1.0);
    let mut opt = adamw(&vars, settings.learning_rate, settings.weight_decay)?;
    let mut probe_opt = adamw(
        &probe_vars,
        settings.probe_learning_rate,
        settings.weight_decay,
    )?;
    log(&format!(
        "fine-tuning {} trainable tensors on {} sentences, {} steps per epoch",
        vars.all_vars().len(),
        train.len(),
        steps_per_epoch
    ));

    let mut step = 0usize;
    let stopping = Stopping {
        epochs: settings.epochs,
        patience: 1,
        budget: Some((started, settings.max_minutes)),
    };
    let best = early_stopping(&vars, &stopping, |epoch| {
        let batches = bucketed_batches(lengths, settings.batch_size, &mut rng);
        let mut loss_avg = 0f32;
        for (b, batch) in batches.iter().enumerate() {
            let scale = if (step as f64) < warmup {
                (step as f64 + 1.0) / warmup
            } else {
                ((total_steps - step) as f64 / (total_steps as f64 - warmup).max(1.0)).max(0.0)
            };
            opt.set_learning_rate(settings.learning_rate * scale);
            probe_opt.set_learning_rate(settings.probe_learning_rate * scale);
            let pooled = train_inputs.pooled(&encoder, batch, &mut |x| {
                dropout(&x, settings.dropout, &mut rng)
            })?;
            let logits = probe.forward(&dropout(&pooled, settings.dropout, &mut rng)?)?;
            let loss = batch_loss(&logits, train, batch, &cw)?;
            let grads = loss.backward()?;
            opt.step(&grads)?;
            probe_opt.step(&grads)?;
            let l = loss.to_scalar::<f32>()?;
            loss_avg = if b == 0 {
                l
            } else {
                0.98 * loss_avg + 0.02 * l
            };
            step += 1;
            progress(b + 1, batches.len(), loss_avg);
        }
        // Dev score of the probe.
        let mut scores = vec![Scores([0.0; 4]); dev.len()];
        for batch in length_batches(&dev_inputs.lengths, 64) {
            let logits = probe.forward(&dev_inputs.pooled(&encoder, &batch, &mut Ok)?.detach())?;
            let probs = to_array(&candle_nn::ops::softmax(&logits, D::Minus1)?)?;
            for (p, &i) in probs.rows().into_iter().zip(&batch) {
                scores[i] = Scores([p[0], p[1], p[2], p[3]]);
            }
        }
        let (score, per) = selection_score(dev, &scores);
        log(&format!(
            "fine-tune epoch {}: loss {:.4}, probe dev score {:.4} {:?}, {:.1} min",
            epoch + 1,
            loss_avg,
            score,
            per,
            started.elapsed().as_secs_f64() / 60.0
        ));
        Ok((score, ()))
    })?;
    if best.stopped == Stopped::Budget {
        log(&format!(
            "time budget of {} minutes reached; stopping",
            settings.max_minutes
        ));
    }
    let mut tensors = base.tensors.clone();
    for (name, var) in vars.data().lock().expect("var map lock").iter() {
        tensors.insert(name.clone(), var.as_tensor().clone());
    }
    Ok(Finetuned {
        tensors,
        dev_score: best.score,
        epochs_run: best.epochs_run,
        minutes: started.elapsed().as_secs_f64() / 60.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn tiny_mpnet() -> (HashMap<String, Tensor>, BertConfig, Vec<Tokens>) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny-mpnet");
        let config = serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap());
        let tensors = candle_core::safetensors::load(dir.join("model.safetensors"), &Device::Cpu);
        let expected: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
        let ids: Vec<Vec<u32>> = serde_json::from_value(expected["ids"].clone()).unwrap();
        let tokens = ids.into_iter().map(|ids| Tokens { ids }).collect();
        (tensors.unwrap(), config.unwrap(), tokens)
    }

    #[test]
    fn only_the_layers_from_the_first_trainable_one_train() {
        let backend = PartlyTrainable {
            tensors: HashMap::new(),
            vars: VarMap::new(),
            first_trainable: 10,
        };
        assert!(backend.trainable("encoder.layer.10.attention.attn.q.weight"));
        assert!(backend.trainable("encoder.layer.11.output.dense.bias"));
        assert!(!backend.trainable("encoder.layer.9.output.dense.bias"));
        assert!(!backend.trainable("encoder.layer.1.output.dense.bias"));
        assert!(!backend.trainable("embeddings.word_embeddings.weight"));
        assert!(!backend.trainable("encoder.relative_attention_bias.weight"));
    }

    /// The states kept from the frozen layers, run through the trainable ones, give what the
    /// whole encoder gives, padding included.
    #[test]
    fn kept_states_of_the_frozen_layers_continue_into_the_trainable_ones() {
        let (tensors, config, tokens) = tiny_mpnet();
        let device = Device::Cpu;
        let encoder = |mode| {
            let vb = VarBuilder::from_tensors(tensors.clone(), DType::F32, &device);
            CandleEncoder::new(vb, &config, mode).unwrap()
        };
        let trainable = encoder(Mode::Differentiable);
        let frozen = encoder(Mode::Inference {
            precision: Precision::F32,
            level: Level::detected(),
        });
        let rows = [1, 0];
        let whole = LayerInputs::new(tokens.clone(), None)
            .unwrap()
            .pooled(&trainable, &rows, &mut Ok)
            .unwrap();
        let split = LayerInputs::new(tokens, Some((&frozen, 1)))
            .unwrap()
            .pooled(&trainable, &rows, &mut Ok)
            .unwrap();
        let gap = (whole - split)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(gap < 1e-4, "the split encoder differs by {gap}");
    }
}
