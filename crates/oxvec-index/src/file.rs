//! The index file container.
//!
//! Layout: `b"OXVIDX01"` | u32 header length | JSON header | zero padding | sections. The
//! header names each section's offset, length and CRC32C; sections start on 64-byte
//! boundaries so they can be viewed in place as `u32`/`u64`/`f32` slices of the memory map.
//! The manifest records the header's CRC32C, checked at open; a section's CRC is checked the
//! first time it is used, so opening a large index reads only its header.

use memmap2::Mmap;
use oxvec_core::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

#[cfg(not(target_endian = "little"))]
compile_error!("oxvec index files are little-endian and viewed in place");

const MAGIC: &[u8; 8] = b"OXVIDX01";
const ALIGN: usize = 64;
/// Largest header accepted.
const MAX_HEADER: usize = 64 << 20;

/// Where one section lives.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SectionEntry {
    pub name: String,
    pub offset: u64,
    pub len: u64,
    pub crc32c: u32,
}

/// The JSON header: the index's own description plus the section table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub kind: String,
    pub meta: serde_json::Value,
    pub sections: Vec<SectionEntry>,
}

/// Element types a section can be viewed as.
pub trait Pod: Copy + 'static {}
impl Pod for u8 {}
impl Pod for u32 {}
impl Pod for u64 {}
impl Pod for f32 {}

fn as_bytes<T: Pod>(v: &[T]) -> &[u8] {
    // SAFETY: `Pod` types have no padding and every bit pattern is valid as bytes.
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) }
}

/// Builds an index file in memory, section by section.
#[derive(Debug, Default)]
pub struct FileWriter {
    sections: Vec<(String, Vec<u8>)>,
}

impl FileWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a section holding `data`.
    pub fn section<T: Pod>(&mut self, name: &str, data: &[T]) -> &mut Self {
        self.sections
            .push((name.to_string(), as_bytes(data).to_vec()));
        self
    }

    /// The file's bytes and the CRC32C of its header (what the manifest records).
    pub fn finish(self, kind: &str, meta: serde_json::Value) -> Result<(Vec<u8>, u32)> {
        // Two passes: the header's length decides where the sections start.
        let mut entries: Vec<SectionEntry> = self
            .sections
            .iter()
            .map(|(n, d)| SectionEntry {
                name: n.clone(),
                offset: 0,
                len: d.len() as u64,
                crc32c: crc32c::crc32c(d),
            })
            .collect();
        let mut header_len = 0;
        for _ in 0..3 {
            let mut at = (MAGIC.len() + 4 + header_len).next_multiple_of(ALIGN) as u64;
            for e in &mut entries {
                e.offset = at;
                at = (at + e.len).next_multiple_of(ALIGN as u64);
            }
            let json = header_json(kind, &meta, &entries)?;
            if json.len() == header_len {
                break;
            }
            header_len = json.len();
        }
        let json = header_json(kind, &meta, &entries)?;
        let size = entries.last().map_or(0, |e| e.offset + e.len) as usize;
        let mut out = Vec::with_capacity(size.max(MAGIC.len() + 4 + json.len()));
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(json.len() as u32).to_le_bytes());
        out.extend_from_slice(&json);
        let header_crc = crc32c::crc32c(&out);
        // Sections are moved in and freed one by one: a large index is not held twice.
        for (e, (_, d)) in entries.iter().zip(self.sections) {
            if out.len() as u64 > e.offset {
                return Err(Error::invalid("index header layout did not settle"));
            }
            out.resize(e.offset as usize, 0);
            out.extend_from_slice(&d);
        }
        Ok((out, header_crc))
    }
}

fn header_json(kind: &str, meta: &serde_json::Value, entries: &[SectionEntry]) -> Result<Vec<u8>> {
    serde_json::to_vec(&Header {
        kind: kind.to_string(),
        meta: meta.clone(),
        sections: entries.to_vec(),
    })
    .map_err(|e| Error::invalid(format!("cannot encode index header: {e}")))
}

/// An opened index file: mapped, header verified, sections verified on first use.
#[derive(Debug)]
pub struct IndexFile {
    path: PathBuf,
    bytes: Backing,
    pub header: Header,
    verified: Vec<OnceLock<bool>>,
}

/// A 64-byte block, so a buffer of them starts where sections may be viewed in place.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Block([u8; ALIGN]);

/// Where an index file's bytes are.
enum Backing {
    /// A published file, mapped; the file is held open to check its size again before a
    /// search (see [`IndexFile::check_size`]).
    Mapped { file: File, map: Mmap },
    /// Built in memory and never written (the unindexed rows of a full-text search).
    Memory { blocks: Vec<Block>, len: usize },
}

impl std::fmt::Debug for Backing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backing::Mapped { map, .. } => write!(f, "Mapped({} bytes)", map.len()),
            Backing::Memory { len, .. } => write!(f, "Memory({len} bytes)"),
        }
    }
}

impl std::ops::Deref for Backing {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Backing::Mapped { map, .. } => map,
            Backing::Memory { blocks, len } => {
                // SAFETY: `Block` is plain bytes without padding; `len` <= the blocks' size.
                unsafe { std::slice::from_raw_parts(blocks.as_ptr() as *const u8, *len) }
            }
        }
    }
}

impl IndexFile {
    /// Maps `path` and checks its size and header checksum against the manifest's record.
    pub fn open(path: &Path, expected_size: u64, header_crc: u32) -> Result<IndexFile> {
        let file = File::open(path).map_err(|e| Error::storage(path, e))?;
        let size = file.metadata().map_err(|e| Error::storage(path, e))?.len();
        if size != expected_size {
            return Err(Error::corrupt(
                path,
                format!("index file is {size} bytes, the manifest says {expected_size}"),
            ));
        }
        // SAFETY: index files are immutable once published; the map is read-only.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::storage(path, e))?;
        Self::from_backing(path, Backing::Mapped { file, map }, header_crc)
    }

    /// An index file held in memory (as [`FileWriter::finish`] returned it), checked like a
    /// published one; `label` names it in errors.
    pub fn in_memory(label: &str, bytes: &[u8], header_crc: u32) -> Result<IndexFile> {
        let mut blocks = vec![Block([0; ALIGN]); bytes.len().div_ceil(ALIGN)];
        for (block, chunk) in blocks.iter_mut().zip(bytes.chunks(ALIGN)) {
            block.0[..chunk.len()].copy_from_slice(chunk);
        }
        let backing = Backing::Memory {
            blocks,
            len: bytes.len(),
        };
        Self::from_backing(Path::new(label), backing, header_crc)
    }

    fn from_backing(path: &Path, map: Backing, header_crc: u32) -> Result<IndexFile> {
        let bad = |m: String| Error::corrupt(path, m);
        if map.len() < MAGIC.len() + 4 || &map[..8] != MAGIC {
            return Err(bad("not an oxvec index file (bad magic)".into()));
        }
        let hlen = u32::from_le_bytes(map[8..12].try_into().expect("4 bytes")) as usize;
        if hlen > MAX_HEADER || 12 + hlen > map.len() {
            return Err(bad(format!("index header length {hlen} is out of bounds")));
        }
        let crc = crc32c::crc32c(&map[..12 + hlen]);
        if crc != header_crc {
            return Err(bad(format!(
                "index header checksum mismatch: stored {header_crc:08x}, computed {crc:08x}"
            )));
        }
        let header: Header = serde_json::from_slice(&map[12..12 + hlen])
            .map_err(|e| bad(format!("index header is not valid JSON: {e}")))?;
        for s in &header.sections {
            let end = s.offset.checked_add(s.len);
            if !(s.offset as usize).is_multiple_of(ALIGN)
                || end.is_none_or(|e| e > map.len() as u64)
            {
                return Err(bad(format!("section '{}' lies outside the file", s.name)));
            }
        }
        let verified = header.sections.iter().map(|_| OnceLock::new()).collect();
        Ok(IndexFile {
            path: path.to_path_buf(),
            bytes: map,
            header,
            verified,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Fails if the file no longer has the size it was mapped with: reading a mapping past
    /// the end of a file truncated in place kills the process (SIGBUS), so a search checks
    /// first (one `fstat`) and can fall back instead.
    pub fn check_size(&self) -> Result<()> {
        let Backing::Mapped { file, map } = &self.bytes else {
            return Ok(());
        };
        let now = file
            .metadata()
            .map_err(|e| Error::storage(&self.path, e))?
            .len();
        if now != map.len() as u64 {
            return Err(Error::corrupt(
                &self.path,
                format!(
                    "index file changed size since it was opened ({} -> {now} bytes)",
                    map.len()
                ),
            ));
        }
        Ok(())
    }

    /// A section's bytes, without checking its CRC (for data checked piecewise).
    pub fn raw(&self, name: &str) -> Result<&[u8]> {
        let s = self.entry(name)?.1;
        Ok(&self.bytes[s.offset as usize..(s.offset + s.len) as usize])
    }

    fn entry(&self, name: &str) -> Result<(usize, &SectionEntry)> {
        self.header
            .sections
            .iter()
            .enumerate()
            .find(|(_, s)| s.name == name)
            .ok_or_else(|| Error::corrupt(&self.path, format!("index has no section '{name}'")))
    }

    /// A section viewed as `[T]`, its CRC checked on first use.
    pub fn get<T: Pod>(&self, name: &str) -> Result<&[T]> {
        let (i, s) = self.entry(name)?;
        let bytes = &self.bytes[s.offset as usize..(s.offset + s.len) as usize];
        let ok = *self.verified[i].get_or_init(|| crc32c::crc32c(bytes) == s.crc32c);
        if !ok {
            return Err(Error::corrupt(
                &self.path,
                format!("section '{name}' failed its checksum"),
            ));
        }
        cast(bytes).ok_or_else(|| {
            Error::corrupt(&self.path, format!("section '{name}' has a ragged length"))
        })
    }

    /// Checks every section's CRC (for `verify(deep=True)`).
    pub fn verify_all(&self) -> Result<()> {
        for s in &self.header.sections {
            self.get::<u8>(&s.name)?;
        }
        Ok(())
    }
}

/// Views bytes as `[T]` when aligned and of a whole number of elements.
pub fn cast<T: Pod>(bytes: &[u8]) -> Option<&[T]> {
    // SAFETY: `Pod` types accept any bit pattern; `align_to` only yields aligned middles.
    let (pre, mid, post) = unsafe { bytes.align_to::<T>() };
    (pre.is_empty() && post.is_empty()).then_some(mid)
}

/// The bytes of a `Pod` slice (for checksums).
pub fn bytes_of<T: Pod>(v: &[T]) -> &[u8] {
    as_bytes(v)
}

/// A copy of index file `f` whose `row_ids` section is `row_ids` (after compaction moved
/// rows): every other section copied as it is, under header `meta` in container `kind`.
pub fn with_row_ids(
    f: &IndexFile,
    row_ids: &[u64],
    kind: &str,
    meta: serde_json::Value,
) -> Result<(Vec<u8>, u32)> {
    let mut w = FileWriter::new();
    for s in &f.header.sections {
        if s.name == "row_ids" {
            w.section("row_ids", row_ids);
        } else {
            w.section::<u8>(&s.name, f.get(&s.name)?);
        }
    }
    w.finish(kind, meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = FileWriter::new();
        w.section("a", &[1u32, 2, 3]).section("b", &[1.5f32; 100]);
        let (bytes, crc) = w.finish("test", serde_json::json!({"x": 1})).unwrap();
        let p = dir.path().join("i.idx");
        std::fs::write(&p, &bytes).unwrap();
        let f = IndexFile::open(&p, bytes.len() as u64, crc).unwrap();
        assert_eq!(f.get::<u32>("a").unwrap(), &[1, 2, 3]);
        assert_eq!(f.get::<f32>("b").unwrap().len(), 100);
        assert_eq!(f.header.meta["x"], 1);

        let mut bad = bytes.clone();
        let off = f.header.sections[1].offset as usize + 10;
        bad[off] ^= 1;
        std::fs::write(&p, &bad).unwrap();
        let f = IndexFile::open(&p, bytes.len() as u64, crc).unwrap();
        assert!(f.get::<u32>("a").is_ok());
        assert!(matches!(f.get::<f32>("b"), Err(Error::CorruptFile { .. })));
        assert!(IndexFile::open(&p, 5, crc).is_err());
        let mut bad = bytes.clone();
        bad[20] ^= 1;
        std::fs::write(&p, &bad).unwrap();
        assert!(IndexFile::open(&p, bytes.len() as u64, crc).is_err());
    }
}
