//! The typed filter expression tree.

use crate::scalar::ScalarValue;

/// Binary operators of the filter language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    And,
    Or,
    Plus,
    Minus,
    Multiply,
    Divide,
    Modulo,
    /// `||`: string concatenation (NULL if either side is).
    Concat,
}

impl BinaryOp {
    /// Whether the operator compares two values into a boolean.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            Self::Eq | Self::NotEq | Self::Lt | Self::LtEq | Self::Gt | Self::GtEq
        )
    }
}

/// Scalar functions of the filter language, evaluated row by row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// `lower(s)`
    Lower,
    /// `upper(s)`
    Upper,
    /// `length(s)` / `char_length(s)`: characters, not bytes.
    Length,
    /// `contains(s, sub)`
    Contains,
    /// `starts_with(s, prefix)`
    StartsWith,
    /// `ends_with(s, suffix)`
    EndsWith,
    /// `regexp_match(s, pattern[, flags])` (also `regexp_like`): whether the pattern matches
    /// anywhere in `s`; the pattern and flags are constants.
    RegexpMatch,
    /// `array_length(list)`: elements in each list.
    ArrayLength,
    /// `concat(a, b, ...)`: strings joined, NULLs skipped (as in PostgreSQL).
    Concat,
    /// `coalesce(a, b, ...)`: the first argument that is not NULL.
    Coalesce,
    /// `abs(x)`
    Abs,
    /// `json_extract_string(json, '$.key')`: a value of a JSON text column, as text (a
    /// string as itself, anything else as its JSON); NULL where the path finds nothing.
    JsonString,
    /// `json_extract_number(json, '$.key')`: a number of a JSON text column; NULL where the
    /// path finds no number.
    JsonNumber,
    /// `json_extract_bool(json, '$.key')`: a boolean of a JSON text column; NULL where the
    /// path finds no boolean.
    JsonBool,
}

impl Func {
    /// The function a SQL name calls, if any.
    pub fn from_name(name: &str) -> Option<Func> {
        Some(match name {
            "lower" => Func::Lower,
            "upper" => Func::Upper,
            "length" | "char_length" | "character_length" => Func::Length,
            "contains" => Func::Contains,
            "starts_with" => Func::StartsWith,
            "ends_with" => Func::EndsWith,
            "regexp_match" | "regexp_like" => Func::RegexpMatch,
            "array_length" | "cardinality" => Func::ArrayLength,
            "concat" => Func::Concat,
            "coalesce" => Func::Coalesce,
            "abs" => Func::Abs,
            "json_extract_string" => Func::JsonString,
            "json_extract_number" => Func::JsonNumber,
            "json_extract_bool" => Func::JsonBool,
            _ => return None,
        })
    }

    /// The SQL names of every function, for error messages.
    pub const NAMES: &'static [&'static str] = &[
        "lower",
        "upper",
        "length",
        "contains",
        "starts_with",
        "ends_with",
        "regexp_match",
        "array_length",
        "array_has_any",
        "array_has_all",
        "array_has",
        "concat",
        "coalesce",
        "abs",
        "json_extract_string",
        "json_extract_number",
        "json_extract_bool",
    ];

    /// The SQL name, for messages.
    pub fn sql_name(self) -> &'static str {
        match self {
            Func::Lower => "lower",
            Func::Upper => "upper",
            Func::Length => "length",
            Func::Contains => "contains",
            Func::StartsWith => "starts_with",
            Func::EndsWith => "ends_with",
            Func::RegexpMatch => "regexp_match",
            Func::ArrayLength => "array_length",
            Func::Concat => "concat",
            Func::Coalesce => "coalesce",
            Func::Abs => "abs",
            Func::JsonString => "json_extract_string",
            Func::JsonNumber => "json_extract_number",
            Func::JsonBool => "json_extract_bool",
        }
    }

    /// The arguments it takes: `(fewest, most)`.
    pub fn arity(self) -> (usize, usize) {
        match self {
            Func::Lower | Func::Upper | Func::Length | Func::ArrayLength | Func::Abs => (1, 1),
            Func::Contains | Func::StartsWith | Func::EndsWith => (2, 2),
            Func::JsonString | Func::JsonNumber | Func::JsonBool => (2, 2),
            Func::RegexpMatch => (2, 3),
            Func::Concat | Func::Coalesce => (1, 64),
        }
    }
}

/// A filter or value expression, with parameters already bound.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Column(String),
    Literal(ScalarValue),
    Binary {
        left: Box<Expr>,
        op: BinaryOp,
        right: Box<Expr>,
    },
    Not(Box<Expr>),
    Negate(Box<Expr>),
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Between {
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        negated: bool,
        case_insensitive: bool,
    },
    /// `array_has_any(list, [v, ...])` (`all`: `array_has_all`): whether a list value holds
    /// any (every) one of the constants `values`.
    ArrayHas {
        expr: Box<Expr>,
        values: Vec<ScalarValue>,
        all: bool,
    },
    /// A scalar function call.
    Call {
        func: Func,
        args: Vec<Expr>,
    },
    /// A field of a struct value: `meta.a`.
    Field {
        expr: Box<Expr>,
        name: String,
    },
}

impl Expr {
    /// Every column the expression reads, in first-use order.
    pub fn columns(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.visit_columns(&mut out);
        out
    }

    fn visit_columns(&self, out: &mut Vec<String>) {
        match self {
            Expr::Column(c) => {
                if !out.contains(c) {
                    out.push(c.clone())
                }
            }
            Expr::Literal(_) => {}
            Expr::Binary { left, right, .. } => {
                left.visit_columns(out);
                right.visit_columns(out);
            }
            Expr::Not(e) | Expr::Negate(e) | Expr::IsNull { expr: e, .. } => e.visit_columns(out),
            Expr::InList { expr, list, .. } => {
                expr.visit_columns(out);
                list.iter().for_each(|e| e.visit_columns(out));
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                for e in [expr, low, high] {
                    e.visit_columns(out);
                }
            }
            Expr::Like { expr, pattern, .. } => {
                expr.visit_columns(out);
                pattern.visit_columns(out);
            }
            Expr::ArrayHas { expr, .. } | Expr::Field { expr, .. } => expr.visit_columns(out),
            Expr::Call { args, .. } => args.iter().for_each(|e| e.visit_columns(out)),
        }
    }
}
