//! IVF: vectors partitioned by k-means, each partition's residuals coded by a [`Codec`]
//! (`IVF_PQ`: product quantization, in `crate::ivf_pq`; `IVF_RQ`: RaBitQ, in
//! `crate::ivf_rq`).
//!
//! - [`train`]: centroids, the codec's training, and encoding vectors into partitions.
//! - [`lists`]: the partition layout of the file, with one CRC32C per partition.
//! - this file: the parameters, the builder, and the opened index with its search (rank the
//!   centroids, scan the `nprobes` nearest partitions).
//!
//! A search returns the best candidates by estimated distance for the caller to re-rank with
//! full vectors. A partition's checksum is checked the first time it is probed, so opening and
//! querying a large index touches only what it reads.

pub mod codec;
pub mod lists;
pub mod train;

pub use codec::{Codec, Entries};

use crate::file::{FileWriter, IndexFile};
use crate::filter::NodeFilter;
use crate::header::IndexHeader;
use crate::hnsw::layer::Scored;
use crate::index::VectorIndex;
use crate::kind::{IndexBuilder, IndexKind, Knob, VectorKind};
use crate::options::BuildOptions;
use crate::source::VectorSource;
use crate::space::Space;
use oxvec_core::{CancelToken, Error, Result};
use oxvec_linalg::{kmeans, TopK};
use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;

/// The search knob every IVF kind shares.
pub const KNOB: Knob = Knob {
    name: "nprobes",
    default: 16,
    ladder: &[
        1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512,
    ],
};

/// Most partitions an index may have.
pub const MAX_PARTITIONS: usize = 65_536;

/// Build parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IvfParams {
    pub num_partitions: usize,
    /// PQ only (0 for RaBitQ).
    pub num_sub_vectors: usize,
    /// Bits per PQ sub-vector code (8) or per RaBitQ dimension (1).
    pub num_bits: usize,
    pub seed: u64,
}

impl IvfParams {
    /// The user's options for `n` vectors of `dim`, checked and filled in; HNSW options are
    /// refused.
    pub fn resolve<C: Codec>(dim: usize, n: usize, opts: &BuildOptions) -> Result<IvfParams> {
        if opts.m.is_some() || opts.ef_construction.is_some() {
            return Err(Error::invalid(
                "m and ef_construction apply to HNSW; IVF indexes take num_partitions, num_sub_vectors and num_bits",
            ));
        }
        let parts = opts
            .num_partitions
            .unwrap_or_else(|| ((n as f64).sqrt() as usize).clamp(1, 4096));
        if parts == 0 || parts > MAX_PARTITIONS {
            return Err(Error::invalid(format!(
                "num_partitions must be between 1 and {MAX_PARTITIONS}, got {parts}"
            )));
        }
        let (num_sub_vectors, num_bits) = C::resolve(dim, opts)?;
        Ok(IvfParams {
            num_partitions: parts,
            num_sub_vectors,
            num_bits,
            seed: opts.seed(),
        })
    }
}

/// The IVF fields of an index header.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IvfFields {
    pub params: IvfParams,
}

/// The IVF kind coded by `C` (each codec module registers one as a static).
#[derive(Debug)]
pub struct IvfKind<C>(std::marker::PhantomData<C>);

impl<C> IvfKind<C> {
    pub const fn new() -> Self {
        IvfKind(std::marker::PhantomData)
    }
}

impl<C> Default for IvfKind<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Codec> IndexKind for IvfKind<C> {
    fn name(&self) -> &'static str {
        C::KIND_NAME
    }
}

impl<C: Codec> VectorKind for IvfKind<C> {
    fn knob(&self) -> Knob {
        KNOB
    }

    fn default_refine(&self) -> usize {
        C::DEFAULT_REFINE
    }

    /// The space comes with the header at open.
    fn builder(
        &self,
        _space: Space,
        dim: usize,
        n: usize,
        opts: &BuildOptions,
    ) -> Result<Box<dyn IndexBuilder>> {
        Ok(Box::new(IvfBuilder::<C> {
            dim,
            params: IvfParams::resolve::<C>(dim, n, opts)?,
            codec: std::marker::PhantomData,
        }))
    }

    fn open(&self, file: IndexFile, header: IndexHeader) -> Result<Box<dyn VectorIndex>> {
        Ok(Box::new(Ivf::<C>::open(file, header)?))
    }
}

/// Builds an IVF index coded by `C`.
pub struct IvfBuilder<C> {
    dim: usize,
    params: IvfParams,
    codec: std::marker::PhantomData<C>,
}

impl<C: Codec> IndexBuilder for IvfBuilder<C> {
    fn build(
        &self,
        vectors: &dyn VectorSource,
        row_ids: &[u64],
        progress: &AtomicU64,
        cancel: &CancelToken,
        w: &mut FileWriter,
    ) -> Result<serde_json::Value> {
        let (centroids, sample) = train::centroids(vectors, &self.params, cancel)?;
        let codec = C::train(self.dim, &sample, &centroids, &self.params, cancel)?;
        drop(sample);
        let enc = train::encode(&codec, &centroids, &self.params, vectors, progress, cancel)?;
        lists::write::<C>(
            self.dim,
            &self.params,
            &codec,
            &centroids,
            &enc,
            row_ids,
            None,
            w,
        )
    }
}

/// An opened IVF index coded by `C`.
#[derive(Debug)]
pub struct Ivf<C> {
    pub file: IndexFile,
    header: IndexHeader,
    pub space: Space,
    pub params: IvfParams,
    checked: Vec<OnceLock<bool>>,
    codec: OnceLock<C>,
    /// Squared norms of the centroids, computed on the first search.
    centroid_norms: OnceLock<Vec<f32>>,
}

impl<C: Codec> Ivf<C> {
    pub fn open(file: IndexFile, header: IndexHeader) -> Result<Ivf<C>> {
        let fields: IvfFields = header.kind_fields(&file)?;
        let p = fields.params;
        let k = p.num_partitions;
        if k == 0
            || k > MAX_PARTITIONS
            || C::code_bytes(header.dim, &p) == 0
            || (C::FACTORS == 0 && !header.dim.is_multiple_of(p.num_sub_vectors.max(1)))
        {
            return Err(Error::corrupt(
                file.path(),
                "IVF header parameters are inconsistent",
            ));
        }
        Ok(Ivf {
            space: Space::for_metric(header.metric),
            params: p,
            checked: (0..k).map(|_| OnceLock::new()).collect(),
            codec: OnceLock::new(),
            centroid_norms: OnceLock::new(),
            file,
            header,
        })
    }

    pub fn dim(&self) -> usize {
        self.header.dim
    }

    /// Nodes in the index.
    pub fn len(&self) -> usize {
        self.header.len
    }

    pub fn is_empty(&self) -> bool {
        self.header.len == 0
    }

    /// The trained codec, loaded from the file on first use.
    pub fn codec(&self) -> Result<&C> {
        if let Some(c) = self.codec.get() {
            return Ok(c);
        }
        let c = C::load(&self.file, self.dim(), &self.params)?;
        Ok(self.codec.get_or_init(|| c))
    }

    /// The centroids, checked for size.
    pub fn centroids(&self) -> Result<&[f32]> {
        let cents = self.file.get::<f32>("centroids")?;
        if cents.len() != self.params.num_partitions * self.dim() {
            return Err(Error::corrupt(
                self.file.path(),
                "IVF centroids have the wrong size",
            ));
        }
        Ok(cents)
    }

    /// The `nprobes` partitions nearest to the prepared query `q`.
    fn probes(&self, q: &[f32], nprobes: usize) -> Result<Vec<usize>> {
        let dim = self.dim();
        let k = self.params.num_partitions;
        let cents = self.centroids()?;
        let norms = self
            .centroid_norms
            .get_or_init(|| kmeans::row_norms(cents, dim));
        let mut scratch = vec![0f32; k];
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
                let key = match self.space {
                    Space::L2 => n - 2.0 * dot,
                    Space::Ip => -dot,
                };
                (key, j)
            })
            .collect();
        let probes = nprobes.clamp(1, k);
        order.select_nth_unstable_by(probes - 1, |a, b| a.0.total_cmp(&b.0));
        order.truncate(probes);
        Ok(order.into_iter().map(|(_, p)| p).collect())
    }
}

impl<C: Codec> VectorIndex for Ivf<C> {
    fn kind(&self) -> &'static dyn VectorKind {
        C::kind()
    }

    fn header(&self) -> &IndexHeader {
        &self.header
    }

    fn file(&self) -> &IndexFile {
        &self.file
    }

    fn candidates(
        &self,
        q: &[f32],
        param: usize,
        keep: usize,
        filter: Option<&NodeFilter>,
    ) -> Result<Vec<Scored>> {
        let dim = self.dim();
        if q.len() != dim {
            return Err(Error::invalid("IVF query has the wrong dimension"));
        }
        let probes = self.probes(q, param)?;
        let cents = self.centroids()?;
        let codec = self.codec()?;
        let mut query = codec.query(self.space, q, &self.file)?;
        let mut top = TopK::new(keep.max(1));
        for p in probes {
            let entries = self.checked_partition(p)?;
            let c = &cents[p * dim..(p + 1) * dim];
            codec.scan(self.space, &mut query, q, p, c, entries, filter, &mut top)?;
        }
        Ok(top
            .into_sorted()
            .into_iter()
            .map(|nb| Scored(nb.distance, nb.id as u32))
            .collect())
    }

    fn resolve(&self, k: usize, param: usize, refine: usize) -> (usize, usize) {
        (param.max(1), k.saturating_mul(refine.max(1)))
    }

    /// IVF probes `1/selectivity` times as many partitions.
    fn widen_for_filter(&self, param: usize, selectivity: f32) -> usize {
        if selectivity >= 1.0 {
            return param;
        }
        ((param as f32) / selectivity.max(0.01)).ceil() as usize
    }

    fn estimate_visited(&self, param: usize) -> usize {
        let parts = self.params.num_partitions.max(1);
        let len = self.len();
        (len.saturating_mul(param.min(parts)) / parts).min(len)
    }

    /// The shared ladder below the partition count, then every partition.
    fn calibration_ladder(&self) -> Vec<usize> {
        let k = self.params.num_partitions;
        let mut v: Vec<usize> = KNOB.ladder.iter().copied().filter(|&p| p < k).collect();
        v.push(k);
        v
    }

    fn extend_with(
        &self,
        vectors: &dyn VectorSource,
        row_ids: &[u64],
        progress: &AtomicU64,
        cancel: &CancelToken,
        w: &mut FileWriter,
    ) -> Result<serde_json::Value> {
        let (dim, codec, cents) = (self.dim(), self.codec()?, self.centroids()?);
        let enc = train::encode(codec, cents, &self.params, vectors, progress, cancel)?;
        lists::write::<C>(
            dim,
            &self.params,
            codec,
            cents,
            &enc,
            row_ids,
            Some(self),
            w,
        )
    }

    fn verify_structure(&self) -> Result<()> {
        for p in 0..self.params.num_partitions {
            self.check_partition(p)?;
        }
        Ok(())
    }

    /// As recorded, with the codec named as files before versioned headers did.
    fn params(&self) -> serde_json::Value {
        let mut p = serde_json::to_value(self.params).unwrap_or_default();
        if let Some(map) = p.as_object_mut() {
            map.insert("codec".into(), C::NAME.into());
        }
        p
    }
}
