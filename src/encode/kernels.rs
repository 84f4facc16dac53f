//! Element-wise kernels for the inference-mode encoder ([`crate::encode::bert`]).
//!
//! candle computes GELU one element at a time through libm's `erff`, whose branches keep the
//! compiler from vectorising the loop; in a profile of `argmine bench` that was an eighth of the
//! run (docs/benchmarks.md). [`gelu`] computes the same exact-erf GELU with a branch-free
//! rational approximation of erf, in a loop the compiler vectorises. The approximation is the
//! one Eigen and XLA use for f32: the input clamped to [−4, 4] (erf is ±1 in f32 beyond), an
//! odd degree-13 numerator over an even degree-8 denominator; its largest error against erf
//! in f64 is 4.3e-7. Training keeps candle's `gelu_erf`, which has a backward pass.

use candle_core::{bail, CpuStorage, CustomOp1, DType, Layout, Result, Shape, Tensor};
use std::f32::consts::FRAC_1_SQRT_2;

/// GELU(x) = x·Φ(x) = ½·x·(1 + erf(x/√2)) (Hendrycks and Gimpel 2016, arXiv:1606.08415), the
/// exact form BERT uses. Tensors other than f32 on the CPU go through candle's `gelu_erf`.
pub fn gelu(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == DType::F32 {
        x.contiguous()?.apply_op1_no_bwd(&Gelu)
    } else {
        x.gelu_erf()
    }
}

struct Gelu;

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "argmine-gelu"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(data), Some((start, end))) = (storage, layout.contiguous_offsets())
        else {
            bail!("argmine-gelu needs a contiguous f32 tensor");
        };
        let out = data[start..end]
            .iter()
            .map(|&x| 0.5 * x * (1.0 + erf(x * FRAC_1_SQRT_2)))
            .collect();
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }
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
        -2.954_600e-3,
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
    fn gelu_matches_candles_exact_gelu_on_any_layout() {
        let values: Vec<f32> = (0..4096).map(|i| (i as f32 - 2048.0) / 200.0).collect();
        let x = Tensor::from_vec(values, (64, 64), &Device::Cpu).unwrap();
        for x in [x.clone(), x.t().unwrap()] {
            let ours = gelu(&x).unwrap();
            assert_eq!(ours.dims(), x.dims());
            let diff = (ours - x.gelu_erf().unwrap())
                .unwrap()
                .abs()
                .unwrap()
                .flatten_all()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(diff < 2e-6, "largest difference {diff}");
        }
    }
}
