//! Connection settings: one struct with defaults, and the same keys in a TOML file.
//!
//! ```toml
//! endpoint = "socket:/run/vpp/api.sock"   # or "shm:/run/vpp/api.sock", or a plain path
//! connect_via_shm = false                 # govppmux's `connect-via-shm`: upgrade to shm
//! client_name = "my-agent"
//! reply_timeout = "5s"
//! connect_timeout = "10s"
//! busy_poll = "50us"         # a lone call polls the socket this long before parking
//! resync_after_reconnect = true
//!
//! [health]
//! interval = "1s"
//! reply_timeout = "500ms"
//! threshold = 3
//! reconnect_when_not_responding = true
//!
//! [reconnect]
//! initial_delay = "100ms"
//! max_delay = "5s"
//! multiplier = 2.0
//! jitter = 0.2
//!
//! [events]
//! queue_capacity = 1024
//! overflow = "drop-oldest"   # or "disconnect"
//!
//! [trace]
//! capacity = 0               # last N calls kept in memory; 0 = off
//!
//! [shm]                      # only used with an shm endpoint
//! segment_size = 67108864
//! route = "adaptive"         # or "segment": every request that fits goes through the segment
//! probe_interval = "1s"
//! ```
//!
//! The environment variable `GOVPPMUX_NOSOCK` (any non-empty value), as in govppmux, means
//! "prefer shared memory": a `socket:` endpoint is then used as `shm:`.
//!
//! Durations are strings with a unit (`us`, `ms`, `s`, `m`, `h`) or plain numbers of seconds.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::transport::DEFAULT_SOCKET;

/// Everything the connection needs; `Config::default()` works against a stock VPP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where VPP is and how to talk to it: `socket:PATH` (the default, VPP's API socket;
    /// `socksvr { default }` puts it at `/run/vpp/api.sock`) or `shm:PATH` (the same socket,
    /// upgraded to a shared-memory segment; see [`crate::transport`]). The key `socket_path`
    /// is accepted too.
    #[serde(alias = "socket_path")]
    pub endpoint: Endpoint,
    /// Use shared memory with a `socket:` endpoint (govppmux's `connect-via-shm`).
    #[serde(alias = "connect-via-shm")]
    pub connect_via_shm: bool,
    /// The name shown by `show api clients` (at most 63 bytes).
    pub client_name: String,
    /// Default per-call reply timeout (VPP drops bad requests silently).
    #[serde(with = "duration")]
    pub reply_timeout: Duration,
    /// How long [`crate::Connection::connect`] keeps trying before it gives up; also the bound
    /// on one handshake.
    #[serde(with = "duration")]
    pub connect_timeout: Duration,
    /// Largest frame body accepted from VPP (the message table of a full 26.06 is ~150 KB,
    /// `get_api_json_reply` ~1.3 MB).
    pub max_frame_len: usize,
    /// Queued outgoing bytes above which callers wait for the writer.
    pub write_high_water: usize,
    /// How long a lone synchronous call on a multi-thread runtime polls the socket for its
    /// reply before it parks (like `SO_BUSY_POLL`): a reply within that window costs no
    /// worker park and wake-up. Only while recent replies came within the window; 0 = never.
    #[serde(with = "duration")]
    pub busy_poll: Duration,
    /// Run the `on_reconnect` hooks after every reconnect.
    pub resync_after_reconnect: bool,
    /// Liveness probing.
    pub health: HealthConfig,
    /// Reconnect backoff.
    pub reconnect: ReconnectConfig,
    /// Event queues.
    pub events: EventConfig,
    /// In-memory trace of the last calls.
    pub trace: TraceConfig,
    /// The shared-memory transport (used with an `shm:` endpoint).
    pub shm: ShmConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            endpoint: Endpoint::Socket(PathBuf::from(DEFAULT_SOCKET)),
            connect_via_shm: false,
            client_name: "vppapi-rs".into(),
            reply_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(10),
            max_frame_len: 64 << 20,
            write_high_water: 4 << 20,
            busy_poll: Duration::from_micros(50),
            resync_after_reconnect: true,
            health: HealthConfig::default(),
            reconnect: ReconnectConfig::default(),
            events: EventConfig::default(),
            trace: TraceConfig::default(),
            shm: ShmConfig::default(),
        }
    }
}

impl Config {
    /// Defaults with another socket path (the socket transport).
    pub fn new(socket_path: impl Into<PathBuf>) -> Self {
        Self {
            endpoint: Endpoint::Socket(socket_path.into()),
            ..Self::default()
        }
    }

    /// Defaults with an endpoint (`socket:PATH`, `shm:PATH` or a plain path).
    pub fn with_endpoint(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            ..Self::default()
        }
    }

    /// The API socket path (both transports start on it).
    pub fn socket_path(&self) -> &std::path::Path {
        self.endpoint.path()
    }

    /// The endpoint the connection uses: [`Config::endpoint`], as `shm:` when
    /// [`Config::connect_via_shm`] is set or `GOVPPMUX_NOSOCK` is in the environment.
    pub fn effective_endpoint(&self) -> Endpoint {
        let nosock = std::env::var_os("GOVPPMUX_NOSOCK").is_some_and(|v| !v.is_empty());
        match &self.endpoint {
            Endpoint::Socket(p) if self.connect_via_shm || nosock => Endpoint::Shm(p.clone()),
            e => e.clone(),
        }
    }

    /// Parse the TOML form (missing keys keep their defaults, unknown keys are errors).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let c: Config = toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        c.validate()?;
        Ok(c)
    }

    /// Read and parse a TOML file.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::from_toml(&text).map_err(|e| match e {
            ConfigError::Parse(m) => ConfigError::Parse(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// The TOML form of this configuration.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("config serializes")
    }

    /// Check value ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, why: &str| Err(ConfigError::Invalid(format!("{key}: {why}")));
        if self.client_name.len() > 63 {
            return bad("client_name", "longer than 63 bytes");
        }
        if self.reply_timeout.is_zero() {
            return bad("reply_timeout", "must be positive");
        }
        if self.health.interval.is_zero() || self.health.reply_timeout.is_zero() {
            return bad("health", "interval and reply_timeout must be positive");
        }
        if self.health.threshold == 0 {
            return bad("health.threshold", "must be at least 1");
        }
        if self.reconnect.multiplier < 1.0 || !self.reconnect.multiplier.is_finite() {
            return bad("reconnect.multiplier", "must be >= 1");
        }
        if !(0.0..=1.0).contains(&self.reconnect.jitter) {
            return bad("reconnect.jitter", "must be within 0..=1");
        }
        if self.reconnect.max_delay < self.reconnect.initial_delay {
            return bad("reconnect.max_delay", "below initial_delay");
        }
        if self.events.queue_capacity == 0 {
            return bad("events.queue_capacity", "must be at least 1");
        }
        if self.max_frame_len < 64 {
            return bad("max_frame_len", "must be at least 64");
        }
        if self.endpoint.path().as_os_str().is_empty() {
            return bad("endpoint", "no socket path");
        }
        // Spec 1.5: below 2 pages + VPP's private heap + rings VPP crashes; 16 MiB is safe.
        if self.shm.segment_size < (16 << 20) {
            return bad("shm.segment_size", "must be at least 16 MiB (16777216)");
        }
        if self.shm.probe_interval.is_zero() {
            return bad("shm.probe_interval", "must be positive");
        }
        Ok(())
    }
}

/// Health probe: `control_ping` every `interval`; `threshold` consecutive probes without a
/// reply within `reply_timeout` make the connection not responding (govppmux's settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthConfig {
    /// Probe interval.
    #[serde(with = "duration")]
    pub interval: Duration,
    /// Reply timeout of one probe.
    #[serde(with = "duration")]
    pub reply_timeout: Duration,
    /// Consecutive misses before the state becomes `NotResponding`.
    pub threshold: u32,
    /// Drop the connection and reconnect once not responding.
    pub reconnect_when_not_responding: bool,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(1),
            reply_timeout: Duration::from_millis(500),
            threshold: 3,
            reconnect_when_not_responding: true,
        }
    }
}

/// Exponential backoff with jitter between reconnect attempts; never gives up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReconnectConfig {
    /// Delay before the second attempt.
    #[serde(with = "duration")]
    pub initial_delay: Duration,
    /// Upper bound of the delay.
    #[serde(with = "duration")]
    pub max_delay: Duration,
    /// Growth factor per failed attempt.
    pub multiplier: f64,
    /// Random fraction (0..=1) taken off each delay, so clients do not reconnect in lockstep.
    pub jitter: f64,
}

impl Default for ReconnectConfig {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            multiplier: 2.0,
            jitter: 0.2,
        }
    }
}

impl ReconnectConfig {
    /// Delay after `failures` consecutive failed attempts (0 = first retry).
    pub fn delay(&self, failures: u32) -> Duration {
        let base = self.initial_delay.as_secs_f64() * self.multiplier.powi(failures.min(64) as i32);
        let capped = base.min(self.max_delay.as_secs_f64());
        let jittered = capped * (1.0 - self.jitter * fastrand::f64());
        Duration::from_secs_f64(jittered.max(0.0))
    }
}

/// Where VPP is and which transport reaches it. Written `socket:PATH`, `shm:PATH`, or a
/// plain `PATH` (socket).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// VPP's API socket (`socksvr`): every message framed on the stream.
    Socket(PathBuf),
    /// The hybrid shared-memory transport: handshake on the API socket at this path, then
    /// requests and replies through a memfd segment VPP creates (`sock_init_shm`); events,
    /// and messages too large for a ring, stay on the socket.
    Shm(PathBuf),
}

impl Endpoint {
    /// The API socket path.
    pub fn path(&self) -> &std::path::Path {
        match self {
            Endpoint::Socket(p) | Endpoint::Shm(p) => p,
        }
    }
    /// Whether this is the shared-memory transport.
    pub fn is_shm(&self) -> bool {
        matches!(self, Endpoint::Shm(_))
    }
}

impl std::str::FromStr for Endpoint {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let (kind, path) = match s.split_once(':') {
            Some((k @ ("socket" | "shm"), p)) => (k, p),
            Some((k, _)) if !k.contains('/') && !k.is_empty() => {
                return Err(ConfigError::Invalid(format!(
                    "endpoint {s:?}: unknown transport {k:?} (socket:PATH or shm:PATH)"
                )))
            }
            _ => ("socket", s),
        };
        if path.is_empty() {
            return Err(ConfigError::Invalid(format!(
                "endpoint {s:?}: no socket path"
            )));
        }
        Ok(match kind {
            "shm" => Endpoint::Shm(path.into()),
            _ => Endpoint::Socket(path.into()),
        })
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Socket(p) => write!(f, "socket:{}", p.display()),
            Endpoint::Shm(p) => write!(f, "shm:{}", p.display()),
        }
    }
}

impl Serialize for Endpoint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Endpoint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Which path a request takes on the shared-memory transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShmRoute {
    /// Per request, the path with the lower recent round-trip time; the other path is probed
    /// once per `probe_interval`. On an idle VPP (its main loop sleeps in epoll and only a
    /// socket message wakes it) that is the socket; on a busy one (the main loop polls, the
    /// socket is read every 1024 loops) it is the segment.
    Adaptive,
    /// Every request that fits a ring slot goes through the segment.
    Segment,
}

/// The shared-memory transport.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShmConfig {
    /// `requested_size` of `sock_init_shm` (VPP's pages are allocated lazily).
    pub segment_size: u32,
    /// Request routing.
    pub route: ShmRoute,
    /// How often the adaptive router tries the path it is not using.
    #[serde(with = "duration")]
    pub probe_interval: Duration,
}

impl Default for ShmConfig {
    fn default() -> Self {
        Self {
            segment_size: 64 << 20,
            route: ShmRoute::Adaptive,
            probe_interval: Duration::from_secs(1),
        }
    }
}

/// What happens when a subscriber's queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OverflowPolicy {
    /// Drop the oldest queued event (counted), keep the subscriber.
    DropOldest,
    /// End the subscriber's stream (counted); other subscribers are unaffected.
    Disconnect,
}

/// Event queues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventConfig {
    /// Events queued per subscriber.
    pub queue_capacity: usize,
    /// Policy when a queue is full.
    pub overflow: OverflowPolicy,
}

impl Default for EventConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 1024,
            overflow: OverflowPolicy::DropOldest,
        }
    }
}

/// The in-memory trace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TraceConfig {
    /// Number of calls kept (0 = off).
    pub capacity: usize,
}

/// A configuration file error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        reason: String,
    },
    /// Not valid TOML or not the expected keys.
    #[error("config: {0}")]
    Parse(String),
    /// A value out of range.
    #[error("config: {0}")]
    Invalid(String),
}

/// Parses a duration as the config file writes it: `"250us"`, `"250ms"`, `"5s"`, `"2m"`, `"1h"`
/// or a bare number of seconds (for command-line flags of tools on the runtime, too).
pub fn parse_duration(t: &str) -> Result<Duration, String> {
    duration::parse(t)
}

/// Durations as `"250ms"`, `"5s"`, `"2m"`, `"1h"` or a number of seconds.
mod duration {
    use serde::{de, Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        let ms = d.as_millis();
        if d.as_micros() % 1000 != 0 {
            s.serialize_str(&format!("{}us", d.as_micros()))
        } else if ms % 1000 == 0 {
            s.serialize_str(&format!("{}s", ms / 1000))
        } else {
            s.serialize_str(&format!("{ms}ms"))
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Text(String),
        Int(u64),
        Float(f64),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        match Repr::deserialize(d)? {
            Repr::Int(n) => Ok(Duration::from_secs(n)),
            Repr::Float(f) if (0.0..1e12).contains(&f) => Ok(Duration::from_secs_f64(f)),
            Repr::Float(f) => Err(de::Error::custom(format!("invalid duration {f}"))),
            Repr::Text(t) => parse(&t).map_err(de::Error::custom),
        }
    }

    pub fn parse(t: &str) -> Result<Duration, String> {
        let t = t.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: f64 = num
            .parse()
            .map_err(|_| format!("invalid duration {t:?}: expected e.g. \"500ms\" or \"5s\""))?;
        let secs = match unit.trim() {
            "us" => n / 1e6,
            "ms" => n / 1000.0,
            "s" | "" => n,
            "m" => n * 60.0,
            "h" => n * 3600.0,
            u => {
                return Err(format!(
                    "invalid duration unit {u:?} in {t:?} (us, ms, s, m, h)"
                ))
            }
        };
        if !(0.0..1e12).contains(&secs) {
            return Err(format!("duration {t:?} out of range"));
        }
        Ok(Duration::from_secs_f64(secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_round_trip_and_partial_files() {
        let mut c = Config::new("/tmp/x.sock");
        c.health.reply_timeout = Duration::from_millis(250);
        c.events.overflow = OverflowPolicy::Disconnect;
        c.trace.capacity = 16;
        let text = c.to_toml();
        assert!(text.contains("reply_timeout = \"250ms\""), "{text}");
        assert!(text.contains("overflow = \"disconnect\""), "{text}");
        assert_eq!(Config::from_toml(&text).unwrap(), c);

        let p = Config::from_toml("client_name = \"agent\"\n[health]\nthreshold = 5\n").unwrap();
        assert_eq!(p.client_name, "agent");
        assert_eq!(p.health.threshold, 5);
        assert_eq!(p.health.interval, Duration::from_secs(1));
        assert_eq!(
            p.endpoint,
            Endpoint::Socket(PathBuf::from("/run/vpp/api.sock"))
        );
        let f = Config::from_toml("reply_timeout = 1.5").unwrap();
        assert_eq!(f.reply_timeout, Duration::from_millis(1500));
    }

    #[test]
    fn bad_files_name_the_key() {
        let e = Config::from_toml("reply_timout = \"5s\"").unwrap_err();
        assert!(e.to_string().contains("reply_timout"), "{e}");
        let e = Config::from_toml("reply_timeout = \"5 parsecs\"").unwrap_err();
        assert!(e.to_string().contains("parsecs"), "{e}");
        let e = Config::from_toml("[health]\nthreshold = 0").unwrap_err();
        assert!(e.to_string().contains("health.threshold"), "{e}");
        let e = Config::from_toml("[events]\noverflow = \"block\"").unwrap_err();
        assert!(e.to_string().contains("block"), "{e}");
    }

    #[test]
    fn endpoints_parse_with_govppmux_names() {
        let c = Config::from_toml("endpoint = \"shm:/run/vpp/api.sock\"").unwrap();
        assert_eq!(c.endpoint, Endpoint::Shm("/run/vpp/api.sock".into()));
        let c = Config::from_toml("socket_path = \"/tmp/a.sock\"").unwrap();
        assert_eq!(c.endpoint, Endpoint::Socket("/tmp/a.sock".into()));
        let c = Config::from_toml("endpoint = \"socket:/x\"\nconnect-via-shm = true").unwrap();
        assert_eq!(c.effective_endpoint(), Endpoint::Shm("/x".into()));
        let e = Config::from_toml("endpoint = \"tcp:1.2.3.4\"").unwrap_err();
        assert!(e.to_string().contains("unknown transport \"tcp\""), "{e}");
        let e = Config::from_toml("endpoint = \"shm:\"").unwrap_err();
        assert!(e.to_string().contains("no socket path"), "{e}");
        let e = Config::from_toml("[shm]\nsegment_size = 4").unwrap_err();
        assert!(e.to_string().contains("shm.segment_size"), "{e}");
        let c = Config::with_endpoint("shm:/y".parse().unwrap());
        assert_eq!(Config::from_toml(&c.to_toml()).unwrap(), c);
        assert!(c.to_toml().contains("endpoint = \"shm:/y\""));
    }

    #[test]
    fn backoff_grows_to_the_bound_with_jitter() {
        let r = ReconnectConfig::default();
        for f in 0..40 {
            let d = r.delay(f);
            assert!(d <= r.max_delay, "{d:?}");
        }
        let d0 = r.delay(0);
        assert!(d0 <= r.initial_delay && d0 >= r.initial_delay.mul_f64(0.79));
        assert!(r.delay(30) >= r.max_delay.mul_f64(0.79));
    }

    #[test]
    fn the_documented_example_parses() {
        let doc = include_str!("config.rs");
        let start = doc.find("//! ```toml\n").unwrap() + "//! ```toml\n".len();
        let end = start + doc[start..].find("//! ```\n").unwrap();
        let text: String = doc[start..end]
            .lines()
            .map(|l| {
                l.strip_prefix("//! ")
                    .or(l.strip_prefix("//!"))
                    .unwrap_or(l)
            })
            .collect::<Vec<_>>()
            .join("\n");
        let c = Config::from_toml(&text).unwrap();
        assert_eq!(c.client_name, "my-agent");
        assert_eq!(c.health.reply_timeout, Duration::from_millis(500));
        assert_eq!(c.events.overflow, OverflowPolicy::DropOldest);
    }
}
