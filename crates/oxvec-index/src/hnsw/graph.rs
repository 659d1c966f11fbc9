//! The HNSW file layout: the sections a built graph is written as, the kind's header
//! fields, and [`Frozen`], the graph viewed in place from the memory map (checked once).

use super::build::Builder;
use super::{HnswParams, MAX_M};
use crate::file::{FileWriter, IndexFile};
use crate::header::IndexHeader;
use crate::space::Space;
use oxvec_core::{Error, Result};
use oxvec_linalg::sq8::Sq8;
use serde::{Deserialize, Serialize};

/// Largest dimension a graph file may claim (the table format's own limit is lower).
const MAX_DIM: usize = 1 << 20;

/// The HNSW fields of an index header.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HnswFields {
    pub params: HnswParams,
    pub entry: u32,
    pub max_level: u8,
}

/// A built graph, viewed in place (from a file or from a builder's arrays).
#[derive(Debug)]
pub struct Frozen<'a> {
    pub n: usize,
    pub dim: usize,
    pub space: Space,
    pub params: HnswParams,
    pub m0: usize,
    pub entry: u32,
    pub max_level: u8,
    pub sq: &'a Sq8,
    pub codes: &'a [u8],
    pub norms: &'a [f32],
    pub levels: &'a [u8],
    pub links0: &'a [u32],
    pub upper_off: &'a [u32],
    pub upper: &'a [u32],
}

/// Writes a finished builder as index-file sections (`row_ids` maps node -> table row id).
pub fn write(b: &Builder, row_ids: &[u64], w: &mut FileWriter) -> HnswFields {
    let links0: Vec<u32> = b
        .links0
        .iter()
        .map(|a| a.load(std::sync::atomic::Ordering::Relaxed))
        .collect();
    let upper: Vec<u32> = b
        .upper
        .iter()
        .map(|a| a.load(std::sync::atomic::Ordering::Relaxed))
        .collect();
    let (entry, max_level) = b.entry();
    w.section("codes", &b.codes)
        .section("norms", &b.norms)
        .section("levels", &b.levels)
        .section("links0", &links0)
        .section("upper_off", &b.upper_off)
        .section("upper", &upper)
        .section("sq_min", &b.sq.min)
        .section("sq_scale", &b.sq.scale)
        .section("row_ids", row_ids);
    HnswFields {
        params: b.params,
        entry,
        max_level,
    }
}

/// The small, parsed part of an HNSW file: read once per opened file.
#[derive(Debug, Clone)]
pub struct HnswHeader {
    pub n: usize,
    pub dim: usize,
    pub space: Space,
    pub params: HnswParams,
    pub m0: usize,
    pub entry: u32,
    pub max_level: u8,
    pub sq: Sq8,
}

impl HnswHeader {
    /// Parses the HNSW fields of `header` and checks the graph's sections agree with them.
    pub fn read(f: &IndexFile, header: &IndexHeader) -> Result<HnswHeader> {
        let meta: HnswFields = header.kind_fields(f)?;
        let h = HnswHeader {
            n: header.len,
            dim: header.dim,
            space: Space::for_metric(header.metric),
            params: meta.params,
            m0: meta.params.m.saturating_mul(2),
            entry: meta.entry,
            max_level: meta.max_level,
            sq: Sq8 {
                min: f.get::<f32>("sq_min")?.to_vec(),
                scale: f.get::<f32>("sq_scale")?.to_vec(),
            },
        };
        Frozen::view(f, &h)?.validate(f)?;
        Ok(h)
    }
}

impl<'a> Frozen<'a> {
    /// Views the graph stored in `f` whose header `h` was read (and checked) before.
    pub fn view(f: &'a IndexFile, h: &'a HnswHeader) -> Result<Frozen<'a>> {
        Ok(Frozen {
            n: h.n,
            dim: h.dim,
            space: h.space,
            params: h.params,
            m0: h.m0,
            entry: h.entry,
            max_level: h.max_level,
            sq: &h.sq,
            codes: f.get("codes")?,
            norms: f.get("norms")?,
            levels: f.get("levels")?,
            links0: f.get("links0")?,
            upper_off: f.get("upper_off")?,
            upper: f.get("upper")?,
        })
    }

    /// Every length and offset checked, so search can index without re-checking.
    fn validate(&self, f: &IndexFile) -> Result<()> {
        let bad = |m: &str| Error::corrupt(f.path(), m.to_string());
        let fr = self;
        let m0 = fr.m0;
        let n = fr.n;
        // Bounds first, so the products below cannot overflow on a damaged header.
        let ok = (2..=MAX_M).contains(&fr.params.m)
            && n < u32::MAX as usize
            && fr.dim <= MAX_DIM
            && fr.codes.len() == n * fr.dim
            && fr.norms.len() == n
            && fr.levels.len() == n
            && fr.links0.len() == n * (m0 + 1)
            && fr.upper_off.len() == n
            && fr.sq.min.len() == fr.dim
            && fr.sq.scale.len() == fr.dim
            && (n == 0 || (fr.entry as usize) < n);
        if !ok {
            return Err(bad("HNSW sections do not agree on the node count"));
        }
        for i in 0..n {
            let l = fr.levels[i] as usize;
            let end = fr.upper_off[i] as usize + l * (fr.params.m + 1);
            if l > fr.max_level as usize || end > fr.upper.len() {
                return Err(bad("HNSW upper layer offsets out of range"));
            }
        }
        Ok(())
    }
}
