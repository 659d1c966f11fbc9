//! A database: a directory of tables.

use crate::bad_vectors::{repair, BadVectors};
use crate::ingest::{conform, infer_schema, same_type, validate_schema};
use crate::options::TableOptions;
use crate::table::Table;
use crate::write::write_fragments;
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use oxvec_core::{validate_table_name, CancelToken, Error, Result};
use oxvec_storage::commit_create;
use oxvec_storage::durable::io_err;
use oxvec_storage::TableDir;
use std::path::{Path, PathBuf};

const TABLE_SUFFIX: &str = ".oxvec";
/// Names a dropped table's directory takes until it is removed (hidden, and not a table
/// name: `table_names` never lists it).
const DROPPED_PREFIX: &str = ".dropped-";

/// What `create_table` does when the table exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateMode {
    /// Fail with [`Error::TableExists`] (or open it, with `exist_ok`).
    Create,
    /// Replace its contents as a new version.
    Overwrite,
}

/// How `create_table` treats an existing table and bad vectors in its data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CreateOptions {
    pub mode: CreateMode,
    /// With [`CreateMode::Create`], open an existing table (of the same schema) instead.
    pub exist_ok: bool,
    pub bad_vectors: BadVectors,
}

/// A directory holding tables.
#[derive(Debug, Clone)]
pub struct Database {
    root: PathBuf,
    options: TableOptions,
}

impl Database {
    /// Opens (creating if missing) the database at `uri`: a path or a `file://` URI.
    pub fn connect(uri: &str) -> Result<Database> {
        Database::connect_with(uri, TableOptions::default())
    }

    /// Like [`Database::connect`], with the refresh and maintenance behaviour of its tables.
    pub fn connect_with(uri: &str, options: TableOptions) -> Result<Database> {
        let path = uri.strip_prefix("file://").unwrap_or(uri);
        if path.is_empty() {
            return Err(Error::invalid("database path is empty"));
        }
        if let Some(scheme) = path.split_once("://").map(|(s, _)| s) {
            return Err(Error::invalid(format!(
                "unsupported URI scheme '{scheme}://'; use a local path"
            )));
        }
        let root = PathBuf::from(path);
        std::fs::create_dir_all(&root).map_err(io_err(&root))?;
        let root = root.canonicalize().map_err(io_err(&root))?;
        Ok(Database { root, options })
    }

    /// The database directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of table `name`, refusing names that could resolve elsewhere.
    fn table_dir(&self, name: &str) -> Result<TableDir> {
        validate_table_name(name)?;
        let path = self.root.join(format!("{name}{TABLE_SUFFIX}"));
        if let Ok(md) = std::fs::symlink_metadata(&path) {
            if md.file_type().is_symlink() {
                return Err(Error::invalid(format!(
                    "table '{name}' is a symbolic link; oxvec does not follow links out of the database"
                )));
            }
        }
        Ok(TableDir::new(path))
    }

    /// Names of all tables, sorted.
    pub fn table_names(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.root).map_err(io_err(&self.root))? {
            let entry = entry.map_err(io_err(&self.root))?;
            let name = entry.file_name();
            let Some(name) = name.to_str().and_then(|n| n.strip_suffix(TABLE_SUFFIX)) else {
                continue;
            };
            if validate_table_name(name).is_ok()
                && entry.file_type().is_ok_and(|t| t.is_dir())
                && TableDir::new(entry.path()).latest_version()?.is_some()
            {
                out.push(name.to_string());
            }
        }
        out.sort();
        Ok(out)
    }

    /// Whether table `name` exists.
    pub fn contains(&self, name: &str) -> Result<bool> {
        match self.table_dir(name) {
            Ok(d) => Ok(d.latest_version()?.is_some()),
            Err(_) => Ok(false),
        }
    }

    /// Opens table `name` at its newest version.
    pub fn open_table(&self, name: &str) -> Result<Table> {
        Table::open(name, self.table_dir(name)?, &self.options)
    }

    /// Deletes table `name` and all its versions.
    ///
    /// The table's directory is first renamed to a hidden name (one atomic step, made
    /// durable), then removed: a crash in between leaves a hidden directory, which the next
    /// drop removes, never a table with some of its files gone.
    pub fn drop_table(&self, name: &str) -> Result<()> {
        let dir = self.table_dir(name)?;
        if dir.latest_version()?.is_none() {
            return Err(Error::TableNotFound {
                name: name.to_string(),
            });
        }
        let doomed = self.root.join(format!(
            "{DROPPED_PREFIX}{}",
            oxvec_storage::durable::new_id()
        ));
        match std::fs::rename(dir.root(), &doomed) {
            Ok(()) => {}
            // Another drop (another process) renamed it first.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::TableNotFound {
                    name: name.to_string(),
                })
            }
            Err(e) => return Err(Error::storage(dir.root(), e)),
        }
        oxvec_storage::durable::sync_dir(&self.root)?;
        self.remove_dropped();
        Ok(())
    }

    /// Renames table `from` to `to` in one step (its directory is renamed); `to` must not
    /// exist. Handles opened on `from` find it gone.
    pub fn rename_table(&self, from: &str, to: &str) -> Result<()> {
        let src = self.table_dir(from)?;
        let dst = self.table_dir(to)?;
        if src.latest_version()?.is_none() {
            return Err(Error::TableNotFound {
                name: from.to_string(),
            });
        }
        if from == to {
            return Ok(());
        }
        match oxvec_storage::durable::rename_no_replace(src.root(), dst.root()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::TableNotFound {
                    name: from.to_string(),
                })
            }
            Err(e)
                if e.kind() == std::io::ErrorKind::AlreadyExists
                    || e.kind() == std::io::ErrorKind::DirectoryNotEmpty =>
            {
                return Err(Error::TableExists {
                    name: to.to_string(),
                })
            }
            Err(e) => return Err(Error::storage(src.root(), e)),
        }
        oxvec_storage::durable::sync_dir(&self.root)
    }

    /// Removes what dropped tables left (best effort: the tables are gone already; what
    /// cannot be removed now is tried again at the next drop).
    fn remove_dropped(&self) {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return;
        };
        for entry in entries.flatten() {
            let is_dropped = entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(DROPPED_PREFIX));
            if is_dropped && entry.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }

    /// Creates table `name` from an optional schema and optional data.
    ///
    /// With no schema, it is inferred from the first batch (float lists become vectors).
    /// The first version holds all the data, or nothing is written: on any error the
    /// database directory is left as it was.
    pub fn create_table(
        &self,
        name: &str,
        schema: Option<SchemaRef>,
        batches: Option<&mut dyn Iterator<Item = Result<RecordBatch>>>,
        mode: CreateMode,
        exist_ok: bool,
        cancel: &CancelToken,
    ) -> Result<Table> {
        let options = CreateOptions {
            mode,
            exist_ok,
            bad_vectors: BadVectors::Error,
        };
        self.create_table_with(name, schema, batches, &options, cancel)
    }

    /// [`Self::create_table`] with rows whose vectors are bad handled by
    /// `options.bad_vectors` (their dimension is the schema's, or the first row's).
    pub fn create_table_with(
        &self,
        name: &str,
        schema: Option<SchemaRef>,
        batches: Option<&mut dyn Iterator<Item = Result<RecordBatch>>>,
        options: &CreateOptions,
        cancel: &CancelToken,
    ) -> Result<Table> {
        let CreateOptions {
            mode,
            exist_ok,
            bad_vectors,
        } = *options;
        let dir = self.table_dir(name)?;
        let mut empty = std::iter::empty();
        let batches: &mut dyn Iterator<Item = Result<RecordBatch>> = match batches {
            Some(b) => b,
            None => &mut empty,
        };
        // Look at the first batch before touching the disk: most bad input is caught here.
        let first = batches.next().transpose()?;
        let schema = match (schema, &first) {
            (Some(s), _) => {
                validate_schema(&s)?;
                s
            }
            (None, Some(b)) => infer_schema(&b.schema(), Some(b))?,
            (None, None) => return Err(Error::schema("create_table needs data or a schema")),
        };
        let first = first
            .map(|b| conform(&repair(b, &schema, bad_vectors)?, &schema, 0))
            .transpose()?;
        let target = schema.clone();
        let rest = batches.map(move |b| b.and_then(|b| repair(b, &target, bad_vectors)));
        let mut all = first.into_iter().map(Ok).chain(rest);

        if dir.latest_version()?.is_some() {
            match (mode, exist_ok) {
                (CreateMode::Overwrite, _) => {
                    let t = Table::open(name, dir, &self.options)?;
                    t.overwrite(schema, &mut all, cancel)?;
                    return Ok(t);
                }
                (CreateMode::Create, true) => {
                    let t = Table::open(name, dir, &self.options)?;
                    let have = t.schema();
                    if let Some(diff) = schema_differences(&have, &schema) {
                        return Err(Error::schema(format!(
                            "table '{name}' exists with another schema ({diff}); exist_ok \
                             opens it only when the schemas match"
                        )));
                    }
                    return Ok(t);
                }
                (CreateMode::Create, false) => {
                    return Err(Error::TableExists {
                        name: name.to_string(),
                    })
                }
            }
        }
        let created_dir = !dir.root().exists();
        // A failed create removes only what it made: its staged files are discarded by the
        // caller, and of the layout only directories still empty (another handle may have
        // created the same table meanwhile; its files are never ours to remove).
        let cleanup = |e: Error| {
            let e = vanished_layout(name, &dir, e);
            // `versions/` goes first: if it is not empty another create has published, and
            // nothing else is touched; once it is gone, a racing create cannot publish.
            if created_dir && std::fs::remove_dir(dir.versions_dir()).is_ok() {
                for d in [
                    dir.data_dir(),
                    dir.deletions_dir(),
                    dir.root().to_path_buf(),
                ] {
                    let _ = std::fs::remove_dir(d);
                }
            }
            e
        };
        dir.create_layout().map_err(cleanup)?;
        let staged = write_fragments(&dir, &schema, &mut all, cancel).map_err(cleanup)?;
        if let Err(e) = cancel.check() {
            staged.discard();
            return Err(cleanup(e));
        }
        match commit_create(&dir, name, schema, staged.fragments.clone(), "create") {
            Ok(m) => Ok(Table::from_manifest(name, dir, m, &self.options)),
            Err(e) => {
                staged.discard();
                // Another writer created the table first: its directory is not ours to remove.
                if matches!(e, Error::TableExists { .. }) {
                    Err(e)
                } else {
                    Err(cleanup(e))
                }
            }
        }
    }
}

/// `e`, or a retryable [`Error::CommitConflict`] when it is a missing file or directory of a
/// table being created whose layout is gone: another create of the same name failed and
/// removed the directories it made, which this call was about to use. Trying again works.
fn vanished_layout(name: &str, dir: &TableDir, e: Error) -> Error {
    let missing = matches!(&e, Error::Storage { source, .. }
        if source.kind() == std::io::ErrorKind::NotFound);
    let gone = [dir.versions_dir(), dir.data_dir()]
        .iter()
        .any(|d| !d.is_dir());
    if missing && gone {
        return Error::CommitConflict {
            message: format!(
                "another create_table('{name}') failed and removed the table's directories \
                 while this one was writing; retry"
            ),
            retryable: true,
        };
    }
    e
}

/// What differs between an existing table's schema and the one a create asked for (column
/// names and types; nullability and metadata are not compared), or `None` if nothing does.
fn schema_differences(
    have: &arrow::datatypes::Schema,
    want: &arrow::datatypes::Schema,
) -> Option<String> {
    let mut out = Vec::new();
    for f in want.fields() {
        match have.field_with_name(f.name()) {
            Err(_) => out.push(format!("'{}' is not in the table", f.name())),
            Ok(h) if !same_type(h.data_type(), f.data_type()) => out.push(format!(
                "'{}' is {} in the table, {} here",
                f.name(),
                h.data_type(),
                f.data_type()
            )),
            Ok(_) => {}
        }
    }
    for h in have.fields() {
        if want.field_with_name(h.name()).is_err() {
            out.push(format!("the table's '{}' is missing here", h.name()));
        }
    }
    (!out.is_empty()).then(|| out.join("; "))
}
