//! T3: every storage operation of every write fails in turn, once and forever, with each of
//! ENOSPC, EACCES, EROFS, ENOENT and EMFILE. The error must be a typed storage error naming a
//! path in the table, the previous version must be intact (or, if the commit landed, the new
//! one complete), a single failure must leave no staged file behind, and the same write must
//! succeed once the fault is gone.

mod common;

use common::{batch, digest, hnsw, upsert};
use oxvec::{Assignment, CancelToken, CreateMode, Database, Error, Progress, Result, Table, Where};
use oxvec_storage::io::{self, Fault};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

const ERRNOS: [(i32, &str); 5] = [
    (28, "ENOSPC"),
    (13, "EACCES"),
    (30, "EROFS"),
    (2, "ENOENT"),
    (24, "EMFILE"),
];

/// A table with an index, three fragments and a tag: every write below has work to do.
fn setup(root: &Path) -> Table {
    let c = CancelToken::new();
    let db = Database::connect(root.to_str().unwrap()).unwrap();
    let t = db
        .create_table(
            "t",
            None,
            Some(&mut std::iter::once(Ok(batch(
                &(0..40).collect::<Vec<_>>(),
                0,
            )))),
            CreateMode::Create,
            false,
            &c,
        )
        .unwrap();
    t.create_index(&hnsw(), &Progress::default(), &c).unwrap();
    t.add(&mut std::iter::once(Ok(batch(&[40, 41], 0))), &c)
        .unwrap();
    let f = Where::new("id = 3", []);
    t.delete(&f, &c).unwrap();
    t
}

fn run(op: &str, t: &Table) -> Result<()> {
    let c = CancelToken::new();
    match op {
        "add" => t
            .add(&mut std::iter::once(Ok(batch(&[100, 101], 1))), &c)
            .map(drop),
        "delete" => t.delete(&Where::new("id % 5 = 0", []), &c).map(drop),
        "update" => t
            .update(
                Some(&Where::new("id < 10", [])),
                &[("val".into(), Assignment::Sql("val + 1".into()))],
                &c,
            )
            .map(drop),
        "upsert" => {
            let m = upsert();
            t.merge_insert(&m, &mut std::iter::once(Ok(batch(&[1, 2, 200], 9))), &c)
                .map(drop)
        }
        "index" => t.create_index(&hnsw(), &Progress::default(), &c).map(drop),
        "optimize" => t.optimize(&Progress::default(), &c).map(drop),
        "tag" => t.create_tag("release", None),
        "cleanup" => t.cleanup_old_versions(Duration::ZERO, true).map(drop),
        _ => unreachable!(),
    }
}

fn files(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    out
}

#[test]
fn every_storage_operation_fails_cleanly() {
    let ops = [
        "add", "delete", "update", "upsert", "index", "optimize", "tag", "cleanup",
    ];
    let mut cases = 0u64;
    for op in ops {
        // How many storage operations does it perform, and what does success look like?
        let tmp = tempfile::tempdir().unwrap();
        let t = setup(tmp.path());
        io::start_journal();
        run(op, &t).unwrap();
        let n = io::take_journal().len() as u64;
        assert!(n > 0, "{op} touched no storage");
        let expected = digest(&t);
        for k in 0..n {
            for (errno, name) in ERRNOS {
                for forever in [false, true] {
                    let what = format!(
                        "{op}: operation {k} of {n} fails with {name}{}",
                        if forever { " forever" } else { "" }
                    );
                    let tmp = tempfile::tempdir().unwrap();
                    let t = setup(tmp.path());
                    let before_version = t.version();
                    let before = digest(&t);
                    let root = t.dir().root().to_path_buf();
                    let listing = files(&root);
                    io::set_fault(Some(Fault {
                        at: k,
                        forever,
                        errno,
                    }));
                    let result = run(op, &t);
                    io::set_fault(None);
                    cases += 1;
                    let reopened = Database::connect(tmp.path().to_str().unwrap())
                        .unwrap()
                        .open_table("t")
                        .unwrap();
                    match &result {
                        Err(Error::Storage { path, source }) => {
                            assert!(path.starts_with(&root), "{what}: error names {path:?}");
                            assert_eq!(source.raw_os_error(), Some(errno), "{what}: {source}");
                            let unknown = source.to_string().contains("unknown");
                            if reopened.version() == before_version {
                                assert_eq!(
                                    digest(&reopened),
                                    before,
                                    "{what}: previous version changed"
                                );
                                if !forever && !unknown && op != "cleanup" {
                                    assert_eq!(
                                        files(&root),
                                        listing,
                                        "{what}: staged files left behind"
                                    );
                                }
                            } else {
                                assert!(
                                    unknown,
                                    "{what}: a version landed but the error did not say so"
                                );
                                assert_eq!(digest(&reopened), expected, "{what}");
                            }
                        }
                        Err(e) => panic!("{what}: expected a storage error, got {e:?}"),
                        Ok(()) => {
                            // The failed operation was one the write can do without (a temp
                            // file's removal, a retried directory fsync after the link).
                            assert_eq!(digest(&reopened), expected, "{what}: reported success");
                        }
                    }
                    let report = reopened.verify(true, &CancelToken::new()).unwrap();
                    assert!(report.problems.is_empty(), "{what}: {:?}", report.problems);
                    if result.is_err() {
                        run(op, &reopened).unwrap_or_else(|e| panic!("{what}: retry failed: {e}"));
                        assert_eq!(digest(&reopened), expected, "{what}: retry");
                    }
                }
            }
        }
    }
    eprintln!("{cases} injected failures, 0 problems");
}
