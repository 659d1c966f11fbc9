//! Running engine calls from Python: the GIL is released, and Ctrl-C cancels the call.
//!
//! Python delivers SIGINT by setting a flag that only the main thread, holding the GIL, can
//! check. So a long call runs on a worker thread while the calling thread waits without the
//! GIL and, every few milliseconds, takes it to check signals; on Ctrl-C it cancels the
//! engine's token, waits for the worker to stop (it commits nothing once cancelled) and
//! raises `KeyboardInterrupt`. Short calls skip the worker thread: spawning one would cost
//! more than the call itself.

use crate::error::to_py_err;
use oxvec::CancelToken;
use pyo3::prelude::*;
use std::cell::{Cell, RefCell};
use std::sync::mpsc;
use std::time::Duration;

const SIGNAL_POLL: Duration = Duration::from_millis(20);

thread_local! {
    /// The time limit of the calls this thread makes, set around one call by the Python
    /// layer's `timeout=` arguments (one mechanism for every method that takes one).
    static CALL_TIMEOUT: Cell<Option<Duration>> = const { Cell::new(None) };
    /// The scope this thread's calls belong to: cancelling it stops them (the async API
    /// runs each call in a worker thread inside a scope it cancels when the task is).
    static CALL_SCOPE: RefCell<Option<CancelToken>> = const { RefCell::new(None) };
}

/// A handle that stops the engine calls made inside it, from any thread.
#[pyclass(name = "CancelScope", module = "oxvec._oxvec", frozen)]
pub struct PyCancelScope {
    token: CancelToken,
}

#[pymethods]
impl PyCancelScope {
    #[new]
    fn new() -> Self {
        PyCancelScope {
            token: CancelToken::new(),
        }
    }

    /// Stops the calls running in the scope at their next check, and any made later.
    fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether `cancel` was called.
    #[getter]
    fn cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
}

/// Makes this thread's engine calls part of `scope` (`None`: of none); returns the scope it
/// replaces, for the caller to put back.
#[pyfunction]
#[pyo3(signature = (scope))]
pub fn _set_cancel_scope(scope: Option<Py<PyCancelScope>>) -> Option<Py<PyCancelScope>> {
    thread_local! {
        static SCOPE_OBJECT: RefCell<Option<Py<PyCancelScope>>> = const { RefCell::new(None) };
    }
    let token = scope.as_ref().map(|s| s.get().token.clone());
    CALL_SCOPE.with(|c| *c.borrow_mut() = token);
    SCOPE_OBJECT.with(|o| std::mem::replace(&mut *o.borrow_mut(), scope))
}

/// Sets the time limit of this thread's engine calls (`None`: none); returns the previous
/// one, for the caller to put back.
#[pyfunction]
#[pyo3(signature = (seconds))]
pub fn _set_call_timeout(seconds: Option<f64>) -> PyResult<Option<f64>> {
    let limit = seconds
        .map(|s| crate::convert::seconds("timeout", s))
        .transpose()?;
    let before = CALL_TIMEOUT.with(|t| t.replace(limit));
    Ok(before.map(|d| d.as_secs_f64()))
}

/// A token for a call of this thread: with the thread's time limit, if one is set.
pub(crate) fn new_token() -> CancelToken {
    let limit = CALL_TIMEOUT.with(Cell::get);
    match CALL_SCOPE.with(|c| c.borrow().clone()) {
        Some(scope) => CancelToken::linked(&scope, limit),
        None => match limit {
            Some(limit) => CancelToken::with_timeout(limit),
            None => CancelToken::new(),
        },
    }
}

/// How a call is expected to behave.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    /// Microseconds: run inline without the GIL; signals are checked afterwards.
    Quick,
    /// Possibly seconds: run on a worker thread that Ctrl-C can cancel.
    Long,
}

/// Runs `f` without the GIL; maps engine errors to Python exceptions.
pub fn run<T, F>(py: Python<'_>, cost: Cost, f: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&CancelToken) -> oxvec::Result<T> + Send,
{
    run_reporting(py, cost, None, f)
}

/// [`run`], calling `report` on every signal poll of a long call (for progress bars).
pub fn run_reporting<T, F>(
    py: Python<'_>,
    cost: Cost,
    report: Option<&(dyn Fn(bool) + Sync)>,
    f: F,
) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&CancelToken) -> oxvec::Result<T> + Send,
{
    let token = new_token();
    if cost == Cost::Quick {
        let out = py.detach(|| guarded(f, &token));
        return out.map_err(|e| to_py_err(stopped(e, &token)));
    }
    let mut interrupt: Option<PyErr> = None;
    let out = py.detach(|| {
        std::thread::scope(|s| {
            let (tx, rx) = mpsc::channel();
            let worker_token = token.clone();
            s.spawn(move || {
                let _ = tx.send(guarded(f, &worker_token));
            });
            loop {
                match rx.recv_timeout(SIGNAL_POLL) {
                    Ok(r) => {
                        if let Some(rep) = report {
                            rep(true);
                        }
                        return r;
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if let Some(rep) = report {
                            rep(false);
                        }
                        if interrupt.is_none() {
                            if let Err(e) = Python::attach(|py| py.check_signals()) {
                                interrupt = Some(e);
                                token.cancel();
                            }
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        return Err(oxvec::Error::internal(
                            "worker thread",
                            "ended without a result",
                        ));
                    }
                }
            }
        })
    });
    match (interrupt, out) {
        (Some(e), Err(oxvec::Error::Interrupted)) => Err(e),
        (Some(e), Ok(v)) => {
            // The work finished before it saw the cancel; keep the result, re-raise the signal.
            drop(v);
            Err(e)
        }
        (_, r) => r.map_err(|e| to_py_err(stopped(e, &token))),
    }
}

/// `e`, or the time-out it really was when the token's deadline is what stopped the work.
fn stopped(e: oxvec::Error, token: &CancelToken) -> oxvec::Error {
    match e {
        oxvec::Error::Interrupted => token.stop_error(),
        other => other,
    }
}

/// Runs `f`, turning a panic anywhere in the engine into [`oxvec::Error::Internal`] (a bug
/// report for the user, not a `PanicException` that `except Exception` does not catch).
fn guarded<T>(
    f: impl FnOnce(&CancelToken) -> oxvec::Result<T>,
    token: &CancelToken,
) -> oxvec::Result<T> {
    // The closure owns or borrows read-only what it uses; the engine keeps no half-updated
    // shared state across a panic (commits are single atomic publishes).
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(token))).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        Err(oxvec::Error::internal("the engine panicked", what))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_the_engine_becomes_an_internal_error() {
        let token = CancelToken::new();
        let r: oxvec::Result<()> = guarded(|_| panic!("index {} out of range", 7), &token);
        match r {
            Err(oxvec::Error::Internal { message }) => {
                assert!(message.contains("index 7 out of range"), "{message}")
            }
            other => panic!("expected Internal, got {other:?}"),
        }
        let ok: oxvec::Result<u8> = guarded(|_| Ok(3), &token);
        assert_eq!(ok.unwrap(), 3);
    }
}
