//! The bodies of the fuzz targets (`fuzz/`), here so that the regression test
//! (`tests/fuzz_regressions.rs`) runs every committed corpus and crash input through exactly
//! the code the fuzzer ran, on stable Rust and in the normal test command.
//!
//! Each body must return normally for any input: an `Err` is fine, a panic is a bug.

use arrow::array::{
    BooleanArray, Date32Array, FixedSizeListArray, Float32Array, Float64Array, Int64Array,
    RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use oxvec_core::Result;
use oxvec_query::{filter_mask, Filter, ScalarValue};
use oxvec_storage::{open_fragment, FragmentMeta, Manifest};
use std::path::Path;
use std::sync::Arc;

fn filter_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("price", DataType::Float64, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("ok", DataType::Boolean, true),
        Field::new("day", DataType::Date32, true),
        Field::new(
            "vec",
            DataType::FixedSizeList(Arc::new(Field::new("item", DataType::Float32, true)), 2),
            true,
        ),
    ]))
}

fn filter_batch() -> RecordBatch {
    let vec = FixedSizeListArray::try_new(
        Arc::new(Field::new("item", DataType::Float32, true)),
        2,
        Arc::new(Float32Array::from(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0])),
        None,
    )
    .expect("valid vectors");
    RecordBatch::try_new(
        filter_schema(),
        vec![
            Arc::new(Int64Array::from(vec![Some(1), None, Some(i64::MAX)])),
            Arc::new(Float64Array::from(vec![Some(0.5), Some(f64::NAN), None])),
            Arc::new(StringArray::from(vec![Some("a%b"), None, Some("ü")])),
            Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
            Arc::new(Date32Array::from(vec![Some(0), None, Some(20000)])),
            Arc::new(vec),
        ],
    )
    .expect("valid batch")
}

/// Filter text (UTF-8 or not) compiled against a schema of every column type, with two
/// bound parameters, then evaluated on three rows (nulls, NaN, extremes).
pub fn filter(data: &[u8]) {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    let params = [ScalarValue::Int64(7), ScalarValue::Utf8("x".into())];
    if let Ok(f) = Filter::compile(sql, &params, &filter_schema()) {
        let _ = filter_mask(&f.expr, &filter_batch());
    }
}

/// Manifest bytes with their trailing CRC32C made to match, so the fuzzer gets past the
/// checksum into the JSON and schema decoders.
pub fn manifest(data: &[u8]) {
    let mut bytes = data.to_vec();
    if bytes.len() >= 4 {
        let n = bytes.len() - 4;
        let crc = crc32c::crc32c(&bytes[..n]);
        bytes[n..].copy_from_slice(&crc.to_le_bytes());
    }
    if let Ok(m) = Manifest::decode(1, &bytes, Path::new("fuzz.manifest")) {
        let _ = m.live_rows();
        let _ = m.encode();
        for d in m.body.fragments.iter().filter_map(|f| f.deletion.as_ref()) {
            if let Some(bytes) = &d.inline {
                // The fuzzer cannot forge a checksum inside the JSON; fix it so that the
                // bitmap decoder is what gets fuzzed.
                let d = oxvec_storage::DeletionMeta {
                    file_size: bytes.len() as u64,
                    crc32c: crc32c::crc32c(bytes),
                    ..d.clone()
                };
                let _ = oxvec_storage::read_deletions(Path::new("fuzz.manifest"), &d);
            }
        }
    }
}

/// Fragment bytes, written to a file whose manifest record matches them (size and CRC32C),
/// then decoded and every column read.
pub fn fragment(data: &[u8], scratch: &Path) -> Result<()> {
    let path = scratch.join("fuzz.arrow");
    std::fs::write(&path, data).map_err(|e| oxvec_core::Error::storage(&path, e))?;
    let meta = FragmentMeta {
        id: 0,
        file: "fuzz.arrow".into(),
        num_rows: 0,
        file_size: data.len() as u64,
        crc32c: crc32c::crc32c(data),
        deletion: None,
        columns: Default::default(),
        parts: None,
    };
    let (_, batches) = open_fragment(&path, &meta)?;
    for b in &batches {
        for c in b.columns() {
            // Rendering touches every value's bytes (offsets, nulls, children).
            if let Ok(f) = arrow::util::display::ArrayFormatter::try_new(c, &Default::default()) {
                let mut text = String::new();
                for i in 0..c.len().min(64) {
                    text += &f.value(i).to_string();
                }
                std::hint::black_box(text);
            }
        }
    }
    Ok(())
}

/// Index bytes with the header checksum made to match, opened, fully verified and searched.
pub fn index(data: &[u8], scratch: &Path) -> Result<()> {
    let path = scratch.join("fuzz.idx");
    std::fs::write(&path, data).map_err(|e| oxvec_core::Error::storage(&path, e))?;
    let index = oxvec_index::open(&path, data.len() as u64, header_crc(data))?;
    let _ = index.verify_all();
    let _ = index.row_ids();
    let q = vec![0.5f32; index.dim().min(4096)];
    let _ = index.search_knobs(&q, 10, &Default::default(), None, None);
    Ok(())
}

/// Full-text index bytes with the header checksum made to match, opened (every section
/// checked) and searched with each kind of query.
pub fn text_index(data: &[u8], scratch: &Path) -> Result<()> {
    use oxvec_index::text::{Bm25Params, Operator, TextIndex, TextQuery};
    let path = scratch.join("fuzz-fts.idx");
    std::fs::write(&path, data).map_err(|e| oxvec_core::Error::storage(&path, e))?;
    let index = TextIndex::open(&path, data.len() as u64, header_crc(data))?;
    let _ = index.row_ids();
    let p = Bm25Params::default();
    let column = index.header().columns.first().cloned();
    let queries = [
        TextQuery::text("search the index"),
        TextQuery::Match {
            column: column.clone(),
            text: "serch vectr".into(),
            operator: Operator::And,
            fuzziness: 2,
            prefix_length: 1,
            max_expansions: 50,
            boost: 1.0,
        },
        TextQuery::Phrase {
            column,
            text: "nearest neighbour".into(),
            slop: 1,
            boost: 1.0,
        },
    ];
    for q in &queries {
        let _ = index.search(q, 10, &p, None);
    }
    Ok(())
}

/// The CRC32C of an index file's header, as the manifest would record it (0 if the
/// length field does not fit the data).
fn header_crc(data: &[u8]) -> u32 {
    (data.len() >= 12)
        .then(|| u32::from_le_bytes([data[8], data[9], data[10], data[11]]) as usize)
        .filter(|&h| 12 + h <= data.len())
        .map(|h| crc32c::crc32c(&data[..12 + h]))
        .unwrap_or(0)
}
