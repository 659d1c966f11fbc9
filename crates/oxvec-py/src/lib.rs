//! oxvec-py: the Python bindings, and the only crate that knows Python.
//!
//! It converts (Arrow C streams in and out, Python scalars to filter parameters), maps the
//! engine's errors onto `oxvec.exceptions`, and runs every potentially slow call through
//! [`runtime::run`], which releases the GIL and turns Ctrl-C into `KeyboardInterrupt`.
//! It holds no logic of its own.

mod arrow_ffi;
mod convert;
mod database;
mod error;
mod numpy_out;
mod projection;
mod runtime;
mod table;

use pyo3::prelude::*;

/// The compiled core of oxvec. Use the `oxvec` package, not this module.
#[pymodule]
fn _oxvec(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<database::PyDatabase>()?;
    m.add_class::<table::PyTable>()?;
    m.add_class::<arrow_ffi::PyArrowStream>()?;
    m.add_class::<arrow_ffi::PyBatchStream>()?;
    m.add_function(wrap_pyfunction!(simd_kernels, m)?)?;
    m.add_function(wrap_pyfunction!(projection::projection_columns, m)?)?;
    m.add_function(wrap_pyfunction!(projection::project_stream, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::_set_call_timeout, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::_set_cancel_scope, m)?)?;
    m.add_class::<runtime::PyCancelScope>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

/// Name of the distance kernels chosen for this CPU (`avx512`, `avx2`, `neon` or `scalar`).
///
/// Examples
/// --------
/// >>> import oxvec
/// >>> oxvec.simd_kernels() in ("avx512", "avx2", "neon", "scalar")
/// True
#[pyfunction]
fn simd_kernels() -> &'static str {
    oxvec::kernels_name()
}
