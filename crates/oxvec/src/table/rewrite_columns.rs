//! Column changes that rewrite data: new columns computed by SQL expressions over each row,
//! and type changes (a cast of every value, a float32 vector column to float16 included).
//! Each call is one version; every fragment is written anew with its rows in place (see
//! [`RewriteColumns`]), and an index over a column whose type changed is dropped.

use super::{retrying, Table};
use crate::ingest::{is_vector_field, type_name, validate_schema};
use crate::write::Staged;
use arrow::array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::compute::{can_cast_types, cast_with_options, CastOptions};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use oxvec_core::{CancelToken, Error, Result};
use oxvec_query::{evaluate, parse_expr, Expr};
use oxvec_storage::transaction::RewriteColumns;
use oxvec_storage::{FragmentMeta, FragmentWriter, Transaction};
use std::sync::Arc;

/// New columns computed by the caller from a row batch (every column of the table, deleted
/// rows included), one array per field, each as long as the batch.
pub type BatchFn = Arc<dyn Fn(&RecordBatch) -> Result<Vec<ArrayRef>> + Send + Sync>;

/// One change that rewrites data.
#[derive(Clone)]
pub enum ColumnRewrite {
    /// A new column holding `sql` (the filter language) evaluated on each row.
    Compute { name: String, sql: String },
    /// Every value of `column` cast to `to`.
    Cast { column: String, to: DataType },
    /// New columns `fields` made by `compute` from each batch of rows.
    Batch {
        fields: Vec<Field>,
        compute: BatchFn,
    },
}

impl std::fmt::Debug for ColumnRewrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ColumnRewrite::Compute { name, sql } => write!(f, "Compute({name} = {sql})"),
            ColumnRewrite::Cast { column, to } => write!(f, "Cast({column} as {to})"),
            ColumnRewrite::Batch { fields, .. } => {
                let names: Vec<&str> = fields.iter().map(|x| x.name().as_str()).collect();
                write!(f, "Batch({names:?})")
            }
        }
    }
}

/// How each output column of the new schema is made from a row batch of the old one.
enum Source {
    Keep(usize),
    Cast(usize, DataType),
    Compute(Expr),
    /// Output `k` of batch function `f` (see [`Plan::functions`]).
    Function(usize, usize),
}

/// A planned rewrite.
struct Plan {
    schema: SchemaRef,
    sources: Vec<Source>,
    functions: Vec<BatchFn>,
    cast: Vec<String>,
}

impl Table {
    /// Applies `changes` in order as one new version; returns it. Rows added, rewritten or
    /// compacted by another writer meanwhile make it compute again (`max_retries`).
    pub fn rewrite_columns(&self, changes: &[ColumnRewrite], cancel: &CancelToken) -> Result<u64> {
        if changes.is_empty() {
            return Err(Error::invalid("no column changes were given"));
        }
        retrying(self.options.max_retries, cancel, || {
            cancel.check()?;
            self.rewrite_once(changes, cancel)
        })
    }

    fn rewrite_once(&self, changes: &[ColumnRewrite], cancel: &CancelToken) -> Result<u64> {
        let snap = self.latest_for_write()?;
        let read_schema = snap.manifest.schema.clone();
        let Plan {
            schema,
            sources,
            functions,
            cast,
        } = plan(&read_schema, changes)?;
        let mut indices = snap.manifest.body.indices.clone();
        indices.retain(|ix| {
            !ix.indexed_columns()
                .iter()
                .any(|c| cast.contains(&c.to_string()))
        });
        let frags = snap.fragments(&self.dir, &self.cache)?;
        let mut staged = Staged::default();
        let written = (|| -> Result<Vec<FragmentMeta>> {
            let mut after = Vec::with_capacity(frags.len());
            for frag in frags {
                let mut w = FragmentWriter::create(&self.dir.data_dir(), &schema)?;
                staged.paths.push(w.path().to_path_buf());
                for batch in frag.batches.iter() {
                    cancel.check()?;
                    w.write(&rewrite(batch, &schema, &sources, &functions)?)?;
                }
                after.push(w.finish()?);
            }
            Ok(after)
        })();
        let after = match written {
            Ok(a) => a,
            Err(e) => {
                staged.discard();
                return Err(e);
            }
        };
        let txn = Transaction::new(
            snap.manifest.version,
            RewriteColumns {
                read_schema,
                schema,
                before: frags.iter().map(|f| f.meta.clone()).collect(),
                after,
                read_indices: snap.manifest.body.indices.clone(),
                indices,
            },
        );
        self.commit_and_pin(&txn, &mut staged, cancel)
    }
}

/// The new schema, how to make each of its columns, and the columns whose type changes.
fn plan(read: &SchemaRef, changes: &[ColumnRewrite]) -> Result<Plan> {
    let mut fields: Vec<Field> = read.fields().iter().map(|f| f.as_ref().clone()).collect();
    let mut sources: Vec<Source> = (0..fields.len()).map(Source::Keep).collect();
    let mut cast = Vec::new();
    let mut functions = Vec::new();
    let empty = RecordBatch::new_empty(read.clone());
    for change in changes {
        match change {
            ColumnRewrite::Compute { name, sql } => {
                if fields.iter().any(|f| f.name() == name) {
                    return Err(Error::invalid(format!(
                        "the table already has a column '{name}'"
                    )));
                }
                let expr = parse_expr(sql, &[], read).map_err(|e| named(name, e))?;
                let t = evaluate(&expr, &empty)
                    .map_err(|e| named(name, e))?
                    .into_array(0)?
                    .data_type()
                    .clone();
                if t == DataType::Null {
                    return Err(Error::invalid(format!(
                        "'{name}' = {sql:?} is NULL for every row: give it a type, e.g. \
                         add an empty column with a schema instead"
                    )));
                }
                let field = Field::new(name, t, true);
                if is_vector_field(&field) {
                    return Err(Error::invalid(format!(
                        "'{name}' would hold vectors ({}): write vectors with the rows",
                        type_name(field.data_type())
                    )));
                }
                fields.push(field);
                sources.push(Source::Compute(expr));
            }
            ColumnRewrite::Batch {
                fields: new,
                compute,
            } => {
                if new.is_empty() {
                    return Err(Error::invalid("the function makes no columns"));
                }
                for (k, field) in new.iter().enumerate() {
                    if fields.iter().any(|f| f.name() == field.name()) {
                        return Err(Error::invalid(format!(
                            "the table already has a column '{}'",
                            field.name()
                        )));
                    }
                    fields.push(field.clone());
                    sources.push(Source::Function(functions.len(), k));
                }
                functions.push(compute.clone());
            }
            ColumnRewrite::Cast { column, to } => {
                let i = fields
                    .iter()
                    .position(|f| f.name() == column)
                    .ok_or_else(|| {
                        let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
                        Error::invalid(format!(
                            "no column named '{column}'; the table has {names:?}"
                        ))
                    })?;
                let Source::Keep(from) = sources[i] else {
                    return Err(Error::invalid(format!(
                        "column '{column}' is changed twice in one call"
                    )));
                };
                let old = fields[i].data_type().clone();
                if !can_cast_types(&old, to) {
                    return Err(Error::invalid(format!(
                        "column '{column}' ({}) cannot be cast to {}",
                        type_name(&old),
                        type_name(to)
                    )));
                }
                if is_vector_field(&fields[i])
                    != is_vector_field(&fields[i].clone().with_data_type(to.clone()))
                {
                    return Err(Error::invalid(format!(
                        "column '{column}' would change between vectors and other values \
                         ({} to {})",
                        type_name(&old),
                        type_name(to)
                    )));
                }
                fields[i] = fields[i].clone().with_data_type(to.clone());
                sources[i] = Source::Cast(from, to.clone());
                cast.push(column.clone());
            }
        }
    }
    let schema = Arc::new(Schema::new_with_metadata(fields, read.metadata().clone()));
    validate_schema(&schema)?;
    Ok(Plan {
        schema,
        sources,
        functions,
        cast,
    })
}

/// `batch` (every physical row of a fragment batch, deleted ones too) in the new schema.
fn rewrite(
    batch: &RecordBatch,
    schema: &SchemaRef,
    sources: &[Source],
    functions: &[BatchFn],
) -> Result<RecordBatch> {
    let n = batch.num_rows();
    let made = functions
        .iter()
        .map(|f| f(batch))
        .collect::<Result<Vec<Vec<ArrayRef>>>>()?;
    let strict = CastOptions {
        safe: false,
        ..Default::default()
    };
    let columns = sources
        .iter()
        .zip(schema.fields())
        .map(|(s, f)| -> Result<ArrayRef> {
            Ok(match s {
                Source::Keep(i) => batch.column(*i).clone(),
                Source::Cast(i, to) => {
                    cast_with_options(batch.column(*i), to, &strict).map_err(|e| {
                        Error::invalid(format!(
                            "column '{}' cannot be cast to {}: {e}",
                            f.name(),
                            type_name(to)
                        ))
                    })?
                }
                Source::Compute(expr) => evaluate(expr, batch)
                    .and_then(|v| v.into_array(n))
                    .map_err(|e| named(f.name(), e))?,
                Source::Function(i, k) => {
                    let a = made[*i].get(*k).cloned().ok_or_else(|| {
                        Error::invalid(format!("the function made no column '{}'", f.name()))
                    })?;
                    if a.len() != n || a.data_type() != f.data_type() {
                        return Err(Error::invalid(format!(
                            "the function's column '{}' has {} values of {} for a batch of {n} \
                             rows; {} expected",
                            f.name(),
                            a.len(),
                            type_name(a.data_type()),
                            type_name(f.data_type())
                        )));
                    }
                    a
                }
            })
        })
        .collect::<Result<Vec<_>>>()?;
    for (a, f) in columns.iter().zip(schema.fields()) {
        if !f.is_nullable() && a.null_count() > 0 {
            return Err(Error::invalid(format!(
                "column '{}' would hold nulls, and it may not",
                f.name()
            )));
        }
    }
    RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(n)),
    )
    .map_err(|e| Error::internal("rewriting a batch", e))
}

fn named(column: &str, e: Error) -> Error {
    match e {
        Error::Filter { message, .. } => Error::Filter {
            what: "column expression",
            message: format!("'{column}': {message}"),
        },
        other => other,
    }
}
