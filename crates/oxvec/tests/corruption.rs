//! T6: every kind of file (manifest, fragment, deletion vector, index, tag) is damaged in
//! every way a disk or a careless hand can: random bit flips, truncation at every 4 KiB (and
//! at small offsets), a zeroed tail, an empty file, another file of the same kind in its
//! place. Every read then either returns exactly what it returned before or fails with
//! `CorruptFile` / `Storage`; a deep verify always reports the damage; nothing panics.

mod common;

use common::{batch, create_with, digest, hnsw, Rng};
use oxvec::{
    CancelToken, Database, Error, Progress, Result, SearchKnobs, TableOptions, VectorQuery, Where,
};
use std::path::{Path, PathBuf};

/// What the reads return, hashed.
/// What a reader sees, hashed. With `exact`, the search bypasses the index: a search whose
/// index cannot be read falls back to exactly that answer.
fn observe(root: &Path, exact: bool) -> Result<u64> {
    use std::hash::{Hash, Hasher};
    let text = observe_text(root, exact)?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    Ok(h.finish())
}

fn observe_text(root: &Path, exact: bool) -> Result<String> {
    let c = CancelToken::new();
    let t = Database::connect(root.to_str().unwrap())?.open_table("t")?;
    let mut out = String::new();
    for v in t.list_versions()? {
        t.checkout(v.version)?;
        out += &format!("v{}:{};", v.version, digest_checked(&t)?);
    }
    t.checkout_latest()?;
    let q = VectorQuery {
        column: None,
        vectors: vec![0.3, 0.6, 0.1, 0.9],
        num_queries: 1,
        metric: None,
        k: 5,
        filter: None,
        columns: Some(vec!["id".into()]),
        with_row_id: false,
        with_query_index: false,
        knobs: SearchKnobs::default(),
        bypass_index: exact,
    };
    let hits = t.search(&q, &c)?;
    out += &format!("{:?};", hits.column(0));
    for (name, tag) in t.list_tags()? {
        t.checkout_tag(&name)?;
        out += &format!("{name}={}:{};", tag.version, digest_checked(&t)?);
    }
    Ok(out)
}

/// `digest`, but a corrupt fragment is an error rather than a panic of the helper. A scan
/// of one column comes first: it checks only that column's bytes, and must still never
/// return what the file does not hold.
fn digest_checked(t: &oxvec::Table) -> Result<String> {
    let ids = oxvec::ScanRequest {
        columns: Some(vec!["id".into()]),
        filter: Some(Where::new("id % 7 = 1", [])),
        ..Default::default()
    };
    let (_, some) = t.scan(&ids, &CancelToken::new())?;
    t.count_rows(None, &CancelToken::new())?;
    t.scan(&oxvec::ScanRequest::default(), &CancelToken::new())?;
    Ok(format!("{some:?}|{}", digest(t)))
}

fn build(root: &Path) {
    let c = CancelToken::new();
    // Deletion vectors as files, so that damage reaches them too (one kept inline is part of
    // its manifest, whose damage the manifests' cases cover).
    let files = TableOptions {
        inline_deletions: false,
        ..TableOptions::default()
    };
    let t = create_with(root, &(0..300).collect::<Vec<_>>(), files);
    t.create_index(&hnsw(), &Progress::default(), &c).unwrap();
    t.add(&mut std::iter::once(Ok(batch(&[1000, 1001, 1002], 1))), &c)
        .unwrap();
    t.delete(&Where::new("id % 10 = 3", []), &c).unwrap();
    t.create_tag("first", Some(1)).unwrap();
    t.create_tag("second", Some(3)).unwrap();
}

fn files_of(root: &Path, sub: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root.join("t.oxvec").join(sub))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// A described way to damage a file's bytes.
type Damage = (String, Box<dyn Fn(&mut Vec<u8>)>);

fn damages(len: usize, rng: &mut Rng) -> Vec<Damage> {
    let mut out: Vec<Damage> = Vec::new();
    for _ in 0..12 {
        let at = rng.below(len as u64) as usize;
        let bit = rng.below(8) as u8;
        out.push((
            format!("flip bit {bit} of byte {at}"),
            Box::new(move |b: &mut Vec<u8>| b[at] ^= 1 << bit),
        ));
    }
    let mut cuts: Vec<usize> = (0..len).step_by(4096).collect();
    cuts.extend([
        1,
        7,
        8,
        12,
        len / 2,
        len.saturating_sub(4),
        len.saturating_sub(1),
    ]);
    cuts.sort_unstable();
    cuts.dedup();
    for cut in cuts.into_iter().filter(|&c| c < len) {
        out.push((
            format!("truncate to {cut}"),
            Box::new(move |b: &mut Vec<u8>| b.truncate(cut)),
        ));
    }
    let half = len / 2;
    out.push((
        "zero the second half".into(),
        Box::new(move |b: &mut Vec<u8>| b[half..].fill(0)),
    ));
    out.push(("empty".into(), Box::new(|b: &mut Vec<u8>| b.clear())));
    out
}

#[test]
fn damaged_files_are_detected_never_misread() {
    let tmp = tempfile::tempdir().unwrap();
    let pristine = tmp.path().join("pristine");
    build(&pristine);
    let expected = observe(&pristine, false).unwrap();
    let expected_exact = observe(&pristine, true).unwrap();
    let mut rng = Rng::new(7);
    let mut cases = 0;
    for kind in ["versions", "data", "deletions", "indices", "tags"] {
        let files = files_of(&pristine, kind);
        assert!(!files.is_empty(), "no {kind} files");
        for (i, file) in files.iter().enumerate() {
            let original = std::fs::read(file).unwrap();
            let mut cases_here = damages(original.len(), &mut rng);
            if files.len() > 1 {
                let other = std::fs::read(&files[(i + 1) % files.len()]).unwrap();
                cases_here.push((
                    "replaced by another file of its kind".into(),
                    Box::new(move |b: &mut Vec<u8>| *b = other.clone()),
                ));
            }
            for (what, damage) in cases_here {
                let work = tmp.path().join(format!("case{cases}"));
                copy_dir(&pristine, &work);
                let target = work.join(file.strip_prefix(&pristine).unwrap());
                let mut bytes = original.clone();
                damage(&mut bytes);
                if bytes == original {
                    continue;
                }
                std::fs::write(&target, &bytes).unwrap();
                let label = format!("{} ({kind}): {what}", file.display());
                match observe(&work, false) {
                    // An unreadable index degrades the indexed search to the exact answer.
                    Ok(seen) if kind == "indices" && seen == expected_exact => {}
                    Ok(seen) => assert_eq!(seen, expected, "{label}: misread"),
                    Err(Error::CorruptFile { .. } | Error::Storage { .. }) => {}
                    // A damaged manifest or tag can make its version or tag unusable.
                    Err(Error::InvalidInput { .. }) if kind == "versions" || kind == "tags" => {}
                    Err(e) => panic!("{label}: unexpected error {e:?}"),
                }
                let report = Database::connect(work.to_str().unwrap())
                    .and_then(|db| db.open_table("t"))
                    .and_then(|t| t.verify(true, &CancelToken::new()));
                match report {
                    Ok(r) => assert!(!r.problems.is_empty(), "{label}: verify saw nothing"),
                    Err(Error::CorruptFile { .. } | Error::Storage { .. }) => {}
                    Err(e) => panic!("{label}: verify failed with {e:?}"),
                }
                std::fs::remove_dir_all(&work).unwrap();
                cases += 1;
            }
        }
    }
    eprintln!("{cases} damaged files, 0 misreads");
    assert!(cases > 100);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}
