//! `lb sync`: capabilities first, refusals before anything is sent, then one reconcile
//! (read, plan, apply in dependency order, verify). A second run plans nothing.

use std::collections::BTreeSet;

use reconcile::{PlanOptions, State};
use vppapi_binapi::lb::{LbAddDelAs, LbAddDelVipV2, LbAsDump, LbConf, LbVipDump};
use vppapi_binapi::vlib::CliInband;
use vppapi_runtime::Message;

use super::config::LbDesired;
use super::descriptors::engine;
use super::model::{key, LbItem};
use crate::commands::Failure;
use crate::output::Step;
use crate::reconcile_run::{read, reconcile, RunOptions};
use crate::vpp::Vpp;

/// How a sync runs.
#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// Remove VIPs inside `managed-prefixes` that the desired state does not list.
    pub prune: bool,
    /// Apply VPP 26.06's +96 to IPv4 VIP and AS keys (without it IPv4 VIPs are refused there).
    pub compat_lb_26_06: bool,
    /// On a failure, undo what this run applied.
    pub rollback: bool,
}

/// What the connected VPP's `lb` plugin can do, from its message table.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Capabilities {
    /// Every message `lb sync` sends or reads, with this build's CRCs.
    pub lb: bool,
    /// The messages of those that are missing or have another CRC.
    pub missing: Vec<String>,
    /// lb.api 1.2.0 (master after 26.06): `lb_as_set_weight`, `lb_add_del_as_v2`,
    /// `lb_as_v2_dump`, `lb_conf_get`; IPv4 keys fixed there.
    pub lb_1_2: bool,
}

/// The messages `lb sync` needs (lb.api 1.1.0 as in VPP 26.06, and `cli_inband` for the
/// read-back the 26.06 API lacks).
pub fn required_messages() -> Vec<&'static str> {
    vec![
        LbConf::NAME_CRC,
        LbAddDelVipV2::NAME_CRC,
        LbAddDelAs::NAME_CRC,
        LbVipDump::NAME_CRC,
        LbAsDump::NAME_CRC,
        CliInband::NAME_CRC,
    ]
}

/// The lb.api 1.2.0 messages, by name (their CRCs are not in the 26.06 API this tool is built
/// from; presence by name is what marks a VPP after 26.06).
pub const LB_1_2_MESSAGES: [&str; 4] = [
    "lb_as_set_weight",
    "lb_add_del_as_v2",
    "lb_as_v2_dump",
    "lb_conf_get",
];

pub fn capabilities(vpp: &Vpp) -> Capabilities {
    let missing = vpp.missing(&required_messages());
    let table = vpp.conn.message_table();
    let has = |n: &str| table.as_ref().is_some_and(|t| !t.versions_of(n).is_empty());
    Capabilities {
        lb: missing.is_empty(),
        missing,
        lb_1_2: has("lb_as_set_weight"),
    }
}

/// Refuses, before anything is sent, what this VPP cannot do.
pub fn check(desired: &LbDesired, caps: &Capabilities, opts: &SyncOptions) -> Result<(), Failure> {
    if !caps.lb {
        return Err(Failure::Error(format!(
            "this VPP cannot run lb sync (is the lb plugin loaded?); missing: {} (nothing was \
             sent)",
            caps.missing.join(", ")
        )));
    }
    if desired.uses_weights() {
        let (vip, a) = desired
            .vips
            .iter()
            .find_map(|v| v.ases.iter().find(|a| a.weight != 100).map(|a| (v, a)))
            .expect("uses_weights found one");
        return Err(Failure::Error(if caps.lb_1_2 {
            format!(
                "{} as {}: weight {} needs lb.api 1.2.0's lb_add_del_as_v2 / lb_as_set_weight, \
                 which this evpn-tools build does not speak yet (nothing was sent)",
                key::of_vip(vip),
                a.address,
                a.weight
            )
        } else {
            format!(
                "{} as {}: weight {}: lb_as_set_weight not available (lb.api 1.1.0); VPP 26.06 \
                 has no AS weights: every AS weighs 100, drain by removing it (nothing was sent)",
                key::of_vip(vip),
                a.address,
                a.weight
            )
        }));
    }
    if desired.has_ipv4_vips() && !caps.lb_1_2 && !opts.compat_lb_26_06 {
        let v = desired
            .vips
            .iter()
            .find(|v| v.prefix.is_ipv4())
            .expect("has one");
        return Err(Failure::Error(format!(
            "{}: IPv4 VIPs are broken in VPP 26.06's lb API (an honest /32 creates ::/32, \
             operator-tools.md §2.2); rerun with --compat-lb-26.06 to send IPv4 VIP and AS keys \
             with length +96 (nothing was sent)",
            v.prefix
        )));
    }
    Ok(())
}

/// The desired values: `lb/conf` (if given) and every VIP (its ASes derived).
pub fn desired_state(desired: &LbDesired) -> State<LbItem> {
    let mut s = State::new();
    if let Some(c) = &desired.conf {
        s.insert(key::CONF, LbItem::Conf(c.clone()));
    }
    for v in &desired.vips {
        s.insert(key::of_vip(v), LbItem::Vip(v.clone()));
    }
    s
}

/// Plans `desired` against VPP and, unless in dry-run mode, applies and verifies.
pub async fn sync(vpp: &mut Vpp, desired: &LbDesired, opts: &SyncOptions) -> Result<Step, Failure> {
    let caps = capabilities(vpp);
    check(desired, &caps, opts)?;
    vpp.lb.compat_v4 = opts.compat_lb_26_06 && !caps.lb_1_2;
    vpp.lb.no_flush = desired
        .vips
        .iter()
        .filter(|v| !v.flush)
        .map(key::of_vip)
        .chain(desired.no_flush.iter().cloned())
        .collect();
    let e = engine();
    let t = std::time::Instant::now();
    let actual = read(&e, vpp).await?;
    let read_ms = t.elapsed().as_secs_f64() * 1e3;
    let want = desired_state(desired);
    // Scope: each desired VIP is authoritative for its ASes; with --prune, so is every VIP
    // inside a managed prefix (VIPs carry no owner tag, so nothing outside is touched).
    let mut scope: BTreeSet<String> = desired.vips.iter().map(key::of_vip).collect();
    if opts.prune {
        for (k, _) in actual.iter() {
            if key::is_vip(k) && key::prefix_of(k).is_some_and(|p| desired.manages(&p)) {
                scope.insert(k.to_string());
            }
        }
    }
    let run = RunOptions {
        plan: PlanOptions {
            scope: scope.into_iter().collect(),
            prune_unowned: false,
            adopt_unowned: true,
            previously_pending: Default::default(),
        },
        rollback: opts.rollback,
    };
    let mut step = reconcile("lb sync", vpp, &e, &want, &actual, &run).await;
    step.timings_ms.read = (read_ms * 1e3).round() / 1e3;
    Ok(step)
}
