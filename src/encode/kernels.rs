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
//!   (x = n·ln 2 + r) and Cephes' degree-6 polynomial for e^r, within 2 ulp;
//! - [`LayerNorm`]: layer normalisation in place, with the residual connection before it
//!   added in the same pass over each row.
//!
//! Training keeps candle's ops, which have backward passes.

use super::gemm::Level;
use candle_core::{
    bail, CpuStorage, CustomOp2, InplaceOp1, InplaceOp2, Layout, Result, Shape, Tensor,
};
use std::f32::consts::FRAC_1_SQRT_2;

/// GELU(x) = x·Φ(x) = ½·x·(1 + erf(x/√2)) (Hendrycks and Gimpel 2016, arXiv:1606.08415), the
/// exact form BERT uses, in place (the feed-forward products of [`super::gemm`] apply it to
/// each block of rows they write), vectorised for `level`.
pub fn gelu_in_place(xs: &mut [f32], level: Level) {
    #[cfg(target_arch = "x86_64")]
    match Level::capped(level) {
        // SAFETY: the CPU has the level's features (the level is capped at the detected one).
        Level::Avx512 => unsafe { gelu_avx512(xs) },
        Level::Avx2 => unsafe { gelu_avx2(xs) },
        Level::Portable => gelu(xs),
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = level;
        gelu(xs)
    }
}

/// The loops of this module compiled again with AVX2 and FMA, or AVX-512, enabled, so that the
/// compiler vectorises them 8 or 16 floats wide instead of SSE2's 4. The results are the same
/// bits: Rust never fuses a multiply and an add unless asked to.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gelu_avx2(xs: &mut [f32]) {
    gelu(xs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn gelu_avx512(xs: &mut [f32]) {
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
        match Level::capped(self.level) {
            // SAFETY: the CPU has the level's features (the level is capped at the detected one).
            Level::Avx512 => unsafe { attention_avx512(qkv, real, &mut out, problem) },
            Level::Avx2 => unsafe { attention_avx2(qkv, real, &mut out, problem) },
            Level::Portable => attend::<PortableTiles>(qkv, real, &mut out, problem),
        }
        #[cfg(not(target_arch = "x86_64"))]
        attend::<PortableTiles>(qkv, real, &mut out, problem);
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
    attend::<x86::Avx2Tiles>(qkv, real, out, shape)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn attention_avx512(qkv: &[f32], real: &[u32], out: &mut [f32], shape: AttentionShape) {
    attend::<x86::Avx512Tiles>(qkv, real, out, shape)
}

/// Layer normalisation (Ba, Kiros and Hinton 2016, arXiv:1607.06450) over the last dimension,
/// `(x − mean) / √(variance + eps) · weight + bias`, of a row or of the sum of a row and its
/// residual connection, written over the row. Mean and variance are two passes over the row,
/// each summed in `LANES` lanes combined in a fixed order, so every level gives the same bits.
pub struct LayerNorm {
    weight: Vec<f32>,
    bias: Vec<f32>,
    eps: f32,
    level: Level,
}

impl LayerNorm {
    pub fn new(weight: Vec<f32>, bias: Vec<f32>, eps: f32, level: Level) -> LayerNorm {
        assert_eq!(weight.len(), bias.len(), "one bias per weight");
        LayerNorm {
            weight,
            bias,
            eps,
            level,
        }
    }

    /// The normalisation of `x`, or of `x + residual` (the same shape), `[…, hidden]`, written
    /// over `x`'s storage: `x` must be a contiguous tensor that nothing else shares, such as
    /// the fresh output of an op.
    pub fn forward(&self, x: Tensor, residual: Option<&Tensor>) -> Result<Tensor> {
        match residual {
            None => x.inplace_op1(self)?,
            Some(residual) => x.inplace_op2(&residual.contiguous()?, self)?,
        }
        Ok(x)
    }

    /// Adds `residual` to the rows of `x`, if there is one, and normalises them.
    fn normalise(
        &self,
        x: &mut CpuStorage,
        layout: &Layout,
        residual: Option<&[f32]>,
    ) -> Result<()> {
        let hidden = self.weight.len();
        let (CpuStorage::F32(x), Some((start, end))) = (x, layout.contiguous_offsets()) else {
            bail!("argmine-layer-norm needs a contiguous f32 tensor");
        };
        if layout.shape().dims().last() != Some(&hidden) {
            bail!("layer norm of width {hidden} over {:?}", layout.shape());
        }
        let x = &mut x[start..end];
        #[cfg(target_arch = "x86_64")]
        match Level::capped(self.level) {
            // SAFETY: the CPU has the level's features (the level is capped at the detected one).
            Level::Avx512 => unsafe { normalise_rows_avx512(self, x, residual) },
            Level::Avx2 => unsafe { normalise_rows_avx2(self, x, residual) },
            Level::Portable => normalise_rows(self, x, residual),
        }
        #[cfg(not(target_arch = "x86_64"))]
        normalise_rows(self, x, residual);
        Ok(())
    }
}

impl InplaceOp1 for LayerNorm {
    fn name(&self) -> &'static str {
        "argmine-layer-norm"
    }

    fn cpu_fwd(&self, x: &mut CpuStorage, layout: &Layout) -> Result<()> {
        self.normalise(x, layout, None)
    }
}

impl InplaceOp2 for LayerNorm {
    fn name(&self) -> &'static str {
        "argmine-add-layer-norm"
    }

    fn cpu_fwd(
        &self,
        x: &mut CpuStorage,
        layout: &Layout,
        residual: &CpuStorage,
        residual_layout: &Layout,
    ) -> Result<()> {
        let (CpuStorage::F32(r), Some((start, end))) =
            (residual, residual_layout.contiguous_offsets())
        else {
            bail!("argmine-add-layer-norm needs a contiguous f32 residual");
        };
        if layout.shape() != residual_layout.shape() {
            bail!(
                "a residual of {:?} added to {:?}",
                residual_layout.shape(),
                layout.shape()
            );
        }
        self.normalise(x, layout, Some(&r[start..end]))
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn normalise_rows_avx2(norm: &LayerNorm, values: &mut [f32], residual: Option<&[f32]>) {
    normalise_rows(norm, values, residual)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn normalise_rows_avx512(norm: &LayerNorm, values: &mut [f32], residual: Option<&[f32]>) {
    normalise_rows(norm, values, residual)
}

/// Adds each row's residual, if any, then normalises the row, in place.
#[inline(always)]
fn normalise_rows(norm: &LayerNorm, values: &mut [f32], residual: Option<&[f32]>) {
    let hidden = norm.weight.len();
    let count = hidden as f32;
    for (r, row) in values.chunks_exact_mut(hidden).enumerate() {
        if let Some(residual) = residual {
            for (v, &add) in row.iter_mut().zip(&residual[r * hidden..][..hidden]) {
                *v += add;
            }
        }
        let mean = lane_sum(row, |v| v) / count;
        let variance = lane_sum(row, |v| (v - mean) * (v - mean)) / count;
        let inverse = 1.0 / (variance + norm.eps).sqrt();
        for ((v, &w), &b) in row.iter_mut().zip(&norm.weight).zip(&norm.bias) {
            *v = (*v - mean) * inverse * w + b;
        }
    }
}

/// Σ f(v) over `values`, in `LANES` lanes combined by [`pairwise`].
#[inline(always)]
fn lane_sum(values: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut lanes = [0f32; LANES];
    let mut chunks = values.chunks_exact(LANES);
    for chunk in chunks.by_ref() {
        for (sum, &v) in lanes.iter_mut().zip(chunk) {
            *sum += f(v);
        }
    }
    for (sum, &v) in lanes.iter_mut().zip(chunks.remainder()) {
        *sum += f(v);
    }
    pairwise(lanes, |a, b| a + b)
}

/// The register tile of the attention loops: up to `QUERIES` queries side by side (twice as
/// many where a level has the registers, [`Tiles::DOUBLE`]) against a block of `LANES` keys
/// (scores) or of `LANES` values of the head (context), so that every key or value loaded
/// serves several queries and the additions do not wait on one another.
const QUERIES: usize = 6;
const LANES: usize = 16;

#[inline(always)]
fn attend<T: Tiles>(qkv: &[f32], real: &[u32], out: &mut [f32], shape: AttentionShape) {
    let AttentionShape { width, heads, head } = shape;
    let hidden = heads * head;
    let stride = width.div_ceil(LANES) * LANES;
    let mut scratch = Scratch {
        keys: vec![0f32; head * stride],
        scores: vec![0f32; 2 * QUERIES * stride],
    };
    for (b, &n) in real.iter().enumerate() {
        let n = (n as usize).min(width);
        let rows = &qkv[b * width * 3 * hidden..][..width * 3 * hidden];
        let out = &mut out[b * width * hidden..][..width * hidden];
        for h in 0..heads {
            let row = HeadRows {
                rows,
                hidden,
                head,
                offset: h * head,
                n,
                padded: n.div_ceil(LANES) * LANES,
            };
            // Keys transposed ([head][tokens], zero past the real ones), so that a block of
            // keys is one contiguous load per head dimension.
            let first_key = &rows[hidden + row.offset..];
            for (c, keys) in scratch.keys[..head * row.padded]
                .chunks_exact_mut(row.padded)
                .enumerate()
            {
                let (real, padding) = keys.split_at_mut(n);
                for (k, key) in real
                    .iter_mut()
                    .zip(first_key[c..].iter().step_by(3 * hidden))
                {
                    *k = *key;
                }
                padding.fill(0.0);
            }
            let mut first = 0;
            while first < n {
                // The widest tile that fits, then 4, 2 and 1 for the last queries.
                let left = n - first;
                let s = &mut scratch;
                first += if T::DOUBLE && left >= 2 * QUERIES {
                    attend_queries::<T, { 2 * QUERIES }>(&row, first, s, out)
                } else if left >= QUERIES {
                    attend_queries::<T, QUERIES>(&row, first, s, out)
                } else if left >= 4 {
                    attend_queries::<T, 4>(&row, first, s, out)
                } else if left >= 2 {
                    attend_queries::<T, 2>(&row, first, s, out)
                } else {
                    attend_queries::<T, 1>(&row, first, s, out)
                };
            }
        }
    }
}

/// Buffers the attention reuses across rows and heads.
struct Scratch {
    /// The keys of one head, transposed.
    keys: Vec<f32>,
    /// The scores, then the probabilities, of one tile: `[queries][padded tokens]`.
    scores: Vec<f32>,
}

/// One head of one row of the query-key-value product.
struct HeadRows<'a> {
    rows: &'a [f32],
    hidden: usize,
    head: usize,
    /// Where the head starts within each of queries, keys and values.
    offset: usize,
    /// Real tokens, and real tokens rounded up to whole blocks of `LANES`.
    n: usize,
    padded: usize,
}

impl<'a> HeadRows<'a> {
    /// The head's query (`part` 0), key (1) or value (2) of `token`.
    #[inline(always)]
    fn part(&self, token: usize, part: usize) -> &'a [f32] {
        &self.rows[token * 3 * self.hidden + part * self.hidden + self.offset..][..self.head]
    }
}

/// Attention of the `Q` queries from `first`; returns `Q`. Each score is summed over the head
/// dimension in order, each context value over the keys in order, whatever `Q` is, so a
/// query's result does not depend on the tile it was computed in.
#[inline(always)]
fn attend_queries<T: Tiles, const Q: usize>(
    row: &HeadRows,
    first: usize,
    scratch: &mut Scratch,
    out: &mut [f32],
) -> usize {
    let (head, n, padded) = (row.head, row.n, row.padded);
    let keys = &scratch.keys[..head * padded];
    let scores = &mut scratch.scores[..Q * padded];
    for block in (0..padded).step_by(LANES) {
        T::scores::<Q>(row, first, keys, block, scores);
    }
    let scale = 1.0 / (head as f32).sqrt();
    for scores in scores.chunks_exact_mut(padded) {
        softmax(scores, n, scale);
    }
    let out = &mut out[first * row.hidden + row.offset..];
    let whole = head - head % LANES;
    for d in (0..whole).step_by(LANES) {
        T::context::<Q>(row, scores, d, out);
    }
    for t in 0..Q {
        let context = &mut out[t * row.hidden + whole..][..head - whole];
        for j in 0..n {
            let p = scores[t * padded + j];
            for (o, &v) in context.iter_mut().zip(&row.part(j, 2)[whole..]) {
                *o = p.mul_add(v, *o);
            }
        }
    }
    Q
}

/// The two products of an attention tile, per CPU level. Every lane computes `acc += a · b`
/// as one fused multiply-add (`mul_add` in plain Rust, which is exact FMA on every CPU: an
/// instruction where there is one, a libm call where there is not), in the same order at
/// every level, so every level gives the same bits.
trait Tiles {
    /// Whether the level has the registers for tiles of `2 · QUERIES` queries.
    const DOUBLE: bool;

    /// `scores[t][block..][..LANES] = Σ_c query[first + t][c] · keys[c][block..][..LANES]`, for
    /// the `Q` queries of a tile (`keys` and `scores`: rows of `row.padded`).
    fn scores<const Q: usize>(
        row: &HeadRows,
        first: usize,
        keys: &[f32],
        block: usize,
        scores: &mut [f32],
    );

    /// `out[t · hidden + d..][..LANES] = Σ_j probabilities[t][j] · values[j][d..][..LANES]`
    /// over the `row.n` real tokens (`probabilities`: `[Q][row.padded]`).
    fn context<const Q: usize>(row: &HeadRows, probabilities: &[f32], d: usize, out: &mut [f32]);
}

/// The tiles in plain Rust.
struct PortableTiles;

impl Tiles for PortableTiles {
    const DOUBLE: bool = false;

    fn scores<const Q: usize>(
        row: &HeadRows,
        first: usize,
        keys: &[f32],
        block: usize,
        scores: &mut [f32],
    ) {
        let padded = row.padded;
        let mut acc = [[0f32; LANES]; Q];
        for (c, keys) in keys.chunks_exact(padded).enumerate() {
            for (t, acc) in acc.iter_mut().enumerate() {
                let q = row.part(first + t, 0)[c];
                for (a, &k) in acc.iter_mut().zip(&keys[block..][..LANES]) {
                    *a = q.mul_add(k, *a);
                }
            }
        }
        for (t, acc) in acc.iter().enumerate() {
            scores[t * padded + block..][..LANES].copy_from_slice(acc);
        }
    }

    fn context<const Q: usize>(row: &HeadRows, probabilities: &[f32], d: usize, out: &mut [f32]) {
        let mut acc = [[0f32; LANES]; Q];
        for j in 0..row.n {
            let v = &row.part(j, 2)[d..][..LANES];
            for (t, acc) in acc.iter_mut().enumerate() {
                let p = probabilities[t * row.padded + j];
                for (a, &v) in acc.iter_mut().zip(v) {
                    *a = p.mul_add(v, *a);
                }
            }
        }
        for (t, acc) in acc.iter().enumerate() {
            out[t * row.hidden + d..][..LANES].copy_from_slice(acc);
        }
    }
}

/// The tiles in AVX2 (two vectors of 8 per block of `LANES`) and AVX-512 (one of 16).
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{HeadRows, Tiles, LANES};
    use std::arch::x86_64::*;

    macro_rules! tiles {
        ($name:ident, $features:literal, $double:literal, $width:expr, $zero:ident, $load:ident, $set1:ident,
         $fma:ident, $store:ident) => {
            pub(super) struct $name;

            impl $name {
                #[target_feature(enable = $features)]
                unsafe fn scores_tile<const Q: usize>(
                    row: &HeadRows,
                    first: usize,
                    keys: &[f32],
                    block: usize,
                    scores: &mut [f32],
                ) {
                    let (head, padded, stride) = (row.head, row.padded, 3 * row.hidden);
                    assert!(keys.len() >= head * padded && block + LANES <= padded);
                    assert!(scores.len() >= Q * padded);
                    let mut q = row.part(first, 0).as_ptr();
                    assert!(row.rows.len() >= (first + Q - 1) * stride + row.offset + head);
                    let mut acc = [[$zero(); LANES / $width]; Q];
                    let mut k = keys.as_ptr().add(block);
                    for _ in 0..head {
                        let mut kv = [$zero(); LANES / $width];
                        for (v, kv) in kv.iter_mut().enumerate() {
                            *kv = $load(k.add(v * $width));
                        }
                        for (t, acc) in acc.iter_mut().enumerate() {
                            let x = $set1(*q.add(t * stride));
                            for (acc, &kv) in acc.iter_mut().zip(&kv) {
                                *acc = $fma(x, kv, *acc);
                            }
                        }
                        k = k.add(padded);
                        q = q.add(1);
                    }
                    for (t, acc) in acc.iter().enumerate() {
                        let at = scores.as_mut_ptr().add(t * padded + block);
                        for (v, &acc) in acc.iter().enumerate() {
                            $store(at.add(v * $width), acc);
                        }
                    }
                }

                #[target_feature(enable = $features)]
                unsafe fn context_tile<const Q: usize>(
                    row: &HeadRows,
                    probabilities: &[f32],
                    d: usize,
                    out: &mut [f32],
                ) {
                    assert!(probabilities.len() >= Q * row.padded && d + LANES <= row.head);
                    assert!(out.len() >= (Q - 1) * row.hidden + d + LANES);
                    let stride = 3 * row.hidden;
                    let first = row.part(0, 2)[d..][..LANES].as_ptr();
                    assert!(row.n == 0 || row.rows.len() >= (row.n - 1) * stride + 3 * row.hidden);
                    let mut acc = [[$zero(); LANES / $width]; Q];
                    for j in 0..row.n {
                        let values = first.add(j * stride);
                        let mut vv = [$zero(); LANES / $width];
                        for (v, vv) in vv.iter_mut().enumerate() {
                            *vv = $load(values.add(v * $width));
                        }
                        for (t, acc) in acc.iter_mut().enumerate() {
                            let p = $set1(*probabilities.get_unchecked(t * row.padded + j));
                            for (acc, &vv) in acc.iter_mut().zip(&vv) {
                                *acc = $fma(p, vv, *acc);
                            }
                        }
                    }
                    for (t, acc) in acc.iter().enumerate() {
                        let at = out.as_mut_ptr().add(t * row.hidden + d);
                        for (v, &acc) in acc.iter().enumerate() {
                            $store(at.add(v * $width), acc);
                        }
                    }
                }
            }

            impl Tiles for $name {
                const DOUBLE: bool = $double;

                #[inline(always)]
                fn scores<const Q: usize>(
                    row: &HeadRows,
                    first: usize,
                    keys: &[f32],
                    block: usize,
                    scores: &mut [f32],
                ) {
                    // SAFETY: these tiles are only used under the level's target features
                    // (`attention_avx2`, `attention_avx512`); the asserts bound every access.
                    unsafe { Self::scores_tile::<Q>(row, first, keys, block, scores) }
                }

                #[inline(always)]
                fn context<const Q: usize>(
                    row: &HeadRows,
                    probabilities: &[f32],
                    d: usize,
                    out: &mut [f32],
                ) {
                    // SAFETY: as in `scores`.
                    unsafe { Self::context_tile::<Q>(row, probabilities, d, out) }
                }
            }
        };
    }

    tiles!(
        Avx2Tiles,
        "avx2,fma",
        false,
        8,
        _mm256_setzero_ps,
        _mm256_loadu_ps,
        _mm256_set1_ps,
        _mm256_fmadd_ps,
        _mm256_storeu_ps
    );
    tiles!(
        Avx512Tiles,
        "avx512f",
        true,
        16,
        _mm512_setzero_ps,
        _mm512_loadu_ps,
        _mm512_set1_ps,
        _mm512_fmadd_ps,
        _mm512_storeu_ps
    );
}

/// softmax(scale · s) over the first `n` of `scores` (a whole number of `LANES` long), in
/// place; the rest become 0. Every loop runs over `LANES` lanes side by side, so that it vectorises,
/// and the lanes are combined in a fixed order, so every level gives the same bits.
#[inline(always)]
fn softmax(scores: &mut [f32], n: usize, scale: f32) {
    // Comparisons rather than `max`, which would keep NaN apart and the loop scalar.
    let larger = |a: f32, b: f32| if b > a { b } else { a };
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let (whole, tail) = scores[..n].split_at(n - n % LANES);
    for chunk in whole.chunks_exact(LANES) {
        for (m, &s) in lanes.iter_mut().zip(chunk) {
            *m = larger(*m, s);
        }
    }
    for (m, &s) in lanes.iter_mut().zip(tail) {
        *m = larger(*m, s);
    }
    let max = pairwise(lanes, larger);
    let mut sums = [0f32; LANES];
    let (whole, tail) = scores.split_at_mut(n - n % LANES);
    for chunk in whole.chunks_exact_mut(LANES) {
        for (s, sum) in chunk.iter_mut().zip(&mut sums) {
            *s = exp((*s - max) * scale);
            *sum += *s;
        }
    }
    // The last, partial block: the padding past `n` becomes 0 (adding 0 leaves a sum as is).
    for (k, (s, sum)) in tail.iter_mut().zip(&mut sums).enumerate() {
        let e = exp((*s - max) * scale);
        *s = if k < n % LANES { e } else { 0.0 };
        *sum += *s;
    }
    let inverse = 1.0 / pairwise(sums, |a, b| a + b);
    for s in &mut scores[..n] {
        *s *= inverse;
    }
}

/// The lanes combined by `op` as a balanced tree, in the same order at every level (and in
/// few dependent steps, each a vector operation).
#[inline(always)]
fn pairwise(mut lanes: [f32; LANES], op: impl Fn(f32, f32) -> f32) -> f32 {
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            lanes[i] = op(lanes[i], lanes[i + width]);
        }
    }
    lanes[0]
}

/// e^x for x ≤ 0 (softmax inputs after the row maximum is subtracted), within 2 ulp; inputs
/// below −87 give e^−87 ≈ 1.6e-38 instead of a denormal or 0, and inputs above 0 give 1.
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
    // Comparisons rather than `max` and `min`, which would keep NaN apart and the loop scalar;
    // NaN becomes −87.
    let x = if x > -87.0 { x } else { -87.0 };
    let x = if x < 0.0 { x } else { 0.0 };
    let n = (x * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = P[1..].iter().fold(P[0], |p, &c| p * r + c);
    let e = p * r * r + r + 1.0;
    // 2ⁿ from its exponent bits; n ≥ −126 after the clamp, so 2ⁿ is a normal number.
    // SAFETY: n is an integer in [−126, 0]. (The checked `as` would keep the loop scalar.)
    let n = unsafe { n.to_int_unchecked::<i32>() };
    e * f32::from_bits(((n + 127) as u32) << 23)
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
        // A head narrower than a block, with fewer tokens than a tile of queries; and a head
        // of two blocks and a remainder, with two whole tiles of queries and three left over.
        for (heads, d, n) in [(4, 8, 7), (3, 40, 15)] {
            let three_h = 3 * heads * d;
            let width = n + 5;
            let values: Vec<f32> = (0..n * three_h)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0)
                .collect();
            let alone = Tensor::from_vec(values.clone(), (1, n, three_h), &Device::Cpu).unwrap();
            let expected = candle_attention(&alone, heads);
            let count = |n: u32| Tensor::new(&[n], &Device::Cpu).unwrap();
            let portable = attention(&alone, &count(n as u32), heads, Level::Portable).unwrap();
            for level in Level::ALL.into_iter().filter(|l| l.is_supported()) {
                let ours = attention(&alone, &count(n as u32), heads, level).unwrap();
                assert!(largest_difference(&ours, &expected) < 1e-5, "{level:?}");
                assert_eq!(flat(&ours), flat(&portable), "{level:?} against portable");
                // The same sentence in a batch padded to `width` tokens, after a full row.
                let mut padded = vec![9.0f32; 2 * width * three_h];
                padded[width * three_h..][..n * three_h].copy_from_slice(&values);
                let padded = Tensor::from_vec(padded, (2, width, three_h), &Device::Cpu).unwrap();
                let real = Tensor::new(&[width as u32, n as u32], &Device::Cpu).unwrap();
                let batch = attention(&padded, &real, heads, level).unwrap();
                let row = batch.get(1).unwrap().narrow(0, 0, n).unwrap();
                assert_eq!(flat(&row), flat(&ours), "{level:?}");
                let padding = batch.get(1).unwrap().narrow(0, n, width - n).unwrap();
                assert!(flat(&padding).iter().all(|&v| v == 0.0));
            }
        }
    }

    fn flat(t: &Tensor) -> Vec<f32> {
        t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
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
    fn layer_norm_matches_candles_and_gives_the_same_bits_at_every_level() {
        // A width with a partial block of lanes, and MiniLM's.
        for hidden in [37, 384] {
            let rows = 5;
            let values = |seed: usize| -> Vec<f32> {
                (0..rows * hidden)
                    .map(|i| (((i + seed) * 37 % 101) as f32 - 50.0) / 7.0)
                    .collect()
            };
            let tensor = |v: Vec<f32>| Tensor::from_vec(v, (rows, hidden), &Device::Cpu).unwrap();
            let (x, residual) = (tensor(values(0)), tensor(values(11)));
            let (weight, bias) = (values(3)[..hidden].to_vec(), values(5)[..hidden].to_vec());
            let expected = candle_nn::ops::layer_norm(
                &(&x + &residual).unwrap(),
                &Tensor::new(weight.as_slice(), &Device::Cpu).unwrap(),
                &Tensor::new(bias.as_slice(), &Device::Cpu).unwrap(),
                1e-12,
            )
            .unwrap();
            let at = |level| LayerNorm::new(weight.clone(), bias.clone(), 1e-12, level);
            let portable = at(Level::Portable)
                .forward(x.copy().unwrap(), Some(&residual))
                .unwrap();
            assert!(largest_difference(&portable, &expected) < 1e-4);
            let summed = at(Level::Portable)
                .forward((&x + &residual).unwrap(), None)
                .unwrap();
            assert_eq!(flat(&summed), flat(&portable));
            for level in Level::ALL.into_iter().filter(|l| l.is_supported()) {
                let ours = at(level)
                    .forward(x.copy().unwrap(), Some(&residual))
                    .unwrap();
                assert_eq!(flat(&ours), flat(&portable), "{level:?}");
            }
        }
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
