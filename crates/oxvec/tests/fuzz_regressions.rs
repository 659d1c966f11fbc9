//! T7 on stable Rust: every committed fuzz corpus entry and every kept crash input
//! (`fuzz/corpus/<target>/`, `fuzz/regressions/<target>/`) runs through the fuzz target's
//! body; none may panic. The fuzzers themselves run in `make fuzz-smoke` (cargo-fuzz).

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Once;

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut out = Vec::new();
    for dir in ["corpus", "regressions"] {
        if let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) {
            out.extend(
                entries
                    .map(|e| e.unwrap().path())
                    .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.')),
            );
        }
    }
    out.sort();
    out
}

// Any panic, even one a loader catches and turns into an error, fails the replay: under
// libFuzzer a panic aborts, so the corpus must not raise any.
thread_local! {
    static PANICS: Cell<usize> = const { Cell::new(0) };
}

fn replay(target: &str, body: impl Fn(&[u8])) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.with(|p| p.set(p.get() + 1));
            default(info);
        }));
    });
    let files = inputs(target);
    assert!(!files.is_empty(), "no corpus for fuzz target {target}");
    for f in files {
        let data = std::fs::read(&f).unwrap();
        body(&data);
        // Every truncation of a seed too: cheap, and where loaders most often go wrong.
        for cut in (0..data.len()).step_by(97) {
            body(&data[..cut]);
        }
    }
    assert_eq!(PANICS.with(Cell::get), 0, "{target}: an input panicked");
}

#[test]
fn filter_inputs() {
    replay("filter", oxvec::fuzzing::filter);
}

#[test]
fn manifest_inputs() {
    replay("manifest", oxvec::fuzzing::manifest);
}

#[test]
fn fragment_inputs() {
    let dir = tempfile::tempdir().unwrap();
    replay("fragment", |d| {
        let _ = oxvec::fuzzing::fragment(d, dir.path());
    });
}

#[test]
fn index_inputs() {
    let dir = tempfile::tempdir().unwrap();
    replay("index", |d| {
        let _ = oxvec::fuzzing::index(d, dir.path());
    });
}

#[test]
fn text_index_inputs() {
    let dir = tempfile::tempdir().unwrap();
    replay("text_index", |d| {
        let _ = oxvec::fuzzing::text_index(d, dir.path());
    });
    // The seeds themselves are valid files, so the fuzzer starts from inputs that open.
    for f in inputs("text_index") {
        if f.parent()
            .and_then(|p| p.parent())
            .is_some_and(|p| p.ends_with("corpus"))
        {
            let data = std::fs::read(&f).unwrap();
            let r = oxvec::fuzzing::text_index(&data, dir.path());
            assert!(r.is_ok(), "{f:?}: {r:?}");
        }
    }
}
