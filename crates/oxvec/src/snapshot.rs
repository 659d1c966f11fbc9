//! A pinned table version with its fragments opened: what every read works from.
//!
//! Opening a fragment maps it and verifies its checksum once; the [`FragmentCache`] keeps
//! opened files across versions of the same table handle, so a new version re-opens only its
//! new files.

use crate::served::{self, ServedRecall};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use oxvec_core::{Error, Result, RowId};
use oxvec_index::text::TextIndex;
use oxvec_index::{Calibration, NodeFilter, VectorIndex};
use oxvec_storage::{
    open_fragment_mapped, read_deletions, ColumnChecks, FragmentMeta, IndexMeta, Manifest, Mapping,
    TableDir,
};
use roaring::RoaringBitmap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// One fragment, mapped and verified, with its deletions as of the pinned version.
#[derive(Debug)]
pub struct LoadedFragment {
    pub meta: FragmentMeta,
    pub batches: Arc<Vec<RecordBatch>>,
    /// Row offset of each batch's first row within the fragment.
    pub starts: Vec<u32>,
    pub deleted: Option<Arc<RoaringBitmap>>,
    /// The file's map: a long pass over the fragment may let pages it is done with go.
    pub mapping: Mapping,
    /// The file's columns not checked yet (see [`Snapshot::fragments_reading`]).
    pub checks: ColumnChecks,
}

impl LoadedFragment {
    /// Row id of `row` within batch `b`.
    #[inline]
    pub fn row_id(&self, b: usize, row: usize) -> u64 {
        RowId::new(self.meta.id, self.starts[b] + row as u32).as_u64()
    }

    /// Whether the row at fragment offset `offset` is deleted.
    #[inline]
    pub fn is_deleted(&self, offset: u32) -> bool {
        self.deleted.as_ref().is_some_and(|d| d.contains(offset))
    }

    /// Checks the file's bytes of the table columns `columns` (each once per file).
    pub fn verify(&self, columns: &[String]) -> Result<()> {
        columns
            .iter()
            .try_for_each(|c| match self.meta.source_of(c) {
                Some(file_column) => self.checks.verify(file_column),
                None => Ok(()),
            })
    }
}

/// A fragment's decoded batches, the map they point into, and its columns to check.
type MappedBatches = (Arc<Vec<RecordBatch>>, Mapping, ColumnChecks);

/// Squared vector norms keyed by (fragment file, column index).
/// Keyed by data file and the file's column (a table column's name may point elsewhere
/// after a rename).
type NormsByColumn = HashMap<(String, String), Arc<Vec<f32>>>;

/// Opened files shared by every snapshot of one table handle.
#[derive(Debug, Default)]
pub struct FragmentCache {
    data: Mutex<HashMap<String, MappedBatches>>,
    deletions: Mutex<HashMap<String, Arc<RoaringBitmap>>>,
    /// Squared L2 norms of a fragment's vectors, by (file, column): cosine search reads them
    /// instead of recomputing every row's norm for every query.
    norms: Mutex<NormsByColumn>,
    indices: Mutex<IndexFiles>,
    texts: Mutex<TextFiles>,
    scalars: Mutex<HashMap<String, Arc<oxvec_index::scalar::ScalarIndex>>>,
}

impl FragmentCache {
    fn data(&self, dir: &TableDir, meta: &FragmentMeta) -> Result<MappedBatches> {
        if let Some(b) = self.data.lock().expect("cache lock").get(&meta.file) {
            return Ok(b.clone());
        }
        let f = open_fragment_mapped(&dir.data_dir().join(&meta.file), meta)?;
        let b = (Arc::new(f.batches), f.mapping, f.checks);
        self.data
            .lock()
            .expect("cache lock")
            .insert(meta.file.clone(), b.clone());
        Ok(b)
    }

    fn deletions(&self, dir: &TableDir, meta: &FragmentMeta) -> Result<Option<Arc<RoaringBitmap>>> {
        let Some(d) = &meta.deletion else {
            return Ok(None);
        };
        if let Some(b) = self.deletions.lock().expect("cache lock").get(&d.file) {
            return Ok(Some(b.clone()));
        }
        let bits = Arc::new(read_deletions(&dir.deletions_dir().join(&d.file), d)?);
        self.deletions
            .lock()
            .expect("cache lock")
            .insert(d.file.clone(), bits.clone());
        Ok(Some(bits))
    }

    /// Fragment `meta` with its deletions, opened (its metadata verified) on first use, its
    /// rows in the table schema `schema` of the version that lists it. Its columns are
    /// verified by [`LoadedFragment::verify`].
    pub fn load(
        &self,
        dir: &TableDir,
        meta: &FragmentMeta,
        schema: &SchemaRef,
    ) -> Result<LoadedFragment> {
        let (batches, mapping, checks) = self.data(dir, meta)?;
        let batches = as_table_rows(batches, meta, schema)?;
        let mut starts = Vec::with_capacity(batches.len());
        let mut at = 0u32;
        for b in batches.iter() {
            starts.push(at);
            at += b.num_rows() as u32;
        }
        Ok(LoadedFragment {
            meta: meta.clone(),
            batches,
            starts,
            deleted: self.deletions(dir, meta)?,
            mapping,
            checks,
        })
    }

    /// Squared norms of every vector in column `col` of `frag`, indexed by fragment offset.
    pub fn norms(&self, frag: &LoadedFragment, col: usize) -> Arc<Vec<f32>> {
        let column = frag
            .batches
            .first()
            .map(|b| b.schema().field(col).name().clone());
        let source = column
            .as_deref()
            .and_then(|c| frag.meta.source_of(c))
            .unwrap_or_default()
            .to_string();
        let key = (frag.meta.file.clone(), source);
        if let Some(n) = self.norms.lock().expect("cache lock").get(&key) {
            return n.clone();
        }
        let mut out = Vec::with_capacity(frag.meta.num_rows as usize);
        for batch in frag.batches.iter() {
            crate::query::squared_norms(batch.column(col), &mut out);
        }
        let n = Arc::new(out);
        self.norms
            .lock()
            .expect("cache lock")
            .insert(key, n.clone());
        n
    }

    /// Forgets files no longer referenced by `keep` (called when the handle moves versions).
    pub fn retain(&self, keep: &Manifest) {
        let files: std::collections::HashSet<&str> = keep
            .body
            .fragments
            .iter()
            .map(|f| f.file.as_str())
            .collect();
        let dels: std::collections::HashSet<&str> = keep
            .body
            .fragments
            .iter()
            .filter_map(|f| f.deletion.as_ref().map(|d| d.file.as_str()))
            .collect();
        self.data
            .lock()
            .expect("cache lock")
            .retain(|k, _| files.contains(k.as_str()));
        self.deletions
            .lock()
            .expect("cache lock")
            .retain(|k, _| dels.contains(k.as_str()));
        let idx: std::collections::HashSet<&str> =
            keep.body.indices.iter().map(|i| i.file.as_str()).collect();
        self.indices
            .lock()
            .expect("cache lock")
            .retain(|k, _| idx.contains(k.as_str()));
        self.texts
            .lock()
            .expect("cache lock")
            .retain(|k, _| idx.contains(k.as_str()));
        self.scalars
            .lock()
            .expect("cache lock")
            .retain(|k, _| idx.contains(k.as_str()));
    }
}

/// A version of a table, its fragments opened on first use.
#[derive(Debug)]
pub struct Snapshot {
    pub manifest: Arc<Manifest>,
    fragments: OnceLock<Vec<LoadedFragment>>,
    indices: OnceLock<Vec<Arc<OpenIndex>>>,
    /// Full-text indexes opened so far, by index name.
    texts: Mutex<HashMap<String, Arc<OpenText>>>,
}

impl Snapshot {
    /// A snapshot of `manifest`; nothing is opened yet.
    pub fn new(manifest: Manifest) -> Self {
        Snapshot {
            manifest: Arc::new(manifest),
            fragments: OnceLock::new(),
            indices: OnceLock::new(),
            texts: Mutex::new(HashMap::new()),
        }
    }

    /// The fragments, opened on first call, with every column verified.
    pub fn fragments(&self, dir: &TableDir, cache: &FragmentCache) -> Result<&[LoadedFragment]> {
        let frags = self.opened(dir, cache)?;
        frags.iter().try_for_each(|f| f.checks.verify_all())?;
        Ok(frags)
    }

    /// The fragments, opened on first call, with the table columns `columns` verified: the
    /// read that follows may read only those (a scan's projection and filter columns).
    pub fn fragments_reading(
        &self,
        dir: &TableDir,
        cache: &FragmentCache,
        columns: &[String],
    ) -> Result<&[LoadedFragment]> {
        let frags = self.opened(dir, cache)?;
        frags.iter().try_for_each(|f| f.verify(columns))?;
        Ok(frags)
    }

    fn opened(&self, dir: &TableDir, cache: &FragmentCache) -> Result<&[LoadedFragment]> {
        if let Some(f) = self.fragments.get() {
            return Ok(f);
        }
        let out = self
            .manifest
            .body
            .fragments
            .iter()
            .map(|meta| cache.load(dir, meta, &self.manifest.schema))
            .collect::<Result<Vec<_>>>()?;
        Ok(self.fragments.get_or_init(|| out))
    }
}

/// An index of a snapshot, opened (header only) on first use.
#[derive(Debug)]
pub struct OpenIndex {
    pub meta: IndexMeta,
    pub index: Arc<dyn VectorIndex>,
    /// The build-time recall curve.
    pub calibration: Option<Arc<Calibration>>,
    /// Recall measured on the queries this process served through the index file.
    pub served: Arc<ServedRecall>,
    /// Fragment id -> node of each row offset (`u32::MAX`: not in the index); keyed by the
    /// index file alone, so shared by every snapshot using it.
    reverse: ReverseMap,
    /// Nodes whose rows are live in this snapshot, when some are not (`None`: all are).
    live: OnceLock<Option<Arc<NodeFilter>>>,
}

impl OpenIndex {
    /// The recall curve knobs are chosen from: with `served`, the lower of the build-time
    /// and the served curves once served queries have been measured (see [`crate::served`]).
    pub fn calibration(&self, served: bool) -> Option<Arc<Calibration>> {
        let measured = if served { self.served.in_use() } else { None };
        measured.or_else(|| self.calibration.clone())
    }

    /// Fragment id -> node of each row offset, for every row the index file names. It
    /// depends on the index file alone (not on which fragments a snapshot has), so it is
    /// shared by every snapshot using the file.
    pub fn reverse(&self) -> Result<&HashMap<u32, Vec<u32>>> {
        if let Some(r) = self.reverse.get() {
            return Ok(r);
        }
        let map = reverse_map(self.index.row_ids()?);
        Ok(self.reverse.get_or_init(|| map))
    }

    /// Live-node filter of this snapshot without a query filter (cached).
    pub fn live(
        &self,
        compute: impl FnOnce() -> Result<Option<NodeFilter>>,
    ) -> Result<Option<Arc<NodeFilter>>> {
        if let Some(l) = self.live.get() {
            return Ok(l.clone());
        }
        let l = compute()?.map(Arc::new);
        Ok(self.live.get_or_init(|| l).clone())
    }
}

/// Fragment id -> node of each row offset (`u32::MAX`: not in the index), from an index's
/// node -> row id table.
pub fn reverse_map(rows: &[u64]) -> HashMap<u32, Vec<u32>> {
    let mut map: HashMap<u32, Vec<u32>> = HashMap::new();
    for (node, &row) in rows.iter().enumerate() {
        let row = RowId::from_u64(row);
        if row.is_tombstone() {
            continue;
        }
        let off = row.offset() as usize;
        let slots = map.entry(row.fragment()).or_default();
        if slots.len() <= off {
            slots.resize(off + 1, u32::MAX);
        }
        slots[off] = node as u32;
    }
    map
}

/// Fragment id -> node of each row offset, filled on first use.
type ReverseMap = Arc<OnceLock<HashMap<u32, Vec<u32>>>>;
/// An opened full-text index file with its reverse map (both depend on the file alone).
type TextFile = (Arc<TextIndex>, ReverseMap);
/// Opened full-text index files by file name.
type TextFiles = HashMap<String, TextFile>;
/// An opened index file with what depends on it alone.
#[derive(Debug, Clone)]
struct IndexFile {
    index: Arc<dyn VectorIndex>,
    reverse: ReverseMap,
    served: Arc<ServedRecall>,
}
/// Opened index files by file name.
type IndexFiles = HashMap<String, IndexFile>;

impl FragmentCache {
    fn index(&self, dir: &TableDir, meta: &IndexMeta) -> Result<IndexFile> {
        if let Some(i) = self.indices.lock().expect("cache lock").get(&meta.file) {
            return Ok(i.clone());
        }
        let path = dir.indices_dir().join(&meta.file);
        let index: Arc<dyn VectorIndex> =
            oxvec_index::open(&path, meta.file_size, meta.header_crc32c)?.into();
        let entry = IndexFile {
            index,
            reverse: Arc::new(OnceLock::new()),
            served: served::for_index(&dir.indices_dir(), meta),
        };
        self.indices
            .lock()
            .expect("cache lock")
            .insert(meta.file.clone(), entry.clone());
        Ok(entry)
    }
}

impl FragmentCache {
    fn text(&self, dir: &TableDir, meta: &IndexMeta) -> Result<TextFile> {
        if let Some(t) = self.texts.lock().expect("cache lock").get(&meta.file) {
            return Ok(t.clone());
        }
        let path = dir.indices_dir().join(&meta.file);
        let index = Arc::new(TextIndex::open(&path, meta.file_size, meta.header_crc32c)?);
        let entry = (index, Arc::new(OnceLock::new()));
        self.texts
            .lock()
            .expect("cache lock")
            .insert(meta.file.clone(), entry.clone());
        Ok(entry)
    }
}

/// A full-text index of a snapshot, opened (and every section checked) on first use.
#[derive(Debug)]
pub struct OpenText {
    pub meta: IndexMeta,
    pub index: Arc<TextIndex>,
    reverse: ReverseMap,
    /// Nodes whose rows are live in this snapshot, when some are not (`None`: all are).
    live: OnceLock<Option<Arc<NodeFilter>>>,
    /// The snapshot's rows the index does not cover, analysed on first search.
    tail: OnceLock<Arc<crate::query::text::Tail>>,
}

impl OpenText {
    pub(crate) fn tail_cell(&self) -> &OnceLock<Arc<crate::query::text::Tail>> {
        &self.tail
    }

    /// Fragment id -> node of each row offset (shared by every snapshot using the file).
    pub fn reverse(&self) -> Result<&HashMap<u32, Vec<u32>>> {
        if let Some(r) = self.reverse.get() {
            return Ok(r);
        }
        let map = reverse_map(self.index.row_ids()?);
        Ok(self.reverse.get_or_init(|| map))
    }

    /// Live-node filter of this snapshot without a query filter (cached).
    pub fn live(
        &self,
        compute: impl FnOnce() -> Result<Option<NodeFilter>>,
    ) -> Result<Option<Arc<NodeFilter>>> {
        if let Some(l) = self.live.get() {
            return Ok(l.clone());
        }
        let l = compute()?.map(Arc::new);
        Ok(self.live.get_or_init(|| l).clone())
    }
}

/// Whether `meta` records a full-text index (the other kinds are vector indexes).
pub fn is_text(meta: &IndexMeta) -> bool {
    meta.index_type == oxvec_index::text::index::KIND
}

impl Snapshot {
    /// The scalar index `meta` (one of this version's), opened (every section checked) on
    /// first use and cached by file.
    pub fn scalar_index(
        &self,
        dir: &TableDir,
        cache: &FragmentCache,
        meta: &IndexMeta,
    ) -> Result<Arc<oxvec_index::scalar::ScalarIndex>> {
        if let Some(i) = cache.scalars.lock().expect("cache lock").get(&meta.file) {
            i.file().check_size()?;
            return Ok(i.clone());
        }
        let path = dir.indices_dir().join(&meta.file);
        let ix = Arc::new(oxvec_index::scalar::ScalarIndex::open(
            &path,
            meta.file_size,
            meta.header_crc32c,
        )?);
        cache
            .scalars
            .lock()
            .expect("cache lock")
            .insert(meta.file.clone(), ix.clone());
        Ok(ix)
    }

    /// `w` compiled against this version's schema, narrowed by its scalar indexes.
    pub fn compile(
        &self,
        w: &oxvec_query::Where,
        dir: &TableDir,
        cache: &FragmentCache,
    ) -> Result<oxvec_query::Filter> {
        crate::scalar::narrow(w.compile(&self.manifest.schema)?, self, dir, cache)
    }

    /// The full-text index `meta` (one of this version's), opened on first use.
    pub fn text_index(
        &self,
        dir: &TableDir,
        cache: &FragmentCache,
        meta: &IndexMeta,
    ) -> Result<Arc<OpenText>> {
        if let Some(t) = self.texts.lock().expect("snapshot lock").get(&meta.name) {
            return Ok(t.clone());
        }
        let (index, reverse) = cache.text(dir, meta)?;
        let open = Arc::new(OpenText {
            meta: meta.clone(),
            index,
            reverse,
            live: OnceLock::new(),
            tail: OnceLock::new(),
        });
        self.texts
            .lock()
            .expect("snapshot lock")
            .insert(meta.name.clone(), open.clone());
        Ok(open)
    }

    /// The index on `column`, if this version has one.
    pub fn index_on(
        &self,
        dir: &TableDir,
        cache: &FragmentCache,
        column: &str,
    ) -> Result<Option<Arc<OpenIndex>>> {
        Ok(self
            .indices(dir, cache)?
            .iter()
            .find(|i| i.meta.column == column)
            .cloned())
    }

    /// Every vector index of this version, opened.
    pub fn indices(&self, dir: &TableDir, cache: &FragmentCache) -> Result<&[Arc<OpenIndex>]> {
        if let Some(i) = self.indices.get() {
            return Ok(i);
        }
        let mut out = Vec::new();
        for meta in self
            .manifest
            .body
            .indices
            .iter()
            .filter(|m| !is_text(m) && !crate::scalar::is_scalar(m))
        {
            let file = cache.index(dir, meta)?;
            out.push(Arc::new(OpenIndex {
                meta: meta.clone(),
                index: file.index,
                calibration: serde_json::from_value(meta.calibration.clone())
                    .ok()
                    .map(Arc::new),
                served: file.served,
                reverse: file.reverse,
                live: OnceLock::new(),
            }));
        }
        Ok(self.indices.get_or_init(|| out))
    }
}

/// `batches` of `meta`'s file as rows of the table schema `schema`: each column read from
/// the file column the fragment's `columns` map names (its own name by default), or nulls
/// where the fragment holds none. Files written with exactly the schema pass through.
fn as_table_rows(
    batches: Arc<Vec<RecordBatch>>,
    meta: &FragmentMeta,
    schema: &SchemaRef,
) -> Result<Arc<Vec<RecordBatch>>> {
    let Some(first) = batches.first() else {
        return Ok(batches);
    };
    if meta.columns.is_empty() && first.schema().fields() == schema.fields() {
        return Ok(batches);
    }
    let out = batches
        .iter()
        .map(|b| {
            let cols = schema
                .fields()
                .iter()
                .map(|f| match meta.source_of(f.name()) {
                    Some(name) => b.column_by_name(name).cloned().ok_or_else(|| {
                        Error::corrupt(
                            &meta.file,
                            format!(
                                "fragment {} has no column '{name}' (for '{}')",
                                meta.id,
                                f.name()
                            ),
                        )
                    }),
                    None => Ok(arrow::array::new_null_array(f.data_type(), b.num_rows())),
                })
                .collect::<Result<Vec<_>>>()?;
            RecordBatch::try_new_with_options(
                schema.clone(),
                cols,
                &arrow::array::RecordBatchOptions::new().with_row_count(Some(b.num_rows())),
            )
            .map_err(|e| {
                Error::corrupt(
                    &meta.file,
                    format!("fragment {} does not fit the table schema: {e}", meta.id),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(out))
}
