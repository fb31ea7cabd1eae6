//! One descriptor per kind of value (operator-tools.md §5.3): which keys it handles, what a
//! value depends on and derives, and the VPP messages that create, update and delete it.
//! Every message goes through [`Vpp::call`], so a dry run records exactly what would be sent.

use std::net::IpAddr;

use reconcile::{BoxFuture, ChangeKind, Dependency, Descriptor, Engine, OpError, Retrieved};
use vppapi_binapi::interface::{
    CreateLoopbackInstance, DeleteLoopback, SwInterfaceAddDelAddress, SwInterfaceSetFlags,
    SwInterfaceSetMacAddress, SwInterfaceSetMtu, SwInterfaceTagAddDel,
};
use vppapi_binapi::interface_types::IfStatusFlags;
use vppapi_binapi::ip::SwInterfaceIp6SetLinkLocalAddress;
use vppapi_binapi::l2::{
    BdFlags, BridgeDomainAddDelV2, BridgeDomainSetMacAge, BridgeFlags, L2PortType, L2fibAddDel,
    SwInterfaceSetL2Bridge,
};
use vppapi_binapi::lcp::{LcpItfHostType, LcpItfPairAddDelV2};
use vppapi_binapi::vxlan::VxlanAddDelTunnelV3;
use vppapi_runtime::{AddressWithPrefix, InterfaceIndex, Prefix};

use crate::mac::Mac;
use crate::model::{key, loop_instance, owned_tag, Bd, Item, L2fib, Loopback, Vxlan};
use crate::vpp::{address, Vpp, VppError};

/// The engine with every eVPN descriptor registered.
pub fn engine() -> Engine<Item, Vpp> {
    let mut e = Engine::new();
    e.register(Traced(BdDesc))
        .register(Traced(MemberDesc))
        .register(Traced(BviDesc))
        .register(Traced(IfaceDesc))
        .register(Traced(MacDesc))
        .register(Traced(LlDesc))
        .register(Traced(UpDesc))
        .register(Traced(AddrDesc))
        .register(Traced(L2fibDesc))
        .register(Traced(VxlanDesc));
    e
}

/// Marks every message an operation sends with the operation's key (for the plan output).
pub struct Traced<D>(pub D);

impl<V: PartialEq, D: Descriptor<V, Vpp>> Descriptor<V, Vpp> for Traced<D> {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn handles(&self, key: &str) -> bool {
        self.0.handles(key)
    }
    fn dependencies(&self, key: &str, value: &V) -> Vec<Dependency> {
        self.0.dependencies(key, value)
    }
    fn derived(&self, key: &str, value: &V) -> Vec<(String, V)> {
        self.0.derived(key, value)
    }
    fn equivalent(&self, key: &str, desired: &V, actual: &V) -> bool {
        self.0.equivalent(key, desired, actual)
    }
    fn change_kind(&self, key: &str, old: &V, new: &V) -> ChangeKind {
        self.0.change_kind(key, old, new)
    }
    fn describe_change(&self, key: &str, old: &V, new: &V) -> String {
        self.0.describe_change(key, old, new)
    }
    fn create<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        value: &'a V,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        ctx.current_key = Some(key.to_string());
        self.0.create(ctx, key, value)
    }
    fn update<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        old: &'a V,
        new: &'a V,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        ctx.current_key = Some(key.to_string());
        self.0.update(ctx, key, old, new)
    }
    fn delete<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        value: &'a V,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        ctx.current_key = Some(key.to_string());
        self.0.delete(ctx, key, value)
    }
    fn retrieve<'a>(
        &'a self,
        ctx: &'a mut Vpp,
    ) -> BoxFuture<'a, Result<Vec<Retrieved<V>>, OpError>> {
        self.0.retrieve(ctx)
    }
}

pub(crate) fn boxed<'a>(
    f: impl std::future::Future<Output = Result<(), VppError>> + 'a,
) -> BoxFuture<'a, Result<(), OpError>> {
    Box::pin(async move { f.await.map_err(|e| Box::new(e) as OpError) })
}

/// An operation that sends nothing (the value goes with its parent, or VPP has no message).
pub(crate) fn done<'a>() -> BoxFuture<'a, Result<(), OpError>> {
    Box::pin(async { Ok(()) })
}

fn wrong(key: &str, v: &Item) -> VppError {
    VppError::Other(format!(
        "internal: value {v:?} does not belong to key {key}"
    ))
}

fn seg(key: &str, n: usize) -> Option<&str> {
    key.split('/').nth(n)
}

fn nsegs(key: &str) -> usize {
    key.split('/').count()
}

// ---------------------------------------------------------------------------------------------
// bd/<id>

/// `bd/<id>`: a bridge domain. Flags and MAC age change in place (`bridge_flags`,
/// `bridge_domain_set_mac_age`); the tag can only be set at creation, so a tag change
/// recreates. Members are derived values.
pub struct BdDesc;

impl Descriptor<Item, Vpp> for BdDesc {
    fn name(&self) -> &'static str {
        "bridge-domain"
    }
    fn handles(&self, key: &str) -> bool {
        key.starts_with("bd/") && nsegs(key) == 2
    }
    fn derived(&self, _key: &str, value: &Item) -> Vec<(String, Item)> {
        match value {
            Item::Bd(b) => b
                .members
                .iter()
                .map(|(i, shg)| (key::member(b.id, i), Item::Member { shg: *shg }))
                .collect(),
            _ => Vec::new(),
        }
    }
    fn equivalent(&self, _key: &str, desired: &Item, actual: &Item) -> bool {
        match (desired, actual) {
            (Item::Bd(d), Item::Bd(a)) => {
                d.flag_bits() == a.flag_bits() && d.mac_age == a.mac_age && d.tag == a.tag
            }
            _ => desired == actual,
        }
    }
    fn change_kind(&self, _key: &str, old: &Item, new: &Item) -> ChangeKind {
        match (old, new) {
            (Item::Bd(o), Item::Bd(n)) if o.tag != n.tag => ChangeKind::Recreate,
            _ => ChangeKind::Update,
        }
    }
    fn create<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        value: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let Item::Bd(b) = value else {
                return Err(wrong(key, value));
            };
            ctx.call(BridgeDomainAddDelV2 {
                bd_id: b.id,
                flood: b.flood,
                uu_flood: b.uu_flood,
                forward: b.forward,
                learn: b.learn,
                arp_term: b.arp_term,
                arp_ufwd: b.arp_ufwd,
                mac_age: b.mac_age,
                bd_tag: b.tag.clone(),
                is_add: true,
            })
            .await?;
            Ok(())
        })
    }
    fn update<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        old: &'a Item,
        new: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let (Item::Bd(o), Item::Bd(n)) = (old, new) else {
                return Err(wrong(key, new));
            };
            let (ob, nb) = (o.flag_bits(), n.flag_bits());
            let set = nb & !ob;
            let clear = ob & !nb;
            for (is_set, mask) in [(true, set), (false, clear)] {
                if mask != 0 {
                    ctx.call(BridgeFlags {
                        bd_id: n.id,
                        is_set,
                        flags: BdFlags(mask),
                    })
                    .await?;
                }
            }
            if o.mac_age != n.mac_age {
                ctx.call(BridgeDomainSetMacAge {
                    bd_id: n.id,
                    mac_age: n.mac_age,
                })
                .await?;
            }
            Ok(())
        })
    }
    fn delete<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        value: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let Item::Bd(b) = value else {
                return Err(wrong(key, value));
            };
            ctx.call(BridgeDomainAddDelV2 {
                bd_id: b.id,
                is_add: false,
                ..Default::default()
            })
            .await?;
            Ok(())
        })
    }
    fn retrieve<'a>(
        &'a self,
        ctx: &'a mut Vpp,
    ) -> BoxFuture<'a, Result<Vec<Retrieved<Item>>, OpError>> {
        Box::pin(async move {
            let s = ctx.snapshot().await.map_err(|e| Box::new(e) as OpError)?;
            Ok(s.bds
                .iter()
                .map(|d| {
                    let members = d
                        .sw_if_details
                        .iter()
                        .filter(|m| m.sw_if_index != d.bvi_sw_if_index)
                        .map(|m| (s.name_of(m.sw_if_index.0), m.shg))
                        .collect();
                    Retrieved {
                        key: key::bd(d.bd_id),
                        owned: owned_tag(&d.bd_tag),
                        value: Item::Bd(Bd {
                            id: d.bd_id,
                            flood: d.flood,
                            uu_flood: d.uu_flood,
                            forward: d.forward,
                            learn: d.learn,
                            arp_term: d.arp_term,
                            arp_ufwd: d.arp_ufwd,
                            mac_age: d.mac_age,
                            tag: d.bd_tag.clone(),
                            members,
                        }),
                    }
                })
                .collect())
        })
    }
}

fn l2_bridge(
    sw: InterfaceIndex,
    bd_id: u32,
    bvi: bool,
    shg: u8,
    enable: bool,
) -> SwInterfaceSetL2Bridge {
    SwInterfaceSetL2Bridge {
        rx_sw_if_index: sw,
        bd_id,
        port_type: if bvi {
            L2PortType::L2_API_PORT_TYPE_BVI
        } else {
            L2PortType::L2_API_PORT_TYPE_NORMAL
        },
        shg,
        enable,
    }
}

/// `bd/<id>/member/<if>`: an L2 port of the BD (derived from the BD).
pub struct MemberDesc;

impl Descriptor<Item, Vpp> for MemberDesc {
    fn name(&self) -> &'static str {
        "bd-member"
    }
    fn handles(&self, key: &str) -> bool {
        key.starts_with("bd/") && seg(key, 2) == Some("member") && nsegs(key) == 4
    }
    fn dependencies(&self, key: &str, _value: &Item) -> Vec<Dependency> {
        let (bd, ifn) = (seg(key, 1).unwrap_or(""), seg(key, 3).unwrap_or(""));
        vec![
            Dependency::Key(format!("bd/{bd}")),
            Dependency::Key(key::iface(ifn)),
        ]
    }
    fn create<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        value: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let Item::Member { shg } = value else {
                return Err(wrong(key, value));
            };
            let bd = key::bd_of(key).unwrap_or(0);
            let sw = ctx.index_of(seg(key, 3).unwrap_or(""))?;
            ctx.call(l2_bridge(sw, bd, false, *shg, true)).await?;
            Ok(())
        })
    }
    fn delete<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        _value: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let bd = key::bd_of(key).unwrap_or(0);
            let sw = ctx.index_of(seg(key, 3).unwrap_or(""))?;
            ctx.call(l2_bridge(sw, bd, false, 0, false)).await?;
            Ok(())
        })
    }
}

/// `bd/<id>/bvi/<if>`: the loopback is the BD's BVI (derived from the loopback).
pub struct BviDesc;

impl Descriptor<Item, Vpp> for BviDesc {
    fn name(&self) -> &'static str {
        "bd-bvi"
    }
    fn handles(&self, key: &str) -> bool {
        key.starts_with("bd/") && seg(key, 2) == Some("bvi") && nsegs(key) == 4
    }
    fn dependencies(&self, key: &str, _value: &Item) -> Vec<Dependency> {
        vec![Dependency::Key(format!("bd/{}", seg(key, 1).unwrap_or("")))]
    }
    fn create<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        _value: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let bd = key::bd_of(key).unwrap_or(0);
            let sw = ctx.index_of(seg(key, 3).unwrap_or(""))?;
            ctx.call(l2_bridge(sw, bd, true, 0, true)).await?;
            Ok(())
        })
    }
    fn update<'a>(
        &'a self,
        _ctx: &'a mut Vpp,
        _key: &'a str,
        _old: &'a Item,
        _new: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        done()
    }
    fn delete<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        _value: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let bd = key::bd_of(key).unwrap_or(0);
            let sw = ctx.index_of(seg(key, 3).unwrap_or(""))?;
            ctx.call(l2_bridge(sw, bd, true, 0, false)).await?;
            Ok(())
        })
    }
}

// ---------------------------------------------------------------------------------------------
// interface/<name>

/// `interface/<name>`: a loopback we create (and what hangs off it), or an interface we only
/// use (a PHY, a pg, a tunnel's interface).
pub struct IfaceDesc;

impl Descriptor<Item, Vpp> for IfaceDesc {
    fn name(&self) -> &'static str {
        "interface"
    }
    fn handles(&self, key: &str) -> bool {
        key.starts_with("interface/") && nsegs(key) == 2
    }
    fn derived(&self, key: &str, value: &Item) -> Vec<(String, Item)> {
        let Item::Loopback(l) = value else {
            return Vec::new();
        };
        let name = key::iface_of(key).unwrap_or("");
        let mut out = vec![(key::mac(name), Item::Mac { mac: l.mac })];
        if let Some(bd) = l.bvi_of {
            out.push((key::bvi(bd, name), Item::Bvi));
        }
        if let Some(ll) = l.ll {
            out.push((key::ll(name), Item::LinkLocal { ll }));
        }
        if l.up {
            out.push((
                key::up(name),
                Item::Up {
                    after_ll: l.ll.is_some(),
                },
            ));
        }
        for a in &l.addrs {
            out.push((
                key::addr(name, a),
                Item::Address {
                    addr: *a,
                    after_ll: l.ll.is_some(),
                },
            ));
        }
        out
    }
    fn equivalent(&self, _key: &str, desired: &Item, actual: &Item) -> bool {
        match (desired, actual) {
            (Item::Loopback(d), Item::Loopback(a)) => {
                d.instance == a.instance
                    && d.tag == a.tag
                    && (d.mtu.is_none() || d.mtu == a.mtu)
                    && (d.lcp.is_none() || d.lcp == a.lcp)
            }
            (Item::Iface { .. }, Item::Iface { .. }) => true,
            _ => false,
        }
    }
    fn change_kind(&self, _key: &str, old: &Item, new: &Item) -> ChangeKind {
        match (old, new) {
            (Item::Loopback(o), Item::Loopback(n)) if o.instance == n.instance => {
                ChangeKind::Update
            }
            _ => ChangeKind::Recreate,
        }
    }
    fn create<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        value: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let name = key::iface_of(key).unwrap_or("").to_string();
            match value {
                Item::Loopback(l) => create_loopback(ctx, &name, l).await,
                Item::Iface { .. } => {
                    // Created by its parent (a tunnel) earlier in this plan, or it must exist.
                    if ctx.names.contains_key(&name) || ctx.opts.dry_run {
                        Ok(())
                    } else {
                        Err(VppError::Other(format!(
                            "interface {name} does not exist and evpn-tools cannot create it"
                        )))
                    }
                }
                _ => Err(wrong(key, value)),
            }
        })
    }
    fn update<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        old: &'a Item,
        new: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let (Item::Loopback(o), Item::Loopback(n)) = (old, new) else {
                return Ok(());
            };
            let sw = ctx.index_of(key::iface_of(key).unwrap_or(""))?;
            if o.tag != n.tag {
                ctx.call(SwInterfaceTagAddDel {
                    is_add: !n.tag.is_empty(),
                    sw_if_index: sw,
                    tag: n.tag.clone(),
                })
                .await?;
            }
            if let Some(m) = n.mtu.filter(|m| Some(*m) != o.mtu) {
                ctx.call(SwInterfaceSetMtu {
                    sw_if_index: sw,
                    mtu: [m, 0, 0, 0],
                })
                .await?;
            }
            if let Some(host) = n.lcp.as_ref().filter(|h| Some(*h) != o.lcp.as_ref()) {
                let name = key::iface_of(key).unwrap_or("");
                lcp_del(ctx, name, sw).await?;
                lcp_add(ctx, name, sw, host).await?;
            }
            Ok(())
        })
    }
    fn delete<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        value: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let name = key::iface_of(key).unwrap_or("");
            if let Item::Loopback(_) = value {
                let sw = ctx.index_of(name)?;
                lcp_del(ctx, name, sw).await?;
                ctx.call(DeleteLoopback { sw_if_index: sw }).await?;
                ctx.names.remove(name);
                ctx.macs.remove(name);
            }
            Ok(())
        })
    }
    fn retrieve<'a>(
        &'a self,
        ctx: &'a mut Vpp,
    ) -> BoxFuture<'a, Result<Vec<Retrieved<Item>>, OpError>> {
        Box::pin(async move {
            let s = ctx.snapshot().await.map_err(|e| Box::new(e) as OpError)?;
            let mut out = Vec::new();
            for i in &s.ifs {
                // A tunnel's interface is derived from the tunnel.
                if s.vxlan.iter().any(|t| t.sw_if_index.0 == i.sw_if_index) {
                    continue;
                }
                let value = match (i.dev_type.as_str(), loop_instance(&i.name)) {
                    ("Loopback", Some(instance)) => {
                        let (addrs, ll) = s.l3.get(&i.sw_if_index).cloned().unwrap_or_default();
                        let bvi_of = s
                            .bds
                            .iter()
                            .find(|b| b.bvi_sw_if_index.0 == i.sw_if_index)
                            .map(|b| b.bd_id);
                        Item::Loopback(Loopback {
                            instance,
                            mac: i.mac,
                            tag: i.tag.clone(),
                            mtu: Some(i.mtu),
                            ll,
                            up: i.admin_up,
                            addrs,
                            bvi_of,
                            lcp: s.lcp.get(&i.sw_if_index).cloned(),
                        })
                    }
                    _ => Item::Iface {
                        name: i.name.clone(),
                    },
                };
                let owned = matches!(value, Item::Loopback(_)) && owned_tag(&i.tag);
                out.push(Retrieved {
                    key: key::iface(&i.name),
                    value,
                    owned,
                });
            }
            Ok(out)
        })
    }
}

async fn create_loopback(ctx: &mut Vpp, name: &str, l: &Loopback) -> Result<(), VppError> {
    if loop_instance(name) != Some(l.instance) {
        return Err(VppError::Other(format!(
            "a loopback of instance {} is named loop{}, not {name}",
            l.instance, l.instance
        )));
    }
    let r = ctx
        .call(CreateLoopbackInstance {
            mac_address: l.mac.into(),
            is_specified: true,
            user_instance: l.instance,
        })
        .await?;
    let sw = if ctx.opts.dry_run {
        ctx.fake_index()
    } else {
        r.sw_if_index.0
    };
    ctx.names.insert(name.to_string(), sw);
    ctx.macs.insert(name.to_string(), l.mac);
    let sw = InterfaceIndex(sw);
    // One operation: when a later step fails, the loopback goes again (the engine reverts
    // only the operations that completed).
    if let Err(e) = loopback_setup(ctx, name, sw, l).await {
        if !ctx.opts.dry_run {
            let _ = ctx.call(DeleteLoopback { sw_if_index: sw }).await;
            ctx.names.remove(name);
            ctx.macs.remove(name);
        }
        return Err(e);
    }
    Ok(())
}

async fn loopback_setup(
    ctx: &mut Vpp,
    name: &str,
    sw: InterfaceIndex,
    l: &Loopback,
) -> Result<(), VppError> {
    if !l.tag.is_empty() {
        ctx.call(SwInterfaceTagAddDel {
            is_add: true,
            sw_if_index: sw,
            tag: l.tag.clone(),
        })
        .await?;
    }
    if let Some(m) = l.mtu {
        ctx.call(SwInterfaceSetMtu {
            sw_if_index: sw,
            mtu: [m, 0, 0, 0],
        })
        .await?;
    }
    if let Some(host) = &l.lcp {
        lcp_add(ctx, name, sw, host).await?;
    }
    Ok(())
}

/// Pairs `name` with a linux-cp TAP `host` (in the default namespace).
async fn lcp_add(
    ctx: &mut Vpp,
    name: &str,
    sw: InterfaceIndex,
    host: &str,
) -> Result<(), VppError> {
    ctx.call(LcpItfPairAddDelV2 {
        is_add: true,
        sw_if_index: sw,
        host_if_name: host.to_string(),
        host_if_type: LcpItfHostType::LCP_API_ITF_HOST_TAP,
        netns: String::new(),
    })
    .await?;
    ctx.lcp_pairs.insert(name.to_string());
    Ok(())
}

/// Removes `name`'s linux-cp pair, if it has one.
async fn lcp_del(ctx: &mut Vpp, name: &str, sw: InterfaceIndex) -> Result<(), VppError> {
    if !ctx.lcp_pairs.contains(name) {
        return Ok(());
    }
    ctx.call(LcpItfPairAddDelV2 {
        is_add: false,
        sw_if_index: sw,
        ..Default::default()
    })
    .await?;
    ctx.lcp_pairs.remove(name);
    Ok(())
}

/// `interface/<if>/mac`. A loopback gets its MAC when created, so creating this value sends
/// nothing when the interface already has it; deleting it sends nothing (a MAC cannot be
/// removed).
pub struct MacDesc;

impl Descriptor<Item, Vpp> for MacDesc {
    fn name(&self) -> &'static str {
        "interface-mac"
    }
    fn handles(&self, key: &str) -> bool {
        key.starts_with("interface/") && nsegs(key) == 3 && seg(key, 2) == Some("mac")
    }
    fn create<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        value: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let Item::Mac { mac } = value else {
                return Err(wrong(key, value));
            };
            let name = key::iface_of(key).unwrap_or("").to_string();
            if ctx.macs.get(&name) == Some(mac) {
                return Ok(());
            }
            let sw = ctx.index_of(&name)?;
            ctx.call(SwInterfaceSetMacAddress {
                sw_if_index: sw,
                mac_address: (*mac).into(),
            })
            .await?;
            ctx.macs.insert(name, *mac);
            Ok(())
        })
    }
    fn delete<'a>(
        &'a self,
        _ctx: &'a mut Vpp,
        _key: &'a str,
        _value: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        done()
    }
}

/// `interface/<if>/ll`: the IPv6 link-local, set explicitly (VPP does not regenerate it on a
/// MAC change). Set after the MAC and after the BVI port, as vpp-evpn does.
pub struct LlDesc;

impl Descriptor<Item, Vpp> for LlDesc {
    fn name(&self) -> &'static str {
        "interface-link-local"
    }
    fn handles(&self, key: &str) -> bool {
        key.starts_with("interface/") && nsegs(key) == 3 && seg(key, 2) == Some("ll")
    }
    fn dependencies(&self, key: &str, _value: &Item) -> Vec<Dependency> {
        // After the MAC. (The BVI port comes first by key order, `bd/...` before
        // `interface/...`, not by a dependency: leaving a BD must not reset the link-local.)
        vec![Dependency::Key(key::mac(key::iface_of(key).unwrap_or("")))]
    }
    fn equivalent(&self, _key: &str, desired: &Item, actual: &Item) -> bool {
        matches!((desired, actual), (Item::LinkLocal { ll: d, .. }, Item::LinkLocal { ll: a, .. }) if d == a)
    }
    fn create<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        value: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let Item::LinkLocal { ll, .. } = value else {
                return Err(wrong(key, value));
            };
            let sw = ctx.index_of(key::iface_of(key).unwrap_or(""))?;
            ctx.call(SwInterfaceIp6SetLinkLocalAddress {
                sw_if_index: sw,
                ip: (*ll).into(),
            })
            .await?;
            Ok(())
        })
    }
    fn delete<'a>(
        &'a self,
        _ctx: &'a mut Vpp,
        _key: &'a str,
        _value: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        // VPP has no message to remove a link-local; it goes with the interface.
        done()
    }
}

/// `interface/<if>/up`: admin state, last (after the link-local).
pub struct UpDesc;

impl Descriptor<Item, Vpp> for UpDesc {
    fn name(&self) -> &'static str {
        "interface-admin-up"
    }
    fn handles(&self, key: &str) -> bool {
        key.starts_with("interface/") && nsegs(key) == 3 && seg(key, 2) == Some("up")
    }
    fn dependencies(&self, key: &str, value: &Item) -> Vec<Dependency> {
        match value {
            Item::Up { after_ll: true } => {
                vec![Dependency::Key(key::ll(key::iface_of(key).unwrap_or("")))]
            }
            _ => Vec::new(),
        }
    }
    fn equivalent(&self, _key: &str, desired: &Item, actual: &Item) -> bool {
        matches!((desired, actual), (Item::Up { .. }, Item::Up { .. }))
    }
    fn create<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        _value: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let sw = ctx.index_of(key::iface_of(key).unwrap_or(""))?;
            ctx.call(SwInterfaceSetFlags {
                sw_if_index: sw,
                flags: IfStatusFlags::IF_STATUS_API_FLAG_ADMIN_UP,
            })
            .await?;
            Ok(())
        })
    }
    fn update<'a>(
        &'a self,
        _ctx: &'a mut Vpp,
        _key: &'a str,
        _old: &'a Item,
        _new: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        done()
    }
    fn delete<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        _value: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let name = key::iface_of(key).unwrap_or("");
            if ctx.doomed.contains(name) {
                return Ok(());
            }
            let sw = ctx.index_of(name)?;
            ctx.call(SwInterfaceSetFlags {
                sw_if_index: sw,
                flags: IfStatusFlags(0),
            })
            .await?;
            Ok(())
        })
    }
}

/// `interface/<if>/addr/<a>/<len>`: one global address (after the link-local).
pub struct AddrDesc;

impl Descriptor<Item, Vpp> for AddrDesc {
    fn name(&self) -> &'static str {
        "interface-address"
    }
    fn handles(&self, key: &str) -> bool {
        key.starts_with("interface/") && seg(key, 2) == Some("addr")
    }
    fn dependencies(&self, key: &str, value: &Item) -> Vec<Dependency> {
        match value {
            Item::Address { after_ll: true, .. } => {
                vec![Dependency::Key(key::ll(key::iface_of(key).unwrap_or("")))]
            }
            _ => Vec::new(),
        }
    }
    fn equivalent(&self, _key: &str, desired: &Item, actual: &Item) -> bool {
        matches!((desired, actual), (Item::Address { addr: d, .. }, Item::Address { addr: a, .. }) if d == a)
    }
    fn create<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        value: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let Item::Address { addr, .. } = value else {
                return Err(wrong(key, value));
            };
            let sw = ctx.index_of(key::iface_of(key).unwrap_or(""))?;
            ctx.call(add_del_address(sw, addr.addr, addr.len, true))
                .await?;
            Ok(())
        })
    }
    fn update<'a>(
        &'a self,
        _ctx: &'a mut Vpp,
        _key: &'a str,
        _old: &'a Item,
        _new: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        done()
    }
    fn delete<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        value: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let Item::Address { addr, .. } = value else {
                return Err(wrong(key, value));
            };
            let name = key::iface_of(key).unwrap_or("");
            if ctx.doomed.contains(name) {
                return Ok(());
            }
            let sw = ctx.index_of(name)?;
            ctx.call(add_del_address(sw, addr.addr, addr.len, false))
                .await?;
            Ok(())
        })
    }
}

fn add_del_address(
    sw: InterfaceIndex,
    a: IpAddr,
    len: u8,
    is_add: bool,
) -> SwInterfaceAddDelAddress {
    SwInterfaceAddDelAddress {
        sw_if_index: sw,
        is_add,
        del_all: false,
        prefix: AddressWithPrefix(Prefix {
            address: address(a),
            len,
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// l2fib/<bd>/<mac>

/// `l2fib/<bd>/<mac>`: a static (or filter) L2FIB entry. VPP-managed BVI entries and learned
/// MACs are read but not ours.
pub struct L2fibDesc;

fn l2fib_msg(
    key: &str,
    f: &L2fib,
    sw: InterfaceIndex,
    is_add: bool,
) -> Result<L2fibAddDel, VppError> {
    let mac: Mac = seg(key, 2)
        .and_then(|m| m.parse().ok())
        .ok_or_else(|| VppError::Other(format!("bad l2fib key {key}")))?;
    Ok(L2fibAddDel {
        mac: mac.into(),
        bd_id: key::bd_of(key).unwrap_or(0),
        sw_if_index: sw,
        is_add,
        static_mac: f.static_mac,
        filter_mac: f.filter,
        bvi_mac: f.bvi,
    })
}

impl Descriptor<Item, Vpp> for L2fibDesc {
    fn name(&self) -> &'static str {
        "l2fib"
    }
    fn handles(&self, key: &str) -> bool {
        key.starts_with("l2fib/") && nsegs(key) == 3
    }
    fn dependencies(&self, key: &str, value: &Item) -> Vec<Dependency> {
        let bd = key::bd_of(key).unwrap_or(0);
        match value {
            Item::L2fib(f) if f.filter => vec![Dependency::Key(key::bd(bd))],
            Item::L2fib(f) if f.bvi => vec![Dependency::Key(key::bvi(bd, &f.iface))],
            Item::L2fib(f) => vec![Dependency::Key(key::member(bd, &f.iface))],
            _ => Vec::new(),
        }
    }
    fn create<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        value: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let Item::L2fib(f) = value else {
                return Err(wrong(key, value));
            };
            let sw = if f.filter {
                InterfaceIndex::NONE
            } else {
                ctx.index_of(&f.iface)?
            };
            ctx.call(l2fib_msg(key, f, sw, true)?).await?;
            Ok(())
        })
    }
    fn update<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        _old: &'a Item,
        new: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        // Adding an existing MAC re-points it (seen on VPP 26.06).
        self.create(ctx, key, new)
    }
    fn delete<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        value: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let Item::L2fib(f) = value else {
                return Err(wrong(key, value));
            };
            let sw = ctx.index_of(&f.iface).unwrap_or(InterfaceIndex::NONE);
            ctx.call(l2fib_msg(key, f, sw, false)?).await?;
            Ok(())
        })
    }
    fn retrieve<'a>(
        &'a self,
        ctx: &'a mut Vpp,
    ) -> BoxFuture<'a, Result<Vec<Retrieved<Item>>, OpError>> {
        Box::pin(async move {
            let s = ctx.snapshot().await.map_err(|e| Box::new(e) as OpError)?;
            // Static entries in a BD we own are ours; learned ones and Bird's never are.
            let owned_bd = |id: u32| s.bds.iter().any(|b| b.bd_id == id && owned_tag(&b.bd_tag));
            Ok(s.l2fib
                .iter()
                .filter(|e| !e.bvi_mac)
                .map(|e| Retrieved {
                    key: key::l2fib(e.bd_id, &Mac::from(e.mac)),
                    owned: e.static_mac && owned_bd(e.bd_id),
                    value: Item::L2fib(L2fib {
                        iface: s.name_of(e.sw_if_index.0),
                        static_mac: e.static_mac,
                        filter: e.filter_mac,
                        bvi: false,
                    }),
                })
                .collect())
        })
    }
}

// ---------------------------------------------------------------------------------------------
// vxlan/<instance>

/// `vxlan/<instance>`: a static VXLAN tunnel (labs without BGP). Any change recreates it; its
/// interface `vxlan_tunnel<instance>` is a derived value, tagged as ours when we create it.
pub struct VxlanDesc;

/// VXLAN's `decap_next_index` for l2-input (`VXLAN_INPUT_NEXT_L2_INPUT`).
const VXLAN_DECAP_L2_INPUT: u32 = 1;
/// The tag of tunnel interfaces evpn-tools creates.
pub const VXLAN_TAG: &str = "evpn-tools:vxlan";

fn vxlan_msg(v: &Vxlan, is_add: bool) -> VxlanAddDelTunnelV3 {
    VxlanAddDelTunnelV3 {
        is_add,
        instance: v.instance,
        src_address: address(v.src),
        dst_address: address(v.dst),
        src_port: v.src_port,
        dst_port: v.dst_port,
        mcast_sw_if_index: InterfaceIndex::NONE,
        encap_vrf_id: v.encap_vrf_id,
        decap_next_index: VXLAN_DECAP_L2_INPUT,
        vni: v.vni,
        is_l3: false,
    }
}

impl Descriptor<Item, Vpp> for VxlanDesc {
    fn name(&self) -> &'static str {
        "vxlan-tunnel"
    }
    fn handles(&self, key: &str) -> bool {
        key.starts_with("vxlan/") && nsegs(key) == 2
    }
    fn derived(&self, _key: &str, value: &Item) -> Vec<(String, Item)> {
        match value {
            Item::Vxlan(v) => {
                let name = key::vxlan_iface(v.instance);
                vec![(key::iface(&name), Item::Iface { name })]
            }
            _ => Vec::new(),
        }
    }
    fn change_kind(&self, _key: &str, _old: &Item, _new: &Item) -> ChangeKind {
        ChangeKind::Recreate
    }
    fn create<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        value: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let Item::Vxlan(v) = value else {
                return Err(wrong(key, value));
            };
            let r = ctx.call(vxlan_msg(v, true)).await?;
            let sw = if ctx.opts.dry_run {
                ctx.fake_index()
            } else {
                r.sw_if_index.0
            };
            ctx.names.insert(key::vxlan_iface(v.instance), sw);
            let sw = InterfaceIndex(sw);
            let setup = async {
                ctx.call(SwInterfaceTagAddDel {
                    is_add: true,
                    sw_if_index: sw,
                    tag: VXLAN_TAG.into(),
                })
                .await?;
                // VPP creates the tunnel admin-up; set it anyway, as Bird's vppevpn does.
                ctx.call(SwInterfaceSetFlags {
                    sw_if_index: sw,
                    flags: IfStatusFlags::IF_STATUS_API_FLAG_ADMIN_UP,
                })
                .await
            };
            // One operation: a failed step removes the tunnel again.
            if let Err(e) = setup.await {
                if !ctx.opts.dry_run {
                    let _ = ctx.call(vxlan_msg(v, false)).await;
                    ctx.names.remove(&key::vxlan_iface(v.instance));
                }
                return Err(e);
            }
            Ok(())
        })
    }
    fn update<'a>(
        &'a self,
        _ctx: &'a mut Vpp,
        _key: &'a str,
        _old: &'a Item,
        _new: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        done()
    }
    fn delete<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        value: &'a Item,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let Item::Vxlan(v) = value else {
                return Err(wrong(key, value));
            };
            ctx.call(vxlan_msg(v, false)).await?;
            ctx.names.remove(&key::vxlan_iface(v.instance));
            Ok(())
        })
    }
    fn retrieve<'a>(
        &'a self,
        ctx: &'a mut Vpp,
    ) -> BoxFuture<'a, Result<Vec<Retrieved<Item>>, OpError>> {
        Box::pin(async move {
            let s = ctx.snapshot().await.map_err(|e| Box::new(e) as OpError)?;
            Ok(s.vxlan
                .iter()
                .filter_map(|t| {
                    let src = IpAddr::try_from(t.src_address).ok()?;
                    let dst = IpAddr::try_from(t.dst_address).ok()?;
                    let owned = s
                        .by_index(t.sw_if_index.0)
                        .is_some_and(|i| owned_tag(&i.tag));
                    Some(Retrieved {
                        key: key::vxlan(t.instance),
                        owned,
                        value: Item::Vxlan(Vxlan {
                            instance: t.instance,
                            src,
                            dst,
                            vni: t.vni,
                            src_port: t.src_port,
                            dst_port: t.dst_port,
                            encap_vrf_id: t.encap_vrf_id,
                        }),
                    })
                })
                .collect())
        })
    }
}
