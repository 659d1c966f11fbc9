//! Index add and drop.
//!
//! An index is identified by its file: a change names the file it read under the index's
//! name (`before`), and any other file there now means a concurrent build, fold or drop of
//! the same index: a conflict. A new index must also be built for the column as it is now
//! (an overwrite may have changed its type or dimension). Fragments it covers that are gone
//! by now are harmless: their nodes are never returned, and rows it does not cover are
//! searched exactly.

use super::{Change, Draft};
use crate::manifest::IndexMeta;
use arrow::datatypes::Field;
use oxvec_core::Result;

/// One index's change: `before` as read (`None`: absent), `after` (`None`: dropped).
#[derive(Debug, Clone)]
pub struct IndexChange {
    pub name: String,
    pub before: Option<IndexMeta>,
    pub after: Option<IndexMeta>,
}

impl IndexChange {
    /// Applies this index change to `draft` under the rules above.
    pub fn apply(&self, draft: &mut Draft<'_>) -> Result<()> {
        let pos = draft.body.indices.iter().position(|i| i.name == self.name);
        let current = pos.map(|p| &draft.body.indices[p].file);
        if current != self.before.as_ref().map(|b| &b.file) {
            return Err(draft.conflict(format!(
                "index '{}' was changed by another commit",
                self.name
            )));
        }
        match (pos, &self.after) {
            (Some(p), Some(a)) => draft.body.indices[p] = a.clone(),
            (Some(p), None) => {
                draft.body.indices.remove(p);
            }
            (None, Some(a)) => draft.body.indices.push(a.clone()),
            (None, None) => {}
        }
        Ok(())
    }
}

/// Builds or replaces one index over `after`'s columns, which were `columns` when read.
#[derive(Debug, Clone)]
pub struct CreateIndex {
    pub before: Option<IndexMeta>,
    pub after: IndexMeta,
    pub columns: Vec<Field>,
}

impl Change for CreateIndex {
    fn operation(&self) -> &'static str {
        "create_index"
    }

    fn apply(&self, draft: &mut Draft<'_>) -> Result<()> {
        for field in &self.columns {
            let now = draft.schema.field_with_name(field.name()).ok();
            if now != Some(field) {
                return Err(draft.conflict(format!(
                    "column '{}' was changed by another commit while index '{}' was built",
                    field.name(),
                    self.after.name
                )));
            }
        }
        IndexChange {
            name: self.after.name.clone(),
            before: self.before.clone(),
            after: Some(self.after.clone()),
        }
        .apply(draft)
    }
}

/// Removes one index (its file stays for older versions).
#[derive(Debug, Clone)]
pub struct DropIndex {
    pub before: IndexMeta,
}

impl Change for DropIndex {
    fn operation(&self) -> &'static str {
        "drop_index"
    }

    fn apply(&self, draft: &mut Draft<'_>) -> Result<()> {
        IndexChange {
            name: self.before.name.clone(),
            before: Some(self.before.clone()),
            after: None,
        }
        .apply(draft)
    }
}
