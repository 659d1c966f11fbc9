//! Which index nodes a search may return: a bitset built by the caller from deletions,
//! filters and tombstones.

/// Allowed nodes, one bit each.
#[derive(Debug, Clone)]
pub struct NodeFilter {
    bits: Vec<u64>,
    allowed: usize,
}

impl NodeFilter {
    /// Every node of `n` allowed.
    pub fn all(n: usize) -> Self {
        let mut bits = vec![u64::MAX; n.div_ceil(64)];
        if !n.is_multiple_of(64) {
            if let Some(last) = bits.last_mut() {
                *last = (1u64 << (n % 64)) - 1;
            }
        }
        NodeFilter { bits, allowed: n }
    }

    /// No node allowed.
    pub fn none(n: usize) -> Self {
        NodeFilter {
            bits: vec![0; n.div_ceil(64)],
            allowed: 0,
        }
    }

    #[inline]
    pub fn allows(&self, node: u32) -> bool {
        let i = node as usize;
        self.bits
            .get(i / 64)
            .is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    pub fn set(&mut self, node: u32, on: bool) {
        let i = node as usize;
        let w = &mut self.bits[i / 64];
        let was = *w >> (i % 64) & 1 == 1;
        if on && !was {
            *w |= 1 << (i % 64);
            self.allowed += 1;
        } else if !on && was {
            *w &= !(1 << (i % 64));
            self.allowed -= 1;
        }
    }

    /// How many nodes are allowed.
    pub fn count(&self) -> usize {
        self.allowed
    }
}
