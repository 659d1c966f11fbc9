//! Manifests: the complete description of one table version.
//!
//! File layout (all integers little-endian):
//! `b"OXVMAN01"` | u32 json length | JSON body | u32 schema length | Arrow IPC schema message |
//! u32 CRC32C of everything before it. Lengths are capped before anything is allocated.

use crate::fragment::FragmentMeta;
use arrow::datatypes::{Schema, SchemaRef};
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use oxvec_core::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

const MAGIC: &[u8; 8] = b"OXVMAN01";
/// The newest manifest format this library reads. 1: the original; 2: fragments may map
/// table columns to other file columns (`FragmentMeta::columns`, after a rename, drop or
/// add of columns). A manifest records the lowest format that describes it, so a table
/// whose schema never changed that way stays readable by libraries that know only 1.
pub const FORMAT_VERSION: u64 = 2;
/// Largest manifest we agree to decode; a table would need millions of fragments to reach it.
pub const MAX_MANIFEST_BYTES: u64 = 256 << 20;

/// What a version contains and how it came to be.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub version: u64,
    pub schema: SchemaRef,
    pub body: ManifestBody,
}

/// The JSON part of a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestBody {
    /// Microseconds since the Unix epoch when the version was committed.
    pub timestamp_micros: i64,
    /// `create`, `append`, `delete`, `update`, `overwrite`, `restore`.
    pub operation: String,
    /// Unique id of the commit that produced this version.
    pub transaction_id: String,
    /// The version this commit was based on (`0` for the first).
    pub read_version: u64,
    /// Next unused fragment id.
    pub next_fragment_id: u32,
    pub fragments: Vec<FragmentMeta>,
    /// Vector indexes of this version (absent in manifests written before indexes existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indices: Vec<IndexMeta>,
}

/// A vector index as recorded in a manifest. The index file itself is opaque here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexMeta {
    /// Unique within a version; `<column>_idx` unless named.
    pub name: String,
    /// `HNSW`, `IVF_PQ`, `IVF_RQ`, `FTS`.
    pub index_type: String,
    /// The indexed column (the first, for an index over several).
    pub column: String,
    /// Every indexed column when there are several (a full-text index); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    pub metric: String,
    /// File name under `indices/`.
    pub file: String,
    pub file_size: u64,
    /// CRC32C of the file's header; each section carries its own in the header.
    pub header_crc32c: u32,
    /// Fragments whose rows (live at build or fold time) are in the index.
    pub fragment_ids: Vec<u32>,
    /// Nodes in the index, deleted rows included until the next rebuild.
    pub num_nodes: u64,
    /// Nodes whose rows were removed by compaction (their row id is `u64::MAX`).
    #[serde(default)]
    pub tombstones: u64,
    /// Build options as given.
    pub params: serde_json::Value,
    /// Measured recall curve (see oxvec-index's calibration).
    pub calibration: serde_json::Value,
    /// Seconds the build (or last fold) took.
    pub build_seconds: f64,
    /// Peak resident memory of the process while the build (or last fold) ran, in bytes, and
    /// the anonymous (heap) part of it; absent where the platform does not report them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_peak_rss: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_peak_anon: Option<u64>,
    pub created_micros: i64,
}

impl IndexMeta {
    /// The indexed columns.
    pub fn indexed_columns(&self) -> Vec<&str> {
        if self.columns.is_empty() {
            vec![self.column.as_str()]
        } else {
            self.columns.iter().map(String::as_str).collect()
        }
    }
}

impl Manifest {
    /// The lowest manifest format that describes this version (see [`FORMAT_VERSION`]).
    pub fn format_version(&self) -> u64 {
        if self.body.fragments.iter().any(|f| !f.columns.is_empty()) {
            2
        } else {
            1
        }
    }

    /// Live rows across all fragments.
    pub fn live_rows(&self) -> u64 {
        self.body
            .fragments
            .iter()
            .map(FragmentMeta::live_rows)
            .sum()
    }

    /// Serializes to the on-disk layout.
    pub fn encode(&self) -> Result<Vec<u8>> {
        // The version goes into the JSON too, so that a manifest copied or moved to another
        // version's name is caught.
        let mut value =
            serde_json::to_value(&self.body).map_err(|e| Error::invalid(e.to_string()))?;
        if let Some(obj) = value.as_object_mut() {
            obj.insert("version".into(), self.version.into());
            let format = self.format_version();
            if format > 1 {
                obj.insert("format_version".into(), format.into());
            }
        }
        let json = serde_json::to_vec(&value).map_err(|e| Error::invalid(e.to_string()))?;
        let mut schema_bytes = Vec::new();
        {
            let mut w = StreamWriter::try_new(&mut schema_bytes, &self.schema)
                .map_err(|e| Error::schema(format!("cannot encode schema: {e}")))?;
            w.finish()
                .map_err(|e| Error::schema(format!("cannot encode schema: {e}")))?;
        }
        let mut out = Vec::with_capacity(8 + 12 + json.len() + schema_bytes.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(json.len() as u32).to_le_bytes());
        out.extend_from_slice(&json);
        out.extend_from_slice(&(schema_bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&schema_bytes);
        let crc = crc32c::crc32c(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        Ok(out)
    }

    /// Parses and verifies the on-disk layout; `path` only labels errors.
    pub fn decode(version: u64, bytes: &[u8], path: &Path) -> Result<Self> {
        let bad = |m: &str| Error::corrupt(path, m.to_string());
        if bytes.len() < MAGIC.len() + 12 {
            return Err(bad("manifest too short"));
        }
        if &bytes[..8] != MAGIC {
            return Err(bad("not an oxvec manifest (bad magic)"));
        }
        let (content, crc_bytes) = bytes.split_at(bytes.len() - 4);
        let stored = u32::from_le_bytes(crc_bytes.try_into().map_err(|_| bad("short checksum"))?);
        let actual = crc32c::crc32c(content);
        if stored != actual {
            return Err(bad(&format!(
                "checksum mismatch: stored {stored:08x}, computed {actual:08x}"
            )));
        }
        let mut at: usize = 8;
        let mut take = |n: usize| -> Result<&[u8]> {
            let end = at
                .checked_add(n)
                .filter(|&e| e <= content.len())
                .ok_or_else(|| bad("truncated"))?;
            let s = &content[at..end];
            at = end;
            Ok(s)
        };
        let json_len =
            u32::from_le_bytes(take(4)?.try_into().map_err(|_| bad("short length"))?) as usize;
        let value: serde_json::Value =
            serde_json::from_slice(take(json_len)?).map_err(|e| bad(&e.to_string()))?;
        let format = value
            .get("format_version")
            .map_or(Some(1), serde_json::Value::as_u64);
        match format {
            Some(f) if f <= FORMAT_VERSION => {}
            _ => {
                return Err(Error::invalid(format!(
                    "{} was written in manifest format {}, newer than this oxvec reads (up to \
                     {FORMAT_VERSION}): upgrade oxvec to read this table",
                    path.display(),
                    value["format_version"]
                )))
            }
        }
        // Manifests written before the version was recorded carry none.
        if let Some(own) = value.get("version").and_then(|v| v.as_u64()) {
            if own != version {
                return Err(bad(&format!(
                    "this is the manifest of version {own}, found under version {version}'s name"
                )));
            }
        }
        let body: ManifestBody = serde_json::from_value(value).map_err(|e| bad(&e.to_string()))?;
        // A name that is not a plain file name would make reads (and cleanup) reach outside
        // the table's directories.
        let names = body
            .fragments
            .iter()
            .flat_map(|f| std::iter::once(&f.file).chain(f.deletion.as_ref().map(|d| &d.file)));
        for name in names.chain(body.indices.iter().map(|i| &i.file)) {
            if !is_plain_file_name(name) {
                return Err(bad(&format!("{name:?} is not a plain file name")));
            }
        }
        for f in &body.fragments {
            if let Some(d) = f.deletion.as_ref().filter(|d| d.num_deleted > f.num_rows) {
                return Err(bad(&format!(
                    "fragment {} has {} rows but {} deleted",
                    f.id, f.num_rows, d.num_deleted
                )));
            }
        }
        let schema_len =
            u32::from_le_bytes(take(4)?.try_into().map_err(|_| bad("short length"))?) as usize;
        let schema_bytes = take(schema_len)?;
        let reader =
            StreamReader::try_new(schema_bytes, None).map_err(|e| bad(&format!("schema: {e}")))?;
        let schema: Arc<Schema> = reader.schema();
        Ok(Manifest {
            version,
            schema,
            body,
        })
    }
}

/// A single path component naming a file: no separators, not `.` or `..`, no NUL.
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{DataType, Field};

    fn sample() -> Manifest {
        Manifest {
            version: 3,
            schema: Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)])),
            body: ManifestBody {
                timestamp_micros: 1,
                operation: "append".into(),
                transaction_id: "t".into(),
                read_version: 2,
                next_fragment_id: 5,
                fragments: vec![],
                indices: vec![],
            },
        }
    }

    #[test]
    fn round_trips() {
        let m = sample();
        let bytes = m.encode().unwrap();
        let back = Manifest::decode(3, &bytes, Path::new("x")).unwrap();
        assert_eq!(back.body, m.body);
        assert_eq!(back.schema, m.schema);
    }

    #[test]
    fn every_single_bit_flip_is_detected() {
        let bytes = sample().encode().unwrap();
        for i in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[i / 8] ^= 1 << (i % 8);
            assert!(
                matches!(
                    Manifest::decode(3, &b, Path::new("x")),
                    Err(Error::CorruptFile { .. })
                ),
                "flip of bit {i} went unnoticed"
            );
        }
    }

    #[test]
    fn a_file_name_that_leaves_the_table_is_corrupt() {
        for name in [
            "../x.arrow",
            "/etc/passwd",
            "a/b.arrow",
            "..",
            ".",
            "",
            "a\\b",
            "a\0b",
        ] {
            let mut m = sample();
            m.body.fragments.push(crate::fragment::FragmentMeta {
                id: 0,
                file: name.into(),
                num_rows: 5,
                file_size: 1,
                crc32c: 0,
                deletion: None,
                columns: Default::default(),
                parts: None,
            });
            let e = Manifest::decode(3, &m.encode().unwrap(), Path::new("x")).unwrap_err();
            assert!(
                e.to_string().contains("not a plain file name"),
                "{name:?}: {e}"
            );
        }
    }

    #[test]
    fn the_format_is_recorded_when_newer_than_1_and_a_newer_one_is_refused() {
        let m = sample();
        assert!(!String::from_utf8_lossy(&m.encode().unwrap()).contains("format_version"));
        let mut renamed = sample();
        renamed.body.fragments.push(crate::fragment::FragmentMeta {
            id: 0,
            file: "f.arrow".into(),
            num_rows: 5,
            file_size: 1,
            crc32c: 0,
            deletion: None,
            columns: [("b".to_string(), Some("a".to_string()))].into(),
            parts: None,
        });
        let bytes = renamed.encode().unwrap();
        assert!(String::from_utf8_lossy(&bytes).contains("\"format_version\":2"));
        let back = Manifest::decode(3, &bytes, Path::new("x")).unwrap();
        assert_eq!(back.body, renamed.body);
        // A format from the future: the JSON edited, the checksum redone.
        let key = b"\"format_version\":2";
        let at = bytes.windows(key.len()).position(|w| w == key).unwrap();
        let mut future = bytes.clone();
        future[at + key.len() - 1] = b'9';
        future.truncate(future.len() - 4);
        let crc = crc32c::crc32c(&future);
        future.extend_from_slice(&crc.to_le_bytes());
        let e = Manifest::decode(3, &future, Path::new("v3")).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
        assert!(
            e.to_string()
                .contains("format 9, newer than this oxvec reads"),
            "{e}"
        );
    }

    #[test]
    fn more_deleted_rows_than_a_fragment_holds_is_corrupt() {
        let mut m = sample();
        m.body.fragments.push(crate::fragment::FragmentMeta {
            id: 0,
            file: "f.arrow".into(),
            num_rows: 5,
            file_size: 1,
            crc32c: 0,
            deletion: Some(crate::deletion::DeletionMeta {
                file: "d.bin".into(),
                num_deleted: 6,
                file_size: 1,
                crc32c: 0,
                inline: None,
            }),
            columns: Default::default(),
            parts: None,
        });
        let e = Manifest::decode(3, &m.encode().unwrap(), Path::new("x")).unwrap_err();
        assert!(e.to_string().contains("5 rows but 6 deleted"), "{e}");
    }

    #[test]
    fn every_truncation_is_detected() {
        let bytes = sample().encode().unwrap();
        for n in 0..bytes.len() {
            assert!(Manifest::decode(3, &bytes[..n], Path::new("x")).is_err());
        }
    }
}
