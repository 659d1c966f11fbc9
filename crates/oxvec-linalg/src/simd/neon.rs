//! NEON kernels for aarch64 (always present there). f16 rows use the scalar path: the f16
//! NEON intrinsics are not stable Rust yet.

use super::{scalar_f16, BatchF16, BatchF32, Kernels};
use oxvec_core::Metric;
use std::arch::aarch64::*;

/// Squared L2 distance (over the shorter length).
///
/// # Safety
///
/// The CPU has NEON (always true on aarch64).
#[inline]
#[target_feature(enable = "neon")]
unsafe fn l2(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [vdupq_n_f32(0.0); 4];
    let mut i = 0;
    // SAFETY: every load reads `[i, i + 4)` with `i + 16 <= n` for the block it is in.
    unsafe {
        while i + 16 <= n {
            for (j, lane) in acc.iter_mut().enumerate() {
                let d = vsubq_f32(vld1q_f32(pa.add(i + 4 * j)), vld1q_f32(pb.add(i + 4 * j)));
                *lane = vfmaq_f32(*lane, d, d);
            }
            i += 16;
        }
        let mut s = vaddvq_f32(vaddq_f32(
            vaddq_f32(acc[0], acc[1]),
            vaddq_f32(acc[2], acc[3]),
        ));
        for k in i..n {
            let d = a[k] - b[k];
            s += d * d;
        }
        s
    }
}

/// `(a·b, b·b)`; the second only when `NORM`.
///
/// # Safety
///
/// The CPU has NEON.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn dot_norm<const NORM: bool>(a: &[f32], b: &[f32]) -> (f32, f32) {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [vdupq_n_f32(0.0); 4];
    let mut nacc = [vdupq_n_f32(0.0); 4];
    let mut i = 0;
    // SAFETY: every load reads `[i, i + 4)` with `i + 16 <= n` for the block it is in.
    unsafe {
        while i + 16 <= n {
            for j in 0..4 {
                let y = vld1q_f32(pb.add(i + 4 * j));
                acc[j] = vfmaq_f32(acc[j], vld1q_f32(pa.add(i + 4 * j)), y);
                if NORM {
                    nacc[j] = vfmaq_f32(nacc[j], y, y);
                }
            }
            i += 16;
        }
        let mut d = vaddvq_f32(vaddq_f32(
            vaddq_f32(acc[0], acc[1]),
            vaddq_f32(acc[2], acc[3]),
        ));
        let mut m = vaddvq_f32(vaddq_f32(
            vaddq_f32(nacc[0], nacc[1]),
            vaddq_f32(nacc[2], nacc[3]),
        ));
        for k in i..n {
            d += a[k] * b[k];
            m += b[k] * b[k];
        }
        (d, m)
    }
}

/// `a·b`.
///
/// # Safety
///
/// The CPU has NEON.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: this function's contract.
    unsafe { dot_norm::<false>(a, b).0 }
}

/// Distances from `q` to every row.
///
/// # Safety
///
/// The CPU has NEON.
#[target_feature(enable = "neon")]
unsafe fn batch(metric: Metric, q: &[f32], qn: f32, rows: &[f32], out: &mut [f32]) {
    // SAFETY: this function's contract.
    unsafe { batch_loops!(metric, q, qn, rows, out, l2, dot, dot_norm::<true>) }
}

fn neon_f32(m: Metric, q: &[f32], qn: f32, rows: &[f32], out: &mut [f32]) {
    // SAFETY: NEON is part of the aarch64 baseline.
    unsafe { batch(m, q, qn, rows, out) }
}

static NEON_TABLE: Kernels = Kernels {
    name: "neon",
    distances_f32: neon_f32 as BatchF32,
    distances_f16: scalar_f16 as BatchF16,
    dot_tile_f32: crate::simd::scalar_tile_f32,
    dot_tile_f16: crate::simd::scalar_tile_f16,
    dot_u8: crate::scalar::dot_u8,
    dot_u8i8: None,
    dot_u8i8_rows: None,
};

/// The NEON table (NEON is always present on aarch64).
pub fn neon_kernels() -> &'static Kernels {
    &NEON_TABLE
}
