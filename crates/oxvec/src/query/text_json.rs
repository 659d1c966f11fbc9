//! Structured full-text queries as JSON (what the Python query objects send):
//!
//! ```text
//! {"match": {"query": "rust vectors", "column": "title", "operator": "AND",
//!            "fuzziness": 1, "prefix_length": 0, "max_expansions": 50, "boost": 2.0}}
//! {"phrase": {"query": "nearest neighbour", "column": "body", "slop": 1, "boost": 1.0}}
//! {"multi_match": {"query": "rust", "columns": ["title", "body"], "boosts": [2.0, 1.0],
//!                  "operator": "OR"}}
//! {"boolean": {"must": [...], "should": [...], "must_not": [...]}}
//! ```
//!
//! Every key but `query` (and `columns`) is optional; unknown keys are refused, so a typo
//! is an error, not a silently different query.

use oxvec_core::{Error, Result};
use oxvec_index::text::index::DEFAULT_MAX_EXPANSIONS;
use oxvec_index::text::{Operator, TextQuery};
use serde_json::{Map, Value};

/// Deepest nesting of boolean queries accepted (a bound on recursion).
const MAX_DEPTH: usize = 32;

/// Parses a structured full-text query.
pub fn parse_text_query(json: &str) -> Result<TextQuery> {
    let v: Value = serde_json::from_str(json)
        .map_err(|e| Error::invalid(format!("full-text query is not valid JSON: {e}")))?;
    parse(&v, 0)
}

fn bad(m: impl Into<String>) -> Error {
    Error::invalid(m.into())
}

fn parse(v: &Value, depth: usize) -> Result<TextQuery> {
    if depth > MAX_DEPTH {
        return Err(bad(format!(
            "full-text query nests deeper than {MAX_DEPTH} levels"
        )));
    }
    let obj = v.as_object().filter(|o| o.len() == 1).ok_or_else(|| {
        bad("a full-text query is an object with one key: match, phrase, multi_match or boolean")
    })?;
    let (kind, body) = obj.iter().next().expect("one key");
    let body = body
        .as_object()
        .ok_or_else(|| bad(format!("'{kind}' takes an object of options")))?;
    match kind.as_str() {
        "match" => {
            allow(
                kind,
                body,
                &[
                    "query",
                    "column",
                    "operator",
                    "fuzziness",
                    "prefix_length",
                    "max_expansions",
                    "boost",
                ],
            )?;
            Ok(TextQuery::Match {
                column: opt_str(body, "column")?,
                text: req_str(kind, body, "query")?,
                operator: operator(body)?,
                fuzziness: uint(body, "fuzziness", 0)? as u32,
                prefix_length: uint(body, "prefix_length", 0)? as usize,
                max_expansions: uint(body, "max_expansions", DEFAULT_MAX_EXPANSIONS as u64)?
                    as usize,
                boost: float(body, "boost", 1.0)?,
            })
        }
        "phrase" => {
            allow(kind, body, &["query", "column", "slop", "boost"])?;
            Ok(TextQuery::Phrase {
                column: opt_str(body, "column")?,
                text: req_str(kind, body, "query")?,
                slop: uint(body, "slop", 0)? as u32,
                boost: float(body, "boost", 1.0)?,
            })
        }
        "multi_match" => {
            allow(kind, body, &["query", "columns", "boosts", "operator"])?;
            let columns: Vec<String> = match body.get("columns") {
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|c| {
                        c.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| bad("multi_match columns must be strings"))
                    })
                    .collect::<Result<_>>()?,
                _ => return Err(bad("multi_match needs 'columns', a list of column names")),
            };
            let boosts: Vec<f32> = match body.get("boosts") {
                None | Some(Value::Null) => vec![1.0; columns.len()],
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|b| {
                        b.as_f64()
                            .map(|b| b as f32)
                            .ok_or_else(|| bad("multi_match boosts must be numbers"))
                    })
                    .collect::<Result<_>>()?,
                Some(_) => return Err(bad("multi_match 'boosts' must be a list of numbers")),
            };
            if boosts.len() != columns.len() {
                return Err(bad(format!(
                    "multi_match has {} columns but {} boosts",
                    columns.len(),
                    boosts.len()
                )));
            }
            Ok(TextQuery::MultiMatch {
                text: req_str(kind, body, "query")?,
                columns: columns.into_iter().zip(boosts).collect(),
                operator: operator(body)?,
            })
        }
        "boolean" => {
            allow(kind, body, &["must", "should", "must_not"])?;
            let list = |key: &str| -> Result<Vec<TextQuery>> {
                match body.get(key) {
                    None | Some(Value::Null) => Ok(Vec::new()),
                    Some(Value::Array(a)) => a.iter().map(|q| parse(q, depth + 1)).collect(),
                    Some(_) => Err(bad(format!("boolean '{key}' must be a list of queries"))),
                }
            };
            let (must, should, must_not) = (list("must")?, list("should")?, list("must_not")?);
            if must.is_empty() && should.is_empty() {
                return Err(bad(
                    "a boolean query needs a must or should clause (must_not alone matches nothing)",
                ));
            }
            Ok(TextQuery::Boolean {
                must,
                should,
                must_not,
            })
        }
        other => Err(bad(format!(
            "unknown full-text query '{other}'; expected match, phrase, multi_match or boolean"
        ))),
    }
}

fn allow(kind: &str, body: &Map<String, Value>, keys: &[&str]) -> Result<()> {
    match body.keys().find(|k| !keys.contains(&k.as_str())) {
        Some(k) => Err(bad(format!(
            "'{kind}' has no option '{k}'; its options are {keys:?}"
        ))),
        None => Ok(()),
    }
}

fn req_str(kind: &str, body: &Map<String, Value>, key: &str) -> Result<String> {
    body.get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| bad(format!("'{kind}' needs '{key}', a string")))
}

fn opt_str(body: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(format!("'{key}' must be a string"))),
    }
}

fn uint(body: &Map<String, Value>, key: &str, default: u64) -> Result<u64> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_u64()
            .filter(|&n| n <= u32::MAX as u64)
            .ok_or_else(|| bad(format!("'{key}' must be a whole number >= 0, got {v}"))),
    }
}

fn float(body: &Map<String, Value>, key: &str, default: f32) -> Result<f32> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_f64()
            .map(|x| x as f32)
            .ok_or_else(|| bad(format!("'{key}' must be a number, got {v}"))),
    }
}

fn operator(body: &Map<String, Value>) -> Result<Operator> {
    match body.get("operator") {
        None | Some(Value::Null) => Ok(Operator::Or),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("or") => Ok(Operator::Or),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("and") => Ok(Operator::And),
        Some(v) => Err(bad(format!("operator must be 'OR' or 'AND', got {v}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_and_refuses_typos() {
        let q = parse_text_query(
            r#"{"boolean": {"must": [{"match": {"query": "rust", "column": "title", "operator": "and", "fuzziness": 1}}],
                "should": [{"phrase": {"query": "vector search", "slop": 2}}],
                "must_not": [{"multi_match": {"query": "java", "columns": ["title", "body"], "boosts": [2, 1]}}]}}"#,
        )
        .unwrap();
        let TextQuery::Boolean {
            must,
            should,
            must_not,
        } = q
        else {
            panic!("{q:?}")
        };
        assert!(
            matches!(&must[0], TextQuery::Match { operator: Operator::And, fuzziness: 1, column: Some(c), .. } if c == "title")
        );
        assert!(matches!(
            &should[0],
            TextQuery::Phrase {
                slop: 2,
                column: None,
                ..
            }
        ));
        assert!(
            matches!(&must_not[0], TextQuery::MultiMatch { columns, .. } if columns[0] == ("title".into(), 2.0))
        );
        for bad in [
            "",
            "[]",
            r#"{"match": {"query": "x", "fuzzyness": 1}}"#,
            r#"{"match": {"text": "x"}}"#,
            r#"{"match": {"query": "x", "fuzziness": -1}}"#,
            r#"{"match": {"query": "x", "operator": "xor"}}"#,
            r#"{"match": {"query": "x"}, "phrase": {"query": "y"}}"#,
            r#"{"multi_match": {"query": "x", "columns": ["a"], "boosts": [1, 2]}}"#,
            r#"{"boolean": {"must_not": [{"match": {"query": "x"}}]}}"#,
            r#"{"fuzzy": {"query": "x"}}"#,
        ] {
            assert!(parse_text_query(bad).is_err(), "{bad}");
        }
        let deep = "{\"boolean\": {\"must\": [".repeat(40)
            + r#"{"match": {"query": "x"}}"#
            + &"]}}".repeat(40);
        assert!(parse_text_query(&deep)
            .unwrap_err()
            .to_string()
            .contains("deeper"));
    }
}
