//! Schema changes that rewrite no data: renaming, dropping and adding (all-null) columns,
//! and relaxing a column to nullable.
//!
//! Data files keep the columns they were written with; each fragment's `columns` map says
//! which of its file's columns holds a column of the table schema, or that it holds none
//! (nulls). The change is a function of the schema it read, so it replays on fragments
//! appended meanwhile (written with that same schema); a schema or index changed since the
//! read conflicts.

use super::{Change, Draft};
use crate::fragment::FragmentMeta;
use crate::manifest::IndexMeta;
use arrow::datatypes::SchemaRef;
use oxvec_core::Result;

/// One step of a schema change, applied in order.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnStep {
    Rename {
        from: String,
        to: String,
    },
    Drop {
        column: String,
    },
    /// A column no existing row has a value for (they read as null).
    AddNull {
        column: String,
    },
}

impl ColumnStep {
    /// Where `frag`'s data for each column comes from after this step.
    fn remap(&self, frag: &mut FragmentMeta) {
        match self {
            ColumnStep::Rename { from, to } => {
                let source = frag.columns.remove(from).unwrap_or(Some(from.clone()));
                if source.as_deref() == Some(to.as_str()) {
                    frag.columns.remove(to);
                } else {
                    frag.columns.insert(to.clone(), source);
                }
            }
            ColumnStep::Drop { column } => {
                frag.columns.remove(column);
            }
            ColumnStep::AddNull { column } => {
                frag.columns.insert(column.clone(), None);
            }
        }
    }
}

/// Replaces the schema (`read_schema` -> `schema`) by `steps`, and the indexes as read
/// (`read_indices`) by `indices` (renamed or dropped with their columns).
#[derive(Debug, Clone)]
pub struct AlterColumns {
    pub read_schema: SchemaRef,
    pub schema: SchemaRef,
    pub steps: Vec<ColumnStep>,
    pub read_indices: Vec<IndexMeta>,
    pub indices: Vec<IndexMeta>,
}

impl Change for AlterColumns {
    fn operation(&self) -> &'static str {
        "alter_columns"
    }

    fn apply(&self, draft: &mut Draft<'_>) -> Result<()> {
        draft.refuse_schema_or_index_change(&self.read_schema, &self.read_indices)?;
        draft.schema = self.schema.clone();
        for frag in &mut draft.body.fragments {
            for step in &self.steps {
                step.remap(frag);
            }
        }
        draft.body.indices = self.indices.clone();
        Ok(())
    }
}
