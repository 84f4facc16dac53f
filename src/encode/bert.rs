//! BERT encoder (Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional Transformers for
//! Language Understanding", arXiv:1810.04805) in candle, for the MiniLM checkpoints argmine
//! ships (Wang et al. 2020, "MiniLM: Deep Self-Attention Distillation", arXiv:2002.10957).
//!
//! Weight names follow the Hugging Face `BertModel` layout (`embeddings.*`,
//! `encoder.layer.N.*`), so any BERT `model.safetensors` loads. The same encoder loads MPNet
//! checkpoints (Song et al. 2020, "MPNet: Masked and Permuted Pre-training for Language
//! Understanding", arXiv:2004.09297, e.g. all-mpnet-base-v2) when `config.json` says
//! `"model_type": "mpnet"`: MPNet is BERT without segment embeddings, with positions counted from
//! `pad_token_id + 1`, its weights named `attention.attn.{q,k,v,o}` and `attention.LayerNorm`,
//! and a learned bias per head and bucket of relative position added to every layer's attention
//! scores ([`RelativePositions`]). Two details differ from a textbook port:
//! - the query, key and value projections are concatenated at load time into one `[3h, h]`
//!   matrix, so each layer does one large matmul instead of three small ones;
//! - the model is built either for inference ([`Mode::Inference`]), with the linear layers
//!   packed for argmine's own matrix products ([`super::gemm`], f32 or int8; the feed-forward
//!   half of a layer, both products and GELU, one block of rows at a time, [`feed_forward`])
//!   and fused kernels (layer norm with its residual add, in place, [`kernels::LayerNorm`];
//!   the whole self-attention of [`super::kernels::attention`], over real tokens only),
//!   or for training ([`Mode::Differentiable`]), with candle's linear layers and the same
//!   functions written as plain tensor ops, because the fused kernels have no backward pass
//!   and would silently cut gradients.
//!
//! In int8, every linear layer of the encoder is quantised: the feed-forward output's input,
//! GELU's output, by its range per row (it is ≥ −0.17, so a symmetric range would waste half
//! the levels), the others symmetrically ([`ActivationQuantisation`]). The attention products
//! and the embeddings stay f32.

use super::gemm::{
    feed_forward, Activation, ActivationQuantisation, Level, PackedF32, PackedInt8, Product,
};
use super::kernels;
use candle_core::{bail, CpuStorage, CustomOp1, DType, Layout, Module, Result, Shape, Tensor, D};
use candle_nn::{Embedding, Linear, VarBuilder};
use serde::Deserialize;
use std::ops::Range;

/// What training does to the states at each of BERT's dropout sites
/// ([`Bert::layers_with_dropout`]); the identity, `&mut Ok`, at inference.
pub type Dropout<'a> = dyn FnMut(Tensor) -> Result<Tensor> + 'a;

/// The subset of Hugging Face's `BertConfig` that the encoder uses.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Config {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "default_positions")]
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default)]
    pub model_type: Architecture,
    /// MPNet counts positions from `pad_token_id + 1`.
    #[serde(default)]
    pub pad_token_id: usize,
    /// MPNet's buckets of relative position.
    #[serde(default = "default_buckets")]
    pub relative_attention_num_buckets: usize,
}

/// The member of the BERT family a checkpoint belongs to (`model_type` in `config.json`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    #[default]
    Bert,
    Mpnet,
}

fn default_positions() -> usize {
    512
}
fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_buckets() -> usize {
    32
}

/// How the encoder is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// For training: candle's ops, with backward passes.
    Differentiable,
    /// For inference: packed products at `level`, in `precision`.
    Inference { precision: Precision, level: Level },
}

/// The arithmetic of the quantisable linear layers in inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    F32,
    Int8,
}

/// A linear layer `x·Wᵀ + b`, as candle's [`Linear`] for training or packed for inference.
enum Dense {
    Trainable(Linear),
    F32(PackedF32),
    Int8(PackedInt8),
}

impl Dense {
    /// `weight` `[out, in]`, `bias` `[out]`; in int8, the inputs are quantised as `activations`
    /// says.
    fn new(
        weight: Tensor,
        bias: Tensor,
        mode: Mode,
        activations: ActivationQuantisation,
    ) -> Result<Dense> {
        let Mode::Inference { precision, level } = mode else {
            return Ok(Dense::Trainable(Linear::new(weight, Some(bias))));
        };
        let width = weight.dim(0)?;
        let (weight, bias) = (
            weight.flatten_all()?.to_vec1::<f32>()?,
            bias.to_vec1::<f32>()?,
        );
        Ok(if precision == Precision::Int8 {
            Dense::Int8(PackedInt8::new(
                level,
                &weight,
                Some(&bias),
                width,
                activations,
            ))
        } else {
            Dense::F32(PackedF32::new(level, &weight, Some(&bias), width))
        })
    }

    fn load(
        vb: VarBuilder,
        input: usize,
        output: usize,
        mode: Mode,
        activations: ActivationQuantisation,
    ) -> Result<Dense> {
        let weight = vb.get((output, input), "weight")?;
        Dense::new(weight, vb.get(output, "bias")?, mode, activations)
    }

    fn forward(&self, x: &Tensor, activation: Activation) -> Result<Tensor> {
        match self {
            Dense::Trainable(linear) => {
                let y = linear.forward(x)?;
                match activation {
                    Activation::Identity => Ok(y),
                    Activation::Gelu => y.gelu_erf(),
                }
            }
            Dense::F32(_) | Dense::Int8(_) => x
                .contiguous()?
                .apply_op1_no_bwd(&Packed::Linear(self, activation)),
        }
    }

    /// `second(GELU(self(x)))`: packed, as one op that never holds all of the inner
    /// activations ([`feed_forward`]).
    fn feed_forward(&self, second: &Dense, x: &Tensor) -> Result<Tensor> {
        match self {
            Dense::Trainable(_) => {
                second.forward(&self.forward(x, Activation::Gelu)?, Activation::Identity)
            }
            Dense::F32(_) | Dense::Int8(_) => x
                .contiguous()?
                .apply_op1_no_bwd(&Packed::FeedForward(self, second)),
        }
    }
}

/// Packed [`Dense`] layers as a candle op on f32 CPU tensors `[…, in]` → `[…, out]`.
enum Packed<'a> {
    /// One layer, through an activation.
    Linear(&'a Dense, Activation),
    /// Two layers with GELU between them.
    FeedForward(&'a Dense, &'a Dense),
}

impl CustomOp1 for Packed<'_> {
    fn name(&self) -> &'static str {
        "argmine-packed-linear"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(data), Some((start, end))) = (storage, layout.contiguous_offsets())
        else {
            bail!("a packed linear layer needs a contiguous f32 tensor");
        };
        let x = &data[start..end];
        let (out, width) = match *self {
            Packed::Linear(Dense::F32(p), activation) => (p.forward(x, activation), p.width()),
            Packed::Linear(Dense::Int8(p), activation) => (p.forward(x, activation), p.width()),
            Packed::FeedForward(Dense::F32(first), Dense::F32(second)) => {
                (feed_forward(first, second, x), second.width())
            }
            Packed::FeedForward(Dense::Int8(first), Dense::Int8(second)) => {
                (feed_forward(first, second, x), second.width())
            }
            _ => bail!("packed layers of one precision only"),
        };
        let mut dims = layout.shape().dims().to_vec();
        if let Some(last) = dims.last_mut() {
            *last = width;
        }
        Ok((CpuStorage::F32(out), Shape::from(dims)))
    }
}

/// Layer normalisation: candle's ops for training, [`kernels::LayerNorm`] for inference.
enum LayerNorm {
    Trainable {
        weight: Tensor,
        bias: Tensor,
        eps: f64,
    },
    Fused(kernels::LayerNorm),
}

impl LayerNorm {
    fn load(vb: VarBuilder, size: usize, eps: f64, mode: Mode) -> Result<Self> {
        let (weight, bias) = (vb.get(size, "weight")?, vb.get(size, "bias")?);
        Ok(match mode {
            Mode::Differentiable => LayerNorm::Trainable { weight, bias, eps },
            Mode::Inference { level, .. } => LayerNorm::Fused(kernels::LayerNorm::new(
                weight.to_vec1()?,
                bias.to_vec1()?,
                eps as f32,
                level,
            )),
        })
    }

    /// The normalisation of `x`, or of `x + residual`; `x` is the fresh output of an op,
    /// which inference overwrites.
    fn forward(&self, x: Tensor, residual: Option<&Tensor>) -> Result<Tensor> {
        let (weight, bias, eps) = match self {
            LayerNorm::Fused(norm) => return norm.forward(x, residual),
            LayerNorm::Trainable { weight, bias, eps } => (weight, bias, *eps),
        };
        let x = match residual {
            Some(residual) => (x + residual)?,
            None => x,
        };
        let mean = x.mean_keepdim(D::Minus1)?;
        let centred = x.broadcast_sub(&mean)?;
        let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centred.broadcast_div(&(var + eps)?.sqrt()?)?;
        normed.broadcast_mul(weight)?.broadcast_add(bias)
    }
}

struct Layer {
    qkv: Dense,
    attention_out: Dense,
    attention_norm: LayerNorm,
    intermediate: Dense,
    output: Dense,
    output_norm: LayerNorm,
}

impl Layer {
    fn load(vb: VarBuilder, c: &Config, mode: Mode) -> Result<Self> {
        let h = c.hidden_size;
        let attn = vb.pp("attention");
        // Where each architecture keeps the attention's projections and its layer norm.
        let (projections, [query, key, value], out, norm) = match c.model_type {
            Architecture::Bert => (
                attn.pp("self"),
                ["query", "key", "value"],
                attn.pp("output").pp("dense"),
                attn.pp("output").pp("LayerNorm"),
            ),
            Architecture::Mpnet => (
                attn.pp("attn"),
                ["q", "k", "v"],
                attn.pp("attn").pp("o"),
                attn.pp("LayerNorm"),
            ),
        };
        let part = |name: &str| -> Result<(Tensor, Tensor)> {
            let p = projections.pp(name);
            Ok((p.get((h, h), "weight")?, p.get(h, "bias")?))
        };
        let (q, k, v) = (part(query)?, part(key)?, part(value)?);
        let qkv = Dense::new(
            Tensor::cat(&[&q.0, &k.0, &v.0], 0)?,
            Tensor::cat(&[&q.1, &k.1, &v.1], 0)?,
            mode,
            ActivationQuantisation::Symmetric,
        )?;
        let dense = |vb: VarBuilder, i: usize, o: usize, activations| {
            Dense::load(vb, i, o, mode, activations)
        };
        let symmetric = ActivationQuantisation::Symmetric;
        Ok(Layer {
            qkv,
            attention_out: dense(out, h, h, symmetric)?,
            attention_norm: LayerNorm::load(norm, h, c.layer_norm_eps, mode)?,
            intermediate: dense(
                vb.pp("intermediate").pp("dense"),
                h,
                c.intermediate_size,
                symmetric,
            )?,
            output: dense(
                vb.pp("output").pp("dense"),
                c.intermediate_size,
                h,
                ActivationQuantisation::Range,
            )?,
            output_norm: LayerNorm::load(
                vb.pp("output").pp("LayerNorm"),
                h,
                c.layer_norm_eps,
                mode,
            )?,
        })
    }
}

/// What a layer's attention needs of the padding mask.
enum Mask {
    /// Each row's real token count, for [`kernels::attention`] (inference).
    Counts { real: Tensor, level: Level },
    /// The additive bias of candle's softmax (training).
    Bias(Tensor),
}

/// MPNet's relative position bias: a learned value per head for each bucket of the distance
/// from query to key (exact up to 8 tokens, then logarithmic up to 128, each direction apart;
/// the buckets of T5, Raffel et al. 2020), added to the attention scores of every layer.
struct RelativePositions {
    /// `[buckets, heads]`.
    bias: Embedding,
    buckets: usize,
}

impl RelativePositions {
    const MAX_DISTANCE: usize = 128;

    /// The bucket of `key − query`.
    fn bucket(&self, query: usize, key: usize) -> u32 {
        let half = self.buckets / 2;
        let exact = half / 2;
        let direction = if key > query { half } else { 0 };
        let distance = query.abs_diff(key);
        let within = if distance < exact {
            distance
        } else {
            let log = (distance as f64 / exact as f64).ln()
                / (Self::MAX_DISTANCE as f64 / exact as f64).ln();
            (exact + (log * (half - exact) as f64) as usize).min(half - 1)
        };
        (direction + within) as u32
    }

    /// The bias `[1, heads, width, width]` for sequences of `width` tokens.
    fn forward(&self, width: usize, device: &candle_core::Device) -> Result<Tensor> {
        let buckets: Vec<u32> = (0..width)
            .flat_map(|q| (0..width).map(move |k| (q, k)))
            .map(|(q, k)| self.bucket(q, k))
            .collect();
        let buckets = Tensor::from_vec(buckets, (width, width), device)?;
        self.bias
            .forward(&buckets)?
            .permute((2, 0, 1))?
            .unsqueeze(0)
    }
}

/// A BERT-family encoder returning the last layer's token states.
pub struct Bert {
    word: Embedding,
    position: Embedding,
    /// The first position's index in `position` (MPNet skips the padding row and the one below).
    first_position: u32,
    /// BERT's segment embeddings; MPNet has none.
    token_type: Option<Embedding>,
    /// MPNet's relative position bias; BERT has none.
    relative: Option<RelativePositions>,
    embedding_norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    mode: Mode,
}

impl Bert {
    /// Loads weights under `vb` (Hugging Face names, with or without a `bert.` or `mpnet.`
    /// prefix).
    pub fn load(vb: VarBuilder, config: &Config, mode: Mode) -> Result<Self> {
        let vb = match ["bert", "mpnet"]
            .into_iter()
            .find(|p| vb.contains_tensor(&format!("{p}.embeddings.word_embeddings.weight")))
        {
            Some(prefix) => vb.pp(prefix),
            None => vb,
        };
        let h = config.hidden_size;
        let emb = vb.pp("embeddings");
        let layers = (0..config.num_hidden_layers)
            .map(|i| Layer::load(vb.pp(format!("encoder.layer.{i}")), config, mode))
            .collect::<Result<Vec<_>>>()?;
        let mpnet = config.model_type == Architecture::Mpnet;
        Ok(Bert {
            word: candle_nn::embedding(config.vocab_size, h, emb.pp("word_embeddings"))?,
            position: candle_nn::embedding(
                config.max_position_embeddings,
                h,
                emb.pp("position_embeddings"),
            )?,
            first_position: if mpnet {
                config.pad_token_id as u32 + 1
            } else {
                0
            },
            token_type: (!mpnet)
                .then(|| {
                    candle_nn::embedding(config.type_vocab_size, h, emb.pp("token_type_embeddings"))
                })
                .transpose()?,
            relative: mpnet
                .then(|| {
                    let buckets = config.relative_attention_num_buckets;
                    candle_nn::embedding(
                        buckets,
                        config.num_attention_heads,
                        vb.pp("encoder").pp("relative_attention_bias"),
                    )
                    .map(|bias| RelativePositions { bias, buckets })
                })
                .transpose()?,
            embedding_norm: LayerNorm::load(emb.pp("LayerNorm"), h, config.layer_norm_eps, mode)?,
            layers,
            heads: config.num_attention_heads,
            mode,
        })
    }

    /// Token states `[batch, width, hidden]` for `ids` and `mask` (`[batch, width]`, u32; mask 1
    /// on real tokens). All tokens get segment id 0.
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        self.layers(self.embed(ids)?, mask, 0..self.layers.len())
    }

    /// The number of transformer layers.
    pub fn depth(&self) -> usize {
        self.layers.len()
    }

    /// The normalised token embeddings `[batch, width, hidden]` of `ids`, the first layer's input.
    pub fn embed(&self, ids: &Tensor) -> Result<Tensor> {
        let width = ids.dim(1)?;
        let positions = Tensor::arange(
            self.first_position,
            self.first_position + width as u32,
            ids.device(),
        )?;
        let mut x = self
            .word
            .forward(ids)?
            .broadcast_add(&self.position.forward(&positions)?)?;
        if let Some(token_type) = &self.token_type {
            x = x.broadcast_add(&token_type.forward(&Tensor::zeros(
                1,
                DType::U32,
                ids.device(),
            )?)?)?;
        }
        self.embedding_norm.forward(x, None)
    }

    /// Runs the transformer layers `range` over the states `x` (`[batch, width, hidden]`, the
    /// output of [`Bert::embed`] or of the layers below `range.start`).
    pub fn layers(&self, x: Tensor, mask: &Tensor, range: Range<usize>) -> Result<Tensor> {
        self.layers_with_dropout(x, mask, range, &mut Ok)
    }

    /// [`Bert::layers`] for training: `dropout` is applied where BERT applies its attention and
    /// hidden dropout: to the attention probabilities where candle's ops compute them (always in
    /// [`Mode::Differentiable`]) and to each sub-layer's output before its residual add.
    pub fn layers_with_dropout(
        &self,
        mut x: Tensor,
        mask: &Tensor,
        range: Range<usize>,
        dropout: &mut Dropout,
    ) -> Result<Tensor> {
        let (batch, width) = mask.dims2()?;
        // Additive attention bias: 0 on real tokens, -10⁴ on padding, [batch, 1, 1, width].
        let padding = || (mask.to_dtype(DType::F32)? - 1.0)? * 1e4;
        let mask = match (&self.relative, self.mode) {
            // The fused kernel knows no position bias: MPNet attends with candle's ops.
            (Some(relative), _) => Mask::Bias(
                padding()?
                    .reshape((batch, 1, 1, width))?
                    .broadcast_add(&relative.forward(width, mask.device())?)?,
            ),
            (None, Mode::Inference { level, .. }) => Mask::Counts {
                real: mask.sum(1)?,
                level,
            },
            (None, Mode::Differentiable) => Mask::Bias(padding()?.reshape((batch, 1, 1, width))?),
        };
        for layer in &self.layers[range] {
            x = self.layer(layer, &x, &mask, dropout)?;
        }
        Ok(x)
    }

    fn layer(&self, l: &Layer, x: &Tensor, mask: &Mask, dropout: &mut Dropout) -> Result<Tensor> {
        let (b, t, h) = x.dims3()?;
        let d = h / self.heads;
        let qkv = l.qkv.forward(x, Activation::Identity)?;
        let context = match mask {
            Mask::Counts { real, level } => kernels::attention(&qkv, real, self.heads, *level)?,
            Mask::Bias(bias) => {
                // [b, t, 3h] → three [b, heads, t, d]
                let qkv = qkv
                    .reshape((b, t, 3, self.heads, d))?
                    .permute((2, 0, 3, 1, 4))?;
                let q = (qkv.get(0)?.contiguous()? * (1.0 / (d as f64).sqrt()))?;
                let k = qkv.get(1)?.contiguous()?;
                let v = qkv.get(2)?.contiguous()?;
                let scores = q.matmul(&k.t()?)?;
                let probs = dropout(candle_nn::ops::softmax(
                    &scores.broadcast_add(bias)?,
                    D::Minus1,
                )?)?;
                probs.matmul(&v)?.transpose(1, 2)?.reshape((b, t, h))?
            }
        };
        let attended = dropout(l.attention_out.forward(&context, Activation::Identity)?)?;
        let x = l.attention_norm.forward(attended, Some(x))?;
        let fed = dropout(l.intermediate.feed_forward(&l.output, &x)?)?;
        l.output_norm.forward(fed, Some(&x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;
    use std::path::{Path, PathBuf};
    use std::sync::LazyLock;

    /// Random MPNet weights (`tests/data/tiny-mpnet`, made by `tests/tools/tiny_mpnet.py`).
    static TINY_MPNET: LazyLock<PathBuf> =
        LazyLock::new(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny-mpnet"));

    fn tiny_mpnet_config() -> Config {
        serde_json::from_str(&std::fs::read_to_string(TINY_MPNET.join("config.json")).unwrap())
            .unwrap()
    }

    fn tiny_mpnet(mode: Mode) -> Bert {
        let weights = TINY_MPNET.join("model.safetensors");
        // SAFETY: the fixture is not modified while mapped.
        let vb = unsafe {
            VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, &Device::Cpu).unwrap()
        };
        Bert::load(vb, &tiny_mpnet_config(), mode).unwrap()
    }

    #[test]
    fn relative_positions_fall_in_the_buckets_of_hugging_face_mpnet() {
        let device = Device::Cpu;
        let relative = RelativePositions {
            bias: Embedding::new(Tensor::zeros((32, 1), DType::F32, &device).unwrap(), 1),
            buckets: 32,
        };
        // (query, key, bucket), from `MPNetEncoder.relative_position_bucket` of `key - query`.
        for (query, key, bucket) in [
            (0, 0, 0),
            (5, 0, 5),
            (0, 5, 21),
            (20, 0, 10),
            (0, 20, 26),
            (127, 0, 15),
            (0, 200, 31),
        ] {
            assert_eq!(relative.bucket(query, key), bucket, "{query} → {key}");
        }
    }

    /// Training's dropout reaches the attention probabilities and both sub-layers' outputs of
    /// every layer, and an identity dropout leaves the states that `forward` gives.
    #[test]
    fn dropout_is_applied_three_times_in_every_layer() {
        let device = Device::Cpu;
        let bert = tiny_mpnet(Mode::Differentiable);
        let ids = Tensor::new(&[[5u32, 7, 9, 2]], &device).unwrap();
        let mask = Tensor::new(&[[1u32, 1, 1, 0]], &device).unwrap();
        let mut calls = 0;
        let states = bert
            .layers_with_dropout(
                bert.embed(&ids).unwrap(),
                &mask,
                0..bert.depth(),
                &mut |x| {
                    calls += 1;
                    Ok(x)
                },
            )
            .unwrap();
        assert_eq!(calls, 3 * bert.depth());
        let plain = bert.forward(&ids, &mask).unwrap();
        let gap = (states - plain).unwrap().abs().unwrap().max_all().unwrap();
        assert_eq!(gap.to_scalar::<f32>().unwrap(), 0.0);
    }

    /// `tests/data/tiny-mpnet` holds random weights and the token states that an independent
    /// numpy port of Hugging Face's `MPNetModel` computes for them (`tests/tools/tiny_mpnet.py`).
    #[test]
    fn mpnet_matches_an_independent_port_in_training_and_inference() {
        assert_eq!(tiny_mpnet_config().model_type, Architecture::Mpnet);
        let expected: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(TINY_MPNET.join("expected.json")).unwrap(),
        )
        .unwrap();
        let sequences: Vec<Vec<u32>> = serde_json::from_value(expected["ids"].clone()).unwrap();
        let states: Vec<Vec<Vec<f32>>> =
            serde_json::from_value(expected["states"].clone()).unwrap();
        let width = sequences.iter().map(Vec::len).max().unwrap();
        let (mut ids, mut mask) = (vec![], vec![]);
        for s in &sequences {
            ids.extend(s.iter().copied().chain(std::iter::repeat(0)).take(width));
            mask.extend((0..width).map(|i| u32::from(i < s.len())));
        }
        let device = Device::Cpu;
        let shape = (sequences.len(), width);
        let ids = Tensor::from_vec(ids, shape, &device).unwrap();
        let mask = Tensor::from_vec(mask, shape, &device).unwrap();
        for mode in [
            Mode::Differentiable,
            Mode::Inference {
                precision: Precision::F32,
                level: Level::detected(),
            },
        ] {
            let got = tiny_mpnet(mode)
                .forward(&ids, &mask)
                .unwrap()
                .to_vec3::<f32>()
                .unwrap();
            for (row, want) in states.iter().enumerate() {
                for (token, want) in want.iter().enumerate() {
                    for (g, w) in got[row][token].iter().zip(want) {
                        assert!(
                            (g - w).abs() < 1e-4,
                            "{mode:?} row {row} token {token}: {g} vs {w}"
                        );
                    }
                }
            }
        }
    }
}
