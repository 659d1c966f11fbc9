//! Where a build reads its vectors: [`VectorSource`], rows read by range, so a build over a
//! table larger than memory holds only the rows it is working on (the table's source reads
//! straight from the mapped fragments and lets their pages go once a pass is done with them).
//!
//! [`Rows`] is a source over a slice (tests, small extends); [`Prepared`] puts a source in
//! index space (unit length for cosine) as it is read.

use oxvec_core::{CancelToken, Metric, Result};
use rayon::prelude::*;

/// Rows `0..len()` of `dim()` `f32`s each.
pub trait VectorSource: Sync {
    fn dim(&self) -> usize;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Copies rows `start..start + out.len() / dim()` into `out` (panics past the end).
    fn read(&self, start: usize, out: &mut [f32]);
    /// The build is done with rows `start..end` for now; a mapped source may drop their pages
    /// from the process (they are read again from the file if needed).
    fn release(&self, _start: usize, _end: usize) {}

    /// Row `i` as a new vector.
    fn row(&self, i: usize) -> Vec<f32> {
        let mut v = vec![0f32; self.dim()];
        self.read(i, &mut v);
        v
    }
}

/// A source over rows held in memory.
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    pub data: &'a [f32],
    pub dim: usize,
}

impl<'a> Rows<'a> {
    pub fn new(data: &'a [f32], dim: usize) -> Rows<'a> {
        Rows { data, dim }
    }
}

impl VectorSource for Rows<'_> {
    fn dim(&self) -> usize {
        self.dim
    }

    fn len(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }

    fn read(&self, start: usize, out: &mut [f32]) {
        let s = start * self.dim;
        out.copy_from_slice(&self.data[s..s + out.len()]);
    }
}

/// `inner` as the index stores it: rows scaled to unit length for cosine, as they are.
pub struct Prepared<'a> {
    pub inner: &'a dyn VectorSource,
    pub metric: Metric,
}

impl VectorSource for Prepared<'_> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn len(&self) -> usize {
        self.inner.len()
    }

    fn read(&self, start: usize, out: &mut [f32]) {
        self.inner.read(start, out);
        if self.metric == Metric::Cosine {
            normalize_rows(out, self.inner.dim());
        }
    }

    fn release(&self, start: usize, end: usize) {
        self.inner.release(start, end);
    }
}

/// Scales every row of `rows` to unit length (zero rows stay zero).
pub fn normalize_rows(rows: &mut [f32], dim: usize) {
    for r in rows.chunks_exact_mut(dim) {
        let n = r.iter().map(|x| x * x).sum::<f32>().sqrt();
        if n > 0.0 {
            r.iter_mut().for_each(|x| *x /= n);
        }
    }
}

/// Rows per block of a streaming pass: 1 MiB of 128-d rows, enough to amortise a read.
pub fn block_rows(dim: usize) -> usize {
    ((1 << 20) / (dim.max(1) * 4)).clamp(64, 8192)
}

/// Rows `picks` of `source`, row-major. Picks are read in groups, each group's span released
/// after it: scattered reads of a mapped file map far more than the rows read (the kernel
/// maps the cached pages around each fault), so a sample must not leave the file resident.
pub fn gather(source: &dyn VectorSource, picks: &[usize]) -> Vec<f32> {
    const GROUP: usize = 1024;
    let dim = source.dim();
    let mut out = vec![0f32; picks.len() * dim];
    out.par_chunks_mut(GROUP * dim)
        .zip(picks.par_chunks(GROUP))
        .for_each(|(o, group)| {
            for (row, &i) in o.chunks_exact_mut(dim).zip(group) {
                source.read(i, row);
            }
            let lo = group.iter().copied().min().unwrap_or(0);
            let hi = group.iter().copied().max().map_or(0, |m| m + 1);
            source.release(lo, hi);
        });
    out
}

/// Reads block `b` (blocks of `rows` rows) of `source` into `buf`, runs
/// `f(first_row, block)`, then releases the block.
pub fn in_block<T>(
    source: &dyn VectorSource,
    b: usize,
    rows: usize,
    buf: &mut Vec<f32>,
    f: impl FnOnce(usize, &[f32]) -> T,
) -> T {
    let (start, end) = (b * rows, ((b + 1) * rows).min(source.len()));
    buf.resize((end - start) * source.dim(), 0.0);
    source.read(start, buf);
    let out = f(start, buf);
    source.release(start, end);
    out
}

/// Folds `f(acc, first_row, rows)` over consecutive blocks of `source` on rayon, one
/// accumulator per worker merged by `merge`, each block read once and released after.
pub fn fold_blocks<T: Send>(
    source: &dyn VectorSource,
    cancel: &CancelToken,
    identity: impl Fn() -> T + Sync + Send,
    f: impl Fn(T, usize, &[f32]) -> T + Sync + Send,
    merge: impl Fn(T, T) -> T + Sync + Send,
) -> Result<T> {
    let rows = block_rows(source.dim());
    (0..source.len().div_ceil(rows))
        .into_par_iter()
        .try_fold(
            || (identity(), Vec::new()),
            |(acc, mut buf): (T, Vec<f32>), b| {
                cancel.check()?;
                let acc = in_block(source, b, rows, &mut buf, |start, block| {
                    f(acc, start, block)
                });
                Ok((acc, buf))
            },
        )
        .map(|r: Result<(T, Vec<f32>)>| r.map(|(acc, _)| acc))
        .try_reduce(&identity, |a, b| Ok(merge(a, b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepared_rows_are_unit_length_for_cosine_and_blocks_cover_every_row() {
        let dim = 3;
        let data: Vec<f32> = (0..3 * 10_000).map(|i| (i % 7) as f32).collect();
        let raw = Rows::new(&data, dim);
        let cos = Prepared {
            inner: &raw,
            metric: Metric::Cosine,
        };
        let r = cos.row(1);
        let len: f32 = r.iter().map(|x| x * x).sum();
        assert!((len - 1.0).abs() < 1e-5 || len == 0.0);
        let mut blocks = fold_blocks(
            &raw,
            &CancelToken::new(),
            Vec::new,
            |mut acc, start, rows| {
                acc.push((start, rows.to_vec()));
                acc
            },
            |mut a, b| {
                a.extend(b);
                a
            },
        )
        .unwrap();
        blocks.sort_by_key(|b| b.0);
        let all: Vec<f32> = blocks.into_iter().flat_map(|b| b.1).collect();
        assert_eq!(all, data);
        assert_eq!(gather(&raw, &[2, 0]), [&data[6..9], &data[0..3]].concat());
    }
}
