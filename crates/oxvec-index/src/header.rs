//! The typed, versioned header every index file carries.
//!
//! The container ([`crate::file`]) stores one JSON value; this is its shape. The fields every
//! kind shares are typed here; the kind's own fields (`kind_header`) are the kind's serde
//! struct, parsed once when the kind opens the file. Files written before headers were
//! versioned (`{"type", "metric", "inner": {...}}`) are read as format 1.

use crate::file::IndexFile;
use oxvec_core::{Error, Metric, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The header layout this build writes. A file with a newer one is refused, not misread.
pub const FORMAT_VERSION: u32 = 2;

/// The container's label for vector index files.
pub(crate) const CONTAINER: &str = "oxvec-ann";

/// What every index file says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexHeader {
    pub format_version: u32,
    /// The registered kind's name (`HNSW`, `IVF_PQ`, ...).
    pub kind: String,
    #[serde(serialize_with = "metric_out", deserialize_with = "metric_in")]
    pub metric: Metric,
    /// Vector dimension.
    pub dim: usize,
    /// Number of nodes.
    pub len: usize,
    /// The kind's own fields, as its serde struct writes them.
    pub kind_header: serde_json::Value,
}

/// The pre-versioned layout.
#[derive(Deserialize)]
struct Format1 {
    #[serde(rename = "type")]
    kind: String,
    #[serde(deserialize_with = "metric_in")]
    metric: Metric,
    inner: Format1Inner,
}

#[derive(Deserialize)]
struct Format1Inner {
    n: usize,
    dim: usize,
    #[serde(flatten)]
    rest: serde_json::Value,
}

impl IndexHeader {
    /// A header for a new file of `kind` whose own fields are `kind_header`.
    pub fn new<K: Serialize>(
        kind: &str,
        metric: Metric,
        dim: usize,
        len: usize,
        kind_header: &K,
    ) -> Result<IndexHeader> {
        Ok(IndexHeader {
            format_version: FORMAT_VERSION,
            kind: kind.to_string(),
            metric,
            dim,
            len,
            kind_header: serde_json::to_value(kind_header)
                .map_err(|e| Error::internal("encoding an index header", e))?,
        })
    }

    /// Parses the header of an opened file (either format).
    pub fn read(file: &IndexFile) -> Result<IndexHeader> {
        let bad = |m: String| Error::corrupt(file.path(), m);
        let meta = &file.header.meta;
        let h = if meta.get("format_version").is_none() {
            let old: Format1 = serde_json::from_value(meta.clone())
                .map_err(|e| bad(format!("bad index header: {e}")))?;
            IndexHeader {
                format_version: 1,
                kind: old.kind,
                metric: old.metric,
                dim: old.inner.dim,
                len: old.inner.n,
                kind_header: old.inner.rest,
            }
        } else {
            serde_json::from_value(meta.clone())
                .map_err(|e| bad(format!("bad index header: {e}")))?
        };
        if h.format_version == 0 || h.format_version > FORMAT_VERSION {
            return Err(bad(format!(
                "index header format {} is not one this version reads (1 to {FORMAT_VERSION}); \
                 upgrade oxvec or rebuild the index",
                h.format_version
            )));
        }
        // Every kind maps node -> table row in `row_ids`: its length must be the node count.
        let rows = file.header.sections.iter().find(|s| s.name == "row_ids");
        if rows.is_none_or(|s| s.len != (h.len as u64).saturating_mul(8)) {
            return Err(bad(format!(
                "index header says {} nodes but its row_ids section disagrees",
                h.len
            )));
        }
        if h.dim == 0 {
            return Err(bad("index header says dimension 0".into()));
        }
        Ok(h)
    }

    /// The kind's own fields as its struct `T`.
    pub fn kind_fields<T: DeserializeOwned>(&self, file: &IndexFile) -> Result<T> {
        serde_json::from_value(self.kind_header.clone()).map_err(|e| {
            Error::corrupt(file.path(), format!("bad {} index header: {e}", self.kind))
        })
    }

    /// This header as the container stores it.
    pub(crate) fn to_json(&self) -> Result<serde_json::Value> {
        serde_json::to_value(self).map_err(|e| Error::internal("encoding an index header", e))
    }
}

fn metric_out<S: Serializer>(m: &Metric, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(m.name())
}

fn metric_in<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Metric, D::Error> {
    let name = String::deserialize(d)?;
    Metric::parse(&name).map_err(|_| serde::de::Error::custom(format!("unknown metric '{name}'")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::FileWriter;

    /// A file with `meta` as its header and a `row_ids` section of `nodes` entries.
    fn open_with(meta: serde_json::Value, nodes: usize) -> (tempfile::TempDir, IndexFile) {
        let dir = tempfile::tempdir().unwrap();
        let mut w = FileWriter::new();
        w.section("row_ids", &vec![0u64; nodes]);
        let (bytes, crc) = w.finish(CONTAINER, meta).unwrap();
        let p = dir.path().join("h.idx");
        std::fs::write(&p, &bytes).unwrap();
        let f = IndexFile::open(&p, bytes.len() as u64, crc).unwrap();
        (dir, f)
    }

    fn open(meta: serde_json::Value) -> (tempfile::TempDir, IndexFile) {
        let n = meta
            .get("len")
            .or_else(|| meta.get("inner").and_then(|i| i.get("n")))
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        open_with(meta, n as usize)
    }

    #[test]
    fn round_trips_and_reads_the_unversioned_layout() {
        let h =
            IndexHeader::new("HNSW", Metric::Cosine, 8, 3, &serde_json::json!({"a": 1})).unwrap();
        let (_d, f) = open(h.to_json().unwrap());
        assert_eq!(IndexHeader::read(&f).unwrap(), h);

        let old = serde_json::json!({"type": "IVF_PQ", "metric": "l2",
            "inner": {"n": 5, "dim": 4, "space": "l2", "params": {"num_partitions": 2}}});
        let (_d, f) = open(old);
        let h = IndexHeader::read(&f).unwrap();
        assert_eq!(
            (h.format_version, h.kind.as_str(), h.metric),
            (1, "IVF_PQ", Metric::L2)
        );
        assert_eq!((h.dim, h.len), (4, 5));
        assert_eq!(h.kind_header["params"]["num_partitions"], 2);
    }

    #[test]
    fn refuses_newer_formats_and_bad_fields() {
        let mut h = IndexHeader::new("HNSW", Metric::L2, 8, 3, &()).unwrap();
        h.format_version = FORMAT_VERSION + 1;
        let (_d, f) = open(h.to_json().unwrap());
        let e = IndexHeader::read(&f).unwrap_err().to_string();
        assert!(e.contains("format"), "{e}");
        let (_d, f) = open(serde_json::json!({"format_version": 2, "kind": "HNSW",
            "metric": "manhattan", "dim": 8, "len": 1, "kind_header": null}));
        assert!(matches!(
            IndexHeader::read(&f),
            Err(Error::CorruptFile { .. })
        ));
    }
}
