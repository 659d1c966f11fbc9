//! Incoming data to table rows: schema inference for new tables, and conformance of every
//! batch to the table schema with precise errors (column, row, expected, actual).
//!
//! Vector columns are `fixed_size_list<float32|float16, d>`. Lists of floats with one length
//! become vectors; ragged lists, NaN/Inf, nulls and wrong dimensions are refused.

use arrow::array::{
    Array, ArrayRef, AsArray, FixedSizeListArray, Float16Array, Float32Array, GenericListArray,
    OffsetSizeTrait, RecordBatch, RecordBatchOptions,
};
use arrow::compute::{cast_with_options, CastOptions};
use arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use oxvec_core::{Error, Result};
use std::sync::Arc;

/// Columns oxvec adds to results; user data may not use these names.
pub const RESERVED_COLUMNS: [&str; 5] = [
    "_distance",
    "_rowid",
    "query_index",
    "_score",
    "_relevance_score",
];
/// Largest vector dimension accepted.
pub const MAX_DIM: i32 = 65_536;

/// Whether a field holds vectors oxvec can search.
pub fn is_vector_field(f: &Field) -> bool {
    vector_dim(f.data_type()).is_some()
}

/// The dimension of a vector type, `None` for anything else.
pub fn vector_dim(t: &DataType) -> Option<usize> {
    match t {
        DataType::FixedSizeList(item, d)
            if matches!(item.data_type(), DataType::Float32 | DataType::Float16) =>
        {
            Some(*d as usize)
        }
        _ => None,
    }
}

fn is_float(t: &DataType) -> bool {
    matches!(t, DataType::Float16 | DataType::Float32 | DataType::Float64)
}

fn vector_type(item: DataType, dim: i32) -> DataType {
    DataType::FixedSizeList(Arc::new(Field::new("item", item, true)), dim)
}

/// Length of the first non-null entry of a list column.
fn first_len<O: OffsetSizeTrait>(a: &GenericListArray<O>) -> Option<usize> {
    (0..a.len())
        .find(|&i| a.is_valid(i))
        .map(|i| a.value_length(i).as_usize())
}

/// Schema of a new table from its first batch: float lists become vector columns.
pub fn infer_schema(schema: &Schema, first: Option<&RecordBatch>) -> Result<SchemaRef> {
    let mut fields = Vec::with_capacity(schema.fields().len());
    for (i, f) in schema.fields().iter().enumerate() {
        let col = first.map(|b| b.column(i));
        let dt = match f.data_type() {
            DataType::FixedSizeList(item, d) if is_float(item.data_type()) => {
                let item = if item.data_type() == &DataType::Float16 {
                    DataType::Float16
                } else {
                    DataType::Float32
                };
                vector_type(item, *d)
            }
            DataType::List(item) | DataType::LargeList(item) if is_float(item.data_type()) => {
                let dim = match col {
                    Some(c) => match c.data_type() {
                        DataType::List(_) => first_len(c.as_list::<i32>()),
                        _ => first_len(c.as_list::<i64>()),
                    },
                    None => None,
                };
                let Some(dim) = dim else {
                    return Err(Error::schema(format!(
                        "column '{}' is a list of floats but has no rows to take a vector dimension from; \
                         pass a schema with fixed_size_list<float32, d>",
                        f.name()
                    )));
                };
                let item = if item.data_type() == &DataType::Float16 {
                    DataType::Float16
                } else {
                    DataType::Float32
                };
                vector_type(item, dim as i32)
            }
            // A column of nothing but nulls says nothing of its type; guessing would make
            // every later write of real values fail.
            DataType::Null => {
                return Err(Error::schema(format!(
                    "column '{}' holds only nulls, so its type cannot be inferred; pass \
                     schema= (a vector column is fixed_size_list<float32, dim>)",
                    f.name()
                )))
            }
            // View types are normalised: not every Arrow consumer handles them yet.
            DataType::Utf8View => DataType::Utf8,
            DataType::BinaryView => DataType::Binary,
            other => other.clone(),
        };
        fields.push(Field::new(f.name(), dt, f.is_nullable()).with_metadata(f.metadata().clone()));
    }
    let out = Schema::new_with_metadata(fields, schema.metadata().clone());
    validate_schema(&out)?;
    Ok(Arc::new(out))
}

/// Checks that a table schema is usable: unique, non-reserved names and sane vector columns.
pub fn validate_schema(schema: &Schema) -> Result<()> {
    if schema.fields().is_empty() {
        return Err(Error::schema("a table needs at least one column"));
    }
    let mut seen = std::collections::HashSet::new();
    for f in schema.fields() {
        if f.name().is_empty() {
            return Err(Error::schema("column names must not be empty"));
        }
        if f.name().contains('\0') {
            return Err(Error::schema(format!(
                "column name {:?} holds a NUL character",
                f.name()
            )));
        }
        if RESERVED_COLUMNS.contains(&f.name().as_str()) {
            return Err(Error::schema(format!(
                "column name '{}' is reserved for query results",
                f.name()
            )));
        }
        if !seen.insert(f.name().as_str()) {
            return Err(Error::schema(format!(
                "column '{}' appears twice",
                f.name()
            )));
        }
        if let DataType::FixedSizeList(item, d) = f.data_type() {
            if is_float(item.data_type())
                && !matches!(item.data_type(), DataType::Float32 | DataType::Float16)
            {
                return Err(Error::schema(format!(
                    "vector column '{}' has {} items; use float32 or float16",
                    f.name(),
                    item.data_type()
                )));
            }
            if is_float(item.data_type()) && !(1..=MAX_DIM).contains(d) {
                return Err(Error::schema(format!(
                    "vector column '{}' has dimension {d}; it must be between 1 and {MAX_DIM}",
                    f.name()
                )));
            }
        }
    }
    Ok(())
}

/// Converts `batch` to exactly `target`'s columns and types, validating every value.
///
/// `row_base` is the index of the batch's first row in the caller's whole input, so errors
/// name the row the user knows.
pub fn conform(batch: &RecordBatch, target: &SchemaRef, row_base: usize) -> Result<RecordBatch> {
    let src = batch.schema();
    for f in src.fields() {
        if target.field_with_name(f.name()).is_err() {
            let names: Vec<&str> = target.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(Error::schema(format!(
                "unexpected column '{}' (type {}); the table has {:?}",
                f.name(),
                type_name(f.data_type()),
                names
            )));
        }
    }
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(target.fields().len());
    for tf in target.fields() {
        let col = match batch.column_by_name(tf.name()) {
            Some(c) => conform_column(c, tf, row_base)?,
            None if tf.is_nullable() && !is_vector_field(tf) => {
                arrow::array::new_null_array(tf.data_type(), batch.num_rows())
            }
            None => {
                return Err(Error::schema(format!(
                    "missing column '{}' (expected type {})",
                    tf.name(),
                    type_name(tf.data_type())
                )))
            }
        };
        if !tf.is_nullable() && col.null_count() > 0 {
            let row = (0..col.len()).find(|&i| col.is_null(i)).unwrap_or(0);
            return Err(Error::invalid(format!(
                "column '{}' is not nullable but row {} is null",
                tf.name(),
                row_base + row
            )));
        }
        cols.push(col);
    }
    RecordBatch::try_new_with_options(
        target.clone(),
        cols,
        &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )
    .map_err(|e| Error::schema(e.to_string()))
}

/// Whether `a` and `b` are the same type up to the names and nullability of nested fields
/// (`list<item: float>` and `list<element: float not null>`); struct fields match by name.
pub fn same_type(a: &DataType, b: &DataType) -> bool {
    nested_match(a, b, false, &|x, y| x == y)
}

/// Whether values of type `from` convert to `to`: the same kind of scalar (integer to integer
/// or float, float to float, string to string, ...), an all-null column, or nested types
/// (lists and large lists alike) whose leaves do. Values convert as Arrow casts them: a
/// timestamp to a coarser unit truncates, a float64 past float32's range becomes infinite;
/// nulls in a non-nullable nested field are refused.
fn converts(from: &DataType, to: &DataType) -> bool {
    nested_match(from, to, true, &|from, to| {
        from == to
            || from == &DataType::Null
            || (from.is_integer() && (to.is_integer() || to.is_floating()))
            || (from.is_floating() && to.is_floating())
            || (is_string(from) && is_string(to))
            || (is_binary(from) && is_binary(to))
            || (matches!(from, DataType::Timestamp(_, _))
                && matches!(to, DataType::Timestamp(_, _)))
            || (matches!(from, DataType::Date32 | DataType::Date64)
                && matches!(to, DataType::Date32 | DataType::Date64))
    })
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn is_binary(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView
    )
}

/// `leaf` on the scalar types at the same places of `a` and `b`, which must nest alike (a
/// list may stand for a large list when `any_list`).
fn nested_match(
    a: &DataType,
    b: &DataType,
    any_list: bool,
    leaf: &dyn Fn(&DataType, &DataType) -> bool,
) -> bool {
    use DataType::{FixedSizeList, LargeList, List, Map, Null, Struct};
    match (a, b) {
        (List(x), List(y)) | (LargeList(x), LargeList(y)) => {
            nested_match(x.data_type(), y.data_type(), any_list, leaf)
        }
        (List(x), LargeList(y)) | (LargeList(x), List(y)) if any_list => {
            nested_match(x.data_type(), y.data_type(), any_list, leaf)
        }
        (FixedSizeList(x, n), FixedSizeList(y, m)) => {
            n == m && nested_match(x.data_type(), y.data_type(), any_list, leaf)
        }
        (Struct(xs), Struct(ys)) => {
            xs.len() == ys.len()
                && ys.iter().all(|y| {
                    xs.iter()
                        .find(|x| x.name() == y.name())
                        .is_some_and(|x| nested_match(x.data_type(), y.data_type(), any_list, leaf))
                })
        }
        (Map(x, xs), Map(y, ys)) => {
            xs == ys && nested_match(x.data_type(), y.data_type(), any_list, leaf)
        }
        (List(_) | LargeList(_) | FixedSizeList(..) | Struct(_) | Map(..), _)
        | (_, List(_) | LargeList(_) | FixedSizeList(..) | Struct(_) | Map(..))
            if a != &Null =>
        {
            false
        }
        _ => leaf(a, b),
    }
}

/// Checks that no nested field declared non-nullable holds a null, at any depth.
fn nested_nulls_allowed(data: &arrow::array::ArrayData) -> std::result::Result<(), String> {
    data.validate_nulls().map_err(|e| e.to_string())?;
    data.child_data().iter().try_for_each(nested_nulls_allowed)
}

fn conform_column(col: &ArrayRef, target: &FieldRef, row_base: usize) -> Result<ArrayRef> {
    let name = target.name();
    // Rows converted without the schema type an all-null column as `null`: nulls of the
    // target type (refused below if the column is not nullable).
    if col.data_type() == &DataType::Null {
        if vector_dim(target.data_type()).is_some() && !col.is_empty() {
            // Vectors are never null (search would have nothing to measure).
            return Err(Error::invalid(format!(
                "column '{name}': row {row_base} has a null vector"
            )));
        }
        return Ok(arrow::array::new_null_array(target.data_type(), col.len()));
    }
    if let Some(dim) = vector_dim(target.data_type()) {
        return conform_vectors(col, name, dim, target.data_type(), row_base);
    }
    if col.data_type() == target.data_type() {
        // The type matches, but Arrow lets a value hold nulls where a nested field says it
        // cannot; such a file could not be read back.
        nested_nulls_allowed(&col.to_data())
            .map_err(|e| Error::invalid(format!("column '{name}': {e}")))?;
        return Ok(col.clone());
    }
    let (from, to) = (col.data_type(), target.data_type());
    let allowed = converts(from, to);
    if !allowed {
        return Err(Error::schema(format!(
            "column '{name}': expected {}, got {}",
            type_name(to),
            type_name(from)
        )));
    }
    let opts = CastOptions {
        safe: false,
        ..Default::default()
    };
    let out = cast_with_options(col, to, &opts).map_err(|e| {
        Error::invalid(format!(
            "column '{name}': cannot convert {from} to {to}: {e}"
        ))
    })?;
    nested_nulls_allowed(&out.to_data())
        .map_err(|e| Error::invalid(format!("column '{name}': {e}")))?;
    Ok(out)
}

/// The flat values of a list-like column and each row's (offset, length) in them; `None`
/// for a column that is not a list.
pub(crate) fn list_spans(col: &ArrayRef) -> Option<(ArrayRef, Vec<(usize, usize)>)> {
    let n = col.len();
    Some(match col.data_type() {
        DataType::FixedSizeList(_, d) => {
            let a = col.as_fixed_size_list();
            let d = *d as usize;
            (
                a.values().clone(),
                (0..n).map(|i| (a.value_offset_at(i), d)).collect(),
            )
        }
        DataType::List(_) => {
            let a = col.as_list::<i32>();
            let o = a.value_offsets();
            (
                a.values().clone(),
                (0..n)
                    .map(|i| (o[i] as usize, (o[i + 1] - o[i]) as usize))
                    .collect(),
            )
        }
        DataType::LargeList(_) => {
            let a = col.as_list::<i64>();
            let o = a.value_offsets();
            (
                a.values().clone(),
                (0..n)
                    .map(|i| (o[i] as usize, (o[i + 1] - o[i]) as usize))
                    .collect(),
            )
        }
        _ => return None,
    })
}

/// Flattened float values and per-row (offset, length) for any list-like float column.
fn conform_vectors(
    col: &ArrayRef,
    name: &str,
    dim: usize,
    target: &DataType,
    row_base: usize,
) -> Result<ArrayRef> {
    let Some((values, spans)) = list_spans(col) else {
        return Err(Error::schema(format!(
            "column '{name}': expected vectors ({}), got {}",
            type_name(target),
            type_name(col.data_type())
        )));
    };
    let n = col.len();
    if !values.data_type().is_numeric() && values.data_type() != &DataType::Null {
        return Err(Error::schema(format!(
            "column '{name}': vectors must hold numbers, got {}",
            type_name(values.data_type())
        )));
    }
    if let Some(row) = (0..n).find(|&i| col.is_null(i)) {
        return Err(Error::invalid(format!(
            "column '{name}': row {} has a null vector",
            row_base + row
        )));
    }
    if let Some((row, (_, len))) = spans.iter().enumerate().find(|(_, (_, len))| *len != dim) {
        return Err(Error::invalid(format!(
            "column '{name}': row {} has a vector of dimension {len}, expected {dim}",
            row_base + row
        )));
    }
    let item = match target {
        DataType::FixedSizeList(item, _) => item.data_type().clone(),
        _ => DataType::Float32,
    };
    let opts = CastOptions {
        safe: false,
        ..Default::default()
    };
    let floats = cast_with_options(&values, &item, &opts).map_err(|e| {
        Error::invalid(format!(
            "column '{name}': cannot convert vector values to {item}: {e}"
        ))
    })?;
    // Gather the rows' spans into one contiguous buffer (a no-op copy for the common case of
    // an unsliced fixed-size list, but it also drops values hidden behind null slots).
    let contiguous = spans.first().is_none_or(|s| s.0 == 0)
        && spans.windows(2).all(|w| w[1].0 == w[0].0 + dim)
        && floats.len() == n * dim;
    let floats = if contiguous {
        floats
    } else {
        let idx: Vec<u64> = spans
            .iter()
            .flat_map(|&(o, _)| (o..o + dim).map(|x| x as u64))
            .collect();
        arrow::compute::take(&floats, &arrow::array::UInt64Array::from(idx), None)
            .map_err(|e| Error::invalid(e.to_string()))?
    };
    check_finite(&floats, name, dim, row_base)?;
    // The table's own item field (its name and nullability), so the column's type is exact.
    let field = match target {
        DataType::FixedSizeList(f, _) => f.clone(),
        _ => Arc::new(Field::new("item", item, true)),
    };
    let fsl = FixedSizeListArray::try_new(field, dim as i32, floats, None)
        .map_err(|e| Error::invalid(e.to_string()))?;
    Ok(Arc::new(fsl))
}

fn check_finite(values: &ArrayRef, name: &str, dim: usize, row_base: usize) -> Result<()> {
    if values.null_count() > 0 {
        let i = (0..values.len()).find(|&i| values.is_null(i)).unwrap_or(0);
        return Err(Error::invalid(format!(
            "column '{name}': row {} has a null at vector position {}",
            row_base + i / dim,
            i % dim
        )));
    }
    let bad = if let Some(f) = values.as_any().downcast_ref::<Float32Array>() {
        f.values()
            .iter()
            .position(|v| !v.is_finite())
            .map(|i| (i, f.value(i) as f64))
    } else if let Some(f) = values.as_any().downcast_ref::<Float16Array>() {
        f.values()
            .iter()
            .position(|v| !v.is_finite())
            .map(|i| (i, f.value(i).to_f64()))
    } else {
        None
    };
    if let Some((i, v)) = bad {
        return Err(Error::invalid(format!(
            "column '{name}': row {} has {v} at vector position {}; vectors must be finite",
            row_base + i / dim,
            i % dim
        )));
    }
    Ok(())
}

/// A type's name as Python users know it from pyarrow (`int64`, `string`, `float`, ...).
pub fn type_name(t: &DataType) -> String {
    match t {
        DataType::Utf8 => "string".into(),
        DataType::LargeUtf8 => "large_string".into(),
        DataType::Utf8View => "string_view".into(),
        DataType::Float16 => "halffloat".into(),
        DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Boolean => "bool".into(),
        DataType::FixedSizeList(item, d) => {
            format!("fixed_size_list<{}>[{d}]", type_name(item.data_type()))
        }
        DataType::List(item) => format!("list<{}>", type_name(item.data_type())),
        DataType::LargeList(item) => format!("large_list<{}>", type_name(item.data_type())),
        DataType::Timestamp(unit, tz) => {
            let u = match unit {
                arrow::datatypes::TimeUnit::Second => "s",
                arrow::datatypes::TimeUnit::Millisecond => "ms",
                arrow::datatypes::TimeUnit::Microsecond => "us",
                arrow::datatypes::TimeUnit::Nanosecond => "ns",
            };
            match tz {
                Some(tz) => format!("timestamp[{u}, tz={tz}]"),
                None => format!("timestamp[{u}]"),
            }
        }
        other => other.to_string().to_lowercase(),
    }
}
