//! Checksums of a fragment's parts, so that reading some columns checks only those.
//!
//! A fragment's manifest entry keeps the whole file's CRC32C and, for files written since,
//! one CRC32C per column (over the column's buffers, in file order) and one over the rest
//! (footer, schema, message headers, padding). Opening a fragment checks the rest, so its
//! metadata is known good before anything is decoded; a column's buffers are checked the
//! first time a read asks for that column. Every byte is covered by exactly one checksum,
//! so a read of all columns checks what the whole-file checksum did, while a scan of two
//! columns out of a vector table reads those two columns' bytes and not the vectors'.

use crate::fragment::Mapping;
use crate::ipc_check::Ranges;
use oxvec_core::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// Columns whose buffers total at least this many bytes give their pages back after their
/// check: checking must not leave a whole large column resident in the process.
const RELEASE_AFTER_CHECK: u64 = 8 << 20;

/// Part checksums of a fragment file, as its manifest entry records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartChecksums {
    /// CRC32C of every byte outside the columns' buffers, in file order.
    pub metadata: u32,
    /// CRC32C of each column's buffers (file schema order), in file order.
    pub columns: Vec<u32>,
}

/// Where each top-level column's buffers lie in a file, over all its record batches.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layout {
    pub columns: Vec<Ranges>,
}

impl Layout {
    /// Adds one record batch's per-column ranges.
    pub fn add_batch(&mut self, columns: Vec<Ranges>) {
        if self.columns.len() < columns.len() {
            self.columns.resize_with(columns.len(), Vec::new);
        }
        for (all, batch) in self.columns.iter_mut().zip(columns) {
            all.extend(batch);
        }
    }

    /// The ranges of a file of `len` bytes outside every column's buffers, in order.
    fn gaps(&self, len: u64) -> Ranges {
        let mut used: Ranges = self.columns.iter().flatten().copied().collect();
        used.sort_unstable();
        let mut out = Vec::new();
        let mut at = 0u64;
        for (start, n) in used {
            if start > at {
                out.push((at, start - at));
            }
            at = at.max(start + n);
        }
        if at < len {
            out.push((at, len - at));
        }
        out
    }

    /// The checksums of `bytes` (the whole file) cut up by this layout.
    pub fn checksums(&self, bytes: &[u8]) -> PartChecksums {
        PartChecksums {
            metadata: crc_of(bytes, &self.gaps(bytes.len() as u64)),
            columns: self.columns.iter().map(|r| crc_of(bytes, r)).collect(),
        }
    }

    /// Checks the metadata part of `bytes` against `expected`, and that it describes as many
    /// columns as the file has.
    pub fn check_metadata(
        &self,
        bytes: &[u8],
        expected: &PartChecksums,
        path: &PathBuf,
    ) -> Result<()> {
        if expected.columns.len() != self.columns.len() {
            return Err(Error::corrupt(
                path,
                format!(
                    "the manifest has checksums of {} columns, the file holds {}",
                    expected.columns.len(),
                    self.columns.len()
                ),
            ));
        }
        let actual = crc_of(bytes, &self.gaps(bytes.len() as u64));
        if actual != expected.metadata {
            return Err(Error::corrupt(
                path,
                format!(
                    "metadata checksum mismatch: expected crc32c {:08x}, found {actual:08x}",
                    expected.metadata
                ),
            ));
        }
        Ok(())
    }
}

fn crc_of(bytes: &[u8], ranges: &Ranges) -> u32 {
    ranges.iter().fold(0, |crc, &(start, n)| {
        crc32c::crc32c_append(crc, &bytes[start as usize..(start + n) as usize])
    })
}

/// The columns of an opened fragment still to be checked (none for a file checked whole).
#[derive(Debug, Clone, Default)]
pub struct ColumnChecks(Option<Arc<Pending>>);

#[derive(Debug)]
struct Pending {
    path: PathBuf,
    mapping: Mapping,
    names: Vec<String>,
    layout: Layout,
    expected: Vec<u32>,
    checked: Vec<OnceLock<bool>>,
}

impl ColumnChecks {
    /// Nothing left to check: the file was checked whole.
    pub fn none() -> Self {
        ColumnChecks(None)
    }

    pub(crate) fn pending(
        path: PathBuf,
        mapping: Mapping,
        names: Vec<String>,
        layout: Layout,
        expected: Vec<u32>,
    ) -> Self {
        let checked = expected.iter().map(|_| OnceLock::new()).collect();
        ColumnChecks(Some(Arc::new(Pending {
            path,
            mapping,
            names,
            layout,
            expected,
            checked,
        })))
    }

    /// Checks the file column `name` (once; later calls return the first answer). A name
    /// the file does not hold has nothing to check.
    pub fn verify(&self, name: &str) -> Result<()> {
        let Some(p) = &self.0 else {
            return Ok(());
        };
        match p.names.iter().position(|n| n == name) {
            Some(i) => p.verify(i),
            None => Ok(()),
        }
    }

    /// Checks every column.
    pub fn verify_all(&self) -> Result<()> {
        let Some(p) = &self.0 else {
            return Ok(());
        };
        (0..p.names.len()).try_for_each(|i| p.verify(i))
    }
}

impl Pending {
    fn verify(&self, i: usize) -> Result<()> {
        let ok = *self.checked[i].get_or_init(|| {
            let bytes = self.mapping.bytes();
            let ranges = &self.layout.columns[i];
            let ok = crc_of(bytes, ranges) == self.expected[i];
            if ranges.iter().map(|r| r.1).sum::<u64>() >= RELEASE_AFTER_CHECK {
                for &(start, n) in ranges {
                    self.mapping
                        .release(&bytes[start as usize..(start + n) as usize]);
                }
            }
            ok
        });
        if ok {
            Ok(())
        } else {
            Err(Error::corrupt(
                &self.path,
                format!(
                    "checksum mismatch in column '{}' (expected crc32c {:08x})",
                    self.names[i], self.expected[i]
                ),
            ))
        }
    }
}
