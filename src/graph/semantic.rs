//! Where "says the same thing" is measured: a linear map from the model's sentence embeddings
//! back into the space of the base sentence encoder it was fine-tuned from.
//!
//! Fine-tuning for the four labels reshapes the embedding space around them: two sentences
//! on unrelated subjects that are both evidence move close. The thesis scorer asks another
//! question, how close a sentence is in meaning to the headline and to the rest of the
//! argument, and the base encoder (trained for semantic similarity) answers it better. Running
//! both encoders would double the cost of mining, so training fits a ridge regression from the
//! fine-tuned embeddings to the base embeddings of the same texts ([`SemanticMap::fit`]) and
//! inference projects the few embeddings the thesis needs through it.

use crate::error::Result;
use candle_core::{Device, Tensor};
use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, Axis};
use std::collections::HashMap;
use std::path::Path;

/// The tensor's name in its safetensors file.
const TENSOR: &str = "semantic.weight";

/// `project(e) = normalise([e; 1] · W)`, with `W` of shape `(input + 1) × output`.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticMap {
    weight: Array2<f32>,
}

impl SemanticMap {
    /// The least-squares map from the rows of `model` to the rows of `base` (embeddings of the
    /// same texts, in the same order), with an intercept and an L2 penalty `ridge` on the
    /// weights: solves `(XᵀX + ridge·I) W = XᵀY` by Cholesky decomposition.
    pub fn fit(model: ArrayView2<f32>, base: ArrayView2<f32>, ridge: f64) -> Self {
        assert_eq!(model.nrows(), base.nrows(), "one base row per model row");
        let n = model.ncols() + 1;
        let mut x = Array2::<f64>::ones((model.nrows(), n));
        x.slice_mut(s![.., ..n - 1]).assign(&model.mapv(f64::from));
        let y = base.mapv(f64::from);
        let mut gram = x.t().dot(&x);
        for i in 0..n {
            gram[[i, i]] += ridge;
        }
        let mut w = x.t().dot(&y);
        let l = cholesky(&gram);
        for mut column in w.columns_mut() {
            let solved = cholesky_solve(&l, column.view());
            column.assign(&solved);
        }
        SemanticMap {
            weight: w.mapv(|v| v as f32),
        }
    }

    /// The unit-length image of `embedding` (the zero vector stays zero).
    pub fn project(&self, embedding: ArrayView1<f32>) -> Array1<f32> {
        self.project_rows(embedding.insert_axis(Axis(0)))
            .row(0)
            .to_owned()
    }

    /// [`SemanticMap::project`] of every row of `embeddings`, as one matrix product.
    pub fn project_rows(&self, embeddings: ArrayView2<f32>) -> Array2<f32> {
        let n = self.weight.nrows() - 1;
        let mut out = embeddings.dot(&self.weight.slice(s![..n, ..])) + self.weight.row(n);
        out.rows_mut().into_iter().for_each(scale_to_unit_length);
        out
    }

    /// Size of the embeddings it reads.
    pub fn input(&self) -> usize {
        self.weight.nrows() - 1
    }

    /// Size of the embeddings it writes.
    pub fn output(&self) -> usize {
        self.weight.ncols()
    }

    pub fn load(path: &Path) -> Result<Self> {
        let tensors = candle_core::safetensors::load(path, &Device::Cpu)?;
        let t = tensors.get(TENSOR).ok_or_else(|| {
            candle_core::Error::Msg(format!("{} has no tensor {TENSOR}", path.display()))
        })?;
        let (rows, cols) = t.dims2()?;
        let values = t.flatten_all()?.to_vec1::<f32>()?;
        let weight = Array2::from_shape_vec((rows, cols), values)
            .expect("a 2-d tensor has rows × cols values");
        Ok(SemanticMap { weight })
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let (rows, cols) = self.weight.dim();
        let values: Vec<f32> = self.weight.iter().copied().collect();
        let tensor = Tensor::from_vec(values, (rows, cols), &Device::Cpu)?;
        candle_core::safetensors::save(&HashMap::from([(TENSOR, tensor)]), path)?;
        Ok(())
    }
}

/// `v` scaled to unit length (the zero vector stays zero).
pub fn unit_length(mut v: Array1<f32>) -> Array1<f32> {
    scale_to_unit_length(v.view_mut());
    v
}

/// Scales `v` to unit length in place (the zero vector stays zero).
fn scale_to_unit_length(mut v: ArrayViewMut1<f32>) {
    let norm = v.dot(&v).sqrt();
    if norm > 0.0 {
        v /= norm;
    }
}

/// The lower-triangular `L` with `L Lᵀ = a`, for a symmetric positive-definite `a`.
fn cholesky(a: &Array2<f64>) -> Array2<f64> {
    let n = a.nrows();
    let mut l = Array2::<f64>::zeros((n, n));
    for i in 0..n {
        for j in 0..=i {
            let dot: f64 = (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum();
            if i == j {
                l[[i, i]] = (a[[i, i]] - dot).sqrt();
            } else {
                l[[i, j]] = (a[[i, j]] - dot) / l[[j, j]];
            }
        }
    }
    l
}

/// `x` with `L Lᵀ x = b`, by forward then backward substitution.
fn cholesky_solve(l: &Array2<f64>, b: ArrayView1<f64>) -> Array1<f64> {
    let n = l.nrows();
    let mut z = Array1::<f64>::zeros(n);
    for i in 0..n {
        let dot: f64 = (0..i).map(|k| l[[i, k]] * z[k]).sum();
        z[i] = (b[i] - dot) / l[[i, i]];
    }
    let mut x = Array1::<f64>::zeros(n);
    for i in (0..n).rev() {
        let dot: f64 = (i + 1..n).map(|k| l[[k, i]] * x[k]).sum();
        x[i] = (z[i] - dot) / l[[i, i]];
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn fit_recovers_an_affine_map() {
        // y = x·A + c, exactly
        let x = array![
            [1.0f32, 0.0],
            [0.0, 1.0],
            [1.0, 1.0],
            [2.0, -1.0],
            [0.5, 3.0]
        ];
        let a = array![[2.0f32, -1.0, 0.0], [0.5, 1.0, 3.0]];
        let c = array![0.1f32, 0.2, -0.3];
        let y = x.dot(&a) + &c;
        let map = SemanticMap::fit(x.view(), y.view(), 1e-9);
        for (row, target) in x.rows().into_iter().zip(y.rows()) {
            let norm = target.dot(&target).sqrt();
            let got = map.project(row);
            for (g, t) in got.iter().zip(target) {
                assert!((g - t / norm).abs() < 1e-4, "{got} vs {target}");
            }
        }
    }

    #[test]
    fn ridge_shrinks_the_weights() {
        let x = array![[1.0f32], [2.0], [3.0]];
        let y = array![[2.0f32], [4.0], [6.0]];
        let exact = SemanticMap::fit(x.view(), y.view(), 1e-9);
        let shrunk = SemanticMap::fit(x.view(), y.view(), 10.0);
        assert!((exact.weight[[0, 0]] - 2.0).abs() < 1e-4);
        assert!(shrunk.weight[[0, 0]].abs() < exact.weight[[0, 0]].abs());
    }

    #[test]
    fn save_then_load_is_the_same_map() {
        let map = SemanticMap {
            weight: array![[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.5]],
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("semantic.safetensors");
        map.save(&path).unwrap();
        assert_eq!(SemanticMap::load(&path).unwrap(), map);
        assert_eq!(map.input(), 2);
    }
}
