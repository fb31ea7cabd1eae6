//! The controller's events: JSON lines on stdout in the shape of operator-tools.md §6.2,
//! `{seq, ts, type, level, instance, message, fields}` with `fields` a string map, so that a
//! log shipper, a test or `jq` can follow backend transitions, frontend states, VPP
//! (dis)connects, syncs with their operations, reloads and warmup releases. Every log record is
//! an event too (`type: "log"`), so nothing goes to a second channel.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use serde::Serialize;

/// Severity, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "debug" => Ok(Level::Debug),
            "info" => Ok(Level::Info),
            "warn" | "warning" => Ok(Level::Warn),
            "error" => Ok(Level::Error),
            _ => Err(format!(
                "unknown log level {s:?}: debug, info, warn or error"
            )),
        }
    }
}

/// One event.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub seq: u64,
    pub ts: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub level: Level,
    pub instance: String,
    pub message: String,
    pub fields: BTreeMap<String, String>,
}

/// Writes events as JSON lines (stdout), numbering them.
#[derive(Debug)]
pub struct Events {
    seq: AtomicU64,
    instance: String,
    min_level: Level,
}

impl Events {
    pub fn new(instance: String, min_level: Level) -> Events {
        Events {
            seq: AtomicU64::new(0),
            instance,
            min_level,
        }
    }

    /// Emits one event (if its level is shown). `fields` are `(name, value)` pairs.
    pub fn emit<K: Into<String>, V: ToString>(
        &self,
        kind: &str,
        level: Level,
        message: impl Into<String>,
        fields: impl IntoIterator<Item = (K, V)>,
    ) {
        if level < self.min_level {
            return;
        }
        let e = Event {
            seq: self.seq.fetch_add(1, Ordering::Relaxed) + 1,
            ts: crate::output::rfc3339(SystemTime::now()),
            kind: kind.to_string(),
            level,
            instance: self.instance.clone(),
            message: message.into(),
            fields: fields
                .into_iter()
                .map(|(k, v)| (k.into(), v.to_string()))
                .collect(),
        };
        if let Ok(line) = serde_json::to_string(&e) {
            let mut out = std::io::stdout().lock();
            // A closed stdout must not stop the controller.
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }

    /// A plain log record.
    pub fn log(&self, level: Level, message: impl Into<String>) {
        self.emit::<&str, &str>("log", level, message, []);
    }

    pub fn enabled(&self, level: Level) -> bool {
        level >= self.min_level
    }
}

/// This host's name, the default `instance`.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_and_parse() {
        assert!(Level::Debug < Level::Info && Level::Warn < Level::Error);
        assert_eq!("WARNING".parse::<Level>().unwrap(), Level::Warn);
        assert!("loud".parse::<Level>().is_err());
        let e = Events::new("x".into(), Level::Info);
        assert!(!e.enabled(Level::Debug) && e.enabled(Level::Error));
    }

    #[test]
    fn the_event_shape() {
        let e = Event {
            seq: 1,
            ts: "t".into(),
            kind: "backend-transition".into(),
            level: Level::Info,
            instance: "h".into(),
            message: "m".into(),
            fields: [("backend".to_string(), "be1".to_string())].into(),
        };
        let j = serde_json::to_value(&e).unwrap();
        let keys: Vec<&str> = j.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(
            keys,
            ["seq", "ts", "type", "level", "instance", "message", "fields"]
        );
        assert_eq!(j["level"], "info");
        assert_eq!(j["fields"]["backend"], "be1");
    }
}
