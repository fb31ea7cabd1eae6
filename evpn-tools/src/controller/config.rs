//! The controller's configuration file (maglevd's `maglev:` YAML, operator-tools.md §4.1), read
//! in two stages like maglevd so that `--check` can tell the operator which kind of mistake it
//! is: **structure** (YAML syntax, unknown fields, wrong types; exit 1) and then **meaning**
//! (references, address families, ranges, the VPP 26.06 rules; exit 2). Every error names its
//! place (`maglev.frontends.web.pools[0].backends.be1`).
//!
//! ```yaml
//! maglev:
//!   vpp:
//!     lb:
//!       ipv4-src-address: 192.0.2.254        # both mandatory: lb_conf needs both
//!       ipv6-src-address: 2001:db8::fe
//!       sync-interval: 30s                   # periodic full sync
//!       sticky-buckets-per-core: 1024        # lb_conf
//!       flow-timeout: 40s                    # lb_conf
//!       startup-min-delay: 5s                # warmup (both 0: no warmup)
//!       startup-max-delay: 30s
//!       managed-prefixes: [2001:db8:100::/64] # where the full sync removes stale VIPs
//!       compat-lb-26-06: false               # IPv4 VIPs on VPP 26.06 (+96 on the wire)
//!   healthchecker:
//!     transition-history: 5
//!   healthchecks:
//!     web:
//!       type: http                           # http | tcp | icmp (see below)
//!       port: 80
//!       path: /healthz
//!       host: www.example.com                # Host header (default: the address)
//!       expected-code: 200
//!       interval: 2s                         # while up
//!       fast-interval: 1s                    # while unknown or degraded (default: interval)
//!       down-interval: 5s                    # while fully down (default: interval)
//!       timeout: 1s
//!       rise: 2
//!       fall: 3
//!   backends:
//!     be1: { address: 192.0.2.10, healthcheck: web, enabled: true, weight: 100 }
//!     be2: { address: 192.0.2.11 }           # no healthcheck: counts as up
//!   frontends:
//!     www:
//!       address: 2001:db8:100::1/128         # the VIP
//!       protocol: tcp
//!       port: 80
//!       encap: gre4                          # default: from the backends' family
//!       new-len: 1024
//!       src-ip-sticky: false                 # immutable: a change recreates the VIP
//!       flush-on-down: true
//!       pools:                               # in priority order
//!         - name: primary
//!           backends: { be1: { weight: 100 } }   # weight default: the backend's
//! ```
//!
//! `type: icmp` sends one ICMP echo request (ICMPv6 for IPv6 backends) per probe and passes on
//! the matching echo reply within `timeout`; it takes no `port`, `path`, `host` or
//! `expected-code`. It needs a raw socket (root or `CAP_NET_RAW`) or, failing that, the
//! kernel's unprivileged ping sockets (the process's group inside `net.ipv4.ping_group_range`).
//! The file is valid either way (`--check` opens no socket); when neither socket can be opened,
//! each ICMP probe fails with code `EPERM` and says so (see [`super::icmp`]).
//! `healthchecker.netns` is refused (entering a namespace needs `setns`, i.e. privileges).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::lb::config::{is_pow2, AsSpec, ConfSpec, LbFile, Seconds, VipSpec};
use crate::lb::model::{IpPrefix, Vip};

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub maglev: Maglev,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Maglev {
    pub vpp: Option<VppSpec>,
    #[serde(default)]
    pub healthchecker: HealthcheckerSpec,
    #[serde(default)]
    pub healthchecks: BTreeMap<String, CheckSpec>,
    #[serde(default)]
    pub backends: BTreeMap<String, BackendSpec>,
    #[serde(default)]
    pub frontends: BTreeMap<String, FrontendSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VppSpec {
    pub lb: Option<LbSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LbSpec {
    pub ipv4_src_address: Option<IpAddr>,
    pub ipv6_src_address: Option<IpAddr>,
    pub sync_interval: Option<Seconds>,
    pub sticky_buckets_per_core: Option<u32>,
    pub flow_timeout: Option<Seconds>,
    pub startup_min_delay: Option<Seconds>,
    pub startup_max_delay: Option<Seconds>,
    #[serde(default)]
    pub managed_prefixes: Vec<String>,
    #[serde(default, rename = "compat-lb-26-06")]
    pub compat_lb_26_06: bool,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HealthcheckerSpec {
    pub transition_history: Option<u32>,
    pub netns: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CheckSpec {
    #[serde(rename = "type")]
    pub kind: String,
    pub port: Option<u16>,
    pub path: Option<String>,
    pub host: Option<String>,
    pub expected_code: Option<u16>,
    pub interval: Option<Seconds>,
    pub fast_interval: Option<Seconds>,
    pub down_interval: Option<Seconds>,
    pub timeout: Option<Seconds>,
    pub rise: Option<u32>,
    pub fall: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BackendSpec {
    pub address: String,
    pub healthcheck: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    pub weight: Option<u32>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FrontendSpec {
    pub address: String,
    pub description: Option<String>,
    pub protocol: Option<String>,
    pub port: Option<u16>,
    pub encap: Option<String>,
    #[serde(alias = "new-flows-table-length")]
    pub new_len: Option<u32>,
    #[serde(default)]
    pub src_ip_sticky: bool,
    pub flush_on_down: Option<bool>,
    #[serde(default)]
    pub pools: Vec<PoolSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PoolSpec {
    pub name: String,
    #[serde(default)]
    pub backends: BTreeMap<String, Option<PoolBackendSpec>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PoolBackendSpec {
    pub weight: Option<u32>,
}

// ---------------------------------------------------------------------------------------------
// The validated configuration.

/// What `lb_conf` and the sync loops use.
#[derive(Debug, Clone, PartialEq)]
pub struct LbSettings {
    pub ip4_src: Ipv4Addr,
    pub ip6_src: Ipv6Addr,
    pub sync_interval: Duration,
    pub sticky_buckets_per_core: u32,
    pub flow_timeout: u32,
    pub startup_min_delay: Duration,
    pub startup_max_delay: Duration,
    pub managed_prefixes: Vec<IpPrefix>,
    pub compat_lb_26_06: bool,
}

/// How a backend is probed.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckKind {
    Http {
        path: String,
        host: Option<String>,
        expected_code: u16,
    },
    Tcp,
    /// One ICMP echo (ICMPv6 for IPv6 backends) per probe.
    Icmp,
}

impl CheckKind {
    pub fn name(&self) -> &'static str {
        match self {
            CheckKind::Http { .. } => "http",
            CheckKind::Tcp => "tcp",
            CheckKind::Icmp => "icmp",
        }
    }
}

/// A health check, defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub name: String,
    pub kind: CheckKind,
    /// 0 for `icmp`.
    pub port: u16,
    pub interval: Duration,
    pub fast_interval: Duration,
    pub down_interval: Duration,
    pub timeout: Duration,
    pub rise: u32,
    pub fall: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Backend {
    pub name: String,
    pub address: IpAddr,
    /// `None`: no health check, the backend counts as up.
    pub check: Option<Check>,
    pub enabled: bool,
    pub weight: u8,
}

impl Backend {
    /// What decides whether a running probe can keep running across a reload.
    pub fn probe_identity(&self) -> (IpAddr, Option<&Check>, bool) {
        (self.address, self.check.as_ref(), self.enabled)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub backend: String,
    pub weight: u8,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pool {
    pub name: String,
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Frontend {
    pub name: String,
    /// The VIP without ASes (they come from the pools and the backends' states).
    pub vip: Vip,
    pub flush_on_down: bool,
    pub pools: Vec<Pool>,
}

impl Frontend {
    /// Every backend of every pool, in pool order.
    pub fn backends(&self) -> impl Iterator<Item = &str> {
        self.pools
            .iter()
            .flat_map(|p| p.members.iter().map(|m| m.backend.as_str()))
    }
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub lb: LbSettings,
    pub transition_history: usize,
    pub backends: BTreeMap<String, Backend>,
    pub frontends: BTreeMap<String, Frontend>,
    /// Accepted but worth saying.
    pub warnings: Vec<String>,
}

/// Why a file was refused: maglevd's `--check` exit codes.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigError {
    /// Unreadable file, YAML syntax, unknown fields, wrong types: exit 1.
    Structure(String),
    /// The file reads but means something wrong: exit 2.
    Semantic(String),
}

impl ConfigError {
    pub fn exit_code(&self) -> i32 {
        match self {
            ConfigError::Structure(_) => 1,
            ConfigError::Semantic(_) => 2,
        }
    }
    pub fn message(&self) -> &str {
        match self {
            ConfigError::Structure(s) | ConfigError::Semantic(s) => s,
        }
    }
    pub fn kind(&self) -> &'static str {
        match self {
            ConfigError::Structure(_) => "structure",
            ConfigError::Semantic(_) => "semantic",
        }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} error: {}", self.kind(), self.message())
    }
}

pub const DEFAULT_SYNC_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_MIN_DELAY: Duration = Duration::from_secs(5);
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(30);
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(2);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);
/// HAProxy's defaults.
pub const DEFAULT_RISE: u32 = 2;
pub const DEFAULT_FALL: u32 = 3;

/// Stage 1: YAML and structure.
pub fn parse(text: &str) -> Result<File, ConfigError> {
    serde_yaml_ng::from_str(text).map_err(|e| ConfigError::Structure(e.to_string()))
}

/// Both stages on a file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::Structure(format!("cannot read {}: {e}", path.display())))?;
    let at = |e: ConfigError| match e {
        ConfigError::Structure(s) => ConfigError::Structure(format!("{}: {s}", path.display())),
        ConfigError::Semantic(s) => ConfigError::Semantic(format!("{}: {s}", path.display())),
    };
    parse(&text).map_err(at)?.validate().map_err(at)
}

/// Both stages on a string.
pub fn load_str(text: &str) -> Result<Config, ConfigError> {
    parse(text)?.validate()
}

fn secs(v: &Option<Seconds>, at: &str, default: Duration) -> Result<Duration, String> {
    match v {
        None => Ok(default),
        Some(Seconds::Number(n)) => Ok(Duration::from_secs(*n)),
        Some(Seconds::Text(t)) => {
            vppapi_runtime::config::parse_duration(t).map_err(|e| format!("{at}: {t:?}: {e}"))
        }
    }
}

fn positive(d: Duration, at: &str) -> Result<Duration, String> {
    if d.is_zero() {
        Err(format!("{at}: must be more than 0"))
    } else {
        Ok(d)
    }
}

fn weight(w: u32, at: &str) -> Result<u8, String> {
    if w > 100 {
        Err(format!("{at}: weight {w} is out of range (0-100)"))
    } else {
        Ok(w as u8)
    }
}

impl File {
    /// Stage 2: meaning. Fills in defaults.
    pub fn validate(&self) -> Result<Config, ConfigError> {
        self.validate_inner().map_err(ConfigError::Semantic)
    }

    fn validate_inner(&self) -> Result<Config, String> {
        let m = &self.maglev;
        let mut warnings = Vec::new();
        let lb = m
            .vpp
            .as_ref()
            .and_then(|v| v.lb.as_ref())
            .ok_or("maglev.vpp.lb: missing (ipv4-src-address and ipv6-src-address are mandatory: lb_conf needs both)")?;
        let at = "maglev.vpp.lb";
        let ip4_src = match lb.ipv4_src_address {
            None => {
                return Err(format!(
                    "{at}.ipv4-src-address: missing (lb_conf needs both source addresses)"
                ))
            }
            Some(IpAddr::V4(a)) => a,
            Some(a) => return Err(format!("{at}.ipv4-src-address: {a} is not an IPv4 address")),
        };
        let ip6_src = match lb.ipv6_src_address {
            None => {
                return Err(format!(
                    "{at}.ipv6-src-address: missing (lb_conf needs both source addresses)"
                ))
            }
            Some(IpAddr::V6(a)) => a,
            Some(a) => return Err(format!("{at}.ipv6-src-address: {a} is not an IPv6 address")),
        };
        let sync_interval = positive(
            secs(
                &lb.sync_interval,
                &format!("{at}.sync-interval"),
                DEFAULT_SYNC_INTERVAL,
            )?,
            &format!("{at}.sync-interval"),
        )?;
        let buckets = lb
            .sticky_buckets_per_core
            .unwrap_or(crate::lb::config::DEFAULT_BUCKETS);
        if !is_pow2(buckets) {
            return Err(format!(
                "{at}.sticky-buckets-per-core: {buckets} is not a power of two (VPP refuses it with -70)"
            ));
        }
        let timeout = secs(
            &lb.flow_timeout,
            &format!("{at}.flow-timeout"),
            Duration::from_secs(u64::from(crate::lb::config::DEFAULT_TIMEOUT)),
        )?;
        if timeout.as_secs() == 0 || timeout.as_secs() >= u64::from(u32::MAX) {
            return Err(format!(
                "{at}.flow-timeout: {} s is out of range (1 s or more)",
                timeout.as_secs()
            ));
        }
        let min = secs(
            &lb.startup_min_delay,
            &format!("{at}.startup-min-delay"),
            DEFAULT_MIN_DELAY,
        )?;
        let max = secs(
            &lb.startup_max_delay,
            &format!("{at}.startup-max-delay"),
            DEFAULT_MAX_DELAY,
        )?;
        if min > max {
            return Err(format!(
                "{at}: startup-min-delay ({min:?}) is longer than startup-max-delay ({max:?})"
            ));
        }
        let mut managed = Vec::new();
        for (i, p) in lb.managed_prefixes.iter().enumerate() {
            managed.push(
                p.parse::<IpPrefix>()
                    .map_err(|e| format!("{at}.managed-prefixes[{i}]: {e}"))?,
            );
        }
        let settings = LbSettings {
            ip4_src,
            ip6_src,
            sync_interval,
            sticky_buckets_per_core: buckets,
            flow_timeout: timeout.as_secs() as u32,
            startup_min_delay: min,
            startup_max_delay: max,
            managed_prefixes: managed,
            compat_lb_26_06: lb.compat_lb_26_06,
        };

        let hc = &m.healthchecker;
        let transition_history = match hc.transition_history {
            None => 5,
            Some(0) => {
                return Err("maglev.healthchecker.transition-history: must be 1 or more".into())
            }
            Some(n) => n as usize,
        };
        if let Some(ns) = &hc.netns {
            return Err(format!(
                "maglev.healthchecker.netns: {ns:?}: probing inside a network namespace is not \
                 supported (it needs setns, i.e. CAP_SYS_ADMIN); run the controller inside the \
                 namespace instead"
            ));
        }

        let mut checks = BTreeMap::new();
        for (name, c) in &m.healthchecks {
            checks.insert(
                name.clone(),
                c.validate(&format!("maglev.healthchecks.{name}"), name)?,
            );
        }

        let mut backends = BTreeMap::new();
        for (name, b) in &m.backends {
            let at = format!("maglev.backends.{name}");
            if name.is_empty() {
                return Err("maglev.backends: a backend has an empty name".into());
            }
            let address: IpAddr = b
                .address
                .trim()
                .parse()
                .map_err(|_| format!("{at}.address: {:?} is not an IP address", b.address))?;
            let check = match &b.healthcheck {
                None => None,
                Some(h) => Some(checks.get(h).cloned().ok_or_else(|| {
                    format!("{at}.healthcheck: no health check named {h:?} in maglev.healthchecks")
                })?),
            };
            let weight = weight(b.weight.unwrap_or(100), &format!("{at}.weight"))?;
            backends.insert(
                name.clone(),
                Backend {
                    name: name.clone(),
                    address,
                    check,
                    enabled: b.enabled,
                    weight,
                },
            );
        }
        let used: BTreeSet<&String> = m
            .healthchecks
            .keys()
            .filter(|h| {
                m.backends
                    .values()
                    .any(|b| b.healthcheck.as_ref() == Some(*h))
            })
            .collect();
        for h in m.healthchecks.keys().filter(|h| !used.contains(h)) {
            warnings.push(format!("maglev.healthchecks.{h}: no backend uses it"));
        }

        // Frontends: own checks first (with backend names), then lb.yaml's validation for
        // the VIP rules of VPP 26.06 (new-len, encap, per-prefix clashes).
        let mut frontends = BTreeMap::new();
        let mut vip_specs = Vec::new();
        let mut names = Vec::new();
        for (name, f) in &m.frontends {
            let at = format!("maglev.frontends.{name}");
            let (fe, spec) = f.validate(&at, name, &backends)?;
            frontends.insert(name.clone(), fe);
            vip_specs.push(spec);
            names.push(name.clone());
        }
        let file = LbFile {
            conf: Some(ConfSpec {
                ip4_src,
                ip6_src,
                buckets: Some(buckets),
                timeout: Some(Seconds::Number(u64::from(settings.flow_timeout))),
            }),
            managed_prefixes: lb.managed_prefixes.clone(),
            vips: vip_specs,
        };
        let rename = |e: String| -> String {
            let mut e = e;
            for (i, n) in names.iter().enumerate() {
                e = e
                    .replace(
                        &format!("vips[{i}].prefix"),
                        &format!("maglev.frontends.{n}.address"),
                    )
                    .replace(&format!("vips[{i}]"), &format!("maglev.frontends.{n}"));
            }
            e.replace("conf.buckets", "maglev.vpp.lb.sticky-buckets-per-core")
                .replace("conf.timeout", "maglev.vpp.lb.flow-timeout")
                .replace("managed-prefixes", "maglev.vpp.lb.managed-prefixes")
        };
        let desired = file.validate().map_err(rename)?;
        for w in desired.warnings {
            warnings.push(rename(w));
        }
        for (name, v) in names.iter().zip(desired.vips) {
            if let Some(fe) = frontends.get_mut(name) {
                fe.vip = Vip {
                    ases: Vec::new(),
                    ..v
                };
            }
            if frontends.get(name).is_some_and(|f| f.vip.prefix.is_ipv4()) && !lb.compat_lb_26_06 {
                warnings.push(format!(
                    "maglev.frontends.{name}: an IPv4 VIP needs maglev.vpp.lb.compat-lb-26-06: true \
                     on VPP 26.06 (its lb API stores IPv4 prefixes +96); without it the sync \
                     refuses it there"
                ));
            }
        }
        Ok(Config {
            lb: settings,
            transition_history,
            backends,
            frontends,
            warnings,
        })
    }
}

impl CheckSpec {
    fn validate(&self, at: &str, name: &str) -> Result<Check, String> {
        let kind = match self.kind.as_str() {
            "http" => {
                let path = self.path.clone().unwrap_or_else(|| "/".into());
                if !path.starts_with('/')
                    || path.chars().any(|c| c.is_whitespace() || c.is_control())
                {
                    return Err(format!(
                        "{at}.path: {path:?} must start with / and contain no spaces"
                    ));
                }
                if let Some(h) = &self.host {
                    if h.is_empty() || h.chars().any(|c| c.is_whitespace() || c.is_control()) {
                        return Err(format!("{at}.host: {h:?} is not a valid Host header"));
                    }
                }
                let expected_code = self.expected_code.unwrap_or(200);
                if !(100..=599).contains(&expected_code) {
                    return Err(format!(
                        "{at}.expected-code: {expected_code} is not an HTTP status (100-599)"
                    ));
                }
                CheckKind::Http {
                    path,
                    host: self.host.clone(),
                    expected_code,
                }
            }
            kind @ ("tcp" | "icmp") => {
                for (f, set) in [
                    ("path", self.path.is_some()),
                    ("host", self.host.is_some()),
                    ("expected-code", self.expected_code.is_some()),
                ] {
                    if set {
                        return Err(format!("{at}.{f}: only for type http"));
                    }
                }
                if kind == "tcp" {
                    CheckKind::Tcp
                } else {
                    CheckKind::Icmp
                }
            }
            other => {
                return Err(format!(
                    "{at}.type: unknown health check type {other:?} (http, tcp, icmp)"
                ))
            }
        };
        let port = match (self.port, &kind) {
            (Some(_), CheckKind::Icmp) => return Err(format!("{at}.port: type icmp has no port")),
            (None, CheckKind::Icmp) => 0,
            (Some(0), _) => return Err(format!("{at}.port: 0 is not a port")),
            (Some(p), _) => p,
            (None, CheckKind::Http { .. }) => 80,
            (None, CheckKind::Tcp) => {
                return Err(format!("{at}.port: missing (type tcp needs a port)"))
            }
        };
        let interval = positive(
            secs(&self.interval, &format!("{at}.interval"), DEFAULT_INTERVAL)?,
            &format!("{at}.interval"),
        )?;
        let fast_interval = positive(
            secs(
                &self.fast_interval,
                &format!("{at}.fast-interval"),
                interval,
            )?,
            &format!("{at}.fast-interval"),
        )?;
        let down_interval = positive(
            secs(
                &self.down_interval,
                &format!("{at}.down-interval"),
                interval,
            )?,
            &format!("{at}.down-interval"),
        )?;
        let timeout = positive(
            secs(&self.timeout, &format!("{at}.timeout"), DEFAULT_TIMEOUT)?,
            &format!("{at}.timeout"),
        )?;
        let rise = self.rise.unwrap_or(DEFAULT_RISE);
        let fall = self.fall.unwrap_or(DEFAULT_FALL);
        if rise == 0 || rise > 1000 {
            return Err(format!("{at}.rise: {rise} is out of range (1-1000)"));
        }
        if fall == 0 || fall > 1000 {
            return Err(format!("{at}.fall: {fall} is out of range (1-1000)"));
        }
        Ok(Check {
            name: name.to_string(),
            kind,
            port,
            interval,
            fast_interval,
            down_interval,
            timeout,
            rise,
            fall,
        })
    }
}

impl FrontendSpec {
    fn validate(
        &self,
        at: &str,
        name: &str,
        backends: &BTreeMap<String, Backend>,
    ) -> Result<(Frontend, VipSpec), String> {
        if self.pools.is_empty() {
            return Err(format!("{at}.pools: a frontend needs at least one pool"));
        }
        let mut pools = Vec::new();
        let mut pool_names = BTreeSet::new();
        let mut seen: BTreeMap<&str, String> = BTreeMap::new();
        let mut by_address: BTreeMap<IpAddr, &str> = BTreeMap::new();
        let mut family: Option<(bool, String)> = None;
        for (i, p) in self.pools.iter().enumerate() {
            let pat = format!("{at}.pools[{i}]");
            if p.name.trim().is_empty() {
                return Err(format!("{pat}.name: a pool needs a name"));
            }
            if !pool_names.insert(p.name.as_str()) {
                return Err(format!("{pat}.name: pool {:?} is listed twice", p.name));
            }
            if p.backends.is_empty() {
                return Err(format!("{pat}.backends: pool {:?} is empty", p.name));
            }
            let mut members = Vec::new();
            for (b, spec) in &p.backends {
                let bat = format!("{pat}.backends.{b}");
                let be = backends
                    .get(b)
                    .ok_or_else(|| format!("{bat}: no backend named {b:?} in maglev.backends"))?;
                if let Some(prev) = seen.insert(b.as_str(), pat.clone()) {
                    return Err(format!(
                        "{bat}: backend {b:?} is already in {prev} (one AS per backend and VIP)"
                    ));
                }
                if let Some(other) = by_address.insert(be.address, b.as_str()) {
                    return Err(format!(
                        "{bat}: backend {b:?} has the address {} of backend {other:?} in the same \
                         frontend (one AS per address and VIP)",
                        be.address
                    ));
                }
                let v4 = be.address.is_ipv4();
                match &family {
                    None => family = Some((v4, b.clone())),
                    Some((f, first)) if *f != v4 => {
                        return Err(format!(
                            "{bat}: backend {b:?} is {}, but backend {first:?} of this frontend is \
                             {} (one address family per frontend)",
                            if v4 { "IPv4" } else { "IPv6" },
                            if *f { "IPv4" } else { "IPv6" },
                        ))
                    }
                    _ => {}
                }
                let w = match spec.as_ref().and_then(|s| s.weight) {
                    Some(w) => weight(w, &format!("{bat}.weight"))?,
                    None => be.weight,
                };
                members.push(Member {
                    backend: b.clone(),
                    weight: w,
                });
            }
            pools.push(Pool {
                name: p.name.clone(),
                members,
            });
        }
        let backends_v4 = family.as_ref().is_some_and(|(f, _)| *f);
        let encap = match &self.encap {
            Some(e) => e.clone(),
            None if backends_v4 => "gre4".into(),
            None => "gre6".into(),
        };
        let wants_v4 = encap.eq_ignore_ascii_case("gre4");
        let carries = encap.eq_ignore_ascii_case("gre4") || encap.eq_ignore_ascii_case("gre6");
        if carries && wants_v4 != backends_v4 {
            return Err(format!(
                "{at}.encap: {encap} carries {} to the backends, but they are {} (VPP refuses it \
                 with -97)",
                if wants_v4 { "IPv4" } else { "IPv6" },
                if backends_v4 { "IPv4" } else { "IPv6" },
            ));
        }
        let ases = pools
            .iter()
            .flat_map(|p| p.members.iter())
            .filter_map(|m| backends.get(&m.backend))
            .map(|b| AsSpec::Address(b.address.to_string()))
            .collect();
        let spec = VipSpec {
            prefix: self.address.clone(),
            protocol: self.protocol.clone(),
            port: self.port,
            encap: Some(encap),
            new_len: self.new_len,
            sticky: self.src_ip_sticky,
            flush: Some(true),
            ases,
        };
        // A placeholder VIP; the caller puts in the one lb.yaml's validation built.
        let prefix: IpPrefix = self
            .address
            .parse()
            .map_err(|e| format!("{at}.address: {e}"))?;
        let fe = Frontend {
            name: name.to_string(),
            vip: Vip {
                prefix,
                protocol: crate::lb::model::Proto::Any,
                port: 0,
                encap: crate::lb::model::Encap::Gre6,
                new_flows_table_length: 1024,
                src_ip_sticky: self.src_ip_sticky,
                flush: true,
                ases: Vec::new(),
            },
            flush_on_down: self.flush_on_down.unwrap_or(true),
            pools,
        };
        Ok((fe, spec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const GOOD: &str = "
maglev:
  vpp:
    lb:
      ipv4-src-address: 192.0.2.254
      ipv6-src-address: 2001:db8::fe
      sync-interval: 10s
      startup-min-delay: 0
      startup-max-delay: 0
      managed-prefixes: [2001:db8:100::/64]
  healthchecks:
    web: { type: http, port: 8080, path: /healthz, interval: 200ms, rise: 2, fall: 2 }
    ssh: { type: tcp, port: 22 }
  backends:
    be1: { address: 192.0.2.10, healthcheck: web }
    be2: { address: 192.0.2.11, healthcheck: web, weight: 50 }
    be3: { address: 192.0.2.12, healthcheck: ssh, enabled: false }
  frontends:
    www:
      address: 2001:db8:100::1/128
      protocol: tcp
      port: 80
      pools:
        - name: primary
          backends: { be1: {}, be2: { weight: 70 } }
        - name: fallback
          backends: { be3: ~ }
";

    #[test]
    fn a_good_file_reads_with_defaults() {
        let c = load_str(GOOD).unwrap();
        assert_eq!(c.lb.sync_interval, Duration::from_secs(10));
        assert_eq!(c.lb.sticky_buckets_per_core, 1024);
        assert_eq!(c.lb.flow_timeout, 40);
        assert_eq!(c.transition_history, 5);
        let be1 = &c.backends["be1"];
        let chk = be1.check.as_ref().unwrap();
        assert_eq!(chk.port, 8080);
        assert_eq!(chk.fast_interval, Duration::from_millis(200));
        assert_eq!(chk.timeout, DEFAULT_TIMEOUT);
        assert!(!c.backends["be3"].enabled);
        let f = &c.frontends["www"];
        // gre4 from the backends' family; the VIP is what lb.yaml's rules built.
        assert_eq!(f.vip.encap, crate::lb::model::Encap::Gre4);
        assert_eq!(f.vip.port, 80);
        assert_eq!(f.vip.new_flows_table_length, 1024);
        assert!(f.flush_on_down);
        assert_eq!(
            f.pools[0].members[0],
            Member {
                backend: "be1".into(),
                weight: 100
            }
        );
        assert_eq!(
            f.pools[0].members[1],
            Member {
                backend: "be2".into(),
                weight: 70
            }
        );
        assert_eq!(f.pools[1].members[0].weight, 100);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    fn with(find: &str, replace: &str) -> String {
        assert!(GOOD.contains(find), "{find}");
        GOOD.replacen(find, replace, 1)
    }

    #[test]
    fn structure_errors_are_exit_1() {
        let cases = [
            (
                with("sync-interval: 10s", "sync-intervall: 10s"),
                "sync-intervall",
            ),
            (with("port: 8080", "port: eighty"), "port"),
            (with("port: 8080", "port: 70000"), "port"),
            (with("enabled: false", "enabled: maybe"), "enabled"),
            ("maglev: [".to_string(), ""),
            ("other: {}".to_string(), "other"),
            (with("weight: 50", "weight: -1"), "weight"),
        ];
        for (y, want) in cases {
            let e = load_str(&y).expect_err(&y);
            assert_eq!(e.exit_code(), 1, "{e}");
            assert!(e.message().contains(want), "{want}: {e}");
        }
    }

    #[test]
    fn icmp_checks_validate_without_a_socket() {
        // Valid whatever the process may open: the file is checked, no socket is.
        let y = with(
            "ssh: { type: tcp, port: 22 }",
            "ssh: { type: icmp, timeout: 200ms, interval: 1s, rise: 3, fall: 1 }",
        );
        let c = load_str(&y).unwrap();
        let chk = c.backends["be3"].check.as_ref().unwrap();
        assert_eq!(chk.kind, CheckKind::Icmp);
        assert_eq!(chk.kind.name(), "icmp");
        assert_eq!(chk.port, 0);
        assert_eq!(chk.timeout, Duration::from_millis(200));
        assert_eq!(chk.interval, Duration::from_secs(1));
        assert_eq!((chk.rise, chk.fall), (3, 1));
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn semantic_errors_are_exit_2_and_name_the_place() {
        let cases = [
            (
                with("      ipv4-src-address: 192.0.2.254\n", ""),
                "maglev.vpp.lb.ipv4-src-address: missing",
            ),
            (
                with(
                    "ipv4-src-address: 192.0.2.254",
                    "ipv4-src-address: 2001:db8::1",
                ),
                "not an IPv4",
            ),
            (
                with(
                    "ipv6-src-address: 2001:db8::fe",
                    "ipv6-src-address: 192.0.2.1",
                ),
                "not an IPv6",
            ),
            (
                with("healthcheck: ssh", "healthcheck: nope"),
                "maglev.backends.be3.healthcheck: no health check named \"nope\"",
            ),
            (
                with("be2: { weight: 70 }", "be9: { weight: 70 }"),
                "maglev.frontends.www.pools[0].backends.be9: no backend",
            ),
            (
                with("be2: { weight: 70 }", "be2: { weight: 101 }"),
                "pools[0].backends.be2.weight: weight 101",
            ),
            (
                with("weight: 50", "weight: 150"),
                "maglev.backends.be2.weight",
            ),
            (
                with("backends: { be3: ~ }", "backends: {}"),
                "pools[1].backends: pool \"fallback\" is empty",
            ),
            (
                with("address: 192.0.2.12", "address: 2001:db8:1::12"),
                "one address family per frontend",
            ),
            (
                with("port: 80\n", "port: 80\n      encap: gre6\n"),
                "encap: gre6 carries IPv6",
            ),
            (
                with("port: 80\n", "port: 80\n      new-len: 1000\n"),
                "maglev.frontends.www.new-len: 1000",
            ),
            (
                with("port: 80\n", "port: 80\n      new-len: 0\n"),
                "maglev.frontends.www.new-len: 0",
            ),
            (
                with("type: tcp, port: 22", "type: icmp, port: 22"),
                "maglev.healthchecks.ssh.port: type icmp has no port",
            ),
            (
                with("type: tcp, port: 22", "type: icmp, path: /"),
                "maglev.healthchecks.ssh.path: only for type http",
            ),
            (with("type: tcp", "type: smtp"), "unknown health check type"),
            (
                with("type: tcp, port: 22", "type: tcp"),
                "type tcp needs a port",
            ),
            (with("rise: 2", "rise: 0"), "rise: 0"),
            (
                with("startup-min-delay: 0", "startup-min-delay: 1m"),
                "longer than startup-max-delay",
            ),
            (
                with("sync-interval: 10s", "sync-interval: 0"),
                "sync-interval: must be more",
            ),
            (
                with("sync-interval: 10s", "sync-interval: soon"),
                "sync-interval: \"soon\"",
            ),
            (
                with("sync-interval: 10s", "sticky-buckets-per-core: 1000"),
                "sticky-buckets-per-core: 1000",
            ),
            (
                with(
                    "address: 2001:db8:100::1/128",
                    "address: 2001:db8:100::1/64",
                ),
                "host bits",
            ),
            (with("      protocol: tcp\n", ""), "needs a protocol"),
            (with("- name: fallback", "- name: primary"), "listed twice"),
            (
                with("backends: { be3: ~ }", "backends: { be1: ~ }"),
                "already in",
            ),
            (
                with("address: 192.0.2.11", "address: 192.0.2.10"),
                "has the address 192.0.2.10",
            ),
            (
                with("[2001:db8:100::/64]", "[2001:db8:100::1/64]"),
                "maglev.vpp.lb.managed-prefixes[0]",
            ),
        ];
        for (y, want) in cases {
            let e = load_str(&y).expect_err(&y);
            assert_eq!(e.exit_code(), 2, "{want}: {e}");
            assert!(e.message().contains(want), "{want}: {e}");
        }
    }

    #[test]
    fn a_frontend_needs_pools_and_vips_must_not_clash() {
        let y = format!(
            "{GOOD}    www2:\n      address: 2001:db8:100::1/128\n      protocol: tcp\n      port: 80\n      \
             pools: [{{ name: p, backends: {{ be1: ~ }} }}]\n"
        );
        let e = load_str(&y).unwrap_err();
        assert!(
            e.message()
                .contains("maglev.frontends.www2: 2001:db8:100::1/128 tcp/80 is listed twice"),
            "{e}"
        );
        let y = format!("{GOOD}    empty:\n      address: 2001:db8:100::2/128\n");
        let e = load_str(&y).unwrap_err();
        assert!(
            e.message()
                .contains("maglev.frontends.empty.pools: a frontend needs at least one pool"),
            "{e}"
        );
    }
}
