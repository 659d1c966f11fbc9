use arrow::array::{
    AsArray, FixedSizeListArray, Float32Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Float32Type, Int64Type, Schema, SchemaRef};
use oxvec::{
    Assignment, CancelToken, CreateMode, Database, Error, Metric, ScanRequest, VectorQuery, Where,
};
use std::sync::Arc;

const DIM: usize = 8;

fn rand_vals(seed: u64, n: usize) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect()
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("tag", DataType::Utf8, true),
        Field::new(
            "vec",
            DataType::FixedSizeList(
                Arc::new(Field::new("item", DataType::Float32, true)),
                DIM as i32,
            ),
            false,
        ),
    ]))
}

fn batch(start: i64, n: usize) -> RecordBatch {
    let ids: Vec<i64> = (start..start + n as i64).collect();
    let tags: Vec<String> = ids
        .iter()
        .map(|i| {
            if i % 2 == 0 {
                "even".into()
            } else {
                "odd".into()
            }
        })
        .collect();
    let vals = Float32Array::from(rand_vals(start as u64 + 1, n * DIM));
    let vec = FixedSizeListArray::try_new(
        Arc::new(Field::new("item", DataType::Float32, true)),
        DIM as i32,
        Arc::new(vals),
        None,
    )
    .unwrap();
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(StringArray::from(tags)),
            Arc::new(vec),
        ],
    )
    .unwrap()
}

fn listing(p: &std::path::Path) -> Vec<String> {
    let mut out: Vec<String> = walk(p);
    out.sort();
    out
}

fn walk(p: &std::path::Path) -> Vec<String> {
    let mut v = vec![];
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            v.push(e.path().display().to_string());
            if e.path().is_dir() {
                v.extend(walk(&e.path()));
            }
        }
    }
    v
}

/// Table "t" of `db` with the ten rows of `batch(0, 10)`.
fn create_ten(db: &Database, c: &CancelToken) -> oxvec::Table {
    db.create_table(
        "t",
        None,
        Some(&mut vec![Ok(batch(0, 10))].into_iter()),
        CreateMode::Create,
        false,
        c,
    )
    .unwrap()
}

fn ids_of(b: &RecordBatch) -> Vec<i64> {
    b.column_by_name("id")
        .unwrap()
        .as_primitive::<Int64Type>()
        .values()
        .to_vec()
}

fn query(v: Vec<f32>, k: usize) -> VectorQuery {
    VectorQuery {
        column: None,
        vectors: v,
        num_queries: 1,
        metric: Some(Metric::L2),
        k,
        filter: None,
        columns: None,
        with_row_id: false,
        with_query_index: false,
        knobs: Default::default(),
        bypass_index: false,
    }
}

#[test]
fn create_add_search_delete_update_and_time_travel() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Database::connect(tmp.path().to_str().unwrap()).unwrap();
    let c = CancelToken::new();
    let mut data = vec![Ok(batch(0, 500))].into_iter();
    let t = db
        .create_table("docs", None, Some(&mut data), CreateMode::Create, false, &c)
        .unwrap();
    assert_eq!(t.version(), 1);
    assert_eq!(db.table_names().unwrap(), vec!["docs"]);
    t.add(
        &mut vec![Ok(batch(500, 300)), Ok(batch(800, 200))].into_iter(),
        &c,
    )
    .unwrap();
    assert_eq!(t.version(), 2);
    assert_eq!(t.count_rows(None, &c).unwrap(), 1000);

    // Exact search equals a brute-force reference.
    let q = rand_vals(4242, DIM);
    let res = t.search(&query(q.clone(), 10), &c).unwrap();
    let mut all: Vec<(f32, i64)> = Vec::new();
    for (start, n) in [(0, 500), (500, 300), (800, 200)] {
        let b = batch(start, n);
        let v = b
            .column(2)
            .as_fixed_size_list()
            .values()
            .as_primitive::<Float32Type>()
            .values()
            .to_vec();
        for (i, row) in v.chunks(DIM).enumerate() {
            all.push((
                row.iter().zip(&q).map(|(a, b)| (a - b) * (a - b)).sum(),
                start + i as i64,
            ));
        }
    }
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let want: Vec<i64> = all[..10].iter().map(|x| x.1).collect();
    assert_eq!(ids_of(&res), want);
    let d = res
        .column_by_name("_distance")
        .unwrap()
        .as_primitive::<Float32Type>();
    assert!((d.value(0) - all[0].0).abs() < 1e-5);

    // Filtered search only returns matching rows, and k of them.
    let mut fq = query(q.clone(), 10);
    fq.filter = Some(Where::new(
        "tag = ? AND id < 100",
        [oxvec::ScalarValue::Utf8("odd".into())],
    ));
    let res = t.search(&fq, &c).unwrap();
    assert_eq!(res.num_rows(), 10);
    assert!(ids_of(&res).iter().all(|i| i % 2 == 1 && *i < 100));

    // Delete: gone from count, scan and search.
    let nearest = want[0];
    let f = Where::new(format!("id = {nearest} OR id >= 900"), []);
    let deleted = t.delete(&f, &c).unwrap();
    assert_eq!((deleted.rows, deleted.version), (101, 3));
    assert_eq!(t.version(), 3);
    assert_eq!(t.count_rows(None, &c).unwrap(), 899);
    let res = t.search(&query(q.clone(), 10), &c).unwrap();
    assert!(!ids_of(&res).contains(&nearest));
    let after: Vec<i64> = all
        .iter()
        .map(|x| x.1)
        .filter(|&i| i != nearest && i < 900)
        .take(10)
        .collect();
    assert_eq!(ids_of(&res), after);

    // Update with a literal and with SQL.
    let f = Where::new("id < 3", []);
    let n = t
        .update(
            Some(&f),
            &[
                (
                    "tag".into(),
                    Assignment::Value(Arc::new(StringArray::from(vec!["new"]))),
                ),
                ("id".into(), Assignment::Sql("id + 10000".into())),
            ],
            &c,
        )
        .unwrap();
    assert_eq!((n.rows, n.version), (3, 4));
    assert_eq!(t.count_rows(None, &c).unwrap(), 899);
    let f = Where::new("tag = 'new'", []);
    let (_, b) = t
        .scan(
            &ScanRequest {
                filter: Some(f),
                ..Default::default()
            },
            &c,
        )
        .unwrap();
    let mut got: Vec<i64> = b.iter().flat_map(ids_of).collect();
    got.sort();
    assert_eq!(got, vec![10000, 10001, 10002]);

    // Time travel.
    let versions = t.list_versions().unwrap();
    assert_eq!(
        versions
            .iter()
            .map(|v| v.operation.as_str())
            .collect::<Vec<_>>(),
        ["create", "append", "delete", "update"]
    );
    t.checkout(1).unwrap();
    assert_eq!(t.count_rows(None, &c).unwrap(), 500);
    assert!(matches!(
        t.delete(&Where::new("id = 1", []), &c),
        Err(Error::InvalidInput { .. })
    ));
    t.checkout_latest().unwrap();
    assert_eq!(t.count_rows(None, &c).unwrap(), 899);
    assert_eq!(t.restore(Some(2)).unwrap(), 5);
    assert_eq!(t.count_rows(None, &c).unwrap(), 1000);

    // A reopened handle sees the same.
    let t2 = db.open_table("docs").unwrap();
    assert_eq!(t2.version(), 5);
    assert_eq!(t2.count_rows(None, &c).unwrap(), 1000);
}

#[test]
fn bad_input_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Database::connect(tmp.path().to_str().unwrap()).unwrap();
    let c = CancelToken::new();
    let t = create_ten(&db, &c);
    let before = listing(tmp.path());

    // NaN in a vector, in the second batch: the first batch's file must be cleaned up.
    let mut bad = batch(10, 5);
    let mut vals = rand_vals(1, 5 * DIM);
    vals[3 * DIM + 2] = f32::NAN;
    let vec = FixedSizeListArray::try_new(
        Arc::new(Field::new("item", DataType::Float32, true)),
        DIM as i32,
        Arc::new(Float32Array::from(vals)),
        None,
    )
    .unwrap();
    bad = RecordBatch::try_new(
        schema(),
        vec![bad.column(0).clone(), bad.column(1).clone(), Arc::new(vec)],
    )
    .unwrap();
    let err = t
        .add(&mut vec![Ok(batch(100, 5)), Ok(bad)].into_iter(), &c)
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert!(
        msg.contains("'vec'") && msg.contains("row 8") && msg.contains("NaN"),
        "{msg}"
    );
    assert_eq!(t.version(), 1);
    assert_eq!(listing(tmp.path()), before);

    // Wrong dimension on create: no directory appears.
    let small = Arc::new(Schema::new(vec![Field::new(
        "v",
        DataType::FixedSizeList(Arc::new(Field::new("item", DataType::Float32, true)), 3),
        false,
    )]));
    let v = FixedSizeListArray::try_new(
        Arc::new(Field::new("item", DataType::Float32, true)),
        3,
        Arc::new(Float32Array::from(vec![1.0; 6])),
        None,
    )
    .unwrap();
    let b = RecordBatch::try_new(small.clone(), vec![Arc::new(v)]).unwrap();
    let err = db
        .create_table(
            "x",
            Some(schema()),
            Some(&mut vec![Ok(b)].into_iter()),
            CreateMode::Create,
            false,
            &c,
        )
        .unwrap_err();
    assert!(matches!(err, Error::Schema { .. }), "{err:?}");
    assert_eq!(listing(tmp.path()), before);

    // Invalid names never touch the disk.
    for name in ["..", "../x", "/abs", "a/b", ""] {
        assert!(matches!(
            db.create_table(name, Some(schema()), None, CreateMode::Create, false, &c),
            Err(Error::InvalidInput { .. })
        ));
    }
    assert_eq!(listing(tmp.path()), before);

    // Creating an existing table.
    assert!(matches!(
        db.create_table("t", Some(schema()), None, CreateMode::Create, false, &c),
        Err(Error::TableExists { .. })
    ));
    assert!(matches!(
        db.open_table("nope"),
        Err(Error::TableNotFound { .. })
    ));
}

#[test]
fn corrupt_fragment_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Database::connect(tmp.path().to_str().unwrap()).unwrap();
    let c = CancelToken::new();
    db.create_table(
        "t",
        None,
        Some(&mut vec![Ok(batch(0, 100))].into_iter()),
        CreateMode::Create,
        false,
        &c,
    )
    .unwrap();
    let data = tmp.path().join("t.oxvec/data");
    let file = std::fs::read_dir(&data)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&file, bytes).unwrap();
    let t = db.open_table("t").unwrap();
    match t.search(&query(rand_vals(1, DIM), 3), &c) {
        Err(Error::CorruptFile { path, .. }) => assert_eq!(path, file),
        other => panic!("expected CorruptFile, got {other:?}"),
    }
}

#[test]
fn cancelled_add_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Database::connect(tmp.path().to_str().unwrap()).unwrap();
    let c = CancelToken::new();
    let t = create_ten(&db, &c);
    let before = listing(tmp.path());
    let cancel = CancelToken::new();
    let mut n = 0;
    let mut it = std::iter::from_fn(|| {
        n += 1;
        if n == 3 {
            cancel.cancel();
        }
        (n < 10).then(|| Ok(batch(n * 100, 10)))
    });
    assert!(matches!(t.add(&mut it, &cancel), Err(Error::Interrupted)));
    assert_eq!(listing(tmp.path()), before);
    assert_eq!(t.version(), 1);
}

fn search_ids(t: &oxvec::Table, q: &VectorQuery) -> Vec<i64> {
    ids_of(&t.search(q, &CancelToken::new()).unwrap())
}

#[test]
fn indexed_search_covers_new_rows_hides_deleted_ones_and_survives_reopen() {
    use oxvec::{vector_kind, BuildOptions, IndexRequest, Progress};
    let tmp = tempfile::tempdir().unwrap();
    let db = Database::connect(tmp.path().to_str().unwrap()).unwrap();
    let c = CancelToken::new();
    let t = db
        .create_table(
            "docs",
            None,
            Some(&mut vec![Ok(batch(0, 3000))].into_iter()),
            CreateMode::Create,
            false,
            &c,
        )
        .unwrap();
    for name in ["HNSW", "IVF_PQ", "IVF_RQ"] {
        let index_type = vector_kind(name).unwrap();
        let req = IndexRequest {
            column: None,
            index_type,
            metric: Metric::L2,
            replace: true,
            options: BuildOptions::default(),
            calibration_queries: None,
            name: None,
        };
        let meta = t.create_index(&req, &Progress::default(), &c).unwrap();
        assert_eq!(meta.num_nodes, 3000);
        // Recall@10 against bypassed exact search.
        let mut hits = 0;
        for s in 0..20 {
            let q = rand_vals(7000 + s, DIM);
            let mut exact = query(q.clone(), 10);
            exact.bypass_index = true;
            let want = search_ids(&t, &exact);
            let got = search_ids(&t, &query(q, 10));
            hits += got.iter().filter(|g| want.contains(g)).count();
        }
        assert!(hits >= 180, "{name}: recall {}", hits as f32 / 200.0);
    }
    // A row added after the build is found at once; a deleted one never.
    t.add(&mut vec![Ok(batch(5000, 10))].into_iter(), &c)
        .unwrap();
    let target = rand_vals(5001, 10 * DIM)[..DIM].to_vec();
    assert_eq!(search_ids(&t, &query(target.clone(), 1)), vec![5000]);
    let first = rand_vals(1, 3000 * DIM)[..DIM].to_vec();
    assert_eq!(search_ids(&t, &query(first.clone(), 1)), vec![0]);
    t.delete(&Where::new("id = 0", []), &c).unwrap();
    assert!(!search_ids(&t, &query(first.clone(), 50)).contains(&0));
    // Filtered search returns k whenever k rows match, at any selectivity.
    for (sql, want) in [
        ("id < 40", 10),
        ("id % 2 = 0", 10),
        ("id >= 5000", 10),
        ("id = 77", 1),
    ] {
        let mut q = query(target.clone(), 10);
        q.filter = Some(Where::new(sql, []));
        assert_eq!(search_ids(&t, &q).len(), want, "{sql}");
    }
    // optimize folds the new rows in; stats say so; reopen sees the same.
    let stats = t.index_stats("vec_idx").unwrap();
    assert_eq!(stats["num_unindexed_rows"], 10);
    assert_eq!(
        t.optimize(&Progress::default(), &c).unwrap().rows_indexed,
        10
    );
    let stats = t.index_stats("vec_idx").unwrap();
    assert_eq!(stats["num_unindexed_rows"], 0);
    assert_eq!(search_ids(&t, &query(target.clone(), 1)), vec![5000]);
    let t2 = db.open_table("docs").unwrap();
    assert_eq!(t2.list_indices().len(), 1);
    assert_eq!(search_ids(&t2, &query(target, 1)), vec![5000]);
    t2.drop_index("vec_idx").unwrap();
    assert!(t2.list_indices().is_empty());
    assert!(t2.drop_index("vec_idx").is_err());
}

#[test]
fn a_create_whose_directories_another_failed_create_removed_is_a_retryable_conflict() {
    // Another create of the same name fails and removes the still-empty directories this one
    // has just made (it only ever removes empty ones). This create then cannot write its
    // files: a retryable conflict, not a storage fault, and a retry succeeds.
    let tmp = tempfile::tempdir().unwrap();
    let db = Database::connect(tmp.path().to_str().unwrap()).unwrap();
    let root = tmp.path().join("t.oxvec");
    let mut pulled = 0;
    let mut batches = std::iter::from_fn(|| {
        pulled += 1;
        if pulled == 2 {
            for d in ["versions", "data", "deletions", ""] {
                std::fs::remove_dir(root.join(d)).unwrap();
            }
        }
        // The first batch is empty, so nothing is written before the second is pulled.
        let rows = if pulled == 1 { 0 } else { 10 };
        (pulled <= 3).then(|| Ok(batch(10 * pulled as i64, rows)))
    });
    let c = CancelToken::new();
    let err = db
        .create_table("t", None, Some(&mut batches), CreateMode::Create, false, &c)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::CommitConflict {
                retryable: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(db.table_names().unwrap().is_empty());
    let t = create_ten(&db, &c);
    assert_eq!(t.count_rows(None, &c).unwrap(), 10);
}

#[test]
fn a_drop_renames_the_table_away_first_and_clears_what_earlier_drops_left() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("db");
    let db = Database::connect(root.to_str().unwrap()).unwrap();
    let c = CancelToken::new();
    create_ten(&db, &c);
    // What a crash between a drop's rename and its removal leaves: a hidden directory
    // holding a whole table. It is no table, and the next drop removes it.
    let left = root.join(".dropped-0123");
    std::fs::create_dir_all(left.join("versions")).unwrap();
    std::fs::write(left.join("versions/00000000000000000001.manifest"), b"x").unwrap();
    assert_eq!(db.table_names().unwrap(), vec!["t".to_string()]);
    db.drop_table("t").unwrap();
    assert_eq!(listing(&root), Vec::<String>::new());
    assert!(db.table_names().unwrap().is_empty());
    assert!(matches!(
        db.drop_table("t"),
        Err(Error::TableNotFound { .. })
    ));
    // The name is free at once.
    let t = create_ten(&db, &c);
    assert_eq!(t.count_rows(None, &c).unwrap(), 10);
}

#[test]
fn two_drops_at_once_one_wins_the_other_finds_no_table() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Database::connect(tmp.path().to_str().unwrap()).unwrap();
    let c = CancelToken::new();
    for _ in 0..20 {
        create_ten(&db, &c);
        let (a, b) = std::thread::scope(|s| {
            let other = s.spawn(|| db.clone().drop_table("t"));
            (db.drop_table("t"), other.join().unwrap())
        });
        let won = [&a, &b].iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "{a:?} {b:?}");
        for r in [a, b] {
            assert!(
                matches!(r, Ok(()) | Err(Error::TableNotFound { .. })),
                "a losing drop must say the table is gone: {r:?}"
            );
        }
    }
}
