//! A delete, update or merge that loses a commit race to another writer is planned again on
//! the newer version inside the call (`TableOptions::max_retries`): no error and no lost
//! update reaches the caller while retries remain.

use arrow::array::{Array, ArrayRef, Int64Array, RecordBatch};
use oxvec::{Assignment, CancelToken, Database, MergeInsert, TableOptions, Where};
use std::sync::Arc;

const ROUNDS: i64 = 15;

fn rows(ids: &[i64], n: i64) -> RecordBatch {
    RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from(ids.to_vec())) as ArrayRef),
        (
            "n",
            Arc::new(Int64Array::from(vec![n; ids.len()])) as ArrayRef,
        ),
    ])
    .unwrap()
}

fn counter(t: &oxvec::Table, c: &CancelToken) -> i64 {
    let req = oxvec::ScanRequest {
        filter: Some(Where::new("id = 0", [])),
        ..Default::default()
    };
    let (_, batches) = t.scan(&req, c).unwrap();
    let n = batches[0].column_by_name("n").unwrap();
    n.as_any().downcast_ref::<Int64Array>().unwrap().value(0)
}

fn open(dir: &std::path::Path, max_retries: u32) -> oxvec::Table {
    let options = TableOptions {
        max_retries,
        auto_compact_fragments: 0,
        ..Default::default()
    };
    let db = Database::connect_with(dir.to_str().unwrap(), options).unwrap();
    db.open_table("t").unwrap()
}

#[test]
fn racing_increments_from_two_handles_all_land() {
    let tmp = tempfile::tempdir().unwrap();
    let c = CancelToken::new();
    let db = Database::connect(tmp.path().to_str().unwrap()).unwrap();
    let ids: Vec<i64> = (0..100).collect();
    let mut data = std::iter::once(Ok(rows(&ids, 0)));
    db.create_table(
        "t",
        None,
        Some(&mut data),
        oxvec::CreateMode::Create,
        false,
        &c,
    )
    .unwrap();
    let (a, b) = (open(tmp.path(), 1000), open(tmp.path(), 1000));
    let bump = Where::new("id = 0 OR id = 7", []);
    std::thread::scope(|s| {
        for t in [&a, &b] {
            s.spawn(|| {
                for _ in 0..ROUNDS {
                    let set = [("n".to_string(), Assignment::Sql("n + 1".into()))];
                    let done = t.update(Some(&bump), &set, &c).unwrap();
                    assert_eq!(done.rows, 2);
                    // Upserts of another row race the updates too.
                    let merge = MergeInsert {
                        on: vec!["id".into()],
                        when_matched_update_all: Some(None),
                        when_not_matched_insert_all: true,
                        ..Default::default()
                    };
                    let mut src = std::iter::once(Ok(rows(&[50], 1)));
                    t.merge_insert(&merge, &mut src, &c).unwrap();
                }
            });
        }
    });
    a.checkout_latest().unwrap();
    assert_eq!(counter(&a, &c), 2 * ROUNDS);
    assert_eq!(a.count_rows(None, &c).unwrap(), 100);
}
