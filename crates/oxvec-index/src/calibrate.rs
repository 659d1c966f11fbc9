//! Recall calibration: at build time, sampled rows are searched both exactly and through the
//! index at a ladder of settings (`ef` for HNSW, `nprobes` for IVF), with the same re-ranking
//! a real query gets. The measured curve lets a query ask for a recall (`target_recall`)
//! instead of a knob, and picks the default setting.
//!
//! Queries are sampled rows moved by about their nearest-neighbour distance in a random
//! direction: near the data, as real queries are, but not on it.

use crate::space::{exact, Space};
use crate::{prepare_all, SearchKnobs, VectorIndex};
use oxvec_core::{CancelToken, Result};
use oxvec_linalg::rng::SplitMix64;
use oxvec_linalg::TopK;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Queries sampled for calibration.
const SAMPLES: usize = 200;
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
}

fn sampled_rows() -> String {
    "sampled rows".into()
}

impl Calibration {
    /// The best recall measured at any setting.
    pub fn best_recall(&self) -> f32 {
        self.points.iter().map(|p| p.1).fold(0.0, f32::max)
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
        }
    }
}

/// Measures `index` (built over `vectors`, raw, node order) against exact search, on
/// `queries` (raw, row-major) when given: real queries can be harder than rows moved off
/// the data (sentences searched with other sentences measured 0.03 to 0.16 lower).
pub fn calibrate(
    index: &dyn VectorIndex,
    vectors: &[f32],
    queries: Option<&[f32]>,
    cancel: &CancelToken,
) -> Result<Calibration> {
    let dim = index.dim();
    let n = vectors.len() / dim;
    let param = index.param_name().to_string();
    let steps = index.calibration_ladder();
    if n <= CAL_K {
        return Ok(Calibration {
            param,
            points: steps.into_iter().map(|s| (s, 1.0)).collect(),
            queries: sampled_rows(),
            num_queries: 0,
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
    let prepared = prepare_all(index.metric(), vectors, dim);
    let mut rng = SplitMix64::new(0xCA11);
    // Given queries replace the sampled ones entirely.
    let picks = if queries.is_some() {
        Vec::new()
    } else {
        rng.sample(n, SAMPLES)
    };
    // Queries sit near the data, not on it: each sampled row is moved by about the distance
    // to its own nearest neighbour, in a random direction.
    let nn: Vec<f32> = picks
        .par_iter()
        .map(|&qi| {
            let q = &prepared[qi * dim..(qi + 1) * dim];
            let mut d = vec![0f32; n];
            distances(Space::L2, q, &prepared, &mut d);
            d[qi] = f32::INFINITY;
            d.iter()
                .copied()
                .fold(f32::INFINITY, f32::min)
                .max(0.0)
                .sqrt()
        })
        .collect();
    let sampled: Vec<f32> = picks
        .iter()
        .zip(&nn)
        .flat_map(|(&qi, &d)| {
            let noise: Vec<f32> = (0..dim).map(|_| rng.gaussian() as f32).collect();
            let len = noise.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            let d = if d.is_finite() { d } else { 0.0 };
            prepared[qi * dim..(qi + 1) * dim]
                .iter()
                .zip(noise)
                .map(move |(&x, g)| x + g * d / len)
                .collect::<Vec<_>>()
        })
        .collect();
    let source = if queries.is_some() {
        "given queries"
    } else {
        "sampled rows"
    };
    let queries = prepare_all(index.metric(), queries.unwrap_or(&sampled), dim);
    let truth: Vec<Vec<u32>> = queries
        .par_chunks(dim)
        .map(|q| {
            cancel.check()?;
            let mut top = TopK::new(CAL_K);
            let mut d = vec![0f32; n];
            distances(space, q, &prepared, &mut d);
            for (j, &x) in d.iter().enumerate() {
                if x < top.threshold() {
                    top.push(x, j as u64);
                }
            }
            Ok(top
                .into_sorted()
                .into_iter()
                .map(|nb| nb.id as u32)
                .collect())
        })
        .collect::<Result<_>>()?;
    let mut points = Vec::new();
    for s in steps {
        cancel.check()?;
        let knobs = SearchKnobs::default().with(&param, s);
        let hits: usize = queries
            .par_chunks(dim)
            .zip(&truth)
            .map(|(q, t)| -> Result<usize> {
                let cands = index.search_knobs(q, CAL_K, &knobs, None, None)?;
                let mut top = TopK::new(CAL_K);
                for c in cands {
                    let v = &prepared[c.1 as usize * dim..(c.1 as usize + 1) * dim];
                    top.push(exact(space, q, v), c.1 as u64);
                }
                let got: Vec<u32> = top
                    .into_sorted()
                    .into_iter()
                    .map(|nb| nb.id as u32)
                    .collect();
                Ok(got.iter().filter(|g| t.contains(g)).count())
            })
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .sum();
        let total: usize = truth.iter().map(Vec::len).sum();
        let recall = hits as f32 / total.max(1) as f32;
        points.push((s, recall));
        if recall >= 0.999 {
            break;
        }
    }
    let num_queries = queries.len() / dim;
    Ok(Calibration {
        param,
        points,
        queries: source.into(),
        num_queries,
    })
}

/// Index-space distances from `q` to every row of `rows`, with the SIMD batch kernel.
fn distances(space: Space, q: &[f32], rows: &[f32], out: &mut [f32]) {
    let metric = match space {
        Space::L2 => oxvec_core::Metric::L2,
        Space::Ip => oxvec_core::Metric::Dot,
    };
    (oxvec_linalg::kernels().distances_f32)(metric, q, 0.0, rows, out);
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
