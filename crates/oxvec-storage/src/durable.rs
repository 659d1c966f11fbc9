//! Durable file primitives: write-and-fsync, directory fsync, create-if-absent publish, and a
//! checksumming writer. Every IO error is wrapped with the path it happened on.

use oxvec_core::{Error, Result};
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// Wraps an IO error with its path.
pub fn io_err(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |e| Error::storage(path, e)
}

/// Creates `path` (which must not exist), writes `bytes`, fsyncs, and returns the CRC32C.
/// On failure the partly written file is removed.
pub fn write_new_file(path: &Path, bytes: &[u8]) -> Result<u32> {
    let mut f = crate::io::create_new(path).map_err(io_err(path))?;
    if let Err(e) = f.write_all(bytes).and_then(|_| f.sync()) {
        drop(f);
        let _ = crate::io::remove_file(path);
        return Err(Error::storage(path, e));
    }
    Ok(crc32c::crc32c(bytes))
}

/// [`write_new_file`], then fsyncs the parent directory so the new entry is durable too. On
/// failure the file is removed.
pub fn write_new_file_durable(path: &Path, bytes: &[u8]) -> Result<u32> {
    let crc = write_new_file(path, bytes)?;
    if let Some(dir) = path.parent() {
        if let Err(e) = sync_dir(dir) {
            let _ = crate::io::remove_file(path);
            return Err(e);
        }
    }
    Ok(crc)
}

/// fsyncs a directory so that entries created in it survive a power loss.
pub fn sync_dir(dir: &Path) -> Result<()> {
    crate::io::sync_dir(dir).map_err(io_err(dir))
}

/// Publishes a fully written temp file at `dest` only if nothing is there yet.
///
/// A hard link is atomic and fails with `EEXIST` when `dest` exists, on every local
/// filesystem we support, so two writers can never both publish the same version.
/// Returns `false` when another writer got there first.
pub fn publish_if_absent(tmp: &Path, dest: &Path) -> Result<bool> {
    let linked = match crate::io::hard_link(tmp, dest) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
        Err(e) => {
            let _ = crate::io::remove_file(tmp);
            return Err(Error::storage(dest, e));
        }
    };
    // The published name holds the data now; a temp file that cannot be removed is litter
    // for cleanup (it removes `.tmp-*` files once old), not a failed publish.
    let _ = crate::io::remove_file(tmp);
    Ok(linked)
}

/// A writer that counts bytes and computes the CRC32C of everything written through it.
pub struct ChecksumWriter<W: Write> {
    inner: W,
    crc: u32,
    len: u64,
}

impl<W: Write> ChecksumWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        ChecksumWriter {
            inner,
            crc: 0,
            len: 0,
        }
    }

    /// The checksum and length so far, and the inner writer.
    pub fn finish(self) -> (W, u32, u64) {
        (self.inner, self.crc, self.len)
    }
}

impl<W: Write> Write for ChecksumWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc = crc32c::crc32c_append(self.crc, &buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Reads a whole small file (manifests, deletion vectors), refusing anything over `cap` bytes.
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>> {
    let len = std::fs::metadata(path).map_err(io_err(path))?.len();
    if len > cap {
        return Err(Error::corrupt(
            path,
            format!("file is {len} bytes, more than the {cap} allowed"),
        ));
    }
    std::fs::read(path).map_err(io_err(path))
}

/// Checks a CRC32C recorded in a manifest against the bytes read.
pub fn verify_crc(path: &Path, bytes: &[u8], expected: u32) -> Result<()> {
    let actual = crc32c::crc32c(bytes);
    if actual != expected {
        return Err(Error::corrupt(
            path,
            format!("checksum mismatch: expected crc32c {expected:08x}, found {actual:08x}"),
        ));
    }
    Ok(())
}

/// CRC32C of a whole file, read in 1 MiB pieces (no map, no whole-file buffer).
pub fn file_crc32c(path: &Path) -> Result<u32> {
    use std::io::Read;
    let mut f = File::open(path).map_err(io_err(path))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut crc = 0u32;
    loop {
        let n = f.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            return Ok(crc);
        }
        crc = crc32c::crc32c_append(crc, &buf[..n]);
    }
}

/// A fresh random id (32 hex digits) for file names and transaction ids.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Renames `from` to `to` unless `to` exists (`AlreadyExists` then), atomically where the
/// system can say so (Linux's `RENAME_NOREPLACE`): two renames to one name cannot both win.
pub fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(()),
            // A file system without the flag: the check below, then a plain rename.
            Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
            Err(e) => return Err(e.into()),
        }
    }
    if std::fs::symlink_metadata(to).is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists", to.display()),
        ));
    }
    std::fs::rename(from, to)
}
