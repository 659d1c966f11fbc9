//! IVF: vectors partitioned by k-means, each partition's residuals (vector minus centroid)
//! stored as product-quantized codes (`IVF_PQ`) or RaBitQ bits (`IVF_RQ`).
//!
//! A search ranks the centroids, scans the `nprobes` nearest partitions' codes, and returns
//! the best candidates by estimated distance for the caller to re-rank with full vectors.
//! Partitions are stored one after another; each has its own CRC32C, checked the first time
//! the partition is probed, so opening and querying a large index touches only what it reads.

use crate::file::{cast, FileWriter, IndexFile};
use crate::filter::NodeFilter;
use crate::hnsw::layer::Scored;
use crate::space::Space;
use oxvec_core::{CancelToken, Error, Result};
use oxvec_linalg::kmeans::{self, KMeansOptions};
use oxvec_linalg::pq::{adc, ProductQuantizer, CODEBOOK};
use oxvec_linalg::rabitq::{RaBitQ, RabitFactors, RabitQuery, MAX_DIM};
use oxvec_linalg::TopK;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;

/// How residuals are coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Codec {
    Pq,
    Rq,
}

/// Build parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IvfParams {
    pub codec: Codec,
    pub num_partitions: usize,
    /// PQ only.
    pub num_sub_vectors: usize,
    /// Bits per PQ sub-vector code (8) or per RaBitQ dimension (1).
    pub num_bits: usize,
    pub seed: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    n: usize,
    dim: usize,
    space: Space,
    params: IvfParams,
}

/// Trained quantizers, kept to add rows later without retraining.
pub struct Trained {
    pub centroids: Vec<f32>,
    pub pq: Option<ProductQuantizer>,
    pub rq: Option<RaBitQ>,
}

/// Codes for a set of vectors, grouped by partition.
struct Encoded {
    /// Partition of every vector.
    labels: Vec<u32>,
    /// PQ: `m` bytes per vector; RQ: `words` u64 per vector (as bytes).
    codes: Vec<u8>,
    factors: Vec<RabitFactors>,
}

/// Checks the parameters against the data and fills in defaults.
pub fn resolve_params(
    codec: Codec,
    dim: usize,
    n: usize,
    num_partitions: Option<usize>,
    num_sub_vectors: Option<usize>,
    num_bits: Option<usize>,
    seed: u64,
) -> Result<IvfParams> {
    let parts = num_partitions.unwrap_or_else(|| ((n as f64).sqrt() as usize).clamp(1, 4096));
    if parts == 0 || parts > 65_536 {
        return Err(Error::invalid(format!(
            "num_partitions must be between 1 and 65536, got {parts}"
        )));
    }
    let (subs, bits) = match codec {
        Codec::Pq => {
            let subs = num_sub_vectors.unwrap_or_else(|| {
                // About 8 dimensions per byte, the usual accuracy/size balance.
                (1..=dim)
                    .rev()
                    .find(|&m| dim.is_multiple_of(m) && dim / m >= 8)
                    .unwrap_or(1)
            });
            if subs == 0 || !dim.is_multiple_of(subs) {
                return Err(Error::invalid(format!(
                    "num_sub_vectors must divide the vector dimension {dim}, got {subs}"
                )));
            }
            let bits = num_bits.unwrap_or(8);
            if bits != 8 {
                return Err(Error::invalid(format!(
                    "IVF_PQ supports num_bits=8, got {bits}"
                )));
            }
            (subs, bits)
        }
        Codec::Rq => {
            let bits = num_bits.unwrap_or(1);
            if bits != 1 {
                return Err(Error::invalid(format!(
                    "IVF_RQ supports num_bits=1, got {bits}"
                )));
            }
            if num_sub_vectors.is_some() {
                return Err(Error::invalid(
                    "num_sub_vectors applies to IVF_PQ, not IVF_RQ",
                ));
            }
            if dim > MAX_DIM {
                return Err(Error::invalid(format!(
                    "IVF_RQ supports vectors of up to {MAX_DIM} dimensions, got {dim}"
                )));
            }
            (0, bits)
        }
    };
    Ok(IvfParams {
        codec,
        num_partitions: parts,
        num_sub_vectors: subs,
        num_bits: bits,
        seed,
    })
}

/// Trains centroids and the residual quantizer on `data` (prepared vectors, row-major).
pub fn train(dim: usize, data: &[f32], p: &IvfParams, cancel: &CancelToken) -> Result<Trained> {
    let opts = KMeansOptions {
        seed: p.seed,
        ..KMeansOptions::default()
    };
    let centroids = kmeans::train(data, dim, p.num_partitions, opts, cancel)?;
    match p.codec {
        Codec::Pq => {
            // Train on residuals of a sample.
            let n = data.len() / dim;
            let mut rng = oxvec_linalg::rng::SplitMix64::new(p.seed ^ 0x5051);
            let picks = rng.sample(n, 256 * 64);
            let sample: Vec<f32> = picks
                .iter()
                .flat_map(|&i| data[i * dim..(i + 1) * dim].to_vec())
                .collect();
            let labels = kmeans::assign(&sample, dim, &centroids, cancel)?;
            let mut resid = sample;
            for (r, &l) in resid.chunks_exact_mut(dim).zip(&labels) {
                let c = &centroids[l as usize * dim..(l as usize + 1) * dim];
                r.iter_mut().zip(c).for_each(|(x, c)| *x -= c);
            }
            let pq = ProductQuantizer::train(&resid, dim, p.num_sub_vectors, p.seed, cancel)?;
            Ok(Trained {
                centroids,
                pq: Some(pq),
                rq: None,
            })
        }
        Codec::Rq => Ok(Trained {
            centroids,
            pq: None,
            rq: Some(RaBitQ::new(dim, p.seed ^ 0x5251)),
        }),
    }
}

fn code_bytes(t: &Trained, dim: usize) -> usize {
    match (&t.pq, &t.rq) {
        (Some(pq), _) => pq.m,
        (_, Some(_)) => dim.div_ceil(64) * 8,
        _ => 0,
    }
}

fn encode(
    t: &Trained,
    dim: usize,
    data: &[f32],
    progress: &AtomicU64,
    cancel: &CancelToken,
) -> Result<Encoded> {
    let labels = kmeans::assign(data, dim, &t.centroids, cancel)?;
    let cb = code_bytes(t, dim);
    let n = labels.len();
    let mut codes = vec![0u8; n * cb];
    let mut factors = vec![RabitFactors::default(); if t.rq.is_some() { n } else { 0 }];
    let chunk = 4096;
    let work = codes
        .par_chunks_mut(cb * chunk)
        .enumerate()
        .map(|(ci, out)| -> Result<Vec<RabitFactors>> {
            cancel.check()?;
            let mut resid = vec![0f32; dim];
            let mut rot = vec![0f32; dim];
            let mut words = vec![0u64; dim.div_ceil(64)];
            let mut fs = Vec::new();
            for (j, code) in out.chunks_exact_mut(cb).enumerate() {
                let i = ci * chunk + j;
                let l = labels[i] as usize;
                let c = &t.centroids[l * dim..(l + 1) * dim];
                for ((r, &x), &cc) in resid.iter_mut().zip(&data[i * dim..(i + 1) * dim]).zip(c) {
                    *r = x - cc;
                }
                if let Some(pq) = &t.pq {
                    pq.encode(&resid, code);
                } else if let Some(rq) = &t.rq {
                    rq.rotate(&resid, &mut rot);
                    fs.push(rq.encode_rotated(&rot, &mut words));
                    for (k, w) in words.iter().enumerate() {
                        code[k * 8..k * 8 + 8].copy_from_slice(&w.to_le_bytes());
                    }
                }
            }
            progress.fetch_add((out.len() / cb.max(1)) as u64, Relaxed);
            Ok(fs)
        })
        .collect::<Vec<_>>();
    let mut at = 0;
    for w in work {
        let fs = w?;
        factors[at..at + fs.len()].copy_from_slice(&fs);
        at += fs.len();
    }
    Ok(Encoded {
        labels,
        codes,
        factors,
    })
}

/// Builds the index-file sections for `data` (prepared vectors) with node ids `0..n` and the
/// given table `row_ids`; `old` carries the lists of an earlier index to extend.
#[allow(clippy::too_many_arguments)]
pub fn write(
    space: Space,
    dim: usize,
    params: &IvfParams,
    trained: &Trained,
    data: &[f32],
    row_ids: &[u64],
    old: Option<&Ivf>,
    progress: &AtomicU64,
    cancel: &CancelToken,
    w: &mut FileWriter,
) -> Result<serde_json::Value> {
    let enc = encode(trained, dim, data, progress, cancel)?;
    let cb = code_bytes(trained, dim);
    let k = params.num_partitions;
    let first_new = old.map_or(0, |o| o.n) as u32;
    // Gather (old entries, then new) per partition.
    let mut per: Vec<Vec<(u32, usize, bool)>> = vec![Vec::new(); k];
    if let Some(o) = old {
        let offs = o.file.get::<u64>("list_offsets")?;
        for (p, slot) in per.iter_mut().enumerate() {
            o.check_partition(p)?;
            for e in offs[p] as usize..offs[p + 1] as usize {
                slot.push((0, e, true));
            }
        }
    }
    for (i, &l) in enc.labels.iter().enumerate() {
        per[l as usize].push((first_new + i as u32, i, false));
    }
    let total: usize = per.iter().map(Vec::len).sum();
    let mut offsets = Vec::with_capacity(k + 1);
    let mut ids = Vec::with_capacity(total);
    let mut codes = Vec::with_capacity(total * cb);
    let mut factors: Vec<f32> = Vec::new();
    let mut crcs = Vec::with_capacity(k);
    let (old_ids, old_codes, old_factors): (&[u32], &[u8], &[f32]) = match old {
        Some(o) => (
            o.file.get("ids")?,
            o.file.raw("codes")?,
            if trained.rq.is_some() {
                o.file.raw("factors").map(|b| cast(b).unwrap_or(&[]))?
            } else {
                &[]
            },
        ),
        None => (&[], &[], &[]),
    };
    offsets.push(0u64);
    for list in &per {
        let (i0, c0, f0) = (ids.len(), codes.len(), factors.len());
        for &(node, e, is_old) in list {
            if is_old {
                ids.push(old_ids[e]);
                codes.extend_from_slice(&old_codes[e * cb..(e + 1) * cb]);
                if trained.rq.is_some() {
                    factors.extend_from_slice(&old_factors[e * 2..e * 2 + 2]);
                }
            } else {
                ids.push(node);
                codes.extend_from_slice(&enc.codes[e * cb..(e + 1) * cb]);
                if trained.rq.is_some() {
                    let f = enc.factors[e];
                    factors.extend_from_slice(&[f.norm, f.ip_xo]);
                }
            }
        }
        offsets.push(ids.len() as u64);
        crcs.push(list_crc(&ids[i0..], &codes[c0..], &factors[f0..]));
    }
    let mut all_rows: Vec<u64> = match old {
        Some(o) => o.file.get::<u64>("row_ids")?.to_vec(),
        None => Vec::new(),
    };
    all_rows.extend_from_slice(row_ids);
    w.section("centroids", &trained.centroids)
        .section("list_offsets", &offsets)
        .section("ids", &ids)
        .section("codes", &codes)
        .section("factors", &factors)
        .section("list_crcs", &crcs)
        .section("row_ids", &all_rows);
    if let Some(pq) = &trained.pq {
        w.section("pq_centroids", &pq.centroids);
    }
    if let Some(rq) = &trained.rq {
        let mut rot_c = vec![0f32; k * dim];
        for (c, out) in trained
            .centroids
            .chunks_exact(dim)
            .zip(rot_c.chunks_exact_mut(dim))
        {
            rq.rotate(c, out);
        }
        w.section("rotation", &rq.rotation)
            .section("rot_centroids", &rot_c);
    }
    Ok(serde_json::to_value(Meta {
        n: all_rows.len(),
        dim,
        space,
        params: *params,
    })
    .expect("plain struct serializes"))
}

fn list_crc(ids: &[u32], codes: &[u8], factors: &[f32]) -> u32 {
    let mut c = crc32c::crc32c(crate::file::bytes_of(ids));
    c = crc32c::crc32c_append(c, codes);
    crc32c::crc32c_append(c, crate::file::bytes_of(factors))
}

/// An opened IVF index.
#[derive(Debug)]
pub struct Ivf {
    pub file: IndexFile,
    pub n: usize,
    pub dim: usize,
    pub space: Space,
    pub params: IvfParams,
    checked: Vec<OnceLock<bool>>,
    pq: OnceLock<ProductQuantizer>,
    rq: OnceLock<RaBitQ>,
    /// Squared norms of the centroids, computed on the first search.
    centroid_norms: OnceLock<Vec<f32>>,
}

impl Ivf {
    pub fn open(file: IndexFile) -> Result<Ivf> {
        let bad = |m: String| Error::corrupt(file.path(), m);
        let meta: Meta = serde_json::from_value(file.header.meta.clone())
            .map_err(|e| bad(format!("bad IVF header: {e}")))?;
        let k = meta.params.num_partitions;
        if k == 0
            || meta.dim == 0
            || (meta.params.codec == Codec::Pq
                && !meta.dim.is_multiple_of(meta.params.num_sub_vectors.max(1)))
        {
            return Err(bad("IVF header parameters are inconsistent".into()));
        }
        Ok(Ivf {
            file,
            n: meta.n,
            dim: meta.dim,
            space: meta.space,
            params: meta.params,
            checked: (0..k).map(|_| OnceLock::new()).collect(),
            pq: OnceLock::new(),
            rq: OnceLock::new(),
            centroid_norms: OnceLock::new(),
        })
    }

    fn code_bytes(&self) -> usize {
        match self.params.codec {
            Codec::Pq => self.params.num_sub_vectors,
            Codec::Rq => self.dim.div_ceil(64) * 8,
        }
    }

    /// The trained quantizers, for adding rows.
    pub fn trained(&self) -> Result<Trained> {
        Ok(Trained {
            centroids: self.file.get::<f32>("centroids")?.to_vec(),
            pq: match self.params.codec {
                Codec::Pq => Some(self.pq()?.clone()),
                Codec::Rq => None,
            },
            rq: match self.params.codec {
                Codec::Rq => Some(self.rq()?.clone()),
                Codec::Pq => None,
            },
        })
    }

    fn pq(&self) -> Result<&ProductQuantizer> {
        if let Some(p) = self.pq.get() {
            return Ok(p);
        }
        let c = self.file.get::<f32>("pq_centroids")?;
        let m = self.params.num_sub_vectors;
        if c.len() != m * CODEBOOK * (self.dim / m) {
            return Err(Error::corrupt(
                self.file.path(),
                "PQ codebook has the wrong size",
            ));
        }
        Ok(self.pq.get_or_init(|| ProductQuantizer {
            dim: self.dim,
            m,
            centroids: c.to_vec(),
        }))
    }

    fn rq(&self) -> Result<&RaBitQ> {
        if let Some(r) = self.rq.get() {
            return Ok(r);
        }
        let rot = self.file.get::<f32>("rotation")?;
        if rot.len() != self.dim * self.dim {
            return Err(Error::corrupt(
                self.file.path(),
                "RaBitQ rotation has the wrong size",
            ));
        }
        Ok(self.rq.get_or_init(|| RaBitQ {
            dim: self.dim,
            rotation: rot.to_vec(),
        }))
    }

    /// Verifies partition `p`'s checksum (once).
    pub(crate) fn check_partition(&self, p: usize) -> Result<()> {
        let ok = *self.checked[p].get_or_init(|| self.partition_crc_ok(p).unwrap_or(false));
        if ok {
            Ok(())
        } else {
            Err(Error::corrupt(
                self.file.path(),
                format!("IVF partition {p} failed its checksum"),
            ))
        }
    }

    fn partition_crc_ok(&self, p: usize) -> Result<bool> {
        let (ids, codes, factors) = self.partition(p)?;
        let crcs = self.file.get::<u32>("list_crcs")?;
        Ok(crcs.get(p) == Some(&list_crc(ids, codes, factors)))
    }

    /// The raw entries of partition `p` (unchecked).
    fn partition(&self, p: usize) -> Result<(&[u32], &[u8], &[f32])> {
        let bad = || {
            Error::corrupt(
                self.file.path(),
                format!("IVF partition {p} is out of bounds"),
            )
        };
        let offs = self.file.get::<u64>("list_offsets")?;
        if offs.len() != self.params.num_partitions + 1 {
            return Err(bad());
        }
        let (a, b) = (offs[p] as usize, offs[p + 1] as usize);
        let ids: &[u32] = cast(self.file.raw("ids")?).ok_or_else(bad)?;
        let codes = self.file.raw("codes")?;
        let factors: &[f32] = cast(self.file.raw("factors")?).ok_or_else(bad)?;
        let cb = self.code_bytes();
        let fw = if self.params.codec == Codec::Rq { 2 } else { 0 };
        if a > b || b > ids.len() || b * cb > codes.len() || b * fw > factors.len() {
            return Err(bad());
        }
        Ok((&ids[a..b], &codes[a * cb..b * cb], &factors[a * fw..b * fw]))
    }

    /// Table row id of every node.
    pub fn row_ids(&self) -> Result<&[u64]> {
        self.file.get("row_ids")
    }

    /// The best `candidates` allowed nodes of the `nprobes` partitions nearest to the
    /// prepared query `q`, by estimated index-space distance, sorted.
    pub fn search(
        &self,
        q: &[f32],
        nprobes: usize,
        candidates: usize,
        filter: Option<&NodeFilter>,
    ) -> Result<Vec<Scored>> {
        let dim = self.dim;
        let k = self.params.num_partitions;
        let cents = self.file.get::<f32>("centroids")?;
        if cents.len() != k * dim || q.len() != dim {
            return Err(Error::corrupt(
                self.file.path(),
                "IVF centroids have the wrong size",
            ));
        }
        let norms = self
            .centroid_norms
            .get_or_init(|| kmeans::row_norms(cents, dim));
        let mut scratch = Vec::new();
        scratch.resize(k, 0.0);
        (oxvec_linalg::kernels().distances_f32)(
            oxvec_core::Metric::Dot,
            q,
            0.0,
            cents,
            &mut scratch,
        );
        // Rank partitions: L2 by |c|² - 2q·c; IP by -q·c.
        let mut order: Vec<(f32, usize)> = scratch
            .iter()
            .zip(norms)
            .enumerate()
            .map(|(j, (&d, &n))| {
                let dot = 1.0 - d;
                (
                    if self.space == Space::L2 {
                        n - 2.0 * dot
                    } else {
                        -dot
                    },
                    j,
                )
            })
            .collect();
        let probes = nprobes.clamp(1, k);
        order.select_nth_unstable_by(probes - 1, |a, b| a.0.total_cmp(&b.0));
        order.truncate(probes);
        let mut top = TopK::new(candidates.max(1));
        let mut est = Vec::new();
        match self.params.codec {
            Codec::Pq => {
                let pq = self.pq()?;
                let mut table = Vec::new();
                let mut resid = vec![0f32; dim];
                if self.space == Space::Ip {
                    pq.dot_table(q, &mut table);
                }
                for &(_, p) in &order {
                    self.check_partition(p)?;
                    let (ids, codes, _) = self.partition(p)?;
                    let c = &cents[p * dim..(p + 1) * dim];
                    let qc: f32 = q.iter().zip(c).map(|(a, b)| a * b).sum();
                    if self.space == Space::L2 {
                        for ((r, &x), &cc) in resid.iter_mut().zip(q).zip(c) {
                            *r = x - cc;
                        }
                        pq.l2_table(&resid, &mut table);
                    }
                    for (&id, code) in ids.iter().zip(codes.chunks_exact(pq.m)) {
                        if filter.is_some_and(|f| !f.allows(id)) {
                            continue;
                        }
                        let a = adc(&table, code);
                        let d = if self.space == Space::L2 {
                            a
                        } else {
                            1.0 - qc - a
                        };
                        top.push(d, id as u64);
                    }
                }
            }
            Codec::Rq => {
                let rq = self.rq()?;
                let rot_c = self.file.get::<f32>("rot_centroids")?;
                if rot_c.len() != k * dim {
                    return Err(Error::corrupt(
                        self.file.path(),
                        "RaBitQ centroids have the wrong size",
                    ));
                }
                let mut pq_rot = vec![0f32; dim];
                rq.rotate(q, &mut pq_rot);
                let mut t = vec![0f32; dim];
                let mut rq_query = RabitQuery::default();
                if self.space == Space::Ip {
                    rq.prepare(&pq_rot, &mut rq_query);
                }
                let words = dim.div_ceil(64);
                for &(_, p) in &order {
                    self.check_partition(p)?;
                    let (ids, codes, factors) = self.partition(p)?;
                    let c = &cents[p * dim..(p + 1) * dim];
                    let qc: f32 = q.iter().zip(c).map(|(a, b)| a * b).sum();
                    if self.space == Space::L2 {
                        let rc = &rot_c[p * dim..(p + 1) * dim];
                        for ((o, &a), &b) in t.iter_mut().zip(&pq_rot).zip(rc) {
                            *o = a - b;
                        }
                        rq.prepare(&t, &mut rq_query);
                    }
                    let codes: &[u64] = cast(codes).ok_or_else(|| {
                        Error::corrupt(self.file.path(), "misaligned RaBitQ codes")
                    })?;
                    let fs: Vec<RabitFactors> = factors
                        .chunks_exact(2)
                        .map(|f| RabitFactors {
                            norm: f[0],
                            ip_xo: f[1],
                        })
                        .collect();
                    est.resize(ids.len(), 0.0);
                    rq.estimate_batch(&rq_query, &codes[..ids.len() * words], &fs, &mut est);
                    for ((&id, &e), f) in ids.iter().zip(&est).zip(&fs) {
                        if filter.is_some_and(|fl| !fl.allows(id)) {
                            continue;
                        }
                        let d = if self.space == Space::L2 {
                            f.norm * f.norm + rq_query.norm_sq - 2.0 * f.norm * e
                        } else {
                            1.0 - qc - f.norm * e
                        };
                        top.push(d, id as u64);
                    }
                }
            }
        }
        Ok(top
            .into_sorted()
            .into_iter()
            .map(|nb| Scored(nb.distance, nb.id as u32))
            .collect())
    }
}
