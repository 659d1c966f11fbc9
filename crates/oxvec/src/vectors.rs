//! Vector columns of Arrow batches seen as [`VectorView`]s, so search, re-ranking and index
//! builds read `f32` and `f16` columns through one type; [`FragmentVectors`] is a table's
//! live vectors as an index build reads them.

use crate::snapshot::LoadedFragment;
use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Float16Type, Float32Type};
use oxvec_core::{VectorValues, VectorView};
use oxvec_index::VectorSource;
use oxvec_storage::Mapping;

/// The vectors of `col`, a fixed-size list of `f32` or `f16` (`None` for any other type).
/// Row `i` of the view is row `i` of the (possibly sliced) array.
pub fn vector_view(col: &ArrayRef) -> Option<VectorView<'_>> {
    let fsl = col.as_fixed_size_list_opt()?;
    let dim = usize::try_from(fsl.value_length()).ok()?;
    let base = fsl.value_offset_at(0);
    let range = base..base + fsl.len() * dim;
    let values = match fsl.value_type() {
        DataType::Float32 => VectorValues::F32(
            fsl.values()
                .as_primitive_opt::<Float32Type>()?
                .values()
                .get(range)?,
        ),
        DataType::Float16 => VectorValues::F16(
            fsl.values()
                .as_primitive_opt::<Float16Type>()?
                .values()
                .get(range)?,
        ),
        _ => return None,
    };
    Some(VectorView::new(values, dim))
}

/// The live vectors of some fragments as an index build's [`VectorSource`]: read in place
/// from the mapped files (widened from f16 as read), each run's pages released once a
/// streaming pass is done with them. Node `i` is the `i`-th live row in fragment order.
pub struct FragmentVectors<'a> {
    dim: usize,
    runs: Vec<Run<'a>>,
    row_ids: Vec<u64>,
}

/// Consecutive live rows of one batch.
struct Run<'a> {
    /// Node number of the run's first row.
    first: usize,
    view: VectorView<'a>,
    mapping: &'a Mapping,
}

impl<'a> FragmentVectors<'a> {
    /// Live rows of column `col` (a vector column of `dim`) in `frags`; batches whose column
    /// is not a vector column are skipped.
    pub fn new(frags: &[&'a LoadedFragment], col: usize, dim: usize) -> FragmentVectors<'a> {
        let mut runs = Vec::new();
        let mut row_ids = Vec::new();
        for f in frags {
            for (b, batch) in f.batches.iter().enumerate() {
                let Some(view) = vector_view(batch.column(col)) else {
                    continue;
                };
                let mut r = 0;
                while r < view.len() {
                    if f.is_deleted(f.starts[b] + r as u32) {
                        r += 1;
                        continue;
                    }
                    let start = r;
                    while r < view.len() && !f.is_deleted(f.starts[b] + r as u32) {
                        row_ids.push(f.row_id(b, r));
                        r += 1;
                    }
                    runs.push(Run {
                        first: row_ids.len() - (r - start),
                        view: view.slice(start..r),
                        mapping: &f.mapping,
                    });
                }
            }
        }
        FragmentVectors { dim, runs, row_ids }
    }

    /// Table row id of every node.
    pub fn row_ids(&self) -> &[u64] {
        &self.row_ids
    }

    /// Index of the run holding node `i`.
    fn run_of(&self, i: usize) -> usize {
        self.runs.partition_point(|r| r.first <= i) - 1
    }
}

impl VectorSource for FragmentVectors<'_> {
    fn dim(&self) -> usize {
        self.dim
    }

    fn len(&self) -> usize {
        self.row_ids.len()
    }

    fn read(&self, start: usize, out: &mut [f32]) {
        let dim = self.dim;
        let (mut at, mut node) = (0, start);
        let mut run = self.run_of(start);
        while at < out.len() {
            let r = &self.runs[run];
            let from = node - r.first;
            let take = (r.view.len() - from).min((out.len() - at) / dim);
            let dst = &mut out[at..at + take * dim];
            match r.view.slice(from..from + take).values {
                VectorValues::F32(v) => dst.copy_from_slice(v),
                VectorValues::F16(v) => dst.iter_mut().zip(v).for_each(|(d, x)| *d = x.to_f32()),
            }
            at += take * dim;
            node += take;
            run += 1;
        }
    }

    fn release(&self, start: usize, end: usize) {
        if start >= end {
            return;
        }
        let (first, last) = (self.run_of(start), self.run_of(end - 1));
        for r in &self.runs[first..=last] {
            let from = start.max(r.first) - r.first;
            let to = end.min(r.first + r.view.len()) - r.first;
            match r.view.slice(from..to).values {
                VectorValues::F32(v) => r.mapping.release(v),
                VectorValues::F16(v) => r.mapping.release(v),
            }
        }
    }
}
