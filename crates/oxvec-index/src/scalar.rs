//! Scalar indexes: which rows hold which value of one column, for filters.
//!
//! Values arrive as order-preserving byte keys (the caller encodes them: integers
//! big-endian with the sign flipped, floats by their total order, strings as UTF-8), so one
//! layout serves every type: the distinct keys sorted (`key_bytes` + `key_offsets`), each
//! key's row ids (`post_start` into `rows`, sorted within a key), and the rows whose value is
//! null (`null_rows`). An equality or `IN` is a binary search per key; a range is the run of
//! keys between two binary searches. `BTREE` and `BITMAP` share the layout (the name says
//! what the user asked for: many distinct values, or few); lookups return row ids.

use crate::file::{FileWriter, IndexFile};
use oxvec_core::{CancelToken, Error, Result};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::ops::Bound;
use std::path::Path;

/// The container's label for scalar index files.
pub const CONTAINER: &str = "oxvec-scalar";
/// The header layout this build writes; newer files are refused, not misread.
pub const FORMAT_VERSION: u32 = 1;
/// The scalar kinds (names in headers and manifests).
/// `LABEL_LIST` indexes list columns: one key per distinct element of a row's list (a
/// row appears under each of its labels; a null list is a null row).
pub const KINDS: &[&str] = &["BTREE", "BITMAP", "LABEL_LIST"];

/// What a scalar index file says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalarHeader {
    pub format_version: u32,
    /// `BTREE` or `BITMAP`.
    pub kind: String,
    pub column: String,
    /// The column's Arrow type as text, to refuse a file built for another type.
    pub data_type: String,
    /// Rows indexed (null ones included).
    pub rows: u64,
    pub distinct: u64,
}

/// Which keys a lookup wants.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyPredicate {
    /// Any of these keys (`=`, `IN`).
    AnyOf(Vec<Vec<u8>>),
    /// Keys in a range (`<`, `<=`, `>`, `>=`, `BETWEEN`).
    Range(Bound<Vec<u8>>, Bound<Vec<u8>>),
    /// Null values.
    IsNull,
}

/// A key of at most 16 bytes as the integer its big-endian bytes spell.
#[inline]
fn as_int(k: &[u8]) -> u128 {
    // The common widths (integer and float keys) as loads, not a copy of unknown length
    // (a call to `memcpy` per key compared).
    match k.len() {
        16 => u128::from_be_bytes(k.try_into().expect("16 bytes")),
        8 => u64::from_be_bytes(k.try_into().expect("8 bytes")) as u128,
        _ => {
            let mut b = [0u8; 16];
            b[16 - k.len()..].copy_from_slice(k);
            u128::from_be_bytes(b)
        }
    }
}

/// Sorts `(key, tag)` pairs: a byte-wise radix sort over the bytes in which the keys
/// differ (keys from a range of a few million differ in three of sixteen) when there are
/// many pairs and at most half the bytes differ, else a comparison sort. Both order equal
/// keys by tag.
fn sort_keys(v: &mut Vec<(u128, u32)>) {
    let Some(&(first, _)) = v.first() else {
        return;
    };
    let differ = v.iter().fold(0u128, |d, p| d | (p.0 ^ first));
    let digits: Vec<u32> = (0..16)
        .filter(|b| (differ >> (8 * b)) & 0xff != 0)
        .collect();
    if v.len() < 1024 || digits.len() > 8 {
        v.sort_unstable();
        return;
    }
    debug_assert!(
        v.is_sorted_by_key(|p| p.1),
        "tags ascend, so a stable sort keeps them so"
    );
    let mut out = vec![(0u128, 0u32); v.len()];
    for shift in digits.into_iter().map(|b| 8 * b) {
        let digit = |p: &(u128, u32)| ((p.0 >> shift) & 0xff) as usize;
        let mut at = [0usize; 256];
        for p in v.iter() {
            at[digit(p)] += 1;
        }
        let mut sum = 0;
        for a in at.iter_mut() {
            (*a, sum) = (sum, sum + *a);
        }
        for p in v.iter() {
            let d = digit(p);
            out[at[d]] = *p;
            at[d] += 1;
        }
        std::mem::swap(v, &mut out);
    }
}

/// Asks the CPU to start loading the cache line holding `s[i]` (a hint: results do not
/// depend on it; out of bounds, nothing happens).
#[inline]
fn prefetch<T>(s: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(x) = s.get(i) {
        // SAFETY: a prefetch is a hint that reads nothing the program sees and cannot
        // fault; the address is moreover that of a live element of `s`.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                (x as *const T).cast::<i8>(),
            )
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (s, i);
}

/// The first index in `from..n` for which `less` is false, given that it holds for
/// every index before `from` and is monotone: an exponential search from `from`, then a
/// binary search within the last step. Ascending lookups each start where the previous
/// ended, touching nearby keys rather than a fresh path from the middle.
fn gallop(from: usize, n: usize, less: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi, mut step) = (from, from, 1usize);
    while hi < n && less(hi) {
        lo = hi + 1;
        hi = hi.saturating_add(step).min(n);
        step = step.saturating_mul(2);
    }
    while lo < hi {
        let mid = (lo + hi) / 2;
        if less(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Builds a scalar index from `(key, row id)` pairs (`None`: a null value).
pub fn build(
    kind: &str,
    column: &str,
    data_type: &str,
    mut pairs: Vec<(Option<Vec<u8>>, u64)>,
    cancel: &CancelToken,
) -> Result<(Vec<u8>, u32)> {
    if !KINDS.contains(&kind) {
        return Err(Error::invalid(format!(
            "unknown scalar index type '{kind}'; expected one of {KINDS:?}"
        )));
    }
    cancel.check()?;
    let rows = pairs.len() as u64;
    let mut null_rows: Vec<u64> = Vec::new();
    pairs.retain(|(k, r)| {
        if k.is_none() {
            null_rows.push(*r);
        }
        k.is_some()
    });
    pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    cancel.check()?;
    null_rows.sort_unstable();
    let mut key_bytes: Vec<u8> = Vec::new();
    let mut key_offsets: Vec<u64> = vec![0];
    let mut post_start: Vec<u64> = vec![0];
    let mut out_rows: Vec<u64> = Vec::with_capacity(pairs.len());
    let mut last: Option<&[u8]> = None;
    for (k, r) in &pairs {
        let k = k.as_deref().expect("nulls removed");
        if last != Some(k) {
            if last.is_some() {
                post_start.push(out_rows.len() as u64);
            }
            key_bytes.extend_from_slice(k);
            key_offsets.push(key_bytes.len() as u64);
            last = Some(k);
        }
        out_rows.push(*r);
    }
    if last.is_some() {
        post_start.push(out_rows.len() as u64);
    }
    let distinct = (key_offsets.len() - 1) as u64;
    let mut w = FileWriter::new();
    w.section("key_bytes", &key_bytes)
        .section("key_offsets", &key_offsets)
        .section("post_start", &post_start)
        .section("rows", &out_rows)
        .section("null_rows", &null_rows);
    let header = ScalarHeader {
        format_version: FORMAT_VERSION,
        kind: kind.to_string(),
        column: column.to_string(),
        data_type: data_type.to_string(),
        rows,
        distinct,
    };
    let meta = serde_json::to_value(&header)
        .map_err(|e| Error::internal("encoding a scalar index header", e))?;
    w.finish(CONTAINER, meta)
}

/// What [`ScalarIndex::lookup_each`] found for a list of keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Each {
    /// `(position in the keys, row id)` for every row holding one of the keys, grouped by
    /// key in ascending key order (row ids ascending within a key).
    pub pairs: Vec<(u32, u64)>,
    /// Two positions holding the same key, the second as early as any repeat's (the pair
    /// a scan through the keys in order would meet first); `None` when keys are distinct.
    pub repeated: Option<(u32, u32)>,
}

/// What [`ScalarIndex`]'s search for a list of keys found.
struct Found {
    /// `(position in the list, key index)` of each key the index holds, ascending by key.
    keys: Vec<(u32, usize)>,
    /// As [`Each::repeated`].
    repeated: Option<(u32, u32)>,
}

/// [`Each::repeated`] of `(key, position)` pairs sorted by key, then position.
fn first_repeat<K: PartialEq>(sorted: &[(K, u32)]) -> Option<(u32, u32)> {
    sorted
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|g| g.len() > 1)
        .map(|g| (g[0].1, g[1].1))
        .min_by_key(|&(_, second)| second)
}

/// An opened scalar index, every section checked.
#[derive(Debug)]
pub struct ScalarIndex {
    file: IndexFile,
    header: ScalarHeader,
    /// Every key's length, when they are all as long and at most 16 bytes (integer,
    /// float, date and timestamp keys): such keys compare as integers.
    width: Option<usize>,
    /// With fixed-width keys, every `fence`-th key as an integer: a copy small enough to
    /// stay in cache, so a lookup misses cache only in the one block it then searches
    /// (a binary search over the whole mapped file misses on nearly every step).
    fences: Vec<u128>,
    /// Keys per fence block (a power of two).
    fence: usize,
}

/// Keys per fence block at least: a block of 16-byte keys is then 4 cache lines.
const FENCE_MIN: usize = 16;
/// Memory the fences of one index may take before blocks grow (a 1M-key index takes 1 MB).
const FENCE_BYTES: usize = 4 << 20;
/// Keys a search counts through rather than halving (at most [`FENCE_MIN`]).
const SCAN: usize = 16;
/// How many keys ahead a lookup of many keys starts loading a key's block.
const AHEAD: usize = 8;

impl ScalarIndex {
    /// Opens a scalar index file, checking its size and header checksum against the
    /// manifest's record, and every section's checksum and structure.
    pub fn open(path: &Path, size: u64, header_crc: u32) -> Result<ScalarIndex> {
        let file = IndexFile::open(path, size, header_crc)?;
        let bad = |m: String| Error::corrupt(path, m);
        if file.header.kind != CONTAINER {
            return Err(bad(format!(
                "not a scalar index file (container '{}')",
                file.header.kind
            )));
        }
        let header: ScalarHeader = serde_json::from_value(file.header.meta.clone())
            .map_err(|e| bad(format!("bad scalar index header: {e}")))?;
        if header.format_version > FORMAT_VERSION {
            return Err(bad(format!(
                "scalar index format {} is newer than this oxvec reads ({FORMAT_VERSION})",
                header.format_version
            )));
        }
        if !KINDS.contains(&header.kind.as_str()) {
            return Err(bad(format!("unknown scalar index kind '{}'", header.kind)));
        }
        let mut ix = ScalarIndex {
            file,
            header,
            width: None,
            fences: Vec::new(),
            fence: FENCE_MIN,
        };
        ix.check().map_err(|m| bad(m.to_string()))?;
        let (_, ko) = ix.keys()?;
        let w = ko.get(1).copied().unwrap_or(0) as usize;
        if (1..=16).contains(&w) && ko.iter().enumerate().all(|(i, &o)| o == (i * w) as u64) {
            let n = ko.len() - 1;
            let fence = FENCE_MIN.max((n * size_of::<u128>() / FENCE_BYTES).next_power_of_two());
            ix.width = Some(w);
            ix.set_fences(fence)?;
        }
        Ok(ix)
    }

    /// Copies every `fence`-th fixed-width key into [`Self::fences`].
    fn set_fences(&mut self, fence: usize) -> Result<()> {
        let Some(w) = self.width else {
            return Ok(());
        };
        let kb: &[u8] = self.file.get("key_bytes")?;
        self.fences = (0..kb.len() / w)
            .step_by(fence)
            .map(|i| as_int(&kb[i * w..i * w + w]))
            .collect();
        self.fence = fence;
        Ok(())
    }

    fn check(&self) -> std::result::Result<(), &'static str> {
        let get8 = |n| {
            self.file
                .get::<u8>(n)
                .map_err(|_| "section missing or damaged")
        };
        let get64 = |n| {
            self.file
                .get::<u64>(n)
                .map_err(|_| "section missing or damaged")
        };
        let (kb, ko, ps, rows, nulls) = (
            get8("key_bytes")?,
            get64("key_offsets")?,
            get64("post_start")?,
            get64("rows")?,
            get64("null_rows")?,
        );
        let n = self.header.distinct as usize;
        if ko.len() != n + 1 || ps.len() != n + 1 || ko[0] != 0 || ps[0] != 0 {
            return Err("scalar index key tables disagree with the header");
        }
        if ko[n] != kb.len() as u64 || ps[n] != rows.len() as u64 {
            return Err("scalar index offsets do not end at their sections' ends");
        }
        if (rows.len() + nulls.len()) as u64 != self.header.rows {
            return Err("scalar index row count disagrees with the header");
        }
        for i in 0..n {
            if ko[i] > ko[i + 1] || ps[i] >= ps[i + 1] {
                return Err("scalar index offsets are not increasing");
            }
            if i + 1 < n
                && kb[ko[i] as usize..ko[i + 1] as usize]
                    >= kb[ko[i + 1] as usize..ko[i + 2] as usize]
            {
                return Err("scalar index keys are not sorted");
            }
        }
        Ok(())
    }

    pub fn header(&self) -> &ScalarHeader {
        &self.header
    }

    pub fn file(&self) -> &IndexFile {
        &self.file
    }

    fn keys(&self) -> Result<(&[u8], &[u64])> {
        Ok((self.file.get("key_bytes")?, self.file.get("key_offsets")?))
    }

    fn key<'a>(kb: &'a [u8], ko: &[u64], i: usize) -> &'a [u8] {
        &kb[ko[i] as usize..ko[i + 1] as usize]
    }

    /// The first key index whose key is `>= k` (`strict`: `> k`).
    fn lower(kb: &[u8], ko: &[u64], k: &[u8], strict: bool) -> usize {
        let (mut lo, mut hi) = (0, ko.len() - 1);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let c = Self::key(kb, ko, mid).cmp(k);
            if c == Ordering::Less || (strict && c == Ordering::Equal) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// `(tag, key index)` of each of `want` (`(key, tag)` pairs sorted by key, `w`-byte
    /// keys as integers) that the index holds, ascending. Each key's block comes from the
    /// fences (in cache); the search in a block ends in a count over at most [`SCAN`] keys,
    /// whose cache lines are all read at once (a binary search would wait for each in
    /// turn), and the blocks of the keys [`AHEAD`] places on are loading meanwhile.
    fn find_fixed(&self, kb: &[u8], w: usize, want: &[(u128, u32)], found: &mut Vec<(u32, usize)>) {
        let at_key = |i: usize| as_int(&kb[i * w..i * w + w]);
        let n = kb.len() / w;
        // Each key's block `(first key, keys)`: the last fence <= k (none: below every key).
        let mut blocks: Vec<(usize, usize)> = Vec::with_capacity(want.len());
        let mut block = 0;
        for &(k, _) in want {
            block = gallop(block, self.fences.len(), |b| self.fences[b] <= k);
            if block == 0 {
                blocks.push((0, 0));
                continue;
            }
            let base = (block - 1) * self.fence;
            blocks.push((base, (block * self.fence).min(n) - base));
            block -= 1;
        }
        // The lines a search reads first: the whole block when it is counted through, else
        // the middle key's.
        let load = |&(base, len): &(usize, usize)| {
            if len <= SCAN {
                (0..len * w)
                    .step_by(64)
                    .for_each(|b| prefetch(kb, base * w + b));
            } else {
                prefetch(kb, (base + len / 2) * w);
            }
        };
        blocks.iter().take(AHEAD).for_each(load);
        for (i, (&(k, tag), &(mut base, mut len))) in want.iter().zip(&blocks).enumerate() {
            if let Some(b) = blocks.get(i + AHEAD) {
                load(b);
            }
            if len == 0 {
                continue;
            }
            // Halving down to SCAN keys, `base` staying a key <= k; then the last key <= k
            // is `base` plus the others <= k.
            while len > SCAN {
                let half = len / 2;
                if at_key(base + half) <= k {
                    base += half;
                }
                len -= half;
            }
            let at = base + (1..len).filter(|&j| at_key(base + j) <= k).count();
            if at_key(at) == k {
                found.push((tag, at));
            }
        }
    }

    /// `(position in keys, key index)` of each of `keys` the index holds, ascending by key;
    /// and the first key given twice (see [`Each::repeated`]).
    fn find<K: AsRef<[u8]>>(&self, kb: &[u8], ko: &[u64], keys: &[K]) -> Found {
        let mut found = Vec::with_capacity(keys.len());
        let tagged = keys.iter().enumerate().map(|(i, k)| (k.as_ref(), i as u32));
        if let Some(w) = self.width {
            // Fixed-width keys as integers (big-endian bytes order as the integers do):
            // sorting and comparing without a byte-slice compare per step. Keys of another
            // width are in no entry (strings all of one length make a fixed-width index),
            // but a repeat among them is still a repeat.
            let mut want: Vec<(u128, u32)> = Vec::with_capacity(keys.len());
            let mut other: Vec<(&[u8], u32)> = Vec::new();
            for (k, i) in tagged {
                match k.len() == w {
                    true => want.push((as_int(k), i)),
                    false => other.push((k, i)),
                }
            }
            sort_keys(&mut want);
            other.sort_unstable();
            self.find_fixed(kb, w, &want, &mut found);
            let repeated = [first_repeat(&want), first_repeat(&other)]
                .into_iter()
                .flatten()
                .min_by_key(|&(_, second)| second);
            return Found {
                keys: found,
                repeated,
            };
        }
        let mut want: Vec<(&[u8], u32)> = tagged.collect();
        want.sort_unstable();
        let repeated = first_repeat(&want);
        // Keys ascending: each search gallops on from where the last one ended, touching
        // nearby keys rather than a fresh path from the middle (with thousands of keys,
        // cache misses are the cost).
        let (mut at, n) = (0, ko.len() - 1);
        for (k, i) in want {
            at = gallop(at, n, |j| Self::key(kb, ko, j) < k);
            if at < n && Self::key(kb, ko, at) == k {
                found.push((i, at));
            }
        }
        Found {
            keys: found,
            repeated,
        }
    }

    /// Which rows hold each of `keys`: for joins such as `merge_insert`'s.
    pub fn lookup_each<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Each> {
        let (kb, ko) = self.keys()?;
        let ps: &[u64] = self.file.get("post_start")?;
        let rows: &[u64] = self.file.get("rows")?;
        let found = self.find(kb, ko, keys);
        let mut pairs = Vec::with_capacity(found.keys.len());
        Self::each_row(rows, ps, &found.keys, |i, r| pairs.push((i, r)));
        Ok(Each {
            pairs,
            repeated: found.repeated,
        })
    }

    /// Calls `f(tag, row id)` for each row of each `(tag, key index)` in `found`, in order.
    fn each_row(rows: &[u64], ps: &[u64], found: &[(u32, usize)], mut f: impl FnMut(u32, u64)) {
        if rows.len() + 1 == ps.len() {
            // One row per key (offsets strictly increase): no offsets to read.
            found.iter().for_each(|&(i, at)| f(i, rows[at]));
            return;
        }
        for &(i, at) in found {
            rows[ps[at] as usize..ps[at + 1] as usize]
                .iter()
                .for_each(|&r| f(i, r));
        }
    }

    /// Row ids whose key satisfies `pred` (grouped by key, sorted within each).
    pub fn lookup(&self, pred: &KeyPredicate) -> Result<Vec<u64>> {
        let (kb, ko) = self.keys()?;
        let ps: &[u64] = self.file.get("post_start")?;
        let rows: &[u64] = self.file.get("rows")?;
        let run = |a: usize, b: usize| &rows[ps[a] as usize..ps[b] as usize];
        let mut out = Vec::new();
        match pred {
            KeyPredicate::IsNull => out.extend_from_slice(self.file.get::<u64>("null_rows")?),
            KeyPredicate::AnyOf(keys) => {
                let mut found = self.find(kb, ko, keys).keys;
                // A key asked for twice gives its rows once.
                found.dedup_by_key(|f| f.1);
                Self::each_row(rows, ps, &found, |_, r| out.push(r));
            }
            KeyPredicate::Range(lo, hi) => {
                let n = ko.len() - 1;
                let a = match lo {
                    Bound::Unbounded => 0,
                    Bound::Included(k) => Self::lower(kb, ko, k, false),
                    Bound::Excluded(k) => Self::lower(kb, ko, k, true),
                };
                let b = match hi {
                    Bound::Unbounded => n,
                    Bound::Included(k) => Self::lower(kb, ko, k, true),
                    Bound::Excluded(k) => Self::lower(kb, ko, k, false),
                };
                if a < b {
                    out.extend_from_slice(run(a, b));
                }
            }
        }
        Ok(out)
    }

    /// Every `(key, row id)` pair (nulls as `None`), for folding new rows in.
    pub fn pairs(&self) -> Result<Vec<(Option<Vec<u8>>, u64)>> {
        let (kb, ko) = self.keys()?;
        let ps: &[u64] = self.file.get("post_start")?;
        let rows: &[u64] = self.file.get("rows")?;
        let mut out = Vec::with_capacity(self.header.rows as usize);
        for i in 0..ko.len() - 1 {
            let k = Self::key(kb, ko, i);
            for &r in &rows[ps[i] as usize..ps[i + 1] as usize] {
                out.push((Some(k.to_vec()), r));
            }
        }
        for &r in self.file.get::<u64>("null_rows")? {
            out.push((None, r));
        }
        Ok(out)
    }

    /// A new file holding these pairs plus `more` (rows added since the build).
    pub fn extend(
        &self,
        more: Vec<(Option<Vec<u8>>, u64)>,
        cancel: &CancelToken,
    ) -> Result<(Vec<u8>, u32)> {
        let mut all = self.pairs()?;
        all.extend(more);
        let h = &self.header;
        build(&h.kind, &h.column, &h.data_type, all, cancel)
    }

    /// A new file whose row ids are mapped by `map` (`None`: the row is gone).
    pub fn remap(
        &self,
        map: &dyn Fn(u64) -> Option<u64>,
        cancel: &CancelToken,
    ) -> Result<(Vec<u8>, u32)> {
        let all = self
            .pairs()?
            .into_iter()
            .filter_map(|(k, r)| map(r).map(|r| (k, r)))
            .collect();
        let h = &self.header;
        build(&h.kind, &h.column, &h.data_type, all, cancel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(v: i64) -> Vec<u8> {
        ((v as u64) ^ (1 << 63)).to_be_bytes().to_vec()
    }

    #[test]
    fn many_key_lookups_match_a_scan_with_unique_and_repeated_keys() {
        use oxvec_linalg::rng::SplitMix64;
        let dir = tempfile::tempdir().unwrap();
        let mut rng = SplitMix64::new(11);
        for (case, repeats) in [("unique", 1u64), ("repeated", 3)] {
            // 5,000 distinct values spread over negatives and positives, each on `repeats`
            // rows; looked up with 1,500 keys: present, absent between, below, above, twice.
            let vals: Vec<i64> = (0..5000i64).map(|i| i * 37 - 90_000).collect();
            let pairs = (0..vals.len() as u64 * repeats)
                .map(|r| (Some(key(vals[(r / repeats) as usize])), r * 2))
                .collect();
            let (bytes, crc) = build("BTREE", "x", "Int64", pairs, &CancelToken::new()).unwrap();
            let path = dir.path().join(format!("{case}.idx"));
            std::fs::write(&path, &bytes).unwrap();
            let mut ix = ScalarIndex::open(&path, bytes.len() as u64, crc).unwrap();
            let want: Vec<i64> = (0..1500)
                .map(|_| match rng.below(5) {
                    0 | 1 => vals[rng.below(vals.len())],
                    2 => vals[rng.below(vals.len())] + 1,
                    3 => -200_000 - rng.below(10) as i64,
                    _ => 200_000 + rng.below(10) as i64,
                })
                .collect();
            let mut expected: Vec<u64> = (0..vals.len() as u64 * repeats)
                .filter(|r| want.contains(&vals[(r / repeats) as usize]))
                .map(|r| r * 2)
                .collect();
            expected.sort_unstable();
            assert!(expected.len() > 500, "{case}: too few hits to test");
            // The fence spacing of a small index, and those of indexes of billions of keys.
            for fence in [16, 64, 1024] {
                ix.set_fences(fence).unwrap();
                let mut got = ix
                    .lookup(&KeyPredicate::AnyOf(want.iter().map(|&v| key(v)).collect()))
                    .unwrap();
                got.sort_unstable();
                assert_eq!(got, expected, "{case}, fence {fence}");
                // Each key's own rows, by its position in the keys asked for.
                let keys: Vec<[u8; 8]> = want.iter().map(|&v| key(v).try_into().unwrap()).collect();
                let each = ix.lookup_each(&keys).unwrap();
                let mut pairs = each.pairs;
                pairs.sort_unstable();
                assert_eq!(
                    pairs,
                    expected_each(&want, &vals, repeats),
                    "{case}, fence {fence}"
                );
                assert_eq!(
                    each.repeated,
                    first_repeat_by_scan(&want),
                    "{case}, fence {fence}"
                );
            }
            // Keys of another width are in no fixed-width index.
            assert!(ix.lookup_each(&[vec![0u8; 4]]).unwrap().pairs.is_empty());
        }
    }

    /// The first position repeating an earlier one's key, with that earlier position.
    fn first_repeat_by_scan<T: PartialEq>(want: &[T]) -> Option<(u32, u32)> {
        (0..want.len()).find_map(|i| {
            (0..i)
                .find(|&j| want[j] == want[i])
                .map(|j| (j as u32, i as u32))
        })
    }

    /// `(position in want, row)` for rows `r * 2` holding `vals[r / repeats]`, sorted.
    fn expected_each(want: &[i64], vals: &[i64], repeats: u64) -> Vec<(u32, u64)> {
        let mut out: Vec<(u32, u64)> = want
            .iter()
            .enumerate()
            .flat_map(|(i, w)| {
                (0..vals.len() as u64 * repeats)
                    .filter(move |r| vals[(r / repeats) as usize] == *w)
                    .map(move |r| (i as u32, r * 2))
            })
            .collect();
        out.sort_unstable();
        out
    }

    #[test]
    fn key_sorts_match_a_comparison_sort() {
        use oxvec_linalg::rng::SplitMix64;
        let mut rng = SplitMix64::new(5);
        // Keys differing in 1, 3 and 8 bytes (radix), in 16 (comparison), few (comparison),
        // with repeats; tags ascend as lookups give them.
        for (n, span) in [
            (5000, 200u128),
            (3000, 1 << 22),
            (2000, 1 << 63),
            (2000, u128::MAX),
            (50, 1 << 22),
        ] {
            let base = (1u128 << 127) - 7;
            let mut v: Vec<(u128, u32)> = (0..n)
                .map(|i| {
                    (
                        base.wrapping_add(rng.next_u64() as u128 % span.max(1)),
                        i as u32,
                    )
                })
                .collect();
            if span == u128::MAX {
                v.iter_mut()
                    .for_each(|p| p.0 = ((rng.next_u64() as u128) << 64) | rng.next_u64() as u128);
            }
            let mut expected = v.clone();
            expected.sort_unstable();
            sort_keys(&mut v);
            assert_eq!(v, expected, "{n} keys over {span}");
        }
        let mut empty = Vec::new();
        sort_keys(&mut empty);
        assert!(empty.is_empty());
    }

    #[test]
    fn each_text_key_finds_its_own_rows() {
        let dir = tempfile::tempdir().unwrap();
        let words = ["apple", "b", "banana", "cherry", "", "zz"];
        // Row r holds words[r % 6]; the empty string is a key like any other.
        let pairs = (0..60u64)
            .map(|r| (Some(words[(r % 6) as usize].as_bytes().to_vec()), r))
            .collect();
        let (bytes, crc) = build("BTREE", "s", "Utf8", pairs, &CancelToken::new()).unwrap();
        let path = dir.path().join("t.idx");
        std::fs::write(&path, &bytes).unwrap();
        let ix = ScalarIndex::open(&path, bytes.len() as u64, crc).unwrap();
        let want = ["cherry", "nope", "", "apple", "cherry", "a", "nope"];
        let each = ix.lookup_each(&want).unwrap();
        assert_eq!(each.repeated, Some((0, 4)));
        assert_eq!(ix.lookup_each(&want[..4]).unwrap().repeated, None);
        let mut got = each.pairs;
        got.sort_unstable();
        // Strings all of one length make a fixed-width index; keys of other lengths are
        // in no entry, and their repeats still count.
        let pairs = ["aa", "bb", "cc"]
            .map(|w| (Some(w.as_bytes().to_vec()), 7))
            .to_vec();
        let (bytes, crc) = build("BTREE", "s", "Utf8", pairs, &CancelToken::new()).unwrap();
        let path = dir.path().join("fixed.idx");
        std::fs::write(&path, &bytes).unwrap();
        let fixed = ScalarIndex::open(&path, bytes.len() as u64, crc).unwrap();
        assert_eq!(fixed.width, Some(2));
        let each = fixed.lookup_each(&["ccc", "x", "bb", "ccc", "bb"]).unwrap();
        assert_eq!(each.pairs, vec![(2, 7), (4, 7)]);
        assert_eq!(each.repeated, Some((0, 3)));
        assert_eq!(
            fixed.lookup_each(&["x", "bb", "bb"]).unwrap().repeated,
            Some((1, 2))
        );
        let mut expected: Vec<(u32, u64)> = want
            .iter()
            .enumerate()
            .flat_map(|(i, w)| {
                (0..60u64)
                    .filter(move |r| words[(r % 6) as usize] == *w)
                    .map(move |r| (i as u32, r))
            })
            .collect();
        expected.sort_unstable();
        assert_eq!(got, expected);
    }

    #[test]
    fn lookups_match_a_scan_and_damage_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let vals: Vec<Option<i64>> = (0..2000)
            .map(|i| (i % 13 != 0).then_some((i * 7919 % 101) - 50))
            .collect();
        let pairs = vals
            .iter()
            .enumerate()
            .map(|(r, v)| (v.map(key), r as u64 * 3))
            .collect();
        let (bytes, crc) = build("BTREE", "x", "Int64", pairs, &CancelToken::new()).unwrap();
        let path = dir.path().join("s.idx");
        std::fs::write(&path, &bytes).unwrap();
        let ix = ScalarIndex::open(&path, bytes.len() as u64, crc).unwrap();
        let scan = |f: &dyn Fn(Option<i64>) -> bool| -> Vec<u64> {
            let mut v: Vec<u64> = vals
                .iter()
                .enumerate()
                .filter(|(_, x)| f(**x))
                .map(|(r, _)| r as u64 * 3)
                .collect();
            v.sort();
            v
        };
        let got = |p: KeyPredicate| {
            let mut v = ix.lookup(&p).unwrap();
            v.sort();
            v
        };
        assert_eq!(
            got(KeyPredicate::AnyOf(vec![
                key(7),
                key(-3),
                key(7),
                key(1000)
            ])),
            scan(&|x| matches!(x, Some(7) | Some(-3)))
        );
        assert_eq!(got(KeyPredicate::IsNull), scan(&|x| x.is_none()));
        for (lo, hi) in [(-60, 60), (-10, 10), (0, 0), (20, -20), (50, 51)] {
            assert_eq!(
                got(KeyPredicate::Range(
                    Bound::Included(key(lo)),
                    Bound::Excluded(key(hi))
                )),
                scan(&|x| x.is_some_and(|x| x >= lo && x < hi))
            );
            assert_eq!(
                got(KeyPredicate::Range(
                    Bound::Excluded(key(lo)),
                    Bound::Included(key(hi))
                )),
                scan(&|x| x.is_some_and(|x| x > lo && x <= hi))
            );
        }
        assert_eq!(
            got(KeyPredicate::Range(Bound::Unbounded, Bound::Unbounded)),
            scan(&|x| x.is_some())
        );
        // Extend and remap keep every pair.
        let (b2, c2) = ix
            .extend(vec![(Some(key(7)), 1), (None, 2)], &CancelToken::new())
            .unwrap();
        std::fs::write(&path, &b2).unwrap();
        let ix2 = ScalarIndex::open(&path, b2.len() as u64, c2).unwrap();
        assert_eq!(
            ix2.lookup(&KeyPredicate::AnyOf(vec![key(7)]))
                .unwrap()
                .len(),
            scan(&|x| x == Some(7)).len() + 1
        );
        let (b3, c3) = ix2
            .remap(&|r| (r % 2 == 0).then_some(r + 1), &CancelToken::new())
            .unwrap();
        std::fs::write(&path, &b3).unwrap();
        let ix3 = ScalarIndex::open(&path, b3.len() as u64, c3).unwrap();
        assert!(ix3.pairs().unwrap().iter().all(|(_, r)| r % 2 == 1));
        // Any damaged byte is refused at open.
        for at in [bytes.len() - 1, bytes.len() / 2, 200] {
            let mut b = bytes.clone();
            b[at] ^= 0x40;
            std::fs::write(&path, &b).unwrap();
            assert!(
                ScalarIndex::open(&path, b.len() as u64, crc).is_err(),
                "byte {at}"
            );
        }
        assert!(build("HASH", "x", "Int64", vec![], &CancelToken::new()).is_err());
    }
}
