//! The one graph walk both the builder and the frozen index use: best-first search of one
//! layer, optionally returning only nodes a [`NodeFilter`] allows.

use crate::filter::NodeFilter;
use crate::visited::Visited;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// A node and its distance; ordered by distance, then node.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored(pub f32, pub u32);

impl Eq for Scored {}
impl Ord for Scored {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.total_cmp(&o.0).then(self.1.cmp(&o.1))
    }
}
impl PartialOrd for Scored {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// What a layer search needs from a graph.
pub trait Graph {
    /// Appends the neighbours of `node` at `level` to `out` (cleared first).
    fn neighbors(&self, node: u32, level: usize, out: &mut Vec<u32>);
    /// Distance from the prepared query to `node`.
    fn distance(&self, node: u32) -> f32;
    /// Hints that `node`'s vector will be read soon.
    fn prefetch(&self, _node: u32) {}
    /// Hints that `node`'s neighbour list at layer 0 will be read soon.
    fn prefetch_links(&self, _node: u32) {}
    /// Distances to several nodes at once, into `out` (cleared first); `ints` is scratch.
    fn distances(&self, nodes: &[u32], out: &mut Vec<f32>, _ints: &mut Vec<i32>) {
        out.clear();
        out.extend(nodes.iter().map(|&n| self.distance(n)));
    }
}

/// Greedy descent through one upper layer: follows any closer neighbour until none is.
pub fn greedy<G: Graph>(g: &G, mut cur: Scored, level: usize, buf: &mut Vec<u32>) -> Scored {
    loop {
        let mut moved = false;
        g.neighbors(cur.1, level, buf);
        for &nb in buf.iter() {
            let d = g.distance(nb);
            if d < cur.0 {
                cur = Scored(d, nb);
                moved = true;
            }
        }
        if !moved {
            return cur;
        }
    }
}

/// Best-first search of `level` from `entry`, keeping `ef` results. With a filter, every node
/// is walked through but only allowed ones are kept, so the walk can cross regions the filter
/// excludes. Returns results sorted by distance.
pub fn search_layer<G: Graph>(
    g: &G,
    entry: &[Scored],
    ef: usize,
    level: usize,
    filter: Option<&NodeFilter>,
    visited: &mut Visited,
    buf: &mut Vec<u32>,
) -> Vec<Scored> {
    SCRATCH.with(|cell| {
        // A re-entrant call on one thread (not expected) gets scratch of its own.
        let (mut guard, mut fresh);
        let s: &mut Scratch = match cell.try_borrow_mut() {
            Ok(g) => {
                guard = g;
                &mut guard
            }
            Err(_) => {
                fresh = Scratch::default();
                &mut fresh
            }
        };
        if filter.is_none() {
            beam(g, entry, ef, level, visited, buf, s)
        } else {
            walk(g, entry, ef, level, filter, visited, buf, s)
        }
    })
}

/// Heaps and buffers a layer search reuses from one call to the next on a thread.
#[derive(Default)]
struct Scratch {
    candidates: BinaryHeap<Reverse<Scored>>,
    results: BinaryHeap<Scored>,
    dists: Vec<f32>,
    ints: Vec<i32>,
    pool: Vec<(Scored, bool)>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

#[allow(clippy::too_many_arguments)]
fn walk<G: Graph>(
    g: &G,
    entry: &[Scored],
    ef: usize,
    level: usize,
    filter: Option<&NodeFilter>,
    visited: &mut Visited,
    buf: &mut Vec<u32>,
    s: &mut Scratch,
) -> Vec<Scored> {
    let Scratch {
        candidates,
        results,
        dists,
        ints,
        ..
    } = s;
    candidates.clear();
    results.clear();
    let allowed = |n: u32| filter.is_none_or(|f| f.allows(n));
    for &e in entry {
        if visited.insert(e.1) {
            candidates.push(Reverse(e));
            if allowed(e.1) {
                results.push(e);
            }
        }
    }
    while results.len() > ef {
        results.pop();
    }
    while let Some(Reverse(c)) = candidates.pop() {
        let worst = if results.len() >= ef {
            results.peek().map_or(f32::INFINITY, |s| s.0)
        } else {
            f32::INFINITY
        };
        if c.0 > worst {
            break;
        }
        g.neighbors(c.1, level, buf);
        // Keep only unvisited neighbours and start fetching their vectors before the first
        // distance, so the memory loads overlap.
        buf.retain(|&nb| visited.insert(nb));
        for &nb in buf.iter() {
            g.prefetch(nb);
        }
        g.distances(buf, dists, ints);
        for (&nb, &d) in buf.iter().zip(dists.iter()) {
            let worst = if results.len() >= ef {
                results.peek().map_or(f32::INFINITY, |s| s.0)
            } else {
                f32::INFINITY
            };
            if d < worst {
                candidates.push(Reverse(Scored(d, nb)));
                if allowed(nb) {
                    results.push(Scored(d, nb));
                    if results.len() > ef {
                        results.pop();
                    }
                }
            }
        }
    }
    let mut out: Vec<Scored> = results.drain().collect();
    out.sort_unstable();
    out
}

/// The unfiltered layer search as a bounded beam: one array of the `ef` best nodes seen,
/// sorted, each flagged once expanded. It visits exactly what the two-heap loop visits when
/// every node may be returned (a candidate worse than the `ef`-th best is never expanded
/// there either), without the heap traffic.
fn beam<G: Graph>(
    g: &G,
    entry: &[Scored],
    ef: usize,
    level: usize,
    visited: &mut Visited,
    buf: &mut Vec<u32>,
    s: &mut Scratch,
) -> Vec<Scored> {
    let Scratch {
        dists, ints, pool, ..
    } = s;
    pool.clear();
    let insert = |pool: &mut Vec<(Scored, bool)>, e: Scored| -> Option<usize> {
        if pool.len() >= ef && pool.last().is_some_and(|l| l.0 <= e) {
            return None;
        }
        let at = pool.partition_point(|p| p.0 < e);
        pool.insert(at, (e, false));
        pool.truncate(ef);
        Some(at)
    };
    for &e in entry {
        if visited.insert(e.1) {
            insert(pool, e);
        }
    }
    let mut next = 0;
    while next < pool.len() {
        if pool[next].1 {
            next += 1;
            continue;
        }
        pool[next].1 = true;
        let node = pool[next].0 .1;
        next += 1;
        // The next node to expand is most often the next unexpanded one now: its list
        // loads while this node's neighbours are measured.
        if level == 0 {
            if let Some(p) = pool[next..].iter().find(|p| !p.1) {
                g.prefetch_links(p.0 .1);
            }
        }
        g.neighbors(node, level, buf);
        buf.retain(|&nb| visited.insert(nb));
        for &nb in buf.iter() {
            g.prefetch(nb);
        }
        g.distances(buf, dists, ints);
        for (&nb, &d) in buf.iter().zip(dists.iter()) {
            if let Some(at) = insert(pool, Scored(d, nb)) {
                next = next.min(at);
            }
        }
    }
    pool.iter().map(|p| p.0).collect()
}
