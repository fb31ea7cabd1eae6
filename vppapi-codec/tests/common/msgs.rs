//! Hand-written messages with the derives, mirroring the VPP 26.06 `.api.json` definitions
//! exactly (names, CRCs, field order and types). The generator will produce these; until then
//! they are the codec's test subjects (tests, fuzz target and benches include this file).
#![allow(dead_code, missing_docs)]

use std::fmt::Debug;
use vppapi_codec::{
    Address, AddressFamily, AddressUnion, AddressWithPrefix, InterfaceIndex, MacAddress, Prefix,
};
use vppapi_codec::{Message, Random, Reflect};
use vppapi_codec::{VppEnum, VppFlags, VppMessage, VppRandom, VppReflect, VppType};

// ---- memclnt.api -------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(name = "control_ping", crc = 0x51077d14, kind = "request", reply = ControlPingReply)]
pub struct ControlPing {}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(name = "control_ping_reply", crc = 0xf6b0b8ca, kind = "reply")]
pub struct ControlPingReply {
    pub retval: i32,
    /// Never set by VPP (junk on the wire).
    pub client_index: u32,
    pub vpe_pid: u32,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(
    name = "sockclnt_create",
    crc = 0x455fb9c4,
    kind = "request",
    header = "context",
    reply = SockclntCreateReply
)]
pub struct SockclntCreate {
    #[vpp(string = 64)]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, VppType, VppReflect, VppRandom)]
#[vpp(name = "message_table_entry")]
pub struct MessageTableEntry {
    pub index: u16,
    #[vpp(string = 64)]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(
    name = "sockclnt_create_reply",
    crc = 0x35166268,
    kind = "reply",
    header = "client_index,context"
)]
pub struct SockclntCreateReply {
    pub response: i32,
    pub index: u32,
    #[vpp(count = "count", count_ty = "u16")]
    pub message_table: Vec<MessageTableEntry>,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(name = "sockclnt_delete", crc = 0x8ac76db6, kind = "request", reply = SockclntDeleteReply)]
pub struct SockclntDelete {
    pub index: u32,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(name = "sockclnt_delete_reply", crc = 0x8f38b1ee, kind = "reply")]
pub struct SockclntDeleteReply {
    pub response: i32,
}

// ---- vpe.api / vlib.api ------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(name = "show_version", crc = 0x51077d14, kind = "request", reply = ShowVersionReply)]
pub struct ShowVersion {}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(name = "show_version_reply", crc = 0xc919bde1, kind = "reply")]
pub struct ShowVersionReply {
    pub retval: i32,
    #[vpp(string = 32)]
    pub program: String,
    #[vpp(string = 32)]
    pub version: String,
    #[vpp(string = 32)]
    pub build_date: String,
    #[vpp(string = 256)]
    pub build_directory: String,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(
    name = "get_f64_endian_value",
    crc = 0x809fcd44,
    kind = "request",
    reply = GetF64EndianValueReply
)]
pub struct GetF64EndianValue {
    #[vpp(default = 1.0)]
    pub f64_one: f64,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(name = "get_f64_endian_value_reply", crc = 0x7e02e404, kind = "reply")]
pub struct GetF64EndianValueReply {
    pub retval: u32,
    pub f64_one_result: f64,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(name = "cli_inband", crc = 0xf8377302, kind = "request", reply = CliInbandReply)]
pub struct CliInband {
    #[vpp(string)]
    pub cmd: String,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(name = "cli_inband_reply", crc = 0x05879051, kind = "reply")]
pub struct CliInbandReply {
    pub retval: i32,
    #[vpp(string)]
    pub reply: String,
}

// ---- interface.api -----------------------------------------------------------------------

/// Declared `enum` in the API but used as flags (ADMIN_UP | LINK_UP).
#[derive(Clone, Copy, PartialEq, Eq, Hash, VppFlags, VppReflect, VppRandom)]
#[vpp(
    name = "if_status_flags",
    values(IF_STATUS_API_FLAG_ADMIN_UP = 1, IF_STATUS_API_FLAG_LINK_UP = 2)
)]
pub struct IfStatusFlags(pub u32);

#[derive(Clone, Copy, PartialEq, Eq, Hash, VppEnum, VppReflect, VppRandom)]
#[vpp(
    name = "if_type",
    values(
        IF_API_TYPE_HARDWARE = 0,
        IF_API_TYPE_SUB = 1,
        IF_API_TYPE_P2P = 2,
        IF_API_TYPE_PIPE = 3
    )
)]
pub struct IfType(pub u32);

#[derive(Clone, Copy, PartialEq, Eq, Hash, VppEnum, VppReflect, VppRandom)]
#[vpp(
    name = "link_duplex",
    values(
        LINK_DUPLEX_API_UNKNOWN = 0,
        LINK_DUPLEX_API_HALF = 1,
        LINK_DUPLEX_API_FULL = 2
    )
)]
pub struct LinkDuplex(pub u32);

#[derive(Clone, Copy, PartialEq, Eq, Hash, VppFlags, VppReflect, VppRandom)]
#[vpp(
    name = "sub_if_flags",
    values(
        SUB_IF_API_FLAG_NO_TAGS = 1,
        SUB_IF_API_FLAG_ONE_TAG = 2,
        SUB_IF_API_FLAG_TWO_TAGS = 4,
        SUB_IF_API_FLAG_DOT1AD = 8,
        SUB_IF_API_FLAG_EXACT_MATCH = 16,
        SUB_IF_API_FLAG_DEFAULT = 32,
        SUB_IF_API_FLAG_OUTER_VLAN_ID_ANY = 64,
        SUB_IF_API_FLAG_INNER_VLAN_ID_ANY = 128,
        SUB_IF_API_FLAG_MASK_VNET = 254,
        SUB_IF_API_FLAG_DOT1AH = 256
    )
)]
pub struct SubIfFlags(pub u32);

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(
    name = "sw_interface_dump",
    crc = 0xaa610c27,
    kind = "request",
    details = SwInterfaceDetails
)]
pub struct SwInterfaceDump {
    #[vpp(default = 4294967295)]
    pub sw_if_index: InterfaceIndex,
    pub name_filter_valid: bool,
    #[vpp(string)]
    pub name_filter: String,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(name = "sw_interface_details", crc = 0x6c221fc7, kind = "details")]
pub struct SwInterfaceDetails {
    pub sw_if_index: InterfaceIndex,
    pub sup_sw_if_index: u32,
    pub l2_address: MacAddress,
    pub flags: IfStatusFlags,
    pub r#type: IfType,
    pub link_duplex: LinkDuplex,
    pub link_speed: u32,
    pub link_mtu: u16,
    pub mtu: [u32; 4],
    pub sub_id: u32,
    pub sub_number_of_tags: u8,
    pub sub_outer_vlan_id: u16,
    pub sub_inner_vlan_id: u16,
    pub sub_if_flags: SubIfFlags,
    pub vtr_op: u32,
    pub vtr_push_dot1q: u32,
    pub vtr_tag1: u32,
    pub vtr_tag2: u32,
    pub outer_tag: u16,
    pub b_dmac: MacAddress,
    pub b_smac: MacAddress,
    pub b_vlanid: u16,
    pub i_sid: u32,
    #[vpp(string = 64)]
    pub interface_name: String,
    #[vpp(string = 64)]
    pub interface_dev_type: String,
    #[vpp(string = 64)]
    pub tag: String,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(name = "sw_interface_event", crc = 0x2d3d95a7, kind = "event")]
pub struct SwInterfaceEvent {
    pub pid: u32,
    pub sw_if_index: InterfaceIndex,
    pub flags: IfStatusFlags,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(
    name = "want_interface_events",
    crc = 0x476f5a08,
    kind = "request",
    reply = WantInterfaceEventsReply,
    events(SwInterfaceEvent)
)]
pub struct WantInterfaceEvents {
    pub enable_disable: u32,
    pub pid: u32,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(
    name = "sw_interface_set_flags",
    crc = 0xf5aec1b8,
    kind = "request",
    reply = SwInterfaceSetFlagsReply
)]
pub struct SwInterfaceSetFlags {
    pub sw_if_index: InterfaceIndex,
    pub flags: IfStatusFlags,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(name = "create_loopback", crc = 0x42bb5d22, kind = "request", reply = CreateLoopbackReply)]
pub struct CreateLoopback {
    pub mac_address: MacAddress,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(name = "create_loopback_reply", crc = 0x5383d31f, kind = "reply")]
pub struct CreateLoopbackReply {
    pub retval: i32,
    pub sw_if_index: InterfaceIndex,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(
    name = "sw_interface_add_del_address",
    crc = 0x5463d73b,
    kind = "request",
    reply = SwInterfaceAddDelAddressReply
)]
pub struct SwInterfaceAddDelAddress {
    pub sw_if_index: InterfaceIndex,
    pub is_add: bool,
    pub del_all: bool,
    pub prefix: AddressWithPrefix,
}

/// The `{context, retval}` replies (CRC 0xe8d4e804), one type per name as VPP keys by name+CRC.
macro_rules! retval_reply {
    ($($t:ident = $name:literal),* $(,)?) => {$(
        #[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
        #[vpp(name = $name, crc = 0xe8d4e804, kind = "reply")]
        pub struct $t {
            pub retval: i32,
        }
    )*};
}
retval_reply! {
    WantInterfaceEventsReply = "want_interface_events_reply",
    SwInterfaceSetFlagsReply = "sw_interface_set_flags_reply",
    SwInterfaceAddDelAddressReply = "sw_interface_add_del_address_reply",
    LbAddDelAsReply = "lb_add_del_as_reply",
    SetIpFlowHashV2Reply = "set_ip_flow_hash_v2_reply",
}

// ---- l2.api ------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, VppType, VppReflect, VppRandom)]
#[vpp(name = "bridge_domain_sw_if")]
pub struct BridgeDomainSwIf {
    pub context: u32,
    pub sw_if_index: InterfaceIndex,
    pub shg: u8,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(
    name = "bridge_domain_dump",
    crc = 0x74396a43,
    kind = "request",
    details = BridgeDomainDetails
)]
pub struct BridgeDomainDump {
    #[vpp(default = 4294967295)]
    pub bd_id: u32,
    #[vpp(default = 4294967295)]
    pub sw_if_index: InterfaceIndex,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(name = "bridge_domain_details", crc = 0x0fa506fd, kind = "details")]
pub struct BridgeDomainDetails {
    pub bd_id: u32,
    pub flood: bool,
    pub uu_flood: bool,
    pub forward: bool,
    pub learn: bool,
    pub arp_term: bool,
    pub arp_ufwd: bool,
    pub mac_age: u8,
    #[vpp(string = 64)]
    pub bd_tag: String,
    pub bvi_sw_if_index: InterfaceIndex,
    pub uu_fwd_sw_if_index: InterfaceIndex,
    #[vpp(count = "n_sw_ifs", count_ty = "u32")]
    pub sw_if_details: Vec<BridgeDomainSwIf>,
}

// ---- ip.api / fib_types.api --------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Hash, VppEnum, VppReflect, VppRandom)]
#[vpp(
    name = "fib_path_type",
    values(
        FIB_API_PATH_TYPE_NORMAL = 0,
        FIB_API_PATH_TYPE_LOCAL = 1,
        FIB_API_PATH_TYPE_DROP = 2,
        FIB_API_PATH_TYPE_UDP_ENCAP = 3,
        FIB_API_PATH_TYPE_BIER_IMP = 4,
        FIB_API_PATH_TYPE_ICMP_UNREACH = 5,
        FIB_API_PATH_TYPE_ICMP_PROHIBIT = 6,
        FIB_API_PATH_TYPE_SOURCE_LOOKUP = 7,
        FIB_API_PATH_TYPE_DVR = 8,
        FIB_API_PATH_TYPE_INTERFACE_RX = 9,
        FIB_API_PATH_TYPE_CLASSIFY = 10
    )
)]
pub struct FibPathType(pub u32);

#[derive(Clone, Copy, PartialEq, Eq, Hash, VppFlags, VppReflect, VppRandom)]
#[vpp(
    name = "fib_path_flags",
    values(
        FIB_API_PATH_FLAG_NONE = 0,
        FIB_API_PATH_FLAG_RESOLVE_VIA_ATTACHED = 1,
        FIB_API_PATH_FLAG_RESOLVE_VIA_HOST = 2,
        FIB_API_PATH_FLAG_POP_PW_CW = 4
    )
)]
pub struct FibPathFlags(pub u32);

#[derive(Clone, Copy, PartialEq, Eq, Hash, VppEnum, VppReflect, VppRandom)]
#[vpp(
    name = "fib_path_nh_proto",
    values(
        FIB_API_PATH_NH_PROTO_IP4 = 0,
        FIB_API_PATH_NH_PROTO_IP6 = 1,
        FIB_API_PATH_NH_PROTO_MPLS = 2,
        FIB_API_PATH_NH_PROTO_ETHERNET = 3,
        FIB_API_PATH_NH_PROTO_BIER = 4
    )
)]
pub struct FibPathNhProto(pub u32);

#[derive(Debug, Clone, Copy, PartialEq, VppType, VppReflect, VppRandom)]
#[vpp(name = "fib_mpls_label")]
pub struct FibMplsLabel {
    pub is_uniform: u8,
    pub label: u32,
    pub ttl: u8,
    pub exp: u8,
}

/// `address` here is a plain (undiscriminated) union: `proto` says which arm is meant.
#[derive(Debug, Clone, Copy, PartialEq, VppType, VppReflect, VppRandom)]
#[vpp(name = "fib_path_nh")]
pub struct FibPathNh {
    pub address: AddressUnion,
    pub via_label: u32,
    pub obj_id: u32,
    pub classify_table_index: u32,
}

#[derive(Debug, Clone, PartialEq, VppType, VppReflect, VppRandom)]
#[vpp(name = "fib_path")]
pub struct FibPath {
    pub sw_if_index: u32,
    pub table_id: u32,
    pub rpf_id: u32,
    pub weight: u8,
    pub preference: u8,
    pub r#type: FibPathType,
    pub flags: FibPathFlags,
    pub proto: FibPathNhProto,
    pub nh: FibPathNh,
    pub n_labels: u8,
    pub label_stack: [FibMplsLabel; 16],
}

/// A typedef ending in a VLA: variable size, so messages embed it with `tail`.
#[derive(Debug, Clone, PartialEq, VppType, VppReflect, VppRandom)]
#[vpp(name = "ip_route")]
pub struct IpRoute {
    pub table_id: u32,
    pub stats_index: u32,
    pub prefix: Prefix,
    #[vpp(count = "n_paths", count_ty = "u8")]
    pub paths: Vec<FibPath>,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(name = "ip_route_add_del", crc = 0xb8ecfe0d, kind = "request", reply = IpRouteAddDelReply)]
pub struct IpRouteAddDel {
    #[vpp(default = true)]
    pub is_add: bool,
    pub is_multipath: bool,
    #[vpp(tail)]
    pub route: IpRoute,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(name = "ip_route_add_del_reply", crc = 0x1992deab, kind = "reply")]
pub struct IpRouteAddDelReply {
    pub retval: i32,
    pub stats_index: u32,
}

/// An `enumflag` (ip.api).
#[derive(Clone, Copy, PartialEq, Eq, Hash, VppFlags, VppReflect, VppRandom)]
#[vpp(
    name = "ip_flow_hash_config",
    values(
        IP_API_FLOW_HASH_SRC_IP = 1,
        IP_API_FLOW_HASH_DST_IP = 2,
        IP_API_FLOW_HASH_SRC_PORT = 4,
        IP_API_FLOW_HASH_DST_PORT = 8,
        IP_API_FLOW_HASH_PROTO = 16,
        IP_API_FLOW_HASH_REVERSE = 32,
        IP_API_FLOW_HASH_SYMETRIC = 64,
        IP_API_FLOW_HASH_FLOW_LABEL = 128
    )
)]
pub struct IpFlowHashConfig(pub u32);

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(
    name = "set_ip_flow_hash_v2",
    crc = 0x6d132100,
    kind = "request",
    reply = SetIpFlowHashV2Reply
)]
pub struct SetIpFlowHashV2 {
    pub table_id: u32,
    pub af: AddressFamily,
    pub flow_hash_config: IpFlowHashConfig,
}

// ---- lb.api / lb_types.api ---------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Hash, VppEnum, VppReflect, VppRandom)]
#[vpp(
    name = "ip_proto",
    values(
        IP_API_PROTO_HOPOPT = 0,
        IP_API_PROTO_ICMP = 1,
        IP_API_PROTO_IGMP = 2,
        IP_API_PROTO_TCP = 6,
        IP_API_PROTO_UDP = 17,
        IP_API_PROTO_GRE = 47,
        IP_API_PROTO_ESP = 50,
        IP_API_PROTO_AH = 51,
        IP_API_PROTO_ICMP6 = 58,
        IP_API_PROTO_EIGRP = 88,
        IP_API_PROTO_OSPF = 89,
        IP_API_PROTO_SCTP = 132,
        IP_API_PROTO_RESERVED = 255
    )
)]
pub struct IpProto(pub u8);

#[derive(Clone, Copy, PartialEq, Eq, Hash, VppEnum, VppReflect, VppRandom)]
#[vpp(
    name = "ip_dscp",
    values(
        IP_API_DSCP_CS0 = 0,
        IP_API_DSCP_CS1 = 8,
        IP_API_DSCP_AF11 = 10,
        IP_API_DSCP_AF12 = 12,
        IP_API_DSCP_AF13 = 14,
        IP_API_DSCP_CS2 = 16,
        IP_API_DSCP_AF21 = 18,
        IP_API_DSCP_AF22 = 20,
        IP_API_DSCP_AF23 = 22,
        IP_API_DSCP_CS3 = 24,
        IP_API_DSCP_AF31 = 26,
        IP_API_DSCP_AF32 = 28,
        IP_API_DSCP_AF33 = 30,
        IP_API_DSCP_CS4 = 32,
        IP_API_DSCP_AF41 = 34,
        IP_API_DSCP_AF42 = 36,
        IP_API_DSCP_AF43 = 38,
        IP_API_DSCP_CS5 = 40,
        IP_API_DSCP_EF = 46,
        IP_API_DSCP_CS6 = 48,
        IP_API_DSCP_CS7 = 50
    )
)]
pub struct IpDscp(pub u8);

#[derive(Clone, Copy, PartialEq, Eq, Hash, VppEnum, VppReflect, VppRandom)]
#[vpp(
    name = "lb_encap_type",
    values(
        LB_API_ENCAP_TYPE_GRE4 = 0,
        LB_API_ENCAP_TYPE_GRE6 = 1,
        LB_API_ENCAP_TYPE_L3DSR = 2,
        LB_API_ENCAP_TYPE_NAT4 = 3,
        LB_API_ENCAP_TYPE_NAT6 = 4,
        LB_API_ENCAP_N_TYPES = 5
    )
)]
pub struct LbEncapType(pub u32);

#[derive(Clone, Copy, PartialEq, Eq, Hash, VppEnum, VppReflect, VppRandom)]
#[vpp(
    name = "lb_srv_type",
    values(
        LB_API_SRV_TYPE_CLUSTERIP = 0,
        LB_API_SRV_TYPE_NODEPORT = 1,
        LB_API_SRV_N_TYPES = 2
    )
)]
pub struct LbSrvType(pub u32);

#[derive(Debug, Clone, Copy, PartialEq, VppType, VppReflect, VppRandom)]
#[vpp(name = "lb_vip")]
pub struct LbVip {
    pub pfx: AddressWithPrefix,
    pub protocol: IpProto,
    pub port: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, VppType, VppReflect, VppRandom)]
#[vpp(name = "prefix_matcher")]
pub struct PrefixMatcher {
    pub le: u8,
    pub ge: u8,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(name = "lb_add_del_as", crc = 0x35d72500, kind = "request", reply = LbAddDelAsReply)]
pub struct LbAddDelAs {
    pub pfx: AddressWithPrefix,
    #[vpp(default = 255)]
    pub protocol: u8,
    pub port: u16,
    pub as_address: Address,
    pub is_del: bool,
    pub is_flush: bool,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(name = "lb_vip_dump", crc = 0x56110cb7, kind = "request", details = LbVipDetails)]
pub struct LbVipDump {
    pub pfx: AddressWithPrefix,
    pub pfx_matcher: PrefixMatcher,
    #[vpp(default = 255)]
    pub protocol: u8,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq, VppMessage, VppReflect, VppRandom)]
#[vpp(name = "lb_vip_details", crc = 0x1329ec9b, kind = "details")]
pub struct LbVipDetails {
    pub vip: LbVip,
    pub encap: LbEncapType,
    pub dscp: IpDscp,
    pub srv_type: LbSrvType,
    pub target_port: u16,
    pub flow_table_length: u16,
}

// ---- registry ----------------------------------------------------------------------------

/// Everything a test needs from a message type.
pub trait TestMessage: Message + Random + Reflect + PartialEq + Debug + Clone + 'static {}
impl<T: Message + Random + Reflect + PartialEq + Debug + Clone + 'static> TestMessage for T {}

/// Called once per hand-written message type.
pub trait Visitor {
    fn visit<M: TestMessage>(&mut self);
}

macro_rules! registry {
    ($($t:ty),* $(,)?) => {
        /// Visit every hand-written message type.
        pub fn for_each_message<V: Visitor>(v: &mut V) {
            $( v.visit::<$t>(); )*
        }
        /// Visit the message whose `name_crc` is given; false if none matches.
        pub fn with_message<V: Visitor>(name_crc: &str, v: &mut V) -> bool {
            $( if name_crc == <$t as Message>::NAME_CRC { v.visit::<$t>(); return true; } )*
            false
        }
        /// Number of hand-written message types.
        pub const MESSAGE_COUNT: usize = [$(<$t as Message>::NAME),*].len();
        /// Visit message number `i % MESSAGE_COUNT` (fuzzing picks a message by index).
        pub fn with_index<V: Visitor>(i: usize, v: &mut V) {
            let mut k = 0usize;
            let i = i % MESSAGE_COUNT;
            $( if k == i { v.visit::<$t>(); return; } k += 1; )*
            let _ = k;
        }
    };
}

registry!(
    ControlPing,
    ControlPingReply,
    SockclntCreate,
    SockclntCreateReply,
    SockclntDelete,
    SockclntDeleteReply,
    ShowVersion,
    ShowVersionReply,
    GetF64EndianValue,
    GetF64EndianValueReply,
    CliInband,
    CliInbandReply,
    SwInterfaceDump,
    SwInterfaceDetails,
    SwInterfaceEvent,
    WantInterfaceEvents,
    WantInterfaceEventsReply,
    SwInterfaceSetFlags,
    SwInterfaceSetFlagsReply,
    CreateLoopback,
    CreateLoopbackReply,
    SwInterfaceAddDelAddress,
    SwInterfaceAddDelAddressReply,
    BridgeDomainDump,
    BridgeDomainDetails,
    IpRouteAddDel,
    IpRouteAddDelReply,
    SetIpFlowHashV2,
    SetIpFlowHashV2Reply,
    LbAddDelAs,
    LbAddDelAsReply,
    LbVipDump,
    LbVipDetails,
);
