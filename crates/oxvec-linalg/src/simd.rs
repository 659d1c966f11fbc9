//! Runtime-dispatched distance kernels.
//!
//! [`kernels`] inspects the CPU once and returns the best table of batch kernels. The batch
//! form (one query against many contiguous rows) matters: the dispatch happens once per block
//! instead of once per row, and the per-row kernels inline into the loop under the same
//! `target_feature`. `OXVEC_SIMD=scalar|avx2|avx512|neon` forces a path, for tests and
//! benchmarks.

use half::f16;
use oxvec_core::Metric;
use std::sync::OnceLock;

use crate::scalar;

/// Batch kernel over f32 rows: distances from `query` to every `query.len()`-wide row of `rows`.
/// `query_norm_sq` is `query·query` (used by cosine only).
pub type BatchF32 = fn(Metric, &[f32], f32, &[f32], &mut [f32]);
/// Batch kernel over f16 rows; the query stays f32.
pub type BatchF16 = fn(Metric, &[f32], f32, &[f16], &mut [f32]);
/// Dot products of every query in `q` (row-major, `dim` each) with every row of `rows`, into
/// `out[i * n + j]` (`n` rows): the multi-query form of the batch kernel, for many queries
/// searched at once. `out` holds at least queries x rows values.
pub type DotTileF32 = fn(&[f32], &[f32], usize, &mut [f32]);
/// [`DotTileF32`] over f16 rows.
pub type DotTileF16 = fn(&[f32], &[f16], usize, &mut [f32]);
/// Inner product of f32 weights with one row of u8 codes.
pub type DotU8 = fn(&[f32], &[u8]) -> f32;
/// Integer inner product of i8 weights with one row of u8 codes.
pub type DotU8I8 = fn(&[i8], &[u8]) -> i32;
/// [`DotU8I8`] against the rows `ids` of a row-major code table, into `out`. Callers
/// guarantee every id is a row of the table.
pub type DotU8I8Rows = fn(&[i8], &[u8], &[u32], &mut [i32]);

/// One instruction set's kernels.
#[derive(Debug)]
pub struct Kernels {
    /// `scalar`, `avx2`, `avx512` or `neon`.
    pub name: &'static str,
    pub distances_f32: BatchF32,
    pub distances_f16: BatchF16,
    pub dot_tile_f32: DotTileF32,
    pub dot_tile_f16: DotTileF16,
    /// `w·c` for u8 codes `c`: scalar-quantized (SQ8) distances reduce to this.
    pub dot_u8: DotU8,
    /// `w·c` in integers (AVX-512 VNNI: 64 byte products per instruction; AVX2: 16 per
    /// widening multiply-add); `None` where that is not faster than [`Kernels::dot_u8`].
    pub dot_u8i8: Option<DotU8I8>,
    /// The gathered form of `dot_u8i8`: four rows per pass share each weight load.
    pub dot_u8i8_rows: Option<DotU8I8Rows>,
}

/// The loop every batch kernel runs: one per metric, the per-row kernels passed in. Each
/// instruction set invokes it inside its own `#[target_feature]` function so that the per-row
/// kernels inline into the loop.
macro_rules! batch_loops {
    ($metric:expr, $q:expr, $qn:expr, $rows:expr, $out:expr, $l2:path, $dot:path, $dn:path) => {{
        let dim = $q.len();
        if dim == 0 {
            $out.iter_mut().for_each(|o| *o = 0.0);
            return;
        }
        // Plain `for` loops, not closures: a closure does not inherit the caller's
        // `#[target_feature]`, which would stop the per-row kernel from inlining.
        let pairs = $rows.chunks_exact(dim).zip($out.iter_mut());
        match $metric {
            Metric::L2 => {
                for (r, o) in pairs {
                    *o = $l2($q, r);
                }
            }
            Metric::Dot => {
                for (r, o) in pairs {
                    *o = 1.0 - $dot($q, r);
                }
            }
            Metric::Cosine => {
                for (r, o) in pairs {
                    let (d, n) = $dn($q, r);
                    *o = $crate::cosine_from_parts(d, $qn, n);
                }
            }
        }
    }};
}

fn scalar_f32(metric: Metric, q: &[f32], qn: f32, rows: &[f32], out: &mut [f32]) {
    batch_loops!(
        metric,
        q,
        qn,
        rows,
        out,
        scalar::l2_sq,
        scalar::dot,
        scalar::dot_norm
    )
}

fn scalar_f16(metric: Metric, q: &[f32], qn: f32, rows: &[f16], out: &mut [f32]) {
    batch_loops!(
        metric,
        q,
        qn,
        rows,
        out,
        scalar::l2_sq_f16,
        scalar::dot_f16,
        scalar::dot_norm_f16
    )
}

/// [`DotTileF32`] one pair at a time.
pub(crate) fn scalar_tile_f32(q: &[f32], rows: &[f32], dim: usize, out: &mut [f32]) {
    scalar_tile(q, rows, dim, out, scalar::dot)
}

/// [`DotTileF16`] one pair at a time.
pub(crate) fn scalar_tile_f16(q: &[f32], rows: &[f16], dim: usize, out: &mut [f32]) {
    scalar_tile(q, rows, dim, out, scalar::dot_f16)
}

fn scalar_tile<T>(
    q: &[f32],
    rows: &[T],
    dim: usize,
    out: &mut [f32],
    dot: fn(&[f32], &[T]) -> f32,
) {
    if dim == 0 {
        out.iter_mut().for_each(|o| *o = 0.0);
        return;
    }
    let n = rows.len() / dim;
    for (i, qi) in q.chunks_exact(dim).enumerate() {
        for (j, r) in rows.chunks_exact(dim).enumerate() {
            out[i * n + j] = dot(qi, r);
        }
    }
}

/// The scalar table, always available.
pub static SCALAR: Kernels = Kernels {
    name: "scalar",
    distances_f32: scalar_f32,
    distances_f16: scalar_f16,
    dot_tile_f32: scalar_tile_f32,
    dot_tile_f16: scalar_tile_f16,
    dot_u8: scalar::dot_u8,
    dot_u8i8: None,
    dot_u8i8_rows: None,
};

#[cfg(target_arch = "x86_64")]
mod x86;
#[cfg(target_arch = "x86_64")]
pub use x86::{avx2_kernels, avx512_kernels, avx512_vnni_kernels};

#[cfg(target_arch = "aarch64")]
mod neon;
#[cfg(target_arch = "aarch64")]
pub use neon::neon_kernels;

fn detect() -> &'static Kernels {
    let forced = std::env::var("OXVEC_SIMD").ok();
    let want = |name: &str| forced.as_deref().is_none_or(|f| f == name);
    if forced.as_deref() == Some("scalar") {
        return &SCALAR;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if want("avx512") {
            if let Some(k) = avx512_vnni_kernels() {
                return k;
            }
            if let Some(k) = avx512_kernels() {
                return k;
            }
        }
        if want("avx2") {
            if let Some(k) = avx2_kernels() {
                return k;
            }
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if want("neon") {
            return neon_kernels();
        }
    }
    let _ = want;
    &SCALAR
}

/// Every instruction set's table this CPU can run, scalar first: for benchmarks and tests
/// that compare them on the same inputs. Where one instruction set has two tables (AVX-512
/// with and without VNNI), the richer one.
pub fn kernel_tables() -> Vec<&'static Kernels> {
    let mut t = vec![&SCALAR];
    #[cfg(target_arch = "x86_64")]
    t.extend(
        avx2_kernels()
            .into_iter()
            .chain(avx512_vnni_kernels().or_else(avx512_kernels)),
    );
    #[cfg(target_arch = "aarch64")]
    t.push(neon_kernels());
    t
}

/// The best kernels this CPU supports, detected once.
pub fn kernels() -> &'static Kernels {
    static CHOSEN: OnceLock<&'static Kernels> = OnceLock::new();
    CHOSEN.get_or_init(detect)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator so the tests need no extra crate.
    fn values(seed: u64, n: usize) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
            })
            .collect()
    }

    fn all_tables() -> Vec<&'static Kernels> {
        let mut t = vec![&SCALAR];
        #[cfg(target_arch = "x86_64")]
        t.extend(
            avx2_kernels()
                .into_iter()
                .chain(avx512_kernels())
                .chain(avx512_vnni_kernels()),
        );
        #[cfg(target_arch = "aarch64")]
        t.push(neon_kernels());
        t
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() <= 1e-4 * (1.0 + a.abs().max(b.abs()))
    }

    #[test]
    fn every_path_matches_the_scalar_reference() {
        for dim in [1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, 128, 129, 384, 1000] {
            let q = values(dim as u64, dim);
            let rows = values(dim as u64 + 99, dim * 9);
            let rows16: Vec<f16> = rows.iter().map(|&x| f16::from_f32(x)).collect();
            let qn = scalar::dot(&q, &q);
            for metric in [Metric::L2, Metric::Dot, Metric::Cosine] {
                let mut want = vec![0.0; 9];
                let mut want16 = vec![0.0; 9];
                scalar_f32(metric, &q, qn, &rows, &mut want);
                scalar_f16(metric, &q, qn, &rows16, &mut want16);
                for k in all_tables() {
                    let mut got = vec![0.0; 9];
                    (k.distances_f32)(metric, &q, qn, &rows, &mut got);
                    for (g, w) in got.iter().zip(&want) {
                        assert!(
                            close(*g, *w),
                            "{} f32 {metric:?} dim {dim}: {g} vs {w}",
                            k.name
                        );
                    }
                    (k.distances_f16)(metric, &q, qn, &rows16, &mut got);
                    for (g, w) in got.iter().zip(&want16) {
                        assert!(
                            close(*g, *w),
                            "{} f16 {metric:?} dim {dim}: {g} vs {w}",
                            k.name
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_tile_path_matches_the_scalar_reference() {
        // Query and row counts around the tile sizes (4 x 4, 2 x 4), so edges are covered.
        for dim in [1, 3, 8, 15, 16, 17, 33, 100, 384] {
            for (m, n) in [(1, 1), (2, 3), (4, 4), (5, 9), (7, 13), (12, 8)] {
                let q = values(dim as u64 + m as u64, dim * m);
                let rows = values(dim as u64 + 7 * n as u64, dim * n);
                let rows16: Vec<f16> = rows.iter().map(|&x| f16::from_f32(x)).collect();
                let mut want = vec![0.0; m * n];
                let mut want16 = vec![0.0; m * n];
                scalar_tile_f32(&q, &rows, dim, &mut want);
                scalar_tile_f16(&q, &rows16, dim, &mut want16);
                for k in all_tables() {
                    let check = |what: &str, want: &[f32], run: &dyn Fn(&mut [f32])| {
                        let mut got = vec![f32::NAN; m * n];
                        run(&mut got);
                        for (g, w) in got.iter().zip(want) {
                            assert!(
                                close(*g, *w),
                                "{} tile {what} {m}x{n} dim {dim}: {g} vs {w}",
                                k.name
                            );
                        }
                    };
                    check("f32", &want, &|got| (k.dot_tile_f32)(&q, &rows, dim, got));
                    check("f16", &want16, &|got| {
                        (k.dot_tile_f16)(&q, &rows16, dim, got)
                    });
                }
            }
        }
    }

    #[test]
    fn u8_paths_match_the_scalar_reference() {
        for dim in [1, 7, 15, 16, 17, 31, 32, 33, 64, 100, 128, 129, 384] {
            let w = values(dim as u64 + 5, dim);
            let c: Vec<u8> = values(dim as u64 + 7, dim)
                .iter()
                .map(|x| ((x + 1.0) * 127.9) as u8)
                .collect();
            let want = scalar::dot_u8(&w, &c);
            for k in all_tables() {
                let got = (k.dot_u8)(&w, &c);
                assert!(
                    close(got, want),
                    "{} dot_u8 dim {dim}: {got} vs {want}",
                    k.name
                );
            }
        }
    }

    #[test]
    fn integer_u8_paths_match_the_scalar_reference() {
        for dim in [1, 7, 15, 16, 17, 31, 32, 33, 64, 100, 128, 129, 384, 1000] {
            let rows = 9;
            let mut w: Vec<i8> = values(dim as u64 + 11, dim)
                .iter()
                .map(|x| (x * 127.0) as i8)
                .collect();
            let mut codes: Vec<u8> = values(dim as u64 + 13, dim * rows)
                .iter()
                .map(|x| ((x + 1.0) * 127.9) as u8)
                .collect();
            // Extremes on the last row: the largest products, all of one sign, must not
            // saturate anywhere.
            w[..dim / 2].fill(-127);
            codes[(rows - 1) * dim..].fill(255);
            let ids: Vec<u32> = (0..rows as u32).rev().chain([3, 3]).collect();
            let mut want = vec![0; ids.len()];
            scalar::dot_u8i8_rows(&w, &codes, &ids, &mut want);
            for k in all_tables() {
                let (Some(one), Some(many)) = (k.dot_u8i8, k.dot_u8i8_rows) else {
                    continue;
                };
                for (&id, &wv) in ids.iter().zip(&want) {
                    let row = &codes[id as usize * dim..(id as usize + 1) * dim];
                    assert_eq!(one(&w, row), wv, "{} dot_u8i8 dim {dim}", k.name);
                }
                let mut got = vec![0; ids.len()];
                many(&w, &codes, &ids, &mut got);
                assert_eq!(got, want, "{} dot_u8i8_rows dim {dim}", k.name);
            }
        }
    }

    #[test]
    fn reference_values_are_right() {
        let a = [1.0, 2.0, 3.0];
        let b = [4.0, 6.0, 8.0];
        assert_eq!(scalar::l2_sq(&a, &b), 9.0 + 16.0 + 25.0);
        assert_eq!(scalar::dot(&a, &b), 4.0 + 12.0 + 24.0);
        let mut out = [0.0];
        scalar_f32(Metric::Cosine, &a, 14.0, &a, &mut out);
        assert!(out[0].abs() < 1e-6);
        scalar_f32(Metric::Cosine, &a, 14.0, &[0.0, 0.0, 0.0], &mut out);
        assert_eq!(out[0], 1.0);
    }

    #[test]
    fn dispatch_picks_a_table() {
        assert!(["scalar", "avx2", "avx512", "neon"].contains(&kernels().name));
    }
}
