//! The connection's background task: connect + handshake, publish the session, restore
//! event registrations, run hooks, probe health, and on any loss tear down and reconnect
//! with backoff, forever.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::session::{reader_task, writer_task, Session, SocketSide};
use super::{call_on, Alive, ConnState, Connection, Inner, ReconnectInfo};
use crate::config::Endpoint;
use crate::error::{Error, Result};
use crate::memclnt::{ControlPing, ShowVersion};
use crate::transport::socket;

/// Connect through the configured transport, handshake, and start the session's reader and
/// writer (and, on shared memory, its receive thread).
async fn establish(inner: &Arc<Inner>, generation: u64) -> Result<Arc<Session>> {
    let cfg = &inner.config;
    let endpoint = cfg.effective_endpoint();
    let path = endpoint.path();
    #[allow(unused_mut)]
    let mut hs = socket::connect(path, &cfg.client_name, cfg.max_frame_len).await?;
    let shm = match &endpoint {
        Endpoint::Socket(_) => None,
        #[cfg(shm_transport)]
        Endpoint::Shm(_) => {
            Some(crate::transport::shm::upgrade(&mut hs, path, &cfg.client_name, &cfg.shm).await?)
        }
        #[cfg(not(shm_transport))]
        Endpoint::Shm(_) => {
            return Err(Error::Usage(
                "this build has no shared-memory transport: it needs Linux with glibc (VPP's \
                 process-shared mutexes and condition variables are glibc's) and \
                 vppapi-runtime's `shm` feature; use a socket: endpoint"
                    .into(),
            ))
        }
    };
    let socket::Handshake {
        stream,
        buf,
        client_index: socket_index,
        table,
    } = hs;
    #[cfg(shm_transport)]
    let client_index = shm.as_ref().map_or(socket_index, |s| s.index);
    #[cfg(not(shm_transport))]
    let client_index = socket_index;
    let session = Arc::new(Session::new(
        generation,
        client_index,
        socket_index,
        table,
        SocketSide::new(stream, buf, cfg.write_high_water, cfg.busy_poll),
        shm,
        inner.events.clone(),
        inner.metrics.clone(),
    ));
    #[cfg(shm_transport)]
    if let Some(shm) = &session.shm {
        shm.start(&session);
    }
    tokio::spawn(reader_task(session.clone()));
    tokio::spawn(writer_task(session.clone()));

    // What VPP is (logged, exposed) and its pid (restart detection).
    let t = cfg.reply_timeout;
    let setup = async {
        if session
            .table
            .id(<ShowVersion as crate::codec::Message>::NAME_CRC)
            .is_some()
        {
            let v = call_on(inner, &session, &ShowVersion {}, t).await?.decode();
            if let Ok(v) = v {
                *session.version.lock().unwrap_or_else(|p| p.into_inner()) = Some(v.version);
            }
        }
        let ping = call_on(inner, &session, &ControlPing {}, t)
            .await?
            .decode()
            .map_err(|source| Error::Decode {
                message: "control_ping_reply",
                source,
            })?;
        session.vpe_pid.store(ping.vpe_pid, Ordering::Relaxed);
        Ok::<_, Error>(())
    };
    if let Err(e) = setup.await {
        session.close("handshake failed");
        return Err(e);
    }
    tracing::info!(
        generation,
        vpe_pid = ping_pid(&session),
        messages = session.table.len(),
        version = ?session.version.lock().unwrap_or_else(|p| p.into_inner()),
        "connected to VPP"
    );
    Ok(session)
}

fn ping_pid(s: &Session) -> u32 {
    s.vpe_pid.load(Ordering::Relaxed)
}

/// Why the monitor returned.
enum Ended {
    Dead,
    NotResponding,
    Shutdown,
}

/// Probe health until the session dies, stops responding (if configured) or shutdown.
async fn monitor(inner: &Arc<Inner>, session: &Arc<Session>) -> Ended {
    let h = &inner.config.health;
    let mut dead = session.dead_rx();
    let mut shutdown = inner.shutdown.subscribe();
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + h.interval, h.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut misses = 0u32;
    loop {
        if dead.borrow().is_some() {
            return Ended::Dead;
        }
        if *shutdown.borrow() {
            return Ended::Shutdown;
        }
        tokio::select! {
            _ = dead.changed() => {}
            _ = shutdown.changed() => {}
            _ = tick.tick() => {
                let probe = call_on(inner, session, &ControlPing {}, h.reply_timeout);
                let r = tokio::select! {
                    r = probe => Some(r),
                    _ = dead.changed() => None,
                    _ = shutdown.changed() => None,
                };
                match r {
                    None => {}
                    Some(Ok(_)) => {
                        misses = 0;
                        inner.state.send_if_modified(|s| {
                            if *s == ConnState::NotResponding {
                                *s = ConnState::Connected;
                                true
                            } else {
                                false
                            }
                        });
                    }
                    Some(Err(Error::Timeout { .. })) => {
                        misses += 1;
                        tracing::debug!(misses, "health probe without reply");
                        if misses >= h.threshold {
                            if inner.state.send_replace(ConnState::NotResponding)
                                != ConnState::NotResponding
                            {
                                tracing::warn!(misses, "VPP is not responding");
                            }
                            if h.reconnect_when_not_responding {
                                return Ended::NotResponding;
                            }
                        }
                    }
                    Some(Err(e)) => tracing::debug!("health probe: {e}"),
                }
            }
        }
    }
}

/// The driver: runs until shutdown.
pub(crate) async fn run(inner: Arc<Inner>, alive: Weak<Alive>) {
    let mut generation = 0u64;
    let mut failures = 0u32;
    let mut previous_pid: Option<u32> = None;
    let mut shutdown = inner.shutdown.subscribe();
    loop {
        if *shutdown.borrow() {
            break;
        }
        inner.state.send_replace(ConnState::Connecting);
        let attempt = tokio::time::timeout(
            inner.config.connect_timeout,
            establish(&inner, generation + 1),
        );
        let res = tokio::select! {
            r = attempt => r.unwrap_or_else(|_| Err(Error::Handshake("timed out".into()))),
            _ = shutdown.changed() => break,
        };
        match res {
            Ok(session) => {
                generation += 1;
                failures = 0;
                *inner.last_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
                let pid = ping_pid(&session);
                let restarted = previous_pid.is_some_and(|p| p != pid);
                if generation > 1 {
                    inner.metrics.reconnects.inc();
                }
                inner.set_session(Some(session.clone()));
                inner.state.send_replace(ConnState::Connected);
                let conn = alive.upgrade().map(|a| Connection {
                    inner: inner.clone(),
                    alive: a,
                });
                if let Some(conn) = &conn {
                    // Registrations are keyed by client_index in VPP: send them again.
                    for (want, send) in inner.events.registrations() {
                        if let Err(e) = send(conn.clone(), true).await {
                            tracing::warn!(want, "re-registering events failed: {e}");
                        }
                    }
                }
                let required = inner
                    .required
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                let report = session.table.report(required.iter().copied());
                if !report.is_compatible() {
                    tracing::warn!("incompatible messages: {report}");
                }
                *inner.last_report.lock().unwrap_or_else(|p| p.into_inner()) = Some(report.clone());
                if generation > 1 && inner.config.resync_after_reconnect {
                    if let Some(conn) = &conn {
                        let hooks = inner
                            .hooks
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .clone();
                        let info = ReconnectInfo {
                            generation,
                            vpe_pid: pid,
                            previous_vpe_pid: previous_pid,
                            vpp_restarted: restarted,
                            compat: report,
                        };
                        for h in hooks {
                            h(conn.clone(), info.clone()).await;
                        }
                    }
                }
                drop(conn); // do not keep the connection alive from here
                previous_pid = Some(pid);
                let ended = monitor(&inner, &session).await;
                inner.set_session(None);
                session.close(match ended {
                    Ended::Dead => "connection lost",
                    Ended::NotResponding => "VPP not responding",
                    Ended::Shutdown => "closed",
                });
                inner.state.send_replace(ConnState::Disconnected);
                if matches!(ended, Ended::Shutdown) {
                    break;
                }
                // Give the peer a moment; the backoff below grows if it keeps failing.
            }
            Err(e) => {
                tracing::debug!(failures, "connect failed: {e}");
                *inner.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                inner.state.send_replace(ConnState::Disconnected);
                failures += 1;
            }
        }
        let delay = if failures == 0 {
            Duration::ZERO
        } else {
            inner.config.reconnect.delay(failures - 1)
        };
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.changed() => break,
        }
    }
    if let Some(s) = inner.current() {
        inner.set_session(None);
        s.close("closed");
    }
    inner.state.send_replace(ConnState::Disconnected);
}
