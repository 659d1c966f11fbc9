//! `oxvec._oxvec.Table`.

use crate::arrow_ffi::{batches, import_stream, PyArrowStream, PyBatchStream};
use crate::convert::f32_from_bytes;
use crate::runtime::{run, run_reporting, Cost};
use oxvec::take::Rows;
use oxvec::{
    parse_text_query, vector_kind, AddMode, AnalyzerOptions, Assignment, BadVectors, BaseTokenizer,
    Bm25Params, BuildOptions, ColumnChange, IndexRequest, MergeInsert, Metric, Progress,
    ScalarIndexRequest, ScanRequest, SearchKnobs, Table, TextIndexRequest, TextSearch, VectorQuery,
    Where,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::sync::Arc;

/// Work (rows x floats) above which a call runs on a cancellable worker thread: about 50 ms
/// of scanning. Below it, spawning the thread would cost more than Ctrl-C is worth.
const LONG_WORK: usize = 1 << 26;

/// A versioned table.
#[pyclass(name = "Table", module = "oxvec._oxvec", frozen)]
pub struct PyTable {
    inner: Arc<Table>,
}

impl PyTable {
    pub fn new(t: Table) -> Self {
        PyTable { inner: Arc::new(t) }
    }

    /// A hint from the pinned version (no look for a newer one: the call itself looks once).
    fn cost(&self, work_per_row: usize) -> Cost {
        let rows = usize::try_from(self.inner.pinned_live_rows()).unwrap_or(usize::MAX);
        if rows.saturating_mul(work_per_row) >= LONG_WORK {
            Cost::Long
        } else {
            Cost::Quick
        }
    }
}

#[pymethods]
impl PyTable {
    #[getter]
    fn name(&self) -> String {
        self.inner.name().to_string()
    }

    #[getter]
    fn version(&self) -> u64 {
        self.inner.version()
    }

    #[getter]
    fn path(&self) -> String {
        self.inner.dir().root().display().to_string()
    }

    #[getter]
    fn is_detached(&self) -> bool {
        self.inner.is_detached()
    }

    /// The schema, as an empty Arrow stream (read `.schema` on the consumer side).
    fn schema_stream(&self) -> PyArrowStream {
        PyArrowStream::new(self.inner.schema(), vec![])
    }

    #[pyo3(signature = (filter=None, params=None))]
    fn count_rows(
        &self,
        py: Python<'_>,
        filter: Option<String>,
        params: Option<Bound<'_, PyAny>>,
    ) -> PyResult<u64> {
        let p = crate::convert::params(params.as_ref())?;
        let t = self.inner.clone();
        let cost = if filter.is_some() {
            self.cost(1)
        } else {
            Cost::Quick
        };
        run(py, cost, move |c| {
            let f = filter.map(|s| Where::new(s, p));
            t.count_rows(f.as_ref(), c)
        })
    }

    /// `mode` is `"append"` or `"overwrite"`; `on_bad_vectors` as `BadVectors::parse`.
    #[pyo3(signature = (data, mode="append", on_bad_vectors="error", fill_value=0.0))]
    fn add(
        &self,
        py: Python<'_>,
        data: Bound<'_, PyAny>,
        mode: &str,
        on_bad_vectors: &str,
        fill_value: f32,
    ) -> PyResult<u64> {
        let mode = match mode {
            "append" => AddMode::Append,
            "overwrite" => AddMode::Overwrite,
            other => {
                return Err(crate::error::invalid(format!(
                    "mode must be 'append' or 'overwrite', not {other:?}"
                )))
            }
        };
        let bad = BadVectors::parse(on_bad_vectors, fill_value).map_err(crate::error::to_py_err)?;
        let reader = import_stream(&data)?;
        let t = self.inner.clone();
        run(py, Cost::Long, move |c| {
            t.add_with(&mut batches(reader), mode, bad, c)
        })
    }

    #[pyo3(signature = (filter, params=None))]
    fn delete(
        &self,
        py: Python<'_>,
        filter: String,
        params: Option<Bound<'_, PyAny>>,
    ) -> PyResult<(u64, u64)> {
        let p = crate::convert::params(params.as_ref())?;
        let t = self.inner.clone();
        run(py, Cost::Long, move |c| {
            let done = t.delete(&Where::new(filter, p), c)?;
            Ok((done.rows, done.version))
        })
    }

    /// `values` is a one-row Arrow stream of new values; `values_sql` maps columns to SQL.
    #[pyo3(signature = (filter=None, params=None, values=None, values_sql=None))]
    fn update(
        &self,
        py: Python<'_>,
        filter: Option<String>,
        params: Option<Bound<'_, PyAny>>,
        values: Option<Bound<'_, PyAny>>,
        values_sql: Option<Bound<'_, PyDict>>,
    ) -> PyResult<(u64, u64)> {
        let p = crate::convert::params(params.as_ref())?;
        let mut assignments: Vec<(String, Assignment)> = Vec::new();
        if let Some(v) = values {
            let reader = import_stream(&v)?;
            let rows: Vec<_> = py
                .detach(|| batches(reader).collect::<oxvec::Result<Vec<_>>>())
                .map_err(crate::error::to_py_err)?;
            let batch = arrow::compute::concat_batches(
                &rows
                    .first()
                    .map(|b| b.schema())
                    .unwrap_or_else(|| Arc::new(arrow::datatypes::Schema::empty())),
                &rows,
            )
            .map_err(|e| crate::error::invalid(format!("values: {e}")))?;
            if batch.num_rows() != 1 {
                return Err(crate::error::invalid(
                    "values must describe exactly one row of new values",
                ));
            }
            for (f, col) in batch.schema().fields().iter().zip(batch.columns()) {
                assignments.push((f.name().clone(), Assignment::Value(col.clone())));
            }
        }
        if let Some(d) = values_sql {
            for (k, v) in d.iter() {
                assignments.push((k.extract()?, Assignment::Sql(v.extract()?)));
            }
        }
        let t = self.inner.clone();
        run(py, Cost::Long, move |c| {
            let f = filter.map(|s| Where::new(s, p));
            let done = t.update(f.as_ref(), &assignments, c)?;
            Ok((done.rows, done.version))
        })
    }

    #[pyo3(signature = (filter=None, params=None, columns=None, limit=None, offset=0, with_row_id=false))]
    #[allow(clippy::too_many_arguments)]
    fn scan(
        &self,
        py: Python<'_>,
        filter: Option<String>,
        params: Option<Bound<'_, PyAny>>,
        columns: Option<Vec<String>>,
        limit: Option<usize>,
        offset: usize,
        with_row_id: bool,
    ) -> PyResult<PyArrowStream> {
        let req = scan_request(filter, params, columns, limit, offset, with_row_id)?;
        let t = self.inner.clone();
        let cost = self.cost(4);
        let (schema, out) = run(py, cost, move |c| t.scan(&req, c))?;
        Ok(PyArrowStream::new(schema, out))
    }

    /// Vector search (indexed when the column has an index, else exact). `vectors` holds
    /// `num_queries` float32 vectors, little-endian, row-major.
    #[pyo3(signature = (vectors, num_queries, column=None, metric=None, k=10, filter=None, params=None, columns=None, with_row_id=false, ef=None, nprobes=None, refine_factor=None, target_recall=None, bypass_vector_index=false))]
    #[allow(clippy::too_many_arguments)]
    fn search(
        &self,
        py: Python<'_>,
        vectors: Bound<'_, PyBytes>,
        num_queries: usize,
        column: Option<String>,
        metric: Option<&str>,
        k: usize,
        filter: Option<String>,
        params: Option<Bound<'_, PyAny>>,
        columns: Option<Vec<String>>,
        with_row_id: bool,
        ef: Option<usize>,
        nprobes: Option<usize>,
        refine_factor: Option<usize>,
        target_recall: Option<f32>,
        bypass_vector_index: bool,
    ) -> PyResult<PyArrowStream> {
        let q = vector_query(
            vectors.as_bytes(),
            num_queries,
            column,
            metric,
            k,
            filter.map(|f| (f, params)),
            columns,
            with_row_id,
            SearchKnobs {
                ef,
                nprobes,
                refine_factor,
                target_recall,
            },
            bypass_vector_index,
        )?;
        // An indexed search touches a small part of the table: never worth a worker thread
        // for one query.
        let indexed = !bypass_vector_index && self.inner.has_indices();
        let cost = if indexed && num_queries <= 16 {
            Cost::Quick
        } else {
            self.cost(q.vectors.len())
        };
        let t = self.inner.clone();
        let (batch, warnings) = run(py, cost, move |c| t.search_reporting(&q, c))?;
        for w in warnings {
            crate::error::warn(py, &w)?;
        }
        Ok(PyArrowStream::new(batch.schema(), vec![batch]))
    }

    /// The plan `search` would run with the same arguments, as text.
    #[pyo3(signature = (vectors, num_queries, column=None, metric=None, k=10, filter=None, params=None, columns=None, with_row_id=false, ef=None, nprobes=None, refine_factor=None, target_recall=None, bypass_vector_index=false))]
    #[allow(clippy::too_many_arguments)]
    fn explain(
        &self,
        py: Python<'_>,
        vectors: Bound<'_, PyBytes>,
        num_queries: usize,
        column: Option<String>,
        metric: Option<&str>,
        k: usize,
        filter: Option<String>,
        params: Option<Bound<'_, PyAny>>,
        columns: Option<Vec<String>>,
        with_row_id: bool,
        ef: Option<usize>,
        nprobes: Option<usize>,
        refine_factor: Option<usize>,
        target_recall: Option<f32>,
        bypass_vector_index: bool,
    ) -> PyResult<String> {
        let q = vector_query(
            vectors.as_bytes(),
            num_queries,
            column,
            metric,
            k,
            filter.map(|f| (f, params)),
            columns,
            with_row_id,
            SearchKnobs {
                ef,
                nprobes,
                refine_factor,
                target_recall,
            },
            bypass_vector_index,
        )?;
        let t = self.inner.clone();
        run(py, self.cost(1), move |_| t.explain(&q).map(|e| e.text))
    }

    /// Full-text search: `query` is a structured query as JSON (see `oxvec.fts`); results
    /// carry `_score` (BM25, best first).
    #[pyo3(signature = (query, k=10, offset=0, filter=None, params=None, columns=None, with_row_id=false, k1=1.2, b=0.75))]
    #[allow(clippy::too_many_arguments)]
    fn search_text(
        &self,
        py: Python<'_>,
        query: &str,
        k: usize,
        offset: usize,
        filter: Option<String>,
        params: Option<Bound<'_, PyAny>>,
        columns: Option<Vec<String>>,
        with_row_id: bool,
        k1: f32,
        b: f32,
    ) -> PyResult<PyArrowStream> {
        let q = text_search(
            query,
            k,
            offset,
            filter,
            params,
            columns,
            with_row_id,
            k1,
            b,
        )?;
        let t = self.inner.clone();
        let cost = self.cost(64);
        let (batch, warnings) = run(py, cost, move |c| t.search_text(&q, c))?;
        for w in warnings {
            crate::error::warn(py, &w)?;
        }
        Ok(PyArrowStream::new(batch.schema(), vec![batch]))
    }

    /// A vector search (the arguments of `search`) and a full-text search (`text_query`
    /// as JSON, `text_k` results) on one version; returns both results, each with
    /// `_rowid`, for the caller to fuse.
    #[pyo3(signature = (vectors, text_query, column=None, metric=None, k=10, text_k=10, filter=None, params=None, columns=None, ef=None, nprobes=None, refine_factor=None, target_recall=None, bypass_vector_index=false, k1=1.2, b=0.75))]
    #[allow(clippy::too_many_arguments)]
    fn search_hybrid(
        &self,
        py: Python<'_>,
        vectors: Bound<'_, PyBytes>,
        text_query: &str,
        column: Option<String>,
        metric: Option<&str>,
        k: usize,
        text_k: usize,
        filter: Option<String>,
        params: Option<Bound<'_, PyAny>>,
        columns: Option<Vec<String>>,
        ef: Option<usize>,
        nprobes: Option<usize>,
        refine_factor: Option<usize>,
        target_recall: Option<f32>,
        bypass_vector_index: bool,
        k1: f32,
        b: f32,
    ) -> PyResult<(PyArrowStream, PyArrowStream)> {
        let tq = text_search(
            text_query,
            text_k,
            0,
            filter.clone(),
            params.clone(),
            columns.clone(),
            true,
            k1,
            b,
        )?;
        let vq = vector_query(
            vectors.as_bytes(),
            1,
            column,
            metric,
            k,
            filter.map(|f| (f, params)),
            columns,
            true,
            SearchKnobs {
                ef,
                nprobes,
                refine_factor,
                target_recall,
            },
            bypass_vector_index,
        )?;
        let t = self.inner.clone();
        let cost = self.cost(vq.vectors.len());
        let (v, x, warnings) = run(py, cost, move |c| t.search_hybrid(&vq, &tq, c))?;
        for w in warnings {
            crate::error::warn(py, &w)?;
        }
        Ok((
            PyArrowStream::new(v.schema(), vec![v]),
            PyArrowStream::new(x.schema(), vec![x]),
        ))
    }

    /// The plan `search_text` would run with the same arguments, as text.
    #[pyo3(signature = (query, k=10, offset=0, filter=None, params=None, columns=None, with_row_id=false, k1=1.2, b=0.75))]
    #[allow(clippy::too_many_arguments)]
    fn explain_text(
        &self,
        py: Python<'_>,
        query: &str,
        k: usize,
        offset: usize,
        filter: Option<String>,
        params: Option<Bound<'_, PyAny>>,
        columns: Option<Vec<String>>,
        with_row_id: bool,
        k1: f32,
        b: f32,
    ) -> PyResult<String> {
        let q = text_search(
            query,
            k,
            offset,
            filter,
            params,
            columns,
            with_row_id,
            k1,
            b,
        )?;
        let t = self.inner.clone();
        run(py, self.cost(1), move |_| t.explain_text(&q))
    }

    /// Builds a full-text index over string columns; returns the index's name.
    #[pyo3(signature = (columns, base_tokenizer="simple", language="english", stem=true, remove_stop_words=true, lower_case=true, ascii_folding=true, with_position=true, max_token_length=40, ngram_min_length=3, ngram_max_length=3, prefix_only=false, replace=true, name=None, progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn create_fts_index(
        &self,
        py: Python<'_>,
        columns: Vec<String>,
        base_tokenizer: &str,
        language: &str,
        stem: bool,
        remove_stop_words: bool,
        lower_case: bool,
        ascii_folding: bool,
        with_position: bool,
        max_token_length: usize,
        ngram_min_length: usize,
        ngram_max_length: usize,
        prefix_only: bool,
        replace: bool,
        name: Option<String>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<String> {
        let req = TextIndexRequest {
            columns,
            analyzer: AnalyzerOptions {
                base_tokenizer: BaseTokenizer::parse(base_tokenizer)
                    .map_err(crate::error::to_py_err)?,
                language: language.to_string(),
                stem,
                remove_stop_words,
                lower_case,
                ascii_folding,
                max_token_length,
                ngram_min_length,
                ngram_max_length,
                prefix_only,
            },
            with_position,
            replace,
            name,
        };
        let meta = self.long_with_progress(py, progress, move |t, prog, c| {
            t.create_fts_index(&req, prog, c)
        })?;
        Ok(meta.name)
    }

    /// Builds a scalar index (`BTREE` or `BITMAP`) over a column; returns its name.
    #[pyo3(signature = (column, index_type="BTREE", replace=true, name=None, progress=None))]
    fn create_scalar_index(
        &self,
        py: Python<'_>,
        column: String,
        index_type: &str,
        replace: bool,
        name: Option<String>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<String> {
        let req = ScalarIndexRequest {
            column,
            index_type: index_type.to_string(),
            replace,
            name,
        };
        let meta = self.long_with_progress(py, progress, move |t, prog, c| {
            t.create_scalar_index(&req, prog, c)
        })?;
        Ok(meta.name)
    }

    /// How many times this handle looked for a newer version before a read (for tests).
    fn _refresh_looks(&self) -> u64 {
        self.inner.refresh_looks()
    }

    /// `(version, timestamp_micros, operation, rows)` for every version, oldest first.
    fn list_versions(&self, py: Python<'_>) -> PyResult<Vec<(u64, i64, String, u64)>> {
        let t = self.inner.clone();
        let v = run(py, Cost::Quick, move |_| t.list_versions())?;
        Ok(v.into_iter()
            .map(|v| (v.version, v.timestamp_micros, v.operation, v.rows))
            .collect())
    }

    fn checkout(&self, py: Python<'_>, version: u64) -> PyResult<()> {
        let t = self.inner.clone();
        run(py, Cost::Quick, move |_| t.checkout(version))
    }

    fn checkout_latest(&self, py: Python<'_>) -> PyResult<()> {
        let t = self.inner.clone();
        run(py, Cost::Quick, move |_| t.checkout_latest())
    }

    #[pyo3(signature = (version=None))]
    fn restore(&self, py: Python<'_>, version: Option<u64>) -> PyResult<u64> {
        let t = self.inner.clone();
        run(py, Cost::Quick, move |_| t.restore(version))
    }

    /// Builds an ANN index; returns the index's name.
    #[pyo3(signature = (column=None, index_type="HNSW", metric="cosine", replace=true, m=None, ef_construction=None, num_partitions=None, num_sub_vectors=None, num_bits=None, progress=None, calibration_queries=None, name=None))]
    #[allow(clippy::too_many_arguments)]
    fn create_index(
        &self,
        py: Python<'_>,
        column: Option<String>,
        index_type: &str,
        metric: &str,
        replace: bool,
        m: Option<usize>,
        ef_construction: Option<usize>,
        num_partitions: Option<usize>,
        num_sub_vectors: Option<usize>,
        num_bits: Option<usize>,
        progress: Option<Py<PyAny>>,
        calibration_queries: Option<Bound<'_, PyBytes>>,
        name: Option<String>,
    ) -> PyResult<String> {
        let req = IndexRequest {
            column,
            index_type: vector_kind(index_type).map_err(crate::error::to_py_err)?,
            metric: Metric::parse(metric).map_err(crate::error::to_py_err)?,
            replace,
            options: BuildOptions {
                m,
                ef_construction,
                num_partitions,
                num_sub_vectors,
                num_bits,
                seed: None,
            },
            calibration_queries: calibration_queries.map(|b| f32_from_bytes(b.as_bytes())),
            name,
        };
        let meta = self.long_with_progress(py, progress, move |t, prog, c| {
            t.create_index(&req, prog, c)
        })?;
        if let Some(w) = oxvec::calibration_warning(&meta) {
            crate::error::warn(py, &w)?;
        }
        Ok(meta.name)
    }

    /// Folds new rows into the indexes and compacts small fragments; returns
    /// `(rows_indexed, fragments_removed, fragments_added)`.
    #[pyo3(signature = (progress=None))]
    fn optimize(
        &self,
        py: Python<'_>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<(u64, usize, usize)> {
        self.long_with_progress(py, progress, |t, prog, c| {
            t.optimize(prog, c)
                .map(|s| (s.rows_indexed, s.fragments_removed, s.fragments_added))
        })
    }

    /// `(name, index_type, column, metric)` of every index.
    fn list_indices(&self) -> Vec<(String, String, String, String)> {
        self.inner
            .list_indices()
            .into_iter()
            .map(|i| (i.name, i.index_type, i.column, i.metric))
            .collect()
    }

    /// The index's statistics as a JSON string.
    /// Column changes as one version: `steps` are `("rename", from, to)`,
    /// `("nullable", column, "true" | "false")` or `("drop", column, "")`, then the columns
    /// of `add` (a schema) are added, all null. Returns the new version.
    #[pyo3(signature = (steps, add=None))]
    fn alter_columns(
        &self,
        py: Python<'_>,
        steps: Vec<(String, String, String)>,
        add: Option<Bound<'_, PyAny>>,
    ) -> PyResult<u64> {
        let mut changes = Vec::with_capacity(steps.len());
        for (kind, column, arg) in steps {
            changes.push(match kind.as_str() {
                "rename" => ColumnChange::Rename {
                    from: column,
                    to: arg,
                },
                "nullable" => ColumnChange::SetNullable {
                    column,
                    nullable: arg == "true",
                },
                "drop" => ColumnChange::Drop { column },
                other => {
                    return Err(crate::error::invalid(format!(
                        "unknown column change {other:?}"
                    )))
                }
            });
        }
        if let Some(schema) = add {
            for f in crate::arrow_ffi::import_schema(&schema)?.fields() {
                changes.push(ColumnChange::Add {
                    field: f.as_ref().clone(),
                });
            }
        }
        let t = self.inner.clone();
        run(py, Cost::Quick, move |c| t.alter_columns(&changes, c))
    }

    /// Column changes that rewrite data, as one version: new columns `computed` as
    /// `(name, sql)`, then every column of `cast` (a schema) cast to its type there.
    /// Returns the new version.
    /// `function` (with `function_schema`, the columns it makes) is called with each batch
    /// of rows as an `ArrowStream` and returns an Arrow stream of the new columns.
    #[pyo3(signature = (computed, cast=None, function=None, function_schema=None))]
    fn rewrite_columns(
        &self,
        py: Python<'_>,
        computed: Vec<(String, String)>,
        cast: Option<Bound<'_, PyAny>>,
        function: Option<Py<PyAny>>,
        function_schema: Option<Bound<'_, PyAny>>,
    ) -> PyResult<u64> {
        let mut changes: Vec<oxvec::ColumnRewrite> = computed
            .into_iter()
            .map(|(name, sql)| oxvec::ColumnRewrite::Compute { name, sql })
            .collect();
        if let (Some(function), Some(schema)) = (function, function_schema) {
            let schema = crate::arrow_ffi::import_schema(&schema)?;
            let fields: Vec<arrow::datatypes::Field> =
                schema.fields().iter().map(|f| f.as_ref().clone()).collect();
            changes.push(oxvec::ColumnRewrite::Batch {
                fields,
                compute: crate::projection::batch_function(function, schema),
            });
        }
        if let Some(schema) = cast {
            for f in crate::arrow_ffi::import_schema(&schema)?.fields() {
                changes.push(oxvec::ColumnRewrite::Cast {
                    column: f.name().clone(),
                    to: f.data_type().clone(),
                });
            }
        }
        let t = self.inner.clone();
        run(py, Cost::Long, move |c| t.rewrite_columns(&changes, c))
    }

    /// A scan read as the consumer asks for its batches (at most `batch_size` rows each).
    #[pyo3(signature = (filter=None, params=None, columns=None, limit=None, offset=0, with_row_id=false, batch_size=16384))]
    #[allow(clippy::too_many_arguments)]
    fn scan_stream(
        &self,
        py: Python<'_>,
        filter: Option<String>,
        params: Option<Bound<'_, PyAny>>,
        columns: Option<Vec<String>>,
        limit: Option<usize>,
        offset: usize,
        with_row_id: bool,
        batch_size: usize,
    ) -> PyResult<PyBatchStream> {
        let req = scan_request(filter, params, columns, limit, offset, with_row_id)?;
        let t = self.inner.clone();
        // The stream outlives this call: its time limit (if any) runs until it is read out.
        let token = crate::runtime::new_token();
        let stream = run(py, Cost::Quick, move |_| {
            t.scan_stream(&req, batch_size, token)
        })?;
        Ok(PyBatchStream::new(stream))
    }

    /// Rows by position among the live rows (`by="offset"`) or by row id (`by="row_id"`).
    #[pyo3(signature = (rows, by, columns=None, with_row_id=false))]
    fn take(
        &self,
        py: Python<'_>,
        rows: Vec<u64>,
        by: &str,
        columns: Option<Vec<String>>,
        with_row_id: bool,
    ) -> PyResult<PyArrowStream> {
        let by_offset = match by {
            "offset" => true,
            "row_id" => false,
            other => {
                return Err(crate::error::invalid(format!(
                    "take by 'offset' or 'row_id', not {other:?}"
                )))
            }
        };
        let t = self.inner.clone();
        // Work follows the rows asked for, not the table's size.
        let cost = if rows.len() >= LONG_WORK / 64 {
            Cost::Long
        } else {
            Cost::Quick
        };
        let (schema, batch) = run(py, cost, move |c| {
            let which = if by_offset {
                Rows::Offsets(&rows)
            } else {
                Rows::RowIds(&rows)
            };
            t.take(which, columns.as_deref(), with_row_id, c)
        })?;
        Ok(PyArrowStream::new(schema, vec![batch]))
    }

    /// The pinned version's rows, fragments, bytes and indexes, as JSON.
    fn stats(&self, py: Python<'_>) -> PyResult<String> {
        let t = self.inner.clone();
        run(py, Cost::Quick, move |_| t.stats().map(|v| v.to_string()))
    }

    fn index_stats(&self, py: Python<'_>, name: String) -> PyResult<String> {
        let t = self.inner.clone();
        run(py, Cost::Quick, move |_| {
            t.index_stats(&name).map(|v| v.to_string())
        })
    }

    fn drop_index(&self, py: Python<'_>, name: String) -> PyResult<u64> {
        let t = self.inner.clone();
        run(py, Cost::Quick, move |_| t.drop_index(&name))
    }

    /// Upsert; returns `(inserted, updated, deleted, version)`.
    #[pyo3(signature = (data, on, update_matched=false, matched_where=None, insert_not_matched=false, delete_not_matched_by_source=false, delete_where=None, params=None))]
    #[allow(clippy::too_many_arguments)]
    fn merge_insert(
        &self,
        py: Python<'_>,
        data: Bound<'_, PyAny>,
        on: Vec<String>,
        update_matched: bool,
        matched_where: Option<String>,
        insert_not_matched: bool,
        delete_not_matched_by_source: bool,
        delete_where: Option<String>,
        params: Option<Bound<'_, PyAny>>,
    ) -> PyResult<(u64, u64, u64, u64)> {
        let merge = MergeInsert {
            on,
            when_matched_update_all: update_matched.then_some(matched_where),
            when_not_matched_insert_all: insert_not_matched,
            when_not_matched_by_source_delete: delete_not_matched_by_source.then_some(delete_where),
            params: crate::convert::params(params.as_ref())?,
        };
        let reader = import_stream(&data)?;
        let t = self.inner.clone();
        let s = run(py, Cost::Long, move |c| {
            t.merge_insert(&merge, &mut batches(reader), c)
        })?;
        Ok((s.inserted, s.updated, s.deleted, s.version))
    }

    /// Removes old versions and unreferenced files; returns
    /// `(versions_removed, files_removed, bytes_removed, unreadable_tags)`.
    #[pyo3(signature = (older_than_seconds, delete_unverified=false))]
    fn cleanup_old_versions(
        &self,
        py: Python<'_>,
        older_than_seconds: f64,
        delete_unverified: bool,
    ) -> PyResult<(u64, u64, u64, Vec<String>)> {
        let older_than = crate::convert::seconds("older_than", older_than_seconds)?;
        let t = self.inner.clone();
        let s = run(py, Cost::Long, move |_| {
            t.cleanup_old_versions(older_than, delete_unverified)
        })?;
        Ok((
            s.versions_removed,
            s.files_removed,
            s.bytes_removed,
            s.unreadable_tags,
        ))
    }

    /// Checks every version and file; returns
    /// `(versions_checked, files_checked, bytes_checked, problems)`.
    #[pyo3(signature = (deep=false))]
    fn verify(&self, py: Python<'_>, deep: bool) -> PyResult<(u64, u64, u64, Vec<String>)> {
        let t = self.inner.clone();
        let r = run(py, Cost::Long, move |c| t.verify(deep, c))?;
        Ok((
            r.versions_checked,
            r.files_checked,
            r.bytes_checked,
            r.problems,
        ))
    }

    #[pyo3(signature = (name, version=None))]
    fn create_tag(&self, py: Python<'_>, name: String, version: Option<u64>) -> PyResult<()> {
        let t = self.inner.clone();
        run(py, Cost::Quick, move |_| t.create_tag(&name, version))
    }

    /// `(name, version, created_micros)` of every tag, by name.
    fn list_tags(&self, py: Python<'_>) -> PyResult<Vec<(String, u64, i64)>> {
        let t = self.inner.clone();
        let tags = run(py, Cost::Quick, move |_| t.list_tags())?;
        Ok(tags
            .into_iter()
            .map(|(n, t)| (n, t.version, t.created_micros))
            .collect())
    }

    fn delete_tag(&self, py: Python<'_>, name: String) -> PyResult<()> {
        let t = self.inner.clone();
        run(py, Cost::Quick, move |_| t.delete_tag(&name))
    }

    fn checkout_tag(&self, py: Python<'_>, name: String) -> PyResult<()> {
        let t = self.inner.clone();
        run(py, Cost::Quick, move |_| t.checkout_tag(&name))
    }
}

impl PyTable {
    /// Runs a long index operation, drawing a progress bar on stderr when asked.
    fn long_with_progress<T: Send>(
        &self,
        py: Python<'_>,
        progress: Option<Py<PyAny>>,
        f: impl FnOnce(&Table, &Progress, &oxvec::CancelToken) -> oxvec::Result<T> + Send,
    ) -> PyResult<T> {
        let t = self.inner.clone();
        let prog = Arc::new(Progress::default());
        let worker_prog = prog.clone();
        // Called on the waiting thread at every signal poll: the engine's counters go to the
        // Python callback (a tqdm bar), whose errors never stop the work.
        let draw = |finished: bool| {
            use std::sync::atomic::Ordering::Relaxed;
            let Some(cb) = progress.as_ref() else {
                return;
            };
            let total = prog.total.load(Relaxed);
            let done = if finished {
                total
            } else {
                prog.done.load(Relaxed).min(total)
            };
            Python::attach(|py| {
                let _ = cb.call1(py, (done, total, finished));
            });
        };
        let report: Option<&(dyn Fn(bool) + Sync)> = if progress.is_some() {
            Some(&draw)
        } else {
            None
        };
        run_reporting(py, Cost::Long, report, move |c| f(&t, &worker_prog, c))
    }
}

/// The engine's scan from the arguments `scan` and `scan_stream` share.
fn scan_request(
    filter: Option<String>,
    params: Option<Bound<'_, PyAny>>,
    columns: Option<Vec<String>>,
    limit: Option<usize>,
    offset: usize,
    with_row_id: bool,
) -> PyResult<ScanRequest> {
    let p = crate::convert::params(params.as_ref())?;
    Ok(ScanRequest {
        filter: filter.map(|s| Where::new(s, p)),
        columns,
        limit,
        offset,
        with_row_id,
    })
}

/// The engine's full-text query from the arguments `search_text` and `explain_text` share.
#[allow(clippy::too_many_arguments)]
fn text_search(
    query: &str,
    k: usize,
    offset: usize,
    filter: Option<String>,
    params: Option<Bound<'_, PyAny>>,
    columns: Option<Vec<String>>,
    with_row_id: bool,
    k1: f32,
    b: f32,
) -> PyResult<TextSearch> {
    let filter = match filter {
        Some(sql) => Some(Where::new(sql, crate::convert::params(params.as_ref())?)),
        None => None,
    };
    Ok(TextSearch {
        query: parse_text_query(query).map_err(crate::error::to_py_err)?,
        k,
        offset,
        filter,
        columns,
        with_row_id,
        params: Bm25Params { k1, b },
    })
}

/// The engine's query from the arguments `search` and `explain` share.
#[allow(clippy::too_many_arguments)]
fn vector_query(
    vectors: &[u8],
    num_queries: usize,
    column: Option<String>,
    metric: Option<&str>,
    k: usize,
    filter: Option<(String, Option<Bound<'_, PyAny>>)>,
    columns: Option<Vec<String>>,
    with_row_id: bool,
    knobs: SearchKnobs,
    bypass_index: bool,
) -> PyResult<VectorQuery> {
    let metric = metric
        .map(Metric::parse)
        .transpose()
        .map_err(crate::error::to_py_err)?;
    if let Some(r) = knobs.target_recall {
        if !(r > 0.0 && r <= 1.0) {
            return Err(crate::error::invalid(format!(
                "target_recall must be in (0, 1], got {r}"
            )));
        }
    }
    let filter = match filter {
        Some((sql, params)) => Some(Where::new(sql, crate::convert::params(params.as_ref())?)),
        None => None,
    };
    Ok(VectorQuery {
        column,
        vectors: f32_from_bytes(vectors),
        num_queries,
        metric,
        k,
        filter,
        columns,
        with_row_id,
        with_query_index: false,
        knobs,
        bypass_index,
    })
}
