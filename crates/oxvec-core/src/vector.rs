//! A view of stored vectors: `f32` or `f16` values, row-major, with their dimension.
//!
//! Vector columns hold either element type; code that reads vectors takes this one view
//! instead of matching on the element type itself.

use half::f16;

/// The values of a run of vectors.
#[derive(Debug, Clone, Copy)]
pub enum VectorValues<'a> {
    F32(&'a [f32]),
    F16(&'a [f16]),
}

/// `len() / dim` vectors of `dim` values each, row-major.
#[derive(Debug, Clone, Copy)]
pub struct VectorView<'a> {
    pub values: VectorValues<'a>,
    pub dim: usize,
}

impl<'a> VectorView<'a> {
    /// A view of `values` as vectors of `dim` values (`values.len()` a multiple of `dim`).
    pub fn new(values: VectorValues<'a>, dim: usize) -> VectorView<'a> {
        VectorView { values, dim }
    }

    /// Number of vectors.
    #[inline]
    pub fn len(&self) -> usize {
        let n = match self.values {
            VectorValues::F32(v) => v.len(),
            VectorValues::F16(v) => v.len(),
        };
        n.checked_div(self.dim).unwrap_or(0)
    }

    /// Whether there are no vectors.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Vectors `rows` only.
    #[inline]
    pub fn slice(&self, rows: std::ops::Range<usize>) -> VectorView<'a> {
        let r = rows.start * self.dim..rows.end * self.dim;
        let values = match self.values {
            VectorValues::F32(v) => VectorValues::F32(&v[r]),
            VectorValues::F16(v) => VectorValues::F16(&v[r]),
        };
        VectorView::new(values, self.dim)
    }

    /// Vector `row` (panics past the end, like slice indexing).
    #[inline]
    pub fn row(&self, row: usize) -> VectorValues<'a> {
        self.slice(row..row + 1).values
    }

    /// Appends vector `row`, widened to `f32`, to `out`.
    #[inline]
    pub fn extend_f32(&self, row: usize, out: &mut Vec<f32>) {
        match self.row(row) {
            VectorValues::F32(v) => out.extend_from_slice(v),
            VectorValues::F16(v) => out.extend(v.iter().map(|x| x.to_f32())),
        }
    }

    /// Appends the squared L2 norm of every vector to `out`.
    pub fn squared_norms(&self, out: &mut Vec<f32>) {
        if self.dim == 0 {
            return;
        }
        match self.values {
            VectorValues::F32(v) => out.extend(
                v.chunks_exact(self.dim)
                    .map(|r| r.iter().map(|x| x * x).sum::<f32>()),
            ),
            VectorValues::F16(v) => out.extend(
                v.chunks_exact(self.dim)
                    .map(|r| r.iter().map(|x| x.to_f32() * x.to_f32()).sum::<f32>()),
            ),
        }
    }
}

impl<'a> VectorValues<'a> {
    /// The values as `f32`: borrowed, or `f16` widened into `buf`.
    #[inline]
    pub fn as_f32<'b>(&self, buf: &'b mut Vec<f32>) -> &'b [f32]
    where
        'a: 'b,
    {
        match *self {
            VectorValues::F32(v) => v,
            VectorValues::F16(v) => {
                buf.clear();
                buf.extend(v.iter().map(|x| x.to_f32()));
                buf
            }
        }
    }

    /// Starts loading the values into the CPU cache (a hint; no effect on results).
    #[inline]
    pub fn prefetch(&self) {
        #[cfg(target_arch = "x86_64")]
        {
            let (base, len) = match *self {
                VectorValues::F32(v) => (v.as_ptr().cast::<i8>(), std::mem::size_of_val(v)),
                VectorValues::F16(v) => (v.as_ptr().cast::<i8>(), std::mem::size_of_val(v)),
            };
            for at in (0..len).step_by(64) {
                // SAFETY: `at < len` keeps the address inside the borrowed slice, and a
                // prefetch reads nothing observable even at an invalid address.
                unsafe {
                    std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                        base.add(at),
                    )
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_norms_and_widening_agree_for_both_types() {
        let f: Vec<f32> = (0..12).map(|i| i as f32).collect();
        let h: Vec<f16> = f.iter().map(|&x| f16::from_f32(x)).collect();
        for view in [
            VectorView::new(VectorValues::F32(&f), 3),
            VectorView::new(VectorValues::F16(&h), 3),
        ] {
            assert_eq!(view.len(), 4);
            let mut out = Vec::new();
            view.extend_f32(2, &mut out);
            assert_eq!(out, vec![6.0, 7.0, 8.0]);
            let mut norms = Vec::new();
            view.slice(1..3).squared_norms(&mut norms);
            assert_eq!(norms, vec![9.0 + 16.0 + 25.0, 36.0 + 49.0 + 64.0]);
            let mut buf = Vec::new();
            assert_eq!(view.row(0).as_f32(&mut buf), &[0.0, 1.0, 2.0]);
        }
        assert!(VectorView::new(VectorValues::F32(&[]), 0).is_empty());
    }
}
