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
    // (node, entry index, from the old index) per partition.
    let mut per: Vec<Vec<(u32, usize, bool)>> = vec![Vec::new(); k];
    if let Some(o) = old {
        let offs = o.file.get::<u64>("list_offsets")?;
        for (p, slot) in per.iter_mut().enumerate() {
            o.check_partition(p)?;
            for e in offs[p] as usize..offs[p + 1] as usize {
                slot.push((0, e, true));
            }
        }
    }
    for (i, &l) in enc.labels.iter().enumerate() {
        per[l as usize].push((first_new + i as u32, i, false));
    }
    let total: usize = per.iter().map(Vec::len).sum();
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
    for list in &per {
        let (i0, c0, f0) = (ids.len(), codes.len(), factors.len());
        for &(node, e, is_old) in list {
            let (id, c, f) = if is_old {
                (old_ids[e], old_codes, old_factors)
            } else {
                (node, &enc.codes[..], &enc.factors[..])
            };
            ids.push(id);
            codes.extend_from_slice(&c[e * cb..(e + 1) * cb]);
            factors.extend_from_slice(&f[e * fw..(e + 1) * fw]);
        }
        offsets.push(ids.len() as u64);
        crcs.push(list_crc(&ids[i0..], &codes[c0..], &factors[f0..]));
    }
    let mut all_rows: Vec<u64> = match old {
        Some(o) => o.file.get::<u64>("row_ids")?.to_vec(),
        None => Vec::new(),
    };
    all_rows.extend_from_slice(row_ids);
    w.section("centroids", centroids)
        .section("list_offsets", &offsets)
        .section("ids", &ids)
        .section("codes", &codes)
        .section("factors", &factors)
        .section("list_crcs", &crcs)
        .section("row_ids", &all_rows);
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
