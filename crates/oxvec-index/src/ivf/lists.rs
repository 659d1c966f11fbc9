//! The partition layout of an IVF file.
//!
//! Sections: `list_offsets` (`k + 1` entry offsets), then per entry `ids` (node), `codes`
//! (`code_bytes` each) and `factors` (`FACTORS` f32 each), grouped by partition, and
//! `list_crcs` (one CRC32C per partition over its ids, codes and factors). `row_ids` maps
//! node to table row.

use super::codec::{Codec, Entries};
use super::train::Encoded;
use super::{Ivf, IvfFields, IvfParams};
use crate::file::{bytes_of, cast, FileWriter};
use oxvec_core::{Error, Result};

/// Writes the sections for `enc` (new nodes numbered after `old`'s, whose entries come first
/// in each partition) and returns the header fields.
#[allow(clippy::too_many_arguments)]
pub fn write<C: Codec>(
    dim: usize,
    params: &IvfParams,
    codec: &C,
    centroids: &[f32],
    enc: &Encoded,
    row_ids: &[u64],
    old: Option<&Ivf<C>>,
    w: &mut FileWriter,
) -> Result<serde_json::Value> {
    let cb = C::code_bytes(dim, params);
    let fw = C::FACTORS;
    let k = params.num_partitions;
    let first_new = old.map_or(0, |o| o.len()) as u32;
    let old_offs: &[u64] = match old {
        Some(o) => o.file.get::<u64>("list_offsets")?,
        None => &[],
    };
    if let Some(o) = old {
        for p in 0..k {
            o.check_partition(p)?;
        }
    }
    // New entries grouped by partition (a counting sort: one u32 per entry, not a list each).
    let mut new_start = vec![0usize; k + 1];
    for &l in &enc.labels {
        new_start[l as usize + 1] += 1;
    }
    for p in 0..k {
        new_start[p + 1] += new_start[p];
    }
    let mut order = vec![0u32; enc.labels.len()];
    let mut fill = new_start.clone();
    for (i, &l) in enc.labels.iter().enumerate() {
        order[fill[l as usize]] = i as u32;
        fill[l as usize] += 1;
    }
    drop(fill);
    let total = old_offs.last().copied().unwrap_or(0) as usize + order.len();
    let mut offsets = Vec::with_capacity(k + 1);
    let mut ids = Vec::with_capacity(total);
    let mut codes = Vec::with_capacity(total * cb);
    let mut factors: Vec<f32> = Vec::with_capacity(total * fw);
    let mut crcs = Vec::with_capacity(k);
    let (old_ids, old_codes, old_factors): (&[u32], &[u8], &[f32]) = match old {
        Some(o) => (
            o.file.get("ids")?,
            o.file.raw("codes")?,
            cast(o.file.raw("factors")?).unwrap_or(&[]),
        ),
        None => (&[], &[], &[]),
    };
    offsets.push(0u64);
    for p in 0..k {
        let (i0, c0, f0) = (ids.len(), codes.len(), factors.len());
        if !old_offs.is_empty() {
            for e in old_offs[p] as usize..old_offs[p + 1] as usize {
                ids.push(old_ids[e]);
                codes.extend_from_slice(&old_codes[e * cb..(e + 1) * cb]);
                factors.extend_from_slice(&old_factors[e * fw..(e + 1) * fw]);
            }
        }
        for &i in &order[new_start[p]..new_start[p + 1]] {
            let e = i as usize;
            ids.push(first_new + i);
            codes.extend_from_slice(&enc.codes[e * cb..(e + 1) * cb]);
            factors.extend_from_slice(&enc.factors[e * fw..(e + 1) * fw]);
        }
        offsets.push(ids.len() as u64);
        crcs.push(list_crc(&ids[i0..], &codes[c0..], &factors[f0..]));
    }
    drop(order);
    // Each array goes into the writer and is dropped before the next is copied.
    w.section("centroids", centroids)
        .section("list_offsets", &offsets)
        .section("ids", &ids);
    drop(ids);
    w.section("codes", &codes);
    drop(codes);
    w.section("factors", &factors).section("list_crcs", &crcs);
    drop(factors);
    let mut all_rows: Vec<u64> = match old {
        Some(o) => o.file.get::<u64>("row_ids")?.to_vec(),
        None => Vec::new(),
    };
    all_rows.extend_from_slice(row_ids);
    w.section("row_ids", &all_rows);
    codec.write(centroids, dim, w);
    serde_json::to_value(IvfFields { params: *params })
        .map_err(|e| Error::internal("encoding the IVF header", e))
}

fn list_crc(ids: &[u32], codes: &[u8], factors: &[f32]) -> u32 {
    let mut c = crc32c::crc32c(bytes_of(ids));
    c = crc32c::crc32c_append(c, codes);
    crc32c::crc32c_append(c, bytes_of(factors))
}

impl<C: Codec> Ivf<C> {
    /// Verifies partition `p`'s checksum (once).
    pub fn check_partition(&self, p: usize) -> Result<()> {
        let ok = *self.checked[p].get_or_init(|| self.partition_crc_ok(p).unwrap_or(false));
        if ok {
            Ok(())
        } else {
            Err(Error::corrupt(
                self.file.path(),
                format!("IVF partition {p} failed its checksum"),
            ))
        }
    }

    /// Partition `p`'s entries, its checksum verified.
    pub fn checked_partition(&self, p: usize) -> Result<Entries<'_>> {
        self.check_partition(p)?;
        self.partition(p)
    }

    fn partition_crc_ok(&self, p: usize) -> Result<bool> {
        let e = self.partition(p)?;
        let crcs = self.file.get::<u32>("list_crcs")?;
        Ok(crcs.get(p) == Some(&list_crc(e.ids, e.codes, e.factors)))
    }

    /// The raw entries of partition `p` (unchecked).
    fn partition(&self, p: usize) -> Result<Entries<'_>> {
        let bad = || {
            Error::corrupt(
                self.file.path(),
                format!("IVF partition {p} is out of bounds"),
            )
        };
        let offs = self.file.get::<u64>("list_offsets")?;
        if offs.len() != self.params.num_partitions + 1 {
            return Err(bad());
        }
        let (a, b) = (offs[p] as usize, offs[p + 1] as usize);
        let ids: &[u32] = cast(self.file.raw("ids")?).ok_or_else(bad)?;
        let codes = self.file.raw("codes")?;
        let factors: &[f32] = cast(self.file.raw("factors")?).ok_or_else(bad)?;
        let cb = C::code_bytes(self.dim(), &self.params);
        let fw = C::FACTORS;
        let fits = |per: usize, len: usize| b.checked_mul(per).is_some_and(|e| e <= len);
        if a > b || b > ids.len() || !fits(cb, codes.len()) || !fits(fw, factors.len()) {
            return Err(bad());
        }
        Ok(Entries {
            ids: &ids[a..b],
            codes: &codes[a * cb..b * cb],
            factors: &factors[a * fw..b * fw],
        })
    }
}
