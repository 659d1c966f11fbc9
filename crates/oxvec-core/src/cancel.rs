//! Cooperative cancellation: long operations poll a token so Ctrl-C, or a time limit, can
//! stop them cleanly, before anything is committed.

use crate::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A cheap, cloneable flag set by whoever wants an operation to stop, with an optional
/// deadline after which it counts as set.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    /// Shared with the tokens linked to this one (see [`CancelToken::linked`]).
    cancelled: Arc<AtomicBool>,
    /// When the operation's time runs out, and the limit it was given.
    deadline: Option<(Instant, Duration)>,
}

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// A token that also stops the operation once `limit` has passed from now.
    pub fn with_timeout(limit: Duration) -> Self {
        let deadline = Instant::now().checked_add(limit).map(|at| (at, limit));
        CancelToken(Arc::new(Inner {
            cancelled: Arc::new(AtomicBool::new(false)),
            deadline,
        }))
    }

    /// A token cancelled whenever `scope` is (and by its own `cancel`, which cancels `scope`
    /// too: they share the flag), with its own deadline `limit` from now, if any.
    pub fn linked(scope: &CancelToken, limit: Option<Duration>) -> Self {
        let deadline = limit.and_then(|l| Instant::now().checked_add(l).map(|at| (at, l)));
        CancelToken(Arc::new(Inner {
            cancelled: scope.0.cancelled.clone(),
            deadline,
        }))
    }

    /// Asks every holder to stop.
    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::Relaxed);
    }

    /// Whether `cancel` was called or the deadline passed.
    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::Relaxed) || self.timed_out()
    }

    /// Whether the token has a deadline and it passed.
    pub fn timed_out(&self) -> bool {
        self.0.deadline.is_some_and(|(at, _)| Instant::now() >= at)
    }

    /// `Err(Error::Interrupted)` once cancelled, `Err(Error::TimedOut)` once past the
    /// deadline; call it between units of work.
    pub fn check(&self) -> Result<()> {
        if self.0.cancelled.load(Ordering::Relaxed) {
            return Err(Error::Interrupted);
        }
        match self.0.deadline {
            Some((at, limit)) if Instant::now() >= at => Err(self.timeout_error(limit)),
            _ => Ok(()),
        }
    }

    /// The error of an operation stopped by this token: [`Error::TimedOut`] when its
    /// deadline passed (and nobody cancelled it), else [`Error::Interrupted`].
    pub fn stop_error(&self) -> Error {
        match self.0.deadline {
            Some((_, limit)) if self.timed_out() && !self.0.cancelled.load(Ordering::Relaxed) => {
                self.timeout_error(limit)
            }
            _ => Error::Interrupted,
        }
    }

    fn timeout_error(&self, limit: Duration) -> Error {
        Error::TimedOut {
            seconds: limit.as_secs_f64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_linked_token_stops_with_its_scope() {
        let scope = CancelToken::new();
        let call = CancelToken::linked(&scope, Some(Duration::from_secs(60)));
        assert!(call.check().is_ok());
        scope.cancel();
        assert!(matches!(call.check(), Err(Error::Interrupted)));
        let late = CancelToken::linked(&CancelToken::new(), Some(Duration::ZERO));
        assert!(matches!(late.check(), Err(Error::TimedOut { .. })));
    }

    #[test]
    fn a_deadline_stops_work_with_its_own_error() {
        let t = CancelToken::with_timeout(Duration::from_millis(20));
        assert!(t.check().is_ok() && !t.is_cancelled());
        std::thread::sleep(Duration::from_millis(30));
        assert!(t.is_cancelled());
        assert!(matches!(t.check(), Err(Error::TimedOut { .. })));
        assert!(matches!(t.stop_error(), Error::TimedOut { .. }));
        t.cancel();
        assert!(matches!(t.check(), Err(Error::Interrupted)));
    }

    #[test]
    fn a_huge_timeout_never_fires() {
        let t = CancelToken::with_timeout(Duration::MAX);
        assert!(t.check().is_ok());
        assert!(matches!(
            CancelToken::new().stop_error(),
            Error::Interrupted
        ));
    }
}
