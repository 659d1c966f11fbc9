//! A full-text index file: one inverted index per indexed column, the analyzer that made
//! them, and the node -> row id table, in the same checksummed container as vector indexes.
//!
//! [`build`] analyses every row of a [`TextSource`]; [`TextIndex::open`] checks the header
//! and every section once; [`TextIndex::search`] answers a [`TextQuery`]. A plain match on
//! one column runs block-max WAND; compound queries (boolean, multi-column, fuzzy with AND)
//! score every document that matches a clause, then keep the best.

use super::analyzer::{Analyzer, AnalyzerOptions, Token};
use super::bm25::{Bm25Params, Hit, Operator, Postings};
use super::postings_builder::{AnalysedDocs, PostingsBuilder};
use crate::file::{FileWriter, IndexFile};
use crate::filter::NodeFilter;
use oxvec_core::{CancelToken, Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// The container's label for full-text index files.
pub const CONTAINER: &str = "oxvec-fts";
/// The header layout this build writes; newer files are refused, not misread.
pub const FORMAT_VERSION: u32 = 1;
/// The kind name in headers and manifests.
pub const KIND: &str = "FTS";
/// Fuzzy expansions per query word unless a query says otherwise (Lucene's default).
pub const DEFAULT_MAX_EXPANSIONS: usize = 50;

/// What a full-text index file says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextHeader {
    pub format_version: u32,
    pub kind: String,
    /// Number of nodes (rows indexed).
    pub len: usize,
    /// Indexed columns, in section order (`c0.`, `c1.`, ...).
    pub columns: Vec<String>,
    pub analyzer: AnalyzerOptions,
    pub with_position: bool,
}

/// Rows to index: one text value per indexed column, or none (null).
pub trait TextSource: Sync {
    /// Rows in the source.
    fn len(&self) -> usize;
    /// Whether the source has no rows.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The value of row `row` in indexed column `col`.
    fn value(&self, row: usize, col: usize) -> Option<&str>;
}

/// Rows held in memory, for tests and small inputs.
impl TextSource for Vec<Vec<Option<String>>> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn value(&self, row: usize, col: usize) -> Option<&str> {
        self[row].get(col).and_then(|v| v.as_deref())
    }
}

/// Builds a full-text index over `columns` of `rows` (node `i` is row `row_ids[i]`).
/// Returns the file bytes and the header CRC the manifest records.
pub fn build(
    rows: &dyn TextSource,
    columns: &[String],
    row_ids: &[u64],
    analyzer: &AnalyzerOptions,
    with_position: bool,
    cancel: &CancelToken,
) -> Result<(Vec<u8>, u32)> {
    if rows.len() != row_ids.len() {
        return Err(Error::invalid("full-text build: rows and row ids disagree"));
    }
    if columns.is_empty() {
        return Err(Error::invalid(
            "a full-text index needs at least one column",
        ));
    }
    let a = Analyzer::new(analyzer.clone())?;
    let mut w = FileWriter::new();
    for (c, _) in columns.iter().enumerate() {
        let mut b = PostingsBuilder::new(with_position);
        add_analysed(&mut b, &a, rows, c, cancel)?;
        b.finish()?.write(&mut w, &prefix(c));
    }
    w.section("row_ids", row_ids);
    let header = TextHeader {
        format_version: FORMAT_VERSION,
        kind: KIND.into(),
        len: rows.len(),
        columns: columns.to_vec(),
        analyzer: analyzer.clone(),
        with_position,
    };
    let meta = serde_json::to_value(&header)
        .map_err(|e| Error::internal("encoding a full-text index header", e))?;
    w.finish(CONTAINER, meta)
}

/// Rows analysed per round: enough to keep every core busy, few enough that a round's
/// analysed documents stay small.
const ANALYSE_BATCH: usize = 8192;
/// Rows one thread analyses into one [`AnalysedDocs`]: the sequential step looks up each
/// distinct term once per such batch, so larger batches leave it less to do.
const THREAD_BATCH: usize = 2048;

/// Adds column `col` of every row of `rows` to `b`, in row order. Each round's rows are
/// analysed on every core while the round before is added to the (sequential) postings
/// builder, so the two overlap instead of taking turns.
fn add_analysed(
    b: &mut PostingsBuilder,
    a: &Analyzer,
    rows: &dyn TextSource,
    col: usize,
    cancel: &CancelToken,
) -> Result<()> {
    use rayon::prelude::*;
    let with_positions = b.with_positions();
    let analyse = |start: usize| -> Vec<AnalysedDocs> {
        let end = (start + ANALYSE_BATCH).min(rows.len());
        (start..end)
            .step_by(THREAD_BATCH)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|first| {
                let mut docs = AnalysedDocs::new(with_positions);
                let mut tokens = Vec::new();
                for r in first..(first + THREAD_BATCH).min(end) {
                    if let Some(text) = rows.value(r, col) {
                        a.analyze(text, 0, &mut tokens);
                    }
                    docs.push(&mut tokens);
                }
                docs
            })
            .collect()
    };
    let mut pending: Vec<AnalysedDocs> = Vec::new();
    let mut start = 0;
    while start < rows.len() || !pending.is_empty() {
        cancel.check()?;
        let next = start;
        let round = std::mem::take(&mut pending);
        let (analysed, added) = rayon::join(
            || (next < rows.len()).then(|| analyse(next)),
            || round.into_iter().try_for_each(|docs| b.add_batch(docs)),
        );
        added?;
        pending = analysed.unwrap_or_default();
        start = (start + ANALYSE_BATCH).min(rows.len());
    }
    Ok(())
}

fn prefix(col: usize) -> String {
    format!("c{col}.")
}

/// A text query, as parsed from the user's text or built as structured objects.
#[derive(Debug, Clone, PartialEq)]
pub enum TextQuery {
    /// The analysed words of `text` in one column (`None`: every indexed column, summed).
    /// With `fuzziness` 1 or 2, each word also matches dictionary terms that many edits
    /// away that share its first `prefix_length` characters.
    Match {
        column: Option<String>,
        text: String,
        operator: Operator,
        fuzziness: u32,
        prefix_length: usize,
        max_expansions: usize,
        boost: f32,
    },
    /// The words of `text` in order, within `slop` (needs positions).
    Phrase {
        column: Option<String>,
        text: String,
        slop: u32,
        boost: f32,
    },
    /// `text` matched in several columns, each score times its boost, summed.
    MultiMatch {
        text: String,
        columns: Vec<(String, f32)>,
        operator: Operator,
    },
    /// Documents matching every `must`, none of `must_not`, and (when there is no `must`)
    /// at least one `should`; scored by the sum of the `must` and `should` clauses they
    /// match.
    Boolean {
        must: Vec<TextQuery>,
        should: Vec<TextQuery>,
        must_not: Vec<TextQuery>,
    },
}

impl TextQuery {
    /// A plain match of `text` over every column, any word (`OR`).
    pub fn text(text: &str) -> TextQuery {
        TextQuery::Match {
            column: None,
            text: text.to_string(),
            operator: Operator::Or,
            fuzziness: 0,
            prefix_length: 0,
            max_expansions: DEFAULT_MAX_EXPANSIONS,
            boost: 1.0,
        }
    }
}

/// An opened full-text index.
#[derive(Debug)]
pub struct TextIndex {
    file: IndexFile,
    header: TextHeader,
    analyzer: Analyzer,
    /// Mean document length per column, from the check at open.
    avg_len: Vec<f32>,
}

impl TextIndex {
    /// Opens a full-text index file, checking its size and header checksum against the
    /// manifest's record, its header, and every section.
    pub fn open(path: &Path, size: u64, header_crc: u32) -> Result<TextIndex> {
        Self::checked(IndexFile::open(path, size, header_crc)?)
    }

    /// An index held in memory, as [`build`] returned it (never written to disk), checked
    /// like a file; `label` names it in errors.
    pub fn in_memory(label: &str, bytes: &[u8], header_crc: u32) -> Result<TextIndex> {
        Self::checked(IndexFile::in_memory(label, bytes, header_crc)?)
    }

    fn checked(file: IndexFile) -> Result<TextIndex> {
        let path = file.path().to_path_buf();
        let bad = |m: String| Error::corrupt(&path, m);
        if file.header.kind != CONTAINER {
            return Err(bad(format!(
                "not a full-text index file (container '{}')",
                file.header.kind
            )));
        }
        let header: TextHeader = serde_json::from_value(file.header.meta.clone())
            .map_err(|e| bad(format!("bad full-text index header: {e}")))?;
        if header.format_version > FORMAT_VERSION {
            return Err(bad(format!(
                "full-text index format {} is newer than this oxvec reads ({FORMAT_VERSION})",
                header.format_version
            )));
        }
        if header.kind != KIND || header.columns.is_empty() {
            return Err(bad("full-text index header names no columns".into()));
        }
        let analyzer = Analyzer::new(header.analyzer.clone())
            .map_err(|e| bad(format!("full-text index analyzer: {e}")))?;
        let rows = file.get::<u64>("row_ids")?.len();
        let mut avg_len = Vec::with_capacity(header.columns.len());
        for c in 0..header.columns.len() {
            let p = Postings::open(&file, &prefix(c))?;
            if p.len() != header.len || rows != header.len {
                return Err(bad(format!(
                    "full-text index header says {} rows, its sections disagree",
                    header.len
                )));
            }
            if p.has_positions() != header.with_position {
                return Err(bad("full-text positions disagree with the header".into()));
            }
            avg_len.push(p.avg_len());
        }
        Ok(TextIndex {
            file,
            header,
            analyzer,
            avg_len,
        })
    }

    pub fn header(&self) -> &TextHeader {
        &self.header
    }

    /// The file the index lives in (its size re-checked before a search, every section's
    /// checksum by `verify`).
    pub fn file(&self) -> &IndexFile {
        &self.file
    }

    /// Rows indexed.
    pub fn len(&self) -> usize {
        self.header.len
    }

    pub fn is_empty(&self) -> bool {
        self.header.len == 0
    }

    /// Node -> table row id.
    pub fn row_ids(&self) -> Result<&[u64]> {
        self.file.get("row_ids")
    }

    /// A new file with the rows of `rows` appended as nodes `len()..` (row ids `row_ids`):
    /// only the new rows are analysed; the old postings are carried over.
    pub fn extend(
        &self,
        rows: &dyn TextSource,
        row_ids: &[u64],
        cancel: &CancelToken,
    ) -> Result<(Vec<u8>, u32)> {
        if rows.len() != row_ids.len() {
            return Err(Error::invalid(
                "full-text extend: rows and row ids disagree",
            ));
        }
        let len = self
            .len()
            .checked_add(rows.len())
            .filter(|&n| n < u32::MAX as usize)
            .ok_or_else(|| Error::invalid("a full-text index holds at most 2^32 - 2 rows"))?;
        let mut w = FileWriter::new();
        for c in 0..self.header.columns.len() {
            let mut b = PostingsBuilder::from_postings(&self.postings(c)?);
            add_analysed(&mut b, &self.analyzer, rows, c, cancel)?;
            b.finish()?.write(&mut w, &prefix(c));
        }
        let mut all_rows = self.row_ids()?.to_vec();
        all_rows.extend_from_slice(row_ids);
        w.section("row_ids", &all_rows);
        let header = TextHeader {
            len,
            ..self.header.clone()
        };
        let meta = serde_json::to_value(&header)
            .map_err(|e| Error::internal("encoding a full-text index header", e))?;
        w.finish(CONTAINER, meta)
    }

    /// A copy whose node `i` is table row `row_ids[i]` (after compaction moved rows);
    /// nodes whose new row id is `u64::MAX` (deleted rows) are dropped, with their terms,
    /// frequencies and lengths, so the statistics are those of the rows that remain.
    pub fn remap(&self, row_ids: &[u64]) -> Result<(Vec<u8>, u32)> {
        if row_ids.len() != self.len() {
            return Err(Error::invalid("full-text remap: wrong number of row ids"));
        }
        let keep: Vec<bool> = row_ids.iter().map(|&r| r != u64::MAX).collect();
        if keep.iter().all(|&k| k) {
            let meta = serde_json::to_value(&self.header)
                .map_err(|e| Error::internal("encoding a full-text index header", e))?;
            return crate::file::with_row_ids(&self.file, row_ids, CONTAINER, meta);
        }
        let mut w = FileWriter::new();
        for c in 0..self.header.columns.len() {
            PostingsBuilder::kept_from(&self.postings(c)?, &keep)?
                .finish()?
                .write(&mut w, &prefix(c));
        }
        let kept: Vec<u64> = row_ids.iter().copied().filter(|&r| r != u64::MAX).collect();
        w.section("row_ids", &kept);
        let header = TextHeader {
            len: kept.len(),
            ..self.header.clone()
        };
        let meta = serde_json::to_value(&header)
            .map_err(|e| Error::internal("encoding a full-text index header", e))?;
        w.finish(CONTAINER, meta)
    }

    fn column(&self, name: &str) -> Result<usize> {
        self.header
            .columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "column '{name}' is not in this full-text index (it covers {:?})",
                    self.header.columns
                ))
            })
    }

    fn postings(&self, col: usize) -> Result<Postings<'_>> {
        Postings::open_checked(&self.file, &prefix(col), self.avg_len[col])
    }

    /// Column `col`'s postings, scored with `peer`'s statistics joined in.
    fn scored<'a>(&'a self, col: usize, peer: Option<&'a TextIndex>) -> Result<Postings<'a>> {
        let own = self.postings(col)?;
        match peer {
            Some(p) => Ok(own.joined(&p.postings(col)?)),
            None => Ok(own),
        }
    }

    /// The analysed terms of `text`, with their positions.
    fn terms(&self, text: &str) -> Vec<Token> {
        let mut out = Vec::new();
        self.analyzer.analyze(text, 0, &mut out);
        out
    }

    /// The columns a query names (`None`: all, boost 1).
    fn columns_of(&self, column: &Option<String>) -> Result<Vec<usize>> {
        match column {
            Some(c) => Ok(vec![self.column(c)?]),
            None => Ok((0..self.header.columns.len()).collect()),
        }
    }

    /// The `k` best nodes for `q`, skipping nodes `filter` rejects.
    pub fn search(
        &self,
        q: &TextQuery,
        k: usize,
        params: &Bm25Params,
        filter: Option<&NodeFilter>,
    ) -> Result<Vec<Hit>> {
        self.search_joined(q, k, params, filter, None, &CancelToken::new())
    }

    /// [`Self::search`] over this index as one part of a corpus whose other part is `peer`
    /// (an index of other rows with the same columns and analyzer, see
    /// [`Postings::joined`]): scores from the two parts compare, so their hits merge by
    /// score.
    /// Compound queries check `cancel` between clauses and expansions.
    pub fn search_joined(
        &self,
        q: &TextQuery,
        k: usize,
        params: &Bm25Params,
        filter: Option<&NodeFilter>,
        peer: Option<&TextIndex>,
        cancel: &CancelToken,
    ) -> Result<Vec<Hit>> {
        if let Some(p) = peer {
            if p.header.columns != self.header.columns || p.header.analyzer != self.header.analyzer
            {
                return Err(Error::invalid(
                    "full-text indexes joined for scoring must share columns and analyzer",
                ));
            }
        }
        params.check()?;
        check(q)?;
        // The fast paths: one column, exact words, or one phrase.
        match q {
            TextQuery::Match {
                column,
                text,
                operator,
                fuzziness: 0,
                boost,
                ..
            } if self.columns_of(column)?.len() == 1 => {
                let col = self.columns_of(column)?[0];
                let words = self.terms(text);
                let terms: Vec<(&str, f32)> =
                    words.iter().map(|t| (t.term.as_str(), *boost)).collect();
                return Ok(self
                    .scored(col, peer)?
                    .search(&terms, *operator, k, params, filter));
            }
            TextQuery::Phrase {
                column,
                text,
                slop,
                boost,
            } if self.columns_of(column)?.len() == 1 => {
                return self.phrase(
                    self.columns_of(column)?[0],
                    text,
                    *slop,
                    *boost,
                    k,
                    params,
                    filter,
                    peer,
                );
            }
            _ => {}
        }
        let scores = self.score_all(q, params, peer, cancel)?;
        let mut hits: Vec<Hit> = scores
            .into_iter()
            .filter(|(node, _)| filter.is_none_or(|f| f.allows(*node)))
            .map(|(node, score)| Hit { score, node })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.node.cmp(&b.node)));
        hits.truncate(k);
        Ok(hits)
    }

    #[allow(clippy::too_many_arguments)]
    fn phrase(
        &self,
        col: usize,
        text: &str,
        slop: u32,
        boost: f32,
        k: usize,
        params: &Bm25Params,
        filter: Option<&NodeFilter>,
        peer: Option<&TextIndex>,
    ) -> Result<Vec<Hit>> {
        let words = self.terms(text);
        let Some(first) = words.first().map(|t| t.position) else {
            return Ok(Vec::new());
        };
        let terms: Vec<(&str, u32)> = words
            .iter()
            .map(|t| (t.term.as_str(), t.position - first))
            .collect();
        self.scored(col, peer)?
            .phrase(&terms, slop, boost, k, params, filter)
    }

    /// Every node matching `q`, with its score.
    fn score_all(
        &self,
        q: &TextQuery,
        params: &Bm25Params,
        peer: Option<&TextIndex>,
        cancel: &CancelToken,
    ) -> Result<HashMap<u32, f32>> {
        cancel.check()?;
        let mut out: HashMap<u32, f32> = HashMap::new();
        match q {
            TextQuery::Match {
                column,
                text,
                operator,
                fuzziness,
                prefix_length,
                max_expansions,
                boost,
            } => {
                for col in self.columns_of(column)? {
                    let part = self.match_scores(
                        col,
                        text,
                        *operator,
                        *fuzziness,
                        *prefix_length,
                        *max_expansions,
                        *boost,
                        params,
                        peer,
                        cancel,
                    )?;
                    add_into(&mut out, part);
                }
            }
            TextQuery::Phrase {
                column,
                text,
                slop,
                boost,
            } => {
                for col in self.columns_of(column)? {
                    let hits =
                        self.phrase(col, text, *slop, *boost, self.len(), params, None, peer)?;
                    add_into(
                        &mut out,
                        hits.into_iter().map(|h| (h.node, h.score)).collect(),
                    );
                }
            }
            TextQuery::MultiMatch {
                text,
                columns,
                operator,
            } => {
                for (name, boost) in columns {
                    let col = self.column(name)?;
                    let part = self.match_scores(
                        col,
                        text,
                        *operator,
                        0,
                        0,
                        DEFAULT_MAX_EXPANSIONS,
                        *boost,
                        params,
                        peer,
                        cancel,
                    )?;
                    add_into(&mut out, part);
                }
            }
            TextQuery::Boolean {
                must,
                should,
                must_not,
            } => {
                let mut first = true;
                for m in must {
                    let s = self.score_all(m, params, peer, cancel)?;
                    if first {
                        out = s;
                        first = false;
                    } else {
                        out.retain(|node, _| s.contains_key(node));
                        for (node, v) in out.iter_mut() {
                            *v += s[node];
                        }
                    }
                }
                for sh in should {
                    let s = self.score_all(sh, params, peer, cancel)?;
                    if must.is_empty() {
                        add_into(&mut out, s);
                    } else {
                        for (node, v) in out.iter_mut() {
                            if let Some(x) = s.get(node) {
                                *v += x;
                            }
                        }
                    }
                }
                for n in must_not {
                    let s = self.score_all(n, params, peer, cancel)?;
                    out.retain(|node, _| !s.contains_key(node));
                }
            }
        }
        Ok(out)
    }

    /// Scores of every node matching the words of `text` in one column: per word, its
    /// best-scoring expansion (the word itself without fuzziness); with `And`, only nodes
    /// that match every word.
    #[allow(clippy::too_many_arguments)]
    fn match_scores(
        &self,
        col: usize,
        text: &str,
        operator: Operator,
        fuzziness: u32,
        prefix_length: usize,
        max_expansions: usize,
        boost: f32,
        params: &Bm25Params,
        peer: Option<&TextIndex>,
        cancel: &CancelToken,
    ) -> Result<HashMap<u32, f32>> {
        let p = self.scored(col, peer)?;
        let words = self.terms(text);
        let mut out: HashMap<u32, f32> = HashMap::new();
        let mut matched: HashMap<u32, usize> = HashMap::new();
        // A word given twice counts twice, as on the single-column path.
        let mut distinct: Vec<(&str, f32)> = Vec::new();
        for t in &words {
            match distinct.iter_mut().find(|d| d.0 == t.term) {
                Some(d) => d.1 += boost,
                None => distinct.push((t.term.as_str(), boost)),
            }
        }
        for (wi, &(word, boost)) in distinct.iter().enumerate() {
            // Expansions come from both parts' dictionaries, so a joined search expands a
            // word exactly as one index over every row would.
            let expansions: Vec<usize> = if fuzziness == 0 {
                p.term(word).into_iter().collect()
            } else {
                p.fuzzy_expansions(word, fuzziness, prefix_length, max_expansions)?
                    .iter()
                    .filter_map(|t| p.term(t))
                    .collect()
            };
            // A word counts once per document: its best expansion there.
            let mut best: HashMap<u32, f32> = HashMap::new();
            for t in expansions {
                cancel.check()?;
                for h in p.search_exhaustive(
                    &[(p.term_str(t), boost)],
                    Operator::Or,
                    usize::MAX,
                    params,
                    None,
                ) {
                    let e = best.entry(h.node).or_insert(0.0);
                    *e = e.max(h.score);
                }
            }
            for (node, s) in best {
                *out.entry(node).or_insert(0.0) += s;
                let m = matched.entry(node).or_insert(0);
                if *m == wi {
                    *m += 1;
                }
            }
        }
        if operator == Operator::And {
            out.retain(|node, _| matched.get(node) == Some(&distinct.len()));
        }
        Ok(out)
    }
}

fn add_into(out: &mut HashMap<u32, f32>, part: HashMap<u32, f32>) {
    for (node, s) in part {
        *out.entry(node).or_insert(0.0) += s;
    }
}

/// Boosts finite and non-negative, fuzziness at most 2, some clause in a boolean query.
fn check(q: &TextQuery) -> Result<()> {
    let boost_ok = |b: f32| b.is_finite() && b >= 0.0;
    match q {
        TextQuery::Match {
            fuzziness, boost, ..
        } => {
            if *fuzziness > 2 {
                return Err(Error::invalid(format!(
                    "fuzziness must be 0, 1 or 2 edits, got {fuzziness}"
                )));
            }
            if !boost_ok(*boost) {
                return Err(Error::invalid(format!(
                    "boost must be finite and >= 0, got {boost}"
                )));
            }
        }
        TextQuery::Phrase { boost, .. } => {
            if !boost_ok(*boost) {
                return Err(Error::invalid(format!(
                    "boost must be finite and >= 0, got {boost}"
                )));
            }
        }
        TextQuery::MultiMatch { columns, .. } => {
            if columns.is_empty() {
                return Err(Error::invalid(
                    "a multi-column match needs at least one column",
                ));
            }
            if let Some((c, b)) = columns.iter().find(|c| !boost_ok(c.1)) {
                return Err(Error::invalid(format!(
                    "boost of column '{c}' must be finite and >= 0, got {b}"
                )));
            }
        }
        TextQuery::Boolean {
            must,
            should,
            must_not,
        } => {
            if must.is_empty() && should.is_empty() {
                return Err(Error::invalid(
                    "a boolean query needs at least one must or should clause",
                ));
            }
            for c in must.iter().chain(should).chain(must_not) {
                check(c)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn rows() -> Vec<Vec<Option<String>>> {
        let r = |t: &str, b: Option<&str>| vec![Some(t.to_string()), b.map(str::to_string)];
        vec![
            r(
                "Vector search in Rust",
                Some("fast approximate nearest neighbours"),
            ),
            r(
                "Full-text search with BM25",
                Some("ranking documents by term statistics"),
            ),
            r("Cooking pasta", None),
            r(
                "Rust for data engineers",
                Some("search engines and vector databases"),
            ),
            r("The quick brown fox", Some("jumps over the lazy dog")),
            r(
                "Searching vectors quickly",
                Some("nearest neighbour search"),
            ),
        ]
    }

    fn open(dir: &Path, with_position: bool) -> TextIndex {
        let rows = rows();
        let ids: Vec<u64> = (0..rows.len() as u64).map(|i| 1000 + i).collect();
        let cols = vec!["title".to_string(), "body".to_string()];
        let (bytes, crc) = build(
            &rows,
            &cols,
            &ids,
            &AnalyzerOptions::default(),
            with_position,
            &CancelToken::new(),
        )
        .unwrap();
        let path = dir.join(format!("t{with_position}.idx"));
        std::fs::write(&path, &bytes).unwrap();
        TextIndex::open(&path, bytes.len() as u64, crc).unwrap()
    }

    fn nodes(h: &[Hit]) -> Vec<u32> {
        h.iter().map(|h| h.node).collect()
    }

    fn m(column: Option<&str>, text: &str, operator: Operator, fuzziness: u32) -> TextQuery {
        TextQuery::Match {
            column: column.map(str::to_string),
            text: text.into(),
            operator,
            fuzziness,
            prefix_length: 0,
            max_expansions: DEFAULT_MAX_EXPANSIONS,
            boost: 1.0,
        }
    }

    #[test]
    fn matches_phrases_and_boolean_queries_find_the_right_rows() {
        let dir = tempfile::tempdir().unwrap();
        let ix = open(dir.path(), true);
        let prm = Bm25Params::default();
        assert_eq!(ix.len(), 6);
        assert_eq!(ix.row_ids().unwrap()[3], 1003);
        let hits = |q: &TextQuery| nodes(&ix.search(q, 10, &prm, None).unwrap());
        let set = |q: &TextQuery| hits(q).into_iter().collect::<HashSet<u32>>();
        // "search" stems to "search" and matches "Searching" too.
        assert_eq!(
            set(&m(Some("title"), "search", Operator::Or, 0)),
            HashSet::from([0, 1, 5])
        );
        assert_eq!(
            set(&m(None, "search", Operator::Or, 0)),
            HashSet::from([0, 1, 3, 5])
        );
        assert_eq!(
            set(&m(Some("title"), "rust vector", Operator::And, 0)),
            HashSet::from([0])
        );
        // All columns: a row matching in both scores higher than in one.
        let all = ix
            .search(&m(None, "search", Operator::Or, 0), 10, &prm, None)
            .unwrap();
        assert_eq!(all[0].node, 5, "{all:?}");
        // Fuzzy: "serch" is one edit from "search".
        assert!(hits(&m(Some("title"), "serch", Operator::Or, 0)).is_empty());
        assert_eq!(
            set(&m(Some("title"), "serch", Operator::Or, 1)),
            HashSet::from([0, 1, 5])
        );
        assert_eq!(
            set(&m(Some("title"), "serch rusty", Operator::And, 1)),
            HashSet::from([0])
        );
        let phrase = |text: &str, slop| TextQuery::Phrase {
            column: Some("body".into()),
            text: text.into(),
            slop,
            boost: 1.0,
        };
        // The shorter body ranks first.
        assert_eq!(hits(&phrase("nearest neighbour", 0)), vec![5, 0]);
        assert!(hits(&phrase("neighbour nearest", 0)).is_empty());
        assert_eq!(hits(&phrase("vector databases", 0)), vec![3]);
        assert!(hits(&phrase("search vector", 0)).is_empty());
        assert_eq!(hits(&phrase("search vector", 2)), vec![3]);
        let b = TextQuery::Boolean {
            must: vec![m(None, "search", Operator::Or, 0)],
            should: vec![m(Some("title"), "rust", Operator::Or, 0)],
            must_not: vec![m(Some("body"), "ranking", Operator::Or, 0)],
        };
        let got = ix.search(&b, 10, &prm, None).unwrap();
        assert_eq!(
            nodes(&got).into_iter().collect::<HashSet<u32>>(),
            HashSet::from([0, 3, 5])
        );
        // The should clause lifts the rows that also mention Rust above the one that does not.
        assert!(got[2].node == 5, "{got:?}");
        let should_only = TextQuery::Boolean {
            must: vec![],
            should: vec![
                m(Some("title"), "fox", Operator::Or, 0),
                m(Some("title"), "pasta", Operator::Or, 0),
            ],
            must_not: vec![],
        };
        assert_eq!(set(&should_only), HashSet::from([2, 4]));
        let multi = TextQuery::MultiMatch {
            text: "vector".into(),
            columns: vec![("title".into(), 3.0), ("body".into(), 1.0)],
            operator: Operator::Or,
        };
        let got = ix.search(&multi, 10, &prm, None).unwrap();
        assert_eq!(nodes(&got)[..2], [0, 5]);
        // A filter removes rows from every path.
        let mut f = NodeFilter::all(ix.len());
        f.set(5, false);
        for q in [
            m(None, "search", Operator::Or, 0),
            m(Some("title"), "search", Operator::Or, 0),
            phrase("nearest neighbour", 0),
            b.clone(),
            multi.clone(),
        ] {
            assert!(
                !nodes(&ix.search(&q, 10, &prm, Some(&f)).unwrap()).contains(&5),
                "{q:?}"
            );
        }
    }

    #[test]
    fn extending_answers_like_building_over_every_row_and_remap_moves_row_ids() {
        let dir = tempfile::tempdir().unwrap();
        let rows = rows();
        let cols = vec!["title".to_string(), "body".to_string()];
        let ids: Vec<u64> = (0..rows.len() as u64).collect();
        let opts = AnalyzerOptions::default();
        let cancel = CancelToken::new();
        let write = |name: &str, (bytes, crc): (Vec<u8>, u32)| {
            let path = dir.path().join(name);
            std::fs::write(&path, &bytes).unwrap();
            TextIndex::open(&path, bytes.len() as u64, crc).unwrap()
        };
        let whole = write(
            "whole.idx",
            build(&rows, &cols, &ids, &opts, true, &cancel).unwrap(),
        );
        let head: Vec<Vec<Option<String>>> = rows[..2].to_vec();
        let tail: Vec<Vec<Option<String>>> = rows[2..].to_vec();
        let first = write(
            "first.idx",
            build(&head, &cols, &ids[..2], &opts, true, &cancel).unwrap(),
        );
        let grown = write(
            "grown.idx",
            first.extend(&tail, &ids[2..], &cancel).unwrap(),
        );
        assert_eq!(grown.len(), rows.len());
        assert_eq!(grown.row_ids().unwrap(), whole.row_ids().unwrap());
        let prm = Bm25Params::default();
        for q in [
            m(None, "search vector", Operator::Or, 0),
            m(Some("body"), "nearest neighbour", Operator::And, 1),
            TextQuery::Phrase {
                column: Some("body".into()),
                text: "vector databases".into(),
                slop: 1,
                boost: 1.0,
            },
        ] {
            assert_eq!(
                grown.search(&q, 10, &prm, None).unwrap(),
                whole.search(&q, 10, &prm, None).unwrap(),
                "{q:?}"
            );
        }
        let moved: Vec<u64> = ids.iter().map(|i| i + 7000).collect();
        let remapped = write("remapped.idx", whole.remap(&moved).unwrap());
        assert_eq!(remapped.row_ids().unwrap(), &moved[..]);
        assert_eq!(remapped.header(), whole.header());
        assert!(whole.remap(&moved[..3]).is_err());
        assert!(whole.extend(&tail, &ids[..1], &cancel).is_err());
    }

    #[test]
    fn bad_queries_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let ix = open(dir.path(), false);
        let prm = Bm25Params::default();
        let err = |q: &TextQuery| ix.search(q, 10, &prm, None).unwrap_err().to_string();
        assert!(err(&m(Some("nope"), "x", Operator::Or, 0)).contains("'nope'"));
        assert!(err(&m(None, "x", Operator::Or, 3)).contains("fuzziness"));
        let e = err(&TextQuery::Phrase {
            column: Some("title".into()),
            text: "quick brown".into(),
            slop: 0,
            boost: 1.0,
        });
        assert!(e.contains("with_position"), "{e}");
        let e = err(&TextQuery::Boolean {
            must: vec![],
            should: vec![],
            must_not: vec![m(None, "x", Operator::Or, 0)],
        });
        assert!(e.contains("must or should"), "{e}");
        let e = err(&TextQuery::MultiMatch {
            text: "x".into(),
            columns: vec![("title".into(), f32::NAN)],
            operator: Operator::Or,
        });
        assert!(e.contains("boost"), "{e}");
        assert!(ix
            .search(
                &m(None, "x", Operator::Or, 0),
                10,
                &Bm25Params { k1: -1.0, b: 0.5 },
                None
            )
            .is_err());
        // Nothing to look for is no error: stop words only.
        assert!(ix
            .search(&TextQuery::text("the and of"), 10, &prm, None)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn damaged_or_foreign_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let rows = rows();
        let ids: Vec<u64> = (0..rows.len() as u64).collect();
        let cols = vec!["title".to_string()];
        let (bytes, crc) = build(
            &rows,
            &cols,
            &ids,
            &AnalyzerOptions::default(),
            true,
            &CancelToken::new(),
        )
        .unwrap();
        let path = dir.path().join("x.idx");
        // A flipped byte in every section's range is caught by that section's checksum.
        let file_sections = {
            std::fs::write(&path, &bytes).unwrap();
            IndexFile::open(&path, bytes.len() as u64, crc)
                .unwrap()
                .header
                .sections
                .clone()
        };
        for s in &file_sections {
            if s.len == 0 {
                continue;
            }
            let mut bad = bytes.clone();
            bad[s.offset as usize] ^= 0x55;
            std::fs::write(&path, &bad).unwrap();
            assert!(
                TextIndex::open(&path, bad.len() as u64, crc).is_err(),
                "section {}",
                s.name
            );
        }
        // Mismatched lengths in the header are refused before anything is read.
        let mut b = bytes.clone();
        b.truncate(b.len() - 1);
        std::fs::write(&path, &b).unwrap();
        assert!(TextIndex::open(&path, b.len() as u64, crc).is_err());
        // Build refuses mismatched inputs.
        assert!(build(
            &rows,
            &cols,
            &ids[..2],
            &AnalyzerOptions::default(),
            true,
            &CancelToken::new()
        )
        .is_err());
        assert!(build(
            &rows,
            &[],
            &ids,
            &AnalyzerOptions::default(),
            true,
            &CancelToken::new()
        )
        .is_err());
    }

    /// Two indexes over halves of the rows, each searched joined with the other, give the
    /// scores one index over all rows gives: the unindexed rows of a table are searched
    /// this way.
    #[test]
    fn halves_joined_score_like_one_index() {
        let all = rows();
        let cols = vec!["title".to_string(), "body".to_string()];
        let opts = AnalyzerOptions::default();
        let mem = |part: &[Vec<Option<String>>], first: u64| {
            let part = part.to_vec();
            let ids: Vec<u64> = (first..first + part.len() as u64).collect();
            let (b, crc) = build(&part, &cols, &ids, &opts, true, &CancelToken::new()).unwrap();
            TextIndex::in_memory("part", &b, crc).unwrap()
        };
        let whole = mem(&all, 0);
        let (a, b) = (mem(&all[..4], 0), mem(&all[4..], 4));
        let prm = Bm25Params::default();
        let queries = [
            m(None, "search vector rust", Operator::Or, 0),
            m(Some("body"), "nearest neighbour", Operator::And, 0),
            m(Some("title"), "serch", Operator::Or, 1),
            TextQuery::Phrase {
                column: Some("body".into()),
                text: "nearest neighbour".into(),
                slop: 0,
                boost: 2.0,
            },
            TextQuery::Boolean {
                must: vec![m(None, "search", Operator::Or, 0)],
                should: vec![m(None, "rust", Operator::Or, 0)],
                must_not: vec![m(None, "bm25", Operator::Or, 0)],
            },
        ];
        for q in &queries {
            let want = whole.search(q, 10, &prm, None).unwrap();
            let mut got: Vec<Hit> = a
                .search_joined(q, 10, &prm, None, Some(&b), &CancelToken::new())
                .unwrap();
            got.extend(
                b.search_joined(q, 10, &prm, None, Some(&a), &CancelToken::new())
                    .unwrap()
                    .into_iter()
                    .map(|h| Hit {
                        node: h.node + 4,
                        ..h
                    }),
            );
            got.sort_by(|x, y| y.score.total_cmp(&x.score).then(x.node.cmp(&y.node)));
            assert_eq!(nodes(&got), nodes(&want), "{q:?}");
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g.score - w.score).abs() < 1e-4,
                    "{q:?}: {got:?} vs {want:?}"
                );
            }
        }
        // Indexes of different columns or analyzers cannot be joined.
        let other = {
            let (bytes, crc) = build(
                &all,
                &cols[..1],
                &[0, 1, 2, 3, 4, 5],
                &opts,
                true,
                &CancelToken::new(),
            )
            .unwrap();
            TextIndex::in_memory("other", &bytes, crc).unwrap()
        };
        assert!(a
            .search_joined(
                &queries[0],
                10,
                &prm,
                None,
                Some(&other),
                &CancelToken::new()
            )
            .is_err());
    }
}
