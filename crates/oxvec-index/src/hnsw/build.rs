//! Parallel HNSW construction (Malkov & Yashunin) over SQ8 codes.
//!
//! Nodes are inserted concurrently on rayon. Each node's neighbour lists sit in one flat
//! array of atomics guarded by a per-node spin lock, held only to copy or rewrite a list.
//! Distances during the build are asymmetric SQ8 (the inserted vector in full precision
//! against codes), so the walk reads one byte per dimension instead of four; neighbour
//! pruning uses the same distances from decoded vectors.

use super::graph::Frozen;
use super::layer::{greedy, search_layer, Graph, Scored};
use super::{node_distance, HnswParams};
use crate::space::Space;
use crate::visited::with_visited;
use oxvec_core::{CancelToken, Result};
use oxvec_linalg::rng::SplitMix64;
use oxvec_linalg::sq8::{Sq8, Sq8Query};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::*};
use std::sync::Mutex;

/// Largest level a node may get.
const MAX_LEVEL: u8 = 16;

pub struct Builder {
    pub space: Space,
    pub dim: usize,
    pub params: HnswParams,
    pub m0: usize,
    pub sq: Sq8,
    pub codes: Vec<u8>,
    pub norms: Vec<f32>,
    pub levels: Vec<u8>,
    /// Per node `m0 + 1` slots: count, then neighbours.
    pub links0: Vec<AtomicU32>,
    /// Per node, start of its upper lists in `upper` (`levels[i]` lists of `m + 1` slots).
    pub upper_off: Vec<u32>,
    pub upper: Vec<AtomicU32>,
    locks: Vec<AtomicBool>,
    /// (entry node, top level); `u32::MAX` before the first insert.
    entry: Mutex<(u32, u8)>,
}

fn random_level(rng: &mut SplitMix64, m: usize) -> u8 {
    let ml = 1.0 / (m.max(2) as f64).ln();
    let u = rng.next_f64().max(f64::MIN_POSITIVE);
    ((-u.ln() * ml) as u64).min(MAX_LEVEL as u64) as u8
}

impl Builder {
    /// An empty graph for `levels.len()` nodes whose codes are filled in as they are inserted.
    fn empty(space: Space, dim: usize, params: HnswParams, sq: Sq8, levels: Vec<u8>) -> Builder {
        let n = levels.len();
        let m0 = params.m * 2;
        let mut upper_off = Vec::with_capacity(n);
        let mut at = 0u64;
        for &l in &levels {
            upper_off.push(at as u32);
            at += l as u64 * (params.m as u64 + 1);
        }
        Builder {
            space,
            dim,
            params,
            m0,
            sq,
            codes: vec![0; n * dim],
            norms: vec![0.0; n],
            levels,
            links0: (0..n * (m0 + 1)).map(|_| AtomicU32::new(0)).collect(),
            upper_off,
            upper: (0..at).map(|_| AtomicU32::new(0)).collect(),
            locks: (0..n).map(|_| AtomicBool::new(false)).collect(),
            entry: Mutex::new((u32::MAX, 0)),
        }
    }

    /// A builder for `n` new nodes.
    pub fn new(space: Space, dim: usize, params: HnswParams, sq: Sq8, n: usize) -> Builder {
        let mut rng = SplitMix64::new(params.seed);
        let levels = (0..n).map(|_| random_level(&mut rng, params.m)).collect();
        Builder::empty(space, dim, params, sq, levels)
    }

    /// A builder holding `old`'s graph with room for `extra` more nodes.
    pub fn extend(old: &Frozen<'_>, extra: usize) -> Builder {
        let mut rng = SplitMix64::new(old.params.seed ^ old.n as u64);
        let mut levels = old.levels.to_vec();
        levels.extend((0..extra).map(|_| random_level(&mut rng, old.params.m)));
        let mut b = Builder::empty(old.space, old.dim, old.params, old.sq.clone(), levels);
        b.codes[..old.codes.len()].copy_from_slice(old.codes);
        b.norms[..old.n].copy_from_slice(old.norms);
        for (dst, &src) in b.links0.iter_mut().zip(old.links0) {
            *dst.get_mut() = src;
        }
        for i in 0..old.n {
            let len = old.levels[i] as usize * (old.params.m + 1);
            let from = old.upper_off[i] as usize;
            let to = b.upper_off[i] as usize;
            for j in 0..len {
                *b.upper[to + j].get_mut() = old.upper[from + j];
            }
        }
        *b.entry.get_mut().expect("entry lock") = (old.entry, old.max_level);
        b
    }

    fn lock(&self, i: u32) {
        let l = &self.locks[i as usize];
        while l
            .compare_exchange_weak(false, true, Acquire, Relaxed)
            .is_err()
        {
            std::hint::spin_loop();
        }
    }

    fn unlock(&self, i: u32) {
        self.locks[i as usize].store(false, Release);
    }

    fn slots(&self, node: u32, level: usize) -> &[AtomicU32] {
        if level == 0 {
            let s = node as usize * (self.m0 + 1);
            &self.links0[s..s + self.m0 + 1]
        } else {
            let w = self.params.m + 1;
            let s = self.upper_off[node as usize] as usize + (level - 1) * w;
            &self.upper[s..s + w]
        }
    }

    fn read(&self, node: u32, level: usize, out: &mut Vec<u32>) {
        out.clear();
        let s = self.slots(node, level);
        self.lock(node);
        let n = (s[0].load(Relaxed) as usize).min(s.len() - 1);
        out.extend(s[1..=n].iter().map(|a| a.load(Relaxed)));
        self.unlock(node);
    }

    fn write_locked(&self, node: u32, level: usize, list: &[u32]) {
        let s = self.slots(node, level);
        for (slot, &v) in s[1..].iter().zip(list) {
            slot.store(v, Relaxed);
        }
        s[0].store(list.len() as u32, Relaxed);
    }

    fn code(&self, node: u32) -> &[u8] {
        &self.codes[node as usize * self.dim..(node as usize + 1) * self.dim]
    }

    /// A prepared query for the decoded vector of `node`.
    fn query_of(&self, node: u32) -> Sq8Query {
        let mut v = vec![0f32; self.dim];
        self.sq.decode(self.code(node), &mut v);
        self.sq.prepare_float(&v)
    }

    fn dist(&self, q: &Sq8Query, node: u32) -> f32 {
        node_distance(self.space, q, self.code(node), self.norms[node as usize])
    }

    /// HNSW's neighbour heuristic: keep a candidate only if it is closer to the base than to
    /// every neighbour already kept. `cands` must be sorted by distance to the base.
    fn select(&self, cands: &[Scored], max: usize) -> Vec<u32> {
        if cands.len() <= max {
            return cands.iter().map(|s| s.1).collect();
        }
        // Each kept neighbour is prepared once as a query; a candidate is then compared with
        // it from that side (the distance is symmetric), so preparing costs `max`, not the
        // number of candidates examined.
        let mut kept: Vec<(u32, Sq8Query)> = Vec::with_capacity(max);
        for c in cands {
            if kept.len() >= max {
                break;
            }
            if kept.iter().all(|(_, q)| self.dist(q, c.1) >= c.0) {
                kept.push((c.1, self.query_of(c.1)));
            }
        }
        kept.into_iter().map(|(k, _)| k).collect()
    }

    /// Adds `new` to `node`'s list at `level`, pruning with the heuristic when full;
    /// returns whether `new` is in the list afterwards.
    fn link(&self, node: u32, new: u32, level: usize) -> bool {
        let cap = if level == 0 { self.m0 } else { self.params.m };
        let s = self.slots(node, level);
        self.lock(node);
        let n = (s[0].load(Relaxed) as usize).min(cap);
        let list: Vec<u32> = s[1..=n].iter().map(|a| a.load(Relaxed)).collect();
        if list.contains(&new) {
            self.unlock(node);
            return true;
        }
        if n < cap {
            s[n + 1].store(new, Relaxed);
            s[0].store(n as u32 + 1, Relaxed);
            self.unlock(node);
            return true;
        }
        let q = self.query_of(node);
        let mut cands: Vec<Scored> = list
            .iter()
            .chain(std::iter::once(&new))
            .map(|&x| Scored(self.dist(&q, x), x))
            .collect();
        cands.sort_unstable();
        let kept = self.select(&cands, cap);
        self.write_locked(node, level, &kept);
        self.unlock(node);
        kept.contains(&new)
    }

    /// Puts `new` into `node`'s full list in place of its farthest entry: used when the
    /// heuristic pruned `new` from every neighbour, which would leave it unreachable (an
    /// outlier far from everything otherwise never shows up in results).
    fn force_link(&self, node: u32, new: u32, level: usize) {
        let s = self.slots(node, level);
        self.lock(node);
        let n = (s[0].load(Relaxed) as usize).min(s.len() - 1);
        let list: Vec<u32> = s[1..=n].iter().map(|a| a.load(Relaxed)).collect();
        if !list.contains(&new) {
            let q = self.query_of(node);
            let mut cands: Vec<Scored> =
                list.iter().map(|&x| Scored(self.dist(&q, x), x)).collect();
            cands.sort_unstable();
            let mut kept: Vec<u32> = cands.iter().map(|c| c.1).collect();
            if kept.len() == s.len() - 1 {
                kept.pop();
            }
            kept.push(new);
            self.write_locked(node, level, &kept);
        }
        self.unlock(node);
    }

    /// Encodes nodes `range` (before they are inserted); `vector(i)` is node `i`'s prepared
    /// vector.
    pub fn encode(
        &mut self,
        range: std::ops::Range<u32>,
        vector: &(dyn Fn(u32) -> Vec<f32> + Sync),
    ) {
        let dim = self.dim;
        let sq = &self.sq;
        let start = range.start as usize;
        let end = range.end as usize;
        self.codes[start * dim..end * dim]
            .par_chunks_mut(dim)
            .zip(self.norms[start..end].par_iter_mut())
            .enumerate()
            .for_each(|(j, (code, norm))| {
                *norm = sq.encode(&vector((start + j) as u32), code);
            });
    }

    /// Inserts `node` (already encoded) whose prepared vector is `v`.
    pub fn insert(&self, node: u32, v: &[f32]) {
        let q = self.sq.prepare(v);
        let level = self.levels[node as usize];
        let (ep, top) = {
            let mut e = self.entry.lock().expect("entry lock");
            if e.0 == u32::MAX {
                *e = (node, level);
                return;
            }
            *e
        };
        let view = BuildView { b: self, q: &q };
        let mut buf = Vec::new();
        let mut cur = Scored(view.distance(ep), ep);
        for l in (level as usize + 1..=top as usize).rev() {
            cur = greedy(&view, cur, l, &mut buf);
        }
        let mut eps = vec![cur];
        for l in (0..=level.min(top) as usize).rev() {
            let found = with_visited(self.levels.len(), |vis| {
                search_layer(
                    &view,
                    &eps,
                    self.params.ef_construction,
                    l,
                    None,
                    vis,
                    &mut buf,
                )
            });
            let chosen = self.select(&found, self.params.m);
            self.lock(node);
            self.write_locked(node, l, &chosen);
            self.unlock(node);
            let mut reachable = false;
            for &c in &chosen {
                reachable |= self.link(c, node, l);
            }
            if !reachable {
                if let Some(&nearest) = chosen.first() {
                    self.force_link(nearest, node, l);
                }
            }
            eps = found;
        }
        if level > top {
            let mut e = self.entry.lock().expect("entry lock");
            if level > e.1 {
                *e = (node, level);
            }
        }
    }

    /// Inserts nodes `range` in parallel; `vector(i)` gives node `i`'s prepared vector.
    pub fn insert_all(
        &self,
        range: std::ops::Range<u32>,
        vector: &(dyn Fn(u32) -> Vec<f32> + Sync),
        progress: &AtomicU64,
        cancel: &CancelToken,
    ) -> Result<()> {
        let mut start = range.start;
        // The first node of an empty graph becomes its entry point alone.
        if self.entry.lock().expect("entry lock").0 == u32::MAX && start < range.end {
            self.insert(start, &vector(start));
            start += 1;
        }
        let ids: Vec<u32> = (start..range.end).collect();
        ids.par_chunks(256).try_for_each(|chunk| -> Result<()> {
            cancel.check()?;
            for &i in chunk {
                self.insert(i, &vector(i));
            }
            progress.fetch_add(chunk.len() as u64, Relaxed);
            Ok(())
        })?;
        self.repair_orphans(range.end);
        Ok(())
    }

    /// Gives every layer-0 node that no other node links to an in-link from its nearest
    /// neighbour. Concurrent inserts can prune a node from every list that held it after its
    /// own insert checked it was reachable, and such a node is then never returned, whatever
    /// `ef` (an exact-recall test at `ef` = half the table caught one). A repair can displace
    /// another node's only in-link, so it runs until none is left (a few passes at most).
    fn repair_orphans(&self, nodes: u32) {
        let entry = self.entry().0;
        let mut buf = Vec::new();
        for _ in 0..8 {
            let mut linked = vec![false; nodes as usize];
            for v in 0..nodes {
                self.read(v, 0, &mut buf);
                for &u in &buf {
                    if let Some(l) = linked.get_mut(u as usize) {
                        *l = true;
                    }
                }
            }
            let orphans: Vec<u32> = (0..nodes)
                .filter(|&v| !linked[v as usize] && v != entry)
                .collect();
            if orphans.is_empty() {
                return;
            }
            for v in orphans {
                self.read(v, 0, &mut buf);
                if let Some(&nearest) = buf.first() {
                    self.force_link(nearest, v, 0);
                }
            }
        }
    }

    /// The entry point and top level.
    pub fn entry(&self) -> (u32, u8) {
        *self.entry.lock().expect("entry lock")
    }
}

struct BuildView<'a> {
    b: &'a Builder,
    q: &'a Sq8Query,
}

impl Graph for BuildView<'_> {
    fn neighbors(&self, node: u32, level: usize, out: &mut Vec<u32>) {
        self.b.read(node, level, out)
    }
    fn distance(&self, node: u32) -> f32 {
        self.b.dist(self.q, node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxvec_linalg::rng::SplitMix64;

    #[test]
    fn every_node_but_the_entry_has_an_in_link_after_a_parallel_build() {
        // Clustered points and a small m: the setting where pruning orphaned a few nodes in
        // every build before the repair pass.
        let (n, dim) = (4000usize, 16usize);
        let mut rng = SplitMix64::new(3);
        let centers: Vec<f32> = (0..40 * dim).map(|_| rng.gaussian() as f32 * 3.0).collect();
        let mut data = Vec::with_capacity(n * dim);
        for _ in 0..n {
            let c = rng.below(40);
            data.extend((0..dim).map(|d| centers[c * dim + d] + rng.gaussian() as f32));
        }
        let params = HnswParams {
            m: 8,
            ef_construction: 40,
            seed: 1,
        };
        let mut b = Builder::new(Space::L2, dim, params, Sq8::train(&data, dim), n);
        let vec_of = |i: u32| data[i as usize * dim..(i as usize + 1) * dim].to_vec();
        b.encode(0..n as u32, &vec_of);
        b.insert_all(
            0..n as u32,
            &vec_of,
            &AtomicU64::new(0),
            &CancelToken::new(),
        )
        .unwrap();
        let mut linked = vec![false; n];
        let mut buf = Vec::new();
        for v in 0..n as u32 {
            b.read(v, 0, &mut buf);
            for &u in &buf {
                linked[u as usize] = true;
            }
        }
        let entry = b.entry().0;
        let orphans: Vec<usize> = (0..n)
            .filter(|&v| !linked[v] && v as u32 != entry)
            .collect();
        assert!(orphans.is_empty(), "unreachable nodes: {orphans:?}");
    }
}
