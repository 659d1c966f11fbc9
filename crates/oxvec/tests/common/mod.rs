//! Shared by the reliability suites (T2 torn writes, T3 I/O faults, T6 corruption): a small
//! table whose content is summed up by `digest`, and a seeded generator.

#![allow(dead_code)]

use arrow::array::{AsArray, FixedSizeListArray, Float32Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use oxvec::{
    BuildOptions, CancelToken, CreateMode, Database, IndexRequest, MergeInsert, Metric,
    ScanRequest, Table,
};
use oxvec_linalg::rng::SplitMix64;
use std::path::Path;
use std::sync::Arc;

pub const DIM: usize = 4;

/// The seeded generator of the suites (oxvec-linalg's SplitMix64, with a coin).
pub struct Rng(SplitMix64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(SplitMix64::new(seed))
    }

    /// Uniform in `[0, n)`; 0 when `n` is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0.below(n.max(1) as usize) as u64
    }

    pub fn coin(&mut self) -> bool {
        self.0.next_u64() & 1 == 1
    }
}

/// The upsert the suites run: update matched rows, insert the rest.
pub fn upsert() -> MergeInsert {
    MergeInsert {
        on: vec!["id".into()],
        when_matched_update_all: Some(None),
        when_not_matched_insert_all: true,
        ..Default::default()
    }
}

pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("val", DataType::Int64, false),
        Field::new(
            "vec",
            DataType::FixedSizeList(
                Arc::new(Field::new("item", DataType::Float32, true)),
                DIM as i32,
            ),
            false,
        ),
    ]))
}

/// Rows `ids`, all with `val`; each id's vector is fixed.
pub fn batch(ids: &[i64], val: i64) -> RecordBatch {
    let vals: Vec<f32> = ids
        .iter()
        .flat_map(|&i| (0..DIM).map(move |d| ((i * 7 + d as i64 * 13) % 29) as f32 / 29.0))
        .collect();
    let vec = FixedSizeListArray::try_new(
        Arc::new(Field::new("item", DataType::Float32, true)),
        DIM as i32,
        Arc::new(Float32Array::from(vals)),
        None,
    )
    .unwrap();
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(Int64Array::from(ids.to_vec())),
            Arc::new(Int64Array::from(vec![val; ids.len()])),
            Arc::new(vec),
        ],
    )
    .unwrap()
}

/// Sorted `(id, val)` pairs of the pinned version, as text.
pub fn digest(t: &Table) -> String {
    let (_, batches) = t
        .scan(&ScanRequest::default(), &CancelToken::new())
        .unwrap();
    let mut rows: Vec<(i64, i64)> = Vec::new();
    for b in &batches {
        let ids = b.column(0).as_primitive::<Int64Type>();
        let vals = b.column(1).as_primitive::<Int64Type>();
        rows.extend(
            ids.values()
                .iter()
                .copied()
                .zip(vals.values().iter().copied()),
        );
    }
    rows.sort_unstable();
    format!("{rows:?}")
}

/// A small HNSW build request.
pub fn hnsw() -> IndexRequest {
    IndexRequest {
        column: None,
        index_type: oxvec::vector_kind("HNSW").expect("registered"),
        metric: Metric::L2,
        replace: true,
        options: BuildOptions {
            m: Some(4),
            ef_construction: Some(16),
            ..Default::default()
        },
        calibration_queries: None,
        name: None,
    }
}

/// Creates table `t` under `root` from `batch(ids, 0)`.
pub fn create(root: &Path, ids: &[i64]) -> Table {
    create_with(root, ids, oxvec::TableOptions::default())
}

/// [`create`] through a connection with `options`.
pub fn create_with(root: &Path, ids: &[i64], options: oxvec::TableOptions) -> Table {
    let db = Database::connect_with(root.to_str().unwrap(), options).unwrap();
    db.create_table(
        "t",
        None,
        Some(&mut std::iter::once(Ok(batch(ids, 0)))),
        CreateMode::Create,
        false,
        &CancelToken::new(),
    )
    .unwrap()
}
