//! The LB models: `lb/conf/v1/global` and `lb/vip/v1/<name>`, applied through evpn-tools'
//! `lb sync` path (capabilities, refusals, plan, apply, verify) after the eVPN values in each
//! transaction.
//!
//! A VIP value is one entry of `lb.yaml`'s `vips` (`prefix`, `protocol`, `port`, `encap`,
//! `new-len`, `sticky`, `flush`, `as`); the conf value is `lb.yaml`'s `conf` plus
//! `managed-prefixes` (VIPs carry no owner tag: a VIP whose key is deleted is removed only
//! inside these prefixes). Each value is validated on its own (errors name the key), then all
//! together (a conflict marks every LB key invalid).

use std::collections::BTreeMap;

use evpn_tools::lb::config::LbFile;
use evpn_tools::lb::model::key;
use evpn_tools::lb::LbDesired;
use serde_json::{json, Map, Value as Json};

/// The LB share of a store snapshot.
#[derive(Debug, Default)]
pub struct LbValues {
    pub desired: LbDesired,
    /// Engine root key (`lb/conf`, `lb/vip/<pfx>/<proto>/<port>`) -> store key.
    pub owner: BTreeMap<String, String>,
    /// Store key -> why it is invalid.
    pub invalid: BTreeMap<String, String>,
}

impl LbValues {
    /// Whether the store has any LB key.
    pub fn any(&self) -> bool {
        !self.owner.is_empty() || !self.invalid.is_empty()
    }
}

/// The root engine key of an LB engine key (an AS key's VIP).
pub fn root_key(k: &str) -> String {
    key::vip_of_as(k).unwrap_or(k).to_string()
}

fn file(conf: Option<&Json>, vips: &[&Json]) -> Result<LbDesired, String> {
    let mut doc = Map::new();
    if let Some(c) = conf {
        let mut c = c.as_object().cloned().unwrap_or_default();
        if let Some(m) = c.remove("managed-prefixes") {
            doc.insert("managed-prefixes".into(), m);
        }
        doc.insert("conf".into(), Json::Object(c));
    }
    doc.insert("vips".into(), json!(vips));
    let f: LbFile = serde_json::from_value(Json::Object(doc)).map_err(|e| e.to_string())?;
    f.validate()
}

/// Parses the LB entries (`rel` keys after the config prefix -> raw JSON).
pub fn values(prefix: &str, entries: &BTreeMap<String, String>) -> LbValues {
    let mut out = LbValues::default();
    let mut conf: Option<(String, Json)> = None;
    let mut vips: Vec<(String, Json)> = Vec::new();
    for (k, raw) in entries {
        let Some(rel) = k.strip_prefix(prefix) else {
            continue;
        };
        let v: Json = match serde_json::from_str(raw) {
            Ok(v) => v,
            Err(e) if rel.starts_with("lb/") => {
                out.invalid.insert(k.clone(), format!("bad value: {e}"));
                continue;
            }
            Err(_) => continue,
        };
        if rel == "lb/conf/v1/global" {
            if !v.is_object() {
                out.invalid
                    .insert(k.clone(), "bad value: expected an object".into());
                continue;
            }
            conf = Some((k.clone(), v));
        } else if rel.starts_with("lb/conf/v1/") {
            out.invalid.insert(
                k.clone(),
                "the LB conf has one key: lb/conf/v1/global".into(),
            );
        } else if rel
            .strip_prefix("lb/vip/v1/")
            .is_some_and(|n| !n.is_empty())
        {
            vips.push((k.clone(), v));
        }
    }
    // Each value alone (with the conf): errors name their key.
    if let Some((k, c)) = &conf {
        if let Err(e) = file(Some(c), &[]) {
            out.invalid.insert(k.clone(), e);
            conf = None;
        }
    }
    let c = conf.as_ref().map(|(_, c)| c);
    vips.retain(|(k, v)| match file(c, &[v]) {
        Ok(_) => true,
        Err(e) => {
            out.invalid.insert(k.clone(), e.replace("vips[0]", "vip"));
            false
        }
    });
    let all: Vec<&Json> = vips.iter().map(|(_, v)| v).collect();
    match file(c, &all) {
        Ok(d) => {
            if let Some((k, _)) = &conf {
                out.owner.insert(key::CONF.to_string(), k.clone());
            }
            for (v, (k, _)) in d.vips.iter().zip(&vips) {
                out.owner.insert(key::of_vip(v), k.clone());
            }
            out.desired = d;
        }
        Err(e) => {
            for (k, _) in conf.iter().chain(&vips) {
                out.invalid
                    .insert(k.clone(), format!("conflicts with another LB key: {e}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vips_and_conf_map_and_bad_ones_are_named() {
        let p = "/vnf-agent/a/config/";
        let e: BTreeMap<String, String> = [
            (
                "lb/conf/v1/global",
                r#"{"ip4-src": "192.0.2.254", "ip6-src": "2001:db8::fe", "managed-prefixes": ["2001:db8:100::/64"]}"#,
            ),
            (
                "lb/vip/v1/www",
                r#"{"prefix": "2001:db8:100::1/128", "protocol": "tcp", "port": 80, "encap": "gre6", "as": ["2001:db8:1::1"]}"#,
            ),
            (
                "lb/vip/v1/bad",
                r#"{"prefix": "2001:db8:100::2/128", "protocol": "tcp", "port": 80, "encap": "gre6", "new-len": 1000}"#,
            ),
        ]
        .iter()
        .map(|(k, v)| (format!("{p}{k}"), v.to_string()))
        .collect();
        let v = values(p, &e);
        assert_eq!(v.owner.len(), 2, "{:?} {:?}", v.owner, v.invalid);
        assert!(v.owner.contains_key("lb/vip/2001:db8:100::1/128/tcp/80"));
        assert!(v.invalid[&format!("{p}lb/vip/v1/bad")].contains("power of two"));
        assert_eq!(
            root_key("lb/vip/2001:db8:100::1/128/tcp/80/as/2001:db8:1::1"),
            "lb/vip/2001:db8:100::1/128/tcp/80"
        );
    }
}
