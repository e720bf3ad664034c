//! When an outbound webhook is tried again. Receivers go down for hours
//! (a regional server room loses power over a weekend), so the schedule
//! stretches to three days before a delivery is dead-lettered; the early
//! steps are short so that a blip costs seconds, not hours.

use chrono::{DateTime, Duration, Utc};

/// How long a delivery is retried, counted from its first attempt.
pub const GIVE_UP_AFTER: Duration = Duration::days(3);

/// Waits after attempt 1, 2, 3, …; the last step repeats.
const STEPS_SECS: [i64; 8] = [5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600];

/// The next attempt after `attempts` failed ones (the first at
/// `first_attempt_at`), or None when the delivery is to be dead-lettered.
/// `jitter` in [0, 1) spreads retries of deliveries that failed together
/// by up to ±20 %.
pub fn next_attempt(
    attempts: i64,
    first_attempt_at: DateTime<Utc>,
    now: DateTime<Utc>,
    jitter: f64,
) -> Option<DateTime<Utc>> {
    let step = usize::try_from(attempts.max(1) - 1)
        .unwrap_or(0)
        .min(STEPS_SECS.len() - 1);
    let base = STEPS_SECS[step] as f64;
    let wait = base * (0.8 + 0.4 * jitter.clamp(0.0, 1.0));
    let at = now + Duration::milliseconds((wait * 1000.0) as i64);
    let deadline = first_attempt_at + GIVE_UP_AFTER;
    if now >= deadline {
        return None;
    }
    // The last try lands on the deadline rather than past it.
    Some(at.min(deadline))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_starts_short_and_grows() {
        let t0 = Utc::now();
        let wait = |n| next_attempt(n, t0, t0, 0.5).map(|at| (at - t0).num_seconds());
        assert_eq!(wait(1), Some(5));
        assert_eq!(wait(2), Some(30));
        assert_eq!(wait(3), Some(120));
        assert_eq!(wait(8), Some(6 * 3600));
        assert_eq!(wait(50), Some(6 * 3600));
        assert_eq!(wait(0), Some(5));
    }

    #[test]
    fn jitter_stays_within_a_fifth() {
        let t0 = Utc::now();
        let lo = next_attempt(4, t0, t0, 0.0).map(|at| (at - t0).num_seconds());
        let hi = next_attempt(4, t0, t0, 0.999_999).map(|at| (at - t0).num_seconds());
        assert_eq!(lo, Some(480));
        assert_eq!(hi, Some(719));
    }

    #[test]
    fn gives_up_after_three_days_of_failures() {
        let t0 = Utc::now();
        let mut now = t0;
        let mut attempts = 1;
        while let Some(at) = next_attempt(attempts, t0, now, 0.5) {
            assert!(at > now && at <= t0 + GIVE_UP_AFTER);
            now = at;
            attempts += 1;
            assert!(attempts < 100, "never gives up");
        }
        assert!(now >= t0 + GIVE_UP_AFTER);
        // Eight short steps, then every six hours: about 18 attempts.
        assert!((15..=22).contains(&attempts), "{attempts}");
    }
}
