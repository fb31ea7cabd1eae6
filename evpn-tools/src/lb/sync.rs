//! `lb sync`: capabilities first, refusals before anything is sent, then one reconcile
//! (read, plan, apply in dependency order, verify). A second run plans nothing.
//!
//! Two `lb` APIs: VPP 26.06's 1.1.0 (no weights, the wire workarounds of operator-tools.md
//! §2.2) and master's 1.2.0 (§4.2), recognised by its new messages with the CRCs this build
//! knows (`lb-api-next`). On 1.2.0 ASes are added with `lb_add_del_as_v2` (their weight),
//! re-weighted with `lb_as_set_weight` (an UPDATE, `is_flush` false) and removed with
//! `lb_add_del_as` (`is_flush` per policy); the read-back uses `lb_as_v2_dump` and
//! `lb_conf_get`; IPv4 keys are sent honestly (`--compat-lb-26.06` is ignored there).
//!
//! Master got 1.2.0 in two commits: `db44addb60c` (the handler fixes and `lb_conf_get`, the
//! version already "1.2.0") and `ca870e99f61` (the weight messages). A build between them has
//! `lb_conf_get` but no weights: [`Capabilities::lb_fixed`] without
//! [`Capabilities::lb_1_2`]; its IPv4 keys are honest too, and weights are refused there.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

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
    /// `lb_as_v2_dump`, `lb_conf_get` with the CRCs this build speaks; IPv4 keys fixed there.
    pub lb_1_2: bool,
    /// `lb_conf_get` with this build's CRC: master's handler fixes (`db44addb60c`): honest
    /// IPv4 keys and dumps, deleted VIPs hidden. Implied by `lb_1_2`.
    pub lb_fixed: bool,
    /// lb.api 1.2.0 messages this VPP has by name but with other CRCs (a newer `lb.api`
    /// this build cannot speak): then neither weights nor IPv4 VIPs are sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lb_1_2_other_crc: Vec<String>,
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

/// The lb.api 1.2.0 messages `lb sync` uses, with their CRCs.
pub fn lb_1_2_messages() -> Vec<&'static str> {
    vec![
        lb_api_next::LbConfGet::NAME_CRC,
        lb_api_next::LbConfGetReply::NAME_CRC,
        lb_api_next::LbAddDelAsV2::NAME_CRC,
        lb_api_next::LbAddDelAsV2Reply::NAME_CRC,
        lb_api_next::LbAsSetWeight::NAME_CRC,
        lb_api_next::LbAsSetWeightReply::NAME_CRC,
        lb_api_next::LbAsV2Dump::NAME_CRC,
        lb_api_next::LbAsV2Details::NAME_CRC,
    ]
}

pub fn capabilities(vpp: &Vpp) -> Capabilities {
    let missing = vpp.missing(&required_messages());
    let table = vpp.conn.message_table();
    let has = |n: &str| table.as_ref().is_some_and(|t| !t.versions_of(n).is_empty());
    let wanted = lb_1_2_messages();
    let absent = vpp.missing(&wanted);
    // Present by name, but not with our CRC.
    let other_crc: Vec<String> = absent
        .iter()
        .filter(|nc| nc.rsplit_once('_').is_some_and(|(name, _)| has(name)))
        .cloned()
        .collect();
    let lb_fixed = vpp.missing(&[lb_api_next::LbConfGet::NAME_CRC]).is_empty();
    Capabilities {
        lb: missing.is_empty(),
        missing,
        lb_1_2: absent.is_empty(),
        lb_fixed,
        lb_1_2_other_crc: other_crc,
    }
}

/// Notes for the operator about how this VPP's `lb` API is driven (printed once by
/// [`sync`]; a command may put them among its report's warnings).
pub fn notes(caps: &Capabilities, opts: &SyncOptions) -> Vec<String> {
    let mut n = Vec::new();
    if caps.lb_fixed && opts.compat_lb_26_06 {
        n.push(
            "--compat-lb-26.06 ignored: this VPP has lb.api 1.2.0, whose handlers add the +96 \
             of IPv4 prefixes themselves; IPv4 VIP and AS keys are sent honestly"
                .to_string(),
        );
    }
    n
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
    let weighted = desired
        .vips
        .iter()
        .find_map(|v| v.ases.iter().find(|a| a.weight != 100).map(|a| (v, a)));
    if let (Some((vip, a)), false) = (weighted, caps.lb_1_2) {
        return Err(Failure::Error(if !caps.lb_1_2_other_crc.is_empty() {
            format!(
                "{} as {}: weight {} needs lb.api 1.2.0's lb_add_del_as_v2 / lb_as_set_weight, \
                 but this VPP has them with other CRCs ({}): a newer lb.api this evpn-tools \
                 build does not speak (nothing was sent)",
                key::of_vip(vip),
                a.address,
                a.weight,
                caps.lb_1_2_other_crc.join(", ")
            )
        } else if caps.lb_fixed {
            format!(
                "{} as {}: weight {}: lb_as_set_weight not available (an lb.api 1.2.0 from \
                 before master's ca870e99f61 \"lb: Allow setting weight on AS\"): every AS \
                 weighs 100, drain by removing it (nothing was sent)",
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
    let v4 = desired.vips.iter().find(|v| v.prefix.is_ipv4());
    if let (Some(v), false, false) = (v4, caps.lb_fixed, caps.lb_1_2_other_crc.is_empty()) {
        return Err(Failure::Error(format!(
            "{}: this VPP's lb API is neither 26.06's nor the 1.2.0 this build knows (other \
             CRCs: {}); whether it wants IPv4 prefixes with +96 is unknown (nothing was sent)",
            v.prefix,
            caps.lb_1_2_other_crc.join(", ")
        )));
    }
    if let (Some(v), false, false) = (v4, caps.lb_fixed, opts.compat_lb_26_06) {
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
    // On 1.2.0 the handlers add the 96 themselves: honest keys, whatever the flag says.
    vpp.lb.compat_v4 = opts.compat_lb_26_06 && !caps.lb_fixed;
    static NOTED: AtomicBool = AtomicBool::new(false);
    for n in notes(&caps, opts) {
        if !NOTED.swap(true, Ordering::Relaxed) {
            eprintln!("warning: {n}");
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn desired(y: &str) -> LbDesired {
        super::super::config::parse_yaml(y)
            .unwrap()
            .validate()
            .unwrap()
    }

    fn caps(lb_fixed: bool, lb_1_2: bool, other: &[&str]) -> Capabilities {
        Capabilities {
            lb: true,
            missing: Vec::new(),
            lb_1_2,
            lb_fixed,
            lb_1_2_other_crc: other.iter().map(|s| s.to_string()).collect(),
        }
    }

    const WEIGHTED: &str = "vips: [{ prefix: 2001:db8::1/128, protocol: tcp, port: 80, as: [{ address: '2001:db8::2', weight: 50 }] }]";
    const V4: &str = "vips: [{ prefix: 192.0.2.1/32, protocol: tcp, port: 80, as: [10.0.0.2] }]";

    fn err(d: &LbDesired, c: &Capabilities, compat: bool) -> String {
        let o = SyncOptions {
            compat_lb_26_06: compat,
            ..Default::default()
        };
        check(d, c, &o)
            .map(|_| String::new())
            .unwrap_or_else(|f| f.message().to_string())
    }

    #[test]
    fn weights_need_the_weight_messages() {
        let w = desired(WEIGHTED);
        assert!(err(&w, &caps(true, true, &[]), false).is_empty());
        let e = err(&w, &caps(false, false, &[]), false);
        assert!(
            e.contains("lb_as_set_weight not available (lb.api 1.1.0)"),
            "{e}"
        );
        // Master between db44addb60c and ca870e99f61: lb_conf_get, no weights.
        let e = err(&w, &caps(true, false, &[]), false);
        assert!(e.contains("before master's ca870e99f61"), "{e}");
        let e = err(
            &w,
            &caps(true, false, &["lb_as_set_weight_01234567"]),
            false,
        );
        assert!(e.contains("other CRCs (lb_as_set_weight_01234567)"), "{e}");
    }

    #[test]
    fn ipv4_keys_are_honest_once_the_handlers_are_fixed() {
        let v4 = desired(V4);
        assert!(err(&v4, &caps(true, true, &[]), false).is_empty());
        assert!(err(&v4, &caps(true, false, &[]), false).is_empty());
        let e = err(&v4, &caps(false, false, &[]), false);
        assert!(e.contains("--compat-lb-26.06"), "{e}");
        assert!(err(&v4, &caps(false, false, &[]), true).is_empty());
        // An lb API this build does not know: neither honest nor +96 is safe.
        let e = err(&v4, &caps(false, false, &["lb_conf_get_01234567"]), true);
        assert!(e.contains("is unknown"), "{e}");
        let o = SyncOptions {
            compat_lb_26_06: true,
            ..Default::default()
        };
        assert_eq!(notes(&caps(true, true, &[]), &o).len(), 1);
        assert!(notes(&caps(false, false, &[]), &o).is_empty());
        assert!(notes(&caps(true, true, &[]), &SyncOptions::default()).is_empty());
    }
}
