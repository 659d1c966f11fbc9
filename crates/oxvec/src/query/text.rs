//! Full-text queries: planned once from one pinned snapshot, like vector queries.
//!
//! [`plan_text`] picks the full-text index covering the query's columns, compiles the
//! filter, and prepares both parts of the search: the index file (its nodes filtered to
//! live, matching rows) and the *tail*, the live rows of fragments added since the build,
//! analysed at query time into an in-memory index with the same analyzer (cached for the
//! snapshot). Each part is scored with the other's statistics joined in, so their scores
//! compare and the two top lists merge into the answer one index over every row would
//! give. A damaged index file is searched around: every row becomes tail, with a warning.

use super::assemble::gather;
use super::plan::{allowed_nodes, index_unreadable, masked_rows, row_masks, Masks, Sources};
use super::MAX_K;
use crate::scan::project;
use crate::snapshot::{is_text, LoadedFragment, OpenText, Snapshot};
use crate::table::TextParams;
use crate::texts::{text_columns, FragmentTexts};
use arrow::array::{ArrayRef, Float32Array, RecordBatch, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use oxvec_core::{CancelToken, Error, Result};
use oxvec_index::text::{build_text_index, Bm25Params, Hit, Operator, TextIndex, TextQuery};
use oxvec_index::NodeFilter;
use oxvec_query::Where;
use oxvec_storage::IndexMeta;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

/// A full-text search request.
#[derive(Debug, Clone)]
pub struct TextSearch {
    pub query: TextQuery,
    pub k: usize,
    /// Results skipped before the first returned (pagination).
    pub offset: usize,
    /// Compiled against the schema of the version the query runs on.
    pub filter: Option<Where>,
    pub columns: Option<Vec<String>>,
    pub with_row_id: bool,
    pub params: Bm25Params,
}

/// The unindexed rows of a snapshot, analysed into an in-memory index.
#[derive(Debug)]
pub struct Tail {
    /// `None`: no unindexed rows.
    pub index: Option<TextIndex>,
    /// Ids of the fragments whose live rows it holds, in node order.
    pub fragments: Vec<u32>,
}

/// Everything a full-text query will do, decided from one snapshot.
pub struct TextPlan<'a> {
    pub version: u64,
    pub index_name: String,
    pub index_columns: Vec<String>,
    pub k: usize,
    pub offset: usize,
    pub filter: Option<String>,
    /// How scalar indexes narrowed the filter, when they did.
    pub filter_index: Option<String>,
    pub live_rows: u64,
    pub matching_rows: Option<u64>,
    /// Live rows analysed at query time (fragments the index does not cover, or every row
    /// when the index cannot be read).
    pub unindexed_rows: u64,
    /// Output columns before `_score`.
    pub columns: Vec<String>,
    pub warnings: Vec<String>,

    query: &'a TextQuery,
    params: Bm25Params,
    frags: &'a [LoadedFragment],
    proj: Vec<usize>,
    out_schema: SchemaRef,
    with_row_id: bool,
    /// The index file and the nodes it may return (`None`: all); absent when unreadable.
    indexed: Option<(Arc<OpenText>, Option<Arc<NodeFilter>>)>,
    tail: Arc<Tail>,
    tail_nodes: Option<NodeFilter>,
}

/// The schema of full-text results: the projected columns, `_score`, then `_rowid`.
pub fn text_result_schema(schema: &Schema, proj: &[usize], with_row_id: bool) -> SchemaRef {
    let mut fields: Vec<Field> = proj.iter().map(|&i| schema.field(i).clone()).collect();
    fields.push(Field::new("_score", DataType::Float32, false));
    if with_row_id {
        fields.push(Field::new("_rowid", DataType::UInt64, false));
    }
    Arc::new(Schema::new(fields))
}

/// Columns a query names (none: it searches every column of its index).
fn named_columns(q: &TextQuery, out: &mut Vec<String>) {
    let mut push = |c: &str| {
        if !out.iter().any(|o| o == c) {
            out.push(c.to_string());
        }
    };
    match q {
        TextQuery::Match { column, .. } | TextQuery::Phrase { column, .. } => {
            if let Some(c) = column {
                push(c);
            }
        }
        TextQuery::MultiMatch { columns, .. } => columns.iter().for_each(|(c, _)| push(c)),
        TextQuery::Boolean {
            must,
            should,
            must_not,
        } => {
            for q in must.iter().chain(should).chain(must_not) {
                named_columns(q, out);
            }
        }
    }
}

/// The full-text index covering every column `q` names (the only one, if it names none).
fn choose_index<'m>(indices: &'m [IndexMeta], q: &TextQuery, table: &str) -> Result<&'m IndexMeta> {
    let texts: Vec<&IndexMeta> = indices.iter().filter(|i| is_text(i)).collect();
    let mut named = Vec::new();
    named_columns(q, &mut named);
    if texts.is_empty() {
        return Err(Error::invalid(format!(
            "table '{table}' has no full-text index; build one with create_fts_index(column)"
        )));
    }
    if named.is_empty() {
        return match texts.as_slice() {
            [one] => Ok(one),
            many => Err(Error::invalid(format!(
                "table '{table}' has several full-text indexes ({}); name the column to search \
                 (fts_columns=, or a MatchQuery with a column)",
                many.iter()
                    .map(|i| format!("'{}' on {:?}", i.name, i.indexed_columns()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        };
    }
    texts
        .iter()
        .find(|i| {
            let cols = i.indexed_columns();
            named.iter().all(|n| cols.contains(&n.as_str()))
        })
        .copied()
        .ok_or_else(|| {
            Error::invalid(format!(
                "no full-text index covers column(s) {named:?} together (indexes: {}); build \
                 one with create_fts_index",
                texts
                    .iter()
                    .map(|i| format!("'{}' on {:?}", i.name, i.indexed_columns()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// Plans `q` over `snap` (whose fragments are `frags`).
pub(crate) fn plan_text<'a>(
    snap: &'a Snapshot,
    frags: &'a [LoadedFragment],
    src: &Sources<'_>,
    q: &'a TextSearch,
    table: &str,
) -> Result<TextPlan<'a>> {
    q.params.check()?;
    if q.k == 0 || q.k > MAX_K {
        return Err(Error::invalid(format!(
            "limit must be between 1 and {MAX_K}, got {}",
            q.k
        )));
    }
    if q.offset > MAX_K {
        return Err(Error::invalid(format!(
            "offset must be at most {MAX_K}, got {}",
            q.offset
        )));
    }
    let schema = snap.manifest.schema.clone();
    let meta = choose_index(&snap.manifest.body.indices, &q.query, table)?;
    let params = TextParams::of(meta)?;
    let cols = text_columns(&schema, &params.columns)?;
    let proj = project(&schema, q.columns.as_deref(), "select")?;
    let out_schema = text_result_schema(&schema, &proj, q.with_row_id);
    let filter = q
        .filter
        .as_ref()
        .map(|w| snap.compile(w, src.dir, src.cache))
        .transpose()?;
    let mut warnings = Vec::new();
    // The index file, or why it cannot be read (then every row is searched as tail).
    let opened = match snap.text_index(src.dir, src.cache, meta) {
        Ok(o) => match o.index.file().check_size() {
            Ok(()) => Ok(o),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    let open = match opened {
        Ok(o) => Some(o),
        Err(e) if index_unreadable(&e, None) => {
            warnings.push(format!(
                "full-text index '{}' cannot be read ({e}); analysing every row at query time \
                 until it is dropped or rebuilt (create_fts_index(replace=True))",
                meta.name
            ));
            None
        }
        Err(e) => return Err(e),
    };
    let covered: HashSet<u32> = match &open {
        Some(_) => meta.fragment_ids.iter().copied().collect(),
        None => HashSet::new(),
    };
    let parallel = filter.is_some() && snap.manifest.live_rows() >= 1 << 16;
    let masks: Masks = match &filter {
        Some(f) => row_masks(frags, Some(f), parallel, &|_| true)?,
        None => row_masks(frags, None, false, &|_| true)?,
    };
    let tail = match &open {
        Some(o) => o.tail(|| build_tail(frags, &cols, &params, &covered))?,
        None => Arc::new(build_tail(frags, &cols, &params, &covered)?),
    };
    let tail_nodes = match (&tail.index, &filter) {
        (Some(t), Some(_)) => Some(tail_filter(frags, &tail.fragments, t.len(), &masks)),
        _ => None,
    };
    let indexed = match open {
        Some(o) => {
            let nodes = index_nodes(frags, &o, filter.is_some(), &masks, &covered)?;
            Some((o, nodes))
        }
        None => None,
    };
    let unindexed_rows = frags
        .iter()
        .filter(|f| !covered.contains(&f.meta.id))
        .map(|f| f.meta.live_rows())
        .sum();
    Ok(TextPlan {
        version: snap.manifest.version,
        index_name: meta.name.clone(),
        index_columns: params.columns.clone(),
        k: q.k,
        offset: q.offset,
        filter: filter.as_ref().map(|f| f.text.clone()),
        filter_index: filter
            .as_ref()
            .and_then(|f| f.prefilter.as_ref().map(|p| p.describe())),
        live_rows: snap.manifest.live_rows(),
        matching_rows: filter.as_ref().map(|_| masked_rows(frags, &masks)),
        unindexed_rows,
        columns: proj
            .iter()
            .map(|&i| schema.field(i).name().clone())
            .collect(),
        warnings,
        query: &q.query,
        params: q.params,
        frags,
        proj,
        out_schema,
        with_row_id: q.with_row_id,
        indexed,
        tail,
        tail_nodes,
    })
}

/// The live rows of fragments not in `covered`, analysed as `params` say.
fn build_tail(
    frags: &[LoadedFragment],
    cols: &[usize],
    params: &TextParams,
    covered: &HashSet<u32>,
) -> Result<Tail> {
    let new: Vec<&LoadedFragment> = frags
        .iter()
        .filter(|f| !covered.contains(&f.meta.id))
        .collect();
    let fragments = new.iter().map(|f| f.meta.id).collect();
    let rows = FragmentTexts::new(&new, cols);
    if oxvec_index::text::TextSource::is_empty(&rows) {
        return Ok(Tail {
            index: None,
            fragments,
        });
    }
    let (bytes, crc) = build_text_index(
        &rows,
        &params.columns,
        rows.row_ids(),
        &params.analyzer,
        params.with_position,
        &CancelToken::new(),
    )?;
    Ok(Tail {
        index: Some(TextIndex::in_memory("unindexed rows", &bytes, crc)?),
        fragments,
    })
}

/// Tail nodes whose rows pass the filter (the tail holds live rows only, in fragment
/// order, so node numbers follow the masks' set bits of its fragments).
fn tail_filter(
    frags: &[LoadedFragment],
    tail_frags: &[u32],
    len: usize,
    masks: &Masks,
) -> NodeFilter {
    let mut nf = NodeFilter::none(len);
    let mut node = 0u32;
    for (fi, f) in frags.iter().enumerate() {
        if !tail_frags.contains(&f.meta.id) {
            continue;
        }
        for (b, batch) in f.batches.iter().enumerate() {
            for r in 0..batch.num_rows() {
                if f.is_deleted(f.starts[b] + r as u32) {
                    continue;
                }
                let pass = masks[fi][b].as_ref().is_none_or(|m| m.value(r));
                if pass && (node as usize) < len {
                    nf.set(node, true);
                }
                node += 1;
            }
        }
    }
    nf
}

/// Index nodes that may be returned: `None` when every node is a live row and there is no
/// filter (cached per snapshot).
fn index_nodes(
    frags: &[LoadedFragment],
    open: &OpenText,
    has_filter: bool,
    masks: &Masks,
    covered: &HashSet<u32>,
) -> Result<Option<Arc<NodeFilter>>> {
    let len = open.index.len();
    let compute = || -> Result<Option<NodeFilter>> {
        let present: HashSet<u32> = frags.iter().map(|f| f.meta.id).collect();
        let clean = covered.iter().all(|id| present.contains(id))
            && !frags
                .iter()
                .any(|f| covered.contains(&f.meta.id) && f.deleted.is_some())
            && open.meta.tombstones == 0
            && open.meta.num_nodes as usize == len;
        if !has_filter && clean {
            return Ok(None);
        }
        Ok(Some(allowed_nodes(
            frags,
            open.reverse()?,
            len,
            has_filter,
            masks,
        )))
    };
    if has_filter {
        Ok(compute()?.map(Arc::new))
    } else {
        open.live(compute)
    }
}

/// Runs a planned full-text query: results sorted by `_score` descending (ties: row id).
pub fn execute_text(plan: &TextPlan<'_>, cancel: &CancelToken) -> Result<RecordBatch> {
    let want = plan.k.saturating_add(plan.offset);
    let tail = plan.tail.index.as_ref();
    let mut hits: Vec<(f32, u64)> = Vec::new();
    let mut take = |found: Vec<Hit>, rows: &[u64]| {
        hits.extend(
            found
                .into_iter()
                .filter_map(|h| rows.get(h.node as usize).map(|&r| (h.score, r))),
        );
    };
    if let Some((open, nodes)) = &plan.indexed {
        let idx = &open.index;
        let found = idx.search_joined(
            plan.query,
            want,
            &plan.params,
            nodes.as_deref(),
            tail,
            cancel,
        )?;
        take(found, idx.row_ids()?);
    }
    cancel.check()?;
    if let Some(t) = tail {
        let peer = plan.indexed.as_ref().map(|(o, _)| o.index.as_ref());
        let found = t.search_joined(
            plan.query,
            want,
            &plan.params,
            plan.tail_nodes.as_ref(),
            peer,
            cancel,
        )?;
        take(found, t.row_ids()?);
    }
    hits.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let page: Vec<(f32, u64)> = hits.into_iter().skip(plan.offset).take(plan.k).collect();
    let ids: Vec<u64> = page.iter().map(|h| h.1).collect();
    let mut cols: Vec<ArrayRef> = gather(plan.frags, &plan.proj, &plan.out_schema, &ids)?;
    cols.push(Arc::new(Float32Array::from_iter_values(
        page.iter().map(|h| h.0),
    )));
    if plan.with_row_id {
        cols.push(Arc::new(UInt64Array::from(ids)));
    }
    RecordBatch::try_new(plan.out_schema.clone(), cols)
        .map_err(|e| Error::internal("assembling the full-text result", e))
}

impl OpenText {
    /// The snapshot's tail, built on first use.
    pub(crate) fn tail(&self, build: impl FnOnce() -> Result<Tail>) -> Result<Arc<Tail>> {
        if let Some(t) = self.tail_cell().get() {
            return Ok(t.clone());
        }
        let t = Arc::new(build()?);
        Ok(self.tail_cell().get_or_init(|| t).clone())
    }
}

/// How a query reads in `explain()`.
fn describe(q: &TextQuery) -> String {
    let op = |o: &Operator| match o {
        Operator::Or => "any word",
        Operator::And => "every word",
    };
    let col = |c: &Option<String>| {
        c.as_ref()
            .map_or("every column".to_string(), |c| format!("'{c}'"))
    };
    match q {
        TextQuery::Match {
            column,
            text,
            operator,
            fuzziness,
            boost,
            ..
        } => {
            let mut s = format!("match {text:?} in {} ({})", col(column), op(operator));
            if *fuzziness > 0 {
                s += &format!(", fuzziness {fuzziness}");
            }
            if *boost != 1.0 {
                s += &format!(", boost {boost}");
            }
            s
        }
        TextQuery::Phrase {
            column, text, slop, ..
        } => format!("phrase {text:?} in {}, slop {slop}", col(column)),
        TextQuery::MultiMatch {
            text,
            columns,
            operator,
        } => format!(
            "match {text:?} in {} ({})",
            columns
                .iter()
                .map(|(c, b)| format!("'{c}'^{b}"))
                .collect::<Vec<_>>()
                .join(", "),
            op(operator)
        ),
        TextQuery::Boolean {
            must,
            should,
            must_not,
        } => {
            let list = |v: &[TextQuery]| v.iter().map(describe).collect::<Vec<_>>().join("; ");
            let mut parts = Vec::new();
            if !must.is_empty() {
                parts.push(format!("must [{}]", list(must)));
            }
            if !should.is_empty() {
                parts.push(format!("should [{}]", list(should)));
            }
            if !must_not.is_empty() {
                parts.push(format!("must not [{}]", list(must_not)));
            }
            format!("boolean {}", parts.join(", "))
        }
    }
}

impl fmt::Display for TextPlan<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "full-text search on version {}: index '{}' (FTS) on {:?}, BM25 k1={} b={}, k={}{}",
            self.version,
            self.index_name,
            self.index_columns,
            self.params.k1,
            self.params.b,
            self.k,
            if self.offset > 0 {
                format!(", offset {}", self.offset)
            } else {
                String::new()
            }
        )?;
        writeln!(f, "  query: {}", describe(self.query))?;
        match &self.indexed {
            Some(_) => writeln!(
                f,
                "  path: index '{}' (block-max WAND for single-column matches)",
                self.index_name
            )?,
            None => writeln!(
                f,
                "  path: every row analysed at query time (the index cannot be read)"
            )?,
        }
        if self.unindexed_rows > 0 && self.indexed.is_some() {
            writeln!(
                f,
                "  unindexed rows: {} (added since the build) analysed at query time and scored with the index",
                self.unindexed_rows
            )?;
        }
        match &self.filter {
            None => writeln!(f, "  filter: none")?,
            Some(sql) => {
                let matching = self.matching_rows.unwrap_or(0);
                let pct = 100.0 * matching as f64 / self.live_rows.max(1) as f64;
                writeln!(
                    f,
                    "  filter: {sql} ({matching} of {} live rows match, {pct:.1}%); non-matching rows are skipped",
                    self.live_rows
                )?;
                if let Some(ix) = &self.filter_index {
                    writeln!(f, "  filter index: {ix}")?;
                }
            }
        }
        let mut cols = self.columns.clone();
        cols.push("_score".into());
        if self.with_row_id {
            cols.push("_rowid".into());
        }
        write!(f, "  output: {}", cols.join(", "))
    }
}
