//! `select({"alias": "sql expression"})`: output columns computed from a result's columns,
//! in the same language as filters (one parser, one evaluator).

use crate::eval::evaluate;
use crate::expr::Expr;
use crate::parse::parse_expr;
use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{Field, Schema, SchemaRef};
use oxvec_core::{Error, Result};
use std::sync::Arc;

/// One output of a projection: a name and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub name: String,
    /// `None`: the input column of the same name, passed through.
    pub sql: Option<String>,
}

/// A compiled projection: its outputs, type-checked against an input schema.
#[derive(Debug, Clone)]
pub struct Projection {
    exprs: Vec<(String, Expr)>,
    schema: SchemaRef,
}

impl Projection {
    /// Compiles `outputs` over `input`; `then_keep` names input columns appended after the
    /// outputs when present in `input` and not already output (a search's `_distance`).
    pub fn compile(outputs: &[Output], input: &SchemaRef, then_keep: &[&str]) -> Result<Self> {
        if outputs.is_empty() {
            return Err(Error::invalid(
                "select needs at least one column or expression",
            ));
        }
        let mut exprs: Vec<(String, Expr)> = Vec::with_capacity(outputs.len());
        for o in outputs {
            if o.name.is_empty() || o.name.contains('\0') {
                return Err(Error::invalid(format!(
                    "select: output name {:?} must be non-empty and free of NUL",
                    o.name
                )));
            }
            if exprs.iter().any(|(n, _)| n == &o.name) {
                return Err(Error::invalid(format!(
                    "select names the output '{}' twice",
                    o.name
                )));
            }
            let expr = match &o.sql {
                None => {
                    if input.column_with_name(&o.name).is_none() {
                        let names: Vec<&str> =
                            input.fields().iter().map(|f| f.name().as_str()).collect();
                        return Err(Error::invalid(format!(
                            "unknown column '{}' in select; the result has {names:?}",
                            o.name
                        )));
                    }
                    Expr::Column(o.name.clone())
                }
                Some(sql) => parse_expr(sql, &[], input).map_err(|e| select_error(&o.name, &e))?,
            };
            exprs.push((o.name.clone(), expr));
        }
        for name in then_keep {
            if input.column_with_name(name).is_some() && !exprs.iter().any(|(n, _)| n == name) {
                exprs.push((name.to_string(), Expr::Column(name.to_string())));
            }
        }
        // Types by evaluation on an empty batch: the same path as real evaluation.
        let empty = RecordBatch::new_empty(input.clone());
        let mut fields = Vec::with_capacity(exprs.len());
        for (name, expr) in &exprs {
            let field = match expr {
                Expr::Column(c) => input
                    .field_with_name(c)
                    .map_err(|e| Error::invalid(e.to_string()))?
                    .clone()
                    .with_name(name),
                _ => {
                    let v = evaluate(expr, &empty).map_err(|e| select_error(name, &e))?;
                    let a = v.into_array(0)?;
                    Field::new(name, a.data_type().clone(), true)
                }
            };
            fields.push(field);
        }
        Ok(Projection {
            exprs,
            schema: Arc::new(Schema::new(fields)),
        })
    }

    /// The input columns the outputs read, in first-use order.
    pub fn columns(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (_, e) in &self.exprs {
            for c in e.columns() {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
        out
    }

    /// The schema of projected batches.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// `batch` projected: each output evaluated on it.
    pub fn apply(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let n = batch.num_rows();
        let columns = self
            .exprs
            .iter()
            .zip(self.schema.fields())
            .map(|((name, e), field)| {
                let a: ArrayRef = evaluate(e, batch)
                    .and_then(|v| v.into_array(n))
                    .map_err(|e| select_error(name, &e))?;
                if a.data_type() != field.data_type() {
                    return Err(Error::invalid(format!(
                        "select '{name}' evaluated to {} on a batch, {} on the schema",
                        a.data_type(),
                        field.data_type()
                    )));
                }
                Ok(a)
            })
            .collect::<Result<Vec<_>>>()?;
        RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|e| Error::invalid(format!("select: {e}")))
    }
}

/// An expression error, naming the output it computes.
fn select_error(name: &str, e: &Error) -> Error {
    let message = match e {
        Error::Filter { message, .. } => message.clone(),
        other => other.to_string(),
    };
    Error::Filter {
        what: "select expression",
        message: format!("'{name}': {message}"),
    }
}
