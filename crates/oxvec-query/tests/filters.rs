use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float32Array, Int32Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Schema};
use oxvec_core::Error;
use oxvec_query::{filter_mask, Filter, ScalarValue};
use std::sync::Arc;

fn batch() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("score", DataType::Float32, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("flag", DataType::Boolean, true),
        Field::new("day", DataType::Date32, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(vec![1, 2, 3, 4, 5])),
        Arc::new(Float32Array::from(vec![
            Some(0.5),
            Some(1.5),
            None,
            Some(3.5),
            Some(4.5),
        ])),
        Arc::new(StringArray::from(vec![
            Some("apple"),
            Some("banana"),
            Some("Cherry"),
            None,
            Some("apricot"),
        ])),
        Arc::new(BooleanArray::from(vec![
            Some(true),
            Some(false),
            Some(true),
            None,
            Some(false),
        ])),
        Arc::new(Date32Array::from(vec![
            Some(0),
            Some(10),
            Some(20),
            Some(30),
            None,
        ])),
    ];
    RecordBatch::try_new(schema, cols).unwrap()
}

fn rows(sql: &str, params: &[ScalarValue]) -> Vec<i32> {
    let b = batch();
    let f = Filter::compile(sql, params, b.schema_ref()).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mask = filter_mask(&f.expr, &b).unwrap();
    let ids = b.column(0).as_any().downcast_ref::<Int32Array>().unwrap();
    (0..b.num_rows())
        .filter(|&i| mask.value(i))
        .map(|i| ids.value(i))
        .collect()
}

#[test]
fn comparisons_and_logic() {
    assert_eq!(rows("id > 2", &[]), vec![3, 4, 5]);
    assert_eq!(rows("id >= 2 AND id < 4", &[]), vec![2, 3]);
    assert_eq!(rows("id = 1 OR id = 5", &[]), vec![1, 5]);
    assert_eq!(rows("NOT (id = 1)", &[]), vec![2, 3, 4, 5]);
    assert_eq!(rows("id <> 3", &[]), vec![1, 2, 4, 5]);
    assert_eq!(
        rows("id > 2.5", &[]),
        vec![3, 4, 5],
        "a fractional literal must not be truncated"
    );
    assert_eq!(rows("score > 1", &[]), vec![2, 4, 5]);
    assert_eq!(rows("flag", &[]), vec![1, 3]);
    assert_eq!(rows("flag = false", &[]), vec![2, 5]);
}

#[test]
fn nulls_follow_sql() {
    assert_eq!(rows("score IS NULL", &[]), vec![3]);
    assert_eq!(rows("name IS NOT NULL", &[]), vec![1, 2, 3, 5]);
    // NULL > 1 is NULL, and NOT NULL is NULL: the row is excluded both ways.
    assert_eq!(rows("NOT (score > 1)", &[]), vec![1]);
    assert_eq!(rows("score > 1 OR id = 3", &[]), vec![2, 3, 4, 5]);
}

#[test]
fn in_between_like_arithmetic() {
    assert_eq!(rows("id IN (1, 3, 9)", &[]), vec![1, 3]);
    assert_eq!(rows("id NOT IN (1, 3)", &[]), vec![2, 4, 5]);
    assert_eq!(rows("id BETWEEN 2 AND 4", &[]), vec![2, 3, 4]);
    assert_eq!(rows("id NOT BETWEEN 2 AND 4", &[]), vec![1, 5]);
    assert_eq!(rows("name LIKE 'ap%'", &[]), vec![1, 5]);
    assert_eq!(rows("name NOT LIKE 'ap%'", &[]), vec![2, 3]);
    assert_eq!(rows("name ILIKE 'c%'", &[]), vec![3]);
    assert_eq!(rows("id * 2 + 1 = 7", &[]), vec![3]);
    assert_eq!(rows("id % 2 = 0", &[]), vec![2, 4]);
    assert_eq!(rows("-id < -3", &[]), vec![4, 5]);
    assert_eq!(rows("score * 2 >= id", &[]), vec![1, 2, 4, 5]);
}

#[test]
fn dates_compare_with_strings_and_typed_literals() {
    assert_eq!(rows("day >= '1970-01-11'", &[]), vec![2, 3, 4]);
    assert_eq!(rows("day < DATE '1970-01-11'", &[]), vec![1]);
    assert_eq!(rows("day = ?", &[ScalarValue::Date32(20)]), vec![3]);
}

#[test]
fn parameters_are_bound_not_spliced() {
    assert_eq!(
        rows("name = ?", &[ScalarValue::Utf8("x' OR '1'='1".into())]),
        Vec::<i32>::new()
    );
    assert_eq!(
        rows(
            "id > ? AND name LIKE ?",
            &[ScalarValue::Int64(1), ScalarValue::Utf8("%an%".into())]
        ),
        vec![2]
    );
    assert_eq!(
        rows(
            "id = $2 OR id = $1",
            &[ScalarValue::Int64(1), ScalarValue::Int64(2)]
        ),
        vec![1, 2]
    );
    assert_eq!(rows("score > ?", &[ScalarValue::Float64(2.0)]), vec![4, 5]);
}

fn err(sql: &str, params: &[ScalarValue]) -> String {
    let b = batch();
    match Filter::compile(sql, params, b.schema_ref()) {
        Err(Error::Filter { message, .. }) => message,
        other => panic!("{sql}: expected a filter error, got {other:?}"),
    }
}

#[test]
fn malformed_filters_are_typed_errors() {
    assert!(err("nope > 1", &[]).contains("unknown column 'nope'"));
    assert!(err("id >", &[]).contains("id >"));
    assert!(err("id = ?", &[]).contains("placeholder"));
    assert!(err("id = 1", &[ScalarValue::Int64(1)]).contains("parameter"));
    assert!(
        err("name > 3", &[]).contains("cannot"),
        "{}",
        err("name > 3", &[])
    );
    assert!(err("id + 1", &[]).contains("boolean"));
    assert!(err("id = 1; DROP TABLE x", &[]).contains("unexpected"));
    assert!(err("soundex(name) = 'A'", &[]).contains("unknown function 'soundex'"));
    assert!(err("", &[]).contains("empty"));
    let deep = format!("{}id = 1{}", "(".repeat(200), ")".repeat(200));
    assert!(!err(&deep, &[]).is_empty());
    assert!(err(&"x".repeat(70_000), &[]).contains("bytes"));
}

#[test]
fn case_insensitive_unquoted_columns() {
    assert_eq!(rows("ID = 2", &[]), vec![2]);
}
