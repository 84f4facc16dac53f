//! The encoder's matrix products one at a time, on one thread: candle's `matmul` (the gemm
//! crate) next to argmine's packed f32 and int8 products ([`argmine::encode::gemm`]) at every
//! CPU level this machine has, for each linear layer of MiniLM at 1,280 rows (a batch of 32
//! sentences of 40 tokens). Throughput is in multiply-adds (`elements`).

use argmine::encode::gemm::{Activation, ActivationQuantisation, Level, PackedF32, PackedInt8};
use candle_core::{Device, Tensor};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const ROWS: usize = 1280;
/// (name, depth, width) of each linear layer.
const LAYERS: [(&str, usize, usize); 4] = [
    ("qkv", 384, 1152),
    ("attention out", 384, 384),
    ("ffn in", 384, 1536),
    ("ffn out", 1536, 384),
];

fn values(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 7919 % 2003) as f32 / 1001.5) - 1.0)
        .collect()
}

fn gemm(c: &mut Criterion) {
    // One thread, as each batch runs in mining (candle's gemm reads this variable).
    std::env::set_var("RAYON_NUM_THREADS", "1");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut group = c.benchmark_group("gemm");
    group.sample_size(10);
    for (name, depth, width) in LAYERS {
        let (w, b, x) = (values(width * depth), values(width), values(ROWS * depth));
        group.throughput(Throughput::Elements((ROWS * depth * width) as u64));
        let xt = Tensor::from_slice(&x, (ROWS, depth), &Device::Cpu).unwrap();
        let wt = Tensor::from_slice(&w, (width, depth), &Device::Cpu).unwrap();
        let bt = Tensor::from_slice(&b, width, &Device::Cpu).unwrap();
        let linear = candle_nn::Linear::new(wt, Some(bt));
        group.bench_function(format!("{name}/candle f32"), |bench| {
            bench.iter(|| pool.install(|| candle_core::Module::forward(&linear, &xt).unwrap()))
        });
        for level in Level::ALL.into_iter().filter(|l| l.is_supported()) {
            let f32s = PackedF32::new(level, &w, Some(&b), width);
            group.bench_function(format!("{name}/f32 {}", level.name()), |bench| {
                bench.iter(|| pool.install(|| f32s.forward(&x, Activation::Identity)))
            });
            let int8 = PackedInt8::new(
                level,
                &w,
                Some(&b),
                width,
                ActivationQuantisation::Symmetric,
            );
            group.bench_function(format!("{name}/int8 {}", level.name()), |bench| {
                bench.iter(|| pool.install(|| int8.forward(&x, Activation::Identity)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, gemm);
criterion_main!(benches);
