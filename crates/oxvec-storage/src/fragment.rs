//! Fragments: immutable Arrow IPC files holding a slice of a table's rows.
//!
//! Written uncompressed so that reads can memory-map them and hand out Arrow arrays that point
//! straight into the page cache (zero copy; vectors are searched in place).

use crate::durable::{io_err, sync_dir, ChecksumWriter};
use crate::io::TrackedFile;
use arrow::array::RecordBatch;
use arrow::buffer::Buffer;
use arrow::datatypes::SchemaRef;
use arrow::ipc::convert::try_fb_to_schema;
use arrow::ipc::reader::{read_footer_length, FileDecoder};
use arrow::ipc::root_as_footer;
use arrow::ipc::writer::FileWriter;
use oxvec_core::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::Arc;

use crate::deletion::DeletionMeta;
use crate::parts::{ColumnChecks, Layout, PartChecksums};

/// A fragment as recorded in a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FragmentMeta {
    /// Table-unique id; row ids are `(id << 32) | offset`.
    pub id: u32,
    /// File name under `data/`.
    pub file: String,
    /// Physical rows in the file, deleted ones included.
    pub num_rows: u64,
    pub file_size: u64,
    pub crc32c: u32,
    /// Rows of this fragment deleted as of this version.
    pub deletion: Option<DeletionMeta>,
    /// For columns of the table schema the file holds under another name (renamed since
    /// the file was written), that name; `None` for columns it holds no values of (added
    /// since), which read as nulls. Columns not listed are the file's own of that name.
    /// Absent from manifests of tables whose schema never changed this way.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, Option<String>>,
    /// Checksums of the file's metadata and of each column, so a read of some columns
    /// checks only those (see [`crate::parts`]); absent from files written before them,
    /// which are checked whole by `crc32c`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<PartChecksums>,
}

impl FragmentMeta {
    /// The file column holding table column `column`, `None` when the file holds no values
    /// of it.
    pub fn source_of<'a>(&'a self, column: &'a str) -> Option<&'a str> {
        match self.columns.get(column) {
            Some(source) => source.as_deref(),
            None => Some(column),
        }
    }

    /// Rows still visible.
    pub fn live_rows(&self) -> u64 {
        self.num_rows - self.deletion.as_ref().map_or(0, |d| d.num_deleted)
    }
}

/// A write error from the Arrow IPC writer, keeping the OS error (ENOSPC, EACCES, ...) when
/// that is what it was.
fn arrow_write_err(path: &Path, e: arrow::error::ArrowError) -> Error {
    match e {
        arrow::error::ArrowError::IoError(_, io) => Error::storage(path, io),
        other => Error::storage(path, std::io::Error::other(other)),
    }
}

/// Streams record batches into a new fragment file.
pub struct FragmentWriter {
    path: PathBuf,
    file_name: String,
    writer: Option<FileWriter<ChecksumWriter<BufWriter<TrackedFile>>>>,
    rows: u64,
}

impl FragmentWriter {
    /// Creates `data/<uuid>.arrow` under `data_dir`.
    pub fn create(data_dir: &Path, schema: &SchemaRef) -> Result<Self> {
        let file_name = format!("{}.arrow", crate::durable::new_id());
        let path = data_dir.join(&file_name);
        let file = crate::io::create_new(&path).map_err(io_err(&path))?;
        let sink = ChecksumWriter::new(BufWriter::with_capacity(1 << 20, file));
        let writer = FileWriter::try_new(sink, schema).map_err(|e| arrow_write_err(&path, e))?;
        Ok(FragmentWriter {
            path,
            file_name,
            writer: Some(writer),
            rows: 0,
        })
    }

    /// Where the file is being written (for cleanup on failure).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Appends a batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let w = self.writer.as_mut().expect("writer used after finish");
        w.write(batch).map_err(|e| arrow_write_err(&self.path, e))?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Writes the footer, fsyncs the file and its directory, and describes it.
    /// The id is assigned when the fragment is committed.
    pub fn finish(self) -> Result<FragmentMeta> {
        let (meta, unsynced) = self.finish_unsynced()?;
        sync_all(vec![unsynced])?;
        Ok(meta)
    }

    /// Writes the footer and describes the file, leaving the fsync to [`sync_all`]: a
    /// commit can then write its manifest while the fragment's data reaches the disk,
    /// as long as it links the manifest only after `sync_all` returned.
    pub fn finish_unsynced(mut self) -> Result<(FragmentMeta, Unsynced)> {
        let path = self.path.clone();
        let mut w = self.writer.take().expect("finish called twice");
        w.finish().map_err(|e| arrow_write_err(&path, e))?;
        let sink = w.into_inner().map_err(|e| arrow_write_err(&path, e))?;
        let (buf, crc, len) = sink.finish();
        let file = buf
            .into_inner()
            .map_err(|e| Error::storage(&path, e.into_error()))?;
        crate::crash::point("fragment_written");
        let parts = part_checksums(&path)?;
        let meta = FragmentMeta {
            id: u32::MAX,
            file: std::mem::take(&mut self.file_name),
            num_rows: self.rows,
            file_size: len,
            crc32c: crc,
            deletion: None,
            columns: BTreeMap::new(),
            parts: Some(parts),
        };
        Ok((meta, Unsynced { file, path }))
    }
}

/// A fragment file written in full but not yet fsynced: nothing may reference it in a
/// published manifest before [`sync_all`] has returned.
pub struct Unsynced {
    file: TrackedFile,
    path: PathBuf,
}

impl std::fmt::Debug for Unsynced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unsynced")
            .field("path", &self.path)
            .finish()
    }
}

/// fsyncs each file, then each directory holding one of them once, so that the files and
/// their names survive a power loss.
pub fn sync_all(files: Vec<Unsynced>) -> Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    for f in files {
        f.file.sync().map_err(io_err(&f.path))?;
        if let Some(dir) = f.path.parent() {
            if !dirs.iter().any(|d| d == dir) {
                dirs.push(dir.to_path_buf());
            }
        }
    }
    for dir in &dirs {
        sync_dir(dir)?;
    }
    crate::crash::point("fragment_synced");
    Ok(())
}

/// Files at least this large give their pages back after the checksum pass: reading them to
/// check must not leave the whole file resident in the process.
const RELEASE_AFTER_CHECK: usize = 8 << 20;

/// A fragment's memory map, shared with the batches decoded from it.
#[derive(Debug, Clone)]
pub struct Mapping(Arc<memmap2::Mmap>);

impl Mapping {
    /// The mapped bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// Drops the process's pages of `values`, widened to whole 2 MiB windows (a fault maps
    /// a whole large page-cache folio, not one page), when `values` lies in this mapping;
    /// does nothing otherwise. The next read of them faults them back in from the file
    /// (usually still in the page cache), so borrowed slices keep their contents: the mapping
    /// is shared, read-only, and the file is never written once published.
    pub fn release<T>(&self, values: &[T]) {
        const WINDOW: usize = 2 << 20;
        let base = self.0.as_ptr() as usize;
        let start = values.as_ptr() as usize;
        let end = start + std::mem::size_of_val(values);
        if start < base || end > base + self.0.len() || start == end {
            return;
        }
        let from = (start - base) / WINDOW * WINDOW;
        let to = (end - base).next_multiple_of(WINDOW).min(self.0.len());
        self.release_range(from, to - from);
    }

    #[cfg(unix)]
    fn release_range(&self, offset: usize, len: usize) {
        // SAFETY: see `release`: MADV_DONTNEED on a shared read-only file mapping does not
        // change what any borrow of it reads.
        let _ = unsafe {
            self.0
                .unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, len)
        };
    }

    #[cfg(not(unix))]
    fn release_range(&self, _offset: usize, _len: usize) {}
}

/// Memory-maps a fragment, verifies its size and checksum, and decodes its batches zero-copy.
///
/// Any mismatch or undecodable byte is a [`Error::CorruptFile`] naming the path. Every
/// column is checked here (see [`open_fragment_mapped`] for a read of some columns).
pub fn open_fragment(path: &Path, meta: &FragmentMeta) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let f = open_fragment_mapped(path, meta)?;
    f.checks.verify_all()?;
    Ok((f.schema, f.batches))
}

/// A fragment opened by [`open_fragment_mapped`].
#[derive(Debug)]
pub struct OpenedFragment {
    /// The file's own schema.
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    /// The mapping the batches point into.
    pub mapping: Mapping,
    /// The columns whose checksums are still to be checked before their values are read
    /// (none for a file whose manifest entry has only the whole-file checksum: it was
    /// checked whole here).
    pub checks: ColumnChecks,
}

/// Maps and decodes a fragment zero-copy. A file with part checksums has its metadata
/// checked here and each column when [`ColumnChecks::verify`] asks; one without is checked
/// whole here.
pub fn open_fragment_mapped(path: &Path, meta: &FragmentMeta) -> Result<OpenedFragment> {
    let file = File::open(path).map_err(io_err(path))?;
    let len = file.metadata().map_err(io_err(path))?.len();
    if len != meta.file_size {
        return Err(Error::corrupt(
            path,
            format!("expected {} bytes, found {len}", meta.file_size),
        ));
    }
    if len < 16 {
        return Err(Error::corrupt(path, "too short to be an Arrow IPC file"));
    }
    // SAFETY: fragments are immutable once published; nothing in oxvec writes to a published
    // file, so the mapping's contents do not change under us.
    let mmap = unsafe { memmap2::Mmap::map(&file) }.map_err(io_err(path))?;
    if meta.parts.is_none() {
        crate::durable::verify_crc(path, &mmap, meta.crc32c)?;
    }
    let mapping = Mapping(Arc::new(mmap));
    if meta.parts.is_none() && mapping.0.len() >= RELEASE_AFTER_CHECK {
        mapping.release(&mapping.0[..]);
    }
    let bad = |what: &str| Error::corrupt(path, what.to_string());
    let ptr = NonNull::new(mapping.0.as_ptr() as *mut u8).ok_or_else(|| bad("empty mapping"))?;
    let mlen = mapping.0.len();
    // SAFETY: `ptr` points at `mlen` readable bytes owned by the map, which the buffer keeps
    // alive through the Arc.
    let buffer = unsafe { Buffer::from_custom_allocation(ptr, mlen, mapping.0.clone()) };
    let blocks = read_blocks(&buffer, path)?;
    let checks = match &meta.parts {
        None => ColumnChecks::none(),
        Some(parts) => {
            blocks
                .layout
                .check_metadata(&mapping.0, parts, &path.to_path_buf())?;
            let names = blocks
                .schema
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            ColumnChecks::pending(
                path.to_path_buf(),
                mapping.clone(),
                names,
                blocks.layout.clone(),
                parts.columns.clone(),
            )
        }
    };
    let schema = blocks.schema.clone();
    // Blocks are layout-checked before decoding (`ipc_check`); a decoder panic that slips past
    // those checks is still a corrupt file, not a crash.
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<_> {
        let mut decoder = FileDecoder::new(schema.clone(), blocks.version);
        for (block, bytes) in &blocks.dictionaries {
            decoder
                .read_dictionary(block, bytes)
                .map_err(|e| bad(&e.to_string()))?;
        }
        let mut batches = Vec::new();
        for (block, bytes) in &blocks.records {
            if let Some(b) = decoder
                .read_record_batch(block, bytes)
                .map_err(|e| bad(&e.to_string()))?
            {
                batches.push(b);
            }
        }
        Ok(batches)
    }));
    let batches = match decoded {
        Ok(r) => r?,
        Err(_) => return Err(bad("undecodable Arrow IPC data (the decoder panicked)")),
    };
    let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
    if rows != meta.num_rows {
        return Err(bad(&format!(
            "manifest says {} rows, file holds {rows}",
            meta.num_rows
        )));
    }
    Ok(OpenedFragment {
        schema,
        batches,
        mapping,
        checks,
    })
}

/// A file's blocks, each layout-checked, with where its columns' buffers lie.
struct Blocks {
    schema: SchemaRef,
    version: arrow::ipc::MetadataVersion,
    dictionaries: Vec<(arrow::ipc::Block, Buffer)>,
    records: Vec<(arrow::ipc::Block, Buffer)>,
    layout: Layout,
}

/// Reads the footer of the IPC file `buffer` and checks every block's layout, before any of
/// it is decoded.
fn read_blocks(buffer: &Buffer, path: &Path) -> Result<Blocks> {
    let bad = |what: &str| Error::corrupt(path, what.to_string());
    let mlen = buffer.len();
    let trailer: [u8; 10] = buffer[mlen - 10..]
        .try_into()
        .map_err(|_| bad("short trailer"))?;
    let footer_len = read_footer_length(trailer).map_err(|e| bad(&e.to_string()))?;
    if footer_len + 10 > mlen {
        return Err(bad("footer length exceeds file size"));
    }
    let footer = root_as_footer(&buffer[mlen - 10 - footer_len..mlen - 10])
        .map_err(|e| bad(&e.to_string()))?;
    let fb_schema = footer.schema().ok_or_else(|| bad("footer has no schema"))?;
    let schema = Arc::new(try_fb_to_schema(fb_schema).map_err(|e| bad(&e.to_string()))?);
    let version = footer.version();
    let mut layout = Layout {
        columns: vec![Vec::new(); schema.fields().len()],
    };
    // A block's bytes, once its extent and every buffer in it are known to be in bounds.
    let mut block_bytes = |block: &arrow::ipc::Block| -> Result<Buffer> {
        let (meta_len, body_len) = (block.metaDataLength(), block.bodyLength());
        let start = usize::try_from(block.offset()).map_err(|_| bad("negative block offset"))?;
        let size = i64::from(meta_len)
            .checked_add(body_len)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| bad("block size out of range"))?;
        if start.checked_add(size).is_none_or(|end| end > mlen) {
            return Err(bad("block extends past the end of the file"));
        }
        let columns = crate::ipc_check::check_block(
            &buffer[start..start + size],
            meta_len,
            body_len,
            start as u64,
            &schema,
            version,
        )
        .map_err(|e| bad(&e))?;
        layout.add_batch(columns);
        Ok(buffer.slice_with_length(start, size))
    };
    let mut dictionaries = Vec::new();
    for block in footer.dictionaries().iter().flatten() {
        dictionaries.push((*block, block_bytes(block)?));
    }
    let mut records = Vec::new();
    for block in footer.recordBatches().iter().flatten() {
        records.push((*block, block_bytes(block)?));
    }
    Ok(Blocks {
        schema,
        version,
        dictionaries,
        records,
        layout,
    })
}

/// The part checksums of the complete IPC file at `path` (just written).
fn part_checksums(path: &Path) -> Result<PartChecksums> {
    let file = File::open(path).map_err(io_err(path))?;
    // SAFETY: the file was written in full by this writer and nothing else writes it.
    let mmap = unsafe { memmap2::Mmap::map(&file) }.map_err(io_err(path))?;
    let mapping = Arc::new(mmap);
    let ptr = NonNull::new(mapping.as_ptr() as *mut u8)
        .ok_or_else(|| Error::corrupt(path, "empty file"))?;
    // SAFETY: as in `open_fragment_mapped`.
    let buffer = unsafe { Buffer::from_custom_allocation(ptr, mapping.len(), mapping.clone()) };
    let blocks = read_blocks(&buffer, path)?;
    Ok(blocks.layout.checksums(&mapping))
}
