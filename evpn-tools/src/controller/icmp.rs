//! ICMP echo probes (`type: icmp`, operator-tools.md §4.5: "ICMP where permitted"): one echo
//! request per probe (ICMP type 8 to an IPv4 backend, ICMPv6 type 128 to an IPv6 one), passed by
//! the matching echo reply within the check's timeout.
//!
//! * **Sockets.** A raw socket (`SOCK_RAW`, needs root or `CAP_NET_RAW`) first; if the kernel
//!   refuses it (`EPERM`/`EACCES`), the unprivileged ping socket (`SOCK_DGRAM` with the ICMP
//!   protocol, allowed when the process's group is inside `net.ipv4.ping_group_range`, which
//!   governs IPv6 too). The first kind that opens is remembered per address family for the
//!   rest of the process; while neither opens, every probe tries again (two `socket()` calls),
//!   so granting the capability or widening the range takes effect without a restart, and the
//!   probe fails with code `EPERM` and [`REMEDY`] as its detail (which the state transition's
//!   event carries). Nothing panics and `--check` opens no socket.
//! * **One socket per probe, connected to the backend.** `connect` makes the kernel deliver
//!   only datagrams from that address (raw and ping sockets alike), so the replies of other
//!   backends, or of another controller, never reach this probe; a random payload token and the
//!   sequence number tell this probe's reply from an earlier late one.
//! * **Matching.** A raw IPv4 socket returns the IP header first (skipped by its IHL); raw
//!   ICMPv6 and ping sockets return the ICMP message alone. Raw sockets see all ICMP traffic
//!   of the peer (our own request on loopback, errors, other pings): anything but an echo reply
//!   with our identifier, sequence and payload is ignored until the deadline. A ping socket's
//!   identifier is the kernel's (it rewrites it), so there only sequence and payload count.
//! * **Checksums.** ICMPv4's is ours (RFC 1071; a ping socket recomputes it after rewriting
//!   the identifier); ICMPv6's needs the pseudo-header and the kernel always fills it in for
//!   ICMPv6 raw and ping sockets (RFC 3542 §3.1).
//! * **Safe Rust.** The non-blocking socket is handed to tokio as a
//!   [`tokio::net::UdpSocket`] (`send`/`recv` on a connected datagram fd, which a raw or
//!   ping socket is as much as a UDP one): no `unsafe`, and replies are read into an
//!   initialised buffer. (`AsyncFd::new` would do too, but tokio 1.54 deprecates it as unsound
//!   and its replacement, `AsyncFd::register`, is `unsafe`.)
//!
//! Codes: `L3OK` on a reply, `timeout` without one, else the errno's name (`ENETUNREACH`,
//! `EHOSTUNREACH`, `EPERM`, ...).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// What a probe says when no ICMP socket can be opened.
pub const REMEDY: &str = "icmp probes need root, CAP_NET_RAW or net.ipv4.ping_group_range";

/// The code of a passed ICMP probe.
pub const OK: &str = "L3OK";

/// ICMP types.
const ECHO_REQUEST_V4: u8 = 8;
const ECHO_REPLY_V4: u8 = 0;
const ECHO_REQUEST_V6: u8 = 128;
const ECHO_REPLY_V6: u8 = 129;

/// The payload's fixed part (a random token follows).
const MAGIC: &[u8; 16] = b"evpn-tools lb  \0";

/// Which kind of socket carries the probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketKind {
    /// `SOCK_RAW`: root or `CAP_NET_RAW`.
    Raw,
    /// `SOCK_DGRAM` + ICMP: the kernel's unprivileged ping socket.
    Ping,
}

/// A failed probe: its code (`timeout`, `EPERM`, an errno name) and what happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub code: String,
    pub detail: String,
}

impl Failure {
    fn io(what: &str, e: &io::Error) -> Failure {
        Failure {
            code: errno_name(e),
            detail: format!("{what}: {e}"),
        }
    }
}

static KIND_V4: OnceLock<SocketKind> = OnceLock::new();
static KIND_V6: OnceLock<SocketKind> = OnceLock::new();
static SEQUENCE: AtomicU16 = AtomicU16::new(0);

fn cache(v6: bool) -> &'static OnceLock<SocketKind> {
    if v6 {
        &KIND_V6
    } else {
        &KIND_V4
    }
}

/// A new ICMP socket of `kind` for IPv4 or IPv6 (blocking, unconnected).
pub fn new_socket(v6: bool, kind: SocketKind) -> io::Result<Socket> {
    let (domain, protocol) = if v6 {
        (Domain::IPV6, Protocol::ICMPV6)
    } else {
        (Domain::IPV4, Protocol::ICMPV4)
    };
    let ty = match kind {
        SocketKind::Raw => Type::RAW,
        SocketKind::Ping => Type::DGRAM,
    };
    Socket::new(domain, ty, Some(protocol))
}

fn denied(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied || matches!(e.raw_os_error(), Some(1 | 13))
}

/// Opens an ICMP socket for the family: the kind that worked before, else raw and then ping.
/// Neither permitted: `EPERM` with [`REMEDY`]; another error: its errno name.
pub fn open(v6: bool) -> Result<(Socket, SocketKind), Failure> {
    if let Some(&kind) = cache(v6).get() {
        return new_socket(v6, kind)
            .map(|s| (s, kind))
            .map_err(|e| Failure::io("icmp socket", &e));
    }
    let raw = match new_socket(v6, SocketKind::Raw) {
        Ok(s) => {
            let _ = cache(v6).set(SocketKind::Raw);
            return Ok((s, SocketKind::Raw));
        }
        Err(e) if denied(&e) => e,
        Err(e) => return Err(Failure::io("raw icmp socket", &e)),
    };
    match new_socket(v6, SocketKind::Ping) {
        Ok(s) => {
            let _ = cache(v6).set(SocketKind::Ping);
            Ok((s, SocketKind::Ping))
        }
        Err(ping) if denied(&ping) => Err(Failure {
            code: "EPERM".into(),
            detail: format!(
                "{REMEDY} (raw socket: {}, ping socket: {})",
                errno_name(&raw),
                errno_name(&ping)
            ),
        }),
        Err(e) => Err(Failure::io("ping icmp socket", &e)),
    }
}

/// Which socket kind ICMP probes of the family use, opening one to find out (and caching the
/// answer like [`open`]).
pub fn available(v6: bool) -> Result<SocketKind, Failure> {
    open(v6).map(|(_, k)| k)
}

/// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of the
/// 16-bit big-endian words, an odd last byte padded with zero.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An echo request: type, code 0, checksum (IPv4 only; 0 for the kernel to fill in for
/// ICMPv6), identifier, sequence, payload.
pub fn echo_request(v6: bool, ident: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(8 + payload.len());
    p.push(if v6 { ECHO_REQUEST_V6 } else { ECHO_REQUEST_V4 });
    p.push(0);
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(&ident.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(payload);
    if !v6 {
        let c = checksum(&p);
        p[2..4].copy_from_slice(&c.to_be_bytes());
    }
    p
}

/// An echo reply as read from a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply<'a> {
    pub ident: u16,
    pub seq: u16,
    pub payload: &'a [u8],
}

/// The echo reply in `buf`, if it is one: a raw IPv4 socket's datagram starts with the IP
/// header (`ip_header`), skipped by its IHL; anything else (other ICMP types, short or
/// malformed datagrams) is `None`.
pub fn parse_reply(buf: &[u8], v6: bool, ip_header: bool) -> Option<Reply<'_>> {
    let icmp = if ip_header {
        let first = *buf.first()?;
        let ihl = usize::from(first & 0x0f) * 4;
        if first >> 4 != 4 || ihl < 20 {
            return None;
        }
        buf.get(ihl..)?
    } else {
        buf
    };
    if icmp.len() < 8 {
        return None;
    }
    let want = if v6 { ECHO_REPLY_V6 } else { ECHO_REPLY_V4 };
    if icmp[0] != want || icmp[1] != 0 {
        return None;
    }
    Some(Reply {
        ident: u16::from_be_bytes([icmp[4], icmp[5]]),
        seq: u16::from_be_bytes([icmp[6], icmp[7]]),
        payload: &icmp[8..],
    })
}

/// One echo to `address` over the socket kind [`open`] picks: `Ok` on the matching reply
/// within `timeout`.
pub async fn echo(address: IpAddr, timeout: Duration) -> Result<(), Failure> {
    let address = address.to_canonical();
    let (socket, kind) = open(address.is_ipv6())?;
    echo_on(socket, kind, address, timeout).await
}

/// One echo over `socket` (a fresh socket of `kind` for `address`'s family).
pub async fn echo_on(
    socket: Socket,
    kind: SocketKind,
    address: IpAddr,
    timeout: Duration,
) -> Result<(), Failure> {
    let deadline = tokio::time::Instant::now() + timeout;
    let v6 = address.is_ipv6();
    // Connected: the kernel then delivers only what the backend sends (and reports a send
    // error such as ENETUNREACH here already).
    socket
        .connect(&SockAddr::from(SocketAddr::new(address, 0)))
        .map_err(|e| Failure::io("connect", &e))?;
    socket
        .set_nonblocking(true)
        .map_err(|e| Failure::io("icmp socket", &e))?;
    // tokio's datagram socket is a thin layer over send(2)/recv(2) on any datagram-like fd,
    // raw ones included; it takes the socket safely (AsyncFd's safe constructor is deprecated
    // as unsound in tokio 1.54, its replacement is unsafe) and reads into an initialised
    // buffer.
    let sock = tokio::net::UdpSocket::from_std(std::net::UdpSocket::from(socket))
        .map_err(|e| Failure::io("icmp socket", &e))?;

    let ident = fastrand::u16(..);
    let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let mut payload = MAGIC.to_vec();
    payload.extend_from_slice(&fastrand::u64(..).to_be_bytes());
    let request = echo_request(v6, ident, seq, &payload);

    let raw = kind == SocketKind::Raw;
    let exchange = async {
        sock.send(&request).await.map_err(|e| ("send", e))?;
        let mut buf = [0u8; 2048];
        loop {
            let n = sock.recv(&mut buf).await.map_err(|e| ("receive", e))?;
            let Some(r) = parse_reply(&buf[..n], v6, raw && !v6) else {
                continue;
            };
            if r.seq == seq && r.payload == payload.as_slice() && (!raw || r.ident == ident) {
                return Ok::<_, (&str, io::Error)>(());
            }
        }
    };
    match tokio::time::timeout_at(deadline, exchange).await {
        Err(_) => Err(Failure {
            code: "timeout".into(),
            detail: format!("no echo reply within {timeout:?}"),
        }),
        Ok(Err((what, e))) => Err(Failure::io(what, &e)),
        Ok(Ok(())) => Ok(()),
    }
}

/// The errno's name (Linux numbers), else the error kind.
pub fn errno_name(e: &io::Error) -> String {
    let name = match e.raw_os_error() {
        Some(1) => "EPERM",
        Some(2) => "ENOENT",
        Some(4) => "EINTR",
        Some(5) => "EIO",
        Some(9) => "EBADF",
        Some(11) => "EAGAIN",
        Some(12) => "ENOMEM",
        Some(13) => "EACCES",
        Some(14) => "EFAULT",
        Some(19) => "ENODEV",
        Some(22) => "EINVAL",
        Some(23) => "ENFILE",
        Some(24) => "EMFILE",
        Some(32) => "EPIPE",
        Some(90) => "EMSGSIZE",
        Some(92) => "ENOPROTOOPT",
        Some(93) => "EPROTONOSUPPORT",
        Some(94) => "ESOCKTNOSUPPORT",
        Some(95) => "EOPNOTSUPP",
        Some(97) => "EAFNOSUPPORT",
        Some(99) => "EADDRNOTAVAIL",
        Some(100) => "ENETDOWN",
        Some(101) => "ENETUNREACH",
        Some(105) => "ENOBUFS",
        Some(110) => "ETIMEDOUT",
        Some(111) => "ECONNREFUSED",
        Some(112) => "EHOSTDOWN",
        Some(113) => "EHOSTUNREACH",
        Some(n) => return format!("E{n}"),
        None => return format!("{:?}", e.kind()),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_checksum() {
        // RFC 1071 §3's example: the sum of 0001 f203 f4f5 f6f7 is ddf2, its complement 220d.
        assert_eq!(
            checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0x220d
        );
        // An odd length pads with zero; a datagram with its checksum in place sums to 0.
        assert_eq!(checksum(&[0xab]), !0xab00);
        let p = echo_request(false, 0x1234, 7, b"hello");
        assert_eq!(checksum(&p), 0);
        assert_eq!(&p[..2], &[8, 0]);
        assert_eq!(&p[4..8], &[0x12, 0x34, 0, 7]);
        // ICMPv6: type 128, checksum left to the kernel.
        let p = echo_request(true, 1, 2, b"x");
        assert_eq!(p, vec![128, 0, 0, 0, 0, 1, 0, 2, b'x']);
    }

    #[test]
    fn replies_are_parsed_and_everything_else_ignored() {
        let mut reply = echo_request(false, 0xbeef, 9, b"data");
        reply[0] = 0;
        let r = parse_reply(&reply, false, false).unwrap();
        assert_eq!((r.ident, r.seq, r.payload), (0xbeef, 9, &b"data"[..]));
        // Behind an IPv4 header with options (IHL 6: 24 bytes).
        let mut ip = vec![0x46];
        ip.resize(24, 0);
        ip.extend_from_slice(&reply);
        assert_eq!(parse_reply(&ip, false, true), Some(r.clone()));
        // Requests, errors, truncated and non-IPv4 data: not replies.
        let req = echo_request(false, 0xbeef, 9, b"data");
        assert_eq!(parse_reply(&req, false, false), None);
        assert_eq!(parse_reply(&[3, 1, 0, 0, 0, 0, 0], false, false), None);
        assert_eq!(parse_reply(&ip[..28], false, true), None);
        assert_eq!(parse_reply(&[0x45], false, true), None);
        assert_eq!(parse_reply(&[], false, true), None);
        assert_eq!(parse_reply(&[0x60; 40], false, true), None);
        // ICMPv6: 129 is the reply, 128 the request.
        let mut v6 = echo_request(true, 1, 2, b"x");
        assert_eq!(parse_reply(&v6, true, false), None);
        v6[0] = 129;
        assert_eq!(parse_reply(&v6, true, false).unwrap().seq, 2);
        assert_eq!(parse_reply(&v6, false, false), None);
    }

    /// Every socket kind this process may open gets loopback's reply (as root: raw always,
    /// ping where net.ipv4.ping_group_range takes group 0); one it may not is refused with
    /// EPERM or EACCES, which is what [`open`] turns into its EPERM with the remedy.
    #[tokio::test]
    async fn each_socket_kind_that_opens_gets_loopback_s_reply() {
        for (addr, v6) in [("127.0.0.1", false), ("::1", true)] {
            for kind in [SocketKind::Raw, SocketKind::Ping] {
                match new_socket(v6, kind) {
                    Ok(s) => {
                        let r = echo_on(s, kind, addr.parse().unwrap(), Duration::from_millis(500))
                            .await;
                        assert_eq!(r, Ok(()), "{addr} {kind:?}");
                    }
                    Err(e) => assert!(denied(&e), "{addr} {kind:?}: {e}"),
                }
            }
        }
        match (available(false), new_socket(false, SocketKind::Raw).is_ok()) {
            (Ok(k), raw) => assert_eq!(k == SocketKind::Raw, raw),
            (Err(f), raw) => {
                assert!(!raw);
                assert_eq!(f.code, "EPERM");
                assert!(f.detail.starts_with(REMEDY), "{f:?}");
            }
        }
    }

    #[test]
    fn errno_names() {
        let e = |n| io::Error::from_raw_os_error(n);
        assert_eq!(errno_name(&e(1)), "EPERM");
        assert_eq!(errno_name(&e(101)), "ENETUNREACH");
        assert_eq!(errno_name(&e(113)), "EHOSTUNREACH");
        assert_eq!(errno_name(&e(4095)), "E4095");
        assert_eq!(errno_name(&io::Error::other("x")), "Other");
    }
}
