//! Training an IVF index's centroids and coding vectors into partitions, reading the vectors
//! from a [`VectorSource`]: training takes a sample, coding one streaming pass in blocks, so
//! a build holds the codes, not the vectors.

use super::codec::Codec;
use super::IvfParams;
use crate::source::{block_rows, gather, in_block, VectorSource};
use oxvec_core::{CancelToken, Result};
use oxvec_linalg::kmeans::{self, KMeansOptions};
use oxvec_linalg::rng::SplitMix64;
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

/// k-means centroids of a sample of `source` (prepared vectors), and that sample (the
/// codec trains on it too).
pub fn centroids(
    source: &dyn VectorSource,
    p: &IvfParams,
    cancel: &CancelToken,
) -> Result<(Vec<f32>, Vec<f32>)> {
    let opts = KMeansOptions {
        seed: p.seed,
        ..KMeansOptions::default()
    };
    let k = p.num_partitions;
    // The sample k-means would draw anyway; read once here so the source is never copied.
    let want = (k * opts.max_points_per_centroid).max(k);
    let picks = SplitMix64::new(p.seed ^ 0x5341_4d50).sample(source.len(), want);
    let sample = gather(source, &picks);
    let cents = kmeans::train(&sample, source.dim(), k, opts, cancel)?;
    Ok((cents, sample))
}

/// Assigns every vector of `source` to its nearest centroid and codes its residual, one
/// streaming pass writing each block straight into the output arrays.
pub fn encode<C: Codec>(
    codec: &C,
    centroids: &[f32],
    params: &IvfParams,
    source: &dyn VectorSource,
    progress: &AtomicU64,
    cancel: &CancelToken,
) -> Result<Encoded> {
    let (dim, n) = (source.dim(), source.len());
    let norms = kmeans::row_norms(centroids, dim);
    let cb = C::code_bytes(dim, params);
    let fw = C::FACTORS;
    let rows = block_rows(dim);
    let mut out = Encoded {
        labels: vec![0u32; n],
        codes: vec![0u8; n * cb],
        factors: vec![0f32; n * fw],
    };
    // A codec without factors still needs one (empty) factor chunk per block to zip.
    let mut none = vec![0f32; if fw == 0 { n.div_ceil(rows) } else { 0 }];
    let factor_chunks = if fw == 0 {
        none.par_chunks_mut(1)
    } else {
        out.factors.par_chunks_mut(rows * fw)
    };
    out.labels
        .par_chunks_mut(rows)
        .zip(out.codes.par_chunks_mut(rows * cb))
        .zip(factor_chunks)
        .enumerate()
        .try_for_each_init(
            || {
                (
                    Vec::new(),
                    Vec::new(),
                    vec![0f32; dim],
                    C::Scratch::default(),
                )
            },
            |(buf, dots, resid, scratch), (b, ((labels, codes), factors))| -> Result<()> {
                cancel.check()?;
                in_block(source, b, rows, buf, |_, block| {
                    kmeans::nearest_block(block, dim, centroids, &norms, labels, dots);
                    for (j, v) in block.chunks_exact(dim).enumerate() {
                        let l = labels[j] as usize;
                        let c = &centroids[l * dim..(l + 1) * dim];
                        for ((r, &x), &cc) in resid.iter_mut().zip(v).zip(c) {
                            *r = x - cc;
                        }
                        let f = if fw == 0 {
                            &mut []
                        } else {
                            &mut factors[j * fw..(j + 1) * fw]
                        };
                        codec.encode(resid, scratch, &mut codes[j * cb..(j + 1) * cb], f);
                    }
                });
                progress.fetch_add(labels.len() as u64, Relaxed);
                Ok(())
            },
        )?;
    Ok(out)
}
