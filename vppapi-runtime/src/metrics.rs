//! Connection metrics in the Prometheus data model (`prometheus-client`): register them in
//! the application's registry with [`Metrics::register`], or render them alone with
//! [`Metrics::encode_text`].

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Counters, gauges and the latency histogram of one connection (cheap to clone: shared).
#[derive(Debug, Clone)]
pub struct Metrics {
    /// Requests sent (calls, dumps, streams, fire-and-forget).
    pub calls: Counter,
    /// Calls that ended in any error (including non-zero `retval`).
    pub errors: Counter,
    /// Calls that timed out.
    pub timeouts: Counter,
    /// Calls waiting for their reply now.
    pub in_flight: Gauge,
    /// Call latency (request queued to reply received), seconds.
    pub latency: Histogram,
    /// Successful connects after the first.
    pub reconnects: Counter,
    /// Events dropped by full subscriber queues.
    pub dropped_events: Counter,
    /// Events delivered to at least one queue.
    pub events: Counter,
    /// Replies that matched no pending call (late replies of cancelled or timed-out calls).
    pub unmatched_replies: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            calls: Counter::default(),
            errors: Counter::default(),
            timeouts: Counter::default(),
            in_flight: Gauge::default(),
            // 10 µs .. ~10 s
            latency: Histogram::new(exponential_buckets(1e-5, 4.0, 11)),
            reconnects: Counter::default(),
            dropped_events: Counter::default(),
            events: Counter::default(),
            unmatched_replies: Counter::default(),
        }
    }
}

impl Metrics {
    /// Register every metric under `vpp_api_*` in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("vpp_api");
        r.register("calls", "Requests sent to VPP", self.calls.clone());
        r.register("errors", "Calls that failed", self.errors.clone());
        r.register(
            "timeouts",
            "Calls without a reply in time",
            self.timeouts.clone(),
        );
        r.register(
            "in_flight",
            "Calls waiting for a reply",
            self.in_flight.clone(),
        );
        r.register("call_latency_seconds", "Call latency", self.latency.clone());
        r.register("reconnects", "Reconnects to VPP", self.reconnects.clone());
        r.register(
            "dropped_events",
            "Events dropped by full subscriber queues",
            self.dropped_events.clone(),
        );
        r.register("events", "Events received", self.events.clone());
        r.register(
            "unmatched_replies",
            "Replies that matched no pending call",
            self.unmatched_replies.clone(),
        );
    }

    /// These metrics alone in the Prometheus text format.
    pub fn encode_text(&self) -> String {
        let mut reg = Registry::default();
        self.register(&mut reg);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &reg).expect("writing to a String");
        out
    }
}
