//! AVX-512 VNNI integer kernels: SQ8 dot products with `vpdpbusd` (64 byte products per
//! instruction).

use std::arch::x86_64::*;

/// The mask of the first `n < 64` bytes.
#[inline(always)]
fn mask64(n: usize) -> __mmask64 {
    (1u64 << n) - 1
}

/// `w·c` in integers.
///
/// # Safety
///
/// The CPU has AVX-512 F/BW/VL and VNNI.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
pub unsafe fn dot_u8i8(w: &[i8], c: &[u8]) -> i32 {
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
            let m = if left == 64 { u64::MAX } else { mask64(left) };
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
///
/// # Safety
///
/// The CPU has AVX-512 F/BW/VL and VNNI, and every id is a row of `codes`
/// (`(id + 1) * w.len() <= codes.len()`).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
pub unsafe fn dot_u8i8_rows(w: &[i8], codes: &[u8], ids: &[u32], out: &mut [i32]) {
    let d = w.len();
    let n = ids.len().min(out.len());
    let pw = w.as_ptr();
    let full = d / 64;
    let tail = d % 64;
    let tail_mask = mask64(tail);
    let row = |i: u32| -> *const u8 {
        debug_assert!((i as usize + 1) * d <= codes.len());
        // SAFETY: the contract says every id is a row, so the offset stays inside `codes`.
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
            out[j] = dot_u8i8(w, std::slice::from_raw_parts(row(ids[j]), d));
            j += 1;
        }
    }
}
