//! `select({"alias": "sql"})` for Python: projections of engine results, computed in Rust.

use crate::arrow_ffi::{batches, import_schema, import_stream, PyArrowStream};
use crate::error::to_py_err;
use crate::runtime::{run, Cost};
use arrow::array::RecordBatchReader;
use arrow::datatypes::SchemaRef;
use oxvec_query::{Output, Projection};
use pyo3::prelude::*;

/// A projection's outputs as Python passes them: `(name, sql)`, `sql` `None` for the
/// column `name` itself.
pub type Outputs = Vec<(String, Option<String>)>;

/// Compiles `outputs` over `schema`, then the `keep` columns the input has.
pub fn compile(outputs: Outputs, schema: &SchemaRef, keep: &[String]) -> PyResult<Projection> {
    let outputs: Vec<Output> = outputs
        .into_iter()
        .map(|(name, sql)| Output { name, sql })
        .collect();
    let keep: Vec<&str> = keep.iter().map(String::as_str).collect();
    Projection::compile(&outputs, schema, &keep).map_err(to_py_err)
}

/// The columns of `schema` that `outputs` read (checked: an unknown column or a type error
/// is an error here, before any query runs).
#[pyfunction]
pub fn projection_columns(outputs: Outputs, schema: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    let schema = import_schema(schema)?;
    Ok(compile(outputs, &schema, &[])?.columns())
}

/// Any Arrow stream (a pyarrow Table, say) with `outputs` computed (then the `keep` columns
/// it has), as an engine result.
#[pyfunction]
pub fn project_stream(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    outputs: Outputs,
    keep: Vec<String>,
) -> PyResult<PyArrowStream> {
    let reader = import_stream(data)?;
    let p = compile(outputs, &reader.schema(), &keep)?;
    let batches = run(py, Cost::Long, |cancel| {
        let mut out = Vec::new();
        for b in batches(reader) {
            cancel.check()?;
            out.push(p.apply(&b?)?);
        }
        Ok(out)
    })?;
    Ok(PyArrowStream::new(p.schema().clone(), batches))
}
