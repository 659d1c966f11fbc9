//! A table's directory: where each kind of file lives, which versions exist, and the commit
//! primitive that publishes a new version.

use crate::durable::{io_err, publish_if_absent, read_capped, sync_dir, write_new_file};
use crate::manifest::{Manifest, MAX_MANIFEST_BYTES};
use oxvec_core::{Error, Result};
use std::path::{Path, PathBuf};

/// Outcome of trying to publish a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publish {
    /// The version is now durable and visible.
    Committed,
    /// Another writer published that version number first; nothing of ours is visible.
    Lost,
}

/// Paths and version bookkeeping of one table.
#[derive(Debug, Clone)]
pub struct TableDir {
    root: PathBuf,
}

const VERSION_SUFFIX: &str = ".manifest";

/// File name of version `v`'s manifest under `versions/`. Zero-padded so names sort
/// numerically.
pub fn manifest_name(v: u64) -> String {
    format!("{v:020}{VERSION_SUFFIX}")
}

impl TableDir {
    /// A handle on `root`; nothing is touched.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        TableDir { root: root.into() }
    }

    /// The table directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where fragments live.
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// Where deletion vectors live.
    pub fn deletions_dir(&self) -> PathBuf {
        self.root.join("deletions")
    }

    /// Where index files live (created by the first index build).
    pub fn indices_dir(&self) -> PathBuf {
        self.root.join("indices")
    }

    /// Where tags live (created by the first tag).
    pub fn tags_dir(&self) -> PathBuf {
        self.root.join("tags")
    }

    /// Where manifests live.
    pub fn versions_dir(&self) -> PathBuf {
        self.root.join("versions")
    }

    /// Path of version `v`'s manifest.
    pub fn manifest_path(&self, v: u64) -> PathBuf {
        self.versions_dir().join(manifest_name(v))
    }

    /// Creates the directory layout (idempotent) and fsyncs the parents.
    pub fn create_layout(&self) -> Result<()> {
        for d in [
            self.root.clone(),
            self.data_dir(),
            self.deletions_dir(),
            self.versions_dir(),
        ] {
            crate::io::create_dir_all(&d).map_err(io_err(&d))?;
        }
        sync_dir(&self.root)?;
        if let Some(parent) = self.root.parent() {
            sync_dir(parent)?;
        }
        Ok(())
    }

    /// All published versions, ascending. An absent table has none.
    pub fn versions(&self) -> Result<Vec<u64>> {
        let mut out: Vec<u64> = stems(&self.versions_dir(), VERSION_SUFFIX)?
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        out.sort_unstable();
        Ok(out)
    }

    /// The newest published version, if any.
    pub fn latest_version(&self) -> Result<Option<u64>> {
        Ok(self.versions()?.last().copied())
    }

    /// Reads and verifies version `v`'s manifest.
    pub fn load_manifest(&self, v: u64) -> Result<Manifest> {
        let path = self.manifest_path(v);
        let bytes = read_capped(&path, MAX_MANIFEST_BYTES)?;
        let m = Manifest::decode(v, &bytes, &path)?;
        Ok(m)
    }

    /// Publishes `manifest` as version `manifest.version`.
    ///
    /// Every file the manifest references must already be written and fsynced. The manifest
    /// is written to a temp file, fsynced, hard-linked into place (fails if the version
    /// exists), and the `versions/` directory is fsynced.
    pub fn publish(&self, manifest: &Manifest) -> Result<Publish> {
        let staged = self.stage_manifest(manifest)?;
        self.link_manifest(staged, manifest.version)
    }

    /// The first half of [`TableDir::publish`]: `manifest` written to a fsynced temp file
    /// that no reader sees. The files it references need not be durable yet; they must be
    /// before [`TableDir::link_manifest`].
    pub fn stage_manifest(&self, manifest: &Manifest) -> Result<StagedManifest> {
        let bytes = manifest.encode()?;
        let tmp = self
            .versions_dir()
            .join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
        write_new_file(&tmp, &bytes)?;
        crate::crash::point("manifest_temp_written");
        Ok(StagedManifest { tmp })
    }

    /// The second half of [`TableDir::publish`]: links the staged manifest in as
    /// `version` unless that version exists, then fsyncs `versions/`.
    pub fn link_manifest(&self, staged: StagedManifest, version: u64) -> Result<Publish> {
        let dest = self.manifest_path(version);
        let won = publish_if_absent(&staged.tmp, &dest)?;
        crate::crash::point("manifest_linked");
        sync_dir(&self.versions_dir())?;
        Ok(if won {
            Publish::Committed
        } else {
            Publish::Lost
        })
    }
}

/// A manifest written to a temp file, not yet published.
#[derive(Debug)]
pub struct StagedManifest {
    tmp: PathBuf,
}

impl StagedManifest {
    /// Removes the temp file: the manifest will not be published.
    pub fn discard(self) {
        let _ = crate::io::remove_file(&self.tmp);
    }
}

/// Names of the files in `dir` ending in `suffix`, without it (temp files, which start with
/// a dot, left out). A missing directory has none.
pub(crate) fn stems(dir: &Path, suffix: &str) -> Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(Error::storage(dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name();
        if let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(suffix)) {
            if !stem.starts_with('.') {
                out.push(stem.to_string());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::ManifestBody;
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn manifest(v: u64) -> Manifest {
        Manifest {
            version: v,
            schema: Arc::new(Schema::new(vec![Field::new("x", DataType::Float32, true)])),
            body: ManifestBody {
                timestamp_micros: 0,
                operation: "create".into(),
                transaction_id: format!("t{v}"),
                read_version: v - 1,
                next_fragment_id: 0,
                fragments: vec![],
                indices: vec![],
            },
        }
    }

    #[test]
    fn publish_is_create_if_absent() {
        let tmp = tempfile::tempdir().unwrap();
        let t = TableDir::new(tmp.path().join("t.oxvec"));
        t.create_layout().unwrap();
        assert_eq!(t.latest_version().unwrap(), None);
        assert_eq!(t.publish(&manifest(1)).unwrap(), Publish::Committed);
        let mut other = manifest(1);
        other.body.transaction_id = "intruder".into();
        assert_eq!(t.publish(&other).unwrap(), Publish::Lost);
        assert_eq!(t.load_manifest(1).unwrap().body.transaction_id, "t1");
        assert_eq!(t.publish(&manifest(2)).unwrap(), Publish::Committed);
        assert_eq!(t.versions().unwrap(), vec![1, 2]);
        // No temp files are left behind.
        let leftovers: Vec<_> = std::fs::read_dir(t.versions_dir())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".tmp")
            })
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn a_corrupt_manifest_is_reported_with_its_path() {
        let tmp = tempfile::tempdir().unwrap();
        let t = TableDir::new(tmp.path().join("t.oxvec"));
        t.create_layout().unwrap();
        t.publish(&manifest(1)).unwrap();
        let p = t.manifest_path(1);
        let mut b = std::fs::read(&p).unwrap();
        let mid = b.len() / 2;
        b[mid] ^= 0xff;
        std::fs::write(&p, b).unwrap();
        match t.load_manifest(1) {
            Err(Error::CorruptFile { path, .. }) => assert_eq!(path, p),
            other => panic!("expected CorruptFile, got {other:?}"),
        }
    }
}
