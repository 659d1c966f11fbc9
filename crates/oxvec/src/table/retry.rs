//! Running a read-modify-write again when its commit lost a race: another writer changed
//! the rows it read, so its plan is stale. The next attempt plans on the newer version.

use oxvec_core::{CancelToken, Error, Result};
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// Runs `op`, again after a growing, jittered wait whenever it fails with a retryable
/// [`Error::CommitConflict`], at most `max_retries` more times. The last conflict is
/// returned with the number of attempts added to its message.
pub(super) fn retrying<T>(
    max_retries: u32,
    cancel: &CancelToken,
    mut op: impl FnMut() -> Result<T>,
) -> Result<T> {
    let mut attempt = 0u32;
    loop {
        match op() {
            Err(Error::CommitConflict {
                retryable: true, ..
            }) if attempt < max_retries => {
                wait(attempt, cancel)?;
                attempt += 1;
            }
            Err(Error::CommitConflict { message, retryable }) if attempt > 0 => {
                return Err(Error::CommitConflict {
                    message: format!("{message}; gave up after {} attempts", attempt + 1),
                    retryable,
                })
            }
            other => return other,
        }
    }
}

/// Sleeps 1 ms doubling per attempt up to 256 ms, times a random factor in [0.5, 1.5) so
/// writers that collided do not collide again in step; Ctrl-C ends the wait.
fn wait(attempt: u32, cancel: &CancelToken) -> Result<()> {
    let base = Duration::from_millis(1 << attempt.min(8));
    let jitter = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let mut left = base.mul_f64(0.5 + (jitter % 1000) as f64 / 1000.0);
    while !left.is_zero() {
        cancel.check()?;
        let step = left.min(Duration::from_millis(10));
        std::thread::sleep(step);
        left -= step;
    }
    cancel.check()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conflict() -> Error {
        Error::CommitConflict {
            message: "rows changed".into(),
            retryable: true,
        }
    }

    #[test]
    fn a_conflict_is_retried_until_the_op_succeeds() {
        let mut calls = 0;
        let out = retrying(3, &CancelToken::new(), || {
            calls += 1;
            if calls < 3 {
                Err(conflict())
            } else {
                Ok(calls)
            }
        });
        assert_eq!(out.unwrap(), 3);
    }

    #[test]
    fn the_last_conflict_is_returned_when_retries_run_out() {
        let mut calls = 0;
        let out: Result<()> = retrying(2, &CancelToken::new(), || {
            calls += 1;
            Err(conflict())
        });
        assert_eq!(calls, 3);
        let Err(Error::CommitConflict { message, .. }) = out else {
            panic!("expected a conflict")
        };
        assert!(message.ends_with("gave up after 3 attempts"), "{message}");
    }

    #[test]
    fn other_errors_and_final_conflicts_are_not_retried() {
        let mut calls = 0;
        let out: Result<()> = retrying(5, &CancelToken::new(), || {
            calls += 1;
            Err(Error::CommitConflict {
                message: "schema changed".into(),
                retryable: false,
            })
        });
        assert!(out.is_err());
        assert_eq!(calls, 1);
    }
}
