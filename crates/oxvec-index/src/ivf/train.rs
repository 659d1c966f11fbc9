//! Training an IVF index's centroids and coding vectors into partitions.

use super::codec::Codec;
use super::IvfParams;
use oxvec_core::{CancelToken, Result};
use oxvec_linalg::kmeans::{self, KMeansOptions};
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Coded vectors: each one's partition, code and factors, in input order.
pub struct Encoded {
    pub labels: Vec<u32>,
    /// `code_bytes` per vector.
    pub codes: Vec<u8>,
    /// `FACTORS` per vector.
    pub factors: Vec<f32>,
}

/// k-means centroids of `data` (prepared vectors, row-major).
pub fn centroids(
    dim: usize,
    data: &[f32],
    p: &IvfParams,
    cancel: &CancelToken,
) -> Result<Vec<f32>> {
    let opts = KMeansOptions {
        seed: p.seed,
        ..KMeansOptions::default()
    };
    kmeans::train(data, dim, p.num_partitions, opts, cancel)
}

/// Assigns every vector of `data` to its nearest centroid and codes its residual.
pub fn encode<C: Codec>(
    codec: &C,
    centroids: &[f32],
    dim: usize,
    params: &IvfParams,
    data: &[f32],
    progress: &AtomicU64,
    cancel: &CancelToken,
) -> Result<Encoded> {
    let labels = kmeans::assign(data, dim, centroids, cancel)?;
    let cb = C::code_bytes(dim, params);
    let fw = C::FACTORS;
    let n = labels.len();
    let mut codes = vec![0u8; n * cb];
    let mut factors = vec![0f32; n * fw];
    const CHUNK: usize = 4096;
    // A codec without factors still needs one (empty) factor chunk per code chunk to zip.
    let mut none = vec![0f32; if fw == 0 { n.div_ceil(CHUNK) } else { 0 }];
    let factor_chunks = if fw == 0 {
        none.par_chunks_mut(1)
    } else {
        factors.par_chunks_mut(fw * CHUNK)
    };
    codes
        .par_chunks_mut(cb * CHUNK)
        .zip(factor_chunks)
        .enumerate()
        .try_for_each(|(ci, (out, fout))| -> Result<()> {
            cancel.check()?;
            let mut resid = vec![0f32; dim];
            let mut scratch = C::Scratch::default();
            for (j, code) in out.chunks_exact_mut(cb).enumerate() {
                let i = ci * CHUNK + j;
                let l = labels[i] as usize;
                let c = &centroids[l * dim..(l + 1) * dim];
                for ((r, &x), &cc) in resid.iter_mut().zip(&data[i * dim..(i + 1) * dim]).zip(c) {
                    *r = x - cc;
                }
                let f = &mut fout[j * fw..(j + 1) * fw];
                codec.encode(&resid, &mut scratch, code, f);
            }
            progress.fetch_add((out.len() / cb.max(1)) as u64, Relaxed);
            Ok(())
        })?;
    Ok(Encoded {
        labels,
        codes,
        factors,
    })
}
