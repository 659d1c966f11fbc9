//! A reusable visited set for graph searches: one epoch tag per node, so clearing is O(1).

use std::cell::RefCell;

#[derive(Debug, Default)]
pub struct Visited {
    tags: Vec<u16>,
    epoch: u16,
}

impl Visited {
    /// Prepares for a search over `n` nodes.
    pub fn reset(&mut self, n: usize) {
        if self.tags.len() < n {
            self.tags.resize(n, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.tags.iter_mut().for_each(|t| *t = 0);
            self.epoch = 1;
        }
    }

    /// Marks `i`; returns whether it was unmarked.
    #[inline]
    pub fn insert(&mut self, i: u32) -> bool {
        let t = &mut self.tags[i as usize];
        if *t == self.epoch {
            false
        } else {
            *t = self.epoch;
            true
        }
    }
}

thread_local! {
    static POOL: RefCell<Visited> = RefCell::new(Visited::default());
}

/// Runs `f` with this thread's visited set, reset for `n` nodes.
pub fn with_visited<T>(n: usize, f: impl FnOnce(&mut Visited) -> T) -> T {
    POOL.with(|p| match p.try_borrow_mut() {
        Ok(mut v) => {
            v.reset(n);
            f(&mut v)
        }
        // Re-entrant use on one thread (not expected): a fresh set.
        Err(_) => {
            let mut v = Visited::default();
            v.reset(n);
            f(&mut v)
        }
    })
}
