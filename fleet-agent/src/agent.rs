//! The agent loop: keep VPP equal to the store's desired values (Ligato's KV scheduler,
//! operator-tools.md §5, on the reconcile engine).
//!
//! Every transaction takes evpn-tools' one path ([`evpn_tools::reconcile_run`]): read VPP once,
//! plan the whole desired state against it in memory, apply in dependency order, read back and
//! verify. A transaction runs
//! - at start (once the store has been read and VPP answers): the initial resync;
//! - after the store changed (changes arriving meanwhile are batched into the next one);
//! - when VPP reports an interface change (`sw_interface_event`, after
//!   `want_interface_events`): a PENDING value waiting for an interface made outside the store
//!   is applied as soon as it appears (batched like store changes);
//! - every `--resync-interval` (drift, and dependencies no event announces), and when a failed
//!   value's backoff is over;
//! - after (re)connecting to VPP: a VPP restart (another `vpe_pid` in `control_ping`, or no
//!   answer) drops the session; the next one starts with a full resync.
//!
//! Only objects evpn-tools owns (its tags) are removed; deletes follow the dependency graph.
//! A value whose operation fails is held at what VPP has (left out of the plan) and retried
//! with exponential backoff (1 s, 2 s, 4 s, ... up to `--retry-max`); its status says VPP's
//! error. Statuses: `applied`, `pending` (with the missing dependencies), `failed` (with the
//! error), `blocked` (an object the agent does not own is in the way), `invalid` (the value).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use evpn_tools::commands::{check_required, connect, Global};
use evpn_tools::model::Item;
use evpn_tools::output::Step;
use evpn_tools::reconcile_run::{read, reconcile, RunOptions};
use evpn_tools::vpp::Vpp;
use futures_util::StreamExt;
use reconcile::{Engine, PlanOptions, State};
use serde_json::{json, Value as Json};
use tokio::sync::watch;
use vppapi_binapi::interface::{SwInterfaceEvent, WantInterfaceEvents};
use vppapi_binapi::memclnt::ControlPing;
use vppapi_runtime::EventStream;

use crate::events::Events;
use crate::models::{self, root_key, Desired, Label};
use crate::store::{Snapshot, StatusSink};

/// How the agent runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub label: Label,
    pub socket: PathBuf,
    /// Reply and connect timeout.
    pub timeout: Duration,
    /// Full re-plan period.
    pub resync_interval: Duration,
    /// `control_ping` period (restart detection), and the reconnect period.
    pub ping_interval: Duration,
    /// How long to gather store changes before a transaction.
    pub batch: Duration,
    /// The longest retry backoff.
    pub retry_max: Duration,
    pub trace: bool,
    /// `--compat-lb-26.06` for the LB values (IPv4 VIP and AS keys +96 on VPP 26.06).
    pub compat_lb_26_06: bool,
}

/// The keys the agent plans over: everything evpn-tools' eVPN descriptors handle.
pub fn scope() -> Vec<String> {
    ["bd/", "interface/", "l2fib/", "vxlan/"]
        .map(String::from)
        .to_vec()
}

fn global(o: &Options, dry_run: bool) -> Global {
    Global {
        socket: o.socket.clone(),
        json: true,
        trace: o.trace,
        dry_run,
        strict: false,
        timeout: o.timeout,
    }
}

struct Session {
    vpp: Vpp,
    pid: u32,
    /// Interface events (None when VPP refused the registration: then only the periodic
    /// re-plan notices interfaces made outside the store).
    events: Option<EventStream<SwInterfaceEvent>>,
}

async fn open(o: &Options, dry_run: bool) -> Result<Session, String> {
    let mut vpp = connect(&global(o, dry_run), &o.socket).await?;
    let r = async {
        check_required(&vpp)?;
        let p = vpp
            .read(ControlPing {})
            .await
            .map_err(|e| format!("control_ping: {e}"))?;
        Ok::<u32, String>(p.vpe_pid)
    }
    .await;
    match r {
        Ok(pid) => {
            let events = vpp
                .conn
                .subscribe::<WantInterfaceEvents, SwInterfaceEvent, _>(|en, pid| {
                    WantInterfaceEvents {
                        enable_disable: en as u32,
                        pid,
                    }
                })
                .await
                .ok();
            Ok(Session { vpp, pid, events })
        }
        Err(e) => {
            close(&vpp).await;
            Err(e)
        }
    }
}

async fn close(vpp: &Vpp) {
    let _ = tokio::time::timeout(Duration::from_secs(2), vpp.conn.close()).await;
}

struct Failure {
    /// The desired value that failed: a changed value is tried at once.
    value: Option<Item>,
    error: String,
    attempts: u32,
    retry_at: Instant,
}

/// The agent's state between transactions.
pub struct Agent {
    o: Options,
    engine: Engine<Item, Vpp>,
    events: Events,
    sink: StatusSink,
    /// Engine root key -> its last failure.
    failures: HashMap<String, Failure>,
    status: BTreeMap<String, Json>,
    /// Engine keys pending after the last transaction (their creation is logged WAS-PENDING).
    pending: std::collections::HashSet<String>,
    /// Whether the last transaction had LB keys (one more sync after the last goes prunes).
    lb_active: bool,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
    pub resyncs: u64,
}

impl Agent {
    pub fn new(
        o: Options,
        sink: StatusSink,
        events: Events,
        metrics: std::sync::Arc<crate::metrics::Metrics>,
    ) -> Agent {
        Agent {
            o,
            engine: evpn_tools::descriptors::engine(),
            events,
            sink,
            failures: HashMap::new(),
            status: BTreeMap::new(),
            pending: Default::default(),
            lb_active: false,
            metrics,
            resyncs: 0,
        }
    }

    /// Runs until the store task ends.
    pub async fn run(mut self, mut rx: watch::Receiver<Snapshot>) -> Result<(), String> {
        while !rx.borrow().loaded {
            rx.changed().await.map_err(|_| "the store task ended")?;
        }
        let mut session: Option<Session> = None;
        let mut dirty = true;
        let mut resync: Option<String> = Some("start".into());
        let mut store_resyncs = rx.borrow().resyncs;
        let mut next_connect = Instant::now();
        let mut next_ping = Instant::now() + self.o.ping_interval;
        let mut next_periodic = Instant::now() + self.o.resync_interval;
        let mut connect_error: Option<String> = None;
        loop {
            if session.is_none() && Instant::now() >= next_connect {
                match open(&self.o, false).await {
                    Ok(s) => {
                        self.events.info(
                            "vpp-connected",
                            &format!("connected to VPP (pid {})", s.pid),
                            &[("pid", &s.pid.to_string())],
                        );
                        session = Some(s);
                        connect_error = None;
                        dirty = true;
                        resync.get_or_insert_with(|| "VPP connected".into());
                        next_ping = Instant::now() + self.o.ping_interval;
                    }
                    Err(e) => {
                        if connect_error.as_ref() != Some(&e) {
                            self.events.warn("vpp-connect-failed", &e, &[]);
                            connect_error = Some(e);
                        }
                        next_connect = Instant::now() + self.o.ping_interval;
                    }
                }
            }
            self.metrics.vpp_connected.set(i64::from(session.is_some()));
            self.metrics
                .store_connected
                .set(i64::from(rx.borrow().connected));
            if dirty {
                if let Some(s) = session.as_mut() {
                    if let Some(why) = resync.take() {
                        self.resyncs += 1;
                        self.metrics.resyncs.inc();
                        self.events.info(
                            "resync",
                            &format!("full resync ({why})"),
                            &[("reason", &why)],
                        );
                    }
                    let snap = rx.borrow().clone();
                    match self.transaction(&mut s.vpp, &snap).await {
                        Ok(()) => dirty = false,
                        Err(e) => {
                            self.events.warn("vpp-disconnected", &e, &[]);
                            close(&s.vpp).await;
                            session = None;
                            resync = Some("VPP session lost".into());
                            next_connect = Instant::now();
                        }
                    }
                }
            }
            let mut wake = next_periodic.min(next_ping);
            if session.is_none() {
                wake = wake.min(next_connect);
            }
            if let Some(t) = self.failures.values().map(|f| f.retry_at).min() {
                wake = wake.min(t);
            }
            tokio::select! {
                r = rx.changed() => {
                    if r.is_err() {
                        return Err("the store task ended".into());
                    }
                    tokio::time::sleep(self.o.batch).await;
                    let n = rx.borrow_and_update().resyncs;
                    if n != store_resyncs {
                        store_resyncs = n;
                        resync.get_or_insert_with(|| "store reloaded".into());
                    }
                    dirty = true;
                }
                ev = async {
                    match session.as_mut().and_then(|s| s.events.as_mut()) {
                        Some(e) => e.next().await,
                        None => std::future::pending().await,
                    }
                } => {
                    match ev {
                        Some(e) => {
                            self.events.debug(
                                "vpp-interface-event",
                                &format!("sw_interface_event for sw_if_index {}", e.sw_if_index.0),
                                &[("sw_if_index", &e.sw_if_index.0.to_string())],
                            );
                            tokio::time::sleep(self.o.batch).await;
                            dirty = true;
                        }
                        // The stream ended (the connection went): the ping notices the rest.
                        None => {
                            if let Some(s) = session.as_mut() {
                                s.events = None;
                            }
                        }
                    }
                }
                _ = tokio::time::sleep_until(wake.into()) => {}
            }
            let now = Instant::now();
            if now >= next_ping {
                next_ping = now + self.o.ping_interval;
                if let Some(s) = session.as_mut() {
                    let r = tokio::time::timeout(self.o.timeout, s.vpp.read(ControlPing {})).await;
                    let trouble = match r {
                        Err(_) => Some(format!(
                            "control_ping: no reply within {:?}",
                            self.o.timeout
                        )),
                        Ok(Err(e)) => Some(format!("control_ping: {e}")),
                        Ok(Ok(p)) if p.vpe_pid != s.pid => Some(format!(
                            "VPP restarted (vpe_pid {} -> {})",
                            s.pid, p.vpe_pid
                        )),
                        Ok(Ok(_)) => None,
                    };
                    if let Some(t) = trouble {
                        self.events.warn("vpp-disconnected", &t, &[]);
                        close(&s.vpp).await;
                        session = None;
                        resync = Some(t);
                        next_connect = now;
                    }
                }
            }
            if now >= next_periodic {
                next_periodic = now + self.o.resync_interval;
                dirty = true;
            }
            if self.failures.values().any(|f| f.retry_at <= now) {
                dirty = true;
            }
        }
    }

    /// One transaction (retrying around values that fail); `Err` when VPP cannot be read.
    async fn transaction(&mut self, vpp: &mut Vpp, snap: &Snapshot) -> Result<(), String> {
        self.metrics.transactions.inc();
        let d = models::desired(&self.o.label, &snap.entries);
        for (k, why) in &d.invalid {
            if self
                .status
                .get(&self.o.label.status_key(k))
                .and_then(|s| s["error"].as_str())
                != Some(why.as_str())
            {
                self.events
                    .error("invalid-value", &format!("{k}: {why}"), &[("key", k)]);
            }
        }
        // Failures of values no longer desired, or changed since, are forgotten.
        self.failures
            .retain(|ek, f| d.state.get(ek).map(|e| &e.value) == f.value.as_ref());
        let mut step = Step::default();
        let mut retried: Vec<String> = Vec::new();
        for _ in 0..16 {
            let actual = read(&self.engine, vpp).await?;
            let now = Instant::now();
            let mut desired = d.state.clone();
            retried.clear();
            for (ek, f) in &self.failures {
                if f.retry_at > now {
                    hold(&mut desired, &actual, ek);
                } else {
                    retried.push(ek.clone());
                }
            }
            for sk in d.invalid.keys() {
                if let Some(ek) = sk
                    .strip_prefix(&self.o.label.config_prefix())
                    .and_then(models::engine_key_of)
                {
                    hold(&mut desired, &actual, &ek);
                }
            }
            let opts = RunOptions {
                plan: PlanOptions {
                    scope: scope(),
                    ..Default::default()
                },
                rollback: false,
            };
            step = reconcile("agent", vpp, &self.engine, &desired, &actual, &opts).await;
            for op in &step.ops {
                if op.state == "done" {
                    self.metrics.op(&op.op);
                    self.events.info(
                        "op",
                        &format!(
                            "{}{} {}",
                            op.op,
                            if op.was_pending || self.pending.contains(&op.key) {
                                " [WAS-PENDING]"
                            } else {
                                ""
                            },
                            op.key
                        ),
                        &[("key", &op.key), ("op", &op.op), ("reason", &op.reason)],
                    );
                }
            }
            let failed = step.ops.iter().find(|o| o.state == "failed");
            match (failed, &step.error) {
                (Some(op), Some(err)) => {
                    let ek = root_key(&op.key);
                    let attempts = self.failures.get(&ek).map_or(0, |f| f.attempts) + 1;
                    let backoff = Duration::from_secs(1)
                        .saturating_mul(1 << (attempts - 1).min(16))
                        .min(self.o.retry_max);
                    self.events.error(
                        "op-failed",
                        &format!("{err} (attempt {attempts}, retry in {backoff:?})"),
                        &[("key", &op.key)],
                    );
                    self.failures.insert(
                        ek.clone(),
                        Failure {
                            value: d.state.get(&ek).map(|e| e.value.clone()),
                            error: err.clone(),
                            attempts,
                            retry_at: Instant::now() + backoff,
                        },
                    );
                    retried.retain(|k| *k != ek);
                    // Plan again without it (held at what VPP has).
                    continue;
                }
                (None, Some(err)) => {
                    self.events.error("transaction-error", err, &[]);
                }
                _ => {}
            }
            break;
        }
        for ek in &retried {
            self.failures.remove(ek);
        }
        self.pending = step.pending.iter().map(|p| p.key.clone()).collect();
        let lb = self.lb_transaction(vpp, snap).await;
        self.write_status(&d, &step, lb).await;
        Ok(())
    }

    /// The LB values, through `lb sync` (prune inside `managed-prefixes` unless an LB value is
    /// invalid: then nothing is removed). Returns their statuses (store key -> status).
    async fn lb_transaction(&mut self, vpp: &mut Vpp, snap: &Snapshot) -> BTreeMap<String, Json> {
        let v = crate::lb::values(&self.o.label.config_prefix(), &snap.entries);
        let mut out = BTreeMap::new();
        for (k, why) in &v.invalid {
            out.insert(k.clone(), json!({ "state": "invalid", "error": why }));
        }
        if !v.any() && !self.lb_active {
            return out;
        }
        let opts = evpn_tools::lb::SyncOptions {
            prune: v.invalid.is_empty(),
            compat_lb_26_06: self.o.compat_lb_26_06,
            rollback: false,
        };
        let step = match evpn_tools::lb::sync(vpp, &v.desired, &opts).await {
            Ok(s) => s,
            Err(f) => {
                self.events.error("lb-sync-failed", f.message(), &[]);
                for k in v.owner.values() {
                    out.insert(
                        k.clone(),
                        json!({ "state": "failed", "error": f.message() }),
                    );
                }
                return out;
            }
        };
        self.lb_active = v.any();
        for op in step.ops.iter().filter(|o| o.state == "done") {
            self.metrics.op(&op.op);
            self.events.info(
                "op",
                &format!("{} {}", op.op, op.key),
                &[("key", &op.key), ("op", &op.op), ("reason", &op.reason)],
            );
        }
        let failed = step
            .ops
            .iter()
            .find(|o| o.state == "failed")
            .map(|o| crate::lb::root_key(&o.key));
        if let Some(e) = &step.error {
            self.events.error("op-failed", e, &[]);
        }
        let root = crate::lb::root_key;
        for (ek, sk) in &v.owner {
            let pending: Vec<Json> = step
                .pending
                .iter()
                .filter(|p| root(&p.key) == *ek)
                .map(|p| json!({ "key": p.key, "missing": p.missing }))
                .collect();
            let blocked = step.blocked.iter().find(|b| root(&b.key) == *ek);
            let diff = step
                .differences
                .iter()
                .find(|d| d.split_whitespace().nth(1).map(root).as_deref() == Some(ek));
            let st = if failed.as_deref() == Some(ek) {
                json!({ "state": "failed", "error": step.error })
            } else if !pending.is_empty() {
                json!({ "state": "pending", "pending": pending })
            } else if let Some(b) = blocked {
                json!({ "state": "blocked", "reason": b.reason })
            } else if let Some(d) = diff {
                json!({ "state": "failed", "error": format!("not converged: {d}") })
            } else if step.error.is_some() {
                json!({ "state": "failed", "error": step.error })
            } else {
                json!({ "state": "applied" })
            };
            out.insert(sk.clone(), st);
        }
        out
    }

    async fn write_status(&mut self, d: &Desired, step: &Step, lb: BTreeMap<String, Json>) {
        let mut pending: BTreeMap<String, Vec<Json>> = BTreeMap::new();
        for p in &step.pending {
            pending
                .entry(root_key(&p.key))
                .or_default()
                .push(json!({ "key": p.key, "missing": p.missing }));
        }
        let blocked: BTreeMap<String, &str> = step
            .blocked
            .iter()
            .map(|b| (root_key(&b.key), b.reason.as_str()))
            .collect();
        let mut diffs: BTreeMap<String, &str> = BTreeMap::new();
        for s in &step.differences {
            if let Some(k) = s.split_whitespace().nth(1) {
                diffs.insert(root_key(k), s.as_str());
            }
        }
        let mut status = BTreeMap::new();
        for (sk, why) in &d.invalid {
            status.insert(
                self.o.label.status_key(sk),
                json!({ "state": "invalid", "error": why }),
            );
        }
        for (ek, sk) in &d.owner {
            let v = if let Some(f) = self.failures.get(ek) {
                json!({ "state": "failed", "error": f.error, "attempts": f.attempts })
            } else if let Some(p) = pending.get(ek) {
                json!({ "state": "pending", "pending": p })
            } else if let Some(r) = blocked.get(ek) {
                json!({ "state": "blocked", "reason": r })
            } else if let Some(s) = diffs.get(ek) {
                json!({ "state": "failed", "error": format!("not converged: {s}") })
            } else {
                json!({ "state": "applied" })
            };
            status.insert(self.o.label.status_key(sk), v);
        }
        for (sk, v) in lb {
            status.insert(self.o.label.status_key(&sk), v);
        }
        for (k, v) in &status {
            if self.status.get(k) != Some(v) {
                let state = v["state"].as_str().unwrap_or("");
                self.events.info(
                    "status",
                    &format!("{k}: {state}"),
                    &[("key", k), ("state", state)],
                );
            }
        }
        self.metrics
            .set_states(status.values().filter_map(|v| v["state"].as_str()));
        if let Err(e) = self.sink.write(&status).await {
            self.events.error("status-write-failed", &e, &[]);
        }
        self.status = status;
    }
}

/// Keeps `ek` as VPP has it (or absent): a value held out of this plan.
fn hold(desired: &mut State<Item>, actual: &State<Item>, ek: &str) {
    desired.remove(ek);
    if let Some(e) = actual.get(ek) {
        desired.insert(ek, e.value.clone());
    }
}

/// `--dry-run`: the plan of the store's values against VPP, nothing sent.
pub async fn dry_run(o: &Options, snap: &Snapshot) -> Result<Json, String> {
    let d = models::desired(&o.label, &snap.entries);
    let mut s = open(o, true).await?;
    let engine = evpn_tools::descriptors::engine();
    let actual = read(&engine, &mut s.vpp).await?;
    let mut desired = d.state.clone();
    for sk in d.invalid.keys() {
        if let Some(ek) = sk
            .strip_prefix(&o.label.config_prefix())
            .and_then(models::engine_key_of)
        {
            hold(&mut desired, &actual, &ek);
        }
    }
    let opts = RunOptions {
        plan: PlanOptions {
            scope: scope(),
            ..Default::default()
        },
        rollback: false,
    };
    let step = reconcile("dry-run", &mut s.vpp, &engine, &desired, &actual, &opts).await;
    // The LB values' plan, as the agent would sync them (the session records, sends nothing).
    let v = crate::lb::values(&o.label.config_prefix(), &snap.entries);
    let lb = if v.any() {
        let opts = evpn_tools::lb::SyncOptions {
            prune: v.invalid.is_empty(),
            compat_lb_26_06: o.compat_lb_26_06,
            rollback: false,
        };
        match evpn_tools::lb::sync(&mut s.vpp, &v.desired, &opts).await {
            Ok(step) => json!(step),
            Err(f) => json!({ "error": f.message() }),
        }
    } else {
        Json::Null
    };
    close(&s.vpp).await;
    let mut invalid = d.invalid.clone();
    invalid.extend(v.invalid.iter().map(|(k, e)| (k.clone(), e.clone())));
    Ok(json!({ "label": o.label.name, "invalid": invalid, "plan": step, "lb_plan": lb }))
}
