//! Tags: names for versions that cleanup must keep.
//!
//! A tag is `tags/<name>.tag`: `b"OXVTAG01"` | JSON `{version, created_micros}` | CRC32C of
//! what precedes it. Creating one publishes a fsynced temp file with the same create-if-absent
//! hard link as manifests, so two processes cannot both create a tag of the same name.

use crate::durable::{io_err, publish_if_absent, read_capped, sync_dir, write_new_file};
use crate::TableDir;
use oxvec_core::{validate_tag_name, Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

const MAGIC: &[u8; 8] = b"OXVTAG01";
const SUFFIX: &str = ".tag";

/// Readable tags (name, tag) and the names of tag files that could not be read.
pub type ReadTags = (Vec<(String, Tag)>, Vec<String>);
const MAX_TAG_BYTES: u64 = 4096;

/// What a tag points at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    pub version: u64,
    /// Microseconds since the Unix epoch.
    pub created_micros: i64,
}

/// The file's JSON: the tag and its own name, so a tag file copied under another name is
/// caught.
#[derive(Serialize, Deserialize)]
struct TagRecord {
    name: String,
    #[serde(flatten)]
    tag: Tag,
}

fn encode(name: &str, tag: &Tag) -> Result<Vec<u8>> {
    let mut out = MAGIC.to_vec();
    let record = TagRecord {
        name: name.to_string(),
        tag: tag.clone(),
    };
    out.extend(serde_json::to_vec(&record).map_err(|e| Error::invalid(e.to_string()))?);
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

fn decode(name: &str, bytes: &[u8], path: &Path) -> Result<Tag> {
    let bad = |why: &str| Error::corrupt(path, why.to_string());
    if bytes.len() < MAGIC.len() + 4 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(bad("not a tag file (bad magic or too short)"));
    }
    let (content, crc) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_le_bytes(crc.try_into().map_err(|_| bad("short checksum"))?);
    if crc32c::crc32c(content) != stored {
        return Err(bad("checksum mismatch"));
    }
    let record: TagRecord = serde_json::from_slice(&content[MAGIC.len()..])
        .map_err(|e| bad(&format!("bad tag: {e}")))?;
    if record.name != name {
        return Err(bad(&format!(
            "this is tag '{}', found under the name '{name}'",
            record.name
        )));
    }
    Ok(record.tag)
}

impl TableDir {
    fn tag_path(&self, name: &str) -> std::path::PathBuf {
        self.tags_dir().join(format!("{name}{SUFFIX}"))
    }

    /// Creates tag `name` for `version`; an existing tag of that name is an error.
    pub fn create_tag(&self, name: &str, tag: &Tag) -> Result<()> {
        validate_tag_name(name)?;
        let dir = self.tags_dir();
        if !dir.exists() {
            crate::io::create_dir_all(&dir).map_err(io_err(&dir))?;
            sync_dir(self.root())?;
        }
        let tmp = dir.join(format!(".tmp-{}", crate::durable::new_id()));
        write_new_file(&tmp, &encode(name, tag)?)?;
        let won = publish_if_absent(&tmp, &self.tag_path(name))?;
        // The tag is visible now; one retry of the fsync covers a transient failure.
        sync_dir(&dir).or_else(|_| sync_dir(&dir))?;
        crate::crash::point("tag_written");
        // Creating the same tag again is a no-op, so a retry after an unclear failure is safe.
        if !won && self.read_tag(name)?.version != tag.version {
            return Err(Error::invalid(format!(
                "tag '{name}' already exists (for another version)"
            )));
        }
        Ok(())
    }

    /// Reads tag `name`.
    pub fn read_tag(&self, name: &str) -> Result<Tag> {
        validate_tag_name(name)?;
        let path = self.tag_path(name);
        if !path.exists() {
            return Err(Error::invalid(format!("no tag named '{name}'")));
        }
        decode(name, &read_capped(&path, MAX_TAG_BYTES)?, &path)
    }

    /// Removes tag `name`.
    pub fn delete_tag(&self, name: &str) -> Result<()> {
        validate_tag_name(name)?;
        let path = self.tag_path(name);
        match crate::io::remove_file(&path) {
            Ok(()) => sync_dir(&self.tags_dir()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(Error::invalid(format!("no tag named '{name}'")))
            }
            Err(e) => Err(Error::storage(&path, e)),
        }
    }

    /// Every readable tag, sorted by name, and the names of tag files that could not be read
    /// (damaged, or not tags at all).
    pub fn tags_tolerant(&self) -> Result<ReadTags> {
        let mut out = Vec::new();
        let mut bad = Vec::new();
        for name in crate::table_dir::stems(&self.tags_dir(), SUFFIX)? {
            let path = self.tag_path(&name);
            match read_capped(&path, MAX_TAG_BYTES).and_then(|b| decode(&name, &b, &path)) {
                Ok(tag) => out.push((name, tag)),
                Err(_) if !path.exists() => {}
                Err(_) => bad.push(name),
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok((out, bad))
    }

    /// Every tag, sorted by name.
    pub fn tags(&self) -> Result<Vec<(String, Tag)>> {
        let mut out = Vec::new();
        for name in crate::table_dir::stems(&self.tags_dir(), SUFFIX)? {
            let path = self.tag_path(&name);
            let tag = decode(&name, &read_capped(&path, MAX_TAG_BYTES)?, &path)?;
            out.push((name, tag));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_refuse_duplicates() {
        let tmp = tempfile::tempdir().unwrap();
        let t = TableDir::new(tmp.path().join("t.oxvec"));
        t.create_layout().unwrap();
        let tag = Tag {
            version: 3,
            created_micros: 7,
        };
        t.create_tag("v1.0", &tag).unwrap();
        t.create_tag("v1.0", &tag).unwrap();
        let other = Tag {
            version: 4,
            created_micros: 8,
        };
        assert!(t.create_tag("v1.0", &other).is_err());
        assert!(t.create_tag("../x", &tag).is_err());
        assert_eq!(t.read_tag("v1.0").unwrap(), tag);
        assert_eq!(t.tags().unwrap(), vec![("v1.0".to_string(), tag)]);
        let p = t.tag_path("v1.0");
        let mut b = std::fs::read(&p).unwrap();
        b[10] ^= 1;
        std::fs::write(&p, b).unwrap();
        assert!(matches!(t.read_tag("v1.0"), Err(Error::CorruptFile { .. })));
        t.delete_tag("v1.0").unwrap();
        assert!(t.delete_tag("v1.0").is_err());
        assert!(t.tags().unwrap().is_empty());
    }
}
