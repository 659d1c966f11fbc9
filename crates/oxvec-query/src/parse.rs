//! SQL text to [`Expr`], with `?` / `$n` parameters bound and columns resolved.

use crate::eval::{evaluate, Value};
use crate::expr::{BinaryOp, Expr, Func};
use crate::scalar::ScalarValue;
use arrow::array::{Array, RecordBatch};
use arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use oxvec_core::{Error, Result};
use sqlparser::ast::{self, BinaryOperator, InTarget, UnaryOperator, Value as SqlValue};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};
use std::sync::Arc;

/// Longest filter text accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 64 * 1024;
/// Deepest nesting accepted; deeper input is refused rather than risking the stack.
const MAX_DEPTH: usize = 64;

/// A parsed, bound and type-checked filter.
#[derive(Debug, Clone)]
pub struct Filter {
    pub expr: Expr,
    pub text: String,
    /// Rows an index says may match (a superset of the matches): evaluation may skip the
    /// others. Set by the table layer, which knows the indexes.
    pub prefilter: Option<Arc<dyn Prefilter>>,
}

/// Candidate rows of a filter, from an index: every row that matches is a candidate (rows
/// that are not may be skipped without evaluating the filter).
pub trait Prefilter: std::fmt::Debug + Send + Sync {
    /// The candidates among offsets `start..start + len` of fragment `fragment`, relative
    /// to `start` and ascending; `None` when the index does not cover the fragment (every
    /// row is a candidate).
    fn candidates(&self, fragment: u32, start: u32, len: usize) -> Option<Vec<u32>>;
    /// Whether the candidates are exactly the rows the filter matches (the filter need not
    /// be evaluated on them).
    fn exact(&self) -> bool {
        false
    }
    /// What narrowed the filter, for `explain()`.
    fn describe(&self) -> String;
}

impl Filter {
    /// Parses `sql` as a boolean expression over `schema`, binding `params` in order.
    ///
    /// Errors are [`Error::Filter`] and say what was wrong: unknown column (with the
    /// available ones), wrong parameter count, unsupported syntax, type mismatch.
    pub fn compile(sql: &str, params: &[ScalarValue], schema: &SchemaRef) -> Result<Filter> {
        let expr = parse_expr(sql, params, schema)?;
        // Type-check by evaluating on an empty batch: the same code path as real evaluation,
        // so the check cannot drift from what evaluation accepts.
        let empty = RecordBatch::new_empty(schema.clone());
        let out = evaluate(&expr, &empty).map_err(|e| match e {
            Error::Filter { what, message } => Error::Filter {
                what,
                message: format!("{message} in {}", quoted(sql)),
            },
            other => other,
        })?;
        let dt = match &out {
            Value::Array(a) | Value::Scalar(a) => a.data_type().clone(),
        };
        if !matches!(dt, DataType::Boolean | DataType::Null) {
            return Err(Error::filter(format!(
                "{} evaluates to {dt}, but a filter must be a boolean condition",
                quoted(sql)
            )));
        }
        Ok(Filter {
            expr,
            text: sql.to_string(),
            prefilter: None,
        })
    }
}

/// A filter as the user wrote it: SQL text with `?` placeholders bound to `params` in order.
///
/// It is compiled (see [`Filter::compile`]) against the schema of the version it runs on,
/// when it runs, so a table replaced with another schema between two calls can never be
/// read through column positions taken from the old one.
#[derive(Debug, Clone, PartialEq)]
pub struct Where {
    pub sql: String,
    pub params: Vec<ScalarValue>,
}

impl Where {
    /// `sql` with `params` bound to its `?` placeholders.
    pub fn new(sql: impl Into<String>, params: impl Into<Vec<ScalarValue>>) -> Where {
        Where {
            sql: sql.into(),
            params: params.into(),
        }
    }

    /// Parses and type-checks the filter against `schema`.
    pub fn compile(&self, schema: &SchemaRef) -> Result<Filter> {
        Filter::compile(&self.sql, &self.params, schema)
    }
}

/// Parses `sql` into an expression (not necessarily boolean), binding `params`.
pub fn parse_expr(sql: &str, params: &[ScalarValue], schema: &SchemaRef) -> Result<Expr> {
    if sql.len() > MAX_FILTER_LEN {
        return Err(Error::filter(format!(
            "filter is {} bytes, at most {MAX_FILTER_LEN}",
            sql.len()
        )));
    }
    if sql.trim().is_empty() {
        return Err(Error::filter("filter is empty"));
    }
    let dialect = GenericDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| Error::filter(format!("{e} in {}", quoted(sql))))?;
    let mut parser = Parser::new(&dialect)
        .with_recursion_limit(MAX_DEPTH)
        .with_tokens_with_locations(parenthesize_in_placeholders(tokens));
    let ast = parser
        .parse_expr()
        .map_err(|e| Error::filter(format!("{e} in {}", quoted(sql))))?;
    let rest = parser.peek_token();
    if rest.token != sqlparser::tokenizer::Token::EOF {
        return Err(Error::filter(format!(
            "unexpected '{}' after the expression in {}",
            rest.token,
            quoted(sql)
        )));
    }
    let mut b = Binder {
        params,
        next_param: 0,
        schema,
        depth: 0,
        list_ok: false,
    };
    let expr = b.convert(&ast)?;
    if b.next_param != params.len() {
        return Err(Error::filter(format!(
            "{} has {} placeholder(s) but {} parameter(s) were given",
            quoted(sql),
            b.next_param,
            params.len()
        )));
    }
    Ok(expr)
}

/// `IN ?` (and `IN $1`) written as `IN (?)`, which SQL's grammar accepts: the one
/// parameter, a list, then expands into the list's items.
fn parenthesize_in_placeholders(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let mut out: Vec<TokenWithSpan> = Vec::with_capacity(tokens.len() + 2);
    let mut after_in = false;
    for t in tokens {
        let is_space = matches!(t.token, Token::Whitespace(_));
        if after_in && matches!(t.token, Token::Placeholder(_)) {
            out.push(TokenWithSpan::new(Token::LParen, t.span));
            let span = t.span;
            out.push(t);
            out.push(TokenWithSpan::new(Token::RParen, span));
            after_in = false;
            continue;
        }
        if !is_space {
            after_in =
                matches!(&t.token, Token::Word(w) if w.keyword == sqlparser::keywords::Keyword::IN);
        }
        out.push(t);
    }
    out
}

struct Binder<'a> {
    params: &'a [ScalarValue],
    next_param: usize,
    schema: &'a SchemaRef,
    depth: usize,
    /// Whether a list parameter may stand here (an `IN` list, `array_has_any`'s values).
    list_ok: bool,
}

impl Binder<'_> {
    fn column(&self, ident: &ast::Ident) -> Result<Expr> {
        let fields = self.schema.fields();
        if fields.iter().any(|f| f.name() == &ident.value) {
            return Ok(Expr::Column(ident.value.clone()));
        }
        if ident.quote_style.is_none() {
            let matches: Vec<_> = fields
                .iter()
                .filter(|f| f.name().eq_ignore_ascii_case(&ident.value))
                .collect();
            if let [only] = matches.as_slice() {
                return Ok(Expr::Column(only.name().clone()));
            }
        }
        let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
        Err(Error::filter(format!(
            "unknown column '{}'; the table has {:?}",
            ident.value, names
        )))
    }

    fn placeholder(&mut self, text: &str) -> Result<Expr> {
        let idx = if text == "?" {
            self.next_param += 1;
            self.next_param - 1
        } else if let Some(n) = text.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()) {
            self.next_param = self.next_param.max(n);
            n.checked_sub(1)
                .ok_or_else(|| Error::filter("parameters are numbered from $1"))?
        } else {
            return Err(Error::filter(format!(
                "unsupported placeholder '{text}'; use ? or $1"
            )));
        };
        let v = self.params.get(idx).ok_or_else(|| {
            Error::filter(format!(
                "placeholder {} has no parameter ({} given)",
                idx + 1,
                self.params.len()
            ))
        })?;
        Ok(Expr::Literal(v.clone()))
    }

    fn literal(&mut self, v: &SqlValue) -> Result<Expr> {
        Ok(Expr::Literal(match v {
            SqlValue::Number(s, _) => parse_number(s)?,
            SqlValue::SingleQuotedString(s) => ScalarValue::Utf8(s.clone()),
            SqlValue::Boolean(b) => ScalarValue::Bool(*b),
            SqlValue::Null => ScalarValue::Null,
            SqlValue::Placeholder(p) => return self.placeholder(p),
            other => return Err(Error::filter(format!("unsupported literal {other}"))),
        }))
    }

    fn convert(&mut self, e: &ast::Expr) -> Result<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error::filter(format!(
                "expression nested deeper than {MAX_DEPTH} levels"
            )));
        }
        let list_ok = std::mem::replace(&mut self.list_ok, false);
        let out = self.convert_inner(e);
        self.depth -= 1;
        match out? {
            Expr::Literal(ScalarValue::List(items)) if !list_ok => Err(Error::filter(format!(
                "a list parameter ({} values) can only follow IN or be the values of \
                 array_has_any / array_has_all; '{e}' is not one of those",
                items.len()
            ))),
            other => Ok(other),
        }
    }

    /// Converts `e` where a list parameter may stand: its items, or `e` as one item.
    fn items(&mut self, e: &ast::Expr) -> Result<Vec<Expr>> {
        self.list_ok = true;
        Ok(match self.convert(e)? {
            Expr::Literal(ScalarValue::List(items)) => {
                items.into_iter().map(Expr::Literal).collect()
            }
            other => vec![other],
        })
    }

    /// `meta.a.b`: a column named with the dots if there is one (merge conditions name
    /// `target.price`), else fields of a struct column.
    fn path(&self, parts: &[ast::Ident]) -> Result<Expr> {
        let joined = |n: usize| ast::Ident {
            value: parts[..n]
                .iter()
                .map(|p| p.value.as_str())
                .collect::<Vec<_>>()
                .join("."),
            quote_style: parts[n - 1].quote_style,
            span: parts[n - 1].span,
        };
        // The longest dotted prefix naming a column is the root (`target.meta` in a merge
        // condition's `target.meta.lang`); the rest are struct fields.
        let found = (1..=parts.len())
            .rev()
            .find_map(|n| self.column(&joined(n)).ok().map(|c| (c, n)));
        let Some((root, used)) = found else {
            let names: Vec<&str> = self
                .schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect();
            return Err(Error::filter(format!(
                "unknown column '{}' (nor a struct column '{}'); the table has {names:?}",
                joined(parts.len()).value,
                parts[0].value
            )));
        };
        let Expr::Column(name) = root.clone() else {
            return Ok(root);
        };
        let mut dt = self
            .schema
            .field_with_name(&name)
            .map(|f| f.data_type().clone())
            .map_err(|e| Error::filter(e.to_string()))?;
        let mut expr = root;
        let mut shown = name.clone();
        for part in &parts[used..] {
            let DataType::Struct(fields) = &dt else {
                return Err(Error::filter(format!(
                    "'{shown}' is {dt}, not a struct: it has no field '{}'",
                    part.value
                )));
            };
            let exact = fields.iter().find(|f| f.name() == &part.value);
            let folded: Vec<_> = fields
                .iter()
                .filter(|f| {
                    part.quote_style.is_none() && f.name().eq_ignore_ascii_case(&part.value)
                })
                .collect();
            let field = match (exact, folded.as_slice()) {
                (Some(f), _) | (None, &[f]) => f.clone(),
                _ => {
                    let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
                    return Err(Error::filter(format!(
                        "struct '{shown}' has no field '{}'; it has {names:?}",
                        part.value
                    )));
                }
            };
            shown = format!("{shown}.{}", field.name());
            dt = field.data_type().clone();
            expr = Expr::Field {
                expr: Box::new(expr),
                name: field.name().clone(),
            };
        }
        Ok(expr)
    }

    fn boxed(&mut self, e: &ast::Expr) -> Result<Box<Expr>> {
        Ok(Box::new(self.convert(e)?))
    }

    fn convert_inner(&mut self, e: &ast::Expr) -> Result<Expr> {
        use ast::Expr as A;
        Ok(match e {
            A::Identifier(id) => self.column(id)?,
            A::CompoundIdentifier(parts) if parts.len() == 1 => self.column(&parts[0])?,
            A::CompoundIdentifier(parts) if !parts.is_empty() => self.path(parts)?,
            A::Value(v) => self.literal(&v.value)?,
            A::Nested(inner) => self.convert(inner)?,
            // sqlparser gives `||` the precedence of `*`; SQL gives it less than `+` (and
            // more than comparisons): `'a' || id * 2` is `'a' || (id * 2)`. Re-associate
            // the unparenthesised cases.
            A::BinaryOp { left, op, right } if is_arithmetic(op) && is_concat(left) => {
                let A::BinaryOp { left: a, right: b, .. } = left.as_ref() else {
                    unreachable!("is_concat checked the shape")
                };
                let inner = A::BinaryOp { left: b.clone(), op: op.clone(), right: right.clone() };
                let rotated = A::BinaryOp {
                    left: a.clone(),
                    op: BinaryOperator::StringConcat,
                    right: Box::new(inner),
                };
                self.convert(&rotated)?
            }
            A::BinaryOp { left, op, right } if is_arithmetic(op) && is_concat(right) => {
                let A::BinaryOp { left: a, right: b, .. } = right.as_ref() else {
                    unreachable!("is_concat checked the shape")
                };
                let inner = A::BinaryOp { left: left.clone(), op: op.clone(), right: a.clone() };
                let rotated = A::BinaryOp {
                    left: Box::new(inner),
                    op: BinaryOperator::StringConcat,
                    right: b.clone(),
                };
                self.convert(&rotated)?
            }
            A::BinaryOp { left, op, right } => {
                let op = match op {
                    BinaryOperator::Eq => BinaryOp::Eq,
                    BinaryOperator::NotEq => BinaryOp::NotEq,
                    BinaryOperator::Lt => BinaryOp::Lt,
                    BinaryOperator::LtEq => BinaryOp::LtEq,
                    BinaryOperator::Gt => BinaryOp::Gt,
                    BinaryOperator::GtEq => BinaryOp::GtEq,
                    BinaryOperator::And => BinaryOp::And,
                    BinaryOperator::Or => BinaryOp::Or,
                    BinaryOperator::Plus => BinaryOp::Plus,
                    BinaryOperator::Minus => BinaryOp::Minus,
                    BinaryOperator::Multiply => BinaryOp::Multiply,
                    BinaryOperator::Divide => BinaryOp::Divide,
                    BinaryOperator::Modulo => BinaryOp::Modulo,
                    BinaryOperator::StringConcat => BinaryOp::Concat,
                    other => return Err(Error::filter(format!("operator {other} is not supported"))),
                };
                Expr::Binary { left: self.boxed(left)?, op, right: self.boxed(right)? }
            }
            A::UnaryOp { op: UnaryOperator::Not, expr } => Expr::Not(self.boxed(expr)?),
            A::UnaryOp { op: UnaryOperator::Plus, expr } => self.convert(expr)?,
            A::UnaryOp { op: UnaryOperator::Minus, expr } => match self.convert(expr)? {
                Expr::Literal(ScalarValue::Int64(v)) => Expr::Literal(ScalarValue::Int64(-v)),
                Expr::Literal(ScalarValue::Float64(v)) => Expr::Literal(ScalarValue::Float64(-v)),
                other => Expr::Negate(Box::new(other)),
            },
            A::IsNull(inner) => Expr::IsNull { expr: self.boxed(inner)?, negated: false },
            A::IsNotNull(inner) => Expr::IsNull { expr: self.boxed(inner)?, negated: true },
            A::IsTrue(inner) => Expr::Binary {
                left: self.boxed(inner)?,
                op: BinaryOp::Eq,
                right: Box::new(Expr::Literal(ScalarValue::Bool(true))),
            },
            A::IsFalse(inner) => Expr::Binary {
                left: self.boxed(inner)?,
                op: BinaryOp::Eq,
                right: Box::new(Expr::Literal(ScalarValue::Bool(false))),
            },
            A::In { expr, target: InTarget::List(list), negated, .. } => {
                // Placeholders bind left to right: the operand's before the list's.
                let expr = self.boxed(expr)?;
                let mut items = Vec::with_capacity(list.len());
                for x in list {
                    items.extend(self.items(x)?);
                }
                Expr::InList { expr, list: items, negated: *negated }
            }
            A::Between { expr, negated, low, high } => Expr::Between {
                expr: self.boxed(expr)?,
                low: self.boxed(low)?,
                high: self.boxed(high)?,
                negated: *negated,
            },
            A::Like { negated, any: false, expr, pattern, escape_char: None } => Expr::Like {
                expr: self.boxed(expr)?,
                pattern: self.boxed(pattern)?,
                negated: *negated,
                case_insensitive: false,
            },
            A::ILike { negated, any: false, expr, pattern, escape_char: None } => Expr::Like {
                expr: self.boxed(expr)?,
                pattern: self.boxed(pattern)?,
                negated: *negated,
                case_insensitive: true,
            },
            A::Function(f) => self.function(f)?,
            A::TypedString(ts) => {
                let text = match &ts.value.value {
                    SqlValue::SingleQuotedString(s) => s.clone(),
                    other => return Err(Error::filter(format!("expected a quoted string after {}, got {other}", ts.data_type))),
                };
                typed_literal(&ts.data_type, &text)?
            }
            other => {
                return Err(Error::filter(format!(
                    "'{other}' is not supported; filters take comparisons, AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL, arithmetic, || and the functions {}", Func::NAMES.join(", ")
                )))
            }
        })
    }
}

impl Binder<'_> {
    /// A function call: the list functions (`array_has_any(col, [v, ...])`,
    /// `array_has_all(col, [v, ...])`, `array_has(col, v)`, with constant values or a list
    /// parameter) and the scalar functions of [`Func`].
    fn function(&mut self, f: &ast::Function) -> Result<Expr> {
        let name = f.name.to_string().to_ascii_lowercase();
        let args: Vec<&ast::Expr> = match &f.args {
            ast::FunctionArguments::List(l)
                if l.duplicate_treatment.is_none() && l.clauses.is_empty() =>
            {
                l.args
                    .iter()
                    .map(|a| match a {
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Ok(e),
                        other => Err(Error::filter(format!(
                            "unsupported argument '{other}' to {name}"
                        ))),
                    })
                    .collect::<Result<_>>()?
            }
            ast::FunctionArguments::None => vec![],
            _ => {
                return Err(Error::filter(format!(
                    "unsupported arguments to {name}: {f}"
                )))
            }
        };
        if f.filter.is_some() || f.over.is_some() || !f.within_group.is_empty() {
            return Err(Error::filter(format!(
                "'{f}': aggregates and windows are not filters"
            )));
        }
        match name.as_str() {
            "array_has_any" | "array_has_all" | "array_has" | "array_contains" => {
                return self.array_has(&name, &args)
            }
            _ => {}
        }
        let func = Func::from_name(&name).ok_or_else(|| {
            Error::filter(format!(
                "unknown function '{}'; the filter language knows {}",
                f.name,
                Func::NAMES.join(", ")
            ))
        })?;
        let (lo, hi) = func.arity();
        if args.len() < lo || args.len() > hi {
            let wanted = if lo == hi {
                lo.to_string()
            } else {
                format!("{lo} to {hi}")
            };
            return Err(Error::filter(format!(
                "{name} takes {wanted} argument(s), got {}",
                args.len()
            )));
        }
        let args = args
            .into_iter()
            .map(|a| self.convert(a))
            .collect::<Result<Vec<_>>>()?;
        if matches!(func, Func::JsonString | Func::JsonNumber | Func::JsonBool)
            && !matches!(args.get(1), Some(Expr::Literal(ScalarValue::Utf8(_))))
        {
            return Err(Error::filter(format!(
                "{name}'s path must be a constant string like '$.key'"
            )));
        }
        if func == Func::RegexpMatch {
            for (i, what) in [(1, "pattern"), (2, "flags")] {
                match args.get(i) {
                    None | Some(Expr::Literal(ScalarValue::Utf8(_))) => {}
                    Some(other) => {
                        return Err(Error::filter(format!(
                            "regexp_match's {what} must be a constant string, got {other:?}"
                        )))
                    }
                }
            }
        }
        Ok(Expr::Call { func, args })
    }

    fn array_has(&mut self, name: &str, args: &[&ast::Expr]) -> Result<Expr> {
        let all = name == "array_has_all";
        let single = !(name.ends_with("any") || name.ends_with("all"));
        let [list, values] = args else {
            return Err(Error::filter(format!(
                "{name} takes two arguments (a list column and {}), got {}",
                if single {
                    "a value"
                } else {
                    "an array of values"
                },
                args.len()
            )));
        };
        let list = self.boxed(list)?;
        let items: Vec<Expr> = match values {
            ast::Expr::Array(a) if !single => a
                .elem
                .iter()
                .map(|x| self.convert(x))
                .collect::<Result<_>>()?,
            v if single => vec![self.convert(v)?],
            v @ ast::Expr::Value(_) => match self.items(v)? {
                items if matches!(v, ast::Expr::Value(x) if matches!(x.value, SqlValue::Placeholder(_))) => {
                    items
                }
                _ => return Err(self.not_an_array(name, v)),
            },
            other => return Err(self.not_an_array(name, other)),
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Expr::Literal(ScalarValue::Null) => {
                    return Err(Error::filter(format!(
                        "{name}: NULL cannot be looked for in a list"
                    )))
                }
                Expr::Literal(v) => out.push(v),
                other => {
                    return Err(Error::filter(format!(
                        "{name}: the values must be constants, got {other:?}"
                    )))
                }
            }
        }
        Ok(Expr::ArrayHas {
            expr: list,
            values: out,
            all,
        })
    }

    fn not_an_array(&self, name: &str, got: &ast::Expr) -> Error {
        Error::filter(format!(
            "{name} takes an array of constants like ['a', 'b'] (or a list parameter ?) as \
             its second argument, got '{got}'"
        ))
    }
}

fn is_arithmetic(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Plus
            | BinaryOperator::Minus
            | BinaryOperator::Multiply
            | BinaryOperator::Divide
            | BinaryOperator::Modulo
    )
}

/// An unparenthesised `a || b`.
fn is_concat(e: &ast::Expr) -> bool {
    matches!(
        e,
        ast::Expr::BinaryOp {
            op: BinaryOperator::StringConcat,
            ..
        }
    )
}

/// The filter text for an error message, shortened so a huge input stays readable.
fn quoted(sql: &str) -> String {
    const SHOWN: usize = 120;
    if sql.chars().count() <= SHOWN {
        format!("{sql:?}")
    } else {
        let head: String = sql.chars().take(SHOWN).collect();
        format!("{head:?}... ({} bytes)", sql.len())
    }
}

fn parse_number(s: &str) -> Result<ScalarValue> {
    if !s.contains(['.', 'e', 'E']) {
        if let Ok(v) = s.parse::<i64>() {
            return Ok(ScalarValue::Int64(v));
        }
    }
    s.parse::<f64>()
        .map(ScalarValue::Float64)
        .map_err(|_| Error::filter(format!("bad number {s}")))
}

fn typed_literal(dt: &ast::DataType, text: &str) -> Result<Expr> {
    let target = match dt {
        ast::DataType::Date => DataType::Date32,
        ast::DataType::Timestamp(_, _) | ast::DataType::Datetime(_) => {
            DataType::Timestamp(TimeUnit::Microsecond, None)
        }
        other => {
            return Err(Error::filter(format!(
                "typed literal {other} is not supported (DATE, TIMESTAMP are)"
            )))
        }
    };
    let arr = ScalarValue::Utf8(text.to_string()).to_array(1);
    let cast = arrow::compute::cast_with_options(
        &arr,
        &target,
        &arrow::compute::CastOptions {
            safe: false,
            ..Default::default()
        },
    )
    .map_err(|e| Error::filter(format!("'{text}' is not a valid {dt}: {e}")))?;
    Ok(Expr::Literal(match target {
        DataType::Date32 => ScalarValue::Date32(
            cast.as_any()
                .downcast_ref::<arrow::array::Date32Array>()
                .map(|a| a.value(0))
                .unwrap_or_default(),
        ),
        _ => ScalarValue::TimestampMicros(
            cast.as_any()
                .downcast_ref::<arrow::array::TimestampMicrosecondArray>()
                .map(|a| a.value(0))
                .unwrap_or_default(),
        ),
    }))
}
