//! Version compatibility: which of the messages an application was built with this VPP
//! knows, and choosing between alternative implementations ("handlers") by the messages they
//! need.
//!
//! VPP's message table lists `name_crc` strings. A message of ours is **ok** if its
//! `name_crc` is there, has a **different CRC** if the name is there with other CRCs
//! (another definition: using it would be silently dropped or misparsed), and is **missing**
//! if the name is not there at all (plugin not loaded, or a release without it).

use std::collections::HashMap;
use std::fmt;

use crate::error::Unavailable;

/// VPP's message table of one connection: `name_crc` ↔ `_vl_msg_id`.
#[derive(Debug, Clone, Default)]
pub struct MessageTable {
    by_name_crc: HashMap<Box<str>, u16>,
    by_id: HashMap<u16, Box<str>>,
    /// name without CRC → every `name_crc` with that name.
    by_name: HashMap<Box<str>, Vec<Box<str>>>,
}

/// Split `"name_0123abcd"` into `("name", "0123abcd")` if it ends in an 8-hex-digit CRC.
pub fn split_name_crc(name_crc: &str) -> Option<(&str, &str)> {
    let (name, crc) = name_crc.rsplit_once('_')?;
    (crc.len() == 8 && crc.bytes().all(|b| b.is_ascii_hexdigit())).then_some((name, crc))
}

impl MessageTable {
    /// Build from `(id, name_crc)` entries (the `sockclnt_create_reply` table).
    pub fn new<'a>(entries: impl IntoIterator<Item = (u16, &'a str)>) -> Self {
        let mut t = Self::default();
        for (id, name_crc) in entries {
            let key: Box<str> = name_crc.into();
            t.by_name_crc.insert(key.clone(), id);
            t.by_id.insert(id, key.clone());
            let name = split_name_crc(name_crc).map_or(name_crc, |(n, _)| n);
            t.by_name.entry(name.into()).or_default().push(key);
        }
        t
    }

    /// The id of a `name_crc`.
    pub fn id(&self, name_crc: &str) -> Option<u16> {
        self.by_name_crc.get(name_crc).copied()
    }

    /// The `name_crc` of an id.
    pub fn name_crc(&self, id: u16) -> Option<&str> {
        self.by_id.get(&id).map(|s| &**s)
    }

    /// Number of messages.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The `name_crc`s VPP has for a name (without CRC).
    pub fn versions_of(&self, name: &str) -> &[Box<str>] {
        self.by_name.get(name).map_or(&[], |v| v.as_slice())
    }

    /// Whether `name_crc` is usable, and if not why.
    pub fn status(&self, name_crc: &str) -> MessageStatus {
        if self.by_name_crc.contains_key(name_crc) {
            return MessageStatus::Ok;
        }
        let name = split_name_crc(name_crc).map_or(name_crc, |(n, _)| n);
        match self.by_name.get(name) {
            Some(v) if !v.is_empty() => {
                MessageStatus::DifferentCrc(v.iter().map(|s| s.to_string()).collect())
            }
            _ => MessageStatus::Missing,
        }
    }

    /// Why `name_crc` is unavailable (`None` if it is ok).
    pub fn unavailable(&self, name_crc: &str) -> Option<Unavailable> {
        match self.status(name_crc) {
            MessageStatus::Ok => None,
            MessageStatus::DifferentCrc(_) => Some(Unavailable::DifferentCrc),
            MessageStatus::Missing => Some(Unavailable::Missing),
        }
    }

    /// The compatibility report for a set of `name_crc`s.
    pub fn report<'a>(&self, name_crcs: impl IntoIterator<Item = &'a str>) -> CompatReport {
        let mut r = CompatReport::default();
        for m in name_crcs {
            match self.status(m) {
                MessageStatus::Ok => r.ok.push(m.to_string()),
                MessageStatus::DifferentCrc(vpp) => r.different_crc.push((m.to_string(), vpp)),
                MessageStatus::Missing => r.missing.push(m.to_string()),
            }
        }
        r
    }
}

/// The status of one message against a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageStatus {
    /// Same name and CRC.
    Ok,
    /// VPP has the name with these other `name_crc`s.
    DifferentCrc(Vec<String>),
    /// VPP has no message of that name.
    Missing,
}

/// Which messages of a set are usable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompatReport {
    /// Known with the same CRC.
    pub ok: Vec<String>,
    /// Ours, and VPP's `name_crc`s of the same name.
    pub different_crc: Vec<(String, Vec<String>)>,
    /// Not known by name.
    pub missing: Vec<String>,
}

impl CompatReport {
    /// Whether every message is usable.
    pub fn is_compatible(&self) -> bool {
        self.different_crc.is_empty() && self.missing.is_empty()
    }
}

impl fmt::Display for CompatReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ok", self.ok.len())?;
        for (m, vpp) in &self.different_crc {
            write!(f, "; {m}: VPP has {}", vpp.join(", "))?;
        }
        for m in &self.missing {
            write!(f, "; {m}: missing")?;
        }
        Ok(())
    }
}

/// `[A::NAME_CRC, B::NAME_CRC, ...]` for message types.
#[macro_export]
macro_rules! name_crcs {
    ($($t:ty),* $(,)?) => {
        [$(<$t as $crate::codec::Message>::NAME_CRC),*]
    };
}

/// Alternative implementations, each declaring the messages it needs; the first one whose
/// messages are all in VPP's table is chosen (registration order: deterministic).
pub struct HandlerSet<H> {
    candidates: Vec<(String, Vec<&'static str>, H)>,
}

impl<H> Default for HandlerSet<H> {
    fn default() -> Self {
        Self {
            candidates: Vec::new(),
        }
    }
}

/// Why a handler was not chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The handler's name.
    pub handler: String,
    /// Its unusable messages.
    pub report: CompatReport,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} refused:", self.handler)?;
        for (m, vpp) in &self.report.different_crc {
            write!(f, " {m} has another CRC in VPP ({});", vpp.join(", "))?;
        }
        for m in &self.report.missing {
            write!(f, " {m} is missing;")?;
        }
        Ok(())
    }
}

/// The outcome of [`HandlerSet::select`].
#[derive(Debug)]
pub struct Selection<'a, H> {
    /// The chosen handler's name and value, if any is compatible.
    pub chosen: Option<(&'a str, &'a H)>,
    /// Handlers before the chosen one (or all, if none fits), with the reasons.
    pub refused: Vec<Refusal>,
}

impl<H> HandlerSet<H> {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a handler needing `messages` (`name_crc`s, e.g. from [`name_crcs!`]).
    pub fn add(mut self, name: impl Into<String>, messages: &[&'static str], handler: H) -> Self {
        self.candidates
            .push((name.into(), messages.to_vec(), handler));
        self
    }

    /// Pick the first handler whose messages are all ok in `table`.
    pub fn select(&self, table: &MessageTable) -> Selection<'_, H> {
        let mut refused = Vec::new();
        for (name, msgs, h) in &self.candidates {
            let report = table.report(msgs.iter().copied());
            if report.is_compatible() {
                return Selection {
                    chosen: Some((name, h)),
                    refused,
                };
            }
            refused.push(Refusal {
                handler: name.clone(),
                report,
            });
        }
        Selection {
            chosen: None,
            refused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> MessageTable {
        MessageTable::new([
            (99, "lb_add_del_as_35d72500"),
            (100, "lb_add_del_as_reply_e8d4e804"),
            (101, "lb_as_set_weight_aaaaaaaa"),
            (23, "control_ping_51077d14"),
        ])
    }

    #[test]
    fn report_tells_different_crc_from_missing() {
        let t = table();
        let r = t.report([
            "lb_add_del_as_35d72500",
            "lb_as_set_weight_01234567",
            "lb_conf_get_51077d14",
        ]);
        assert_eq!(r.ok, ["lb_add_del_as_35d72500"]);
        assert_eq!(
            r.different_crc,
            [(
                "lb_as_set_weight_01234567".to_string(),
                vec!["lb_as_set_weight_aaaaaaaa".to_string()]
            )]
        );
        assert_eq!(r.missing, ["lb_conf_get_51077d14"]);
        assert!(!r.is_compatible());
        assert_eq!(t.id("control_ping_51077d14"), Some(23));
        assert_eq!(t.name_crc(99), Some("lb_add_del_as_35d72500"));
    }

    #[test]
    fn first_compatible_handler_wins_with_reasons() {
        let t = table();
        let set = HandlerSet::new()
            .add(
                "lb with weights",
                &["lb_add_del_as_35d72500", "lb_as_set_weight_01234567"],
                1,
            )
            .add("lb conf get", &["lb_conf_get_51077d14"], 2)
            .add("lb 1.1.0", &["lb_add_del_as_35d72500"], 3)
            .add("never reached", &[], 4);
        let s = set.select(&t);
        assert_eq!(s.chosen, Some(("lb 1.1.0", &3)));
        assert_eq!(s.refused.len(), 2);
        assert_eq!(
            s.refused[0].to_string(),
            "lb with weights refused: lb_as_set_weight_01234567 has another CRC in VPP (lb_as_set_weight_aaaaaaaa);"
        );
        assert_eq!(
            s.refused[1].to_string(),
            "lb conf get refused: lb_conf_get_51077d14 is missing;"
        );
        let one = HandlerSet::new().add("x", &["nope_00000000"], ());
        let none = one.select(&t);
        assert!(none.chosen.is_none());
        assert_eq!(none.refused.len(), 1);
    }
}
