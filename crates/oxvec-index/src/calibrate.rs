//! Recall calibration: at build time, sampled rows are searched both exactly and through the
//! index at a ladder of settings (`ef` for HNSW, `nprobes` for IVF), with the same re-ranking
//! a real query gets. The measured curve lets a query ask for a recall (`target_recall`)
//! instead of a knob, and picks the default setting.
//!
//! Queries are sampled rows moved by about their nearest-neighbour distance in a random
//! direction: near the data, as real queries are, but not on it.

use crate::source::{fold_blocks, gather, Prepared, VectorSource};
use crate::space::{exact, Space};
use crate::{prepare_all, SearchKnobs, VectorIndex, DEFAULT_RECALL};
use oxvec_core::{CancelToken, Result};
use oxvec_linalg::rng::SplitMix64;
use oxvec_linalg::TopK;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Queries sampled for calibration.
const SAMPLES: usize = 200;
/// Queries per pass of the tile kernel in the exact searches.
const QUERY_TILE: usize = 32;
/// Recall is measured at this k.
pub const CAL_K: usize = 10;

/// One index's measured recall curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// `ef` or `nprobes`.
    pub param: String,
    /// (setting, recall@10) in increasing setting order.
    pub points: Vec<(usize, f32)>,
    /// What the recall was measured on: `"sampled rows"` (rows moved off the data) or
    /// `"given queries"` (`calibration_queries=` at build).
    #[serde(default = "sampled_rows")]
    pub queries: String,
    /// How many queries.
    #[serde(default)]
    pub num_queries: usize,
    /// Candidates re-ranked per result the curve was measured with, when calibration found
    /// the kind's default too shallow for the target (queries that set none use it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refine: Option<usize>,
}

fn sampled_rows() -> String {
    "sampled rows".into()
}

impl Calibration {
    /// The best recall measured at any setting.
    pub fn best_recall(&self) -> f32 {
        best(&self.points)
    }

    /// The smallest setting measured to reach `target`, else the best measured one.
    pub fn param_for(&self, target: f32) -> Option<usize> {
        self.points
            .iter()
            .find(|p| p.1 >= target)
            .or_else(|| self.points.iter().max_by(|a, b| a.1.total_cmp(&b.1)))
            .map(|p| p.0)
    }

    /// What the curve was measured on, for messages: `"200 sampled rows"`.
    pub fn describe(&self) -> String {
        format!("{} {}", self.num_queries, self.queries)
    }

    /// Per setting, the lower of this curve's recall and `other`'s (a setting measured in
    /// one curve only keeps that curve's figure): a target is then met on both query sets.
    pub fn lower_of(&self, other: &Calibration) -> Calibration {
        let mut points: Vec<(usize, f32)> = self.points.clone();
        for &(s, r) in &other.points {
            match points.iter_mut().find(|p| p.0 == s) {
                Some(p) => p.1 = p.1.min(r),
                None => points.push((s, r)),
            }
        }
        points.sort_by_key(|p| p.0);
        Calibration {
            param: self.param.clone(),
            points,
            queries: format!("{} and {}", self.queries, other.describe()),
            num_queries: self.num_queries,
            refine: self.refine,
        }
    }
}

/// Measures `index` (built over `vectors`, raw, node order) against exact search, on
/// `queries` (raw, row-major) when given: real queries can be harder than rows moved off
/// the data (sentences searched with other sentences measured 0.03 to 0.16 lower).
///
/// The exact searches are two streaming passes over `vectors` with every query at once, so
/// calibrating a table larger than memory reads it twice and holds none of it.
pub fn calibrate(
    index: &dyn VectorIndex,
    vectors: &dyn VectorSource,
    queries: Option<&[f32]>,
    cancel: &CancelToken,
) -> Result<Calibration> {
    let dim = index.dim();
    let n = vectors.len();
    let param = index.param_name().to_string();
    let steps = index.calibration_ladder();
    if n <= CAL_K {
        return Ok(Calibration {
            param,
            points: steps.into_iter().map(|s| (s, 1.0)).collect(),
            queries: sampled_rows(),
            num_queries: 0,
            refine: None,
        });
    }
    if let Some(q) = queries {
        if q.is_empty() || !q.len().is_multiple_of(dim) {
            return Err(oxvec_core::Error::invalid(format!(
                "calibration_queries must be whole vectors of dimension {dim}, got {} values",
                q.len()
            )));
        }
        if q.iter().any(|x| !x.is_finite()) {
            return Err(oxvec_core::Error::invalid(
                "calibration_queries hold NaN or infinite values",
            ));
        }
    }
    let space = Space::for_metric(index.metric());
    let prepared = Prepared {
        inner: vectors,
        metric: index.metric(),
    };
    let mut rng = SplitMix64::new(0xCA11);
    let (source, queries) = match queries {
        // Given queries replace the sampled ones entirely.
        Some(q) => ("given queries", prepare_all(index.metric(), q, dim)),
        None => (
            "sampled rows",
            sampled_queries(&prepared, &mut rng, cancel)?,
        ),
    };
    let truth: Vec<Vec<u32>> = nearest(space, &prepared, &queries, CAL_K, &[], cancel)?
        .into_iter()
        .map(|top| top.into_iter().map(|(_, id)| id).collect())
        .collect();
    let ladder =
        |refine: Option<usize>| measure(index, &prepared, &queries, &truth, &steps, refine, cancel);
    let mut points = ladder(None)?;
    let mut refine = None;
    // Coarse codes (one bit per dimension) can cap recall whatever the knob: then a deeper
    // re-rank is measured too, and kept when it lifts the curve.
    let default = index.kind().default_refine();
    for factor in [2, 4, 8] {
        if default == 0 || best(&points) >= DEFAULT_RECALL {
            break;
        }
        let deeper = ladder(Some(default * factor))?;
        if best(&deeper) > best(&points) + 0.005 {
            points = deeper;
            refine = Some(default * factor);
        }
    }
    let num_queries = queries.len() / dim;
    Ok(Calibration {
        param,
        points,
        queries: source.into(),
        num_queries,
        refine,
    })
}

fn best(points: &[(usize, f32)]) -> f32 {
    points.iter().map(|p| p.1).fold(0.0, f32::max)
}

/// Recall@10 at each setting of `steps` with re-rank depth `refine` (the kind's default when
/// `None`), stopping once a setting reaches 0.999 or three more settings have not moved it.
fn measure(
    index: &dyn VectorIndex,
    prepared: &dyn VectorSource,
    queries: &[f32],
    truth: &[Vec<u32>],
    steps: &[usize],
    refine: Option<usize>,
    cancel: &CancelToken,
) -> Result<Vec<(usize, f32)>> {
    let dim = index.dim();
    let space = Space::for_metric(index.metric());
    let param = index.param_name();
    let total: usize = truth.iter().map(Vec::len).sum();
    let mut points: Vec<(usize, f32)> = Vec::new();
    for &s in steps {
        cancel.check()?;
        let knobs = SearchKnobs {
            refine_factor: refine,
            ..SearchKnobs::default()
        }
        .with(param, s);
        let hits: usize = queries
            .par_chunks(dim)
            .zip(truth)
            .map(|(q, t)| -> Result<usize> {
                let cands = index.search_knobs(q, CAL_K, &knobs, None, None)?;
                let mut top = TopK::new(CAL_K);
                let mut v = vec![0f32; dim];
                // Scattered reads map the cached pages around each row too: let them go
                // every few rows, or a ladder step leaves the whole table resident.
                for group in cands.chunks(32) {
                    for c in group {
                        prepared.read(c.1 as usize, &mut v);
                        top.push(exact(space, q, &v), c.1 as u64);
                    }
                    let (lo, hi) = group
                        .iter()
                        .fold((u32::MAX, 0), |(lo, hi), c| (lo.min(c.1), hi.max(c.1)));
                    prepared.release(lo as usize, hi as usize + 1);
                }
                Ok(top
                    .into_sorted()
                    .iter()
                    .filter(|nb| t.contains(&(nb.id as u32)))
                    .count())
            })
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .sum();
        let recall = hits as f32 / total.max(1) as f32;
        points.push((s, recall));
        if ladder_done(&points) {
            break;
        }
    }
    Ok(points)
}

/// Whether a ladder measured so far (`points`, in setting order) can stop: its last setting
/// reached 0.999, or three more settings have not moved recall.
pub fn ladder_done(points: &[(usize, f32)]) -> bool {
    let Some(&(_, last)) = points.last() else {
        return false;
    };
    let stalled = points.len() > 3 && last <= points[points.len() - 4].1 + 0.001;
    last >= 0.999 || stalled
}

/// Queries near the data, not on it: sampled rows each moved by about the distance to its
/// own nearest neighbour, in a random direction.
fn sampled_queries(
    rows: &dyn VectorSource,
    rng: &mut SplitMix64,
    cancel: &CancelToken,
) -> Result<Vec<f32>> {
    let dim = rows.dim();
    let picks = rng.sample(rows.len(), SAMPLES);
    let picked = gather(rows, &picks);
    let nn = nearest(Space::L2, rows, &picked, 1, &picks, cancel)?;
    let mut out = Vec::with_capacity(picked.len());
    for (row, top) in picked.chunks_exact(dim).zip(nn) {
        let d = top.first().map_or(0.0, |t| t.0.max(0.0).sqrt());
        let d = if d.is_finite() { d } else { 0.0 };
        let noise: Vec<f32> = (0..dim).map(|_| rng.gaussian() as f32).collect();
        let len = noise.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        out.extend(row.iter().zip(noise).map(|(&x, g)| x + g * d / len));
    }
    Ok(out)
}

/// The `k` rows of `rows` nearest to each query (index-space distance, ascending), skipping
/// row `skip[i]` for query `i` when given: one pass over `rows` in blocks, each block scored
/// against every query by the multi-query tile kernel.
fn nearest(
    space: Space,
    rows: &dyn VectorSource,
    queries: &[f32],
    k: usize,
    skip: &[usize],
    cancel: &CancelToken,
) -> Result<Vec<Vec<(f32, u32)>>> {
    let dim = rows.dim();
    let nq = queries.len() / dim;
    let qnorms: Vec<f32> = queries
        .chunks_exact(dim)
        .map(|q| q.iter().map(|x| x * x).sum())
        .collect();
    let tile = oxvec_linalg::kernels().dot_tile_f32;
    let fresh = || -> Vec<TopK> { (0..nq).map(|_| TopK::new(k)).collect() };
    let score = |mut tops: Vec<TopK>, start: usize, block: &[f32]| {
        let m = block.len() / dim;
        let rnorms: Vec<f32> = block
            .chunks_exact(dim)
            .map(|r| r.iter().map(|x| x * x).sum())
            .collect();
        let mut dots = vec![0f32; QUERY_TILE * m];
        for (c, qs) in queries.chunks(QUERY_TILE * dim).enumerate() {
            let qm = qs.len() / dim;
            tile(qs, block, dim, &mut dots[..qm * m]);
            for (a, row) in dots[..qm * m].chunks_exact(m).enumerate() {
                let qi = c * QUERY_TILE + a;
                let top = &mut tops[qi];
                for (j, (&dot, &rn)) in row.iter().zip(&rnorms).enumerate() {
                    let d = match space {
                        Space::L2 => (qnorms[qi] + rn - 2.0 * dot).max(0.0),
                        Space::Ip => 1.0 - dot,
                    };
                    if d < top.threshold() && skip.get(qi) != Some(&(start + j)) {
                        top.push(d, (start + j) as u64);
                    }
                }
            }
        }
        tops
    };
    let merge = |mut a: Vec<TopK>, b: Vec<TopK>| {
        for (into, top) in a.iter_mut().zip(b) {
            for nb in top.into_sorted() {
                into.push(nb.distance, nb.id);
            }
        }
        a
    };
    let tops = fold_blocks(rows, cancel, fresh, score, merge)?;
    Ok(tops
        .into_iter()
        .map(|t| {
            t.into_sorted()
                .into_iter()
                .map(|nb| (nb.distance, nb.id as u32))
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(points: &[(usize, f32)], queries: &str) -> Calibration {
        Calibration {
            param: "ef".into(),
            points: points.to_vec(),
            queries: queries.into(),
            num_queries: 200,
            refine: None,
        }
    }

    #[test]
    fn the_lower_curve_decides_each_setting() {
        let build = curve(&[(10, 0.9), (16, 0.97), (24, 0.999)], "sampled rows");
        let served = curve(
            &[(10, 0.5), (16, 0.8), (24, 0.9), (32, 0.96)],
            "served queries",
        );
        let both = build.lower_of(&served);
        assert_eq!(
            both.points,
            vec![(10, 0.5), (16, 0.8), (24, 0.9), (32, 0.96)]
        );
        assert_eq!(both.param_for(0.95), Some(32));
        assert_eq!(build.param_for(0.95), Some(16));
        assert_eq!(both.describe(), "200 sampled rows and 200 served queries");
        // An easier served set never lowers the build-time figure.
        let easy = curve(&[(10, 1.0)], "served queries");
        assert_eq!(build.lower_of(&easy).points[0], (10, 0.9));
    }
}
