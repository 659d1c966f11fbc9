//! `IVF_PQ`: IVF with product-quantized residuals (8-bit codes, one byte per sub-vector),
//! scored by asymmetric distance tables.

use crate::file::{FileWriter, IndexFile};
use crate::filter::NodeFilter;
use crate::ivf::{Codec, Entries, IvfKind, IvfParams};
use crate::kind::VectorKind;
use crate::options::BuildOptions;
use crate::space::Space;
use oxvec_core::{CancelToken, Error, Result};
use oxvec_linalg::kmeans;
use oxvec_linalg::pq::{adc, ProductQuantizer, CODEBOOK};
use oxvec_linalg::rng::SplitMix64;
use oxvec_linalg::TopK;

/// The `IVF_PQ` kind: IVF with [`Pq`] residuals.
pub static IVF_PQ: IvfKind<Pq> = IvfKind::new();

/// Rows sampled to train the codebooks.
const TRAIN_SAMPLE: usize = 256 * 64;

/// The product quantizer as an IVF residual codec.
#[derive(Debug, Clone)]
pub struct Pq(ProductQuantizer);

/// A query's distance table (for inner product, one for all partitions).
pub struct PqQuery {
    table: Vec<f32>,
    resid: Vec<f32>,
}

impl Codec for Pq {
    const FACTORS: usize = 0;
    const NAME: &'static str = "Pq";
    type Query<'a> = PqQuery;
    type Scratch = ();

    const KIND_NAME: &'static str = "IVF_PQ";
    const DEFAULT_REFINE: usize = 10;

    fn kind() -> &'static dyn VectorKind {
        &IVF_PQ
    }

    fn resolve(dim: usize, opts: &BuildOptions) -> Result<(usize, usize)> {
        let subs = opts.num_sub_vectors.unwrap_or_else(|| {
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
        let bits = opts.num_bits.unwrap_or(8);
        if bits != 8 {
            return Err(Error::invalid(format!(
                "IVF_PQ supports num_bits=8, got {bits}"
            )));
        }
        Ok((subs, bits))
    }

    fn code_bytes(_dim: usize, params: &IvfParams) -> usize {
        params.num_sub_vectors
    }

    /// Trains the codebooks on the residuals of a sample.
    fn train(
        dim: usize,
        data: &[f32],
        centroids: &[f32],
        p: &IvfParams,
        cancel: &CancelToken,
    ) -> Result<Pq> {
        let n = data.len() / dim;
        let mut rng = SplitMix64::new(p.seed ^ 0x5051);
        let picks = rng.sample(n, TRAIN_SAMPLE);
        let sample: Vec<f32> = picks
            .iter()
            .flat_map(|&i| data[i * dim..(i + 1) * dim].to_vec())
            .collect();
        let labels = kmeans::assign(&sample, dim, centroids, cancel)?;
        let mut resid = sample;
        for (r, &l) in resid.chunks_exact_mut(dim).zip(&labels) {
            let c = &centroids[l as usize * dim..(l as usize + 1) * dim];
            r.iter_mut().zip(c).for_each(|(x, c)| *x -= c);
        }
        let pq = ProductQuantizer::train(&resid, dim, p.num_sub_vectors, p.seed, cancel)?;
        Ok(Pq(pq))
    }

    fn load(file: &IndexFile, dim: usize, params: &IvfParams) -> Result<Pq> {
        let c = file.get::<f32>("pq_centroids")?;
        let m = params.num_sub_vectors;
        if m == 0 || c.len() != m * CODEBOOK * (dim / m) {
            return Err(Error::corrupt(
                file.path(),
                "PQ codebook has the wrong size",
            ));
        }
        Ok(Pq(ProductQuantizer {
            dim,
            m,
            centroids: c.to_vec(),
        }))
    }

    fn write(&self, _centroids: &[f32], _dim: usize, w: &mut FileWriter) {
        w.section("pq_centroids", &self.0.centroids);
    }

    fn encode(&self, resid: &[f32], _s: &mut (), code: &mut [u8], _factors: &mut [f32]) {
        self.0.encode(resid, code);
    }

    fn query<'a>(&'a self, space: Space, q: &[f32], _file: &'a IndexFile) -> Result<PqQuery> {
        let mut table = Vec::new();
        if space == Space::Ip {
            self.0.dot_table(q, &mut table);
        }
        Ok(PqQuery {
            table,
            resid: vec![0f32; q.len()],
        })
    }

    fn scan(
        &self,
        space: Space,
        query: &mut PqQuery,
        q: &[f32],
        _p: usize,
        c: &[f32],
        entries: Entries<'_>,
        filter: Option<&NodeFilter>,
        top: &mut TopK,
    ) -> Result<()> {
        let qc: f32 = q.iter().zip(c).map(|(a, b)| a * b).sum();
        if space == Space::L2 {
            for ((r, &x), &cc) in query.resid.iter_mut().zip(q).zip(c) {
                *r = x - cc;
            }
            self.0.l2_table(&query.resid, &mut query.table);
        }
        for (&id, code) in entries.ids.iter().zip(entries.codes.chunks_exact(self.0.m)) {
            if filter.is_some_and(|f| !f.allows(id)) {
                continue;
            }
            let a = adc(&query.table, code);
            let d = match space {
                Space::L2 => a,
                Space::Ip => 1.0 - qc - a,
            };
            top.push(d, id as u64);
        }
        Ok(())
    }
}
