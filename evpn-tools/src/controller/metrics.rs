//! Prometheus metrics with vpp-maglev's names (operator-tools.md §6.2), on the
//! `prometheus-client` crate, and the small HTTP/1.1 server that serves them (`GET /metrics`)
//! and the controller's state as JSON (`GET /status`, what `maglevc show` would print). The
//! server is a few lines over tokio's `TcpListener`: no HTTP framework for two read-only pages.
//!
//! Values that change by themselves (VPP's uptime, how long the connection has been up) and
//! the VIP packet counters (a snapshot scraped every few seconds) are computed at scrape time
//! by a collector from one snapshot, so a scrape never waits for VPP.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::health::State;
use super::pools::{FrontendPlan, FrontendState};
use super::probe::Outcome;
use crate::output::Step;

pub type Labels = Vec<(String, String)>;

fn labels<const N: usize>(l: [(&str, &str); N]) -> Labels {
    l.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// What the collector reads at scrape time.
#[derive(Debug, Default)]
pub struct Live {
    /// VPP's `/sys/boottime` (Unix seconds), while connected.
    pub boottime: Option<u64>,
    pub connected_since: Option<SystemTime>,
    /// `vip_packets_total` samples: labels and value.
    pub vip_packets: Vec<(Labels, u64)>,
}

#[derive(Debug)]
struct LiveCollector(Arc<Mutex<Live>>);

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

impl Collector for LiveCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let live = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = live.boottime {
            let g = ConstGauge::new((unix_now() - b as f64).max(0.0));
            let m = enc.encode_descriptor(
                "maglev_vpp_uptime_seconds",
                "Seconds since VPP booted (stats /sys/boottime).",
                None,
                g.metric_type(),
            )?;
            g.encode(m)?;
        }
        if let Some(t) = live.connected_since {
            let g = ConstGauge::new(t.elapsed().unwrap_or_default().as_secs_f64());
            let m = enc.encode_descriptor(
                "maglev_vpp_connected_seconds",
                "Seconds the API and stats connections to VPP have been up.",
                None,
                g.metric_type(),
            )?;
            g.encode(m)?;
        }
        if !live.vip_packets.is_empty() {
            let mut m = enc.encode_descriptor(
                "vip_packets",
                "Packets handled by a VPP lb VIP, by kind (the lb plugin's four counters).",
                None,
                prometheus_client::metrics::MetricType::Counter,
            )?;
            for (l, v) in &live.vip_packets {
                ConstCounter::new(*v).encode(m.encode_family(l)?)?;
            }
        }
        Ok(())
    }
}

/// Every metric of the controller.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    backend_state: Family<Labels, Gauge>,
    backend_health: Family<Labels, Gauge>,
    backend_enabled: Family<Labels, Gauge>,
    pool_weight: Family<Labels, Gauge>,
    frontend_state: Family<Labels, Gauge>,
    probe_total: Family<Labels, Counter>,
    probe_duration: Family<Labels, Histogram, fn() -> Histogram>,
    transitions: Family<Labels, Counter>,
    vpp_connected: Gauge,
    vpp_info: Family<Labels, Gauge>,
    api_total: Family<Labels, Counter>,
    lbsync_total: Family<Labels, Counter>,
    pub live: Arc<Mutex<Live>>,
    /// `/status`: the controller's state as JSON.
    pub status: Mutex<serde_json::Value>,
}

fn probe_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut r = Registry::default();
        let m = Metrics {
            backend_state: Family::default(),
            backend_health: Family::default(),
            backend_enabled: Family::default(),
            pool_weight: Family::default(),
            frontend_state: Family::default(),
            probe_total: Family::default(),
            probe_duration: Family::new_with_constructor(probe_histogram),
            transitions: Family::default(),
            vpp_connected: Gauge::default(),
            vpp_info: Family::default(),
            api_total: Family::default(),
            lbsync_total: Family::default(),
            live: Arc::new(Mutex::new(Live::default())),
            status: Mutex::new(serde_json::json!({})),
            registry: Registry::default(),
        };
        r.register(
            "maglev_backend_state",
            "1 for the backend's current state (unknown, up, down, paused, disabled, removed)",
            m.backend_state.clone(),
        );
        r.register(
            "maglev_backend_health",
            "The backend's rise/fall counter (up when >= rise)",
            m.backend_health.clone(),
        );
        r.register(
            "maglev_backend_enabled",
            "1 if the backend is enabled in the configuration",
            m.backend_enabled.clone(),
        );
        r.register(
            "maglev_frontend_pool_backend_weight",
            "Effective weight of a backend in a frontend's pool (0-100)",
            m.pool_weight.clone(),
        );
        r.register(
            "maglev_frontend_state",
            "1 for the frontend's current state (unknown, up, down)",
            m.frontend_state.clone(),
        );
        // prometheus-client appends `_total` to counters.
        r.register(
            "maglev_probe",
            "Health probes by backend, type, result and code",
            m.probe_total.clone(),
        );
        r.register(
            "maglev_probe_duration_seconds",
            "Duration of health probes",
            m.probe_duration.clone(),
        );
        r.register(
            "maglev_backend_transitions",
            "Backend state transitions",
            m.transitions.clone(),
        );
        r.register(
            "maglev_vpp_connected",
            "1 while the API and stats connections to VPP are up",
            m.vpp_connected.clone(),
        );
        r.register(
            "maglev_vpp_info",
            "VPP's version, build date and pid (1 while connected)",
            m.vpp_info.clone(),
        );
        r.register(
            "maglev_vpp_api",
            "VPP API messages by message, direction and result",
            m.api_total.clone(),
        );
        r.register(
            "maglev_vpp_lbsync",
            "LB changes applied by syncs, by scope (full, frontend, connect) and kind",
            m.lbsync_total.clone(),
        );
        r.register_collector(Box::new(LiveCollector(m.live.clone())));
        Metrics { registry: r, ..m }
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut s = String::new();
        if prometheus_client::encoding::text::encode(&mut s, &self.registry).is_err() {
            s.clear();
        }
        s
    }

    pub fn backend_health(&self, backend: &str, c: u32) {
        self.backend_health
            .get_or_create(&labels([("backend", backend)]))
            .set(i64::from(c));
    }

    pub fn probe(&self, backend: &str, kind: &str, o: &Outcome) {
        let result = if o.pass { "success" } else { "failure" };
        self.probe_total
            .get_or_create(&labels([
                ("backend", backend),
                ("type", kind),
                ("result", result),
                ("code", &o.code),
            ]))
            .inc();
        self.probe_duration
            .get_or_create(&labels([("backend", backend), ("type", kind)]))
            .observe(o.duration.as_secs_f64());
    }

    pub fn backend_state(&self, backend: &str, state: State, enabled: bool) {
        for s in State::ALL {
            self.backend_state
                .get_or_create(&labels([("backend", backend), ("state", s.as_str())]))
                .set(i64::from(s == state));
        }
        self.backend_enabled
            .get_or_create(&labels([("backend", backend)]))
            .set(i64::from(enabled));
    }

    pub fn transition(&self, backend: &str, from: State, to: State) {
        self.transitions
            .get_or_create(&labels([
                ("backend", backend),
                ("from", from.as_str()),
                ("to", to.as_str()),
            ]))
            .inc();
    }

    /// A backend left the configuration: its gauges go (the counters stay, as counters do).
    pub fn forget_backend(&self, backend: &str) {
        for s in State::ALL {
            self.backend_state
                .remove(&labels([("backend", backend), ("state", s.as_str())]));
        }
        self.backend_enabled.remove(&labels([("backend", backend)]));
        self.backend_health.remove(&labels([("backend", backend)]));
    }

    /// The frontends' states and effective weights (replaces the previous set).
    pub fn frontends<'a>(&self, plans: impl IntoIterator<Item = &'a FrontendPlan>) {
        self.pool_weight.clear();
        self.frontend_state.clear();
        for p in plans {
            for s in FrontendState::ALL {
                self.frontend_state
                    .get_or_create(&labels([("frontend", &p.name), ("state", s.as_str())]))
                    .set(i64::from(s == p.state));
            }
            for m in &p.members {
                self.pool_weight
                    .get_or_create(&labels([
                        ("frontend", &p.name),
                        ("pool", &m.pool),
                        ("backend", &m.backend),
                    ]))
                    .set(i64::from(m.weight));
            }
        }
    }

    pub fn connected(&self, info: Option<(&str, &str, u32)>, boottime: Option<u64>) {
        self.vpp_info.clear();
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        match info {
            Some((version, build_date, pid)) => {
                self.vpp_connected.set(1);
                self.vpp_info
                    .get_or_create(&labels([
                        ("version", version),
                        ("build_date", build_date),
                        ("pid", &pid.to_string()),
                    ]))
                    .set(1);
                live.connected_since = Some(SystemTime::now());
                live.boottime = boottime;
            }
            None => {
                self.vpp_connected.set(0);
                live.connected_since = None;
                live.boottime = None;
                live.vip_packets.clear();
            }
        }
    }

    pub fn api(&self, msg: &str, direction: &str, ok: bool) {
        self.api_total
            .get_or_create(&labels([
                ("msg", msg),
                ("direction", direction),
                ("result", if ok { "ok" } else { "error" }),
            ]))
            .inc();
    }

    /// Counts what a sync did: its applied operations (`maglev_vpp_lbsync_total{scope,kind}`);
    /// its messages are counted as they go (`Vpp::on_api`).
    pub fn sync_step(&self, scope: &str, step: &Step) {
        for o in &step.ops {
            if o.state != "done" {
                continue;
            }
            if let Some(kind) = lbsync_kind(&o.key, &o.op) {
                self.lbsync_total
                    .get_or_create(&labels([("scope", scope), ("kind", kind)]))
                    .inc();
            }
        }
    }

    pub fn set_vip_packets(&self, samples: Vec<(Labels, u64)>) {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .vip_packets = samples;
    }

    pub fn set_status(&self, v: serde_json::Value) {
        *self.status.lock().unwrap_or_else(|p| p.into_inner()) = v;
    }
}

/// The `kind` of `maglev_vpp_lbsync_total` for one operation, if it is one that counts
/// (`lb_conf` is not).
pub fn lbsync_kind(key: &str, op: &str) -> Option<&'static str> {
    use crate::lb::model::key as k;
    if k::is_vip(key) {
        match op {
            "CREATE" => Some("vip_added"),
            "DELETE" => Some("vip_removed"),
            _ => None,
        }
    } else if k::is_as(key) {
        match op {
            "CREATE" => Some("as_added"),
            "DELETE" => Some("as_removed"),
            "UPDATE" => Some("as_weight_updated"),
            _ => None,
        }
    } else {
        None
    }
}

/// Serves `GET /metrics` and `GET /status` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    loop {
        let Ok((s, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let m = metrics.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(10), answer(s, &m)).await;
        });
    }
}

async fn answer(mut s: TcpStream, m: &Metrics) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut words = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, ctype, body) = match (method, path) {
        ("GET", "/metrics") => (
            "200 OK",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            m.encode(),
        ),
        ("GET", "/status") => {
            let v = m.status.lock().unwrap_or_else(|p| p.into_inner()).clone();
            (
                "200 OK",
                "application/json",
                serde_json::to_string_pretty(&v).unwrap_or_default() + "\n",
            )
        }
        ("GET", _) => (
            "404 Not Found",
            "text/plain",
            "not found: /metrics, /status\n".into(),
        ),
        _ => ("405 Method Not Allowed", "text/plain", "GET only\n".into()),
    };
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(resp.as_bytes()).await?;
    s.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_vpp_maglevs() {
        let m = Metrics::new();
        m.backend_state("be1", State::Up, true);
        m.backend_health("be1", 3);
        m.transition("be1", State::Unknown, State::Up);
        m.probe(
            "be1",
            "http",
            &Outcome {
                pass: true,
                code: "200".into(),
                detail: String::new(),
                duration: Duration::from_millis(3),
            },
        );
        m.api("lb_add_del_as", "send", true);
        m.connected(Some(("v26.06", "today", 42)), Some(1));
        m.set_vip_packets(vec![(labels([("vip", "x"), ("kind", "first_session")]), 7)]);
        let mut s = Step::default();
        s.ops.push(crate::output::OpOut {
            key: "lb/vip/2001:db8::1/128/tcp/80/as/192.0.2.1".into(),
            op: "DELETE".into(),
            recreate: false,
            was_pending: false,
            reason: String::new(),
            state: "done".into(),
            value: serde_json::Value::Null,
            messages: Vec::new(),
        });
        m.sync_step("frontend", &s);
        let t = m.encode();
        for want in [
            "maglev_backend_state{backend=\"be1\",state=\"up\"} 1",
            "maglev_backend_state{backend=\"be1\",state=\"down\"} 0",
            "maglev_backend_health{backend=\"be1\"} 3",
            "maglev_backend_enabled{backend=\"be1\"} 1",
            "maglev_backend_transitions_total{backend=\"be1\",from=\"unknown\",to=\"up\"} 1",
            "maglev_probe_total{backend=\"be1\",type=\"http\",result=\"success\",code=\"200\"} 1",
            "maglev_probe_duration_seconds_bucket{",
            "maglev_vpp_connected 1",
            "maglev_vpp_info{version=\"v26.06\",build_date=\"today\",pid=\"42\"} 1",
            "maglev_vpp_api_total{msg=\"lb_add_del_as\",direction=\"send\",result=\"ok\"} 1",
            "maglev_vpp_lbsync_total{scope=\"frontend\",kind=\"as_removed\"} 1",
            "maglev_vpp_uptime_seconds ",
            "maglev_vpp_connected_seconds ",
            "vip_packets_total{vip=\"x\",kind=\"first_session\"} 7",
        ] {
            assert!(t.contains(want), "{want} not in\n{t}");
        }
        m.connected(None, None);
        let t = m.encode();
        assert!(t.contains("maglev_vpp_connected 0"));
        assert!(!t.contains("maglev_vpp_uptime_seconds "));
        m.forget_backend("be1");
        assert!(!m.encode().contains("maglev_backend_state{backend=\"be1\""));
    }

    #[test]
    fn lbsync_kinds() {
        let v = "lb/vip/2001:db8::1/128/tcp/80";
        let a = "lb/vip/2001:db8::1/128/tcp/80/as/192.0.2.1";
        assert_eq!(lbsync_kind(v, "CREATE"), Some("vip_added"));
        assert_eq!(lbsync_kind(v, "DELETE"), Some("vip_removed"));
        assert_eq!(lbsync_kind(a, "CREATE"), Some("as_added"));
        assert_eq!(lbsync_kind(a, "DELETE"), Some("as_removed"));
        assert_eq!(lbsync_kind(a, "UPDATE"), Some("as_weight_updated"));
        assert_eq!(lbsync_kind("lb/conf", "UPDATE"), None);
    }

    #[tokio::test]
    async fn the_http_endpoint() {
        let m = Arc::new(Metrics::new());
        m.set_status(serde_json::json!({"backends": {}}));
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let srv = tokio::spawn(serve(l, m));
        for (req, want) in [
            (
                "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
                "maglev_vpp_connected 0",
            ),
            ("GET /status HTTP/1.1\r\n\r\n", "\"backends\""),
            ("GET /nope HTTP/1.1\r\n\r\n", "404"),
            ("POST /metrics HTTP/1.1\r\n\r\n", "405"),
            ("\r\n\r\n", "405"),
        ] {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(req.as_bytes()).await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            assert!(out.contains(want), "{req:?}: {out}");
        }
        srv.abort();
    }
}
