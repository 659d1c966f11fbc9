//! Recall on the queries an index actually served.
//!
//! Build-time calibration measures recall on stand-in queries (rows moved off the data, or
//! `calibration_queries=`); real queries can be harder (sentences searched with other
//! sentences measured 0.03 to 0.16 lower). So each process keeps a uniform sample of the
//! query vectors every index served and, from time to time, measures in a background thread
//! the recall@10 those queries get at each setting of the index's knob, against exact search
//! on the version they were served from. From then on the planner uses, per setting, the
//! lower of the build-time and the served recall, so `target_recall` is chosen from what
//! real queries got.
//!
//! The sample and the measured curve live in this process only, keyed by the index (its
//! directory, name and build-time calibration: optimize's new files keep them, a rebuild
//! starts afresh): a read never writes to the table. They are reported by
//! `index_stats()["served_recall"]`. A handle opened with `monitor_recall=False` neither
//! samples nor uses them.

use crate::query::plan::{plan, SearchPath, Sources};
use crate::query::VectorQuery;
use crate::snapshot::{FragmentCache, Snapshot};
use oxvec_core::{CancelToken, Error, Result};
use oxvec_index::{Calibration, SearchKnobs, CAL_K};
use oxvec_linalg::rng::SplitMix64;
use oxvec_storage::{IndexMeta, TableDir};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

/// Query vectors kept per index.
const SAMPLE: usize = 200;
/// Served queries before the first measurement: 500 neighbours put the recall within
/// about +-0.02.
const FIRST_MEASURE: u64 = 50;
/// Later measurements come when the count has grown fourfold, at least every this many.
const MAX_INTERVAL: u64 = 10_000;
/// Index files whose samples a process keeps (the least recently served go first).
const REGISTRY_CAP: usize = 64;

/// What a background measurement found.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The curve on the sampled served queries alone.
    pub served: Calibration,
    /// What the planner uses: per setting the lower of the build-time and served curves.
    pub in_use: Arc<Calibration>,
    /// The table version the queries were measured on.
    pub version: u64,
    /// Queries served when the measurement started.
    pub queries_served: u64,
    pub seconds: f64,
}

#[derive(Debug)]
struct Sample {
    dim: usize,
    vectors: Vec<f32>,
    /// Queries served (each vector of a batch counts).
    seen: u64,
    /// Measure again once `seen` reaches this.
    next_measure: u64,
    rng: SplitMix64,
}

/// The served-query sample and measured curve of one index file.
#[derive(Debug)]
pub struct ServedRecall {
    sample: Mutex<Sample>,
    /// The id of the process whose thread is measuring (0: none). A child forked during a
    /// measurement inherits the flag but not the thread, so it only counts in that process.
    running: AtomicU32,
    measured: RwLock<Option<Arc<Measured>>>,
    last_error: Mutex<Option<String>>,
}

impl ServedRecall {
    fn new() -> Self {
        ServedRecall {
            sample: Mutex::new(Sample {
                dim: 0,
                vectors: Vec::new(),
                seen: 0,
                next_measure: FIRST_MEASURE,
                rng: SplitMix64::new(0x5E_4ED),
            }),
            running: AtomicU32::new(0),
            measured: RwLock::new(None),
            last_error: Mutex::new(None),
        }
    }

    /// Adds the served query vectors (row-major, `dim` each) to the reservoir. Returns the
    /// sample to measure when one is due and none is running (the caller then owns the
    /// running flag until [`ServedRecall::finish`]).
    pub fn record(&self, vectors: &[f32], dim: usize) -> Option<(Vec<f32>, u64)> {
        if dim == 0 {
            return None;
        }
        let mut guard = self.sample.lock().expect("served lock");
        let s = &mut *guard;
        if s.dim != dim {
            // A new index file never changes dimension; this only guards the arithmetic.
            s.dim = dim;
            s.vectors.clear();
        }
        for v in vectors.chunks_exact(dim) {
            let held = s.vectors.len() / dim;
            if held < SAMPLE {
                s.vectors.extend_from_slice(v);
            } else {
                // Reservoir sampling: the i-th query is kept with probability SAMPLE / i.
                let seen = usize::try_from(s.seen).unwrap_or(usize::MAX);
                let j = s.rng.below(seen.saturating_add(1));
                if j < SAMPLE {
                    s.vectors[j * dim..(j + 1) * dim].copy_from_slice(v);
                }
            }
            s.seen += 1;
        }
        if s.seen < s.next_measure {
            return None;
        }
        let pid = std::process::id();
        let running = self.running.load(Ordering::Acquire);
        if running == pid
            || self
                .running
                .compare_exchange(running, pid, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
        {
            return None;
        }
        s.next_measure = s.seen.saturating_mul(4).min(s.seen + MAX_INTERVAL);
        Some((s.vectors.clone(), s.seen))
    }

    /// Stores a measurement's outcome and releases the running flag.
    pub fn finish(&self, outcome: Result<Measured>) {
        match outcome {
            Ok(m) => {
                *self.measured.write().expect("served lock") = Some(Arc::new(m));
                *self.last_error.lock().expect("served lock") = None;
            }
            Err(e) => *self.last_error.lock().expect("served lock") = Some(e.to_string()),
        }
        self.running.store(0, Ordering::Release);
    }

    /// The curve the planner should use, when served queries have been measured.
    pub fn in_use(&self) -> Option<Arc<Calibration>> {
        self.measured
            .read()
            .expect("served lock")
            .as_ref()
            .map(|m| m.in_use.clone())
    }

    /// `index_stats()["served_recall"]`.
    pub fn stats(&self) -> serde_json::Value {
        let seen = self.sample.lock().expect("served lock").seen;
        let measured = self.measured.read().expect("served lock").clone();
        let error = self.last_error.lock().expect("served lock").clone();
        serde_json::json!({
            "queries_served": seen,
            "measuring": self.running.load(Ordering::Acquire) == std::process::id(),
            "measured": measured.map(|m| serde_json::json!({
                "param": m.served.param,
                "points": m.served.points,
                "num_queries": m.served.num_queries,
                "queries_served": m.queries_served,
                "version": m.version,
                "seconds": m.seconds,
                "in_use": *m.in_use,
            })),
            "last_error": error,
        })
    }
}

/// The process-wide record of an index: keyed by `indices/` directory, index name and
/// build-time calibration, so it follows the index across the files optimize and compaction
/// write (same build) and starts afresh when the index is rebuilt.
pub fn for_index(indices_dir: &Path, meta: &IndexMeta) -> Arc<ServedRecall> {
    static REGISTRY: Mutex<Vec<(String, Arc<ServedRecall>)>> = Mutex::new(Vec::new());
    let key = format!(
        "{}\0{}\0{}",
        indices_dir.display(),
        meta.name,
        meta.calibration
    );
    let mut reg = REGISTRY.lock().expect("served registry lock");
    if let Some(i) = reg.iter().position(|(k, _)| *k == key) {
        let entry = reg.remove(i);
        let served = entry.1.clone();
        reg.push(entry);
        return served;
    }
    if reg.len() >= REGISTRY_CAP {
        reg.remove(0);
    }
    let served = Arc::new(ServedRecall::new());
    reg.push((key, served.clone()));
    served
}

/// What a background measurement needs: the version served and where its files are.
pub struct Job {
    pub served: Arc<ServedRecall>,
    pub snapshot: Arc<Snapshot>,
    pub dir: TableDir,
    pub cache: Arc<FragmentCache>,
    pub column: String,
    pub build: Option<Arc<Calibration>>,
    pub queries: Vec<f32>,
    pub queries_served: u64,
}

/// Measures `job` on a background thread (the sample is dropped if no thread can start).
pub fn spawn(job: Job) {
    let served = job.served.clone();
    let started = std::thread::Builder::new()
        .name("oxvec-served-recall".into())
        .spawn(move || {
            let outcome = measure(&job, &CancelToken::new());
            job.served.finish(outcome);
        });
    if let Err(e) = started {
        served.finish(Err(Error::internal("served recall", e.to_string())));
    }
}

/// Recall@10 of the sampled queries at each setting of the index's knob, through the same
/// planner and re-rank a query gets, against exact search of the same version.
pub fn measure(job: &Job, cancel: &CancelToken) -> Result<Measured> {
    let t0 = Instant::now();
    let snap = &job.snapshot;
    let src = Sources {
        dir: &job.dir,
        cache: &job.cache,
        served_recall: false,
    };
    let frags = snap.fragments(&job.dir, &job.cache)?;
    let open = snap
        .index_on(&job.dir, &job.cache, &job.column)?
        .ok_or_else(|| Error::internal("served recall", "the index is gone"))?;
    let index = &open.index;
    let dim = index.dim();
    let param = index.param_name();
    let mut q = VectorQuery {
        column: Some(job.column.clone()),
        vectors: Vec::new(),
        num_queries: 1,
        metric: Some(index.metric()),
        k: CAL_K,
        filter: None,
        columns: Some(Vec::new()),
        with_row_id: true,
        with_query_index: false,
        knobs: SearchKnobs::default(),
        bypass_index: true,
    };
    let top_ids = |q: &VectorQuery| -> Result<Vec<u64>> {
        let p = plan(snap, frags, &src, q)?;
        if !q.bypass_index && !matches!(p.path, SearchPath::Index { .. }) {
            return Err(Error::internal(
                "served recall",
                "the query did not go through the index",
            ));
        }
        crate::query::top_ids(&p, cancel)
    };
    let queries: Vec<&[f32]> = job.queries.chunks_exact(dim).collect();
    let mut truth = Vec::with_capacity(queries.len());
    for v in &queries {
        q.vectors = v.to_vec();
        truth.push(top_ids(&q)?);
    }
    q.bypass_index = false;
    let total: usize = truth.iter().map(Vec::len).sum();
    if total == 0 {
        // Recall over no neighbours is not 0: there is nothing to measure.
        return Err(Error::invalid(format!(
            "version {} has no rows to measure recall against",
            snap.manifest.version
        )));
    }
    let mut points = Vec::new();
    for s in index.calibration_ladder() {
        q.knobs = SearchKnobs::default().with(param, s);
        let mut hits = 0;
        for (v, want) in queries.iter().zip(&truth) {
            q.vectors = v.to_vec();
            hits += top_ids(&q)?.iter().filter(|id| want.contains(id)).count();
        }
        let recall = hits as f32 / total.max(1) as f32;
        points.push((s, recall));
        if oxvec_index::calibrate::ladder_done(&points) {
            break;
        }
    }
    let served = Calibration {
        param: param.to_string(),
        points,
        queries: "served queries".into(),
        num_queries: queries.len(),
        // Measured through the planner, so at the build curve's re-rank depth.
        refine: job.build.as_ref().and_then(|b| b.refine),
    };
    let in_use = Arc::new(match &job.build {
        Some(b) => b.lower_of(&served),
        None => served.clone(),
    });
    Ok(Measured {
        served,
        in_use,
        version: snap.manifest.version,
        queries_served: job.queries_served,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measurements_come_at_fifty_then_fourfold() {
        let s = ServedRecall::new();
        let mut due = Vec::new();
        for i in 1..=1000u64 {
            if s.record(&[i as f32, 0.0], 2).is_some() {
                due.push(i);
                s.finish(Err(Error::internal("test", "no measurement")));
            }
        }
        assert_eq!(due, vec![50, 200, 800]);
        assert_eq!(s.sample.lock().unwrap().vectors.len(), SAMPLE * 2);
    }

    #[test]
    fn no_second_measurement_while_one_runs() {
        let s = ServedRecall::new();
        let mut got = 0;
        for _ in 0..300 {
            got += usize::from(s.record(&[1.0], 1).is_some());
        }
        assert_eq!(got, 1, "the first measurement never finished");
    }

    #[test]
    fn a_flag_inherited_from_another_process_does_not_block_measuring() {
        // A child forked while its parent measured inherits `running` but not the thread.
        let s = ServedRecall::new();
        s.running
            .store(std::process::id().wrapping_add(1), Ordering::Release);
        let due = (0..FIRST_MEASURE)
            .filter_map(|_| s.record(&[1.0], 1))
            .count();
        assert_eq!(due, 1);
        assert_eq!(s.running.load(Ordering::Acquire), std::process::id());
    }

    #[test]
    fn the_reservoir_keeps_late_queries_too() {
        let s = ServedRecall::new();
        for i in 0..10_000 {
            s.record(&[i as f32], 1);
            s.running.store(0, Ordering::Release);
        }
        let kept = s.sample.lock().unwrap().vectors.clone();
        assert_eq!(kept.len(), SAMPLE);
        let late = kept.iter().filter(|&&x| x >= 5000.0).count();
        assert!(
            (60..=140).contains(&late),
            "{late} of {SAMPLE} from the second half"
        );
    }
}
