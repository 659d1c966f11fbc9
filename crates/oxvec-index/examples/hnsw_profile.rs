//! Build and query an HNSW index on clustered data without Python, for profiling:
//! `cargo run --release -p oxvec-index --example hnsw_profile -- 200000 128 search`.

use oxvec_core::{CancelToken, Metric};
use oxvec_index::{build, hnsw::Hnsw, open, BuildOptions, SearchKnobs};
use oxvec_linalg::rng::SplitMix64;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let dim: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(128);
    let mode = args.get(3).cloned().unwrap_or_default();
    let mut r = SplitMix64::new(0);
    let centers: Vec<f32> = (0..1000 * dim).map(|_| r.gaussian() as f32 * 3.0).collect();
    let mut data = Vec::with_capacity((n + 200) * dim);
    for _ in 0..n + 200 {
        let c = r.below(1000);
        data.extend((0..dim).map(|d| centers[c * dim + d] + r.gaussian() as f32));
    }
    let (base, queries) = data.split_at(n * dim);
    let ids: Vec<u64> = (0..n as u64).collect();
    let path = std::env::temp_dir().join("oxvec-hnsw-profile.idx");
    let t0 = Instant::now();
    let opts = BuildOptions {
        m: Some(16),
        ef_construction: Some(150),
        ..Default::default()
    };
    let (bytes, crc) = build(
        &Hnsw,
        Metric::L2,
        &oxvec_index::Rows::new(base, dim),
        &ids,
        &opts,
        &AtomicU64::new(0),
        &CancelToken::new(),
    )
    .unwrap();
    eprintln!("build {:.2}s", t0.elapsed().as_secs_f64());
    std::fs::write(&path, &bytes).unwrap();
    let idx = open(&path, bytes.len() as u64, crc).unwrap();
    let knobs = SearchKnobs {
        ef: Some(24),
        ..Default::default()
    };
    let secs = if mode == "search" { 10.0 } else { 1.0 };
    let t0 = Instant::now();
    let mut count = 0;
    while t0.elapsed().as_secs_f64() < secs {
        for q in queries.chunks_exact(dim) {
            let c = idx.search_knobs(q, 10, &knobs, None, None).unwrap();
            count += 1;
            std::hint::black_box(c);
        }
    }
    eprintln!(
        "search ef=24: {:.1} us/query",
        t0.elapsed().as_secs_f64() * 1e6 / count as f64
    );
}
