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
            Expr::ArrayHas { expr, .. } => expr.visit_columns(out),
        }
    }
}
