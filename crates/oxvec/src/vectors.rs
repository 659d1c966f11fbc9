//! Vector columns of Arrow batches seen as [`VectorView`]s, so search, re-ranking and index
//! builds read `f32` and `f16` columns through one type.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Float16Type, Float32Type};
use oxvec_core::{VectorValues, VectorView};

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
