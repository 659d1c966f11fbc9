//! Every ordered pair of concurrent changes: the first lands, the second (computed against the
//! same read version) is replayed on top of it, and either rebases or is a retryable conflict,
//! as the matrix below says. Then the rebased results are checked for what they must contain.

use super::*;
use crate::deletion::DeletionMeta;
use crate::manifest::IndexMeta;
use arrow::datatypes::{DataType, Field, Schema};
use std::sync::Arc;

fn frag(id: u32) -> FragmentMeta {
    FragmentMeta {
        id,
        file: format!("f{id}.arrow"),
        num_rows: 100,
        file_size: 1000,
        crc32c: id,
        deletion: None,
        columns: Default::default(),
        parts: None,
    }
}

fn new_frag(name: &str) -> FragmentMeta {
    FragmentMeta {
        id: u32::MAX,
        file: format!("{name}.arrow"),
        ..frag(0)
    }
}

fn with_deletions(f: &FragmentMeta, name: &str) -> FragmentMeta {
    FragmentMeta {
        deletion: Some(DeletionMeta {
            file: format!("{name}.bin"),
            num_deleted: 3,
            file_size: 10,
            crc32c: 7,
            inline: None,
        }),
        ..f.clone()
    }
}

fn index(name: &str, file: &str, fragments: &[u32]) -> IndexMeta {
    IndexMeta {
        name: name.into(),
        index_type: "HNSW".into(),
        column: "vector".into(),
        columns: Vec::new(),
        metric: "cosine".into(),
        file: file.into(),
        file_size: 1,
        header_crc32c: 0,
        fragment_ids: fragments.to_vec(),
        num_nodes: 300,
        tombstones: 0,
        params: serde_json::Value::Null,
        calibration: serde_json::Value::Null,
        build_seconds: 0.0,
        build_peak_rss: None,
        build_peak_anon: None,
        created_micros: 0,
    }
}

/// `id` and a vector column; `other` gives the vector column another dimension.
fn schema(other: bool) -> SchemaRef {
    let item = Arc::new(Field::new("item", DataType::Float32, false));
    let dim = if other { 8 } else { 4 };
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("vector", DataType::FixedSizeList(item, dim), false),
    ]))
}

/// Version 1: fragments 0, 1, 2 and an index `vec_idx` over all three.
fn base() -> Manifest {
    Manifest {
        version: 1,
        schema: schema(false),
        body: ManifestBody {
            timestamp_micros: 0,
            operation: "create".into(),
            transaction_id: "t0".into(),
            read_version: 0,
            next_fragment_id: 3,
            fragments: vec![frag(0), frag(1), frag(2)],
            indices: vec![index("vec_idx", "a.idx", &[0, 1, 2])],
        },
    }
}

const KINDS: [&str; 13] = [
    "append",
    "delete0",
    "delete1",
    "update0",
    "merge_insert",
    "merge_update0",
    "overwrite",
    "overwrite_schema",
    "restore",
    "compaction",
    "create_index",
    "replace_index",
    "drop_index",
];

/// Row: the change that lands first; column: the change replayed on top of it (same order
/// as `KINDS`). `R`: rebased, `C`: retryable conflict.
const MATRIX: [&str; 13] = [
    "RCCCCCRRRCRRR", // append
    "RCRCRCRRRRRRR", // delete0
    "RRCRRRRRRCRRR", // delete1
    "RCCCCCRRRCRRR", // update0
    "RCCCCCRRRCRRR", // merge_insert
    "RCCCCCRRRCRRR", // merge_update0
    "RCCCCCRRRCRCC", // overwrite
    "CCCCCCRRRCCCC", // overwrite_schema
    "RRRRRRRRRRRRR", // restore (of version 1 itself)
    "RCCCCCRRRCRCC", // compaction
    "RRRRRRRRRCCRR", // create_index
    "RRRRRRRRRCRCC", // replace_index
    "RRRRRRRRRCRCC", // drop_index
];

/// Change `kind`, computed against `m`.
fn change(kind: &str, m: &Manifest) -> Box<dyn Change> {
    let f = |id: u32| {
        m.body
            .fragments
            .iter()
            .find(|f| f.id == id)
            .unwrap()
            .clone()
    };
    let vector_field = m.schema.field_with_name("vector").unwrap().clone();
    match kind {
        "append" => Box::new(Append {
            fragments: vec![new_frag("appended")],
            schema: m.schema.clone(),
        }),
        "delete0" => Box::new(Delete {
            before: vec![f(0)],
            after: vec![Some(with_deletions(&f(0), "d0"))],
            read_fragments: m.body.fragments.clone(),
            unseen: None,
        }),
        "delete1" => Box::new(Delete {
            before: vec![f(1)],
            after: vec![Some(with_deletions(&f(1), "d1"))],
            read_fragments: m.body.fragments.clone(),
            unseen: None,
        }),
        "update0" => Box::new(Update {
            before: vec![f(0)],
            after: vec![Some(with_deletions(&f(0), "u0"))],
            added: vec![new_frag("updated")],
            read_fragments: m.body.fragments.clone(),
            unseen: None,
        }),
        "merge_insert" => Box::new(Merge {
            before: vec![],
            after: vec![],
            added: vec![new_frag("inserted")],
            read_fragments: m.body.fragments.clone(),
        }),
        "merge_update0" => Box::new(Merge {
            before: vec![f(0)],
            after: vec![Some(with_deletions(&f(0), "m0"))],
            added: vec![new_frag("merged")],
            read_fragments: m.body.fragments.clone(),
        }),
        "overwrite" => Box::new(Overwrite {
            schema: schema(false),
            fragments: vec![new_frag("overwritten")],
        }),
        "overwrite_schema" => Box::new(Overwrite {
            schema: schema(true),
            fragments: vec![new_frag("overwritten_schema")],
        }),
        "restore" => Box::new(Restore::of(m)),
        "compaction" => {
            let mut added = new_frag("compacted");
            added.id = m.body.next_fragment_id;
            let vec_idx = m.body.indices[0].clone();
            let remapped = IndexMeta {
                file: "remapped.idx".into(),
                fragment_ids: vec![0, added.id],
                ..vec_idx.clone()
            };
            Box::new(Compaction {
                removed: vec![f(1), f(2)],
                added: vec![added],
                first_id: m.body.next_fragment_id,
                indices: vec![IndexChange {
                    name: "vec_idx".into(),
                    before: Some(vec_idx),
                    after: Some(remapped),
                }],
            })
        }
        "create_index" => Box::new(CreateIndex {
            before: None,
            after: index("other_idx", "other.idx", &[0, 1, 2]),
            columns: vec![vector_field.clone()],
        }),
        "replace_index" => Box::new(CreateIndex {
            before: Some(m.body.indices[0].clone()),
            after: index("vec_idx", "rebuilt.idx", &[0, 1, 2]),
            columns: vec![vector_field.clone()],
        }),
        "drop_index" => Box::new(DropIndex {
            before: m.body.indices[0].clone(),
        }),
        other => panic!("unknown kind {other}"),
    }
}

fn commit(m: &Manifest, read_version: u64, c: Box<dyn Change>) -> Result<Manifest> {
    apply(
        &Transaction {
            read_version,
            change: c,
        },
        "txn",
        m,
        1,
    )
}

#[test]
fn every_pair_of_concurrent_changes_rebases_or_conflicts_as_the_matrix_says() {
    let v1 = base();
    let mut wrong = Vec::new();
    for (i, first) in KINDS.iter().enumerate() {
        let v2 = commit(&v1, 1, change(first, &v1)).expect("the first change applies");
        assert_eq!(v2.version, 2);
        for (j, second) in KINDS.iter().enumerate() {
            let got = commit(&v2, 1, change(second, &v1));
            let expected = MATRIX[i].as_bytes()[j];
            let ok = match (&got, expected) {
                (Ok(m), b'R') => m.version == 3,
                (Err(Error::CommitConflict { retryable, .. }), b'C') => *retryable,
                _ => false,
            };
            if !ok {
                wrong.push(format!(
                    "{first} then {second}: expected {}, got {:?}",
                    expected as char,
                    got.map(|m| m.body.operation)
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_change_applies_on_the_version_it_read() {
    let v1 = base();
    for kind in KINDS {
        let m = commit(&v1, 1, change(kind, &v1)).unwrap_or_else(|e| panic!("{kind}: {e}"));
        let ids: Vec<u32> = m.body.fragments.iter().map(|f| f.id).collect();
        let mut sorted = ids.clone();
        sorted.dedup();
        assert_eq!(ids.len(), sorted.len(), "{kind}: duplicate fragment ids");
        assert!(
            ids.iter().all(|&id| id < m.body.next_fragment_id),
            "{kind}: an id at or past next_fragment_id"
        );
    }
}

#[test]
fn rebased_changes_keep_both_effects() {
    let v1 = base();
    // Two appends: both new fragments, distinct ids.
    let v2 = commit(&v1, 1, change("append", &v1)).unwrap();
    let v3 = commit(&v2, 1, change("append", &v1)).unwrap();
    assert_eq!(v3.body.fragments.len(), 5);
    assert_eq!(v3.body.next_fragment_id, 5);
    // Deletes on different fragments: both deletion vectors.
    let v2 = commit(&v1, 1, change("delete0", &v1)).unwrap();
    let v3 = commit(&v2, 1, change("delete1", &v1)).unwrap();
    assert!(v3.body.fragments[0].deletion.is_some());
    assert!(v3.body.fragments[1].deletion.is_some());
    // An index built while rows were appended keeps covering what it covered.
    let v2 = commit(&v1, 1, change("append", &v1)).unwrap();
    let v3 = commit(&v2, 1, change("create_index", &v1)).unwrap();
    assert_eq!(v3.body.indices.len(), 2);
    assert_eq!(v3.body.fragments.len(), 4);
}

#[test]
fn conflicts_name_both_versions() {
    let v1 = base();
    let v2 = commit(&v1, 1, change("delete0", &v1)).unwrap();
    let e = commit(&v2, 1, change("delete0", &v1)).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("fragment 0"), "{msg}");
    assert!(
        msg.contains("read at version 1") && msg.contains("now 2"),
        "{msg}"
    );
}

#[test]
fn rows_a_restore_brought_back_are_read_before_a_filtered_change_commits() {
    // v2 deletes from fragment 0; v3 restores v1 (its files linked anew, as restore does),
    // bringing those rows back. A delete or an inserting merge computed on v2 never saw them.
    let v1 = base();
    let v2 = commit(&v1, 1, change("delete0", &v1)).unwrap();
    let mut restored = Restore::of(&v1);
    for f in &mut restored.fragments {
        f.file = format!("relinked-{}", f.file);
    }
    let v3 = commit(&v2, 2, Box::new(restored)).unwrap();
    for kind in ["delete1", "update0", "merge_insert"] {
        let e = commit(&v3, 2, change(kind, &v2)).unwrap_err();
        assert!(
            e.to_string().contains("restored by another commit"),
            "{kind}: {e}"
        );
    }
    // Deletions that only grew remove rows: an insert computed before them still holds.
    let v3 = commit(&v2, 2, change("delete1", &v2)).unwrap();
    commit(&v3, 2, change("merge_insert", &v2)).unwrap();
}

#[test]
fn a_filtered_delete_rebases_over_rows_its_filter_does_not_match() {
    // The check is asked about exactly the fragments the read did not see; when it says none
    // of their rows match, the delete rebases over the append instead of conflicting.
    let v1 = base();
    let v2 = commit(&v1, 1, change("append", &v1)).unwrap();
    for matches in [false, true] {
        let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = asked.clone();
        let delete = Delete {
            before: vec![v1.body.fragments[0].clone()],
            after: vec![Some(with_deletions(&v1.body.fragments[0], "d0"))],
            read_fragments: v1.body.fragments.clone(),
            unseen: Some(UnseenCheck(std::sync::Arc::new(move |_, frags| {
                seen.lock().unwrap().extend(frags.iter().map(|f| f.id));
                Ok(matches)
            }))),
        };
        let got = commit(&v2, 1, Box::new(delete));
        assert_eq!(*asked.lock().unwrap(), vec![3]);
        assert_eq!(got.is_ok(), !matches, "{got:?}");
    }
}

#[test]
fn a_column_rewrite_keeps_later_deletions_and_conflicts_on_new_rows() {
    use super::RewriteColumns;
    let v1 = base();
    let rewrite = |m: &Manifest| RewriteColumns {
        read_schema: m.schema.clone(),
        schema: schema(false),
        before: m.body.fragments.clone(),
        after: m
            .body
            .fragments
            .iter()
            .map(|f| FragmentMeta {
                id: u32::MAX,
                file: format!("rewritten-{}", f.file),
                ..f.clone()
            })
            .collect(),
        read_indices: m.body.indices.clone(),
        indices: Vec::new(),
    };
    // A delete landed after the rewrite read: the new files keep its deletions (same
    // offsets), under the old ids.
    let v2 = commit(&v1, 1, change("delete1", &v1)).unwrap();
    let v3 = commit(&v2, 1, Box::new(rewrite(&v1))).unwrap();
    for (old, new) in v2.body.fragments.iter().zip(&v3.body.fragments) {
        assert_eq!(new.id, old.id);
        assert_eq!(new.deletion, old.deletion);
        assert_eq!(new.file, format!("rewritten-{}", old.file));
    }
    assert!(v3.body.indices.is_empty());
    // Rows appended (or fragments rewritten) since the read have no new column values.
    for kind in ["append", "compaction", "update0"] {
        let landed = commit(&v1, 1, change(kind, &v1)).unwrap();
        let e = commit(&landed, 1, Box::new(rewrite(&v1))).unwrap_err();
        assert!(
            matches!(
                e,
                Error::CommitConflict {
                    retryable: true,
                    ..
                }
            ),
            "{kind}: {e}"
        );
    }
}
