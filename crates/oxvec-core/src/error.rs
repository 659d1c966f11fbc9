//! The single error type of the oxvec engine.
//!
//! Each variant is a stable kind that the Python layer maps to one exception class, so the
//! kinds must stay coarse and the messages must carry the specifics (column, row, expected,
//! actual, path).

use std::path::PathBuf;

/// Result alias used across oxvec.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every failure the engine reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No table of that name exists in the database.
    #[error("Table '{name}' was not found")]
    TableNotFound { name: String },
    /// A table of that name already exists.
    #[error("Table '{name}' already exists")]
    TableExists { name: String },
    /// Data does not fit the table schema, or a schema itself is unusable.
    #[error("{message}")]
    Schema { message: String },
    /// A value supplied by the caller is invalid (NaN vector, bad name, bad argument).
    #[error("{message}")]
    InvalidInput { message: String },
    /// A filter or SQL expression could not be parsed or type-checked.
    #[error("invalid {what}: {message}")]
    Filter {
        /// What failed: `filter`, or the expression argument (`values_sql expression`).
        what: &'static str,
        message: String,
    },
    /// Another writer committed a conflicting change first.
    #[error("commit conflict: {message}")]
    CommitConflict { message: String, retryable: bool },
    /// A file failed its checksum or could not be decoded.
    #[error("corrupt file {}: {message}", path.display())]
    CorruptFile { path: PathBuf, message: String },
    /// The operating system refused an IO operation.
    #[error("storage error on {}: {source}", path.display())]
    Storage {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The operation was cancelled (Ctrl-C) before it finished; nothing was committed.
    #[error("operation interrupted")]
    Interrupted,
    /// The operation ran past the time it was given before it finished; nothing was
    /// committed.
    #[error(
        "the operation did not finish within its timeout of {seconds} s; nothing was committed"
    )]
    TimedOut { seconds: f64 },
    /// A fault inside the engine (a failed Arrow or serde call on data the engine itself made,
    /// a worker that panicked): a bug, never the caller's input.
    #[error("internal error: {message}. This is a bug in oxvec; please report it with the steps that led to it")]
    Internal { message: String },
}

impl Error {
    /// Shorthand for [`Error::Schema`].
    pub fn schema(message: impl Into<String>) -> Self {
        Error::Schema {
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidInput {
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Filter`].
    pub fn filter(message: impl Into<String>) -> Self {
        Error::Filter {
            what: "filter",
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::CorruptFile`].
    pub fn corrupt(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::CorruptFile {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Internal`]: `what` failed with `cause` where it cannot fail on
    /// valid engine state.
    pub fn internal(what: &str, cause: impl std::fmt::Display) -> Self {
        Error::Internal {
            message: format!("{what}: {cause}"),
        }
    }

    /// Wraps an IO error with the path it happened on.
    pub fn storage(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Storage {
            path: path.into(),
            source,
        }
    }
}
