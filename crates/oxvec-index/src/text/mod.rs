//! The text family: full-text indexes over string columns.
//!
//! - [`analyzer`]: text to terms (split, case, folding, stop words, stemming), the same for
//!   documents and queries.
//! - [`bm25`]: the inverted index (postings in blocks that bound their scores) and BM25
//!   top-k by block-max WAND, with an exhaustive reference.

pub mod analyzer;
pub mod bm25;

pub use analyzer::{Analyzer, AnalyzerOptions, BaseTokenizer, Token};
pub use bm25::{Bm25Params, Hit, Operator, OwnedPostings, Postings, PostingsBuilder};
