//! T2: simulated crashes with torn writes.
//!
//! A workload (appends, delete, update, upsert, index build, compaction, tag, cleanup) runs
//! with the storage journal on (`oxvec_storage::io`). Then, for every prefix of the journal
//! and several fault models, the directory a crash at that point could leave is rebuilt:
//! everything the process did (kill -9), only what was fsynced (power cut), or fsynced state
//! plus unsynced writes torn, zero-filled or applied out of order, with directory entries
//! not yet covered by a directory fsync kept or lost at random. Each rebuilt table must open,
//! pass a deep verify, and hold every acknowledged version exactly.
//!
//! `OXVEC_T2_ROUNDS` (default 7) sets how many randomised rounds run per crash point.

mod common;

use common::{batch, digest, hnsw, upsert, Rng};
use oxvec::{Assignment, CancelToken, CreateMode, Database, Progress, Table, Where};
use oxvec_storage::io::{self, Op};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn ack(t: &Table) {
    io::mark(format!("ack {} {}", t.version(), digest(t)));
}

/// Runs the workload under the journal; returns the journal.
/// Order 0 runs the steps as listed, order 3 too with deletion vectors written as files (the
/// others keep small ones in the manifest); orders 1 and 2 pick steps at random.
fn workload(root: &Path, order: u64) -> Vec<Op> {
    let c = CancelToken::new();
    let options = oxvec::TableOptions {
        inline_deletions: order != 3,
        ..oxvec::TableOptions::default()
    };
    let db = Database::connect_with(root.to_str().unwrap(), options).unwrap();
    io::start_journal();
    // Files synced in the background are synced late: a commit that published before they
    // were durable would show in the journal, not hide behind fast threads.
    io::set_background_sync_delay(Duration::from_millis(20));
    let t = db
        .create_table(
            "t",
            None,
            Some(&mut std::iter::once(Ok(batch(&[0, 1, 2, 3, 4, 5], 0)))),
            CreateMode::Create,
            false,
            &c,
        )
        .unwrap();
    ack(&t);
    let mut next = 6i64;
    let mut rng = Rng::new(order);
    let steps = [
        "add", "delete", "update", "upsert", "index", "add", "optimize", "tag", "cleanup", "add",
    ];
    for k in 0..steps.len() {
        let step = if order == 0 || order == 3 {
            steps[k]
        } else {
            steps[rng.below(steps.len() as u64) as usize]
        };
        match step {
            "add" => {
                let ids: Vec<i64> = (next..next + 5).collect();
                next += 5;
                t.add(&mut std::iter::once(Ok(batch(&ids, 1))), &c).unwrap();
            }
            "delete" => {
                let f = Where::new("id % 4 = 1", []);
                t.delete(&f, &c).unwrap();
            }
            "update" => {
                let f = Where::new("id % 3 = 0", []);
                t.update(
                    Some(&f),
                    &[("val".into(), Assignment::Sql("val + 10".into()))],
                    &c,
                )
                .unwrap();
            }
            "upsert" => {
                let m = upsert();
                let src = batch(&[2, 3, next], 5);
                next += 1;
                t.merge_insert(&m, &mut std::iter::once(Ok(src)), &c)
                    .unwrap();
            }
            "index" => {
                t.create_index(&hnsw(), &Progress::default(), &c).unwrap();
            }
            "optimize" => {
                t.optimize(&Progress::default(), &c).unwrap();
            }
            "tag" => {
                t.create_tag(&format!("tag{k}"), None).unwrap();
            }
            "cleanup" => {
                io::mark("cleanup");
                t.cleanup_old_versions(Duration::ZERO, true).unwrap();
            }
            _ => unreachable!(),
        }
        ack(&t);
    }
    io::set_background_sync_delay(Duration::ZERO);
    io::take_journal()
}

/// A file system as the journal left it: entries per directory and file contents, both as
/// the process saw them and as last made durable.
#[derive(Clone, Default)]
struct Model {
    /// dir -> name -> inode (current view).
    entries: BTreeMap<PathBuf, BTreeMap<String, usize>>,
    /// dir -> name -> inode, as of the dir's last fsync.
    durable_entries: BTreeMap<PathBuf, BTreeMap<String, usize>>,
    inodes: Vec<Inode>,
}

#[derive(Clone, Default)]
struct Inode {
    dir: bool,
    current: Vec<u8>,
    durable: Vec<u8>,
    pending: Vec<(u64, Vec<u8>)>,
}

fn split(p: &Path) -> (PathBuf, String) {
    (
        p.parent().unwrap().to_path_buf(),
        p.file_name().unwrap().to_string_lossy().into_owned(),
    )
}

fn write_at(buf: &mut Vec<u8>, offset: u64, data: &[u8]) {
    let end = offset as usize + data.len();
    if buf.len() < end {
        buf.resize(end, 0);
    }
    buf[offset as usize..end].copy_from_slice(data);
}

impl Model {
    fn lookup(&self, p: &Path) -> Option<usize> {
        let (d, n) = split(p);
        self.entries.get(&d).and_then(|e| e.get(&n)).copied()
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::CreateDir(p) => {
                // create_dir_all: every missing level.
                let mut missing = vec![];
                let mut cur = p.clone();
                while self.lookup(&cur).is_none()
                    && self.entries.contains_key(cur.parent().unwrap())
                {
                    missing.push(cur.clone());
                    cur = cur.parent().unwrap().to_path_buf();
                }
                for d in missing.into_iter().rev() {
                    let id = self.inodes.len();
                    self.inodes.push(Inode {
                        dir: true,
                        ..Default::default()
                    });
                    let (parent, name) = split(&d);
                    self.entries.entry(parent).or_default().insert(name, id);
                    self.entries.entry(d.clone()).or_default();
                    self.durable_entries.entry(d).or_default();
                }
            }
            Op::Create(p) => {
                let id = self.inodes.len();
                self.inodes.push(Inode::default());
                let (d, n) = split(p);
                self.entries.entry(d).or_default().insert(n, id);
            }
            Op::Write { path, offset, data } => {
                let id = self.lookup(path).expect("write to a journaled file");
                let ino = &mut self.inodes[id];
                write_at(&mut ino.current, *offset, data);
                ino.pending.push((*offset, data.clone()));
            }
            Op::SyncFile(p) => {
                let id = self.lookup(p).expect("sync of a journaled file");
                let ino = &mut self.inodes[id];
                ino.durable = ino.current.clone();
                ino.pending.clear();
            }
            Op::SyncDir(d) => {
                let now = self.entries.get(d).cloned().unwrap_or_default();
                self.durable_entries.insert(d.clone(), now);
            }
            Op::Link { from, to } => {
                let id = self.lookup(from).expect("link of a journaled file");
                let (d, n) = split(to);
                self.entries.entry(d).or_default().insert(n, id);
            }
            Op::Remove(p) => {
                let (d, n) = split(p);
                if let Some(e) = self.entries.get_mut(&d) {
                    e.remove(&n);
                }
            }
            Op::Mark(_) => {}
        }
    }

    /// Writes the state a crash would leave under `mode` into `out` (re-rooted from `root`).
    fn materialize(&self, root: &Path, out: &Path, mode: &str, rng: &mut Rng) {
        let mut contents: HashMap<usize, Vec<u8>> = HashMap::new();
        for (id, ino) in self.inodes.iter().enumerate() {
            if ino.dir {
                continue;
            }
            let data = match mode {
                "kill" => ino.current.clone(),
                "power" => ino.durable.clone(),
                "torn" => {
                    let mut d = ino.durable.clone();
                    let keep = rng.below(ino.pending.len() as u64 + 1) as usize;
                    for (i, (off, w)) in ino.pending.iter().enumerate().take(keep + 1) {
                        let part = if i == keep {
                            &w[..rng.below(w.len() as u64 + 1) as usize]
                        } else {
                            &w[..]
                        };
                        write_at(&mut d, *off, part);
                    }
                    d
                }
                "zero" => {
                    let mut d = ino.durable.clone();
                    for (off, w) in &ino.pending {
                        write_at(&mut d, *off, &vec![0u8; w.len()]);
                    }
                    d
                }
                "reorder" => {
                    let mut d = ino.durable.clone();
                    for (off, w) in &ino.pending {
                        if rng.coin() {
                            write_at(&mut d, *off, w);
                        }
                    }
                    d
                }
                _ => unreachable!(),
            };
            contents.insert(id, data);
        }
        // Directory entries: the current view for a process kill; otherwise the durable
        // view, plus (for the randomised models) each not-yet-durable change kept or lost.
        let mut dirs: BTreeMap<PathBuf, BTreeMap<String, usize>> = BTreeMap::new();
        for (d, cur) in &self.entries {
            let dur = self.durable_entries.get(d).cloned().unwrap_or_default();
            let view = match mode {
                "kill" => cur.clone(),
                "power" => dur,
                _ => {
                    let names: BTreeSet<&String> = cur.keys().chain(dur.keys()).collect();
                    let mut v = BTreeMap::new();
                    for n in names {
                        let pick = if cur.get(n) == dur.get(n) || rng.coin() {
                            cur.get(n)
                        } else {
                            dur.get(n)
                        };
                        if let Some(&id) = pick {
                            v.insert(n.clone(), id);
                        }
                    }
                    v
                }
            };
            dirs.insert(d.clone(), view);
        }
        // Create what is reachable from the root.
        let mut stack = vec![root.to_path_buf()];
        std::fs::create_dir_all(out).unwrap();
        while let Some(d) = stack.pop() {
            let target = out.join(d.strip_prefix(root).unwrap());
            std::fs::create_dir_all(&target).unwrap();
            for (name, &id) in dirs.get(&d).into_iter().flatten() {
                let p = d.join(name);
                if self.inodes[id].dir {
                    stack.push(p);
                } else {
                    std::fs::write(target.join(name), &contents[&id]).unwrap();
                }
            }
        }
    }
}

/// Checks a rebuilt table against the acknowledgements made before the crash point.
fn check(out: &Path, acks: &[(u64, String, bool)], what: &str) {
    let db = Database::connect(out.to_str().unwrap()).unwrap();
    let t = match db.open_table("t") {
        Ok(t) => t,
        Err(e) => {
            assert!(
                acks.is_empty(),
                "{what}: table lost after an acknowledged create: {e}"
            );
            return;
        }
    };
    let report = t.verify(true, &CancelToken::new()).unwrap();
    assert!(report.problems.is_empty(), "{what}: {:?}", report.problems);
    let versions = t.list_versions().unwrap();
    let have: BTreeSet<u64> = versions.iter().map(|v| v.version).collect();
    for (v, d, cleaned_since) in acks {
        if !have.contains(v) {
            assert!(*cleaned_since, "{what}: acknowledged version {v} is gone");
            continue;
        }
        t.checkout(*v).unwrap();
        assert_eq!(&digest(&t), d, "{what}: version {v} changed");
    }
    if let Some((last, _, _)) = acks.last() {
        assert!(
            have.last() >= Some(last),
            "{what}: newest version went back"
        );
    }
}

#[test]
fn simulated_crashes_never_lose_acknowledged_versions() {
    let rounds: u64 = std::env::var("OXVEC_T2_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let mut crashes = 0u64;
    for order in 0..4u64 {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("db");
        std::fs::create_dir_all(&root).unwrap();
        let journal = workload(&root, order);
        let table_root = root.canonicalize().unwrap();
        let mut model = Model::default();
        model.entries.insert(table_root.clone(), BTreeMap::new());
        model
            .durable_entries
            .insert(table_root.clone(), BTreeMap::new());
        let mut acks: Vec<(u64, String, bool)> = Vec::new();
        let mut rng = Rng::new(order + 1);
        for (k, op) in journal.iter().enumerate() {
            model.apply(op);
            match op {
                Op::Mark(m) if m == "cleanup" => acks.iter_mut().for_each(|a| a.2 = true),
                Op::Mark(m) => {
                    let (v, d) = m.strip_prefix("ack ").unwrap().split_once(' ').unwrap();
                    acks.push((v.parse().unwrap(), d.to_string(), false));
                }
                _ => {}
            }
            // A crash right after operation k.
            let mut modes = vec!["kill", "power"];
            for _ in 0..rounds {
                modes.extend(["torn", "zero", "reorder"]);
            }
            for mode in modes {
                let scratch = tempfile::tempdir().unwrap();
                let out = scratch.path().join("db");
                model.materialize(&table_root, &out, mode, &mut rng);
                check(
                    &out,
                    &acks,
                    &format!("order {order}, crash after op {k} ({op:?}), {mode}"),
                );
                crashes += 1;
            }
        }
    }
    eprintln!("{crashes} simulated crashes, 0 failures");
    assert!(
        crashes >= 10_000 || std::env::var("OXVEC_T2_ROUNDS").is_ok(),
        "only {crashes} crashes"
    );
}
