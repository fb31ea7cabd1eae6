//! Interface addresses (`sw_interface_add_del_address`, `ip_address_dump`) and IPv6 enablement
//! with link-local addresses (`ip.api`).

use vppapi_binapi::interface::{SwInterfaceAddDelAddress, SwInterfaceAddDelAddressReply};
use vppapi_binapi::ip::{
    IpAddressDetails, IpAddressDump, SwInterfaceIp6EnableDisable, SwInterfaceIp6EnableDisableReply,
    SwInterfaceIp6GetLinkLocalAddress, SwInterfaceIp6GetLinkLocalAddressReply,
    SwInterfaceIp6SetLinkLocalAddress, SwInterfaceIp6SetLinkLocalAddressReply,
};
use vppapi_codec::api_errno::{
    ADDRESS_IN_USE, ADDRESS_NOT_FOUND_FOR_INTERFACE, DUPLICATE_IF_ADDRESS, INVALID_SW_IF_INDEX,
    INVALID_VALUE, IP6_NOT_ENABLED,
};
use vppapi_codec::net::{Address, AddressWithPrefix, Ip4Address, Ip6Address, Prefix};

use super::{mask_prefix, Iface, Model};
use crate::handlers::Handlers;

pub(super) fn register(h: &mut Handlers) {
    h.on::<SwInterfaceAddDelAddress, _>(|m, _, req| SwInterfaceAddDelAddressReply {
        retval: m.add_del_address(&req),
    });
    h.dump::<IpAddressDump, _>(|m, _, req| {
        let sw = req.sw_if_index;
        let Some(i) = m.iface(sw.0) else {
            return Vec::new();
        };
        let details = |address: Address, len: u8| IpAddressDetails {
            sw_if_index: sw,
            prefix: AddressWithPrefix(Prefix { address, len }),
        };
        if req.is_ipv6 {
            i.v6.iter()
                .map(|(a, l)| details(Address::Ip6(Ip6Address(*a)), *l))
                .collect()
        } else {
            i.v4.iter()
                .map(|(a, l)| details(Address::Ip4(Ip4Address(*a)), *l))
                .collect()
        }
    });
    h.on::<SwInterfaceIp6SetLinkLocalAddress, _>(|m, _, req| {
        let retval = match m.iface_mut(req.sw_if_index.0) {
            None => INVALID_SW_IF_INDEX,
            Some(i) => {
                i.ll = Some(req.ip.0);
                0
            }
        };
        SwInterfaceIp6SetLinkLocalAddressReply { retval }
    });
    h.on::<SwInterfaceIp6GetLinkLocalAddress, _>(|m, _, req| {
        let (retval, ip) = match m.iface(req.sw_if_index.0) {
            None => (INVALID_SW_IF_INDEX, [0; 16]),
            Some(Iface { ll: None, .. }) => (IP6_NOT_ENABLED, [0; 16]),
            Some(Iface { ll: Some(ll), .. }) => (0, *ll),
        };
        SwInterfaceIp6GetLinkLocalAddressReply {
            retval,
            ip: Ip6Address(ip),
        }
    });
    h.on::<SwInterfaceIp6EnableDisable, _>(|m, _, req| {
        let sw = req.sw_if_index.0;
        let retval = if m.iface(sw).is_none() {
            INVALID_SW_IF_INDEX
        } else {
            if req.enable {
                m.enable_ip6(sw);
            } else if let Some(i) = m.iface_mut(sw) {
                i.ll = None;
            }
            0
        };
        SwInterfaceIp6EnableDisableReply { retval }
    });
}

impl Model {
    pub(super) fn add_del_address(&mut self, req: &SwInterfaceAddDelAddress) -> i32 {
        let sw = req.sw_if_index.0;
        let Prefix { address, len } = req.prefix.0;
        let Some(i) = self.iface_mut(sw) else {
            return INVALID_SW_IF_INDEX;
        };
        if req.del_all {
            i.v4.clear();
            i.v6.clear();
            return 0;
        }
        let v6 = match address {
            Address::Ip4(a) => {
                return self.addr_op(sw, req.is_add, a.0, len, 32, ADDRESS_IN_USE, |i| &mut i.v4)
            }
            Address::Ip6(a) => a.0,
            // Any family but IPv4 is taken as IPv6 (the union's 16 bytes).
            Address::Other(_, un) => un.0,
        };
        let rv = self.addr_op(sw, req.is_add, v6, len, 128, DUPLICATE_IF_ADDRESS, |i| {
            &mut i.v6
        });
        if rv == 0 && req.is_add {
            self.enable_ip6(sw);
        }
        rv
    }

    /// Adds or deletes one address with VPP's conflict rule: a new prefix may not overlap any
    /// existing one on any interface, except another address of the same prefix length on the
    /// same interface. The conflict error is `conflict`: ip4_forward.c
    /// `ip4_add_del_interface_address_internal` says ADDRESS_IN_USE (-105), ip6_forward.c
    /// `ip6_add_del_interface_address` DUPLICATE_IF_ADDRESS (-127).
    #[allow(clippy::too_many_arguments)]
    fn addr_op<const N: usize>(
        &mut self,
        sw: u32,
        is_add: bool,
        a: [u8; N],
        len: u8,
        max: u8,
        conflict: i32,
        list: impl Fn(&mut Iface) -> &mut Vec<([u8; N], u8)>,
    ) -> i32 {
        if len > max {
            return INVALID_VALUE;
        }
        if !is_add {
            let l = list(self.iface_mut(sw).expect("checked"));
            return match l.iter().position(|(x, l2)| *x == a && *l2 == len) {
                Some(p) => {
                    l.remove(p);
                    0
                }
                None => ADDRESS_NOT_FOUND_FOR_INTERFACE,
            };
        }
        for i in self.ifs.iter_mut().flatten() {
            let isw = i.sw_if_index;
            for (x, l) in list(i).iter() {
                let shorter = (*l).min(len);
                let (mut p, mut q) = (*x, a);
                mask_prefix(&mut p, shorter);
                mask_prefix(&mut q, shorter);
                if p == q {
                    if isw == sw && *l == len && *x != a {
                        continue;
                    }
                    return conflict;
                }
            }
        }
        list(self.iface_mut(sw).expect("checked")).push((a, len));
        0
    }

    /// IPv6 enabled: a link-local address from the MAC (EUI-64), unless one is set.
    pub(super) fn enable_ip6(&mut self, sw: u32) {
        if let Some(i) = self.iface_mut(sw) {
            if i.ll.is_none() {
                let m = i.mac;
                i.ll = Some([
                    0xfe,
                    0x80,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    m[0] ^ 2,
                    m[1],
                    m[2],
                    0xff,
                    0xfe,
                    m[3],
                    m[4],
                    m[5],
                ]);
            }
        }
    }
}
