//! AVX2+FMA(+F16C) and AVX-512 kernels. Each table is only handed out after the CPU has been
//! checked for its features, which is what makes the `unsafe` calls below sound.

use super::{BatchF16, BatchF32, Kernels};
use half::f16;
use oxvec_core::Metric;
use std::arch::x86_64::*;

mod avx2 {
    use super::*;

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn hsum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps::<0b01>(s, s));
        _mm_cvtss_f32(s)
    }

    /// Loads 8 lanes of the row at `i`, widening halves to f32.
    pub trait Lanes: Copy {
        unsafe fn load8(p: *const Self) -> __m256;
        fn widen(self) -> f32;
    }
    impl Lanes for f32 {
        #[inline(always)]
        unsafe fn load8(p: *const Self) -> __m256 {
            unsafe { _mm256_loadu_ps(p) }
        }
        #[inline(always)]
        fn widen(self) -> f32 {
            self
        }
    }
    impl Lanes for f16 {
        #[inline(always)]
        unsafe fn load8(p: *const Self) -> __m256 {
            unsafe { _mm256_cvtph_ps(_mm_loadu_si128(p as *const __m128i)) }
        }
        #[inline(always)]
        fn widen(self) -> f32 {
            self.to_f32()
        }
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn l2<T: Lanes>(a: &[f32], b: &[T]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        unsafe {
            while i + 32 <= n {
                for (j, lane) in acc.iter_mut().enumerate() {
                    let d = _mm256_sub_ps(
                        _mm256_loadu_ps(pa.add(i + 8 * j)),
                        T::load8(pb.add(i + 8 * j)),
                    );
                    *lane = _mm256_fmadd_ps(d, d, *lane);
                }
                i += 32;
            }
            while i + 8 <= n {
                let d = _mm256_sub_ps(_mm256_loadu_ps(pa.add(i)), T::load8(pb.add(i)));
                acc[0] = _mm256_fmadd_ps(d, d, acc[0]);
                i += 8;
            }
            let mut s = hsum(_mm256_add_ps(
                _mm256_add_ps(acc[0], acc[1]),
                _mm256_add_ps(acc[2], acc[3]),
            ));
            for k in i..n {
                let d = a[k] - b[k].widen();
                s += d * d;
            }
            s
        }
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn dot_norm<T: Lanes, const NORM: bool>(a: &[f32], b: &[T]) -> (f32, f32) {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut nacc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        unsafe {
            while i + 32 <= n {
                for j in 0..4 {
                    let y = T::load8(pb.add(i + 8 * j));
                    acc[j] = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i + 8 * j)), y, acc[j]);
                    if NORM {
                        nacc[j] = _mm256_fmadd_ps(y, y, nacc[j]);
                    }
                }
                i += 32;
            }
            while i + 8 <= n {
                let y = T::load8(pb.add(i));
                acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), y, acc[0]);
                if NORM {
                    nacc[0] = _mm256_fmadd_ps(y, y, nacc[0]);
                }
                i += 8;
            }
            let mut d = hsum(_mm256_add_ps(
                _mm256_add_ps(acc[0], acc[1]),
                _mm256_add_ps(acc[2], acc[3]),
            ));
            let mut m = hsum(_mm256_add_ps(
                _mm256_add_ps(nacc[0], nacc[1]),
                _mm256_add_ps(nacc[2], nacc[3]),
            ));
            for k in i..n {
                let y = b[k].widen();
                d += a[k] * y;
                m += y * y;
            }
            (d, m)
        }
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn dot<T: Lanes>(a: &[f32], b: &[T]) -> f32 {
        unsafe { dot_norm::<T, false>(a, b).0 }
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn batch<T: Lanes>(metric: Metric, q: &[f32], qn: f32, rows: &[T], out: &mut [f32]) {
        unsafe {
            batch_loops!(
                metric,
                q,
                qn,
                rows,
                out,
                l2::<T>,
                dot::<T>,
                dot_norm::<T, true>
            )
        }
    }
}

mod avx512 {
    use super::*;

    /// How far ahead (in elements) the four-row kernel prefetches each row stream.
    const PREFETCH: usize = 256;

    pub trait Lanes: Copy {
        unsafe fn load16(p: *const Self) -> __m512;
        unsafe fn load_tail(p: *const Self, m: __mmask16) -> __m512;
    }
    impl Lanes for f32 {
        #[inline(always)]
        unsafe fn load16(p: *const Self) -> __m512 {
            unsafe { _mm512_loadu_ps(p) }
        }
        #[inline(always)]
        unsafe fn load_tail(p: *const Self, m: __mmask16) -> __m512 {
            unsafe { _mm512_maskz_loadu_ps(m, p) }
        }
    }
    impl Lanes for f16 {
        #[inline(always)]
        unsafe fn load16(p: *const Self) -> __m512 {
            unsafe { _mm512_cvtph_ps(_mm256_loadu_si256(p as *const __m256i)) }
        }
        #[inline(always)]
        unsafe fn load_tail(p: *const Self, m: __mmask16) -> __m512 {
            unsafe { _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p as *const i16)) }
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    unsafe fn l2<T: Lanes>(a: &[f32], b: &[T]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm512_setzero_ps(); 4];
        let mut i = 0;
        unsafe {
            while i + 64 <= n {
                for (j, lane) in acc.iter_mut().enumerate() {
                    let d = _mm512_sub_ps(
                        _mm512_loadu_ps(pa.add(i + 16 * j)),
                        T::load16(pb.add(i + 16 * j)),
                    );
                    *lane = _mm512_fmadd_ps(d, d, *lane);
                }
                i += 64;
            }
            while i + 16 <= n {
                let d = _mm512_sub_ps(_mm512_loadu_ps(pa.add(i)), T::load16(pb.add(i)));
                acc[0] = _mm512_fmadd_ps(d, d, acc[0]);
                i += 16;
            }
            if i < n {
                let m: __mmask16 = (1u16 << (n - i)) - 1;
                let d = _mm512_sub_ps(
                    _mm512_maskz_loadu_ps(m, pa.add(i)),
                    T::load_tail(pb.add(i), m),
                );
                acc[1] = _mm512_fmadd_ps(d, d, acc[1]);
            }
            _mm512_reduce_add_ps(_mm512_add_ps(
                _mm512_add_ps(acc[0], acc[1]),
                _mm512_add_ps(acc[2], acc[3]),
            ))
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    unsafe fn dot_norm<T: Lanes, const NORM: bool>(a: &[f32], b: &[T]) -> (f32, f32) {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm512_setzero_ps(); 4];
        let mut nacc = [_mm512_setzero_ps(); 4];
        let mut i = 0;
        unsafe {
            while i + 64 <= n {
                for j in 0..4 {
                    let y = T::load16(pb.add(i + 16 * j));
                    acc[j] = _mm512_fmadd_ps(_mm512_loadu_ps(pa.add(i + 16 * j)), y, acc[j]);
                    if NORM {
                        nacc[j] = _mm512_fmadd_ps(y, y, nacc[j]);
                    }
                }
                i += 64;
            }
            while i + 16 <= n {
                let y = T::load16(pb.add(i));
                acc[0] = _mm512_fmadd_ps(_mm512_loadu_ps(pa.add(i)), y, acc[0]);
                if NORM {
                    nacc[0] = _mm512_fmadd_ps(y, y, nacc[0]);
                }
                i += 16;
            }
            if i < n {
                let m: __mmask16 = (1u16 << (n - i)) - 1;
                let y = T::load_tail(pb.add(i), m);
                acc[1] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, pa.add(i)), y, acc[1]);
                if NORM {
                    nacc[1] = _mm512_fmadd_ps(y, y, nacc[1]);
                }
            }
            let d = _mm512_reduce_add_ps(_mm512_add_ps(
                _mm512_add_ps(acc[0], acc[1]),
                _mm512_add_ps(acc[2], acc[3]),
            ));
            let m = _mm512_reduce_add_ps(_mm512_add_ps(
                _mm512_add_ps(nacc[0], nacc[1]),
                _mm512_add_ps(nacc[2], nacc[3]),
            ));
            (d, m)
        }
    }

    /// Dot products (`SUB = false`) or squared L2 distances (`SUB = true`) of `q` with four
    /// rows at once: each query load serves four rows, and four independent streams keep
    /// more memory requests in flight than one row at a time.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    unsafe fn four<T: Lanes, const SUB: bool>(q: &[f32], rows: [&[T]; 4]) -> [f32; 4] {
        let n = q.len();
        let pq = q.as_ptr();
        let p = rows.map(|r| r.as_ptr());
        let mut acc = [_mm512_setzero_ps(); 4];
        let mut i = 0;
        unsafe {
            while i + 16 <= n {
                let x = _mm512_loadu_ps(pq.add(i));
                for j in 0..4 {
                    // Ask for the line PREFETCH elements ahead: the hardware prefetcher alone
                    // does not keep four streams fed (measured: 2x slower than with it).
                    _mm_prefetch::<_MM_HINT_T0>(p[j].wrapping_add(i + PREFETCH) as *const i8);
                    let y = T::load16(p[j].add(i));
                    acc[j] = if SUB {
                        let d = _mm512_sub_ps(x, y);
                        _mm512_fmadd_ps(d, d, acc[j])
                    } else {
                        _mm512_fmadd_ps(x, y, acc[j])
                    };
                }
                i += 16;
            }
            if i < n {
                let m: __mmask16 = (1u16 << (n - i)) - 1;
                let x = _mm512_maskz_loadu_ps(m, pq.add(i));
                for j in 0..4 {
                    let y = T::load_tail(p[j].add(i), m);
                    acc[j] = if SUB {
                        let d = _mm512_sub_ps(x, y);
                        _mm512_fmadd_ps(d, d, acc[j])
                    } else {
                        _mm512_fmadd_ps(x, y, acc[j])
                    };
                }
            }
            [
                _mm512_reduce_add_ps(acc[0]),
                _mm512_reduce_add_ps(acc[1]),
                _mm512_reduce_add_ps(acc[2]),
                _mm512_reduce_add_ps(acc[3]),
            ]
        }
    }

    /// L2 (`SUB`) or dot distances of `q` to every row, four rows at a time.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    unsafe fn batch4<T: Lanes, const SUB: bool>(q: &[f32], rows: &[T], out: &mut [f32]) {
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
            *o = unsafe {
                if SUB {
                    l2(q, r)
                } else {
                    1.0 - dot(q, r)
                }
            };
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    unsafe fn dot<T: Lanes>(a: &[f32], b: &[T]) -> f32 {
        unsafe { dot_norm::<T, false>(a, b).0 }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    pub unsafe fn batch<T: Lanes>(metric: Metric, q: &[f32], qn: f32, rows: &[T], out: &mut [f32]) {
        if !q.is_empty() {
            match metric {
                Metric::L2 => return unsafe { batch4::<T, true>(q, rows, out) },
                Metric::Dot => return unsafe { batch4::<T, false>(q, rows, out) },
                Metric::Cosine => {}
            }
        }
        unsafe {
            batch_loops!(
                metric,
                q,
                qn,
                rows,
                out,
                l2::<T>,
                dot::<T>,
                dot_norm::<T, true>
            )
        }
    }
}

/// `w·c` with AVX2: 8 codes widened to f32 per step.
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_u8_avx2_impl(w: &[f32], c: &[u8]) -> f32 {
    let n = w.len().min(c.len());
    let (pw, pc) = (w.as_ptr(), c.as_ptr());
    let mut acc0 = _mm256_setzero_ps();
    let mut acc1 = _mm256_setzero_ps();
    let mut i = 0;
    // SAFETY: every load reads inside `[0, n)` of both slices.
    unsafe {
        while i + 16 <= n {
            let c0 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(
                pc.add(i) as *const __m128i
            )));
            let c1 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(
                pc.add(i + 8) as *const __m128i
            )));
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(pw.add(i)), c0, acc0);
            acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(pw.add(i + 8)), c1, acc1);
            i += 16;
        }
        let s = _mm256_add_ps(acc0, acc1);
        let s4 = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps::<1>(s));
        let s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
        let s4 = _mm_add_ss(s4, _mm_shuffle_ps::<0b01>(s4, s4));
        let mut sum = _mm_cvtss_f32(s4);
        while i < n {
            sum += *pw.add(i) * *pc.add(i) as f32;
            i += 1;
        }
        sum
    }
}

/// `w·c` with AVX-512: 16 codes widened to f32 per step, two accumulators.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
unsafe fn dot_u8_avx512_impl(w: &[f32], c: &[u8]) -> f32 {
    let n = w.len().min(c.len());
    let (pw, pc) = (w.as_ptr(), c.as_ptr());
    let mut acc0 = _mm512_setzero_ps();
    let mut acc1 = _mm512_setzero_ps();
    let mut i = 0;
    // SAFETY: every load reads inside `[0, n)` of both slices; the tail uses masked loads.
    unsafe {
        while i + 32 <= n {
            let c0 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(
                pc.add(i) as *const __m128i
            )));
            let c1 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(
                pc.add(i + 16) as *const __m128i
            )));
            acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(pw.add(i)), c0, acc0);
            acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(pw.add(i + 16)), c1, acc1);
            i += 32;
        }
        while i < n {
            let left = (n - i).min(16);
            let m: __mmask16 = if left == 16 {
                0xffff
            } else {
                (1u16 << left) - 1
            };
            let c0 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(
                m,
                pc.add(i) as *const i8,
            )));
            acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, pw.add(i)), c0, acc0);
            i += left;
        }
        _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1))
    }
}

/// Sum of the eight i32 lanes.
#[target_feature(enable = "avx2")]
fn hsum_epi32_avx2(v: __m256i) -> i32 {
    let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
    _mm_cvtsi128_si32(s)
}

/// `w·c` with AVX2 in integers: 16 codes and weights widened to i16, products summed in
/// pairs into i32 by `vpmaddwd`, exactly (255 * 127 * 2 is far from overflowing). Four
/// instructions per 16 dimensions where the f32 path (`dot_u8_avx2_impl`) needs six; the
/// saturating one-instruction `vpmaddubsw` is not used because two products of 255 * 127
/// overflow its i16 sums.
#[target_feature(enable = "avx2")]
unsafe fn dot_u8i8_avx2_impl(w: &[i8], c: &[u8]) -> i32 {
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
        let mut sum = hsum_epi32_avx2(_mm256_add_epi32(acc0, acc1));
        while i < n {
            sum += i32::from(*pw.add(i)) * i32::from(*pc.add(i));
            i += 1;
        }
        sum
    }
}

/// Four gathered rows per pass with AVX2: each block of 16 weights is widened once for four
/// rows, which also keeps four independent accumulation chains in flight.
#[target_feature(enable = "avx2")]
unsafe fn dot_u8i8_rows_avx2_impl(w: &[i8], codes: &[u8], ids: &[u32], out: &mut [i32]) {
    let d = w.len();
    let n = ids.len().min(out.len());
    let pw = w.as_ptr();
    let full = d / 16;
    let row = |i: u32| -> *const u8 {
        debug_assert!((i as usize + 1) * d <= codes.len());
        // SAFETY (of the pointer's later use): callers guarantee every id is a row.
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
                let mut sum = hsum_epi32_avx2(a);
                for k in full * 16..d {
                    sum += i32::from(*pw.add(k)) * i32::from(*p.add(k));
                }
                *o = sum;
            }
            j += 4;
        }
        while j < n {
            out[j] = dot_u8i8_avx2_impl(w, std::slice::from_raw_parts(row(ids[j]), d));
            j += 1;
        }
    }
}

fn dot_u8i8_avx2(w: &[i8], c: &[u8]) -> i32 {
    // SAFETY: only reachable through AVX2_TABLE (avx2 checked).
    unsafe { dot_u8i8_avx2_impl(w, c) }
}

/// The bounds check the gathered-row kernels' callers owe them: every id is a row of `codes`.
fn assert_rows_in_range(d: usize, codes: &[u8], ids: &[u32]) {
    assert!(
        ids.iter().all(|&i| (i as usize + 1) * d <= codes.len()),
        "dot_u8i8_rows: row id out of range"
    );
}

fn dot_u8i8_rows_avx2(w: &[i8], codes: &[u8], ids: &[u32], out: &mut [i32]) {
    assert_rows_in_range(w.len(), codes, ids);
    // SAFETY: only reachable through AVX2_TABLE; ids checked against the table above.
    unsafe { dot_u8i8_rows_avx2_impl(w, codes, ids, out) }
}

/// `w·c` with AVX-512 VNNI: 64 byte products per `vpdpbusd`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn dot_u8i8_vnni_impl(w: &[i8], c: &[u8]) -> i32 {
    let n = w.len().min(c.len());
    let (pw, pc) = (w.as_ptr(), c.as_ptr());
    let mut acc0 = _mm512_setzero_si512();
    let mut acc1 = _mm512_setzero_si512();
    let mut i = 0;
    // SAFETY: full loads stay inside `[0, n)`; the tail uses a masked load.
    unsafe {
        while i + 128 <= n {
            let c0 = _mm512_loadu_si512(pc.add(i) as *const _);
            let w0 = _mm512_loadu_si512(pw.add(i) as *const _);
            let c1 = _mm512_loadu_si512(pc.add(i + 64) as *const _);
            let w1 = _mm512_loadu_si512(pw.add(i + 64) as *const _);
            acc0 = _mm512_dpbusd_epi32(acc0, c0, w0);
            acc1 = _mm512_dpbusd_epi32(acc1, c1, w1);
            i += 128;
        }
        while i < n {
            let left = (n - i).min(64);
            let m: __mmask64 = if left == 64 {
                u64::MAX
            } else {
                (1u64 << left) - 1
            };
            let c0 = _mm512_maskz_loadu_epi8(m, pc.add(i) as *const i8);
            let w0 = _mm512_maskz_loadu_epi8(m, pw.add(i));
            acc0 = _mm512_dpbusd_epi32(acc0, c0, w0);
            i += left;
        }
        _mm512_reduce_add_epi32(_mm512_add_epi32(acc0, acc1))
    }
}

/// Four gathered rows per pass: each 64-byte block of weights is loaded once for four
/// `vpdpbusd`s, which also keeps four independent accumulation chains in flight.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn dot_u8i8_rows_vnni_impl(w: &[i8], codes: &[u8], ids: &[u32], out: &mut [i32]) {
    let d = w.len();
    let n = ids.len().min(out.len());
    let pw = w.as_ptr();
    let full = d / 64;
    let tail = d % 64;
    let tail_mask: __mmask64 = if tail == 0 { 0 } else { (1u64 << tail) - 1 };
    let row = |i: u32| -> *const u8 {
        debug_assert!((i as usize + 1) * d <= codes.len());
        // SAFETY (of the pointer's later use): callers guarantee every id is a row.
        unsafe { codes.as_ptr().add(i as usize * d) }
    };
    let mut j = 0;
    // SAFETY: rows are `d` bytes inside `codes`; full loads cover `[0, 64 * full)`, the tail
    // is a masked load of the remaining `tail` bytes.
    unsafe {
        while j + 4 <= n {
            let r = [
                row(ids[j]),
                row(ids[j + 1]),
                row(ids[j + 2]),
                row(ids[j + 3]),
            ];
            let mut acc = [_mm512_setzero_si512(); 4];
            for b in 0..full {
                let wv = _mm512_loadu_si512(pw.add(b * 64) as *const _);
                for (a, &p) in acc.iter_mut().zip(&r) {
                    *a = _mm512_dpbusd_epi32(*a, _mm512_loadu_si512(p.add(b * 64) as *const _), wv);
                }
            }
            if tail != 0 {
                let wv = _mm512_maskz_loadu_epi8(tail_mask, pw.add(full * 64));
                for (a, &p) in acc.iter_mut().zip(&r) {
                    let c = _mm512_maskz_loadu_epi8(tail_mask, p.add(full * 64) as *const i8);
                    *a = _mm512_dpbusd_epi32(*a, c, wv);
                }
            }
            for (o, a) in out[j..j + 4].iter_mut().zip(acc) {
                *o = _mm512_reduce_add_epi32(a);
            }
            j += 4;
        }
        while j < n {
            out[j] = dot_u8i8_vnni_impl(w, std::slice::from_raw_parts(row(ids[j]), d));
            j += 1;
        }
    }
}

fn dot_u8i8_rows_vnni(w: &[i8], codes: &[u8], ids: &[u32], out: &mut [i32]) {
    assert_rows_in_range(w.len(), codes, ids);
    // SAFETY: only reachable through AVX512_VNNI_TABLE; ids checked against the table above.
    unsafe { dot_u8i8_rows_vnni_impl(w, codes, ids, out) }
}

fn dot_u8i8_vnni(w: &[i8], c: &[u8]) -> i32 {
    // SAFETY: only reachable through AVX512_VNNI_TABLE (avx512f/bw/vl/vnni checked).
    unsafe { dot_u8i8_vnni_impl(w, c) }
}

fn dot_u8_avx2(w: &[f32], c: &[u8]) -> f32 {
    // SAFETY: only reachable through AVX2_TABLE (avx2 and fma checked).
    unsafe { dot_u8_avx2_impl(w, c) }
}
fn dot_u8_avx512(w: &[f32], c: &[u8]) -> f32 {
    // SAFETY: only reachable through AVX512_TABLE (avx512f/bw/vl checked).
    unsafe { dot_u8_avx512_impl(w, c) }
}

fn avx2_f32(m: Metric, q: &[f32], qn: f32, rows: &[f32], out: &mut [f32]) {
    // SAFETY: this function is only reachable through AVX2_TABLE, handed out by
    // `avx2_kernels` after checking avx2, fma and f16c.
    unsafe { avx2::batch(m, q, qn, rows, out) }
}
fn avx2_f16(m: Metric, q: &[f32], qn: f32, rows: &[f16], out: &mut [f32]) {
    // SAFETY: as for `avx2_f32`.
    unsafe { avx2::batch(m, q, qn, rows, out) }
}
fn avx512_f32(m: Metric, q: &[f32], qn: f32, rows: &[f32], out: &mut [f32]) {
    // SAFETY: only reachable through AVX512_TABLE, handed out after checking avx512f/bw/vl.
    unsafe { avx512::batch(m, q, qn, rows, out) }
}
fn avx512_f16(m: Metric, q: &[f32], qn: f32, rows: &[f16], out: &mut [f32]) {
    // SAFETY: as for `avx512_f32`.
    unsafe { avx512::batch(m, q, qn, rows, out) }
}

static AVX2_TABLE: Kernels = Kernels {
    name: "avx2",
    distances_f32: avx2_f32 as BatchF32,
    distances_f16: avx2_f16 as BatchF16,
    dot_u8: dot_u8_avx2,
    dot_u8i8: Some(dot_u8i8_avx2),
    dot_u8i8_rows: Some(dot_u8i8_rows_avx2),
};
static AVX512_TABLE: Kernels = Kernels {
    name: "avx512",
    distances_f32: avx512_f32 as BatchF32,
    distances_f16: avx512_f16 as BatchF16,
    dot_u8: dot_u8_avx512,
    dot_u8i8: None,
    dot_u8i8_rows: None,
};
static AVX512_VNNI_TABLE: Kernels = Kernels {
    name: "avx512",
    distances_f32: avx512_f32 as BatchF32,
    distances_f16: avx512_f16 as BatchF16,
    dot_u8: dot_u8_avx512,
    dot_u8i8: Some(dot_u8i8_vnni),
    dot_u8i8_rows: Some(dot_u8i8_rows_vnni),
};

/// The AVX-512 table with VNNI integer kernels, if this CPU has avx512vnni too.
pub fn avx512_vnni_kernels() -> Option<&'static Kernels> {
    (avx512_kernels().is_some() && is_x86_feature_detected!("avx512vnni"))
        .then_some(&AVX512_VNNI_TABLE)
}

/// The AVX2+FMA+F16C table, if this CPU has those features.
pub fn avx2_kernels() -> Option<&'static Kernels> {
    (is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("fma")
        && is_x86_feature_detected!("f16c"))
    .then_some(&AVX2_TABLE)
}

/// The AVX-512 (F, BW, VL) table, if this CPU has those features.
pub fn avx512_kernels() -> Option<&'static Kernels> {
    (is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vl"))
    .then_some(&AVX512_TABLE)
}
