//! x86-64 kernels, one file per instruction set: [`avx2`] (AVX2 + FMA + F16C), [`avx512`]
//! (AVX-512 F/BW/VL) and [`vnni`] (AVX-512 VNNI integer dot products); the float kernels two
//! widths share are written once in [`lanes`].
//!
//! Each table below is only handed out after the CPU has been checked for its features:
//! that check is what makes every safe wrapper's `unsafe` call sound.

mod avx2;
mod avx512;
mod lanes;
mod vnni;

use super::{BatchF16, BatchF32, Kernels};
use half::f16;
use oxvec_core::Metric;

fn avx2_f32(m: Metric, q: &[f32], qn: f32, rows: &[f32], out: &mut [f32]) {
    // SAFETY: only reachable through AVX2_TABLE, handed out by `avx2_kernels` after checking
    // avx2, fma and f16c.
    unsafe { avx2::batch(m, q, qn, rows, out) }
}
fn avx2_f16(m: Metric, q: &[f32], qn: f32, rows: &[f16], out: &mut [f32]) {
    // SAFETY: as for `avx2_f32`.
    unsafe { avx2::batch(m, q, qn, rows, out) }
}
fn avx2_tile_f32(q: &[f32], rows: &[f32], dim: usize, out: &mut [f32]) {
    // SAFETY: as for `avx2_f32`.
    unsafe { avx2::dot_tile(q, rows, dim, out) }
}
fn avx2_tile_f16(q: &[f32], rows: &[f16], dim: usize, out: &mut [f32]) {
    // SAFETY: as for `avx2_f32`.
    unsafe { avx2::dot_tile(q, rows, dim, out) }
}
fn dot_u8_avx2(w: &[f32], c: &[u8]) -> f32 {
    // SAFETY: as for `avx2_f32`.
    unsafe { avx2::dot_u8(w, c) }
}
fn dot_u8i8_avx2(w: &[i8], c: &[u8]) -> i32 {
    // SAFETY: as for `avx2_f32`.
    unsafe { avx2::dot_u8i8(w, c) }
}
fn dot_u8i8_rows_avx2(w: &[i8], codes: &[u8], ids: &[u32], out: &mut [i32]) {
    assert_rows_in_range(w.len(), codes, ids);
    // SAFETY: as for `avx2_f32`; ids checked against the table above.
    unsafe { avx2::dot_u8i8_rows(w, codes, ids, out) }
}

fn avx512_f32(m: Metric, q: &[f32], qn: f32, rows: &[f32], out: &mut [f32]) {
    // SAFETY: only reachable through the AVX-512 tables, handed out after checking
    // avx512f/bw/vl.
    unsafe { avx512::batch(m, q, qn, rows, out) }
}
fn avx512_f16(m: Metric, q: &[f32], qn: f32, rows: &[f16], out: &mut [f32]) {
    // SAFETY: as for `avx512_f32`.
    unsafe { avx512::batch(m, q, qn, rows, out) }
}
fn avx512_tile_f32(q: &[f32], rows: &[f32], dim: usize, out: &mut [f32]) {
    // SAFETY: as for `avx512_f32`.
    unsafe { avx512::dot_tile(q, rows, dim, out) }
}
fn avx512_tile_f16(q: &[f32], rows: &[f16], dim: usize, out: &mut [f32]) {
    // SAFETY: as for `avx512_f32`.
    unsafe { avx512::dot_tile(q, rows, dim, out) }
}
fn dot_u8_avx512(w: &[f32], c: &[u8]) -> f32 {
    // SAFETY: as for `avx512_f32`.
    unsafe { avx512::dot_u8(w, c) }
}

fn dot_u8i8_vnni(w: &[i8], c: &[u8]) -> i32 {
    // SAFETY: only reachable through AVX512_VNNI_TABLE (avx512f/bw/vl/vnni checked).
    unsafe { vnni::dot_u8i8(w, c) }
}
fn dot_u8i8_rows_vnni(w: &[i8], codes: &[u8], ids: &[u32], out: &mut [i32]) {
    assert_rows_in_range(w.len(), codes, ids);
    // SAFETY: as for `dot_u8i8_vnni`; ids checked against the table above.
    unsafe { vnni::dot_u8i8_rows(w, codes, ids, out) }
}

/// The bounds check the gathered-row kernels' callers owe them: every id is a row of `codes`.
fn assert_rows_in_range(d: usize, codes: &[u8], ids: &[u32]) {
    assert!(
        ids.iter().all(|&i| (i as usize + 1) * d <= codes.len()),
        "dot_u8i8_rows: row id out of range"
    );
}

static AVX2_TABLE: Kernels = Kernels {
    name: "avx2",
    distances_f32: avx2_f32 as BatchF32,
    distances_f16: avx2_f16 as BatchF16,
    dot_tile_f32: avx2_tile_f32,
    dot_tile_f16: avx2_tile_f16,
    dot_u8: dot_u8_avx2,
    dot_u8i8: Some(dot_u8i8_avx2),
    dot_u8i8_rows: Some(dot_u8i8_rows_avx2),
};
static AVX512_TABLE: Kernels = Kernels {
    name: "avx512",
    distances_f32: avx512_f32 as BatchF32,
    distances_f16: avx512_f16 as BatchF16,
    dot_tile_f32: avx512_tile_f32,
    dot_tile_f16: avx512_tile_f16,
    dot_u8: dot_u8_avx512,
    dot_u8i8: None,
    dot_u8i8_rows: None,
};
static AVX512_VNNI_TABLE: Kernels = Kernels {
    name: "avx512",
    distances_f32: avx512_f32 as BatchF32,
    distances_f16: avx512_f16 as BatchF16,
    dot_tile_f32: avx512_tile_f32,
    dot_tile_f16: avx512_tile_f16,
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
