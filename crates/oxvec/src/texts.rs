//! String columns of a table's fragments as a full-text build reads them
//! ([`FragmentTexts`], an `oxvec_index` [`TextSource`]), and the check that a column can
//! be indexed for full-text search.

use crate::snapshot::LoadedFragment;
use arrow::array::{Array, AsArray, LargeStringArray, StringArray, StringViewArray};
use arrow::datatypes::{DataType, Schema};
use oxvec_core::{Error, Result};
use oxvec_index::text::TextSource;

/// Whether a column of type `t` holds text a full-text index can read.
pub fn is_text_type(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// The positions of `columns` in `schema`, each a string column; errors name the column.
pub fn text_columns(schema: &Schema, columns: &[String]) -> Result<Vec<usize>> {
    if columns.is_empty() {
        return Err(Error::invalid(
            "a full-text index needs at least one column",
        ));
    }
    let mut out = Vec::with_capacity(columns.len());
    for (i, name) in columns.iter().enumerate() {
        if columns[..i].contains(name) {
            return Err(Error::invalid(format!(
                "column '{name}' is named twice for one full-text index"
            )));
        }
        let c = schema
            .index_of(name)
            .map_err(|_| Error::invalid(format!("no column named '{name}'")))?;
        let t = schema.field(c).data_type();
        if !is_text_type(t) {
            return Err(Error::invalid(format!(
                "column '{name}' is {t}; a full-text index needs a string column"
            )));
        }
        out.push(c);
    }
    Ok(out)
}

/// One batch's column, by string layout.
#[derive(Clone, Copy)]
enum Strings<'a> {
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
}

impl<'a> Strings<'a> {
    fn of(a: &'a dyn Array) -> Option<Strings<'a>> {
        match a.data_type() {
            DataType::Utf8 => Some(Strings::Utf8(a.as_string::<i32>())),
            DataType::LargeUtf8 => Some(Strings::Large(a.as_string::<i64>())),
            DataType::Utf8View => Some(Strings::View(a.as_string_view())),
            _ => None,
        }
    }

    fn get(self, i: usize) -> Option<&'a str> {
        match self {
            Strings::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Strings::Large(a) => a.is_valid(i).then(|| a.value(i)),
            Strings::View(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

/// The live rows of some fragments, their text columns read in place. Node `i` is the
/// `i`-th live row in fragment order.
pub struct FragmentTexts<'a> {
    /// Per batch, each indexed column (`None`: not a string column in that batch).
    batches: Vec<Vec<Option<Strings<'a>>>>,
    /// Per node: (batch, row in batch).
    rows: Vec<(u32, u32)>,
    row_ids: Vec<u64>,
}

impl<'a> FragmentTexts<'a> {
    /// Live rows of columns `cols` (positions in the fragments' schema) of `frags`.
    pub fn new(frags: &[&'a LoadedFragment], cols: &[usize]) -> FragmentTexts<'a> {
        let mut batches = Vec::new();
        let mut rows = Vec::new();
        let mut row_ids = Vec::new();
        for f in frags {
            for (b, batch) in f.batches.iter().enumerate() {
                let slot = batches.len() as u32;
                batches.push(
                    cols.iter()
                        .map(|&c| Strings::of(batch.column(c).as_ref()))
                        .collect(),
                );
                for r in 0..batch.num_rows() {
                    if !f.is_deleted(f.starts[b] + r as u32) {
                        rows.push((slot, r as u32));
                        row_ids.push(f.row_id(b, r));
                    }
                }
            }
        }
        FragmentTexts {
            batches,
            rows,
            row_ids,
        }
    }

    /// The table row id of each node.
    pub fn row_ids(&self) -> &[u64] {
        &self.row_ids
    }
}

impl TextSource for FragmentTexts<'_> {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn value(&self, row: usize, col: usize) -> Option<&str> {
        let (b, r) = self.rows[row];
        self.batches[b as usize][col].and_then(|s| s.get(r as usize))
    }
}
