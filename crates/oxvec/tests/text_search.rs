//! Full-text search on a table: the index, the rows added since its build (the tail),
//! deletions, filters, optimize and compaction all give the answers one fresh index over
//! the live rows would.

use arrow::array::{AsArray, Float32Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float32Type, Int64Type, Schema, SchemaRef};
use oxvec::{
    AnalyzerOptions, CancelToken, CreateMode, Database, Operator, Progress, Table,
    TextIndexRequest, TextQuery, TextSearch, Where,
};
use std::sync::Arc;

const WORDS: &[&str] = &[
    "vector", "search", "rust", "python", "index", "graph", "query", "table", "fast", "disk",
    "memory", "text", "token", "score", "rank", "filter", "version", "arrow", "file", "crash",
];

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("title", DataType::Utf8, true),
        Field::new("body", DataType::Utf8, true),
    ]))
}

/// Rows `start..start+n`: a few pseudo-random words each (some titles null).
fn batch(start: i64, n: usize) -> RecordBatch {
    let mut s = (start as u64 + 7).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut text = |len: u64| -> String {
        let k = 1 + next() % len;
        (0..k)
            .map(|_| WORDS[(next() % WORDS.len() as u64) as usize])
            .collect::<Vec<_>>()
            .join(" ")
    };
    let ids: Vec<i64> = (start..start + n as i64).collect();
    let titles: Vec<Option<String>> = ids.iter().map(|i| (i % 7 != 3).then(|| text(4))).collect();
    let bodies: Vec<Option<String>> = ids.iter().map(|_| Some(text(12))).collect();
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(StringArray::from(titles)),
            Arc::new(StringArray::from(bodies)),
        ],
    )
    .unwrap()
}

fn request(replace: bool) -> TextIndexRequest {
    TextIndexRequest {
        columns: vec!["title".into(), "body".into()],
        analyzer: AnalyzerOptions::default(),
        with_position: true,
        replace,
        name: None,
    }
}

fn search(t: &Table, query: &TextQuery, k: usize, filter: Option<&str>) -> Vec<(i64, f32)> {
    let q = TextSearch {
        query: query.clone(),
        k,
        offset: 0,
        filter: filter.map(|f| Where::new(f, [])),
        columns: Some(vec!["id".into()]),
        with_row_id: false,
        params: Default::default(),
    };
    let (b, warnings) = t.search_text(&q, &CancelToken::new()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let ids = b.column(0).as_primitive::<Int64Type>();
    let scores = b.column(1).as_primitive::<Float32Type>();
    (0..b.num_rows())
        .map(|i| (ids.value(i), scores.value(i)))
        .collect()
}

fn queries() -> Vec<TextQuery> {
    let m = |c: Option<&str>, t: &str, op| TextQuery::Match {
        column: c.map(str::to_string),
        text: t.into(),
        operator: op,
        fuzziness: 0,
        prefix_length: 0,
        max_expansions: 50,
        boost: 1.0,
    };
    vec![
        m(Some("body"), "vector search", Operator::Or),
        m(None, "rust graph crash", Operator::Or),
        m(Some("body"), "fast disk", Operator::And),
        TextQuery::Phrase {
            column: Some("body".into()),
            text: "arrow file".into(),
            slop: 1,
            boost: 1.0,
        },
        // Few expansions: which ones win depends on document frequencies over every row.
        TextQuery::Match {
            column: Some("body".into()),
            text: "rast memry".into(),
            operator: Operator::Or,
            fuzziness: 2,
            prefix_length: 0,
            max_expansions: 1,
            boost: 1.0,
        },
        TextQuery::Boolean {
            must: vec![m(Some("title"), "table", Operator::Or)],
            should: vec![m(Some("body"), "version", Operator::Or)],
            must_not: vec![m(Some("body"), "python", Operator::Or)],
        },
    ]
}

fn same(a: &[(i64, f32)], b: &[(i64, f32)], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: {a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        // Ties may order either way only if scores are equal.
        assert!(
            (x.1 - y.1).abs() <= 1e-4 * y.1.abs().max(1.0),
            "{what}: {a:?} vs {b:?}"
        );
    }
    let ids = |v: &[(i64, f32)]| {
        let mut i: Vec<i64> = v.iter().map(|x| x.0).collect();
        i.sort();
        i
    };
    // Equal score lists; the same rows up to ties at the cut.
    let cut = b.last().map_or(0.0, |x| x.1);
    let above = |v: &[(i64, f32)]| {
        ids(&v
            .iter()
            .copied()
            .filter(|x| x.1 > cut + 1e-4)
            .collect::<Vec<_>>())
    };
    assert_eq!(above(a), above(b), "{what}");
}

#[test]
fn tail_rows_score_as_if_indexed_and_optimize_folds_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::connect(dir.path().to_str().unwrap()).unwrap();
    let c = CancelToken::new();
    let t = db
        .create_table(
            "docs",
            None,
            Some(&mut vec![Ok(batch(0, 600))].into_iter()),
            CreateMode::Create,
            false,
            &c,
        )
        .unwrap();
    let p = Progress::default();
    let meta = t.create_fts_index(&request(false), &p, &c).unwrap();
    assert_eq!(meta.name, "title_body_idx");
    assert_eq!(meta.index_type, "FTS");
    // Rows added since the build are searched at once.
    t.add(
        &mut vec![Ok(batch(600, 300)), Ok(batch(900, 50))].into_iter(),
        &c,
    )
    .unwrap();
    let with_tail: Vec<_> = queries().iter().map(|q| search(&t, q, 20, None)).collect();
    assert!(with_tail.iter().any(|r| r.iter().any(|x| x.0 >= 600)));
    // A fresh build over every row gives the same scores.
    t.create_fts_index(&request(true), &p, &c).unwrap();
    for (q, want) in queries().iter().zip(&with_tail) {
        same(&search(&t, q, 20, None), want, &format!("{q:?}"));
    }
    // Fold: add more, optimize, and compare with a fresh build again.
    t.add(&mut vec![Ok(batch(950, 100))].into_iter(), &c)
        .unwrap();
    let before: Vec<_> = queries().iter().map(|q| search(&t, q, 20, None)).collect();
    let stats = t.optimize(&p, &c).unwrap();
    assert_eq!(stats.rows_indexed, 100);
    assert!(t.index_stats("title_body_idx").unwrap()["num_unindexed_rows"] == 0);
    for (q, want) in queries().iter().zip(&before) {
        same(
            &search(&t, q, 20, None),
            want,
            &format!("after optimize {q:?}"),
        );
    }
    // Filters: every hit matches, and equals the unfiltered hits that match.
    for q in queries() {
        let all = search(&t, &q, 2000, None);
        let even: Vec<_> = all.iter().copied().filter(|x| x.0 % 2 == 0).collect();
        let got = search(&t, &q, 2000, Some("id % 2 = 0"));
        same(&got, &even, &format!("filtered {q:?}"));
    }
}

#[test]
fn deleted_rows_never_come_back_and_compaction_remaps() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::connect(dir.path().to_str().unwrap()).unwrap();
    let c = CancelToken::new();
    let t = db
        .create_table(
            "docs",
            None,
            Some(&mut vec![Ok(batch(0, 300))].into_iter()),
            CreateMode::Create,
            false,
            &c,
        )
        .unwrap();
    let p = Progress::default();
    t.create_fts_index(&request(false), &p, &c).unwrap();
    for i in 1..5 {
        t.add(&mut vec![Ok(batch(300 * i, 300))].into_iter(), &c)
            .unwrap();
    }
    // Delete from the indexed part and from the tail.
    t.delete(&Where::new("id % 3 = 0 OR id BETWEEN 650 AND 700", []), &c)
        .unwrap();
    let check = |t: &Table, what: &str| {
        for q in queries() {
            let hits = search(t, &q, 5000, None);
            assert!(!hits.is_empty(), "{what} {q:?}");
            for (id, s) in &hits {
                assert!(
                    id % 3 != 0 && !(650..=700).contains(id),
                    "{what}: deleted row {id}"
                );
                assert!(s.is_finite() && *s > 0.0);
            }
            assert!(
                hits.windows(2).all(|w| w[0].1 >= w[1].1),
                "{what}: not sorted"
            );
        }
    };
    check(&t, "deleted");
    let before: Vec<_> = queries()
        .iter()
        .map(|q| search(&t, q, 5000, None))
        .collect();
    // Optimize folds the tail and compacts the small fragments (rows move).
    let stats = t.optimize(&p, &c).unwrap();
    assert!(stats.fragments_removed >= 2, "{stats:?}");
    check(&t, "compacted");
    for (q, want) in queries().iter().zip(&before) {
        // Which fuzzy expansions win depends on document frequencies, which dropping the
        // deleted rows changed.
        if matches!(q, TextQuery::Match { fuzziness, .. } if *fuzziness > 0) {
            continue;
        }
        let got = search(&t, q, 5000, None);
        let ids = |v: &[(i64, f32)]| {
            let mut i: Vec<i64> = v.iter().map(|x| x.0).collect();
            i.sort();
            i
        };
        assert_eq!(
            ids(&got),
            ids(want),
            "compaction changed the matches of {q:?}"
        );
    }
    // Deleted rows left the index's statistics: scores are a fresh build's.
    let stats = t.index_stats("title_body_idx").unwrap();
    assert_eq!(stats["num_nodes"], t.count_rows(None, &c).unwrap());
    let optimized: Vec<_> = queries()
        .iter()
        .map(|q| search(&t, q, 5000, None))
        .collect();
    // Deleting inside a large fragment (no compaction) is purged by optimize too.
    t.delete(&Where::new("id < 40", []), &c).unwrap();
    let stats = t.optimize(&p, &c).unwrap();
    assert_eq!(stats.rows_indexed, 0);
    let purged: Vec<_> = queries()
        .iter()
        .map(|q| search(&t, q, 5000, None))
        .collect();
    t.create_fts_index(&request(true), &p, &c).unwrap();
    for (q, want) in queries().iter().zip(&purged) {
        same(&search(&t, q, 5000, None), want, &format!("purged {q:?}"));
    }
    assert!(optimized.iter().zip(&purged).any(|(a, b)| a != b));
    // Older versions still search their own rows; verify finds no problem.
    assert!(t.verify(true, &c).unwrap().problems.is_empty());
    // Pagination: offset pages through the same ranking.
    let q = &queries()[1];
    let all = search(&t, q, 30, None);
    let page = {
        let s = TextSearch {
            query: q.clone(),
            k: 10,
            offset: 10,
            filter: None,
            columns: Some(vec!["id".into()]),
            with_row_id: false,
            params: Default::default(),
        };
        let (b, _) = t.search_text(&s, &c).unwrap();
        b.column(0).as_primitive::<Int64Type>().values().to_vec()
    };
    assert_eq!(page, all[10..20].iter().map(|x| x.0).collect::<Vec<_>>());
    let _ = Float32Array::from(vec![0.0f32]);
}

#[test]
fn bad_requests_are_refused_and_a_damaged_index_is_searched_around() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::connect(dir.path().to_str().unwrap()).unwrap();
    let c = CancelToken::new();
    let t = db
        .create_table(
            "docs",
            None,
            Some(&mut vec![Ok(batch(0, 200))].into_iter()),
            CreateMode::Create,
            false,
            &c,
        )
        .unwrap();
    let p = Progress::default();
    let q = queries()[0].clone();
    // No index yet.
    let s = |q: &TextQuery| TextSearch {
        query: q.clone(),
        k: 10,
        offset: 0,
        filter: None,
        columns: None,
        with_row_id: true,
        params: Default::default(),
    };
    let e = t.search_text(&s(&q), &c).unwrap_err().to_string();
    assert!(e.contains("create_fts_index"), "{e}");
    // Not a string column; unknown column; bad language.
    let mut r = request(false);
    r.columns = vec!["id".into()];
    assert!(t
        .create_fts_index(&r, &p, &c)
        .unwrap_err()
        .to_string()
        .contains("string column"));
    r.columns = vec!["nope".into()];
    assert!(t.create_fts_index(&r, &p, &c).is_err());
    let mut r = request(false);
    r.analyzer.language = "klingon".into();
    assert!(t.create_fts_index(&r, &p, &c).is_err());
    assert_eq!(t.version(), 1, "refused builds commit nothing");
    let meta = t.create_fts_index(&request(false), &p, &c).unwrap();
    // A second index over an indexed column; rebuilding without replace.
    let mut r = request(false);
    r.columns = vec!["body".into()];
    assert!(t
        .create_fts_index(&r, &p, &c)
        .unwrap_err()
        .to_string()
        .contains("already in"));
    assert!(t.create_fts_index(&request(false), &p, &c).is_err());
    // A column the index does not cover.
    let other = TextQuery::Match {
        column: Some("id".into()),
        text: "x".into(),
        operator: Operator::Or,
        fuzziness: 0,
        prefix_length: 0,
        max_expansions: 50,
        boost: 1.0,
    };
    assert!(t.search_text(&s(&other), &c).is_err());
    // Bad BM25 knobs and limits.
    let mut bad = s(&q);
    bad.params.b = 2.0;
    assert!(t.search_text(&bad, &c).is_err());
    let mut bad = s(&q);
    bad.k = 0;
    assert!(t.search_text(&bad, &c).is_err());
    // Damage the index file: the search still answers (every row analysed), with a warning.
    let want = t.search_text(&s(&q), &c).unwrap().0;
    let path = dir
        .path()
        .join("docs.oxvec")
        .join("indices")
        .join(&meta.file);
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let fresh = db.open_table("docs").unwrap();
    let (got, warnings) = fresh.search_text(&s(&q), &c).unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("cannot be read"), "{warnings:?}");
    assert_eq!(got.column(0), want.column(0));
    assert!(!fresh.verify(true, &c).unwrap().problems.is_empty());
}
