//! Scalar reference kernels: the ground truth every SIMD kernel is tested against.
//! `pub` for tests and benchmarks; production code goes through [`crate::kernels`].

use half::f16;

/// Squared Euclidean distance.
pub fn l2_sq(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Inner product.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Inner product `a·b` and squared norm `b·b`, in one pass over `b`.
pub fn dot_norm(a: &[f32], b: &[f32]) -> (f32, f32) {
    a.iter()
        .zip(b)
        .fold((0.0, 0.0), |(d, n), (x, y)| (d + x * y, n + y * y))
}

/// Squared Euclidean distance to a half-precision row.
pub fn l2_sq_f16(a: &[f32], b: &[f16]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y.to_f32()) * (x - y.to_f32()))
        .sum()
}

/// Inner product with a half-precision row.
pub fn dot_f16(a: &[f32], b: &[f16]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y.to_f32()).sum()
}

/// Inner product and squared norm of a half-precision row.
pub fn dot_norm_f16(a: &[f32], b: &[f16]) -> (f32, f32) {
    a.iter().zip(b).fold((0.0, 0.0), |(d, n), (x, y)| {
        let y = y.to_f32();
        (d + x * y, n + y * y)
    })
}

/// Inner product of f32 weights with u8 codes (the SQ8 asymmetric distance core).
pub fn dot_u8(w: &[f32], c: &[u8]) -> f32 {
    w.iter().zip(c).map(|(x, &y)| x * y as f32).sum()
}

/// Integer inner product of i8 weights with u8 codes (the VNNI path's reference).
pub fn dot_u8i8(w: &[i8], c: &[u8]) -> i32 {
    w.iter().zip(c).map(|(&x, &y)| x as i32 * y as i32).sum()
}

/// [`dot_u8i8`] of `w` with the rows `ids` of `codes` (rows `w.len()` wide) into `out`.
pub fn dot_u8i8_rows(w: &[i8], codes: &[u8], ids: &[u32], out: &mut [i32]) {
    let d = w.len();
    for (&i, o) in ids.iter().zip(out.iter_mut()) {
        *o = dot_u8i8(w, &codes[i as usize * d..(i as usize + 1) * d]);
    }
}
