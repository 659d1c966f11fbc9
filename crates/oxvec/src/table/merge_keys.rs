//! `merge_insert`'s join through a scalar index: which table rows each source key matches,
//! by fragment, so a merge reads no keys of the fragments the index covers.

use crate::scalar::IndexedKeys;
use oxvec_core::RowId;
use std::collections::{HashMap, HashSet};

/// The index's answer for a merge's source keys, by fragment.
pub(super) struct KeyMatches {
    covered: HashSet<u32>,
    /// Per covered fragment with matches: `(row offset, source row)`, by offset.
    by_fragment: HashMap<u32, Vec<(u32, u32)>>,
    /// Whether a pair's keys are equal for certain (else the caller compares them).
    pub exact: bool,
    /// Two source rows with the same key, if any.
    pub repeated: Option<(u32, u32)>,
}

impl KeyMatches {
    pub fn new(keys: IndexedKeys) -> KeyMatches {
        let mut pairs = keys.pairs;
        pairs.sort_unstable_by_key(|&(_, row)| row);
        let mut by_fragment: HashMap<u32, Vec<(u32, u32)>> = HashMap::new();
        // Sorted by row id, each fragment's pairs form one run.
        for run in pairs
            .chunk_by(|a, b| RowId::from_u64(a.1).fragment() == RowId::from_u64(b.1).fragment())
        {
            let fragment = RowId::from_u64(run[0].1).fragment();
            if keys.covered.contains(&fragment) {
                by_fragment.insert(
                    fragment,
                    run.iter()
                        .map(|&(src, row)| (RowId::from_u64(row).offset(), src))
                        .collect(),
                );
            }
        }
        KeyMatches {
            covered: keys.covered,
            by_fragment,
            exact: keys.exact,
            repeated: keys.repeated,
        }
    }

    /// The matches among rows `start..start + len` of `fragment` (offsets from the
    /// fragment's start); `None` when the index does not cover the fragment, whose every
    /// key must then be read.
    pub fn in_rows(&self, fragment: u32, start: u32, len: usize) -> Option<&[(u32, u32)]> {
        if !self.covered.contains(&fragment) {
            return None;
        }
        let Some(m) = self.by_fragment.get(&fragment) else {
            return Some(&[]);
        };
        Some(crate::scalar::in_span(m, |p| p.0, start, len))
    }
}
