//! Element-wise kernels for the inference-mode encoder ([`crate::encode::bert`]).
//!
//! candle computes GELU and the softmax's exponentials one element at a time through libm
//! (`erff`, `expf`), whose branches keep the compiler from vectorising the loops; in a profile
//! of `argmine bench` they took 13 % and 6 % of the run (docs/benchmarks.md). The kernels here
//! compute the same functions branch-free, in loops the compiler vectorises:
//! - [`gelu_in_place`]: erf as the rational approximation Eigen and XLA use for f32 (the input clamped
//!   to [−4, 4], where erf reaches ±1 in f32; an odd degree-13 numerator over an even degree-8
//!   denominator), within 4.3e-7 of erf in f64;
//! - [`masked_softmax`]: the attention softmax with the padding bias added in the same pass;
//!   exp by Cody–Waite range reduction (x = n·ln 2 + r) and Cephes' degree-6 polynomial for
//!   e^r, within 2 ulp.
//!
//! Training keeps candle's ops, which have backward passes.

use super::gemm::Level;
use candle_core::{bail, CpuStorage, CustomOp2, DType, Layout, Result, Shape, Tensor};
use std::f32::consts::FRAC_1_SQRT_2;

/// GELU(x) = x·Φ(x) = ½·x·(1 + erf(x/√2)) (Hendrycks and Gimpel 2016, arXiv:1606.08415), the
/// exact form BERT uses, in place (the feed-forward products of [`super::gemm`] apply it to
/// each block of rows they write), vectorised for `level`.
pub fn gelu_in_place(xs: &mut [f32], level: Level) {
    #[cfg(target_arch = "x86_64")]
    if level >= Level::Avx2 {
        // SAFETY: the CPU has AVX2 and FMA (`level` is never above the detected one).
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

/// softmax(scores + bias) over the last dimension: the attention weights, with `scores`
/// `[batch, heads, queries, keys]` and `bias` `[batch, 1, 1, keys]` (0 on real tokens, a large
/// negative value on padding). Tensors other than f32 on the CPU go through candle's ops.
pub fn masked_softmax(scores: &Tensor, bias: &Tensor, level: Level) -> Result<Tensor> {
    if scores.device().is_cpu() && scores.dtype() == DType::F32 && bias.dtype() == DType::F32 {
        scores
            .contiguous()?
            .apply_op2_no_bwd(&bias.contiguous()?, &MaskedSoftmax { level })
    } else {
        candle_nn::ops::softmax_last_dim(&scores.broadcast_add(bias)?)
    }
}

struct MaskedSoftmax {
    level: Level,
}

impl CustomOp2 for MaskedSoftmax {
    fn name(&self) -> &'static str {
        "argmine-masked-softmax"
    }

    fn cpu_fwd(
        &self,
        scores: &CpuStorage,
        scores_layout: &Layout,
        bias: &CpuStorage,
        bias_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(scores), CpuStorage::F32(bias), Some(s), Some(b)) = (
            scores,
            bias,
            scores_layout.contiguous_offsets(),
            bias_layout.contiguous_offsets(),
        ) else {
            bail!("argmine-masked-softmax needs contiguous f32 tensors");
        };
        let (batch, heads, queries, keys) = scores_layout.shape().dims4()?;
        if bias_layout.shape().dims() != [batch, 1, 1, keys] {
            bail!(
                "attention bias of shape {:?} for scores of shape {:?}",
                bias_layout.shape(),
                scores_layout.shape()
            );
        }
        let (scores, bias) = (&scores[s.0..s.1], &bias[b.0..b.1]);
        let mut out = vec![0f32; scores.len()];
        let rows_per_bias = heads * queries;
        #[cfg(target_arch = "x86_64")]
        if self.level >= Level::Avx2 {
            // SAFETY: the CPU has AVX2 and FMA (`level` is never above the detected one).
            unsafe { softmax_rows_avx2(scores, bias, &mut out, rows_per_bias, keys) };
            return Ok((CpuStorage::F32(out), scores_layout.shape().clone()));
        }
        softmax_rows(scores, bias, &mut out, rows_per_bias, keys);
        Ok((CpuStorage::F32(out), scores_layout.shape().clone()))
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn softmax_rows_avx2(
    scores: &[f32],
    bias: &[f32],
    out: &mut [f32],
    per_bias: usize,
    keys: usize,
) {
    softmax_rows(scores, bias, out, per_bias, keys)
}

/// softmax(row + bias) for each row of `keys` scores; each `per_bias` consecutive rows share
/// one bias row.
#[inline(always)]
fn softmax_rows(scores: &[f32], bias: &[f32], out: &mut [f32], per_bias: usize, keys: usize) {
    let rows = scores.chunks_exact(keys).zip(out.chunks_exact_mut(keys));
    for (r, (row, weights)) in rows.enumerate() {
        let bias = &bias[r / per_bias * keys..][..keys];
        let mut max = f32::NEG_INFINITY;
        for ((w, &s), &b) in weights.iter_mut().zip(row).zip(bias) {
            *w = s + b;
            max = max.max(*w);
        }
        for w in weights.iter_mut() {
            *w = exp(*w - max);
        }
        let scale = 1.0 / weights.iter().sum::<f32>();
        for w in weights.iter_mut() {
            *w *= scale;
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

    #[test]
    fn masked_softmax_matches_candles_softmax_of_the_biased_scores() {
        let (batch, heads, queries, keys) = (3, 4, 5, 7);
        let n = batch * heads * queries * keys;
        let values: Vec<f32> = (0..n)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
            .collect();
        let scores = Tensor::from_vec(values, (batch, heads, queries, keys), &Device::Cpu).unwrap();
        // batch 1 has two padded keys
        let mut mask = vec![0f32; batch * keys];
        mask[keys + 5..2 * keys].fill(-1e4);
        let bias = Tensor::from_vec(mask, (batch, 1, 1, keys), &Device::Cpu).unwrap();
        let expected =
            candle_nn::ops::softmax_last_dim(&scores.broadcast_add(&bias).unwrap()).unwrap();
        // also from a non-contiguous view of the same scores
        let transposed = scores
            .transpose(2, 3)
            .unwrap()
            .contiguous()
            .unwrap()
            .transpose(2, 3)
            .unwrap();
        for scores in [scores, transposed] {
            let ours = masked_softmax(&scores, &bias, Level::Portable).unwrap();
            let vectorised = masked_softmax(&scores, &bias, Level::detected()).unwrap();
            assert_eq!(largest_difference(&ours, &vectorised), 0.0);
            assert!(largest_difference(&ours, &expected) < 1e-6);
            let padded = ours.get(1).unwrap().narrow(2, 5, 2).unwrap();
            assert!(padded.sum_all().unwrap().to_scalar::<f32>().unwrap() < 1e-30);
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
