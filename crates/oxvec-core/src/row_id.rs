//! Row addresses: which fragment, which row of it.
//!
//! A row id packs the table-unique fragment id into the high 32 bits and the row's offset
//! within the fragment into the low 32 bits. Indexes store row ids as plain `u64` in their
//! files (with [`RowId::TOMBSTONE`] for a node whose row is gone); everything else goes
//! through this type so the layout is written down once.

/// The address of one row of a table version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowId(u64);

impl RowId {
    /// Marks an index node whose row was deleted or compacted away.
    pub const TOMBSTONE: RowId = RowId(u64::MAX);

    /// The row at `offset` of fragment `fragment`.
    #[inline]
    pub const fn new(fragment: u32, offset: u32) -> RowId {
        RowId(((fragment as u64) << 32) | offset as u64)
    }

    /// A row id as stored in index files and returned as `_rowid`.
    #[inline]
    pub const fn from_u64(raw: u64) -> RowId {
        RowId(raw)
    }

    /// The packed form.
    #[inline]
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// The fragment's id.
    #[inline]
    pub const fn fragment(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// The row's offset within its fragment.
    #[inline]
    pub const fn offset(self) -> u32 {
        self.0 as u32
    }

    /// Whether this is [`RowId::TOMBSTONE`].
    #[inline]
    pub const fn is_tombstone(self) -> bool {
        self.0 == u64::MAX
    }
}

impl From<RowId> for u64 {
    fn from(r: RowId) -> u64 {
        r.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_fragment_and_offset() {
        let r = RowId::new(7, 0xdead_beef);
        assert_eq!(r.fragment(), 7);
        assert_eq!(r.offset(), 0xdead_beef);
        assert_eq!(RowId::from_u64(r.as_u64()), r);
        assert_eq!(r.as_u64(), (7u64 << 32) | 0xdead_beef);
        assert!(RowId::new(u32::MAX, u32::MAX).is_tombstone());
        assert!(!RowId::new(u32::MAX, 0).is_tombstone());
    }

    #[test]
    fn orders_by_fragment_then_offset() {
        assert!(RowId::new(1, u32::MAX) < RowId::new(2, 0));
        assert!(RowId::new(2, 3) < RowId::new(2, 4));
    }
}
