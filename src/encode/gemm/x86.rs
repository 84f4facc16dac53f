//! The x86-64 micro-kernels: one output tile of at most `M` rows × two SIMD vectors of columns,
//! summed over the whole depth in registers, then finished by the epilogue and stored.
//!
//! Each kernel is written once as a macro and stamped out per instruction set, so the AVX2 and
//! AVX-512 versions differ only in vector width and intrinsic names:
//! - f32: `acc += a[i][k] · b[k][j]` with FMA, then `+ bias[j]`;
//! - int8, four depth steps at a time, u8 activations × i8 weights into i32: on AVX-512 VNNI
//!   one `vpdpbusd`; on AVX2 `vpmaddubsw` (pairs into i16, exact for 7-bit weights), then
//!   `vpmaddwd` by ones (pairs of those into i32) and an add; then [`super::Int8Epilogue`].
//!
//! Safety: callers check the CPU features (`super::Level`) and pass tiles whose pointers cover
//! `M` rows of `depth` steps of A, one packed panel of B, and `M` rows of `cols` outputs.

use super::{F32Tile, Int8Tile, MAX_TILE};
use std::arch::x86_64::*;

/// Writes a tile held in `M × 2` vectors of `$lanes` columns, directly when it is complete and
/// through a buffer when its last panel is partial.
macro_rules! store_tile {
    ($t:expr, $lanes:expr, $store:ident, $tile:expr) => {{
        let t = $t;
        if t.cols == 2 * $lanes {
            for (i, v) in $tile.iter().enumerate() {
                let c = t.c.add(i * t.ldc);
                $store(c, v[0]);
                $store(c.add($lanes), v[1]);
            }
        } else {
            let mut buffer = [0f32; MAX_TILE];
            for (i, v) in $tile.iter().enumerate() {
                let row = buffer.as_mut_ptr().add(i * 2 * $lanes);
                $store(row, v[0]);
                $store(row.add($lanes), v[1]);
                std::ptr::copy_nonoverlapping(row, t.c.add(i * t.ldc), t.cols);
            }
        }
    }};
}

macro_rules! f32_kernel {
    ($name:ident, $features:literal, $lanes:expr, $zero:ident, $load:ident, $set1:ident,
     $fma:ident, $add:ident, $store:ident) => {
        #[target_feature(enable = $features)]
        pub(super) unsafe fn $name<const M: usize>(t: &F32Tile) {
            let mut acc = [[$zero(); 2]; M];
            let (mut a, mut b) = (t.a, t.b);
            for _ in 0..t.depth {
                let (b0, b1) = ($load(b), $load(b.add($lanes)));
                for (i, acc) in acc.iter_mut().enumerate() {
                    let x = $set1(*a.add(i * t.lda));
                    acc[0] = $fma(x, b0, acc[0]);
                    acc[1] = $fma(x, b1, acc[1]);
                }
                a = a.add(1);
                b = b.add(2 * $lanes);
            }
            let (bias0, bias1) = ($load(t.bias), $load(t.bias.add($lanes)));
            for acc in acc.iter_mut() {
                acc[0] = $add(acc[0], bias0);
                acc[1] = $add(acc[1], bias1);
            }
            store_tile!(t, $lanes, $store, acc);
        }
    };
}

f32_kernel!(
    f32_avx2,
    "avx2,fma",
    8,
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_set1_ps,
    _mm256_fmadd_ps,
    _mm256_add_ps,
    _mm256_storeu_ps
);
f32_kernel!(
    f32_avx512,
    "avx512f",
    16,
    _mm512_setzero_ps,
    _mm512_loadu_ps,
    _mm512_set1_ps,
    _mm512_fmadd_ps,
    _mm512_add_ps,
    _mm512_storeu_ps
);

/// The int8 kernels. A depth group is 4 u8 of a row of A, read as one i32 and broadcast; B's
/// panel holds, per group, two vectors of `$lanes` columns × 4 i8; `$dot(acc, a, b)` adds one
/// group's products into the i32 lanes.
macro_rules! int8_kernel {
    ($name:ident, $features:literal, $lanes:expr, $izero:ident, $iload:ident,
     $set1_epi32:ident, $dot:ident, $sub:ident, $mullo:ident, $cvt:ident, $load:ident, $set1:ident,
     $mul:ident, $add:ident, $store:ident) => {
        #[target_feature(enable = $features)]
        pub(super) unsafe fn $name<const M: usize>(t: &Int8Tile) {
            let mut acc = [[$izero(); 2]; M];
            let (mut a, mut b) = (t.a, t.b);
            for _ in 0..t.groups {
                let b0 = $iload(b as *const _);
                let b1 = $iload(b.add(4 * $lanes) as *const _);
                for (i, acc) in acc.iter_mut().enumerate() {
                    let x = $set1_epi32(*a.add(i * t.lda));
                    acc[0] = $dot(acc[0], x, b0);
                    acc[1] = $dot(acc[1], x, b1);
                }
                a = a.add(1);
                b = b.add(8 * $lanes);
            }
            let e = &t.epilogue;
            let (sums0, sums1) = (
                $iload(e.sums as *const _),
                $iload(e.sums.add($lanes) as *const _),
            );
            let (scale0, scale1) = ($load(e.scales), $load(e.scales.add($lanes)));
            let (bias0, bias1) = ($load(e.bias), $load(e.bias.add($lanes)));
            let mut out = [[$set1(0.0); 2]; M];
            for (i, (acc, out)) in acc.iter().zip(out.iter_mut()).enumerate() {
                let row = $set1(*e.row_scales.add(i));
                let zero = $set1_epi32(*e.zero_points.add(i));
                let (offset0, offset1) = ($mullo(zero, sums0), $mullo(zero, sums1));
                out[0] = $add($mul($cvt($sub(acc[0], offset0)), $mul(row, scale0)), bias0);
                out[1] = $add($mul($cvt($sub(acc[1], offset1)), $mul(row, scale1)), bias1);
            }
            store_tile!(t, $lanes, $store, out);
        }
    };
}

#[target_feature(enable = "avx2")]
#[inline]
unsafe fn dot_avx2(acc: __m256i, a: __m256i, b: __m256i) -> __m256i {
    let pairs = _mm256_maddubs_epi16(a, b);
    _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)))
}

#[target_feature(enable = "avx512f,avx512vnni")]
#[inline]
unsafe fn dpbusd_avx512(acc: __m512i, a: __m512i, b: __m512i) -> __m512i {
    _mm512_dpbusd_epi32(acc, a, b)
}

int8_kernel!(
    int8_avx2,
    "avx2,fma",
    8,
    _mm256_setzero_si256,
    _mm256_loadu_si256,
    _mm256_set1_epi32,
    dot_avx2,
    _mm256_sub_epi32,
    _mm256_mullo_epi32,
    _mm256_cvtepi32_ps,
    _mm256_loadu_ps,
    _mm256_set1_ps,
    _mm256_mul_ps,
    _mm256_add_ps,
    _mm256_storeu_ps
);
int8_kernel!(
    int8_avx512,
    "avx512f,avx512bw,avx512vnni",
    16,
    _mm512_setzero_si512,
    _mm512_loadu_si512,
    _mm512_set1_epi32,
    dpbusd_avx512,
    _mm512_sub_epi32,
    _mm512_mullo_epi32,
    _mm512_cvtepi32_ps,
    _mm512_loadu_ps,
    _mm512_set1_ps,
    _mm512_mul_ps,
    _mm512_add_ps,
    _mm512_storeu_ps
);
