//! oxvec-linalg: distance kernels, quantizers (SQ8, PQ, RaBitQ), k-means and top-k selection.
//!
//! Every kernel has a scalar reference in [`scalar`] and SIMD versions (AVX2+FMA, AVX-512 on
//! x86-64; NEON on aarch64) chosen once at run time by [`kernels`]. The SIMD paths are tested
//! against the reference on random inputs of awkward lengths. Pure functions only: no IO, no
//! Arrow. k-means assignment and PQ training run on rayon.

pub mod kmeans;
pub mod pq;
pub mod rabitq;
pub mod rng;
pub mod scalar;
mod simd;
pub mod sq8;
mod topk;

pub use simd::{kernel_tables, kernels, DotU8I8, DotU8I8Rows, Kernels};
pub use topk::{Neighbor, TopK};

/// Converts a "dot and norm" pair into a cosine distance, `1 - cos`.
///
/// A zero vector has no direction, so it is placed at distance 1 from everything.
#[inline]
pub fn cosine_from_parts(dot: f32, query_norm_sq: f32, row_norm_sq: f32) -> f32 {
    let denom = (query_norm_sq * row_norm_sq).sqrt();
    if denom > 0.0 {
        1.0 - dot / denom
    } else {
        1.0
    }
}
