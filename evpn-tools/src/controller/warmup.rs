//! Warmup, or restart neutrality (operator-tools.md §4.5): after a restart every backend is
//! `unknown` (weight 0), and syncing at once would take every AS out of VPP and black-hole new
//! flows until the rise counters catch up. So:
//!
//! 1. until `startup-min-delay` nothing touches the VIPs (neither the periodic nor the
//!    event-driven sync);
//! 2. between min and `startup-max-delay` each frontend is released on its own once all its
//!    backends have left `unknown`;
//! 3. at max a final full sync handles the stragglers, and from then on everything is synced.
//!
//! The clock starts when the controller starts, is process-wide, and survives reloads (which
//! may change the delays, not the start) and VPP reconnects. Both delays 0 disable warmup.
//! Pure: every decision takes `now`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Where warmup is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Before min: hands off.
    HandsOff,
    /// Between min and max: per-frontend release.
    Releasing,
    /// Max passed, the final full sync has not run yet.
    Expired,
    /// Over (or disabled).
    Done,
}

/// May a frontend's event-driven sync touch VPP?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// No (logged at DEBUG).
    Suppressed,
    /// Yes, and this is its release (said once).
    Released,
    /// Yes.
    Open,
}

#[derive(Debug, Clone)]
pub struct Warmup {
    start: Instant,
    min: Duration,
    max: Duration,
    released: BTreeSet<String>,
    finished: bool,
}

impl Warmup {
    pub fn new(start: Instant, min: Duration, max: Duration) -> Warmup {
        Warmup {
            start,
            min,
            max: max.max(min),
            released: BTreeSet::new(),
            finished: false,
        }
    }

    /// A reload: new delays, same clock.
    pub fn set_delays(&mut self, min: Duration, max: Duration) {
        self.min = min;
        self.max = max.max(min);
    }

    pub fn disabled(&self) -> bool {
        self.min.is_zero() && self.max.is_zero()
    }

    pub fn phase(&self, now: Instant) -> Phase {
        if self.finished || self.disabled() {
            return Phase::Done;
        }
        let t = now.saturating_duration_since(self.start);
        if t < self.min {
            Phase::HandsOff
        } else if t < self.max {
            Phase::Releasing
        } else {
            Phase::Expired
        }
    }

    /// The final full sync ran: warmup is over.
    pub fn finish(&mut self) {
        self.finished = true;
    }

    /// Whether a full sync (periodic, or after a reload or reconnect) may run.
    pub fn full_sync_allowed(&self, now: Instant) -> bool {
        self.phase(now) == Phase::Done
    }

    /// Whether `frontend` was released (its syncs may touch VPP before warmup is over).
    pub fn is_released(&self, frontend: &str) -> bool {
        self.released.contains(frontend)
    }

    /// The gate of an event-driven sync of `frontend`, whose backends are `all_known` or not.
    /// Releases it when that is due.
    pub fn gate(&mut self, frontend: &str, all_known: bool, now: Instant) -> Gate {
        match self.phase(now) {
            Phase::Done => Gate::Open,
            Phase::HandsOff => Gate::Suppressed,
            // The final full sync is due; the caller runs it first.
            Phase::Expired => Gate::Suppressed,
            Phase::Releasing => {
                if self.released.contains(frontend) {
                    Gate::Open
                } else if all_known {
                    self.released.insert(frontend.to_string());
                    Gate::Released
                } else {
                    Gate::Suppressed
                }
            }
        }
    }

    /// When the phase changes next (min, then max); `None` once over.
    pub fn next_deadline(&self, now: Instant) -> Option<Instant> {
        match self.phase(now) {
            Phase::HandsOff => Some(self.start + self.min),
            Phase::Releasing => Some(self.start + self.max),
            Phase::Expired => Some(now),
            Phase::Done => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn hands_off_then_per_frontend_release_then_final() {
        let t0 = Instant::now();
        let mut w = Warmup::new(t0, 5 * S, 30 * S);
        // (1) Before min nothing, even with every backend known.
        assert_eq!(w.phase(t0), Phase::HandsOff);
        assert_eq!(w.gate("www", true, t0 + 4 * S), Gate::Suppressed);
        assert!(!w.full_sync_allowed(t0 + 4 * S));
        assert_eq!(w.next_deadline(t0), Some(t0 + 5 * S));
        // (2) Between min and max: released on its own once all its backends are known.
        let t = t0 + 6 * S;
        assert_eq!(w.phase(t), Phase::Releasing);
        assert_eq!(w.gate("www", false, t), Gate::Suppressed);
        assert_eq!(w.gate("api", true, t), Gate::Released);
        assert_eq!(
            w.gate("api", false, t),
            Gate::Open,
            "released stays released"
        );
        assert_eq!(w.gate("www", true, t + S), Gate::Released);
        assert!(
            !w.full_sync_allowed(t),
            "no full sync (and no pruning) before max"
        );
        assert_eq!(w.next_deadline(t), Some(t0 + 30 * S));
        // (3) At max: the final full sync is due, then everything is open.
        let t = t0 + 30 * S;
        assert_eq!(w.phase(t), Phase::Expired);
        assert_eq!(w.gate("late", false, t), Gate::Suppressed);
        assert_eq!(w.next_deadline(t), Some(t));
        w.finish();
        assert_eq!(w.phase(t), Phase::Done);
        assert_eq!(w.gate("late", false, t), Gate::Open);
        assert!(w.full_sync_allowed(t));
        assert_eq!(w.next_deadline(t), None);
    }

    #[test]
    fn both_zero_disables_it() {
        let t0 = Instant::now();
        let mut w = Warmup::new(t0, Duration::ZERO, Duration::ZERO);
        assert_eq!(w.phase(t0), Phase::Done);
        assert_eq!(w.gate("www", false, t0), Gate::Open);
        assert!(w.full_sync_allowed(t0));
        // Min 0 alone is not "disabled": release starts at once.
        let mut w = Warmup::new(t0, Duration::ZERO, 10 * S);
        assert_eq!(w.phase(t0), Phase::Releasing);
        assert_eq!(w.gate("www", false, t0), Gate::Suppressed);
        assert_eq!(w.gate("www", true, t0), Gate::Released);
    }

    #[test]
    fn a_reload_keeps_the_clock() {
        let t0 = Instant::now();
        let mut w = Warmup::new(t0, 5 * S, 30 * S);
        assert_eq!(w.gate("www", true, t0 + 6 * S), Gate::Released);
        // Shorter delays after a reload count from the same start.
        w.set_delays(2 * S, 8 * S);
        assert_eq!(w.phase(t0 + 7 * S), Phase::Releasing);
        assert!(w.is_released("www"));
        assert_eq!(w.phase(t0 + 9 * S), Phase::Expired);
        // Disabling warmup by reload ends it.
        w.set_delays(Duration::ZERO, Duration::ZERO);
        assert_eq!(w.phase(t0 + 7 * S), Phase::Done);
    }
}
