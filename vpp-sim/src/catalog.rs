//! The VPP 26.06 message table: every message of every module of the 26.06 API tree, with the
//! message IDs VPP would assign.
//!
//! `data/catalog-26.06.tsv` is generated from the 26.06 `.api.json` files (and checked against
//! them by `tests/catalog.rs`): per message its module, name, CRC, kind, fixed size and the
//! offsets of `context` / `client_index` / `retval`, and for requests the reply (`*details` for
//! legacy dumps, `reply+details` for cursor services).
//!
//! IDs: memclnt takes 1..=28 (fixed); every other module gets a contiguous range in
//! registration order, its messages in `.api.json` order (`vl_msg_api_get_msg_ids`). The
//! registration order of a real VPP depends on its build and loaded plugins; we use the order a
//! real 26.06 (plugins lb, vxlan, arping) registered its modules in (read from the recorded
//! `sockclnt_create_reply`), so IDs of those modules are the real ones, and append the modules
//! that VPP did not load in alphabetical order.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Module registration order observed on a real VPP 26.06 (see the module docs).
const RECORDED_MODULE_ORDER: &[&str] = &[
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

const CATALOG_TSV: &str = include_str!("../data/catalog-26.06.tsv");

/// What a message is, from the services of its API file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Request,
    Reply,
    Details,
    Event,
    Other,
}

/// How VPP answers a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `returns null`: nothing.
    Nothing,
    /// One reply message.
    Reply(&'static str),
    /// Legacy dump: details, terminated by the client's `control_ping`.
    Dump(&'static str),
    /// Cursor service: details then the `_get_reply`.
    Cursor {
        reply: &'static str,
        details: &'static str,
    },
}

/// One message definition.
#[derive(Debug, Clone)]
pub struct MessageDef {
    pub id: u16,
    pub module: &'static str,
    pub name: &'static str,
    pub crc: u32,
    /// `name_crc` as in VPP's table.
    pub name_crc: String,
    pub kind: Kind,
    /// Fixed part incl. `_vl_msg_id` (VPP drops shorter bodies).
    pub fixed_size: usize,
    pub context_off: Option<usize>,
    pub client_index_off: Option<usize>,
    pub retval_off: Option<usize>,
    pub answer: Answer,
}

/// The whole table, indexed by message ID.
#[derive(Debug)]
pub struct Catalog {
    defs: Vec<MessageDef>,
    by_name: HashMap<&'static str, u16>,
    by_name_crc: HashMap<String, u16>,
}

fn opt(s: &str) -> Option<usize> {
    s.parse().ok()
}

impl Catalog {
    /// The 26.06 table (parsed once).
    pub fn vpp_26_06() -> &'static Catalog {
        static CAT: OnceLock<Catalog> = OnceLock::new();
        CAT.get_or_init(|| Catalog::parse(CATALOG_TSV))
    }

    fn parse(text: &'static str) -> Catalog {
        // module -> rows in file order
        let mut modules: Vec<(&'static str, Vec<Vec<&'static str>>)> = Vec::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let cols: Vec<&'static str> = line.split('\t').collect();
            assert_eq!(cols.len(), 9, "catalog line: {line}");
            match modules.iter_mut().find(|(m, _)| *m == cols[0]) {
                Some((_, rows)) => rows.push(cols),
                None => modules.push((cols[0], vec![cols])),
            }
        }
        modules.sort_by_key(|(m, _)| {
            let pos = RECORDED_MODULE_ORDER.iter().position(|r| r == m);
            (pos.unwrap_or(usize::MAX), *m)
        });
        let mut defs = Vec::new();
        let mut by_name = HashMap::new();
        let mut by_name_crc = HashMap::new();
        for (_, rows) in modules {
            for c in rows {
                let id = u16::try_from(defs.len() + 1).expect("fewer than 65535 messages");
                let kind = match c[3] {
                    "request" => Kind::Request,
                    "reply" => Kind::Reply,
                    "details" => Kind::Details,
                    "event" => Kind::Event,
                    _ => Kind::Other,
                };
                let answer = if c[8] == "-" {
                    Answer::Nothing
                } else if let Some(d) = c[8].strip_prefix('*') {
                    Answer::Dump(d)
                } else if let Some((r, d)) = c[8].split_once('+') {
                    Answer::Cursor {
                        reply: r,
                        details: d,
                    }
                } else {
                    Answer::Reply(c[8])
                };
                let def = MessageDef {
                    id,
                    module: c[0],
                    name: c[1],
                    crc: u32::from_str_radix(c[2], 16).expect("crc"),
                    name_crc: format!("{}_{}", c[1], c[2]),
                    kind,
                    fixed_size: c[4].parse().expect("size"),
                    context_off: opt(c[5]),
                    client_index_off: opt(c[6]),
                    retval_off: opt(c[7]),
                    answer,
                };
                by_name.entry(def.name).or_insert(id);
                by_name_crc.insert(def.name_crc.clone(), id);
                defs.push(def);
            }
        }
        Catalog {
            defs,
            by_name,
            by_name_crc,
        }
    }

    /// Number of messages (the highest ID).
    pub fn len(&self) -> usize {
        self.defs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    pub fn by_id(&self, id: u16) -> Option<&MessageDef> {
        self.defs.get(usize::from(id).checked_sub(1)?)
    }

    /// ID of a message by bare name (the first module defining it).
    pub fn id(&self, name: &str) -> Option<u16> {
        self.by_name.get(name).copied()
    }

    pub fn id_by_name_crc(&self, name_crc: &str) -> Option<u16> {
        self.by_name_crc.get(name_crc).copied()
    }

    pub fn def(&self, name: &str) -> Option<&MessageDef> {
        self.by_id(self.id(name)?)
    }

    pub fn iter(&self) -> impl Iterator<Item = &MessageDef> {
        self.defs.iter()
    }
}
