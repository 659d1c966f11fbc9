//! Renaming, dropping and adding columns without rewriting data: every read (scan, search,
//! index, compaction, time travel, a reopened database) sees the table schema of its version.

mod common;

use arrow::array::{Array, AsArray, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Int64Type};
use common::{batch, create, hnsw, DIM};
use oxvec::{CancelToken, ColumnChange, Database, Error, Progress, ScanRequest, VectorQuery};

fn rename(from: &str, to: &str) -> ColumnChange {
    ColumnChange::Rename {
        from: from.into(),
        to: to.into(),
    }
}

fn drop_col(c: &str) -> ColumnChange {
    ColumnChange::Drop { column: c.into() }
}

fn add_null(c: &str, t: DataType) -> ColumnChange {
    ColumnChange::Add {
        field: Field::new(c, t, true),
    }
}

fn scan_all(t: &oxvec::Table) -> RecordBatch {
    let (schema, batches) = t
        .scan(&ScanRequest::default(), &CancelToken::new())
        .unwrap();
    arrow::compute::concat_batches(&schema, &batches).unwrap()
}

fn ints(b: &RecordBatch, col: &str) -> Vec<Option<i64>> {
    b.column_by_name(col)
        .unwrap_or_else(|| panic!("no column {col} in {:?}", b.schema()))
        .as_primitive::<Int64Type>()
        .iter()
        .collect()
}

fn nearest(t: &oxvec::Table, column: &str) -> Vec<i64> {
    let q = VectorQuery {
        column: Some(column.into()),
        vectors: vec![0.5; DIM],
        num_queries: 1,
        metric: None,
        k: 5,
        filter: None,
        columns: None,
        with_row_id: false,
        with_query_index: false,
        knobs: Default::default(),
        bypass_index: false,
    };
    let r = t.search(&q, &CancelToken::new()).unwrap();
    r.column_by_name("key")
        .or_else(|| r.column_by_name("id"))
        .unwrap()
        .as_primitive::<Int64Type>()
        .values()
        .to_vec()
}

#[test]
fn renamed_dropped_and_added_columns_read_right_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let c = CancelToken::new();
    let t = create(tmp.path(), &(0..300).collect::<Vec<_>>());
    t.add(
        &mut std::iter::once(Ok(batch(&(300..400).collect::<Vec<_>>(), 1))),
        &c,
    )
    .unwrap();
    t.create_index(&hnsw(), &Progress::default(), &c).unwrap();
    let before = nearest(&t, "vec");

    // Rename the key and the vector column, drop `val`, add a null `note`: one version.
    let v = t
        .alter_columns(
            &[
                rename("id", "key"),
                rename("vec", "emb"),
                drop_col("val"),
                add_null("note", DataType::Utf8),
            ],
            &c,
        )
        .unwrap();
    assert_eq!(v, 4);
    let names: Vec<String> = t
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["key", "emb", "note"]);
    let all = scan_all(&t);
    assert_eq!(ints(&all, "key"), (0..400).map(Some).collect::<Vec<_>>());
    assert_eq!(all.column_by_name("note").unwrap().null_count(), 400);
    // The index followed its column and still answers.
    let ix = t.list_indices();
    assert_eq!((ix.len(), ix[0].column.as_str()), (1, "emb"));
    assert_eq!(nearest(&t, "emb"), before);

    // New rows carry the new schema; the dropped name can come back, empty for old rows.
    let new_rows = RecordBatch::try_from_iter(vec![
        (
            "key",
            std::sync::Arc::new(Int64Array::from(vec![1000])) as _,
        ),
        ("emb", batch(&[1000], 0).column(2).clone()),
    ])
    .unwrap();
    t.add(&mut std::iter::once(Ok(new_rows)), &c).unwrap();
    t.alter_columns(&[add_null("val", DataType::Int64)], &c)
        .unwrap();
    let all = scan_all(&t);
    assert!(ints(&all, "val").iter().all(Option::is_none));
    assert_eq!(all.num_rows(), 401);

    // Time travel reads the old schema; a reopened database the new one.
    t.checkout(3).unwrap();
    assert_eq!(ints(&scan_all(&t), "val")[350], Some(1));
    t.checkout_latest().unwrap();
    let db = Database::connect(tmp.path().to_str().unwrap()).unwrap();
    let again = db.open_table("t").unwrap();
    assert_eq!(scan_all(&again), scan_all(&t));

    // Compaction writes the table schema; reads are unchanged.
    let expected = scan_all(&t);
    t.optimize(&Progress::default(), &c).unwrap();
    assert_eq!(scan_all(&t), expected);
    assert_eq!(nearest(&t, "emb"), before);
}

#[test]
fn a_rename_back_and_a_drop_of_an_indexed_column() {
    let tmp = tempfile::tempdir().unwrap();
    let c = CancelToken::new();
    let t = create(tmp.path(), &(0..200).collect::<Vec<_>>());
    t.create_index(&hnsw(), &Progress::default(), &c).unwrap();
    t.alter_columns(&[rename("val", "x"), rename("x", "val")], &c)
        .unwrap();
    assert_eq!(ints(&scan_all(&t), "val"), vec![Some(0); 200]);
    t.alter_columns(&[drop_col("vec")], &c).unwrap();
    assert!(t.list_indices().is_empty());
    assert_eq!(t.schema().fields().len(), 2);
}

#[test]
fn bad_changes_are_refused_and_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let c = CancelToken::new();
    let t = create(tmp.path(), &[1, 2, 3]);
    let cases: Vec<(Vec<ColumnChange>, &str)> = vec![
        (vec![rename("nope", "x")], "no column named 'nope'"),
        (vec![rename("id", "val")], "already has a column 'val'"),
        (vec![rename("id", "_distance")], "reserved"),
        (vec![rename("id", "")], "may not be empty"),
        (
            vec![drop_col("id"), drop_col("val"), drop_col("vec")],
            "at least one column",
        ),
        (
            vec![ColumnChange::Add {
                field: Field::new("n", DataType::Int64, false),
            }],
            "must be nullable",
        ),
        (
            vec![ColumnChange::Add {
                field: common::schema()
                    .field(2)
                    .clone()
                    .with_name("v2")
                    .with_nullable(true),
            }],
            "never null",
        ),
        (
            vec![ColumnChange::SetNullable {
                column: "vec".into(),
                nullable: true,
            }],
            "never null",
        ),
        (vec![], "no column changes"),
    ];
    for (changes, want) in cases {
        let e = t.alter_columns(&changes, &c).unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput { .. } | Error::Schema { .. }),
            "{e:?}"
        );
        assert!(e.to_string().contains(want), "{want}: {e}");
    }
    assert_eq!(t.version(), 1);
    t.alter_columns(
        &[ColumnChange::SetNullable {
            column: "val".into(),
            nullable: true,
        }],
        &c,
    )
    .unwrap();
    assert!(t.schema().field_with_name("val").unwrap().is_nullable());
}

#[test]
fn an_append_prepared_before_a_schema_change_conflicts() {
    let tmp = tempfile::tempdir().unwrap();
    let c = CancelToken::new();
    let t = create(tmp.path(), &[1, 2, 3]);
    let db = Database::connect(tmp.path().to_str().unwrap()).unwrap();
    let other = db.open_table("t").unwrap();
    other.alter_columns(&[rename("val", "value")], &c).unwrap();
    // `t` still reads the old schema only until it looks for the newest version, which
    // every write does first: the rows are checked against the new schema.
    let e = t
        .add(&mut std::iter::once(Ok(batch(&[4], 0))), &c)
        .unwrap_err();
    assert!(e.to_string().contains("val"), "{e}");
}

#[test]
fn a_change_that_changes_nothing_commits_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let c = CancelToken::new();
    let t = create(tmp.path(), &[1, 2]);
    let relax = || ColumnChange::SetNullable {
        column: "val".into(),
        nullable: true,
    };
    assert_eq!(t.alter_columns(&[relax()], &c).unwrap(), 2);
    assert_eq!(t.alter_columns(&[relax()], &c).unwrap(), 2);
}
