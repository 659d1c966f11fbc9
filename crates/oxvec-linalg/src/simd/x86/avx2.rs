//! AVX2 (+FMA, F16C) kernels: the shared float kernels at 8 lanes, and the integer SQ8 dot
//! products (`vpmaddwd`).

use super::lanes::{self, Lanes, RowElem};
use half::f16;
use oxvec_core::Metric;
use std::arch::x86_64::*;

/// Eight f32 lanes.
#[derive(Clone, Copy)]
pub struct Avx2(__m256);

// SAFETY: every method runs AVX2/FMA/F16C instructions; callers check the CPU first (the
// table in `super` is only handed out after `is_x86_feature_detected!`).
unsafe impl Lanes for Avx2 {
    const WIDTH: usize = 8;
    const MASKED_TAIL: bool = false;
    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: the trait's contract (AVX available).
        Avx2(unsafe { _mm256_setzero_ps() })
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: `p` points to 8 readable f32s (the trait's contract).
        Avx2(unsafe { _mm256_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn load_tail(_p: *const f32, _n: usize) -> Self {
        unreachable!("AVX2 has no masked loads; callers use the scalar tail")
    }
    #[inline(always)]
    unsafe fn load_u8(p: *const u8) -> Self {
        // SAFETY: `p` points to 8 readable bytes (the trait's contract).
        Avx2(unsafe {
            _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(p as *const __m128i)))
        })
    }
    #[inline(always)]
    unsafe fn load_u8_tail(_p: *const u8, _n: usize) -> Self {
        unreachable!("AVX2 has no masked loads; callers use the scalar tail")
    }
    #[inline(always)]
    unsafe fn sub(a: Self, b: Self) -> Self {
        // SAFETY: the trait's contract (AVX available).
        Avx2(unsafe { _mm256_sub_ps(a.0, b.0) })
    }
    #[inline(always)]
    unsafe fn add(a: Self, b: Self) -> Self {
        // SAFETY: the trait's contract (AVX available).
        Avx2(unsafe { _mm256_add_ps(a.0, b.0) })
    }
    #[inline(always)]
    unsafe fn fmadd(a: Self, b: Self, c: Self) -> Self {
        // SAFETY: the trait's contract (FMA available).
        Avx2(unsafe { _mm256_fmadd_ps(a.0, b.0, c.0) })
    }
    #[inline(always)]
    unsafe fn sum(self) -> f32 {
        let v = self.0;
        // SAFETY: the trait's contract (AVX available).
        unsafe {
            let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
            let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
            let s = _mm_add_ss(s, _mm_shuffle_ps::<0b01>(s, s));
            _mm_cvtss_f32(s)
        }
    }
}

// SAFETY: loads of 8 f32s (AVX), as `Lanes` requires.
unsafe impl RowElem<Avx2> for f32 {
    #[inline(always)]
    unsafe fn load(p: *const Self) -> Avx2 {
        // SAFETY: the trait's contract.
        unsafe { Avx2::load(p) }
    }
    #[inline(always)]
    unsafe fn load_tail(p: *const Self, n: usize) -> Avx2 {
        // SAFETY: never called (no masked tail), as the trait's contract says.
        unsafe { Avx2::load_tail(p, n) }
    }
    #[inline(always)]
    fn widen(self) -> f32 {
        self
    }
}

// SAFETY: loads of 8 halves widened by F16C, as `Lanes` requires.
unsafe impl RowElem<Avx2> for f16 {
    #[inline(always)]
    unsafe fn load(p: *const Self) -> Avx2 {
        // SAFETY: `p` points to 8 readable halves (16 bytes); F16C is available.
        Avx2(unsafe { _mm256_cvtph_ps(_mm_loadu_si128(p as *const __m128i)) })
    }
    #[inline(always)]
    unsafe fn load_tail(_p: *const Self, _n: usize) -> Avx2 {
        unreachable!("AVX2 has no masked loads; callers use the scalar tail")
    }
    #[inline(always)]
    fn widen(self) -> f32 {
        self.to_f32()
    }
}

/// Dot products of every query with every row (see [`crate::simd::DotTileF32`]): tiles of
/// 2 queries x 4 rows, so accumulators, query and row registers fit the 16 available.
///
/// # Safety
///
/// The CPU has AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn dot_tile<T: RowElem<Avx2>>(q: &[f32], rows: &[T], dim: usize, out: &mut [f32]) {
    // SAFETY: this function's contract gives the shared kernel its instruction set.
    unsafe { lanes::dot_tile::<Avx2, T, 2, 4>(q, rows, dim, out) }
}

/// Distances from `q` to every row (see [`crate::simd::BatchF32`]).
///
/// # Safety
///
/// The CPU has AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn batch<T: RowElem<Avx2>>(
    metric: Metric,
    q: &[f32],
    qn: f32,
    rows: &[T],
    out: &mut [f32],
) {
    // SAFETY: this function's contract gives the shared kernels their instruction set.
    unsafe {
        batch_loops!(
            metric,
            q,
            qn,
            rows,
            out,
            lanes::l2::<Avx2, T>,
            lanes::dot::<Avx2, T>,
            lanes::dot_norm::<Avx2, T, true>
        )
    }
}

/// `w·c` with 8 codes widened to f32 per step.
///
/// # Safety
///
/// The CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot_u8(w: &[f32], c: &[u8]) -> f32 {
    // SAFETY: this function's contract.
    unsafe { lanes::dot_u8::<Avx2>(w, c) }
}

/// Sum of the eight i32 lanes.
#[target_feature(enable = "avx2")]
fn hsum_epi32(v: __m256i) -> i32 {
    let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
    _mm_cvtsi128_si32(s)
}

/// `w·c` in integers: 16 codes and weights widened to i16, products summed in pairs into i32
/// by `vpmaddwd`, exactly (255 * 127 * 2 is far from overflowing). Four instructions per 16
/// dimensions where the f32 path (`dot_u8`) needs six; the saturating one-instruction
/// `vpmaddubsw` is not used because two products of 255 * 127 overflow its i16 sums.
///
/// # Safety
///
/// The CPU has AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn dot_u8i8(w: &[i8], c: &[u8]) -> i32 {
    let n = w.len().min(c.len());
    let (pw, pc) = (w.as_ptr(), c.as_ptr());
    let mut acc0 = _mm256_setzero_si256();
    let mut acc1 = _mm256_setzero_si256();
    let mut i = 0;
    // SAFETY: every 16-byte load reads inside `[0, n)` of both slices.
    unsafe {
        let widened = |at: usize| {
            (
                _mm256_cvtepu8_epi16(_mm_loadu_si128(pc.add(at) as *const __m128i)),
                _mm256_cvtepi8_epi16(_mm_loadu_si128(pw.add(at) as *const __m128i)),
            )
        };
        while i + 32 <= n {
            let (c0, w0) = widened(i);
            let (c1, w1) = widened(i + 16);
            acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(c0, w0));
            acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(c1, w1));
            i += 32;
        }
        if i + 16 <= n {
            let (c0, w0) = widened(i);
            acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(c0, w0));
            i += 16;
        }
        let mut sum = hsum_epi32(_mm256_add_epi32(acc0, acc1));
        while i < n {
            sum += i32::from(*pw.add(i)) * i32::from(*pc.add(i));
            i += 1;
        }
        sum
    }
}

/// Four gathered rows per pass: each block of 16 weights is widened once for four rows,
/// which also keeps four independent accumulation chains in flight.
///
/// # Safety
///
/// The CPU has AVX2, and every id is a row of `codes` (`(id + 1) * w.len() <= codes.len()`).
#[target_feature(enable = "avx2")]
pub unsafe fn dot_u8i8_rows(w: &[i8], codes: &[u8], ids: &[u32], out: &mut [i32]) {
    let d = w.len();
    let n = ids.len().min(out.len());
    let pw = w.as_ptr();
    let full = d / 16;
    let row = |i: u32| -> *const u8 {
        debug_assert!((i as usize + 1) * d <= codes.len());
        // SAFETY: the contract says every id is a row, so the offset stays inside `codes`.
        unsafe { codes.as_ptr().add(i as usize * d) }
    };
    let mut j = 0;
    // SAFETY: rows are `d` bytes inside `codes`; vector loads cover `[0, 16 * full)`, the
    // remaining dimensions are read one by one.
    unsafe {
        while j + 4 <= n {
            let r = [
                row(ids[j]),
                row(ids[j + 1]),
                row(ids[j + 2]),
                row(ids[j + 3]),
            ];
            let mut acc = [_mm256_setzero_si256(); 4];
            for b in 0..full {
                let wv = _mm256_cvtepi8_epi16(_mm_loadu_si128(pw.add(b * 16) as *const __m128i));
                for (a, &p) in acc.iter_mut().zip(&r) {
                    let cv = _mm256_cvtepu8_epi16(_mm_loadu_si128(p.add(b * 16) as *const __m128i));
                    *a = _mm256_add_epi32(*a, _mm256_madd_epi16(cv, wv));
                }
            }
            for ((o, a), &p) in out[j..j + 4].iter_mut().zip(acc).zip(&r) {
                let mut sum = hsum_epi32(a);
                for k in full * 16..d {
                    sum += i32::from(*pw.add(k)) * i32::from(*p.add(k));
                }
                *o = sum;
            }
            j += 4;
        }
        while j < n {
            out[j] = dot_u8i8(w, std::slice::from_raw_parts(row(ids[j]), d));
            j += 1;
        }
    }
}
