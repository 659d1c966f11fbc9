//! `oxvec._oxvec.Database`.

use crate::arrow_ffi::{batches, import_schema, import_stream};
use crate::convert::seconds;
use crate::runtime::{run, Cost};
use crate::table::PyTable;
use oxvec::{BadVectors, CreateMode, CreateOptions, Database, TableOptions};
use pyo3::prelude::*;
use std::sync::Arc;

/// A directory of tables.
#[pyclass(name = "Database", module = "oxvec._oxvec", frozen)]
pub struct PyDatabase {
    inner: Arc<Database>,
}

#[pymethods]
impl PyDatabase {
    /// Durations are in seconds; `read_consistency_interval=None` never refreshes on its own.
    #[new]
    // The Python constructor's keywords, one each, as `connect` documents them.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (uri, read_consistency_interval=Some(0.0), auto_compact_fragments=64, auto_cleanup_every=100, auto_cleanup_older_than=7.0 * 86400.0, monitor_recall=true, inline_deletions=true, max_retries=10))]
    fn new(
        py: Python<'_>,
        uri: String,
        read_consistency_interval: Option<f64>,
        auto_compact_fragments: usize,
        auto_cleanup_every: u64,
        auto_cleanup_older_than: f64,
        monitor_recall: bool,
        inline_deletions: bool,
        max_retries: u32,
    ) -> PyResult<Self> {
        let options = TableOptions {
            read_consistency_interval: read_consistency_interval
                .map(|s| seconds("read_consistency_interval", s))
                .transpose()?,
            auto_compact_fragments,
            auto_cleanup_every,
            auto_cleanup_older_than: seconds("auto_cleanup_older_than", auto_cleanup_older_than)?,
            monitor_recall,
            inline_deletions,
            max_retries,
        };
        let db = run(py, Cost::Quick, |_| Database::connect_with(&uri, options))?;
        Ok(PyDatabase {
            inner: Arc::new(db),
        })
    }

    #[getter]
    fn uri(&self) -> String {
        self.inner.root().display().to_string()
    }

    fn table_names(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let db = self.inner.clone();
        run(py, Cost::Quick, move |_| db.table_names())
    }

    fn contains(&self, py: Python<'_>, name: String) -> PyResult<bool> {
        let db = self.inner.clone();
        run(py, Cost::Quick, move |_| db.contains(&name))
    }

    fn open_table(&self, py: Python<'_>, name: String) -> PyResult<PyTable> {
        let db = self.inner.clone();
        let t = run(py, Cost::Quick, move |_| db.open_table(&name))?;
        Ok(PyTable::new(t))
    }

    fn drop_table(&self, py: Python<'_>, name: String) -> PyResult<()> {
        let db = self.inner.clone();
        run(py, Cost::Long, move |_| db.drop_table(&name))
    }

    fn rename_table(&self, py: Python<'_>, cur_name: String, new_name: String) -> PyResult<()> {
        let db = self.inner.clone();
        run(py, Cost::Quick, move |_| {
            db.rename_table(&cur_name, &new_name)
        })
    }

    // The Python method's keywords, one each, as `Database.create_table` documents them.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (name, data=None, schema=None, mode="create", exist_ok=false, on_bad_vectors="error", fill_value=0.0))]
    fn create_table(
        &self,
        py: Python<'_>,
        name: String,
        data: Option<Bound<'_, PyAny>>,
        schema: Option<Bound<'_, PyAny>>,
        mode: &str,
        exist_ok: bool,
        on_bad_vectors: &str,
        fill_value: f32,
    ) -> PyResult<PyTable> {
        let bad_vectors =
            BadVectors::parse(on_bad_vectors, fill_value).map_err(crate::error::to_py_err)?;
        let mode = match mode {
            "create" => CreateMode::Create,
            "overwrite" => CreateMode::Overwrite,
            other => {
                return Err(crate::error::invalid(format!(
                    "mode must be 'create' or 'overwrite', not {other:?}"
                )))
            }
        };
        let schema = schema.map(|s| import_schema(&s)).transpose()?;
        let reader = data.map(|d| import_stream(&d)).transpose()?;
        let db = self.inner.clone();
        let t = run(py, Cost::Long, move |cancel| {
            let mut it = reader.map(batches);
            let it = it
                .as_mut()
                .map(|i| i as &mut dyn Iterator<Item = oxvec::Result<_>>);
            let options = CreateOptions {
                mode,
                exist_ok,
                bad_vectors,
            };
            db.create_table_with(&name, schema, it, &options, cancel)
        })?;
        Ok(PyTable::new(t))
    }
}
