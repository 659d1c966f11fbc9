//! Deletion vectors: which rows of a fragment are gone as of a version (a roaring bitmap of
//! row offsets). Each version that changes a fragment's deletions writes a new file.

use crate::durable::{read_capped, verify_crc, write_new_file_durable};
use oxvec_core::{Error, Result};
use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};
use std::path::Path;

const MAX_DELETION_FILE: u64 = 1 << 30;

/// A deletion vector as recorded in a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeletionMeta {
    /// File name under `deletions/`.
    pub file: String,
    pub num_deleted: u64,
    pub file_size: u64,
    pub crc32c: u32,
}

/// Writes `rows` as a new deletion file in `dir` and fsyncs it and the directory.
pub fn write_deletions(dir: &Path, rows: &RoaringBitmap) -> Result<DeletionMeta> {
    let mut bytes = Vec::with_capacity(rows.serialized_size());
    rows.serialize_into(&mut bytes)
        .expect("writing to a Vec cannot fail");
    let file = format!("{}.bin", uuid::Uuid::new_v4().simple());
    let path = dir.join(&file);
    let crc32c = write_new_file_durable(&path, &bytes)?;
    crate::crash::point("deletion_written");
    Ok(DeletionMeta {
        file,
        num_deleted: rows.len(),
        file_size: bytes.len() as u64,
        crc32c,
    })
}

/// Reads and verifies a deletion file.
pub fn read_deletions(path: &Path, meta: &DeletionMeta) -> Result<RoaringBitmap> {
    let bytes = read_capped(path, MAX_DELETION_FILE)?;
    if bytes.len() as u64 != meta.file_size {
        return Err(Error::corrupt(
            path,
            format!("expected {} bytes, found {}", meta.file_size, bytes.len()),
        ));
    }
    verify_crc(path, &bytes, meta.crc32c)?;
    let rows = RoaringBitmap::deserialize_from(&bytes[..])
        .map_err(|e| Error::corrupt(path, e.to_string()))?;
    if rows.len() != meta.num_deleted {
        return Err(Error::corrupt(
            path,
            "deleted row count differs from the manifest",
        ));
    }
    Ok(rows)
}
