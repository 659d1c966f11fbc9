//! Scalar indexes on the table side: column values as the index's order-preserving byte
//! keys, and filters narrowed by the indexes ([`narrow`]).
//!
//! A filter's top-level structure is read for predicates an index answers (`col = v`,
//! `col <op> v`, `IN`, `BETWEEN`, `IS NULL`, joined by `AND` / `OR`); the index lookups
//! give candidate rows, a superset of the matches, and the full filter is still evaluated
//! on the candidates, so the answer is the scan's whatever the predicate's types. Rows of
//! fragments an index does not cover (added since its build) are evaluated as usual.

use crate::snapshot::{FragmentCache, Snapshot};
use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Date32Type, Float16Type, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, TimeUnit, TimestampMicrosecondType, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use oxvec_core::{Error, Result, RowId};
use oxvec_index::scalar::{KeyPredicate, ScalarIndex};
use oxvec_query::{BinaryOp, Expr, Filter, Prefilter, ScalarValue};
use oxvec_storage::{IndexMeta, TableDir};
use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;

/// The scalar kinds' names, as in manifests.
pub fn is_scalar(meta: &IndexMeta) -> bool {
    oxvec_index::scalar::KINDS.contains(&meta.index_type.as_str())
}

/// How a column's values become keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Any integer, as an `i128`.
    Int,
    /// Any float, as an `f64` in its total order (`-0` as `0`, every NaN as one).
    Float,
    Text,
    Bool,
    Date,
    TimestampMicros,
}

/// The key kind of a column type a scalar index can hold.
pub fn key_kind(t: &DataType) -> Option<KeyKind> {
    Some(match t {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => KeyKind::Int,
        DataType::Float16 | DataType::Float32 | DataType::Float64 => KeyKind::Float,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => KeyKind::Text,
        DataType::Boolean => KeyKind::Bool,
        DataType::Date32 => KeyKind::Date,
        DataType::Timestamp(TimeUnit::Microsecond, None) => KeyKind::TimestampMicros,
        _ => return None,
    })
}

fn int_key(v: i128) -> Vec<u8> {
    int_key_bytes(v).to_vec()
}

fn int_key_bytes(v: i128) -> [u8; 16] {
    ((v as u128) ^ (1u128 << 127)).to_be_bytes()
}

fn float_key(v: f64) -> Vec<u8> {
    let v = if v == 0.0 {
        0.0
    } else if v.is_nan() {
        f64::NAN
    } else {
        v
    };
    let bits = v.to_bits();
    let ordered = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    ordered.to_be_bytes().to_vec()
}

/// The element type of a list column (`LABEL_LIST` indexes them).
pub fn list_item(t: &DataType) -> Option<&DataType> {
    match t {
        DataType::List(f) | DataType::LargeList(f) => Some(f.data_type()),
        _ => None,
    }
}

/// Row `i` of `col` as a key (`None`: null).
pub fn array_key(col: &ArrayRef, i: usize) -> Option<Vec<u8>> {
    if col.is_null(i) {
        return None;
    }
    Some(match col.data_type() {
        DataType::Int8 => int_key(col.as_primitive::<Int8Type>().value(i).into()),
        DataType::Int16 => int_key(col.as_primitive::<Int16Type>().value(i).into()),
        DataType::Int32 => int_key(col.as_primitive::<Int32Type>().value(i).into()),
        DataType::Int64 => int_key(col.as_primitive::<Int64Type>().value(i).into()),
        DataType::UInt8 => int_key(col.as_primitive::<UInt8Type>().value(i).into()),
        DataType::UInt16 => int_key(col.as_primitive::<UInt16Type>().value(i).into()),
        DataType::UInt32 => int_key(col.as_primitive::<UInt32Type>().value(i).into()),
        DataType::UInt64 => int_key(col.as_primitive::<UInt64Type>().value(i).into()),
        DataType::Float16 => float_key(col.as_primitive::<Float16Type>().value(i).to_f64()),
        DataType::Float32 => float_key(col.as_primitive::<Float32Type>().value(i).into()),
        DataType::Float64 => float_key(col.as_primitive::<Float64Type>().value(i)),
        DataType::Utf8 => col.as_string::<i32>().value(i).as_bytes().to_vec(),
        DataType::LargeUtf8 => col.as_string::<i64>().value(i).as_bytes().to_vec(),
        DataType::Utf8View => col.as_string_view().value(i).as_bytes().to_vec(),
        DataType::Boolean => vec![col.as_boolean().value(i) as u8],
        DataType::Date32 => int_key(col.as_primitive::<Date32Type>().value(i).into()),
        DataType::Timestamp(TimeUnit::Microsecond, None) => int_key(
            col.as_primitive::<TimestampMicrosecondType>()
                .value(i)
                .into(),
        ),
        _ => return None,
    })
}

/// The non-null values of an integer-keyed column (integers, dates, timestamps) as keys,
/// without a heap allocation per key (lookups of many keys make many), with their
/// positions; `None` for another type.
fn int_keys(col: &ArrayRef) -> Option<(Vec<[u8; 16]>, Vec<u32>)> {
    fn of<T: ArrowPrimitiveType>(col: &ArrayRef) -> (Vec<[u8; 16]>, Vec<u32>)
    where
        T::Native: Into<i128>,
    {
        let (mut keys, mut at) = (Vec::with_capacity(col.len()), Vec::with_capacity(col.len()));
        for (i, v) in col.as_primitive::<T>().iter().enumerate() {
            if let Some(v) = v {
                keys.push(int_key_bytes(v.into()));
                at.push(i as u32);
            }
        }
        (keys, at)
    }
    Some(match col.data_type() {
        DataType::Int8 => of::<Int8Type>(col),
        DataType::Int16 => of::<Int16Type>(col),
        DataType::Int32 => of::<Int32Type>(col),
        DataType::Int64 => of::<Int64Type>(col),
        DataType::UInt8 => of::<UInt8Type>(col),
        DataType::UInt16 => of::<UInt16Type>(col),
        DataType::UInt32 => of::<UInt32Type>(col),
        DataType::UInt64 => of::<UInt64Type>(col),
        DataType::Date32 => of::<Date32Type>(col),
        DataType::Timestamp(TimeUnit::Microsecond, None) => of::<TimestampMicrosecondType>(col),
        _ => return None,
    })
}

/// A filter literal as a key of a column of type `t` (kind `kind`), when it is exactly
/// representable in the column's own type (else the index is not used for the predicate:
/// the evaluator might compare in either type).
fn literal_key(v: &ScalarValue, kind: KeyKind, t: &DataType) -> Option<Vec<u8>> {
    let exact_in_column = |x: f64| match t {
        DataType::Float32 => (x as f32) as f64 == x || x.is_nan(),
        DataType::Float16 => half::f16::from_f64(x).to_f64() == x || x.is_nan(),
        _ => true,
    };
    match (kind, v) {
        (KeyKind::Float, ScalarValue::Float64(x)) if !exact_in_column(*x) => None,
        (KeyKind::Int, ScalarValue::Int64(x)) => Some(int_key((*x).into())),
        (KeyKind::Int, ScalarValue::Float64(x)) if x.fract() == 0.0 && x.abs() < 9.0e15 => {
            Some(int_key(*x as i128))
        }
        (KeyKind::Float, ScalarValue::Float64(x)) => Some(float_key(*x)),
        (KeyKind::Float, ScalarValue::Int64(x))
            if x.unsigned_abs() < (1 << 53) && exact_in_column(*x as f64) =>
        {
            Some(float_key(*x as f64))
        }
        (KeyKind::Text, ScalarValue::Utf8(s)) => Some(s.as_bytes().to_vec()),
        (KeyKind::Bool, ScalarValue::Bool(b)) => Some(vec![*b as u8]),
        (KeyKind::Date, ScalarValue::Date32(d)) => Some(int_key((*d).into())),
        (KeyKind::TimestampMicros, ScalarValue::TimestampMicros(t)) => Some(int_key((*t).into())),
        _ => None,
    }
}

/// Candidate rows by fragment (sorted offsets), for the fragments `covered`; `exact`
/// when they are exactly the rows the predicate matches (no residual check needed).
#[derive(Debug, Clone, Default)]
struct Rows {
    covered: HashSet<u32>,
    by_fragment: HashMap<u32, Vec<u32>>,
    exact: bool,
}

impl Rows {
    fn of(ids: Vec<u64>, covered: HashSet<u32>, exact: bool) -> Rows {
        let mut by_fragment: HashMap<u32, Vec<u32>> = HashMap::new();
        if ids.is_sorted() {
            // One key's rows arrive sorted: split them by fragment as they come.
            let mut i = 0;
            while i < ids.len() {
                let frag = RowId::from_u64(ids[i]).fragment();
                let mut j = i;
                while j < ids.len() && RowId::from_u64(ids[j]).fragment() == frag {
                    j += 1;
                }
                if covered.contains(&frag) {
                    let mut offs: Vec<u32> = ids[i..j]
                        .iter()
                        .map(|&r| RowId::from_u64(r).offset())
                        .collect();
                    offs.dedup();
                    by_fragment.insert(frag, offs);
                }
                i = j;
            }
        } else {
            // Several keys' rows: bucket by fragment, then order each bucket through a
            // bitset of its offsets (cheaper than a comparison sort; offsets are < 2^32
            // and a fragment holds at most 2^20 rows).
            // Rows of one fragment come in runs: a hash lookup per run, not per row.
            let mut buckets: Vec<(u32, bool, Vec<u32>)> = Vec::new();
            let mut slot: HashMap<u32, usize> = HashMap::new();
            let mut at = 0usize;
            for &r in &ids {
                let r = RowId::from_u64(r);
                let frag = r.fragment();
                if buckets.get(at).is_none_or(|b| b.0 != frag) {
                    at = *slot.entry(frag).or_insert_with(|| {
                        buckets.push((frag, covered.contains(&frag), Vec::new()));
                        buckets.len() - 1
                    });
                }
                if buckets[at].1 {
                    buckets[at].2.push(r.offset());
                }
            }
            for (frag, keep, offs) in buckets {
                if keep {
                    by_fragment.insert(frag, sorted_distinct(offs));
                }
            }
        }
        Rows {
            covered,
            by_fragment,
            exact,
        }
    }

    /// Rows of both (a fragment only one covers keeps that one's candidates: a superset).
    fn and(mut self, mut o: Rows) -> Rows {
        let mut out = Rows {
            exact: self.exact && o.exact && self.covered == o.covered,
            ..Rows::default()
        };
        for f in self.covered.union(&o.covered) {
            let rows = match (self.covered.contains(f), o.covered.contains(f)) {
                (true, true) => intersect(
                    &self.by_fragment.remove(f).unwrap_or_default(),
                    &o.by_fragment.remove(f).unwrap_or_default(),
                ),
                (true, false) => self.by_fragment.remove(f).unwrap_or_default(),
                _ => o.by_fragment.remove(f).unwrap_or_default(),
            };
            out.covered.insert(*f);
            if !rows.is_empty() {
                out.by_fragment.insert(*f, rows);
            }
        }
        out
    }

    /// Rows of either (only fragments both cover).
    fn or(mut self, mut o: Rows) -> Rows {
        let mut out = Rows {
            exact: self.exact && o.exact && self.covered == o.covered,
            ..Rows::default()
        };
        for f in self.covered.intersection(&o.covered) {
            let rows = union(
                &self.by_fragment.remove(f).unwrap_or_default(),
                &o.by_fragment.remove(f).unwrap_or_default(),
            );
            out.covered.insert(*f);
            if !rows.is_empty() {
                out.by_fragment.insert(*f, rows);
            }
        }
        out
    }

    fn count(&self) -> u64 {
        self.by_fragment.values().map(|b| b.len() as u64).sum()
    }
}

/// `offs` sorted without duplicates: through a bitset when that is small next to a sort.
fn sorted_distinct(mut offs: Vec<u32>) -> Vec<u32> {
    let max = offs.iter().copied().max().unwrap_or(0) as usize;
    if max / 64 > offs.len() * 4 {
        offs.sort_unstable();
        offs.dedup();
        return offs;
    }
    let mut words = vec![0u64; max / 64 + 1];
    for &o in &offs {
        words[o as usize / 64] |= 1 << (o % 64);
    }
    offs.clear();
    for (w, &bits) in words.iter().enumerate() {
        let mut b = bits;
        while b != 0 {
            offs.push((w * 64) as u32 + b.trailing_zeros());
            b &= b - 1;
        }
    }
    offs
}

fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

fn union(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if j == b.len() || (i < a.len() && a[i] < b[j]) {
            out.push(a[i]);
            i += 1;
        } else if i == a.len() || b[j] < a[i] {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
            j += 1;
        }
    }
    out
}

/// Candidates from scalar indexes, attached to a filter.
#[derive(Debug)]
pub struct Narrowed {
    rows: Rows,
    indexes: Vec<String>,
}

impl Prefilter for Narrowed {
    fn candidates(&self, fragment: u32, start: u32, len: usize) -> Option<Vec<u32>> {
        if !self.rows.covered.contains(&fragment) {
            return None;
        }
        let Some(rows) = self.rows.by_fragment.get(&fragment) else {
            return Some(Vec::new());
        };
        let within = in_span(rows, |&o| o, start, len);
        Some(within.iter().map(|o| o - start).collect())
    }

    fn exact(&self) -> bool {
        self.rows.exact
    }

    fn describe(&self) -> String {
        format!(
            "scalar index {} narrows it to {} candidate rows",
            self.indexes
                .iter()
                .map(|n| format!("'{n}'"))
                .collect::<Vec<_>>()
                .join(" and "),
            self.rows.count()
        )
    }
}

/// The part of `sorted` (ascending by `offset`) whose offsets are in `start..start + len`.
pub(crate) fn in_span<T>(sorted: &[T], offset: impl Fn(&T) -> u32, start: u32, len: usize) -> &[T] {
    let end = start.saturating_add(len as u32);
    let a = sorted.partition_point(|x| offset(x) < start);
    let b = sorted.partition_point(|x| offset(x) < end);
    &sorted[a..b]
}

/// What narrowing reads: the snapshot's scalar indexes, opened on demand.
struct Lookup<'a> {
    snap: &'a Snapshot,
    dir: &'a TableDir,
    cache: &'a FragmentCache,
    schema: &'a arrow::datatypes::Schema,
    used: Vec<String>,
}

impl<'a> Lookup<'a> {
    fn new(snap: &'a Snapshot, dir: &'a TableDir, cache: &'a FragmentCache) -> Lookup<'a> {
        Lookup {
            snap,
            dir,
            cache,
            schema: &snap.manifest.schema,
            used: Vec::new(),
        }
    }
}

impl Lookup<'_> {
    /// The scalar index on `column` usable with the column's current type.
    fn index_on(&self, column: &str) -> Option<(&IndexMeta, KeyKind, DataType)> {
        let field = self.schema.field_with_name(column).ok()?;
        let kind = key_kind(field.data_type())?;
        let meta = self.snap.manifest.body.indices.iter().find(|m| {
            is_scalar(m) && m.column == column && m.metric == field.data_type().to_string()
        })?;
        Some((meta, kind, field.data_type().clone()))
    }

    /// The index `meta`, opened; `None` when it is damaged: it then narrows nothing (the
    /// filter is evaluated on every row, a merge reads every key).
    fn open(&self, meta: &IndexMeta) -> Result<Option<Arc<ScalarIndex>>> {
        match self.snap.scalar_index(self.dir, self.cache, meta) {
            Ok(ix) => Ok(Some(ix)),
            Err(e) if crate::query::plan::index_unreadable(&e, None) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn rows(&mut self, meta: &IndexMeta, pred: &KeyPredicate, exact: bool) -> Result<Option<Rows>> {
        let Some(ix) = self.open(meta)? else {
            return Ok(None);
        };
        let ids = ix.lookup(pred)?;
        if !self.used.contains(&meta.name) {
            self.used.push(meta.name.clone());
        }
        Ok(Some(Rows::of(
            ids,
            meta.fragment_ids.iter().copied().collect(),
            exact,
        )))
    }

    /// The `LABEL_LIST` index on list column `column`, with its elements' key kind and type.
    fn label_index_on(&self, column: &str) -> Option<(&IndexMeta, KeyKind, DataType)> {
        let field = self.schema.field_with_name(column).ok()?;
        let item = list_item(field.data_type())?;
        let kind = key_kind(item)?;
        let meta = self.snap.manifest.body.indices.iter().find(|m| {
            m.index_type == "LABEL_LIST"
                && m.column == column
                && m.metric == field.data_type().to_string()
        })?;
        Some((meta, kind, item.clone()))
    }

    /// `array_has_any` (rows under any of the labels) and `array_has_all` (rows under
    /// each) through a `LABEL_LIST` index.
    fn labels(&mut self, column: &str, values: &[ScalarValue], all: bool) -> Result<Option<Rows>> {
        let Some((meta, kind, t)) = self.label_index_on(column) else {
            return Ok(None);
        };
        let meta = meta.clone();
        let mut keys = Vec::with_capacity(values.len());
        for v in values {
            match literal_key(v, kind, &t) {
                Some(k) => keys.push(k),
                None => return Ok(None),
            }
        }
        if !all {
            return self.rows(&meta, &KeyPredicate::AnyOf(keys), false);
        }
        if keys.is_empty() {
            return Ok(None); // every list has all of no labels
        }
        let mut acc: Option<Rows> = None;
        for k in keys {
            let Some(rows) = self.rows(&meta, &KeyPredicate::AnyOf(vec![k]), false)? else {
                return Ok(None);
            };
            acc = Some(match acc {
                None => rows,
                Some(a) => a.and(rows),
            });
        }
        Ok(acc)
    }

    fn column_pred(&mut self, e: &Expr) -> Result<Option<Rows>> {
        if let Expr::ArrayHas { expr, values, all } = e {
            return match expr.as_ref() {
                Expr::Column(c) => self.labels(c, values, *all),
                _ => Ok(None),
            };
        }
        let native = |v: &ScalarValue, kind: KeyKind| {
            matches!(
                (kind, v),
                (KeyKind::Int, ScalarValue::Int64(_))
                    | (KeyKind::Text, ScalarValue::Utf8(_))
                    | (KeyKind::Bool, ScalarValue::Bool(_))
                    | (KeyKind::Date, ScalarValue::Date32(_))
                    | (KeyKind::TimestampMicros, ScalarValue::TimestampMicros(_))
                    | (_, ScalarValue::Null)
            ) || matches!((kind, v), (KeyKind::Float, ScalarValue::Float64(x)) if x.is_finite() && *x != 0.0)
        };
        let mut natives = true;
        let col_lit = |a: &Expr, b: &Expr| match (a, b) {
            (Expr::Column(c), Expr::Literal(v)) => Some((c.clone(), v.clone(), false)),
            (Expr::Literal(v), Expr::Column(c)) => Some((c.clone(), v.clone(), true)),
            _ => None,
        };
        let (column, pred) = match e {
            Expr::Binary { left, op, right } if op.is_comparison() && *op != BinaryOp::NotEq => {
                let Some((c, v, flipped)) = col_lit(left, right) else {
                    return Ok(None);
                };
                let Some((_, kind, t)) = self.index_on(&c) else {
                    return Ok(None);
                };
                let Some(k) = literal_key(&v, kind, &t) else {
                    return Ok(None);
                };
                natives &= native(&v, kind);
                let op = if flipped { flip(*op) } else { *op };
                let pred = match op {
                    BinaryOp::Eq => KeyPredicate::AnyOf(vec![k]),
                    BinaryOp::Lt => KeyPredicate::Range(Bound::Unbounded, Bound::Excluded(k)),
                    BinaryOp::LtEq => KeyPredicate::Range(Bound::Unbounded, Bound::Included(k)),
                    BinaryOp::Gt => KeyPredicate::Range(Bound::Excluded(k), Bound::Unbounded),
                    BinaryOp::GtEq => KeyPredicate::Range(Bound::Included(k), Bound::Unbounded),
                    _ => return Ok(None),
                };
                (c, pred)
            }
            Expr::InList {
                expr,
                list,
                negated: false,
            } => {
                let Expr::Column(c) = expr.as_ref() else {
                    return Ok(None);
                };
                let Some((_, kind, t)) = self.index_on(c) else {
                    return Ok(None);
                };
                let mut keys = Vec::with_capacity(list.len());
                for item in list {
                    match item {
                        // A null in the list matches nothing.
                        Expr::Literal(ScalarValue::Null) => {}
                        Expr::Literal(v) => match literal_key(v, kind, &t) {
                            Some(k) => {
                                natives &= native(v, kind);
                                keys.push(k)
                            }
                            None => return Ok(None),
                        },
                        _ => return Ok(None),
                    }
                }
                (c.clone(), KeyPredicate::AnyOf(keys))
            }
            Expr::Between {
                expr,
                low,
                high,
                negated: false,
            } => {
                let (Expr::Column(c), Expr::Literal(lo), Expr::Literal(hi)) =
                    (expr.as_ref(), low.as_ref(), high.as_ref())
                else {
                    return Ok(None);
                };
                let Some((_, kind, t)) = self.index_on(c) else {
                    return Ok(None);
                };
                natives &= native(lo, kind) && native(hi, kind);
                let (Some(lo), Some(hi)) = (literal_key(lo, kind, &t), literal_key(hi, kind, &t))
                else {
                    return Ok(None);
                };
                (
                    c.clone(),
                    KeyPredicate::Range(Bound::Included(lo), Bound::Included(hi)),
                )
            }
            Expr::IsNull {
                expr,
                negated: false,
            } => {
                let Expr::Column(c) = expr.as_ref() else {
                    return Ok(None);
                };
                (c.clone(), KeyPredicate::IsNull)
            }
            _ => return Ok(None),
        };
        let Some((meta, kind, _)) = self.index_on(&column) else {
            return Ok(None);
        };
        let meta = meta.clone();
        // Keys are the values themselves, except that -0 and 0, and every NaN, share a key
        // (and NaN sorts last, where comparison semantics differ): a float predicate is
        // exact only with finite non-zero literals and a range bounded above. Literals of
        // another type (compared after a cast) also keep a residual check.
        let nan_free = !matches!(pred, KeyPredicate::Range(_, Bound::Unbounded));
        let exact = natives && (kind != KeyKind::Float || nan_free);
        self.rows(&meta, &pred, exact)
    }

    fn narrow(&mut self, e: &Expr, depth: usize) -> Result<Option<Rows>> {
        if depth > 32 {
            return Ok(None);
        }
        match e {
            Expr::Binary {
                left,
                op: BinaryOp::And,
                right,
            } => Ok(
                match (
                    self.narrow(left, depth + 1)?,
                    self.narrow(right, depth + 1)?,
                ) {
                    (Some(a), Some(b)) => Some(a.and(b)),
                    // The other side is left to the residual check.
                    (a, b) => a.or(b).map(|r| Rows { exact: false, ..r }),
                },
            ),
            Expr::Binary {
                left,
                op: BinaryOp::Or,
                right,
            } => Ok(
                match (
                    self.narrow(left, depth + 1)?,
                    self.narrow(right, depth + 1)?,
                ) {
                    (Some(a), Some(b)) => Some(a.or(b)),
                    _ => None,
                },
            ),
            other => self.column_pred(other),
        }
    }
}

fn flip(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::LtEq => BinaryOp::GtEq,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::GtEq => BinaryOp::LtEq,
        other => other,
    }
}

/// `filter` with the candidates the snapshot's scalar indexes give it (unchanged when no
/// index applies).
pub(crate) fn narrow(
    mut filter: Filter,
    snap: &Snapshot,
    dir: &TableDir,
    cache: &FragmentCache,
) -> Result<Filter> {
    if !snap.manifest.body.indices.iter().any(is_scalar) {
        return Ok(filter);
    }
    let mut l = Lookup::new(snap, dir, cache);
    if let Some(rows) = l.narrow(&filter.expr, 0)? {
        if !rows.covered.is_empty() {
            filter.prefilter = Some(Arc::new(Narrowed {
                rows,
                indexes: l.used,
            }));
        }
    }
    Ok(filter)
}

/// What a scalar index says about a list of keys: `(position in the list, row id)` for
/// every row holding each key, in the fragments `covered`.
pub(crate) struct IndexedKeys {
    pub pairs: Vec<(u32, u64)>,
    /// Two positions with the same (non-null) value, if any (see `Each::repeated`).
    pub repeated: Option<(u32, u32)>,
    pub covered: HashSet<u32>,
    /// False for float keys: the index holds `-0` as `0` and every NaN as one, so a pair
    /// may join values a bitwise key comparison keeps apart (the caller checks them).
    pub exact: bool,
}

/// The rows of the scalar index on `column` holding each non-null value of `values` (of
/// the column's own type): how `merge_insert` joins its source to the table without
/// reading every key. `None` when no usable index exists (or it is unreadable).
pub(crate) fn indexed_keys(
    snap: &Snapshot,
    dir: &TableDir,
    cache: &FragmentCache,
    column: &str,
    values: &ArrayRef,
) -> Result<Option<IndexedKeys>> {
    let l = Lookup::new(snap, dir, cache);
    let Some((meta, kind, t)) = l.index_on(column) else {
        return Ok(None);
    };
    if values.data_type() != &t {
        return Ok(None);
    }
    let Some(ix) = l.open(meta)? else {
        return Ok(None);
    };
    // The values as keys, and the positions of the non-null ones.
    let (found, at) = match int_keys(values) {
        Some((keys, at)) => (ix.lookup_each(&keys)?, at),
        None => {
            let (mut keys, mut at) = (Vec::new(), Vec::new());
            for i in 0..values.len() {
                if let Some(k) = array_key(values, i) {
                    keys.push(k);
                    at.push(i as u32);
                }
            }
            (ix.lookup_each(&keys)?, at)
        }
    };
    Ok(Some(IndexedKeys {
        pairs: found
            .pairs
            .into_iter()
            .map(|(k, r)| (at[k as usize], r))
            .collect(),
        repeated: found
            .repeated
            .map(|(a, b)| (at[a as usize], at[b as usize])),
        covered: meta.fragment_ids.iter().copied().collect(),
        exact: kind != KeyKind::Float,
    }))
}

/// `(key, row id)` of every live row of column `col` in `frags`; for a list column, one
/// pair per distinct non-null element (none for an empty list, `None` for a null list).
pub(crate) fn column_keys(
    frags: &[&crate::snapshot::LoadedFragment],
    col: usize,
) -> Result<Vec<(Option<Vec<u8>>, u64)>> {
    let mut out = Vec::new();
    for f in frags {
        for (b, batch) in f.batches.iter().enumerate() {
            let c = batch.column(col);
            if list_item(c.data_type()).is_some() {
                list_keys(f, b, c, &mut out)?;
                continue;
            }
            if key_kind(c.data_type()).is_none() {
                return Err(Error::invalid(format!(
                    "a scalar index cannot hold {} values",
                    c.data_type()
                )));
            }
            for r in 0..batch.num_rows() {
                if !f.is_deleted(f.starts[b] + r as u32) {
                    out.push((array_key(c, r), f.row_id(b, r)));
                }
            }
        }
    }
    Ok(out)
}

/// [`column_keys`] of list column `c` (batch `b` of `f`).
fn list_keys(
    f: &crate::snapshot::LoadedFragment,
    b: usize,
    c: &ArrayRef,
    out: &mut Vec<(Option<Vec<u8>>, u64)>,
) -> Result<()> {
    let (values, offsets): (ArrayRef, Vec<usize>) = match c.data_type() {
        DataType::List(_) => {
            let l = c.as_list::<i32>();
            (
                l.values().clone(),
                l.value_offsets().iter().map(|&o| o as usize).collect(),
            )
        }
        _ => {
            let l = c.as_list::<i64>();
            (
                l.values().clone(),
                l.value_offsets().iter().map(|&o| o as usize).collect(),
            )
        }
    };
    if key_kind(values.data_type()).is_none() {
        return Err(Error::invalid(format!(
            "a LABEL_LIST index cannot hold {} elements",
            values.data_type()
        )));
    }
    let mut keys: Vec<Vec<u8>> = Vec::new();
    for r in 0..c.len() {
        if f.is_deleted(f.starts[b] + r as u32) {
            continue;
        }
        let row = f.row_id(b, r);
        if c.is_null(r) {
            out.push((None, row));
            continue;
        }
        keys.clear();
        keys.extend((offsets[r]..offsets[r + 1]).filter_map(|j| array_key(&values, j)));
        keys.sort_unstable();
        keys.dedup();
        out.extend(keys.drain(..).map(|k| (Some(k), row)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_sort_either_way() {
        let v: Vec<u32> = (0..5000u32)
            .map(|i| (i * 7919) % 100_003)
            .chain([5, 5, 0])
            .collect();
        let mut want = v.clone();
        want.sort_unstable();
        want.dedup();
        assert_eq!(sorted_distinct(v.clone()), want);
        let sparse: Vec<u32> = vec![4_000_000_000, 3, 3, 17];
        assert_eq!(sorted_distinct(sparse), vec![3, 17, 4_000_000_000]);
    }

    #[test]
    fn keys_sort_like_values() {
        let ints = [i64::MIN, -5, -1, 0, 1, 7, i64::MAX];
        let k: Vec<Vec<u8>> = ints.iter().map(|&v| int_key(v.into())).collect();
        assert!(k.windows(2).all(|w| w[0] < w[1]));
        assert!(int_key(u64::MAX.into()) > int_key(i64::MAX.into()));
        let floats = [
            f64::NEG_INFINITY,
            -1e300,
            -1.5,
            -0.0,
            1e-300,
            2.5,
            f64::INFINITY,
        ];
        let k: Vec<Vec<u8>> = floats.iter().map(|&v| float_key(v)).collect();
        assert!(k[..3].windows(2).all(|w| w[0] < w[1]) && k[3..].windows(2).all(|w| w[0] < w[1]));
        assert_eq!(float_key(-0.0), float_key(0.0));
        assert_eq!(float_key(f64::NAN), float_key(-f64::NAN));
        assert!(float_key(f64::NAN) > float_key(f64::INFINITY));
    }
}
