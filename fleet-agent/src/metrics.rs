//! Prometheus metrics on `--metrics-listen` (`GET /metrics`, text format), through the
//! `prometheus-client` crate and a few lines of HTTP/1.1 over tokio's `TcpListener`.
//!
//! - `fleet_agent_values{state}`: values per status (applied, pending, failed, blocked, invalid)
//! - `fleet_agent_resyncs_total`, `fleet_agent_transactions_total`, `fleet_agent_ops_total{op}`
//! - `fleet_agent_store_connected`, `fleet_agent_vpp_connected` (0/1)

use std::sync::{Arc, Mutex};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

type Labels = Vec<(String, String)>;

/// The agent's metrics.
pub struct Metrics {
    registry: Mutex<Registry>,
    pub values: Family<Labels, Gauge>,
    pub resyncs: Counter,
    pub transactions: Counter,
    pub ops: Family<Labels, Counter>,
    pub store_connected: Gauge,
    pub vpp_connected: Gauge,
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let m = Metrics {
            registry: Mutex::new(Registry::default()),
            values: Family::default(),
            resyncs: Counter::default(),
            transactions: Counter::default(),
            ops: Family::default(),
            store_connected: Gauge::default(),
            vpp_connected: Gauge::default(),
        };
        if let Ok(mut r) = m.registry.lock() {
            r.register(
                "fleet_agent_values",
                "Desired values per status",
                m.values.clone(),
            );
            // prometheus-client appends `_total` to counters.
            r.register("fleet_agent_resyncs", "Full resyncs", m.resyncs.clone());
            r.register(
                "fleet_agent_transactions",
                "Transactions (read, plan, apply, verify)",
                m.transactions.clone(),
            );
            r.register("fleet_agent_ops", "Operations applied", m.ops.clone());
            r.register(
                "fleet_agent_store_connected",
                "Whether the store is reachable",
                m.store_connected.clone(),
            );
            r.register(
                "fleet_agent_vpp_connected",
                "Whether a VPP session is up",
                m.vpp_connected.clone(),
            );
        }
        Arc::new(m)
    }

    /// Sets the per-status gauges from a status map's states.
    pub fn set_states<'a>(&self, states: impl Iterator<Item = &'a str>) {
        let mut n: std::collections::BTreeMap<&str, i64> = [
            ("applied", 0),
            ("pending", 0),
            ("failed", 0),
            ("blocked", 0),
            ("invalid", 0),
        ]
        .into();
        for s in states {
            *n.entry(s).or_default() += 1;
        }
        for (s, c) in n {
            self.values
                .get_or_create(&vec![("state".to_string(), s.to_string())])
                .set(c);
        }
    }

    pub fn op(&self, op: &str) {
        self.ops
            .get_or_create(&vec![("op".to_string(), op.to_string())])
            .inc();
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Ok(r) = self.registry.lock() {
            let _ = prometheus_client::encoding::text::encode(&mut out, &r);
        }
        out
    }
}

/// Serves `GET /metrics` until the listener fails.
pub async fn serve(l: TcpListener, m: Arc<Metrics>) {
    loop {
        let Ok((mut s, _)) = l.accept().await else {
            return;
        };
        let m = m.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let n = match tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut buf))
                .await
            {
                Ok(Ok(n)) => n,
                _ => return,
            };
            let req = String::from_utf8_lossy(&buf[..n]);
            let (code, ctype, body) = if req.starts_with("GET /metrics") {
                (
                    "200 OK",
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    m.encode(),
                )
            } else {
                ("404 Not Found", "text/plain", "not found\n".to_string())
            };
            let resp = format!(
                "HTTP/1.1 {code}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes()).await;
        });
    }
}
