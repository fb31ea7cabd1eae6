//! VXLAN tunnels (`vxlan.api`): `vxlan_add_del_tunnel_v3` and `vxlan_tunnel_v2_dump`; each
//! tunnel is an interface `vxlan_tunnelN`.

use vppapi_binapi::vxlan::{
    VxlanAddDelTunnelV3, VxlanAddDelTunnelV3Reply, VxlanTunnelV2Details, VxlanTunnelV2Dump,
};
use vppapi_codec::api_errno::{
    INSTANCE_IN_USE, INVALID_DECAP_NEXT, INVALID_VALUE, NO_SUCH_ENTRY, NO_SUCH_FIB, SAME_SRC_DST,
    TUNNEL_EXIST,
};
use vppapi_codec::net::{Address, InterfaceIndex};

use super::{IfKind, Iface, Model};
use crate::handlers::Handlers;

#[derive(Debug, Clone)]
pub struct VxlanTunnel {
    pub sw_if_index: u32,
    /// Index in VPP's tunnel pool (lowest free first here; VPP's pool hands out the most
    /// recently freed index, the same while at most one is free).
    pub dev_instance: u32,
    pub instance: u32,
    pub src: Address,
    pub dst: Address,
    pub src_port: u16,
    pub dst_port: u16,
    pub mcast_sw_if_index: u32,
    pub encap_vrf_id: u32,
    pub decap_next_index: u32,
    pub vni: u32,
    pub is_l3: bool,
}

impl VxlanTunnel {
    /// What identifies a tunnel (`vxlan4/6_tunnel_key_t` + the VRF).
    fn key(&self) -> (Address, Address, u32, u16, u16, u32) {
        (
            self.src,
            self.dst,
            self.vni,
            self.src_port,
            self.dst_port,
            self.encap_vrf_id,
        )
    }
}

/// The address family byte of an address (`ADDRESS_IP4` = 0, `ADDRESS_IP6` = 1, or unknown).
fn family(a: &Address) -> u8 {
    match a {
        Address::Ip4(_) => 0,
        Address::Ip6(_) => 1,
        Address::Other(af, _) => af.0,
    }
}

pub(super) fn register(h: &mut Handlers) {
    h.on::<VxlanAddDelTunnelV3, _>(|m, _, req| {
        let (retval, sw) = m.vxlan_add_del(&req);
        VxlanAddDelTunnelV3Reply {
            retval,
            sw_if_index: InterfaceIndex(sw),
        }
    });
    h.dump::<VxlanTunnelV2Dump, _>(|m, _, req| {
        let sw = req.sw_if_index.0;
        m.vxlan
            .iter()
            .filter(|t| sw == u32::MAX || t.sw_if_index == sw)
            .map(|t| VxlanTunnelV2Details {
                sw_if_index: InterfaceIndex(t.sw_if_index),
                instance: t.instance,
                src_address: t.src,
                dst_address: t.dst,
                src_port: t.src_port,
                dst_port: t.dst_port,
                mcast_sw_if_index: InterfaceIndex(t.mcast_sw_if_index),
                encap_vrf_id: t.encap_vrf_id,
                decap_next_index: t.decap_next_index,
                vni: t.vni,
            })
            .collect()
    });
}

impl Model {
    /// (retval, sw_if_index); a deleted tunnel's interface goes after the reply (with its event).
    fn vxlan_add_del(&mut self, req: &VxlanAddDelTunnelV3) -> (i32, u32) {
        let t = VxlanTunnel {
            sw_if_index: u32::MAX,
            dev_instance: u32::MAX,
            instance: req.instance,
            src: req.src_address,
            dst: req.dst_address,
            src_port: if req.src_port == 0 {
                4789
            } else {
                req.src_port
            },
            dst_port: if req.dst_port == 0 {
                4789
            } else {
                req.dst_port
            },
            mcast_sw_if_index: req.mcast_sw_if_index.0,
            encap_vrf_id: req.encap_vrf_id,
            decap_next_index: match req.decap_next_index {
                u32::MAX => 1, // VXLAN_INPUT_NEXT_L2_INPUT
                n => n,
            },
            vni: req.vni,
            is_l3: req.is_l3,
        };
        // vxlan_api.c vxlan_add_del_tunnel_clean_input: the VRF (only table 0 exists) is
        // checked first, then the families, then src != dst.
        if t.encap_vrf_id != 0 {
            return (NO_SUCH_FIB, u32::MAX);
        }
        if family(&t.src) != family(&t.dst) {
            return (INVALID_VALUE, u32::MAX);
        }
        if t.src == t.dst {
            return (SAME_SRC_DST, u32::MAX);
        }
        let pos = self.vxlan.iter().position(|x| x.key() == t.key());
        if !req.is_add {
            let Some(p) = pos else {
                return (NO_SUCH_ENTRY, u32::MAX);
            };
            let sw = self.vxlan.remove(p).sw_if_index;
            self.delete_iface(sw);
            return (0, sw);
        }
        if pos.is_some() {
            return (TUNNEL_EXIST, u32::MAX);
        }
        // vxlan.c vnet_vxlan_add_del_tunnel: vxlan_decap_next_is_valid (the input node's
        // next nodes on a fresh VPP: error-drop, l2-input).
        if t.decap_next_index >= 2 {
            return (INVALID_DECAP_NEXT, u32::MAX);
        }
        // The tunnel pool's index is the dev instance; instance ~0 takes it.
        let dev_instance = (0..)
            .find(|i| !self.vxlan.iter().any(|x| x.dev_instance == *i))
            .unwrap_or(0);
        let inst = if req.instance == u32::MAX {
            dev_instance
        } else {
            req.instance
        };
        if self.vxlan.iter().any(|x| x.instance == inst) {
            return (INSTANCE_IN_USE, u32::MAX);
        }
        let sw = self.alloc_sw_if_index();
        let mac = self.random_mac();
        self.add_iface(Iface {
            sw_if_index: sw,
            name: format!("vxlan_tunnel{inst}"),
            dev_type: "VXLAN",
            kind: IfKind::Vxlan,
            mac,
            // vxlan.c vnet_vxlan_add_del_tunnel: created admin up (flags 3).
            admin_up: true,
            link_mtu: 9000,
            mtu: [9000, 0, 0, 0],
            tag: String::new(),
            v4: vec![],
            v6: vec![],
            ll: None,
            l2: None,
        });
        self.vxlan.push(VxlanTunnel {
            sw_if_index: sw,
            dev_instance,
            instance: inst,
            ..t
        });
        (0, sw)
    }
}
