//! Bounded top-k selection: keeps the k smallest distances seen, in O(n log k).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A candidate result: a distance and a caller-defined row id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbor {
    pub distance: f32,
    pub id: u64,
}

impl Eq for Neighbor {}

impl Ord for Neighbor {
    /// Larger distance first (so the heap's top is the worst kept result); ties broken by id
    /// so results are deterministic.
    fn cmp(&self, other: &Self) -> Ordering {
        self.distance
            .total_cmp(&other.distance)
            .then(self.id.cmp(&other.id))
    }
}

impl PartialOrd for Neighbor {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Keeps the `k` nearest neighbours pushed into it.
#[derive(Debug, Clone)]
pub struct TopK {
    k: usize,
    heap: BinaryHeap<Neighbor>,
}

impl TopK {
    /// An empty selector for `k` results.
    pub fn new(k: usize) -> Self {
        TopK {
            k,
            heap: BinaryHeap::with_capacity(k.min(1 << 16) + 1),
        }
    }

    /// The distance a candidate must beat to enter, `+inf` until `k` are held.
    #[inline]
    pub fn threshold(&self) -> f32 {
        if self.heap.len() < self.k {
            f32::INFINITY
        } else {
            self.heap.peek().map_or(f32::INFINITY, |n| n.distance)
        }
    }

    /// Offers a candidate; NaN distances are never kept.
    #[inline]
    pub fn push(&mut self, distance: f32, id: u64) {
        if self.k == 0 || distance.is_nan() {
            return;
        }
        let cand = Neighbor { distance, id };
        if self.heap.len() < self.k {
            self.heap.push(cand);
        } else if let Some(mut top) = self.heap.peek_mut() {
            if cand < *top {
                *top = cand;
            }
        }
    }

    /// Folds another selector's results into this one.
    pub fn merge(&mut self, other: TopK) {
        for n in other.heap {
            self.push(n.distance, n.id);
        }
    }

    /// The kept neighbours, nearest first.
    pub fn into_sorted(self) -> Vec<Neighbor> {
        self.heap.into_sorted_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_k_smallest_in_order() {
        let mut t = TopK::new(3);
        for (i, d) in [5.0, 1.0, 4.0, 2.0, 3.0, f32::NAN, 0.5]
            .into_iter()
            .enumerate()
        {
            t.push(d, i as u64);
        }
        let got: Vec<u64> = t.into_sorted().iter().map(|n| n.id).collect();
        assert_eq!(got, vec![6, 1, 3]);
    }

    #[test]
    fn merge_equals_single_pass() {
        let mut a = TopK::new(2);
        let mut b = TopK::new(2);
        a.push(3.0, 0);
        a.push(1.0, 1);
        b.push(0.5, 2);
        b.push(2.0, 3);
        a.merge(b);
        let got: Vec<u64> = a.into_sorted().iter().map(|n| n.id).collect();
        assert_eq!(got, vec![2, 1]);
    }

    #[test]
    fn k_zero_keeps_nothing() {
        let mut t = TopK::new(0);
        t.push(1.0, 1);
        assert!(t.into_sorted().is_empty());
    }
}
