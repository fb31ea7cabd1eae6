//! The optional in-memory trace of the last N calls (`Config::trace.capacity`).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// How a traced call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// A reply arrived (see `retval`).
    Replied,
    /// No reply within the timeout.
    TimedOut,
    /// The connection was lost.
    ConnectionLost,
    /// The caller dropped the call before the reply.
    Cancelled,
    /// Sent without expecting a reply.
    Sent,
}

/// One traced call.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    /// Request name.
    pub message: &'static str,
    /// The context used.
    pub context: u32,
    /// When the request was queued.
    pub sent: SystemTime,
    /// When the reply (or the final stream message) was received.
    pub received: Option<SystemTime>,
    /// Time from sending to the end of the call.
    pub duration: Duration,
    /// The reply's `retval`, when the reply has one.
    pub retval: Option<i32>,
    /// How it ended.
    pub outcome: CallOutcome,
}

/// A ring of the last `capacity` calls.
#[derive(Debug)]
pub struct CallTrace {
    capacity: usize,
    ring: Mutex<VecDeque<CallRecord>>,
}

impl CallTrace {
    /// A ring keeping `capacity` records.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            ring: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
        }
    }

    /// Add a record, dropping the oldest when full.
    pub fn push(&self, rec: CallRecord) {
        if self.capacity == 0 {
            return;
        }
        let mut r = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        if r.len() == self.capacity {
            r.pop_front();
        }
        r.push_back(rec);
    }

    /// The records, oldest first.
    pub fn snapshot(&self) -> Vec<CallRecord> {
        let r = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        r.iter().cloned().collect()
    }
}
