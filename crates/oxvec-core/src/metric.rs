//! Distance metrics. All are "smaller is closer" so results sort ascending.

use crate::{Error, Result};

/// How two vectors are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Squared Euclidean distance (as FAISS and LanceDB report it).
    L2,
    /// `1 - cos(a, b)`, in `[0, 2]`; a zero vector is at distance 1 from everything.
    Cosine,
    /// `1 - a·b`, which orders like the inner product, largest first.
    Dot,
}

impl Metric {
    /// Parses the user-facing name (`"l2"`, `"euclidean"`, `"cosine"`, `"dot"`).
    pub fn parse(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "l2" | "euclidean" => Ok(Metric::L2),
            "cosine" => Ok(Metric::Cosine),
            "dot" | "ip" | "inner_product" => Ok(Metric::Dot),
            other => Err(Error::invalid(format!(
                "unknown metric '{other}': expected one of 'l2', 'cosine', 'dot'"
            ))),
        }
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Metric::L2 => "l2",
            Metric::Cosine => "cosine",
            Metric::Dot => "dot",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_case_insensitively() {
        assert_eq!(Metric::parse("L2").unwrap(), Metric::L2);
        assert_eq!(Metric::parse("cosine").unwrap(), Metric::Cosine);
        assert_eq!(Metric::parse("dot").unwrap(), Metric::Dot);
        assert!(Metric::parse("hamming").is_err());
    }
}
