//! The text family: full-text indexes over string columns.
//!
//! - [`analyzer`]: text to terms (split, case, folding, stop words, stemming), the same for
//!   documents and queries.

pub mod analyzer;

pub use analyzer::{Analyzer, AnalyzerOptions, BaseTokenizer, Token};
