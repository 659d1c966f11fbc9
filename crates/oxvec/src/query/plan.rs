//! Query planning: every decision a vector query makes, taken once, from one snapshot.
//!
//! [`plan`] resolves the vector column and the metric, compiles the filter against the
//! snapshot's own schema, chooses the path (a vector index, or exact search and why), the
//! filter strategy and the index knobs, and prepares what execution reads (row masks, the
//! index's node filter, cached norms). Execution (`exact`, `ann`) decides nothing. A plan
//! prints as the text of `Query.explain()`.
//!
//! The rules, in order:
//! 1. No index on the column, `bypass_vector_index()`, or a query metric other than the
//!    index's: exact search. The index's metric is the column's default metric either way,
//!    so a bypassed search is the exact answer to the same question.
//! 2. A filter matching under [`EXACT_MAX_FRACTION`] of the indexed rows, or few enough that
//!    exact search over them costs under [`EXACT_MAX_FLOPS`]: exact search over the matching
//!    rows (faster than a graph walk through mostly rejected nodes, and exact).
//! 3. Otherwise the index, skipping nodes whose rows are deleted or filtered out, its beam
//!    or probe count widened for the filter's selectivity; rows of fragments the index does
//!    not cover (added since the build) are searched exactly and merged.

use super::{resolve_vector_column, VectorQuery, MAX_K};
use crate::scan::{project, row_mask};
use crate::snapshot::{FragmentCache, LoadedFragment, OpenIndex, Snapshot};
use arrow::array::BooleanArray;
use arrow::datatypes::SchemaRef;
use oxvec_core::{Error, Metric, Result};
use oxvec_index::{NodeFilter, DEFAULT_RECALL};
use oxvec_query::Filter;
use oxvec_storage::{IndexMeta, TableDir};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

/// A filter matching at most this many rows x dimensions is served by exact search.
pub const EXACT_MAX_FLOPS: usize = 6 << 20;
/// ... as is one matching under this fraction of the indexed rows.
pub const EXACT_MAX_FRACTION: f32 = 0.02;
/// Below this many multiply-adds (rows x dim x queries) work runs on the calling thread.
pub(crate) const PARALLEL_MIN_FLOPS: usize = 1 << 20;

/// Row masks per fragment and batch (`None`: every row counts).
pub(crate) type Masks = Vec<Vec<Option<BooleanArray>>>;

/// Where the query's metric came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricSource {
    /// Set on the query.
    Query,
    /// The metric of the column's index.
    Index,
    /// L2, the default for a column without an index.
    Default,
}

/// Why a query searches exactly.
#[derive(Debug, Clone, PartialEq)]
pub enum ExactReason {
    /// The column has no vector index.
    NoIndex,
    /// `bypass_vector_index()` was asked.
    Bypassed { index: String },
    /// The query's metric is not the index's.
    MetricMismatch { index: String, index_metric: String },
    /// The filter matches few rows: exact search over them is cheaper (rule 2).
    SelectiveFilter { index: String },
    /// The index file cannot be read (damaged or missing): exact search until it is dropped
    /// or rebuilt, with a warning.
    IndexUnreadable { index: String, error: String },
}

/// How the index's search knob was chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KnobSource {
    /// `ef(n)` / `nprobes(n)` on the query.
    Query,
    /// The smallest setting the index's recall curve measured to reach this recall@10; the
    /// curve includes served queries' recall when `served` (see `crate::served`).
    Calibrated { target_recall: f32, served: bool },
    /// The index has no calibration: a fixed default.
    Default,
}

/// The path a query takes.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchPath {
    Exact {
        reason: ExactReason,
    },
    Index {
        name: String,
        /// `HNSW`, `IVF_PQ`, `IVF_RQ`.
        kind: String,
        /// `ef` or `nprobes`.
        param_name: &'static str,
        /// The setting used, after widening for the filter.
        param: usize,
        knob_source: KnobSource,
        /// Candidates re-ranked with the stored vectors, per query.
        rerank: usize,
    },
}

/// How the filter (and deleted rows) are applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FilterStrategy {
    /// No filter.
    None,
    /// The filter is evaluated first and only matching rows are searched, exactly.
    ExactOverMatches,
    /// The index search skips non-matching nodes; its knob was widened from `widened_from`
    /// because only `selectivity` of the indexed rows match.
    IndexSkipsNonMatching {
        selectivity: f32,
        widened_from: usize,
    },
}

/// The index side of a plan that searches an index.
pub(crate) struct IndexPart {
    pub open: Arc<OpenIndex>,
    pub covered: HashSet<u32>,
    /// Nodes that may be returned; `None`: all.
    pub nodes: Option<Arc<NodeFilter>>,
    pub param: usize,
    pub rerank: usize,
}

/// Everything a vector query will do, decided from one snapshot.
pub struct Plan<'a> {
    /// The version searched.
    pub version: u64,
    pub vector_column: String,
    pub dim: usize,
    pub metric: Metric,
    pub metric_source: MetricSource,
    pub k: usize,
    pub num_queries: usize,
    /// Output columns before `_distance`.
    pub columns: Vec<String>,
    /// The filter's SQL text.
    pub filter: Option<String>,
    /// How scalar indexes narrowed the filter, when they did.
    pub filter_index: Option<String>,
    pub path: SearchPath,
    pub filter_strategy: FilterStrategy,
    /// Live rows of the version.
    pub live_rows: u64,
    /// Live rows passing the filter (when there is one).
    pub matching_rows: Option<u64>,
    /// Live rows of fragments the chosen index does not cover (searched exactly).
    pub unindexed_rows: u64,
    /// Rows whose distance is computed: exactly scanned rows plus the index's estimate.
    pub estimated_rows_scanned: u64,

    pub(crate) frags: &'a [LoadedFragment],
    pub(crate) col: usize,
    pub(crate) proj: Vec<usize>,
    pub(crate) out_schema: SchemaRef,
    pub(crate) vectors: &'a [f32],
    pub(crate) qnorms: Vec<f32>,
    pub(crate) with_row_id: bool,
    pub(crate) with_query_index: bool,
    pub(crate) masks: Masks,
    /// Cached squared row norms per fragment (cosine exact search only).
    pub(crate) norms: Option<Vec<Arc<Vec<f32>>>>,
    pub(crate) index: Option<IndexPart>,
    /// What the caller should be told (a damaged index searched around).
    pub warnings: Vec<String>,
}

/// Where the snapshot's files come from.
pub(crate) struct Sources<'a> {
    pub dir: &'a TableDir,
    pub cache: &'a FragmentCache,
    /// Whether served-query recall may choose index knobs (`monitor_recall`).
    pub served_recall: bool,
}

/// Plans `q` over `snap` (whose fragments are `frags`).
pub(crate) fn plan<'a>(
    snap: &'a Snapshot,
    frags: &'a [LoadedFragment],
    src: &Sources<'_>,
    q: &'a VectorQuery,
) -> Result<Plan<'a>> {
    plan_around(snap, frags, src, q, None)
}

/// Whether `e` says an index file is damaged or gone (and `file`'s, when given): exact search
/// still answers.
pub(crate) fn index_unreadable(e: &Error, file: Option<&std::path::Path>) -> bool {
    let (path, unreadable) = match e {
        Error::CorruptFile { path, .. } => (path, true),
        Error::Storage { path, source } => (path, source.kind() == std::io::ErrorKind::NotFound),
        _ => return false,
    };
    unreadable && file.is_none_or(|f| f == path)
}

/// [`plan`], searching exactly with a warning when `unreadable` says the column's index failed
/// while a search read it (sections are checked when first read, after planning).
pub(crate) fn plan_around<'a>(
    snap: &'a Snapshot,
    frags: &'a [LoadedFragment],
    src: &Sources<'_>,
    q: &'a VectorQuery,
    unreadable: Option<&Error>,
) -> Result<Plan<'a>> {
    let schema = snap.manifest.schema.clone();
    let (col, dim) = resolve_vector_column(&schema, q.column.as_deref())?;
    check_query(q, dim, schema.field(col).name())?;
    let proj = project(&schema, q.columns.as_deref(), "select")?;
    let with_query_index = q.with_query_index || q.num_queries > 1;
    let out_schema = super::result_schema(&schema, &proj, q.with_row_id, with_query_index);
    let filter = q
        .filter
        .as_ref()
        .map(|w| snap.compile(w, src.dir, src.cache))
        .transpose()?;
    let vector_column = schema.field(col).name().clone();

    let meta = snap
        .manifest
        .body
        .indices
        .iter()
        .find(|i| i.column == vector_column && !crate::snapshot::is_text(i));
    let (metric, metric_source) = match (q.metric, meta) {
        (Some(m), _) => (m, MetricSource::Query),
        (None, Some(i)) => (Metric::parse(&i.metric)?, MetricSource::Index),
        (None, None) => (Metric::L2, MetricSource::Default),
    };
    // Rule 1, decided from the manifest alone: an exact search never opens the index file.
    let exact_reason = match meta {
        None => Some(ExactReason::NoIndex),
        Some(i) if q.bypass_index => Some(ExactReason::Bypassed {
            index: i.name.clone(),
        }),
        Some(i) if i.metric != metric.name() => Some(ExactReason::MetricMismatch {
            index: i.name.clone(),
            index_metric: i.metric.clone(),
        }),
        Some(_) => None,
    };
    let live_rows = snap.manifest.live_rows();
    let qnorms = q
        .vectors
        .chunks_exact(dim)
        .map(|v| v.iter().map(|x| x * x).sum())
        .collect();
    let mut plan = Plan {
        version: snap.manifest.version,
        vector_column,
        dim,
        metric,
        metric_source,
        k: q.k,
        num_queries: q.num_queries,
        columns: proj
            .iter()
            .map(|&i| schema.field(i).name().clone())
            .collect(),
        filter: filter.as_ref().map(|f| f.text.clone()),
        filter_index: filter
            .as_ref()
            .and_then(|f| f.prefilter.as_ref().map(|p| p.describe())),
        path: SearchPath::Exact {
            reason: ExactReason::NoIndex,
        },
        filter_strategy: if filter.is_some() {
            FilterStrategy::ExactOverMatches
        } else {
            FilterStrategy::None
        },
        live_rows,
        matching_rows: None,
        unindexed_rows: 0,
        estimated_rows_scanned: 0,
        frags,
        col,
        proj,
        out_schema,
        vectors: &q.vectors,
        qnorms,
        with_row_id: q.with_row_id,
        with_query_index,
        masks: Vec::new(),
        norms: None,
        index: None,
        warnings: Vec::new(),
    };
    let work = usize::try_from(live_rows)
        .unwrap_or(usize::MAX)
        .saturating_mul(dim)
        .saturating_mul(q.num_queries);
    let parallel = work >= PARALLEL_MIN_FLOPS;
    match (exact_reason, meta) {
        (None, Some(meta)) => {
            let planned = match unreadable {
                Some(e) => Err(e.to_string()),
                None => {
                    match plan_index(&mut plan, snap, src, meta, q, filter.as_ref(), parallel) {
                        Ok(()) => Ok(()),
                        Err(e) if index_unreadable(&e, None) => Err(e.to_string()),
                        Err(e) => return Err(e),
                    }
                }
            };
            if let Err(e) = planned {
                // Degrade, don't block: a damaged index file costs speed, not answers.
                plan.warnings.push(format!(
                    "index '{}' cannot be read ({e}); searching exactly until it is dropped or \
                     rebuilt (create_index(replace=True))",
                    meta.name
                ));
                plan.path = SearchPath::Exact {
                    reason: ExactReason::IndexUnreadable {
                        index: meta.name.clone(),
                        error: e,
                    },
                };
                plan.index = None;
                plan.unindexed_rows = 0;
                plan.masks = row_masks(frags, filter.as_ref(), parallel, &|_| true)?;
            }
        }
        (reason, _) => {
            plan.path = SearchPath::Exact {
                reason: reason.unwrap_or(ExactReason::NoIndex),
            };
            plan.masks = row_masks(frags, filter.as_ref(), parallel, &|_| true)?;
        }
    }
    if filter.is_some() {
        plan.matching_rows = Some(count_masked(&plan));
    }
    let exact_rows = match &plan.path {
        SearchPath::Exact { .. } => plan.matching_rows.unwrap_or(live_rows),
        SearchPath::Index { .. } => plan.unindexed_rows,
    };
    let index_rows = plan.index.as_ref().map_or(0, |i| {
        i.open
            .index
            .estimate_visited(i.param)
            .saturating_add(i.rerank) as u64
    });
    plan.estimated_rows_scanned =
        (exact_rows.saturating_add(index_rows)).saturating_mul(q.num_queries as u64);
    let exact_part = plan.index.is_none() || plan.unindexed_rows > 0;
    // Tiled queries compute L2 from dot products, which needs the row norms too.
    let tiled_l2 = metric == Metric::L2 && q.num_queries >= super::exact::TILE_MIN_QUERIES;
    if exact_part && (metric == Metric::Cosine || tiled_l2) {
        // Cached after the first cosine query; a parallel map here would cost a pool wake-up
        // on every query for a lookup.
        plan.norms = Some(frags.iter().map(|f| src.cache.norms(f, col)).collect());
    }
    Ok(plan)
}

/// Rules 2 and 3 for a column whose index matches the query's metric.
fn plan_index(
    plan: &mut Plan<'_>,
    snap: &Snapshot,
    src: &Sources<'_>,
    meta: &IndexMeta,
    q: &VectorQuery,
    filter: Option<&Filter>,
    parallel: bool,
) -> Result<()> {
    let open = snap
        .index_on(src.dir, src.cache, &meta.column)?
        .ok_or_else(|| Error::internal("index lookup", format!("'{}' not opened", meta.name)))?;
    let index = &open.index;
    // Opened (and cached) earlier: damaged in place since, it must not be read.
    index.file().check_size()?;
    // The index's own knob, and another kind's (which it cannot use).
    let own_knob = q.knobs.get(index.param_name());
    if let Some(knob) = q.knobs.others_set(index.param_name()).first() {
        return Err(Error::invalid(format!(
            "{knob} does not apply to index '{}' ({}); its search knob is {}",
            meta.name,
            meta.index_type,
            index.param_name()
        )));
    }
    let covered: HashSet<u32> = meta.fragment_ids.iter().copied().collect();
    let frags = plan.frags;
    // Without a filter, covered fragments need no masks: their deletions are in the
    // snapshot's cached node filter.
    plan.masks = match filter {
        Some(_) => row_masks(frags, filter, parallel, &|_| true)?,
        None => row_masks(frags, None, parallel, &|f| !covered.contains(&f.meta.id))?,
    };
    plan.unindexed_rows = frags
        .iter()
        .filter(|f| !covered.contains(&f.meta.id))
        .map(|f| f.meta.live_rows())
        .sum();
    let nodes = node_filter(frags, &open, filter.is_some(), &plan.masks, &covered)?;
    if filter.is_some() {
        let allowed = nodes.as_ref().map_or(index.len(), |f| f.count());
        let fraction = allowed as f32 / index.len().max(1) as f32;
        if allowed.saturating_mul(plan.dim) <= EXACT_MAX_FLOPS || fraction < EXACT_MAX_FRACTION {
            plan.path = SearchPath::Exact {
                reason: ExactReason::SelectiveFilter {
                    index: meta.name.clone(),
                },
            };
            plan.unindexed_rows = 0;
            return Ok(());
        }
    }
    let calibration = open.calibration(src.served_recall);
    let (base, rerank) = index.resolve_knobs(q.k, &q.knobs, calibration.as_deref());
    let selectivity = nodes
        .as_ref()
        .filter(|_| filter.is_some())
        .map_or(1.0, |f| f.count() as f32 / index.len().max(1) as f32);
    let param = index.widen_for_filter(base, selectivity);
    if filter.is_some() {
        plan.filter_strategy = FilterStrategy::IndexSkipsNonMatching {
            selectivity,
            widened_from: base,
        };
    }
    // Only a target the query asked for: the default's shortfall is said once, at build.
    if let (None, Some(cal), Some(target)) = (own_knob, &calibration, q.knobs.target_recall) {
        let best = cal.best_recall();
        if best < target {
            plan.warnings.push(format!(
                "index '{}' reached at most recall@10 {best:.3} on its calibration ({}), \
                 below the target {target}; searching with its best measured setting (raise \
                 the build parameters, or set ef/nprobes)",
                meta.name,
                cal.describe()
            ));
        }
    }
    let knob_source = match (own_knob, &calibration) {
        (Some(_), _) => KnobSource::Query,
        (None, Some(cal)) => KnobSource::Calibrated {
            target_recall: q.knobs.target_recall.unwrap_or(DEFAULT_RECALL),
            served: open
                .calibration
                .as_ref()
                .is_none_or(|b| !Arc::ptr_eq(cal, b)),
        },
        (None, None) => KnobSource::Default,
    };
    plan.path = SearchPath::Index {
        name: meta.name.clone(),
        kind: meta.index_type.clone(),
        param_name: index.param_name(),
        param,
        knob_source,
        rerank: rerank.max(q.k),
    };
    plan.index = Some(IndexPart {
        open,
        covered,
        nodes,
        param,
        rerank: rerank.max(q.k),
    });
    Ok(())
}

/// Checks the query vectors and `k` against the column.
fn check_query(q: &VectorQuery, dim: usize, column: &str) -> Result<()> {
    if q.num_queries == 0 || q.vectors.len() != q.num_queries.saturating_mul(dim) {
        let got = q.vectors.len().checked_div(q.num_queries).unwrap_or(0);
        return Err(Error::invalid(format!(
            "query vector has dimension {got}, but column '{column}' has dimension {dim}"
        )));
    }
    if let Some(bad) = q.vectors.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(format!(
            "query {} has {} at position {}; query vectors must be finite",
            bad / dim,
            q.vectors[bad],
            bad % dim
        )));
    }
    if q.k == 0 || q.k > MAX_K {
        return Err(Error::invalid(format!(
            "limit must be between 1 and {MAX_K}, got {}",
            q.k
        )));
    }
    Ok(())
}

/// Deletion and filter masks of the fragments `include` accepts (others get `None`).
pub(crate) fn row_masks(
    frags: &[LoadedFragment],
    filter: Option<&Filter>,
    parallel: bool,
    include: &(dyn Fn(&LoadedFragment) -> bool + Sync),
) -> Result<Masks> {
    let per_frag = |frag: &LoadedFragment| -> Result<Vec<Option<BooleanArray>>> {
        (0..frag.batches.len())
            .map(|b| {
                if !include(frag) || (filter.is_none() && frag.deleted.is_none()) {
                    Ok(None)
                } else {
                    row_mask(frag, b, filter).map(Some)
                }
            })
            .collect()
    };
    if parallel && filter.is_some() {
        frags.par_iter().map(per_frag).collect()
    } else {
        frags.iter().map(per_frag).collect()
    }
}

/// Live rows passing the filter, from the masks (every fragment has them when filtered).
fn count_masked(plan: &Plan<'_>) -> u64 {
    masked_rows(plan.frags, &plan.masks)
}

/// Live rows of `frags` passing the filter their `masks` were made with.
pub(crate) fn masked_rows(frags: &[LoadedFragment], masks: &Masks) -> u64 {
    frags
        .iter()
        .zip(masks)
        .map(|(f, masks)| {
            masks
                .iter()
                .zip(f.batches.iter())
                .map(|(m, b)| m.as_ref().map_or(b.num_rows(), |m| m.true_count()) as u64)
                .sum::<u64>()
        })
        .sum()
}

/// Which index nodes may be returned: `None` when every node's row is live and no filter is
/// set (the common case, cached per snapshot).
fn node_filter(
    frags: &[LoadedFragment],
    idx: &OpenIndex,
    has_filter: bool,
    masks: &Masks,
    covered: &HashSet<u32>,
) -> Result<Option<Arc<NodeFilter>>> {
    let compute = || -> Result<Option<NodeFilter>> {
        let present: HashSet<u32> = frags.iter().map(|f| f.meta.id).collect();
        let all_present = covered.iter().all(|id| present.contains(id));
        let any_deleted = frags
            .iter()
            .any(|f| covered.contains(&f.meta.id) && f.deleted.is_some());
        if !has_filter
            && all_present
            && !any_deleted
            && idx.meta.tombstones == 0
            && idx.meta.num_nodes as usize == idx.index.len()
        {
            return Ok(None);
        }
        let reverse = idx.reverse()?;
        Ok(Some(allowed_nodes(
            frags,
            reverse,
            idx.index.len(),
            has_filter,
            masks,
        )))
    };
    if has_filter {
        Ok(compute()?.map(Arc::new))
    } else {
        idx.live(compute)
    }
}

/// The nodes of an index (of `len` nodes, rows mapped by `reverse`) whose rows are live
/// and, with a filter, pass it (`masks`).
pub(crate) fn allowed_nodes(
    frags: &[LoadedFragment],
    reverse: &HashMap<u32, Vec<u32>>,
    len: usize,
    has_filter: bool,
    masks: &Masks,
) -> NodeFilter {
    let mut nf = NodeFilter::none(len);
    for (fi, frag) in frags.iter().enumerate() {
        let Some(rev) = reverse.get(&frag.meta.id) else {
            continue;
        };
        for (b, batch) in frag.batches.iter().enumerate() {
            let start = frag.starts[b] as usize;
            let mut set = |j: usize| {
                if let Some(&node) = rev.get(start + j) {
                    if node != u32::MAX && (node as usize) < len {
                        nf.set(node, true);
                    }
                }
            };
            match (&masks[fi][b], has_filter) {
                (Some(m), true) => m.values().set_indices().for_each(&mut set),
                _ => (0..batch.num_rows())
                    .filter(|&j| !frag.is_deleted((start + j) as u32))
                    .for_each(&mut set),
            }
        }
    }
    nf
}

impl fmt::Display for Plan<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let metric_from = match self.metric_source {
            MetricSource::Query => "set on the query",
            MetricSource::Index => "the index's",
            MetricSource::Default => "default",
        };
        writeln!(
            f,
            "vector search on version {}: column '{}' ({}-d), metric {} ({metric_from}), k={}, {} quer{}",
            self.version,
            self.vector_column,
            self.dim,
            self.metric.name(),
            self.k,
            self.num_queries,
            if self.num_queries == 1 { "y" } else { "ies" }
        )?;
        match &self.path {
            SearchPath::Exact { reason } => {
                let why = match reason {
                    ExactReason::NoIndex => "the column has no vector index".to_string(),
                    ExactReason::Bypassed { index } => {
                        format!("bypass_vector_index() skips index '{index}'")
                    }
                    ExactReason::MetricMismatch {
                        index,
                        index_metric,
                    } => format!(
                        "index '{index}' was built for metric {index_metric}, not {}",
                        self.metric.name()
                    ),
                    ExactReason::SelectiveFilter { index } => format!(
                        "the filter matches few rows, so searching them exactly beats index '{index}'"
                    ),
                    ExactReason::IndexUnreadable { index, error } => {
                        format!("index '{index}' cannot be read: {error}")
                    }
                };
                writeln!(f, "  path: exact search ({why})")?;
            }
            SearchPath::Index {
                name,
                kind,
                param_name,
                param,
                knob_source,
                rerank,
            } => {
                let knob = match knob_source {
                    KnobSource::Query => "set on the query".to_string(),
                    KnobSource::Calibrated {
                        target_recall,
                        served,
                    } => format!(
                        "calibrated for recall@10 {target_recall}{}",
                        if *served {
                            " on built and served queries"
                        } else {
                            ""
                        }
                    ),
                    KnobSource::Default => "default; the index has no calibration".to_string(),
                };
                writeln!(
                    f,
                    "  path: index '{name}' ({kind}), {param_name}={param} ({knob}), {rerank} candidates re-ranked with the stored vectors"
                )?;
                if self.unindexed_rows > 0 {
                    writeln!(
                        f,
                        "  unindexed rows: {} (added since the build) searched exactly and merged",
                        self.unindexed_rows
                    )?;
                }
            }
        }
        match (&self.filter, self.filter_strategy) {
            (None, _) | (_, FilterStrategy::None) => writeln!(f, "  filter: none")?,
            (Some(sql), strategy) => {
                let matching = self.matching_rows.unwrap_or(0);
                let pct = 100.0 * matching as f64 / self.live_rows.max(1) as f64;
                writeln!(
                    f,
                    "  filter: {sql} ({matching} of {} live rows match, {pct:.1}%)",
                    self.live_rows
                )?;
                if let Some(ix) = &self.filter_index {
                    writeln!(f, "  filter index: {ix}")?;
                }
                match strategy {
                    FilterStrategy::IndexSkipsNonMatching { widened_from, .. } => writeln!(
                        f,
                        "  filter strategy: the index walk skips non-matching rows; search knob widened from {widened_from}"
                    )?,
                    _ => writeln!(
                        f,
                        "  filter strategy: evaluated first; only matching rows are searched"
                    )?,
                }
            }
        }
        writeln!(
            f,
            "  estimated rows scanned: {}",
            self.estimated_rows_scanned
        )?;
        write!(f, "  output: ")?;
        let mut cols = self.columns.clone();
        cols.push("_distance".into());
        if self.with_row_id {
            cols.push("_rowid".into());
        }
        if self.with_query_index {
            cols.push("query_index".into());
        }
        write!(f, "{}", cols.join(", "))
    }
}

impl fmt::Debug for Plan<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
