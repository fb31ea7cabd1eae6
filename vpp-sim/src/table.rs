//! The VPP 26.06 message table with the message IDs VPP would assign.
//!
//! The facts of every message (module, name, CRC, kind, header, sizes, the offsets of
//! `retval`, the reply or details of a request) come from `vppapi_binapi::table`, the
//! data-only table generated with the bindings from the 26.06 `.api.json` files (all 144
//! modules, whatever Cargo features are on). What this module adds is VPP's ID assignment:
//!
//! IDs: memclnt takes 1..=28 (fixed); every other module gets a contiguous range in
//! registration order, its messages in `.api.json` order (`vl_msg_api_get_msg_ids`). The
//! registration order of a real VPP depends on its build and loaded plugins; we use the order a
//! real 26.06 (plugins lb, vxlan, arping) registered its modules in (read from the recorded
//! `sockclnt_create_reply`), so IDs of those modules are the real ones, and append the modules
//! that VPP did not load in alphabetical order.
//!
//! [`MessageTable::lb_api_1_2`] is the same table with the `lb` module of VPP master after
//! 26.06 (`lb.api` 1.2.0, from the `lb-api-next` crate): 26 messages instead of 18, so the IDs
//! of `lb`'s later messages and of every module registered after it move up by 8, as on a
//! master build.

use std::collections::HashMap;
use std::sync::OnceLock;

use vppapi_codec::{Message, MessageInfo};

/// Module registration order observed on a real VPP 26.06 (see the module docs): a fact of
/// that VPP, not derivable from the API files.
pub const RECORDED_MODULE_ORDER: &[&str] = &[
    "memclnt",
    "tm",
    "arp",
    "ip6_dad",
    "ip6_nd",
    "rd_cp",
    "arping",
    "lb",
    "vlib",
    "dev",
    "flow",
    "interface",
    "p2p_ethernet",
    "l2",
    "bond",
    "classify",
    "ip",
    "punt",
    "ip_neighbor",
    "bfd",
    "crypto",
    "ipsec",
    "tcp",
    "udp",
    "ipip",
    "mpls",
    "sr",
    "sr_pt",
    "ipfix_export",
    "gso",
    "span",
    "pg",
    "virtio",
    "pipe",
    "session",
    "feature",
    "fib",
    "qos",
    "bier",
    "syslog",
    "teib",
    "sfdp",
    "vpe",
    "vxlan",
];

/// Every 26.06 message, indexed by the ID the simulator gives it.
#[derive(Debug)]
pub struct MessageTable {
    /// `msgs[id - 1]`.
    msgs: Vec<&'static MessageInfo>,
    by_name: HashMap<&'static str, u16>,
    by_name_crc: HashMap<&'static str, u16>,
    /// Modules with messages, in registration (ID) order.
    modules: Vec<&'static str>,
}

impl MessageTable {
    /// The 26.06 table (built once).
    pub fn vpp_26_06() -> &'static MessageTable {
        static TABLE: OnceLock<MessageTable> = OnceLock::new();
        TABLE.get_or_init(|| MessageTable::build(None))
    }

    /// The 26.06 table with master's `lb.api` 1.2.0 in place of 26.06's 1.1.0 (built once).
    pub fn lb_api_1_2() -> &'static MessageTable {
        static TABLE: OnceLock<MessageTable> = OnceLock::new();
        TABLE.get_or_init(|| MessageTable::build(Some(lb_api_next::lb_module())))
    }

    /// [`MessageTable::lb_api_1_2`] when `lb_api_1_2`, else [`MessageTable::vpp_26_06`].
    pub fn for_lb_api(lb_api_1_2: bool) -> &'static MessageTable {
        if lb_api_1_2 {
            MessageTable::lb_api_1_2()
        } else {
            MessageTable::vpp_26_06()
        }
    }

    /// The table of every 26.06 module, with `lb`'s messages replaced by `lb` if given.
    fn build(lb: Option<&'static [MessageInfo]>) -> MessageTable {
        let mut modules: Vec<(&'static str, &'static [MessageInfo])> =
            vppapi_binapi::table::MODULES
                .iter()
                .filter(|(_, msgs)| !msgs.is_empty())
                .map(|&(m, msgs)| match (m, lb) {
                    ("lb", Some(lb)) => (m, lb),
                    _ => (m, msgs),
                })
                .collect();
        modules.sort_by_key(|(m, _)| {
            let pos = RECORDED_MODULE_ORDER.iter().position(|r| r == m);
            (pos.unwrap_or(usize::MAX), *m)
        });
        let mut t = MessageTable {
            msgs: Vec::new(),
            by_name: HashMap::new(),
            by_name_crc: HashMap::new(),
            modules: modules.iter().map(|(m, _)| *m).collect(),
        };
        for (_, msgs) in modules {
            for m in msgs {
                t.msgs.push(m);
                let id = u16::try_from(t.msgs.len()).expect("fewer than 65535 messages");
                t.by_name.entry(m.name).or_insert(id);
                t.by_name_crc.insert(m.name_crc, id);
            }
        }
        t
    }

    /// Number of messages (the highest ID).
    pub fn len(&self) -> usize {
        self.msgs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.msgs.is_empty()
    }

    /// The message with ID `id`.
    pub fn info(&self, id: u16) -> Option<&'static MessageInfo> {
        self.msgs.get(usize::from(id).checked_sub(1)?).copied()
    }

    /// ID of a message by bare name (the first module defining it).
    pub fn id(&self, name: &str) -> Option<u16> {
        self.by_name.get(name).copied()
    }

    /// ID of a message by `name_crc`.
    pub fn id_by_name_crc(&self, name_crc: &str) -> Option<u16> {
        self.by_name_crc.get(name_crc).copied()
    }

    /// ID of the message type `M` (by its `name_crc`: a type of another release has none).
    pub fn id_of<M: Message>(&self) -> Option<u16> {
        self.id_by_name_crc(M::NAME_CRC)
    }

    /// Every message with its ID, in ID order.
    pub fn iter(&self) -> impl Iterator<Item = (u16, &'static MessageInfo)> + '_ {
        self.msgs
            .iter()
            .enumerate()
            .map(|(i, m)| (i as u16 + 1, *m))
    }

    /// The modules that have messages, in registration (ID) order, memclnt first.
    pub fn modules(&self) -> &[&'static str] {
        &self.modules
    }
}
