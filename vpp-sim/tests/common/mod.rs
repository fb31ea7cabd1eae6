//! A tiny raw client (std, blocking) and simulator setup shared by the tests.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use vpp_sim::table::MessageTable;
use vpp_sim::{SimConfig, Simulator};

pub struct TestSim {
    pub rt: tokio::runtime::Runtime,
    pub sim: Option<Simulator>,
    pub dir: tempfile::TempDir,
}

impl TestSim {
    pub fn start(f: impl FnOnce(&mut SimConfig)) -> TestSim {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = SimConfig::new(dir.path().join("api.sock"));
        f(&mut cfg);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let sim = rt.block_on(Simulator::start(cfg)).unwrap();
        TestSim {
            rt,
            sim: Some(sim),
            dir,
        }
    }
    pub fn sim(&self) -> &Simulator {
        self.sim.as_ref().unwrap()
    }
    pub fn path(&self) -> PathBuf {
        self.sim().socket().to_path_buf()
    }
    pub fn client(&self) -> Raw {
        Raw::connect(&self.path())
    }
}

impl Drop for TestSim {
    fn drop(&mut self) {
        let _guard = self.rt.enter();
        self.sim.take();
    }
}

pub fn id(name: &str) -> u16 {
    MessageTable::vpp_26_06().id(name).unwrap()
}

pub struct Raw {
    pub s: UnixStream,
    pub index: [u8; 4],
}

impl Raw {
    pub fn connect(p: &Path) -> Raw {
        let s = UnixStream::connect(p).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Raw { s, index: [0; 4] }
    }
    pub fn send(&mut self, body: &[u8]) {
        let mut f = vec![0u8; 16];
        f[8..12].copy_from_slice(&(body.len() as u32).to_be_bytes());
        f.extend_from_slice(body);
        self.s.write_all(&f).unwrap();
    }
    /// Next frame (header + body), or None on timeout / EOF.
    pub fn recv(&mut self) -> Option<Vec<u8>> {
        let mut h = [0u8; 16];
        self.s.read_exact(&mut h).ok()?;
        let len = u32::from_be_bytes(h[8..12].try_into().unwrap()) as usize;
        let mut f = h.to_vec();
        f.resize(16 + len, 0);
        self.s.read_exact(&mut f[16..]).ok()?;
        Some(f)
    }
    pub fn recv_timeout(&mut self, d: Duration) -> Option<Vec<u8>> {
        self.s.set_read_timeout(Some(d)).unwrap();
        let r = self.recv();
        self.s
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        r
    }
    /// `sockclnt_create`; returns the reply body.
    pub fn handshake(&mut self, name: &str) -> Vec<u8> {
        let mut b = vec![0, 15, 0, 0, 0, 1];
        let mut n = [0u8; 64];
        n[..name.len()].copy_from_slice(name.as_bytes());
        b.extend_from_slice(&n);
        self.send(&b);
        let r = self.recv().expect("sockclnt_create_reply");
        self.index.copy_from_slice(&r[16 + 14..16 + 18]);
        r[16..].to_vec()
    }
    /// A request body: id, client_index, context, then `rest`.
    pub fn req(&self, name: &str, ctx: u32, rest: &[u8]) -> Vec<u8> {
        let mut b = id(name).to_be_bytes().to_vec();
        b.extend_from_slice(&self.index);
        b.extend_from_slice(&ctx.to_be_bytes());
        b.extend_from_slice(rest);
        b
    }
    pub fn call(&mut self, name: &str, ctx: u32, rest: &[u8]) -> Vec<u8> {
        let b = self.req(name, ctx, rest);
        self.send(&b);
        self.recv().expect("reply")[16..].to_vec()
    }
}

pub fn be32(b: &[u8], off: usize) -> u32 {
    u32::from_be_bytes(b[off..off + 4].try_into().unwrap())
}
pub fn rv(b: &[u8]) -> i32 {
    be32(b, 6) as i32
}
