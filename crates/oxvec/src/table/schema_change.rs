//! Schema evolution that rewrites no data: renaming, dropping and adding (all-null)
//! columns, and letting a column hold nulls. Each call is one version; indexes follow a
//! renamed column and go with a dropped one.

use super::{retrying, Table};
use crate::ingest::{is_vector_field, type_name, validate_schema};
use crate::snapshot::is_text;
use arrow::datatypes::{Field, Schema};
use oxvec_core::{CancelToken, Error, Result};
use oxvec_storage::transaction::{AlterColumns, ColumnStep};
use oxvec_storage::{commit, Transaction};
use std::sync::Arc;

/// One change to the table's columns.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnChange {
    Rename {
        from: String,
        to: String,
    },
    /// Only to `true`: a column that holds nulls cannot be made to refuse them here.
    SetNullable {
        column: String,
        nullable: bool,
    },
    Drop {
        column: String,
    },
    /// A new nullable column; every existing row reads null in it.
    Add {
        field: Field,
    },
}

impl Table {
    /// Applies `changes` in order as one new version; returns it. A change that loses a
    /// race to another writer's schema or index change is planned again (`max_retries`).
    pub fn alter_columns(&self, changes: &[ColumnChange], cancel: &CancelToken) -> Result<u64> {
        if changes.is_empty() {
            return Err(Error::invalid("no column changes were given"));
        }
        retrying(self.options.max_retries, cancel, || {
            cancel.check()?;
            self.alter_once(changes)
        })
    }

    fn alter_once(&self, changes: &[ColumnChange]) -> Result<u64> {
        let snap = self.latest_for_write()?;
        let read_schema = snap.manifest.schema.clone();
        let mut fields: Vec<Field> = read_schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let mut indices = snap.manifest.body.indices.clone();
        let mut steps = Vec::new();
        for change in changes {
            match change {
                ColumnChange::Rename { from, to } => {
                    let i = position(&fields, from)?;
                    free_name(&fields, to)?;
                    // A full-text index file names its columns itself (its postings are
                    // per column), so it cannot follow a rename.
                    if let Some(ix) = indices
                        .iter()
                        .find(|ix| is_text(ix) && ix.indexed_columns().contains(&from.as_str()))
                    {
                        return Err(Error::invalid(format!(
                            "column '{from}' has full-text index '{}'; drop the index, rename \
                             the column, then build the index again",
                            ix.name
                        )));
                    }
                    fields[i] = fields[i].clone().with_name(to);
                    for ix in &mut indices {
                        if ix.column == *from {
                            ix.column = to.clone();
                        }
                        for c in &mut ix.columns {
                            if c == from {
                                *c = to.clone();
                            }
                        }
                    }
                    steps.push(ColumnStep::Rename {
                        from: from.clone(),
                        to: to.clone(),
                    });
                }
                ColumnChange::SetNullable { column, nullable } => {
                    let i = position(&fields, column)?;
                    if is_vector_field(&fields[i]) && *nullable {
                        return Err(Error::invalid(format!(
                            "column '{column}' holds vectors, which are never null"
                        )));
                    }
                    if !*nullable && fields[i].is_nullable() {
                        return Err(Error::invalid(format!(
                            "column '{column}' may hold nulls; making it refuse them is not \
                             supported (it would need every row checked against rows being \
                             added meanwhile)"
                        )));
                    }
                    fields[i] = fields[i].clone().with_nullable(*nullable);
                }
                ColumnChange::Drop { column } => {
                    let i = position(&fields, column)?;
                    fields.remove(i);
                    indices.retain(|ix| !ix.indexed_columns().contains(&column.as_str()));
                    steps.push(ColumnStep::Drop {
                        column: column.clone(),
                    });
                }
                ColumnChange::Add { field } => {
                    free_name(&fields, field.name())?;
                    if is_vector_field(field) {
                        return Err(Error::invalid(format!(
                            "column '{}' would hold vectors ({}), which are never null, so \
                             existing rows would have none; write the vectors with the rows",
                            field.name(),
                            type_name(field.data_type())
                        )));
                    }
                    if !field.is_nullable() {
                        return Err(Error::invalid(format!(
                            "new column '{}' must be nullable: existing rows have no value in it",
                            field.name()
                        )));
                    }
                    fields.push(field.clone());
                    steps.push(ColumnStep::AddNull {
                        column: field.name().clone(),
                    });
                }
            }
        }
        if fields.is_empty() {
            return Err(Error::invalid("a table keeps at least one column"));
        }
        if steps.is_empty()
            && fields
                .iter()
                .eq(read_schema.fields().iter().map(|f| f.as_ref()))
        {
            // Nothing changes (a column already nullable made nullable): no new version.
            return Ok(snap.manifest.version);
        }
        let schema = Arc::new(Schema::new_with_metadata(
            fields,
            read_schema.metadata().clone(),
        ));
        validate_schema(&schema)?;
        let txn = Transaction::new(
            snap.manifest.version,
            AlterColumns {
                read_schema,
                schema,
                steps,
                read_indices: snap.manifest.body.indices.clone(),
                indices,
            },
        );
        let m = commit(&self.dir, &txn, &[])?;
        let v = m.version;
        self.set_snapshot(m, false);
        Ok(v)
    }
}

fn position(fields: &[Field], name: &str) -> Result<usize> {
    fields.iter().position(|f| f.name() == name).ok_or_else(|| {
        let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
        Error::invalid(format!("no column named '{name}'; the table has {names:?}"))
    })
}

fn free_name(fields: &[Field], name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid("a column name may not be empty"));
    }
    if fields.iter().any(|f| f.name() == name) {
        return Err(Error::invalid(format!(
            "the table already has a column '{name}'"
        )));
    }
    Ok(())
}
