//! The LB plugin (lb.api 1.1.0) as VPP 26.06 really behaves, handler bugs included
//! (`vpp-wire.md` 7.6 and the `lb` recording):
//! * prefix lengths are used as ip46 lengths: an IPv4 VIP needs `96 + len`, with a plain
//!   `len <= 32` it is taken as IPv6 and normalised (`192.0.2.1/32` becomes `::/32`);
//! * `encap` is compared without `ntohl` (read here as the little-endian value of its bytes);
//!   with no match the type stays 0 (`ip6-gre6`); `type` is its first byte;
//! * dumps report the internal prefix length, `protocol` 0, the internal VIP type as `encap`,
//!   `flow_table_length` 0, deleted VIPs and removed ("soft-deleted") ASes;
//! * `lb_as_dump` ignores its filter when the address is all zeros, otherwise compares the raw
//!   union with the ip46 form and the port without `ntohs`.

use crate::model::{err, rv_reply, Outbox, Req};
use crate::wire::{address_from_ip46, ip46_from_address, ip46_is_ip4, mask_prefix, FrameWriter};

/// `lb_vip_type_t`.
const TYPE_NAMES: [&str; 9] = [
    "ip6-gre6",
    "ip6-gre4",
    "ip4-gre6",
    "ip4-gre4",
    "ip4-l3dsr",
    "ip4-nat4",
    "ip6-nat6",
    "ip4-nodeport",
    "ip6-nodeport",
];
const IP6_GRE6: u8 = 0;
const IP6_GRE4: u8 = 1;
const IP4_GRE6: u8 = 2;
const IP4_GRE4: u8 = 3;
const IP4_L3DSR: u8 = 4;
const IP4_NAT4: u8 = 5;
const IP6_NAT6: u8 = 6;

/// First `dpo` index the recorded VPP gave an AS (its FIB had allocated 12 before).
const FIRST_DPO: u32 = 13;

#[derive(Debug, Clone)]
pub struct Vip {
    pub index: u32,
    pub prefix: [u8; 16],
    pub plen: u8,
    pub protocol: u8,
    /// Host order.
    pub port: u16,
    pub vtype: u8,
    pub new_len: u32,
    pub dscp: u8,
    pub srv_type: u8,
    pub target_port: u16,
    pub deleted: bool,
    pub ases: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct As {
    pub addr: [u8; 16],
    pub used: bool,
    pub last_used: u32,
    pub dpo: u32,
}

#[derive(Debug, Clone)]
pub struct LbConf {
    pub ip4_src: [u8; 4],
    pub ip6_src: [u8; 16],
    pub sticky_buckets_per_core: u32,
    pub flow_timeout: u32,
}

#[derive(Debug, Clone)]
pub struct Lb {
    pub conf: LbConf,
    /// Pool index 0 is LB's reserved default VIP.
    pub vips: Vec<Vip>,
    pub ases: Vec<As>,
    next_dpo: u32,
}

impl Default for Lb {
    fn default() -> Self {
        Lb {
            conf: LbConf {
                ip4_src: [0; 4],
                ip6_src: [0; 16],
                sticky_buckets_per_core: 1024,
                flow_timeout: 40,
            },
            vips: Vec::new(),
            ases: Vec::new(),
            next_dpo: FIRST_DPO,
        }
    }
}

fn is_ip4_type(t: u8) -> bool {
    matches!(t, IP4_GRE6 | IP4_GRE4 | IP4_L3DSR | IP4_NAT4 | 7)
}

/// Whether ASes of a VIP type are IPv4 (the encap's underlay).
fn as_is_ip4(t: u8) -> bool {
    matches!(t, IP6_GRE4 | IP4_GRE4 | IP4_L3DSR | IP4_NAT4 | 7)
}

fn prefix_is_ip4(p: &[u8; 16], plen: u8) -> bool {
    plen >= 96 && ip46_is_ip4(p)
}

impl Lb {
    pub fn handle(&mut self, name: &str, r: &Req, out: &mut Outbox, now: u32) -> bool {
        match name {
            "lb_conf" => self.conf(r, out),
            "lb_add_del_vip" => self.add_del_vip(r, out, 48),
            "lb_add_del_vip_v2" => self.add_del_vip(r, out, 49),
            "lb_add_del_as" => self.add_del_as(r, out, now),
            "lb_flush_vip" => rv_reply(out, r, 0),
            "lb_vip_dump" => self.vip_dump(r, out),
            "lb_as_dump" => self.as_dump(r, out),
            _ => return false,
        }
        true
    }

    fn conf(&mut self, r: &Req, out: &mut Outbox) {
        let b = r.body;
        let (sticky, timeout) = (b.u32(30), b.u32(34));
        if sticky != u32::MAX && !sticky.is_power_of_two() {
            return rv_reply(out, r, err::INVALID_MEMORY_SIZE);
        }
        self.conf.ip4_src = b.arr(10).unwrap_or_default();
        self.conf.ip6_src = b.arr(14).unwrap_or_default();
        if sticky != u32::MAX {
            self.conf.sticky_buckets_per_core = sticky;
        }
        if timeout != u32::MAX {
            self.conf.flow_timeout = timeout;
        }
        rv_reply(out, r, 0);
    }

    /// The VIP's key as the handlers build it: raw union as ip46, the raw length, protocol
    /// forced to 255 for all-port VIPs, port in host order.
    fn key(r: &Req) -> ([u8; 16], u8, u8, u16) {
        let b = r.body;
        let mut prefix = ip46_from_address(b.bytes(10, 17));
        let plen = b.u8(27);
        mask_prefix(&mut prefix, plen);
        let port = b.u16(29);
        let protocol = if port == 0 { 255 } else { b.u8(28) };
        (prefix, plen, protocol, port)
    }

    fn find(&self, k: &([u8; 16], u8, u8, u16)) -> Option<usize> {
        self.vips.iter().position(|v| {
            !v.deleted && (v.prefix, v.plen, v.protocol, v.port) == *k && v.index != 0
        })
    }

    fn add_del_vip(&mut self, r: &Req, out: &mut Outbox, is_del_off: usize) {
        let b = r.body;
        let k = Self::key(r);
        if b.bool(is_del_off) {
            let rv = match self.find(&k) {
                None => err::NO_SUCH_ENTRY,
                Some(v) => {
                    let ases = self.vips[v].ases.clone();
                    for a in ases {
                        self.ases[a].used = false;
                    }
                    self.vips[v].deleted = true;
                    0
                }
            };
            return rv_reply(out, r, rv);
        }
        // Compared without ntohl: the value of the bytes in host (little-endian) order.
        let encap = u32::from_le_bytes(b.arr(31).unwrap_or_default());
        let v4 = prefix_is_ip4(&k.0, k.1);
        let vtype = match (v4, encap) {
            (true, 0) => IP4_GRE4,
            (true, 1) => IP4_GRE6,
            (true, 2) => IP4_L3DSR,
            (true, 3) => IP4_NAT4,
            (false, 0) => IP6_GRE4,
            (false, 1) => IP6_GRE6,
            (false, 4) => IP6_NAT6,
            _ => IP6_GRE6,
        };
        let new_len = b.u32(44);
        let rv = if self.find(&k).is_some() {
            err::VALUE_EXIST
        } else if !new_len.is_power_of_two() {
            err::INVALID_MEMORY_SIZE
        } else if v4 != is_ip4_type(vtype) {
            err::INVALID_ADDRESS_FAMILY
        } else {
            if self.vips.is_empty() {
                self.vips.push(Vip {
                    index: 0,
                    prefix: [0; 16],
                    plen: 0,
                    protocol: 0,
                    port: 0,
                    vtype: 0,
                    new_len: 0,
                    dscp: 0,
                    srv_type: 0,
                    target_port: 0,
                    deleted: true,
                    ases: vec![],
                });
            }
            let nat = encap == 3 || encap == 4;
            self.vips.push(Vip {
                index: self.vips.len() as u32,
                prefix: k.0,
                plen: k.1,
                protocol: k.2,
                port: k.3,
                vtype,
                new_len,
                dscp: if encap == 2 { b.u8(35) & 0x3f } else { 0 },
                srv_type: if nat { b.u8(36) } else { 0 },
                target_port: if nat { b.u16(40) } else { 0 },
                deleted: false,
                ases: vec![],
            });
            0
        };
        rv_reply(out, r, rv);
    }

    fn add_del_as(&mut self, r: &Req, out: &mut Outbox, now: u32) {
        let b = r.body;
        let k = Self::key(r);
        let addr = ip46_from_address(b.bytes(31, 17));
        let (is_del, _flush) = (b.bool(48), b.bool(49));
        let Some(v) = self.find(&k) else {
            return rv_reply(out, r, err::NO_SUCH_ENTRY);
        };
        let existing = self.vips[v]
            .ases
            .iter()
            .copied()
            .find(|&a| self.ases[a].addr == addr);
        let rv = if is_del {
            match existing {
                Some(a) if self.ases[a].used => {
                    self.ases[a].used = false;
                    self.ases[a].last_used = now;
                    0
                }
                _ => err::NO_SUCH_ENTRY,
            }
        } else if ip46_is_ip4(&addr) != as_is_ip4(self.vips[v].vtype) {
            err::INVALID_ADDRESS_FAMILY
        } else {
            match existing {
                Some(a) if self.ases[a].used => err::VALUE_EXIST,
                Some(a) => {
                    self.ases[a].used = true;
                    0
                }
                None => {
                    if self.ases.is_empty() {
                        // AS 0 is LB's reserved default AS.
                        self.ases.push(As {
                            addr: [0; 16],
                            used: false,
                            last_used: 0,
                            dpo: 0,
                        });
                    }
                    self.ases.push(As {
                        addr,
                        used: true,
                        last_used: 0,
                        dpo: self.next_dpo,
                    });
                    self.next_dpo += 1;
                    self.vips[v].ases.push(self.ases.len() - 1);
                    0
                }
            }
        };
        rv_reply(out, r, rv);
    }

    fn write_vip(w: &mut FrameWriter, v: &Vip) {
        w.bytes(&address_from_ip46(&v.prefix))
            .u8(v.plen)
            .u8(0) // low byte of htonl(protocol)
            .u16(v.port);
    }

    fn vip_dump(&self, r: &Req, out: &mut Outbox) {
        let buf = out.buf(r.reg);
        for v in self.vips.iter().skip(1) {
            let mut w = FrameWriter::new(buf, r.details_id);
            w.bytes(&r.ctx);
            Self::write_vip(&mut w, v);
            w.u32(u32::from(v.vtype))
                .u8(v.dscp)
                .u32(u32::from(v.srv_type))
                .u16(v.target_port)
                .u16(0);
        }
    }

    fn as_dump(&self, r: &Req, out: &mut Outbox) {
        let b = r.body;
        let un = b.bytes(11, 16);
        let all = un.iter().all(|&x| x == 0);
        let port_raw = u16::from_le_bytes(b.arr(29).unwrap_or_default());
        let buf = out.buf(r.reg);
        for v in self.vips.iter().skip(1) {
            if !all && (un != v.prefix || v.port != port_raw) {
                continue;
            }
            for &a in &v.ases {
                let a = &self.ases[a];
                let mut w = FrameWriter::new(buf, r.details_id);
                w.bytes(&r.ctx);
                Self::write_vip(&mut w, v);
                w.bytes(&address_from_ip46(&a.addr))
                    .u8(a.used as u8)
                    .u32(a.last_used);
            }
        }
    }

    /// `show lb vips [verbose]`.
    pub fn show_vips(&self, verbose: bool) -> String {
        let mut s = String::new();
        for v in self.vips.iter().skip(1).filter(|v| !v.deleted) {
            s.push_str(&format!(
                " {} [{}] {}\n",
                TYPE_NAMES[usize::from(v.vtype)],
                v.index,
                format_prefix(&v.prefix, v.plen)
            ));
            if !verbose {
                continue;
            }
            s.push_str(&format!("  new_size:{}\n", v.new_len));
            if v.vtype == IP4_L3DSR {
                s.push_str(&format!("  dscp:{}\n", v.dscp));
            }
            if v.port != 0 {
                s.push_str(&format!("  protocol:{} port:{}\n", v.protocol, v.port));
            }
            s.push_str(
                "  counters:\n    packet from existing sessions: 0\n    first session packet: 0\n    untracked packet: 0\n    no server configured: 0\n",
            );
            s.push_str(&format!("  #as:{}\n", v.ases.len()));
            let used = v.ases.iter().filter(|&&a| self.ases[a].used).count() as u32;
            let mut k = 0u32;
            for &a in &v.ases {
                let a = &self.ases[a];
                let buckets = if a.used {
                    let extra = u32::from(k < v.new_len % used.max(1));
                    k += 1;
                    v.new_len / used + extra
                } else {
                    0
                };
                s.push_str(&format!(
                    "    {} {} buckets   0 flows  dpo:{} {}\n",
                    format_ip46(&a.addr),
                    buckets,
                    a.dpo,
                    if a.used { "used" } else { " removed" }
                ));
            }
            s.push('\n');
        }
        s
    }
}

fn format_ip46(a: &[u8; 16]) -> String {
    if ip46_is_ip4(a) && a != &[0; 16] {
        std::net::Ipv4Addr::new(a[12], a[13], a[14], a[15]).to_string()
    } else {
        std::net::Ipv6Addr::from(*a).to_string()
    }
}

fn format_prefix(a: &[u8; 16], plen: u8) -> String {
    if prefix_is_ip4(a, plen) {
        format!(
            "{}/{}",
            std::net::Ipv4Addr::new(a[12], a[13], a[14], a[15]),
            plen - 96
        )
    } else {
        format!("{}/{}", std::net::Ipv6Addr::from(*a), plen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_format_like_vpp() {
        let mut p = [0u8; 16];
        p[12..].copy_from_slice(&[192, 0, 2, 1]);
        assert_eq!(format_prefix(&p, 128), "192.0.2.1/32");
        let mut q = p;
        mask_prefix(&mut q, 32);
        assert_eq!(format_prefix(&q, 32), "::/32");
    }
}
