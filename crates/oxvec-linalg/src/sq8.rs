//! Scalar quantization to one byte per dimension (SQ8).
//!
//! Each dimension is mapped linearly from its trained `[min, max]` to `0..=255`. Distances stay
//! asymmetric: the query keeps full precision and is folded into per-dimension weights once,
//! so a distance to a code is one `f32 x u8` inner product ([`crate::Kernels::dot_u8`]).

use crate::kernels;

/// Per-dimension linear quantizer: `x ≈ min + scale * code`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sq8 {
    pub min: Vec<f32>,
    pub scale: Vec<f32>,
}

/// A query folded into the quantizer: `q·x ≈ bias + weights·code`.
///
/// Where the CPU has fast integer byte products (AVX-512 VNNI, AVX2) the weights are also
/// quantized to i8 with one scale, and `weights·code` is computed in integers: a distance of
/// 128 dimensions is then two instructions with VNNI, 32 with AVX2 (48 in f32). The extra error is about 1/254 of the largest
/// weight per dimension, small against SQ8's own, and results are re-ranked exactly anyway.
#[derive(Debug, Clone)]
pub struct Sq8Query {
    pub weights: Vec<f32>,
    pub bias: f32,
    /// `q·q`.
    pub norm_sq: f32,
    weights_i8: Vec<i8>,
    scale_i8: f32,
    int_dot: Option<crate::simd::DotU8I8>,
    int_rows: Option<crate::simd::DotU8I8Rows>,
}

impl Sq8Query {
    /// `q·x` for the vector behind `code`.
    #[inline]
    pub fn dot(&self, code: &[u8]) -> f32 {
        match self.int_dot {
            Some(f) => self.bias + self.scale_i8 * f(&self.weights_i8, code) as f32,
            None => self.bias + (kernels().dot_u8)(&self.weights, code),
        }
    }

    /// `q·x` for the rows `ids` of a row-major code table (`dim` bytes per row), into `out`.
    pub fn dots(&self, codes: &[u8], ids: &[u32], ints: &mut Vec<i32>, out: &mut Vec<f32>) {
        out.clear();
        match self.int_rows {
            Some(f) => {
                ints.clear();
                ints.resize(ids.len(), 0);
                f(&self.weights_i8, codes, ids, ints);
                out.extend(ints.iter().map(|&v| self.bias + self.scale_i8 * v as f32));
            }
            None => {
                let d = self.weights.len();
                out.extend(
                    ids.iter()
                        .map(|&i| self.dot(&codes[i as usize * d..(i as usize + 1) * d])),
                );
            }
        }
    }
}

impl Sq8 {
    /// Learns each dimension's range from `data` (row-major, `dim` wide).
    pub fn train(data: &[f32], dim: usize) -> Sq8 {
        let (lo, hi) = Sq8::bounds(data, dim);
        Sq8::from_bounds(lo, hi)
    }

    /// Per-dimension minimum and maximum of `data` (infinite when `data` is empty): the
    /// bounds of blocks merge with [`Sq8::merge_bounds`], so training can stream.
    pub fn bounds(data: &[f32], dim: usize) -> (Vec<f32>, Vec<f32>) {
        let mut lo = vec![f32::INFINITY; dim];
        let mut hi = vec![f32::NEG_INFINITY; dim];
        for row in data.chunks_exact(dim) {
            for ((l, h), &x) in lo.iter_mut().zip(hi.iter_mut()).zip(row) {
                *l = l.min(x);
                *h = h.max(x);
            }
        }
        (lo, hi)
    }

    /// Widens `a` to cover `b`.
    pub fn merge_bounds(a: &mut (Vec<f32>, Vec<f32>), b: &(Vec<f32>, Vec<f32>)) {
        a.0.iter_mut().zip(&b.0).for_each(|(x, &y)| *x = x.min(y));
        a.1.iter_mut().zip(&b.1).for_each(|(x, &y)| *x = x.max(y));
    }

    /// The quantizer spanning per-dimension bounds `lo..=hi`.
    pub fn from_bounds(mut lo: Vec<f32>, hi: Vec<f32>) -> Sq8 {
        let scale = lo
            .iter_mut()
            .zip(&hi)
            .map(|(l, &h)| {
                if !l.is_finite() {
                    *l = 0.0;
                    return 0.0;
                }
                (h - *l) / 255.0
            })
            .collect();
        Sq8 { min: lo, scale }
    }

    pub fn dim(&self) -> usize {
        self.min.len()
    }

    /// Writes the code of `v` into `out` and returns the squared norm of the decoded vector.
    /// Values outside the trained range are clamped.
    pub fn encode(&self, v: &[f32], out: &mut [u8]) -> f32 {
        let mut norm = 0.0;
        for (((o, &x), &lo), &s) in out.iter_mut().zip(v).zip(&self.min).zip(&self.scale) {
            let c = if s > 0.0 {
                ((x - lo) / s).round().clamp(0.0, 255.0)
            } else {
                0.0
            };
            *o = c as u8;
            let back = lo + s * c;
            norm += back * back;
        }
        norm
    }

    /// The vector a code stands for.
    pub fn decode(&self, code: &[u8], out: &mut [f32]) {
        for (((o, &c), &lo), &s) in out.iter_mut().zip(code).zip(&self.min).zip(&self.scale) {
            *o = lo + s * c as f32;
        }
    }

    /// Folds a query into weights for [`Sq8Query::dot`].
    pub fn prepare(&self, q: &[f32]) -> Sq8Query {
        self.prepare_with(q, kernels().dot_u8i8)
    }

    /// [`Self::prepare`] without the integer weights: cheaper to make, for queries that are
    /// used for a handful of distances only.
    pub fn prepare_float(&self, q: &[f32]) -> Sq8Query {
        self.prepare_with(q, None)
    }

    fn prepare_with(&self, q: &[f32], int_dot: Option<crate::simd::DotU8I8>) -> Sq8Query {
        let weights: Vec<f32> = q.iter().zip(&self.scale).map(|(x, s)| x * s).collect();
        let max = weights.iter().fold(0f32, |m, w| m.max(w.abs()));
        let scale_i8 = if max > 0.0 { max / 127.0 } else { 1.0 };
        let inv = 1.0 / scale_i8;
        let weights_i8 = if int_dot.is_some() {
            // Rounded by adding half and truncating: `f32::round` is a libm call per value
            // on baseline x86-64, a visible share of a query's cost.
            weights
                .iter()
                .map(|w| {
                    let r = w * inv;
                    ((r + 0.5f32.copysign(r)) as i32).clamp(-127, 127) as i8
                })
                .collect()
        } else {
            Vec::new()
        };
        let int_rows = if int_dot.is_some() {
            kernels().dot_u8i8_rows
        } else {
            None
        };
        Sq8Query {
            int_rows,
            bias: q.iter().zip(&self.min).map(|(x, m)| x * m).sum(),
            norm_sq: q.iter().map(|x| x * x).sum(),
            weights,
            weights_i8,
            scale_i8,
            int_dot,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    #[test]
    fn inner_products_are_close_to_exact() {
        let dim = 37;
        let mut r = SplitMix64::new(3);
        let data: Vec<f32> = (0..dim * 200).map(|_| r.gaussian() as f32).collect();
        let sq = Sq8::train(&data, dim);
        let mut code = vec![0u8; dim];
        let q: Vec<f32> = (0..dim).map(|_| r.gaussian() as f32).collect();
        let pq = sq.prepare(&q);
        for row in data.chunks_exact(dim).take(50) {
            sq.encode(row, &mut code);
            let exact: f32 = q.iter().zip(row).map(|(a, b)| a * b).sum();
            let approx = pq.dot(&code);
            assert!((exact - approx).abs() < 0.15, "{exact} vs {approx}");
        }
    }

    #[test]
    fn constant_dimensions_and_out_of_range_values_are_safe() {
        let sq = Sq8::train(&[1.0, 5.0, 1.0, 6.0], 2);
        let mut code = [0u8; 2];
        sq.encode(&[1.0, 100.0], &mut code);
        assert_eq!(code, [0, 255]);
        let mut back = [0.0; 2];
        sq.decode(&code, &mut back);
        assert_eq!(back, [1.0, 6.0]);
    }
}
