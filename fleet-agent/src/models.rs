//! The agent's models (like `agentctl model`): each has a key prefix under
//! `/vnf-agent/<label>/config/`, a JSON value schema, and maps onto one value of evpn-tools'
//! reconcile engine (operator-tools.md §5.3).
//!
//! | model | store key (after `/vnf-agent/<label>/config/`) | engine key |
//! |---|---|---|
//! | bridge domain | `evpn/bd/v1/<id>` | `bd/<id>` (members derived) |
//! | BVI loopback | `evpn/bvi/v1/loop<N>` | `interface/loop<N>` (MAC, link-local, addresses, BVI port derived) |
//! | l2fib entry | `evpn/l2fib/v1/<bd>/<mac>` | `l2fib/<bd>/<mac>` |
//! | VXLAN tunnel | `evpn/vxlan/v1/<instance>` | `vxlan/<instance>` (its interface derived) |
//!
//! A value that does not parse, or breaks a rule across keys (two BVIs for one BD, one address
//! on two BVIs), is *invalid*: it is left out of the plan and its status names the key and the
//! problem. Nothing here panics on input.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use evpn_tools::mac::Mac;
use evpn_tools::model::{bvi_tag, key, loop_instance, Bd, IfAddr, Item, L2fib, Loopback, Vxlan};
use reconcile::State;
use serde::Deserialize;
use serde_json::{json, Value as Json};

/// One model: name, key prefix (relative to the label's config prefix) and schema.
pub struct Model {
    pub name: &'static str,
    /// `evpn/bd/v1/`.
    pub prefix: &'static str,
    /// The object id's shape.
    pub id: &'static str,
    pub schema: fn() -> Json,
}

/// Every model the agent knows.
pub fn models() -> Vec<Model> {
    vec![
        Model {
            name: "bridge-domain",
            prefix: "evpn/bd/v1/",
            id: "<bd-id 1..16777215>",
            schema: || {
                json!({
                    "flood": "bool (default true)", "uu_flood": "bool (default true)",
                    "forward": "bool (default true)", "learn": "bool (default true)",
                    "arp_term": "bool (default false)", "arp_ufwd": "bool (default false)",
                    "mac_age": "u8 minutes (default 0)",
                    "members": "[\"IF\" or \"IF:SHG\"] (not the BVI; a VXLAN tunnel is vxlan_tunnel<N>)"
                })
            },
        },
        Model {
            name: "bvi",
            prefix: "evpn/bvi/v1/",
            id: "loop<N>",
            schema: || {
                json!({
                    "bd": "u32 (required): the BD whose BVI this loopback is",
                    "mac": "MAC (ephemeral MAC; default derived from bd and name)",
                    "vmac": "MAC (bound: the gateway's vMAC; addresses need it)",
                    "addresses": "[\"ADDR/LEN\"]", "up": "bool (default true)", "mtu": "u32"
                })
            },
        },
        Model {
            name: "l2fib",
            prefix: "evpn/l2fib/v1/",
            id: "<bd-id>/<mac>",
            schema: || json!({ "if": "interface name (required)", "static": "bool (default true)" }),
        },
        Model {
            name: "lb-conf",
            prefix: "lb/conf/v1/",
            id: "global (the only one)",
            schema: || {
                json!({
                    "ip4-src": "IPv4 (required): GRE source", "ip6-src": "IPv6 (required)",
                    "buckets": "u32, a power of two (default 1024)", "timeout": "seconds or \"40s\"",
                    "managed-prefixes": "[\"PREFIX\"]: where a VIP whose key is deleted is removed"
                })
            },
        },
        Model {
            name: "lb-vip",
            prefix: "lb/vip/v1/",
            id: "<any name>",
            schema: || {
                json!({
                    "prefix": "VIP prefix (required)", "protocol": "tcp|udp|any", "port": "u16",
                    "encap": "gre4|gre6|l3dsr|nat4|nat6", "new-len": "u32, a power of two (default 1024)",
                    "sticky": "bool", "flush": "bool (default true)",
                    "as": "[\"ADDR\" or {\"address\": ADDR, \"weight\": 0..100}]"
                })
            },
        },
        Model {
            name: "vxlan-tunnel",
            prefix: "evpn/vxlan/v1/",
            id: "<instance> (interface vxlan_tunnel<instance>)",
            schema: || {
                json!({
                    "src": "IP (required)", "dst": "IP (required)", "vni": "u32 < 2^24 (required)",
                    "src_port": "u16 (default 4789)", "dst_port": "u16 (default 4789)",
                    "encap_vrf_id": "u32 (default 0)"
                })
            },
        },
    ]
}

/// The label's prefixes.
#[derive(Debug, Clone)]
pub struct Label {
    pub name: String,
}

impl Label {
    pub fn new(name: &str) -> Result<Label, String> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(format!(
                "bad label {name:?}: use letters, digits, '-', '_', '.'"
            ));
        }
        Ok(Label { name: name.into() })
    }
    /// `/vnf-agent/<label>/config/`.
    pub fn config_prefix(&self) -> String {
        format!("/vnf-agent/{}/config/", self.name)
    }
    /// `/vnf-agent/<label>/status/`.
    pub fn status_prefix(&self) -> String {
        format!("/vnf-agent/{}/status/", self.name)
    }
    /// The status key of a config key.
    pub fn status_key(&self, config_key: &str) -> String {
        match config_key.strip_prefix(&self.config_prefix()) {
            Some(rest) => format!("{}{rest}", self.status_prefix()),
            None => format!("{}{config_key}", self.status_prefix()),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BdValue {
    flood: Option<bool>,
    uu_flood: Option<bool>,
    forward: Option<bool>,
    learn: Option<bool>,
    arp_term: Option<bool>,
    arp_ufwd: Option<bool>,
    #[serde(default)]
    mac_age: u8,
    #[serde(default)]
    members: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BviValue {
    bd: u32,
    mac: Option<Mac>,
    vmac: Option<Mac>,
    #[serde(default)]
    addresses: Vec<IfAddr>,
    #[serde(default = "yes")]
    up: bool,
    mtu: Option<u32>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct L2fibValue {
    #[serde(rename = "if")]
    iface: String,
    #[serde(default = "yes")]
    r#static: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VxlanValue {
    src: IpAddr,
    dst: IpAddr,
    vni: u32,
    #[serde(default = "vxlan_port")]
    src_port: u16,
    #[serde(default = "vxlan_port")]
    dst_port: u16,
    #[serde(default)]
    encap_vrf_id: u32,
}

fn vxlan_port() -> u16 {
    4789
}

fn bd_id(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(id) if id > 0 && id < 1 << 24 => Ok(id),
        _ => Err(format!("bad bridge-domain id {s:?}: 1..=16777215")),
    }
}

fn value<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T, String> {
    serde_json::from_str(raw).map_err(|e| format!("bad value: {e}"))
}

/// The engine key and value of one store entry (`rel`: the key after the config prefix).
pub fn parse_entry(rel: &str, raw: &str) -> Result<(String, Item), String> {
    let (model, id) = models()
        .into_iter()
        .find_map(|m| rel.strip_prefix(m.prefix).map(|id| (m, id)))
        .ok_or_else(|| {
            format!(
                "unknown model (known prefixes: {})",
                models()
                    .iter()
                    .map(|m| m.prefix)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    match model.name {
        "bridge-domain" => {
            let id = bd_id(id)?;
            let v: BdValue = value(raw)?;
            let d = Bd::new(id);
            let mut members = BTreeMap::new();
            for m in &v.members {
                let (i, g) = match m.split_once(':') {
                    Some((i, g)) => (
                        i,
                        g.parse::<u8>()
                            .map_err(|_| format!("member {m:?}: bad split-horizon group"))?,
                    ),
                    None => (m.as_str(), 0),
                };
                if i.is_empty() {
                    return Err(format!("member {m:?}: empty interface name"));
                }
                if members.insert(i.to_string(), g).is_some() {
                    return Err(format!("member {i} listed twice"));
                }
            }
            Ok((
                key::bd(id),
                Item::Bd(Bd {
                    id,
                    flood: v.flood.unwrap_or(d.flood),
                    uu_flood: v.uu_flood.unwrap_or(d.uu_flood),
                    forward: v.forward.unwrap_or(d.forward),
                    learn: v.learn.unwrap_or(d.learn),
                    arp_term: v.arp_term.unwrap_or(d.arp_term),
                    arp_ufwd: v.arp_ufwd.unwrap_or(d.arp_ufwd),
                    mac_age: v.mac_age,
                    tag: d.tag,
                    members,
                }),
            ))
        }
        "bvi" => {
            let instance = loop_instance(id)
                .ok_or_else(|| format!("{id:?} is not a loopback name (loopN)"))?;
            let v: BviValue = value(raw)?;
            bd_id(&v.bd.to_string())?;
            if v.vmac.is_none() && !v.addresses.is_empty() {
                return Err("addresses need a vmac (a candidate has only its link-local)".into());
            }
            let eph = v
                .mac
                .unwrap_or_else(|| Mac::derive(&format!("bd{}", v.bd), id));
            let mac = v.vmac.unwrap_or(eph);
            let mut addrs = v.addresses;
            addrs.sort();
            addrs.dedup();
            Ok((
                key::iface(id),
                Item::Loopback(Loopback {
                    instance,
                    mac,
                    tag: bvi_tag(eph),
                    mtu: v.mtu,
                    ll: Some(mac.link_local()),
                    up: v.up,
                    addrs,
                    bvi_of: Some(v.bd),
                    lcp: None,
                }),
            ))
        }
        "l2fib" => {
            let (bd, mac) = id
                .split_once('/')
                .ok_or_else(|| format!("bad id {id:?}: expected <bd-id>/<mac>"))?;
            let bd = bd_id(bd)?;
            let mac: Mac = mac.parse().map_err(|e| format!("bad MAC {mac:?}: {e}"))?;
            let v: L2fibValue = value(raw)?;
            if v.iface.is_empty() {
                return Err("\"if\" is empty".into());
            }
            Ok((
                key::l2fib(bd, &mac),
                Item::L2fib(L2fib {
                    iface: v.iface,
                    static_mac: v.r#static,
                    filter: false,
                    bvi: false,
                }),
            ))
        }
        "vxlan-tunnel" => {
            let instance: u32 = id
                .parse()
                .map_err(|_| format!("bad instance {id:?}: a number"))?;
            let v: VxlanValue = value(raw)?;
            if v.src.is_ipv4() != v.dst.is_ipv4() || v.src == v.dst {
                return Err("src and dst must differ and be of one family".into());
            }
            if v.vni >= 1 << 24 {
                return Err("vni above 16777215".into());
            }
            Ok((
                key::vxlan(instance),
                Item::Vxlan(Vxlan {
                    instance,
                    src: v.src,
                    dst: v.dst,
                    vni: v.vni,
                    src_port: v.src_port,
                    dst_port: v.dst_port,
                    encap_vrf_id: v.encap_vrf_id,
                }),
            ))
        }
        _ => Err("unknown model".into()),
    }
}

/// The engine key of a store key (after the config prefix), from the key alone (for values
/// that do not parse: they are held at what VPP has).
pub fn engine_key_of(rel: &str) -> Option<String> {
    if let Some(id) = rel.strip_prefix("evpn/bd/v1/") {
        return bd_id(id).ok().map(key::bd);
    }
    if let Some(id) = rel.strip_prefix("evpn/bvi/v1/") {
        return loop_instance(id).map(|_| key::iface(id));
    }
    if let Some(id) = rel.strip_prefix("evpn/l2fib/v1/") {
        let (bd, mac) = id.split_once('/')?;
        return Some(key::l2fib(bd_id(bd).ok()?, &mac.parse().ok()?));
    }
    if let Some(id) = rel.strip_prefix("evpn/vxlan/v1/") {
        return id.parse().ok().map(key::vxlan);
    }
    None
}

/// The root engine key of an engine key (a derived value's parent): `bd/<id>/member/x` ->
/// `bd/<id>`, `interface/loop1/addr/...` -> `interface/loop1`, others unchanged.
pub fn root_key(k: &str) -> String {
    let p: Vec<&str> = k.split('/').collect();
    match p.as_slice() {
        ["bd", id, ..] => format!("bd/{id}"),
        ["interface", n, ..] => format!("interface/{n}"),
        ["vxlan", i, ..] => format!("vxlan/{i}"),
        _ => k.to_string(),
    }
}

/// The desired state of a store snapshot.
#[derive(Debug, Default)]
pub struct Desired {
    pub state: State<Item>,
    /// Engine root key -> store key.
    pub owner: HashMap<String, String>,
    /// Store key -> why it is invalid (left out of the plan).
    pub invalid: BTreeMap<String, String>,
}

/// Builds the desired state from the label's config entries (full store keys -> raw JSON).
pub fn desired(label: &Label, entries: &BTreeMap<String, String>) -> Desired {
    let prefix = label.config_prefix();
    let mut d = Desired::default();
    let mut bvi_of: BTreeMap<u32, String> = BTreeMap::new();
    let mut addrs: BTreeSet<String> = BTreeSet::new();
    for (k, raw) in entries {
        let Some(rel) = k.strip_prefix(&prefix) else {
            continue;
        };
        // The LB models are parsed by `crate::lb`.
        if rel.starts_with("lb/") {
            continue;
        }
        let (ek, item) = match parse_entry(rel, raw) {
            Ok(x) => x,
            Err(e) => {
                d.invalid.insert(k.clone(), e);
                continue;
            }
        };
        if let Item::Loopback(l) = &item {
            if let Some(bd) = l.bvi_of {
                if let Some(o) = bvi_of.get(&bd) {
                    d.invalid.insert(
                        k.clone(),
                        format!("bridge domain {bd} already has a BVI ({o}); VPP allows one"),
                    );
                    continue;
                }
            }
            if let Some(a) = l.addrs.iter().find(|a| addrs.contains(&a.to_string())) {
                d.invalid
                    .insert(k.clone(), format!("address {a} is on another BVI too"));
                continue;
            }
            if let Some(bd) = l.bvi_of {
                bvi_of.insert(bd, k.clone());
            }
            addrs.extend(l.addrs.iter().map(|a| a.to_string()));
        }
        d.owner.insert(ek.clone(), k.clone());
        d.state.insert(ek, item);
    }
    // A BVI listed as a member of its own BD: the BD value is wrong.
    let bad_bds: Vec<String> = d
        .state
        .iter()
        .filter_map(|(ek, e)| match &e.value {
            Item::Bd(b) => b
                .members
                .keys()
                .find(|m| {
                    matches!(d.state.get(&key::iface(m)).map(|e| &e.value),
                        Some(Item::Loopback(l)) if l.bvi_of == Some(b.id))
                })
                .map(|m| (ek.to_string(), m.clone())),
            _ => None,
        })
        .map(|(ek, m)| {
            let sk = d.owner.get(&ek).cloned().unwrap_or_default();
            d.invalid.insert(
                sk,
                format!("member {m} is this bridge domain's BVI (a BVI is not a member)"),
            );
            ek
        })
        .collect();
    for ek in bad_bds {
        d.state.remove(&ek);
        d.owner.remove(&ek);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (format!("/vnf-agent/a/config/{k}"), v.to_string()))
            .collect()
    }

    #[test]
    fn values_map_onto_engine_keys() {
        let l = Label::new("a").unwrap();
        let d = desired(
            &l,
            &entries(&[
                (
                    "evpn/bd/v1/100",
                    r#"{"uu_flood": false, "members": ["pg0:1"]}"#,
                ),
                (
                    "evpn/bvi/v1/loop100",
                    r#"{"bd": 100, "vmac": "42:6c:fa:d6:82:98", "addresses": ["10.0.0.1/24"]}"#,
                ),
                ("evpn/l2fib/v1/100/02:00:00:00:00:01", r#"{"if": "pg0"}"#),
                (
                    "evpn/vxlan/v1/7",
                    r#"{"src": "192.0.2.1", "dst": "192.0.2.2", "vni": 7}"#,
                ),
            ]),
        );
        assert!(d.invalid.is_empty(), "{:?}", d.invalid);
        let keys: Vec<&str> = d.state.keys().collect();
        assert_eq!(
            keys.len(),
            4,
            "{keys:?} (bd/100, interface/loop100, l2fib, vxlan)"
        );
        assert_eq!(
            d.owner["interface/loop100"],
            "/vnf-agent/a/config/evpn/bvi/v1/loop100"
        );
        assert_eq!(root_key("bd/100/member/pg0"), "bd/100");
        assert_eq!(
            root_key("interface/loop1/addr/10.0.0.1/24"),
            "interface/loop1"
        );
        assert_eq!(
            l.status_key("/vnf-agent/a/config/evpn/bd/v1/1"),
            "/vnf-agent/a/status/evpn/bd/v1/1"
        );
    }

    #[test]
    fn bad_values_are_invalid_with_a_reason() {
        let l = Label::new("a").unwrap();
        let d = desired(
            &l,
            &entries(&[
                ("evpn/bd/v1/0", "{}"),
                ("evpn/bd/v1/5", r#"{"colour": "red"}"#),
                ("evpn/bd/v1/6", "not json"),
                ("evpn/bvi/v1/eth0", r#"{"bd": 1}"#),
                (
                    "evpn/bvi/v1/loop1",
                    r#"{"bd": 1, "addresses": ["10.0.0.1/24"]}"#,
                ),
                ("evpn/bvi/v1/loop2", r#"{"bd": 2}"#),
                ("evpn/bvi/v1/loop3", r#"{"bd": 2}"#),
                ("evpn/l2fib/v1/1/zz", r#"{"if": "pg0"}"#),
                ("evpn/nat/v1/1", "{}"),
            ]),
        );
        let why = |k: &str| d.invalid[&format!("/vnf-agent/a/config/{k}")].clone();
        assert!(why("evpn/bd/v1/0").contains("1..=16777215"));
        assert!(why("evpn/bd/v1/5").contains("colour"));
        assert!(why("evpn/bd/v1/6").contains("bad value"));
        assert!(why("evpn/bvi/v1/eth0").contains("loopN"));
        assert!(why("evpn/bvi/v1/loop1").contains("vmac"));
        assert!(why("evpn/bvi/v1/loop3").contains("already has a BVI"));
        assert!(why("evpn/l2fib/v1/1/zz").contains("bad MAC"));
        assert!(why("evpn/nat/v1/1").contains("unknown model"));
        assert_eq!(d.state.iter().count(), 1, "only loop2");
        assert!(Label::new("a/b").is_err() && Label::new("").is_err());
    }
}
