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

/// A Python function of a batch as the engine's [`oxvec::BatchFn`]: called (with the GIL) on
/// each batch, exported as an `ArrowStream`; what it returns (any Arrow stream) must hold the
/// columns of `made`, by name, one value per row.
pub fn batch_function(function: Py<PyAny>, made: arrow::datatypes::SchemaRef) -> oxvec::BatchFn {
    std::sync::Arc::new(move |batch: &arrow::array::RecordBatch| {
        Python::attach(|py| -> oxvec::Result<Vec<arrow::array::ArrayRef>> {
            let failed =
                |e: PyErr| oxvec::Error::invalid(format!("the column function failed: {e}"));
            let arg = Py::new(py, PyArrowStream::new(batch.schema(), vec![batch.clone()]))
                .map_err(failed)?;
            let out = function.call1(py, (arg,)).map_err(failed)?;
            let reader = import_stream(out.bind(py)).map_err(failed)?;
            let schema = reader.schema();
            let parts = batches(reader).collect::<oxvec::Result<Vec<_>>>()?;
            let whole = arrow::compute::concat_batches(&schema, &parts)
                .map_err(|e| oxvec::Error::invalid(format!("the column function's output: {e}")))?;
            made.fields()
                .iter()
                .map(|f| {
                    whole.column_by_name(f.name()).cloned().ok_or_else(|| {
                        oxvec::Error::invalid(format!(
                            "the column function returned no column '{}'",
                            f.name()
                        ))
                    })
                })
                .collect()
        })
    })
}
