//! Result columns handed to NumPy without pyarrow.
//!
//! A k-NN result is a handful of rows; importing it through pyarrow and converting to NumPy
//! costs more than the search itself (~13 us for ten rows). Numeric columns without
//! nulls, and vector columns (fixed-size lists of numbers, as 2-D arrays), are copied here into
//! a `bytearray` that `numpy.frombuffer` wraps; every other column is left to pyarrow's own
//! conversion, which knows NumPy's conventions for nulls, strings and timestamps.

use arrow::array::{Array, ArrayData, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, SchemaRef};
use pyo3::prelude::*;
use pyo3::types::PyByteArray;

/// One result column: its NumPy dtype, its bytes and its row width (0 for a 1-D column,
/// `d` for a 2-D `(rows, d)` one), or no payload when pyarrow should convert it.
pub type NumpyColumn<'py> = (
    String,
    Option<(&'static str, Bound<'py, PyByteArray>, usize)>,
);

pub fn columns<'py>(
    py: Python<'py>,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> PyResult<Vec<NumpyColumn<'py>>> {
    let mut out = Vec::with_capacity(schema.fields().len());
    for (i, f) in schema.fields().iter().enumerate() {
        let layout = layout(f.data_type());
        let parts: Option<Vec<Part>> = layout
            .and_then(|(_, width)| batches.iter().map(|b| part(b.column(i), width)).collect());
        let payload = match (parts, layout) {
            (Some(parts), Some((dtype, width))) => {
                let len = parts.iter().map(|p| p.len).sum();
                let bytes = PyByteArray::new_with(py, len, |buf| {
                    let mut at = 0;
                    for p in &parts {
                        buf[at..at + p.len].copy_from_slice(p.bytes());
                        at += p.len;
                    }
                    Ok(())
                })?;
                Some((dtype, bytes, width))
            }
            _ => None,
        };
        out.push((f.name().clone(), payload));
    }
    Ok(out)
}

/// The value bytes of one batch's column: `len` bytes from `from` in the values buffer.
struct Part {
    values: ArrayData,
    from: usize,
    len: usize,
}

impl Part {
    fn bytes(&self) -> &[u8] {
        &self.values.buffers()[0].as_slice()[self.from..self.from + self.len]
    }
}

/// NumPy dtype of a fixed-width number type, little-endian as Arrow stores it.
fn dtype(t: &DataType) -> Option<&'static str> {
    Some(match t {
        DataType::Int8 => "<i1",
        DataType::Int16 => "<i2",
        DataType::Int32 => "<i4",
        DataType::Int64 => "<i8",
        DataType::UInt8 => "<u1",
        DataType::UInt16 => "<u2",
        DataType::UInt32 => "<u4",
        DataType::UInt64 => "<u8",
        DataType::Float16 => "<f2",
        DataType::Float32 => "<f4",
        DataType::Float64 => "<f8",
        _ => return None,
    })
}

/// NumPy dtype and row width (0: 1-D) of a number or vector column; `None` for other types.
fn layout(t: &DataType) -> Option<(&'static str, usize)> {
    match t {
        DataType::FixedSizeList(child, d) => {
            Some((dtype(child.data_type())?, usize::try_from(*d).ok()?))
        }
        other => Some((dtype(other)?, 0)),
    }
}

/// The value bytes of a null-free column whose type has a [`layout`] of row width `width`;
/// `None` if it has nulls.
fn part(col: &ArrayRef, width: usize) -> Option<Part> {
    let values = match col.data_type() {
        // Slicing a fixed-size list slices its values, so they are exactly its rows'.
        DataType::FixedSizeList(..) => col.as_fixed_size_list().values(),
        _ => col,
    };
    if col.null_count() > 0 || values.null_count() > 0 || values.len() != col.len() * width.max(1) {
        return None;
    }
    let size = values.data_type().primitive_width()?;
    let data = values.to_data();
    let from = data.offset() * size;
    let len = data.len() * size;
    // Checked once here so that `Part::bytes` cannot go out of bounds.
    data.buffers().first()?.as_slice().get(from..from + len)?;
    Some(Part {
        values: data,
        from,
        len,
    })
}
