//! Searching a frozen HNSW graph in place: a greedy descent through the upper layers, then
//! one best-first walk of layer 0 with the query's SQ8-prepared form.

use super::graph::Frozen;
use super::layer::{greedy, search_layer, Graph, Scored};
use super::node_distance;
use crate::filter::NodeFilter;
use crate::visited::with_visited;
use oxvec_linalg::sq8::Sq8Query;

impl Frozen<'_> {
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
    fn prefetch_links(&self, node: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            let g = self.g;
            let at = node as usize * (g.m0 + 1);
            if at < g.links0.len() {
                let p = g.links0[at..].as_ptr() as *const i8;
                let bytes = (g.m0 + 1) * 4;
                // SAFETY: a prefetch of any address has no observable effect; these are
                // inside `links0` (the row is `bytes` long).
                unsafe {
                    let mut off = 0;
                    while off < bytes {
                        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                            p.add(off),
                        );
                        off += 64;
                    }
                }
            }
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
