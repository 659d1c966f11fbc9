//! Column changes that rewrite data: computed columns and casts, one version each, rows
//! (and their ids, deletions and the other indexes) kept in place.

mod common;

use arrow::array::AsArray;
use arrow::datatypes::{DataType, Field, Int64Type};
use common::{batch, create, hnsw};
use oxvec::{CancelToken, ColumnRewrite, Error, Progress, ScanRequest, Where};
use std::sync::Arc;

fn ids_and(t: &oxvec::Table, column: &str) -> Vec<(i64, String)> {
    let req = ScanRequest {
        columns: Some(vec!["id".into(), column.into()]),
        with_row_id: true,
        ..Default::default()
    };
    let (_, batches) = t.scan(&req, &CancelToken::new()).unwrap();
    let mut out = Vec::new();
    for b in &batches {
        let ids = b.column(0).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            let v = arrow::util::display::array_value_to_string(b.column(1), i).unwrap();
            out.push((ids.value(i), v));
        }
    }
    out
}

#[test]
fn a_computed_column_is_one_version_with_rows_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    let c = CancelToken::new();
    let t = create(tmp.path(), &(0..50).collect::<Vec<_>>());
    t.add(
        &mut std::iter::once(Ok(batch(&(50..80).collect::<Vec<_>>(), 2))),
        &c,
    )
    .unwrap();
    t.delete(&Where::new("id % 10 = 3", []), &c).unwrap();
    let before_ids = {
        let req = ScanRequest {
            columns: Some(vec!["id".into()]),
            with_row_id: true,
            ..Default::default()
        };
        t.scan(&req, &c).unwrap().1
    };
    let v = t.version();
    let new = t
        .rewrite_columns(
            &[ColumnRewrite::Compute {
                name: "double".into(),
                sql: "id * 2 + val".into(),
            }],
            &c,
        )
        .unwrap();
    assert_eq!(new, v + 1);
    let rows = ids_and(&t, "double");
    assert_eq!(rows.len(), 80 - 8);
    for (id, d) in &rows {
        let val = if *id < 50 { 0 } else { 2 };
        assert_eq!(d, &(id * 2 + val).to_string());
    }
    let after_ids = {
        let req = ScanRequest {
            columns: Some(vec!["id".into()]),
            with_row_id: true,
            ..Default::default()
        };
        t.scan(&req, &c).unwrap().1
    };
    assert_eq!(before_ids, after_ids, "row ids and deletions stay");
    // The old version still reads without the column.
    t.checkout(v).unwrap();
    assert!(t.schema().field_with_name("double").is_err());
}

#[test]
fn a_vector_column_cast_to_float16_drops_its_index() {
    let tmp = tempfile::tempdir().unwrap();
    let c = CancelToken::new();
    let t = create(tmp.path(), &(0..300).collect::<Vec<_>>());
    t.create_index(&hnsw(), &Progress::default(), &c).unwrap();
    let half = DataType::FixedSizeList(
        Arc::new(Field::new("item", DataType::Float16, true)),
        common::DIM as i32,
    );
    t.rewrite_columns(
        &[ColumnRewrite::Cast {
            column: "vec".into(),
            to: half.clone(),
        }],
        &c,
    )
    .unwrap();
    assert_eq!(
        t.schema().field_with_name("vec").unwrap().data_type(),
        &half
    );
    assert!(
        t.list_indices().is_empty(),
        "an index over the old values goes"
    );
    assert_eq!(t.count_rows(None, &c).unwrap(), 300);
}

#[test]
fn bad_changes_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let c = CancelToken::new();
    let t = create(tmp.path(), &(0..20).collect::<Vec<_>>());
    let v = t.version();
    let files = || {
        std::fs::read_dir(tmp.path().join("t.oxvec/data"))
            .unwrap()
            .count()
    };
    let before = files();
    let bad = [
        ColumnRewrite::Compute {
            name: "id".into(),
            sql: "1".into(),
        },
        ColumnRewrite::Compute {
            name: "x".into(),
            sql: "nope + 1".into(),
        },
        ColumnRewrite::Compute {
            name: "x".into(),
            sql: "NULL".into(),
        },
        ColumnRewrite::Compute {
            name: "x".into(),
            sql: "id / 0".into(),
        },
        ColumnRewrite::Cast {
            column: "vec".into(),
            to: DataType::Int64,
        },
    ];
    for change in bad {
        let r = t.rewrite_columns(std::slice::from_ref(&change), &c);
        assert!(
            matches!(r, Err(Error::InvalidInput { .. } | Error::Filter { .. })),
            "{change:?}: {r:?}"
        );
        assert_eq!(t.version(), v, "{change:?}");
        assert_eq!(files(), before, "{change:?} left files");
    }
    t.rewrite_columns(
        &[ColumnRewrite::Cast {
            column: "val".into(),
            to: DataType::Int32,
        }],
        &c,
    )
    .unwrap();
    let out = ids_and(&t, "val");
    assert!(out.len() == 20 && out.iter().all(|(_, v)| v == "0"));
    assert!(t.schema().field_with_name("val").unwrap().data_type() == &DataType::Int32);
}
