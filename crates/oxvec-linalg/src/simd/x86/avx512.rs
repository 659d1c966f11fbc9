//! AVX-512 (F, BW, VL) kernels: the shared float kernels at 16 lanes with masked tails, and
//! a four-row form for L2 and dot that keeps four memory streams in flight.

use super::lanes::{self, Lanes, RowElem};
use half::f16;
use oxvec_core::Metric;
use std::arch::x86_64::*;

/// How far ahead (in elements) the four-row kernel prefetches each row stream.
const PREFETCH: usize = 256;

/// Sixteen f32 lanes.
#[derive(Clone, Copy)]
pub struct Avx512(__m512);

/// The mask of the first `n < 16` lanes.
#[inline(always)]
fn mask16(n: usize) -> __mmask16 {
    (1u16 << n) - 1
}

// SAFETY: every method runs AVX-512 F/BW/VL instructions; callers check the CPU first (the
// tables in `super` are only handed out after `is_x86_feature_detected!`).
unsafe impl Lanes for Avx512 {
    const WIDTH: usize = 16;
    const MASKED_TAIL: bool = true;
    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: the trait's contract (AVX-512F available).
        Avx512(unsafe { _mm512_setzero_ps() })
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: `p` points to 16 readable f32s (the trait's contract).
        Avx512(unsafe { _mm512_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn load_tail(p: *const f32, n: usize) -> Self {
        // SAFETY: the masked load reads only the first `n` f32s, which are readable.
        Avx512(unsafe { _mm512_maskz_loadu_ps(mask16(n), p) })
    }
    #[inline(always)]
    unsafe fn load_u8(p: *const u8) -> Self {
        // SAFETY: `p` points to 16 readable bytes (the trait's contract).
        Avx512(unsafe {
            _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(p as *const __m128i)))
        })
    }
    #[inline(always)]
    unsafe fn load_u8_tail(p: *const u8, n: usize) -> Self {
        // SAFETY: the masked load reads only the first `n` bytes, which are readable.
        Avx512(unsafe {
            _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(
                mask16(n),
                p as *const i8,
            )))
        })
    }
    #[inline(always)]
    unsafe fn sub(a: Self, b: Self) -> Self {
        // SAFETY: the trait's contract.
        Avx512(unsafe { _mm512_sub_ps(a.0, b.0) })
    }
    #[inline(always)]
    unsafe fn add(a: Self, b: Self) -> Self {
        // SAFETY: the trait's contract.
        Avx512(unsafe { _mm512_add_ps(a.0, b.0) })
    }
    #[inline(always)]
    unsafe fn fmadd(a: Self, b: Self, c: Self) -> Self {
        // SAFETY: the trait's contract.
        Avx512(unsafe { _mm512_fmadd_ps(a.0, b.0, c.0) })
    }
    #[inline(always)]
    unsafe fn sum(self) -> f32 {
        // SAFETY: the trait's contract.
        unsafe { _mm512_reduce_add_ps(self.0) }
    }
}

// SAFETY: loads of 16 f32s (AVX-512F), as `Lanes` requires.
unsafe impl RowElem<Avx512> for f32 {
    #[inline(always)]
    unsafe fn load(p: *const Self) -> Avx512 {
        // SAFETY: the trait's contract.
        unsafe { Avx512::load(p) }
    }
    #[inline(always)]
    unsafe fn load_tail(p: *const Self, n: usize) -> Avx512 {
        // SAFETY: the trait's contract.
        unsafe { Avx512::load_tail(p, n) }
    }
    #[inline(always)]
    fn widen(self) -> f32 {
        self
    }
}

// SAFETY: loads of 16 halves widened by AVX-512F, as `Lanes` requires.
unsafe impl RowElem<Avx512> for f16 {
    #[inline(always)]
    unsafe fn load(p: *const Self) -> Avx512 {
        // SAFETY: `p` points to 16 readable halves (32 bytes).
        Avx512(unsafe { _mm512_cvtph_ps(_mm256_loadu_si256(p as *const __m256i)) })
    }
    #[inline(always)]
    unsafe fn load_tail(p: *const Self, n: usize) -> Avx512 {
        // SAFETY: the masked load (AVX-512BW/VL) reads only the first `n` halves.
        Avx512(unsafe { _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask16(n), p as *const i16)) })
    }
    #[inline(always)]
    fn widen(self) -> f32 {
        self.to_f32()
    }
}

/// One step of [`four`]: `acc + x·y` or `acc + (x-y)²`.
///
/// # Safety
///
/// The CPU has AVX-512F.
#[inline(always)]
unsafe fn step<const SUB: bool>(x: Avx512, y: Avx512, acc: Avx512) -> Avx512 {
    // SAFETY: the contract.
    unsafe {
        if SUB {
            let d = Avx512::sub(x, y);
            Avx512::fmadd(d, d, acc)
        } else {
            Avx512::fmadd(x, y, acc)
        }
    }
}

/// Dot products (`SUB = false`) or squared L2 distances (`SUB = true`) of `q` with four
/// rows at once: each query load serves four rows, and four independent streams keep more
/// memory requests in flight than one row at a time.
///
/// # Safety
///
/// The CPU has AVX-512 F/BW/VL, and every row is at least `q.len()` long.
#[inline(always)]
unsafe fn four<T: RowElem<Avx512>, const SUB: bool>(q: &[f32], rows: [&[T]; 4]) -> [f32; 4] {
    let n = q.len();
    let pq = q.as_ptr();
    let p = rows.map(|r| r.as_ptr());
    let mut i = 0;
    // SAFETY: full loads read `[i, i + 16)` with `i + 16 <= n` of the query and of every
    // row (each at least `n` long); the tail is masked; prefetches never fault.
    unsafe {
        let mut acc = [Avx512::zero(); 4];
        while i + 16 <= n {
            let x = Avx512::load(pq.add(i));
            for j in 0..4 {
                // Ask for the line PREFETCH elements ahead: the hardware prefetcher alone
                // does not keep four streams fed (measured: 2x slower than with it).
                _mm_prefetch::<_MM_HINT_T0>(p[j].wrapping_add(i + PREFETCH) as *const i8);
                acc[j] = step::<SUB>(x, T::load(p[j].add(i)), acc[j]);
            }
            i += 16;
        }
        if i < n {
            let x = Avx512::load_tail(pq.add(i), n - i);
            for j in 0..4 {
                acc[j] = step::<SUB>(x, T::load_tail(p[j].add(i), n - i), acc[j]);
            }
        }
        acc.map(|a| a.sum())
    }
}

/// L2 (`SUB`) or dot distances of `q` to every row, four rows at a time.
///
/// # Safety
///
/// The CPU has AVX-512 F/BW/VL.
#[inline(always)]
unsafe fn batch4<T: RowElem<Avx512>, const SUB: bool>(q: &[f32], rows: &[T], out: &mut [f32]) {
    let dim = q.len();
    let mut groups = rows.chunks_exact(4 * dim);
    let mut outs = out.chunks_exact_mut(4);
    for (g, o) in (&mut groups).zip(&mut outs) {
        let r = [
            &g[..dim],
            &g[dim..2 * dim],
            &g[2 * dim..3 * dim],
            &g[3 * dim..],
        ];
        // SAFETY: the contract; each row is exactly `dim` long.
        let d = unsafe { four::<T, SUB>(q, r) };
        for j in 0..4 {
            o[j] = if SUB { d[j] } else { 1.0 - d[j] };
        }
    }
    for (r, o) in groups
        .remainder()
        .chunks_exact(dim)
        .zip(outs.into_remainder())
    {
        // SAFETY: the contract.
        *o = unsafe {
            if SUB {
                lanes::l2::<Avx512, T>(q, r)
            } else {
                1.0 - lanes::dot::<Avx512, T>(q, r)
            }
        };
    }
}

/// Dot products of every query with every row (see [`crate::simd::DotTileF32`]): tiles of
/// 4 queries x 4 rows, 16 of the 32 registers accumulating.
///
/// # Safety
///
/// The CPU has AVX-512 F/BW/VL.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub unsafe fn dot_tile<T: RowElem<Avx512>>(q: &[f32], rows: &[T], dim: usize, out: &mut [f32]) {
    // SAFETY: this function's contract gives the shared kernel its instruction set.
    unsafe { lanes::dot_tile::<Avx512, T, 4, 4>(q, rows, dim, out) }
}

/// Distances from `q` to every row (see [`crate::simd::BatchF32`]).
///
/// # Safety
///
/// The CPU has AVX-512 F/BW/VL.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub unsafe fn batch<T: RowElem<Avx512>>(
    metric: Metric,
    q: &[f32],
    qn: f32,
    rows: &[T],
    out: &mut [f32],
) {
    if !q.is_empty() {
        match metric {
            // SAFETY: this function's contract.
            Metric::L2 => return unsafe { batch4::<T, true>(q, rows, out) },
            // SAFETY: this function's contract.
            Metric::Dot => return unsafe { batch4::<T, false>(q, rows, out) },
            Metric::Cosine => {}
        }
    }
    // SAFETY: this function's contract gives the shared kernels their instruction set.
    unsafe {
        batch_loops!(
            metric,
            q,
            qn,
            rows,
            out,
            lanes::l2::<Avx512, T>,
            lanes::dot::<Avx512, T>,
            lanes::dot_norm::<Avx512, T, true>
        )
    }
}

/// `w·c` with 16 codes widened to f32 per step, two accumulators, masked tail.
///
/// # Safety
///
/// The CPU has AVX-512 F/BW/VL.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub unsafe fn dot_u8(w: &[f32], c: &[u8]) -> f32 {
    // SAFETY: this function's contract.
    unsafe { lanes::dot_u8::<Avx512>(w, c) }
}
