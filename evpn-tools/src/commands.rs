//! The eVPN commands (operator-tools.md §3.4): each reads VPP once, edits the values it is
//! about (copied from what it read), and reconciles; `info`, `show` and `watch` only read.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use reconcile::{PlanOptions, State};
use serde_json::json;
use vppapi_binapi::arping::Arping;
use vppapi_binapi::l2::{L2FibTableDump, L2fibFlushBd};
use vppapi_binapi::memclnt::ControlPing;
use vppapi_binapi::vpe::ShowVersion;
use vppapi_runtime::{Connection, Message};

use crate::mac::Mac;
use crate::model::{
    self, bvi_tag, ephemeral_from_tag, key, Bd, IfAddr, Item, L2fib, Loopback, Vxlan,
};
use crate::output::{exit, Report, Step};
use crate::reconcile_run::{engine, read, reconcile, RunOptions};
use crate::vpp::{address, Vpp, VppOptions};
use reconcile::Engine;

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// VPP's API socket.
    #[arg(long, global = true, default_value = "/run/vpp/api.sock")]
    pub socket: PathBuf,
    /// Print one JSON document instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log every request and reply as a JSON line on stderr.
    #[arg(long, global = true)]
    pub trace: bool,
    /// Print the plan and the exact messages; send nothing that changes VPP.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Exit 3 when values stay PENDING.
    #[arg(long, global = true)]
    pub strict: bool,
    /// Reply timeout per message.
    #[arg(long, global = true, default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
}

/// Parses `500ms`, `1s`, `2.5s`, `1m` (the runtime's config syntax).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    vppapi_runtime::config::parse_duration(s)
}

/// A bad flag or file: exit 2.
#[derive(Debug)]
pub struct BadInput(pub String);

/// What a command ends with.
pub enum Done {
    Report(Report),
    /// Output already printed (show, info, watch), with this exit code.
    Printed(i32),
}

/// Connects to the VPP at `socket`.
pub async fn connect(g: &Global, socket: &std::path::Path) -> Result<Vpp, String> {
    // No socket file at all: say so at once rather than retrying until the timeout.
    if !socket.exists() {
        return Err(format!(
            "no VPP API socket at {} (is VPP running? --socket names the path)",
            socket.display()
        ));
    }
    let cfg = vppapi_runtime::Config {
        endpoint: vppapi_runtime::Endpoint::Socket(socket.to_path_buf()),
        client_name: "evpn-tools".into(),
        reply_timeout: g.timeout,
        connect_timeout: g.timeout,
        ..vppapi_runtime::Config::default()
    };
    let conn = Connection::connect(cfg)
        .await
        .map_err(|e| format!("cannot connect to VPP at {}: {e}", socket.display()))?;
    Ok(Vpp::new(
        conn,
        VppOptions {
            dry_run: g.dry_run,
            trace: g.trace,
        },
    ))
}

/// The messages every mutating eVPN command needs, checked by `name_crc` before any change.
pub fn required_messages() -> Vec<&'static str> {
    use vppapi_binapi::interface::*;
    use vppapi_binapi::ip::*;
    use vppapi_binapi::l2::*;
    vec![
        BridgeDomainAddDelV2::NAME_CRC,
        BridgeFlags::NAME_CRC,
        BridgeDomainSetMacAge::NAME_CRC,
        BridgeDomainDump::NAME_CRC,
        SwInterfaceSetL2Bridge::NAME_CRC,
        L2fibAddDel::NAME_CRC,
        L2FibTableDump::NAME_CRC,
        L2fibFlushBd::NAME_CRC,
        CreateLoopbackInstance::NAME_CRC,
        DeleteLoopback::NAME_CRC,
        SwInterfaceTagAddDel::NAME_CRC,
        SwInterfaceSetMtu::NAME_CRC,
        SwInterfaceSetFlags::NAME_CRC,
        SwInterfaceSetMacAddress::NAME_CRC,
        SwInterfaceDump::NAME_CRC,
        SwInterfaceAddDelAddress::NAME_CRC,
        IpAddressDump::NAME_CRC,
        SwInterfaceIp6SetLinkLocalAddress::NAME_CRC,
        SwInterfaceIp6GetLinkLocalAddress::NAME_CRC,
    ]
}

/// Optional messages: (name_crc, what is lost without it).
pub fn optional_messages() -> Vec<(&'static str, &'static str)> {
    use vppapi_binapi::interface::WantInterfaceEvents;
    use vppapi_binapi::l2::WantL2MacsEvents2;
    use vppapi_binapi::lcp::LcpItfPairAddDelV2;
    use vppapi_binapi::vxlan::{VxlanAddDelTunnelV3, VxlanTunnelV2Dump};
    vec![
        (Arping::NAME_CRC, "GARP after bind (arping plugin)"),
        (VxlanAddDelTunnelV3::NAME_CRC, "vxlan ensure (vxlan plugin)"),
        (
            VxlanTunnelV2Dump::NAME_CRC,
            "reading VXLAN tunnels (vxlan plugin)",
        ),
        (LcpItfPairAddDelV2::NAME_CRC, "LCP pairs (linux-cp plugin)"),
        (WantInterfaceEvents::NAME_CRC, "interface events"),
        (WantL2MacsEvents2::NAME_CRC, "learned-MAC events"),
    ]
}

pub fn check_required(vpp: &Vpp) -> Result<(), String> {
    let missing = vpp.missing(&required_messages());
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "this VPP lacks messages evpn-tools needs (nothing was sent): {}",
            missing.join(", ")
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// bd

#[derive(Debug, Subcommand)]
pub enum BdCmd {
    /// Create the BD or bring its flags, MAC age and members in line.
    Ensure(BdEnsure),
    /// Remove the BD (members and BVI leave it first).
    Delete {
        #[arg(long)]
        id: u32,
        /// Delete it even if evpn-tools did not create it.
        #[arg(long)]
        force: bool,
    },
    /// Show bridge domains.
    Show {
        #[arg(long)]
        id: Option<u32>,
    },
}

#[derive(Debug, Args)]
pub struct BdEnsure {
    #[arg(long)]
    pub id: u32,
    #[arg(long, overrides_with = "no_flood")]
    pub flood: bool,
    #[arg(long)]
    pub no_flood: bool,
    #[arg(long, overrides_with = "no_uu_flood")]
    pub uu_flood: bool,
    #[arg(long)]
    pub no_uu_flood: bool,
    #[arg(long, overrides_with = "no_forward")]
    pub forward: bool,
    #[arg(long)]
    pub no_forward: bool,
    #[arg(long, overrides_with = "no_learn")]
    pub learn: bool,
    #[arg(long)]
    pub no_learn: bool,
    #[arg(long, overrides_with = "no_arp_term")]
    pub arp_term: bool,
    #[arg(long)]
    pub no_arp_term: bool,
    #[arg(long, overrides_with = "no_arp_ufwd")]
    pub arp_ufwd: bool,
    #[arg(long)]
    pub no_arp_ufwd: bool,
    /// MAC age in minutes (0 = off).
    #[arg(long)]
    pub mac_age: Option<u8>,
    /// A member `IF` or `IF:SHG`; when given, the members are exactly these.
    #[arg(long = "member")]
    pub members: Vec<String>,
    /// The BD has no members (other than its BVI).
    #[arg(long, conflicts_with = "members")]
    pub no_members: bool,
    /// The tag of a new BD (`evpn-tools` marks it as ours).
    #[arg(long)]
    pub tag: Option<String>,
    /// Take over a BD evpn-tools did not create.
    #[arg(long)]
    pub adopt: bool,
}

fn flag(on: bool, off: bool, current: bool) -> bool {
    if on {
        true
    } else if off {
        false
    } else {
        current
    }
}

fn parse_member(s: &str) -> Result<(String, u8), BadInput> {
    match s.split_once(':') {
        Some((i, g)) => Ok((
            i.to_string(),
            g.parse().map_err(|_| {
                BadInput(format!(
                    "--member {s:?}: split-horizon group must be 0..=255"
                ))
            })?,
        )),
        None => Ok((s.to_string(), 0)),
    }
}

fn check_bd_id(id: u32) -> Result<(), BadInput> {
    // BD 0 is VPP's default domain; the API limit is 2^24 - 1 (L2_BD_ID_MAX).
    if id == 0 || id >= 1 << 24 {
        return Err(BadInput(format!(
            "bridge domain id {id} out of range: 1..=16777215 (0 is VPP's default domain)"
        )));
    }
    Ok(())
}

fn get_bd(actual: &State<Item>, id: u32) -> Option<Bd> {
    match actual.get(&key::bd(id)).map(|e| &e.value) {
        Some(Item::Bd(b)) => Some(b.clone()),
        _ => None,
    }
}

fn get_loop(actual: &State<Item>, name: &str) -> Option<(Loopback, bool)> {
    match actual.get(&key::iface(name)) {
        Some(e) => match &e.value {
            Item::Loopback(l) => Some((l.clone(), e.owned)),
            _ => None,
        },
        None => None,
    }
}

/// Runs one reconcile against `vpp` and adds its step to `report`; whether it converged.
async fn run_step(
    report: &mut Report,
    name: &str,
    vpp: &mut Vpp,
    e: &Engine<Item, Vpp>,
    desired: State<Item>,
    actual: &State<Item>,
    opts: RunOptions,
) -> bool {
    let step = reconcile(name, vpp, e, &desired, actual, &opts).await;
    let ok = step.error.is_none() && step.differences.is_empty();
    report.steps.push(step);
    ok
}

/// A command that is one reconcile: its report.
async fn one_step(
    name: &str,
    vpp: &mut Vpp,
    e: &Engine<Item, Vpp>,
    desired: State<Item>,
    actual: &State<Item>,
    opts: RunOptions,
) -> Done {
    let mut report = Report::new(name);
    run_step(&mut report, name, vpp, e, desired, actual, opts).await;
    Done::Report(report)
}

pub async fn bd(g: &Global, cmd: BdCmd) -> Result<Done, Failure> {
    let mut vpp = connect(g, &g.socket).await?;
    let e = engine();
    match cmd {
        BdCmd::Show { id } => {
            let actual = read(&e, &mut vpp).await?;
            let bds: Vec<_> = actual
                .iter()
                .filter_map(|(_, en)| match &en.value {
                    Item::Bd(b) if id.is_none_or(|i| i == b.id) => Some((b.clone(), en.owned)),
                    _ => None,
                })
                .collect();
            let bvis: BTreeMap<u32, String> = actual
                .iter()
                .filter_map(|(k, en)| match &en.value {
                    Item::Loopback(l) => l
                        .bvi_of
                        .map(|b| (b, key::iface_of(k).unwrap_or("").to_string())),
                    _ => None,
                })
                .collect();
            if g.json {
                let v: Vec<_> = bds
                    .iter()
                    .map(|(b, owned)| json!({"bd": b, "bvi": bvis.get(&b.id), "owned": owned}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            } else {
                println!(
                    "{:>8}  {:5} {:5} {:5} {:5} {:5} {:5} {:>3}  {:12} {:16} members",
                    "bd", "learn", "fwd", "flood", "uu-fl", "arp-t", "arp-u", "age", "bvi", "tag"
                );
                for (b, _) in &bds {
                    let yn = |x: bool| if x { "on" } else { "off" };
                    let m: Vec<String> = b
                        .members
                        .iter()
                        .map(|(i, s)| {
                            if *s == 0 {
                                i.clone()
                            } else {
                                format!("{i}:{s}")
                            }
                        })
                        .collect();
                    println!(
                        "{:>8}  {:5} {:5} {:5} {:5} {:5} {:5} {:>3}  {:12} {:16} {}",
                        b.id,
                        yn(b.learn),
                        yn(b.forward),
                        yn(b.flood),
                        yn(b.uu_flood),
                        yn(b.arp_term),
                        yn(b.arp_ufwd),
                        b.mac_age,
                        bvis.get(&b.id).map(String::as_str).unwrap_or("-"),
                        b.tag,
                        m.join(",")
                    );
                }
            }
            Ok(Done::Printed(exit::CONVERGED))
        }
        BdCmd::Ensure(a) => {
            check_bd_id(a.id)?;
            check_required(&vpp)?;
            let members = a
                .members
                .iter()
                .map(|m| parse_member(m))
                .collect::<Result<BTreeMap<_, _>, _>>()?;
            let actual = read(&e, &mut vpp).await?;
            let cur = get_bd(&actual, a.id);
            let base = cur.clone().unwrap_or_else(|| Bd::new(a.id));
            let mut bd = Bd {
                id: a.id,
                flood: flag(a.flood, a.no_flood, base.flood),
                uu_flood: flag(a.uu_flood, a.no_uu_flood, base.uu_flood),
                forward: flag(a.forward, a.no_forward, base.forward),
                learn: flag(a.learn, a.no_learn, base.learn),
                arp_term: flag(a.arp_term, a.no_arp_term, base.arp_term),
                arp_ufwd: flag(a.arp_ufwd, a.no_arp_ufwd, base.arp_ufwd),
                mac_age: a.mac_age.unwrap_or(base.mac_age),
                tag: base.tag.clone(),
                members: base.members.clone(),
            };
            if let Some(t) = &a.tag {
                if t.len() > 63 {
                    return Err(BadInput(format!("--tag {t:?}: at most 63 bytes")).into());
                }
                bd.tag = t.clone();
            }
            let manage_members = !a.members.is_empty() || a.no_members;
            if manage_members {
                bd.members = members;
            }
            let mut desired = State::new();
            desired.insert(key::bd(a.id), Item::Bd(bd));
            let scope = if manage_members {
                vec![format!("bd/{}/member/", a.id)]
            } else {
                vec![]
            };
            let opts = RunOptions {
                plan: PlanOptions {
                    scope,
                    adopt_unowned: a.adopt,
                    prune_unowned: a.adopt,
                    ..Default::default()
                },
                rollback: false,
            };
            Ok(one_step("bd ensure", &mut vpp, &e, desired, &actual, opts).await)
        }
        BdCmd::Delete { id, force } => {
            check_bd_id(id)?;
            check_required(&vpp)?;
            let actual = read(&e, &mut vpp).await?;
            // Its BVI stays a loopback, no longer a BVI (the port is derived from the loopback).
            let mut desired = State::new();
            for (k, en) in actual.iter() {
                if let Item::Loopback(l) = &en.value {
                    if l.bvi_of == Some(id) {
                        let mut l = l.clone();
                        l.bvi_of = None;
                        desired.insert_entry(k, Item::Loopback(l), en.owned);
                    }
                }
            }
            let opts = RunOptions {
                plan: PlanOptions {
                    scope: vec![key::bd(id), format!("l2fib/{id}/")],
                    prune_unowned: force,
                    adopt_unowned: true,
                    ..Default::default()
                },
                rollback: false,
            };
            let mut report = Report::new("bd delete");
            if let Some(en) = actual.get(&key::bd(id)) {
                if !en.owned && !force {
                    report.steps.push(Step {
                        name: "bd delete".into(),
                        dry_run: g.dry_run,
                        blocked: vec![crate::output::BlockedOut {
                            key: key::bd(id),
                            reason:
                                "not created by evpn-tools (no evpn-tools tag); --force deletes it"
                                    .into(),
                        }],
                        ..Default::default()
                    });
                    return Ok(Done::Report(report));
                }
            }
            run_step(
                &mut report,
                "bd delete",
                &mut vpp,
                &e,
                desired,
                &actual,
                opts,
            )
            .await;
            Ok(Done::Report(report))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// l2fib

#[derive(Debug, Subcommand)]
pub enum L2fibCmd {
    /// Add (or re-point) a static entry.
    Add {
        #[arg(long)]
        bd: u32,
        #[arg(long)]
        mac: Mac,
        #[arg(long = "if")]
        iface: String,
        /// Never aged, never learned over (the default for entries evpn-tools adds).
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        r#static: bool,
        /// The entry of the BD's BVI.
        #[arg(long)]
        bvi: bool,
    },
    /// Remove an entry.
    Del {
        #[arg(long)]
        bd: u32,
        #[arg(long)]
        mac: Mac,
    },
    /// Show a BD's L2FIB.
    Show {
        #[arg(long)]
        bd: u32,
    },
    /// Remove the BD's learned entries (static ones stay, as in VPP).
    Flush {
        #[arg(long)]
        bd: u32,
    },
}

pub async fn l2fib(g: &Global, cmd: L2fibCmd) -> Result<Done, Failure> {
    let mut vpp = connect(g, &g.socket).await?;
    let e = engine();
    match cmd {
        L2fibCmd::Show { bd } => {
            check_bd_id(bd)?;
            vpp.snapshot().await?;
            let rows = vpp.dump(L2FibTableDump { bd_id: bd }).await?;
            let s = vpp.snapshot().await?.clone();
            let v: Vec<_> = rows
                .iter()
                .map(|r| {
                    json!({"mac": Mac::from(r.mac).to_string(), "bd_id": r.bd_id,
                           "interface": s.name_of(r.sw_if_index.0), "sw_if_index": r.sw_if_index.0,
                           "static": r.static_mac, "filter": r.filter_mac, "bvi": r.bvi_mac})
                })
                .collect();
            if g.json {
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            } else {
                println!(
                    "{:18} {:>8} {:16} {:6} {:6} bvi",
                    "mac", "bd", "interface", "static", "filter"
                );
                for r in &rows {
                    println!(
                        "{:18} {:>8} {:16} {:6} {:6} {}",
                        Mac::from(r.mac).to_string(),
                        r.bd_id,
                        s.name_of(r.sw_if_index.0),
                        r.static_mac,
                        r.filter_mac,
                        r.bvi_mac
                    );
                }
            }
            Ok(Done::Printed(exit::CONVERGED))
        }
        L2fibCmd::Flush { bd } => {
            check_bd_id(bd)?;
            check_required(&vpp)?;
            let rows = vpp.dump(L2FibTableDump { bd_id: bd }).await?;
            let mut report = Report::new("l2fib flush");
            let mut step = Step {
                name: "l2fib flush".into(),
                dry_run: g.dry_run,
                ..Default::default()
            };
            // Only learned entries go; nothing to send when there are none.
            if rows.iter().any(|r| !r.static_mac && !r.bvi_mac) {
                vpp.current_key = None;
                let r = vpp.call(L2fibFlushBd { bd_id: bd }).await;
                step.extra_messages = vpp.sent.clone();
                if let Err(e) = r {
                    step.error = Some(e.to_string());
                }
            }
            report.steps.push(step);
            Ok(Done::Report(report))
        }
        L2fibCmd::Add {
            bd,
            mac,
            iface,
            r#static,
            bvi,
        } => {
            check_bd_id(bd)?;
            check_required(&vpp)?;
            let actual = read(&e, &mut vpp).await?;
            let mut desired = State::new();
            desired.insert(
                key::l2fib(bd, &mac),
                Item::L2fib(L2fib {
                    iface,
                    static_mac: r#static,
                    filter: false,
                    bvi,
                }),
            );
            let opts = RunOptions {
                plan: PlanOptions {
                    adopt_unowned: true,
                    ..Default::default()
                },
                rollback: false,
            };
            Ok(one_step("l2fib add", &mut vpp, &e, desired, &actual, opts).await)
        }
        L2fibCmd::Del { bd, mac } => {
            check_bd_id(bd)?;
            check_required(&vpp)?;
            let actual = read(&e, &mut vpp).await?;
            let opts = RunOptions {
                plan: PlanOptions {
                    scope: vec![key::l2fib(bd, &mac)],
                    prune_unowned: true,
                    ..Default::default()
                },
                rollback: false,
            };
            Ok(one_step("l2fib del", &mut vpp, &e, State::new(), &actual, opts).await)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// bvi

#[derive(Debug, Subcommand)]
pub enum BviCmd {
    /// Create a loopback as the BD's BVI (rolled back if any step fails).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        bd: u32,
        /// The ephemeral MAC (default: derived from the BD and the name).
        #[arg(long, conflicts_with = "derive")]
        mac: Option<Mac>,
        /// Derive the ephemeral MAC from GROUP,INSTANCE.
        #[arg(long, value_name = "GROUP,INSTANCE")]
        derive: Option<String>,
        #[arg(long)]
        mtu: Option<u32>,
        /// Pair the BVI with a linux-cp TAP of this name (needs the linux_cp plugin).
        #[arg(long, value_name = "HOST_IF")]
        lcp: Option<String>,
        /// Skip the check for another BVI (VPP then refuses with -152 and the create is
        /// rolled back).
        #[arg(long, hide = true)]
        no_precheck: bool,
    },
    /// Make this BVI the gateway: vMAC, its link-local, the addresses, GARP.
    Bind(BindArgs),
    /// Make this BVI a candidate again: addresses off first, then the ephemeral MAC.
    Release(ReleaseArgs),
    /// Release on one BVI, then bind on another (break-before-make; two sockets = two VPPs).
    Move(MoveArgs),
    /// Remove the BVI loopback.
    Delete {
        #[arg(long = "if")]
        iface: String,
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args, Clone)]
pub struct BindArgs {
    #[arg(long = "if")]
    pub iface: String,
    #[arg(long)]
    pub vmac: Mac,
    #[arg(long = "addr", required = true)]
    pub addrs: Vec<IfAddr>,
    /// GARP schedule: `COUNT@T1,T2,...[ms|s]` (rounds at those offsets) or `none`.
    #[arg(long, default_value = "3@0,1,2s")]
    pub garp: String,
}

#[derive(Debug, Args, Clone)]
pub struct ReleaseArgs {
    #[arg(long = "if")]
    pub iface: String,
    /// The ephemeral MAC to restore (default: the one recorded in the BVI's tag).
    #[arg(long, conflicts_with = "derive")]
    pub mac: Option<Mac>,
    #[arg(long, value_name = "GROUP,INSTANCE")]
    pub derive: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct MoveArgs {
    /// `[SOCKET:]loopN` of the BVI that holds the gateway now.
    #[arg(long)]
    pub from: String,
    /// `[SOCKET:]loopN` of the BVI that takes it.
    #[arg(long)]
    pub to: String,
    #[arg(long)]
    pub vmac: Mac,
    #[arg(long = "addr", required = true)]
    pub addrs: Vec<IfAddr>,
    /// How long the fabric gets to absorb the withdrawal between release and bind.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub hold: Duration,
    #[arg(long, default_value = "3@0,1,2s")]
    pub garp: String,
    /// Bind before releasing (to show what VPP does: -105 on the overlapping prefix).
    #[arg(long, hide = true)]
    pub make_before_break: bool,
}

/// A GARP schedule: offsets from the bind.
pub fn parse_garp(s: &str) -> Result<Vec<Duration>, BadInput> {
    if s == "none" {
        return Ok(Vec::new());
    }
    let bad = |why: &str| BadInput(format!("--garp {s:?}: {why} (e.g. 3@0,1,2s, 1@0s or none)"));
    let (count, times) = s
        .split_once('@')
        .ok_or_else(|| bad("expected COUNT@TIMES"))?;
    let count: usize = count.parse().map_err(|_| bad("COUNT is not a number"))?;
    let (list, unit) = match times.strip_suffix("ms") {
        Some(l) => (l, 0.001),
        None => (times.strip_suffix('s').unwrap_or(times), 1.0),
    };
    let offs = list
        .split(',')
        .map(|t| {
            t.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0 && *v <= 3600.0)
                .map(|v| Duration::from_secs_f64(v * unit))
                .ok_or_else(|| bad("a time is not a number of seconds"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if offs.len() != count || count == 0 || count > 100 {
        return Err(bad("COUNT must equal the number of times (1..=100)"));
    }
    if offs.windows(2).any(|w| w[1] < w[0]) {
        return Err(bad("times must not decrease"));
    }
    Ok(offs)
}

fn derive_arg(s: &str) -> Result<Mac, BadInput> {
    match s.split_once(',') {
        Some((g, i)) if !g.is_empty() && !i.is_empty() => Ok(Mac::derive(g, i)),
        _ => Err(BadInput(format!("--derive {s:?}: expected GROUP,INSTANCE"))),
    }
}

fn check_loop_name(name: &str) -> Result<u32, BadInput> {
    model::loop_instance(name)
        .ok_or_else(|| BadInput(format!("{name:?} is not a loopback name (loopN)")))
}

fn check_vmac(m: &Mac) -> Result<(), BadInput> {
    if !m.is_unicast() || m.0 == [0; 6] {
        return Err(BadInput(format!("{m} is not a unicast MAC")));
    }
    Ok(())
}

pub async fn bvi(g: &Global, cmd: BviCmd) -> Result<Done, Failure> {
    match cmd {
        BviCmd::Create {
            name,
            bd,
            mac,
            derive,
            mtu,
            lcp,
            no_precheck,
        } => {
            if let Some(h) = &lcp {
                // lcp_validate_if_name: 1..=15 bytes, alphanumerics, '-', '_' and '.'.
                let ok = !h.is_empty()
                    && h.len() <= 15
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
                if !ok {
                    return Err(BadInput(format!(
                        "--lcp {h:?}: a Linux interface name of 1..=15 letters, digits, '-', '_' or '.'"
                    ))
                    .into());
                }
            }
            let instance = check_loop_name(&name)?;
            check_bd_id(bd)?;
            let mac = match (mac, derive) {
                (Some(m), _) => m,
                (None, Some(d)) => derive_arg(&d)?,
                (None, None) => Mac::derive(&format!("bd{bd}"), &name),
            };
            check_vmac(&mac)?;
            if let Some(m) = mtu {
                if !(64..=65535).contains(&m) {
                    return Err(BadInput(format!("--mtu {m}: 64..=65535")).into());
                }
            }
            let mut vpp = connect(g, &g.socket).await?;
            check_required(&vpp)?;
            if lcp.is_some() {
                let m = vpp.missing(&[vppapi_binapi::lcp::LcpItfPairAddDelV2::NAME_CRC]);
                if !m.is_empty() {
                    return Err(Failure::Error(format!(
                        "--lcp: the linux_cp plugin is not loaded (missing {}): nothing sent",
                        m.join(", ")
                    )));
                }
            }
            let e = engine();
            let actual = read(&e, &mut vpp).await?;
            let Some(_) = get_bd(&actual, bd) else {
                return Err(Failure::Error(format!(
                    "bridge domain {bd} does not exist (bd ensure --id {bd} first)"
                )));
            };
            // One BVI per BD: refuse before sending anything (VPP would say -152).
            let other = actual.iter().find_map(|(k, en)| match &en.value {
                Item::Loopback(l) if l.bvi_of == Some(bd) && key::iface_of(k) != Some(&name) => {
                    key::iface_of(k).map(str::to_string)
                }
                _ => None,
            });
            if let (Some(o), false) = (other, no_precheck) {
                return Err(Failure::Error(format!(
                    "bridge domain {bd} already has BVI {o} (VPP would answer -152 BD_ALREADY_HAS_BVI); nothing sent"
                )));
            }
            let lb = match get_loop(&actual, &name) {
                // It exists: keep its MAC, link-local and addresses (it may be bound).
                Some((mut l, _)) => {
                    l.bvi_of = Some(bd);
                    l.up = true;
                    if mtu.is_some() {
                        l.mtu = mtu;
                    }
                    if ephemeral_from_tag(&l.tag).is_none() {
                        l.tag = bvi_tag(mac);
                    }
                    if lcp.is_some() {
                        l.lcp = lcp.clone();
                    }
                    l
                }
                None => Loopback {
                    instance,
                    mac,
                    tag: bvi_tag(mac),
                    mtu,
                    ll: Some(mac.link_local()),
                    up: true,
                    addrs: Vec::new(),
                    bvi_of: Some(bd),
                    lcp: lcp.clone(),
                },
            };
            let mut desired = State::new();
            desired.insert(key::iface(&name), Item::Loopback(lb));
            let opts = RunOptions {
                plan: PlanOptions::default(),
                rollback: true,
            };
            Ok(one_step("bvi create", &mut vpp, &e, desired, &actual, opts).await)
        }
        BviCmd::Bind(a) => {
            let garp = parse_garp(&a.garp)?;
            check_loop_name(&a.iface)?;
            check_vmac(&a.vmac)?;
            let mut vpp = connect(g, &g.socket).await?;
            check_required(&vpp)?;
            let mut report = Report::new("bvi bind");
            bind(&mut report, &mut vpp, &a.iface, a.vmac, &a.addrs, &garp).await?;
            Ok(Done::Report(report))
        }
        BviCmd::Release(a) => {
            check_loop_name(&a.iface)?;
            let eph = match (a.mac, &a.derive) {
                (Some(m), _) => Some(m),
                (None, Some(d)) => Some(derive_arg(d)?),
                _ => None,
            };
            let mut vpp = connect(g, &g.socket).await?;
            check_required(&vpp)?;
            let mut report = Report::new("bvi release");
            release(&mut report, &mut vpp, &a.iface, eph).await?;
            Ok(Done::Report(report))
        }
        BviCmd::Move(a) => mv(g, a).await,
        BviCmd::Delete { iface, force } => {
            check_loop_name(&iface)?;
            let mut vpp = connect(g, &g.socket).await?;
            check_required(&vpp)?;
            let e = engine();
            let actual = read(&e, &mut vpp).await?;
            if let Some((_, false)) = get_loop(&actual, &iface) {
                if !force {
                    return Err(Failure::NeedsPerson(format!(
                        "{iface} was not created by evpn-tools (no evpn-tools tag); --force deletes it"
                    )));
                }
            }
            let opts = RunOptions {
                plan: PlanOptions {
                    scope: vec![key::iface(&iface), format!("{}/", key::iface(&iface))],
                    prune_unowned: force,
                    ..Default::default()
                },
                rollback: false,
            };
            Ok(one_step("bvi delete", &mut vpp, &e, State::new(), &actual, opts).await)
        }
    }
}

/// Bind: the vMAC (VPP moves the BVI's L2FIB entry with it), its link-local, exactly these
/// addresses, then GARP rounds paced by the client.
pub async fn bind(
    report: &mut Report,
    vpp: &mut Vpp,
    iface: &str,
    vmac: Mac,
    addrs: &[IfAddr],
    garp: &[Duration],
) -> Result<bool, Failure> {
    let e = engine();
    let actual = read(&e, vpp).await?;
    let Some((mut l, _)) = get_loop(&actual, iface) else {
        return Err(Failure::Error(format!(
            "no loopback {iface} in VPP (bvi create first)"
        )));
    };
    l.mac = vmac;
    l.ll = Some(vmac.link_local());
    let mut want = addrs.to_vec();
    want.sort();
    want.dedup();
    l.addrs = want.clone();
    let mut desired = State::new();
    desired.insert(key::iface(iface), Item::Loopback(l));
    let opts = RunOptions {
        plan: PlanOptions {
            scope: vec![format!("{}/addr/", key::iface(iface))],
            ..Default::default()
        },
        rollback: false,
    };
    let ok = run_step(report, "bvi bind", vpp, &e, desired, &actual, opts).await;
    if !ok || garp.is_empty() {
        return Ok(ok);
    }
    if !vpp.missing(&[Arping::NAME_CRC]).is_empty() {
        report
            .warnings
            .push("arping plugin not loaded: no GARP sent".into());
        return Ok(ok);
    }
    let sw = vpp
        .index_of(iface)
        .map_err(|e| Failure::Error(e.to_string()))?;
    let first = vpp.sent.len();
    let start = std::time::Instant::now();
    let mut err = None;
    'rounds: for at in garp {
        if let Some(wait) = at.checked_sub(start.elapsed()) {
            if !vpp.opts.dry_run {
                tokio::time::sleep(wait).await;
            }
        }
        for a in &want {
            vpp.current_key = Some("garp".into());
            if let Err(e) = vpp
                .call(Arping {
                    address: address(a.addr),
                    sw_if_index: sw,
                    is_garp: true,
                    repeat: 1,
                    ..Default::default()
                })
                .await
            {
                err = Some(e.to_string());
                break 'rounds;
            }
        }
    }
    vpp.current_key = None;
    if let Some(step) = report.steps.last_mut() {
        step.extra_messages = vpp.sent[first..].to_vec();
        if let Some(e) = err {
            step.error = Some(format!("GARP: {e}"));
            return Ok(false);
        }
    }
    Ok(ok)
}

/// Release: addresses off first, then the ephemeral MAC and its link-local.
pub async fn release(
    report: &mut Report,
    vpp: &mut Vpp,
    iface: &str,
    eph: Option<Mac>,
) -> Result<bool, Failure> {
    let e = engine();
    let actual = read(&e, vpp).await?;
    let Some((mut l, _)) = get_loop(&actual, iface) else {
        return Err(Failure::Error(format!("no loopback {iface} in VPP")));
    };
    let eph = match eph.or_else(|| ephemeral_from_tag(&l.tag)) {
        Some(m) => m,
        None => {
            return Err(Failure::Error(format!(
                "{iface} has no ephemeral MAC in its tag {:?}: give --mac or --derive",
                l.tag
            )))
        }
    };
    l.mac = eph;
    l.ll = Some(eph.link_local());
    l.addrs.clear();
    let mut desired = State::new();
    desired.insert(key::iface(iface), Item::Loopback(l));
    let opts = RunOptions {
        plan: PlanOptions {
            scope: vec![format!("{}/addr/", key::iface(iface))],
            ..Default::default()
        },
        rollback: false,
    };
    Ok(run_step(report, "bvi release", vpp, &e, desired, &actual, opts).await)
}

fn split_target(s: &str) -> Result<(Option<PathBuf>, String), BadInput> {
    let (sock, name) = match s.rsplit_once(':') {
        Some((p, n)) => (Some(PathBuf::from(p)), n.to_string()),
        None => (None, s.to_string()),
    };
    check_loop_name(&name)?;
    Ok((sock, name))
}

/// Whether `iface` on `vpp` holds `vmac` now.
async fn holds(vpp: &mut Vpp, iface: &str, vmac: Mac) -> Result<bool, Failure> {
    vpp.invalidate();
    let s = vpp.snapshot().await?;
    Ok(s.by_name(iface).is_some_and(|i| i.mac == vmac))
}

async fn mv(g: &Global, a: MoveArgs) -> Result<Done, Failure> {
    let garp = parse_garp(&a.garp)?;
    check_vmac(&a.vmac)?;
    let (fs, from) = split_target(&a.from)?;
    let (ts, to) = split_target(&a.to)?;
    let fs = fs.unwrap_or_else(|| g.socket.clone());
    let ts = ts.unwrap_or_else(|| g.socket.clone());
    if fs == ts && from == to {
        return Err(BadInput("--from and --to are the same BVI".into()).into());
    }
    let mut vf = connect(g, &fs).await?;
    check_required(&vf)?;
    let mut vt = if fs == ts {
        Vpp::new(vf.conn.clone(), vf.opts.clone())
    } else {
        let v = connect(g, &ts).await?;
        check_required(&v)?;
        v
    };
    let mut report = Report::new("bvi move");
    let two = fs != ts;
    let label = |p: &PathBuf| two.then(|| p.display().to_string());
    if holds(&mut vf, &from, a.vmac).await? && holds(&mut vt, &to, a.vmac).await? {
        report.needs_person.push(format!(
            "both {from} and {to} hold {} already: resolve by hand (release one)",
            a.vmac
        ));
        return Ok(Done::Report(report));
    }
    if a.make_before_break {
        let ok = bind(&mut report, &mut vt, &to, a.vmac, &a.addrs, &[]).await?;
        if let Some(s) = report.steps.last_mut() {
            s.vpp = label(&ts);
        }
        if !ok {
            return Ok(Done::Report(report));
        }
        release(&mut report, &mut vf, &from, None).await?;
        if let Some(s) = report.steps.last_mut() {
            s.vpp = label(&fs);
        }
        report
            .needs_person
            .push("make-before-break: both BVIs held the vMAC for a while".into());
        return Ok(Done::Report(report));
    }
    let released = release(&mut report, &mut vf, &from, None).await?;
    if let Some(s) = report.steps.last_mut() {
        s.vpp = label(&fs);
    }
    if !released {
        report.error = Some(format!(
            "release of {from} not verified: bind of {to} not attempted"
        ));
        return Ok(Done::Report(report));
    }
    if !vf.opts.dry_run && holds(&mut vf, &from, a.vmac).await? {
        report.error = Some(format!(
            "{from} still holds {} after the release: bind not attempted",
            a.vmac
        ));
        return Ok(Done::Report(report));
    }
    if !a.hold.is_zero() && !vf.opts.dry_run {
        tokio::time::sleep(a.hold).await;
    }
    bind(&mut report, &mut vt, &to, a.vmac, &a.addrs, &garp).await?;
    if let Some(s) = report.steps.last_mut() {
        s.vpp = label(&ts);
    }
    vf.conn.close().await;
    if two {
        vt.conn.close().await;
    }
    Ok(Done::Report(report))
}

// ---------------------------------------------------------------------------------------------
// vxlan

#[derive(Debug, Subcommand)]
pub enum VxlanCmd {
    /// A static tunnel into a BD (labs without BGP), with static remote MACs.
    Ensure(VxlanEnsure),
    /// Remove a tunnel (it leaves its BD first).
    Delete {
        #[arg(long)]
        instance: u32,
    },
}

#[derive(Debug, Args)]
pub struct VxlanEnsure {
    #[arg(long)]
    pub instance: u32,
    #[arg(long)]
    pub src: IpAddr,
    #[arg(long)]
    pub dst: IpAddr,
    #[arg(long)]
    pub vni: u32,
    #[arg(long)]
    pub bd: u32,
    /// Split-horizon group in the BD (1: no tunnel-to-tunnel flooding).
    #[arg(long, default_value_t = 1)]
    pub shg: u8,
    #[arg(long, default_value_t = 4789)]
    pub src_port: u16,
    #[arg(long, default_value_t = 4789)]
    pub dst_port: u16,
    #[arg(long, default_value_t = 0)]
    pub encap_vrf_id: u32,
    /// A MAC behind the remote VTEP (a static L2FIB entry on the tunnel).
    #[arg(long = "remote-mac")]
    pub remote_macs: Vec<Mac>,
}

pub fn vxlan_value(a: &VxlanEnsure) -> Result<Vxlan, BadInput> {
    if a.src.is_ipv4() != a.dst.is_ipv4() {
        return Err(BadInput(
            "--src and --dst must be of one address family".into(),
        ));
    }
    if a.src == a.dst {
        return Err(BadInput("--src and --dst are the same address".into()));
    }
    if a.vni >= 1 << 24 {
        return Err(BadInput(format!("--vni {}: at most 16777215", a.vni)));
    }
    if a.instance == u32::MAX {
        return Err(BadInput("--instance: give an explicit instance".into()));
    }
    Ok(Vxlan {
        instance: a.instance,
        src: a.src,
        dst: a.dst,
        vni: a.vni,
        src_port: a.src_port,
        dst_port: a.dst_port,
        encap_vrf_id: a.encap_vrf_id,
    })
}

pub async fn vxlan(g: &Global, cmd: VxlanCmd) -> Result<Done, Failure> {
    let mut vpp = connect(g, &g.socket).await?;
    check_required(&vpp)?;
    let missing = vpp.missing(&[
        vppapi_binapi::vxlan::VxlanAddDelTunnelV3::NAME_CRC,
        vppapi_binapi::vxlan::VxlanTunnelV2Dump::NAME_CRC,
    ]);
    if !missing.is_empty() {
        return Err(Failure::Error(format!(
            "the vxlan plugin is not loaded (missing {}): nothing sent",
            missing.join(", ")
        )));
    }
    let e = engine();
    match cmd {
        VxlanCmd::Ensure(a) => {
            check_bd_id(a.bd)?;
            let v = vxlan_value(&a)?;
            let actual = read(&e, &mut vpp).await?;
            let Some(mut bd) = get_bd(&actual, a.bd) else {
                return Err(Failure::Error(format!(
                    "bridge domain {} does not exist",
                    a.bd
                )));
            };
            let tun = key::vxlan_iface(a.instance);
            bd.members.insert(tun.clone(), a.shg);
            let mut desired = State::new();
            desired.insert(key::bd(a.bd), Item::Bd(bd));
            desired.insert(key::vxlan(a.instance), Item::Vxlan(v));
            for m in &a.remote_macs {
                desired.insert(
                    key::l2fib(a.bd, m),
                    Item::L2fib(L2fib {
                        iface: tun.clone(),
                        static_mac: true,
                        filter: false,
                        bvi: false,
                    }),
                );
            }
            let opts = RunOptions {
                plan: PlanOptions {
                    adopt_unowned: true,
                    ..Default::default()
                },
                rollback: true,
            };
            Ok(one_step("vxlan ensure", &mut vpp, &e, desired, &actual, opts).await)
        }
        VxlanCmd::Delete { instance } => {
            let actual = read(&e, &mut vpp).await?;
            // The tunnel leaves its BD (the BD stays, without this member) and its static MACs go.
            let tun = key::vxlan_iface(instance);
            let mut desired = State::new();
            let mut scope = vec![key::vxlan(instance)];
            for (k, en) in actual.iter() {
                match &en.value {
                    Item::Bd(b) if b.members.contains_key(&tun) => {
                        let mut b = b.clone();
                        b.members.remove(&tun);
                        desired.insert_entry(k, Item::Bd(b), en.owned);
                    }
                    Item::L2fib(f) if f.iface == tun => scope.push(k.to_string()),
                    _ => {}
                }
            }
            let opts = RunOptions {
                plan: PlanOptions {
                    scope,
                    prune_unowned: true,
                    adopt_unowned: true,
                    ..Default::default()
                },
                rollback: false,
            };
            Ok(one_step("vxlan delete", &mut vpp, &e, desired, &actual, opts).await)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// info

pub async fn info(g: &Global) -> Result<Done, Failure> {
    let mut vpp = connect(g, &g.socket).await?;
    let v = vpp.read(ShowVersion {}).await?;
    let p = vpp.read(ControlPing {}).await?;
    let req = required_messages();
    let missing_req = vpp.missing(&req);
    let optional: Vec<_> = optional_messages()
        .into_iter()
        .map(|(m, what)| {
            let present = vpp.missing(&[m]).is_empty();
            json!({"message": m, "present": present, "for": what})
        })
        .collect();
    // The lb plugin: usable by `lb sync` (lb.api 1.1.0 messages), and which lb.api 1.2.0
    // messages (weights, lb_conf_get) this VPP lacks.
    let lb_caps = crate::lb::capabilities(&vpp);
    let table = vpp.conn.message_table();
    let lb_missing: Vec<&str> = crate::lb::sync::LB_1_2_MESSAGES
        .iter()
        .copied()
        .filter(|n| table.as_ref().is_none_or(|t| t.versions_of(n).is_empty()))
        .collect();
    let lb_api = if !lb_caps.lb {
        "absent"
    } else if lb_caps.lb_1_2 {
        "1.2.0"
    } else {
        "1.1.0"
    };
    let doc = json!({
        "program": v.program, "version": v.version, "build_date": v.build_date,
        "build_directory": v.build_directory, "pid": p.vpe_pid,
        "required_messages": req.len(), "missing_required": missing_req,
        "optional": optional,
        "lb": {"api": lb_api, "missing": lb_missing, "missing_for_sync": lb_caps.missing},
    });
    if g.json {
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        println!(
            "{} {} (built {}), pid {}",
            v.program, v.version, v.build_date, p.vpe_pid
        );
        println!(
            "required messages: {} of {} present{}",
            req.len() - missing_req.len(),
            req.len(),
            if missing_req.is_empty() {
                String::new()
            } else {
                format!(" (missing: {})", missing_req.join(", "))
            }
        );
        for o in optional_messages() {
            let present = vpp.missing(&[o.0]).is_empty();
            println!(
                "  {:8} {:40} {}",
                if present { "present" } else { "MISSING" },
                o.0,
                o.1
            );
        }
        println!("lb plugin: lb.api {lb_api}");
        for m in &lb_missing {
            println!(
                "  {:8} {:40} AS weights and lb_conf read-back (lb.api 1.2.0)",
                "MISSING", m
            );
        }
    }
    vpp.conn.close().await;
    Ok(Done::Printed(if missing_req.is_empty() {
        exit::CONVERGED
    } else {
        exit::ERROR
    }))
}

/// A command that could not finish.
#[derive(Debug)]
pub enum Failure {
    BadInput(String),
    Error(String),
    NeedsPerson(String),
}

impl From<BadInput> for Failure {
    fn from(b: BadInput) -> Self {
        Failure::BadInput(b.0)
    }
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Failure::Error(s)
    }
}

impl From<crate::vpp::VppError> for Failure {
    fn from(e: crate::vpp::VppError) -> Self {
        Failure::Error(e.to_string())
    }
}

impl Failure {
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::BadInput(_) => exit::BAD_INPUT,
            Failure::Error(_) => exit::ERROR,
            Failure::NeedsPerson(_) => exit::NEEDS_PERSON,
        }
    }
    pub fn message(&self) -> &str {
        match self {
            Failure::BadInput(s) | Failure::Error(s) | Failure::NeedsPerson(s) => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garp_schedules() {
        assert_eq!(parse_garp("none").unwrap(), Vec::<Duration>::new());
        assert_eq!(
            parse_garp("3@0,1,2s").unwrap(),
            [0, 1, 2].map(Duration::from_secs).to_vec()
        );
        assert_eq!(
            parse_garp("2@0,500ms").unwrap()[1],
            Duration::from_millis(500)
        );
        assert!(parse_garp("2@0s").is_err());
        assert!(parse_garp("2@1,0s").is_err());
        assert!(parse_garp("x").is_err());
    }

    #[test]
    fn durations_and_targets() {
        assert_eq!(parse_duration("1s").unwrap(), Duration::from_secs(1));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("1d").is_err());
        let (s, n) = split_target("/run/a.sock:loop100").unwrap();
        assert_eq!(
            (s.unwrap(), n.as_str()),
            (PathBuf::from("/run/a.sock"), "loop100")
        );
        assert!(split_target("pg0").is_err());
        assert!(
            check_bd_id(0).is_err() && check_bd_id(1 << 24).is_err() && check_bd_id(100).is_ok()
        );
        assert_eq!(parse_member("pg0:2").unwrap(), ("pg0".to_string(), 2));
        assert!(parse_member("pg0:x").is_err());
    }
}
