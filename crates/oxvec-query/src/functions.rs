//! The scalar functions of the filter language ([`Func`]), `||`, and struct field access,
//! evaluated on Arrow arrays.
//!
//! Each takes evaluated arguments ([`Value`]s: an array, or a constant as a length-1 array)
//! and keeps a constant result constant, so `lower('ABC')` is computed once per batch.

use crate::eval::{arrow_err, cast_value, common_type, Value};
use crate::expr::Func;
use crate::scalar::ScalarValue;
use arrow::array::{make_array, Array, ArrayRef, AsArray, Int64Array, StringArray};
use arrow::buffer::NullBuffer;
use arrow::compute::kernels::{comparison, length, regexp, zip};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use oxvec_core::{Error, Result};
use std::sync::Arc;

/// Evaluates `func` on its arguments; `consts` are the arguments that were literals (the
/// regular expression and its flags).
pub(crate) fn call(func: Func, args: Vec<Value>, consts: &[Option<&ScalarValue>]) -> Result<Value> {
    // Rows in the batch: the length of any argument that is an array (constants are 1).
    let n = args.iter().find(|a| !a.is_scalar()).map_or(1, Value::len);
    let all_scalar = args.iter().all(Value::is_scalar);
    let shape = |a: ArrayRef| {
        if all_scalar {
            Value::Scalar(a)
        } else {
            Value::Array(a)
        }
    };
    let name = func.sql_name();
    match func {
        Func::Lower | Func::Upper => {
            let s = string_arg(&args[0], name)?;
            let out: StringArray = s
                .iter()
                .map(|v| {
                    v.map(|v| {
                        if func == Func::Lower {
                            v.to_lowercase()
                        } else {
                            v.to_uppercase()
                        }
                    })
                })
                .collect();
            Ok(args[0].map(Arc::new(out)))
        }
        Func::Length => {
            let s = string_arg(&args[0], name)?;
            let out: Int64Array = s
                .iter()
                .map(|v| v.map(|v| v.chars().count() as i64))
                .collect();
            Ok(args[0].map(Arc::new(out)))
        }
        Func::Contains | Func::StartsWith | Func::EndsWith => {
            let (a, b) = (string_value(&args[0], name)?, string_value(&args[1], name)?);
            let out = crate::eval::apply2(&a, &b, |x, y| match func {
                Func::Contains => comparison::contains(x, y),
                Func::StartsWith => comparison::starts_with(x, y),
                _ => comparison::ends_with(x, y),
            })?;
            Ok(shape(Arc::new(out)))
        }
        Func::RegexpMatch => {
            let s = string_arg(&args[0], name)?;
            let text = |i: usize| match consts.get(i).copied().flatten() {
                Some(ScalarValue::Utf8(p)) => Some(p.as_str()),
                _ => None,
            };
            let pattern = text(1)
                .ok_or_else(|| Error::filter("regexp_match's pattern must be a constant string"))?;
            let flags = text(2).filter(|f| !f.is_empty());
            if let Some(f) = flags {
                if let Some(bad) = f.chars().find(|c| !"imsUx".contains(*c)) {
                    return Err(Error::filter(format!(
                        "regexp_match flag '{bad}' is not one of i, m, s, U, x"
                    )));
                }
            }
            let out = regexp::regexp_is_match_scalar(&s, pattern, flags)
                .map_err(|e| Error::filter(format!("regexp_match pattern {pattern:?}: {e}")))?;
            Ok(args[0].map(Arc::new(out)))
        }
        Func::ArrayLength => {
            let a = args[0].array();
            if a.data_type() == &DataType::Null {
                return Ok(args[0].clone());
            }
            if !matches!(
                a.data_type(),
                DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _)
            ) {
                return Err(Error::filter(format!(
                    "array_length needs a list, got {}",
                    a.data_type()
                )));
            }
            let lens = length::length(a.as_ref()).map_err(arrow_err)?;
            Ok(args[0].map(
                cast_value(&Value::Array(lens), &DataType::Int64)?
                    .array()
                    .clone(),
            ))
        }
        Func::Abs => {
            let v = &args[0];
            let out: ArrayRef = match v.data_type() {
                DataType::Null => return Ok(v.clone()),
                // An unsigned value is its own absolute value (and may not fit an Int64).
                t if t.is_unsigned_integer() => return Ok(v.clone()),
                t if t.is_integer() => {
                    let x = cast_value(v, &DataType::Int64)?;
                    let a = x.array().as_primitive::<Int64Type>();
                    Arc::new(
                        a.try_unary::<_, Int64Type, _>(|x| {
                            x.checked_abs().ok_or_else(|| {
                                arrow::error::ArrowError::ComputeError(format!(
                                    "abs({x}) overflows"
                                ))
                            })
                        })
                        .map_err(arrow_err)?,
                    )
                }
                t if t.is_floating() => {
                    let x = cast_value(v, &DataType::Float64)?;
                    Arc::new(
                        x.array()
                            .as_primitive::<Float64Type>()
                            .unary::<_, Float64Type>(f64::abs),
                    )
                }
                other => return Err(Error::filter(format!("abs needs a number, got {other}"))),
            };
            Ok(v.map(out))
        }
        Func::JsonString | Func::JsonNumber | Func::JsonBool => {
            let s = string_arg(&args[0], name)?;
            let Some(ScalarValue::Utf8(path)) = consts.get(1).copied().flatten() else {
                return Err(Error::filter(format!(
                    "{name}'s path must be a constant string"
                )));
            };
            let keys = json_path(path)?;
            let found = |text: &str| -> Option<serde_json::Value> {
                let doc: serde_json::Value = serde_json::from_str(text).ok()?;
                keys.iter().try_fold(doc, |v, k| match v {
                    serde_json::Value::Object(mut m) => m.remove(k.as_str()),
                    _ => None,
                })
            };
            let out: ArrayRef = match func {
                Func::JsonString => Arc::new(
                    s.iter()
                        .map(|t| {
                            t.and_then(found).and_then(|v| match v {
                                serde_json::Value::Null => None,
                                serde_json::Value::String(x) => Some(x),
                                other => Some(other.to_string()),
                            })
                        })
                        .collect::<StringArray>(),
                ),
                Func::JsonNumber => Arc::new(
                    s.iter()
                        .map(|t| t.and_then(found).and_then(|v| v.as_f64()))
                        .collect::<arrow::array::Float64Array>(),
                ),
                _ => Arc::new(
                    s.iter()
                        .map(|t| t.and_then(found).and_then(|v| v.as_bool()))
                        .collect::<arrow::array::BooleanArray>(),
                ),
            };
            Ok(args[0].map(out))
        }
        Func::Concat => {
            let parts = args
                .iter()
                .map(|a| string_arg(a, name))
                .collect::<Result<Vec<_>>>()?;
            let rows = if all_scalar { 1 } else { n };
            let out: StringArray = (0..rows)
                .map(|i| {
                    let mut s = String::new();
                    for (p, a) in parts.iter().zip(&args) {
                        let j = if a.is_scalar() { 0 } else { i };
                        if p.is_valid(j) {
                            s.push_str(p.value(j));
                        }
                    }
                    Some(s)
                })
                .collect();
            Ok(shape(Arc::new(out)))
        }
        Func::Coalesce => {
            let mut target = DataType::Null;
            for a in &args {
                let t = a.data_type();
                if t == &DataType::Null || t == &target {
                    continue;
                }
                target = if target == DataType::Null {
                    t.clone()
                } else {
                    common_type(&target, t)
                        .or_else(|| common_type(t, &target))
                        .ok_or_else(|| Error::filter(format!("coalesce mixes {target} and {t}")))?
                };
            }
            let cast = args
                .iter()
                .map(|a| cast_value(a, &target))
                .collect::<Result<Vec<_>>>()?;
            let rows = if all_scalar { 1 } else { n };
            let mut out = cast[cast.len() - 1].clone().into_array(rows)?;
            for a in cast[..cast.len() - 1].iter().rev() {
                let full = a.clone().into_array(rows)?;
                let present = arrow::compute::is_not_null(&full).map_err(arrow_err)?;
                out = zip::zip(&present, &full, &out).map_err(arrow_err)?;
            }
            Ok(shape(out))
        }
    }
}

/// The keys of a JSON path `$.a.b` (or `a.b`): objects only, no array indexes.
fn json_path(path: &str) -> Result<Vec<String>> {
    let body = path
        .strip_prefix("$.")
        .or_else(|| path.strip_prefix('$'))
        .unwrap_or(path);
    let keys: Vec<String> = body.split('.').map(str::to_string).collect();
    if keys.iter().any(|k| k.is_empty() || k.contains(['[', ']'])) {
        return Err(Error::filter(format!(
            "JSON path {path:?} must name object keys, like '$.author.name'"
        )));
    }
    Ok(keys)
}

/// `l || r`: strings joined, NULL when either is (other values are cast to text first).
pub(crate) fn concat(l: &Value, r: &Value, n: usize) -> Result<Value> {
    let scalar = l.is_scalar() && r.is_scalar();
    let rows = if scalar { 1 } else { n };
    let (a, b) = (string_arg(l, "||")?, string_arg(r, "||")?);
    let a = if l.is_scalar() { expand(&a, rows)? } else { a };
    let b = if r.is_scalar() { expand(&b, rows)? } else { b };
    let out = arrow::compute::kernels::concat_elements::concat_elements_utf8(&a, &b)
        .map_err(arrow_err)?;
    Ok(if scalar {
        Value::Scalar(Arc::new(out))
    } else {
        Value::Array(Arc::new(out))
    })
}

/// Field `name` of the struct value `v`; NULL where the struct itself is.
pub(crate) fn field(v: &Value, name: &str) -> Result<Value> {
    let a = v.array();
    if a.data_type() == &DataType::Null {
        return Ok(v.clone());
    }
    let s = a
        .as_struct_opt()
        .ok_or_else(|| Error::filter(format!("'.{name}' needs a struct, got {}", a.data_type())))?;
    let child = s
        .column_by_name(name)
        .ok_or_else(|| Error::filter(format!("the struct has no field '{name}'")))?;
    if child.data_type() == &DataType::Null {
        // All null already, and a null-typed array carries no validity bitmap.
        return Ok(v.map(child.clone()));
    }
    let nulls = NullBuffer::union(s.nulls(), child.nulls());
    let data = child
        .to_data()
        .into_builder()
        .nulls(nulls)
        .build()
        .map_err(arrow_err)?;
    Ok(v.map(make_array(data)))
}

/// `v` as a string array (numbers, dates and booleans cast to their text).
fn string_arg(v: &Value, func: &str) -> Result<StringArray> {
    let t = v.data_type();
    if matches!(
        t,
        DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(_, _)
            | DataType::Struct(_)
            | DataType::Binary
            | DataType::LargeBinary
    ) {
        return Err(Error::filter(format!("{func} needs text, got {t}")));
    }
    let cast = cast_value(v, &DataType::Utf8)
        .map_err(|_| Error::filter(format!("{func} needs text, got {t}")))?;
    Ok(cast.array().as_string::<i32>().clone())
}

/// `v` as a string value, for the kernels that take either an array or a constant.
fn string_value(v: &Value, func: &str) -> Result<Value> {
    let t = v.data_type();
    if !matches!(
        t,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
    ) {
        return Err(Error::filter(format!("{func} needs text, got {t}")));
    }
    cast_value(v, &DataType::Utf8)
}

fn expand(a: &StringArray, n: usize) -> Result<StringArray> {
    let idx = arrow::array::UInt32Array::from(vec![0u32; n]);
    let out = arrow::compute::take(a, &idx, None).map_err(arrow_err)?;
    Ok(out.as_string::<i32>().clone())
}
