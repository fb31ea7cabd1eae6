//! JSON-line events on stdout (operator-tools.md §6.2's shape: `seq`, `ts`, `type`, `level`,
//! `message`, `fields`).

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{json, Map, Value as Json};

/// The event writer (cheap to clone).
#[derive(Clone, Default)]
pub struct Events {
    seq: Arc<AtomicU64>,
}

impl Events {
    fn emit(&self, level: &str, ty: &str, message: &str, fields: &[(&str, &str)]) {
        let f: Map<String, Json> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), Json::String(v.to_string())))
            .collect();
        let line = json!({
            "seq": self.seq.fetch_add(1, Ordering::Relaxed) + 1,
            "ts": evpn_tools::output::rfc3339(SystemTime::now()),
            "type": ty,
            "level": level,
            "message": message,
            "fields": f,
        });
        let mut out = std::io::stdout().lock();
        // A closed stdout must not kill the agent.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    pub fn debug(&self, ty: &str, message: &str, fields: &[(&str, &str)]) {
        self.emit("debug", ty, message, fields)
    }
    pub fn info(&self, ty: &str, message: &str, fields: &[(&str, &str)]) {
        self.emit("info", ty, message, fields)
    }
    pub fn warn(&self, ty: &str, message: &str, fields: &[(&str, &str)]) {
        self.emit("warn", ty, message, fields)
    }
    pub fn error(&self, ty: &str, message: &str, fields: &[(&str, &str)]) {
        self.emit("error", ty, message, fields)
    }
}
