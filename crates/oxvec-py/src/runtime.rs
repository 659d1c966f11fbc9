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
use std::sync::mpsc;
use std::time::Duration;

const SIGNAL_POLL: Duration = Duration::from_millis(20);

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
    let token = CancelToken::new();
    if cost == Cost::Quick {
        let out = py.detach(|| f(&token));
        return out.map_err(to_py_err);
    }
    let mut interrupt: Option<PyErr> = None;
    let out = py.detach(|| {
        std::thread::scope(|s| {
            let (tx, rx) = mpsc::channel();
            let worker_token = token.clone();
            s.spawn(move || {
                let _ = tx.send(f(&worker_token));
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
                        return Err(oxvec::Error::invalid("oxvec worker thread panicked"));
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
        (_, r) => r.map_err(to_py_err),
    }
}
