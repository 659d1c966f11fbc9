//! Times one indexed query through the facade against the index alone, to see what the
//! facade costs per query: `cargo run --release -p oxvec --example query_overhead`.

use arrow::array::{FixedSizeListArray, Float32Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use oxvec::{
    BuildOptions, CancelToken, CreateMode, Database, IndexRequest, Metric, Progress, SearchKnobs,
    VectorQuery,
};
use oxvec_linalg::rng::SplitMix64;
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let dim = 128usize;
    let mut r = SplitMix64::new(1);
    let vals: Vec<f32> = (0..n * dim).map(|_| r.gaussian() as f32).collect();
    let item = Arc::new(Field::new("item", DataType::Float32, true));
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new(
            "vector",
            DataType::FixedSizeList(item.clone(), dim as i32),
            false,
        ),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from((0..n as i64).collect::<Vec<_>>())),
            Arc::new(
                FixedSizeListArray::try_new(
                    item,
                    dim as i32,
                    Arc::new(Float32Array::from(vals.clone())),
                    None,
                )
                .unwrap(),
            ),
        ],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = Database::connect(dir.path().to_str().unwrap()).unwrap();
    let c = CancelToken::new();
    let t = db
        .create_table(
            "t",
            None,
            Some(&mut vec![Ok(batch)].into_iter()),
            CreateMode::Create,
            false,
            &c,
        )
        .unwrap();
    let req = IndexRequest {
        column: None,
        index_type: oxvec::vector_kind("HNSW").unwrap(),
        metric: Metric::L2,
        replace: true,
        options: BuildOptions::default(),
        calibration_queries: None,
        name: None,
    };
    t.create_index(&req, &Progress::default(), &c).unwrap();
    let knobs = SearchKnobs {
        ef: Some(24),
        ..Default::default()
    };
    let q = VectorQuery {
        column: None,
        vectors: vals[..dim].to_vec(),
        num_queries: 1,
        metric: None,
        k: 10,
        filter: None,
        columns: Some(vec!["id".into()]),
        with_row_id: false,
        with_query_index: false,
        knobs,
        bypass_index: false,
    };
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let t0 = Instant::now();
    for i in 0..reps {
        let mut q = q.clone();
        q.vectors
            .copy_from_slice(&vals[(i % n) * dim..(i % n + 1) * dim]);
        std::hint::black_box(t.search(&q, &c).unwrap());
    }
    println!(
        "Table::search: {:.2} us",
        t0.elapsed().as_secs_f64() * 1e6 / reps as f64
    );
}
