//! The inverted index and BM25 top-k.
//!
//! Documents are nodes `0..n` (the index's `row_ids` section maps them to rows, as for the
//! vector kinds). Each term's postings (node, term frequency) are sorted by node and cut
//! into blocks of [`BLOCK`]; each block keeps its last node, its largest frequency and its
//! shortest document, which bound the score any of its postings can reach for any `k1`/`b`.
//! The top-k walk is block-max WAND (Ding & Suel, 2011): documents that cannot beat the
//! current k-th score are skipped a whole block at a time, and only candidates that can are
//! scored. [`Postings::search_exhaustive`] scores everything, as the reference.
//!
//! Scores are Lucene's BM25: `idf = ln(1 + (N - df + 0.5) / (df + 0.5))` times
//! `tf / (tf + k1 * (1 - b + b * len / avg_len))`, per query term, summed in query order.

use crate::file::{FileWriter, IndexFile};
use crate::filter::NodeFilter;
use oxvec_core::{Error, Result};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

/// Postings per block.
pub const BLOCK: usize = 128;

/// BM25's two knobs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bm25Params {
    /// Term-frequency saturation.
    pub k1: f32,
    /// Length normalisation (0: none, 1: full).
    pub b: f32,
}

impl Default for Bm25Params {
    fn default() -> Self {
        Bm25Params { k1: 1.2, b: 0.75 }
    }
}

impl Bm25Params {
    /// Checks the knobs are usable: `k1 >= 0`, `0 <= b <= 1`, both finite.
    pub fn check(&self) -> Result<()> {
        if !(self.k1.is_finite() && self.k1 >= 0.0) {
            return Err(Error::invalid(format!(
                "k1 must be a finite number >= 0, got {}",
                self.k1
            )));
        }
        if !(0.0..=1.0).contains(&self.b) {
            return Err(Error::invalid(format!(
                "b must be between 0 and 1, got {}",
                self.b
            )));
        }
        Ok(())
    }
}

/// How the terms of a query combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Operator {
    /// A document matches if it has any term (scored by the ones it has).
    #[default]
    Or,
    /// A document matches only if it has every term.
    And,
}

/// Queries with more distinct terms than this are scored term at a time
/// ([`Postings::accumulate`]) rather than by WAND.
const WAND_MAX_TERMS: usize = 16;

/// The sections of an inverted index, owned (a fresh build).
#[derive(Debug, Default, Clone)]
pub struct OwnedPostings {
    pub(super) term_bytes: Vec<u8>,
    pub(super) term_offsets: Vec<u32>,
    pub(super) term_df: Vec<u32>,
    pub(super) term_blocks: Vec<u32>,
    pub(super) block_last: Vec<u32>,
    pub(super) block_start: Vec<u32>,
    pub(super) block_max_tf: Vec<u32>,
    pub(super) block_min_len: Vec<u32>,
    pub(super) post_docs: Vec<u32>,
    pub(super) post_tf: Vec<u32>,
    pub(super) doc_len: Vec<u32>,
    /// With positions: where each posting's positions start (one more than postings).
    pub(super) pos_start: Vec<u32>,
    pub(super) positions: Vec<u32>,
}

impl OwnedPostings {
    /// Appends the sections to an index file, each name prefixed by `prefix` (one index
    /// file holds one set per column).
    pub fn write(&self, w: &mut FileWriter, prefix: &str) {
        let name = |n: &str| format!("{prefix}{n}");
        w.section(&name("term_bytes"), &self.term_bytes)
            .section(&name("term_offsets"), &self.term_offsets)
            .section(&name("term_df"), &self.term_df)
            .section(&name("term_blocks"), &self.term_blocks)
            .section(&name("block_last"), &self.block_last)
            .section(&name("block_start"), &self.block_start)
            .section(&name("block_max_tf"), &self.block_max_tf)
            .section(&name("block_min_len"), &self.block_min_len)
            .section(&name("post_docs"), &self.post_docs)
            .section(&name("post_tf"), &self.post_tf)
            .section(&name("doc_len"), &self.doc_len);
        if !self.pos_start.is_empty() {
            w.section(&name("pos_start"), &self.pos_start)
                .section(&name("positions"), &self.positions);
        }
    }

    /// A searchable view (checked like a file's).
    pub fn view(&self) -> Result<Postings<'_>> {
        Postings::new(
            Sections {
                term_bytes: &self.term_bytes,
                term_offsets: &self.term_offsets,
                term_df: &self.term_df,
                term_blocks: &self.term_blocks,
                block_last: &self.block_last,
                block_start: &self.block_start,
                block_max_tf: &self.block_max_tf,
                block_min_len: &self.block_min_len,
                post_docs: &self.post_docs,
                post_tf: &self.post_tf,
                doc_len: &self.doc_len,
                positions: (!self.pos_start.is_empty())
                    .then_some((self.pos_start.as_slice(), self.positions.as_slice())),
            },
            "in-memory postings",
        )
    }
}

#[derive(Debug, Clone, Copy)]
struct Sections<'a> {
    term_bytes: &'a [u8],
    term_offsets: &'a [u32],
    term_df: &'a [u32],
    term_blocks: &'a [u32],
    block_last: &'a [u32],
    block_start: &'a [u32],
    block_max_tf: &'a [u32],
    block_min_len: &'a [u32],
    post_docs: &'a [u32],
    post_tf: &'a [u32],
    doc_len: &'a [u32],
    /// `pos_start` and `positions`, when the index keeps positions.
    positions: Option<(&'a [u32], &'a [u32])>,
}

impl<'a> Sections<'a> {
    fn of_file(f: &'a IndexFile, prefix: &str) -> Result<Sections<'a>> {
        let name = |n: &str| format!("{prefix}{n}");
        let has = |n: &str| f.header.sections.iter().any(|e| e.name == name(n));
        Ok(Sections {
            term_bytes: f.get(&name("term_bytes"))?,
            term_offsets: f.get(&name("term_offsets"))?,
            term_df: f.get(&name("term_df"))?,
            term_blocks: f.get(&name("term_blocks"))?,
            block_last: f.get(&name("block_last"))?,
            block_start: f.get(&name("block_start"))?,
            block_max_tf: f.get(&name("block_max_tf"))?,
            block_min_len: f.get(&name("block_min_len"))?,
            post_docs: f.get(&name("post_docs"))?,
            post_tf: f.get(&name("post_tf"))?,
            doc_len: f.get(&name("doc_len"))?,
            positions: if has("pos_start") {
                Some((f.get(&name("pos_start"))?, f.get(&name("positions"))?))
            } else {
                None
            },
        })
    }
}

/// One term's postings, as stored.
#[derive(Debug, Clone, Copy)]
pub struct TermPostings<'a> {
    pub docs: &'a [u32],
    pub tfs: &'a [u32],
    /// Every posting's positions one after another (with positions).
    pub positions: Option<&'a [u32]>,
}

/// An inverted index viewed in place, every offset checked once.
#[derive(Debug, Clone, Copy)]
pub struct Postings<'a> {
    s: Sections<'a>,
    avg_len: f32,
    /// Documents the statistics count: this index's, plus its peer's when joined.
    corpus_len: f64,
    /// Another part of the same corpus (see [`Self::joined`]), whose document frequencies
    /// count in this one's idf.
    peer: Option<Sections<'a>>,
}

/// A scored document.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub score: f32,
    pub node: u32,
}

/// Better first: higher score, then lower node (so results are deterministic).
fn better(a: &Hit, b: &Hit) -> Ordering {
    b.score.total_cmp(&a.score).then(a.node.cmp(&b.node))
}

/// Heap entry whose maximum is the worst kept hit.
#[derive(Debug, PartialEq)]
struct Worst(Hit);
impl Eq for Worst {}
impl Ord for Worst {
    fn cmp(&self, o: &Self) -> Ordering {
        better(&self.0, &o.0)
    }
}
impl PartialOrd for Worst {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// The `k` best hits seen.
struct Top {
    k: usize,
    heap: BinaryHeap<Worst>,
}

impl Top {
    fn new(k: usize) -> Top {
        Top {
            k,
            // `k` may be "all" (usize::MAX): the heap grows as it fills.
            heap: BinaryHeap::with_capacity(k.min(1 << 12) + 1),
        }
    }
    /// The score a new document must beat (strictly) to be kept.
    fn threshold(&self) -> f32 {
        if self.heap.len() < self.k {
            f32::NEG_INFINITY
        } else {
            self.heap.peek().map_or(f32::NEG_INFINITY, |w| w.0.score)
        }
    }
    fn push(&mut self, h: Hit) {
        if self.k == 0 {
            return;
        }
        if self.heap.len() < self.k {
            self.heap.push(Worst(h));
        } else if self
            .heap
            .peek()
            .is_some_and(|w| better(&h, &w.0) == Ordering::Less)
        {
            self.heap.pop();
            self.heap.push(Worst(h));
        }
    }
    fn into_sorted(self) -> Vec<Hit> {
        let mut v: Vec<Hit> = self.heap.into_iter().map(|w| w.0).collect();
        v.sort_by(better);
        v
    }
}

/// One query term's walk over its postings.
struct Cursor {
    /// Position of the term in the query (scores are summed in this order).
    slot: usize,
    weight: f32,
    /// Bound on this term's contribution anywhere.
    max_ub: f32,
    block: usize,
    block_end: usize,
    pos: usize,
    end: usize,
}

impl<'a> Postings<'a> {
    /// Views the sections of `f` written under `prefix` by [`OwnedPostings::write`],
    /// checking all of them.
    pub fn open(f: &'a IndexFile, prefix: &str) -> Result<Postings<'a>> {
        Postings::new(
            Sections::of_file(f, prefix)?,
            &f.path().display().to_string(),
        )
    }

    /// [`Self::open`] for sections already checked by an earlier `open` of the same
    /// file (`avg_len` as that view had it): no pass over the postings.
    pub fn open_checked(f: &'a IndexFile, prefix: &str, avg_len: f32) -> Result<Postings<'a>> {
        let s = Sections::of_file(f, prefix)?;
        Ok(Postings {
            corpus_len: s.doc_len.len() as f64,
            s,
            avg_len,
            peer: None,
        })
    }

    /// The mean document length (in tokens) the scores normalise by.
    pub fn avg_len(&self) -> f32 {
        self.avg_len
    }

    /// This index scored as one part of a corpus whose other part is `peer` (documents
    /// in neither twice): document count, mean length and each term's document frequency
    /// are the two parts' together, so scores from both parts compare as if one index held
    /// every document. Fuzzy expansions are chosen over both dictionaries
    /// ([`Self::fuzzy_expansions`]).
    pub fn joined(self, peer: &Postings<'a>) -> Postings<'a> {
        let (n, m) = (self.len() as f64, peer.len() as f64);
        let total = n + m;
        let avg_len = if total == 0.0 {
            1.0
        } else {
            ((self.avg_len as f64 * n + peer.avg_len as f64 * m) / total).max(1e-9) as f32
        };
        Postings {
            s: self.s,
            avg_len,
            corpus_len: total,
            peer: Some(peer.s),
        }
    }

    /// Checks every count and offset, so searches index without re-checking.
    fn new(s: Sections<'a>, what: &str) -> Result<Postings<'a>> {
        let bad = |m: &str| Error::corrupt(what, m);
        let terms = s.term_df.len();
        let blocks = s.block_last.len();
        let n = s.doc_len.len();
        let monotone = |v: &[u32], last: usize| {
            v.windows(2).all(|w| w[0] <= w[1]) && v.last() == Some(&(last as u32))
        };
        let ok = s.term_offsets.len() == terms + 1
            && s.term_blocks.len() == terms + 1
            && s.term_offsets.first() == Some(&0)
            && s.term_blocks.first() == Some(&0)
            && monotone(s.term_offsets, s.term_bytes.len())
            && monotone(s.term_blocks, blocks)
            && s.block_start.len() == blocks + 1
            && s.block_start.first() == Some(&0)
            && monotone(s.block_start, s.post_docs.len())
            && s.block_max_tf.len() == blocks
            && s.block_min_len.len() == blocks
            && s.post_tf.len() == s.post_docs.len()
            && n < u32::MAX as usize;
        if !ok {
            return Err(bad("full-text index sections do not agree"));
        }
        for t in 0..terms {
            let (b0, b1) = (s.term_blocks[t] as usize, s.term_blocks[t + 1] as usize);
            let (p0, p1) = (s.block_start[b0] as usize, s.block_start[b1] as usize);
            if p1 - p0 != s.term_df[t] as usize || (b0 == b1) != (p0 == p1) {
                return Err(bad("full-text term statistics disagree with its postings"));
            }
            let mut prev: Option<u32> = None;
            for b in b0..b1 {
                let (q0, q1) = (s.block_start[b] as usize, s.block_start[b + 1] as usize);
                if q0 == q1 {
                    return Err(bad("empty full-text postings block"));
                }
                for p in q0..q1 {
                    let d = s.post_docs[p];
                    if prev.is_some_and(|x| x >= d) || d as usize >= n || s.post_tf[p] == 0 {
                        return Err(bad("full-text postings out of order or range"));
                    }
                    if s.post_tf[p] > s.block_max_tf[b]
                        || s.doc_len[d as usize] < s.block_min_len[b]
                    {
                        return Err(bad("full-text block bounds do not hold"));
                    }
                    prev = Some(d);
                }
                if prev != Some(s.block_last[b]) {
                    return Err(bad("full-text block's last node is wrong"));
                }
            }
            if t + 1 < terms {
                let (a, b, c) = (
                    s.term_offsets[t] as usize,
                    s.term_offsets[t + 1] as usize,
                    s.term_offsets[t + 2] as usize,
                );
                if s.term_bytes[a..b] >= s.term_bytes[b..c] {
                    return Err(bad("full-text term dictionary is not sorted"));
                }
            }
            if std::str::from_utf8(
                &s.term_bytes[s.term_offsets[t] as usize..s.term_offsets[t + 1] as usize],
            )
            .is_err()
            {
                return Err(bad("full-text term is not UTF-8"));
            }
        }
        if let Some((starts, positions)) = s.positions {
            if starts.len() != s.post_docs.len() + 1
                || starts.first() != Some(&0)
                || !monotone(starts, positions.len())
            {
                return Err(bad("full-text position offsets do not agree"));
            }
            for p in 0..s.post_docs.len() {
                let run = &positions[starts[p] as usize..starts[p + 1] as usize];
                // Non-decreasing: the n-grams of one word share its position.
                if run.len() != s.post_tf[p] as usize || run.windows(2).any(|w| w[0] > w[1]) {
                    return Err(bad("full-text positions disagree with their postings"));
                }
            }
        }
        let total: u64 = s.doc_len.iter().map(|&l| l as u64).sum();
        let avg_len = if n == 0 {
            1.0
        } else {
            (total as f64 / n as f64).max(1e-9) as f32
        };
        Ok(Postings {
            corpus_len: n as f64,
            s,
            avg_len,
            peer: None,
        })
    }

    /// Documents in the index.
    pub fn len(&self) -> usize {
        self.s.doc_len.len()
    }

    pub fn is_empty(&self) -> bool {
        self.s.doc_len.is_empty()
    }

    /// Distinct terms.
    pub fn num_terms(&self) -> usize {
        self.s.term_df.len()
    }

    fn term_text(&self, t: usize) -> &'a str {
        let b = &self.s.term_bytes
            [self.s.term_offsets[t] as usize..self.s.term_offsets[t + 1] as usize];
        // Checked at open.
        std::str::from_utf8(b).unwrap_or("")
    }

    /// The term's id, by binary search of the sorted dictionary.
    pub fn term(&self, term: &str) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.num_terms());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.term_text(mid).cmp(term) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The text of term `t`.
    pub fn term_str(&self, t: usize) -> &'a str {
        self.term_text(t)
    }

    /// Terms starting with `prefix`, in dictionary order, at most `max_expansions`.
    pub fn prefix_terms(&self, prefix: &str, max_expansions: usize) -> Vec<usize> {
        let first = self.first_at_or_after(prefix);
        (first..self.num_terms())
            .take_while(|&t| self.term_text(t).starts_with(prefix))
            .take(max_expansions)
            .collect()
    }

    /// Terms within `max_edits` (Levenshtein over characters; at most 2) of `term` that
    /// share its first `prefix_length` characters, with their distances: the closest
    /// first, then the most frequent, at most `max_expansions`.
    pub fn fuzzy_terms(
        &self,
        term: &str,
        max_edits: u32,
        prefix_length: usize,
        max_expansions: usize,
    ) -> Result<Vec<(usize, u32)>> {
        if max_edits > 2 {
            return Err(Error::invalid(format!(
                "fuzziness must be 0, 1 or 2 edits, got {max_edits}"
            )));
        }
        let want: Vec<char> = term.chars().collect();
        let fixed = prefix_length.min(want.len());
        let prefix: String = want[..fixed].iter().collect();
        let mut out: Vec<(usize, u32)> = Vec::new();
        let first = self.first_at_or_after(&prefix);
        let mut row = Vec::new();
        for t in first..self.num_terms() {
            let text = self.term_text(t);
            if !text.starts_with(prefix.as_str()) {
                break;
            }
            if let Some(d) =
                bounded_levenshtein(&want[fixed..], &text[prefix.len()..], max_edits, &mut row)
            {
                out.push((t, d));
            }
        }
        out.sort_by(|a, b| {
            a.1.cmp(&b.1)
                .then(self.doc_freq(b.0).cmp(&self.doc_freq(a.0)))
                .then(a.0.cmp(&b.0))
        });
        out.truncate(max_expansions);
        Ok(out)
    }

    /// [`Self::fuzzy_terms`] chosen over this part's and its peer's dictionaries together
    /// (document frequencies summed), as one index of both parts would choose them: the
    /// expansions' texts, to look up in either part.
    pub fn fuzzy_expansions(
        &self,
        term: &str,
        max_edits: u32,
        prefix_length: usize,
        max_expansions: usize,
    ) -> Result<Vec<String>> {
        let mine = self.fuzzy_terms(term, max_edits, prefix_length, usize::MAX)?;
        let mut all: Vec<(&str, u32, u32)> = mine
            .iter()
            .map(|&(t, d)| (self.term_text(t), d, self.doc_freq(t)))
            .collect();
        if let Some(s) = self.peer {
            let peer = Postings {
                s,
                avg_len: 1.0,
                corpus_len: 0.0,
                peer: None,
            };
            for (t, d) in peer.fuzzy_terms(term, max_edits, prefix_length, usize::MAX)? {
                let text = peer.term_text(t);
                match all.iter_mut().find(|e| e.0 == text) {
                    Some(e) => e.2 += peer.doc_freq(t),
                    None => all.push((text, d, peer.doc_freq(t))),
                }
            }
        }
        all.sort_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)).then(a.0.cmp(b.0)));
        all.truncate(max_expansions);
        Ok(all.into_iter().map(|e| e.0.to_string()).collect())
    }

    /// The first term `>= key` in dictionary order.
    fn first_at_or_after(&self, key: &str) -> usize {
        let (mut lo, mut hi) = (0, self.num_terms());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.term_text(mid) < key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Term `t`'s postings: nodes, frequencies and, with positions, each posting's
    /// positions (`starts` one longer than the postings, relative to `positions`).
    pub fn term_postings(&self, t: usize) -> TermPostings<'a> {
        let s = &self.s;
        let (p0, p1) = (
            s.block_start[s.term_blocks[t] as usize] as usize,
            s.block_start[s.term_blocks[t + 1] as usize] as usize,
        );
        TermPostings {
            docs: &s.post_docs[p0..p1],
            tfs: &s.post_tf[p0..p1],
            positions: s.positions.map(|(starts, pos)| {
                let (a, b) = (starts[p0] as usize, starts[p1] as usize);
                &pos[a..b]
            }),
        }
    }

    /// Tokens per node.
    pub fn doc_lens(&self) -> &'a [u32] {
        self.s.doc_len
    }

    /// Documents containing term `t`.
    pub fn doc_freq(&self, t: usize) -> u32 {
        self.s.term_df[t]
    }

    fn idf(&self, t: usize) -> f32 {
        let n = self.corpus_len;
        let mut df = self.s.term_df[t] as f64;
        if let Some(peer) = self.peer {
            let peer = Postings {
                s: peer,
                avg_len: 1.0,
                corpus_len: 0.0,
                peer: None,
            };
            df += peer.term(self.term_text(t)).map_or(0, |p| peer.doc_freq(p)) as f64;
        }
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln() as f32
    }

    #[inline]
    fn tf_part(&self, p: &Bm25Params, tf: u32, len: u32) -> f32 {
        let tf = tf as f32;
        let norm = p.k1 * (1.0 - p.b + p.b * len as f32 / self.avg_len);
        tf / (tf + norm)
    }

    /// Query terms with their ids and weights (`idf * boost`), duplicates merged; unknown
    /// terms dropped (they match nothing).
    fn weights(&self, terms: &[(&str, f32)]) -> Vec<(usize, f32)> {
        let mut out: Vec<(usize, f32)> = Vec::new();
        for &(term, boost) in terms {
            let Some(t) = self.term(term) else { continue };
            // A bound must stay an upper bound: no NaN or negative weights.
            let boost = if boost.is_finite() && boost >= 0.0 {
                boost
            } else {
                0.0
            };
            match out.iter_mut().find(|w| w.0 == t) {
                Some(w) => w.1 += boost * self.idf(t),
                None => out.push((t, boost * self.idf(t))),
            }
        }
        out
    }

    /// Every matching document scored, the `k` best returned: the reference for
    /// [`Self::search`].
    pub fn search_exhaustive(
        &self,
        terms: &[(&str, f32)],
        op: Operator,
        k: usize,
        params: &Bm25Params,
        filter: Option<&NodeFilter>,
    ) -> Vec<Hit> {
        let weights = self.weights(terms);
        let all_known = weights.len() == distinct(terms);
        let mut per_doc: HashMap<u32, Vec<Option<f32>>> = HashMap::new();
        for (slot, &(t, w)) in weights.iter().enumerate() {
            let s = &self.s;
            let (p0, p1) = (
                s.block_start[s.term_blocks[t] as usize] as usize,
                s.block_start[s.term_blocks[t + 1] as usize] as usize,
            );
            for p in p0..p1 {
                let d = s.post_docs[p];
                let parts = per_doc
                    .entry(d)
                    .or_insert_with(|| vec![None; weights.len()]);
                parts[slot] = Some(w * self.tf_part(params, s.post_tf[p], s.doc_len[d as usize]));
            }
        }
        let mut top = Top::new(k);
        for (d, parts) in per_doc {
            if filter.is_some_and(|f| !f.allows(d)) {
                continue;
            }
            if op == Operator::And && (!all_known || parts.contains(&None)) {
                continue;
            }
            top.push(Hit {
                score: parts.iter().map(|x| x.unwrap_or(0.0)).sum(),
                node: d,
            });
        }
        top.into_sorted()
    }

    /// The `k` best documents for the analysed query `terms` (term, boost), by block-max
    /// WAND (OR) or a leapfrog intersection (AND), skipping nodes `filter` rejects.
    pub fn search(
        &self,
        terms: &[(&str, f32)],
        op: Operator,
        k: usize,
        params: &Bm25Params,
        filter: Option<&NodeFilter>,
    ) -> Vec<Hit> {
        let weights = self.weights(terms);
        if k == 0 || weights.is_empty() || (op == Operator::And && weights.len() != distinct(terms))
        {
            return Vec::new();
        }
        if weights.len() > WAND_MAX_TERMS {
            return self.accumulate(&weights, op, k, params, filter);
        }
        let mut cursors: Vec<Cursor> = weights
            .iter()
            .enumerate()
            .map(|(slot, &(t, w))| {
                let (b0, b1) = (
                    self.s.term_blocks[t] as usize,
                    self.s.term_blocks[t + 1] as usize,
                );
                let max_ub = (b0..b1)
                    .map(|b| self.block_ub(params, w, b))
                    .fold(0.0, f32::max);
                Cursor {
                    slot,
                    weight: w,
                    max_ub,
                    block: b0,
                    block_end: b1,
                    pos: self.s.block_start[b0] as usize,
                    end: self.s.block_start[b1] as usize,
                }
            })
            .collect();
        let mut top = Top::new(k);
        let mut parts = vec![0f32; weights.len()];
        match op {
            Operator::Or => self.wand(&mut cursors, params, filter, &mut top, &mut parts),
            Operator::And => self.intersect(&mut cursors, params, filter, &mut top, &mut parts),
        }
        top.into_sorted()
    }

    /// Term at a time into one score per document, for long queries: WAND walks every
    /// cursor per candidate document, so with hundreds of terms touching each posting
    /// once is cheaper. Parts are summed in the same order as [`Self::score`], so the
    /// scores are bit-identical.
    fn accumulate(
        &self,
        weights: &[(usize, f32)],
        op: Operator,
        k: usize,
        params: &Bm25Params,
        filter: Option<&NodeFilter>,
    ) -> Vec<Hit> {
        let s = &self.s;
        let mut score = vec![0f32; s.doc_len.len()];
        let mut matched = vec![0u32; s.doc_len.len()];
        for &(t, w) in weights {
            let (p0, p1) = (
                s.block_start[s.term_blocks[t] as usize] as usize,
                s.block_start[s.term_blocks[t + 1] as usize] as usize,
            );
            for p in p0..p1 {
                let d = s.post_docs[p] as usize;
                score[d] += w * self.tf_part(params, s.post_tf[p], s.doc_len[d]);
                matched[d] += 1;
            }
        }
        let need = match op {
            Operator::Or => 1,
            Operator::And => weights.len() as u32,
        };
        let mut top = Top::new(k);
        for (d, (&sc, &m)) in score.iter().zip(&matched).enumerate() {
            if m >= need && filter.is_none_or(|f| f.allows(d as u32)) {
                top.push(Hit {
                    score: sc,
                    node: d as u32,
                });
            }
        }
        top.into_sorted()
    }

    /// Bound on weight `w` times the term part anywhere in block `b`, a hair loose so f32
    /// rounding cannot make it lower than a score it bounds.
    fn block_ub(&self, p: &Bm25Params, w: f32, b: usize) -> f32 {
        if b >= self.s.block_last.len() {
            return 0.0;
        }
        w * self.tf_part(p, self.s.block_max_tf[b], self.s.block_min_len[b]) * (1.0 + 1e-5)
    }

    #[inline]
    fn doc(&self, c: &Cursor) -> u32 {
        if c.pos < c.end {
            self.s.post_docs[c.pos]
        } else {
            u32::MAX
        }
    }

    /// The first block of `c` at or after its current one whose last node is `>= target`
    /// (`block_end` if none), without moving `c`.
    fn block_for(&self, c: &Cursor, target: u32) -> usize {
        let mut b = c.block;
        while b < c.block_end && self.s.block_last[b] < target {
            b += 1;
        }
        b
    }

    /// Moves `c` to its first posting `>= target`.
    fn advance_to(&self, c: &mut Cursor, target: u32) {
        if self.doc(c) >= target {
            return;
        }
        c.block = self.block_for(c, target);
        if c.block == c.block_end {
            c.pos = c.end;
            return;
        }
        let start = (self.s.block_start[c.block] as usize).max(c.pos);
        let stop = self.s.block_start[c.block + 1] as usize;
        c.pos = start + self.s.post_docs[start..stop].partition_point(|&d| d < target);
    }

    fn next(&self, c: &mut Cursor) {
        c.pos += 1;
        while c.block < c.block_end && c.pos >= self.s.block_start[c.block + 1] as usize {
            c.block += 1;
        }
    }

    /// Scores node `d` with the cursors positioned on it and offers it to `top`.
    fn score(&self, d: u32, on: &[Cursor], params: &Bm25Params, top: &mut Top, parts: &mut [f32]) {
        parts.iter_mut().for_each(|x| *x = 0.0);
        let len = self.s.doc_len[d as usize];
        for c in on {
            parts[c.slot] = c.weight * self.tf_part(params, self.s.post_tf[c.pos], len);
        }
        top.push(Hit {
            score: parts.iter().sum(),
            node: d,
        });
    }

    fn wand(
        &self,
        cursors: &mut [Cursor],
        params: &Bm25Params,
        filter: Option<&NodeFilter>,
        top: &mut Top,
        parts: &mut [f32],
    ) {
        let mut blocks: Vec<Option<usize>> = Vec::with_capacity(cursors.len());
        loop {
            // Few terms, nearly sorted from the last round: insertion sort is the cheap one.
            for i in 1..cursors.len() {
                let mut j = i;
                while j > 0 && self.doc(&cursors[j - 1]) > self.doc(&cursors[j]) {
                    cursors.swap(j - 1, j);
                    j -= 1;
                }
            }
            let theta = top.threshold();
            let mut acc = 0f32;
            let mut pivot = None;
            for (i, c) in cursors.iter().enumerate() {
                if self.doc(c) == u32::MAX {
                    break;
                }
                acc += c.max_ub;
                if acc > theta {
                    pivot = Some(i);
                    break;
                }
            }
            let Some(mut pivot) = pivot else { return };
            let d = self.doc(&cursors[pivot]);
            while pivot + 1 < cursors.len() && self.doc(&cursors[pivot + 1]) == d {
                pivot += 1;
            }
            // Each term's block holding `d`; `None` when its postings end before `d`.
            blocks.clear();
            blocks.extend(
                cursors[..=pivot]
                    .iter()
                    .map(|c| Some(self.block_for(c, d)).filter(|&b| b < c.block_end)),
            );
            let bound: f32 = cursors[..=pivot]
                .iter()
                .zip(&blocks)
                .map(|(c, b)| b.map_or(0.0, |b| self.block_ub(params, c.weight, b)))
                .sum();
            if bound > theta {
                if self.doc(&cursors[0]) == d {
                    if filter.is_none_or(|f| f.allows(d)) {
                        self.score(d, &cursors[..=pivot], params, top, parts);
                    }
                    for c in cursors[..=pivot].iter_mut() {
                        self.next(c);
                    }
                } else {
                    for c in cursors[..pivot].iter_mut() {
                        self.advance_to(c, d);
                    }
                }
            } else {
                // No node before the end of the shortest of these blocks can beat theta
                // (each term's part is bounded by its block there), nor can any node
                // before the next cursor's, which has none of these terms.
                let mut next = blocks
                    .iter()
                    .flatten()
                    .map(|&b| self.s.block_last[b].saturating_add(1))
                    .min()
                    .unwrap_or(u32::MAX);
                if let Some(c) = cursors.get(pivot + 1) {
                    next = next.min(self.doc(c));
                }
                let next = next.max(d + 1);
                for c in cursors[..=pivot].iter_mut() {
                    self.advance_to(c, next);
                }
            }
        }
    }

    fn intersect(
        &self,
        cursors: &mut [Cursor],
        params: &Bm25Params,
        filter: Option<&NodeFilter>,
        top: &mut Top,
        parts: &mut [f32],
    ) {
        // Rarest first: its postings drive the walk.
        cursors.sort_by_key(|c| c.end - c.pos);
        while let Some(d) = self.align(cursors) {
            if filter.is_none_or(|f| f.allows(d)) {
                self.score(d, cursors, params, top, parts);
            }
            self.next(&mut cursors[0]);
        }
    }

    /// Whether the index keeps token positions (phrase queries need them).
    pub fn has_positions(&self) -> bool {
        self.s.positions.is_some()
    }

    /// The `k` best documents containing the phrase `terms` (each term with its offset in
    /// the phrase, from the analysed query's positions). A match is an occurrence of the
    /// first term with one occurrence of every other term such that their positions, each
    /// shifted back by its offset, lie within a window of `slop + 1` positions (`slop = 0`:
    /// exactly in order and adjacent). A document scores as one term of BM25 whose weight
    /// is the terms' summed idf (times `boost`) and whose frequency is its number of
    /// matches.
    #[allow(clippy::too_many_arguments)]
    pub fn phrase(
        &self,
        terms: &[(&str, u32)],
        slop: u32,
        boost: f32,
        k: usize,
        params: &Bm25Params,
        filter: Option<&NodeFilter>,
    ) -> Result<Vec<Hit>> {
        let Some((starts, positions)) = self.s.positions else {
            return Err(Error::invalid(
                "phrase queries need positions: build the full-text index with with_position=True",
            ));
        };
        let mut ids = Vec::with_capacity(terms.len());
        for &(t, _) in terms {
            match self.term(t) {
                Some(id) => ids.push(id),
                None => return Ok(Vec::new()),
            }
        }
        if k == 0 || ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut distinct_ids = ids.clone();
        distinct_ids.sort_unstable();
        distinct_ids.dedup();
        let weight: f32 = boost * ids.iter().map(|&t| self.idf(t)).sum::<f32>();
        let mut cursors: Vec<Cursor> = distinct_ids
            .iter()
            .enumerate()
            .map(|(slot, &t)| {
                let (b0, b1) = (
                    self.s.term_blocks[t] as usize,
                    self.s.term_blocks[t + 1] as usize,
                );
                Cursor {
                    slot,
                    weight: 0.0,
                    max_ub: 0.0,
                    block: b0,
                    block_end: b1,
                    pos: self.s.block_start[b0] as usize,
                    end: self.s.block_start[b1] as usize,
                }
            })
            .collect();
        // For each phrase term, the cursor holding its postings.
        let cursor_of: Vec<usize> = ids
            .iter()
            .map(|t| distinct_ids.binary_search(t).unwrap_or(0))
            .collect();
        let offsets: Vec<i64> = terms.iter().map(|t| t.1 as i64).collect();
        let mut top = Top::new(k);
        let mut lists: Vec<&[u32]> = vec![&[]; ids.len()];
        while let Some(d) = self.align(&mut cursors) {
            if filter.is_none_or(|f| f.allows(d)) {
                for (i, &c) in cursor_of.iter().enumerate() {
                    let p = cursors[c].pos;
                    lists[i] = &positions[starts[p] as usize..starts[p + 1] as usize];
                }
                let freq = phrase_matches(&lists, &offsets, &cursor_of, slop as i64);
                if freq > 0 {
                    let len = self.s.doc_len[d as usize];
                    top.push(Hit {
                        score: weight * self.tf_part(params, freq, len),
                        node: d,
                    });
                }
            }
            self.next(&mut cursors[0]);
        }
        Ok(top.into_sorted())
    }

    /// Moves every cursor to the next node they all hold (driven by the first); `None` when
    /// one runs out.
    fn align(&self, cursors: &mut [Cursor]) -> Option<u32> {
        loop {
            let mut d = self.doc(&cursors[0]);
            if d == u32::MAX {
                return None;
            }
            let mut all = true;
            for c in cursors.iter_mut().skip(1) {
                self.advance_to(c, d);
                let di = self.doc(c);
                if di != d {
                    all = false;
                    d = di;
                    break;
                }
            }
            if all {
                return Some(d);
            }
            if d == u32::MAX {
                return None;
            }
            self.advance_to(&mut cursors[0], d);
        }
    }
}

/// Matches of a phrase in one document: `lists[i]` are the sorted positions of phrase term
/// `i`, `offsets[i]` its place in the phrase, `terms[i]` which term it is (a word may repeat
/// in a phrase). Each occurrence of the first term counts once if some window of `slop + 1`
/// positions containing it (shifted by its offset) holds a shifted occurrence of every
/// other phrase term, a repeated word using a different occurrence each time.
fn phrase_matches(lists: &[&[u32]], offsets: &[i64], terms: &[usize], slop: i64) -> u32 {
    let shifted =
        |list: &[u32], off: i64, lo: i64| list.partition_point(|&q| (q as i64 - off) < lo);
    // Phrase slots 1.. in offset order: for one word, earlier slots take earlier
    // occurrences, which is how a greedy pick stays optimal.
    let mut order: Vec<usize> = (1..lists.len()).collect();
    order.sort_by_key(|&i| (terms[i], offsets[i]));
    let mut taken: Vec<(usize, u32)> = Vec::new();
    let mut window_holds_all = |lo: i64, p0: u32| {
        taken.clear();
        taken.push((terms[0], p0));
        order.iter().all(|&i| {
            let (list, off) = (lists[i], offsets[i]);
            let from = shifted(list, off, lo);
            let pick = list[from..]
                .iter()
                .take_while(|&&q| q as i64 - off <= lo + slop)
                .find(|&&q| !taken.contains(&(terms[i], q)));
            match pick {
                Some(&q) => {
                    taken.push((terms[i], q));
                    true
                }
                None => false,
            }
        })
    };
    let mut count = 0u32;
    for &p0 in lists[0] {
        let base = p0 as i64 - offsets[0];
        // A window that works can be slid right until its start is a shifted occurrence
        // (or `base` itself), so only those starts need trying: at most the occurrences
        // within `slop` before `base`, not `slop` of them.
        let mut found = window_holds_all(base, p0);
        for (list, &off) in lists.iter().zip(offsets).skip(1) {
            if found {
                break;
            }
            let from = shifted(list, off, base - slop);
            let to = shifted(list, off, base);
            found = list[from..to]
                .iter()
                .any(|&q| window_holds_all(q as i64 - off, p0));
        }
        if found {
            count += 1;
        }
    }
    count
}

/// Levenshtein distance between `a` and the characters of `b` if it is at most `max`
/// (`row` is scratch); gives up as soon as a whole row exceeds `max`.
fn bounded_levenshtein(a: &[char], b: &str, max: u32, row: &mut Vec<u32>) -> Option<u32> {
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max as usize {
        return None;
    }
    row.clear();
    row.extend(0..=b.len() as u32);
    for (i, &ca) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i as u32 + 1;
        let mut best = row[0];
        for (j, &cb) in b.iter().enumerate() {
            let up = row[j + 1];
            let v = (diag + u32::from(ca != cb)).min(up + 1).min(row[j] + 1);
            diag = up;
            row[j + 1] = v;
            best = best.min(v);
        }
        if best > max {
            return None;
        }
    }
    Some(row[b.len()]).filter(|&d| d <= max)
}

/// Distinct terms of a query.
fn distinct(terms: &[(&str, f32)]) -> usize {
    let mut seen: Vec<&str> = terms.iter().map(|t| t.0).collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::analyzer::Token;
    use crate::text::analyzer::{Analyzer, AnalyzerOptions};
    use crate::text::postings_builder::PostingsBuilder;
    use oxvec_linalg::rng::SplitMix64;

    /// A Zipf-like corpus: a few very common terms, a long tail, varied lengths.
    fn corpus(n: usize, seed: u64) -> Vec<Vec<Token>> {
        let mut rng = SplitMix64::new(seed);
        (0..n)
            .map(|_| {
                let len = 1 + rng.below(60);
                (0..len)
                    .map(|i| {
                        let r = rng.next_f64();
                        let t = (r * r * r * 2000.0) as usize;
                        Token {
                            term: format!("t{t}"),
                            position: i as u32,
                        }
                    })
                    .collect()
            })
            .collect()
    }

    fn build(docs: &[Vec<Token>]) -> OwnedPostings {
        let mut b = PostingsBuilder::new(true);
        for d in docs {
            b.add(d).unwrap();
        }
        b.finish().unwrap()
    }

    #[test]
    fn wand_returns_exactly_the_exhaustive_top_k() {
        let docs = corpus(5000, 7);
        let owned = build(&docs);
        let p = owned.view().unwrap();
        let mut rng = SplitMix64::new(11);
        let mut filter = NodeFilter::all(p.len());
        for node in 0..p.len() as u32 {
            if rng.below(3) == 0 {
                filter.set(node, false);
            }
        }
        let params = [
            Bm25Params::default(),
            Bm25Params { k1: 2.0, b: 0.3 },
            Bm25Params { k1: 0.0, b: 0.0 },
        ];
        for q in 0..200 {
            // Some long queries, scored term at a time rather than by WAND.
            let nterms = if q % 10 == 9 { 17 + q % 40 } else { 1 + q % 5 };
            let names: Vec<String> = (0..nterms)
                .map(|_| {
                    let r = rng.next_f64();
                    format!("t{}", (r * r * 2500.0) as usize)
                })
                .collect();
            let terms: Vec<(&str, f32)> = names
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    // Boosts: one raised, one zero (the term must still count for AND).
                    let boost = match i {
                        0 => 2.0,
                        2 => 0.0,
                        _ => 1.0,
                    };
                    (s.as_str(), boost)
                })
                .collect();
            let prm = &params[q % params.len()];
            for op in [Operator::Or, Operator::And] {
                for f in [None, Some(&filter)] {
                    for k in [1, 10, 100] {
                        let want = p.search_exhaustive(&terms, op, k, prm, f);
                        let got = p.search(&terms, op, k, prm, f);
                        assert_eq!(got, want, "query {terms:?} {op:?} k={k} {prm:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn scores_follow_lucene_bm25() {
        let a = Analyzer::new(AnalyzerOptions::default()).unwrap();
        let texts = [
            "vector databases store vectors",
            "a database of text",
            "vectors and more vectors and vectors",
        ];
        let mut b = PostingsBuilder::new(false);
        for t in texts {
            let mut toks = Vec::new();
            a.analyze(t, 0, &mut toks);
            b.add(&toks).unwrap();
        }
        let owned = b.finish().unwrap();
        let p = owned.view().unwrap();
        // Analysed lengths: [vector, databas, store, vector] = 4, [databas, text] = 2,
        // [vector, vector, vector] = 3 ("and", "more", "a", "of" are stop words).
        let avg = 3.0f32;
        let idf = |df: f32| (1.0f32 + (3.0 - df + 0.5) / (df + 0.5)).ln();
        let tf = |tf: f32, len: f32| tf / (tf + 1.2 * (1.0 - 0.75 + 0.75 * len / avg));
        let hits = p.search(
            &[("vector", 1.0)],
            Operator::Or,
            10,
            &Bm25Params::default(),
            None,
        );
        let want = [
            (2u32, idf(2.0) * tf(3.0, 3.0)),
            (0, idf(2.0) * tf(2.0, 4.0)),
        ];
        assert_eq!(hits.len(), 2);
        for (h, (node, score)) in hits.iter().zip(want) {
            assert_eq!(h.node, node);
            assert!((h.score - score).abs() < 1e-6, "{} vs {score}", h.score);
        }
    }

    #[test]
    fn unknown_terms_match_nothing_and_and_needs_every_term() {
        let owned = build(&corpus(300, 3));
        let p = owned.view().unwrap();
        let prm = Bm25Params::default();
        assert!(p
            .search(&[("nope", 1.0)], Operator::Or, 10, &prm, None)
            .is_empty());
        assert!(!p
            .search(&[("t0", 1.0), ("nope", 1.0)], Operator::Or, 10, &prm, None)
            .is_empty());
        assert!(p
            .search(&[("t0", 1.0), ("nope", 1.0)], Operator::And, 10, &prm, None)
            .is_empty());
        assert!(p
            .search(&[("t0", 1.0)], Operator::Or, 0, &prm, None)
            .is_empty());
        let empty = PostingsBuilder::new(false).finish().unwrap();
        assert!(empty
            .view()
            .unwrap()
            .search(&[("t0", 1.0)], Operator::Or, 5, &prm, None)
            .is_empty());
    }

    #[test]
    fn damaged_sections_are_refused() {
        let owned = build(&corpus(400, 5));
        let mut bad = owned.clone();
        bad.post_docs.swap(0, 1);
        assert!(bad.view().is_err());
        let mut bad = owned.clone();
        bad.block_max_tf[0] = 0;
        assert!(bad.view().is_err());
        let mut bad = owned.clone();
        bad.term_offsets.pop();
        assert!(bad.view().is_err());
        let mut bad = owned.clone();
        *bad.doc_len.last_mut().unwrap() = 0;
        bad.block_min_len.iter_mut().for_each(|m| *m = (*m).min(1));
        let _ = bad.view(); // lengths may change freely as long as the bounds still hold
        let mut bad = owned.clone();
        let p = (0..bad.post_tf.len())
            .find(|&p| bad.post_tf[p] >= 2)
            .unwrap();
        let at = bad.pos_start[p] as usize;
        bad.positions.swap(at, at + 1);
        assert!(bad.view().is_err());
        let mut bad = owned.clone();
        bad.pos_start.pop();
        assert!(bad.view().is_err());
        let mut bad = owned;
        bad.term_bytes[0] = 0xff;
        assert!(bad.view().is_err());
    }

    /// Phrase matches by enumerating every combination of occurrences (a repeated word
    /// using a different occurrence in each of its places).
    fn brute_matches(names: &[String], lists: &[Vec<u32>], offsets: &[i64], slop: i64) -> u32 {
        fn any_combo(
            names: &[String],
            lists: &[Vec<u32>],
            offsets: &[i64],
            chosen: &mut Vec<(String, u32)>,
            lo: i64,
            hi: i64,
            slop: i64,
        ) -> bool {
            let i = chosen.len();
            if i == lists.len() {
                return hi - lo <= slop;
            }
            lists[i].iter().any(|&q| {
                if chosen.iter().any(|c| c.0 == names[i] && c.1 == q) {
                    return false;
                }
                let a = q as i64 - offsets[i];
                chosen.push((names[i].clone(), q));
                let ok = any_combo(names, lists, offsets, chosen, lo.min(a), hi.max(a), slop);
                chosen.pop();
                ok
            })
        }
        lists[0]
            .iter()
            .filter(|&&p0| {
                let a = p0 as i64 - offsets[0];
                let mut chosen = vec![(names[0].clone(), p0)];
                any_combo(names, lists, offsets, &mut chosen, a, a, slop)
            })
            .count() as u32
    }

    #[test]
    fn phrases_match_exactly_what_enumeration_finds() {
        let mut rng = SplitMix64::new(21);
        // A small vocabulary so phrases recur.
        let docs: Vec<Vec<Token>> = (0..600)
            .map(|_| {
                let len = 1 + rng.below(30);
                (0..len)
                    .map(|i| Token {
                        term: format!("w{}", rng.below(6)),
                        // Gaps now and then, as removed stop words leave.
                        position: (i + i / 7) as u32,
                    })
                    .collect()
            })
            .collect();
        let owned = build(&docs);
        let p = owned.view().unwrap();
        let prm = Bm25Params::default();
        let mut filter = NodeFilter::all(p.len());
        for node in (0..p.len() as u32).step_by(5) {
            filter.set(node, false);
        }
        for q in 0..120 {
            let n = 1 + q % 4;
            let names: Vec<String> = (0..n).map(|_| format!("w{}", rng.below(6))).collect();
            let offsets: Vec<u32> = (0..n as u32)
                .map(|i| i + u32::from(i >= 2 && q % 3 == 0))
                .collect();
            let terms: Vec<(&str, u32)> = names
                .iter()
                .map(|s| s.as_str())
                .zip(offsets.iter().copied())
                .collect();
            let slop = (q % 4) as u32;
            let f = (q % 2 == 0).then_some(&filter);
            let got = p.phrase(&terms, slop, 1.5, 20, &prm, f).unwrap();
            let weight: f32 = 1.5 * names.iter().map(|t| p.idf(p.term(t).unwrap())).sum::<f32>();
            let mut want = Top::new(20);
            for (node, d) in docs.iter().enumerate() {
                if f.is_some_and(|f| !f.allows(node as u32)) {
                    continue;
                }
                let lists: Vec<Vec<u32>> = names
                    .iter()
                    .map(|t| {
                        d.iter()
                            .filter(|x| &x.term == t)
                            .map(|x| x.position)
                            .collect()
                    })
                    .collect();
                if lists.iter().any(|l| l.is_empty()) {
                    continue;
                }
                let offs: Vec<i64> = offsets.iter().map(|&o| o as i64).collect();
                let m = brute_matches(&names, &lists, &offs, slop as i64);
                if m > 0 {
                    want.push(Hit {
                        score: weight * p.tf_part(&prm, m, d.len() as u32),
                        node: node as u32,
                    });
                }
            }
            assert_eq!(got, want.into_sorted(), "phrase {terms:?} slop {slop}");
        }
        // A word repeated in a phrase needs two occurrences, even with slop.
        let one = vec![Token {
            term: "rust".into(),
            position: 5,
        }];
        let two = vec![
            Token {
                term: "rust".into(),
                position: 5,
            },
            Token {
                term: "rust".into(),
                position: 7,
            },
        ];
        let owned2 = build(&[one, two]);
        let p2 = owned2.view().unwrap();
        let got = p2
            .phrase(&[("rust", 0), ("rust", 1)], 1, 1.0, 5, &prm, None)
            .unwrap();
        assert_eq!(got.iter().map(|h| h.node).collect::<Vec<_>>(), vec![1]);
        // Without positions a phrase query is refused, by name.
        let mut b = PostingsBuilder::new(false);
        b.add(&docs[0]).unwrap();
        let owned = b.finish().unwrap();
        let err = owned
            .view()
            .unwrap()
            .phrase(&[("w0", 0)], 0, 1.0, 5, &prm, None)
            .unwrap_err();
        assert!(err.to_string().contains("with_position"), "{err}");
    }

    #[test]
    fn fuzzy_and_prefix_expansion_find_the_dictionary_terms_they_should() {
        let words = [
            "search", "searches", "seared", "serch", "starch", "research", "sea", "seat", "zebra",
            "café", "cafe", "caff",
        ];
        let docs: Vec<Vec<Token>> = words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                // "search" appears in more documents, so it sorts first among equals.
                let reps = if *w == "search" { 3 } else { 1 };
                (0..reps)
                    .map(|r| Token {
                        term: w.to_string(),
                        position: (i * 3 + r) as u32,
                    })
                    .collect()
            })
            .collect();
        let owned = build(&docs);
        let p = owned.view().unwrap();
        let names = |v: Vec<(usize, u32)>| -> Vec<(String, u32)> {
            v.into_iter()
                .map(|(t, d)| (p.term_str(t).to_string(), d))
                .collect()
        };
        let got = names(p.fuzzy_terms("serch", 1, 0, 50).unwrap());
        assert_eq!(got, vec![("serch".into(), 0), ("search".into(), 1)]);
        let got = names(p.fuzzy_terms("serch", 2, 0, 50).unwrap());
        // "sea", "seat" and "seared" are three edits away.
        let mut want: Vec<(String, u32)> = vec![
            ("serch".into(), 0),
            ("search".into(), 1),
            ("starch".into(), 2),
        ];
        let mut sorted_got = got.clone();
        sorted_got.sort();
        want.sort();
        assert_eq!(sorted_got, want);
        assert_eq!(got[0], ("serch".into(), 0));
        // A fixed prefix keeps "starch" out; one expansion keeps the closest.
        assert!(!names(p.fuzzy_terms("serch", 2, 2, 50).unwrap())
            .iter()
            .any(|t| t.0 == "starch"));
        assert_eq!(p.fuzzy_terms("serch", 2, 0, 1).unwrap().len(), 1);
        // Characters, not bytes: "café" is one edit from "cafe" and "caff".
        let got = names(p.fuzzy_terms("café", 1, 0, 50).unwrap());
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(p.fuzzy_terms("x", 3, 0, 5).is_err());
        let pre: Vec<&str> = p
            .prefix_terms("sea", 10)
            .into_iter()
            .map(|t| p.term_str(t))
            .collect();
        assert_eq!(pre, vec!["sea", "search", "searches", "seared", "seat"]);
        assert_eq!(p.prefix_terms("sea", 2).len(), 2);
        assert!(p.prefix_terms("zz", 10).is_empty());
        // Against plain Levenshtein over the whole dictionary, on random words.
        fn lev(a: &[char], b: &[char]) -> u32 {
            let mut prev: Vec<u32> = (0..=b.len() as u32).collect();
            for (i, ca) in a.iter().enumerate() {
                let mut cur = vec![i as u32 + 1];
                for (j, cb) in b.iter().enumerate() {
                    cur.push(
                        (prev[j] + u32::from(ca != cb))
                            .min(prev[j + 1] + 1)
                            .min(cur[j] + 1),
                    );
                }
                prev = cur;
            }
            prev[b.len()]
        }
        let mut rng = SplitMix64::new(4);
        let word = |rng: &mut SplitMix64| -> String {
            (0..1 + rng.below(6))
                .map(|_| ['a', 'b', 'c', 'é'][rng.below(4)])
                .collect()
        };
        let dict: Vec<Vec<Token>> = (0..400)
            .map(|_| {
                vec![Token {
                    term: word(&mut rng),
                    position: 0,
                }]
            })
            .collect();
        let owned = build(&dict);
        let p = owned.view().unwrap();
        for _ in 0..200 {
            let q = word(&mut rng);
            let qc: Vec<char> = q.chars().collect();
            let (edits, plen) = (rng.below(3) as u32, rng.below(3));
            let mut got: Vec<usize> = p
                .fuzzy_terms(&q, edits, plen, usize::MAX)
                .unwrap()
                .into_iter()
                .map(|t| t.0)
                .collect();
            got.sort_unstable();
            let want: Vec<usize> = (0..p.num_terms())
                .filter(|&t| {
                    let tc: Vec<char> = p.term_str(t).chars().collect();
                    let k = plen.min(qc.len());
                    tc.len() >= k && tc[..k] == qc[..k] && lev(&qc, &tc) <= edits
                })
                .collect();
            assert_eq!(got, want, "{q} edits {edits} prefix {plen}");
        }
    }

    #[test]
    fn a_builder_resumed_from_an_index_equals_one_fed_every_document() {
        let docs = corpus(700, 9);
        let whole = build(&docs);
        let first = build(&docs[..400]);
        let mut b = PostingsBuilder::from_postings(&first.view().unwrap());
        for d in &docs[400..] {
            b.add(d).unwrap();
        }
        let resumed = b.finish().unwrap();
        assert_eq!(format!("{resumed:?}"), format!("{whole:?}"));
    }

    #[test]
    fn ngram_positions_repeat_and_still_open() {
        use crate::text::analyzer::BaseTokenizer;
        let a = Analyzer::new(AnalyzerOptions {
            base_tokenizer: BaseTokenizer::Ngram,
            ..Default::default()
        })
        .unwrap();
        let mut toks = Vec::new();
        a.analyze("banana mississippi", 0, &mut toks);
        let mut b = PostingsBuilder::new(true);
        b.add(&toks).unwrap();
        let owned = b.finish().unwrap();
        let p = owned.view().unwrap();
        let hits = p
            .phrase(
                &[("ana", 0), ("mis", 1)],
                0,
                1.0,
                5,
                &Bm25Params::default(),
                None,
            )
            .unwrap();
        assert_eq!(hits.len(), 1);
    }

    #[test]
    fn a_huge_slop_does_not_walk_every_window_start() {
        // Term "a" at 0, "b" four billion positions later: one window start to try, not
        // three billion.
        let toks = vec![
            Token {
                term: "a".into(),
                position: 0,
            },
            Token {
                term: "b".into(),
                position: 4_000_000_000,
            },
        ];
        let mut b = PostingsBuilder::new(true);
        b.add(&toks).unwrap();
        let owned = b.finish().unwrap();
        let p = owned.view().unwrap();
        let prm = Bm25Params::default();
        let t = std::time::Instant::now();
        assert!(p
            .phrase(&[("a", 0), ("b", 1)], 3_000_000_000, 1.0, 5, &prm, None)
            .unwrap()
            .is_empty());
        assert_eq!(
            p.phrase(&[("a", 0), ("b", 1)], u32::MAX, 1.0, 5, &prm, None)
                .unwrap()
                .len(),
            1
        );
        assert!(t.elapsed().as_secs() < 5, "took {:?}", t.elapsed());
    }

    #[test]
    fn an_unsorted_dictionary_is_refused() {
        let mut owned = build(&corpus(50, 2));
        // Swap the first two terms' bytes when they have the same length.
        let (a, b) = (
            owned.term_offsets[1] as usize,
            owned.term_offsets[2] as usize,
        );
        if a == b - a {
            let first = owned.term_bytes[..a].to_vec();
            let second = owned.term_bytes[a..b].to_vec();
            owned.term_bytes[..a].copy_from_slice(&second);
            owned.term_bytes[a..b].copy_from_slice(&first);
        } else {
            owned.term_bytes[0] = b'~';
        }
        assert!(owned.view().is_err());
    }

    #[test]
    fn params_are_checked() {
        assert!(Bm25Params::default().check().is_ok());
        assert!(Bm25Params { k1: -1.0, b: 0.5 }.check().is_err());
        assert!(Bm25Params {
            k1: f32::NAN,
            b: 0.5
        }
        .check()
        .is_err());
        assert!(Bm25Params { k1: 1.0, b: 1.5 }.check().is_err());
    }
}
