//! Deletion vectors kept inside the manifest: a small delete, update or upsert writes no file
//! under `deletions/`; a large one, one past the per-version budget, and every one with
//! `inline_deletions: false` do. Either way reads, time travel, restore, compaction,
//! cleanup and deep verify see the same rows.

mod common;

use common::{batch, create, create_with, digest, upsert};
use oxvec::{CancelToken, Progress, TableOptions, Where};
use oxvec_storage::{Manifest, TableDir, INLINE_MAX_BYTES, INLINE_TOTAL_BYTES};
use std::path::Path;
use std::time::Duration;

fn deletion_files(root: &Path) -> usize {
    std::fs::read_dir(root.join("t.oxvec").join("deletions"))
        .unwrap()
        .count()
}

fn manifest(root: &Path, v: u64) -> Manifest {
    TableDir::new(root.join("t.oxvec"))
        .load_manifest(v)
        .unwrap()
}

fn inline_bytes(m: &Manifest) -> Vec<usize> {
    m.body
        .fragments
        .iter()
        .filter_map(|f| f.deletion.as_ref())
        .filter_map(|d| d.inline.as_ref().map(Vec::len))
        .collect()
}

fn clean_deep_verify(t: &oxvec::Table) {
    let report = t.verify(true, &CancelToken::new()).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[test]
fn a_small_delete_update_and_upsert_write_no_deletion_file_and_read_back_alike() {
    let c = CancelToken::new();
    let (inline, files) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ids: Vec<i64> = (0..5000).collect();
    let a = create(inline.path(), &ids);
    let off = TableOptions {
        inline_deletions: false,
        ..TableOptions::default()
    };
    let b = create_with(files.path(), &ids, off);
    for t in [&a, &b] {
        t.delete(&Where::new("id % 10 = 3", []), &c).unwrap();
        t.update(
            Some(&Where::new("id % 10 = 4", [])),
            &[("val".into(), oxvec::Assignment::Sql("val + 1".into()))],
            &c,
        )
        .unwrap();
        let source = batch(&(4990..5010).collect::<Vec<_>>(), 7);
        t.merge_insert(&upsert(), &mut std::iter::once(Ok(source)), &c)
            .unwrap();
    }
    assert_eq!(deletion_files(inline.path()), 0);
    // The upsert changed two fragments: the first, and the one the update wrote.
    assert_eq!(deletion_files(files.path()), 4);
    assert_eq!(inline_bytes(&manifest(inline.path(), a.version())).len(), 2);
    assert!(inline_bytes(&manifest(files.path(), b.version())).is_empty());
    for v in 1..=a.version() {
        a.checkout(v).unwrap();
        b.checkout(v).unwrap();
        assert_eq!(digest(&a), digest(&b), "version {v}");
    }
    a.checkout_latest().unwrap();
    let latest = digest(&a);
    // Another handle, another process's view: decoded from the manifest alone.
    let reopened = oxvec::Database::connect(inline.path().to_str().unwrap())
        .unwrap()
        .open_table("t")
        .unwrap();
    assert_eq!(digest(&reopened), latest);
    clean_deep_verify(&a);

    // Restore of a version with an inline vector, then cleanup of everything older.
    a.restore(Some(2)).unwrap();
    a.checkout(2).unwrap();
    let two = digest(&a);
    a.checkout_latest().unwrap();
    assert_eq!(digest(&a), two);
    a.cleanup_old_versions(Duration::ZERO, true).unwrap();
    assert_eq!(digest(&a), two);
    clean_deep_verify(&a);

    // Compaction drops the deleted rows for good.
    a.optimize(&Progress::default(), &c).unwrap();
    assert_eq!(digest(&a), two);
    assert!(inline_bytes(&manifest(inline.path(), a.version())).is_empty());
    clean_deep_verify(&a);
}

#[test]
fn a_vector_past_the_inline_size_is_a_file() {
    let c = CancelToken::new();
    let tmp = tempfile::tempdir().unwrap();
    // Every other row of 140k: two full 64k-row chunks of the bitmap, 8 KiB each.
    let t = create(tmp.path(), &(0..140_000).collect::<Vec<_>>());
    t.delete(&Where::new("id % 2 = 0", []), &c).unwrap();
    let m = manifest(tmp.path(), t.version());
    let d = m.body.fragments[0].deletion.as_ref().unwrap();
    assert!(d.file_size as usize > INLINE_MAX_BYTES);
    assert!(d.inline.is_none());
    assert_eq!(deletion_files(tmp.path()), 1);
    assert_eq!(t.count_rows(None, &c).unwrap(), 70_000);
    clean_deep_verify(&t);
}

#[test]
fn a_version_carries_at_most_its_inline_budget() {
    let c = CancelToken::new();
    let tmp = tempfile::tempdir().unwrap();
    let t = create(tmp.path(), &[]);
    // Twelve fragments of 20k rows; deleting 3k scattered rows of each makes a 6 KiB vector.
    for f in 0..12i64 {
        let ids: Vec<i64> = (f * 20_000..(f + 1) * 20_000).collect();
        t.add(&mut std::iter::once(Ok(batch(&ids, 0))), &c).unwrap();
    }
    t.delete(&Where::new("id % 7 = 1", []), &c).unwrap();
    let sizes = inline_bytes(&manifest(tmp.path(), t.version()));
    let total: usize = sizes.iter().sum();
    assert!(total <= INLINE_TOTAL_BYTES, "{total} bytes inline");
    assert!(sizes.len() >= 2 && sizes.len() < 12, "{sizes:?}");
    assert_eq!(deletion_files(tmp.path()), 12 - sizes.len());
    // A second delete touches every fragment again: the old vectors leave the budget.
    t.delete(&Where::new("id % 7 = 2", []), &c).unwrap();
    let again: usize = inline_bytes(&manifest(tmp.path(), t.version()))
        .iter()
        .sum();
    assert!(again <= INLINE_TOTAL_BYTES, "{again} bytes inline");
    let expected = (0..240_000i64).filter(|i| i % 7 != 1 && i % 7 != 2).count() as u64;
    assert_eq!(t.count_rows(None, &c).unwrap(), expected);
    clean_deep_verify(&t);
}
