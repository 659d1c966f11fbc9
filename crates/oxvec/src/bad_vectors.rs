//! What a write does with rows whose vectors cannot be stored (a null vector, the wrong
//! dimension, a null, NaN or infinite value): refuse the write (the default), leave those
//! rows out, or store a constant vector in their place. LanceDB's `on_bad_vectors`, by the
//! same names.

use crate::ingest::{list_spans, vector_dim};
use arrow::array::{Array, ArrayRef, BooleanArray, FixedSizeListArray, Float64Array, RecordBatch};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType, Field, Schema};
use oxvec_core::{Error, Result};
use std::sync::Arc;

/// The policy for rows with bad vectors.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum BadVectors {
    /// Refuse the whole write, naming the row (nothing is written).
    #[default]
    Error,
    /// Leave the row out of the write.
    Drop,
    /// Store a vector of this value in every position instead.
    Fill(f32),
}

impl BadVectors {
    /// The policy named `name` (`"error"`, `"drop"`, `"fill"`, with `fill_value` for fill).
    pub fn parse(name: &str, fill_value: f32) -> Result<Self> {
        match name {
            "error" => Ok(Self::Error),
            "drop" => Ok(Self::Drop),
            "fill" if fill_value.is_finite() => Ok(Self::Fill(fill_value)),
            "fill" => Err(Error::invalid(format!(
                "fill_value must be a finite number, got {fill_value}"
            ))),
            "null" => Err(Error::invalid(
                "on_bad_vectors='null' is not supported: oxvec vector columns hold no nulls \
                 (a search would have nothing to measure); use 'drop' or 'fill'",
            )),
            other => Err(Error::invalid(format!(
                "on_bad_vectors must be 'error', 'drop' or 'fill', got '{other}'"
            ))),
        }
    }
}

/// `batch` with its bad vectors handled by `policy`, for the vector columns of `target`.
/// Columns that are not lists at all are left for `conform` to refuse with its own error.
pub fn repair(batch: RecordBatch, target: &Schema, policy: BadVectors) -> Result<RecordBatch> {
    if policy == BadVectors::Error {
        return Ok(batch);
    }
    let n = batch.num_rows();
    let mut keep = vec![true; n];
    let mut batch = batch;
    for tf in target.fields() {
        let Some(dim) = vector_dim(tf.data_type()) else {
            continue;
        };
        let Ok(idx) = batch.schema().index_of(tf.name()) else {
            continue;
        };
        let col = batch.column(idx).clone();
        let Some(bad) = bad_rows(&col, dim, largest(tf.data_type()))? else {
            continue;
        };
        match policy {
            BadVectors::Drop => keep.iter_mut().zip(&bad).for_each(|(k, b)| *k &= !b),
            BadVectors::Fill(value) if bad.iter().any(|&b| b) => {
                batch = with_column(&batch, idx, filled(&col, dim, &bad, value)?)?;
            }
            _ => {}
        }
    }
    if keep.iter().all(|&k| k) {
        return Ok(batch);
    }
    filter_record_batch(&batch, &BooleanArray::from(keep))
        .map_err(|e| Error::internal("dropping rows with bad vectors", e))
}

/// The largest magnitude a vector type's values hold (a larger double becomes infinite).
fn largest(vector: &DataType) -> f64 {
    match vector {
        DataType::FixedSizeList(item, _) if item.data_type() == &DataType::Float16 => {
            f64::from(half::f16::MAX)
        }
        _ => f64::from(f32::MAX),
    }
}

/// Which rows of a vector column cannot be stored (values beyond `largest` included);
/// `None` when it is not a numeric list column (conform reports that).
fn bad_rows(col: &ArrayRef, dim: usize, largest: f64) -> Result<Option<Vec<bool>>> {
    if col.data_type() == &DataType::Null {
        return Ok(Some(vec![true; col.len()]));
    }
    let Some((values, spans)) = list_spans(col) else {
        return Ok(None);
    };
    if !values.data_type().is_numeric() && values.data_type() != &DataType::Null {
        return Ok(None);
    }
    let values = as_f64(&values)?;
    Ok(Some(
        spans
            .iter()
            .enumerate()
            .map(|(row, &(offset, len))| {
                col.is_null(row)
                    || len != dim
                    || (offset..offset + len).any(|i| {
                        let v = values.value(i);
                        values.is_null(i) || v.is_nan() || v.abs() > largest
                    })
            })
            .collect(),
    ))
}

fn as_f64(values: &ArrayRef) -> Result<Float64Array> {
    let cast = cast(values, &DataType::Float64)
        .map_err(|e| Error::invalid(format!("cannot read vector values as numbers: {e}")))?;
    Ok(cast
        .as_any()
        .downcast_ref::<Float64Array>()
        .expect("cast to f64")
        .clone())
}

/// The column with every bad row's vector replaced by `value` in all `dim` positions.
fn filled(col: &ArrayRef, dim: usize, bad: &[bool], value: f32) -> Result<ArrayRef> {
    let mut out = Vec::with_capacity(bad.len() * dim);
    if col.data_type() == &DataType::Null {
        out.resize(bad.len() * dim, f64::from(value));
    } else {
        let (values, spans) = list_spans(col).expect("checked by bad_rows");
        let values = as_f64(&values)?;
        for (&(offset, _), &is_bad) in spans.iter().zip(bad) {
            if is_bad {
                out.extend(std::iter::repeat_n(f64::from(value), dim));
            } else {
                out.extend_from_slice(&values.values()[offset..offset + dim]);
            }
        }
    }
    let item = Arc::new(Field::new("item", DataType::Float64, true));
    let list =
        FixedSizeListArray::try_new(item, dim as i32, Arc::new(Float64Array::from(out)), None)
            .map_err(|e| Error::internal("filling bad vectors", e))?;
    Ok(Arc::new(list))
}

fn with_column(batch: &RecordBatch, idx: usize, col: ArrayRef) -> Result<RecordBatch> {
    let schema = batch.schema();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields[idx] = fields[idx].clone().with_data_type(col.data_type().clone());
    let mut cols = batch.columns().to_vec();
    cols[idx] = col;
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)
        .map_err(|e| Error::internal("filling bad vectors", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{ListArray, StringArray};
    use arrow::datatypes::Float64Type;

    fn target() -> Schema {
        Schema::new(vec![
            Field::new("id", DataType::Utf8, true),
            Field::new(
                "v",
                DataType::FixedSizeList(Arc::new(Field::new("item", DataType::Float32, true)), 2),
                false,
            ),
        ])
    }

    fn input() -> RecordBatch {
        let v = ListArray::from_iter_primitive::<Float64Type, _, _>(vec![
            Some(vec![Some(1.0), Some(2.0)]),
            Some(vec![Some(1.0)]),
            None,
            Some(vec![Some(f64::NAN), Some(0.0)]),
            Some(vec![Some(3.0), None]),
            Some(vec![Some(5.0), Some(6.0)]),
        ]);
        let id = StringArray::from(vec!["a", "b", "c", "d", "e", "f"]);
        RecordBatch::try_from_iter(vec![
            ("id", Arc::new(id) as ArrayRef),
            ("v", Arc::new(v) as ArrayRef),
        ])
        .unwrap()
    }

    #[test]
    fn drop_keeps_only_rows_with_good_vectors() {
        let out = repair(input(), &target(), BadVectors::Drop).unwrap();
        let ids = out
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(ids.iter().flatten().collect::<Vec<_>>(), ["a", "f"]);
    }

    #[test]
    fn fill_replaces_each_bad_vector_and_keeps_good_ones() {
        let out = repair(input(), &target(), BadVectors::Fill(0.5)).unwrap();
        assert_eq!(out.num_rows(), 6);
        let v = out
            .column(1)
            .as_any()
            .downcast_ref::<FixedSizeListArray>()
            .unwrap();
        let values = v.values().as_any().downcast_ref::<Float64Array>().unwrap();
        let want = [1.0, 2.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 5.0, 6.0];
        assert_eq!(values.values().as_ref(), want);
    }

    #[test]
    fn values_too_large_for_the_column_type_are_bad() {
        let half = Schema::new(vec![Field::new(
            "v",
            DataType::FixedSizeList(Arc::new(Field::new("item", DataType::Float16, true)), 1),
            false,
        )]);
        let v = ListArray::from_iter_primitive::<Float64Type, _, _>(vec![
            Some(vec![Some(6e4)]),
            Some(vec![Some(7e4)]),
            Some(vec![Some(-1e39)]),
        ]);
        let batch = RecordBatch::try_from_iter(vec![("v", Arc::new(v) as ArrayRef)]).unwrap();
        assert_eq!(
            repair(batch.clone(), &half, BadVectors::Drop)
                .unwrap()
                .num_rows(),
            1
        );
        let single = Schema::new(vec![Field::new(
            "v",
            DataType::FixedSizeList(Arc::new(Field::new("item", DataType::Float32, true)), 1),
            false,
        )]);
        assert_eq!(
            repair(batch, &single, BadVectors::Drop).unwrap().num_rows(),
            2
        );
    }

    #[test]
    fn error_leaves_the_batch_for_conform_to_refuse() {
        let out = repair(input(), &target(), BadVectors::Error).unwrap();
        assert_eq!(out.num_rows(), 6);
    }

    #[test]
    fn policy_names_and_bad_fill_values() {
        assert_eq!(BadVectors::parse("drop", 0.0).unwrap(), BadVectors::Drop);
        assert_eq!(
            BadVectors::parse("fill", 2.0).unwrap(),
            BadVectors::Fill(2.0)
        );
        for (name, fill) in [("fill", f32::NAN), ("null", 0.0), ("skip", 0.0)] {
            assert!(matches!(
                BadVectors::parse(name, fill),
                Err(Error::InvalidInput { .. })
            ));
        }
    }
}
