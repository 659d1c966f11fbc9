//! RaBitQ: one bit per dimension after a random rotation, with an unbiased inner-product
//! estimator (Gao & Long, SIGMOD 2024).
//!
//! A residual `r = x - c` is rotated by a random orthogonal matrix `P`; the code is the sign
//! of every coordinate of `P r`. With `o = P r / |r|` and `x̄ = sign(o)/√d`, the estimator
//! `<o, t> ≈ <x̄, t> / <x̄, o>` holds for any query vector `t` in the rotated space. The query
//! is quantized to 4 bits per coordinate, so `<x̄, t>` is a handful of AND+popcounts.

use crate::kernels;
use crate::rng::SplitMix64;
use oxvec_core::Metric;
use std::sync::OnceLock;

/// Bits of the quantized query.
const QUERY_BITS: usize = 4;

/// The rotation and the code layout of one RaBitQ quantizer.
#[derive(Debug, Clone, PartialEq)]
pub struct RaBitQ {
    pub dim: usize,
    /// Row-major `dim x dim` orthogonal matrix.
    pub rotation: Vec<f32>,
}

/// What is stored per vector besides its bits.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RabitFactors {
    /// `|r|`, the residual's length.
    pub norm: f32,
    /// `<x̄, o>`, the estimator's correction.
    pub ip_xo: f32,
}

/// A rotated query vector quantized for one partition.
#[derive(Debug, Clone, Default)]
pub struct RabitQuery {
    /// `QUERY_BITS` bit-planes of `words` words each.
    planes: Vec<u64>,
    lo: f32,
    delta: f32,
    sum: f32,
    /// `|t|²`.
    pub norm_sq: f32,
}

impl RaBitQ {
    /// A quantizer for `dim`-wide vectors with a rotation drawn from `seed`.
    pub fn new(dim: usize, seed: u64) -> RaBitQ {
        RaBitQ {
            dim,
            rotation: random_orthogonal(dim, seed),
        }
    }

    /// 64-bit words per code.
    pub fn words(&self) -> usize {
        self.dim.div_ceil(64)
    }

    /// `P v`.
    pub fn rotate(&self, v: &[f32], out: &mut [f32]) {
        // The dot kernel returns `1 - row·v`.
        (kernels().distances_f32)(Metric::Dot, v, 0.0, &self.rotation, out);
        out.iter_mut().for_each(|x| *x = 1.0 - *x);
    }

    /// Encodes an already rotated residual into `code` (`words()` long).
    pub fn encode_rotated(&self, r: &[f32], code: &mut [u64]) -> RabitFactors {
        code.iter_mut().for_each(|w| *w = 0);
        let mut norm_sq = 0.0f32;
        let mut abs_sum = 0.0f32;
        for (i, &x) in r.iter().enumerate() {
            if x > 0.0 {
                code[i / 64] |= 1 << (i % 64);
            }
            norm_sq += x * x;
            abs_sum += x.abs();
        }
        let norm = norm_sq.sqrt();
        let ip_xo = if norm > 0.0 {
            abs_sum / (norm * (self.dim as f32).sqrt())
        } else {
            1.0
        };
        RabitFactors { norm, ip_xo }
    }

    /// Quantizes a rotated query vector `t` for [`Self::estimate_batch`].
    pub fn prepare(&self, t: &[f32], out: &mut RabitQuery) {
        let words = self.words();
        let lo = t.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = t.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let levels = ((1 << QUERY_BITS) - 1) as f32;
        let delta = if hi > lo { (hi - lo) / levels } else { 1.0 };
        out.planes.clear();
        out.planes.resize(QUERY_BITS * words, 0);
        for (i, &x) in t.iter().enumerate() {
            let u = ((x - lo) / delta).round().clamp(0.0, levels) as u32;
            for p in 0..QUERY_BITS {
                if u >> p & 1 == 1 {
                    out.planes[p * words + i / 64] |= 1 << (i % 64);
                }
            }
        }
        out.lo = lo;
        out.delta = delta;
        out.sum = t.iter().sum();
        out.norm_sq = t.iter().map(|x| x * x).sum();
    }

    /// Estimates `<o, t>` for every code in `codes` (`words()` words each) into `out`.
    pub fn estimate_batch(
        &self,
        q: &RabitQuery,
        codes: &[u64],
        factors: &[RabitFactors],
        out: &mut [f32],
    ) {
        let words = self.words();
        let inv_sqrt_d = 1.0 / (self.dim as f32).sqrt();
        (popcounts())(codes, &q.planes, words, out);
        for (o, f) in out.iter_mut().zip(factors) {
            // `out` holds pop(b) * 65536 + Σ 2^p pop(b & plane_p) packed; unpack.
            let packed = o.to_bits();
            let pop = (packed >> 16) as f32;
            let weighted = (packed & 0xffff) as f32;
            let s1 = q.lo * pop + q.delta * weighted;
            let xt = (2.0 * s1 - q.sum) * inv_sqrt_d;
            *o = xt / f.ip_xo;
        }
    }
}

type PopcountFn = fn(&[u64], &[u64], usize, &mut [f32]);

#[inline(always)]
fn popcounts_body(codes: &[u64], planes: &[u64], words: usize, out: &mut [f32]) {
    for (code, o) in codes.chunks_exact(words).zip(out.iter_mut()) {
        let mut pop = 0u32;
        let mut weighted = 0u32;
        for (i, &b) in code.iter().enumerate() {
            pop += b.count_ones();
            for p in 0..QUERY_BITS {
                weighted += (b & planes[p * words + i]).count_ones() << p;
            }
        }
        // Both fit in 16 bits for dim <= 4096; carried in the f32's bits to reuse `out`.
        *o = f32::from_bits((pop << 16) | weighted);
    }
}

fn popcounts_plain(codes: &[u64], planes: &[u64], words: usize, out: &mut [f32]) {
    popcounts_body(codes, planes, words, out)
}

/// [`popcounts_body`] compiled with the `popcnt` instruction.
///
/// # Safety
///
/// The CPU has `popcnt`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
unsafe fn popcounts_popcnt_impl(codes: &[u64], planes: &[u64], words: usize, out: &mut [f32]) {
    popcounts_body(codes, planes, words, out)
}

#[cfg(target_arch = "x86_64")]
fn popcounts_popcnt(codes: &[u64], planes: &[u64], words: usize, out: &mut [f32]) {
    // SAFETY: handed out by `popcounts` only after detecting popcnt.
    unsafe { popcounts_popcnt_impl(codes, planes, words, out) }
}

fn popcounts() -> PopcountFn {
    static CHOSEN: OnceLock<PopcountFn> = OnceLock::new();
    *CHOSEN.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("popcnt") {
            return popcounts_popcnt as PopcountFn;
        }
        popcounts_plain as PopcountFn
    })
}

/// Largest dimension RaBitQ accepts (the popcount packing needs `4 * 15 * dim < 65536`).
pub const MAX_DIM: usize = 1024;

/// A random orthogonal matrix: Gram-Schmidt on Gaussian rows, in f64.
fn random_orthogonal(dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::new(seed);
    let mut m: Vec<f64> = (0..dim * dim).map(|_| rng.gaussian()).collect();
    for i in 0..dim {
        for j in 0..i {
            let d: f64 = (0..dim).map(|k| m[i * dim + k] * m[j * dim + k]).sum();
            for k in 0..dim {
                m[i * dim + k] -= d * m[j * dim + k];
            }
        }
        let n = (0..dim).map(|k| m[i * dim + k].powi(2)).sum::<f64>().sqrt();
        for k in 0..dim {
            m[i * dim + k] /= n;
        }
    }
    m.into_iter().map(|x| x as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_is_orthogonal_and_estimates_are_unbiased() {
        let dim = 96;
        let rq = RaBitQ::new(dim, 7);
        let mut r = SplitMix64::new(2);
        let v: Vec<f32> = (0..dim).map(|_| r.gaussian() as f32).collect();
        let mut pv = vec![0f32; dim];
        rq.rotate(&v, &mut pv);
        let n1: f32 = v.iter().map(|x| x * x).sum();
        let n2: f32 = pv.iter().map(|x| x * x).sum();
        assert!((n1 - n2).abs() < 1e-3 * n1);

        let t: Vec<f32> = (0..dim).map(|_| r.gaussian() as f32).collect();
        let mut q = RabitQuery::default();
        rq.prepare(&t, &mut q);
        let mut err = 0.0f64;
        let mut codes = Vec::new();
        let mut factors = Vec::new();
        let mut exact = Vec::new();
        for _ in 0..400 {
            let x: Vec<f32> = (0..dim).map(|_| r.gaussian() as f32).collect();
            let mut code = vec![0u64; rq.words()];
            let f = rq.encode_rotated(&x, &mut code);
            exact.push(x.iter().zip(&t).map(|(a, b)| a * b).sum::<f32>() / f.norm);
            codes.extend(code);
            factors.push(f);
        }
        let mut est = vec![0f32; 400];
        rq.estimate_batch(&q, &codes, &factors, &mut est);
        for (e, x) in est.iter().zip(&exact) {
            err += (e - x) as f64;
        }
        let tn = (q.norm_sq as f64).sqrt();
        // Mean error near zero relative to |t| (unbiased), individual errors bounded.
        assert!((err / 400.0).abs() < 0.05 * tn, "bias {}", err / 400.0);
        for (e, x) in est.iter().zip(&exact) {
            assert!((e - x).abs() < 0.6 * tn as f32, "{e} vs {x}");
        }
    }
}
