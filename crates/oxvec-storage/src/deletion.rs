//! Deletion vectors: which rows of a fragment are gone as of a version (a roaring bitmap of
//! row offsets). Each version that changes a fragment's deletions records a new vector: a
//! small one inside the manifest itself (so a small delete, update or upsert writes and syncs
//! one file, the manifest, instead of two), a larger one as a file under `deletions/`.

use crate::durable::{read_capped, verify_crc, write_new_file_durable};
use oxvec_core::{Error, Result};
use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};
use std::path::Path;

const MAX_DELETION_FILE: u64 = 1 << 30;

/// Largest deletion vector (serialized bytes) kept inside a manifest: about 8k deleted rows
/// spread over a million, or a few ranges of any length.
pub const INLINE_MAX_BYTES: usize = 16 << 10;
/// Most bytes of deletion vectors one manifest carries inline; every commit rewrites the
/// manifest, so this bounds what small vectors cost the commits after them.
pub const INLINE_TOTAL_BYTES: usize = 64 << 10;

/// A deletion vector as recorded in a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeletionMeta {
    /// File name under `deletions/`; for an inline vector a name no file has, unique like
    /// a file's so that caches can key on it.
    pub file: String,
    pub num_deleted: u64,
    /// Bytes of the serialized bitmap, in the file or inline.
    pub file_size: u64,
    pub crc32c: u32,
    /// The serialized bitmap itself when it lives in the manifest (base64 in the JSON).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "inline_bytes"
    )]
    pub inline: Option<Vec<u8>>,
}

impl DeletionMeta {
    /// Bytes this vector adds to its manifest (0 when it is a file).
    pub fn inline_len(&self) -> usize {
        self.inline.as_ref().map_or(0, Vec::len)
    }
}

/// Bytes of inline deletion vectors among `metas`.
pub fn inline_total<'a>(metas: impl IntoIterator<Item = &'a DeletionMeta>) -> usize {
    metas.into_iter().map(DeletionMeta::inline_len).sum()
}

/// Records `rows` as a new deletion vector: inline when it is small and `inline_room` (the
/// bytes the manifest may still take inline) allows, which it then reduces; otherwise as a
/// new file in `dir`, fsynced with the directory.
pub fn write_deletions(
    dir: &Path,
    rows: &RoaringBitmap,
    inline_room: &mut usize,
) -> Result<DeletionMeta> {
    let mut bytes = Vec::with_capacity(rows.serialized_size());
    rows.serialize_into(&mut bytes)
        .expect("writing to a Vec cannot fail");
    let file = format!("{}.bin", uuid::Uuid::new_v4().simple());
    let mut meta = DeletionMeta {
        file,
        num_deleted: rows.len(),
        file_size: bytes.len() as u64,
        crc32c: crc32c::crc32c(&bytes),
        inline: None,
    };
    if bytes.len() <= INLINE_MAX_BYTES && bytes.len() <= *inline_room {
        *inline_room -= bytes.len();
        meta.inline = Some(bytes);
        return Ok(meta);
    }
    write_new_file_durable(&dir.join(&meta.file), &bytes)?;
    crate::crash::point("deletion_written");
    Ok(meta)
}

/// Reads and verifies a deletion file.
///
/// An inline vector is decoded from the manifest instead; `path` then only labels errors.
pub fn read_deletions(path: &Path, meta: &DeletionMeta) -> Result<RoaringBitmap> {
    match &meta.inline {
        None => decode(path, &read_capped(path, MAX_DELETION_FILE)?, meta),
        Some(bytes) => decode(path, bytes, meta).map_err(|e| match e {
            Error::CorruptFile { path, message } => Error::corrupt(
                path,
                format!("deletion vector kept in the manifest: {message}"),
            ),
            e => e,
        }),
    }
}

fn decode(path: &Path, bytes: &[u8], meta: &DeletionMeta) -> Result<RoaringBitmap> {
    if bytes.len() as u64 != meta.file_size {
        return Err(Error::corrupt(
            path,
            format!("expected {} bytes, found {}", meta.file_size, bytes.len()),
        ));
    }
    verify_crc(path, bytes, meta.crc32c)?;
    let rows =
        RoaringBitmap::deserialize_from(bytes).map_err(|e| Error::corrupt(path, e.to_string()))?;
    if rows.len() != meta.num_deleted {
        return Err(Error::corrupt(
            path,
            "deleted row count differs from the manifest",
        ));
    }
    Ok(rows)
}

/// Serde for inline bytes: a base64 string in the manifest's JSON.
mod inline_bytes {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_str(&STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| STANDARD.decode(t).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_vectors_go_inline_while_there_is_room_and_read_back() {
        let tmp = tempfile::tempdir().unwrap();
        let rows: RoaringBitmap = (0..1000u32).map(|i| i * 7).collect();
        let mut room = INLINE_TOTAL_BYTES;
        let inline = write_deletions(tmp.path(), &rows, &mut room).unwrap();
        let size = inline.inline_len();
        assert!(size > 0 && room == INLINE_TOTAL_BYTES - size);
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
        let mut none = size - 1;
        let file = write_deletions(tmp.path(), &rows, &mut none).unwrap();
        assert_eq!((file.inline_len(), none), (0, size - 1));
        assert!(tmp.path().join(&file.file).exists());
        for meta in [&inline, &file] {
            let path = tmp.path().join(&meta.file);
            assert_eq!(read_deletions(&path, meta).unwrap(), rows);
        }
        // Through the manifest's JSON and back.
        let json = serde_json::to_string(&inline).unwrap();
        let back: DeletionMeta = serde_json::from_str(&json).unwrap();
        assert_eq!(back, inline);
        assert!(!serde_json::to_string(&file).unwrap().contains("inline"));
    }

    #[test]
    fn a_damaged_inline_vector_is_corrupt_not_misread() {
        let rows: RoaringBitmap = (0..50u32).collect();
        let mut room = INLINE_TOTAL_BYTES;
        let good = write_deletions(Path::new("/nonexistent"), &rows, &mut room).unwrap();
        let mut flipped = good.clone();
        flipped.inline.as_mut().unwrap()[9] ^= 4;
        let mut miscounted = good.clone();
        miscounted.num_deleted += 1;
        for bad in [flipped, miscounted] {
            let e = read_deletions(Path::new("m"), &bad).unwrap_err();
            assert!(
                matches!(&e, Error::CorruptFile { message, .. } if message.contains("manifest")),
                "{e}"
            );
        }
        let garbage = r#"{"file":"x.bin","num_deleted":1,"file_size":1,"crc32c":0,"inline":"@@"}"#;
        assert!(serde_json::from_str::<DeletionMeta>(garbage).is_err());
    }
}
