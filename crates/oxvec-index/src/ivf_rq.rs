//! `IVF_RQ`: IVF with RaBitQ residuals (one bit per dimension after a random rotation, two
//! correction factors per vector), scored by popcounts against a quantized query.

use crate::file::{cast, FileWriter, IndexFile};
use crate::filter::NodeFilter;
use crate::ivf::{Codec, Entries, IvfKind, IvfParams};
use crate::kind::VectorKind;
use crate::options::BuildOptions;
use crate::space::Space;
use oxvec_core::{CancelToken, Error, Result};
use oxvec_linalg::rabitq::{RaBitQ, RabitFactors, RabitQuery, MAX_DIM};
use oxvec_linalg::TopK;
use std::path::Path;

/// The `IVF_RQ` kind: IVF with [`Rq`] residuals.
pub static IVF_RQ: IvfKind<Rq> = IvfKind::new();

/// RaBitQ as an IVF residual codec.
#[derive(Debug, Clone)]
pub struct Rq(RaBitQ);

/// The rotated query, and per partition its quantized form.
pub struct RqQuery<'a> {
    path: &'a Path,
    rotated: Vec<f32>,
    /// Rotated centroids (`k * dim`).
    rot_centroids: &'a [f32],
    prepared: RabitQuery,
    shifted: Vec<f32>,
    estimates: Vec<f32>,
    factors: Vec<RabitFactors>,
}

/// Scratch for coding one residual.
#[derive(Default)]
pub struct RqScratch {
    rotated: Vec<f32>,
    words: Vec<u64>,
}

impl Codec for Rq {
    const FACTORS: usize = 2;
    const NAME: &'static str = "Rq";
    type Query<'a> = RqQuery<'a>;
    type Scratch = RqScratch;

    const KIND_NAME: &'static str = "IVF_RQ";
    const DEFAULT_REFINE: usize = 20;

    fn kind() -> &'static dyn VectorKind {
        &IVF_RQ
    }

    fn resolve(dim: usize, opts: &BuildOptions) -> Result<(usize, usize)> {
        let bits = opts.num_bits.unwrap_or(1);
        if bits != 1 {
            return Err(Error::invalid(format!(
                "IVF_RQ supports num_bits=1, got {bits}"
            )));
        }
        if opts.num_sub_vectors.is_some() {
            return Err(Error::invalid(
                "num_sub_vectors applies to IVF_PQ, not IVF_RQ",
            ));
        }
        if dim > MAX_DIM {
            return Err(Error::invalid(format!(
                "IVF_RQ supports vectors of up to {MAX_DIM} dimensions, got {dim}"
            )));
        }
        Ok((0, bits))
    }

    fn code_bytes(dim: usize, _params: &IvfParams) -> usize {
        dim.div_ceil(64) * 8
    }

    fn train(
        dim: usize,
        _data: &[f32],
        _centroids: &[f32],
        p: &IvfParams,
        _cancel: &CancelToken,
    ) -> Result<Rq> {
        Ok(Rq(RaBitQ::new(dim, p.seed ^ 0x5251)))
    }

    fn load(file: &IndexFile, dim: usize, params: &IvfParams) -> Result<Rq> {
        let rot = file.get::<f32>("rotation")?;
        let rc = file.get::<f32>("rot_centroids")?;
        if dim > MAX_DIM || rot.len() != dim * dim || rc.len() != params.num_partitions * dim {
            return Err(Error::corrupt(
                file.path(),
                "RaBitQ rotation has the wrong size",
            ));
        }
        Ok(Rq(RaBitQ {
            dim,
            rotation: rot.to_vec(),
        }))
    }

    fn write(&self, centroids: &[f32], dim: usize, w: &mut FileWriter) {
        let mut rot_c = vec![0f32; centroids.len()];
        for (c, out) in centroids.chunks_exact(dim).zip(rot_c.chunks_exact_mut(dim)) {
            self.0.rotate(c, out);
        }
        w.section("rotation", &self.0.rotation)
            .section("rot_centroids", &rot_c);
    }

    fn encode(&self, resid: &[f32], s: &mut RqScratch, code: &mut [u8], factors: &mut [f32]) {
        s.rotated.resize(resid.len(), 0.0);
        s.words.resize(resid.len().div_ceil(64), 0);
        self.0.rotate(resid, &mut s.rotated);
        let f = self.0.encode_rotated(&s.rotated, &mut s.words);
        for (k, w) in s.words.iter().enumerate() {
            code[k * 8..k * 8 + 8].copy_from_slice(&w.to_le_bytes());
        }
        factors.copy_from_slice(&[f.norm, f.ip_xo]);
    }

    fn query<'a>(&'a self, space: Space, q: &[f32], file: &'a IndexFile) -> Result<RqQuery<'a>> {
        let mut rotated = vec![0f32; q.len()];
        self.0.rotate(q, &mut rotated);
        let mut prepared = RabitQuery::default();
        if space == Space::Ip {
            self.0.prepare(&rotated, &mut prepared);
        }
        Ok(RqQuery {
            path: file.path(),
            shifted: vec![0f32; q.len()],
            rotated,
            // Its size was checked when the codec loaded.
            rot_centroids: file.get::<f32>("rot_centroids")?,
            prepared,
            estimates: Vec::new(),
            factors: Vec::new(),
        })
    }

    fn scan(
        &self,
        space: Space,
        query: &mut RqQuery<'_>,
        q: &[f32],
        p: usize,
        c: &[f32],
        entries: Entries<'_>,
        filter: Option<&NodeFilter>,
        top: &mut TopK,
    ) -> Result<()> {
        let dim = q.len();
        let qc: f32 = q.iter().zip(c).map(|(a, b)| a * b).sum();
        if space == Space::L2 {
            let rc = &query.rot_centroids[p * dim..(p + 1) * dim];
            for ((o, &a), &b) in query.shifted.iter_mut().zip(&query.rotated).zip(rc) {
                *o = a - b;
            }
            self.0.prepare(&query.shifted, &mut query.prepared);
        }
        let n = entries.ids.len();
        let codes: &[u64] = cast(entries.codes)
            .ok_or_else(|| Error::corrupt(query.path, "misaligned RaBitQ codes"))?;
        query.factors.clear();
        query
            .factors
            .extend(entries.factors.chunks_exact(2).map(|f| RabitFactors {
                norm: f[0],
                ip_xo: f[1],
            }));
        query.estimates.resize(n, 0.0);
        let words = dim.div_ceil(64);
        self.0.estimate_batch(
            &query.prepared,
            &codes[..n * words],
            &query.factors,
            &mut query.estimates,
        );
        for ((&id, &e), f) in entries.ids.iter().zip(&query.estimates).zip(&query.factors) {
            if filter.is_some_and(|fl| !fl.allows(id)) {
                continue;
            }
            let d = match space {
                Space::L2 => f.norm * f.norm + query.prepared.norm_sq - 2.0 * f.norm * e,
                Space::Ip => 1.0 - qc - f.norm * e,
            };
            top.push(d, id as u64);
        }
        Ok(())
    }
}
