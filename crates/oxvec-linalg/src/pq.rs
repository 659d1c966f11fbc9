//! Product quantization: a vector is cut into `m` sub-vectors and each is replaced by the
//! index of its nearest of 256 trained centroids (one byte per sub-vector).
//!
//! Search is asymmetric (ADC): a query builds an `m x 256` table of partial distances once,
//! and the distance to a code is `m` table lookups.

use crate::kmeans::{self, KMeansOptions};
use oxvec_core::{CancelToken, Error, Result};
use rayon::prelude::*;

/// Centroids per sub-space (8-bit codes).
pub const CODEBOOK: usize = 256;

/// A trained product quantizer.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductQuantizer {
    pub dim: usize,
    pub m: usize,
    /// `m` codebooks of `256 x dim/m` floats, one after the other.
    pub centroids: Vec<f32>,
}

impl ProductQuantizer {
    /// Width of one sub-vector.
    pub fn dsub(&self) -> usize {
        self.dim / self.m
    }

    /// Trains the `m` codebooks on `data` (row-major, `dim` wide).
    pub fn train(
        data: &[f32],
        dim: usize,
        m: usize,
        seed: u64,
        cancel: &CancelToken,
    ) -> Result<Self> {
        if m == 0 || !dim.is_multiple_of(m) {
            return Err(Error::invalid(format!(
                "num_sub_vectors must divide the vector dimension {dim}, got {m}"
            )));
        }
        let dsub = dim / m;
        let n = data.len() / dim;
        let books: Vec<Result<Vec<f32>>> = (0..m)
            .into_par_iter()
            .map(|j| {
                let sub: Vec<f32> = (0..n)
                    .flat_map(|i| &data[i * dim + j * dsub..i * dim + (j + 1) * dsub])
                    .copied()
                    .collect();
                let opts = KMeansOptions {
                    iterations: 10,
                    max_points_per_centroid: 64,
                    seed: seed ^ (j as u64).wrapping_mul(0x9E37_79B9),
                };
                kmeans::train(&sub, dsub, CODEBOOK, opts, cancel)
            })
            .collect();
        let mut centroids = Vec::with_capacity(m * CODEBOOK * dsub);
        for b in books {
            centroids.extend(b?);
        }
        Ok(ProductQuantizer { dim, m, centroids })
    }

    fn book(&self, j: usize) -> &[f32] {
        let w = CODEBOOK * self.dsub();
        &self.centroids[j * w..(j + 1) * w]
    }

    /// Writes the `m`-byte code of `v` into `out`.
    pub fn encode(&self, v: &[f32], out: &mut [u8]) {
        let dsub = self.dsub();
        for (j, o) in out.iter_mut().enumerate().take(self.m) {
            let sub = &v[j * dsub..(j + 1) * dsub];
            let mut best = (0usize, f32::INFINITY);
            for (c, cent) in self.book(j).chunks_exact(dsub).enumerate() {
                let d: f32 = sub.iter().zip(cent).map(|(a, b)| (a - b) * (a - b)).sum();
                if d < best.1 {
                    best = (c, d);
                }
            }
            *o = best.0 as u8;
        }
    }

    /// The vector a code stands for.
    pub fn decode(&self, code: &[u8], out: &mut [f32]) {
        let dsub = self.dsub();
        for (j, &c) in code.iter().enumerate().take(self.m) {
            let cent = &self.book(j)[c as usize * dsub..(c as usize + 1) * dsub];
            out[j * dsub..(j + 1) * dsub].copy_from_slice(cent);
        }
    }

    /// Table of squared L2 distances from each sub-vector of `q` to each centroid.
    pub fn l2_table(&self, q: &[f32], out: &mut Vec<f32>) {
        self.table(q, out, |a, b| (a - b) * (a - b));
    }

    /// Table of inner products of each sub-vector of `q` with each centroid.
    pub fn dot_table(&self, q: &[f32], out: &mut Vec<f32>) {
        self.table(q, out, |a, b| a * b);
    }

    fn table(&self, q: &[f32], out: &mut Vec<f32>, f: impl Fn(f32, f32) -> f32) {
        let dsub = self.dsub();
        out.clear();
        for j in 0..self.m {
            let sub = &q[j * dsub..(j + 1) * dsub];
            out.extend(
                self.book(j)
                    .chunks_exact(dsub)
                    .map(|c| sub.iter().zip(c).map(|(&a, &b)| f(a, b)).sum::<f32>()),
            );
        }
    }
}

/// Sum of table entries picked by `code`: the ADC distance (or inner product).
#[inline]
pub fn adc(table: &[f32], code: &[u8]) -> f32 {
    let mut acc = [0f32; 4];
    let mut chunks = code.chunks_exact(4);
    let mut j = 0;
    for c in &mut chunks {
        for (l, a) in acc.iter_mut().enumerate() {
            *a += table[(j + l) * CODEBOOK + c[l] as usize];
        }
        j += 4;
    }
    for (l, &c) in chunks.remainder().iter().enumerate() {
        acc[l] += table[(j + l) * CODEBOOK + c as usize];
    }
    acc.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    #[test]
    fn adc_matches_the_decoded_distance() {
        let (dim, m) = (16, 4);
        let mut r = SplitMix64::new(9);
        let data: Vec<f32> = (0..dim * 2000).map(|_| r.gaussian() as f32).collect();
        let pq = ProductQuantizer::train(&data, dim, m, 1, &CancelToken::new()).unwrap();
        let q: Vec<f32> = (0..dim).map(|_| r.gaussian() as f32).collect();
        let mut table = Vec::new();
        pq.l2_table(&q, &mut table);
        let mut code = vec![0u8; m];
        let mut back = vec![0f32; dim];
        let mut err = 0.0;
        for row in data.chunks_exact(dim).take(100) {
            pq.encode(row, &mut code);
            pq.decode(&code, &mut back);
            let want: f32 = q.iter().zip(&back).map(|(a, b)| (a - b) * (a - b)).sum();
            assert!((adc(&table, &code) - want).abs() < 1e-3 * (1.0 + want));
            err += row
                .iter()
                .zip(&back)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f32>();
        }
        // Reconstruction error well below the data's own variance (dim per row).
        assert!(err / 100.0 < dim as f32 * 0.5, "{err}");
        assert!(ProductQuantizer::train(&data, dim, 5, 1, &CancelToken::new()).is_err());
    }
}
