//! `apply FILE`: a whole desired state in YAML or TOML, reconciled in one plan. Everything
//! evpn-tools owns and the file does not list is removed (vppcfg's prune), unless
//! `--keep-unlisted`; what others created is left alone unless `--prune-unowned`.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use reconcile::{PlanOptions, State};
use serde::Deserialize;

use crate::commands::{connect, BadInput, Done, Failure, Global};
use crate::mac::Mac;
use crate::model::{bvi_tag, key, loop_instance, Bd, IfAddr, Item, L2fib, Loopback, Vxlan};
use crate::output::Report;
use crate::reconcile_run::{engine, read, reconcile, RunOptions};

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// The desired state (`.yaml`, `.yml` or `.toml`).
    pub file: std::path::PathBuf,
    /// Leave objects evpn-tools owns but the file does not list.
    #[arg(long)]
    pub keep_unlisted: bool,
    /// Also remove objects evpn-tools did not create (the file is the whole truth).
    #[arg(long)]
    pub prune_unowned: bool,
    /// On a failure, undo what this run applied.
    #[arg(long)]
    pub rollback: bool,
}

/// The file.
#[derive(Debug, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DesiredFile {
    #[serde(default)]
    pub bridge_domains: Vec<BdSpec>,
    #[serde(default)]
    pub bvis: Vec<BviSpec>,
    #[serde(default)]
    pub vxlan: Vec<VxlanSpec>,
    #[serde(default)]
    pub l2fib: Vec<L2fibSpec>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BdSpec {
    pub id: u32,
    pub flood: Option<bool>,
    pub uu_flood: Option<bool>,
    pub forward: Option<bool>,
    pub learn: Option<bool>,
    pub arp_term: Option<bool>,
    pub arp_ufwd: Option<bool>,
    #[serde(default)]
    pub mac_age: u8,
    /// `IF` or `IF:SHG`.
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BviSpec {
    pub name: String,
    pub bd: u32,
    /// The ephemeral MAC; or `derive`.
    pub mac: Option<Mac>,
    pub derive: Option<DeriveSpec>,
    pub mtu: Option<u32>,
    /// When set, the BVI is bound: it holds this vMAC and the addresses.
    pub vmac: Option<Mac>,
    #[serde(default)]
    pub addresses: Vec<IfAddr>,
    #[serde(default = "yes")]
    pub up: bool,
    /// A linux-cp TAP paired with the BVI.
    pub lcp: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeriveSpec {
    pub group: String,
    pub instance: String,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VxlanSpec {
    pub instance: u32,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub vni: u32,
    pub bd: u32,
    #[serde(default = "one")]
    pub shg: u8,
    #[serde(default = "vxlan_port")]
    pub src_port: u16,
    #[serde(default = "vxlan_port")]
    pub dst_port: u16,
    #[serde(default)]
    pub encap_vrf_id: u32,
    #[serde(default)]
    pub remote_macs: Vec<Mac>,
}

fn one() -> u8 {
    1
}
fn vxlan_port() -> u16 {
    4789
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct L2fibSpec {
    pub bd: u32,
    pub mac: Mac,
    #[serde(rename = "if")]
    pub iface: String,
    #[serde(default = "yes")]
    pub r#static: bool,
}

/// Reads and parses a desired-state file (errors name the file, line and field).
pub fn load(path: &Path) -> Result<DesiredFile, BadInput> {
    let text =
        std::fs::read_to_string(path).map_err(|e| BadInput(format!("{}: {e}", path.display())))?;
    parse(&text, path)
}

/// Parses a desired-state document; TOML when `path` ends in `.toml`, else YAML.
pub fn parse(text: &str, path: &Path) -> Result<DesiredFile, BadInput> {
    let is_toml = path.extension().is_some_and(|e| e == "toml");
    let f: DesiredFile = if is_toml {
        toml::from_str(text).map_err(|e| BadInput(format!("{}: {e}", path.display())))?
    } else if text.trim().is_empty() {
        DesiredFile::default()
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| BadInput(format!("{}: {e}", path.display())))?
    };
    Ok(f)
}

/// The desired state of a file: validated (semantic errors are bad input too).
pub fn desired(f: &DesiredFile) -> Result<State<Item>, BadInput> {
    let mut bds: BTreeMap<u32, Bd> = BTreeMap::new();
    for b in &f.bridge_domains {
        if b.id == 0 || b.id >= 1 << 24 {
            return Err(BadInput(format!(
                "bridge-domains: id {} out of range 1..=16777215",
                b.id
            )));
        }
        let d = Bd::new(b.id);
        let mut members = BTreeMap::new();
        for m in &b.members {
            let (i, g) = match m.split_once(':') {
                Some((i, g)) => (
                    i,
                    g.parse::<u8>().map_err(|_| {
                        BadInput(format!(
                            "bridge-domains[{}]: member {m:?}: bad split-horizon group",
                            b.id
                        ))
                    })?,
                ),
                None => (m.as_str(), 0),
            };
            if members.insert(i.to_string(), g).is_some() {
                return Err(BadInput(format!(
                    "bridge-domains[{}]: member {i} listed twice",
                    b.id
                )));
            }
        }
        let bd = Bd {
            id: b.id,
            flood: b.flood.unwrap_or(d.flood),
            uu_flood: b.uu_flood.unwrap_or(d.uu_flood),
            forward: b.forward.unwrap_or(d.forward),
            learn: b.learn.unwrap_or(d.learn),
            arp_term: b.arp_term.unwrap_or(d.arp_term),
            arp_ufwd: b.arp_ufwd.unwrap_or(d.arp_ufwd),
            mac_age: b.mac_age,
            tag: d.tag,
            members,
        };
        if bds.insert(b.id, bd).is_some() {
            return Err(BadInput(format!(
                "bridge-domains: id {} listed twice",
                b.id
            )));
        }
    }
    let mut state = State::new();
    let mut bvi_of: BTreeMap<u32, &str> = BTreeMap::new();
    let mut seen_addrs: BTreeMap<IfAddr, &str> = BTreeMap::new();
    for v in &f.bvis {
        let instance = loop_instance(&v.name).ok_or_else(|| {
            BadInput(format!("bvis: {:?} is not a loopback name (loopN)", v.name))
        })?;
        if !bds.contains_key(&v.bd) {
            return Err(BadInput(format!(
                "bvis: {}: bridge domain {} is not in the file",
                v.name, v.bd
            )));
        }
        if let Some(o) = bvi_of.insert(v.bd, &v.name) {
            return Err(BadInput(format!(
                "bvis: bridge domain {} has two BVIs ({o} and {}); VPP allows one",
                v.bd, v.name
            )));
        }
        if bds[&v.bd].members.contains_key(&v.name) {
            return Err(BadInput(format!(
                "bvis: {} is the BVI of BD {} and also a member",
                v.name, v.bd
            )));
        }
        let eph = match (&v.mac, &v.derive) {
            (Some(_), Some(_)) => {
                return Err(BadInput(format!(
                    "bvis: {}: give mac or derive, not both",
                    v.name
                )))
            }
            (Some(m), None) => *m,
            (None, Some(d)) => Mac::derive(&d.group, &d.instance),
            (None, None) => Mac::derive(&format!("bd{}", v.bd), &v.name),
        };
        if v.vmac.is_none() && !v.addresses.is_empty() {
            return Err(BadInput(format!(
                "bvis: {}: addresses need a vmac (a candidate has only its link-local)",
                v.name
            )));
        }
        let mac = v.vmac.unwrap_or(eph);
        let mut addrs = v.addresses.clone();
        addrs.sort();
        addrs.dedup();
        for a in &addrs {
            if let Some(o) = seen_addrs.insert(*a, &v.name) {
                return Err(BadInput(format!(
                    "bvis: address {a} on both {o} and {}",
                    v.name
                )));
            }
        }
        let key_ = key::iface(&v.name);
        if state.contains(&key_) {
            return Err(BadInput(format!("bvis: {} listed twice", v.name)));
        }
        state.insert(
            key_,
            Item::Loopback(Loopback {
                instance,
                mac,
                tag: bvi_tag(eph),
                mtu: v.mtu,
                ll: Some(mac.link_local()),
                up: v.up,
                addrs,
                bvi_of: Some(v.bd),
                lcp: v.lcp.clone(),
            }),
        );
    }
    for t in &f.vxlan {
        let Some(bd) = bds.get_mut(&t.bd) else {
            return Err(BadInput(format!(
                "vxlan: instance {}: bridge domain {} is not in the file",
                t.instance, t.bd
            )));
        };
        if t.src.is_ipv4() != t.dst.is_ipv4() || t.src == t.dst {
            return Err(BadInput(format!(
                "vxlan: instance {}: src and dst must differ and be of one family",
                t.instance
            )));
        }
        if t.vni >= 1 << 24 {
            return Err(BadInput(format!(
                "vxlan: instance {}: vni above 16777215",
                t.instance
            )));
        }
        let name = key::vxlan_iface(t.instance);
        bd.members.insert(name.clone(), t.shg);
        if state.contains(&key::vxlan(t.instance)) {
            return Err(BadInput(format!(
                "vxlan: instance {} listed twice",
                t.instance
            )));
        }
        state.insert(
            key::vxlan(t.instance),
            Item::Vxlan(Vxlan {
                instance: t.instance,
                src: t.src,
                dst: t.dst,
                vni: t.vni,
                src_port: t.src_port,
                dst_port: t.dst_port,
                encap_vrf_id: t.encap_vrf_id,
            }),
        );
        for m in &t.remote_macs {
            state.insert(
                key::l2fib(t.bd, m),
                Item::L2fib(L2fib {
                    iface: name.clone(),
                    static_mac: true,
                    filter: false,
                    bvi: false,
                }),
            );
        }
    }
    for e in &f.l2fib {
        if !bds.contains_key(&e.bd) {
            return Err(BadInput(format!(
                "l2fib: {}: bridge domain {} is not in the file",
                e.mac, e.bd
            )));
        }
        let k = key::l2fib(e.bd, &e.mac);
        if state.contains(&k) {
            return Err(BadInput(format!(
                "l2fib: {} in BD {} listed twice",
                e.mac, e.bd
            )));
        }
        state.insert(
            k,
            Item::L2fib(L2fib {
                iface: e.iface.clone(),
                static_mac: e.r#static,
                filter: false,
                bvi: false,
            }),
        );
    }
    for (id, bd) in bds {
        state.insert(key::bd(id), Item::Bd(bd));
    }
    Ok(state)
}

pub async fn apply(g: &Global, a: ApplyArgs) -> Result<Done, Failure> {
    let f = load(&a.file)?;
    let desired = desired(&f)?;
    let mut vpp = connect(g, &g.socket).await?;
    crate::commands::check_required(&vpp)?;
    let e = engine();
    let t = std::time::Instant::now();
    let actual = read(&e, &mut vpp).await?;
    let read_ms = t.elapsed().as_secs_f64() * 1e3;
    let scope = if a.keep_unlisted {
        Vec::new()
    } else {
        ["bd/", "interface/", "l2fib/", "vxlan/"]
            .map(String::from)
            .to_vec()
    };
    let opts = RunOptions {
        plan: PlanOptions {
            scope,
            prune_unowned: a.prune_unowned,
            ..Default::default()
        },
        rollback: a.rollback,
    };
    let mut report = Report::new("apply");
    let mut step = reconcile("apply", &mut vpp, &e, &desired, &actual, &opts).await;
    step.timings_ms.read = (read_ms * 1e3).round() / 1e3;
    report.steps.push(step);
    Ok(Done::Report(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "
bridge-domains:
  - { id: 100, uu-flood: false, mac-age: 5, members: [pg0] }
  - { id: 200 }
bvis:
  - { name: loop100, bd: 100, mac: '02:00:00:00:01:00', vmac: '42:6c:fa:d6:82:98',
      addresses: [172.16.0.32/24, 'fec0::32/64'] }
  - { name: loop200, bd: 200, derive: { group: g, instance: i } }
vxlan:
  - { instance: 7, src: 192.0.2.1, dst: 192.0.2.2, vni: 100, bd: 100, remote-macs: ['02:aa:00:00:00:01'] }
";

    #[test]
    fn yaml_and_toml_give_the_same_state() {
        let y = parse(YAML, Path::new("x.yaml")).unwrap();
        let toml = r#"
[[bridge-domains]]
id = 100
uu-flood = false
mac-age = 5
members = ["pg0"]
[[bridge-domains]]
id = 200
[[bvis]]
name = "loop100"
bd = 100
mac = "02:00:00:00:01:00"
vmac = "42:6c:fa:d6:82:98"
addresses = ["172.16.0.32/24", "fec0::32/64"]
[[bvis]]
name = "loop200"
bd = 200
derive = { group = "g", instance = "i" }
[[vxlan]]
instance = 7
src = "192.0.2.1"
dst = "192.0.2.2"
vni = 100
bd = 100
remote-macs = ["02:aa:00:00:00:01"]
"#;
        let t = parse(toml, Path::new("x.toml")).unwrap();
        assert_eq!(y, t);
        let s = desired(&y).unwrap();
        let Some(Item::Bd(b)) = s.get("bd/100").map(|e| &e.value) else {
            panic!()
        };
        assert_eq!(b.members.get("vxlan_tunnel7"), Some(&1));
        assert!(!b.uu_flood && b.mac_age == 5);
        let Some(Item::Loopback(l)) = s.get("interface/loop100").map(|e| &e.value) else {
            panic!()
        };
        assert_eq!(l.mac.to_string(), "42:6c:fa:d6:82:98");
        assert_eq!(l.tag, "evpn-tools:bvi:02:00:00:00:01:00");
        assert!(s.contains("l2fib/100/02:aa:00:00:00:01"));
    }

    #[test]
    fn bad_files_say_where_and_what() {
        let e = parse(
            "bridge-domains:\n  - { id: 1, colour: red }\n",
            Path::new("f.yaml"),
        )
        .unwrap_err();
        assert!(e.0.contains("f.yaml") && e.0.contains("colour"), "{}", e.0);
        let e = parse("bridge-domains = 3", Path::new("f.toml")).unwrap_err();
        assert!(e.0.contains("f.toml"), "{}", e.0);
        let two_bvis =
            "bridge-domains: [{id: 1}]\nbvis: [{name: loop1, bd: 1}, {name: loop2, bd: 1}]\n";
        let e = desired(&parse(two_bvis, Path::new("f.yaml")).unwrap()).unwrap_err();
        assert!(e.0.contains("two BVIs"), "{}", e.0);
        let no_bd = "bvis: [{name: loop1, bd: 1}]\n";
        assert!(desired(&parse(no_bd, Path::new("f.yaml")).unwrap())
            .unwrap_err()
            .0
            .contains("not in the file"));
        let addr_no_vmac =
            "bridge-domains: [{id: 1}]\nbvis: [{name: loop1, bd: 1, addresses: [10.0.0.1/24]}]\n";
        assert!(desired(&parse(addr_no_vmac, Path::new("f.yaml")).unwrap())
            .unwrap_err()
            .0
            .contains("vmac"));
        assert!(parse("bvis: [{name: loop1, bd: 1, mac: zz}]", Path::new("f.yaml")).is_err());
        assert_eq!(
            parse("", Path::new("f.yaml")).unwrap(),
            DesiredFile::default()
        );
    }
}
