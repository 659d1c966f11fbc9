//! Every change oxvec makes to storage goes through this module: creating, writing, syncing,
//! linking and removing files and directories.
//!
//! Keeping them in one place lets the reliability suites watch and break them: a journal
//! records each operation (T2 replays prefixes of it with unsynced writes dropped, torn,
//! zero-filled or reordered, as a power cut would leave them), and a fault injector fails
//! the k-th operation with a chosen OS error (T3). Both are off unless a test turns them on;
//! then each call costs one relaxed atomic load.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// One storage operation, as the journal records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    CreateDir(PathBuf),
    /// A new, empty file.
    Create(PathBuf),
    Write {
        path: PathBuf,
        offset: u64,
        data: Vec<u8>,
    },
    SyncFile(PathBuf),
    SyncDir(PathBuf),
    Link {
        from: PathBuf,
        to: PathBuf,
    },
    Remove(PathBuf),
    /// Not an operation: a point the test marks (say, "version 3 acknowledged").
    Mark(String),
}

/// Which operations fail, and how.
#[derive(Debug, Clone, Copy)]
pub struct Fault {
    /// Index (from 0, counted since `set_fault`) of the first operation to fail.
    pub at: u64,
    /// Keep failing every later operation too.
    pub forever: bool,
    /// The OS error number to fail with (`libc` values: ENOSPC 28, EACCES 13, EROFS 30,
    /// ENOENT 2, EMFILE 24).
    pub errno: i32,
}

#[derive(Default)]
struct Hooks {
    journal: Option<Vec<Op>>,
    fault: Option<Fault>,
    count: u64,
}

static ACTIVE: AtomicBool = AtomicBool::new(false);
static HOOKS: Mutex<Hooks> = Mutex::new(Hooks {
    journal: None,
    fault: None,
    count: 0,
});

fn hooks() -> std::sync::MutexGuard<'static, Hooks> {
    HOOKS.lock().unwrap_or_else(|p| p.into_inner())
}

fn refresh_active(h: &Hooks) {
    ACTIVE.store(h.journal.is_some() || h.fault.is_some(), Ordering::SeqCst);
}

/// Starts recording every operation (tests only).
pub fn start_journal() {
    let mut h = hooks();
    h.journal = Some(Vec::new());
    refresh_active(&h);
}

/// Stops recording and returns the operations recorded.
pub fn take_journal() -> Vec<Op> {
    let mut h = hooks();
    let out = h.journal.take().unwrap_or_default();
    refresh_active(&h);
    out
}

/// Fails operations as `fault` says (tests only); `None` stops failing.
pub fn set_fault(fault: Option<Fault>) {
    let mut h = hooks();
    h.fault = fault;
    h.count = 0;
    refresh_active(&h);
}

/// How long a background sync waits before it starts, in microseconds (tests only).
static BACKGROUND_SYNC_DELAY_MICROS: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(0);

/// Makes every background sync (files fsynced on a thread of their own while a commit
/// writes its manifest) wait `delay` first (tests only): a commit that published before
/// its files were durable then shows in the journal, whatever the threads' timing.
pub fn set_background_sync_delay(delay: std::time::Duration) {
    let micros = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
    BACKGROUND_SYNC_DELAY_MICROS.store(micros, Ordering::SeqCst);
}

/// Called by a background sync before it starts: waits as [`set_background_sync_delay`]
/// said (not at all unless a test asked).
pub fn background_sync_pause() {
    let micros = BACKGROUND_SYNC_DELAY_MICROS.load(Ordering::Relaxed);
    if micros > 0 {
        std::thread::sleep(std::time::Duration::from_micros(micros));
    }
}

/// Records a test's own marker in the journal.
pub fn mark(label: impl Into<String>) {
    if ACTIVE.load(Ordering::Relaxed) {
        if let Some(j) = hooks().journal.as_mut() {
            j.push(Op::Mark(label.into()));
        }
    }
}

/// Runs the hooks for `op` before it happens: maybe fails it, else journals it.
fn before(op: impl FnOnce() -> Op) -> io::Result<()> {
    if !ACTIVE.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut h = hooks();
    if let Some(f) = h.fault {
        let n = h.count;
        h.count += 1;
        if n == f.at || (f.forever && n > f.at) {
            return Err(io::Error::from_raw_os_error(f.errno));
        }
    }
    if let Some(j) = h.journal.as_mut() {
        j.push(op());
    }
    Ok(())
}

/// `mkdir -p`.
pub fn create_dir_all(path: &Path) -> io::Result<()> {
    before(|| Op::CreateDir(path.to_path_buf()))?;
    std::fs::create_dir_all(path)
}

/// Creates a file that must not exist yet, for writing.
pub fn create_new(path: &Path) -> io::Result<TrackedFile> {
    before(|| Op::Create(path.to_path_buf()))?;
    let file = OpenOptions::new().write(true).create_new(true).open(path)?;
    Ok(TrackedFile {
        file,
        path: path.to_path_buf(),
        offset: 0,
    })
}

/// fsyncs a directory so that entries created or removed in it survive a power loss.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    before(|| Op::SyncDir(dir.to_path_buf()))?;
    File::open(dir).and_then(|d| d.sync_all())
}

/// A hard link: fails with `AlreadyExists` when `to` exists.
pub fn hard_link(from: &Path, to: &Path) -> io::Result<()> {
    before(|| Op::Link {
        from: from.to_path_buf(),
        to: to.to_path_buf(),
    })?;
    std::fs::hard_link(from, to)
}

/// Removes a file.
pub fn remove_file(path: &Path) -> io::Result<()> {
    before(|| Op::Remove(path.to_path_buf()))?;
    std::fs::remove_file(path)
}

/// A file being written, whose writes and fsync go through the hooks.
pub struct TrackedFile {
    file: File,
    path: PathBuf,
    offset: u64,
}

impl TrackedFile {
    /// fsyncs the file's data and metadata.
    pub fn sync(&self) -> io::Result<()> {
        before(|| Op::SyncFile(self.path.clone()))?;
        self.file.sync_all()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Write for TrackedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        before(|| Op::Write {
            path: self.path.clone(),
            offset: self.offset,
            data: buf.to_vec(),
        })?;
        let n = self.file.write(buf)?;
        if n != buf.len() {
            // Journal whole writes only: finish this one before returning.
            self.file.write_all(&buf[n..])?;
        }
        self.offset += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}
