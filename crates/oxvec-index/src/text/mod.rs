//! The text family: full-text indexes over string columns.
//!
//! - [`analyzer`]: text to terms (split, case, folding, stop words, stemming), the same for
//!   documents and queries.
//! - [`bm25`]: the inverted index (postings in blocks that bound their scores) and BM25
//!   top-k by block-max WAND, with an exhaustive reference; phrases, fuzzy and prefix
//!   expansion.
//! - [`postings_builder`]: analysed documents, batch by batch, into the inverted index's
//!   sections.
//! - [`index`]: the index file (one inverted index per column, the analyzer, row ids),
//!   [`TextQuery`] (match, phrase, multi-column, boolean) and [`TextIndex::search`].

pub mod analyzer;
pub mod bm25;
pub mod index;
pub mod postings_builder;

pub use analyzer::{Analyzer, AnalyzerOptions, BaseTokenizer, Token};
pub use bm25::{Bm25Params, Hit, Operator, OwnedPostings, Postings};
pub use index::{build as build_text_index, TextHeader, TextIndex, TextQuery, TextSource};
pub use postings_builder::{AnalysedDocs, PostingsBuilder};
