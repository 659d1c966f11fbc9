//! Keeping a table healthy over time: tags, removing old versions and the files only they
//! use, and verifying that every referenced file is present and intact.

use super::Table;
use oxvec_core::clock::{duration_micros, micros};
use oxvec_core::{Error, Result};
use oxvec_storage::durable::{file_crc32c, io_err, sync_dir};
use oxvec_storage::{read_deletions, DeletionMeta, Manifest, TableDir, Tag};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// Files nobody ever committed (left by a crashed or concurrent writer) are removed only
/// once they are this old, since a writer in another process may be about to commit them.
pub const UNVERIFIED_GRACE: Duration = Duration::from_secs(3600);

/// What `cleanup_old_versions` removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanupStats {
    pub versions_removed: u64,
    pub files_removed: u64,
    pub bytes_removed: u64,
    /// Tag files that could not be read: while any is there no version is removed (one of
    /// them may protect it), but cleanup still runs and removes leftovers.
    pub unreadable_tags: Vec<String>,
}

/// What `verify` found.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    pub versions_checked: u64,
    pub files_checked: u64,
    pub bytes_checked: u64,
    /// One line per problem, each naming the file (or version, or tag).
    pub problems: Vec<String>,
}

/// The kind of a file a manifest references, with what the manifest says about it.
#[derive(Debug, Clone)]
enum FileRef {
    Fragment {
        path: PathBuf,
        size: u64,
        crc: u32,
    },
    Deletion {
        path: PathBuf,
        meta: DeletionMeta,
    },
    Index {
        path: PathBuf,
        size: u64,
        crc: u32,
        family: Family,
    },
}

/// Which loader checks an index file.
#[derive(Debug, Clone, Copy)]
enum Family {
    Vector,
    Text,
    Scalar,
}

impl FileRef {
    fn path(&self) -> &PathBuf {
        match self {
            FileRef::Fragment { path, .. }
            | FileRef::Deletion { path, .. }
            | FileRef::Index { path, .. } => path,
        }
    }

    fn size(&self) -> u64 {
        match self {
            FileRef::Fragment { size, .. } | FileRef::Index { size, .. } => *size,
            FileRef::Deletion { meta, .. } => meta.file_size,
        }
    }
}

fn referenced(dir: &TableDir, m: &Manifest) -> Vec<FileRef> {
    let mut out = Vec::new();
    for f in &m.body.fragments {
        out.push(FileRef::Fragment {
            path: dir.data_dir().join(&f.file),
            size: f.file_size,
            crc: f.crc32c,
        });
        if let Some(d) = f.deletion.as_ref().filter(|d| d.inline.is_none()) {
            out.push(FileRef::Deletion {
                path: dir.deletions_dir().join(&d.file),
                meta: d.clone(),
            });
        }
    }
    for i in &m.body.indices {
        out.push(FileRef::Index {
            path: dir.indices_dir().join(&i.file),
            size: i.file_size,
            crc: i.header_crc32c,
            family: if crate::snapshot::is_text(i) {
                Family::Text
            } else if crate::scalar::is_scalar(i) {
                Family::Scalar
            } else {
                Family::Vector
            },
        });
    }
    out
}

impl Table {
    /// Tags `version` (default: the pinned one) as `name`; cleanup keeps tagged versions.
    pub fn create_tag(&self, name: &str, version: Option<u64>) -> Result<()> {
        let version = version.unwrap_or_else(|| self.version());
        if !self.dir.manifest_path(version).exists() {
            return Err(Error::invalid(format!(
                "table '{}' has no version {version} to tag",
                self.name
            )));
        }
        self.dir.create_tag(
            name,
            &Tag {
                version,
                created_micros: micros(SystemTime::now()),
            },
        )
    }

    /// Every tag: name and the version it names, sorted by name.
    pub fn list_tags(&self) -> Result<Vec<(String, Tag)>> {
        self.dir.tags()
    }

    /// Removes tag `name` (the version stays until cleanup finds it unneeded).
    pub fn delete_tag(&self, name: &str) -> Result<()> {
        self.dir.delete_tag(name)
    }

    /// Pins reads to the version tagged `name`.
    pub fn checkout_tag(&self, name: &str) -> Result<()> {
        let tag = self.dir.read_tag(name)?;
        self.checkout(tag.version)
    }

    /// Removes versions older than `older_than` and every file that no remaining version
    /// references. Kept always: the newest version, tagged versions, and the version this
    /// handle has pinned. Files no version ever referenced (left by crashed writers) are
    /// removed once older than [`UNVERIFIED_GRACE`], or at once with `delete_unverified`.
    ///
    /// Manifests go first, oldest first, then files: a crash midway leaves only unreferenced
    /// files, which the next cleanup removes.
    pub fn cleanup_old_versions(
        &self,
        older_than: Duration,
        delete_unverified: bool,
    ) -> Result<CleanupStats> {
        let now = SystemTime::now();
        // Saturating: `Duration::MAX` ("keep everything") must not wrap into the future.
        let cutoff = micros(now).saturating_sub(duration_micros(older_than));
        let versions = self.dir.versions()?;
        let Some(&latest) = versions.last() else {
            return Ok(CleanupStats::default());
        };
        let mut stats = CleanupStats::default();
        // A damaged tag may protect any version: keep them all, but do not stop cleaning.
        let (tags, unreadable) = self.dir.tags_tolerant()?;
        stats.unreadable_tags = unreadable;
        let keep_all = !stats.unreadable_tags.is_empty();
        let mut keep: HashSet<u64> = tags.into_iter().map(|(_, t)| t.version).collect();
        keep.insert(latest);
        keep.insert(self.version());
        let mut retained_files = HashSet::new();
        let mut garbage_files = HashSet::new();
        let mut doomed = Vec::new();
        for &v in &versions {
            let m = match self.dir.load_manifest(v) {
                Ok(m) => m,
                // Removed by a concurrent cleanup since we listed.
                Err(_) if !self.dir.manifest_path(v).exists() => continue,
                Err(e) => return Err(e),
            };
            let files = referenced(&self.dir, &m)
                .into_iter()
                .map(|f| f.path().clone());
            if keep_all || keep.contains(&v) || m.body.timestamp_micros >= cutoff {
                retained_files.extend(files);
            } else {
                garbage_files.extend(files);
                doomed.push(v);
            }
        }
        for v in &doomed {
            let path = self.dir.manifest_path(*v);
            match oxvec_storage::io::remove_file(&path) {
                Ok(()) => stats.versions_removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::storage(&path, e)),
            }
            oxvec_storage::crash::point("cleanup_manifest_removed");
        }
        if !doomed.is_empty() {
            sync_dir(&self.dir.versions_dir())?;
        }
        // A version published since the listing above (a restore of an old version, say)
        // may reference files this cleanup was about to delete: they stay.
        for v in self.dir.versions()? {
            if versions.binary_search(&v).is_err() {
                if let Ok(m) = self.dir.load_manifest(v) {
                    for f in referenced(&self.dir, &m) {
                        garbage_files.remove(f.path());
                        retained_files.insert(f.path().clone());
                    }
                }
            }
        }
        let grace = micros(now).saturating_sub(duration_micros(UNVERIFIED_GRACE));
        let unverified_cutoff = if delete_unverified {
            cutoff
        } else {
            grace.min(cutoff)
        };
        // In versions/ and tags/ only leftover temp files are candidates.
        for (d, only_temp) in [
            (self.dir.data_dir(), false),
            (self.dir.deletions_dir(), false),
            (self.dir.indices_dir(), false),
            (self.dir.versions_dir(), true),
            (self.dir.tags_dir(), true),
        ] {
            // Never through a link: a linked directory's files are not the table's to delete.
            if std::fs::symlink_metadata(&d).is_ok_and(|m| m.file_type().is_symlink()) {
                continue;
            }
            let entries = match std::fs::read_dir(&d) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::storage(&d, e)),
            };
            let mut removed_here = false;
            for entry in entries {
                let entry = entry.map_err(io_err(&d))?;
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                let is_temp = name.starts_with(".tmp-");
                if (only_temp && !is_temp) || retained_files.contains(&path) {
                    continue;
                }
                let md = match entry.metadata() {
                    Ok(md) => md,
                    // Removed by a concurrent cleanup in another process.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(Error::storage(&path, e)),
                };
                if md.file_type().is_symlink() {
                    continue;
                }
                let verified = garbage_files.contains(&path);
                // A file no version names is removed only if oxvec could have written it.
                if !verified && !is_temp && !is_oxvec_file_name(&name) {
                    continue;
                }
                let old_enough = last_change_micros(&md) < unverified_cutoff;
                if !verified && !old_enough {
                    continue;
                }
                match oxvec_storage::io::remove_file(&path) {
                    Ok(()) => {
                        stats.files_removed += 1;
                        stats.bytes_removed += md.len();
                        removed_here = true;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::storage(&path, e)),
                }
                oxvec_storage::crash::point("cleanup_file_removed");
            }
            if removed_here {
                sync_dir(&d)?;
            }
        }
        Ok(stats)
    }

    /// Checks every version's manifest and every file they reference: present with the
    /// recorded size, and with `deep`, the recorded checksums (whole files, every index
    /// section). Tags must name existing versions. Problems are reported, not raised.
    pub fn verify(&self, deep: bool, cancel: &oxvec_core::CancelToken) -> Result<VerifyReport> {
        let mut report = VerifyReport::default();
        let mut files: BTreeMap<PathBuf, FileRef> = BTreeMap::new();
        let versions = self.dir.versions()?;
        if versions.is_empty() {
            report.problems.push(format!(
                "table '{}' has no versions: its directory or its manifests are gone",
                self.name
            ));
        }
        for &v in &versions {
            cancel.check()?;
            match self.dir.load_manifest(v) {
                Ok(m) => {
                    report.versions_checked += 1;
                    for f in referenced(&self.dir, &m) {
                        files.entry(f.path().clone()).or_insert(f);
                    }
                    // Deletion vectors kept in the manifest: its checksum covered their
                    // bytes; a deep check decodes them too.
                    for d in m.body.fragments.iter().filter_map(|f| f.deletion.as_ref()) {
                        if deep && d.inline.is_some() {
                            let label = self.dir.manifest_path(v);
                            if let Err(e) = read_deletions(&label, d) {
                                report.problems.push(format!("version {v}: {e}"));
                            }
                        }
                    }
                }
                Err(e) => report.problems.push(format!("version {v}: {e}")),
            }
        }
        match self.dir.tags() {
            Ok(tags) => {
                for (name, t) in tags {
                    if !versions.contains(&t.version) {
                        report.problems.push(format!(
                            "tag '{name}' names version {}, which is missing",
                            t.version
                        ));
                    }
                }
            }
            Err(e) => report.problems.push(format!("tags: {e}")),
        }
        for f in files.values() {
            cancel.check()?;
            report.files_checked += 1;
            let path = f.path();
            let len = match std::fs::metadata(path) {
                Ok(md) => md.len(),
                Err(e) => {
                    report.problems.push(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            if len != f.size() {
                report.problems.push(format!(
                    "{}: {len} bytes, the manifest says {}",
                    path.display(),
                    f.size()
                ));
                continue;
            }
            if !deep {
                continue;
            }
            report.bytes_checked += len;
            let checked = match f {
                FileRef::Fragment { crc, .. } => file_crc32c(path).and_then(|actual| {
                    if actual == *crc {
                        Ok(())
                    } else {
                        Err(Error::corrupt(
                            path,
                            format!(
                                "checksum mismatch: expected crc32c {crc:08x}, found {actual:08x}"
                            ),
                        ))
                    }
                }),
                FileRef::Deletion { meta, .. } => read_deletions(path, meta).map(|_| ()),
                FileRef::Index {
                    size, crc, family, ..
                } => match family {
                    Family::Vector => {
                        oxvec_index::open(path, *size, *crc).and_then(|i| i.verify_all())
                    }
                    // Opening a full-text or scalar index checks every section and its
                    // structure.
                    Family::Text => {
                        oxvec_index::text::TextIndex::open(path, *size, *crc).map(|_| ())
                    }
                    Family::Scalar => {
                        oxvec_index::scalar::ScalarIndex::open(path, *size, *crc).map(|_| ())
                    }
                },
            };
            if let Err(e) = checked {
                report.problems.push(e.to_string());
            }
        }
        Ok(report)
    }
}

/// Whether `name` has an extension oxvec gives the files of `data/`, `deletions/` and
/// `indices/` (a user's notes or a linked directory's files never do).
fn is_oxvec_file_name(name: &str) -> bool {
    [".arrow", ".bin", ".idx"]
        .iter()
        .any(|ext| name.len() > ext.len() && name.ends_with(ext))
}

/// `m` with every file it references given a new name by a hard link (no data is copied),
/// and the links made. A restored version references only these names, so a cleanup in
/// another process that removes the old version's files meanwhile (it may, once that
/// version is not the newest) cannot take them from under it: the inode lives on through the
/// new link, and a link is new (recent change time), so cleanup's grace period keeps it until
/// the restore publishes. A file already gone means the version cannot be restored.
pub(crate) fn relink_for_restore(dir: &TableDir, m: &Manifest) -> Result<(Manifest, Vec<PathBuf>)> {
    let mut out = m.clone();
    let mut made: Vec<PathBuf> = Vec::new();
    let result = (|| -> Result<()> {
        let mut link = |sub: PathBuf, file: &mut String, ext: &str| -> Result<()> {
            let name = format!("{}.{ext}", oxvec_storage::durable::new_id());
            let (from, to) = (sub.join(&*file), sub.join(&name));
            oxvec_storage::io::hard_link(&from, &to).map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    Error::invalid(format!(
                        "version {} cannot be restored: cleanup removed its file {}",
                        m.version,
                        from.display()
                    ))
                } else {
                    Error::storage(&to, e)
                }
            })?;
            made.push(to);
            *file = name;
            Ok(())
        };
        for f in &mut out.body.fragments {
            link(dir.data_dir(), &mut f.file, "arrow")?;
            if let Some(d) = f.deletion.as_mut().filter(|d| d.inline.is_none()) {
                link(dir.deletions_dir(), &mut d.file, "bin")?;
            }
        }
        for i in &mut out.body.indices {
            link(dir.indices_dir(), &mut i.file, "idx")?;
        }
        for d in [dir.data_dir(), dir.deletions_dir(), dir.indices_dir()] {
            if made.iter().any(|p| p.parent() == Some(d.as_path())) {
                sync_dir(&d)?;
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok((out, made)),
        Err(e) => {
            for p in &made {
                let _ = oxvec_storage::io::remove_file(p);
            }
            Err(e)
        }
    }
}

/// When a file last changed, in microseconds: the later of its modification and (on Unix)
/// status-change times, so a hard link made a moment ago counts as new even though its data
/// is old.
fn last_change_micros(md: &std::fs::Metadata) -> i64 {
    let modified = md.modified().map(micros).unwrap_or(i64::MAX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let changed = md
            .ctime()
            .saturating_mul(1_000_000)
            .saturating_add(md.ctime_nsec() / 1_000);
        modified.max(changed)
    }
    #[cfg(not(unix))]
    modified
}
