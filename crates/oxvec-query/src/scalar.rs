//! Literal and parameter values.

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, NullArray, StringArray,
    TimestampMicrosecondArray,
};
use std::sync::Arc;

/// A single typed value: a literal in a filter, a bound parameter, or an update value.
#[derive(Debug, Clone, PartialEq)]
pub enum ScalarValue {
    Null,
    Bool(bool),
    Int64(i64),
    Float64(f64),
    Utf8(String),
    /// Days since the Unix epoch.
    Date32(i32),
    /// Microseconds since the Unix epoch, no time zone.
    TimestampMicros(i64),
    /// A list of values bound to one placeholder: `x IN ?` and `array_has_any(tags, ?)`
    /// expand it into its items. The binder refuses it anywhere else, so no expression
    /// holds one.
    List(Vec<ScalarValue>),
}

impl ScalarValue {
    /// The value repeated `n` times as an Arrow array.
    pub fn to_array(&self, n: usize) -> ArrayRef {
        match self {
            // A list never reaches evaluation (see the variant); NULL is the honest
            // single value for it if it ever did.
            ScalarValue::Null | ScalarValue::List(_) => Arc::new(NullArray::new(n)),
            ScalarValue::Bool(v) => Arc::new(BooleanArray::from(vec![*v; n])),
            ScalarValue::Int64(v) => Arc::new(Int64Array::from_value(*v, n)),
            ScalarValue::Float64(v) => Arc::new(Float64Array::from_value(*v, n)),
            ScalarValue::Utf8(v) => {
                Arc::new(StringArray::from_iter_values(std::iter::repeat_n(v, n)))
            }
            ScalarValue::Date32(v) => Arc::new(Date32Array::from_value(*v, n)),
            ScalarValue::TimestampMicros(v) => {
                Arc::new(TimestampMicrosecondArray::from_value(*v, n))
            }
        }
    }

    /// A short description for error messages.
    pub fn describe(&self) -> String {
        match self {
            ScalarValue::Null => "NULL".into(),
            ScalarValue::Bool(v) => v.to_string(),
            ScalarValue::Int64(v) => v.to_string(),
            ScalarValue::Float64(v) => v.to_string(),
            ScalarValue::Utf8(v) => format!("'{v}'"),
            ScalarValue::Date32(v) => format!("date {v}"),
            ScalarValue::TimestampMicros(v) => format!("timestamp {v}us"),
            ScalarValue::List(items) => {
                let shown: Vec<String> = items.iter().take(8).map(|v| v.describe()).collect();
                let more = if items.len() > 8 { ", ..." } else { "" };
                format!("[{}{more}]", shown.join(", "))
            }
        }
    }
}
