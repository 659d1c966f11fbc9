//! Every index kind oxvec knows, and the two doors into them: [`build`] and [`open`].
//!
//! Adding a kind is a new module implementing the kind traits plus one line in [`KINDS`].

use crate::file::{FileWriter, IndexFile};
use crate::header::IndexHeader;
use crate::index::{finish, VectorIndex};
use crate::kind::{IndexKind, VectorKind};
use crate::options::BuildOptions;
use crate::source::{Prepared, VectorSource};
use crate::space::Space;
use crate::{hnsw, ivf_pq, ivf_rq};
use oxvec_core::{CancelToken, Error, Metric, Result};
use std::path::Path;
use std::sync::atomic::AtomicU64;

/// A registered kind, by family. Scalar and full-text kinds join as their own variants, so a
/// lookup can say "that name is a text index" instead of "unknown".
#[derive(Debug, Clone, Copy)]
pub enum Registered {
    Vector(&'static dyn VectorKind),
}

impl Registered {
    fn kind(self) -> &'static dyn IndexKind {
        match self {
            Registered::Vector(k) => k,
        }
    }

    /// The vector kind, if this is one.
    pub fn as_vector(self) -> Option<&'static dyn VectorKind> {
        match self {
            Registered::Vector(k) => Some(k),
        }
    }
}

/// The registry: one line per kind.
pub static KINDS: &[Registered] = &[
    Registered::Vector(&hnsw::Hnsw),
    Registered::Vector(&ivf_pq::IVF_PQ),
    Registered::Vector(&ivf_rq::IVF_RQ),
];

/// The kind called `name` (any case, or one of its aliases).
pub fn find(name: &str) -> Option<Registered> {
    let upper = name.to_ascii_uppercase();
    KINDS.iter().copied().find(|r| {
        let k = r.kind();
        k.name() == upper || k.aliases().contains(&upper.as_str())
    })
}

/// The vector kind called `name`; the error lists the ones there are.
pub fn vector_kind(name: &str) -> Result<&'static dyn VectorKind> {
    match find(name).and_then(Registered::as_vector) {
        Some(k) => Ok(k),
        None => {
            let names: Vec<String> = KINDS
                .iter()
                .filter_map(|r| r.as_vector())
                .map(|k| format!("'{}'", k.name()))
                .collect();
            Err(Error::invalid(format!(
                "unknown index_type '{name}'; expected one of {}",
                names.join(", ")
            )))
        }
    }
}

/// Builds an index of `kind` over raw `vectors` (node `i` is table row `row_ids[i]`), read
/// through the source in blocks. Returns the file bytes and the header CRC the manifest
/// records.
pub fn build(
    kind: &dyn VectorKind,
    metric: Metric,
    vectors: &dyn VectorSource,
    row_ids: &[u64],
    opts: &BuildOptions,
    progress: &AtomicU64,
    cancel: &CancelToken,
) -> Result<(Vec<u8>, u32)> {
    let (n, dim) = (row_ids.len(), vectors.dim());
    if dim == 0 || vectors.len() != n {
        return Err(Error::invalid("index build: vectors and row ids disagree"));
    }
    if n >= u32::MAX as usize {
        return Err(Error::invalid("an index holds at most 2^32 - 1 vectors"));
    }
    let builder = kind.builder(Space::for_metric(metric), dim, n, opts)?;
    let prepared = Prepared {
        inner: vectors,
        metric,
    };
    let mut w = FileWriter::new();
    let fields = builder.build(&prepared, row_ids, progress, cancel, &mut w)?;
    finish(w, kind.name(), metric, dim, n, fields)
}

/// Opens an index file, checking its size and header checksum against the manifest's
/// record and its header against the registry. Reads only the header.
pub fn open(path: &Path, size: u64, header_crc: u32) -> Result<Box<dyn VectorIndex>> {
    let file = IndexFile::open(path, size, header_crc)?;
    let header = IndexHeader::read(&file)?;
    match find(&header.kind).and_then(Registered::as_vector) {
        Some(kind) if kind.name() == header.kind => kind.open(file, header),
        _ => Err(Error::corrupt(
            path,
            format!("unknown index kind '{}'", header.kind),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_in_any_case_and_unknown_ones_list_the_kinds() {
        assert_eq!(vector_kind("hnsw").unwrap().name(), "HNSW");
        assert_eq!(vector_kind("HNSW_SQ").unwrap().name(), "HNSW");
        assert_eq!(vector_kind("Ivf_Rq").unwrap().name(), "IVF_RQ");
        let e = vector_kind("IVF_HNSW_SQ").unwrap_err().to_string();
        assert!(e.contains("'HNSW', 'IVF_PQ', 'IVF_RQ'"), "{e}");
        for r in KINDS {
            let k = r.kind();
            assert_eq!(find(k.name()).map(|f| f.kind().name()), Some(k.name()));
        }
    }
}
