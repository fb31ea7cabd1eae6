//! The LB descriptors: `lb/conf`, VIPs and their ASes, on VPP 26.06's `lb.api` 1.1.0 or
//! master's 1.2.0. Every message goes through [`Vpp::call`], so `--dry-run` records exactly
//! what would be sent.
//!
//! | | 1.1.0 (26.06) | 1.2.0 (master) |
//! |---|---|---|
//! | `lb/conf` read | `show lb` (addresses; buckets and timeout from this session's push) | `lb_conf_get` (all four) |
//! | AS create | `lb_add_del_as` (weight 100 only) | `lb_add_del_as_v2` (weight, `is_flush` false) |
//! | AS weight change | refused | `lb_as_set_weight` (`is_flush` false) |
//! | AS delete | `lb_add_del_as` (`is_flush` per policy) | the same |
//! | IPv4 keys | `len + 96` under `--compat-lb-26.06` | honest |
//!
//! A weight change is a policy change, not a health event: `lb_as_set_weight` goes with
//! `is_flush` false, so established flows stay on the AS through the sticky table and only new
//! flows follow the new table (weight 0 is vpp-maglev's "lameduck" drain). Evicting them is what
//! a delete with `is_flush` does. A new AS is added with `is_flush` false as well: on master
//! that flag only matters when a removed AS is re-added, and its leftover sticky flows go to
//! that same AS.

use std::net::IpAddr;

use lb_api_next::{LbAddDelAsV2, LbAsSetWeight};
use reconcile::{BoxFuture, ChangeKind, Dependency, Descriptor, Engine, OpError, Retrieved};
use vppapi_binapi::lb::{LbAddDelAs, LbAddDelVipV2, LbConf as LbConfMsg};
use vppapi_binapi::lb_types::{LbEncapType, LbSrvType};
use vppapi_runtime::{Ip4Address, Ip6Address};

use super::model::{key, As, LbConf, LbItem, Vip};
use super::read::{read, wire_prefix};
use crate::descriptors::{boxed, done, Traced};
use crate::vpp::{address, Vpp, VppError};
use vppapi_runtime::AddressWithPrefix;

/// The engine with the LB descriptors.
pub fn engine() -> Engine<LbItem, Vpp> {
    let mut e = Engine::new();
    e.register(Traced(ConfDesc))
        .register(Traced(VipDesc))
        .register(Traced(AsDesc));
    e
}

fn wrong(key: &str, v: &LbItem) -> VppError {
    VppError::Other(format!(
        "internal: value {v:?} does not belong to key {key}"
    ))
}

/// Reads the LB state once per plan (cached in the context until `invalidate`).
async fn ensure_read(ctx: &mut Vpp) -> Result<(), VppError> {
    if ctx.lb.read.is_none() {
        let r = read(ctx).await?;
        ctx.lb.read = Some(r);
    }
    Ok(())
}

fn err(e: VppError) -> OpError {
    Box::new(e)
}

/// Whether this VPP has lb.api 1.2.0's weight messages (with this build's CRCs).
fn api_1_2(ctx: &Vpp) -> bool {
    super::sync::capabilities(ctx).lb_1_2
}

// ---------------------------------------------------------------------------------------------

struct ConfDesc;

impl Descriptor<LbItem, Vpp> for ConfDesc {
    fn name(&self) -> &'static str {
        "lb-conf"
    }
    fn handles(&self, key: &str) -> bool {
        key == key::CONF
    }
    /// The source addresses always compare; buckets and timeout only when known (1.2.0 reads
    /// them with `lb_conf_get`; 26.06 has no getter: they are known only from this session's
    /// own push).
    fn equivalent(&self, _key: &str, desired: &LbItem, actual: &LbItem) -> bool {
        match (desired, actual) {
            (LbItem::Conf(d), LbItem::Conf(a)) => {
                d.ip4_src == a.ip4_src
                    && d.ip6_src == a.ip6_src
                    && (a.sticky_buckets_per_core.is_none()
                        || d.sticky_buckets_per_core.is_none()
                        || a.sticky_buckets_per_core == d.sticky_buckets_per_core)
                    && (a.flow_timeout.is_none()
                        || d.flow_timeout.is_none()
                        || a.flow_timeout == d.flow_timeout)
            }
            _ => false,
        }
    }
    fn describe_change(&self, _key: &str, old: &LbItem, new: &LbItem) -> String {
        match (old, new) {
            (LbItem::Conf(o), LbItem::Conf(n)) => {
                let mut f = Vec::new();
                if o.ip4_src != n.ip4_src {
                    f.push(format!("ip4-src {} -> {}", o.ip4_src, n.ip4_src));
                }
                if o.ip6_src != n.ip6_src {
                    f.push(format!("ip6-src {} -> {}", o.ip6_src, n.ip6_src));
                }
                let opt = |v: Option<u32>| v.map_or("?".to_string(), |v| v.to_string());
                if o.sticky_buckets_per_core.is_some()
                    && o.sticky_buckets_per_core != n.sticky_buckets_per_core
                {
                    f.push(format!(
                        "buckets {} -> {}",
                        opt(o.sticky_buckets_per_core),
                        opt(n.sticky_buckets_per_core)
                    ));
                }
                if o.flow_timeout.is_some() && o.flow_timeout != n.flow_timeout {
                    f.push(format!(
                        "timeout {} -> {}",
                        opt(o.flow_timeout),
                        opt(n.flow_timeout)
                    ));
                }
                if f.is_empty() {
                    "buckets or timeout differ".into()
                } else {
                    f.join(", ")
                }
            }
            _ => "value differs".into(),
        }
    }
    fn create<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        value: &'a LbItem,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let LbItem::Conf(c) = value else {
                return Err(wrong(key, value));
            };
            ctx.call(LbConfMsg {
                ip4_src_address: Ip4Address(c.ip4_src.octets()),
                ip6_src_address: Ip6Address(c.ip6_src.octets()),
                sticky_buckets_per_core: c.sticky_buckets_per_core.unwrap_or(u32::MAX),
                flow_timeout: c.flow_timeout.unwrap_or(u32::MAX),
            })
            .await?;
            // lastLBConf: what this session pushed is what VPP has.
            ctx.lb.last_conf = Some(c.clone());
            Ok(())
        })
    }
    /// `lb_conf` cannot be undone; VPP keeps the last one.
    fn delete<'a>(
        &'a self,
        _ctx: &'a mut Vpp,
        _key: &'a str,
        _value: &'a LbItem,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        done()
    }
    fn retrieve<'a>(
        &'a self,
        ctx: &'a mut Vpp,
    ) -> BoxFuture<'a, Result<Vec<Retrieved<LbItem>>, OpError>> {
        Box::pin(async move {
            ensure_read(ctx).await.map_err(err)?;
            // 1.2.0: lb_conf_get, all of it.
            if let Some(c) = ctx.lb.read.as_ref().and_then(|r| r.conf.clone()) {
                return Ok(vec![Retrieved {
                    key: key::CONF.to_string(),
                    value: LbItem::Conf(c),
                    owned: true,
                }]);
            }
            let Some((ip4_src, ip6_src)) = ctx.lb.read.as_ref().and_then(|r| r.src) else {
                return Ok(Vec::new());
            };
            let mut c = LbConf {
                ip4_src,
                ip6_src,
                sticky_buckets_per_core: None,
                flow_timeout: None,
            };
            if let Some(last) = &ctx.lb.last_conf {
                if (last.ip4_src, last.ip6_src) == (ip4_src, ip6_src) {
                    c.sticky_buckets_per_core = last.sticky_buckets_per_core;
                    c.flow_timeout = last.flow_timeout;
                }
            }
            Ok(vec![Retrieved {
                key: key::CONF.to_string(),
                value: LbItem::Conf(c),
                owned: true,
            }])
        })
    }
}

// ---------------------------------------------------------------------------------------------

struct VipDesc;

fn vip_msg(v: &Vip, compat_v4: bool, is_del: bool) -> LbAddDelVipV2 {
    LbAddDelVipV2 {
        pfx: wire_prefix(&v.prefix, compat_v4),
        protocol: v.protocol.number(),
        port: v.port,
        encap: LbEncapType(v.encap.wire()),
        dscp: 0,
        r#type: LbSrvType(0),
        target_port: 0,
        node_port: 0,
        new_flows_table_length: v.new_flows_table_length,
        src_ip_sticky: v.src_ip_sticky,
        is_del,
    }
}

/// `lb_add_del_vip_v2` for the VIP `value` (add, or delete with `is_del`).
async fn add_del_vip(
    ctx: &mut Vpp,
    key: &str,
    value: &LbItem,
    is_del: bool,
) -> Result<(), VppError> {
    let LbItem::Vip(v) = value else {
        return Err(wrong(key, value));
    };
    let m = vip_msg(v, ctx.lb.compat_v4, is_del);
    ctx.call(m).await?;
    Ok(())
}

impl Descriptor<LbItem, Vpp> for VipDesc {
    fn name(&self) -> &'static str {
        "lb-vip"
    }
    fn handles(&self, key: &str) -> bool {
        key::is_vip(key)
    }
    fn dependencies(&self, _key: &str, _value: &LbItem) -> Vec<Dependency> {
        vec![Dependency::Key(key::CONF.to_string())]
    }
    fn derived(&self, key: &str, value: &LbItem) -> Vec<(String, LbItem)> {
        match value {
            LbItem::Vip(v) => v
                .ases
                .iter()
                .map(|a| (key::as_(key, a.address), LbItem::As(a.clone())))
                .collect(),
            _ => Vec::new(),
        }
    }
    /// The ASes are compared as their own keys; `flush` is a policy, not VPP state.
    fn equivalent(&self, _key: &str, desired: &LbItem, actual: &LbItem) -> bool {
        match (desired, actual) {
            (LbItem::Vip(d), LbItem::Vip(a)) => {
                d.encap == a.encap
                    && d.new_flows_table_length == a.new_flows_table_length
                    && d.src_ip_sticky == a.src_ip_sticky
            }
            _ => false,
        }
    }
    /// Every VIP field but the key is immutable in VPP's lb: a change recreates.
    fn change_kind(&self, _key: &str, _old: &LbItem, _new: &LbItem) -> ChangeKind {
        ChangeKind::Recreate
    }
    fn describe_change(&self, _key: &str, old: &LbItem, new: &LbItem) -> String {
        match (old, new) {
            (LbItem::Vip(o), LbItem::Vip(n)) => {
                let mut f = Vec::new();
                if o.encap != n.encap {
                    f.push(format!("encap {} -> {}", o.encap, n.encap));
                }
                if o.new_flows_table_length != n.new_flows_table_length {
                    f.push(format!(
                        "new-len {} -> {}",
                        o.new_flows_table_length, n.new_flows_table_length
                    ));
                }
                if o.src_ip_sticky != n.src_ip_sticky {
                    f.push(format!("sticky {} -> {}", o.src_ip_sticky, n.src_ip_sticky));
                }
                format!("immutable {}", f.join(", "))
            }
            _ => "value differs".into(),
        }
    }
    fn create<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        value: &'a LbItem,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(add_del_vip(ctx, key, value, false))
    }
    fn delete<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        value: &'a LbItem,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(add_del_vip(ctx, key, value, true))
    }
    fn retrieve<'a>(
        &'a self,
        ctx: &'a mut Vpp,
    ) -> BoxFuture<'a, Result<Vec<Retrieved<LbItem>>, OpError>> {
        Box::pin(async move {
            ensure_read(ctx).await.map_err(err)?;
            let Some(r) = ctx.lb.read.as_ref() else {
                return Ok(Vec::new());
            };
            let mut out = Vec::new();
            for s in r.live() {
                // A VIP of a type this tool cannot make (L3DSR, NAT, nodeport): listed with the
                // encap VPP reports; it is never equivalent to a desired GRE VIP.
                let (encap, new_len) = r.vip_fields(s);
                let Some(encap) = encap else { continue };
                let v = Vip {
                    prefix: s.prefix,
                    protocol: s.protocol(),
                    port: s.port(),
                    encap,
                    new_flows_table_length: new_len,
                    src_ip_sticky: s.src_ip_sticky,
                    flush: true,
                    ases: Vec::new(),
                };
                out.push(Retrieved {
                    key: key::of_vip(&v),
                    owned: true,
                    value: LbItem::Vip(v),
                });
            }
            Ok(out)
        })
    }
}

// ---------------------------------------------------------------------------------------------

struct AsDesc;

/// The VIP of an AS key on the wire: (prefix, protocol, port), and the VIP key.
fn vip_wire<'k>(
    ctx: &Vpp,
    key: &'k str,
) -> Result<(AddressWithPrefix, u8, u16, &'k str), VppError> {
    let bad = || VppError::Other(format!("internal: {key} is not an AS key"));
    let vk = key::vip_of_as(key).ok_or_else(bad)?;
    let prefix = key::prefix_of(vk).ok_or_else(bad)?;
    let mut seg = vk.rsplit('/');
    let port: u16 = seg.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let protocol: super::model::Proto = seg.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    Ok((
        wire_prefix(&prefix, ctx.lb.compat_v4),
        protocol.number(),
        port,
        vk,
    ))
}

/// `lb_add_del_as` for an AS key; a delete flushes unless the VIP or AS says not to.
fn as_msg(ctx: &Vpp, key: &str, a: IpAddr, is_del: bool) -> Result<LbAddDelAs, VppError> {
    let (pfx, protocol, port, vk) = vip_wire(ctx, key)?;
    Ok(LbAddDelAs {
        pfx,
        protocol,
        port,
        as_address: address(a),
        is_del,
        is_flush: is_del && !ctx.lb.no_flush.contains(vk) && !ctx.lb.no_flush.contains(key),
    })
}

/// lb.api 1.2.0: `lb_add_del_as_v2` adding an AS with its weight (no flush, see the module
/// docs).
fn as_add_v2(ctx: &Vpp, key: &str, a: &As) -> Result<LbAddDelAsV2, VppError> {
    let (pfx, protocol, port, _) = vip_wire(ctx, key)?;
    Ok(LbAddDelAsV2 {
        pfx,
        protocol,
        port,
        as_address: address(a.address),
        weight: a.weight,
        is_del: false,
        is_flush: false,
    })
}

/// lb.api 1.2.0: `lb_as_set_weight` without flush (a weight change keeps established flows).
fn as_set_weight(ctx: &Vpp, key: &str, a: &As) -> Result<LbAsSetWeight, VppError> {
    let (pfx, protocol, port, _) = vip_wire(ctx, key)?;
    Ok(LbAsSetWeight {
        pfx,
        protocol,
        port,
        as_address: address(a.address),
        weight: a.weight,
        is_flush: false,
    })
}

fn no_weights(key: &str, a: &As) -> VppError {
    VppError::Other(format!(
        "{key}: weight {} needs lb_as_set_weight, not available (lb.api 1.1.0)",
        a.weight
    ))
}

impl Descriptor<LbItem, Vpp> for AsDesc {
    fn name(&self) -> &'static str {
        "lb-as"
    }
    fn handles(&self, key: &str) -> bool {
        key::is_as(key)
    }
    fn dependencies(&self, key: &str, _value: &LbItem) -> Vec<Dependency> {
        key::vip_of_as(key)
            .map(|v| vec![Dependency::Key(v.to_string())])
            .unwrap_or_default()
    }
    fn describe_change(&self, _key: &str, old: &LbItem, new: &LbItem) -> String {
        match (old, new) {
            (LbItem::As(o), LbItem::As(n)) => format!("weight {} -> {}", o.weight, n.weight),
            _ => "value differs".into(),
        }
    }
    fn create<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        value: &'a LbItem,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let LbItem::As(a) = value else {
                return Err(wrong(key, value));
            };
            if api_1_2(ctx) {
                let m = as_add_v2(ctx, key, a)?;
                ctx.call(m).await?;
                return Ok(());
            }
            if a.weight != 100 {
                return Err(no_weights(key, a));
            }
            let m = as_msg(ctx, key, a.address, false)?;
            ctx.call(m).await?;
            Ok(())
        })
    }
    /// A weight change: `lb_as_set_weight` on 1.2.0 (an update in place, the AS stays),
    /// refused on 1.1.0.
    fn update<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        _old: &'a LbItem,
        new: &'a LbItem,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            match new {
                LbItem::As(a) if api_1_2(ctx) => {
                    let m = as_set_weight(ctx, key, a)?;
                    ctx.call(m).await?;
                    Ok(())
                }
                LbItem::As(a) => Err(no_weights(key, a)),
                v => Err(wrong(key, v)),
            }
        })
    }
    fn delete<'a>(
        &'a self,
        ctx: &'a mut Vpp,
        key: &'a str,
        value: &'a LbItem,
    ) -> BoxFuture<'a, Result<(), OpError>> {
        boxed(async move {
            let LbItem::As(a) = value else {
                return Err(wrong(key, value));
            };
            let m = as_msg(ctx, key, a.address, true)?;
            ctx.call(m).await?;
            Ok(())
        })
    }
    fn retrieve<'a>(
        &'a self,
        ctx: &'a mut Vpp,
    ) -> BoxFuture<'a, Result<Vec<Retrieved<LbItem>>, OpError>> {
        Box::pin(async move {
            ensure_read(ctx).await.map_err(err)?;
            let Some(r) = ctx.lb.read.as_ref() else {
                return Ok(Vec::new());
            };
            let mut out = Vec::new();
            for s in r.live() {
                if s.encap().is_none() {
                    continue;
                }
                let vk = key::vip(&s.prefix, s.protocol(), s.port());
                // 26.06: every AS weighs 100; 1.2.0: lb_as_v2_dump's weight.
                for (a, weight) in r.weighted_ases(s) {
                    out.push(Retrieved {
                        key: key::as_(&vk, a),
                        value: LbItem::As(As { address: a, weight }),
                        owned: true,
                    });
                }
            }
            Ok(out)
        })
    }
}
