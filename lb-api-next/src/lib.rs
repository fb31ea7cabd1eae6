//! VPP's `lb.api` 1.2.0: the eight messages VPP master added after 26.06 (commits
//! `db44addb60c` "lb: API bugfix" and `ca870e99f61` "lb: Allow setting weight on AS").
//!
//! 26.06 ships `lb.api` 1.1.0, which `vppapi_binapi::lb` binds; 1.2.0 keeps every 1.1.0
//! message with the same CRC (only handler behaviour changed) and adds
//!
//! | message | CRC | what |
//! |---|---|---|
//! | `lb_conf_get` / `_reply` | 51077d14 / 923427ac | read back `lb_conf` (addresses, sticky buckets per core, flow timeout) |
//! | `lb_add_del_as_v2` / `_reply` | 2f1d3b0e / e8d4e804 | add (with a weight 0-100, default 100) or delete an AS |
//! | `lb_as_set_weight` / `_reply` | 2d89bdbd / e8d4e804 | change an AS's weight, optionally flushing its sticky flows |
//! | `lb_as_v2_dump` / `lb_as_v2_details` | 1063f819 / 90064aae | ASes with weight and new-flow-table buckets |
//!
//! The definitions were read from master's `src/plugins/lb/lb.api`, turned into `.api.json`
//! with `vppapi-gen json` and checked with `vppapi-gen crc` / `show` (which reproduce the 26.06
//! `lb.api.json` exactly, CRCs and file version included); the same CRCs and layouts are listed
//! in `../shared/docs/vpp-wire.md`.
//!
//! [`lb_module`] is the whole 1.2.0 `lb` module as message-table data, in the order of
//! master's `lb.api.json` (which decides the message IDs VPP hands out).

#![forbid(unsafe_code)]

use std::sync::OnceLock;

use vppapi_binapi::lb_types::LbVip;
use vppapi_codec::net::{Address, AddressWithPrefix, Ip4Address, Ip6Address};
use vppapi_codec::{Message, MessageInfo, VppMessage};

/// `option version` of master's `lb.api`.
pub const VERSION: &str = "1.2.0";

/// Reads the global `lb_conf` back.
#[derive(Debug, Clone, PartialEq, VppMessage)]
#[cfg_attr(feature = "reflect", derive(::vppapi_codec::VppReflect))]
#[vpp(
    name = "lb_conf_get",
    crc = 0x51077d14,
    kind = "request",
    header = "client_index,context",
    reply = LbConfGetReply
)]
pub struct LbConfGet {}

/// `lb_conf` as VPP holds it (lb.c `lb_main`; `~0` is never stored, the handler resolved it).
#[derive(Debug, Clone, PartialEq, VppMessage)]
#[cfg_attr(feature = "reflect", derive(::vppapi_codec::VppReflect))]
#[vpp(
    name = "lb_conf_get_reply",
    crc = 0x923427ac,
    kind = "reply",
    header = "context"
)]
pub struct LbConfGetReply {
    pub retval: i32,
    pub ip4_src_address: Ip4Address,
    pub ip6_src_address: Ip6Address,
    pub sticky_buckets_per_core: u32,
    pub flow_timeout: u32,
}

/// Adds (with `weight`) or deletes (flushing its sticky flows with `is_flush`) one AS of the
/// VIP keyed by (`pfx`, `protocol`, `port`).
#[derive(Debug, Clone, PartialEq, VppMessage)]
#[cfg_attr(feature = "reflect", derive(::vppapi_codec::VppReflect))]
#[vpp(
    name = "lb_add_del_as_v2",
    crc = 0x2f1d3b0e,
    kind = "request",
    header = "client_index,context",
    reply = LbAddDelAsV2Reply
)]
pub struct LbAddDelAsV2 {
    pub pfx: AddressWithPrefix,
    #[vpp(default = 255)]
    pub protocol: u8,
    pub port: u16,
    pub as_address: Address,
    #[vpp(default = 100)]
    pub weight: u8,
    pub is_del: bool,
    pub is_flush: bool,
}

#[derive(Debug, Clone, PartialEq, VppMessage)]
#[cfg_attr(feature = "reflect", derive(::vppapi_codec::VppReflect))]
#[vpp(
    name = "lb_add_del_as_v2_reply",
    crc = 0xe8d4e804,
    kind = "reply",
    header = "context"
)]
pub struct LbAddDelAsV2Reply {
    pub retval: i32,
}

/// Sets the weight of a used AS (the new-flow table is rebuilt; `is_flush` also evicts the
/// AS's sticky flows).
#[derive(Debug, Clone, PartialEq, VppMessage)]
#[cfg_attr(feature = "reflect", derive(::vppapi_codec::VppReflect))]
#[vpp(
    name = "lb_as_set_weight",
    crc = 0x2d89bdbd,
    kind = "request",
    header = "client_index,context",
    reply = LbAsSetWeightReply
)]
pub struct LbAsSetWeight {
    pub pfx: AddressWithPrefix,
    #[vpp(default = 255)]
    pub protocol: u8,
    pub port: u16,
    pub as_address: Address,
    pub weight: u8,
    pub is_flush: bool,
}

#[derive(Debug, Clone, PartialEq, VppMessage)]
#[cfg_attr(feature = "reflect", derive(::vppapi_codec::VppReflect))]
#[vpp(
    name = "lb_as_set_weight_reply",
    crc = 0xe8d4e804,
    kind = "reply",
    header = "context"
)]
pub struct LbAsSetWeightReply {
    pub retval: i32,
}

/// The ASes of one VIP, or of all VIPs when the prefix's address is all zeros.
#[derive(Debug, Clone, PartialEq, VppMessage)]
#[cfg_attr(feature = "reflect", derive(::vppapi_codec::VppReflect))]
#[vpp(
    name = "lb_as_v2_dump",
    crc = 0x1063f819,
    kind = "request",
    header = "client_index,context",
    details = LbAsV2Details
)]
pub struct LbAsV2Dump {
    pub pfx: AddressWithPrefix,
    pub protocol: u8,
    pub port: u16,
}

/// One AS: its VIP, address, flags (bit 0: USED), weight and the buckets it holds in the
/// VIP's new-flow table.
#[derive(Debug, Clone, PartialEq, VppMessage)]
#[cfg_attr(feature = "reflect", derive(::vppapi_codec::VppReflect))]
#[vpp(
    name = "lb_as_v2_details",
    crc = 0x90064aae,
    kind = "details",
    header = "context"
)]
pub struct LbAsV2Details {
    pub vip: LbVip,
    pub app_srv: Address,
    pub flags: u8,
    pub in_use_since: u32,
    pub weight: u8,
    pub num_buckets: u32,
}

/// The `name_crc` of the four requests whose presence (with these CRCs) marks lb.api 1.2.0.
pub const REQUESTS: [&str; 4] = [
    LbConfGet::NAME_CRC,
    LbAddDelAsV2::NAME_CRC,
    LbAsSetWeight::NAME_CRC,
    LbAsV2Dump::NAME_CRC,
];

/// The table entry of message `M` (everything but `reply`/`details`, which the caller knows).
const fn info<M: vppapi_codec::Message>(
    fixed_size: usize,
    reply: Option<&'static str>,
    details: Option<&'static str>,
) -> MessageInfo {
    MessageInfo {
        name: M::NAME,
        crc: M::CRC,
        name_crc: M::NAME_CRC,
        module: "lb",
        kind: M::KIND,
        header: M::HEADER,
        fixed_size,
        has_tail: false,
        retval_offset: M::RETVAL_OFFSET,
        cursor_offset: None,
        reply,
        details,
        events: &[],
        deprecated: false,
    }
}

/// The eight new messages as table entries, each with its predecessor in master's
/// `lb.api.json` (where it goes into the 1.1.0 module).
pub static NEW_MESSAGES: [(&str, MessageInfo); 8] = [
    (
        "lb_conf_reply",
        info::<LbConfGet>(10, Some(LbConfGetReply::NAME_CRC), None),
    ),
    ("lb_conf_get", info::<LbConfGetReply>(38, None, None)),
    (
        "lb_add_del_as_reply",
        info::<LbAddDelAsV2>(51, Some(LbAddDelAsV2Reply::NAME_CRC), None),
    ),
    (
        "lb_add_del_as_v2",
        info::<LbAddDelAsV2Reply>(10, None, None),
    ),
    (
        "lb_add_del_as_v2_reply",
        info::<LbAsSetWeight>(50, Some(LbAsSetWeightReply::NAME_CRC), None),
    ),
    (
        "lb_as_set_weight",
        info::<LbAsSetWeightReply>(10, None, None),
    ),
    (
        "lb_as_details",
        info::<LbAsV2Dump>(31, None, Some(LbAsV2Details::NAME_CRC)),
    ),
    ("lb_as_v2_dump", info::<LbAsV2Details>(54, None, None)),
];

/// The whole `lb` module of lb.api 1.2.0 (26 messages) in master's `lb.api.json` order: the
/// 18 messages of 26.06 (`vppapi_binapi::table::LB`, unchanged) with the eight new ones in
/// their places.
pub fn lb_module() -> &'static [MessageInfo] {
    static MODULE: OnceLock<Vec<MessageInfo>> = OnceLock::new();
    MODULE.get_or_init(|| {
        let mut out: Vec<MessageInfo> = vppapi_binapi::table::LB.to_vec();
        for (after, m) in &NEW_MESSAGES {
            let at = out
                .iter()
                .position(|x| x.name == *after)
                .map_or(out.len(), |i| i + 1);
            out.insert(at, *m);
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vppapi_codec::{decode_message, encode_message, message_len, Header, MessageKind, Wire};

    /// Master's `lb.api.json`, message by message (name, CRC).
    const MASTER: [(&str, u32); 26] = [
        ("lb_conf", 0x56cd3261),
        ("lb_conf_reply", 0xe8d4e804),
        ("lb_conf_get", 0x51077d14),
        ("lb_conf_get_reply", 0x923427ac),
        ("lb_add_del_vip", 0x6fa569c7),
        ("lb_add_del_vip_reply", 0xe8d4e804),
        ("lb_add_del_vip_v2", 0x7c520e0f),
        ("lb_add_del_vip_v2_reply", 0xe8d4e804),
        ("lb_add_del_as", 0x35d72500),
        ("lb_add_del_as_reply", 0xe8d4e804),
        ("lb_add_del_as_v2", 0x2f1d3b0e),
        ("lb_add_del_as_v2_reply", 0xe8d4e804),
        ("lb_as_set_weight", 0x2d89bdbd),
        ("lb_as_set_weight_reply", 0xe8d4e804),
        ("lb_flush_vip", 0x1063f819),
        ("lb_flush_vip_reply", 0xe8d4e804),
        ("lb_vip_dump", 0x56110cb7),
        ("lb_vip_details", 0x1329ec9b),
        ("lb_as_dump", 0x1063f819),
        ("lb_as_details", 0x8d24c29e),
        ("lb_as_v2_dump", 0x1063f819),
        ("lb_as_v2_details", 0x90064aae),
        ("lb_add_del_intf_nat4", 0x47d6e753),
        ("lb_add_del_intf_nat4_reply", 0xe8d4e804),
        ("lb_add_del_intf_nat6", 0x47d6e753),
        ("lb_add_del_intf_nat6_reply", 0xe8d4e804),
    ];

    #[test]
    fn the_module_is_masters_lb_api_json() {
        let m = lb_module();
        let got: Vec<(&str, u32)> = m.iter().map(|i| (i.name, i.crc)).collect();
        assert_eq!(got, MASTER);
        for i in m {
            assert_eq!(i.name_crc, format!("{}_{:08x}", i.name, i.crc));
            assert_eq!(i.module, "lb");
        }
        // Replies and details named by the requests are in the module.
        for i in m {
            for r in i.reply.iter().chain(i.details.iter()) {
                assert!(m.iter().any(|x| x.name_crc == *r), "{r}");
            }
        }
    }

    fn check<M: Message>(fixed: usize) {
        let i = lb_module()
            .iter()
            .find(|i| i.name == M::NAME)
            .expect("in the module");
        assert_eq!(i.name_crc, M::NAME_CRC);
        assert_eq!(i.kind, M::KIND);
        assert_eq!(i.header, M::HEADER);
        assert_eq!(i.retval_offset, M::RETVAL_OFFSET);
        // VPP's fixed size (from `_vl_msg_id` on) = header + the body's fixed size.
        assert_eq!(i.fixed_size, fixed, "{}", M::NAME);
        assert_eq!(
            M::HEADER.body_offset() + M::FIXED_SIZE,
            fixed,
            "{}",
            M::NAME
        );
    }

    #[test]
    fn table_entries_agree_with_the_types() {
        // Sizes as `vppapi-gen show` lays master's definitions out (vpp-wire.md lists the same).
        check::<LbConfGet>(10);
        check::<LbConfGetReply>(38);
        check::<LbAddDelAsV2>(51);
        check::<LbAddDelAsV2Reply>(10);
        check::<LbAsSetWeight>(50);
        check::<LbAsSetWeightReply>(10);
        check::<LbAsV2Dump>(31);
        check::<LbAsV2Details>(54);
        assert_eq!(NEW_MESSAGES[0].1.kind, MessageKind::Request);
        assert_eq!(NEW_MESSAGES[0].1.header, Header::ClientIndexContext);
    }

    #[test]
    fn weight_and_num_buckets_sit_where_master_puts_them() {
        let d = LbAsV2Details {
            vip: LbVip {
                pfx: AddressWithPrefix(vppapi_codec::net::Prefix {
                    address: Address::Ip4(Ip4Address([192, 0, 2, 1])),
                    len: 32,
                }),
                protocol: vppapi_binapi::ip_types::IpProto(6),
                port: 80,
            },
            app_srv: Address::Ip4(Ip4Address([10, 0, 0, 1])),
            flags: 1,
            in_use_since: 7,
            weight: 50,
            num_buckets: 150,
        };
        let mut buf = vec![0u8; message_len(&d)];
        let n = encode_message(&d, 99, [0; 4], 5, &mut buf).unwrap();
        assert_eq!(n, 54);
        // @44 flags, @45 in_use_since (BE), @49 weight, @50 num_buckets (BE).
        assert_eq!(buf[44], 1);
        assert_eq!(&buf[45..49], &7u32.to_be_bytes());
        assert_eq!(buf[49], 50);
        assert_eq!(&buf[50..54], &150u32.to_be_bytes());
        let (_, back, _) = decode_message::<LbAsV2Details>(&buf).unwrap();
        assert_eq!(back, d);
        let w = LbAsSetWeight {
            pfx: d.vip.pfx,
            protocol: 6,
            port: 80,
            as_address: d.app_srv,
            weight: 0,
            is_flush: true,
        };
        assert_eq!(w.encoded_len() + 10, 50);
    }
}
