//! A backend's health as maglevd keeps it (operator-tools.md §4.5): pure code, no I/O and no
//! clock, so that the rules the spec asks to pin (the HAProxy rise/fall reading, the quick
//! exit from `unknown`, the adaptive interval) are unit tests rather than timing tests.
//!
//! The counter `c` lives in `[0, rise + fall - 1]`; a pass adds one (capped), a fail takes one
//! away (floored at 0); the backend is up when `c >= rise`. So from the top it takes `fall`
//! straight fails to go down and from 0 `rise` straight passes to come up, while a backend just
//! over the line (`c == rise`) goes down on one fail: IPng's prose ("barely up needs `fall`
//! failures") holds only from the top, which is what its own table shows. A new (or resumed,
//! or re-enabled) backend starts `unknown` with `c = rise - 1`: one pass makes it up, any fail
//! down.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use serde::Serialize;

/// A backend's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Started (or resumed, or enabled) and no probe result yet.
    Unknown,
    Up,
    Down,
    /// Probing stopped by an operator; traffic drains, nothing is flushed.
    Paused,
    /// Switched off (`enabled: false`): no probes, flows flushed.
    Disabled,
    /// Gone from the configuration after a reload.
    Removed,
}

impl State {
    pub const ALL: [State; 6] = [
        State::Unknown,
        State::Up,
        State::Down,
        State::Paused,
        State::Disabled,
        State::Removed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Unknown => "unknown",
            State::Up => "up",
            State::Down => "down",
            State::Paused => "paused",
            State::Disabled => "disabled",
            State::Removed => "removed",
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The rise/fall counter of one backend and the state it gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    rise: u32,
    fall: u32,
    c: u32,
    state: State,
}

impl Health {
    /// A probed backend at the start: `unknown`, `c = rise - 1`.
    pub fn new(rise: u32, fall: u32) -> Health {
        let rise = rise.max(1);
        let fall = fall.max(1);
        Health {
            rise,
            fall,
            c: rise - 1,
            state: State::Unknown,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// The counter (`maglev_backend_health`).
    pub fn counter(&self) -> u32 {
        self.c
    }

    /// The top of the counter: `rise + fall - 1`.
    pub fn max(&self) -> u32 {
        self.rise + self.fall - 1
    }

    /// Whether probe results count (not paused, disabled or removed).
    pub fn probing(&self) -> bool {
        matches!(self.state, State::Unknown | State::Up | State::Down)
    }

    /// One probe result; returns the transition `(from, to)` if the state changed. Results
    /// while paused, disabled or removed are ignored.
    pub fn record(&mut self, pass: bool) -> Option<(State, State)> {
        if !self.probing() {
            return None;
        }
        self.c = if pass {
            (self.c + 1).min(self.max())
        } else {
            self.c.saturating_sub(1)
        };
        let to = if self.c >= self.rise {
            State::Up
        } else {
            State::Down
        };
        self.set(to)
    }

    fn set(&mut self, to: State) -> Option<(State, State)> {
        let from = self.state;
        self.state = to;
        (from != to).then_some((from, to))
    }

    /// Operator pause: probing stops, the state is `paused`.
    pub fn pause(&mut self) -> Option<(State, State)> {
        if matches!(self.state, State::Disabled | State::Removed) {
            return None;
        }
        self.set(State::Paused)
    }

    /// Back to `unknown` with the counter preloaded (after a pause, or an enable).
    pub fn resume(&mut self) -> Option<(State, State)> {
        if self.state == State::Removed {
            return None;
        }
        self.c = self.rise - 1;
        self.set(State::Unknown)
    }

    pub fn disable(&mut self) -> Option<(State, State)> {
        self.set(State::Disabled)
    }

    pub fn remove(&mut self) -> Option<(State, State)> {
        self.set(State::Removed)
    }

    /// HAProxy's `inter`/`fastinter`/`downinter`: `interval` while fully up, `down` while fully
    /// down, `fast` while unknown or on the way between (degraded or recovering).
    pub fn interval(&self, interval: Duration, fast: Duration, down: Duration) -> Duration {
        match self.state {
            State::Up if self.c == self.max() => interval,
            State::Down if self.c == 0 => down,
            _ => fast,
        }
    }
}

/// `base` with up to ±`fraction` of random jitter; `r` is a uniform sample in [0, 1) (passed in
/// so the result is testable), so probes of many backends do not run in lockstep.
pub fn jitter(base: Duration, fraction: f64, r: f64) -> Duration {
    let f = fraction.clamp(0.0, 1.0);
    let k = 1.0 + f * (2.0 * r.clamp(0.0, 1.0) - 1.0);
    base.mul_f64(k.max(0.0))
}

/// One transition, as kept in the history and sent as an event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    pub at: String,
    pub from: State,
    pub to: State,
    /// What caused it (the probe's code, "config", "reload", ...).
    pub reason: String,
}

/// The last N transitions of a backend (`healthchecker.transition-history`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct History {
    cap: usize,
    items: VecDeque<Transition>,
}

impl History {
    pub fn new(cap: usize) -> History {
        History {
            cap: cap.max(1),
            items: VecDeque::new(),
        }
    }

    pub fn set_cap(&mut self, cap: usize) {
        self.cap = cap.max(1);
        while self.items.len() > self.cap {
            self.items.pop_front();
        }
    }

    pub fn push(&mut self, from: State, to: State, reason: &str, at: SystemTime) {
        self.items.push_back(Transition {
            at: crate::output::rfc3339(at),
            from,
            to,
            reason: reason.to_string(),
        });
        while self.items.len() > self.cap {
            self.items.pop_front();
        }
    }

    pub fn items(&self) -> impl Iterator<Item = &Transition> {
        self.items.iter()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drives the counter to `c` from 0 (fails from the preload, then passes).
    fn at(rise: u32, fall: u32, c: u32) -> Health {
        let mut h = Health::new(rise, fall);
        h.record(false);
        while h.counter() > 0 {
            h.record(false);
        }
        for _ in 0..c {
            h.record(true);
        }
        assert_eq!(h.counter(), c);
        h
    }

    #[test]
    fn rise_2_fall_3_reads_down_down_up_up_up() {
        // operator-tools.md §4.5: c = 0 1 2 3 4 -> DOWN DOWN UP UP UP.
        let states: Vec<State> = (0..=4).map(|c| at(2, 3, c).state()).collect();
        assert_eq!(
            states,
            [State::Down, State::Down, State::Up, State::Up, State::Up]
        );
        assert_eq!(Health::new(2, 3).max(), 4);
        // The counter never leaves [0, rise + fall - 1].
        let mut h = at(2, 3, 4);
        h.record(true);
        assert_eq!(h.counter(), 4);
        let mut h = at(2, 3, 0);
        h.record(false);
        assert_eq!(h.counter(), 0);
    }

    #[test]
    fn from_max_it_takes_fall_straight_fails_to_go_down() {
        for (rise, fall) in [(2, 3), (2, 2), (1, 1), (3, 5)] {
            let mut h = at(rise, fall, rise + fall - 1);
            assert_eq!(h.state(), State::Up);
            for i in 1..fall {
                h.record(false);
                assert_eq!(h.state(), State::Up, "rise {rise} fall {fall}: fail {i}");
            }
            assert_eq!(h.record(false), Some((State::Up, State::Down)));
            // And from 0 it takes `rise` straight passes to come up.
            let mut h = at(rise, fall, 0);
            for _ in 1..rise {
                h.record(true);
                assert_eq!(h.state(), State::Down);
            }
            assert_eq!(h.record(true), Some((State::Down, State::Up)));
        }
        // Barely up (c == rise) goes down on a single fail: "barely up needs `fall` failures"
        // does not hold.
        let mut h = at(2, 3, 2);
        assert_eq!(h.state(), State::Up);
        assert_eq!(h.record(false), Some((State::Up, State::Down)));
    }

    #[test]
    fn unknown_exits_on_the_first_result() {
        let mut h = Health::new(2, 3);
        assert_eq!((h.state(), h.counter()), (State::Unknown, 1));
        assert_eq!(h.record(true), Some((State::Unknown, State::Up)));
        let mut h = Health::new(2, 3);
        assert_eq!(h.record(false), Some((State::Unknown, State::Down)));
        // rise 1: the preload is 0; one pass is up, a fail stays at 0 and is down.
        let mut h = Health::new(1, 3);
        assert_eq!(h.record(true), Some((State::Unknown, State::Up)));
        let mut h = Health::new(1, 3);
        assert_eq!(h.record(false), Some((State::Unknown, State::Down)));
        // A flapping backend stays inside the range and changes state only across rise.
        let mut h = at(2, 3, 3);
        for _ in 0..10 {
            assert_eq!(h.record(false), None);
            assert_eq!(h.record(true), None);
        }
    }

    #[test]
    fn pause_resume_disable_remove() {
        let mut h = at(2, 2, 3);
        assert_eq!(h.pause(), Some((State::Up, State::Paused)));
        assert_eq!(h.record(false), None, "results while paused are ignored");
        assert_eq!(h.state(), State::Paused);
        assert_eq!(h.resume(), Some((State::Paused, State::Unknown)));
        assert_eq!(h.counter(), 1);
        assert_eq!(h.disable(), Some((State::Unknown, State::Disabled)));
        assert_eq!(h.pause(), None);
        assert_eq!(h.record(true), None);
        assert_eq!(h.resume(), Some((State::Disabled, State::Unknown)));
        assert_eq!(h.remove(), Some((State::Unknown, State::Removed)));
        assert_eq!(h.resume(), None);
    }

    #[test]
    fn adaptive_interval() {
        let (i, f, d) = (
            Duration::from_secs(2),
            Duration::from_millis(500),
            Duration::from_secs(10),
        );
        assert_eq!(Health::new(2, 3).interval(i, f, d), f, "unknown: fast");
        assert_eq!(at(2, 3, 4).interval(i, f, d), i, "fully up: normal");
        assert_eq!(at(2, 3, 3).interval(i, f, d), f, "degraded: fast");
        assert_eq!(at(2, 3, 1).interval(i, f, d), f, "recovering: fast");
        assert_eq!(at(2, 3, 0).interval(i, f, d), d, "fully down: slow");
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let b = Duration::from_secs(1);
        assert_eq!(jitter(b, 0.1, 0.5), b);
        assert_eq!(jitter(b, 0.1, 0.0), Duration::from_millis(900));
        assert!(jitter(b, 0.1, 0.999_999) <= Duration::from_millis(1100));
        assert_eq!(jitter(b, 0.0, 0.9), b);
    }

    #[test]
    fn history_keeps_the_last_n() {
        let mut h = History::new(2);
        let t = SystemTime::UNIX_EPOCH;
        h.push(State::Unknown, State::Up, "L7OK", t);
        h.push(State::Up, State::Down, "L7STS", t);
        h.push(State::Down, State::Up, "L7OK", t);
        let v: Vec<_> = h.items().map(|x| (x.from, x.to)).collect();
        assert_eq!(v, [(State::Up, State::Down), (State::Down, State::Up)]);
        h.set_cap(1);
        assert_eq!(h.len(), 1);
    }
}
