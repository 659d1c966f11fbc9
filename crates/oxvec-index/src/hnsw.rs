//! HNSW over SQ8 codes: the graph index.
//!
//! Built in parallel by [`build::Builder`], written as sections of an index file and searched
//! in place from the memory map ([`Frozen`]). Search returns the `ef` best nodes by SQ8
//! distance; the caller re-ranks them with the full vectors.

pub mod build;
pub mod layer;

use crate::file::{FileWriter, IndexFile};
use crate::filter::NodeFilter;
use crate::space::Space;
use crate::visited::with_visited;
use layer::{greedy, search_layer, Graph, Scored};
use oxvec_core::{Error, Result};
use oxvec_linalg::sq8::{Sq8, Sq8Query};
use serde::{Deserialize, Serialize};

/// Build parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HnswParams {
    /// Neighbours per node on upper layers (twice that on layer 0).
    pub m: usize,
    pub ef_construction: usize,
    pub seed: u64,
}

impl Default for HnswParams {
    fn default() -> Self {
        HnswParams {
            m: 16,
            ef_construction: 150,
            seed: 42,
        }
    }
}

/// Distance from a prepared query to a code with decoded squared norm `norm`.
#[inline]
pub fn node_distance(space: Space, q: &Sq8Query, code: &[u8], norm: f32) -> f32 {
    space.from_dot(q.norm_sq, norm, q.dot(code))
}

/// The header fields of an HNSW file.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    n: usize,
    dim: usize,
    space: Space,
    params: HnswParams,
    entry: u32,
    max_level: u8,
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
pub fn write(b: &build::Builder, row_ids: &[u64], w: &mut FileWriter) -> serde_json::Value {
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
    serde_json::to_value(Meta {
        n: b.levels.len(),
        dim: b.dim,
        space: b.space,
        params: b.params,
        entry,
        max_level,
    })
    .expect("plain struct serializes")
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
    /// Parses the header of `f` and checks the graph's sections agree with it.
    pub fn read(f: &IndexFile) -> Result<HnswHeader> {
        let bad = |m: &str| Error::corrupt(f.path(), m.to_string());
        let meta: Meta = serde_json::from_value(f.header.meta.clone())
            .map_err(|e| bad(&format!("bad HNSW header: {e}")))?;
        let h = HnswHeader {
            n: meta.n,
            dim: meta.dim,
            space: meta.space,
            params: meta.params,
            m0: meta.params.m * 2,
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
        let ok = fr.codes.len() == n * fr.dim
            && fr.norms.len() == n
            && fr.levels.len() == n
            && fr.links0.len() == n * (m0 + 1)
            && fr.upper_off.len() == n
            && fr.sq.min.len() == fr.dim
            && fr.sq.scale.len() == fr.dim
            && (n == 0 || (fr.entry as usize) < n)
            && fr.params.m >= 2;
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

    /// The `ef` nearest allowed nodes to the prepared query `v`, sorted, in index space.
    pub fn search(&self, v: &[f32], ef: usize, filter: Option<&NodeFilter>) -> Vec<Scored> {
        if self.n == 0 || filter.is_some_and(|f| f.count() == 0) {
            return Vec::new();
        }
        let q = self.sq.prepare(v);
        let view = FrozenView { g: self, q: &q };
        let mut buf = Vec::with_capacity(self.m0);
        let mut cur = Scored(view.distance(self.entry), self.entry);
        for l in (1..=self.max_level as usize).rev() {
            cur = greedy(&view, cur, l, &mut buf);
        }
        with_visited(self.n, |vis| {
            search_layer(&view, &[cur], ef.max(1), 0, filter, vis, &mut buf)
        })
    }
}

struct FrozenView<'a, 'g> {
    g: &'a Frozen<'g>,
    q: &'a Sq8Query,
}

impl Graph for FrozenView<'_, '_> {
    #[inline]
    fn neighbors(&self, node: u32, level: usize, out: &mut Vec<u32>) {
        out.clear();
        let g = self.g;
        let s = if level == 0 {
            &g.links0[node as usize * (g.m0 + 1)..(node as usize + 1) * (g.m0 + 1)]
        } else {
            if (g.levels[node as usize] as usize) < level {
                return;
            }
            let w = g.params.m + 1;
            let at = g.upper_off[node as usize] as usize + (level - 1) * w;
            &g.upper[at..at + w]
        };
        let cnt = (s[0] as usize).min(s.len() - 1);
        out.extend(s[1..=cnt].iter().copied().filter(|&x| (x as usize) < g.n));
    }

    #[inline]
    fn distance(&self, node: u32) -> f32 {
        let g = self.g;
        let i = node as usize;
        node_distance(
            g.space,
            self.q,
            &g.codes[i * g.dim..(i + 1) * g.dim],
            g.norms[i],
        )
    }

    fn distances(&self, nodes: &[u32], out: &mut Vec<f32>, ints: &mut Vec<i32>) {
        let g = self.g;
        self.q.dots(g.codes, nodes, ints, out);
        for (d, &n) in out.iter_mut().zip(nodes) {
            *d = g.space.from_dot(self.q.norm_sq, g.norms[n as usize], *d);
        }
    }

    #[inline]
    fn prefetch(&self, node: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            let i = node as usize;
            if i < self.g.n {
                let p = self.g.codes[i * self.g.dim..].as_ptr() as *const i8;
                // SAFETY: a prefetch of a valid address has no observable effect.
                unsafe {
                    std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                        self.g.norms.as_ptr().add(i) as *const i8,
                    );
                    let mut at = 0;
                    while at < self.g.dim {
                        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                            p.add(at),
                        );
                        at += 64;
                    }
                }
            }
        }
    }
}
