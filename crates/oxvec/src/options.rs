//! How a database's tables refresh and maintain themselves; set once at `connect`.

use std::time::Duration;

/// Per-connection behaviour of every table handle opened from it.
#[derive(Debug, Clone, PartialEq)]
pub struct TableOptions {
    /// How stale a read may be. `Some(ZERO)` (the default) checks for a newer version before
    /// every read, which costs two `stat` calls; `Some(d)` checks at most every `d`; `None`
    /// never refreshes on its own (only writes and `checkout_latest` move the handle).
    pub read_consistency_interval: Option<Duration>,
    /// After a write, compact (see `optimize`) once this many fragments hold fewer than
    /// [`SMALL_FRAGMENT_ROWS`] rows each. `0` turns automatic compaction off.
    pub auto_compact_fragments: usize,
    /// Every this many versions, a write also removes versions older than
    /// `auto_cleanup_older_than` (tagged and newest versions are always kept). `0` turns it off.
    pub auto_cleanup_every: u64,
    pub auto_cleanup_older_than: Duration,
    /// Keep a sample of the queries each index serves and measure their recall in a
    /// background thread from time to time (see `served`); `target_recall` then follows
    /// what served queries got.
    pub monitor_recall: bool,
    /// Keep small deletion vectors inside the version's manifest (see
    /// `oxvec_storage::INLINE_MAX_BYTES`): a small delete, update or upsert then writes and
    /// syncs one file fewer. `false` writes each as a file under `deletions/`.
    pub inline_deletions: bool,
    /// How often a delete, update or merge that lost a race to another writer's commit (a
    /// retryable conflict) is run again on the newer version before its error is returned.
    pub max_retries: u32,
}

/// Fragments with fewer rows than this count towards automatic compaction.
pub const SMALL_FRAGMENT_ROWS: u64 = 1 << 14;

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            read_consistency_interval: Some(Duration::ZERO),
            auto_compact_fragments: 64,
            auto_cleanup_every: 100,
            auto_cleanup_older_than: Duration::from_secs(7 * 24 * 3600),
            monitor_recall: true,
            inline_deletions: true,
            max_retries: 10,
        }
    }
}
