use super::*;

/// Every (depth, width) of MiniLM's linear layers (query-key-value, attention output,
/// feed-forward in and out), and two shapes whose depth and width end in partial groups and
/// panels.
const SHAPES: [(usize, usize); 6] = [
    (384, 1152),
    (384, 384),
    (384, 1536),
    (1536, 384),
    (37, 45),
    (3, 20),
];

/// Row counts with every remainder of every level's tile height, and one past a row block.
const ROWS: [usize; 5] = [1, 5, 7, 13, 103];

const QUANTISATIONS: [ActivationQuantisation; 2] = [
    ActivationQuantisation::Symmetric,
    ActivationQuantisation::Range,
];

fn supported() -> Vec<Level> {
    Level::ALL
        .into_iter()
        .filter(|l| l.is_supported())
        .collect()
}

/// Deterministic values in [−1, 1), with a few larger outliers as real activations have.
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|i| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let v = ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0;
            if i % 97 == 0 {
                v * 8.0
            } else {
                v
            }
        })
        .collect()
}

/// `x·Wᵀ + b` in f64, and each output's Σ|x·w| (what its rounding error scales with).
fn reference(x: &[f32], w: &[f32], b: &[f32], depth: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut out, mut magnitude) = (Vec::new(), Vec::new());
    for row in x.chunks_exact(depth) {
        for (weights, &bias) in w.chunks_exact(depth).zip(b) {
            let products = row.iter().zip(weights).map(|(&a, &w)| a as f64 * w as f64);
            out.push(products.clone().sum::<f64>() + bias as f64);
            magnitude.push(products.map(f64::abs).sum::<f64>() + (bias as f64).abs());
        }
    }
    (out, magnitude)
}

/// The int8 product by definition: both sides quantised ([`quantise`] for the weights,
/// [`quantise_activations`] for the rows), exact integer sums, then the epilogue's float
/// operations in the kernels' order.
fn int8_reference(
    x: &[f32],
    w: &[f32],
    b: &[f32],
    depth: usize,
    activations: ActivationQuantisation,
) -> Vec<f32> {
    let ws: Vec<(f32, Vec<i8>)> = w
        .chunks_exact(depth)
        .map(|row| {
            let mut q = vec![0i8; depth];
            (quantise(row, WEIGHT_LIMIT, &mut q), q)
        })
        .collect();
    let mut out = Vec::new();
    for row in x.chunks_exact(depth) {
        let mut u = vec![0u8; depth];
        let (row_scale, zero) = quantise_activations(row, activations, &mut u);
        for ((scale, weights), &bias) in ws.iter().zip(b) {
            let sum: i32 = u
                .iter()
                .zip(weights)
                .map(|(&a, &w)| (a as i32 - zero) * w as i32)
                .sum();
            out.push(sum as f32 * (row_scale * scale) + bias);
        }
    }
    out
}

#[test]
fn f32_products_match_the_f64_reference_at_every_level_and_shape() {
    for level in supported() {
        for (depth, width) in SHAPES {
            let w = values(depth * width, 1);
            let b = values(width, 2);
            let packed = PackedF32::new(level, &w, Some(&b), width);
            for rows in ROWS {
                let x = values(rows * depth, 3 + rows as u64);
                let (expected, magnitude) = reference(&x, &w, &b, depth);
                let ours = packed.forward(&x, Activation::Identity);
                assert_eq!(ours.len(), expected.len());
                for (i, ((&o, &e), &m)) in ours.iter().zip(&expected).zip(&magnitude).enumerate() {
                    assert!(
                        (o as f64 - e).abs() <= 1e-6 * m + 1e-6,
                        "{level:?} {rows}×{depth}·{depth}×{width} output {i}: {o} vs {e}"
                    );
                }
            }
        }
    }
}

#[test]
fn int8_products_equal_the_integer_reference_bit_for_bit_at_every_level_and_shape() {
    for (level, how) in supported()
        .into_iter()
        .flat_map(|l| QUANTISATIONS.map(|q| (l, q)))
    {
        for (depth, width) in SHAPES {
            let w = values(depth * width, 4);
            let b = values(width, 5);
            let packed = PackedInt8::new(level, &w, Some(&b), width, how);
            for rows in ROWS {
                let x = values(rows * depth, 6 + rows as u64);
                let ours = packed.forward(&x, Activation::Identity);
                let expected = int8_reference(&x, &w, &b, depth, how);
                assert_eq!(ours.len(), expected.len());
                if let Some(i) = (0..ours.len()).find(|&i| ours[i] != expected[i]) {
                    panic!(
                        "{level:?} {how:?} {rows}×{depth}·{depth}×{width} output {i}: {} vs {}",
                        ours[i], expected[i]
                    );
                }
            }
        }
    }
}

/// The largest difference between the f32 and the int8 product of `x`, and the largest f32
/// output.
fn int8_error(x: &[f32], how: ActivationQuantisation) -> (f32, f32) {
    let (depth, width) = (x.len() / 13, 384);
    let (w, b) = (values(depth * width, 7), values(width, 8));
    let level = Level::detected();
    let exact = PackedF32::new(level, &w, Some(&b), width).forward(x, Activation::Identity);
    let int8 = PackedInt8::new(level, &w, Some(&b), width, how).forward(x, Activation::Identity);
    let largest = exact.iter().fold(0f32, |m, v| m.max(v.abs()));
    let worst = exact
        .iter()
        .zip(&int8)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    (worst, largest)
}

#[test]
fn int8_products_stay_within_the_quantisation_error_of_f32() {
    let x = values(13 * 1536, 9);
    for how in QUANTISATIONS {
        let (worst, largest) = int8_error(&x, how);
        assert!(
            worst < 0.02 * largest,
            "{how:?}: int8 off by {worst} on outputs up to {largest}"
        );
    }
}

/// GELU's outputs are ≥ −0.17: quantised by their range they get about twice the levels they
/// get symmetrically, which is why the feed-forward output product quantises them so.
#[test]
fn range_quantisation_halves_the_rounding_of_gelu_outputs() {
    let mut x = values(1536, 9);
    kernels::gelu_in_place(&mut x, Level::Portable);
    let worst = |how| {
        let mut u = vec![0u8; x.len()];
        let (scale, zero) = quantise_activations(&x, how, &mut u);
        x.iter()
            .zip(&u)
            .map(|(&v, &u)| (v - scale * (u as i32 - zero) as f32).abs())
            .fold(0f32, f32::max)
    };
    let (range, symmetric) = (
        worst(ActivationQuantisation::Range),
        worst(ActivationQuantisation::Symmetric),
    );
    assert!(
        range < 0.6 * symmetric,
        "range {range} against symmetric {symmetric}"
    );
}

#[test]
fn gelu_is_applied_after_the_bias() {
    let (depth, width, rows) = (37, 45, 7);
    let (w, b, x) = (
        values(depth * width, 10),
        values(width, 11),
        values(rows * depth, 12),
    );
    for level in supported() {
        let packed = PackedF32::new(level, &w, Some(&b), width);
        let mut expected = packed.forward(&x, Activation::Identity);
        kernels::gelu_in_place(&mut expected, level);
        assert_eq!(packed.forward(&x, Activation::Gelu), expected, "{level:?}");
        let packed = PackedInt8::new(level, &w, Some(&b), width, ActivationQuantisation::Range);
        let mut expected = packed.forward(&x, Activation::Identity);
        kernels::gelu_in_place(&mut expected, level);
        assert_eq!(packed.forward(&x, Activation::Gelu), expected, "{level:?}");
    }
}

type Forward<'a> = dyn Fn(&[f32]) -> Vec<f32> + Sync + 'a;

/// A row's output must not depend on the batch around it, nor on whether the product ran on
/// one thread or spread over the pool: mining output is byte-identical for any batch size and
/// thread count.
#[test]
fn a_row_gives_the_same_bits_alone_in_a_batch_and_across_threads() {
    let (depth, width, rows) = (384, 384, 200);
    let (w, b, x) = (
        values(depth * width, 13),
        values(width, 14),
        values(rows * depth, 15),
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    for level in supported() {
        let f32s = PackedF32::new(level, &w, Some(&b), width);
        let [symmetric, range] =
            QUANTISATIONS.map(|how| PackedInt8::new(level, &w, Some(&b), width, how));
        let forwards: [&Forward<'_>; 3] = [
            &|x| f32s.forward(x, Activation::Identity),
            &|x| symmetric.forward(x, Activation::Identity),
            &|x| range.forward(x, Activation::Identity),
        ];
        for forward in forwards {
            // From the test thread the row blocks spread over the global pool; from a pool
            // thread they run one after another.
            let batch = forward(&x);
            let on_a_pool_thread = pool.install(|| forward(&x));
            assert_eq!(batch, on_a_pool_thread, "{level:?}");
            for r in [0, 1, 99, 199] {
                let alone = forward(&x[r * depth..][..depth]);
                assert_eq!(alone, batch[r * width..][..width], "{level:?} row {r}");
            }
        }
    }
}

#[test]
fn a_row_with_nan_gives_nan_as_f32_would() {
    let (depth, width) = (37, 20);
    let (w, b) = (values(depth * width, 18), values(width, 19));
    let mut x = values(depth, 20);
    x[5] = f32::NAN;
    for (level, how) in supported()
        .into_iter()
        .flat_map(|l| QUANTISATIONS.map(|q| (l, q)))
    {
        let out =
            PackedInt8::new(level, &w, Some(&b), width, how).forward(&x, Activation::Identity);
        assert!(out.iter().all(|v| v.is_nan()), "{level:?} {how:?}");
    }
}

#[test]
fn an_all_zero_row_gives_the_bias() {
    let (depth, width) = (384, 20);
    let (w, b) = (values(depth * width, 16), values(width, 17));
    for (level, how) in supported()
        .into_iter()
        .flat_map(|l| QUANTISATIONS.map(|q| (l, q)))
    {
        let out = PackedInt8::new(level, &w, Some(&b), width, how)
            .forward(&vec![0.0; depth], Activation::Identity);
        assert_eq!(out, b, "{level:?} {how:?}");
    }
}

#[test]
fn levels_are_named_parsed_and_capped_by_what_the_cpu_has() {
    for level in Level::ALL {
        assert_eq!(level.name().parse::<Level>(), Ok(level));
        assert!(Level::capped(level) <= level);
        assert!(Level::capped(level).is_supported());
    }
    assert!(Level::Portable.is_supported());
    assert!(Level::detected().is_supported());
    assert_eq!(Level::capped(Level::Avx512), Level::detected());
    let err = "sse2".parse::<Level>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "ARGMINE_CPU=sse2 is not a CPU level; expected one of portable, avx2, avx512"
    );
}

#[test]
fn the_fused_feed_forward_equals_its_two_products_to_the_bit() {
    let (depth, inner, rows) = (48, 200, 103);
    let (w1, b1, w2, b2, x) = (
        values(inner * depth, 21),
        values(inner, 22),
        values(depth * inner, 23),
        values(depth, 24),
        values(rows * depth, 25),
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    for level in supported() {
        let (first, second) = (
            PackedF32::new(level, &w1, Some(&b1), inner),
            PackedF32::new(level, &w2, Some(&b2), depth),
        );
        let apart = second.forward(&first.forward(&x, Activation::Gelu), Activation::Identity);
        assert_eq!(feed_forward(&first, &second, &x), apart, "{level:?} f32");
        let (first, second) = (
            PackedInt8::new(
                level,
                &w1,
                Some(&b1),
                inner,
                ActivationQuantisation::Symmetric,
            ),
            PackedInt8::new(level, &w2, Some(&b2), depth, ActivationQuantisation::Range),
        );
        let apart = second.forward(&first.forward(&x, Activation::Gelu), Activation::Identity);
        assert_eq!(feed_forward(&first, &second, &x), apart, "{level:?} int8");
        let on_a_pool_thread = pool.install(|| feed_forward(&first, &second, &x));
        assert_eq!(on_a_pool_thread, apart, "{level:?} int8 on a pool thread");
    }
}
