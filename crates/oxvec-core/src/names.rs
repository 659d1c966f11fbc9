//! Table-name validation: a name becomes a directory, so it must never escape the database.

use crate::{Error, Result};

const MAX_NAME_LEN: usize = 128;

/// Accepts `^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$` except `.` and `..`.
///
/// Anything else (empty, `/`, `\`, absolute paths, NUL, non-ASCII) is an
/// [`Error::InvalidInput`] that names the offending character.
pub fn validate_table_name(name: &str) -> Result<()> {
    validate("table", name)
}

/// An index name a user chose follows the table-name rules (it is shown in plans and
/// listings, and must not be able to mean anything else).
pub fn validate_index_name(name: &str) -> Result<()> {
    validate("index", name)
}

/// Tag names follow the table-name rules (a tag is a file named after it).
pub fn validate_tag_name(name: &str) -> Result<()> {
    validate("tag", name)
}

fn validate(kind: &str, name: &str) -> Result<()> {
    let reject = |why: String| {
        Err(Error::invalid(format!(
            "invalid {kind} name {name:?}: {why}"
        )))
    };
    if name.is_empty() {
        return reject("it is empty".into());
    }
    if name.len() > MAX_NAME_LEN {
        return reject(format!(
            "it has {} bytes, at most {MAX_NAME_LEN} are allowed",
            name.len()
        ));
    }
    if name == "." || name == ".." {
        return reject("'.' and '..' are reserved".into());
    }
    let mut chars = name.chars();
    let first = chars.next().unwrap_or('_');
    if !(first.is_ascii_alphanumeric() || first == '_') {
        return reject(format!(
            "it must start with a letter, digit or '_', not {first:?}"
        ));
    }
    if let Some(bad) = chars.find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return reject(format!(
            "character {bad:?} is not allowed (use letters, digits, '_', '.', '-')"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for ok in ["docs", "a", "_x", "v1.2-final", "0abc"] {
            validate_table_name(ok).unwrap();
        }
    }

    #[test]
    fn rejects_anything_that_could_escape() {
        let long = "x".repeat(129);
        for bad in [
            "", ".", "..", "../x", "/etc", "a/b", "a\\b", ".hidden", "-x", "a\0b", "é", &long,
        ] {
            assert!(validate_table_name(bad).is_err(), "{bad:?} accepted");
        }
    }
}
