//! Arrow across the Python boundary through the Arrow PyCapsule interface: any object with
//! `__arrow_c_stream__` comes in without copies, and results go out as an object with
//! `__arrow_c_stream__`, so pyarrow, Polars and DuckDB can all read them and pyarrow is not
//! needed to consume them.

use crate::error::{foreign, invalid};
use arrow::array::{Array, RecordBatch, RecordBatchIterator, RecordBatchReader, StructArray};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::ffi::FFI_ArrowArray;
use arrow::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use std::ffi::CStr;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

const STREAM_CAPSULE: &CStr = c"arrow_array_stream";

/// Calls an Arrow PyCapsule protocol method (`__arrow_c_stream__`, `__arrow_c_schema__`) and
/// returns the capsule, which owns the exported struct and must outlive any use of the
/// pointer, with the pointer checked against the protocol's capsule name.
fn protocol_capsule<'py>(
    obj: &Bound<'py, PyAny>,
    method: &str,
    name: &'static CStr,
    what: &str,
) -> PyResult<(Bound<'py, PyCapsule>, std::ptr::NonNull<std::ffi::c_void>)> {
    let py = obj.py();
    if !obj.hasattr(method).unwrap_or(false) {
        let ty = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default();
        return Err(invalid(format!(
            "expected an Arrow {what} (an object with {method}), got {ty}"
        )));
    }
    let reading = format!("reading the Arrow {what} failed");
    let capsule = obj
        .call_method0(method)
        .and_then(|c| c.cast_into::<PyCapsule>().map_err(PyErr::from))
        .map_err(|e| foreign(py, &reading, e))?;
    let ptr = capsule
        .pointer_checked(Some(name))
        .map_err(|e| foreign(py, &reading, e))?;
    Ok((capsule, ptr))
}

/// Takes ownership of the Arrow stream exported by `obj.__arrow_c_stream__()`.
pub fn import_stream(obj: &Bound<'_, PyAny>) -> PyResult<RecordBatchStreamReader> {
    let (_capsule, ptr) = protocol_capsule(obj, "__arrow_c_stream__", STREAM_CAPSULE, "stream")?;
    // SAFETY: the capsule was checked to carry an `ArrowArrayStream` under the protocol's
    // name. `from_raw` moves the struct out and leaves a released one behind, which is how
    // the protocol transfers ownership; the capsule's destructor then has nothing to free.
    let stream =
        unsafe { FFI_ArrowArrayStream::from_raw(ptr.as_ptr() as *mut FFI_ArrowArrayStream) };
    RecordBatchStreamReader::try_new(stream)
        .map_err(|e| invalid(format!("invalid Arrow stream: {e}")))
}

/// A query result held in Rust and exported on demand.
#[pyclass(name = "ArrowStream", module = "oxvec._oxvec", frozen)]
pub struct PyArrowStream {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    /// Batches exported by [`PyArrowStream::export_batch`], owned here until pyarrow moves
    /// them out (an export never imported is released with this object). Boxed: the address
    /// handed to pyarrow must not move when the list grows.
    #[allow(clippy::vec_box)]
    exported: Mutex<Vec<Box<FFI_ArrowArray>>>,
}

impl PyArrowStream {
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        PyArrowStream {
            schema,
            batches,
            exported: Mutex::new(Vec::new()),
        }
    }
}

#[pymethods]
impl PyArrowStream {
    /// Exports the result as an Arrow C stream capsule (may be called more than once).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema; // We always export our own schema; the protocol allows it.
        let reader = RecordBatchIterator::new(
            self.batches.clone().into_iter().map(Ok),
            self.schema.clone(),
        );
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        PyCapsule::new_with_value(py, stream, STREAM_CAPSULE)
    }

    /// `[(name, (dtype, bytearray, width) | None)]`: number and vector columns without nulls
    /// as bytes for `numpy.frombuffer`; `None` where pyarrow should convert the column.
    fn numpy_columns<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<Vec<crate::numpy_out::NumpyColumn<'py>>> {
        crate::numpy_out::columns(py, &self.schema, &self.batches)
    }

    /// `(schema_key, address)` for a result of exactly one batch, else `None`: the batch as an
    /// Arrow C array (a struct array of the columns) owned by this object, at `address`, for
    /// `pyarrow.RecordBatch._import_from_c(address, schema)` with a pyarrow schema cached by
    /// `schema_key` (a hash of the result schema). Importing a small result this way skips
    /// pyarrow's stream reader and schema parsing, most of the cost of reading it. The caller
    /// keeps this object alive until the import returns.
    fn export_batch(&self) -> Option<(u64, usize)> {
        let [batch] = self.batches.as_slice() else {
            return None;
        };
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.schema.hash(&mut h);
        let data = StructArray::from(batch.clone()).into_data();
        let ffi = Box::new(FFI_ArrowArray::new(&data));
        let address = &*ffi as *const FFI_ArrowArray as usize;
        self.exported.lock().ok()?.push(ffi);
        Some((h.finish(), address))
    }

    /// Rows in the result.
    #[getter]
    fn num_rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }

    /// The result with `select`'s computed outputs (then the `keep` columns it has).
    fn project(
        &self,
        py: Python<'_>,
        outputs: crate::projection::Outputs,
        keep: Vec<String>,
    ) -> PyResult<PyArrowStream> {
        let p = crate::projection::compile(outputs, &self.schema, &keep)?;
        let batches = crate::runtime::run(py, crate::runtime::Cost::Long, |cancel| {
            let mut out = Vec::with_capacity(self.batches.len());
            for b in &self.batches {
                cancel.check()?;
                out.push(p.apply(b)?);
            }
            Ok(out)
        })?;
        Ok(PyArrowStream::new(p.schema().clone(), batches))
    }
}

/// A result read batch by batch as the consumer asks (a streaming scan), exported once.
#[pyclass(name = "BatchStream", module = "oxvec._oxvec", frozen)]
pub struct PyBatchStream {
    reader: Mutex<Option<Box<dyn RecordBatchReader + Send>>>,
}

impl PyBatchStream {
    pub fn new(stream: oxvec::ScanStream) -> Self {
        let schema = stream.schema();
        // An engine error mid-stream reaches the consumer as an Arrow error with its text.
        let batches = stream.map(|r| r.map_err(|e| ArrowError::ExternalError(Box::new(e))));
        let reader = RecordBatchIterator::new(batches, schema);
        PyBatchStream {
            reader: Mutex::new(Some(Box::new(reader))),
        }
    }
}

#[pymethods]
impl PyBatchStream {
    /// Exports the stream as an Arrow C stream capsule; a second call is an error (the
    /// batches are read as they are consumed, once).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema; // We always export our own schema; the protocol allows it.
        let reader = self
            .reader
            .lock()
            .map_err(|_| invalid("the stream's lock was poisoned"))?
            .take()
            .ok_or_else(|| invalid("this stream was read already; run the query again"))?;
        PyCapsule::new_with_value(py, FFI_ArrowArrayStream::new(reader), STREAM_CAPSULE)
    }

    /// A stream of this one's batches with `select`'s computed outputs (then the `keep`
    /// columns it has), each batch computed as it is read; this stream is used up.
    fn project(
        &self,
        outputs: crate::projection::Outputs,
        keep: Vec<String>,
    ) -> PyResult<PyBatchStream> {
        let reader = self
            .reader
            .lock()
            .map_err(|_| invalid("the stream's lock was poisoned"))?
            .take()
            .ok_or_else(|| invalid("this stream was read already; run the query again"))?;
        let p = crate::projection::compile(outputs, &reader.schema(), &keep)?;
        let schema = p.schema().clone();
        let batches = reader.map(move |b| {
            b.and_then(|b| {
                p.apply(&b)
                    .map_err(|e| ArrowError::ExternalError(Box::new(e)))
            })
        });
        Ok(PyBatchStream {
            reader: Mutex::new(Some(Box::new(RecordBatchIterator::new(batches, schema)))),
        })
    }
}

const SCHEMA_CAPSULE: &CStr = c"arrow_schema";

/// Reads a schema from any object with `__arrow_c_schema__` (a pyarrow Schema, say).
pub fn import_schema(obj: &Bound<'_, PyAny>) -> PyResult<SchemaRef> {
    let (_capsule, ptr) = protocol_capsule(obj, "__arrow_c_schema__", SCHEMA_CAPSULE, "schema")?;
    // SAFETY: checked to be an `ArrowSchema` capsule; we only borrow it (the schema is copied
    // into Rust types), and the capsule keeps it alive for the duration of the borrow.
    let ffi = unsafe { &*(ptr.as_ptr() as *const arrow::ffi::FFI_ArrowSchema) };
    let schema = arrow::datatypes::Schema::try_from(ffi)
        .map_err(|e| invalid(format!("invalid Arrow schema: {e}")))?;
    Ok(std::sync::Arc::new(schema))
}

/// An imported stream as the engine's batch iterator.
pub fn batches(
    reader: RecordBatchStreamReader,
) -> impl Iterator<Item = oxvec::Result<RecordBatch>> + Send {
    reader.map(|r| r.map_err(|e| oxvec::Error::invalid(format!("reading input data: {e}"))))
}
