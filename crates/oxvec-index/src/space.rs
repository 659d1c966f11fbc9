//! The distance an index works in, and the mapping back to the table's metric.
//!
//! Cosine indexes store unit vectors and work in squared L2 (`|a-b|² = 2 - 2cos` for unit
//! vectors, same order); dot-product indexes work in `1 - a·b`.

use oxvec_core::Metric;
use serde::{Deserialize, Serialize};

/// The geometry an index is built in (`"l2"` / `"ip"` in index headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Space {
    /// Squared Euclidean (L2, and cosine on normalized vectors).
    L2,
    /// `1 - a·b`.
    Ip,
}

impl Space {
    /// The distance to a vector `x` from a query `q`, given `q·q`, `x·x` and `q·x`.
    #[inline]
    pub fn from_dot(self, q_norm_sq: f32, x_norm_sq: f32, dot: f32) -> f32 {
        match self {
            Space::L2 => (q_norm_sq + x_norm_sq - 2.0 * dot).max(0.0),
            Space::Ip => 1.0 - dot,
        }
    }

    pub fn for_metric(metric: Metric) -> Space {
        match metric {
            Metric::L2 | Metric::Cosine => Space::L2,
            Metric::Dot => Space::Ip,
        }
    }
}

/// Copies `v` into `out` as the index stores it (unit length for cosine).
pub fn prepare_into(metric: Metric, v: &[f32], out: &mut Vec<f32>) {
    out.clear();
    out.extend_from_slice(v);
    if metric == Metric::Cosine {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if n > 0.0 {
            out.iter_mut().for_each(|x| *x /= n);
        }
    }
}

/// An index-space distance as the table's metric reports it.
#[inline]
pub fn to_metric(metric: Metric, d: f32) -> f32 {
    match metric {
        Metric::Cosine => d * 0.5,
        _ => d,
    }
}

/// Exact index-space distance between two prepared vectors.
#[inline]
pub fn exact(space: Space, a: &[f32], b: &[f32]) -> f32 {
    match space {
        Space::L2 => a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum(),
        Space::Ip => 1.0 - a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>(),
    }
}
