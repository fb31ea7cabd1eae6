//! Helpers for the `shm_recv` fuzz target (not a stable API): a server segment with a client
//! attached, and ways to put fuzz-chosen queue elements and msgbuf contents where the client's
//! receive path will look, without touching any glibc lock word.

use std::time::Duration;

use bytes::BytesMut;

use crate::seg::{MB_SIZE, Q_HDR};
use crate::{ClientSegment, Recv, RingConfig, RingKind, ServerSegment, ShmError};

fn take<const N: usize>(d: &mut &[u8]) -> Option<[u8; N]> {
    let (h, t) = d.split_first_chunk::<N>()?;
    *d = t;
    Some(*h)
}

/// The body of the `shm_recv` fuzz target: the input chooses queue elements (addresses inside,
/// at the edges and outside the segment) and msgbuf headers/bodies at ring slots, then the
/// client's receive path runs over them. Panics only on a bug.
pub fn run_recv(data: &[u8]) -> crate::ClientStats {
    let Ok(mut h) = Harness::new() else {
        return Default::default();
    };
    let mut d = data;
    let mut steps = 0;
    while let Some([op, pick, jitter]) = take::<3>(&mut d) {
        steps += 1;
        if steps > 64 {
            break;
        }
        let addr = match op >> 6 {
            0 => h.candidate(pick, jitter),
            1 => match take::<8>(&mut d) {
                Some(b) => u64::from_le_bytes(b),
                None => break,
            },
            _ => h.candidate(pick, jitter).wrapping_add((op & 0x3f) as u64),
        };
        match op & 3 {
            0 | 1 => {
                let Some([qsel, l0, l1, l2, l3, g0, blen]) = take::<7>(&mut d) else {
                    break;
                };
                let (vl, cl) = h.server.ring_queue_addrs();
                let q = match qsel % 5 {
                    0 => 0,
                    1 => vl[(qsel as usize / 5) % vl.len()],
                    2 => cl[0],
                    3 => h.server.vpp_base() + qsel as u64,
                    _ => u64::from(qsel) << 40,
                };
                // small lengths most of the time, so that messages are accepted too
                let len = if op & 0x20 != 0 {
                    u32::from_le_bytes([l0, l1, l2, l3])
                } else {
                    (l0 as u32).to_be()
                };
                let n = (blen as usize).min(d.len());
                let (body, rest) = d.split_at(n);
                d = rest;
                h.write_msgbuf(addr, q, len, g0 as u32, body);
                h.push_own(addr);
            }
            2 => {
                h.push_own(addr);
            }
            _ => {
                while !matches!(h.recv(), Ok(Recv::Empty) | Err(_)) {}
                h.drain_server();
            }
        }
    }
    for _ in 0..1100 {
        match h.recv() {
            Ok(Recv::Empty) | Err(_) => break,
            Ok(_) => h.drain_server(),
        }
    }
    h.client.stats()
}

/// A server segment and a client attached to it (two mappings, so addresses relocate).
pub struct Harness {
    /// The server ("VPP") side.
    pub server: ServerSegment,
    /// The client side.
    pub client: ClientSegment,
    buf: BytesMut,
    scratch: Vec<u8>,
}

/// The small config the harness uses.
pub fn harness_configs() -> Vec<RingConfig> {
    let c = |kind, size, count| RingConfig { kind, count, size };
    vec![
        c(RingKind::Vlib, 64, 4),
        c(RingKind::Vlib, 512, 2),
        c(RingKind::Client, 64, 4),
        c(RingKind::Queue, 8, 1024),
    ]
}

impl Harness {
    /// A 1 MiB segment with [`harness_configs`].
    pub fn new() -> Result<Harness, ShmError> {
        let cfg = harness_configs();
        let (server, fd) = ServerSegment::create("fuzz", 1 << 20, &cfg, std::process::id())?;
        let client = ClientSegment::attach(fd, &cfg)?;
        Ok(Harness {
            server,
            client,
            buf: BytesMut::new(),
            scratch: Vec::new(),
        })
    }

    /// Interesting addresses: ring slot bodies, queue data, page 0, the segment edges, beyond.
    pub fn candidate(&self, pick: u8, jitter: u8) -> u64 {
        let s = self.server.vpp_base();
        let z = self.server.size();
        let (vl, cl) = self.server.ring_queue_addrs();
        let rings: Vec<u64> = vl.iter().chain(cl.iter()).copied().collect();
        let j = jitter as u64;
        match pick % 8 {
            0 => rings[(j as usize) % rings.len()] + Q_HDR as u64 + MB_SIZE as u64,
            1 => rings[(j as usize) % rings.len()] + Q_HDR as u64 + 72 * (j % 4) + 16,
            2 => s + z - j,
            3 => s + z + j,
            4 => s.wrapping_sub(j),
            5 => s + 16 + j,
            6 => self.client.own_queue_addr() + j,
            _ => (j << 56) | (j << 8),
        }
    }

    /// Write a msgbuf header and body at `body_addr - 16`, clipped to the data areas of the ring
    /// queues (never a queue header, so no lock word is touched). False if nothing was written.
    pub fn write_msgbuf(
        &self,
        body_addr: u64,
        q: u64,
        data_len_be: u32,
        gc: u32,
        body: &[u8],
    ) -> bool {
        let (vl, cl) = self.server.ring_queue_addrs();
        let Some(mb) = body_addr.checked_sub(MB_SIZE as u64) else {
            return false;
        };
        let mut bytes = Vec::with_capacity(16 + body.len());
        bytes.extend_from_slice(&q.to_ne_bytes());
        bytes.extend_from_slice(&data_len_be.to_ne_bytes());
        bytes.extend_from_slice(&gc.to_ne_bytes());
        bytes.extend_from_slice(body);
        for rq in vl.iter().chain(cl.iter()) {
            let Ok(st) = self.server.queue_state(*rq) else {
                continue;
            };
            let Ok(hdr) = self.server.read_vpp(*rq + Q_HDR as u64 - 16, 16) else {
                continue;
            };
            let elsize = u32::from_ne_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]) as u64;
            let start = rq + Q_HDR as u64;
            let end = start + st.maxsize as u64 * elsize;
            if mb >= start && mb < end {
                let n = bytes.len().min((end - mb) as usize);
                return self.server.write_vpp(mb, &bytes[..n]).is_ok();
            }
        }
        false
    }

    /// Put an element into the client's own queue (nowait). False if full.
    pub fn push_own(&self, elem: u64) -> bool {
        self.server
            .enqueue_raw(self.client.own_queue_addr(), elem, Duration::ZERO)
            .unwrap_or(false)
    }

    /// One non-blocking receive; checks that what was appended is bounded by the segment.
    pub fn recv(&mut self) -> Result<Recv, ShmError> {
        self.buf.clear();
        let r = self.client.try_recv_into(&mut self.buf);
        if let Ok(Recv::Message(n)) = &r {
            assert_eq!(*n, self.buf.len());
            assert!((*n as u64) < self.server.size());
        }
        r
    }

    /// Let the server consume (and free) whatever the client handed back.
    pub fn drain_server(&mut self) {
        for _ in 0..4096 {
            match self.server.take_request(&mut self.scratch) {
                Ok(Some(req)) => self.server.free_request(&req),
                Ok(None) => break,
                Err(_) => {}
            }
        }
    }
}

/// Lock the client's own queue mutex and never unlock it (the calling thread "dies holding the
/// lock" when it exits): for the EOWNERDEAD test.
pub fn hold_own_queue_lock(client: &ClientSegment) -> Result<(), ShmError> {
    let g = client.own.lock(&client.seg, Some(Duration::from_secs(1)))?;
    std::mem::forget(g);
    Ok(())
}
