//! The one place engine errors become Python exceptions.
//!
//! The classes live in `oxvec/exceptions.py`, where each can also subclass the natural builtin
//! (`KeyError`, `ValueError`, `OSError`); they are looked up once and cached.

use oxvec::Error;
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

macro_rules! exception_cache {
    ($($name:ident),* $(,)?) => {
        $(
            #[allow(non_upper_case_globals)]
            static $name: PyOnceLock<Py<PyType>> = PyOnceLock::new();
        )*
    };
}

exception_cache!(
    TableNotFoundError,
    TableExistsError,
    SchemaError,
    InvalidInputError,
    FilterError,
    CommitConflictError,
    CorruptFileError,
    StorageError,
    InternalError,
    TimedOutError,
);

fn raise(py: Python<'_>, cell: &'static PyOnceLock<Py<PyType>>, name: &str, msg: String) -> PyErr {
    match cell.import(py, "oxvec.exceptions", name) {
        Ok(ty) => match ty.call1((msg,)) {
            Ok(inst) => PyErr::from_value(inst),
            Err(e) => e,
        },
        Err(e) => e,
    }
}

/// Converts an engine error into the matching `oxvec` exception.
pub fn to_py_err(e: Error) -> PyErr {
    Python::attach(|py| {
        let msg = e.to_string();
        match e {
            Error::TableNotFound { .. } => {
                raise(py, &TableNotFoundError, "TableNotFoundError", msg)
            }
            Error::TableExists { .. } => raise(py, &TableExistsError, "TableExistsError", msg),
            Error::Schema { .. } => raise(py, &SchemaError, "SchemaError", msg),
            Error::InvalidInput { .. } => raise(py, &InvalidInputError, "InvalidInputError", msg),
            Error::Filter { .. } => raise(py, &FilterError, "FilterError", msg),
            Error::CommitConflict { retryable, .. } => {
                let err = raise(py, &CommitConflictError, "CommitConflictError", msg);
                let _ = err.value(py).setattr("retryable", retryable);
                err
            }
            Error::CorruptFile { ref path, .. } => {
                let err = raise(py, &CorruptFileError, "CorruptFileError", msg.clone());
                let _ = err.value(py).setattr("path", path.display().to_string());
                err
            }
            Error::Storage {
                ref path,
                ref source,
            } => {
                let errno = source.raw_os_error().unwrap_or(0);
                let ty = StorageError.import(py, "oxvec.exceptions", "StorageError");
                match ty
                    .and_then(|t| t.call1((errno, source.to_string(), path.display().to_string())))
                {
                    Ok(inst) => PyErr::from_value(inst),
                    Err(err) => err,
                }
            }
            Error::Internal { .. } => raise(py, &InternalError, "InternalError", msg),
            Error::TimedOut { .. } => raise(py, &TimedOutError, "TimedOutError", msg),
            Error::Interrupted => {
                PyKeyboardInterrupt::new_err("oxvec operation interrupted; nothing was committed")
            }
        }
    })
}

/// `InvalidInputError(message)`: for arguments the bindings check before calling the engine.
pub fn invalid(message: impl Into<String>) -> PyErr {
    to_py_err(Error::invalid(message))
}

/// A Python exception raised by the caller's objects (an Arrow producer, a parameter's
/// conversion method) while oxvec read them, as `InvalidInputError` naming `what` and the
/// original error (kept as `__cause__`). Exceptions that are not `Exception`s
/// (`KeyboardInterrupt`, `SystemExit`) pass through unchanged.
pub fn foreign(py: Python<'_>, what: &str, cause: PyErr) -> PyErr {
    if !cause.is_instance_of::<pyo3::exceptions::PyException>(py) {
        return cause;
    }
    let err = invalid(format!("{what}: {cause}"));
    err.set_cause(py, Some(cause));
    err
}

/// A `UserWarning` with `message`, attributed to the caller of the public method (the
/// warnings filters decide whether it shows, repeats or raises).
pub fn warn(py: Python<'_>, message: &str) -> PyResult<()> {
    let category = py.get_type::<pyo3::exceptions::PyUserWarning>();
    py.import("warnings")?
        .call_method1("warn", (message, category, 3))?;
    Ok(())
}
