//! Wall-clock time as the table format records it: microseconds since the Unix epoch.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Now, in microseconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_micros() -> i64 {
    micros(SystemTime::now())
}

/// `t` in microseconds since the Unix epoch, saturating (negative before 1970).
pub fn micros(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => duration_micros(d),
        Err(e) => duration_micros(e.duration()).saturating_neg(),
    }
}

/// A duration in whole microseconds, saturating at `i64::MAX` (so `Duration::MAX`, "keep
/// everything", stays the largest value instead of wrapping negative).
pub fn duration_micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_durations_saturate() {
        assert_eq!(duration_micros(Duration::MAX), i64::MAX);
        assert_eq!(duration_micros(Duration::from_secs(2)), 2_000_000);
        assert!(now_micros() > 1_600_000_000_000_000);
        assert_eq!(micros(UNIX_EPOCH - Duration::from_micros(5)), -5);
    }
}
