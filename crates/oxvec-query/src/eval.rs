//! Evaluation of an [`Expr`] on a record batch with Arrow compute kernels.
//!
//! SQL semantics: comparisons with NULL are NULL, `AND`/`OR` are three-valued (Kleene), and a
//! row passes a filter only when the condition is TRUE.

use crate::expr::{BinaryOp, Expr};
use crate::functions;
use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Datum, RecordBatch, Scalar, UInt32Array,
};
use arrow::compute::kernels::{boolean, cmp, numeric};
use arrow::compute::{cast_with_options, unary, CastOptions};
use arrow::datatypes::{DataType, Float32Type, Float64Type};
use arrow::error::ArrowError;
use oxvec_core::{Error, Result};
use std::sync::Arc;

/// An evaluated expression: a column-length array, or a single value (length-1 array).
#[derive(Debug, Clone)]
pub enum Value {
    Array(ArrayRef),
    Scalar(ArrayRef),
}

impl Value {
    pub(crate) fn array(&self) -> &ArrayRef {
        match self {
            Value::Array(a) | Value::Scalar(a) => a,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.array().len()
    }

    pub(crate) fn data_type(&self) -> &DataType {
        self.array().data_type()
    }

    pub(crate) fn is_scalar(&self) -> bool {
        matches!(self, Value::Scalar(_))
    }

    pub(crate) fn map(&self, a: ArrayRef) -> Value {
        if self.is_scalar() {
            Value::Scalar(a)
        } else {
            Value::Array(a)
        }
    }

    /// Expands to a full-length array of `n` rows.
    pub fn into_array(self, n: usize) -> Result<ArrayRef> {
        match self {
            Value::Array(a) => Ok(a),
            Value::Scalar(a) => {
                let idx = UInt32Array::from(vec![0u32; n]);
                arrow::compute::take(&a, &idx, None).map_err(arrow_err)
            }
        }
    }
}

pub(crate) fn arrow_err(e: ArrowError) -> Error {
    Error::filter(e.to_string())
}

fn both_scalar(l: &Value, r: &Value) -> bool {
    l.is_scalar() && r.is_scalar()
}

/// Runs a two-argument kernel on values that may each be an array or a scalar.
pub(crate) fn apply2<T>(
    l: &Value,
    r: &Value,
    f: impl Fn(&dyn Datum, &dyn Datum) -> Result<T, ArrowError>,
) -> Result<T> {
    let wrap = |v: &Value| -> Box<dyn Datum> {
        match v {
            Value::Array(a) => Box::new(a.clone()),
            Value::Scalar(a) => Box::new(Scalar::new(a.clone())),
        }
    };
    f(wrap(l).as_ref(), wrap(r).as_ref()).map_err(arrow_err)
}

/// Evaluates `expr` against `batch`.
pub fn evaluate(expr: &Expr, batch: &RecordBatch) -> Result<Value> {
    let n = batch.num_rows();
    Ok(match expr {
        Expr::Column(name) => Value::Array(
            batch
                .column_by_name(name)
                .cloned()
                .ok_or_else(|| Error::filter(format!("unknown column '{name}'")))?,
        ),
        Expr::Literal(v) => Value::Scalar(v.to_array(1)),
        Expr::Binary { left, op, right } => {
            let (l, r) = (evaluate(left, batch)?, evaluate(right, batch)?);
            binary(l, *op, r, n)?
        }
        Expr::Not(e) => {
            let v = evaluate(e, batch)?;
            let b = as_bool(&v, "NOT")?;
            v.map(Arc::new(boolean::not(&b).map_err(arrow_err)?))
        }
        Expr::Negate(e) => {
            let v = evaluate(e, batch)?;
            if !v.data_type().is_numeric() {
                return Err(Error::filter(format!(
                    "cannot negate a value of type {}",
                    v.data_type()
                )));
            }
            v.map(numeric::neg(v.array()).map_err(arrow_err)?)
        }
        Expr::IsNull { expr, negated } => {
            let v = evaluate(expr, batch)?;
            let out = if *negated {
                arrow::compute::is_not_null(v.array())
            } else {
                arrow::compute::is_null(v.array())
            }
            .map_err(arrow_err)?;
            v.map(Arc::new(out))
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let v = evaluate(expr, batch)?;
            if let Some(out) = in_set(&v, list)? {
                return if *negated { negate_bool(out) } else { Ok(out) };
            }
            let mut acc: Option<Value> = None;
            for item in list {
                let eq = binary(v.clone(), BinaryOp::Eq, evaluate(item, batch)?, n)?;
                acc = Some(match acc {
                    None => eq,
                    Some(prev) => binary(prev, BinaryOp::Or, eq, n)?,
                });
            }
            let out =
                acc.unwrap_or_else(|| Value::Scalar(Arc::new(BooleanArray::from(vec![false]))));
            if *negated {
                negate_bool(out)?
            } else {
                out
            }
        }
        Expr::Between {
            expr,
            low,
            high,
            negated,
        } => {
            let v = evaluate(expr, batch)?;
            let ge = binary(v.clone(), BinaryOp::GtEq, evaluate(low, batch)?, n)?;
            let le = binary(v, BinaryOp::LtEq, evaluate(high, batch)?, n)?;
            let out = binary(ge, BinaryOp::And, le, n)?;
            if *negated {
                negate_bool(out)?
            } else {
                out
            }
        }
        Expr::ArrayHas { expr, values, all } => array_has(evaluate(expr, batch)?, values, *all)?,
        Expr::Call { func, args } => {
            let values = args
                .iter()
                .map(|a| evaluate(a, batch))
                .collect::<Result<Vec<_>>>()?;
            let consts: Vec<Option<&crate::ScalarValue>> = args
                .iter()
                .map(|a| match a {
                    Expr::Literal(v) => Some(v),
                    _ => None,
                })
                .collect();
            functions::call(*func, values, &consts)?
        }
        Expr::Field { expr, name } => functions::field(&evaluate(expr, batch)?, name)?,
        Expr::Like {
            expr,
            pattern,
            negated,
            case_insensitive,
        } => {
            let v = evaluate(expr, batch)?;
            let p = evaluate(pattern, batch)?;
            for (side, x) in [("LIKE operand", &v), ("LIKE pattern", &p)] {
                if !matches!(
                    x.data_type(),
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
                ) {
                    return Err(Error::filter(format!(
                        "{side} must be a string, not {}",
                        x.data_type()
                    )));
                }
            }
            let (v, p) = coerce(v, p, "LIKE")?;
            use arrow::compute::kernels::comparison as c;
            let out = apply2(&v, &p, |a, b| match (negated, case_insensitive) {
                (false, false) => c::like(a, b),
                (true, false) => c::nlike(a, b),
                (false, true) => c::ilike(a, b),
                (true, true) => c::nilike(a, b),
            })?;
            if both_scalar(&v, &p) {
                Value::Scalar(Arc::new(out))
            } else {
                Value::Array(Arc::new(out))
            }
        }
    })
}

/// Lists at least this long are looked up in a hash set rather than compared one by one.
const HASHED_IN_LIST: usize = 8;

/// `v IN (constants)` by a hash-set lookup per row, when `v` is an integer or string
/// array and every item a constant of the same kind (else `None`: the general path). SQL
/// semantics: a NULL `v` is NULL; a value not found is NULL if the list holds a NULL.
fn in_set(v: &Value, list: &[Expr]) -> Result<Option<Value>> {
    use crate::ScalarValue as S;
    if list.len() < HASHED_IN_LIST || v.is_scalar() {
        return Ok(None);
    }
    let mut has_null = false;
    let t = v.data_type().clone();
    let out: BooleanArray = if t.is_integer() {
        let mut set = std::collections::HashSet::with_capacity(list.len());
        for item in list {
            match item {
                Expr::Literal(S::Int64(x)) => {
                    set.insert(*x as i128);
                }
                Expr::Literal(S::Null) => has_null = true,
                _ => return Ok(None),
            }
        }
        let wide = cast_value(v, &DataType::Decimal128(38, 0)).ok();
        let Some(wide) = wide else { return Ok(None) };
        let a = wide
            .array()
            .as_primitive::<arrow::datatypes::Decimal128Type>();
        a.iter()
            .map(|x| {
                x.and_then(|x| {
                    if set.contains(&x) {
                        Some(true)
                    } else if has_null {
                        None
                    } else {
                        Some(false)
                    }
                })
            })
            .collect()
    } else if is_string(&t) {
        let mut set = std::collections::HashSet::with_capacity(list.len());
        for item in list {
            match item {
                Expr::Literal(S::Utf8(x)) => {
                    set.insert(x.as_str());
                }
                Expr::Literal(S::Null) => has_null = true,
                _ => return Ok(None),
            }
        }
        let text = cast_value(v, &DataType::Utf8)?;
        let a = text.array().as_string::<i32>();
        a.iter()
            .map(|x| {
                x.and_then(|x| {
                    if set.contains(x) {
                        Some(true)
                    } else if has_null {
                        None
                    } else {
                        Some(false)
                    }
                })
            })
            .collect()
    } else {
        return Ok(None);
    };
    Ok(Some(Value::Array(Arc::new(out))))
}

/// `array_has_any` / `array_has_all` over a list value: each constant compared with
/// every element at once (the elements flattened), then gathered per row. A null list is
/// NULL; null elements match nothing.
fn array_has(v: Value, values: &[crate::ScalarValue], all: bool) -> Result<Value> {
    let a = v.array().clone();
    let (child, spans): (ArrayRef, Vec<(usize, usize)>) = match a.data_type() {
        DataType::List(_) => list_spans(a.as_list::<i32>()),
        DataType::LargeList(_) => list_spans(a.as_list::<i64>()),
        DataType::FixedSizeList(_, d) => {
            let l = a.as_fixed_size_list();
            let d = *d as usize;
            (
                l.values().clone(),
                (0..l.len())
                    .map(|i| (l.value_offset_at(i), l.value_offset_at(i) + d))
                    .collect(),
            )
        }
        DataType::Null => return Ok(v.map(Arc::new(BooleanArray::new_null(a.len())))),
        other => {
            return Err(Error::filter(format!(
                "array_has_any / array_has_all need a list column, got {other}"
            )))
        }
    };
    let m = child.len();
    let hits: Vec<BooleanArray> = values
        .iter()
        .map(|x| {
            let eq = binary(
                Value::Array(child.clone()),
                BinaryOp::Eq,
                Value::Scalar(x.to_array(1)),
                m,
            )?;
            as_bool(&Value::Array(eq.into_array(m)?), "array_has")
        })
        .collect::<Result<_>>()?;
    let has =
        |h: &BooleanArray, (s, e): (usize, usize)| (s..e).any(|j| h.is_valid(j) && h.value(j));
    let out: BooleanArray = spans
        .iter()
        .enumerate()
        .map(|(i, &span)| {
            if a.is_null(i) {
                None
            } else if all {
                Some(hits.iter().all(|h| has(h, span)))
            } else {
                Some(hits.iter().any(|h| has(h, span)))
            }
        })
        .collect();
    Ok(v.map(Arc::new(out)))
}

/// A list array's flattened elements and each row's `start..end` in them.
fn list_spans<O: arrow::array::OffsetSizeTrait>(
    l: &arrow::array::GenericListArray<O>,
) -> (ArrayRef, Vec<(usize, usize)>) {
    let o = l.value_offsets();
    let spans = o
        .windows(2)
        .map(|w| (w[0].as_usize(), w[1].as_usize()))
        .collect();
    (l.values().clone(), spans)
}

fn negate_bool(v: Value) -> Result<Value> {
    let b = as_bool(&v, "NOT")?;
    Ok(v.map(Arc::new(boolean::not(&b).map_err(arrow_err)?)))
}

/// The boolean array inside `v`; NULL literals become a NULL boolean.
fn as_bool(v: &Value, ctx: &str) -> Result<BooleanArray> {
    match v.data_type() {
        DataType::Boolean => Ok(v
            .array()
            .as_any()
            .downcast_ref::<BooleanArray>()
            .cloned()
            .unwrap_or_else(|| BooleanArray::from(Vec::<bool>::new()))),
        DataType::Null => Ok(BooleanArray::new_null(v.array().len())),
        other => Err(Error::filter(format!(
            "{ctx} needs a boolean operand, got {other}"
        ))),
    }
}

/// Floats with `-0.0` made `0.0`: Arrow compares floats by IEEE total order, where
/// `-0.0 < 0.0`, but SQL compares values, where they are equal (`f * 0 = 0` must hold for a
/// negative `f`). NaN stays as it is: equal to itself and above every number, as in
/// PostgreSQL and DuckDB.
fn unsigned_zero(v: Value) -> Value {
    let a = v.array();
    let out: ArrayRef = match a.data_type() {
        DataType::Float64 => Arc::new(unary::<_, _, Float64Type>(
            a.as_primitive::<Float64Type>(),
            |x| x + 0.0,
        )),
        DataType::Float32 => Arc::new(unary::<_, _, Float32Type>(
            a.as_primitive::<Float32Type>(),
            |x| x + 0.0,
        )),
        _ => return v,
    };
    v.map(out)
}

/// Whether `v` is a float constant other than zero (or a null one).
fn nonzero_constant(v: &Value) -> bool {
    let Value::Scalar(a) = v else {
        return false;
    };
    if a.is_empty() || a.is_null(0) {
        return true;
    }
    match a.data_type() {
        DataType::Float64 => a.as_primitive::<Float64Type>().value(0) != 0.0,
        DataType::Float32 => a.as_primitive::<Float32Type>().value(0) != 0.0,
        _ => false,
    }
}

fn binary(l: Value, op: BinaryOp, r: Value, n: usize) -> Result<Value> {
    let scalar_out = both_scalar(&l, &r);
    let wrap = |a: ArrayRef| {
        if scalar_out {
            Value::Scalar(a)
        } else {
            Value::Array(a)
        }
    };
    match op {
        BinaryOp::Concat => functions::concat(&l, &r, n),
        BinaryOp::And | BinaryOp::Or => {
            let name = if op == BinaryOp::And { "AND" } else { "OR" };
            let (mut lb, mut rb) = (as_bool(&l, name)?, as_bool(&r, name)?);
            if !scalar_out {
                // Broadcast a constant side to the batch length.
                if l.is_scalar() {
                    lb = as_bool(&Value::Array(l.map(Arc::new(lb)).into_array(n)?), name)?;
                }
                if r.is_scalar() {
                    rb = as_bool(&Value::Array(r.map(Arc::new(rb)).into_array(n)?), name)?;
                }
            }
            let out = if op == BinaryOp::And {
                boolean::and_kleene(&lb, &rb)
            } else {
                boolean::or_kleene(&lb, &rb)
            };
            Ok(wrap(Arc::new(out.map_err(arrow_err)?)))
        }
        _ if op.is_comparison() => {
            let (l, r) = coerce(l, r, "compare")?;
            // Against a constant other than zero, -0.0 and 0.0 order alike: no pass needed.
            let (l, r) = if nonzero_constant(&l) || nonzero_constant(&r) {
                (l, r)
            } else {
                (unsigned_zero(l), unsigned_zero(r))
            };
            let out = apply2(&l, &r, |a, b| match op {
                BinaryOp::Eq => cmp::eq(a, b),
                BinaryOp::NotEq => cmp::neq(a, b),
                BinaryOp::Lt => cmp::lt(a, b),
                BinaryOp::LtEq => cmp::lt_eq(a, b),
                BinaryOp::Gt => cmp::gt(a, b),
                _ => cmp::gt_eq(a, b),
            })?;
            Ok(wrap(Arc::new(out)))
        }
        _ => {
            for x in [&l, &r] {
                if !(x.data_type().is_numeric() || x.data_type() == &DataType::Null) {
                    return Err(Error::filter(format!(
                        "arithmetic needs numbers, got {}",
                        x.data_type()
                    )));
                }
            }
            let (l, r) = coerce(l, r, "combine")?;
            let out = apply2(&l, &r, |a, b| match op {
                BinaryOp::Plus => numeric::add(a, b),
                BinaryOp::Minus => numeric::sub(a, b),
                BinaryOp::Multiply => numeric::mul(a, b),
                BinaryOp::Divide => numeric::div(a, b),
                _ => numeric::rem(a, b),
            })?;
            Ok(wrap(out))
        }
    }
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn is_temporal(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _)
    )
}

/// The type two differently typed operands are both cast to, if any.
pub(crate) fn common_type(a: &DataType, b: &DataType) -> Option<DataType> {
    if a.is_integer() && b.is_integer() {
        return Some(DataType::Int64);
    }
    if a.is_numeric() && b.is_numeric() {
        return Some(DataType::Float64);
    }
    if is_string(a) && is_temporal(b) {
        return Some(b.clone());
    }
    if is_temporal(a) && (is_string(b) || is_temporal(b)) {
        return Some(if matches!(b, DataType::Timestamp(_, _)) {
            b.clone()
        } else {
            a.clone()
        });
    }
    if is_string(a) && is_string(b) {
        return Some(DataType::Utf8);
    }
    None
}

/// Whether a literal of type `from` may be cast to a column's type `to` without changing
/// what the comparison means (2.5 must not become 2 to match an integer column).
fn literal_fits(from: &DataType, to: &DataType) -> bool {
    (from.is_integer() && to.is_numeric())
        || (from.is_floating() && to.is_floating())
        || (is_string(from) && (is_string(to) || is_temporal(to)))
        || (matches!(from, DataType::Date32 | DataType::Timestamp(_, _)) && is_temporal(to))
}

pub(crate) fn cast_value(v: &Value, to: &DataType) -> Result<Value> {
    let opts = CastOptions {
        safe: false,
        ..Default::default()
    };
    Ok(v.map(cast_with_options(v.array(), to, &opts).map_err(arrow_err)?))
}

fn coerce(l: Value, r: Value, what: &str) -> Result<(Value, Value)> {
    let (lt, rt) = (l.data_type().clone(), r.data_type().clone());
    if lt == rt {
        return Ok((l, r));
    }
    if lt == DataType::Null {
        return Ok((cast_value(&l, &rt)?, r));
    }
    if rt == DataType::Null {
        return Ok((l.clone(), cast_value(&r, &lt)?));
    }
    // Prefer casting the constant to the column's type: cheaper, and exact when it fits.
    if r.is_scalar() && !l.is_scalar() && literal_fits(&rt, &lt) {
        if let Ok(rc) = cast_value(&r, &lt) {
            return Ok((l, rc));
        }
    }
    if l.is_scalar() && !r.is_scalar() && literal_fits(&lt, &rt) {
        if let Ok(lc) = cast_value(&l, &rt) {
            return Ok((lc, r));
        }
    }
    let target = common_type(&lt, &rt)
        .or_else(|| common_type(&rt, &lt))
        .ok_or_else(|| Error::filter(format!("cannot {what} {lt} with {rt}")))?;
    Ok((cast_value(&l, &target)?, cast_value(&r, &target)?))
}

/// Rows of `batch` for which `expr` is TRUE (NULL counts as not matching).
pub fn filter_mask(expr: &Expr, batch: &RecordBatch) -> Result<BooleanArray> {
    let v = evaluate(expr, batch)?;
    let arr = v.into_array(batch.num_rows())?;
    let b = as_bool(&Value::Array(arr), "a filter")?;
    Ok(match b.nulls() {
        Some(nulls) if nulls.null_count() > 0 => {
            BooleanArray::new(b.values() & nulls.inner(), None)
        }
        _ => b,
    })
}
