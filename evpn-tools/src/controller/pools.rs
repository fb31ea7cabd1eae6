//! From backend states to what VPP should hold (operator-tools.md §4.5): the effective weight and
//! flush policy of each backend, which pool gets traffic, the frontend's state, and the
//! `LbDesired` a sync is given. Pure functions, so the table of §4.5 is a unit test.
//!
//! | Backend state | `up` | `down` | `disabled` | `unknown`, `paused` |
//! |---|---|---|---|---|
//! | effective weight / flush | configured / no | 0 / `flush-on-down` | 0 / always | 0 / never |
//!
//! Only the first pool in which some backend has a non-zero weight gets traffic; the backends
//! of the other pools get 0 (a healthy backend of a standby pool drains without a flush).
//!
//! VPP 26.06 (`lb.api` 1.1.0) has no AS weights: a backend with weight 0 is **left out** of
//! the VIP (deleting the AS is the only drain there), every other one is an AS of weight 100;
//! the flush policy of a left-out backend goes to the sync as `LbDesired::no_flush`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::Serialize;

use super::config::{Config, Frontend, LbSettings};
use super::health::State;
use crate::lb::config::LbDesired;
use crate::lb::model::{key, As, LbConf};

/// Effective weight and whether taking the AS out evicts its sticky flows.
pub fn effective(state: State, configured: u8, flush_on_down: bool) -> (u8, bool) {
    match state {
        State::Up => (configured, false),
        State::Down => (0, flush_on_down),
        State::Disabled | State::Removed => (0, true),
        State::Unknown | State::Paused => (0, false),
    }
}

/// A frontend's state: `up` if a backend has a non-zero effective weight, `unknown` if no
/// backend has a real state yet, else `down`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FrontendState {
    Unknown,
    Up,
    Down,
}

impl FrontendState {
    pub const ALL: [FrontendState; 3] = [
        FrontendState::Unknown,
        FrontendState::Up,
        FrontendState::Down,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            FrontendState::Unknown => "unknown",
            FrontendState::Up => "up",
            FrontendState::Down => "down",
        }
    }
}

/// One backend of one pool, as planned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assigned {
    pub pool: String,
    pub backend: String,
    pub address: IpAddr,
    pub state: State,
    pub configured: u8,
    pub weight: u8,
    pub flush: bool,
}

/// A frontend, as planned from its backends' states.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrontendPlan {
    pub name: String,
    pub state: FrontendState,
    /// The pool that gets traffic (its index), if any.
    pub active_pool: Option<usize>,
    pub members: Vec<Assigned>,
}

impl FrontendPlan {
    /// Whether every backend has left `unknown` (warmup releases the frontend then).
    pub fn all_known(&self) -> bool {
        self.members.iter().all(|m| m.state != State::Unknown)
    }
}

/// Plans one frontend. `state_of` gives each backend's state (a backend it does not know is
/// `removed`); `address_of` its address.
pub fn plan(
    fe: &Frontend,
    state_of: &dyn Fn(&str) -> State,
    address_of: &dyn Fn(&str) -> Option<IpAddr>,
) -> FrontendPlan {
    let mut members = Vec::new();
    let mut active_pool = None;
    for (i, p) in fe.pools.iter().enumerate() {
        let live = p
            .members
            .iter()
            .any(|m| effective(state_of(&m.backend), m.weight, fe.flush_on_down).0 > 0);
        if live && active_pool.is_none() {
            active_pool = Some(i);
        }
        for m in &p.members {
            let state = state_of(&m.backend);
            let (w, flush) = effective(state, m.weight, fe.flush_on_down);
            let Some(address) = address_of(&m.backend) else {
                continue;
            };
            let active = active_pool == Some(i);
            members.push(Assigned {
                pool: p.name.clone(),
                backend: m.backend.clone(),
                address,
                state,
                configured: m.weight,
                weight: if active { w } else { 0 },
                flush,
            });
        }
    }
    let state = if members.iter().any(|m| m.weight > 0) {
        FrontendState::Up
    } else if members.iter().all(|m| m.state == State::Unknown) {
        FrontendState::Unknown
    } else {
        FrontendState::Down
    };
    FrontendPlan {
        name: fe.name.clone(),
        state,
        active_pool,
        members,
    }
}

/// Plans every frontend of `cfg` with the given backend states.
pub fn plan_all(cfg: &Config, states: &BTreeMap<String, State>) -> BTreeMap<String, FrontendPlan> {
    let state_of = |b: &str| states.get(b).copied().unwrap_or(State::Removed);
    let address_of = |b: &str| cfg.backends.get(b).map(|x| x.address);
    cfg.frontends
        .iter()
        .map(|(n, f)| (n.clone(), plan(f, &state_of, &address_of)))
        .collect()
}

pub fn lb_conf(lb: &LbSettings) -> LbConf {
    LbConf {
        ip4_src: lb.ip4_src,
        ip6_src: lb.ip6_src,
        sticky_buckets_per_core: Some(lb.sticky_buckets_per_core),
        flow_timeout: Some(lb.flow_timeout),
    }
}

/// What a sync of `frontends` (their plans) should leave in VPP: `lb_conf`, each frontend's VIP
/// with its ASes, and the left-out backends that must not be flushed. With `full`, the full
/// sync's stale-VIP removal covers the managed prefixes.
///
/// `weights` (lb.api 1.2.0): each backend of non-zero weight is an AS of its effective weight;
/// one of weight 0 stays an AS of weight 0 (out of the new-flow table, its sticky flows kept:
/// the lameduck drain) unless its policy says flush, then it is removed with flush (which
/// evicts its sticky flows, as `lb_as_set_weight(0, is_flush)` would). Without weights (26.06,
/// lb.api 1.1.0) every backend of non-zero weight is an AS of weight 100 and one of weight 0 is
/// removed (flushed or not per policy): delete is 26.06's only drain.
pub fn desired<'a>(
    cfg: &Config,
    plans: impl IntoIterator<Item = &'a FrontendPlan>,
    full: bool,
    weights: bool,
) -> LbDesired {
    let mut d = LbDesired {
        conf: Some(lb_conf(&cfg.lb)),
        managed_prefixes: if full {
            cfg.lb.managed_prefixes.clone()
        } else {
            Vec::new()
        },
        ..Default::default()
    };
    let mut no_flush = BTreeSet::new();
    for p in plans {
        let Some(fe) = cfg.frontends.get(&p.name) else {
            continue;
        };
        let mut vip = fe.vip.clone();
        vip.flush = true;
        let vk = key::of_vip(&vip);
        let mut ases: Vec<As> = Vec::new();
        for m in &p.members {
            if m.weight > 0 || (weights && !m.flush) {
                ases.push(As {
                    address: m.address,
                    weight: if weights { m.weight } else { 100 },
                });
            } else if !m.flush {
                no_flush.insert(key::as_(&vk, m.address));
            }
        }
        // Numeric order, IPv4 first (two controllers with one config send in step).
        ases.sort_by_key(|a| (a.address.is_ipv6(), a.address));
        vip.ases = ases;
        d.vips.push(vip);
    }
    d.no_flush = no_flush;
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::config::load_str;

    #[test]
    fn the_weight_and_flush_table() {
        // §4.5, with flush-on-down both ways.
        for fod in [true, false] {
            assert_eq!(effective(State::Up, 70, fod), (70, false));
            assert_eq!(effective(State::Down, 70, fod), (0, fod));
            assert_eq!(effective(State::Disabled, 70, fod), (0, true));
            assert_eq!(effective(State::Unknown, 70, fod), (0, false));
            assert_eq!(effective(State::Paused, 70, fod), (0, false));
        }
        assert_eq!(effective(State::Up, 0, true), (0, false));
    }

    const CFG: &str = "
maglev:
  vpp: { lb: { ipv4-src-address: 192.0.2.254, ipv6-src-address: '2001:db8::fe' } }
  backends:
    a1: { address: 192.0.2.1 }
    a2: { address: 192.0.2.2, weight: 50 }
    b1: { address: 192.0.2.11 }
  frontends:
    www:
      address: 2001:db8:100::1/128
      protocol: tcp
      port: 80
      pools:
        - { name: primary, backends: { a1: ~, a2: ~ } }
        - { name: standby, backends: { b1: ~ } }
";

    fn run(states: &[(&str, State)]) -> (Config, FrontendPlan) {
        let cfg = load_str(CFG).unwrap();
        let st: BTreeMap<String, State> = states.iter().map(|(n, s)| (n.to_string(), *s)).collect();
        let p = plan_all(&cfg, &st).remove("www").unwrap();
        (cfg, p)
    }

    fn weights(p: &FrontendPlan) -> Vec<(&str, u8, bool)> {
        p.members
            .iter()
            .map(|m| (m.backend.as_str(), m.weight, m.flush))
            .collect()
    }

    #[test]
    fn only_the_first_pool_with_a_healthy_backend_gets_traffic() {
        use State::*;
        let (_, p) = run(&[("a1", Up), ("a2", Up), ("b1", Up)]);
        assert_eq!(p.active_pool, Some(0));
        assert_eq!(
            weights(&p),
            [("a1", 100, false), ("a2", 50, false), ("b1", 0, false)]
        );
        assert_eq!(p.state, FrontendState::Up);
        // One of the primary is down: the primary still wins.
        let (_, p) = run(&[("a1", Down), ("a2", Up), ("b1", Up)]);
        assert_eq!(
            weights(&p),
            [("a1", 0, true), ("a2", 50, false), ("b1", 0, false)]
        );
        // All of the primary down or disabled: the standby takes over.
        let (_, p) = run(&[("a1", Down), ("a2", Disabled), ("b1", Up)]);
        assert_eq!(p.active_pool, Some(1));
        assert_eq!(
            weights(&p),
            [("a1", 0, true), ("a2", 0, true), ("b1", 100, false)]
        );
        // Nothing healthy: down, no pool.
        let (_, p) = run(&[("a1", Down), ("a2", Down), ("b1", Paused)]);
        assert_eq!((p.active_pool, p.state), (None, FrontendState::Down));
        // Nothing known yet: unknown.
        let (_, p) = run(&[("a1", Unknown), ("a2", Unknown), ("b1", Unknown)]);
        assert_eq!(p.state, FrontendState::Unknown);
        assert!(!p.all_known());
        let (_, p) = run(&[("a1", Unknown), ("a2", Down), ("b1", Unknown)]);
        assert_eq!(p.state, FrontendState::Down);
        let (_, p) = run(&[("a1", Up), ("a2", Down), ("b1", Disabled)]);
        assert!(p.all_known());
    }

    #[test]
    fn desired_leaves_zero_weights_out_with_their_flush_policy() {
        use State::*;
        let (cfg, p) = run(&[("a1", Down), ("a2", Up), ("b1", Unknown)]);
        let d = desired(&cfg, [&p], false, false);
        assert_eq!(d.vips.len(), 1);
        let v = &d.vips[0];
        let ases: Vec<String> = v.ases.iter().map(|a| a.address.to_string()).collect();
        assert_eq!(ases, ["192.0.2.2"]);
        assert!(
            v.ases.iter().all(|a| a.weight == 100),
            "26.06: every AS weighs 100"
        );
        let vk = key::of_vip(v);
        // a1 down (flush-on-down): flushed; b1 unknown: never flushed.
        assert!(!d
            .no_flush
            .contains(&key::as_(&vk, "192.0.2.1".parse().unwrap())));
        assert!(d
            .no_flush
            .contains(&key::as_(&vk, "192.0.2.11".parse().unwrap())));
        assert!(
            d.managed_prefixes.is_empty(),
            "a frontend sync never prunes"
        );
        assert_eq!(d.conf.as_ref().unwrap().sticky_buckets_per_core, Some(1024));
        let mut cfg2 = cfg.clone();
        cfg2.lb.managed_prefixes = vec!["2001:db8:100::/64".parse().unwrap()];
        assert_eq!(desired(&cfg2, [&p], true, false).managed_prefixes.len(), 1);

        // lb.api 1.2.0: weights as configured (a2: 50); a1 down with flush-on-down is removed
        // with flush; b1 unknown stays an AS of weight 0 (lameduck: sticky flows kept).
        let d = desired(&cfg, [&p], false, true);
        let w: Vec<(String, u8)> = d.vips[0]
            .ases
            .iter()
            .map(|a| (a.address.to_string(), a.weight))
            .collect();
        assert_eq!(
            w,
            [("192.0.2.2".to_string(), 50), ("192.0.2.11".to_string(), 0)]
        );
        assert!(d.no_flush.is_empty(), "{:?}", d.no_flush);
    }

    #[test]
    fn flush_on_down_false_keeps_flows() {
        let cfg =
            load_str(&CFG.replace("port: 80\n", "port: 80\n      flush-on-down: false\n")).unwrap();
        let st: BTreeMap<String, State> =
            [("a1", State::Down), ("a2", State::Up), ("b1", State::Up)]
                .iter()
                .map(|(n, s)| (n.to_string(), *s))
                .collect();
        let p = plan_all(&cfg, &st).remove("www").unwrap();
        let d = desired(&cfg, [&p], false, false);
        let vk = key::of_vip(&d.vips[0]);
        assert!(d
            .no_flush
            .contains(&key::as_(&vk, "192.0.2.1".parse().unwrap())));
        // Standby up but not active: drained without a flush.
        assert!(d
            .no_flush
            .contains(&key::as_(&vk, "192.0.2.11".parse().unwrap())));
    }
}
