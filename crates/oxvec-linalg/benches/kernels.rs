//! Per-kernel benchmarks: every SIMD table this CPU has against the scalar reference, on the
//! same inputs. For the distance kernels the reference is the `scalar` table (first in every
//! group); rabitq, top-k and k-means name theirs `*-reference`. `cargo bench -p oxvec-linalg`
//! (add `-- l2` to run one group); criterion prints the time per call and the throughput.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use half::f16;
use oxvec_core::{CancelToken, Metric};
use oxvec_linalg::rabitq::{RaBitQ, RabitFactors, RabitQuery};
use oxvec_linalg::rng::SplitMix64;
use oxvec_linalg::{kernel_tables, kmeans, scalar, Kernels, TopK};
use std::hint::black_box;

/// Rows per batch call: 1,000 x 768 f32 is 3 MB, about what one search block scores.
const ROWS: usize = 1000;
const DIMS: [usize; 2] = [128, 768];

fn values(seed: u64, n: usize) -> Vec<f32> {
    let mut r = SplitMix64::new(seed);
    (0..n).map(|_| r.gaussian() as f32).collect()
}

/// One group per metric: each table's batch kernel, the scalar table first.
fn metric_group(c: &mut Criterion, name: &str, metric: Metric) {
    let mut g = c.benchmark_group(name);
    for dim in DIMS {
        let q = values(1, dim);
        let rows = values(2, ROWS * dim);
        let qn: f32 = q.iter().map(|x| x * x).sum();
        let mut out = vec![0f32; ROWS];
        g.throughput(Throughput::Elements((ROWS * dim) as u64));
        for k in kernel_tables() {
            g.bench_with_input(BenchmarkId::new(k.name, dim), &dim, |b, _| {
                b.iter(|| (k.distances_f32)(metric, black_box(&q), qn, &rows, &mut out))
            });
        }
    }
    g.finish();
}

fn l2(c: &mut Criterion) {
    metric_group(c, "l2", Metric::L2);
}

fn dot(c: &mut Criterion) {
    metric_group(c, "dot", Metric::Dot);
}

fn cosine(c: &mut Criterion) {
    metric_group(c, "cosine", Metric::Cosine);
}

fn f16_rows(c: &mut Criterion) {
    let mut g = c.benchmark_group("f16");
    for dim in DIMS {
        let q = values(1, dim);
        let rows: Vec<f16> = values(2, ROWS * dim)
            .into_iter()
            .map(f16::from_f32)
            .collect();
        let mut out = vec![0f32; ROWS];
        g.throughput(Throughput::Elements((ROWS * dim) as u64));
        for k in kernel_tables() {
            g.bench_with_input(BenchmarkId::new(k.name, dim), &dim, |b, _| {
                b.iter(|| (k.distances_f16)(Metric::L2, black_box(&q), 0.0, &rows, &mut out))
            });
        }
    }
    g.finish();
}

/// SQ8 codes: the f32-weight dot per row, and the integer gathered-rows form where a table
/// has it (what an HNSW expansion runs), over 32 random rows of a 100k-row code table.
fn sq8(c: &mut Criterion) {
    let mut g = c.benchmark_group("sq8");
    let table_rows = 100_000;
    for dim in DIMS {
        let mut r = SplitMix64::new(3);
        let codes: Vec<u8> = (0..table_rows * dim).map(|_| r.below(256) as u8).collect();
        let w = values(4, dim);
        let wi: Vec<i8> = (0..dim)
            .map(|_| (r.below(255) as i32 - 127) as i8)
            .collect();
        let ids: Vec<u32> = (0..32).map(|_| r.below(table_rows) as u32).collect();
        let mut out = vec![0f32; ids.len()];
        let mut iout = vec![0i32; ids.len()];
        g.throughput(Throughput::Elements((ids.len() * dim) as u64));
        let row = |i: u32| &codes[i as usize * dim..(i as usize + 1) * dim];
        for k in kernel_tables() {
            g.bench_with_input(BenchmarkId::new(k.name, dim), &dim, |b, _| {
                b.iter(|| {
                    for (o, &i) in out.iter_mut().zip(&ids) {
                        *o = (k.dot_u8)(black_box(&w), row(i));
                    }
                    black_box(&out);
                })
            });
            if let Some(rows) = k.dot_u8i8_rows {
                let id = format!("{}-int8-rows", k.name);
                g.bench_with_input(BenchmarkId::new(id, dim), &dim, |b, _| {
                    b.iter(|| rows(black_box(&wi), &codes, &ids, &mut iout))
                });
            }
        }
    }
    g.finish();
}

/// RaBitQ's popcount estimator over 10,000 codes against the exact f32 dot products it
/// estimates (the scalar reference).
fn rabitq(c: &mut Criterion) {
    let mut g = c.benchmark_group("rabitq");
    let n = 10_000;
    for dim in DIMS {
        let rq = RaBitQ::new(dim, 7);
        let data = values(5, n * dim);
        let mut codes = Vec::with_capacity(n * rq.words());
        let mut factors: Vec<RabitFactors> = Vec::with_capacity(n);
        let mut rotated = vec![0f32; n * dim];
        for (v, out) in data.chunks_exact(dim).zip(rotated.chunks_exact_mut(dim)) {
            rq.rotate(v, out);
            let mut code = vec![0u64; rq.words()];
            factors.push(rq.encode_rotated(out, &mut code));
            codes.extend(code);
        }
        let t = values(6, dim);
        let mut q = RabitQuery::default();
        rq.prepare(&t, &mut q);
        let mut out = vec![0f32; n];
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("scalar-reference", dim), &dim, |b, _| {
            b.iter(|| {
                for (v, o) in rotated.chunks_exact(dim).zip(out.iter_mut()) {
                    *o = scalar::dot(black_box(&t), v);
                }
                black_box(&out);
            })
        });
        g.bench_with_input(BenchmarkId::new("estimate_batch", dim), &dim, |b, _| {
            b.iter(|| rq.estimate_batch(black_box(&q), &codes, &factors, &mut out))
        });
    }
    g.finish();
}

/// Keeping the 10 smallest of 100,000 distances, against sorting them all.
fn top_k(c: &mut Criterion) {
    let mut g = c.benchmark_group("top-k");
    let d = values(7, 100_000);
    g.throughput(Throughput::Elements(d.len() as u64));
    g.bench_function("sort-reference", |b| {
        b.iter(|| {
            let mut v: Vec<(f32, u64)> = d.iter().copied().zip(0..).collect();
            v.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
            v.truncate(10);
            black_box(v)
        })
    });
    g.bench_function("TopK", |b| {
        b.iter(|| {
            let mut top = TopK::new(10);
            for (i, &x) in d.iter().enumerate() {
                if x < top.threshold() {
                    top.push(x, i as u64);
                }
            }
            black_box(top.into_sorted())
        })
    });
    g.finish();
}

/// Assigning 20,000 vectors of 64 dimensions to 256 centroids: the batch kernel (on rayon)
/// against the scalar reference, one vector at a time.
fn k_means(c: &mut Criterion) {
    let mut g = c.benchmark_group("k-means");
    g.sample_size(10);
    let (n, dim, k) = (20_000, 64, 256);
    let data = values(8, n * dim);
    let cents = values(9, k * dim);
    let cancel = CancelToken::new();
    g.throughput(Throughput::Elements((n * k * dim) as u64));
    g.bench_function("scalar-reference", |b| {
        b.iter(|| {
            let labels: Vec<u32> = data
                .chunks_exact(dim)
                .map(|v| {
                    let mut best = (f32::INFINITY, 0u32);
                    for (j, cc) in cents.chunks_exact(dim).enumerate() {
                        let d = scalar::l2_sq(v, cc);
                        if d < best.0 {
                            best = (d, j as u32);
                        }
                    }
                    best.1
                })
                .collect();
            black_box(labels)
        })
    });
    g.bench_function("assign", |b| {
        b.iter(|| black_box(kmeans::assign(&data, dim, &cents, &cancel).unwrap()))
    });
    g.finish();
}

/// Which table `kernels()` picked, printed once so a run says what it measured.
fn announce(_: &mut Criterion) {
    let chosen: &Kernels = oxvec_linalg::kernels();
    let all: Vec<&str> = kernel_tables().iter().map(|k| k.name).collect();
    eprintln!(
        "oxvec-linalg: dispatch picks '{}'; tables benchmarked: {all:?}",
        chosen.name
    );
}

criterion_group!(benches, announce, l2, dot, cosine, f16_rows, sq8, rabitq, top_k, k_means);
criterion_main!(benches);
