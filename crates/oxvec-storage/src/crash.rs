//! Named crash points for the kill -9 suite (RELIABILITY.md, T1).
//!
//! Every persistence step calls [`point`] with its name. When the environment variable
//! `OXVEC_CRASH_AT` is `name` (or `name:n`, the n-th hit), the process aborts right there,
//! without unwinding or flushing anything, as a `kill -9` or a power cut would stop it. Unset,
//! a point costs one load of a cached `Option`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The environment variable naming the point to crash at.
pub const ENV: &str = "OXVEC_CRASH_AT";

/// Every point, roughly in the order a commit meets them (a fragment synced in the
/// background may reach `fragment_synced` after `manifest_temp_written`, never after
/// `manifest_linked`); the T1 suite hits each one.
pub const POINTS: &[&str] = &[
    "fragment_written",
    "fragment_synced",
    "deletion_written",
    "index_written",
    "manifest_temp_written",
    "manifest_linked",
    "manifest_published",
    "compaction_written",
    "cleanup_manifest_removed",
    "cleanup_file_removed",
    "tag_written",
];

fn target() -> &'static Option<(String, u64)> {
    static TARGET: OnceLock<Option<(String, u64)>> = OnceLock::new();
    TARGET.get_or_init(|| {
        let spec = std::env::var(ENV).ok()?;
        Some(match spec.split_once(':') {
            Some((name, n)) => (name.to_string(), n.parse().unwrap_or(1).max(1)),
            None => (spec, 1),
        })
    })
}

/// Aborts the process if `OXVEC_CRASH_AT` names this point (and its hit count is reached).
#[inline]
pub fn point(name: &str) {
    if let Some((want, nth)) = target() {
        static HITS: AtomicU64 = AtomicU64::new(0);
        if want == name && HITS.fetch_add(1, Ordering::SeqCst) + 1 >= *nth {
            std::process::abort();
        }
    }
}
