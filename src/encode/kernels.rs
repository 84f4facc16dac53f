//! Element-wise kernels for the inference-mode encoder ([`crate::encode::bert`]).
//!
//! candle computes GELU and the softmax's exponentials one element at a time through libm
//! (`erff`, `expf`), whose branches keep the compiler from vectorising the loops; in a profile
//! of `argmine bench` they took 13 % and 6 % of the run (docs/benchmarks.md). The kernels here
//! compute the same functions branch-free, in loops the compiler vectorises:
//! - [`gelu_in_place`]: erf as the rational approximation Eigen and XLA use for f32 (the input clamped
//!   to [−4, 4], where erf reaches ±1 in f32; an odd degree-13 numerator over an even degree-8
//!   denominator), within 4.3e-7 of erf in f64;
//! - [`attention`]: the whole self-attention of a layer, from the query-key-value product to
//!   the context, over real tokens only; its softmax's exp by Cody–Waite range reduction
//!   (x = n·ln 2 + r) and Cephes' degree-6 polynomial for e^r, within 2 ulp.
//!
//! Training keeps candle's ops, which have backward passes.

use super::gemm::Level;
use candle_core::{bail, CpuStorage, CustomOp2, Layout, Result, Shape, Tensor};
use std::f32::consts::FRAC_1_SQRT_2;

/// GELU(x) = x·Φ(x) = ½·x·(1 + erf(x/√2)) (Hendrycks and Gimpel 2016, arXiv:1606.08415), the
/// exact form BERT uses, in place (the feed-forward products of [`super::gemm`] apply it to
/// each block of rows they write), vectorised for `level`.
pub fn gelu_in_place(xs: &mut [f32], level: Level) {
    #[cfg(target_arch = "x86_64")]
    if Level::capped(level) >= Level::Avx2 {
        // SAFETY: the CPU has AVX2 and FMA (the level is capped at the detected one).
        return unsafe { gelu_avx2(xs) };
    }
    let _ = level;
    gelu(xs)
}

/// The loops of this module compiled again with AVX2 and FMA enabled, so that the compiler
/// vectorises them 8 floats wide instead of SSE2's 4. The results are the same bits: Rust never
/// fuses a multiply and an add unless asked to.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gelu_avx2(xs: &mut [f32]) {
    gelu(xs)
}

#[inline(always)]
fn gelu(xs: &mut [f32]) {
    for x in xs {
        *x = 0.5 * *x * (1.0 + erf(*x * FRAC_1_SQRT_2));
    }
}

/// Self-attention of the inference encoder, from the query-key-value product `qkv`
/// (`[batch, width, 3 · hidden]`: queries, keys, values, each `heads` × `hidden / heads`) and
/// the token counts of the rows, `real` (`[batch]`, u32; a row's real tokens come first):
/// softmax(q·kᵀ / √d)·v per head, `[batch, width, hidden]`.
///
/// Only real tokens are computed, as queries and as keys; padded positions get zeros. A
/// sentence's result therefore does not depend on how wide its batch was padded, to the last
/// bit, which the int8 encoder needs: it quantises each row, and a last-bit change would now and
/// then change a quantised value and the output's fourth decimal. Each score sums over the head
/// dimension in order, each output over the keys in order.
pub fn attention(qkv: &Tensor, real: &Tensor, heads: usize, level: Level) -> Result<Tensor> {
    qkv.contiguous()?
        .apply_op2_no_bwd(&real.contiguous()?, &Attention { heads, level })
}

struct Attention {
    heads: usize,
    level: Level,
}

impl CustomOp2 for Attention {
    fn name(&self) -> &'static str {
        "argmine-attention"
    }

    fn cpu_fwd(
        &self,
        qkv: &CpuStorage,
        qkv_layout: &Layout,
        real: &CpuStorage,
        real_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(qkv), CpuStorage::U32(real), Some(q), Some(r)) = (
            qkv,
            real,
            qkv_layout.contiguous_offsets(),
            real_layout.contiguous_offsets(),
        ) else {
            bail!("argmine-attention needs a contiguous f32 qkv and u32 token counts");
        };
        let (batch, width, three_h) = qkv_layout.shape().dims3()?;
        let real = &real[r.0..r.1];
        if real.len() != batch || three_h % (3 * self.heads) != 0 {
            bail!(
                "attention over qkv {:?} with {} token counts and {} heads",
                qkv_layout.shape(),
                real.len(),
                self.heads
            );
        }
        let shape = Shape::from((batch, width, three_h / 3));
        let mut out = vec![0f32; shape.elem_count()];
        let problem = AttentionShape {
            width,
            heads: self.heads,
            head: three_h / 3 / self.heads,
        };
        let qkv = &qkv[q.0..q.1];
        #[cfg(target_arch = "x86_64")]
        if Level::capped(self.level) >= Level::Avx2 {
            // SAFETY: the CPU has AVX2 and FMA (the level is capped at the detected one).
            unsafe { attention_avx2(qkv, real, &mut out, problem) };
            return Ok((CpuStorage::F32(out), shape));
        }
        attend(qkv, real, &mut out, problem);
        Ok((CpuStorage::F32(out), shape))
    }
}

#[derive(Clone, Copy)]
struct AttentionShape {
    width: usize,
    heads: usize,
    /// The size of one head.
    head: usize,
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn attention_avx2(qkv: &[f32], real: &[u32], out: &mut [f32], shape: AttentionShape) {
    attend(qkv, real, out, shape)
}

/// Lanes of the blocks the attention loops keep in registers (one AVX2 vector), and how many
/// blocks they sum side by side, so that the additions do not wait on one another.
const LANES: usize = 8;
const BLOCKS: usize = 4;
const GROUP: usize = LANES * BLOCKS;

#[inline(always)]
fn attend(qkv: &[f32], real: &[u32], out: &mut [f32], shape: AttentionShape) {
    let AttentionShape { width, heads, head } = shape;
    let hidden = heads * head;
    let scale = 1.0 / (head as f32).sqrt();
    let stride = width.div_ceil(GROUP) * GROUP;
    // Keys transposed ([head][tokens], zero past the real ones), so that a query's scores are
    // summed GROUP keys at a time in registers.
    let mut keys = vec![0f32; head * stride];
    let mut scores = vec![0f32; stride];
    for (b, &n) in real.iter().enumerate() {
        let n = (n as usize).min(width);
        let n_padded = n.div_ceil(GROUP) * GROUP;
        let rows = &qkv[b * width * 3 * hidden..][..width * 3 * hidden];
        let out = &mut out[b * width * hidden..][..width * hidden];
        for h in 0..heads {
            let column = |token: usize, part: usize| {
                &rows[token * 3 * hidden + part * hidden + h * head..][..head]
            };
            keys.fill(0.0);
            for j in 0..n {
                for (c, &k) in column(j, 1).iter().enumerate() {
                    keys[c * n_padded + j] = k;
                }
            }
            for i in 0..n {
                let q = column(i, 0);
                for (group, scores) in scores[..n_padded].chunks_exact_mut(GROUP).enumerate() {
                    let mut acc = [[0f32; LANES]; BLOCKS];
                    for (c, &q) in q.iter().enumerate() {
                        let q = q * scale;
                        let k = &keys[c * n_padded + group * GROUP..][..GROUP];
                        for (acc, k) in acc.iter_mut().zip(k.chunks_exact(LANES)) {
                            for (a, &k) in acc.iter_mut().zip(k) {
                                *a += q * k;
                            }
                        }
                    }
                    scores.copy_from_slice(acc.as_flattened());
                }
                let scores = &mut scores[..n];
                let max = scores.iter().fold(f32::NEG_INFINITY, |m, &s| m.max(s));
                for s in scores.iter_mut() {
                    *s = exp(*s - max);
                }
                let sum_inverse = 1.0 / scores.iter().sum::<f32>();
                for s in scores.iter_mut() {
                    *s *= sum_inverse;
                }
                let context = &mut out[i * hidden + h * head..][..head];
                let mut groups = context.chunks_exact_mut(GROUP);
                for (group, context) in groups.by_ref().enumerate() {
                    let mut acc = [[0f32; LANES]; BLOCKS];
                    for (j, &p) in scores.iter().enumerate() {
                        let v = &column(j, 2)[group * GROUP..][..GROUP];
                        for (acc, v) in acc.iter_mut().zip(v.chunks_exact(LANES)) {
                            for (a, &v) in acc.iter_mut().zip(v) {
                                *a += p * v;
                            }
                        }
                    }
                    context.copy_from_slice(acc.as_flattened());
                }
                let rest = groups.into_remainder();
                let done = head - rest.len();
                for (j, &p) in scores.iter().enumerate() {
                    for (o, &v) in rest.iter_mut().zip(&column(j, 2)[done..]) {
                        *o += p * v;
                    }
                }
            }
        }
    }
}

/// e^x for x ≤ 0 (softmax inputs after the row maximum is subtracted), within 2 ulp; inputs
/// below −87 give e^−87 ≈ 1.6e-38 instead of a denormal or 0.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer without a rounding
    // instruction that older x86 lacks.
    const ROUND: f32 = 12_582_912.0;
    const P: [f32; 6] = [
        1.987_569_1e-4,
        1.398_199_9e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        0.166_666_65,
        0.5,
    ];
    let x = x.max(-87.0);
    let n = (x * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = P[1..].iter().fold(P[0], |p, &c| p * r + c);
    let e = p * r * r + r + 1.0;
    // 2ⁿ from its exponent bits; n ≥ −126 after the clamp, so 2ⁿ is a normal number.
    e * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// erf(x) to within 4.3e-7, without branches.
#[inline(always)]
fn erf(x: f32) -> f32 {
    const ALPHA: [f32; 7] = [
        -2.726_142_3e-10,
        2.770_681_4e-8,
        -2.101_024e-6,
        -5.692_506_4e-5,
        -7.349_906e-4,
        -2.954_6e-3,
        -1.609_603_3e-2,
    ];
    const BETA: [f32; 5] = [
        -1.456_607_2e-5,
        -2.133_740_6e-4,
        -1.682_827e-3,
        -7.373_329e-3,
        -1.426_474e-2,
    ];
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let p = ALPHA[1..].iter().fold(ALPHA[0], |p, &a| p * x2 + a);
    let q = BETA[1..].iter().fold(BETA[0], |q, &b| q * x2 + b);
    x * p / q
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn erf_matches_libm_in_f64() {
        let worst = (-60_000..=60_000)
            .map(|i| i as f32 * 1e-4)
            .map(|x| (erf(x) as f64 - libm::erf(x as f64)).abs())
            .fold(0.0, f64::max);
        assert!(worst < 5e-7, "largest error {worst}");
    }

    #[test]
    fn exp_is_within_two_ulp_of_f64() {
        for i in 0..=870_000 {
            let x = -(i as f32) * 1e-4;
            let exact = (x as f64).exp();
            let ulp = f32::EPSILON as f64 * exact;
            let error = (exp(x) as f64 - exact).abs();
            assert!(
                error <= 2.0 * ulp,
                "exp({x}) = {}, expected {exact}",
                exp(x)
            );
        }
    }

    /// The attention of candle's ops (as the differentiable encoder computes it) on `n` real
    /// tokens of a `[1, n, 3h]` product.
    fn candle_attention(qkv: &Tensor, heads: usize) -> Tensor {
        let (b, t, three_h) = qkv.dims3().unwrap();
        let d = three_h / 3 / heads;
        let qkv = qkv
            .reshape((b, t, 3, heads, d))
            .unwrap()
            .permute((2, 0, 3, 1, 4))
            .unwrap();
        let part = |i| qkv.get(i).unwrap().contiguous().unwrap();
        let q = (part(0) * (1.0 / (d as f64).sqrt())).unwrap();
        let scores = q.matmul(&part(1).t().unwrap()).unwrap();
        let probs = candle_nn::ops::softmax_last_dim(&scores).unwrap();
        probs
            .matmul(&part(2))
            .unwrap()
            .transpose(1, 2)
            .unwrap()
            .reshape((b, t, three_h / 3))
            .unwrap()
    }

    #[test]
    fn attention_matches_candles_ops_and_ignores_padding_to_the_bit() {
        let (heads, d, n) = (4, 8, 7);
        let three_h = 3 * heads * d;
        let values: Vec<f32> = (0..n * three_h)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0)
            .collect();
        let alone = Tensor::from_vec(values.clone(), (1, n, three_h), &Device::Cpu).unwrap();
        let expected = candle_attention(&alone, heads);
        for level in [Level::Portable, Level::detected()] {
            let count = |n: u32| Tensor::new(&[n], &Device::Cpu).unwrap();
            let ours = attention(&alone, &count(n as u32), heads, level).unwrap();
            assert!(largest_difference(&ours, &expected) < 1e-5, "{level:?}");
            // The same sentence in a batch padded to 12 tokens, after a full row.
            let mut padded = vec![9.0f32; 2 * 12 * three_h];
            padded[12 * three_h..][..n * three_h].copy_from_slice(&values);
            let padded = Tensor::from_vec(padded, (2, 12, three_h), &Device::Cpu).unwrap();
            let real = Tensor::new(&[12u32, n as u32], &Device::Cpu).unwrap();
            let batch = attention(&padded, &real, heads, level).unwrap();
            let row = batch.get(1).unwrap().narrow(0, 0, n).unwrap();
            assert_eq!(
                row.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                ours.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                "{level:?}"
            );
            let padding = batch.get(1).unwrap().narrow(0, n, 12 - n).unwrap();
            assert_eq!(
                padding
                    .abs()
                    .unwrap()
                    .sum_all()
                    .unwrap()
                    .to_scalar::<f32>()
                    .unwrap(),
                0.0
            );
        }
    }

    fn largest_difference(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
    }

    #[test]
    fn gelu_matches_candles_exact_gelu() {
        let values: Vec<f32> = (0..4096).map(|i| (i as f32 - 2048.0) / 200.0).collect();
        let x = Tensor::from_vec(values.clone(), 4096, &Device::Cpu).unwrap();
        let mut ours = values.clone();
        gelu_in_place(&mut ours, Level::Portable);
        let mut vectorised = values;
        gelu_in_place(&mut vectorised, Level::detected());
        assert_eq!(ours, vectorised);
        let ours = Tensor::from_vec(ours, 4096, &Device::Cpu).unwrap();
        let diff = largest_difference(&ours, &x.gelu_erf().unwrap());
        assert!(diff < 2e-6, "largest difference {diff}");
    }
}
