//! The LB plugin's CLI (VPP 26.06 `src/plugins/lb/cli.c`): `lb conf`, `lb vip`, `lb as`,
//! `lb flush vip` and `test lb flowtable flush`. `lb conf`, `lb vip` and `lb as` run the
//! global garbage collection ([`Lb::gc`]) before acting, the only place 26.06 runs it for every
//! VIP and frees deleted VIPs. Errors are the handlers' texts, prefixed by the command path
//! as vlib's dispatcher does, with retval -1 (`vlib_cli_input`'s `rv`).
//!
//! With lb.api 1.2.0 (master's cli.c) `lb as` no longer runs the global collection (a timer
//! does) and takes `weight <0-100>`: an existing USED AS then gets the weight
//! (`lb_vip_set_as_weight`) instead of -81, and `flush` also applies to adds.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::cli::{cli_error, Input};
use super::lb::{
    prefix_is_ip4, VipArgs, IP4_GRE4, IP4_GRE6, IP4_L3DSR, IP4_NAT4, IP6_GRE4, IP6_GRE6, IP6_NAT6,
};
use super::Model;

/// `lb_encap_type_t` as the CLI parses it.
const GRE4: u32 = 0;
const GRE6: u32 = 1;
const L3DSR: u32 = 2;
const NAT4: u32 = 3;
const NAT6: u32 = 4;

/// vppinfra `unformat_ip46_prefix`: an IPv4 prefix becomes ip46 with `len + 96`.
fn ip46_prefix(s: &str) -> Option<([u8; 16], u8)> {
    let (a, l) = s.split_once('/')?;
    let l: u32 = l.parse().ok()?;
    if let Ok(a) = a.parse::<Ipv4Addr>() {
        if l > 32 {
            return None;
        }
        let mut p = [0u8; 16];
        p[12..].copy_from_slice(&a.octets());
        return Some((p, l as u8 + 96));
    }
    let a = a.parse::<Ipv6Addr>().ok()?;
    (l <= 128).then_some((a.octets(), l as u8))
}

/// vnet `unformat_ip46_address` (IP46_TYPE_ANY).
fn ip46_address(s: &str) -> Option<[u8; 16]> {
    if let Ok(a) = s.parse::<Ipv4Addr>() {
        let mut p = [0u8; 16];
        p[12..].copy_from_slice(&a.octets());
        return Some(p);
    }
    s.parse::<Ipv6Addr>().ok().map(|a| a.octets())
}

/// `%d` into a u32 (a negative value wraps, as the C store does).
fn num(s: &str) -> Option<u32> {
    s.parse::<i64>().ok().map(|n| n as u32)
}

impl Model {
    /// `lb ...` and `test lb flowtable flush`; `None` if `words` is not one of them.
    pub(super) fn lb_cli(&mut self, cmd: &str, words: &[&str]) -> Option<(i32, String)> {
        let now = self.lb_now();
        let r = match words {
            ["lb", "conf", ..] => self.lb_conf_cli(Input::after(cmd, 2), now),
            ["lb", "vip", ..] => self.lb_vip_cli(Input::after(cmd, 2), now),
            ["lb", "as", ..] => self.lb_as_cli(Input::after(cmd, 2), now),
            ["lb", "flush", "vip", ..] => self.lb_flush_vip_cli(Input::after(cmd, 3)),
            ["test", "lb", "flowtable", "flush"] => {
                self.lb.flush_vip_as(None, Some(0));
                (0, String::new())
            }
            _ => return None,
        };
        Some(r)
    }

    /// cli.c `lb_conf_command_fn`: unset values keep the current ones.
    fn lb_conf_cli(&mut self, mut i: Input, now: u32) -> (i32, String) {
        const PATH: &str = "lb conf";
        if i.at_end() {
            return (0, String::new());
        }
        let c = self.lb.conf.clone();
        let (mut ip4, mut ip6) = (c.ip4_src, c.ip6_src);
        let (mut buckets, mut timeout) = (c.sticky_buckets_per_core, c.flow_timeout);
        while !i.at_end() {
            if let Some(a) = i.keyword_value("ip4-src-address", |s| s.parse::<Ipv4Addr>().ok()) {
                ip4 = a.octets();
            } else if let Some(a) =
                i.keyword_value("ip6-src-address", |s| s.parse::<Ipv6Addr>().ok())
            {
                ip6 = a.octets();
            } else if let Some(n) = i.keyword_value("buckets", num) {
                buckets = n;
            } else if let Some(n) = i.keyword_value("buckets-log2", num) {
                if n >= 32 {
                    return cli_error(PATH, "buckets-log2 value is too high");
                }
                buckets = 1 << n;
            } else if let Some(n) = i.keyword_value("timeout", num) {
                timeout = n;
            } else {
                return cli_error(PATH, &format!("parse error: '{}'", i.rest()));
            }
        }
        self.lb.gc(now);
        match self.lb.set_conf(ip4, ip6, buckets, timeout) {
            0 => (0, String::new()),
            rv => cli_error(PATH, &format!("lb_conf error {rv}")),
        }
    }

    /// cli.c `lb_vip_command_fn`.
    fn lb_vip_cli(&mut self, mut i: Input, now: u32) -> (i32, String) {
        const PATH: &str = "lb vip";
        if i.at_end() {
            return (0, String::new());
        }
        let Some((prefix, plen)) = i.next().and_then(ip46_prefix) else {
            i.back();
            return cli_error(PATH, &format!("invalid vip prefix: '{}'", i.rest()));
        };
        let (mut new_len, mut del, mut sticky) = (1024u32, false, false);
        // VPP leaves `args.protocol` uninitialised unless `protocol` is given; 0 here.
        let (mut protocol, mut port, mut encap) = (0u8, 0u32, GRE4);
        let (mut dscp, mut srv_type, mut target_port) = (u32::MAX, 0u32, 0u32);
        while !i.at_end() {
            if let Some(n) = i.keyword_value("new_len", num) {
                new_len = n;
            } else if i.keyword("del") {
                del = true;
            } else if i.keyword("src_ip_sticky") {
                sticky = true;
            } else if i.keywords(&["protocol", "tcp"]) {
                protocol = 6;
            } else if i.keywords(&["protocol", "udp"]) {
                protocol = 17;
            } else if let Some(n) = i.keyword_value("port", num) {
                port = n;
            } else if let Some(e) = ["gre4", "gre6", "l3dsr", "nat4", "nat6"]
                .iter()
                .position(|e| i.keywords(&["encap", e]))
            {
                encap = e as u32;
            } else if let Some(n) = i.keyword_value("dscp", num) {
                dscp = n;
            } else if i.keywords(&["type", "clusterip"]) {
                srv_type = 0;
            } else if i.keywords(&["type", "nodeport"]) {
                srv_type = 1;
            } else if let Some(n) = i.keyword_value("target_port", num) {
                target_port = n;
            } else {
                return cli_error(PATH, &format!("parse error: '{}'", i.rest()));
            }
        }
        let (protocol, port) = if port == 0 {
            (255, 0)
        } else {
            (protocol, port as u16)
        };
        if encap != L3DSR && dscp != u32::MAX {
            return cli_error(
                PATH,
                "lb_vip_add error: should not configure dscp for none L3DSR.",
            );
        }
        if encap == L3DSR && dscp >= 64 {
            return cli_error(
                PATH,
                "lb_vip_add error: dscp for L3DSR should be less than 64.",
            );
        }
        let vtype = if prefix_is_ip4(&prefix, plen) {
            match encap {
                GRE4 => Some(IP4_GRE4),
                GRE6 => Some(IP4_GRE6),
                L3DSR => Some(IP4_L3DSR),
                NAT4 => Some(IP4_NAT4),
                _ => return cli_error(PATH, "currently does not support NAT46"),
            }
        } else {
            match encap {
                GRE4 => Some(IP6_GRE4),
                GRE6 => Some(IP6_GRE6),
                NAT6 => Some(IP6_NAT6),
                NAT4 => return cli_error(PATH, "currently does not support NAT64"),
                // IPv6 with L3DSR: VPP leaves `args.type` uninitialised; taken as a type of
                // the wrong family here (lb_vip_add: -97).
                _ => None,
            }
        };
        self.lb.gc(now);
        let key = (prefix, plen, protocol, port);
        if del {
            return match self.lb.find(&key) {
                None => cli_error(PATH, "lb_vip_find_index error -6"),
                Some(v) => match self.lb.vip_del(v, now) {
                    0 => (0, String::new()),
                    rv => cli_error(PATH, &format!("lb_vip_del error {rv}")),
                },
            };
        }
        let nat = matches!(encap, NAT4 | NAT6);
        let args = VipArgs {
            key,
            vtype: vtype.unwrap_or(IP4_L3DSR),
            new_len,
            dscp: if encap == L3DSR {
                (dscp & 0x3f) as u8
            } else {
                0
            },
            srv_type: if nat { srv_type as u8 } else { 0 },
            target_port: if nat { target_port as u16 } else { 0 },
            sticky,
        };
        match self.lb.vip_add(args, now) {
            Ok(v) => (0, format!("lb_vip_add ok {v}\n")),
            Err(rv) => cli_error(PATH, &format!("lb_vip_add error {rv}")),
        }
    }

    /// cli.c `lb_as_command_fn`.
    fn lb_as_cli(&mut self, mut i: Input, now: u32) -> (i32, String) {
        const PATH: &str = "lb as";
        if i.at_end() {
            return (0, String::new());
        }
        let Some((prefix, plen)) = i.next().and_then(ip46_prefix) else {
            i.back();
            return cli_error(PATH, &format!("invalid as address: '{}'", i.rest()));
        };
        let (mut addrs, mut del, mut flush) = (Vec::new(), false, false);
        let (mut protocol, mut port) = (0u8, 0u32);
        let v12 = self.lb.api_1_2;
        let mut weight: Option<u32> = None;
        while !i.at_end() {
            if let Some(a) = i.value(ip46_address) {
                addrs.push(a);
            } else if let Some(w) = if v12 {
                i.keyword_value("weight", |s| s.parse::<u32>().ok())
            } else {
                None
            } {
                weight = Some(w);
            } else if i.keyword("del") {
                del = true;
            } else if i.keyword("flush") {
                flush = true;
            } else if i.keywords(&["protocol", "tcp"]) {
                protocol = 6;
            } else if i.keywords(&["protocol", "udp"]) {
                protocol = 17;
            } else if let Some(n) = i.keyword_value("port", num) {
                port = n;
            } else {
                return cli_error(PATH, &format!("parse error: '{}'", i.rest()));
            }
        }
        if port == 0 {
            protocol = 255;
        }
        if let Some(w) = weight {
            if w > 100 {
                return cli_error(PATH, "weight must be between 0 and 100");
            }
            if del {
                return cli_error(PATH, "weight and del are mutually exclusive");
            }
        }
        let Some(v) = self.lb.find(&(prefix, plen, protocol, port as u16)) else {
            return cli_error(PATH, "lb_vip_find_index error -6");
        };
        if addrs.is_empty() {
            return cli_error(PATH, "No AS address provided");
        }
        if v12 {
            return self.lb_as_cli_1_2(v, &addrs, del, flush, weight, now);
        }
        self.lb.gc(now);
        // The collection may have freed the VIP (only a deleted one, which `find` skips).
        let rv = if del {
            self.lb.del_ass(v, &addrs, flush, now)
        } else {
            self.lb.add_ass(v, &addrs, 100, false, now)
        };
        match rv {
            0 => (0, String::new()),
            rv if del => cli_error(PATH, &format!("lb_vip_del_ass error {rv}")),
            rv => cli_error(PATH, &format!("lb_vip_add_ass error {rv}")),
        }
    }

    /// The end of master's `lb_as_command_fn` (1.2.0): no garbage collection first.
    fn lb_as_cli_1_2(
        &mut self,
        v: usize,
        addrs: &[[u8; 16]],
        del: bool,
        flush: bool,
        weight: Option<u32>,
        now: u32,
    ) -> (i32, String) {
        const PATH: &str = "lb as";
        if del {
            return match self.lb.del_ass(v, addrs, flush, now) {
                0 => (0, String::new()),
                rv => cli_error(PATH, &format!("lb_vip_del_ass error {rv}")),
            };
        }
        let Some(w) = weight else {
            return match self.lb.add_ass(v, addrs, 100, flush, now) {
                0 => (0, String::new()),
                rv => cli_error(PATH, &format!("lb_vip_add_ass error {rv}")),
            };
        };
        // Add; if one exists (USED), set the weight of each instead.
        let w = w as u8;
        match self.lb.add_ass(v, addrs, w, flush, now) {
            0 => (0, String::new()),
            vppapi_codec::api_errno::VALUE_EXIST => {
                for a in addrs {
                    let rv = self.lb.set_as_weight(v, a, w, flush);
                    if rv != 0 {
                        return cli_error(PATH, &format!("lb_vip_set_as_weight error {rv}"));
                    }
                }
                (0, String::new())
            }
            rv => cli_error(PATH, &format!("lb_vip_add_ass error {rv}")),
        }
    }

    /// cli.c `lb_flush_vip_command_fn`.
    fn lb_flush_vip_cli(&mut self, mut i: Input) -> (i32, String) {
        const PATH: &str = "lb flush vip";
        if i.at_end() {
            return (0, String::new());
        }
        let Some((prefix, plen)) = i.next().and_then(ip46_prefix) else {
            i.back();
            return cli_error(PATH, &format!("invalid vip prefix: '{}'", i.rest()));
        };
        let (mut protocol, mut port) = (0u8, 0u32);
        while !i.at_end() {
            if i.keywords(&["protocol", "tcp"]) {
                protocol = 6;
            } else if i.keywords(&["protocol", "udp"]) {
                protocol = 17;
            } else if let Some(n) = i.keyword_value("port", num) {
                port = n;
            } else {
                // cli.c's loop has no `else`: VPP 26.06 spins forever on such input.
                return (
                    vppapi_codec::api_errno::UNIMPLEMENTED,
                    format!(
                        "vpp-sim: `lb flush vip' with unknown input `{}' hangs VPP 26.06 \
                         (its parse loop has no else); not modelled\n",
                        i.rest()
                    ),
                );
            }
        }
        if port == 0 {
            protocol = 255;
        }
        let Some(v) = self.lb.find(&(prefix, plen, protocol, port as u16)) else {
            return cli_error(PATH, "lb_vip_find_index error -6");
        };
        self.lb.flush_vip_as(Some(v as u32), None);
        (0, format!("lb_flush_vip ok {v}\n"))
    }
}
