//! Matrix products for the encoder's linear layers, `y = x·Wᵀ + b`, in f32 and in int8.
//!
//! The weights are packed once, at load, into panels of columns laid out in the order the
//! micro-kernel reads them; a product then walks blocks of rows of `x` against every panel,
//! and each micro-kernel call sums one tile of outputs over the whole depth in registers
//! before adding the bias and storing it (GELU, where asked, follows on the block while it is
//! in the cache). The tiles cover a block exactly once, so outputs are never zeroed first.
//! [`feed_forward`] chains two products per block of rows, so that the wide activations
//! between them never exist for the whole batch.
//!
//! The kernels are chosen by CPU [`Level`], detected at run time and capped by the
//! `ARGMINE_CPU` environment variable (`portable`, `avx2`, `avx512`):
//!
//! | level | f32 tile | int8 tile |
//! |---|---|---|
//! | `avx512` (AVX-512 F, BW, VNNI) | 12 × 32, FMA | 12 × 32, `vpdpbusd` |
//! | `avx2` (AVX2 and FMA) | 6 × 16, FMA | 4 × 16, `vpmaddubsw` + `vpmaddwd` |
//! | `portable` | 4 × 16, scalar | 4 × 16, scalar |
//!
//! **int8** ([`PackedInt8`]) quantises the weights symmetrically per output channel to
//! [−63, 63] at load, and the activations per row to u8 at run time, with a zero point z
//! (x ≈ row scale · (u − z)), in one of two ways ([`ActivationQuantisation`]): symmetrically,
//! [−m, m] onto [1, 255] with z = 128, or by the row's range, [min, max] (widened to hold 0)
//! onto [0, 255], which spends all 256 levels on inputs that are far from symmetric, such as
//! GELU's outputs (≥ −0.17). A row's result depends on that row alone, never on what else is
//! in the batch. Seven-bit weights are what keep AVX2's `vpmaddubsw`, which adds two u8 × i8
//! products into a saturating i16, exact (2 · 255 · 63 < 2¹⁵), as in ONNX Runtime's
//! `reduce_range`. Every level uses the same layout and the same quantised values; the integer
//! sums are exact, and the epilogue, `(sum − z · Σw) · (row scale · column scale) + bias`, is
//! the same float operations everywhere, so an int8 product is bit-identical across levels.
//!
//! **Determinism.** Every output is one sum over the whole depth, in depth order, by one
//! micro-kernel: the result of a row depends neither on the number of rows, nor on the thread
//! that computed it, nor on how the rows were blocked. A product called from outside a rayon
//! pool splits its row blocks across the pool; one called from a pool thread (one batch per
//! thread, as in mining) stays on that thread.

#[cfg(target_arch = "x86_64")]
mod x86;

use super::kernels;
use rayon::prelude::*;
use std::mem::MaybeUninit;
use std::sync::OnceLock;

/// The most outputs one tile holds (12 rows × 32 columns).
const MAX_TILE: usize = 12 * 32;

/// The environment variable that caps the CPU level.
pub const CPU_VARIABLE: &str = "ARGMINE_CPU";

/// A set of CPU features the kernels are written for, from slowest to fastest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Plain Rust, on any CPU.
    Portable,
    /// x86-64 with AVX2 and FMA.
    Avx2,
    /// x86-64 with AVX-512 F, BW and VNNI.
    Avx512,
}

/// `ARGMINE_CPU` names no level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{CPU_VARIABLE}={value} is not a CPU level; expected one of portable, avx2, avx512")]
pub struct UnknownLevel {
    pub value: String,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Portable, Level::Avx2, Level::Avx512];

    pub fn name(self) -> &'static str {
        match self {
            Level::Portable => "portable",
            Level::Avx2 => "avx2",
            Level::Avx512 => "avx512",
        }
    }

    /// The fastest level this CPU supports.
    pub fn detected() -> Level {
        static DETECTED: OnceLock<Level> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            Level::ALL
                .into_iter()
                .rev()
                .find(|l| l.is_supported())
                .unwrap_or(Level::Portable)
        })
    }

    /// The level to run at: [`Level::detected`], capped by `ARGMINE_CPU` when it is set (a
    /// cap above what the CPU has leaves the detected level).
    pub fn from_env() -> Result<Level, UnknownLevel> {
        match std::env::var(CPU_VARIABLE) {
            Ok(value) => Ok(Level::capped(value.parse()?)),
            Err(_) => Ok(Level::detected()),
        }
    }

    /// `cap`, or the detected level when the CPU lacks `cap`'s features.
    pub fn capped(cap: Level) -> Level {
        cap.min(Level::detected())
    }

    /// Whether this CPU has the level's features.
    pub fn is_supported(self) -> bool {
        match self {
            Level::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => {
                Level::Avx2.is_supported()
                    && is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512bw")
                    && is_x86_feature_detected!("avx512vnni")
            }
            #[cfg(not(target_arch = "x86_64"))]
            Level::Avx2 | Level::Avx512 => false,
        }
    }

    /// Rows and columns of the level's output tile.
    fn tile(self) -> (usize, usize) {
        match self {
            Level::Portable => (4, 16),
            Level::Avx2 => (6, 16),
            Level::Avx512 => (12, 32),
        }
    }

    /// Rows and columns of the level's int8 output tile (AVX2's `vpmaddubsw` needs two
    /// spare registers, so it holds fewer rows than the f32 tile).
    fn int8_tile(self) -> (usize, usize) {
        match self {
            Level::Portable | Level::Avx2 => (4, 16),
            Level::Avx512 => (12, 32),
        }
    }
}

impl std::str::FromStr for Level {
    type Err = UnknownLevel;

    fn from_str(value: &str) -> Result<Level, UnknownLevel> {
        Level::ALL
            .into_iter()
            .find(|l| l.name() == value)
            .ok_or_else(|| UnknownLevel {
                value: value.to_string(),
            })
    }
}

/// What happens to each output after the bias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    Identity,
    /// The exact (erf) GELU of [`kernels::gelu`].
    Gelu,
}

/// One f32 tile for a micro-kernel: `rows` rows of A from `a` (row stride `lda`), the panel
/// `b` (`depth` steps of one tile width), the panel's bias, and the output at `c` (row stride
/// `ldc`, `cols` valid columns).
struct F32Tile {
    a: *const f32,
    lda: usize,
    depth: usize,
    b: *const f32,
    bias: *const f32,
    c: *mut f32,
    ldc: usize,
    cols: usize,
}

/// The int8 epilogue of one tile:
/// `(sum − zero_points[i] · sums[j]) · (row_scales[i] · scales[j]) + bias[j]`.
struct Int8Epilogue {
    sums: *const i32,
    scales: *const f32,
    bias: *const f32,
    row_scales: *const f32,
    zero_points: *const i32,
}

/// One int8 tile: A as groups of 4 depth steps, 4 u8 read as one i32 (`lda` groups per row),
/// the panel `b` (`groups` groups of one tile width × 4 i8), and the output as in [`F32Tile`].
struct Int8Tile {
    a: *const i32,
    lda: usize,
    groups: usize,
    b: *const u8,
    c: *mut f32,
    ldc: usize,
    cols: usize,
    epilogue: Int8Epilogue,
}

/// `y = x·Wᵀ + b` with f32 weights packed for one [`Level`].
pub struct PackedF32 {
    level: Level,
    depth: usize,
    width: usize,
    /// Per panel of tile-width columns, `depth` rows of that many weights (zero past `width`).
    panels: Vec<f32>,
    /// The bias, zero-padded to whole panels.
    bias: Vec<f32>,
}

impl PackedF32 {
    /// Packs `weight` (`[width, depth]`, row-major: one row per output, as in a PyTorch
    /// `Linear`) and `bias` (`width`, or zero). Panics if this CPU lacks `level`.
    pub fn new(level: Level, weight: &[f32], bias: Option<&[f32]>, width: usize) -> PackedF32 {
        assert!(level.is_supported(), "this CPU lacks {}", level.name());
        let depth = weight.len() / width;
        let nr = level.tile().1;
        let panels_n = width.div_ceil(nr);
        let mut panels = vec![0f32; panels_n * depth * nr];
        for (j, row) in weight.chunks_exact(depth).enumerate() {
            let panel = &mut panels[(j / nr) * depth * nr..][..depth * nr];
            for (d, &w) in row.iter().enumerate() {
                panel[d * nr + j % nr] = w;
            }
        }
        PackedF32 {
            level,
            depth,
            width,
            panels,
            bias: padded_bias(bias, width, panels_n * nr),
        }
    }

    /// `x` (`[rows, depth]`, row-major) times the weights, plus the bias, through `activation`:
    /// `[rows, width]`.
    pub fn forward(&self, x: &[f32], activation: Activation) -> Vec<f32> {
        in_row_blocks(
            x,
            self,
            self.width,
            || (),
            |_, x, out| self.forward_block(x, out, activation),
        )
    }
}

/// How a row of activations becomes u8 values `u` and a zero point `z`, `x ≈ scale · (u − z)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivationQuantisation {
    /// [−max |x|, max |x|] onto [1, 255], z = 128.
    Symmetric,
    /// [min(x, 0), max(x, 0)] onto [0, 255], z where 0 falls.
    Range,
}

/// `y = x·Wᵀ + b` with int8 weights (per output channel) and u8 activations (per row), packed
/// for one [`Level`].
pub struct PackedInt8 {
    level: Level,
    depth: usize,
    width: usize,
    activations: ActivationQuantisation,
    /// Per panel of tile-width columns, per group of 4 depth steps, the tile width × 4 i8.
    panels: Vec<u8>,
    /// Per column, the sum of its quantised weights, Σw (times a row's zero point, what the
    /// zero point adds to that row's sum).
    sums: Vec<i32>,
    /// Per column, the weight scale.
    scales: Vec<f32>,
    bias: Vec<f32>,
}

impl PackedInt8 {
    /// Quantises and packs `weight` (`[width, depth]`, as [`PackedF32::new`]); the activations
    /// will be quantised as `activations` says.
    pub fn new(
        level: Level,
        weight: &[f32],
        bias: Option<&[f32]>,
        width: usize,
        activations: ActivationQuantisation,
    ) -> PackedInt8 {
        assert!(level.is_supported(), "this CPU lacks {}", level.name());
        let depth = weight.len() / width;
        let nr = level.int8_tile().1;
        let groups = depth.div_ceil(4);
        let panels_n = width.div_ceil(nr);
        let padded = panels_n * nr;
        let mut panels = vec![0u8; panels_n * groups * nr * 4];
        let (mut sums, mut scales) = (vec![0i32; padded], vec![0f32; padded]);
        let mut q = vec![0i8; depth];
        for (j, row) in weight.chunks_exact(depth).enumerate() {
            scales[j] = quantise(row, WEIGHT_LIMIT, &mut q);
            sums[j] = q.iter().map(|&v| v as i32).sum::<i32>();
            let panel = &mut panels[(j / nr) * groups * nr * 4..][..groups * nr * 4];
            for (d, &v) in q.iter().enumerate() {
                panel[(d / 4) * nr * 4 + (j % nr) * 4 + d % 4] = v as u8;
            }
        }
        PackedInt8 {
            level,
            depth,
            width,
            activations,
            panels,
            sums,
            scales,
            bias: padded_bias(bias, width, padded),
        }
    }

    /// As [`PackedF32::forward`], with each row of `x` quantised to int8 first.
    pub fn forward(&self, x: &[f32], activation: Activation) -> Vec<f32> {
        in_row_blocks(
            x,
            self,
            self.width,
            || (),
            |_, x, out| self.forward_block(x, out, activation),
        )
    }

    /// Rows of `x` quantised to u8 and grouped (`groups` groups of 4 per row), their scales
    /// and their zero points.
    fn quantise_rows(&self, x: &[f32], groups: usize) -> (Vec<i32>, Vec<f32>, Vec<i32>) {
        let rows = x.len() / self.depth;
        let mut a = vec![0i32; rows * groups];
        // SAFETY: the same memory as bytes (a weaker alignment), written through this view only.
        let bytes =
            unsafe { std::slice::from_raw_parts_mut(a.as_mut_ptr() as *mut u8, a.len() * 4) };
        // Past the depth the weights are zero, so the padding bytes may stay 0.
        let (scales, zero_points) =
            quantise_each_row(self.level, x, self.depth, self.activations, bytes);
        (a, scales, zero_points)
    }
}

/// [`quantise_activations`] of every row of `x` (`depth` values each) into its share of `out`,
/// compiled with the vector instructions of `level`, so that the loops vectorise as wide as the
/// CPU allows (the results are the same bits at every level); the scales and zero points.
fn quantise_each_row(
    level: Level,
    x: &[f32],
    depth: usize,
    how: ActivationQuantisation,
    out: &mut [u8],
) -> (Vec<f32>, Vec<i32>) {
    #[inline(always)]
    fn each(
        x: &[f32],
        depth: usize,
        how: ActivationQuantisation,
        out: &mut [u8],
    ) -> (Vec<f32>, Vec<i32>) {
        let rows = x.len() / depth;
        let (mut scales, mut zero_points) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
        for (row, out) in x
            .chunks_exact(depth)
            .zip(out.chunks_exact_mut(out.len() / rows.max(1)))
        {
            let (scale, zero) = quantise_activations(row, how, out);
            scales.push(scale);
            zero_points.push(zero);
        }
        (scales, zero_points)
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f,avx512bw,avx2,fma")]
        unsafe fn avx512(
            x: &[f32],
            depth: usize,
            how: ActivationQuantisation,
            out: &mut [u8],
        ) -> (Vec<f32>, Vec<i32>) {
            each(x, depth, how, out)
        }
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2(
            x: &[f32],
            depth: usize,
            how: ActivationQuantisation,
            out: &mut [u8],
        ) -> (Vec<f32>, Vec<i32>) {
            each(x, depth, how, out)
        }
        match level {
            // SAFETY: packing checked that the CPU has the level's features.
            Level::Avx512 => return unsafe { avx512(x, depth, how, out) },
            Level::Avx2 => return unsafe { avx2(x, depth, how, out) },
            Level::Portable => {}
        }
    }
    let _ = level;
    each(x, depth, how, out)
}

/// Quantises one row of activations into `out`: returns the scale and the zero point z with
/// `row ≈ scale · (out − z)`.
#[inline(always)]
fn quantise_activations(row: &[f32], how: ActivationQuantisation, out: &mut [u8]) -> (f32, i32) {
    let (scale, inverse, zero) = match how {
        ActivationQuantisation::Symmetric => {
            let (scale, inverse) = scale_of(row, ACTIVATION_LIMIT);
            (scale, inverse, 128)
        }
        ActivationQuantisation::Range => match extremes(row) {
            None => (f32::NAN, 0.0, 0),
            // low ≤ 0 ≤ high, so they are equal only for a row of zeros.
            Some((low, high)) if low == high => (1.0, 0.0, 0),
            Some((low, high)) => {
                let inverse = 255.0 / (high - low);
                ((high - low) / 255.0, inverse, round(-low * inverse) as i32)
            }
        },
    };
    let offset = zero as f32;
    for (b, &v) in out.iter_mut().zip(row) {
        // An integer in [0, 255], give or take the rounding of the range's ends, which the
        // clamp takes back. Written as comparisons that send NaN (a row that is not finite,
        // whose outputs are NaN through its scale) to 0.
        let q = round(v * inverse) + offset;
        let q = if q > 0.0 { q } else { 0.0 };
        let q = if q < 255.0 { q } else { 255.0 };
        // SAFETY: q is in [0, 255]. (The checked `as` does not vectorise.)
        *b = unsafe { q.to_int_unchecked::<i32>() } as u8;
    }
    (scale, zero)
}

/// The largest quantised weight: seven bits (see the module docs).
const WEIGHT_LIMIT: f32 = 63.0;
/// The largest quantised activation.
const ACTIVATION_LIMIT: f32 = 127.0;

/// Symmetric quantisation of `values` into `q` in [−limit, limit]: returns the scale s with
/// `values ≈ s · q`.
fn quantise(values: &[f32], limit: f32, q: &mut [i8]) -> f32 {
    let (scale, inverse) = scale_of(values, limit);
    for (q, &v) in q.iter_mut().zip(values) {
        *q = round(v * inverse) as i8;
    }
    scale
}

/// The scale s and its inverse for quantising `values` to [−limit, limit]: s = 1 for all
/// zeros, and NaN (inverse 0) when a value is not finite, so that the output is NaN as the f32
/// product's would be.
#[inline(always)]
fn scale_of(values: &[f32], limit: f32) -> (f32, f32) {
    match extremes(values).map(|(low, high)| high.max(-low)) {
        None => (f32::NAN, 0.0),
        Some(0.0) => (1.0, 0.0),
        Some(m) => (m / limit, limit / m),
    }
}

/// The smallest and the largest of `values` and 0, or None when a value is not finite.
#[inline(always)]
fn extremes(values: &[f32]) -> Option<(f32, f32)> {
    // Sixteen lanes side by side, so that the loop vectorises. The comparisons pass over NaN,
    // so `v · 0`, which is NaN for NaN and the infinities, is added up beside them.
    let (mut low, mut high, mut poison) = ([0f32; 16], [0f32; 16], [0f32; 16]);
    let (chunks, _) = values.as_chunks::<16>();
    for chunk in chunks {
        for i in 0..16 {
            let v = chunk[i];
            low[i] = if v < low[i] { v } else { low[i] };
            high[i] = if v > high[i] { v } else { high[i] };
            poison[i] += v * 0.0;
        }
    }
    let chunks = values.chunks_exact(16);
    for (i, &v) in chunks.remainder().iter().enumerate() {
        low[i] = if v < low[i] { v } else { low[i] };
        high[i] = if v > high[i] { v } else { high[i] };
        poison[i] += v * 0.0;
    }
    if poison.iter().any(|p| p.is_nan()) {
        return None;
    }
    Some((
        low.into_iter().fold(0f32, f32::min),
        high.into_iter().fold(0f32, f32::max),
    ))
}

/// Rounds half to even, for |v| ≤ 2²²: adding and subtracting 1.5·2²³ does it in any SIMD
/// width, without the rounding instruction that baseline x86-64 lacks.
#[inline(always)]
fn round(v: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0;
    (v + ROUND) - ROUND
}

fn padded_bias(bias: Option<&[f32]>, width: usize, padded: usize) -> Vec<f32> {
    let mut out = vec![0f32; padded];
    if let Some(bias) = bias {
        out[..width].copy_from_slice(&bias[..width]);
    }
    out
}

/// Where one micro-kernel call writes: `rows` rows from `row` of a block of rows, `cols`
/// columns from `col` (the panel `col / tile width`).
#[derive(Clone, Copy)]
struct At {
    row: usize,
    rows: usize,
    col: usize,
    cols: usize,
}

/// The walk both products share over a block of rows of `x` (`[rows, depth]`) and of the
/// output (`[rows, width]`).
struct Walk {
    depth: usize,
    width: usize,
    /// Rows and columns of the micro-kernel's tile.
    tile: (usize, usize),
    level: Level,
    activation: Activation,
}

impl Walk {
    /// One block of rows of `x` into `out`: `prepare(x)`, then `tile(prepared, x, At, out)` for
    /// every panel and every tile of rows, then the activation.
    fn block<P>(
        &self,
        x: &[f32],
        out: &mut [MaybeUninit<f32>],
        prepare: impl Fn(&[f32]) -> P,
        tile: impl Fn(&P, &[f32], At, &mut [MaybeUninit<f32>]),
    ) {
        let (depth, width, (mr, nr)) = (self.depth, self.width, self.tile);
        let rows = x.len() / depth;
        let prepared = prepare(x);
        for col in (0..width).step_by(nr) {
            for row in (0..rows).step_by(mr) {
                let (rows, cols) = (mr.min(rows - row), nr.min(width - col));
                tile(
                    &prepared,
                    x,
                    At {
                        row,
                        rows,
                        col,
                        cols,
                    },
                    out,
                );
            }
        }
        if self.activation == Activation::Gelu {
            // SAFETY: the tiles cover the block, and every micro-kernel writes its whole tile.
            kernels::gelu_in_place(unsafe { written(out) }, self.level);
        }
    }
}

/// `values` once every one of them has been written.
///
/// # Safety
/// Every element of `values` is initialised.
unsafe fn written(values: &mut [MaybeUninit<f32>]) -> &mut [f32] {
    // SAFETY: `MaybeUninit<f32>` has the layout of `f32`, and the caller vouches for the values.
    unsafe { &mut *(values as *mut [MaybeUninit<f32>] as *mut [f32]) }
}

mod sealed {
    /// Keeps [`super::Product`] to the products of this module, whose blocks are written whole.
    pub trait Sealed {}
    impl Sealed for super::PackedF32 {}
    impl Sealed for super::PackedInt8 {}
}

/// A packed product, as [`in_row_blocks`] and [`feed_forward`] see it.
pub trait Product: sealed::Sealed + Sync {
    /// Values per input row.
    fn depth(&self) -> usize;
    /// Values per output row.
    fn width(&self) -> usize;
    /// Rows per block: 8 tiles high, so that a block stays in the L2 cache while every panel
    /// passes over it.
    fn block_rows(&self) -> usize;
    /// The product of one block of rows of `x` into `out`, every element of which it writes.
    fn forward_block(&self, x: &[f32], out: &mut [MaybeUninit<f32>], activation: Activation);
}

impl Product for PackedF32 {
    fn depth(&self) -> usize {
        self.depth
    }
    fn width(&self) -> usize {
        self.width
    }
    fn block_rows(&self) -> usize {
        8 * self.level.tile().0
    }
    fn forward_block(&self, x: &[f32], out: &mut [MaybeUninit<f32>], activation: Activation) {
        let kernels = f32_kernels(self.level);
        let (depth, nr) = (self.depth, self.level.tile().1);
        let walk = Walk {
            depth,
            width: self.width,
            tile: self.level.tile(),
            level: self.level,
            activation,
        };
        walk.block(
            x,
            out,
            |_| (),
            |_, x, at, out| {
                let tile = F32Tile {
                    a: x[at.row * depth..].as_ptr(),
                    lda: depth,
                    depth,
                    b: self.panels[at.col / nr * depth * nr..].as_ptr(),
                    bias: self.bias[at.col..].as_ptr(),
                    c: out[at.row * self.width + at.col..].as_mut_ptr().cast(),
                    ldc: self.width,
                    cols: at.cols,
                };
                // SAFETY: `kernels` is for a level this CPU has (checked at packing), and the tile's
                // pointers cover its rows of `x` and `out` and one whole panel.
                unsafe { kernels[at.rows - 1](&tile) };
            },
        )
    }
}

impl Product for PackedInt8 {
    fn depth(&self) -> usize {
        self.depth
    }
    fn width(&self) -> usize {
        self.width
    }
    fn block_rows(&self) -> usize {
        8 * self.level.int8_tile().0
    }
    fn forward_block(&self, x: &[f32], out: &mut [MaybeUninit<f32>], activation: Activation) {
        let kernels = int8_kernels(self.level);
        let (depth, nr) = (self.depth, self.level.int8_tile().1);
        let groups = depth.div_ceil(4);
        let walk = Walk {
            depth,
            width: self.width,
            tile: self.level.int8_tile(),
            level: self.level,
            activation,
        };
        let quantise = |x: &[f32]| self.quantise_rows(x, groups);
        walk.block(
            x,
            out,
            quantise,
            |(a, row_scales, zero_points), _, at, out| {
                let tile = Int8Tile {
                    a: a[at.row * groups..].as_ptr(),
                    lda: groups,
                    groups,
                    b: self.panels[at.col / nr * groups * nr * 4..].as_ptr(),
                    c: out[at.row * self.width + at.col..].as_mut_ptr().cast(),
                    ldc: self.width,
                    cols: at.cols,
                    epilogue: Int8Epilogue {
                        sums: self.sums[at.col..].as_ptr(),
                        scales: self.scales[at.col..].as_ptr(),
                        bias: self.bias[at.col..].as_ptr(),
                        row_scales: row_scales[at.row..].as_ptr(),
                        zero_points: zero_points[at.row..].as_ptr(),
                    },
                };
                // SAFETY: as in `PackedF32`'s.
                unsafe { kernels[at.rows - 1](&tile) };
            },
        )
    }
}

/// `block(scratch, rows of x, their rows of the output)` over `x` (`[rows, product.depth()]`)
/// in blocks of `product.block_rows()`, into an output of `width` values per row that the
/// blocks write whole: one block after another on a rayon pool thread, spread over the pool
/// otherwise, with one `scratch()` per thread.
fn in_row_blocks<S>(
    x: &[f32],
    product: &dyn Product,
    width: usize,
    scratch: impl Fn() -> S + Sync,
    block: impl Fn(&mut S, &[f32], &mut [MaybeUninit<f32>]) + Sync,
) -> Vec<f32> {
    let (depth, rows) = (product.depth(), product.block_rows());
    assert_eq!(x.len() % depth, 0, "input rows of {depth} values");
    let len = x.len() / depth * width;
    let mut out = Vec::with_capacity(len);
    let spare = &mut out.spare_capacity_mut()[..len];
    if rayon::current_thread_index().is_some() || x.len() <= rows * depth {
        let mut scratch = scratch();
        for (x, out) in x.chunks(rows * depth).zip(spare.chunks_mut(rows * width)) {
            block(&mut scratch, x, out);
        }
    } else {
        x.par_chunks(rows * depth)
            .zip(spare.par_chunks_mut(rows * width))
            .for_each_init(&scratch, |scratch, (x, out)| block(scratch, x, out));
    }
    // SAFETY: the chunks cover the first `len` values, and each block wrote its chunk whole.
    unsafe { out.set_len(len) };
    out
}

/// `second(GELU(first(x)))`, the feed-forward half of a transformer layer, one block of rows at
/// a time: the wide inner activations of a block are written and read back while they are in
/// the cache, and never all at once. The same bits as the two products one after the other.
pub fn feed_forward<P: Product>(first: &P, second: &P, x: &[f32]) -> Vec<f32> {
    assert_eq!(first.width(), second.depth(), "the products chain");
    let inner_len = first.block_rows() * first.width();
    in_row_blocks(
        x,
        first,
        second.width(),
        || vec![MaybeUninit::uninit(); inner_len],
        |inner, x, out| {
            let inner = &mut inner[..x.len() / first.depth() * first.width()];
            first.forward_block(x, inner, Activation::Gelu);
            // SAFETY: `forward_block` wrote all of `inner`.
            second.forward_block(unsafe { written(inner) }, out, Activation::Identity);
        },
    )
}

type F32Kernel = unsafe fn(&F32Tile);
type Int8Kernel = unsafe fn(&Int8Tile);

/// `&[kernel::<1>, kernel::<2>, …]`: one kernel per row count a tile can have.
macro_rules! per_row_count {
    ($kernel:ident; $($rows:literal)*) => {
        &[$($kernel::<$rows>),*]
    };
    ($module:ident::$kernel:ident; $($rows:literal)*) => {
        &[$($module::$kernel::<$rows>),*]
    };
}

/// The f32 kernels of `level`, for 1, 2, … up to a full tile of rows.
fn f32_kernels(level: Level) -> &'static [F32Kernel] {
    match level {
        Level::Portable => per_row_count!(portable_f32; 1 2 3 4),
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => per_row_count!(x86::f32_avx2; 1 2 3 4 5 6),
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => per_row_count!(x86::f32_avx512; 1 2 3 4 5 6 7 8 9 10 11 12),
        #[cfg(not(target_arch = "x86_64"))]
        Level::Avx2 | Level::Avx512 => unreachable!("x86 levels are never detected elsewhere"),
    }
}

/// The int8 kernels of `level`, as [`f32_kernels`].
fn int8_kernels(level: Level) -> &'static [Int8Kernel] {
    match level {
        Level::Portable => per_row_count!(portable_int8; 1 2 3 4),
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => per_row_count!(x86::int8_avx2; 1 2 3 4),
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => per_row_count!(x86::int8_avx512; 1 2 3 4 5 6 7 8 9 10 11 12),
        #[cfg(not(target_arch = "x86_64"))]
        Level::Avx2 | Level::Avx512 => unreachable!("x86 levels are never detected elsewhere"),
    }
}

const PORTABLE_COLS: usize = 16;

/// The portable f32 kernel: the same tile walk as the SIMD ones, in plain Rust (a separate
/// multiply and add: `mul_add` would call a software FMA on CPUs without one).
unsafe fn portable_f32<const M: usize>(t: &F32Tile) {
    let mut acc = [[0f32; PORTABLE_COLS]; M];
    for d in 0..t.depth {
        let b = std::slice::from_raw_parts(t.b.add(d * PORTABLE_COLS), PORTABLE_COLS);
        for (i, acc) in acc.iter_mut().enumerate() {
            let x = *t.a.add(i * t.lda + d);
            for (acc, &b) in acc.iter_mut().zip(b) {
                *acc += x * b;
            }
        }
    }
    for (i, acc) in acc.iter().enumerate() {
        for (j, acc) in acc.iter().enumerate().take(t.cols) {
            *t.c.add(i * t.ldc + j) = acc + *t.bias.add(j);
        }
    }
}

/// The portable int8 kernel.
unsafe fn portable_int8<const M: usize>(t: &Int8Tile) {
    let mut acc = [[0i32; PORTABLE_COLS]; M];
    let panel = std::slice::from_raw_parts(t.b, t.groups * PORTABLE_COLS * 4);
    for g in 0..t.groups {
        let b = &panel[g * PORTABLE_COLS * 4..][..PORTABLE_COLS * 4];
        for (i, acc) in acc.iter_mut().enumerate() {
            let a = (*t.a.add(i * t.lda + g)).to_le_bytes();
            for (acc, w) in acc.iter_mut().zip(b.chunks_exact(4)) {
                for (&a, &w) in a.iter().zip(w) {
                    *acc += a as i32 * w as i8 as i32;
                }
            }
        }
    }
    let e = &t.epilogue;
    for (i, acc) in acc.iter().enumerate() {
        let (row, zero) = (*e.row_scales.add(i), *e.zero_points.add(i));
        for (j, &sum) in acc.iter().enumerate().take(t.cols) {
            let scale = row * *e.scales.add(j);
            let sum = sum - zero * *e.sums.add(j);
            *t.c.add(i * t.ldc + j) = sum as f32 * scale + *e.bias.add(j);
        }
    }
}

#[cfg(test)]
mod tests;
