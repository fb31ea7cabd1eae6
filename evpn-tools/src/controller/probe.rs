//! Health probes and the one task per backend that runs them (operator-tools.md §4.5). An
//! HTTP/1.1 GET or a TCP connect is a few lines over tokio's `TcpStream`, so no HTTP client
//! crate: the probe reads only the status line (at most 8 KiB, all within the timeout) and never
//! panics on what a backend answers. An ICMP echo is [`super::icmp`]'s.
//!
//! Result codes follow HAProxy's check status names, which operators know: `L4OK`, `L4TOUT`
//! (connect timeout), `L4CON` (refused, unreachable), `L7TOUT` (no status line in time),
//! `L7RSP` (not HTTP); an HTTP answer gives its status code (`200`, `503`). ICMP: `L3OK` on the
//! echo reply, `timeout` without one, else an errno name (`EPERM` when no ICMP socket may be
//! opened, with the remedy in the detail).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::UnboundedSender;

use super::config::{Backend, Check, CheckKind};
use super::health::{jitter, Health, State};
use super::metrics::Metrics;

/// One probe's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub pass: bool,
    /// `L4OK`, `L4CON`, `200`, ... (the `code` label).
    pub code: String,
    /// For logs: what went wrong.
    pub detail: String,
    pub duration: Duration,
}

/// Runs one probe of `check` against `address`.
pub async fn probe(address: IpAddr, check: &Check) -> Outcome {
    let t = Instant::now();
    let (pass, code, detail) = match &check.kind {
        CheckKind::Tcp => tcp(SocketAddr::new(address, check.port), check.timeout).await,
        CheckKind::Icmp => match super::icmp::echo(address, check.timeout).await {
            Ok(()) => (true, super::icmp::OK.into(), String::new()),
            Err(f) => (false, f.code, f.detail),
        },
        CheckKind::Http {
            path,
            host,
            expected_code,
        } => {
            http(
                SocketAddr::new(address, check.port),
                path,
                host.as_deref(),
                *expected_code,
                check.timeout,
            )
            .await
        }
    };
    Outcome {
        pass,
        code,
        detail,
        duration: t.elapsed(),
    }
}

fn connect_error(e: &std::io::Error) -> (bool, String, String) {
    (false, "L4CON".into(), e.to_string())
}

async fn tcp(to: SocketAddr, timeout: Duration) -> (bool, String, String) {
    match tokio::time::timeout(timeout, TcpStream::connect(to)).await {
        Err(_) => (
            false,
            "L4TOUT".into(),
            format!("no connection within {timeout:?}"),
        ),
        Ok(Err(e)) => connect_error(&e),
        Ok(Ok(_)) => (true, "L4OK".into(), String::new()),
    }
}

/// The status code of an HTTP/1.x status line, if `line` is one.
pub fn parse_status_line(line: &[u8]) -> Option<u16> {
    let s = std::str::from_utf8(line).ok()?;
    let mut parts = s.splitn(3, ' ');
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let code = parts.next()?;
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    code.parse().ok()
}

async fn http(
    to: SocketAddr,
    path: &str,
    host: Option<&str>,
    expected: u16,
    timeout: Duration,
) -> (bool, String, String) {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut s = match tokio::time::timeout_at(deadline, TcpStream::connect(to)).await {
        Err(_) => {
            return (
                false,
                "L4TOUT".into(),
                format!("no connection within {timeout:?}"),
            )
        }
        Ok(Err(e)) => return connect_error(&e),
        Ok(Ok(s)) => s,
    };
    let host = match (host, to.ip()) {
        (Some(h), _) => h.to_string(),
        (None, IpAddr::V4(a)) => a.to_string(),
        (None, IpAddr::V6(a)) => format!("[{a}]"),
    };
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: evpn-tools-maglev/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    let exchange = async {
        s.write_all(req.as_bytes()).await?;
        let mut buf = Vec::with_capacity(512);
        let mut chunk = [0u8; 1024];
        loop {
            if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
                buf.truncate(i);
                return Ok::<_, std::io::Error>(Some(buf));
            }
            if buf.len() >= 8192 {
                return Ok(None);
            }
            let n = s.read(&mut chunk).await?;
            if n == 0 {
                // Closed: a status line without CRLF is still one.
                return Ok((!buf.is_empty()).then_some(buf));
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    match tokio::time::timeout_at(deadline, exchange).await {
        Err(_) => (
            false,
            "L7TOUT".into(),
            format!("no status line within {timeout:?}"),
        ),
        Ok(Err(e)) => (false, "L7RSP".into(), e.to_string()),
        Ok(Ok(None)) => (false, "L7RSP".into(), "no HTTP status line".into()),
        Ok(Ok(Some(line))) => match parse_status_line(&line) {
            None => (
                false,
                "L7RSP".into(),
                format!(
                    "not an HTTP status line: {:?}",
                    String::from_utf8_lossy(&line[..line.len().min(80)])
                ),
            ),
            Some(code) if code == expected => (true, code.to_string(), String::new()),
            Some(code) => (
                false,
                code.to_string(),
                format!("status {code}, expected {expected}"),
            ),
        },
    }
}

/// What a probe task tells the controller.
#[derive(Debug, Clone)]
pub struct ProbeReport {
    pub backend: String,
    /// The task's generation: reports of a task replaced by a reload are dropped.
    pub generation: u64,
    pub outcome: Outcome,
    pub transition: Option<(State, State)>,
}

/// The probe loop of one backend: probe, count, report, sleep the adaptive interval (with
/// ±10 % jitter). The first probe comes after a small random delay (up to 10 % of the fast
/// interval), so many backends do not start in lockstep.
pub async fn run(
    backend: Backend,
    check: Check,
    generation: u64,
    metrics: std::sync::Arc<Metrics>,
    tx: UnboundedSender<super::Msg>,
) {
    let mut h = Health::new(check.rise, check.fall);
    metrics.backend_health(&backend.name, h.counter());
    tokio::time::sleep(check.fast_interval.mul_f64(0.1 * fastrand::f64())).await;
    loop {
        let outcome = probe(backend.address, &check).await;
        metrics.probe(&backend.name, check.kind.name(), &outcome);
        let transition = h.record(outcome.pass);
        metrics.backend_health(&backend.name, h.counter());
        let report = ProbeReport {
            backend: backend.name.clone(),
            generation,
            outcome,
            transition,
        };
        if tx.send(super::Msg::Probe(report)).is_err() {
            return;
        }
        let next = h.interval(check.interval, check.fast_interval, check.down_interval);
        tokio::time::sleep(jitter(next, 0.1, fastrand::f64())).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn status_lines() {
        assert_eq!(parse_status_line(b"HTTP/1.1 200 OK"), Some(200));
        assert_eq!(
            parse_status_line(b"HTTP/1.0 503 Service Unavailable"),
            Some(503)
        );
        assert_eq!(parse_status_line(b"HTTP/1.1 204"), Some(204));
        assert_eq!(parse_status_line(b"HTTP/2 200"), None);
        assert_eq!(parse_status_line(b"SSH-2.0-OpenSSH"), None);
        assert_eq!(parse_status_line(b"HTTP/1.1 20 OK"), None);
        assert_eq!(parse_status_line(b"HTTP/1.1 abc OK"), None);
        assert_eq!(parse_status_line(&[0xff, 0xfe]), None);
        assert_eq!(parse_status_line(b""), None);
    }

    fn check(kind: CheckKind, port: u16) -> Check {
        Check {
            name: "t".into(),
            kind,
            port,
            interval: Duration::from_millis(100),
            fast_interval: Duration::from_millis(100),
            down_interval: Duration::from_millis(100),
            timeout: Duration::from_millis(500),
            rise: 2,
            fall: 2,
        }
    }

    fn http_check(port: u16) -> Check {
        check(
            CheckKind::Http {
                path: "/healthz".into(),
                host: None,
                expected_code: 200,
            },
            port,
        )
    }

    /// A one-shot server answering each connection with `answer`.
    async fn server(answer: &'static [u8]) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let mut b = [0u8; 1024];
                    let _ = s.read(&mut b).await;
                    let _ = s.write_all(answer).await;
                });
            }
        });
        port
    }

    #[tokio::test]
    async fn http_and_tcp_probes() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let ok = server(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").await;
        let o = probe(lo, &http_check(ok)).await;
        assert!(o.pass, "{o:?}");
        assert_eq!(o.code, "200");
        let bad = server(b"HTTP/1.1 503 Service Unavailable\r\n\r\n").await;
        let o = probe(lo, &http_check(bad)).await;
        assert_eq!((o.pass, o.code.as_str()), (false, "503"));
        let junk = server(b"\x00\x01garbage without a line end").await;
        let o = probe(lo, &http_check(junk)).await;
        assert_eq!((o.pass, o.code.as_str()), (false, "L7RSP"), "{o:?}");
        let o = probe(lo, &check(CheckKind::Tcp, ok)).await;
        assert_eq!((o.pass, o.code.as_str()), (true, "L4OK"));
        // A closed port: refused.
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let closed = l.local_addr().unwrap().port();
        drop(l);
        let o = probe(lo, &check(CheckKind::Tcp, closed)).await;
        assert_eq!((o.pass, o.code.as_str()), (false, "L4CON"));
        // A server that never answers: L7 timeout, within the probe's timeout.
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let silent = l.local_addr().unwrap().port();
        let _keep = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = l.accept().await {
                held.push(s);
            }
        });
        let mut c = http_check(silent);
        c.timeout = Duration::from_millis(150);
        let o = probe(lo, &c).await;
        assert_eq!((o.pass, o.code.as_str()), (false, "L7TOUT"));
        assert!(o.duration < Duration::from_secs(2));
    }

    // ICMP: real sockets. Whether this process may open one (root, CAP_NET_RAW, or its group
    // inside net.ipv4.ping_group_range) is found out here directly, not through the module, and
    // the probe must agree either way.

    fn may_open_icmp(v6: bool) -> bool {
        use super::super::icmp::{new_socket, SocketKind};
        new_socket(v6, SocketKind::Raw).is_ok() || new_socket(v6, SocketKind::Ping).is_ok()
    }

    fn icmp_check(timeout: Duration) -> Check {
        let mut c = check(CheckKind::Icmp, 0);
        c.timeout = timeout;
        c
    }

    #[tokio::test]
    async fn icmp_probes_pass_on_loopback_or_say_eperm() {
        for (addr, v6) in [("127.0.0.1", false), ("::1", true)] {
            let o = probe(
                addr.parse().unwrap(),
                &icmp_check(Duration::from_millis(500)),
            )
            .await;
            if may_open_icmp(v6) {
                assert_eq!((o.pass, o.code.as_str()), (true, "L3OK"), "{addr}: {o:?}");
            } else {
                assert_eq!((o.pass, o.code.as_str()), (false, "EPERM"), "{addr}: {o:?}");
                assert!(o.detail.contains(super::super::icmp::REMEDY), "{o:?}");
            }
            assert!(o.duration < Duration::from_millis(600), "{o:?}");
        }
    }

    /// Addresses that never answer this probe: all-hosts multicast (IPv4) and a global-scope
    /// multicast group (IPv6; ff02::1 would need an interface). Our own host ignores echoes to
    /// them (icmp_echo_ignore_broadcasts is on by default; nothing joins ff0e::1) and any other
    /// host answers from its own unicast address, which the connected socket never delivers.
    /// (Not 192.0.2.1: that is a gateway that answers in some sandboxes.) So the probe fails
    /// with `timeout` where the packet leaves (this sandbox: both), or with the errno of the
    /// send where it cannot (no route: ENETUNREACH), within the timeout either way; `EPERM`
    /// without permission.
    #[tokio::test]
    async fn icmp_probes_of_a_silent_address_fail_within_the_timeout() {
        let t = Duration::from_millis(200);
        for (addr, v6) in [("224.0.0.1", false), ("ff0e::1", true)] {
            let o = probe(addr.parse().unwrap(), &icmp_check(t)).await;
            assert!(!o.pass, "{addr}: {o:?}");
            if may_open_icmp(v6) {
                assert!(
                    o.code == "timeout" || (o.code.starts_with('E') && o.code != "EPERM"),
                    "{addr}: {o:?}"
                );
                if o.code == "timeout" {
                    assert!(o.duration >= t, "{o:?}");
                }
            } else {
                assert_eq!(o.code, "EPERM", "{o:?}");
            }
            assert!(o.duration < Duration::from_secs(1), "{addr}: {o:?}");
        }
    }

    /// The task counts ICMP probes under `type="icmp"`.
    #[tokio::test]
    async fn icmp_probe_task_reports_and_counts() {
        let metrics = std::sync::Arc::new(Metrics::new());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let be = Backend {
            name: "lo".into(),
            address: "127.0.0.1".parse().unwrap(),
            check: None,
            enabled: true,
            weight: 100,
        };
        let task = tokio::spawn(run(
            be,
            icmp_check(Duration::from_millis(500)),
            1,
            metrics.clone(),
            tx,
        ));
        let Some(super::super::Msg::Probe(r)) = rx.recv().await else {
            panic!("no report");
        };
        task.abort();
        let want = if may_open_icmp(false) {
            "result=\"success\",code=\"L3OK\""
        } else {
            "result=\"failure\",code=\"EPERM\""
        };
        assert_eq!(r.outcome.pass, may_open_icmp(false), "{r:?}");
        let text = metrics.encode();
        assert!(
            text.contains(&format!(
                "maglev_probe_total{{backend=\"lo\",type=\"icmp\",{want}}} 1"
            )),
            "{text}"
        );
    }
}
