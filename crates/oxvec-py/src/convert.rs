//! Python values to engine values.

use crate::error::invalid;
use oxvec::ScalarValue;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyDate, PyDateTime, PyFloat, PyFrozenSet, PyInt, PyList, PySet, PyString, PyTuple,
};

/// Days from 0001-01-01 (`date.toordinal() == 1`) to 1970-01-01.
const UNIX_EPOCH_ORDINAL: i64 = 719_163;

/// Converts a filter parameter: bool, int, float, str, None, datetime.date,
/// datetime.datetime, or a list of those (a tuple, set or 1-D NumPy array too) for `IN ?`.
pub fn param(v: &Bound<'_, PyAny>) -> PyResult<ScalarValue> {
    let many = v.is_instance_of::<PyList>()
        || v.is_instance_of::<PyTuple>()
        || v.is_instance_of::<PySet>()
        || v.is_instance_of::<PyFrozenSet>();
    let array = !many
        && v.hasattr("tolist")?
        && v.getattr("ndim")
            .and_then(|d| d.extract::<usize>())
            .unwrap_or(0)
            == 1;
    if !(many || array) {
        return scalar(v);
    }
    let items = if array {
        v.call_method0("tolist")?
    } else {
        v.clone()
    };
    let items = items
        .try_iter()?
        .map(|x| {
            let x = x?;
            if x.is_instance_of::<PyList>() || x.is_instance_of::<PyTuple>() {
                return Err(invalid(
                    "a list parameter holds single values, not lists".to_string(),
                ));
            }
            scalar(&x)
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok(ScalarValue::List(items))
}

/// Converts one value: bool, int, float, str, None, datetime.date, datetime.datetime.
pub fn scalar(v: &Bound<'_, PyAny>) -> PyResult<ScalarValue> {
    if v.is_none() {
        return Ok(ScalarValue::Null);
    }
    if v.is_instance_of::<PyBool>() {
        return Ok(ScalarValue::Bool(v.extract()?));
    }
    if v.is_instance_of::<PyInt>() {
        return v.extract().map(ScalarValue::Int64).map_err(|_| {
            invalid(format!(
                "filter parameter {v} does not fit a 64-bit integer (the range of integer columns)"
            ))
        });
    }
    if v.is_instance_of::<PyFloat>() {
        return Ok(ScalarValue::Float64(v.extract()?));
    }
    if v.is_instance_of::<PyString>() {
        return Ok(ScalarValue::Utf8(v.extract()?));
    }
    if v.is_instance_of::<PyDateTime>() {
        if !v.getattr("tzinfo")?.is_none() {
            let ts: f64 = v.call_method0("timestamp")?.extract()?;
            return Ok(ScalarValue::TimestampMicros((ts * 1e6).round() as i64));
        }
        let days: i64 = v.call_method0("toordinal")?.extract::<i64>()? - UNIX_EPOCH_ORDINAL;
        let h: i64 = v.getattr("hour")?.extract()?;
        let m: i64 = v.getattr("minute")?.extract()?;
        let s: i64 = v.getattr("second")?.extract()?;
        let us: i64 = v.getattr("microsecond")?.extract()?;
        return Ok(ScalarValue::TimestampMicros(
            ((days * 24 + h) * 60 + m) * 60_000_000 + s * 1_000_000 + us,
        ));
    }
    if v.is_instance_of::<PyDate>() {
        let days: i64 = v.call_method0("toordinal")?.extract::<i64>()? - UNIX_EPOCH_ORDINAL;
        return Ok(ScalarValue::Date32(days as i32));
    }
    // numpy scalars and similar: fall back on their Python equivalents.
    if v.hasattr("item")? {
        let item = v.call_method0("item").map_err(|_| {
            invalid(format!(
                "filter parameters must be single values; got an array ({})",
                v.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })?;
        if !item.is(v) {
            return scalar(&item);
        }
    }
    Err(invalid(format!(
        "filter parameters must be bool, int, float, str, None, date or datetime, not {}",
        v.get_type().name()?
    )))
}

/// Converts an optional list of parameters.
pub fn params(v: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<ScalarValue>> {
    match v {
        None => Ok(vec![]),
        Some(v) if v.is_none() => Ok(vec![]),
        Some(v) => {
            if v.is_instance_of::<PyString>() || v.is_instance_of::<pyo3::types::PyDict>() {
                return Err(invalid(format!(
                    "params must be a list or tuple of values, not a {}",
                    v.get_type().name()?
                )));
            }
            let items = v.try_iter().map_err(|_| {
                let kind = v
                    .get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default();
                invalid(format!(
                    "params must be a list or tuple of values, not {kind}"
                ))
            })?;
            items.map(|x| param(&x?)).collect()
        }
    }
}

/// Reads query vectors from little-endian float32 bytes.
pub fn f32_from_bytes(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// A duration given in seconds (the Python wrappers turn `timedelta`s into seconds).
/// Durations past `Duration::MAX` (about 584 billion years) saturate: they mean "forever".
pub fn seconds(name: &str, s: f64) -> PyResult<std::time::Duration> {
    if s.is_nan() || s < 0.0 {
        return Err(invalid(format!(
            "{name} must be a non-negative duration, got {s} seconds"
        )));
    }
    Ok(std::time::Duration::try_from_secs_f64(s).unwrap_or(std::time::Duration::MAX))
}
