//! Building an inverted index: analysed documents in, [`OwnedPostings`] out.
//!
//! Analysis runs on every core, a batch of documents per thread. Each batch
//! ([`AnalysedDocs`]) numbers its own terms and keeps, per document, its distinct terms with
//! their frequencies. The one sequential step, [`PostingsBuilder::add_batch`], then looks up
//! each distinct term of a batch once (not each token) and appends one posting per
//! (document, term) to that term's list, so lists come out sorted by node.

use super::analyzer::Token;
use super::bm25::{OwnedPostings, Postings, BLOCK};
use ahash::AHashMap;
use oxvec_core::{Error, Result};

/// Analysed documents, ready for [`PostingsBuilder::add_batch`]: terms numbered in the
/// batch, and per document its (term, frequency) pairs and (with positions) the positions.
#[derive(Debug, Default)]
pub struct AnalysedDocs {
    ids: AHashMap<String, u32>,
    /// Per document, its distinct terms as (batch term id, frequency).
    postings: Vec<(u32, u32)>,
    /// With positions: each posting's positions one after another, ascending.
    positions: Vec<u32>,
    /// Where each document's postings end in `postings`.
    doc_ends: Vec<usize>,
    doc_len: Vec<u32>,
    with_positions: bool,
    /// (term id, position) of the document being added, reused across documents.
    scratch: Vec<(u32, u32)>,
}

impl AnalysedDocs {
    /// An empty batch; `with_positions` must match the builder it goes to.
    pub fn new(with_positions: bool) -> Self {
        AnalysedDocs {
            with_positions,
            ..Self::default()
        }
    }

    /// Adds the next document, taking its tokens (`tokens` is left empty for reuse).
    pub fn push(&mut self, tokens: &mut Vec<Token>) {
        let len = u32::try_from(tokens.len()).unwrap_or(u32::MAX);
        self.scratch.clear();
        for t in tokens.drain(..) {
            let id = match self.ids.get(t.term.as_str()) {
                Some(&id) => id,
                None => {
                    let id = self.ids.len() as u32;
                    self.ids.insert(t.term, id);
                    id
                }
            };
            self.scratch.push((id, t.position));
        }
        // Group by term with an integer sort; positions end up ascending within a term.
        self.scratch.sort_unstable();
        let mut i = 0;
        while i < self.scratch.len() {
            let id = self.scratch[i].0;
            let mut j = i + 1;
            while j < self.scratch.len() && self.scratch[j].0 == id {
                j += 1;
            }
            self.postings.push((id, (j - i) as u32));
            if self.with_positions {
                self.positions
                    .extend(self.scratch[i..j].iter().map(|&(_, p)| p));
            }
            i = j;
        }
        self.doc_ends.push(self.postings.len());
        self.doc_len.push(len);
    }

    /// Documents in the batch.
    pub fn len(&self) -> usize {
        self.doc_len.len()
    }

    pub fn is_empty(&self) -> bool {
        self.doc_len.is_empty()
    }
}

/// Collects analysed documents; [`Self::finish`] lays them out.
#[derive(Debug, Default)]
pub struct PostingsBuilder {
    /// Term -> index into `terms`.
    ids: AHashMap<String, u32>,
    terms: Vec<TermPosts>,
    doc_len: Vec<u32>,
    with_positions: bool,
}

/// One term's postings while building: (node, frequency) and, with positions, each
/// posting's positions one after another.
#[derive(Debug, Default)]
struct TermPosts {
    posts: Vec<(u32, u32)>,
    positions: Vec<u32>,
}

impl PostingsBuilder {
    /// A builder; `with_positions` keeps every token's position (phrase queries need them).
    pub fn new(with_positions: bool) -> Self {
        PostingsBuilder {
            with_positions,
            ..Self::default()
        }
    }

    /// A builder holding every document of `p` (nodes `0..p.len()`), to which new ones
    /// are added after: how an index takes new rows without analysing the old ones again.
    pub fn from_postings(p: &Postings<'_>) -> PostingsBuilder {
        let mut b = PostingsBuilder::new(p.has_positions());
        b.ids.reserve(p.num_terms());
        b.terms.reserve(p.num_terms());
        for t in 0..p.num_terms() {
            let tp = p.term_postings(t);
            b.insert_term(
                p.term_str(t),
                TermPosts {
                    posts: tp
                        .docs
                        .iter()
                        .copied()
                        .zip(tp.tfs.iter().copied())
                        .collect(),
                    positions: tp.positions.map(<[u32]>::to_vec).unwrap_or_default(),
                },
            );
        }
        b.doc_len = p.doc_lens().to_vec();
        b
    }

    /// A builder holding only the documents of `p` that `keep` marks, renumbered
    /// `0..` in their order: how deleted rows leave an index (their terms, frequencies
    /// and lengths no longer count). A term no kept document has is dropped.
    pub fn kept_from(p: &Postings<'_>, keep: &[bool]) -> Result<PostingsBuilder> {
        if keep.len() != p.len() {
            return Err(Error::invalid(
                "full-text compaction: one flag per document expected",
            ));
        }
        let mut b = PostingsBuilder::new(p.has_positions());
        let mut new_node = Vec::with_capacity(keep.len());
        for (d, &k) in keep.iter().enumerate() {
            new_node.push(if k { b.doc_len.len() as u32 } else { u32::MAX });
            if k {
                b.doc_len.push(p.doc_lens()[d]);
            }
        }
        for t in 0..p.num_terms() {
            let tp = p.term_postings(t);
            let mut kept = TermPosts::default();
            let mut at = 0usize;
            for (&d, &tf) in tp.docs.iter().zip(tp.tfs) {
                let next = at + tf as usize;
                let n = new_node[d as usize];
                if n != u32::MAX {
                    kept.posts.push((n, tf));
                    if let Some(pos) = tp.positions {
                        kept.positions.extend_from_slice(&pos[at..next]);
                    }
                }
                at = next;
            }
            if !kept.posts.is_empty() {
                b.insert_term(p.term_str(t), kept);
            }
        }
        Ok(b)
    }

    fn insert_term(&mut self, term: &str, posts: TermPosts) {
        self.ids.insert(term.to_string(), self.terms.len() as u32);
        self.terms.push(posts);
    }

    /// Adds the next document (node `self.len()`), given its tokens.
    pub fn add(&mut self, tokens: &[Token]) -> Result<u32> {
        let node = self.doc_len.len();
        let mut one = AnalysedDocs::new(self.with_positions);
        one.push(&mut tokens.to_vec());
        self.add_batch(one)?;
        Ok(node as u32)
    }

    /// Adds a batch's documents after those already added, in the batch's order.
    pub fn add_batch(&mut self, batch: AnalysedDocs) -> Result<()> {
        if batch.with_positions != self.with_positions {
            return Err(Error::invalid(
                "full-text build: a batch's positions do not match the index's",
            ));
        }
        let first = self.doc_len.len();
        if first + batch.len() >= u32::MAX as usize {
            return Err(Error::invalid(
                "a full-text index holds at most 2^32 - 2 rows",
            ));
        }
        // The batch's term ids, mapped to the builder's.
        let mut global = vec![0u32; batch.ids.len()];
        for (term, local) in batch.ids {
            let id = match self.ids.get(term.as_str()) {
                Some(&id) => id,
                None => {
                    let id = self.terms.len() as u32;
                    self.ids.insert(term, id);
                    self.terms.push(TermPosts::default());
                    id
                }
            };
            global[local as usize] = id;
        }
        let (mut start, mut pos_at) = (0, 0);
        for (d, &end) in batch.doc_ends.iter().enumerate() {
            let node = (first + d) as u32;
            for &(local, tf) in &batch.postings[start..end] {
                let tp = &mut self.terms[global[local as usize] as usize];
                tp.posts.push((node, tf));
                if self.with_positions {
                    let next = pos_at + tf as usize;
                    tp.positions
                        .extend_from_slice(&batch.positions[pos_at..next]);
                    pos_at = next;
                }
            }
            start = end;
        }
        self.doc_len.extend_from_slice(&batch.doc_len);
        Ok(())
    }

    /// Documents added so far.
    pub fn len(&self) -> usize {
        self.doc_len.len()
    }

    pub fn is_empty(&self) -> bool {
        self.doc_len.is_empty()
    }

    /// Whether the builder keeps positions (its batches must too).
    pub fn with_positions(&self) -> bool {
        self.with_positions
    }

    /// The sections, terms sorted by their bytes.
    pub fn finish(mut self) -> Result<OwnedPostings> {
        let mut order: Vec<(String, u32)> = self.ids.drain().collect();
        order.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut o = OwnedPostings {
            doc_len: self.doc_len,
            ..OwnedPostings::default()
        };
        let too_big =
            || Error::invalid("a full-text index is limited to 2^32 postings and positions");
        o.term_offsets.push(0);
        o.term_blocks.push(0);
        o.block_start.push(0);
        if self.with_positions {
            o.pos_start.push(0);
        }
        for (term, id) in order {
            let tp = std::mem::take(&mut self.terms[id as usize]);
            o.term_bytes.extend_from_slice(term.as_bytes());
            o.term_offsets
                .push(u32::try_from(o.term_bytes.len()).map_err(|_| too_big())?);
            o.term_df.push(tp.posts.len() as u32);
            let mut at = 0usize;
            // Nodes were added in increasing order, so each list is already sorted.
            for chunk in tp.posts.chunks(BLOCK) {
                for &(d, tf) in chunk {
                    o.post_docs.push(d);
                    o.post_tf.push(tf);
                    if self.with_positions {
                        let next = at + tf as usize;
                        o.positions.extend_from_slice(&tp.positions[at..next]);
                        at = next;
                        o.pos_start
                            .push(u32::try_from(o.positions.len()).map_err(|_| too_big())?);
                    }
                }
                o.block_last.push(chunk[chunk.len() - 1].0);
                o.block_max_tf
                    .push(chunk.iter().map(|p| p.1).max().unwrap_or(0));
                o.block_min_len.push(
                    chunk
                        .iter()
                        .map(|p| o.doc_len[p.0 as usize])
                        .min()
                        .unwrap_or(0),
                );
                o.block_start
                    .push(u32::try_from(o.post_docs.len()).map_err(|_| too_big())?);
            }
            o.term_blocks.push(o.block_last.len() as u32);
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxvec_linalg::rng::SplitMix64;
    use std::collections::BTreeMap;

    /// Documents of random terms, with repeated terms and repeated positions (as n-grams
    /// and CJK segmentation give), some empty.
    fn corpus(n: usize, seed: u64) -> Vec<Vec<Token>> {
        let mut rng = SplitMix64::new(seed);
        (0..n)
            .map(|_| {
                let len = rng.below(40);
                let mut pos = 0;
                (0..len)
                    .map(|_| {
                        pos += rng.below(2) as u32;
                        Token {
                            term: format!("w{}", rng.below(50)),
                            position: pos,
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// Term -> [(node, positions)], the index as a map built the obvious way.
    type Reference = BTreeMap<String, Vec<(u32, Vec<u32>)>>;

    fn reference(docs: &[Vec<Token>]) -> Reference {
        let mut out = Reference::new();
        for (d, toks) in docs.iter().enumerate() {
            for t in toks {
                let list = out.entry(t.term.clone()).or_default();
                if list.last().is_none_or(|(n, _)| *n != d as u32) {
                    list.push((d as u32, Vec::new()));
                }
                list.last_mut().unwrap().1.push(t.position);
            }
        }
        for list in out.values_mut() {
            for (_, pos) in list.iter_mut() {
                pos.sort_unstable();
            }
        }
        out
    }

    fn read_back(o: &OwnedPostings) -> (Reference, Vec<u32>) {
        let p = o.view().unwrap();
        let mut out = Reference::new();
        for t in 0..p.num_terms() {
            let tp = p.term_postings(t);
            let pos = tp.positions.unwrap();
            let mut at = 0;
            let list = tp
                .docs
                .iter()
                .zip(tp.tfs)
                .map(|(&d, &tf)| {
                    at += tf as usize;
                    (d, pos[at - tf as usize..at].to_vec())
                })
                .collect();
            out.insert(p.term_str(t).to_string(), list);
        }
        (out, p.doc_lens().to_vec())
    }

    #[test]
    fn batches_of_any_size_build_what_the_documents_say() {
        let docs = corpus(700, 3);
        let want = reference(&docs);
        let lens: Vec<u32> = docs.iter().map(|d| d.len() as u32).collect();
        for size in [1, 2, 7, 256, 700, 1000] {
            let mut b = PostingsBuilder::new(true);
            for chunk in docs.chunks(size) {
                let mut batch = AnalysedDocs::new(true);
                for d in chunk {
                    batch.push(&mut d.clone());
                }
                assert_eq!(batch.len(), chunk.len());
                b.add_batch(batch).unwrap();
            }
            assert_eq!(b.len(), docs.len());
            let (got, got_lens) = read_back(&b.finish().unwrap());
            assert_eq!(got, want, "batches of {size}");
            assert_eq!(got_lens, lens);
        }
    }

    #[test]
    fn a_batch_without_positions_is_refused_by_a_builder_with_them() {
        let mut b = PostingsBuilder::new(true);
        let mut batch = AnalysedDocs::new(false);
        batch.push(&mut vec![Token {
            term: "a".into(),
            position: 0,
        }]);
        assert!(b.add_batch(batch).is_err());
        assert!(b.is_empty());
    }
}
