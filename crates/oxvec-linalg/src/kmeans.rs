//! k-means (Lloyd's algorithm) for IVF partitions and PQ codebooks.
//!
//! Trains on at most `max_points_per_centroid * k` sampled rows, the usual bound beyond which
//! more points no longer move the centroids. Assignment runs in parallel on rayon through the
//! dispatched multi-query dot kernel, `dot_tile` (`|x-c|² = |x|² + |c|² - 2x·c`, and `|x|²`
//! does not change the argmin).
//! Empty clusters are re-seeded by splitting the largest one.

use crate::kernels;
use crate::rng::SplitMix64;
use oxvec_core::{CancelToken, Result};
use rayon::prelude::*;

/// Options of [`train`].
#[derive(Debug, Clone, Copy)]
pub struct KMeansOptions {
    pub iterations: usize,
    pub max_points_per_centroid: usize,
    pub seed: u64,
}

impl Default for KMeansOptions {
    fn default() -> Self {
        KMeansOptions {
            iterations: 12,
            max_points_per_centroid: 128,
            seed: 0x006f_7876_6563,
        }
    }
}

/// Squared norms of `k` rows.
pub fn row_norms(rows: &[f32], dim: usize) -> Vec<f32> {
    rows.chunks_exact(dim)
        .map(|r| r.iter().map(|x| x * x).sum())
        .collect()
}

/// Rows scored against every centroid per pass of the tile kernel.
const ROW_TILE: usize = 32;

/// Nearest centroid (squared L2) of every row of `rows` into `labels`, through the
/// multi-query tile kernel: `ROW_TILE` rows against all centroids per pass, so each centroid
/// is read once per tile instead of once per row. `norms` are the centroids' squared norms;
/// `scratch` is reused across calls.
pub fn nearest_block(
    rows: &[f32],
    dim: usize,
    centroids: &[f32],
    norms: &[f32],
    labels: &mut [u32],
    scratch: &mut Vec<f32>,
) {
    let k = norms.len();
    let tile = kernels().dot_tile_f32;
    scratch.resize(ROW_TILE * k, 0.0);
    for (t, chunk) in rows.chunks(ROW_TILE * dim).enumerate() {
        let m = chunk.len() / dim;
        let dots = &mut scratch[..m * k];
        tile(chunk, centroids, dim, dots);
        for (a, row) in dots.chunks_exact(k).enumerate() {
            // |x-c|² - |x|² = |c|² - 2x·c
            let mut best = (0u32, f32::INFINITY);
            for (j, (&d, &n)) in row.iter().zip(norms).enumerate() {
                let l2 = n - 2.0 * d;
                if l2 < best.1 {
                    best = (j as u32, l2);
                }
            }
            labels[t * ROW_TILE + a] = best.0;
        }
    }
}

/// Nearest centroid of every row, in parallel.
pub fn assign(
    data: &[f32],
    dim: usize,
    centroids: &[f32],
    cancel: &CancelToken,
) -> Result<Vec<u32>> {
    let norms = row_norms(centroids, dim);
    let mut labels = vec![0u32; data.len() / dim.max(1)];
    labels
        .par_chunks_mut(4096)
        .zip(data.par_chunks(dim * 4096))
        .try_for_each_init(Vec::new, |scratch, (out, block)| {
            cancel.check()?;
            nearest_block(block, dim, centroids, &norms, out, scratch);
            Ok(())
        })?;
    Ok(labels)
}

/// Trains `k` centroids on `data` (row-major, `dim` wide). Returns `k * dim` floats; when
/// there are fewer rows than `k`, the rows themselves (repeated) are the centroids.
pub fn train(
    data: &[f32],
    dim: usize,
    k: usize,
    opts: KMeansOptions,
    cancel: &CancelToken,
) -> Result<Vec<f32>> {
    let n = data.len() / dim;
    let mut rng = SplitMix64::new(opts.seed);
    if n == 0 || k == 0 {
        return Ok(vec![0.0; k * dim]);
    }
    let picks = rng.sample(n, (k * opts.max_points_per_centroid).max(k));
    let sample: std::borrow::Cow<[f32]> = if picks.len() == n {
        std::borrow::Cow::Borrowed(data)
    } else {
        picks
            .iter()
            .flat_map(|&i| &data[i * dim..(i + 1) * dim])
            .copied()
            .collect()
    };
    let m = sample.len() / dim;
    let mut centroids: Vec<f32> = rng
        .sample(m, k)
        .iter()
        .cycle()
        .take(k)
        .flat_map(|&i| &sample[i * dim..(i + 1) * dim])
        .copied()
        .collect();
    for _ in 0..opts.iterations {
        let labels = assign(&sample, dim, &centroids, cancel)?;
        let mut sums = vec![0f64; k * dim];
        let mut counts = vec![0usize; k];
        for (row, &l) in sample.chunks_exact(dim).zip(&labels) {
            let l = l as usize;
            counts[l] += 1;
            for (s, &x) in sums[l * dim..(l + 1) * dim].iter_mut().zip(row) {
                *s += x as f64;
            }
        }
        for j in 0..k {
            if counts[j] > 0 {
                for (c, s) in centroids[j * dim..(j + 1) * dim]
                    .iter_mut()
                    .zip(&sums[j * dim..(j + 1) * dim])
                {
                    *c = (*s / counts[j] as f64) as f32;
                }
            }
        }
        // Re-seed empty clusters next to the largest one, nudged apart.
        for j in 0..k {
            if counts[j] == 0 {
                let big = (0..k).max_by_key(|&i| counts[i]).unwrap_or(0);
                counts[big] /= 2;
                counts[j] = counts[big];
                for d in 0..dim {
                    let x = centroids[big * dim + d];
                    let eps =
                        1e-3 * (x.abs() + 1e-3) * if rng.next_u64() & 1 == 0 { 1.0 } else { -1.0 };
                    centroids[j * dim + d] = x + eps;
                    centroids[big * dim + d] = x - eps;
                }
            }
        }
    }
    Ok(centroids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_well_separated_clusters() {
        let dim = 8;
        let mut r = SplitMix64::new(1);
        let centers = [-10.0f32, 0.0, 10.0];
        let mut data = Vec::new();
        for i in 0..900 {
            let c = centers[i % 3];
            data.extend((0..dim).map(|_| c + r.gaussian() as f32 * 0.1));
        }
        let cents = train(&data, dim, 3, KMeansOptions::default(), &CancelToken::new()).unwrap();
        let mut firsts: Vec<i32> = cents
            .chunks_exact(dim)
            .map(|c| c[0].round() as i32)
            .collect();
        firsts.sort();
        assert_eq!(firsts, vec![-10, 0, 10]);
        let labels = assign(&data, dim, &cents, &CancelToken::new()).unwrap();
        assert_eq!(labels[0], labels[3]);
        assert_ne!(labels[0], labels[1]);
    }
}
