//! The controller's main loop: the one place that owns the configuration, the backends' states,
//! the warmup clock and the VPP session, and that turns probe reports, timers and signals into
//! syncs. Everything it decides comes from the pure modules ([`super::health`],
//! [`super::pools`], [`super::warmup`]); what is left here is ordering and I/O.
//!
//! Timers: connect (every `--reconnect-interval` while there is no session), `control_ping`
//! (`--ping-interval`), the stats scrape (`--stats-interval`), the full sync (`sync-interval`,
//! once warmup is over; it re-reads the file first and reloads it when it changed) and the
//! warmup deadlines. Signals: SIGHUP reloads, SIGTERM/SIGINT stop.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use serde_json::json;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

use super::config::{self, Backend, Config};
use super::events::{hostname, Events, Level};
use super::health::{History, State};
use super::metrics::{self, Labels, Metrics};
use super::pools::{self, FrontendPlan, FrontendState};
use super::session::{self, Endpoints, Session};
use super::warmup::{Gate, Phase, Warmup};
use super::{ControllerArgs, Msg};
use crate::commands::{Failure, Global};
use crate::lb::model::key;
use crate::lb::stats::KINDS;
use crate::lb::sync::{sync, SyncOptions};
use crate::output::{exit, Step};

/// A backend as the loop keeps it.
struct BackendRt {
    cfg: Backend,
    state: State,
    history: History,
    task: Option<JoinHandle<()>>,
    generation: u64,
}

impl Drop for BackendRt {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// What woke the loop.
enum Wake {
    Msg(Option<Msg>),
    Hup,
    Stop(&'static str),
    Connected(Result<Box<Session>, String>),
    SessionState(bool),
    Timer,
}

pub struct Daemon {
    args: ControllerArgs,
    endpoints: Endpoints,
    cfg: Config,
    events: Events,
    metrics: Arc<Metrics>,
    backends: BTreeMap<String, BackendRt>,
    plans: BTreeMap<String, FrontendPlan>,
    warmup: Warmup,
    session: Option<Box<Session>>,
    connecting: Option<JoinHandle<Result<Box<Session>, String>>>,
    next_connect: Instant,
    next_ping: Instant,
    next_stats: Instant,
    next_full_sync: Option<Instant>,
    tx: UnboundedSender<Msg>,
    rx: UnboundedReceiver<Msg>,
    generation: u64,
    said_no_weights: bool,
    /// The configuration file's bytes when last read (loaded or refused): the periodic sync
    /// re-reads the file and reloads only when they changed.
    cfg_seen: Option<Vec<u8>>,
    last_connect_error: Option<String>,
    server: Option<JoinHandle<()>>,
    signals: Option<(Signal, Signal, Signal)>,
}

impl Daemon {
    /// Sets everything up (metrics listener, probe tasks); nothing is sent to VPP yet.
    pub async fn start(g: &Global, args: ControllerArgs, cfg: Config) -> Result<Daemon, Failure> {
        // First, so that an early SIGHUP or SIGTERM is handled rather than fatal.
        let signals = match (
            signal(SignalKind::hangup()),
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(a), Ok(b), Ok(c)) => (a, b, c),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                return Err(Failure::Error(format!(
                    "cannot install signal handlers: {e}"
                )))
            }
        };
        let now = Instant::now();
        let events = Events::new(
            args.instance.clone().unwrap_or_else(hostname),
            args.log_level,
        );
        let metrics = Arc::new(Metrics::new());
        let (tx, rx) = unbounded_channel();
        let warmup = Warmup::new(now, cfg.lb.startup_min_delay, cfg.lb.startup_max_delay);
        let endpoints = Endpoints {
            socket: g.socket.clone(),
            stats_socket: args.stats_socket.clone(),
            timeout: g.timeout,
            trace: g.trace,
        };
        let cfg_seen = std::fs::read(&args.config).ok();
        let mut d = Daemon {
            args,
            endpoints,
            cfg,
            events,
            metrics,
            backends: BTreeMap::new(),
            plans: BTreeMap::new(),
            warmup,
            session: None,
            connecting: None,
            next_connect: now,
            next_ping: now,
            next_stats: now,
            next_full_sync: None,
            tx,
            rx,
            generation: 0,
            said_no_weights: false,
            cfg_seen,
            last_connect_error: None,
            server: None,
            signals: Some(signals),
        };
        d.events.emit(
            "log",
            Level::Info,
            "lb controller starting",
            [
                ("config", d.args.config.display().to_string()),
                ("version", env!("CARGO_PKG_VERSION").to_string()),
                ("socket", d.endpoints.socket.display().to_string()),
                (
                    "stats_socket",
                    d.endpoints.stats_socket.display().to_string(),
                ),
                ("backends", d.cfg.backends.len().to_string()),
                ("frontends", d.cfg.frontends.len().to_string()),
            ],
        );
        for w in d.cfg.warnings.clone() {
            d.events.log(Level::Warn, w);
        }
        if let Some(addr) = d.args.metrics_listen.clone() {
            let sa: SocketAddr = addr.parse().map_err(|_| {
                Failure::BadInput(format!("--metrics-listen {addr:?}: not HOST:PORT"))
            })?;
            let l = tokio::net::TcpListener::bind(sa)
                .await
                .map_err(|e| Failure::Error(format!("--metrics-listen {sa}: {e}")))?;
            let bound = l
                .local_addr()
                .map_err(|e| Failure::Error(format!("--metrics-listen {sa}: {e}")))?;
            d.server = Some(tokio::spawn(metrics::serve(l, d.metrics.clone())));
            d.events.emit(
                "metrics-listening",
                Level::Info,
                format!("metrics on http://{bound}/metrics"),
                [("address", bound.to_string())],
            );
        }
        if d.warmup.disabled() {
            d.events
                .log(Level::Info, "warmup disabled (both startup delays are 0)");
        } else {
            d.events.emit(
                "log",
                Level::Info,
                "warmup: no VIP changes before startup-min-delay; frontends released once their \
                 backends are known; final full sync at startup-max-delay",
                [
                    (
                        "startup_min_delay",
                        format!("{:?}", d.cfg.lb.startup_min_delay),
                    ),
                    (
                        "startup_max_delay",
                        format!("{:?}", d.cfg.lb.startup_max_delay),
                    ),
                ],
            );
        }
        let names: Vec<String> = d.cfg.backends.keys().cloned().collect();
        for n in names {
            d.start_backend(&n, "config");
        }
        d.replan();
        Ok(d)
    }

    /// Runs until SIGTERM or SIGINT; returns the exit code.
    pub async fn run(mut self) -> i32 {
        let Some((mut hup, mut term, mut int)) = self.signals.take() else {
            return exit::ERROR;
        };
        loop {
            self.warmup_step().await;
            let deadline = self.next_deadline();
            let wake = tokio::select! {
                m = self.rx.recv() => Wake::Msg(m),
                _ = hup.recv() => Wake::Hup,
                _ = term.recv() => Wake::Stop("SIGTERM"),
                _ = int.recv() => Wake::Stop("SIGINT"),
                r = async {
                    match self.connecting.as_mut() {
                        Some(h) => h.await.unwrap_or_else(|e| Err(format!("connect task: {e}"))),
                        None => std::future::pending().await,
                    }
                } => Wake::Connected(r),
                r = async {
                    match self.session.as_mut() {
                        Some(s) => s.state.changed().await.is_ok(),
                        None => std::future::pending().await,
                    }
                } => Wake::SessionState(r),
                _ = tokio::time::sleep_until(deadline.into()) => Wake::Timer,
            };
            match wake {
                Wake::Msg(Some(Msg::Probe(r))) => self.on_probe(r).await,
                Wake::Msg(None) => {}
                Wake::Hup => self.reload("SIGHUP").await,
                Wake::Stop(sig) => {
                    self.events.log(Level::Info, format!("{sig}: stopping"));
                    break;
                }
                Wake::Connected(r) => {
                    self.connecting = None;
                    self.on_connect(r).await;
                }
                Wake::SessionState(alive) => {
                    if !alive || self.session.as_ref().is_some_and(|s| !s.connected()) {
                        self.teardown("the API connection was lost".into()).await;
                    }
                }
                Wake::Timer => self.on_timer().await,
            }
            self.publish_status();
        }
        self.backends.clear();
        if let Some(h) = self.connecting.take() {
            h.abort();
        }
        if let Some(s) = self.session.take() {
            session::close(&s.vpp).await;
        }
        if let Some(h) = self.server.take() {
            h.abort();
        }
        exit::CONVERGED
    }

    fn next_deadline(&self) -> Instant {
        let now = Instant::now();
        let mut d = now + std::time::Duration::from_secs(3600);
        if self.session.is_some() {
            d = d.min(self.next_ping).min(self.next_stats);
        } else if self.connecting.is_none() {
            d = d.min(self.next_connect);
        }
        if let Some(t) = self.next_full_sync {
            d = d.min(t);
        }
        if let Some(t) = self.warmup.next_deadline(now) {
            d = d.min(t);
        }
        d
    }

    // -----------------------------------------------------------------------------------------
    // Backends

    fn start_backend(&mut self, name: &str, reason: &str) {
        let Some(cfg) = self.cfg.backends.get(name).cloned() else {
            return;
        };
        self.generation += 1;
        let generation = self.generation;
        let mut rt = BackendRt {
            cfg: cfg.clone(),
            state: State::Unknown,
            history: History::new(self.cfg.transition_history),
            task: None,
            generation,
        };
        if let Some(old) = self.backends.remove(name) {
            rt.state = old.state;
            rt.history = old.history.clone();
            rt.history.set_cap(self.cfg.transition_history);
        }
        let from = rt.state;
        self.backends.insert(name.to_string(), rt);
        let to = match (&cfg.check, cfg.enabled) {
            (_, false) => State::Disabled,
            (None, true) => State::Up,
            (Some(check), true) => {
                let t = tokio::spawn(super::probe::run(
                    cfg.clone(),
                    check.clone(),
                    generation,
                    self.metrics.clone(),
                    self.tx.clone(),
                ));
                if let Some(rt) = self.backends.get_mut(name) {
                    rt.task = Some(t);
                }
                State::Unknown
            }
        };
        let why = match (&cfg.check, cfg.enabled) {
            (_, false) => format!("{reason}: disabled"),
            (None, true) => format!("{reason}: no healthcheck"),
            (Some(c), true) => format!("{reason}: probing ({} {})", c.kind.name(), c.name),
        };
        self.metrics.backend_state(name, from, cfg.enabled);
        if from != to {
            self.transition(name, from, to, &why);
        } else {
            self.events.emit(
                "log",
                Level::Debug,
                format!("backend {name}: {why}"),
                [("backend", name)],
            );
        }
    }

    /// Records a backend's transition: state, history, metrics, event.
    fn transition(&mut self, name: &str, from: State, to: State, reason: &str) {
        let Some(rt) = self.backends.get_mut(name) else {
            return;
        };
        rt.state = to;
        rt.history.push(from, to, reason, SystemTime::now());
        let enabled = rt.cfg.enabled;
        let address = rt.cfg.address.to_string();
        self.metrics.backend_state(name, to, enabled);
        self.metrics.transition(name, from, to);
        self.events.emit(
            "backend-transition",
            if to == State::Down {
                Level::Warn
            } else {
                Level::Info
            },
            format!("backend {name} {from} -> {to}"),
            [
                ("backend", name.to_string()),
                ("address", address),
                ("from", from.to_string()),
                ("to", to.to_string()),
                ("reason", reason.to_string()),
            ],
        );
    }

    async fn on_probe(&mut self, r: super::probe::ProbeReport) {
        let Some(rt) = self.backends.get(&r.backend) else {
            return;
        };
        if rt.generation != r.generation {
            return;
        }
        if self.events.enabled(Level::Debug) {
            self.events.emit(
                "probe",
                Level::Debug,
                format!(
                    "probe {} {}: {}",
                    r.backend,
                    if r.outcome.pass { "passed" } else { "failed" },
                    r.outcome.code
                ),
                [
                    ("backend", r.backend.clone()),
                    ("code", r.outcome.code.clone()),
                    ("detail", r.outcome.detail.clone()),
                    (
                        "ms",
                        format!("{:.1}", r.outcome.duration.as_secs_f64() * 1e3),
                    ),
                ],
            );
        }
        let Some((from, to)) = r.transition else {
            return;
        };
        let reason = if r.outcome.detail.is_empty() {
            r.outcome.code.clone()
        } else {
            format!("{}: {}", r.outcome.code, r.outcome.detail)
        };
        self.transition(&r.backend, from, to, &reason);
        self.replan();
        // Every frontend of this backend (its plan may not have changed: the sync then plans
        // nothing and sends nothing).
        let fes: Vec<String> = self
            .cfg
            .frontends
            .values()
            .filter(|f| f.backends().any(|b| b == r.backend))
            .map(|f| f.name.clone())
            .collect();
        self.frontend_sync(&fes).await;
    }

    /// Re-plans every frontend from the backends' states; publishes weights and frontend state
    /// changes.
    fn replan(&mut self) {
        let states: BTreeMap<String, State> = self
            .backends
            .iter()
            .map(|(n, b)| (n.clone(), b.state))
            .collect();
        let plans = pools::plan_all(&self.cfg, &states);
        for (n, p) in &plans {
            let old_state = self.plans.get(n).map(|o| o.state);
            if old_state != Some(p.state) {
                let from = old_state.map_or("none", FrontendState::as_str);
                self.events.emit(
                    "frontend-state",
                    if p.state == FrontendState::Down {
                        Level::Warn
                    } else {
                        Level::Info
                    },
                    format!("frontend {n} {from} -> {}", p.state.as_str()),
                    [
                        ("frontend", n.clone()),
                        ("from", from.to_string()),
                        ("to", p.state.as_str().to_string()),
                        (
                            "active_pool",
                            p.active_pool
                                .and_then(|i| {
                                    self.cfg.frontends.get(n).and_then(|f| f.pools.get(i))
                                })
                                .map(|p| p.name.clone())
                                .unwrap_or_default(),
                        ),
                    ],
                );
            }
        }
        self.metrics.frontends(plans.values());
        self.plans = plans;
    }

    // -----------------------------------------------------------------------------------------
    // Syncs

    /// The event-driven sync of `names` (one sync for all that warmup lets through; each
    /// frontend's VIP in scope, so no VIP is ever removed here).
    async fn frontend_sync(&mut self, names: &[String]) {
        let now = Instant::now();
        let mut plans = Vec::new();
        for name in names {
            let Some(plan) = self.plans.get(name).cloned() else {
                continue;
            };
            match self.warmup.gate(name, plan.all_known(), now) {
                Gate::Suppressed => {
                    self.events.emit(
                        "log",
                        Level::Debug,
                        format!("sync of frontend {name} suppressed (warmup)"),
                        [("frontend", name)],
                    );
                    continue;
                }
                Gate::Released => self.released(name),
                Gate::Open => {}
            }
            plans.push(plan);
        }
        if !plans.is_empty() {
            self.sync_plans("frontend", &plans, false).await;
        }
    }

    fn released(&self, name: &str) {
        self.events.emit(
            "warmup-released",
            Level::Info,
            format!("warmup: frontend {name} released (all its backends are known)"),
            [("frontend", name)],
        );
    }

    /// The full sync: every frontend, stale VIPs in managed prefixes removed.
    async fn full_sync(&mut self, why: &str) {
        let plans: Vec<FrontendPlan> = self.plans.values().cloned().collect();
        if self.session.is_some() {
            self.events.emit(
                "log",
                Level::Debug,
                format!("full sync ({why})"),
                [("reason", why)],
            );
        }
        self.sync_plans("full", &plans, true).await;
        self.next_full_sync = Some(Instant::now() + self.cfg.lb.sync_interval);
    }

    /// Syncs `plans` (with `lb_conf`); `full` also prunes. Without a session it only notes it.
    async fn sync_plans(&mut self, scope: &str, plans: &[FrontendPlan], full: bool) {
        let weights = self.session.as_ref().is_some_and(|s| s.caps.lb_1_2);
        let desired = pools::desired(&self.cfg, plans, full, weights);
        let opts = SyncOptions {
            prune: full,
            compat_lb_26_06: self.cfg.lb.compat_lb_26_06,
            rollback: false,
        };
        let frontends: Vec<&str> = plans.iter().map(|p| p.name.as_str()).collect();
        let Some(s) = self.session.as_mut() else {
            self.events.emit(
                "log",
                Level::Debug,
                format!("{scope} sync skipped: not connected to VPP (done after connecting)"),
                [("scope", scope)],
            );
            return;
        };
        let t = Instant::now();
        let r = sync(&mut s.vpp, &desired, &opts).await;
        s.vpp.sent.clear();
        let ms = format!("{:.1}", t.elapsed().as_secs_f64() * 1e3);
        let mut suspect = None;
        match r {
            Ok(step) => {
                self.metrics.sync_step(scope, &step);
                let failed = step.error.clone().or_else(|| {
                    (!step.differences.is_empty())
                        .then(|| format!("differs after apply: {}", step.differences.join("; ")))
                });
                let level = if failed.is_some() {
                    Level::Error
                } else if step.ops.is_empty() {
                    Level::Debug
                } else {
                    Level::Info
                };
                let mut fields: Vec<(String, String)> = vec![
                    ("scope".into(), scope.into()),
                    ("frontends".into(), frontends.join(",")),
                    ("ops_count".into(), step.ops.len().to_string()),
                    ("ops".into(), describe_ops(&step)),
                    ("ms".into(), ms),
                ];
                if let Some(e) = &failed {
                    fields.push(("error".into(), e.clone()));
                    suspect = Some(e.clone());
                }
                self.events.emit(
                    "lbsync",
                    level,
                    format!(
                        "{scope} sync of {}: {} operation{}{}",
                        if frontends.is_empty() {
                            "lb_conf".to_string()
                        } else {
                            frontends.join(", ")
                        },
                        step.ops.len(),
                        if step.ops.len() == 1 { "" } else { "s" },
                        failed
                            .as_deref()
                            .map(|e| format!(" (failed: {e})"))
                            .unwrap_or_default()
                    ),
                    fields,
                );
            }
            Err(f) => {
                self.events.emit(
                    "lbsync",
                    Level::Error,
                    format!("{scope} sync refused: {}", f.message()),
                    [
                        ("scope", scope.to_string()),
                        ("frontends", frontends.join(",")),
                        ("error", f.message().to_string()),
                    ],
                );
                suspect = Some(f.message().to_string());
            }
        }
        // A failure may be a dead VPP: make sure at once rather than at the next ping.
        if suspect.is_some() {
            self.ping().await;
        }
    }

    // -----------------------------------------------------------------------------------------
    // Warmup and timers

    async fn warmup_step(&mut self) {
        let now = Instant::now();
        match self.warmup.phase(now) {
            Phase::HandsOff => {}
            Phase::Releasing => {
                let due: Vec<String> = self
                    .plans
                    .values()
                    .filter(|p| !self.warmup.is_released(&p.name) && p.all_known())
                    .map(|p| p.name.clone())
                    .collect();
                if !due.is_empty() {
                    self.frontend_sync(&due).await;
                }
            }
            Phase::Expired => {
                let stragglers: Vec<String> = self
                    .plans
                    .values()
                    .filter(|p| !self.warmup.is_released(&p.name))
                    .map(|p| p.name.clone())
                    .collect();
                self.warmup.finish();
                self.events.emit(
                    "warmup-released",
                    Level::Info,
                    "warmup over (startup-max-delay): final full sync",
                    [("stragglers", stragglers.join(","))],
                );
                self.full_sync("warmup over").await;
            }
            Phase::Done => {
                // Over for good (a reload that sets the delays again does not restart it).
                self.warmup.finish();
                if self.next_full_sync.is_none() {
                    self.full_sync("start").await;
                }
            }
        }
    }

    async fn on_timer(&mut self) {
        let now = Instant::now();
        if self.session.is_none() && self.connecting.is_none() && now >= self.next_connect {
            let ep = self.endpoints.clone();
            let m = self.metrics.clone();
            self.connecting = Some(tokio::spawn(async move {
                session::connect(ep, m).await.map(Box::new)
            }));
            return;
        }
        if self.session.is_some() && now >= self.next_ping {
            self.ping().await;
        }
        if self.session.is_some() && now >= self.next_stats {
            self.scrape().await;
        }
        if self.next_full_sync.is_some_and(|t| now >= t) {
            if self.warmup.full_sync_allowed(now) {
                // vpp-maglev re-reads its configuration for every periodic sync: a changed file
                // is reloaded (checked first, as on SIGHUP), and the reload syncs.
                let changed = std::fs::read(&self.args.config).ok() != self.cfg_seen;
                if changed {
                    self.reload("sync-interval").await;
                }
                if !changed || self.next_full_sync.is_some_and(|t| now >= t) {
                    self.full_sync("sync-interval").await;
                }
            } else {
                self.next_full_sync = Some(now + self.cfg.lb.sync_interval);
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // VPP session

    async fn on_connect(&mut self, r: Result<Box<Session>, String>) {
        let now = Instant::now();
        let s = match r {
            Ok(s) => s,
            Err(e) => {
                let again = self.last_connect_error.as_deref() == Some(e.as_str());
                self.events.emit(
                    "log",
                    if again { Level::Debug } else { Level::Warn },
                    format!(
                        "VPP connect failed (retry every {:?}): {e}",
                        self.args.reconnect_interval
                    ),
                    [("error", e.as_str())],
                );
                self.last_connect_error = Some(e);
                self.next_connect = now + self.args.reconnect_interval;
                return;
            }
        };
        self.last_connect_error = None;
        self.metrics
            .connected(Some((&s.version, &s.build_date, s.pid)), s.boottime);
        self.events.emit(
            "vpp-connected",
            Level::Info,
            format!("connected to VPP {} (pid {})", s.version, s.pid),
            [
                ("version", s.version.clone()),
                ("build_date", s.build_date.clone()),
                ("pid", s.pid.to_string()),
                (
                    "boottime",
                    s.boottime.map(|b| b.to_string()).unwrap_or_default(),
                ),
                (
                    "lb_api",
                    if s.caps.lb_1_2 { "1.2.0" } else { "1.1.0" }.to_string(),
                ),
                ("socket", self.endpoints.socket.display().to_string()),
            ],
        );
        if !s.caps.lb {
            self.events.emit(
                "log",
                Level::Error,
                format!(
                    "this VPP has no usable lb plugin; missing: {}",
                    s.caps.missing.join(", ")
                ),
                [("missing", s.caps.missing.join(","))],
            );
        }
        if !self.said_no_weights && !s.caps.lb_1_2 {
            self.said_no_weights = true;
            self.events.log(
                Level::Warn,
                "VPP's lb.api 1.1.0 has no AS weights: a backend with effective weight 0 is \
                 removed from its VIP (delete is the only drain), every other one is an AS of \
                 weight 100",
            );
        }
        self.session = Some(s);
        self.next_ping = now + self.args.ping_interval;
        self.next_stats = now;
        self.log_lb_state().await;
        // lb_conf first (a restarted VPP has forgotten it; warmup does not hold it back).
        self.sync_plans("connect", &[], false).await;
        if self.session.is_none() {
            return;
        }
        if self.warmup.full_sync_allowed(now) {
            self.full_sync("connect").await;
        } else {
            let released: Vec<FrontendPlan> = self
                .plans
                .values()
                .filter(|p| self.warmup.is_released(&p.name))
                .cloned()
                .collect();
            if !released.is_empty() {
                self.sync_plans("frontend", &released, false).await;
            }
        }
    }

    /// Logs what VPP holds now (VIPs, used ASes, `lb_conf`'s addresses).
    async fn log_lb_state(&mut self) {
        let Some(s) = self.session.as_mut() else {
            return;
        };
        if !s.caps.lb {
            return;
        }
        match crate::lb::read::read(&mut s.vpp).await {
            Ok(r) => {
                let vips: Vec<String> = r
                    .live()
                    .map(|v| {
                        format!(
                            "{} {}/{} ({} ASes)",
                            v.prefix,
                            v.protocol(),
                            v.port(),
                            r.used_ases(v).len()
                        )
                    })
                    .collect();
                self.events.emit(
                    "log",
                    Level::Info,
                    format!("VPP lb state: {} VIPs", vips.len()),
                    [
                        ("vips", vips.join("; ")),
                        (
                            "conf",
                            r.src.map(|(a, b)| format!("{a} {b}")).unwrap_or_default(),
                        ),
                    ],
                );
            }
            Err(e) => self
                .events
                .log(Level::Warn, format!("reading VPP's lb state: {e}")),
        }
    }

    async fn ping(&mut self) {
        let timeout = self.endpoints.timeout;
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let r = if s.connected() {
            s.ping(&self.metrics, timeout).await
        } else {
            Err("the API connection was lost".into())
        };
        self.next_ping = Instant::now() + self.args.ping_interval;
        if let Err(e) = r {
            self.teardown(e).await;
        }
    }

    async fn teardown(&mut self, reason: String) {
        let Some(s) = self.session.take() else {
            return;
        };
        session::close(&s.vpp).await;
        drop(s);
        self.metrics.connected(None, None);
        self.next_connect = Instant::now() + self.args.reconnect_interval;
        self.events.emit(
            "vpp-disconnected",
            Level::Warn,
            format!(
                "VPP session ended: {reason}; connecting again in {:?}",
                self.args.reconnect_interval
            ),
            [("reason", reason)],
        );
    }

    /// The VIP counters: from the stats segment when VPP exports them there, else from
    /// `show lb vips verbose` (VPP 26.06 keeps them private to the plugin).
    async fn scrape(&mut self) {
        self.next_stats = Instant::now() + self.args.stats_interval;
        let Some(s) = self.session.as_mut() else {
            return;
        };
        let counters = match crate::lb::stats::read_with(&mut s.stats) {
            Ok(c) => c,
            Err(e) => {
                self.teardown(format!("stats segment: {e}")).await;
                return;
            }
        };
        if !s.caps.lb {
            return;
        }
        let r = match crate::lb::read::read(&mut s.vpp).await {
            Ok(r) => r,
            Err(e) => {
                self.events.log(Level::Debug, format!("stats scrape: {e}"));
                return;
            }
        };
        let by_key: BTreeMap<String, &str> = self
            .cfg
            .frontends
            .values()
            .map(|f| (key::of_vip(&f.vip), f.name.as_str()))
            .collect();
        let mut samples: Vec<(Labels, u64)> = Vec::new();
        for v in r.live() {
            let vk = key::vip(&v.prefix, v.protocol(), v.port());
            let frontend = by_key.get(&vk).copied().unwrap_or("");
            let vals = counters.by_index.get(&v.index).unwrap_or(&v.counters);
            for (name, kind) in crate::lb::read::COUNTERS.iter().zip(KINDS) {
                let n = vals.get(*name).copied().unwrap_or(0);
                samples.push((
                    vec![
                        ("frontend".into(), frontend.into()),
                        (
                            "vip".into(),
                            format!("{} {}/{}", v.prefix, v.protocol(), v.port()),
                        ),
                        ("kind".into(), kind.into()),
                    ],
                    n,
                ));
            }
        }
        self.metrics.set_vip_packets(samples);
    }

    // -----------------------------------------------------------------------------------------
    // Reload

    /// Re-reads the configuration (`trigger`: SIGHUP, or a periodic sync that saw the file
    /// change); a file that fails either validation stage is refused and the running one stays.
    async fn reload(&mut self, trigger: &str) {
        self.cfg_seen = std::fs::read(&self.args.config).ok();
        let new = match config::load(&self.args.config) {
            Ok(c) => c,
            Err(e) => {
                self.events.emit(
                    "reload",
                    Level::Error,
                    format!("{trigger}: reload refused, the running configuration stays: {e}"),
                    [
                        ("trigger", trigger.to_string()),
                        ("result", "refused".to_string()),
                        ("kind", e.kind().to_string()),
                        ("error", e.message().to_string()),
                    ],
                );
                return;
            }
        };
        let old = std::mem::replace(&mut self.cfg, new);
        for w in self.cfg.warnings.clone() {
            self.events.log(Level::Warn, w);
        }
        self.warmup
            .set_delays(self.cfg.lb.startup_min_delay, self.cfg.lb.startup_max_delay);
        let (mut added, mut removed, mut restarted, mut kept) = (0, 0, 0, 0);
        let gone: Vec<String> = old
            .backends
            .keys()
            .filter(|n| !self.cfg.backends.contains_key(*n))
            .cloned()
            .collect();
        for n in gone {
            removed += 1;
            let from = self.backends.get(&n).map_or(State::Unknown, |b| b.state);
            if let Some(rt) = self.backends.get_mut(&n) {
                if let Some(t) = rt.task.take() {
                    t.abort();
                }
            }
            self.transition(
                &n,
                from,
                State::Removed,
                "reload: removed from the configuration",
            );
            self.backends.remove(&n);
            self.metrics.forget_backend(&n);
        }
        let names: Vec<String> = self.cfg.backends.keys().cloned().collect();
        let cap = self.cfg.transition_history;
        for n in names {
            let new_b = self.cfg.backends[&n].clone();
            let same = self
                .backends
                .get(&n)
                .map(|rt| rt.cfg.probe_identity() == new_b.probe_identity());
            match same {
                Some(true) => {
                    kept += 1;
                    if let Some(rt) = self.backends.get_mut(&n) {
                        rt.cfg = new_b;
                        rt.history.set_cap(cap);
                    }
                }
                Some(false) => {
                    // Address, check or enabled changed: a new probe (from unknown), or none
                    // (disabled); the transition goes from the state it had.
                    restarted += 1;
                    self.start_backend(&n, "reload: changed");
                }
                None => {
                    added += 1;
                    self.start_backend(&n, "reload");
                }
            }
        }
        self.replan();
        self.events.emit(
            "reload",
            Level::Info,
            format!(
                "{trigger}: configuration reloaded ({added} backends added, {removed} removed, \
                 {restarted} restarted, {kept} kept running)"
            ),
            [
                ("trigger", trigger.to_string()),
                ("result", "ok".to_string()),
                ("added", added.to_string()),
                ("removed", removed.to_string()),
                ("restarted", restarted.to_string()),
                ("kept", kept.to_string()),
                ("frontends", self.cfg.frontends.len().to_string()),
            ],
        );
        let now = Instant::now();
        if self.warmup.full_sync_allowed(now) {
            self.full_sync("reload").await;
        } else {
            // Released frontends follow the new configuration; the others wait for warmup.
            let released: Vec<String> = self
                .plans
                .keys()
                .filter(|n| self.warmup.is_released(n))
                .cloned()
                .collect();
            if !released.is_empty() {
                self.frontend_sync(&released).await;
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // /status

    fn publish_status(&self) {
        let now = Instant::now();
        let backends: serde_json::Map<String, serde_json::Value> = self
            .backends
            .iter()
            .map(|(n, b)| {
                (
                    n.clone(),
                    json!({
                        "address": b.cfg.address.to_string(),
                        "state": b.state,
                        "enabled": b.cfg.enabled,
                        "healthcheck": b.cfg.check.as_ref().map(|c| c.name.clone()),
                        "history": b.history.items().collect::<Vec<_>>(),
                    }),
                )
            })
            .collect();
        let frontends: serde_json::Map<String, serde_json::Value> = self
            .plans
            .iter()
            .map(|(n, p)| {
                let vip = self.cfg.frontends.get(n).map(|f| key::of_vip(&f.vip));
                (
                    n.clone(),
                    json!({
                        "vip": vip,
                        "state": p.state,
                        "active_pool": p.active_pool,
                        "released": self.warmup.is_released(n) || self.warmup.full_sync_allowed(now),
                        "members": p.members,
                    }),
                )
            })
            .collect();
        let vpp = self.session.as_ref().map(|s| {
            json!({"version": s.version, "pid": s.pid, "lb_api": if s.caps.lb_1_2 { "1.2.0" } else { "1.1.0" }})
        });
        self.metrics.set_status(json!({
            "config": self.args.config.display().to_string(),
            "warmup": format!("{:?}", self.warmup.phase(now)).to_lowercase(),
            "vpp": vpp,
            "backends": backends,
            "frontends": frontends,
        }));
    }
}

/// The operations of a step in one line: `DELETE <key> (flush); CREATE <key>`.
pub fn describe_ops(step: &Step) -> String {
    step.ops
        .iter()
        .map(|o| {
            let flush = o
                .messages
                .iter()
                .any(|m| m.args.get("is_flush").and_then(|v| v.as_bool()) == Some(true));
            let no_flush = o.op == "DELETE"
                && crate::lb::model::key::is_as(&o.key)
                && o.messages
                    .iter()
                    .any(|m| m.args.get("is_flush").and_then(|v| v.as_bool()) == Some(false));
            format!(
                "{} {}{}{}",
                o.op,
                o.key,
                if flush { " (flush)" } else { "" },
                if no_flush { " (no flush)" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
