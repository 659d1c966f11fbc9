//! The peak resident memory of a long operation (an index build), sampled by a thread from
//! `/proc/self/status` every few milliseconds while it runs. Linux only; elsewhere the
//! figures are absent.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the sampler looks: builds grow their memory over seconds, not microseconds.
const EVERY: Duration = Duration::from_millis(5);

/// Peak bytes seen: (resident, anonymous part of resident).
#[derive(Debug, Default)]
struct Peaks {
    rss: AtomicU64,
    anon: AtomicU64,
}

/// A running sampler; [`PeakMemory::finish`] stops it.
pub struct PeakMemory {
    stop: Arc<AtomicBool>,
    peaks: Arc<Peaks>,
    thread: Option<JoinHandle<()>>,
}

impl PeakMemory {
    /// Starts sampling (nothing runs where `/proc/self/status` cannot be read).
    pub fn start() -> PeakMemory {
        let stop = Arc::new(AtomicBool::new(false));
        let peaks = Arc::new(Peaks::default());
        let thread = sample().map(|_| {
            let (stop, peaks) = (stop.clone(), peaks.clone());
            std::thread::spawn(move || loop {
                record(&peaks);
                if stop.load(Relaxed) {
                    return;
                }
                std::thread::park_timeout(EVERY);
            })
        });
        PeakMemory {
            stop,
            peaks,
            thread,
        }
    }

    /// Stops sampling; returns the peak resident and peak anonymous bytes, if measured.
    pub fn finish(mut self) -> (Option<u64>, Option<u64>) {
        if !self.stop_sampling() {
            return (None, None);
        }
        record(&self.peaks);
        (
            Some(self.peaks.rss.load(Relaxed)),
            Some(self.peaks.anon.load(Relaxed)),
        )
    }
}

impl PeakMemory {
    /// Stops and joins the sampling thread; false when there was none.
    fn stop_sampling(&mut self) -> bool {
        self.stop.store(true, Relaxed);
        let Some(t) = self.thread.take() else {
            return false;
        };
        t.thread().unpark();
        let _ = t.join();
        true
    }
}

impl Drop for PeakMemory {
    fn drop(&mut self) {
        self.stop_sampling();
    }
}

fn record(peaks: &Peaks) {
    if let Some((rss, anon)) = sample() {
        peaks.rss.fetch_max(rss, Relaxed);
        peaks.anon.fetch_max(anon, Relaxed);
    }
}

/// (resident bytes, anonymous resident bytes) of this process now.
fn sample() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb * 1024)
    };
    Some((field("VmRSS:")?, field("RssAnon:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_allocation_shows_in_the_anonymous_peak() {
        let m = PeakMemory::start();
        let before = sample();
        let big = vec![1u8; 64 << 20];
        std::thread::sleep(Duration::from_millis(30));
        drop(std::hint::black_box(big));
        let (rss, anon) = m.finish();
        match before {
            Some((_, anon0)) => {
                assert!(anon.unwrap() >= anon0 + (60 << 20), "{anon:?} vs {anon0}");
                assert!(rss.unwrap() >= anon.unwrap());
            }
            None => assert_eq!((rss, anon), (None, None)),
        }
    }
}
