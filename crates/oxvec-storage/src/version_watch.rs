//! A cheap look for versions other processes have published.
//!
//! By default a read first checks for a newer version, so this runs once per query: whether
//! the next version's manifest exists, and whether `versions/` changed since it was listed
//! (cleanup can remove the number after ours). `versions/` is opened once and both checks are
//! made relative to that handle (`fstatat`, `fstat`), sparing the kernel a walk of the
//! table's whole path per check.

use crate::table_dir::TableDir;
use std::fs::File;
use std::time::SystemTime;

/// An open handle on a table's `versions/` directory, and its mtime when opened.
#[derive(Debug)]
pub struct VersionWatch {
    dir: TableDir,
    versions: Option<File>,
    opened_mtime: Option<SystemTime>,
}

impl VersionWatch {
    /// Opens `versions/` (open it again whenever the directory is listed); if that fails,
    /// the checks fall back to paths.
    pub fn open(dir: &TableDir) -> VersionWatch {
        let mut w = VersionWatch {
            dir: dir.clone(),
            versions: File::open(dir.versions_dir()).ok(),
            opened_mtime: None,
        };
        w.opened_mtime = w.mtime();
        w
    }

    /// Whether `versions/` changed since the watch was opened: versions were added or
    /// removed.
    pub fn changed(&self) -> bool {
        self.mtime() != self.opened_mtime
    }

    /// Whether version `v`'s manifest exists (any error reads as "no", like `Path::exists`).
    pub fn manifest_exists(&self, v: u64) -> bool {
        #[cfg(unix)]
        if let Some(f) = &self.versions {
            let name = crate::table_dir::manifest_name(v);
            return rustix::fs::statat(f, name.as_str(), rustix::fs::AtFlags::empty()).is_ok();
        }
        self.dir.manifest_path(v).exists()
    }

    /// The modification time of `versions/`, or `None` if it cannot be read or the directory
    /// the handle holds was removed (the table was dropped and perhaps created again).
    fn mtime(&self) -> Option<SystemTime> {
        let meta = match &self.versions {
            Some(f) => f.metadata().ok()?,
            None => std::fs::metadata(self.dir.versions_dir()).ok()?,
        };
        #[cfg(unix)]
        if std::os::unix::fs::MetadataExt::nlink(&meta) == 0 {
            return None;
        }
        meta.modified().ok()
    }
}
