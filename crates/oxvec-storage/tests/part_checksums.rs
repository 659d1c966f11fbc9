//! Part checksums: a fragment's metadata is checked when it is opened, each column when a
//! read first asks for it; a file written without them is checked whole when opened.

use arrow::array::{ArrayRef, FixedSizeListArray, Float32Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use oxvec_core::Error;
use oxvec_storage::{open_fragment, open_fragment_mapped, FragmentMeta, FragmentWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The bytes of every vector value: easy to find in the file.
const MARK: f32 = 1234.5;

fn write(dir: &Path) -> (FragmentMeta, PathBuf) {
    let item = Arc::new(Field::new("item", DataType::Float32, true));
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("vector", DataType::FixedSizeList(item.clone(), 8), false),
    ]));
    let mut w = FragmentWriter::create(dir, &schema).unwrap();
    for start in [0i64, 100] {
        let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(start..start + 100));
        let values = Arc::new(Float32Array::from(vec![MARK; 800]));
        let vectors: ArrayRef = Arc::new(FixedSizeListArray::new(item.clone(), 8, values, None));
        w.write(&RecordBatch::try_new(schema.clone(), vec![ids, vectors]).unwrap())
            .unwrap();
    }
    let meta = w.finish().unwrap();
    let path = dir.join(&meta.file);
    (meta, path)
}

fn flip(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] ^= 0x10;
    std::fs::write(path, bytes).unwrap();
}

fn vector_byte(path: &Path) -> usize {
    let bytes = std::fs::read(path).unwrap();
    let mark = MARK.to_le_bytes();
    bytes.windows(4).position(|w| w == mark).unwrap() + 400
}

#[test]
fn a_damaged_column_fails_only_the_reads_of_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (meta, path) = write(tmp.path());
    assert_eq!(meta.parts.as_ref().map(|p| p.columns.len()), Some(2));
    flip(&path, vector_byte(&path));
    let f = open_fragment_mapped(&path, &meta).expect("the metadata is intact");
    f.checks.verify("id").expect("the ids are intact");
    let err = f.checks.verify("vector").unwrap_err();
    assert!(
        matches!(&err, Error::CorruptFile { message, .. } if message.contains("column 'vector'")),
        "{err}"
    );
    // The answer is kept: asking again fails again, without reading again.
    assert!(f.checks.verify("vector").is_err());
    assert!(matches!(
        open_fragment(&path, &meta),
        Err(Error::CorruptFile { .. })
    ));
}

#[test]
fn damaged_metadata_fails_the_open() {
    let tmp = tempfile::tempdir().unwrap();
    let (meta, path) = write(tmp.path());
    let len = std::fs::metadata(&path).unwrap().len() as usize;
    // Inside the footer, and inside the first message header.
    for at in [len - 30, 12] {
        let copy = tmp.path().join(format!("copy{at}.arrow"));
        std::fs::copy(&path, &copy).unwrap();
        flip(&copy, at);
        let err = open_fragment_mapped(&copy, &meta).unwrap_err();
        assert!(matches!(err, Error::CorruptFile { .. }), "byte {at}: {err}");
    }
}

#[test]
fn a_file_without_part_checksums_is_checked_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut meta, path) = write(tmp.path());
    meta.parts = None;
    open_fragment_mapped(&path, &meta).expect("intact");
    flip(&path, vector_byte(&path));
    let err = open_fragment_mapped(&path, &meta).unwrap_err();
    assert!(
        matches!(&err, Error::CorruptFile { message, .. } if message.contains("checksum mismatch")),
        "{err}"
    );
}

#[test]
fn the_checksums_cover_every_byte_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (meta, path) = write(tmp.path());
    let parts = meta.parts.clone().unwrap();
    // Any byte flipped anywhere is caught by exactly the metadata or one column's check.
    let len = std::fs::metadata(&path).unwrap().len() as usize;
    for at in (0..len).step_by(37) {
        let copy = tmp.path().join("c.arrow");
        std::fs::copy(&path, &copy).unwrap();
        flip(&copy, at);
        let caught = match open_fragment_mapped(&copy, &meta) {
            Err(Error::CorruptFile { .. }) => true,
            Err(e) => panic!("byte {at}: {e}"),
            Ok(f) => ["id", "vector"].iter().any(|c| f.checks.verify(c).is_err()),
        };
        assert!(caught, "byte {at} of {len} changed unnoticed ({parts:?})");
    }
}
